//! Renders any screen of the kiosk to PNG without a display: a headless Slint platform with the
//! software renderer (the renderer the device uses), the real `AppWindow` and the real
//! controller, driven to the screen the way a resident would get there. There is no event loop
//! to wait in, so the controller's operations are [`AtOnce`]'s: the kiosk's real operations,
//! run at once on a throw-away data directory, after a busy morning has been made there through
//! the same functions (providers on duty, people waiting, a lane's history, bookings). The result
//! and high-risk screens show a case actually filed; the Track screens a sample case's progress
//! as upstream would report it. What the backend would say as it happens (the printer out of
//! paper, a slip printed, a scan) reaches the controller as the backend's own events.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, PlatformError};

use super::backend::{BackendEvent, TestPrint};
use super::controller::{Controller, Job, Operations, Reply};
use super::ui::{Api, AppWindow};
use devices::printer::transport::VirtualPrinter;
use devices::scanner::Scan;
use domain::{Language, TrackingToken};
use handwriting::{ModelError, Recognizer};
use ime::{Dictionary, DictionaryError};
use protocol::{CaseProgress, CaseState, TimelineEntry};
use slip::status::PrinterState;
use station::chance::Chance;
use station::clock::Clock;
use station::config::KioskConfig;
use station::kiosk::{station_offset, DrainReport, Kiosk, KioskError, Progress, Tracked};

/// The screens `grievance-kiosk screenshot --screen NAME` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScreenName {
    Home,
    Subtype,
    Questions,
    TextEntry,
    Description,
    /// The description with `gongz` typed on the pinyin keyboard, its candidates showing.
    KeyboardPinyin,
    /// The description with 工 written on the handwriting pad, its candidates showing.
    KeyboardHandwriting,
    Contact,
    Consent,
    Review,
    Result,
    /// The emergency numbers, the moment an answer made the case high-risk.
    HighRisk,
    /// The result of a high-risk case: the code, with the emergency numbers repeated.
    ResultHighRisk,
    StillThere,
    /// Home while the printer is out of paper.
    HomePrinterOut,
    /// The result while the printer is out of paper: the code, and no slip.
    ResultPrinterOut,
    /// "Track my case" with a code half typed.
    Track,
    /// "Track my case" after a scan of something that is not a tracking code.
    TrackNotOurs,
    /// A case's progress, fresh from upstream.
    TrackResult,
    /// A case's progress while upstream cannot be reached: the last known state, and its age.
    TrackResultOffline,
    /// A resolved case's progress, with the citizen's rating offered.
    TrackResultRating,
    /// The questions, with the notice of a scan set aside during the intake.
    ScanHeld,
    /// Take a number: the lanes, with how many wait in each.
    TakeNumber,
    /// Take a number: "elderly, disabled or pregnant?".
    Priority,
    /// A ticket just taken, in a lane with enough history for a wait range.
    Ticket,
    /// A ticket in a lane with too little history to estimate a wait.
    TicketNoHistory,
    /// Book: the services someone gives appointments for.
    BookService,
    /// Book: the days and the slots (one already full).
    BookSlots,
    BookPhone,
    BookConfirm,
    /// Book: the booking code, its QR code, the slip printed.
    BookDone,
    /// A booking slip scanned.
    Booking,
    /// A booking scanned, with "are you sure?" about cancelling it.
    BookingCancel,
    /// A booking scanned days before its time: too early to check in.
    CheckinTooEarly,
    /// The staff PIN pad, three digits typed.
    StaffPin,
    /// The staff PIN pad after five wrong PINs.
    StaffLocked,
    StaffQueues,
    StaffBookings,
    StaffPrinter,
    StaffOutbox,
    StaffAttendance,
    StaffNotice,
    /// Home in elderly mode after "call staff" was pressed (the header says staff are coming).
    HomeStaffCalled,
}

impl ScreenName {
    pub const ALL: [ScreenName; 43] = [
        ScreenName::Home,
        ScreenName::Subtype,
        ScreenName::Questions,
        ScreenName::TextEntry,
        ScreenName::Description,
        ScreenName::KeyboardPinyin,
        ScreenName::KeyboardHandwriting,
        ScreenName::Contact,
        ScreenName::Consent,
        ScreenName::Review,
        ScreenName::Result,
        ScreenName::HighRisk,
        ScreenName::ResultHighRisk,
        ScreenName::StillThere,
        ScreenName::HomePrinterOut,
        ScreenName::ResultPrinterOut,
        ScreenName::Track,
        ScreenName::TrackNotOurs,
        ScreenName::TrackResult,
        ScreenName::TrackResultOffline,
        ScreenName::TrackResultRating,
        ScreenName::ScanHeld,
        ScreenName::TakeNumber,
        ScreenName::Priority,
        ScreenName::Ticket,
        ScreenName::TicketNoHistory,
        ScreenName::BookService,
        ScreenName::BookSlots,
        ScreenName::BookPhone,
        ScreenName::BookConfirm,
        ScreenName::BookDone,
        ScreenName::Booking,
        ScreenName::BookingCancel,
        ScreenName::CheckinTooEarly,
        ScreenName::StaffPin,
        ScreenName::StaffLocked,
        ScreenName::StaffQueues,
        ScreenName::StaffBookings,
        ScreenName::StaffPrinter,
        ScreenName::StaffOutbox,
        ScreenName::StaffAttendance,
        ScreenName::StaffNotice,
        ScreenName::HomeStaffCalled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScreenName::Home => "home",
            ScreenName::Subtype => "subtype",
            ScreenName::Questions => "questions",
            ScreenName::TextEntry => "text-entry",
            ScreenName::Description => "description",
            ScreenName::KeyboardPinyin => "keyboard-pinyin",
            ScreenName::KeyboardHandwriting => "keyboard-handwriting",
            ScreenName::Contact => "contact",
            ScreenName::Consent => "consent",
            ScreenName::Review => "review",
            ScreenName::Result => "result",
            ScreenName::HighRisk => "high-risk",
            ScreenName::ResultHighRisk => "result-high-risk",
            ScreenName::StillThere => "still-there",
            ScreenName::HomePrinterOut => "home-printer-out",
            ScreenName::ResultPrinterOut => "result-printer-out",
            ScreenName::Track => "track",
            ScreenName::TrackNotOurs => "track-not-ours",
            ScreenName::TrackResult => "track-result",
            ScreenName::TrackResultOffline => "track-result-offline",
            ScreenName::TrackResultRating => "track-result-rating",
            ScreenName::ScanHeld => "scan-held",
            ScreenName::TakeNumber => "take-number",
            ScreenName::Priority => "priority",
            ScreenName::Ticket => "ticket",
            ScreenName::TicketNoHistory => "ticket-no-history",
            ScreenName::BookService => "book-service",
            ScreenName::BookSlots => "book-slots",
            ScreenName::BookPhone => "book-phone",
            ScreenName::BookConfirm => "book-confirm",
            ScreenName::BookDone => "book-done",
            ScreenName::Booking => "booking",
            ScreenName::BookingCancel => "booking-cancel",
            ScreenName::CheckinTooEarly => "checkin-too-early",
            ScreenName::StaffPin => "staff-pin",
            ScreenName::StaffLocked => "staff-locked",
            ScreenName::StaffQueues => "staff-queues",
            ScreenName::StaffBookings => "staff-bookings",
            ScreenName::StaffPrinter => "staff-printer",
            ScreenName::StaffOutbox => "staff-outbox",
            ScreenName::StaffAttendance => "staff-attendance",
            ScreenName::StaffNotice => "staff-notice",
            ScreenName::HomeStaffCalled => "home-staff-called",
        }
    }
}

/// One screenshot to take.
#[derive(Debug, Clone)]
pub struct Shot {
    pub screen: ScreenName,
    pub language: Language,
    pub elderly: bool,
    pub size: (u32, u32),
}

struct Headless;

thread_local! {
    /// The window the headless platform made last, for rendering it frame by frame.
    static LAST_WINDOW: std::cell::RefCell<Option<Rc<MinimalSoftwareWindow>>> =
        const { std::cell::RefCell::new(None) };
}

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        LAST_WINDOW.with(|last| *last.borrow_mut() = Some(window.clone()));
        Ok(window)
    }
}

/// Makes this process render headlessly with the software renderer (once per process; later
/// calls keep the platform already set).
pub fn install_headless() {
    let _ = slint::platform::set_platform(Box::new(Headless));
}

/// Renders `shot` and returns the RGBA pixels (width, height, bytes).
pub fn render(config: Arc<KioskConfig>, shot: &Shot) -> anyhow::Result<(u32, u32, Vec<u8>)> {
    let mut pixels = None;
    with_screen(config, shot, |app| {
        let frame = snapshot(app)?;
        pixels = Some((frame.width(), frame.height(), frame.as_bytes().to_vec()));
        Ok(())
    })?;
    pixels.ok_or_else(|| anyhow!("nothing was rendered"))
}

/// Renders the screen of `shot` `frames` times over into a frame buffer, the way the device's
/// software renderer fills its display buffer, and returns how long each frame took. Every
/// frame is a full redraw (the worst case: a new screen), not the partial repaint of a tap.
pub fn frame_times(
    config: Arc<KioskConfig>,
    shot: &Shot,
    frames: usize,
) -> anyhow::Result<Vec<std::time::Duration>> {
    let mut times = Vec::with_capacity(frames);
    with_screen(config, shot, |_| {
        let window = LAST_WINDOW
            .with(|last| last.borrow().clone())
            .ok_or_else(|| anyhow!("the headless platform made no window"))?;
        let (width, height) = (shot.size.0 as usize, shot.size.1 as usize);
        let mut buffer = vec![slint::Rgb8Pixel::default(); width * height];
        for _ in 0..frames {
            window.request_redraw();
            let start = std::time::Instant::now();
            window.draw_if_needed(|renderer| {
                renderer.render(&mut buffer, width);
            });
            times.push(start.elapsed());
        }
        Ok(())
    })?;
    Ok(times)
}

fn snapshot(app: &AppWindow) -> anyhow::Result<slint::SharedPixelBuffer<slint::Rgba8Pixel>> {
    app.window()
        .take_snapshot()
        .map_err(|e| anyhow!("cannot render the screen: {e}"))
}

/// Builds the window at the shot's size, drives it to the screen (with the headless software
/// renderer) and hands it to `look`.
pub fn with_screen(
    config: Arc<KioskConfig>,
    shot: &Shot,
    look: impl FnOnce(&AppWindow) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // A process has one platform; a second call reuses the one set by the first.
    let _ = slint::platform::set_platform(Box::new(Headless));
    let scratch = Scratch::new()?;
    let mut config = (*config).clone();
    config.data_dir = scratch.0.clone();
    config.clock = Clock::fixed(the_morning()?);
    // The same codes (and QR codes) every time, so a screen can be compared with its
    // reference image.
    config.chance = Chance::seeded(20_260_602);
    let config = Arc::new(config);

    let app = AppWindow::new().context("cannot create the kiosk window")?;
    app.window()
        .set_size(PhysicalSize::new(shot.size.0, shot.size.1));
    // As the board lays itself out on its panel.
    super::view::fit_to_panel(app.window());
    let ops = AtOnce::for_shot(&config, shot)?;
    let controller = Controller::with_operations(&app, config.clone(), Box::new(ops));
    // The screens as a station that speaks shows them ("读给我听"), without a sound.
    controller.show_read_aloud(config.voice.enabled);
    controller.set_language(shot.language);
    controller.set_elderly(shot.elderly);
    tour(&app, &controller, &config, shot)?;
    app.show().context("cannot show the kiosk window")?;
    slint::platform::update_timers_and_animations();
    let result = look(&app);
    app.hide().ok();
    result
}

/// The moment every screenshot shows: Tuesday 2 June 2026, 10:00 at the station, a working
/// morning whatever the hour the picture is made (at the station's midnight yesterday's queue
/// and today's would otherwise meet), and the same picture every time.
pub fn the_morning() -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    chrono::Local
        .with_ymd_and_hms(2026, 6, 2, 10, 0, 0)
        .single()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| anyhow!("10:00 on 2 June 2026 is not one moment in this time zone"))
}

/// Renders `shot` into a PNG file.
pub fn render_to_file(config: Arc<KioskConfig>, shot: &Shot, out: &Path) -> anyhow::Result<()> {
    let (w, h, rgba) = render(config, shot)?;
    write_png(out, w, h, &rgba)
}

pub fn write_png(out: &Path, width: u32, height: u32, rgba: &[u8]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgba)?;
    writer.finish()?;
    Ok(())
}

/// Drives the controller to the screen, as a resident's taps would.
fn tour(
    app: &AppWindow,
    c: &Controller,
    config: &Arc<KioskConfig>,
    shot: &Shot,
) -> anyhow::Result<()> {
    use ScreenName as S;
    let api = app.global::<Api>();
    // What a resident types and a department writes is sample content, not the kiosk's words:
    // Chinese (as the pinyin keyboard writes it) for either script.
    let zh = shot.language.is_chinese();
    let high_risk = matches!(shot.screen, S::HighRisk | S::ResultHighRisk);
    let printer_out = matches!(shot.screen, S::HomePrinterOut | S::ResultPrinterOut);
    if printer_out {
        c.event(BackendEvent::Printer(PrinterState::PaperOut));
    }
    if matches!(shot.screen, S::Home | S::HomePrinterOut) {
        busy_morning(config, false)?;
        c.go_home();
        return Ok(());
    }
    if shot.screen == S::HomeStaffCalled {
        // The button is there in elderly mode only.
        c.set_elderly(true);
        c.go_home();
        c.call_staff();
        return Ok(());
    }
    if tour_appointments(app, c, config, shot)? {
        return Ok(());
    }
    match shot.screen {
        S::Track => {
            c.open_track();
            api.set_track_code("7K3Q-9XPD-2W".into());
            c.track_edited("7K3Q-9XPD-2W");
            return Ok(());
        }
        S::TrackNotOurs => {
            // A payment code held to the scanner instead of the slip.
            let scan = Scan::Text("https://qr.example.com/pay/2810aa5b".into());
            c.event(BackendEvent::Scan(scan));
            return Ok(());
        }
        S::TrackResult | S::TrackResultOffline | S::TrackResultRating => {
            // The sample case's code typed and looked up; upstream answers (see `AtOnce`).
            let code = sample_token().grouped();
            c.open_track();
            api.set_track_code(code.as_str().into());
            c.track_submit();
            return Ok(());
        }
        _ => {}
    }
    c.choose_service("complaint");
    if shot.screen == S::Subtype {
        return Ok(());
    }
    c.choose_subtype("wages_owed");
    c.choose_option("amount", "5k_20k");
    c.choose_option("since", "1_3m");
    c.choose_option("workers", if high_risk { "30_plus" } else { "2_9" });
    if shot.screen == S::HighRisk {
        return Ok(());
    }
    c.dismiss_alarm();
    if shot.screen == S::Questions {
        return Ok(());
    }
    if shot.screen == S::ScanHeld {
        c.event(BackendEvent::Scan(Scan::Text(sample_token().grouped())));
        return Ok(());
    }
    c.open_text_entry("employer");
    api.set_text_entry_value(
        if zh {
            "某某建筑劳务公司"
        } else {
            "Example Building Labour Co."
        }
        .into(),
    );
    if shot.screen == S::TextEntry {
        return Ok(());
    }
    c.close_text_entry(true);
    c.next();
    api.set_description(
        if zh {
            "工地上干了三个月，老板一直说下个月发工资，现在电话也不接了。"
        } else {
            "Three months on the site, and the boss keeps saying wages come next month. Now he does not answer the phone."
        }
        .into(),
    );
    if shot.screen == S::Description {
        return Ok(());
    }
    if shot.screen == S::KeyboardHandwriting {
        c.ime_write_toggle();
        // 工 as a finger writes it on a 600 × 400 pad: across, down, across.
        for stroke in [
            [(220.0, 120.0), (300.0, 118.0), (380.0, 120.0)],
            [(300.0, 120.0), (300.0, 200.0), (300.0, 290.0)],
            [(180.0, 290.0), (300.0, 288.0), (420.0, 292.0)],
        ] {
            for (i, (x, y)) in stroke.into_iter().enumerate() {
                c.ime_pen(i32::from(i > 0), x, y, 600.0, 400.0);
            }
            c.ime_pen(2, 0.0, 0.0, 600.0, 400.0);
        }
        return Ok(());
    }
    if shot.screen == S::KeyboardPinyin {
        if !c.with_state(|s| s.session.composer.pinyin_mode) {
            c.ime_toggle();
        }
        for key in ["g", "o", "n", "g", "z"] {
            c.key(key);
        }
        return Ok(());
    }
    if shot.screen == S::StillThere {
        c.idle_timeout();
        return Ok(());
    }
    c.next();
    api.set_phone("13800138000".into());
    if shot.screen == S::Contact {
        return Ok(());
    }
    c.next();
    if shot.screen == S::Consent {
        return Ok(());
    }
    c.next();
    if shot.screen == S::Review {
        return Ok(());
    }
    // The results: file the reviewed draft for real and print its slip virtually.
    c.next();
    if c.with_state(|s| s.session.intake().is_some()) {
        return Err(anyhow!("the tour's case was not filed"));
    }
    if printer_out {
        return Ok(());
    }
    print_virtually(c, config)
}

/// Prints what waits on the virtual printer, the way the backend's print queue would, and tells
/// the controller how each slip went.
fn print_virtually(c: &Controller, config: &Arc<KioskConfig>) -> anyhow::Result<()> {
    let profile = config.printer_profile();
    let mut printer = VirtualPrinter::new(&config.data_dir, profile.dots_per_line);
    Kiosk::open(config.clone())?.print_pending(&mut printer, &profile, |outcome| {
        c.event(BackendEvent::Job(outcome.clone()))
    })?;
    Ok(())
}

/// The staff PIN of the screenshots' kiosk.
const STAFF_PIN: &str = "240517";

/// A station at work: the lawyer on duty (from the day's first provider of legal advice),
/// people waiting in three lanes, and, with `history`, yesterday's finished services in the
/// legal lane (enough for a wait range). Everything through the kiosk's own functions.
fn busy_morning(config: &Arc<KioskConfig>, history: bool) -> anyhow::Result<()> {
    let mut k = Kiosk::open(config.clone())?;
    let now = config.clock.now();
    let minute = chrono::Duration::minutes(1);
    if history {
        let start = now - chrono::Duration::days(1);
        for i in 0..8 {
            let at = start + minute * (12 * i);
            k.take_ticket("legal", false, None, Language::Zh, at)?;
            let called = k.call_next(1, Some("legal"), at + minute)?;
            k.done(&called.ticket, at + minute * (7 + (i % 4) * 2))?;
        }
    }
    if let Some(p) = k
        .roster()
        .providers
        .iter()
        .find(|p| p.service == "legal")
        .map(|p| p.id.clone())
    {
        k.attendance(&p, true, now - minute * 45)?;
    }
    for (service, n) in [("mediation", 3), ("legal", 2), ("complaint", 1)] {
        for i in 0..n {
            k.take_ticket(service, i == 1, None, Language::Zh, now - minute * (20 - i))?;
        }
    }
    Ok(())
}

/// Today's bookings, made as if earlier this morning: three in the legal lane (one cancelled),
/// whatever the time of day now.
fn bookings_today(config: &Arc<KioskConfig>) -> anyhow::Result<()> {
    let mut k = Kiosk::open(config.clone())?;
    let now = config.clock.now();
    let offset = station_offset(now);
    let midnight = now
        .with_timezone(&offset)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(offset).single())
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok_or_else(|| anyhow!("no local midnight today"))?;
    let slots = k.booking_slots("legal", 1, midnight)?;
    let phones = ["13800138000", "13912345678", "13700001111"];
    for (slot, phone) in slots.iter().zip(phones) {
        k.book(
            "legal",
            &slot.slot.id,
            phone,
            Language::Zh,
            "resident",
            midnight,
        )?;
    }
    if let Some(first) = k.bookings_of_day(now)?.first() {
        k.cancel_booking(&first.token, "resident", midnight)?;
    }
    Ok(())
}

/// A booking a few days ahead, for a scan of its slip; returns its code.
fn booking_ahead(config: &Arc<KioskConfig>) -> anyhow::Result<String> {
    let mut k = Kiosk::open(config.clone())?;
    let now = config.clock.now();
    let slot = k
        .booking_slots("legal", 8, now)?
        .into_iter()
        .find(|s| s.free > 0 && s.slot.start > now + chrono::Duration::days(2))
        .ok_or_else(|| anyhow!("no legal slot free in the coming week"))?;
    let booked = k.book(
        "legal",
        &slot.slot.id,
        "13800138000",
        Language::Zh,
        "resident",
        now,
    )?;
    Ok(booked.token.grouped())
}

/// Signs into staff mode as staff would: five taps on the station's name, the PIN on the pad.
fn sign_in(c: &Controller, config: &Arc<KioskConfig>) -> anyhow::Result<()> {
    Kiosk::open(config.clone())?.set_pin(STAFF_PIN, config.clock.now())?;
    for _ in 0..5 {
        c.staff_tap();
    }
    for d in STAFF_PIN.chars() {
        c.staff_pin_key(&d.to_string());
    }
    c.staff_pin_enter();
    Ok(())
}

/// The screens of Take a number, Book and the staff mode; `false` for any other screen.
fn tour_appointments(
    app: &AppWindow,
    c: &Controller,
    config: &Arc<KioskConfig>,
    shot: &Shot,
) -> anyhow::Result<bool> {
    use super::ui::StaffTab;
    use ScreenName as S;
    let print = |c: &Controller| print_virtually(c, config);
    match shot.screen {
        S::TakeNumber | S::Priority => {
            busy_morning(config, false)?;
            c.open_take_number();
            if shot.screen == S::Priority {
                c.choose_lane("mediation");
            }
        }
        S::Ticket | S::TicketNoHistory => {
            busy_morning(config, true)?;
            // One person before the resident in a lane that has never finished a service.
            Kiosk::open(config.clone())?.take_ticket(
                "assistance",
                false,
                None,
                Language::Zh,
                config.clock.now() - chrono::Duration::minutes(5),
            )?;
            c.event(BackendEvent::Printer(PrinterState::Ready));
            c.open_take_number();
            c.choose_lane(if shot.screen == S::Ticket {
                "legal"
            } else {
                "assistance"
            });
            c.answer_priority(false);
            print(c)?;
        }
        S::BookService => c.open_booking(),
        S::BookSlots | S::BookPhone | S::BookConfirm | S::BookDone => {
            // Someone was quicker for one slot: it shows full.
            let mut k = Kiosk::open(config.clone())?;
            let now = config.clock.now();
            let free: Vec<_> = k
                .booking_slots("legal", 8, now)?
                .into_iter()
                .filter(|s| s.free > 0)
                .collect();
            if let Some(taken) = free.get(1) {
                k.book(
                    "legal",
                    &taken.slot.id,
                    "13912345678",
                    Language::Zh,
                    "resident",
                    now,
                )?;
            }
            c.event(BackendEvent::Printer(PrinterState::Ready));
            c.open_booking();
            c.choose_book_service("legal");
            if shot.screen == S::BookSlots {
                return Ok(true);
            }
            let first = free
                .first()
                .ok_or_else(|| anyhow!("no legal slot free in the coming week"))?;
            c.choose_slot(&first.slot.id);
            app.global::<Api>().set_phone("13800138000".into());
            if shot.screen == S::BookPhone {
                return Ok(true);
            }
            c.book_phone_done();
            if shot.screen == S::BookConfirm {
                return Ok(true);
            }
            c.confirm_booking();
            print(c)?;
        }
        S::Booking | S::BookingCancel | S::CheckinTooEarly => {
            let code = booking_ahead(config)?;
            c.event(BackendEvent::Scan(Scan::Text(code)));
            match shot.screen {
                S::BookingCancel => c.ask_cancel_booking(true),
                S::CheckinTooEarly => c.check_in(),
                _ => {}
            }
        }
        S::StaffPin => {
            Kiosk::open(config.clone())?.set_pin(STAFF_PIN, config.clock.now())?;
            for _ in 0..5 {
                c.staff_tap();
            }
            for d in ["2", "4", "0"] {
                c.staff_pin_key(d);
            }
        }
        S::StaffLocked => {
            Kiosk::open(config.clone())?.set_pin(STAFF_PIN, config.clock.now())?;
            for _ in 0..5 {
                c.staff_tap();
            }
            for _ in 0..config.staff.lockout_after {
                for d in "135790".chars() {
                    c.staff_pin_key(&d.to_string());
                }
                c.staff_pin_enter();
            }
        }
        S::StaffQueues => {
            busy_morning(config, true)?;
            sign_in(c, config)?;
            c.staff_call_next("");
        }
        S::StaffBookings => {
            bookings_today(config)?;
            sign_in(c, config)?;
            c.staff_show_tab(StaffTab::Bookings);
        }
        S::StaffPrinter => {
            busy_morning(config, false)?;
            c.event(BackendEvent::Printer(PrinterState::Ready));
            print(c)?;
            sign_in(c, config)?;
            c.staff_show_tab(StaffTab::Printer);
        }
        S::StaffOutbox => {
            // Two cases filed while the district could not be reached.
            let mut k = Kiosk::open(config.clone())?;
            for description in ["楼上装修，每天到晚上十一点", "小区门口的路灯坏了两个星期"]
            {
                k.file_case(&domain::CaseDraft {
                    service: "complaint".into(),
                    subtype: Some("noise".into()),
                    answers: vec![domain::Answer {
                        question: "source".into(),
                        value: "renovation".into(),
                    }],
                    description: description.into(),
                    phone: "13800138000".into(),
                    consent_version: Some(config.consent.version.clone()),
                    ..domain::CaseDraft::default()
                })?;
            }
            sign_in(c, config)?;
            c.staff_show_tab(StaffTab::Outbox);
        }
        S::StaffNotice => {
            // As `Kiosk::open_at_start` leaves it after moving a damaged database aside.
            let now = config.clock.now();
            // Named where a station keeps its database (the package's state directory), not
            // the screenshot's scratch directory, so the picture is the same every time.
            let moved = Path::new("/var/lib/grievance-kiosk").join(format!(
                "{}.damaged-{}",
                station::store::DB_FILE,
                now.format("%Y%m%dT%H%M%SZ")
            ));
            Kiosk::open(config.clone())?.notice_moved_aside(
                &moved,
                "quick_check: database disk image is malformed",
                now,
            )?;
            // And a resident who pressed "call staff" a moment later.
            Kiosk::open(config.clone())?.call_staff(now + chrono::Duration::seconds(40))?;
            busy_morning(config, false)?;
            sign_in(c, config)?;
        }
        S::StaffAttendance => {
            busy_morning(config, false)?;
            sign_in(c, config)?;
            c.staff_show_tab(StaffTab::Attendance);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn sample_token() -> TrackingToken {
    TrackingToken::from_random([0x3c, 0xe6, 0xf4, 0x9d, 0x8e, 0x56, 0x47, 0x3a, 0x11, 0x82])
}

/// The sample case resolved today, its rating offered.
fn resolve_sample(tracked: &mut Tracked, language: Language, now: chrono::DateTime<chrono::Utc>) {
    if let Progress::Live(progress) = &mut tracked.progress {
        progress.state = CaseState::Resolved;
        progress.expected_at = None;
        progress.timeline.push(TimelineEntry {
            at: now - chrono::Duration::hours(1),
            state: CaseState::Resolved,
            note: Some(
                if language.is_chinese() {
                    "用人单位已于今日将拖欠工资全部发放。"
                } else {
                    "The employer paid all the wages owed today."
                }
                .into(),
            ),
            department: progress.department.clone(),
            expected_at: None,
        });
    }
    tracked.rating = Some(protocol::RatingOffer {
        may_rate: true,
        rating: None,
        until: Some(now + chrono::Duration::days(7)),
    });
}

/// A wage case three days into its handling, as upstream reports it; `offline`: as last seen
/// two hours ago, upstream unreachable now.
fn sample_tracked(
    language: Language,
    offline: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Tracked {
    let day = chrono::Duration::days(1);
    let zh = language.is_chinese();
    let department = if zh {
        "区人力资源和社会保障局"
    } else {
        "District Human Resources and Social Security Bureau"
    };
    let token = sample_token();
    let progress = CaseProgress {
        token: token.as_str().to_owned(),
        state: CaseState::InProgress,
        station_id: "demo".into(),
        service: "complaint".into(),
        subtype: "wages_owed".into(),
        filed_at: now - day * 3,
        department: Some(department.into()),
        expected_at: Some(now + day * 4),
        timeline: vec![
            TimelineEntry {
                at: now - day * 3,
                state: CaseState::Received,
                note: None,
                department: None,
                expected_at: None,
            },
            TimelineEntry {
                at: now - day * 3 + chrono::Duration::hours(2),
                state: CaseState::Acknowledged,
                note: None,
                department: None,
                expected_at: None,
            },
            TimelineEntry {
                at: now - day * 2,
                state: CaseState::Assigned,
                note: None,
                department: Some(department.into()),
                expected_at: Some(now + day * 4),
            },
            TimelineEntry {
                at: now - day,
                state: CaseState::InProgress,
                note: Some(
                    if zh {
                        "已联系用人单位，约定本周五前答复工资发放安排。"
                    } else {
                        "We have contacted the employer, who is to say by Friday when the wages will be paid."
                    }
                    .into(),
                ),
                department: Some(department.into()),
                expected_at: Some(now + day * 4),
            },
        ],
    };
    Tracked {
        token,
        local: None,
        progress: if offline {
            Progress::LastKnown {
                progress,
                fetched_at: now - chrono::Duration::hours(2),
                why: "upstream did not answer".into(),
            }
        } else {
            Progress::Live(progress)
        },
        rating: None,
    }
}

/// The kiosk's operations for the tour: each runs at once on the tour's own kiosk, so that
/// every tap's answer is on screen before the next tap. Nothing prints (the tour prints on a
/// virtual printer itself) and no upstream is asked: a case looked up is the shot's sample.
struct AtOnce {
    kiosk: RefCell<Kiosk>,
    /// The station's pinyin dictionary, for the shots whose keyboard composes pinyin or whose
    /// console says whether the station's own dictionary loaded; for the others it never comes,
    /// as on a kiosk still loading it (the keys type letters).
    dictionary: Option<Option<PathBuf>>,
    /// What upstream says of the case looked up.
    tracked: Option<Tracked>,
    /// The handwriting models, for the shots whose keyboard offers the pad.
    handwriting: Option<Vec<PathBuf>>,
}

impl AtOnce {
    fn for_shot(config: &Arc<KioskConfig>, shot: &Shot) -> anyhow::Result<AtOnce> {
        use ScreenName as S;
        let pinyin = matches!(
            shot.screen,
            S::TextEntry | S::KeyboardPinyin | S::KeyboardHandwriting
        );
        let console = matches!(
            shot.screen,
            S::StaffQueues
                | S::StaffBookings
                | S::StaffPrinter
                | S::StaffOutbox
                | S::StaffAttendance
                | S::StaffNotice
        );
        let own_dictionary = config.ime.dictionary.is_some();
        let tracked = matches!(
            shot.screen,
            S::TrackResult | S::TrackResultOffline | S::TrackResultRating
        )
        .then(|| {
            let mut tracked = sample_tracked(
                shot.language,
                shot.screen == S::TrackResultOffline,
                config.clock.now(),
            );
            if shot.screen == S::TrackResultRating {
                resolve_sample(&mut tracked, shot.language, config.clock.now());
            }
            tracked
        });
        Ok(AtOnce {
            kiosk: RefCell::new(Kiosk::open(config.clone())?),
            dictionary: (pinyin || (console && own_dictionary))
                .then(|| config.ime.dictionary.clone()),
            tracked,
            handwriting: matches!(
                shot.screen,
                S::Description | S::KeyboardPinyin | S::KeyboardHandwriting
            )
            .then(|| config.ime.handwriting_models.clone()),
        })
    }
}

impl Operations for AtOnce {
    fn run(&self, _changes: bool, job: Job, answered: Reply<()>) {
        job(&mut self.kiosk.borrow_mut());
        answered(());
    }

    fn track(&self, code: String, reply: Reply<Result<Tracked, KioskError>>) {
        reply(self.tracked.clone().ok_or(KioskError::NotFound(code)));
    }

    /// The tour's upstream takes the rating at once.
    fn rate(
        &self,
        _code: String,
        rating: String,
        reply: Reply<Result<protocol::RatingOffer, KioskError>>,
    ) {
        reply(Ok(protocol::RatingOffer {
            may_rate: true,
            rating: Some(rating),
            until: None,
        }));
    }

    fn load_dictionary(&self, reply: Reply<Result<Dictionary, DictionaryError>>) {
        if let Some(path) = &self.dictionary {
            reply(Dictionary::configured(path.as_deref()));
        }
    }

    fn load_handwriting(&self, reply: Reply<Result<Arc<Recognizer>, ModelError>>) {
        if let Some(paths) = &self.handwriting {
            reply(super::backend::load_handwriting_models(paths).map(Arc::new));
        }
    }

    // The tour has no printer and no outbox of its own: no answer comes, as from a stopped
    // worker.
    fn paper_refilled(&self, reply: Reply<Option<Result<(), KioskError>>>) {
        reply(None);
    }

    fn test_print(&self, reply: Reply<Option<Result<TestPrint, KioskError>>>) {
        reply(None);
    }

    fn reprint_last(&self, reply: Reply<Option<Result<bool, KioskError>>>) {
        reply(None);
    }

    fn retry_outbox(&self, reply: Reply<Option<Result<DrainReport, Arc<KioskError>>>>) {
        reply(None);
    }
}

/// A throw-away data directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "grievance-kiosk-screenshot-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
