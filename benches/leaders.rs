//! What a leader sees at a province's volume (issue 20), on SQLite and on PostgreSQL, written
//! into BENCHMARKS.md between its two markers (the other benches keep that part):
//!
//! - the leaders' page, `/overview`, over one million cases (its server time and its bytes);
//! - a month's scorecard of every unit, `GET /api/v1/district/scorecard` for November;
//! - the risk map's communities, `GET /api/v1/district/risk`;
//! - a filtered list through the API (a community's open cases, 100 a page).
//!
//! The million cases are a year of the demo district to 15 December 2026, written straight into
//! the hub's tables as the hub itself writes them (each case's row, its place at the district,
//! its dispatch and the daily rollup): filing a million over HTTP would take hours and measure
//! intake, which `cargo bench --bench kiosk` does. The mix: six kinds at the six kiosks, one in a
//! hundred high risk and one in ten elevated; each routed twenty minutes after it came, accepted
//! within five hours, resolved within ten days (all but one in two hundred of those older than a
//! fortnight), six in ten rated; written in the order they came, as a hub's tables fill. The
//! hub's clock stands at 15 December 10:00 and its ticker is off. PostgreSQL runs with fsync on and is analysed after the load (as autovacuum would);
//! SQLite is left as loaded.
//!
//! `cargo bench --bench leaders` (about ten minutes on two cores). To try a change:
//! `BENCH_LEADERS_ONLY=sqlite` (or `postgres`) measures one engine, prints the table and writes
//! nothing; with it, `BENCH_LEADERS_DATA=<dir>` keeps SQLite's million in `<dir>` and loads it
//! only once (then `sqlite3 <dir>/hub.sqlite3` shows the plans).

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/pg_cluster/mod.rs"]
mod pg_cluster;

use common::{client, time_gets};

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::TrackingToken;
use hub::admin::NewUser;
use hub::{Clock, HubConfig, RateLimit, RunningHub};

const CASES: usize = 1_000_000;
const RUNS: usize = 30;
const BUDGET_MS: f64 = 300.0;

const START: &str = "<!-- the leaders: written by `cargo bench --bench leaders` -->";
const END: &str = "<!-- end of the leaders -->";

const STATIONS: [&str; 6] = [
    "demo",
    "gm-north-mall",
    "gm-south-site",
    "gm-south-hospital",
    "dh-one-estate",
    "dh-two-mall",
];

/// The kinds: service, sub-type, and the unit it goes to (`None`: the station's community).
const KINDS: [(&str, &str, Option<&str>); 6] = [
    ("complaint", "noise", None),
    ("complaint", "property", Some("housing")),
    ("complaint", "consumer", Some("market")),
    ("complaint", "wages_owed", Some("labour")),
    ("mediation", "neighbour", None),
    ("legal", "need", Some("justice")),
];

fn community_of(station: &str) -> &'static str {
    match station {
        "demo" | "gm-north-mall" => "gm-north",
        "gm-south-site" | "gm-south-hospital" => "gm-south",
        "dh-one-estate" => "dh-one",
        _ => "dh-two",
    }
}

/// xorshift64*: the same year every run.
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

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated case, every column the hub's tables need.
struct Row {
    id: String,
    token: String,
    station: &'static str,
    service: &'static str,
    subtype: &'static str,
    risk: &'static str,
    class: &'static str,
    unit: &'static str,
    filed: i64,
    routed: i64,
    accept_by: i64,
    accepted: Option<i64>,
    resolve_by: i64,
    resolved: Option<i64>,
    rating: Option<&'static str>,
    rated: Option<i64>,
}

impl Row {
    fn stage(&self) -> &'static str {
        match (self.resolved, self.rating) {
            (Some(_), Some("satisfied" | "basically_satisfied")) => "closed",
            (Some(_), _) => "resolved",
            (None, _) if self.accepted.is_some() => "in_progress",
            _ => "assigned",
        }
    }

    fn public_state(&self) -> &'static str {
        match self.stage() {
            "closed" | "resolved" => "resolved",
            other => other,
        }
    }
}

/// The year's cases in the order they came (a hub's tables fill in time order, so a month's
/// rows lie together, as they do here).
fn generate(now: DateTime<Utc>) -> Vec<Row> {
    let mut dice = Dice(20_261_215);
    let now_s = now.timestamp();
    let year = 365 * 24 * 3600;
    let mut filed: Vec<i64> = (0..CASES)
        .map(|_| now_s - dice.below(year) as i64)
        .collect();
    filed.sort_unstable();
    filed
        .into_iter()
        .map(|filed| {
            let station = STATIONS[dice.below(6) as usize];
            let (service, subtype, to) = KINDS[dice.below(6) as usize];
            let roll = dice.below(100);
            let (risk, class) = match roll {
                0 => ("high", "emergency"),
                1..=10 => ("elevated", "urgent"),
                _ => ("normal", "general"),
            };
            let routed = filed + 20 * 60;
            let accepted = routed + 300 + dice.below(5 * 3600) as i64;
            let resolved = accepted + 3600 + dice.below(10 * 24 * 3600) as i64;
            let old = now_s - filed > 14 * 24 * 3600;
            let left_open = if old {
                dice.below(200) == 0
            } else {
                dice.below(100) < 40
            };
            let resolved = (!left_open && resolved < now_s).then_some(resolved);
            let rating = resolved
                .filter(|_| dice.below(10) < 6)
                .map(|_| match dice.below(20) {
                    0..=14 => "satisfied",
                    15..=17 => "basically_satisfied",
                    _ => "unsatisfied",
                });
            let mut bytes = [0u8; 10];
            for b in &mut bytes {
                *b = dice.next() as u8;
            }
            let ts = uuid::Timestamp::from_unix(uuid::NoContext, filed as u64, 0);
            Row {
                id: uuid::Uuid::new_v7(ts).hyphenated().to_string(),
                token: TrackingToken::from_random(bytes).as_str().to_owned(),
                station,
                service,
                subtype,
                risk,
                class,
                unit: to.unwrap_or_else(|| community_of(station)),
                filed,
                routed,
                accept_by: routed + 4 * 3600,
                accepted: (accepted < now_s).then_some(accepted),
                resolve_by: routed + 7 * 24 * 3600,
                resolved,
                rating,
                rated: rating.and(resolved.map(|r| r + 3 * 3600)),
            }
        })
        .collect()
}

fn stamp(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .expect("a time")
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn day_of(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .expect("a time")
        .with_timezone(&domain::calendar::china())
        .format("%Y-%m-%d")
        .to_string()
}

/// The daily rollup the hub keeps at intake.
fn daily(rows: &[Row]) -> HashMap<(String, &'static str, &'static str, &'static str), i64> {
    let mut d = HashMap::new();
    for r in rows {
        *d.entry((day_of(r.filed), r.station, r.service, r.subtype))
            .or_insert(0) += 1;
    }
    d
}

fn load_sqlite(path: &Path, rows: &[Row]) {
    let mut db = rusqlite::Connection::open(path).expect("the hub's database");
    db.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut case = tx
            .prepare(
                "INSERT INTO cases (id, token, station_id, service, subtype, risk_level, state,
                    department, filed_at, received_at, updated_at, source, body, body_sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9, 'native', '{}', 'bench')",
            )
            .unwrap();
        let mut district = tx
            .prepare(
                "INSERT INTO district_cases (case_id, stage, unit, class, routed_at, accept_by,
                    accepted_at, resolve_by, resolved_at, closed_at, returns, redo_count,
                    extensions, rating, rated_at, version, station_id, service, risk_level,
                    filed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, 0, 0, ?11, ?12, 1, ?13, ?14,
                    ?15, ?16)",
            )
            .unwrap();
        let mut dispatch = tx
            .prepare(
                "INSERT INTO dispatches (case_id, seq, unit, filed_at, dispatched_at, accept_by,
                    accepted_at, resolve_by, resolved_at, rating, reopened, ended_at)
                 VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?8)",
            )
            .unwrap();
        for r in rows {
            case.execute(rusqlite::params![
                r.id,
                r.token,
                r.station,
                r.service,
                r.subtype,
                r.risk,
                r.public_state(),
                r.unit,
                stamp(r.filed)
            ])
            .unwrap();
            let closed = (r.stage() == "closed")
                .then(|| r.rated.map(stamp))
                .flatten();
            district
                .execute(rusqlite::params![
                    r.id,
                    r.stage(),
                    r.unit,
                    r.class,
                    stamp(r.routed),
                    stamp(r.accept_by),
                    r.accepted.map(stamp),
                    stamp(r.resolve_by),
                    r.resolved.map(stamp),
                    closed,
                    r.rating,
                    r.rated.map(stamp),
                    r.station,
                    r.service,
                    r.risk,
                    stamp(r.filed)
                ])
                .unwrap();
            dispatch
                .execute(rusqlite::params![
                    r.id,
                    r.unit,
                    r.filed,
                    r.routed,
                    r.accept_by,
                    r.accepted,
                    r.resolve_by,
                    r.resolved,
                    r.rating
                ])
                .unwrap();
        }
        let mut day = tx
            .prepare(
                "INSERT INTO daily_filed (day, station_id, service, subtype, shard, filed)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            )
            .unwrap();
        for ((d, station, service, subtype), n) in daily(rows) {
            day.execute(rusqlite::params![d, station, service, subtype, n])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// A text COPY field: `\N` for nothing (the values hold no tab, newline or backslash).
fn field(v: Option<String>) -> String {
    v.unwrap_or_else(|| "\\N".to_owned())
}

fn load_postgres(url: &str, rows: &[Row]) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("the cluster");
    let mut copy = |sql: &str, line: &dyn Fn(&Row) -> String| {
        let mut w = client.copy_in(sql).expect("COPY");
        let mut buffer = String::with_capacity(1 << 20);
        for r in rows {
            buffer.push_str(&line(r));
            buffer.push('\n');
            if buffer.len() > 1 << 20 {
                w.write_all(buffer.as_bytes()).unwrap();
                buffer.clear();
            }
        }
        w.write_all(buffer.as_bytes()).unwrap();
        w.finish().expect("COPY finished");
    };
    copy(
        "COPY cases (id, token, station_id, service, subtype, risk_level, state, department,
            filed_at, received_at, updated_at, source, body, body_sha256) FROM STDIN",
        &|r| {
            let at = stamp(r.filed);
            [
                r.id.clone(),
                r.token.clone(),
                r.station.into(),
                r.service.into(),
                r.subtype.into(),
                r.risk.into(),
                r.public_state().into(),
                r.unit.into(),
                at.clone(),
                at.clone(),
                at,
                "native".into(),
                "{}".into(),
                "bench".into(),
            ]
            .join("\t")
        },
    );
    copy(
        "COPY district_cases (case_id, stage, unit, class, routed_at, accept_by, accepted_at,
            resolve_by, resolved_at, closed_at, returns, redo_count, extensions, rating,
            rated_at, version, station_id, service, risk_level, filed_at) FROM STDIN",
        &|r| {
            let closed = (r.stage() == "closed")
                .then(|| r.rated.map(stamp))
                .flatten();
            [
                r.id.clone(),
                r.stage().into(),
                r.unit.into(),
                r.class.into(),
                stamp(r.routed),
                stamp(r.accept_by),
                field(r.accepted.map(stamp)),
                stamp(r.resolve_by),
                field(r.resolved.map(stamp)),
                field(closed),
                "0".into(),
                "0".into(),
                "0".into(),
                field(r.rating.map(str::to_owned)),
                field(r.rated.map(stamp)),
                "1".into(),
                r.station.into(),
                r.service.into(),
                r.risk.into(),
                stamp(r.filed),
            ]
            .join("\t")
        },
    );
    copy(
        "COPY dispatches (case_id, seq, unit, filed_at, dispatched_at, accept_by, accepted_at,
            resolve_by, resolved_at, rating, reopened, ended_at) FROM STDIN",
        &|r| {
            [
                r.id.clone(),
                "1".into(),
                r.unit.into(),
                r.filed.to_string(),
                r.routed.to_string(),
                r.accept_by.to_string(),
                field(r.accepted.map(|v| v.to_string())),
                r.resolve_by.to_string(),
                field(r.resolved.map(|v| v.to_string())),
                field(r.rating.map(str::to_owned)),
                "0".into(),
                field(r.resolved.map(|v| v.to_string())),
            ]
            .join("\t")
        },
    );
    let mut w = client
        .copy_in("COPY daily_filed (day, station_id, service, subtype, shard, filed) FROM STDIN")
        .expect("COPY");
    for ((d, station, service, subtype), n) in daily(rows) {
        writeln!(w, "{d}\t{station}\t{service}\t{subtype}\t0\t{n}").unwrap();
    }
    w.finish().expect("COPY finished");
    client.batch_execute("ANALYZE").expect("ANALYZE");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Figures {
    engine: &'static str,
    load: Duration,
    page: (Duration, Duration),
    page_bytes: usize,
    scorecard: (Duration, Duration),
    risk: (Duration, Duration),
    list: (Duration, Duration),
}

async fn start(dir: &Path, database: Option<&str>, now: DateTime<Utc>) -> RunningHub {
    let mut config = HubConfig::new(dir);
    config.database = database
        .map(|url| hub::store::PostgresConfig::new(url).expect("the cluster's connection string"));
    config.clock = Clock::from_fn(move || now);
    config.run_ticker = false;
    config.tracking_limit = RateLimit {
        per_minute: 1_000_000,
        burst: 1_000_000,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    hub::start(config, listener).await.expect("the hub starts")
}

async fn measure(
    engine: &'static str,
    rows: Arc<Vec<Row>>,
    database: Option<String>,
    kept: Option<&Path>,
) -> Figures {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = kept.unwrap_or(temp.path());
    let now = DateTime::parse_from_rfc3339("2026-12-15T10:00:00+08:00")
        .expect("a time")
        .with_timezone(&Utc);
    let path = dir.join(hub::store::DB_FILE);
    let started = Instant::now();
    if database.is_some() || !path.exists() {
        // The schema first, then the year, then the hub again on it.
        start(dir, database.as_deref(), now)
            .await
            .shutdown()
            .await
            .expect("the hub stops");
        eprintln!("{engine}: loading {CASES} cases …");
        let url = database.clone();
        let loaded = Arc::clone(&rows);
        let into = path.clone();
        tokio::task::spawn_blocking(move || match url {
            Some(url) => load_postgres(&url, &loaded),
            None => load_sqlite(&into, &loaded),
        })
        .await
        .expect("the load");
    }
    let load = started.elapsed();
    eprintln!("{engine}: loaded in {load:?}");
    let hub = start(dir, database.as_deref(), now).await;
    let base = hub.base_url();
    hub.add_user(&NewUser {
        id: "leader".into(),
        unit: "demo-district".into(),
        role: "leader".into(),
        name: None,
        password: "bench-password".into(),
        replace: false,
    })
    .await
    .expect("the leader's account");
    let login: serde_json::Value = client()
        .post(format!("{base}/api/v1/login"))
        .json(&serde_json::json!({"user": "leader", "password": "bench-password"}))
        .send()
        .await
        .expect("the hub answers")
        .json()
        .await
        .expect("a session");
    let token = login["token"].as_str().expect("a token").to_owned();
    let cookie = ("cookie", format!("gk_session={token}"));
    let bearer = ("authorization", format!("Bearer {token}"));
    let (page, page_bytes) = time_gets(&base, "/overview?lang=zh", cookie, "风险地图", RUNS).await;
    eprintln!("{engine}: /overview {page:?}, {page_bytes} bytes");
    let (scorecard, _) = time_gets(
        &base,
        "/api/v1/district/scorecard?from=2026-11-01&to=2026-11-30",
        bearer.clone(),
        "\"response_rate\"",
        RUNS,
    )
    .await;
    eprintln!("{engine}: scorecard {scorecard:?}");
    let (risk, _) = time_gets(
        &base,
        "/api/v1/district/risk",
        bearer.clone(),
        "dh-one",
        RUNS,
    )
    .await;
    let (list, _) = time_gets(
        &base,
        "/api/v1/district/cases?state=open&community=dh-one&limit=100",
        bearer,
        "\"total\"",
        RUNS,
    )
    .await;
    hub.shutdown().await.expect("the hub stops");
    Figures {
        engine,
        load,
        page,
        page_bytes,
        scorecard,
        risk,
        list,
    }
}

fn section(figures: &[Figures], commit: &str, machine: &str) -> String {
    let mut md = format!(
        "{START}\n## What a leader sees, over one million cases\n\n\
         Written by `cargo bench --bench leaders` (benches/leaders.rs) at commit `{commit}`, on \
         {machine}. A year of the demo district to 15 December 2026: {CASES} cases written \
         straight into the hub's tables (each case, its place at the district, its dispatch and \
         the daily rollup), {RUNS} requests of each after one untimed, one after the other, timed \
         at the client over loopback. Budget: {BUDGET_MS:.0} ms at the 99th percentile and a page under 200 KB.\n\n\
         | what | engine | median | p99 | within budget |\n|---|---|---|---|---|\n"
    );
    for f in figures {
        for (what, (p50, p99)) in [
            ("the leaders' page `/overview` (cookie session)", f.page),
            (
                "November's scorecard, every unit (`GET /api/v1/district/scorecard?from=2026-11-01&to=2026-11-30`)",
                f.scorecard,
            ),
            ("the risk map's communities (`GET /api/v1/district/risk`)", f.risk),
            (
                "a community's open cases, 100 a page (`GET /api/v1/district/cases?state=open&community=dh-one`)",
                f.list,
            ),
        ] {
            md.push_str(&format!(
                "| {what} | {} | {:.1} ms | {:.1} ms | {} |\n",
                f.engine,
                ms(p50),
                ms(p99),
                if ms(p99) <= BUDGET_MS { "yes" } else { "**no**" }
            ));
        }
        md.push_str(&format!(
            "| the page's bytes | {} | {:.0} KB | | {} |\n| loading the million (not the hub's work) | {} | {:.0} s | | |\n",
            f.engine,
            f.page_bytes as f64 / 1024.0,
            if f.page_bytes < 200 * 1024 { "yes" } else { "**no**" },
            f.engine,
            f.load.as_secs_f64()
        ));
    }
    md.push_str(&format!("\n{END}"));
    md
}

fn main() {
    let commit = common::commit();
    let runtime = common::runtime();
    let now = DateTime::parse_from_rfc3339("2026-12-15T10:00:00+08:00")
        .expect("a time")
        .with_timezone(&Utc);
    eprintln!("generating {CASES} cases …");
    let rows = Arc::new(generate(now));
    let only = std::env::var("BENCH_LEADERS_ONLY").ok();
    let kept = std::env::var_os("BENCH_LEADERS_DATA").map(std::path::PathBuf::from);
    if let Some(dir) = &kept {
        std::fs::create_dir_all(dir).expect("the kept data's directory");
    }
    let mut figures = Vec::new();
    if only.as_deref() != Some("postgres") {
        figures.push(runtime.block_on(measure(
            "SQLite",
            Arc::clone(&rows),
            None,
            kept.as_deref().filter(|_| only.is_some()),
        )));
    }
    if only.as_deref() != Some("sqlite") {
        let cluster = pg_cluster::Cluster::start(true);
        figures.push(runtime.block_on(measure(
            "PostgreSQL",
            Arc::clone(&rows),
            Some(cluster.new_database()),
            None,
        )));
    }
    let md = section(&figures, &commit, &common::machine());
    print!("{md}");
    if only.is_none() {
        common::write_section(&md, START, END);
    }
}
