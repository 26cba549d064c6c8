//! The preview on a filter's page: started from the enable form ("Preview first") or from an
//! enabled filter's status, computed by a job, shown a page of contacts at a time, and enabled
//! (or run) as previewed.

use abi::{ActionOutcome, PluginError, SettingsAction, SettingsContext, Tone, Widget};

use super::access::Refusal;
use super::actions::{enable_binding, enabling, outcome, permitted_filter, refused, Enabling};
use super::view::counts_label;
use super::widgets::{action, button, facts, section, table, text};
use crate::integration::previews::{Ready, Shown, PAGE};
use crate::integration::{store_error, Integration};
use crate::locale::{Arg, Reader};
use crate::store::bindings;
use crate::sync::preview::{Change, Item, MatchedBy, Side, What};

pub fn act(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    action: &SettingsAction,
) -> Result<ActionOutcome, PluginError> {
    let filter = match permitted_filter(integration, ctx, r, action) {
        Ok((filter, _)) => filter,
        Err(m) => return refused(m),
    };
    let user = ctx.user.0;
    match action.name.as_str() {
        "preview" => match enabled_binding(integration, user, filter)? {
            Some(b) => start(
                integration,
                ctx,
                r,
                &Enabling {
                    filter,
                    account: b.account,
                    options: b.options,
                    message: "",
                },
            ),
            None => match enabling(integration, ctx, r, action)? {
                Ok(asked) => start(integration, ctx, r, &asked),
                Err(m) => refused(m),
            },
        },
        "preview_page" => {
            let page = action
                .field("page")
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(0);
            integration.previews.turn_page(user, filter, page);
            Ok(outcome("", Tone::Normal))
        }
        "enable_previewed" => enable_previewed(integration, ctx, r, filter),
        _ => {
            integration.previews.discard(user, filter);
            Ok(outcome(r.t("preview-discarded"), Tone::Normal))
        }
    }
}

/// Queues the preview job for what `asked` describes.
pub fn start(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    asked: &Enabling,
) -> Result<ActionOutcome, PluginError> {
    integration.queue_preview(ctx.user.0, asked.filter, &asked.account, &asked.options)?;
    Ok(outcome(r.t("preview-started"), Tone::Normal))
}

fn enabled_binding(
    integration: &Integration,
    user: u64,
    filter: u64,
) -> Result<Option<crate::domain::Binding>, PluginError> {
    Ok(bindings::by_filter(&integration.store.conn(), filter)
        .map_err(store_error)?
        .filter(|b| b.enabled && b.crm_user == user))
}

/// Enables the filter with the previewed account and options (or, enabled, runs it now), and
/// has the run compared with the preview.
fn enable_previewed(
    integration: &Integration,
    ctx: &SettingsContext,
    r: &Reader,
    filter: u64,
) -> Result<ActionOutcome, PluginError> {
    let user = ctx.user.0;
    let Some(Shown::Ready(ready)) = integration.previews.shown(user, filter) else {
        return refused(r.t("no-preview"));
    };
    let (binding, message) = match enabled_binding(integration, user, filter)? {
        Some(b) => {
            bindings::run_now(&integration.store.conn(), b.id).map_err(store_error)?;
            (b, "started-as-previewed")
        }
        None => {
            let owner = crate::store::accounts::get(&integration.store.conn(), &ready.account)
                .map_err(store_error)?;
            if owner.is_none_or(|a| a.crm_user != user) {
                return refused(Refusal::NotAuthor.message(r));
            }
            let asked = Enabling {
                filter,
                account: ready.account.clone(),
                options: ready.options.clone(),
                message: "",
            };
            (enable_binding(integration, ctx, &asked)?, "enabled-as-previewed")
        }
    };
    integration.previews.promise(binding.id, ready.preview.counts);
    integration.previews.discard(user, filter);
    integration.queue_account(&binding.account)?;
    Ok(outcome(r.t(message), Tone::Success))
}

/// The preview section of a filter's page, if the user has one; whether the page should
/// refresh itself (the preview is being computed).
pub fn section_of(
    integration: &Integration,
    r: &Reader,
    user: u64,
    filter: u64,
) -> Option<(abi::Section, bool)> {
    let enabled = matches!(enabled_binding(integration, user, filter), Ok(Some(_)));
    let shown = integration.previews.shown(user, filter)?;
    let (widgets, running) = match shown {
        Shown::Running { listed } => (
            vec![text(
                r.t_with("preview-running", &[("listed", Arg::from(listed))]),
                Tone::Normal,
            )],
            true,
        ),
        Shown::Failed(error) => (
            vec![
                text(
                    r.t_with("preview-failed", &[("error", Arg::Text(error))]),
                    Tone::Error,
                ),
                discard_button(r, filter),
            ],
            false,
        ),
        Shown::Ready(ready) => (ready_widgets(r, &ready, filter, enabled), false),
    };
    Some((section("preview", &r.t("section-preview"), widgets), running))
}

fn ready_widgets(r: &Reader, ready: &Ready, filter: u64, enabled: bool) -> Vec<Widget> {
    let p = &ready.preview;
    let filter_text = filter.to_string();
    let mut widgets = vec![
        text(r.t("preview-intro"), Tone::Normal),
        facts(vec![
            (r.t("fact-preview-totals"), counts_label(r, &p.counts)),
            (r.t("fact-preview-listed"), p.listed.to_string()),
            (r.t("fact-preview-in-filter"), p.in_filter.to_string()),
            (r.t("fact-preview-held"), p.held_removals.to_string()),
        ]),
    ];
    let pages = p.items.len().div_ceil(PAGE).max(1);
    let shown: Vec<&Item> = p.items.iter().skip(ready.page * PAGE).take(PAGE).collect();
    let columns = [
        r.t("col-contact"),
        r.t("col-what"),
        r.t("col-field"),
        r.t("col-old"),
        r.t("col-new"),
    ];
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = shown.iter().flat_map(|item| rows_of(r, item)).collect();
    widgets.push(table("preview-contacts", &columns, rows));
    widgets.push(text(
        r.t_with(
            "preview-page",
            &[("page", Arg::from(ready.page + 1)), ("pages", Arg::from(pages))],
        ),
        Tone::Normal,
    ));
    let turn = |id: &str, label: &str, page: usize| {
        button(
            id,
            &r.t(label),
            action(
                "preview_page",
                &[("filter", &filter_text), ("page", &page.to_string())],
            ),
            Tone::Normal,
            "",
        )
    };
    if ready.page > 0 {
        widgets.push(turn("preview-prev", "preview-prev", ready.page - 1));
    }
    if ready.page + 1 < pages {
        widgets.push(turn("preview-next", "preview-next", ready.page + 1));
    }
    let label = if enabled {
        "run-previewed"
    } else {
        "enable-previewed"
    };
    widgets.push(button(
        "enable-previewed",
        &r.t(label),
        action("enable_previewed", &[("filter", &filter_text)]),
        Tone::Success,
        "",
    ));
    widgets.push(discard_button(r, filter));
    widgets
}

fn discard_button(r: &Reader, filter: u64) -> Widget {
    button(
        "discard-preview",
        &r.t("discard-preview"),
        action("discard_preview", &[("filter", &filter.to_string())]),
        Tone::Normal,
        "",
    )
}

/// One row per field the item changes, or one for the item when it changes none.
fn rows_of(r: &Reader, item: &Item) -> Vec<Vec<String>> {
    let what = what_label(r, &item.what);
    if item.changes.is_empty() {
        return vec![vec![
            item.name.clone(),
            what,
            String::new(),
            String::new(),
            String::new(),
        ]];
    }
    item.changes
        .iter()
        .map(|c| {
            vec![
                item.name.clone(),
                what.clone(),
                change_label(r, c),
                c.old.clone(),
                c.new.clone(),
            ]
        })
        .collect()
}

fn change_label(r: &Reader, c: &Change) -> String {
    let side = match c.side {
        Side::Google => r.t("side-google"),
        Side::Crm => r.t("side-crm"),
    };
    let key = if c.conflict {
        "change-conflict"
    } else {
        "change-field"
    };
    r.t_with(
        key,
        &[("field", Arg::Text(c.field.clone())), ("side", Arg::Text(side))],
    )
}

fn what_label(r: &Reader, what: &What) -> String {
    match what {
        What::CreateInGoogle => r.t("what-create"),
        What::Match { by } => {
            let by = match by {
                MatchedBy::CrmId => "match-by-crm-id",
                MatchedBy::Email => "match-by-email",
                MatchedBy::Phone => "match-by-phone",
                MatchedBy::Rejoined => "match-by-rejoined",
            };
            r.t_with("what-match", &[("by", Arg::Text(r.t(by)))])
        }
        What::Update => r.t("what-update"),
        What::AddToGroup => r.t("what-add-to-group"),
        What::ImportIntoCrm => r.t("what-import"),
        What::RemoveFromGroup => r.t("what-remove"),
        What::DeleteInGoogle => r.t("what-delete"),
        What::DeleteCopy => r.t("what-delete-copy"),
        What::Unlink { excluded: false } => r.t("what-unlink"),
        What::Unlink { excluded: true } => r.t("what-excluded"),
        What::Refused { reason } => r.t_with(
            "what-refused",
            &[("reason", Arg::Text(crate::domain::Reason::parse(reason).shown(r)))],
        ),
    }
}

/// What the page says of the run after "enable as previewed", once it ran.
pub fn kept_widget(integration: &Integration, r: &Reader, binding: i64) -> Option<Widget> {
    let kept = integration.previews.kept(binding)?;
    Some(if kept.promised == kept.done {
        text(r.t("preview-kept"), Tone::Success)
    } else {
        text(
            r.t_with(
                "preview-differed",
                &[
                    ("preview", Arg::Text(counts_label(r, &kept.promised))),
                    ("run", Arg::Text(counts_label(r, &kept.done))),
                ],
            ),
            Tone::Warning,
        )
    })
}
