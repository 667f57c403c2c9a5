//! The store against real SQLite files in temporary directories: connection settings,
//! migrations, what opening a bad file does, the intake's outbox priority, token collisions,
//! round trips, and the print queue's order. Faults injected into the intake transaction, a full
//! disk, an unwritable directory and killed processes are in `tests/kiosk_headless/store_faults.rs`.

use std::path::Path;

use chrono::{DateTime, Utc};
use tempfile::TempDir;
use uuid::Uuid;

use super::migrations::LATEST;
use super::{PrintJobState, Store, StoreError, DB_FILE};
use crate::config::KioskConfig;
use crate::kiosk::{new_token, Kiosk};
use domain::case::{IntakeRules, NewCaseIdentity};
use domain::{Answer, Case, CaseDraft, Channel, Language, RiskLevel, RiskReason, TrackingToken};

fn config() -> KioskConfig {
    KioskConfig::builtin()
}

/// A case of the built-in demo station, validated the way `Kiosk::file_case` does it.
fn case_at(draft: &CaseDraft, token: TrackingToken, created_at: DateTime<Utc>) -> Case {
    let config = config();
    let rules = IntakeRules {
        catalogue: &config.catalogue,
        risk: &config.risk,
        consent_version: &config.consent.version,
    };
    let identity = NewCaseIdentity {
        id: Uuid::now_v7(),
        token,
        created_at,
        station_id: config.station.id.clone(),
    };
    Case::from_draft(draft, &rules, identity).expect("the draft is a valid case")
}

fn case(draft: &CaseDraft) -> Case {
    case_at(draft, new_token().expect("random source"), Utc::now())
}

/// A noise complaint with a phone number: risk normal.
fn noise_draft() -> CaseDraft {
    CaseDraft {
        service: "complaint".into(),
        subtype: Some("noise".into()),
        answers: vec![
            Answer {
                question: "source".into(),
                value: "renovation".into(),
            },
            Answer {
                question: "when".into(),
                value: "night".into(),
            },
        ],
        description: "楼上装修，晚上很吵。".into(),
        phone: "13800138000".into(),
        consent_version: Some(config().consent.version),
        ..CaseDraft::default()
    }
}

fn draft_with_description(description: &str) -> CaseDraft {
    CaseDraft {
        description: description.into(),
        ..noise_draft()
    }
}

fn pragma_i64(store: &Store, name: &str) -> i64 {
    store
        .connection()
        .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("PRAGMA {name}: {e}"))
}

fn assert_connection_settings(store: &Store, when: &str) {
    let mode: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "journal_mode on a {when} store");
    assert_eq!(
        pragma_i64(store, "synchronous"),
        2,
        "synchronous on a {when} store must be FULL (2): a commit is on disk when it returns"
    );
    assert_eq!(
        pragma_i64(store, "foreign_keys"),
        1,
        "foreign_keys on a {when} store"
    );
}

#[test]
fn every_connection_runs_wal_with_full_sync_and_foreign_keys() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_connection_settings(&store, "fresh");
    // A second connection on the same file while the first is open, as the print queue opens
    // one beside the intake's: synchronous and foreign_keys are per connection, not per file.
    let beside = Store::open(dir.path()).unwrap();
    assert_connection_settings(&beside, "second");
    drop((store, beside));
    let reopened = Store::open(dir.path()).unwrap();
    assert_connection_settings(&reopened, "reopened");
}

#[test]
fn a_new_database_is_at_the_latest_schema_version() {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.path(), dir.path().join(DB_FILE));
    assert_eq!(pragma_i64(&store, "user_version"), LATEST);
    assert_eq!(store.row_counts().unwrap(), (0, 0, 0));
    assert_eq!(store.quick_check(), Ok(()));
}

#[test]
fn reopening_migrates_nothing_and_keeps_the_data() {
    let dir = TempDir::new().unwrap();
    let filed = case(&noise_draft());
    let schema_of = |store: &Store| -> Vec<String> {
        let mut stmt = store
            .connection()
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    let schema = {
        let mut store = Store::open(dir.path()).unwrap();
        store.insert_intake(&filed).unwrap();
        schema_of(&store)
    };
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(pragma_i64(&reopened, "user_version"), LATEST);
    assert_eq!(schema_of(&reopened), schema, "reopening changed the schema");
    assert_eq!(reopened.row_counts().unwrap(), (1, 1, 1));
    assert_eq!(
        reopened.case_by_token(&filed.token).unwrap().unwrap().case,
        filed
    );
}

#[test]
fn a_database_from_a_newer_kiosk_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
    }
    let err = Store::open(dir.path())
        .err()
        .expect("a newer schema is refused");
    match &err {
        StoreError::TooNew {
            path: p,
            found,
            known,
        } => {
            assert_eq!(p, &path);
            assert_eq!((*found, *known), (LATEST + 1, LATEST));
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("newer"),
        "{message}"
    );
    // Refusing must not touch the newer kiosk's schema.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST + 1);
}

/// Writes `bytes` as the database file, opens the store, and checks the error is `Corrupt`,
/// names the file, and that the file was not "repaired" by replacing it: a damaged database is
/// evidence to keep (reliability.md §3.5: never silently recreate the database).
fn assert_refused_as_corrupt(bytes: &[u8]) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(DB_FILE);
    std::fs::write(&path, bytes).unwrap();
    let err = Store::open(dir.path())
        .err()
        .expect("a file that is not a database is refused");
    assert!(
        matches!(&err, StoreError::Corrupt(p) if p == &path),
        "expected Corrupt({}), got {err:?}",
        path.display()
    );
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file was changed");
}

#[test]
fn random_bytes_in_place_of_the_database_are_reported_corrupt() {
    // A fixed xorshift sequence: the same "random" file on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert_refused_as_corrupt(&bytes);
}

#[test]
fn a_text_file_in_place_of_the_database_is_reported_corrupt() {
    assert_refused_as_corrupt("data_dir = \"./kiosk-data\"\n# not a database\n".as_bytes());
    assert_refused_as_corrupt("诉求\n".repeat(2000).as_bytes());
}

#[test]
fn a_data_directory_that_is_a_regular_file_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let not_a_dir = dir.path().join("kiosk-data");
    std::fs::write(&not_a_dir, "a file where the data directory should be").unwrap();
    for data_dir in [not_a_dir.clone(), not_a_dir.join("below")] {
        let err = Store::open(&data_dir)
            .err()
            .expect("a file as the data directory is refused");
        let message = err.to_string();
        assert!(
            matches!(&err, StoreError::CannotOpen { path, .. } if path == &data_dir),
            "{err:?}"
        );
        assert!(
            message.contains(&data_dir.display().to_string())
                && message.contains("not a directory"),
            "the message names the path and says what is wrong with it: {message}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&not_a_dir).unwrap(),
        "a file where the data directory should be"
    );
}

fn outbox_priority(store: &Store, case: &Case) -> i64 {
    store
        .connection()
        .query_row(
            "SELECT priority FROM outbox WHERE case_id = ?1",
            [case.id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn high_risk_cases_are_queued_for_forwarding_first() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let normal = case(&noise_draft());
    // 孩子 (child) is an elevated keyword, 威胁 (threat) a high one in the built-in rules.
    let elevated = case(&draft_with_description("装修噪音，孩子睡不着。"));
    let high = case(&draft_with_description("装修工人威胁我。"));
    assert_eq!(
        [normal.risk.level, elevated.risk.level, high.risk.level],
        [RiskLevel::Normal, RiskLevel::Elevated, RiskLevel::High]
    );
    // Filed in the worst order: the high-risk case last.
    for c in [&normal, &elevated, &high] {
        store.insert_intake(c).unwrap();
    }
    assert_eq!(outbox_priority(&store, &high), 0);
    assert_eq!(outbox_priority(&store, &elevated), 1);
    assert_eq!(outbox_priority(&store, &normal), 2);
    // The order the outbox index (`outbox_due`) serves due rows in.
    let mut stmt = store
        .connection()
        .prepare(
            "SELECT case_id FROM outbox WHERE state = 'pending'
             ORDER BY priority, next_attempt_at, id",
        )
        .unwrap();
    let order: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        order,
        [high.id, elevated.id, normal.id].map(|id| id.to_string())
    );
}

#[test]
fn a_token_collision_is_token_taken_and_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let first = case(&noise_draft());
    store.insert_intake(&first).unwrap();
    // Another case (its own id) that drew the same tracking code.
    let twin = Case {
        id: Uuid::now_v7(),
        description: Some("另一位居民".into()),
        ..first.clone()
    };
    assert!(
        matches!(store.insert_intake(&twin), Err(StoreError::TokenTaken)),
        "a taken token must be reported as TokenTaken so that the kiosk draws another"
    );
    assert!(
        store.connection().is_autocommit(),
        "the failed intake left its transaction open"
    );
    assert_eq!(store.row_counts().unwrap(), (1, 1, 1));
    assert_eq!(
        store.case_by_token(&first.token).unwrap().unwrap().case,
        first,
        "the first holder of the token is unchanged"
    );
    // The same connection takes the next case.
    let next = case(&noise_draft());
    store.insert_intake(&next).unwrap();
    assert_eq!(store.row_counts().unwrap(), (2, 2, 2));
}

#[test]
fn the_kiosk_files_a_case_after_a_token_collision() {
    let dir = TempDir::new().unwrap();
    let first = case(&noise_draft());
    {
        let mut store = Store::open(dir.path()).unwrap();
        store.insert_intake(&first).unwrap();
        let twin = Case {
            id: Uuid::now_v7(),
            ..first.clone()
        };
        assert!(matches!(
            store.insert_intake(&twin),
            Err(StoreError::TokenTaken)
        ));
    }
    let mut config = config();
    config.data_dir = dir.path().to_owned();
    let mut kiosk = Kiosk::open(std::sync::Arc::new(config)).unwrap();
    let filed = kiosk.file_case(&noise_draft()).unwrap();
    assert_ne!(filed.case.token, first.token);
    assert_eq!(kiosk.store.row_counts().unwrap(), (2, 2, 2));
    assert_eq!(
        kiosk.find_case(filed.case.token.as_str()).unwrap().case,
        filed.case
    );
}

#[test]
fn a_case_reads_back_exactly_as_it_was_filed() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    // A resident in Chinese with a phone, a description over several lines, and risk evidence
    // from an answer (the whole estate is affected: elevated) and from two keywords.
    let named = case(&CaseDraft {
        service: "complaint".into(),
        subtype: Some("property".into()),
        answers: vec![
            Answer {
                question: "issue".into(),
                value: "repairs".into(),
            },
            Answer {
                question: "affected".into(),
                value: "building".into(),
            },
        ],
        description: "电梯坏了三个月，物业不修。\n楼道还漏电。\n\n物业经理威胁我们“别再找了”。"
            .into(),
        phone: "13800138000".into(),
        consent_version: Some(config().consent.version),
        language: Language::Zh,
        channel: Channel::Kiosk,
        ..CaseDraft::default()
    });
    assert_eq!(named.risk.level, RiskLevel::High);
    assert!(named.risk.reasons.contains(&RiskReason::Answer {
        question: "affected".into(),
        option: "building".into(),
        level: RiskLevel::Elevated,
    }));
    assert_eq!(named.risk.reasons.len(), 3, "{:?}", named.risk.reasons);
    // An anonymous suggestion in English from the command line, with no answers.
    let anonymous = case(&CaseDraft {
        service: "complaint".into(),
        subtype: Some("suggestion".into()),
        description: "More benches\nin the park, please.".into(),
        anonymous: true,
        consent_version: Some(config().consent.version),
        language: Language::En,
        channel: Channel::Cli,
        ..CaseDraft::default()
    });
    assert!(anonymous.anonymous && anonymous.phone.is_none());
    for filed in [&named, &anonymous] {
        store.insert_intake(filed).unwrap();
    }
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    for filed in [&named, &anonymous] {
        let stored = store
            .case_by_token(&filed.token)
            .unwrap()
            .expect("the case is found by its token");
        assert_eq!(&stored.case, filed);
        assert_eq!(
            stored.case.created_at.timestamp(),
            filed.created_at.timestamp()
        );
        assert_eq!(stored.print_state, PrintJobState::Pending);
        assert_eq!(stored.print_reason, None);
        assert_eq!(stored.outbox_state, crate::store::OutboxState::Pending);
        assert!(!stored.personal_data_erased);
        let by_id = store.case_by_id(&filed.id.to_string()).unwrap().unwrap();
        assert_eq!(by_id, stored);
    }
    assert_eq!(
        store
            .case_by_token(&new_token().unwrap())
            .unwrap()
            .map(|s| s.case),
        None
    );
    assert_eq!(store.case_by_id(&Uuid::now_v7().to_string()).unwrap(), None);
}

#[test]
fn print_jobs_are_offered_oldest_first_and_a_job_left_printing_is_offered_again() {
    let dir = TempDir::new().unwrap();
    let base = Utc::now();
    let cases: Vec<Case> = (0..3)
        .map(|i| {
            case_at(
                &noise_draft(),
                new_token().unwrap(),
                base + chrono::Duration::seconds(i),
            )
        })
        .collect();
    let mut store = Store::open(dir.path()).unwrap();
    for c in &cases {
        store.insert_intake(c).unwrap();
    }
    let first = store.next_print_job().unwrap().expect("a job is waiting");
    assert_eq!(first.case_id, Some(cases[0].id.to_string()));
    assert_eq!(first.state, PrintJobState::Pending);
    assert_eq!(first.created_at, cases[0].created_at);
    store
        .set_print_job_state(first.id, PrintJobState::Printing, None, Utc::now())
        .unwrap();
    // The process dies mid-print: nobody saw the job finish, so after a restart it is offered
    // again, still marked as printing.
    drop(store);
    let mut store = Store::open(dir.path()).unwrap();
    let again = store.next_print_job().unwrap().unwrap();
    assert_eq!((again.id, again.state), (first.id, PrintJobState::Printing));
    store
        .set_print_job_state(first.id, PrintJobState::Printed, None, Utc::now())
        .unwrap();
    let second = store.next_print_job().unwrap().unwrap();
    assert_eq!(second.case_id, Some(cases[1].id.to_string()));
    store
        .set_print_job_state(
            second.id,
            PrintJobState::Suppressed,
            Some("stale after paper out"),
            Utc::now(),
        )
        .unwrap();
    let stored = store.case_by_token(&cases[1].token).unwrap().unwrap();
    assert_eq!(stored.print_state, PrintJobState::Suppressed);
    assert_eq!(
        stored.print_reason.as_deref(),
        Some("stale after paper out")
    );
    let third = store.next_print_job().unwrap().unwrap();
    assert_eq!(third.case_id, Some(cases[2].id.to_string()));
    store
        .set_print_job_state(
            third.id,
            PrintJobState::Failed,
            Some("paper out"),
            Utc::now(),
        )
        .unwrap();
    assert_eq!(store.next_print_job().unwrap(), None, "nothing is waiting");
}

#[test]
fn setting_the_state_of_a_missing_print_job_is_an_error() {
    let dir = TempDir::new().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let err = store
        .set_print_job_state(4242, PrintJobState::Printed, None, Utc::now())
        .expect_err("there is no job 4242");
    assert!(
        matches!(&err, StoreError::BadRow(m) if m.contains("4242")),
        "{err:?}"
    );
    assert_eq!(store.row_counts().unwrap(), (0, 0, 0));
}

#[test]
fn opening_through_a_data_directory_that_does_not_exist_yet_creates_it() {
    let dir = TempDir::new().unwrap();
    let nested = dir.path().join("var").join("lib").join("kiosk");
    let store = Store::open(&nested).unwrap();
    assert!(Path::new(&nested.join(DB_FILE)).is_file());
    assert_eq!(store.path(), nested.join(DB_FILE));
}

#[test]
fn a_version_3_database_upgrades_keeping_its_cases_print_jobs_and_their_history() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join(DB_FILE);
    let filed = case(&noise_draft());
    {
        // The schema as kiosks of the previous version left it, with one case printed.
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .unwrap();
        for (i, sql) in super::migrations::MIGRATIONS[..3].iter().enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
            tx.commit().unwrap();
        }
        let now = filed.created_at.to_rfc3339();
        conn.execute(
            "INSERT INTO cases (id, token, station_id, service, subtype, answers, anonymous,
                                consent_version, risk_level, risk_reasons, language, channel,
                                created_at)
             VALUES (?1, ?2, 'demo', 'complaint', 'noise', '[]', 1, 'v', 'normal', '[]', 'zh',
                     'kiosk', ?3)",
            rusqlite::params![filed.id.to_string(), filed.token.as_str(), now],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO print_jobs (case_id, state, created_at, updated_at, attempts, printed_at)
             VALUES (?1, 'printed', ?2, ?2, 1, ?2)",
            rusqlite::params![filed.id.to_string(), now],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO print_job_events (job_id, state, reason, at) VALUES (1, 'printed', NULL, ?1)",
            [now],
        )
        .unwrap();
    }
    let mut store = Store::open_file(&path).unwrap();
    assert_eq!(pragma_i64(&store, "user_version"), LATEST);
    assert_eq!(
        store.latest_print_job(&filed.id.to_string()).unwrap(),
        Some(1)
    );
    let events = store.print_job_events(1).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, PrintJobState::Printed);
    // References still hold and foreign keys are on again.
    let broken: Option<String> = store
        .connection()
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    assert_eq!(broken, None);
    assert_eq!(pragma_i64(&store, "foreign_keys"), 1);
    // A reprint of the old job makes a new one for the same case.
    let again = store.reprint_job(1, Utc::now()).unwrap();
    assert_eq!(
        store.latest_print_job(&filed.id.to_string()).unwrap(),
        Some(again)
    );
    // A print job must point at something.
    let orphan = store.connection().execute(
        "INSERT INTO print_jobs (state, created_at, updated_at) VALUES ('pending', 'x', 'x')",
        [],
    );
    assert!(orphan.is_err());
}
