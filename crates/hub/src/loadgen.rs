//! `grievance-hub loadgen`: a fleet of stations, departments and citizens against a running hub,
//! to try a deployment before the province does (docs/hub.md, "Trying a deployment's size").
//!
//! Open loop: every kind of request arrives at its own rate whatever the hub answers, as a
//! province's kiosks and phones do, and each request's latency is counted from the moment it
//! was *due*, not from when it was sent, so a load generator that falls behind (or a hub that
//! makes it wait) shows in the figures instead of hiding in them (no coordinated omission).
//!
//! - **heartbeats**: each of N stations every 60 s, spread evenly over the minute;
//! - **station states**: a station's queue changed (its `seq` grows), at a rate;
//! - **cases**: filed at a rate by stations in turn; a share of them sent again with the same
//!   `Idempotency-Key`, as an outbox retries after a lost answer, which must get the same
//!   receipt;
//! - **department events**: cases moved on (acknowledged, in progress, resolved), at a rate;
//! - **tracking pages**: citizens opening `/T/<code>` of a filed case, at a rate.
//!
//! Before the clock starts, it files some cases (so the pages and events have cases to ask
//! for). It prints, per kind: requests, failures (by what went wrong), throughput and the
//! latency's p50, p90, p99 and maximum.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use domain::{Channel, Language, RiskAssessment, TrackingToken};
use protocol::{CaseSubmission, SubmittedAnswer};

/// What to send, how often and for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The hub (or the load balancer in front of it): `http://host:port`.
    pub base: String,
    /// The stations: id and token, as in the hub's `HUB_STATION_TOKENS_FILE`.
    pub stations: Vec<(String, String)>,
    /// A department's token, for the events (none: no events are sent).
    pub department_token: Option<String>,
    pub duration: Duration,
    /// Cases filed before the clock starts.
    pub warmup_cases: usize,
    pub heartbeat_every: Duration,
    pub cases_per_s: f64,
    pub tracking_per_s: f64,
    pub events_per_s: f64,
    pub states_per_s: f64,
    /// The share of cases sent twice (0 to 1).
    pub retry_share: f64,
    /// Requests in flight at most; an arrival beyond it fails as "load generator saturated".
    pub max_in_flight: usize,
}

impl Plan {
    /// A province's peak (issue 18): `stations` beating every minute, 50 cases a second,
    /// 500 tracking pages a second, 20 events and 10 station states a second, 5 % of cases
    /// retried, for `duration`.
    pub fn province(base: &str, stations: Vec<(String, String)>, duration: Duration) -> Plan {
        Plan {
            base: base.trim_end_matches('/').to_owned(),
            stations,
            department_token: None,
            duration,
            warmup_cases: 1000,
            heartbeat_every: Duration::from_secs(60),
            cases_per_s: 50.0,
            tracking_per_s: 500.0,
            events_per_s: 20.0,
            states_per_s: 10.0,
            retry_share: 0.05,
            max_in_flight: 4096,
        }
    }
}

/// The kinds of request, in the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Heartbeat,
    StationState,
    Case,
    CaseRetry,
    Event,
    Tracking,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Heartbeat,
        Kind::StationState,
        Kind::Case,
        Kind::CaseRetry,
        Kind::Event,
        Kind::Tracking,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Heartbeat => "heartbeat",
            Kind::StationState => "station state",
            Kind::Case => "case",
            Kind::CaseRetry => "case retried",
            Kind::Event => "department event",
            Kind::Tracking => "tracking page",
        }
    }
}

/// One kind's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct KindReport {
    pub kind: Kind,
    pub sent: u64,
    pub ok: u64,
    /// What went wrong, and how often: `503`, `connect: …`, `a different receipt`, …
    pub errors: BTreeMap<String, u64>,
    pub per_second: f64,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// The whole run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub stations: usize,
    pub duration: Duration,
    pub kinds: Vec<KindReport>,
}

impl Report {
    pub fn errors(&self) -> u64 {
        self.kinds.iter().flat_map(|k| k.errors.values()).sum()
    }

    /// The table `grievance-hub loadgen` prints.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} stations, {:.0} s\n{:<17} {:>8} {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            self.stations,
            self.duration.as_secs_f64(),
            "kind",
            "sent",
            "ok",
            "errors",
            "per s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms"
        );
        for k in &self.kinds {
            let _ = writeln!(
                out,
                "{:<17} {:>8} {:>8} {:>7} {:>8.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                k.kind.name(),
                k.sent,
                k.ok,
                k.errors.values().sum::<u64>(),
                k.per_second,
                ms(k.p50),
                ms(k.p90),
                ms(k.p99),
                ms(k.max)
            );
            for (what, n) in &k.errors {
                let _ = writeln!(out, "    {n} × {what}");
            }
        }
        out
    }

    /// The same as JSON (`--json`).
    pub fn json(&self) -> serde_json::Value {
        json!({
            "stations": self.stations,
            "seconds": self.duration.as_secs_f64(),
            "kinds": self.kinds.iter().map(|k| json!({
                "kind": k.kind.name(),
                "sent": k.sent,
                "ok": k.ok,
                "errors": k.errors,
                "per_second": k.per_second,
                "p50_ms": ms(k.p50),
                "p90_ms": ms(k.p90),
                "p99_ms": ms(k.p99),
                "max_ms": ms(k.max),
            })).collect::<Vec<_>>(),
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `n` new stations for a trial: `load-00001=<token>` lines, the tokens random (the file the
/// hub reads as `HUB_STATION_TOKENS_FILE`, and `loadgen run --stations-file` too).
pub fn new_stations(n: usize) -> anyhow::Result<Vec<(String, String)>> {
    let width = n.to_string().len().max(5);
    (1..=n)
        .map(|i| {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes)
                .map_err(|e| anyhow::anyhow!("no randomness for the tokens: {e}"))?;
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Ok((format!("load-{i:0width$}"), token))
        })
        .collect()
}

/// Reads a stations file (`id=token` lines, `#` comments).
pub fn read_stations(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut stations = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, token)) = line.split_once('=') else {
            bail!("line {} is not `station-id=token`", n + 1);
        };
        stations.push((id.trim().to_owned(), token.trim().to_owned()));
    }
    if stations.is_empty() {
        bail!("no stations in it");
    }
    Ok(stations)
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The longest a request may wait for its whole answer before it counts as failed (a hub that
/// never answers must not keep the run from ending).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// One kind's results so far: latencies in microseconds, and failures by reason.
type Outcomes = (Vec<u32>, BTreeMap<String, u64>);

/// A case filed during the run: what a retry sends again, and how far events have moved it.
struct Filed {
    case: CaseSubmission,
    token: String,
    /// How many times events moved it on: held across the event's request, so that a case's
    /// moves reach the hub in order however the arrivals overlap.
    moves: tokio::sync::Mutex<u8>,
}

/// What every request task shares.
struct Shared {
    plan: Plan,
    http: HttpClient,
    filed: Mutex<Vec<Arc<Filed>>>,
    in_flight: AtomicUsize,
    results: Mutex<BTreeMap<Kind, Outcomes>>,
    /// Arrivals so far per kind (also each one's number: which station, which case).
    next: [AtomicU64; 6],
    cases_made: AtomicU64,
}

impl Shared {
    fn record(&self, kind: Kind, due: Instant, outcome: Result<(), String>) {
        let took = u32::try_from(due.elapsed().as_micros()).unwrap_or(u32::MAX);
        let mut results = self.results.lock().expect("results");
        let entry = results.entry(kind).or_default();
        match outcome {
            Ok(()) => entry.0.push(took),
            Err(why) => *entry.1.entry(why).or_default() += 1,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.plan.base)
    }

    /// One request: its status and body, or what kept it from being answered.
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        extra: Option<(&str, &str)>,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut request = Request::builder().method(method).uri(self.url(path));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Full::new(Bytes::from(json))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|e| format!("request: {e}"))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("body cut: {e}"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(ANSWER_TIMEOUT, exchange)
            .await
            .map_err(|_| format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()))?
    }
}

/// A noise complaint from `station`, as a kiosk files one (no personal data beyond a made-up
/// phone number).
fn new_case(station: &str) -> CaseSubmission {
    let mut bytes = [0u8; 10];
    let _ = getrandom::fill(&mut bytes);
    CaseSubmission {
        id: uuid::Uuid::now_v7().hyphenated().to_string(),
        token: TrackingToken::from_random(bytes).as_str().to_owned(),
        station_id: station.to_owned(),
        service: "complaint".into(),
        subtype: "noise".into(),
        service_name: "投诉建议".into(),
        subtype_name: "噪音扰民".into(),
        answers: vec![SubmittedAnswer {
            question: "source".into(),
            question_label: "噪音来自哪里？".into(),
            value: "renovation".into(),
            value_label: "装修施工".into(),
        }],
        description: Some("负载测试：楼上每晚十一点后装修".into()),
        phone: Some("13800000000".into()),
        anonymous: false,
        consent_version: "2024-01".into(),
        risk: RiskAssessment::default(),
        language: Language::Zh,
        channel: Channel::Kiosk,
        filed_at: Utc::now(),
    }
}

async fn file_case(shared: &Shared, case: &CaseSubmission, token: &str) -> Result<String, String> {
    let body = serde_json::to_string(case).map_err(|e| e.to_string())?;
    let (status, body) = shared
        .send(
            Method::POST,
            "/api/v1/cases",
            Some(token),
            Some(("idempotency-key", &case.id)),
            Some(body),
        )
        .await?;
    if status != StatusCode::CREATED && status != StatusCode::OK {
        return Err(status.as_u16().to_string());
    }
    let receipt: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| "a receipt that is not JSON".to_owned())?;
    receipt["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "a receipt without its code".to_owned())
}

/// Files a new case from the next station in turn (before the clock and during the run alike)
/// and keeps it for the retries, events and pages; its receipt must carry its own code.
async fn file_next_case(shared: &Shared) -> Result<(), String> {
    let made = shared.cases_made.fetch_add(1, Ordering::Relaxed);
    let (id, token) = &shared.plan.stations[made as usize % shared.plan.stations.len()];
    let case = new_case(id);
    let receipt = file_case(shared, &case, token).await?;
    if receipt != case.token {
        return Err("a receipt for another code".into());
    }
    shared.filed.lock().expect("filed").push(Arc::new(Filed {
        case,
        token: receipt,
        moves: tokio::sync::Mutex::new(0),
    }));
    Ok(())
}

/// One arrival of `kind`, number `n`.
async fn arrive(shared: Arc<Shared>, kind: Kind, n: u64, due: Instant) {
    let plan = &shared.plan;
    let outcome: Result<(), String> = async {
        match kind {
            Kind::Heartbeat => {
                let (id, token) = &plan.stations[n as usize % plan.stations.len()];
                let beat = json!({
                    "station_id": id, "sent_at": Utc::now(), "app_version": "loadgen",
                    "printer_state": "ready", "paper_left_m": 30.0, "paper_low": false,
                    "queue_lengths": {"A": n % 4}, "outbox_pending": 0
                });
                let (status, _) = shared
                    .send(
                        Method::POST,
                        "/api/v1/heartbeat",
                        Some(token),
                        None,
                        Some(beat.to_string()),
                    )
                    .await?;
                expect(status, StatusCode::NO_CONTENT)
            }
            Kind::StationState => {
                let count = plan.stations.len() as u64;
                let (id, token) = &plan.stations[(n % count) as usize];
                let state = json!({
                    "station_id": id, "seq": n / count + 1, "sent_at": Utc::now(),
                    "tickets": [], "bookings": [], "on_duty": []
                });
                let (status, _) = shared
                    .send(
                        Method::PUT,
                        "/api/v1/station-state",
                        Some(token),
                        None,
                        Some(state.to_string()),
                    )
                    .await?;
                expect(status, StatusCode::NO_CONTENT)
            }
            Kind::Case => file_next_case(&shared).await,
            Kind::CaseRetry => {
                let filed = pick(&shared, n).ok_or("no case filed yet")?;
                let token = &plan
                    .stations
                    .iter()
                    .find(|(id, _)| *id == filed.case.station_id)
                    .ok_or("a case of an unknown station")?
                    .1;
                let receipt = file_case(&shared, &filed.case, token).await?;
                if receipt != filed.token {
                    return Err("a different receipt for the same case".into());
                }
                Ok(())
            }
            Kind::Event => {
                let department = plan
                    .department_token
                    .as_deref()
                    .ok_or("no department token")?;
                // Each case moves on three times, then the next one does.
                let filed = pick(&shared, n / 3).ok_or("no case filed yet")?;
                let mut moves = filed.moves.lock().await;
                let state = match *moves {
                    0 => "acknowledged",
                    1 => "in_progress",
                    2 => "resolved",
                    _ => return Ok(()), // moved on by an earlier arrival already: nothing to do
                };
                let update = json!({"state": state, "note": "负载测试"});
                let (status, _) = shared
                    .send(
                        Method::POST,
                        &format!("/api/v1/departments/cases/{}/events", filed.token),
                        Some(department),
                        None,
                        Some(update.to_string()),
                    )
                    .await?;
                *moves += 1;
                expect(status, StatusCode::CREATED)
            }
            Kind::Tracking => {
                let filed =
                    pick(&shared, n.wrapping_mul(2_654_435_761)).ok_or("no case filed yet")?;
                let (status, body) = shared
                    .send(
                        Method::GET,
                        &format!("/T/{}", filed.token),
                        None,
                        None,
                        None,
                    )
                    .await?;
                expect(status, StatusCode::OK)?;
                if body.is_empty() {
                    return Err("an empty page".into());
                }
                Ok(())
            }
        }
    }
    .await;
    shared.record(kind, due, outcome);
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
}

fn expect(status: StatusCode, wanted: StatusCode) -> Result<(), String> {
    if status == wanted {
        Ok(())
    } else {
        Err(status.as_u16().to_string())
    }
}

/// The filed case number `n` (modulo how many there are).
fn pick(shared: &Shared, n: u64) -> Option<Arc<Filed>> {
    let filed = shared.filed.lock().expect("filed");
    if filed.is_empty() {
        return None;
    }
    Some(Arc::clone(&filed[(n % filed.len() as u64) as usize]))
}

/// Sends `kind` at `per_s` from `start` until `end`: each arrival due at `start + i / per_s`,
/// started on a task of its own as soon as it is due.
async fn arrivals(shared: Arc<Shared>, kind: Kind, per_s: f64, start: Instant, end: Instant) {
    if per_s <= 0.0 {
        return;
    }
    let slot = kind as usize;
    loop {
        let i = shared.next[slot].load(Ordering::Relaxed);
        let due = start + Duration::from_secs_f64(i as f64 / per_s);
        if due >= end {
            return;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        // Everything due by now goes at once (a timer wakes at most every millisecond).
        let now = Instant::now();
        loop {
            let i = shared.next[slot].load(Ordering::Relaxed);
            let due = start + Duration::from_secs_f64(i as f64 / per_s);
            if due > now || due >= end {
                break;
            }
            shared.next[slot].store(i + 1, Ordering::Relaxed);
            if shared.in_flight.fetch_add(1, Ordering::Relaxed) >= shared.plan.max_in_flight {
                shared.in_flight.fetch_sub(1, Ordering::Relaxed);
                shared.record(kind, due, Err("load generator saturated".into()));
                continue;
            }
            tokio::spawn(arrive(Arc::clone(&shared), kind, i, due));
        }
    }
}

/// Runs `plan` and reports. Fails only when the hub cannot be used at all (the warm-up's
/// cases are refused).
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    if plan.stations.is_empty() {
        bail!("no stations to simulate");
    }
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(plan.max_in_flight)
        .build(connector);
    let shared = Arc::new(Shared {
        plan: plan.clone(),
        http,
        filed: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        results: Mutex::new(BTreeMap::new()),
        next: Default::default(),
        cases_made: AtomicU64::new(0),
    });

    // The warm-up: cases for the pages and events to ask for, 32 at a time.
    let mut warmup = tokio::task::JoinSet::new();
    for _ in 0..plan.warmup_cases {
        let shared = Arc::clone(&shared);
        warmup.spawn(async move { file_next_case(&shared).await });
        if warmup.len() >= 32 {
            if let Some(done) = warmup.join_next().await {
                done.context("a warm-up task failed")?
                    .map_err(|why| anyhow::anyhow!("the hub refused a warm-up case: {why}"))?;
            }
        }
    }
    while let Some(done) = warmup.join_next().await {
        done.context("a warm-up task failed")?
            .map_err(|why| anyhow::anyhow!("the hub refused a warm-up case: {why}"))?;
    }

    let start = Instant::now();
    let end = start + plan.duration;
    let heartbeats_per_s = plan.stations.len() as f64 / plan.heartbeat_every.as_secs_f64();
    let rates = [
        (Kind::Heartbeat, heartbeats_per_s),
        (Kind::StationState, plan.states_per_s),
        (Kind::Case, plan.cases_per_s * (1.0 - plan.retry_share)),
        (Kind::CaseRetry, plan.cases_per_s * plan.retry_share),
        (
            Kind::Event,
            if plan.department_token.is_some() {
                plan.events_per_s
            } else {
                0.0
            },
        ),
        (Kind::Tracking, plan.tracking_per_s),
    ];
    let mut senders = tokio::task::JoinSet::new();
    for (kind, per_s) in rates {
        senders.spawn(arrivals(Arc::clone(&shared), kind, per_s, start, end));
    }
    while senders.join_next().await.is_some() {}
    // The last requests are answered (or time out in the client).
    while shared.in_flight.load(Ordering::Relaxed) > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = plan.duration;

    let mut results = shared.results.lock().expect("results");
    let kinds = rates
        .iter()
        .filter(|(_, per_s)| *per_s > 0.0)
        .map(|(kind, _)| {
            let (mut took, errors) = results.remove(kind).unwrap_or_default();
            took.sort_unstable();
            let at = |p: f64| -> Duration {
                if took.is_empty() {
                    return Duration::ZERO;
                }
                let i = ((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1;
                Duration::from_micros(u64::from(took[i]))
            };
            let ok = took.len() as u64;
            KindReport {
                kind: *kind,
                sent: ok + errors.values().sum::<u64>(),
                ok,
                errors,
                per_second: ok as f64 / elapsed.as_secs_f64(),
                p50: at(0.50),
                p90: at(0.90),
                p99: at(0.99),
                max: at(1.0),
            }
        })
        .collect();
    Ok(Report {
        stations: plan.stations.len(),
        duration: elapsed,
        kinds,
    })
}
