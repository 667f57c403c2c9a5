//! Take a number and Book an appointment on the touchscreen, and what a scanned booking or
//! ticket opens. The controller holds where the resident is; every rule (which slots are free,
//! who may book, when check-in opens, the order of the queue) is the kiosk's, asked through
//! [`Controller::work`] off the UI thread.
//!
//! - Take a number: the lane's service, then "elderly, disabled or pregnant?" (priority,
//!   self-declared), then `Kiosk::take_ticket`; the ticket screen shows the number, how many are
//!   ahead and the wait range, and asks again every few seconds. From a case's result screen
//!   the number is taken for the case (`take_ticket(…, Some(code))`, one slip for both).
//! - Book: the services someone gives appointments for (`bookable_services`), the slots of the
//!   next days (`booking_slots`), the phone (checked with `Phone::parse`, as `book` does), a
//!   look over it all, then `book`; the done screen shows the code and the slip's QR code.
//! - A booking scanned: check in (a ticket ahead of walk-ins) or cancel; too early or too late
//!   says when, and offers a walk-in number instead.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};
use slint::{ComponentHandle, Image, SharedString};

use super::controller::Controller;
use super::qr::qr_image;
use super::ui::{Api, BookingNote, PrintState, Problem, Screen};
use crate::domain::roster::{self, Provider, SlotError, TimeOfDay};
use crate::domain::{qr_payload, Phone, TrackingToken};
use crate::kiosk::{
    station_day, station_offset, CodeKind, Kiosk, KioskError, LaneView, QueueError, SlotView,
    TicketView,
};
use crate::store::StoredBooking;

/// Who is on duty now (with the end of the session they are in, by the roster) and each lane's
/// queue: Home's "what is open now" and the counts on "Take a number".
#[derive(Debug, Clone)]
pub struct OpenNow {
    pub on_duty: Vec<(Provider, Option<TimeOfDay>)>,
    pub lanes: Vec<LaneView>,
}

/// A ticket on screen.
pub struct TicketShown {
    pub view: TicketView,
    pub qr: Image,
    /// The code the ticket's slip carries (the case's, when the ticket was taken for a case),
    /// to follow its printing.
    pub slip_token: String,
    /// `None` for a ticket scanned later (no slip is printing).
    pub print: PrintState,
}

/// The booking being made.
#[derive(Debug, Clone)]
pub struct BookingDraft {
    pub service: String,
    /// The station's day when the slots were asked (the picker's first day).
    pub today: NaiveDate,
    pub slots: Vec<SlotView>,
    pub loaded: bool,
    /// Index of the day shown, from `today`.
    pub day: usize,
    pub slot: Option<String>,
    pub phone: String,
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
#[derive(Debug, Clone)]
pub struct BookingInfo {
    pub booking: StoredBooking,
    pub provider: Option<Provider>,
    pub qr_payload: String,
}

/// The booking on screen.
pub struct BookingShown {
    pub info: BookingInfo,
    pub qr: Image,
    /// `None` for a booking scanned later (no slip is printing).
    pub print: PrintState,
    pub note: BookingNote,
    /// When check-in opens or closed (the note's time), station time.
    pub note_time: Option<NaiveDateTime>,
    pub asking_cancel: bool,
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
        CodeKind::Ticket(t) => Looked::Ticket(k.ticket_view(t, Utc::now())?),
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

impl Controller {
    fn set_busy(&self, busy: bool) {
        self.state.borrow_mut().busy = busy;
        self.render();
    }

    /// Asks again who is on duty and who is waiting.
    pub fn refresh_open_now(&self) {
        self.work(
            false,
            |k| open_now(k, Utc::now()),
            |c, result| match result {
                Ok(open) => {
                    c.state.borrow_mut().open_now = Some(open);
                    c.render();
                }
                Err(e) => eprintln!("what is open now: {e}"),
            },
        );
    }

    /// Asks again where the ticket on screen stands.
    pub(super) fn refresh_ticket(&self) {
        let Some(token) = self
            .state
            .borrow()
            .ticket
            .as_ref()
            .map(|t| t.view.ticket.token.clone())
        else {
            return;
        };
        self.work(
            false,
            move |k| {
                let now = Utc::now();
                let ticket = k.find_ticket(&token, now)?;
                k.ticket_view(ticket, now)
            },
            |c, result| {
                if let Ok(view) = result {
                    if let Some(t) = c.state.borrow_mut().ticket.as_mut() {
                        if t.view.ticket.id == view.ticket.id {
                            t.view = view;
                        }
                    }
                    c.render();
                }
            },
        );
    }

    // ---- take a number --------------------------------------------------------------------------

    pub fn open_take_number(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.queue_service = None;
            st.problem = Problem::None;
            st.screen = Screen::TakeNumber;
        }
        self.render();
        self.refresh_open_now();
    }

    pub fn choose_lane(&self, service: &str) {
        {
            let mut st = self.state.borrow_mut();
            if st.config.catalogue.service(service).is_none() {
                return;
            }
            st.queue_service = Some(service.to_owned());
            st.problem = Problem::None;
            st.screen = Screen::Priority;
        }
        self.render();
    }

    /// The answer to "elderly, disabled or pregnant?": takes the ticket.
    pub fn answer_priority(&self, priority: bool) {
        let (service, language) = {
            let st = self.state.borrow();
            if st.busy {
                return;
            }
            let Some(service) = st.queue_service.clone() else {
                return;
            };
            (service, st.language)
        };
        self.set_busy(true);
        self.work(
            true,
            move |k| k.take_ticket(&service, priority, None, language, Utc::now()),
            |c, result| c.show_ticket(result, None),
        );
    }

    /// On a case's result screen: a number for the same matter, on one slip with the case.
    pub fn take_number_for_case(&self) {
        let (service, token, language) = {
            let st = self.state.borrow();
            if st.busy {
                return;
            }
            let Some(result) = &st.result else {
                return;
            };
            (result.service.clone(), result.token.clone(), st.language)
        };
        self.set_busy(true);
        let slip = token.clone();
        self.work(
            true,
            move |k| k.take_ticket(&service, false, Some(&token), language, Utc::now()),
            move |c, result| c.show_ticket(result, Some(slip)),
        );
    }

    /// Shows a ticket just taken (or checked in), whose slip is printing; `slip_token`: the code
    /// the slip carries when it is not the ticket's own (a case's).
    pub fn show_ticket(&self, result: Result<TicketView, KioskError>, slip_token: Option<String>) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            match result {
                Ok(view) => {
                    let print = if st.printer_down() {
                        PrintState::Unavailable
                    } else {
                        PrintState::Waiting
                    };
                    st.ticket = Some(TicketShown {
                        qr: qr_image(&qr_payload(&view.url)).unwrap_or_default(),
                        slip_token: slip_token.unwrap_or_else(|| view.ticket.token.clone()),
                        print,
                        view,
                    });
                    st.result = None;
                    st.booking_shown = None;
                    st.queue_service = None;
                    st.problem = Problem::None;
                    st.screen = Screen::Ticket;
                }
                Err(e) => {
                    eprintln!("take a number: {e}");
                    st.problem = Problem::TicketFailed;
                }
            }
        }
        self.render();
        self.refresh_open_now();
    }

    /// A ticket scanned: where it stands now.
    pub(super) fn show_scanned_ticket(&self, view: TicketView) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            st.ticket = Some(TicketShown {
                qr: qr_image(&qr_payload(&view.url)).unwrap_or_default(),
                slip_token: view.ticket.token.clone(),
                print: PrintState::None,
                view,
            });
            st.problem = Problem::None;
            st.screen = Screen::Ticket;
        }
        self.render();
    }

    // ---- book an appointment --------------------------------------------------------------------

    pub fn open_booking(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.bookable.clear();
            st.booking = None;
            st.problem = Problem::None;
            st.busy = true;
            st.screen = Screen::BookService;
        }
        self.render();
        self.work(
            false,
            |k| {
                Ok(k.bookable_services()
                    .into_iter()
                    .map(|s| s.id.clone())
                    .collect::<Vec<_>>())
            },
            |c, result| {
                {
                    let mut st = c.state.borrow_mut();
                    st.busy = false;
                    match result {
                        Ok(ids) => st.bookable = ids,
                        Err(e) => {
                            eprintln!("bookable services: {e}");
                            st.problem = Problem::BookingFailed;
                        }
                    }
                }
                c.render();
            },
        );
    }

    pub fn choose_book_service(&self, service: &str) {
        {
            let mut st = self.state.borrow_mut();
            if st.config.catalogue.service(service).is_none() {
                return;
            }
            st.booking = Some(BookingDraft {
                service: service.to_owned(),
                today: station_day(Utc::now()),
                slots: Vec::new(),
                loaded: false,
                day: 0,
                slot: None,
                phone: String::new(),
            });
            st.problem = Problem::None;
            st.screen = Screen::BookSlots;
        }
        self.render();
        self.load_slots();
    }

    /// Asks for the slots of the service being booked (again, after a slot was lost).
    fn load_slots(&self) {
        let (service, days) = {
            let mut st = self.state.borrow_mut();
            let days = st.config.appointments.booking_window_days + 1;
            let Some(draft) = st.booking.as_mut() else {
                return;
            };
            draft.loaded = false;
            draft.today = station_day(Utc::now());
            (draft.service.clone(), days)
        };
        self.render();
        self.work(
            false,
            move |k| k.booking_slots(&service, days, Utc::now()),
            |c, result| {
                {
                    let mut st = c.state.borrow_mut();
                    let slots = match result {
                        Ok(slots) => slots,
                        Err(e) => {
                            eprintln!("booking slots: {e}");
                            if !matches!(e, KioskError::Queue(_)) {
                                st.problem = Problem::BookingFailed;
                            }
                            Vec::new()
                        }
                    };
                    let days = st.config.appointments.booking_window_days as usize + 1;
                    let Some(draft) = st.booking.as_mut() else {
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
                }
                c.render();
            },
        );
    }

    pub fn choose_book_day(&self, day: i32) {
        {
            let mut st = self.state.borrow_mut();
            let days = st.config.appointments.booking_window_days as usize + 1;
            let Some(draft) = st.booking.as_mut() else {
                return;
            };
            if day < 0 || day as usize >= days {
                return;
            }
            draft.day = day as usize;
        }
        self.render();
    }

    /// A slot tapped: on to the phone number.
    pub fn choose_slot(&self, id: &str) {
        let phone = {
            let mut st = self.state.borrow_mut();
            let Some(draft) = st.booking.as_mut() else {
                return;
            };
            if !draft.slots.iter().any(|s| s.slot.id == id && s.free > 0) {
                return;
            }
            draft.slot = Some(id.to_owned());
            let phone = draft.phone.clone();
            st.problem = Problem::None;
            st.screen = Screen::BookPhone;
            phone
        };
        if let Some(app) = self.app() {
            app.global::<Api>().set_phone(phone.as_str().into());
        }
        self.render();
    }

    /// Copies the phone being typed into the booking.
    fn collect_phone(&self) -> String {
        let typed = self
            .app()
            .map(|a| a.global::<Api>().get_phone().to_string())
            .unwrap_or_default();
        if let Some(draft) = self.state.borrow_mut().booking.as_mut() {
            draft.phone = typed.clone();
        }
        typed
    }

    /// Next on the phone step: a phone number that `book` will take, then the review.
    pub fn book_phone_done(&self) {
        let typed = self.collect_phone();
        {
            let mut st = self.state.borrow_mut();
            if st.booking.is_none() {
                return;
            }
            match Phone::parse(&typed) {
                Ok(_) => {
                    st.problem = Problem::None;
                    st.screen = Screen::BookConfirm;
                }
                Err(_) => st.problem = Problem::PhoneInvalid,
            }
        }
        self.render();
    }

    /// "Book it": the booking is made (and its slip queued) before anything is shown.
    pub fn confirm_booking(&self) {
        let (service, slot, phone, language) = {
            let st = self.state.borrow();
            if st.busy {
                return;
            }
            let Some(draft) = &st.booking else {
                return;
            };
            let Some(slot) = draft.slot.clone() else {
                return;
            };
            (
                draft.service.clone(),
                slot,
                draft.phone.clone(),
                st.language,
            )
        };
        self.set_busy(true);
        self.work(
            true,
            move |k| {
                let booked = k.book(&service, &slot, &phone, language, "resident", Utc::now())?;
                booking_info(k, booked.booking)
            },
            |c, result| c.show_booked(result),
        );
    }

    /// Shows the booking just made, or sends the resident back to the step to fix: another
    /// slot when theirs was taken or is gone, the phone when it is refused.
    pub fn show_booked(&self, result: Result<BookingInfo, KioskError>) {
        let mut reload = false;
        let mut phone_again = None;
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            match result {
                Ok(info) => {
                    let print = if st.printer_down() {
                        PrintState::Unavailable
                    } else {
                        PrintState::Waiting
                    };
                    st.booking_shown = Some(BookingShown {
                        qr: qr_image(&info.qr_payload).unwrap_or_default(),
                        info,
                        print,
                        note: BookingNote::None,
                        note_time: None,
                        asking_cancel: false,
                    });
                    // The draft held the phone number; the booking is durable now.
                    st.booking = None;
                    st.problem = Problem::None;
                    st.screen = Screen::BookDone;
                }
                Err(KioskError::Queue(QueueError::Slot(e))) => {
                    st.problem = match e {
                        SlotError::Full(_) => Problem::SlotTaken,
                        _ => Problem::SlotGone,
                    };
                    st.screen = Screen::BookSlots;
                    reload = true;
                }
                Err(KioskError::Queue(QueueError::PhoneHasBooking(when))) => {
                    st.problem = Problem::PhoneHasBooking;
                    st.problem_detail = when;
                    st.screen = Screen::BookPhone;
                    phone_again = st.booking.as_ref().map(|d| d.phone.clone());
                }
                Err(KioskError::Queue(QueueError::Phone(_))) => {
                    st.problem = Problem::PhoneInvalid;
                    st.screen = Screen::BookPhone;
                    phone_again = st.booking.as_ref().map(|d| d.phone.clone());
                }
                Err(e) => {
                    eprintln!("booking: {e}");
                    st.problem = Problem::BookingFailed;
                }
            }
        }
        if let (Some(phone), Some(app)) = (phone_again, self.app()) {
            app.global::<Api>().set_phone(phone.as_str().into());
        }
        if let Some(app) = self.app() {
            if self.state.borrow().screen == Screen::BookDone {
                app.global::<Api>().set_phone(SharedString::new());
            }
        }
        self.render();
        if reload {
            self.load_slots();
        }
    }

    /// A booking scanned (or typed): its screen.
    pub(super) fn show_booking(&self, info: BookingInfo) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            st.booking_shown = Some(BookingShown {
                qr: qr_image(&info.qr_payload).unwrap_or_default(),
                info,
                print: PrintState::None,
                note: BookingNote::None,
                note_time: None,
                asking_cancel: false,
            });
            st.problem = Problem::None;
            st.screen = Screen::Booking;
        }
        self.render();
    }

    fn shown_booking_code(&self) -> Option<String> {
        self.state
            .borrow()
            .booking_shown
            .as_ref()
            .map(|b| b.info.booking.token.clone())
    }

    /// Check in: within the arrival window the booking becomes a ticket ahead of walk-ins;
    /// outside it, the screen says when, and offers a walk-in number.
    pub fn check_in(&self) {
        let Some(code) = self.shown_booking_code() else {
            return;
        };
        if self.state.borrow().busy {
            return;
        }
        self.set_busy(true);
        self.work(
            true,
            move |k| k.check_in(&code, Utc::now()),
            |c, result| match result {
                Ok(view) => c.show_ticket(Ok(view), None),
                Err(e) => c.booking_refused(&e),
            },
        );
    }

    /// Says on the booking screen why a check-in or cancel did not happen.
    fn booking_refused(&self, error: &KioskError) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            let Some(shown) = st.booking_shown.as_mut() else {
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
                    shown.info.booking.state = "cancelled".into();
                    BookingNote::Cancelled
                }
                KioskError::Queue(QueueError::AlreadyCheckedIn(_)) => {
                    shown.info.booking.state = "checked_in".into();
                    BookingNote::AlreadyCheckedIn
                }
                other => {
                    eprintln!("booking: {other}");
                    BookingNote::Failed
                }
            };
        }
        self.render();
    }

    pub fn ask_cancel_booking(&self, ask: bool) {
        if let Some(shown) = self.state.borrow_mut().booking_shown.as_mut() {
            shown.asking_cancel = ask;
            shown.note = BookingNote::None;
        }
        self.render();
    }

    /// "Yes, cancel it".
    pub fn cancel_booking(&self) {
        let Some(code) = self.shown_booking_code() else {
            return;
        };
        if self.state.borrow().busy {
            return;
        }
        self.set_busy(true);
        self.work(
            true,
            move |k| k.cancel_booking(&code, "resident", Utc::now()),
            |c, result| match result {
                Ok(booking) => {
                    {
                        let mut st = c.state.borrow_mut();
                        st.busy = false;
                        if let Some(shown) = st.booking_shown.as_mut() {
                            shown.info.booking = booking;
                            shown.asking_cancel = false;
                            shown.note = BookingNote::CancelledNow;
                        }
                    }
                    c.render();
                }
                Err(e) => c.booking_refused(&e),
            },
        );
    }

    /// Too early or too late to check in: a walk-in number for the booking's service instead.
    pub fn walk_in_instead(&self) {
        {
            let mut st = self.state.borrow_mut();
            let Some(service) = st
                .booking_shown
                .as_ref()
                .map(|b| b.info.booking.service.clone())
            else {
                return;
            };
            st.booking_shown = None;
            st.queue_service = Some(service);
            st.problem = Problem::None;
            st.screen = Screen::Priority;
        }
        self.render();
    }

    /// Back on the screens of Take a number and Book (the wizard has its own).
    pub(super) fn flow_back(&self) {
        let screen = self.state.borrow().screen;
        let to = match screen {
            Screen::Priority => Screen::TakeNumber,
            Screen::BookSlots => Screen::BookService,
            Screen::BookPhone => {
                self.collect_phone();
                Screen::BookSlots
            }
            Screen::BookConfirm => Screen::BookPhone,
            _ => {
                self.go_home();
                return;
            }
        };
        let phone = {
            let mut st = self.state.borrow_mut();
            st.problem = Problem::None;
            st.screen = to;
            if to == Screen::BookService {
                st.booking = None;
            }
            st.booking.as_ref().map(|d| d.phone.clone())
        };
        if to == Screen::BookPhone {
            if let (Some(phone), Some(app)) = (phone, self.app()) {
                app.global::<Api>().set_phone(phone.as_str().into());
            }
        }
        self.render();
        if to == Screen::BookService && self.state.borrow().bookable.is_empty() {
            self.open_booking();
        }
    }
}
