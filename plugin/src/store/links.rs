//! Links (CRM contact ⇄ Google contact, with the synced base), group members per binding,
//! what we know of the account's Google contacts, and create intents.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::{from_json, to_json, StoreError};
use crate::domain::{Link, Sent};
use crate::mapping::Fields;

// ----- links -----

pub fn all(conn: &Connection, account: &str) -> Result<BTreeMap<u64, Link>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT contact_id, resource_name, etag, base, written_at, google_time FROM links WHERE account = ?1 ORDER BY contact_id",
    )?;
    let rows = stmt.query_map([account], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    let mut links = BTreeMap::new();
    for row in rows {
        let (contact_id, resource_name, etag, base, written_at, google_time) = row?;
        let base = from_json(&base)?;
        links.insert(
            contact_id,
            Link {
                contact_id,
                resource_name,
                etag,
                base,
                written_at,
                google_time,
            },
        );
    }
    Ok(links)
}

/// The resource name a contact is linked to, if it is linked.
pub fn resource_name_of(
    conn: &Connection,
    account: &str,
    contact_id: u64,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT resource_name FROM links WHERE account = ?1 AND contact_id = ?2",
            params![account, contact_id as i64],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn put(conn: &Connection, account: &str, link: &Link) -> Result<(), StoreError> {
    // A resource can be linked to one contact only: a stale link to it goes first.
    conn.execute(
        "DELETE FROM links WHERE account = ?1 AND resource_name = ?2 AND contact_id <> ?3",
        params![account, link.resource_name, link.contact_id as i64],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO links (account, contact_id, resource_name, etag, base, written_at, google_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (account, contact_id) DO UPDATE SET resource_name = ?3, etag = ?4, base = ?5,
             written_at = ?6, google_time = ?7",
    )?;
    stmt.execute(params![
        account,
        link.contact_id as i64,
        link.resource_name,
        link.etag,
        to_json(&link.base),
        link.written_at,
        link.google_time
    ])?;
    for sql in [
        "DELETE FROM intents WHERE account = ?1 AND contact_id = ?2",
        "DELETE FROM sent WHERE account = ?1 AND contact_id = ?2",
    ] {
        conn.prepare_cached(sql)?
            .execute(params![account, link.contact_id as i64])?;
    }
    Ok(())
}

// ----- writes in flight -----

/// Records what a write to a linked Google contact sends, before it is sent; the link's next
/// [`put`] ends it.
pub fn record_sent(
    conn: &Connection,
    account: &str,
    contact_id: u64,
    sent: &Sent,
    at: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO sent (account, contact_id, sent, at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![account, contact_id as i64, to_json(sent), at])?;
    Ok(())
}

/// The account's writes whose answer no link has recorded: contact id → what was sent.
pub fn sent(conn: &Connection, account: &str) -> Result<BTreeMap<u64, Sent>, StoreError> {
    let mut stmt = conn.prepare("SELECT contact_id, sent FROM sent WHERE account = ?1")?;
    let rows = stmt.query_map([account], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })?;
    let mut all = BTreeMap::new();
    for row in rows {
        let (id, text) = row?;
        all.insert(id, from_json(&text)?);
    }
    Ok(all)
}

/// Follows a contact Google gave a new resource name: its link (if any) now names `new`, and
/// what we knew under the old name goes. A link already on `new` is left alone, and the one on
/// `old` then goes: the old name no longer resolves, so every write through it would fail.
/// An import in flight follows too.
pub fn follow_rename(conn: &Connection, account: &str, old: &str, new: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE OR IGNORE links SET resource_name = ?3 WHERE account = ?1 AND resource_name = ?2",
        params![account, old, new],
    )?;
    conn.execute(
        "DELETE FROM links WHERE account = ?1 AND resource_name = ?2",
        params![account, old],
    )?;
    super::imports::follow_rename(conn, account, old, new)?;
    remove_remote(conn, account, old)
}

/// Records that we just wrote the contact's Google side (a membership change, say), so listings
/// older than this write are not taken as Google's word.
pub fn touch(conn: &Connection, account: &str, contact_id: u64, at: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE links SET written_at = ?3 WHERE account = ?1 AND contact_id = ?2",
        params![account, contact_id as i64, at],
    )?;
    Ok(())
}

pub fn remove(conn: &Connection, account: &str, contact_id: u64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM links WHERE account = ?1 AND contact_id = ?2",
        params![account, contact_id as i64],
    )?;
    conn.execute(
        "DELETE FROM sent WHERE account = ?1 AND contact_id = ?2",
        params![account, contact_id as i64],
    )?;
    conn.execute(
        "DELETE FROM members WHERE contact_id = ?2 AND binding_id IN (SELECT id FROM bindings WHERE account = ?1)",
        params![account, contact_id as i64],
    )?;
    Ok(())
}

pub fn count(conn: &Connection, account: &str) -> Result<u64, StoreError> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM links WHERE account = ?1", [account], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

// ----- members of a binding's group -----

pub fn members(conn: &Connection, binding_id: i64) -> Result<BTreeSet<u64>, StoreError> {
    let mut stmt = conn.prepare("SELECT contact_id FROM members WHERE binding_id = ?1")?;
    let rows = stmt.query_map([binding_id], |r| r.get::<_, i64>(0))?;
    Ok(rows.map(|r| r.map(|v| v as u64)).collect::<Result<_, _>>()?)
}

/// A member of a binding is synced with its group, so it is no longer excluded from it: the two
/// states are one contact's alternatives, kept apart here rather than by every writer (a contact
/// joined again by a create or an import kept its exclusion, and its health said "excluded"
/// while it was in sync: simulation seed 660).
pub fn add_member(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO members (binding_id, contact_id) VALUES (?1, ?2)")?;
    stmt.execute(params![binding_id, contact_id as i64])?;
    unexclude(conn, binding_id, contact_id)
}

pub fn remove_member(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM members WHERE binding_id = ?1 AND contact_id = ?2",
        params![binding_id, contact_id as i64],
    )?;
    Ok(())
}

/// Forgets every member of a binding (its group changed).
pub fn clear_members(conn: &Connection, binding_id: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM members WHERE binding_id = ?1", [binding_id])?;
    Ok(())
}

/// Whether another enabled binding of the account still has the contact in its group.
pub fn member_elsewhere(
    conn: &Connection,
    binding_id: i64,
    account: &str,
    contact_id: u64,
) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM members m JOIN bindings b ON b.id = m.binding_id
         WHERE m.contact_id = ?3 AND m.binding_id <> ?1 AND b.account = ?2 AND b.enabled = 1",
        params![binding_id, account, contact_id as i64],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

// ----- what we know of Google's side -----

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

pub fn put_remote(conn: &Connection, account: &str, r: &Indexed) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO remote (account, resource_name, etag, crm_marker, email_key, phone_key, groups)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (account, resource_name) DO UPDATE SET etag = ?3, crm_marker = ?4, email_key = ?5,
             phone_key = ?6, groups = ?7",
    )?;
    stmt.execute(params![
        account,
        r.resource_name,
        r.etag,
        r.crm_marker.map(|m| m as i64),
        r.email_key,
        r.phone_key,
        to_json(&r.groups)
    ])?;
    Ok(())
}

pub fn remove_remote(conn: &Connection, account: &str, resource_name: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM remote WHERE account = ?1 AND resource_name = ?2",
        params![account, resource_name],
    )?;
    Ok(())
}

pub fn clear_remote(conn: &Connection, account: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM remote WHERE account = ?1", [account])?;
    Ok(())
}

pub fn remote_count(conn: &Connection, account: &str) -> Result<u64, StoreError> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM remote WHERE account = ?1", [account], |r| {
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
pub fn remote_by(
    conn: &Connection,
    account: &str,
    column: MatchKey,
    key: &str,
) -> Result<Vec<Indexed>, StoreError> {
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

pub fn remote(conn: &Connection, account: &str, resource_name: &str) -> Result<Option<Indexed>, StoreError> {
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

// ----- our deletions -----

/// Records that we deleted `resource_name` in Google at `at`: what we knew of it goes, and the
/// deletion is remembered for listings that still show it.
pub fn record_deletion(
    conn: &Connection,
    account: &str,
    resource_name: &str,
    at: i64,
) -> Result<(), StoreError> {
    remove_remote(conn, account, resource_name)?;
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
        let mut stmt = conn.prepare("SELECT resource_name FROM deletions WHERE account = ?1")?;
        let rows = stmt.query_map([account], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    conn.execute(
        "DELETE FROM deletions WHERE account = ?1 AND at < ?2",
        params![account, since],
    )?;
    Ok(names)
}

// ----- create intents -----

/// Records that a create in Google is about to be sent for `contact_id` with the fields `sent`:
/// if the process dies (or the answer is lost) before the link is written, the next run looks
/// for the created contact instead of creating a second one, and links it with `sent` as base.
/// A create sent again (the earlier one never showed) restarts the wait: this one may land too,
/// and Google may take as long to show it (simulation seed 5943: an intent kept its first time,
/// so the run after a second lost answer created the contact a third time).
pub fn add_intent(
    conn: &Connection,
    account: &str,
    contact_id: u64,
    sent: &Fields,
    at: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO intents (account, contact_id, at, base) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![account, contact_id as i64, at, to_json(sent)])?;
    Ok(())
}

/// The fields an open create intent sent (empty for intents recorded before schema 9).
pub fn intent_base(conn: &Connection, account: &str, contact_id: u64) -> Result<Fields, StoreError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT base FROM intents WHERE account = ?1 AND contact_id = ?2",
            params![account, contact_id as i64],
            |r| r.get(0),
        )
        .optional()?;
    match text.filter(|t| !t.is_empty()) {
        Some(text) => from_json(&text),
        None => Ok(Fields::default()),
    }
}

/// Open intents: contact id → when the create was sent.
pub fn intents(conn: &Connection, account: &str) -> Result<BTreeMap<u64, i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT contact_id, at FROM intents WHERE account = ?1")?;
    let rows = stmt.query_map([account], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn drop_intent(conn: &Connection, account: &str, contact_id: u64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM intents WHERE account = ?1 AND contact_id = ?2",
        params![account, contact_id as i64],
    )?;
    Ok(())
}

// ----- exclusions -----

/// Keeps a contact out of a binding: Google deleted it or took it out of the group, and it must
/// not come back there by itself. `google_time` is Google's update time of the newest version
/// of it known when Google showed it deleted or out of the group; `keys` its match keys and
/// `base` its last synced fields (see [`Exclusions`]).
pub fn exclude(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    at: i64,
    google_time: i64,
    keys: &[String],
    base: &Fields,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO exclusions (binding_id, contact_id, at, google_time, match_keys, base)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        binding_id,
        contact_id as i64,
        at,
        google_time,
        keys.join("\n"),
        to_json(base)
    ])?;
    Ok(())
}

/// The binding's excluded contacts, as [`exclude`] recorded them.
#[derive(Debug, Default)]
pub struct Exclusions {
    /// Contact id → Google's time of the exclusion.
    pub since: BTreeMap<u64, i64>,
    /// Match key (primary e-mail, primary phone, as last synced) → contact id.
    pub keys: BTreeMap<String, u64>,
    /// Contact id → last synced fields, the base its own Google contact rejoins with
    /// (exclusions made before schema 9 have none).
    pub bases: BTreeMap<u64, Fields>,
}

/// The binding's exclusions, in one query.
pub fn exclusions(conn: &Connection, binding_id: i64) -> Result<Exclusions, StoreError> {
    let mut stmt = conn
        .prepare("SELECT contact_id, google_time, match_keys, base FROM exclusions WHERE binding_id = ?1")?;
    let rows = stmt.query_map([binding_id], |r| {
        Ok((
            r.get::<_, i64>(0)? as u64,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut all = Exclusions::default();
    for row in rows {
        let (id, since, keys, base) = row?;
        all.since.insert(id, since);
        all.keys.extend(keys.lines().map(|k| (k.to_string(), id)));
        if !base.is_empty() {
            all.bases.insert(id, from_json(&base)?);
        }
    }
    Ok(all)
}

// ----- departures -----

/// Records that a linked contact left the binding on the CRM side, with its match keys as last
/// synced (see [`departed_keys`]).
pub fn depart(
    conn: &Connection,
    binding_id: i64,
    contact_id: u64,
    keys: &[String],
    at: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO departures (binding_id, contact_id, match_keys, at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![binding_id, contact_id as i64, keys.join("\n"), at])?;
    Ok(())
}

/// The match keys of the contacts that left the binding on the CRM side and are not forgotten
/// yet (see [`forget_departures`]): key → contact id.
pub fn departed_keys(conn: &Connection, binding_id: i64) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare("SELECT contact_id, match_keys FROM departures WHERE binding_id = ?1")?;
    let rows = stmt.query_map([binding_id], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })?;
    let mut keys = BTreeMap::new();
    for row in rows {
        let (id, joined) = row?;
        keys.extend(joined.lines().map(|k| (k.to_string(), id)));
    }
    Ok(keys)
}

/// Forgets the departures older than `before`: a run whose listing, taken after Google shows
/// every contact created before them, has been applied. A contact created in Google after
/// that is new. (Forgetting them by the clock alone lost them when no run listed in between:
/// simulation seed 14628 imported a contact created again in Google just before its CRM
/// contact was deleted.)
pub fn forget_departures(conn: &Connection, binding_id: i64, before: i64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM departures WHERE binding_id = ?1 AND at < ?2",
        params![binding_id, before],
    )?;
    Ok(())
}

/// The user put the contact back into the binding's group in Google: it syncs again.
pub fn unexclude(conn: &Connection, binding_id: i64, contact_id: u64) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("DELETE FROM exclusions WHERE binding_id = ?1 AND contact_id = ?2")?;
    stmt.execute(params![binding_id, contact_id as i64])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn link(contact_id: u64, resource_name: &str) -> Link {
        Link {
            contact_id,
            resource_name: resource_name.into(),
            etag: "e".into(),
            base: Default::default(),
            written_at: 0,
            google_time: 0,
        }
    }

    #[test]
    fn a_rename_onto_a_name_already_linked_drops_the_link_on_the_dead_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .tx(|tx| {
                put(tx, "a", &link(1, "people/old"))?;
                put(tx, "a", &link(2, "people/new"))?;
                follow_rename(tx, "a", "people/old", "people/new")
            })
            .unwrap();
        let names: Vec<(u64, String)> = all(&store.conn(), "a")
            .unwrap()
            .into_values()
            .map(|l| (l.contact_id, l.resource_name))
            .collect();
        assert_eq!(names, vec![(2, "people/new".to_string())]);
    }
}
