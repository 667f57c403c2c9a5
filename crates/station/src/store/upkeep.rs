//! The daily upkeep of the database: erasing personal data once it is no longer needed
//! (DESIGN.md §4), and an online backup.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Store, StoreError};

/// What one erasure pass erased.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Cases whose description, phone and typed answers were erased.
    pub cases: u64,
    /// Bookings whose phone was erased.
    pub bookings: u64,
}

impl Store {
    /// Erases personal data, in one transaction: of each case upstream acknowledged before
    /// `delivered_before`, the description, the phone and every answer `keep_answer(service,
    /// subtype, question)` does not keep (the words a resident typed; the options they tapped
    /// stay, for statistics); of each booking whose slot ended before `ended_before`, the
    /// phone. A case upstream has not acknowledged keeps everything: it is still the only
    /// copy. `secure_delete` overwrites the old bytes in the file, and the write-ahead log is
    /// checkpointed and truncated, so the words are gone from the disk, not only from queries.
    pub(crate) fn erase_personal_data(
        &mut self,
        delivered_before: DateTime<Utc>,
        ended_before: DateTime<Utc>,
        now: DateTime<Utc>,
        keep_answer: impl Fn(&str, &str, &str) -> bool,
    ) -> Result<Erased, StoreError> {
        let path = self.path.clone();
        let err = |e| super::classify(e, &path);
        self.conn
            .pragma_update(None, "secure_delete", true)
            .map_err(err)?;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let due: Vec<(String, String, String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT c.id, c.service, c.subtype, c.answers FROM cases c
                     JOIN outbox o ON o.case_id = c.id
                     WHERE c.personal_data_erased_at IS NULL AND o.state = 'delivered'
                       AND julianday(o.delivered_at) < julianday(?1)",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([delivered_before.to_rfc3339()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)?
        };
        let mut erased = Erased::default();
        for (id, service, subtype, answers) in due {
            let kept: Vec<serde_json::Value> =
                serde_json::from_str::<Vec<serde_json::Value>>(&answers)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|a| {
                        a.get("question")
                            .and_then(|q| q.as_str())
                            .is_some_and(|q| keep_answer(&service, &subtype, q))
                    })
                    .collect();
            let kept = serde_json::Value::Array(kept).to_string();
            tx.execute(
                "UPDATE cases SET description = NULL, phone = NULL, answers = ?2,
                        personal_data_erased_at = ?3
                 WHERE id = ?1",
                params![id, kept, now.to_rfc3339()],
            )
            .map_err(err)?;
            erased.cases += 1;
        }
        erased.bookings = tx
            .execute(
                "UPDATE bookings SET phone = NULL
                 WHERE phone IS NOT NULL AND julianday(end_at) < julianday(?1)",
                [ended_before.to_rfc3339()],
            )
            .map_err(err)? as u64;
        tx.commit().map_err(err)?;
        // The old pages may still sit in the write-ahead log: copy the new ones home and empty it.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(err)?;
        Ok(erased)
    }

    /// Writes a consistent copy of the live database to `to` (`VACUUM INTO` a temporary file
    /// beside it, synced, checked with `quick_check`, then renamed into place, the directory
    /// synced): a power cut leaves either the old backup or the new one, never half of one. The
    /// copy holds no deleted content.
    pub(crate) fn backup_to(&self, to: &Path) -> Result<(), StoreError> {
        let dir = to.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| StoreError::CannotOpen {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let partial = PathBuf::from(format!("{}.partial", to.display()));
        let _ = std::fs::remove_file(&partial);
        let io = |path: &Path, e: std::io::Error| StoreError::CannotOpen {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        self.conn
            .execute("VACUUM INTO ?1", [partial.to_string_lossy()])
            .map_err(|e| super::classify(e, &partial))?;
        let result = (|| {
            std::fs::File::open(&partial)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(&partial, e))?;
            let copy = Store::open_file(&partial)?;
            copy.quick_check()
                .map_err(|problem| StoreError::CannotOpen {
                    path: partial.clone(),
                    reason: format!("the backup failed its check: {problem}"),
                })?;
            drop(copy);
            for side in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{side}", partial.display()));
            }
            std::fs::rename(&partial, to).map_err(|e| io(to, e))?;
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io(dir, e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }
}
