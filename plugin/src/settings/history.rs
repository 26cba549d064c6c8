//! "Recent changes" on an enabled filter's page: what the sync changed on either side, newest
//! first, filtered by contact, side and run.

use abi::{ActionOutcome, InputKind, PluginError, Section, SettingsAction, SettingsContext, Tone, Widget};

use super::actions::{filter_of, outcome, refused};
use super::widgets::{action, button, form, input, section, select, table, text};
use crate::domain::history::{Action, Side, Why};
use crate::domain::Binding;
use crate::integration::undo;
use crate::integration::{store_error, Integration};
use crate::locale::{Arg, Reader};
use crate::store::history::{self, Change, Query};
use crate::sync::preview::shown;
use crate::sync::undo::Kept;

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
    let columns = columns(r);
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = changes.iter().map(|c| cells(r, c, r.when(c.at, now))).collect();
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
    let mut widgets = undo_widgets(integration, r, b.id);
    widgets.push(form(
        "history-filter",
        "history_filter",
        &r.t("history-filter-submit"),
        inputs,
        &[("filter", &filter)],
    ));
    widgets.push(table("history", &columns, rows));
    if let Some(export) = super::export::button_for(integration, r, b.filter_id, &query) {
        widgets.push(export);
    }
    // The run to undo: the one the user picked, or the newest shown.
    if let Some(run) = query.run.or(changes.first().map(|c| c.run)) {
        let run = run.to_string();
        widgets.push(button(
            "undo-run",
            &r.t_with("undo-run", &[("run", Arg::Text(run.clone()))]),
            action("undo_run", &[("filter", &filter), ("run", &run)]),
            Tone::Warning,
            &r.t("undo-run-confirm"),
        ));
    }
    if !changes.is_empty() {
        widgets.push(undo_change_form(r, "undo-change", &filter));
    }
    Ok(section("history", &r.t("section-history"), widgets))
}

/// "Undo this change": the change's number, for the filter `filter`.
pub(super) fn undo_change_form(r: &Reader, id: &str, filter: &str) -> Widget {
    let change = input("change", &r.t("input-undo-change"), InputKind::Text, "", "");
    form(
        id,
        "undo_change",
        &r.t("undo-change-submit"),
        vec![change],
        &[("filter", filter)],
    )
}

/// The headings of a list of changes, on the page and in an export.
pub(super) fn columns(r: &Reader) -> [String; 9] {
    [
        r.t("col-when"),
        r.t("col-contact"),
        r.t("col-side"),
        r.t("col-field"),
        r.t("col-before"),
        r.t("col-after"),
        r.t("col-why"),
        r.t("col-run"),
        r.t("col-change"),
    ]
}

/// What the last undo of the binding did, or that it is under way.
fn undo_widgets(integration: &Integration, r: &Reader, binding: i64) -> Vec<Widget> {
    let Some(shown) = integration.undos.shown(binding) else {
        return Vec::new();
    };
    match shown {
        undo::Shown::Running(_) => vec![text(r.t("undo-running"), Tone::Normal)],
        undo::Shown::Failed(_, error) => vec![text(
            r.t_with("undo-failed", &[("error", Arg::Text(error))]),
            Tone::Error,
        )],
        undo::Shown::Done(_, done) => {
            let summary = r.t_with(
                "undo-done",
                &[
                    ("restored", Arg::from(done.restored.len())),
                    ("kept", Arg::from(done.kept.len())),
                ],
            );
            let columns = [r.t("col-contact"), r.t("col-field"), r.t("col-why")];
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            let rows = done
                .kept
                .iter()
                .map(|(name, what, why)| vec![name.clone(), what.clone(), r.t(kept_key(*why))])
                .collect();
            vec![text(summary, Tone::Success), table("undo-kept", &columns, rows)]
        }
    }
}

fn kept_key(kept: Kept) -> &'static str {
    match kept {
        Kept::ChangedSince => "kept-changed-since",
        Kept::Gone => "kept-gone",
        Kept::ImportStays => "kept-import",
        Kept::StillInFilter => "kept-in-filter",
        Kept::Duplicate => "kept-duplicate",
    }
}

/// Queues an undo of a run (`undo_run`, field `run`) or of one change (`undo_change`, field
/// `change`) of the user's enabled binding.
pub fn undo_act(
    integration: &Integration,
    r: &Reader,
    b: &Binding,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let number = |name: &str| action.field(name).and_then(|t| t.trim().parse::<i64>().ok());
    let target = match action.name.as_str() {
        "undo_run" => number("run").map(|run| undo::Target::Run { run }),
        _ => number("change").map(|change| undo::Target::Change { change }),
    };
    let Some(target) = target else {
        return refused(r.t("history-not-a-number"));
    };
    integration.queue_undo(b.id, target)?;
    Ok(outcome(r.t("undo-started"), Tone::Normal))
}

/// The columns of [`columns`] for one change, `when` being its time as the reader should see it.
pub(super) fn cells(r: &Reader, c: &Change, when: String) -> Vec<String> {
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
        when,
        contact,
        side,
        field,
        before,
        after,
        r.t(why_key(e.why)),
        c.run.to_string(),
        c.id.to_string(),
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
    let query = match query_of(r, action) {
        Ok(q) => q,
        Err(m) => return refused(m),
    };
    integration.set_history_query(ctx.user.0, filter, query);
    Ok(outcome("", Tone::Normal))
}

/// The changes an action asks for: its fields `history_contact`, `history_side` and
/// `history_run`, each optional.
pub(super) fn query_of(r: &Reader, action: &SettingsAction) -> Result<Query, String> {
    let number = |name: &str| -> Result<Option<u64>, String> {
        match action.field(name).map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| r.t("history-not-a-number")),
        }
    };
    Ok(Query {
        contact_id: number("history_contact")?,
        side: action.field("history_side").and_then(Side::parse),
        run: number("history_run")?.map(|v| v as i64),
        id: None,
    })
}

/// `query` as the fields [`query_of`] reads.
pub(super) fn query_fields(query: &Query) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    if let Some(contact) = query.contact_id {
        fields.push(("history_contact", contact.to_string()));
    }
    if let Some(side) = query.side {
        fields.push(("history_side", side.as_str().to_string()));
    }
    if let Some(run) = query.run {
        fields.push(("history_run", run.to_string()));
    }
    fields
}
