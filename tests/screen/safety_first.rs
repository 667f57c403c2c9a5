//! Safety first (issue 16): the moment what a resident tells makes the case high-risk, the
//! emergency numbers come up, before any further step, and staff are called; the resident may go
//! on with the case from there, skip the phone whatever the service, and the result screen and
//! the slip carry the numbers.
//!
//! Every trigger of the built-in station is tried, read from its configuration (so a trigger
//! added there is tested too): each option of each question that raises a case to high, each
//! high keyword in the description, and a keyword in a text answer. The description is set as
//! the keyboard would leave it (typing Chinese on the keyboard is `pinyin`'s scenario).

use crate::common;

use common::*;
use domain::{QuestionKind, RiskLevel, TrackingToken};
use grievance_kiosk::app::ui::{Api, AppWindow, PrintState, Screen};
use slint::ComponentHandle;
use station::config::KioskConfig;
use station::kiosk::Kiosk;

const GO_ON: &str = "继续填写我的诉求";

/// On the emergency numbers: every number shows, staff get called, and going on returns to
/// `step`.
async fn numbers_then_back_to(app: &AppWindow, config: &KioskConfig, step: Screen, what: &str) {
    assert_eq!(
        screen(app),
        Screen::HighRisk,
        "{what}: the numbers come next"
    );
    for line in &config.emergency {
        let label = format!("{} {}", line.label.zh, line.number);
        assert!(is_on_screen(app, &label), "{what}: {label} is shown");
    }
    until(
        || app.global::<Api>().get_staff_called(),
        "staff to be called",
    )
    .await;
    tap(app, GO_ON);
    assert_eq!(screen(app), step, "{what}: back to the step it covered");
}

pub fn every_high_risk_answer_and_keyword_brings_the_emergency_numbers_before_any_other_step() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config.clone());
    let data = dir.path().to_owned();

    run_scenario(async move {
        let mut triggers = 0;
        // Each option that raises a case to high, on its question's screen.
        for service in &config.catalogue.services {
            for subtype in &service.subtypes {
                for question in service.questions_for(subtype) {
                    let QuestionKind::Choice { options } = &question.kind else {
                        continue;
                    };
                    for option in options.iter().filter(|o| o.risk() == Some(RiskLevel::High)) {
                        let what = format!("{}/{}: {}", service.id, subtype.id, option.id);
                        assert_eq!(screen(&app), Screen::Home, "{what}");
                        tap(&app, &service.name.zh);
                        if service.subtypes.len() > 1 {
                            tap(&app, &subtype.name.zh);
                        }
                        assert_eq!(screen(&app), Screen::Questions, "{what}");
                        tap(&app, &option.label.zh);
                        numbers_then_back_to(&app, &config, Screen::Questions, &what).await;
                        tap(&app, "首页");
                        triggers += 1;
                    }
                }
            }
        }
        assert!(triggers >= 6, "the built-in station has {triggers} options");

        // Each high keyword in the description: Next leads to the numbers, then the contact.
        for keyword in &config.risk.high_keywords {
            assert_eq!(screen(&app), Screen::Home, "{keyword}");
            tap(&app, "投诉建议");
            tap(&app, "其他问题");
            assert_eq!(screen(&app), Screen::Description, "{keyword}");
            app.global::<Api>()
                .set_description(format!("邻居昨天说：{keyword}").into());
            tap(&app, "下一步");
            numbers_then_back_to(&app, &config, Screen::Contact, keyword).await;
            tap(&app, "首页");
            triggers += 1;
        }

        // A keyword in a text answer: the numbers come up as the answer is kept.
        tap(&app, "投诉建议");
        tap(&app, "拖欠工资");
        tap(&app, "点这里填写");
        app.global::<Api>()
            .set_text_entry_value("他说要砍人".into());
        tap(&app, "完成");
        numbers_then_back_to(&app, &config, Screen::Questions, "a text answer").await;
        tap(&app, "首页");
        assert!(triggers > 40);

        // A case that needs a phone, in danger: the phone step can be skipped, the code comes
        // straight after filing (the numbers were seen), and the result and the slip repeat them.
        tap(&app, "法律服务");
        tap(&app, "劳动合同");
        tap(&app, "下一步");
        app.global::<Api>().set_description("老板说要杀了我".into());
        tap(&app, "下一步");
        numbers_then_back_to(&app, &config, Screen::Contact, "legal").await;
        tap(&app, "不留电话，匿名反映");
        assert_eq!(screen(&app), Screen::Consent);
        tap(&app, "我已了解，同意");
        tap(&app, "提交");
        until(|| screen(&app) != Screen::Review, "the case to be filed").await;
        assert_eq!(
            screen(&app),
            Screen::Result,
            "the numbers were seen: the code now"
        );
        for line in &config.emergency {
            let label = format!("{} {}", line.label.zh, line.number);
            assert!(is_on_screen(&app, &label), "the result repeats {label}");
        }
        let token = TrackingToken::parse(&app.global::<Api>().get_code()).unwrap();
        until(
            || app.global::<Api>().get_print_state() == PrintState::Printed,
            "the slip to print",
        )
        .await;
        let stored = Kiosk::open(config.clone())
            .unwrap()
            .find_case(token.as_str())
            .unwrap();
        assert_eq!(stored.case.risk.level, RiskLevel::High);
        assert!(stored.case.anonymous && stored.case.phone.is_none());
        let bytes = std::fs::read(data.join("slips").join(format!("{}.bin", token.as_str())))
            .expect("the virtual printer kept the slip's bytes");
        let printed = slip::interpret::interpret(&bytes).text_lines().join("\n");
        for line in &config.emergency {
            assert!(
                printed.contains(&line.number),
                "the slip prints {}:\n{printed}",
                line.number
            );
        }
    });
}
