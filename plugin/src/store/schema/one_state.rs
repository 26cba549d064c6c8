//! Migration 10: the six tables that held a contact's sync state (`links`, `intents`, `sent`,
//! `members`, `exclusions`, `departures`) become one row per (account, contact) in
//! `contact_states`, holding a [`ContactState`].
//!
//! Rows that broke the old tables' invariants keep what can be kept: a create intent beside a
//! link is dropped (the link is the later fact), a write in flight with no link too (nothing
//! to write to), a member also excluded stays a member (joining ended exclusions), and rows of
//! bindings that no longer exist go.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::domain::{ContactState, Departure, Exclusion, InFlight, Link, LinkState, Place};
use crate::store::{from_json, to_json, StoreError};

type States = BTreeMap<(String, u64), ContactState>;

pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let mut states = States::new();
    read_links(conn, &mut states)?;
    read_intents(conn, &mut states)?;
    read_sent(conn, &mut states)?;
    read_standings(conn, &mut states)?;
    conn.execute_batch(
        "CREATE TABLE contact_states (
            account TEXT NOT NULL,
            contact_id INTEGER NOT NULL,
            resource_name TEXT,
            state TEXT NOT NULL,
            PRIMARY KEY (account, contact_id),
            UNIQUE (account, resource_name)
        );",
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO contact_states (account, contact_id, resource_name, state) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for ((account, contact_id), state) in states.iter().filter(|(_, s)| !s.is_empty()) {
        let resource_name = state.linked().map(|l| l.resource_name.as_str());
        insert.execute(rusqlite::params![
            account,
            *contact_id as i64,
            resource_name,
            to_json(state)
        ])?;
    }
    conn.execute_batch(
        "DROP TABLE links; DROP TABLE intents; DROP TABLE sent;
         DROP TABLE members; DROP TABLE exclusions; DROP TABLE departures;",
    )?;
    Ok(())
}

fn read_links(conn: &Connection, states: &mut States) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(
        "SELECT account, contact_id, resource_name, etag, base, written_at, google_time FROM links",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let contact_id = r.get::<_, i64>(1)? as u64;
        let link = Link {
            contact_id,
            resource_name: r.get(2)?,
            etag: r.get(3)?,
            base: from_json(&r.get::<_, String>(4)?)?,
            written_at: r.get(5)?,
            google_time: r.get(6)?,
        };
        states.entry((r.get(0)?, contact_id)).or_default().link = LinkState::Linked {
            link,
            in_flight: None,
        };
    }
    Ok(())
}

fn read_intents(conn: &Connection, states: &mut States) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("SELECT account, contact_id, at, base FROM intents")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let base: String = r.get(3)?;
        let sent = if base.is_empty() {
            Default::default()
        } else {
            from_json(&base)?
        };
        let state = states.entry((r.get(0)?, r.get::<_, i64>(1)? as u64)).or_default();
        if state.linked().is_none() {
            state.link = LinkState::Creating { at: r.get(2)?, sent };
        }
    }
    Ok(())
}

fn read_sent(conn: &Connection, states: &mut States) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("SELECT account, contact_id, sent, at FROM sent")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let key = (r.get(0)?, r.get::<_, i64>(1)? as u64);
        if let Some(LinkState::Linked { in_flight, .. }) = states.get_mut(&key).map(|s| &mut s.link) {
            *in_flight = Some(InFlight {
                sent: from_json(&r.get::<_, String>(2)?)?,
                at: r.get(3)?,
            });
        }
    }
    Ok(())
}

/// Members, exclusions and departures, each put in the row of its binding's account.
fn read_standings(conn: &Connection, states: &mut States) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(
        "SELECT b.account, e.binding_id, e.contact_id, e.at, e.google_time, e.match_keys, e.base
         FROM exclusions e JOIN bindings b ON b.id = e.binding_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let base: String = r.get(6)?;
        let exclusion = Exclusion {
            at: r.get(3)?,
            google_time: r.get(4)?,
            keys: lines(&r.get::<_, String>(5)?),
            base: if base.is_empty() {
                None
            } else {
                Some(from_json(&base)?)
            },
        };
        let state = states.entry((r.get(0)?, r.get::<_, i64>(2)? as u64)).or_default();
        state.set_place(r.get(1)?, Some(Place::Excluded(exclusion)));
    }
    let mut stmt = conn.prepare(
        "SELECT b.account, m.binding_id, m.contact_id FROM members m JOIN bindings b ON b.id = m.binding_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let state = states.entry((r.get(0)?, r.get::<_, i64>(2)? as u64)).or_default();
        state.set_place(r.get(1)?, Some(Place::Member));
    }
    let mut stmt = conn.prepare(
        "SELECT b.account, d.binding_id, d.contact_id, d.match_keys, d.at
         FROM departures d JOIN bindings b ON b.id = d.binding_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let departure = Departure {
            keys: lines(&r.get::<_, String>(3)?),
            at: r.get(4)?,
        };
        let state = states.entry((r.get(0)?, r.get::<_, i64>(2)? as u64)).or_default();
        state.set_departed(r.get(1)?, Some(departure));
    }
    Ok(())
}

fn lines(joined: &str) -> Vec<String> {
    joined.lines().map(str::to_string).collect()
}
