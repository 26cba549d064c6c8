//! The user's language and time. Every text a user reads comes from the Fluent catalogs beside
//! this file (English, Russian, Polish; a message missing in a language falls back to English),
//! and every time on a page is shown in the user's IANA time zone.
//!
//! The host tells each user's locale through the optional `user_locale` service (ABI 0.1.1).
//! A host without it gets English and UTC; the plugin says so once in the log.

mod catalog;
mod clock_face;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

use abi::{Host, HostOffers, UserId};

pub use catalog::{Arg, Language};

/// The person who will read a page, a message or a notice: their language and time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub language: Language,
    pub zone: chrono_tz::Tz,
}

static TOLD_NO_LOCALES: AtomicBool = AtomicBool::new(false);

impl Reader {
    /// What a host that does not tell locales gets.
    pub const DEFAULT: Reader = Reader {
        language: Language::En,
        zone: chrono_tz::UTC,
    };

    /// From a BCP 47 tag and an IANA zone name; unknown parts fall back to English and UTC.
    pub fn new(language_tag: &str, time_zone: &str) -> Reader {
        let zone = time_zone.parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
            log::warn!(
                "The CRM gave the time zone \"{}\", which is not in the IANA database; times are shown in UTC.",
                crate::logging::shown(time_zone)
            );
            chrono_tz::UTC
        });
        Reader {
            language: Language::from_tag(language_tag),
            zone,
        }
    }

    /// The reader `user` is, as the host tells it.
    pub fn of(host: &Host, user: UserId) -> Reader {
        match host.user_locale(user).into_option() {
            Some(l) => Reader::new(&l.language, &l.time_zone),
            None => {
                told_once_without_locales();
                Reader::DEFAULT
            }
        }
    }

    /// The text of message `key`.
    pub fn t(&self, key: &str) -> String {
        catalog::format(self.language, key, &[])
    }

    /// The text of message `key` with its variables.
    pub fn t_with(&self, key: &str, args: &[(&str, Arg)]) -> String {
        catalog::format(self.language, key, args)
    }

    /// A moment as a wall-clock date and time in the reader's zone, e.g. "2 December 2026, 14:05".
    pub fn time(&self, ms: i64) -> String {
        clock_face::absolute(self, ms)
    }

    /// A moment relative to `now` where that reads better ("3 minutes ago"), with the wall-clock
    /// time; older moments as a date.
    pub fn when(&self, ms: i64, now: i64) -> String {
        clock_face::relative(self, ms, now)
    }
}

/// Logs, once per process, what a host without the locale service means for users.
pub fn told_once_without_locales() {
    if !TOLD_NO_LOCALES.swap(true, Ordering::SeqCst) {
        log::info!(
            "This CRM does not tell users' languages and time zones (ABI 0.1.1 service user_locale): \
             pages are in English and times in UTC."
        );
    }
}

/// Logs at start which optional host services are missing and what the plugin does without them.
pub fn report_host_offers(offers: HostOffers) {
    if !offers.contains(HostOffers::LOCALES) {
        told_once_without_locales();
    }
    if !offers.contains(HostOffers::NOTICES) {
        log::info!(
            "This CRM does not show notices from plugins (ABI 0.1.1 services raise_notice and \
             withdraw_notice): what needs a user's attention is shown on the plugin's pages only."
        );
    }
}
