//! The hub's schema, versioned in `PRAGMA user_version`. Each migration runs in one transaction
//! with its version bump; migrations are only ever appended.

use std::path::Path;

use rusqlite::Connection;

use super::HubStoreError;

const MIGRATIONS: &[&str] = &[
    // 1: cases and their timeline, station heartbeats, Open311 request numbers.
    r#"
    CREATE TABLE cases (
        id          TEXT PRIMARY KEY,          -- the kiosk's case id (UUID), the idempotency key
        token       TEXT NOT NULL UNIQUE,      -- canonical tracking code
        station_id  TEXT NOT NULL,
        service     TEXT NOT NULL,
        subtype     TEXT NOT NULL,
        risk_level  TEXT NOT NULL CHECK (risk_level IN ('normal', 'elevated', 'high')),
        state       TEXT NOT NULL CHECK (state IN ('received', 'acknowledged', 'assigned',
                        'in_progress', 'resolved', 'closed_unresolved', 'reopened')),
        department  TEXT,                      -- handling department, from status events
        expected_at TEXT,                      -- when the department expects to finish
        filed_at    TEXT NOT NULL,             -- when the kiosk committed it
        received_at TEXT NOT NULL,             -- when the hub committed it (the receipt's time)
        updated_at  TEXT NOT NULL,
        source      TEXT NOT NULL CHECK (source IN ('native', 'open311')),
        body        TEXT NOT NULL,             -- the CaseSubmission as accepted (personal data)
        body_sha256 TEXT NOT NULL              -- fingerprint of the canonical request body
    ) STRICT;
    CREATE INDEX cases_by_station ON cases (station_id, state);
    CREATE INDEX cases_by_risk ON cases (risk_level, state);
    CREATE INDEX cases_by_expected ON cases (expected_at) WHERE expected_at IS NOT NULL;
    CREATE INDEX cases_by_filed ON cases (filed_at);

    -- The timeline: the hub's own `received`, then every department's step.
    CREATE TABLE case_events (
        id          INTEGER PRIMARY KEY,
        case_id     TEXT NOT NULL REFERENCES cases (id),
        at          TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('received', 'acknowledged', 'assigned',
                        'in_progress', 'resolved', 'closed_unresolved', 'reopened')),
        note        TEXT,                      -- shown to the citizen
        department  TEXT,
        expected_at TEXT,
        posted_by   TEXT NOT NULL              -- `hub`, or the department id of the token used
    ) STRICT;
    CREATE INDEX case_events_by_case ON case_events (case_id, id);

    -- The newest heartbeat of each station (by the kiosk's sent_at), and when it arrived.
    CREATE TABLE heartbeats (
        station_id  TEXT PRIMARY KEY,
        sent_at     TEXT NOT NULL,
        received_at TEXT NOT NULL,
        body        TEXT NOT NULL              -- the Heartbeat as received (JSON)
    ) STRICT;

    -- Every case's Open311 service_request_id, whichever door it came in by.
    CREATE TABLE open311_requests (
        service_request_id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id     TEXT NOT NULL UNIQUE REFERENCES cases (id),
        form        TEXT                       -- Open311 POST fields except api_key (JSON pairs)
    ) STRICT;
    "#,
];

/// The schema version this hub writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn run(conn: &mut Connection, path: &Path) -> Result<(), HubStoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(HubStoreError::TooNew {
            path: path.to_owned(),
            found: current,
            known: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
