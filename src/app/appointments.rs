//! Take a number and Book an appointment on the touchscreen, and what a scanned booking or
//! ticket opens: their flows' data (carried by [`Flow::TakeNumber`], [`Flow::Ticket`],
//! [`Flow::Book`], [`Flow::Booked`] and [`Flow::Booking`]) and their steps. Every rule (which
//! slots are free, who may book, when check-in opens, the order of the queue) is the kiosk's,
//! asked through [`Controller::work`] off the UI thread.
//!
//! - Take a number: the lane's service, then "elderly, disabled or pregnant?" (priority,
//!   self-declared; not asked in elderly mode, whose numbers are priority ones), then
//!   `Kiosk::take_ticket`; the ticket screen shows the number, how many are
//!   ahead and the wait range, and asks again every few seconds. From a case's result screen
//!   the number is taken for the case (`take_ticket(…, Some(code))`, one slip for both).
//! - Book: the services someone gives appointments for (`bookable_services`), the slots of the
//!   next days (`booking_slots`), the phone (checked with `Phone::parse`, as `book` does), a
//!   look over it all, then `book`; the done screen shows the code and the slip's QR code.
//! - A booking scanned: check in (a ticket ahead of walk-ins) or cancel; too early or too late
//!   says when, and offers a walk-in number instead.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use slint::Image;

use super::controller::{Controller, Flow, Session, TakeNumber};
use super::qr::qr_image;
use super::ui::{BookingNote, PrintState, Problem, Screen};
use domain::roster::{self, Provider, SlotError, TimeOfDay};
use domain::{qr_payload, Language, Phone, TrackingToken};
use station::kiosk::{
    station_day, station_offset, CodeKind, Kiosk, KioskError, LaneView, QueueError, SlotView,
    TicketView,
};
use station::store::StoredBooking;

/// Who is on duty now (with the end of the session they are in, by the roster) and each lane's
/// queue: Home's "what is open now" and the counts on "Take a number".
#[derive(Debug, Clone)]
pub struct OpenNow {
    pub(crate) on_duty: Vec<(Provider, Option<TimeOfDay>)>,
    pub(crate) lanes: Vec<LaneView>,
}

/// A ticket on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketShown {
    pub(crate) view: TicketView,
    pub(crate) qr: Image,
    /// The code the ticket's slip carries (the case's, when the ticket was taken for a case),
    /// to follow its printing.
    pub(crate) slip_token: String,
    /// `None` for a ticket scanned later (no slip is printing).
    pub(crate) print: PrintState,
}

impl TicketShown {
    fn new(view: TicketView, slip_token: String, print: PrintState) -> TicketShown {
        TicketShown {
            qr: qr_image(&qr_payload(&view.url)).unwrap_or_default(),
            slip_token,
            print,
            view,
        }
    }
}

/// Booking an appointment: the services someone gives appointments for, then the booking
/// being made (none while the service is being chosen).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Book {
    pub(crate) bookable: Vec<String>,
    pub(crate) draft: Option<BookingDraft>,
    /// When the phone's other booking is (the problem "this phone has a booking" says it).
    pub(crate) phone_booked_for: String,
}

impl Book {
    pub(crate) fn screen(&self) -> Screen {
        match self.draft.as_ref().map(|d| d.step) {
            None => Screen::BookService,
            Some(BookStep::Slot) => Screen::BookSlots,
            Some(BookStep::Phone) => Screen::BookPhone,
            Some(BookStep::Confirm) => Screen::BookConfirm,
        }
    }
}

/// The steps of a booking after its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookStep {
    Slot,
    Phone,
    Confirm,
}

/// The booking being made.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingDraft {
    pub(crate) service: String,
    pub(crate) step: BookStep,
    /// The station's day when the slots were asked (the picker's first day).
    pub(crate) today: NaiveDate,
    pub(crate) slots: Vec<SlotView>,
    pub(crate) loaded: bool,
    /// Index of the day shown, from `today`.
    pub(crate) day: usize,
    pub(crate) slot: Option<String>,
    pub(crate) phone: String,
}

impl BookingDraft {
    pub fn date_of(&self, day: usize) -> NaiveDate {
        self.today + chrono::Duration::days(day as i64)
    }

    /// The slots of the `day`-th day of the picker, in time order.
    pub fn slots_on(&self, day: usize) -> impl Iterator<Item = &SlotView> {
        let date = self.date_of(day);
        self.slots
            .iter()
            .filter(move |s| roster::local_date(s.slot.start, station_offset(s.slot.start)) == date)
    }

    pub fn chosen(&self) -> Option<&SlotView> {
        let id = self.slot.as_deref()?;
        self.slots.iter().find(|s| s.slot.id == id)
    }
}

/// A booking with its provider (from the roster in force) and its QR code's payload.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingInfo {
    pub(crate) booking: StoredBooking,
    pub(crate) provider: Option<Provider>,
    pub(crate) qr_payload: String,
}

/// The booking just made, its slip printing.
#[derive(Debug, Clone, PartialEq)]
pub struct Booked {
    pub(crate) info: BookingInfo,
    pub(crate) qr: Image,
    pub(crate) print: PrintState,
}

/// A booking scanned (or typed on Track).
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedBooking {
    pub(crate) info: BookingInfo,
    pub(crate) qr: Image,
    /// Why a check-in or cancel did not happen, or that it was cancelled now.
    pub(crate) note: BookingNote,
    /// When check-in opens or closed (the note's time), station time.
    pub(crate) note_time: Option<NaiveDateTime>,
    /// "Are you sure?" about cancelling it shows.
    pub(crate) asking_cancel: bool,
}

/// What a scanned or typed code is here.
pub enum Looked {
    Case,
    Booking(BookingInfo),
    Ticket(TicketView),
    Unknown,
}

/// Asks the kiosk what `code` is, with what its screen needs.
pub fn look_up(k: &mut Kiosk, code: &str) -> Result<Looked, KioskError> {
    Ok(match k.code_kind(code)? {
        CodeKind::Case => Looked::Case,
        CodeKind::Unknown => Looked::Unknown,
        CodeKind::Booking(b) => Looked::Booking(booking_info(k, b)?),
        CodeKind::Ticket(t) => Looked::Ticket(k.ticket_view(t, k.now())?),
    })
}

fn booking_info(k: &Kiosk, booking: StoredBooking) -> Result<BookingInfo, KioskError> {
    let token = TrackingToken::parse(&booking.token)?;
    Ok(BookingInfo {
        provider: k.roster().provider(&booking.provider).cloned(),
        qr_payload: k.qr_payload(&token),
        booking,
    })
}

/// Who is on duty and each lane's queue, now.
pub fn open_now(k: &Kiosk, now: DateTime<Utc>) -> Result<OpenNow, KioskError> {
    let roster = k.roster();
    let offset = station_offset(now);
    let local = now.with_timezone(&offset);
    let minute = (local.hour() * 60 + local.minute()) as u16;
    let on_duty = k
        .on_duty()?
        .into_iter()
        .filter_map(|(id, _)| roster.provider(&id).cloned())
        .map(|p| {
            let until = p
                .sessions(local.date_naive())
                .into_iter()
                .find(|(from, to)| from.0 <= minute && minute < to.0)
                .map(|(_, to)| to);
            (p, until)
        })
        .collect();
    Ok(OpenNow {
        on_duty,
        lanes: k.queue_lanes(now)?,
    })
}

/// The station time a check-in message names ("2025-11-28 09:30", as `QueueError` words it).
fn parse_station_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").ok()
}

impl Session {
    /// The booking being made, from its slot on.
    fn booking_draft(&mut self) -> Option<&mut BookingDraft> {
        match &mut self.flow {
            Flow::Book(book) => book.draft.as_mut(),
            _ => None,
        }
    }
}

impl Controller {
    /// Asks again who is on duty and who is waiting.
    pub(super) fn refresh_open_now(&self) {
        self.work(
            false,
            |k| {
                let now = k.now();
                open_now(k, now)
            },
            |c, result| match result {
                Ok(open) => c.update(|st| st.station.open_now = Some(open)),
                Err(e) => tracing::error!(error = %e, "what is open now: cannot tell"),
            },
        );
    }

    /// Asks again where the ticket on screen stands.
    pub(super) fn refresh_ticket(&self) {
        let token = match &self.state.borrow().session.flow {
            Flow::Ticket(ticket) => ticket.view.ticket.token.clone(),
            _ => return,
        };
        self.work(
            false,
            move |k| {
                let now = k.now();
                let ticket = k.find_ticket(&token, now)?;
                k.ticket_view(ticket, now)
            },
            |c, result| {
                if let Ok(view) = result {
                    c.update(|st| {
                        if let Flow::Ticket(shown) = &mut st.session.flow {
                            if shown.view.ticket.id == view.ticket.id {
                                shown.view = view;
                            }
                        }
                    });
                }
            },
        );
    }

    // ---- take a number ----------------------------------------------------------------------

    pub fn open_take_number(&self) {
        self.update(|st| st.session.enter(Flow::TakeNumber(TakeNumber::default())));
        self.refresh_open_now();
    }

    /// The lane's service is chosen: "elderly, disabled or pregnant?" comes next, except in
    /// elderly mode (长辈模式), whose resident is not asked again: the number is a priority one.
    pub fn choose_lane(&self, service: &str) {
        let asked = self.update(|st| {
            // An unknown service (a stale tap) takes nothing.
            st.station.config.catalogue.service(service)?;
            let session = &mut st.session;
            let Flow::TakeNumber(take) = &mut session.flow else {
                return None;
            };
            session.problem = Problem::None;
            if !session.elderly {
                take.lane = Some(service.to_owned());
                return None;
            }
            // Elderly mode: the lanes stay on screen while the priority number is taken.
            if session.busy {
                return None;
            }
            session.busy = true;
            Some((service.to_owned(), session.language))
        });
        if let Some((service, language)) = asked {
            self.take_ticket(service, true, language);
        }
    }

    /// The answer to "elderly, disabled or pregnant?": takes the ticket.
    pub fn answer_priority(&self, priority: bool) {
        let asked = self.update(|st| {
            let session = &mut st.session;
            let Flow::TakeNumber(TakeNumber {
                lane: Some(service),
            }) = &session.flow
            else {
                return None;
            };
            if session.busy {
                return None;
            }
            let asked = (service.clone(), session.language);
            session.busy = true;
            Some(asked)
        });
        if let Some((service, language)) = asked {
            self.take_ticket(service, priority, language);
        }
    }

    fn take_ticket(&self, service: String, priority: bool, language: Language) {
        self.work(
            true,
            move |k| k.take_ticket(&service, priority, None, language, k.now()),
            |c, result| c.show_ticket(result, None),
        );
    }

    /// On a case's result screen: a number for the same matter, on one slip with the case.
    pub fn take_number_for_case(&self) {
        let asked = self.update(|st| {
            let session = &mut st.session;
            let Flow::Filed(result) = &session.flow else {
                return None;
            };
            if session.busy {
                return None;
            }
            let asked = (
                result.service.clone(),
                result.token.clone(),
                session.language,
            );
            session.busy = true;
            Some(asked)
        });
        let Some((service, token, language)) = asked else {
            return;
        };
        let slip = token.clone();
        self.work(
            true,
            move |k| k.take_ticket(&service, false, Some(&token), language, k.now()),
            move |c, result| c.show_ticket(result, Some(slip)),
        );
    }

    /// Shows a ticket just taken (or checked in), whose slip is printing; `slip_token`: the code
    /// the slip carries when it is not the ticket's own (a case's).
    fn show_ticket(&self, result: Result<TicketView, KioskError>, slip_token: Option<String>) {
        self.update(|st| {
            st.session.busy = false;
            match result {
                Ok(view) => {
                    let slip = slip_token.unwrap_or_else(|| view.ticket.token.clone());
                    let shown = TicketShown::new(view, slip, st.station.new_slip());
                    st.session.enter(Flow::Ticket(shown));
                }
                Err(e) => {
                    tracing::error!(error = %e, "take a number: failed");
                    st.session.problem = Problem::TicketFailed;
                }
            }
        });
        self.refresh_open_now();
    }

    /// A ticket scanned: where it stands now.
    pub(super) fn show_scanned_ticket(&self, view: TicketView) {
        self.update(|st| {
            st.session.busy = false;
            let slip = view.ticket.token.clone();
            let shown = TicketShown::new(view, slip, PrintState::None);
            st.session.enter(Flow::Ticket(shown));
        });
    }

    // ---- book an appointment ----------------------------------------------------------------

    pub fn open_booking(&self) {
        self.update(|st| {
            st.session.enter(Flow::Book(Book::default()));
            st.session.busy = true;
        });
        self.work(
            false,
            |k| {
                Ok(k.bookable_services()
                    .into_iter()
                    .map(|s| s.id.clone())
                    .collect::<Vec<_>>())
            },
            |c, result| {
                c.update(|st| {
                    st.session.busy = false;
                    match result {
                        Ok(ids) => {
                            if let Flow::Book(book) = &mut st.session.flow {
                                book.bookable = ids;
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "bookable services: cannot tell");
                            st.session.problem = Problem::BookingFailed;
                        }
                    }
                })
            },
        );
    }

    pub fn choose_book_service(&self, service: &str) {
        let chosen = self.update(|st| {
            if st.station.config.catalogue.service(service).is_none() {
                return false;
            }
            let Flow::Book(book) = &mut st.session.flow else {
                return false;
            };
            book.draft = Some(BookingDraft {
                service: service.to_owned(),
                step: BookStep::Slot,
                today: station_day(st.station.config.clock.now()),
                slots: Vec::new(),
                loaded: false,
                day: 0,
                slot: None,
                phone: String::new(),
            });
            st.session.problem = Problem::None;
            true
        });
        if chosen {
            self.load_slots();
        }
    }

    /// Asks for the slots of the service being booked (again, after a slot was lost).
    fn load_slots(&self) {
        let asked = self.update(|st| {
            let days = st.station.config.appointments.booking_window_days + 1;
            let draft = st.session.booking_draft()?;
            draft.loaded = false;
            draft.today = station_day(st.station.config.clock.now());
            Some((draft.service.clone(), days))
        });
        let Some((service, days)) = asked else {
            return;
        };
        self.work(
            false,
            move |k| k.booking_slots(&service, days, k.now()),
            |c, result| {
                c.update(|st| {
                    let slots = match result {
                        Ok(slots) => slots,
                        Err(e) => {
                            tracing::warn!(error = %e, "booking slots: none shown");
                            if !matches!(e, KioskError::Queue(_)) {
                                st.session.problem = Problem::BookingFailed;
                            }
                            Vec::new()
                        }
                    };
                    let days = st.station.config.appointments.booking_window_days as usize + 1;
                    let Some(draft) = st.session.booking_draft() else {
                        return;
                    };
                    draft.slots = slots;
                    draft.loaded = true;
                    // The first day with a place left.
                    draft.day = (0..days)
                        .find(|d| draft.slots_on(*d).any(|s| s.free > 0))
                        .unwrap_or(0);
                    if draft.chosen().is_none_or(|s| s.free == 0) {
                        draft.slot = None;
                    }
                })
            },
        );
    }

    pub fn choose_book_day(&self, day: i32) {
        self.update(|st| {
            let days = st.station.config.appointments.booking_window_days as usize + 1;
            let Some(draft) = st.session.booking_draft() else {
                return;
            };
            if day >= 0 && (day as usize) < days {
                draft.day = day as usize;
            }
        });
    }

    /// A slot tapped: on to the phone number.
    pub fn choose_slot(&self, id: &str) {
        self.update(|st| {
            let Some(draft) = st.session.booking_draft() else {
                return;
            };
            if !draft.slots.iter().any(|s| s.slot.id == id && s.free > 0) {
                return;
            }
            draft.slot = Some(id.to_owned());
            draft.step = BookStep::Phone;
            st.session.problem = Problem::None;
        });
    }

    /// Next on the phone step: a phone number that `book` will take, then the review.
    pub fn book_phone_done(&self) {
        self.update(|st| {
            let Some(draft) = st.session.booking_draft() else {
                return;
            };
            st.session.problem = match Phone::parse(&draft.phone) {
                Ok(_) => {
                    draft.step = BookStep::Confirm;
                    Problem::None
                }
                Err(_) => Problem::PhoneInvalid,
            };
        });
    }

    /// "Book it": the booking is made (and its slip queued) before anything is shown.
    pub fn confirm_booking(&self) {
        let asked = self.update(|st| {
            if st.session.busy {
                return None;
            }
            let language = st.session.language;
            let draft = st.session.booking_draft()?;
            let asked = (
                draft.service.clone(),
                draft.slot.clone()?,
                draft.phone.clone(),
                language,
            );
            st.session.busy = true;
            Some(asked)
        });
        let Some((service, slot, phone, language)) = asked else {
            return;
        };
        self.work(
            true,
            move |k| {
                let booked = k.book(&service, &slot, &phone, language, "resident", k.now())?;
                booking_info(k, booked.booking)
            },
            |c, result| c.show_booked(result),
        );
    }

    /// Shows the booking just made, or sends the resident back to the step to fix: another
    /// slot when theirs was taken or is gone, the phone when it is refused.
    fn show_booked(&self, result: Result<BookingInfo, KioskError>) {
        let reload = self.update(|st| {
            let session = &mut st.session;
            session.busy = false;
            let (problem, back_to) = match result {
                Ok(info) => {
                    let booked = Booked {
                        qr: qr_image(&info.qr_payload).unwrap_or_default(),
                        info,
                        print: st.station.new_slip(),
                    };
                    // The draft held the phone number; the booking is durable now.
                    session.enter(Flow::Booked(booked));
                    return false;
                }
                Err(KioskError::Queue(QueueError::Slot(SlotError::Full(_)))) => {
                    (Problem::SlotTaken, Some(BookStep::Slot))
                }
                Err(KioskError::Queue(QueueError::Slot(_))) => {
                    (Problem::SlotGone, Some(BookStep::Slot))
                }
                Err(KioskError::Queue(QueueError::PhoneHasBooking(when))) => {
                    if let Flow::Book(book) = &mut session.flow {
                        book.phone_booked_for = when;
                    }
                    (Problem::PhoneHasBooking, Some(BookStep::Phone))
                }
                Err(KioskError::Queue(QueueError::Phone(_))) => {
                    (Problem::PhoneInvalid, Some(BookStep::Phone))
                }
                Err(e) => {
                    tracing::error!(error = %e, "booking: failed");
                    (Problem::BookingFailed, None)
                }
            };
            session.problem = problem;
            match (back_to, session.booking_draft()) {
                (Some(step), Some(draft)) => {
                    draft.step = step;
                    step == BookStep::Slot
                }
                _ => false,
            }
        });
        if reload {
            self.load_slots();
        }
    }

    /// A booking scanned (or typed): its screen.
    pub(super) fn show_booking(&self, info: BookingInfo) {
        self.update(|st| {
            st.session.busy = false;
            st.session.enter(Flow::Booking(ScannedBooking {
                qr: qr_image(&info.qr_payload).unwrap_or_default(),
                info,
                note: BookingNote::None,
                note_time: None,
                asking_cancel: false,
            }));
        });
    }

    /// The code of the booking on screen, when no answer is awaited (then busy until it comes).
    fn ask_about_booking(&self) -> Option<String> {
        self.update(|st| {
            let Flow::Booking(shown) = &st.session.flow else {
                return None;
            };
            if st.session.busy {
                return None;
            }
            let code = shown.info.booking.token.clone();
            st.session.busy = true;
            Some(code)
        })
    }

    /// Check in: within the arrival window the booking becomes a ticket ahead of walk-ins;
    /// outside it, the screen says when, and offers a walk-in number.
    pub fn check_in(&self) {
        let Some(code) = self.ask_about_booking() else {
            return;
        };
        self.work(
            true,
            move |k| k.check_in(&code, k.now()),
            |c, result| match result {
                Ok(view) => c.show_ticket(Ok(view), None),
                Err(e) => c.booking_refused(&e),
            },
        );
    }

    /// Says on the booking screen why a check-in or cancel did not happen.
    fn booking_refused(&self, error: &KioskError) {
        self.update(|st| {
            st.session.busy = false;
            let Flow::Booking(shown) = &mut st.session.flow else {
                return;
            };
            shown.asking_cancel = false;
            shown.note_time = None;
            shown.note = match error {
                KioskError::Queue(QueueError::TooEarly { opens, .. }) => {
                    shown.note_time = parse_station_time(opens);
                    BookingNote::TooEarly
                }
                KioskError::Queue(QueueError::TooLate { closed, .. }) => {
                    shown.note_time = parse_station_time(closed);
                    BookingNote::TooLate
                }
                KioskError::Queue(QueueError::Cancelled(_)) => {
                    shown.info.booking.state = protocol::BookingState::Cancelled;
                    BookingNote::Cancelled
                }
                KioskError::Queue(QueueError::AlreadyCheckedIn(_)) => {
                    shown.info.booking.state = protocol::BookingState::CheckedIn;
                    BookingNote::AlreadyCheckedIn
                }
                other => {
                    tracing::warn!(error = %other, "booking: check-in failed");
                    BookingNote::Failed
                }
            };
        });
    }

    pub fn ask_cancel_booking(&self, ask: bool) {
        self.update(|st| {
            if let Flow::Booking(shown) = &mut st.session.flow {
                shown.asking_cancel = ask;
                shown.note = BookingNote::None;
            }
        });
    }

    /// "Yes, cancel it".
    pub fn cancel_booking(&self) {
        let Some(code) = self.ask_about_booking() else {
            return;
        };
        self.work(
            true,
            move |k| k.cancel_booking(&code, "resident", k.now()),
            |c, result| match result {
                Ok(booking) => c.update(|st| {
                    st.session.busy = false;
                    if let Flow::Booking(shown) = &mut st.session.flow {
                        shown.info.booking = booking;
                        shown.asking_cancel = false;
                        shown.note = BookingNote::CancelledNow;
                    }
                }),
                Err(e) => c.booking_refused(&e),
            },
        );
    }

    /// Too early or too late to check in: a walk-in number for the booking's service instead.
    pub fn walk_in_instead(&self) {
        self.update(|st| {
            let Flow::Booking(shown) = &st.session.flow else {
                return;
            };
            let lane = Some(shown.info.booking.service.clone());
            st.session.enter(Flow::TakeNumber(TakeNumber { lane }));
        });
    }

    /// Back on the screens of Take a number and Book (the wizard has its own): one step back,
    /// or Home from their first.
    pub(super) fn flow_back(&self) {
        enum Back {
            Home,
            Step,
            /// To the services, which have not arrived yet.
            Services,
        }
        let back = self.update(|st| {
            let back = match &mut st.session.flow {
                Flow::TakeNumber(take) if take.lane.is_some() => {
                    take.lane = None;
                    Back::Step
                }
                Flow::Book(book) => match book.draft.as_mut().map(|d| (d.step, d)) {
                    None => Back::Home,
                    Some((BookStep::Slot, _)) => {
                        book.draft = None;
                        if book.bookable.is_empty() {
                            Back::Services
                        } else {
                            Back::Step
                        }
                    }
                    Some((BookStep::Phone, draft)) => {
                        draft.step = BookStep::Slot;
                        Back::Step
                    }
                    Some((BookStep::Confirm, draft)) => {
                        draft.step = BookStep::Phone;
                        Back::Step
                    }
                },
                _ => Back::Home,
            };
            if !matches!(back, Back::Home) {
                st.session.problem = Problem::None;
            }
            back
        });
        match back {
            Back::Home => self.go_home(),
            Back::Services => self.open_booking(),
            Back::Step => {}
        }
    }
}
