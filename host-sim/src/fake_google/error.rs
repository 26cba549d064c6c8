//! Google's JSON error envelope: `{"error":{"code","message","status","details"}}`.

use serde_json::{json, Value};

use super::http::Response;

pub const NOT_FOUND_MESSAGE: &str = "Requested entity was not found.";
pub const STALE_ETAG_MESSAGE: &str =
    "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.";
pub const EXPIRED_SYNC_TOKEN_MESSAGE: &str =
    "Sync token is expired. Clear local cache and retry call without the sync token.";

/// An API error as Google renders it. `headers` carries extras such as `Retry-After`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(code: u16, status: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            status,
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn invalid_argument(message: &str) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", message)
    }

    /// INVALID_ARGUMENT with a `BadRequest` detail naming the offending field, as Google does
    /// for bad field masks and unknown JSON names.
    pub fn bad_field(field: &str, message: &str) -> ApiError {
        ApiError::invalid_argument(message).with_detail(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": message}],
        }))
    }

    pub fn failed_precondition(message: &str) -> ApiError {
        ApiError::new(400, "FAILED_PRECONDITION", message)
    }

    pub fn not_found() -> ApiError {
        ApiError::new(404, "NOT_FOUND", NOT_FOUND_MESSAGE)
    }

    pub fn internal() -> ApiError {
        ApiError::new(500, "INTERNAL", "Internal error encountered.")
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(503, "UNAVAILABLE", "The service is currently unavailable.")
    }

    pub fn stale_etag() -> ApiError {
        ApiError::failed_precondition(STALE_ETAG_MESSAGE)
    }

    pub fn expired_sync_token() -> ApiError {
        ApiError::failed_precondition(EXPIRED_SYNC_TOKEN_MESSAGE).with_error_info(
            "EXPIRED_SYNC_TOKEN",
            "people.googleapis.com",
            json!(null),
        )
    }

    pub fn with_detail(mut self, detail: Value) -> ApiError {
        self.details.push(detail);
        self
    }

    /// Appends a `google.rpc.ErrorInfo` detail (`metadata` omitted when null).
    pub fn with_error_info(self, reason: &str, domain: &str, metadata: Value) -> ApiError {
        let mut info = json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": reason,
            "domain": domain,
        });
        if !metadata.is_null() {
            info["metadata"] = metadata;
        }
        self.with_detail(info)
    }

    pub fn with_header(mut self, name: &str, value: String) -> ApiError {
        self.headers.push((name.to_string(), value));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut err = json!({"code": self.code, "message": self.message, "status": self.status});
        if !self.details.is_empty() {
            err["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": err })
    }

    pub fn into_response(self) -> Response {
        let mut resp = Response::json(self.code, &self.to_json());
        resp.headers.extend(self.headers);
        resp
    }

    /// The `google.rpc.Status` form used inside batch responses.
    pub fn to_status(&self) -> Value {
        json!({"code": grpc_code(self.status), "message": self.message})
    }
}

/// Canonical gRPC code numbers for the statuses we emit.
pub fn grpc_code(status: &str) -> i32 {
    match status {
        "INVALID_ARGUMENT" => 3,
        "NOT_FOUND" => 5,
        "ALREADY_EXISTS" => 6,
        "PERMISSION_DENIED" => 7,
        "RESOURCE_EXHAUSTED" => 8,
        "FAILED_PRECONDITION" => 9,
        "INTERNAL" => 13,
        "UNAVAILABLE" => 14,
        "UNAUTHENTICATED" => 16,
        _ => 2,
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
