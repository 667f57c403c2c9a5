//! The heartbeat task: every minute, tells upstream how the station is (`Kiosk::heartbeat`:
//! the printer's state as the print queue last saw it, paper, queues, the outbox's depth and
//! age, open notices), which the hub's operator page shows.
//!
//! It has a task of its own so that the minute is kept whatever the outbox is doing. A missed
//! heartbeat is only missed (the next one says everything again), so it is neither retried
//! nor kept, a beat in flight when the backend stops is dropped, and it is not watched by the
//! watchdog. It reports nothing personal: the heartbeat has counts, no cases.

use std::time::Duration;

use tokio::sync::watch;

use super::Shutdown;
use slip::profile::PrinterProfile;
use slip::status::PrinterState;
use station::kiosk::Kiosk;
use station::upstream::client::Upstream;

/// How often the kiosk tells upstream how it is.
const HEARTBEAT: Duration = Duration::from_secs(60);

pub(crate) struct Heartbeat {
    /// The heartbeat's own connection.
    pub(crate) kiosk: Kiosk,
    pub(crate) upstream: Upstream,
    /// The printer's state after the print queue's last pass (`None` before the first).
    pub(crate) printer: watch::Receiver<Option<PrinterState>>,
    pub(crate) profile: PrinterProfile,
}

impl Heartbeat {
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) {
        loop {
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                _ = self.send() => {}
            }
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
    }

    /// `&mut`: the connection is not shared between threads, so the future may move between
    /// them.
    async fn send(&mut self) {
        let printer = *self.printer.borrow();
        match self.kiosk.heartbeat(printer, &self.profile) {
            Ok(beat) => {
                if let Err(e) = self.upstream.heartbeat(&beat).await {
                    tracing::warn!(error = %e, "heartbeat: not sent");
                }
            }
            Err(e) => tracing::error!(error = %e, "heartbeat: cannot say how the station is"),
        }
    }
}
