//! Every behaviour of the two-way sync, end to end through host-sim and the real library, each
//! asserting both sides' final state, and that one more sync then writes nothing anywhere.

use abi::{Contact, ContactId, ContactsPermission, SettingsPage, TypedValue};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use serde_json::json;
use tests::{contact, GoogleWorld, PLUGIN};

const ALICE: &str = "alice@example.com";
const FIVE_MINUTES: i64 = 5 * 60_000;

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
    ids: Vec<ContactId>,
}

fn world() -> GoogleWorld {
    GoogleWorld::start(|_| {}, |_| {})
}

/// `n` contacts in segment "vip", a filter on it, Alice connected; sync not enabled yet.
fn prepared(g: GoogleWorld, n: usize) -> Setup {
    let user = g.user("Ann", ContactsPermission::Edit);
    let ids = (0..n)
        .map(|i| {
            let c = contact(
                &format!("Given{i}"),
                &format!("Family{i}"),
                &format!("person{i}@example.org"),
                "vip",
            );
            g.sim()
                .create_contact(user.id, c, Visibility::Everyone)
                .unwrap()
                .id
        })
        .collect();
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.settle();
    Setup { g, user, filter, ids }
}

/// As [`prepared`], with sync enabled and the first run done.
fn synced(n: usize, options: &[(&str, &str)]) -> Setup {
    let s = prepared(world(), n);
    let outcome = s.g.enable(s.user.id, s.filter.id, ALICE, options);
    assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
    s.g.settle();
    s
}

/// As [`synced`], with Google showing a write in listings a minute (of its clock) after it
/// happened, and that minute past for the first sync's writes.
fn synced_with_late_listings(n: usize) -> Setup {
    let s = prepared(GoogleWorld::start(|c| c.propagation_delay_ms = 60_000, |_| {}), n);
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.control.advance_clock(std::time::Duration::from_secs(61));
    s.g.settle();
    s
}

impl Setup {
    fn group(&self) -> String {
        self.g.group(ALICE, &self.filter.name).expect("group exists")
    }

    fn members(&self) -> Vec<serde_json::Value> {
        self.g.members(ALICE, &self.group())
    }

    fn person_of(&self, email: &str) -> serde_json::Value {
        self.g
            .google_contacts(ALICE)
            .into_iter()
            .find(|p| {
                p["emailAddresses"]
                    .as_array()
                    .is_some_and(|es| es.iter().any(|e| e["value"] == email))
            })
            .unwrap_or_else(|| panic!("no Google contact with {email}"))
    }

    fn crm(&self, id: ContactId) -> Contact {
        self.g
            .sim()
            .crm()
            .contact(id)
            .expect("CRM contact exists")
            .contact
    }

    fn edit_crm(&self, id: ContactId, f: impl FnOnce(&mut Contact)) {
        let mut c = self.crm(id);
        f(&mut c);
        self.g.sim().update_contact(self.user.id, c).unwrap();
    }

    /// A CRM user moves contact `id` to another segment: out of the filter.
    fn move_out_of_filter(&self, id: ContactId) {
        self.move_to_segment(id, "other");
    }

    /// A CRM user moves contact `id` back to the filter's segment.
    fn move_into_filter(&self, id: ContactId) {
        self.move_to_segment(id, "vip");
    }

    fn move_to_segment(&self, id: ContactId, segment: &str) {
        self.edit_crm(id, |c| {
            for f in c.custom_fields.iter_mut().filter(|f| f.key.as_str() == "segment") {
                f.value = segment.into();
            }
        });
    }

    /// A person in Google's web UI creates a contact with `email` in the binding's group.
    fn create_in_group(&self, given: &str, family: &str, email: &str) {
        let group = self.group();
        let person = json!({
            "names": [{"givenName": given, "familyName": family}],
            "emailAddresses": [{"value": email}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}]
        });
        self.g.control.create_contact(ALICE, &person).unwrap();
    }

    /// The CRM contact `id` is linked to the Google contact with `email`: a CRM edit of its
    /// notes reaches that Google contact. Returns the Google contact after the edit.
    fn assert_crm_edits_reach(&self, email: &str, id: ContactId, notes: &str) -> serde_json::Value {
        self.edit_crm(id, |c| c.notes = notes.into());
        self.g.settle();
        let person = self.person_of(email);
        assert_eq!(person["biographies"][0]["value"], notes, "{person}");
        person
    }

    fn edit_google(&self, email: &str, person: serde_json::Value) {
        let rn = self.person_of(email)["resourceName"]
            .as_str()
            .unwrap()
            .to_string();
        self.g.control.edit_contact(ALICE, &rn, &person).unwrap();
    }

    /// One tick after the binding's interval: Google changes arrive.
    fn next_tick(&self) {
        self.g.tick(FIVE_MINUTES + 60_000);
    }

    fn sync_now(&self) {
        self.g.action(
            self.user.id,
            SettingsPage::Filter(self.filter.id),
            "sync_now",
            &[],
        );
        self.g.settle();
    }

    fn last_run(&self) -> tests::LastRun {
        self.g.last_run(self.user.id, self.filter.id)
    }

    /// One more sync changes nothing on either side.
    fn assert_settled(&self) {
        let (google, crm) = (self.g.writes(), self.g.sim().plugin_writes());
        let errors = self.g.sim().hook_errors().len();
        self.sync_now();
        self.next_tick();
        assert_eq!(self.g.writes(), google, "a sync after settling wrote to Google");
        assert_eq!(
            self.g.sim().plugin_writes(),
            crm,
            "a sync after settling wrote to the CRM"
        );
        assert_eq!(
            self.g.sim().hook_errors().len(),
            errors,
            "{:?}",
            self.g.sim().hook_errors()
        );
    }

    fn view(&self) -> String {
        format!(
            "{:?}",
            self.g
                .sim()
                .render_settings(PLUGIN, self.user.id, SettingsPage::Filter(self.filter.id))
                .unwrap()
        )
    }
}

#[test]
fn crm_edits_reach_google_on_the_next_job() {
    let s = synced(3, &[]);
    s.edit_crm(s.ids[0], |c| c.position = "Chief Buyer".into());
    s.g.settle();
    assert_eq!(
        s.person_of("person0@example.org")["organizations"][0]["title"],
        "Chief Buyer"
    );
    s.assert_settled();
}

#[test]
fn google_edits_reach_the_crm_on_the_next_tick() {
    let s = synced(3, &[]);
    s.edit_google(
        "person1@example.org",
        json!({"biographies": [{"value": "Met at the fair", "contentType": "TEXT_PLAIN"}]}),
    );
    s.next_tick();
    assert_eq!(s.crm(s.ids[1]).notes.as_str(), "Met at the fair");
    s.assert_settled();
}

#[test]
fn google_edits_shown_late_by_google_still_arrive() {
    let s = synced_with_late_listings(2);
    s.edit_google(
        "person1@example.org",
        json!({"biographies": [{"value": "late", "contentType": "TEXT_PLAIN"}]}),
    );
    s.next_tick();
    assert_eq!(
        s.crm(s.ids[1]).notes.as_str(),
        "",
        "the tick saw the edit before Google listed it: the lag was never exercised"
    );
    s.g.control.advance_clock(std::time::Duration::from_secs(61));
    s.next_tick();
    assert_eq!(s.crm(s.ids[1]).notes.as_str(), "late");
    s.assert_settled();
}

#[test]
fn sync_now_brings_google_edits_at_once() {
    let s = synced(2, &[]);
    s.edit_google(
        "person0@example.org",
        json!({"names": [{"givenName": "Renamed", "familyName": "InGoogle"}]}),
    );
    s.sync_now();
    assert_eq!(s.crm(s.ids[0]).name.given.as_str(), "Renamed");
}

#[test]
fn deleted_in_google_unlinks_and_never_deletes_the_crm_contact() {
    let s = synced(3, &[]);
    let rn = s.person_of("person2@example.org")["resourceName"]
        .as_str()
        .unwrap()
        .to_string();
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.next_tick();
    assert!(
        s.g.sim().crm().contact(s.ids[2]).is_some(),
        "the CRM contact was deleted"
    );
    assert_eq!(s.members().len(), 2);
    assert!(
        s.view()
            .contains("Deleted in Google or taken out of the group there"),
        "{}",
        s.view()
    );
    // A later CRM edit does not bring it back into Google.
    s.edit_crm(s.ids[2], |c| c.notes = "edited after".into());
    s.g.settle();
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        2,
        "the deleted contact came back"
    );
    s.assert_settled();
}

#[test]
fn removed_from_the_group_in_google_unlinks_and_keeps_the_crm_contact() {
    let s = synced(3, &[]);
    let rn = s.person_of("person0@example.org")["resourceName"]
        .as_str()
        .unwrap()
        .to_string();
    s.g.control
        .modify_group_members(ALICE, "contactGroups/myContacts", &[&rn], &[])
        .unwrap();
    s.g.control
        .modify_group_members(ALICE, &s.group(), &[], &[&rn])
        .unwrap();
    s.next_tick();
    assert!(s.g.sim().crm().contact(s.ids[0]).is_some());
    assert_eq!(s.members().len(), 2);
}

#[test]
fn deleted_in_the_crm_is_deleted_in_google() {
    let s = synced(3, &[]);
    s.g.sim().delete_contact(s.ids[0], Some(s.user.id)).unwrap();
    s.g.settle();
    assert_eq!(s.g.google_contacts(ALICE).len(), 2);
    assert_eq!(s.last_run().counts.deleted_in_google, 1, "{:?}", s.last_run());
    s.assert_settled();
}

#[test]
fn deleted_in_the_crm_is_only_removed_from_the_group_when_so_chosen() {
    let s = synced(3, &[("delete_mode", "remove_from_group")]);
    s.g.sim().delete_contact(s.ids[0], Some(s.user.id)).unwrap();
    s.g.settle();
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        3,
        "nothing is deleted in Google"
    );
    assert_eq!(s.members().len(), 2);
    s.assert_settled();
}

#[test]
fn a_contact_leaving_the_filter_is_removed_from_the_group_not_deleted() {
    let s = synced(3, &[]);
    s.edit_crm(s.ids[1], |c| c.custom_fields[0].value = "archived".into());
    s.g.settle();
    assert_eq!(s.members().len(), 2);
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        3,
        "the Google contact stays, out of the group"
    );
    s.assert_settled();
}

#[test]
fn losing_access_to_a_contact_removes_it_from_the_group() {
    let s = synced(3, &[]);
    let other = s.g.user("Bob", ContactsPermission::Edit);
    s.g.sim()
        .set_access(s.ids[2], other.id, Visibility::Owner)
        .unwrap();
    s.g.settle();
    assert_eq!(s.members().len(), 2);
    s.assert_settled();
}

#[test]
fn contacts_added_to_the_group_in_google_are_created_in_the_crm_inside_the_filter() {
    let s = synced(1, &[]);
    let group = s.group();
    s.g.control
        .create_contact(
            ALICE,
            &json!({
                "names": [{"givenName": "New", "familyName": "FromGoogle"}],
                "emailAddresses": [{"value": "new@example.org"}],
                "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}]
            }),
        )
        .unwrap();
    s.next_tick();
    let imported: Vec<Contact> =
        s.g.sim()
            .crm()
            .filter_contacts(s.filter.id, s.user.id, ContactId(0), 100)
            .unwrap()
            .into_iter()
            .filter(|c| c.name.given.as_str() == "New")
            .collect();
    assert_eq!(imported.len(), 1, "imported once, inside the filter");
    assert_eq!(imported[0].emails[0].value.as_str(), "new@example.org");
    s.assert_settled();
}

#[test]
fn existing_google_contacts_are_matched_by_email_or_phone_not_duplicated() {
    let g = world();
    g.control
        .create_contact(ALICE, &json!({"names": [{"givenName": "Given0"}], "emailAddresses": [{"value": "PERSON0@example.org"}]}))
        .unwrap();
    g.control
        .create_contact(
            ALICE,
            &json!({"names": [{"givenName": "Phone"}], "phoneNumbers": [{"value": "+1 650-555-0100"}]}),
        )
        .unwrap();
    let s = prepared(g, 2);
    let mut phone = contact("Phone", "Only", "", "vip");
    phone.emails = RVec::new();
    phone.phones = RVec::from(vec![TypedValue {
        value: "(650) 555 0100".into(),
        kind: "mobile".into(),
        primary: true,
    }]);
    s.g.sim()
        .create_contact(s.user.id, phone, Visibility::Everyone)
        .unwrap();
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        3,
        "matched contacts were created again"
    );
    assert_eq!(s.members().len(), 3);
    s.assert_settled();
}

#[test]
fn disabling_and_re_enabling_creates_no_duplicate() {
    let s = synced(4, &[]);
    s.g.action(s.user.id, SettingsPage::Filter(s.filter.id), "disable", &[]);
    s.g.settle();
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    assert_eq!(s.g.google_contacts(ALICE).len(), 4);
    assert_eq!(s.members().len(), 4);
    s.assert_settled();
}

fn conflict(policy: &str) -> (Setup, Contact) {
    let s = synced(1, &[("policy", policy)]);
    s.edit_google(
        "person0@example.org",
        json!({"organizations": [{"name": "Google Co", "title": "CTO"}]}),
    );
    s.g.sim().advance(1000);
    s.edit_crm(s.ids[0], |c| c.company = "CRM Co".into());
    s.g.settle();
    s.next_tick();
    let c = s.crm(s.ids[0]);
    (s, c)
}

#[test]
fn a_field_changed_on_both_sides_goes_to_the_crm_under_crm_wins() {
    let (s, c) = conflict("crm_wins");
    assert_eq!(c.company.as_str(), "CRM Co");
    assert_eq!(
        s.person_of("person0@example.org")["organizations"][0]["name"],
        "CRM Co"
    );
    assert_eq!(
        c.position.as_str(),
        "CTO",
        "the title changed only in Google still arrives"
    );
    s.assert_settled();
}

#[test]
fn a_field_changed_on_both_sides_goes_to_google_under_google_wins() {
    let (s, c) = conflict("google_wins");
    assert_eq!(c.company.as_str(), "Google Co");
    assert_eq!(
        s.person_of("person0@example.org")["organizations"][0]["name"],
        "Google Co"
    );
    s.assert_settled();
}

#[test]
fn multi_valued_fields_merge_element_by_element() {
    let s = synced(1, &[]);
    s.edit_google(
        "person0@example.org",
        json!({"phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}]}),
    );
    s.edit_crm(s.ids[0], |c| {
        c.emails.push(TypedValue {
            value: "second@example.org".into(),
            kind: "home".into(),
            primary: false,
        })
    });
    s.g.settle();
    s.next_tick();
    let c = s.crm(s.ids[0]);
    assert_eq!(c.emails.len(), 2);
    assert_eq!(c.phones.len(), 1);
    let p = s.person_of("person0@example.org");
    assert_eq!(p["emailAddresses"].as_array().unwrap().len(), 2);
    assert_eq!(p["phoneNumbers"].as_array().unwrap().len(), 1);
    s.assert_settled();
}

#[test]
fn with_reverse_sync_off_google_edits_never_reach_the_crm() {
    let s = synced(1, &[("direction", "crm_to_google")]);
    s.edit_google(
        "person0@example.org",
        json!({"biographies": [{"value": "google note", "contentType": "TEXT_PLAIN"}]}),
    );
    s.next_tick();
    assert_eq!(s.crm(s.ids[0]).notes.as_str(), "");
    s.assert_settled();
}

#[test]
fn google_to_crm_only_never_writes_crm_edits_to_google() {
    let s = synced(0, &[("direction", "google_to_crm")]);
    let group = s.group();
    s.g.control
        .create_contact(
            ALICE,
            &json!({"names": [{"givenName": "G"}], "memberships": [{"contactGroupMembership": {"contactGroupResourceName": group}}]}),
        )
        .unwrap();
    s.next_tick();
    let c =
        s.g.sim()
            .crm()
            .filter_contacts(s.filter.id, s.user.id, ContactId(0), 10)
            .unwrap();
    assert_eq!(c.len(), 1);
    let writes = s.g.writes();
    s.edit_crm(c[0].id, |c| c.notes = "crm only".into());
    s.g.settle();
    s.next_tick();
    let p = &s.members()[0];
    assert!(p.get("biographies").is_none(), "{p}");
    assert!(
        s.g.writes() <= writes + 1,
        "only our marker may have been written"
    );
}

#[test]
fn only_the_author_of_a_saved_filter_on_a_paid_plan_can_enable_sync() {
    let s = prepared(world(), 1);
    let intruder = s.g.user("Eve", ContactsPermission::Edit);
    let refused = s.g.enable(intruder.id, s.filter.id, ALICE, &[]);
    assert_eq!(
        refused.message.as_str(),
        "Only the filter's author can sync it with Google Contacts."
    );
    let free =
        s.g.sim()
            .crm()
            .add_user("Free", &[], ContactsPermission::Edit, &[])
            .unwrap();
    let free_filter = s.g.filter(free.id, "Free filter", "vip");
    let refused = s.g.enable(free.id, free_filter.id, ALICE, &[]);
    assert!(
        refused
            .message
            .contains("Your plan does not include Google Contacts sync"),
        "{}",
        refused.message
    );
    let mut unsaved = s.g.filter(s.user.id, "Draft", "vip");
    unsaved.saved = false;
    let unsaved = s.g.sim().save_filter(unsaved).unwrap();
    let refused = s.g.enable(s.user.id, unsaved.id, ALICE, &[]);
    assert!(
        refused.message.contains("This filter is not saved"),
        "{}",
        refused.message
    );
    assert!(s.g.google_contacts(ALICE).is_empty());
}

#[test]
fn a_view_only_user_syncs_crm_to_google_only() {
    let g = world();
    let editor = g.user("Ed", ContactsPermission::Edit);
    let viewer = g.user("Vi", ContactsPermission::View);
    g.add_contact(editor.id, contact("A", "B", "ab@example.org", "vip"));
    let filter = g.filter(viewer.id, "Viewer's", "vip");
    g.connect(viewer.id, ALICE);
    let outcome = g.enable(viewer.id, filter.id, ALICE, &[("direction", "two_way")]);
    assert!(
        outcome.message.contains("from the CRM to Google only"),
        "{}",
        outcome.message
    );
    g.settle();
    assert_eq!(g.google_contacts(ALICE).len(), 1);
}

#[test]
fn an_existing_group_or_my_contacts_can_be_chosen() {
    let s = prepared(world(), 2);
    s.g.control.create_group(ALICE, "Partners").unwrap();
    s.g.enabled(
        s.user.id,
        s.filter.id,
        ALICE,
        &[("group_mode", "existing"), ("group_name", "Partners")],
    );
    s.g.settle();
    let partners = s.g.group(ALICE, "Partners").unwrap();
    assert_eq!(s.g.members(ALICE, &partners).len(), 2);
    assert!(s.g.group(ALICE, "VIP clients").is_none());

    let s = prepared(world(), 2);
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[("group_mode", "my_contacts")]);
    s.g.settle();
    assert_eq!(s.g.members(ALICE, "contactGroups/myContacts").len(), 2);
}

#[test]
fn renaming_the_filter_renames_its_group() {
    let s = synced(1, &[]);
    let mut f = s.filter.clone();
    f.name = "Key accounts".into();
    s.g.sim().save_filter(f).unwrap();
    s.g.settle();
    assert!(s.g.group(ALICE, "Key accounts").is_some());
    assert!(s.g.group(ALICE, "VIP clients").is_none());
}

#[test]
fn a_mass_removal_is_held_until_the_user_confirms_it() {
    let s = synced(30, &[]);
    for id in &s.ids[..25] {
        s.edit_crm(*id, |c| c.custom_fields[0].value = "archived".into());
    }
    s.g.settle();
    assert_eq!(s.members().len(), 30, "nothing is removed before confirmation");
    assert!(s.view().contains("confirm-removals"), "{}", s.view());
    s.g.action(
        s.user.id,
        SettingsPage::Filter(s.filter.id),
        "confirm_removals",
        &[],
    );
    s.g.settle();
    assert_eq!(s.members().len(), 5);
    s.assert_settled();
}

#[test]
fn the_account_limit_stops_creates_with_a_clear_error_per_contact() {
    let g = GoogleWorld::start(
        |_| {},
        |c| {
            c.plugin_config
                .insert("sync.max_contacts_per_account".into(), "3".into());
        },
    );
    let s = prepared(g, 5);
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    assert_eq!(s.g.google_contacts(ALICE).len(), 3);
    let view = s.view();
    assert!(
        view.contains("Google allows 3 contacts per account and this account is full"),
        "{view}"
    );
    assert_eq!(s.last_run().counts.errors, 2, "{view}");
}

#[test]
fn one_google_listing_per_account_per_tick_serves_all_its_bindings() {
    let s = synced(2, &[]);
    let second = s.g.filter(s.user.id, "Second", "vip");
    s.g.enabled(s.user.id, second.id, ALICE, &[]);
    s.g.settle();
    s.next_tick();
    let before = s.g.control.stats().count("people.people.connections.list");
    s.next_tick();
    let after = s.g.control.stats().count("people.people.connections.list");
    assert_eq!(after - before, 1);
}

#[test]
fn a_first_sync_of_1000_contacts_uses_at_most_5_create_calls() {
    let s = prepared(world(), 1000);
    s.g.control.reset_stats();
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    let stats = s.g.control.stats();
    assert_eq!(s.members().len(), 1000);
    assert!(stats.count("people.people.batchCreateContacts") <= 5, "{stats:?}");
    assert!(stats.total <= 5 + 6, "setup and listing calls: {stats:?}");
}

#[test]
fn on_contact_changed_never_waits_for_google() {
    let s = synced(1, &[]);
    s.g.control
        .add_fault(host_sim::fake_google::FaultRule::always(
            None,
            host_sim::fake_google::Fault::Unavailable,
        ))
        .unwrap();
    let started = std::time::Instant::now();
    let c = contact("While", "Down", "down@example.org", "vip");
    let id =
        s.g.sim()
            .create_contact(s.user.id, c, Visibility::Everyone)
            .unwrap()
            .id;
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    s.g.settle();
    s.g.control.clear_faults();
    s.next_tick();
    assert!(
        s.person_of("down@example.org")["resourceName"].is_string(),
        "contact {id:?} synced after Google came back"
    );
    s.assert_settled();
}

#[test]
fn a_create_applied_by_google_despite_a_dropped_answer_leaves_no_duplicate() {
    let s = prepared(world(), 3);
    // The first create call is applied by Google, but the connection drops before the answer:
    // the client retries and Google now holds two copies carrying our CRM ids.
    s.g.control
        .add_fault(host_sim::fake_google::FaultRule::script(
            Some("people.people.batchCreateContacts"),
            vec![host_sim::fake_google::Fault::Drop],
        ))
        .unwrap();
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    s.sync_now();
    s.next_tick();
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        3,
        "a duplicate stayed in Google"
    );
    assert_eq!(s.members().len(), 3);
    s.assert_settled();
}

#[test]
fn a_field_changed_on_both_sides_goes_to_the_latest_edit_under_latest_wins() {
    let s = synced(1, &[]);
    s.edit_google(
        "person0@example.org",
        json!({"organizations": [{"name": "Google Co"}]}),
    );
    // The CRM's edit comes an hour later (the CRM's clock moves; Google's stays at its edit).
    s.g.sim().advance(60 * 60_000);
    s.edit_crm(s.ids[0], |c| c.company = "CRM Co later".into());
    s.g.settle();
    s.next_tick();
    assert_eq!(s.crm(s.ids[0]).company.as_str(), "CRM Co later");
    assert_eq!(
        s.person_of("person0@example.org")["organizations"][0]["name"],
        "CRM Co later"
    );
    s.assert_settled();
}

#[test]
fn google_suddenly_listing_an_empty_group_is_held_not_applied() {
    let s = synced(30, &[]);
    let group = s.group();
    for p in s.members() {
        let rn = p["resourceName"].as_str().unwrap().to_string();
        s.g.control
            .modify_group_members(ALICE, "contactGroups/myContacts", &[&rn], &[])
            .unwrap();
        s.g.control
            .modify_group_members(ALICE, &group, &[], &[&rn])
            .unwrap();
    }
    s.g.tick(11 * 60_000);
    let view = s.view();
    assert!(view.contains("confirm-removals"), "{view}");
    assert_eq!(
        s.g.sim().crm().all_contacts().len(),
        30,
        "nothing in Google deletes CRM contacts"
    );
}

impl Setup {
    fn resource_of(&self, email: &str) -> String {
        self.person_of(email)["resourceName"]
            .as_str()
            .expect("resource name")
            .to_string()
    }

    /// Takes the contact out of `group` in Google (keeping it in "My Contacts"), as a user would.
    fn ungroup_in_google(&self, email: &str, group: &str) {
        let rn = self.resource_of(email);
        self.g
            .control
            .modify_group_members(ALICE, "contactGroups/myContacts", &[&rn], &[])
            .unwrap();
        self.g
            .control
            .modify_group_members(ALICE, group, &[], &[&rn])
            .unwrap();
    }

    fn put_back_in_google(&self, email: &str, group: &str) {
        let rn = self.resource_of(email);
        self.g
            .control
            .modify_group_members(ALICE, group, &[&rn], &[])
            .unwrap();
    }

    /// The health rows of a filter's settings page that name `id`.
    fn health_of(&self, filter: abi::FilterId, id: ContactId) -> Vec<String> {
        let view = self
            .g
            .sim()
            .render_settings(PLUGIN, self.user.id, SettingsPage::Filter(filter))
            .unwrap();
        view.sections
            .iter()
            .flat_map(|s| s.widgets.iter())
            .filter_map(|w| match w {
                abi::Widget::Table { id: t, rows, .. } if t.as_str() == "health" => Some(rows.clone()),
                _ => None,
            })
            .flatten()
            .filter(|row| row.first().is_some_and(|c| c.as_str() == id.0.to_string()))
            .map(|row| row.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" | "))
            .collect()
    }

    /// Counts the CRM contacts whose primary e-mail is `email`.
    fn crm_with_email(&self, email: &str) -> usize {
        self.g
            .sim()
            .crm()
            .all_contacts()
            .iter()
            .filter(|r| r.contact.emails.iter().any(|e| e.value.as_str() == email))
            .count()
    }
}

#[test]
fn a_contact_put_back_into_the_group_in_google_syncs_again() {
    let s = synced(2, &[]);
    let group = s.group();
    s.ungroup_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(s.members().len(), 1, "taken out in Google: out of the group");
    assert_eq!(s.health_of(s.filter.id, s.ids[0]).len(), 1, "shown as excluded");
    s.put_back_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(s.members().len(), 2);
    assert!(
        s.health_of(s.filter.id, s.ids[0]).is_empty(),
        "no longer excluded"
    );
    // It syncs again: a CRM edit reaches Google.
    s.edit_crm(s.ids[0], |c| c.notes = "after coming back".into());
    s.g.settle();
    assert_eq!(
        s.person_of("person0@example.org")["biographies"][0]["value"],
        "after coming back"
    );
    assert_eq!(s.g.sim().crm().contact_count(), 2, "no CRM copy");
    s.assert_settled();
}

#[test]
fn a_contact_put_back_into_one_of_two_groups_sharing_it_syncs_again_with_that_filter() {
    let s = synced(2, &[]);
    let second = s.g.filter(s.user.id, "Second", "vip");
    let outcome = s.g.enable(s.user.id, second.id, ALICE, &[]);
    assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
    s.g.settle();
    let second_group = s.g.group(ALICE, "Second").expect("second group");
    assert_eq!(s.g.members(ALICE, &second_group).len(), 2);
    assert_eq!(
        s.g.google_contacts(ALICE).len(),
        2,
        "one Google contact per CRM contact"
    );
    // Out of the second group only, then back.
    s.ungroup_in_google("person0@example.org", &second_group);
    s.next_tick();
    assert_eq!(s.g.members(ALICE, &second_group).len(), 1);
    assert_eq!(s.members().len(), 2, "the first filter keeps it");
    assert_eq!(
        s.health_of(second.id, s.ids[0]).len(),
        1,
        "excluded from the second filter"
    );
    s.put_back_in_google("person0@example.org", &second_group);
    s.next_tick();
    assert!(
        s.health_of(second.id, s.ids[0]).is_empty(),
        "still excluded: {:?}",
        s.health_of(second.id, s.ids[0])
    );
    assert_eq!(s.g.members(ALICE, &second_group).len(), 2);
    // The second filter syncs it again even once the first one no longer holds it.
    s.ungroup_in_google("person0@example.org", &s.group());
    s.next_tick();
    s.edit_crm(s.ids[0], |c| c.position = "only the second filter".into());
    s.g.settle();
    s.next_tick();
    assert_eq!(
        s.person_of("person0@example.org")["organizations"][0]["title"],
        "only the second filter"
    );
    assert_eq!(s.g.members(ALICE, &second_group).len(), 2);
    assert_eq!(s.g.google_contacts(ALICE).len(), 2, "no Google copy");
    assert_eq!(s.g.sim().crm().contact_count(), 2, "no CRM copy");
    s.assert_settled();
}

#[test]
fn a_contact_deleted_and_created_again_in_the_group_with_the_same_email_joins_its_crm_contact() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person1@example.org");
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.next_tick();
    assert_eq!(s.members().len(), 1);
    s.create_in_group("Given1", "Family1", "person1@example.org");
    s.next_tick();
    assert_eq!(s.crm_with_email("person1@example.org"), 1, "a CRM duplicate");
    assert_eq!(s.g.sim().crm().contact_count(), 2);
    assert_eq!(s.members().len(), 2);
    assert!(
        s.health_of(s.filter.id, s.ids[1]).is_empty(),
        "no longer excluded"
    );
    // Linked: a CRM edit reaches the new Google contact, which now carries the CRM id.
    let person = s.assert_crm_edits_reach("person1@example.org", s.ids[1], "joined again");
    assert!(
        person["clientData"].to_string().contains(&s.ids[1].0.to_string()),
        "{person}"
    );
    s.assert_settled();
}

#[test]
fn a_contact_created_again_in_google_after_its_crm_contact_left_the_filter_is_not_imported_as_a_copy() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person1@example.org");
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.next_tick();
    assert_eq!(s.members().len(), 1);
    // The CRM contact leaves the filter, and then someone creates it again in Google's group.
    s.move_out_of_filter(s.ids[1]);
    s.g.settle();
    s.create_in_group("Given1", "Family1", "person1@example.org");
    s.next_tick();
    s.next_tick();
    assert_eq!(
        s.crm_with_email("person1@example.org"),
        1,
        "a CRM copy of the contact"
    );
    assert_eq!(s.g.sim().crm().contact_count(), 2);
    // The group follows the filter: the contact created again is taken out, not deleted.
    assert_eq!(s.members().len(), 1, "{:?}", s.members());
    assert_eq!(s.g.google_contacts(ALICE).len(), 2, "nothing deleted in Google");
    s.assert_settled();
}

#[test]
fn a_contact_deleted_in_google_and_missing_from_a_full_listing_is_unlinked_even_when_edited_in_the_crm() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person0@example.org");
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    // The next listing is a full one, which shows no tombstone: the contact is simply absent.
    s.g.control.expire_sync_tokens(Some(ALICE));
    s.edit_crm(s.ids[0], |c| c.notes = "edited after the deletion".into());
    s.g.settle();
    s.next_tick();
    let health = s.health_of(s.filter.id, s.ids[0]);
    assert!(health.len() == 1 && health[0].contains("excluded"), "{health:?}");
    assert!(
        s.g.sim().crm().contact(s.ids[0]).is_some(),
        "the CRM contact stays"
    );
    assert_eq!(s.g.google_contacts(ALICE).len(), 1, "not created again");
    s.assert_settled();
}

#[test]
fn a_contact_taken_out_of_the_group_in_google_right_after_the_plugin_wrote_it_is_unlinked() {
    let s = synced(2, &[]);
    let group = s.group();
    // The plugin writes the contact, and the user takes it out of the group a moment later:
    // the listing that shows it out comes within the time Google may take to show writes.
    s.edit_crm(s.ids[0], |c| c.notes = "just written".into());
    s.g.settle();
    assert_eq!(
        s.person_of("person0@example.org")["biographies"][0]["value"],
        "just written"
    );
    s.ungroup_in_google("person0@example.org", &group);
    s.sync_now();
    let health = s.health_of(s.filter.id, s.ids[0]);
    assert!(health.len() == 1 && health[0].contains("excluded"), "{health:?}");
    assert_eq!(s.members().len(), 1);
    assert!(s.g.sim().crm().contact(s.ids[0]).is_some());
    s.assert_settled();
}

#[test]
fn a_contact_renamed_by_google_and_then_deleted_is_unlinked_and_the_crm_contact_kept() {
    let s = synced(2, &[]);
    let old = s.resource_of("person1@example.org");
    let new = s.g.control.rename_contact(ALICE, &old).unwrap();
    s.g.control.delete_contact(ALICE, &new).unwrap();
    s.next_tick();
    let health = s.health_of(s.filter.id, s.ids[1]);
    assert!(health.len() == 1 && health[0].contains("excluded"), "{health:?}");
    assert!(
        s.g.sim().crm().contact(s.ids[1]).is_some(),
        "the CRM contact stays"
    );
    // A later CRM edit does not bring it back, nor fail.
    s.edit_crm(s.ids[1], |c| c.notes = "after".into());
    s.g.settle();
    assert_eq!(s.g.google_contacts(ALICE).len(), 1);
    assert!(s.health_of(s.filter.id, s.ids[1])[0].contains("excluded"));
    s.assert_settled();
}

#[test]
fn a_contact_created_again_in_google_before_google_shows_the_old_one_deleted_is_no_crm_copy() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person1@example.org");
    // The deletion reaches listings 20 minutes late; the new contact at once.
    s.g.control
        .update_config(|c| c.propagation_delay_ms = 20 * 60_000);
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.g.control.update_config(|c| c.propagation_delay_ms = 0);
    s.create_in_group("Given1", "Family1", "person1@example.org");
    s.next_tick();
    assert_eq!(s.crm_with_email("person1@example.org"), 1, "a CRM copy");
    s.g.control
        .advance_clock(std::time::Duration::from_millis(21 * 60_000));
    s.next_tick();
    assert_eq!(s.crm_with_email("person1@example.org"), 1, "a CRM copy");
    assert_eq!(s.members().len(), 2);
    s.assert_crm_edits_reach("person1@example.org", s.ids[1], "joined");
    s.assert_settled();
}

#[test]
fn a_contact_deleted_and_created_again_in_google_seen_in_one_full_listing_joins_its_crm_contact() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person1@example.org");
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.create_in_group("Given1", "Family1", "person1@example.org");
    // A full listing shows no tombstone: the old contact is simply absent, the new one there.
    s.g.control.expire_sync_tokens(Some(ALICE));
    s.next_tick();
    assert_eq!(s.crm_with_email("person1@example.org"), 1, "a CRM copy");
    assert_eq!(s.members().len(), 2);
    let health = s.health_of(s.filter.id, s.ids[1]);
    assert!(health.is_empty(), "{health:?}");
    s.assert_crm_edits_reach("person1@example.org", s.ids[1], "joined");
    s.assert_settled();
}

#[test]
fn a_contact_put_back_into_the_group_in_google_after_it_left_the_filter_leaves_the_group_again() {
    let s = synced(2, &[]);
    let group = s.group();
    s.ungroup_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(s.members().len(), 1);
    // The CRM contact leaves the filter, then the user puts its Google contact back.
    s.move_out_of_filter(s.ids[0]);
    s.g.settle();
    s.put_back_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(
        s.members().len(),
        1,
        "a contact outside the filter stayed in the group"
    );
    assert_eq!(s.g.google_contacts(ALICE).len(), 2, "nothing deleted in Google");
    assert_eq!(s.g.sim().crm().contact_count(), 2, "no CRM copy");
    s.assert_settled();
}

fn drop_answers(s: &Setup, method: &str, times: usize) {
    s.g.control
        .add_fault(host_sim::fake_google::FaultRule::script(
            Some(method),
            vec![host_sim::fake_google::Fault::Drop; times],
        ))
        .unwrap();
}

fn notes_in_google(s: &Setup, email: &str) -> String {
    s.person_of(email)["biographies"][0]["value"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn notes_cleared_in_google_while_the_contact_was_out_of_the_group_stay_cleared_when_it_is_put_back() {
    let s = synced(2, &[]);
    let group = s.group();
    s.assert_crm_edits_reach("person0@example.org", s.ids[0], "agreed notes");
    s.ungroup_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(s.members().len(), 1, "taken out in Google: out of the group");
    // While it is out, the user clears its notes in Google, then puts it back.
    s.edit_google("person0@example.org", json!({"biographies": []}));
    s.put_back_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(s.members().len(), 2);
    // Its last synced state is the base: clearing is the user's edit, not a value missing.
    assert_eq!(
        s.crm(s.ids[0]).notes.as_str(),
        "",
        "the CRM kept the cleared notes"
    );
    assert_eq!(
        notes_in_google(&s, "person0@example.org"),
        "",
        "the notes came back"
    );
    s.assert_settled();
}

#[test]
fn a_google_edit_after_an_update_whose_answer_was_lost_wins_over_that_update() {
    let s = synced(1, &[]);
    // The update is applied by Google but its answer is lost; the retry is refused as stale.
    drop_answers(&s, "people.people.batchUpdateContacts", 1);
    s.edit_crm(s.ids[0], |c| c.notes = "sent once".into());
    s.g.settle();
    assert_eq!(notes_in_google(&s, "person0@example.org"), "sent once");
    // Then the user clears the notes in Google.
    s.edit_google("person0@example.org", json!({"biographies": []}));
    s.next_tick();
    assert_eq!(s.crm(s.ids[0]).notes.as_str(), "", "the Google edit was lost");
    assert_eq!(notes_in_google(&s, "person0@example.org"), "");
    s.assert_settled();
}

#[test]
fn a_crm_edit_after_an_update_whose_every_answer_was_lost_is_not_undone_by_that_update() {
    let s = synced(1, &[]);
    // Google applies the update, and every attempt's answer is lost: the run fails.
    drop_answers(&s, "people.people.batchUpdateContacts", 6);
    s.edit_crm(s.ids[0], |c| c.notes = "sent, answer lost".into());
    s.g.settle();
    assert_eq!(notes_in_google(&s, "person0@example.org"), "sent, answer lost");
    s.g.control.clear_faults();
    // The user then clears the notes in the CRM: that edit is the latest word.
    s.edit_crm(s.ids[0], |c| c.notes = "".into());
    s.g.settle();
    s.next_tick();
    assert_eq!(
        s.crm(s.ids[0]).notes.as_str(),
        "",
        "the lost update came back to the CRM"
    );
    assert_eq!(notes_in_google(&s, "person0@example.org"), "");
    s.assert_settled();
}

#[test]
fn a_google_edit_of_a_contact_whose_create_answer_was_lost_is_kept_when_it_is_found() {
    let s = prepared(world(), 1);
    s.edit_crm(s.ids[0], |c| c.notes = "from the CRM".into());
    drop_answers(&s, "people.people.batchCreateContacts", 1);
    // The first run lists Google; the runs after it cannot until the user's edit below.
    let mut listings = vec![host_sim::fake_google::Fault::Ok];
    listings.extend(vec![host_sim::fake_google::Fault::Unavailable; 6]);
    s.g.control
        .add_fault(host_sim::fake_google::FaultRule::script(
            Some("people.people.connections.list"),
            listings,
        ))
        .unwrap();
    s.g.enabled(s.user.id, s.filter.id, ALICE, &[]);
    s.g.settle();
    // The create landed although the plugin never learned of it; the user clears its notes.
    s.edit_google("person0@example.org", json!({"biographies": []}));
    s.g.control.clear_faults();
    s.next_tick();
    s.next_tick();
    assert_eq!(s.g.google_contacts(ALICE).len(), 1, "a duplicate in Google");
    assert_eq!(s.crm(s.ids[0]).notes.as_str(), "", "the Google edit was lost");
    assert_eq!(notes_in_google(&s, "person0@example.org"), "");
    s.assert_settled();
}

#[test]
fn a_contact_created_again_in_google_while_its_crm_contact_leaves_the_filter_joins_it_when_it_returns() {
    let s = synced(2, &[]);
    let rn = s.resource_of("person0@example.org");
    // All before the next run: deleted in Google, created again in the group, and the CRM
    // contact leaves the filter.
    s.g.control.delete_contact(ALICE, &rn).unwrap();
    s.create_in_group("Given0", "Family0", "person0@example.org");
    s.move_out_of_filter(s.ids[0]);
    s.g.settle();
    s.next_tick();
    assert_eq!(
        s.members().len(),
        1,
        "a contact outside the filter stayed in the group"
    );
    // Back in the filter, it joins the contact created again: no copy on either side.
    s.move_into_filter(s.ids[0]);
    s.g.settle();
    s.next_tick();
    assert_eq!(s.members().len(), 2, "it stayed out of the group");
    assert_eq!(s.g.google_contacts(ALICE).len(), 2, "a copy in Google");
    assert_eq!(s.g.sim().crm().contact_count(), 2, "a CRM copy");
    s.assert_crm_edits_reach("person0@example.org", s.ids[0], "back in the filter");
    s.assert_settled();
}

#[test]
fn a_contact_put_back_in_google_while_out_of_the_filter_syncs_again_when_it_returns() {
    let s = synced(2, &[]);
    let group = s.group();
    s.ungroup_in_google("person0@example.org", &group);
    s.next_tick();
    s.move_out_of_filter(s.ids[0]);
    s.g.settle();
    s.put_back_in_google("person0@example.org", &group);
    s.next_tick();
    assert_eq!(
        s.members().len(),
        1,
        "a contact outside the filter stayed in the group"
    );
    // Back in the filter: the user's last word in Google was "sync it".
    s.move_into_filter(s.ids[0]);
    s.g.settle();
    s.next_tick();
    assert_eq!(s.members().len(), 2, "it stayed out of the group");
    assert!(
        s.health_of(s.filter.id, s.ids[0]).is_empty(),
        "still shown excluded"
    );
    assert_eq!(s.g.google_contacts(ALICE).len(), 2, "a copy in Google");
    assert_eq!(s.g.sim().crm().contact_count(), 2, "a CRM copy");
    s.assert_crm_edits_reach("person0@example.org", s.ids[0], "back in the filter");
    s.assert_settled();
}

#[test]
fn a_crm_edit_is_written_on_googles_kept_copy_without_a_read_and_keeps_what_is_not_mapped() {
    let s = synced(2, &[]);
    // In Google: a mapped edit (notes), an e-mail's display name and another app's data, which
    // the mapping does not cover.
    let person = s.person_of("person0@example.org");
    let mut client_data = person["clientData"].as_array().cloned().unwrap_or_default();
    client_data.push(json!({"key": "other-app", "value": "7"}));
    s.edit_google(
        "person0@example.org",
        json!({
            "biographies": [{"value": "From Google", "contentType": "TEXT_PLAIN"}],
            "emailAddresses": [{"value": "person0@example.org", "displayName": "Ann at work"}],
            "clientData": client_data,
        }),
    );
    s.next_tick();
    assert_eq!(s.crm(s.ids[0]).notes.as_str(), "From Google");

    s.g.control.reset_stats();
    s.edit_crm(s.ids[0], |c| c.position = "Chief Buyer".into());
    s.g.settle();
    let stats = s.g.control.stats();
    assert_eq!(stats.count("people.people.getBatchGet"), 0, "{stats:?}");
    assert_eq!(stats.count("people.people.batchUpdateContacts"), 1, "{stats:?}");
    let person = s.person_of("person0@example.org");
    assert_eq!(person["organizations"][0]["title"], "Chief Buyer", "{person}");
    assert_eq!(person["biographies"][0]["value"], "From Google", "{person}");
    assert_eq!(
        person["emailAddresses"][0]["displayName"], "Ann at work",
        "{person}"
    );
    let kept = person["clientData"].as_array().cloned().unwrap_or_default();
    assert!(kept.iter().any(|d| d["key"] == "other-app"), "{person}");
    assert_eq!(
        kept.len(),
        client_data.len(),
        "our own mark is kept too: {person}"
    );
    s.assert_settled();
}

#[test]
fn a_crm_edit_written_on_a_kept_copy_that_google_changed_since_loses_neither_edit() {
    // The kept copy is older than Google's when the CRM edit is written.
    let s = synced_with_late_listings(2);
    s.edit_google(
        "person0@example.org",
        json!({"biographies": [{"value": "late", "contentType": "TEXT_PLAIN"}]}),
    );
    s.edit_crm(s.ids[0], |c| c.position = "Chief Buyer".into());
    s.g.settle();
    assert_eq!(
        s.person_of("person0@example.org")["biographies"][0]["value"],
        "late",
        "the write on the older copy replaced Google's edit"
    );
    s.g.control.advance_clock(std::time::Duration::from_secs(61));
    s.next_tick();
    s.g.control.advance_clock(std::time::Duration::from_secs(61));
    s.next_tick();
    let person = s.person_of("person0@example.org");
    assert_eq!(person["organizations"][0]["title"], "Chief Buyer", "{person}");
    assert_eq!(person["biographies"][0]["value"], "late", "{person}");
    assert_eq!(s.crm(s.ids[0]).notes.as_str(), "late");
    assert_eq!(s.crm(s.ids[0]).position.as_str(), "Chief Buyer");
    s.assert_settled();
}
