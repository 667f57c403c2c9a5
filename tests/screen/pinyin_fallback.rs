//! A station whose pinyin dictionary file is empty (`[ime] dictionary`): the kiosk still starts,
//! staff see why on every tab of the staff console, and a resident's keys type letters, with no
//! pinyin bar and no 拼音/ABC key, into a case that is stored as typed.

use crate::common;

use std::sync::Arc;

use common::*;
use grievance_kiosk::app::ui::{Api, Screen};
use slint::ComponentHandle;
use station::kiosk::Kiosk;

const PIN: &str = "240517";

pub fn an_empty_dictionary_file_leaves_letters_and_tells_staff() {
    let dir = tempfile::tempdir().unwrap();
    let dict = dir.path().join("pinyin.dict");
    std::fs::write(&dict, "").unwrap();
    let mut config = (*config_at_morning(dir.path())).clone();
    config.ime.dictionary = Some(dict);
    let config = Arc::new(config);
    Kiosk::open(config.clone())
        .unwrap()
        .set_pin(PIN, config.clock.now())
        .unwrap();
    let (app, _controller) = kiosk_window(config);
    let data = dir.path().to_owned();

    run_scenario(async move {
        let api = app.global::<Api>();
        until(
            || api.get_staff_ime_problem() != "",
            "the failed dictionary to be reported",
        )
        .await;
        assert!(!api.get_ime_ready());

        // Staff see it on the console, whatever the tab.
        sign_in_staff(&app, PIN).await;
        for tab in ["排队叫号", "打印机"] {
            tap(&app, tab);
            let warning = value_of(&app, "拼音输入").expect("the console shows the warning");
            assert!(
                warning.contains("拼音输入不可用") && warning.contains("empty"),
                "{tab}: {warning}"
            );
        }
        tap(&app, "退出工作人员模式");
        assert_eq!(screen(&app), Screen::Home);

        // The resident's keys type letters.
        tap(&app, "投诉建议");
        tap(&app, "噪音扰民");
        tap(&app, "装修施工");
        tap(&app, "下一步");
        assert_eq!(screen(&app), Screen::Description);
        assert!(
            !is_on_screen(&app, "拼音，点一下改打字母"),
            "no pinyin switch without a dictionary"
        );
        tap_keys(&app, "gongzi");
        assert_eq!(api.get_ime_typed(), "", "nothing is composed");
        assert_eq!(api.get_description(), "gongzi");

        let stored = submit_anonymously_and_read_back(&app, &data).await;
        assert_eq!(stored.as_deref(), Some("gongzi"));
    });
}

/// A station whose handwriting model file is damaged (`[ime] handwriting_models`): when a
/// resident comes to write, the keyboard offers pinyin and letters with no 手写 key, and staff
/// see why on the console.
pub fn a_damaged_handwriting_model_leaves_pinyin_and_tells_staff() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("handwriting.model");
    std::fs::write(&model, b"not a zinnia model").unwrap();
    let mut config = (*config_at_morning(dir.path())).clone();
    config.ime.handwriting_models = vec![model];
    let config = Arc::new(config);
    Kiosk::open(config.clone())
        .unwrap()
        .set_pin(PIN, config.clock.now())
        .unwrap();
    let (app, _controller) = kiosk_window(config);

    run_scenario(async move {
        let api = app.global::<Api>();
        tap(&app, "投诉建议");
        tap(&app, "其他问题");
        assert_eq!(screen(&app), Screen::Description);
        until(
            || api.get_staff_hand_problem() != "" && api.get_ime_ready(),
            "the damaged model to be reported, and pinyin to load",
        )
        .await;
        assert!(!api.get_ime_hand_ready());
        assert!(!is_on_screen(&app, "手写"), "no writing pad to offer");
        tap_keys(&app, "gongzi");
        assert!(api.get_ime_typed() != "", "pinyin composes");
        tap(&app, "首页");

        sign_in_staff(&app, PIN).await;
        for tab in ["排队叫号", "待发送"] {
            tap(&app, tab);
            let warning = value_of(&app, "手写输入").expect("the console shows the warning");
            assert!(
                warning.contains("手写输入不可用") && warning.contains("handwriting.model"),
                "{tab}: {warning}"
            );
            assert!(value_of(&app, "拼音输入").is_none(), "pinyin is fine");
        }
    });
}
