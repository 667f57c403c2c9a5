//! The kiosk's budgets (DESIGN.md §10), measured and written to BENCHMARKS.md.
//!
//! Run with `cargo bench --bench kiosk`. Figures are medians (and p99 where the budget is a
//! tail) over repeated runs on this machine; the file says which machine and which commit.
//! Nothing here asserts a time: a shared machine is noisy, so budgets are read, not enforced.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use domain::{CaseDraft, Language};
use grievance_kiosk::app::screenshot::{frame_times, ScreenName, Shot};
use hub::{self, HubConfig, RateLimit, RunningHub, Secret};
use protocol::{CaseState, StatusUpdate};
use slip::profile::builtin_profiles;
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::{sample_slip_content, Kiosk};
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;

const INTAKES: usize = 1000;
const STARTS: usize = 15;
const FRAMES: usize = 15;
const STATUS_ROUNDS: usize = 200;
const SUBMITS: usize = 200;
const DRAIN_CASES: usize = 10_000;
const DRAIN_RUNS: usize = 3;
const TRACKED_CASES: usize = 300;
const TRACKING_CLIENTS: usize = 64;
const TRACKING_WARMUP: usize = 20;
const TRACKING_REQUESTS: usize = 200;
const TRACKING_RUNS: usize = 3;
const SINGLE_CLIENT_REQUESTS: usize = 2000;
const FLEET_STATIONS: usize = 30_000;
const FLEET_SECONDS: u64 = 300;
/// What the PostgreSQL rows measure, under the SQLite ones' explanation.
const POSTGRES_NOTE: &str = "**On PostgreSQL.** The same runs with the hub's data in a new database of a cluster the bench starts itself (Debian's PostgreSQL, its own data directory, a unix socket, fsync and synchronous commit on). A delivered case is one repeatable-read transaction of several statements, each a round trip to the server, and a commit that waits for the server's WAL flush; the server's CPU is another process's, so the CPU column reads close to SQLite's while the wall time is longer. A tracking page is a read transaction of prepared statements on a pooled connection.";
/// Set in the copies of this binary the fleet starts as its hub processes.
const HUB_CHILD: &str = "BENCH_HUB_CHILD";
const STATION_TOKEN: &str = "bench-station-token-000001";
const DEPARTMENT: &str = "housing";
const DEPARTMENT_TOKEN: &str = "bench-department-token-0001";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (in clock
/// ticks, 1/100 s on Linux).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields; the state (3rd) is the first after ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// `10000` as `10 000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn config_in(dir: &std::path::Path) -> Arc<KioskConfig> {
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.to_owned();
    Arc::new(config)
}

fn draft(i: usize) -> CaseDraft {
    noise_complaint(&format!("楼上装修噪音，每天到晚上十一点（第 {i} 次反映）"))
}

/// Submit → case durable: validation, triage, token, and the one transaction (case + print job
/// + outbox row) committed with synchronous=FULL on a real file.
fn intake_latency() -> (Duration, Duration, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut kiosk = Kiosk::open(config_in(dir.path())).expect("kiosk opens");
    let mut times = Vec::with_capacity(INTAKES);
    for i in 0..INTAKES {
        let d = draft(i);
        let start = Instant::now();
        kiosk.file_case(&d).expect("the case is filed");
        times.push(start.elapsed());
    }
    times.sort();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        *times.last().unwrap(),
    )
}

/// Process start to the first rendered frame of Home, and memory then, from the release
/// binary's `screenshot --timings` (software renderer, 1080×1920).
fn start_to_first_frame() -> (Duration, Duration, u64, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("home.png");
    let mut times = Vec::new();
    let mut rss = Vec::new();
    let mut hwm = Vec::new();
    for _ in 0..STARTS {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let output = Command::new(env!("CARGO_BIN_EXE_grievance-kiosk"))
            .args(["screenshot", "--screen", "home", "--timings", "--out"])
            .arg(&out)
            .env("KIOSK_DATA_DIR", dir.path())
            .output()
            .expect("the kiosk binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let field = |name: &str| -> u128 {
            stderr
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in: {stderr}"))
        };
        let frame = field("first_frame_unix_ns=");
        times.push(Duration::from_nanos((frame - started) as u64));
        rss.push(field("vm_rss_kb=") as u64);
        hwm.push(field("vm_hwm_kb=") as u64);
    }
    times.sort();
    rss.sort();
    hwm.sort();
    (
        percentile(&times, 0.5),
        *times.first().unwrap(),
        rss[rss.len() / 2],
        hwm[hwm.len() / 2],
    )
}

/// Resident memory of the whole kiosk (window, worker threads, database) showing Home, when an
/// X server can be had: the release binary under `Xvfb`, sampled once it has settled.
fn windowed_rss_kb() -> Option<u64> {
    let display = ":97";
    let mut xvfb = Command::new("Xvfb")
        .args([display, "-screen", "0", "1080x1920x24"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(1));
    let dir = tempfile::tempdir().ok()?;
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_grievance-kiosk"))
        .env("DISPLAY", display)
        .env("KIOSK_DATA_DIR", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_secs(4));
    let status = std::fs::read_to_string(format!("/proc/{}/status", kiosk.id())).ok();
    let _ = kiosk.kill();
    let _ = kiosk.wait();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    status?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Status round trip (DLE EOT 1..4) and submit → last byte, over a real pseudo-terminal to the
/// printer emulator (which takes bytes as fast as they come: the line's own time is added by
/// computation, per baud rate).
fn serial_latencies() -> (Duration, Duration, Duration, Duration, usize) {
    use devices::emulator::{Emulator, Script};
    use devices::printer::serial::{SerialPrinter, Timeouts};
    use devices::printer::transport::PrinterLink;
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = slip::profile::builtin("cn-80mm").expect("profile");
    let link = dir.path().join("printer");
    let emulator = Emulator::start(Script::Ready, 576, false, Some(&link)).expect("emulator");
    let mut printer = SerialPrinter::new(
        link.to_str().expect("utf-8 path"),
        profile.serial,
        false,
        Timeouts::default(),
    );
    let mut status = Vec::new();
    for _ in 0..STATUS_ROUNDS {
        let start = Instant::now();
        let answers = printer.status();
        status.push(start.elapsed());
        assert!(answers.state().can_print(), "the emulator is ready");
    }
    status.sort();
    let mut kiosk = Kiosk::open(config_in(&dir.path().join("data"))).expect("kiosk opens");
    let mut submit = Vec::new();
    let mut bytes = 0;
    for i in 0..SUBMITS {
        let start = Instant::now();
        // The queue's path to the last byte: file, ask the printer, send the slip.
        let filed = kiosk.file_case(&draft(i)).expect("filed");
        assert!(printer.status().state().can_print());
        let slip = kiosk.slip_bytes(&filed.case, &profile);
        printer
            .send(filed.case.token.as_str(), &slip)
            .expect("sent");
        submit.push(start.elapsed());
        bytes = slip.len();
    }
    submit.sort();
    drop(emulator);
    (
        percentile(&status, 0.5),
        percentile(&status, 0.99),
        percentile(&submit, 0.5),
        percentile(&submit, 0.99),
        bytes,
    )
}

/// Time on a serial line for `bytes` at `baud`, 8N1 (ten bits a byte).
fn wire(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud))
}

// The tests' own throwaway PostgreSQL cluster and nginx (only part of each is used here).
// The benches' shared helpers (only the machine line is used here).
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../tests/nginx/mod.rs"]
mod nginx;
#[path = "../tests/pg_cluster/mod.rs"]
mod pg_cluster;

/// Where a run keeps the hub's data: its own SQLite file, or a new database on the cluster.
#[derive(Clone, Copy)]
enum Engine<'a> {
    Sqlite,
    Postgres(&'a pg_cluster::Cluster),
}

impl Engine<'_> {
    fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres(_) => "PostgreSQL",
        }
    }

    /// The connection string of a new database (call it off the async runtime).
    fn new_database(&self) -> Option<String> {
        match self {
            Engine::Sqlite => None,
            Engine::Postgres(cluster) => Some(cluster.new_database()),
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The real hub on a random loopback port, its database in `dir`, accepting `station`.
async fn start_hub(
    dir: &std::path::Path,
    station: &str,
    database: Option<String>,
    adjust: impl FnOnce(&mut HubConfig),
) -> RunningHub {
    let mut config = HubConfig::new(dir).with_station(station, STATION_TOKEN);
    config.database = database
        .map(|url| hub::store::PostgresConfig::new(&url).expect("the cluster's connection string"));
    adjust(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    hub::start(config, listener).await.expect("the hub starts")
}

async fn hub_case_count(hub: &RunningHub) -> i64 {
    let n = hub
        .state()
        .store()
        .case_count()
        .await
        .expect("the hub's cases are counted");
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The kiosk's outbox drained to the real hub on loopback: per run, the seconds from the first
/// `drain_outbox` to an empty outbox. The cases are filed once (untimed) with `file_case`; each
/// run drains its own copy of that database into a fresh hub.
fn outbox_drain(engine: Engine) -> (Vec<(Duration, Duration)>, Duration) {
    let template = tempfile::tempdir().expect("temp dir");
    let filing = Instant::now();
    {
        let mut kiosk = Kiosk::open(config_in(template.path())).expect("kiosk opens");
        for i in 0..DRAIN_CASES {
            kiosk.file_case(&draft(i)).expect("the case is filed");
        }
        let counts = kiosk.outbox_counts().expect("outbox counts");
        assert_eq!(counts.pending, DRAIN_CASES as u64);
        let (cases, jobs, outbox) = kiosk.store().row_counts().expect("row counts");
        assert_eq!(
            (cases, jobs, outbox),
            (DRAIN_CASES as i64, DRAIN_CASES as i64, DRAIN_CASES as i64)
        );
    } // closed: the WAL is checkpointed into the file, which can now be copied
    let filing = filing.elapsed();
    let station = KioskConfig::builtin().station.id;
    let rt = runtime();
    let mut runs = Vec::with_capacity(DRAIN_RUNS);
    for _ in 0..DRAIN_RUNS {
        let dir = tempfile::tempdir().expect("temp dir");
        let kiosk_dir = dir.path().join("kiosk");
        std::fs::create_dir(&kiosk_dir).expect("kiosk dir");
        for file in std::fs::read_dir(template.path()).expect("template dir") {
            let file = file.expect("template file");
            std::fs::copy(file.path(), kiosk_dir.join(file.file_name())).expect("copied");
        }
        let mut kiosk = Kiosk::open(config_in(&kiosk_dir)).expect("kiosk opens");
        let database = engine.new_database();
        let took = rt.block_on(async {
            let hub = start_hub(&dir.path().join("hub"), &station, database, |_| {}).await;
            let upstream = Upstream::new(&hub.base_url(), UpstreamKind::Native, STATION_TOKEN);
            let (start, cpu) = (Instant::now(), process_cpu());
            loop {
                let report = kiosk
                    .drain_outbox(&upstream, false)
                    .await
                    .expect("the outbox drains");
                assert_eq!(
                    report.retried + report.failed,
                    0,
                    "the hub refused: {:?}",
                    report.last_error
                );
                if kiosk.outbox_counts().expect("outbox counts").pending == 0 {
                    break;
                }
            }
            let took = (start.elapsed(), process_cpu() - cpu);
            assert_eq!(
                hub_case_count(&hub).await,
                DRAIN_CASES as i64,
                "the hub has every case"
            );
            hub.shutdown().await.expect("the hub stops");
            took
        });
        eprintln!(
            "  run {}: {:.2} s, {:.2} s CPU",
            runs.len() + 1,
            took.0.as_secs_f64(),
            took.1.as_secs_f64()
        );
        runs.push(took);
    }
    (runs, filing)
}

/// One GET of a tracking page, read to the last byte.
async fn fetch_page(client: &reqwest::Client, url: &str) {
    let response = client.get(url).send().await.expect("the hub answers");
    assert_eq!(response.status(), reqwest::StatusCode::OK, "{url}");
    let body = response.bytes().await.expect("the page is read");
    assert!(!body.is_empty());
}

struct TrackingRun {
    median: Duration,
    p99: Duration,
    per_second: f64,
}

/// `clients` tasks, each its own HTTP client and keep-alive connection, asking for the tracking
/// pages of random known cases as fast as they are answered (closed loop), after a warm-up.
async fn tracking_run(
    base: &str,
    tokens: &Arc<Vec<String>>,
    clients: usize,
    requests: usize,
) -> TrackingRun {
    let barrier = Arc::new(tokio::sync::Barrier::new(clients));
    let mut tasks = Vec::with_capacity(clients);
    for n in 0..clients {
        let (base, tokens, barrier) = (base.to_owned(), Arc::clone(tokens), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("an HTTP client");
            // xorshift64*, seeded per client: random cases, the same ones every run.
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ ((n as u64 + 1) << 32);
            let mut url = move || {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
                format!("{base}/T/{}", tokens[(r >> 33) as usize % tokens.len()])
            };
            for _ in 0..TRACKING_WARMUP {
                fetch_page(&client, &url()).await;
            }
            barrier.wait().await;
            let started = Instant::now();
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let url = url();
                let start = Instant::now();
                fetch_page(&client, &url).await;
                times.push(start.elapsed());
            }
            (started, Instant::now(), times)
        }));
    }
    let mut times = Vec::with_capacity(clients * requests);
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for task in tasks {
        let (started, ended, t) = task.await.expect("a client finished");
        first = Some(first.map_or(started, |f| f.min(started)));
        last = Some(last.map_or(ended, |l| l.max(ended)));
        times.extend(t);
    }
    times.sort();
    let wall = last.unwrap() - first.unwrap();
    TrackingRun {
        median: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        per_second: times.len() as f64 / wall.as_secs_f64(),
    }
}

/// The hub's public tracking page under 64 concurrent clients on loopback: a hub holding
/// [`TRACKED_CASES`] cases (filed by the kiosk and drained to it), each moved on three times by
/// a department, so every page has a timeline of four steps. Also one client alone, for the
/// time a page takes without queueing behind the others.
fn tracking_page(engine: Engine) -> (Vec<TrackingRun>, TrackingRun) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut kiosk = Kiosk::open(config_in(&dir.path().join("kiosk"))).expect("kiosk opens");
    for i in 0..TRACKED_CASES {
        kiosk.file_case(&draft(i)).expect("the case is filed");
    }
    let station = KioskConfig::builtin().station.id;
    let database = engine.new_database();
    let rt = runtime();
    rt.block_on(async {
        let hub = start_hub(&dir.path().join("hub"), &station, database, |c| {
            c.department_tokens = vec![(DEPARTMENT.into(), Secret::new(DEPARTMENT_TOKEN))];
            // Every client is 127.0.0.1: one bucket for all. This never runs dry.
            c.tracking_limit = RateLimit {
                per_minute: u32::MAX,
                burst: u32::MAX,
            };
        })
        .await;
        let upstream = Upstream::new(&hub.base_url(), UpstreamKind::Native, STATION_TOKEN);
        let report = kiosk
            .drain_outbox(&upstream, false)
            .await
            .expect("the outbox drains");
        assert_eq!(report.delivered.len(), TRACKED_CASES);
        let tokens = Arc::new(report.delivered);
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        let steps = [
            StatusUpdate {
                state: CaseState::Acknowledged,
                note: Some("已收到，正在分派".into()),
                department: None,
                expected_at: None,
            },
            StatusUpdate {
                state: CaseState::Assigned,
                note: Some("已转区住建局处理".into()),
                department: Some(DEPARTMENT.into()),
                expected_at: Some(chrono::Utc::now() + chrono::Duration::days(7)),
            },
            StatusUpdate {
                state: CaseState::InProgress,
                note: Some("工作人员已联系物业，约定上门查看".into()),
                department: None,
                expected_at: None,
            },
        ];
        for token in tokens.iter() {
            for step in &steps {
                let response = http
                    .post(format!(
                        "{}/api/v1/departments/cases/{token}/events",
                        hub.base_url()
                    ))
                    .bearer_auth(DEPARTMENT_TOKEN)
                    .json(step)
                    .send()
                    .await
                    .expect("the hub answers");
                assert_eq!(response.status(), reqwest::StatusCode::CREATED);
            }
        }
        let mut runs = Vec::with_capacity(TRACKING_RUNS);
        for _ in 0..TRACKING_RUNS {
            runs.push(
                tracking_run(
                    &hub.base_url(),
                    &tokens,
                    TRACKING_CLIENTS,
                    TRACKING_REQUESTS,
                )
                .await,
            );
        }
        let alone = tracking_run(&hub.base_url(), &tokens, 1, SINGLE_CLIENT_REQUESTS).await;
        hub.shutdown().await.expect("the hub stops");
        (runs, alone)
    })
}

/// One hub process of the fleet: this binary again ([`HUB_CHILD`]), running the hub from
/// `HUB_*` variables as `grievance-hub` does.
struct HubProcess {
    child: std::process::Child,
    port: u16,
}

impl HubProcess {
    fn start(database: &str, stations_file: &std::path::Path) -> HubProcess {
        use std::io::BufRead;
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .env(HUB_CHILD, "1")
            .env("HUB_LISTEN", "127.0.0.1:0")
            .env("HUB_DATABASE_URL", database)
            .env("HUB_STATION_TOKENS_FILE", stations_file)
            .env(
                "HUB_DEPARTMENT_TOKENS",
                format!("{DEPARTMENT}={DEPARTMENT_TOKEN}"),
            )
            // Every page comes from the load generator's one address.
            .env("HUB_TRACKING_RATE", "4000000000")
            .env("HUB_TRACKING_BURST", "4000000000")
            .env("HUB_TRUST_FORWARDED_FOR", "true")
            .env("HUB_LOG", "warn")
            .env_remove("HUB_DATA_DIR")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("a hub process starts");
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the hub process says where it listens")
                .expect("a line");
            if let Some(rest) = line.strip_prefix("bench hub listening on 127.0.0.1:") {
                break rest.trim().parse().expect("a port");
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        HubProcess { child, port }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child: a hub from `HUB_*` variables until it is killed.
fn hub_child() -> ! {
    let config = HubConfig::from_env(|name| std::env::var(name).ok()).expect("HUB_* parse");
    let limits =
        hub::ConnectionLimits::from_env(|name| std::env::var(name).ok()).expect("HUB_* parse");
    hub::raise_open_file_limit();
    runtime().block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("a loopback port");
        let running = hub::start_with(config, limits, listener)
            .await
            .expect("the hub starts");
        println!("bench hub listening on {}", running.local_addr());
        running.wait().await.expect("the hub serves");
    });
    std::process::exit(0)
}

/// The province (issue 18): [`FLEET_STATIONS`] stations (every one a heartbeat a minute), 50
/// cases a second (5 % sent twice), 500 tracking pages, 20 department events and 10 station
/// states a second, for [`FLEET_SECONDS`], through nginx (the repository's configuration) to
/// two hub processes on one PostgreSQL database (fsync on), everything on this machine.
fn fleet(cluster: &pg_cluster::Cluster, duration: Duration) -> (hub::loadgen::Report, i64, i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let stations = hub::loadgen::new_stations(FLEET_STATIONS).expect("stations");
    let file = dir.path().join("stations.txt");
    let text: String = stations
        .iter()
        .map(|(id, token)| format!("{id}={token}\n"))
        .collect();
    std::fs::write(&file, text).expect("the stations file");
    let database = cluster.new_database();
    let hubs = [
        HubProcess::start(&database, &file),
        HubProcess::start(&database, &file),
    ];
    let proxy = nginx::Nginx::start_with(&[hubs[0].port, hubs[1].port], 4096);
    let mut plan = hub::loadgen::Plan::province(&proxy.url(), stations, duration);
    plan.department_token = Some(DEPARTMENT_TOKEN.to_owned());
    let report = runtime()
        .block_on(hub::loadgen::run(plan))
        .expect("the fleet runs");
    let cases = pg_cluster::query_i64(&database, "SELECT count(*) FROM cases");
    let beating = pg_cluster::query_i64(&database, "SELECT count(*) FROM heartbeats");
    drop(proxy);
    drop(hubs);
    (report, cases, beating)
}

const SLOT_RUNS: usize = 50;
const MONTH_PROVIDERS: usize = 24;
const BOOKED: usize = 400;
const TICKETS: usize = 1000;

/// A station's roster for a month: `MONTH_PROVIDERS` providers across three services, two
/// sessions on five weekdays each, a closed week and extra sessions.
fn month_roster() -> domain::roster::Roster {
    use domain::roster::{Day, Exception, Provider, Role, Roster, Shift, TimeOfDay};
    use domain::Localized;
    let t = |s: &str| TimeOfDay::parse(s).unwrap();
    let date = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let days = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    let providers = (0..MONTH_PROVIDERS)
        .map(|i| {
            let (role, service) = match i % 3 {
                0 => (Role::Lawyer, "legal"),
                1 => (Role::Counsellor, "counselling"),
                _ => (Role::Mediator, "mediation"),
            };
            Provider {
                id: format!("provider-{i}"),
                role,
                name: Localized::new("某某", "Someone"),
                service: service.into(),
                slot_min: [20, 30, 45][i % 3],
                capacity: 1 + (i % 2) as u32,
                shifts: days
                    .iter()
                    .flat_map(|&day| {
                        [
                            Shift {
                                day,
                                from: t("08:30"),
                                to: t("12:00"),
                            },
                            Shift {
                                day,
                                from: t("13:30"),
                                to: t("17:30"),
                            },
                        ]
                    })
                    .collect(),
                exceptions: vec![
                    Exception {
                        date: date(7 + (i % 5) as u32),
                        until: Some(date(11 + (i % 5) as u32)),
                        closed: true,
                        from: None,
                        to: None,
                    },
                    Exception {
                        date: date(19),
                        until: None,
                        closed: false,
                        from: Some(t("09:00")),
                        to: Some(t("11:00")),
                    },
                ],
            }
        })
        .collect();
    Roster { providers }
}

/// Slot computation: the whole month of the roster above (pure), and `booking_slots` for a
/// week of one service with bookings in the database (what the Book screen asks).
fn slot_computation() -> (Duration, usize, Duration, usize) {
    let roster = month_roster();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let first = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let mut pure = Vec::new();
    let mut count = 0;
    for _ in 0..SLOT_RUNS {
        let start = Instant::now();
        let slots = roster.slots(None, first, 31, offset);
        pure.push(start.elapsed());
        count = slots.len();
    }
    pure.sort();

    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.path().to_owned();
    config.roster = roster;
    config.appointments.min_notice_min = 0;
    config.appointments.booking_window_days = 31;
    let mut kiosk = Kiosk::open(Arc::new(config)).expect("kiosk opens");
    let now = chrono::Utc::now();
    let week = kiosk.booking_slots("legal", 7, now).expect("slots");
    for (i, s) in week.iter().filter(|s| s.free > 0).take(BOOKED).enumerate() {
        kiosk
            .book(
                "legal",
                &s.slot.id,
                &format!("139{i:08}"),
                Language::Zh,
                "resident",
                now,
            )
            .expect("booked");
    }
    let mut db = Vec::new();
    let mut listed = 0;
    for _ in 0..SLOT_RUNS {
        let start = Instant::now();
        listed = kiosk.booking_slots("legal", 7, now).expect("slots").len();
        db.push(start.elapsed());
    }
    db.sort();
    (percentile(&pure, 0.5), count, percentile(&db, 0.5), listed)
}

/// Queue operations on a SQLite file: take `TICKETS` tickets over five lanes (a third of them
/// priority), then call them all to three counters. Each is one synced transaction.
fn queue_operations() -> (f64, f64, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut kiosk = Kiosk::open(config_in(dir.path())).expect("kiosk opens");
    let services = [
        "complaint",
        "mediation",
        "legal",
        "counselling",
        "assistance",
    ];
    let now = chrono::Utc::now();
    let start = Instant::now();
    for i in 0..TICKETS {
        kiosk
            .take_ticket(services[i % 5], i % 3 == 0, None, Language::Zh, now)
            .expect("ticket");
    }
    let takes = TICKETS as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let lanes = kiosk.queue_lanes(now).expect("lanes");
    let view = start.elapsed();
    assert_eq!(
        lanes.iter().map(|l| l.waiting.len()).sum::<usize>(),
        TICKETS
    );
    let start = Instant::now();
    for i in 0..TICKETS {
        kiosk
            .call_next(1 + (i % 3) as u32, Some(services[i % 5]), now)
            .expect("called");
    }
    let calls = TICKETS as f64 / start.elapsed().as_secs_f64();
    (takes, calls, view)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

const IME_LOADS: usize = 10;
/// What residents type, letter by letter: every prefix is one keystroke's suggestion.
const IME_INPUTS: &[&str] = &[
    "nihao",
    "tuoqiangongzi",
    "gzqf",
    "wuyefei",
    "zhuangxiuzaoyin",
    "loushui",
    "linjujiufen",
    "laodonghetong",
    "chaiqianbuchang",
    "zhaijidi",
    "fuyangfei",
    "jiatingbaoli",
    "falvyuanzhu",
    "paichusuo",
    "yiyuanbaoxiao",
    "dujulaoren",
    "xi'an",
    "zg",
    "woshiloushangdelinju",
    "laobanqianlewosangeyuedegongzi",
];

/// The pinyin engine: the dictionary's load time and memory, and the time of one keystroke's
/// candidates. Runs first, so that the resident-memory growth is the dictionary's own.
fn ime_figures() -> (Duration, u64, Duration, Duration, usize, usize) {
    use ime::{Dictionary, Options, Session, BUILTIN, BUILTIN_TRANSITIONS};
    let before = rss_kb();
    let dict = Dictionary::builtin().expect("the dictionary loads");
    let grown = rss_kb().saturating_sub(before);
    let mut loads = Vec::new();
    for _ in 0..IME_LOADS {
        let start = Instant::now();
        let d = Dictionary::builtin().expect("loads");
        loads.push(start.elapsed());
        drop(d);
    }
    loads.sort();
    let mut keys = Vec::new();
    let session = Session::default();
    for _ in 0..5 {
        for input in IME_INPUTS {
            for end in 1..=input.len() {
                let start = Instant::now();
                let c = dict.suggest_after(&input[..end], "", Options::default(), &session);
                keys.push(start.elapsed());
                std::hint::black_box(c);
            }
        }
    }
    keys.sort();
    (
        percentile(&loads, 0.5),
        grown,
        percentile(&keys, 0.5),
        percentile(&keys, 0.99),
        keys.len(),
        BUILTIN.len() + BUILTIN_TRANSITIONS.len(),
    )
}

/// Handwriting: the model's load time, and one recognition (the ink so far, after each stroke
/// of each test character, as the pad asks after every lifted finger). `None` without the
/// model (Debian's tegaki-zinnia-simplified-chinese).
fn handwriting_figures() -> Option<(Duration, Duration, Duration, Duration, usize)> {
    let path = std::path::Path::new(handwriting::DEFAULT_MODEL);
    let start = Instant::now();
    let recognizer = handwriting::load(path).ok()?;
    let load = start.elapsed();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/handwriting/testdata/strokes.json"
        ))
        .ok()?,
    )
    .ok()?;
    let mut times = Vec::new();
    for entry in json["characters"].as_array()? {
        let strokes: Vec<Vec<(f32, f32)>> = entry[1]
            .as_array()?
            .iter()
            .map(|stroke| {
                stroke
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        (
                            p[0].as_f64().unwrap_or(0.0) as f32,
                            p[1].as_f64().unwrap_or(0.0) as f32,
                        )
                    })
                    .collect()
            })
            .collect();
        for n in 1..=strokes.len() {
            let ink = handwriting::Ink {
                width: 1024.0,
                height: 1024.0,
                strokes: strokes[..n].to_vec(),
            };
            let start = Instant::now();
            let found = recognizer.classify(&ink, 20);
            times.push(start.elapsed());
            std::hint::black_box(found.ok());
        }
    }
    times.sort();
    Some((
        load,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        *times.last()?,
        times.len(),
    ))
}

/// The parts of BENCHMARKS.md that others measure, not this bench: the district's, the leaders'
/// and the slip's benches and the tests. Each is kept as it is between its two lines when the
/// file is written again.
const KEPT: [(&str, &str); 4] = [
    (
        "<!-- the district: written by `cargo bench --bench district` -->",
        "<!-- end of the district -->",
    ),
    (
        "<!-- the leaders: written by `cargo bench --bench leaders` -->",
        "<!-- end of the leaders -->",
    ),
    (
        "<!-- the slip's encoder: written by `cargo bench --bench slip` -->",
        "<!-- end of the slip's encoder -->",
    ),
    (
        "<!-- measured by tests: kept when the bench writes this file -->",
        "<!-- end of what tests measured -->",
    ),
];

fn kept_parts(path: &str) -> String {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    KEPT.iter()
        .filter_map(|(start, end)| match (old.find(start), old.find(end)) {
            (Some(a), Some(b)) if a < b => Some(old[a..b + end.len()].to_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn main() {
    if std::env::var_os(HUB_CHILD).is_some() {
        hub_child();
    }
    // `BENCH_FLEET_ONLY=<seconds>`: only the fleet, that long, printed and not written (to try
    // a change to the hub's scale without the whole bench).
    if let Some(seconds) = std::env::var("BENCH_FLEET_ONLY")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        let cluster = pg_cluster::Cluster::start(true);
        let (report, cases, beating) = fleet(&cluster, Duration::from_secs(seconds));
        print!("{}", report.table());
        println!("{cases} cases, {beating} stations heard from");
        return;
    }
    eprintln!("pinyin …");
    let ime = ime_figures();
    let handwriting = handwriting_figures();
    let mut md = String::new();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let machine = common::machine();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    writeln!(md, "# Benchmarks\n").unwrap();
    writeln!(
        md,
        "Written by `cargo bench --bench kiosk` (benches/kiosk.rs) at commit `{commit}`, on {machine}, \
         a shared development machine: read the figures as orders of magnitude \
         against the budgets of DESIGN.md §10, not as precise timings.\n"
    )
    .unwrap();

    eprintln!("start to first frame …");
    let (start_median, start_min, rss, hwm) = start_to_first_frame();
    eprintln!("windowed kiosk …");
    let windowed = windowed_rss_kb();
    eprintln!("intake …");
    let (intake_median, intake_p99, intake_max) = intake_latency();

    writeln!(md, "| what | budget | measured | how |").unwrap();
    writeln!(md, "|---|---|---|---|").unwrap();
    writeln!(
        md,
        "| process start → first frame of Home (software renderer, 1080×1920) | ≤ 400 ms | median {}, best {} | {STARTS} runs of `grievance-kiosk screenshot --screen home --timings` (release): exec to the frame rendered, before the PNG is encoded |",
        ms(start_median),
        ms(start_min)
    )
    .unwrap();
    writeln!(
        md,
        "| resident memory at Home, CJK font loaded | ≤ 80 MB | {:.1} MB resident ({:.1} MB peak) | VmRSS / VmHWM of the same process right after the first frame (UI and font; the worker threads and SQLite of the full kiosk add a few MB) |",
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    )
    .unwrap();
    writeln!(
        md,
        "| resident memory of the whole kiosk at Home | ≤ 80 MB | {} | `grievance-kiosk` (release) in a 1080×1920 window under Xvfb, with its worker threads and database, VmRSS 4 s after start |",
        windowed.map_or("not measured: no Xvfb on this machine".to_owned(), |kb| format!("{:.1} MB resident", kb as f64 / 1024.0))
    )
    .unwrap();
    writeln!(
        md,
        "| submit → case durable (case + print job + outbox row) | p99 ≤ 10 ms | median {}, p99 {}, max {} | {INTAKES} × `Kiosk::file_case` on a SQLite file in a temp dir, WAL, synchronous=FULL |",
        ms(intake_median),
        ms(intake_p99),
        ms(intake_max)
    )
    .unwrap();

    eprintln!("frames …");
    let config = Arc::new(KioskConfig::builtin());
    let mut worst = (Duration::ZERO, "");
    let mut frame_rows = String::new();
    for screen in ScreenName::ALL {
        let shot = Shot {
            screen,
            language: Language::Zh,
            elderly: false,
            size: (1080, 1920),
        };
        let mut times = frame_times(config.clone(), &shot, FRAMES).expect("the screen renders");
        times.sort();
        let median = percentile(&times, 0.5);
        if median > worst.0 {
            worst = (median, screen.name());
        }
        writeln!(
            frame_rows,
            "| {} | {} | {} |",
            screen.name(),
            ms(median),
            ms(*times.last().unwrap())
        )
        .unwrap();
    }
    writeln!(
        md,
        "| one frame of any screen, software renderer, 1080×1920 | ≤ 16 ms | worst median {} ({}) | {FRAMES} full redraws of each screen into a 1080×1920 RGB frame buffer, in process (a tap repaints only what changed); per screen below |",
        ms(worst.0),
        worst.1
    )
    .unwrap();

    eprintln!("serial …");
    let (status_median, status_p99, submit_median, submit_p99, submit_bytes) = serial_latencies();
    writeln!(
        md,
        "| tap submit → last byte to printer at 115200 baud | ≤ 150 ms | median {} (p99 {}) over the pseudo-terminal, + {} on a real 115200 line for the {submit_bytes}-byte slip = {} | {SUBMITS} × file the case, ask DLE EOT 1..4, send the slip, to the printer emulator on a pty (`cn-80mm`) |",
        ms(submit_median),
        ms(submit_p99),
        ms(wire(submit_bytes, 115_200)),
        ms(submit_median + wire(submit_bytes, 115_200))
    )
    .unwrap();
    writeln!(
        md,
        "| printer status round trip (DLE EOT 1..4, four one-byte answers) | — | median {}, p99 {} | {STATUS_ROUNDS} × `SerialPrinter::status` against the emulator on a pty (a real line adds 4 × 2 bytes of wire time) |",
        ms(status_median),
        ms(status_p99)
    )
    .unwrap();

    eprintln!("slips …");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut kiosk = Kiosk::open(config_in(dir.path())).expect("kiosk opens");
    let filed = kiosk.file_case(&draft(0)).expect("filed");
    let mut slip_rows = String::new();
    let mut native_worst = 0;
    for profile in builtin_profiles() {
        let case_bytes = kiosk.slip_bytes(&filed.case, &profile).len();
        let sample = sample_slip_content(&KioskConfig::builtin(), Language::En);
        let en_bytes = slip::encode(&slip::layout(&sample, &profile), &profile).len();
        let native = matches!(profile.qr, slip::profile::QrMode::Native { .. });
        if native {
            native_worst = native_worst.max(case_bytes).max(en_bytes);
        }
        writeln!(
            slip_rows,
            "| {} | {} | {case_bytes} | {en_bytes} | {} | {} |",
            profile.id,
            if native {
                "native (GS ( k)"
            } else {
                "raster (GS v 0)"
            },
            ms(wire(case_bytes, 9600)),
            ms(wire(case_bytes, 115_200)),
        )
        .unwrap();
    }
    writeln!(
        md,
        "| slip with QR, native QR profile | ≤ 700 bytes | {native_worst} bytes at most | the slip of a filed complaint (Chinese) and the English sample, per profile below |"
    )
    .unwrap();

    eprintln!("PostgreSQL …");
    // A throwaway cluster of the bench's own, syncing as a production server does.
    let cluster = pg_cluster::Cluster::start(true);
    let median_of = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let secs = |d: &Duration| format!("{:.2} s", d.as_secs_f64());
    // The SQLite figures, which the text below explains.
    let (mut filing, mut drain_cpu, mut rates) = (Duration::ZERO, Duration::ZERO, Vec::new());
    for engine in [Engine::Sqlite, Engine::Postgres(&cluster)] {
        eprintln!("outbox drain, {} …", engine.name());
        let (drains, filed) = outbox_drain(engine);
        let drain_median = median_of(drains.iter().map(|r| r.0).collect());
        let cpu = median_of(drains.iter().map(|r| r.1).collect());
        writeln!(
            md,
            "| outbox drain of {} queued cases to a local hub, {} | ≤ 20 s | median {} ({:.0} cases/s); the runs in order {}; CPU used by kiosk and hub together, median {} | {DRAIN_RUNS} runs of `Kiosk::drain_outbox(&upstream, false)` until the outbox is empty, {} real cases to the real hub on 127.0.0.1:0{}; see below |",
            thousands(DRAIN_CASES),
            engine.name(),
            secs(&drain_median),
            DRAIN_CASES as f64 / drain_median.as_secs_f64(),
            drains.iter().map(|r| secs(&r.0)).collect::<Vec<_>>().join(", "),
            secs(&cpu),
            thousands(DRAIN_CASES),
            match engine {
                Engine::Sqlite => "",
                Engine::Postgres(_) => " with its data in PostgreSQL (a new database each run, fsync on; the server's CPU is not in the CPU figure)",
            },
        )
        .unwrap();

        eprintln!("tracking page, {} …", engine.name());
        let (mut tracking, alone) = tracking_page(engine);
        let mut p99s = tracking.iter().map(|r| r.p99).collect::<Vec<_>>();
        p99s.sort();
        let mut per_second = tracking.iter().map(|r| r.per_second).collect::<Vec<_>>();
        per_second.sort_by(f64::total_cmp);
        tracking.sort_by_key(|r| r.median);
        writeln!(
            md,
            "| hub tracking page, {TRACKING_CLIENTS} concurrent clients on loopback, {} | p99 ≤ 5 ms | median {}, p99 {} (the runs' p99 {} to {}), {:.0} requests/s | {TRACKING_RUNS} runs of {TRACKING_CLIENTS} clients × {TRACKING_REQUESTS} `GET /T/<TOKEN>`, closed loop, load generator in the same process on the same {cores} cores; `tracking_limit` raised so it never bites; see below |",
            engine.name(),
            ms(tracking[tracking.len() / 2].median),
            ms(p99s[p99s.len() / 2]),
            ms(p99s[0]),
            ms(*p99s.last().unwrap()),
            per_second[per_second.len() / 2],
        )
        .unwrap();
        writeln!(
            md,
            "| hub tracking page, one client alone (no queueing), {} | — | median {}, p99 {}, {:.0} requests/s | {SINGLE_CLIENT_REQUESTS} × `GET /T/<TOKEN>` one after the other from one client, same hub |",
            engine.name(),
            ms(alone.median),
            ms(alone.p99),
            alone.per_second,
        )
        .unwrap();
        if let Engine::Sqlite = engine {
            (filing, drain_cpu, rates) = (filed, cpu, per_second);
        }
    }

    eprintln!("the province's fleet, {FLEET_SECONDS} s …");
    let (fleet_report, fleet_cases, fleet_beating) =
        fleet(&cluster, Duration::from_secs(FLEET_SECONDS));
    let worst_p99 = fleet_report
        .kinds
        .iter()
        .map(|k| k.p99)
        .max()
        .unwrap_or_default();
    writeln!(
        md,
        "| the province: {} stations, 50 cases/s, 500 tracking pages/s, through nginx to two hub processes on PostgreSQL | p99 ≤ 100 ms for every kind, no errors | worst p99 {} ({} errors in {} requests) | `grievance-hub loadgen`'s plan for {FLEET_SECONDS} s; per kind below |",
        thousands(FLEET_STATIONS),
        ms(worst_p99),
        fleet_report.errors(),
        fleet_report.kinds.iter().map(|k| k.sent).sum::<u64>(),
    )
    .unwrap();
    drop(cluster);

    eprintln!("appointments and queues …");
    let (month, month_slots, week, week_slots) = slot_computation();
    let (takes, calls, lanes_view) = queue_operations();
    writeln!(
        md,
        "| slot computation, a month of rosters | — | median {} for {month_slots} slots | {SLOT_RUNS} × `Roster::slots` over 31 days for {MONTH_PROVIDERS} providers (two sessions on five weekdays each, a closed week and an extra session each), pure |",
        ms(month)
    )
    .unwrap();
    writeln!(
        md,
        "| free slots for the Book screen | — | median {} for {week_slots} slots | {SLOT_RUNS} × `Kiosk::booking_slots(\"legal\", 7 days)` with the roster above and {BOOKED} bookings in the SQLite file |",
        ms(week)
    )
    .unwrap();
    writeln!(
        md,
        "| queue operations | — | {takes:.0} tickets taken/s, {calls:.0} calls/s | {TICKETS} × `Kiosk::take_ticket` over five lanes (a third priority, each with its print job, one synced transaction each), then {TICKETS} × `Kiosk::call_next` to three counters (the ordering rule over the lane's waiting tickets, then one transaction) |"
    )
    .unwrap();
    writeln!(
        md,
        "| today's queues view (staff console) with {TICKETS} waiting | — | {} | one `Kiosk::queue_lanes`: every lane's call order with the guard simulated |\n",
        ms(lanes_view)
    )
    .unwrap();

    writeln!(
        md,
        "## Frames per screen\n\n| screen | median | slowest |\n|---|---|---|\n{frame_rows}"
    )
    .unwrap();
    writeln!(
        md,
        "## Slip bytes per profile\n\nBytes of the slip, and the time they take on a serial line (8N1: ten bits a byte).\n\n| profile | QR | Chinese complaint slip | English sample slip | on the wire at 9600 | at 115200 |\n|---|---|---|---|---|---|\n{slip_rows}"
    )
    .unwrap();
    writeln!(
        md,
        "## Hub over loopback\n\n\
         **Outbox drain.** {} cases are filed once with `Kiosk::file_case` (case, print job and \
         outbox row, as at the kiosk; {:.1} s, not timed, {:.2} ms a case, one commit each: the \
         disk's commit time at that moment) into a SQLite file in a temp dir; each \
         of the {DRAIN_RUNS} runs copies that file, starts the real hub (`hub::start`, its own \
         SQLite file) on 127.0.0.1:0 with the station's token, and times \
         `Kiosk::drain_outbox(&upstream, false)` (with `Upstream::new(.., Native, ..)`) until the \
         outbox is empty; the hub then holds all {} cases (asserted). One case per request, in \
         order; each costs a hub commit and a kiosk commit, both WAL with synchronous=FULL, so the \
         figure follows the disk's fsync time and whatever else the machine is doing: the runs \
         spread widely, read the median. The CPU figure is the process's user + system time over \
         a run (kiosk, hub and both ends of the HTTP connection are in this process), {:.2} ms a \
         case: it moves less with the machine's other jobs than the wall time does, and the drain \
         being one case at a time, it is roughly the wall time of a quiet machine.\n\n\
         **Tracking page.** The hub holds {TRACKED_CASES} cases filed by the kiosk and drained to \
         it, each moved on by a department three times (acknowledged, assigned, in progress), so \
         every page shows a timeline of four steps. {TRACKING_CLIENTS} tokio tasks, each with its \
         own `reqwest::Client` (so its own keep-alive connection, like {TRACKING_CLIENTS} \
         browsers), first make {TRACKING_WARMUP} warm-up requests each, then, all together, \
         {TRACKING_REQUESTS} requests each for `/T/<TOKEN>` of a random known case, each sent as \
         soon as the previous page is read to its last byte (closed loop); latency is from send \
         to last byte; throughput is all requests over the wall time. Median and p99 are the \
         medians of the {TRACKING_RUNS} runs' figures. All clients come from 127.0.0.1, so they \
         share one rate-limit bucket: the bench's `HubConfig` sets `tracking_limit` to \
         `RateLimit {{ per_minute: u32::MAX, burst: u32::MAX }}`, which never bites (the default, \
         30 a minute with a burst of 10, would answer 429 almost at once). The load generator \
         runs in the same process on the same {cores} cores as the hub and takes a good part of the \
         CPU; with {TRACKING_CLIENTS} requests always in flight the mean latency is \
         {TRACKING_CLIENTS} / throughput (Little's law: {} at {:.0} requests/s), so on this \
         machine the figure measures queueing for {cores} cores more than the page itself; the \
         one-client row gives the page's own time.\n",
        thousands(DRAIN_CASES),
        filing.as_secs_f64(),
        filing.as_secs_f64() * 1000.0 / DRAIN_CASES as f64,
        thousands(DRAIN_CASES),
        drain_cpu.as_secs_f64() * 1000.0 / DRAIN_CASES as f64,
        ms(Duration::from_secs_f64(
            TRACKING_CLIENTS as f64 / rates[rates.len() / 2]
        )),
        rates[rates.len() / 2],
    )
    .unwrap();
    writeln!(md, "{POSTGRES_NOTE}\n").unwrap();
    let mut fleet_rows = String::new();
    for k in &fleet_report.kinds {
        writeln!(
            fleet_rows,
            "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            k.kind.name(),
            k.sent,
            k.ok,
            if k.errors.is_empty() {
                "0".to_owned()
            } else {
                k.errors
                    .iter()
                    .map(|(what, n)| format!("{n} × {what}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            k.per_second,
            ms(k.p50),
            ms(k.p90),
            ms(k.p99),
            ms(k.max),
        )
        .unwrap();
    }
    writeln!(
        md,
        "## The province's fleet\n\n\
         {} stations (`grievance-hub loadgen stations`, given to the hubs as \
         `HUB_STATION_TOKENS_FILE`), each sending a heartbeat every 60 s spread over the minute \
         (500 a second), 50 cases a second (5 % of them sent again with the same key, which must \
         get the same receipt), 500 tracking pages a second, 20 department events and 10 station \
         states a second, for {FLEET_SECONDS} s, open loop (`hub::loadgen`: each request's \
         latency counts from when it was due, so a load generator that falls behind shows in the \
         figures). Everything on this machine's {cores} cores: the load generator (in this \
         process), nginx (one worker, `deploy/province/nginx.conf`), two hub processes (this \
         binary again, configured by `HUB_*` variables as `grievance-hub` is) and PostgreSQL \
         (Debian's, a cluster of the bench's own, fsync and synchronous commit on). After the \
         run the database held {} cases (1000 filed before the clock started) and the latest \
         heartbeat of {} stations.\n\n\
         | kind | sent | ok | errors | per s | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|---|---|---|\n{fleet_rows}",
        thousands(FLEET_STATIONS),
        thousands(fleet_cases as usize),
        thousands(fleet_beating as usize),
    )
    .unwrap();
    let (ime_load, ime_kb, ime_key, ime_key_p99, ime_keys, ime_bytes) = ime;
    writeln!(
        md,
        "## Pinyin input\n\n| what | budget | measured | how |\n|---|---|---|---|\n\
         | candidates per keystroke | ≤ 2 ms | median {}, p99 {} | {ime_keys} keystrokes: every prefix of {} inputs residents type (full pinyin, initials, long sentences such as `laobanqianlewosangeyuedegongzi`), five times, `Dictionary::suggest_after` (words and whole sentences by the transitions) in process |\n\
         | dictionary load | ≤ 150 ms | median {} | {IME_LOADS} × `Dictionary::builtin()` (parse the compiled-in text, build the indexes) |\n\
         | dictionary memory | ≤ 40 MB | {:.1} MB | growth of the process's VmRSS over the first load |\n\
         | dictionary size | ≤ 8 MB | {:.1} MB | `crates/ime/pinyin.dict` and `pinyin.bigrams`, compiled into the binary |\n",
        ms(ime_key),
        ms(ime_key_p99),
        IME_INPUTS.len(),
        ms(ime_load),
        ime_kb as f64 / 1024.0,
        ime_bytes as f64 / 1_000_000.0,
    )
    .unwrap();

    match handwriting {
        Some((load, median, p99, worst, n)) => writeln!(
            md,
            "\n## Handwriting\n\n| what | budget | measured | how |\n|---|---|---|---|\n\
             | one recognition (the ink so far, after a stroke) | p99 ≤ 20 ms | median {}, p99 {}, slowest {} | {n} recognitions: after each stroke of each of the 200 test characters (`crates/handwriting/testdata/strokes.json`), `Recognizer::classify(ink, 20)` in process |\n\
             | model load | — | {} | `handwriting::load` of Debian's `handwriting-zh_CN.model`, once (the kiosk loads it on its own thread) |\n",
            ms(median),
            ms(p99),
            ms(worst),
            ms(load),
        )
        .unwrap(),
        None => writeln!(
            md,
            "\n## Handwriting\n\nNot measured: the model (Debian's tegaki-zinnia-simplified-chinese) is not installed here.\n"
        )
        .unwrap(),
    }

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    writeln!(md, "\n{}", kept_parts(path)).unwrap();
    std::fs::write(path, &md).expect("BENCHMARKS.md is written");
    print!("{md}");
}
