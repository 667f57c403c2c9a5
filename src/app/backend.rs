//! The kiosk's work off the UI thread. A tokio runtime runs the intake (a blocking SQLite
//! commit, on the blocking pool), the print queue, the outbox and the lookups of "track my
//! case"; results come back to the UI as futures and a channel that the UI awaits with
//! `slint::spawn_local`, so the event loop never waits on a disk, a printer or the network.
//!
//! Tasks, each with its own database connection:
//! - the print queue: a pass after each intake and every `status_poll_s`;
//! - the outbox: drains what is due after each intake and whenever the next retry falls due,
//!   and sends a heartbeat every minute;
//! - with no upstream configured, the local hub (`upstream::local`), serving on loopback;
//! - with a serial scanner configured, its reader (`scanner::run`) on a blocking thread of the
//!   runtime, each line it reads sent to the screen as a [`BackendEvent::Scan`].
//!
//! Dropping the [`Backend`] stops the runtime without waiting for its tasks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::config::KioskConfig;
use crate::domain::CaseDraft;
use crate::hub::RunningHub;
use crate::kiosk::{configured_printer, Filed, Kiosk, KioskError, PrintOutcome, Tracked};
use crate::printer::status::PrinterState;
use crate::scanner::{self, Scan, ScannerEvent};
use crate::upstream::client::Upstream;
use crate::upstream::local::{connect, Listen};

/// How often the kiosk tells upstream how it is.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// What the backend tells the screen, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    /// A print job changed state.
    Job(PrintOutcome),
    /// The printer's state changed (also sent once at start).
    Printer(PrinterState),
    /// The serial scanner read a line.
    Scan(Scan),
    /// The serial scanner's port opened (`true`) or went away (`false`).
    Scanner(bool),
}

pub struct Backend {
    runtime: Option<Runtime>,
    intake: Arc<Mutex<Kiosk>>,
    tracking: Arc<tokio::sync::Mutex<Kiosk>>,
    upstream: Upstream,
    wake_printer: Arc<Notify>,
    wake_outbox: Arc<Notify>,
    /// Tells the scanner's reader to end (it runs on a blocking thread the runtime does not stop).
    stop_scanner: Arc<AtomicBool>,
    /// Kept alive while the kiosk runs (dropped with the runtime).
    _local_hub: Option<RunningHub>,
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
            .enable_all()
            .build()
            .map_err(|e| KioskError::Workers(e.to_string()))?;
        let intake = Arc::new(Mutex::new(Kiosk::open(config.clone())?));
        let printing = Arc::new(Mutex::new(Kiosk::open(config.clone())?));
        let tracking = Arc::new(tokio::sync::Mutex::new(Kiosk::open(config.clone())?));
        let mut outbox = Kiosk::open(config.clone())?;
        let connection = runtime
            .block_on(connect(&config, Listen::TrackingAddress))
            .map_err(|e| KioskError::Upstream(e.to_string()))?;
        let upstream = connection.upstream.clone();
        let wake_outbox = Arc::new(Notify::new());
        let printer_state: Arc<Mutex<Option<PrinterState>>> = Arc::new(Mutex::new(None));
        let wake_printer = Arc::new(Notify::new());
        let (events, receiver) = mpsc::unbounded_channel();
        let stop_scanner = Arc::new(AtomicBool::new(false));
        if let Some(port) = config.scanner.port.clone() {
            let (events, stop) = (events.clone(), stop_scanner.clone());
            let baud = config.scanner.baud;
            runtime.spawn_blocking(move || {
                let timing = scanner::Timing::default();
                let stopped = || stop.load(Ordering::Relaxed) || events.is_closed();
                scanner::run(&port, baud, timing, &stopped, |event| {
                    let event = match event {
                        ScannerEvent::Scan(scan) => BackendEvent::Scan(scan),
                        ScannerEvent::Connected => {
                            eprintln!("scanner: reading {port} ({baud} 8N1)");
                            BackendEvent::Scanner(true)
                        }
                        ScannerEvent::Lost(why) => {
                            eprintln!(
                                "scanner: {why}; trying again every {} s",
                                timing.reopen_after.as_secs()
                            );
                            BackendEvent::Scanner(false)
                        }
                    };
                    let _ = events.send(event);
                });
            });
        }
        let profile = config.printer_profile();
        let printer = Arc::new(Mutex::new(configured_printer(&config)));
        let poll = Duration::from_secs(u64::from(config.printer.status_poll_s));
        let wake = wake_printer.clone();
        let known_state = printer_state.clone();
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
                        *known_state.lock().unwrap_or_else(|p| p.into_inner()) = Some(state);
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
        let (to, wake) = (upstream.clone(), wake_outbox.clone());
        let profile = config.printer_profile();
        runtime.spawn(async move {
            let mut last_beat: Option<std::time::Instant> = None;
            loop {
                match outbox.drain_outbox(&to, false).await {
                    Ok(report) if report.retried + report.failed > 0 => {
                        if let Some(e) = report.last_error {
                            eprintln!("outbox: {e}");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("outbox: {e}"),
                }
                if last_beat.is_none_or(|t| t.elapsed() >= HEARTBEAT) {
                    last_beat = Some(std::time::Instant::now());
                    let state = *printer_state.lock().unwrap_or_else(|p| p.into_inner());
                    if let Ok(beat) = outbox.heartbeat(state, &profile) {
                        if let Err(e) = to.heartbeat(&beat).await {
                            eprintln!("heartbeat: {e}");
                        }
                    }
                }
                // Sleep until the next retry falls due or the next heartbeat, whichever is
                // first, unless an intake wakes us.
                let until_due = outbox
                    .outbox_next_due()
                    .ok()
                    .flatten()
                    .map(|due| (due - chrono::Utc::now()).to_std().unwrap_or_default())
                    .unwrap_or(HEARTBEAT)
                    .min(HEARTBEAT);
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(until_due) => {}
                }
            }
        });
        Ok((
            Backend {
                runtime: Some(runtime),
                intake,
                tracking,
                upstream,
                wake_printer,
                wake_outbox,
                stop_scanner,
                _local_hub: connection.local_hub,
            },
            receiver,
        ))
    }

    /// Files a draft on the blocking pool; the answer arrives on the returned channel. The print
    /// queue is woken as soon as the case is durable.
    pub fn submit(&self, draft: CaseDraft) -> oneshot::Receiver<Result<Filed, KioskError>> {
        let (reply, answer) = oneshot::channel();
        let intake = self.intake.clone();
        let (wake_printer, wake_outbox) = (self.wake_printer.clone(), self.wake_outbox.clone());
        if let Some(runtime) = &self.runtime {
            runtime.spawn_blocking(move || {
                let result = intake
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .file_case(&draft);
                if result.is_ok() {
                    wake_printer.notify_one();
                    wake_outbox.notify_one();
                }
                let _ = reply.send(result);
            });
        }
        answer
    }

    /// Looks a case up by a typed or scanned code, asking upstream.
    pub fn track(&self, code: String) -> oneshot::Receiver<Result<Tracked, KioskError>> {
        let (reply, answer) = oneshot::channel();
        let (tracking, upstream) = (self.tracking.clone(), self.upstream.clone());
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                let mut kiosk = tracking.lock().await;
                let _ = reply.send(kiosk.track(&code, Some(&upstream)).await);
            });
        }
        answer
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop_scanner.store(true, Ordering::Relaxed);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
