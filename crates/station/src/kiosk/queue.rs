//! Appointments and the walk-in queue: the operations behind the Book, Take a number and
//! check-in screens, the staff queue console and the `booking`/`queue` commands. The rules are
//! in `domain::roster` and `domain::queue`; this module applies them to the database, with the
//! time passed in (so tests control the clock) and the station's local day from the system's
//! time zone.

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, Offset, Utc};
use uuid::Uuid;

use super::{Kiosk, KioskError};
use crate::store::{
    BookingConflict, NewBooking, NewTicket, QueueCall, StoreError, StoredBooking, StoredTicket,
};
use domain::queue::{self, TicketKind, Waiting};
use domain::roster::{self, Arrival, Roster, Slot, SlotError};
use domain::{Language, Phone, Service, TrackingToken};
use protocol::{BookingState, RosterDocument, TicketState};

/// The station's UTC offset at `at` (the system's time zone).
pub fn station_offset(at: DateTime<Utc>) -> FixedOffset {
    at.with_timezone(&Local).offset().fix()
}

/// The station's local day at `at`: the queue's numbers start again each day.
pub fn station_day(at: DateTime<Utc>) -> NaiveDate {
    roster::local_date(at, station_offset(at))
}

/// Everything that can stop a booking, a check-in or a queue action, in words for the
/// resident or staff member in front of the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("`{0}` is not one of this station's services")]
    UnknownService(String),
    #[error("nobody gives appointments for {0} at this station")]
    NoAppointments(String),
    #[error(transparent)]
    Slot(#[from] SlotError),
    #[error("the slot {slot} is for {slot_service}, not {service}")]
    WrongService {
        slot: String,
        slot_service: String,
        service: String,
    },
    #[error(
        "this phone number already has an appointment for this service (on {0}); cancel it first"
    )]
    PhoneHasBooking(String),
    #[error("a booking needs a phone number: {0}")]
    Phone(String),
    #[error("no booking has the code {0}")]
    NoBooking(String),
    #[error("the booking {0} was cancelled")]
    Cancelled(String),
    #[error("the booking {0} has already been checked in")]
    AlreadyCheckedIn(String),
    #[error("too early to check in: the appointment is at {start}; check-in opens at {opens}")]
    TooEarly { start: String, opens: String },
    #[error("too late to check in: the appointment was at {start}; check-in closed at {closed}")]
    TooLate { start: String, closed: String },
    #[error("no ticket {0} today")]
    NoTicket(String),
    #[error("counter {counter} does not exist (this station has counters 1 to {counters})")]
    NoCounter { counter: u32, counters: u32 },
    #[error("nobody is waiting{0}")]
    NobodyWaiting(String),
    #[error("counter {0} has nobody called")]
    CounterIdle(u32),
    #[error("ticket {label} is {state}, not {wanted}")]
    WrongState {
        label: String,
        /// The ticket's state now, or `gone`.
        state: &'static str,
        wanted: &'static str,
    },
    #[error("ticket {label} has been called {calls} time(s); call it {needed} time(s) before marking a no-show")]
    TooFewCalls {
        label: String,
        calls: u32,
        needed: u32,
    },
    #[error("ticket {0} is already in that lane")]
    SameLane(String),
    #[error("{0} is not a queue code of this station")]
    NotOurs(String),
}

/// A slot with how many places are left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotView {
    pub slot: Slot,
    pub free: u32,
    /// The provider's display name, for staff (never printed for a discreet service).
    pub provider_name: domain::Localized,
}

/// A booking just made.
#[derive(Debug, Clone)]
pub struct Booked {
    pub booking: StoredBooking,
    pub token: TrackingToken,
    /// `<tracking_base_url>/T/<CODE>`: the appointment's page.
    pub url: String,
}

/// A ticket and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketView {
    pub ticket: StoredTicket,
    /// How many will be called first (while waiting).
    pub ahead: Option<u32>,
    /// Wait range in minutes, when the lane has enough history.
    pub wait: Option<(u32, u32)>,
    pub url: String,
}

/// A lane's queue now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneView {
    pub lane: char,
    pub service: String,
    /// Waiting tickets in the order they will be called.
    pub waiting: Vec<StoredTicket>,
    /// Tickets called and not yet finished.
    pub called: Vec<StoredTicket>,
    pub served_today: u32,
    pub median_service_s: Option<u32>,
}

/// What a scanned or typed code turned out to be.
#[derive(Debug, Clone)]
pub enum CodeKind {
    Case,
    Booking(StoredBooking),
    Ticket(StoredTicket),
    Unknown,
}

fn local_text(at: DateTime<Utc>) -> String {
    at.with_timezone(&station_offset(at))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

impl Kiosk {
    /// The roster in force: the hub's for this station when it set one, else the
    /// configuration's.
    pub fn roster(&self) -> Roster {
        if let Ok(Some(json)) = self.store.upstream_roster() {
            if let Ok(doc) = serde_json::from_str::<RosterDocument>(&json) {
                return Roster {
                    providers: doc.providers,
                };
            }
        }
        self.config.roster.clone()
    }

    fn service(&self, id: &str) -> Result<&Service, QueueError> {
        self.config
            .catalogue
            .service(id)
            .ok_or_else(|| QueueError::UnknownService(id.to_owned()))
    }

    /// Services someone gives appointments for, in catalogue order.
    pub fn bookable_services(&self) -> Vec<&Service> {
        let roster = self.roster();
        self.config
            .catalogue
            .services
            .iter()
            .filter(|s| roster.providers.iter().any(|p| p.service == s.id))
            .collect()
    }

    /// The slots of `service` a resident could book now over the next `days` days (today
    /// first), with the places left; full slots are listed with `free = 0`.
    pub fn booking_slots(
        &self,
        service: &str,
        days: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotView>, KioskError> {
        self.service(service)?;
        let roster = self.roster();
        if !roster.providers.iter().any(|p| p.service == service) {
            return Err(QueueError::NoAppointments(service.to_owned()).into());
        }
        let offset = station_offset(now);
        let rules = &self.config.appointments;
        let days = days.clamp(1, rules.booking_window_days + 1);
        let slots = roster.slots(Some(service), roster::local_date(now, offset), days, offset);
        let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
            return Ok(Vec::new());
        };
        let bookings = self
            .store
            .bookings_between(first.start, last.start + Duration::seconds(1))?;
        let mut out = Vec::new();
        for slot in slots {
            let taken = bookings
                .iter()
                .filter(|b| b.slot_id == slot.id && b.state != BookingState::Cancelled)
                .count() as u32;
            match rules.check_bookable(&slot, taken, now, offset) {
                Ok(()) | Err(SlotError::Full(_)) => {
                    let name = roster
                        .provider(&slot.provider)
                        .map(|p| p.name.clone())
                        .unwrap_or_else(|| domain::Localized::new("", ""));
                    out.push(SlotView {
                        free: slot.capacity.saturating_sub(taken),
                        slot,
                        provider_name: name,
                    });
                }
                Err(_) => {}
            }
        }
        Ok(out)
    }

    /// Books `slot_id` for the resident with `phone`. Refuses an unknown, past, too-soon,
    /// too-far or full slot and a second active booking for the same phone and service, each
    /// with its own reason; a race for the last place has exactly one winner.
    pub fn book(
        &mut self,
        service: &str,
        slot_id: &str,
        phone: &str,
        language: Language,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Booked, KioskError> {
        self.service(service)?;
        let phone = Phone::parse(phone).map_err(|e| QueueError::Phone(e.to_string()))?;
        let offset = station_offset(now);
        let slot = self
            .roster()
            .slot(slot_id, offset)
            .map_err(QueueError::from)?;
        if slot.service != service {
            return Err(QueueError::WrongService {
                slot: slot.id,
                slot_service: slot.service,
                service: service.to_owned(),
            }
            .into());
        }
        // Time rules first (the count is checked again inside the transaction).
        self.config
            .appointments
            .check_bookable(&slot, 0, now, offset)
            .map_err(QueueError::from)?;
        let mut attempts = 0;
        loop {
            let token = self.fresh_token()?;
            let id = Uuid::now_v7().to_string();
            let new = NewBooking {
                id: &id,
                token: token.as_str(),
                service,
                provider: &slot.provider,
                slot_id: &slot.id,
                start: slot.start,
                end: slot.end,
                phone: phone.as_str(),
                language: language.code(),
                capacity: slot.capacity,
                by,
            };
            match self.store.insert_booking(&new, now) {
                Ok(Ok(booking)) => {
                    let url = self.tracking_url(&token);
                    return Ok(Booked {
                        booking,
                        token,
                        url,
                    });
                }
                Ok(Err(BookingConflict::Full)) => {
                    return Err(QueueError::Slot(SlotError::Full(slot.id)).into())
                }
                Ok(Err(BookingConflict::PhoneHasBooking(start))) => {
                    return Err(QueueError::PhoneHasBooking(local_text(start)).into())
                }
                Err(StoreError::TokenTaken) if attempts < 3 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn booking_by_code(&self, code: &str) -> Result<StoredBooking, KioskError> {
        let token = TrackingToken::parse(code)?;
        self.store
            .booking_by_token(token.as_str())?
            .ok_or_else(|| QueueError::NoBooking(token.grouped()).into())
    }

    /// Cancels a booking by its code (`by`: `resident`, `staff` or `cli`).
    pub fn cancel_booking(
        &mut self,
        code: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredBooking, KioskError> {
        let b = self.booking_by_code(code)?;
        let grouped = TrackingToken::parse(code)?.grouped();
        match b.state {
            BookingState::Cancelled => return Err(QueueError::Cancelled(grouped).into()),
            BookingState::CheckedIn => return Err(QueueError::AlreadyCheckedIn(grouped).into()),
            BookingState::Booked => {}
        }
        if !self.store.cancel_booking(&b.id, by, now)? {
            return Err(QueueError::Cancelled(grouped).into());
        }
        if by != "resident" {
            self.audit_after("booking-cancel", &format!("{} {}", b.slot_id, grouped), now);
        }
        self.booking_by_code(code)
    }

    /// Checks in the booking with `code`: within the arrival window it becomes a ticket ahead
    /// of walk-ins (from its slot's start), printed; outside it, the reason.
    pub fn check_in(&mut self, code: &str, now: DateTime<Utc>) -> Result<TicketView, KioskError> {
        let b = self.booking_by_code(code)?;
        let grouped = TrackingToken::parse(code)?.grouped();
        match b.state {
            BookingState::Cancelled => return Err(QueueError::Cancelled(grouped).into()),
            BookingState::CheckedIn => return Err(QueueError::AlreadyCheckedIn(grouped).into()),
            BookingState::Booked => {}
        }
        match self.config.appointments.arrival(b.start, now) {
            Arrival::InTime => {}
            Arrival::TooEarly { opens } => {
                return Err(QueueError::TooEarly {
                    start: local_text(b.start),
                    opens: local_text(opens),
                }
                .into())
            }
            Arrival::TooLate { closed } => {
                return Err(QueueError::TooLate {
                    start: local_text(b.start),
                    closed: local_text(closed),
                }
                .into())
            }
        }
        let lane = self.service(&b.service)?.lane;
        let language = Language::parse(&b.language).unwrap_or_default();
        let ticket = self
            .insert_ticket_retrying(
                lane,
                &b.service,
                TicketKind::Appointment { at: b.start },
                Some(&b.id),
                None,
                language,
                now,
            )?
            .ok_or(QueueError::AlreadyCheckedIn(grouped))?;
        self.ticket_view(ticket, now)
    }

    /// Takes a walk-in ticket for `service` (`priority`: elderly, disabled or pregnant,
    /// self-declared), printed; with `case`, joined to a case just filed so both go on one slip.
    pub fn take_ticket(
        &mut self,
        service: &str,
        priority: bool,
        case: Option<&str>,
        language: Language,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        let lane = self.service(service)?.lane;
        let case_id = match case {
            Some(code) => Some(self.find_case(code)?.case.id.to_string()),
            None => None,
        };
        let kind = if priority {
            TicketKind::Priority
        } else {
            TicketKind::Walkin
        };
        let ticket = self
            .insert_ticket_retrying(lane, service, kind, None, case_id.as_deref(), language, now)?
            .expect("a walk-in ticket has no booking to lose a race for");
        self.ticket_view(ticket, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_ticket_retrying(
        &mut self,
        lane: char,
        service: &str,
        kind: TicketKind,
        booking_id: Option<&str>,
        case_id: Option<&str>,
        language: Language,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredTicket>, KioskError> {
        let mut attempts = 0;
        loop {
            let token = self.fresh_token()?;
            let new = NewTicket {
                token: token.as_str(),
                day: station_day(now),
                lane,
                service,
                kind,
                booking_id,
                case_id,
                language: language.code(),
                print: true,
            };
            match self.store.insert_ticket(&new, now) {
                Err(StoreError::TokenTaken) if attempts < 3 => attempts += 1,
                other => return Ok(other?),
            }
        }
    }

    fn waiting_of(tickets: &[StoredTicket]) -> Vec<Waiting> {
        tickets
            .iter()
            .filter(|t| t.state == TicketState::Waiting)
            .map(|t| Waiting {
                arrival: t.id,
                kind: t.kind,
                passed_over: t.passed_over,
            })
            .collect()
    }

    /// The lane's recent service times (the wait estimate's history).
    fn history(&self, lane: &str, now: DateTime<Utc>) -> Result<Vec<u32>, KioskError> {
        let since = now - Duration::days(i64::from(self.config.queue.history_days));
        Ok(self.store.service_times(lane, since)?)
    }

    /// Where a ticket stands: how many are ahead in its lane, and the wait range.
    pub fn ticket_view(
        &self,
        ticket: StoredTicket,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        let token = TrackingToken::parse(&ticket.token)?;
        let url = self.tracking_url(&token);
        if ticket.state != TicketState::Waiting || ticket.day != station_day(now) {
            return Ok(TicketView {
                ticket,
                ahead: None,
                wait: None,
                url,
            });
        }
        let lane: Vec<StoredTicket> = self
            .store
            .tickets_of_day(ticket.day)?
            .into_iter()
            .filter(|t| t.lane == ticket.lane)
            .collect();
        let ahead = queue::ahead_of(
            &Self::waiting_of(&lane),
            ticket.id,
            now,
            self.config.queue.rules(),
        );
        let wait = match ahead {
            Some(a) => queue::wait_range(a, &self.history(&ticket.lane, now)?),
            None => None,
        };
        Ok(TicketView {
            ticket,
            ahead,
            wait,
            url,
        })
    }

    /// Today's queues, lane by lane in catalogue order.
    pub fn queue_lanes(&self, now: DateTime<Utc>) -> Result<Vec<LaneView>, KioskError> {
        let tickets = self.store.tickets_of_day(station_day(now))?;
        let rules = self.config.queue.rules();
        let mut out = Vec::new();
        for service in &self.config.catalogue.services {
            let lane = service.lane.to_string();
            let mine: Vec<StoredTicket> =
                tickets.iter().filter(|t| t.lane == lane).cloned().collect();
            let order = queue::order(&Self::waiting_of(&mine), now, rules);
            let waiting = order
                .iter()
                .filter_map(|a| mine.iter().find(|t| t.id == *a).cloned())
                .collect();
            out.push(LaneView {
                lane: service.lane,
                service: service.id.clone(),
                waiting,
                called: mine
                    .iter()
                    .filter(|t| t.state == TicketState::Called)
                    .cloned()
                    .collect(),
                served_today: mine
                    .iter()
                    .filter(|t| t.state == TicketState::Served)
                    .count() as u32,
                median_service_s: queue::median_service_s(&self.history(&lane, now)?),
            });
        }
        Ok(out)
    }

    fn check_counter(&self, counter: u32) -> Result<(), QueueError> {
        let counters = self.config.queue.counters;
        if counter == 0 || counter > counters {
            return Err(QueueError::NoCounter { counter, counters });
        }
        Ok(())
    }

    /// Calls the next ticket to `counter`, from `service`'s lane or from every lane; the
    /// ticket the counter was serving counts as served.
    pub fn call_next(
        &mut self,
        counter: u32,
        service: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        self.check_counter(counter)?;
        let lane = match service {
            Some(s) => Some(self.service(s)?.lane.to_string()),
            None => None,
        };
        // Two counters may race for the same ticket: the loser picks again.
        for _ in 0..5 {
            let tickets: Vec<StoredTicket> = self
                .store
                .tickets_of_day(station_day(now))?
                .into_iter()
                .filter(|t| lane.as_ref().is_none_or(|l| &t.lane == l))
                .collect();
            let waiting = Self::waiting_of(&tickets);
            let Some(i) = queue::next(&waiting, now, self.config.queue.rules()) else {
                let where_ = match service {
                    Some(s) => format!(" for {s}"),
                    None => String::new(),
                };
                return Err(QueueError::NobodyWaiting(where_).into());
            };
            let over = queue::passed_over_by(&waiting, i);
            let id = waiting[i].arrival;
            if self.store.call_ticket(id, counter, &over, now)? {
                let t = self
                    .store
                    .ticket_by_id(id)?
                    .ok_or_else(|| StoreError::BadRow(format!("ticket {id} vanished")))?;
                self.audit_after(
                    "queue-call",
                    &format!("{} to counter {counter}", t.label),
                    now,
                );
                return self.ticket_view(t, now);
            }
        }
        Err(QueueError::NobodyWaiting(String::new()).into())
    }

    /// Calls the counter's current ticket again.
    pub fn recall(&mut self, counter: u32, now: DateTime<Utc>) -> Result<TicketView, KioskError> {
        self.check_counter(counter)?;
        let t = self
            .store
            .ticket_at_counter(counter, station_day(now))?
            .ok_or(QueueError::CounterIdle(counter))?;
        if !self.store.recall_ticket(t.id, now)? {
            return Err(QueueError::CounterIdle(counter).into());
        }
        self.audit_after(
            "queue-recall",
            &format!("{} at counter {counter}", t.label),
            now,
        );
        let t = self.store.ticket_by_id(t.id)?.unwrap_or(t);
        self.ticket_view(t, now)
    }

    /// Today's ticket printed as `label` (`C003`, any case) or with this code.
    pub fn find_ticket(&self, label: &str, now: DateTime<Utc>) -> Result<StoredTicket, KioskError> {
        let l = label.trim().to_ascii_uppercase();
        if let Some(t) = self.store.ticket_by_label(station_day(now), &l)? {
            return Ok(t);
        }
        if let Ok(token) = TrackingToken::parse(label) {
            if let Some(t) = self.store.ticket_by_token(token.as_str())? {
                return Ok(t);
            }
        }
        Err(QueueError::NoTicket(l).into())
    }

    /// The ticket of `label`, or the one `counter` is serving.
    pub fn ticket_or_counter(
        &self,
        label: Option<&str>,
        counter: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<StoredTicket, KioskError> {
        match (label, counter) {
            (Some(l), _) => self.find_ticket(l, now),
            (None, Some(c)) => {
                self.check_counter(c)?;
                Ok(self
                    .store
                    .ticket_at_counter(c, station_day(now))?
                    .ok_or(QueueError::CounterIdle(c))?)
            }
            (None, None) => Err(QueueError::NoTicket(String::new()).into()),
        }
    }

    /// Marks a called ticket served.
    pub fn done(
        &mut self,
        ticket: &StoredTicket,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        let detail = format!("{} served", ticket.label);
        self.finish(ticket, TicketState::Served, "queue-done", &detail, now)
    }

    /// Marks a ticket that did not come after `no_show_after_calls` calls.
    pub fn no_show(
        &mut self,
        ticket: &StoredTicket,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        let needed = self.config.queue.no_show_after_calls;
        if ticket.state == TicketState::Called && ticket.calls < needed {
            return Err(QueueError::TooFewCalls {
                label: ticket.label.clone(),
                calls: ticket.calls,
                needed,
            }
            .into());
        }
        let detail = format!("{} after {} calls", ticket.label, ticket.calls);
        self.finish(ticket, TicketState::NoShow, "queue-no-show", &detail, now)
    }

    /// Finishes a ticket still called to its counter as `state`, audited as `action`.
    fn finish(
        &mut self,
        ticket: &StoredTicket,
        state: TicketState,
        action: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        if ticket.state != TicketState::Called {
            return Err(QueueError::WrongState {
                label: ticket.label.clone(),
                state: ticket.state.as_str(),
                wanted: "called",
            }
            .into());
        }
        if !self
            .store
            .finish_ticket(ticket.id, ticket.counter, state, now)?
        {
            return Err(self.moved_on(ticket));
        }
        self.audit_after(action, detail, now);
        let t = self
            .store
            .ticket_by_id(ticket.id)?
            .unwrap_or_else(|| ticket.clone());
        self.ticket_view(t, now)
    }

    /// Moves a ticket to another service's lane, where it waits in its original arrival order.
    pub fn transfer(
        &mut self,
        ticket: &StoredTicket,
        service: &str,
        now: DateTime<Utc>,
    ) -> Result<TicketView, KioskError> {
        let lane = self.service(service)?.lane;
        if ticket.lane == lane.to_string() {
            return Err(QueueError::SameLane(ticket.label.clone()).into());
        }
        if !matches!(ticket.state, TicketState::Waiting | TicketState::Called) {
            return Err(QueueError::WrongState {
                label: ticket.label.clone(),
                state: ticket.state.as_str(),
                wanted: "waiting or called",
            }
            .into());
        }
        if !self.store.transfer_ticket(ticket.id, lane, service)? {
            return Err(self.moved_on(ticket));
        }
        self.audit_after(
            "queue-transfer",
            &format!("{} from lane {} to lane {lane}", ticket.label, ticket.lane),
            now,
        );
        let t = self
            .store
            .ticket_by_id(ticket.id)?
            .unwrap_or_else(|| ticket.clone());
        self.ticket_view(t, now)
    }

    /// The last `n` calls, newest first (the now-serving display).
    /// Today's last `n` calls, newest first.
    pub fn last_calls(&self, n: u32, now: DateTime<Utc>) -> Result<Vec<QueueCall>, KioskError> {
        Ok(self.store.last_calls(n, station_day(now))?)
    }

    /// The error for a ticket that changed under a staff member's hands (another counter or the
    /// command line finished, moved or called it meanwhile): its state now.
    fn moved_on(&self, ticket: &StoredTicket) -> KioskError {
        let state = self
            .store
            .ticket_by_id(ticket.id)
            .ok()
            .flatten()
            .map_or("gone", |t| t.state.as_str());
        QueueError::WrongState {
            label: ticket.label.clone(),
            state,
            wanted: "called to this counter",
        }
        .into()
    }

    /// Writes the audit line of an action already committed. The action stands whatever
    /// happens here, so a failure is reported on standard error rather than to the staff
    /// member, who would otherwise press again and act twice.
    fn audit_after(&self, action: &str, detail: &str, now: DateTime<Utc>) {
        if let Err(e) = self.store.audit(action, detail, now) {
            tracing::error!(action, detail, error = %e, "audit log: cannot record an action");
        }
    }

    /// Today's bookings (every state), in time order.
    pub fn bookings_of_day(&self, now: DateTime<Utc>) -> Result<Vec<StoredBooking>, KioskError> {
        let offset = station_offset(now);
        let day = roster::local_date(now, offset);
        let start = day
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(offset).single())
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or(now);
        Ok(self
            .store
            .bookings_between(start, start + Duration::days(1))?)
    }

    /// What a scanned or typed code is at this station.
    pub fn code_kind(&self, code: &str) -> Result<CodeKind, KioskError> {
        let token = TrackingToken::parse(code)?;
        if self.store.case_by_token(&token)?.is_some() {
            return Ok(CodeKind::Case);
        }
        if let Some(b) = self.store.booking_by_token(token.as_str())? {
            return Ok(CodeKind::Booking(b));
        }
        if let Some(t) = self.store.ticket_by_token(token.as_str())? {
            return Ok(CodeKind::Ticket(t));
        }
        Ok(CodeKind::Unknown)
    }
}

impl From<QueueError> for KioskError {
    fn from(e: QueueError) -> KioskError {
        KioskError::Queue(e)
    }
}
