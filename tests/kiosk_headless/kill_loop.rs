//! The kiosk killed (SIGKILL) at random instants during a stream of intakes, hundreds of times
//! (issue 7, DESIGN.md §11): after each kill the database is opened as the restarted kiosk would,
//! `integrity_check` passes, and every case acknowledged so far (its code printed only after
//! `Kiosk::file_case` returned) is there exactly once, with its print job and its outbox row.
//!
//! The child is this same test, started again with `KILL_LOOP_CHILD` set: it then files cases
//! one after another on the shared data directory and prints each acknowledged code. The first
//! children are killed while the database is still being created and migrated.

use crate::common;
use crate::exec;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use domain::{CaseDraft, TrackingToken};
use station::config::KioskConfig;
use station::kiosk::Kiosk;
use station::store::Store;

const KILLS: usize = 200;
const CHILD: &str = "KILL_LOOP_CHILD";

/// The child: files cases until it is killed, printing each code once it is durable.
fn child_files_cases_until_killed(dir: &std::ffi::OsStr) -> ! {
    let config = common::config_in(std::path::Path::new(dir));
    let mut kiosk = Kiosk::open(config).expect("the child opens the kiosk");
    let draft = CaseDraft {
        service: "complaint".into(),
        subtype: Some("noise".into()),
        description: "楼上装修噪音，每天到晚上十一点".into(),
        phone: "13800138000".into(),
        consent_version: Some(KioskConfig::builtin().consent.version),
        ..CaseDraft::default()
    };
    let stdout = std::io::stdout();
    loop {
        let filed = kiosk.file_case(&draft).expect("the child files a case");
        use std::io::Write;
        let mut out = stdout.lock();
        writeln!(out, "ACK {}", filed.case.token.as_str()).unwrap();
        out.flush().unwrap();
    }
}

/// A small deterministic generator for the kill instants (the seed is printed on failure).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn every_acknowledged_case_survives_hundreds_of_random_kills_exactly_once() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child_files_cases_until_killed(&dir);
    }
    let dir = tempfile::tempdir().unwrap();
    // A new seed each run, printed (a failing run's output shows it); KILL_LOOP_SEED=N replays
    // the same kill instants.
    let seed = match std::env::var("KILL_LOOP_SEED") {
        Ok(given) => given
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("KILL_LOOP_SEED is not a number: {given:?}")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    println!("kill loop: KILL_LOOP_SEED={seed}");
    let mut rng = Lcg(seed);
    let spawn_child = |dir: &std::path::Path| {
        exec::program(std::env::current_exe().unwrap())
            .args([
                "--exact",
                &exec::test_name(
                    module_path!(),
                    "every_acknowledged_case_survives_hundreds_of_random_kills_exactly_once",
                ),
                "--nocapture",
            ])
            .env(CHILD, dir)
            .env("RUST_BACKTRACE", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long a child takes to acknowledge its first case here (milliseconds natively, far
    // longer under an emulator): the kill instants spread over three times that, so that most
    // land mid-stream whatever the machine. This calibration run's case is not counted.
    let window = {
        let calibration = tempfile::tempdir().unwrap();
        let started = std::time::Instant::now();
        let mut child = spawn_child(calibration.path());
        // The test harness's own lines ("running 1 test") come first.
        let acked = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()))
            .map_while(Result::ok)
            .any(|line| line.starts_with("ACK "));
        let first = started.elapsed();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(acked, "the calibration child acknowledged a case");
        (first * 3).max(Duration::from_millis(60))
    };
    let mut acknowledged: Vec<String> = Vec::new();
    let mut killed_mid_stream = 0;
    for round in 0..KILLS {
        let mut child = spawn_child(dir.path());
        // Anywhere from before the database is open to tens of cases in.
        std::thread::sleep(Duration::from_micros(rng.below(window.as_micros() as u64)));
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let before = acknowledged.len();
        // Only whole lines: a line cut by the kill was never an acknowledgement.
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            if let Some(code) = line.trim_end().strip_prefix("ACK ") {
                acknowledged.push(code.to_owned());
            }
        }
        if acknowledged.len() > before {
            killed_mid_stream += 1;
        }

        // The restarted kiosk's view.
        let store = Store::open(dir.path())
            .unwrap_or_else(|e| panic!("round {round} (seed {seed}): the database opens: {e}"));
        let integrity: String = store
            .connection()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "round {round} (seed {seed})");
        let orphans: i64 = store
            .connection()
            .query_row(
                "SELECT (SELECT count(*) FROM cases c WHERE
                           (SELECT count(*) FROM print_jobs p WHERE p.case_id = c.id) != 1
                        OR (SELECT count(*) FROM outbox o WHERE o.case_id = c.id) != 1)
                      + (SELECT count(*) FROM print_jobs p WHERE p.case_id IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = p.case_id))
                      + (SELECT count(*) FROM outbox o
                           WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = o.case_id))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            orphans, 0,
            "round {round} (seed {seed}): a half-written case"
        );
        for code in &acknowledged[before..] {
            let token = TrackingToken::parse(code).unwrap();
            let copies: i64 = store
                .connection()
                .query_row(
                    "SELECT count(*) FROM cases WHERE token = ?1",
                    [token.as_str()],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(copies, 1, "round {round} (seed {seed}): {code}");
        }
    }
    // Every acknowledged case, checked once more at the end, and no code twice.
    let store = Store::open(dir.path()).unwrap();
    let stored: HashSet<String> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT token FROM cases")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let distinct: HashSet<&String> = acknowledged.iter().collect();
    assert_eq!(
        distinct.len(),
        acknowledged.len(),
        "a code acknowledged twice"
    );
    for code in &acknowledged {
        assert!(stored.contains(code), "{code} was acknowledged and is gone");
    }
    eprintln!(
        "{KILLS} kills (seed {seed}): {} cases acknowledged, {} stored, {killed_mid_stream} kills \
         after at least one acknowledgement",
        acknowledged.len(),
        stored.len()
    );
    assert!(
        killed_mid_stream > KILLS / 4,
        "most kills should land mid-stream, not before the first case: {killed_mid_stream}"
    );
}
