//! The district's back office at scale (issue 19), measured on SQLite and on PostgreSQL and
//! written into BENCHMARKS.md between its two markers (the kiosk's bench keeps that part):
//!
//! - a unit's inbox with 10,000 open cases: the page a handler opens (`/inbox`, cookie session)
//!   and the same list through the API (`GET /api/v1/district/cases?unit=…`);
//! - the deadlines' scheduler over 100,000 open cases: a pass with nothing due (every minute's
//!   work, the usual case) and a pass that finds every case's reminder due at once and raises
//!   them all (the worst catch-up, e.g. after the hub was down).
//!
//! The cases are filed over HTTP as kiosks file them (the native protocol, eight at a time):
//! high-risk wage claims, which the hub routes at intake to the labour bureau, so that each
//! one has a unit, a class and running deadlines without a dispatcher's hand. The hub's clock
//! is the bench's: it starts on a Tuesday at 09:30 and moves only when the bench moves it, and
//! the hub's own ticker is off, so every pass timed is one the bench asked for.
//!
//! `cargo bench --bench district` (about fifteen minutes on two cores). PostgreSQL runs with
//! fsync on, in a cluster the bench starts (`tests/pg_cluster`). `BENCH_INBOX_ONLY=1` measures
//! the inbox on SQLite alone, prints it and writes nothing (to try a change to the lists), and
//! `BENCH_INBOX_ONLY=postgres` the same on PostgreSQL; `BENCH_ENGINE=postgres` measures
//! everything on PostgreSQL alone and prints it, writing nothing. `BENCH_LOG=warn` shows the
//! hub's warnings and errors (`info` and `debug` say more).

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/pg_cluster/mod.rs"]
mod pg_cluster;

use common::{client, percentile, time_gets};

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::{Channel, Language, RiskAssessment, RiskLevel, RiskReason, TrackingToken};
use hub::admin::NewUser;
use hub::periodic::Outcome;
use hub::{Clock, HubConfig, RateLimit, RunningHub};
use protocol::{CaseSubmission, SubmittedAnswer};

const STATION: &str = "demo";
const STATION_TOKEN: &str = "token-of-the-bench-station";
/// The unit the wage claims are routed to (the demo district's catalogue rule).
const UNIT: &str = "labour";
const INBOX_CASES: usize = 10_000;
const SCHEDULER_CASES: usize = 100_000;
/// Requests in flight while the cases are filed.
const SUBMITTERS: usize = 8;
const PAGE_RUNS: usize = 30;
/// Passes a minute apart with nothing due: the emergency cases' first reminders fall 22.5
/// minutes after they were filed.
const IDLE_PASSES: usize = 15;

const START: &str = "<!-- the district: written by `cargo bench --bench district` -->";
const END: &str = "<!-- end of the district -->";

struct Figures {
    engine: &'static str,
    /// Cases filed a second while seeding (each routed at intake).
    filed_per_s: f64,
    inbox_page: (Duration, Duration),
    inbox_bytes: usize,
    inbox_api: (Duration, Duration),
    idle_pass: Duration,
    catch_up: Duration,
    catch_up_steps: u64,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// A high-risk wage claim from the bench's station, as a kiosk files one.
fn wage_claim(at: DateTime<Utc>) -> CaseSubmission {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("random bytes");
    CaseSubmission {
        id: uuid::Uuid::now_v7().hyphenated().to_string(),
        token: TrackingToken::from_random(bytes).as_str().to_owned(),
        station_id: STATION.into(),
        service: "complaint".into(),
        subtype: "wages_owed".into(),
        service_name: "投诉建议".into(),
        subtype_name: "拖欠工资".into(),
        answers: vec![SubmittedAnswer {
            question: "workers".into(),
            question_label: "有多少人被拖欠？".into(),
            value: "30_plus".into(),
            value_label: "30人以上".into(),
        }],
        description: Some("基准测试：工地拖欠三十多名工人工资".into()),
        phone: Some("13800000000".into()),
        anonymous: false,
        consent_version: "2024-01".into(),
        risk: RiskAssessment {
            level: RiskLevel::High,
            reasons: vec![RiskReason::Answer {
                question: "workers".into(),
                option: "30_plus".into(),
                level: RiskLevel::High,
            }],
        },
        language: Language::Zh,
        channel: Channel::Kiosk,
        filed_at: at,
    }
}

/// Files `n` cases, [`SUBMITTERS`] at a time; the time it took.
async fn file_cases(base: &str, n: usize, at: DateTime<Utc>) -> Duration {
    let started = Instant::now();
    let left = Arc::new(AtomicI64::new(n as i64));
    let mut tasks = Vec::new();
    for _ in 0..SUBMITTERS {
        let (left, base, client) = (Arc::clone(&left), base.to_owned(), client());
        tasks.push(tokio::spawn(async move {
            while left.fetch_sub(1, Ordering::SeqCst) > 0 {
                let case = wage_claim(at);
                let r = client
                    .post(format!("{base}/api/v1/cases"))
                    .bearer_auth(STATION_TOKEN)
                    .header("idempotency-key", &case.id)
                    .json(&case)
                    .send()
                    .await
                    .expect("the hub answers");
                assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
            }
        }));
    }
    for t in tasks {
        t.await.expect("a submitter");
    }
    started.elapsed()
}

async fn measure(engine: &'static str, database: Option<String>) -> Figures {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Tuesday 2 June 2026, 09:30 in the district: working time, no holiday near.
    let start = DateTime::parse_from_rfc3339("2026-06-02T09:30:00+08:00")
        .expect("a time")
        .with_timezone(&Utc);
    // The hub's clock stands still but for the bench's moves (seeding takes minutes of real
    // time, in which the emergency cases' first reminders, 22.5 minutes on, would fall).
    let offset = Arc::new(AtomicI64::new(0));
    let read = Arc::clone(&offset);
    let now = move || start + chrono::Duration::seconds(read.load(Ordering::SeqCst));
    let mut config = HubConfig::new(dir.path()).with_station(STATION, STATION_TOKEN);
    config.database = database
        .map(|url| hub::store::PostgresConfig::new(&url).expect("the cluster's connection string"));
    config.clock = Clock::from_fn(now.clone());
    config.run_ticker = false;
    config.tracking_limit = RateLimit {
        per_minute: 1_000_000,
        burst: 1_000_000,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let hub: RunningHub = hub::start(config, listener).await.expect("the hub starts");
    let base = hub.base_url();
    hub.add_user(&NewUser {
        id: "handler".into(),
        unit: UNIT.into(),
        role: "department".into(),
        name: None,
        password: "bench-password".into(),
        replace: false,
    })
    .await
    .expect("the handler's account");

    eprintln!("{engine}: filing {INBOX_CASES} cases …");
    let took = file_cases(&base, INBOX_CASES, now()).await;
    let filed_per_s = INBOX_CASES as f64 / took.as_secs_f64();
    eprintln!("{engine}: {filed_per_s:.0} cases/s");

    eprintln!("{engine}: the inbox …");
    let login: serde_json::Value = client()
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"user": "handler", "password": "bench-password"}))
        .send()
        .await
        .expect("the hub answers")
        .json()
        .await
        .expect("a session");
    let token = login["token"].as_str().expect("a token").to_owned();
    let (inbox_page, inbox_bytes) = time_gets(
        &base,
        "/inbox?lang=zh",
        ("cookie", format!("gk_session={token}")),
        &format!("<span class=\"count\">{INBOX_CASES}</span>"),
        PAGE_RUNS,
    )
    .await;
    eprintln!("{engine}: inbox page {inbox_page:?}, {inbox_bytes} bytes");
    let (inbox_api, _) = time_gets(
        &base,
        &format!("/api/v1/district/cases?unit={UNIT}&state=assigned&limit=100"),
        ("authorization", format!("Bearer {token}")),
        &format!("\"total\":{INBOX_CASES}"),
        PAGE_RUNS,
    )
    .await;

    if std::env::var_os("BENCH_INBOX_ONLY").is_some() {
        eprintln!("{engine}: API list {inbox_api:?}");
        hub.shutdown().await.expect("the hub stops");
        std::process::exit(0);
    }
    eprintln!(
        "{engine}: filing {} more cases …",
        SCHEDULER_CASES - INBOX_CASES
    );
    file_cases(&base, SCHEDULER_CASES - INBOX_CASES, now()).await;

    eprintln!("{engine}: the scheduler …");
    // Passes with nothing due: a minute later each time.
    hub.run_due_jobs().await.expect("the first pass");
    let mut idle = Vec::with_capacity(IDLE_PASSES);
    for _ in 0..IDLE_PASSES {
        offset.fetch_add(61, Ordering::SeqCst);
        let started = Instant::now();
        let ran = hub.run_due_jobs().await.expect("a pass");
        idle.push(started.elapsed());
        assert!(
            ran.contains(&("deadlines", Outcome::Ran(0))),
            "nothing was due: {ran:?}"
        );
    }
    idle.sort();
    eprintln!("{engine}: idle pass median {:?}", percentile(&idle, 0.5));
    // A working day later every case's reminder (and chase) is due: one pass raises them all.
    offset.fetch_add(9 * 3600, Ordering::SeqCst);
    let started = Instant::now();
    let ran = hub.run_due_jobs().await.expect("the catch-up");
    let catch_up = started.elapsed();
    eprintln!("{engine}: catch-up {catch_up:?}, {ran:?}");
    let catch_up_steps = ran
        .iter()
        .find_map(|(job, o)| match (job, o) {
            (&"deadlines", Outcome::Ran(n)) => Some(*n),
            _ => None,
        })
        .expect("the deadlines job ran");
    assert!(
        catch_up_steps >= SCHEDULER_CASES as u64,
        "every case had a step due: {catch_up_steps}"
    );
    hub.shutdown().await.expect("the hub stops");
    Figures {
        engine,
        filed_per_s,
        inbox_page,
        inbox_bytes,
        inbox_api,
        idle_pass: percentile(&idle, 0.5),
        catch_up,
        catch_up_steps,
    }
}

fn section(figures: &[Figures], commit: &str, machine: &str) -> String {
    let mut md = format!(
        "{START}\n## The district's back office\n\n\
         Written by `cargo bench --bench district` (benches/district.rs) at commit `{commit}`, on {machine}. \
         The cases are high-risk wage claims filed over HTTP as kiosks file them and routed at \
         intake to one unit (the labour bureau), so each has running deadlines; the hub's \
         clock is the bench's and its ticker is off, so each pass timed is one the bench asked \
         for. PostgreSQL runs with fsync on.\n\n\
         | what | engine | measured | how |\n|---|---|---|---|\n"
    );
    for f in figures {
        md.push_str(&format!(
            "| a unit's inbox page with {INBOX_CASES} open cases | {} | median {}, p99 {} ({} KB: the 500 nearest deadlines of each list, and the counts) | {PAGE_RUNS} × `GET /inbox` as the unit's handler (cookie session), one after the other after one untimed |\n",
            f.engine,
            ms(f.inbox_page.0),
            ms(f.inbox_page.1),
            f.inbox_bytes / 1024
        ));
        md.push_str(&format!(
            "| the same list through the API, 100 a page | {} | median {}, p99 {} | {PAGE_RUNS} × `GET /api/v1/district/cases?unit=labour&state=assigned&limit=100` (bearer) |\n",
            f.engine,
            ms(f.inbox_api.0),
            ms(f.inbox_api.1)
        ));
        md.push_str(&format!(
            "| the scheduler's pass over {SCHEDULER_CASES} open cases, nothing due | {} | median {} | {IDLE_PASSES} × `run_due_jobs` a minute apart by the hub's clock (every job, the deadlines' included) |\n",
            f.engine,
            ms(f.idle_pass)
        ));
        md.push_str(&format!(
            "| the scheduler's pass raising every due step of {SCHEDULER_CASES} open cases | {} | {:.1} s for {} steps ({:.0} steps/s) | one `run_due_jobs` a working day later: each step written with its timeline entry, its next moment recomputed, batches of 500 a transaction |\n",
            f.engine,
            f.catch_up.as_secs_f64(),
            f.catch_up_steps,
            f.catch_up_steps as f64 / f.catch_up.as_secs_f64()
        ));
        md.push_str(&format!(
            "| filing cases (each routed at intake) while seeding | {} | {:.0} cases/s | {SUBMITTERS} submitters over HTTP, `POST /api/v1/cases` |\n",
            f.engine, f.filed_per_s
        ));
    }
    md.push_str(&format!("\n{END}"));
    md
}

fn main() {
    // The hub's warnings and errors (a refused write says why there): `BENCH_LOG=warn`.
    logging::init("BENCH_LOG");
    let commit = common::commit();
    let runtime = common::runtime();
    let cluster = pg_cluster::Cluster::start(true);
    if std::env::var("BENCH_INBOX_ONLY").is_ok_and(|v| v == "postgres") {
        runtime.block_on(measure("PostgreSQL", Some(cluster.new_database())));
    }
    if std::env::var("BENCH_ENGINE").is_ok_and(|v| v == "postgres") {
        let postgres = runtime.block_on(measure("PostgreSQL", Some(cluster.new_database())));
        print!("{}", section(&[postgres], &commit, &common::machine()));
        return;
    }
    let sqlite = runtime.block_on(measure("SQLite", None));
    let postgres = runtime.block_on(measure("PostgreSQL", Some(cluster.new_database())));
    let md = section(&[sqlite, postgres], &commit, &common::machine());
    print!("{md}");
    common::write_section(&md, START, END);
}
