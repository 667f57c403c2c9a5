//! Queues, bookings, attendance and rosters at the hub: a station's state (`PUT
//! /api/v1/station-state`) drives the phone page of each ticket and booking and the operator
//! page; the district sets a station's roster and the station reads it. Also the kiosk's
//! client calls for both, against the real hub.

use crate::hub_common;

use chrono::{DateTime, Duration, Utc};
use domain::TrackingToken;
use hub_common::*;
use protocol::{OnDuty, RosterDocument, StationState, TicketState, TicketStatus};
use serde_json::{json, Value};
use station::config::UpstreamKind;
use station::upstream::client::{DeliveryError, Upstream};

fn ticket(token: &str, number: &str, ahead: u32) -> Value {
    json!({
        "token": token, "ticket": number, "lane": &number[..1], "state": "waiting",
        "ahead": ahead, "wait_min": 10, "wait_max": 20, "counter": null,
        "taken_at": Utc::now() - Duration::minutes(5)
    })
}

fn state(
    station: &str,
    seq: u64,
    tickets: Vec<Value>,
    bookings: Vec<Value>,
    on_duty: Vec<Value>,
) -> Value {
    json!({
        "station_id": station, "seq": seq, "sent_at": Utc::now(),
        "tickets": tickets, "bookings": bookings, "on_duty": on_duty
    })
}

async fn put_state(hub: &TestHub, token: &str, body: &Value) -> reqwest::Response {
    hub.client
        .put(hub.url("/api/v1/station-state"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the hub answers")
}

/// Sends `body` as station A and expects it to be taken (`204`).
async fn report(hub: &TestHub, body: &Value) {
    let r = put_state(hub, STATION_A_TOKEN, body).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
}

async fn page(hub: &TestHub, token: &str, lang: &str) -> String {
    let r = hub.get(&format!("/T/{token}?lang={lang}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(r.headers()["x-robots-tag"], "noindex, nofollow");
    r.text().await.unwrap()
}

/// A refusal's status and the field it names.
async fn refusal(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("an ApiError");
    assert!(body["error"].is_string(), "{body}");
    (
        status,
        body["field"].as_str().unwrap_or_default().to_owned(),
    )
}

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"20\">";

#[tokio::test]
async fn a_ticket_page_shows_its_number_the_people_ahead_and_the_wait() {
    let hub = TestHub::start().await;
    let code = new_token();
    let fresh = new_token();
    let mut no_history = ticket(fresh.as_str(), "A001", 0);
    no_history["wait_min"] = Value::Null;
    no_history["wait_max"] = Value::Null;
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![ticket(code.as_str(), "C003", 3), no_history],
            vec![],
            vec![],
        ),
    )
    .await;

    let en = page(&hub, code.as_str(), "en").await;
    for shown in [
        "C003",
        "Waiting",
        "3 ahead of you",
        "about 10–20 minutes",
        "万达广场站",
        REFRESH,
        code.grouped().as_str(),
    ] {
        assert!(en.contains(shown), "`{shown}` missing from {en}");
    }
    let zh = page(&hub, code.as_str(), "zh").await;
    for shown in [
        "C003",
        "等候中",
        "您前面还有 3 人",
        "10–20 分钟",
        "北京时间",
    ] {
        assert!(zh.contains(shown), "`{shown}` missing from {zh}");
    }

    let en = page(&hub, fresh.as_str(), "en").await;
    assert!(en.contains("You are next"), "{en}");
    assert!(en.contains("not yet have enough history"), "{en}");
    assert!(!en.contains("minutes"), "{en}");
    let zh = page(&hub, fresh.as_str(), "zh").await;
    assert!(
        zh.contains("下一位就是您") && zh.contains("暂时无法估计"),
        "{zh}"
    );
}

#[tokio::test]
async fn a_newer_state_moves_the_ticket_on_and_a_late_older_one_changes_nothing() {
    let hub = TestHub::start().await;
    let code = new_token();
    let t = code.as_str();
    report(
        &hub,
        &state(STATION_A, 10, vec![ticket(t, "C003", 3)], vec![], vec![]),
    )
    .await;
    assert!(page(&hub, t, "en").await.contains("3 ahead of you"));

    report(
        &hub,
        &state(STATION_A, 11, vec![ticket(t, "C003", 1)], vec![], vec![]),
    )
    .await;
    let en = page(&hub, t, "en").await;
    assert!(
        en.contains("1 ahead of you") && !en.contains("3 ahead"),
        "{en}"
    );

    let mut called = ticket(t, "C003", 0);
    called["state"] = json!("called");
    called["ahead"] = Value::Null;
    called["counter"] = json!(2);
    report(&hub, &state(STATION_A, 12, vec![called], vec![], vec![])).await;
    let en = page(&hub, t, "en").await;
    assert!(
        en.contains("Called to counter 2") && en.contains(REFRESH),
        "{en}"
    );
    assert!(!en.contains("ahead of you"), "{en}");
    assert!(page(&hub, t, "zh").await.contains("请到 2 号窗口"));

    // The outbox delivers seq 11 late, and another kiosk process repeats seq 12: both are
    // answered 204 and neither changes anything.
    report(
        &hub,
        &state(STATION_A, 11, vec![ticket(t, "C003", 1)], vec![], vec![]),
    )
    .await;
    report(
        &hub,
        &state(STATION_A, 12, vec![ticket(t, "C003", 7)], vec![], vec![]),
    )
    .await;
    let en = page(&hub, t, "en").await;
    assert!(en.contains("Called to counter 2"), "{en}");
    assert!(!en.contains("ahead of you"), "{en}");
    let seq = hub.one("SELECT seq FROM station_states", &[])[0].int();
    assert_eq!(seq, 12);

    let mut served = ticket(t, "C003", 0);
    served["state"] = json!("served");
    report(&hub, &state(STATION_A, 13, vec![served], vec![], vec![])).await;
    let en = page(&hub, t, "en").await;
    assert!(en.contains("Served") && !en.contains(REFRESH), "{en}");

    // The next day's state no longer lists it: the page keeps its last state.
    report(&hub, &state(STATION_A, 14, vec![], vec![], vec![])).await;
    assert!(page(&hub, t, "en").await.contains("Served"));

    let mut missed = ticket(new_token().as_str(), "B007", 0);
    missed["state"] = json!("no_show");
    let missed_code = missed["token"].as_str().unwrap().to_owned();
    report(&hub, &state(STATION_A, 15, vec![missed], vec![], vec![])).await;
    let en = page(&hub, &missed_code, "en").await;
    assert!(en.contains("Missed") && !en.contains(REFRESH), "{en}");
}

#[tokio::test]
async fn a_ticket_from_an_earlier_day_stops_refreshing() {
    let hub = TestHub::start().await;
    let code = new_token();
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![ticket(code.as_str(), "C003", 3)],
            vec![],
            vec![],
        ),
    )
    .await;
    assert!(page(&hub, code.as_str(), "en").await.contains(REFRESH));
    hub.advance(Duration::days(2));
    let en = page(&hub, code.as_str(), "en").await;
    assert!(!en.contains(REFRESH), "{en}");
    assert!(
        en.contains("earlier day") && !en.contains("ahead of you"),
        "{en}"
    );
}

fn booking(token: &str, lane: &str, role: Option<&str>, start: DateTime<Utc>) -> Value {
    json!({
        "token": token, "lane": lane, "role": role, "start": start,
        "end": start + Duration::minutes(30), "state": "booked"
    })
}

#[tokio::test]
async fn a_booking_page_shows_the_local_time_the_role_and_the_arrival_advice() {
    let hub = TestHub::start().await;
    let start: DateTime<Utc> = "2030-01-02T01:30:00Z".parse().unwrap();
    let lawyer = new_token();
    let mediator = new_token();
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![],
            vec![
                booking(lawyer.as_str(), "C", Some("lawyer"), start),
                booking(mediator.as_str(), "B", Some("mediator"), start),
            ],
            vec![],
        ),
    )
    .await;
    let zh = page(&hub, lawyer.as_str(), "zh").await;
    for shown in [
        "2030-01-02（周三）09:30–10:00",
        "律师",
        "已预约",
        "扫描本凭条",
        "万达广场站",
    ] {
        assert!(zh.contains(shown), "`{shown}` missing from {zh}");
    }
    let en = page(&hub, lawyer.as_str(), "en").await;
    for shown in [
        "Wed 2030-01-02, 09:30–10:00",
        "Lawyer",
        "Booked",
        "scan this slip at the station",
    ] {
        assert!(en.contains(shown), "`{shown}` missing from {en}");
    }
    assert!(!en.contains("http-equiv=\"refresh\""), "{en}");
    assert!(page(&hub, mediator.as_str(), "zh").await.contains("调解员"));

    let mut cancelled = booking(lawyer.as_str(), "C", Some("lawyer"), start);
    cancelled["state"] = json!("cancelled");
    report(&hub, &state(STATION_A, 2, vec![], vec![cancelled], vec![])).await;
    let en = page(&hub, lawyer.as_str(), "en").await;
    assert!(
        en.contains("Cancelled") && !en.contains("scan this slip"),
        "{en}"
    );
}

#[tokio::test]
async fn a_discreet_booking_never_names_its_service() {
    let hub = TestHub::start().await;
    let code = new_token();
    let start = Utc::now() + Duration::days(1);
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![],
            vec![booking(code.as_str(), "D", None, start)],
            vec![],
        ),
    )
    .await;
    for lang in ["zh", "en"] {
        let html = page(&hub, code.as_str(), lang).await;
        assert!(!html.contains("心理"), "{html}");
        assert!(!html.to_lowercase().contains("counsel"), "{html}");
        assert!(!html.contains("咨询"), "{html}");
        assert!(html.contains("D 队") || html.contains("Lane D"), "{html}");
    }
    // A role on the lane of a discreet service is not shown either.
    let other = new_token();
    report(
        &hub,
        &state(
            STATION_A,
            2,
            vec![],
            vec![booking(other.as_str(), "D", Some("counsellor"), start)],
            vec![],
        ),
    )
    .await;
    let html = page(&hub, other.as_str(), "en").await;
    assert!(
        !html.to_lowercase().contains("counsel") && html.contains("Lane D"),
        "{html}"
    );
}

#[tokio::test]
async fn a_station_reports_only_for_itself() {
    let hub = TestHub::start().await;
    let body = state(
        STATION_B,
        1,
        vec![ticket(new_token().as_str(), "A001", 0)],
        vec![],
        vec![],
    );
    let r = put_state(&hub, STATION_A_TOKEN, &body).await;
    assert_eq!(refusal(r).await, (403, "station_id".to_owned()));
    let r = put_state(&hub, "no-such-token-at-all", &body).await;
    assert_eq!(r.status(), 401);
    let r = hub
        .client
        .put(hub.url("/api/v1/station-state"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = hub
        .client
        .post(hub.url("/api/v1/station-state"))
        .bearer_auth(STATION_B_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(hub.count("queue_tickets"), 0);
    assert_eq!(hub.count("station_states"), 0);
}

#[tokio::test]
async fn malformed_codes_lanes_tickets_and_ranges_are_refused_with_the_field_named() {
    let hub = TestHub::start().await;
    let good = || ticket(new_token().as_str(), "C003", 3);
    let mut wrong_check = new_token().as_str().to_owned();
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '0' { '1' } else { '0' });
    let same = new_token();
    let start = Utc::now();
    let lawyer = json!({"provider_id": "lawyer-wang", "role": "lawyer", "name": "王律师",
                        "since": start});
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, u16, &str)> = vec![
        (
            "not a code",
            Box::new(|s| s["tickets"][0]["token"] = json!("NOT-A-CODE")),
            422,
            "tickets[0].token",
        ),
        (
            "wrong check",
            Box::new(move |s| s["tickets"][0]["token"] = json!(wrong_check.clone())),
            422,
            "tickets[0].token",
        ),
        (
            "lower-case lane",
            Box::new(|s| s["tickets"][0]["lane"] = json!("c")),
            422,
            "tickets[0].lane",
        ),
        (
            "two-letter lane",
            Box::new(|s| s["tickets"][0]["lane"] = json!("CD")),
            422,
            "tickets[0].lane",
        ),
        (
            "ticket too long",
            Box::new(|s| s["tickets"][0]["ticket"] = json!("C12345")),
            422,
            "tickets[0].ticket",
        ),
        (
            "ticket of no digits",
            Box::new(|s| s["tickets"][0]["ticket"] = json!("C")),
            422,
            "tickets[0].ticket",
        ),
        (
            "ticket of another lane",
            Box::new(|s| s["tickets"][1]["ticket"] = json!("A003")),
            422,
            "tickets[1].ticket",
        ),
        (
            "range upside down",
            Box::new(|s| s["tickets"][0]["wait_min"] = json!(30)),
            422,
            "tickets[0].wait_min",
        ),
        (
            "half a range",
            Box::new(|s| s["tickets"][0]["wait_max"] = Value::Null),
            422,
            "tickets[0].wait_max",
        ),
        (
            "a code twice",
            Box::new(move |s| {
                s["tickets"][0]["token"] = json!(same.as_str());
                s["bookings"][0]["token"] = json!(same.as_str());
            }),
            422,
            "bookings[0].token",
        ),
        (
            "booking lane",
            Box::new(|s| s["bookings"][0]["lane"] = json!("")),
            422,
            "bookings[0].lane",
        ),
        (
            "booking backwards",
            Box::new(move |s| s["bookings"][0]["end"] = json!(start - Duration::minutes(1))),
            422,
            "bookings[0].end",
        ),
        (
            "provider twice",
            Box::new(move |s| s["on_duty"] = json!([lawyer.clone(), lawyer.clone()])),
            422,
            "on_duty[1].provider_id",
        ),
        (
            "provider without a name",
            Box::new(|s| s["on_duty"][0]["name"] = json!("")),
            422,
            "on_duty[0].name",
        ),
        (
            "unknown ticket state",
            Box::new(|s| s["tickets"][0]["state"] = json!("lost")),
            400,
            "tickets[0]",
        ),
        (
            "unknown field",
            Box::new(|s| s["tickets"][1]["colour"] = json!("red")),
            400,
            "tickets[1].colour",
        ),
        (
            "unknown role",
            Box::new(|s| s["on_duty"][0]["role"] = json!("wizard")),
            400,
            "on_duty[0]",
        ),
        (
            "negative seq",
            Box::new(|s| s["seq"] = json!(-1)),
            400,
            "seq",
        ),
        (
            "huge seq",
            Box::new(|s| s["seq"] = json!(u64::MAX)),
            422,
            "seq",
        ),
    ];
    for (what, change, status, field) in cases {
        let mut body = state(
            STATION_A,
            1,
            vec![good(), ticket(new_token().as_str(), "C004", 4)],
            vec![booking(new_token().as_str(), "C", Some("lawyer"), start)],
            vec![
                json!({"provider_id": "mediator-li", "role": "mediator", "name": "李调解员",
                        "since": start}),
            ],
        );
        change(&mut body);
        let r = put_state(&hub, STATION_A_TOKEN, &body).await;
        assert_eq!(refusal(r).await, (status, field.to_owned()), "{what}");
    }
    assert_eq!(hub.count("queue_tickets"), 0);
    assert_eq!(hub.count("queue_bookings"), 0);
    assert_eq!(hub.count("attendance"), 0);
    assert_eq!(hub.count("station_states"), 0);

    // A code is read like a typed one and stored in its canonical form.
    let code = new_token();
    let typed = code.grouped().to_lowercase();
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![ticket(&typed, "C003", 2)],
            vec![],
            vec![],
        ),
    )
    .await;
    let stored = hub.one("SELECT token FROM queue_tickets", &[])[0].text();
    assert_eq!(stored, code.as_str());
    assert!(page(&hub, code.as_str(), "en")
        .await
        .contains("2 ahead of you"));
}

#[tokio::test]
async fn a_full_days_state_fits_and_one_ticket_more_is_refused() {
    let hub = TestHub::start().await;
    let start = Utc::now();
    let tickets: Vec<Value> = (0..5000)
        .map(|i| {
            let mut t = ticket(new_token().as_str(), &format!("C{:04}", i % 10_000), 4999);
            t["counter"] = json!(999);
            t
        })
        .collect();
    let bookings: Vec<Value> = (0..5000)
        .map(|_| booking(new_token().as_str(), "C", Some("counsellor"), start))
        .collect();
    let full = state(STATION_A, 1, tickets.clone(), bookings, vec![]);
    assert!(full.to_string().len() > 64 * 1024);
    report(&hub, &full).await;
    assert_eq!(hub.count("queue_tickets"), 5000);
    assert_eq!(hub.count("queue_bookings"), 5000);

    let mut more = tickets;
    more.push(ticket(new_token().as_str(), "C0001", 0));
    let r = put_state(
        &hub,
        STATION_A_TOKEN,
        &state(STATION_A, 2, more, vec![], vec![]),
    )
    .await;
    assert_eq!(refusal(r).await, (422, "tickets".to_owned()));
}

fn provider(id: &str, shifts: Value) -> Value {
    json!({
        "id": id, "role": "lawyer", "name": {"zh": "王律师", "en": "Lawyer Wang"},
        "service": "legal", "slot_min": 30, "capacity": 1, "shifts": shifts
    })
}

async fn put_roster(hub: &TestHub, token: &str, station: &str, body: &Value) -> reqwest::Response {
    hub.client
        .put(hub.url(&format!("/api/v1/stations/{station}/roster")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("the hub answers")
}

async fn get_roster(hub: &TestHub, token: &str) -> reqwest::Response {
    hub.client
        .get(hub.url("/api/v1/roster"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the hub answers")
}

#[tokio::test]
async fn a_roster_set_by_the_operator_is_what_the_station_reads() {
    let hub = TestHub::start().await;
    let r = get_roster(&hub, STATION_A_TOKEN).await;
    assert_eq!(refusal(r).await.0, 404);

    let mut mediator = provider(
        "mediator-li",
        json!([{"day": "sat", "from": "09:00", "to": "12:00"}]),
    );
    mediator["role"] = json!("mediator");
    mediator["service"] = json!("mediation");
    // Empty and default fields may be written out in full.
    mediator["exceptions"] = json!([
        {"date": "2030-01-01", "closed": true},
        {"date": "2030-01-04", "closed": false, "from": "14:00", "to": "16:00", "until": null}
    ]);
    let roster = json!({"providers": [
        provider("lawyer-wang", json!([
            {"day": "mon", "from": "09:00", "to": "12:00"},
            {"day": "wed", "from": "14:00", "to": "17:00"}
        ])),
        mediator
    ]});
    let r = put_roster(&hub, STATION_A_TOKEN, STATION_A, &roster).await;
    assert_eq!(r.status(), 401);
    assert_eq!(hub.count("rosters"), 0);
    let r = put_roster(&hub, OPERATOR_TOKEN, STATION_A, &roster).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());

    let r = get_roster(&hub, STATION_A_TOKEN).await;
    assert_eq!(r.status(), 200);
    let got: RosterDocument = r.json().await.unwrap();
    let sent: RosterDocument = serde_json::from_value(roster.clone()).unwrap();
    assert_eq!(got.providers, sent.providers);
    let updated = got.updated_at.expect("the hub stamps it");
    assert!((Utc::now() - updated).num_seconds().abs() < 60);

    // Only station A's: station B has none; an unknown station cannot be given one.
    assert_eq!(get_roster(&hub, STATION_B_TOKEN).await.status(), 404);
    let r = put_roster(&hub, OPERATOR_TOKEN, "station-z", &roster).await;
    assert_eq!(refusal(r).await, (404, "station_id".to_owned()));

    // A new roster replaces the old one whole.
    let smaller = json!({"providers": [provider("lawyer-zhao", json!([]))]});
    assert_eq!(
        put_roster(&hub, OPERATOR_TOKEN, STATION_A, &smaller)
            .await
            .status(),
        204
    );
    let got: RosterDocument = get_roster(&hub, STATION_A_TOKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got.providers.len(), 1);
    assert_eq!(got.providers[0].id, "lawyer-zhao");
}

#[tokio::test]
async fn a_roster_that_contradicts_itself_is_refused_with_the_place() {
    let hub = TestHub::start().await;
    let backwards = json!({"providers": [provider("lawyer-wang", json!([
        {"day": "mon", "from": "09:00", "to": "12:00"},
        {"day": "tue", "from": "12:00", "to": "11:00"}
    ]))]});
    let r = put_roster(&hub, OPERATOR_TOKEN, STATION_A, &backwards).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "providers[0].shifts[1]");
    assert!(
        body["error"].as_str().unwrap().contains("not before"),
        "{body}"
    );

    let overlapping = json!({"providers": [provider("lawyer-wang", json!([
        {"day": "mon", "from": "09:00", "to": "12:00"},
        {"day": "mon", "from": "11:00", "to": "13:00"}
    ]))]});
    let r = put_roster(&hub, OPERATOR_TOKEN, STATION_A, &overlapping).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "providers[0].shifts[1]");
    assert!(
        body["error"].as_str().unwrap().contains("overlaps"),
        "{body}"
    );

    let twice = json!({"providers": [provider("lawyer-wang", json!([])), provider("lawyer-wang", json!([]))]});
    let r = put_roster(&hub, OPERATOR_TOKEN, STATION_A, &twice).await;
    assert_eq!(refusal(r).await, (422, "providers[1].id".to_owned()));

    let mut unnamed = provider("lawyer-wang", json!([]));
    unnamed["name"]["en"] = json!("");
    let r = put_roster(
        &hub,
        OPERATOR_TOKEN,
        STATION_A,
        &json!({"providers": [unnamed]}),
    )
    .await;
    assert_eq!(refusal(r).await, (422, "providers[0].name.en".to_owned()));

    let mut bad_time = provider(
        "lawyer-wang",
        json!([{"day": "mon", "from": "25:00", "to": "26:00"}]),
    );
    bad_time["capacity"] = json!(1);
    let r = put_roster(
        &hub,
        OPERATOR_TOKEN,
        STATION_A,
        &json!({"providers": [bad_time]}),
    )
    .await;
    assert_eq!(refusal(r).await, (400, "providers[0]".to_owned()));

    let mut extra = provider(
        "lawyer-wang",
        json!([{"day": "mon", "from": "09:00", "to": "12:00", "room": 3}]),
    );
    extra["capacity"] = json!(1);
    let r = put_roster(
        &hub,
        OPERATOR_TOKEN,
        STATION_A,
        &json!({"providers": [extra]}),
    )
    .await;
    assert_eq!(r.status(), 400);

    assert_eq!(hub.count("rosters"), 0);
}

/// The cells of one table row of the operator page.
fn cells(row: &str) -> Vec<&str> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').unwrap() + 1..];
            &c[..c.find("</td>").unwrap()]
        })
        .collect()
}

fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in {page}"));
    let end = page[start..].find("</section>").unwrap() + start;
    &page[start..end]
}

fn station_a_row(page: &str) -> Vec<&str> {
    cells(
        section(page, "stations")
            .lines()
            .find(|l| l.contains(STATION_A))
            .expect("station A is listed"),
    )
}

#[tokio::test]
async fn attendance_queues_and_bookings_show_on_the_operator_page() {
    let hub = TestHub::start().await;
    let beat = json!({
        "station_id": STATION_A, "sent_at": Utc::now(), "app_version": "0.1.0-test",
        "printer_state": "ready", "paper_left_m": 20.0, "paper_low": false,
        "queue_lengths": {"A": 3}, "outbox_pending": 0, "outbox_oldest_s": null
    });
    assert_eq!(hub.heartbeat(STATION_A_TOKEN, beat).await.status(), 204);
    let page = hub.operator_page().await;
    let row = station_a_row(&page);
    assert_eq!(row[5], "A: 3", "{row:?}");
    assert_eq!((row[6], row[7]), ("—", "0"), "{row:?}");
    assert!(section(&page, "attendance").contains("Nobody has checked in today"));

    let since = Utc::now() - Duration::minutes(90);
    let wang = json!({"provider_id": "lawyer-wang", "role": "lawyer",
                      "name": "王律师<b>", "since": since});
    let li = json!({"provider_id": "mediator-li", "role": "mediator", "name": "李调解员",
                    "since": since});
    let mut called = ticket(new_token().as_str(), "C001", 0);
    called["state"] = json!("called");
    let now = Utc::now();
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![
                called,
                ticket(new_token().as_str(), "C002", 0),
                ticket(new_token().as_str(), "C003", 1),
                ticket(new_token().as_str(), "B001", 0),
            ],
            vec![
                booking(new_token().as_str(), "C", Some("lawyer"), now),
                booking(
                    new_token().as_str(),
                    "C",
                    Some("lawyer"),
                    now + Duration::days(3),
                ),
            ],
            vec![wang.clone(), li],
        ),
    )
    .await;
    let page = hub.operator_page().await;
    let row = station_a_row(&page);
    assert_eq!(row[5], "B: 1, C: 2", "{row:?}");
    assert!(row[6].contains("Lawyer 王律师&lt;b&gt;"), "{row:?}");
    assert!(row[6].contains("Mediator 李调解员"), "{row:?}");
    assert!(!page.contains("王律师<b>"));
    assert_eq!(row[7], "1", "{row:?}");
    let attendance = section(&page, "attendance");
    assert!(
        attendance.contains("李调解员") && attendance.contains("on duty"),
        "{attendance}"
    );

    // Li leaves: checked out at the hub's clock, off the station's row, still in today's log.
    report(&hub, &state(STATION_A, 2, vec![], vec![], vec![wang])).await;
    let page = hub.operator_page().await;
    let row = station_a_row(&page);
    assert!(
        !row[6].contains("李调解员") && row[6].contains("王律师"),
        "{row:?}"
    );
    let counts = hub.one(
        "SELECT count(checked_out_at), count(*) FROM attendance",
        &[],
    );
    let (out, ins) = (counts[0].int(), counts[1].int());
    assert_eq!((out, ins), (1, 2));
    let li_row = section(&page, "attendance")
        .lines()
        .find(|l| l.contains("李调解员"))
        .expect("Li is in today's log");
    assert!(!li_row.contains("on duty"), "{li_row}");
    // An empty queue no longer falls back to the heartbeat's count.
    assert_eq!(row[5], "—", "{row:?}");
}

#[tokio::test]
async fn every_code_that_leads_nowhere_gets_the_same_page() {
    let hub = TestHub::start().await;
    report(
        &hub,
        &state(
            STATION_A,
            1,
            vec![ticket(new_token().as_str(), "C001", 0)],
            vec![],
            vec![],
        ),
    )
    .await;
    let unknown = hub.get(&format!("/T/{}", new_token().as_str())).await;
    assert_eq!(unknown.status(), 404);
    let unknown = unknown.text().await.unwrap();
    let malformed = hub.get("/T/NOPE").await.text().await.unwrap();
    assert_eq!(unknown, malformed);
}

fn typed_state(station: &str, seq: u64, token: &TrackingToken, ahead: u32) -> StationState {
    StationState {
        station_id: station.to_owned(),
        seq,
        sent_at: Utc::now(),
        tickets: vec![TicketStatus {
            token: token.as_str().to_owned(),
            ticket: "A012".into(),
            lane: "A".into(),
            state: TicketState::Waiting,
            ahead: Some(ahead),
            wait_min: Some(5),
            wait_max: Some(15),
            counter: None,
            taken_at: Utc::now(),
        }],
        bookings: vec![],
        on_duty: vec![OnDuty {
            provider_id: "lawyer-wang".into(),
            role: domain::roster::Role::Lawyer,
            name: "王律师".into(),
            since: Utc::now(),
        }],
    }
}

#[tokio::test]
async fn the_kiosk_client_sends_its_state_and_reads_its_roster() {
    let hub = TestHub::start().await;
    let kiosk = Upstream::new(&hub.base, UpstreamKind::Native, STATION_A_TOKEN);
    assert_eq!(kiosk.roster().await, Ok(None));

    let code = new_token();
    kiosk
        .station_state(&typed_state(STATION_A, 1, &code, 4))
        .await
        .expect("the state is taken");
    assert!(page(&hub, code.as_str(), "en")
        .await
        .contains("4 ahead of you"));
    // Sent again (a retry after a lost answer): still fine, nothing changes.
    kiosk
        .station_state(&typed_state(STATION_A, 1, &code, 9))
        .await
        .expect("a repeat is fine");
    assert!(page(&hub, code.as_str(), "en")
        .await
        .contains("4 ahead of you"));

    // A refusal is permanent: sending it again will not help.
    let err = kiosk
        .station_state(&typed_state(STATION_B, 2, &code, 1))
        .await
        .unwrap_err();
    assert!(
        err.is_permanent() && err.to_string().contains("station_id"),
        "{err}"
    );
    let mut bad = typed_state(STATION_A, 3, &code, 1);
    bad.tickets[0].lane = "a".into();
    let err = kiosk.station_state(&bad).await.unwrap_err();
    assert!(
        err.is_permanent() && err.to_string().contains("tickets[0].lane"),
        "{err}"
    );

    let roster = json!({"providers": [provider("lawyer-wang", json!([
        {"day": "mon", "from": "09:00", "to": "12:00"}
    ]))]});
    assert_eq!(
        put_roster(&hub, OPERATOR_TOKEN, STATION_A, &roster)
            .await
            .status(),
        204
    );
    let got = kiosk.roster().await.unwrap().expect("a roster");
    assert_eq!(got.providers.len(), 1);
    assert_eq!(got.providers[0].id, "lawyer-wang");
    assert!(got.updated_at.is_some());

    let stranger = Upstream::new(&hub.base, UpstreamKind::Native, "not-a-station-token-x");
    assert!(matches!(
        stranger.roster().await,
        Err(DeliveryError::Permanent(_))
    ));
    assert!(matches!(
        stranger
            .station_state(&typed_state(STATION_A, 5, &code, 1))
            .await,
        Err(DeliveryError::Permanent(_))
    ));

    // Nothing listens here: worth trying again later. An Open311 upstream has neither call and
    // asks nothing.
    let closed = HeldPort::new();
    let gone = Upstream::new(
        &format!("http://127.0.0.1:{}", closed.port),
        UpstreamKind::Native,
        STATION_A_TOKEN,
    );
    assert!(matches!(
        gone.roster().await,
        Err(DeliveryError::Transient(_))
    ));
    assert!(matches!(
        gone.station_state(&typed_state(STATION_A, 6, &code, 1))
            .await,
        Err(DeliveryError::Transient(_))
    ));
    let open311 = Upstream::new(
        &format!("http://127.0.0.1:{}", closed.port),
        UpstreamKind::Open311,
        OPEN311_KEY,
    );
    assert_eq!(open311.roster().await, Ok(None));
    assert_eq!(
        open311
            .station_state(&typed_state(STATION_A, 7, &code, 1))
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn the_retired_reserved_paths_are_gone_and_a_wrong_method_says_which_to_use() {
    let hub = TestHub::start().await;
    for path in [
        "/api/v1/attendance",
        "/api/v1/bookings",
        "/api/v1/queue-events",
    ] {
        let r = hub.client.post(hub.url(path)).send().await.unwrap();
        assert_eq!(refusal(r).await.0, 404, "{path}");
    }
    for (path, allowed) in [
        ("/api/v1/stations/station-a/roster", "PUT"),
        ("/api/v1/station-state", "PUT"),
        ("/api/v1/roster", "GET"),
    ] {
        let r = hub.client.post(hub.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["allow"], allowed, "{path}");
        assert_eq!(refusal(r).await.0, 405, "{path}");
    }
}

#[tokio::test]
async fn a_time_outside_the_years_0000_to_9999_in_a_station_state_is_refused_naming_it() {
    let hub = TestHub::start().await;
    let far = "+10000-01-01T00:00:00Z";
    let now = Utc::now();
    let on_duty = |since: &str| json!({"provider_id": "lawyer-wang", "role": "lawyer", "name": "王律师", "since": since});
    let mut bad_ticket = ticket(new_token().as_str(), "A001", 0);
    bad_ticket["taken_at"] = json!("-0001-01-01T00:00:00Z");
    let cases = [
        (
            state(STATION_A, 1, vec![], vec![], vec![on_duty(far)]),
            "on_duty[0].since",
        ),
        (
            state(STATION_A, 1, vec![bad_ticket], vec![], vec![]),
            "tickets[0].taken_at",
        ),
        (
            state(
                STATION_A,
                1,
                vec![],
                vec![
                    json!({"token": new_token().as_str(), "lane": "C", "role": "lawyer",
                            "start": far, "end": now + Duration::hours(1), "state": "booked"}),
                ],
                vec![],
            ),
            "bookings[0].start",
        ),
        (
            json!({"station_id": STATION_A, "seq": 1, "sent_at": far,
                   "tickets": [], "bookings": [], "on_duty": []}),
            "sent_at",
        ),
    ];
    for (body, field) in cases {
        let r = put_state(&hub, STATION_A_TOKEN, &body).await;
        assert_eq!(refusal(r).await, (422, field.to_owned()));
    }
    for table in [
        "station_states",
        "queue_tickets",
        "queue_bookings",
        "attendance",
    ] {
        assert_eq!(hub.count(table), 0, "nothing half-written in {table}");
    }
    // The operator page answers, and a clean state afterwards is taken.
    assert!(hub.operator_page().await.contains(STATION_A));
    report(
        &hub,
        &state(
            STATION_A,
            2,
            vec![],
            vec![],
            vec![on_duty(&now.to_rfc3339())],
        ),
    )
    .await;
    assert!(hub.operator_page().await.contains("王律师"));
}

#[tokio::test]
async fn a_ticket_or_booking_cannot_take_a_code_held_by_a_case_or_another_station() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let b_ticket = new_token();
    let r = put_state(
        &hub,
        STATION_B_TOKEN,
        &state(
            STATION_B,
            1,
            vec![ticket(b_ticket.as_str(), "B001", 0)],
            vec![],
            vec![],
        ),
    )
    .await;
    assert_eq!(r.status(), 204);
    let start = Utc::now() + Duration::hours(1);
    let tries = [
        (
            state(
                STATION_A,
                1,
                vec![ticket(&case.token, "A001", 0)],
                vec![],
                vec![],
            ),
            "tickets[0].token",
            "a case",
        ),
        (
            state(
                STATION_A,
                1,
                vec![],
                vec![booking(&case.token, "C", Some("lawyer"), start)],
                vec![],
            ),
            "bookings[0].token",
            "a case",
        ),
        (
            state(
                STATION_A,
                1,
                vec![ticket(b_ticket.as_str(), "A001", 0)],
                vec![],
                vec![],
            ),
            "tickets[0].token",
            "a queue ticket",
        ),
        (
            state(
                STATION_A,
                1,
                vec![],
                vec![booking(b_ticket.as_str(), "C", Some("lawyer"), start)],
                vec![],
            ),
            "bookings[0].token",
            "a queue ticket",
        ),
    ];
    for (body, field, owner) in tries {
        let r = put_state(&hub, STATION_A_TOKEN, &body).await;
        assert_eq!(r.status(), 409, "{field} {owner}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["field"], field);
        assert!(error["error"].as_str().unwrap().contains(owner), "{error}");
    }
    assert_eq!(hub.count("queue_tickets"), 1, "only station B's own ticket");
    assert_eq!(hub.count("queue_bookings"), 0);
    assert_eq!(hub.count("station_states"), 1);
    // The case's page is still the case's; station B's ticket still its own, and B may
    // report it again.
    let case_page = page(&hub, &case.token, "en").await;
    assert!(case_page.contains("Received"), "{case_page}");
    let r = put_state(
        &hub,
        STATION_B_TOKEN,
        &state(
            STATION_B,
            2,
            vec![ticket(b_ticket.as_str(), "B001", 0)],
            vec![],
            vec![],
        ),
    )
    .await;
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn a_bidirectional_override_in_a_name_roster_or_heartbeat_is_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let wang = |name: &str| json!({"provider_id": "lawyer-wang", "role": "lawyer", "name": name, "since": Utc::now()});
    let r = put_state(
        &hub,
        STATION_A_TOKEN,
        &state(STATION_A, 1, vec![], vec![], vec![wang("王\u{202E}律师")]),
    )
    .await;
    assert_eq!(refusal(r).await, (422, "on_duty[0].name".to_owned()));
    assert_eq!(hub.count("attendance"), 0);

    let mut roster = provider(
        "lawyer-wang",
        json!([{"day": "mon", "from": "09:00", "to": "12:00"}]),
    );
    roster["name"]["en"] = json!("Lawyer \u{2066}Wang\u{2069}");
    let r = put_roster(
        &hub,
        OPERATOR_TOKEN,
        STATION_A,
        &json!({"providers": [roster]}),
    )
    .await;
    assert_eq!(refusal(r).await, (422, "providers[0].name.en".to_owned()));
    assert_eq!(get_roster(&hub, STATION_A_TOKEN).await.status(), 404);

    let beat = json!({
        "station_id": STATION_A, "sent_at": Utc::now(), "app_version": "0.1\u{202D}.0",
        "printer_state": "ready", "paper_left_m": 3.0, "paper_low": false,
        "queue_lengths": {}, "outbox_pending": 0, "outbox_oldest_s": null
    });
    let r = hub.heartbeat(STATION_A_TOKEN, beat).await;
    assert_eq!(refusal(r).await, (422, "app_version".to_owned()));
    assert_eq!(hub.count("heartbeats"), 0);
}
