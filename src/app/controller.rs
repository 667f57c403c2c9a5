//! The touchscreen's controller: answers every `Api` callback by changing its [`State`] (the
//! wizard, the language, the result on screen) and re-rendering. It decides nothing about
//! cases: steps are checked by [`Wizard`], cases are filed by [`crate::kiosk`] through the
//! [`Backend`], exactly as the CLI files them.
//!
//! It also keeps the idle reset (DESIGN.md §3.8): after the idle timeout without a touch it asks
//! "still there?", and if nobody answers it clears everything and returns Home.
//!
//! Scans (a slip's QR code or printed code, from the serial scanner or a keyboard-wedge scanner
//! typing where no field has the focus) open "Track my case" from wherever the resident is and
//! look the code up exactly as a typed one, except in the middle of an intake: there a scan
//! never throws the resident's answers away; a notice says to submit or go Home first. A code
//! is first asked what it is (`Kiosk::code_kind`): a booking opens its booking screen, a queue
//! ticket its ticket screen, a case (or a code this station does not know) its progress.
//!
//! Taking a number, booking an appointment and the staff mode are in [`super::appointments`]
//! and [`super::staff`]; every kiosk operation runs through [`Controller::work`], on the
//! backend's blocking pool (or, for headless screenshots, at once on a kiosk of their own).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, Image, SharedString, Timer, TimerMode};

use super::appointments::{BookingDraft, BookingShown, Looked, OpenNow, TicketShown};
use super::backend::{Backend, BackendEvent};
use super::pinyin::Composer;
use super::qr::qr_image;
use super::staff::StaffState;
use super::ui::{Api, AppWindow, PrintState, Problem, ScanProblem, Screen, TrackCheck};
use super::view::{problem_of, problem_of_case, render, screen_of};
use super::wizard::{Move, Step, Wizard};
use crate::config::KioskConfig;
use crate::domain::{Language, RiskLevel, Service, TokenError, TrackingToken};
use crate::ime::{Dictionary, DictionaryError};
use crate::kiosk::{Filed, Kiosk, KioskError, LaneView, PrintOutcome, Tracked};
use crate::printer::status::PrinterState;
use crate::scanner::{Scan, MAX_LINE};
use crate::store::PrintJobState;

/// How long the notice "finish this first" shows after a scan during an intake.
const SCAN_HELD_FOR: Duration = Duration::from_secs(15);

/// A pause this long between two keys starts a new keyboard-wedge line: a scanner types a whole
/// code in well under a second, so what came before was something else.
const WEDGE_GAP: Duration = Duration::from_secs(2);

/// How often what changes without a touch is asked again: what is open (Home), the places of
/// the lanes (Take a number), a ticket's place (its screen) and the staff console.
const REFRESH: Duration = Duration::from_secs(10);

/// What the touchscreen is showing and holding for the resident in front of it.
pub struct State {
    pub config: Arc<KioskConfig>,
    pub language: Language,
    pub elderly: bool,
    pub screen: Screen,
    pub wizard: Option<Wizard>,
    pub problem: Problem,
    pub busy: bool,
    /// The question whose text answer is being typed.
    pub text_entry: Option<String>,
    pub result: Option<ResultView>,
    /// Seconds left on the "still there?" prompt, while it shows.
    pub still_there: Option<u32>,
    /// The printer's last known state (`None` until the first answer).
    pub printer: Option<PrinterState>,
    /// "Track my case": how the typed code checks, and the case looked up.
    pub track_check: TrackCheck,
    pub track_missing: i32,
    pub track_bad_char: String,
    pub track_not_found: bool,
    pub tracked: Option<Tracked>,
    /// The last scan was not a tracking code, or could not be read.
    pub track_scan: ScanProblem,
    /// A scan arrived in the middle of an intake and was set aside (the notice shows).
    pub scan_held: bool,
    /// Whether the serial scanner's port is open (`None`: no serial scanner, or not yet tried).
    pub scanner: Option<bool>,
    /// The detail of the problem on screen (when the phone's other booking is).
    pub problem_detail: String,
    /// Who is on duty and who is waiting (Home), with each lane's queue (Take a number).
    pub open_now: Option<OpenNow>,
    /// Take a number: the service whose lane was chosen.
    pub queue_service: Option<String>,
    /// The ticket on screen.
    pub ticket: Option<TicketShown>,
    /// Book an appointment: the services someone gives appointments for, and the booking being
    /// made.
    pub bookable: Vec<String>,
    pub booking: Option<BookingDraft>,
    /// The booking on screen (just made, or scanned).
    pub booking_shown: Option<BookingShown>,
    /// Staff mode: the PIN pad and the console.
    pub staff: StaffState,
    /// The keyboard's pinyin input method (its `problem` is for the staff console).
    pub ime: Composer,
    /// The resident pressed "call staff" in this session (the button says staff are coming).
    pub staff_called: bool,
}

/// The filed case on the result screen.
pub struct ResultView {
    pub token: String,
    pub service: String,
    pub code: String,
    pub qr: Image,
    pub next_steps: String,
    pub print: PrintState,
    pub high_risk: bool,
}

impl State {
    fn new(config: Arc<KioskConfig>) -> State {
        let pinyin = config_pinyin(&config);
        let fuzzy = config.ime.fuzzy;
        State {
            language: config.ui.default_language,
            config,
            elderly: false,
            screen: Screen::Home,
            wizard: None,
            problem: Problem::None,
            busy: false,
            text_entry: None,
            result: None,
            still_there: None,
            printer: None,
            track_check: TrackCheck::Empty,
            track_missing: 0,
            track_bad_char: String::new(),
            track_not_found: false,
            tracked: None,
            track_scan: ScanProblem::None,
            scan_held: false,
            scanner: None,
            problem_detail: String::new(),
            open_now: None,
            queue_service: None,
            ticket: None,
            bookable: Vec::new(),
            booking: None,
            booking_shown: None,
            staff: StaffState::default(),
            ime: Composer::new(pinyin, fuzzy),
            staff_called: false,
        }
    }

    /// Whether the keyboard composes pinyin now: a text field for the resident's words is
    /// showing (not the tracking code's).
    pub fn composing(&self) -> bool {
        self.ime.active() && (self.screen == Screen::Description || self.text_entry.is_some())
    }

    /// Each lane's queue as last asked (empty until then).
    pub fn lanes(&self) -> &[LaneView] {
        self.open_now.as_ref().map_or(&[], |o| o.lanes.as_slice())
    }

    /// Whether the printer is known to be unable to print now.
    pub fn printer_down(&self) -> bool {
        self.printer.is_some_and(|p| !p.can_print())
    }

    pub fn wizard_and_service(&self) -> Option<(&Wizard, &Service)> {
        let wizard = self.wizard.as_ref()?;
        let service = self.config.catalogue.service(&wizard.draft.service)?;
        Some((wizard, service))
    }
}

/// What a keyboard-wedge scanner has typed so far where no text field has the focus.
#[derive(Default)]
struct Wedge {
    typed: String,
    too_long: bool,
    last_key: Option<Instant>,
}

impl Wedge {
    fn clear(&mut self) {
        self.typed.clear();
        self.too_long = false;
    }

    /// The line typed, as a scan (none if nothing but spaces was typed).
    fn take(&mut self) -> Option<Scan> {
        let scan = if self.too_long {
            Some(Scan::TooLong)
        } else {
            let text = self.typed.trim();
            (!text.is_empty()).then(|| Scan::Text(text.to_owned()))
        };
        self.clear();
        scan
    }
}

pub struct Controller {
    app: slint::Weak<AppWindow>,
    pub(super) state: RefCell<State>,
    backend: Option<Backend>,
    /// Headless screenshots: the kiosk's operations run at once on this kiosk (no backend).
    inline: RefCell<Option<Kiosk>>,
    idle: Timer,
    /// Ends the "still there?" prompt by clearing everything.
    give_up: Timer,
    /// Only counts the prompt's seconds down on screen.
    countdown: Timer,
    /// Hides the "finish this first" notice of a scan during an intake.
    notice: Timer,
    /// Asks again, every few seconds, what changes without a touch (see [`REFRESH`]).
    refresh: Timer,
    wedge: RefCell<Wedge>,
    /// Bumped on every reset so that a submit answered after the resident left is ignored.
    session: Cell<u64>,
    me: Weak<Controller>,
}

impl Controller {
    /// Wires a controller to `app`. With a backend, submit files cases and print results
    /// arrive; without one (headless screenshots) the caller drives [`Controller::show_filed`].
    pub fn new(
        app: &AppWindow,
        config: Arc<KioskConfig>,
        backend: Option<(Backend, tokio::sync::mpsc::UnboundedReceiver<BackendEvent>)>,
    ) -> Rc<Controller> {
        let (backend, print_events) = match backend {
            Some((b, rx)) => (Some(b), Some(rx)),
            None => (None, None),
        };
        let controller = Rc::new_cyclic(|me| Controller {
            app: app.as_weak(),
            state: RefCell::new(State::new(config)),
            backend,
            inline: RefCell::new(None),
            idle: Timer::default(),
            give_up: Timer::default(),
            countdown: Timer::default(),
            notice: Timer::default(),
            refresh: Timer::default(),
            wedge: RefCell::new(Wedge::default()),
            session: Cell::new(0),
            me: me.clone(),
        });
        controller.connect(app);
        if print_events.is_some() {
            controller.load_dictionary();
        }
        if let Some(mut events) = print_events {
            let weak = Rc::downgrade(&controller);
            let listening = slint::spawn_local(async move {
                while let Some(event) = events.recv().await {
                    let Some(c) = weak.upgrade() else {
                        break;
                    };
                    match event {
                        BackendEvent::Job(outcome) => c.print_changed(&outcome),
                        BackendEvent::Printer(state) => c.printer_changed(state),
                        BackendEvent::Scan(scan) => c.scanned(scan),
                        BackendEvent::Scanner(open) => c.scanner_changed(open),
                    }
                }
            });
            if let Err(e) = listening {
                eprintln!("print state will not reach the screen: {e}");
            }
        }
        controller.apply_language();
        controller.render();
        let weak = Rc::downgrade(&controller);
        controller
            .refresh
            .start(TimerMode::Repeated, REFRESH, move || {
                if let Some(c) = weak.upgrade() {
                    c.refresh_screen();
                }
            });
        controller.refresh_open_now();
        controller
    }

    /// Parses the pinyin dictionary on a thread of its own (half a second in a debug build)
    /// and hands it to the UI thread; until then the keyboard types letters.
    fn load_dictionary(&self) {
        let path = self.state.borrow().config.ime.dictionary.clone();
        let shown = path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(built in)".into());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("pinyin-dictionary".into())
            .spawn(move || {
                let _ = tx.send(Dictionary::configured(path.as_deref()));
            });
        if let Err(e) = spawned {
            self.dictionary_loaded(Err(DictionaryError::Unreadable {
                path: shown,
                reason: e.to_string(),
            }));
            return;
        }
        let weak = self.me.clone();
        let waiting = slint::spawn_local(async move {
            let dict = rx.await.unwrap_or_else(|_| {
                Err(DictionaryError::Unreadable {
                    path: shown,
                    reason: "the loading thread stopped".into(),
                })
            });
            if let Some(c) = weak.upgrade() {
                c.dictionary_loaded(dict);
            }
        });
        if let Err(e) = waiting {
            eprintln!("the pinyin dictionary will not reach the keyboard: {e}");
        }
    }

    /// Headless screenshots have no backend: with this, the kiosk's operations run at once on
    /// `kiosk`, so the screenshot tour can drive the same flows as a resident's taps.
    pub fn run_inline(&self, kiosk: Kiosk) {
        *self.inline.borrow_mut() = Some(kiosk);
        self.refresh_open_now();
    }

    /// Runs a kiosk operation off the UI thread (on the backend's blocking pool) and hands its
    /// answer to `done` on the UI thread, unless the resident has left since (Home, idle reset).
    /// `changes`: the operation changes the queues, bookings or attendance (the print queue and
    /// the outbox are woken). Without a backend the operation runs at once on the inline kiosk
    /// (headless screenshots), or not at all.
    pub(super) fn work<T: Send + 'static>(
        &self,
        changes: bool,
        job: impl FnOnce(&mut Kiosk) -> Result<T, KioskError> + Send + 'static,
        done: impl FnOnce(&Controller, Result<T, KioskError>) + 'static,
    ) {
        if let Some(backend) = &self.backend {
            let answer = backend.run(changes, job);
            let weak = self.me.clone();
            let session = self.session.get();
            let waiting = slint::spawn_local(async move {
                let result = answer.await.unwrap_or_else(|_| {
                    Err(KioskError::Workers("the kiosk's worker stopped".into()))
                });
                if let Some(c) = weak.upgrade() {
                    if c.session.get() == session {
                        done(&c, result);
                    }
                }
            });
            if let Err(e) = waiting {
                eprintln!("an answer of the kiosk will not reach the screen: {e}");
            }
            return;
        }
        let result = self.inline.borrow_mut().as_mut().map(job);
        if let Some(result) = result {
            done(self, result);
        }
    }

    /// Awaits an answer of the backend on the UI thread (as [`Controller::work`] does).
    pub(super) fn await_answer<T: 'static>(
        &self,
        answer: tokio::sync::oneshot::Receiver<T>,
        done: impl FnOnce(&Controller, Option<T>) + 'static,
    ) {
        let weak = self.me.clone();
        let session = self.session.get();
        let waiting = slint::spawn_local(async move {
            let result = answer.await.ok();
            if let Some(c) = weak.upgrade() {
                if c.session.get() == session {
                    done(&c, result);
                }
            }
        });
        if let Err(e) = waiting {
            eprintln!("an answer of the kiosk will not reach the screen: {e}");
        }
    }

    pub(super) fn backend(&self) -> Option<&Backend> {
        self.backend.as_ref()
    }

    /// What changes without a touch, asked again for the screen showing it.
    fn refresh_screen(&self) {
        let screen = self.state.borrow().screen;
        match screen {
            Screen::Home | Screen::TakeNumber => self.refresh_open_now(),
            Screen::Ticket => self.refresh_ticket(),
            Screen::Staff => self.staff_refresh(),
            _ => {}
        }
    }

    fn connect(&self, app: &AppWindow) {
        let api = app.global::<Api>();
        macro_rules! on {
            ($register:ident, |$c:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
                let weak = self.me.clone();
                api.$register(move |$($arg: $ty),*| {
                    if let Some($c) = weak.upgrade() {
                        $c.activity();
                        $body;
                    }
                });
            }};
        }
        on!(on_choose_service, |c, id: SharedString| c
            .choose_service(&id));
        on!(on_choose_subtype, |c, id: SharedString| c
            .choose_subtype(&id));
        on!(on_choose_option, |c, q: SharedString, o: SharedString| c
            .choose_option(&q, &o));
        on!(on_open_text_entry, |c, q: SharedString| c
            .open_text_entry(&q));
        on!(on_close_text_entry, |c, keep: bool| c
            .close_text_entry(keep));
        on!(on_next, |c| c.next());
        on!(on_back, |c| c.back());
        on!(on_go_home, |c| c.go_home());
        on!(on_file_anonymously, |c| c.file_anonymously());
        on!(on_accept_consent, |c| c.next());
        on!(on_submit, |c| c.next());
        on!(on_show_code, |c| c.show_code());
        on!(on_finish, |c| c.go_home());
        on!(on_set_english, |c, english: bool| c.set_language(
            if english { Language::En } else { Language::Zh }
        ));
        on!(on_set_elderly, |c, on: bool| c.set_elderly(on));
        on!(on_call_staff, |c| c.call_staff());
        on!(on_key, |c, text: SharedString| c.key(&text));
        on!(on_ime_pick, |c, index: i32| c
            .ime_pick(index.max(0) as usize));
        on!(on_ime_page, |c, next: bool| c.ime_page(next));
        on!(on_ime_toggle, |c| c.ime_toggle());
        on!(on_still_here, |c| c.still_here());
        on!(on_open_track, |c| c.open_track());
        on!(on_track_edited, |c, text: SharedString| c
            .track_edited(&text));
        on!(on_track_submit, |c| c.track_submit());
        on!(on_scanner_key, |c, text: SharedString| c.scanner_key(&text));
        on!(on_dismiss_scan_held, |c| c.dismiss_scan_held());
        on!(on_open_take_number, |c| c.open_take_number());
        on!(on_choose_lane, |c, id: SharedString| c.choose_lane(&id));
        on!(on_answer_priority, |c, yes: bool| c.answer_priority(yes));
        on!(on_take_number_for_case, |c| c.take_number_for_case());
        on!(on_open_booking, |c| c.open_booking());
        on!(on_choose_book_service, |c, id: SharedString| c
            .choose_book_service(&id));
        on!(on_choose_book_day, |c, day: i32| c.choose_book_day(day));
        on!(on_choose_slot, |c, id: SharedString| c.choose_slot(&id));
        on!(on_book_phone_done, |c| c.book_phone_done());
        on!(on_confirm_booking, |c| c.confirm_booking());
        on!(on_check_in, |c| c.check_in());
        on!(on_ask_cancel_booking, |c, ask: bool| c
            .ask_cancel_booking(ask));
        on!(on_cancel_booking, |c| c.cancel_booking());
        on!(on_walk_in_instead, |c| c.walk_in_instead());
        on!(on_staff_tap, |c| c.staff_tap());
        on!(on_staff_pin_key, |c, key: SharedString| c
            .staff_pin_key(&key));
        on!(on_staff_pin_enter, |c| c.staff_pin_enter());
        on!(on_staff_show_tab, |c, tab: super::ui::StaffTab| c
            .staff_show_tab(tab));
        on!(on_staff_set_counter, |c, counter: i32| c
            .staff_set_counter(counter));
        on!(on_staff_call_next, |c, service: SharedString| c
            .staff_call_next(&service));
        on!(on_staff_recall, |c| c.staff_recall());
        on!(on_staff_served, |c| c.staff_served());
        on!(on_staff_no_show, |c| c.staff_no_show());
        on!(on_staff_transfer, |c, service: SharedString| c
            .staff_transfer(&service));
        on!(on_staff_cancel_booking, |c, code: SharedString| c
            .staff_cancel_booking(&code));
        on!(on_staff_paper_refilled, |c| c.staff_paper_refilled());
        on!(on_staff_test_print, |c| c.staff_test_print());
        on!(on_staff_reprint, |c| c.staff_reprint());
        on!(on_staff_retry_outbox, |c| c.staff_retry_outbox());
        on!(
            on_staff_attendance,
            |c, provider: SharedString, check_in: bool| c.staff_attendance(&provider, check_in)
        );
        on!(on_staff_clear_notice, |c, id: i32| c
            .staff_clear_notice(i64::from(id)));
        on!(on_staff_exit, |c| c.go_home());
    }

    pub(super) fn app(&self) -> Option<AppWindow> {
        self.app.upgrade()
    }

    pub(super) fn render(&self) {
        if let Some(app) = self.app() {
            render(&app, &self.state.borrow());
        }
    }

    /// A read-only look at the state, for tests and the screenshot tour.
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.borrow())
    }

    // ---- navigation -------------------------------------------------------------------------

    pub fn choose_service(&self, id: &str) {
        {
            let mut st = self.state.borrow_mut();
            let Some(service) = st.config.catalogue.service(id).cloned() else {
                return;
            };
            st.wizard = Some(Wizard::start(&service, st.language));
            st.result = None;
            st.problem = Problem::None;
            st.screen = screen_of(st.wizard.as_ref().map_or(Step::Subtype, Wizard::step));
        }
        self.entered_step();
    }

    pub fn choose_subtype(&self, id: &str) {
        self.navigate(|wizard, service, _| wizard.choose_subtype(service, id));
    }

    pub fn choose_option(&self, question: &str, option: &str) {
        if let Some(w) = self.state.borrow_mut().wizard.as_mut() {
            w.toggle_option(question, option);
        }
        self.render();
    }

    pub fn open_text_entry(&self, question: &str) {
        let value = {
            let mut st = self.state.borrow_mut();
            st.ime.clear_typing();
            st.text_entry = Some(question.to_owned());
            st.wizard
                .as_ref()
                .and_then(|w| w.answer(question))
                .unwrap_or("")
                .to_owned()
        };
        if let Some(app) = self.app() {
            app.global::<Api>().set_text_entry_value(value.into());
        }
        self.render();
    }

    pub fn close_text_entry(&self, keep: bool) {
        let typed = self
            .app()
            .map(|a| a.global::<Api>().get_text_entry_value().to_string())
            .unwrap_or_default();
        {
            let mut st = self.state.borrow_mut();
            st.ime.clear_typing();
            let Some(question) = st.text_entry.take() else {
                return;
            };
            if keep {
                if let Some(w) = st.wizard.as_mut() {
                    w.set_text_answer(&question, &typed);
                }
            }
        }
        self.render();
    }

    /// Next (and Submit, and "I agree": the wizard knows which step it is on).
    pub fn next(&self) {
        self.navigate(|wizard, service, config| wizard.next(service, config));
    }

    pub fn file_anonymously(&self) {
        self.navigate(|wizard, service, _| wizard.file_anonymously(service));
    }

    pub fn back(&self) {
        if self.state.borrow().wizard.is_none() {
            self.flow_back();
            return;
        }
        self.navigate(|wizard, _, _| Ok(wizard.back()));
    }

    /// Runs a wizard move with what the resident typed collected first, then shows where it
    /// leads: the next step, Home, the step's problem, or the filing.
    fn navigate(
        &self,
        step: impl FnOnce(&mut Wizard, &Service, &KioskConfig) -> Result<Move, crate::domain::CaseError>,
    ) {
        self.collect_typed();
        self.state.borrow_mut().ime.clear_typing();
        let outcome = {
            let mut st = self.state.borrow_mut();
            if st.busy {
                return;
            }
            let config = st.config.clone();
            let Some(wizard) = st.wizard.as_mut() else {
                return;
            };
            let Some(service) = config.catalogue.service(&wizard.draft.service) else {
                return;
            };
            let outcome = step(wizard, service, &config);
            let next_screen = screen_of(wizard.step());
            match &outcome {
                Ok(Move::Stay) => {
                    st.problem = Problem::None;
                    st.screen = next_screen;
                }
                Err(e) => st.problem = problem_of_case(e),
                Ok(_) => {}
            }
            outcome
        };
        match outcome {
            Ok(Move::Stay) => self.entered_step(),
            Ok(Move::Home) => self.go_home(),
            Ok(Move::Submit) => self.submit(),
            Err(_) => self.render(),
        }
    }

    fn submit(&self) {
        let Some(draft) = self.state.borrow().wizard.as_ref().map(|w| w.draft.clone()) else {
            return;
        };
        let Some(backend) = &self.backend else {
            return;
        };
        {
            let mut st = self.state.borrow_mut();
            st.busy = true;
            st.problem = Problem::None;
        }
        self.render();
        let answer = backend.submit(draft);
        let weak = self.me.clone();
        let session = self.session.get();
        let waiting = slint::spawn_local(async move {
            let result = answer
                .await
                .unwrap_or_else(|_| Err(KioskError::Workers("the intake worker stopped".into())));
            if let Some(c) = weak.upgrade() {
                if c.session.get() == session {
                    c.show_filed(result);
                }
            }
        });
        if let Err(e) = waiting {
            self.show_filed(Err(KioskError::Workers(e.to_string())));
        }
    }

    /// Shows the outcome of filing: the code and QR (the emergency numbers first when the case
    /// is high-risk), or the problem with everything the resident entered kept.
    pub fn show_filed(&self, result: Result<Filed, KioskError>) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            match result {
                Ok(filed) => {
                    let payload = crate::domain::qr_payload(&filed.url);
                    let next_steps = st
                        .config
                        .catalogue
                        .service(&filed.case.service)
                        .map(|s| s.next_steps.get(st.language).to_owned())
                        .unwrap_or_default();
                    let high_risk = filed.case.risk.level == RiskLevel::High;
                    st.result = Some(ResultView {
                        token: filed.case.token.as_str().to_owned(),
                        service: filed.case.service.clone(),
                        code: filed.case.token.grouped(),
                        qr: qr_image(&payload).unwrap_or_default(),
                        next_steps,
                        print: if st.printer_down() {
                            PrintState::Unavailable
                        } else {
                            PrintState::Waiting
                        },
                        high_risk,
                    });
                    // The draft held personal data; the case is durable now, so let it go.
                    st.wizard = None;
                    st.problem = Problem::None;
                    st.screen = if high_risk {
                        Screen::HighRisk
                    } else {
                        Screen::Result
                    };
                }
                Err(e) => st.problem = problem_of(&e),
            }
        }
        self.render();
    }

    /// From the emergency numbers to the code.
    pub fn show_code(&self) {
        {
            let mut st = self.state.borrow_mut();
            if st.result.is_some() {
                st.screen = Screen::Result;
            }
        }
        self.render();
    }

    /// A print job changed state; if it is the slip of the case, the ticket or the booking on
    /// screen, show it.
    pub fn print_changed(&self, outcome: &PrintOutcome) {
        {
            let mut st = self.state.borrow_mut();
            let down = st.printer_down();
            let print = match outcome.state {
                PrintJobState::Pending if down => PrintState::Unavailable,
                PrintJobState::Pending => PrintState::Waiting,
                PrintJobState::Printing => PrintState::Printing,
                PrintJobState::Printed => PrintState::Printed,
                PrintJobState::Failed | PrintJobState::Suppressed => PrintState::Failed,
            };
            let token = outcome.token.as_str();
            let mut shown = false;
            if let Some(result) = st.result.as_mut().filter(|r| r.token == token) {
                result.print = print;
                shown = true;
            }
            if let Some(ticket) = st.ticket.as_mut().filter(|t| t.slip_token == token) {
                if ticket.print != PrintState::None {
                    ticket.print = print;
                    shown = true;
                }
            }
            if let Some(booking) = st
                .booking_shown
                .as_mut()
                .filter(|b| b.info.booking.token == token)
            {
                if booking.print != PrintState::None {
                    booking.print = print;
                    shown = true;
                }
            }
            if !shown {
                return;
            }
        }
        self.render();
    }

    /// The printer's state changed: Home says so before anyone starts, and a slip waiting on
    /// the result screen says the printer cannot print it now.
    pub fn printer_changed(&self, state: PrinterState) {
        {
            let mut st = self.state.borrow_mut();
            st.printer = Some(state);
            let down = st.printer_down();
            let adjust = |print: &mut PrintState| {
                *print = match *print {
                    PrintState::Waiting if down => PrintState::Unavailable,
                    PrintState::Unavailable if !down => PrintState::Waiting,
                    other => other,
                };
            };
            if let Some(result) = st.result.as_mut() {
                adjust(&mut result.print);
            }
            if let Some(ticket) = st.ticket.as_mut() {
                adjust(&mut ticket.print);
            }
            if let Some(booking) = st.booking_shown.as_mut() {
                adjust(&mut booking.print);
            }
        }
        self.render();
    }

    // ---- track my case -----------------------------------------------------------------------

    pub fn open_track(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.wizard = None;
            st.result = None;
            st.tracked = None;
            st.track_not_found = false;
            st.track_check = TrackCheck::Empty;
            st.track_scan = ScanProblem::None;
            st.screen = Screen::Track;
        }
        if let Some(app) = self.app() {
            app.global::<Api>().set_track_code(SharedString::new());
        }
        self.render();
    }

    /// Checks the code as it is typed, so a typo shows before the resident presses Search.
    pub fn track_edited(&self, text: &str) {
        {
            let mut st = self.state.borrow_mut();
            st.track_not_found = false;
            st.track_scan = ScanProblem::None;
            st.track_missing = 0;
            st.track_check = match TrackingToken::from_scan(text) {
                Ok(_) => TrackCheck::Ok,
                Err(TokenError::Empty) => TrackCheck::Empty,
                Err(TokenError::WrongLength { found, expected }) => {
                    st.track_missing = expected as i32 - found as i32;
                    if found < expected {
                        TrackCheck::Incomplete
                    } else {
                        TrackCheck::TooLong
                    }
                }
                Err(TokenError::InvalidCharacter { found, .. }) => {
                    st.track_bad_char = found.to_string();
                    TrackCheck::BadCharacter
                }
                Err(TokenError::CheckFailed) => TrackCheck::Typo,
            };
        }
        self.render();
    }

    pub fn track_submit(&self) {
        let code = match self.app() {
            Some(app) => app.global::<Api>().get_track_code().to_string(),
            None => return,
        };
        self.track_edited(&code);
        if self.state.borrow().track_check != TrackCheck::Ok {
            if looks_scanned(&code) {
                // A keyboard-wedge scanner typed something that is no code of ours (another QR
                // code, a web address): say so, and clear the field for the next try.
                if let Some(app) = self.app() {
                    app.global::<Api>().set_track_code(SharedString::new());
                }
                let mut st = self.state.borrow_mut();
                st.track_check = TrackCheck::Empty;
                st.track_scan = ScanProblem::NotOurs;
                drop(st);
                self.render();
            }
            return;
        }
        if let Ok(token) = TrackingToken::from_scan(&code) {
            self.lookup(token.as_str().to_owned());
        }
    }

    /// Looks a typed or scanned code up: first what it is at this station (a booking opens its
    /// screen, a ticket its place in the queue), then, for a case or a code this station does
    /// not know, its progress (`Kiosk::track`, as `case show` does).
    fn lookup(&self, code: String) {
        self.state.borrow_mut().busy = true;
        self.render();
        let asked = code.clone();
        self.work(
            false,
            move |k| super::appointments::look_up(k, &asked),
            move |c, looked| match looked {
                Ok(Looked::Booking(info)) => c.show_booking(info),
                Ok(Looked::Ticket(view)) => c.show_scanned_ticket(view),
                // A case, a code of another station, or the database could not say: upstream
                // knows (or says it knows no such case).
                Ok(Looked::Case) | Ok(Looked::Unknown) | Err(_) => c.track_case(code),
            },
        );
    }

    /// Looks a case up upstream and shows the answer when it comes.
    fn track_case(&self, code: String) {
        let Some(backend) = &self.backend else {
            self.state.borrow_mut().busy = false;
            self.render();
            return;
        };
        self.state.borrow_mut().busy = true;
        self.render();
        let answer = backend.track(code);
        let weak = self.me.clone();
        let session = self.session.get();
        let waiting = slint::spawn_local(async move {
            let result = answer
                .await
                .unwrap_or_else(|_| Err(KioskError::Workers("the tracking worker stopped".into())));
            if let Some(c) = weak.upgrade() {
                if c.session.get() == session {
                    c.show_tracked(result);
                }
            }
        });
        if let Err(e) = waiting {
            self.show_tracked(Err(KioskError::Workers(e.to_string())));
        }
    }

    /// Shows a case looked up by its code, or says no case has it.
    pub fn show_tracked(&self, result: Result<Tracked, KioskError>) {
        {
            let mut st = self.state.borrow_mut();
            st.busy = false;
            match result {
                Ok(tracked) => {
                    st.tracked = Some(tracked);
                    st.screen = Screen::TrackResult;
                }
                Err(KioskError::NotFound(_)) | Err(KioskError::Token(_)) => {
                    st.track_not_found = true
                }
                Err(e) => {
                    st.track_not_found = false;
                    st.problem = problem_of(&e);
                }
            }
        }
        self.render();
    }

    // ---- scans --------------------------------------------------------------------------------

    /// A scan: from the serial scanner, or a line a keyboard-wedge scanner typed where no text
    /// field has the focus. A tracking code (or a slip's tracking URL) opens Track and is looked
    /// up exactly as if typed; anything else opens Track saying it is not a tracking code. In
    /// the middle of an intake (the wizard, or its case being saved) the scan is set aside with
    /// a notice instead: the resident's answers are never thrown away by a scan, and they can
    /// submit or go Home and scan again. While a lookup is under way a further scan (a scanner
    /// reading the slip twice) is ignored.
    pub fn scanned(&self, scan: Scan) {
        self.activity();
        let (in_intake, looking_up, staff) = {
            let st = self.state.borrow();
            (
                st.wizard.is_some(),
                st.busy,
                matches!(st.screen, Screen::StaffPin | Screen::Staff),
            )
        };
        if staff {
            // Staff at the console are not looking a slip up.
            return;
        }
        if in_intake {
            self.hold_scan();
            return;
        }
        if looking_up {
            return;
        }
        let token = match &scan {
            Scan::Text(text) => TrackingToken::from_scan(text).map_err(|_| ScanProblem::NotOurs),
            Scan::NotText => Err(ScanProblem::Unreadable),
            Scan::TooLong => Err(ScanProblem::NotOurs),
        };
        match token {
            Ok(token) => {
                self.open_track();
                let code = token.grouped();
                if let Some(app) = self.app() {
                    app.global::<Api>().set_track_code(code.as_str().into());
                }
                self.track_edited(&code);
                self.lookup(token.as_str().to_owned());
            }
            Err(problem) => {
                // On Track already, what the resident typed stays.
                if self.state.borrow().screen != Screen::Track {
                    self.open_track();
                }
                self.state.borrow_mut().track_scan = problem;
                self.render();
            }
        }
    }

    /// A key typed where no text field has the focus (Home, a case's progress, the result):
    /// a keyboard-wedge scanner typing a code. The keys gather into a line, Enter ends it, and
    /// the line is a scan.
    pub fn scanner_key(&self, text: &str) {
        let scan = {
            let mut wedge = self.wedge.borrow_mut();
            let now = Instant::now();
            if wedge
                .last_key
                .is_some_and(|t| now.duration_since(t) > WEDGE_GAP)
            {
                wedge.clear();
            }
            wedge.last_key = Some(now);
            if text == "\n" || text == "\r" {
                wedge.take()
            } else {
                // Modifier, arrow and function keys come as control or private-use characters.
                let typed = |c: &char| !c.is_control() && !('\u{E000}'..='\u{F8FF}').contains(c);
                for c in text.chars().filter(typed) {
                    if wedge.typed.len() + c.len_utf8() > MAX_LINE {
                        wedge.too_long = true;
                        wedge.typed.clear();
                    }
                    if !wedge.too_long {
                        wedge.typed.push(c);
                    }
                }
                None
            }
        };
        if let Some(scan) = scan {
            self.scanned(scan);
        }
    }

    /// A scan during an intake: the notice says why nothing happened, and goes by itself.
    fn hold_scan(&self) {
        self.state.borrow_mut().scan_held = true;
        self.render();
        let weak = self.me.clone();
        self.notice
            .start(TimerMode::SingleShot, SCAN_HELD_FOR, move || {
                if let Some(c) = weak.upgrade() {
                    c.dismiss_scan_held();
                }
            });
    }

    pub fn dismiss_scan_held(&self) {
        self.notice.stop();
        self.state.borrow_mut().scan_held = false;
        self.render();
    }

    /// The serial scanner's port opened or went away.
    pub fn scanner_changed(&self, open: bool) {
        self.state.borrow_mut().scanner = Some(open);
    }

    /// Back to Home with everything the resident entered or was shown cleared.
    pub fn go_home(&self) {
        self.session.set(self.session.get() + 1);
        if self.state.borrow().staff.signed_in {
            self.staff_signed_out();
        }
        {
            let mut st = self.state.borrow_mut();
            st.wizard = None;
            st.result = None;
            st.problem_detail.clear();
            st.queue_service = None;
            st.ticket = None;
            st.bookable.clear();
            st.booking = None;
            st.booking_shown = None;
            st.staff = StaffState::default();
            st.text_entry = None;
            st.problem = Problem::None;
            st.busy = false;
            st.still_there = None;
            st.tracked = None;
            st.track_not_found = false;
            st.track_check = TrackCheck::Empty;
            st.track_scan = ScanProblem::None;
            st.scan_held = false;
            st.staff_called = false;
            st.screen = Screen::Home;
            let pinyin = st.language == Language::Zh;
            st.ime.reset(pinyin);
        }
        self.give_up.stop();
        self.countdown.stop();
        self.notice.stop();
        self.wedge.borrow_mut().clear();
        if let Some(app) = self.app() {
            let api = app.global::<Api>();
            api.set_description(SharedString::new());
            api.set_phone(SharedString::new());
            api.set_text_entry_value(SharedString::new());
            api.set_track_code(SharedString::new());
        }
        self.render();
        self.refresh_open_now();
    }

    // ---- typing -------------------------------------------------------------------------------

    /// A key of the on-screen keyboard or keypad: into the pinyin being composed, or to the
    /// focused field as a key event.
    pub fn key(&self, text: &str) {
        let out = {
            let mut st = self.state.borrow_mut();
            if st.composing() {
                st.ime.key(text)
            } else {
                vec![text.to_owned()]
            }
        };
        self.type_texts(&out);
        self.render();
    }

    /// Sends each of `texts` to the focused field as a key event.
    fn type_texts(&self, texts: &[String]) {
        let Some(app) = self.app() else {
            return;
        };
        for text in texts {
            let text: SharedString = match text.as_str() {
                "\u{8}" => Key::Backspace.into(),
                "\n" => Key::Return.into(),
                other => other.into(),
            };
            app.window()
                .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
            app.window()
                .dispatch_event(WindowEvent::KeyReleased { text });
        }
    }

    /// The resident tapped a candidate of the pinyin keyboard's bar.
    pub fn ime_pick(&self, index: usize) {
        let word = self.state.borrow_mut().ime.pick(index);
        if let Some(word) = word {
            self.type_texts(&[word]);
        }
        self.render();
    }

    /// The candidates' next page (or the one before).
    pub fn ime_page(&self, next: bool) {
        {
            let mut st = self.state.borrow_mut();
            let elderly = st.elderly;
            st.ime.turn_page(next, elderly);
        }
        self.render();
    }

    /// Pinyin ⇄ ABC.
    pub fn ime_toggle(&self) {
        let raw = self.state.borrow_mut().ime.toggle();
        if let Some(raw) = raw {
            self.type_texts(&[raw]);
        }
        self.render();
    }

    /// The pinyin dictionary, loaded once off the UI thread (see [`Controller::new`]), or
    /// loaded here at once (headless screenshots).
    pub fn dictionary_loaded(&self, dict: Result<Dictionary, DictionaryError>) {
        self.state.borrow_mut().ime.loaded(dict);
        self.render();
    }

    /// Copies the fields being typed into the draft.
    fn collect_typed(&self) {
        let Some(app) = self.app() else {
            return;
        };
        let api = app.global::<Api>();
        let mut st = self.state.borrow_mut();
        let Some(w) = st.wizard.as_mut() else {
            return;
        };
        match w.step() {
            Step::Description => w.draft.description = api.get_description().to_string(),
            Step::Contact => w.draft.phone = api.get_phone().to_string(),
            _ => {}
        }
    }

    /// Shows a step, with the fields being typed loaded from the draft.
    fn entered_step(&self) {
        if let Some(app) = self.app() {
            let api = app.global::<Api>();
            let st = self.state.borrow();
            if let Some(w) = &st.wizard {
                api.set_description(w.draft.description.as_str().into());
                api.set_phone(w.draft.phone.as_str().into());
            }
        }
        self.render();
    }

    // ---- settings -----------------------------------------------------------------------------

    pub fn set_language(&self, language: Language) {
        {
            let mut st = self.state.borrow_mut();
            st.language = language;
            st.ime.clear_typing();
            st.ime.pinyin_mode = language == Language::Zh;
        }
        if let Some(w) = self.state.borrow_mut().wizard.as_mut() {
            w.draft.language = language;
        }
        self.apply_language();
        self.render();
    }

    fn apply_language(&self) {
        // The UI's source language is Chinese; English is the bundled translation.
        let tag = match self.state.borrow().language {
            Language::Zh => "",
            Language::En => "en",
        };
        if let Err(e) = slint::select_bundled_translation(tag) {
            eprintln!("cannot switch the screen's language: {e}");
        }
    }

    /// The elderly mode's "call staff" button: the same `Kiosk::call_staff` as `staff call`;
    /// the button then says staff are on their way, for the rest of the session.
    pub fn call_staff(&self) {
        if self.state.borrow().staff_called {
            return;
        }
        self.work(
            true,
            |k| k.call_staff(chrono::Utc::now()),
            |c, result| {
                {
                    let mut st = c.state.borrow_mut();
                    match result {
                        Ok(_) => st.staff_called = true,
                        Err(e) => st.problem = problem_of(&e),
                    }
                }
                c.render();
            },
        );
    }

    pub fn set_elderly(&self, on: bool) {
        self.state.borrow_mut().elderly = on;
        self.render();
    }

    // ---- idle reset ---------------------------------------------------------------------------

    /// Any touch: the idle clock starts again and a "still there?" prompt goes away.
    pub fn activity(&self) {
        let (timeout, prompting) = {
            let st = self.state.borrow();
            (
                st.config.idle_timeout_s(st.elderly),
                st.still_there.is_some(),
            )
        };
        if prompting {
            self.state.borrow_mut().still_there = None;
            self.give_up.stop();
            self.countdown.stop();
            self.render();
        }
        let weak = self.me.clone();
        self.idle.start(
            TimerMode::SingleShot,
            Duration::from_secs(u64::from(timeout)),
            move || {
                if let Some(c) = weak.upgrade() {
                    c.idle_timeout();
                }
            },
        );
    }

    pub fn still_here(&self) {
        // `activity` (called for every callback) already dismissed the prompt.
        self.render();
    }

    /// Nobody touched the screen for the idle timeout.
    pub fn idle_timeout(&self) {
        let (at_home, defaults) = {
            let st = self.state.borrow();
            (
                st.screen == Screen::Home,
                st.language == st.config.ui.default_language && !st.elderly,
            )
        };
        if at_home {
            // Nothing to clear, but the next resident gets the default language and text size.
            if !defaults {
                self.restore_defaults();
            }
            return;
        }
        let seconds = self.state.borrow().config.ui.still_there_s;
        self.state.borrow_mut().still_there = Some(seconds);
        self.render();
        let weak = self.me.clone();
        self.give_up.start(
            TimerMode::SingleShot,
            Duration::from_secs(u64::from(seconds)),
            move || {
                if let Some(c) = weak.upgrade() {
                    c.restore_defaults();
                }
            },
        );
        let weak = self.me.clone();
        self.countdown
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(c) = weak.upgrade() {
                    c.countdown_tick();
                }
            });
    }

    fn countdown_tick(&self) {
        if let Some(left) = self.state.borrow_mut().still_there.as_mut() {
            *left = left.saturating_sub(1).max(1);
        }
        self.render();
    }

    /// Clears everything and returns to Home in the default language and text size.
    fn restore_defaults(&self) {
        {
            let mut st = self.state.borrow_mut();
            st.language = st.config.ui.default_language;
            st.elderly = false;
        }
        self.apply_language();
        self.go_home();
    }
}

/// Pinyin is the keyboard's default mode in Chinese.
fn config_pinyin(config: &KioskConfig) -> bool {
    config.ui.default_language == Language::Zh
}

/// Whether text that is no tracking code came from a scanner rather than a typo: a web address,
/// or far longer than any way of typing a code (17 characters, with dashes or spaces between
/// groups).
fn looks_scanned(text: &str) -> bool {
    text.contains("://") || text.chars().filter(|c| !c.is_whitespace()).count() > 30
}
