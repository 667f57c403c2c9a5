//! Appointments, queue tickets, calls, attendance and the state sent upstream.
//!
//! Every change that a resident or staff member is told about is one `IMMEDIATE` transaction:
//! a booking with its slip's print job, a ticket with its print job, a call with the tickets it
//! passed over. `IMMEDIATE` takes SQLite's write lock first, so two screens or a screen and the
//! command line racing for the last place in a slot are serialised: exactly one wins. Each
//! change also bumps `station_sync.generation`, which tells the outbox task the hub's copy is
//! out of date.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::print_jobs::add_job;
use super::{Store, StoreError};
use domain::queue::TicketKind;
use protocol::{BookingState, TicketState};

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    pub(crate) id: String,
    pub token: String,
    pub service: String,
    pub provider: String,
    pub slot_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Personal data: only for staff screens, never for a slip or upstream.
    pub phone: Option<String>,
    pub state: BookingState,
    pub(crate) language: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// A new booking, checked by the caller against the roster and the booking rules.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    pub(crate) id: &'a str,
    pub(crate) token: &'a str,
    pub(crate) service: &'a str,
    pub(crate) provider: &'a str,
    pub(crate) slot_id: &'a str,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) phone: &'a str,
    pub(crate) language: &'a str,
    pub(crate) capacity: u32,
    pub(crate) by: &'a str,
}

/// Why a booking lost, decided inside the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingConflict {
    /// The phone already holds an active booking for this service (its start).
    PhoneHasBooking(DateTime<Utc>),
    Full,
}

/// A queue ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTicket {
    /// Arrival order.
    pub id: i64,
    pub token: String,
    pub(crate) day: NaiveDate,
    pub lane: String,
    pub(crate) number: u32,
    pub label: String,
    pub service: String,
    /// A walk-in, a priority ticket, or a checked-in appointment with its slot's start.
    pub kind: TicketKind,
    pub(crate) booking_id: Option<String>,
    pub case_id: Option<String>,
    pub state: TicketState,
    pub passed_over: u32,
    pub calls: u32,
    pub counter: Option<u32>,
    pub language: String,
    pub taken_at: DateTime<Utc>,
    pub(crate) called_at: Option<DateTime<Utc>>,
    pub(crate) done_at: Option<DateTime<Utc>>,
}

/// A new ticket. The number is the lane's next of the day, decided inside the transaction.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub(crate) token: &'a str,
    pub(crate) day: NaiveDate,
    pub(crate) lane: char,
    pub(crate) service: &'a str,
    pub(crate) kind: TicketKind,
    pub(crate) booking_id: Option<&'a str>,
    pub(crate) case_id: Option<&'a str>,
    pub(crate) language: &'a str,
    /// Whether the ticket's slip goes to the print queue (with the case's, when joined).
    pub(crate) print: bool,
}

/// One call of a ticket to a counter, for the display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCall {
    pub label: String,
    pub counter: u32,
    pub(crate) at: DateTime<Utc>,
}

/// What the station last sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// When this database began (Unix seconds).
    pub(crate) epoch: u64,
    pub generation: u64,
    pub sent: u64,
    pub next_try_at: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
}

impl SyncState {
    /// The `seq` the hub sees for `generation`: the database's epoch above the generation, so
    /// a new database (epoch later) outranks everything an old one sent.
    pub(crate) fn seq(&self, generation: u64) -> u64 {
        (self.epoch << 22).saturating_add(generation)
    }
}

/// The staff PIN and its lockout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAuth {
    pub pin_hash: Option<String>,
    pub(crate) failures: u32,
    pub(crate) locked_until: Option<DateTime<Utc>>,
}

/// One line of the staff audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub action: String,
    pub detail: String,
}

fn time(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn opt_time(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(time).transpose()
}

/// A word kept in a TEXT column, read back as its type (`what` names it in the error).
fn word<T>(s: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {what} {s:?}").into(),
        )
    })
}

/// The kind column with the appointment's start, as the queue rules see them.
fn ticket_kind(kind: &str, at: Option<DateTime<Utc>>) -> rusqlite::Result<TicketKind> {
    match (kind, at) {
        ("appointment", Some(at)) => Ok(TicketKind::Appointment { at }),
        ("appointment", None) => word(kind, "appointment without a start", |_| None),
        _ => word(kind, "ticket kind", |k| {
            [TicketKind::Walkin, TicketKind::Priority]
                .into_iter()
                .find(|t| t.as_str() == k)
        }),
    }
}

fn day(s: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

const BOOKING_COLUMNS: &str = "id, token, service, provider, slot_id, start_at, end_at, phone, \
                               state, language, created_at";

fn booking_row(r: &Row<'_>) -> rusqlite::Result<StoredBooking> {
    Ok(StoredBooking {
        id: r.get(0)?,
        token: r.get(1)?,
        service: r.get(2)?,
        provider: r.get(3)?,
        slot_id: r.get(4)?,
        start: time(&r.get::<_, String>(5)?)?,
        end: time(&r.get::<_, String>(6)?)?,
        phone: r.get(7)?,
        state: word(
            &r.get::<_, String>(8)?,
            "booking state",
            BookingState::parse,
        )?,
        language: r.get(9)?,
        created_at: time(&r.get::<_, String>(10)?)?,
    })
}

const TICKET_COLUMNS: &str = "id, token, day, lane, number, label, service, kind, \
                              appointment_at, booking_id, case_id, state, passed_over, calls, \
                              counter, language, taken_at, called_at, done_at";

fn ticket_row(r: &Row<'_>) -> rusqlite::Result<StoredTicket> {
    Ok(StoredTicket {
        id: r.get(0)?,
        token: r.get(1)?,
        day: day(&r.get::<_, String>(2)?)?,
        lane: r.get(3)?,
        number: r.get(4)?,
        label: r.get(5)?,
        service: r.get(6)?,
        kind: ticket_kind(&r.get::<_, String>(7)?, opt_time(r.get(8)?)?)?,
        booking_id: r.get(9)?,
        case_id: r.get(10)?,
        state: word(&r.get::<_, String>(11)?, "ticket state", TicketState::parse)?,
        passed_over: r.get(12)?,
        calls: r.get(13)?,
        counter: r.get(14)?,
        language: r.get(15)?,
        taken_at: time(&r.get::<_, String>(16)?)?,
        called_at: opt_time(r.get(17)?)?,
        done_at: opt_time(r.get(18)?)?,
    })
}

/// Begins an `IMMEDIATE` transaction, leaving the connection clean if `BEGIN` itself fails
/// after taking effect (see `insert_intake`).
fn immediate(conn: &Connection) -> rusqlite::Result<Transaction<'_>> {
    match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
        Ok(tx) => Ok(tx),
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Err(e)
        }
    }
}

fn bump(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE station_sync SET generation = generation + 1, next_try_at = NULL WHERE id = 1",
        [],
    )?;
    Ok(())
}

impl Store {
    /// Runs one `UPDATE` meant to change one row, in an `IMMEDIATE` transaction; when it did, the
    /// station's state is marked changed. `false` when no row matched (someone else got there
    /// first).
    fn change_one(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool, StoreError> {
        let fail = |e| super::classify(e, &self.path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let n = tx.execute(sql, params).map_err(fail)?;
        if n == 1 {
            bump(&tx).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(n == 1)
    }

    /// Books a place in a slot: refuses (inside the transaction, so a race has one winner) when
    /// the phone already holds an active booking for the service or the slot is full. The
    /// booking, its slip's print job and the sync bump commit together.
    pub(crate) fn insert_booking(
        &mut self,
        b: &NewBooking<'_>,
        now: DateTime<Utc>,
    ) -> Result<Result<StoredBooking, BookingConflict>, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let at = now.to_rfc3339();
        let existing: Option<String> = tx
            .query_row(
                "SELECT start_at FROM bookings
                 WHERE service = ?1 AND phone = ?2 AND state = 'booked' AND end_at > ?3
                 ORDER BY start_at LIMIT 1",
                params![b.service, b.phone, at],
                |r| r.get(0),
            )
            .optional()
            .map_err(fail)?;
        if let Some(start) = existing {
            return Ok(Err(BookingConflict::PhoneHasBooking(
                time(&start).map_err(fail)?,
            )));
        }
        let taken: u32 = tx
            .query_row(
                "SELECT COUNT(*) FROM bookings
                 WHERE slot_id = ?1 AND state IN ('booked', 'checked_in')",
                [b.slot_id],
                |r| r.get(0),
            )
            .map_err(fail)?;
        if taken >= b.capacity {
            return Ok(Err(BookingConflict::Full));
        }
        tx.execute(
            "INSERT INTO bookings (id, token, service, provider, slot_id, start_at, end_at, phone,
                                   state, language, created_at, changed_at, changed_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'booked', ?9, ?10, ?10, ?11)",
            params![
                b.id,
                b.token,
                b.service,
                b.provider,
                b.slot_id,
                b.start.to_rfc3339(),
                b.end.to_rfc3339(),
                b.phone,
                b.language,
                at,
                b.by
            ],
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, Some(m))
                if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("token") =>
            {
                StoreError::TokenTaken
            }
            _ => fail(e),
        })?;
        add_job(&tx, None, None, Some(b.id), "booked", now).map_err(fail)?;
        bump(&tx).map_err(fail)?;
        let stored = tx
            .query_row(
                &format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = ?1"),
                [b.id],
                booking_row,
            )
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(Ok(stored))
    }

    pub(crate) fn booking_by_token(
        &self,
        token: &str,
    ) -> Result<Option<StoredBooking>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE token = ?1"),
                [token],
                booking_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    pub(crate) fn booking_by_id(&self, id: &str) -> Result<Option<StoredBooking>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE id = ?1"),
                [id],
                booking_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Bookings whose slot starts in `[from, to)`, in time order.
    pub fn bookings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<StoredBooking>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {BOOKING_COLUMNS} FROM bookings
                 WHERE start_at >= ?1 AND start_at < ?2 ORDER BY start_at, created_at"
            ))
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![from.to_rfc3339(), to.to_rfc3339()], booking_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    /// Cancels a booking still `booked`; `false` when it was not (already cancelled or checked
    /// in).
    pub fn cancel_booking(
        &mut self,
        id: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_one(
            "UPDATE bookings SET state = 'cancelled', changed_at = ?2, changed_by = ?3
                 WHERE id = ?1 AND state = 'booked'",
            params![id, now.to_rfc3339(), by],
        )
    }

    /// Takes a ticket: the lane's next number of the day, the ticket, (when `print`) its slip's
    /// print job, and for a check-in the booking marked `checked_in`, all in one transaction.
    /// Returns `None` for a check-in whose booking is no longer `booked` (a race lost).
    pub(crate) fn insert_ticket(
        &mut self,
        t: &NewTicket<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredTicket>, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let at = now.to_rfc3339();
        if let Some(booking) = t.booking_id {
            let n = tx
                .execute(
                    "UPDATE bookings SET state = 'checked_in', changed_at = ?2,
                            changed_by = 'resident'
                     WHERE id = ?1 AND state = 'booked'",
                    params![booking, at],
                )
                .map_err(fail)?;
            if n != 1 {
                return Ok(None);
            }
        }
        let day_s = t.day.format("%Y-%m-%d").to_string();
        let lane = t.lane.to_string();
        let number: u32 = tx
            .query_row(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM tickets
                 WHERE day = ?1 AND substr(label, 1, 1) = ?2",
                params![day_s, lane],
                |r| r.get(0),
            )
            .map_err(fail)?;
        let label = domain::queue::ticket_label(t.lane, number);
        tx.execute(
            "INSERT INTO tickets (token, day, lane, number, label, service, kind, appointment_at,
                                  booking_id, case_id, state, language, taken_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'waiting', ?11, ?12)",
            params![
                t.token,
                day_s,
                lane,
                number,
                label,
                t.service,
                t.kind.as_str(),
                match t.kind {
                    TicketKind::Appointment { at } => Some(at.to_rfc3339()),
                    _ => None,
                },
                t.booking_id,
                t.case_id,
                t.language,
                at
            ],
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, Some(m))
                if f.code == rusqlite::ErrorCode::ConstraintViolation && m.contains("token") =>
            {
                StoreError::TokenTaken
            }
            _ => fail(e),
        })?;
        let id = tx.last_insert_rowid();
        if t.print {
            add_job(&tx, t.case_id, Some(id), None, "ticket", now).map_err(fail)?;
        }
        bump(&tx).map_err(fail)?;
        let stored = tx
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"),
                [id],
                ticket_row,
            )
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(Some(stored))
    }

    /// Every ticket of a local day, in arrival order.
    pub(crate) fn tickets_of_day(&self, day: NaiveDate) -> Result<Vec<StoredTicket>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE day = ?1 ORDER BY id"
            ))
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([day.format("%Y-%m-%d").to_string()], ticket_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    pub(crate) fn ticket_by_token(&self, token: &str) -> Result<Option<StoredTicket>, StoreError> {
        self.ticket_where("token = ?1", token)
    }

    pub(crate) fn ticket_by_id(&self, id: i64) -> Result<Option<StoredTicket>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"),
                [id],
                ticket_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The ticket of `day` printed as `label` (`C003`).
    pub(crate) fn ticket_by_label(
        &self,
        day: NaiveDate,
        label: &str,
    ) -> Result<Option<StoredTicket>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE day = ?1 AND label = ?2"),
                params![day.format("%Y-%m-%d").to_string(), label],
                ticket_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    fn ticket_where(&self, cond: &str, value: &str) -> Result<Option<StoredTicket>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE {cond}"),
                [value],
                ticket_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Calls ticket `id` to `counter`: it must still be waiting (two counters racing for the
    /// same ticket: one wins, the other gets `false`). The ticket the counter was serving is
    /// marked served, the tickets in `passed_over` count one more pass, and the call is logged.
    pub(crate) fn call_ticket(
        &mut self,
        id: i64,
        counter: u32,
        passed_over: &[i64],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let at = now.to_rfc3339();
        // Yesterday's leftovers at this counter are closed too: nobody serves them now.
        tx.execute(
            "UPDATE tickets SET state = 'served', done_at = ?2
             WHERE state = 'called' AND counter = ?1",
            params![counter, at],
        )
        .map_err(fail)?;
        let n = tx
            .execute(
                "UPDATE tickets SET state = 'called', calls = calls + 1, counter = ?2,
                        called_at = ?3
                 WHERE id = ?1 AND state = 'waiting'",
                params![id, counter, at],
            )
            .map_err(fail)?;
        if n != 1 {
            return Ok(false);
        }
        for other in passed_over {
            tx.execute(
                "UPDATE tickets SET passed_over = passed_over + 1
                 WHERE id = ?1 AND state = 'waiting'",
                [other],
            )
            .map_err(fail)?;
        }
        tx.execute(
            "INSERT INTO queue_calls (ticket_id, counter, at) VALUES (?1, ?2, ?3)",
            params![id, counter, at],
        )
        .map_err(fail)?;
        bump(&tx).map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(true)
    }

    /// The ticket a counter has called on `day` and not finished (yesterday's leftovers do
    /// not count).
    pub(crate) fn ticket_at_counter(
        &self,
        counter: u32,
        day: NaiveDate,
    ) -> Result<Option<StoredTicket>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {TICKET_COLUMNS} FROM tickets
                     WHERE state = 'called' AND counter = ?1 AND day = ?2
                     ORDER BY called_at DESC LIMIT 1"
                ),
                params![counter, day.format("%Y-%m-%d").to_string()],
                ticket_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Calls a called ticket again (the display shows it again).
    pub(crate) fn recall_ticket(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let counter: Option<u32> = tx
            .query_row(
                "SELECT counter FROM tickets WHERE id = ?1 AND state = 'called'",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(fail)?;
        let Some(counter) = counter else {
            return Ok(false);
        };
        tx.execute("UPDATE tickets SET calls = calls + 1 WHERE id = ?1", [id])
            .map_err(fail)?;
        tx.execute(
            "INSERT INTO queue_calls (ticket_id, counter, at) VALUES (?1, ?2, ?3)",
            params![id, counter, now.to_rfc3339()],
        )
        .map_err(fail)?;
        bump(&tx).map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(true)
    }

    /// Finishes a ticket still called to `counter` as `served` or `no_show`; `false` when it
    /// is no longer there (finished, transferred or called elsewhere meanwhile).
    pub(crate) fn finish_ticket(
        &mut self,
        id: i64,
        counter: Option<u32>,
        state: TicketState,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_one(
            "UPDATE tickets SET state = ?2, done_at = ?3
                 WHERE id = ?1 AND state = 'called' AND counter IS ?4",
            params![id, state.as_str(), now.to_rfc3339(), counter],
        )
    }

    /// Moves a waiting or called ticket to another lane: it waits there in its original arrival
    /// order, keeping the number printed on its slip; its calls and passes start again there.
    pub(crate) fn transfer_ticket(
        &mut self,
        id: i64,
        lane: char,
        service: &str,
    ) -> Result<bool, StoreError> {
        self.change_one(
            "UPDATE tickets SET lane = ?2, service = ?3, state = 'waiting', counter = NULL,
                        calls = 0, passed_over = 0
                 WHERE id = ?1 AND state IN ('called', 'waiting')",
            params![id, lane.to_string(), service],
        )
    }

    /// Service times (called to served, seconds) of a lane since `since`: the wait estimate's
    /// history. Times over four hours are left out (a ticket forgotten at a counter).
    pub(crate) fn service_times(
        &self,
        lane: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT called_at, done_at FROM tickets
                 WHERE lane = ?1 AND state = 'served' AND called_at IS NOT NULL
                   AND done_at >= ?2",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![lane, since.to_rfc3339()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (called, done) = row.map_err(|e| self.error(e))?;
            let (Ok(c), Ok(d)) = (time(&called), time(&done)) else {
                continue;
            };
            let secs = (d - c).num_seconds();
            if (1..=4 * 3600).contains(&secs) {
                out.push(secs as u32);
            }
        }
        Ok(out)
    }

    /// The last `n` calls of tickets of `day`, newest first.
    pub fn last_calls(&self, n: u32, day: NaiveDate) -> Result<Vec<QueueCall>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT t.label, c.counter, c.at FROM queue_calls c
                 JOIN tickets t ON t.id = c.ticket_id WHERE t.day = ?2
                 ORDER BY c.id DESC LIMIT ?1",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![n, day.format("%Y-%m-%d").to_string()], |r| {
                Ok(QueueCall {
                    label: r.get(0)?,
                    counter: r.get(1)?,
                    at: time(&r.get::<_, String>(2)?)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    /// The id of the last call (0 when none): the display chimes when it grows.
    pub fn last_call_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM queue_calls", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.error(e))
    }

    /// Records a provider checking in (`in`) or out (`out`).
    pub fn attendance(
        &mut self,
        provider: &str,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        tx.execute(
            "INSERT INTO attendance (provider, action, at) VALUES (?1, ?2, ?3)",
            params![provider, action, now.to_rfc3339()],
        )
        .map_err(fail)?;
        bump(&tx).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Providers whose latest attendance is a check-in, with when.
    pub fn on_duty(&self) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.provider, a.at FROM attendance a
                 WHERE a.id = (SELECT MAX(b.id) FROM attendance b WHERE b.provider = a.provider)
                   AND a.action = 'in'
                 ORDER BY a.at",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, time(&r.get::<_, String>(1)?)?))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    pub fn sync_state(&self) -> Result<SyncState, StoreError> {
        self.conn
            .query_row(
                "SELECT generation, sent, next_try_at, last_error, epoch FROM station_sync
                 WHERE id = 1",
                [],
                |r| {
                    Ok(SyncState {
                        epoch: r.get::<_, i64>(4)?.max(0) as u64,
                        generation: r.get::<_, i64>(0)? as u64,
                        sent: r.get::<_, i64>(1)? as u64,
                        next_try_at: opt_time(r.get(2)?)?,
                        last_error: r.get(3)?,
                    })
                },
            )
            .map_err(|e| self.error(e))
    }

    /// Marks the state of `generation` as delivered (never moving backwards).
    pub(crate) fn sync_sent(&self, generation: u64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE station_sync SET sent = MAX(sent, ?1), next_try_at = NULL,
                        last_error = NULL WHERE id = 1",
                [generation as i64],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub(crate) fn sync_failed(
        &self,
        error: &str,
        next_try: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE station_sync SET last_error = ?1, next_try_at = ?2 WHERE id = 1",
                params![error, next_try.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub fn staff_auth(&self) -> Result<StaffAuth, StoreError> {
        self.conn
            .query_row(
                "SELECT pin_hash, failures, locked_until FROM staff_auth WHERE id = 1",
                [],
                |r| {
                    Ok(StaffAuth {
                        pin_hash: r.get(0)?,
                        failures: r.get(1)?,
                        locked_until: opt_time(r.get(2)?)?,
                    })
                },
            )
            .map_err(|e| self.error(e))
    }

    /// Writes the PIN hash; the failure count and any lock are cleared.
    pub(crate) fn set_pin_hash(
        &mut self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        tx.execute(
            "UPDATE staff_auth SET pin_hash = ?1, failures = 0, locked_until = NULL WHERE id = 1",
            [hash],
        )
        .map_err(fail)?;
        audit(&tx, "set-pin", "the staff PIN was changed", now).map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// One sign-in attempt, whole: reads the PIN hash and the lockout, lets `decide` judge the
    /// attempt (it returns whether the PIN was right, or `None` when it was not even checked,
    /// being locked, and the lock to set after a failure), and records the outcome with its
    /// audit line, all inside one `IMMEDIATE` transaction. Attempts from two screens or
    /// processes at once are judged one after the other, so none can see a stale failure count
    /// or lift a lock another just set.
    pub(crate) fn staff_attempt<T>(
        &mut self,
        now: DateTime<Utc>,
        decide: impl FnOnce(&StaffAuth) -> (Option<bool>, Option<DateTime<Utc>>, T),
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let tx = immediate(&self.conn).map_err(fail)?;
        let auth = tx
            .query_row(
                "SELECT pin_hash, failures, locked_until FROM staff_auth WHERE id = 1",
                [],
                |r| {
                    Ok(StaffAuth {
                        pin_hash: r.get(0)?,
                        failures: r.get(1)?,
                        locked_until: opt_time(r.get(2)?)?,
                    })
                },
            )
            .map_err(fail)?;
        let (verdict, locked_until, answer) = decide(&auth);
        match verdict {
            Some(true) => {
                tx.execute(
                    "UPDATE staff_auth SET failures = 0, locked_until = NULL WHERE id = 1",
                    [],
                )
                .map_err(fail)?;
                audit(&tx, "sign-in", "staff mode entered", now).map_err(fail)?;
            }
            Some(false) => {
                tx.execute(
                    "UPDATE staff_auth SET failures = failures + 1, locked_until = ?1 WHERE id = 1",
                    [locked_until.map(|t| t.to_rfc3339())],
                )
                .map_err(fail)?;
                let detail = match locked_until {
                    Some(t) => format!("wrong PIN; staff mode locked until {}", t.to_rfc3339()),
                    None => "wrong PIN".to_owned(),
                };
                audit(&tx, "sign-in-failed", &detail, now).map_err(fail)?;
            }
            None => {
                audit(
                    &tx,
                    "sign-in-refused",
                    "a PIN was typed while the staff mode is locked or has no PIN",
                    now,
                )
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        Ok(answer)
    }

    /// Writes one line to the staff audit log.
    pub fn audit(&self, action: &str, detail: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        audit(&self.conn, action, detail, now).map_err(|e| self.error(e))
    }

    /// The newest `n` audit lines, newest first.
    pub fn audit_log(&self, n: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, action, detail FROM staff_audit ORDER BY id DESC LIMIT ?1")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([n], |r| {
                Ok(AuditEntry {
                    at: time(&r.get::<_, String>(0)?)?,
                    action: r.get(1)?,
                    detail: r.get(2)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    /// Keeps the roster the hub set (its JSON), replacing the last one.
    pub(crate) fn set_upstream_roster(
        &self,
        json: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO roster_upstream (id, document, fetched_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET document = ?1, fetched_at = ?2",
                params![json, now.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Forgets the hub's roster (the hub has none for the station any more).
    pub(crate) fn clear_upstream_roster(&self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM roster_upstream", [])
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub(crate) fn upstream_roster(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT document FROM roster_upstream WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }
}

fn audit(
    conn: &Connection,
    action: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO staff_audit (at, action, detail) VALUES (?1, ?2, ?3)",
        params![now.to_rfc3339(), action, detail],
    )?;
    Ok(())
}
