//! What the leaders' page counts (DISTRICT.md §9): the day's figures, what is open and overdue
//! by station, the kinds filed by station (the risk map's repeats) and the daily trend by
//! service (both from `daily_filed`, the rollup intake keeps), the oldest open cases and the
//! overdue orders. Each is one indexed query whose answer is a handful of rows per station,
//! service or day, never a row per case, so the page stays small and fast at a province's
//! volume; the office ([`crate::office::leaders`]) turns stations into
//! communities and streets through the district's tree.

use chrono::{DateTime, Utc};

use crate::clock::stamp;

use super::district::{DistrictCase, CASE_COLUMNS};
use super::sql::{args, Db};
use super::HubStoreError;

/// The stages in which a case is still to be worked.
pub(crate) const OPEN_STAGES: &str = "('received', 'assigned', 'in_progress', 'reopened')";

/// One station's open cases by risk and how many of them are past a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct OpenAtStation {
    pub(crate) station_id: String,
    pub(crate) open: u32,
    pub(crate) high: u32,
    pub(crate) elevated: u32,
    pub(crate) overdue: u32,
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Open cases by station at `now`: all, high risk, elevated risk, past a deadline (not accepted
/// by its accept deadline, or not resolved by its resolve deadline).
pub(crate) fn open_by_station(
    db: &mut dyn Db,
    now: DateTime<Utc>,
) -> Result<Vec<OpenAtStation>, HubStoreError> {
    db.rows(
        &format!(
            "SELECT station_id, count(*),
                    count(*) FILTER (WHERE risk_level = 'high'),
                    count(*) FILTER (WHERE risk_level = 'elevated'),
                    count(*) FILTER (WHERE (accepted_at IS NULL AND accept_by < ?1)
                        OR resolve_by < ?1)
             FROM district_cases WHERE stage IN {OPEN_STAGES}
             GROUP BY station_id"
        ),
        args![&stamp(now)],
    )?
    .iter()
    .map(|r| {
        Ok(OpenAtStation {
            station_id: r.text(0)?,
            open: count(r.int(1)?),
            high: count(r.int(2)?),
            elevated: count(r.int(3)?),
            overdue: count(r.int(4)?),
        })
    })
    .collect()
}

/// How many cases of each kind (service and sub-type) each station filed from the local day
/// `since` (`2026-06-02`) on, from the daily rollup.
pub(crate) fn kinds_by_station(
    db: &mut dyn Db,
    since: &str,
) -> Result<Vec<(String, String, String, u32)>, HubStoreError> {
    db.rows(
        "SELECT station_id, service, subtype, CAST(sum(filed) AS BIGINT) FROM daily_filed
         WHERE day >= ?1 GROUP BY station_id, service, subtype",
        args![since],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)?, r.text(2)?, count(r.int(3)?))))
    .collect()
}

/// Cases filed each local day from `since` on, by service, from the daily rollup.
pub(crate) fn filed_by_day(
    db: &mut dyn Db,
    since: &str,
) -> Result<Vec<(String, String, u32)>, HubStoreError> {
    db.rows(
        "SELECT day, service, CAST(sum(filed) AS BIGINT) FROM daily_filed WHERE day >= ?1
         GROUP BY day, service",
        args![since],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)?, count(r.int(2)?))))
    .collect()
}

/// The day's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Day {
    pub(crate) filed: u32,
    pub(crate) resolved: u32,
    /// Filed in the day and resolved in it.
    pub(crate) same_day: u32,
}

/// Filed, resolved and resolved-the-same-day counts of `[from, to)`.
pub(crate) fn day(
    db: &mut dyn Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Day, HubStoreError> {
    let (from, to) = (stamp(from), stamp(to));
    let filed = db
        .one(
            "SELECT count(*) FROM cases WHERE filed_at >= ?1 AND filed_at < ?2",
            args![&from, &to],
        )?
        .int(0)?;
    let row = db.one(
        "SELECT count(*), count(*) FILTER (WHERE filed_at >= ?1) FROM district_cases
         WHERE resolved_at >= ?1 AND resolved_at < ?2",
        args![&from, &to],
    )?;
    Ok(Day {
        filed: count(filed),
        resolved: count(row.int(0)?),
        same_day: count(row.int(1)?),
    })
}

/// The `limit` open cases that came in first.
pub(crate) fn oldest_open(db: &mut dyn Db, limit: i64) -> Result<Vec<DistrictCase>, HubStoreError> {
    db.rows(
        &format!(
            "SELECT {CASE_COLUMNS} FROM
               (SELECT * FROM district_cases WHERE stage IN {OPEN_STAGES}
                ORDER BY case_id LIMIT ?1) d
             JOIN cases c ON c.id = d.case_id ORDER BY d.case_id"
        ),
        args![limit],
    )?
    .iter()
    .map(super::district::case_from)
    .collect()
}

/// An order not arrived by the time it set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LateOrder {
    pub(crate) id: i64,
    pub(crate) number: String,
    pub(crate) department: String,
    pub(crate) arrive_by: DateTime<Utc>,
}

/// Orders not arrived by the time they set, at `now`, the longest missed first (50 at most).
pub(crate) fn late_orders(
    db: &mut dyn Db,
    now: DateTime<Utc>,
) -> Result<Vec<LateOrder>, HubStoreError> {
    db.rows(
        "SELECT id, number, department, arrive_by FROM orders
         WHERE state IN ('issued', 'accepted') AND arrive_by < ?1 ORDER BY arrive_by LIMIT 50",
        args![&stamp(now)],
    )?
    .iter()
    .map(|r| {
        Ok(LateOrder {
            id: r.int(0)?,
            number: r.text(1)?,
            department: r.text(2)?,
            arrive_by: super::time_from_db(&r.text(3)?)?,
        })
    })
    .collect()
}
