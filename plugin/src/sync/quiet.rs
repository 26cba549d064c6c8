//! A binding with nothing to do: most runs of a CRM at rest.
//!
//! A run plans on evidence (the account's listing, the binding's outbox rows) and on work an
//! earlier run left open (create and import intents, a full CRM listing or removals held for
//! the user). A binding with none of these plans nothing whatever its stored state: the planner
//! walks the CRM view and the listing, and both are empty. Such a run skips observing,
//! planning and applying, and records in one transaction what a run that planned nothing
//! records: a finished run with no changes, the next time to look at Google, the departures a
//! listing late enough has shown. At 1,000 accounts at rest this is most of a round's CPU.

use crate::domain::{Binding, Counts};
use crate::store::{bindings, imports, status, StoreError};

use super::{ensure_group, finish_binding, plan, Env, SyncError};

/// What the account's run found, beside the binding's own rows.
pub(super) struct Evidence<'a> {
    pub google: &'a plan::GoogleView,
    /// The account has creates whose answer is not recorded.
    pub creating: bool,
    /// The newest outbox row.
    pub outbox_last: i64,
}

impl Evidence<'_> {
    /// Whether `binding` has nothing to do in this run.
    pub fn quiet(&self, env: &Env, binding: &Binding) -> Result<bool, StoreError> {
        let google = self.google;
        let nothing_listed =
            !google.full && !google.unresolved && google.contacts.is_empty() && google.deleted.is_empty();
        if !nothing_listed || self.creating || binding.needs_full || binding.outbox_cursor < self.outbox_last
        {
            return Ok(false);
        }
        let conn = env.store.conn();
        Ok(bindings::held(&conn, binding.id)?.is_none() && imports::open(&conn, binding.id)?.is_empty())
    }
}

/// Records the quiet run of `binding` as a run that planned nothing would.
pub(super) fn record(env: &Env, binding: &Binding, listed: bool) -> Result<Counts, SyncError> {
    // The filter's new name reaches its group even when nothing else changed.
    ensure_group(env, binding)?;
    let counts = Counts::default();
    env.store.tx(|tx| {
        status::record_quiet_run(tx, binding.id, env.now, &counts)?;
        finish_binding(env, tx, binding, binding.outbox_cursor, listed, false, false)
    })?;
    Ok(counts)
}
