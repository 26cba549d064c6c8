//! Connected Google accounts (no secrets: tokens are in the host's secret store).

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub crm_user: u64,
    pub status: AccountStatus,
    pub sync_token: Option<String>,
    /// The next listing must be a full one (first sync, expired token, after a crash).
    pub full_listing_due: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Ok,
    /// Google refused the refresh token: syncs pause until the user reconnects.
    ReconnectNeeded,
}

impl AccountStatus {
    fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Ok => "ok",
            AccountStatus::ReconnectNeeded => "reconnect_needed",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "reconnect_needed" {
            AccountStatus::ReconnectNeeded
        } else {
            AccountStatus::Ok
        }
    }
}

const COLUMNS: &str = "email, crm_user, status, sync_token, full_listing_due";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Account> {
    Ok(Account {
        email: r.get(0)?,
        crm_user: r.get::<_, i64>(1)? as u64,
        status: AccountStatus::parse(&r.get::<_, String>(2)?),
        sync_token: r.get(3)?,
        full_listing_due: r.get::<_, i64>(4)? != 0,
    })
}

/// Records a (re)connected account; reconnecting clears "reconnect needed".
pub fn upsert(conn: &Connection, email: &str, crm_user: u64, now: i64) -> Result<(), StoreError> {
    conn.execute_cached(
        "INSERT INTO accounts (email, crm_user, status, created_at) VALUES (?1, ?2, 'ok', ?3)
         ON CONFLICT (email) DO UPDATE SET status = 'ok', crm_user = ?2",
        params![email, crm_user as i64, now],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, email: &str) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE email = ?1");
    Ok(conn.query_row_cached(&sql, [email], row).optional()?)
}

pub fn of_user(conn: &Connection, crm_user: u64) -> Result<Vec<Account>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE crm_user = ?1 ORDER BY email");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([crm_user as i64], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_status(conn: &Connection, email: &str, status: AccountStatus) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE accounts SET status = ?2 WHERE email = ?1",
        params![email, status.as_str()],
    )?;
    Ok(())
}

/// Stores the listing's new sync token (or forgets it, forcing a full listing).
pub fn set_sync_token(conn: &Connection, email: &str, token: Option<&str>) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE accounts SET sync_token = ?2, full_listing_due = ?3 WHERE email = ?1",
        params![email, token, token.is_none() as i64],
    )?;
    Ok(())
}

pub fn require_full_listing(conn: &Connection, email: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE accounts SET full_listing_due = 1 WHERE email = ?1",
        [email],
    )?;
    Ok(())
}

pub fn remove(conn: &Connection, email: &str) -> Result<(), StoreError> {
    conn.execute_cached("DELETE FROM accounts WHERE email = ?1", [email])?;
    conn.execute_cached("DELETE FROM remote WHERE account = ?1", [email])?;
    Ok(())
}
