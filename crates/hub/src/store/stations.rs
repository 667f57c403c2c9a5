//! Stations as the operator page sees them: the newest heartbeat of each, how many of its
//! cases are open, high-risk or past their expected date, and a bounded history of when it was
//! heard (an hour a row, [`HISTORY_DAYS`] kept), so that 30,000 stations beating every minute
//! add rows per hour, not per beat, and the table stops growing after a week.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use protocol::{Heartbeat, PrinterReport};

use super::cases::{read_time, unreadable};
use super::sql::{args, Db};
use super::HubStoreError;

/// Keeps the newest heartbeat of the station (by the kiosk's `sent_at`, since the outbox may
/// deliver an old one late) and notes that the station was heard from now.
pub(crate) fn record_heartbeat(
    tx: &mut dyn Db,
    heartbeat: &Heartbeat,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let body =
        serde_json::to_string(heartbeat).map_err(|e| HubStoreError::BadRow(e.to_string()))?;
    tx.exec(
        "INSERT INTO heartbeats (station_id, sent_at, received_at, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (station_id) DO UPDATE SET
             received_at = CASE WHEN excluded.received_at > heartbeats.received_at
                                THEN excluded.received_at ELSE heartbeats.received_at END,
             body = CASE WHEN excluded.sent_at >= heartbeats.sent_at
                         THEN excluded.body ELSE heartbeats.body END,
             sent_at = CASE WHEN excluded.sent_at > heartbeats.sent_at
                            THEN excluded.sent_at ELSE heartbeats.sent_at END",
        args![
            &heartbeat.station_id,
            &stamp(heartbeat.sent_at),
            &stamp(now),
            &body
        ],
    )?;
    let printer_fault = !matches!(
        PrinterReport::parse(&heartbeat.printer_state),
        Some(PrinterReport::Ready | PrinterReport::NearEnd)
    );
    tx.exec(
        "INSERT INTO heartbeat_hours (station_id, hour, beats, printer_faults, outbox_pending_max)
         VALUES (?1, ?2, 1, ?3, ?4)
         ON CONFLICT (station_id, hour) DO UPDATE SET
             beats = heartbeat_hours.beats + 1,
             printer_faults = heartbeat_hours.printer_faults + excluded.printer_faults,
             outbox_pending_max = CASE
                 WHEN excluded.outbox_pending_max > heartbeat_hours.outbox_pending_max
                 THEN excluded.outbox_pending_max ELSE heartbeat_hours.outbox_pending_max END",
        args![
            &heartbeat.station_id,
            &hour_of(now),
            i64::from(printer_fault),
            i64::from(heartbeat.outbox_pending)
        ],
    )?;
    Ok(())
}

/// How long the heartbeats' hourly history is kept.
pub(crate) const HISTORY_DAYS: i64 = 7;

/// The history's key for the hour holding `at`: `2026-06-02T10` (UTC; sorts as it reads).
pub(crate) fn hour_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H").to_string()
}

/// Forgets the history's hours older than [`HISTORY_DAYS`] before `now` (a periodic job);
/// returns how many rows went.
pub(crate) fn prune_history(db: &mut dyn Db, now: DateTime<Utc>) -> Result<u64, HubStoreError> {
    db.exec(
        "DELETE FROM heartbeat_hours WHERE hour < ?1",
        args![&hour_of(now - chrono::Duration::days(HISTORY_DAYS))],
    )
}

/// Per station, over the 24 hours up to `now` (the current one included): in how many hours it
/// was heard, and how many hours there are from the first of them to now (a station that never
/// missed an hour has the two equal, even one installed this morning).
pub(crate) fn hours_heard(
    db: &mut dyn Db,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, (u32, u32)>, HubStoreError> {
    let since = hour_of(now - chrono::Duration::hours(23));
    let current = now.timestamp() / 3600;
    let mut heard = BTreeMap::new();
    for row in db.rows(
        "SELECT station_id, count(*), min(hour) FROM heartbeat_hours WHERE hour >= ?1
         GROUP BY station_id",
        args![&since],
    )? {
        let first = chrono::NaiveDateTime::parse_from_str(
            &format!("{}:00", row.text(2)?),
            "%Y-%m-%dT%H:%M",
        )
        .map(|t| t.and_utc().timestamp() / 3600)
        .unwrap_or(current - 23);
        let span = u32::try_from(current - first + 1)
            .unwrap_or(24)
            .clamp(1, 24);
        let hours = u32::try_from(row.int(1)?).unwrap_or(u32::MAX);
        heard.insert(row.text(0)?, (hours, span.max(hours)));
    }
    Ok(heard)
}

/// One station's line on the operator page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StationHealth {
    pub(crate) station_id: String,
    /// When the hub last heard from it, and the newest heartbeat it sent.
    pub(crate) last_heartbeat: Option<(DateTime<Utc>, Heartbeat)>,
    /// In how many of the last 24 hours it was heard, of how many since it was first heard in
    /// them (the history).
    pub(crate) hours_heard: (u32, u32),
    pub(crate) open_cases: u32,
    pub(crate) open_high_risk: u32,
    pub(crate) past_due: u32,
}

/// Every station that has a token (`known`), has sent a heartbeat or has filed a case, with its
/// open cases counted.
pub(crate) fn overview(
    db: &mut dyn Db,
    known: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<StationHealth>, HubStoreError> {
    let mut stations = heard(db, known, now)?;
    let rows = db.rows(
        "SELECT station_id, count(*),
                count(*) FILTER (WHERE risk_level = 'high'),
                count(*) FILTER (WHERE expected_at IS NOT NULL AND expected_at < ?1)
         FROM cases WHERE state NOT IN ('resolved', 'closed_unresolved')
         GROUP BY station_id",
        args![&stamp(now)],
    )?;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    for row in rows {
        let (id, open, high, due) = (
            row.text(0)?,
            count(row.int(1)?),
            count(row.int(2)?),
            count(row.int(3)?),
        );
        let s = stations.entry(id.clone()).or_insert_with(|| blank(&id));
        s.open_cases = open;
        s.open_high_risk = high;
        s.past_due = due;
    }
    Ok(stations.into_values().collect())
}

/// Every station that has a token or has sent a heartbeat, with what it last said and its
/// hours heard, its cases not counted (the leaders' page counts those its own way).
pub(crate) fn health(
    db: &mut dyn Db,
    known: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<StationHealth>, HubStoreError> {
    Ok(heard(db, known, now)?.into_values().collect())
}

fn blank(id: &str) -> StationHealth {
    StationHealth {
        station_id: id.to_owned(),
        last_heartbeat: None,
        hours_heard: (0, 0),
        open_cases: 0,
        open_high_risk: 0,
        past_due: 0,
    }
}

/// The stations known or heard from, with their last heartbeat and hours heard.
fn heard(
    db: &mut dyn Db,
    known: &[String],
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, StationHealth>, HubStoreError> {
    let mut stations: BTreeMap<String, StationHealth> = BTreeMap::new();
    for id in known {
        stations.insert(id.clone(), blank(id));
    }
    for row in db.rows(
        "SELECT station_id, received_at, body FROM heartbeats",
        args![],
    )? {
        let (id, received_at, body) = (row.text(0)?, row.text(1)?, row.text(2)?);
        let station = stations.entry(id.clone()).or_insert_with(|| blank(&id));
        // A heartbeat that does not read back as one the hub would accept is left out (logged):
        // the station is listed as not heard from, never with made-up values.
        let heartbeat = serde_json::from_str::<Heartbeat>(&body).ok().filter(|h| {
            crate::validate::heartbeat(h).is_ok()
                && serde_json::to_value(h)
                    .ok()
                    .is_some_and(|v| crate::validate::door(&v).is_ok())
        });
        let Some(heartbeat) = heartbeat else {
            unreadable("heartbeats", &id, "body");
            continue;
        };
        if let Some(at) = read_time("heartbeats", &id, "received_at", &received_at) {
            station.last_heartbeat = Some((at, heartbeat));
        }
    }
    for (id, hours) in hours_heard(db, now)? {
        if let Some(station) = stations.get_mut(&id) {
            station.hours_heard = hours;
        }
    }
    Ok(stations)
}
