//! The plugin's Google side over real HTTP against the fake: the OAuth connect flow, token
//! refresh, reconnect-needed, and riding out 429s, 5xx bursts and hangs.

use std::time::{Duration, Instant};

use abi::{ContactsPermission, SettingsPage};
use host_sim::crm::Visibility;
use host_sim::fake_google::{Fault, FaultRule};
use tests::{contact, GoogleWorld, PLUGIN};

const ALICE: &str = "alice@example.com";

fn integration_page(g: &GoogleWorld, user: abi::UserId) -> String {
    format!(
        "{:?}",
        g.sim()
            .render_settings(PLUGIN, user, SettingsPage::Integration)
            .unwrap()
    )
}

/// A user with `n` contacts in a filter, Alice connected and sync enabled.
fn synced(g: &GoogleWorld, n: usize) -> (abi::User, abi::SavedFilter) {
    let user = g.user("Ann", ContactsPermission::Edit);
    for i in 0..n {
        let c = contact(&format!("G{i}"), "F", &format!("p{i}@example.org"), "vip");
        g.sim().create_contact(user.id, c, Visibility::Everyone).unwrap();
    }
    let filter = g.filter(user.id, "VIP", "vip");
    g.connect(user.id, ALICE);
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    (user, filter)
}

/// A person in Google's web UI edits the notes of one synced contact.
fn edit_notes_in_google(g: &GoogleWorld, notes: &str) {
    let person = &g.google_contacts(ALICE)[0];
    let rn = person["resourceName"].as_str().expect("a resource name");
    let patch = serde_json::json!({"biographies": [{"value": notes, "contentType": "TEXT_PLAIN"}]});
    g.control
        .edit_contact(ALICE, rn, &patch)
        .expect("the edit is accepted");
}

/// The non-empty notes of every CRM contact.
fn crm_notes(g: &GoogleWorld) -> Vec<String> {
    g.sim()
        .crm()
        .all_contacts()
        .into_iter()
        .map(|r| r.contact.notes.to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn connecting_stores_tokens_in_the_host_secret_store_and_shows_the_email() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let outcome = g.connect(user.id, ALICE);
    assert_eq!(
        outcome.message.as_str(),
        "Connected the Google account alice@example.com."
    );
    let page = integration_page(&g, user.id);
    assert!(
        page.contains("alice@example.com") && page.contains("connected"),
        "{page}"
    );
    let keys = g.sim().secrets().keys();
    assert!(
        keys.iter()
            .any(|k| k == "google-contacts/google_tokens/alice@example.com"),
        "{keys:?}"
    );
}

#[test]
fn several_google_accounts_per_user_are_listed_by_email() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    g.connect(user.id, ALICE);
    g.connect(user.id, "bob@example.com");
    let page = integration_page(&g, user.id);
    assert!(
        page.contains("alice@example.com") && page.contains("bob@example.com"),
        "{page}"
    );
}

#[test]
fn a_callback_with_a_wrong_state_is_rejected() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let fields = [("code", "4/0forged"), ("state", "not-the-state-we-issued-123")];
    let outcome = g.action(user.id, SettingsPage::Integration, "oauth_callback", &fields);
    assert!(
        outcome
            .message
            .contains("This Google sign-in link is unknown or was already used"),
        "{}",
        outcome.message
    );
    assert!(g
        .sim()
        .secrets()
        .keys()
        .iter()
        .all(|k| !k.contains("google_tokens")));
}

#[test]
fn a_revoked_refresh_token_marks_the_account_reconnect_needed_and_pauses_its_sync() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let (user, filter) = synced(&g, 3);
    g.control.revoke_tokens(ALICE);
    g.control.expire_access_tokens(Some(ALICE));
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    let page = integration_page(&g, user.id);
    assert!(page.contains("reconnect needed"), "{page}");
    let writes = g.writes();
    g.tick(10 * 60_000);
    assert_eq!(g.writes(), writes, "a paused account kept syncing");
    // Reconnecting resumes it.
    g.connect(user.id, ALICE);
    g.settle();
    assert!(integration_page(&g, user.id).contains("connected"));
}

#[test]
fn an_access_token_expiring_mid_listing_is_refreshed_transparently() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let (user, filter) = synced(&g, 2500);
    // A full listing takes three pages; every access token dies just before the second one.
    g.control.expire_sync_tokens(Some(ALICE));
    g.control
        .add_fault(FaultRule::script(
            Some("people.people.connections.list"),
            vec![Fault::Ok, Fault::ExpireAccessTokens],
        ))
        .unwrap();
    let before = g.control.stats();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    let after = g.control.stats();
    assert!(
        g.control.faults().is_empty(),
        "the listing never reached its second page"
    );
    assert_eq!(
        after.count("oauth2.token") - before.count("oauth2.token"),
        1,
        "exactly one refresh"
    );
    assert_eq!(
        after.count("people.people.connections.list") - before.count("people.people.connections.list"),
        5,
        "the expired delta, three pages, and the refused page again"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    g.last_run(user.id, filter.id).assert_clean();
    assert_eq!(
        after.writes, before.writes,
        "a re-listing of synced contacts writes nothing"
    );
}

#[test]
fn a_429_with_retry_after_is_waited_out_and_the_call_succeeds() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let (user, filter) = synced(&g, 2);
    g.control
        .add_fault(FaultRule::script(
            Some("people.people.connections.list"),
            vec![Fault::RateLimit {
                retry_after_secs: Some(1),
            }],
        ))
        .unwrap();
    edit_notes_in_google(&g, "Met at the fair");
    let listings = g.control.stats().count("people.people.connections.list");
    let started = Instant::now();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert!(g.control.faults().is_empty(), "the 429 was never sent");
    assert_eq!(
        g.control.stats().count("people.people.connections.list") - listings,
        2,
        "the refused listing is asked again once"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    g.last_run(user.id, filter.id).assert_clean();
    assert_eq!(
        crm_notes(&g),
        ["Met at the fair"],
        "the run went on after the 429"
    );
}

#[test]
fn a_503_burst_is_survived() {
    let g = GoogleWorld::start(
        |_| {},
        |c| {
            c.plugin_config.insert("google.retry_base_ms".into(), "50".into());
        },
    );
    let user = g.user("Ann", ContactsPermission::Edit);
    for i in 0..3 {
        g.sim()
            .create_contact(
                user.id,
                contact(&format!("G{i}"), "F", &format!("p{i}@x.org"), "vip"),
                Visibility::Everyone,
            )
            .unwrap();
    }
    let filter = g.filter(user.id, "VIP", "vip");
    g.connect(user.id, ALICE);
    g.control
        .add_fault(FaultRule::script(
            None,
            vec![Fault::Unavailable, Fault::Unavailable, Fault::Internal],
        ))
        .unwrap();
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    assert!(g.control.faults().is_empty(), "the burst was never sent");
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert_eq!(g.google_contacts(ALICE).len(), 3);
    let run = g.last_run(user.id, filter.id);
    run.assert_clean();
    assert_eq!(run.counts.created_in_google, 3, "{run:?}");
}

#[test]
fn a_hang_is_cut_by_the_timeout_and_retried() {
    let g = GoogleWorld::start(
        |_| {},
        |c| {
            c.plugin_config.insert("google.timeout_ms".into(), "500".into());
            c.plugin_config.insert("google.retry_base_ms".into(), "50".into());
        },
    );
    let (user, filter) = synced(&g, 2);
    g.control
        .add_fault(FaultRule::script(
            Some("people.people.connections.list"),
            vec![Fault::Hang { ms: 3000 }],
        ))
        .unwrap();
    edit_notes_in_google(&g, "Met at the fair");
    let listings = g.control.stats().count("people.people.connections.list");
    let started = Instant::now();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the hang was waited out instead of cut"
    );
    assert!(g.control.faults().is_empty(), "the hang was never sent");
    assert_eq!(
        g.control.stats().count("people.people.connections.list") - listings,
        2,
        "the cut listing is asked again once"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    g.last_run(user.id, filter.id).assert_clean();
    assert_eq!(
        crm_notes(&g),
        ["Met at the fair"],
        "the run went on after the hang"
    );
}
