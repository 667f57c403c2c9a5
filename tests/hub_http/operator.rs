//! The operators' page: every station's health, red alerts for open high-risk cases, and cases
//! past their expected date, behind the operator token.

use crate::hub_common;

use chrono::Duration;
use domain::{RiskAssessment, RiskLevel, RiskReason, TrackingToken};
use hub_common::*;
use serde_json::{json, Value};

fn heartbeat(station: &str) -> Value {
    json!({
        "station_id": station, "sent_at": chrono::Utc::now(), "app_version": "0.1.0-test",
        "printer_state": "near_end", "paper_left_m": 2.5, "paper_low": true,
        "queue_lengths": {"A": 3, "D": 1}, "outbox_pending": 4, "outbox_oldest_s": 600
    })
}

/// The part of the page from `<section id="{id}"` to its end.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in {page}"));
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

#[tokio::test]
async fn the_operator_page_needs_the_operator_token() {
    let hub = TestHub::start().await;
    let url = hub.url("/operator");
    let mut bodies = Vec::new();
    for request in [
        hub.client.get(&url),
        hub.client.get(&url).bearer_auth(STATION_A_TOKEN),
        hub.client
            .get(format!("{url}?token=operator-token-00000005")),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["cache-control"], "no-store");
        bodies.push(r.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let r = hub
        .client
        .get(format!("{url}?token={OPERATOR_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-robots-tag"], "noindex, nofollow");
}

#[tokio::test]
async fn a_heartbeat_shows_the_stations_printer_paper_queues_and_backlog() {
    let hub = TestHub::start().await;
    assert_eq!(
        hub.heartbeat(STATION_A_TOKEN, heartbeat(STATION_A))
            .await
            .status(),
        204
    );
    hub.file(&sample_case(STATION_A)).await;
    let page = hub.operator_page().await;
    let stations = section(&page, "stations");
    let row_a = stations
        .lines()
        .find(|l| l.contains(STATION_A))
        .expect("station A is listed");
    for shown in [
        "万达广场站",
        "0.1.0-test",
        "near_end",
        "2.5 m",
        "A: 3",
        "D: 1",
        "4 (oldest 10 min)",
    ] {
        assert!(row_a.contains(shown), "`{shown}` missing from {row_a}");
    }
    assert!(!row_a.contains("silent"), "{row_a}");
    let row_b = stations
        .lines()
        .find(|l| l.contains(STATION_B))
        .expect("a station with a token is listed before it calls");
    assert!(row_b.contains("never heard from"), "{row_b}");
}

#[tokio::test]
async fn a_station_silent_for_more_than_three_minutes_is_marked() {
    let hub = TestHub::start().await;
    hub.heartbeat(STATION_A_TOKEN, heartbeat(STATION_A)).await;
    hub.advance(Duration::minutes(2));
    assert!(!hub.operator_page().await.contains("silent for"));
    hub.advance(Duration::minutes(5));
    let page = hub.operator_page().await;
    let row = section(&page, "stations")
        .lines()
        .find(|l| l.contains(STATION_A))
        .unwrap()
        .to_owned();
    assert!(row.contains("silent for 7 min"), "{row}");
}

#[tokio::test]
async fn a_high_risk_case_raises_a_red_alert_until_it_is_closed() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    case.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Keyword {
            keyword: "打人".into(),
            level: RiskLevel::High,
        }],
    };
    hub.file(&case).await;
    hub.file(&sample_case(STATION_A)).await;
    let grouped = TrackingToken::parse(&case.token).unwrap().grouped();

    let page = hub.operator_page().await;
    let alerts = section(&page, "red-alerts");
    assert!(alerts.contains("(1)"), "{alerts}");
    assert!(
        alerts.contains(&grouped) && alerts.contains("打人"),
        "{alerts}"
    );
    for secret in ["13812345678", "DESCRIPTION-MARK", "ANSWER-MARK"] {
        assert!(!page.contains(secret), "{secret} shown to operators");
    }

    hub.department_says(&case.token, json!({"state": "resolved"}))
        .await;
    let page = hub.operator_page().await;
    let alerts = section(&page, "red-alerts");
    assert!(!alerts.contains(&grouped), "{alerts}");
    assert!(alerts.contains("No high-risk case is open."));
}

#[tokio::test]
async fn a_case_past_its_expected_date_is_listed_until_it_is_closed() {
    let hub = TestHub::start().await;
    let late = sample_case(STATION_A);
    let on_time = sample_case(STATION_A);
    hub.file(&late).await;
    hub.file(&on_time).await;
    let soon = chrono::Utc::now() + Duration::hours(1);
    hub.department_says(
        &late.token,
        json!({"state": "assigned", "expected_at": soon}),
    )
    .await;
    hub.department_says(
        &on_time.token,
        json!({"state": "assigned", "expected_at": soon + Duration::days(3)}),
    )
    .await;
    assert!(section(&hub.operator_page().await, "past-due").contains("(0)"));

    hub.advance(Duration::hours(3));
    let page = hub.operator_page().await;
    let due = section(&page, "past-due");
    let late_code = TrackingToken::parse(&late.token).unwrap().grouped();
    let on_time_code = TrackingToken::parse(&on_time.token).unwrap().grouped();
    assert!(due.contains(&late_code), "{due}");
    assert!(!due.contains(&on_time_code), "{due}");
    assert!(due.contains("2 h"), "overdue by about two hours: {due}");

    hub.department_says(&late.token, json!({"state": "resolved"}))
        .await;
    let page = hub.operator_page().await;
    assert!(!section(&page, "past-due").contains(&late_code));
}
