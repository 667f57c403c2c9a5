//! The district's people at the door (DISTRICT.md §1, §10): passwords (Argon2id), logins with a
//! lockout, sessions in the database (any hub process serves any request), the session cookie
//! (HttpOnly, SameSite=Strict, Secure behind TLS) or a bearer token for the JSON API, and the
//! forms' CSRF token.
//!
//! A wrong password, an unknown user and a locked account all answer the same; each failure
//! also takes one from the client address's allowance of failed logins (`auth::throttle_logins`),
//! and an account is locked for [`LOCK_MINUTES`] after [`MAX_FAILURES`] wrong passwords in a row.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use chrono::{DateTime, Duration, Utc};

use domain::district::District;
use domain::workflow::{Actor, Role};

use crate::auth::{attempted, bearer, constant_time_eq};
use crate::digest::sha256_hex;
use crate::server::HubState;
use crate::store::accounts::{self, User};
use crate::store::HubStoreError;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "gk_session";
/// The login form's own CSRF cookie (there is no session yet to hold its token).
pub(crate) const LOGIN_COOKIE: &str = "gk_login";
/// A session lasts a working day and a half, then its person logs in again.
pub(crate) const SESSION_HOURS: i64 = 12;
/// Wrong passwords in a row before an account is locked, and for how long.
pub(crate) const MAX_FAILURES: i64 = 5;
pub(crate) const LOCK_MINUTES: i64 = 15;
/// A password's least length.
pub(crate) const MIN_PASSWORD_CHARS: usize = 10;

/// A hash to check against when the user does not exist, so that an unknown user takes as
/// long to refuse as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no user has this password").unwrap_or_default());

/// An Argon2id hash (PHC string) of `password`, with a random salt.
pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness for a salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether `password` is one the hub accepts; the reason when not.
pub(crate) fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("a password has no control characters".into());
    }
    Ok(())
}

/// Whether an account may be made: the unit exists and is of the kind the role works in.
pub(crate) fn check_account(district: &District, unit: &str, role: Role) -> Result<(), String> {
    let Some(kind) = district.kind_of(unit) else {
        return Err(format!("`{unit}` is no unit of the district"));
    };
    if kind != role.unit_kind() {
        return Err(format!(
            "a {} works in a {}, and `{unit}` is a {}",
            role.as_str(),
            role.unit_kind().as_str(),
            kind.as_str()
        ));
    }
    Ok(())
}

/// `count` random bytes as hex.
pub(crate) fn random_hex(count: usize) -> Result<String, HubStoreError> {
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes).map_err(|e| HubStoreError::Task(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Someone logged in.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: User,
    /// The forms' token of this session.
    pub(crate) csrf: String,
    /// The SHA-256 of the session's token (to end it).
    pub(crate) digest: String,
    pub(crate) expires_at: DateTime<Utc>,
}

impl Session {
    pub(crate) fn actor(&self) -> Actor<'_> {
        Actor {
            role: self.user.role,
            unit: &self.user.unit,
        }
    }

    /// Whether a form's `csrf` field is this session's token.
    pub(crate) fn csrf_ok(&self, presented: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), presented.as_bytes())
    }
}

/// How a login ended.
#[derive(Debug)]
pub(crate) enum Login {
    /// The session's token (for the cookie or the bearer header), and the session.
    In {
        token: String,
        session: Box<Session>,
    },
    /// Wrong user or password, or a locked account: the same answer for all.
    Refused,
}

/// Checks a user's password and opens a session.
pub(crate) async fn login(
    hub: &Arc<HubState>,
    user_id: &str,
    password: &str,
) -> Result<Login, HubStoreError> {
    let now = hub.now();
    let id = user_id.to_owned();
    let user = hub.store().read(move |db| accounts::user(db, &id)).await?;
    let (hash, locked) = match &user {
        Some(u) => (
            u.password_hash.clone(),
            u.locked_until.is_some_and(|t| t > now),
        ),
        None => (DUMMY_HASH.clone(), false),
    };
    let pw = password.to_owned();
    // Argon2 takes tens of milliseconds of CPU: not on an async worker.
    let good = tokio::task::spawn_blocking(move || verify_password(&hash, &pw))
        .await
        .map_err(|e| HubStoreError::Task(e.to_string()))?;
    let Some(user) = user.filter(|_| good && !locked) else {
        // Counted against the address (the throttle), and against the account.
        let _ = attempted::<()>(None);
        let id = user_id.to_owned();
        let lock_until = now + Duration::minutes(LOCK_MINUTES);
        hub.store()
            .write(move |db| {
                accounts::login_failed(db, &id, MAX_FAILURES, lock_until)?;
                accounts::audit(
                    db,
                    now,
                    &id,
                    "login_failed",
                    None,
                    locked.then_some("locked"),
                )
            })
            .await?;
        return Ok(Login::Refused);
    };
    if attempted(Some(())).is_none() {
        // The address used up its failures: refused, whatever was presented (a 429 follows).
        return Ok(Login::Refused);
    }
    let token = random_hex(32)?;
    let csrf = random_hex(16)?;
    let digest = sha256_hex(token.as_bytes());
    let expires_at = now + Duration::hours(SESSION_HOURS);
    let (id, d, c) = (user.id.clone(), digest.clone(), csrf.clone());
    hub.store()
        .write(move |db| {
            accounts::login_succeeded(db, &id, &d, &c, now, expires_at)?;
            accounts::audit(db, now, &id, "login", None, None)
        })
        .await?;
    Ok(Login::In {
        token,
        session: Box::new(Session {
            user,
            csrf,
            digest,
            expires_at,
        }),
    })
}

/// The session a page's request carries: `Authorization: Bearer`, or the session cookie. A
/// bearer token that opens nothing counts as a failed login; a stale cookie does not (a browser
/// left open overnight is not an attack).
pub(crate) async fn session(
    hub: &Arc<HubState>,
    headers: &HeaderMap,
) -> Result<Option<Session>, HubStoreError> {
    session_from(hub, headers, true).await
}

/// The session of a JSON API call: `Authorization: Bearer` only. The cookie is for the pages,
/// whose forms carry a CSRF token; an API call carries none, so a cookie never opens the API.
pub(crate) async fn api_session(
    hub: &Arc<HubState>,
    headers: &HeaderMap,
) -> Result<Option<Session>, HubStoreError> {
    session_from(hub, headers, false).await
}

async fn session_from(
    hub: &Arc<HubState>,
    headers: &HeaderMap,
    cookie_too: bool,
) -> Result<Option<Session>, HubStoreError> {
    let (token, from_bearer) = match bearer(headers) {
        Some(t) => (t.to_owned(), true),
        None => match cookie(headers, SESSION_COOKIE).filter(|_| cookie_too) {
            Some(t) => (t, false),
            None => return Ok(None),
        },
    };
    let digest = sha256_hex(token.as_bytes());
    let now = hub.now();
    let d = digest.clone();
    let found = hub
        .store()
        .read(move |db| accounts::session(db, &d, now))
        .await?;
    let found = if from_bearer { attempted(found) } else { found };
    Ok(found.map(|(user, csrf, expires_at)| Session {
        user,
        csrf,
        digest,
        expires_at,
    }))
}

/// Ends a session.
pub(crate) async fn logout(hub: &Arc<HubState>, session: &Session) -> Result<(), HubStoreError> {
    let (digest, id, now) = (session.digest.clone(), session.user.id.clone(), hub.now());
    hub.store()
        .write(move |db| {
            accounts::end_session(db, &digest)?;
            accounts::audit(db, now, &id, "logout", None, None)
        })
        .await
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the whole site, Secure when the hub is
/// reached over TLS. `max_age` 0 deletes it.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_checks_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery "));
        assert!(!verify_password("not a hash", "x"));
        assert!(check_password_rules("short")
            .unwrap_err()
            .contains("10 characters"));
        assert!(check_password_rules("long enough\u{7}").is_err());
        assert!(check_password_rules("long enough pass").is_ok());
    }

    #[test]
    fn an_account_must_sit_in_a_unit_of_its_roles_kind() {
        let d = District::demo();
        assert!(check_account(&d, "demo-district", Role::Dispatcher).is_ok());
        assert!(check_account(&d, "gm-north", Role::Secretary).is_ok());
        assert!(check_account(&d, "housing", Role::DepartmentHead).is_ok());
        assert!(check_account(&d, "guangming", Role::Street).is_ok());
        let err = check_account(&d, "housing", Role::Secretary).unwrap_err();
        assert_eq!(
            err,
            "a secretary works in a community, and `housing` is a department"
        );
        assert!(check_account(&d, "atlantis", Role::Leader)
            .unwrap_err()
            .contains("no unit"));
    }

    #[test]
    fn cookies_are_read_by_name_and_written_strict() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; gk_session=abc ; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie(SESSION_COOKIE, "abc", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
        assert!(!set_cookie(SESSION_COOKIE, "abc", 60, false).contains("Secure"));
    }
}
