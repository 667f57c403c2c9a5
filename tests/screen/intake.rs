//! A resident files a case for each of the five services by taps alone, on the real Slint UI
//! (testing backend), with the real backend behind it: the case lands in the SQLite file with
//! its print job and outbox row, and the virtual printer prints its slip.

use crate::common;

use common::*;
use domain::TrackingToken;
use grievance_kiosk::app::ui::{Api, PrintState, Screen};
use slint::ComponentHandle;
use station::store::{OutboxState, PrintJobState, Store};

/// One resident's taps: the service tile, the sub-type chip, the option chips, what to type on
/// the keyboard, the phone number on the keypad (or anonymity).
struct Visit {
    service: &'static str,
    subtype: &'static str,
    options: &'static [&'static str],
    typed: &'static str,
    phone: Option<&'static str>,
    subtype_id: &'static str,
    expect_high_risk: bool,
}

const VISITS: &[Visit] = &[
    Visit {
        service: "投诉建议",
        subtype: "噪音扰民",
        options: &["装修施工", "夜间（22点以后）"],
        typed: "loud，",
        phone: None,
        subtype_id: "noise",
        expect_high_risk: false,
    },
    Visit {
        service: "纠纷调处",
        subtype: "邻里纠纷",
        options: &["有过争吵", "漏水"],
        typed: "",
        phone: Some("13800138000"),
        subtype_id: "neighbour",
        expect_high_risk: false,
    },
    Visit {
        service: "法律服务",
        subtype: "劳动合同",
        options: &["申请法律援助"],
        typed: "help",
        phone: Some("02162345678"),
        subtype_id: "labour",
        expect_high_risk: false,
    },
    Visit {
        service: "心理服务",
        subtype: "情绪压力",
        options: &["经常有"],
        typed: "",
        phone: Some("13912345678"),
        subtype_id: "stress",
        expect_high_risk: true,
    },
    Visit {
        service: "帮扶救助",
        subtype: "医疗救助",
        options: &["有，但暂时安全"],
        typed: "",
        phone: Some("15000000001"),
        subtype_id: "medical",
        expect_high_risk: false,
    },
];

pub fn a_resident_files_each_of_the_five_services_by_taps_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_at_morning(dir.path());
    let (app, _controller) = kiosk_window(config);
    let data = dir.path().to_owned();

    run_scenario(async move {
        for visit in VISITS {
            assert_eq!(
                screen(&app),
                Screen::Home,
                "{} starts at Home",
                visit.service
            );
            tap(&app, visit.service);
            tap(&app, visit.subtype);
            assert_eq!(screen(&app), Screen::Questions);
            for option in visit.options {
                tap(&app, option);
            }
            if visit.expect_high_risk {
                // Safety first: the emergency numbers come the moment the answer is given.
                assert_eq!(screen(&app), Screen::HighRisk, "{}", visit.service);
                assert!(is_on_screen(&app, "心理援助热线 12356"));
                tap(&app, "继续填写我的诉求");
                assert_eq!(screen(&app), Screen::Questions);
            }
            tap(&app, "下一步");
            assert_eq!(screen(&app), Screen::Description);
            type_on_keyboard(&app, visit.typed);
            assert_eq!(app.global::<Api>().get_description(), visit.typed);
            tap(
                &app,
                if visit.typed.is_empty() {
                    "不写了，下一步"
                } else {
                    "下一步"
                },
            );
            assert_eq!(screen(&app), Screen::Contact);
            match visit.phone {
                Some(phone) => {
                    type_on_keyboard(&app, phone);
                    tap(&app, "下一步");
                }
                None => tap(&app, "不留电话，匿名反映"),
            }
            assert_eq!(screen(&app), Screen::Consent);
            tap(&app, "我已了解，同意");
            assert_eq!(screen(&app), Screen::Review);
            tap(&app, "提交");

            until(
                || matches!(screen(&app), Screen::Result | Screen::HighRisk),
                "the case to be filed",
            )
            .await;
            // The numbers were seen during the intake: the code comes now, with them repeated.
            assert_eq!(screen(&app), Screen::Result);
            assert_eq!(
                is_on_screen(&app, "心理援助热线 12356"),
                visit.expect_high_risk,
                "{}: the numbers on the result",
                visit.service
            );
            let code = app.global::<Api>().get_code().to_string();
            let token = TrackingToken::parse(&code).expect("the screen shows a valid code");
            until(
                || app.global::<Api>().get_print_state() == PrintState::Printed,
                "the slip to print",
            )
            .await;

            let store = Store::open(&data).unwrap();
            let stored = store
                .case_by_token(&token)
                .unwrap()
                .expect("the case is in the database");
            assert_eq!(stored.case.subtype, visit.subtype_id);
            assert_eq!(
                stored.case.description.as_deref().unwrap_or(""),
                visit.typed.trim()
            );
            assert_eq!(
                stored.case.phone.as_ref().map(|p| p.as_str().to_owned()),
                visit.phone.map(str::to_owned)
            );
            assert_eq!(stored.case.anonymous, visit.phone.is_none());
            assert_eq!(
                stored.case.answers.len(),
                visit.options.len(),
                "every tapped option is stored"
            );
            assert_eq!(stored.print_state, PrintJobState::Printed);
            // The in-process hub takes it, usually before we look.
            assert!(
                matches!(
                    stored.outbox_state,
                    OutboxState::Pending | OutboxState::Delivered
                ),
                "{:?}",
                stored.outbox_state
            );
            assert!(data
                .join("slips")
                .join(format!("{}.png", token.as_str()))
                .exists());

            tap(&app, "完成，回到首页");
        }
        let store = Store::open(&data).unwrap();
        assert_eq!(store.row_counts().unwrap(), (5, 5, 5));
        // With no upstream configured, every case reaches the in-process hub.
        until(
            || {
                Store::open(&data)
                    .unwrap()
                    .outbox_counts()
                    .unwrap()
                    .delivered
                    == 5
            },
            "the five cases to reach the in-process hub",
        )
        .await;
    });
}
