//! "Recent changes" on an enabled filter's page: what the sync changed on either side, newest
//! first, filtered by contact, side and run.

use abi::{ActionOutcome, InputKind, PluginError, Section, SettingsAction, SettingsContext, Tone};

use super::actions::{filter_of, outcome, refused};
use super::widgets::{form, input, section, select, table};
use crate::domain::history::{Action, Side, Why};
use crate::domain::Binding;
use crate::integration::{store_error, Integration};
use crate::locale::Reader;
use crate::store::history::{self, Change, Query};
use crate::sync::preview::shown;

/// How many changes the page lists.
const SHOWN: u32 = 100;

/// The "Recent changes" section of `b`'s page, as `user` filtered it.
pub fn section_of(
    integration: &Integration,
    r: &Reader,
    user: u64,
    b: &Binding,
) -> Result<Section, PluginError> {
    let query = integration.history_query(user, b.filter_id);
    let changes = history::changes(&integration.store.conn(), b.id, &query, SHOWN).map_err(store_error)?;
    let now = integration.host.now().0;
    let columns = [
        r.t("col-when"),
        r.t("col-contact"),
        r.t("col-side"),
        r.t("col-field"),
        r.t("col-before"),
        r.t("col-after"),
        r.t("col-why"),
        r.t("col-run"),
    ];
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = changes.iter().map(|c| row(r, c, now)).collect();
    let side = query.side.map_or("", Side::as_str);
    let inputs = vec![
        input(
            "history_contact",
            &r.t("input-history-contact"),
            InputKind::Text,
            &query.contact_id.map(|c| c.to_string()).unwrap_or_default(),
            "",
        ),
        select(
            "history_side",
            &r.t("input-history-side"),
            side,
            &[
                ("", &r.t("history-any-side")),
                ("google", &r.t("history-side-google")),
                ("crm", &r.t("history-side-crm")),
            ],
            "",
        ),
        input(
            "history_run",
            &r.t("input-history-run"),
            InputKind::Text,
            &query.run.map(|c| c.to_string()).unwrap_or_default(),
            "",
        ),
    ];
    let filter = b.filter_id.to_string();
    Ok(section(
        "history",
        &r.t("section-history"),
        vec![
            form(
                "history-filter",
                "history_filter",
                &r.t("history-filter-submit"),
                inputs,
                &[("filter", &filter)],
            ),
            table("history", &columns, rows),
        ],
    ))
}

fn row(r: &Reader, c: &Change, now: i64) -> Vec<String> {
    let e = &c.entry;
    let contact = match (e.contact_id, e.name.is_empty()) {
        (Some(id), false) => format!("{} (#{id})", e.name),
        (Some(id), true) => format!("#{id}"),
        (None, _) => e.name.clone(),
    };
    let side = match e.side {
        Side::Google => r.t("history-side-google"),
        Side::Crm => r.t("history-side-crm"),
    };
    let (field, before, after) = match &e.field {
        Some(key) => (key.clone(), shown(e.old.0.get(key)), shown(e.new.0.get(key))),
        None => (r.t(action_key(e.action)), String::new(), String::new()),
    };
    vec![
        r.when(c.at, now),
        contact,
        side,
        field,
        before,
        after,
        r.t(why_key(e.why)),
        c.run.to_string(),
    ]
}

fn action_key(action: Action) -> &'static str {
    match action {
        Action::Created => "history-created",
        Action::Matched => "history-matched",
        Action::Updated => "history-updated",
        Action::AddedToGroup => "history-added-to-group",
        Action::Imported => "history-imported",
        Action::RemovedFromGroup => "history-removed-from-group",
        Action::Deleted => "history-deleted",
    }
}

fn why_key(why: Why) -> &'static str {
    match why {
        Why::EditedInCrm => "why-edited-in-crm",
        Why::EditedInGoogle => "why-edited-in-google",
        Why::Conflict => "why-conflict",
        Why::NewInFilter => "why-new-in-filter",
        Why::FoundInGoogle => "why-found-in-google",
        Why::AddedInGoogle => "why-added-in-google",
        Why::LeftFilter => "why-left-filter",
        Why::DeletedInCrm => "why-deleted-in-crm",
        Why::Duplicate => "why-duplicate",
    }
}

/// Sets the user's filter of the filter page's "Recent changes".
pub fn act(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let filter = match filter_of(ctx, r, action) {
        Ok(f) => f,
        Err(m) => return refused(m),
    };
    let number = |name: &str| -> Result<Option<u64>, String> {
        match action.field(name).map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| r.t("history-not-a-number")),
        }
    };
    let query = match (number("history_contact"), number("history_run")) {
        (Ok(contact_id), Ok(run)) => Query {
            contact_id,
            side: action.field("history_side").and_then(Side::parse),
            run: run.map(|v| v as i64),
        },
        (Err(m), _) | (_, Err(m)) => return refused(m),
    };
    integration.set_history_query(ctx.user.0, filter, query);
    Ok(outcome("", Tone::Normal))
}
