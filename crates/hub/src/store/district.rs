//! Each case's place at the district (DISTRICT.md §3–§7): its stage, unit, class and deadlines,
//! its internal timeline, and the orders issued for it. The rules of who may do what are in
//! `domain::workflow`; this file only reads and writes.
//!
//! A change is saved against the version the actor saw ([`save`]): when the case moved since
//! (another dispatcher routed it meanwhile, a form sent twice), nothing is written and the
//! caller tells the actor. A change of the state the citizen sees is also written to the
//! public timeline (`cases.state`, `case_events`), which the tracking page reads.

use chrono::{DateTime, Utc};

use domain::district::HandlingClass;
use domain::workflow::{OrderState, Rating, Stage};

use crate::clock::stamp;

use super::sql::{args, Db, Row, Value};
use super::{time_from_db, HubStoreError};

/// A case as the district works it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DistrictCase {
    pub(crate) id: String,
    pub(crate) token: String,
    pub(crate) station_id: String,
    pub(crate) service: String,
    pub(crate) subtype: String,
    pub(crate) risk: String,
    pub(crate) filed_at: DateTime<Utc>,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) stage: Stage,
    pub(crate) unit: Option<String>,
    pub(crate) class: Option<HandlingClass>,
    pub(crate) routed_at: Option<DateTime<Utc>>,
    pub(crate) accept_by: Option<DateTime<Utc>>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
    pub(crate) resolve_by: Option<DateTime<Utc>>,
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
    pub(crate) returns: i64,
    pub(crate) redo_count: i64,
    pub(crate) extensions: i64,
    pub(crate) extension_until: Option<DateTime<Utc>>,
    pub(crate) extension_reason: Option<String>,
    pub(crate) rating: Option<Rating>,
    pub(crate) rated_at: Option<DateTime<Utc>>,
    pub(crate) version: i64,
}

pub(super) const CASE_COLUMNS: &str =
    "c.id, c.token, c.station_id, c.service, c.subtype, c.risk_level,
    c.filed_at, c.received_at, d.stage, d.unit, d.class, d.routed_at, d.accept_by,
    d.accepted_at, d.resolve_by, d.resolved_at, d.closed_at, d.returns, d.redo_count,
    d.extensions, d.extension_until, d.extension_reason, d.rating, d.rated_at, d.version";

fn opt_time(row: &Row, i: usize) -> Result<Option<DateTime<Utc>>, HubStoreError> {
    row.opt_text(i)?.as_deref().map(time_from_db).transpose()
}

fn bad(what: &str, text: &str) -> HubStoreError {
    HubStoreError::BadRow(format!("unknown {what} `{text}`"))
}

pub(super) fn case_from(row: &Row) -> Result<DistrictCase, HubStoreError> {
    let stage = row.text(8)?;
    Ok(DistrictCase {
        id: row.text(0)?,
        token: row.text(1)?,
        station_id: row.text(2)?,
        service: row.text(3)?,
        subtype: row.text(4)?,
        risk: row.text(5)?,
        filed_at: time_from_db(&row.text(6)?)?,
        received_at: time_from_db(&row.text(7)?)?,
        stage: Stage::parse(&stage).ok_or_else(|| bad("stage", &stage))?,
        unit: row.opt_text(9)?,
        class: match row.opt_text(10)? {
            None => None,
            Some(c) => Some(HandlingClass::parse(&c).ok_or_else(|| bad("class", &c))?),
        },
        routed_at: opt_time(row, 11)?,
        accept_by: opt_time(row, 12)?,
        accepted_at: opt_time(row, 13)?,
        resolve_by: opt_time(row, 14)?,
        resolved_at: opt_time(row, 15)?,
        closed_at: opt_time(row, 16)?,
        returns: row.int(17)?,
        redo_count: row.int(18)?,
        extensions: row.int(19)?,
        extension_until: opt_time(row, 20)?,
        extension_reason: row.opt_text(21)?,
        rating: match row.opt_text(22)? {
            None => None,
            Some(r) => Some(Rating::parse(&r).ok_or_else(|| bad("rating", &r))?),
        },
        rated_at: opt_time(row, 23)?,
        version: row.int(24)?,
    })
}

/// A new case's place at the district: received, nobody's yet; and one more of its kind filed
/// that day at its station (the leaders' rollup). In the intake's transaction.
pub(crate) fn intake(db: &mut dyn Db, s: &protocol::CaseSubmission) -> Result<(), HubStoreError> {
    db.exec(
        "INSERT INTO district_cases (case_id, station_id, service, risk_level, filed_at, stage,
             returns, redo_count, extensions, version)
         VALUES (?1, ?2, ?3, ?4, ?5, 'received', 0, 0, 0, 1)",
        args![
            &s.id,
            &s.station_id,
            &s.service,
            s.risk.level.as_str(),
            &stamp(s.filed_at)
        ],
    )?;
    let day = s
        .filed_at
        .with_timezone(&domain::calendar::china())
        .format("%Y-%m-%d")
        .to_string();
    // The shard: the write's lane, which no other write of this process running now holds,
    // so a burst of one kind at one station adds to different rows (on PostgreSQL concurrent
    // updates of one row fail each other at REPEATABLE READ; with shards by the case id, a
    // burst of eight writers at once ran out of tries). Always 0 on SQLite.
    let shard = db.lane();
    db.exec(
        "INSERT INTO daily_filed (day, station_id, service, subtype, shard, filed)
         VALUES (?1, ?2, ?3, ?4, ?5, 1)
         ON CONFLICT (day, station_id, service, subtype, shard) DO UPDATE
         SET filed = daily_filed.filed + 1",
        args![&day, &s.station_id, &s.service, &s.subtype, shard],
    )?;
    Ok(())
}

/// The case with this tracking code.
pub(crate) fn case(db: &mut dyn Db, token: &str) -> Result<Option<DistrictCase>, HubStoreError> {
    db.row(
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN district_cases d ON d.case_id = c.id
             WHERE c.token = ?1"
        ),
        args![token],
    )?
    .map(|r| case_from(&r))
    .transpose()
}

/// The submission as filed (the resident's personal data): for the unit working the case and
/// the dispatcher only; the caller logs the view.
pub(crate) fn submission(
    db: &mut dyn Db,
    case_id: &str,
) -> Result<Option<protocol::CaseSubmission>, HubStoreError> {
    let Some(row) = db.row("SELECT body FROM cases WHERE id = ?1", args![case_id])? else {
        return Ok(None);
    };
    serde_json::from_str(&row.text(0)?)
        .map(Some)
        .map_err(|e| HubStoreError::BadRow(format!("a case's body does not read back: {e}")))
}

/// The departments ordered to come for a case.
pub(crate) fn ordered_departments(
    db: &mut dyn Db,
    case_id: &str,
) -> Result<Vec<String>, HubStoreError> {
    db.rows(
        "SELECT DISTINCT department FROM orders WHERE case_id = ?1 ORDER BY department",
        args![case_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// One step of the internal timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step<'a> {
    pub(crate) kind: &'a str,
    pub(crate) by: &'a str,
    pub(crate) unit: Option<&'a str>,
    pub(crate) note: Option<&'a str>,
    /// The citizen sees this step (its note on the tracking page).
    pub(crate) public: bool,
}

/// Writes `case` (changed by the caller) if it is still at `seen_version`, with `step` in the
/// timeline; `false` when it moved meanwhile (nothing written).
pub(crate) fn save(
    db: &mut dyn Db,
    case: &DistrictCase,
    seen_version: i64,
    step: &Step<'_>,
    now: DateTime<Utc>,
) -> Result<bool, HubStoreError> {
    let t = |v: &Option<DateTime<Utc>>| v.map(stamp);
    let (routed, accept_by, accepted, resolve_by, resolved, closed, ext_until, rated) = (
        t(&case.routed_at),
        t(&case.accept_by),
        t(&case.accepted_at),
        t(&case.resolve_by),
        t(&case.resolved_at),
        t(&case.closed_at),
        t(&case.extension_until),
        t(&case.rated_at),
    );
    let changed = db.exec(
        "UPDATE district_cases SET stage = ?3, unit = ?4, class = ?5, routed_at = ?6,
             accept_by = ?7, accepted_at = ?8, resolve_by = ?9, resolved_at = ?10,
             closed_at = ?11, returns = ?12, redo_count = ?13, extensions = ?14,
             extension_until = ?15, extension_reason = ?16, rating = ?17, rated_at = ?18,
             version = version + 1
         WHERE case_id = ?1 AND version = ?2",
        args![
            &case.id,
            seen_version,
            case.stage.as_str(),
            &case.unit,
            case.class.map(HandlingClass::as_str),
            &routed,
            &accept_by,
            &accepted,
            &resolve_by,
            &resolved,
            &closed,
            case.returns,
            case.redo_count,
            case.extensions,
            &ext_until,
            &case.extension_reason,
            case.rating.map(Rating::as_str),
            &rated,
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    event(db, &case.id, step, now)?;
    record_dispatch(db, case, step.kind, now)?;
    // What the citizen sees: the public state, and the public steps' notes.
    let public = case.stage.public_state();
    let before = db
        .one("SELECT state FROM cases WHERE id = ?1", args![&case.id])?
        .text(0)?;
    if before != public || step.public {
        db.exec(
            "UPDATE cases SET state = ?2, updated_at = ?3 WHERE id = ?1",
            args![&case.id, public, &stamp(now)],
        )?;
        let note = if step.public { step.note } else { None };
        db.exec(
            "INSERT INTO case_events (case_id, at, state, note, posted_by)
             VALUES (?1, ?2, ?3, ?4, 'district')",
            args![&case.id, &stamp(now), public, note],
        )?;
    }
    Ok(true)
}

/// Keeps the scorecards' dispatches (DISTRICT.md §8) with the case, in [`save`]'s transaction:
/// a routing (or a reopening, which sends the case back to its unit) starts a dispatch, and
/// what the unit does with it is written on its latest one.
fn record_dispatch(
    db: &mut dyn Db,
    case: &DistrictCase,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let at = now.timestamp();
    let latest = "WHERE case_id = ?1 AND ended_at IS NULL
                  AND seq = (SELECT max(seq) FROM dispatches WHERE case_id = ?1)";
    let ends = |db: &mut dyn Db, column: &str| {
        db.exec(
            &format!("UPDATE dispatches SET {column} = ?2, ended_at = ?2 {latest}"),
            args![&case.id, at],
        )
    };
    match kind {
        "routed" => start_dispatch(db, case)?,
        "accepted" => {
            db.exec(
                &format!("UPDATE dispatches SET accepted_at = ?2 {latest}"),
                args![&case.id, at],
            )?;
        }
        "extended" => {
            if let Some(by) = case.resolve_by {
                db.exec(
                    &format!("UPDATE dispatches SET resolve_by = ?2 {latest}"),
                    args![&case.id, by.timestamp()],
                )?;
            }
        }
        "returned" => {
            ends(db, "returned_at")?;
        }
        "resolved" => {
            ends(db, "resolved_at")?;
        }
        "closed_unresolved" => {
            ends(db, "closed_at")?;
        }
        "rating" => {
            let reopened = case.stage == Stage::Reopened;
            db.exec(
                "UPDATE dispatches SET rating = ?2, reopened = ?3
                 WHERE case_id = ?1 AND resolved_at IS NOT NULL
                   AND seq = (SELECT max(seq) FROM dispatches WHERE case_id = ?1)",
                args![
                    &case.id,
                    case.rating.map(Rating::as_str),
                    i64::from(reopened)
                ],
            )?;
            if reopened {
                start_dispatch(db, case)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A new dispatch of `case` to its unit, from its routing time and deadlines.
fn start_dispatch(db: &mut dyn Db, case: &DistrictCase) -> Result<(), HubStoreError> {
    let (Some(unit), Some(routed), Some(accept_by), Some(resolve_by)) = (
        case.unit.as_deref(),
        case.routed_at,
        case.accept_by,
        case.resolve_by,
    ) else {
        return Ok(());
    };
    db.exec(
        "INSERT INTO dispatches (case_id, seq, unit, filed_at, dispatched_at, accept_by,
             resolve_by, reopened)
         SELECT ?1, COALESCE(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, 0
         FROM dispatches WHERE case_id = ?1",
        args![
            &case.id,
            unit,
            case.filed_at.timestamp(),
            routed.timestamp(),
            accept_by.timestamp(),
            resolve_by.timestamp()
        ],
    )?;
    Ok(())
}

/// The dispatches a scorecard of `[from, to)` needs: those made in the period, and those made
/// before it that had not ended by its start (they may end in it, or sit in it overdue). Each
/// part is one index's range (the unary `+` keeps SQLite off the other column's index, which
/// would walk every dispatch before the period).
pub(crate) fn dispatch_facts(
    db: &mut dyn Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<domain::scorecard::Dispatch>, HubStoreError> {
    let (from, to) = (from.timestamp(), to.timestamp());
    let columns = "unit, filed_at, dispatched_at, accept_by, accepted_at, returned_at,
        resolve_by, resolved_at, closed_at, rating, reopened";
    let rows = db.rows(
        &format!(
            "SELECT {columns} FROM dispatches WHERE dispatched_at >= ?1 AND dispatched_at < ?2
             UNION ALL
             SELECT {columns} FROM dispatches WHERE ended_at >= ?1 AND +dispatched_at < ?1
             UNION ALL
             SELECT {columns} FROM dispatches WHERE ended_at IS NULL AND dispatched_at < ?1"
        ),
        args![from, to],
    )?;
    let instant = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .ok_or_else(|| HubStoreError::BadRow(format!("unreadable time {seconds}")))
    };
    rows.iter()
        .map(|r| {
            let time = |i: usize| instant(r.int(i)?);
            let opt = |i: usize| r.opt_int(i)?.map(instant).transpose();
            Ok(domain::scorecard::Dispatch {
                unit: r.text(0)?,
                filed_at: time(1)?,
                dispatched_at: time(2)?,
                accept_by: time(3)?,
                accepted_at: opt(4)?,
                returned_at: opt(5)?,
                resolve_by: time(6)?,
                resolved_at: opt(7)?,
                closed_at: opt(8)?,
                rating: match r.opt_text(9)? {
                    None => None,
                    Some(t) => Some(Rating::parse(&t).ok_or_else(|| bad("rating", &t))?),
                },
                reopened: r.flag(10)?,
            })
        })
        .collect()
}

/// The orders a scorecard of `[from, to)` counts: those issued in it.
pub(crate) fn order_facts(
    db: &mut dyn Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<domain::scorecard::OrderFacts>, HubStoreError> {
    db.rows(
        "SELECT department, issued_at, arrive_by, arrived_at FROM orders
         WHERE issued_at >= ?1 AND issued_at < ?2",
        args![&stamp(from), &stamp(to)],
    )?
    .iter()
    .map(|r| {
        Ok(domain::scorecard::OrderFacts {
            department: r.text(0)?,
            issued_at: time_from_db(&r.text(1)?)?,
            arrive_by: time_from_db(&r.text(2)?)?,
            arrived_at: opt_time(r, 3)?,
        })
    })
    .collect()
}

/// What the citizen's page says of who handles the case and by when: the unit's name and the
/// resolve deadline (also Open311's `agency_responsible` and `expected_datetime`).
pub(crate) fn set_public_handler(
    db: &mut dyn Db,
    case_id: &str,
    unit_name: Option<&str>,
    expected: Option<DateTime<Utc>>,
) -> Result<(), HubStoreError> {
    let expected = expected.map(stamp);
    db.exec(
        "UPDATE cases SET department = ?2, expected_at = ?3 WHERE id = ?1",
        args![case_id, unit_name, &expected],
    )?;
    Ok(())
}

/// Adds a step to a case's internal timeline (for steps that change nothing else: a note, a
/// view, a chase).
pub(crate) fn event(
    db: &mut dyn Db,
    case_id: &str,
    step: &Step<'_>,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    db.exec(
        "INSERT INTO district_events (case_id, at, kind, by_user, unit, note, public)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            case_id,
            &stamp(now),
            step.kind,
            step.by,
            step.unit,
            step.note,
            i64::from(step.public)
        ],
    )?;
    Ok(())
}

/// A step of the internal timeline, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) at: DateTime<Utc>,
    pub(crate) kind: String,
    pub(crate) by: String,
    pub(crate) unit: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) public: bool,
}

/// A case's internal timeline, oldest first.
pub(crate) fn timeline(db: &mut dyn Db, case_id: &str) -> Result<Vec<Event>, HubStoreError> {
    db.rows(
        "SELECT at, kind, by_user, unit, note, public FROM district_events
         WHERE case_id = ?1 ORDER BY id",
        args![case_id],
    )?
    .iter()
    .map(|r| {
        Ok(Event {
            at: time_from_db(&r.text(0)?)?,
            kind: r.text(1)?,
            by: r.text(2)?,
            unit: r.opt_text(3)?,
            note: r.opt_text(4)?,
            public: r.flag(5)?,
        })
    })
    .collect()
}

/// `[from, to)`.
pub(crate) type Between = (DateTime<Utc>, DateTime<Utc>);

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Assigned to this unit.
    pub(crate) unit: Option<String>,
    /// In one of these stages (none: any).
    pub(crate) stages: Vec<Stage>,
    /// Filed at one of these stations (a community's or a street's view).
    pub(crate) stations: Option<Vec<String>>,
    /// Past a deadline at this instant: not accepted by `accept_by`, or open past `resolve_by`.
    pub(crate) overdue_at: Option<DateTime<Utc>>,
    /// Only cases that were returned at least once (the desk's "returned").
    pub(crate) returned: bool,
    /// With an extension asked for and not decided.
    pub(crate) extension_asked: bool,
    /// Of this service (its code).
    pub(crate) service: Option<String>,
    /// Of this handling class.
    pub(crate) class: Option<HandlingClass>,
    /// Of this risk level (`high`, `elevated`, `normal`).
    pub(crate) risk: Option<String>,
    /// Filed in `[from, to)`.
    pub(crate) filed: Option<Between>,
    /// Resolved in `[from, to)`.
    pub(crate) resolved: Option<Between>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

/// A list's cases, the soonest deadline first (a case with none, the oldest first), and how
/// many match in all.
pub(crate) fn list(
    db: &mut dyn Db,
    filter: &Filter,
) -> Result<(Vec<DistrictCase>, i64), HubStoreError> {
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let param = |values: &mut Vec<String>, v: String| {
        values.push(v);
        format!("?{}", values.len())
    };
    if let Some(unit) = &filter.unit {
        let p = param(&mut values, unit.clone());
        conditions.push(format!("d.unit = {p}"));
    }
    if !filter.stages.is_empty() {
        let ps: Vec<String> = filter
            .stages
            .iter()
            .map(|s| param(&mut values, s.as_str().to_owned()))
            .collect();
        conditions.push(format!("d.stage IN ({})", ps.join(", ")));
    }
    if let Some(stations) = &filter.stations {
        if stations.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let ps: Vec<String> = stations
            .iter()
            .map(|s| param(&mut values, s.clone()))
            .collect();
        conditions.push(format!("d.station_id IN ({})", ps.join(", ")));
    }
    if let Some(at) = filter.overdue_at {
        let p = param(&mut values, stamp(at));
        conditions.push(format!(
            "d.stage IN ('assigned', 'in_progress', 'reopened')
             AND ((d.accepted_at IS NULL AND d.accept_by < {p}) OR d.resolve_by < {p})"
        ));
    }
    if filter.returned {
        conditions.push("d.returns > 0".into());
    }
    if filter.extension_asked {
        conditions.push("d.extension_until IS NOT NULL".into());
    }
    if let Some(service) = &filter.service {
        let p = param(&mut values, service.clone());
        conditions.push(format!("d.service = {p}"));
    }
    if let Some(class) = filter.class {
        let p = param(&mut values, class.as_str().to_owned());
        conditions.push(format!("d.class = {p}"));
    }
    if let Some(risk) = &filter.risk {
        let p = param(&mut values, risk.clone());
        conditions.push(format!("d.risk_level = {p}"));
    }
    if let Some((from, to)) = filter.filed {
        let (a, b) = (
            param(&mut values, stamp(from)),
            param(&mut values, stamp(to)),
        );
        conditions.push(format!("d.filed_at >= {a} AND d.filed_at < {b}"));
    }
    if let Some((from, to)) = filter.resolved {
        let (a, b) = (
            param(&mut values, stamp(from)),
            param(&mut values, stamp(to)),
        );
        conditions.push(format!("d.resolved_at >= {a} AND d.resolved_at < {b}"));
    }
    let wh = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let bound: Vec<Value<'_>> = values.iter().map(|v| Value::Text(v)).collect();
    // Every condition is on `district_cases` (which holds what the lists filter on of the case
    // as filed): the count and the page are found there, by its indexes, and only the page's
    // rows are joined to their cases.
    let from = format!("(SELECT * FROM district_cases d {wh})");
    let total = db
        .one(&format!("SELECT count(*) FROM {from} d"), &bound)?
        .int(0)?;
    let mut page_args = bound.clone();
    page_args.push(Value::Int(filter.limit.max(1)));
    page_args.push(Value::Int(filter.offset.max(0)));
    let n = bound.len();
    // The nearest deadline first; cases without one last; then in the order they came (a
    // case's id is a UUIDv7, its time first).
    let order = "COALESCE(d.resolve_by, '9999'), d.case_id";
    let rows = db.rows(
        &format!(
            "SELECT {CASE_COLUMNS} FROM
               (SELECT * FROM {from} d ORDER BY {order} LIMIT ?{} OFFSET ?{}) d
             JOIN cases c ON c.id = d.case_id
             ORDER BY {order}",
            n + 1,
            n + 2
        ),
        &page_args,
    )?;
    let cases = rows.iter().map(case_from).collect::<Result<_, _>>()?;
    Ok((cases, total))
}

/// An order (发令).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    pub(crate) id: i64,
    pub(crate) number: String,
    pub(crate) case_id: String,
    pub(crate) token: String,
    pub(crate) community: String,
    pub(crate) department: String,
    pub(crate) need: String,
    pub(crate) place: String,
    pub(crate) arrive_by: DateTime<Utc>,
    pub(crate) staff: i64,
    pub(crate) reply_by: DateTime<Utc>,
    pub(crate) state: OrderState,
    pub(crate) issued_by: String,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
    pub(crate) arrived_at: Option<DateTime<Utc>>,
    pub(crate) people: Vec<String>,
    pub(crate) confirmed_at: Option<DateTime<Utc>>,
}

/// What an order says when it is issued.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewOrder {
    pub(crate) department: String,
    pub(crate) need: String,
    pub(crate) place: String,
    pub(crate) arrive_by: DateTime<Utc>,
    pub(crate) staff: i64,
    pub(crate) reply_by: DateTime<Utc>,
}

/// Whose numbering an order takes: the issuing community's, by year (`东湖一社〔2026〕3号`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Numbering<'a> {
    pub(crate) community: &'a str,
    pub(crate) prefix: &'a str,
    pub(crate) year: i32,
}

const ORDER_COLUMNS: &str = "o.id, o.number, o.case_id, c.token, o.community, o.department,
    o.need, o.place, o.arrive_by, o.staff, o.reply_by, o.state, o.issued_by, o.issued_at,
    o.accepted_at, o.arrived_at, o.people, o.confirmed_at";

fn order_from(row: &Row) -> Result<Order, HubStoreError> {
    let state = row.text(11)?;
    let people = match row.opt_text(16)? {
        None => Vec::new(),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| HubStoreError::BadRow(format!("an order's people: {e}")))?,
    };
    Ok(Order {
        id: row.int(0)?,
        number: row.text(1)?,
        case_id: row.text(2)?,
        token: row.text(3)?,
        community: row.text(4)?,
        department: row.text(5)?,
        need: row.text(6)?,
        place: row.text(7)?,
        arrive_by: time_from_db(&row.text(8)?)?,
        staff: row.int(9)?,
        reply_by: time_from_db(&row.text(10)?)?,
        state: OrderState::parse(&state).ok_or_else(|| bad("order state", &state))?,
        issued_by: row.text(12)?,
        issued_at: time_from_db(&row.text(13)?)?,
        accepted_at: opt_time(row, 14)?,
        arrived_at: opt_time(row, 15)?,
        people,
        confirmed_at: opt_time(row, 17)?,
    })
}

/// Stores a new order with the community's next number for the year; returns its id and
/// number.
pub(crate) fn issue_order(
    db: &mut dyn Db,
    case_id: &str,
    numbering: Numbering<'_>,
    order: &NewOrder,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(i64, String), HubStoreError> {
    let Numbering {
        community,
        prefix,
        year,
    } = numbering;
    let serial = db
        .one(
            "INSERT INTO order_serials (community, year, last) VALUES (?1, ?2, 1)
             ON CONFLICT (community, year) DO UPDATE SET last = order_serials.last + 1
             RETURNING last",
            args![community, i64::from(year)],
        )?
        .int(0)?;
    let number = domain::district::order_number(prefix, year, serial);
    let id = db
        .one(
            "INSERT INTO orders (number, case_id, community, department, need, place, arrive_by,
                                 staff, reply_by, state, issued_by, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'issued', ?10, ?11)
             RETURNING id",
            args![
                &number,
                case_id,
                community,
                &order.department,
                &order.need,
                &order.place,
                &stamp(order.arrive_by),
                order.staff,
                &stamp(order.reply_by),
                by,
                &stamp(now)
            ],
        )?
        .int(0)?;
    Ok((id, number))
}

pub(crate) fn order(db: &mut dyn Db, id: i64) -> Result<Option<Order>, HubStoreError> {
    db.row(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders o JOIN cases c ON c.id = o.case_id
             WHERE o.id = ?1"
        ),
        args![id],
    )?
    .map(|r| order_from(&r))
    .transpose()
}

/// A case's orders, oldest first.
pub(crate) fn orders_of_case(db: &mut dyn Db, case_id: &str) -> Result<Vec<Order>, HubStoreError> {
    db.rows(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders o JOIN cases c ON c.id = o.case_id
             WHERE o.case_id = ?1 ORDER BY o.id"
        ),
        args![case_id],
    )?
    .iter()
    .map(order_from)
    .collect()
}

/// The orders not yet confirmed that a unit received (a department) or issued (a community),
/// the soonest arrival first.
pub(crate) fn open_orders(
    db: &mut dyn Db,
    unit: &str,
    issued: bool,
) -> Result<Vec<Order>, HubStoreError> {
    let column = if issued {
        "o.community"
    } else {
        "o.department"
    };
    db.rows(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders o JOIN cases c ON c.id = o.case_id
             WHERE {column} = ?1 AND o.state <> 'confirmed' ORDER BY o.arrive_by, o.id"
        ),
        args![unit],
    )?
    .iter()
    .map(order_from)
    .collect()
}

/// Moves an order from `from` to `to` (with the arrival's people and time for `arrived`);
/// `false` when it was no longer in `from` (someone else moved it meanwhile).
pub(crate) fn move_order(
    db: &mut dyn Db,
    id: i64,
    from: OrderState,
    to: OrderState,
    at: DateTime<Utc>,
    people: Option<&[String]>,
) -> Result<bool, HubStoreError> {
    let column = match to {
        OrderState::Accepted => "accepted_at",
        OrderState::Arrived => "arrived_at",
        OrderState::Confirmed => "confirmed_at",
        OrderState::Issued => return Ok(false),
    };
    let people = people
        .map(|p| serde_json::to_string(p).map_err(|e| HubStoreError::BadRow(e.to_string())))
        .transpose()?;
    let changed = db.exec(
        &format!(
            "UPDATE orders SET state = ?3, {column} = ?4, people = COALESCE(?5, people)
             WHERE id = ?1 AND state = ?2"
        ),
        args![id, from.as_str(), to.as_str(), &stamp(at), &people],
    )?;
    Ok(changed == 1)
}

/// The cases whose next reminder, chase or supervision is due at `now`, the most overdue
/// first (at most `limit`).
pub(crate) fn due_cases(
    db: &mut dyn Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, HubStoreError> {
    db.rows(
        "SELECT c.token FROM district_cases d JOIN cases c ON c.id = d.case_id
         WHERE d.next_step_at IS NOT NULL AND d.next_step_at <= ?1
         ORDER BY d.next_step_at, d.case_id LIMIT ?2",
        args![&stamp(now), limit],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// The steps already raised for a case: (deadline, its due time, step).
pub(crate) fn steps_done(
    db: &mut dyn Db,
    case_id: &str,
) -> Result<Vec<(String, String, String)>, HubStoreError> {
    db.rows(
        "SELECT deadline, due, step FROM deadline_steps WHERE case_id = ?1",
        args![case_id],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?)))
    .collect()
}

/// Records that a step was raised; `false` when it already was (it is never raised twice).
pub(crate) fn record_step(
    db: &mut dyn Db,
    case_id: &str,
    deadline: &str,
    due: DateTime<Utc>,
    step: &str,
    at: DateTime<Utc>,
) -> Result<bool, HubStoreError> {
    let inserted = db.exec(
        "INSERT INTO deadline_steps (case_id, deadline, due, step, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (case_id, deadline, due, step) DO NOTHING",
        args![case_id, deadline, &stamp(due), step, &stamp(at)],
    )?;
    Ok(inserted == 1)
}

/// When the case's next step falls (`None`: no deadline is running). Not a change of the case:
/// its version stays, so a form shown before stays good.
pub(crate) fn set_next_step(
    db: &mut dyn Db,
    case_id: &str,
    at: Option<DateTime<Utc>>,
) -> Result<(), HubStoreError> {
    let at = at.map(stamp);
    db.exec(
        "UPDATE district_cases SET next_step_at = ?2 WHERE case_id = ?1",
        args![case_id, &at],
    )?;
    Ok(())
}

/// A message for a unit's webhook, sent by the hub's deliverer (never personal data).
pub(crate) fn enqueue_webhook(
    db: &mut dyn Db,
    unit: &str,
    url: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    db.exec(
        "INSERT INTO webhook_outbox (unit, url, body, created_at, attempts, next_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?4)",
        args![unit, url, body, &stamp(now)],
    )?;
    Ok(())
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) id: i64,
    pub(crate) url: String,
    pub(crate) body: String,
    pub(crate) attempts: i64,
}

/// Takes up to `limit` messages due at `now` for this process until `lease_until` (another
/// process then leaves them alone while they are being sent).
pub(crate) fn claim_webhooks(
    db: &mut dyn Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Outgoing>, HubStoreError> {
    let rows = db.rows(
        "SELECT id, url, body, attempts FROM webhook_outbox
         WHERE delivered_at IS NULL AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
        args![&stamp(now), limit],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r.int(0)?;
        db.exec(
            "UPDATE webhook_outbox SET next_at = ?2 WHERE id = ?1",
            args![id, &stamp(lease_until)],
        )?;
        out.push(Outgoing {
            id,
            url: r.text(1)?,
            body: r.text(2)?,
            attempts: r.int(3)?,
        });
    }
    Ok(out)
}

/// How a sending ended: delivered, or failed (to be tried again at `next_at`, or never again).
pub(crate) fn webhook_sent(
    db: &mut dyn Db,
    id: i64,
    at: DateTime<Utc>,
    failure: Option<(&str, Option<DateTime<Utc>>)>,
) -> Result<(), HubStoreError> {
    match failure {
        None => db.exec(
            "UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL
             WHERE id = ?1",
            args![id, &stamp(at)],
        )?,
        Some((error, next)) => {
            // Given up: it stays with its error, due never again.
            let next = stamp(next.unwrap_or_else(|| at + chrono::Duration::days(36_500)));
            db.exec(
                "UPDATE webhook_outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3
                 WHERE id = ?1",
                args![id, &next, error],
            )?
        }
    };
    Ok(())
}
