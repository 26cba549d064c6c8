//! JSON envelopes of the People API calls the client makes (requests and responses around
//! [`Person`] and [`ContactGroup`]), and Google's error envelope.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::person::{ContactGroup, Person};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ListConnectionsResponse {
    pub connections: Vec<Person>,
    pub next_page_token: Option<String>,
    pub next_sync_token: Option<String>,
    pub total_items: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ListContactGroupsResponse {
    pub contact_groups: Vec<ContactGroup>,
    pub next_page_token: Option<String>,
}

/// `google.rpc.Status` inside batch answers.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RpcStatus {
    pub code: i32,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

/// `PersonResponse` of batchGet / batchCreate / batchUpdate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PersonResponse {
    pub http_status_code: Option<i32>,
    pub person: Option<Person>,
    pub requested_resource_name: Option<String>,
    pub status: Option<RpcStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GetPeopleResponse {
    pub responses: Vec<PersonResponse>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContactToCreate<'a> {
    pub contact_person: &'a Person,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchCreateContactsRequest<'a> {
    pub contacts: Vec<ContactToCreate<'a>>,
    pub read_mask: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct BatchCreateContactsResponse {
    pub created_people: Vec<PersonResponse>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchUpdateContactsRequest<'a> {
    pub contacts: BTreeMap<&'a str, &'a Person>,
    pub update_mask: &'a str,
    pub read_mask: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct BatchUpdateContactsResponse {
    pub update_result: BTreeMap<String, PersonResponse>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchDeleteContactsRequest<'a> {
    pub resource_names: &'a [String],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateContactGroupRequest<'a> {
    pub contact_group: GroupWrite<'a>,
    pub read_group_fields: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateContactGroupRequest<'a> {
    pub contact_group: GroupWrite<'a>,
    pub update_group_fields: &'a str,
    pub read_group_fields: &'a str,
}

/// The writable part of a group: only the name (and etag on update) are ever sent.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupWrite<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModifyMembersRequest<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub resource_names_to_add: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub resource_names_to_remove: &'a [String],
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ModifyMembersResponse {
    pub not_found_resource_names: Vec<String>,
    pub can_not_remove_last_contact_group_resource_names: Vec<String>,
}

/// `{"error": {...}}`, Google's error envelope.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub code: i32,
    pub message: String,
    pub status: Option<String>,
    pub details: Vec<ErrorDetail>,
}

/// One entry of `details`; only `ErrorInfo.reason` is used.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorDetail {
    pub reason: Option<String>,
}

/// The first `ErrorInfo` reason in a details list.
pub(crate) fn first_reason(details: &[ErrorDetail]) -> Option<String> {
    details
        .iter()
        .find_map(|d| d.reason.clone())
        .filter(|r| !r.is_empty())
}

/// Maps a `google.rpc.Code` to the HTTP status Google uses for it.
pub(crate) fn rpc_code_to_http(code: i32) -> (u16, &'static str) {
    match code {
        0 => (200, "OK"),
        1 => (499, "CANCELLED"),
        3 => (400, "INVALID_ARGUMENT"),
        4 => (504, "DEADLINE_EXCEEDED"),
        5 => (404, "NOT_FOUND"),
        6 => (409, "ALREADY_EXISTS"),
        7 => (403, "PERMISSION_DENIED"),
        8 => (429, "RESOURCE_EXHAUSTED"),
        9 => (400, "FAILED_PRECONDITION"),
        10 => (409, "ABORTED"),
        11 => (400, "OUT_OF_RANGE"),
        12 => (501, "UNIMPLEMENTED"),
        14 => (503, "UNAVAILABLE"),
        16 => (401, "UNAUTHENTICATED"),
        _ => (500, "INTERNAL"),
    }
}

/// Google's userinfo answer (only the email is used).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct UserInfo {
    pub email: Option<String>,
}
