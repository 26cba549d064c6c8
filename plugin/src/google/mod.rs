//! Google: the People API client, OAuth, errors and rate limiting.
//!
//! Start from [`GoogleAccounts`]: it connects accounts (OAuth with PKCE, see `auth`), hands out a
//! [`PeopleClient`] per account, and owns the per-account quota, mutation lock and token cache.
//! Time comes from the injected [`Clock`] (wall clock, host-controlled) and [`Sleeper`]
//! (monotonic time and waiting), never from `SystemTime::now()` in logic.

pub mod accounts;
pub mod auth;
pub mod client;
pub mod endpoints;
pub mod error;
pub mod oauth;
pub mod person;
pub mod quota;
pub mod retry;
pub mod secrets;
pub mod time;
pub mod tokens;
mod wire;

pub use accounts::GoogleAccounts;
pub use auth::{AuthorizationStart, ConnectedAccount, OAuthCallback};
pub use client::{BatchItem, BatchOutcome, Connections, ListSummary, MembersModified, PeopleClient};
pub use endpoints::{Endpoints, GoogleConfig};
pub use error::{GoogleError, ItemError};
pub use retry::RetryPolicy;
pub use secrets::{MemorySecretStore, SecretStore};
pub use time::{Clock, Sleeper, SystemClock, ThreadSleeper};
pub use tokens::{Credentials, StoredTokens};

#[cfg(test)]
pub(crate) mod tests;
