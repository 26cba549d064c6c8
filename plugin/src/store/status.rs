//! What users see of each binding: runs with their counts, live progress, per-contact health.

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::{from_json, to_json, StoreError};
use crate::domain::{Counts, Reason};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub counts: Counts,
    pub error: Option<String>,
}

pub fn start_run(conn: &Connection, binding_id: i64, now: i64) -> Result<i64, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    conn.execute_cached(
        "INSERT INTO runs (binding_id, started_at) VALUES (?1, ?2)",
        params![binding_id, now],
    )?;
    conn.execute_cached(
        "UPDATE bindings SET running = 1, progress_done = 0, progress_total = 0 WHERE id = ?1",
        [binding_id],
    )?;
    let id = conn.last_insert_rowid();
    tx.commit()?;
    Ok(id)
}

pub fn finish_run(
    conn: &Connection,
    run_id: i64,
    binding_id: i64,
    now: i64,
    counts: &Counts,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    conn.execute_cached(
        "UPDATE runs SET finished_at = ?2, counts = ?3, error = ?4 WHERE id = ?1",
        params![run_id, now, to_json(counts), error],
    )?;
    conn.execute_cached("UPDATE bindings SET running = 0 WHERE id = ?1", [binding_id])?;
    keep_last_runs(conn, binding_id)?;
    tx.commit()?;
    Ok(())
}

/// Records a run that found nothing to do, started and finished at `now`, in the caller's
/// transaction.
pub fn record_quiet_run(
    conn: &Connection,
    binding_id: i64,
    now: i64,
    counts: &Counts,
) -> Result<(), StoreError> {
    conn.execute_cached(
        "INSERT INTO runs (binding_id, started_at, finished_at, counts) VALUES (?1, ?2, ?2, ?3)",
        params![binding_id, now, to_json(counts)],
    )?;
    keep_last_runs(conn, binding_id)
}

/// Keeps the last hundred runs of the binding.
fn keep_last_runs(conn: &Connection, binding_id: i64) -> Result<(), StoreError> {
    conn.execute_cached(
        "DELETE FROM runs WHERE binding_id = ?1 AND id NOT IN
             (SELECT id FROM runs WHERE binding_id = ?1 ORDER BY id DESC LIMIT 100)",
        [binding_id],
    )?;
    Ok(())
}

/// The run the user should see as "the last run": the newest finished run, unless it found
/// nothing to do; then the newest run that did something, so that a quiet run started by an
/// echo of our own CRM write never hides the run that synced. A quiet run after a failed one
/// is shown: it says the failure is over.
pub fn last_run(conn: &Connection, binding_id: i64) -> Result<Option<Run>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT started_at, finished_at, counts, error FROM runs
         WHERE binding_id = ?1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 100",
    )?;
    let rows = stmt.query_map([binding_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?, r.get(3)?))
    })?;
    let mut newest = None;
    for row in rows {
        let (started_at, finished_at, counts, error) = row?;
        let counts: Counts = counts.map(|c| from_json(&c)).transpose()?.unwrap_or_default();
        let run = Run {
            started_at,
            finished_at,
            counts,
            error,
        };
        let quiet = run.error.is_none() && run.counts == Counts::default();
        match newest {
            None if !quiet => return Ok(Some(run)),
            None => newest = Some(run),
            Some(_) if quiet => {}
            Some(quiet_one) => return Ok(Some(if run.error.is_some() { quiet_one } else { run })),
        }
    }
    Ok(newest)
}

pub fn last_success(conn: &Connection, binding_id: i64) -> Result<Option<i64>, StoreError> {
    // The newest first, by the index: a binding keeps a hundred runs, and the notices ask
    // this of every binding on every tick.
    Ok(conn
        .query_row_cached(
            "SELECT finished_at FROM runs WHERE binding_id = ?1 AND finished_at IS NOT NULL
             AND error IS NULL ORDER BY id DESC LIMIT 1",
            [binding_id],
            |r| r.get::<_, i64>(0),
        )
        .optional()?)
}

pub fn set_progress(conn: &Connection, binding_id: i64, done: u64, total: u64) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET progress_done = ?2, progress_total = ?3 WHERE id = ?1",
        params![binding_id, done as i64, total as i64],
    )?;
    Ok(())
}

/// `(running, done, total)`.
pub fn progress(conn: &Connection, binding_id: i64) -> Result<(bool, u64, u64), StoreError> {
    Ok(conn.query_row_cached(
        "SELECT running, progress_done, progress_total FROM bindings WHERE id = ?1",
        [binding_id],
        |r| {
            Ok((
                r.get::<_, i64>(0)? != 0,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )?)
}

/// A contact's health in a binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub contact_id: u64,
    pub state: HealthState,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Not synced on purpose (e.g. the user may not see it); the reason says why.
    Excluded,
    /// Google or the CRM refused it; retried on the next run.
    Failing,
}

impl HealthState {
    fn as_str(self) -> &'static str {
        match self {
            HealthState::Excluded => "excluded",
            HealthState::Failing => "failing",
        }
    }
}

pub fn set_health(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    state: HealthState,
    reason: &str,
    at: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO health (binding_id, contact_id, state, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (binding_id, contact_id) DO UPDATE SET state = ?3, reason = ?4, at = ?5",
    )?;
    stmt.execute(params![binding_id, contact_id as i64, state.as_str(), reason, at])?;
    Ok(())
}

pub fn clear_health(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("DELETE FROM health WHERE binding_id = ?1 AND contact_id = ?2")?;
    stmt.execute(params![binding_id, contact_id as i64])?;
    Ok(())
}

/// The contacts of a binding with something to say: the stored rows (failing, skipped) and
/// every contact Google took out of the group. The latter are read from the exclusions
/// themselves rather than from a copy, so no write that forgets the copy can hide them
/// (simulation seed 232: a removal from the group cleared the row of a contact that stayed
/// excluded). An excluded contact shows as excluded even with a stored failure: that failure
/// came from an attempt to join it again that did not happen (simulation seed 18683: put back
/// and deleted again in Google, its marking answered 404 and it showed "failing" for good).
pub fn health(conn: &Connection, binding_id: i64, limit: u32) -> Result<Vec<Health>, StoreError> {
    let excluded = super::links::exclusions(conn, binding_id)?.at;
    let mut all: Vec<Health> = excluded
        .iter()
        .map(|(&contact_id, &at)| Health {
            contact_id,
            state: HealthState::Excluded,
            reason: Reason::LeftInGoogle.text().to_string(),
            at,
        })
        .collect();
    for row in stored_health(conn, binding_id)? {
        if !excluded.contains_key(&row.contact_id) {
            all.push(row);
        }
    }
    // Failing first, then by contact.
    all.sort_by(|a, b| (b.state.as_str(), a.contact_id).cmp(&(a.state.as_str(), b.contact_id)));
    all.truncate(limit as usize);
    Ok(all)
}

fn stored_health(conn: &Connection, binding_id: i64) -> Result<Vec<Health>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT contact_id, state, reason, at FROM health WHERE binding_id = ?1")?;
    let rows = stmt.query_map([binding_id], |r| {
        let state: String = r.get(1)?;
        Ok(Health {
            contact_id: r.get::<_, i64>(0)? as u64,
            state: if state == "failing" {
                HealthState::Failing
            } else {
                HealthState::Excluded
            },
            reason: r.get(2)?,
            at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The failing contacts of a binding, by contact, as [`health`] lists them; the exclusions
/// (every standing of the binding, decoded) are read only when some contact fails, which the
/// notice review of a thousand quiet bindings never needs.
pub fn failing(conn: &Connection, binding_id: i64) -> Result<Vec<Health>, StoreError> {
    let mut stored: Vec<Health> = stored_health(conn, binding_id)?
        .into_iter()
        .filter(|h| h.state == HealthState::Failing)
        .collect();
    if stored.is_empty() {
        return Ok(stored);
    }
    let excluded = super::links::exclusions(conn, binding_id)?.at;
    stored.retain(|h| !excluded.contains_key(&h.contact_id));
    stored.sort_by_key(|h| h.contact_id);
    Ok(stored)
}

pub fn failing_count(conn: &Connection, binding_id: i64) -> Result<u64, StoreError> {
    let excluded = super::links::exclusions(conn, binding_id)?.at;
    Ok(stored_health(conn, binding_id)?
        .iter()
        .filter(|h| h.state == HealthState::Failing && !excluded.contains_key(&h.contact_id))
        .count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(conn: &Connection, counts: Counts, error: Option<&str>) {
        let run = start_run(conn, 1, 10).unwrap();
        finish_run(conn, run, 1, 20, &counts, error).unwrap();
    }

    fn synced_three() -> Counts {
        Counts {
            created_in_google: 3,
            ..Counts::default()
        }
    }

    fn store() -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn a_quiet_run_does_not_hide_the_run_that_synced() {
        let (_dir, store) = store();
        let conn = store.conn();
        finished(&conn, synced_three(), None);
        finished(&conn, Counts::default(), None);
        let shown = last_run(&conn, 1).unwrap().unwrap();
        assert_eq!(shown.counts, synced_three());
    }

    #[test]
    fn a_failed_run_is_shown_even_after_a_run_that_synced() {
        let (_dir, store) = store();
        let conn = store.conn();
        finished(&conn, synced_three(), None);
        finished(&conn, Counts::default(), Some("Google did not answer."));
        let shown = last_run(&conn, 1).unwrap().unwrap();
        assert_eq!(shown.error.as_deref(), Some("Google did not answer."));
    }

    #[test]
    fn a_quiet_run_after_a_failure_says_the_failure_is_over() {
        let (_dir, store) = store();
        let conn = store.conn();
        finished(&conn, Counts::default(), Some("Google did not answer."));
        finished(&conn, Counts::default(), None);
        let shown = last_run(&conn, 1).unwrap().unwrap();
        assert_eq!(shown.error, None);
    }
}
