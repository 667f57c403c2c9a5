//! "Track my case" on the touchscreen, by taps, against the real hub on a loopback port: a
//! case filed at this kiosk reaches the hub through the kiosk's own outbox task, a department
//! takes it on with a date, and the resident taps the code from the slip on the code keypad: it
//! shows grouped 4-4-4-4-1 as it is typed, a wrong check character says so and searches
//! nothing, and the right one starts the search by itself. The result says what the tracking
//! page says (service, department, expected date), with the date in words in each language.
//! With the hub gone, the same lookup shows the last known state and says so.
//!
//! And the keypad itself, in portrait and landscape, normal and elderly, and on a 1280×800
//! panel: only the characters a code can contain, every key at least a touch target and inside
//! the window, and no button of the result under a key or Search, so that a second tap just
//! after the search started by itself lands on nothing.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use domain::{Answer, CaseDraft};
use grievance_kiosk::app::ui::{Api, AppWindow, ScanProblem, Screen};
use hub::{self, HubConfig, Secret};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use slint::platform::{Key, WindowEvent};
use slint::{ComponentHandle, SharedString};
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::Kiosk;
use station::store::Store;
use station::test_support::noise_complaint;

const STATION: &str = "station-a";
const STATION_TOKEN: &str = "token-of-station-a-0001";
const DEPARTMENT_TOKEN: &str = "token-of-housing-dept-03";

/// What a tracking code can contain: the digits and Crockford's letters.
const CODE_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Taps `code` on the code keypad, one key per character.
fn tap_code(app: &AppWindow, code: &str) {
    for c in code.chars() {
        tap(app, &c.to_string());
    }
}

/// The buttons on screen labelled `label`.
fn buttons(app: &AppWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(app, label)
        .filter(|e| e.is_valid() && e.accessible_role() == Some(AccessibleRole::Button))
        .collect()
}

/// The keys of the keyboards and keypads on screen, by label, each once (the query can reach
/// one element along more than one path).
fn keys(app: &AppWindow) -> Vec<(String, ElementHandle)> {
    let mut seen = BTreeSet::new();
    ElementQuery::from_root(app)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
        .into_iter()
        .filter(|e| e.is_valid() && e.type_name().as_deref() == Some("Key"))
        .map(|e| (e.accessible_label().unwrap_or_default().to_string(), e))
        .filter(|(label, e)| {
            let (x, y, _, _) = rect(e);
            seen.insert((label.clone(), x as i32, y as i32))
        })
        .collect()
}

/// A keyboard-wedge scanner typing `text` and Enter (a scanner sends the keys a keyboard does).
fn wedge_types(app: &AppWindow, text: &str) {
    let keys = text.chars().map(|c| SharedString::from(c.to_string()));
    for key in keys.chain([Key::Return.into()]) {
        app.window()
            .dispatch_event(WindowEvent::KeyPressed { text: key.clone() });
        app.window()
            .dispatch_event(WindowEvent::KeyReleased { text: key });
    }
}

/// Where an element lies: x, y, width, height (logical pixels).
fn rect(e: &ElementHandle) -> (f32, f32, f32, f32) {
    let (pos, size) = (e.absolute_position(), e.size());
    (pos.x, pos.y, size.width, size.height)
}

/// The track check's sentence.
fn check(app: &AppWindow) -> String {
    value_of(app, "查询码检查").unwrap_or_default()
}

/// A hub on a runtime of its own (as on another machine), with the station and the housing
/// department, and a kiosk's configuration pointing at it, with its data in `kiosk_dir`.
fn hub_and_kiosk(
    hub_dir: &std::path::Path,
    kiosk_dir: &std::path::Path,
) -> (
    tokio::runtime::Runtime,
    hub::RunningHub,
    String,
    Arc<KioskConfig>,
) {
    let hub_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hub = hub_runtime.block_on(async {
        let mut config = HubConfig::new(hub_dir).with_station(STATION, STATION_TOKEN);
        config.department_tokens = vec![("housing".into(), Secret::new(DEPARTMENT_TOKEN))];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        hub::start(config, listener).await.unwrap()
    });
    let base = hub.base_url();
    let mut config = KioskConfig::builtin();
    config.data_dir = kiosk_dir.to_owned();
    config.station.id = STATION.into();
    config.upstream.url = Some(base.clone());
    config.upstream.kind = UpstreamKind::Native;
    config.upstream.token = Some(STATION_TOKEN.into());
    config.upstream.tracking_base_url = base.clone();
    (hub_runtime, hub, base, Arc::new(config))
}

pub fn a_resident_taps_the_code_and_the_search_starts_by_itself() {
    let hub_dir = tempfile::tempdir().unwrap();
    let kiosk_dir = tempfile::tempdir().unwrap();
    let (hub_runtime, hub, base, config) = hub_and_kiosk(hub_dir.path(), kiosk_dir.path());

    // A case filed earlier at this kiosk (the intake by taps has its own test).
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&CaseDraft {
            service: "complaint".into(),
            subtype: Some("noise".into()),
            answers: vec![Answer {
                question: "source".into(),
                value: "renovation".into(),
            }],
            description: "楼上装修太吵".into(),
            phone: "13800138000".into(),
            consent_version: Some(config.consent.version.clone()),
            ..CaseDraft::default()
        })
        .unwrap();
    let token = filed.case.token.clone();
    let code = token.as_str().to_owned();
    let grouped = token.grouped();

    let data = kiosk_dir.path().to_owned();
    let (app, _controller) = kiosk_window(config.clone());
    let mut hub = Some(hub);
    run_scenario(async move {
        let api = app.global::<Api>();
        // The kiosk's outbox task delivers it on its own.
        until(
            || {
                Store::open(&data)
                    .unwrap()
                    .outbox_counts()
                    .unwrap()
                    .delivered
                    == 1
            },
            "the outbox to deliver the case",
        )
        .await;
        // The housing department takes it on, to be done by Tuesday 9 December 2031 (noon UTC:
        // the same day wherever the test runs, from UTC−11 to UTC+11).
        let taken_on = hub_runtime.block_on(async {
            // (Straight to the loopback hub, whatever HTTP_PROXY this machine has.)
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .post(format!("{base}/api/v1/departments/cases/{code}/events"))
                .bearer_auth(DEPARTMENT_TOKEN)
                .json(&serde_json::json!({
                    "state": "in_progress", "department": "区住建局",
                    "note": "已协调施工方调整时间", "expected_at": "2031-12-09T12:00:00Z"
                }))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(taken_on, 201);

        tap(&app, "查询办理进度");
        assert_eq!(screen(&app), Screen::Track);
        assert_eq!(check(&app), "查询码在凭条上，共 17 位字母和数字。");

        // The keypad has every character a code can contain, and nothing else: no I, L, O or
        // U (a code never has them), no lower case.
        for c in CODE_ALPHABET.chars() {
            assert_eq!(buttons(&app, &c.to_string()).len(), 1, "the key {c}");
        }
        for c in "ILOU".chars().chain('a'..='z') {
            assert!(
                buttons(&app, &c.to_string()).is_empty(),
                "{c} is no character of a code, yet it has a key"
            );
        }

        // The code shows grouped as it is typed; the state keeps the characters alone.
        tap_code(&app, &code[..6]);
        assert_eq!(value_of(&app, "查询码").as_deref(), Some(&grouped[..7]));
        assert_eq!(api.get_track_code(), &code[..6]);
        assert_eq!(check(&app), "还差 11 位。");
        tap_code(&app, &code[6..16]);
        assert_eq!(value_of(&app, "查询码").as_deref(), Some(&grouped[..19]));
        assert_eq!(check(&app), "还差 1 位。");

        // A wrong check character says so at once, and nothing is looked up.
        let last = &code[16..];
        let wrong = if last == "0" { "1" } else { "0" };
        tap(&app, wrong);
        assert_eq!(check(&app), "查询码好像有一位输错了，请对照凭条检查一下。");
        assert!(!api.get_busy(), "a wrong code starts no search");
        assert_eq!(screen(&app), Screen::Track);
        assert_eq!(
            buttons(&app, "查询")[0].accessible_enabled(),
            Some(false),
            "Search waits for a right code"
        );
        // The code is whole: a further character is not taken.
        tap(&app, "7");
        assert_eq!(api.get_track_code().len(), 17);
        assert_eq!(
            value_of(&app, "查询码"),
            Some(format!("{}-{wrong}", &grouped[..19]))
        );

        // Delete, and the right character: the search starts by itself.
        tap(&app, "删除");
        assert_eq!(check(&app), "还差 1 位。");
        tap(&app, last);
        assert!(api.get_busy(), "the search started without a press");
        assert_eq!(value_of(&app, "查询码").as_deref(), Some(grouped.as_str()));
        // Search is there for a resident who presses it anyway, and waits.
        let search = &buttons(&app, "查询")[0];
        assert_eq!(search.accessible_enabled(), Some(false));
        search.invoke_accessible_default_action();
        until(
            || screen(&app) == Screen::TrackResult,
            "the lookup to answer",
        )
        .await;

        // What the tracking page says: where it stands, the service, who handles it and by
        // when, in words.
        assert_eq!(value_of(&app, "办理状态").as_deref(), Some("正在办理"));
        assert_eq!(
            value_of(&app, "事项").as_deref(),
            Some("投诉建议 · 噪音扰民")
        );
        assert_eq!(value_of(&app, "承办部门").as_deref(), Some("区住建局"));
        assert_eq!(
            value_of(&app, "预计办结").as_deref(),
            Some("12月9日（周二）")
        );
        assert!(is_on_screen(&app, "已协调施工方调整时间"), "the note shows");
        assert!(
            !is_on_screen(&app, "楼上装修太吵"),
            "no description on screen"
        );
        // In the resident's language.
        tap(&app, "English");
        assert_eq!(value_of(&app, "Expected by").as_deref(), Some("Tue 9 Dec"));
        assert_eq!(value_of(&app, "Department").as_deref(), Some("区住建局"));
        assert_eq!(
            value_of(&app, "Service").as_deref(),
            Some("Complaints · Noise")
        );
        tap(&app, "繁體");
        assert_eq!(
            value_of(&app, "預計辦結").as_deref(),
            Some("12月9日（週二）")
        );
        tap(&app, "简体");

        // The hub goes away: the same lookup shows what was last known, and says so.
        hub_runtime
            .block_on(hub.take().unwrap().shutdown())
            .unwrap();
        tap(&app, "查另一个");
        assert_eq!(screen(&app), Screen::Track);
        assert_eq!(api.get_track_code(), "");
        assert_eq!(value_of(&app, "查询码").unwrap_or_default(), "");
        tap_code(&app, &code);
        until(
            || screen(&app) == Screen::TrackResult,
            "the offline lookup to answer",
        )
        .await;
        assert_eq!(value_of(&app, "办理状态").as_deref(), Some("正在办理"));
        assert_eq!(value_of(&app, "承办部门").as_deref(), Some("区住建局"));
        assert!(
            value_of(&app, "状态说明").is_some_and(|v| v.contains("现在连不上")),
            "{:?}",
            value_of(&app, "状态说明")
        );
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
    });
}

/// A resolved case looked up at the kiosk offers the citizen's rating (DISTRICT.md §7): the
/// resident taps 满意, the screen thanks them, and the hub has the rating.
pub fn a_resolved_case_is_rated_on_the_track_screen() {
    let hub_dir = tempfile::tempdir().unwrap();
    let kiosk_dir = tempfile::tempdir().unwrap();
    let (hub_runtime, hub, base, config) = hub_and_kiosk(hub_dir.path(), kiosk_dir.path());
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&noise_complaint("楼上装修太吵"))
        .unwrap();
    let code = filed.case.token.as_str().to_owned();
    let data = kiosk_dir.path().to_owned();
    let (app, _controller) = kiosk_window(config.clone());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    run_scenario(async move {
        until(
            || {
                Store::open(&data)
                    .unwrap()
                    .outbox_counts()
                    .unwrap()
                    .delivered
                    == 1
            },
            "the outbox to deliver the case",
        )
        .await;
        for update in [
            serde_json::json!({"state": "in_progress", "department": "区住建局"}),
            serde_json::json!({"state": "resolved", "note": "施工时间已调整到白天"}),
        ] {
            let status = hub_runtime.block_on(async {
                client
                    .post(format!("{base}/api/v1/departments/cases/{code}/events"))
                    .bearer_auth(DEPARTMENT_TOKEN)
                    .json(&update)
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
            assert_eq!(status, 201);
        }
        tap(&app, "查询办理进度");
        tap_code(&app, &code);
        until(
            || screen(&app) == Screen::TrackResult,
            "the lookup to answer",
        )
        .await;
        assert_eq!(value_of(&app, "办理状态").as_deref(), Some("已办结"));
        assert!(
            is_on_screen(&app, "对办理结果满意吗？"),
            "the rating is offered"
        );
        tap(&app, "满意");
        until(
            || is_on_screen(&app, "您的评价：满意。谢谢！"),
            "the rating to be recorded",
        )
        .await;
        let offer: serde_json::Value = hub_runtime.block_on(async {
            client
                .get(format!("{base}/api/v1/cases/{code}/rating"))
                .bearer_auth(STATION_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        assert_eq!(offer["rating"], "satisfied", "{offer}");
        assert_eq!(offer["may_rate"], true, "it may still be changed: {offer}");
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
        drop(hub);
    });
}

/// The variants a kiosk may show Track in: window size, elderly mode, English (the longest
/// words) or Chinese.
const VARIANTS: &[((u32, u32), bool, bool)] = &[
    ((1080, 1920), false, false),
    ((1080, 1920), true, false),
    ((1080, 1920), true, true),
    ((1920, 1080), false, false),
    ((1920, 1080), true, false),
    ((1920, 1080), true, true),
    // A smaller panel, scaled to fit as on the board.
    ((1280, 800), true, true),
];

pub fn the_code_keypad_fits_every_variant_and_nothing_of_the_result_lies_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&noise_complaint("楼上装修，每天到晚上十一点"))
        .expect("the case is filed");
    let code = filed.case.token.as_str().to_owned();
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let api = app.global::<Api>();
        let kiosk = Kiosk::open(config.clone()).unwrap();
        until(
            || kiosk.outbox_counts().unwrap().delivered == 1,
            "the case to reach the in-process hub",
        )
        .await;
        for &((width, height), elderly, english) in VARIANTS {
            let variant = format!(
                "{width}×{height}{}{}",
                if elderly { " elderly" } else { "" },
                if english { " English" } else { "" }
            );
            let say = |zh: &'static str, en: &'static str| if english { en } else { zh };
            // A panel smaller than the design is scaled to fit (`view::fit_to_panel`), so the
            // screen is laid out at the panel's size over that scale. (The testing backend takes
            // that size itself: its windows have no scale of their own.)
            let scale = grievance_kiosk::app::view::panel_scale(width, height);
            let (w, h) = (
                (width as f32 / scale).round(),
                (height as f32 / scale).round(),
            );
            app.window()
                .set_size(slint::PhysicalSize::new(w as u32, h as u32));
            tap(&app, say("简体", "English"));
            if api.get_elderly() != elderly {
                tap(&app, say("长辈模式", "Large text"));
            }
            assert_eq!(api.get_elderly(), elderly);
            tap(&app, say("查询办理进度", "Track my case"));
            assert_eq!(screen(&app), Screen::Track);
            // The longest the screen gets: a keyboard-wedge scanner read something else, and
            // the message saying so takes two lines.
            wedge_types(&app, "https://pay.example.com/qr/2810aa5b");
            assert_eq!(api.get_track_scan_problem(), ScanProblem::NotOurs);

            // Only the code's characters, Delete and Clear; each at least a touch target and
            // wholly inside the window.
            let expected_keys: BTreeSet<String> = CODE_ALPHABET
                .chars()
                .map(String::from)
                .chain([
                    say("删除", "Delete").into(),
                    say("清空", "Clear all").into(),
                ])
                .collect();
            let touch = 100.0 * if elderly { 1.35 } else { 1.0 };
            let on_screen = keys(&app);
            let labels: BTreeSet<String> = on_screen.iter().map(|(l, _)| l.clone()).collect();
            assert_eq!(labels, expected_keys, "{variant}");
            assert_eq!(on_screen.len(), expected_keys.len(), "{variant}");
            let mut under_a_finger = Vec::new();
            for (label, key) in &on_screen {
                let (x, y, kw, kh) = rect(key);
                assert!(
                    kw >= touch - 0.5 && kh >= touch - 0.5,
                    "{variant}: key {label} is {kw}×{kh}, smaller than {touch}"
                );
                assert!(
                    x >= -0.5 && y >= -0.5 && x + kw <= w + 0.5 && y + kh <= h + 0.5,
                    "{variant}: key {label} at ({x}, {y}) {kw}×{kh} is not inside {w}×{h}"
                );
                under_a_finger.push((label.clone(), x + kw / 2.0, y + kh / 2.0));
            }
            let search = rect(&buttons(&app, say("查询", "Search"))[0]);
            under_a_finger.push((
                "Search".to_owned(),
                search.0 + search.2 / 2.0,
                search.1 + search.3 / 2.0,
            ));

            // The last key starts the search; a second tap anywhere a key or Search was finds
            // no button of the result (but the bar that scrolls the steps).
            tap_code(&app, &code);
            until(
                || screen(&app) == Screen::TrackResult,
                "the lookup to answer",
            )
            .await;
            let scroll_bar = say("下面还有，点这里往下看", "More below: tap here to see it");
            for button in ElementQuery::from_root(&app)
                .match_descendants()
                .match_accessible_role(AccessibleRole::Button)
                .find_all()
                .into_iter()
                .filter(|e| e.is_valid())
            {
                let label = button.accessible_label().unwrap_or_default().to_string();
                if label == scroll_bar {
                    continue;
                }
                let (x, y, bw, bh) = rect(&button);
                for (what, cx, cy) in &under_a_finger {
                    assert!(
                        !(*cx >= x && *cx <= x + bw && *cy >= y && *cy <= y + bh),
                        "{variant}: `{label}` of the result lies under Track's `{what}`"
                    );
                }
            }
            tap(&app, say("完成，回到首页", "Done, back to start"));
            assert_eq!(screen(&app), Screen::Home);
        }
    });
}
