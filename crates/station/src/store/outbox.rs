//! The outbox: what must still reach upstream, in order, with when to try next. Rows are
//! written by the intake transaction (with their case) and only ever move forward: pending →
//! delivered, or pending → failed when upstream refuses for good.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// Where a case's forwarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting to be sent, or to be tried again.
    Pending,
    /// Upstream has it.
    Delivered,
    /// Upstream refused it for good; staff can send it again.
    Failed,
}

impl OutboxState {
    /// The word in the database and in `case show --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivered => "delivered",
            OutboxState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::Delivered,
            OutboxState::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub(crate) id: i64,
    pub(crate) case_id: String,
    pub(crate) priority: i64,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) last_error: Option<String>,
}

/// How the outbox stands, for `outbox status` and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    /// When the oldest undelivered entry was created.
    pub oldest_pending: Option<DateTime<Utc>>,
    /// The last error of an undelivered entry, for staff.
    pub last_error: Option<String>,
}

fn time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::BadRow(format!("time {s}: {e}")))
}

impl Store {
    /// The next entry to send: high risk first, then the oldest, among those due by `now`
    /// (every pending one when `now` is `None`).
    pub(crate) fn next_outbox_entry(
        &self,
        now: Option<DateTime<Utc>>,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let due = now.map(|t| t.to_rfc3339());
        // Asked once per case sent, so its statement is prepared once per connection.
        self.conn
            .prepare_cached(
                "SELECT id, case_id, priority, attempts, next_attempt_at, created_at, last_error
                 FROM outbox
                 WHERE state = 'pending' AND (?1 IS NULL OR next_attempt_at <= ?1)
                 ORDER BY priority, next_attempt_at, id LIMIT 1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![due], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, Option<String>>(6)?,
                        ))
                    })
                    .optional()
            })
            .map_err(|e| self.error(e))?
            .map(
                |(id, case_id, priority, attempts, next, created, last_error)| {
                    Ok(OutboxEntry {
                        id,
                        case_id: case_id.ok_or_else(|| {
                            StoreError::BadRow(format!("outbox {id} has no case"))
                        })?,
                        priority,
                        attempts: attempts.max(0) as u32,
                        next_attempt_at: time(&next)?,
                        created_at: time(&created)?,
                        last_error,
                    })
                },
            )
            .transpose()
    }

    /// Makes every pending entry due at `now` (`outbox flush`).
    pub(crate) fn outbox_all_due(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending'",
                [now.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Upstream's reference for a delivered case (`None`: not delivered yet).
    pub(crate) fn outbox_reference(&self, case_id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT upstream_ref FROM outbox WHERE case_id = ?1 AND state = 'delivered'
                 ORDER BY id DESC LIMIT 1",
                [case_id],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.error(e))
    }

    /// Delivered entries upstream took with an Open311 batch token not yet resolved to a
    /// service request id: (outbox id, token), oldest first.
    pub(crate) fn outbox_unresolved_tokens(
        &self,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id, substr(upstream_ref, 7) FROM outbox
                 WHERE state = 'delivered' AND upstream_ref LIKE 'token:%'
                 ORDER BY id LIMIT ?1",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Replaces a delivered entry's reference (a batch token by the id it resolved to), only
    /// while it is still `from`.
    pub(crate) fn outbox_set_reference(
        &self,
        id: i64,
        from: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET upstream_ref = ?3
                 WHERE id = ?1 AND state = 'delivered' AND upstream_ref = ?2",
                params![id, from, to],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// The same, for the latest delivered entry of a case.
    pub(crate) fn outbox_set_reference_of_case(
        &self,
        case_id: &str,
        to: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET upstream_ref = ?2
                 WHERE id = (SELECT id FROM outbox WHERE case_id = ?1 AND state = 'delivered'
                             ORDER BY id DESC LIMIT 1)",
                params![case_id, to],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// When the next pending entry falls due, to sleep until then.
    pub(crate) fn next_outbox_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<String> = self
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.error(e))?;
        next.as_deref().map(time).transpose()
    }

    /// Upstream has the case.
    pub fn outbox_delivered(
        &self,
        id: i64,
        upstream_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET state = 'delivered', delivered_at = ?2, upstream_ref = ?3,
                        attempts = attempts + 1, last_error = NULL
                 WHERE id = ?1 AND state = 'pending'",
            )
            .and_then(|mut statement| {
                statement.execute(params![id, now.to_rfc3339(), upstream_ref])
            })
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// A try failed for now; the next one is at `next_attempt_at`.
    pub(crate) fn outbox_retry(
        &self,
        id: i64,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                 WHERE id = ?1 AND state = 'pending'",
                params![id, error, next_attempt_at.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Upstream refused the entry for good: it is kept, flagged for staff, not retried.
    pub(crate) fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2
                 WHERE id = ?1 AND state = 'pending'",
                params![id, error],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Staff ask for a failed entry to be tried again (after upstream was fixed).
    pub(crate) fn outbox_retry_failed(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.conn
            .execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?1 WHERE state = 'failed'",
                [now.to_rfc3339()],
            )
            .map(|n| n as u64)
            .map_err(|e| self.error(e))
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let (pending, delivered, failed, oldest): (i64, i64, i64, Option<String>) = self
            .conn
            .query_row(
                "SELECT count(*) FILTER (WHERE state = 'pending'),
                        count(*) FILTER (WHERE state = 'delivered'),
                        count(*) FILTER (WHERE state = 'failed'),
                        min(created_at) FILTER (WHERE state = 'pending')
                 FROM outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .map_err(|e| self.error(e))?;
        let last_error: Option<String> = self
            .conn
            .query_row(
                "SELECT last_error FROM outbox WHERE state != 'delivered' AND last_error IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(OutboxCounts {
            pending: pending.max(0) as u64,
            delivered: delivered.max(0) as u64,
            failed: failed.max(0) as u64,
            oldest_pending: oldest.as_deref().map(time).transpose()?,
            last_error,
        })
    }

    /// Keeps upstream's latest word on a case (a JSON `CaseProgress`).
    pub(crate) fn save_progress(
        &self,
        case_id: &str,
        progress_json: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO case_progress (case_id, progress, fetched_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (case_id) DO UPDATE SET progress = ?2, fetched_at = ?3",
                params![case_id, progress_json, now.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Upstream's latest word on a case, and when it was fetched.
    pub(crate) fn saved_progress(
        &self,
        case_id: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        self.conn
            .query_row(
                "SELECT progress, fetched_at FROM case_progress WHERE case_id = ?1",
                [case_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?
            .map(|(p, at)| Ok((p, time(&at)?)))
            .transpose()
    }
}
