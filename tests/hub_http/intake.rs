//! Kiosks file cases with the hub: idempotent intake, station tokens, progress, heartbeats.

use crate::hub_common;

use hub_common::*;
use serde_json::Value;

#[tokio::test]
async fn a_new_case_is_created_and_a_replay_gets_the_same_receipt() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);

    let first = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(first.status(), 201);
    let first_body = first.text().await.unwrap();
    let receipt: Value = serde_json::from_str(&first_body).unwrap();
    assert_eq!(receipt["id"], case.id.as_str());
    assert_eq!(receipt["token"], case.token.as_str());
    assert_eq!(receipt["state"], "received");

    let replay = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(
        replay.text().await.unwrap(),
        first_body,
        "the very same receipt"
    );
    assert_eq!(hub.count("cases"), 1, "the hub keeps one case");
    assert_eq!(hub.count("case_events"), 1);
}

#[tokio::test]
async fn a_replay_after_a_department_moved_the_case_still_gets_the_first_receipt() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    let first = hub
        .submit(STATION_A_TOKEN, &case)
        .await
        .text()
        .await
        .unwrap();
    hub.department_says(&case.token, serde_json::json!({"state": "acknowledged"}))
        .await;
    let replay = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(replay.status(), 200);
    assert_eq!(replay.text().await.unwrap(), first);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_a_conflict() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let mut changed = case.clone();
    changed.description = Some("something else".into());
    let r = hub.submit(STATION_A_TOKEN, &changed).await;
    assert_eq!(r.status(), 409);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["field"], "id");
    assert_eq!(hub.count("cases"), 1);
}

#[tokio::test]
async fn the_same_tracking_code_under_another_id_is_a_conflict() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let mut other = sample_case(STATION_A);
    other.token = case.token.clone();
    let r = hub.submit(STATION_A_TOKEN, &other).await;
    assert_eq!(r.status(), 409);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["field"], "token");
    assert_eq!(hub.count("cases"), 1);
}

#[tokio::test]
async fn a_missing_or_wrong_station_token_gets_one_identical_401() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    let url = hub.url("/api/v1/cases");
    let attempts = [
        hub.client.post(&url),
        hub.client.post(&url).bearer_auth("token-of-station-a-0000"),
        hub.client.post(&url).bearer_auth(DEPARTMENT_TOKEN),
        hub.client.post(&url).bearer_auth(OPERATOR_TOKEN),
        hub.client
            .post(&url)
            .basic_auth(STATION_A, Some(STATION_A_TOKEN)),
    ];
    let mut bodies = Vec::new();
    for attempt in attempts {
        let r = attempt
            .header("Idempotency-Key", &case.id)
            .json(&case)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        bodies.push(r.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn a_station_cannot_file_a_case_for_another_station() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    let r = hub.submit(STATION_B_TOKEN, &case).await;
    assert_eq!(r.status(), 403);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["field"], "station_id");
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn the_idempotency_key_is_required_and_must_be_the_case_id() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    let r = hub
        .client
        .post(hub.url("/api/v1/cases"))
        .bearer_auth(STATION_A_TOKEN)
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "Idempotency-Key");

    let r = hub
        .client
        .post(hub.url("/api/v1/cases"))
        .bearer_auth(STATION_A_TOKEN)
        .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "id");
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn a_malformed_tracking_code_or_case_id_is_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    let mut chars: Vec<char> = case.token.chars().collect();
    chars.swap(0, 1);
    if chars[0] == chars[1] {
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    }
    case.token = chars.into_iter().collect();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "token");

    let mut case = sample_case(STATION_A);
    case.id = "not-a-uuid".into();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "id");
}

#[tokio::test]
async fn any_station_reads_a_cases_progress_without_personal_data() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let grouped_lower = domain::TrackingToken::parse(&case.token)
        .unwrap()
        .grouped()
        .to_lowercase();
    let r = hub
        .client
        .get(hub.url(&format!("/api/v1/cases/{grouped_lower}")))
        .bearer_auth(STATION_B_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let progress: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(progress["token"], case.token.as_str());
    assert_eq!(progress["state"], "received");
    assert_eq!(progress["station_id"], STATION_A);
    assert_eq!(progress["timeline"].as_array().unwrap().len(), 1);
    for secret in ["13812345678", "DESCRIPTION-MARK", "ANSWER-MARK"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }

    let r = hub
        .client
        .get(hub.url(&format!("/api/v1/cases/{}", new_token())))
        .bearer_auth(STATION_B_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = hub
        .client
        .get(hub.url(&format!("/api/v1/cases/{}", case.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_heartbeat_is_accepted_only_for_the_tokens_own_station() {
    let hub = TestHub::start().await;
    let beat = serde_json::json!({
        "station_id": STATION_A, "sent_at": chrono::Utc::now(), "app_version": "0.1.0",
        "printer_state": "ready", "paper_left_m": 41.5, "paper_low": false,
        "queue_lengths": {"A": 2}, "outbox_pending": 0, "outbox_oldest_s": null
    });
    assert_eq!(
        hub.heartbeat(STATION_A_TOKEN, beat.clone()).await.status(),
        204
    );
    let r = hub.heartbeat(STATION_B_TOKEN, beat.clone()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "station_id");
    assert_eq!(
        hub.heartbeat("nobody-at-all-here", beat).await.status(),
        401
    );
    assert_eq!(hub.count("heartbeats"), 1);
}

#[tokio::test]
async fn a_station_token_registered_at_run_time_is_accepted() {
    let hub = TestHub::start().await;
    hub.hub
        .set_station_token("in-process", "a-token-made-by-the-kiosk")
        .unwrap();
    let case = sample_case("in-process");
    let r = hub.submit("a-token-made-by-the-kiosk", &case).await;
    assert_eq!(r.status(), 201);
    assert!(hub.hub.set_station_token("in-process", "short").is_err());
}

/// Files `case` as raw JSON with `filed_at` replaced, as a client outside the kiosk could.
async fn submit_with_filed_at(hub: &TestHub, filed_at: &str) -> reqwest::Response {
    let case = sample_case(STATION_A);
    let mut body = serde_json::to_value(&case).unwrap();
    body["filed_at"] = Value::String(filed_at.into());
    hub.client
        .post(hub.url("/api/v1/cases"))
        .bearer_auth(STATION_A_TOKEN)
        .header("Idempotency-Key", &case.id)
        .json(&body)
        .send()
        .await
        .expect("the hub answers")
}

#[tokio::test]
async fn a_case_filed_outside_the_years_0000_to_9999_is_refused_naming_filed_at() {
    let hub = TestHub::start().await;
    for far in ["+10000-01-01T00:00:00Z", "-0001-06-01T00:00:00Z"] {
        let r = submit_with_filed_at(&hub, far).await;
        assert_eq!(r.status(), 422, "{far}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["field"], "filed_at", "{error}");
        assert!(
            error["error"].as_str().unwrap().contains("0000 to 9999"),
            "{error}"
        );
    }
    assert_eq!(hub.count("cases"), 0, "nothing half-written");
    for edge in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
        assert_eq!(
            submit_with_filed_at(&hub, edge).await.status(),
            201,
            "{edge}"
        );
    }
}

#[tokio::test]
async fn a_bidirectional_override_in_any_text_of_a_case_is_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    case.answers[0].value_label = "装修\u{202E}txt.exe".into();
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["field"], "answers[0].value_label", "{error}");
    let mut case = sample_case(STATION_A);
    case.description = Some("看\u{2066}这里\u{2069}".into());
    let r = hub.submit(STATION_A_TOKEN, &case).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "description");
    assert_eq!(hub.count("cases"), 0);
}

/// Puts a state with one ticket and one booking as station A, and returns their codes.
async fn ticket_and_booking(hub: &TestHub) -> (String, String) {
    let (ticket, booking) = (new_token(), new_token());
    let now = chrono::Utc::now();
    let state = serde_json::json!({
        "station_id": STATION_A, "seq": 1, "sent_at": now,
        "tickets": [{"token": ticket.as_str(), "ticket": "A001", "lane": "A", "state": "waiting",
                     "ahead": 0, "wait_min": null, "wait_max": null, "counter": null,
                     "taken_at": now}],
        "bookings": [{"token": booking.as_str(), "lane": "C", "role": "lawyer",
                      "start": now + chrono::Duration::hours(1),
                      "end": now + chrono::Duration::hours(2), "state": "booked"}],
        "on_duty": []
    });
    let r = hub
        .client
        .put(hub.url("/api/v1/station-state"))
        .bearer_auth(STATION_A_TOKEN)
        .json(&state)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    (ticket.as_str().to_owned(), booking.as_str().to_owned())
}

#[tokio::test]
async fn a_case_cannot_take_over_a_queue_ticket_s_or_a_booking_s_code() {
    let hub = TestHub::start().await;
    let (ticket, booking) = ticket_and_booking(&hub).await;
    for (code, owner) in [(&ticket, "a queue ticket"), (&booking, "a booking")] {
        let mut case = sample_case(STATION_B);
        case.token = code.clone();
        let r = hub.submit(STATION_B_TOKEN, &case).await;
        assert_eq!(r.status(), 409, "{owner}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["field"], "token");
        assert!(
            error["error"].as_str().unwrap().contains(owner),
            "names what holds the code: {error}"
        );
    }
    assert_eq!(hub.count("cases"), 0);
    // The ticket's page is still the ticket's.
    let page = hub
        .get(&format!("/T/{ticket}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("A001"), "{page}");
}
