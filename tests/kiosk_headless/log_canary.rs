//! Nothing a resident typed reaches the kiosk's log (issue 7: the journal keeps what the kiosk
//! prints to standard error, for weeks, readable by whoever administers the board). A canary
//! case, with a phone number, a description and a name no log line could contain by chance, is
//! filed through the real backend against an upstream that fails every delivery and echoes the
//! request in its error page (as a framework's debug page does). The kiosk logs the failures;
//! none of the canary may be in them.
//!
//! The kiosk's standard error is that of a process: the test starts itself again with
//! `LOG_CANARY_CHILD` set and `KIOSK_LOG=debug` (the child sets up the log as the kiosk's binary
//! does, files the case and waits for the failed deliveries), and reads what the child printed.

use crate::common;
use crate::exec;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::CaseDraft;
use grievance_kiosk::app::backend::Backend;
use station::config::{KioskConfig, UpstreamKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHILD: &str = "LOG_CANARY_CHILD";
const PHONE: &str = "13912345678";
const NAME: &str = "王小明";
const DESCRIPTION: &str = "金丝雀说明：王小明家楼上每天半夜装修";
/// What the child prints on standard output once the upstream has seen the canary twice.
const DONE: &str = "canary delivered and refused";

#[test]
fn no_personal_data_reaches_the_log() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(std::path::Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = exec::program(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &exec::test_name(module_path!(), "no_personal_data_reaches_the_log"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        // Everything the kiosk can say: no level may carry the canary.
        .env("KIOSK_LOG", "debug")
        .stdin(Stdio::null())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(DONE),
        "the child failed: {stdout}\n{stderr}"
    );
    // The failures were logged, both of them (or this test proves nothing)…
    assert!(
        stderr.matches("outbox: not delivered").count() >= 2 && stderr.contains("500"),
        "the refused deliveries are in the log: {stderr}"
    );
    // …and nothing of the canary is.
    let digits: String = stderr.chars().filter(char::is_ascii_digit).collect();
    for canary in [PHONE, "1391234", "2345678", NAME, "金丝雀", "半夜装修"] {
        assert!(
            !stderr.contains(canary),
            "`{canary}` is in the log:\n{stderr}"
        );
    }
    assert!(
        !digits.contains(PHONE),
        "the phone number is in the log, split up:\n{stderr}"
    );
}

/// The child: files the canary through the real backend and waits until the upstream has
/// refused it twice (the outbox logged both).
fn child(dir: &std::path::Path) {
    // The kiosk's log, set up as its binary sets it up.
    logging::init("KIOSK_LOG");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counted = counted.clone();
            tokio::spawn(async move {
                // The first refusal is a framework's HTML error page with the request in it, the
                // later ones the protocol's JSON error, with a sentence that quotes the case.
                let as_json = counted.load(Ordering::SeqCst) > 0;
                if let Ok(body) = echo_500(stream, as_json).await {
                    if body.contains(PHONE) {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });

    let mut config = (*common::config_in(dir)).clone();
    config.upstream.url = Some(format!("http://{address}"));
    config.upstream.kind = UpstreamKind::Native;
    config.upstream.token = Some("token-of-the-canary-station-01".into());
    let (backend, _events) = Backend::start(Arc::new(config)).expect("the backend starts");
    let filed = runtime
        .block_on(backend.submit(CaseDraft {
            service: "complaint".into(),
            description: DESCRIPTION.into(),
            phone: PHONE.into(),
            consent_version: Some(KioskConfig::builtin().consent.version),
            ..CaseDraft::default()
        }))
        .expect("the backend answers");
    filed.expect("the canary case is filed");
    // Staff's "retry now", twice: each answers at the end of a round of its own, after the round
    // has logged its refusal. Two refused rounds answered are two refusals in the log.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut refused_rounds = 0;
    while refused_rounds < 2 {
        assert!(
            Instant::now() < deadline,
            "the upstream did not refuse the canary twice"
        );
        let report = runtime
            .block_on(backend.retry_outbox())
            .expect("the outbox answers")
            .expect("the outbox drains");
        if report.retried + report.failed > 0 {
            refused_rounds += 1;
        }
    }
    assert!(
        seen.load(Ordering::SeqCst) >= 2,
        "the upstream saw the canary"
    );
    drop(backend);
    println!("{DONE}");
}

/// Reads one HTTP request and answers 500 echoing it: an HTML page with the request's body, or
/// (`as_json`) the protocol's JSON error quoting the phone number and the description. Returns
/// the body.
async fn echo_500(mut stream: tokio::net::TcpStream, as_json: bool) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let (head_end, length) = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(String::new());
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while data.len() < head_end + length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&data[head_end..]).into_owned();
    let (kind, page) = if as_json {
        let quoted = if body.contains(PHONE) {
            format!("cannot save the case of {PHONE}: {DESCRIPTION}")
        } else {
            "cannot save the case".to_owned()
        };
        (
            "application/json",
            serde_json::json!({ "error": quoted, "field": "phone" }).to_string(),
        )
    } else {
        (
            "text/html; charset=utf-8",
            format!("<html><body><h1>Internal Server Error</h1><pre>{body}</pre></body></html>"),
        )
    };
    let answer = format!(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: {kind}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    stream.write_all(answer.as_bytes()).await?;
    stream.shutdown().await?;
    Ok(body)
}
