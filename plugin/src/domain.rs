//! The types every concern shares: bindings (what is synced with what, and how), links (which
//! CRM contact is which Google contact, and what both last agreed on) and the counts of a run.
//! They live apart from `sync` and `store` so that neither needs the other to name them.

use serde::{Deserialize, Serialize};

use crate::locale::{Arg, Reader};
use crate::mapping::{FieldMapping, Fields};

pub mod history;
mod state;
pub use state::{ContactState, Departure, Exclusion, InFlight, LinkState, Place, Standing};

/// Which way changes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    TwoWay,
    /// "Reverse sync" off: Google edits never reach the CRM.
    CrmToGoogle,
    GoogleToCrm,
}

impl Direction {
    pub fn to_google(self) -> bool {
        self != Direction::GoogleToCrm
    }

    pub fn to_crm(self) -> bool {
        self != Direction::CrmToGoogle
    }
}

/// Who wins a field changed on both sides since they last agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    CrmWins,
    GoogleWins,
    #[default]
    LatestWins,
}

/// What a contact deleted in the CRM becomes in Google.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    #[default]
    Delete,
    /// Only taken out of the group; the Google contact stays.
    RemoveFromGroup,
}

/// Which Google group the filter's contacts go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "mode", content = "group")]
pub enum GroupChoice {
    /// A group named after the filter, created if needed and renamed with it.
    #[default]
    FilterName,
    /// A group the user picked, by resource name.
    Existing(String),
    /// "My Contacts": all the account's contacts.
    MyContacts,
}

pub const MY_CONTACTS: &str = "contactGroups/myContacts";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindingOptions {
    pub direction: Direction,
    pub policy: ConflictPolicy,
    pub delete_mode: DeleteMode,
    pub group: GroupChoice,
    /// How often Google is checked for changes.
    pub interval_ms: i64,
    pub mapping: FieldMapping,
}

pub const DEFAULT_INTERVAL_MS: i64 = 5 * 60 * 1000;

impl Default for BindingOptions {
    fn default() -> Self {
        BindingOptions {
            direction: Direction::TwoWay,
            policy: ConflictPolicy::LatestWins,
            delete_mode: DeleteMode::Delete,
            group: GroupChoice::FilterName,
            interval_ms: DEFAULT_INTERVAL_MS,
            mapping: FieldMapping::default(),
        }
    }
}

/// A saved filter synced by one CRM user with one Google account.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub id: i64,
    pub filter_id: u64,
    pub crm_user: u64,
    pub account: String,
    /// The group's resource name, once known.
    pub group: Option<String>,
    pub options: BindingOptions,
    pub enabled: bool,
    /// A full CRM listing is due (first sync, re-enable, safety net).
    pub needs_full: bool,
    /// The last outbox row this binding has worked through.
    pub outbox_cursor: i64,
    pub next_run_at: i64,
}

/// A CRM contact known to be a Google contact of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub contact_id: u64,
    pub resource_name: String,
    pub etag: String,
    /// The field values both sides last agreed on.
    pub base: Fields,
    /// When we last wrote the Google contact: until Google shows that write in listings, its
    /// absence from a listing proves nothing.
    pub written_at: i64,
    /// Google's update time of the newest version of the contact we know (ms): a listing that
    /// shows an older version is stale and is not taken as a change.
    pub google_time: i64,
}

/// What a write to a linked Google contact sent, recorded before it is sent: the merged fields
/// and the keys among them the write changes. Until the link records the write's answer, Google
/// may or may not hold these values (an answer lost on the way, a crash); where Google shows
/// exactly them, they are our own write, not an edit made in Google.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub fields: Fields,
    pub keys: Vec<String>,
    /// Google's values of `keys` when the write was planned (a key absent: none). The write's
    /// change is from these to `fields`; what it sends back unchanged came from Google, and the
    /// CRM holds it only once the same run's CRM write lands. `None` in rows recorded before it
    /// was kept.
    #[serde(default)]
    pub replaced: Option<Fields>,
    /// The base the write was merged against: the link's, with the change of an earlier write
    /// in flight that Google showed landed. `None` in rows recorded before it was kept.
    #[serde(default)]
    pub base: Option<Fields>,
}

impl Sent {
    /// What Google held, as far as the write's plan knew, before it: `fields` with the changed
    /// `keys` at their `replaced` values. Exact whether or not the run read the contact first.
    pub fn before(&self) -> Fields {
        let mut before = self.fields.clone();
        for key in &self.keys {
            before.0.remove(key);
        }
        if let Some(replaced) = &self.replaced {
            before.0.extend(replaced.0.clone());
        }
        before
    }

    /// The keys whose sent value Google now shows: for those, the write landed.
    pub fn landed_keys<'a>(&'a self, google: &'a Fields) -> impl Iterator<Item = &'a String> + 'a {
        self.keys.iter().filter(move |k| self.shows(google, k))
    }

    /// Whether `google` holds everything this write sent: then the write landed.
    pub fn landed_whole(&self, google: &Fields) -> bool {
        self.keys.iter().all(|k| self.shows(google, k))
    }

    /// Whether `google` holds the value this write sent for `key`.
    fn shows(&self, google: &Fields, key: &str) -> bool {
        google.0.get(key) == self.fields.0.get(key)
    }
}

/// Figures of one run, shown to the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created_in_google: u64,
    pub created_in_crm: u64,
    pub updated_in_google: u64,
    pub updated_in_crm: u64,
    pub deleted_in_google: u64,
    pub removed_from_group: u64,
    pub unlinked: u64,
    pub conflicts: u64,
    pub errors: u64,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.created_in_google += other.created_in_google;
        self.created_in_crm += other.created_in_crm;
        self.updated_in_google += other.updated_in_google;
        self.updated_in_crm += other.updated_in_crm;
        self.deleted_in_google += other.deleted_in_google;
        self.removed_from_group += other.removed_from_group;
        self.unlinked += other.unlinked;
        self.conflicts += other.conflicts;
        self.errors += other.errors;
    }
}

/// Why a contact is not synced, as recorded with its health. The sync's own reasons are fixed
/// sentences, stored in English (mapping files keep them) and shown in the reader's language;
/// any other reason quotes Google or the CRM and is shown as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Deleted in Google, or taken out of the group there.
    LeftInGoogle,
    /// Created in Google earlier; Google does not show it yet.
    WaitingForCreate,
    /// The account holds as many contacts as Google allows.
    AccountFull {
        limit: u64,
    },
    Quoted(String),
}

const LEFT_IN_GOOGLE: &str = "Deleted in Google or taken out of the group there.";
const WAITING_FOR_CREATE: &str = "Waiting for Google to show a contact created earlier.";
const LIMIT_PREFIX: &str = "Google allows ";
const LIMIT_MARK: &str = "contacts per account and this account is full";

impl Reason {
    /// The sentence stored in the mapping file.
    pub fn text(&self) -> String {
        match self {
            Reason::LeftInGoogle => {
                format!("{LEFT_IN_GOOGLE} It stays in the CRM and is no longer synced with this group.")
            }
            Reason::WaitingForCreate => WAITING_FOR_CREATE.to_string(),
            Reason::AccountFull { limit } => {
                format!("{LIMIT_PREFIX}{limit} {LIMIT_MARK}. Remove contacts in Google or narrow the filter.")
            }
            Reason::Quoted(text) => text.clone(),
        }
    }

    /// The reason a stored sentence records.
    pub fn parse(text: &str) -> Reason {
        if text.starts_with(LEFT_IN_GOOGLE) {
            return Reason::LeftInGoogle;
        }
        if text.starts_with(WAITING_FOR_CREATE) {
            return Reason::WaitingForCreate;
        }
        let limit = text
            .strip_prefix(LIMIT_PREFIX)
            .filter(|_| text.contains(LIMIT_MARK))
            .and_then(|rest| rest.split(' ').next()?.parse().ok());
        match limit {
            Some(limit) => Reason::AccountFull { limit },
            None => Reason::Quoted(text.to_string()),
        }
    }

    /// The reason in the reader's language.
    pub fn shown(&self, r: &Reader) -> String {
        match self {
            Reason::LeftInGoogle => r.t("reason-left-in-google"),
            Reason::WaitingForCreate => r.t("reason-waiting"),
            Reason::AccountFull { limit } => r.t_with("reason-limit", &[("limit", Arg::from(*limit))]),
            Reason::Quoted(text) => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn every_reason_of_the_sync_reads_back_from_its_stored_sentence() {
        for reason in [
            Reason::LeftInGoogle,
            Reason::WaitingForCreate,
            Reason::AccountFull { limit: 25_000 },
            Reason::Quoted("Google says: invalid birthday".into()),
        ] {
            assert_eq!(Reason::parse(&reason.text()), reason);
        }
    }

    #[test]
    fn sentences_stored_by_earlier_versions_keep_their_meaning() {
        let left = "Deleted in Google or taken out of the group there. It stays in the CRM and \
                    is no longer synced with this group.";
        assert_eq!(Reason::parse(left), Reason::LeftInGoogle);
        let full = "Google allows 25000 contacts per account and this account is full. \
                    Remove contacts in Google or narrow the filter.";
        assert_eq!(Reason::parse(full), Reason::AccountFull { limit: 25_000 });
    }
}
