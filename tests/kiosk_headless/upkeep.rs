//! The daily upkeep (issue 7, DESIGN.md §4), on a real SQLite file with a controlled clock:
//! personal data is erased once upstream has had the case for `[privacy] retention_days` (and an
//! appointment is that long past), from the file's bytes and not only from queries, while a case
//! upstream has not acknowledged keeps everything; the backup writes checked copies and keeps
//! `[backup] keep` of them.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::{Answer, CaseDraft, Language};
use station::config::KioskConfig;
use station::kiosk::Kiosk;
use station::store::{Erased, Store, DB_FILE};
use station::test_support::noise_complaint;

fn config(dir: &Path, keep: u32) -> Arc<KioskConfig> {
    let mut c = (*common::config_in(dir)).clone();
    c.backup.keep = keep;
    Arc::new(c)
}

/// A wage complaint whose employer and description carry `marker`, to find them in the files.
fn wage_case(marker: &str, phone: &str) -> CaseDraft {
    CaseDraft {
        subtype: Some("wages_owed".into()),
        answers: vec![
            Answer {
                question: "amount".into(),
                value: "5k_20k".into(),
            },
            Answer {
                question: "employer".into(),
                value: format!("{marker}-employer"),
            },
        ],
        phone: phone.into(),
        ..noise_complaint(&format!("{marker}-description: 老板拖欠三个月工资"))
    }
}

/// The database file and its write-ahead log, as bytes on the disk.
fn disk_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.join(DB_FILE)).unwrap();
    if let Ok(wal) = std::fs::read(dir.join(format!("{DB_FILE}-wal"))) {
        bytes.extend(wal);
    }
    bytes
}

fn on_disk(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn personal_data_is_erased_from_the_disk_after_the_retention_period_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 7);
    let now: DateTime<Utc> = Utc::now();
    let days = i64::from(config.privacy.retention_days);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();

    // Acknowledged by upstream a day past the retention period, within it, and never.
    let old = kiosk
        .file_case(&wage_case("MARKER-OLD", "13800000001"))
        .unwrap();
    let recent = kiosk
        .file_case(&wage_case("MARKER-RECENT", "13800000002"))
        .unwrap();
    let pending = kiosk
        .file_case(&wage_case("MARKER-PENDING", "13800000003"))
        .unwrap();
    let store = kiosk.store();
    store
        .outbox_delivered(old.record.outbox_id, "up-1", now - Duration::days(days + 1))
        .unwrap();
    store
        .outbox_delivered(
            recent.record.outbox_id,
            "up-2",
            now - Duration::days(days - 1),
        )
        .unwrap();

    // An appointment long past and one still to come.
    let long_ago = now - Duration::days(days + 10);
    let past_slot = kiosk.booking_slots("legal", 7, long_ago).unwrap()[0]
        .slot
        .id
        .clone();
    kiosk
        .book(
            "legal",
            &past_slot,
            "13900000001",
            Language::Zh,
            "cli",
            long_ago,
        )
        .unwrap();
    let next_slot = kiosk.booking_slots("legal", 7, now).unwrap()[0]
        .slot
        .id
        .clone();
    kiosk
        .book("legal", &next_slot, "13900000002", Language::Zh, "cli", now)
        .unwrap();
    // Before: the words are on the disk (in the file or its write-ahead log), so the check
    // after the erasure cannot pass for want of looking in the right place.
    assert!(on_disk(&disk_bytes(dir.path()), "MARKER-OLD-description"));

    let erased = kiosk.erase_expired(now).unwrap();
    assert_eq!(
        erased,
        Erased {
            cases: 1,
            bookings: 1
        }
    );

    let store = kiosk.store();
    let gone = store.case_by_token(&old.case.token).unwrap().unwrap();
    assert_eq!(gone.case.description, None);
    assert_eq!(gone.case.phone, None);
    assert_eq!(
        gone.case.answers,
        vec![Answer {
            question: "amount".into(),
            value: "5k_20k".into()
        }],
        "the tapped option stays, the typed employer goes"
    );
    for kept in [&recent, &pending] {
        let c = store.case_by_token(&kept.case.token).unwrap().unwrap();
        assert!(
            c.case
                .description
                .as_deref()
                .is_some_and(|d| d.contains("-description")),
            "{c:?}"
        );
        assert_eq!(c.case.answers.len(), 2);
        assert!(c.case.phone.is_some());
    }

    // Gone from the bytes on the disk, not only from the queries.
    let bytes = disk_bytes(dir.path());
    for needle in ["MARKER-OLD", "13800000001", "13900000001"] {
        assert!(!on_disk(&bytes, needle), "`{needle}` is still on the disk");
    }
    for needle in [
        "MARKER-RECENT-description",
        "MARKER-PENDING-employer",
        "13900000002",
    ] {
        assert!(on_disk(&bytes, needle), "`{needle}` should still be kept");
    }

    // Nothing more to do the next day… until the recent case's time comes.
    assert_eq!(kiosk.erase_expired(now).unwrap(), Erased::default());
    assert_eq!(
        kiosk.erase_expired(now + Duration::days(2)).unwrap().cases,
        1
    );
}

#[test]
fn backups_are_checked_copies_and_the_oldest_go_first() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), 2);
    let mut kiosk = Kiosk::open(config.clone()).unwrap();
    let filed = kiosk
        .file_case(&wage_case("MARKER-BACKUP", "13800000009"))
        .unwrap();
    let t0 = Utc::now();
    let mut reports = Vec::new();
    for day in 0..3 {
        reports.push(kiosk.backup(t0 + Duration::days(day)).unwrap());
    }
    assert_eq!(reports[2].kept, 2);
    assert_eq!(reports[2].removed, vec![reports[0].path.clone()]);
    assert!(!reports[0].path.exists());
    for r in &reports[1..] {
        let copy = Store::open_file(&r.path).expect("a backup opens as a kiosk database");
        copy.quick_check().expect("and is sound");
        assert!(
            copy.case_by_token(&filed.case.token).unwrap().is_some(),
            "with the case in it"
        );
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no partial files left behind: {names:?}");
}
