//! The idle reset (DESIGN.md §3.8): after the idle timeout the kiosk asks "still there?"; a tap
//! keeps everything; no answer clears every field and returns Home in the default language.

use crate::common;

use std::time::Duration;

use common::*;
use grievance_kiosk::app::controller::Session;
use grievance_kiosk::app::ui::{Api, PrintState, Screen};
use i_slint_backend_testing::mock_elapsed_time;
use slint::{ComponentHandle, Model};

pub fn the_idle_reset_asks_first_then_clears_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let idle = u64::from(config.ui.idle_timeout_s);
    let elderly_idle = u64::from(config.ui.elderly_idle_timeout_s);
    let prompt = u64::from(config.ui.still_there_s);
    let config_done = config.ui.done_timeout_s;
    let fresh = Session::new(config.ui.default_language, false);
    let (app, controller) = kiosk_window(config);

    run_scenario(async move {
        let api = app.global::<Api>();
        // A resident in English and elderly mode fills in a wages case up to the phone number,
        // with a typed employer name.
        tap(&app, "English");
        tap(&app, "Large text");
        tap(&app, "Complaints");
        tap(&app, "Wages owed");
        tap(&app, "10 – 29");
        // Elderly mode's bigger chips push the last question below the fold.
        swipe_up(&app);
        tap(&app, "Tap here to write");
        type_on_keyboard(&app, "acme");
        tap(&app, "Done");
        tap(&app, "Next");
        type_on_keyboard(&app, "unpaid");
        tap(&app, "Next");
        type_on_keyboard(&app, "139");

        // Elderly mode waits longer: at the normal timeout nothing happens yet.
        mock_elapsed_time(Duration::from_secs(idle + 1));
        assert!(!api.get_still_there(), "elderly mode has a longer timeout");
        mock_elapsed_time(Duration::from_secs(elderly_idle - idle));
        assert!(
            api.get_still_there(),
            "the kiosk asks whether the resident is still there"
        );
        assert!(is_on_screen(&app, "Are you still there?"));

        // A tap on "continue" keeps everything.
        tap(&app, "I'm here, continue");
        assert!(!api.get_still_there());
        assert_eq!(screen(&app), Screen::Contact);
        assert_eq!(api.get_phone(), "139");

        // Nobody answers the second time: everything is cleared.
        mock_elapsed_time(Duration::from_secs(elderly_idle + 1));
        assert!(api.get_still_there());
        for _ in 0..=prompt {
            mock_elapsed_time(Duration::from_secs(1));
        }
        assert!(!api.get_still_there());
        assert_eq!(screen(&app), Screen::Home);
        assert_eq!(api.get_language(), "zh", "back to the default language");
        assert!(!api.get_elderly(), "back to normal text size");
        assert_eq!(api.get_description(), "");
        assert_eq!(api.get_phone(), "");
        assert_eq!(api.get_text_entry_value(), "");
        assert_eq!(api.get_code(), "");
        assert_eq!(api.get_print_state(), PrintState::None);
        assert_eq!(api.get_review().row_count(), 0);
        assert!(
            controller.with_state(|s| s.session == fresh),
            "the draft is gone: the next resident gets a new session"
        );

        // The next resident starts from nothing: no sub-type, no answer, no text.
        tap(&app, "投诉建议");
        assert!(api.get_subtypes().iter().all(|c| !c.selected));
        tap(&app, "拖欠工资");
        assert!(api
            .get_questions()
            .iter()
            .all(|q| q.text.is_empty() && q.chips.iter().all(|c| !c.selected)));
        tap(&app, "下一步");
        assert_eq!(api.get_description(), "");
        tap(&app, "不写了，下一步");
        assert_eq!(api.get_phone(), "");

        // On the result screen too, sooner: the code and QR do not wait for the next resident,
        // and the question does not threaten to clear what is already filed.
        tap(&app, "不留电话，匿名反映");
        tap(&app, "我已了解，同意");
        tap(&app, "提交");
        until(|| screen(&app) == Screen::Result, "the case to be filed").await;
        assert!(!api.get_code().is_empty());
        let done = u64::from(config_done);
        let done_prompt = u64::from(station::config::DONE_PROMPT_S);
        mock_elapsed_time(Duration::from_secs(done - done_prompt + 1));
        assert!(
            api.get_still_there(),
            "a finished screen asks after {done} s less its question"
        );
        assert!(api.get_still_there_done(), "and says nothing is lost");
        assert!(is_on_screen(&app, "完成，回到首页"));
        assert!(!is_on_screen(&app, "清除，回到首页"));
        for _ in 0..done_prompt {
            mock_elapsed_time(Duration::from_secs(1));
        }
        assert_eq!(
            screen(&app),
            Screen::Home,
            "Home {done} s after the last touch"
        );
        assert_eq!(api.get_code(), "");

        // Someone switched Home to English and large text, then walked away: after the idle
        // timeout the next resident finds Chinese and normal text again, with no prompt.
        tap(&app, "English");
        tap(&app, "Large text");
        mock_elapsed_time(Duration::from_secs(elderly_idle + 1));
        assert!(
            !api.get_still_there(),
            "nothing to clear on Home: no prompt"
        );
        assert!(api.get_language() == "zh" && !api.get_elderly());
    });
}
