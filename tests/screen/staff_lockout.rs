//! Five wrong PINs on the staff pad lock the staff mode, and the lock is the database's: a new
//! kiosk window on the same data directory (the kiosk restarted) still says it is locked, and
//! the correct PIN is refused while it lasts.

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, PinNote, Screen};
use slint::ComponentHandle;
use station::kiosk::{Kiosk, PinCheck};

const PIN: &str = "240517";
const WRONG: &str = "135790";

pub fn five_wrong_pins_lock_the_staff_mode_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    Kiosk::open(config.clone())
        .unwrap()
        .set_pin(PIN, config.clock.now())
        .unwrap();
    assert_eq!(config.staff.lockout_after, 5);

    let (app, controller) = kiosk_window(config.clone());
    run_scenario(async move {
        let api = app.global::<Api>();
        open_staff_pin(&app);
        for attempt in 1..=5u32 {
            type_on_keyboard(&app, WRONG);
            tap(&app, "确定");
            until(
                || !api.get_busy() && api.get_staff_pin_length() == 0,
                "the PIN to be checked",
            )
            .await;
            let said = value_of(&app, "密码提示").unwrap_or_default();
            if attempt < 5 {
                assert_eq!(said, format!("密码错误，还可尝试 {} 次", 5 - attempt));
            } else {
                assert!(said.starts_with("已锁定至 "), "{said}");
            }
            assert_eq!(screen(&app), Screen::StaffPin);
        }
    });
    drop(controller);

    // The kiosk restarts: a new window and backend on the same data directory.
    let (app, controller) = kiosk_window(config.clone());
    run_scenario(async move {
        let api = app.global::<Api>();
        open_staff_pin(&app);
        until(
            || api.get_pin_note() == PinNote::Locked,
            "the pad to say it is locked before anyone types",
        )
        .await;
        assert!(value_of(&app, "密码提示").is_some_and(|v| v.starts_with("已锁定至 ")));

        // The right PIN, while locked: refused, and still locked.
        type_on_keyboard(&app, PIN);
        tap(&app, "确定");
        until(
            || !api.get_busy() && api.get_staff_pin_length() == 0,
            "the PIN to be checked",
        )
        .await;
        assert_eq!(screen(&app), Screen::StaffPin, "no way into staff mode");
        assert_eq!(api.get_pin_note(), PinNote::Locked);
        assert!(matches!(
            Kiosk::open(config.clone())
                .unwrap()
                .check_pin(PIN, config.clock.now())
                .unwrap(),
            PinCheck::Locked { .. }
        ));
        let _ = &controller;
    });
}
