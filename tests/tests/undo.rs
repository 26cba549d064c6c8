//! Undo, end to end through host-sim and the real library: a run's changes come back as edits
//! on the side it changed and then sync like any edit; a field edited after the run keeps its
//! edit; an import leaves its CRM contact; a deleted Google contact is made again.

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

fn synced() -> Setup {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let ids = g.vip_people(user.id, 3);
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    Setup { g, user, filter, ids }
}

impl Setup {
    fn page(&self) -> SettingsView {
        self.g.filter_page(self.user.id, self.filter.id)
    }

    fn table(&self, id: &str) -> Vec<Vec<String>> {
        tests::table_rows(&self.page(), id).unwrap_or_default()
    }

    /// The run of the newest history row matching `contact`, `side` and `field`.
    fn run_of(&self, contact: &str, side: &str, field: &str) -> String {
        let rows = self.table("history");
        rows.iter()
            .find(|r| r[1].starts_with(contact) && r[2] == side && r[3] == field)
            .map(|r| r[7].clone())
            .unwrap_or_else(|| panic!("no {contact} {side} {field} in {rows:?}"))
    }

    fn undo_run(&self, run: &str) -> String {
        let filter = self.filter.id.0.to_string();
        let outcome = self.g.action(
            self.user.id,
            SettingsPage::Filter(self.filter.id),
            "undo_run",
            &[("filter", &filter), ("run", run)],
        );
        assert!(outcome.message.contains("undo"), "{}", outcome.message);
        self.g.settle();
        format!("{:?}", self.page())
    }

    fn crm_notes(&self, i: usize) -> String {
        self.g
            .sim()
            .crm()
            .contact(self.ids[i])
            .unwrap()
            .contact
            .notes
            .to_string()
    }

    fn edit_crm(&self, i: usize, f: impl FnOnce(&mut abi::Contact)) {
        let mut c = self.g.sim().crm().contact(self.ids[i]).unwrap().contact;
        f(&mut c);
        self.g.sim().update_contact(self.user.id, c).unwrap();
        self.g.settle();
    }

    fn person(&self, email: &str) -> Option<serde_json::Value> {
        self.g
            .google_contacts(ALICE)
            .into_iter()
            .find(|p| p["emailAddresses"][0]["value"] == email)
    }

    fn google_notes(&self, email: &str) -> String {
        let p = self.person(email).expect("the Google contact");
        p["biographies"][0]["value"].as_str().unwrap_or("").to_string()
    }

    fn edit_google_notes(&self, email: &str, notes: &str) {
        let mut p = self.person(email).expect("the Google contact");
        let rn = p["resourceName"].as_str().unwrap().to_string();
        p["biographies"] = json!([{"value": notes, "contentType": "TEXT_PLAIN"}]);
        self.g.control.edit_contact(ALICE, &rn, &p).unwrap();
    }

    fn next_tick(&self) {
        self.g.tick(FIVE_MINUTES + 60_000);
    }
}

#[test]
fn undoing_a_run_that_wrote_to_google_puts_the_old_value_back_on_both_sides() {
    let s = synced();
    s.edit_crm(1, |c| c.notes = "from the CRM".into());
    assert_eq!(s.google_notes("person1@example.org"), "from the CRM");
    let run = s.run_of("Given1 Family1", "Google", "notes");
    let page = s.undo_run(&run);
    assert!(page.contains("Undo done: 1 put back"), "{page}");
    assert_eq!(s.google_notes("person1@example.org"), "");
    // The restored value is an edit in Google now: the next sync carries it to the CRM.
    s.next_tick();
    assert_eq!(s.crm_notes(1), "");
}

#[test]
fn undoing_a_run_that_wrote_to_the_crm_puts_the_old_value_back_on_both_sides() {
    let s = synced();
    s.edit_google_notes("person2@example.org", "from Google");
    s.next_tick();
    assert_eq!(s.crm_notes(2), "from Google");
    let run = s.run_of("Given2 Family2", "CRM", "notes");
    let page = s.undo_run(&run);
    assert!(page.contains("Undo done: 1 put back"), "{page}");
    assert_eq!(s.crm_notes(2), "");
    s.g.settle();
    assert_eq!(s.google_notes("person2@example.org"), "");
}

#[test]
fn a_field_edited_after_the_run_survives_its_undo() {
    let s = synced();
    s.edit_crm(1, |c| c.notes = "from the CRM".into());
    let run = s.run_of("Given1 Family1", "Google", "notes");
    s.edit_google_notes("person1@example.org", "edited since");
    let page = s.undo_run(&run);
    assert!(page.contains("0 put back"), "{page}");
    let kept = s.table("undo-kept");
    assert_eq!(
        kept,
        vec![vec![
            "Given1 Family1".to_string(),
            "notes".into(),
            "changed since, kept".into()
        ]]
    );
    assert_eq!(s.google_notes("person1@example.org"), "edited since");
}

#[test]
fn undoing_a_deletion_makes_the_google_contact_again_and_never_deletes_a_crm_contact() {
    let s = synced();
    s.g.sim().delete_contact(s.ids[0], Some(s.user.id)).unwrap();
    s.g.settle();
    assert!(s.person("person0@example.org").is_none());
    let run = s.run_of("", "Google", "deleted");
    let before = s.g.sim().crm().all_contacts().len();
    let page = s.undo_run(&run);
    assert!(page.contains("1 put back"), "{page}");
    let again = s.person("person0@example.org").expect("made again in Google");
    assert_eq!(again["names"][0]["givenName"], "Given0", "{again}");
    assert_eq!(s.g.sim().crm().all_contacts().len(), before);
}

#[test]
fn undoing_an_import_leaves_the_crm_contact_and_says_so() {
    let s = synced();
    let group = s.g.group(ALICE, "VIP clients").unwrap();
    let person = json!({
        "names": [{"givenName": "New", "familyName": "InGoogle"}],
        "emailAddresses": [{"value": "new@example.org"}],
        "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}],
    });
    s.g.control.create_contact(ALICE, &person).unwrap();
    s.next_tick();
    let count = s.g.sim().crm().all_contacts().len();
    let run = s.run_of("New InGoogle", "CRM", "imported");
    let page = s.undo_run(&run);
    assert!(page.contains("0 put back"), "{page}");
    assert!(
        s.table("undo-kept")
            .iter()
            .any(|r| r[0] == "New InGoogle" && r[2].contains("the CRM contact stays")),
        "{:?}",
        s.table("undo-kept")
    );
    assert_eq!(s.g.sim().crm().all_contacts().len(), count);
}

/// The removal is put back; the contact's CRM contact is still deleted, so the next run takes
/// it out of the group again: an undo never overrides what the filter holds.
#[test]
fn undoing_a_removal_puts_the_contact_back_into_the_group_and_the_sync_follows_the_crm() {
    let s = synced();
    s.g.action(
        s.user.id,
        SettingsPage::Filter(s.filter.id),
        "update_options",
        &[
            ("filter", &s.filter.id.0.to_string()),
            ("delete_mode", "remove_from_group"),
        ],
    );
    s.g.settle();
    s.g.sim().delete_contact(s.ids[0], Some(s.user.id)).unwrap();
    s.g.settle();
    let run = s.run_of("", "Google", "removed from the group");
    let adds = |s: &Setup| {
        s.g.control
            .stats()
            .methods
            .get("people.contactGroups.members.modify")
            .copied()
            .unwrap_or(0)
    };
    let before = adds(&s);
    let page = s.undo_run(&run);
    assert!(page.contains("1 put back"), "{page}");
    assert!(adds(&s) >= before + 2, "put back, then taken out by the next run");
    let rows = s.table("history");
    assert_eq!(rows[0][3], "removed from the group", "{rows:?}");
    assert_ne!(rows[0][7], run, "a later run took it out again: {rows:?}");
}
