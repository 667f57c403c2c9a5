//! The outbox task: forwards filed cases upstream (`Kiosk::drain_outbox`) when an intake or a
//! change wakes it and whenever the next retry falls due, then sends the station's queues,
//! bookings and attendance when they changed (`Kiosk::sync_station`), and answers staff's
//! "retry now". It beats the watchdog's `outbox` part each round.
//!
//! A round is never cut short by the stop signal, which is looked at only between rounds: a
//! request in flight gets its answer and the answer is recorded. Should the backend stop
//! waiting (an upstream that does not answer), the case stays in the outbox and is sent again
//! under the same `Idempotency-Key`, so upstream keeps one copy. The order of sending, the
//! backoff and what counts as a permanent refusal are the station's rules
//! (`station::kiosk::forward`), not this task's; the roster and the heartbeat are tasks of
//! their own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, Notify};

use super::Shutdown;
use devices::systemd::Beat;
use station::kiosk::{DrainReport, Kiosk, KioskError};
use station::upstream::client::Upstream;

/// The longest the outbox sleeps with nothing due: it beats the watchdog each round (the
/// backend's `QUIET_ALLOWED` gives it 180 s), and it picks up what another connection (the
/// command line) left due without waking it.
const IDLE_ROUND: Duration = Duration::from_secs(60);

/// Staff waiting for a "retry now" drain of the outbox, answered by the outbox task.
pub(crate) type RetryRequests =
    Arc<Mutex<Vec<oneshot::Sender<Result<DrainReport, Arc<KioskError>>>>>>;

pub(crate) struct Outbox {
    /// The outbox's own connection.
    pub(crate) kiosk: Kiosk,
    pub(crate) upstream: Upstream,
    /// A change (a case, a ticket, a booking, attendance) or staff's "retry now".
    pub(crate) wake: Arc<Notify>,
    pub(crate) retry_requests: RetryRequests,
    pub(crate) beat: Beat,
}

impl Outbox {
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) {
        loop {
            self.beat.beat();
            self.round().await;
            // Sleep until the next retry (of a case or of the station's state) falls due,
            // unless a change wakes us.
            let until_due = self.until_due();
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(until_due) => {}
            }
        }
    }

    /// Sends what is due, answers staff waiting for it, then the station's state.
    async fn round(&mut self) {
        // Staff pressed "retry now": everything pending is due, and what upstream once refused
        // is tried again; they hear how it went.
        let asking: Vec<_> = std::mem::take(
            &mut *self
                .retry_requests
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let drained = self
            .kiosk
            .drain_outbox(&self.upstream, !asking.is_empty())
            .await
            .map_err(Arc::new);
        match &drained {
            Ok(report) => {
                if !report.delivered.is_empty() {
                    tracing::info!(delivered = report.delivered.len(), "outbox: delivered");
                }
                // The error is the station's words or upstream's, with the case's personal
                // data masked (`Case::redact`).
                if let (true, Some(e)) = (report.retried + report.failed > 0, &report.last_error) {
                    tracing::warn!(
                        retried = report.retried,
                        refused = report.failed,
                        error = %e,
                        "outbox: not delivered"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "outbox: cannot drain"),
        }
        for reply in asking {
            let _ = reply.send(drained.clone());
        }
        // The station's queues, bookings and attendance, when they changed.
        if let Err(e) = self.kiosk.sync_station(&self.upstream, false).await {
            tracing::warn!(error = %e, "station state: not sent");
        }
    }

    /// How long until the next retry (of the outbox or the station's state), at most
    /// [`IDLE_ROUND`].
    fn until_due(&self) -> Duration {
        let now = self.kiosk.now();
        let station_due = self.kiosk.station_sync_due().ok().flatten();
        [self.kiosk.outbox_next_due().ok().flatten(), station_due]
            .into_iter()
            .flatten()
            .map(|due| (due - now).to_std().unwrap_or_default())
            .min()
            .unwrap_or(IDLE_ROUND)
            .min(IDLE_ROUND)
    }
}
