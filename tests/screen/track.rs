//! "Track my case" on the touchscreen, by taps, against the real hub on a loopback port: a
//! case filed at this kiosk reaches the hub through the kiosk's own outbox task, a department
//! resolves it, and the resident types the code from the slip on the on-screen keyboard (the
//! check character is verified as they type) and sees "resolved" with the department's note.
//! With the hub gone, the same lookup shows the last known state and says so.

use crate::common;

use std::sync::Arc;

use common::*;
use domain::{Answer, CaseDraft};
use grievance_kiosk::app::ui::{Api, Screen};
use hub::{self, HubConfig, Secret};
use slint::ComponentHandle;
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::Kiosk;
use station::store::Store;

const STATION: &str = "station-a";
const STATION_TOKEN: &str = "token-of-station-a-0001";
const DEPARTMENT_TOKEN: &str = "token-of-housing-dept-03";

pub fn a_resident_types_the_code_and_sees_the_department_resolved_it() {
    let hub_dir = tempfile::tempdir().unwrap();
    let kiosk_dir = tempfile::tempdir().unwrap();

    // The hub runs on its own runtime, as it would on another machine.
    let hub_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hub = hub_runtime.block_on(async {
        let mut config = HubConfig::new(hub_dir.path()).with_station(STATION, STATION_TOKEN);
        config.department_tokens = vec![("housing".into(), Secret::new(DEPARTMENT_TOKEN))];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        hub::start(config, listener).await.unwrap()
    });
    let base = hub.base_url();

    let mut config = KioskConfig::builtin();
    config.data_dir = kiosk_dir.path().to_owned();
    config.station.id = STATION.into();
    config.upstream.url = Some(base.clone());
    config.upstream.kind = UpstreamKind::Native;
    config.upstream.token = Some(STATION_TOKEN.into());
    config.upstream.tracking_base_url = base.clone();
    let config = Arc::new(config);

    // A case filed earlier at this kiosk (the intake by taps has its own test).
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&CaseDraft {
            service: "complaint".into(),
            subtype: Some("noise".into()),
            answers: vec![Answer {
                question: "source".into(),
                value: "renovation".into(),
            }],
            description: "楼上装修太吵".into(),
            phone: "13800138000".into(),
            consent_version: Some(config.consent.version.clone()),
            ..CaseDraft::default()
        })
        .unwrap();
    let token = filed.case.token.as_str().to_owned();

    let data = kiosk_dir.path().to_owned();
    let (app, _controller) = kiosk_window(config.clone());
    let mut hub = Some(hub);
    run_scenario(async move {
        // The kiosk's outbox task delivers it on its own.
        until(
            || {
                Store::open(&data)
                    .unwrap()
                    .outbox_counts()
                    .unwrap()
                    .delivered
                    == 1
            },
            "the outbox to deliver the case",
        )
        .await;
        let resolved = hub_runtime.block_on(async {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/departments/cases/{token}/events"))
                .bearer_auth(DEPARTMENT_TOKEN)
                .json(&serde_json::json!({
                    "state": "resolved", "department": "区住建局", "note": "已协调施工方调整时间"
                }))
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(resolved, 201);

        tap(&app, "查询办理进度");
        assert_eq!(screen(&app), Screen::Track);
        // A typo is caught as it is typed: the last character swapped for another.
        let code = token.to_lowercase();
        let (body, last) = code.split_at(code.len() - 1);
        type_on_keyboard(&app, body);
        assert!(
            value_of(&app, "查询码检查").is_some_and(|v| v.contains("还差 1 位")),
            "{:?}",
            value_of(&app, "查询码检查")
        );
        let wrong = if last == "0" { "1" } else { "0" };
        type_on_keyboard(&app, wrong);
        assert!(
            value_of(&app, "查询码检查").is_some_and(|v| v.contains("输错")),
            "{:?}",
            value_of(&app, "查询码检查")
        );
        tap(&app, "删除");
        type_on_keyboard(&app, last);
        assert!(value_of(&app, "查询码检查").is_some_and(|v| v.contains("正确")));
        tap(&app, "查询");
        until(
            || screen(&app) == Screen::TrackResult,
            "the lookup to answer",
        )
        .await;
        assert_eq!(value_of(&app, "办理状态").as_deref(), Some("已办结"));
        assert!(is_on_screen(&app, "已协调施工方调整时间"), "the note shows");
        assert!(is_on_screen(&app, "区住建局"), "the department shows");
        assert!(
            !is_on_screen(&app, "楼上装修太吵"),
            "no description on screen"
        );

        // The hub goes away: the same lookup shows what was last known, and says so.
        hub_runtime
            .block_on(hub.take().unwrap().shutdown())
            .unwrap();
        tap(&app, "查另一个");
        assert_eq!(screen(&app), Screen::Track);
        assert_eq!(app.global::<Api>().get_track_code(), "");
        type_on_keyboard(&app, &code);
        tap(&app, "查询");
        until(
            || screen(&app) == Screen::TrackResult,
            "the offline lookup to answer",
        )
        .await;
        assert_eq!(value_of(&app, "办理状态").as_deref(), Some("已办结"));
        assert!(
            value_of(&app, "状态说明").is_some_and(|v| v.contains("现在连不上")),
            "{:?}",
            value_of(&app, "状态说明")
        );
        tap(&app, "完成，回到首页");
        assert_eq!(screen(&app), Screen::Home);
    });
}
