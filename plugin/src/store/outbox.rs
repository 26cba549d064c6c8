//! CRM changes recorded by `on_contact_changed`, waiting for a job to sync them. Rows are read
//! by every binding (each keeps a cursor) and dropped once all enabled bindings passed them.
//!
//! The outbox lives in a database file of its own: SQLite has one writer per file, and the
//! host-thread hook must never wait behind a sync's transaction in the mapping file.

use rusqlite::{params, Connection};

use super::Cached as _;
use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub contact_id: u64,
    pub deleted: bool,
}

pub fn push(conn: &Connection, contact_id: u64, deleted: bool, at: i64) -> Result<(), StoreError> {
    let kind = if deleted { "deleted" } else { "changed" };
    let mut stmt = conn.prepare_cached("INSERT INTO outbox (contact_id, kind, at) VALUES (?1, ?2, ?3)")?;
    stmt.execute(params![contact_id as i64, kind, at])?;
    Ok(())
}

/// Rows after `cursor`, oldest first.
pub fn after(conn: &Connection, cursor: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, contact_id, kind FROM outbox WHERE id > ?1 ORDER BY id")?;
    let rows = stmt.query_map([cursor], |r| {
        Ok(OutboxRow {
            id: r.get(0)?,
            contact_id: r.get::<_, i64>(1)? as u64,
            deleted: r.get::<_, String>(2)? == "deleted",
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn last_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row_cached("SELECT COALESCE(MAX(id), 0) FROM outbox", [], |r| r.get(0))?)
}

/// Drops rows up to `up_to`, the lowest cursor of the enabled bindings (every row when there is
/// none).
pub fn trim(conn: &Connection, up_to: Option<i64>) -> Result<(), StoreError> {
    match up_to {
        Some(cursor) => conn.execute_cached("DELETE FROM outbox WHERE id <= ?1", [cursor])?,
        None => conn.execute_cached("DELETE FROM outbox", [])?,
    };
    Ok(())
}

/// The lowest outbox cursor of the enabled bindings, read from the mapping file.
pub fn lowest_cursor(mapping: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(mapping.query_row_cached(
        "SELECT MIN(outbox_cursor) FROM bindings WHERE enabled = 1",
        [],
        |r| r.get(0),
    )?)
}
