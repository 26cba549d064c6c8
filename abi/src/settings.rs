//! Settings pages: the host asks the plugin for a *view model* and renders it itself (HTML, a
//! desktop form, a mobile screen); user input comes back as a [`SettingsAction`].
//!
//! The view model is a small widget tree, so a host can render any plugin's settings without
//! knowing its domain. Every string in it is plain text: the host escapes it when rendering.

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;

use crate::{FilterId, UserId};

/// Where the settings are shown and for whom.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct SettingsContext {
    /// The signed-in user looking at the page.
    pub user: UserId,
    pub page: SettingsPage,
    /// The absolute URL of the host's OAuth callback for this plugin: the host routes a request
    /// to it into [`SettingsAction`] `"oauth_callback"` with the query parameters as fields.
    pub oauth_callback_url: RString,
}

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsPage {
    /// The CRM's integration settings page.
    Integration,
    /// The settings panel of a contact filter (saved or not).
    Filter(FilterId),
}

/// A page of settings.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsView {
    pub title: RString,
    pub sections: RVec<Section>,
    /// While a background run is under way the host should refresh the view every this many
    /// milliseconds (polling); `None` when nothing is running.
    pub refresh_after_ms: ROption<u32>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// Stable id, for tests and anchors, e.g. `"accounts"`.
    pub id: RString,
    pub heading: RString,
    pub widgets: RVec<Widget>,
}

/// One element of a settings page.
#[repr(C, u8)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    /// A paragraph of text.
    Text { text: RString, tone: Tone },
    /// Label / value pairs, e.g. "Last sync: 2026-11-23 14:05".
    Facts(RVec<Fact>),
    /// A table; every row has as many cells as there are columns.
    Table {
        id: RString,
        columns: RVec<RString>,
        rows: RVec<RVec<RString>>,
    },
    /// Progress of a long-running task.
    Progress { label: RString, done: u64, total: u64 },
    /// A button that sends an action with fixed fields.
    Button(Button),
    /// A form: the user fills the inputs and submits them as one action.
    Form(Form),
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: RString,
    pub value: RString,
}

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Normal,
    Success,
    Warning,
    Error,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// Stable id of the element, e.g. `"sync-now"`.
    pub id: RString,
    pub label: RString,
    pub action: SettingsAction,
    pub tone: Tone,
    /// When not empty, the host asks the user this question before sending the action.
    pub confirm: RString,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub id: RString,
    /// The action's name; the inputs' values become its fields, after `hidden`.
    pub action: RString,
    pub submit_label: RString,
    pub inputs: RVec<Input>,
    pub hidden: RVec<Field>,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The field name sent with the action.
    pub name: RString,
    pub label: RString,
    pub kind: InputKind,
    /// Current value; for checkboxes `"true"` or `"false"`.
    pub value: RString,
    /// Choices of a `Select`.
    pub options: RVec<Choice>,
    /// A hint shown under the input.
    pub help: RString,
}

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Number,
    Select,
    Checkbox,
}

#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: RString,
    pub label: RString,
}

/// A named value sent with an action.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: RString,
    pub value: RString,
}

/// User input: a button press, a submitted form, or the OAuth callback.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct SettingsAction {
    /// The action's name, e.g. `"enable"`, `"sync_now"`, `"oauth_callback"`.
    pub name: RString,
    pub fields: RVec<Field>,
}

impl SettingsAction {
    /// The value of the first field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.as_str() == name)
            .map(|f| f.value.as_str())
    }
}

/// What an action did, for the host to show.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct ActionOutcome {
    /// A sentence for the user, e.g. "Sync enabled; the first run has started."
    pub message: RString,
    pub tone: Tone,
    /// When set, the host sends the user's browser to this URL (e.g. Google's consent page).
    pub redirect_to: ROption<RString>,
}
