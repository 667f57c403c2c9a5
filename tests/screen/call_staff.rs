//! The "求助 / Help" button (issues 7 and 16, unattended help): it is on every resident's screen's
//! header in every mode; a press leaves one `staff-called` notice, which lights the
//! now-serving display's red band until staff acknowledge it, and the button then says staff are
//! coming. Pressing again while the call is open adds nothing; after staff acknowledged it and
//! the visit ended, the next resident can call again.

use crate::common;

use common::*;
use grievance_kiosk::app::display::read_board;
use grievance_kiosk::app::ui::Screen;
use station::kiosk::Kiosk;

const CALL: &str = "求助";
const CALLED: &str = "已呼叫工作人员";

pub fn the_call_staff_button_calls_staff_once_until_they_acknowledge() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config.clone());

    run_scenario(async move {
        let calls = || {
            Kiosk::open(config.clone())
                .unwrap()
                .notices()
                .unwrap()
                .into_iter()
                .filter(|n| n.kind == "staff-called")
                .collect::<Vec<_>>()
        };
        assert!(is_on_screen(&app, CALL), "on Home in the ordinary mode");
        tap(&app, "长辈模式");
        assert!(is_on_screen(&app, CALL), "on Home in elderly mode");

        // In the middle of an intake, on the question screen.
        tap(&app, "投诉建议");
        tap(&app, "物业管理");
        assert_eq!(screen(&app), Screen::Questions);
        tap(&app, CALL);
        until(
            || is_on_screen(&app, CALLED),
            "the button to say staff are coming",
        )
        .await;
        assert_eq!(
            screen(&app),
            Screen::Questions,
            "the resident stays where they were"
        );
        let open = calls();
        assert_eq!(open.len(), 1, "one call: {open:?}");
        let k = Kiosk::open(config.clone()).unwrap();
        assert!(
            read_board(&k, &config, config.clock.now())
                .unwrap()
                .staff_called,
            "the now-serving display calls staff"
        );

        // A second press while the call is open adds nothing. The proof: a number taken after
        // it goes through the same worker, in order; once the number is there, a call the
        // second press had sent would be there too.
        tap(&app, CALLED);
        tap(&app, "首页");
        assert_eq!(screen(&app), Screen::Home);
        tap(&app, "取号排队");
        tap(&app, "投诉建议");
        if screen(&app) == Screen::Priority {
            tap(&app, "不是，正常排队");
        }
        until(
            || screen(&app) == Screen::Ticket,
            "a number taken after the second press",
        )
        .await;
        assert_eq!(calls().len(), 1, "still one call");
        tap(&app, "完成，回到首页");

        // Staff come and acknowledge it; the visit has ended; the next resident can call again.
        let mut staff = Kiosk::open(config.clone()).unwrap();
        assert!(staff.clear_notice(open[0].id, config.clock.now()).unwrap());
        assert!(
            !read_board(&staff, &config, config.clock.now())
                .unwrap()
                .staff_called
        );
        assert_eq!(screen(&app), Screen::Home);
        tap(&app, CALL);
        until(|| is_on_screen(&app, CALLED), "the second call").await;
        assert_eq!(
            calls().len(),
            1,
            "a new call after the first was acknowledged"
        );
        assert_ne!(calls()[0].id, open[0].id);
    });
}
