//! Two-way sync of a saved filter with a Google group, end to end: host-sim with the real
//! plugin library, the fake Google over HTTP.

use abi::{ContactsPermission, SettingsPage};
use host_sim::crm::Visibility;
use tests::{contact, GoogleWorld};

const ALICE: &str = "alice@example.com";

struct Setup {
    g: GoogleWorld,
    user: abi::User,
    filter: abi::SavedFilter,
}

/// A user with `n` contacts in segment "vip" (and one outside it), connected to Alice's
/// Google account.
fn setup(n: usize) -> Setup {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    for i in 0..n {
        let c = contact(
            &format!("Given{i}"),
            &format!("Family{i}"),
            &format!("person{i}@example.org"),
            "vip",
        );
        g.sim().create_contact(user.id, c, Visibility::Everyone).unwrap();
    }
    g.add_contact(user.id, contact("Out", "Side", "out@example.org", "other"));
    let filter = g.filter(user.id, "VIP clients", "vip");
    let outcome = g.connect(user.id, ALICE);
    assert!(
        outcome
            .message
            .contains("Connected the Google account alice@example.com"),
        "{}",
        outcome.message
    );
    g.settle();
    Setup { g, user, filter }
}

#[test]
fn first_sync_puts_every_filter_contact_in_a_group_named_after_the_filter() {
    let Setup { g, user, filter } = setup(5);
    let outcome = g.enable(user.id, filter.id, ALICE, &[]);
    assert!(outcome.message.contains("Sync enabled"), "{}", outcome.message);
    g.settle();
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
    let group = g.group(ALICE, "VIP clients").expect("the group exists");
    let members = g.members(ALICE, &group);
    assert_eq!(members.len(), 5);
    let mut emails: Vec<String> = members
        .iter()
        .map(|p| p["emailAddresses"][0]["value"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    assert_eq!(emails[0], "person0@example.org");
    assert_eq!(
        g.google_contacts(ALICE).len(),
        5,
        "the contact outside the filter is not sent"
    );
    let run = g.last_run(user.id, filter.id);
    run.assert_clean();
    assert_eq!(run.counts.created_in_google, 5, "{run:?}");
}

#[test]
fn a_second_sync_with_no_edits_writes_nothing() {
    let Setup { g, user, filter } = setup(5);
    g.enabled(user.id, filter.id, ALICE, &[]);
    g.settle();
    let writes = g.writes();
    g.action(user.id, SettingsPage::Filter(filter.id), "sync_now", &[]);
    g.settle();
    g.tick(10 * 60_000);
    assert_eq!(g.writes(), writes, "an idle sync wrote to Google");
}
