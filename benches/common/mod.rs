//! What the hub's benches share: an HTTP client for loopback, timing a run of GETs, and writing
//! a bench's own part of BENCHMARKS.md between its markers.

use std::time::{Duration, Instant};

/// The commit measured (`git rev-parse --short HEAD`; empty outside a checkout).
pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The benches' runtime: two workers, the machine's two cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A client that goes straight to loopback (no proxy from the environment).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// The `q`-quantile of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The median and p99 of `runs` GETs of `path` with `auth` (a header) one after the other, each
/// answered 200 with `expect` in its body, and the last body's size. One untimed GET goes first:
/// the first request after a start reads its tables from disk and prepares its statements, which
/// a hub that has been up for a minute has done; the figures are of the hub at work.
pub async fn time_gets(
    base: &str,
    path: &str,
    auth: (&str, String),
    expect: &str,
    runs: usize,
) -> ((Duration, Duration), usize) {
    let client = client();
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    let warm_up = client
        .get(format!("{base}{path}"))
        .header(auth.0, &auth.1)
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(warm_up.status(), 200, "{path}");
    for _ in 0..runs {
        let started = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .header(auth.0, &auth.1)
            .send()
            .await
            .expect("the hub answers");
        assert_eq!(r.status(), 200, "{path}");
        let body = r.text().await.expect("a body");
        times.push(started.elapsed());
        assert!(body.contains(expect), "{path}: {expect} missing");
        size = body.len();
    }
    times.sort();
    ((percentile(&times, 0.5), percentile(&times, 0.99)), size)
}

/// BENCHMARKS.md with the part between `start` and `end` replaced by `md` (which holds both
/// markers), or `md` added before the tests' part when there is none yet.
pub fn write_section(md: &str, start: &str, end: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(start), old.find(end)) {
        (Some(a), Some(b)) if a < b => format!("{}{md}{}", &old[..a], &old[b + end.len()..]),
        _ => match old.find("<!-- measured by tests") {
            Some(at) => format!("{}{md}\n\n{}", &old[..at], &old[at..]),
            None => format!("{old}\n{md}\n"),
        },
    };
    std::fs::write(path, new).expect("BENCHMARKS.md is written");
}

/// The machine, in words: its processor and how many of them.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "an unknown processor".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores of {cpu}")
}
