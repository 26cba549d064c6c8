//! Each CRM user's language and time zone, as the user picked them on their page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use abi::UserId;
use serde::{Deserialize, Serialize};

/// The languages the CRM's own screens exist in.
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("ru", "Русский"), ("pl", "Polski")];

/// Time zones offered by the picker; the JSON API accepts any IANA name.
pub const PICKER_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Warsaw",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Vladivostok",
    "America/New_York",
    "America/Los_Angeles",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locale {
    pub language: String,
    pub time_zone: String,
}

impl Default for Locale {
    fn default() -> Self {
        Locale {
            language: "en".into(),
            time_zone: "UTC".into(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocaleError {
    #[error("\"{0}\" is not a language tag (BCP 47, e.g. \"ru\" or \"pl-PL\").")]
    Language(String),
    #[error("\"{0}\" is not an IANA time zone (e.g. \"Europe/Moscow\").")]
    TimeZone(String),
    #[error("The CRM could not save the locale: {0}")]
    Io(String),
}

pub struct Locales {
    file: Option<PathBuf>,
    by_user: Mutex<BTreeMap<u64, Locale>>,
}

impl Locales {
    pub fn in_memory() -> Self {
        Locales {
            file: None,
            by_user: Mutex::new(BTreeMap::new()),
        }
    }

    /// Locales kept in `file`, loading what it already holds.
    pub fn open(file: &Path) -> std::io::Result<Self> {
        let by_user = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Locales {
            file: Some(file.to_path_buf()),
            by_user: Mutex::new(by_user),
        })
    }

    /// The user's locale; English and UTC until they pick one.
    pub fn of(&self, user: UserId) -> Locale {
        self.lock().get(&user.0).cloned().unwrap_or_default()
    }

    pub fn set(&self, user: UserId, language: &str, time_zone: &str) -> Result<Locale, LocaleError> {
        let language = language.trim();
        let valid_tag = !language.is_empty()
            && language.len() <= 35
            && language.split('-').all(|part| {
                !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !valid_tag {
            return Err(LocaleError::Language(language.into()));
        }
        let time_zone = time_zone.trim();
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(LocaleError::TimeZone(time_zone.into()));
        }
        let locale = Locale {
            language: language.into(),
            time_zone: time_zone.into(),
        };
        let mut by_user = self.lock();
        by_user.insert(user.0, locale.clone());
        if let Some(file) = &self.file {
            let bytes = serde_json::to_vec_pretty(&*by_user).map_err(|e| LocaleError::Io(e.to_string()))?;
            let tmp = file.with_extension("tmp");
            std::fs::write(&tmp, bytes)
                .and_then(|_| std::fs::rename(&tmp, file))
                .map_err(|e| LocaleError::Io(e.to_string()))?;
        }
        Ok(locale)
    }

    /// Plugins reach this through the host's vtable, where a panic must not start: a lock some
    /// panicking thread held still holds whole entries (each change is one insert).
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Locale>> {
        self.by_user.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_still_answers_a_users_locale() {
        let locales = Locales::in_memory();
        locales.set(UserId(1), "ru", "Europe/Moscow").unwrap();
        let poison = std::panic::catch_unwind(|| {
            let _held = locales.by_user.lock();
            panic!("a thread panics while holding the lock");
        });
        assert!(poison.is_err() && locales.by_user.is_poisoned());
        assert_eq!(locales.of(UserId(1)).language, "ru");
        locales.set(UserId(2), "pl", "UTC").unwrap();
        assert_eq!(locales.of(UserId(2)).language, "pl");
    }
}
