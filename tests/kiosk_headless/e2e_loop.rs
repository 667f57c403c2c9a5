//! The whole loop, end to end, with real parts only: the kiosk's core files a case into its
//! SQLite file, the outbox delivers it to the real hub on a loopback port (natively or through
//! the hub's Open311 server), a department moves it on through the department API, and the new
//! state is read back from the public tracking page, from `grievance-kiosk case show` and from
//! the kiosk's own lookup (the Track screen's, tested by taps in `screen/track.rs`).

use crate::exec;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use domain::CaseDraft;
use hub::{self, HubConfig, RateLimit, RunningHub, Secret};
use protocol::CaseState;
use serde_json::{json, Value};
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::{Kiosk, Progress};
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;

const STATION: &str = "station-a";
const STATION_TOKEN: &str = "token-of-station-a-0001";
const DEPARTMENT: &str = "housing";
const DEPARTMENT_TOKEN: &str = "token-of-housing-dept-03";
const OPEN311_KEY: &str = "open311-key-00000000005";
const OPERATOR_TOKEN: &str = "operator-token-00000004";

const PHONE: &str = "13912345678";
const DESCRIPTION: &str = "楼上邻居张大伟家装修漏水，已经三个月了";

/// A client straight to the loopback hub, whatever HTTP_PROXY this machine has.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

/// The real hub on `127.0.0.1:port` (0: any free port), its data in `dir`.
async fn start_hub(dir: &Path, port: u16) -> RunningHub {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("a loopback port");
    start_hub_on(dir, listener).await
}

/// The real hub taking connections on `listener`, its data in `dir`.
async fn start_hub_on(dir: &Path, listener: tokio::net::TcpListener) -> RunningHub {
    let mut config = HubConfig::new(dir).with_station(STATION, STATION_TOKEN);
    config.department_tokens = vec![(DEPARTMENT.into(), Secret::new(DEPARTMENT_TOKEN))];
    // The kiosk files as its station: its key is tied to it (issue 17, item 3).
    config.add_open311_key(OPEN311_KEY, &[STATION]);
    config.operator_token = Some(Secret::new(OPERATOR_TOKEN));
    config
        .station_names
        .insert(STATION.into(), "万达广场站".into());
    config.tracking_limit = RateLimit {
        per_minute: 10_000,
        burst: 10_000,
    };
    hub::start(config, listener).await.expect("the hub starts")
}

fn hub_cases(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("hub.sqlite3"))
        .expect("the hub's database opens")
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .expect("the hub has a cases table")
}

/// The demo station renamed to `STATION`, its data in `dir`, forwarding to `url`.
fn kiosk_config(dir: &Path, url: &str, kind: UpstreamKind, token: &str) -> Arc<KioskConfig> {
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.to_owned();
    config.station.id = STATION.into();
    config.upstream.url = Some(url.to_owned());
    config.upstream.kind = kind;
    config.upstream.token = Some(token.to_owned());
    Arc::new(config)
}

/// The hub's operator page (`query`: `?lang=en` or ""), as the operator sees it.
async fn operator_page(base: &str, query: &str) -> String {
    client()
        .get(format!("{base}/operator{query}"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn upstream_of(config: &KioskConfig) -> Upstream {
    Upstream::new(
        config.upstream.url.as_deref().unwrap(),
        config.upstream.kind,
        config.upstream.token.as_deref().unwrap(),
    )
}

/// The resident's case: a noise complaint with a phone number and a name in its description.
fn resident_case() -> CaseDraft {
    CaseDraft {
        phone: PHONE.into(),
        ..noise_complaint(DESCRIPTION)
    }
}

/// `grievance-kiosk ARGS` with the kiosk's data in `data` and upstream at `url`.
fn cli(data: &Path, url: &str, kind: &str, token: &str, args: &[&str]) -> Output {
    exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"))
        .args(args)
        .env_remove("KIOSK_CONFIG")
        .env("KIOSK_DATA_DIR", data)
        .env("KIOSK_STATION_ID", STATION)
        .env("KIOSK_UPSTREAM_URL", url)
        .env("KIOSK_UPSTREAM_KIND", kind)
        .env("KIOSK_UPSTREAM_TOKEN", token)
        .output()
        .expect("the kiosk binary runs")
}

fn json_line(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not one JSON line ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

async fn department_says(base: &str, token: &str, update: Value) {
    let r = client()
        .post(format!("{base}/api/v1/departments/cases/{token}/events"))
        .bearer_auth(DEPARTMENT_TOKEN)
        .json(&update)
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// Runs a blocking closure (the CLI binary) off the async test's thread.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("no panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_filed_at_the_kiosk_is_resolved_by_a_department_and_the_citizen_sees_it() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let config = kiosk_config(kiosk_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();

    // Filed through the kiosk's core, delivered by its outbox.
    let filed = kiosk.file_case(&resident_case()).unwrap();
    let token = filed.case.token.as_str().to_owned();
    let report = kiosk
        .drain_outbox(&upstream_of(&config), false)
        .await
        .unwrap();
    assert_eq!(report.delivered, vec![token.clone()]);
    assert_eq!(kiosk.outbox_counts().unwrap().delivered, 1);
    assert_eq!(hub_cases(hub_dir.path()), 1);

    // A department takes it on, then resolves it.
    department_says(
        &base,
        &token,
        json!({"state": "in_progress", "department": "区住建局", "note": "已派人上门查看"}),
    )
    .await;
    department_says(
        &base,
        &token,
        json!({"state": "resolved", "department": "区住建局", "note": "漏水点已修复",
               "expected_at": "2026-12-01T10:00:00Z"}),
    )
    .await;

    // The tracking page (the code is case-insensitive): the new state, no personal data.
    let page = client()
        .get(format!("{base}/T/{}", token.to_lowercase()))
        .header("Accept-Language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("已办结"), "the state shows: {page}");
    assert!(page.contains("漏水点已修复"), "the department's note shows");
    assert!(page.contains("区住建局"), "the handling department shows");
    assert!(!page.contains(PHONE) && !page.contains("5678"), "no phone");
    assert!(
        !page.contains("张大伟") && !page.contains("装修漏水"),
        "no description"
    );

    // `case show`: the local record and upstream's timeline.
    let (data, url) = (kiosk_dir.path().to_owned(), base.clone());
    let t = token.clone();
    let out = blocking(move || {
        cli(
            &data,
            &url,
            "native",
            STATION_TOKEN,
            &["case", "show", &t, "--json"],
        )
    })
    .await;
    assert!(out.status.success(), "{out:?}");
    let shown = json_line(&out);
    assert_eq!(shown["token"], token.as_str());
    assert_eq!(shown["outbox"], "delivered");
    assert_eq!(shown["upstream"]["state"], "resolved");
    assert_eq!(shown["upstream"]["fresh"], true);
    assert_eq!(shown["upstream"]["department"], "区住建局");
    let timeline = shown["upstream"]["timeline"].as_array().unwrap();
    let states: Vec<&str> = timeline
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["received", "in_progress", "resolved"]);
    assert_eq!(timeline[2]["note"], "漏水点已修复");
    // In words, too.
    let (data, url, t) = (kiosk_dir.path().to_owned(), base.clone(), token.clone());
    let out =
        blocking(move || cli(&data, &url, "native", STATION_TOKEN, &["case", "show", &t])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("state     resolved"), "{text}");
    assert!(text.contains("漏水点已修复"), "{text}");

    // The kiosk's own lookup (what the Track screen shows), live, then from memory when the
    // hub is gone, saying so.
    let tracked = kiosk
        .track(&filed.case.token.grouped(), Some(&upstream_of(&config)))
        .await
        .unwrap();
    match &tracked.progress {
        Progress::Live(p) => assert_eq!(p.state, CaseState::Resolved),
        other => panic!("expected live progress, got {other:?}"),
    }
    hub.shutdown().await.unwrap();
    let tracked = kiosk
        .track(&token, Some(&upstream_of(&config)))
        .await
        .unwrap();
    match &tracked.progress {
        Progress::LastKnown { progress, why, .. } => {
            assert_eq!(progress.state, CaseState::Resolved);
            assert!(!why.is_empty());
        }
        other => panic!("expected the last known state, got {other:?}"),
    }
    let (data, url, t) = (kiosk_dir.path().to_owned(), base.clone(), token.clone());
    let out = blocking(move || {
        cli(
            &data,
            &url,
            "native",
            STATION_TOKEN,
            &["case", "show", &t, "--json"],
        )
    })
    .await;
    assert!(
        out.status.success(),
        "the local record shows offline: {out:?}"
    );
    let shown = json_line(&out);
    assert_eq!(shown["upstream"]["state"], "resolved");
    assert_eq!(shown["upstream"]["fresh"], false);
    assert!(shown["upstream"]["why"]
        .as_str()
        .is_some_and(|w| !w.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosks_heartbeat_reaches_the_operator_page_with_its_backlog_and_a_red_alert() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let config = kiosk_config(kiosk_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    let upstream = upstream_of(&config);

    // A high-risk case is delivered; an ordinary one waits (it was filed after the drain).
    let mut urgent = resident_case();
    urgent.description = "我不想活了".into();
    let filed = kiosk.file_case(&urgent).unwrap();
    assert_eq!(filed.case.risk.level.as_str(), "high");
    kiosk.drain_outbox(&upstream, false).await.unwrap();
    kiosk.file_case(&resident_case()).unwrap();

    let beat = kiosk
        .heartbeat(
            Some(slip::status::PrinterState::Ready),
            &config.printer_profile(),
        )
        .unwrap();
    assert_eq!(beat.station_id, STATION);
    assert_eq!(beat.outbox_pending, 1);
    assert!(beat.outbox_oldest_s.is_some());
    assert!(beat.paper_left_m > 0.0);
    upstream.heartbeat(&beat).await.unwrap();

    let page = operator_page(&base, "?lang=en").await;
    assert!(page.contains("万达广场站"), "the station is listed: {page}");
    assert!(
        page.contains(&format!("{:.1}", beat.paper_left_m)),
        "paper left: {page}"
    );
    // On a wall screen the code is masked to its first group (issue 17): enough to tell the
    // rows apart, never enough to open the case's page.
    let first_group: String = filed.case.token.as_str().chars().take(4).collect();
    assert!(
        page.contains(&format!("{first_group}…")),
        "the high-risk case is on the page: {page}"
    );
    assert!(
        !page.contains(&filed.case.token.grouped()) && !page.contains(filed.case.token.as_str()),
        "not its whole code: {page}"
    );
    assert!(
        !page.contains("我不想活了"),
        "no description on the operator page"
    );
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_moved_aside_and_a_call_for_staff_are_on_the_operator_page_until_acknowledged() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let config = kiosk_config(kiosk_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    std::fs::write(
        kiosk_dir.path().join(station::store::DB_FILE),
        b"not a database",
    )
    .unwrap();
    let (mut kiosk, moved) = Kiosk::open_at_start(config.clone(), chrono::Utc::now()).unwrap();
    assert!(moved.is_some());
    let upstream = upstream_of(&config);
    let page = |upstream: Upstream, beat: protocol::Heartbeat| {
        let base = base.clone();
        async move {
            upstream.heartbeat(&beat).await.unwrap();
            operator_page(&base, "?lang=en").await
        }
    };
    let profile = config.printer_profile();
    let beat = kiosk.heartbeat(None, &profile).unwrap();
    assert_eq!(beat.notices.len(), 1);
    assert_eq!(beat.notices[0].kind, "database-moved-aside");
    let shown = page(upstream.clone(), beat).await;
    assert!(
        shown.contains("database damaged, a new one in use"),
        "the operator sees it: {shown}"
    );
    assert!(
        !shown.contains(kiosk_dir.path().to_str().unwrap()),
        "no paths of the kiosk on the page"
    );

    let id = kiosk.notices().unwrap()[0].id;
    assert!(kiosk.clear_notice(id, chrono::Utc::now()).unwrap());
    let beat = kiosk.heartbeat(None, &profile).unwrap();
    let shown = page(upstream.clone(), beat).await;
    assert!(
        !shown.contains("database damaged"),
        "gone once staff saw it"
    );

    // A resident presses "call staff" (elderly mode): the operator sees that too, until staff
    // acknowledge it.
    let (new, _) = kiosk.call_staff(chrono::Utc::now()).unwrap();
    assert!(new);
    let beat = kiosk.heartbeat(None, &profile).unwrap();
    let shown = page(upstream.clone(), beat).await;
    assert!(
        shown.contains("a resident pressed call staff"),
        "the operator sees the call: {shown}"
    );
    let id = kiosk.notices().unwrap()[0].id;
    assert!(kiosk.clear_notice(id, chrono::Utc::now()).unwrap());
    let beat = kiosk.heartbeat(None, &profile).unwrap();
    assert!(!page(upstream, beat)
        .await
        .contains("a resident pressed call staff"));
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_filed_while_the_hub_is_down_arrives_exactly_once_when_it_starts() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A port with nothing behind it (yet), held so that nobody else takes it meanwhile.
    let held = crate::hub_common::HeldPort::new();
    let port = held.port;
    let url = format!("http://127.0.0.1:{port}");
    let data = kiosk_dir.path().to_owned();
    let run = {
        let (data, url) = (data.clone(), url.clone());
        move |args: &'static [&'static str]| {
            let (data, url) = (data.clone(), url.clone());
            blocking(move || cli(&data, &url, "native", STATION_TOKEN, args))
        }
    };

    let out = run(&[
        "case",
        "new",
        "--service",
        "complaint",
        "--phone",
        PHONE,
        "--json",
    ])
    .await;
    assert!(
        out.status.success(),
        "the kiosk keeps taking cases: {out:?}"
    );
    let token = json_line(&out)["token"].as_str().unwrap().to_owned();

    let status = json_line(&run(&["outbox", "status", "--json"]).await);
    assert_eq!(
        (&status["pending"], &status["delivered"], &status["failed"]),
        (&json!(1), &json!(0), &json!(0))
    );
    // Flushing into nothing: it waits, and says why.
    let out = run(&["outbox", "flush", "--json"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 case(s) not delivered yet"), "{stderr}");
    let status = json_line(&run(&["outbox", "status", "--json"]).await);
    assert_eq!(status["pending"], 1);
    assert!(status["last_error"].as_str().is_some_and(|e| !e.is_empty()));

    // The hub comes up on that port; the case arrives, once, however often we flush.
    let listener = held.listen();
    listener.set_nonblocking(true).unwrap();
    let hub = start_hub_on(
        hub_dir.path(),
        tokio::net::TcpListener::from_std(listener).unwrap(),
    )
    .await;
    assert_eq!(hub.local_addr().port(), port);
    let out = run(&["outbox", "flush", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_line(&out)["sent_tokens"], json!([token]));
    let out = run(&["outbox", "flush"]).await;
    assert!(out.status.success(), "{out:?}");
    let status = json_line(&run(&["outbox", "status", "--json"]).await);
    assert_eq!(
        (&status["pending"], &status["delivered"], &status["failed"]),
        (&json!(0), &json!(1), &json!(0))
    );
    assert_eq!(hub_cases(hub_dir.path()), 1);
    let page = client()
        .get(format!("{}/T/{token}", hub.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_open311_mode_the_kiosk_forwards_to_the_hubs_open311_server_and_reads_status_back() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let open311 = format!("{base}/open311/v2");
    let config = kiosk_config(
        kiosk_dir.path(),
        &open311,
        UpstreamKind::Open311,
        OPEN311_KEY,
    );
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    let filed = kiosk.file_case(&resident_case()).unwrap();
    let token = filed.case.token.as_str().to_owned();

    let report = kiosk
        .drain_outbox(&upstream_of(&config), false)
        .await
        .unwrap();
    assert_eq!(report.delivered, vec![token.clone()], "{report:?}");
    // Delivered as the same case: its station, sub-type and tracking code survive the form.
    let db = rusqlite::Connection::open(hub_dir.path().join("hub.sqlite3")).unwrap();
    let (station, body): (String, String) = db
        .query_row("SELECT station_id, body FROM cases", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(station, STATION);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["token"], token.as_str());
    assert_eq!(body["subtype"], "noise");
    assert_eq!(body["id"], filed.case.id.to_string());

    // A replay (the kiosk's answer lost) is recognised by the case id: still one case.
    let again = upstream_of(&config)
        .submit(&kiosk.submission(&filed.case), &config)
        .await
        .unwrap();
    assert!(
        again.starts_with("id:") || again.starts_with("token:"),
        "{again}"
    );
    assert_eq!(hub_cases(hub_dir.path()), 1);

    department_says(
        &base,
        &token,
        json!({"state": "in_progress", "department": "区住建局", "note": "已派人上门查看",
               "expected_at": "2026-12-01T10:00:00Z"}),
    )
    .await;
    let tracked = kiosk
        .track(&token, Some(&upstream_of(&config)))
        .await
        .unwrap();
    match &tracked.progress {
        Progress::Live(p) => {
            assert_eq!(p.state, CaseState::InProgress);
            assert_eq!(p.department.as_deref(), Some("区住建局"));
            assert_eq!(
                p.expected_at.map(|t| t.to_rfc3339()),
                Some("2026-12-01T10:00:00+00:00".into())
            );
            assert_eq!(
                p.timeline.last().and_then(|e| e.note.as_deref()),
                Some("已派人上门查看")
            );
        }
        other => panic!("expected live progress, got {other:?}"),
    }

    department_says(
        &base,
        &token,
        json!({"state": "resolved", "note": "漏水点已修复"}),
    )
    .await;
    let (data, url, t) = (kiosk_dir.path().to_owned(), open311.clone(), token.clone());
    let out = blocking(move || {
        cli(
            &data,
            &url,
            "open311",
            OPEN311_KEY,
            &["case", "show", &t, "--json"],
        )
    })
    .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_line(&out)["upstream"]["state"], "resolved");
    hub.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_whether_upstream_answers_and_takes_the_token() {
    let (hub_dir, kiosk_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let doctor = |url: String, kind: &'static str, token: &'static str| {
        let data = kiosk_dir.path().to_owned();
        blocking(move || cli(&data, &url, kind, token, &["doctor"]))
    };
    let line = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("upstream"))
            .unwrap_or_default()
            .to_owned()
    };

    let out = doctor(base.clone(), "native", STATION_TOKEN).await;
    assert!(out.status.success(), "{out:?}");
    assert!(line(&out).starts_with("ok"), "{}", line(&out));
    assert!(line(&out).contains("token accepted"), "{}", line(&out));

    let out = doctor(base.clone(), "native", "not-the-station-token").await;
    assert!(!out.status.success());
    assert!(line(&out).starts_with("FAIL"), "{}", line(&out));
    assert!(line(&out).contains("401"), "{}", line(&out));

    let out = doctor(format!("{base}/open311/v2"), "open311", OPEN311_KEY).await;
    assert!(out.status.success(), "{out:?}");
    assert!(line(&out).contains("open311"), "{}", line(&out));

    hub.shutdown().await.unwrap();
    let out = doctor(base.clone(), "native", STATION_TOKEN).await;
    assert!(!out.status.success());
    assert!(
        line(&out).contains("cannot reach upstream"),
        "{}",
        line(&out)
    );
}

/// The text of the public page `/T/<code>`, in Chinese.
async fn page(base: &str, code: &str) -> String {
    let r = client()
        .get(format!("{base}/T/{code}?lang=zh"))
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tickets_page_shows_its_place_and_moves_after_queue_call() {
    let hub_dir = tempfile::tempdir().unwrap();
    let kiosk_dir = tempfile::tempdir().unwrap();
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let data = kiosk_dir.path().to_owned();
    let run = move |args: &'static [&'static str]| {
        let (data, base) = (data.clone(), base.clone());
        blocking(move || cli(&data, &base, "native", STATION_TOKEN, args))
    };
    let mut codes = Vec::new();
    for _ in 0..3 {
        let out = run(&["queue", "take", "--service", "mediation", "--json"]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        codes.push(json_line(&out)["token"].as_str().unwrap().to_owned());
    }
    let base = hub.base_url();
    let third = page(&base, &codes[2]).await;
    assert!(third.contains("B003"), "{third}");
    assert!(third.contains("您前面还有 2 人"), "{third}");
    assert!(
        !third.contains("调解"),
        "the page names no service: {third}"
    );

    let out = run(&["queue", "call", "--counter", "2", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_line(&out)["ticket"], "B001");
    let third = page(&base, &codes[2]).await;
    assert!(third.contains("您前面还有 1 人"), "{third}");
    let first = page(&base, &codes[0]).await;
    assert!(first.contains("B001"), "{first}");
    assert!(first.contains("请到 2 号窗口"), "{first}");
    let out = run(&["queue", "call", "--counter", "1", "--json"]).await;
    assert!(out.status.success());
    assert!(page(&base, &codes[2]).await.contains("下一位就是您"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roster_set_on_the_hub_replaces_the_stations_and_attendance_reaches_the_operator() {
    let hub_dir = tempfile::tempdir().unwrap();
    let kiosk_dir = tempfile::tempdir().unwrap();
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let config = kiosk_config(kiosk_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    let upstream = upstream_of(&config);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();

    // No roster on the hub: the configuration's stays.
    assert!(!kiosk.sync_roster(&upstream).await.unwrap());
    assert_eq!(kiosk.roster(), config.roster);

    let put = |body: Value| {
        let url = format!("{base}/api/v1/stations/{STATION}/roster");
        async move {
            client()
                .put(url)
                .bearer_auth(OPERATOR_TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let every_day: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"day": d, "from": "00:00", "to": "24:00"}))
        .collect();
    let r = put(json!({"providers": [{
        "id": "mediator-hub", "role": "mediator",
        "name": {"zh": "区调解员", "en": "District mediator"},
        "service": "mediation", "slot_min": 60, "capacity": 2, "shifts": every_day,
    }]}))
    .await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    assert!(kiosk.sync_roster(&upstream).await.unwrap());
    let roster = kiosk.roster();
    assert_eq!(roster.providers.len(), 1);
    assert_eq!(roster.providers[0].id, "mediator-hub");
    let slots = kiosk
        .booking_slots("mediation", 2, chrono::Utc::now())
        .unwrap();
    assert!(slots
        .iter()
        .all(|s| s.slot.provider == "mediator-hub" && s.free == 2));
    assert!(!slots.is_empty());
    // The legal lawyer of the configuration is gone with the hub's roster.
    assert!(kiosk.booking_slots("legal", 2, chrono::Utc::now()).is_err());

    // Attendance goes up with the station's state and shows on the operator page.
    kiosk
        .attendance("mediator-hub", true, chrono::Utc::now())
        .unwrap();
    assert!(kiosk.sync_station(&upstream, false).await.unwrap());
    assert!(
        !kiosk.sync_station(&upstream, false).await.unwrap(),
        "nothing new to send"
    );
    let operator = operator_page(&base, "").await;
    assert!(operator.contains("区调解员"), "{operator}");

    // A roster naming a service this station does not have is refused; the last good one stays.
    let r = put(json!({"providers": [{
        "id": "vet-1", "role": "counsellor", "name": {"zh": "兽医", "en": "Vet"},
        "service": "pets", "slot_min": 30, "shifts": every_day,
    }]}))
    .await;
    assert_eq!(r.status(), 204);
    let refused = kiosk.sync_roster(&upstream).await.unwrap_err().to_string();
    assert!(refused.contains("providers[0].service"), "{refused}");
    assert_eq!(kiosk.roster().providers[0].id, "mediator-hub");

    // The hub drops its roster: the kiosk returns to its configuration's.
    let db = rusqlite::Connection::open(hub_dir.path().join("hub.sqlite3")).unwrap();
    db.execute("DELETE FROM rosters", []).unwrap();
    assert!(!kiosk.sync_roster(&upstream).await.unwrap());
    assert_eq!(kiosk.roster(), config.roster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_with_a_new_database_is_still_heard_by_the_hub() {
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = start_hub(hub_dir.path(), 0).await;
    let base = hub.base_url();
    let now = chrono::Utc::now();

    // The old database, made a while ago, has sent many changes.
    let old_dir = tempfile::tempdir().unwrap();
    let config = kiosk_config(old_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    let mut old = Kiosk::open(config.clone()).unwrap();
    old.store()
        .connection()
        .execute("UPDATE station_sync SET epoch = epoch - 3600", [])
        .unwrap();
    for _ in 0..30 {
        old.take_ticket("complaint", false, None, domain::Language::Zh, now)
            .unwrap();
    }
    assert!(old
        .sync_station(&upstream_of(&config), false)
        .await
        .unwrap());

    // It is replaced by a fresh one (say the old file was found corrupt and moved aside): its
    // first change is fewer changes in, yet the hub takes it.
    let new_dir = tempfile::tempdir().unwrap();
    let config = kiosk_config(new_dir.path(), &base, UpstreamKind::Native, STATION_TOKEN);
    let mut fresh = Kiosk::open(config.clone()).unwrap();
    let ticket = fresh
        .take_ticket("mediation", false, None, domain::Language::Zh, now)
        .unwrap();
    assert!(fresh
        .sync_station(&upstream_of(&config), false)
        .await
        .unwrap());
    let shown = page(&base, &ticket.ticket.token).await;
    assert!(shown.contains("B001"), "{shown}");
}
