//! The kiosk's outbox against the hub on PostgreSQL when PostgreSQL itself goes away and comes
//! back (issue 18): the hub answers 503 while the server is gone, finds it again by itself
//! when it is back (no restart of the hub), and every case reaches the hub exactly once.

use crate::common::config_in;
use crate::pg_cluster::{self, Cluster};

use std::sync::Arc;
use std::time::{Duration, Instant};

use hub::store::PostgresConfig;
use hub::HubConfig;
use station::config::UpstreamKind;
use station::kiosk::Kiosk;
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;
use tempfile::TempDir;

const TOKEN: &str = "token-of-the-demo-station-on-pg";
const CASES: usize = 1500;
const DEADLINE: Duration = Duration::from_secs(120);

/// Files `n` noise complaints; their codes, in order.
pub(crate) fn file_cases(kiosk: &mut Kiosk, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            kiosk
                .file_case(&noise_complaint(&format!("楼上装修噪音 {i}")))
                .expect("the case is filed")
                .case
                .token
                .as_str()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_mid_drain_loses_nothing_and_the_hub_recovers_by_itself() {
    // A cluster of its own (it is stopped), syncing as a real one does.
    let cluster = Arc::new(pg_cluster::off_runtime(|| Cluster::start(true)));
    let url = {
        let cluster = Arc::clone(&cluster);
        pg_cluster::off_runtime(move || cluster.new_database())
    };
    let kiosk_dir = TempDir::new().unwrap();
    let config = config_in(kiosk_dir.path());
    let mut database = PostgresConfig::new(&url).unwrap();
    database.pool = 4;
    let mut hub_config =
        HubConfig::new("unused-with-postgres").with_station(&config.station.id, TOKEN);
    hub_config.database = Some(database);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub = hub::start(hub_config, listener)
        .await
        .expect("the hub starts on PostgreSQL");

    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    let tokens = file_cases(&mut kiosk, CASES);
    let upstream = Upstream::new(&hub.base_url(), UpstreamKind::Native, TOKEN);

    // PostgreSQL stops (as `systemctl stop` would) once the hub holds 100 of the cases.
    let stopper = {
        let (cluster, url) = (Arc::clone(&cluster), url.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while pg_cluster::query_i64(&url, "SELECT count(*) FROM cases") < 100 {
                assert!(start.elapsed() < DEADLINE, "the drain never got going");
                std::thread::sleep(Duration::from_millis(5));
            }
            cluster.stop();
        })
    };
    let first = kiosk.drain_outbox(&upstream, false).await.unwrap();
    stopper.join().expect("PostgreSQL was stopped");
    assert!(
        first.delivered.len() < CASES,
        "the drain was cut short: {} delivered",
        first.delivered.len()
    );
    assert_eq!(
        first.retried, 1,
        "the case the hub could not store waits: {first:?}"
    );

    // While PostgreSQL is away the hub says so: 503, try again later.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let away = http
        .get(format!("{}/api/v1/cases/{}", hub.base_url(), tokens[0]))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(away.status(), 503);

    // Back: the same hub process finds it by itself, and the rest of the outbox arrives.
    {
        let cluster = Arc::clone(&cluster);
        pg_cluster::off_runtime(move || cluster.restart());
    }
    let start = Instant::now();
    while kiosk.outbox_counts().unwrap().pending > 0 {
        assert!(start.elapsed() < DEADLINE, "the outbox never drained");
        kiosk.drain_outbox(&upstream, true).await.unwrap();
    }
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.delivered, counts.failed), (CASES as u64, 0));
    assert_eq!(
        pg_cluster::query_i64(&url, "SELECT count(*) FROM cases"),
        CASES as i64,
        "every case once"
    );
    assert_eq!(
        pg_cluster::query_i64(&url, "SELECT count(DISTINCT token) FROM cases"),
        CASES as i64
    );
    for token in [&tokens[0], &tokens[CASES / 2], &tokens[CASES - 1]] {
        let found = pg_cluster::rows(
            &url,
            "SELECT count(*) FROM cases WHERE token = ?1",
            &[pg_cluster::Sql::Text(token.clone())],
        );
        assert_eq!(found[0][0].int(), 1, "{token}");
    }
    drop(hub);
}
