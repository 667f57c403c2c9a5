//! The hub's schema, versioned in `PRAGMA user_version`. Each migration runs in one transaction
//! with its version bump; migrations are only ever appended.

use std::path::Path;

use rusqlite::Connection;

use super::HubStoreError;

/// Migration 3 on both engines: the red alerts a page at a time, newest first.
const RED_ALERTS_INDEX: &str = "
    CREATE INDEX cases_open_by_risk ON cases (risk_level, received_at)
        WHERE state NOT IN ('resolved', 'closed_unresolved');
";

/// Migration 4 on both engines: ties broken by the case's id (PostgreSQL has no rowid).
const RED_ALERTS_INDEX_BY_ID: &str = "
    DROP INDEX cases_open_by_risk;
    CREATE INDEX cases_open_by_risk ON cases (risk_level, received_at, id)
        WHERE state NOT IN ('resolved', 'closed_unresolved');
";

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
    // 2: queues, bookings and attendance from each station's state; rosters set by the district.
    r#"
    -- The newest station state of each station (by its seq), as the operator page reads it.
    CREATE TABLE station_states (
        station_id  TEXT PRIMARY KEY,
        seq         INTEGER NOT NULL,          -- the kiosk's counter: only a higher one replaces
        sent_at     TEXT NOT NULL,             -- the kiosk's clock
        received_at TEXT NOT NULL,
        waiting     TEXT NOT NULL              -- tickets waiting per lane, {"A": 3} (JSON)
    ) STRICT;

    -- Every ticket ever reported, by its code: its page answers with its last state.
    CREATE TABLE queue_tickets (
        token       TEXT PRIMARY KEY,          -- canonical tracking code
        station_id  TEXT NOT NULL,
        ticket      TEXT NOT NULL,             -- `C003`
        lane        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'served', 'no_show')),
        ahead       INTEGER,
        wait_min    INTEGER,
        wait_max    INTEGER,
        counter     INTEGER,
        taken_at    TEXT NOT NULL,
        seq         INTEGER NOT NULL,          -- the station state it was last in
        updated_at  TEXT NOT NULL              -- that state's sent_at
    ) STRICT;

    -- Every booking ever reported, by its code.
    CREATE TABLE queue_bookings (
        token       TEXT PRIMARY KEY,
        station_id  TEXT NOT NULL,
        lane        TEXT NOT NULL,
        role        TEXT CHECK (role IN ('lawyer', 'counsellor', 'mediator')),  -- NULL: discreet
        start_at    TEXT NOT NULL,
        end_at      TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('booked', 'checked_in', 'cancelled')),
        seq         INTEGER NOT NULL,
        updated_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX queue_bookings_by_day ON queue_bookings (station_id, start_at);

    -- Attendance: one row per stretch on duty; checked_out_at is NULL while on duty.
    CREATE TABLE attendance (
        id             INTEGER PRIMARY KEY,
        station_id     TEXT NOT NULL,
        provider_id    TEXT NOT NULL,
        role           TEXT NOT NULL CHECK (role IN ('lawyer', 'counsellor', 'mediator')),
        name           TEXT NOT NULL,
        checked_in_at  TEXT NOT NULL,          -- the kiosk's `since`
        checked_out_at TEXT                    -- the hub's clock when it left on_duty
    ) STRICT;
    CREATE INDEX attendance_on_duty ON attendance (station_id, provider_id)
        WHERE checked_out_at IS NULL;
    CREATE INDEX attendance_by_time ON attendance (checked_in_at);

    -- The roster the district set for each station.
    CREATE TABLE rosters (
        station_id  TEXT PRIMARY KEY,
        body        TEXT NOT NULL,             -- the RosterDocument (JSON), updated_at set
        updated_at  TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: the red alerts a page at a time, newest first, with their count.
    RED_ALERTS_INDEX,
    // 4: ties broken by the case's id, which both engines have (PostgreSQL has no rowid).
    RED_ALERTS_INDEX_BY_ID,
    // 5: the heartbeats' bounded history (an hour a row a station, a week kept) and the
    // periodic jobs' last runs.
    r#"
    CREATE TABLE heartbeat_hours (
        station_id         TEXT NOT NULL,
        hour               TEXT NOT NULL,      -- the hub's clock, UTC, `2026-06-02T10`
        beats              INTEGER NOT NULL,   -- heartbeats received in that hour
        printer_faults     INTEGER NOT NULL,   -- of them, with the printer not ready
        outbox_pending_max INTEGER NOT NULL,   -- the longest outbox reported
        PRIMARY KEY (station_id, hour)
    ) STRICT;
    CREATE INDEX heartbeat_hours_by_hour ON heartbeat_hours (hour);

    CREATE TABLE periodic_runs (
        job      TEXT PRIMARY KEY,
        last_run TEXT NOT NULL,                -- the hub's clock when it last ran
        runs     INTEGER NOT NULL,             -- how often it has run, ever
        changed  INTEGER NOT NULL              -- rows its last run changed
    ) STRICT;
    "#,
    // 6: the district's back office (issues 19, 20): accounts, sessions, the audit log, each
    // case's place at the district, its internal timeline, the scorecards' dispatches, orders,
    // the chase steps taken, and the webhooks' outbox.
    r#"
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        unit          TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('dispatcher', 'community', 'secretary',
                          'street', 'department', 'department_head', 'leader', 'auditor')),
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,           -- Argon2id, PHC string
        failed_logins INTEGER NOT NULL,        -- since the last good one
        locked_until  TEXT,                    -- after too many failures
        created_at    TEXT NOT NULL
    ) STRICT;
    CREATE INDEX users_by_unit ON users (unit);
    -- A session is found by the SHA-256 of its token: the table never holds a usable token.
    CREATE TABLE sessions (
        digest      TEXT PRIMARY KEY,
        user_id     TEXT NOT NULL REFERENCES users (id),
        csrf        TEXT NOT NULL,             -- the forms' token of this session
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    -- Who did what when: every action, every login, every view of a resident's data.
    CREATE TABLE audit_log (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        user_id  TEXT NOT NULL,                -- a user, `citizen`, `scheduler` or `token:<id>`
        action   TEXT NOT NULL,
        target   TEXT,                         -- a case's code, an order's id, a user's id
        detail   TEXT                          -- never personal data
    ) STRICT;
    CREATE INDEX audit_log_by_at ON audit_log (at);
    -- Each case's place at the district (DISTRICT.md §3, §4).
    CREATE TABLE district_cases (
        case_id          TEXT PRIMARY KEY REFERENCES cases (id),
        -- The case as filed, copied here so that the lists and the leaders' counts find what
        -- they filter on without joining every case.
        station_id       TEXT NOT NULL,
        service          TEXT NOT NULL,
        risk_level       TEXT NOT NULL,
        filed_at         TEXT NOT NULL,
        stage            TEXT NOT NULL CHECK (stage IN ('received', 'assigned', 'in_progress',
                             'resolved', 'closed', 'closed_unresolved', 'reopened')),
        unit             TEXT,                 -- assigned to
        class            TEXT CHECK (class IN ('emergency', 'urgent', 'general', 'complex')),
        routed_at        TEXT,                 -- the latest routing (the deadlines count from it)
        accept_by        TEXT,
        accepted_at      TEXT,
        resolve_by       TEXT,
        resolved_at      TEXT,
        closed_at        TEXT,
        returns          INTEGER NOT NULL,     -- times returned to the dispatcher
        redo_count       INTEGER NOT NULL,     -- times reopened by an unsatisfied rating
        extensions       INTEGER NOT NULL,     -- extensions granted
        extension_until  TEXT,                 -- asked for and not decided
        extension_reason TEXT,
        rating           TEXT CHECK (rating IN ('satisfied', 'basically_satisfied',
                             'unsatisfied')),
        rated_at         TEXT,
        next_step_at     TEXT,                 -- its next reminder, chase or supervision
        version          INTEGER NOT NULL      -- +1 on every change: a form shows which it saw
    ) STRICT;
    CREATE INDEX district_cases_inbox ON district_cases (unit, stage, resolve_by);
    CREATE INDEX district_cases_next_step ON district_cases (next_step_at)
        WHERE next_step_at IS NOT NULL;
    CREATE INDEX district_cases_by_stage ON district_cases (stage, case_id);
    CREATE INDEX district_cases_open ON district_cases (station_id, risk_level, accepted_at,
        accept_by, resolve_by) WHERE stage IN ('received', 'assigned', 'in_progress', 'reopened');
    CREATE INDEX district_cases_by_filing ON district_cases (filed_at);
    CREATE INDEX district_cases_by_resolution ON district_cases (resolved_at)
        WHERE resolved_at IS NOT NULL;
    INSERT INTO district_cases (case_id, station_id, service, risk_level, filed_at, stage,
                                returns, redo_count, extensions, version)
        SELECT id, station_id, service, risk_level, filed_at,
               CASE state WHEN 'resolved' THEN 'resolved'
                          WHEN 'closed_unresolved' THEN 'closed_unresolved'
                          ELSE 'received' END, 0, 0, 0, 1
        FROM cases;
    -- The internal timeline: every routing, acceptance, return, order, arrival, chase,
    -- extension, rating and note, with who did it. `public` marks what the citizen sees.
    CREATE TABLE district_events (
        id       INTEGER PRIMARY KEY,
        case_id  TEXT NOT NULL REFERENCES cases (id),
        at       TEXT NOT NULL,
        kind     TEXT NOT NULL,
        by_user  TEXT NOT NULL,
        unit     TEXT,
        note     TEXT,
        public   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX district_events_by_case ON district_events (case_id, id);
    -- The scorecards' facts (DISTRICT.md §8): one row each time a case is sent to a unit (a
    -- routing, or a reopening back to the same unit), with what the unit did with it. Written
    -- in the transaction that writes the timeline's step, so the two never disagree.
    CREATE TABLE dispatches (
        case_id       TEXT NOT NULL REFERENCES cases (id),
        seq           INTEGER NOT NULL,        -- 1, 2, … within the case
        unit          TEXT NOT NULL,
        -- Times in Unix seconds: a month's card reads tens of thousands of rows.
        filed_at      INTEGER NOT NULL,        -- the case's
        dispatched_at INTEGER NOT NULL,
        accept_by     INTEGER NOT NULL,
        accepted_at   INTEGER,
        returned_at   INTEGER,                 -- sent back to the dispatcher: this one ends
        resolve_by    INTEGER NOT NULL,        -- extensions granted included
        resolved_at   INTEGER,
        closed_at     INTEGER,                 -- closed unresolved: this one ends
        rating        TEXT,
        reopened      INTEGER NOT NULL,        -- rated unsatisfied after this resolution
        ended_at      INTEGER,                 -- resolved, returned or closed: the first of them
        PRIMARY KEY (case_id, seq)
    ) STRICT;
    CREATE INDEX dispatches_by_time ON dispatches (dispatched_at);
    CREATE INDEX dispatches_by_end ON dispatches (ended_at, dispatched_at)
        WHERE ended_at IS NOT NULL;
    CREATE INDEX dispatches_open ON dispatches (dispatched_at) WHERE ended_at IS NULL;
    -- Cases filed a (China) day by station and kind, kept at intake: the leaders' trend and
    -- the risk map's repeats read a few rows per day, station and kind, never a row per case.
    -- On PostgreSQL each count is split over shards (the writing transaction's lane, 0 to 63:
    -- store::sql::Db::lane), so that a burst of one kind at one station does not make every
    -- intake of the burst update one row (concurrent updates of one row fail each other at
    -- REPEATABLE READ). SQLite writes one at a time: shard 0.
    CREATE TABLE daily_filed (
        day        TEXT NOT NULL,              -- 2026-06-02
        station_id TEXT NOT NULL,
        service    TEXT NOT NULL,
        subtype    TEXT NOT NULL,
        shard      INTEGER NOT NULL,           -- 0 to 63
        filed      INTEGER NOT NULL,
        PRIMARY KEY (day, station_id, service, subtype, shard)
    ) STRICT;
    INSERT INTO daily_filed (day, station_id, service, subtype, shard, filed)
        SELECT date(filed_at, '+8 hours'), station_id, service, subtype, 0, count(*)
        FROM cases GROUP BY 1, 2, 3, 4;
    -- Orders (发令): a community tells a department to come.
    CREATE TABLE orders (
        id           INTEGER PRIMARY KEY,
        number       TEXT NOT NULL UNIQUE,     -- 光明北发令〔2026〕0042号
        case_id      TEXT NOT NULL REFERENCES cases (id),
        community    TEXT NOT NULL,
        department   TEXT NOT NULL,
        need         TEXT NOT NULL,
        place        TEXT NOT NULL,
        arrive_by    TEXT NOT NULL,
        staff        INTEGER NOT NULL,
        reply_by     TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('issued', 'accepted', 'arrived',
                         'confirmed')),
        issued_by    TEXT NOT NULL,
        issued_at    TEXT NOT NULL,
        accepted_at  TEXT,
        arrived_at   TEXT,
        people       TEXT,                     -- who came (JSON list of names)
        confirmed_at TEXT
    ) STRICT;
    CREATE INDEX orders_by_case ON orders (case_id);
    CREATE INDEX orders_by_department ON orders (department, state);
    CREATE INDEX orders_by_issue ON orders (issued_at);
    CREATE TABLE order_serials (
        community TEXT NOT NULL,
        year      INTEGER NOT NULL,
        last      INTEGER NOT NULL,
        PRIMARY KEY (community, year)
    ) STRICT;
    -- The reminders, chases and supervisions raised: one row each, so none is raised twice.
    CREATE TABLE deadline_steps (
        case_id  TEXT NOT NULL REFERENCES cases (id),
        deadline TEXT NOT NULL,                -- `accept`, `resolve`, `order:<id>`
        due      TEXT NOT NULL,                -- the deadline it is for (a new one, new steps)
        step     TEXT NOT NULL CHECK (step IN ('reminder', 'chase', 'supervision')),
        at       TEXT NOT NULL,
        PRIMARY KEY (case_id, deadline, due, step)
    ) STRICT;
    -- Messages for the units' webhooks, sent and retried by the hub (never personal data).
    CREATE TABLE webhook_outbox (
        id           INTEGER PRIMARY KEY,
        unit         TEXT NOT NULL,
        url          TEXT NOT NULL,
        body         TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        attempts     INTEGER NOT NULL,
        next_at      TEXT NOT NULL,
        delivered_at TEXT,
        last_error   TEXT
    ) STRICT;
    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at) WHERE delivered_at IS NULL;
    "#,
];

/// The same schema on PostgreSQL, version for version: 64-bit integers, generated numbers as
/// identity columns, texts compared byte by byte (`COLLATE "C"`, whatever the database's
/// locale: the times are compared as texts).
const POSTGRES_MIGRATIONS: &[&str] = &[
    // 1: cases and their timeline, station heartbeats, Open311 request numbers.
    r#"
    CREATE TABLE cases (
        id          TEXT COLLATE "C" PRIMARY KEY,
        token       TEXT COLLATE "C" NOT NULL UNIQUE,
        station_id  TEXT COLLATE "C" NOT NULL,
        service     TEXT COLLATE "C" NOT NULL,
        subtype     TEXT COLLATE "C" NOT NULL,
        risk_level  TEXT COLLATE "C" NOT NULL CHECK (risk_level IN ('normal', 'elevated', 'high')),
        state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('received', 'acknowledged',
                        'assigned', 'in_progress', 'resolved', 'closed_unresolved', 'reopened')),
        department  TEXT COLLATE "C",
        expected_at TEXT COLLATE "C",
        filed_at    TEXT COLLATE "C" NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        updated_at  TEXT COLLATE "C" NOT NULL,
        source      TEXT COLLATE "C" NOT NULL CHECK (source IN ('native', 'open311')),
        body        TEXT NOT NULL,
        body_sha256 TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX cases_by_station ON cases (station_id, state);
    CREATE INDEX cases_by_risk ON cases (risk_level, state);
    CREATE INDEX cases_by_expected ON cases (expected_at) WHERE expected_at IS NOT NULL;
    CREATE INDEX cases_by_filed ON cases (filed_at);

    CREATE TABLE case_events (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        case_id     TEXT COLLATE "C" NOT NULL REFERENCES cases (id),
        at          TEXT COLLATE "C" NOT NULL,
        state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('received', 'acknowledged',
                        'assigned', 'in_progress', 'resolved', 'closed_unresolved', 'reopened')),
        note        TEXT,
        department  TEXT COLLATE "C",
        expected_at TEXT COLLATE "C",
        posted_by   TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX case_events_by_case ON case_events (case_id, id);

    CREATE TABLE heartbeats (
        station_id  TEXT COLLATE "C" PRIMARY KEY,
        sent_at     TEXT COLLATE "C" NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        body        TEXT NOT NULL
    );

    CREATE TABLE open311_requests (
        service_request_id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        case_id     TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES cases (id),
        form        TEXT
    );
    "#,
    // 2: queues, bookings and attendance from each station's state; rosters.
    r#"
    CREATE TABLE station_states (
        station_id  TEXT COLLATE "C" PRIMARY KEY,
        seq         BIGINT NOT NULL,
        sent_at     TEXT COLLATE "C" NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        waiting     TEXT NOT NULL
    );

    CREATE TABLE queue_tickets (
        token       TEXT COLLATE "C" PRIMARY KEY,
        station_id  TEXT COLLATE "C" NOT NULL,
        ticket      TEXT COLLATE "C" NOT NULL,
        lane        TEXT COLLATE "C" NOT NULL,
        state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('waiting', 'called', 'served',
                        'no_show')),
        ahead       BIGINT,
        wait_min    BIGINT,
        wait_max    BIGINT,
        counter     BIGINT,
        taken_at    TEXT COLLATE "C" NOT NULL,
        seq         BIGINT NOT NULL,
        updated_at  TEXT COLLATE "C" NOT NULL
    );

    CREATE TABLE queue_bookings (
        token       TEXT COLLATE "C" PRIMARY KEY,
        station_id  TEXT COLLATE "C" NOT NULL,
        lane        TEXT COLLATE "C" NOT NULL,
        role        TEXT COLLATE "C" CHECK (role IN ('lawyer', 'counsellor', 'mediator')),
        start_at    TEXT COLLATE "C" NOT NULL,
        end_at      TEXT COLLATE "C" NOT NULL,
        state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('booked', 'checked_in',
                        'cancelled')),
        seq         BIGINT NOT NULL,
        updated_at  TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX queue_bookings_by_day ON queue_bookings (station_id, start_at);

    CREATE TABLE attendance (
        id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        station_id     TEXT COLLATE "C" NOT NULL,
        provider_id    TEXT COLLATE "C" NOT NULL,
        role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('lawyer', 'counsellor',
                           'mediator')),
        name           TEXT NOT NULL,
        checked_in_at  TEXT COLLATE "C" NOT NULL,
        checked_out_at TEXT COLLATE "C"
    );
    CREATE INDEX attendance_on_duty ON attendance (station_id, provider_id)
        WHERE checked_out_at IS NULL;
    CREATE INDEX attendance_by_time ON attendance (checked_in_at);

    CREATE TABLE rosters (
        station_id  TEXT COLLATE "C" PRIMARY KEY,
        body        TEXT NOT NULL,
        updated_at  TEXT COLLATE "C" NOT NULL
    );
    "#,
    // 3: the red alerts a page at a time, newest first, with their count.
    RED_ALERTS_INDEX,
    // 4: ties broken by the case's id.
    RED_ALERTS_INDEX_BY_ID,
    // 5: the heartbeats' bounded history and the periodic jobs' last runs.
    r#"
    CREATE TABLE heartbeat_hours (
        station_id         TEXT COLLATE "C" NOT NULL,
        hour               TEXT COLLATE "C" NOT NULL,
        beats              BIGINT NOT NULL,
        printer_faults     BIGINT NOT NULL,
        outbox_pending_max BIGINT NOT NULL,
        PRIMARY KEY (station_id, hour)
    );
    CREATE INDEX heartbeat_hours_by_hour ON heartbeat_hours (hour);

    CREATE TABLE periodic_runs (
        job      TEXT COLLATE "C" PRIMARY KEY,
        last_run TEXT COLLATE "C" NOT NULL,
        runs     BIGINT NOT NULL,
        changed  BIGINT NOT NULL
    );
    "#,
    // 6: the district's back office.
    r#"
    CREATE TABLE users (
        id            TEXT COLLATE "C" PRIMARY KEY,
        unit          TEXT COLLATE "C" NOT NULL,
        role          TEXT COLLATE "C" NOT NULL CHECK (role IN ('dispatcher', 'community',
                          'secretary', 'street', 'department', 'department_head', 'leader',
                          'auditor')),
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        failed_logins BIGINT NOT NULL,
        locked_until  TEXT COLLATE "C",
        created_at    TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX users_by_unit ON users (unit);
    CREATE TABLE sessions (
        digest      TEXT COLLATE "C" PRIMARY KEY,
        user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
        csrf        TEXT COLLATE "C" NOT NULL,
        created_at  TEXT COLLATE "C" NOT NULL,
        expires_at  TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE audit_log (
        id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at       TEXT COLLATE "C" NOT NULL,
        user_id  TEXT COLLATE "C" NOT NULL,
        action   TEXT COLLATE "C" NOT NULL,
        target   TEXT COLLATE "C",
        detail   TEXT
    );
    CREATE INDEX audit_log_by_at ON audit_log (at);
    CREATE TABLE district_cases (
        case_id          TEXT COLLATE "C" PRIMARY KEY REFERENCES cases (id),
        station_id       TEXT COLLATE "C" NOT NULL,
        service          TEXT COLLATE "C" NOT NULL,
        risk_level       TEXT COLLATE "C" NOT NULL,
        filed_at         TEXT COLLATE "C" NOT NULL,
        stage            TEXT COLLATE "C" NOT NULL CHECK (stage IN ('received', 'assigned',
                             'in_progress', 'resolved', 'closed', 'closed_unresolved',
                             'reopened')),
        unit             TEXT COLLATE "C",
        class            TEXT COLLATE "C" CHECK (class IN ('emergency', 'urgent', 'general',
                             'complex')),
        routed_at        TEXT COLLATE "C",
        accept_by        TEXT COLLATE "C",
        accepted_at      TEXT COLLATE "C",
        resolve_by       TEXT COLLATE "C",
        resolved_at      TEXT COLLATE "C",
        closed_at        TEXT COLLATE "C",
        returns          BIGINT NOT NULL,
        redo_count       BIGINT NOT NULL,
        extensions       BIGINT NOT NULL,
        extension_until  TEXT COLLATE "C",
        extension_reason TEXT,
        rating           TEXT COLLATE "C" CHECK (rating IN ('satisfied',
                             'basically_satisfied', 'unsatisfied')),
        rated_at         TEXT COLLATE "C",
        next_step_at     TEXT COLLATE "C",
        version          BIGINT NOT NULL
    );
    CREATE INDEX district_cases_inbox ON district_cases (unit, stage, resolve_by);
    CREATE INDEX district_cases_next_step ON district_cases (next_step_at)
        WHERE next_step_at IS NOT NULL;
    CREATE INDEX district_cases_by_stage ON district_cases (stage, case_id);
    CREATE INDEX district_cases_open ON district_cases (station_id, risk_level, accepted_at,
        accept_by, resolve_by) WHERE stage IN ('received', 'assigned', 'in_progress', 'reopened');
    CREATE INDEX district_cases_by_filing ON district_cases (filed_at);
    CREATE INDEX district_cases_by_resolution ON district_cases (resolved_at)
        WHERE resolved_at IS NOT NULL;
    INSERT INTO district_cases (case_id, station_id, service, risk_level, filed_at, stage,
                                returns, redo_count, extensions, version)
        SELECT id, station_id, service, risk_level, filed_at,
               CASE state WHEN 'resolved' THEN 'resolved'
                          WHEN 'closed_unresolved' THEN 'closed_unresolved'
                          ELSE 'received' END, 0, 0, 0, 1
        FROM cases;
    CREATE TABLE district_events (
        id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        case_id  TEXT COLLATE "C" NOT NULL REFERENCES cases (id),
        at       TEXT COLLATE "C" NOT NULL,
        kind     TEXT COLLATE "C" NOT NULL,
        by_user  TEXT COLLATE "C" NOT NULL,
        unit     TEXT COLLATE "C",
        note     TEXT,
        public   BIGINT NOT NULL
    );
    CREATE INDEX district_events_by_case ON district_events (case_id, id);
    CREATE TABLE dispatches (
        case_id       TEXT COLLATE "C" NOT NULL REFERENCES cases (id),
        seq           BIGINT NOT NULL,
        unit          TEXT COLLATE "C" NOT NULL,
        filed_at      BIGINT NOT NULL,
        dispatched_at BIGINT NOT NULL,
        accept_by     BIGINT NOT NULL,
        accepted_at   BIGINT,
        returned_at   BIGINT,
        resolve_by    BIGINT NOT NULL,
        resolved_at   BIGINT,
        closed_at     BIGINT,
        rating        TEXT COLLATE "C",
        reopened      BIGINT NOT NULL,
        ended_at      BIGINT,
        PRIMARY KEY (case_id, seq)
    );
    CREATE INDEX dispatches_by_time ON dispatches (dispatched_at);
    CREATE INDEX dispatches_by_end ON dispatches (ended_at, dispatched_at)
        WHERE ended_at IS NOT NULL;
    CREATE INDEX dispatches_open ON dispatches (dispatched_at) WHERE ended_at IS NULL;
    CREATE TABLE daily_filed (
        day        TEXT COLLATE "C" NOT NULL,
        station_id TEXT COLLATE "C" NOT NULL,
        service    TEXT COLLATE "C" NOT NULL,
        subtype    TEXT COLLATE "C" NOT NULL,
        shard      BIGINT NOT NULL,
        filed      BIGINT NOT NULL,
        PRIMARY KEY (day, station_id, service, subtype, shard)
    );
    INSERT INTO daily_filed (day, station_id, service, subtype, shard, filed)
        SELECT to_char((filed_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours',
                       'YYYY-MM-DD'), station_id, service, subtype, 0, count(*)
        FROM cases GROUP BY 1, 2, 3, 4;
    CREATE TABLE orders (
        id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        number       TEXT COLLATE "C" NOT NULL UNIQUE,
        case_id      TEXT COLLATE "C" NOT NULL REFERENCES cases (id),
        community    TEXT COLLATE "C" NOT NULL,
        department   TEXT COLLATE "C" NOT NULL,
        need         TEXT NOT NULL,
        place        TEXT NOT NULL,
        arrive_by    TEXT COLLATE "C" NOT NULL,
        staff        BIGINT NOT NULL,
        reply_by     TEXT COLLATE "C" NOT NULL,
        state        TEXT COLLATE "C" NOT NULL CHECK (state IN ('issued', 'accepted',
                         'arrived', 'confirmed')),
        issued_by    TEXT COLLATE "C" NOT NULL,
        issued_at    TEXT COLLATE "C" NOT NULL,
        accepted_at  TEXT COLLATE "C",
        arrived_at   TEXT COLLATE "C",
        people       TEXT,
        confirmed_at TEXT COLLATE "C"
    );
    CREATE INDEX orders_by_case ON orders (case_id);
    CREATE INDEX orders_by_department ON orders (department, state);
    CREATE INDEX orders_by_issue ON orders (issued_at);
    CREATE TABLE order_serials (
        community TEXT COLLATE "C" NOT NULL,
        year      BIGINT NOT NULL,
        last      BIGINT NOT NULL,
        PRIMARY KEY (community, year)
    );
    CREATE TABLE deadline_steps (
        case_id  TEXT COLLATE "C" NOT NULL REFERENCES cases (id),
        deadline TEXT COLLATE "C" NOT NULL,
        due      TEXT COLLATE "C" NOT NULL,
        step     TEXT COLLATE "C" NOT NULL CHECK (step IN ('reminder', 'chase',
                     'supervision')),
        at       TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (case_id, deadline, due, step)
    );
    CREATE TABLE webhook_outbox (
        id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        unit         TEXT COLLATE "C" NOT NULL,
        url          TEXT NOT NULL,
        body         TEXT NOT NULL,
        created_at   TEXT COLLATE "C" NOT NULL,
        attempts     BIGINT NOT NULL,
        next_at      TEXT COLLATE "C" NOT NULL,
        delivered_at TEXT COLLATE "C",
        last_error   TEXT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at) WHERE delivered_at IS NULL;
    "#,
];

/// The schema version this hub writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// The advisory lock hub processes take while migrating PostgreSQL (any number, the same in
/// every process: "grievance-hub schema").
const MIGRATION_LOCK: i64 = 0x6772_6965_7661_6e63;

/// Brings a PostgreSQL database up to [`LATEST`], once whichever process comes first: each
/// migration in one transaction with its version, under an advisory lock. A database from a
/// newer hub is refused.
pub(crate) fn run_postgres(client: &mut postgres::Client) -> Result<(), HubStoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS hub_schema (version BIGINT NOT NULL)")?;
    let current: i64 = match tx.query_opt("SELECT version FROM hub_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO hub_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    if current > LATEST {
        return Err(HubStoreError::TooNewDatabase {
            found: current,
            known: LATEST,
        });
    }
    for (index, sql) in POSTGRES_MIGRATIONS
        .iter()
        .enumerate()
        .skip(current as usize)
    {
        tx.batch_execute(sql)?;
        tx.execute("UPDATE hub_schema SET version = $1", &[&(index as i64 + 1)])?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn run(conn: &mut Connection, path: &Path) -> Result<(), HubStoreError> {
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
