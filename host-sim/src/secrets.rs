//! The CRM's secret store: where plugins keep OAuth tokens. Kept apart from the plugin's own
//! data directory, in a file only the CRM's user can read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct SecretStore {
    file: Option<PathBuf>,
    values: Mutex<BTreeMap<String, String>>,
}

impl SecretStore {
    pub fn in_memory() -> Self {
        SecretStore {
            file: None,
            values: Mutex::new(BTreeMap::new()),
        }
    }

    /// A store persisted to `file` (mode 0600), loading what it already holds.
    pub fn open(file: &Path) -> std::io::Result<Self> {
        let values = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(SecretStore {
            file: Some(file.to_path_buf()),
            values: Mutex::new(values),
        })
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().get(key).cloned()
    }

    pub fn set(&self, key: &str, value: &str) -> std::io::Result<()> {
        let mut values = self.lock();
        values.insert(key.to_string(), value.to_string());
        self.persist(&values)
    }

    pub fn delete(&self, key: &str) -> std::io::Result<()> {
        let mut values = self.lock();
        values.remove(key);
        self.persist(&values)
    }

    /// Every key (never values), for inspection in tests.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.values.lock().expect("secret store lock poisoned")
    }

    /// Writes a temporary file and renames it over the old one, so a crash never leaves a
    /// half-written store.
    fn persist(&self, values: &BTreeMap<String, String>) -> std::io::Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        let tmp = file.with_extension("tmp");
        let mut out = private_file(&tmp)?;
        out.write_all(&serde_json::to_vec(values).map_err(std::io::Error::other)?)?;
        out.sync_all()?;
        std::fs::rename(&tmp, file)
    }
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
