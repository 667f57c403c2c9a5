//! Faults of the kiosk's outbox worker, each caused for real (DESIGN.md §6, §11): the real
//! kiosk core on a SQLite file in a temporary directory, the real hub on a loopback port, and,
//! where the real hub cannot misbehave the way a fault needs, a small HTTP proxy run by the test
//! in front of it (it answers 500, garbage, late or never, or forwards a case and withholds the
//! hub's answer). Whatever happens, a case filed is kept, waits, and reaches the hub exactly once.

use crate::exec;
use crate::hub_common::HeldPort;

use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::RiskLevel;
use hub::{self, HubConfig, RunningHub};
use serde_json::Value;
use station::clock::Clock;
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::{Filed, Kiosk};
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The demo station's token, as the hub knows it.
const TOKEN: &str = "token-of-the-demo-station-0001";
/// A token the hub does not know.
const WRONG_TOKEN: &str = "token-the-hub-never-issued-0002";
/// Another station and its (valid) token.
const OTHER_STATION: &str = "other-station";
const OTHER_TOKEN: &str = "token-of-another-station-0003";
/// The request limit of the kiosk in the tests where the hub answers late or never.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a test waits for something that should happen (a hang is a failure, not a stuck run).
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The kiosk.

fn station_id() -> String {
    KioskConfig::builtin().station.id
}

/// The built-in demo station with its data in `dir`.
fn kiosk_in(dir: &Path) -> Kiosk {
    let mut config = KioskConfig::builtin();
    config.data_dir = dir.to_owned();
    Kiosk::open(Arc::new(config)).expect("the kiosk opens its database")
}

fn file(kiosk: &mut Kiosk, description: &str) -> Filed {
    kiosk
        .file_case(&noise_complaint(description))
        .expect("the kiosk files the case")
}

/// A case's outbox row, as the kiosk's database holds it.
#[derive(Debug)]
struct OutboxRow {
    state: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    upstream_ref: Option<String>,
}

fn outbox_row(kiosk: &Kiosk, filed: &Filed) -> OutboxRow {
    kiosk
        .store()
        .connection()
        .query_row(
            "SELECT state, attempts, next_attempt_at, last_error, upstream_ref
             FROM outbox WHERE case_id = ?1",
            [filed.case.id.to_string()],
            |r| {
                Ok(OutboxRow {
                    state: r.get(0)?,
                    attempts: r.get(1)?,
                    next_attempt_at: DateTime::parse_from_rfc3339(&r.get::<_, String>(2)?)
                        .expect("an RFC 3339 time")
                        .with_timezone(&Utc),
                    last_error: r.get(3)?,
                    upstream_ref: r.get(4)?,
                })
            },
        )
        .expect("the case has its outbox row")
}

fn token_of(filed: &Filed) -> String {
    filed.case.token.as_str().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The hub.

/// The real hub, serving on `listener`, with its data in `dir`; it knows the demo station (by
/// [`TOKEN`]) and another one.
async fn start_hub(dir: &Path, listener: TcpListener) -> RunningHub {
    let config = HubConfig::new(dir)
        .with_station(&station_id(), TOKEN)
        .with_station(OTHER_STATION, OTHER_TOKEN);
    hub::start(config, listener).await.expect("the hub starts")
}

async fn hub_on_any_port(dir: &Path) -> RunningHub {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    start_hub(dir, listener).await
}

/// The tracking codes of the cases the hub has, in the order it received them.
fn hub_cases(dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(hub::store::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the hub's database opens");
    let mut stmt = db
        .prepare("SELECT token FROM cases ORDER BY rowid")
        .expect("the hub has a cases table");
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("the query runs");
    rows.collect::<Result<_, _>>().expect("the rows read")
}

fn native(base: &str, token: &str) -> Upstream {
    Upstream::new(base, UpstreamKind::Native, token)
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// A misbehaving upstream: a proxy in front of the real hub that does, for each request in turn,
// what its script says (and forwards everything after the script).

#[derive(Debug, Clone, Copy)]
enum Act {
    /// Pass the request to the hub and its answer back.
    Forward,
    /// Answer this status and body, never reaching the hub.
    Answer(u16, &'static str),
    /// Take the request and never answer.
    Hang,
    /// Pass the request to the hub, and its answer back only once the kiosk has hung up.
    AnswerLate,
    /// Pass the request to the hub and keep its answer.
    Withhold,
}

/// What the proxy saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    idempotency_key: Option<String>,
    /// The status the hub answered, for the requests passed to it.
    hub_status: Option<u16>,
}

struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Proxy {
    async fn start(hub: SocketAddr, script: Vec<Act>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("the proxy's address");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        let script = Arc::new(script);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                tokio::spawn(async move {
                    let _ = serve(client, hub, &log, &script).await;
                });
            }
        });
        Proxy { addr, seen, accept }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the proxy's log").clone()
    }

    /// The statuses the hub answered to the requests passed to it, in order.
    fn hub_statuses(&self) -> Vec<Option<u16>> {
        self.seen().iter().map(|s| s.hub_status).collect()
    }
}

/// One connection: one request, handled as the script says, then the connection is closed.
async fn serve(
    mut client: TcpStream,
    hub: SocketAddr,
    log: &Mutex<Vec<Seen>>,
    script: &[Act],
) -> std::io::Result<()> {
    let Some((head, body)) = read_message(&mut client).await? else {
        return Ok(());
    };
    let index = {
        let mut log = log.lock().expect("the proxy's log");
        log.push(Seen {
            request_line: head.lines().next().unwrap_or_default().to_owned(),
            idempotency_key: header(&head, "idempotency-key"),
            hub_status: None,
        });
        log.len() - 1
    };
    let act = script.get(index).copied().unwrap_or(Act::Forward);
    let answer = match act {
        Act::Answer(status, text) => {
            let answer = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{text}",
                reason(status),
                text.len()
            );
            client.write_all(answer.as_bytes()).await?;
            return client.shutdown().await;
        }
        Act::Hang => return until_hung_up(&mut client).await,
        Act::Forward | Act::AnswerLate | Act::Withhold => {
            let mut upstream = TcpStream::connect(hub).await?;
            upstream.write_all(head.as_bytes()).await?;
            upstream.write_all(&body).await?;
            let (head, body) = read_message(&mut upstream).await?.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the hub hung up")
            })?;
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("the hub's answer has a status");
            log.lock().expect("the proxy's log")[index].hub_status = Some(status);
            // One request per connection: the kiosk must not reuse one the proxy closes.
            let head = head.replacen("\r\n", "\r\nconnection: close\r\n", 1);
            [head.into_bytes(), body].concat()
        }
    };
    match act {
        Act::Withhold => return until_hung_up(&mut client).await,
        Act::AnswerLate => {
            until_hung_up(&mut client).await?;
        }
        _ => {}
    }
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// Reads until the other side closes the connection.
async fn until_hung_up(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 1024];
    while stream.read(&mut buf).await? > 0 {}
    Ok(())
}

/// One HTTP/1.1 message: its head (up to the blank line, included) and its body (by
/// `Content-Length`). `None` when the connection closes before a message starts.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    assert!(
        header(&head, "transfer-encoding").is_none(),
        "the proxy only reads bodies with a Content-Length: {head}"
    );
    let length: usize = header(&head, "content-length").map_or(0, |v| v.parse().unwrap_or(0));
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, buf[head_end..head_end + length].to_vec())))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_owned())
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Upstream down.

#[tokio::test]
async fn a_hub_that_is_down_makes_cases_wait_and_they_arrive_once_when_it_is_back() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    // The kiosk's clock: it stands still unless the test moves it on (instead of waiting for
    // the next try).
    let ahead = Arc::new(AtomicI64::new(0));
    let config = {
        let (ahead, start) = (ahead.clone(), Utc::now());
        let mut config = KioskConfig::builtin();
        config.data_dir = kiosk_dir.path().to_owned();
        config.clock = Clock::from_fn(move || {
            start + chrono::Duration::milliseconds(ahead.load(Ordering::SeqCst))
        });
        Arc::new(config)
    };
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    // A port held by the test and not listened on (for now): connections to it are refused,
    // and nobody else can take it before the hub does.
    let held = HeldPort::new();
    let port = held.port;
    let upstream = native(&format!("http://127.0.0.1:{port}"), TOKEN);

    let first = file(&mut kiosk, "楼上装修噪音，每天到晚上十一点");
    let second = file(&mut kiosk, "隔壁狗叫一整夜");
    let before = kiosk.now();
    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    assert!(report.delivered.is_empty(), "{report:?}");
    assert_eq!((report.retried, report.failed), (1, 0), "{report:?}");
    let why = report.last_error.expect("the failure is reported");
    assert!(why.contains("cannot reach upstream"), "{why}");

    let row = outbox_row(&kiosk, &first);
    assert_eq!(row.state, "pending");
    assert_eq!(row.attempts, 1, "the try is counted");
    assert!(
        row.next_attempt_at > before,
        "the next try is later: {row:?}"
    );
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or("")
            .contains("cannot reach upstream"),
        "{row:?}"
    );
    assert_eq!(
        outbox_row(&kiosk, &second).attempts,
        0,
        "once upstream is down, the rest keep their turn untried"
    );

    // The kiosk keeps taking cases while the hub is down.
    let third = file(&mut kiosk, "楼下餐馆油烟噪音");
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (3, 0, 0));
    assert!(counts
        .last_error
        .unwrap_or_default()
        .contains("cannot reach upstream"));

    // The next try's time is in the database: a restarted kiosk keeps it.
    drop(kiosk);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    assert_eq!(
        outbox_row(&kiosk, &first).next_attempt_at,
        row.next_attempt_at
    );
    assert_eq!(outbox_row(&kiosk, &first).attempts, 1);

    // The hub comes up on the same port; the kiosk tries again when the stored time comes.
    let listener = held.listen();
    listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_std(listener).expect("the held port, listening");
    let hub = start_hub(hub_dir.path(), listener).await;
    assert_eq!(hub.local_addr().port(), port);
    let wait = row.next_attempt_at - kiosk.now() + chrono::Duration::milliseconds(1);
    ahead.fetch_add(wait.num_milliseconds().max(0), Ordering::SeqCst);
    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    assert_eq!((report.retried, report.failed), (0, 0), "{report:?}");
    let mut delivered = report.delivered.clone();
    delivered.sort();
    let mut expected = vec![token_of(&first), token_of(&second), token_of(&third)];
    expected.sort();
    assert_eq!(delivered, expected, "every waiting case is sent");

    let row = outbox_row(&kiosk, &first);
    assert_eq!(row.state, "delivered");
    assert_eq!(row.attempts, 2);
    assert_eq!(row.last_error, None);
    assert_eq!(row.upstream_ref, Some(token_of(&first)));
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 3, 0));

    // Nothing is sent twice: another drain finds nothing, and the hub has each case once.
    let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(report, Default::default());
    let mut at_hub = hub_cases(hub_dir.path());
    at_hub.sort();
    assert_eq!(at_hub, expected, "each case exactly once at the hub");
}

// ---------------------------------------------------------------------------------------------
// 2. Upstream answering 5xx.

#[tokio::test]
async fn a_hub_answering_5xx_makes_the_case_wait_until_it_answers_again() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(
        hub.local_addr(),
        vec![
            Act::Answer(500, r#"{"error":"the hub could not use its database"}"#),
            Act::Answer(502, "bad gateway"),
        ],
    )
    .await;
    let upstream = native(&proxy.url(), TOKEN);
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    assert_eq!(
        (report.delivered.len(), report.retried),
        (0, 1),
        "{report:?}"
    );
    let why = report.last_error.unwrap();
    assert!(
        why.contains("500") && why.contains("could not use its database"),
        "{why}"
    );
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));

    let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(
        (report.delivered.len(), report.retried),
        (0, 1),
        "{report:?}"
    );
    assert!(report.last_error.unwrap().contains("502"));
    assert_eq!(outbox_row(&kiosk, &filed).attempts, 2);
    assert_eq!(outbox_row(&kiosk, &filed).state, "pending");
    assert!(hub_cases(hub_dir.path()).is_empty());

    let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("delivered", 3));
    assert_eq!(row.last_error, None);
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);

    let seen = proxy.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for s in &seen {
        assert_eq!(s.request_line, "POST /api/v1/cases HTTP/1.1");
        assert_eq!(
            s.idempotency_key.as_deref(),
            Some(filed.case.id.to_string().as_str()),
            "every try carries the case id as its Idempotency-Key"
        );
    }
    assert_eq!(proxy.hub_statuses(), [None, None, Some(201)]);
}

// ---------------------------------------------------------------------------------------------
// 3. Upstream silent, or slow.

#[tokio::test]
async fn a_hub_that_never_answers_is_given_up_on_after_the_timeout() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(hub.local_addr(), vec![Act::Hang]).await;
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    let impatient = native(&proxy.url(), TOKEN).with_timeout(SHORT_TIMEOUT);
    let before = Utc::now();
    let drain = tokio::time::timeout(DEADLINE, kiosk.drain_outbox(&impatient, false));
    let report = drain.await.expect("the drain gives up by itself").unwrap();
    assert_eq!(
        (report.delivered.len(), report.retried),
        (0, 1),
        "{report:?}"
    );
    let why = report.last_error.unwrap();
    assert!(why.contains("did not answer in time"), "{why}");
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));
    assert!(row.next_attempt_at > before, "rescheduled: {row:?}");
    assert_eq!(
        proxy.seen().len(),
        1,
        "the request did reach the silent hub"
    );
    assert!(hub_cases(hub_dir.path()).is_empty());

    // The hub answers again: the case goes.
    let report = kiosk
        .drain_outbox(&native(&proxy.url(), TOKEN), true)
        .await
        .unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    assert_eq!(outbox_row(&kiosk, &filed).state, "delivered");
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
}

#[tokio::test]
async fn a_hub_that_answers_after_the_timeout_gets_the_case_once() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(hub.local_addr(), vec![Act::AnswerLate]).await;
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    let impatient = native(&proxy.url(), TOKEN).with_timeout(SHORT_TIMEOUT);
    let before = Utc::now();
    let drain = tokio::time::timeout(DEADLINE, kiosk.drain_outbox(&impatient, false));
    let report = drain.await.expect("the drain gives up by itself").unwrap();
    assert_eq!(
        (report.delivered.len(), report.retried),
        (0, 1),
        "{report:?}"
    );
    assert!(report
        .last_error
        .unwrap()
        .contains("did not answer in time"));
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("pending", 1));
    assert!(row.next_attempt_at > before, "rescheduled: {row:?}");

    // The hub took the case; only its answer was late.
    eventually("the hub's answer to the first try", || {
        proxy.hub_statuses() == [Some(201)]
    })
    .await;
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);

    // The retry is a replay of the same case: the hub keeps one, the kiosk records it.
    let report = kiosk
        .drain_outbox(&native(&proxy.url(), TOKEN), true)
        .await
        .unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    assert_eq!(proxy.hub_statuses(), [Some(201), Some(200)]);
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("delivered", 2));
    assert_eq!(row.upstream_ref, Some(token_of(&filed)));
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
}

// ---------------------------------------------------------------------------------------------
// 4. Garbage in a success.

#[tokio::test]
async fn garbage_in_a_successful_answer_is_retried_and_nothing_is_marked_delivered() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let garbage = [
        (Act::Answer(201, r#"{"id": "01"#), "not the expected JSON"),
        (Act::Answer(200, "<html>OK</html>"), "not the expected JSON"),
        (Act::Answer(201, r#"{"ok": true}"#), "not the expected JSON"),
        (Act::Answer(201, ""), "not the expected JSON"),
        (
            Act::Answer(
                201,
                r#"{"id":"0190e4a0-0000-7000-8000-000000000000","token":"0000000000000000Z",
                    "received_at":"2026-01-01T00:00:00Z","state":"received"}"#,
            ),
            "instead of",
        ),
    ];
    let proxy = Proxy::start(hub.local_addr(), garbage.iter().map(|g| g.0).collect()).await;
    let upstream = native(&proxy.url(), TOKEN);
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    for (n, (act, expected)) in garbage.iter().enumerate() {
        let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
        assert!(report.delivered.is_empty(), "{act:?}: {report:?}");
        assert_eq!(
            (report.retried, report.failed),
            (1, 0),
            "{act:?}: transient"
        );
        let why = report.last_error.unwrap();
        assert!(why.contains(expected), "{act:?}: {why}");
        let row = outbox_row(&kiosk, &filed);
        assert_eq!(row.state, "pending", "{act:?}");
        assert_eq!(row.attempts, n as i64 + 1, "{act:?}");
        assert_eq!(row.upstream_ref, None, "{act:?}");
        let counts = kiosk.outbox_counts().unwrap();
        assert_eq!((counts.pending, counts.delivered), (1, 0), "{act:?}");
    }
    assert!(hub_cases(hub_dir.path()).is_empty());

    let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    assert_eq!(outbox_row(&kiosk, &filed).state, "delivered");
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
}

// ---------------------------------------------------------------------------------------------
// 5. Refused for good.

#[tokio::test]
async fn a_refused_token_flags_the_case_for_staff_until_they_retry_it() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(hub.local_addr(), Vec::new()).await;
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    // A token the hub never issued: 401, permanent.
    let report = kiosk
        .drain_outbox(&native(&proxy.url(), WRONG_TOKEN), false)
        .await
        .unwrap();
    assert!(report.delivered.is_empty(), "{report:?}");
    assert_eq!((report.retried, report.failed), (0, 1), "{report:?}");
    let why = report.last_error.unwrap();
    assert!(
        why.contains("401") && why.contains("missing or invalid credentials"),
        "a clear reason for staff: {why}"
    );
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 1));
    assert_eq!(row.last_error.as_deref(), Some(why.as_str()));
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 0, 1));
    assert_eq!(counts.last_error.as_deref(), Some(why.as_str()));
    assert_eq!(proxy.hub_statuses(), [Some(401)]);

    // Not retried by itself, however often the outbox is drained.
    for _ in 0..3 {
        let report = kiosk
            .drain_outbox(&native(&proxy.url(), WRONG_TOKEN), false)
            .await
            .unwrap();
        assert_eq!(report, Default::default());
    }
    assert_eq!(proxy.seen().len(), 1, "no request after the refusal");
    assert_eq!(outbox_row(&kiosk, &filed).attempts, 1);

    // Staff retry with another station's token: 403, still refused, still kept.
    let report = kiosk
        .drain_outbox(&native(&proxy.url(), OTHER_TOKEN), true)
        .await
        .unwrap();
    assert_eq!(
        (report.delivered.len(), report.failed),
        (0, 1),
        "{report:?}"
    );
    let why = report.last_error.unwrap();
    assert!(
        why.contains("403") && why.contains("another station"),
        "{why}"
    );
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("failed", 2));
    assert_eq!(proxy.hub_statuses(), [Some(401), Some(403)]);

    // The token is fixed; staff retry: delivered.
    let report = kiosk
        .drain_outbox(&native(&proxy.url(), TOKEN), true)
        .await
        .unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    assert_eq!(report.failed, 0);
    let row = outbox_row(&kiosk, &filed);
    assert_eq!((row.state.as_str(), row.attempts), ("delivered", 3));
    assert_eq!(row.last_error, None);
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 1, 0));
    assert_eq!(counts.last_error, None);
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
}

// ---------------------------------------------------------------------------------------------
// 6. Delivered twice.

#[tokio::test]
async fn a_case_delivered_twice_is_kept_once_by_the_hub() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(hub.local_addr(), Vec::new()).await;
    let upstream = native(&proxy.url(), TOKEN);
    let mut kiosk = kiosk_in(kiosk_dir.path());
    let filed = file(&mut kiosk, "楼上装修噪音");

    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    let first_ref = outbox_row(&kiosk, &filed).upstream_ref;
    assert_eq!(first_ref, Some(token_of(&filed)));

    // As if the kiosk had never recorded the answer.
    let reset = kiosk
        .store()
        .connection()
        .execute(
            "UPDATE outbox SET state = 'pending', delivered_at = NULL, upstream_ref = NULL,
                    next_attempt_at = ?2
             WHERE case_id = ?1",
            [filed.case.id.to_string(), Utc::now().to_rfc3339()],
        )
        .unwrap();
    assert_eq!(reset, 1);
    assert_eq!(kiosk.outbox_counts().unwrap().pending, 1);

    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    assert_eq!(report.delivered, [token_of(&filed)], "{report:?}");
    assert_eq!(
        proxy.hub_statuses(),
        [Some(201), Some(200)],
        "the second delivery reached the hub, which knew it as a replay"
    );
    let row = outbox_row(&kiosk, &filed);
    assert_eq!(row.state, "delivered");
    assert_eq!(row.upstream_ref, first_ref, "the same receipt both times");
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 1, 0));
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
}

// ---------------------------------------------------------------------------------------------
// 7. Killed between sending and recording the answer.

/// The real binary with a clean `KIOSK_*` environment, its data in `dir`, upstream at `url`.
fn kiosk_command(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KIOSK_") {
            command.env_remove(name);
        }
    }
    command
        .env("KIOSK_DATA_DIR", dir)
        .env("KIOSK_UPSTREAM_URL", url)
        .env("KIOSK_UPSTREAM_TOKEN", TOKEN)
        .current_dir(dir)
        .args(args);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_killed_before_it_records_the_answer_delivers_once_after_restart() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let proxy = Proxy::start(hub.local_addr(), vec![Act::Withhold]).await;
    let filed = {
        let mut kiosk = kiosk_in(kiosk_dir.path());
        file(&mut kiosk, "楼上装修噪音")
    };

    let mut child = kiosk_command(kiosk_dir.path(), &proxy.url(), &["outbox", "flush"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let start = Instant::now();
    while proxy.hub_statuses() != [Some(201)] {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!(
                "the kiosk ended ({status}) before the hub answered: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(start.elapsed() < DEADLINE, "the hub never got the case");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The hub has committed the case and answered; the kiosk has not heard it yet.
    child.kill().expect("the kiosk is killed");
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed, not finished: {status}");
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
    {
        let kiosk = kiosk_in(kiosk_dir.path());
        let row = outbox_row(&kiosk, &filed);
        assert_eq!(
            row.state, "pending",
            "the answer was never recorded: {row:?}"
        );
        assert_eq!(row.upstream_ref, None);
    }

    // Restarted, straight at the hub: the case is recorded delivered, and the hub has it once.
    let mut again = kiosk_command(
        kiosk_dir.path(),
        &hub.base_url(),
        &["outbox", "flush", "--json"],
    );
    let output = tokio::task::spawn_blocking(move || again.output())
        .await
        .unwrap()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "outbox flush failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    assert_eq!(line["pending"], 0, "{line}");
    assert_eq!(line["delivered"], 1, "{line}");
    assert_eq!(line["failed"], 0, "{line}");
    assert_eq!(hub_cases(hub_dir.path()), [token_of(&filed)]);
    let kiosk = kiosk_in(kiosk_dir.path());
    let row = outbox_row(&kiosk, &filed);
    assert_eq!(row.state, "delivered");
    assert_eq!(row.upstream_ref, Some(token_of(&filed)));
}

// ---------------------------------------------------------------------------------------------
// 8. High risk first.

#[tokio::test]
async fn high_risk_cases_reach_the_hub_first() {
    let kiosk_dir = TempDir::new().unwrap();
    let hub_dir = TempDir::new().unwrap();
    let hub = hub_on_any_port(hub_dir.path()).await;
    let upstream = native(&hub.base_url(), TOKEN);
    let mut kiosk = kiosk_in(kiosk_dir.path());

    let older = file(&mut kiosk, "楼上装修噪音");
    let old = file(&mut kiosk, "隔壁狗叫一整夜");
    let elevated = file(&mut kiosk, "楼道里有燃气味，装修一直不停");
    let high = file(&mut kiosk, "邻居持刀威胁我们");
    assert_eq!(older.case.risk.level, RiskLevel::Normal);
    assert_eq!(old.case.risk.level, RiskLevel::Normal);
    assert_eq!(elevated.case.risk.level, RiskLevel::Elevated);
    assert_eq!(high.case.risk.level, RiskLevel::High);

    let report = kiosk.drain_outbox(&upstream, false).await.unwrap();
    let expected = [
        token_of(&high),
        token_of(&elevated),
        token_of(&older),
        token_of(&old),
    ];
    assert_eq!(report.delivered, expected, "{report:?}");
    assert_eq!(
        hub_cases(hub_dir.path()),
        expected,
        "the hub received high risk first, then elevated, then the oldest"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Two processes on a new data directory (issue 17, item 12): `case new` and `outbox flush`
// started at once. Each waits for the other's lock as it opens the database; neither exits
// with "database is locked".

/// Processes (or connections) that open one new data directory at the same instant, and how
/// many new directories each test tries.
const AT_ONCE: usize = 4;
const FRESH_DIRECTORIES: usize = 40;
/// Rounds of the in-process race, which costs little.
const INSTANT_ROUNDS: usize = 150;

#[test]
fn kiosks_opening_one_new_database_at_the_same_instant_all_open_it() {
    // The race, narrowed to the instant: threads released together by a barrier each open the
    // same new data directory as the kiosk does (one connection each, as each process has).
    let mut refused = Vec::new();
    for round in 0..INSTANT_ROUNDS {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        let barrier = Arc::new(std::sync::Barrier::new(AT_ONCE));
        let threads: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                let barrier = barrier.clone();
                let mut config = KioskConfig::builtin();
                config.data_dir = data.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    Kiosk::open(Arc::new(config))
                        .map(|mut kiosk| {
                            file(&mut kiosk, "楼上装修噪音");
                        })
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join().expect("the thread ends") {
                refused.push(format!("round {round}: {e}"));
            }
        }
        let kiosk = kiosk_in(&data);
        assert_eq!(
            kiosk.outbox_counts().unwrap().pending as usize,
            AT_ONCE
                - refused
                    .iter()
                    .filter(|r| r.starts_with(&format!("round {round}:")))
                    .count(),
            "every kiosk that opened filed its case"
        );
    }
    assert!(
        refused.is_empty(),
        "{} of {} opens were refused: {refused:#?}",
        refused.len(),
        AT_ONCE * INSTANT_ROUNDS
    );
}

#[test]
fn case_new_and_outbox_flush_started_at_once_on_a_new_directory_both_succeed() {
    // The reviewer's way: the real binary, both commands started together, on fresh
    // directories, again and again; upstream is a port nobody listens on, so `outbox flush`
    // fails for that reason only (it says so), never for the database.
    let nobody = HeldPort::new();
    let url = format!("http://127.0.0.1:{}", nobody.port);
    let mut locked = Vec::new();
    for round in 0..FRESH_DIRECTORIES {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        let data = data.to_str().unwrap();
        let mut children = Vec::new();
        for i in 0..AT_ONCE {
            let args: &[&str] = if i % 2 == 0 {
                &[
                    "case",
                    "new",
                    "--service",
                    "complaint",
                    "--anonymous",
                    "--description",
                    "楼上装修噪音",
                ]
            } else {
                &["outbox", "flush"]
            };
            let mut command = kiosk_command(dir.path(), &url, args);
            command
                .env("KIOSK_DATA_DIR", data)
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            children.push((args[0], command.spawn().expect("the binary starts")));
        }
        for (what, child) in children {
            let output = child.wait_with_output().expect("the binary ends");
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            if stderr.contains("locked") || stderr.contains("busy") {
                locked.push(format!("round {round}, {what}: {stderr}"));
            } else if what == "case" {
                assert!(output.status.success(), "case new failed: {stderr}");
            } else {
                // It ran before the case was filed, or it found the case and could not send it
                // (or the case was filed while it was sending the others): never another error.
                assert!(
                    output.status.success() || stderr.contains("not delivered yet"),
                    "outbox flush fails only for want of upstream: {stderr}"
                );
            }
        }
        let kiosk = kiosk_in(Path::new(data));
        assert_eq!(
            kiosk.outbox_counts().unwrap().pending as usize,
            AT_ONCE / 2
                - locked
                    .iter()
                    .filter(|l| l.starts_with(&format!("round {round}, case")))
                    .count()
        );
    }
    assert!(locked.is_empty(), "{locked:#?}");
}
