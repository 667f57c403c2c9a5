//! The hub on PostgreSQL (issue 18), against a real server the tests start themselves
//! (`tests/pg_cluster`): the schema is made once whichever process comes first, a database from
//! a newer hub is refused, and several hub processes on one database keep one truth: a case
//! filed through two processes at once is stored once and both answer its receipt, a station's
//! older state never replaces a newer one written by another process.
//!
//! These run whichever engine the rest of the suite uses; the whole suite also runs on
//! PostgreSQL (`GRIEVANCE_TEST_HUB_DATABASE=postgres`, as `scripts/test` does).

use crate::hub_common::*;
use crate::pg_cluster;

use hub::store::PostgresConfig;
use hub::HubConfig;

fn config_on(url: &str) -> HubConfig {
    let mut config = HubConfig::new("unused-with-postgres")
        .with_station(STATION_A, STATION_A_TOKEN)
        .with_station(STATION_B, STATION_B_TOKEN);
    config.database = Some(PostgresConfig::new(url).expect("the cluster's connection string"));
    config
}

async fn hub_on(url: &str) -> hub::RunningHub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    hub::start(config_on(url), listener)
        .await
        .expect("the hub starts on PostgreSQL")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

#[tokio::test]
async fn hubs_starting_together_on_a_new_database_make_the_schema_once() {
    let url = pg_cluster::shared().new_database();
    let hubs = futures_util_join(
        (0..4)
            .map(|_| {
                let url = url.clone();
                async move { hub_on(&url).await }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(hubs.len(), 4);
    let version = pg_cluster::query_i64(&url, "SELECT version FROM hub_schema");
    let rows = pg_cluster::query_i64(&url, "SELECT count(*) FROM hub_schema");
    assert_eq!(rows, 1, "one version row");
    assert!(version >= 4, "every migration ran: {version}");
}

/// Starts every future at once and waits for all (no extra dependency for a join).
async fn futures_util_join<F: std::future::Future + Send + 'static>(
    futures: Vec<F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("the task finishes"));
    }
    out
}

#[tokio::test]
async fn a_database_from_a_newer_hub_is_refused() {
    let url = pg_cluster::shared().new_database();
    drop(hub_on(&url).await);
    pg_cluster::execute(&url, "UPDATE hub_schema SET version = version + 1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = hub::start(config_on(&url), listener)
        .await
        .err()
        .expect("a newer schema is refused");
    let message = format!("{err:#}");
    assert!(message.contains("newer hub"), "{message}");
}

#[tokio::test]
async fn one_case_filed_through_two_processes_at_once_is_stored_once() {
    let url = pg_cluster::shared().new_database();
    let (a, b) = (hub_on(&url).await, hub_on(&url).await);
    let http = client();
    for round in 0..20 {
        let case = sample_case(STATION_A);
        let send = |base: String| {
            let (http, case) = (http.clone(), case.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/v1/cases"))
                    .bearer_auth(STATION_A_TOKEN)
                    .header("Idempotency-Key", &case.id)
                    .json(&case)
                    .send()
                    .await
                    .expect("the hub answers")
            })
        };
        let (first, second) = (send(a.base_url()), send(b.base_url()));
        let (first, second) = (first.await.unwrap(), second.await.unwrap());
        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort();
        let r1: serde_json::Value = first.json().await.unwrap();
        let r2: serde_json::Value = second.json().await.unwrap();
        assert_eq!(
            statuses,
            [200, 201],
            "round {round}: one stores, the other replays: {r1} {r2}"
        );
        assert_eq!(
            r1, r2,
            "round {round}: the same receipt from both processes"
        );
    }
    let count = |table: &str| pg_cluster::query_i64(&url, &format!("SELECT count(*) FROM {table}"));
    let (cases, events, numbers) = (
        count("cases"),
        count("case_events"),
        count("open311_requests"),
    );
    assert_eq!((cases, events, numbers), (20, 20, 20));
}

#[tokio::test]
async fn the_highest_station_state_wins_whichever_process_gets_it_and_in_whatever_order() {
    let url = pg_cluster::shared().new_database();
    let (a, b) = (hub_on(&url).await, hub_on(&url).await);
    let http = client();
    let base = chrono::Utc::now() - chrono::Duration::minutes(10);
    // 40 states, sent all at once, each to one of the two processes, newest first for half.
    let mut seqs: Vec<i64> = (1..=40).collect();
    seqs.reverse();
    seqs.rotate_left(17);
    let sends: Vec<_> = seqs
        .iter()
        .enumerate()
        .map(|(i, &seq)| {
            let target = if i % 2 == 0 {
                a.base_url()
            } else {
                b.base_url()
            };
            let http = http.clone();
            let state = serde_json::json!({
                "station_id": STATION_A, "seq": seq,
                "sent_at": base + chrono::Duration::seconds(seq),
                "tickets": [], "bookings": [], "on_duty": []
            });
            tokio::spawn(async move {
                http.put(format!("{target}/api/v1/station-state"))
                    .bearer_auth(STATION_A_TOKEN)
                    .json(&state)
                    .send()
                    .await
                    .expect("the hub answers")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for send in sends {
        let status = send.await.unwrap();
        assert_eq!(
            status, 204,
            "applied, or older than the one kept (also 204)"
        );
    }
    let seq = pg_cluster::query_i64(&url, "SELECT seq FROM station_states");
    assert_eq!(seq, 40, "the newest state is the one kept");
    let sent_at = pg_cluster::rows(&url, "SELECT sent_at FROM station_states", &[]);
    let expected =
        (base + chrono::Duration::seconds(40)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(sent_at[0][0].text(), expected, "with its own time");
}

/// A periodic job runs once across every process on the database: each hub runs what is due
/// when it starts and then every minute, yet four hubs starting together, then asked twenty
/// times at once when the job is due again, run it once each time.
#[tokio::test]
async fn a_periodic_job_runs_once_across_processes() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let url = pg_cluster::shared().new_database();
    // One clock for the four processes, which the test moves.
    let offset = Arc::new(AtomicI64::new(0));
    let hubs = futures_util_join(
        (0..4)
            .map(|_| {
                let (url, offset) = (url.clone(), Arc::clone(&offset));
                async move {
                    let mut config = config_on(&url);
                    config.clock = hub::Clock::from_fn(move || {
                        chrono::Utc::now()
                            + chrono::Duration::seconds(offset.load(Ordering::SeqCst))
                    });
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    Arc::new(hub::start(config, listener).await.expect("the hub starts"))
                }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    let runs = || {
        pg_cluster::query_i64(
            &url,
            "SELECT runs FROM periodic_runs WHERE job = 'heartbeat_history'",
        )
    };
    assert_eq!(runs(), 1, "four hubs started, the job ran once");

    offset.fetch_add(2 * 3600, Ordering::SeqCst);
    let asks = (0..20).map(|n| {
        let hub = Arc::clone(&hubs[n % 4]);
        async move { hub.run_due_jobs().await.expect("the jobs run") }
    });
    let outcomes: Vec<_> = futures_util_join(asks.collect())
        .await
        .into_iter()
        .flatten()
        .filter(|(job, _)| *job == "heartbeat_history")
        .collect();
    assert_eq!(outcomes.len(), 20);
    let ran = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, hub::periodic::Outcome::Ran(_)))
        .count();
    assert!(ran <= 1, "{outcomes:?}");
    assert_eq!(
        runs(),
        2,
        "due again two hours later: run once more, by one process"
    );
}

/// A burst of one kind at one station, through two processes with six writers each: every case
/// is stored, and the day's rollup counts each once. (Each intake adds one to the rollup's
/// row of that day, station and kind: with its shard taken from the case id, eight writers at
/// once kept failing each other at REPEATABLE READ until a write ran out of tries, a 500.)
/// The cases are high-risk wage claims, routed at intake, as in `benches/district.rs`: the
/// longest intake there is, so the widest window for writers to meet in.
#[tokio::test]
async fn a_burst_of_one_kind_through_two_processes_is_stored_and_counted_whole() {
    const WRITERS: usize = 6;
    const EACH: usize = 100;
    let url = pg_cluster::shared().new_database();
    let (a, b) = (hub_on(&url).await, hub_on(&url).await);
    let http = client();
    let writers: Vec<_> = (0..2 * WRITERS)
        .map(|n| {
            let base = if n % 2 == 0 {
                a.base_url()
            } else {
                b.base_url()
            };
            let http = http.clone();
            tokio::spawn(async move {
                for _ in 0..EACH {
                    let case = wage_claim();
                    let r = http
                        .post(format!("{base}/api/v1/cases"))
                        .bearer_auth(STATION_A_TOKEN)
                        .header("Idempotency-Key", &case.id)
                        .json(&case)
                        .send()
                        .await
                        .expect("the hub answers");
                    let status = r.status();
                    assert_eq!(status, 201, "{}", r.text().await.unwrap_or_default());
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("a writer");
    }
    let filed = (2 * WRITERS * EACH) as i64;
    assert_eq!(
        pg_cluster::query_i64(&url, "SELECT count(*) FROM cases"),
        filed
    );
    assert_eq!(
        pg_cluster::query_i64(
            &url,
            "SELECT CAST(sum(filed) AS BIGINT) FROM daily_filed \
             WHERE service = 'complaint' AND subtype = 'wages_owed'"
        ),
        filed,
        "the rollup counts every case once"
    );
}

/// A high-risk wage claim (thirty workers and more): the hub routes it at intake to the labour
/// bureau, with its deadlines, in the intake's transaction.
fn wage_claim() -> protocol::CaseSubmission {
    use domain::{RiskAssessment, RiskLevel, RiskReason};
    let mut case = sample_case(STATION_A);
    case.subtype = "wages_owed".into();
    case.subtype_name = "拖欠工资".into();
    case.answers = vec![protocol::SubmittedAnswer {
        question: "workers".into(),
        question_label: "有多少人被拖欠？".into(),
        value: "30_plus".into(),
        value_label: "30人以上".into(),
    }];
    case.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Answer {
            question: "workers".into(),
            option: "30_plus".into(),
            level: RiskLevel::High,
        }],
    };
    case
}
