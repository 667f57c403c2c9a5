//! Writing by hand (issue 16): on the description step a resident switches the keyboard to the
//! handwriting pad, writes 工 and 资 with a finger, stroke by stroke, picks each from the bar,
//! and files the case; the description stored is 工资. The strokes are Make Me a Hanzi's medians
//! (crates/handwriting/testdata/strokes.json) drawn onto the pad as pointer events, recognized by
//! the real model (Debian's tegaki-zinnia-simplified-chinese) loaded off the UI thread.
//!
//! Then the taps a resident needs for 老板拖欠工资三个月 (the sentence), by pinyin and by
//! handwriting, each counted by playing it on the screen: the figures BENCHMARKS.md quotes.

use crate::common;

use std::collections::HashMap;

use common::*;
use grievance_kiosk::app::ui::{Api, AppWindow, Screen};
use i_slint_backend_testing::ElementHandle;
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, Model};

type Strokes = Vec<Vec<(f32, f32)>>;

/// The test characters' strokes, in a 1024 × 1024 box, y downward.
fn strokes() -> HashMap<String, Strokes> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/handwriting/testdata/strokes.json"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["characters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let character = entry[0].as_str().unwrap().to_owned();
            let strokes = entry[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|stroke| {
                    stroke
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
                        .collect()
                })
                .collect();
            (character, strokes)
        })
        .collect()
}

/// Draws `strokes` on the pad with a finger: each stroke pressed, moved along, lifted. Returns
/// how many strokes were drawn.
fn write_on_pad(app: &AppWindow, strokes: &Strokes) -> usize {
    let pad = ElementHandle::find_by_accessible_label(app, "手写板")
        .find(|e| e.is_valid())
        .expect("the pad is on screen");
    let (origin, size) = (pad.absolute_position(), pad.size());
    let scale = size.width.min(size.height) / 1024.0 * 0.9;
    let left = origin.x + (size.width - 1024.0 * scale) / 2.0;
    let top = origin.y + (size.height - 1024.0 * scale) / 2.0;
    let at = |(x, y): (f32, f32)| LogicalPosition::new(left + x * scale, top + y * scale);
    let window = app.window();
    for stroke in strokes {
        let first = at(stroke[0]);
        window.dispatch_event(WindowEvent::PointerMoved { position: first });
        window.dispatch_event(WindowEvent::PointerPressed {
            position: first,
            button: PointerEventButton::Left,
        });
        // A finger moves in small steps: the medians' points, and points between them.
        for pair in stroke.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            for step in 1..=4 {
                let t = step as f32 / 4.0;
                let position = at((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t));
                window.dispatch_event(WindowEvent::PointerMoved { position });
            }
        }
        let last = at(*stroke.last().unwrap());
        window.dispatch_event(WindowEvent::PointerReleased {
            position: last,
            button: PointerEventButton::Left,
        });
    }
    strokes.len()
}

/// The words in the candidates' bar, in order.
fn bar(app: &AppWindow) -> Vec<String> {
    app.global::<Api>()
        .get_ime_candidates()
        .iter()
        .map(|w| w.to_string())
        .collect()
}

/// Taps on the way to `text`: keys, candidates and page turns; and strokes drawn.
#[derive(Debug, Default)]
struct Effort {
    taps: usize,
    strokes: usize,
}

/// Writes `text` after what is there by hand: a word the bar predicts when one starts the rest,
/// else the next character drawn and picked (turning pages when needed).
fn write_by_hand(app: &AppWindow, text: &str, strokes: &HashMap<String, Strokes>) -> Effort {
    let mut effort = Effort::default();
    let start = app.global::<Api>().get_description().to_string();
    loop {
        let written = app.global::<Api>().get_description().to_string();
        let rest = written
            .strip_prefix(&start)
            .and_then(|w| text.strip_prefix(w))
            .expect("only the sentence is written");
        let Some(next) = rest.chars().next() else {
            return effort;
        };
        // A predicted word that starts the rest, the longest.
        if let Some(word) = bar(app)
            .into_iter()
            .filter(|w| rest.starts_with(w.as_str()))
            .max_by_key(|w| w.chars().count())
        {
            tap(app, &word);
            effort.taps += 1;
            continue;
        }
        let character = next.to_string();
        let ink = strokes
            .get(&character)
            .unwrap_or_else(|| panic!("no strokes for {character} in the test data"));
        effort.strokes += write_on_pad(app, ink);
        let mut pages = 0;
        while !bar(app).contains(&character) {
            assert!(
                app.global::<Api>().get_ime_has_next() && pages < 3,
                "{character} is not among the candidates: {:?}",
                bar(app)
            );
            tap(app, "下一页");
            effort.taps += 1;
            pages += 1;
        }
        tap(app, &character);
        effort.taps += 1;
    }
}

/// Home → a complaint about something else → the description step.
fn to_the_description(app: &AppWindow) {
    tap(app, "投诉建议");
    tap(app, "其他问题");
    assert_eq!(screen(app), Screen::Description);
}

pub fn a_resident_writes_by_hand_on_the_pad_and_files_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config);
    let data = dir.path().to_owned();
    let strokes = strokes();

    run_scenario(async move {
        let api = app.global::<Api>();
        to_the_description(&app);
        until(
            || api.get_ime_ready() && is_on_screen(&app, "手写"),
            "the dictionary and the handwriting model to load",
        )
        .await;
        tap(&app, "手写");
        assert!(api.get_ime_writing(), "the pad is up");
        assert!(!is_on_screen(&app, "q"), "instead of the letters");

        // 工, then 资: each drawn stroke by stroke, then picked from the bar.
        for character in ["工", "资"] {
            write_on_pad(&app, &strokes[character]);
            assert!(
                !api.get_ime_ink().is_empty(),
                "the ink shows as it is drawn"
            );
            let offered = bar(&app);
            let place = offered.iter().position(|w| w == character);
            assert!(
                place.is_some_and(|i| i < 5),
                "{character} in the first five: {offered:?}"
            );
            tap(&app, character);
            assert!(api.get_ime_ink().is_empty(), "a pick wipes the pad");
        }
        assert_eq!(api.get_description(), "工资");
        // After a pick the bar predicts what may follow, as it does for pinyin.
        assert!(!bar(&app).is_empty(), "words predicted after 工资");

        // "重写" wipes a character begun; Delete takes back its last stroke first.
        write_on_pad(&app, &strokes["三"]);
        tap(&app, "删除");
        assert_eq!(
            api.get_description(),
            "工资",
            "Delete took a stroke, not text"
        );
        tap(&app, "重写");
        assert!(api.get_ime_ink().is_empty());
        tap(&app, "手写，点一下改用键盘");
        assert!(is_on_screen(&app, "q"), "the letters are back");

        let stored = submit_anonymously_and_read_back(&app, &data).await;
        assert_eq!(stored.as_deref(), Some("工资"));
        // At Home nobody writes: the models (tens of megabytes) are let go.
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
        assert!(
            !api.get_ime_hand_ready(),
            "the handwriting models are dropped at Home"
        );
    });
}

/// The sentence by pinyin and by hand, counted tap by tap (and stroke by stroke).
pub fn taps_for_a_sentence_by_pinyin_and_by_hand() {
    const SENTENCE: &str = "老板拖欠工资三个月";
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config);
    let strokes = strokes();

    run_scenario(async move {
        let api = app.global::<Api>();
        to_the_description(&app);
        until(
            || api.get_ime_ready() && api.get_ime_hand_ready(),
            "the dictionary and the handwriting model",
        )
        .await;

        // Pinyin: the initials of the sentence, then the longest candidate that starts what is
        // left, until it is all written.
        let mut pinyin = 0;
        for key in "lbtqgzsgy".chars() {
            tap(&app, &key.to_string());
            pinyin += 1;
        }
        while api.get_description() != SENTENCE {
            let written = api.get_description().to_string();
            let rest = SENTENCE.strip_prefix(written.as_str()).expect("a prefix");
            let word = bar(&app)
                .into_iter()
                .filter(|w| rest.starts_with(w.as_str()))
                .max_by_key(|w| w.chars().count())
                .unwrap_or_else(|| panic!("nothing in the bar starts {rest}: {:?}", bar(&app)));
            tap(&app, &word);
            pinyin += 1;
        }
        println!("{SENTENCE} by pinyin: {pinyin} taps");
        assert!(
            pinyin <= 20,
            "{pinyin} taps by pinyin; the goal is at most 20"
        );

        // By hand: the field emptied, the pad up, then character by character.
        api.set_description("".into());
        tap(&app, "手写");
        let by_hand = write_by_hand(&app, SENTENCE, &strokes);
        assert_eq!(api.get_description(), SENTENCE);
        println!(
            "{SENTENCE} by hand: {} taps (and the 手写 key), {} strokes",
            by_hand.taps, by_hand.strokes
        );
        assert!(
            by_hand.taps < 20,
            "{} taps by hand; the goal is at most 20",
            by_hand.taps + 1
        );
    });
}
