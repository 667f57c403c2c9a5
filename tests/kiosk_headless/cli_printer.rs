//! The printer commands of the CLI against the printer emulator on a pseudo-terminal, as the
//! issue's acceptance asks: `printer status` reads every scripted state, `case new` prints
//! exactly `slip bytes`, and a paper-out is waited through, refilled, suppressed when stale and
//! reprinted.

use crate::exec;

use std::path::Path;
use std::process::Output;

use devices::emulator::{Emulator, Script};
use serde_json::Value;
use station::store::Store;

/// The binary with a clean `KIOSK_*` environment, data in `data`, printer on `port`.
fn kiosk(data: &Path, port: &Path, args: &[&str]) -> Output {
    let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KIOSK_") {
            command.env_remove(name);
        }
    }
    command
        .env("KIOSK_DATA_DIR", data)
        .env("KIOSK_PRINTER_PORT", port)
        .current_dir(data)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(out: Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    serde_json::from_str(stdout.trim()).unwrap()
}

fn emulator(dir: &Path, script: Script) -> Emulator {
    // cn-80mm, the default profile: 576 dots, no GS r.
    Emulator::start(script, 576, false, Some(&dir.join("printer"))).unwrap()
}

#[test]
fn printer_status_reports_every_scripted_state_and_unknown_when_silent() {
    let dir = tempfile::tempdir().unwrap();
    for (script, expected) in [
        (Script::Ready, "ready"),
        (Script::NearEnd, "near_end"),
        (Script::PaperOut, "paper_out"),
        (Script::CoverOpen, "cover_open"),
        (Script::Offline, "offline"),
        (Script::Silent, "unknown"),
        (Script::Garbage, "unknown"),
    ] {
        let printer = emulator(dir.path(), script);
        let status = json(kiosk(
            dir.path(),
            &printer.port(),
            &["printer", "status", "--json"],
        ));
        assert_eq!(status["state"], expected, "{script}");
        let raw = status["raw"]
            .as_array()
            .expect("the raw answers are listed");
        assert_eq!(raw.len(), 4);
        match script {
            Script::Silent => assert!(raw.iter().all(Value::is_null), "{raw:?}"),
            _ => assert!(raw.iter().all(Value::is_u64), "{raw:?}"),
        }
        drop(printer);
    }
}

#[test]
fn case_new_prints_through_the_emulator_exactly_the_slip_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let printer = emulator(dir.path(), Script::Ready);
    let port = printer.port();
    let filed = json(kiosk(
        dir.path(),
        &port,
        &[
            "case",
            "new",
            "--service",
            "complaint",
            "--subtype",
            "noise",
            "--phone",
            "13800138000",
            "--json",
        ],
    ));
    assert_eq!(filed["print"], "printed");
    assert_eq!(filed["printer"], "ready");
    let token = filed["token"].as_str().unwrap();
    let bytes = kiosk(dir.path(), &port, &["slip", "bytes", token]);
    assert!(bytes.status.success());
    let jobs = printer.jobs();
    assert_eq!(jobs.len(), 1, "one slip came out");
    assert_eq!(
        jobs[0].bytes, bytes.stdout,
        "the printer got exactly `slip bytes`"
    );
    assert!(jobs[0].cut && jobs[0].lost_bytes == 0);
    assert!(
        jobs[0].png(576).is_ok(),
        "the emulator renders what it printed"
    );
}

#[test]
fn out_of_paper_case_new_waits_refilled_prints_stale_is_suppressed_and_reprint_prints() {
    let dir = tempfile::tempdir().unwrap();
    let printer = emulator(dir.path(), Script::PaperOut);
    let port = printer.port();
    let new_case = || {
        json(kiosk(
            dir.path(),
            &port,
            &[
                "case",
                "new",
                "--service",
                "complaint",
                "--anonymous",
                "--json",
            ],
        ))
    };

    // The case is taken; the slip waits.
    let first = new_case();
    assert_eq!(first["print"], "pending");
    assert_eq!(first["printer"], "paper_out");
    assert!(first["print_reason"]
        .as_str()
        .unwrap()
        .contains("out of paper"));
    assert!(printer.jobs().is_empty());

    // Refilled within the age limit: it prints.
    printer.set_script(Script::Ready);
    let refilled = json(kiosk(dir.path(), &port, &["printer", "refilled", "--json"]));
    assert_eq!(refilled["jobs"][0]["token"], first["token"]);
    assert_eq!(refilled["jobs"][0]["print"], "printed");
    assert_eq!(printer.jobs().len(), 1);

    // Out of paper again; this time the slip waits past the limit (ten minutes).
    printer.set_script(Script::PaperOut);
    let second = new_case();
    assert_eq!(second["print"], "pending");
    let store = Store::open(dir.path()).unwrap();
    store
        .connection()
        .execute(
            "UPDATE print_jobs SET created_at = ?1 WHERE state = 'pending'",
            [(chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339()],
        )
        .unwrap();
    printer.set_script(Script::Ready);
    let refilled = json(kiosk(dir.path(), &port, &["printer", "refilled", "--json"]));
    assert_eq!(refilled["jobs"][0]["print"], "suppressed", "{refilled}");
    assert_eq!(printer.jobs().len(), 1, "the stale slip did not come out");

    // Staff reprint it.
    let token = second["token"].as_str().unwrap();
    let reprinted = json(kiosk(
        dir.path(),
        &port,
        &["printer", "reprint", token, "--json"],
    ));
    assert_eq!(reprinted["jobs"][0]["print"], "printed", "{reprinted}");
    assert_eq!(printer.jobs().len(), 2);
    let shown = json(kiosk(dir.path(), &port, &["case", "show", token, "--json"]));
    assert_eq!(shown["print"], "printed");
}

#[test]
fn printer_test_fails_with_the_reason_when_the_printer_cannot_print() {
    let dir = tempfile::tempdir().unwrap();
    let printer = emulator(dir.path(), Script::CoverOpen);
    let out = kiosk(dir.path(), &printer.port(), &["printer", "test"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cover is open"), "{stderr}");
    printer.set_script(Script::Ready);
    let ok = json(kiosk(
        dir.path(),
        &printer.port(),
        &["printer", "test", "--json"],
    ));
    assert_eq!(ok["printed"], true);
    assert_eq!(printer.jobs().len(), 1);
}

#[test]
fn a_printer_port_that_cannot_open_is_unknown_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-printer-here");
    let status = json(kiosk(
        dir.path(),
        &missing,
        &["printer", "status", "--json"],
    ));
    assert_eq!(status["state"], "unknown");
    let problem = status["problem"].as_str().expect("the reason is given");
    assert!(problem.contains("no-printer-here"), "{problem}");
}
