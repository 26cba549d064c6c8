//! A Russian-speaking user in Europe/Moscow picks her language and time zone on her CRM profile,
//! then clicks through activation, connecting Google, enabling sync and a first sync in a real
//! headless Chromium. The plugin's panels must show no English word of the plugin's and only
//! Moscow times. Screenshots of each step go to `target/browser-screenshots/ru-*.png`.

use std::collections::BTreeSet;

use abi::ContactsPermission;
use chrono::{Duration, Utc};
use tests::browser::{require_chromium, screenshot_dir, wait_until, Browser};
use tests::WebStack;

const ACCOUNT: &str = "alice@example.com";

/// Words of the plugin's English catalog (three letters or more), except names that every
/// language writes the same way.
fn english_words() -> BTreeSet<String> {
    let catalog = include_str!("../../plugin/src/locale/en.ftl");
    let mut words = BTreeSet::new();
    for line in catalog.lines().filter(|l| !l.trim_start().starts_with('#')) {
        // The text after the id; variables ({ $name }) and variant keys ([one]) are not text.
        // Names (Google, CRM, CSV) are the same in every language.
        let text = line.split_once(" = ").map(|(_, t)| t).unwrap_or(line);
        let mut cleaned = String::new();
        let mut depth = 0;
        for c in text.chars() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                c if depth == 0 => cleaned.push(c),
                _ => {}
            }
        }
        for word in cleaned.split(|c: char| !c.is_ascii_alphabetic()) {
            let word = word.to_lowercase();
            if word.len() >= 3 && !["google", "crm", "csv"].contains(&word.as_str()) {
                words.insert(word);
            }
        }
    }
    words
}

/// What the plugin put on the page: its panels (with every select's choices) and the flash.
fn plugin_text(browser: &mut Browser) -> String {
    browser
        .eval(
            "Array.from(document.querySelectorAll('.plugin, #flash')).map(e => e.innerText + ' ' + \
             Array.from(e.querySelectorAll('option, button')).map(o => o.textContent).join(' ')\
             ).join('\\n')",
        )
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The whole number written right after `label` in `text` (12 in "создано 12, обновлено 0").
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[test]
fn a_count_read_from_the_page_is_the_whole_number_not_its_first_digits() {
    let label = "в Google: создано ";
    assert_eq!(number_after("в Google: создано 2, обновлено 0", label), Some(2));
    assert_eq!(number_after("в Google: создано 23, обновлено 0", label), Some(23));
    assert_eq!(number_after("в CRM: создано 2", label), None);
}

fn assert_no_english(browser: &mut Browser, step: &str) {
    let english = english_words();
    let text = plugin_text(browser);
    assert!(!text.trim().is_empty(), "{step}: the plugin showed nothing");
    let found: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| english.contains(&w.to_lowercase()))
        .map(str::to_string)
        .collect();
    assert!(found.is_empty(), "{step}: English words {found:?} in:\n{text}");
}

#[test]
fn a_russian_user_in_moscow_syncs_a_filter_and_reads_only_russian_and_moscow_times() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let stack = WebStack::start(true);
    let sim = &stack.world.sim;
    let base = stack.web.base_url();

    let olga = sim
        .crm()
        .add_user(
            "Ольга",
            &[abi::FEATURE_GOOGLE_CONTACTS],
            ContactsPermission::Edit,
            &[],
        )
        .unwrap();
    let filter = tests::company_filter(
        sim,
        olga.id,
        "Клиенты",
        "Ромашка",
        &[
            ("Ирина", "Петрова", "irina@romashka.test"),
            ("Павел", "Смирнов", "pavel@romashka.test"),
        ],
    );
    let filter_url = format!("{base}/ui/users/{}/filters/{}", olga.id.0, filter.id.0);

    let shots = screenshot_dir();
    let mut browser = Browser::launch(&chromium).expect("Chromium starts with a DevTools endpoint");
    let step = |browser: &mut Browser, name: &str| {
        browser.screenshot(&shots.join(format!("ru-{name}.png")));
    };

    // Olga sets her language and time zone on her profile page.
    browser.goto(&format!("{base}/ui/users/{}/profile", olga.id.0));
    browser.set_value("language", "ru");
    browser.set_value("time_zone", "Europe/Moscow");
    browser.click_and_wait("save-locale");
    step(&mut browser, "01-profile");
    let locale = sim.shared().locales.of(olga.id);
    assert_eq!(
        (locale.language.as_str(), locale.time_zone.as_str()),
        ("ru", "Europe/Moscow")
    );

    // Activation.
    browser.goto(&filter_url);
    step(&mut browser, "02-filter-page");
    assert!(
        browser
            .text()
            .contains("Синхронизировать этот фильтр с Google Контактами"),
        "{}",
        browser.text()
    );
    assert_no_english(&mut browser, "filter page");
    browser.click_and_wait("activate");
    step(&mut browser, "03-activated");
    assert_no_english(&mut browser, "activated");

    // Connecting Google (the consent page is Google's, not the plugin's).
    browser.click_and_wait("connect-google");
    step(&mut browser, "04-consent");
    browser.click(&format!("account-{ACCOUNT}"));
    browser.click_and_wait("allow");
    step(&mut browser, "05-connected");
    assert!(browser.url().starts_with(&filter_url), "at {}", browser.url());
    assert!(
        browser
            .text()
            .contains("Аккаунт Google alice@example.com подключён"),
        "{}",
        browser.text()
    );
    assert_no_english(&mut browser, "connected");

    // Enabling with the defaults.
    browser.click_and_wait("enable-sync-submit");
    step(&mut browser, "06-enabled");
    assert_no_english(&mut browser, "enabled");

    // The first sync finishes.
    wait_until(
        &mut browser,
        &base,
        &filter_url,
        "the first sync to finish",
        |b| {
            let text = b.text();
            text.contains("Последняя синхронизация")
                && !text.contains("ещё не было")
                && !b.exists_selector("progress")
        },
    );
    step(&mut browser, "07-first-sync-done");
    assert_no_english(&mut browser, "first sync done");
    let text = plugin_text(&mut browser);
    assert_eq!(number_after(&text, "в Google: создано "), Some(2), "{text}");
    assert_eq!(stack.google.contacts(ACCOUNT).expect("account exists").len(), 2);

    // Only Moscow times: the last sync reads as Moscow's wall clock (UTC+3, no summer time).
    let now = Utc::now();
    let moscow: Vec<String> = [now, now - Duration::minutes(1), now - Duration::minutes(2)]
        .iter()
        .map(|t| (*t + Duration::hours(3)).format("%H:%M").to_string())
        .collect();
    let utc: Vec<String> = [now, now - Duration::minutes(1), now - Duration::minutes(2)]
        .iter()
        .map(|t| t.format("%H:%M").to_string())
        .collect();
    assert!(
        moscow.iter().any(|t| text.contains(t.as_str())),
        "no Moscow time {moscow:?} in:\n{text}"
    );
    assert!(
        !utc.iter().any(|t| text.contains(t.as_str())),
        "a UTC time {utc:?} in:\n{text}"
    );
    assert!(!text.contains("UTC"), "{text}");
    assert!(
        text.contains(" назад (") || text.contains("только что ("),
        "{text}"
    );

    // The integration page too.
    browser.goto(&format!("{base}/ui/users/{}/integrations", olga.id.0));
    step(&mut browser, "08-integrations");
    assert_no_english(&mut browser, "integration page");

    // Google revokes the access: the next sync raises a notice, in Russian, counted in the
    // header and listed on the notifications page.
    let control = stack.google.control();
    control.revoke_tokens(ACCOUNT);
    control.expire_access_tokens(Some(ACCOUNT));
    browser.goto(&filter_url);
    browser.click_and_wait("sync-now");
    wait_until(&mut browser, &base, &filter_url, "the reconnect notice", |b| {
        b.text().contains("Notifications 1")
    });
    step(&mut browser, "09-notice-in-header");
    browser.click_and_wait("nav-notices");
    step(&mut browser, "10-notifications");
    let notices = browser
        .eval("document.getElementById('notices').innerText")
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(
        notices.contains("Подключите alice@example.com к Google Контактам заново"),
        "{notices}"
    );
    let english = english_words();
    let found: Vec<&str> = notices
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| english.contains(&w.to_lowercase()))
        .collect();
    // "Open" is the CRM's link, not the plugin's.
    assert!(
        found.iter().all(|w| *w == "Open"),
        "English words {found:?} in:\n{notices}"
    );
}
