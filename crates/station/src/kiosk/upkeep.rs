//! The daily upkeep (`grievance-kiosk erase-expired` and `backup`, run by the timer in
//! `systemd/`): personal data erased once its retention period has passed (DESIGN.md §4), and a
//! checked copy of the database with the oldest copies rotated out.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Kiosk, KioskError};
use crate::store::Erased;
use domain::catalogue::QuestionKind;

/// Where the daily copies go, under the data directory.
pub(crate) const BACKUP_DIR: &str = "backups";

/// What a backup wrote and what it rotated out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    /// Older copies removed to keep `[backup] keep`.
    pub removed: Vec<PathBuf>,
    /// Copies there now, this one included.
    pub kept: usize,
}

/// The daily copies in `<data_dir>/backups`, oldest first (their names sort by time).
pub(crate) fn backup_copies(data_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut copies: Vec<PathBuf> = std::fs::read_dir(data_dir.join(BACKUP_DIR))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("kiosk-") && n.ends_with(".sqlite3")
            })
        })
        .collect();
    copies.sort();
    Ok(copies)
}

impl Kiosk {
    /// Erases what `[privacy] retention_days` says is no longer to be kept: of cases the
    /// district acknowledged that long ago, the description, the phone and the answers typed in
    /// words (tapped options stay); of appointments that long past, the phone.
    pub fn erase_expired(&mut self, now: DateTime<Utc>) -> Result<Erased, KioskError> {
        let cutoff = now - chrono::Duration::days(i64::from(self.config.privacy.retention_days));
        let catalogue = &self.config.catalogue;
        // Only answers known to be tapped choices stay; a question the catalogue no longer has
        // is treated as typed.
        let tapped = |service: &str, subtype: &str, question: &str| {
            catalogue.service(service).is_some_and(|s| {
                let Some(t) = s.subtype(subtype) else {
                    return false;
                };
                s.questions_for(t)
                    .find(|q| q.id == question)
                    .is_some_and(|q| matches!(q.kind, QuestionKind::Choice { .. }))
            })
        };
        Ok(self
            .store
            .erase_personal_data(cutoff, cutoff, now, tapped)?)
    }

    /// Writes today's copy of the database to `<data_dir>/backups/kiosk-<UTC time>.sqlite3`
    /// and removes the oldest copies beyond `[backup] keep`.
    pub fn backup(&self, now: DateTime<Utc>) -> Result<BackupReport, KioskError> {
        let dir = self.config.data_dir.join(BACKUP_DIR);
        let path = dir.join(format!("kiosk-{}.sqlite3", now.format("%Y%m%dT%H%M%SZ")));
        self.store.backup_to(&path)?;
        let mut copies = backup_copies(&self.config.data_dir)
            .map_err(|e| KioskError::Backup(format!("cannot list {}: {e}", dir.display())))?;
        let keep = self.config.backup.keep as usize;
        let mut removed = Vec::new();
        while copies.len() > keep {
            let old = copies.remove(0);
            std::fs::remove_file(&old).map_err(|e| {
                KioskError::Backup(format!("cannot remove the old copy {}: {e}", old.display()))
            })?;
            removed.push(old);
        }
        Ok(BackupReport {
            path,
            removed,
            kept: copies.len(),
        })
    }
}
