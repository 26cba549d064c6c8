//! The plugin's panel on a CRM contact's page (ABI 0.1.2
//! [`Plugin::render_contact_panel`](abi::Plugin::render_contact_panel)): what the sync changed on
//! that contact, in each of the user's filters, with "Undo this change" and the export.

use abi::abi_stable::std_types::{ROption, RVec};
use abi::{ContactId, PluginError, Section, SettingsContext, SettingsView, Tone};

use super::history::{cells, columns, undo_change_form};
use super::widgets::{s, section, table, text};
use crate::domain::Binding;
use crate::integration::{filter_name, store_error, Integration};
use crate::locale::{Arg, Reader};
use crate::store::bindings;
use crate::store::history::{self, Query};

/// How many changes the panel lists per filter.
const SHOWN: u32 = 50;

/// The panel, or `None` when the user syncs no filter or may not see the contact.
pub fn render(
    integration: &Integration,
    ctx: &SettingsContext,
    contact: ContactId,
) -> Result<Option<SettingsView>, PluginError> {
    let mine = bindings::of_user(&integration.store.conn(), ctx.user.0).map_err(store_error)?;
    // The host shows the panel only on a contact the user may see; asking again costs one call
    // and keeps a careless host from showing another user's history.
    if mine.is_empty()
        || !integration
            .host
            .may_access(ctx.user, contact)
            .into_result()
            .unwrap_or(false)
    {
        return Ok(None);
    }
    let r = &Reader::of(&integration.host, ctx.user);
    let mut sections = Vec::new();
    for b in &mine {
        if let Some(section) = binding_section(integration, r, b, contact.0)? {
            sections.push(section);
        }
    }
    if sections.is_empty() {
        sections.push(section(
            "contact-history",
            &r.t("section-contact-history"),
            vec![text(r.t("contact-history-none"), Tone::Normal)],
        ));
    }
    Ok(Some(SettingsView {
        title: s(r.t("section-contact-history")),
        sections: RVec::from(sections),
        refresh_after_ms: ROption::RNone,
    }))
}

/// The contact's changes in `b`, or `None` when there are none.
fn binding_section(
    integration: &Integration,
    r: &Reader,
    b: &Binding,
    contact: u64,
) -> Result<Option<Section>, PluginError> {
    let query = Query {
        contact_id: Some(contact),
        ..Query::default()
    };
    let changes = history::changes(&integration.store.conn(), b.id, &query, SHOWN).map_err(store_error)?;
    if changes.is_empty() {
        return Ok(None);
    }
    let now = integration.host.now().0;
    let columns = columns(r);
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows = changes.iter().map(|c| cells(r, c, r.when(c.at, now))).collect();
    let filter = b.filter_id.to_string();
    let mut widgets = vec![table(&format!("contact-history-{filter}"), &columns, rows)];
    if b.enabled {
        widgets.push(undo_change_form(r, &format!("undo-change-{filter}"), &filter));
    }
    widgets.extend(super::export::button_for(integration, r, b.filter_id, &query));
    let heading = r.t_with(
        "contact-history-in-filter",
        &[("filter", Arg::Text(filter_name(&integration.host, r, b)))],
    );
    Ok(Some(section(
        &format!("contact-history-{filter}"),
        &heading,
        widgets,
    )))
}
