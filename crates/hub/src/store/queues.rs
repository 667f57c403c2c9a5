//! Queues, bookings and attendance as stations report them (`PUT /api/v1/station-state`), and
//! the rosters the district sets for stations.
//!
//! A station sends its whole picture after every change; only a state with a higher `seq` than
//! the stored one is applied (the outbox may deliver an old one late). Tickets and bookings are
//! kept by their code and never deleted, so yesterday's ticket still answers its page with its
//! last state. Every tracking code is one namespace ([`super::cases::code_owner`]): a state
//! that gives a ticket or a booking a code already held by a case, by another station, or by
//! the other kind is refused whole, naming the field and what holds the code.
//!
//! Rows are read as rows the hub cannot trust (see [`super::cases`]): a value that does not
//! read back is logged and shown as unknown, the row skipped, or the record [`Damaged`].
//! Attendance is derived: a provider who appears in `on_duty` is checked in (at the kiosk's
//! `since`), one who disappears is checked out (at the hub's clock).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use domain::roster::Role;
use protocol::{
    BookingState, BookingStatus, OnDuty, RosterDocument, StationState, TicketState, TicketStatus,
};

use super::cases::{code_owner, read_time, unreadable, CodeOwner, Damaged};
use super::sql::{args, Db};
use super::HubStoreError;

/// What became of a station state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    Applied,
    /// The hub already holds a state with this `seq` or a higher one: nothing changed.
    Stale {
        kept: u64,
    },
    /// A code in the state is already another record's: nothing changed.
    CodeTaken {
        field: String,
        owner: CodeOwner,
    },
}

/// Applies a validated station state (codes canonical) in the caller's transaction.
pub(crate) fn record_state(
    tx: &mut dyn Db,
    state: &StationState,
    now: DateTime<Utc>,
) -> Result<Recorded, HubStoreError> {
    let kept = tx
        .row(
            "SELECT seq FROM station_states WHERE station_id = ?1",
            args![&state.station_id],
        )?
        .map(|r| r.int(0))
        .transpose()?;
    let seq = seq_to_db(state.seq)?;
    if let Some(kept) = kept.filter(|&k| k >= seq) {
        return Ok(Recorded::Stale {
            kept: u64::try_from(kept).unwrap_or_default(),
        });
    }
    // One namespace: a code may only be this station's own ticket (or booking) again.
    let codes = state
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| (CodeOwner::Ticket, format!("tickets[{i}].token"), &t.token))
        .chain(
            state
                .bookings
                .iter()
                .enumerate()
                .map(|(i, b)| (CodeOwner::Booking, format!("bookings[{i}].token"), &b.token)),
        );
    for (kind, field, token) in codes {
        if let Some((owner, station)) = code_owner(tx, token)? {
            if owner != kind || station.as_deref() != Some(state.station_id.as_str()) {
                return Ok(Recorded::CodeTaken { field, owner });
            }
        }
    }
    let mut waiting: BTreeMap<&str, u32> = BTreeMap::new();
    for t in &state.tickets {
        if t.state == TicketState::Waiting {
            *waiting.entry(t.lane.as_str()).or_default() += 1;
        }
    }
    let waiting =
        serde_json::to_string(&waiting).map_err(|e| HubStoreError::BadRow(e.to_string()))?;
    let sent_at = stamp(state.sent_at);
    // Only a higher seq replaces the stored one, even when another hub process wrote one
    // since the check above (the upsert waits for its row and checks again): then nothing of
    // this older state is written.
    let changed = tx.exec(
        "INSERT INTO station_states (station_id, seq, sent_at, received_at, waiting)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (station_id) DO UPDATE SET seq = excluded.seq, sent_at = excluded.sent_at,
             received_at = excluded.received_at, waiting = excluded.waiting
         WHERE excluded.seq > station_states.seq",
        args![&state.station_id, seq, &sent_at, &stamp(now), &waiting],
    )?;
    if changed == 0 {
        let kept = tx
            .one(
                "SELECT seq FROM station_states WHERE station_id = ?1",
                args![&state.station_id],
            )?
            .int(0)?;
        return Ok(Recorded::Stale {
            kept: u64::try_from(kept).unwrap_or_default(),
        });
    }
    for t in &state.tickets {
        tx.exec(
            "INSERT INTO queue_tickets (token, station_id, ticket, lane, state, ahead, wait_min,
                                        wait_max, counter, taken_at, seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (token) DO UPDATE SET ticket = excluded.ticket, lane = excluded.lane,
                 state = excluded.state, ahead = excluded.ahead, wait_min = excluded.wait_min,
                 wait_max = excluded.wait_max, counter = excluded.counter,
                 taken_at = excluded.taken_at, seq = excluded.seq, updated_at = excluded.updated_at
             WHERE queue_tickets.station_id = excluded.station_id",
            args![
                &t.token,
                &state.station_id,
                &t.ticket,
                &t.lane,
                t.state.as_str(),
                t.ahead,
                t.wait_min,
                t.wait_max,
                t.counter,
                &stamp(t.taken_at),
                seq,
                &sent_at,
            ],
        )?;
    }
    for b in &state.bookings {
        tx.exec(
            "INSERT INTO queue_bookings (token, station_id, lane, role, start_at, end_at, state,
                                         seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (token) DO UPDATE SET lane = excluded.lane, role = excluded.role,
                 start_at = excluded.start_at, end_at = excluded.end_at, state = excluded.state,
                 seq = excluded.seq, updated_at = excluded.updated_at
             WHERE queue_bookings.station_id = excluded.station_id",
            args![
                &b.token,
                &state.station_id,
                &b.lane,
                b.role.map(Role::as_str),
                &stamp(b.start),
                &stamp(b.end),
                b.state.as_str(),
                seq,
                &sent_at,
            ],
        )?;
    }
    record_attendance(tx, &state.station_id, &state.on_duty, now)?;
    Ok(Recorded::Applied)
}

fn seq_to_db(seq: u64) -> Result<i64, HubStoreError> {
    i64::try_from(seq).map_err(|_| HubStoreError::BadRow(format!("seq {seq} is too large")))
}

/// Checks in whoever is new in `on_duty`, checks out whoever left it. A provider listed with
/// another `since` than their open stretch left and came back in between: the old stretch
/// ends when the new one begins.
fn record_attendance(
    tx: &mut dyn Db,
    station_id: &str,
    on_duty: &[OnDuty],
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let mut open: HashMap<String, (i64, String)> = HashMap::new();
    for row in tx.rows(
        "SELECT id, provider_id, checked_in_at FROM attendance
         WHERE station_id = ?1 AND checked_out_at IS NULL",
        args![station_id],
    )? {
        open.insert(row.text(1)?, (row.int(0)?, row.text(2)?));
    }
    let now_text = stamp(now);
    fn check_out(tx: &mut dyn Db, id: i64, at: &str) -> Result<u64, HubStoreError> {
        tx.exec(
            "UPDATE attendance SET checked_out_at = CASE WHEN checked_in_at > ?2
                                                        THEN checked_in_at ELSE ?2 END
             WHERE id = ?1",
            args![id, at],
        )
    }
    fn check_in(tx: &mut dyn Db, station_id: &str, d: &OnDuty) -> Result<u64, HubStoreError> {
        tx.exec(
            "INSERT INTO attendance (station_id, provider_id, role, name, checked_in_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![
                station_id,
                &d.provider_id,
                d.role.as_str(),
                &d.name,
                &stamp(d.since)
            ],
        )
    }
    for d in on_duty {
        let since = stamp(d.since);
        match open.remove(&d.provider_id) {
            None => {
                check_in(tx, station_id, d)?;
            }
            Some((id, open_since)) if open_since != since => {
                check_out(tx, id, &since.clone().min(now_text.clone()))?;
                check_in(tx, station_id, d)?;
            }
            Some((id, _)) => {
                tx.exec(
                    "UPDATE attendance SET role = ?2, name = ?3 WHERE id = ?1",
                    args![id, d.role.as_str(), &d.name],
                )?;
            }
        }
    }
    for (id, _) in open.into_values() {
        check_out(tx, id, &now_text)?;
    }
    Ok(())
}

/// A ticket as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TicketView {
    pub(crate) station_id: String,
    pub(crate) status: TicketStatus,
    /// The kiosk's time of the last station state that carried it (`None`: unreadable).
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

/// A stored count (people ahead, minutes, a counter), or `None` (logged) when it is negative
/// or too large.
fn read_count(
    table: &'static str,
    row: &dyn std::fmt::Display,
    column: &'static str,
    n: Option<i64>,
) -> Option<u32> {
    let n = n?;
    let count = u32::try_from(n).ok();
    if count.is_none() {
        unreadable(table, row, column);
    }
    count
}

/// A ticket by its canonical code: [`Damaged`] when its state or the time it was taken does
/// not read back.
pub(crate) fn ticket(
    db: &mut dyn Db,
    token: &str,
) -> Result<Option<Result<TicketView, Damaged>>, HubStoreError> {
    let Some(r) = db.row(
        "SELECT station_id, ticket, lane, state, ahead, wait_min, wait_max, counter, taken_at,
                updated_at
         FROM queue_tickets WHERE token = ?1",
        args![token],
    )?
    else {
        return Ok(None);
    };
    let (station_id, ticket, lane, state, [ahead, wait_min, wait_max, counter], taken, updated) = (
        r.text(0)?,
        r.text(1)?,
        r.text(2)?,
        r.text(3)?,
        [r.opt_int(4)?, r.opt_int(5)?, r.opt_int(6)?, r.opt_int(7)?],
        r.text(8)?,
        r.text(9)?,
    );
    let rowid = masked(token);
    const T: &str = "queue_tickets";
    let Some(state) = TicketState::parse(&state) else {
        unreadable(T, &rowid, "state");
        return Ok(Some(Err(Damaged {
            table: T,
            column: "state",
        })));
    };
    let Some(taken_at) = read_time(T, &rowid, "taken_at", &taken) else {
        return Ok(Some(Err(Damaged {
            table: T,
            column: "taken_at",
        })));
    };
    let (mut wait_min, mut wait_max) = (
        read_count(T, &rowid, "wait_min", wait_min),
        read_count(T, &rowid, "wait_max", wait_max),
    );
    if wait_min.zip(wait_max).is_none_or(|(min, max)| min > max) {
        // Half a range, or one upside down, is no estimate.
        (wait_min, wait_max) = (None, None);
    }
    Ok(Some(Ok(TicketView {
        station_id,
        status: TicketStatus {
            token: token.to_owned(),
            ticket,
            lane,
            state,
            ahead: read_count(T, &rowid, "ahead", ahead),
            wait_min,
            wait_max,
            counter: read_count(T, &rowid, "counter", counter),
            taken_at,
        },
        updated_at: read_time(T, &rowid, "updated_at", &updated),
    })))
}

/// A booking as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BookingView {
    pub(crate) station_id: String,
    pub(crate) status: BookingStatus,
    /// `None`: unreadable.
    pub(crate) updated_at: Option<DateTime<Utc>>,
}

/// A booking by its canonical code: [`Damaged`] when its state or its times do not read
/// back. A role that does not is left out (the page then names the lane only, as for a
/// discreet service).
pub(crate) fn booking(
    db: &mut dyn Db,
    token: &str,
) -> Result<Option<Result<BookingView, Damaged>>, HubStoreError> {
    let Some(r) = db.row(
        "SELECT station_id, lane, role, start_at, end_at, state, updated_at
         FROM queue_bookings WHERE token = ?1",
        args![token],
    )?
    else {
        return Ok(None);
    };
    let (station_id, lane, role, start, end, state, updated) = (
        r.text(0)?,
        r.text(1)?,
        r.opt_text(2)?,
        r.text(3)?,
        r.text(4)?,
        r.text(5)?,
        r.text(6)?,
    );
    let rowid = masked(token);
    const B: &str = "queue_bookings";
    let damaged = |column| Ok(Some(Err(Damaged { table: B, column })));
    let Some(state) = BookingState::parse(&state) else {
        unreadable(B, &rowid, "state");
        return damaged("state");
    };
    let Some(start) = read_time(B, &rowid, "start_at", &start) else {
        return damaged("start_at");
    };
    let Some(end) = read_time(B, &rowid, "end_at", &end).filter(|end| *end >= start) else {
        return damaged("end_at");
    };
    Ok(Some(Ok(BookingView {
        station_id,
        status: BookingStatus {
            token: token.to_owned(),
            lane,
            role: role.as_deref().and_then(|r| {
                let role = role_from_db(r);
                if role.is_none() {
                    unreadable(B, &rowid, "role");
                }
                role
            }),
            start,
            end,
            state,
        },
        updated_at: read_time(B, &rowid, "updated_at", &updated),
    })))
}

/// A code as the log names a row by it: its first four characters (the whole code opens the
/// record's page, so it is never logged).
fn masked(token: &str) -> String {
    format!("{}…", token.chars().take(4).collect::<String>())
}

fn role_from_db(text: &str) -> Option<Role> {
    [Role::Lawyer, Role::Counsellor, Role::Mediator]
        .into_iter()
        .find(|r| r.as_str() == text)
}

/// One station's queues and bookings as the operator page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct StationQueues {
    /// Tickets waiting per lane in the newest station state, when the station sent one.
    pub(crate) waiting: Option<BTreeMap<String, u32>>,
    /// Bookings (not cancelled) that start in the day asked about.
    pub(crate) bookings_today: u32,
}

/// Every station's queues, with the bookings that start in `[day_start, day_end)`.
pub(crate) fn station_queues(
    db: &mut dyn Db,
    day_start: DateTime<Utc>,
    day_end: DateTime<Utc>,
) -> Result<BTreeMap<String, StationQueues>, HubStoreError> {
    let mut out: BTreeMap<String, StationQueues> = BTreeMap::new();
    for row in db.rows("SELECT station_id, waiting FROM station_states", args![])? {
        let (id, waiting) = (row.text(0)?, row.text(1)?);
        let waiting: Option<BTreeMap<String, u32>> = serde_json::from_str(&waiting).ok();
        if waiting.is_none() {
            unreadable("station_states", &id, "waiting");
        }
        out.entry(id).or_default().waiting = waiting;
    }
    let rows = db.rows(
        "SELECT station_id, count(*) FROM queue_bookings
         WHERE start_at >= ?1 AND start_at < ?2 AND state <> 'cancelled'
         GROUP BY station_id",
        args![&stamp(day_start), &stamp(day_end)],
    )?;
    for row in rows {
        let (id, n) = (row.text(0)?, u32::try_from(row.int(1)?).unwrap_or(u32::MAX));
        out.entry(id).or_default().bookings_today = n;
    }
    Ok(out)
}

/// One stretch on duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attendance {
    pub(crate) station_id: String,
    pub(crate) provider_id: String,
    pub(crate) role: Role,
    pub(crate) name: String,
    pub(crate) checked_in_at: DateTime<Utc>,
    /// `None` while on duty.
    pub(crate) checked_out_at: Option<DateTime<Utc>>,
}

/// Who is on duty now and who was since `from`: every stretch still open or that ended at or
/// after `from`, by station, then check-in time.
pub(crate) fn attendance_since(
    db: &mut dyn Db,
    from: DateTime<Utc>,
) -> Result<Vec<Attendance>, HubStoreError> {
    let rows = db.rows(
        "SELECT station_id, provider_id, role, name, checked_in_at, checked_out_at, id
         FROM attendance WHERE checked_out_at IS NULL OR checked_out_at >= ?1
         ORDER BY station_id, checked_in_at, id LIMIT 2000",
        args![&stamp(from)],
    )?;
    let mut out = Vec::new();
    const A: &str = "attendance";
    for r in rows {
        let (station_id, provider_id, role, name, since, until, id) = (
            r.text(0)?,
            r.text(1)?,
            r.text(2)?,
            r.text(3)?,
            r.text(4)?,
            r.opt_text(5)?,
            r.int(6)?,
        );
        // A stretch whose role or times do not read back is left out (logged): an unreadable
        // check-out must not read as "still on duty".
        let Some(role) = role_from_db(&role) else {
            unreadable(A, &id, "role");
            continue;
        };
        let Some(checked_in_at) = read_time(A, &id, "checked_in_at", &since) else {
            continue;
        };
        let checked_out_at = match until.as_deref() {
            None => None,
            Some(text) => match read_time(A, &id, "checked_out_at", text) {
                Some(at) => Some(at),
                None => continue,
            },
        };
        out.push(Attendance {
            station_id,
            provider_id,
            role,
            name,
            checked_in_at,
            checked_out_at,
        });
    }
    Ok(out)
}

/// Sets the roster of `station_id`, stamped `now`; returns it as stored.
pub(crate) fn set_roster(
    tx: &mut dyn Db,
    station_id: &str,
    roster: &RosterDocument,
    now: DateTime<Utc>,
) -> Result<RosterDocument, HubStoreError> {
    let stored = RosterDocument {
        providers: roster.providers.clone(),
        updated_at: Some(now),
    };
    let body = serde_json::to_string(&stored).map_err(|e| HubStoreError::BadRow(e.to_string()))?;
    tx.exec(
        "INSERT INTO rosters (station_id, body, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (station_id) DO UPDATE SET body = excluded.body,
             updated_at = excluded.updated_at",
        args![station_id, &body, &stamp(now)],
    )?;
    Ok(stored)
}

/// The roster the district set for `station_id`, if any: [`Damaged`] when it does not read
/// back as a roster the hub would accept.
pub(crate) fn roster(
    db: &mut dyn Db,
    station_id: &str,
) -> Result<Option<Result<RosterDocument, Damaged>>, HubStoreError> {
    let body = db
        .row(
            "SELECT body FROM rosters WHERE station_id = ?1",
            args![station_id],
        )?
        .map(|r| r.text(0))
        .transpose()?;
    Ok(body.map(|b| {
        serde_json::from_str::<RosterDocument>(&b)
            .ok()
            .filter(|doc| {
                crate::validate::roster(doc).is_ok()
                    && serde_json::to_value(doc)
                        .ok()
                        .is_some_and(|v| crate::validate::door(&v).is_ok())
            })
            .ok_or_else(|| {
                unreadable("rosters", &station_id, "body");
                Damaged {
                    table: "rosters",
                    column: "body",
                }
            })
    }))
}
