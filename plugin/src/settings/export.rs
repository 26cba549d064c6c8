//! A binding's history as a CSV file (action `export_history`), for hosts that hand files to
//! users (ABI 0.1.2 [`Plugin::download`](abi::Plugin::download)).

use abi::abi_stable::std_types::RVec;
use abi::{
    Download, HostOffers, PluginError, PluginErrorKind, SettingsAction, SettingsContext, Tone, Widget,
};

use super::access::Refusal;
use super::actions::filter_of;
use super::history::{cells, columns, query_fields, query_of};
use super::widgets::{self, action, s};
use crate::integration::{store_error, Integration};
use crate::locale::Reader;
use crate::store::bindings;
use crate::store::history::{self, Query};

pub const ACTION: &str = "export_history";

/// The "Export as CSV" button for the changes `query` selects, when the host can hand the user
/// the file.
pub(super) fn button_for(
    integration: &Integration,
    r: &Reader,
    filter: u64,
    query: &Query,
) -> Option<Widget> {
    if !integration.host.offers().contains(HostOffers::DOWNLOADS) {
        return None;
    }
    let filter = filter.to_string();
    let query = query_fields(query);
    let mut fields: Vec<(&str, &str)> = vec![("filter", &filter)];
    fields.extend(query.iter().map(|(name, value)| (*name, value.as_str())));
    Some(widgets::button(
        "export-history",
        &r.t("history-export"),
        action(ACTION, &fields),
        Tone::Normal,
        "",
    ))
}

/// The file `action` asks for, or `None` when it is not an export.
pub fn download(
    integration: &Integration,
    ctx: &SettingsContext,
    action: &SettingsAction,
) -> Result<Option<Download>, PluginError> {
    if action.name.as_str() != ACTION {
        return Ok(None);
    }
    let r = &Reader::of(&integration.host, ctx.user);
    let rejected = |message: String| PluginError::new(PluginErrorKind::Rejected, message);
    let filter = filter_of(ctx, r, action).map_err(rejected)?;
    let query = query_of(r, action).map_err(rejected)?;
    let conn = integration.store.conn();
    let binding = match bindings::by_filter(&conn, filter).map_err(store_error)? {
        Some(b) if b.crm_user == ctx.user.0 => b,
        Some(_) => return Err(rejected(Refusal::NotAuthor.message(r))),
        None => return Err(rejected(r.t("sync-not-enabled"))),
    };
    let mut csv = Csv::new(&columns(r));
    history::each(&conn, binding.id, &query, u32::MAX, |c| {
        csv.row(&cells(r, &c, r.time(c.at)));
        Ok(())
    })
    .map_err(store_error)?;
    Ok(Some(Download {
        file_name: s(file_name(filter, &query)),
        media_type: s("text/csv; charset=utf-8"),
        body: RVec::from(csv.finish()),
    }))
}

fn file_name(filter: u64, query: &Query) -> String {
    let mut name = format!("sync-history-filter-{filter}");
    for (field, value) in query_fields(query) {
        name.push_str(&format!("-{}-{value}", field.trim_start_matches("history_")));
    }
    name + ".csv"
}

/// RFC 4180 text, opened with a byte-order mark so that spreadsheets read it as UTF-8.
struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    fn new(columns: &[String]) -> Csv {
        let mut csv = Csv(csv::Writer::from_writer("\u{feff}".as_bytes().to_vec()));
        csv.row(columns);
        csv
    }

    fn row(&mut self, cells: &[String]) {
        // Writing into memory fails only on a value the writer cannot quote, which does not
        // exist for strings; a row lost to it would still leave the file readable.
        if let Err(e) = self.0.write_record(cells.iter().map(|c| defused(c).into_owned())) {
            log::warn!("A history row was left out of the export: {e}");
        }
    }

    fn finish(self) -> Vec<u8> {
        self.0
            .into_inner()
            .unwrap_or_else(|e| e.into_inner().get_ref().clone())
    }
}

/// A cell a spreadsheet would run as a formula (a contact's name or note is anyone's text)
/// gets a leading apostrophe, which shows it as text.
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_as_text() {
        let mut csv = Csv::new(&["a".to_string(), "b".to_string()]);
        csv.row(&[
            "=HYPERLINK(\"x\")".to_string(),
            "plain, with \"quotes\"".to_string(),
        ]);
        csv.row(&["+1 555 0100".to_string(), "@cmd".to_string()]);
        let text = String::from_utf8(csv.finish()).unwrap();
        assert_eq!(
            text,
            "\u{feff}a,b\n\"'=HYPERLINK(\"\"x\"\")\",\"plain, with \"\"quotes\"\"\"\n'+1 555 0100,'@cmd\n"
        );
    }

    #[test]
    fn the_file_is_named_after_the_filter_and_what_was_asked() {
        let query = Query {
            contact_id: Some(7),
            run: Some(3),
            ..Query::default()
        };
        assert_eq!(
            file_name(12, &query),
            "sync-history-filter-12-contact-7-run-3.csv"
        );
        assert_eq!(file_name(12, &Query::default()), "sync-history-filter-12.csv");
    }
}
