//! Print jobs: one per slip to print, worked through in order by the print queue.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintJobState {
    /// Waiting for the printer.
    Pending,
    /// Bytes are going to the printer.
    Printing,
    /// The printer took the job and reported a clean status after it.
    Printed,
    /// The printer could not print it; staff can reprint.
    Failed,
    /// Not printed on purpose (stale after a paper-out); staff can reprint.
    Suppressed,
}

impl PrintJobState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintJobState::Pending => "pending",
            PrintJobState::Printing => "printing",
            PrintJobState::Printed => "printed",
            PrintJobState::Failed => "failed",
            PrintJobState::Suppressed => "suppressed",
        }
    }

    pub fn parse(s: &str) -> Option<PrintJobState> {
        Some(match s {
            "pending" => PrintJobState::Pending,
            "printing" => PrintJobState::Printing,
            "printed" => PrintJobState::Printed,
            "failed" => PrintJobState::Failed,
            "suppressed" => PrintJobState::Suppressed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJob {
    pub id: i64,
    pub case_id: String,
    pub state: PrintJobState,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The oldest job still waiting, if any. A job left `printing` by a crash counts as waiting:
    /// nobody saw it finish.
    pub fn next_print_job(&self) -> Result<Option<PrintJob>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, case_id, state, created_at FROM print_jobs
                 WHERE state IN ('pending', 'printing') ORDER BY id LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))?;
        row.map(|(id, case_id, state, created)| {
            Ok(PrintJob {
                id,
                case_id,
                state: PrintJobState::parse(&state)
                    .ok_or_else(|| StoreError::BadRow(format!("print job {id}: state {state}")))?,
                created_at: DateTime::parse_from_rfc3339(&created)
                    .map_err(|e| StoreError::BadRow(format!("print job {id}: {e}")))?
                    .with_timezone(&Utc),
            })
        })
        .transpose()
    }

    /// Records a job's new state and why.
    pub fn set_print_job_state(
        &self,
        id: i64,
        state: PrintJobState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE print_jobs SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, state.as_str(), reason, now.to_rfc3339()],
            )
            .map_err(|e| self.error(e))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::BadRow(format!("print job {id} does not exist")))
        }
    }
}
