//! Nothing jumps under the finger. What appears or changes after a tap (a problem, the PIN pad's
//! note, the staff console's answer and its lanes, a refused check-in, "are you sure?") leaves
//! every button where it was, and never puts another action where the button just pressed was:
//! a resident's second tap, or a hand reaching for a button it knows, does what it did before or
//! nothing. Each in portrait and landscape, normal and elderly mode, Chinese and English, with
//! the positions the real layout gives (Slint's testing backend).

use crate::common;

use common::*;
use domain::Language;
use grievance_kiosk::app::ui::{
    Api, AppWindow, BookingNote, BookingState, PinNote, Problem, Screen,
};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use slint::{ComponentHandle, Model};
use station::kiosk::{station_offset, Kiosk};

/// The five, one after the other (each with its own window and data directory).
pub fn nothing_moves_under_the_finger_and_no_button_turns_into_another() {
    a_problem_shown_moves_no_key_or_button();
    a_wrong_pin_moves_no_key_of_the_pad();
    the_console_keeps_its_buttons_where_the_hand_knows_them();
    a_refused_check_in_puts_no_other_action_under_the_finger();
    what_home_says_on_its_own_moves_no_tile();
}

/// Where an element is: x, y, width, height (logical pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Place {
    fn of(e: &ElementHandle) -> Place {
        let (p, s) = (e.absolute_position(), e.size());
        Place {
            x: p.x,
            y: p.y,
            w: s.width,
            h: s.height,
        }
    }
    fn centre(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    fn contains(&self, (x, y): (f32, f32)) -> bool {
        x > self.x && x < self.x + self.w && y > self.y && y < self.y + self.h
    }
    fn overlaps(&self, o: &Place) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    fn same(&self, o: &Place) -> bool {
        (self.x - o.x).abs() < 0.5
            && (self.y - o.y).abs() < 0.5
            && (self.w - o.w).abs() < 0.5
            && (self.h - o.h).abs() < 0.5
    }
}

/// Every button on screen, by its label, where it is.
fn buttons(app: &AppWindow) -> Vec<(String, Place)> {
    let mut found: Vec<(String, Place)> = Vec::new();
    for e in ElementQuery::from_root(app)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
    {
        let Some(label) = e.accessible_label() else {
            continue;
        };
        let entry = (label.to_string(), Place::of(&e));
        // The query can reach one element along more than one path.
        if !found.iter().any(|(l, p)| *l == entry.0 && p.same(&entry.1)) {
            found.push(entry);
        }
    }
    found
}

/// Where the one button labelled `label` is.
fn place(app: &AppWindow, label: &str) -> Place {
    let here: Vec<Place> = buttons(app)
        .into_iter()
        .filter(|(l, _)| l == label)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        here.len(),
        1,
        "one button `{label}` on {:?}; the buttons are {:?}",
        screen(app),
        buttons(app)
    );
    here[0]
}

/// Each button of `before` is still there, at the very same place.
fn assert_unmoved(app: &AppWindow, before: &[(String, Place)], after_what: &str) {
    let now = buttons(app);
    for (label, was) in before {
        let at: Vec<&Place> = now
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, p)| p)
            .collect();
        assert!(
            at.iter().any(|p| p.same(was)),
            "after {after_what}, `{label}` moved from {was:?} to {at:?}"
        );
    }
}

/// No button but those labelled `allowed` lies under the centre of `was` (where a finger that
/// just pressed a button there presses again).
fn assert_nothing_else_at(app: &AppWindow, was: Place, allowed: &[&str], after_what: &str) {
    for (label, p) in buttons(app) {
        assert!(
            !p.contains(was.centre()) || allowed.contains(&label.as_str()),
            "after {after_what}, `{label}` lies where {allowed:?} was pressed ({was:?})"
        );
    }
}

/// What a button says in the screen's language (its Chinese is the message id).
fn say(app: &AppWindow, zh: &'static str) -> &'static str {
    match app.global::<Api>().get_language().as_str() {
        "en" => domain::words::translation(Language::En, zh).unwrap_or(zh),
        "zh-Hant" => domain::words::translation(Language::ZhHant, zh).unwrap_or(zh),
        _ => zh,
    }
}

/// A way the screen is shown.
struct Variant {
    size: (u32, u32),
    elderly: bool,
    english: bool,
}

const VARIANTS: &[Variant] = &[
    Variant {
        size: (1080, 1920),
        elderly: false,
        english: false,
    },
    Variant {
        size: (1080, 1920),
        elderly: true,
        english: false,
    },
    Variant {
        size: (1080, 1920),
        elderly: true,
        english: true,
    },
    Variant {
        size: (1920, 1080),
        elderly: false,
        english: false,
    },
    Variant {
        size: (1920, 1080),
        elderly: true,
        english: true,
    },
];

impl Variant {
    fn name(&self) -> String {
        format!(
            "{}×{}{}{}",
            self.size.0,
            self.size.1,
            if self.elderly { " elderly" } else { "" },
            if self.english { " English" } else { "" }
        )
    }

    /// Shows the screen on now this way (the header's switches, as a resident sets them).
    fn apply(&self, app: &AppWindow) {
        let api = app.global::<Api>();
        app.window()
            .set_size(slint::PhysicalSize::new(self.size.0, self.size.1));
        if api.get_elderly() != self.elderly {
            tap(app, say(app, "长辈模式"));
        }
        tap(app, if self.english { "English" } else { "简体" });
        assert_eq!(api.get_elderly(), self.elderly);
    }
}

/// Back to the portrait, Chinese, normal-size start, as each variant's walk begins.
fn reset(app: &AppWindow) {
    let api = app.global::<Api>();
    app.window().set_size(slint::PhysicalSize::new(1080, 1920));
    tap(app, "简体");
    if api.get_elderly() {
        tap(app, "长辈模式");
    }
}

/// A wrong phone number on the contact step: the problem shows where the step's title was, and
/// the keypad, the anonymous button and Back/Home/Next stay where they were.
fn a_problem_shown_moves_no_key_or_button() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _controller) = kiosk_window(config_at_morning(dir.path()));

    run_scenario(async move {
        let api = app.global::<Api>();
        for variant in VARIANTS {
            reset(&app);
            assert_eq!(screen(&app), Screen::Home);
            tap(&app, "投诉建议");
            tap(&app, "拖欠工资");
            tap(&app, "下一步");
            tap(&app, "不写了，下一步");
            assert_eq!(screen(&app), Screen::Contact);
            variant.apply(&app);
            let v = variant.name();

            tap_keys(&app, "12345");
            let before = buttons(&app);
            for key in ["1", "5", "0", say(&app, "删除"), say(&app, "下一步")] {
                assert!(
                    before.iter().any(|(l, _)| l == key),
                    "{v}: `{key}` is on the contact step"
                );
            }
            let next = place(&app, say(&app, "下一步"));
            tap(&app, say(&app, "下一步"));
            assert_eq!(api.get_problem(), Problem::PhoneInvalid, "{v}");
            assert_eq!(screen(&app), Screen::Contact, "{v}");
            assert_unmoved(&app, &before, &format!("{v}: a wrong number"));
            assert_nothing_else_at(&app, next, &[say(&app, "下一步")], &v);

            // The problem is on screen, and over no button.
            let words = say(
                &app,
                "这个号码好像不对。请输入 11 位手机号，或带区号的固定电话。",
            );
            let banner = ElementHandle::find_by_accessible_label(&app, words)
                .find(|e| e.accessible_role() == Some(AccessibleRole::Text))
                .unwrap_or_else(|| panic!("{v}: the problem is shown"));
            let banner = Place::of(&banner);
            assert!(banner.h > 0.0 && banner.w > 0.0, "{v}: {banner:?}");
            for (label, p) in buttons(&app) {
                assert!(
                    !banner.overlaps(&p),
                    "{v}: the problem {banner:?} covers `{label}` {p:?}"
                );
            }
            // Fixing the number moves nothing either.
            for _ in 0..5 {
                tap(&app, say(&app, "删除"));
            }
            tap_keys(&app, "13800138000");
            assert_unmoved(&app, &before, &format!("{v}: typing after the problem"));
            tap(&app, say(&app, "首页"));
        }
    });
}

const PIN: &str = "240517";

/// A wrong PIN: its note comes, the keys of the pad and its buttons stay where they were.
fn a_wrong_pin_moves_no_key_of_the_pad() {
    let dir = tempfile::tempdir().unwrap();
    // One wrong PIN a variant, and the pad still open for the next.
    let mut config = (*config_at_morning(dir.path())).clone();
    config.staff.lockout_after = VARIANTS.len() as u32 + 1;
    let config = std::sync::Arc::new(config);
    Kiosk::open(config.clone())
        .unwrap()
        .set_pin(PIN, config.clock.now())
        .unwrap();
    let (app, _controller) = kiosk_window(config);

    run_scenario(async move {
        let api = app.global::<Api>();
        for variant in VARIANTS {
            reset(&app);
            open_staff_pin(&app);
            variant.apply(&app);
            let v = variant.name();
            let before = buttons(&app);
            for key in [
                "0",
                "9",
                say(&app, "删除"),
                say(&app, "确定"),
                say(&app, "取消"),
            ] {
                assert!(
                    before.iter().any(|(l, _)| l == key),
                    "{v}: `{key}` is on the pad"
                );
            }
            tap_keys(&app, "111111");
            tap(&app, say(&app, "确定"));
            until(
                || api.get_pin_note() == PinNote::Wrong,
                "the PIN to be refused",
            )
            .await;
            assert!(
                value_of(&app, say(&app, "密码提示")).is_some(),
                "{v}: the note shows"
            );
            assert_unmoved(&app, &before, &format!("{v}: a wrong PIN's note"));
            tap(&app, say(&app, "取消"));
            assert_eq!(screen(&app), Screen::Home, "{v}");
        }
    });
}

/// The console: calling the next ticket, marking it served and a notice arriving leave "call
/// next", "served", "not here" and every lane's "call" where they were, and "move here" never
/// comes where "call" was; checking a provider in puts "check out" beside "check in"; asking
/// "sure?" about cancelling a booking puts nothing where "cancel" was.
fn the_console_keeps_its_buttons_where_the_hand_knows_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    {
        let mut kiosk = Kiosk::open(config.clone()).unwrap();
        kiosk.set_pin(PIN, config.clock.now()).unwrap();
        for service in ["legal", "legal", "mediation", "complaint"] {
            kiosk
                .take_ticket(service, false, None, Language::Zh, config.clock.now())
                .unwrap();
        }
        // Today's bookings, made as if at midnight, whatever the time now (legal advice has
        // slots every day).
        let now = config.clock.now();
        let offset = station_offset(now);
        let midnight = now
            .with_timezone(&offset)
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(offset).single())
            .unwrap()
            .with_timezone(&chrono::Utc);
        let slots = kiosk.booking_slots("legal", 1, midnight).unwrap();
        for (slot, phone) in slots.iter().zip(["13800138001", "13800138002"]) {
            kiosk
                .book(
                    "legal",
                    &slot.slot.id,
                    phone,
                    Language::Zh,
                    "resident",
                    midnight,
                )
                .unwrap();
        }
    }
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let api = app.global::<Api>();
        for variant in [&VARIANTS[0], &VARIANTS[2], &VARIANTS[3]] {
            reset(&app);
            sign_in_staff(&app, PIN).await;
            until(
                || api.get_staff_lanes().row_count() > 0,
                "the console's queues",
            )
            .await;
            variant.apply(&app);
            let v = variant.name();

            // Call the next ticket, then mark it served: the counter's buttons and the lanes'
            // stay; "move here" comes in a place of its own.
            let before = buttons(&app);
            let next = place(&app, say(&app, "叫下一位"));
            tap(&app, say(&app, "叫下一位"));
            until(|| api.get_staff_current() != "", "a ticket to be called").await;
            assert_unmoved(&app, &before, &format!("{v}: a call"));
            assert_nothing_else_at(&app, next, &[say(&app, "叫下一位")], &v);
            let call = say(&app, "叫 {}").replace("{}", "");
            for (label, was) in before.iter().filter(|(l, _)| l.starts_with(&call)) {
                assert_nothing_else_at(&app, *was, &[label.as_str()], &format!("{v}: a call"));
            }
            let served = place(&app, say(&app, "已办完"));
            tap(&app, say(&app, "已办完"));
            until(|| api.get_staff_current() == "", "the ticket to be served").await;
            assert_unmoved(&app, &before, &format!("{v}: served"));
            assert_nothing_else_at(&app, served, &[say(&app, "已办完")], &v);

            // A notice arrives (a resident pressed Help) while staff work.
            Kiosk::open(config.clone())
                .unwrap()
                .store()
                .add_notice("staff-called", "", config.clock.now())
                .unwrap();
            tap(&app, say(&app, "排队叫号"));
            until(
                || api.get_staff_notices().row_count() > 0,
                "the notice to show",
            )
            .await;
            // (The lanes' list ends higher, and its "more below" bar with it: it scrolls.)
            let more = say(&app, "下面还有，点这里往下看");
            let tab: Vec<_> = before.iter().filter(|(l, _)| l != more).cloned().collect();
            assert_unmoved(&app, &tab, &format!("{v}: a notice arriving"));
            tap(&app, say(&app, "知道了"));
            until(
                || api.get_staff_notices().row_count() == 0,
                "the notice to go",
            )
            .await;

            // Attendance: check a provider in; "check out" comes beside, not under the finger.
            tap(&app, say(&app, "值班签到"));
            until(
                || api.get_staff_providers().row_count() > 0,
                "the providers",
            )
            .await;
            let provider = api
                .get_staff_providers()
                .iter()
                .find(|p| !p.on)
                .expect("a provider not on duty");
            let check_in = format!("{} {}", provider.name, say(&app, "签到"));
            let check_out = format!("{} {}", provider.name, say(&app, "签退"));
            let before = buttons(&app);
            let pressed = place(&app, &check_in);
            tap(&app, &check_in);
            until(
                || {
                    api.get_staff_providers()
                        .iter()
                        .any(|p| p.id == provider.id && p.on)
                },
                "the provider to be checked in",
            )
            .await;
            assert_nothing_else_at(
                &app,
                pressed,
                &[check_in.as_str()],
                &format!("{v}: check in"),
            );
            assert!(
                !place(&app, &check_out).contains(pressed.centre()),
                "{v}: check out is not where check in was"
            );
            assert_unmoved(
                &app,
                &before
                    .into_iter()
                    .filter(|(l, _)| !l.starts_with(provider.name.as_str()))
                    .collect::<Vec<_>>(),
                &format!("{v}: check in"),
            );
            tap(&app, &check_out);
            until(
                || {
                    api.get_staff_providers()
                        .iter()
                        .any(|p| p.id == provider.id && !p.on)
                },
                "the provider to be checked out",
            )
            .await;

            // Today's bookings: "cancel" asks; "sure?" puts nothing where "cancel" was.
            tap(&app, say(&app, "今日预约"));
            until(
                || api.get_staff_bookings().row_count() > 0,
                "today's bookings",
            )
            .await;
            let booking = api
                .get_staff_bookings()
                .iter()
                .find(|b| b.state == BookingState::Booked)
                .expect("a booking to cancel");
            let cancel = format!("{} {}", say(&app, "取消预约"), booking.time);
            let before = buttons(&app);
            let pressed = place(&app, &cancel);
            tap(&app, &cancel);
            until(
                || api.get_staff_bookings().iter().any(|b| b.confirming),
                "the console to ask",
            )
            .await;
            assert_nothing_else_at(&app, pressed, &[], &format!("{v}: cancel asked"));
            let keep = format!("{} {}", say(&app, "不取消"), booking.time);
            tap(&app, &keep);
            until(
                || !api.get_staff_bookings().iter().any(|b| b.confirming),
                "the question to go",
            )
            .await;
            assert_unmoved(&app, &before, &format!("{v}: kept"));
            tap(&app, say(&app, "退出工作人员模式"));
            assert_eq!(screen(&app), Screen::Home, "{v}");
        }
    });
}

/// A booking scanned days early: "check in" is refused and "take a number instead" comes in a
/// place of its own, not where "check in" was; "cancel" asks "sure?" above the buttons, "keep
/// it" and "yes, cancel" in places nothing else was; cancelling leaves nothing where "yes" was.
fn a_refused_check_in_puts_no_other_action_under_the_finger() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let codes: Vec<String> = {
        let mut kiosk = Kiosk::open(config.clone()).unwrap();
        let now = config.clock.now();
        let slots = kiosk.booking_slots("legal", 8, now).unwrap();
        let later: Vec<_> = slots
            .iter()
            .filter(|s| s.free > 0 && s.slot.start > now + chrono::Duration::days(2))
            .collect();
        assert!(
            later.len() >= VARIANTS.len(),
            "free slots in the coming week"
        );
        later
            .iter()
            .zip(1..)
            .take(VARIANTS.len())
            .map(|(slot, n)| {
                kiosk
                    .book(
                        "legal",
                        &slot.slot.id,
                        &format!("1380013800{n}"),
                        Language::Zh,
                        "resident",
                        now,
                    )
                    .unwrap()
                    .token
                    .grouped()
            })
            .collect()
    };
    let (app, _controller) = kiosk_window(config);

    run_scenario(async move {
        let api = app.global::<Api>();
        for (variant, code) in VARIANTS.iter().zip(codes) {
            reset(&app);
            assert_eq!(screen(&app), Screen::Home);
            wedge_types(&app, &code);
            until(|| screen(&app) == Screen::Booking, "the booking to open").await;
            variant.apply(&app);
            let v = variant.name();
            let (check_in, cancel, done) = (
                say(&app, "签到"),
                say(&app, "取消预约"),
                say(&app, "完成，回到首页"),
            );

            // Too early: nothing comes where "check in" was.
            let before = buttons(&app);
            let pressed = place(&app, check_in);
            tap(&app, check_in);
            until(
                || api.get_booking_note() == BookingNote::TooEarly,
                "check-in to be refused as too early",
            )
            .await;
            assert_nothing_else_at(&app, pressed, &[check_in], &format!("{v}: too early"));
            let walk_in = place(&app, say(&app, "改为现场取号"));
            assert!(
                !walk_in.overlaps(&pressed),
                "{v}: `take a number instead` {walk_in:?} is not where `check in` {pressed:?} was"
            );
            let kept: Vec<_> = before
                .iter()
                .filter(|(l, _)| l == cancel || l == done)
                .cloned()
                .collect();
            assert_eq!(kept.len(), 2, "{v}: {before:?}");
            assert_unmoved(&app, &kept, &format!("{v}: too early"));

            // "Are you sure?": above the buttons; "cancel" stays, nothing else comes under it.
            let pressed = place(&app, cancel);
            tap(&app, cancel);
            assert!(api.get_booking_asking_cancel(), "{v}");
            assert_unmoved(&app, &kept, &format!("{v}: asked to be sure"));
            assert_nothing_else_at(&app, pressed, &[cancel], &format!("{v}: asked to be sure"));
            let keep = place(&app, say(&app, "不取消"));
            let yes = place(&app, say(&app, "是，取消预约"));
            for (label, p) in &before {
                assert!(
                    !p.contains(keep.centre()) && !p.contains(yes.centre()),
                    "{v}: the answers to `sure?` come where `{label}` was"
                );
            }
            tap(&app, say(&app, "不取消"));
            assert!(!api.get_booking_asking_cancel(), "{v}");
            assert_unmoved(&app, &kept, &format!("{v}: kept"));
            assert_nothing_else_at(&app, keep, &[], &format!("{v}: kept"));

            // Cancelled: nothing where "yes" was, "done" where it was.
            tap(&app, cancel);
            let yes = place(&app, say(&app, "是，取消预约"));
            tap(&app, say(&app, "是，取消预约"));
            until(
                || api.get_booking_state() == BookingState::Cancelled,
                "the booking to be cancelled",
            )
            .await;
            assert_nothing_else_at(&app, yes, &[], &format!("{v}: cancelled"));
            assert_unmoved(
                &app,
                &kept
                    .iter()
                    .filter(|(l, _)| l == done)
                    .cloned()
                    .collect::<Vec<_>>(),
                &format!("{v}: cancelled"),
            );
            tap(&app, done);
        }
    });
}

/// Home changes without a touch: the printer stops (its notice comes in the place of the line
/// under the greeting) and the queues change ("what is open now" gets longer, shorter, empty).
/// No tile and no button moves.
fn what_home_says_on_its_own_moves_no_tile() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _controller) = kiosk_window(config_at_morning(dir.path()));

    run_scenario(async move {
        let api = app.global::<Api>();
        for variant in VARIANTS {
            reset(&app);
            assert_eq!(screen(&app), Screen::Home);
            variant.apply(&app);
            let v = variant.name();
            api.set_open_now("张律师值班中 · 投诉建议 1 人等候".into());
            api.set_printer_ready(true);
            let before = buttons(&app);
            assert!(before.len() >= 8, "{v}: the tiles are on Home: {before:?}");

            api.set_printer_ready(false);
            assert!(
                is_on_screen(
                    &app,
                    say(
                        &app,
                        "打印机暂时不能出凭条。您仍然可以登记，查询码会显示在屏幕上，可以用手机扫码保存。"
                    )
                ),
                "{v}: the printer's notice shows"
            );
            assert_unmoved(&app, &before, &format!("{v}: the printer stopping"));
            for open in [
                "张律师值班中 · 李律师值班中 · 投诉建议 1 人等候 · 纠纷调处 3 人等候 · 法律服务 2 人等候 · 心理服务 1 人等候 · 帮扶救助 4 人等候",
                "",
                "投诉建议 1 人等候",
            ] {
                api.set_open_now(open.into());
                assert_unmoved(&app, &before, &format!("{v}: what is open now: {open:?}"));
            }
            api.set_printer_ready(true);
            assert_unmoved(&app, &before, &format!("{v}: the printer back"));
        }
    });
}
