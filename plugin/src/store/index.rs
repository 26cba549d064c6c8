//! What we know of the account's remote (Google) contacts, as last listed or written: the index
//! that matching reads, the provider's own record of each contact (what a write to it is built
//! on), and the contacts we deleted that a listing may still show.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::{from_json, to_json, StoreError};

/// One Google contact of the account, as last listed or written: the index that matching reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub resource_name: String,
    pub etag: String,
    pub crm_marker: Option<u64>,
    pub email_key: Option<String>,
    pub phone_key: Option<String>,
    pub groups: Vec<String>,
}

/// Records a contact as Google showed it: its index entry, and `record`, the provider's own
/// record of that version when the copy was whole (`None` forgets an older one).
pub fn put(conn: &Connection, account: &str, r: &Indexed, record: Option<&str>) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO remote (account, resource_name, etag, crm_marker, email_key, phone_key, groups, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (account, resource_name) DO UPDATE SET etag = ?3, crm_marker = ?4, email_key = ?5,
             phone_key = ?6, groups = ?7, record = ?8",
    )?;
    stmt.execute(params![
        account,
        r.resource_name,
        r.etag,
        r.crm_marker.map(|m| m as i64),
        r.email_key,
        r.phone_key,
        to_json(&r.groups),
        record
    ])?;
    Ok(())
}

/// The provider's record of the contact as last listed or written, if one was kept.
pub fn record(conn: &Connection, account: &str, resource_name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row_cached(
            "SELECT record FROM remote WHERE account = ?1 AND resource_name = ?2",
            params![account, resource_name],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// Forgets the kept record of a contact that changed in a way we did not see (a write refused
/// as stale, a membership change whose answer carries no record): a write to it reads first.
pub fn forget_record(conn: &Connection, account: &str, resource_name: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE remote SET record = NULL WHERE account = ?1 AND resource_name = ?2",
        params![account, resource_name],
    )?;
    Ok(())
}

pub fn remove(conn: &Connection, account: &str, resource_name: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "DELETE FROM remote WHERE account = ?1 AND resource_name = ?2",
        params![account, resource_name],
    )?;
    Ok(())
}

pub fn clear(conn: &Connection, account: &str) -> Result<(), StoreError> {
    conn.execute_cached("DELETE FROM remote WHERE account = ?1", [account])?;
    Ok(())
}

pub fn count(conn: &Connection, account: &str) -> Result<u64, StoreError> {
    Ok(
        conn.query_row_cached("SELECT COUNT(*) FROM remote WHERE account = ?1", [account], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

fn remote_row(r: &rusqlite::Row) -> rusqlite::Result<(Indexed, String)> {
    Ok((
        Indexed {
            resource_name: r.get(0)?,
            etag: r.get(1)?,
            crm_marker: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
            email_key: r.get(3)?,
            phone_key: r.get(4)?,
            groups: Vec::new(),
        },
        r.get(5)?,
    ))
}

/// Google contacts carrying `key` in `column` (`crm_marker`, `email_key` or `phone_key`).
pub fn by(conn: &Connection, account: &str, column: MatchKey, key: &str) -> Result<Vec<Indexed>, StoreError> {
    let sql = format!(
        "SELECT resource_name, etag, crm_marker, email_key, phone_key, groups FROM remote
         WHERE account = ?1 AND {} = ?2",
        column.column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![account, key], remote_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(mut r, groups)| {
            r.groups = from_json(&groups)?;
            Ok(r)
        })
        .collect()
}

pub fn get(conn: &Connection, account: &str, resource_name: &str) -> Result<Option<Indexed>, StoreError> {
    let row = conn
        .query_row(
            "SELECT resource_name, etag, crm_marker, email_key, phone_key, groups FROM remote
             WHERE account = ?1 AND resource_name = ?2",
            params![account, resource_name],
            remote_row,
        )
        .optional()?;
    row.map(|(mut r, groups)| {
        r.groups = from_json(&groups)?;
        Ok(r)
    })
    .transpose()
}

#[derive(Debug, Clone, Copy)]
pub enum MatchKey {
    Marker,
    Email,
    Phone,
}

impl MatchKey {
    fn column(self) -> &'static str {
        match self {
            MatchKey::Marker => "crm_marker",
            MatchKey::Email => "email_key",
            MatchKey::Phone => "phone_key",
        }
    }
}

/// Records that we deleted `resource_name` in Google at `at`: what we knew of it goes, and the
/// deletion is remembered for listings that still show it.
pub fn record_deletion(
    conn: &Connection,
    account: &str,
    resource_name: &str,
    at: i64,
) -> Result<(), StoreError> {
    remove(conn, account, resource_name)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO deletions (account, resource_name, at) VALUES (?1, ?2, ?3)
         ON CONFLICT (account, resource_name) DO UPDATE SET at = ?3",
    )?;
    stmt.execute(params![account, resource_name, at])?;
    Ok(())
}

/// The contacts we deleted that the listing being read may not reflect yet: every record
/// since the previous listing. Records older than `since` are dropped once returned: the
/// listing that reads them shows those deletions (and a rename Google made just before one).
pub fn recent_deletions(
    conn: &Connection,
    account: &str,
    since: i64,
) -> Result<BTreeSet<String>, StoreError> {
    let names: BTreeSet<String> = {
        let mut stmt = conn.prepare_cached("SELECT resource_name FROM deletions WHERE account = ?1")?;
        let rows = stmt.query_map([account], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    if !names.is_empty() {
        conn.execute_cached(
            "DELETE FROM deletions WHERE account = ?1 AND at < ?2",
            params![account, since],
        )?;
    }
    Ok(names)
}
