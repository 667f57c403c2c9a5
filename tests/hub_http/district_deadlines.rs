//! The district's deadlines with a controlled clock (issue 19, done-when 2): an unaccepted
//! general case gets its reminder at 75 % of its working time, its chase at the deadline and
//! its supervision a working day later, counting the adjusted working Saturday before the
//! Spring Festival and skipping the holiday and the weekends; each step is in the timeline
//! once and the unit's webhook (a real HTTP server on loopback) got each chase and supervision
//! once. A webhook that answers 500 is tried again; one that hangs is given up on after its
//! timeout and never holds a page.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::district::{get, login, wages_case, DEMO_TOKEN};
use crate::hub_common::*;
use domain::district::District;
use hub::admin::NewUser;

/// How the receiver answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 200 to everything.
    Ok,
    /// 500 to the first request, 200 after.
    FailFirst,
    /// Never answers (holds the connection open).
    Hang,
    /// 500 to everything.
    AlwaysFail,
}

/// A webhook receiver on loopback: every request's body, in order.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&bodies);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("a stream"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let count = {
                    let mut b = seen.lock().unwrap();
                    b.push(String::from_utf8_lossy(&body).into_owned());
                    b.len()
                };
                let status = match mode {
                    Mode::Hang => {
                        held.push(stream);
                        continue;
                    }
                    Mode::FailFirst if count == 1 => "500 Internal Server Error",
                    Mode::AlwaysFail => "500 Internal Server Error",
                    _ => "200 OK",
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver { url, bodies }
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| serde_json::from_str(b).expect("a JSON body"))
            .collect()
    }

    /// Waits (at most a minute) until `n` requests have come, letting the hub's tasks run.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + StdDuration::from_secs(60);
        loop {
            let got = self.bodies();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} webhook requests of {n} came: {got:?}",
                got.len()
            );
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
    }
}

/// The demo district with `unit`'s webhook at `url`.
fn district_with_webhook(unit: &str, kind: &str, url: &str, format: &str) -> District {
    let anchor = format!("id = \"{unit}\"\nkind = \"{kind}\"");
    let text = District::demo_text().replace(
        &anchor,
        &format!("{anchor}\nwebhook = {{ url = \"{url}\", format = \"{format}\" }}"),
    );
    assert_ne!(text, District::demo_text(), "the webhook went in");
    District::parse(&text).expect("the district with a webhook")
}

fn local(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{text}+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

/// A hub whose clock starts at `start` (China Standard Time) on `district`, with a dispatcher.
async fn hub_at(
    start: &str,
    district: District,
    adjust: impl FnOnce(&mut hub::HubConfig),
) -> TestHub {
    let hub = TestHub::start_at(Some(local(start)), |c| {
        c.add_station("demo", DEMO_TOKEN);
        c.district = district;
        adjust(c);
    })
    .await;
    for (id, unit, role) in [
        ("dispatcher", "demo-district", "dispatcher"),
        ("secretary", "gm-north", "secretary"),
    ] {
        hub.hub
            .add_user(&NewUser {
                id: id.into(),
                unit: unit.into(),
                role: role.into(),
                name: None,
                password: format!("password-of-{id}"),
                replace: false,
            })
            .await
            .expect("an account");
    }
    hub
}

/// Moves the hub's clock to `local` (China Standard Time) and runs what is due.
async fn at(hub: &TestHub, when: &str) {
    let target = local(when);
    let now = hub.now();
    assert!(target > now, "the clock only moves on: {when}");
    hub.advance(target - now);
    hub.hub.run_due_jobs().await.expect("the jobs run");
}

fn steps(hub: &TestHub, code: &str) -> Vec<String> {
    hub.rows(
        "SELECT e.kind FROM district_events e JOIN cases c ON c.id = e.case_id
         WHERE c.token = ?1 AND e.by_user = 'scheduler' ORDER BY e.id",
        &[text(code)],
    )
    .into_iter()
    .map(|r| match &r[0] {
        Sql::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    })
    .collect()
}

#[tokio::test]
async fn an_unaccepted_case_is_reminded_chased_and_supervised_on_working_time_each_once() {
    let receiver = Receiver::start(Mode::Ok);
    // Friday 13 February 2026, 14:00: the eve of the Spring Festival's adjusted working
    // Saturday (14 February), then the holiday from the 15th to the 23rd.
    let hub = hub_at(
        "2026-02-13T14:00:00",
        district_with_webhook("gm-north", "community", &receiver.url, "json"),
        |_| {},
    )
    .await;
    let mut case = sample_case("demo");
    case.filed_at = hub.now();
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let code = case.token.clone();
    let dispatcher = login(&hub, "dispatcher").await;
    let response = hub
        .client
        .post(hub.url(&format!("/api/v1/district/cases/{code}/route")))
        .bearer_auth(&dispatcher)
        .json(&json!({"unit": "gm-north"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let routed: Value = response.json().await.unwrap();
    // 4 working hours from Friday 14:00: 3.5 on Friday, half an hour on the worked Saturday.
    assert_eq!(routed["class"], "general");
    assert_eq!(
        routed["accept_by"]
            .as_str()
            .map(|t| t.parse::<DateTime<Utc>>().unwrap())
            .map(|t| t.timestamp() / 60),
        Some(local("2026-02-14T09:30:00").timestamp() / 60)
    );

    at(&hub, "2026-02-13T16:55:00").await;
    assert_eq!(steps(&hub, &code), Vec::<String>::new(), "before 75 %");
    // 75 % of 4 working hours is 3: Friday 17:00.
    at(&hub, "2026-02-13T17:05:00").await;
    assert_eq!(steps(&hub, &code), ["reminder"]);
    at(&hub, "2026-02-14T09:25:00").await;
    assert_eq!(
        steps(&hub, &code),
        ["reminder"],
        "not yet due on the worked Saturday"
    );
    at(&hub, "2026-02-14T09:35:00").await;
    assert_eq!(steps(&hub, &code), ["reminder", "chase"]);
    // A working day after Saturday 09:30: the rest of Saturday (6.5 h), then the holiday and
    // its weekends are skipped, and half an hour on Tuesday 24 February.
    at(&hub, "2026-02-24T09:25:00").await;
    assert_eq!(
        steps(&hub, &code),
        ["reminder", "chase"],
        "the holiday is not working time"
    );
    at(&hub, "2026-02-24T09:35:00").await;
    assert_eq!(steps(&hub, &code), ["reminder", "chase", "supervision"]);
    // Asked again and again: nothing is raised twice.
    at(&hub, "2026-02-24T10:35:00").await;
    at(&hub, "2026-02-25T10:35:00").await;
    assert_eq!(steps(&hub, &code), ["reminder", "chase", "supervision"]);

    // The unit's webhook: the chase and the supervision, once each, with no personal data.
    let got = receiver.wait_for(2).await;
    let events: Vec<&str> = got.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["chase", "supervision"]);
    assert!(got.iter().all(|b| b["case"] == code.as_str()
        && b["deadline"] == "accept"
        && b["unit"] == "gm-north"));
    let raw = receiver.bodies.lock().unwrap().join("\n");
    assert!(
        !raw.contains("13812345678")
            && !raw.contains("DESCRIPTION-MARK")
            && !raw.contains("ANSWER-MARK"),
        "{raw}"
    );
    // The timeline shows them to the district's people (the morning's session long expired).
    let dispatcher = login(&hub, "dispatcher").await;
    let (_, timeline) = get(
        &hub,
        &dispatcher,
        &format!("/api/v1/district/cases/{code}/timeline"),
    )
    .await;
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["routed", "reminder", "chase", "supervision"]);
    assert_eq!(receiver.bodies().len(), 2);
}

/// A case routed to gm-north and accepted there; its secretary orders the housing bureau to
/// `place` (the order's webhook message is queued). The case's code and the secretary's token.
async fn order_to_housing(hub: &TestHub, place: &str) -> (String, String) {
    let case = wages_case(hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let dispatcher = login(hub, "dispatcher").await;
    let post = |token: String, path: String, body: Value| {
        let request = hub
            .client
            .post(hub.url(&path))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(
        post(
            dispatcher,
            format!("/api/v1/district/cases/{}/route", case.token),
            json!({"unit": "gm-north"})
        )
        .await
        .status(),
        200
    );
    let secretary = login(hub, "secretary").await;
    assert_eq!(
        post(
            secretary.clone(),
            format!("/api/v1/district/cases/{}/accept", case.token),
            json!({})
        )
        .await
        .status(),
        200
    );
    // Four hours from now: 14:00 on the first day of these tests.
    let arrive_by = (hub.now() + Duration::hours(4)).to_rfc3339();
    let order = post(
        secretary.clone(),
        format!("/api/v1/district/cases/{}/orders", case.token),
        json!({
            "department": "housing", "place": place, "arrive_by": arrive_by, "staff": 3,
        }),
    )
    .await;
    assert_eq!(order.status(), 201);
    (case.token, secretary)
}

#[tokio::test]
async fn a_webhook_that_answers_500_is_tried_again_and_delivered_once() {
    let receiver = Receiver::start(Mode::FailFirst);
    let hub = hub_at(
        "2026-06-02T10:00:00",
        district_with_webhook("housing", "department", &receiver.url, "wecom"),
        |_| {},
    )
    .await;
    order_to_housing(&hub, "光明南工地项目部").await;
    // The first sending gets a 500; the message waits a minute, then goes again.
    let first = receiver.wait_for(1).await;
    let content = first[0]["text"]["content"]
        .as_str()
        .expect("a WeCom text message");
    assert!(
        content.contains("【发令】")
            && content.contains("光明北发令〔2026〕0001号")
            && content.contains("光明南工地项目部"),
        "{content}"
    );
    let failed = || {
        hub.rows(
            "SELECT attempts, last_error, delivered_at FROM webhook_outbox",
            &[],
        )
    };
    let deadline = Instant::now() + StdDuration::from_secs(60);
    while !matches!(failed()[0][1], Sql::Text(_)) {
        assert!(Instant::now() < deadline, "the failure is recorded");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(failed()[0][0], Sql::Int(1));
    assert_eq!(failed()[0][1], text("answered 500 Internal Server Error"));
    hub.advance(Duration::minutes(2));
    let both = receiver.wait_for(2).await;
    assert_eq!(both[0], both[1], "the same message again");
    let deadline = Instant::now() + StdDuration::from_secs(60);
    while matches!(failed()[0][2], Sql::Null) {
        assert!(
            Instant::now() < deadline,
            "the second sending is recorded as delivered"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(failed()[0][0], Sql::Int(2));
    assert_eq!(receiver.bodies().len(), 2, "delivered: never sent again");
}

#[tokio::test]
async fn a_webhook_that_hangs_is_given_its_timeout_and_never_holds_a_page() {
    let receiver = Receiver::start(Mode::Hang);
    let hub = hub_at(
        "2026-06-02T10:00:00",
        district_with_webhook("housing", "department", &receiver.url, "json"),
        |c| {
            c.webhook_timeout = StdDuration::from_secs(1);
        },
    )
    .await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let dispatcher = login(&hub, "dispatcher").await;
    let route = hub
        .client
        .post(hub.url(&format!("/api/v1/district/cases/{}/route", case.token)))
        .bearer_auth(&dispatcher)
        .json(&json!({"unit": "gm-north"}))
        .send()
        .await
        .unwrap();
    assert_eq!(route.status(), 200);
    let secretary = login(&hub, "secretary").await;
    for (path, body) in [
        ("accept", json!({})),
        (
            "orders",
            json!({"department": "housing", "place": "工地", "arrive_by": "2026-06-02T14:00:00+08:00"}),
        ),
    ] {
        let r = hub
            .client
            .post(hub.url(&format!("/api/v1/district/cases/{}/{path}", case.token)))
            .bearer_auth(&secretary)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    // The receiver holds the request: while it does, the pages answer.
    receiver.wait_for(1).await;
    let (status, _) = get(&hub, &secretary, "/api/v1/district/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hub.get("/login").await.status(), 200);
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        let row = hub.rows("SELECT attempts, last_error FROM webhook_outbox", &[]);
        if row[0][1] != Sql::Null {
            assert_eq!(row[0][0], Sql::Int(1));
            assert_eq!(row[0][1], text("no answer within 1 s"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hang is given up on: {row:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_webhook_that_always_fails_is_given_up_after_its_last_attempt_and_kept_with_its_error() {
    let receiver = Receiver::start(Mode::AlwaysFail);
    let hub = hub_at(
        "2026-06-02T10:00:00",
        district_with_webhook("housing", "department", &receiver.url, "json"),
        |_| {},
    )
    .await;
    order_to_housing(&hub, "光明南工地项目部").await;
    let outbox = || {
        hub.rows(
            "SELECT attempts, last_error, delivered_at, next_at FROM webhook_outbox ORDER BY id",
            &[],
        )
    };
    let until_attempts = |n: i64| {
        let deadline = Instant::now() + StdDuration::from_secs(60);
        let outbox = &outbox;
        async move {
            while outbox()[0][0] != Sql::Int(n) {
                assert!(
                    Instant::now() < deadline,
                    "attempt {n} recorded: {:?}",
                    outbox()
                );
                tokio::time::sleep(StdDuration::from_millis(20)).await;
            }
        }
    };
    receiver.wait_for(1).await;
    until_attempts(1).await;
    // Attempts 2 to 23 wait 2 minutes to an hour each (the backoff's own test); here the
    // message has had them, and its last one is due.
    assert_eq!(
        hub.write_untrusted("UPDATE webhook_outbox SET attempts = 23", &[]),
        1
    );
    hub.advance(Duration::minutes(61));
    receiver.wait_for(2).await;
    until_attempts(24).await;
    let row = &outbox()[0];
    assert_eq!(
        row[1],
        text("answered 500 Internal Server Error"),
        "kept with its error"
    );
    assert_eq!(row[2], Sql::Null, "not delivered");
    let Sql::Text(next) = &row[3] else {
        panic!("a next moment: {row:?}")
    };
    assert!(next.as_str() > "2100", "due never again (given up): {next}");
    // Days later a new message goes out alone: the one given up is not sent with it.
    hub.advance(Duration::days(3));
    order_to_housing(&hub, "东湖一社区活动室").await;
    let got = receiver.wait_for(3).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[2].to_string().contains("东湖一社区活动室"),
        "the third request is the new order: {}",
        got[2]
    );
    assert_eq!(
        outbox()[0][0],
        Sql::Int(24),
        "the given-up message was not tried again"
    );
}
