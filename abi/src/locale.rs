//! The user's language and time zone, as the CRM shows them its own screens (since 0.1.1).

use abi_stable::std_types::RString;
use abi_stable::StableAbi;

/// How one user reads: the language of their pages and the clock on their wall.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct UserLocale {
    /// A BCP 47 language tag, e.g. `"ru-RU"`, `"pl"`, `"en-GB"`. A plugin that lacks the language
    /// falls back to English.
    pub language: RString,
    /// An IANA time zone name, e.g. `"Europe/Moscow"`. A plugin that does not know the name
    /// shows UTC and says so.
    pub time_zone: RString,
}
