//! A real full disk. The kiosk's data directory is a small tmpfs the test mounts, filled to its
//! last block by a file, so that SQLite's writes get `ENOSPC` from the kernel: not a page limit
//! SQLite keeps, not a fault injected into a library call. It meets the disk full at each stage
//! where a kiosk writes: the intake, a print job's state, the outbox's delivery, and the
//! write-ahead log's checkpoint. Each time the operation is refused as "the disk is full"
//! naming the directory, and nothing acknowledged is lost: once space is freed, every case filed
//! is there once, every slip prints, every case reaches the hub once.
//!
//! Mounting needs root, as the other store faults do (CI runs as root).

use crate::common::{config_in, SmallDisk};
use crate::hub_common::TestHub;
use crate::store_faults::{assert_intake_invariants, copies_of};

use std::path::Path;

use devices::printer::transport::VirtualPrinter;
use station::config::KioskConfig;
use station::kiosk::{Filed, Kiosk, KioskError};
use station::store::{PrintJobState, Store, StoreError, DB_FILE};
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;
use tempfile::TempDir;

/// The demo station's token, as the test's hub knows it.
const TOKEN: &str = "token-of-the-demo-station-full-disk";

/// Moves everything in the write-ahead log into the database and empties the log, so that the
/// next write has to take new blocks (a log that still has room would take it without asking
/// the file system for any).
fn empty_the_log(kiosk: &Kiosk) {
    kiosk
        .store()
        .connection()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let wal = kiosk
        .store()
        .path()
        .with_file_name(format!("{DB_FILE}-wal"));
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
}

fn assert_full(err: &KioskError, disk: &SmallDisk) {
    assert!(
        matches!(err, KioskError::Store(StoreError::Full(d)) if d == disk.path()),
        "a full disk is reported as full, naming the directory: {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&disk.path().display().to_string()) && message.contains("full"),
        "{message}"
    );
}

fn kiosk_on(disk: &SmallDisk) -> (std::sync::Arc<KioskConfig>, Kiosk) {
    let config = config_in(disk.path());
    let kiosk = Kiosk::open(config.clone()).expect("the kiosk opens on the small disk");
    (config, kiosk)
}

fn file(kiosk: &mut Kiosk, description: &str) -> Filed {
    kiosk
        .file_case(&noise_complaint(description))
        .expect("the kiosk files the case")
}

/// The state of the slip of `filed`'s case, as the database holds it.
fn job_state(kiosk: &Kiosk, filed: &Filed) -> String {
    kiosk
        .store()
        .connection()
        .query_row(
            "SELECT state FROM print_jobs WHERE case_id = ?1",
            [filed.case.id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

/// Every case in `filed` is in the database once, with its print job and outbox row.
fn assert_all_there(disk: &SmallDisk, filed: &[&Filed]) {
    let store = Store::open(disk.path()).expect("the database opens again");
    assert_intake_invariants(&store);
    let n = filed.len() as i64;
    assert_eq!(store.row_counts().unwrap(), (n, n, n));
    for f in filed {
        assert_eq!(
            copies_of(&store, &f.case.token),
            1,
            "{}",
            f.case.token.grouped()
        );
    }
}

#[test]
fn an_intake_on_a_full_disk_is_refused_and_the_cases_before_it_are_kept() {
    let disk = SmallDisk::new(4096);
    let (_, mut kiosk) = kiosk_on(&disk);
    let before = file(&mut kiosk, "楼上装修噪音，每天到晚上十一点");
    empty_the_log(&kiosk);
    assert!(disk.fill() > 0);

    let err = kiosk
        .file_case(&noise_complaint("隔壁狗叫一整夜"))
        .expect_err("no case is taken on a full disk");
    assert_full(&err, &disk);
    assert!(kiosk.store().connection().is_autocommit());
    assert_eq!(kiosk.store().row_counts().unwrap(), (1, 1, 1));

    // Space is freed: the same kiosk takes the case.
    disk.free();
    let after = file(&mut kiosk, "隔壁狗叫一整夜");
    drop(kiosk);
    assert_all_there(&disk, &[&before, &after]);
}

#[test]
fn a_slip_whose_state_cannot_be_written_waits_and_prints_once_there_is_room() {
    let disk = SmallDisk::new(4096);
    let (config, mut kiosk) = kiosk_on(&disk);
    let filed = file(&mut kiosk, "楼上装修噪音，每天到晚上十一点");
    // The printer's output is elsewhere: only the kiosk's database is on the full disk.
    let paper = TempDir::new().unwrap();
    let profile = config.printer_profile();
    let mut printer = VirtualPrinter::new(paper.path(), profile.dots_per_line);
    empty_the_log(&kiosk);
    disk.fill();

    let err = kiosk
        .print_pending(&mut printer, &profile, |_| {})
        .expect_err("the print job's state cannot be written");
    assert_full(&err, &disk);
    assert_eq!(job_state(&kiosk, &filed), "pending", "the slip still waits");

    disk.free();
    let pass = kiosk.print_pending(&mut printer, &profile, |_| {}).unwrap();
    let printed: Vec<_> = pass
        .outcomes
        .iter()
        .filter(|o| o.state == PrintJobState::Printed)
        .map(|o| o.token.clone())
        .collect();
    assert_eq!(printed, vec![filed.case.token.clone()], "{pass:?}");
    assert_eq!(job_state(&kiosk, &filed), "printed");
    drop(kiosk);
    assert_all_there(&disk, &[&filed]);
}

#[tokio::test]
async fn a_delivery_that_cannot_be_written_is_sent_again_and_the_hub_has_the_case_once() {
    let disk = SmallDisk::new(4096);
    let (config, mut kiosk) = kiosk_on(&disk);
    let station = config.station.id.clone();
    let hub = TestHub::start_with(|c| {
        let taken = std::mem::replace(c, hub::HubConfig::new(Path::new(".")));
        *c = taken.with_station(&station, TOKEN);
    })
    .await;
    let upstream = Upstream::new(&hub.base, station::config::UpstreamKind::Native, TOKEN);
    let filed = file(&mut kiosk, "楼上装修噪音，每天到晚上十一点");
    empty_the_log(&kiosk);
    disk.fill();

    let err = kiosk
        .drain_outbox(&upstream, true)
        .await
        .expect_err("the outbox cannot record the delivery");
    assert_full(&err, &disk);
    let counts = kiosk.outbox_counts().unwrap();
    assert_eq!(
        (counts.pending, counts.delivered),
        (1, 0),
        "the case still waits"
    );

    disk.free();
    let report = kiosk.drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(report.delivered, vec![filed.case.token.as_str().to_owned()]);
    assert_eq!(hub.count("cases"), 1, "the hub has the case once");
    drop(kiosk);
    assert_all_there(&disk, &[&filed]);
}

#[test]
fn a_checkpoint_on_a_full_disk_fails_and_the_log_keeps_every_case() {
    let disk = SmallDisk::new(4096);
    let (_, mut kiosk) = kiosk_on(&disk);
    empty_the_log(&kiosk);
    // Enough cases that copying them home makes the database file grow (12 kB each).
    let long = "楼上装修噪音很大".repeat(500);
    let filed: Vec<Filed> = (0..12).map(|_| file(&mut kiosk, &long)).collect();
    let wal = disk.path().join(format!("{DB_FILE}-wal"));
    assert!(std::fs::metadata(&wal).unwrap().len() > 100_000);
    disk.fill();

    // The kiosk's own checkpoint: the nightly erasure copies the log home and empties it.
    let now = kiosk.now();
    let err = kiosk
        .erase_expired(now)
        .expect_err("the checkpoint cannot grow the database");
    assert_full(&err, &disk);
    drop(kiosk);
    let everything: Vec<&Filed> = filed.iter().collect();
    assert_all_there(&disk, &everything);

    disk.free();
    let mut kiosk = Kiosk::open(config_in(disk.path())).unwrap();
    let now = kiosk.now();
    kiosk.erase_expired(now).unwrap();
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    drop(kiosk);
    assert_all_there(&disk, &everything);
}
