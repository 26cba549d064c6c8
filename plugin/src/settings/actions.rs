//! The actions behind the settings pages' buttons and forms. Every input is checked; bad input
//! gets a message, never a panic or a half-done change.

use abi::abi_stable::std_types::ROption;
use abi::{ActionOutcome, FilterId, PluginError, SettingsAction, SettingsContext, SettingsPage, Tone};

use super::access::{self, Refusal};
use super::options::parse_options;
use super::widgets::s;
use crate::google::OAuthCallback;
use crate::integration::{store_error, Integration};
use crate::store::{accounts, bindings, outbox};
use crate::sync::model::{BindingOptions, Direction};
use crate::sync::Held;

fn outcome(message: impl Into<String>, tone: Tone) -> ActionOutcome {
    ActionOutcome {
        message: s(message),
        tone,
        redirect_to: ROption::RNone,
    }
}

fn refused(message: impl Into<String>) -> Result<ActionOutcome, PluginError> {
    Ok(outcome(message, Tone::Error))
}

pub fn act(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    match action.name.as_str() {
        "connect" => connect(integration, ctx),
        "oauth_callback" => oauth_callback(integration, ctx, action),
        "disconnect" => disconnect(integration, ctx, action),
        "activate" => activate(integration, ctx, action),
        "enable" => enable(integration, ctx, action),
        "update_options" => update_options(integration, ctx, action),
        "disable" => with_binding(integration, ctx, action, |b| {
            bindings::disable(&integration.store.conn(), b.id).map_err(store_error)?;
            Ok(outcome(
                "Sync turned off. No contact was deleted on either side.",
                Tone::Success,
            ))
        }),
        "sync_now" => with_binding(integration, ctx, action, |b| {
            bindings::run_now(&integration.store.conn(), b.id).map_err(store_error)?;
            integration.queue_account(&b.account)?;
            Ok(outcome("Sync started.", Tone::Success))
        }),
        "confirm_removals" => with_binding(integration, ctx, action, |b| {
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
            Ok(outcome(
                "Confirmed; the removals are being applied.",
                Tone::Success,
            ))
        }),
        other => refused(format!(
            "Unknown action \"{}\".",
            other.chars().take(60).collect::<String>()
        )),
    }
}

/// The filter an action is about: its `filter` field, or the page's filter.
fn filter_of(ctx: &SettingsContext, action: &SettingsAction) -> Result<u64, String> {
    if let Some(text) = action.field("filter") {
        return text.trim().parse::<u64>().map_err(|_| {
            format!(
                "\"{}\" is not a filter id.",
                text.chars().take(40).collect::<String>()
            )
        });
    }
    match ctx.page {
        SettingsPage::Filter(f) => Ok(f.0),
        SettingsPage::Integration => Err("This action needs a filter.".into()),
    }
}

fn connect(integration: &Integration, ctx: &SettingsContext) -> Result<ActionOutcome, PluginError> {
    let user = match access::user(&integration.host, ctx.user).and_then(|u| access::check_plan(&u).map(|_| u))
    {
        Ok(u) => u,
        Err(refusal) => return refused(refusal.to_string()),
    };
    let google = match integration.google() {
        Ok(g) => g,
        Err(e) => return refused(e.message.to_string()),
    };
    match google.begin_connect(user.id.0, &ctx.oauth_callback_url, integration.host.now().0) {
        Ok(start) => Ok(ActionOutcome {
            message: s("Continue on Google's page to allow access to your contacts."),
            tone: Tone::Normal,
            redirect_to: ROption::RSome(s(start.url)),
        }),
        Err(e) => refused(e.to_string()),
    }
}

fn oauth_callback(
    integration: &Integration,
    ctx: &SettingsContext,
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
                format!("Connected the Google account {}.", account.email),
                Tone::Success,
            ))
        }
        Err(e) => refused(e.to_string()),
    }
}

fn disconnect(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let email = action.field("account").unwrap_or("").trim().to_lowercase();
    let conn = integration.store.conn();
    let account = accounts::get(&conn, &email).map_err(store_error)?;
    if account.as_ref().is_none_or(|a| a.crm_user != ctx.user.0) {
        return refused("That Google account is not connected to your CRM user.");
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
        format!("Disconnected {email}. Its syncs are off; no contact was deleted."),
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

fn activate(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let filter = match filter_of(ctx, action) {
        Ok(f) => f,
        Err(m) => return refused(m),
    };
    if let Err(refusal) = allowed(integration, ctx, filter) {
        return refused(refusal.to_string());
    }
    integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((ctx.user.0, filter));
    Ok(outcome(
        "Choose the Google account and options, then enable sync.",
        Tone::Normal,
    ))
}

fn enable(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let filter = match filter_of(ctx, action) {
        Ok(f) => f,
        Err(m) => return refused(m),
    };
    let allowed = match allowed(integration, ctx, filter) {
        Ok(a) => a,
        Err(refusal) => return refused(refusal.to_string()),
    };
    let email = action.field("account").unwrap_or("").trim().to_lowercase();
    let conn = integration.store.conn();
    let account = accounts::get(&conn, &email).map_err(store_error)?;
    if account.as_ref().is_none_or(|a| a.crm_user != ctx.user.0) {
        return refused("Choose one of your connected Google accounts (or connect one first).");
    }
    let mut options = match parse_options(action, &BindingOptions::default()) {
        Ok(o) => o,
        Err(e) => return refused(e.to_string()),
    };
    let mut note = String::new();
    if allowed.view_only && options.direction != Direction::CrmToGoogle {
        options.direction = Direction::CrmToGoogle;
        note = " You can only view contacts, so it syncs from the CRM to Google only.".into();
    }
    let cursor = outbox::last_id(&integration.store.hook_conn()).map_err(store_error)?;
    let binding =
        bindings::enable(&conn, filter, ctx.user.0, &email, &options, cursor).map_err(store_error)?;
    drop(conn);
    integration
        .activated
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(ctx.user.0, filter));
    integration.queue_account(&binding.account)?;
    Ok(outcome(
        format!("Sync enabled; the first run has started.{note}"),
        Tone::Success,
    ))
}

fn update_options(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    with_binding(integration, ctx, action, |b| {
        let allowed = match allowed(integration, ctx, b.filter_id) {
            Ok(a) => a,
            Err(refusal) => return refused(refusal.to_string()),
        };
        let mut options = match parse_options(action, &b.options) {
            Ok(o) => o,
            Err(e) => return refused(e.to_string()),
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
        Ok(outcome(
            "Options saved; a sync with the new options has started.",
            Tone::Success,
        ))
    })
}

/// Runs `f` on the user's enabled binding of the action's filter.
fn with_binding(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
    f: impl FnOnce(&crate::sync::model::Binding) -> Result<ActionOutcome, PluginError>,
) -> Result<ActionOutcome, PluginError> {
    let filter = match filter_of(ctx, action) {
        Ok(f) => f,
        Err(m) => return refused(m),
    };
    let binding = bindings::by_filter(&integration.store.conn(), filter).map_err(store_error)?;
    match binding {
        Some(b) if b.enabled && b.crm_user == ctx.user.0 => f(&b),
        Some(b) if b.crm_user != ctx.user.0 => refused(Refusal::NotAuthor.to_string()),
        _ => refused("Sync is not enabled on this filter."),
    }
}
