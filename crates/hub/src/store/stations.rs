//! Stations as the operator page sees them: the newest heartbeat of each, and how many of its
//! cases are open, high-risk or past their expected date.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use protocol::Heartbeat;

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
    Ok(())
}

/// One station's line on the operator page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StationHealth {
    pub(crate) station_id: String,
    /// When the hub last heard from it, and the newest heartbeat it sent.
    pub(crate) last_heartbeat: Option<(DateTime<Utc>, Heartbeat)>,
    pub(crate) open_cases: u32,
    pub(crate) open_high_risk: u32,
    pub(crate) past_due: u32,
}

/// Every station that has a token (`known`), has sent a heartbeat or has filed a case.
pub(crate) fn overview(
    db: &mut dyn Db,
    known: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<StationHealth>, HubStoreError> {
    let mut stations: BTreeMap<String, StationHealth> = BTreeMap::new();
    let blank = |id: &str| StationHealth {
        station_id: id.to_owned(),
        last_heartbeat: None,
        open_cases: 0,
        open_high_risk: 0,
        past_due: 0,
    };
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
