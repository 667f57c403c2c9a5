//! Every screen fits its window in every variant: portrait and landscape, every language,
//! normal and elderly mode. The controls a resident needs to go on (Back, Home, Next, Submit,
//! the keypad, "show my code", …) must lie wholly inside the window, laid out with the real
//! font by the software renderer; a screen whose Next button falls off the bottom strands the
//! resident. (Content that scrolls, like a long list of options, may continue below the fold.)
//! Each screen's own controls are listed (`required`): one that goes missing fails the test in
//! the variant that lost it.

use std::sync::Arc;

use domain::Language;
use grievance_kiosk::app::screenshot::{with_screen, ScreenName, Shot};
use i_slint_backend_testing::{AccessibleRole, ElementQuery};
use slint::ComponentHandle;
use station::config::KioskConfig;

/// Controls that must always be reachable, by their Chinese and English labels (Traditional:
/// the Chinese's translation in its catalogue).
const ESSENTIAL: &[(&str, &str)] = &[
    ("返回", "Back"),
    ("首页", "Start"),
    ("下一步", "Next"),
    ("不写了，下一步", "Skip, next"),
    ("我已了解，同意", "I understand and agree"),
    ("提交", "Submit"),
    ("不留电话，匿名反映", "Stay anonymous, no phone"),
    ("删除", "Delete"),
    ("0", "0"),
    ("空格", "Space"),
    ("完成", "Done"),
    ("取消", "Cancel"),
    ("完成，回到首页", "Done, back to start"),
    ("查看我的查询码", "Show my tracking code"),
    ("继续填写我的诉求", "Go on with my request"),
    // Help, on every resident's screen (checked below).
    ("求助", "Help"),
    ("我还在，继续", "I'm here, continue"),
    ("清除，回到首页", "Clear and go back to start"),
    // The language switch, each named in itself.
    ("简体", "简体"),
    ("繁體", "繁體"),
    ("English", "English"),
    ("长辈模式", "Large text"),
    ("查询", "Search"),
    ("查另一个", "Track another"),
    ("满意", "Satisfied"),
    ("基本满意", "Basically satisfied"),
    ("不满意", "Unsatisfied"),
    ("知道了，继续登记", "OK, go on filing"),
    // Home's other ways in, Take a number, Book, a scanned booking and the staff mode.
    ("取号排队", "Take a number"),
    ("预约律师/咨询", "Book an appointment"),
    ("查询办理进度", "Track my case"),
    ("同时取号排队", "Also take a number"),
    ("是，优先叫号", "Yes, call me first"),
    ("不是，正常排队", "No, queue as usual"),
    ("确认预约", "Book it"),
    ("签到", "Check in"),
    ("取消预约", "Cancel booking"),
    ("改为现场取号", "Take a number instead"),
    ("是，取消预约", "Yes, cancel it"),
    ("不取消", "Keep it"),
    ("确定", "OK"),
    ("退出工作人员模式", "Leave staff mode"),
    ("叫下一位", "Call next"),
    ("再叫一次", "Call again"),
    ("已办完", "Served"),
    ("没来", "Not here"),
    ("排队叫号", "Queues"),
    ("今日预约", "Bookings today"),
    ("打印机", "Printer"),
    ("待发送", "Outbox"),
    ("值班签到", "Attendance"),
    ("已换新纸", "New roll put in"),
    ("打印测试页", "Test page"),
    ("补打上一张", "Reprint last slip"),
    ("立即重试", "Retry now"),
];

/// Lays `shot` out and adds each essential control that is not wholly inside the window to
/// `problems`; returns the essential controls it found (by their Chinese labels).
fn check(
    config: &Arc<KioskConfig>,
    shot: &Shot,
    problems: &mut Vec<String>,
) -> std::collections::BTreeSet<&'static str> {
    let mut found = std::collections::BTreeSet::new();
    with_screen(config.clone(), shot, |app| {
        // Positions are logical; on a panel other than the design size the window is scaled.
        let window = app.window().size();
        let scale = app.window().scale_factor();
        let (w, h) = (window.width as f32 / scale, window.height as f32 / scale);
        let mut seen = std::collections::HashSet::new();
        let buttons = ElementQuery::from_root(app)
            .match_descendants()
            .match_accessible_role(AccessibleRole::Button)
            .find_all();
        // Help is on every screen a resident sees, in every mode (the header's, which says
        // staff are coming once pressed).
        let help = match shot.language {
            Language::En => ["Help", "Staff called"],
            _ => ["求助", "已呼叫工作人员"]
                .map(|zh| domain::words::translation(shot.language, zh).unwrap_or(zh)),
        };
        let residents = !shot.screen.name().starts_with("staff-");
        if residents
            && !buttons.iter().any(|b| {
                b.accessible_label()
                    .is_some_and(|l| help.contains(&l.as_str()))
            })
        {
            problems.push(format!(
                "{} {:?} {}×{}{}: no Help button",
                shot.screen.name(),
                shot.language,
                shot.size.0,
                shot.size.1,
                if shot.elderly { " elderly" } else { "" },
            ));
        }
        for button in buttons {
            let Some(label) = button.accessible_label() else {
                continue;
            };
            let essential = ESSENTIAL.iter().find(|(zh, en)| {
                label
                    == match shot.language {
                        Language::Zh => *zh,
                        Language::ZhHant => {
                            domain::words::translation(Language::ZhHant, zh).unwrap_or(zh)
                        }
                        Language::En => *en,
                    }
            });
            let Some((zh, _)) = essential else {
                continue;
            };
            let pos = button.absolute_position();
            let size = button.size();
            // The query can reach one element along more than one path.
            if !seen.insert((label.to_string(), pos.x as i32, pos.y as i32)) {
                continue;
            }
            found.insert(*zh);
            let inside = pos.x >= -0.5
                && pos.y >= -0.5
                && pos.x + size.width <= w + 0.5
                && pos.y + size.height <= h + 0.5;
            if !inside {
                problems.push(format!(
                    "{} {:?} {}×{}{}: `{label}` at ({:.0}, {:.0}) size {:.0}×{:.0}",
                    shot.screen.name(),
                    shot.language,
                    shot.size.0,
                    shot.size.1,
                    if shot.elderly { " elderly" } else { "" },
                    pos.x,
                    pos.y,
                    size.width,
                    size.height
                ));
            }
        }
        Ok(())
    })
    .unwrap();
    found
}

/// Checks every shot and fails with the list of controls outside the window, and of the
/// screen's own controls (`required`) that it has not got.
fn assert_every_control_inside(shots: impl IntoIterator<Item = Shot>) {
    let config = Arc::new(KioskConfig::builtin());
    let mut problems = Vec::new();
    let mut seen: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for shot in shots {
        let found = check(&config, &shot, &mut problems);
        let name = shot.screen.name();
        match seen.get_mut(name) {
            Some(common) => common.retain(|c| found.contains(c)),
            None => {
                seen.insert(name, found.clone());
            }
        }
        // The header's switches and the screen's own controls, each in every variant.
        let wanted = ["简体", "繁體", "English", "长辈模式"]
            .iter()
            .chain(required(name, shot.elderly));
        for control in wanted {
            if !found.contains(control) {
                problems.push(format!(
                    "{name} {:?} {}×{}{}: no `{control}`",
                    shot.language,
                    shot.size.0,
                    shot.size.1,
                    if shot.elderly { " elderly" } else { "" },
                ));
            }
        }
    }
    if std::env::var_os("LAYOUT_FITS_PRINT").is_some() {
        for (name, common) in &seen {
            println!("{name}: {common:?}");
        }
    }
    assert!(
        problems.is_empty(),
        "outside the window:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_control_a_resident_needs_is_inside_the_window_in_every_variant() {
    let mut shots = Vec::new();
    for screen in ScreenName::ALL {
        for size in [(1080, 1920), (1920, 1080)] {
            for language in Language::ALL {
                for elderly in [false, true] {
                    shots.push(Shot {
                        screen,
                        language,
                        elderly,
                        size,
                    });
                }
            }
        }
    }
    assert_every_control_inside(shots);
}

/// A board with a smaller panel than the design's (a 1280×800 industrial panel) lays the
/// screens out scaled to fit it, as the kiosk does on the board: every control is still on it,
/// in elderly mode (the largest) and both languages.
#[test]
fn on_a_smaller_panel_every_control_is_still_on_the_screen() {
    let shots = ScreenName::ALL.into_iter().flat_map(|screen| {
        [Language::Zh, Language::En].map(|language| Shot {
            screen,
            language,
            elderly: true,
            size: (1280, 800),
        })
    });
    assert_every_control_inside(shots);
}

/// The controls each screen must show, in every variant (their Chinese labels, `ESSENTIAL`'s
/// first column): a screen that loses its Next button fails, whatever the others have.
fn required(screen: &str, elderly: bool) -> &'static [&'static str] {
    match screen {
        // (In elderly mode nobody is asked: the number is a priority one.)
        "priority" if !elderly => &["是，优先叫号", "不是，正常排队"],
        "book-confirm" => &["确认预约", "返回", "首页"],
        "book-done" | "ticket" | "ticket-no-history" => &["完成，回到首页"],
        "book-phone" => &["0", "下一步", "删除", "返回", "首页"],
        "book-service" | "book-slots" | "subtype" | "take-number" => &["返回", "首页"],
        "booking" => &["取消预约", "完成，回到首页", "签到"],
        "booking-cancel" => &[
            "不取消",
            "取消预约",
            "完成，回到首页",
            "是，取消预约",
            "签到",
        ],
        "checkin-too-early" => &["取消预约", "完成，回到首页", "改为现场取号"],
        "consent" => &["我已了解，同意", "返回", "首页"],
        "contact" => &["0", "下一步", "不留电话，匿名反映", "删除", "返回", "首页"],
        "description" | "keyboard-pinyin" => &["0", "下一步", "删除", "空格", "返回", "首页"],
        "high-risk" => &["继续填写我的诉求"],
        "home" | "home-printer-out" | "home-staff-called" => {
            &["取号排队", "查询办理进度", "预约律师/咨询"]
        }
        "keyboard-handwriting" => &["下一步", "删除", "空格", "返回", "首页"],
        "priority" => &[],
        "questions" => &["下一步", "返回", "首页"],
        "result" | "result-high-risk" | "result-printer-out" => &["同时取号排队", "完成，回到首页"],
        "review" => &["提交", "返回", "首页"],
        "scan-held" => &["下一步", "知道了，继续登记", "返回", "首页"],
        "staff-attendance" | "staff-bookings" => &[
            "今日预约",
            "值班签到",
            "待发送",
            "打印机",
            "排队叫号",
            "退出工作人员模式",
        ],
        "staff-locked" | "staff-pin" => &["0", "删除", "取消", "确定"],
        "staff-notice" | "staff-queues" => &[
            "今日预约",
            "值班签到",
            "再叫一次",
            "叫下一位",
            "已办完",
            "待发送",
            "打印机",
            "排队叫号",
            "没来",
            "退出工作人员模式",
        ],
        "staff-outbox" => &[
            "今日预约",
            "值班签到",
            "待发送",
            "打印机",
            "排队叫号",
            "立即重试",
            "退出工作人员模式",
        ],
        "staff-printer" => &[
            "今日预约",
            "值班签到",
            "已换新纸",
            "待发送",
            "打印机",
            "打印测试页",
            "排队叫号",
            "补打上一张",
            "退出工作人员模式",
        ],
        "still-there" => &[
            "0",
            "下一步",
            "删除",
            "我还在，继续",
            "清除，回到首页",
            "空格",
            "返回",
            "首页",
        ],
        "text-entry" => &[
            "0",
            "下一步",
            "删除",
            "取消",
            "完成",
            "空格",
            "返回",
            "首页",
        ],
        "track" | "track-not-ours" => &["0", "删除", "查询", "首页"],
        "track-result" | "track-result-offline" => &["完成，回到首页", "查另一个"],
        "track-result-rating" => &["满意", "基本满意", "不满意", "完成，回到首页", "查另一个"],
        other => panic!("no controls are listed for the screen `{other}`: add it to `required`"),
    }
}
