//! Print jobs: one per slip to print, worked through in order by the print queue, with every
//! state change kept as an event; and the paper used since the last refill.

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
    /// The printer could not print it after several tries; staff can reprint.
    Failed,
    /// Not printed on purpose (stale after the printer was unavailable); staff can reprint.
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

    pub(crate) fn parse(s: &str) -> Option<PrintJobState> {
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
    pub(crate) id: i64,
    /// What the slip carries: a case, a queue ticket, an appointment, or a case with a ticket.
    pub(crate) case_id: Option<String>,
    pub(crate) ticket_id: Option<i64>,
    pub(crate) booking_id: Option<String>,
    pub(crate) state: PrintJobState,
    pub(crate) reason: Option<String>,
    pub(crate) attempts: u32,
    pub(crate) created_at: DateTime<Utc>,
}

/// One state change of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintJobEvent {
    pub state: PrintJobState,
    pub(crate) reason: Option<String>,
    pub(crate) at: DateTime<Utc>,
}

fn time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::BadRow(format!("time {s}: {e}")))
}

fn state(s: &str) -> Result<PrintJobState, StoreError> {
    PrintJobState::parse(s).ok_or_else(|| StoreError::BadRow(format!("print job state {s}")))
}

impl Store {
    /// The oldest job still waiting, if any. A job left `printing` by a crash counts as waiting:
    /// nobody saw it finish.
    pub(crate) fn next_print_job(&self) -> Result<Option<PrintJob>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, case_id, state, reason, attempts, created_at, ticket_id, booking_id
                 FROM print_jobs
                 WHERE state IN ('pending', 'printing') ORDER BY id LIMIT 1",
                [],
                |r| {
                    Ok((
                        (r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?),
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        (r.get::<_, Option<i64>>(6)?, r.get::<_, Option<String>>(7)?),
                    ))
                },
            )
            .optional()
            .map_err(|e| self.error(e))?;
        row.map(
            |((id, case_id), s, reason, attempts, created, (ticket_id, booking_id))| {
                Ok(PrintJob {
                    id,
                    case_id,
                    ticket_id,
                    booking_id,
                    state: state(&s)?,
                    reason,
                    attempts: attempts.max(0) as u32,
                    created_at: time(&created)?,
                })
            },
        )
        .transpose()
    }

    /// Records a job's new state and why, as the job's latest state and as an event. Entering
    /// `printing` counts an attempt; `printed` records when.
    pub(crate) fn set_print_job_state(
        &mut self,
        id: i64,
        new_state: PrintJobState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let at = now.to_rfc3339();
        let tx = self.conn.transaction().map_err(fail)?;
        let changed = tx
            .execute(
                "UPDATE print_jobs SET state = ?2, reason = ?3, updated_at = ?4,
                        attempts = attempts + (?2 = 'printing'),
                        printed_at = CASE WHEN ?2 = 'printed' THEN ?4 ELSE printed_at END
                 WHERE id = ?1",
                params![id, new_state.as_str(), reason, at],
            )
            .map_err(fail)?;
        if changed != 1 {
            return Err(StoreError::BadRow(format!("print job {id} does not exist")));
        }
        tx.execute(
            "INSERT INTO print_job_events (job_id, state, reason, at) VALUES (?1, ?2, ?3, ?4)",
            params![id, new_state.as_str(), reason, at],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// A new job for a case that already has a slip: staff reprint it.
    pub(crate) fn add_print_job(
        &mut self,
        case_id: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        add_job(&self.conn, Some(case_id), None, None, "reprint", now).map_err(|e| self.error(e))
    }

    /// A new job reprinting the same slip as job `of` (case, ticket or appointment).
    pub fn reprint_job(&mut self, of: i64, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let (case_id, ticket_id, booking_id): (Option<String>, Option<i64>, Option<String>) = self
            .conn
            .query_row(
                "SELECT case_id, ticket_id, booking_id FROM print_jobs WHERE id = ?1",
                [of],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?
            .ok_or_else(|| StoreError::BadRow(format!("print job {of} does not exist")))?;
        add_job(
            &self.conn,
            case_id.as_deref(),
            ticket_id,
            booking_id.as_deref(),
            "reprint",
            now,
        )
        .map_err(|e| self.error(e))
    }

    /// Every state the job went through, oldest first.
    pub fn print_job_events(&self, id: i64) -> Result<Vec<PrintJobEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT state, reason, at FROM print_job_events WHERE job_id = ?1 ORDER BY id")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut events = Vec::new();
        for row in rows {
            let (s, reason, at) = row.map_err(|e| self.error(e))?;
            events.push(PrintJobEvent {
                state: state(&s)?,
                reason,
                at: time(&at)?,
            });
        }
        Ok(events)
    }

    /// The latest print job of a case.
    pub fn latest_print_job(&self, case_id: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT id FROM print_jobs WHERE case_id = ?1 ORDER BY id DESC LIMIT 1",
                [case_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Jobs waiting for the printer.
    pub fn waiting_print_jobs(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM print_jobs WHERE state IN ('pending', 'printing')",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// Paper printed since the last refill, in dots along the roll, and when that was.
    pub(crate) fn paper_used(&self) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
        let (dots, at): (i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT used_dots, refilled_at FROM printer_paper WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.error(e))?;
        Ok((dots.max(0) as u64, at.as_deref().map(time).transpose()?))
    }

    pub fn add_paper_used(&self, dots: u32) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE printer_paper SET used_dots = used_dots + ?1 WHERE id = 1",
                [i64::from(dots)],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Staff put in a new roll.
    pub fn paper_refilled(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE printer_paper SET used_dots = 0, refilled_at = ?1 WHERE id = 1",
                [now.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }
}

/// Inserts a pending job and its first event (inside the caller's transaction, if any).
pub(super) fn add_job(
    conn: &rusqlite::Connection,
    case_id: Option<&str>,
    ticket_id: Option<i64>,
    booking_id: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let at = now.to_rfc3339();
    conn.execute(
        "INSERT INTO print_jobs (case_id, ticket_id, booking_id, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
        params![case_id, ticket_id, booking_id, at],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "INSERT INTO print_job_events (job_id, state, reason, at) VALUES (?1, 'pending', ?2, ?3)",
        params![id, reason, at],
    )?;
    Ok(id)
}
