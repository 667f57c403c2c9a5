//! The serial barcode scanner's reader: `devices::scanner::run` on a blocking thread of the
//! runtime, each line it reads sent to the screen as a [`BackendEvent::Scan`] and the port's
//! coming and going as [`BackendEvent::Scanner`].
//!
//! It decides nothing about what a scan means (the controller does) and never logs a scan's
//! text. It stops when the backend asks (the reader looks between reads, which wait at most a
//! poll) or when nobody listens to the backend any more.

use tokio::sync::mpsc;

use super::Shutdown;
use crate::app::backend::BackendEvent;
use devices::scanner::{self, ScannerEvent};

pub(crate) struct ScannerReader {
    /// The scanner's device (`scanner.port`).
    pub(crate) port: String,
    pub(crate) baud: u32,
    pub(crate) events: mpsc::UnboundedSender<BackendEvent>,
}

impl ScannerReader {
    /// Blocks until asked to stop.
    pub(crate) fn run(self, shutdown: Shutdown) {
        let ScannerReader { port, baud, events } = self;
        let timing = scanner::Timing::default();
        let stopped = || shutdown.is_requested() || events.is_closed();
        scanner::run(&port, baud, timing, &stopped, |event| {
            let event = match event {
                ScannerEvent::Scan(scan) => BackendEvent::Scan(scan),
                ScannerEvent::Connected => {
                    tracing::info!(port = %port, baud, "scanner: reading (8N1)");
                    BackendEvent::Scanner(true)
                }
                ScannerEvent::Lost(why) => {
                    tracing::warn!(
                        reason = %why,
                        retry_every_s = timing.reopen_after.as_secs(),
                        "scanner: not reading"
                    );
                    BackendEvent::Scanner(false)
                }
            };
            let _ = events.send(event);
        });
    }
}
