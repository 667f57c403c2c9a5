//! A resident writes Chinese with pinyin on the on-screen keyboard, by taps alone: letters
//! build the pinyin (shown cut into syllables; the apostrophe key cuts it too), a tapped
//! candidate goes into the description, and the case is stored with the words picked.

use crate::common;

use common::*;
use grievance_kiosk::app::ui::{Api, Screen};
use slint::ComponentHandle;

pub fn a_resident_writes_chinese_with_pinyin() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
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

        tap_keys(&app, "gongzi");
        // Shown cut into syllables.
        assert_eq!(app.global::<Api>().get_ime_typed(), "gong zi");
        assert_eq!(
            app.global::<Api>().get_description(),
            "",
            "the pinyin is not text yet"
        );
        tap(&app, "工资");
        assert_eq!(app.global::<Api>().get_description(), "工资");
        assert_eq!(app.global::<Api>().get_ime_typed(), "");

        // The apostrophe key cuts the pinyin; backspace takes pinyin letters first.
        tap_keys(&app, "tuo");
        tap(&app, "分隔音节");
        tap_keys(&app, "qiax");
        assert_eq!(app.global::<Api>().get_ime_typed(), "tuo'qia x");
        tap(&app, "删除");
        assert_eq!(app.global::<Api>().get_ime_typed(), "tuo'qia");
        tap_keys(&app, "n");
        tap(&app, "拖欠");
        assert_eq!(app.global::<Api>().get_description(), "工资拖欠");

        let stored = submit_anonymously_and_read_back(&app, &data).await;
        assert_eq!(stored.as_deref(), Some("工资拖欠"));
    });
}
