//! Schema migrations, applied in order at open; `user_version` records the last one applied.

use rusqlite::Connection;

use super::StoreError;

mod one_state;

/// A migration: SQL, or code for what SQL cannot say simply.
enum Step {
    Sql(&'static str),
    Code(fn(&Connection) -> Result<(), StoreError>),
}

const MIGRATIONS: &[Step] = &[
    // 1: accounts, bindings, links, the outbox.
    Step::Sql(
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
    ),
    // 2: what we know of Google's side, write intents, status for users.
    Step::Sql(
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
    ),
    // 3: contacts deleted in Google or taken out of the group there stay out of the binding.
    Step::Sql(
        "CREATE TABLE exclusions (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );
    ALTER TABLE links ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE links ADD COLUMN google_time INTEGER NOT NULL DEFAULT 0;",
    ),
    // 4: the outbox moved to its own file (see store::outbox).
    Step::Sql("DROP TABLE outbox;"),
    // 5: Google contacts we deleted, so a listing that still shows them is not taken as news.
    Step::Sql(
        "CREATE TABLE deletions (
        account TEXT NOT NULL,
        resource_name TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, resource_name)
    );",
    ),
    // 6: an exclusion ends when the user puts the contact back into the group in Google, which
    // a version of it newer than the one that showed it out proves (Google's own clock).
    // Exclusions older than this column take the time they were made as that version's time:
    // with 0, the first listing after the upgrade would end every one of them.
    Step::Sql(
        "ALTER TABLE exclusions ADD COLUMN google_time INTEGER NOT NULL DEFAULT 0;
    UPDATE exclusions SET google_time = at;",
    ),
    // 7: imports from Google in flight: the key of the CRM's idempotent create and what to link
    // once the CRM answers, so a crash between the CRM's create and the link leaves no duplicate.
    Step::Sql(
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
    ),
    // 8: an exclusion remembers the primary e-mail and phone of the contact's last synced state
    // (one key a line): a contact the user creates again in Google is known by them even when
    // its CRM contact has left the filter meanwhile (simulation seeds 458 and 594: it was
    // imported as a second CRM contact). Older exclusions have none. Departures do the same for
    // contacts that left the binding on the CRM side (deleted, moved out, hidden), for as long
    // as Google may take to show a contact created before they left (simulation seed 1336).
    Step::Sql(
        "ALTER TABLE exclusions ADD COLUMN match_keys TEXT NOT NULL DEFAULT '';
    CREATE TABLE departures (
        binding_id INTEGER NOT NULL,
        contact_id INTEGER NOT NULL,
        match_keys TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (binding_id, contact_id)
    );",
    ),
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
    Step::Sql(
        "ALTER TABLE intents ADD COLUMN base TEXT NOT NULL DEFAULT '';
    ALTER TABLE exclusions ADD COLUMN base TEXT NOT NULL DEFAULT '';
    CREATE TABLE sent (
        account TEXT NOT NULL,
        contact_id INTEGER NOT NULL,
        sent TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (account, contact_id)
    );",
    ),
    // 10: one state per contact and account (see `domain::ContactState` and `store::links`): the
    // link or create in flight, the write in flight, and where the contact stands in each of
    // the account's bindings (member, excluded, departed), which lived in six tables.
    Step::Code(one_state::migrate),
    // 11: every run ends by trimming its binding's runs and the notices read each binding's
    // last ones; without an index each of those read every binding's runs (a thousand idle
    // bindings spent seconds of CPU per round on it).
    Step::Sql("CREATE INDEX runs_binding ON runs (binding_id, id);"),
    // 12: the history of what the sync changed on either side (see `store::history`).
    Step::Sql(
        "CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            binding_id INTEGER NOT NULL,
            run_id INTEGER NOT NULL,
            at INTEGER NOT NULL,
            contact_id INTEGER,
            google_id TEXT,
            name TEXT NOT NULL,
            side TEXT NOT NULL,
            action TEXT NOT NULL,
            field TEXT,
            old TEXT NOT NULL,
            new TEXT NOT NULL,
            why TEXT NOT NULL,
            undone INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX history_binding ON history (binding_id, id);
        CREATE INDEX history_contact ON history (binding_id, contact_id);",
    ),
    // 13: a run finds its account's bindings and the outbox's lowest cursor by index, not by
    // reading every binding (quadratic in bindings: a seventh of an idle round at 1,000).
    Step::Sql(
        "CREATE INDEX bindings_account ON bindings (account, enabled);
         CREATE INDEX bindings_cursor ON bindings (enabled, outbox_cursor);",
    ),
    // 14: Google's own record of each contact as last listed or written: a CRM edit to a linked
    // contact is written on it instead of reading the contact first (a burst of 10,000 edits
    // cost 41 reads beside its 51 writes). Older rows have none and are read, as before.
    Step::Sql("ALTER TABLE remote ADD COLUMN record TEXT;"),
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
    for (index, step) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(current as usize)
        .take((target - current).max(0) as usize)
    {
        let version = index as i64 + 1;
        match step {
            Step::Sql(sql) => {
                conn.execute_batch(&format!("BEGIN; {sql}; PRAGMA user_version = {version}; COMMIT;"))?
            }
            Step::Code(migrate) => {
                conn.execute_batch("BEGIN")?;
                let done = migrate(conn).and_then(|()| {
                    Ok(conn.execute_batch(&format!("PRAGMA user_version = {version}; COMMIT;"))?)
                });
                if done.is_err() {
                    conn.execute_batch("ROLLBACK")?;
                }
                done?
            }
        }
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
        let states: i64 = conn
            .query_row("SELECT COUNT(*) FROM contact_states", [], |r| r.get(0))
            .unwrap();
        assert_eq!(states, 0);
    }

    /// One account, binding 1 on it (filter 10), at schema `version`.
    fn file_at(version: i64) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(crate::store::FILE_NAME)).unwrap();
        migrate_to(&conn, version).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (email, crm_user, created_at) VALUES ('a@x', 7, 1);
             INSERT INTO bindings (id, filter_id, crm_user, account, options, enabled)
             VALUES (1, 10, 7, 'a@x', '{}', 1);",
        )
        .unwrap();
        (dir, conn)
    }

    #[test]
    fn an_exclusion_made_before_version_6_survives_the_upgrade() {
        let (dir, conn) = file_at(5);
        conn.execute(
            "INSERT INTO exclusions (binding_id, contact_id, at) VALUES (1, 7, 1000)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = crate::store::Store::open(dir.path()).unwrap();
        let exclusions = crate::store::links::exclusions(&store.conn(), 1).unwrap();
        assert_eq!(
            exclusions.since.get(&7),
            Some(&1000),
            "a listing right after the upgrade would end it"
        );
    }

    /// Version 10 moved six tables into one state per contact: each old row keeps its meaning,
    /// and rows that broke the old invariants keep what can be kept.
    #[test]
    fn the_six_tables_of_version_9_become_one_state_per_contact_with_nothing_lost() {
        use crate::domain::{LinkState, Place};
        use crate::store::links;
        let (dir, conn) = file_at(9);
        conn.execute_batch(
            r#"INSERT INTO links (account, contact_id, resource_name, etag, base, written_at, google_time)
               VALUES ('a@x', 1, 'people/c1', 'e1', '{}', 5, 6),
                      ('a@x', 2, 'people/c2', 'e2', '{}', 0, 0);
               INSERT INTO intents (account, contact_id, at, base) VALUES
                   ('a@x', 3, 30, '{}'), ('a@x', 4, 40, ''), ('a@x', 1, 50, '{}');
               INSERT INTO sent (account, contact_id, sent, at) VALUES
                   ('a@x', 2, '{"fields":{},"keys":["email"]}', 70),
                   ('a@x', 9, '{"fields":{},"keys":["email"]}', 70);
               INSERT INTO members (binding_id, contact_id) VALUES (1, 1), (1, 2), (99, 2);
               INSERT INTO exclusions (binding_id, contact_id, at, google_time, match_keys, base)
                   VALUES (1, 5, 80, 81, 'eve@x' || char(10) || '+15550100', ''),
                          (1, 2, 82, 83, '', '{}');
               INSERT INTO departures (binding_id, contact_id, match_keys, at)
                   VALUES (1, 1, 'ann@x', 90), (1, 6, 'dan@x', 91);"#,
        )
        .unwrap();
        drop(conn);
        let store = crate::store::Store::open(dir.path()).unwrap();
        let conn = store.conn();
        let all = links::all(&conn, "a@x").unwrap();
        assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!((all[&1].written_at, all[&1].google_time), (5, 6));
        assert_eq!(
            links::intents(&conn, "a@x")
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            vec![(3, 30), (4, 40)],
            "the intent beside a link goes"
        );
        assert_eq!(
            links::sent(&conn, "a@x")
                .unwrap()
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![2],
            "a write in flight with no link goes"
        );
        assert_eq!(
            links::members(&conn, 1).unwrap().into_iter().collect::<Vec<_>>(),
            vec![1, 2],
            "a member also excluded stays a member; a gone binding's rows go"
        );
        let exclusions = links::exclusions(&conn, 1).unwrap();
        assert_eq!(exclusions.since.into_iter().collect::<Vec<_>>(), vec![(5, 81)]);
        assert_eq!(exclusions.keys.get("+15550100"), Some(&5));
        assert!(exclusions.bases.is_empty());
        let departed = links::departed_keys(&conn, 1).unwrap();
        assert_eq!(departed.get("ann@x"), Some(&1));
        assert_eq!(departed.get("dan@x"), Some(&6));
        let text: String = conn
            .query_row(
                "SELECT state FROM contact_states WHERE account = 'a@x' AND contact_id = 2",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let state: crate::domain::ContactState = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            state.link,
            LinkState::Linked {
                in_flight: Some(_),
                ..
            }
        ));
        assert_eq!(state.place(1), Some(&Place::Member));
        for gone in ["links", "intents", "sent", "members", "exclusions", "departures"] {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                    [gone],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0, "{gone} is gone");
        }
    }

    /// A file the plugin wrote at schema 5 (see `plugin/tests/fixtures/README.md`) opens with
    /// today's code and keeps what it held: the binding and its options, every link with its
    /// base, the exclusion (with Google's time of it) and its health, the deletion it caused.
    #[test]
    fn a_mapping_file_written_at_version_5_keeps_its_links_and_exclusions_after_the_upgrade() {
        use crate::domain::Reason;
        use crate::store::{accounts, bindings, index, links, status};
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
        assert_eq!(index::count(&conn, account).unwrap(), 20);

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
        let deleted = index::recent_deletions(&conn, account, 0).unwrap();
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
