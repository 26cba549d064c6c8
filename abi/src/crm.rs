//! CRM users, saved filters and the events the host sends.

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use crate::ContactId;

#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub u64);

#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FilterId(pub u64);

/// Milliseconds since the Unix epoch, on the host's clock.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Millis(pub i64);

/// A CRM user, with what the plugin needs to decide what the user may do.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: RString,
    pub email: RString,
    pub plan: Plan,
    /// What the user may do with contacts.
    pub contacts_permission: ContactsPermission,
    /// Role names, for display and for host-specific rules.
    pub roles: RVec<RString>,
}

/// The subscription plan of the user's account.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub name: RString,
    /// Feature keys the plan includes; the plugin needs [`FEATURE_GOOGLE_CONTACTS`].
    pub features: RVec<RString>,
}

/// The plan feature key that unlocks Google Contacts sync.
pub const FEATURE_GOOGLE_CONTACTS: &str = "google_contacts_sync";

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactsPermission {
    /// The user cannot use contacts at all.
    None,
    /// The user sees contacts but cannot change them: sync runs CRM → Google only.
    View,
    /// The user may create and edit contacts.
    Edit,
}

/// A contact filter. Only *saved* filters can be synced.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFilter {
    pub id: FilterId,
    pub name: RString,
    pub author: UserId,
    /// `false` for an ad-hoc filter the user has not saved yet.
    pub saved: bool,
    /// Human-readable criteria, for display only; the host evaluates them.
    pub criteria: RVec<Criterion>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub field: RString,
    /// `"equals"`, `"contains"`, `"not_empty"`, …
    pub op: RString,
    pub value: RString,
}

/// What happened to a contact.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
    /// Who may see the contact changed (owner, team, sharing rules).
    AccessChanged,
}

/// A contact change, sent by the host right after it commits the change.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactChange {
    pub contact: ContactId,
    pub kind: ChangeKind,
    /// The user who made the change; `None` for system changes (imports, rules).
    pub by: ROption<UserId>,
    pub at: Millis,
}

/// A unit of background work the plugin asks the host to run on its worker pool.
/// The host treats it as opaque and passes it back to [`Plugin::run_job`](crate::Plugin::run_job).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// A short label for the host's logs and job list, e.g. `"sync account 3"`.
    pub label: RString,
    /// Plugin-private data describing the work.
    pub payload: RString,
}

/// Log levels, as in the `log` crate.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LogLevel {
    Error = 1,
    Warn,
    Info,
    Debug,
    Trace,
}
