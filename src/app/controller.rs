//! The touchscreen's controller: answers every `Api` callback by changing its [`State`] (the
//! wizard, the language, the result on screen) and re-rendering. It decides nothing about
//! cases: steps are checked by [`Wizard`], cases are filed by [`crate::kiosk`] through the
//! [`Backend`], exactly as the CLI files them.
//!
//! It also keeps the idle reset (DESIGN.md §3.8): after the idle timeout without a touch it asks
//! "still there?", and if nobody answers it clears everything and returns Home.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, Image, SharedString, Timer, TimerMode};

use super::backend::{Backend, BackendEvent};
use super::qr::qr_image;
use super::ui::{Api, AppWindow, PrintState, Problem, Screen, TrackCheck};
use super::view::{problem_of, problem_of_case, render, screen_of};
use super::wizard::{Move, Step, Wizard};
use crate::config::KioskConfig;
use crate::domain::{Language, RiskLevel, Service, TokenError, TrackingToken};
use crate::kiosk::{Filed, KioskError, PrintOutcome, Tracked};
use crate::printer::status::PrinterState;
use crate::store::PrintJobState;

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
}

/// The filed case on the result screen.
pub struct ResultView {
    pub token: String,
    pub code: String,
    pub qr: Image,
    pub next_steps: String,
    pub print: PrintState,
    pub high_risk: bool,
}

impl State {
    fn new(config: Arc<KioskConfig>) -> State {
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
        }
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

pub struct Controller {
    app: slint::Weak<AppWindow>,
    state: RefCell<State>,
    backend: Option<Backend>,
    idle: Timer,
    /// Ends the "still there?" prompt by clearing everything.
    give_up: Timer,
    /// Only counts the prompt's seconds down on screen.
    countdown: Timer,
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
            idle: Timer::default(),
            give_up: Timer::default(),
            countdown: Timer::default(),
            session: Cell::new(0),
            me: me.clone(),
        });
        controller.connect(app);
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
                    }
                }
            });
            if let Err(e) = listening {
                eprintln!("print state will not reach the screen: {e}");
            }
        }
        controller.apply_language();
        controller.render();
        controller
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
        on!(on_key, |c, text: SharedString| c.key(&text));
        on!(on_still_here, |c| c.still_here());
        on!(on_open_track, |c| c.open_track());
        on!(on_track_edited, |c, text: SharedString| c
            .track_edited(&text));
        on!(on_track_submit, |c| c.track_submit());
    }

    fn app(&self) -> Option<AppWindow> {
        self.app.upgrade()
    }

    fn render(&self) {
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
        self.navigate(|wizard, _, _| Ok(wizard.back()));
    }

    /// Runs a wizard move with what the resident typed collected first, then shows where it
    /// leads: the next step, Home, the step's problem, or the filing.
    fn navigate(
        &self,
        step: impl FnOnce(&mut Wizard, &Service, &KioskConfig) -> Result<Move, crate::domain::CaseError>,
    ) {
        self.collect_typed();
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

    /// A print job changed state; if it is the slip of the case on screen, show it.
    pub fn print_changed(&self, outcome: &PrintOutcome) {
        {
            let mut st = self.state.borrow_mut();
            let down = st.printer_down();
            let Some(result) = st.result.as_mut() else {
                return;
            };
            if result.token != outcome.token.as_str() {
                return;
            }
            result.print = match outcome.state {
                PrintJobState::Pending if down => PrintState::Unavailable,
                PrintJobState::Pending => PrintState::Waiting,
                PrintJobState::Printing => PrintState::Printing,
                PrintJobState::Printed => PrintState::Printed,
                PrintJobState::Failed | PrintJobState::Suppressed => PrintState::Failed,
            };
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
            if let Some(result) = st.result.as_mut() {
                result.print = match result.print {
                    PrintState::Waiting if down => PrintState::Unavailable,
                    PrintState::Unavailable if !down => PrintState::Waiting,
                    other => other,
                };
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
            return;
        }
        let Some(backend) = &self.backend else {
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

    /// Back to Home with everything the resident entered or was shown cleared.
    pub fn go_home(&self) {
        self.session.set(self.session.get() + 1);
        {
            let mut st = self.state.borrow_mut();
            st.wizard = None;
            st.result = None;
            st.text_entry = None;
            st.problem = Problem::None;
            st.busy = false;
            st.still_there = None;
            st.tracked = None;
            st.track_not_found = false;
            st.track_check = TrackCheck::Empty;
            st.screen = Screen::Home;
        }
        self.give_up.stop();
        self.countdown.stop();
        if let Some(app) = self.app() {
            let api = app.global::<Api>();
            api.set_description(SharedString::new());
            api.set_phone(SharedString::new());
            api.set_text_entry_value(SharedString::new());
            api.set_track_code(SharedString::new());
        }
        self.render();
    }

    // ---- typing -------------------------------------------------------------------------------

    /// A key of the on-screen keyboard or keypad, delivered to the focused field as a key event.
    pub fn key(&self, text: &str) {
        let Some(app) = self.app() else {
            return;
        };
        let text: SharedString = match text {
            "\u{8}" => Key::Backspace.into(),
            "\n" => Key::Return.into(),
            other => other.into(),
        };
        app.window()
            .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
        app.window()
            .dispatch_event(WindowEvent::KeyReleased { text });
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
        self.state.borrow_mut().language = language;
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
