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
    g.enable(user.id, filter.id, ALICE, &[]);
    g.settle();
    (user, filter)
}

fn last_run(g: &GoogleWorld, user: abi::UserId, filter: abi::FilterId) -> String {
    format!(
        "{:?}",
        g.sim()
            .render_settings(PLUGIN, user, SettingsPage::Filter(filter))
            .unwrap()
    )
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
    // The listing takes three pages; the access token dies after the first.
    g.control
        .add_fault(FaultRule::script(
            Some("people.people.connections.list"),
            vec![Fault::Ok],
        ))
        .unwrap();
    g.control.expire_access_tokens(Some(ALICE));
    g.control.expire_sync_tokens(Some(ALICE));
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert!(last_run(&g, user.id, filter.id).contains("0 errors"));
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
    let started = Instant::now();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
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
    g.enable(user.id, filter.id, ALICE, &[]);
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert_eq!(g.google_contacts(ALICE).len(), 3);
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
    let started = Instant::now();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the hang was waited out instead of cut"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}
