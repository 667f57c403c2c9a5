//! The staff mode's door and its record: the PIN (an Argon2id hash in the database, written by
//! `grievance-kiosk staff set-pin`), the lockout after repeated wrong PINs (kept in the
//! database, so a restart does not reset it), attendance of the lawyer, counsellor or mediator
//! on duty, and the audit log every staff action writes to.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};

use super::{Kiosk, KioskError};
use crate::store::AuditEntry;

/// What the PIN pad is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    Accepted,
    /// Wrong; this many more wrong PINs lock the staff mode.
    Wrong {
        left: u32,
    },
    /// Locked until then (this attempt was not even checked).
    Locked {
        until: DateTime<Utc>,
    },
    /// No PIN has been set on this kiosk yet.
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("a staff PIN is 6 to 12 digits")]
    BadPin,
    #[error("a PIN of one repeated digit or a run like 123456 is too easy to guess")]
    WeakPin,
    #[error("`{0}` is not a provider on this station's roster")]
    UnknownProvider(String),
    #[error("{0} is already checked in")]
    AlreadyIn(String),
    #[error("{0} is not checked in")]
    NotIn(String),
    #[error("the PIN could not be hashed: {0}")]
    Hash(String),
}

impl From<StaffError> for KioskError {
    fn from(e: StaffError) -> KioskError {
        KioskError::Staff(e)
    }
}

/// The longest lock, seconds: a day.
const MAX_LOCK_S: i64 = 86_400;

/// The lock in force at `now`. No lock lasts more than a day from now: a clock set back (by a
/// bad RTC or a technician) must not lock staff out for a year.
fn effective_lock(
    locked_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    locked_until
        .filter(|t| *t > now)
        .map(|t| t.min(now + Duration::seconds(MAX_LOCK_S)))
}

/// Checks the shape of a new PIN.
pub(crate) fn validate_pin(pin: &str) -> Result<(), StaffError> {
    if !(6..=12).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StaffError::BadPin);
    }
    let b = pin.as_bytes();
    let same = b.iter().all(|&c| c == b[0]);
    let up = b.windows(2).all(|w| w[1] == w[0] + 1);
    let down = b.windows(2).all(|w| w[0] == w[1] + 1);
    if same || up || down {
        return Err(StaffError::WeakPin);
    }
    Ok(())
}

impl Kiosk {
    /// Sets the staff PIN (stored as an Argon2id hash); clears any lockout.
    pub fn set_pin(&mut self, pin: &str, now: DateTime<Utc>) -> Result<(), KioskError> {
        validate_pin(pin)?;
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| KioskError::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| StaffError::Hash(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map_err(|e| StaffError::Hash(e.to_string()))?
            .to_string();
        self.store.set_pin_hash(&hash, now)?;
        Ok(())
    }

    /// Whether the staff mode is locked now, and until when.
    pub fn staff_locked_until(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, KioskError> {
        Ok(effective_lock(self.store.staff_auth()?.locked_until, now))
    }

    /// Checks a PIN typed on the staff pad. After `staff.lockout_after` wrong PINs in a row the
    /// staff mode locks for `staff.lockout_s`, doubling with each further wrong PIN (at most a
    /// day); while locked nothing is checked. Every attempt is audited; the whole attempt is one
    /// transaction (see `Store::staff_attempt`).
    pub fn check_pin(&mut self, pin: &str, now: DateTime<Utc>) -> Result<PinCheck, KioskError> {
        let after = self.config.staff.lockout_after;
        let base = i64::from(self.config.staff.lockout_s);
        Ok(self.store.staff_attempt(now, |auth| {
            if let Some(until) = effective_lock(auth.locked_until, now) {
                return (None, None, PinCheck::Locked { until });
            }
            let Some(hash) = &auth.pin_hash else {
                return (None, None, PinCheck::NotSet);
            };
            let ok = pin.len() <= 64
                && PasswordHash::new(hash)
                    .map(|h| {
                        Argon2::default()
                            .verify_password(pin.as_bytes(), &h)
                            .is_ok()
                    })
                    .unwrap_or(false);
            if ok {
                return (Some(true), None, PinCheck::Accepted);
            }
            let failures = auth.failures + 1;
            let locked_until = (failures >= after).then(|| {
                let doublings = (failures - after).min(20);
                now + Duration::seconds((base << doublings).min(MAX_LOCK_S))
            });
            let answer = match locked_until {
                Some(until) => PinCheck::Locked { until },
                None => PinCheck::Wrong {
                    left: after - failures,
                },
            };
            (Some(false), locked_until, answer)
        })?)
    }

    /// Writes a staff action to the audit log.
    pub fn audit(&self, action: &str, detail: &str, now: DateTime<Utc>) -> Result<(), KioskError> {
        Ok(self.store.audit(action, detail, now)?)
    }

    pub fn audit_log(&self, n: u32) -> Result<Vec<AuditEntry>, KioskError> {
        Ok(self.store.audit_log(n)?)
    }

    /// A provider on the roster checks in (`true`) or out; sent upstream as attendance.
    pub fn attendance(
        &mut self,
        provider: &str,
        check_in: bool,
        now: DateTime<Utc>,
    ) -> Result<(), KioskError> {
        if self.roster().provider(provider).is_none() {
            return Err(StaffError::UnknownProvider(provider.to_owned()).into());
        }
        let on = self.store.on_duty()?.iter().any(|(p, _)| p == provider);
        match (check_in, on) {
            (true, true) => return Err(StaffError::AlreadyIn(provider.to_owned()).into()),
            (false, false) => return Err(StaffError::NotIn(provider.to_owned()).into()),
            _ => {}
        }
        let action = if check_in { "in" } else { "out" };
        self.store.attendance(provider, action, now)?;
        self.store
            .audit(&format!("attendance-{action}"), provider, now)?;
        Ok(())
    }

    /// Providers checked in now, with when.
    pub fn on_duty(&self) -> Result<Vec<(String, DateTime<Utc>)>, KioskError> {
        Ok(self.store.on_duty()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_must_be_digits_and_not_trivial() {
        assert_eq!(validate_pin("12345"), Err(StaffError::BadPin));
        assert_eq!(validate_pin("12a456"), Err(StaffError::BadPin));
        assert_eq!(validate_pin("1234567890123"), Err(StaffError::BadPin));
        assert_eq!(validate_pin("111111"), Err(StaffError::WeakPin));
        assert_eq!(validate_pin("123456"), Err(StaffError::WeakPin));
        assert_eq!(validate_pin("654321"), Err(StaffError::WeakPin));
        assert_eq!(validate_pin("240517"), Ok(()));
    }
}
