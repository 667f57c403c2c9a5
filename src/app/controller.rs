//! The touchscreen's controller: answers every `Api` callback by changing its [`State`] through
//! [`Controller::update`], the one place where the state changes and the screen is drawn again
//! from it. It decides nothing about cases: steps are checked by [`Wizard`], and every kiosk
//! operation goes through [`Operations`] (the [`Backend`], off the UI thread), exactly as the CLI
//! files, books and calls.
//!
//! The state is in two parts. The [`Station`] outlives every resident (the configuration, the
//! printer, the scanner, what is open now, the pinyin dictionary). The [`Session`] is one
//! resident's, from Home to Home: the language, the text size, and one [`Flow`] whose variant
//! carries what that flow's screens show. Going Home and the idle reset both start a new
//! session, so nothing the resident entered or was shown can outlive them.
//!
//! The idle reset (DESIGN.md §3.8): after the idle timeout without a touch the controller asks
//! "still there?", and if nobody answers it starts a new session in the default language.
//!
//! Scans (a slip's QR code or printed code, from the serial scanner or a keyboard-wedge scanner
//! typing where no field has the focus) open "Track my case" from wherever the resident is and
//! look the code up exactly as a typed one, except in the middle of an intake: there a scan
//! never throws the resident's answers away; a notice says to submit or go Home first. A code
//! is first asked what it is (`Kiosk::code_kind`): a booking opens its booking screen, a queue
//! ticket its ticket screen, a case (or a code this station does not know) its progress.
//!
//! Taking a number, booking an appointment and the staff mode are in [`super::appointments`]
//! and [`super::staff`].

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, Image, SharedString, Timer, TimerMode};
use tokio::sync::{mpsc, oneshot};

use super::appointments::{look_up, Book, Booked, Looked, OpenNow, ScannedBooking, TicketShown};
use super::backend::{Backend, BackendEvent, TestPrint};
use super::pinyin::{Composer, Pen, PinyinDictionary};
use super::qr::qr_image;
use super::read_aloud;
use super::staff::Staff;
use super::ui::{AppWindow, PrintState, Problem, ScanProblem, Screen};
use super::view::{collect_typed, problem_of, problem_of_case, render, screen_of};
use super::voice::Voice;
use super::wizard::{Alarm, Move, Step, Wizard};
use devices::scanner::{Scan, MAX_LINE};
use domain::{CaseError, Language, RiskLevel, Service, TokenError, TrackingToken};
use handwriting::{ModelError, Recognizer};
use ime::{Dictionary, DictionaryError};
use slip::status::PrinterState;
use station::config::{KioskConfig, DONE_PROMPT_S};
use station::kiosk::{DrainReport, Filed, Kiosk, KioskError, LaneView, PrintOutcome, Tracked};
use station::store::PrintJobState;

/// How long the notice "finish this first" shows after a scan during an intake.
const SCAN_HELD_FOR: Duration = Duration::from_secs(15);

/// A pause this long between two keys starts a new keyboard-wedge line: a scanner types a whole
/// code in well under a second, so what came before was something else.
const WEDGE_GAP: Duration = Duration::from_secs(2);

/// How often what changes without a touch is asked again: what is open (Home), the places of
/// the lanes (Take a number), a ticket's place (its screen) and the staff console.
const REFRESH: Duration = Duration::from_secs(10);

// ---- what the controller asks of the kiosk --------------------------------------------------

/// An answer of the kiosk, handed to the controller on the UI thread.
pub(crate) type Reply<T> = Box<dyn FnOnce(T)>;

/// A kiosk operation that keeps its own answer (see [`Controller::work`]) and says whether it
/// succeeded.
pub(crate) type Job = Box<dyn FnOnce(&mut Kiosk) -> bool + Send>;

/// The kiosk's operations as the touchscreen asks for them. Every answer comes back through its
/// reply on the UI thread, which never waits for one. The [`Backend`] runs them on its workers;
/// the screenshot tour answers at once, on a kiosk of its own.
pub(crate) trait Operations {
    /// Runs `job` on the kiosk, then `answered`. `changes`: the job changes the queues, the
    /// bookings or the attendance, so on success the print queue and the outbox look again.
    fn run(&self, changes: bool, job: Job, answered: Reply<()>);
    /// Looks a case up by its code, asking upstream.
    fn track(&self, code: String, reply: Reply<Result<Tracked, KioskError>>);
    /// The citizen's rating of a resolved case, given to upstream (`Kiosk::rate_case`).
    fn rate(
        &self,
        code: String,
        rating: String,
        reply: Reply<Result<protocol::RatingOffer, KioskError>>,
    );
    /// Loads the station's pinyin dictionary; until it comes, the keys type letters.
    fn load_dictionary(&self, reply: Reply<Result<Dictionary, DictionaryError>>);
    /// Loads the handwriting pad's models (asked where residents write, dropped at Home);
    /// until they come (or if they cannot), no pad is offered.
    fn load_handwriting(&self, reply: Reply<Result<Arc<Recognizer>, ModelError>>);
    /// Staff's printer and outbox actions. `None`: the worker stopped before answering.
    fn paper_refilled(&self, reply: Reply<Option<Result<(), KioskError>>>);
    fn test_print(&self, reply: Reply<Option<Result<TestPrint, KioskError>>>);
    fn reprint_last(&self, reply: Reply<Option<Result<bool, KioskError>>>);
    fn retry_outbox(&self, reply: Reply<Option<Result<DrainReport, Arc<KioskError>>>>);
}

// ---- the state ----------------------------------------------------------------------------

/// What the touchscreen holds: the station's part, and the session of the resident in front of
/// it.
pub struct State {
    pub station: Station,
    pub session: Session,
}

/// What the station knows, whoever is at the screen.
pub struct Station {
    pub(crate) config: Arc<KioskConfig>,
    /// The printer's last known state (`None` until the first answer).
    pub(crate) printer: Option<PrinterState>,
    /// Whether the serial scanner's port is open (`None`: no serial scanner, or not yet tried).
    pub scanner: Option<bool>,
    /// Who is on duty and who is waiting (Home), with each lane's queue (Take a number).
    pub(crate) open_now: Option<OpenNow>,
    /// The keyboard's pinyin dictionary (its `problem` is for the staff console).
    pub(crate) pinyin: PinyinDictionary,
    /// The station speaks: the screens offer "读给我听".
    pub(crate) voice_on: bool,
}

impl Station {
    fn new(config: Arc<KioskConfig>) -> Station {
        Station {
            voice_on: false,
            pinyin: PinyinDictionary::new(config.ime.fuzzy),
            config,
            printer: None,
            scanner: None,
            open_now: None,
        }
    }

    /// Each lane's queue as last asked (empty until then).
    pub(crate) fn lanes(&self) -> &[LaneView] {
        self.open_now.as_ref().map_or(&[], |o| o.lanes.as_slice())
    }

    /// Whether the printer is known to be unable to print now.
    pub(crate) fn printer_down(&self) -> bool {
        self.printer.is_some_and(|p| !p.can_print())
    }

    /// How a slip just queued shows: waiting for the printer, or held while it cannot print.
    pub(crate) fn new_slip(&self) -> PrintState {
        if self.printer_down() {
            PrintState::Unavailable
        } else {
            PrintState::Waiting
        }
    }
}

/// One resident's visit, from Home to Home: everything they chose, typed or were shown. A new
/// one starts when they go Home (keeping the language and text size they chose) and at the
/// idle reset, so nothing of theirs waits for the next resident.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub(crate) language: Language,
    pub(crate) elderly: bool,
    /// The resident pressed "call staff" (the button says staff are coming).
    pub(crate) staff_called: bool,
    /// Seconds left on the "still there?" prompt, while it shows.
    pub(crate) still_there: Option<u32>,
    /// An answer of the kiosk is awaited; buttons that would ask again wait for it.
    pub(crate) busy: bool,
    /// What the resident must fix, or what went wrong, on the screen shown.
    pub(crate) problem: Problem,
    /// The keyboard's pinyin composition, with what this resident picked.
    pub(crate) composer: Composer,
    pub(crate) wedge: Wedge,
    pub(crate) flow: Flow,
}

impl Session {
    pub fn new(language: Language, elderly: bool) -> Session {
        Session {
            language,
            elderly,
            staff_called: false,
            still_there: None,
            busy: false,
            problem: Problem::None,
            // Pinyin is the keyboard's first mode in Chinese.
            composer: Composer::new(language.is_chinese()),
            wedge: Wedge::default(),
            flow: Flow::Home(Home::default()),
        }
    }

    /// The screen the flow is on.
    pub fn screen(&self) -> Screen {
        self.flow.screen()
    }

    /// The screen shows something done and kept: a case filed (its code), a number taken, a
    /// booking made. Leaving it loses nothing.
    pub fn finished(&self) -> bool {
        matches!(
            self.screen(),
            Screen::Result | Screen::Ticket | Screen::BookDone
        )
    }

    /// Moves to another flow: the last one's data and its problem go.
    pub(super) fn enter(&mut self, flow: Flow) {
        self.flow = flow;
        self.problem = Problem::None;
    }

    pub fn intake(&self) -> Option<&Intake> {
        match &self.flow {
            Flow::Intake(intake) => Some(intake),
            _ => None,
        }
    }
}

/// Where the resident is. Each variant carries what its screens show and nothing more, so a
/// flow's data goes with it when the resident moves on.
#[derive(Debug, Clone, PartialEq)]
pub enum Flow {
    Home(Home),
    /// Filing a case, step by step.
    Intake(Intake),
    /// A case just filed: its code (after the emergency numbers, when it is high-risk).
    Filed(ResultView),
    /// "Track my case": a code being typed, or a case's progress.
    Track(Track),
    /// Take a number: the lanes, then "elderly, disabled or pregnant?".
    TakeNumber(TakeNumber),
    /// A ticket just taken, checked in or scanned.
    Ticket(TicketShown),
    /// Booking an appointment: the service, the slot, the phone, a last look.
    Book(Book),
    /// The booking just made, its slip printing.
    Booked(Booked),
    /// A booking scanned or typed: check in, or cancel it.
    Booking(ScannedBooking),
    /// The staff PIN pad, then the console.
    Staff(Staff),
}

impl Flow {
    pub(crate) fn screen(&self) -> Screen {
        match self {
            Flow::Home(_) => Screen::Home,
            Flow::Intake(intake) if intake.wizard.alarm() == Alarm::Showing => Screen::HighRisk,
            Flow::Intake(intake) => screen_of(intake.wizard.step()),
            Flow::Filed(result) if result.high_risk && !result.code_asked => Screen::HighRisk,
            Flow::Filed(_) => Screen::Result,
            Flow::Track(track) if track.tracked.is_some() => Screen::TrackResult,
            Flow::Track(_) => Screen::Track,
            Flow::TakeNumber(TakeNumber { lane: Some(_) }) => Screen::Priority,
            Flow::TakeNumber(_) => Screen::TakeNumber,
            Flow::Ticket(_) => Screen::Ticket,
            Flow::Book(book) => book.screen(),
            Flow::Booked(_) => Screen::BookDone,
            Flow::Booking(_) => Screen::Booking,
            Flow::Staff(staff) => staff.screen(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Home {
    /// The taps on the station's name so far (five quick ones open the staff PIN pad).
    pub(crate) staff_taps: Vec<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub wizard: Wizard,
    /// A question's text answer being typed, in its overlay.
    pub(crate) text_entry: Option<TextEntry>,
    /// A scan arrived during the intake and was set aside (the notice shows).
    pub(crate) scan_held: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextEntry {
    pub(crate) question: String,
    pub(crate) value: String,
}

/// The filed case on the result screen.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultView {
    pub(crate) token: String,
    pub(crate) service: String,
    pub(crate) code: String,
    pub(crate) qr: Image,
    pub(crate) next_steps: String,
    pub(crate) print: PrintState,
    pub(crate) high_risk: bool,
    /// From the emergency numbers of a high-risk case, the resident asked for the code.
    pub(crate) code_asked: bool,
}

impl ResultView {
    fn of(filed: &Filed, station: &Station, language: Language) -> ResultView {
        let payload = domain::qr_payload(&filed.url);
        ResultView {
            token: filed.case.token.as_str().to_owned(),
            service: filed.case.service.clone(),
            code: filed.case.token.grouped(),
            qr: qr_image(&payload).unwrap_or_default(),
            next_steps: station
                .config
                .catalogue
                .service(&filed.case.service)
                .map(|s| s.next_steps.get(language).to_owned())
                .unwrap_or_default(),
            print: station.new_slip(),
            high_risk: filed.case.risk.level == RiskLevel::High,
            code_asked: false,
        }
    }
}

/// "Track my case".
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The code in the field, as typed or scanned.
    pub(crate) code: String,
    pub(crate) check: CodeCheck,
    /// No case has the code.
    pub(crate) not_found: bool,
    /// The last scan was not a tracking code, or could not be read.
    pub(crate) scan: ScanProblem,
    /// The case looked up, whose progress shows.
    pub(crate) tracked: Option<Tracked>,
    /// A rating is being sent; the last one could not be.
    pub(crate) rating_busy: bool,
    pub(crate) rating_failed: bool,
}

impl Default for Track {
    fn default() -> Track {
        Track {
            code: String::new(),
            check: CodeCheck::Empty,
            not_found: false,
            scan: ScanProblem::None,
            tracked: None,
            rating_busy: false,
            rating_failed: false,
        }
    }
}

impl Track {
    /// The field now says `text`: it is checked as it is typed, so a typo shows before the
    /// resident presses Search.
    pub(crate) fn edited(&mut self, text: &str) {
        self.code = text.to_owned();
        self.not_found = false;
        self.scan = ScanProblem::None;
        self.check = CodeCheck::of(text);
    }

    /// The characters of the code as typed, without the spaces and dashes between groups: what
    /// the code's slots show (upper case, as on the slip).
    pub(crate) fn characters(&self) -> Vec<char> {
        self.code
            .chars()
            .filter(|c| !is_separator(*c))
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }

    /// A key of the code keypad: a character of a code, or Delete (`"\u{8}"`). A code has
    /// [`CODE_CHARACTERS`] characters, so a character past them is not taken. True when this
    /// key typed the last character and the check is right: the search starts by itself.
    pub(crate) fn keyed(&mut self, key: &str) -> bool {
        if key == "\u{8}" {
            let mut code = self.code.trim_end_matches(is_separator).to_owned();
            code.pop();
            self.edited(&code);
            return false;
        }
        if self.characters().len() >= CODE_CHARACTERS {
            return false;
        }
        let code = format!("{}{}", self.code, key);
        self.edited(&code);
        self.check == CodeCheck::Ok
    }

    /// A key a keyboard-wedge scanner (or any keyboard) typed on Track: a character is added
    /// as it is (the check reads scanned codes and tracking URLs), Backspace deletes; modifier,
    /// arrow and function keys (control or private-use characters) are not text. Enter is the
    /// caller's. What is typed is bounded like a scanned line.
    pub(crate) fn typed(&mut self, text: &str) {
        if text == "\u{8}" {
            let mut code = self.code.clone();
            code.pop();
            self.edited(&code);
            return;
        }
        let printable = |c: &char| !c.is_control() && !('\u{E000}'..='\u{F8FF}').contains(c);
        let mut code = self.code.clone();
        for c in text.chars().filter(printable) {
            if code.len() + c.len_utf8() <= MAX_LINE {
                code.push(c);
            }
        }
        if code != self.code {
            self.edited(&code);
        }
    }
}

/// Characters in a tracking code: 16 and the check character.
pub(crate) const CODE_CHARACTERS: usize = 17;

/// What may stand between the groups of a typed code (the token's parser skips them too).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '‐' | '–' | '—' | '－' | '_')
}

/// How a typed code checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Empty,
    Ok,
    /// Characters still to type (negative: that many too many).
    WrongLength(i32),
    /// A character that cannot be in a code.
    BadCharacter(char),
    Typo,
}

impl CodeCheck {
    fn of(text: &str) -> CodeCheck {
        match TrackingToken::from_scan(text) {
            Ok(_) => CodeCheck::Ok,
            Err(TokenError::Empty) => CodeCheck::Empty,
            Err(TokenError::WrongLength { found, expected }) => {
                CodeCheck::WrongLength(expected as i32 - found as i32)
            }
            Err(TokenError::InvalidCharacter { found, .. }) => CodeCheck::BadCharacter(found),
            Err(TokenError::CheckFailed) => CodeCheck::Typo,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TakeNumber {
    /// The service whose lane was chosen.
    pub(crate) lane: Option<String>,
}

/// What a keyboard-wedge scanner has typed so far where no text field has the focus.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wedge {
    typed: String,
    too_long: bool,
    last_key: Option<Instant>,
}

impl Wedge {
    /// A key; the line it ends, as a scan (none if nothing but spaces was typed).
    fn key(&mut self, text: &str, now: Instant) -> Option<Scan> {
        if self
            .last_key
            .is_some_and(|t| now.duration_since(t) > WEDGE_GAP)
        {
            self.clear();
        }
        self.last_key = Some(now);
        if text == "\n" || text == "\r" {
            return self.take();
        }
        // Modifier, arrow and function keys come as control or private-use characters.
        let typed = |c: &char| !c.is_control() && !('\u{E000}'..='\u{F8FF}').contains(c);
        for c in text.chars().filter(typed) {
            if self.typed.len() + c.len_utf8() > MAX_LINE {
                self.too_long = true;
                self.typed.clear();
            }
            if !self.too_long {
                self.typed.push(c);
            }
        }
        None
    }

    fn clear(&mut self) {
        self.typed.clear();
        self.too_long = false;
    }

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

impl State {
    /// Whether the keyboard composes pinyin now: a text field for the resident's words is
    /// showing (not the tracking code's).
    /// Seconds without a touch before "still there?", and how long the question waits: shorter
    /// on a finished screen (its code is on the slip; the next resident should not find it).
    pub(crate) fn idle_times(&self) -> (u32, u32) {
        let ui = &self.station.config.ui;
        if self.session.finished() {
            (ui.done_timeout_s - DONE_PROMPT_S, DONE_PROMPT_S)
        } else {
            (
                self.station.config.idle_timeout_s(self.session.elderly),
                ui.still_there_s,
            )
        }
    }

    pub(crate) fn composing(&self) -> bool {
        let words = self.session.intake().is_some_and(|intake| {
            intake.text_entry.is_some() || intake.wizard.step() == Step::Description
        });
        let composer = &self.session.composer;
        words && (composer.active(&self.station.pinyin) || composer.writing)
    }
}

// ---- the controller -------------------------------------------------------------------------

pub struct Controller {
    app: slint::Weak<AppWindow>,
    pub(super) state: RefCell<State>,
    ops: Box<dyn Operations>,
    idle: Timer,
    /// Ends the "still there?" prompt with a new session.
    give_up: Timer,
    /// Only counts the prompt's seconds down on screen.
    countdown: Timer,
    /// Hides the "finish this first" notice of a scan during an intake.
    notice: Timer,
    /// Asks again, every few seconds, what changes without a touch (see [`REFRESH`]).
    refresh: Timer,
    /// Bumped whenever a session starts, so that an answer for a resident who left is dropped.
    visit: Cell<u64>,
    /// Reads screens aloud ("读给我听", elderly mode, a long press); silent until `set_voice`.
    voice: RefCell<Voice>,
    /// The screen last drawn, so that elderly mode reads each new screen once.
    shown: Cell<Option<Screen>>,
    me: Weak<Controller>,
}

impl Controller {
    /// Wires a controller to `app`, with the backend's operations and its events (print jobs,
    /// the printer, the serial scanner).
    pub fn new(
        app: &AppWindow,
        config: Arc<KioskConfig>,
        backend: (Backend, mpsc::UnboundedReceiver<BackendEvent>),
    ) -> Rc<Controller> {
        let (backend, mut events) = backend;
        let controller = Controller::with_operations(app, config, Box::new(backend));
        let weak = Rc::downgrade(&controller);
        let listening = slint::spawn_local(async move {
            while let Some(event) = events.recv().await {
                let Some(c) = weak.upgrade() else {
                    break;
                };
                c.event(event);
            }
        });
        if let Err(e) = listening {
            tracing::error!(error = %e, "print state will not reach the screen");
        }
        controller
    }

    /// Wires a controller to `app` whose kiosk operations are `ops`'s.
    pub(crate) fn with_operations(
        app: &AppWindow,
        config: Arc<KioskConfig>,
        ops: Box<dyn Operations>,
    ) -> Rc<Controller> {
        let language = config.ui.default_language;
        let voice = RefCell::new(Voice::silent(&config));
        let controller = Rc::new_cyclic(|me| Controller {
            app: app.as_weak(),
            state: RefCell::new(State {
                station: Station::new(config),
                session: Session::new(language, false),
            }),
            ops,
            idle: Timer::default(),
            give_up: Timer::default(),
            countdown: Timer::default(),
            notice: Timer::default(),
            refresh: Timer::default(),
            visit: Cell::new(0),
            voice,
            shown: Cell::new(None),
            me: me.clone(),
        });
        controller.connect(app);
        let weak = Rc::downgrade(&controller);
        controller.ops.load_dictionary(Box::new(move |dict| {
            if let Some(c) = weak.upgrade() {
                c.update(|st| st.station.pinyin.loaded(dict));
            }
        }));
        apply_language(language);
        controller.update(|_| ());
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

    /// Changes the state and draws the screen from it, once. Every change goes through here:
    /// what the resident typed into the fields on screen is collected first, so `change` sees
    /// it, and the screen never shows anything the state does not hold.
    ///
    /// `change` must not call back into the controller (the state is borrowed meanwhile).
    pub(super) fn update<R>(&self, change: impl FnOnce(&mut State) -> R) -> R {
        let app = self.app.upgrade();
        let mut st = self.state.borrow_mut();
        if let Some(app) = &app {
            collect_typed(app, &mut st.session);
        }
        let result = change(&mut st);
        let screen = st.session.screen();
        // Home: the handwriting models (two zinnia models, tens of megabytes) go until someone
        // writes again.
        if screen == Screen::Home {
            st.station.pinyin.unload_handwriting();
        }
        if let Some(app) = &app {
            render(app, &st);
        }
        if self.shown.replace(Some(screen)) != Some(screen) {
            // A finished screen waits less than one being filled in.
            self.arm_idle(st.idle_times().0);
            // A new screen: what was being read belongs to the one before. Elderly mode reads
            // the new one by itself.
            let voice = self.voice.borrow();
            voice.cancel();
            if st.session.elderly {
                let words = read_aloud::screen_words(&st);
                voice.say(voice.language_for(st.session.language), &words);
            }
        }
        // Where residents write, the handwriting models are fetched (once, off the UI thread).
        let writing = screen == Screen::Description
            || st.session.intake().is_some_and(|i| i.text_entry.is_some());
        let load = writing && st.station.pinyin.ask_for_handwriting();
        drop(st);
        if load {
            self.load_handwriting();
        }
        result
    }

    /// Loads the handwriting models; the pad is offered once they are in.
    fn load_handwriting(&self) {
        let weak = self.me.clone();
        self.ops.load_handwriting(Box::new(move |model| {
            if let Some(c) = weak.upgrade() {
                c.update(|st| st.station.pinyin.handwriting_loaded(model));
            }
        }));
    }

    /// A read-only look at the state, for tests and the screenshot tour.
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.borrow())
    }

    /// Runs a kiosk operation (off the UI thread, with the backend) and hands its answer to
    /// `done` on the UI thread, unless the resident has left since (Home, idle reset).
    /// `changes`: the operation changes the queues, bookings or attendance.
    ///
    /// Never call it from inside [`Controller::update`]: the answer may come at once.
    pub(super) fn work<T: Send + 'static>(
        &self,
        changes: bool,
        job: impl FnOnce(&mut Kiosk) -> Result<T, KioskError> + Send + 'static,
        done: impl FnOnce(&Controller, Result<T, KioskError>) + 'static,
    ) {
        let (keep, mut kept) = oneshot::channel();
        let job: Job = Box::new(move |kiosk| {
            let result = job(kiosk);
            let succeeded = result.is_ok();
            let _ = keep.send(result);
            succeeded
        });
        let answered = self.for_this_visit(move |c, ()| {
            let result = kept
                .try_recv()
                .unwrap_or_else(|_| Err(KioskError::Workers("the kiosk's worker stopped".into())));
            done(c, result);
        });
        self.ops.run(changes, job, answered);
    }

    /// `then`, as a reply that is dropped if the resident has left by the time it comes.
    pub(super) fn for_this_visit<T: 'static>(
        &self,
        then: impl FnOnce(&Controller, T) + 'static,
    ) -> Reply<T> {
        let weak = self.me.clone();
        let visit = self.visit.get();
        Box::new(move |value| {
            if let Some(c) = weak.upgrade() {
                if c.visit.get() == visit {
                    then(&c, value);
                }
            }
        })
    }

    pub(super) fn ops(&self) -> &dyn Operations {
        self.ops.as_ref()
    }

    /// What the backend says as it happens.
    pub(crate) fn event(&self, event: BackendEvent) {
        match event {
            BackendEvent::Job(outcome) => self.print_changed(&outcome),
            BackendEvent::Printer(state) => self.printer_changed(state),
            BackendEvent::Scan(scan) => self.scanned(scan),
            BackendEvent::Scanner(open) => self.update(|st| st.station.scanner = Some(open)),
            // The backend is being dropped with the window: nothing to show.
            BackendEvent::Stopped(_) => {}
        }
    }

    /// What changes without a touch, asked again for the screen showing it.
    fn refresh_screen(&self) {
        let screen = self.state.borrow().session.screen();
        match screen {
            Screen::Home | Screen::TakeNumber => self.refresh_open_now(),
            Screen::Ticket => self.refresh_ticket(),
            Screen::Staff => self.staff_refresh(),
            _ => {}
        }
    }

    fn connect(&self, app: &AppWindow) {
        let api = app.global::<super::ui::Api>();
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
        on!(on_dismiss_alarm, |c| c.dismiss_alarm());
        on!(on_read_aloud, |c| c.read_aloud());
        on!(on_ime_write_toggle, |c| c.ime_write_toggle());
        on!(on_ime_clear_ink, |c| c.ime_clear_ink());
        on!(on_ime_pen, |c,
                         kind: i32,
                         x: f32,
                         y: f32,
                         width: f32,
                         height: f32| c
            .ime_pen(kind, x, y, width, height));
        on!(on_read_out, |c, text: SharedString| c.read_out(&text));
        on!(on_finish, |c| c.go_home());
        on!(on_set_language, |c, code: SharedString| {
            if let Some(language) = Language::parse(&code) {
                c.set_language(language);
            }
        });
        on!(on_set_elderly, |c, on: bool| c.set_elderly(on));
        on!(on_call_staff, |c| c.call_staff());
        on!(on_key, |c, text: SharedString| c.key(&text));
        on!(on_ime_pick, |c, index: i32| c
            .ime_pick(index.max(0) as usize));
        on!(on_ime_page, |c, next: bool| c.ime_page(next));
        on!(on_ime_toggle, |c| c.ime_toggle());
        // `activity` (called for every callback) dismisses the prompt.
        on!(on_still_here, |c| c.update(|_| ()));
        on!(on_open_track, |c| c.open_track());
        on!(on_track_edited, |c, text: SharedString| c
            .track_edited(&text));
        on!(on_track_submit, |c| c.track_submit());
        on!(on_track_key, |c, key: SharedString| c.track_key(&key));
        on!(on_track_clear, |c| c.track_clear());
        on!(on_track_typed, |c, text: SharedString| c.track_typed(&text));
        on!(on_track_rate, |c, rating: SharedString| c
            .track_rate(&rating));
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

    // ---- the intake -----------------------------------------------------------------------

    pub fn choose_service(&self, id: &str) {
        self.update(|st| {
            let Some(service) = st.station.config.catalogue.service(id) else {
                return;
            };
            let wizard = Wizard::start(service, st.session.language);
            st.session.enter(Flow::Intake(Intake {
                wizard,
                text_entry: None,
                scan_held: false,
            }));
        });
    }

    pub fn choose_subtype(&self, id: &str) {
        self.navigate(|wizard, service, _| wizard.choose_subtype(service, id));
    }

    pub fn choose_option(&self, question: &str, option: &str) {
        let alarm = self.update(|st| {
            let config = st.station.config.clone();
            let Flow::Intake(intake) = &mut st.session.flow else {
                return false;
            };
            intake.wizard.toggle_option(question, option);
            intake.wizard.judge(&config)
        });
        self.alarm_raised(alarm);
    }

    /// The intake just became high-risk and the emergency numbers came up: staff are called to
    /// the kiosk at once (the same notice as the call-staff button), before the case is filed.
    fn alarm_raised(&self, raised: bool) {
        if raised {
            self.call_staff();
        }
    }

    /// "Go on with my case" from the emergency numbers.
    pub fn dismiss_alarm(&self) {
        self.update(|st| {
            if let Flow::Intake(intake) = &mut st.session.flow {
                intake.wizard.dismiss_alarm();
            }
        });
    }

    pub fn open_text_entry(&self, question: &str) {
        self.update(|st| {
            st.session.composer.clear_typing();
            if let Flow::Intake(intake) = &mut st.session.flow {
                let value = intake.wizard.answer(question).unwrap_or("").to_owned();
                intake.text_entry = Some(TextEntry {
                    question: question.to_owned(),
                    value,
                });
            }
        });
    }

    pub fn close_text_entry(&self, keep: bool) {
        let alarm = self.update(|st| {
            st.session.composer.clear_typing();
            let config = st.station.config.clone();
            let Flow::Intake(intake) = &mut st.session.flow else {
                return false;
            };
            match intake.text_entry.take() {
                Some(entry) if keep => {
                    intake.wizard.set_text_answer(&entry.question, &entry.value);
                    intake.wizard.judge(&config)
                }
                _ => false,
            }
        });
        self.alarm_raised(alarm);
    }

    /// Next (and Submit, and "I agree": the wizard knows which step it is on).
    pub fn next(&self) {
        self.navigate(|wizard, service, config| wizard.next(service, config));
    }

    pub fn file_anonymously(&self) {
        self.navigate(|wizard, service, config| wizard.file_anonymously(service, config));
    }

    pub fn back(&self) {
        if self.state.borrow().session.intake().is_none() {
            self.flow_back();
            return;
        }
        self.navigate(|wizard, _, _| Ok(wizard.back()));
    }

    /// Runs a wizard move (on what the resident typed, collected by `update`), then goes where
    /// it leads: the next step, Home, the step's problem, or the filing.
    fn navigate(
        &self,
        step: impl FnOnce(&mut Wizard, &Service, &KioskConfig) -> Result<Move, CaseError>,
    ) {
        let moved = self.update(|st| {
            st.session.composer.clear_typing();
            if st.session.busy {
                return None;
            }
            let config = st.station.config.clone();
            let Flow::Intake(intake) = &mut st.session.flow else {
                return None;
            };
            let service = config.catalogue.service(&intake.wizard.draft.service)?;
            let moved = step(&mut intake.wizard, service, &config);
            match &moved {
                Ok(Move::Stay) => st.session.problem = Problem::None,
                Err(e) => st.session.problem = problem_of_case(e),
                Ok(_) => {}
            }
            // What the step let through (a description, a sub-type) may make the case
            // high-risk: the emergency numbers come before the step it led to.
            let alarm = matches!(moved, Ok(Move::Stay)) && intake.wizard.judge(&config);
            Some((moved.ok(), alarm))
        });
        let Some((moved, alarm)) = moved else {
            return;
        };
        self.alarm_raised(alarm);
        match moved {
            Some(Move::Home) => self.go_home(),
            Some(Move::Submit) => self.submit(),
            Some(Move::Stay) | None => {}
        }
    }

    /// Files the reviewed draft; the resident stays on the review until it is durable.
    fn submit(&self) {
        let draft = self.update(|st| {
            let draft = st.session.intake()?.wizard.draft.clone();
            st.session.busy = true;
            st.session.problem = Problem::None;
            Some(draft)
        });
        if let Some(draft) = draft {
            self.work(
                true,
                move |k| k.file_case(&draft),
                |c, result| c.show_filed(result),
            );
        }
    }

    /// Shows the outcome of filing: the code and QR (the emergency numbers first when the case
    /// is high-risk), or the problem with everything the resident entered kept.
    fn show_filed(&self, result: Result<Filed, KioskError>) {
        self.update(|st| {
            st.session.busy = false;
            match result {
                // The draft held personal data; the case is durable now, so it goes.
                Ok(filed) => {
                    let mut result = ResultView::of(&filed, &st.station, st.session.language);
                    // The resident saw the emergency numbers during the intake: the code now
                    // (its screen repeats the numbers).
                    result.code_asked = st
                        .session
                        .intake()
                        .is_some_and(|i| i.wizard.alarm() != Alarm::Quiet);
                    st.session.enter(Flow::Filed(result));
                }
                Err(e) => st.session.problem = problem_of(&e),
            }
        });
    }

    /// From the emergency numbers to the code.
    pub fn show_code(&self) {
        self.update(|st| {
            if let Flow::Filed(result) = &mut st.session.flow {
                result.code_asked = true;
            }
        });
    }

    /// A print job changed state; if it is the slip of the case, the ticket or the booking on
    /// screen, show it.
    fn print_changed(&self, outcome: &PrintOutcome) {
        self.update(|st| {
            let print = match outcome.state {
                PrintJobState::Pending if st.station.printer_down() => PrintState::Unavailable,
                PrintJobState::Pending => PrintState::Waiting,
                PrintJobState::Printing => PrintState::Printing,
                PrintJobState::Printed => PrintState::Printed,
                PrintJobState::Failed | PrintJobState::Suppressed => PrintState::Failed,
            };
            let token = outcome.token.as_str();
            match &mut st.session.flow {
                Flow::Filed(result) if result.token == token => result.print = print,
                // A ticket scanned later has no slip printing.
                Flow::Ticket(ticket)
                    if ticket.slip_token == token && ticket.print != PrintState::None =>
                {
                    ticket.print = print
                }
                Flow::Booked(booked) if booked.info.booking.token == token => booked.print = print,
                _ => {}
            }
        });
    }

    /// The printer's state changed: Home says so before anyone starts, and a slip waiting on
    /// screen says the printer cannot print it now.
    fn printer_changed(&self, state: PrinterState) {
        self.update(|st| {
            st.station.printer = Some(state);
            let down = st.station.printer_down();
            let print = match &mut st.session.flow {
                Flow::Filed(result) => &mut result.print,
                Flow::Ticket(ticket) => &mut ticket.print,
                Flow::Booked(booked) => &mut booked.print,
                _ => return,
            };
            *print = match *print {
                PrintState::Waiting if down => PrintState::Unavailable,
                PrintState::Unavailable if !down => PrintState::Waiting,
                other => other,
            };
        });
    }

    // ---- track my case ----------------------------------------------------------------------

    pub fn open_track(&self) {
        self.update(|st| st.session.enter(Flow::Track(Track::default())));
    }

    /// The code field changed.
    pub fn track_edited(&self, text: &str) {
        self.update(|st| {
            if let Flow::Track(track) = &mut st.session.flow {
                track.edited(text);
            }
        });
    }

    /// A key of the code keypad (a character, or `"\u{8}"` to delete). The key that completes
    /// the code with the right check character starts the search: no Search press is needed.
    /// Nothing is typed while a lookup is under way.
    pub fn track_key(&self, key: &str) {
        let complete = self.update(|st| {
            if st.session.busy {
                return None;
            }
            let Flow::Track(track) = &mut st.session.flow else {
                return None;
            };
            track
                .keyed(key)
                .then(|| TrackingToken::from_scan(&track.code).ok())
                .flatten()
        });
        if let Some(token) = complete {
            self.lookup(token.as_str().to_owned());
        }
    }

    /// The keypad's Clear: the code starts again.
    pub fn track_clear(&self) {
        self.update(|st| {
            if st.session.busy {
                return;
            }
            if let Flow::Track(track) = &mut st.session.flow {
                track.edited("");
            }
        });
    }

    /// A key typed on Track by a keyboard-wedge scanner: the scanned line builds up, and its
    /// Enter looks it up as Search does.
    pub fn track_typed(&self, text: &str) {
        if text == "\n" || text == "\r" {
            self.track_submit();
            return;
        }
        self.update(|st| {
            if st.session.busy {
                return;
            }
            if let Flow::Track(track) = &mut st.session.flow {
                track.typed(text);
            }
        });
    }

    /// Search (or a wedge scanner's Enter): looks the code up. While a lookup is under way
    /// (one the last key started by itself) it does nothing, so a Search pressed out of habit
    /// never starts a second one.
    pub fn track_submit(&self) {
        let token = self.update(|st| {
            if st.session.busy {
                return None;
            }
            let Flow::Track(track) = &mut st.session.flow else {
                return None;
            };
            let code = track.code.clone();
            track.edited(&code);
            if track.check != CodeCheck::Ok && looks_scanned(&code) {
                // A keyboard-wedge scanner typed something that is no code of ours (another QR
                // code, a web address): say so, and clear the field for the next try.
                track.edited("");
                track.scan = ScanProblem::NotOurs;
            }
            TrackingToken::from_scan(&code).ok()
        });
        if let Some(token) = token {
            self.lookup(token.as_str().to_owned());
        }
    }

    /// Looks a typed or scanned code up: first what it is at this station (a booking opens its
    /// screen, a ticket its place in the queue), then, for a case or a code this station does
    /// not know, its progress (`Kiosk::track`, as `case show` does).
    fn lookup(&self, code: String) {
        self.update(|st| st.session.busy = true);
        let asked = code.clone();
        self.work(
            false,
            move |k| look_up(k, &asked),
            move |c, looked| match looked {
                Ok(Looked::Booking(info)) => c.show_booking(info),
                Ok(Looked::Ticket(view)) => c.show_scanned_ticket(view),
                // A case, a code of another station, or the database could not say: upstream
                // knows (or says it knows no such case).
                Ok(Looked::Case) | Ok(Looked::Unknown) | Err(_) => {
                    let reply = c.for_this_visit(|c, result| c.show_tracked(result));
                    c.ops.track(code, reply);
                }
            },
        );
    }

    /// The citizen rates the case shown (`Kiosk::rate_case`, as `case rate` does): the buttons
    /// wait while it is sent; the answer says what was recorded.
    pub fn track_rate(&self, rating: &str) {
        self.activity();
        let code = self.update(|st| {
            let Flow::Track(track) = &mut st.session.flow else {
                return None;
            };
            let code = track.tracked.as_ref()?.token.as_str().to_owned();
            if track.rating_busy {
                return None;
            }
            track.rating_busy = true;
            track.rating_failed = false;
            Some(code)
        });
        let Some(code) = code else {
            return;
        };
        let reply = self.for_this_visit(|c, result: Result<protocol::RatingOffer, KioskError>| {
            c.update(|st| {
                let Flow::Track(track) = &mut st.session.flow else {
                    return;
                };
                track.rating_busy = false;
                match (result, &mut track.tracked) {
                    (Ok(offer), Some(tracked)) => tracked.rating = Some(offer),
                    (Ok(_), None) => {}
                    (Err(_), _) => track.rating_failed = true,
                }
            })
        });
        self.ops.rate(code, rating.to_owned(), reply);
    }

    /// Shows a case looked up by its code, or says no case has it.
    fn show_tracked(&self, result: Result<Tracked, KioskError>) {
        self.update(|st| {
            st.session.busy = false;
            let Flow::Track(track) = &mut st.session.flow else {
                return;
            };
            match result {
                Ok(tracked) => track.tracked = Some(tracked),
                Err(KioskError::NotFound(_)) | Err(KioskError::Token(_)) => track.not_found = true,
                Err(e) => {
                    track.not_found = false;
                    st.session.problem = problem_of(&e);
                }
            }
        });
    }

    // ---- scans ------------------------------------------------------------------------------

    /// A scan: from the serial scanner, or a line a keyboard-wedge scanner typed where no text
    /// field has the focus. A tracking code (or a slip's tracking URL) opens Track and is looked
    /// up exactly as if typed; anything else opens Track saying it is not a tracking code. In
    /// the middle of an intake (the wizard, or its case being saved) the scan is set aside with
    /// a notice instead: the resident's answers are never thrown away by a scan, and they can
    /// submit or go Home and scan again. While a lookup is under way a further scan (a scanner
    /// reading the slip twice) is ignored.
    fn scanned(&self, scan: Scan) {
        self.activity();
        let (in_intake, looking_up, staff) = {
            let st = self.state.borrow();
            let flow = &st.session.flow;
            (
                matches!(flow, Flow::Intake(_)),
                st.session.busy,
                matches!(flow, Flow::Staff(_)),
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
                self.update(|st| {
                    let mut track = Track::default();
                    track.edited(&token.grouped());
                    st.session.enter(Flow::Track(track));
                });
                self.lookup(token.as_str().to_owned());
            }
            Err(problem) => self.update(|st| {
                // On Track already, what the resident typed stays.
                if st.session.screen() != Screen::Track {
                    st.session.enter(Flow::Track(Track::default()));
                }
                if let Flow::Track(track) = &mut st.session.flow {
                    track.scan = problem;
                }
            }),
        }
    }

    /// A key typed where no text field has the focus (Home, a case's progress, the result):
    /// a keyboard-wedge scanner typing a code. The keys gather into a line, Enter ends it, and
    /// the line is a scan.
    pub fn scanner_key(&self, text: &str) {
        let now = Instant::now();
        if let Some(scan) = self.update(|st| st.session.wedge.key(text, now)) {
            self.scanned(scan);
        }
    }

    /// A scan during an intake: the notice says why nothing happened, and goes by itself.
    fn hold_scan(&self) {
        self.update(|st| {
            if let Flow::Intake(intake) = &mut st.session.flow {
                intake.scan_held = true;
            }
        });
        let weak = self.me.clone();
        self.notice
            .start(TimerMode::SingleShot, SCAN_HELD_FOR, move || {
                if let Some(c) = weak.upgrade() {
                    c.dismiss_scan_held();
                }
            });
    }

    fn dismiss_scan_held(&self) {
        self.notice.stop();
        self.update(|st| {
            if let Flow::Intake(intake) = &mut st.session.flow {
                intake.scan_held = false;
            }
        });
    }

    // ---- sessions ---------------------------------------------------------------------------

    /// Back to Home: a new session, in the language and text size the resident chose.
    pub fn go_home(&self) {
        let (language, elderly) = {
            let st = self.state.borrow();
            (st.session.language, st.session.elderly)
        };
        self.start_session(Session::new(language, elderly));
    }

    /// The idle reset: a new session in the default language and text size.
    fn idle_reset(&self) {
        let language = self.state.borrow().station.config.ui.default_language;
        self.start_session(Session::new(language, false));
    }

    /// Puts `session` in the place of the one before, whose answers still on the way are
    /// dropped; leaving the staff console is audited.
    fn start_session(&self, session: Session) {
        self.visit.set(self.visit.get() + 1);
        let staff_leaves = matches!(
            self.state.borrow().session.flow,
            Flow::Staff(Staff::Console(_))
        );
        if staff_leaves {
            self.staff_signed_out();
        }
        self.give_up.stop();
        self.countdown.stop();
        self.notice.stop();
        if session.language != self.state.borrow().session.language {
            apply_language(session.language);
        }
        self.update(|st| st.session = session);
        self.refresh_open_now();
    }

    // ---- typing -----------------------------------------------------------------------------

    /// A key of the on-screen keyboard or keypad: into the pinyin being composed, or to the
    /// focused field as a key event.
    pub fn key(&self, text: &str) {
        let typed = self.update(|st| {
            if st.composing() {
                st.session.composer.key(&st.station.pinyin, text)
            } else {
                vec![text.to_owned()]
            }
        });
        self.type_texts(&typed);
    }

    /// Sends each of `texts` to the focused field as a key event (outside `update`: the field
    /// may answer with a callback, such as Track's `edited`).
    fn type_texts(&self, texts: &[String]) {
        let Some(app) = self.app.upgrade() else {
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
        let word = self.update(|st| st.session.composer.pick(&st.station.pinyin, index));
        if let Some(word) = word {
            self.type_texts(&[word]);
        }
    }

    /// The candidates' next page (or the one before).
    pub fn ime_page(&self, next: bool) {
        self.update(|st| {
            let elderly = st.session.elderly;
            st.session.composer.turn_page(next, elderly);
        });
    }

    /// Pinyin ⇄ ABC.
    pub fn ime_toggle(&self) {
        if let Some(raw) = self.update(|st| st.session.composer.toggle()) {
            self.type_texts(&[raw]);
        }
    }

    /// The handwriting pad ⇄ the keys.
    pub fn ime_write_toggle(&self) {
        if let Some(raw) = self.update(|st| st.session.composer.toggle_writing()) {
            self.type_texts(&[raw]);
        }
    }

    /// A finger on the handwriting pad (`kind` 0 down, 1 moving, 2 up; the pad's size comes
    /// with the first point of a stroke).
    pub fn ime_pen(&self, kind: i32, x: f32, y: f32, width: f32, height: f32) {
        let pen = match kind {
            0 => Pen::Down {
                x,
                y,
                width,
                height,
            },
            1 => Pen::Move { x, y },
            _ => Pen::Up,
        };
        self.update(|st| st.session.composer.pen(&st.station.pinyin, pen));
    }

    /// "重写": the pad wiped.
    pub fn ime_clear_ink(&self) {
        self.update(|st| st.session.composer.clear_ink());
    }

    // ---- settings ---------------------------------------------------------------------------

    pub fn set_language(&self, language: Language) {
        apply_language(language);
        self.update(|st| {
            let session = &mut st.session;
            session.language = language;
            session.composer.clear_typing();
            session.composer.pinyin_mode = language.is_chinese();
            if let Flow::Intake(intake) = &mut session.flow {
                intake.wizard.draft.language = language;
            }
        });
    }

    /// The voice the screens are read with (the station's, from `[voice]`).
    pub fn set_voice(&self, voice: Voice) {
        self.update(|st| st.station.voice_on = voice.is_on());
        *self.voice.borrow_mut() = voice;
    }

    /// Offers "读给我听" whatever the voice (screenshots show the screens of a station that
    /// speaks, without a sound).
    pub(crate) fn show_read_aloud(&self, shown: bool) {
        self.update(|st| st.station.voice_on = shown);
    }

    /// "读给我听": the screen's title and choices, from the start.
    pub fn read_aloud(&self) {
        let st = self.state.borrow();
        let voice = self.voice.borrow();
        voice.cancel();
        voice.say(
            voice.language_for(st.session.language),
            &read_aloud::screen_words(&st),
        );
    }

    /// A long press on a button: its words, instead of whatever was being read.
    pub fn read_out(&self, text: &str) {
        let language = self.state.borrow().session.language;
        let voice = self.voice.borrow();
        voice.cancel();
        voice.say(voice.language_for(language), text);
    }

    /// The elderly mode's "call staff" button: the same `Kiosk::call_staff` as `staff call`;
    /// the button then says staff are on their way, for the rest of the session.
    pub fn call_staff(&self) {
        if self.state.borrow().session.staff_called {
            return;
        }
        self.work(
            true,
            |k| k.call_staff(k.now()),
            |c, result| {
                c.update(|st| match result {
                    Ok(_) => st.session.staff_called = true,
                    Err(e) => st.session.problem = problem_of(&e),
                })
            },
        );
    }

    pub fn set_elderly(&self, on: bool) {
        self.update(|st| st.session.elderly = on);
    }

    // ---- idle reset -------------------------------------------------------------------------

    /// Any touch: the idle clock starts again and a "still there?" prompt goes away.
    pub fn activity(&self) {
        let (timeout, prompting) = {
            let st = self.state.borrow();
            (st.idle_times().0, st.session.still_there.is_some())
        };
        if prompting {
            self.give_up.stop();
            self.countdown.stop();
            self.update(|st| st.session.still_there = None);
        }
        self.arm_idle(timeout);
    }

    /// Starts the idle clock again: `timeout` seconds from now the kiosk asks "still there?".
    fn arm_idle(&self, timeout: u32) {
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

    /// Nobody touched the screen for the idle timeout.
    pub(crate) fn idle_timeout(&self) {
        let (at_home, fresh, seconds) = {
            let st = self.state.borrow();
            let config = &st.station.config;
            (
                st.session.screen() == Screen::Home,
                st.session == Session::new(config.ui.default_language, false),
                st.idle_times().1,
            )
        };
        if at_home {
            // Nothing on screen to lose, so no question; but the next resident gets a session
            // of their own (the default language and text size, no taps on the station's name).
            if !fresh {
                self.idle_reset();
            }
            return;
        }
        self.update(|st| st.session.still_there = Some(seconds));
        let weak = self.me.clone();
        self.give_up.start(
            TimerMode::SingleShot,
            Duration::from_secs(u64::from(seconds)),
            move || {
                if let Some(c) = weak.upgrade() {
                    c.idle_reset();
                }
            },
        );
        let weak = self.me.clone();
        self.countdown
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(c) = weak.upgrade() {
                    c.update(|st| {
                        if let Some(left) = st.session.still_there.as_mut() {
                            *left = left.saturating_sub(1).max(1);
                        }
                    });
                }
            });
    }
}

/// Switches the screen's words: the UI's source language is Simplified Chinese (no translation);
/// every other language is the bundled catalogue of its code (`lang/<code>/`).
fn apply_language(language: Language) {
    let tag = match language {
        Language::Zh => "",
        other => other.code(),
    };
    if let Err(e) = slint::select_bundled_translation(tag) {
        tracing::warn!(error = %e, "cannot switch the screen's language");
    }
}

/// Whether text that is no tracking code came from a scanner rather than a typo: a web address,
/// or far longer than any way of typing a code (17 characters, with dashes or spaces between
/// groups).
fn looks_scanned(text: &str) -> bool {
    text.contains("://") || text.chars().filter(|c| !c.is_whitespace()).count() > 30
}
