//! What a leader sees (issue 20): the scorecards against figures computed by hand, the risk map
//! rising with a cluster of one kind of complaint in one community and falling as they are
//! resolved, the leaders' page and the lists behind its numbers, who may open them, and the
//! month of history the pictures are made from ([`seed_month`]).
//!
//! Every test here runs on the suite's engine (SQLite, and PostgreSQL in `scripts/test`'s second
//! run), against the real hub over HTTP with the test's one clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Duration, Utc};
use domain::{RiskAssessment, RiskLevel, RiskReason};
use protocol::{CaseSubmission, SubmittedAnswer};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::district::{get, login, post};
use crate::district_pages::page;
use crate::hub_common::*;
use hub::admin::NewUser;

/// Every kiosk of the demo district, with its token.
pub(crate) const STATIONS: [(&str, &str); 6] = [
    ("demo", "token-of-demo-station-01"),
    ("gm-north-mall", "token-of-gm-north-mall-01"),
    ("gm-south-site", "token-of-site-station-02"),
    ("gm-south-hospital", "token-of-gm-south-hospital-01"),
    ("dh-one-estate", "token-of-dh-one-estate-01"),
    ("dh-two-mall", "token-of-dh-two-mall-01"),
];

/// The units that work cases, each with an account of its own id (`password-of-<id>`).
const UNITS: [(&str, &str); 9] = [
    ("gm-north", "community"),
    ("gm-south", "community"),
    ("dh-one", "community"),
    ("dh-two", "community"),
    ("housing", "department"),
    ("labour", "department"),
    ("market", "department"),
    ("police", "department"),
    ("justice", "department"),
];

fn token_of(station: &str) -> &'static str {
    STATIONS
        .iter()
        .find(|(s, _)| *s == station)
        .map(|(_, t)| *t)
        .expect("a demo station")
}

fn at_local(local: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{local}+08:00"))
        .expect("a local time")
        .with_timezone(&Utc)
}

/// A hub on the demo district at `local` (China time) with every station's token, and
/// accounts for the dispatcher, the leader, a community worker, a department head and every
/// unit that works cases.
pub(crate) async fn leaders_hub(local: &str) -> TestHub {
    let hub = TestHub::start_at(Some(at_local(local)), |c| {
        // The demo district's kiosks only (not the test hub's two of its own).
        c.clear_stations();
        for (station, token) in STATIONS {
            c.add_station(station, token);
        }
    })
    .await;
    let mut accounts: Vec<(&str, &str, &str)> = vec![
        ("dispatcher", "demo-district", "dispatcher"),
        ("leader", "demo-district", "leader"),
        ("street", "guangming", "street"),
        ("housing-head", "housing", "department_head"),
        ("gm-north-worker", "gm-north", "community"),
        ("gm-north-secretary", "gm-north", "secretary"),
        ("auditor", "demo-district", "auditor"),
    ];
    accounts.extend(UNITS.iter().map(|(unit, role)| (*unit, *unit, *role)));
    for (id, unit, role) in accounts {
        assert!(hub
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
            .expect("the account is made"));
    }
    hub
}

/// A case of `service`/`subtype` filed now at `station`, at `risk`.
fn case_of(
    hub: &TestHub,
    station: &str,
    (service, subtype, name): (&str, &str, &str),
    risk: RiskLevel,
) -> CaseSubmission {
    let mut case = sample_case(station);
    case.filed_at = hub.now();
    case.service = service.into();
    case.subtype = subtype.into();
    case.subtype_name = name.into();
    if risk != RiskLevel::Normal {
        case.answers = vec![SubmittedAnswer {
            question: "workers".into(),
            question_label: "有多少人被拖欠？".into(),
            value: "10_29".into(),
            value_label: "10到29人".into(),
        }];
        case.risk = RiskAssessment {
            level: risk,
            reasons: vec![RiskReason::Answer {
                question: "workers".into(),
                option: "10_29".into(),
                level: risk,
            }],
        };
    }
    case
}

/// A kind of case: service, sub-type and the sub-type's name.
type Kind = (&'static str, &'static str, &'static str);

const NOISE: Kind = ("complaint", "noise", "噪音扰民");
const WAGES: Kind = ("complaint", "wages_owed", "拖欠工资");

async fn file(hub: &TestHub, case: &CaseSubmission) -> String {
    let r = hub.submit(token_of(&case.station_id), case).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    case.token.clone()
}

async fn act(hub: &TestHub, user: &str, code: &str, action: &str, body: Value) -> Value {
    let session = login(hub, user).await;
    act_in(hub, &session, user, code, action, body).await
}

async fn act_in(
    hub: &TestHub,
    session: &str,
    user: &str,
    code: &str,
    action: &str,
    body: Value,
) -> Value {
    let (status, answer) = post(
        hub,
        session,
        &format!("/api/v1/district/cases/{code}/{action}"),
        body,
    )
    .await;
    assert!(
        status.is_success(),
        "{user} {action} {code}: {status} {answer}"
    );
    answer
}

/// The month's people keep their sessions, as people at work do: each logs in again only when
/// its session nears its twelve hours. A login is an Argon2 hash, the month's dearest request;
/// logging in for every action made the month four times slower.
#[derive(Default)]
struct Sessions(HashMap<String, (String, DateTime<Utc>)>);

impl Sessions {
    async fn act(
        &mut self,
        hub: &TestHub,
        user: &str,
        code: &str,
        action: &str,
        body: Value,
    ) -> Value {
        let now = hub.now();
        let session = match self.0.get(user) {
            Some((token, since)) if now - *since < Duration::hours(11) => token.clone(),
            _ => {
                let token = login(hub, user).await;
                self.0.insert(user.to_owned(), (token.clone(), now));
                token
            }
        };
        act_in(hub, &session, user, code, action, body).await
    }
}

async fn rate(hub: &TestHub, station: &str, code: &str, rating: &str) {
    let r = hub
        .client
        .post(hub.url(&format!("/api/v1/cases/{code}/rating")))
        .bearer_auth(token_of(station))
        .json(&json!({ "rating": rating }))
        .send()
        .await
        .expect("the hub answers");
    assert!(r.status().is_success(), "rating {code}: {}", r.status());
}

/// Moves the hub's clock to `to` (never back).
fn clock_to(hub: &TestHub, to: DateTime<Utc>) {
    let by = to - hub.now();
    if by > Duration::zero() {
        hub.advance(by);
    }
}

fn card<'a>(cards: &'a Value, unit: &str) -> &'a Value {
    cards["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|c| c["unit"] == unit)
        .unwrap_or_else(|| panic!("no card for {unit}: {cards}"))
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 0.011)
}

#[tokio::test]
async fn every_scorecard_figure_matches_the_hand_count_and_open_overdue_cases_count_against() {
    let hub = leaders_hub("2026-06-02T09:00:00").await;
    // Six cases filed at 09:00 on Tuesday 2 June: A–D to the housing bureau, E to labour, F to
    // the community of Guangming North.
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(file(&hub, &case_of(&hub, "demo", NOISE, RiskLevel::Normal)).await);
    }
    let [a, b, c, d, e, f] = <[String; 6]>::try_from(codes).unwrap();
    for (code, unit) in [
        (&a, "housing"),
        (&b, "housing"),
        (&c, "housing"),
        (&d, "housing"),
        (&e, "labour"),
        (&f, "gm-north"),
    ] {
        act(&hub, "dispatcher", code, "route", json!({ "unit": unit })).await;
    }
    let start = hub.now();
    clock_to(&hub, start + Duration::minutes(10));
    for (user, code) in [
        ("housing", &a),
        ("housing", &d),
        ("labour", &e),
        ("gm-north", &f),
    ] {
        act(&hub, user, code, "accept", json!({})).await;
    }
    clock_to(&hub, start + Duration::minutes(20));
    act(
        &hub,
        "housing",
        &c,
        "return",
        json!({"reason": "不属于住建局职责"}),
    )
    .await;
    // F: the community orders the housing bureau twice: for 14:00 (it comes at 13:50) and for
    // 15:00 (it never comes).
    clock_to(&hub, start + Duration::minutes(30));
    let mut orders = Vec::new();
    for arrive in ["14:00", "15:00"] {
        let order = act(
            &hub,
            "gm-north-secretary",
            &f,
            "orders",
            json!({"department": "housing", "place": "小区北门", "staff": 2,
                   "arrive_by": format!("2026-06-02T{arrive}:00+08:00")}),
        )
        .await;
        orders.push(order["id"].as_i64().expect("an order id"));
    }
    clock_to(&hub, start + Duration::hours(2));
    act(
        &hub,
        "housing",
        &a,
        "resolve",
        json!({"result": "已协调施工方"}),
    )
    .await;
    clock_to(&hub, start + Duration::hours(3));
    act(&hub, "housing", &d, "resolve", json!({"result": "已处理"})).await;
    clock_to(&hub, start + Duration::hours(3) + Duration::minutes(30));
    rate(&hub, "demo", &a, "satisfied").await;
    rate(&hub, "demo", &d, "unsatisfied").await;
    clock_to(&hub, at_local("2026-06-02T13:55:00"));
    let housing = login(&hub, "housing").await;
    let (status, _) = post(
        &hub,
        &housing,
        &format!("/api/v1/district/orders/{}/accept", orders[0]),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(
        &hub,
        &housing,
        &format!("/api/v1/district/orders/{}/arrive", orders[0]),
        json!({"people": ["王建国"], "at": "2026-06-02T13:50:00+08:00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Three weeks on, every deadline has passed.
    clock_to(&hub, at_local("2026-06-25T12:00:00"));
    let leader = login(&hub, "leader").await;
    let (status, cards) = get(
        &hub,
        &leader,
        "/api/v1/district/scorecard?from=2026-06-01&to=2026-06-30",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cards}");

    // The housing bureau, by hand: five dispatches (A, B, C, D, and D again after the
    // unsatisfied rating). Accepted in time: A, D → 2 of 5 (B and D's second sending never
    // answered, C returned). On time: A and D resolved in time, B and D's second sending open
    // past their deadline → 2 of 4 (C, returned, is not the bureau's to resolve). Satisfied: A
    // of A, D → 1 of 2. Returned: C → 1 of 5. Redone: D of A, D → 1 of 2. Orders: the 14:00
    // one arrived at 13:50, the 15:00 one never → 1 of 2. Same day: A and D's first resolution
    // of the five dispatches of cases filed in June → 2 of 5. Hours: 2 and 3 → median 2 (the
    // nearest rank), 90th percentile 3. Score: 100 × (0.3 × 2/5 + 0.35 × 2/4 + 0.35 × 1/2) =
    // 47.
    let h = card(&cards, "housing");
    assert_eq!(h["kind"], "department");
    assert_eq!(h["dispatched"], 5);
    assert!(close(&h["response_rate"], 0.4), "{h}");
    assert!(close(&h["on_time_resolution"], 0.5), "{h}");
    assert!(close(&h["satisfaction"], 0.5), "{h}");
    assert!(close(&h["return_rate"], 0.2), "{h}");
    assert!(close(&h["redo_rate"], 0.5), "{h}");
    assert!(close(&h["order_arrival_on_time"], 0.5), "{h}");
    assert!(close(&h["same_day_rate"], 0.4), "{h}");
    assert!(close(&h["median_hours"], 2.0), "{h}");
    assert!(close(&h["p90_hours"], 3.0), "{h}");
    assert!(close(&h["score"], 47.0), "{h}");
    assert_eq!(
        h["counts"]["on_time_resolution"],
        json!({"hits": 2, "of": 4})
    );
    // Labour accepted E at once and sits on it past its deadline: not a perfect 100, but
    // 100 × (0.3 × 1 + 0.35 × 0) / 0.65 = 46.15, below the bureau.
    let l = card(&cards, "labour");
    assert!(close(&l["response_rate"], 1.0), "{l}");
    assert!(close(&l["on_time_resolution"], 0.0), "{l}");
    assert!(
        l["satisfaction"].is_null(),
        "nothing rated: no rate, not 0 or 1: {l}"
    );
    assert!(close(&l["score"], 46.15), "{l}");
    assert_eq!((h["rank"].as_u64(), l["rank"].as_u64()), (Some(1), Some(2)));
    // A department that had nothing has no score and no rank.
    let m = card(&cards, "market");
    assert!(
        m["score"].is_null() && m["rank"].is_null() && m["dispatched"] == 0,
        "{m}"
    );
    // The community and its street: F accepted in time, open past its deadline.
    for unit in ["gm-north", "guangming"] {
        let c = card(&cards, unit);
        assert!(close(&c["response_rate"], 1.0), "{c}");
        assert_eq!(
            c["counts"]["on_time_resolution"],
            json!({"hits": 0, "of": 1})
        );
    }
    assert_eq!(card(&cards, "guangming")["kind"], "street");

    // One unit's card alone; the same figures.
    let (status, one) = get(
        &hub,
        &leader,
        "/api/v1/district/scorecard?from=2026-06-01&to=2026-06-30&unit=housing",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["units"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["units"][0], *h);
    // May, before any of it: nothing counted.
    let (_, may) = get(
        &hub,
        &leader,
        "/api/v1/district/scorecard?from=2026-05-01&to=2026-05-31&unit=housing",
    )
    .await;
    assert_eq!(may["units"][0]["dispatched"], 0);
    assert!(may["units"][0]["score"].is_null());

    // Bad questions get named answers.
    for (query, field) in [
        ("from=2026-06-30&to=2026-06-01", "to"),
        ("from=June&to=2026-06-30", "from"),
        ("unit=nowhere", "unit"),
    ] {
        let (status, body) = get(
            &hub,
            &leader,
            &format!("/api/v1/district/scorecard?{query}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    // A community worker and the auditor may not; the refusal says who may.
    for user in ["gm-north-worker", "auditor"] {
        let session = login(&hub, user).await;
        for path in ["/api/v1/district/scorecard", "/api/v1/district/risk"] {
            let (status, body) = get(&hub, &session, path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} {path}: {body}");
        }
    }
}

/// The risk map's line of a community.
fn risk_of<'a>(risk: &'a Value, community: &str) -> &'a Value {
    risk["communities"]
        .as_array()
        .expect("communities")
        .iter()
        .find(|c| c["id"] == community)
        .unwrap_or_else(|| panic!("no {community} on the map: {risk}"))
}

/// The fill of a community's shape on the leaders' page.
fn fill_of(page: &str, community: &str) -> String {
    let link = format!("<a href=\"/list?community={community}&amp;state=open");
    let at = page
        .find(&link)
        .unwrap_or_else(|| panic!("{community} is not on the map"));
    let rest = &page[at..];
    let fill = rest.find("fill=\"").expect("a fill") + 6;
    rest[fill..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_cluster_of_one_kind_in_one_community_shades_it_higher_and_resolving_lowers_it() {
    let hub = leaders_hub("2026-06-02T09:00:00").await;
    let leader = login(&hub, "leader").await;
    let (_, calm) = page(&hub, &leader, "/overview").await;
    let calm_fill = fill_of(&calm, "dh-one");
    assert_eq!(
        fill_of(&calm, "gm-south"),
        calm_fill,
        "a calm district is one colour"
    );

    // Four complaints of unpaid wages at the Donghu First estate, elevated, and one noise
    // complaint in Guangming South.
    let mut cluster = Vec::new();
    for _ in 0..4 {
        cluster.push(
            file(
                &hub,
                &case_of(&hub, "dh-one-estate", WAGES, RiskLevel::Elevated),
            )
            .await,
        );
    }
    file(
        &hub,
        &case_of(&hub, "gm-south-site", NOISE, RiskLevel::Normal),
    )
    .await;
    let (status, risk) = get(&hub, &leader, "/api/v1/district/risk").await;
    assert_eq!(status, StatusCode::OK, "{risk}");
    let dh = risk_of(&risk, "dh-one");
    // 4 elevated × 4 + 3 repeats × 2 = 22.
    assert_eq!(
        (
            dh["open_elevated"].as_u64(),
            dh["repeats"].as_u64(),
            dh["score"].as_u64()
        ),
        (Some(4), Some(3), Some(22)),
        "{dh}"
    );
    assert_eq!(
        risk["communities"][0]["id"], "dh-one",
        "the most at risk first"
    );
    assert_eq!(risk_of(&risk, "gm-south")["score"], 0);
    let (status, clustered) = page(&hub, &leader, "/overview").await;
    assert_eq!(status, StatusCode::OK);
    let hot = fill_of(&clustered, "dh-one");
    assert_ne!(hot, calm_fill, "the cluster's community is shaded");
    assert_eq!(fill_of(&clustered, "gm-south"), calm_fill);

    // Routed to labour, accepted, resolved: the open part goes, the repeats stay.
    for code in &cluster {
        act(&hub, "dispatcher", code, "route", json!({"unit": "labour"})).await;
        act(&hub, "labour", code, "accept", json!({})).await;
        act(
            &hub,
            "labour",
            code,
            "resolve",
            json!({"result": "工资已发放"}),
        )
        .await;
    }
    let (_, risk) = get(&hub, &leader, "/api/v1/district/risk").await;
    let dh = risk_of(&risk, "dh-one");
    assert_eq!(
        (dh["open_elevated"].as_u64(), dh["score"].as_u64()),
        (Some(0), Some(6)),
        "{dh}"
    );
    let (_, resolved) = page(&hub, &leader, "/overview").await;
    let after = fill_of(&resolved, "dh-one");
    assert!(
        after != hot && after != calm_fill,
        "lower, but still marked: {after}"
    );
    // Thirty days on the repeats are forgotten too.
    hub.advance(Duration::days(31));
    let leader = login(&hub, "leader").await;
    let (_, later) = get(&hub, &leader, "/api/v1/district/risk").await;
    assert_eq!(risk_of(&later, "dh-one")["score"], 0);
}

#[tokio::test]
async fn the_leaders_page_opens_the_list_behind_each_number_and_keeps_to_its_readers() {
    let hub = leaders_hub("2026-06-02T09:00:00").await;
    let high = file(&hub, &case_of(&hub, "dh-two-mall", WAGES, RiskLevel::High)).await;
    for _ in 0..2 {
        file(
            &hub,
            &case_of(&hub, "gm-south-site", NOISE, RiskLevel::Normal),
        )
        .await;
    }
    let leader = login(&hub, "leader").await;
    let (status, board) = page(&hub, &leader, "/overview").await;
    assert_eq!(status, StatusCode::OK);
    // The numbers and where they lead.
    for (label, href) in [
        ("在办案件", "/list?state=open&amp;lang=zh"),
        (
            "今日受理",
            "/list?filed_from=2026-06-02&amp;filed_to=2026-06-02&amp;lang=zh",
        ),
        ("超期案件", "/list?overdue=true&amp;lang=zh"),
    ] {
        let tile = board
            .find(&format!("href=\"{href}\""))
            .unwrap_or_else(|| panic!("no link for {label}"));
        assert!(board[tile..].split("</a>").next().unwrap().contains(label));
    }
    assert!(board.contains("<span class=\"value\">3</span><span class=\"label\">在办案件"));
    // The high-risk case is a red alert (by its code; no resident's words).
    assert!(
        board.contains(&format!("/cases/{high}")),
        "the red alert links its case"
    );
    assert!(!board.contains("DESCRIPTION-MARK") && !board.contains("13812345678"));
    // The list behind "open", filtered by community, and its export.
    let (status, list) = page(&hub, &leader, "/list?state=open&community=gm-south&lang=zh").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("<span class=\"count\">2</span>"),
        "two open in Guangming South"
    );
    assert!(!list.contains(&high));
    assert!(list.contains("/cases.csv?state=open&amp;community=gm-south&amp;lang=zh"));
    let (status, csv) = page(&hub, &leader, "/cases.csv?state=open&community=gm-south").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv.lines().count(), 3, "a heading and two cases:\n{csv}");
    // Through the API each wrong date names its own field.
    for field in ["filed_from", "filed_to", "resolved_from", "resolved_to"] {
        let (status, body) = get(
            &hub,
            &leader,
            &format!("/api/v1/district/cases?{field}=June"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    // A filter that means nothing is said so, in words.
    let (status, bad) = page(&hub, &leader, "/list?class=urgentish").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("筛选条件"), "{bad}");
    // Who may open the page.
    for (user, may) in [
        ("leader", true),
        ("dispatcher", true),
        ("street", true),
        ("housing-head", true),
        ("gm-north-worker", false),
        ("housing", false),
        ("auditor", false),
    ] {
        let session = login(&hub, user).await;
        let (status, _) = page(&hub, &session, "/overview").await;
        assert_eq!(status == StatusCode::OK, may, "{user}: {status}");
    }
    // In English every word is English (units, services, headings, legends): no Chinese
    // character is left on the page or the list but the resident's own words, which are not
    // there.
    for path in ["/overview?lang=en", "/list?state=open&lang=en"] {
        let (status, english) = page(&hub, &leader, path).await;
        assert_eq!(status, StatusCode::OK);
        let chinese: String = english
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .collect();
        // The language switch names each language in its own words.
        let chinese = chinese.replace("简体中文", "").replace("繁體中文", "");
        assert!(chinese.is_empty(), "{path} keeps Chinese: {chinese}");
    }
    // The leader lands on it after logging in.
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = client.get(hub.url("/login")).send().await.unwrap();
    let cookie = login_page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let html = login_page.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let csrf = html[html.find(marker).unwrap() + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = client
        .post(hub.url("/login"))
        .header(header::COOKIE, cookie)
        .form(&[
            ("user", "leader"),
            ("password", "password-of-leader"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/overview"));
}

/// A small deterministic random source (xorshift64*), so a seed gives the same month.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True `percent` times in 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// What happens next in the generated month.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    Route {
        code: String,
        unit: String,
    },
    Accept {
        code: String,
        unit: String,
    },
    Resolve {
        code: String,
        unit: String,
    },
    Rate {
        code: String,
        station: String,
        rating: &'static str,
        unit: String,
    },
    /// The last afternoon's red alerts: an order of Guangming North's nobody comes for…
    OrderNobodyComes,
    /// …and a high-risk wage claim (routed at intake) left open.
    HighRiskClaim,
}

/// How each unit works (minutes): accept after `accept`, resolve after `resolve`, and how many
/// in a hundred citizens are unsatisfied. The market bureau is the laggard of the demo.
fn pace(unit: &str, dice: &mut Dice) -> (i64, i64, u64) {
    match unit {
        "market" => (
            dice.between(60, 3 * 24 * 60),
            dice.between(3 * 24 * 60, 12 * 24 * 60),
            35,
        ),
        "housing" => (dice.between(10, 90), dice.between(6 * 60, 2 * 24 * 60), 10),
        "labour" => (dice.between(10, 60), dice.between(4 * 60, 3 * 24 * 60), 10),
        "justice" => (dice.between(5, 40), dice.between(60, 5 * 60), 5),
        _ => (dice.between(5, 30), dice.between(60, 8 * 60), 8),
    }
}

/// What the generated month left: the codes of the cases still open and of all.
pub(crate) struct Month {
    pub(crate) filed: usize,
    pub(crate) open: usize,
}

/// Generates a month of the demo district's history on `hub` through its real API, thirty
/// days from the hub's clock now, the last one to 15:00 (the clock ends there).
///
/// Every weekday 6 to 12 cases come in between 08:30 and 18:00 (2 to 5 on a weekend), of six
/// kinds at the district's six kiosks: noise (to the community), property (housing), consumer
/// (market), unpaid wages (labour, elevated), neighbours' disputes (community) and legal
/// questions (justice), one in fifty high risk. For the last twelve days unpaid wages also
/// come in at the Donghu First estate every day, and labour leaves half of those open: the
/// cluster the risk map shows. The dispatcher routes each case 10 to 40 minutes after it
/// comes to the unit the district's rules suggest; each unit accepts and resolves at its own
/// pace ([`pace`]: the market bureau slowest); four in five citizens rate the result a few
/// hours later, and an unsatisfied rating sends the case back to be worked again. Whatever is
/// due after the month's end is left open. The stations send heartbeats (the Guangming South
/// hospital's kiosk stops an hour before the end; the Donghu Second mall's printer is out of
/// paper) and two professionals are on duty. On the last afternoon a high-risk wage claim
/// comes in at the Donghu First estate and stays open, and an order of Guangming North's to
/// the housing bureau passes its arrival time with nobody there: the red alerts.
pub(crate) async fn seed_month(hub: &TestHub, seed: u64) -> Month {
    let mut dice = Dice(seed.max(1));
    let mut sessions = Sessions::default();
    let start = hub.now();
    let end = start + Duration::days(29) + Duration::hours(7);
    let kinds: [(Kind, u64); 6] = [
        (NOISE, 25),
        (("complaint", "property", "物业纠纷"), 20),
        (("complaint", "consumer", "消费维权"), 15),
        (WAGES, 15),
        (("mediation", "neighbour", "邻里纠纷"), 15),
        (("legal", "need", "法律咨询"), 10),
    ];
    let mut filed = Vec::new();
    let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, u64, Next)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut push = |queue: &mut BinaryHeap<_>, at: DateTime<Utc>, next: Next| {
        order += 1;
        queue.push(Reverse((at, order, next)));
    };
    push(&mut queue, end - Duration::hours(5), Next::OrderNobodyComes);
    push(&mut queue, end - Duration::hours(2), Next::HighRiskClaim);
    for day in 0..30 {
        let morning = start + Duration::days(day);
        // The last day ends at 15:00.
        let latest = if day == 29 { 400 } else { 600 };
        let weekend = matches!(
            chrono::Datelike::weekday(&morning.with_timezone(&domain::calendar::china())),
            chrono::Weekday::Sat | chrono::Weekday::Sun
        );
        let count = if weekend {
            dice.between(2, 5)
        } else {
            dice.between(6, 12)
        };
        let mut arrivals: Vec<(DateTime<Utc>, Kind, &str, RiskLevel)> = Vec::new();
        for _ in 0..count {
            let mut pick = dice.next() % 100;
            let kind = kinds
                .iter()
                .find(|(_, w)| {
                    let hit = pick < *w;
                    pick = pick.saturating_sub(*w);
                    hit
                })
                .map_or(NOISE, |(k, _)| *k);
            let station = STATIONS[(dice.next() % STATIONS.len() as u64) as usize].0;
            let risk = if dice.chance(2) {
                RiskLevel::High
            } else if kind == WAGES {
                RiskLevel::Elevated
            } else {
                RiskLevel::Normal
            };
            arrivals.push((
                morning + Duration::minutes(dice.between(30, latest)),
                kind,
                station,
                risk,
            ));
        }
        if day >= 17 {
            arrivals.push((
                morning + Duration::minutes(dice.between(60, latest)),
                WAGES,
                "dh-one-estate",
                RiskLevel::Elevated,
            ));
        }
        arrivals.sort_by_key(|a| a.0);
        for (at, kind, station, risk) in arrivals {
            // What is due before this arrival happens first.
            while let Some(Reverse((due, _, _))) = queue.peek() {
                if *due > at {
                    break;
                }
                let Reverse((due, _, next)) = queue.pop().unwrap();
                step(
                    hub,
                    &mut dice,
                    &mut queue,
                    &mut push,
                    (due, next),
                    end,
                    &mut sessions,
                )
                .await;
            }
            clock_to(hub, at);
            let case = case_of(hub, station, kind, risk);
            let code = file(hub, &case).await;
            filed.push(code.clone());
            let suggested = match kind.1 {
                "property" => "housing".to_owned(),
                "consumer" => "market".to_owned(),
                "wages_owed" => "labour".to_owned(),
                "need" => "justice".to_owned(),
                _ => domain::district::District::demo()
                    .community_of_station(station)
                    .expect("a demo station's community")
                    .id
                    .clone(),
            };
            // The cluster's cases wait at labour (half of them never accepted in time).
            if station == "dh-one-estate" && kind == WAGES && day >= 17 && dice.chance(50) {
                push(
                    &mut queue,
                    at + Duration::minutes(20),
                    Next::Route {
                        code,
                        unit: "labour-slow".into(),
                    },
                );
                continue;
            }
            push(
                &mut queue,
                at + Duration::minutes(dice.between(10, 40)),
                Next::Route {
                    code,
                    unit: suggested,
                },
            );
        }
    }
    while let Some(Reverse((due, _, next))) = queue.pop() {
        if due > end {
            break;
        }
        step(
            hub,
            &mut dice,
            &mut queue,
            &mut push,
            (due, next),
            end,
            &mut sessions,
        )
        .await;
    }
    clock_to(hub, end);
    // The kiosks' health and who is on duty, as of the end.
    for (station, token) in STATIONS {
        if station == "gm-south-hospital" {
            continue;
        }
        let beat = json!({
            "station_id": station, "sent_at": hub.now(), "app_version": "0.1.0",
            "printer_state": if station == "dh-two-mall" { "paper_out" } else { "ready" },
            "paper_left_m": if station == "dh-two-mall" { 0.0 } else { 38.5 },
            "paper_low": station == "dh-two-mall",
            "queue_lengths": {}, "outbox_pending": 0, "outbox_oldest_s": null
        });
        assert_eq!(hub.heartbeat(token, beat).await.status(), 204);
    }
    let state = json!({
        "station_id": "demo", "seq": 1, "sent_at": hub.now(), "tickets": [], "bookings": [],
        "on_duty": [
            {"provider_id": "lawyer-li", "role": "lawyer", "name": "李律师", "since": hub.now() - Duration::hours(2)},
            {"provider_id": "mediator-zhang", "role": "mediator", "name": "张调解员", "since": hub.now() - Duration::hours(1)},
        ]
    });
    let r = hub
        .client
        .put(hub.url("/api/v1/station-state"))
        .bearer_auth(token_of("demo"))
        .json(&state)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let open = hub.one(
        "SELECT count(*) FROM district_cases WHERE stage IN ('received', 'assigned', 'in_progress', 'reopened')",
        &[],
    )[0]
        .int();
    Month {
        filed: filed.len(),
        open: usize::try_from(open).unwrap(),
    }
}

/// Does one due step of the generated month and schedules what follows it.
async fn step(
    hub: &TestHub,
    dice: &mut Dice,
    queue: &mut BinaryHeap<Reverse<(DateTime<Utc>, u64, Next)>>,
    push: &mut impl FnMut(&mut BinaryHeap<Reverse<(DateTime<Utc>, u64, Next)>>, DateTime<Utc>, Next),
    (due, next): (DateTime<Utc>, Next),
    end: DateTime<Utc>,
    sessions: &mut Sessions,
) {
    if due > end {
        return;
    }
    clock_to(hub, due);
    match next {
        Next::Route { code, unit } => {
            // The cluster's slow half: routed, then left unanswered.
            if unit == "labour-slow" {
                sessions
                    .act(hub, "dispatcher", &code, "route", json!({"unit": "labour"}))
                    .await;
                return;
            }
            sessions
                .act(hub, "dispatcher", &code, "route", json!({ "unit": unit }))
                .await;
            let (accept, _, _) = pace(&unit, dice);
            push(
                queue,
                due + Duration::minutes(accept),
                Next::Accept { code, unit },
            );
        }
        Next::Accept { code, unit } => {
            sessions.act(hub, &unit, &code, "accept", json!({})).await;
            let (_, resolve, _) = pace(&unit, dice);
            push(
                queue,
                due + Duration::minutes(resolve),
                Next::Resolve { code, unit },
            );
        }
        Next::Resolve { code, unit } => {
            sessions
                .act(hub, &unit, &code, "resolve", json!({"result": "已办结"}))
                .await;
            if dice.chance(80) {
                let (_, _, unhappy) = pace(&unit, dice);
                let rating = if dice.chance(unhappy) {
                    "unsatisfied"
                } else if dice.chance(25) {
                    "basically_satisfied"
                } else {
                    "satisfied"
                };
                let station = hub.one(
                    "SELECT station_id FROM cases WHERE token = ?1",
                    &[text(&code)],
                )[0]
                .text();
                push(
                    queue,
                    due + Duration::minutes(dice.between(60, 600)),
                    Next::Rate {
                        code,
                        station,
                        rating,
                        unit,
                    },
                );
            }
        }
        Next::OrderNobodyComes => {
            let code = file(hub, &case_of(hub, "demo", NOISE, RiskLevel::Normal)).await;
            sessions
                .act(
                    hub,
                    "dispatcher",
                    &code,
                    "route",
                    json!({"unit": "gm-north"}),
                )
                .await;
            sessions
                .act(hub, "gm-north", &code, "accept", json!({}))
                .await;
            let arrive_by = (end - Duration::hours(1)).with_timezone(&domain::calendar::china());
            sessions
                .act(
                    hub,
                    "gm-north-secretary",
                    &code,
                    "orders",
                    json!({"department": "housing", "place": "光明文化广场东侧", "staff": 2,
                       "need": "核查违章搭建", "arrive_by": arrive_by.to_rfc3339()}),
                )
                .await;
        }
        Next::HighRiskClaim => {
            file(hub, &case_of(hub, "dh-one-estate", WAGES, RiskLevel::High)).await;
        }
        Next::Rate {
            code,
            station,
            rating,
            unit,
        } => {
            rate(hub, &station, &code, rating).await;
            if rating == "unsatisfied" {
                let (accept, _, _) = pace(&unit, dice);
                push(
                    queue,
                    due + Duration::minutes(accept),
                    Next::Accept { code, unit },
                );
            }
        }
    }
}

#[tokio::test]
async fn a_seeded_month_gives_every_unit_a_card_and_the_laggard_ranks_last() {
    let hub = leaders_hub("2026-06-01T08:00:00").await;
    let month = seed_month(&hub, 20_260_601).await;
    assert!(month.filed > 150, "a month's worth: {}", month.filed);
    assert!(month.open > 0, "some still open");
    let leader = login(&hub, "leader").await;
    let (status, cards) = get(
        &hub,
        &leader,
        "/api/v1/district/scorecard?from=2026-06-01&to=2026-06-30",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let departments: Vec<&Value> = cards["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "department" && c["rank"].is_u64())
        .collect();
    let last = departments
        .iter()
        .max_by_key(|c| c["rank"].as_u64())
        .unwrap();
    assert_eq!(last["unit"], "market", "{cards}");
    assert_eq!(last["flagged"], true);
    let (_, risk) = get(&hub, &leader, "/api/v1/district/risk").await;
    assert_eq!(risk["communities"][0]["id"], "dh-one", "{risk}");
}
