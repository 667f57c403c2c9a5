//! `grievance-hub loadgen` against the real hub: every kind of request is sent at its rate and
//! answered, a retried case gets its first receipt, and a refused request is counted as a
//! failure with its reason, not as a fast success.

use std::time::Duration;

use crate::hub_common::*;
use hub::loadgen::{Kind, Plan};

#[tokio::test]
async fn the_load_generator_sends_every_kind_and_counts_what_fails() {
    let hub = TestHub::start().await;
    let mut plan = Plan::province(
        &hub.base,
        vec![
            (STATION_A.to_owned(), STATION_A_TOKEN.to_owned()),
            // A station whose token the hub does not know: its heartbeats are refused.
            (
                STATION_B.to_owned(),
                "not-the-token-of-station-b".to_owned(),
            ),
        ],
        Duration::from_secs(2),
    );
    plan.department_token = Some(DEPARTMENT_TOKEN.to_owned());
    plan.warmup_cases = 1; // by station A, the first
    plan.heartbeat_every = Duration::from_millis(200);
    plan.cases_per_s = 0.0;
    plan.tracking_per_s = 20.0;
    plan.events_per_s = 5.0;
    plan.states_per_s = 0.0;
    let report = hub::loadgen::run(plan).await.expect("the run ends");
    let kind = |k: Kind| report.kinds.iter().find(|r| r.kind == k).unwrap();

    let beats = kind(Kind::Heartbeat);
    assert_eq!(beats.sent, 20, "two stations, every 200 ms, for 2 s");
    assert_eq!(beats.ok, 10, "{beats:?}");
    assert_eq!(beats.errors.get("401"), Some(&10), "{beats:?}");
    let pages = kind(Kind::Tracking);
    assert_eq!((pages.sent, pages.ok), (40, 40), "{pages:?}");
    assert!(pages.p50 <= pages.p99 && pages.p99 <= pages.max);
    let events = kind(Kind::Event);
    assert_eq!((events.sent, events.ok), (10, 10), "{events:?}");
    assert!(
        report.kinds.iter().all(|k| k.kind != Kind::Case),
        "no cases asked for"
    );
    assert_eq!(report.errors(), 10);
    assert!(report.table().contains("10 × 401"), "{}", report.table());
    // The one case was moved on three times by the events and then left alone.
    assert_eq!(hub.count("case_events"), 4, "received, then three moves");
    assert_eq!(hub.count("heartbeats"), 1, "station A's only");
}

#[tokio::test]
async fn a_retried_case_gets_its_first_receipt() {
    let hub = TestHub::start().await;
    let mut plan = Plan::province(
        &hub.base,
        vec![(STATION_A.to_owned(), STATION_A_TOKEN.to_owned())],
        Duration::from_secs(1),
    );
    plan.warmup_cases = 3;
    plan.heartbeat_every = Duration::from_secs(3600);
    plan.cases_per_s = 20.0;
    plan.retry_share = 0.5;
    plan.tracking_per_s = 0.0;
    plan.states_per_s = 4.0;
    let report = hub::loadgen::run(plan).await.expect("the run ends");
    assert_eq!(report.errors(), 0, "{}", report.table());
    let kind = |k: Kind| report.kinds.iter().find(|r| r.kind == k).unwrap();
    assert_eq!(kind(Kind::Case).ok, 10);
    assert_eq!(kind(Kind::CaseRetry).ok, 10);
    assert_eq!(kind(Kind::StationState).ok, 4);
    assert_eq!(
        hub.count("cases"),
        13,
        "three before the clock, ten during; retries add none"
    );
}
