//! What users see of each binding: runs with their counts, live progress, per-contact health.

use rusqlite::{params, Connection, OptionalExtension};

use super::{from_json, to_json, StoreError};
use crate::sync::model::Counts;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub counts: Counts,
    pub error: Option<String>,
}

pub fn start_run(conn: &Connection, binding_id: i64, now: i64) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO runs (binding_id, started_at) VALUES (?1, ?2)",
        params![binding_id, now],
    )?;
    conn.execute(
        "UPDATE bindings SET running = 1, progress_done = 0, progress_total = 0 WHERE id = ?1",
        [binding_id],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_run(
    conn: &Connection,
    run_id: i64,
    binding_id: i64,
    now: i64,
    counts: &Counts,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE runs SET finished_at = ?2, counts = ?3, error = ?4 WHERE id = ?1",
        params![run_id, now, to_json(counts), error],
    )?;
    conn.execute("UPDATE bindings SET running = 0 WHERE id = ?1", [binding_id])?;
    // Keep the last hundred runs per binding.
    conn.execute(
        "DELETE FROM runs WHERE binding_id = ?1 AND id NOT IN
             (SELECT id FROM runs WHERE binding_id = ?1 ORDER BY id DESC LIMIT 100)",
        [binding_id],
    )?;
    Ok(())
}

/// The last finished run, and the last successful sync time.
pub fn last_run(conn: &Connection, binding_id: i64) -> Result<Option<Run>, StoreError> {
    let row = conn
        .query_row(
            "SELECT started_at, finished_at, counts, error FROM runs
             WHERE binding_id = ?1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            [binding_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?, r.get(3)?)),
        )
        .optional()?;
    row.map(|(started_at, finished_at, counts, error)| {
        let counts = counts.map(|c| from_json(&c)).transpose()?.unwrap_or_default();
        Ok(Run {
            started_at,
            finished_at,
            counts,
            error,
        })
    })
    .transpose()
}

pub fn last_success(conn: &Connection, binding_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn.query_row(
        "SELECT MAX(finished_at) FROM runs WHERE binding_id = ?1 AND error IS NULL",
        [binding_id],
        |r| r.get::<_, Option<i64>>(0),
    )?)
}

pub fn set_progress(conn: &Connection, binding_id: i64, done: u64, total: u64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE bindings SET progress_done = ?2, progress_total = ?3 WHERE id = ?1",
        params![binding_id, done as i64, total as i64],
    )?;
    Ok(())
}

/// `(running, done, total)`.
pub fn progress(conn: &Connection, binding_id: i64) -> Result<(bool, u64, u64), StoreError> {
    Ok(conn.query_row(
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

pub fn health(conn: &Connection, binding_id: i64, limit: u32) -> Result<Vec<Health>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT contact_id, state, reason, at FROM health WHERE binding_id = ?1
         ORDER BY state DESC, contact_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![binding_id, limit], |r| {
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

pub fn failing_count(conn: &Connection, binding_id: i64) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM health WHERE binding_id = ?1 AND state = 'failing'",
        [binding_id],
        |r| r.get::<_, i64>(0),
    )? as u64)
}
