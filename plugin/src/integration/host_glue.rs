//! The host's secret store and clock, as the Google client needs them.

use abi::Host;
use abi_stable::std_types::RStr;

use crate::google::{Clock, SecretStore};

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
