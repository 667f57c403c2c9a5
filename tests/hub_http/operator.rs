//! The operators' page: every station's health, red alerts for open high-risk cases, and cases
//! past their expected date, behind the operator token; the lists with their true counts, the
//! newest alert first, a page at a time; a wall screen's `?token=` kept by every link; codes
//! masked and a resident's words never shown.

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
    let masked = format!("{}…", &case.token[..4]);

    let page = hub.operator_page().await;
    let alerts = section(&page, "red-alerts");
    assert!(alerts.contains("(1)"), "{alerts}");
    assert!(
        alerts.contains(&masked) && alerts.contains("keyword"),
        "{alerts}"
    );
    // A wall screen: the code that opens the case's page, and the resident's own words that
    // made it high-risk, are not on it.
    for secret in [
        grouped.as_str(),
        case.token.as_str(),
        &case.token[..5],
        "打人",
        "13812345678",
        "DESCRIPTION-MARK",
        "ANSWER-MARK",
    ] {
        assert!(!page.contains(secret), "{secret} shown to operators");
    }

    hub.department_says(&case.token, json!({"state": "resolved"}))
        .await;
    let page = hub.operator_page().await;
    let alerts = section(&page, "red-alerts");
    assert!(!alerts.contains(&masked), "{alerts}");
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
    let late_code = format!("{}…", &late.token[..4]);
    let on_time_code = format!("{}…", &on_time.token[..4]);
    assert_ne!(
        late_code, on_time_code,
        "two random codes differ in their first four"
    );
    assert!(due.contains(&late_code), "{due}");
    assert!(!due.contains(&on_time_code), "{due}");
    assert!(due.contains("2 h"), "overdue by about two hours: {due}");

    hub.department_says(&late.token, json!({"state": "resolved"}))
        .await;
    let page = hub.operator_page().await;
    assert!(!section(&page, "past-due").contains(&late_code));
}

/// Writes `n` open cases straight into the hub's database, as 2,000 Open311 filings would
/// leave them: every code starting `0000`, so the test can tell them from a real one.
fn seed_cases(hub: &TestHub, n: usize, risk: &str, expected_at: Option<&str>) {
    let start = chrono::Utc::now() - Duration::days(2);
    let rows: Vec<Vec<Sql>> = (0..n)
        .map(|i| {
            let at = (start + Duration::seconds(i as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            vec![
                text(&uuid::Uuid::now_v7().to_string()),
                text(&format!("0000{i:013}")),
                text(risk),
                expected_at.map_or(Sql::Null, text),
                text(&at),
            ]
        })
        .collect();
    hub.write_untrusted_each(
        "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                            expected_at, filed_at, received_at, updated_at, source, body,
                            body_sha256)
         VALUES (?1, ?2, 'open311', 'complaint', 'noise', ?3, 'received', ?4, ?5, ?5, ?5,
                 'open311', '{}', 'x')",
        &rows,
    );
}

/// A new code whose first four characters are not the seeded ones.
fn fresh_case() -> protocol::CaseSubmission {
    loop {
        let case = sample_case(STATION_A);
        if !case.token.starts_with("0000") {
            return case;
        }
    }
}

async fn operator_get(hub: &TestHub, path_and_query: &str) -> reqwest::Response {
    hub.client
        .get(hub.url(path_and_query))
        .send()
        .await
        .expect("the hub answers")
}

/// The first `href="…"` after `marker` in `html`, unescaped.
fn link_after(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let before = &html[..at];
    let start = before.rfind("href=\"")? + 6;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn the_newest_red_alert_is_on_the_first_page_and_the_count_is_true() {
    let hub = TestHub::start().await;
    seed_cases(&hub, 2000, "high", None);
    let mut case = fresh_case();
    case.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Keyword {
            keyword: "跳楼".into(),
            level: RiskLevel::High,
        }],
    };
    hub.file(&case).await;
    let masked = format!("{}…", &case.token[..4]);

    // Signed in as a wall screen: the token in the query, as a browser sends it.
    let r = operator_get(&hub, &format!("/operator?lang=en&token={OPERATOR_TOKEN}")).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let alerts = section(&page, "red-alerts");
    assert!(alerts.contains("(2001)"), "the true count: {alerts}");
    assert!(alerts.contains("1–50 of 2001"), "{alerts}");
    let first_row = alerts
        .lines()
        .find(|l| l.starts_with("<tr><td>"))
        .expect("a first row");
    assert!(
        first_row.contains(&masked) && first_row.contains("万达广场站"),
        "the newest, at station A, first: {first_row}"
    );
    assert_eq!(alerts.matches("<tr><td>").count(), 50, "a page of 50");

    // The next page's link keeps the token; the last page has the oldest seeded one.
    let next = link_after(alerts, ">Next page<").expect("a link to the next page");
    assert!(next.contains(&format!("token={OPERATOR_TOKEN}")), "{next}");
    let r = operator_get(&hub, &format!("/operator{next}")).await;
    assert_eq!(r.status(), 200);
    let second = r.text().await.unwrap();
    let alerts = section(&second, "red-alerts");
    assert!(alerts.contains("51–100 of 2001"), "{alerts}");
    assert!(!alerts.contains(&masked), "{alerts}");
    assert!(link_after(alerts, ">Previous page<").is_some(), "{alerts}");

    let r = operator_get(
        &hub,
        &format!("/operator?lang=en&token={OPERATOR_TOKEN}&alerts=41"),
    )
    .await;
    let last = r.text().await.unwrap();
    let alerts = section(&last, "red-alerts");
    assert!(alerts.contains("2001–2001 of 2001"), "{alerts}");
    assert_eq!(alerts.matches("<tr><td>").count(), 1, "{alerts}");
    assert!(link_after(alerts, ">Next page<").is_none(), "{alerts}");
    // The station's own count is true too.
    let row = section(&page, "stations")
        .lines()
        .find(|l| l.contains(STATION_A))
        .unwrap()
        .to_owned();
    assert!(row.contains("<span class=\"warn\">1</span>"), "{row}");
}

#[tokio::test]
async fn the_past_due_backlog_has_its_true_count_and_pages() {
    let hub = TestHub::start().await;
    seed_cases(&hub, 600, "normal", Some("2020-01-01T00:00:00.000000Z"));
    let page = hub.operator_page().await;
    let due = section(&page, "past-due");
    assert!(
        due.contains("(600)") && due.contains("1–50 of 600"),
        "{due}"
    );
    let next = link_after(due, ">Next page<").expect("a next page");
    assert!(next.contains("overdue=2"), "{next}");
    let r = hub
        .client
        .get(hub.url(&format!("/operator{next}")))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    let second = r.text().await.unwrap();
    assert!(section(&second, "past-due").contains("51–100 of 600"));
    // Signed in by the header, the links carry no token.
    assert!(
        !page.contains("token="),
        "a header's token never lands in a link"
    );
}

#[tokio::test]
async fn a_wall_screen_s_token_is_percent_decoded_and_kept_by_the_language_links() {
    let hub = TestHub::start().await;
    // Every character percent-encoded, as some browsers and QR generators send it.
    let encoded: String = OPERATOR_TOKEN
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let r = operator_get(&hub, &format!("/operator?token={encoded}")).await;
    assert_eq!(r.status(), 200, "a percent-encoded token signs in");
    let page = r.text().await.unwrap();
    for (label, lang) in [("English", "en"), ("繁體中文", "zh-Hant")] {
        let link = link_after(&page, &format!(">{label}</a>"))
            .unwrap_or_else(|| panic!("a link to {label}: {page}"));
        assert!(link.contains(&format!("lang={lang}")), "{link}");
        let r = operator_get(&hub, &format!("/operator{link}")).await;
        assert_eq!(
            r.status(),
            200,
            "tapping {label} keeps the screen signed in"
        );
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("<strong>{label}</strong>")),
            "{html}"
        );
    }
    // A wrong token, encoded or not, is still refused.
    let r = operator_get(&hub, "/operator?token=%6Fperator-token-00000005").await;
    assert_eq!(r.status(), 401);
}

/// The heartbeats' history: an hour a row per station however often it beats, shown on the
/// page as the hours it was heard in the last day, and forgotten after a week by the periodic
/// job (so 30,000 stations beating every minute stop adding rows after a week).
#[tokio::test]
async fn the_heartbeat_history_is_an_hour_a_row_and_a_week_long() {
    let hub = TestHub::start().await;
    // The hub's clock a minute into an hour, so that no hour ends while the test runs.
    let into_hour = chrono::Utc::now().timestamp().rem_euclid(3600);
    hub.advance(Duration::seconds(3600 - into_hour + 60));
    let beats_in = |hub: &TestHub| -> Vec<i64> {
        hub.rows(
            "SELECT beats FROM heartbeat_hours WHERE station_id = ?1 ORDER BY hour",
            &[text(STATION_A)],
        )
        .into_iter()
        .map(|row| match &row[0] {
            Sql::Int(n) => *n,
            other => panic!("beats is a number, not {other:?}"),
        })
        .collect()
    };
    for _ in 0..3 {
        assert_eq!(
            hub.heartbeat(STATION_A_TOKEN, heartbeat(STATION_A))
                .await
                .status(),
            204
        );
    }
    assert_eq!(beats_in(&hub), [3], "three beats in one hour are one row");
    let page = hub.operator_page().await;
    assert!(
        section(&page, "stations").contains("heard every hour, last 1 h"),
        "a station heard since this hour has missed none: {page}"
    );
    hub.advance(Duration::hours(2));
    assert_eq!(
        hub.heartbeat(STATION_A_TOKEN, heartbeat(STATION_A))
            .await
            .status(),
        204
    );
    assert_eq!(beats_in(&hub), [3, 1]);
    let page = hub.operator_page().await;
    assert!(
        section(&page, "stations").contains("silent 1 h of the last 3 h"),
        "{page}"
    );

    // A week and more later: the job forgets the old hours and keeps the new one.
    hub.advance(Duration::days(8));
    assert_eq!(
        hub.heartbeat(STATION_A_TOKEN, heartbeat(STATION_A))
            .await
            .status(),
        204
    );
    assert_eq!(beats_in(&hub), [3, 1, 1]);
    let ran = hub.hub.run_due_jobs().await.expect("the jobs run");
    assert!(
        matches!(
            ran[0],
            ("heartbeat_history", hub::periodic::Outcome::Ran(_))
        ),
        "{ran:?}"
    );
    assert_eq!(beats_in(&hub), [1], "only the last week is kept");
    let page = hub.operator_page().await;
    assert!(
        section(&page, "stations").contains("heard every hour, last 1 h"),
        "{page}"
    );
    // Not due again within the hour, whoever asks.
    assert_eq!(
        hub.hub.run_due_jobs().await.unwrap()[0],
        ("heartbeat_history", hub::periodic::Outcome::NotDue)
    );
    assert_eq!(
        hub.one(
            "SELECT runs FROM periodic_runs WHERE job = 'heartbeat_history'",
            &[]
        ),
        [Sql::Int(2)],
        "once when the hub started, once a week later"
    );
}
