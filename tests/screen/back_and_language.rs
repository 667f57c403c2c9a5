//! Back never loses what the resident entered, and the language switches at runtime, on the
//! real UI.

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, Screen};
use slint::{ComponentHandle, Model};

fn selected_options(app: &grievance_kiosk::app::ui::AppWindow) -> Vec<String> {
    let questions = app.global::<Api>().get_questions();
    questions
        .iter()
        .flat_map(|q| {
            q.chips
                .iter()
                .filter(|c| c.selected)
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

pub fn back_keeps_every_answer_and_the_language_switches_at_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _controller) = kiosk_window(config_at_morning(dir.path()));

    run_scenario(async move {
        // Switch to English and back: the tiles and the screen's own words follow.
        assert!(is_on_screen(&app, "投诉建议"));
        tap(&app, "English");
        assert_eq!(app.global::<Api>().get_language(), "en");
        assert!(is_on_screen(&app, "Complaints"), "service names in English");
        assert!(
            is_on_screen(&app, "Hello! What can we help you with?"),
            "bundled translation in use"
        );
        assert!(!is_on_screen(&app, "投诉建议"));

        // Start in English, switch to Chinese in the middle: nothing entered is lost.
        tap(&app, "Complaints");
        tap(&app, "Wages owed");
        tap(&app, "¥5,000 – ¥20,000");
        tap(&app, "10 – 29");
        tap(&app, "简体");
        assert_eq!(app.global::<Api>().get_language(), "zh");
        assert!(
            is_on_screen(&app, "有多少人被拖欠？"),
            "questions now in Chinese"
        );
        assert_eq!(selected_options(&app), ["5k_20k", "10_29"]);

        tap(&app, "下一步");
        type_on_keyboard(&app, "abc");
        tap(&app, "下一步");
        type_on_keyboard(&app, "13800138000");

        // Back, back, back to the sub-type: then forward again, everything is still there.
        tap(&app, "返回");
        assert_eq!(screen(&app), Screen::Description);
        assert_eq!(app.global::<Api>().get_description(), "abc");
        tap(&app, "返回");
        assert_eq!(screen(&app), Screen::Questions);
        assert_eq!(selected_options(&app), ["5k_20k", "10_29"]);
        tap(&app, "返回");
        assert_eq!(screen(&app), Screen::Subtype);
        let subtypes = app.global::<Api>().get_subtypes();
        assert!(
            subtypes.iter().any(|c| c.selected && c.id == "wages_owed"),
            "the chosen sub-type stays marked"
        );

        tap(&app, "拖欠工资");
        assert_eq!(selected_options(&app), ["5k_20k", "10_29"]);
        tap(&app, "下一步");
        assert_eq!(app.global::<Api>().get_description(), "abc");
        tap(&app, "下一步");
        assert_eq!(app.global::<Api>().get_phone(), "13800138000");

        // A wrong number is refused on its step with the friendly sentence, and kept for fixing.
        tap(&app, "删除");
        tap(&app, "下一步");
        assert_eq!(screen(&app), Screen::Contact);
        assert_eq!(
            app.global::<Api>().get_problem(),
            grievance_kiosk::app::ui::Problem::PhoneInvalid
        );
        assert!(is_on_screen(
            &app,
            "这个号码好像不对。请输入 11 位手机号，或带区号的固定电话。"
        ));
        assert_eq!(app.global::<Api>().get_phone(), "1380013800");

        // Back from the first step returns Home.
        for _ in 0..4 {
            tap(&app, "返回");
        }
        assert_eq!(screen(&app), Screen::Home);

        // Traditional Chinese: the screen's own words and the services' names, from its
        // catalogue; and back to Simplified.
        tap(&app, "繁體");
        assert_eq!(app.global::<Api>().get_language(), "zh-Hant");
        assert!(is_on_screen(&app, "您好！請選擇您要辦理的事項"));
        assert!(
            is_on_screen(&app, "投訴建議"),
            "service names in Traditional"
        );
        assert!(!is_on_screen(&app, "投诉建议"));
        tap(&app, "简体");
        assert!(is_on_screen(&app, "您好！请选择您要办理的事项"));
        assert!(is_on_screen(&app, "投诉建议"));
    });
}
