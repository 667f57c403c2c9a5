//! The printer is out of paper before a resident starts: Home says so, the resident still files
//! and sees the code and QR with a plain sentence about the slip, and when staff put in paper
//! the slip prints and the screen follows it. Real UI, real backend, the printer emulator on a
//! pseudo-terminal.

use crate::common;

use std::sync::Arc;

use common::*;
use devices::emulator::{Emulator, Script};
use grievance_kiosk::app::ui::{Api, PrintState, Screen};
use slint::ComponentHandle;

pub fn with_the_printer_out_of_paper_the_resident_still_files_and_sees_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("printer");
    let printer = Emulator::start(Script::PaperOut, 576, false, Some(&link)).unwrap();
    let mut config = (*config_at_morning(&dir.path().join("data"))).clone();
    config.printer.port = Some(link.to_string_lossy().into_owned());
    config.printer.status_poll_s = 1;
    let (app, _controller) = kiosk_window(Arc::new(config));

    run_scenario(async move {
        let api = app.global::<Api>();
        until(
            || !api.get_printer_ready(),
            "the backend to find the printer out of paper",
        )
        .await;
        assert!(is_on_screen(
            &app,
            "打印机暂时不能出凭条。您仍然可以登记，查询码会显示在屏幕上，可以用手机扫码保存。"
        ));

        tap(&app, "投诉建议");
        tap(&app, "意见建议");
        tap(&app, "不写了，下一步");
        tap(&app, "不留电话，匿名反映");
        tap(&app, "我已了解，同意");
        tap(&app, "提交");
        until(|| screen(&app) == Screen::Result, "the case to be filed").await;
        assert!(!api.get_code().is_empty(), "the code is on the screen");
        until(
            || api.get_print_state() == PrintState::Unavailable,
            "the slip to be held",
        )
        .await;
        assert_eq!(
            value_of(&app, "凭条").as_deref(),
            Some("打印机暂时不能出纸。请用手机扫描二维码，或把查询码记下来。")
        );
        assert!(printer.jobs().is_empty());

        // Staff put in paper: the printer recovers, the waiting slip prints, the screen says so.
        printer.set_script(Script::Ready);
        until(
            || api.get_print_state() == PrintState::Printed,
            "the slip to print after the refill",
        )
        .await;
        assert_eq!(
            value_of(&app, "凭条").as_deref(),
            Some("凭条已打印，请从下方出纸口取走。")
        );
        until(
            || api.get_printer_ready(),
            "Home to stop warning about the printer",
        )
        .await;
        assert_eq!(printer.jobs().len(), 1);
    });
}
