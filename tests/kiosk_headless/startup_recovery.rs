//! A damaged database at start-up (issue 7, DESIGN.md §11): `Kiosk::open_at_start`, which the
//! kiosk's backend runs before anything else opens the file, checks it with `quick_check`, moves
//! a damaged one aside byte for byte (never deletes it), starts a fresh one that takes cases, and
//! leaves a notice for staff until they acknowledge it (audited). A sound database is left alone.

use crate::common;

use std::path::{Path, PathBuf};

use chrono::Utc;
use common::config_in;
use domain::CaseDraft;
use station::kiosk::Kiosk;
use station::store::DB_FILE;
use station::test_support::noise_complaint;

fn legal_advice(description: &str) -> CaseDraft {
    CaseDraft {
        service: "legal".into(),
        subtype: None,
        answers: Vec::new(),
        ..noise_complaint(description)
    }
}

/// The files in `dir` whose names start with `kiosk.sqlite3.damaged-`.
fn moved_aside(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{DB_FILE}.damaged-"))
        })
        .collect();
    found.sort();
    found
}

/// After the move: the fresh database is sound, takes a case, and carries one notice naming
/// where the old file went; a second start finds nothing wrong; staff clear the notice.
fn assert_recovered(dir: &Path, config: std::sync::Arc<station::config::KioskConfig>) {
    let (mut kiosk, _) = Kiosk::open_at_start(config.clone(), Utc::now()).unwrap();
    kiosk
        .store()
        .quick_check()
        .expect("the fresh database is sound");
    kiosk
        .file_case(&legal_advice("the fresh database takes cases"))
        .expect("a case is filed on the fresh database");
    let notices = kiosk.notices().unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].kind, "database-moved-aside");
    let aside = moved_aside(dir);
    assert!(
        notices[0].detail.contains(&aside[0].display().to_string()),
        "the notice says where the old file went: {}",
        notices[0].detail
    );
    assert!(kiosk.clear_notice(notices[0].id, Utc::now()).unwrap());
    assert!(kiosk.notices().unwrap().is_empty(), "cleared");
    assert!(
        !kiosk.clear_notice(notices[0].id, Utc::now()).unwrap(),
        "a notice is cleared once"
    );
    assert!(kiosk
        .audit_log(5)
        .unwrap()
        .iter()
        .any(|e| e.action == "notice-cleared"));
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside_untouched_and_a_fresh_one_takes_cases() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.path().join(DB_FILE), &garbage).unwrap();

    let (_, moved) = Kiosk::open_at_start(config.clone(), Utc::now()).unwrap();
    let moved = moved.expect("the damaged file was moved aside");
    assert_eq!(
        std::fs::read(&moved.to).unwrap(),
        garbage,
        "the damaged file is kept byte for byte"
    );
    assert_eq!(moved_aside(dir.path()), vec![moved.to.clone()]);
    assert!(moved.problem.contains("damaged"), "{}", moved.problem);
    assert_recovered(dir.path(), config);
}

#[test]
fn a_database_with_a_damaged_page_fails_quick_check_and_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    {
        let mut kiosk = Kiosk::open(config.clone()).unwrap();
        let long = "楼上装修噪音，每天到晚上十一点。".repeat(40);
        for _ in 0..60 {
            kiosk.file_case(&legal_advice(&long)).unwrap();
        }
    }
    let path = dir.path().join(DB_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    assert!(bytes.len() > 8 * page, "the database spans several pages");
    // Scribble over the middle of the file, past the header and the schema's first page.
    let middle = bytes.len() / 2 / page * page;
    for (i, b) in bytes[middle..middle + page].iter_mut().enumerate() {
        *b = (i * 13 % 256) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    let (_, moved) = Kiosk::open_at_start(config.clone(), Utc::now()).unwrap();
    let moved = moved.expect("the damaged database was moved aside");
    assert_eq!(std::fs::read(&moved.to).unwrap(), bytes, "kept as it was");
    assert!(
        moved.problem.starts_with("quick_check"),
        "{}",
        moved.problem
    );
    assert_recovered(dir.path(), config);
}

#[test]
fn a_sound_database_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path());
    let filed = Kiosk::open(config.clone())
        .unwrap()
        .file_case(&legal_advice("kept"))
        .unwrap();
    let (kiosk, moved) = Kiosk::open_at_start(config, Utc::now()).unwrap();
    assert_eq!(moved, None);
    assert!(moved_aside(dir.path()).is_empty());
    assert!(kiosk.notices().unwrap().is_empty());
    assert!(kiosk
        .store()
        .case_by_token(&filed.case.token)
        .unwrap()
        .is_some());
}
