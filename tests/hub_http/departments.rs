//! Departments move cases on: status events with a note, a department and an expected date,
//! seen in the progress API and on the tracking page.

use crate::hub_common;

use hub_common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_department_event_shows_in_the_progress_and_on_the_tracking_page() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;

    let progress = hub
        .department_says(
            &case.token,
            json!({"state": "assigned", "note": "已转交街道城管科", "department": "街道城管科",
                   "expected_at": "2030-05-03T10:00:00Z"}),
        )
        .await;
    assert_eq!(progress["state"], "assigned");
    assert_eq!(progress["department"], "街道城管科");
    assert_eq!(progress["expected_at"], "2030-05-03T10:00:00Z");
    let timeline = progress["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[1]["note"], "已转交街道城管科");

    // A later step without a department keeps the handling department.
    let progress = hub
        .department_says(
            &case.token,
            json!({"state": "in_progress", "note": "已上门查看"}),
        )
        .await;
    assert_eq!(progress["department"], "街道城管科");
    assert_eq!(progress["timeline"][2]["department"], DEPARTMENT);

    let read: Value = hub
        .client
        .get(hub.url(&format!("/api/v1/cases/{}", case.token)))
        .bearer_auth(STATION_A_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, progress);

    let page = hub
        .get(&format!("/T/{}", case.token))
        .await
        .text()
        .await
        .unwrap();
    for shown in [
        "办理中",
        "已转交街道城管科",
        "已上门查看",
        "街道城管科",
        "2030-05-03 18:00",
    ] {
        assert!(page.contains(shown), "{shown} missing from {page}");
    }
}

#[tokio::test]
async fn a_case_nobody_handled_yet_is_handled_by_the_department_that_posts() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let progress = hub
        .department_says(&case.token, json!({"state": "acknowledged"}))
        .await;
    assert_eq!(progress["department"], DEPARTMENT);
}

#[tokio::test]
async fn a_department_token_cannot_file_cases_and_a_station_token_cannot_post_events() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    let refused = hub.submit(DEPARTMENT_TOKEN, &case).await;
    assert_eq!(refused.status(), 401);
    let refused_body = refused.text().await.unwrap();

    hub.file(&case).await;
    let r = hub
        .post_event(STATION_A_TOKEN, &case.token, json!({"state": "resolved"}))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        refused_body,
        "every 401 says the same"
    );
    let r = hub
        .post_event(
            "a-made-up-token-xyz",
            &case.token,
            json!({"state": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(hub.count("case_events"), 1);
}

#[tokio::test]
async fn a_closed_case_must_be_reopened_before_it_moves_again() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    hub.department_says(&case.token, json!({"state": "resolved", "note": "已处理"}))
        .await;
    let r = hub
        .post_event(
            DEPARTMENT_TOKEN,
            &case.token,
            json!({"state": "in_progress"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "state");
    hub.department_says(
        &case.token,
        json!({"state": "reopened", "note": "居民反映仍有噪音"}),
    )
    .await;
    let progress = hub
        .department_says(&case.token, json!({"state": "in_progress"}))
        .await;
    assert_eq!(progress["timeline"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_department_cannot_post_received_or_an_unknown_state() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let r = hub
        .post_event(DEPARTMENT_TOKEN, &case.token, json!({"state": "received"}))
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "state");
    let r = hub
        .post_event(
            DEPARTMENT_TOKEN,
            &case.token,
            json!({"state": "teleported"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "state");
}

#[tokio::test]
async fn an_event_for_an_unknown_code_is_404() {
    let hub = TestHub::start().await;
    let r = hub
        .post_event(
            DEPARTMENT_TOKEN,
            new_token().as_str(),
            json!({"state": "acknowledged"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(hub.count("case_events"), 0);
}

#[tokio::test]
async fn an_expected_date_outside_the_years_0000_to_9999_is_refused_and_nothing_is_written() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    for far in ["+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"] {
        let r = hub
            .post_event(
                DEPARTMENT_TOKEN,
                &case.token,
                json!({"state": "assigned", "expected_at": far}),
            )
            .await;
        assert_eq!(r.status(), 422, "{far}: never a 5xx a client would retry");
        assert_eq!(r.json::<Value>().await.unwrap()["field"], "expected_at");
    }
    assert_eq!(hub.count("case_events"), 1, "only the hub's own `received`");
    let r = hub.get(&format!("/T/{}", case.token)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_bidirectional_override_in_a_note_or_department_is_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    for (update, field) in [
        (
            json!({"state": "assigned", "note": "已处理\u{202E}gnp.exe"}),
            "note",
        ),
        (
            json!({"state": "assigned", "department": "区\u{202D}住建局"}),
            "department",
        ),
        (
            json!({"state": "assigned", "note": "\u{2067}x\u{2069}"}),
            "note",
        ),
    ] {
        let r = hub.post_event(DEPARTMENT_TOKEN, &case.token, update).await;
        assert_eq!(r.status(), 422);
        assert_eq!(r.json::<Value>().await.unwrap()["field"], field);
    }
    assert_eq!(hub.count("case_events"), 1);
}
