//! Notices: how a plugin tells a user it needs them, outside its settings pages (since 0.1.1).

use abi_stable::std_types::RString;
use abi_stable::StableAbi;

use crate::{SettingsPage, Tone, UserId};

/// Something a user should act on. The host shows it wherever it shows its own notifications
/// (a bell in the header, an e-mail digest) until the plugin withdraws it.
///
/// `(user, key)` identifies a notice: raising a notice whose key is already raised for that user
/// replaces it (a host must not show it twice), and [`HostServices::withdraw_notice`] removes it.
///
/// [`HostServices::withdraw_notice`]: crate::HostServices::withdraw_notice
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub user: UserId,
    /// Stable across raises of the same condition, e.g. `"reconnect:ann@example.com"`.
    pub key: RString,
    pub tone: Tone,
    /// One line, in the user's language.
    pub title: RString,
    /// What happened and what to do, in the user's language.
    pub body: RString,
    /// The settings page where the user can act on it.
    pub page: SettingsPage,
}
