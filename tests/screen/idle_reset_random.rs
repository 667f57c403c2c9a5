//! The idle reset as a property, checked over seeded random visits: whatever a resident did, in
//! whichever flow (an intake with its text answers and the keyboard, pinyin included; Track;
//! Take a number; a booking; the staff PIN pad and console), and wherever the reset finds them
//! (mid-step, or waiting for the kiosk's answer), it leaves a session equal to a new one, every
//! property of `Api` as the kiosk showed it at start, and nothing the resident typed anywhere in
//! `Api` or on screen.
//!
//! Each round enters one flow from Home (every flow in turn), then acts at random: a tap on one
//! of the screen's buttons (a step forward more often than not), or something typed into the
//! field on screen (a word on the keyboard, pinyin and a candidate, a phone number, a code, a
//! PIN), or a keyboard-wedge scan; sometimes it waits for the kiosk's answer, sometimes not. Then
//! nobody touches the screen until the idle reset. The seed is fixed, so a failure replays;
//! `UI_RANDOM_SEED` picks another.

use crate::common;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use grievance_kiosk::app::controller::{Controller, Session};
use grievance_kiosk::app::ui::{Api, AppWindow, Screen};
use i_slint_backend_testing::{mock_elapsed_time, AccessibleRole, ElementHandle, ElementQuery};
use slint::platform::{Key, PointerEventButton, WindowEvent};
use slint::{ComponentHandle, Image, Model, ModelRc, SharedString};
use station::kiosk::Kiosk;

/// Rounds at least, and at most while some part of a flow was not reached yet.
const ROUNDS: usize = 40;
const MAX_ROUNDS: usize = 200;
const MAX_STEPS: usize = 24;
const PIN: &str = "240517";
const DEFAULT_SEED: u64 = 0x5EED_2026_1DCE;

/// xorshift64*: seeded randomness in a few lines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A word no screen says by itself: `zq` and five consonants.
    fn word(&mut self) -> String {
        const LETTERS: &[u8] = b"bcdfghjklmnprstvwxz";
        let mut word = String::from("zq");
        for _ in 0..5 {
            word.push(*self.pick(LETTERS) as char);
        }
        word
    }

    fn phone(&mut self) -> String {
        format!("139{:08}", self.next() % 100_000_000)
    }
}

/// The ways in from Home, one per flow.
#[derive(Debug, Clone, Copy)]
enum Way {
    Intake,
    Track,
    TakeNumber,
    Book,
    Staff,
}

const WAYS: [Way; 5] = [
    Way::Intake,
    Way::Track,
    Way::TakeNumber,
    Way::Book,
    Way::Staff,
];

/// Buttons that end the visit (then the walk would only start again at Home).
const LEAVE: &[&str] = &[
    "首页",
    "Start",
    "完成，回到首页",
    "Done, back to start",
    "退出工作人员模式",
    "Leave staff mode",
];

/// Buttons that move a flow on.
const FORWARD: &[&str] = &[
    "下一步",
    "Next",
    "不写了，下一步",
    "Skip, next",
    "不留电话，匿名反映",
    "Stay anonymous, no phone",
    "我已了解，同意",
    "I understand and agree",
    "提交",
    "Submit",
    "查询",
    "Search",
    "是，优先叫号",
    "Yes, call me first",
    "不是，正常排队",
    "No, queue as usual",
    "确认预约",
    "Book it",
    "签到",
    "Check in",
];

/// Pinyin that the built-in dictionary turns into words.
const PINYIN: &[&str] = &["gongzi", "tuoqian", "zhuangxiu", "louxia", "zaoyin"];

/// A control's label in the language on screen: the English given, or the Chinese, in
/// Traditional characters from its catalogue when the resident chose 繁體.
fn words(app: &AppWindow, zh: &'static str, en: &'static str) -> &'static str {
    match app.global::<Api>().get_language().as_str() {
        "en" => en,
        "zh-Hant" => domain::words::translation(domain::Language::ZhHant, zh).unwrap_or(zh),
        _ => zh,
    }
}

/// The buttons on screen that are not keys of the keyboard, keypad or PIN pad.
fn controls(app: &AppWindow) -> Vec<ElementHandle> {
    ElementQuery::from_root(app)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
        .into_iter()
        .filter(|e| {
            e.is_valid()
                && e.accessible_enabled() != Some(false)
                && !matches!(e.type_name().as_deref(), Some("Key" | "Candidate"))
                && e.accessible_label().is_some_and(|l| !l.is_empty())
        })
        .collect()
}

fn label(e: &ElementHandle) -> String {
    e.accessible_label().unwrap_or_default().to_string()
}

/// Taps the button labelled `label` if there is one.
fn tap_if_there(app: &AppWindow, label: &str) -> bool {
    let found = ElementHandle::find_by_accessible_label(app, label)
        .find(|e| e.is_valid() && e.accessible_role() == Some(AccessibleRole::Button));
    if let Some(e) = &found {
        e.mock_single_click(PointerEventButton::Left);
    }
    found.is_some()
}

/// What a random walk did, for the checks after each reset.
#[derive(Default)]
struct Walk {
    /// Everything the resident typed or scanned (long enough to be told apart).
    typed: BTreeSet<String>,
    /// Codes seen on slips' screens, to be typed on Track.
    codes: Vec<String>,
    /// Where the walks went.
    seen: BTreeSet<String>,
}

impl Walk {
    /// Keeps `text` to be searched for after the reset, if no screen could say it by itself:
    /// four characters or more, letters or digits among them (a Chinese word picked on the
    /// pinyin keyboard may well be a word of the screens).
    fn typed(&mut self, text: &str) {
        if text.chars().count() >= 4 && text.chars().any(|c| c.is_ascii_alphanumeric()) {
            self.typed.insert(text.to_owned());
        }
    }
}

/// A keyboard-wedge scanner typing `text` and Enter where no field has the focus.
fn wedge_types(app: &AppWindow, text: &str) {
    let key = |text: SharedString| {
        app.window()
            .dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
        app.window()
            .dispatch_event(WindowEvent::KeyReleased { text });
    };
    for c in text.chars() {
        key(c.to_string().into());
    }
    key(Key::Return.into());
}

/// Goes in from Home by `way`.
fn enter(app: &AppWindow, rng: &mut Rng, way: Way) {
    match way {
        Way::Intake => {
            let services: Vec<String> = app
                .global::<Api>()
                .get_services()
                .iter()
                .map(|s| s.name.to_string())
                .collect();
            // Complaints, more often: only its wages sub-type asks a question typed as text.
            let service = if rng.chance(40) {
                &services[0]
            } else {
                rng.pick(&services)
            };
            tap(app, service);
        }
        Way::Track => tap(app, words(app, "查询办理进度", "Track my case")),
        Way::TakeNumber => tap(app, words(app, "取号排队", "Take a number")),
        Way::Book => tap(app, words(app, "预约律师/咨询", "Book an appointment")),
        Way::Staff => {
            for _ in 0..5 {
                tap(app, words(app, "工作人员入口", "Staff entrance"));
            }
        }
    }
}

/// One random act on whatever screen is showing.
async fn act(app: &AppWindow, rng: &mut Rng, walk: &mut Walk) {
    let api = app.global::<Api>();
    let screen = screen(app);
    match screen {
        Screen::Result => walk.codes.push(api.get_code().to_string()),
        Screen::Ticket => walk.codes.push(api.get_ticket_code().to_string()),
        Screen::BookDone => walk.codes.push(api.get_booking_code().to_string()),
        _ => {}
    }
    if api.get_text_entry_open() {
        let word = rng.word();
        type_on_keyboard(app, &word);
        walk.typed(&api.get_text_entry_value());
        if rng.chance(70) {
            tap(app, words(app, "完成", "Done"));
        } else if rng.chance(50) {
            tap(app, words(app, "取消", "Cancel"));
        }
        return;
    }
    let typing = rng.chance(50);
    match screen {
        Screen::Description if typing => {
            if api.get_ime_pinyin() && rng.chance(50) {
                // The dictionary loads off the UI thread; until it has, the keys type letters.
                until(|| api.get_ime_ready(), "the pinyin dictionary").await;
                let pinyin = *rng.pick(PINYIN);
                tap_keys(app, pinyin);
                let candidates: Vec<String> = api
                    .get_ime_candidates()
                    .iter()
                    .map(|c| c.to_string())
                    .collect();
                if !candidates.is_empty() && rng.chance(80) {
                    tap(app, rng.pick(&candidates).as_str());
                    walk.seen.insert("pinyin picked".into());
                }
            } else {
                let word = rng.word();
                type_on_keyboard(app, &word);
                walk.seen.insert("keyboard typed".into());
            }
            walk.typed(&api.get_description());
        }
        Screen::Contact | Screen::BookPhone if typing => {
            for _ in 0..api.get_phone().chars().count() {
                tap(app, words(app, "删除", "Delete"));
            }
            let phone = if rng.chance(75) {
                rng.phone()
            } else {
                rng.phone()[..6].to_owned()
            };
            type_on_keyboard(app, &phone);
            walk.typed(&phone);
        }
        Screen::Track if typing => {
            // On the code keypad: a code seen on a slip, the same with one character
            // changed (a typo its check character catches), or some of the keypad's letters.
            let code = match walk.codes.len() {
                n if n > 0 && rng.chance(60) => {
                    let mut code: Vec<char> =
                        walk.codes[rng.below(n)].replace('-', "").chars().collect();
                    if rng.chance(40) {
                        let i = rng.below(code.len());
                        code[i] = if code[i] == '7' { '8' } else { '7' };
                    }
                    code.into_iter().collect()
                }
                _ => rng.word().to_uppercase().replace('L', "1"),
            };
            tap_keys(app, &code);
            walk.typed(&api.get_track_code());
            // (While a lookup is under way the button says so, and waits.)
            if rng.chance(60) {
                tap_if_there(app, words(app, "查询", "Search"));
            }
        }
        Screen::StaffPin if typing => {
            let pin = if rng.chance(70) {
                PIN.to_owned()
            } else {
                format!("{}", 100_000 + rng.next() % 900_000)
            };
            type_on_keyboard(app, &pin);
            tap_if_there(app, words(app, "确定", "OK"));
        }
        Screen::Subtype if typing => {
            // Wages owed, more often: its questions include the one answered by typing.
            if !tap_if_there(app, words(app, "拖欠工资", "Wages owed")) {
                tap_random(app, rng);
            }
        }
        Screen::Questions if typing => {
            // The one question answered by typing, when the sub-type asks it.
            if !tap_if_there(app, words(app, "点这里填写", "Tap here to write")) {
                tap_random(app, rng);
            }
        }
        Screen::BookSlots if typing => {
            until(|| api.get_book_loaded(), "the slots").await;
            let free: Vec<String> = api
                .get_book_slots()
                .iter()
                .filter(|s| s.free > 0)
                .map(|s| match s.who.as_str() {
                    "" => s.time.to_string(),
                    who => format!("{} {who}", s.time),
                })
                .collect();
            if free.is_empty() {
                tap_random(app, rng);
            } else {
                tap(app, rng.pick(&free).as_str());
            }
        }
        Screen::Home | Screen::TrackResult | Screen::Result if rng.chance(10) => {
            let scanned = rng.word();
            wedge_types(app, &scanned);
            walk.typed(&scanned);
        }
        _ => tap_random(app, rng),
    }
}

/// Notes where the walk is.
fn note(app: &AppWindow, walk: &mut Walk) {
    walk.seen.insert(format!("{:?}", screen(app)));
    if app.global::<Api>().get_text_entry_open() {
        walk.seen.insert("text entry".into());
    }
}

/// Taps one of the screen's buttons (not a key): a step forward more often than not, and
/// seldom one that leaves.
fn tap_random(app: &AppWindow, rng: &mut Rng) {
    let controls = controls(app);
    let forward: Vec<&ElementHandle> = controls
        .iter()
        .filter(|e| FORWARD.contains(&label(e).as_str()))
        .collect();
    let others: Vec<&ElementHandle> = controls
        .iter()
        .filter(|e| !LEAVE.contains(&label(e).as_str()) || rng.chance(3))
        .collect();
    let chosen = if !forward.is_empty() && rng.chance(45) {
        Some(*rng.pick(&forward))
    } else if !others.is_empty() {
        Some(*rng.pick(&others))
    } else {
        None
    };
    if let Some(e) = chosen {
        e.mock_single_click(PointerEventButton::Left);
    }
}

/// A value of `Api` as text, for comparing and searching.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for SharedString {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for Image {
    fn shown(&self) -> String {
        format!("image {:?}", self.size())
    }
}

macro_rules! shown_as_debug {
    ($($t:ty),*) => {$(
        impl Shown for $t {
            fn shown(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}

shown_as_debug!(
    bool,
    i32,
    Screen,
    grievance_kiosk::app::ui::Problem,
    grievance_kiosk::app::ui::PrintState,
    grievance_kiosk::app::ui::TrackCheck,
    grievance_kiosk::app::ui::ScanProblem,
    grievance_kiosk::app::ui::CaseStage,
    grievance_kiosk::app::ui::Freshness,
    grievance_kiosk::app::ui::TicketState,
    grievance_kiosk::app::ui::BookingState,
    grievance_kiosk::app::ui::BookingNote,
    grievance_kiosk::app::ui::PinNote,
    grievance_kiosk::app::ui::StaffTab,
    grievance_kiosk::app::ui::StaffNote,
    grievance_kiosk::app::ui::PrinterShown
);

fn rows<T: Debug + Clone + 'static>(model: ModelRc<T>) -> String {
    format!("{:?}", model.iter().collect::<Vec<_>>())
}

/// The questions with their chips (a nested model shows no rows of its own).
fn questions(model: ModelRc<grievance_kiosk::app::ui::QuestionView>) -> String {
    model
        .iter()
        .map(|q| {
            format!(
                "{} {} {} {} {}",
                q.id,
                q.label,
                q.is_text,
                q.text,
                rows(q.chips)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every property of `Api` that belongs to the resident's session, by name: after the reset
/// each must be as at start.
fn session_properties(api: &Api<'_>) -> Vec<(&'static str, String)> {
    macro_rules! props {
        ($($get:ident),* $(,)?) => { vec![$((stringify!($get), api.$get().shown())),*] };
    }
    let mut all = props!(
        get_language,
        get_elderly,
        get_staff_called,
        get_screen,
        get_step,
        get_problem,
        get_busy,
        get_network_name,
        get_station_name,
        get_service_name,
        get_description,
        get_description_max,
        get_phone,
        get_anonymous_allowed,
        get_consent_text,
        get_text_entry_open,
        get_text_entry_label,
        get_text_entry_value,
        get_text_entry_max,
        get_ime_pinyin,
        get_ime_typed,
        get_ime_has_prev,
        get_ime_has_next,
        get_code,
        get_qr,
        get_print_state,
        get_next_steps,
        get_track_code,
        get_track_check,
        get_track_missing,
        get_track_bad_char,
        get_track_not_found,
        get_track_scan_problem,
        get_track_result_code,
        get_track_stage,
        get_track_service,
        get_track_filed,
        get_track_department,
        get_track_expected,
        get_track_freshness,
        get_track_as_of,
        get_problem_detail,
        get_result_has_lane,
        get_queue_service_name,
        get_ticket_label,
        get_ticket_service,
        get_ticket_state,
        get_ticket_ahead,
        get_ticket_has_wait,
        get_ticket_wait_min,
        get_ticket_wait_max,
        get_ticket_counter,
        get_ticket_code,
        get_ticket_qr,
        get_ticket_print,
        get_ticket_appointment,
        get_ticket_with_case,
        get_book_service_name,
        get_book_loaded,
        get_book_when,
        get_book_who,
        get_book_phone,
        get_booking_code,
        get_booking_qr,
        get_booking_when,
        get_booking_who,
        get_booking_service,
        get_booking_state,
        get_booking_print,
        get_booking_note,
        get_booking_note_time,
        get_booking_asking_cancel,
        get_arrival_window,
        get_staff_pin_length,
        get_pin_note,
        get_pin_left,
        get_pin_locked_until,
        get_staff_tab,
        get_staff_note,
        get_staff_note_a,
        get_staff_note_b,
        get_staff_counter,
        get_staff_counters,
        get_staff_current,
        get_staff_current_service,
        get_staff_current_calls,
        get_staff_paper_left,
        get_staff_paper_low,
        get_staff_refilled_at,
        get_staff_print_waiting,
        get_staff_outbox_pending,
        get_staff_outbox_failed,
        get_staff_outbox_delivered,
        get_staff_outbox_oldest,
        get_staff_outbox_error,
        get_scan_held,
        get_still_there,
        get_still_there_seconds,
    );
    all.extend([
        ("get_steps", rows(api.get_steps())),
        ("get_services", rows(api.get_services())),
        ("get_subtypes", rows(api.get_subtypes())),
        ("get_questions", questions(api.get_questions())),
        ("get_review", rows(api.get_review())),
        ("get_ime_candidates", rows(api.get_ime_candidates())),
        ("get_emergency", rows(api.get_emergency())),
        ("get_track_timeline", rows(api.get_track_timeline())),
        ("get_bookable", rows(api.get_bookable())),
        ("get_book_days", rows(api.get_book_days())),
        ("get_book_slots", rows(api.get_book_slots())),
        ("get_staff_lanes", rows(api.get_staff_lanes())),
        ("get_staff_bookings", rows(api.get_staff_bookings())),
        ("get_staff_providers", rows(api.get_staff_providers())),
        ("get_staff_notices", rows(api.get_staff_notices())),
    ]);
    all
}

/// The station's properties (what is open, the printer, the dictionary): they change without
/// any resident, so they are only searched for the resident's words.
fn station_properties(api: &Api<'_>) -> Vec<(&'static str, String)> {
    vec![
        ("get_open_now", api.get_open_now().shown()),
        ("get_lanes", rows(api.get_lanes())),
        ("get_printer_ready", api.get_printer_ready().shown()),
        ("get_staff_printer", api.get_staff_printer().shown()),
        ("get_staff_ime_problem", api.get_staff_ime_problem().shown()),
        ("get_ime_ready", api.get_ime_ready().shown()),
    ]
}

/// What every element on screen says (its accessible label and value).
fn on_screen(app: &AppWindow) -> Vec<String> {
    ElementQuery::from_root(app)
        .match_descendants()
        .find_all()
        .into_iter()
        .filter(|e| e.is_valid())
        .flat_map(|e| [e.accessible_label(), e.accessible_value()])
        .flatten()
        .map(|t| t.to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `text` with spaces and dashes gone, lower case: a code or a phone however it is grouped.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The checks after a reset.
fn assert_fresh(
    app: &AppWindow,
    controller: &Controller,
    fresh: &Session,
    at_start: &[(&'static str, String)],
    walk: &Walk,
    context: &str,
) {
    let api = app.global::<Api>();
    assert_eq!(screen(app), Screen::Home, "{context}: back at Home");
    controller.with_state(|s| {
        assert!(
            s.session == *fresh,
            "{context}: the session is not a new one:\n{:#?}",
            s.session
        )
    });
    let now = session_properties(&api);
    let changed: Vec<String> = now
        .iter()
        .zip(at_start)
        .filter(|(a, b)| a != b)
        .map(|((name, now), (_, then))| format!("{name}: {then:?} at start, {now:?} now"))
        .collect();
    assert!(
        changed.is_empty(),
        "{context}: Api is not as at start:\n{}",
        changed.join("\n")
    );
    let everywhere: Vec<(String, String)> = now
        .into_iter()
        .chain(station_properties(&api))
        .map(|(name, value)| (name.to_owned(), plain(&value)))
        .chain(
            on_screen(app)
                .into_iter()
                .map(|t| ("on screen".into(), plain(&t))),
        )
        .collect();
    for typed in &walk.typed {
        let typed = plain(typed);
        if let Some((name, value)) = everywhere.iter().find(|(_, v)| v.contains(&typed)) {
            panic!("{context}: {typed:?}, which the resident typed, is still in {name}: {value:?}");
        }
    }
}

pub fn random_taps_in_every_flow_then_the_idle_reset_leave_a_new_session_and_nothing_shown() {
    let seed = std::env::var("UI_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*config_at_morning(dir.path())).clone();
    // Wrong PINs are part of the walk; they must not lock the rounds after.
    config.staff.lockout_after = 1_000_000;
    let config = Arc::new(config);
    Kiosk::open(config.clone())
        .unwrap()
        .set_pin(PIN, config.clock.now())
        .unwrap();
    let idle = u64::from(
        config
            .ui
            .idle_timeout_s
            .max(config.ui.elderly_idle_timeout_s),
    );
    let prompt = u64::from(config.ui.still_there_s);
    let fresh = Session::new(config.ui.default_language, false);
    let (app, controller) = kiosk_window(config);

    run_scenario(async move {
        let api = app.global::<Api>();
        let at_start = session_properties(&api);
        let mut rng = Rng(seed.max(1));
        let mut walk = Walk::default();
        // Every flow is walked, with the keyboard, the text answers and pinyin.
        let every = [
            "Subtype",
            "Questions",
            "text entry",
            "Description",
            "keyboard typed",
            "pinyin picked",
            "Contact",
            "Track",
            "TakeNumber",
            "Priority",
            "Ticket",
            "BookService",
            "BookSlots",
            "BookPhone",
            "BookConfirm",
            "StaffPin",
            "Staff",
        ];
        let missed = |walk: &Walk| -> Vec<&str> {
            every
                .iter()
                .copied()
                .filter(|s| !walk.seen.contains(*s))
                .collect()
        };
        for round in 0..MAX_ROUNDS {
            if round >= ROUNDS && missed(&walk).is_empty() {
                break;
            }
            let way = WAYS[round % WAYS.len()];
            let context = format!("seed {seed}, round {round} ({way:?})");
            // Some residents first switch the language or the text size.
            if rng.chance(20) {
                tap(&app, "English");
            } else if rng.chance(20) {
                tap(&app, "繁體");
            }
            if rng.chance(20) {
                tap(&app, words(&app, "长辈模式", "Large text"));
            }
            enter(&app, &mut rng, way);
            for _ in 0..rng.below(MAX_STEPS) + 1 {
                act(&app, &mut rng, &mut walk).await;
                note(&app, &mut walk);
                if rng.chance(50) {
                    until(
                        || !api.get_busy(),
                        &format!("{context}: the kiosk's answer"),
                    )
                    .await;
                }
            }
            // Nobody touches the screen: the question, then the reset.
            mock_elapsed_time(Duration::from_secs(idle + 1));
            for _ in 0..=prompt {
                mock_elapsed_time(Duration::from_secs(1));
            }
            assert_fresh(&app, &controller, &fresh, &at_start, &walk, &context);
        }
        assert!(
            missed(&walk).is_empty(),
            "seed {seed}: {MAX_ROUNDS} walks never reached {:?} (they saw {:?})",
            missed(&walk),
            walk.seen
        );
        assert!(
            walk.typed.len() > ROUNDS,
            "the walks typed little: {:?}",
            walk.typed
        );
    });
}
