//! Schema migrations, applied in order at open; `user_version` records the last one applied.

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, bindings, links, the outbox.
    "CREATE TABLE accounts (
        email TEXT PRIMARY KEY,
        crm_user INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'ok',
        sync_token TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE bindings (
        id INTEGER PRIMARY KEY,
        filter_id INTEGER NOT NULL UNIQUE,
        crm_user INTEGER NOT NULL,
        account TEXT NOT NULL,
        group_resource TEXT,
        options TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        needs_full INTEGER NOT NULL DEFAULT 1,
        outbox_cursor INTEGER NOT NULL DEFAULT 0,
        next_run_at INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE links (
        account TEXT NOT NULL,
        contact_id INTEGER NOT NULL,
        resource_name TEXT NOT NULL,
        etag TEXT NOT NULL,
        base TEXT NOT NULL,
        PRIMARY KEY (account, contact_id),
        UNIQUE (account, resource_name)
    );
    CREATE TABLE members (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL
    );",
    // 2: what we know of Google's side, write intents, status for users.
    "CREATE TABLE remote (
        account TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        etag TEXT NOT NULL,
        crm_marker INTEGER,
        email_key TEXT,
        phone_key TEXT,
        groups TEXT NOT NULL,
        PRIMARY KEY (account, resource_name)
    );
    CREATE INDEX remote_marker ON remote (account, crm_marker);
    CREATE INDEX remote_email ON remote (account, email_key);
    CREATE INDEX remote_phone ON remote (account, phone_key);
    CREATE TABLE intents (
        account TEXT NOT NULL,
        contact_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, contact_id)
    );
    CREATE TABLE health (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        binding_id INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        counts TEXT,
        error TEXT
    );
    ALTER TABLE bindings ADD COLUMN held TEXT;
    ALTER TABLE bindings ADD COLUMN progress_done INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE bindings ADD COLUMN progress_total INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE bindings ADD COLUMN running INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN full_listing_due INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE bindings ADD COLUMN group_name TEXT;",
    // 3: contacts deleted in Google or taken out of the group there stay out of the binding.
    "CREATE TABLE exclusions (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );
    ALTER TABLE links ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE links ADD COLUMN google_time INTEGER NOT NULL DEFAULT 0;",
    // 4: the outbox moved to its own file (see store::outbox).
    "DROP TABLE outbox;",
    // 5: Google contacts we deleted, so a listing that still shows them is not taken as news.
    "CREATE TABLE deletions (
        account TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, resource_name)
    );",
    // 6: an exclusion ends when the user puts the contact back into the group in Google, which
    // a version of it newer than the one that showed it out proves (Google's own clock).
    // Exclusions older than this column take the time they were made as that version's time:
    // with 0, the first listing after the upgrade would end every one of them.
    "ALTER TABLE exclusions ADD COLUMN google_time INTEGER NOT NULL DEFAULT 0;
    UPDATE exclusions SET google_time = at;",
    // 7: imports from Google in flight: the key of the CRM's idempotent create and what to link
    // once the CRM answers, so a crash between the CRM's create and the link leaves no duplicate.
    "CREATE TABLE import_intents (
        account TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        binding_id INTEGER NOT NULL,
        create_key TEXT NOT NULL,
        etag TEXT NOT NULL,
        base TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, resource_name)
    );
    CREATE INDEX import_intents_binding ON import_intents (binding_id);",
    // 8: an exclusion remembers the primary e-mail and phone of the contact's last synced state
    // (one key a line): a contact the user creates again in Google is known by them even when
    // its CRM contact has left the filter meanwhile (simulation seeds 458 and 594: it was
    // imported as a second CRM contact). Older exclusions have none. Departures do the same for
    // contacts that left the binding on the CRM side (deleted, moved out, hidden), for as long
    // as Google may take to show a contact created before they left (simulation seed 1336).
    "ALTER TABLE exclusions ADD COLUMN match_keys TEXT NOT NULL DEFAULT '';
    CREATE TABLE departures (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        match_keys TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );",
    // 9: a create intent keeps the fields it sent: when the create's answer is lost and the
    // contact is found later, what we sent is what both sides agreed on (simulation seed 15384:
    // with an empty base, an e-mail removed in Google meanwhile came back from the CRM).
    // Older intents have none and are linked with an empty base, as before. Likewise an
    // exclusion keeps the contact's last synced base: when the user puts the same Google
    // contact back into the group, the edits made on each side meanwhile are edits against it,
    // the same whether or not a run saw the contact out (simulation seeds 894, 6629: an e-mail
    // removed in Google came back from the CRM when a run had seen the contact out).
    // Writes to linked Google contacts are recorded before they are sent, for the same reason
    // as create intents (see `domain::Sent`); the link's next record ends them.
    "ALTER TABLE intents ADD COLUMN base TEXT NOT NULL DEFAULT '';
    ALTER TABLE exclusions ADD COLUMN base TEXT NOT NULL DEFAULT '';
    CREATE TABLE sent (
        account TEXT NOT NULL,
        contact_id INTEGER NOT NULL,
        sent TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, contact_id)
    );",
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Applies migrations up to `target`, each in its own transaction.
pub(crate) fn migrate_to(conn: &Connection, target: i64) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(current as usize)
        .take((target - current).max(0) as usize)
    {
        let version = index as i64 + 1;
        conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {version}; COMMIT;"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_the_first_schema_is_migrated_with_its_data_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            migrate_to(&conn, 1).unwrap();
            conn.execute(
                "INSERT INTO accounts (email, crm_user, created_at) VALUES (?1, ?2, ?3)",
                rusqlite::params!["ann@example.com", 7, 1],
            )
            .unwrap();
        }
        let store = crate::store::Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let due: i64 = conn
            .query_row(
                "SELECT full_listing_due FROM accounts WHERE email = ?1",
                ["ann@example.com"],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(due, 1);
        conn.execute(
            "INSERT INTO intents (account, contact_id, at) VALUES ('a', 1, 1)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn an_exclusion_made_before_version_6_survives_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::FILE_NAME);
        {
            let conn = Connection::open(&path).unwrap();
            migrate_to(&conn, 5).unwrap();
            conn.execute(
                "INSERT INTO exclusions (binding_id, contact_id, at) VALUES (1, 7, 1000)",
                [],
            )
            .unwrap();
        }
        let store = crate::store::Store::open(dir.path()).unwrap();
        let google_time: i64 = store
            .conn()
            .query_row(
                "SELECT google_time FROM exclusions WHERE contact_id = 7",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            google_time, 1000,
            "a listing right after the upgrade would end it"
        );
    }

    /// A file the plugin wrote at schema 5 (see `plugin/tests/fixtures/README.md`) opens with
    /// today's code and keeps what it held: the binding and its options, every link with its
    /// base, the exclusion (with Google's time of it) and its health, the deletion it caused.
    #[test]
    fn a_mapping_file_written_at_version_5_keeps_its_links_and_exclusions_after_the_upgrade() {
        use crate::domain::Reason;
        use crate::store::{accounts, bindings, links, status};
        let fixture =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mapping-v5.sqlite3");
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&fixture, dir.path().join(crate::store::FILE_NAME)).unwrap();
        let before: i64 = Connection::open(dir.path().join(crate::store::FILE_NAME))
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(before, 5, "the fixture is a version 5 file");

        let store = crate::store::Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");

        let account = "alice@example.com";
        assert!(accounts::get(&conn, account).unwrap().is_some());
        let binding = bindings::of_account(&conn, account)
            .unwrap()
            .pop()
            .expect("the binding");
        assert!(binding.enabled);
        let all = links::all(&conn, account).unwrap();
        assert_eq!(all.len(), 20);
        assert!(all
            .values()
            .all(|l| !l.base.0.is_empty() && l.written_at > 0 && l.google_time > 0));
        assert_eq!(links::members(&conn, binding.id).unwrap().len(), 20);
        assert_eq!(links::remote_count(&conn, account).unwrap(), 20);

        let exclusions = links::exclusions(&conn, binding.id).unwrap();
        assert_eq!(exclusions.since.get(&11), Some(&1796214115132));
        assert!(
            exclusions.bases.is_empty(),
            "exclusions made before version 9 have no base"
        );
        let health = status::health(&conn, binding.id, 100).unwrap();
        let excluded = health
            .iter()
            .find(|h| h.contact_id == 11)
            .expect("contact 11's health");
        assert_eq!(excluded.state, status::HealthState::Excluded);
        assert_eq!(Reason::parse(&excluded.reason), Reason::LeftInGoogle);
        let deleted = links::recent_deletions(&conn, account, 0).unwrap();
        assert_eq!(deleted.len(), 1, "{deleted:?}");
        assert!(links::intents(&conn, account).unwrap().is_empty());
        assert!(links::sent(&conn, account).unwrap().is_empty());
    }

    #[test]
    fn a_file_from_a_newer_plugin_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::store::FILE_NAME);
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = crate::store::Store::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("newer version of the plugin"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_mapping_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
