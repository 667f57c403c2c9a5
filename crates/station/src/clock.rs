//! The kiosk's sense of "now". A station reads the system clock; the screenshots and the tests
//! hand in a clock of their own, so that what a screen shows (today's queue, this week's
//! bookings, "open now") is the same at any hour the test happens to run, midnight included.
//!
//! The clock travels in [`crate::config::KioskConfig`], so every [`crate::kiosk::Kiosk`] opened
//! from one configuration and every screen of the app read the same time.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system clock (a station in service).
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that stands still at `at` (a screenshot: the same picture at any hour).
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(move || at))
    }

    /// A clock that reads `at` now and then runs at the real pace (a test that waits for a
    /// retry or a timeout, on a day and an hour of its choosing).
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        let started = Instant::now();
        Clock(Arc::new(move || {
            at + chrono::Duration::from_std(started.elapsed()).unwrap_or_default()
        }))
    }

    /// A clock that asks `now` every time (a test moves it).
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> DateTime<Utc> {
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

/// Two configurations that say the same are equal whichever clock they carry: the clock is not
/// something a station's file or environment sets.
impl PartialEq for Clock {
    fn eq(&self, _: &Clock) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_and_a_started_one_runs_on_from_its_start() {
        let at = DateTime::parse_from_rfc3339("2026-06-02T10:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let fixed = Clock::fixed(at);
        assert_eq!(fixed.now(), at);
        assert_eq!(fixed.now(), at);
        let running = Clock::starting_at(at);
        let first = running.now();
        assert!(first >= at && first < at + chrono::Duration::hours(1));
        assert!(running.now() >= first);
    }
}
