//! Errors that cross the boundary: a kind to branch on and a sentence for people.

use abi_stable::std_types::RString;
use abi_stable::StableAbi;
use std::fmt;

/// An error returned by a [`Plugin`](crate::Plugin) method.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    pub kind: PluginErrorKind,
    /// What happened and what to do, written for the person who will read it.
    pub message: RString,
}

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginErrorKind {
    /// The input was refused (bad value, not allowed); nothing changed.
    Rejected,
    /// Something failed; the plugin will retry where that makes sense.
    Failed,
    /// The plugin panicked; the call was abandoned. The plugin keeps working.
    Panicked,
}

impl PluginError {
    pub fn new(kind: PluginErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

/// An error returned by a [`HostServices`](crate::HostServices) method.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub kind: HostErrorKind,
    pub message: RString,
}

#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostErrorKind {
    /// The user, contact or filter does not exist (any more).
    NotFound,
    /// The acting user may not do this.
    Forbidden,
    /// The host refused the value (validation).
    Invalid,
    /// The host could not do it now; retry later.
    Unavailable,
}

impl HostError {
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        HostError {
            kind,
            message: RString::from(message.into()),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}
