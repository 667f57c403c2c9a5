//! A city's hub as `docs/hub.md` ("A city or a province") deploys it (issue 18): two hub
//! processes on one PostgreSQL database behind a real nginx on loopback, configured by the
//! repository's own `deploy/province/nginx.conf`. A kiosk's outbox drains through nginx; one
//! process is killed (SIGKILL) mid-drain; every case arrives exactly once, the surviving
//! process keeps serving, and a new process rejoins (nginx reloaded with it) and serves alone
//! once the survivor is stopped too.
//!
//! The hub processes are this test binary started again (`HUB_FLEET_CHILD`), each running the
//! hub from `HUB_*` variables as `grievance-hub` does. nginx comes from Debian (`nginx-light`,
//! which `scripts/test` installs).

use crate::common::config_in;
use crate::exec;
use crate::nginx::Nginx;
use crate::pg_cluster;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use station::config::UpstreamKind;
use station::kiosk::Kiosk;
use station::upstream::client::Upstream;
use tempfile::TempDir;

const CHILD: &str = "HUB_FLEET_CHILD";
const TOKEN: &str = "token-of-the-demo-station-fleet";
const CASES: usize = 1500;
const DEADLINE: Duration = Duration::from_secs(120);

/// One hub process: this binary again, as the child.
struct HubProcess {
    child: Child,
    port: u16,
}

impl HubProcess {
    fn start(url: &str, station: &str) -> HubProcess {
        let mut child = exec::program(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &exec::test_name(
                    module_path!(),
                    "two_hub_processes_behind_nginx_lose_nothing_when_one_is_killed",
                ),
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env("HUB_LISTEN", "127.0.0.1:0")
            .env("HUB_DATABASE_URL", url)
            .env("HUB_DATABASE_POOL", "4")
            .env("HUB_STATION_TOKENS", format!("{station}={TOKEN}"))
            .env("HUB_TRUST_FORWARDED_FOR", "true")
            .env_remove("HUB_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the hub process starts");
        let stdout = child.stdout.take().expect("its standard output");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the hub process says where it listens")
                .expect("a line");
            // (libtest may have begun the line with the test's name.)
            if let Some((_, rest)) = line.split_once("fleet hub listening on 127.0.0.1:") {
                break rest.trim().parse().expect("a port");
            }
        };
        // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        HubProcess { child, port }
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the process is gone");
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child: a hub from `HUB_*` variables, as `grievance-hub`'s main runs it, until killed.
async fn child() {
    let config = hub::HubConfig::from_env(|name| std::env::var(name).ok()).expect("HUB_* parse");
    let limits = hub::ConnectionLimits::from_env(|name| std::env::var(name).ok()).expect("limits");
    let listener = tokio::net::TcpListener::bind(config.listen).await.unwrap();
    let running = hub::start_with(config, limits, listener).await.unwrap();
    println!("fleet hub listening on {}", running.local_addr());
    running.wait().await.unwrap();
}

/// The status of a case's progress asked through `base` (nginx).
async fn progress(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.get(format!("{base}/api/v1/cases/{token}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("nginx answers")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_processes_behind_nginx_lose_nothing_when_one_is_killed() {
    if std::env::var_os(CHILD).is_some() {
        return child().await;
    }
    let url = pg_cluster::off_runtime(|| pg_cluster::shared().new_database());
    let kiosk_dir = TempDir::new().unwrap();
    let config = config_in(kiosk_dir.path());
    let station = config.station.id.clone();
    let (mut a, mut b) = (
        HubProcess::start(&url, &station),
        HubProcess::start(&url, &station),
    );
    let nginx = Nginx::start(&[a.port, b.port]);

    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    let tokens = crate::hub_on_postgres::file_cases(&mut kiosk, CASES);
    let upstream = Upstream::new(&nginx.url(), UpstreamKind::Native, TOKEN);

    // Process A is killed once the hub holds 100 of the cases.
    let killer = {
        let url = url.clone();
        let pid = a.child.id();
        std::thread::spawn(move || {
            let start = Instant::now();
            while pg_cluster::query_i64(&url, "SELECT count(*) FROM cases") < 100 {
                assert!(start.elapsed() < DEADLINE, "the drain never got going");
                std::thread::sleep(Duration::from_millis(5));
            }
            // SAFETY: a plain kill(2) of our own child's pid.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        })
    };
    let start = Instant::now();
    while kiosk.outbox_counts().unwrap().pending > 0 {
        assert!(start.elapsed() < DEADLINE, "the outbox never drained");
        kiosk.drain_outbox(&upstream, true).await.unwrap();
    }
    killer.join().expect("process A was killed");
    a.kill();
    assert!(a.child.try_wait().unwrap().is_some(), "process A is gone");
    let count = |sql: &str| pg_cluster::query_i64(&url, sql);
    assert_eq!(
        count("SELECT count(*) FROM cases"),
        CASES as i64,
        "every case once"
    );
    assert_eq!(
        count("SELECT count(DISTINCT token) FROM cases"),
        CASES as i64
    );
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.delivered, counts.failed), (CASES as u64, 0));

    // The survivor keeps serving through nginx.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for token in tokens.iter().take(20) {
        assert_eq!(progress(&http, &nginx.url(), token).await, 200);
    }

    // A new process rejoins; then the survivor goes too, and the new one serves alone (asked
    // on new connections: a kept-alive one would still be the old worker's).
    let c = HubProcess::start(&url, &station);
    nginx.reload(&[b.port, c.port]);
    b.kill();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for token in tokens.iter().rev().take(20) {
        assert_eq!(
            progress(&http, &nginx.url(), token).await,
            200,
            "the rejoined process serves"
        );
    }
    drop(c);
}
