//! The two settings pages: the CRM's integration page and a filter's sync panel.

use abi::abi_stable::std_types::{ROption, RVec};
use abi::{InputKind, PluginError, Section, SettingsContext, SettingsPage, SettingsView, Tone, Widget};

use super::access::{self, Refusal};
use super::widgets::*;
use crate::integration::{store_error, Integration};
use crate::store::accounts::{self, AccountStatus};
use crate::store::{bindings, status};
use crate::sync::model::{
    Binding, BindingOptions, ConflictPolicy, Counts, DeleteMode, Direction, GroupChoice,
};
use crate::sync::Held;

pub fn render(integration: &Integration, ctx: &SettingsContext) -> Result<SettingsView, PluginError> {
    let (title, sections, running) = match ctx.page {
        SettingsPage::Integration => ("Google Contacts", integration_page(integration, ctx)?, false),
        SettingsPage::Filter(filter) => {
            let (sections, running) = filter_page(integration, ctx, filter.0)?;
            ("Google Contacts sync", sections, running)
        }
    };
    Ok(SettingsView {
        title: s(title),
        sections: RVec::from(sections),
        refresh_after_ms: if running {
            ROption::RSome(1000)
        } else {
            ROption::RNone
        },
    })
}

fn integration_page(integration: &Integration, ctx: &SettingsContext) -> Result<Vec<Section>, PluginError> {
    let conn = integration.store.conn();
    let accounts = accounts::of_user(&conn, ctx.user.0).map_err(store_error)?;
    let mut widgets = Vec::new();
    if let Err(e) = &integration.google {
        widgets.push(text(format!("Google cannot be used: {e}"), Tone::Error));
    }
    let rows = accounts
        .iter()
        .map(|a| vec![a.email.clone(), account_state(a.status).to_string()])
        .collect();
    widgets.push(table("accounts", &["Account", "State"], rows));
    for a in &accounts {
        if a.status == AccountStatus::ReconnectNeeded {
            widgets.push(text(
                format!(
                    "Google refused the sign-in for {}. Reconnect it; its syncs are paused until then.",
                    a.email
                ),
                Tone::Warning,
            ));
        }
        let label = format!("Disconnect {}", a.email);
        let confirm = "Disconnect this Google account? Its syncs stop; no contact is deleted.";
        widgets.push(button(
            &format!("disconnect-{}", a.email),
            &label,
            action("disconnect", &[("account", &a.email)]),
            Tone::Normal,
            confirm,
        ));
    }
    widgets.push(button(
        "connect-google",
        "Connect a Google account",
        action("connect", &[]),
        Tone::Normal,
        "",
    ));
    let bindings = bindings::of_user(&conn, ctx.user.0).map_err(store_error)?;
    let mut rows = Vec::new();
    for b in &bindings {
        let last = status::last_success(&conn, b.id).map_err(store_error)?;
        let filter_name = integration
            .host
            .filter(abi::FilterId(b.filter_id))
            .into_result()
            .ok()
            .and_then(|f| f.into_option())
            .map(|f| f.name.into_string())
            .unwrap_or_else(|| format!("filter {}", b.filter_id));
        rows.push(vec![
            filter_name,
            b.account.clone(),
            group_label(&b.options.group),
            direction_label(b.options.direction).to_string(),
            last.map(time_label).unwrap_or_else(|| "never".into()),
            if b.enabled { "on".into() } else { "off".into() },
        ]);
    }
    let bindings_table = table(
        "bindings",
        &["Filter", "Account", "Group", "Direction", "Last sync", "Sync"],
        rows,
    );
    Ok(vec![
        section("accounts", "Google accounts", widgets),
        section("bindings", "Synced filters", vec![bindings_table]),
    ])
}

fn filter_page(
    integration: &Integration,
    ctx: &SettingsContext,
    filter: u64,
) -> Result<(Vec<Section>, bool), PluginError> {
    let allowed = match access::may_sync(&integration.host, ctx.user, abi::FilterId(filter)) {
        Ok(a) => a,
        Err(refusal) => {
            let tone = if matches!(refusal, Refusal::PlanLacksFeature) {
                Tone::Warning
            } else {
                Tone::Normal
            };
            return Ok((
                vec![section(
                    "sync",
                    "Google Contacts",
                    vec![text(refusal.to_string(), tone)],
                )],
                false,
            ));
        }
    };
    let conn = integration.store.conn();
    let binding = bindings::by_filter(&conn, filter)
        .map_err(store_error)?
        .filter(|b| b.enabled && b.crm_user == ctx.user.0);
    if let Some(b) = binding {
        drop(conn);
        return enabled_panel(integration, &b, allowed.view_only);
    }
    let activated = integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&(ctx.user.0, filter));
    if !activated {
        let widgets = vec![
            text(
                "Keep this filter's contacts in a Google Contacts group, both ways.",
                Tone::Normal,
            ),
            button(
                "activate",
                "Sync this filter with Google Contacts",
                action("activate", &[("filter", &filter.to_string())]),
                Tone::Normal,
                "",
            ),
        ];
        return Ok((vec![section("sync", "Google Contacts", widgets)], false));
    }
    let accounts = accounts::of_user(&conn, ctx.user.0).map_err(store_error)?;
    if accounts.is_empty() {
        let widgets = vec![
            text(
                "Connect the Google account whose contacts should hold this filter's contacts.",
                Tone::Normal,
            ),
            button(
                "connect-google",
                "Connect a Google account",
                action("connect", &[]),
                Tone::Normal,
                "",
            ),
        ];
        return Ok((vec![section("sync", "Google Contacts", widgets)], false));
    }
    let choices: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.email.clone(), a.email.clone()))
        .collect();
    let choices: Vec<(&str, &str)> = choices.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut inputs = vec![select(
        "account",
        "Google account",
        accounts[0].email.as_str(),
        &choices,
        "",
    )];
    inputs.extend(option_inputs(&BindingOptions::default(), allowed.view_only));
    let mut widgets = Vec::new();
    if allowed.view_only {
        widgets.push(text(
            "You can only view contacts, so this filter syncs from the CRM to Google only.",
            Tone::Normal,
        ));
    }
    widgets.push(form(
        "enable-sync",
        "enable",
        "Enable sync",
        inputs,
        &[("filter", &filter.to_string())],
    ));
    widgets.push(button(
        "connect-google",
        "Connect another Google account",
        action("connect", &[]),
        Tone::Normal,
        "",
    ));
    Ok((vec![section("sync", "Google Contacts", widgets)], false))
}

fn option_inputs(o: &BindingOptions, view_only: bool) -> Vec<abi::Input> {
    let (group_mode, group_name) = match &o.group {
        GroupChoice::FilterName => ("filter_name", String::new()),
        GroupChoice::Existing(name) => ("existing", name.clone()),
        GroupChoice::MyContacts => ("my_contacts", String::new()),
    };
    let directions: &[(&str, &str)] = if view_only {
        &[("crm_to_google", "CRM → Google")]
    } else {
        &[
            ("two_way", "Both ways"),
            ("crm_to_google", "CRM → Google"),
            ("google_to_crm", "Google → CRM"),
        ]
    };
    vec![
        select(
            "group_mode",
            "Google group",
            group_mode,
            &[
                ("filter_name", "A group named after the filter"),
                ("existing", "An existing group"),
                ("my_contacts", "My Contacts"),
            ],
            "",
        ),
        input(
            "group_name",
            "Existing group's name",
            InputKind::Text,
            &group_name,
            "Only for \"An existing group\".",
        ),
        select(
            "direction",
            "Direction",
            direction_key(o.direction),
            directions,
            "",
        ),
        select(
            "policy",
            "When a contact changed on both sides",
            policy_key(o.policy),
            &[
                ("latest_wins", "The latest change wins"),
                ("crm_wins", "The CRM wins"),
                ("google_wins", "Google wins"),
            ],
            "",
        ),
        select(
            "delete_mode",
            "When a contact is deleted in the CRM",
            delete_key(o.delete_mode),
            &[
                ("delete", "Delete it in Google"),
                ("remove_from_group", "Only remove it from the group"),
            ],
            "A contact deleted in Google is never deleted in the CRM.",
        ),
        input(
            "interval_minutes",
            "Check Google every (minutes)",
            InputKind::Number,
            &(o.interval_ms / 60_000).to_string(),
            "",
        ),
        input(
            "custom_fields",
            "Map more fields",
            InputKind::Text,
            &o.mapping.custom_fields.join(", "),
            "Keys of custom CRM fields to sync, comma-separated; they appear in Google as custom fields.",
        ),
    ]
}

fn enabled_panel(
    integration: &Integration,
    b: &Binding,
    view_only: bool,
) -> Result<(Vec<Section>, bool), PluginError> {
    let conn = integration.store.conn();
    let last_run = status::last_run(&conn, b.id).map_err(store_error)?;
    let last_success = status::last_success(&conn, b.id).map_err(store_error)?;
    let (running, done, total) = status::progress(&conn, b.id).map_err(store_error)?;
    let held: Option<Held> = bindings::held(&conn, b.id)
        .map_err(store_error)?
        .and_then(|h| serde_json::from_str(&h).ok());
    let account = accounts::get(&conn, &b.account).map_err(store_error)?;
    let failing = status::failing_count(&conn, b.id).map_err(store_error)?;
    let health = status::health(&conn, b.id, 200).map_err(store_error)?;
    drop(conn);

    let mut widgets = vec![facts(vec![
        ("Google account", b.account.clone()),
        ("Group", group_label(&b.options.group)),
        ("Direction", direction_label(b.options.direction).into()),
        ("Conflicts", policy_label(b.options.policy).into()),
        ("Deleted in the CRM", delete_label(b.options.delete_mode).into()),
        (
            "Checks Google every",
            format!("{} min", b.options.interval_ms / 60_000),
        ),
        (
            "Last sync",
            last_success.map(time_label).unwrap_or_else(|| "not yet".into()),
        ),
        (
            "Last run",
            last_run
                .as_ref()
                .map(run_label)
                .unwrap_or_else(|| "not yet".into()),
        ),
        ("Contacts failing", failing.to_string()),
    ])];
    if account.is_some_and(|a| a.status == AccountStatus::ReconnectNeeded) {
        widgets.push(text(
            format!("Google refused the sign-in for {}. Reconnect it on the integration page; this sync is paused.", b.account),
            Tone::Warning,
        ));
    }
    if let Some(error) = last_run.as_ref().and_then(|r| r.error.clone()) {
        widgets.push(text(format!("The last run stopped: {error}"), Tone::Error));
    }
    if running {
        widgets.push(Widget::Progress {
            label: s("Syncing"),
            done,
            total,
        });
    }
    if let Some(h) = held.filter(|h| !h.confirmed) {
        widgets.push(text(
            format!(
                "This run would remove {} of {} contacts from Google at once. Nothing was removed: confirm if this is intended.",
                h.removals, h.contacts
            ),
            Tone::Warning,
        ));
        widgets.push(button(
            "confirm-removals",
            "Confirm the removals",
            action("confirm_removals", &[("filter", &b.filter_id.to_string())]),
            Tone::Warning,
            "Remove these contacts from Google?",
        ));
    }
    let filter = b.filter_id.to_string();
    widgets.push(button(
        "sync-now",
        "Sync now",
        action("sync_now", &[("filter", &filter)]),
        Tone::Normal,
        "",
    ));
    widgets.push(button(
        "disable",
        "Turn off sync",
        action("disable", &[("filter", &filter)]),
        Tone::Normal,
        "Turn off sync? No contact is deleted on either side.",
    ));
    let options = form(
        "options",
        "update_options",
        "Save options",
        option_inputs(&b.options, view_only),
        &[("filter", &filter)],
    );
    let rows = health
        .iter()
        .map(|h| {
            vec![
                h.contact_id.to_string(),
                format!("{:?}", h.state).to_lowercase(),
                h.reason.clone(),
            ]
        })
        .collect();
    let sections = vec![
        section("status", "Google Contacts sync", widgets),
        section("options", "Options", vec![options]),
        section(
            "health",
            "Contacts needing attention",
            vec![table("health", &["Contact", "State", "Reason"], rows)],
        ),
    ];
    Ok((sections, running))
}

fn account_state(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Ok => "connected",
        AccountStatus::ReconnectNeeded => "reconnect needed",
    }
}

fn group_label(g: &GroupChoice) -> String {
    match g {
        GroupChoice::FilterName => "named after the filter".into(),
        GroupChoice::Existing(name) => format!("\"{name}\""),
        GroupChoice::MyContacts => "My Contacts".into(),
    }
}

pub(crate) fn direction_key(d: Direction) -> &'static str {
    match d {
        Direction::TwoWay => "two_way",
        Direction::CrmToGoogle => "crm_to_google",
        Direction::GoogleToCrm => "google_to_crm",
    }
}

fn direction_label(d: Direction) -> &'static str {
    match d {
        Direction::TwoWay => "both ways",
        Direction::CrmToGoogle => "CRM → Google",
        Direction::GoogleToCrm => "Google → CRM",
    }
}

fn policy_key(p: ConflictPolicy) -> &'static str {
    match p {
        ConflictPolicy::LatestWins => "latest_wins",
        ConflictPolicy::CrmWins => "crm_wins",
        ConflictPolicy::GoogleWins => "google_wins",
    }
}

fn policy_label(p: ConflictPolicy) -> &'static str {
    match p {
        ConflictPolicy::LatestWins => "the latest change wins",
        ConflictPolicy::CrmWins => "the CRM wins",
        ConflictPolicy::GoogleWins => "Google wins",
    }
}

fn delete_key(d: DeleteMode) -> &'static str {
    match d {
        DeleteMode::Delete => "delete",
        DeleteMode::RemoveFromGroup => "remove_from_group",
    }
}

fn delete_label(d: DeleteMode) -> &'static str {
    match d {
        DeleteMode::Delete => "deleted in Google",
        DeleteMode::RemoveFromGroup => "removed from the group",
    }
}

fn time_label(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn run_label(run: &status::Run) -> String {
    let c: &Counts = &run.counts;
    format!(
        "{} created and {} updated in Google, {} created and {} updated in the CRM, {} deleted in Google, \
         {} removed from the group, {} unlinked, {} conflicts, {} errors",
        c.created_in_google,
        c.updated_in_google,
        c.created_in_crm,
        c.updated_in_crm,
        c.deleted_in_google,
        c.removed_from_group,
        c.unlinked,
        c.conflicts,
        c.errors
    )
}
