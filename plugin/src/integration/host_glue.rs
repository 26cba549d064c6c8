//! The host's secret store and clock, as the Google client needs them.

use abi::Host;
use abi_stable::std_types::RStr;

use crate::domain::Binding;
use crate::google::{Clock, SecretStore};
use crate::locale::{Arg, Reader};

pub struct HostSecrets(pub Host);

impl SecretStore for HostSecrets {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        self.0
            .secret_get(RStr::from_str(key))
            .into_result()
            .map(|v| v.into_option().map(|s| s.into_string()))
            .map_err(|e| e.to_string())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        self.0
            .secret_set(RStr::from_str(key), RStr::from_str(value))
            .into_result()
            .map_err(|e| e.to_string())
    }

    fn delete(&self, key: &str) -> Result<(), String> {
        self.0
            .secret_delete(RStr::from_str(key))
            .into_result()
            .map_err(|e| e.to_string())
    }
}

pub struct HostClock(pub Host);

impl Clock for HostClock {
    fn now_ms(&self) -> i64 {
        self.0.now().0
    }
}

/// The saved filter's name, or a stand-in when the CRM no longer has it.
pub(crate) fn filter_name(host: &abi::Host, r: &Reader, b: &Binding) -> String {
    host.filter(abi::FilterId(b.filter_id))
        .into_result()
        .ok()
        .and_then(|f| f.into_option())
        .map(|f| f.name.into_string())
        .unwrap_or_else(|| {
            r.t_with(
                "filter-fallback-name",
                &[("id", Arg::Text(b.filter_id.to_string()))],
            )
        })
}
