//! The district's back office over its JSON API (issue 19, DISTRICT.md §11), on the demo
//! district, with a clock the test sets: logins, sessions and lockout; routing, acceptance,
//! returns, orders and arrival; who may see and do what (each refusal logged); two dispatchers
//! at once; a high-risk case routed at intake; deadlines from the working calendar.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::hub_common::*;
use hub::admin::NewUser;
use protocol::{CaseSubmission, SubmittedAnswer};

pub(crate) const DEMO_TOKEN: &str = "token-of-demo-station-01";
const SITE_TOKEN: &str = "token-of-site-station-02";

/// A hub on the demo district whose clock starts at `local` (China Standard Time), with the
/// kiosks `demo` (光明北社区) and `gm-south-site` (光明南社区) and an account for every role.
pub(crate) async fn district_hub(local: &str) -> TestHub {
    let at = DateTime::parse_from_rfc3339(&format!("{local}+08:00"))
        .expect("a local time")
        .with_timezone(&Utc);
    let hub = TestHub::start_at(Some(at), |c| {
        c.add_station("demo", DEMO_TOKEN);
        c.add_station("gm-south-site", SITE_TOKEN);
    })
    .await;
    for (id, unit, role) in [
        ("dispatcher", "demo-district", "dispatcher"),
        ("dispatcher2", "demo-district", "dispatcher"),
        ("secretary", "gm-north", "secretary"),
        ("gm-north-handler", "gm-north", "community"),
        ("south-secretary", "gm-south", "secretary"),
        ("street", "guangming", "street"),
        ("donghu-street", "donghu", "street"),
        ("housing", "housing", "department"),
        ("labour", "labour", "department"),
        ("leader", "demo-district", "leader"),
        ("auditor", "demo-district", "auditor"),
    ] {
        let made = hub
            .hub
            .add_user(&NewUser {
                id: id.into(),
                unit: unit.into(),
                role: role.into(),
                name: None,
                password: format!("password-of-{id}"),
                replace: false,
            })
            .await
            .expect("the account is made");
        assert!(made);
    }
    hub
}

/// The seed's case: wages owed to a dozen builders, filed at the demo kiosk.
pub(crate) fn wages_case(hub: &TestHub, station: &str) -> CaseSubmission {
    let mut case = sample_case(station);
    case.filed_at = hub.now();
    case.subtype = "wages_owed".into();
    case.subtype_name = "拖欠工资".into();
    case.answers = vec![
        SubmittedAnswer {
            question: "amount".into(),
            question_label: "被拖欠多少钱？".into(),
            value: "over_100k".into(),
            value_label: "10万元以上".into(),
        },
        SubmittedAnswer {
            question: "workers".into(),
            question_label: "有多少人被拖欠？".into(),
            value: "10_29".into(),
            value_label: "10到29人".into(),
        },
    ];
    case.description = Some("拖欠三十万工程款，十几个工人".into());
    case
}

pub(crate) async fn login(hub: &TestHub, user: &str) -> String {
    log_in_as(hub, user, &format!("password-of-{user}"))
        .await
        .unwrap_or_else(|body| panic!("{user} logs in: {body}"))
}

/// `POST /api/v1/login`: the session's token, or the refusal's body.
pub(crate) async fn log_in_as(hub: &TestHub, user: &str, password: &str) -> Result<String, Value> {
    let (status, body) = call_as(
        hub,
        None,
        Method::POST,
        "/api/v1/login",
        Some(json!({ "user": user, "password": password })),
    )
    .await;
    if status != StatusCode::OK {
        return Err(body);
    }
    Ok(body["token"].as_str().expect("a token").to_owned())
}

async fn call_as(
    hub: &TestHub,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = hub.client.request(method, hub.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.expect("the hub answers");
    let status = response.status();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(crate) async fn post(
    hub: &TestHub,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    call_as(hub, Some(token), Method::POST, path, Some(body)).await
}

pub(crate) async fn get(hub: &TestHub, token: &str, path: &str) -> (StatusCode, Value) {
    call_as(hub, Some(token), Method::GET, path, None).await
}

fn case_path(code: &str, action: &str) -> String {
    format!("/api/v1/district/cases/{code}/{action}")
}

/// Files `case` and has the dispatcher route it to `unit`; returns its code.
async fn filed_and_routed(hub: &TestHub, case: &CaseSubmission, token: &str, unit: &str) -> String {
    assert_eq!(hub.submit(token, case).await.status(), 201);
    let dispatcher = login(hub, "dispatcher").await;
    let (status, body) = post(
        hub,
        &dispatcher,
        &case_path(&case.token, "route"),
        json!({"unit": unit}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    case.token.clone()
}

fn local(text: &Value) -> String {
    let t = DateTime::parse_from_rfc3339(text.as_str().expect("a time")).expect("RFC 3339");
    t.with_timezone(&domain::calendar::china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn the_seed_story_runs_through_the_api_and_counts_as_same_day() {
    // Tuesday 2 June 2026, 09:30 in the district.
    let hub = district_hub("2026-06-02T09:30:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let code = case.token.clone();

    // The dispatcher sees it among the new cases, the catalogue suggesting labour; she routes
    // it to the community instead.
    let dispatcher = login(&hub, "dispatcher").await;
    let (status, list) = get(&hub, &dispatcher, "/api/v1/district/cases?state=received").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["cases"][0]["token"], code.as_str());
    assert_eq!(list["cases"][0]["state"], "received");
    let (status, routed) = post(
        &hub,
        &dispatcher,
        &case_path(&code, "route"),
        json!({"unit": "gm-north"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{routed}");
    assert_eq!(routed["unit"], "gm-north");
    // Wages of ten or more: complex, one working day to accept.
    assert_eq!(routed["class"], "complex");
    assert_eq!(local(&routed["accept_by"]), "2026-06-03 09:30");

    // The secretary accepts and orders the housing bureau to come at 14:00.
    let secretary = login(&hub, "secretary").await;
    let (status, _) = post(&hub, &secretary, &case_path(&code, "accept"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, order) = post(
        &hub,
        &secretary,
        &case_path(&code, "orders"),
        json!({
            "department": "housing",
            "need": "核实工程款拨付，约谈总包单位",
            "place": "光明南工地项目部",
            "arrive_by": "2026-06-02T14:00:00+08:00",
            "staff": 3,
            "reply_by": "2026-06-02T11:00:00+08:00",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["number"], "光明北发令〔2026〕0001号");
    let id = order["id"].as_i64().expect("an order id");

    // The bureau accepts, arrives at 13:50, the community confirms.
    let housing = login(&hub, "housing").await;
    let (status, _) = post(
        &hub,
        &housing,
        &format!("/api/v1/district/orders/{id}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    hub.advance(Duration::minutes(4 * 60 + 25));
    let (status, arrived) = post(
        &hub,
        &housing,
        &format!("/api/v1/district/orders/{id}/arrive"),
        json!({
            "people": ["王建国", "李敏", "赵强"],
            "at": "2026-06-02T13:50:00+08:00",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{arrived}");
    assert_eq!(arrived["state"], "arrived");
    assert_eq!(local(&arrived["arrived_at"]), "2026-06-02 13:50");
    let (status, confirmed) = post(
        &hub,
        &secretary,
        &format!("/api/v1/district/orders/{id}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["state"], "confirmed");

    // The community posts progress and the result the same afternoon.
    hub.advance(Duration::hours(2));
    let (status, _) = post(
        &hub,
        &secretary,
        &case_path(&code, "progress"),
        json!({"note": "住建局已到场，约谈总包"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, resolved) = post(
        &hub,
        &secretary,
        &case_path(&code, "resolve"),
        json!({"result": "总包单位承诺三日内结清"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["state"], "resolved");
    assert_eq!(resolved["same_day"], true);

    // The citizen's page shows it resolved, with the result, and none of the inside story.
    let page = hub
        .get(&format!("/T/{code}?lang=zh"))
        .await
        .text()
        .await
        .expect("a page");
    assert!(
        page.contains("总包单位承诺三日内结清"),
        "the result is public"
    );
    assert!(!page.contains("光明北发令"), "orders stay inside");

    // The timeline has every step and who did it.
    let (status, timeline) = get(&hub, &dispatcher, &case_path(&code, "timeline")).await;
    assert_eq!(status, StatusCode::OK);
    let steps: Vec<(String, String)> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("routed", "dispatcher"),
        ("accepted", "secretary"),
        ("order_issued", "secretary"),
        ("order_accepted", "housing"),
        ("arrived", "housing"),
        ("arrival_confirmed", "secretary"),
        ("progress", "secretary"),
        ("resolved", "secretary"),
    ];
    let got: Vec<(&str, &str)> = steps
        .iter()
        .map(|(k, b)| (k.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn acting_outside_ones_unit_or_role_is_refused_and_logged() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let code = filed_and_routed(&hub, &wages_case(&hub, "demo"), DEMO_TOKEN, "gm-north").await;
    let housing = login(&hub, "housing").await;
    let (status, body) = post(&hub, &housing, &case_path(&code, "accept"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let leader = login(&hub, "leader").await;
    let (status, _) = post(
        &hub,
        &leader,
        &case_path(&code, "route"),
        json!({"unit": "labour"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let auditor = login(&hub, "auditor").await;
    let (status, _) = get(&hub, &auditor, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A unit asking for another unit's list.
    let (status, _) = get(&hub, &housing, "/api/v1/district/cases?unit=gm-north").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The other street cannot see it; the case's own street can.
    let donghu = login(&hub, "donghu-street").await;
    assert_eq!(
        get(&hub, &donghu, &format!("/api/v1/district/cases/{code}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let street = login(&hub, "street").await;
    assert_eq!(
        get(&hub, &street, &format!("/api/v1/district/cases/{code}"))
            .await
            .0,
        StatusCode::OK
    );
    let refused = hub.rows(
        "SELECT user_id, detail FROM audit_log WHERE action = 'refused' ORDER BY id",
        &[],
    );
    let who: Vec<String> = refused
        .iter()
        .map(|r| match &r[0] {
            Sql::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        who,
        ["housing", "leader", "donghu-street"],
        "each refusal is in the audit log"
    );
    // Out of turn is a conflict, not a refusal: resolving before accepting.
    let secretary = login(&hub, "secretary").await;
    let (status, body) = post(
        &hub,
        &secretary,
        &case_path(&code, "resolve"),
        json!({"result": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("this step is for a case that is “In progress”"),
        "{body}"
    );
}

#[tokio::test]
async fn two_dispatchers_routing_the_same_case_at_once_one_wins_and_the_other_is_told() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let (a, b) = (
        login(&hub, "dispatcher").await,
        login(&hub, "dispatcher2").await,
    );
    let (_, seen) = get(&hub, &a, &format!("/api/v1/district/cases/{}", case.token)).await;
    let version = seen["version"].as_i64().expect("a version");
    let path = case_path(&case.token, "route");
    let (first, second) = tokio::join!(
        post(
            &hub,
            &a,
            &path,
            json!({"unit": "gm-north", "version": version})
        ),
        post(
            &hub,
            &b,
            &path,
            json!({"unit": "labour", "version": version})
        ),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{first:?} {second:?}"
    );
    let loser = if first.0 == StatusCode::CONFLICT {
        &first.1
    } else {
        &second.1
    };
    assert!(
        loser["error"]
            .as_str()
            .unwrap()
            .contains("someone else acted on it"),
        "{loser}"
    );
    let routed = hub.rows(
        "SELECT count(*) FROM district_events WHERE kind = 'routed'",
        &[],
    );
    assert_eq!(routed[0][0], Sql::Int(1), "routed once");
}

#[tokio::test]
async fn orders_keep_their_order_and_their_community() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let code = filed_and_routed(&hub, &wages_case(&hub, "demo"), DEMO_TOKEN, "gm-north").await;
    let secretary = login(&hub, "secretary").await;
    post(&hub, &secretary, &case_path(&code, "accept"), json!({})).await;
    let order = |dept: &str| {
        json!({
            "department": dept, "place": "工地", "arrive_by": "2026-06-02T14:00:00+08:00", "staff": 2,
        })
    };
    // A secretary of another community may not order for this case.
    let south = login(&hub, "south-secretary").await;
    assert_eq!(
        post(&hub, &south, &case_path(&code, "orders"), order("housing"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Only a department can be ordered; the arrival must be ahead.
    let (status, body) = post(
        &hub,
        &secretary,
        &case_path(&code, "orders"),
        order("gm-south"),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("department"))
    );
    let mut late = order("housing");
    late["arrive_by"] = json!("2026-06-01T14:00:00+08:00");
    assert_eq!(
        post(&hub, &secretary, &case_path(&code, "orders"), late)
            .await
            .1["field"],
        "arrive_by"
    );
    let (status, made) = post(
        &hub,
        &secretary,
        &case_path(&code, "orders"),
        order("housing"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = made["id"].as_i64().unwrap();
    let (_, second) = post(
        &hub,
        &secretary,
        &case_path(&code, "orders"),
        order("police"),
    )
    .await;
    assert_eq!(
        second["number"], "光明北发令〔2026〕0002号",
        "numbers follow on per community and year"
    );
    let housing = login(&hub, "housing").await;
    let arrive = format!("/api/v1/district/orders/{id}/arrive");
    let people = json!({"people": ["王建国"]});
    // Arrival before acceptance, by the wrong department, twice.
    let (status, body) = post(&hub, &housing, &arrive, people.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("accept it first"));
    let labour = login(&hub, "labour").await;
    assert_eq!(
        post(
            &hub,
            &labour,
            &format!("/api/v1/district/orders/{id}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &hub,
            &housing,
            &format!("/api/v1/district/orders/{id}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        post(&hub, &housing, &arrive, people.clone()).await.0,
        StatusCode::OK
    );
    let (status, body) = post(&hub, &housing, &arrive, people).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("already reported"));
    let (status, body) = post(
        &hub,
        &housing,
        &arrive.replace("arrive", "confirm"),
        json!({}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the department does not confirm itself: {body}"
    );
    // The ordered department sees the case (without the resident's data), the other not.
    let (status, seen) = get(&hub, &housing, &format!("/api/v1/district/cases/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["personal"], Value::Null);
    assert_eq!(
        get(&hub, &labour, &format!("/api/v1/district/cases/{code}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn only_the_dispatcher_and_the_assigned_unit_see_the_residents_data_and_each_view_is_logged()
{
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    let code = filed_and_routed(&hub, &case, DEMO_TOKEN, "gm-north").await;
    let phone = case.phone.clone().unwrap();
    for (user, sees) in [
        ("dispatcher", true),
        ("secretary", true),
        ("gm-north-handler", true),
        ("street", false),
        ("leader", false),
    ] {
        let token = login(&hub, user).await;
        let (status, body) = get(&hub, &token, &format!("/api/v1/district/cases/{code}")).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(body.to_string().contains(&phone), sees, "{user}: {body}");
        assert_eq!(body.to_string().contains("十几个工人"), sees, "{user}");
        // No list, for anyone, carries it.
        let (_, list) = get(&hub, &token, "/api/v1/district/cases").await;
        assert!(
            !list.to_string().contains(&phone) && !list.to_string().contains("十几个工人"),
            "{user}"
        );
        let (_, timeline) = get(&hub, &token, &case_path(&code, "timeline")).await;
        assert!(!timeline.to_string().contains(&phone), "{user}");
    }
    let views = hub.rows(
        "SELECT user_id FROM audit_log WHERE action = 'view_personal' AND target = ?1 ORDER BY id",
        &[text(&code)],
    );
    let who: Vec<&Sql> = views.iter().map(|r| &r[0]).collect();
    assert_eq!(
        who,
        [
            &text("dispatcher"),
            &text("secretary"),
            &text("gm-north-handler")
        ]
    );
}

#[tokio::test]
async fn wrong_passwords_lock_an_account_and_sessions_expire() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let wrong = json!({"user": "housing", "password": "not-the-password"});
    for _ in 0..5 {
        let (status, _) = call_as(
            &hub,
            None,
            Method::POST,
            "/api/v1/login",
            Some(wrong.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the same answer as a wrong one.
    let right = json!({"user": "housing", "password": "password-of-housing"});
    let (status, body) = call_as(
        &hub,
        None,
        Method::POST,
        "/api/v1/login",
        Some(right.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, unknown) = call_as(
        &hub,
        None,
        Method::POST,
        "/api/v1/login",
        Some(json!({"user": "nobody", "password": "whatever-it-is"})),
    )
    .await;
    assert_eq!(
        body, unknown,
        "a locked account and an unknown user answer alike"
    );
    hub.advance(Duration::minutes(16));
    let (status, session) = call_as(&hub, None, Method::POST, "/api/v1/login", Some(right)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "unlocked after a quarter of an hour"
    );
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&hub, &token, "/api/v1/district/cases").await.0,
        StatusCode::OK
    );
    // The table holds the token's digest, never the token.
    assert_eq!(
        hub.rows(
            "SELECT count(*) FROM sessions WHERE digest = ?1",
            &[text(&token)]
        )[0][0],
        Sql::Int(0)
    );
    hub.advance(Duration::hours(13));
    assert_eq!(
        get(&hub, &token, "/api/v1/district/cases").await.0,
        StatusCode::UNAUTHORIZED,
        "expired"
    );
    assert_eq!(
        get(&hub, "made-up-token", "/api/v1/district/cases").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call_as(&hub, None, Method::GET, "/api/v1/district/cases", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_high_risk_case_is_routed_at_intake_and_a_general_one_waits_on_working_hours() {
    // Friday 5 June 2026, 16:00.
    let hub = district_hub("2026-06-05T16:00:00").await;
    let mut urgent = wages_case(&hub, "gm-south-site");
    urgent.risk.level = domain::RiskLevel::High;
    assert_eq!(hub.submit(SITE_TOKEN, &urgent).await.status(), 201);
    let dispatcher = login(&hub, "dispatcher").await;
    let (_, seen) = get(
        &hub,
        &dispatcher,
        &format!("/api/v1/district/cases/{}", urgent.token),
    )
    .await;
    assert_eq!(seen["state"], "assigned", "routed without waiting: {seen}");
    assert_eq!(seen["unit"], "labour", "by the catalogue's rule");
    assert_eq!(seen["class"], "emergency");
    assert_eq!(local(&seen["accept_by"]), "2026-06-05 16:30");

    // A general case routed at 16:00 on a Friday: 4 working hours end on Monday at 11:30.
    let mut general = sample_case("demo");
    general.filed_at = hub.now();
    let code = filed_and_routed(&hub, &general, DEMO_TOKEN, "gm-north").await;
    let (_, routed) = get(&hub, &dispatcher, &format!("/api/v1/district/cases/{code}")).await;
    assert_eq!(routed["class"], "general");
    assert_eq!(local(&routed["accept_by"]), "2026-06-08 11:30");
    assert_eq!(local(&routed["resolve_by"]), "2026-06-16 16:00");
    // Open311 says who handles it and by when: the deadline.
    let open311 = |path: String| {
        let request = hub.client.get(hub.url(&path));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let found = open311(format!(
        "/open311/v2/tokens/{code}.json?api_key={OPEN311_KEY}"
    ))
    .await;
    let id = found[0]["service_request_id"]
        .as_str()
        .expect("the case's request id")
        .to_owned();
    let request = open311(format!(
        "/open311/v2/requests/{id}.json?api_key={OPEN311_KEY}"
    ))
    .await;
    assert_eq!(request[0]["agency_responsible"], "光明北社区");
    assert_eq!(
        request[0]["expected_datetime"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        routed["resolve_by"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
        "{request}"
    );
    // An overdue list finds it once the deadline passes, and not before.
    let (_, list) = get(&hub, &dispatcher, "/api/v1/district/cases?overdue=true").await;
    assert_eq!(list["total"], 0);
    hub.advance(Duration::days(3));
    let dispatcher = login(&hub, "dispatcher").await;
    let (_, list) = get(&hub, &dispatcher, "/api/v1/district/cases?overdue=true").await;
    let overdue: Vec<&str> = list["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["token"].as_str().unwrap())
        .collect();
    assert!(overdue.contains(&code.as_str()), "{list}");
}

#[tokio::test]
async fn a_return_goes_back_to_the_dispatcher_and_an_extension_is_asked_then_decided() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let code = filed_and_routed(&hub, &wages_case(&hub, "demo"), DEMO_TOKEN, "labour").await;
    let labour = login(&hub, "labour").await;
    let (status, body) = post(
        &hub,
        &labour,
        &case_path(&code, "return"),
        json!({"reason": "  "}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (status, back) = post(
        &hub,
        &labour,
        &case_path(&code, "return"),
        json!({"reason": "工程款纠纷属住建局"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            back["state"].as_str(),
            back["unit"].as_str(),
            back["returns"].as_i64()
        ),
        (Some("received"), None, Some(1))
    );
    let dispatcher = login(&hub, "dispatcher").await;
    post(
        &hub,
        &dispatcher,
        &case_path(&code, "route"),
        json!({"unit": "housing"}),
    )
    .await;
    let housing = login(&hub, "housing").await;
    post(&hub, &housing, &case_path(&code, "accept"), json!({})).await;
    let (status, asked) = post(
        &hub,
        &housing,
        &case_path(&code, "extend"),
        json!({
            "until": "2026-07-30T17:00:00+08:00", "reason": "需等待法院裁定",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{asked}");
    assert!(asked["extension_asked"].is_string());
    let (status, _) = post(
        &hub,
        &housing,
        &case_path(&code, "extend"),
        json!({
            "until": "2026-08-30T17:00:00+08:00", "reason": "再延",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "one ask at a time");
    let (status, granted) = post(
        &hub,
        &dispatcher,
        &case_path(&code, "extend"),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(local(&granted["resolve_by"]), "2026-07-30 17:00");
    assert_eq!(granted["extensions"], 1);
    assert_eq!(granted["extension_asked"], Value::Null);
    // Unknown fields and actions are named.
    let (status, body) = post(
        &hub,
        &housing,
        &case_path(&code, "progress"),
        json!({"note": "x", "colour": 1}),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("colour"))
    );
    let (status, _) = post(&hub, &housing, &case_path(&code, "teleport"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rating_needs_a_resolved_case_and_unsatisfied_sends_it_back_to_the_same_unit() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let code = filed_and_routed(&hub, &wages_case(&hub, "demo"), DEMO_TOKEN, "gm-north").await;
    let rate = |rating: &'static str| {
        let request = hub
            .client
            .post(hub.url(&format!("/api/v1/cases/{code}/rating")))
            .bearer_auth(DEMO_TOKEN)
            .json(&json!({"rating": rating}));
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Not resolved: nothing to rate.
    let (status, body) = rate("satisfied").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let secretary = login(&hub, "secretary").await;
    post(&hub, &secretary, &case_path(&code, "accept"), json!({})).await;
    post(
        &hub,
        &secretary,
        &case_path(&code, "resolve"),
        json!({"result": "已协调"}),
    )
    .await;
    let (status, body) = rate("delighted").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("rating"))
    );
    // Unsatisfied: back to the same unit, to be accepted again, a redo counted.
    let (status, offer) = rate("unsatisfied").await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    assert_eq!(
        offer["may_rate"], false,
        "reopened: nothing to rate until it is resolved again"
    );
    let dispatcher = login(&hub, "dispatcher").await;
    let (_, case) = get(&hub, &dispatcher, &format!("/api/v1/district/cases/{code}")).await;
    assert_eq!(
        (case["state"].as_str(), case["unit"].as_str()),
        (Some("reopened"), Some("gm-north"))
    );
    assert_eq!(case["redo_count"], 1);
    assert!(case["accept_by"].is_string(), "fresh deadlines");
    // Worked again and resolved: satisfied closes it; the same rating twice is refused.
    post(&hub, &secretary, &case_path(&code, "accept"), json!({})).await;
    post(
        &hub,
        &secretary,
        &case_path(&code, "resolve"),
        json!({"result": "已全部结清"}),
    )
    .await;
    assert_eq!(rate("satisfied").await.0, StatusCode::OK);
    assert_eq!(rate("satisfied").await.0, StatusCode::CONFLICT, "once");
    // Changed within the 7 days; not after.
    assert_eq!(rate("basically_satisfied").await.0, StatusCode::OK);
    hub.advance(Duration::days(8));
    let (status, body) = rate("satisfied").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("7 days"), "{body}");
    // The tracking page's form says the same in words.
    let page = hub
        .client
        .post(hub.url(&format!("/T/{code}/rating?lang=en")))
        .form(&[("rating", "unsatisfied")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::CONFLICT);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("more than 7 days have passed since it was resolved"));
    let dispatcher = login(&hub, "dispatcher").await;
    let (_, case) = get(&hub, &dispatcher, &format!("/api/v1/district/cases/{code}")).await;
    assert_eq!(
        (case["state"].as_str(), case["rating"].as_str()),
        (Some("closed"), Some("basically_satisfied"))
    );
}

#[tokio::test]
async fn the_dispatcher_makes_accounts_through_the_api_and_no_one_else_may() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let dispatcher = login(&hub, "dispatcher").await;
    let secretary = login(&hub, "secretary").await;
    let users = "/api/v1/district/users";

    // The list: every account, never a password or its hash.
    let (status, list) = get(&hub, &dispatcher, users).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["users"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"secretary") && ids.contains(&"auditor"),
        "{ids:?}"
    );
    assert!(!list.to_string().contains("argon2"), "{list}");

    let new = json!({"id": "gm-north-2", "unit": "gm-north", "role": "community",
                     "name": "李敏", "password": "a-first-password"});
    // Not the secretary's to do, and refused in the log.
    let (status, body) = post(&hub, &secretary, users, new.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = get(&hub, &secretary, users).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor an auditor's account, even for the dispatcher.
    let (status, body) = post(
        &hub,
        &dispatcher,
        users,
        json!({"id": "auditor2", "unit": "demo-district", "role": "auditor",
               "password": "a-first-password"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        hub.rows(
            "SELECT count(*) FROM audit_log WHERE action = 'refused' AND detail = 'accounts'",
            &[]
        )[0][0],
        Sql::Int(3)
    );
    // A unit that does not fit the role, a short password: named.
    for (field, bad) in [
        ("unit", json!({"unit": "housing"})),
        ("password", json!({"password": "short"})),
        ("id", json!({"id": "李敏"})),
    ] {
        let mut wrong = new.clone();
        for (k, v) in bad.as_object().unwrap() {
            wrong[k] = v.clone();
        }
        let (status, body) = post(&hub, &dispatcher, users, wrong).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    assert!(log_in_as(&hub, "gm-north-2", "a-first-password")
        .await
        .is_err());

    // Made: the person logs in with the first password, in the unit and role given.
    let (status, body) = post(&hub, &dispatcher, users, new.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["id"], "gm-north-2");
    let first = log_in_as(&hub, "gm-north-2", "a-first-password")
        .await
        .expect("the new account logs in");
    let (status, _) = get(&hub, &first, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::OK);
    // Twice: 409, and the account is as it was.
    let (status, body) = post(&hub, &dispatcher, users, new).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A new password: the old one and its sessions end.
    let (status, body) = post(
        &hub,
        &dispatcher,
        "/api/v1/district/users/gm-north-2/password",
        json!({"password": "a-second-password"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = get(&hub, &first, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session ended");
    assert!(log_in_as(&hub, "gm-north-2", "a-first-password")
        .await
        .is_err());
    assert!(log_in_as(&hub, "gm-north-2", "a-second-password")
        .await
        .is_ok());
    let (status, _) = post(
        &hub,
        &dispatcher,
        "/api/v1/district/users/nobody/password",
        json!({"password": "a-second-password"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &hub,
        &dispatcher,
        "/api/v1/district/users/auditor/password",
        json!({"password": "a-second-password"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an auditor's password is not the dispatcher's"
    );
    assert_eq!(
        hub.rows(
            "SELECT action, target FROM audit_log WHERE user_id = 'dispatcher'
               AND action IN ('user_added', 'password_set') ORDER BY id",
            &[]
        ),
        vec![
            vec![text("user_added"), text("gm-north-2")],
            vec![text("password_set"), text("gm-north-2")],
        ]
    );
}

#[tokio::test]
async fn a_session_ends_after_twelve_hours_and_the_hourly_job_deletes_it() {
    let hub = district_hub("2026-06-02T09:00:00").await;
    let (morning, also_morning) = (
        login(&hub, "secretary").await,
        login(&hub, "dispatcher").await,
    );
    hub.advance(Duration::hours(11));
    let evening = login(&hub, "leader").await;
    let sessions = || hub.rows("SELECT user_id FROM sessions ORDER BY user_id", &[]);
    assert_eq!(sessions().len(), 3);
    // 21:01: the morning's sessions are twelve hours old.
    hub.advance(Duration::minutes(61));
    for token in [&morning, &also_morning] {
        let (status, _) = get(&hub, token, "/api/v1/district/cases").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "an expired session opens nothing"
        );
    }
    let (status, _) = get(&hub, &evening, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::OK);
    // The job (hourly; by now due) deletes them; the evening's stays.
    hub.hub.run_due_jobs().await.expect("the jobs run");
    assert_eq!(sessions(), vec![vec![text("leader")]]);
    let (status, _) = get(&hub, &evening, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::OK, "a live session is kept");
}

#[tokio::test]
async fn the_operator_token_keeps_its_wall_screen_and_opens_nothing_of_the_back_office() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    // The wall screen: the operator page, read with the operator's token.
    let wall = hub
        .client
        .get(hub.url("/operator"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(wall.status(), StatusCode::OK);
    // Not a back-office session: neither as a bearer token on the API …
    let (status, _) = get(&hub, OPERATOR_TOKEN, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        &hub,
        OPERATOR_TOKEN,
        &format!("/api/v1/district/cases/{}/route", case.token),
        json!({"unit": "gm-north"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // … nor as a cookie on the pages: the login page.
    let desk = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(hub.url("/desk"))
        .header("cookie", format!("gk_session={OPERATOR_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), StatusCode::SEE_OTHER);
    assert!(desk.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    assert_eq!(
        hub.rows("SELECT count(*) FROM district_events", &[])[0][0],
        Sql::Int(0),
        "nothing was done"
    );
}

#[tokio::test]
async fn the_csv_export_keeps_the_chinese_the_scope_and_no_personal_data() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let dispatcher = login(&hub, "dispatcher").await;
    let (status, _) = post(
        &hub,
        &dispatcher,
        &case_path(&case.token, "route"),
        json!({"unit": "gm-north"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = |token: String, path: &'static str| {
        let request = hub.client.get(hub.url(path)).bearer_auth(token);
        async move {
            let r = request.send().await.expect("the hub answers");
            let status = r.status();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, kind, r.bytes().await.expect("a body").to_vec())
        }
    };
    let (status, kind, body) = csv(dispatcher.clone(), "/api/v1/district/cases.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    assert!(
        body.starts_with(b"\xef\xbb\xbf"),
        "a byte-order mark for spreadsheets"
    );
    let text = String::from_utf8(body).expect("UTF-8");
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert!(
        lines[0].starts_with("查询码,诉求,状态,承办单位"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        3,
        "a heading, one case, the last line end: {lines:?}"
    );
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(row[0], case.token);
    assert_eq!(&row[1..4], ["投诉建议 · 拖欠工资", "待签收", "光明北社区"]);
    assert_eq!(row[10], "否", "not overdue");
    for personal in ["13812345678", "拖欠三十万", "10万元以上", "10到29人"] {
        assert!(!text.contains(personal), "no {personal} in the export");
    }
    // In English, for whoever asks.
    let (_, _, english) = csv(dispatcher.clone(), "/api/v1/district/cases.csv?lang=en").await;
    let english = String::from_utf8(english).unwrap();
    assert!(
        english.contains("Awaiting acceptance") && english.contains("Guangming North"),
        "{english}"
    );
    // The list's scope: another community's secretary gets the heading alone.
    let south = login(&hub, "south-secretary").await;
    let (status, _, theirs) = csv(south, "/api/v1/district/cases.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(theirs).unwrap().matches("\r\n").count(),
        1
    );
    let (status, _, _) = csv(dispatcher.clone(), "/api/v1/district/cases.csv?state=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The pages' link gives the same document with the session's cookie.
    let from_page = hub
        .client
        .get(hub.url("/cases.csv?lang=zh"))
        .header("cookie", format!("gk_session={dispatcher}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(from_page, text);
    // A link edited by hand: the page says its filters are not understood.
    let edited = hub
        .client
        .get(hub.url("/cases.csv?state=lost"))
        .header("cookie", format!("gk_session={dispatcher}"))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(edited
        .text()
        .await
        .unwrap()
        .contains("链接里的筛选条件看不懂"));
}
