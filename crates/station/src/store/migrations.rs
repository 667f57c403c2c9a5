//! Versioned schema migrations, tracked in `PRAGMA user_version`. Each migration runs in its
//! own transaction with the version bump, so a kiosk that loses power mid-upgrade restarts from
//! the last complete version. Migrations are only ever appended.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::{classify, StoreError};

pub(super) const MIGRATIONS: &[&str] = &[
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
    // 4: appointments, the walk-in queue, attendance, the staff mode and its audit log. Print
    // jobs may now print a queue ticket or an appointment slip, alone or with a case, so
    // `print_jobs` is rebuilt with `case_id` optional (SQLite cannot relax NOT NULL in place).
    r#"
    CREATE TABLE bookings (
        id           TEXT PRIMARY KEY,              -- UUIDv7
        token        TEXT NOT NULL UNIQUE,          -- the booking code on the slip
        service      TEXT NOT NULL,
        provider     TEXT NOT NULL,
        slot_id      TEXT NOT NULL,
        start_at     TEXT NOT NULL,                 -- RFC 3339, UTC
        end_at       TEXT NOT NULL,
        phone        TEXT,                          -- personal data, erased after retention
        state        TEXT NOT NULL CHECK (state IN ('booked', 'checked_in', 'cancelled')),
        language     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        changed_at   TEXT NOT NULL,
        changed_by   TEXT                           -- 'resident', 'staff', 'cli'
    ) STRICT;
    CREATE INDEX bookings_by_slot ON bookings (slot_id, state);
    CREATE INDEX bookings_by_phone ON bookings (service, phone, state);
    CREATE INDEX bookings_by_start ON bookings (start_at);

    CREATE TABLE tickets (
        id           INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order, never reused
        token        TEXT NOT NULL UNIQUE,          -- the ticket's code (its QR page)
        day          TEXT NOT NULL,                 -- the station's local date it was taken
        lane         TEXT NOT NULL,                 -- current lane (changes on transfer)
        number       INTEGER NOT NULL,
        label        TEXT NOT NULL,                 -- 'C003', as printed; kept on transfer
        service      TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('walkin', 'priority', 'appointment')),
        appointment_at TEXT,
        booking_id   TEXT REFERENCES bookings (id),
        case_id      TEXT REFERENCES cases (id),
        state        TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'served', 'no_show')),
        passed_over  INTEGER NOT NULL DEFAULT 0,
        calls        INTEGER NOT NULL DEFAULT 0,
        counter      INTEGER,
        language     TEXT NOT NULL,
        taken_at     TEXT NOT NULL,
        called_at    TEXT,
        done_at      TEXT,
        UNIQUE (day, label)
    ) STRICT;
    CREATE INDEX tickets_by_day ON tickets (day, state, lane);

    -- Every call and recall, for the now-serving display.
    CREATE TABLE queue_calls (
        id        INTEGER PRIMARY KEY,
        ticket_id INTEGER NOT NULL REFERENCES tickets (id),
        counter   INTEGER NOT NULL,
        at        TEXT NOT NULL
    ) STRICT;

    -- Lawyers, counsellors and mediators checking in and out.
    CREATE TABLE attendance (
        id        INTEGER PRIMARY KEY,
        provider  TEXT NOT NULL,
        action    TEXT NOT NULL CHECK (action IN ('in', 'out')),
        at        TEXT NOT NULL
    ) STRICT;

    -- The staff PIN (Argon2id PHC string) and the lockout, which survives restarts.
    CREATE TABLE staff_auth (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        pin_hash     TEXT,
        failures     INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT
    ) STRICT;
    INSERT INTO staff_auth (id) VALUES (1);

    -- Every staff action, and every staff sign-in attempt.
    CREATE TABLE staff_audit (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL
    ) STRICT;

    -- The station's state as sent upstream: `generation` grows with each change, `sent` is the
    -- last generation the hub accepted.
    CREATE TABLE station_sync (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        generation    INTEGER NOT NULL,
        sent          INTEGER NOT NULL,
        next_try_at   TEXT,
        last_error    TEXT
    ) STRICT;
    INSERT INTO station_sync (id, generation, sent) VALUES (1, 0, 0);

    -- The roster the hub set for this station, when it set one.
    CREATE TABLE roster_upstream (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        document    TEXT NOT NULL,                  -- JSON RosterDocument
        fetched_at  TEXT NOT NULL
    ) STRICT;

    CREATE TABLE print_jobs_new (
        id          INTEGER PRIMARY KEY,
        case_id     TEXT REFERENCES cases (id),
        ticket_id   INTEGER REFERENCES tickets (id),
        booking_id  TEXT REFERENCES bookings (id),
        state       TEXT NOT NULL
                    CHECK (state IN ('pending', 'printing', 'printed', 'failed', 'suppressed')),
        reason      TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        printed_at  TEXT,
        CHECK (case_id IS NOT NULL OR ticket_id IS NOT NULL OR booking_id IS NOT NULL)
    ) STRICT;
    INSERT INTO print_jobs_new (id, case_id, state, reason, created_at, updated_at, attempts,
                                printed_at)
        SELECT id, case_id, state, reason, created_at, updated_at, attempts, printed_at
        FROM print_jobs;
    DROP TABLE print_jobs;
    ALTER TABLE print_jobs_new RENAME TO print_jobs;
    CREATE INDEX print_jobs_by_state ON print_jobs (state, id);
    CREATE INDEX print_jobs_by_case ON print_jobs (case_id);
    "#,
    // 5: when this database began, in Unix seconds: the station state's `seq` starts from it,
    // so that a kiosk whose database was replaced (a corrupt one moved aside) still sends a
    // higher `seq` than the hub has kept from the old one.
    r#"
    ALTER TABLE station_sync ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    UPDATE station_sync SET epoch = CAST(strftime('%s', 'now') AS INTEGER);
    "#,
    // 6: what the kiosk has to tell staff until they acknowledge it (a damaged database moved
    // aside at start-up, …). No personal data: the detail is written by the kiosk itself.
    r#"
    CREATE TABLE notices (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        detail      TEXT NOT NULL,
        cleared_at  TEXT
    ) STRICT;
    CREATE INDEX notices_open ON notices (cleared_at, id);
    "#,
];

/// The schema version this kiosk writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

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
    if current == LATEST {
        return Ok(());
    }
    // A migration may rebuild a table that others reference (SQLite's documented procedure):
    // foreign keys are off while it runs and checked before it commits.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(|e| classify(e, path))?;
    let result = (|| {
        loop {
            // Another process (the display, the command line) may be migrating the same file:
            // take the write lock first, then see where the schema stands.
            let tx = rusqlite::Transaction::new_unchecked(
                conn,
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(|e| classify(e, path))?;
            let at: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| classify(e, path))?;
            if at >= LATEST {
                tx.commit().map_err(|e| classify(e, path))?;
                return Ok(());
            }
            let version = at + 1;
            tx.execute_batch(MIGRATIONS[at as usize])
                .map_err(|e| classify(e, path))?;
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()
                .map_err(|e| classify(e, path))?;
            if let Some(table) = broken {
                return Err(StoreError::BadRow(format!(
                    "migration {version} left a broken reference in {table}"
                )));
            }
            tx.pragma_update(None, "user_version", version)
                .map_err(|e| classify(e, path))?;
            tx.commit().map_err(|e| classify(e, path))?;
        }
    })();
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| classify(e, path))?;
    result
}
