//! What Google's sign-in and API errors say to the user, in their language. `GoogleError`'s
//! `Display` stays English for the log; errors not listed here are shown as it writes them.

use crate::google::GoogleError;
use crate::locale::{Arg, Reader};

pub fn google_message(r: &Reader, e: &GoogleError) -> String {
    let email = |email: &str| [("email", Arg::from(email))];
    match e {
        GoogleError::NotConnected { email: m } => r.t_with("google-not-connected", &email(m)),
        GoogleError::ReconnectNeeded { email: m } => r.t_with("google-reconnect", &email(m)),
        GoogleError::ContactsScopeMissing { email: m } => r.t_with("google-scope-missing", &email(m)),
        GoogleError::ScopeInsufficient { email: m } => r.t_with("google-scope-insufficient", &email(m)),
        GoogleError::ConsentDenied { error } => {
            r.t_with("google-consent-denied", &[("error", Arg::from(error.as_str()))])
        }
        GoogleError::OAuthStateUnknown => r.t("google-state-unknown"),
        GoogleError::OAuthStateExpired => r.t("google-state-expired"),
        GoogleError::OAuthStateWrongUser => r.t("google-state-wrong-user"),
        GoogleError::TokenRefused { code } => {
            r.t_with("google-token-refused", &[("code", Arg::from(code.as_str()))])
        }
        GoogleError::Unavailable { attempts, detail } => r.t_with(
            "google-unavailable",
            &[
                ("attempts", Arg::from(u64::from(*attempts))),
                ("detail", Arg::from(detail.as_str())),
            ],
        ),
        other => other.to_string(),
    }
}
