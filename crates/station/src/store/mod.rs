//! The kiosk's one SQLite database (DESIGN.md §4): cases, their print jobs and the outbox.
//!
//! Every connection runs in WAL mode with `synchronous=FULL` (a commit is on disk when it
//! returns, which is what lets the kiosk show a code and print a slip) and foreign keys on.
//! Migrations run when the store opens. Each task that needs the database (the UI's intake, the
//! print queue, later the outbox worker) opens its own `Store`; SQLite serialises the writers.
//!
//! This module knows SQL and nothing about screens, printers or HTTP.

mod cases;
mod migrations;
mod outbox;
mod print_jobs;
mod queues;
mod recovery;
mod upkeep;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use cases::{IntakeRecord, StoredCase};
pub use outbox::{OutboxCounts, OutboxEntry, OutboxState};
pub use print_jobs::{PrintJob, PrintJobEvent, PrintJobState};
pub use queues::{
    AuditEntry, BookingConflict, NewBooking, NewTicket, QueueCall, StaffAuth, StoredBooking,
    StoredTicket, SyncState,
};
pub use recovery::{MovedAside, Notice};
pub use upkeep::Erased;

/// The kind of the notice a high-risk case leaves for staff (its detail: the case's code).
pub(crate) const HIGH_RISK_NOTICE: &str = "high-risk-case";

/// The kind of the notice a resident leaves with the "call staff" button (elderly mode), or
/// `staff call` on the command line; no detail.
pub(crate) const STAFF_CALL_NOTICE: &str = "staff-called";

/// The notices that call staff to the kiosk at once: the now-serving display shows its red band
/// and chimes while one is open.
pub const CALLS_FOR_STAFF: [&str; 2] = [HIGH_RISK_NOTICE, STAFF_CALL_NOTICE];

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "kiosk.sqlite3";

/// How long a connection waits for another process's lock (the display, the command line,
/// the touchscreen share the file) before it gives up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What went wrong with the database, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {} cannot be written (read-only file system or missing permission)", .0.display())]
    ReadOnly(PathBuf),
    #[error("the disk holding {} is full", .0.display())]
    Full(PathBuf),
    #[error("the database {} is damaged or is not a kiosk database", .0.display())]
    Corrupt(PathBuf),
    #[error("the disk holding {} failed to read or write ({reason}): the change was not saved", path.display())]
    Io { path: PathBuf, reason: String },
    #[error("the database {} cannot be opened: {reason}", path.display())]
    CannotOpen { path: PathBuf, reason: String },
    #[error("the database {} was written by a newer kiosk (schema {found}, this kiosk knows up to {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("tracking code already in use")]
    TokenTaken,
    #[error("stored data is not readable: {0}")]
    BadRow(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

/// What [`Store::quick_check`] found wrong: the first problems in SQLite's own words, joined
/// with "; " (or why the check itself could not run). Displayed as that text alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Damage(pub String);

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                StoreError::ReadOnly(data_dir.to_owned())
            }
            std::io::ErrorKind::StorageFull => StoreError::Full(data_dir.to_owned()),
            // The OS says "File exists" or "Not a directory", which tells an operator nothing.
            std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
                StoreError::CannotOpen {
                    path: data_dir.to_owned(),
                    reason: "the data directory is not a directory: a file is in the way \
                             (this path or one of its parents)"
                        .into(),
                }
            }
            _ => StoreError::CannotOpen {
                path: data_dir.to_owned(),
                reason: e.to_string(),
            },
        })?;
        Store::open_file(&data_dir.join(DB_FILE))
    }

    /// Opens a database file directly.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, path))?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        store.configure().map_err(|e| classify(e, path))?;
        migrations::run(&mut store.conn, path)?;
        Ok(store)
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode = self.switch_to_wal()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode stayed {mode}; WAL is required"
            )));
        }
        self.conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
    }

    /// `PRAGMA journal_mode = WAL`, waiting for the lock. On a new, empty database the switch
    /// takes the file's exclusive lock, and SQLite answers `SQLITE_BUSY` at once, without the
    /// busy handler, when another process (`case new` and `outbox flush` started together)
    /// is making the same switch: so it is tried again here until [`BUSY_TIMEOUT`].
    fn switch_to_wal(&self) -> rusqlite::Result<String> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for diagnostics (`doctor`) and for tests that need to reach
    /// below the store's API (fault injection). Application code goes through the methods.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Turns a rusqlite error into a [`StoreError`] that names this store's file.
    fn error(&self, e: rusqlite::Error) -> StoreError {
        classify(e, &self.path)
    }

    /// `PRAGMA quick_check`: `Ok(())` or the first problems found (SQLite's own words).
    pub fn quick_check(&self) -> Result<(), Damage> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA quick_check(4)")
            .map_err(|e| Damage(e.to_string()))?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| Damage(e.to_string()))?;
        if rows.len() == 1 && rows[0] == "ok" {
            return Ok(());
        }
        // The first line is often only a heading ("*** in database main ***").
        let problems: Vec<&str> = rows
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.starts_with("***"))
            .collect();
        Err(Damage(if problems.is_empty() {
            rows.join("; ")
        } else {
            problems.join("; ")
        }))
    }

    /// Rows in each table, for `doctor` and tests: (cases, print jobs, outbox).
    pub fn row_counts(&self) -> Result<(i64, i64, i64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM print_jobs),
                        (SELECT count(*) FROM outbox)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.error(e))
    }
}

fn classify(e: rusqlite::Error, path: &Path) -> StoreError {
    let code = match &e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    let dir = path.parent().unwrap_or(path).to_owned();
    match code {
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(dir),
        Some(ErrorCode::DiskFull) => StoreError::Full(dir),
        Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
            StoreError::Corrupt(path.to_owned())
        }
        Some(ErrorCode::SystemIoFailure) => StoreError::Io {
            path: dir,
            reason: e.to_string(),
        },
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => StoreError::CannotOpen {
            path: path.to_owned(),
            reason: e.to_string(),
        },
        Some(ErrorCode::ConstraintViolation) if e.to_string().contains("cases.token") => {
            StoreError::TokenTaken
        }
        _ => StoreError::Sqlite(e),
    }
}

#[cfg(test)]
mod tests;
