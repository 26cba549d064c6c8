//! Files a plugin hands the user, such as an export (since 0.1.2).

use abi_stable::std_types::{RString, RVec};
use abi_stable::StableAbi;

/// A file for the user's browser to save, answered by [`Plugin::download`].
///
/// [`Plugin::download`]: crate::Plugin::download
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The name the browser saves it under, e.g. `"sync-history-vip.csv"`: plain, no directory.
    pub file_name: RString,
    /// Its media type, e.g. `"text/csv; charset=utf-8"`.
    pub media_type: RString,
    pub body: RVec<u8>,
}
