//! The kiosk's work off the UI thread. A tokio runtime runs the intake (a blocking SQLite
//! commit, on the blocking pool) and the print queue task; results come back to the UI as
//! futures and a channel that the UI awaits with `slint::spawn_local`, so the event loop never
//! waits on a disk or a printer.
//!
//! Tasks: the print queue loops forever (woken after each intake, and every few seconds in case
//! a wake-up was missed); intake work is one blocking job per submit. Dropping the [`Backend`]
//! stops the runtime without waiting for the print task.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::config::KioskConfig;
use crate::domain::CaseDraft;
use crate::kiosk::{configured_printer, Filed, Kiosk, KioskError, PrintOutcome};
use crate::printer::status::PrinterState;

/// What the backend tells the screen, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    /// A print job changed state.
    Job(PrintOutcome),
    /// The printer's state changed (also sent once at start).
    Printer(PrinterState),
}

pub struct Backend {
    runtime: Option<Runtime>,
    intake: Arc<Mutex<Kiosk>>,
    wake_printer: Arc<Notify>,
}

impl Backend {
    /// Opens the database for intake, starts the print queue task, and returns the channel on
    /// which every print job's state changes arrive.
    pub fn start(
        config: Arc<KioskConfig>,
    ) -> Result<(Backend, mpsc::UnboundedReceiver<BackendEvent>), KioskError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-worker")
            .enable_time()
            .build()
            .map_err(|e| KioskError::Workers(e.to_string()))?;
        let intake = Arc::new(Mutex::new(Kiosk::open(config.clone())?));
        let printing = Arc::new(Mutex::new(Kiosk::open(config.clone())?));
        let wake_printer = Arc::new(Notify::new());
        let (events, receiver) = mpsc::unbounded_channel();
        let profile = config.printer_profile();
        let printer = Arc::new(Mutex::new(configured_printer(&config)));
        let poll = Duration::from_secs(u64::from(config.printer.status_poll_s));
        let wake = wake_printer.clone();
        runtime.spawn(async move {
            let mut last_state = None;
            loop {
                let (kiosk, printer, job_events, profile) = (
                    printing.clone(),
                    printer.clone(),
                    events.clone(),
                    profile.clone(),
                );
                let pass = tokio::task::spawn_blocking(move || {
                    let mut kiosk = kiosk.lock().unwrap_or_else(|p| p.into_inner());
                    let mut printer = printer.lock().unwrap_or_else(|p| p.into_inner());
                    kiosk.print_pending(printer.as_mut(), &profile, |outcome| {
                        let _ = job_events.send(BackendEvent::Job(outcome.clone()));
                    })
                })
                .await;
                match pass {
                    Ok(Ok(pass)) => {
                        let state = pass.printer_state();
                        if last_state != Some(state) {
                            last_state = Some(state);
                            let _ = events.send(BackendEvent::Printer(state));
                        }
                    }
                    Ok(Err(e)) => eprintln!("print queue: {e}"),
                    Err(e) => eprintln!("print queue stopped a pass: {e}"),
                }
                // Asks the printer again every few seconds, at once after an intake.
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        });
        Ok((
            Backend {
                runtime: Some(runtime),
                intake,
                wake_printer,
            },
            receiver,
        ))
    }

    /// Files a draft on the blocking pool; the answer arrives on the returned channel. The print
    /// queue is woken as soon as the case is durable.
    pub fn submit(&self, draft: CaseDraft) -> oneshot::Receiver<Result<Filed, KioskError>> {
        let (reply, answer) = oneshot::channel();
        let intake = self.intake.clone();
        let wake = self.wake_printer.clone();
        if let Some(runtime) = &self.runtime {
            runtime.spawn_blocking(move || {
                let result = intake
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .file_case(&draft);
                if result.is_ok() {
                    wake.notify_one();
                }
                let _ = reply.send(result);
            });
        }
        answer
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
