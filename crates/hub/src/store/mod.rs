//! The hub's own SQLite database, `hub.sqlite3` in the data directory: cases (with the full
//! submission, personal data included: this is the district's system), their status events,
//! the latest heartbeat of each station, the Open311 request number of every case, and each
//! station's queues, bookings, attendance and roster.
//!
//! The same discipline as the kiosk's store (DESIGN.md §4): WAL, `synchronous=FULL` (a receipt
//! is only sent for a committed case), foreign keys on, migrations in `user_version`, every
//! value bound as a parameter. One writer connection serialises writes inside the process (so
//! writers never meet `SQLITE_BUSY`); readers take a connection from a small pool and read
//! inside a transaction, so a page never mixes two moments. [`HubStore::read`] and
//! [`HubStore::write`] run the work on tokio's blocking pool.
//!
//! Reads never wait behind writes (issue 17): a write waits for the writer connection as an
//! async task (a `tokio` mutex), and only the one holding it occupies a blocking thread. When
//! writers waited on a blocking thread each, a burst of 2,000 writes filled all 512 of tokio's
//! blocking threads with writers waiting their turn, and every read queued behind them: the
//! tracking page and `/operator` took a second. Reads are bounded the same way, at
//! [`MAX_READERS`] at once, so neither can starve the other of threads or open files.
//!
//! The submodules hold the SQL, one per table family; they take a connection and know nothing
//! of HTTP.

pub(crate) mod accounts;
pub(crate) mod cases;
pub(crate) mod district;
pub(crate) mod leaders;
mod migrations;
pub(crate) mod open311;
mod pg;
pub(crate) mod queues;
pub(crate) mod sql;
pub(crate) mod stations;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::Semaphore;

use protocol::CaseState;

use pg::PgStore;
pub use pg::{dollars as postgres_placeholders, PostgresConfig};
use sql::{Db, Sqlite};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "hub.sqlite3";
/// Idle reader connections kept open for the next request: enough for a busy minute's
/// concurrent tracking-page readers, so they are not opened and closed per request.
const IDLE_READERS: usize = 64;
/// Reads running at once (each on a blocking thread with a connection of its own); more wait
/// for a turn as async tasks. Also bounds the database's open files (three per connection).
pub(crate) const MAX_READERS: usize = 64;

pub struct HubStore {
    backend: Backend,
    /// Writes asked for and not yet finished (waiting for the writer or writing).
    writes_pending: AtomicUsize,
}

enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

struct SqliteStore {
    path: PathBuf,
    /// The one writer connection. A write waits for it without a thread of its own.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    read_slots: Arc<Semaphore>,
    readers: Mutex<Vec<Connection>>,
}

/// Counts a write from when it is asked for until it ends, even if its caller gives up.
struct Pending<'a>(&'a AtomicUsize);

impl<'a> Pending<'a> {
    fn new(counter: &'a AtomicUsize) -> Pending<'a> {
        counter.fetch_add(1, Ordering::SeqCst);
        Pending(counter)
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HubStoreError {
    #[error("the data directory {} cannot be used: {reason}", path.display())]
    DataDir { path: PathBuf, reason: String },
    #[error("the database {} cannot be opened: {reason}", path.display())]
    CannotOpen { path: PathBuf, reason: String },
    #[error("the database {} was written by a newer hub (schema {found}, this hub knows up to {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the database was written by a newer hub (schema {found}, this hub knows up to {known})"
    )]
    TooNewDatabase { found: i64, known: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", pg::describe(.0))]
    Postgres(::postgres::Error),
    /// The database server cannot be reached now (a restart, a failover): try again later.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    #[error("stored data is not readable: {0}")]
    BadRow(String),
    #[error("the database task stopped: {0}")]
    Task(String),
}

impl HubStoreError {
    /// Whether the database could not be reached (and may be again later), as opposed to a
    /// failure of the operation itself.
    pub(crate) fn is_unavailable(&self) -> bool {
        matches!(self, HubStoreError::Unavailable(_))
    }
}

impl HubStore {
    /// Opens (creating if needed) `hub.sqlite3` in `data_dir` and brings its schema up to date.
    pub(crate) fn open(data_dir: &Path) -> Result<HubStore, HubStoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| HubStoreError::DataDir {
            path: data_dir.to_owned(),
            reason: e.to_string(),
        })?;
        let path = data_dir.join(DB_FILE);
        let cannot_open = |e: rusqlite::Error| HubStoreError::CannotOpen {
            path: path.clone(),
            reason: e.to_string(),
        };
        let mut writer = connect(&path).map_err(cannot_open)?;
        migrations::run(&mut writer, &path)?;
        Ok(HubStore {
            backend: Backend::Sqlite(Arc::new(SqliteStore {
                path,
                writer: Arc::new(tokio::sync::Mutex::new(writer)),
                read_slots: Arc::new(Semaphore::new(MAX_READERS)),
                readers: Mutex::new(Vec::new()),
            })),
            writes_pending: AtomicUsize::new(0),
        })
    }

    /// Connects to PostgreSQL (`HUB_DATABASE_URL`) and brings its schema up to date; blocking.
    pub(crate) fn open_postgres(config: &PostgresConfig) -> Result<HubStore, HubStoreError> {
        Ok(HubStore {
            backend: Backend::Postgres(Arc::new(PgStore::open(config)?)),
            writes_pending: AtomicUsize::new(0),
        })
    }

    /// Which engine holds the data, in words for the log and the operator.
    pub fn engine(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// Whether the data is in PostgreSQL (where several processes may share it).
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// How many writes are asked for and not finished now: waiting for the writer, or
    /// writing. A load figure (and what a test waits for before it reads during a burst).
    pub fn writes_pending(&self) -> usize {
        self.writes_pending.load(Ordering::SeqCst)
    }

    /// How many cases the hub holds (a figure for benchmarks and tools).
    pub async fn case_count(self: &Arc<Self>) -> Result<u64, HubStoreError> {
        self.read(|db| {
            let n = db.one("SELECT count(*) FROM cases", sql::args![])?.int(0)?;
            Ok(u64::try_from(n).unwrap_or_default())
        })
        .await
    }

    /// Runs `work` in a read transaction on the blocking pool (on PostgreSQL it may run again
    /// on a new connection when the pooled one turns out dead).
    pub(crate) async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T, HubStoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Db) -> Result<T, HubStoreError> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(store) => {
                let store = Arc::clone(store);
                with_slot(&store.read_slots.clone(), move || store.read(work)).await
            }
            Backend::Postgres(store) => {
                let store = Arc::clone(store);
                with_slot(&store.read_slots.clone(), move || store.read(work)).await
            }
        }
    }

    /// Runs `work` in a write transaction on the blocking pool; commits when it returns `Ok`.
    /// On PostgreSQL `work` may run more than once (another process got in the way: the
    /// transaction is tried again whole), so it must do nothing but its queries.
    pub(crate) async fn write<T, F>(self: &Arc<Self>, work: F) -> Result<T, HubStoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Db) -> Result<T, HubStoreError> + Send + 'static,
    {
        let _pending = Pending::new(&self.writes_pending);
        match &self.backend {
            Backend::Sqlite(store) => {
                // Waiting for the writer takes no thread; only the holder runs on the blocking
                // pool. A panic while holding it leaves no transaction open (it rolled back
                // when dropped), so the connection is still sound.
                let mut conn = Arc::clone(&store.writer).lock_owned().await;
                let mut work = work;
                run_blocking(move || {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let value = work(&mut Sqlite(&tx))?;
                    tx.commit()?;
                    Ok(value)
                })
                .await
            }
            Backend::Postgres(store) => {
                let store = Arc::clone(store);
                with_slot(&store.write_slots.clone(), move || store.write(work)).await
            }
        }
    }
}

impl SqliteStore {
    /// A read transaction on a pooled reader connection (on a blocking thread).
    fn read<T>(
        &self,
        mut work: impl FnMut(&mut dyn Db) -> Result<T, HubStoreError>,
    ) -> Result<T, HubStoreError> {
        let pooled = self.readers.lock().map(|mut r| r.pop()).unwrap_or(None);
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let result = {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            work(&mut Sqlite(&tx))
        };
        if let Ok(mut idle) = self.readers.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }
}

/// Runs `work` on tokio's blocking pool once one of `slots` is free (waiting for it as an async
/// task, not on a thread), holding the slot until it ends.
async fn with_slot<T: Send + 'static>(
    slots: &Arc<Semaphore>,
    work: impl FnOnce() -> Result<T, HubStoreError> + Send + 'static,
) -> Result<T, HubStoreError> {
    let slot = Arc::clone(slots)
        .acquire_owned()
        .await
        .map_err(|e| HubStoreError::Task(e.to_string()))?;
    run_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HubStoreError> + Send + 'static,
) -> Result<T, HubStoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HubStoreError::Task(e.to_string()))?
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode stayed {mode}; WAL is required"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )?;
    Ok(conn)
}

fn state_from_db(text: &str) -> Result<CaseState, HubStoreError> {
    CaseState::parse(text)
        .ok_or_else(|| HubStoreError::BadRow(format!("unknown case state `{text}`")))
}

fn time_from_db(text: &str) -> Result<chrono::DateTime<chrono::Utc>, HubStoreError> {
    super::clock::parse_stamp(text)
        .ok_or_else(|| HubStoreError::BadRow(format!("unreadable time `{text}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for s in CaseState::ALL {
            assert_eq!(state_from_db(s.as_str()).unwrap(), s);
        }
        assert!(state_from_db("lost").is_err());
    }

    #[test]
    fn a_new_database_runs_in_wal_with_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = HubStore::open(dir.path()).unwrap();
        let Backend::Sqlite(sqlite) = &store.backend else {
            unreachable!("opened on SQLite")
        };
        let conn = sqlite.writer.blocking_lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
        assert_eq!(version, migrations::LATEST);
        drop(conn);
        drop(store);
        HubStore::open(dir.path()).expect("a second start finds the schema up to date");
    }

    #[test]
    fn a_database_from_a_newer_hub_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(HubStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", migrations::LATEST + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            HubStore::open(dir.path()),
            Err(HubStoreError::TooNew { .. })
        ));
    }
}
