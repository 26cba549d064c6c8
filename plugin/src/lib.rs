//! Google Contacts sync for CRMs: the plugin library.
//!
//! The host loads this library and calls the root module exported by [`ffi`], which hands each
//! hook to the [`integration::Integration`]. Everything else is organised by concern:
//! [`google`] talks to Google, [`mapping`] translates contacts, [`store`] keeps the mapping
//! file, [`sync`] decides and applies changes, [`settings`] is what users see, in their
//! language and time ([`locale`]).

pub mod ffi;
#[cfg(any(test, feature = "test-hooks"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod google;
pub mod integration;
pub mod locale;
pub(crate) mod logging;
pub mod mapping;
pub mod settings;
pub mod store;
pub mod sync;
