//! Times as a reader reads them: on their wall clock (IANA zone), in their language's format.

use chrono::{Datelike, TimeZone, Timelike};

use super::{Arg, Reader};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// "2 December 2026, 14:05" in the reader's zone and language.
pub(super) fn absolute(reader: &Reader, ms: i64) -> String {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(ms) else {
        return String::new();
    };
    let local = reader.zone.from_utc_datetime(&utc.naive_utc());
    let month = reader.t(&format!("month-{}", local.month()));
    reader.t_with(
        "date-time",
        &[
            ("day", Arg::Text(local.day().to_string())),
            ("month", Arg::Text(month)),
            ("year", Arg::Text(local.year().to_string())),
            (
                "time",
                Arg::Text(format!("{:02}:{:02}", local.hour(), local.minute())),
            ),
        ],
    )
}

/// "3 minutes ago (2 December 2026, 14:05)" within a day of `now`; the date alone before that.
pub(super) fn relative(reader: &Reader, ms: i64, now: i64) -> String {
    let age = now - ms;
    let ago = if !(0..DAY).contains(&age) {
        return absolute(reader, ms);
    } else if age < MINUTE {
        reader.t("ago-now")
    } else if age < HOUR {
        reader.t_with("ago-minutes", &[("count", Arg::Count(age / MINUTE))])
    } else {
        reader.t_with("ago-hours", &[("count", Arg::Count(age / HOUR))])
    };
    reader.t_with(
        "ago-with-time",
        &[("ago", Arg::Text(ago)), ("time", Arg::Text(absolute(reader, ms)))],
    )
}
