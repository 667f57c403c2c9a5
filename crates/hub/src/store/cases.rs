//! Cases and their timelines: intake (idempotent), progress, department updates, and the two
//! lists operators watch (high-risk cases still open, cases past their expected date), a page
//! at a time with their true counts.
//!
//! Every tracking code is one namespace: a case, a queue ticket and a booking never share one
//! ([`code_owner`]).
//!
//! Rows are read as rows the hub cannot trust (a restored backup, a hand edit, an older hub):
//! a value that does not read back (a time outside years 0000–9999 or not a time, an unknown
//! state, broken JSON, a negative count) is logged with its table, row and column (never the
//! value) and shown as unknown, or the row is skipped, or a single record answers as
//! [`Damaged`]; it never fails a list or a page for the other rows.

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use crate::validate;
use domain::RiskReason;
use protocol::{CaseProgress, CaseReceipt, CaseState, CaseSubmission, StatusUpdate, TimelineEntry};

use super::sql::{args, Db, Value};
use super::{time_from_db, HubStoreError};

/// What holds a tracking code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeOwner {
    Case,
    Ticket,
    Booking,
}

impl CodeOwner {
    /// In words for an API error: `a case`, `a queue ticket`, `a booking`.
    pub(crate) fn words(self) -> &'static str {
        match self {
            CodeOwner::Case => "a case",
            CodeOwner::Ticket => "a queue ticket",
            CodeOwner::Booking => "a booking",
        }
    }
}

/// What holds the canonical tracking code `token`, if anything does, and for a ticket or a
/// booking its station.
pub(crate) fn code_owner(
    db: &mut dyn Db,
    token: &str,
) -> Result<Option<(CodeOwner, Option<String>)>, HubStoreError> {
    let case = db
        .one(
            "SELECT EXISTS (SELECT 1 FROM cases WHERE token = ?1)",
            args![token],
        )?
        .flag(0)?;
    if case {
        return Ok(Some((CodeOwner::Case, None)));
    }
    for (owner, sql) in [
        (
            CodeOwner::Ticket,
            "SELECT station_id FROM queue_tickets WHERE token = ?1",
        ),
        (
            CodeOwner::Booking,
            "SELECT station_id FROM queue_bookings WHERE token = ?1",
        ),
    ] {
        if let Some(row) = db.row(sql, args![token])? {
            return Ok(Some((owner, Some(row.text(0)?))));
        }
    }
    Ok(None)
}

/// A stored record that cannot be shown: a value it cannot do without did not read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damaged {
    pub(crate) table: &'static str,
    pub(crate) column: &'static str,
}

/// Notes in the log that a stored value did not read back (where, never the value).
pub(crate) fn unreadable(table: &'static str, row: &dyn std::fmt::Display, column: &'static str) {
    tracing::warn!(
        table,
        row = %row,
        column,
        "store: a stored value does not read back; shown as unknown"
    );
}

/// A stored time, or `None` (logged) when it is no time within years 0000–9999.
pub(crate) fn read_time(
    table: &'static str,
    row: &dyn std::fmt::Display,
    column: &'static str,
    text: &str,
) -> Option<DateTime<Utc>> {
    let at = validate::stored_instant(text);
    if at.is_none() {
        unreadable(table, row, column);
    }
    at
}

/// A stored case state, or `None` (logged).
fn read_state(table: &'static str, row: &dyn std::fmt::Display, text: &str) -> Option<CaseState> {
    let state = CaseState::parse(text);
    if state.is_none() {
        unreadable(table, row, "state");
    }
    state
}

/// Which door a case came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Native,
    Open311,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Native => "native",
            Source::Open311 => "open311",
        }
    }
}

/// A case about to be stored.
#[derive(Debug, Clone)]
pub(crate) struct NewCase {
    pub(crate) submission: CaseSubmission,
    /// SHA-256 of the canonical request body: a replay must have the same.
    pub(crate) body_sha256: String,
    pub(crate) source: Source,
    /// For Open311 requests: the form fields except the key (JSON), kept whole.
    pub(crate) open311_form: Option<String>,
}

/// A case the hub holds, as its sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Accepted {
    pub(crate) receipt: CaseReceipt,
    pub(crate) service_request_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intake {
    /// Stored now.
    Created(Accepted),
    /// The same case was stored before: the same answer again.
    Replayed(Accepted),
    /// Another body was stored under this id.
    IdTaken,
    /// A case, a queue ticket or a booking already has this tracking code ([`code_owner`]
    /// says which).
    TokenTaken,
}

/// Stores a case, or recognises a replay of one, in the caller's transaction.
pub(crate) fn intake(
    tx: &mut dyn Db,
    new: &NewCase,
    now: DateTime<Utc>,
) -> Result<Intake, HubStoreError> {
    let s = &new.submission;
    let existing = tx.row(
        "SELECT c.token, c.received_at, c.body_sha256, o.service_request_id
         FROM cases c JOIN open311_requests o ON o.case_id = c.id
         WHERE c.id = ?1",
        args![&s.id],
    )?;
    if let Some(row) = existing {
        let (token, received_at, sha, service_request_id) =
            (row.text(0)?, row.text(1)?, row.text(2)?, row.int(3)?);
        if sha != new.body_sha256 {
            return Ok(Intake::IdTaken);
        }
        return Ok(Intake::Replayed(Accepted {
            receipt: receipt(&s.id, token, time_from_db(&received_at)?),
            service_request_id,
        }));
    }
    if code_owner(tx, &s.token)?.is_some() {
        return Ok(Intake::TokenTaken);
    }
    let at = stamp(now);
    let body = serde_json::to_string(s).map_err(|e| HubStoreError::BadRow(e.to_string()))?;
    let filed_at = stamp(s.filed_at);
    tx.exec(
        "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                            filed_at, received_at, updated_at, source, body, body_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'received', ?7, ?8, ?8, ?9, ?10, ?11)",
        args![
            &s.id,
            &s.token,
            &s.station_id,
            &s.service,
            &s.subtype,
            s.risk.level.as_str(),
            &filed_at,
            &at,
            new.source.as_str(),
            &body,
            &new.body_sha256,
        ],
    )?;
    tx.exec(
        "INSERT INTO case_events (case_id, at, state, posted_by) VALUES (?1, ?2, 'received', 'hub')",
        args![&s.id, &at],
    )?;
    super::district::intake(tx, s)?;
    let service_request_id = tx
        .one(
            "INSERT INTO open311_requests (case_id, form) VALUES (?1, ?2)
             RETURNING service_request_id",
            args![&s.id, &new.open311_form],
        )?
        .int(0)?;
    Ok(Intake::Created(Accepted {
        receipt: receipt(&s.id, s.token.clone(), time_from_db(&at)?),
        service_request_id,
    }))
}

/// The receipt is the same for the first delivery and every replay: the state it reports is
/// the state at intake (the progress endpoint tells the current one).
fn receipt(id: &str, token: String, received_at: DateTime<Utc>) -> CaseReceipt {
    CaseReceipt {
        id: id.to_owned(),
        token,
        received_at,
        state: CaseState::Received,
    }
}

/// A case's progress by its canonical tracking code: [`Damaged`] when its state or filing
/// time does not read back; a step of its timeline that does not is left out (logged).
pub(crate) fn progress(
    db: &mut dyn Db,
    token: &str,
) -> Result<Option<Result<CaseProgress, Damaged>>, HubStoreError> {
    let Some(row) = db.row(
        "SELECT id, state, station_id, service, subtype, filed_at, department, expected_at
         FROM cases WHERE token = ?1",
        args![token],
    )?
    else {
        return Ok(None);
    };
    let (id, state, station_id, service, subtype, filed_at, department, expected_at) = (
        row.text(0)?,
        row.text(1)?,
        row.text(2)?,
        row.text(3)?,
        row.text(4)?,
        row.text(5)?,
        row.opt_text(6)?,
        row.opt_text(7)?,
    );
    let damaged = |column| {
        Ok(Some(Err(Damaged {
            table: "cases",
            column,
        })))
    };
    let Some(state) = read_state("cases", &id, &state) else {
        return damaged("state");
    };
    let Some(filed_at) = read_time("cases", &id, "filed_at", &filed_at) else {
        return damaged("filed_at");
    };
    Ok(Some(Ok(CaseProgress {
        token: token.to_owned(),
        state,
        station_id,
        service,
        subtype,
        filed_at,
        department,
        expected_at: expected_at
            .as_deref()
            .and_then(|t| read_time("cases", &id, "expected_at", t)),
        timeline: timeline(db, &id)?,
    })))
}

fn timeline(db: &mut dyn Db, case_id: &str) -> Result<Vec<TimelineEntry>, HubStoreError> {
    let rows = db.rows(
        "SELECT at, state, note, department, expected_at, id FROM case_events
         WHERE case_id = ?1 ORDER BY id",
        args![case_id],
    )?;
    let mut entries = Vec::new();
    for row in rows {
        let (at, state, note, department, expected_at, id) = (
            row.text(0)?,
            row.text(1)?,
            row.opt_text(2)?,
            row.opt_text(3)?,
            row.opt_text(4)?,
            row.int(5)?,
        );
        // A step without its time or state cannot be placed or said: left out.
        let (Some(at), Some(state)) = (
            read_time("case_events", &id, "at", &at),
            read_state("case_events", &id, &state),
        ) else {
            continue;
        };
        entries.push(TimelineEntry {
            at,
            state,
            note,
            department,
            expected_at: expected_at
                .as_deref()
                .and_then(|t| read_time("case_events", &id, "expected_at", t)),
        });
    }
    Ok(entries)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Update {
    Applied(CaseProgress),
    NotFound,
    /// The case is in a state the update cannot follow (a closed case must be reopened first).
    NotAllowed {
        from: CaseState,
        to: CaseState,
    },
    /// The stored case does not read back: nothing was written.
    Damaged(Damaged),
}

/// Appends a department's step to a case's timeline and moves the case on.
///
/// The step's department is the one the update names, else the department that posted it. The
/// case's handling department becomes the one the update names; when none is named it stays,
/// and a case nobody handled yet is handled by the poster.
pub(crate) fn apply_update(
    tx: &mut dyn Db,
    token: &str,
    update: &StatusUpdate,
    posted_by: &str,
    now: DateTime<Utc>,
) -> Result<Update, HubStoreError> {
    // A case that does not read back whole is not moved on (its page says it is damaged).
    let from = match progress(tx, token)? {
        None => return Ok(Update::NotFound),
        Some(Err(damaged)) => return Ok(Update::Damaged(damaged)),
        Some(Ok(p)) => p.state,
    };
    let row = tx.one(
        "SELECT id, department FROM cases WHERE token = ?1",
        args![token],
    )?;
    let (id, department) = (row.text(0)?, row.opt_text(1)?);
    if !validate::transition_allowed(from, update.state) {
        return Ok(Update::NotAllowed {
            from,
            to: update.state,
        });
    }
    let at = stamp(now);
    let step_department = update.department.as_deref().unwrap_or(posted_by);
    let handling = update
        .department
        .as_deref()
        .or(department.as_deref())
        .unwrap_or(posted_by)
        .to_owned();
    let expected = update.expected_at.map(stamp);
    tx.exec(
        "INSERT INTO case_events (case_id, at, state, note, department, expected_at, posted_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            &id,
            &at,
            update.state.as_str(),
            &update.note,
            step_department,
            &expected,
            posted_by
        ],
    )?;
    tx.exec(
        "UPDATE cases SET state = ?2, department = ?3,
                          expected_at = coalesce(?4, expected_at), updated_at = ?5
         WHERE id = ?1",
        args![&id, update.state.as_str(), &handling, &expected, &at],
    )?;
    // The district's view of the case follows (one truth: a department's API resolving a case
    // makes it rateable, as a result posted on the pages does). `acknowledged` is no stage.
    let stage = match update.state {
        CaseState::Received | CaseState::Acknowledged => None,
        CaseState::Assigned => Some("assigned"),
        CaseState::InProgress => Some("in_progress"),
        CaseState::Resolved => Some("resolved"),
        CaseState::ClosedUnresolved => Some("closed_unresolved"),
        CaseState::Reopened => Some("reopened"),
    };
    if let Some(stage) = stage {
        tx.exec(
            "UPDATE district_cases SET stage = ?2,
                 accepted_at = CASE WHEN ?2 = 'in_progress' THEN COALESCE(accepted_at, ?3)
                                    ELSE accepted_at END,
                 resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 ELSE resolved_at END,
                 closed_at = CASE WHEN ?2 = 'closed_unresolved' THEN ?3 ELSE closed_at END,
                 version = version + 1
             WHERE case_id = ?1",
            args![&id, stage, &at],
        )?;
        super::district::event(
            tx,
            &id,
            &super::district::Step {
                kind: "department_update",
                by: posted_by,
                unit: Some(&handling),
                note: update.note.as_deref(),
                public: true,
            },
            now,
        )?;
    }
    Ok(match progress(tx, token)? {
        Some(Ok(p)) => Update::Applied(p),
        // Unreachable in practice (the state was just read): nothing is kept.
        Some(Err(d)) => return Err(HubStoreError::BadRow(format!("{}.{}", d.table, d.column))),
        None => Update::NotFound,
    })
}

/// A case as the operator page lists it: no personal data. A value that does not read back
/// is `None` (the row is still listed: a red alert is never hidden for a bad value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaseSummary {
    pub(crate) token: String,
    pub(crate) station_id: String,
    pub(crate) service: String,
    pub(crate) subtype: String,
    pub(crate) risk_reasons: Vec<RiskReason>,
    pub(crate) state: Option<CaseState>,
    pub(crate) department: Option<String>,
    pub(crate) expected_at: Option<DateTime<Utc>>,
    pub(crate) received_at: Option<DateTime<Utc>>,
}

/// One page of a list, and how many rows the whole list has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Listed<T> {
    pub(crate) total: u64,
    /// The page's number, from 1, and its rows.
    pub(crate) page: u32,
    pub(crate) rows: Vec<T>,
}

/// Rows on one page of the operator's lists.
pub(crate) const PAGE_SIZE: u32 = 50;

const SUMMARY_COLUMNS: &str = "token, station_id, service, subtype, body,
    state, department, expected_at, received_at, id";
const OPEN: &str = "state NOT IN ('resolved', 'closed_unresolved')";

/// High-risk cases not yet closed, the newest first (the one just filed is never the one
/// pushed off the page): page `page` (from 1) of [`PAGE_SIZE`], and how many there are.
pub(crate) fn open_high_risk(
    db: &mut dyn Db,
    page: u32,
) -> Result<Listed<CaseSummary>, HubStoreError> {
    let filter = format!("risk_level = 'high' AND {OPEN}");
    listed(db, &filter, "received_at DESC, id DESC", page, args![])
}

/// Open cases whose expected date has passed, the most overdue first: page `page` (from 1) of
/// [`PAGE_SIZE`], and how many there are.
pub(crate) fn past_due(
    db: &mut dyn Db,
    now: DateTime<Utc>,
    page: u32,
) -> Result<Listed<CaseSummary>, HubStoreError> {
    let filter = format!("expected_at IS NOT NULL AND expected_at < ?1 AND {OPEN}");
    listed(db, &filter, "expected_at, id", page, args![&stamp(now)])
}

fn listed(
    db: &mut dyn Db,
    filter: &str,
    order: &str,
    page: u32,
    params: &[Value<'_>],
) -> Result<Listed<CaseSummary>, HubStoreError> {
    let total = db
        .one(
            &format!("SELECT count(*) FROM cases WHERE {filter}"),
            params,
        )?
        .int(0)?;
    let page = page.max(1);
    let offset = i64::from(page - 1) * i64::from(PAGE_SIZE);
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM cases WHERE {filter} ORDER BY {order}
         LIMIT {PAGE_SIZE} OFFSET {offset}"
    );
    Ok(Listed {
        total: u64::try_from(total).unwrap_or_default(),
        page,
        rows: summaries(db, &sql, params)?,
    })
}

/// The risk reasons of a stored submission (`body`), read in Rust so that no engine's own
/// JSON functions are needed: `None` when the body or its reasons do not read back.
fn risk_reasons(body: &str) -> Option<Vec<RiskReason>> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    match value.get("risk").and_then(|r| r.get("reasons")) {
        None | Some(serde_json::Value::Null) => Some(Vec::new()),
        Some(reasons) => serde_json::from_value(reasons.clone()).ok(),
    }
}

fn summaries(
    db: &mut dyn Db,
    sql: &str,
    params: &[Value<'_>],
) -> Result<Vec<CaseSummary>, HubStoreError> {
    let mut out = Vec::new();
    for row in db.rows(sql, params)? {
        let (token, station_id, service, subtype, body, state, department, expected, received, id) = (
            row.text(0)?,
            row.text(1)?,
            row.text(2)?,
            row.text(3)?,
            row.opt_text(4)?,
            row.text(5)?,
            row.opt_text(6)?,
            row.opt_text(7)?,
            row.text(8)?,
            row.text(9)?,
        );
        let risk_reasons = match body.as_deref().and_then(risk_reasons) {
            Some(reasons) => reasons,
            None => {
                unreadable("cases", &id, "body.risk.reasons");
                Vec::new()
            }
        };
        out.push(CaseSummary {
            token,
            station_id,
            service,
            subtype,
            risk_reasons,
            state: read_state("cases", &id, &state),
            department,
            expected_at: expected
                .as_deref()
                .and_then(|t| read_time("cases", &id, "expected_at", t)),
            received_at: read_time("cases", &id, "received_at", &received),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_red_alerts_are_counted_and_paged_through_indexes() {
        let dir = tempfile::tempdir().unwrap();
        drop(super::super::HubStore::open(dir.path()).unwrap());
        let conn = rusqlite::Connection::open(dir.path().join(super::super::DB_FILE)).unwrap();
        let filter = format!("risk_level = 'high' AND {OPEN}");
        for sql in [
            format!("SELECT count(*) FROM cases WHERE {filter}"),
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM cases WHERE {filter}
                 ORDER BY received_at DESC, id DESC LIMIT 50"
            ),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter().all(|step| step.contains("USING")),
                "an index, no scan of every case: {sql}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                "sorted by the index, not afterwards: {plan:?}"
            );
        }
    }
}
