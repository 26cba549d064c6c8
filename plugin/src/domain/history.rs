//! What the sync changed, one entry per field (or per contact for whole-contact changes), as
//! the history records it: enough to show it and to undo it. It never holds a token.

use serde::{Deserialize, Serialize};

use crate::mapping::Fields;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Google,
    Crm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Matched,
    Updated,
    AddedToGroup,
    Imported,
    RemovedFromGroup,
    Deleted,
}

/// Why the sync made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    EditedInCrm,
    EditedInGoogle,
    /// Both sides changed the field; the binding's policy kept this value.
    Conflict,
    NewInFilter,
    FoundInGoogle,
    AddedInGoogle,
    LeftFilter,
    DeletedInCrm,
    /// A second Google copy of a contact, made by a create whose answer was lost.
    Duplicate,
}

/// One change the sync made on one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub contact_id: Option<u64>,
    pub google_id: Option<String>,
    pub name: String,
    pub side: Side,
    pub action: Action,
    /// The field changed; `None` for a change of the whole contact.
    pub field: Option<String>,
    /// The values before and after: the field alone, or the whole contact (a deleted Google
    /// contact keeps what it held, so an undo can create it again).
    pub old: Fields,
    pub new: Fields,
    pub why: Why,
}

macro_rules! names {
    ($t:ty { $($v:ident = $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }

            pub fn parse(text: &str) -> Option<$t> {
                match text { $($s => Some(<$t>::$v),)* _ => None }
            }
        }
    };
}

names!(Side {
    Google = "google",
    Crm = "crm",
});

names!(Action {
    Created = "created",
    Matched = "matched",
    Updated = "updated",
    AddedToGroup = "added_to_group",
    Imported = "imported",
    RemovedFromGroup = "removed_from_group",
    Deleted = "deleted",
});

names!(Why {
    EditedInCrm = "edited_in_crm",
    EditedInGoogle = "edited_in_google",
    Conflict = "conflict",
    NewInFilter = "new_in_filter",
    FoundInGoogle = "found_in_google",
    AddedInGoogle = "added_in_google",
    LeftFilter = "left_filter",
    DeletedInCrm = "deleted_in_crm",
    Duplicate = "duplicate",
});
