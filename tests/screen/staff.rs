//! Staff mode on the touchscreen, by taps, against the real kiosk on a temporary data
//! directory: five taps on the station's name at Home open the PIN pad, the PIN set with
//! `Kiosk::set_pin` is typed on it, and at counter 1 staff call the next resident and mark them
//! served. The ticket is `served` in the database, each action is in the audit log, and leaving
//! staff mode returns Home. A notice the kiosk left (a damaged database moved aside) shows on the
//! console until staff tap 知道了.

use crate::common;

use common::*;
use domain::Language;
use grievance_kiosk::app::ui::{Api, Screen};
use slint::ComponentHandle;
use station::kiosk::Kiosk;

const PIN: &str = "240517";

pub fn staff_sign_in_by_the_gesture_call_the_next_resident_and_mark_them_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    {
        let mut kiosk = Kiosk::open(config.clone()).unwrap();
        kiosk.set_pin(PIN, config.clock.now()).unwrap();
        kiosk
            .take_ticket("legal", false, None, Language::Zh, config.clock.now())
            .unwrap();
        // As a start-up that moved a damaged database aside leaves it.
        kiosk
            .store()
            .add_notice(
                "database-moved-aside",
                "kiosk.sqlite3.damaged-20261126T080000Z: quick_check: page 7 is never used",
                config.clock.now(),
            )
            .unwrap();
    }
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let api = app.global::<Api>();
        // The gesture works in elderly mode too (whose header also carries Help).
        tap(&app, "长辈模式");
        // Four taps are not enough; the fifth opens the pad.
        for _ in 0..4 {
            tap(&app, "工作人员入口");
        }
        assert_eq!(screen(&app), Screen::Home);
        tap(&app, "工作人员入口");
        assert_eq!(screen(&app), Screen::StaffPin);
        type_on_keyboard(&app, PIN);
        assert_eq!(value_of(&app, "已输入位数").as_deref(), Some("6"));
        tap(&app, "确定");
        until(|| screen(&app) == Screen::Staff, "the PIN to be accepted").await;
        until(
            || value_of(&app, "C 队").is_some_and(|v| v.contains("1 人等候")),
            "the console to show the queues",
        )
        .await;

        // The notice is on the console until staff acknowledge it.
        let notice = value_of(&app, "提示").expect("the console shows the notice");
        assert!(notice.contains("数据库损坏"), "{notice}");
        tap(&app, "知道了");
        until(|| value_of(&app, "提示").is_none(), "the notice to go").await;
        assert!(Kiosk::open(config.clone())
            .unwrap()
            .notices()
            .unwrap()
            .is_empty());

        tap(&app, "叫下一位");
        until(
            || value_of(&app, "本窗口的号").as_deref() == Some("C001"),
            "C001 to be called to counter 1",
        )
        .await;
        assert_eq!(api.get_staff_counter(), 1);
        let kiosk = Kiosk::open(config.clone()).unwrap();
        let called = kiosk.find_ticket("C001", config.clock.now()).unwrap();
        assert_eq!(called.state, protocol::TicketState::Called);
        assert_eq!(called.counter, Some(1));

        tap(&app, "已办完");
        until(
            || {
                kiosk.find_ticket("C001", config.clock.now()).unwrap().state
                    == protocol::TicketState::Served
            },
            "C001 to be served",
        )
        .await;
        until(
            || value_of(&app, "操作结果").as_deref() == Some("C001 已办完"),
            "the console to say so",
        )
        .await;
        until(
            || value_of(&app, "本窗口的号").as_deref() == Some(""),
            "the counter to be free",
        )
        .await;

        tap(&app, "退出工作人员模式");
        assert_eq!(screen(&app), Screen::Home);
        until(
            || {
                kiosk
                    .audit_log(20)
                    .unwrap()
                    .iter()
                    .any(|e| e.action == "sign-out")
            },
            "leaving staff mode to be audited",
        )
        .await;
        let actions: Vec<String> = kiosk
            .audit_log(20)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in ["sign-in", "queue-call", "queue-done", "sign-out"] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} in {actions:?}"
            );
        }
    });
}
