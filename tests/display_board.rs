//! The now-serving display's board, read from the real database the way the display's reader
//! thread reads it, and rendered with the software renderer: the newest call large, the earlier
//! ones newest first, people waiting per lane, a recall that chimes again, and nothing but ticket
//! numbers and counters (never a service in words: counselling is only its lane letter).

mod common;

use chrono::Utc;
use domain::Language;
use grievance_kiosk::app::display::{read_board, render};
use grievance_kiosk::app::screenshot::install_headless;
use station::kiosk::Kiosk;

#[test]
fn the_board_shows_the_last_call_large_and_nothing_but_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_in(dir.path());
    let mut k = Kiosk::open(config.clone()).unwrap();
    let now = Utc::now();

    let empty = read_board(&k, &config, now).unwrap();
    assert_eq!(empty.current, None);
    assert!(empty.recent.is_empty());

    for service in ["counselling", "counselling", "legal", "complaint"] {
        k.take_ticket(service, false, None, Language::Zh, now)
            .unwrap();
    }
    k.call_next(1, Some("counselling"), now).unwrap();
    k.call_next(2, Some("legal"), now).unwrap();
    let board = read_board(&k, &config, now).unwrap();
    let current = board.current.clone().unwrap();
    assert_eq!((current.label.as_str(), current.counter), ("C001", 2));
    assert_eq!(board.recent.len(), 1);
    assert_eq!(board.recent[0].label, "D001");
    assert_eq!(board.waiting, "A 1   D 1");

    // A recall puts the same number up again and counts as a new call (the chime plays).
    let before = board.last_call_id;
    k.recall(1, now).unwrap();
    let recalled = read_board(&k, &config, now).unwrap();
    assert!(recalled.last_call_id > before);
    assert_eq!(recalled.current.as_ref().unwrap().label, "D001");

    // Nothing on the board names a service.
    let text = format!("{recalled:?}");
    for word in ["心理", "counsel", "法律", "legal", "Counselling"] {
        assert!(!text.contains(word), "{word} in {text}");
    }

    install_headless();
    let (w, h, rgba) = render(&config, &k, (1920, 1080), now).unwrap();
    assert_eq!((w, h), (1920, 1080));
    // The yellow "now calling" panel is there, and the dark ink of the number on it.
    let px = |x: u32, y: u32| {
        let i = ((y * w + x) * 4) as usize;
        (rgba[i], rgba[i + 1], rgba[i + 2])
    };
    let yellow = (0..w)
        .step_by(8)
        .filter(|&x| {
            let (r, g, b) = px(x, h / 2);
            r > 230 && g > 200 && b < 180
        })
        .count();
    assert!(yellow > 50, "the current call's panel is drawn ({yellow})");
}

/// A high-risk case filed at the kiosk calls staff: the board shows a red band saying only that
/// staff are needed at the kiosk (never why, never the code), until staff acknowledge the
/// notice on the staff console.
#[test]
fn a_high_risk_case_calls_staff_on_the_board_until_they_acknowledge_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_in(dir.path());
    let mut k = Kiosk::open(config.clone()).unwrap();
    let now = Utc::now();
    assert!(!read_board(&k, &config, now).unwrap().staff_called);

    let filed = k
        .file_case(&domain::CaseDraft {
            service: "complaint".into(),
            description: "我不想活了".into(),
            anonymous: true,
            consent_version: Some(config.consent.version.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(filed.case.risk.level.as_str(), "high");
    let notices = k.notices().unwrap();
    assert_eq!(notices.len(), 1, "the intake left one notice: {notices:?}");
    assert_eq!(notices[0].kind, "high-risk-case");
    assert_eq!(notices[0].detail, filed.case.token.grouped());
    let board = read_board(&k, &config, now).unwrap();
    assert!(board.staff_called);
    let text = format!("{board:?}");
    assert!(
        !text.contains(filed.case.token.as_str()),
        "no code on the board"
    );

    install_headless();
    let (w, h, rgba) = render(&config, &k, (1920, 1080), now).unwrap();
    let red = (0..w)
        .step_by(8)
        .filter(|&x| {
            let i = (((h - 40) * w + x) * 4) as usize;
            rgba[i] > 180 && rgba[i + 1] < 80 && rgba[i + 2] < 80
        })
        .count();
    assert!(red > 100, "the red band is drawn along the bottom ({red})");

    assert!(k.clear_notice(notices[0].id, now).unwrap());
    assert!(!read_board(&k, &config, now).unwrap().staff_called);
}
