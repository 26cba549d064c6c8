//! The two settings pages: the CRM's integration page and a filter's sync panel.

use abi::abi_stable::std_types::{ROption, RVec};
use abi::{InputKind, PluginError, Section, SettingsContext, SettingsPage, SettingsView, Tone, Widget};

use super::access::{self, Refusal};
use super::widgets::*;
use crate::domain::{
    Binding, BindingOptions, ConflictPolicy, Counts, DeleteMode, Direction, GroupChoice, Reason,
};
use crate::integration::{filter_name, store_error, Integration};
use crate::locale::{Arg, Reader};
use crate::store::accounts::{self, AccountStatus};
use crate::store::{bindings, status};
use crate::sync::Held;

pub fn render(integration: &Integration, ctx: &SettingsContext) -> Result<SettingsView, PluginError> {
    let r = Reader::of(&integration.host, ctx.user);
    let (title, sections, running) = match ctx.page {
        SettingsPage::Integration => (
            r.t("page-title-integration"),
            integration_page(integration, ctx, &r)?,
            false,
        ),
        SettingsPage::Filter(filter) => {
            let (sections, running) = filter_page(integration, ctx, &r, filter.0)?;
            (r.t("page-title-filter"), sections, running)
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

fn integration_page(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
) -> Result<Vec<Section>, PluginError> {
    let conn = integration.store.conn();
    let accounts = accounts::of_user(&conn, ctx.user.0).map_err(store_error)?;
    let mut widgets = Vec::new();
    if let Err(e) = &integration.google {
        widgets.push(text(
            r.t_with("google-unusable", &[("reason", Arg::from(e.as_str()))]),
            Tone::Error,
        ));
    }
    let rows = accounts
        .iter()
        .map(|a| vec![a.email.clone(), r.t(account_state(a.status))])
        .collect();
    widgets.push(table("accounts", &[&r.t("col-account"), &r.t("col-state")], rows));
    for a in &accounts {
        if a.status == AccountStatus::ReconnectNeeded {
            widgets.push(text(
                r.t_with("reconnect-warning", &[("account", Arg::from(a.email.as_str()))]),
                Tone::Warning,
            ));
        }
        let label = r.t_with("disconnect-label", &[("account", Arg::from(a.email.as_str()))]);
        widgets.push(button(
            &format!("disconnect-{}", a.email),
            &label,
            action("disconnect", &[("account", &a.email)]),
            Tone::Normal,
            &r.t("disconnect-confirm"),
        ));
    }
    widgets.push(button(
        "connect-google",
        &r.t("connect-google"),
        action("connect", &[]),
        Tone::Normal,
        "",
    ));
    let bindings = bindings::of_user(&conn, ctx.user.0).map_err(store_error)?;
    let now = integration.host.now().0;
    let mut rows = Vec::new();
    for b in &bindings {
        let last = status::last_success(&conn, b.id).map_err(store_error)?;
        let filter_name = filter_name(&integration.host, r, b);
        rows.push(vec![
            filter_name,
            b.account.clone(),
            group_label(r, &b.options.group),
            r.t(direction_label(b.options.direction)),
            last.map(|ms| r.when(ms, now))
                .unwrap_or_else(|| r.t("last-sync-never")),
            r.t(if b.enabled { "sync-on" } else { "sync-off" }),
        ]);
    }
    let columns = [
        "col-filter",
        "col-account",
        "col-group",
        "col-direction",
        "col-last-sync",
        "col-sync",
    ]
    .map(|k| r.t(k));
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let bindings_table = table("bindings", &columns, rows);
    Ok(vec![
        section("accounts", &r.t("section-accounts"), widgets),
        section("bindings", &r.t("section-bindings"), vec![bindings_table]),
    ])
}

/// A filter's page: its sync (the enable form or the enabled binding's panel) and, when the
/// user has one, the preview, after the status of an enabled binding and first otherwise.
fn filter_page(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    filter: u64,
) -> Result<(Vec<Section>, bool), PluginError> {
    let (mut sections, running) = sync_sections(integration, ctx, r, filter)?;
    let Some((preview, computing)) = super::preview::section_of(integration, r, ctx.user.0, filter) else {
        return Ok((sections, running));
    };
    let at = usize::from(sections.first().is_some_and(|s| s.id.as_str() == "status"));
    sections.insert(at, preview);
    Ok((sections, running || computing))
}

fn sync_sections(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
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
                    &r.t("section-sync"),
                    vec![text(refusal.message(r), tone)],
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
        return enabled_panel(integration, r, &b, allowed.view_only);
    }
    let activated = integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&(ctx.user.0, filter));
    if !activated {
        let widgets = vec![
            text(r.t("activate-intro"), Tone::Normal),
            button(
                "activate",
                &r.t("activate-button"),
                action("activate", &[("filter", &filter.to_string())]),
                Tone::Normal,
                "",
            ),
        ];
        return Ok((vec![section("sync", &r.t("section-sync"), widgets)], false));
    }
    let accounts = accounts::of_user(&conn, ctx.user.0).map_err(store_error)?;
    if accounts.is_empty() {
        let widgets = vec![
            text(r.t("connect-intro"), Tone::Normal),
            button(
                "connect-google",
                &r.t("connect-google"),
                action("connect", &[]),
                Tone::Normal,
                "",
            ),
        ];
        return Ok((vec![section("sync", &r.t("section-sync"), widgets)], false));
    }
    let choices: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.email.clone(), a.email.clone()))
        .collect();
    let choices: Vec<(&str, &str)> = choices.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let mut inputs = vec![select(
        "account",
        &r.t("input-account"),
        accounts[0].email.as_str(),
        &choices,
        "",
    )];
    inputs.extend(option_inputs(r, &BindingOptions::default(), allowed.view_only));
    inputs.push(input(
        "preview",
        &r.t("input-preview-first"),
        InputKind::Checkbox,
        "false",
        &r.t("input-preview-first-help"),
    ));
    let mut widgets = Vec::new();
    if allowed.view_only {
        widgets.push(text(r.t("view-only-note"), Tone::Normal));
    }
    widgets.push(form(
        "enable-sync",
        "enable",
        &r.t("enable-submit"),
        inputs,
        &[("filter", &filter.to_string())],
    ));
    widgets.push(button(
        "connect-google",
        &r.t("connect-another"),
        action("connect", &[]),
        Tone::Normal,
        "",
    ));
    Ok((vec![section("sync", &r.t("section-sync"), widgets)], false))
}

fn option_inputs(r: &Reader, o: &BindingOptions, view_only: bool) -> Vec<abi::Input> {
    let (group_mode, group_name) = match &o.group {
        GroupChoice::FilterName => ("filter_name", String::new()),
        GroupChoice::Existing(name) => ("existing", name.clone()),
        GroupChoice::MyContacts => ("my_contacts", String::new()),
    };
    let directions: &[(&str, &str)] = if view_only {
        &[("crm_to_google", "direction-crm-to-google")]
    } else {
        &[
            ("two_way", "direction-two-way-choice"),
            ("crm_to_google", "direction-crm-to-google"),
            ("google_to_crm", "direction-google-to-crm"),
        ]
    };
    vec![
        localized_select(
            r,
            "group_mode",
            "input-group-mode",
            group_mode,
            &[
                ("filter_name", "group-filter-name-choice"),
                ("existing", "group-existing-choice"),
                ("my_contacts", "group-my-contacts"),
            ],
            None,
        ),
        input(
            "group_name",
            &r.t("input-group-name"),
            InputKind::Text,
            &group_name,
            &r.t("input-group-name-help"),
        ),
        localized_select(
            r,
            "direction",
            "input-direction",
            direction_key(o.direction),
            directions,
            None,
        ),
        localized_select(
            r,
            "policy",
            "input-policy",
            policy_key(o.policy),
            &[
                ("latest_wins", "policy-latest-choice"),
                ("crm_wins", "policy-crm-choice"),
                ("google_wins", "policy-google-choice"),
            ],
            None,
        ),
        localized_select(
            r,
            "delete_mode",
            "input-delete-mode",
            delete_key(o.delete_mode),
            &[
                ("delete", "delete-choice"),
                ("remove_from_group", "remove-choice"),
            ],
            Some("delete-help"),
        ),
        input(
            "interval_minutes",
            &r.t("input-interval"),
            InputKind::Number,
            &(o.interval_ms / 60_000).to_string(),
            "",
        ),
        input(
            "custom_fields",
            &r.t("input-custom-fields"),
            InputKind::Text,
            &o.mapping.custom_fields.join(", "),
            &r.t("input-custom-fields-help"),
        ),
    ]
}

/// A select whose label, choices and help are message keys.
fn localized_select(
    r: &Reader,
    name: &str,
    label: &str,
    value: &str,
    choices: &[(&str, &str)],
    help: Option<&str>,
) -> abi::Input {
    let labels: Vec<(&str, String)> = choices.iter().map(|(v, k)| (*v, r.t(k))).collect();
    let choices: Vec<(&str, &str)> = labels.iter().map(|(v, l)| (*v, l.as_str())).collect();
    let help = help.map(|k| r.t(k)).unwrap_or_default();
    select(name, &r.t(label), value, &choices, &help)
}

fn enabled_panel(
    integration: &Integration,
    r: &Reader,
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
    let now = integration.host.now().0;

    let mut widgets = vec![facts(vec![
        (r.t("fact-account"), b.account.clone()),
        (r.t("fact-group"), group_label(r, &b.options.group)),
        (r.t("fact-direction"), r.t(direction_label(b.options.direction))),
        (r.t("fact-conflicts"), r.t(policy_label(b.options.policy))),
        (r.t("fact-deleted"), r.t(delete_label(b.options.delete_mode))),
        (
            r.t("fact-interval"),
            r.t_with(
                "interval-minutes",
                &[("count", Arg::from(b.options.interval_ms / 60_000))],
            ),
        ),
        (
            r.t("fact-last-sync"),
            last_success
                .map(|ms| r.when(ms, now))
                .unwrap_or_else(|| r.t("not-yet")),
        ),
        (
            r.t("fact-last-run"),
            last_run
                .as_ref()
                .map(|run| run_label(r, run))
                .unwrap_or_else(|| r.t("not-yet")),
        ),
        (r.t("fact-failing"), failing.to_string()),
    ])];
    if account.is_some_and(|a| a.status == AccountStatus::ReconnectNeeded) {
        widgets.push(text(
            r.t_with("reconnect-paused", &[("account", Arg::from(b.account.as_str()))]),
            Tone::Warning,
        ));
    }
    if let Some(error) = last_run.as_ref().and_then(|run| run.error.clone()) {
        widgets.push(text(
            r.t_with("last-run-stopped", &[("error", Arg::Text(error))]),
            Tone::Error,
        ));
    }
    if running {
        widgets.push(Widget::Progress {
            label: s(r.t("syncing")),
            done,
            total,
        });
    }
    if let Some(h) = held.filter(|h| !h.confirmed) {
        widgets.push(text(
            r.t_with(
                "removals-held",
                &[
                    ("removals", Arg::from(h.removals)),
                    ("contacts", Arg::from(h.contacts)),
                ],
            ),
            Tone::Warning,
        ));
        widgets.push(button(
            "confirm-removals",
            &r.t("confirm-removals"),
            action("confirm_removals", &[("filter", &b.filter_id.to_string())]),
            Tone::Warning,
            &r.t("confirm-removals-question"),
        ));
    }
    widgets.extend(super::preview::kept_widget(integration, r, b.id));
    let filter = b.filter_id.to_string();
    widgets.push(button(
        "preview",
        &r.t("preview-button"),
        action("preview", &[("filter", &filter)]),
        Tone::Normal,
        "",
    ));
    widgets.push(button(
        "sync-now",
        &r.t("sync-now"),
        action("sync_now", &[("filter", &filter)]),
        Tone::Normal,
        "",
    ));
    widgets.push(button(
        "disable",
        &r.t("turn-off"),
        action("disable", &[("filter", &filter)]),
        Tone::Normal,
        &r.t("turn-off-confirm"),
    ));
    let options = form(
        "options",
        "update_options",
        &r.t("save-options"),
        option_inputs(r, &b.options, view_only),
        &[("filter", &filter)],
    );
    let rows = health
        .iter()
        .map(|h| {
            let (state, reason) = match h.state {
                status::HealthState::Excluded => ("health-excluded", Reason::parse(&h.reason).shown(r)),
                status::HealthState::Failing => ("health-failing", h.reason.clone()),
            };
            vec![h.contact_id.to_string(), r.t(state), reason]
        })
        .collect();
    let columns = [r.t("col-contact"), r.t("col-state"), r.t("col-reason")];
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let sections = vec![
        section("status", &r.t("section-status"), widgets),
        section("options", &r.t("section-options"), vec![options]),
        section(
            "health",
            &r.t("section-health"),
            vec![table("health", &columns, rows)],
        ),
        super::history::section_of(integration, r, b.crm_user, b)?,
    ];
    Ok((sections, running))
}

fn account_state(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Ok => "account-connected",
        AccountStatus::ReconnectNeeded => "account-reconnect-needed",
    }
}

fn group_label(r: &Reader, g: &GroupChoice) -> String {
    match g {
        GroupChoice::FilterName => r.t("group-named-after"),
        GroupChoice::Existing(name) => r.t_with("group-quoted", &[("name", Arg::from(name.as_str()))]),
        GroupChoice::MyContacts => r.t("group-my-contacts"),
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
        Direction::TwoWay => "direction-two-way",
        Direction::CrmToGoogle => "direction-crm-to-google",
        Direction::GoogleToCrm => "direction-google-to-crm",
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
        ConflictPolicy::LatestWins => "policy-latest",
        ConflictPolicy::CrmWins => "policy-crm",
        ConflictPolicy::GoogleWins => "policy-google",
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
        DeleteMode::Delete => "deleted-in-google",
        DeleteMode::RemoveFromGroup => "removed-from-group",
    }
}

fn run_label(r: &Reader, run: &status::Run) -> String {
    counts_label(r, &run.counts)
}

/// A run's counts as one sentence (the last run's, a preview's totals).
pub(super) fn counts_label(r: &Reader, c: &Counts) -> String {
    r.t_with(
        "run-counts",
        &[
            ("createdGoogle", Arg::from(c.created_in_google)),
            ("updatedGoogle", Arg::from(c.updated_in_google)),
            ("createdCrm", Arg::from(c.created_in_crm)),
            ("updatedCrm", Arg::from(c.updated_in_crm)),
            ("deletedGoogle", Arg::from(c.deleted_in_google)),
            ("removed", Arg::from(c.removed_from_group)),
            ("unlinked", Arg::from(c.unlinked)),
            ("conflicts", Arg::from(c.conflicts)),
            ("errors", Arg::from(c.errors)),
        ],
    )
}
