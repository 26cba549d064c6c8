//! Notices: when a sync needs its user the plugin raises a notice through the host's
//! notification service, once per change of state (not again on the next tick), in the user's
//! language, and withdraws it when the condition clears.

use abi::{ContactsPermission, SettingsPage};
use host_sim::notices::NoticeEvent;
use tests::{contact, GoogleWorld};

const ALICE: &str = "alice@example.com";
const HOUR: i64 = 3_600_000;

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
}

/// `n` contacts in segment "vip", a filter on it, Alice connected and sync enabled; ticks come
/// every hour so that a test can let a day pass.
fn synced(n: usize, plugin_config: &[(&str, &str)]) -> Setup {
    let g = GoogleWorld::start(
        |_| {},
        |c| {
            c.tick_period_ms = HOUR;
            for (k, v) in plugin_config {
                c.plugin_config.insert((*k).into(), (*v).into());
            }
        },
    );
    let user = g.user("Ann", ContactsPermission::Edit);
    for i in 0..n {
        g.add_contact(
            user.id,
            contact(&format!("G{i}"), "F", &format!("p{i}@example.org"), "vip"),
        );
    }
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    Setup { g, user, filter }
}

impl Setup {
    fn history(&self, key: &str) -> Vec<&'static str> {
        self.g
            .sim()
            .shared()
            .notices
            .history()
            .into_iter()
            .filter(|e: &NoticeEvent| e.key == key)
            .map(|e| e.what)
            .collect()
    }

    /// Every raise and withdrawal came from a job on a host worker thread: reviewing notices
    /// (bindings, filters, a file write) is too slow for a host-thread hook such as `on_tick`.
    fn assert_reviewed_on_workers(&self) {
        let history = self.g.sim().shared().notices.history();
        assert!(!history.is_empty(), "the test saw no notice at all");
        let on_hooks: Vec<&NoticeEvent> = history
            .iter()
            .filter(|e| !e.thread.starts_with("worker-"))
            .collect();
        assert!(
            on_hooks.is_empty(),
            "notices changed on a hook's thread: {on_hooks:?}"
        );
    }

    fn shown(&self) -> Vec<host_sim::notices::ShownNotice> {
        self.g.sim().shared().notices.of_user(self.user.id)
    }

    fn key(&self, kind: &str) -> String {
        format!("{kind}:{}", self.filter.id.0)
    }
}

#[test]
fn reconnect_needed_is_raised_once_not_repeated_on_the_next_ticks_and_withdrawn_on_reconnect() {
    let s = synced(2, &[]);
    assert!(s.shown().is_empty(), "{:?}", s.shown());
    s.g.control.revoke_tokens(ALICE);
    s.g.control.expire_access_tokens(Some(ALICE));
    s.g.action(s.user.id, SettingsPage::Filter(s.filter.id), "sync_now", &[]);
    s.g.settle();
    let key = "reconnect:alice@example.com";
    let shown = s.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].key, key);
    assert_eq!(shown[0].filter, None, "it points at the integration page");
    assert!(
        shown[0].title.contains("Reconnect alice@example.com"),
        "{shown:?}"
    );
    for _ in 0..3 {
        s.g.tick(HOUR);
    }
    assert_eq!(s.history(key), ["raised"], "raised once, never repeated");
    s.g.connect(s.user.id, ALICE);
    s.g.settle();
    assert_eq!(s.history(key), ["raised", "withdrawn"]);
    assert!(s.shown().is_empty(), "{:?}", s.shown());
    s.assert_reviewed_on_workers();
}

#[test]
fn the_file_of_raised_notices_names_accounts_and_is_readable_by_the_crm_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = synced(2, &[]);
    s.g.control.revoke_tokens(ALICE);
    s.g.control.expire_access_tokens(Some(ALICE));
    s.g.action(s.user.id, SettingsPage::Filter(s.filter.id), "sync_now", &[]);
    s.g.settle();
    let file = s.g.sim().plugin_data_dir("google-contacts").join("notices.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(ALICE), "the file holds what was raised: {text}");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
}

#[test]
fn held_removals_are_raised_once_and_withdrawn_when_confirmed() {
    let s = synced(30, &[]);
    let ids: Vec<abi::ContactId> =
        s.g.sim()
            .crm()
            .all_contacts()
            .into_iter()
            .map(|r| r.contact.id)
            .take(25)
            .collect();
    for id in ids {
        let mut c = s.g.sim().crm().contact(id).unwrap().contact;
        c.custom_fields[0].value = "archived".into();
        s.g.sim().update_contact(s.user.id, c).unwrap();
    }
    s.g.settle();
    let key = s.key("held");
    assert_eq!(s.history(&key), ["raised"]);
    let notice = s.shown().into_iter().find(|n| n.key == key).unwrap();
    assert!(
        notice.body.contains("would remove 25 of 30 contacts"),
        "{notice:?}"
    );
    assert_eq!(notice.filter, Some(s.filter.id.0));
    s.g.tick(HOUR);
    s.g.tick(HOUR);
    assert_eq!(s.history(&key), ["raised"], "not repeated on the next ticks");
    s.g.action(
        s.user.id,
        SettingsPage::Filter(s.filter.id),
        "confirm_removals",
        &[],
    );
    s.g.settle();
    assert_eq!(s.history(&key), ["raised", "withdrawn"]);
    s.assert_reviewed_on_workers();
}

#[test]
fn the_account_limit_and_a_contact_failing_for_a_day_are_raised_and_withdrawn_when_fixed() {
    let s = synced(4, &[("sync.max_contacts_per_account", "3")]);
    let limit = s.key("limit");
    let failing = s.key("failing");
    assert_eq!(s.history(&limit), ["raised"]);
    assert!(s.history(&failing).is_empty(), "not failing for a day yet");
    // A day passes with the contact still failing.
    for _ in 0..25 {
        s.g.tick(HOUR);
    }
    assert_eq!(s.history(&limit), ["raised"], "not repeated on 25 ticks");
    assert_eq!(s.history(&failing), ["raised"]);
    let notice = s.shown().into_iter().find(|n| n.key == failing).unwrap();
    assert_eq!(notice.title, "1 contact has been failing for more than a day");
    // The user makes room: one of the synced contacts is deleted in the CRM (and so in Google).
    let synced_one =
        s.g.sim()
            .crm()
            .all_contacts()
            .into_iter()
            .find(|r| {
                s.g.google_contacts(ALICE)
                    .iter()
                    .any(|p| p.to_string().contains(r.contact.emails[0].value.as_str()))
            })
            .expect("a synced contact");
    s.g.sim()
        .delete_contact(synced_one.contact.id, Some(s.user.id))
        .unwrap();
    s.g.settle();
    // A contact refused for the limit is tried again when it changes: the user touches it.
    for r in s.g.sim().crm().all_contacts() {
        let in_google =
            s.g.google_contacts(ALICE)
                .iter()
                .any(|p| p.to_string().contains(r.contact.emails[0].value.as_str()));
        if !in_google {
            let mut c = r.contact.clone();
            c.position = "Buyer".into();
            s.g.sim().update_contact(s.user.id, c).unwrap();
        }
    }
    s.g.settle();
    s.g.tick(HOUR);
    assert_eq!(s.history(&limit), ["raised", "withdrawn"]);
    assert_eq!(s.history(&failing), ["raised", "withdrawn"]);
    s.assert_reviewed_on_workers();
}

#[test]
fn a_binding_at_rest_for_days_counts_each_quiet_look_at_google_as_a_successful_sync() {
    let s = synced(2, &[]);
    let stale = s.key("stale");
    let listings = || s.g.control.stats().count("people.people.connections.list");
    let before = listings();
    for _ in 0..50 {
        s.g.tick(HOUR);
    }
    assert_eq!(listings() - before, 50, "one delta listing per tick");
    assert!(s.history(&stale).is_empty(), "{:?}", s.shown());
}

#[test]
fn a_sync_failing_for_more_than_a_day_is_raised_in_the_users_language_and_withdrawn_when_it_succeeds() {
    // Google's retries wait a millisecond and the quota is out of the way, so 26 failing runs
    // take little time.
    let s = synced(
        2,
        &[
            ("google.retry_base_ms", "1"),
            ("google.read_quota_per_minute", "100000"),
            ("google.write_quota_per_minute", "100000"),
        ],
    );
    s.g.sim()
        .shared()
        .locales
        .set(s.user.id, "pl-PL", "Europe/Warsaw")
        .unwrap();
    s.g.control
        .add_fault(host_sim::fake_google::FaultRule::always(
            None,
            host_sim::fake_google::Fault::Unavailable,
        ))
        .unwrap();
    let stale = s.key("stale");
    for _ in 0..23 {
        s.g.tick(HOUR);
    }
    assert!(s.history(&stale).is_empty(), "a day has not passed");
    for _ in 0..3 {
        s.g.tick(HOUR);
    }
    assert_eq!(s.history(&stale), ["raised"]);
    let notice = s.shown().into_iter().find(|n| n.key == stale).unwrap();
    assert_eq!(
        notice.title,
        "Filtr „VIP clients” nie synchronizował się od ponad doby"
    );
    s.g.control.clear_faults();
    s.g.tick(HOUR);
    assert_eq!(s.history(&stale), ["raised", "withdrawn"]);
    s.assert_reviewed_on_workers();
}

#[test]
fn the_json_api_sets_a_users_locale_refuses_an_unknown_zone_and_lists_notices() {
    let stack = tests::WebStack::start(false);
    let base = stack.web.base_url();
    let ann = stack
        .world
        .sim
        .crm()
        .add_user(
            "Ann",
            &[abi::FEATURE_GOOGLE_CONTACTS],
            ContactsPermission::Edit,
            &[],
        )
        .unwrap();
    let http = reqwest::blocking::Client::new();
    let url = format!("{base}/api/users/{}/locale", ann.id.0);
    let before: serde_json::Value = http.get(&url).send().unwrap().json().unwrap();
    assert_eq!(before, serde_json::json!({"language": "en", "time_zone": "UTC"}));
    let saved = http
        .put(&url)
        .json(&serde_json::json!({"language": "pl-PL", "time_zone": "Europe/Warsaw"}))
        .send()
        .unwrap();
    assert_eq!(saved.status().as_u16(), 200);
    let refused = http
        .put(&url)
        .json(&serde_json::json!({"language": "ru", "time_zone": "Europe/Atlantis"}))
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let error = refused.text().unwrap();
    assert!(error.contains("Europe/Atlantis"), "{error}");
    let after: serde_json::Value = http.get(&url).send().unwrap().json().unwrap();
    assert_eq!(after["time_zone"], "Europe/Warsaw");
    // The plugin's pages follow: Polish title.
    let view: serde_json::Value = http
        .get(format!(
            "{base}/api/users/{}/plugins/google-contacts/settings",
            ann.id.0
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(view["title"], "Kontakty Google");
    let notices: serde_json::Value = http
        .get(format!("{base}/api/users/{}/notices", ann.id.0))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(notices, serde_json::json!([]));
    let page = http
        .get(format!("{base}/ui/users/{}/notifications", ann.id.0))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("<span id=\"notice-count\">0</span>"), "{page}");
    assert!(page.contains("<html lang=\"pl-PL\">"), "{page}");
}
