//! The settings view model and its actions, through the real library: where the activation
//! link shows, who is refused, and bad input answered with a message.

use abi::{ContactsPermission, SettingsPage, Widget};
use tests::{GoogleWorld, PLUGIN};

fn buttons(g: &GoogleWorld, user: abi::UserId, page: SettingsPage) -> (Vec<String>, String) {
    let view = g
        .sim()
        .render_settings(PLUGIN, user, page)
        .expect("the page renders");
    let ids = view
        .sections
        .iter()
        .flat_map(|s| s.widgets.iter())
        .filter_map(|w| match w {
            Widget::Button(b) => Some(b.id.to_string()),
            Widget::Form(f) => Some(f.id.to_string()),
            _ => None,
        })
        .collect();
    (ids, format!("{view:?}"))
}

#[test]
fn the_activation_link_shows_only_on_saved_filters_to_their_author_on_a_paid_plan() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let author = g.user("Ann", ContactsPermission::Edit);
    let other = g.user("Bob", ContactsPermission::Edit);
    let filter = g.filter(author.id, "VIP", "vip");
    let (ids, _) = buttons(&g, author.id, SettingsPage::Filter(filter.id));
    assert_eq!(ids, vec!["activate"]);

    let (ids, text) = buttons(&g, other.id, SettingsPage::Filter(filter.id));
    assert!(ids.is_empty(), "{ids:?}");
    assert!(text.contains("Only the filter's author can sync it"), "{text}");

    let mut draft = g.filter(author.id, "Draft", "vip");
    draft.saved = false;
    let draft = g.sim().save_filter(draft).unwrap();
    let (ids, text) = buttons(&g, author.id, SettingsPage::Filter(draft.id));
    assert!(
        ids.is_empty() && text.contains("This filter is not saved"),
        "{text}"
    );

    let free = g
        .sim()
        .crm()
        .add_user("Free", &[], ContactsPermission::Edit, &[])
        .unwrap();
    let free_filter = g.filter(free.id, "Free", "vip");
    let (ids, text) = buttons(&g, free.id, SettingsPage::Filter(free_filter.id));
    assert!(
        ids.is_empty() && text.contains("Your plan does not include Google Contacts sync"),
        "{text}"
    );
    let refused = g.action(free.id, SettingsPage::Filter(free_filter.id), "activate", &[]);
    assert!(
        refused.message.contains("Your plan does not include"),
        "{}",
        refused.message
    );
}

#[test]
fn activation_leads_to_connecting_then_to_the_options_form() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let filter = g.filter(user.id, "VIP", "vip");
    g.action(user.id, SettingsPage::Filter(filter.id), "activate", &[]);
    let (ids, _) = buttons(&g, user.id, SettingsPage::Filter(filter.id));
    assert_eq!(ids, vec!["connect-google"]);
    g.connect(user.id, "alice@example.com");
    let (ids, _) = buttons(&g, user.id, SettingsPage::Filter(filter.id));
    assert!(ids.contains(&"enable-sync".to_string()), "{ids:?}");
    g.enabled(user.id, filter.id, "alice@example.com", &[]);
    g.settle();
    let (ids, text) = buttons(&g, user.id, SettingsPage::Filter(filter.id));
    for id in ["sync-now", "disable", "options"] {
        assert!(ids.contains(&id.to_string()), "{ids:?}");
    }
    assert!(text.contains("Last sync") && text.contains("Last run"), "{text}");
}

/// An action's name, its fields, and a part of the message it must answer with.
type Case = (&'static str, Vec<(&'static str, &'static str)>, &'static str);

#[test]
fn bad_action_input_gets_a_message_not_a_panic() {
    let g = GoogleWorld::start(|_| {}, |_| {});
    let user = g.user("Ann", ContactsPermission::Edit);
    let filter = g.filter(user.id, "VIP", "vip");
    g.connect(user.id, "alice@example.com");
    let page = SettingsPage::Filter(filter.id);
    let cases: Vec<Case> = vec![
        (
            "enable",
            vec![("account", "alice@example.com"), ("direction", "sideways")],
            "not a valid direction",
        ),
        (
            "enable",
            vec![("account", "alice@example.com"), ("interval_minutes", "0")],
            "from 1 to 1440",
        ),
        (
            "enable",
            vec![("account", "nobody@example.com")],
            "Choose one of your connected Google accounts",
        ),
        (
            "enable",
            vec![("account", "alice@example.com"), ("filter", "x1")],
            "is not a filter id",
        ),
        ("sync_now", vec![], "Sync is not enabled on this filter"),
        ("no_such_action", vec![], "Unknown action"),
        (
            "disconnect",
            vec![("account", "bob@example.com")],
            "not connected to your CRM user",
        ),
    ];
    for (name, fields, expected) in cases {
        let outcome = g.action(user.id, page, name, &fields);
        assert!(outcome.message.contains(expected), "{name}: {}", outcome.message);
        assert_eq!(outcome.tone, abi::Tone::Error, "{name}");
    }
    assert!(g.sim().hook_errors().is_empty(), "{:?}", g.sim().hook_errors());
}
