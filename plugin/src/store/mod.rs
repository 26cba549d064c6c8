//! The mapping file: one SQLite database in the plugin's data directory (WAL, busy timeout,
//! `user_version` migrations, mode 0600). It never holds secrets: tokens live in the host's
//! secret store. Every query is parameterized.

pub mod accounts;
pub mod bindings;
pub mod history;
pub mod imports;
pub mod index;
pub mod links;
pub mod outbox;
mod schema;
pub mod status;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use schema::SCHEMA_VERSION;

pub const FILE_NAME: &str = "google-contacts.sqlite3";
/// The outbox's own file (see [`outbox`]).
pub const OUTBOX_FILE_NAME: &str = "google-contacts-outbox.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The plugin's mapping file {path} could not be opened: {reason}. Check that the CRM's plugin data directory is writable.")]
    Open { path: PathBuf, reason: String },
    #[error("The plugin's mapping file is from a newer version of the plugin (schema {found}, this plugin knows {known}). Install the newer plugin again.")]
    TooNew { found: i64, known: i64 },
    #[error("The plugin's mapping file could not be read or written: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("The plugin's mapping file holds a value it cannot read: {0}")]
    Corrupt(String),
}

/// The mapping file, and the outbox file beside it. Background jobs use the mapping file's
/// connection; the outbox has its own file, so a host-thread hook never waits behind a long
/// sync transaction, and two connections to it: the hook's, and the jobs' (a run reading ten
/// thousand rows of a burst must not hold the connection the next edit's hook writes with).
pub struct Store {
    path: PathBuf,
    main: Mutex<Connection>,
    hook: Mutex<Connection>,
    outbox: Mutex<Connection>,
    /// The outbox cursor it was last trimmed to (0: not yet in this process).
    outbox_trimmed: AtomicI64,
}

impl Store {
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(FILE_NAME);
        create_private(&path)?;
        let main = connect(&path)?;
        schema::migrate(&main)?;
        let outbox_path = dir.join(OUTBOX_FILE_NAME);
        create_private(&outbox_path)?;
        let hook = connect(&outbox_path)?;
        hook.execute_batch(
            "CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                contact_id INTEGER NOT NULL,
                kind TEXT NOT NULL,
                at INTEGER NOT NULL
            );",
        )?;
        Ok(Store {
            path,
            main: Mutex::new(main),
            hook: Mutex::new(hook),
            outbox: Mutex::new(connect(&outbox_path)?),
            outbox_trimmed: AtomicI64::new(0),
        })
    }

    /// A copy of the mapping file and the outbox in `dir` (made private), opened: a preview
    /// runs the sync's observation on it, which records evidence, and throws it away.
    pub fn snapshot(&self, dir: &Path) -> Result<Store, StoreError> {
        let open_error = |e: std::io::Error| StoreError::Open {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(open_error)?;
        }
        std::fs::create_dir_all(dir).map_err(open_error)?;
        let copy = |conn: &Connection, name: &str| -> Result<(), StoreError> {
            let path = dir.join(name);
            create_private(&path)?;
            conn.execute("VACUUM INTO ?1", [path.to_string_lossy()])?;
            Ok(())
        };
        copy(&self.conn(), FILE_NAME)?;
        copy(&self.hook_conn(), OUTBOX_FILE_NAME)?;
        Store::open(dir)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection for background work.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.main.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The outbox's connection (host-thread hooks write there; jobs read it briefly).
    pub fn hook_conn(&self) -> MutexGuard<'_, Connection> {
        self.hook.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The outbox's connection for background jobs, which read and trim it.
    pub fn outbox_conn(&self) -> MutexGuard<'_, Connection> {
        self.outbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops the outbox rows up to `up_to`, the lowest cursor of the enabled bindings (every row
    /// when there is none). Rows come with rising ids, so a cursor already trimmed to has no
    /// rows left below it: every idle run of a thousand accounts asked again.
    pub fn trim_outbox(&self, up_to: Option<i64>) -> Result<(), StoreError> {
        if up_to.is_some_and(|cursor| self.outbox_trimmed.load(Ordering::SeqCst) == cursor) {
            return Ok(());
        }
        outbox::trim(&self.outbox_conn(), up_to)?;
        self.outbox_trimmed.store(up_to.unwrap_or(0), Ordering::SeqCst);
        Ok(())
    }

    /// Runs `f` in one transaction on the jobs' connection to the outbox file.
    pub fn outbox_tx<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        in_transaction(&mut self.outbox_conn(), f)
    }

    /// Runs `f` in one transaction on the background connection.
    pub fn tx<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        in_transaction(&mut self.conn(), f)
    }
}

fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn.transaction()?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Creates the file with mode 0600 before SQLite opens it, so it is never readable by others,
/// not even for an instant.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let open_error = |e: std::io::Error| StoreError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options.open(path).map_err(open_error)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(open_error)?;
    }
    #[cfg(not(unix))]
    options.open(path).map_err(open_error)?;
    Ok(())
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Every statement is prepared once per connection: parsing them again on each run was a
    // seventh of an idle round's CPU at 1,000 bindings.
    conn.set_prepared_statement_cache_capacity(256);
    // Without the query planner stability guarantee, SQLite (the bundled build has STAT4)
    // re-prepares a statement whose plan looked at a bound value each time rusqlite clears its
    // bindings on returning it to the cache, which made caching slower than not caching.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL is durable across a crash of the process (the WAL is in the OS cache); only a
    // power loss could drop the last transactions, and sync converges from there too.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// `Connection::execute` and `query_row` through the connection's statement cache.
pub(crate) trait Cached {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, p: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        p: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, p: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(p)
    }
    fn query_row_cached<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        p: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }
}

/// Reads a JSON column.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}
