//! Hostile input to the hub (DESIGN.md §11): malformed JSON, huge bodies, unknown fields, SQL
//! and HTML in every text field, control characters. Each is refused with the field named, or
//! stored verbatim and shown escaped; nothing is half-written.

use crate::hub_common;

use domain::{RiskAssessment, RiskLevel, RiskReason};
use hub_common::*;
use protocol::SubmittedAnswer;
use serde_json::{json, Value};

const SQL: &str = "'); DROP TABLE cases;--";
const HTML: &str = "<script>alert(1)</script>";

async fn post_raw(hub: &TestHub, body: Vec<u8>, content_type: &str) -> reqwest::Response {
    hub.client
        .post(hub.url("/api/v1/cases"))
        .bearer_auth(STATION_A_TOKEN)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("the hub answers")
}

#[tokio::test]
async fn malformed_json_is_refused_and_nothing_is_stored() {
    let hub = TestHub::start().await;
    for body in [
        &b"{\"id\": "[..],
        b"not json at all",
        b"[1, 2, 3]",
        b"\xff\xfe{}",
        b"",
    ] {
        let r = post_raw(&hub, body.to_vec(), "application/json").await;
        assert_eq!(r.status(), 400, "{body:?}");
        let error: Value = r.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().len() > 5);
    }
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_by_its_type_is_refused() {
    let hub = TestHub::start().await;
    let case = serde_json::to_vec(&sample_case(STATION_A)).unwrap();
    let r = post_raw(&hub, case, "text/plain").await;
    assert_eq!(r.status(), 415);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "Content-Type");
}

#[tokio::test]
async fn a_one_megabyte_body_is_refused_with_413() {
    let hub = TestHub::start().await;
    let mut case = serde_json::to_value(sample_case(STATION_A)).unwrap();
    case["description"] = json!("字".repeat(350_000));
    let body = serde_json::to_vec(&case).unwrap();
    assert!(body.len() > 1_000_000);
    let r = post_raw(&hub, body, "application/json").await;
    assert_eq!(r.status(), 413);
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn an_unknown_field_is_refused_naming_it_at_any_depth() {
    let hub = TestHub::start().await;
    let case = serde_json::to_value(sample_case(STATION_A)).unwrap();
    for (path, expected) in [
        ("colour", "colour"),
        ("risk.score", "risk.score"),
        ("answers.0.note", "answers[0].note"),
    ] {
        let mut v = case.clone();
        let mut target = &mut v;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = match part.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*part],
            };
        }
        target[parts[parts.len() - 1]] = json!("red");
        let r = post_raw(&hub, serde_json::to_vec(&v).unwrap(), "application/json").await;
        assert_eq!(r.status(), 400, "{path}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["field"], expected);
        assert!(
            error["error"].as_str().unwrap().contains(expected),
            "{error}"
        );
    }
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn a_wrong_type_or_a_missing_field_is_named() {
    let hub = TestHub::start().await;
    let case = serde_json::to_value(sample_case(STATION_A)).unwrap();
    let mut v = case.clone();
    v["anonymous"] = json!("no");
    let r = post_raw(&hub, serde_json::to_vec(&v).unwrap(), "application/json").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "anonymous");
    let mut v = case;
    v.as_object_mut().unwrap().remove("consent_version");
    let r = post_raw(&hub, serde_json::to_vec(&v).unwrap(), "application/json").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "consent_version");
}

#[tokio::test]
async fn sql_and_html_in_every_text_field_are_stored_verbatim_and_shown_escaped() {
    let hub = TestHub::start().await;
    let hostile = format!("{SQL} {HTML}");
    let mut case = sample_case(STATION_A);
    case.service_name = hostile.clone();
    case.subtype_name = hostile.clone();
    case.answers = vec![SubmittedAnswer {
        question: "source".into(),
        question_label: hostile.clone(),
        value: hostile.clone(),
        value_label: hostile.clone(),
    }];
    case.description = Some(hostile.clone());
    case.consent_version = "v1 <b>'--".into();
    case.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Keyword {
            keyword: format!("{HTML}'--"),
            level: RiskLevel::High,
        }],
    };
    hub.file(&case).await;
    hub.department_says(
        &case.token,
        json!({"state": "in_progress", "note": hostile, "department": hostile}),
    )
    .await;
    let beat = json!({
        "station_id": STATION_A, "sent_at": chrono::Utc::now(), "app_version": hostile,
        "printer_state": "ready", "paper_left_m": 10.0, "paper_low": false,
        "queue_lengths": {"<i>A</i>": 1}, "outbox_pending": 0, "outbox_oldest_s": null
    });
    assert_eq!(hub.heartbeat(STATION_A_TOKEN, beat).await.status(), 204);

    // Stored verbatim, and the tables are all still there.
    let body = hub.one("SELECT body FROM cases", &[])[0].text();
    let stored: protocol::CaseSubmission = serde_json::from_str(&body).unwrap();
    assert_eq!(stored, case);
    let row = hub.one(
        "SELECT note, department FROM case_events WHERE note IS NOT NULL",
        &[],
    );
    let (note, department) = (row[0].text(), row[1].text());
    assert_eq!(
        (note.as_str(), department.as_str()),
        (hostile.as_str(), hostile.as_str())
    );
    assert_eq!(hub.count("cases"), 1);

    // Shown escaped on the tracking page...
    let page = hub
        .get(&format!("/T/{}", case.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&#39;); DROP TABLE cases;--"));

    // ...and on the operator page (department, app version; a lane name is at most 16
    // characters, so it carries a shorter tag). The risk keyword is the resident's own words:
    // the wall screen says only "keyword".
    let page = hub.operator_page().await;
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("<i>A</i>"), "{page}");
    assert!(page.contains("&lt;i&gt;A&lt;/i&gt;"), "{page}");
    assert!(
        page.matches("&lt;script&gt;alert(1)&lt;/script&gt;")
            .count()
            >= 2,
        "{page}"
    );
    let escaped_keyword = "&lt;script&gt;alert(1)&lt;/script&gt;&#39;--";
    assert!(!page.contains(escaped_keyword), "{page}");
}

#[tokio::test]
async fn identifiers_holding_sql_or_html_are_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    case.subtype = SQL.into();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "subtype");

    let mut case = sample_case(STATION_A);
    case.answers[0].question = HTML.into();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["field"],
        "answers[0].question"
    );

    let mut case = sample_case(STATION_A);
    case.phone = Some(SQL.into());
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "phone");
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn over_long_text_and_control_characters_are_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    case.description = Some("字".repeat(4001));
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "description");

    let mut case = sample_case(STATION_A);
    case.subtype_name = "噪音\u{1b}[2J".into();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "subtype_name");

    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let r = hub
        .post_event(
            DEPARTMENT_TOKEN,
            &case.token,
            json!({"state": "in_progress", "note": "x".repeat(501)}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "note");
}
