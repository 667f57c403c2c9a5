//! The roster task: fetches the roster the district set for this station
//! (`Kiosk::sync_roster`) at start and hourly, so bookings offer the hub's slots.
//!
//! It has a task of its own because its rhythm (hours) is not the outbox's (seconds) and a slow
//! answer must not hold up a case. It does not judge a roster (the station refuses one that
//! names a service it does not have, keeping the last good one) and it is not watched by the
//! watchdog: an hour's sleep is not a sign of being stuck, and each request has its timeout.
//! A fetch in flight when the backend stops is dropped: the roster is written only once a
//! whole answer came, so nothing is half-kept.

use std::time::Duration;

use super::Shutdown;
use station::kiosk::Kiosk;
use station::upstream::client::Upstream;

/// How often the kiosk asks the district for the station's roster.
const ROSTER_EVERY: Duration = Duration::from_secs(3600);

pub(crate) struct RosterSync {
    /// The roster's own connection.
    pub(crate) kiosk: Kiosk,
    pub(crate) upstream: Upstream,
}

impl RosterSync {
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) {
        loop {
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                fetched = self.kiosk.sync_roster(&self.upstream) => match fetched {
                    Ok(true) => tracing::debug!("roster: the hub's roster is kept"),
                    Ok(false) => tracing::debug!("roster: the hub sets none; the configuration's stays"),
                    Err(e) => tracing::warn!(error = %e, "roster: not fetched"),
                },
            }
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                _ = tokio::time::sleep(ROSTER_EVERY) => {}
            }
        }
    }
}
