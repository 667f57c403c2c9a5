//! Faults the store meets on a kiosk, against real SQLite files in temporary directories: a
//! failure at any statement of the intake transaction, SQLite at its page limit, a data directory that
//! cannot be written, and processes killed after acknowledging a case (DESIGN.md §4, §11). After
//! each fault the same invariants must hold: every case has its print job and its outbox row,
//! nothing is orphaned, the file is sound, and every acknowledged case is there exactly once.

use crate::common;
use crate::exec;

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::os::raw::{c_int, c_void};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::Utc;
use common::config_in;
use domain::case::{IntakeRules, NewCaseIdentity};
use domain::{Case, TrackingToken};
use rusqlite::ffi;
use station::config::KioskConfig;
use station::kiosk::{new_token, Kiosk, KioskError};
use station::store::{Store, StoreError, DB_FILE};
use station::test_support::noise_complaint;
use tempfile::TempDir;
use uuid::Uuid;

/// The invariants of the intake (DESIGN.md §4, §11): every case has exactly one print job and
/// exactly one outbox row, no print job or outbox row points at a missing case, SQLite's own
/// foreign key and integrity checks are clean.
pub(crate) fn assert_intake_invariants(store: &Store) {
    let conn = store.connection();
    let strings = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let incomplete = strings(
        "SELECT c.token || ': ' || (SELECT count(*) FROM print_jobs p WHERE p.case_id = c.id)
                || ' print jobs, ' || (SELECT count(*) FROM outbox o WHERE o.case_id = c.id)
                || ' outbox rows'
         FROM cases c
         WHERE (SELECT count(*) FROM print_jobs p WHERE p.case_id = c.id) != 1
            OR (SELECT count(*) FROM outbox o WHERE o.case_id = c.id) != 1",
    );
    assert!(
        incomplete.is_empty(),
        "cases without exactly one print job and one outbox row: {incomplete:?}"
    );
    let orphans = strings(
        "SELECT 'print job ' || id FROM print_jobs
         WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = print_jobs.case_id)
         UNION ALL
         SELECT 'outbox row ' || id FROM outbox
         WHERE case_id IS NULL OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = outbox.case_id)",
    );
    assert!(orphans.is_empty(), "orphan rows: {orphans:?}");
    let fk_problems = strings("SELECT \"table\" || ' row ' || rowid FROM pragma_foreign_key_check");
    assert!(fk_problems.is_empty(), "foreign_key_check: {fk_problems:?}");
    assert_eq!(
        strings("PRAGMA integrity_check"),
        ["ok"],
        "integrity_check of {}",
        store.path().display()
    );
}

/// How many times a token is stored (0 or 1, if the UNIQUE constraint does its job).
pub(crate) fn copies_of(store: &Store, token: &TrackingToken) -> i64 {
    store
        .connection()
        .query_row(
            "SELECT count(*) FROM cases WHERE token = ?1",
            [token.as_str()],
            |r| r.get(0),
        )
        .unwrap()
}

/// A new case built the way `Kiosk::file_case` builds one.
fn new_case(config: &KioskConfig, description: &str) -> Case {
    let rules = IntakeRules {
        catalogue: &config.catalogue,
        risk: &config.risk,
        consent_version: &config.consent.version,
    };
    let identity = NewCaseIdentity {
        id: Uuid::now_v7(),
        token: new_token().unwrap(),
        created_at: Utc::now(),
        station_id: config.station.id.clone(),
    };
    Case::from_draft(&noise_complaint(description), &rules, identity).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The intake transaction is atomic at every statement, shown two independent ways.

/// Makes one statement of the intake fail: a trigger that aborts every insert into `table`.
/// `RAISE(ABORT)` undoes only the failing statement and leaves the transaction open, so this
/// checks that the store itself rolls back what the earlier statements wrote.
fn inject_abort_on_insert_into(store: &Store, table: &str) {
    store
        .connection()
        .execute_batch(&format!(
            "CREATE TRIGGER injected_fault BEFORE INSERT ON {table}
             BEGIN SELECT RAISE(ABORT, 'injected'); END;"
        ))
        .unwrap();
}

fn remove_injected_fault(store: &Store) {
    store
        .connection()
        .execute_batch("DROP TRIGGER injected_fault")
        .unwrap();
}

#[test]
fn a_failure_at_any_insert_of_the_intake_leaves_no_partial_case() {
    let config = KioskConfig::builtin();
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut acknowledged = Vec::new();
    for table in ["cases", "print_jobs", "outbox"] {
        // One case already filed before each fault: it must come through untouched.
        let before = new_case(&config, "装修噪音");
        store.insert_intake(&before).unwrap();
        acknowledged.push(before);
        let counts = store.row_counts().unwrap();

        let victim = new_case(&config, "夜间施工");
        inject_abort_on_insert_into(&store, table);
        let err = store
            .insert_intake(&victim)
            .expect_err("the injected fault makes the intake fail");
        assert!(
            matches!(&err, StoreError::Sqlite(e) if e.to_string().contains("injected")),
            "the failure at {table} is the injected one: {err:?}"
        );
        assert!(
            store.connection().is_autocommit(),
            "the failed intake at {table} left its transaction open"
        );
        remove_injected_fault(&store);

        assert_eq!(store.row_counts().unwrap(), counts, "fault at {table}");
        assert_eq!(copies_of(&store, &victim.token), 0, "fault at {table}");
        assert_intake_invariants(&store);
        // Nothing of the failed attempt remains to get in the way of filing it again.
        store.insert_intake(&victim).unwrap();
        acknowledged.push(victim);
        assert_intake_invariants(&store);
    }
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_intake_invariants(&store);
    let n = acknowledged.len() as i64;
    assert_eq!(store.row_counts().unwrap(), (n, n, n));
    for case in &acknowledged {
        assert_eq!(copies_of(&store, &case.token), 1);
    }
}

#[test]
fn a_commit_that_is_refused_leaves_no_partial_case() {
    // The last statement of the intake is COMMIT. Deferred foreign keys are checked there: a
    // trigger adds a print job for a case that does not exist, so every insert succeeds and the
    // COMMIT itself fails, with the transaction still open (SQLite keeps it open for the caller
    // to fix or roll back). The store must roll it back.
    let config = KioskConfig::builtin();
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let before = new_case(&config, "装修噪音");
    store.insert_intake(&before).unwrap();
    store
        .connection()
        .execute_batch(
            "CREATE TRIGGER injected_fault AFTER INSERT ON outbox
             BEGIN
                 INSERT INTO print_jobs (case_id, state, created_at, updated_at)
                 VALUES ('no such case', 'pending', '', '');
             END;
             PRAGMA defer_foreign_keys = ON;",
        )
        .unwrap();
    let deferred: i64 = store
        .connection()
        .query_row("PRAGMA defer_foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        deferred, 1,
        "without deferral the fault would hit an INSERT, not the COMMIT"
    );
    let victim = new_case(&config, "夜间施工");
    let err = store
        .insert_intake(&victim)
        .expect_err("the COMMIT is refused");
    assert!(
        err.to_string().contains("FOREIGN KEY"),
        "the failure is the deferred foreign key check at COMMIT: {err:?}"
    );
    assert!(store.connection().is_autocommit());
    remove_injected_fault(&store);
    assert_eq!(store.row_counts().unwrap(), (1, 1, 1));
    assert_eq!(copies_of(&store, &victim.token), 0);
    assert_intake_invariants(&store);
    store.insert_intake(&victim).unwrap();
    assert_intake_invariants(&store);
    assert_eq!(store.row_counts().unwrap(), (2, 2, 2));
}

/// SQLite calls this from its virtual machine; it interrupts the running statement on the
/// `stop_at`-th call, once, like one `sqlite3_interrupt`: what the store runs after that to clean
/// up (a ROLLBACK, a look at the file) runs normally.
struct Countdown {
    calls: Cell<u64>,
    stop_at: u64,
}

extern "C" fn progress(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `Countdown` that `with_interrupt_at` registered; it outlives the
    // registration, and SQLite calls this on the thread that runs the statement.
    let countdown = unsafe { &*(arg as *const Countdown) };
    let call = countdown.calls.get() + 1;
    countdown.calls.set(call);
    c_int::from(call == countdown.stop_at)
}

/// Removes the progress handler when dropped, also when the test panics.
struct RemoveProgressHandler(*mut ffi::sqlite3);

impl Drop for RemoveProgressHandler {
    fn drop(&mut self) {
        // SAFETY: the handle belongs to a store that outlives this guard (see below).
        unsafe { ffi::sqlite3_progress_handler(self.0, 0, None, std::ptr::null_mut()) };
    }
}

/// Runs `f` with the store's connection set to interrupt whatever it runs at the `stop_at`-th
/// virtual machine step, and returns what `f` returned and the number of steps counted.
///
/// rusqlite wraps `sqlite3_progress_handler` only behind its `hooks` feature, which this crate
/// does not enable; the C function is called directly instead, on the store's own connection.
/// With a period of 1 SQLite counts every VM instruction and calls the handler once per
/// instruction at its next check (jumps and the end of each statement), so stopping at call N,
/// for N = 1, 2, 3, …, visits every point where SQLite can stop the transaction.
fn with_interrupt_at<T>(
    store: &mut Store,
    stop_at: u64,
    f: impl FnOnce(&mut Store) -> T,
) -> (T, u64) {
    let countdown = Countdown {
        calls: Cell::new(0),
        stop_at,
    };
    // SAFETY: the handle is valid while `store` lives, which is longer than this function since
    // it is borrowed for all of it; the handler is removed (by the guard, declared after
    // `countdown` and so dropped before it) before `countdown` goes away.
    let db = unsafe { store.connection().handle() };
    unsafe {
        ffi::sqlite3_progress_handler(
            db,
            1,
            Some(progress),
            &countdown as *const Countdown as *mut c_void,
        )
    };
    let _remove = RemoveProgressHandler(db);
    let result = f(store);
    (result, countdown.calls.get())
}

#[test]
fn an_intake_interrupted_after_any_number_of_steps_is_all_or_nothing() {
    let config = KioskConfig::builtin();
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let before = new_case(&config, "装修噪音");
    store.insert_intake(&before).unwrap();
    let case = new_case(&config, "夜间施工，孩子睡不着。\n已经三个月了。");

    let mut stop_at = 1;
    loop {
        let (result, _) = with_interrupt_at(&mut store, stop_at, |s| s.insert_intake(&case));
        assert_intake_invariants(&store);
        assert_eq!(copies_of(&store, &before.token), 1);
        match result {
            // The first success may be an intake whose COMMIT had taken effect when the
            // interrupt came (SQLite checks once more as a statement ends): the store must then
            // report it as filed, since it is durable, and the checks below hold either way.
            Ok(_) => break,
            Err(err) => {
                assert!(
                    err.to_string().contains("interrupt"),
                    "interrupted at step {stop_at}: {err:?}"
                );
                assert!(
                    store.connection().is_autocommit(),
                    "step {stop_at}: {err:?}"
                );
                assert_eq!(
                    (store.row_counts().unwrap(), copies_of(&store, &case.token)),
                    ((1, 1, 1), 0),
                    "an intake interrupted at step {stop_at} left something behind"
                );
            }
        }
        stop_at += 1;
        assert!(stop_at < 10_000, "the intake never finished");
    }
    // The sweep covered the whole transaction: an intake left alone takes as many steps as the
    // sweep went through, so every earlier stopping point was tried and failed cleanly.
    let (result, steps) = with_interrupt_at(&mut store, u64::MAX, |s| {
        s.insert_intake(&new_case(&config, "施工噪音"))
    });
    result.unwrap();
    assert!(
        stop_at >= steps,
        "the intake takes {steps} steps but succeeded when interrupted at step {stop_at}"
    );
    eprintln!("an intake takes {steps} VM steps; the sweep succeeded at step {stop_at}");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_intake_invariants(&store);
    assert_eq!(store.row_counts().unwrap(), (3, 3, 3));
    assert_eq!(copies_of(&store, &case.token), 1);
    assert_eq!(
        store.case_by_token(&case.token).unwrap().unwrap().case,
        case
    );
}

// ---------------------------------------------------------------------------------------------
// Bad conditions a kiosk meets.

#[test]
fn a_database_at_its_page_limit_is_reported_as_full_and_loses_nothing_acknowledged() {
    let dir = TempDir::new().unwrap();
    let config = config_in(dir.path());
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    // SQLite's own limit (the file system never says no here; `full_disk.rs` fills a real
    // one): the database may grow by a few pages only. Long descriptions (4000 characters,
    // 12 kB each) fill them after a few cases.
    let pages: i64 = kiosk
        .store()
        .connection()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let limit: i64 = kiosk
        .store()
        .connection()
        .query_row(
            &format!("PRAGMA max_page_count = {}", pages + 20),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(limit, pages + 20);
    let long = noise_complaint(&"楼上装修噪音很大".repeat(500));
    let mut acknowledged = Vec::new();
    let err = loop {
        match kiosk.file_case(&long) {
            Ok(filed) => acknowledged.push(filed.case.token),
            Err(e) => break e,
        }
        assert!(acknowledged.len() < 100, "the disk never filled up");
    };
    assert!(
        !acknowledged.is_empty(),
        "the limit left no room at all; the test shows nothing"
    );
    assert!(
        matches!(&err, KioskError::Store(StoreError::Full(d)) if d == dir.path()),
        "a full disk must be reported as such: {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()) && message.contains("full"),
        "{message}"
    );
    assert!(kiosk.store().connection().is_autocommit());
    let n = acknowledged.len() as i64;
    assert_eq!(kiosk.store().row_counts().unwrap(), (n, n, n));
    assert_intake_invariants(kiosk.store());

    // Space is freed: the same kiosk takes cases again.
    kiosk
        .store()
        .connection()
        .execute_batch("PRAGMA max_page_count = 1073741823")
        .unwrap();
    acknowledged.push(kiosk.file_case(&long).unwrap().case.token);

    drop(kiosk);
    let store = Store::open(dir.path()).unwrap();
    assert_intake_invariants(&store);
    let n = acknowledged.len() as i64;
    assert_eq!(store.row_counts().unwrap(), (n, n, n));
    for token in &acknowledged {
        assert_eq!(copies_of(&store, token), 1, "{}", token.grouped());
    }
}

// We run as root, and chmod does not stop root, so an unwritable data directory is made of
// kernel file systems that refuse to create files for anyone. Both always exist on Linux.

#[test]
fn a_data_directory_that_cannot_be_created_is_reported_read_only() {
    // sysfs refuses mkdir to everyone (EPERM; EROFS where /sys is mounted read-only, as in most
    // containers): the kiosk's first start on a read-only or locked-down file system.
    let data_dir = Path::new("/sys/grievance-kiosk-data");
    let err = Kiosk::open(config_in(data_dir))
        .err()
        .expect("nothing can be created under /sys");
    assert!(
        matches!(&err, KioskError::Store(StoreError::ReadOnly(d)) if d == data_dir),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("/sys/grievance-kiosk-data") && message.contains("cannot be written"),
        "{message}"
    );
    assert!(!data_dir.exists());
}

#[test]
fn a_data_directory_where_no_file_can_be_created_is_reported_with_its_path() {
    // /proc/self is a directory, so "creating" the data directory succeeds, but procfs refuses
    // to create the database file in it (ENOENT; SQLite then tries read-only, which fails too):
    // SQLITE_CANTOPEN, the same as a directory whose permissions lock the kiosk out.
    let data_dir = Path::new("/proc/self");
    let err = Store::open(data_dir)
        .err()
        .expect("no file can be created in /proc/self");
    assert!(
        matches!(&err, StoreError::CannotOpen { path, .. } if path == &data_dir.join(DB_FILE)),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("/proc/self/kiosk.sqlite3"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Durability across processes.

#[test]
fn cases_acknowledged_by_killed_processes_are_there_exactly_once() {
    let dir = TempDir::new().unwrap();
    let mut acknowledged = Vec::new();
    for _ in 0..3 {
        let mut child = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"))
            .args([
                "case",
                "new",
                "--service",
                "complaint",
                "--phone",
                "13800138000",
                "--json",
            ])
            .env("KIOSK_DATA_DIR", dir.path())
            .env_remove("KIOSK_CONFIG")
            .env_remove("KIOSK_PRINTER_PORT")
            .env_remove("KIOSK_UPSTREAM_URL")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // The case is acknowledged: SIGKILL the process at once. If it is still running it dies
        // without closing the database (no final checkpoint, the WAL left as it is); it may
        // also have exited already, which proves less but nothing different. The SIGKILL loop
        // at random instants is a later issue.
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let reply: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "`case new --json` printed {line:?} ({e}); stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let token = reply["token"].as_str().expect("the reply has a token");
        acknowledged.push(TrackingToken::parse(token).unwrap());
    }
    let distinct: HashSet<&str> = acknowledged.iter().map(TrackingToken::as_str).collect();
    assert_eq!(distinct.len(), acknowledged.len());

    let store = Store::open(dir.path()).unwrap();
    assert_intake_invariants(&store);
    let n = acknowledged.len() as i64;
    assert_eq!(store.row_counts().unwrap(), (n, n, n));
    for token in &acknowledged {
        assert_eq!(copies_of(&store, token), 1, "{}", token.grouped());
        let stored = store.case_by_token(token).unwrap().unwrap();
        assert_eq!(stored.case.phone.unwrap().as_str(), "13800138000");
    }
}

/// A disk whose syncs fail (libfiu's `fiu-run`, Debian's `fiu-utils`, which `scripts/test`
/// installs): the intake reports the failure and acknowledges nothing; the file stays sound and
/// the next intake, on a healthy disk, works. SQLite as built into the kiosk syncs with
/// `fsync` (the system's `sqlite3` uses `fdatasync`): both are failed.
#[test]
fn a_failing_sync_is_reported_and_nothing_is_acknowledged() {
    let fiu_run = ["/usr/bin/fiu-run", "/usr/local/bin/fiu-run"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("fiu-run is installed (apt-get install fiu-utils; scripts/test does it)");
    let dir = TempDir::new().unwrap();
    let kiosk = |wrapped: bool, phone: &str| {
        let bin = env!("CARGO_BIN_EXE_grievance-kiosk");
        let args = [
            "case",
            "new",
            "--service",
            "complaint",
            "--phone",
            phone,
            "--json",
        ];
        let mut command = if wrapped {
            let mut c = Command::new(fiu_run);
            c.args([
                "-x",
                "-c",
                "enable name=posix/io/sync/fsync",
                "-c",
                "enable name=posix/io/sync/fdatasync",
            ]);
            // Under an emulator (scripts/test-aarch64) the preloaded libraries must be the
            // target's, loaded by the guest's loader into the kiosk: loaded into the emulator
            // they would only see its own syncs. The script unpacks them and says where.
            if let Ok(preload) = std::env::var("GRIEVANCE_TEST_FIU_PRELOAD_DIR") {
                c.arg("-l").arg(preload);
            }
            if let Ok(libraries) = std::env::var("GRIEVANCE_TEST_FIU_LIBRARY_DIR") {
                c.env("LD_LIBRARY_PATH", libraries);
            }
            c.args(exec::argv(bin));
            c
        } else {
            exec::program(bin)
        };
        command
            .args(args)
            .env("KIOSK_DATA_DIR", dir.path())
            .env_remove("KIOSK_CONFIG")
            .env_remove("KIOSK_PRINTER_PORT")
            .env_remove("KIOSK_UPSTREAM_URL")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = kiosk(false, "13800138000");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let failed = kiosk(true, "13800138001");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "the intake must fail when the disk cannot sync"
    );
    assert!(
        failed.stdout.is_empty(),
        "nothing acknowledged: {}",
        String::from_utf8_lossy(&failed.stdout)
    );
    assert!(
        stderr.contains("failed to read or write") && stderr.contains("not saved"),
        "the error says what happened: {stderr}"
    );

    let store = Store::open(dir.path()).unwrap();
    assert_intake_invariants(&store);
    assert_eq!(
        store.row_counts().unwrap(),
        (1, 1, 1),
        "the failed case is not there"
    );
    drop(store);
    let again = kiosk(false, "13800138002");
    assert!(again.status.success(), "a healthy disk takes cases again");
}
