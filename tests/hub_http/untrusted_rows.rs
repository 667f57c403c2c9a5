//! Every page and list renders from rows it cannot trust (issue 17): rows of each kind with
//! extreme values written straight into the database, and every page still answers.
//!
//! Each test builds the same small world through the hub's own doors (a case a department
//! moved on, a high-risk case, a ticket, a booking, someone on duty, a heartbeat), then writes
//! rows of one kind straight into the SQLite file with its CHECK constraints off (times out of
//! range or unreadable, unknown states, broken JSON, empty and huge strings, negative and huge
//! numbers, control and bidirectional characters), as a restored backup or a hand edit could
//! leave them. Then every page and list answers: 2xx for everything else, 2xx or a clear 4xx
//! for the bad row itself, never a 5xx; the good rows still show, and no bidirectional
//! override reaches a page.

use crate::hub_common;

use chrono::{Duration, Utc};
use domain::{RiskAssessment, RiskLevel, RiskReason, TrackingToken};
use hub_common::*;
use serde_json::{json, Value};

const NOTE: &str = "已派人上门查看";
const FAR: &str = "+10000-01-01T00:00:00.000000Z";
const BEFORE: &str = "-0001-01-01T00:00:00.000000Z";
const OVERRIDES: &str = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}";

/// What the world was built with.
struct World {
    hub: TestHub,
    case: String,
    high: String,
    ticket: String,
    booking: String,
}

async fn world() -> World {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    hub.department_says(
        &case.token,
        json!({"state": "in_progress", "note": NOTE, "department": "区住建局",
               "expected_at": Utc::now() + Duration::days(3)}),
    )
    .await;
    let mut high = sample_case(STATION_A);
    high.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Keyword {
            keyword: "跳楼".into(),
            level: RiskLevel::High,
        }],
    };
    hub.file(&high).await;
    let (ticket, booking) = (new_token(), new_token());
    let now = Utc::now();
    let state = json!({
        "station_id": STATION_A, "seq": 1, "sent_at": now,
        "tickets": [{"token": ticket.as_str(), "ticket": "A007", "lane": "A", "state": "waiting",
                     "ahead": 2, "wait_min": 5, "wait_max": 10, "counter": null,
                     "taken_at": now}],
        "bookings": [{"token": booking.as_str(), "lane": "C", "role": "lawyer",
                      "start": now + Duration::hours(1), "end": now + Duration::hours(2),
                      "state": "booked"}],
        "on_duty": [{"provider_id": "lawyer-wang", "role": "lawyer", "name": "王律师",
                     "since": now}]
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
    let beat = json!({
        "station_id": STATION_A, "sent_at": now, "app_version": "0.1.0-good",
        "printer_state": "ready", "paper_left_m": 30.0, "paper_low": false,
        "queue_lengths": {"A": 1}, "outbox_pending": 0, "outbox_oldest_s": null
    });
    assert_eq!(hub.heartbeat(STATION_A_TOKEN, beat).await.status(), 204);
    World {
        hub,
        case: case.token,
        high: high.token,
        ticket: ticket.as_str().to_owned(),
        booking: booking.as_str().to_owned(),
    }
}

/// Runs `sql` with `params` on the hub's database, constraints off.
fn write(hub: &TestHub, sql: &str, params: &[Sql]) {
    hub.write_untrusted(sql, params);
}

/// A NUL character where the engine can hold one (SQLite); PostgreSQL's texts cannot, so
/// there the nearest control character stands in.
fn nul() -> &'static str {
    if engine_is_postgres() {
        "\u{1}"
    } else {
        "\u{0}"
    }
}

/// A case written straight into the file: a sound row (with its Open311 number), then
/// `changes` applied to it. Returns its code and its Open311 number.
fn case_row(hub: &TestHub, risk: &str, changes: &[(&str, Sql)]) -> (String, i64) {
    let token = new_token().as_str().to_owned();
    let id = uuid::Uuid::now_v7().to_string();
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    write(
        hub,
        "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                            filed_at, received_at, updated_at, source, body, body_sha256)
         VALUES (?1, ?2, ?3, 'complaint', 'noise', ?4, 'received', ?5, ?5, ?5, 'native',
                 '{}', 'x')",
        &[
            text(&id),
            text(&token),
            text(STATION_A),
            text(risk),
            text(&now),
        ],
    );
    write(
        hub,
        "INSERT INTO open311_requests (case_id, form) VALUES (?1, NULL)",
        &[text(&id)],
    );
    for (column, value) in changes {
        write(
            hub,
            &format!("UPDATE cases SET {column} = ?1 WHERE id = ?2"),
            &[value.clone(), text(&id)],
        );
    }
    let srid = hub.one(
        "SELECT service_request_id FROM open311_requests WHERE case_id = ?1",
        &[text(&id)],
    )[0]
    .int();
    (token, srid)
}

async fn get_as(hub: &TestHub, path: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = hub.client.get(hub.url(path));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the hub answers")
}

/// A page's status and text; a 5xx fails the test, naming the page.
async fn answer(hub: &TestHub, path: &str, bearer: Option<&str>) -> (u16, String) {
    let r = get_as(hub, path, bearer).await;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert!(
        status < 500,
        "{path} answered {status}: {}",
        body.chars().take(600).collect::<String>()
    );
    if path.starts_with("/T/") || path.starts_with("/operator") {
        assert!(
            !body.chars().any(|c| OVERRIDES.contains(c)),
            "{path} serves a bidirectional override"
        );
    }
    (status, body)
}

/// Every page and list but Open311's, for the good rows (2xx, and they still show) and for
/// each of `bad` codes (2xx or 4xx). Returns the operator page.
async fn every_page_answers(w: &World, bad: &[&str]) -> String {
    let hub = &w.hub;
    let (status, operator) = answer(hub, "/operator?lang=en", Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, 200);
    for shown in [
        format!("{}…", &w.high[..4]),
        "万达广场站".to_owned(),
        "王律师".to_owned(),
    ] {
        assert!(operator.contains(&shown), "`{shown}` missing: {operator}");
    }
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", w.case), None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(NOTE) && page.contains("In progress"),
        "{page}"
    );
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", w.ticket), None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("A007") && page.contains("2 ahead of you"),
        "{page}"
    );
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", w.booking), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Lawyer"), "{page}");
    let (status, body) = answer(
        hub,
        &format!("/api/v1/cases/{}", w.case),
        Some(STATION_A_TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = answer(hub, "/api/v1/roster", Some(STATION_A_TOKEN)).await;
    assert!(status == 200 || status == 404 || status == 409, "{status}");
    for code in bad {
        answer(hub, &format!("/T/{code}?lang=en"), None).await;
        answer(hub, &format!("/api/v1/cases/{code}"), Some(STATION_A_TOKEN)).await;
    }
    operator
}

/// Open311's lists and records (`requests.json`, `.xml`, with an `end_date`, and each of
/// `ids`): 200 for the lists, never a 5xx.
async fn open311_answers(w: &World, ids: &[i64]) {
    let hub = &w.hub;
    let key = format!("api_key={OPEN311_KEY}");
    let end = (Utc::now() + Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    for path in [
        format!("/open311/v2/requests.json?{key}"),
        format!("/open311/v2/requests.xml?{key}"),
        format!("/open311/v2/requests.json?{key}&end_date={end}"),
    ] {
        let (status, body) = answer(hub, &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    for id in ids {
        answer(hub, &format!("/open311/v2/requests/{id}.json?{key}"), None).await;
        let (status, body) = answer(
            hub,
            &format!("/open311/v2/requests.json?{key}&service_request_id={id}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn cases_with_times_out_of_range_or_unreadable() {
    let w = world().await;
    let hub = &w.hub;
    let (far_filed, _) = case_row(hub, "high", &[("filed_at", text(FAR))]);
    let (before_received, _) = case_row(hub, "high", &[("received_at", text(BEFORE))]);
    let (garbage, _) = case_row(
        hub,
        "high",
        &[
            ("filed_at", text("yesterday")),
            ("received_at", text("")),
            ("updated_at", text(nul())),
        ],
    );
    // Past due by its text (it sorts before now), and no time at all.
    let (due, _) = case_row(hub, "normal", &[("expected_at", text(FAR))]);
    let operator = every_page_answers(&w, &[&far_filed, &before_received, &garbage, &due]).await;
    // The true count includes the damaged ones, which are listed, never hidden.
    assert!(operator.contains("(4)"), "{operator}");
    for code in [&far_filed, &before_received, &garbage] {
        assert!(operator.contains(&format!("{}…", &code[..4])), "{operator}");
    }
    assert!(operator.contains(&format!("{}…", &due[..4])), "{operator}");
    // A case whose filing time does not read back says so on its page, for it alone.
    let (status, page) = answer(hub, &format!("/T/{far_filed}?lang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("cannot be shown"), "{page}");
    let r = get_as(
        hub,
        &format!("/api/v1/cases/{far_filed}"),
        Some(STATION_A_TOKEN),
    )
    .await;
    assert_eq!(r.status(), 409);
    // A department's step on it is refused alike, and writes nothing.
    let events = hub.count("case_events");
    let r = hub
        .post_event(
            DEPARTMENT_TOKEN,
            &far_filed,
            json!({"state": "acknowledged"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(hub.count("case_events"), events);
    // A case whose receipt time does not read back still shows its page.
    let (status, page) = answer(hub, &format!("/T/{before_received}?lang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Received"), "{page}");
}

#[tokio::test]
async fn cases_with_unknown_states_broken_json_and_extreme_strings() {
    let w = world().await;
    let hub = &w.hub;
    let huge = "字".repeat(200_000);
    let (lost, _) = case_row(
        hub,
        "high",
        &[("state", text("lost")), ("body", text("{not json"))],
    );
    let (extreme, _) = case_row(
        hub,
        "extreme",
        &[
            ("source", text("carrier-pigeon")),
            ("service", text("")),
            ("subtype", text(&huge)),
        ],
    );
    let (strange, _) = case_row(
        hub,
        "high",
        &[
            ("station_id", text(&format!("<b>{OVERRIDES}\u{1}\u{7f}"))),
            ("department", text(&format!("局{OVERRIDES}\n\r\t"))),
            (
                "body",
                text(r#"{"risk": {"reasons": [{"kind": "telepathy"}]}}"#),
            ),
        ],
    );
    let operator = every_page_answers(&w, &[&lost, &extreme, &strange]).await;
    assert!(
        operator.contains("damaged"),
        "an unknown state is said: {operator}"
    );
    assert!(operator.contains("&lt;b&gt;"), "{operator}");
    let (status, page) = answer(hub, &format!("/T/{lost}?lang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("cannot be shown"), "{page}");
    let (status, page) = answer(hub, &format!("/T/{extreme}?lang=en"), None).await;
    assert_eq!(status, 200, "an unknown service is shown as unknown");
    assert!(page.contains("Received"), "{page}");
}

#[tokio::test]
async fn timeline_steps_with_bad_times_states_and_text() {
    let w = world().await;
    let hub = &w.hub;
    let case_id = hub.one("SELECT id FROM cases WHERE token = ?1", &[text(&w.case)])[0].text();
    let huge = format!("长{}", "字".repeat(100_000));
    for (at, state, note, department, expected) in [
        (
            text("yesterday"),
            text("acknowledged"),
            Sql::Null,
            Sql::Null,
            Sql::Null,
        ),
        (text(FAR), text("assigned"), Sql::Null, Sql::Null, Sql::Null),
        (
            text("2024-01-01T00:00:00.000000Z"),
            text("weird"),
            Sql::Null,
            Sql::Null,
            Sql::Null,
        ),
        (
            text("2024-01-02T00:00:00.000000Z"),
            text("assigned"),
            text(&format!("骗{OVERRIDES}exe.txt{}\u{1b}[31m", nul())),
            text(&format!("局{OVERRIDES}")),
            text(BEFORE),
        ),
        (
            text("2024-01-03T00:00:00.000000Z"),
            text("assigned"),
            text(&huge),
            text(""),
            text("garbage"),
        ),
    ] {
        write(
            hub,
            "INSERT INTO case_events (case_id, at, state, note, department, expected_at,
                                      posted_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'hand')",
            &[text(&case_id), at, state, note, department, expected],
        );
    }
    every_page_answers(&w, &[]).await;
    let (_, page) = answer(hub, &format!("/T/{}?lang=en", w.case), None).await;
    assert!(
        page.contains("骗exe.txt"),
        "the readable step, overrides dropped"
    );
    assert!(page.contains(&huge), "a huge note is shown whole, escaped");
}

#[tokio::test]
async fn heartbeats_that_do_not_read_back() {
    let w = world().await;
    let hub = &w.hub;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let far_notice = json!({
        "station_id": "ghost", "sent_at": now, "app_version": format!("1{OVERRIDES}"),
        "printer_state": "ready", "paper_left_m": -5.0, "paper_low": false,
        "queue_lengths": {}, "outbox_pending": 0, "outbox_oldest_s": null,
        "notices": [{"kind": "staff-called", "at": FAR}]
    });
    for (station, received, body) in [
        (STATION_B, now.clone(), "{".to_owned()),
        ("ghost", now.clone(), far_notice.to_string()),
        ("", "never".to_owned(), "null".to_owned()),
        (
            "huge",
            now.clone(),
            json!({"station_id": "x".repeat(100_000)}).to_string(),
        ),
    ] {
        write(
            hub,
            "INSERT INTO heartbeats (station_id, sent_at, received_at, body)
             VALUES (?1, ?2, ?3, ?4)",
            &[text(station), text(&now), text(&received), text(&body)],
        );
    }
    // Station A's own heartbeat, its receipt time unreadable.
    write(
        hub,
        "UPDATE heartbeats SET received_at = ?1 WHERE station_id = ?2",
        &[text(BEFORE), text(STATION_A)],
    );
    let operator = every_page_answers(&w, &[]).await;
    assert!(
        operator.contains("ghost"),
        "the station is listed: {operator}"
    );
    assert!(!operator.contains("+10000"), "{operator}");
}

#[tokio::test]
async fn station_states_and_tickets_that_do_not_read_back() {
    let w = world().await;
    let hub = &w.hub;
    write(
        hub,
        "UPDATE station_states SET waiting = 'nope', seq = -5, sent_at = ?1",
        &[text(FAR)],
    );
    write(
        hub,
        "INSERT INTO station_states (station_id, seq, sent_at, received_at, waiting)
         VALUES ('other', 9223372036854775807, '', '', '{\"A\": -3}')",
        &[],
    );
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut codes = Vec::new();
    for (ticket, lane, state, ahead, wait_min, wait_max, counter, taken_at) in [
        // Numbers out of range: shown without them.
        (
            "A008",
            "A",
            "waiting",
            Sql::Int(-1),
            Sql::Int(30),
            Sql::Int(5),
            Sql::Int(i64::MAX),
            text(&now),
        ),
        // Every nullable NULL, empty strings.
        (
            "",
            "",
            "called",
            Sql::Null,
            Sql::Null,
            Sql::Null,
            Sql::Null,
            text(&now),
        ),
        // Unreadable essentials: said to be damaged.
        (
            "A009",
            "A",
            "lost",
            Sql::Null,
            Sql::Null,
            Sql::Null,
            Sql::Null,
            text(&now),
        ),
        (
            "A010",
            "A",
            "waiting",
            Sql::Null,
            Sql::Null,
            Sql::Null,
            Sql::Null,
            text(FAR),
        ),
        (
            &*format!("A{OVERRIDES}"),
            "A",
            "served",
            Sql::Null,
            Sql::Null,
            Sql::Null,
            Sql::Null,
            text(&now),
        ),
    ] {
        let code = new_token().as_str().to_owned();
        write(
            hub,
            "INSERT INTO queue_tickets (token, station_id, ticket, lane, state, ahead, wait_min,
                                        wait_max, counter, taken_at, seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, -1, 'then')",
            &[
                text(&code),
                text(STATION_A),
                text(ticket),
                text(lane),
                text(state),
                ahead,
                wait_min,
                wait_max,
                counter,
                taken_at,
            ],
        );
        codes.push(code);
    }
    let bad: Vec<&str> = codes.iter().map(String::as_str).collect();
    every_page_answers(&w, &bad).await;
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", codes[0]), None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("A008") && !page.contains("ahead of you"),
        "{page}"
    );
    assert!(!page.contains("9223372036854775807"), "{page}");
    for damaged in [&codes[2], &codes[3]] {
        let (status, page) = answer(hub, &format!("/T/{damaged}?lang=en"), None).await;
        assert_eq!(status, 200);
        assert!(page.contains("cannot be shown"), "{page}");
    }
}

#[tokio::test]
async fn bookings_that_do_not_read_back() {
    let w = world().await;
    let hub = &w.hub;
    let now = Utc::now();
    let at = |d: Duration| (now + d).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut codes = Vec::new();
    for (role, start, end, state) in [
        (
            text("wizard"),
            at(Duration::hours(1)),
            at(Duration::hours(2)),
            "booked",
        ),
        (
            Sql::Null,
            "tomorrow".to_owned(),
            at(Duration::hours(2)),
            "booked",
        ),
        (
            text("lawyer"),
            at(Duration::hours(3)),
            at(Duration::hours(1)),
            "booked",
        ),
        (
            text("lawyer"),
            at(Duration::hours(1)),
            FAR.to_owned(),
            "booked",
        ),
        (
            text("lawyer"),
            at(Duration::hours(1)),
            at(Duration::hours(2)),
            "teleported",
        ),
    ] {
        let code = new_token().as_str().to_owned();
        write(
            hub,
            "INSERT INTO queue_bookings (token, station_id, lane, role, start_at, end_at, state,
                                         seq, updated_at)
             VALUES (?1, ?2, 'C', ?3, ?4, ?5, ?6, 1, ?7)",
            &[
                text(&code),
                text(STATION_A),
                role,
                text(&start),
                text(&end),
                text(state),
                text(BEFORE),
            ],
        );
        codes.push(code);
    }
    let bad: Vec<&str> = codes.iter().map(String::as_str).collect();
    every_page_answers(&w, &bad).await;
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", codes[0]), None).await;
    assert_eq!(status, 200, "an unknown role: the lane alone is named");
    assert!(
        page.contains("Lane C") && !page.contains("wizard"),
        "{page}"
    );
    for damaged in &codes[1..] {
        let (status, page) = answer(hub, &format!("/T/{damaged}?lang=en"), None).await;
        assert_eq!(status, 200);
        assert!(page.contains("cannot be shown"), "{page}");
    }
}

#[tokio::test]
async fn attendance_that_does_not_read_back() {
    let w = world().await;
    let hub = &w.hub;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for (role, name, checked_in, checked_out) in [
        (text("wizard"), text("巫师"), text(&now), Sql::Null),
        (text("lawyer"), text("远方"), text(FAR), Sql::Null),
        (text("lawyer"), text("回来"), text(&now), text("zzz")),
        (
            text("mediator"),
            text(&format!("李{OVERRIDES}调解员{}", "长".repeat(50_000))),
            text(&now),
            Sql::Null,
        ),
        (text("counsellor"), text(""), text(""), Sql::Null),
    ] {
        write(
            hub,
            "INSERT INTO attendance (station_id, provider_id, role, name, checked_in_at,
                                     checked_out_at)
             VALUES (?1, 'p', ?2, ?3, ?4, ?5)",
            &[text(STATION_A), role, name, checked_in, checked_out],
        );
    }
    let operator = every_page_answers(&w, &[]).await;
    assert!(
        operator.contains("李调解员"),
        "a readable row, overrides dropped"
    );
    assert!(
        !operator.contains("巫师") && !operator.contains("远方"),
        "{operator}"
    );
}

#[tokio::test]
async fn a_roster_that_does_not_read_back_is_refused_for_that_station_only() {
    let w = world().await;
    let hub = &w.hub;
    for (station, body) in [
        (STATION_A, "{not json"),
        (STATION_B, r#"{"providers": [{"id": "x"}]}"#),
    ] {
        write(
            hub,
            "INSERT INTO rosters (station_id, body, updated_at) VALUES (?1, ?2, 'never')",
            &[text(station), text(body)],
        );
    }
    every_page_answers(&w, &[]).await;
    for token in [STATION_A_TOKEN, STATION_B_TOKEN] {
        let r = get_as(hub, "/api/v1/roster", Some(token)).await;
        assert_eq!(r.status(), 409);
        let error: Value = r.json().await.unwrap();
        assert!(
            error["error"].as_str().unwrap().contains("damaged"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn open311_lists_survive_cases_with_bad_times_and_states() {
    let w = world().await;
    let hub = &w.hub;
    let mut ids = Vec::new();
    for changes in [
        vec![("filed_at", text(FAR))],
        vec![("filed_at", text(BEFORE))],
        vec![("updated_at", text("yesterday"))],
        vec![("expected_at", text(""))],
        vec![("state", text("lost"))],
    ] {
        ids.push(case_row(hub, "normal", &changes).1);
    }
    every_page_answers(&w, &[]).await;
    open311_answers(&w, &ids).await;
}

#[tokio::test]
async fn open311_forms_that_do_not_read_back() {
    let w = world().await;
    let hub = &w.hub;
    let (code, id) = case_row(hub, "normal", &[]);
    let (_, id2) = case_row(hub, "normal", &[]);
    write(
        hub,
        "UPDATE open311_requests SET form = ?1 WHERE service_request_id = ?2",
        &[text("{not json"), Sql::Int(id)],
    );
    write(
        hub,
        "UPDATE open311_requests SET form = ?1 WHERE service_request_id = ?2",
        &[
            text(
                &json!([
                    ["address_string", format!("路{OVERRIDES}")],
                    ["lat", "north"]
                ])
                .to_string(),
            ),
            Sql::Int(id2),
        ],
    );
    every_page_answers(&w, &[&code]).await;
    open311_answers(&w, &[id, id2]).await;
}

#[tokio::test]
async fn a_department_note_with_overrides_already_stored_is_never_served() {
    let w = world().await;
    let hub = &w.hub;
    write(
        hub,
        "UPDATE case_events SET note = ?1, department = ?2 WHERE note IS NOT NULL",
        &[
            text(&format!("{NOTE}\u{202E}gnp.exe")),
            text("区\u{2066}住建局\u{2069}"),
        ],
    );
    write(
        hub,
        "UPDATE cases SET department = ?1 WHERE token = ?2",
        &[text("区\u{202D}住建局"), text(&w.case)],
    );
    let (status, page) = answer(hub, &format!("/T/{}?lang=en", w.case), None).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("{NOTE}gnp.exe")) && page.contains("区住建局"));
    let grouped = TrackingToken::parse(&w.case).unwrap().grouped();
    assert!(page.contains(&grouped));
    every_page_answers(&w, &[]).await;
}
