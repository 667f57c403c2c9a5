//! A resident writes Chinese with pinyin on the on-screen keyboard, by taps alone: letters
//! build the pinyin (shown cut into syllables; the apostrophe key cuts it too), a tapped
//! candidate goes into the description, the bar then predicts the next word (a tap writes it),
//! the keys stay where they are whatever the bar shows, and the case is stored with the words
//! picked.

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, AppWindow, Screen};
use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, Model};

/// Where the key `q` is on screen: it must not move while the candidate bar changes.
fn q_key(app: &AppWindow) -> (f32, f32) {
    let key = ElementHandle::find_by_accessible_label(app, "q")
        .find(|e| e.is_valid())
        .expect("the q key");
    let p = key.absolute_position();
    (p.x, p.y)
}

fn candidates(app: &AppWindow) -> Vec<String> {
    app.global::<Api>()
        .get_ime_candidates()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

pub fn a_resident_writes_chinese_with_pinyin() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config);
    let data = dir.path().to_owned();

    run_scenario(async move {
        tap(&app, "投诉建议");
        tap(&app, "噪音扰民");
        tap(&app, "装修施工");
        tap(&app, "下一步");
        assert_eq!(screen(&app), Screen::Description);
        // The dictionary loads off the UI thread; until then the keys type letters.
        until(
            || app.global::<Api>().get_ime_ready(),
            "the pinyin dictionary to load",
        )
        .await;

        let q = q_key(&app);
        assert!(candidates(&app).is_empty());
        tap_keys(&app, "gongzi");
        // Shown cut into syllables.
        assert_eq!(app.global::<Api>().get_ime_typed(), "gong zi");
        assert_eq!(
            app.global::<Api>().get_description(),
            "",
            "the pinyin is not text yet"
        );
        assert_eq!(q_key(&app), q, "the keys stay put while candidates show");
        tap(&app, "工资");
        assert_eq!(app.global::<Api>().get_description(), "工资");
        assert_eq!(app.global::<Api>().get_ime_typed(), "");

        // Nothing typed: the bar predicts what comes after 工资; a tap writes it whole.
        let predicted = candidates(&app);
        assert!(
            predicted.iter().any(|w| w == "三个月"),
            "after 工资: {predicted:?}"
        );
        assert_eq!(q_key(&app), q, "the keys stay put while predictions show");
        tap(&app, "三个月");
        assert_eq!(app.global::<Api>().get_description(), "工资三个月");
        assert_eq!(app.global::<Api>().get_ime_typed(), "");
        assert!(!candidates(&app).is_empty(), "and predicts again");

        // The apostrophe key cuts the pinyin; backspace takes pinyin letters first.
        tap_keys(&app, "tuo");
        tap(&app, "分隔音节");
        tap_keys(&app, "qiax");
        assert_eq!(app.global::<Api>().get_ime_typed(), "tuo'qia x");
        tap(&app, "删除");
        assert_eq!(app.global::<Api>().get_ime_typed(), "tuo'qia");
        tap_keys(&app, "n");
        tap(&app, "拖欠");
        assert_eq!(app.global::<Api>().get_description(), "工资三个月拖欠");
        // A comma ends the sentence: no more predictions, and the keys have not moved.
        tap(&app, "，");
        assert_eq!(app.global::<Api>().get_description(), "工资三个月拖欠，");
        assert!(candidates(&app).is_empty(), "{:?}", candidates(&app));
        assert_eq!(q_key(&app), q);

        let stored = submit_anonymously_and_read_back(&app, &data).await;
        assert_eq!(stored.as_deref(), Some("工资三个月拖欠，"));
    });
}
