use std::collections::BTreeSet;

use super::catalog::{bundle_from, format, format_in, ids};
use super::{Arg, Language, Reader};

fn count(language: Language, key: &str, n: i64) -> String {
    format(language, key, &[("count", Arg::Count(n))])
}

#[test]
fn every_message_exists_in_every_language_and_no_language_has_extra_ones() {
    let english: BTreeSet<String> = ids(Language::En).into_iter().collect();
    assert!(english.len() > 100, "{}", english.len());
    for language in [Language::Ru, Language::Pl] {
        let all = ids(language);
        let theirs: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(all.len(), theirs.len(), "{} repeats an id", language.code());
        let missing: Vec<_> = english.difference(&theirs).collect();
        let extra: Vec<_> = theirs.difference(&english).collect();
        assert!(missing.is_empty(), "{} lacks {missing:?}", language.code());
        assert!(
            extra.is_empty(),
            "{} has ids English lacks: {extra:?}",
            language.code()
        );
    }
}

/// Every `t("…")` / `t_with("…"` in the plugin's source names a message English has.
#[test]
fn every_message_the_code_asks_for_exists() {
    let english: BTreeSet<String> = ids(Language::En).into_iter().collect();
    let mut asked = BTreeSet::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for call in [".t(\"", ".t_with(\"", "r.t(\"", "(r.t(\""] {
                    for piece in text.split(call).skip(1) {
                        if let Some(key) = piece.split('"').next() {
                            if !key.contains('{') {
                                asked.insert(key.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(asked.len() > 50, "{}", asked.len());
    let missing: Vec<_> = asked.difference(&english).collect();
    assert!(missing.is_empty(), "asked for but missing: {missing:?}");
}

#[test]
fn russian_plurals_follow_cldr_for_0_1_2_5_11_21_22_25() {
    let expected = [
        (0, "0 контактов"),
        (1, "1 контакт"),
        (2, "2 контакта"),
        (5, "5 контактов"),
        (11, "11 контактов"),
        (21, "21 контакт"),
        (22, "22 контакта"),
        (25, "25 контактов"),
    ];
    for (n, text) in expected {
        assert_eq!(count(Language::Ru, "contacts-count", n), text);
    }
    assert_eq!(count(Language::Ru, "ago-minutes", 3), "3 минуты назад");
    assert_eq!(count(Language::Ru, "ago-minutes", 21), "21 минуту назад");
}

#[test]
fn polish_plurals_follow_cldr_for_0_1_2_5_11_21_22_25() {
    let expected = [
        (0, "0 kontaktów"),
        (1, "1 kontakt"),
        (2, "2 kontakty"),
        (5, "5 kontaktów"),
        (11, "11 kontaktów"),
        (21, "21 kontaktów"),
        (22, "22 kontakty"),
        (25, "25 kontaktów"),
    ];
    for (n, text) in expected {
        assert_eq!(count(Language::Pl, "contacts-count", n), text);
    }
    assert_eq!(count(Language::Pl, "ago-minutes", 1), "1 minutę temu");
    assert_eq!(count(Language::Pl, "ago-minutes", 5), "5 minut temu");
}

#[test]
fn english_plurals_for_0_1_2_5_11_21_22_25() {
    for (n, text) in [
        (0, "0 contacts"),
        (1, "1 contact"),
        (2, "2 contacts"),
        (5, "5 contacts"),
        (11, "11 contacts"),
        (21, "21 contacts"),
        (22, "22 contacts"),
        (25, "25 contacts"),
    ] {
        assert_eq!(count(Language::En, "contacts-count", n), text);
    }
}

#[test]
fn a_message_missing_in_a_language_falls_back_to_english_and_an_unknown_one_to_its_key() {
    // A Russian catalog the translators have not caught up with: it lacks "turn-off".
    let partial_ru = bundle_from(Language::Ru, "sync-now = Синхронизировать сейчас\n");
    let english = bundle_from(Language::En, Language::En.source());
    let chain = [&partial_ru, &english];
    assert_eq!(
        format_in(&chain, "sync-now", &[]).as_deref(),
        Some("Синхронизировать сейчас")
    );
    assert_eq!(
        format_in(&chain, "turn-off", &[]).as_deref(),
        Some("Turn off sync")
    );
    assert_eq!(format_in(&chain, "no-such-message", &[]), None);
    assert_eq!(format(Language::Ru, "no-such-message", &[]), "no-such-message");
}

#[test]
fn language_tags_pick_the_language_and_anything_else_is_english() {
    assert_eq!(Language::from_tag("ru-RU"), Language::Ru);
    assert_eq!(Language::from_tag("pl"), Language::Pl);
    assert_eq!(Language::from_tag("PL-pl"), Language::Pl);
    assert_eq!(Language::from_tag("de-DE"), Language::En);
    assert_eq!(Language::from_tag("not a tag!"), Language::En);
    assert_eq!(Reader::new("ru", "Mars/Olympus").zone, chrono_tz::UTC);
}

/// 2026-12-02 11:05:00 UTC.
const NOON_UTC: i64 = 1_796_209_500_000;

#[test]
fn times_show_on_the_readers_wall_clock_in_two_zones() {
    let moscow = Reader::new("ru-RU", "Europe/Moscow");
    let new_york = Reader::new("en-US", "America/New_York");
    let warsaw = Reader::new("pl", "Europe/Warsaw");
    assert_eq!(moscow.time(NOON_UTC), "2 декабря 2026 г., 14:05");
    assert_eq!(new_york.time(NOON_UTC), "2 December 2026, 06:05");
    assert_eq!(warsaw.time(NOON_UTC), "2 grudnia 2026, 12:05");
    // Across midnight the date follows the zone too.
    let late = NOON_UTC + 12 * 3_600_000;
    assert_eq!(moscow.time(late), "3 декабря 2026 г., 02:05");
    assert_eq!(new_york.time(late), "2 December 2026, 18:05");
}

#[test]
fn recent_times_read_as_minutes_or_hours_ago_and_older_ones_as_dates() {
    let moscow = Reader::new("ru", "Europe/Moscow");
    let minute = 60_000;
    assert_eq!(
        moscow.when(NOON_UTC, NOON_UTC + 3 * minute),
        "3 минуты назад (2 декабря 2026 г., 14:05)"
    );
    assert_eq!(
        moscow.when(NOON_UTC, NOON_UTC + 10_000),
        "только что (2 декабря 2026 г., 14:05)"
    );
    assert_eq!(
        Reader::DEFAULT.when(NOON_UTC, NOON_UTC + 5 * 60 * minute),
        "5 hours ago (2 December 2026, 11:05)"
    );
    assert_eq!(
        Reader::DEFAULT.when(NOON_UTC, NOON_UTC + 2 * 24 * 60 * minute),
        "2 December 2026, 11:05"
    );
}
