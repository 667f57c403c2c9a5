//! The print queue task: works through the waiting slips (`Kiosk::print_pending`) after each
//! intake and every `status_poll_s`, tells the screen what happened to each job and when the
//! printer's state changes, and beats the watchdog's `printer` part each time round.
//!
//! A pass runs on the blocking pool (the printer is a serial port) and is never cut short by
//! the stop signal, which is looked at only between passes: a slip being printed comes out.
//! Should the backend stop waiting (a wedged printer), the job is still `printing` or
//! `pending` in the database and the next start prints it; a job is called printed only after
//! it was. What each job's state means, and when a slip is suppressed or given up on, is the
//! station's rule (`station::kiosk::print_queue`), not this task's.
//!
//! It shares its database connection and the printer with the staff's printer actions
//! (`Backend::with_printer`), so the two never talk to the printer at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};

use super::Shutdown;
use crate::app::backend::BackendEvent;
use devices::printer::transport::PrinterLink;
use devices::systemd::Beat;
use slip::profile::PrinterProfile;
use slip::status::PrinterState;
use station::kiosk::{Kiosk, PrintOutcome};

pub(crate) struct PrintQueue {
    /// The print queue's connection, shared with the staff's printer actions.
    pub(crate) kiosk: Arc<Mutex<Kiosk>>,
    pub(crate) printer: Arc<Mutex<Box<dyn PrinterLink>>>,
    pub(crate) profile: PrinterProfile,
    pub(crate) events: mpsc::UnboundedSender<BackendEvent>,
    /// The job last worked on: staff's "reprint the last slip".
    pub(crate) last_job: Arc<Mutex<Option<i64>>>,
    /// The printer's state after the last pass, for the heartbeat.
    pub(crate) state: watch::Sender<Option<PrinterState>>,
    /// An intake (or any change that may leave a slip waiting) asks for a pass now.
    pub(crate) wake: Arc<Notify>,
    /// How often the printer is asked when nothing wakes the queue.
    pub(crate) poll: Duration,
    pub(crate) beat: Beat,
}

impl PrintQueue {
    pub(crate) async fn run(self, mut shutdown: Shutdown) {
        let mut last_state = None;
        loop {
            self.beat.beat();
            if let Some(state) = self.pass().await {
                self.state.send_replace(Some(state));
                if last_state != Some(state) {
                    last_state = Some(state);
                    if state.can_print() {
                        tracing::info!(
                            printer = state.as_str(),
                            "print queue: the printer can print"
                        );
                    } else {
                        tracing::warn!(
                            printer = state.as_str(),
                            "print queue: the printer cannot print"
                        );
                    }
                    let _ = self.events.send(BackendEvent::Printer(state));
                }
            }
            tokio::select! {
                biased;
                _ = shutdown.requested() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// One pass through the waiting jobs, on the blocking pool; the printer's state after it.
    async fn pass(&self) -> Option<PrinterState> {
        let (kiosk, printer, profile) = (
            self.kiosk.clone(),
            self.printer.clone(),
            self.profile.clone(),
        );
        let (events, last_job) = (self.events.clone(), self.last_job.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let mut kiosk = kiosk.lock().unwrap_or_else(|p| p.into_inner());
            let mut printer = printer.lock().unwrap_or_else(|p| p.into_inner());
            kiosk.print_pending(printer.as_mut(), &profile, |outcome| {
                *last_job.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.job_id);
                log_outcome(outcome);
                let _ = events.send(BackendEvent::Job(outcome.clone()));
            })
        })
        .await;
        match pass {
            Ok(Ok(pass)) => Some(pass.printer_state()),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "print queue: the pass failed");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "print queue: the pass stopped");
                None
            }
        }
    }
}

/// A job's new state, by its id and code (a slip carries no personal data, and neither does
/// this line).
pub(crate) fn log_outcome(outcome: &PrintOutcome) {
    tracing::info!(
        job = outcome.job_id,
        token = outcome.token.as_str(),
        state = outcome.state.as_str(),
        reason = outcome.reason.as_deref(),
        "print queue: job"
    );
}
