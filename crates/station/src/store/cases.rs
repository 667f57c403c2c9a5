//! Cases, and the intake transaction that writes a case with its print job and outbox row.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::outbox::OutboxState;
use super::print_jobs::PrintJobState;
use super::{Store, StoreError};
use domain::{Case, Channel, Language, Phone, RiskAssessment, RiskLevel, TrackingToken};

/// What the intake transaction wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRecord {
    pub(crate) print_job_id: i64,
    pub outbox_id: i64,
}

/// A case as stored, with where its slip and its forwarding stand.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCase {
    pub case: Case,
    pub print_state: PrintJobState,
    pub print_reason: Option<String>,
    pub outbox_state: OutboxState,
    pub(crate) personal_data_erased: bool,
}

impl Store {
    /// Writes a case, its print job and its outbox row in one transaction: either all three are
    /// durable when this returns `Ok`, or none of them exists.
    pub fn insert_intake(&mut self, case: &Case) -> Result<IntakeRecord, StoreError> {
        let path = self.path.clone();
        let fail = |e| super::classify(e, &path);
        let answers =
            serde_json::to_string(&case.answers).map_err(|e| StoreError::BadRow(e.to_string()))?;
        let reasons = serde_json::to_string(&case.risk.reasons)
            .map_err(|e| StoreError::BadRow(e.to_string()))?;
        let created = case.created_at.to_rfc3339();
        // High-risk cases are forwarded first (DESIGN.md §3.3).
        let priority = match case.risk.level {
            RiskLevel::High => 0,
            RiskLevel::Elevated => 1,
            RiskLevel::Normal => 2,
        };
        // SQLite can report an error for a BEGIN or a COMMIT that has already taken effect: an
        // interrupt (`sqlite3_interrupt`, a progress handler) is checked once more as each
        // statement ends. After such a BEGIN rusqlite has no transaction to roll back, and the
        // connection would stay inside it holding the write lock, refusing every later intake.
        // (`new_unchecked` only so that the error path may look at the connection; `&mut self`
        // already rules out a nested transaction.)
        let conn = &self.conn;
        let tx = match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                return Err(fail(e));
            }
        };
        tx.execute(
            "INSERT INTO cases (id, token, station_id, service, subtype, answers, description,
                                phone, anonymous, consent_version, risk_level, risk_reasons,
                                language, channel, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                case.id.to_string(),
                case.token.as_str(),
                case.station_id,
                case.service,
                case.subtype,
                answers,
                case.description,
                case.phone.as_ref().map(Phone::as_str),
                case.anonymous,
                case.consent_version,
                case.risk.level.as_str(),
                reasons,
                case.language.code(),
                case.channel.as_str(),
                created,
            ],
        )
        .map_err(fail)?;
        tx.execute(
            "INSERT INTO print_jobs (case_id, state, created_at, updated_at)
             VALUES (?1, 'pending', ?2, ?2)",
            params![case.id.to_string(), created],
        )
        .map_err(fail)?;
        let print_job_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO outbox (kind, case_id, priority, state, next_attempt_at, created_at)
             VALUES ('case', ?1, ?2, 'pending', ?3, ?3)",
            params![case.id.to_string(), priority, created],
        )
        .map_err(fail)?;
        let outbox_id = tx.last_insert_rowid();
        // A high-risk case calls staff at once, in the same transaction: the staff console, the
        // now-serving display and the operator page show it until staff acknowledge it.
        if case.risk.level == RiskLevel::High {
            tx.execute(
                "INSERT INTO notices (at, kind, detail) VALUES (?1, ?2, ?3)",
                params![created, super::HIGH_RISK_NOTICE, case.token.grouped()],
            )
            .map_err(fail)?;
        }
        let record = IntakeRecord {
            print_job_id,
            outbox_id,
        };
        if let Err(e) = tx.commit() {
            // The transaction is over either way (rusqlite rolls back what SQLite left open);
            // only the file knows whether the COMMIT had taken effect before it reported the
            // error. Asking it keeps the promise that `Err` means none of the case exists.
            let committed = conn.is_autocommit()
                && conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?1)",
                        [case.id.to_string()],
                        |r| r.get::<_, bool>(0),
                    )
                    .unwrap_or(false);
            return if committed { Ok(record) } else { Err(fail(e)) };
        }
        Ok(record)
    }

    /// The case with this tracking code, with its latest print job and outbox state.
    pub fn case_by_token(&self, token: &TrackingToken) -> Result<Option<StoredCase>, StoreError> {
        self.conn
            .query_row(
                "SELECT c.id, c.token, c.station_id, c.service, c.subtype, c.answers,
                        c.description, c.phone, c.anonymous, c.consent_version, c.risk_level,
                        c.risk_reasons, c.language, c.channel, c.created_at,
                        c.personal_data_erased_at,
                        (SELECT state FROM print_jobs WHERE case_id = c.id ORDER BY id DESC LIMIT 1),
                        (SELECT reason FROM print_jobs WHERE case_id = c.id ORDER BY id DESC LIMIT 1),
                        (SELECT state FROM outbox WHERE case_id = c.id ORDER BY id DESC LIMIT 1)
                 FROM cases c WHERE c.token = ?1",
                [token.as_str()],
                |row| Ok(read_case(row)),
            )
            .optional()
            .map_err(|e| self.error(e))?
            .transpose()
    }

    /// The case a print job belongs to.
    pub(crate) fn case_by_id(&self, id: &str) -> Result<Option<StoredCase>, StoreError> {
        let token: Option<String> = self
            .conn
            .query_row("SELECT token FROM cases WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        match token {
            None => Ok(None),
            Some(t) => {
                let token = TrackingToken::parse(&t)
                    .map_err(|e| StoreError::BadRow(format!("token {t}: {e}")))?;
                self.case_by_token(&token)
            }
        }
    }
}

fn read_case(row: &Row<'_>) -> Result<StoredCase, StoreError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| StoreError::BadRow(format!("{what}: {e}"));
    let get = |i: usize| -> Result<String, StoreError> {
        row.get::<_, String>(i).map_err(|e| bad("column", &e))
    };
    let opt = |i: usize| -> Result<Option<String>, StoreError> {
        row.get::<_, Option<String>>(i)
            .map_err(|e| bad("column", &e))
    };
    let id = get(0)?;
    let token = TrackingToken::parse(&get(1)?).map_err(|e| bad("token", &e))?;
    let answers = serde_json::from_str(&get(5)?).map_err(|e| bad("answers", &e))?;
    let phone = match opt(7)? {
        Some(p) => Some(Phone::parse(&p).map_err(|e| bad("phone", &e))?),
        None => None,
    };
    let anonymous: bool = row.get(8).map_err(|e| bad("anonymous", &e))?;
    let level = RiskLevel::parse(&get(10)?).ok_or_else(|| bad("risk_level", &"unknown level"))?;
    let reasons = serde_json::from_str(&get(11)?).map_err(|e| bad("risk_reasons", &e))?;
    let language = Language::parse(&get(12)?).ok_or_else(|| bad("language", &"unknown"))?;
    let channel = match get(13)?.as_str() {
        "cli" => Channel::Cli,
        _ => Channel::Kiosk,
    };
    let created_at: DateTime<Utc> = DateTime::parse_from_rfc3339(&get(14)?)
        .map_err(|e| bad("created_at", &e))?
        .with_timezone(&Utc);
    let print_state = match opt(16)? {
        Some(s) => PrintJobState::parse(&s).ok_or_else(|| bad("print state", &s))?,
        None => PrintJobState::Pending,
    };
    Ok(StoredCase {
        case: Case {
            id: id.parse().map_err(|e| bad("id", &e))?,
            token,
            station_id: get(2)?,
            service: get(3)?,
            subtype: get(4)?,
            answers,
            description: opt(6)?,
            phone,
            anonymous,
            consent_version: get(9)?,
            risk: RiskAssessment { level, reasons },
            language,
            channel,
            created_at,
        },
        print_state,
        print_reason: opt(17)?,
        outbox_state: match opt(18)? {
            Some(s) => OutboxState::parse(&s).ok_or_else(|| bad("outbox state", &s))?,
            None => OutboxState::Pending,
        },
        personal_data_erased: opt(15)?.is_some(),
    })
}
