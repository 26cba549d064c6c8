//! Security properties, end to end through host-sim and the real library: tokens stay in the
//! secret store, the mapping file is private, the OAuth flow refuses forged, foreign and replayed
//! callbacks, plain-http endpoints off this machine are refused before any call, users reach
//! only their own filters, bindings and visible contacts, and a panic in any hook stays inside
//! the plugin.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::PathBuf;

use abi::{ActionOutcome, ContactsPermission, PluginErrorKind, SettingsPage, UserId};
use host_sim::crm::Visibility;
use serde_json::json;
use tests::{approve_consent, contact, google_config, GoogleWorld, World, PLUGIN};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// One sign-in in progress, played step by step so tests can tamper between the steps.
struct SignIn {
    auth_url: String,
    state: String,
}

impl SignIn {
    /// The user clicks "Connect a Google account".
    fn start(g: &GoogleWorld, user: UserId) -> SignIn {
        let outcome = g.action(user, SettingsPage::Integration, "connect", &[]);
        let auth_url = outcome
            .redirect_to
            .into_option()
            .unwrap_or_else(|| panic!("connect did not redirect: {}", outcome.message))
            .into_string();
        let state = query(&auth_url, "state").expect("state in the authorization URL");
        SignIn { auth_url, state }
    }

    /// The user allows access on Google's consent page; returns the authorization code Google
    /// put on the redirect back (the state on it is this sign-in's).
    fn consent(&self, email: &str) -> String {
        let location = approve_consent(&self.auth_url, email);
        assert_eq!(query(&location, "state").as_deref(), Some(self.state.as_str()));
        query(&location, "code").expect("code on the redirect back")
    }
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn callback(g: &GoogleWorld, user: UserId, code: &str, state: &str) -> ActionOutcome {
    g.action(
        user,
        SettingsPage::Integration,
        "oauth_callback",
        &[("code", code), ("state", state)],
    )
}

/// Keys of the secret store holding a Google account's tokens (the host keeps each plugin's
/// secrets under its name).
fn token_keys(g: &GoogleWorld) -> Vec<String> {
    let prefix = format!("{PLUGIN}/google_tokens/");
    g.sim()
        .secrets()
        .keys()
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .collect()
}

fn pending_key(state: &str) -> String {
    format!("{PLUGIN}/oauth_pending/{state}")
}

fn page(g: &GoogleWorld, user: UserId, page: SettingsPage) -> String {
    format!(
        "{:?}",
        g.sim()
            .render_settings(PLUGIN, user, page)
            .expect("the settings page renders")
    )
}

fn assert_refused(outcome: &ActionOutcome, expected: &str) {
    assert_eq!(outcome.tone, abi::Tone::Error, "{}", outcome.message);
    assert!(
        outcome.message.contains(expected),
        "expected \"{expected}\" in: {}",
        outcome.message
    );
}

// ----- tokens never leave the secret store ----------------------------------------------------

/// Every secret the store holds now: each stored value whole, and each string inside it that is
/// a token or a PKCE verifier (a leak would quote those, not the JSON around them).
fn secret_values(g: &GoogleWorld) -> BTreeSet<String> {
    let store = g.sim().secrets();
    let mut found = BTreeSet::new();
    for key in store.keys() {
        let Some(value) = store.get(&key) else { continue };
        if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&value) {
            for name in ["access_token", "refresh_token", "verifier"] {
                if let Some(s) = fields.get(name).and_then(|v| v.as_str()) {
                    found.insert(s.to_string());
                }
            }
        }
        found.insert(value);
    }
    found
}

/// The plugin's SQLite files (the mapping file, the outbox file) with their journals.
fn mapping_files(g: &GoogleWorld) -> Vec<PathBuf> {
    let dir = g.sim().plugin_data_dir(PLUGIN);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".sqlite3"))
        })
        .collect();
    files.sort();
    files
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn tokens_never_appear_in_logs_errors_views_or_the_mapping_file() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let mut ids = Vec::new();
    for i in 0..3 {
        let c = contact(
            "Given",
            &format!("Family{i}"),
            &format!("p{i}@example.org"),
            "vip",
        );
        ids.push(
            g.sim()
                .create_contact(ann.id, c, Visibility::Everyone)
                .unwrap()
                .id,
        );
    }
    let filter = g.filter(ann.id, "VIP", "vip");
    let mut secrets = BTreeSet::new();
    let mut outcomes = Vec::new();

    // Connect step by step, so the PKCE verifier is seen while it is pending.
    let sign_in = SignIn::start(&g, ann.id);
    secrets.extend(secret_values(&g));
    let code = sign_in.consent(ALICE);
    secrets.insert(code.clone());
    outcomes.push(callback(&g, ann.id, &code, &sign_in.state));
    secrets.extend(secret_values(&g));
    outcomes.push(g.enable(ann.id, filter.id, ALICE, &[]));
    g.settle();
    assert_eq!(g.members(ALICE, &g.group(ALICE, "VIP").unwrap()).len(), 3);

    // Google stops accepting the access token: the plugin refreshes it (a new token to keep out).
    let before_refresh = secret_values(&g);
    g.control.expire_access_tokens(Some(ALICE));
    let mut c = g.sim().crm().contact(ids[0]).unwrap().contact;
    c.position = "Buyer".into();
    g.sim().update_contact(ann.id, c).unwrap();
    g.settle();
    let after_refresh = secret_values(&g);
    assert_ne!(
        before_refresh, after_refresh,
        "the access token was not refreshed"
    );
    secrets.extend(after_refresh);

    // The grant is revoked: the account needs a reconnect, and the error paths run.
    g.control.revoke_tokens(ALICE);
    g.control.expire_access_tokens(Some(ALICE));
    let mut c = g.sim().crm().contact(ids[1]).unwrap().contact;
    c.position = "Owner".into();
    g.sim().update_contact(ann.id, c).unwrap();
    g.settle();
    g.tick(6 * 60_000);
    outcomes.push(g.action(ann.id, SettingsPage::Filter(filter.id), "sync_now", &[]));
    g.settle();
    let integration = page(&g, ann.id, SettingsPage::Integration);
    assert!(integration.contains("reconnect needed"), "{integration}");
    secrets.extend(secret_values(&g));
    secrets.insert(g.google.config().client_secret);
    // Short strings would match by chance; the fake's tokens and secret are all longer.
    secrets.retain(|s| s.len() >= 12);
    assert!(
        secrets.len() >= 5,
        "too few secrets seen to prove anything: {}",
        secrets.len()
    );

    let mut texts: Vec<(String, String)> = Vec::new();
    for line in g.sim().logbook().lines() {
        texts.push(("log line".into(), format!("{} {}", line.target, line.message)));
    }
    assert!(texts.len() > 20, "the logbook is suspiciously short");
    for e in g.sim().hook_errors() {
        texts.push(("hook error".into(), e));
    }
    for o in &outcomes {
        texts.push(("action outcome".into(), format!("{o:?}")));
    }
    for p in [SettingsPage::Integration, SettingsPage::Filter(filter.id)] {
        texts.push(("settings view".into(), page(&g, ann.id, p)));
    }
    for (what, text) in &texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret appears in a {what}: {text}"
            );
        }
    }
    let files = mapping_files(&g);
    assert!(!files.is_empty(), "no mapping file");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for secret in &secrets {
            assert!(
                !contains_bytes(&bytes, secret.as_bytes()),
                "a secret is in {}",
                file.display()
            );
        }
    }
}

#[test]
fn the_mapping_file_and_its_journal_are_readable_by_the_crm_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    g.add_vip_contact(ann.id);
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    let files = mapping_files(&g);
    assert!(
        files.iter().any(|f| f.ends_with("google-contacts.sqlite3")),
        "{files:?}"
    );
    for file in files {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
    }
}

// ----- the OAuth flow -------------------------------------------------------------------------

#[test]
fn a_callback_with_a_forged_or_missing_state_is_refused_and_connects_nothing() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let sign_in = SignIn::start(&g, ann.id);
    let code = sign_in.consent(ALICE);
    let mut forged = sign_in.state.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let unknown = "This Google sign-in link is unknown or was already used";
    for state in [
        forged.as_str(),
        "",
        "../google_tokens/alice@example.com",
        "oauth_pending/x",
        &"A".repeat(10_000),
    ] {
        assert_refused(&callback(&g, ann.id, &code, state), unknown);
    }
    let missing = g.action(
        ann.id,
        SettingsPage::Integration,
        "oauth_callback",
        &[("code", &code)],
    );
    assert_refused(&missing, unknown);
    assert!(token_keys(&g).is_empty(), "{:?}", token_keys(&g));
    assert!(!page(&g, ann.id, SettingsPage::Integration).contains(ALICE));
    // The refusals were about the state: the genuine callback still works.
    let genuine = callback(&g, ann.id, &code, &sign_in.state);
    assert!(
        genuine.message.contains("Connected the Google account"),
        "{}",
        genuine.message
    );
    assert_eq!(token_keys(&g).len(), 1);
}

#[test]
fn a_callback_after_the_sign_in_expired_is_refused() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let sign_in = SignIn::start(&g, ann.id);
    let code = sign_in.consent(ALICE);
    g.sim().advance(11 * 60_000);
    assert_refused(
        &callback(&g, ann.id, &code, &sign_in.state),
        "took too long and expired",
    );
    assert!(token_keys(&g).is_empty(), "{:?}", token_keys(&g));
}

#[test]
fn a_callback_started_by_another_crm_user_is_refused() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let mallory = g.user("Mallory", ContactsPermission::Edit);
    let sign_in = SignIn::start(&g, ann.id);
    let code = sign_in.consent(ALICE);
    let stolen = callback(&g, mallory.id, &code, &sign_in.state);
    assert_refused(&stolen, "started by another CRM user");
    assert!(token_keys(&g).is_empty(), "{:?}", token_keys(&g));
    assert!(!page(&g, mallory.id, SettingsPage::Integration).contains(ALICE));
    // Mallory cannot use the account either.
    let filter = g.filter(mallory.id, "Mine", "vip");
    assert_refused(
        &g.enable(mallory.id, filter.id, ALICE, &[]),
        "Choose one of your connected Google accounts",
    );
    // The sign-in stays Ann's to finish.
    let own = callback(&g, ann.id, &code, &sign_in.state);
    assert!(
        own.message.contains("Connected the Google account"),
        "{}",
        own.message
    );
    assert_eq!(token_keys(&g).len(), 1);
    assert!(!page(&g, mallory.id, SettingsPage::Integration).contains(ALICE));
}

#[test]
fn a_replayed_callback_or_authorization_code_is_refused() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let first = SignIn::start(&g, ann.id);
    let first_pending = g
        .sim()
        .secrets()
        .get(&pending_key(&first.state))
        .expect("pending sign-in stored");
    let code = first.consent(ALICE);
    let ok = callback(&g, ann.id, &code, &first.state);
    assert!(ok.message.contains("Connected"), "{}", ok.message);
    let tokens = g.sim().secrets().get(&token_keys(&g)[0]).unwrap();

    // The same redirect opened again: its state was used up.
    assert_refused(
        &callback(&g, ann.id, &code, &first.state),
        "unknown or was already used",
    );
    // The same code under a fresh state, with the code's own PKCE verifier planted in it (as if
    // the attacker had it too): Google refuses the used code itself.
    let second = SignIn::start(&g, ann.id);
    g.sim()
        .secrets()
        .set(&pending_key(&second.state), &first_pending)
        .unwrap();
    assert_refused(
        &callback(&g, ann.id, &code, &second.state),
        "the sign-in code was refused or already used",
    );
    assert_eq!(g.sim().secrets().get(&token_keys(&g)[0]).unwrap(), tokens);
}

#[test]
fn swapping_codes_between_two_sign_ins_fails_the_pkce_check() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let a = SignIn::start(&g, ann.id);
    let b = SignIn::start(&g, ann.id);
    // Each sign-in carries its own S256 challenge, never the verifier itself.
    for s in [&a, &b] {
        assert_eq!(
            query(&s.auth_url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        let pending = g.sim().secrets().get(&pending_key(&s.state)).unwrap();
        let verifier = serde_json::from_str::<serde_json::Value>(&pending).unwrap()["verifier"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(verifier.len() >= 43, "{verifier}");
        assert!(!s.auth_url.contains(&verifier));
    }
    assert_ne!(
        query(&a.auth_url, "code_challenge"),
        query(&b.auth_url, "code_challenge")
    );
    let code_a = a.consent(ALICE);
    let code_b = b.consent(ALICE);
    // Each code goes back with the other sign-in's state, so with the other's PKCE verifier.
    assert_refused(
        &callback(&g, ann.id, &code_a, &b.state),
        "the sign-in code was refused",
    );
    assert_refused(
        &callback(&g, ann.id, &code_b, &a.state),
        "the sign-in code was refused",
    );
    assert!(token_keys(&g).is_empty(), "{:?}", token_keys(&g));

    // What the plugin cannot show (Google's reason) checked at the fake's token endpoint: an
    // otherwise valid exchange with another verifier is refused for the verifier.
    let c = SignIn::start(&g, ann.id);
    let code_c = c.consent(ALICE);
    let cfg = g.google.config();
    let redirect_uri = query(&c.auth_url, "redirect_uri").unwrap();
    let answer = http()
        .post(format!("{}/token", g.google.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code_c.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", cfg.client_id.as_str()),
            ("client_secret", cfg.client_secret.as_str()),
            ("code_verifier", &"x".repeat(64)),
        ])
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body.to_string().contains("code verifier"), "{body}");
}

// ----- endpoints --------------------------------------------------------------------------------

/// An address of this machine that is not loopback (the one its default route leaves from).
/// UDP `connect` only picks a route; it sends nothing.
fn non_loopback_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_plain_http_google_endpoint_off_this_machine_is_refused_before_any_call() {
    let google = host_sim::fake_google::FakeGoogle::start("127.0.0.1:0", Default::default()).unwrap();
    // A listener on a non-loopback address of this machine: the endpoint is real and would
    // answer, so only the plugin's own check can keep the connection from happening.
    let listener = non_loopback_address().and_then(|ip| TcpListener::bind((ip, 0)).ok());
    let target = match &listener {
        Some(l) => format!("http://{}", l.local_addr().unwrap()),
        None => "http://example.com".to_string(),
    };
    for key in ["google.people_url", "google.token_url"] {
        let world = World::start(|c| {
            c.plugin_config.extend(google_config(&google.base_url()));
            let url = if key == "google.token_url" {
                format!("{target}/token")
            } else {
                target.clone()
            };
            c.plugin_config.insert(key.into(), url);
        });
        let sim = &world.sim;
        let ann = sim
            .crm()
            .add_user(
                "Ann",
                &[abi::FEATURE_GOOGLE_CONTACTS],
                ContactsPermission::Edit,
                &[],
            )
            .unwrap();
        let view = format!(
            "{:?}",
            sim.render_settings(PLUGIN, ann.id, SettingsPage::Integration)
                .unwrap()
        );
        assert!(view.contains("Google cannot be used"), "{view}");
        assert!(view.contains(key) && view.contains("plain http"), "{view}");
        let connect = sim
            .settings_action(
                PLUGIN,
                ann.id,
                SettingsPage::Integration,
                abi::SettingsAction {
                    name: "connect".into(),
                    fields: Default::default(),
                },
            )
            .unwrap();
        assert!(connect.redirect_to.is_none(), "{connect:?}");
        assert!(connect.message.contains(key), "{}", connect.message);
        sim.create_contact(
            ann.id,
            contact("A", "B", "a@example.org", "x"),
            Visibility::Everyone,
        )
        .unwrap();
        sim.advance(10 * 60_000);
        assert!(sim.wait_idle(std::time::Duration::from_secs(30)));
    }
    assert_eq!(google.control().stats().total, 0, "the fake Google was called");
    if let Some(listener) = listener {
        listener.set_nonblocking(true).unwrap();
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("the plain-http endpoint was contacted: {other:?}"),
        }
    }
}

// ----- who may do what --------------------------------------------------------------------------

#[test]
fn a_user_cannot_enable_sync_on_another_users_filter() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let bob = g.user("Bob", ContactsPermission::Edit);
    g.add_vip_contact(ann.id);
    let filter = g.filter(ann.id, "Ann's VIP", "vip");
    g.connect(bob.id, BOB);
    let by_field = g.enable(bob.id, filter.id, BOB, &[]);
    assert_refused(&by_field, "Only the filter's author");
    // The same through Bob's own page, naming Ann's filter in the form.
    let own = g.filter(bob.id, "Bob's", "other");
    let filter_text = filter.id.0.to_string();
    let via_own_page = g.action(
        bob.id,
        SettingsPage::Filter(own.id),
        "enable",
        &[("account", BOB), ("filter", &filter_text)],
    );
    assert_refused(&via_own_page, "Only the filter's author");
    g.settle();
    assert!(g.google_contacts(BOB).is_empty());
    assert!(g.group(BOB, "Ann's VIP").is_none());
}

#[test]
fn a_contact_the_binding_user_cannot_see_never_reaches_google() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let bob = g.user("Bob", ContactsPermission::Edit);
    g.add_contact(ann.id, contact("Open", "One", "open@example.org", "vip"));
    let secret = g
        .sim()
        .create_contact(
            bob.id,
            contact("Hidden", "Two", "hidden@example.org", "vip"),
            Visibility::Owner,
        )
        .unwrap();
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    // Bob edits it: the change event must not leak it either.
    let mut c = secret.clone();
    c.notes = "private".into();
    g.sim().update_contact(bob.id, c).unwrap();
    g.settle();
    g.tick(6 * 60_000);
    let all = serde_json::to_string(&g.google_contacts(ALICE)).unwrap();
    assert!(
        all.contains("open@example.org"),
        "the visible contact was not synced: {all}"
    );
    assert!(
        !all.contains("hidden@example.org") && !all.contains("Hidden"),
        "{all}"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}

#[test]
fn a_contact_the_binding_user_loses_access_to_leaves_the_group() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let bob = g.user("Bob", ContactsPermission::Edit);
    let shared = g.add_contact(bob.id, contact("Shared", "Once", "shared@example.org", "vip"));
    g.add_contact(ann.id, contact("Own", "One", "own@example.org", "vip"));
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    let group = g.group(ALICE, "VIP").unwrap();
    assert_eq!(g.members(ALICE, &group).len(), 2);
    // Bob makes it private: Ann may no longer see it, so her Google group must not keep it.
    g.sim().set_access(shared.id, bob.id, Visibility::Owner).unwrap();
    g.settle();
    g.tick(6 * 60_000);
    let members = serde_json::to_string(&g.members(ALICE, &group)).unwrap();
    assert!(members.contains("own@example.org"), "{members}");
    assert!(!members.contains("shared@example.org"), "{members}");
    // And the CRM contact is untouched.
    assert_eq!(
        g.sim()
            .crm()
            .contact(shared.id)
            .unwrap()
            .contact
            .name
            .given
            .as_str(),
        "Shared"
    );
}

#[test]
fn a_view_only_user_cannot_write_to_the_crm_through_google() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let owner = g.user("Owner", ContactsPermission::Edit);
    let viewer = g.user("Viewer", ContactsPermission::View);
    let c = g.add_contact(owner.id, contact("Kept", "AsIs", "kept@example.org", "vip"));
    let filter = g.filter(viewer.id, "Seen", "vip");
    g.connect(viewer.id, ALICE);
    let enabled = g.enable(viewer.id, filter.id, ALICE, &[("direction", "two_way")]);
    assert!(
        enabled.message.contains("from the CRM to Google only"),
        "{}",
        enabled.message
    );
    g.settle();
    let group = g.group(ALICE, "Seen").unwrap();
    let person = g
        .members(ALICE, &group)
        .pop()
        .expect("the contact reached Google");
    let rn = person["resourceName"].as_str().unwrap().to_string();
    // Someone edits it in Google and adds a new contact to the group.
    g.control
        .edit_contact(
            ALICE,
            &rn,
            &json!({"names": [{"givenName": "Changed", "familyName": "InGoogle"}]}),
        )
        .unwrap();
    let added = g
        .control
        .create_contact(ALICE, &json!({"names": [{"givenName": "New"}]}))
        .unwrap();
    let added_rn = added["resourceName"].as_str().unwrap().to_string();
    g.control
        .modify_group_members(ALICE, &group, &[added_rn.as_str()], &[])
        .unwrap();
    // Asking for two-way again does not lift the restriction either.
    let update = g.action(
        viewer.id,
        SettingsPage::Filter(filter.id),
        "update_options",
        &[("direction", "google_to_crm")],
    );
    assert!(update.message.contains("Options saved"), "{}", update.message);
    g.settle();
    g.tick(6 * 60_000);
    assert_eq!(
        g.sim().crm().contact(c.id).unwrap().contact.name.given.as_str(),
        "Kept"
    );
    assert_eq!(
        g.sim().plugin_writes(),
        0,
        "the plugin wrote to the CRM for a view-only user"
    );
    assert_eq!(g.sim().crm().contact_count(), 1);
}

#[test]
fn settings_actions_on_another_users_binding_are_refused() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let mallory = g.user("Mallory", ContactsPermission::Edit);
    g.add_vip_contact(ann.id);
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.connect(mallory.id, BOB);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    let before = page(&g, ann.id, SettingsPage::Filter(filter.id));
    let writes = g.writes();
    let filter_text = filter.id.0.to_string();
    let mallorys = g.filter(mallory.id, "Mine", "none");
    for (name, extra) in [
        ("sync_now", vec![]),
        ("disable", vec![]),
        ("confirm_removals", vec![]),
        (
            "update_options",
            vec![("direction", "google_to_crm"), ("group_mode", "my_contacts")],
        ),
    ] {
        // Asked on Ann's filter page, and from Mallory's own page naming Ann's filter.
        let mut fields = vec![("filter", filter_text.as_str())];
        fields.extend(extra.iter().copied());
        for (page_of, fields) in [
            (SettingsPage::Filter(filter.id), &extra),
            (SettingsPage::Filter(mallorys.id), &fields),
        ] {
            let outcome = g.action(mallory.id, page_of, name, fields);
            assert_refused(&outcome, "Only the filter's author");
        }
    }
    assert_refused(
        &g.action(
            mallory.id,
            SettingsPage::Integration,
            "disconnect",
            &[("account", ALICE)],
        ),
        "not connected to your CRM user",
    );
    g.settle();
    assert_eq!(page(&g, ann.id, SettingsPage::Filter(filter.id)), before);
    assert_eq!(g.writes(), writes);
    assert!(!token_keys(&g).is_empty());
    assert!(page(&g, ann.id, SettingsPage::Integration).contains(ALICE));
}

// ----- panics stay inside the plugin ------------------------------------------------------------

#[test]
fn a_panic_in_any_hook_is_caught_and_the_host_serves_the_next_hook() {
    for hook in [
        "on_filter_saved",
        "on_contact_changed",
        "on_tick",
        "render_settings",
        "handle_settings_action",
        "run_job",
        "shutdown",
    ] {
        let world = World::start(|c| {
            c.plugin_config.insert("debug.panic_in".into(), hook.into());
        });
        let sim = &world.sim;
        let ann = sim
            .crm()
            .add_user(
                "Ann",
                &[abi::FEATURE_GOOGLE_CONTACTS],
                ContactsPermission::Edit,
                &[],
            )
            .unwrap();
        let render = || sim.render_settings(PLUGIN, ann.id, SettingsPage::Integration);
        let act = || {
            let action = abi::SettingsAction {
                name: "no-such-action".into(),
                fields: Default::default(),
            };
            sim.settings_action(PLUGIN, ann.id, SettingsPage::Integration, action)
        };
        // Hooks whose result the caller sees return the Panicked error itself.
        let returned = match hook {
            "render_settings" => render().err(),
            "handle_settings_action" => act().err(),
            "on_filter_saved" => {
                sim.save_filter(abi::SavedFilter {
                    id: abi::FilterId(0),
                    name: "F".into(),
                    author: ann.id,
                    saved: true,
                    criteria: Default::default(),
                })
                .unwrap();
                None
            }
            "on_contact_changed" | "run_job" => {
                sim.create_contact(ann.id, abi::Contact::default(), Visibility::Everyone)
                    .unwrap();
                assert!(sim.wait_idle(std::time::Duration::from_secs(30)));
                None
            }
            "on_tick" => {
                sim.advance(60_000);
                None
            }
            _ => {
                sim.shutdown();
                None
            }
        };
        if let Some(err) = &returned {
            assert_eq!(err.kind, PluginErrorKind::Panicked, "{hook}: {err:?}");
        }
        // The guard's message, which only its panic branch writes, reached the host.
        let guarded = format!("{hook} failed: The Google Contacts plugin hit an internal error in {hook}");
        assert!(
            sim.hook_errors()
                .iter()
                .any(|e| e.starts_with(&format!("{PLUGIN}: {guarded}"))),
            "{hook}: {:?}",
            sim.hook_errors()
        );
        if hook != "shutdown" {
            // The plugin still answers the next hooks.
            if hook != "render_settings" {
                assert!(render().is_ok(), "{hook}: render_settings failed after the panic");
            }
            if hook != "handle_settings_action" {
                let outcome = act().unwrap_or_else(|e| panic!("{hook}: the next action failed: {e:?}"));
                assert!(outcome.message.contains("no-such-action"));
            }
        }
    }
}
