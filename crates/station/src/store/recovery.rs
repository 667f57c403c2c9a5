//! The database's check at start-up, and the notices that tell staff what the kiosk found.
//!
//! At start (`Store::open_checked`) the kiosk runs `PRAGMA quick_check`. A database that cannot be opened as a kiosk
//! database, or that fails the check, is moved aside, never deleted (its cases may still be
//! recovered by hand): `kiosk.sqlite3` and its `-wal` and `-shm` files are renamed to
//! `kiosk.sqlite3.damaged-<UTC time>[-wal|-shm]`, the directory is synced, and the kiosk opens a
//! fresh database, where it leaves a notice for staff.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, StoreError, DB_FILE};

/// A damaged database the start-up check moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedAside {
    /// Where the damaged file is now.
    pub to: PathBuf,
    /// What was wrong with it.
    pub problem: String,
}

/// A notice for staff, shown on the staff console until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `database-moved-aside`, …
    pub kind: String,
    pub detail: String,
}

impl Store {
    /// Opens the database in `data_dir` the way the kiosk starts on it: checked first, and a
    /// damaged one moved aside for a fresh one. Returns the open store and, when it moved one,
    /// where. Errors are the ones no fresh database would cure (a read-only or full disk).
    pub(crate) fn open_checked(
        data_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Store, Option<MovedAside>), StoreError> {
        if !data_dir.join(DB_FILE).exists() {
            return Ok((Store::open(data_dir)?, None));
        }
        let problem = match Store::open(data_dir) {
            Ok(store) => match store.quick_check() {
                Ok(()) => return Ok((store, None)),
                Err(problem) => format!("quick_check: {problem}"),
            },
            Err(e @ (StoreError::Corrupt(_) | StoreError::BadRow(_))) => e.to_string(),
            Err(e) => return Err(e),
        };
        let stamp = now.format("%Y%m%dT%H%M%SZ");
        let to = data_dir.join(format!("{DB_FILE}.damaged-{stamp}"));
        for suffix in ["-wal", "-shm", ""] {
            let from = data_dir.join(format!("{DB_FILE}{suffix}"));
            if from.exists() {
                let target = PathBuf::from(format!("{}{suffix}", to.display()));
                std::fs::rename(&from, &target).map_err(|e| StoreError::CannotOpen {
                    path: from.clone(),
                    reason: format!("cannot move the damaged database aside: {e}"),
                })?;
            }
        }
        // The renames are durable before a fresh database takes the name.
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok((Store::open(data_dir)?, Some(MovedAside { to, problem })))
    }

    /// Leaves a notice for staff.
    pub fn add_notice(
        &self,
        kind: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO notices (at, kind, detail) VALUES (?1, ?2, ?3)",
                params![at.to_rfc3339(), kind, detail],
            )
            .map_err(|e| self.error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The notices staff have not acknowledged yet, oldest first.
    pub(crate) fn open_notices(&self) -> Result<Vec<Notice>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, kind, detail FROM notices WHERE cleared_at IS NULL ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, kind, detail) = row.map_err(|e| self.error(e))?;
            let at = DateTime::parse_from_rfc3339(&at)
                .map_err(|e| StoreError::BadRow(format!("notice {id}: time `{at}`: {e}")))?
                .with_timezone(&Utc);
            out.push(Notice {
                id,
                at,
                kind,
                detail,
            });
        }
        Ok(out)
    }

    /// Staff acknowledged the notice `id`; `false` if it was not open.
    pub fn clear_notice(&self, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "UPDATE notices SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                params![id, at.to_rfc3339()],
            )
            .map_err(|e| self.error(e))?;
        Ok(n == 1)
    }
}
