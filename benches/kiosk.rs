//! The kiosk's budgets (DESIGN.md §10), measured and written to BENCHMARKS.md.
//!
//! Run with `cargo bench --bench kiosk`. Figures are medians (and p99 where the budget is a
//! tail) over repeated runs on this machine; the file says which machine and which commit.
//! Nothing here asserts a time: a shared machine is noisy, so budgets are read, not enforced.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use grievance_kiosk::app::screenshot::{frame_times, ScreenName, Shot};
use grievance_kiosk::config::KioskConfig;
use grievance_kiosk::domain::{CaseDraft, Channel, Language};
use grievance_kiosk::kiosk::{sample_slip_content, Kiosk};
use grievance_kiosk::printer::profile::builtin_profiles;

const INTAKES: usize = 1000;
const STARTS: usize = 15;
const FRAMES: usize = 15;
const STATUS_ROUNDS: usize = 200;
const SUBMITS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
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
    CaseDraft {
        service: "complaint".into(),
        subtype: Some("noise".into()),
        description: format!("楼上装修噪音，每天到晚上十一点（第 {i} 次反映）"),
        phone: "13800138000".into(),
        consent_version: Some(KioskConfig::builtin().consent.version),
        language: Language::Zh,
        channel: Channel::Kiosk,
        ..CaseDraft::default()
    }
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
    use grievance_kiosk::printer::emulator::{Emulator, Script};
    use grievance_kiosk::printer::serial::{SerialPrinter, Timeouts};
    use grievance_kiosk::printer::transport::PrinterLink;
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = grievance_kiosk::printer::profile::builtin("cn-80mm").expect("profile");
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

fn main() {
    let mut md = String::new();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    writeln!(md, "# Benchmarks\n").unwrap();
    writeln!(
        md,
        "Written by `cargo bench --bench kiosk` (benches/kiosk.rs) at commit `{commit}`, on {cpu}, \
         {cores} cores, a shared development machine: read the figures as orders of magnitude \
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
        let en_bytes = grievance_kiosk::printer::encode(
            &grievance_kiosk::printer::layout(&sample, &profile),
            &profile,
        )
        .len();
        let native = matches!(
            profile.qr,
            grievance_kiosk::printer::profile::QrMode::Native { .. }
        );
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
        "| slip with QR, native QR profile | ≤ 700 bytes | {native_worst} bytes at most | the slip of a filed complaint (Chinese) and the English sample, per profile below |\n"
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
        "Not measured yet (their issues are open): pinyin candidates, outbox drain, hub tracking \
         page."
    )
    .unwrap();

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    std::fs::write(path, &md).expect("BENCHMARKS.md is written");
    print!("{md}");
}
