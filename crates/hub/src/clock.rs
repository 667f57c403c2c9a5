//! The hub's sense of "now". Production reads the system clock; tests hand in a clock they can
//! move, so that "silent for 5 minutes" or "past its expected date" is proved without sleeping.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system clock.
    pub(crate) fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that asks `now` every time (tests move it).
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// The one text form of an instant in the database: RFC 3339, UTC, microseconds, `Z`. Fixed
/// width, so that comparing the texts compares the instants.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a [`stamp`] (or any RFC 3339 text) back.
pub(crate) fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_like_the_instants_they_stand_for() {
        let a = parse_stamp("2024-05-01T09:00:00Z").unwrap();
        let b = parse_stamp("2024-05-01T10:00:00.5+00:00").unwrap();
        assert!(stamp(a) < stamp(b));
        assert_eq!(stamp(a).len(), stamp(b).len());
        assert_eq!(parse_stamp(&stamp(b)), Some(b));
    }
}
