//! A resident scans a slip: with the serial scanner (a pseudo-terminal the kiosk opens by name,
//! as `KIOSK_SCANNER_PORT` would give it), from Home, the case's progress opens; a scan of
//! something else, or of garbage that is not even text, says so on "Track my case"; a
//! keyboard-wedge scanner's key events type a code and Enter on Track (without Enter, Search
//! looks it up), and work from Home too; the code keypad still types on Track and looks the
//! code up by itself; and a scan in the middle of an intake keeps
//! every answer and shows a notice instead. Real UI (testing backend), real backend, a case
//! filed through the kiosk core first and delivered to the in-process hub.

use crate::common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use domain::qr_payload;
use grievance_kiosk::app::backend::Backend;
use grievance_kiosk::app::controller::Controller;
use grievance_kiosk::app::ui::{Api, AppWindow, Freshness, Screen};
use slint::ComponentHandle;
use station::kiosk::Kiosk;
use station::test_support::noise_complaint;

const NOT_OURS: &str = "扫到的不是查询码。请扫凭条上的二维码，或输入凭条上的查询码。";
const UNREADABLE: &str = "没能读出扫到的内容。请把凭条放平再扫一次，或输入查询码。";
const HELD: &str =
    "刚才扫了码，但您正在登记诉求。已填写的内容都还在。要查询进度，请先提交这次登记，或回到首页后再扫码。";

pub fn a_scanned_slip_opens_its_progress_from_home_and_a_wedge_scanner_types_on_track() {
    let dir = tempfile::tempdir().unwrap();
    // The scanner: the master side of a pseudo-terminal; the kiosk opens the slave by a stable
    // name, as udev names a real one.
    let link = dir.path().join("scanner");
    let devices::emulator::PseudoTerminal {
        master: mut scanner,
        slave: _slave,
        slave_path,
    } = devices::emulator::pseudo_terminal().expect("a pseudo-terminal");
    std::os::unix::fs::symlink(&slave_path, &link).unwrap();
    let mut config = (*config_at_morning(&dir.path().join("data"))).clone();
    config.scanner.port = Some(link.to_string_lossy().into_owned());
    let config = Arc::new(config);

    // A resident filed a case yesterday; it reaches the district when the kiosk starts.
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&noise_complaint("楼上装修，每天到晚上十一点"))
        .expect("the case is filed");
    let token = filed.case.token.clone();
    let slip_qr = qr_payload(&filed.url);

    let app = AppWindow::new().expect("the window opens on the testing backend");
    app.window().set_size(slint::PhysicalSize::new(1080, 1920));
    let backend = Backend::start(config.clone()).expect("the backend starts");
    let controller = Controller::new(&app, config.clone(), backend);
    app.show().expect("the window shows");

    run_scenario(async move {
        let api = app.global::<Api>();
        let kiosk = Kiosk::open(config.clone()).unwrap();
        until(
            || kiosk.outbox_counts().unwrap().delivered == 1,
            "the case to reach the in-process hub",
        )
        .await;
        until(
            || controller.with_state(|s| s.station.scanner == Some(true)),
            "the kiosk to open the scanner's port",
        )
        .await;
        assert_eq!(screen(&app), Screen::Home);

        // The serial scanner reads the slip's QR code (the tracking URL) at Home.
        scanner
            .write_all(format!("{slip_qr}\r\n").as_bytes())
            .unwrap();
        until(
            || screen(&app) == Screen::TrackResult,
            "the scan to open the case's progress",
        )
        .await;
        assert_eq!(api.get_track_result_code(), token.grouped().as_str());
        assert_eq!(api.get_track_freshness(), Freshness::Live);
        assert_eq!(
            value_of(&app, "办理状态").as_deref(),
            Some("已收到，等待受理")
        );
        assert_eq!(api.get_track_service(), "投诉建议 · 噪音扰民");
        // As the tracking page says until the district has: no department, no date yet.
        assert_eq!(value_of(&app, "承办部门").as_deref(), Some("尚未分派"));
        assert_eq!(value_of(&app, "预计办结").as_deref(), Some("尚未确定"));

        // Something that is not a tracking code: Track says so.
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
        scanner
            .write_all(b"https://pay.example.com/qr/2810aa5b\r\n")
            .unwrap();
        until(
            || value_of(&app, "查询码检查").as_deref() == Some(NOT_OURS),
            "Track to say the scan is no tracking code",
        )
        .await;
        assert_eq!(screen(&app), Screen::Track);

        // Bytes that are not text at all: refused with their own sentence, no panic, and the
        // reader goes on.
        scanner.write_all(b"\xff\xfe\xc3(\r\n").unwrap();
        until(
            || value_of(&app, "查询码检查").as_deref() == Some(UNREADABLE),
            "Track to say the scan could not be read",
        )
        .await;
        assert_eq!(screen(&app), Screen::Track);

        // A keyboard-wedge scanner on Track: its key events type into the code field, which
        // has the focus, and Enter looks the code up.
        wedge_types(&app, &token.grouped());
        assert_eq!(api.get_track_code(), token.grouped().as_str());
        until(
            || screen(&app) == Screen::TrackResult,
            "Enter to look the typed code up",
        )
        .await;
        assert_eq!(api.get_track_result_code(), token.grouped().as_str());

        // A wedge scanner's code without its Enter waits for Search, as a typed one would.
        tap(&app, "查另一个");
        assert_eq!(screen(&app), Screen::Track);
        for c in token.as_str().chars() {
            key(&app, c.to_string());
        }
        assert_eq!(
            value_of(&app, "查询码检查").as_deref(),
            Some("查询码正确，请按“查询”。")
        );
        assert_eq!(
            value_of(&app, "查询码").as_deref(),
            Some(token.grouped().as_str())
        );
        tap(&app, "查询");
        until(
            || screen(&app) == Screen::TrackResult,
            "the code typed by the scanner to be looked up on Search",
        )
        .await;

        // The code keypad types on Track too, and its last key looks the code up by itself.
        tap(&app, "查另一个");
        assert_eq!(screen(&app), Screen::Track);
        for c in token.as_str().chars() {
            tap(&app, &c.to_string());
        }
        until(
            || screen(&app) == Screen::TrackResult,
            "the code tapped on the keypad to be looked up",
        )
        .await;
        assert_eq!(api.get_track_result_code(), token.grouped().as_str());

        // A keyboard-wedge scanner at Home, where no field has the focus: the line it types is
        // a scan like the serial scanner's.
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
        wedge_types(&app, &slip_qr);
        until(
            || screen(&app) == Screen::TrackResult,
            "the wedge scan at Home to open the case's progress",
        )
        .await;
        assert_eq!(api.get_track_result_code(), token.grouped().as_str());
        // And a scan of something else typed at Home opens Track saying so.
        tap(&app, "完成，回到首页");
        wedge_types(&app, "WIFI:S:guest;T:WPA;P:12345678;;");
        assert_eq!(screen(&app), Screen::Track);
        assert_eq!(value_of(&app, "查询码检查").as_deref(), Some(NOT_OURS));

        // In the middle of an intake a scan throws nothing away: the notice says what to do.
        tap(&app, "首页");
        tap(&app, "投诉建议");
        tap(&app, "拖欠工资");
        tap(&app, "5千到2万元");
        assert_eq!(screen(&app), Screen::Questions);
        scanner
            .write_all(format!("{}\r\n", token.grouped()).as_bytes())
            .unwrap();
        until(|| api.get_scan_held(), "the notice of the scan set aside").await;
        assert_eq!(value_of(&app, "扫码提示").as_deref(), Some(HELD));
        assert_eq!(
            screen(&app),
            Screen::Questions,
            "the intake stays on screen"
        );
        let amount = || {
            controller.with_state(|s| {
                s.session
                    .intake()
                    .and_then(|i| i.wizard.answer("amount").map(str::to_owned))
            })
        };
        assert_eq!(amount().as_deref(), Some("5k_20k"), "the answer is kept");
        tap(&app, "知道了，继续登记");
        assert!(!api.get_scan_held());
        // The same from a keyboard-wedge scanner on a wizard screen, also after a short text
        // answer's field had the focus and closed.
        controller.open_text_entry("employer");
        assert!(api.get_text_entry_open());
        // Half a second of looking at it (mock time: no timer of the kiosk falls due).
        i_slint_backend_testing::mock_elapsed_time(std::time::Duration::from_millis(500));
        assert!(
            is_on_screen(&app, "取消"),
            "the answer's field is on screen"
        );
        controller.close_text_entry(false);
        assert!(!api.get_text_entry_open());
        wedge_types(&app, &slip_qr);
        assert!(api.get_scan_held(), "the wedge scan is set aside too");
        assert_eq!(screen(&app), Screen::Questions);
        tap(&app, "知道了，继续登记");
        assert_eq!(amount().as_deref(), Some("5k_20k"));
        tap(&app, "下一步");
        assert_eq!(screen(&app), Screen::Description, "the intake goes on");
    });
}
