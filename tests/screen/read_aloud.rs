//! Reading aloud (issue 16, voice): "读给我听" reads the screen's title and choices; a long press
//! on a button reads that button and does not press it; elderly mode reads each new screen by
//! itself. The station's real engine (eSpeak NG) speaks into WAV files in a scratch directory,
//! so the test hears what a resident would, in silence.

use crate::common;

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use devices::speech::{Espeak, Played, Settings, Sink, Speaker, Spoken};
use grievance_kiosk::app::ui::{AppWindow, Screen};
use grievance_kiosk::app::voice::Voice;
use i_slint_backend_testing::{mock_elapsed_time, ElementHandle};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::ComponentHandle;

/// The next thing the voice said, once spoken into its file.
fn heard(spoken: &Receiver<Spoken>) -> String {
    let said = spoken
        .recv_timeout(Duration::from_secs(60))
        .expect("the voice says something");
    assert!(
        matches!(said.outcome, Ok(Played::File(_))),
        "spoken into its file: {:?}",
        said.outcome
    );
    said.text.expect("an utterance, not a sound")
}

/// Presses the button labelled `label` and holds it for `held` before letting go.
fn press_and_hold(app: &AppWindow, label: &str, held: Duration) {
    let button = ElementHandle::find_by_accessible_label(app, label)
        .find(|e| e.is_valid())
        .unwrap_or_else(|| panic!("no `{label}` on screen"));
    let (pos, size) = (button.absolute_position(), button.size());
    let position = slint::LogicalPosition::new(pos.x + size.width / 2.0, pos.y + size.height / 2.0);
    let window = app.window();
    window.dispatch_event(WindowEvent::PointerMoved { position });
    window.dispatch_event(WindowEvent::PointerPressed {
        position,
        button: PointerEventButton::Left,
    });
    mock_elapsed_time(held);
    window.dispatch_event(WindowEvent::PointerReleased {
        position,
        button: PointerEventButton::Left,
    });
}

pub fn the_screen_is_read_aloud_on_request_a_held_button_says_itself_and_elderly_mode_reads_each_screen(
) {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, controller) = kiosk_window(config.clone());
    let (speaker, spoken) = Speaker::start_reporting(
        Arc::new(Espeak::new()),
        Sink::Files {
            dir: dir.path().join("speech"),
        },
        Settings::default(),
    );
    controller.set_voice(Voice::with_speaker(&config, Some(speaker)));

    run_scenario(async move {
        // "读给我听" on Home: the greeting and every way in.
        tap(&app, "读给我听");
        let home = heard(&spoken);
        assert!(home.contains("您好！请选择您要办理的事项"), "{home}");
        for service in &config.catalogue.services {
            assert!(home.contains(&service.name.zh), "{home}");
        }
        assert!(home.contains("取号排队"), "{home}");

        // A long press on a service tile says the tile, and does not open it.
        press_and_hold(&app, "投诉建议", Duration::from_millis(1500));
        let tile = heard(&spoken);
        assert!(tile.starts_with("投诉建议"), "{tile}");
        assert_eq!(screen(&app), Screen::Home, "a held tile is not pressed");
        // A short tap still opens it.
        tap(&app, "投诉建议");
        assert_eq!(screen(&app), Screen::Subtype);
        tap(&app, "首页");

        // Elderly mode reads each new screen by itself: the sub-types of a service.
        tap(&app, "长辈模式");
        tap(&app, "投诉建议");
        let subtypes = heard(&spoken);
        assert!(subtypes.contains("投诉建议：是哪一类事情？"), "{subtypes}");
        assert!(subtypes.contains("拖欠工资"), "{subtypes}");
        tap(&app, "拖欠工资");
        let questions = heard(&spoken);
        assert!(questions.contains("有多少人被拖欠？"), "{questions}");
        assert!(questions.contains("30人以上"), "{questions}");

        // Nothing the resident typed is read out: the phone on the contact step.
        tap(&app, "下一步");
        let description = heard(&spoken);
        assert!(description.contains("想补充说明吗"), "{description}");
        tap(&app, "不写了，下一步");
        let contact = heard(&spoken);
        assert!(contact.contains("方便工作人员联系您"), "{contact}");
        type_on_keyboard(&app, "13800138000");
        tap(&app, "读给我听");
        let again = heard(&spoken);
        assert!(again.contains("方便工作人员联系您"), "{again}");
        assert!(!again.contains("138"), "{again}");
        assert!(
            std::fs::read_dir(dir.path().join("speech"))
                .unwrap()
                .count()
                >= 6,
            "each utterance is a file"
        );
    });
}
