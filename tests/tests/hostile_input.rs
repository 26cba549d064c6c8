//! Hostile input, end to end through host-sim and the real library: SQL-looking text, huge
//! values, NUL and control characters and odd Unicode in contacts, filter names and settings
//! fields. The sync completes, what Google can hold round-trips, what it refuses is reported per
//! contact, the mapping file stays whole, and every settings action answers with a message.

use abi::{Contact, ContactId, ContactsPermission, SettingsPage, TypedValue, Widget};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use serde_json::json;
use tests::{contact, GoogleWorld, PLUGIN};

const ALICE: &str = "alice@example.com";
const SQL_1: &str = "'; DROP TABLE contact_states; --";
const SQL_2: &str = "Robert'); DELETE FROM outbox;--";
const TABLES: &[&str] = &[
    "accounts",
    "bindings",
    "contact_states",
    "remote",
    "health",
    "runs",
    "deletions",
    "import_intents",
];

/// The contacts of the hostile-contact test: (what it is, the contact). Each has a unique email
/// (except the one whose emails are the point), so its Google copy can be found.
fn hostile_contacts() -> Vec<(&'static str, Contact)> {
    let with = |email: &str, f: &dyn Fn(&mut Contact)| {
        let mut c = contact("Plain", "Person", email, "vip");
        f(&mut c);
        c
    };
    vec![
        (
            "SQL-looking text",
            with("sql@example.org", &|c| {
                c.name.given = SQL_1.into();
                c.name.family = SQL_2.into();
                c.notes = format!("{SQL_1}\n{SQL_2}").into();
                c.company = SQL_2.into();
            }),
        ),
        (
            "a 100 KB note",
            with("note@example.org", &|c| c.notes = "note ".repeat(20_480).into()),
        ),
        (
            "500 emails",
            with("many0@example.org", &|c| {
                c.emails = (0..500)
                    .map(|i| TypedValue {
                        value: format!("many{i}@example.org").into(),
                        kind: "work".into(),
                        primary: i == 0,
                    })
                    .collect();
            }),
        ),
        (
            "a 10,000-character name",
            with("long@example.org", &|c| c.name.given = "N".repeat(10_000).into()),
        ),
        (
            "NUL and control characters",
            with("nul@example.org", &|c| {
                c.name.given = "Nul\0Byte".into();
                c.name.family = "Ctl\u{1}\u{7}\u{1b}[31m".into();
                c.notes = "line\r\nline\ttab\0end".into();
            }),
        ),
        (
            "lone combining marks and an RTL override",
            with("unicode@example.org", &|c| {
                c.name.given = "\u{0301}\u{0308}".into();
                c.name.family = "\u{202E}gnp.exe".into();
                c.company = "\u{FEFF}\u{200B}Zero width".into();
            }),
        ),
        ("a plain contact", with("plain@example.org", &|_| {})),
    ]
}

fn page(g: &GoogleWorld, user: abi::UserId, page: SettingsPage) -> abi::SettingsView {
    g.sim()
        .render_settings(PLUGIN, user, page)
        .expect("the settings page renders")
}

/// The health rows of a filter's page: (contact id, state, reason).
fn health(view: &abi::SettingsView) -> Vec<(String, String, String)> {
    view.sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .filter_map(|w| match w {
            Widget::Table { id, rows, .. } if id.as_str() == "health" => Some(rows.clone()),
            _ => None,
        })
        .flatten()
        .map(|row| {
            let cell = |i: usize| row.get(i).map(|c| c.to_string()).unwrap_or_default();
            (cell(0), cell(1), cell(2))
        })
        .collect()
}

fn person_with_email<'a>(people: &'a [serde_json::Value], email: &str) -> Option<&'a serde_json::Value> {
    people.iter().find(|p| {
        p["emailAddresses"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["value"] == email))
    })
}

/// Opens the mapping file as the plugin does (migrations included) and lists its tables.
fn mapping_file_tables(g: &GoogleWorld) -> Vec<String> {
    let store = crm_google_contacts::store::Store::open(&g.sim().plugin_data_dir(PLUGIN))
        .expect("the mapping file opens");
    let conn = store.conn();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let names = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    names.map(|n| n.unwrap()).collect()
}

fn assert_mapping_file_whole(g: &GoogleWorld) {
    let tables = mapping_file_tables(g);
    for table in TABLES {
        assert!(
            tables.iter().any(|t| t == table),
            "table {table} is missing: {tables:?}"
        );
    }
}

#[test]
fn hostile_contacts_sync_and_round_trip() {
    hostile_contacts_sync(GoogleWorld::start(|_| {}, |_| {}), 7);
}

/// Google refuses contacts past its per-account limit (here set to 4 at the fake and not told
/// to the plugin): the refused ones are reported one by one, the others still sync.
#[test]
fn hostile_contacts_google_refuses_are_reported_each_with_a_reason() {
    hostile_contacts_sync(GoogleWorld::start(|c| c.max_contacts_per_account = 4, |_| {}), 4);
}

/// Syncs the hostile contacts; at least `min_synced` must reach Google, and every other one must
/// have a health row with a reason.
fn hostile_contacts_sync(g: GoogleWorld, min_synced: usize) {
    let ann = g.user("Ann", ContactsPermission::Edit);
    let contacts: Vec<(&str, ContactId, Contact)> = hostile_contacts()
        .into_iter()
        .map(|(what, c)| {
            let created = g.sim().create_contact(ann.id, c, Visibility::Everyone).unwrap();
            (what, created.id, created)
        })
        .collect();
    let filter = g.filter(ann.id, "Hostile", "vip");
    g.connect(ann.id, ALICE);
    let enabled = g.enable(ann.id, filter.id, ALICE, &[]);
    assert!(enabled.message.contains("Sync enabled"), "{}", enabled.message);
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());

    let people = g.google_contacts(ALICE);
    let rows = health(&page(&g, ann.id, SettingsPage::Filter(filter.id)));
    let mut synced = 0;
    for (what, id, c) in &contacts {
        let email = c.emails[0].value.as_str();
        match person_with_email(&people, email) {
            // Google holds it: what it holds is what the CRM has (Google may trim edges).
            Some(p) => {
                synced += 1;
                let given = p["names"][0]["givenName"].as_str().unwrap_or("");
                assert_eq!(
                    given.trim(),
                    c.name.given.trim(),
                    "{what}: the name changed on the way"
                );
                if !c.notes.is_empty() {
                    // Line ends are normalized to \n on the way (as Google's own editor does).
                    let note = p["biographies"][0]["value"].as_str().unwrap_or("");
                    let crm_note = c.notes.replace("\r\n", "\n");
                    assert_eq!(
                        note.trim(),
                        crm_note.trim(),
                        "{what}: the note changed on the way"
                    );
                }
                let emails = p["emailAddresses"].as_array().map_or(0, Vec::len);
                assert_eq!(emails, c.emails.len(), "{what}: emails were lost");
            }
            // Google refused it: the contact's health row says so, with a reason.
            None => {
                let row = rows.iter().find(|(contact, _, _)| *contact == id.0.to_string());
                let Some((_, state, reason)) = row else {
                    panic!("{what} is neither in Google nor reported on the filter page: {rows:?}")
                };
                assert!(!reason.is_empty(), "{what} is reported as {state} with no reason");
            }
        }
    }
    assert!(synced >= min_synced, "too little reached Google: {rows:?}");
    if synced < contacts.len() {
        assert_mapping_file_whole(&g);
        return;
    }

    // The other way: hostile text written in Google reaches the CRM unchanged.
    let plain = contacts.iter().find(|(w, _, _)| *w == "a plain contact").unwrap();
    let rn = person_with_email(&people, "plain@example.org").unwrap()["resourceName"]
        .as_str()
        .unwrap()
        .to_string();
    let from_google = format!("{SQL_2} \u{202E}\u{0301} tab\there");
    g.control
        .edit_contact(
            ALICE,
            &rn,
            &json!({"biographies": [{"value": from_google, "contentType": "TEXT_PLAIN"}]}),
        )
        .unwrap();
    g.tick(6 * 60_000);
    let crm = g.sim().crm().contact(plain.1).unwrap().contact;
    assert_eq!(crm.notes.as_str(), from_google);
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert_mapping_file_whole(&g);
}

#[test]
fn hostile_contacts_settle_so_another_sync_writes_nothing() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    for (_, c) in hostile_contacts() {
        g.sim().create_contact(ann.id, c, Visibility::Everyone).unwrap();
    }
    let filter = g.filter(ann.id, "Hostile", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    // A second run may still finish what the first one started (e.g. marking imports).
    g.action(ann.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    let (google, crm) = (g.writes(), g.sim().plugin_writes());
    g.action(ann.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    g.tick(6 * 60_000);
    assert_eq!(
        g.writes(),
        google,
        "hostile values are rewritten to Google on every sync"
    );
    assert_eq!(
        g.sim().plugin_writes(),
        crm,
        "hostile values are rewritten to the CRM on every sync"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}

#[test]
fn hostile_filter_names_become_groups_or_a_clear_error() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    g.connect(ann.id, ALICE);
    let names = [
        SQL_1.to_string(),
        SQL_2.to_string(),
        "Nul\0Ctl\u{1}\u{1b}".to_string(),
        "\u{202E}\u{0301}RTL".to_string(),
        "G".repeat(10_000),
    ];
    let mut filters = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let segment = format!("s{i}");
        let email = format!("f{i}@example.org");
        g.add_contact(ann.id, contact("F", "Member", &email, &segment));
        let filter = g.filter(ann.id, name, &segment);
        let outcome = g.enable(ann.id, filter.id, ALICE, &[]);
        assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
        filters.push((name, filter, email));
    }
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    let people = g.google_contacts(ALICE);
    for (name, filter, email) in &filters {
        let view = page(&g, ann.id, SettingsPage::Filter(filter.id));
        let shown = format!("{view:?}");
        let in_google = person_with_email(&people, email).is_some();
        // Either the group exists and holds the member, or the page says what went wrong.
        match g.group(ALICE, name) {
            Some(group) => assert!(
                g.members(ALICE, &group).len() == 1,
                "filter {:?}: the member is not in its group",
                name.chars().take(40).collect::<String>()
            ),
            None => assert!(
                !in_google || shown.contains("Error") || shown.contains("error"),
                "filter {:?}: no group and no error shown: {}",
                name.chars().take(40).collect::<String>(),
                shown.chars().take(2000).collect::<String>()
            ),
        }
    }
    assert_mapping_file_whole(&g);
}

#[test]
fn absurd_settings_actions_answer_with_a_message_never_a_panic() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let other = g.user("Other", ContactsPermission::Edit);
    g.add_vip_contact(ann.id);
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    let megabyte = "x".repeat(1 << 20);
    let filter_text = filter.id.0.to_string();
    let names = [
        "",
        "no-such-action",
        SQL_1,
        "enable\0",
        "\u{202E}sync_now",
        megabyte.as_str(),
        "connect",
        "oauth_callback",
        "disconnect",
        "activate",
        "enable",
        "update_options",
        "disable",
        "sync_now",
        "confirm_removals",
    ];
    let bad_ids = [
        "abc",
        "-1",
        "1e3",
        "18446744073709551616",
        "",
        "\0",
        "1; DROP TABLE bindings",
        megabyte.as_str(),
    ];
    let mut cases: Vec<Vec<(&str, &str)>> = vec![vec![]];
    for id in bad_ids {
        cases.push(vec![("filter", id)]);
        cases.push(vec![("filter", id), ("account", ALICE)]);
    }
    for field in [
        "account",
        "direction",
        "policy",
        "delete_mode",
        "group_mode",
        "group_name",
        "interval_minutes",
        "custom_fields",
        "code",
        "state",
        "error",
        megabyte.as_str(),
    ] {
        for value in [megabyte.as_str(), SQL_2, "\0\u{1}", "-99999999999999999999"] {
            cases.push(vec![("filter", filter_text.as_str()), (field, value)]);
        }
    }
    cases.push(vec![
        ("group_mode", "existing"),
        ("group_name", megabyte.as_str()),
    ]);
    let mut answered = 0;
    for name in names {
        let cases = cases.iter().filter(|fields| match name {
            // Disconnecting and disabling are real actions when asked properly, and the point is
            // what absurd input does: keep the account and the binding.
            "disconnect" | "disable" => {
                fields.iter().any(|(k, v)| *k == "filter" && bad_ids.contains(v))
                    && !fields.iter().any(|(k, _)| *k == "account")
            }
            // A megabyte action name once is enough (the host copies it for every call).
            n if n.len() > 1000 => fields.is_empty(),
            _ => true,
        });
        for fields in cases {
            for (user, page) in [
                (ann.id, SettingsPage::Integration),
                (ann.id, SettingsPage::Filter(filter.id)),
                (other.id, SettingsPage::Filter(filter.id)),
            ] {
                let action = abi::SettingsAction {
                    name: name.into(),
                    fields: fields
                        .iter()
                        .map(|(n, v)| abi::Field {
                            name: (*n).into(),
                            value: (*v).into(),
                        })
                        .collect::<RVec<_>>(),
                };
                let outcome = g
                    .sim()
                    .settings_action(PLUGIN, user, page, action)
                    .unwrap_or_else(|e| panic!("{name:.40}: the action failed instead of answering: {e:?}"));
                assert!(!outcome.message.is_empty(), "{name:.40} answered with no message");
                assert!(
                    outcome.message.len() < 2_000,
                    "{name:.40} echoed a huge input: {} bytes",
                    outcome.message.len()
                );
                answered += 1;
            }
        }
    }
    assert!(answered > 500, "{answered}");
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    // The binding and the account survived all of it.
    let view = format!("{:?}", page(&g, ann.id, SettingsPage::Filter(filter.id)));
    assert!(
        view.contains("Turn off sync"),
        "{}",
        view.chars().take(2000).collect::<String>()
    );
    let again = g.action(ann.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    assert_eq!(again.message.as_str(), "Sync started.");
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert_mapping_file_whole(&g);
}

/// A log line is one line: text a user typed (an action name, a filter name) must not forge
/// further log lines or fill the log with megabytes.
#[test]
fn user_text_reaches_the_log_bounded_and_on_one_line() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    let forged = "x\n2026-11-23 ERROR host: google-contacts: forged line\0\u{1b}[2J";
    g.filter(ann.id, forged, "vip");
    let huge = "y".repeat(1 << 20);
    for name in [forged, huge.as_str()] {
        g.action(ann.id, SettingsPage::Integration, name, &[]);
    }
    g.settle();
    for line in g.sim().logbook().lines() {
        let text = format!("{} {}", line.target, line.message);
        assert!(text.len() <= 4096, "a {} byte log line: {:.80}", text.len(), text);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\t'),
            "a log line carries control characters: {text:?}"
        );
    }
}

/// A filter may be called like one of Google's system groups ("Starred", "Blocked", …): its
/// contacts go to a group of that name of the user's own, never into the system group (which
/// would star or block them in Google).
#[test]
fn a_filter_named_like_a_system_group_never_fills_the_system_group() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    g.connect(ann.id, ALICE);
    let names = ["Starred", "starred", "Blocked", "Chat contacts", "Friends"];
    for (i, name) in names.iter().enumerate() {
        let segment = format!("s{i}");
        let email = format!("sys{i}@example.org");
        g.add_contact(ann.id, contact("S", "Member", &email, &segment));
        let filter = g.filter(ann.id, name, &segment);
        g.enabled(ann.id, filter.id, ALICE, &[]);
    }
    g.settle();
    let filled: Vec<String> = [
        "contactGroups/starred",
        "contactGroups/blocked",
        "contactGroups/chatBuddies",
        "contactGroups/friends",
    ]
    .iter()
    .map(|system| (system, g.members(ALICE, system).len()))
    .filter(|(_, n)| *n > 0)
    .map(|(system, n)| format!("{system}: {n}"))
    .collect();
    assert!(
        filled.is_empty(),
        "the sync put contacts into system groups: {filled:?}"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}

/// SQL-looking text typed into the options form is data: it is saved as typed, shown back as
/// typed, and names the Google group as typed.
#[test]
fn sql_looking_option_values_round_trip_as_data() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    g.connect(ann.id, ALICE);
    for (i, name) in [SQL_1, SQL_2].into_iter().enumerate() {
        let segment = format!("s{i}");
        g.sim()
            .create_contact(
                ann.id,
                contact("A", "B", &format!("a{i}@example.org"), &segment),
                Visibility::Everyone,
            )
            .unwrap();
        let filter = g.filter(ann.id, &format!("Filter {i}"), &segment);
        let enabled = g.enable(
            ann.id,
            filter.id,
            ALICE,
            &[("group_mode", "existing"), ("group_name", name)],
        );
        assert!(enabled.message.contains("Sync enabled"), "{}", enabled.message);
        g.settle();
        assert_eq!(group_name_shown(&g, ann.id, filter.id).as_deref(), Some(name));
        let group = g.group(ALICE, name).expect("the group is named as typed");
        assert_eq!(g.members(ALICE, &group).len(), 1);
    }
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    assert_mapping_file_whole(&g);
}

/// The group name the filter's options form shows.
fn group_name_shown(g: &GoogleWorld, user: abi::UserId, filter: abi::FilterId) -> Option<String> {
    let view = page(g, user, SettingsPage::Filter(filter));
    view.sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .filter_map(|w| match w {
            Widget::Form(f) => Some(f),
            _ => None,
        })
        .flat_map(|f| f.inputs.iter())
        .find(|i| i.name.as_str() == "group_name")
        .map(|i| i.value.to_string())
}

/// Found while testing option values: choosing another group for an enabled sync must move its
/// contacts there, not drop them.
#[test]
fn changing_the_group_of_an_enabled_sync_moves_its_contacts() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let ann = g.user("Ann", ContactsPermission::Edit);
    g.add_vip_contact(ann.id);
    let filter = g.filter(ann.id, "VIP", "vip");
    g.connect(ann.id, ALICE);
    g.enabled(ann.id, filter.id, ALICE, &[]);
    g.settle();
    let saved = g.action(
        ann.id,
        SettingsPage::Filter(filter.id),
        "update_options",
        &[("group_mode", "existing"), ("group_name", "Clients")],
    );
    assert!(saved.message.contains("Options saved"), "{}", saved.message);
    g.settle();
    g.tick(6 * 60_000);
    let group = g.group(ALICE, "Clients").expect("the new group exists");
    let rows = health(&page(&g, ann.id, SettingsPage::Filter(filter.id)));
    assert_eq!(g.members(ALICE, &group).len(), 1, "health: {rows:?}");
    assert!(rows.is_empty(), "{rows:?}");
}
