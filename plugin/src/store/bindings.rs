//! Bindings: which saved filter syncs with which Google account and group, and how.

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::{from_json, to_json, StoreError};
use crate::domain::{Binding, BindingOptions};

const COLUMNS: &str =
    "id, filter_id, crm_user, account, group_resource, options, enabled, needs_full, outbox_cursor, next_run_at";

fn row(r: &rusqlite::Row) -> rusqlite::Result<(Binding, String)> {
    let options: String = r.get(5)?;
    Ok((
        Binding {
            id: r.get(0)?,
            filter_id: r.get::<_, i64>(1)? as u64,
            crm_user: r.get::<_, i64>(2)? as u64,
            account: r.get(3)?,
            group: r.get(4)?,
            options: BindingOptions::default(),
            enabled: r.get::<_, i64>(6)? != 0,
            needs_full: r.get::<_, i64>(7)? != 0,
            outbox_cursor: r.get(8)?,
            next_run_at: r.get(9)?,
        },
        options,
    ))
}

fn finish((mut binding, options): (Binding, String)) -> Result<Binding, StoreError> {
    binding.options = from_json(&options)?;
    Ok(binding)
}

fn query(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Binding>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM bindings {filter} ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, row)?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

pub fn by_filter(conn: &Connection, filter_id: u64) -> Result<Option<Binding>, StoreError> {
    Ok(query(conn, "WHERE filter_id = ?1", [filter_id as i64])?.pop())
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<Binding>, StoreError> {
    Ok(query(conn, "WHERE id = ?1", [id])?.pop())
}

pub fn enabled(conn: &Connection) -> Result<Vec<Binding>, StoreError> {
    query(conn, "WHERE enabled = 1", [])
}

pub fn of_account(conn: &Connection, account: &str) -> Result<Vec<Binding>, StoreError> {
    query(conn, "WHERE enabled = 1 AND account = ?1", [account])
}

pub fn of_user(conn: &Connection, crm_user: u64) -> Result<Vec<Binding>, StoreError> {
    query(conn, "WHERE crm_user = ?1", [crm_user as i64])
}

/// Enables sync on a filter, creating the binding or re-enabling it. A re-enabled binding
/// starts with a full listing, so contacts are matched again and never duplicated.
pub fn enable(
    conn: &Connection,
    filter_id: u64,
    crm_user: u64,
    account: &str,
    options: &BindingOptions,
    outbox_cursor: i64,
) -> Result<Binding, StoreError> {
    if let Some(before) = by_filter(conn, filter_id)?.filter(|b| b.account != account) {
        // Where its contacts stood was about the other account's Google contacts.
        super::links::forget_binding(conn, before.id, &before.account)?;
    }
    conn.execute_cached(
        "INSERT INTO bindings (filter_id, crm_user, account, options, enabled, needs_full, outbox_cursor, next_run_at)
         VALUES (?1, ?2, ?3, ?4, 1, 1, ?5, 0)
         ON CONFLICT (filter_id) DO UPDATE SET crm_user = ?2, account = ?3, options = ?4, enabled = 1,
             needs_full = 1, outbox_cursor = ?5, next_run_at = 0, held = NULL,
             group_resource = CASE WHEN account = ?3 THEN group_resource ELSE NULL END",
        params![filter_id as i64, crm_user as i64, account, to_json(options), outbox_cursor],
    )?;
    by_filter(conn, filter_id)?.ok_or_else(|| StoreError::Corrupt("binding vanished after insert".into()))
}

pub fn disable(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET enabled = 0, running = 0, held = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn set_options(conn: &Connection, id: i64, options: &BindingOptions) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET options = ?2, next_run_at = 0 WHERE id = ?1",
        params![id, to_json(options)],
    )?;
    Ok(())
}

pub fn set_group(conn: &Connection, id: i64, group: Option<&str>) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET group_resource = ?2 WHERE id = ?1",
        params![id, group],
    )?;
    Ok(())
}

/// The name the binding's group had when we last created or renamed it.
pub fn group_name(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row_cached("SELECT group_name FROM bindings WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten())
}

/// The binding's group and the name it has in Google.
pub fn set_named_group(conn: &Connection, id: i64, group: &str, name: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET group_resource = ?2, group_name = ?3 WHERE id = ?1",
        params![id, group, name],
    )?;
    Ok(())
}

/// Records the end of a run: where the outbox was read up to, whether a full listing is still
/// due, and when to look at Google next.
pub fn finish_run(
    conn: &Connection,
    id: i64,
    outbox_cursor: i64,
    needs_full: bool,
    next_run_at: i64,
) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET outbox_cursor = MAX(outbox_cursor, ?2), needs_full = ?3, next_run_at = ?4 WHERE id = ?1",
        params![id, outbox_cursor, needs_full as i64, next_run_at],
    )?;
    Ok(())
}

pub fn request_full(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE bindings SET needs_full = 1, next_run_at = 0 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn run_now(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute_cached("UPDATE bindings SET next_run_at = 0 WHERE id = ?1", [id])?;
    Ok(())
}

/// A mass removal waiting for the user's confirmation (JSON of what would be removed).
pub fn held(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row_cached("SELECT held FROM bindings WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .flatten())
}

pub fn set_held(conn: &Connection, id: i64, held: Option<&str>) -> Result<(), StoreError> {
    conn.execute_cached("UPDATE bindings SET held = ?2 WHERE id = ?1", params![id, held])?;
    Ok(())
}
