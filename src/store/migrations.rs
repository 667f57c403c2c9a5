//! Versioned schema migrations, tracked in `PRAGMA user_version`. Each migration runs in its
//! own transaction with the version bump, so a kiosk that loses power mid-upgrade restarts from
//! the last complete version. Migrations are only ever appended.

use std::path::Path;

use rusqlite::Connection;

use super::{classify, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: cases, their print jobs and the outbox.
    r#"
    CREATE TABLE cases (
        id              TEXT PRIMARY KEY,          -- UUIDv7, the idempotency key upstream
        token           TEXT NOT NULL UNIQUE,      -- canonical tracking code
        station_id      TEXT NOT NULL,
        service         TEXT NOT NULL,
        subtype         TEXT NOT NULL,
        answers         TEXT NOT NULL,             -- JSON [{question, value}]
        description     TEXT,                      -- personal data, erased after retention
        phone           TEXT,                      -- personal data, erased after retention
        anonymous       INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
        consent_version TEXT NOT NULL,
        risk_level      TEXT NOT NULL CHECK (risk_level IN ('normal', 'elevated', 'high')),
        risk_reasons    TEXT NOT NULL,             -- JSON [RiskReason]
        language        TEXT NOT NULL,
        channel         TEXT NOT NULL,
        created_at      TEXT NOT NULL,             -- RFC 3339, UTC
        personal_data_erased_at TEXT
    ) STRICT;

    CREATE TABLE print_jobs (
        id          INTEGER PRIMARY KEY,
        case_id     TEXT NOT NULL REFERENCES cases (id),
        state       TEXT NOT NULL
                    CHECK (state IN ('pending', 'printing', 'printed', 'failed', 'suppressed')),
        reason      TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX print_jobs_by_state ON print_jobs (state, id);
    CREATE INDEX print_jobs_by_case ON print_jobs (case_id);

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL CHECK (kind IN ('case')),
        case_id         TEXT REFERENCES cases (id),
        priority        INTEGER NOT NULL,          -- 0 first: high-risk cases jump the queue
        state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        delivered_at    TEXT
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (state, priority, next_attempt_at, id);
    CREATE INDEX outbox_by_case ON outbox (case_id);
    "#,
    // 2: the print queue's history and the paper estimate.
    r#"
    ALTER TABLE print_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE print_jobs ADD COLUMN printed_at TEXT;

    -- Every state a job went through, and why: staff and the tests read the story here.
    CREATE TABLE print_job_events (
        id      INTEGER PRIMARY KEY,
        job_id  INTEGER NOT NULL REFERENCES print_jobs (id),
        state   TEXT NOT NULL
                CHECK (state IN ('pending', 'printing', 'printed', 'failed', 'suppressed')),
        reason  TEXT,
        at      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX print_job_events_by_job ON print_job_events (job_id, id);

    -- Paper printed since staff last said they put in a new roll (one row).
    CREATE TABLE printer_paper (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        used_dots   INTEGER NOT NULL,
        refilled_at TEXT
    ) STRICT;
    INSERT INTO printer_paper (id, used_dots, refilled_at) VALUES (1, 0, NULL);
    "#,
    // 3: what upstream said: the delivery's reference, and the last progress seen, kept so that
    // a kiosk offline can still show where a case stood.
    r#"
    ALTER TABLE outbox ADD COLUMN upstream_ref TEXT;
    CREATE TABLE case_progress (
        case_id     TEXT PRIMARY KEY REFERENCES cases (id),
        progress    TEXT NOT NULL,          -- JSON CaseProgress, as upstream sent it
        fetched_at  TEXT NOT NULL
    ) STRICT;
    "#,
];

/// The schema version this kiosk writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn run(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| classify(e, path))?;
    if current > LATEST {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found: current,
            known: LATEST,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction().map_err(|e| classify(e, path))?;
        tx.execute_batch(sql).map_err(|e| classify(e, path))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(|e| classify(e, path))?;
        tx.commit().map_err(|e| classify(e, path))?;
    }
    Ok(())
}
