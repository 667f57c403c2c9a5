//! The district's people: accounts, sessions and the audit log (DISTRICT.md §1, §10).
//!
//! Sessions live in the database, so any hub process serves any request. A session is found by
//! the SHA-256 of its token: the table never holds a token anyone could present.

use chrono::{DateTime, Utc};

use domain::workflow::Role;

use crate::clock::stamp;

use super::sql::{args, Db, Row};
use super::{time_from_db, HubStoreError};

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) unit: String,
    pub(crate) role: Role,
    pub(crate) name: String,
    pub(crate) password_hash: String,
    pub(crate) failed_logins: i64,
    pub(crate) locked_until: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str =
    "u.id, u.unit, u.role, u.name, u.password_hash, u.failed_logins, u.locked_until";

fn user_from(row: &Row, at: usize) -> Result<User, HubStoreError> {
    let role = row.text(at + 2)?;
    Ok(User {
        id: row.text(at)?,
        unit: row.text(at + 1)?,
        role: Role::parse(&role)
            .ok_or_else(|| HubStoreError::BadRow(format!("unknown role `{role}`")))?,
        name: row.text(at + 3)?,
        password_hash: row.text(at + 4)?,
        failed_logins: row.int(at + 5)?,
        locked_until: row
            .opt_text(at + 6)?
            .as_deref()
            .map(time_from_db)
            .transpose()?,
    })
}

/// Adds an account, or (with `replace`) sets an existing one's unit, role, name and password
/// (and unlocks it). `false`: the id is taken and `replace` was not asked for.
pub(crate) fn put_user(
    db: &mut dyn Db,
    user: &User,
    replace: bool,
    now: DateTime<Utc>,
) -> Result<bool, HubStoreError> {
    let exists = db
        .one(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)",
            args![&user.id],
        )?
        .flag(0)?;
    if exists && !replace {
        return Ok(false);
    }
    if exists {
        db.exec(
            "UPDATE users SET unit = ?2, role = ?3, name = ?4, password_hash = ?5,
                              failed_logins = 0, locked_until = NULL
             WHERE id = ?1",
            args![
                &user.id,
                &user.unit,
                user.role.as_str(),
                &user.name,
                &user.password_hash
            ],
        )?;
        // A new password ends every session of the old one.
        db.exec("DELETE FROM sessions WHERE user_id = ?1", args![&user.id])?;
    } else {
        db.exec(
            "INSERT INTO users (id, unit, role, name, password_hash, failed_logins, locked_until,
                                created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, NULL, ?6)",
            args![
                &user.id,
                &user.unit,
                user.role.as_str(),
                &user.name,
                &user.password_hash,
                &stamp(now)
            ],
        )?;
    }
    Ok(true)
}

pub(crate) fn user(db: &mut dyn Db, id: &str) -> Result<Option<User>, HubStoreError> {
    db.row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
        args![id],
    )?
    .map(|r| user_from(&r, 0))
    .transpose()
}

/// Every account, by unit then id.
pub(crate) fn users(db: &mut dyn Db) -> Result<Vec<User>, HubStoreError> {
    db.rows(
        &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.unit, u.id"),
        args![],
    )?
    .iter()
    .map(|r| user_from(r, 0))
    .collect()
}

/// Counts a failed login; locks the account until `lock_until` once `max_failures` is reached.
pub(crate) fn login_failed(
    db: &mut dyn Db,
    id: &str,
    max_failures: i64,
    lock_until: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    db.exec(
        "UPDATE users SET failed_logins = failed_logins + 1,
                          locked_until = CASE WHEN failed_logins + 1 >= ?2 THEN ?3
                                              ELSE locked_until END
         WHERE id = ?1",
        args![id, max_failures, &stamp(lock_until)],
    )?;
    Ok(())
}

/// A good login: the failures are forgotten and the session stored.
pub(crate) fn login_succeeded(
    db: &mut dyn Db,
    id: &str,
    session_digest: &str,
    csrf: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    db.exec(
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1",
        args![id],
    )?;
    db.exec(
        "INSERT INTO sessions (digest, user_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![session_digest, id, csrf, &stamp(now), &stamp(expires_at)],
    )?;
    Ok(())
}

/// The live session with this digest, and its account.
pub(crate) fn session(
    db: &mut dyn Db,
    digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<(User, String, DateTime<Utc>)>, HubStoreError> {
    let Some(row) = db.row(
        &format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.digest = ?1 AND s.expires_at > ?2"
        ),
        args![digest, &stamp(now)],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((
        user_from(&row, 0)?,
        row.text(7)?,
        time_from_db(&row.text(8)?)?,
    )))
}

pub(crate) fn end_session(db: &mut dyn Db, digest: &str) -> Result<(), HubStoreError> {
    db.exec("DELETE FROM sessions WHERE digest = ?1", args![digest])?;
    Ok(())
}

/// Forgets sessions that have expired (a periodic job); returns how many.
pub(crate) fn prune_sessions(db: &mut dyn Db, now: DateTime<Utc>) -> Result<u64, HubStoreError> {
    db.exec(
        "DELETE FROM sessions WHERE expires_at <= ?1",
        args![&stamp(now)],
    )
}

/// One line of the audit log. `detail` never holds personal data.
pub(crate) fn audit(
    db: &mut dyn Db,
    at: DateTime<Utc>,
    user: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), HubStoreError> {
    db.exec(
        "INSERT INTO audit_log (at, user_id, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![&stamp(at), user, action, target, detail],
    )?;
    Ok(())
}

/// A line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditLine {
    pub(crate) at: String,
    pub(crate) user: String,
    pub(crate) action: String,
    pub(crate) target: Option<String>,
    pub(crate) detail: Option<String>,
}

/// The audit log's newest lines first (for `target`, when given).
pub(crate) fn audit_lines(
    db: &mut dyn Db,
    target: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditLine>, HubStoreError> {
    let rows = match target {
        Some(t) => db.rows(
            "SELECT at, user_id, action, target, detail FROM audit_log
             WHERE target = ?1 ORDER BY id DESC LIMIT ?2",
            args![t, limit],
        )?,
        None => db.rows(
            "SELECT at, user_id, action, target, detail FROM audit_log
             ORDER BY id DESC LIMIT ?1",
            args![limit],
        )?,
    };
    rows.iter()
        .map(|r| {
            Ok(AuditLine {
                at: r.text(0)?,
                user: r.text(1)?,
                action: r.text(2)?,
                target: r.opt_text(3)?,
                detail: r.opt_text(4)?,
            })
        })
        .collect()
}
