//! The preview, end to end through host-sim and the real library: it writes nothing on either
//! side, it shows each contact's change, and the run after "enable as previewed" does what it
//! showed (or says that it did not).

use abi::{ContactId, ContactsPermission, SettingsPage, SettingsView, Widget};
use host_sim::crm::Visibility;
use serde_json::json;
use tests::{contact, GoogleWorld, RunCounts};

const ALICE: &str = "alice@example.com";

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
    ids: Vec<ContactId>,
}

/// `n` CRM contacts in a filter, Alice connected; one Google contact already holds the e-mail
/// of the first (so it is matched, not created) and one is unrelated.
fn prepared(n: usize) -> Setup {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let ids = g.vip_people(user.id, n);
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.settle();
    for (given, email) in [("Given0", "person0@example.org"), ("Other", "other@example.org")] {
        let person = json!({
            "names": [{"givenName": given, "familyName": "InGoogle"}],
            "emailAddresses": [{"value": email}],
        });
        g.control.create_contact(ALICE, &person).unwrap();
    }
    Setup { g, user, filter, ids }
}

impl Setup {
    fn page(&self) -> SettingsView {
        self.g.filter_page(self.user.id, self.filter.id)
    }

    fn act(&self, name: &str, fields: &[(&str, &str)]) -> abi::ActionOutcome {
        let filter = self.filter.id.0.to_string();
        let mut all = vec![("filter", filter.as_str())];
        all.extend_from_slice(fields);
        self.g
            .action(self.user.id, SettingsPage::Filter(self.filter.id), name, &all)
    }

    /// Previews enabling the filter (the enable form with "Preview first" ticked).
    fn preview_enabling(&self) {
        let outcome = self.act("enable", &[("account", ALICE), ("preview", "true")]);
        assert!(outcome.message.contains("preview"), "{}", outcome.message);
        self.g.settle();
    }

    fn crm_state(&self) -> Vec<String> {
        self.g
            .sim()
            .crm()
            .all_contacts()
            .iter()
            .map(|r| format!("{:?}", r.contact))
            .collect()
    }
}

fn fact(view: &SettingsView, label: &str) -> Option<String> {
    view.sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .find_map(|w| match w {
            Widget::Facts(facts) => facts
                .iter()
                .find(|f| f.label.as_str() == label)
                .map(|f| f.value.to_string()),
            _ => None,
        })
}

fn rows(view: &SettingsView, id: &str) -> Vec<Vec<String>> {
    tests::table_rows(view, id).unwrap_or_default()
}

fn totals(view: &SettingsView) -> RunCounts {
    RunCounts::read(&fact(view, "Totals").unwrap_or_else(|| panic!("no preview totals: {view:?}")))
}

fn texts(view: &SettingsView) -> String {
    format!("{view:?}")
}

#[test]
fn a_preview_writes_nothing_on_either_side() {
    let s = prepared(3);
    let writes = s.g.writes();
    let crm = s.crm_state();
    s.preview_enabling();
    let view = s.page();
    assert_eq!(s.g.writes(), writes, "Google was written by a preview");
    assert_eq!(s.crm_state(), crm, "the CRM was written by a preview");
    assert!(
        s.g.group(ALICE, "VIP clients").is_none(),
        "a preview made the group"
    );
    let counts = totals(&view);
    assert_eq!((counts.created_in_google, counts.errors), (2, 0), "{counts:?}");
    let rows = rows(&view, "preview-contacts");
    assert!(
        rows.iter()
            .any(|r| r[0] == "Given0 Family0"
                && r[1].contains("Matched to an existing Google contact by e-mail")),
        "{rows:?}"
    );
    // Matched with no common history, the latest change wins: Google's copy is newer.
    assert!(
        rows.iter().any(|r| r[0] == "Given0 Family0"
            && r[2].starts_with("name in the CRM")
            && r[3] == "Given0 Family0"
            && r[4] == "Given0 InGoogle"),
        "the match's field change, old → new: {rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r[1] == "Created in Google").count(),
        2,
        "{rows:?}"
    );
    assert!(
        !texts(&view).contains("\"sync-now\""),
        "a preview does not enable the sync"
    );
}

#[test]
fn enabling_as_previewed_runs_what_the_preview_showed_when_nothing_changed_in_between() {
    let s = prepared(4);
    s.preview_enabling();
    let previewed = totals(&s.page());
    let outcome = s.act("enable_previewed", &[]);
    assert!(
        outcome.message.contains("enabled as previewed"),
        "{}",
        outcome.message
    );
    s.g.settle();
    let run = s.g.last_run(s.user.id, s.filter.id);
    run.assert_clean();
    assert_eq!(run.counts, previewed);
    let page = texts(&s.page());
    assert!(
        page.contains("The run after the preview did what the preview showed"),
        "{page}"
    );
    assert_eq!(
        s.g.members(ALICE, &s.g.group(ALICE, "VIP clients").unwrap())
            .len(),
        4
    );
}

#[test]
fn a_run_that_differs_from_its_preview_says_so() {
    let s = prepared(3);
    s.preview_enabling();
    let previewed = totals(&s.page());
    // A fourth contact joins the filter between the preview and the run.
    let extra = contact("Late", "Comer", "late@example.org", "vip");
    s.g.sim()
        .create_contact(s.user.id, extra, Visibility::Everyone)
        .unwrap();
    s.act("enable_previewed", &[]);
    s.g.settle();
    let run = s.g.last_run(s.user.id, s.filter.id);
    assert_eq!(run.counts.created_in_google, previewed.created_in_google + 1);
    let page = texts(&s.page());
    assert!(
        page.contains("The run after the preview did something else"),
        "{page}"
    );
}

#[test]
fn a_preview_of_an_enabled_filter_shows_the_changes_google_brings_and_its_run_matches_it() {
    let s = prepared(3);
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    // Someone edits a contact's notes in Google; no run has listed it yet.
    let person =
        s.g.google_contacts(ALICE)
            .into_iter()
            .find(|p| p["emailAddresses"][0]["value"] == "person2@example.org")
            .unwrap();
    let rn = person["resourceName"].as_str().unwrap().to_string();
    let mut edited = person.clone();
    edited["biographies"] = json!([{"value": "from Google", "contentType": "TEXT_PLAIN"}]);
    s.g.control.edit_contact(ALICE, &rn, &edited).unwrap();
    let writes = s.g.writes();
    let crm = s.crm_state();

    s.act("preview", &[]);
    s.g.settle();
    let view = s.page();
    assert_eq!(s.g.writes(), writes, "Google was written by a preview");
    assert_eq!(s.crm_state(), crm, "the CRM was written by a preview");
    let rows = rows(&view, "preview-contacts");
    assert_eq!(
        rows,
        vec![vec![
            "Given2 Family2".to_string(),
            "Updated".into(),
            "notes in the CRM".into(),
            String::new(),
            "from Google".into()
        ]]
    );
    let previewed = totals(&view);
    assert_eq!((previewed.updated_in_google, previewed.updated_in_crm), (0, 1));

    let outcome = s.act("enable_previewed", &[]);
    assert!(
        outcome.message.contains("started as previewed"),
        "{}",
        outcome.message
    );
    s.g.settle();
    assert_eq!(s.g.last_run(s.user.id, s.filter.id).counts, previewed);
    assert_eq!(
        s.g.sim().crm().contact(s.ids[2]).unwrap().contact.notes.as_str(),
        "from Google"
    );
}

#[test]
fn a_preview_pages_through_its_contacts_fifty_at_a_time() {
    let s = prepared(60);
    s.preview_enabling();
    let contacts = |rows: Vec<Vec<String>>| {
        let names: std::collections::BTreeSet<String> = rows.into_iter().map(|r| r[0].clone()).collect();
        names.len()
    };
    assert_eq!(contacts(rows(&s.page(), "preview-contacts")), 50);
    assert!(texts(&s.page()).contains("Page 1 of 2"));
    s.act("preview_page", &[("page", "1")]);
    assert_eq!(contacts(rows(&s.page(), "preview-contacts")), 10);
    assert!(texts(&s.page()).contains("Page 2 of 2"));
    s.act("discard_preview", &[]);
    assert!(rows(&s.page(), "preview-contacts").is_empty());
}
