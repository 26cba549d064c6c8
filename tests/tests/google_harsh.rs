//! The plugin against a Google as harsh as its documentation: listings that cut e-mails and
//! phones at 100, contacts that Google gives new resource names, and contacts Google refuses as
//! too large. End to end through host-sim, the real library and the fake Google over HTTP.

use abi::{Contact, ContactId, ContactsPermission, SettingsPage, TypedValue};
use abi_stable::std_types::RVec;
use host_sim::crm::Visibility;
use host_sim::fake_google::{Fault, FaultRule};
use serde_json::{json, Value};
use tests::{contact, GoogleWorld, PLUGIN};

const ALICE: &str = "alice@example.com";
const FIVE_MINUTES: i64 = 5 * 60_000;

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
}

/// Alice connected, a filter on segment "vip" holding `contacts`, sync enabled and run once.
fn synced(contacts: Vec<Contact>) -> (Setup, Vec<ContactId>) {
    synced_in(GoogleWorld::start(|_| {}, |_| {}), contacts)
}

/// [`synced`], in world `g`.
fn synced_in(g: GoogleWorld, contacts: Vec<Contact>) -> (Setup, Vec<ContactId>) {
    let user = g.user("Ann", ContactsPermission::Edit);
    let ids = contacts
        .into_iter()
        .map(|c| {
            g.sim()
                .create_contact(user.id, c, Visibility::Everyone)
                .expect("created")
                .id
        })
        .collect();
    let filter = g.filter(user.id, "VIP clients", "vip");
    g.connect(user.id, ALICE);
    g.settle();
    let s = Setup { g, user, filter };
    let outcome = s.g.enable(s.user.id, s.filter.id, ALICE, &[]);
    assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
    s.g.settle();
    (s, ids)
}

impl Setup {
    fn group(&self) -> String {
        self.g.group(ALICE, &self.filter.name).expect("group exists")
    }

    fn crm(&self, id: ContactId) -> Contact {
        self.g
            .sim()
            .crm()
            .contact(id)
            .expect("CRM contact exists")
            .contact
    }

    fn crm_count(&self) -> usize {
        self.g.sim().crm().contact_count()
    }

    fn edit_crm(&self, id: ContactId, f: impl FnOnce(&mut Contact)) {
        let mut c = self.crm(id);
        f(&mut c);
        self.g.sim().update_contact(self.user.id, c).expect("CRM update");
    }

    /// The Google contact carrying CRM id `id` (our `clientData`), read as the web UI shows it.
    fn person_of(&self, id: ContactId) -> Value {
        let key = id.0.to_string();
        let mut found: Vec<Value> = self
            .g
            .google_contacts(ALICE)
            .into_iter()
            .filter(|p| {
                p["clientData"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|kv| kv["value"] == key.as_str()))
            })
            .collect();
        assert_eq!(found.len(), 1, "one Google contact for CRM contact {}", id.0);
        found.remove(0)
    }

    fn resource_name(&self, id: ContactId) -> String {
        self.person_of(id)["resourceName"]
            .as_str()
            .expect("rn")
            .to_string()
    }

    /// Whether Ann may edit CRM contacts: while she may not, the CRM refuses the plugin's imports.
    fn may_edit(&self, edit: bool) {
        let permission = if edit {
            ContactsPermission::Edit
        } else {
            ContactsPermission::View
        };
        let mut user = self.g.sim().crm().user(self.user.id).expect("Ann");
        user.contacts_permission = permission;
        self.g.sim().crm().put_user_record(user).expect("user updated");
    }

    /// Puts a contact with a name only (nothing to match it by) into the group in Google.
    fn add_nameless_in_google(&self, family: &str) -> String {
        let person = json!({
            "names": [{"givenName": "Only", "familyName": family}],
            "memberships": [{"contactGroupMembership": {"contactGroupResourceName": self.group()}}]
        });
        let created = self.g.control.create_contact(ALICE, &person).expect("created");
        created["resourceName"].as_str().expect("rn").to_string()
    }

    fn next_tick(&self) {
        self.g.tick(FIVE_MINUTES + 60_000);
    }

    /// Both clocks move `ms` (the CRM's, with its tick, and Google's, with its propagation).
    fn later(&self, ms: i64) {
        self.g
            .control
            .advance_clock(std::time::Duration::from_millis(ms as u64));
        self.g.tick(ms);
    }

    fn set_segment(&self, id: ContactId, segment: &str) {
        self.edit_crm(id, |c| {
            c.custom_fields = RVec::from(vec![abi::CustomField {
                key: "segment".into(),
                label: "Segment".into(),
                value: segment.into(),
            }])
        });
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

    fn view(&self) -> String {
        format!(
            "{:?}",
            self.g
                .sim()
                .render_settings(PLUGIN, self.user.id, SettingsPage::Filter(self.filter.id))
                .expect("settings render")
        )
    }

    /// Nothing was ever deleted in Google, the group holds `n` contacts, the CRM `n` too, and no
    /// hook failed.
    fn assert_whole(&self, n: usize) {
        assert!(
            self.g.control.tombstones(ALICE).expect("tombstones").is_empty(),
            "a contact was deleted in Google"
        );
        assert_eq!(self.g.google_contacts(ALICE).len(), n, "Google contacts");
        assert_eq!(self.g.members(ALICE, &self.group()).len(), n, "group members");
        assert_eq!(self.crm_count(), n, "CRM contacts (none imported)");
        assert!(
            self.g.sim().hook_errors().is_empty(),
            "{:?}",
            self.g.sim().hook_errors()
        );
        assert_eq!(
            self.g.control.stats().overlapping_mutates,
            0,
            "overlapping mutates"
        );
    }

    /// One more sync writes nothing on either side.
    fn assert_settled(&self) {
        let (google, crm) = (self.g.writes(), self.g.sim().plugin_writes());
        self.sync_now();
        self.next_tick();
        assert_eq!(self.g.writes(), google, "a sync after settling wrote to Google");
        assert_eq!(
            self.g.sim().plugin_writes(),
            crm,
            "a sync after settling wrote to the CRM"
        );
    }
}

fn typed(values: impl Iterator<Item = String>, kind: &str) -> RVec<TypedValue> {
    values
        .enumerate()
        .map(|(i, value)| TypedValue {
            value: value.into(),
            kind: kind.into(),
            primary: i == 0,
        })
        .collect()
}

fn big_contact() -> Contact {
    let mut c = contact("Many", "Addresses", "unused@example.org", "vip");
    c.emails = typed((0..150).map(|i| format!("many{i:03}@example.org")), "work");
    c.phones = typed((0..120).map(|i| format!("+1 555 {:07}", 1_000_000 + i)), "mobile");
    c
}

fn emails_of(person: &Value) -> Vec<String> {
    let mut v: Vec<String> = person["emailAddresses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn phones_of(person: &Value) -> Vec<String> {
    let mut v: Vec<String> = person["phoneNumbers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn crm_values(values: &RVec<TypedValue>) -> Vec<String> {
    let mut v: Vec<String> = values.iter().map(|t| t.value.to_string()).collect();
    v.sort();
    v
}

/// Both sides hold exactly `emails` and `phones`.
fn assert_all_values(s: &Setup, id: ContactId, emails: &[String], phones: &[String]) {
    let person = s.person_of(id);
    let crm = s.crm(id);
    assert_eq!(emails_of(&person).len(), emails.len(), "Google's e-mails");
    assert_eq!(emails_of(&person), emails, "Google's e-mails");
    assert_eq!(phones_of(&person), phones, "Google's phones");
    assert_eq!(crm_values(&crm.emails).len(), emails.len(), "the CRM's e-mails");
    assert_eq!(crm_values(&crm.emails), emails, "the CRM's e-mails");
    assert_eq!(crm_values(&crm.phones), phones, "the CRM's phones");
}

#[test]
fn a_contact_with_150_emails_and_120_phones_keeps_every_value_through_google_edits_crm_edits_and_a_full_relisting(
) {
    let (s, ids) = synced(vec![big_contact()]);
    let id = ids[0];
    let mut emails = crm_values(&s.crm(id).emails);
    let phones = crm_values(&s.crm(id).phones);
    assert_all_values(&s, id, &emails, &phones);

    // An edit in Google: the listing shows only 100 e-mails and 100 phones of the contact.
    let rn = s.resource_name(id);
    s.g.control
        .edit_contact(
            ALICE,
            &rn,
            &json!({"biographies": [{"value": "Edited in Google"}]}),
        )
        .expect("Google edit");
    s.next_tick();
    assert_eq!(s.crm(id).notes.as_str(), "Edited in Google");
    assert_all_values(&s, id, &emails, &phones);

    // An edit in the CRM: one e-mail more and a new position.
    s.edit_crm(id, |c| {
        c.emails.push(TypedValue {
            value: "added@example.org".into(),
            kind: "home".into(),
            primary: false,
        });
        c.position = "Buyer".into();
    });
    s.g.settle();
    s.next_tick();
    emails.push("added@example.org".into());
    emails.sort();
    assert_eq!(s.person_of(id)["organizations"][0]["title"], "Buyer");
    assert_all_values(&s, id, &emails, &phones);

    // A full re-listing (the sync token expired) with another Google edit in it.
    s.g.control.expire_sync_tokens(Some(ALICE));
    s.g.control
        .edit_contact(ALICE, &rn, &json!({"biographies": [{"value": "Edited again"}]}))
        .expect("Google edit");
    s.next_tick();
    assert_eq!(s.crm(id).notes.as_str(), "Edited again");
    assert_all_values(&s, id, &emails, &phones);
    s.assert_whole(1);
    s.assert_settled();
    assert_all_values(&s, id, &emails, &phones);
}

#[test]
fn a_google_contact_with_150_emails_added_to_the_group_is_imported_with_all_of_them() {
    let (s, _) = synced(vec![contact("Sam", "Steady", "sam@example.org", "vip")]);
    let emails: Vec<Value> = (0..150)
        .map(|i| json!({"value": format!("imported{i:03}@example.org")}))
        .collect();
    let phones: Vec<Value> = (0..120)
        .map(|i| json!({"value": format!("+1 555 {:07}", 2_000_000 + i)}))
        .collect();
    s.g.control
        .create_contact(
            ALICE,
            &json!({
                "names": [{"givenName": "Imported", "familyName": "Many"}],
                "emailAddresses": emails,
                "phoneNumbers": phones,
                "memberships": [{"contactGroupMembership": {"contactGroupResourceName": s.group()}}],
            }),
        )
        .expect("Google create");
    s.next_tick();
    assert_eq!(s.crm_count(), 2, "imported once");
    let imported =
        s.g.sim()
            .crm()
            .all_contacts()
            .into_iter()
            .map(|r| r.contact)
            .find(|c| c.name.given.as_str() == "Imported")
            .expect("imported contact");
    assert_eq!(imported.emails.len(), 150);
    assert_eq!(imported.phones.len(), 120);
    let person = s.person_of(imported.id);
    assert_eq!(emails_of(&person).len(), 150, "Google keeps them all too");
    assert_eq!(phones_of(&person).len(), 120);
    s.assert_settled();
}

/// Two "vip" contacts synced, with a Google that shows writes in listings `lag_ms` late and a
/// plugin told they show within `visibility_ms`; then long enough for every write to show.
fn synced_with_lag(lag_ms: u64, visibility_ms: u64) -> (Setup, Vec<ContactId>) {
    let g = GoogleWorld::start(
        |c| c.propagation_delay_ms = lag_ms,
        |c| {
            c.plugin_config
                .insert("sync.visibility_ms".into(), visibility_ms.to_string());
        },
    );
    let (s, ids) = synced_in(g, two_contacts());
    for _ in 0..4 {
        s.later(FIVE_MINUTES + 60_000);
    }
    s.assert_whole(2);
    (s, ids)
}

fn two_contacts() -> Vec<Contact> {
    vec![
        contact("Rita", "Renamed", "rita@example.org", "vip"),
        contact("Sam", "Steady", "sam@example.org", "vip"),
    ]
}

#[test]
fn a_contact_renamed_in_google_stays_one_linked_contact_in_the_group() {
    let (s, ids) = synced(two_contacts());
    let old = s.resource_name(ids[0]);
    let new = s.g.control.rename_contact(ALICE, &old).expect("rename");
    s.next_tick();
    s.assert_whole(2);
    assert_eq!(s.resource_name(ids[0]), new);

    // It keeps syncing both ways under its new name.
    s.edit_crm(ids[0], |c| c.position = "Chief Buyer".into());
    s.g.settle();
    assert_eq!(s.person_of(ids[0])["organizations"][0]["title"], "Chief Buyer");
    s.g.control
        .edit_contact(
            ALICE,
            &new,
            &json!({"biographies": [{"value": "Met at the fair"}]}),
        )
        .expect("Google edit");
    s.next_tick();
    assert_eq!(s.crm(ids[0]).notes.as_str(), "Met at the fair");
    s.assert_whole(2);
    s.assert_settled();
}

#[test]
fn a_contact_renamed_while_both_sides_edit_it_keeps_both_edits_also_across_a_full_relisting() {
    let (s, ids) = synced(two_contacts());
    let old = s.resource_name(ids[0]);
    let new = s.g.control.rename_contact(ALICE, &old).expect("rename");
    s.g.control
        .edit_contact(ALICE, &new, &json!({"biographies": [{"value": "Google's note"}]}))
        .expect("Google edit");
    // The CRM edit's own run writes to the old name before any listing showed the rename.
    s.edit_crm(ids[0], |c| c.position = "CRM's position".into());
    s.g.settle();
    s.next_tick();
    s.next_tick();
    let person = s.person_of(ids[0]);
    assert_eq!(person["resourceName"], new.as_str());
    assert_eq!(person["organizations"][0]["title"], "CRM's position");
    assert_eq!(person["biographies"][0]["value"], "Google's note");
    assert_eq!(s.crm(ids[0]).position.as_str(), "CRM's position");
    assert_eq!(s.crm(ids[0]).notes.as_str(), "Google's note");
    s.assert_whole(2);

    // Renamed again, seen this time only by a full listing (no former names there).
    let newer = s.g.control.rename_contact(ALICE, &new).expect("rename");
    s.g.control.expire_sync_tokens(Some(ALICE));
    s.g.control
        .edit_contact(
            ALICE,
            &newer,
            &json!({"biographies": [{"value": "Google again"}]}),
        )
        .expect("Google edit");
    s.edit_crm(ids[0], |c| c.company = "Acme".into());
    s.g.settle();
    s.next_tick();
    s.next_tick();
    let person = s.person_of(ids[0]);
    assert_eq!(person["resourceName"], newer.as_str());
    assert_eq!(person["organizations"][0]["name"], "Acme");
    assert_eq!(person["biographies"][0]["value"], "Google again");
    assert_eq!(s.crm(ids[0]).notes.as_str(), "Google again");
    assert_eq!(s.crm(ids[0]).company.as_str(), "Acme");
    s.assert_whole(2);
    s.assert_settled();
}

#[test]
fn a_contact_renamed_in_google_then_moved_out_of_the_filter_leaves_the_group_and_stays_in_google() {
    let (s, ids) = synced(two_contacts());
    let old = s.resource_name(ids[0]);
    let new = s.g.control.rename_contact(ALICE, &old).expect("rename");
    // Its CRM side leaves the filter before any listing showed the new name.
    s.set_segment(ids[0], "other");
    s.g.settle();
    s.next_tick();
    s.next_tick();
    let members = s.g.members(ALICE, &s.group());
    assert_eq!(members.len(), 1, "only the other contact is left in the group");
    assert!(
        s.g.control.tombstones(ALICE).expect("tombstones").is_empty(),
        "nothing deleted in Google"
    );
    assert_eq!(s.g.google_contacts(ALICE).len(), 2);
    assert_eq!(s.resource_name(ids[0]), new);
    assert_eq!(s.crm_count(), 2, "nothing imported");
    assert!(
        s.g.sim().hook_errors().is_empty(),
        "{:?}",
        s.g.sim().hook_errors()
    );
    s.assert_settled();
}

#[test]
fn a_contact_renamed_in_google_then_deleted_in_the_crm_is_deleted_in_google_under_its_new_name() {
    let (s, ids) = synced(two_contacts());
    let old = s.resource_name(ids[0]);
    let new = s.g.control.rename_contact(ALICE, &old).expect("rename");
    s.g.sim()
        .delete_contact(ids[0], Some(s.user.id))
        .expect("CRM delete");
    s.g.settle();
    s.next_tick();
    s.next_tick();
    let names: Vec<String> =
        s.g.google_contacts(ALICE)
            .iter()
            .filter_map(|p| p["resourceName"].as_str().map(str::to_string))
            .collect();
    assert!(
        !names.contains(&new),
        "the renamed contact is deleted too: {names:?}"
    );
    assert_eq!(names.len(), 1);
    assert_eq!(s.g.members(ALICE, &s.group()).len(), 1);
    assert_eq!(s.crm_count(), 1, "nothing imported");
    assert!(
        s.g.sim().hook_errors().is_empty(),
        "{:?}",
        s.g.sim().hook_errors()
    );
    s.assert_settled();
}

#[test]
fn a_rename_google_lists_minutes_late_is_followed_once_listed_with_both_edits() {
    const LAG_MS: u64 = 8 * 60_000;
    let (s, ids) = synced_with_lag(LAG_MS, 2 * LAG_MS);
    let later = |s: &Setup| s.later(FIVE_MINUTES + 60_000);

    let old = s.resource_name(ids[0]);
    let new = s.g.control.rename_contact(ALICE, &old).expect("rename");
    s.g.control
        .edit_contact(ALICE, &new, &json!({"biographies": [{"value": "Google's note"}]}))
        .expect("Google edit");
    s.edit_crm(ids[0], |c| c.position = "CRM's position".into());
    s.g.settle();
    later(&s); // the listing still shows the old name, which no longer resolves
    assert_eq!(s.g.members(ALICE, &s.group()).len(), 2);
    for _ in 0..3 {
        later(&s);
    }
    let person = s.person_of(ids[0]);
    assert_eq!(person["resourceName"], new.as_str());
    assert_eq!(person["organizations"][0]["title"], "CRM's position");
    assert_eq!(person["biographies"][0]["value"], "Google's note");
    assert_eq!(s.crm(ids[0]).notes.as_str(), "Google's note");
    assert_eq!(s.crm(ids[0]).position.as_str(), "CRM's position");
    s.assert_whole(2);
}

#[test]
fn mutates_of_one_google_user_never_overlap_with_two_bindings_and_jobs_running_side_by_side() {
    // Each People call takes 100 ms, so two mutates sent side by side would overlap.
    let g = GoogleWorld::start(|c| c.latency_ms = 100, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let mut ids = Vec::new();
    for (i, segment) in ["vip", "vip", "vip", "gold", "gold", "gold"].iter().enumerate() {
        let c = contact(
            "Side",
            &format!("By{i}"),
            &format!("side{i}@example.org"),
            segment,
        );
        ids.push(
            g.sim()
                .create_contact(user.id, c, Visibility::Everyone)
                .expect("created")
                .id,
        );
    }
    let vip = g.filter(user.id, "VIP clients", "vip");
    let gold = g.filter(user.id, "Gold clients", "gold");
    g.connect(user.id, ALICE);
    g.settle();
    g.enabled(user.id, vip.id, ALICE, &[]);
    g.enabled(user.id, gold.id, ALICE, &[]);
    g.settle();
    // Edits of both filters' contacts and "sync now" on both, without waiting in between.
    for (i, id) in ids.iter().enumerate() {
        let mut c = g.sim().crm().contact(*id).expect("contact").contact;
        c.position = format!("Position {i}").into();
        g.sim().update_contact(user.id, c).expect("CRM update");
    }
    for filter in [&vip, &gold] {
        g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    }
    g.settle();
    g.tick(FIVE_MINUTES + 60_000);
    let titles: Vec<String> = g
        .google_contacts(ALICE)
        .iter()
        .filter_map(|p| p["organizations"][0]["title"].as_str().map(str::to_string))
        .collect();
    assert_eq!(titles.len(), 6, "every edit reached Google: {titles:?}");
    assert_eq!(
        g.control.stats().overlapping_mutates,
        0,
        "the plugin sent overlapping mutates"
    );
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}

#[test]
fn a_contact_google_refuses_as_too_large_fails_alone_and_the_user_sees_why() {
    let mut big = contact("Long", "Notes", "long@example.org", "vip");
    big.notes = "n".repeat(140 * 1024).into();
    let (s, ids) = synced(vec![
        contact("Ok", "One", "one@example.org", "vip"),
        big,
        contact("Ok", "Two", "two@example.org", "vip"),
    ]);
    let members = s.g.members(ALICE, &s.group());
    assert_eq!(members.len(), 2, "the other contacts are synced");
    let view = s.view();
    assert!(view.contains("too large"), "the user sees why: {view}");
    assert!(
        s.g.sim().hook_errors().is_empty(),
        "{:?}",
        s.g.sim().hook_errors()
    );
    // Once the notes are short enough, it syncs.
    s.edit_crm(ids[1], |c| c.notes = "short now".into());
    s.g.settle();
    assert_eq!(s.g.members(ALICE, &s.group()).len(), 3);
}

/// Two synced contacts; a nameless one put into the group in Google while the CRM refuses
/// imports (Ann may only view contacts); `meanwhile` acts on it in Google (given its resource
/// name), a few runs pass, and then the CRM accepts imports again for two more runs.
fn import_refused_then(meanwhile: impl FnOnce(&Setup, &str)) -> Setup {
    let (s, _) = synced(two_contacts());
    let rn = s.add_nameless_in_google("Nameless");
    s.may_edit(false);
    s.next_tick();
    assert_eq!(s.g.crm_named("Nameless"), 0, "the CRM refused the import");
    meanwhile(&s, &rn);
    s.next_tick();
    s.next_tick();
    s.may_edit(true);
    s.next_tick();
    s.next_tick();
    s
}

/// The CRM refuses an import, then Google renames the contact: once the CRM accepts, the import
/// finishes under the new name with its first key, one CRM contact (fails with 2 when intents
/// do not follow renames).
#[test]
fn an_import_the_crm_refused_follows_a_rename_in_google_and_makes_one_crm_contact() {
    let s = import_refused_then(|s, rn| {
        s.g.control.rename_contact(ALICE, rn).expect("rename");
    });
    assert_eq!(
        s.g.crm_named("Nameless"),
        1,
        "CRM contacts for the renamed Google contact"
    );
    assert_eq!(s.crm_count(), 3);
}

/// The CRM refuses an import, then the contact is deleted in Google: the import ends there, and
/// the CRM never gets the contact once it accepts imports again (fails with 1 when open
/// imports are finished whatever Google shows).
#[test]
fn an_import_the_crm_refused_ends_when_the_contact_is_deleted_in_google() {
    let s = import_refused_then(|s, rn| s.g.control.delete_contact(ALICE, rn).expect("deleted"));
    assert_eq!(
        s.g.crm_named("Nameless"),
        0,
        "a CRM contact for a contact deleted in Google"
    );
    assert_eq!(s.crm_count(), 2);
}

#[test]
fn a_group_add_google_answers_late_in_a_long_run_is_not_taken_for_the_user_taking_the_contact_out() {
    // Simulation seed 5767: a write's record carried the time its run began, minutes before
    // Google applied it, so a listing too early to show it was trusted, and our own add, unseen,
    // read as the user taking the contact out of the group: it was excluded for good.
    const LAG_MS: u64 = 8 * 60_000;
    let (s, ids) = synced_with_lag(LAG_MS, 10 * 60_000);
    s.set_segment(ids[0], "other");
    s.g.settle();
    for _ in 0..3 {
        s.later(FIVE_MINUTES + 60_000);
    }
    assert_eq!(s.g.members(ALICE, &s.group()).len(), 1, "out of the group");

    // Back into the filter with an edit: the run writes the contact, then adds it to the group.
    // Google holds the add's first attempt while five minutes pass on both clocks.
    const ADD: &str = "people.contactGroups.members.modify";
    let adds = s.g.control.stats().count(ADD);
    s.g.control
        .add_fault(FaultRule::script(Some(ADD), vec![Fault::Hang { ms: 3000 }]))
        .expect("fault");
    s.edit_crm(ids[0], |c| c.notes = "back".into());
    s.set_segment(ids[0], "vip");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while s.g.control.stats().count(ADD) == adds {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never added the contact"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    s.g.control
        .advance_clock(std::time::Duration::from_millis(FIVE_MINUTES as u64));
    s.g.sim().advance(FIVE_MINUTES);
    s.g.settle();

    // A listing late enough to show the write the run began with, too early for its add.
    s.later(6 * 60_000 + 30_000);
    assert!(!s.view().contains("excluded"), "{}", s.view());
    for _ in 0..3 {
        s.later(FIVE_MINUTES + 60_000);
    }
    assert_eq!(s.person_of(ids[0])["biographies"][0]["value"], "back");
    s.assert_whole(2);
    s.assert_settled();
}
