//! Staff mode on the touchscreen. Five quick taps on the station's name at Home open a PIN pad;
//! `Kiosk::check_pin` decides (wrong PINs count, and lock the staff mode for a while; the lock
//! is in the database, so a restart does not lift it). The console's tabs show what
//! [`StaffView`] gathers, and each action is one kiosk function (they write the audit log):
//! queues (`call_next`, `recall`, `done`, `no_show`, `transfer`), today's bookings
//! (`cancel_booking`), the printer (a new roll, a test page, the last slip again), the outbox
//! ("retry now") and attendance. Going Home (the exit button, or the idle reset) leaves staff
//! mode, and that is audited too. The PIN pad and the console are one flow of the session
//! ([`Flow::Staff`]): whatever staff typed or were shown goes with it.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::controller::{Controller, Flow, Operations, Reply, Session, State};
use super::ui::{PinNote, Screen, StaffNote, StaffTab};
use domain::roster::Roster;
use slip::profile::PrinterProfile;
use station::kiosk::{
    Kiosk, KioskError, LaneView, PaperEstimate, PinCheck, QueueError, TicketView,
};
use station::store::{OutboxCounts, StoredBooking, StoredTicket};

/// Taps on the station's name this close together open the PIN pad.
const TAPS: usize = 5;
const TAPS_WITHIN: Duration = Duration::from_secs(4);

/// The most digits a PIN has.
const PIN_MAX: usize = 12;

/// Everything the staff console shows, asked in one go.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffView {
    pub(crate) lanes: Vec<LaneView>,
    /// The ticket called to the chosen counter and not yet finished.
    pub(crate) current: Option<StoredTicket>,
    pub(crate) bookings: Vec<StoredBooking>,
    pub(crate) paper: PaperEstimate,
    pub(crate) print_waiting: i64,
    pub(crate) outbox: OutboxCounts,
    pub(crate) roster: Roster,
    pub(crate) on_duty: Vec<(String, DateTime<Utc>)>,
    /// What the kiosk has to tell staff until they acknowledge it.
    pub(crate) notices: Vec<station::store::Notice>,
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
            print_waiting: k.waiting_print_jobs()?,
            outbox: k.outbox_counts()?,
            roster: k.roster(),
            on_duty: k.on_duty()?,
            notices: k.notices()?,
        })
    }
}

/// Staff mode: the PIN pad, then (the PIN accepted) the console (boxed: what it shows is large,
/// and every session carries a `Flow`).
#[derive(Debug, Clone, PartialEq)]
pub enum Staff {
    Pin(PinPad),
    Console(Box<Console>),
}

impl Staff {
    pub(crate) fn screen(&self) -> Screen {
        match self {
            Staff::Pin(_) => Screen::StaffPin,
            Staff::Console(_) => Screen::Staff,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PinPad {
    pub(crate) pin: String,
    pub(crate) note: PinNote,
    /// Wrong PINs left before the lock.
    pub(crate) left: u32,
    pub(crate) locked_until: Option<DateTime<Utc>>,
}

impl Default for PinPad {
    fn default() -> PinPad {
        PinPad {
            pin: String::new(),
            note: PinNote::None,
            left: 0,
            locked_until: None,
        }
    }
}

impl PinPad {
    /// What `Kiosk::check_pin` said; `true` when the PIN opens the console.
    fn checked(&mut self, check: Result<PinCheck, KioskError>) -> bool {
        match check {
            Ok(PinCheck::Accepted) => return true,
            Ok(PinCheck::Wrong { left }) => {
                self.note = PinNote::Wrong;
                self.left = left;
            }
            Ok(PinCheck::Locked { until }) => {
                self.note = PinNote::Locked;
                self.locked_until = Some(until);
            }
            Ok(PinCheck::NotSet) => self.note = PinNote::NotSet,
            Err(e) => {
                tracing::error!(error = %e, "staff PIN: cannot check");
                self.note = PinNote::Failed;
            }
        }
        false
    }
}

/// The console.
#[derive(Debug, Clone, PartialEq)]
pub struct Console {
    pub(crate) tab: StaffTab,
    pub(crate) counter: u32,
    pub(crate) view: Option<StaffView>,
    /// How the last action went.
    pub(crate) note: StaffNote,
    pub(crate) note_a: String,
    pub(crate) note_b: String,
    /// The booking whose cancel button was pressed once (the second press cancels).
    pub(crate) confirm_cancel: Option<String>,
}

impl Default for Console {
    fn default() -> Console {
        Console {
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

impl Console {
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

impl Session {
    fn pin_pad(&mut self) -> Option<&mut PinPad> {
        match &mut self.flow {
            Flow::Staff(Staff::Pin(pad)) => Some(pad),
            _ => None,
        }
    }

    fn console(&mut self) -> Option<&mut Console> {
        match &mut self.flow {
            Flow::Staff(Staff::Console(console)) => Some(console.as_mut()),
            _ => None,
        }
    }
}

impl Controller {
    /// A tap on the station's name: the fifth in quick succession, at Home, opens the PIN pad.
    pub fn staff_tap(&self) {
        let open = self.update(|st| {
            let Flow::Home(home) = &mut st.session.flow else {
                return false;
            };
            let now = Instant::now();
            home.staff_taps
                .retain(|t| now.duration_since(*t) <= TAPS_WITHIN);
            home.staff_taps.push(now);
            home.staff_taps.len() >= TAPS
        });
        if open {
            self.open_staff_pin();
        }
    }

    fn open_staff_pin(&self) {
        self.update(|st| st.session.enter(Flow::Staff(Staff::Pin(PinPad::default()))));
        // Locked already: say so before anyone types.
        self.work(
            false,
            |k| k.staff_locked_until(k.now()),
            |c, result| {
                c.update(|st| {
                    if let (Ok(Some(until)), Some(pad)) = (result, st.session.pin_pad()) {
                        pad.note = PinNote::Locked;
                        pad.locked_until = Some(until);
                    }
                })
            },
        );
    }

    /// A key of the PIN pad: a digit, or backspace.
    pub fn staff_pin_key(&self, key: &str) {
        self.update(|st| {
            let Some(pad) = st.session.pin_pad() else {
                return;
            };
            match key {
                "\u{8}" => {
                    pad.pin.pop();
                }
                digit
                    if digit.len() == 1
                        && digit.bytes().all(|b| b.is_ascii_digit())
                        && pad.pin.len() < PIN_MAX =>
                {
                    pad.pin.push_str(digit);
                }
                _ => {}
            }
        });
    }

    /// "OK" on the PIN pad.
    pub fn staff_pin_enter(&self) {
        let pin = self.update(|st| {
            if st.session.busy {
                return None;
            }
            let pad = st.session.pin_pad()?;
            if pad.pin.is_empty() {
                return None;
            }
            let pin = std::mem::take(&mut pad.pin);
            st.session.busy = true;
            Some(pin)
        });
        let Some(pin) = pin else {
            return;
        };
        self.work(
            false,
            move |k| k.check_pin(&pin, k.now()),
            |c, result| {
                let signed_in = c.update(|st| {
                    st.session.busy = false;
                    let Flow::Staff(staff) = &mut st.session.flow else {
                        return false;
                    };
                    let signed_in = match staff {
                        Staff::Pin(pad) => pad.checked(result),
                        Staff::Console(_) => false,
                    };
                    if signed_in {
                        *staff = Staff::Console(Box::default());
                    }
                    signed_in
                });
                if signed_in {
                    c.staff_refresh();
                }
            },
        );
    }

    /// Asks again everything the console shows.
    pub(super) fn staff_refresh(&self) {
        let (counter, config) = match &*self.state.borrow() {
            State {
                station,
                session:
                    Session {
                        flow: Flow::Staff(Staff::Console(console)),
                        ..
                    },
            } => (console.counter, station.config.clone()),
            _ => return,
        };
        self.work(
            false,
            move |k| {
                let now = k.now();
                StaffView::ask(k, counter, &config.printer_profile(), now)
            },
            move |c, result| {
                c.update(|st| match result {
                    Ok(view) => {
                        // An answer for the counter staff just left is not shown.
                        if let Some(console) = st.session.console() {
                            if console.counter == counter {
                                console.view = Some(view);
                            }
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "staff console: cannot read"),
                })
            },
        );
    }

    /// Leaving staff mode (Home, the exit button, the idle reset) is written to the audit log.
    pub(super) fn staff_signed_out(&self) {
        self.work(
            false,
            |k| k.audit("sign-out", "staff mode left", k.now()),
            |_, result| {
                if let Err(e) = result {
                    tracing::error!(error = %e, "staff audit: not recorded");
                }
            },
        );
    }

    pub fn staff_show_tab(&self, tab: StaffTab) {
        self.update(|st| {
            if let Some(console) = st.session.console() {
                console.tab = tab;
                console.note = StaffNote::None;
                console.confirm_cancel = None;
            }
        });
        self.staff_refresh();
    }

    pub fn staff_set_counter(&self, counter: i32) {
        let changed = self.update(|st| {
            let counters = st.station.config.queue.counters;
            let Some(console) = st.session.console() else {
                return false;
            };
            if counter < 1 || counter as u32 > counters {
                return false;
            }
            console.counter = counter as u32;
            console.note = StaffNote::None;
            if let Some(view) = console.view.as_mut() {
                view.current = None;
            }
            true
        });
        if changed {
            self.staff_refresh();
        }
    }

    /// Staff may act: signed in, and no answer awaited (then busy until it comes).
    fn staff_may_act(&self) -> Option<u32> {
        self.update(|st| {
            if st.session.busy {
                return None;
            }
            let counter = st.session.console()?.counter;
            st.session.busy = true;
            Some(counter)
        })
    }

    /// Runs a staff action (a kiosk function, which audits it) at the chosen counter, says how
    /// it went, and shows the console as it is now.
    fn staff_act<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Kiosk, u32, DateTime<Utc>) -> Result<T, KioskError> + Send + 'static,
        said: impl FnOnce(&mut Console, T) + 'static,
    ) {
        let Some(counter) = self.staff_may_act() else {
            return;
        };
        self.work(
            true,
            move |k| {
                let now = k.now();
                job(k, counter, now)
            },
            |c, result| {
                c.update(|st| {
                    st.session.busy = false;
                    if let Some(console) = st.session.console() {
                        match result {
                            Ok(value) => said(console, value),
                            Err(e) => console.refused(&e),
                        }
                    }
                });
                c.staff_refresh();
            },
        );
    }

    /// Calls the next ticket to this counter: from `service`'s lane, or from any lane ("").
    pub fn staff_call_next(&self, service: &str) {
        let service = (!service.is_empty()).then(|| service.to_owned());
        self.staff_act(
            move |k, counter, now| k.call_next(counter, service.as_deref(), now),
            |console, view: TicketView| {
                let counter = console.counter.to_string();
                console.say(StaffNote::Called, view.ticket.label, counter)
            },
        );
    }

    pub fn staff_recall(&self) {
        self.staff_act(
            |k, counter, now| k.recall(counter, now),
            |console, view: TicketView| console.say(StaffNote::Recalled, view.ticket.label, ""),
        );
    }

    pub fn staff_served(&self) {
        self.staff_act(
            |k, counter, now| {
                let ticket = k.ticket_or_counter(None, Some(counter), now)?;
                k.done(&ticket, now)
            },
            |console, view: TicketView| console.say(StaffNote::Served, view.ticket.label, ""),
        );
    }

    pub fn staff_no_show(&self) {
        self.staff_act(
            |k, counter, now| {
                let ticket = k.ticket_or_counter(None, Some(counter), now)?;
                k.no_show(&ticket, now)
            },
            |console, view: TicketView| console.say(StaffNote::NoShow, view.ticket.label, ""),
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
            |console, view: TicketView| {
                let lane = view.ticket.lane.clone();
                console.say(StaffNote::Transferred, view.ticket.label, lane)
            },
        );
    }

    /// A booking's cancel button: the first press asks, the second cancels.
    pub fn staff_cancel_booking(&self, code: &str) {
        let confirmed = self.update(|st| {
            let Some(console) = st.session.console() else {
                return false;
            };
            if console.confirm_cancel.as_deref() == Some(code) {
                console.confirm_cancel = None;
                true
            } else {
                console.confirm_cancel = Some(code.to_owned());
                console.note = StaffNote::None;
                false
            }
        });
        if !confirmed {
            return;
        }
        let code = code.to_owned();
        self.staff_act(
            move |k, _, now| k.cancel_booking(&code, "staff", now),
            |console, booking: StoredBooking| {
                let at = booking
                    .start
                    .with_timezone(&station::kiosk::station_offset(booking.start))
                    .format("%H:%M")
                    .to_string();
                console.say(StaffNote::Cancelled, at, "")
            },
        );
    }

    pub fn staff_attendance(&self, provider: &str, check_in: bool) {
        let name = {
            let st = self.state.borrow();
            let roster = match &st.session.flow {
                Flow::Staff(Staff::Console(console)) => console.view.as_ref().map(|v| &v.roster),
                _ => None,
            };
            roster
                .and_then(|r| r.provider(provider))
                .map(|p| p.name.get(st.session.language).to_owned())
                .unwrap_or_else(|| provider.to_owned())
        };
        let provider = provider.to_owned();
        self.staff_act(
            move |k, _, now| k.attendance(&provider, check_in, now),
            move |console, ()| {
                let note = if check_in {
                    StaffNote::CheckedIn
                } else {
                    StaffNote::CheckedOut
                };
                console.say(note, name, "")
            },
        );
    }

    /// Staff acknowledged a notice: it leaves the console (the audit log keeps that it was seen).
    pub fn staff_clear_notice(&self, id: i64) {
        self.staff_act(
            move |k, _, now| k.clear_notice(id, now),
            |console, _| console.say(StaffNote::None, "", ""),
        );
    }

    /// Runs a printer or outbox action of the backend and says how it went.
    fn staff_backend<T: 'static>(
        &self,
        ask: impl FnOnce(&dyn Operations, Reply<Option<T>>),
        said: impl FnOnce(&mut Console, T) + 'static,
    ) {
        if self.staff_may_act().is_none() {
            return;
        }
        let reply = self.for_this_visit(|c, answer: Option<T>| {
            c.update(|st| {
                st.session.busy = false;
                if let Some(console) = st.session.console() {
                    match answer {
                        Some(value) => said(console, value),
                        None => console.say(StaffNote::Failed, "the kiosk's worker stopped", ""),
                    }
                }
            });
            c.staff_refresh();
        });
        ask(self.ops(), reply);
    }

    pub fn staff_paper_refilled(&self) {
        self.staff_backend(
            |ops, reply| ops.paper_refilled(reply),
            |console, result| match result {
                Ok(()) => console.say(StaffNote::Refilled, "", ""),
                Err(e) => console.refused(&e),
            },
        );
    }

    pub fn staff_test_print(&self) {
        self.staff_backend(
            |ops, reply| ops.test_print(reply),
            |console, result| match result {
                Ok(Ok(())) => console.say(StaffNote::TestPrinted, "", ""),
                Ok(Err(why)) => console.say(StaffNote::TestFailed, why.to_string(), ""),
                Err(e) => console.refused(&e),
            },
        );
    }

    pub fn staff_reprint(&self) {
        self.staff_backend(
            |ops, reply| ops.reprint_last(reply),
            |console, result| match result {
                Ok(true) => console.say(StaffNote::Reprinted, "", ""),
                Ok(false) => console.say(StaffNote::NothingToReprint, "", ""),
                Err(e) => console.refused(&e),
            },
        );
    }

    /// "Retry now": everything in the outbox goes now (what upstream refused, too).
    pub fn staff_retry_outbox(&self) {
        self.staff_backend(
            |ops, reply| ops.retry_outbox(reply),
            |console, result| match result {
                Ok(report) => {
                    let left = console
                        .view
                        .as_ref()
                        .map(|v| {
                            v.outbox
                                .pending
                                .saturating_sub(report.delivered.len() as u64)
                        })
                        .unwrap_or(0);
                    console.say(
                        StaffNote::Retried,
                        report.delivered.len().to_string(),
                        left.to_string(),
                    )
                }
                Err(why) => console.say(StaffNote::Failed, why.to_string(), ""),
            },
        );
    }
}
