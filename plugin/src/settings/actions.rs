//! The actions behind the settings pages' buttons and forms. Every input is checked; bad input
//! gets a message, never a panic or a half-done change.

use abi::abi_stable::std_types::ROption;
use abi::{ActionOutcome, FilterId, PluginError, SettingsAction, SettingsContext, SettingsPage, Tone};

use super::access::{self, Refusal};
use super::google_errors::google_message;
use super::options::parse_options;
use super::widgets::s;
use crate::domain::{BindingOptions, Direction};
use crate::google::OAuthCallback;
use crate::integration::{store_error, Integration};
use crate::locale::{Arg, Reader};
use crate::store::{accounts, bindings, outbox};
use crate::sync::Held;

pub(super) fn outcome(message: impl Into<String>, tone: Tone) -> ActionOutcome {
    ActionOutcome {
        message: s(message),
        tone,
        redirect_to: ROption::RNone,
    }
}

pub(super) fn refused(message: impl Into<String>) -> Result<ActionOutcome, PluginError> {
    Ok(outcome(message, Tone::Error))
}

pub fn act(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let r = &Reader::of(&integration.host, ctx.user);
    let outcome = dispatch(integration, ctx, r, action);
    // An action may clear what a notice is about (reconnected, removals confirmed, sync off);
    // a job reviews them, as the action's request thread must answer at once.
    if let Err(e) = integration.queue_notices() {
        log::warn!("Notices were not reviewed after the action: {e}");
    }
    outcome
}

fn dispatch(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    match action.name.as_str() {
        "connect" => connect(integration, ctx, r),
        "oauth_callback" => oauth_callback(integration, ctx, r, action),
        "disconnect" => disconnect(integration, ctx, r, action),
        "activate" => activate(integration, ctx, r, action),
        "enable" => enable(integration, ctx, r, action),
        "update_options" => update_options(integration, ctx, r, action),
        "history_filter" => super::history::act(integration, ctx, r, action),
        "undo_run" | "undo_change" => with_binding(integration, ctx, r, action, |b| {
            super::history::undo_act(integration, r, b, action)
        }),
        "preview" | "preview_page" | "enable_previewed" | "discard_preview" => {
            super::preview::act(integration, ctx, r, action)
        }
        "disable" => with_binding(integration, ctx, r, action, |b| {
            bindings::disable(&integration.store.conn(), b.id).map_err(store_error)?;
            Ok(outcome(r.t("outcome-disabled"), Tone::Success))
        }),
        "sync_now" => with_binding(integration, ctx, r, action, |b| {
            bindings::run_now(&integration.store.conn(), b.id).map_err(store_error)?;
            integration.queue_account(&b.account)?;
            Ok(outcome(r.t("outcome-sync-started"), Tone::Success))
        }),
        "confirm_removals" => with_binding(integration, ctx, r, action, |b| {
            let conn = integration.store.conn();
            let held = Held {
                removals: 0,
                contacts: 0,
                confirmed: true,
            };
            bindings::set_held(
                &conn,
                b.id,
                Some(&serde_json::to_string(&held).unwrap_or_default()),
            )
            .map_err(store_error)?;
            bindings::run_now(&conn, b.id).map_err(store_error)?;
            drop(conn);
            integration.queue_account(&b.account)?;
            Ok(outcome(r.t("outcome-removals-confirmed"), Tone::Success))
        }),
        other => refused(r.t_with(
            "unknown-action",
            &[("name", Arg::Text(other.chars().take(60).collect()))],
        )),
    }
}

/// The filter an action is about: its `filter` field, or the page's filter.
pub(super) fn filter_of(ctx: &SettingsContext, r: &Reader, action: &SettingsAction) -> Result<u64, String> {
    if let Some(text) = action.field("filter") {
        return text.trim().parse::<u64>().map_err(|_| {
            r.t_with(
                "not-a-filter-id",
                &[("value", Arg::Text(text.chars().take(40).collect()))],
            )
        });
    }
    match ctx.page {
        SettingsPage::Filter(f) => Ok(f.0),
        SettingsPage::Integration => Err(r.t("needs-filter")),
    }
}

fn connect(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
) -> Result<ActionOutcome, PluginError> {
    let user = match access::user(&integration.host, ctx.user).and_then(|u| access::check_plan(&u).map(|_| u))
    {
        Ok(u) => u,
        Err(refusal) => return refused(refusal.message(r)),
    };
    let google = match integration.google() {
        Ok(g) => g,
        Err(e) => return refused(e.message.to_string()),
    };
    match google.begin_connect(user.id.0, &ctx.oauth_callback_url, integration.host.now().0) {
        Ok(start) => Ok(ActionOutcome {
            message: s(r.t("continue-on-google")),
            tone: Tone::Normal,
            redirect_to: ROption::RSome(s(start.url)),
        }),
        Err(e) => refused(google_message(r, &e)),
    }
}

fn oauth_callback(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let google = match integration.google() {
        Ok(g) => g,
        Err(e) => return refused(e.message.to_string()),
    };
    let field = |n: &str| action.field(n).map(str::to_string).filter(|v| !v.is_empty());
    let callback = OAuthCallback {
        code: field("code"),
        state: field("state"),
        error: field("error"),
    };
    match google.finish_connect(&callback, ctx.user.0, integration.host.now().0) {
        Ok(account) => {
            accounts::upsert(
                &integration.store.conn(),
                &account.email,
                ctx.user.0,
                integration.host.now().0,
            )
            .map_err(store_error)?;
            google.forget(&account.email);
            // Syncs paused for a reconnect go again. (Collect first: the connection guard must
            // not be held while the loop body takes it again.)
            let paused =
                bindings::of_account(&integration.store.conn(), &account.email).map_err(store_error)?;
            for b in paused {
                bindings::run_now(&integration.store.conn(), b.id).map_err(store_error)?;
                integration.queue_account(&b.account)?;
            }
            Ok(outcome(
                r.t_with("connected", &[("account", Arg::from(account.email.as_str()))]),
                Tone::Success,
            ))
        }
        Err(e) => refused(google_message(r, &e)),
    }
}

fn disconnect(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let email = action.field("account").unwrap_or("").trim().to_lowercase();
    let conn = integration.store.conn();
    let account = accounts::get(&conn, &email).map_err(store_error)?;
    if account.as_ref().is_none_or(|a| a.crm_user != ctx.user.0) {
        return refused(r.t("account-not-yours"));
    }
    for b in bindings::of_account(&conn, &email).map_err(store_error)? {
        bindings::disable(&conn, b.id).map_err(store_error)?;
    }
    accounts::remove(&conn, &email).map_err(store_error)?;
    drop(conn);
    if let Ok(google) = integration.google() {
        if let Err(e) = google.disconnect(&email) {
            log::warn!("Disconnecting {email}: {e}");
        }
        google.forget(&email);
    }
    Ok(outcome(
        r.t_with("disconnected", &[("account", Arg::from(email.as_str()))]),
        Tone::Success,
    ))
}

fn allowed(
    integration: &Integration,
    ctx: &SettingsContext,
    filter: u64,
) -> Result<access::Allowed, Refusal> {
    access::may_sync(&integration.host, ctx.user, FilterId(filter))
}

/// The action's filter, if the user may sync it, and how; otherwise the message saying why not.
pub(super) fn permitted_filter(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<(u64, access::Allowed), String> {
    let filter = filter_of(ctx, r, action)?;
    let allowed = allowed(integration, ctx, filter).map_err(|refusal| refusal.message(r))?;
    Ok((filter, allowed))
}

fn activate(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let filter = match permitted_filter(integration, ctx, r, action) {
        Ok((filter, _)) => filter,
        Err(m) => return refused(m),
    };
    integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((ctx.user.0, filter));
    Ok(outcome(r.t("choose-options"), Tone::Normal))
}

/// What an enable form asks for, checked: the filter, the user's account, the options (view-only
/// users sync from the CRM to Google only) and the message to answer with.
pub(super) struct Enabling {
    pub filter: u64,
    pub account: String,
    pub options: BindingOptions,
    pub message: &'static str,
}

pub(super) fn enabling(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<Result<Enabling, String>, PluginError> {
    let (filter, allowed) = match permitted_filter(integration, ctx, r, action) {
        Ok(permitted) => permitted,
        Err(m) => return Ok(Err(m)),
    };
    let account = action.field("account").unwrap_or("").trim().to_lowercase();
    let known = accounts::get(&integration.store.conn(), &account).map_err(store_error)?;
    if known.as_ref().is_none_or(|a| a.crm_user != ctx.user.0) {
        return Ok(Err(r.t("choose-account")));
    }
    let mut options = match parse_options(action, &BindingOptions::default()) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e.message(r))),
    };
    let mut message = "enabled";
    if allowed.view_only && options.direction != Direction::CrmToGoogle {
        options.direction = Direction::CrmToGoogle;
        message = "enabled-view-only";
    }
    Ok(Ok(Enabling {
        filter,
        account,
        options,
        message,
    }))
}

fn enable(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let asked = match enabling(integration, ctx, r, action)? {
        Ok(e) => e,
        Err(m) => return refused(m),
    };
    if action.field("preview") == Some("true") {
        return super::preview::start(integration, ctx, r, &asked);
    }
    enable_binding(integration, ctx, &asked)?;
    Ok(outcome(r.t(asked.message), Tone::Success))
}

/// Enables the binding as asked and starts its first run.
pub(super) fn enable_binding(
    integration: &Integration,
    ctx: &SettingsContext,
    asked: &Enabling,
) -> Result<crate::domain::Binding, PluginError> {
    let cursor = outbox::last_id(&integration.store.hook_conn()).map_err(store_error)?;
    let binding = bindings::enable(
        &integration.store.conn(),
        asked.filter,
        ctx.user.0,
        &asked.account,
        &asked.options,
        cursor,
    )
    .map_err(store_error)?;
    integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(ctx.user.0, asked.filter));
    integration.queue_account(&binding.account)?;
    Ok(binding)
}

fn update_options(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    with_binding(integration, ctx, r, action, |b| {
        let allowed = match allowed(integration, ctx, b.filter_id) {
            Ok(a) => a,
            Err(refusal) => return refused(refusal.message(r)),
        };
        let mut options = match parse_options(action, &b.options) {
            Ok(o) => o,
            Err(e) => return refused(e.message(r)),
        };
        if allowed.view_only {
            options.direction = Direction::CrmToGoogle;
        }
        let conn = integration.store.conn();
        bindings::set_options(&conn, b.id, &options).map_err(store_error)?;
        if options.group != b.options.group {
            // Another group: nobody is in it yet, and nobody left it in Google.
            bindings::set_group(&conn, b.id, None).map_err(store_error)?;
            crate::store::links::clear_members(&conn, b.id).map_err(store_error)?;
        }
        // New options apply to every contact: look at the whole filter again.
        bindings::request_full(&conn, b.id).map_err(store_error)?;
        drop(conn);
        integration.queue_account(&b.account)?;
        Ok(outcome(r.t("options-saved"), Tone::Success))
    })
}

/// Runs `f` on the user's enabled binding of the action's filter.
fn with_binding(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
    f: impl FnOnce(&crate::domain::Binding) -> Result<ActionOutcome, PluginError>,
) -> Result<ActionOutcome, PluginError> {
    let filter = match filter_of(ctx, r, action) {
        Ok(f) => f,
        Err(m) => return refused(m),
    };
    let binding = bindings::by_filter(&integration.store.conn(), filter).map_err(store_error)?;
    match binding {
        Some(b) if b.enabled && b.crm_user == ctx.user.0 => f(&b),
        Some(b) if b.crm_user != ctx.user.0 => refused(Refusal::NotAuthor.message(r)),
        _ => refused(r.t("sync-not-enabled")),
    }
}
