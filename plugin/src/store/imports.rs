//! Import intents: a Google contact about to be created in the CRM, with the key the CRM's
//! idempotent create is called with. The intent is committed before the CRM is asked and removed
//! in the transaction that writes the link, so a run that died in between finishes the same
//! create, with the same key, after a restart: the CRM answers the contact it already made.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::Cached as _;
use super::{from_json, to_json, StoreError};
use crate::mapping::Fields;

/// One import in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportIntent {
    pub resource_name: String,
    /// The key of the CRM's idempotent create, chosen when the import began.
    pub create_key: String,
    /// Google's version and fields when the import began: what the link records once the CRM
    /// answers, so Google edits made since still read as Google edits.
    pub etag: String,
    pub base: Fields,
}

/// Records `intent` unless an earlier one for the same Google contact is still open; returns
/// the one in force (an earlier attempt's key must be used again: its create may have happened).
pub fn begin(
    conn: &Connection,
    account: &str,
    binding_id: i64,
    intent: &ImportIntent,
    at: i64,
) -> Result<ImportIntent, StoreError> {
    conn.execute_cached(
        "INSERT OR IGNORE INTO import_intents
             (account, resource_name, binding_id, create_key, etag, base, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            account,
            intent.resource_name,
            binding_id,
            intent.create_key,
            intent.etag,
            to_json(&intent.base),
            at
        ],
    )?;
    let stored = conn
        .query_row(
            "SELECT create_key, etag, base FROM import_intents WHERE account = ?1 AND resource_name = ?2",
            params![account, intent.resource_name],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            },
        )
        .optional()?;
    match stored {
        Some((create_key, etag, base)) => Ok(ImportIntent {
            resource_name: intent.resource_name.clone(),
            create_key,
            etag,
            base: from_json(&base)?,
        }),
        None => Ok(intent.clone()),
    }
}

/// The imports of a binding that a run began and did not finish, oldest first.
pub fn open(conn: &Connection, binding_id: i64) -> Result<Vec<ImportIntent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource_name, create_key, etag, base FROM import_intents
         WHERE binding_id = ?1 ORDER BY at, resource_name",
    )?;
    let rows = stmt.query_map([binding_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut intents = Vec::new();
    for row in rows {
        let (resource_name, create_key, etag, base) = row?;
        intents.push(ImportIntent {
            resource_name,
            create_key,
            etag,
            base: from_json(&base)?,
        });
    }
    Ok(intents)
}

/// The Google contacts of the account with an import in flight.
pub fn names(conn: &Connection, account: &str) -> Result<BTreeSet<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT resource_name FROM import_intents WHERE account = ?1")?;
    let rows = stmt.query_map([account], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Google gave the contact of an import a new resource name: the import goes on under it, with
/// its key (a new intent under the new name would create a second CRM contact).
pub fn follow_rename(conn: &Connection, account: &str, old: &str, new: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE OR IGNORE import_intents SET resource_name = ?3 WHERE account = ?1 AND resource_name = ?2",
        params![account, old, new],
    )?;
    // An import already under the new name is the one in force.
    finish(conn, account, old)
}

/// The import's link is written, or the import is over without one: the intent is done.
pub fn finish(conn: &Connection, account: &str, resource_name: &str) -> Result<(), StoreError> {
    conn.execute_cached(
        "DELETE FROM import_intents WHERE account = ?1 AND resource_name = ?2",
        params![account, resource_name],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn intent(key: &str, etag: &str) -> ImportIntent {
        ImportIntent {
            resource_name: "people/c1".into(),
            create_key: key.into(),
            etag: etag.into(),
            base: Fields::default(),
        }
    }

    #[test]
    fn an_unfinished_import_keeps_its_first_key_when_it_begins_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let first = begin(&conn, "a", 1, &intent("k1", "e1"), 10).unwrap();
        assert_eq!(first.create_key, "k1");
        let again = begin(&conn, "a", 1, &intent("k2", "e2"), 20).unwrap();
        assert_eq!(again, first);
        assert_eq!(open(&conn, 1).unwrap(), vec![first]);
        finish(&conn, "a", "people/c1").unwrap();
        assert!(open(&conn, 1).unwrap().is_empty());
        assert_eq!(
            begin(&conn, "a", 1, &intent("k3", "e3"), 30).unwrap().create_key,
            "k3"
        );
    }

    #[test]
    fn an_import_follows_its_google_contact_to_a_new_name_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = store.conn();
        begin(&conn, "a", 1, &intent("k1", "e1"), 10).unwrap();
        crate::store::links::follow_rename(&conn, "a", "people/c1", "people/c2").unwrap();
        let open = open(&conn, 1).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].resource_name.as_str(), open[0].create_key.as_str()),
            ("people/c2", "k1")
        );
        assert_eq!(
            names(&conn, "a").unwrap(),
            BTreeSet::from(["people/c2".to_string()])
        );
    }
}
