//! Cases and their timelines: intake (idempotent), progress, department updates, and the two
//! lists operators watch (high-risk cases still open, cases past their expected date).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::clock::stamp;
use crate::validate;
use domain::{RiskLevel, RiskReason};
use protocol::{CaseProgress, CaseReceipt, CaseState, CaseSubmission, StatusUpdate, TimelineEntry};

use super::{state_from_db, time_from_db, HubStoreError};

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
    /// Another case has this tracking code.
    TokenTaken,
}

/// Stores a case, or recognises a replay of one, in the caller's transaction.
pub(crate) fn intake(
    tx: &Connection,
    new: &NewCase,
    now: DateTime<Utc>,
) -> Result<Intake, HubStoreError> {
    let s = &new.submission;
    let existing = tx
        .query_row(
            "SELECT c.token, c.received_at, c.body_sha256, o.service_request_id
             FROM cases c JOIN open311_requests o ON o.case_id = c.id
             WHERE c.id = ?1",
            [&s.id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .optional()?;
    if let Some((token, received_at, sha, service_request_id)) = existing {
        if sha != new.body_sha256 {
            return Ok(Intake::IdTaken);
        }
        return Ok(Intake::Replayed(Accepted {
            receipt: receipt(&s.id, token, time_from_db(&received_at)?),
            service_request_id,
        }));
    }
    let token_taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM cases WHERE token = ?1)",
        [&s.token],
        |r| r.get(0),
    )?;
    if token_taken {
        return Ok(Intake::TokenTaken);
    }
    let at = stamp(now);
    let body = serde_json::to_string(s).map_err(|e| HubStoreError::BadRow(e.to_string()))?;
    tx.execute(
        "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                            filed_at, received_at, updated_at, source, body, body_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'received', ?7, ?8, ?8, ?9, ?10, ?11)",
        params![
            s.id,
            s.token,
            s.station_id,
            s.service,
            s.subtype,
            s.risk.level.as_str(),
            stamp(s.filed_at),
            at,
            new.source.as_str(),
            body,
            new.body_sha256,
        ],
    )?;
    tx.execute(
        "INSERT INTO case_events (case_id, at, state, posted_by) VALUES (?1, ?2, 'received', 'hub')",
        params![s.id, at],
    )?;
    tx.execute(
        "INSERT INTO open311_requests (case_id, form) VALUES (?1, ?2)",
        params![s.id, new.open311_form],
    )?;
    let service_request_id = tx.last_insert_rowid();
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

/// A case's progress by its canonical tracking code.
pub(crate) fn progress(
    conn: &Connection,
    token: &str,
) -> Result<Option<CaseProgress>, HubStoreError> {
    // Asked on every tracking-page view: prepared once per pooled connection.
    let row = conn
        .prepare_cached(
            "SELECT id, state, station_id, service, subtype, filed_at, department, expected_at
             FROM cases WHERE token = ?1",
        )?
        .query_row([token], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })
        .optional()?;
    let Some((id, state, station_id, service, subtype, filed_at, department, expected_at)) = row
    else {
        return Ok(None);
    };
    Ok(Some(CaseProgress {
        token: token.to_owned(),
        state: state_from_db(&state)?,
        station_id,
        service,
        subtype,
        filed_at: time_from_db(&filed_at)?,
        department,
        expected_at: expected_at.as_deref().map(time_from_db).transpose()?,
        timeline: timeline(conn, &id)?,
    }))
}

fn timeline(conn: &Connection, case_id: &str) -> Result<Vec<TimelineEntry>, HubStoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, state, note, department, expected_at FROM case_events
         WHERE case_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([case_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (at, state, note, department, expected_at) = row?;
        entries.push(TimelineEntry {
            at: time_from_db(&at)?,
            state: state_from_db(&state)?,
            note,
            department,
            expected_at: expected_at.as_deref().map(time_from_db).transpose()?,
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
}

/// Appends a department's step to a case's timeline and moves the case on.
///
/// The step's department is the one the update names, else the department that posted it. The
/// case's handling department becomes the one the update names; when none is named it stays,
/// and a case nobody handled yet is handled by the poster.
pub(crate) fn apply_update(
    tx: &Connection,
    token: &str,
    update: &StatusUpdate,
    posted_by: &str,
    now: DateTime<Utc>,
) -> Result<Update, HubStoreError> {
    let row = tx
        .query_row(
            "SELECT id, state, department FROM cases WHERE token = ?1",
            [token],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((id, state, department)) = row else {
        return Ok(Update::NotFound);
    };
    let from = state_from_db(&state)?;
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
    tx.execute(
        "INSERT INTO case_events (case_id, at, state, note, department, expected_at, posted_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            at,
            update.state.as_str(),
            update.note,
            step_department,
            expected,
            posted_by
        ],
    )?;
    tx.execute(
        "UPDATE cases SET state = ?2, department = ?3,
                          expected_at = coalesce(?4, expected_at), updated_at = ?5
         WHERE id = ?1",
        params![id, update.state.as_str(), handling, expected, at],
    )?;
    Ok(match progress(tx, token)? {
        Some(p) => Update::Applied(p),
        None => Update::NotFound,
    })
}

/// A case as the operator page lists it: no personal data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CaseSummary {
    pub(crate) token: String,
    pub(crate) station_id: String,
    pub(crate) service: String,
    pub(crate) subtype: String,
    pub(crate) risk_level: RiskLevel,
    pub(crate) risk_reasons: Vec<RiskReason>,
    pub(crate) state: CaseState,
    pub(crate) department: Option<String>,
    pub(crate) expected_at: Option<DateTime<Utc>>,
    pub(crate) received_at: DateTime<Utc>,
}

const SUMMARY_COLUMNS: &str = "token, station_id, service, subtype, risk_level,
    json_extract(body, '$.risk.reasons'), state, department, expected_at, received_at";
const OPEN: &str = "state NOT IN ('resolved', 'closed_unresolved')";

/// High-risk cases not yet closed, oldest first: the red alerts.
pub(crate) fn open_high_risk(conn: &Connection) -> Result<Vec<CaseSummary>, HubStoreError> {
    summaries(
        conn,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM cases WHERE risk_level = 'high' AND {OPEN}
             ORDER BY received_at LIMIT 500"
        ),
        params![],
    )
}

/// Open cases whose expected date has passed, most overdue first.
pub(crate) fn past_due(
    conn: &Connection,
    now: DateTime<Utc>,
) -> Result<Vec<CaseSummary>, HubStoreError> {
    summaries(
        conn,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM cases
             WHERE expected_at IS NOT NULL AND expected_at < ?1 AND {OPEN}
             ORDER BY expected_at LIMIT 500"
        ),
        params![stamp(now)],
    )
}

fn summaries(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<CaseSummary>, HubStoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, String>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            token,
            station_id,
            service,
            subtype,
            risk,
            reasons,
            state,
            department,
            expected,
            received,
        ) = row?;
        out.push(CaseSummary {
            token,
            station_id,
            service,
            subtype,
            risk_level: RiskLevel::parse(&risk)
                .ok_or_else(|| HubStoreError::BadRow(format!("unknown risk level `{risk}`")))?,
            risk_reasons: reasons
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| HubStoreError::BadRow(e.to_string()))?
                .unwrap_or_default(),
            state: state_from_db(&state)?,
            department,
            expected_at: expected.as_deref().map(time_from_db).transpose()?,
            received_at: time_from_db(&received)?,
        });
    }
    Ok(out)
}
