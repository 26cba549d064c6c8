//! The history ("Recent changes"), end to end through host-sim and the real library: every kind
//! of change the sync makes shows with its side, field, old → new value and reason, and the
//! page filters it by contact, side and run.

use abi::{ContactId, ContactsPermission, SettingsPage, SettingsView};
use serde_json::json;
use tests::GoogleWorld;

const ALICE: &str = "alice@example.com";
const FIVE_MINUTES: i64 = 5 * 60_000;

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
    ids: Vec<ContactId>,
}

/// Three CRM contacts in a filter; Google already holds the first one's e-mail. Enabled with
/// `options`, first run done.
fn synced(options: &[(&str, &str)]) -> Setup {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let ids = g.vip_people(user.id, 3);
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.settle();
    let person = json!({
        "names": [{"givenName": "Given0", "familyName": "Family0"}],
        "emailAddresses": [{"value": "person0@example.org", "type": "work"}],
    });
    g.control.create_contact(ALICE, &person).unwrap();
    g.enabled(user.id, filter.id, ALICE, options);
    g.settle();
    Setup { g, user, filter, ids }
}

impl Setup {
    fn page(&self) -> SettingsView {
        self.g.filter_page(self.user.id, self.filter.id)
    }

    /// The "Recent changes" rows: when, contact, side, field, before, after, why, run.
    fn history(&self) -> Vec<Vec<String>> {
        tests::table_rows(&self.page(), "history").expect("the page shows Recent changes")
    }

    fn has(&self, contact: &str, side: &str, field: &str, before: &str, after: &str, why: &str) -> bool {
        self.history().iter().any(|r| {
            r[1].starts_with(contact)
                && r[2] == side
                && r[3] == field
                && r[4] == before
                && r[5] == after
                && r[6] == why
        })
    }

    fn edit_crm(&self, i: usize, f: impl FnOnce(&mut abi::Contact)) {
        let mut c = self.g.sim().crm().contact(self.ids[i]).unwrap().contact;
        f(&mut c);
        self.g.sim().update_contact(self.user.id, c).unwrap();
        self.g.settle();
    }

    fn person(&self, email: &str) -> serde_json::Value {
        self.g
            .google_contacts(ALICE)
            .into_iter()
            .find(|p| p["emailAddresses"][0]["value"] == email)
            .unwrap_or_else(|| panic!("no Google contact {email}"))
    }

    fn edit_google(&self, email: &str, f: impl FnOnce(&mut serde_json::Value)) {
        let mut person = self.person(email);
        let rn = person["resourceName"].as_str().unwrap().to_string();
        f(&mut person);
        self.g.control.edit_contact(ALICE, &rn, &person).unwrap();
    }

    fn filter_history(&self, fields: &[(&str, &str)]) {
        let filter = self.filter.id.0.to_string();
        let mut all = vec![("filter", filter.as_str())];
        all.extend_from_slice(fields);
        self.g.action(
            self.user.id,
            SettingsPage::Filter(self.filter.id),
            "history_filter",
            &all,
        );
    }
}

#[test]
fn every_kind_of_change_shows_in_the_history_with_its_reason() {
    let s = synced(&[]);
    assert!(s.has("Given1 Family1", "Google", "created", "", "", "in the filter"));
    assert!(s.has(
        "Given0 Family0",
        "Google",
        "matched to an existing contact",
        "",
        "",
        "found in Google"
    ));

    s.edit_crm(1, |c| c.notes = "from the CRM".into());
    assert!(s.has(
        "Given1 Family1",
        "Google",
        "notes",
        "",
        "from the CRM",
        "edited in the CRM"
    ));

    s.edit_google("person2@example.org", |p| {
        p["biographies"] = json!([{"value": "from Google", "contentType": "TEXT_PLAIN"}])
    });
    s.g.tick(FIVE_MINUTES + 60_000);
    assert!(s.has(
        "Given2 Family2",
        "CRM",
        "notes",
        "",
        "from Google",
        "edited in Google"
    ));

    let person = json!({
        "names": [{"givenName": "New", "familyName": "InGoogle"}],
        "emailAddresses": [{"value": "new@example.org"}],
        "memberships": [{"contactGroupMembership": {
            "contactGroupResourceName": s.g.group(ALICE, "VIP clients").unwrap()
        }}],
    });
    s.g.control.create_contact(ALICE, &person).unwrap();
    s.g.tick(FIVE_MINUTES + 60_000);
    assert!(s.has(
        "New InGoogle",
        "CRM",
        "imported",
        "",
        "",
        "added to the group in Google"
    ));

    // Contact 1 leaves the filter: taken out of the group.
    s.edit_crm(1, |c| {
        for f in c.custom_fields.iter_mut().filter(|f| f.key.as_str() == "segment") {
            f.value = "other".into();
        }
    });
    assert!(s.has(
        "Given1 Family1",
        "Google",
        "removed from the group",
        "",
        "",
        "left the filter, or the user may no longer see it"
    ));

    // Contact 2 is deleted in the CRM: deleted in Google (the default).
    s.g.sim().delete_contact(s.ids[2], Some(s.user.id)).unwrap();
    s.g.settle();
    assert!(s.has("", "Google", "deleted", "", "", "deleted in the CRM"));

    let all = format!("{:?}", s.history());
    assert!(!all.to_lowercase().contains("token"), "{all}");
}

#[test]
fn a_conflict_shows_the_value_the_policy_kept() {
    let s = synced(&[("policy", "crm_wins")]);
    // Google's edit first, unseen; then the CRM's: both changed the notes.
    s.edit_google("person1@example.org", |p| {
        p["biographies"] = json!([{"value": "Google's", "contentType": "TEXT_PLAIN"}])
    });
    s.g.control.reset_stats();
    s.edit_crm(1, |c| c.notes = "CRM's".into());
    s.g.tick(FIVE_MINUTES + 60_000);
    let rows = s.history();
    assert!(
        rows.iter().any(|r| r[1].starts_with("Given1 Family1")
            && r[2] == "Google"
            && r[3] == "notes"
            && r[5] == "CRM's"
            && r[6] == "changed on both sides; settled by the policy"),
        "{rows:?}"
    );
}

#[test]
fn recent_changes_filter_by_contact_side_and_run() {
    let s = synced(&[]);
    s.edit_crm(1, |c| c.notes = "one".into());
    let rows = s.history();
    let run = rows[0][7].clone();
    s.filter_history(&[
        ("history_contact", &s.ids[1].0.to_string()),
        ("history_side", ""),
        ("history_run", ""),
    ]);
    let rows = s.history();
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r[1].starts_with("Given1 Family1")),
        "{rows:?}"
    );
    s.filter_history(&[
        ("history_contact", ""),
        ("history_side", "crm"),
        ("history_run", ""),
    ]);
    assert!(s.history().is_empty(), "nothing was written to the CRM yet");
    s.filter_history(&[
        ("history_contact", ""),
        ("history_side", ""),
        ("history_run", &run),
    ]);
    let rows = s.history();
    assert!(!rows.is_empty() && rows.iter().all(|r| r[7] == run), "{rows:?}");
    let refused = s.g.action(
        s.user.id,
        SettingsPage::Filter(s.filter.id),
        "history_filter",
        &[("history_contact", "abc")],
    );
    assert!(refused.message.contains("are numbers"), "{}", refused.message);
}

/// The CRM's web server over `s`'s host-sim, for what only HTTP shows (an attachment).
fn web(s: &Setup) -> host_sim::web::WebServer {
    host_sim::web::bind("127.0.0.1:0")
        .expect("CRM web server binds")
        .serve(s.g.sim().clone(), None)
}

/// POSTs `export_history` through the CRM's JSON API as `user`.
fn export(
    web: &host_sim::web::WebServer,
    user: abi::UserId,
    page: &str,
    fields: serde_json::Value,
) -> reqwest::blocking::Response {
    let url = format!(
        "{}/api/users/{}/plugins/{}/actions?page={page}",
        web.base_url(),
        user.0,
        tests::PLUGIN
    );
    reqwest::blocking::Client::new()
        .post(url)
        .json(&json!({"name": "export_history", "fields": fields}))
        .send()
        .expect("the CRM answers")
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark for spreadsheets");
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("well-formed CSV").iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_history_downloads_as_csv_with_every_change_and_the_pages_filters() {
    let s = synced(&[]);
    s.edit_crm(1, |c| c.notes = "=HYPERLINK(\"https://example.org\")".into());
    let web = web(&s);
    let filter = s.filter.id.0.to_string();
    let page = format!("filter:{filter}");

    let answer = export(&web, s.user.id, &page, json!({"filter": filter}));
    assert_eq!(answer.status(), 200);
    let header = |name: &str| answer.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"sync-history-filter-{filter}.csv\"")
    );
    let rows = csv_rows(&answer.text().unwrap());
    // The same changes as the page, one row each; every column of the page.
    let shown = s.history();
    assert_eq!(rows.len(), shown.len(), "{rows:?}");
    assert!(rows.iter().all(|r| r.len() == 9), "{rows:?}");
    let notes = rows
        .iter()
        .find(|r| r[1].starts_with("Given1 Family1") && r[3] == "notes")
        .unwrap_or_else(|| panic!("the notes change in {rows:?}"));
    // A value a spreadsheet would run as a formula is written as text.
    assert_eq!(notes[5], "'=HYPERLINK(\"https://example.org\")");
    assert_eq!(notes[6], "edited in the CRM");
    assert!(rows
        .iter()
        .any(|r| r[1].starts_with("Given2 Family2") && r[3] == "created"));

    // One contact's changes only, as the page's filter would show them.
    let contact = s.ids[1].0.to_string();
    let answer = export(
        &web,
        s.user.id,
        &page,
        json!({"filter": filter, "history_contact": contact}),
    );
    assert!(answer.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(&format!("-contact-{contact}.csv")));
    let rows = csv_rows(&answer.text().unwrap());
    assert!(
        rows.len() >= 2 && rows.iter().all(|r| r[1].starts_with("Given1 Family1")),
        "{rows:?}"
    );
    assert!(!format!("{rows:?}").to_lowercase().contains("token"));
}

#[test]
fn only_the_filters_author_may_download_its_history() {
    let s = synced(&[]);
    let bob = s.g.user("Bob", ContactsPermission::Edit);
    let web = web(&s);
    let filter = s.filter.id.0.to_string();
    let answer = export(
        &web,
        bob.id,
        &format!("filter:{filter}"),
        json!({"filter": filter}),
    );
    assert_eq!(answer.status(), 400);
    let error: serde_json::Value = answer.json().unwrap();
    assert!(error["error"].as_str().unwrap().contains("author"), "{error}");
    let answer = export(&web, s.user.id, "integration", json!({"filter": "abc"}));
    assert_eq!(answer.status(), 400);
}

#[test]
fn the_filter_page_offers_the_export_only_where_the_crm_hands_over_files() {
    let s = synced(&[]);
    assert!(format!("{:?}", s.page()).contains("Export as CSV"));
    let g = GoogleWorld::start(|_| {}, |c| c.offers = abi::HostOffers::LOCALES);
    let user = g.user("Ann", ContactsPermission::Edit);
    g.vip_people(user.id, 1);
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    let page = format!("{:?}", g.filter_page(user.id, filter.id));
    assert!(
        page.contains("Recent changes") && !page.contains("Export as CSV"),
        "{page}"
    );
    // Nor is there a panel on a contact's page.
    assert!(g
        .sim()
        .render_contact_panel(tests::PLUGIN, user.id, ContactId(1))
        .unwrap()
        .is_none());
}

#[test]
fn a_contacts_page_shows_what_the_sync_changed_on_it_and_undoes_a_change_from_there() {
    let s = synced(&[]);
    s.edit_crm(1, |c| c.notes = "from the CRM".into());
    let panel = |user: abi::UserId, contact: ContactId| {
        s.g.sim()
            .render_contact_panel(tests::PLUGIN, user, contact)
            .expect("the panel renders")
    };
    let table = format!("contact-history-{}", s.filter.id.0);
    let rows = tests::table_rows(&panel(s.user.id, s.ids[1]).expect("a panel"), &table).expect("its changes");
    assert!(
        rows.iter().all(|r| r[1].starts_with("Given1 Family1")),
        "{rows:?}"
    );
    let notes = rows
        .iter()
        .find(|r| r[3] == "notes" && r[5] == "from the CRM")
        .unwrap_or_else(|| panic!("the notes change in {rows:?}"));
    assert!(rows.iter().any(|r| r[3] == "created"), "{rows:?}");

    // Someone who may not see the contact gets no panel; one who syncs nothing, none either.
    let viewer = s.g.user("Vic", ContactsPermission::Edit);
    s.g.sim()
        .set_access(s.ids[1], s.user.id, host_sim::crm::Visibility::Owner)
        .unwrap();
    assert!(panel(viewer.id, s.ids[1]).is_none());
    s.g.sim()
        .set_access(s.ids[1], s.user.id, host_sim::crm::Visibility::Everyone)
        .unwrap();
    assert!(panel(viewer.id, s.ids[1]).is_none());

    // "Undo this change" on the panel: its action comes with the integration page.
    let outcome = s.g.action(
        s.user.id,
        SettingsPage::Integration,
        "undo_change",
        &[("filter", &s.filter.id.0.to_string()), ("change", &notes[8])],
    );
    assert!(outcome.message.contains("undo"), "{}", outcome.message);
    s.g.settle();
    let person = s.person("person1@example.org");
    assert_eq!(person["biographies"][0]["value"].as_str().unwrap_or(""), "");
}

#[test]
fn the_crms_contact_page_shows_the_plugins_panel() {
    let s = synced(&[]);
    let web = web(&s);
    let url = format!(
        "{}/ui/users/{}/contacts/{}",
        web.base_url(),
        s.user.id.0,
        s.ids[1].0
    );
    let html = reqwest::blocking::get(url).unwrap().text().unwrap();
    assert!(html.contains("Google Contacts sync: history"), "{html}");
    assert!(
        html.contains("page=contact:"),
        "the panel's actions come back to the contact's page"
    );
}

#[test]
fn a_copy_of_a_synced_contact_is_deleted_and_shows_in_the_history_as_a_duplicate() {
    let s = synced(&[]);
    // A second Google contact carrying contact 1's CRM id, as a create whose answer was lost
    // leaves behind: the sync deletes it.
    let copy = json!({
        "names": [{"givenName": "Given1", "familyName": "Family1"}],
        "emailAddresses": [{"value": "person1@example.org"}],
        "clientData": [{"key": "crm_contact_id", "value": s.ids[1].0.to_string()}],
    });
    s.g.control.create_contact(ALICE, &copy).unwrap();
    s.g.tick(FIVE_MINUTES + 60_000);
    let rows = s.history();
    assert!(
        rows.iter().any(|r| r[2] == "Google"
            && r[3] == "deleted"
            && r[6] == "a duplicate of a contact the plugin created"),
        "{rows:?}"
    );
    let copies =
        s.g.google_contacts(ALICE)
            .into_iter()
            .filter(|p| p["emailAddresses"][0]["value"] == "person1@example.org")
            .count();
    assert_eq!(copies, 1, "the copy is gone, the synced contact stays");
}
