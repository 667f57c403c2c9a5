//! The print queue against the printer emulator over a real pseudo-terminal: every fault of
//! the issue, caused for real. In every case the case is kept, the job's state and reason are
//! right, and no stale backlog prints after recovery.

use crate::common;

use std::time::Duration;

use chrono::Utc;
use common::config_in;
use devices::emulator::{Emulator, Script};
use devices::printer::serial::{SerialPrinter, Timeouts};
use devices::printer::transport::PrinterLink;
use slip::profile::{builtin, PrinterProfile};
use slip::status::PrinterState;
use station::kiosk::{Filed, Kiosk, PrintPass};
use station::store::PrintJobState;
use station::test_support::noise_complaint;

/// The line's limits in these tests: production's for a write and a finish, and a longer wait
/// for an answer than production's 300 ms, so that a busy machine starving the emulator's
/// thread cannot pass for a printer that does not answer.
const TIMEOUTS: Timeouts = Timeouts {
    answer: Duration::from_secs(1),
    write: Duration::from_secs(3),
    finish: Duration::from_secs(8),
};

struct Rig {
    _dir: tempfile::TempDir,
    kiosk: Kiosk,
    emulator: Emulator,
    printer: SerialPrinter,
    profile: PrinterProfile,
}

fn rig(script: Script) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let profile = builtin("cn-80mm").unwrap();
    let link = dir.path().join("printer");
    let emulator = Emulator::start(
        script,
        u32::from(profile.dots_per_line),
        profile.answers_gs_r,
        Some(&link),
    )
    .unwrap();
    let config = config_in(&dir.path().join("data"));
    let kiosk = Kiosk::open(config.clone()).unwrap();
    let printer = SerialPrinter::new(
        link.to_str().unwrap(),
        profile.serial,
        profile.answers_gs_r,
        TIMEOUTS,
    );
    Rig {
        _dir: dir,
        kiosk,
        emulator,
        printer,
        profile,
    }
}

impl Rig {
    fn file(&mut self) -> Filed {
        self.kiosk
            .file_case(&noise_complaint("楼上装修噪音"))
            .unwrap()
    }

    fn pass(&mut self) -> PrintPass {
        self.kiosk
            .print_pending(&mut self.printer, &self.profile, |_| {})
            .unwrap()
    }

    /// The state and reason of the case's latest print job, as stored.
    fn job(&self, filed: &Filed) -> (PrintJobState, Option<String>) {
        let stored = self
            .kiosk
            .store()
            .case_by_token(&filed.case.token)
            .unwrap()
            .expect("the case is kept");
        (stored.print_state, stored.print_reason)
    }

    /// Jobs the emulator printed to the end (cut, nothing lost).
    fn printed(&self) -> usize {
        self.emulator
            .jobs()
            .iter()
            .filter(|j| j.cut && j.lost_bytes == 0)
            .count()
    }
}

#[test]
fn the_status_of_every_scripted_state_is_read_correctly_and_silence_is_unknown() {
    for (script, expected) in [
        (Script::Ready, PrinterState::Ready),
        (Script::NearEnd, PrinterState::NearEnd),
        (Script::PaperOut, PrinterState::PaperOut),
        (Script::CoverOpen, PrinterState::CoverOpen),
        (Script::Offline, PrinterState::Offline),
        (Script::Silent, PrinterState::Unknown),
        (Script::Garbage, PrinterState::Unknown),
    ] {
        let mut r = rig(script);
        assert_eq!(r.printer.status().state(), expected, "{script}");
    }
}

#[test]
fn a_slip_over_the_serial_line_is_exactly_the_slip_bytes_and_scans() {
    let mut r = rig(Script::Ready);
    let filed = r.file();
    let pass = r.pass();
    assert_eq!(pass.printer_state(), PrinterState::Ready);
    assert_eq!(r.job(&filed), (PrintJobState::Printed, None));
    let jobs = r.emulator.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].bytes, r.kiosk.slip_bytes(&filed.case, &r.profile));
    assert_eq!(
        jobs[0].printout.qr_payloads(),
        vec![domain::qr_payload(&filed.url)]
    );
    assert!(jobs[0].png(576).is_ok());
}

#[test]
fn paper_out_before_a_job_keeps_the_case_and_prints_it_after_the_refill() {
    let mut r = rig(Script::PaperOut);
    let filed = r.file();
    let pass = r.pass();
    assert_eq!(pass.printer_state(), PrinterState::PaperOut);
    assert_eq!(
        r.job(&filed),
        (
            PrintJobState::Pending,
            Some("waiting: the printer is out of paper".into())
        )
    );
    assert_eq!(
        r.emulator.jobs().len(),
        0,
        "nothing was sent to a printer without paper"
    );
    // Polling again does not write the same reason over and over.
    assert!(r.pass().outcomes.is_empty());

    r.emulator.set_script(Script::Ready);
    let pass = r.kiosk.paper_refilled(&mut r.printer, &r.profile).unwrap();
    assert_eq!(pass.outcomes.last().unwrap().state, PrintJobState::Printed);
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
    assert_eq!(r.printed(), 1);
    assert!(
        r.kiosk.paper_estimate(&r.profile).unwrap().used_m > 0.05,
        "the slip's paper is counted"
    );
}

#[test]
fn paper_running_out_in_the_middle_of_a_job_leaves_it_waiting_then_prints_it_whole() {
    let mut r = rig(Script::PaperOutAfterLines(4));
    let filed = r.file();
    r.pass();
    let (state, reason) = r.job(&filed);
    assert_eq!(
        state,
        PrintJobState::Pending,
        "a half-printed slip is not printed"
    );
    assert!(reason.unwrap().contains("out of paper"));
    assert_eq!(r.printed(), 0);

    r.emulator.set_script(Script::Ready);
    r.kiosk.paper_refilled(&mut r.printer, &r.profile).unwrap();
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
    assert_eq!(r.printed(), 1, "the whole slip again, after the torn one");
}

#[test]
fn a_cover_opened_mid_job_leaves_it_waiting_until_the_cover_closes() {
    let mut r = rig(Script::CoverOpenAfterLines(3));
    let filed = r.file();
    let pass = r.pass();
    assert_eq!(pass.printer_state(), PrinterState::CoverOpen);
    let (state, reason) = r.job(&filed);
    assert_eq!(state, PrintJobState::Pending);
    assert!(reason.unwrap().contains("cover is open"));
    r.emulator.set_script(Script::Ready);
    r.pass();
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
}

#[test]
fn a_silent_printer_is_never_taken_for_ready_and_nothing_is_sent_to_it() {
    let mut r = rig(Script::Silent);
    let filed = r.file();
    let pass = r.pass();
    assert_eq!(pass.printer_state(), PrinterState::Unknown);
    assert_eq!(
        r.job(&filed),
        (
            PrintJobState::Pending,
            Some("waiting: the printer does not answer".into())
        )
    );
    assert!(r.emulator.jobs().is_empty());
}

#[test]
fn garbage_status_bytes_count_as_no_answer() {
    let mut r = rig(Script::Garbage);
    let filed = r.file();
    assert_eq!(r.pass().printer_state(), PrinterState::Unknown);
    assert_eq!(r.job(&filed).0, PrintJobState::Pending);
}

#[test]
fn a_write_that_stalls_times_out_and_the_job_waits() {
    let mut r = rig(Script::Ready);
    // Ready for the status questions, then the printer stops taking data mid-slip.
    r.printer.status();
    r.emulator.set_script(Script::Stall { after_bytes: 64 });
    let filed = r.file();
    // The pass comes back (a stalled printer does not hang the queue) with the job waiting.
    r.pass();
    let (state, reason) = r.job(&filed);
    assert_eq!(state, PrintJobState::Pending);
    let reason = reason.unwrap();
    assert!(
        reason.contains("stopped taking data") || reason.contains("does not answer"),
        "{reason}"
    );
}

#[test]
fn the_port_disappearing_mid_job_and_coming_back_prints_the_job_then() {
    let mut r = rig(Script::Ready);
    r.printer.status();
    // The slip starts going out over a slow line; the cable is pulled while it does.
    r.emulator.set_script(Script::Slow {
        bytes_per_second: 400,
    });
    let filed = r.file();
    let emulator = &r.emulator;
    let asked = emulator.received().len();
    std::thread::scope(|s| {
        s.spawn(|| {
            // Pulled once the slip's first bytes (its ESC @) have arrived: the job is under way.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let started = || {
                emulator.received()[asked..]
                    .windows(2)
                    .any(|w| w == b"\x1b@")
            };
            while !started() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the slip never started"
                );
                // (A poll's interval, not a wait standing in for the event.)
                std::thread::sleep(Duration::from_millis(2));
            }
            emulator.disconnect();
        });
        r.kiosk
            .print_pending(&mut r.printer, &r.profile, |_| {})
            .unwrap();
    });
    let (state, reason) = r.job(&filed);
    assert_eq!(state, PrintJobState::Pending, "{reason:?}");
    assert_eq!(r.printed(), 0);

    // The printer comes back on the same stable path.
    r.emulator.set_script(Script::Ready);
    r.emulator.reconnect().unwrap();
    let pass = r.pass();
    assert_eq!(pass.printer_state(), PrinterState::Ready);
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
    assert_eq!(r.printed(), 1);
}

#[test]
fn a_residents_control_bytes_never_reach_the_printer() {
    let mut r = rig(Script::Ready);
    let filed = r
        .kiosk
        .file_case(&noise_complaint(
            "噪音\u{1b}@\u{1d}V\u{0}\u{10}\u{4}\u{1}\u{9b}",
        ))
        .unwrap();
    r.pass();
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
    let received = r.emulator.received();
    let count = |needle: &[u8]| {
        received
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    };
    assert_eq!(count(&[0x1b, 0x40]), 1, "one ESC @, the encoder's own");
    assert_eq!(count(&[0x1d, 0x56, 0x00]), 0, "no injected full cut");
    assert!(r.emulator.jobs()[0].printout.warnings.is_empty());
}

#[test]
fn a_stale_backlog_is_not_printed_after_recovery_and_staff_can_reprint() {
    let mut r = rig(Script::PaperOut);
    let old = r.file();
    let older = r.file();
    r.pass();
    // The printer stayed out of paper for ten minutes: those residents have gone.
    let ten_minutes_ago = (Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    r.kiosk
        .store()
        .connection()
        .execute("UPDATE print_jobs SET created_at = ?1", [ten_minutes_ago])
        .unwrap();
    let fresh = r.file();

    r.emulator.set_script(Script::Ready);
    r.kiosk.paper_refilled(&mut r.printer, &r.profile).unwrap();
    assert_eq!(r.job(&old).0, PrintJobState::Suppressed);
    assert_eq!(r.job(&older).0, PrintJobState::Suppressed);
    assert!(r.job(&old).1.unwrap().contains("staff can reprint"));
    assert_eq!(
        r.job(&fresh).0,
        PrintJobState::Printed,
        "the slip filed just now prints"
    );
    assert_eq!(r.printed(), 1, "only the fresh slip came out");

    let pass = r
        .kiosk
        .reprint(old.case.token.as_str(), &mut r.printer, &r.profile)
        .unwrap();
    assert_eq!(pass.outcomes.last().unwrap().state, PrintJobState::Printed);
    assert_eq!(r.job(&old).0, PrintJobState::Printed);
    assert_eq!(r.printed(), 2);
}

#[test]
fn a_job_that_keeps_failing_is_marked_failed_and_stops_blocking_the_queue() {
    let mut r = rig(Script::PaperOutAfterLines(2));
    let filed = r.file();
    for _ in 0..station::kiosk::MAX_ATTEMPTS {
        r.pass();
        // Paper "comes back" just long enough to try again, and runs out again.
        r.emulator.set_script(Script::PaperOutAfterLines(2));
    }
    let (state, reason) = r.job(&filed);
    assert_eq!(state, PrintJobState::Failed);
    assert!(reason.unwrap().contains("gave up"));
    let events = r
        .kiosk
        .store()
        .print_job_events(
            r.kiosk
                .store()
                .latest_print_job(&filed.case.id.to_string())
                .unwrap()
                .unwrap(),
        )
        .unwrap();
    let printing = events
        .iter()
        .filter(|e| e.state == PrintJobState::Printing)
        .count();
    assert_eq!(
        printing as u32,
        station::kiosk::MAX_ATTEMPTS,
        "every try is in the history"
    );
}

#[test]
fn paper_printed_since_the_refill_warns_staff_before_the_roll_ends() {
    let mut r = rig(Script::Ready);
    let before = r.kiosk.paper_estimate(&r.profile).unwrap();
    assert!(!before.low);
    let filed = r.file();
    r.pass();
    assert_eq!(r.job(&filed).0, PrintJobState::Printed);
    let after_one = r.kiosk.paper_estimate(&r.profile).unwrap();
    let slip_m = before.left_m - after_one.left_m;
    assert!(
        (0.05..0.2).contains(&slip_m),
        "one slip is about 10 cm: {slip_m} m"
    );

    // Most of a 50 m roll later, the estimate warns (default: 5 m left).
    let dots_per_m = f64::from(r.profile.dots_per_mm) * 1000.0;
    r.kiosk
        .store()
        .add_paper_used((46.0 * dots_per_m) as u32)
        .unwrap();
    let late = r.kiosk.paper_estimate(&r.profile).unwrap();
    assert!(late.low, "{late:?}");

    r.kiosk.paper_refilled(&mut r.printer, &r.profile).unwrap();
    let fresh = r.kiosk.paper_estimate(&r.profile).unwrap();
    assert!(!fresh.low && fresh.left_m > 49.9 && fresh.refilled_at.is_some());
}
