//! Staff mode on the touchscreen. Five quick taps on the station's name at Home open a PIN pad;
//! `Kiosk::check_pin` decides (wrong PINs count, and lock the staff mode for a while; the lock
//! is in the database, so a restart does not lift it). The console's tabs show what
//! [`StaffView`] gathers, and each action is one kiosk function (they write the audit log):
//! queues (`call_next`, `recall`, `done`, `no_show`, `transfer`), today's bookings
//! (`cancel_booking`), the printer (a new roll, a test page, the last slip again), the outbox
//! ("retry now") and attendance. Going Home (the exit button, or the idle reset) leaves staff
//! mode, and that is audited too.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::controller::Controller;
use super::ui::{PinNote, Screen, StaffNote, StaffTab};
use crate::domain::roster::Roster;
use crate::kiosk::{Kiosk, KioskError, LaneView, PaperEstimate, PinCheck, QueueError, TicketView};
use crate::printer::profile::PrinterProfile;
use crate::store::{OutboxCounts, StoredBooking, StoredTicket};

/// Taps on the station's name this close together open the PIN pad.
const TAPS: usize = 5;
const TAPS_WITHIN: Duration = Duration::from_secs(4);

/// The most digits a PIN has.
const PIN_MAX: usize = 12;

/// Everything the staff console shows, asked in one go.
#[derive(Debug, Clone)]
pub struct StaffView {
    pub lanes: Vec<LaneView>,
    /// The ticket called to the chosen counter and not yet finished.
    pub current: Option<StoredTicket>,
    pub bookings: Vec<StoredBooking>,
    pub paper: PaperEstimate,
    pub print_waiting: i64,
    pub outbox: OutboxCounts,
    pub roster: Roster,
    pub on_duty: Vec<(String, DateTime<Utc>)>,
    /// What the kiosk has to tell staff until they acknowledge it.
    pub notices: Vec<crate::store::Notice>,
}

impl StaffView {
    fn ask(
        k: &Kiosk,
        counter: u32,
        profile: &PrinterProfile,
        now: DateTime<Utc>,
    ) -> Result<StaffView, KioskError> {
        Ok(StaffView {
            lanes: k.queue_lanes(now)?,
            current: k.ticket_or_counter(None, Some(counter), now).ok(),
            bookings: k.bookings_of_day(now)?,
            paper: k.paper_estimate(profile)?,
            print_waiting: k.store().waiting_print_jobs()?,
            outbox: k.outbox_counts()?,
            roster: k.roster(),
            on_duty: k.on_duty()?,
            notices: k.notices()?,
        })
    }
}

/// The PIN pad and the console.
#[derive(Debug, Clone)]
pub struct StaffState {
    /// The taps on the station's name so far.
    pub taps: Vec<Instant>,
    pub pin: String,
    pub pin_note: PinNote,
    pub pin_left: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub signed_in: bool,
    pub tab: StaffTab,
    pub counter: u32,
    pub view: Option<StaffView>,
    pub note: StaffNote,
    pub note_a: String,
    pub note_b: String,
    /// The booking whose cancel button was pressed once (the second press cancels).
    pub confirm_cancel: Option<String>,
}

impl Default for StaffState {
    fn default() -> StaffState {
        StaffState {
            taps: Vec::new(),
            pin: String::new(),
            pin_note: PinNote::None,
            pin_left: 0,
            locked_until: None,
            signed_in: false,
            tab: StaffTab::Queues,
            counter: 1,
            view: None,
            note: StaffNote::None,
            note_a: String::new(),
            note_b: String::new(),
            confirm_cancel: None,
        }
    }
}

impl StaffState {
    fn say(&mut self, note: StaffNote, a: impl Into<String>, b: impl Into<String>) {
        self.note = note;
        self.note_a = a.into();
        self.note_b = b.into();
    }

    /// An action refused: the reason staff can act on, or the error itself.
    fn refused(&mut self, error: &KioskError) {
        match error {
            KioskError::Queue(QueueError::NobodyWaiting(_)) => {
                self.say(StaffNote::NobodyWaiting, "", "")
            }
            KioskError::Queue(QueueError::CounterIdle(_)) => {
                self.say(StaffNote::CounterIdle, "", "")
            }
            KioskError::Queue(QueueError::TooFewCalls { calls, needed, .. }) => self.say(
                StaffNote::TooFewCalls,
                calls.to_string(),
                needed.to_string(),
            ),
            KioskError::Queue(QueueError::SameLane(label)) => {
                self.say(StaffNote::SameLane, label.clone(), "")
            }
            other => self.say(StaffNote::Failed, other.to_string(), ""),
        }
    }
}

impl Controller {
    /// A tap on the station's name: the fifth in quick succession, at Home, opens the PIN pad.
    pub fn staff_tap(&self) {
        let open = {
            let mut st = self.state.borrow_mut();
            if st.screen != Screen::Home {
                return;
            }
            let now = Instant::now();
            st.staff
                .taps
                .retain(|t| now.duration_since(*t) <= TAPS_WITHIN);
            st.staff.taps.push(now);
            st.staff.taps.len() >= TAPS
        };
        if open {
            self.open_staff_pin();
        }
    }

    pub fn open_staff_pin(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.staff = super::staff::StaffState::default();
            st.screen = Screen::StaffPin;
        }
        self.render();
        // Locked already: say so before anyone types.
        self.work(
            false,
            |k| k.staff_locked_until(Utc::now()),
            |c, result| {
                if let Ok(Some(until)) = result {
                    let mut st = c.state.borrow_mut();
                    st.staff.pin_note = PinNote::Locked;
                    st.staff.locked_until = Some(until);
                }
                c.render();
            },
        );
    }

    /// A key of the PIN pad: a digit, or backspace.
    pub fn staff_pin_key(&self, key: &str) {
        {
            let mut st = self.state.borrow_mut();
            match key {
                "\u{8}" => {
                    st.staff.pin.pop();
                }
                digit if digit.len() == 1 && digit.bytes().all(|b| b.is_ascii_digit()) => {
                    if st.staff.pin.len() < PIN_MAX {
                        st.staff.pin.push_str(digit);
                    }
                }
                _ => return,
            }
        }
        self.render();
    }

    /// "OK" on the PIN pad.
    pub fn staff_pin_enter(&self) {
        let pin = {
            let mut st = self.state.borrow_mut();
            if st.busy || st.staff.pin.is_empty() {
                return;
            }
            st.busy = true;
            std::mem::take(&mut st.staff.pin)
        };
        self.render();
        self.work(
            false,
            move |k| k.check_pin(&pin, Utc::now()),
            |c, result| {
                let signed_in = {
                    let mut st = c.state.borrow_mut();
                    st.busy = false;
                    let staff = &mut st.staff;
                    match result {
                        Ok(PinCheck::Accepted) => {
                            staff.signed_in = true;
                            staff.pin_note = PinNote::None;
                            staff.tab = StaffTab::Queues;
                            true
                        }
                        Ok(PinCheck::Wrong { left }) => {
                            staff.pin_note = PinNote::Wrong;
                            staff.pin_left = left;
                            false
                        }
                        Ok(PinCheck::Locked { until }) => {
                            staff.pin_note = PinNote::Locked;
                            staff.locked_until = Some(until);
                            false
                        }
                        Ok(PinCheck::NotSet) => {
                            staff.pin_note = PinNote::NotSet;
                            false
                        }
                        Err(e) => {
                            eprintln!("staff PIN: {e}");
                            staff.pin_note = PinNote::Failed;
                            false
                        }
                    }
                };
                if signed_in {
                    c.state.borrow_mut().screen = Screen::Staff;
                    c.staff_refresh();
                }
                c.render();
            },
        );
    }

    /// Asks again everything the console shows.
    pub fn staff_refresh(&self) {
        let (counter, config) = {
            let st = self.state.borrow();
            if !st.staff.signed_in {
                return;
            }
            (st.staff.counter, st.config.clone())
        };
        self.work(
            false,
            move |k| StaffView::ask(k, counter, &config.printer_profile(), Utc::now()),
            move |c, result| {
                match result {
                    Ok(view) => {
                        let mut st = c.state.borrow_mut();
                        // An answer for the counter staff just left is not shown.
                        if st.staff.signed_in && st.staff.counter == counter {
                            st.staff.view = Some(view);
                        }
                    }
                    Err(e) => eprintln!("staff console: {e}"),
                }
                c.render();
            },
        );
    }

    /// Leaving staff mode (Home, the exit button, the idle reset) is written to the audit log.
    pub(super) fn staff_signed_out(&self) {
        self.work(
            false,
            |k| k.audit("sign-out", "staff mode left", Utc::now()),
            |_, result| {
                if let Err(e) = result {
                    eprintln!("staff audit: {e}");
                }
            },
        );
    }

    pub fn staff_show_tab(&self, tab: StaffTab) {
        {
            let mut st = self.state.borrow_mut();
            st.staff.tab = tab;
            st.staff.note = StaffNote::None;
            st.staff.confirm_cancel = None;
        }
        self.render();
        self.staff_refresh();
    }

    pub fn staff_set_counter(&self, counter: i32) {
        {
            let mut st = self.state.borrow_mut();
            let counters = st.config.queue.counters;
            if counter < 1 || counter as u32 > counters {
                return;
            }
            st.staff.counter = counter as u32;
            st.staff.note = StaffNote::None;
            if let Some(view) = st.staff.view.as_mut() {
                view.current = None;
            }
        }
        self.render();
        self.staff_refresh();
    }

    /// Runs a staff action (a kiosk function, which audits it) at the chosen counter, says how
    /// it went, and shows the console as it is now.
    fn staff_act<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Kiosk, u32, DateTime<Utc>) -> Result<T, KioskError> + Send + 'static,
        said: impl FnOnce(&mut StaffState, T) + 'static,
    ) {
        let counter = {
            let mut st = self.state.borrow_mut();
            if st.busy || !st.staff.signed_in {
                return;
            }
            st.busy = true;
            st.staff.counter
        };
        self.render();
        self.work(
            true,
            move |k| job(k, counter, Utc::now()),
            |c, result| {
                {
                    let mut st = c.state.borrow_mut();
                    st.busy = false;
                    match result {
                        Ok(value) => said(&mut st.staff, value),
                        Err(e) => st.staff.refused(&e),
                    }
                }
                c.render();
                c.staff_refresh();
            },
        );
    }

    /// Calls the next ticket to this counter: from `service`'s lane, or from any lane ("").
    pub fn staff_call_next(&self, service: &str) {
        let service = (!service.is_empty()).then(|| service.to_owned());
        self.staff_act(
            move |k, counter, now| k.call_next(counter, service.as_deref(), now),
            |staff, view: TicketView| {
                let counter = staff.counter.to_string();
                staff.say(StaffNote::Called, view.ticket.label, counter)
            },
        );
    }

    pub fn staff_recall(&self) {
        self.staff_act(
            |k, counter, now| k.recall(counter, now),
            |staff, view: TicketView| staff.say(StaffNote::Recalled, view.ticket.label, ""),
        );
    }

    pub fn staff_served(&self) {
        self.staff_act(
            |k, counter, now| {
                let ticket = k.ticket_or_counter(None, Some(counter), now)?;
                k.done(&ticket, now)
            },
            |staff, view: TicketView| staff.say(StaffNote::Served, view.ticket.label, ""),
        );
    }

    pub fn staff_no_show(&self) {
        self.staff_act(
            |k, counter, now| {
                let ticket = k.ticket_or_counter(None, Some(counter), now)?;
                k.no_show(&ticket, now)
            },
            |staff, view: TicketView| staff.say(StaffNote::NoShow, view.ticket.label, ""),
        );
    }

    /// Moves the ticket at this counter to `service`'s lane.
    pub fn staff_transfer(&self, service: &str) {
        let service = service.to_owned();
        self.staff_act(
            move |k, counter, now| {
                let ticket = k.ticket_or_counter(None, Some(counter), now)?;
                k.transfer(&ticket, &service, now)
            },
            |staff, view: TicketView| {
                let lane = view.ticket.lane.clone();
                staff.say(StaffNote::Transferred, view.ticket.label, lane)
            },
        );
    }

    /// A booking's cancel button: the first press asks, the second cancels.
    pub fn staff_cancel_booking(&self, code: &str) {
        let confirmed = {
            let mut st = self.state.borrow_mut();
            if st.staff.confirm_cancel.as_deref() == Some(code) {
                st.staff.confirm_cancel = None;
                true
            } else {
                st.staff.confirm_cancel = Some(code.to_owned());
                st.staff.note = StaffNote::None;
                false
            }
        };
        if !confirmed {
            self.render();
            return;
        }
        let code = code.to_owned();
        self.staff_act(
            move |k, _, now| k.cancel_booking(&code, "staff", now),
            |staff, booking: StoredBooking| {
                let at = booking
                    .start
                    .with_timezone(&crate::kiosk::station_offset(booking.start))
                    .format("%H:%M")
                    .to_string();
                staff.say(StaffNote::Cancelled, at, "")
            },
        );
    }

    pub fn staff_attendance(&self, provider: &str, check_in: bool) {
        let (provider, name) = {
            let st = self.state.borrow();
            let name = st
                .staff
                .view
                .as_ref()
                .and_then(|v| v.roster.provider(provider))
                .map(|p| p.name.get(st.language).to_owned())
                .unwrap_or_else(|| provider.to_owned());
            (provider.to_owned(), name)
        };
        self.staff_act(
            move |k, _, now| k.attendance(&provider, check_in, now),
            move |staff, ()| {
                let note = if check_in {
                    StaffNote::CheckedIn
                } else {
                    StaffNote::CheckedOut
                };
                staff.say(note, name, "")
            },
        );
    }

    /// Staff acknowledged a notice: it leaves the console (the audit log keeps that it was seen).
    pub fn staff_clear_notice(&self, id: i64) {
        self.staff_act(
            move |k, _, now| k.clear_notice(id, now),
            |staff, _| staff.say(StaffNote::None, "", ""),
        );
    }

    /// Runs a printer or outbox action of the backend (none without one) and says how it went.
    fn staff_backend<T: 'static>(
        &self,
        ask: impl FnOnce(&super::backend::Backend) -> tokio::sync::oneshot::Receiver<T>,
        said: impl FnOnce(&mut StaffState, T) + 'static,
    ) {
        let Some(backend) = self.backend() else {
            return;
        };
        {
            let mut st = self.state.borrow_mut();
            if st.busy || !st.staff.signed_in {
                return;
            }
            st.busy = true;
        }
        self.render();
        let answer = ask(backend);
        self.await_answer(answer, |c, result| {
            {
                let mut st = c.state.borrow_mut();
                st.busy = false;
                match result {
                    Some(value) => said(&mut st.staff, value),
                    None => st
                        .staff
                        .say(StaffNote::Failed, "the kiosk's worker stopped", ""),
                }
            }
            c.render();
            c.staff_refresh();
        });
    }

    pub fn staff_paper_refilled(&self) {
        self.staff_backend(
            |b| b.paper_refilled(),
            |staff, result| match result {
                Ok(()) => staff.say(StaffNote::Refilled, "", ""),
                Err(e) => staff.refused(&e),
            },
        );
    }

    pub fn staff_test_print(&self) {
        self.staff_backend(
            |b| b.test_print(),
            |staff, result| match result {
                Ok(Ok(())) => staff.say(StaffNote::TestPrinted, "", ""),
                Ok(Err(why)) => staff.say(StaffNote::TestFailed, why, ""),
                Err(e) => staff.refused(&e),
            },
        );
    }

    pub fn staff_reprint(&self) {
        self.staff_backend(
            |b| b.reprint_last(),
            |staff, result| match result {
                Ok(true) => staff.say(StaffNote::Reprinted, "", ""),
                Ok(false) => staff.say(StaffNote::NothingToReprint, "", ""),
                Err(e) => staff.refused(&e),
            },
        );
    }

    /// "Retry now": everything in the outbox goes now (what upstream refused, too).
    pub fn staff_retry_outbox(&self) {
        self.staff_backend(
            |b| b.retry_outbox(),
            |staff, result| match result {
                Ok(report) => {
                    let left = staff
                        .view
                        .as_ref()
                        .map(|v| {
                            v.outbox
                                .pending
                                .saturating_sub(report.delivered.len() as u64)
                        })
                        .unwrap_or(0);
                    staff.say(
                        StaffNote::Retried,
                        report.delivered.len().to_string(),
                        left.to_string(),
                    )
                }
                Err(why) => staff.say(StaffNote::Failed, why, ""),
            },
        );
    }
}
