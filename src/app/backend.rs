//! The kiosk's work off the UI thread. A tokio runtime runs the intake (a blocking SQLite
//! commit, on the blocking pool), the print queue, the outbox and the lookups of "track my
//! case"; results come back to the UI as futures and a channel that the UI awaits with
//! `slint::spawn_local`, so the event loop never waits on a disk, a printer or the network.
//!
//! Tasks, each with its own database connection:
//! - the print queue: a pass after each intake and every `status_poll_s`;
//! - the outbox: drains what is due after each intake (and each queue, booking or attendance
//!   change) and whenever the next retry falls due, then sends the station's queues, bookings
//!   and attendance upstream when they changed (`Kiosk::sync_station`); fetches the roster the
//!   district set (`Kiosk::sync_roster`) at start and hourly; sends a heartbeat every minute; and
//!   drains everything at once when staff press "retry now";
//! - with no upstream configured, the local hub (`upstream::local`), serving on loopback;
//! - with a serial scanner configured, its reader (`scanner::run`) on a blocking thread of the
//!   runtime, each line it reads sent to the screen as a [`BackendEvent::Scan`].
//!
//! The touchscreen's other operations (a ticket, a booking, a check-in, the staff console's
//! actions) run through [`Backend::run`] on the blocking pool, on the intake's connection; the
//! staff's printer actions through the print queue's connection and printer, so that they never
//! talk to the printer at the same time as the queue.
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
use crate::kiosk::{
    configured_printer, sample_slip_content, waiting_reason, DrainReport, Filed, Kiosk, KioskError,
    PrintOutcome, Tracked,
};
use crate::printer::profile::PrinterProfile;
use crate::printer::status::PrinterState;
use crate::printer::transport::PrinterLink;
use crate::scanner::{self, Scan, ScannerEvent};
use crate::store::Store;
use crate::systemd::Liveness;
use crate::upstream::client::Upstream;
use crate::upstream::local::{connect, Listen};

/// How often the kiosk tells upstream how it is.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// How long each watched part may go quiet before the watchdog calls it stuck: the UI loop
/// beats every few seconds; a print pass against a printer that has stopped answering waits out
/// its timeouts; an outbox round against an upstream that does not answer waits out four
/// requests' timeouts, then sleeps up to a heartbeat.
pub const QUIET_ALLOWED: [(&str, Duration); 3] = [
    ("ui", Duration::from_secs(30)),
    ("printer", Duration::from_secs(120)),
    ("outbox", Duration::from_secs(180)),
];

/// How often the kiosk asks the district for the station's roster.
const ROSTER_EVERY: Duration = Duration::from_secs(3600);

/// Staff waiting for a "retry now" drain of the outbox, answered by the outbox task.
type RetryRequests = Arc<Mutex<Vec<oneshot::Sender<Result<DrainReport, String>>>>>;

/// What a test page came to: printed, or why not.
pub type TestPrint = Result<(), String>;

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
    config: Arc<KioskConfig>,
    intake: Arc<Mutex<Kiosk>>,
    tracking: Arc<tokio::sync::Mutex<Kiosk>>,
    /// The print queue's connection and the printer, shared with the staff's printer actions.
    printing: Arc<Mutex<Kiosk>>,
    printer: Arc<Mutex<Box<dyn PrinterLink>>>,
    profile: PrinterProfile,
    /// The print job the queue last worked on: "reprint the last slip".
    last_job: Arc<Mutex<Option<i64>>>,
    events: mpsc::UnboundedSender<BackendEvent>,
    retry_requests: RetryRequests,
    upstream: Upstream,
    wake_printer: Arc<Notify>,
    wake_outbox: Arc<Notify>,
    /// What the watchdog watches: the print queue and the outbox beat here, the UI loop too.
    liveness: Liveness,
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
        Backend::start_watched(config, &QUIET_ALLOWED)
    }

    /// [`Backend::start`] with the watchdog's allowances given (each watched part and how long it
    /// may go without a beat): the kiosk uses [`QUIET_ALLOWED`]; the watchdog's tests shorten
    /// them.
    pub fn start_watched(
        config: Arc<KioskConfig>,
        quiet_allowed: &[(&'static str, Duration)],
    ) -> Result<(Backend, mpsc::UnboundedReceiver<BackendEvent>), KioskError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-worker")
            .enable_all()
            .build()
            .map_err(|e| KioskError::Workers(e.to_string()))?;
        // The database is checked before anything else opens it (a damaged one is moved aside).
        let (first, moved) = Kiosk::open_at_start(config.clone(), chrono::Utc::now())?;
        if let Some(m) = moved {
            eprintln!(
                "database: failed its check at start ({}); moved to {} and started a fresh one",
                m.problem,
                m.to.display()
            );
        }
        let intake = Arc::new(Mutex::new(first));
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
        let last_job: Arc<Mutex<Option<i64>>> = Arc::new(Mutex::new(None));
        let poll = Duration::from_secs(u64::from(config.printer.status_poll_s));
        let wake = wake_printer.clone();
        let known_state = printer_state.clone();
        let (task_printing, task_printer, task_events, task_profile, task_last_job) = (
            printing.clone(),
            printer.clone(),
            events.clone(),
            profile.clone(),
            last_job.clone(),
        );
        let liveness = Liveness::new(quiet_allowed);
        let printer_beat = liveness.beat("printer");
        runtime.spawn(async move {
            let (printing, printer, events, profile) =
                (task_printing, task_printer, task_events, task_profile);
            let mut last_state = None;
            loop {
                printer_beat.beat();
                let (kiosk, printer, job_events, profile, last_job) = (
                    printing.clone(),
                    printer.clone(),
                    events.clone(),
                    profile.clone(),
                    task_last_job.clone(),
                );
                let pass = tokio::task::spawn_blocking(move || {
                    let mut kiosk = kiosk.lock().unwrap_or_else(|p| p.into_inner());
                    let mut printer = printer.lock().unwrap_or_else(|p| p.into_inner());
                    kiosk.print_pending(printer.as_mut(), &profile, |outcome| {
                        *last_job.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.job_id);
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
        let profile_for_beat = config.printer_profile();
        let retry_requests: RetryRequests = Arc::new(Mutex::new(Vec::new()));
        let requests = retry_requests.clone();
        let outbox_beat = liveness.beat("outbox");
        runtime.spawn(async move {
            let profile = profile_for_beat;
            let mut last_beat: Option<std::time::Instant> = None;
            let mut last_roster: Option<std::time::Instant> = None;
            loop {
                outbox_beat.beat();
                // Staff pressed "retry now": everything pending is due, and what upstream once
                // refused is tried again; they hear how it went.
                let asking: Vec<_> =
                    std::mem::take(&mut *requests.lock().unwrap_or_else(|p| p.into_inner()));
                let drained = outbox.drain_outbox(&to, !asking.is_empty()).await;
                match &drained {
                    Ok(report) if report.retried + report.failed > 0 => {
                        if let Some(e) = &report.last_error {
                            eprintln!("outbox: {e}");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("outbox: {e}"),
                }
                for reply in asking {
                    let answer = match &drained {
                        Ok(report) => Ok(report.clone()),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = reply.send(answer);
                }
                if last_roster.is_none_or(|t| t.elapsed() >= ROSTER_EVERY) {
                    last_roster = Some(std::time::Instant::now());
                    if let Err(e) = outbox.sync_roster(&to).await {
                        eprintln!("roster: {e}");
                    }
                }
                // The station's queues, bookings and attendance, when they changed.
                if let Err(e) = outbox.sync_station(&to, false).await {
                    eprintln!("station state: {e}");
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
                // Sleep until the next retry (of the outbox or the station's state) falls due
                // or the next heartbeat, whichever is first, unless a change wakes us.
                let now = chrono::Utc::now();
                let station_due = outbox
                    .store()
                    .sync_state()
                    .ok()
                    .filter(|s| s.generation > s.sent)
                    .and_then(|s| s.next_try_at);
                let until_due = [outbox.outbox_next_due().ok().flatten(), station_due]
                    .into_iter()
                    .flatten()
                    .map(|due| (due - now).to_std().unwrap_or_default())
                    .min()
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
                config,
                intake,
                tracking,
                printing,
                printer,
                profile,
                last_job,
                events,
                retry_requests,
                upstream,
                wake_printer,
                wake_outbox,
                liveness,
                stop_scanner,
                _local_hub: connection.local_hub,
            },
            receiver,
        ))
    }

    /// Files a draft on the blocking pool; the answer arrives on the returned channel. The print
    /// queue is woken as soon as the case is durable.
    /// What the watchdog watches (the UI beats its part, `ui`).
    pub fn liveness(&self) -> Liveness {
        self.liveness.clone()
    }

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

    /// Runs one of the kiosk's operations on the blocking pool, on the intake's connection; the
    /// answer arrives on the returned channel. With `changes` (a ticket, a booking, a check-in,
    /// a call, attendance), a success wakes the print queue (a slip may wait) and the outbox
    /// (the hub's copy of the station is out of date).
    pub fn run<T: Send + 'static>(
        &self,
        changes: bool,
        job: impl FnOnce(&mut Kiosk) -> Result<T, KioskError> + Send + 'static,
    ) -> oneshot::Receiver<Result<T, KioskError>> {
        let (reply, answer) = oneshot::channel();
        let intake = self.intake.clone();
        let (wake_printer, wake_outbox) = (self.wake_printer.clone(), self.wake_outbox.clone());
        if let Some(runtime) = &self.runtime {
            runtime.spawn_blocking(move || {
                let result = job(&mut intake.lock().unwrap_or_else(|p| p.into_inner()));
                if changes && result.is_ok() {
                    wake_printer.notify_one();
                    wake_outbox.notify_one();
                }
                let _ = reply.send(result);
            });
        }
        answer
    }

    /// Runs a staff action on the printer, holding the print queue's connection and the printer
    /// (so it never interleaves with a pass of the queue). What happens to slips on the way is
    /// reported as the queue's own events are. An action that never returns (a wedged driver)
    /// holds up the print queue, which then stops beating: the watchdog's test does that.
    pub fn with_printer<T: Send + 'static>(
        &self,
        job: impl FnOnce(
                &mut Kiosk,
                &mut dyn PrinterLink,
                &PrinterProfile,
                &dyn Fn(&PrintOutcome),
            ) -> Result<T, KioskError>
            + Send
            + 'static,
    ) -> oneshot::Receiver<Result<T, KioskError>> {
        let (reply, answer) = oneshot::channel();
        let (printing, printer, profile) = (
            self.printing.clone(),
            self.printer.clone(),
            self.profile.clone(),
        );
        let (events, last_job) = (self.events.clone(), self.last_job.clone());
        if let Some(runtime) = &self.runtime {
            runtime.spawn_blocking(move || {
                let mut kiosk = printing.lock().unwrap_or_else(|p| p.into_inner());
                let mut printer = printer.lock().unwrap_or_else(|p| p.into_inner());
                let report = |outcome: &PrintOutcome| {
                    *last_job.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.job_id);
                    let _ = events.send(BackendEvent::Job(outcome.clone()));
                };
                let result = job(&mut kiosk, printer.as_mut(), &profile, &report);
                let state = printer.status().state();
                let _ = events.send(BackendEvent::Printer(state));
                let _ = reply.send(result);
            });
        }
        answer
    }

    /// Staff put in a new roll: the estimate starts again and waiting slips print.
    pub fn paper_refilled(&self) -> oneshot::Receiver<Result<(), KioskError>> {
        self.with_printer(|kiosk, printer, profile, report| {
            let pass = kiosk.paper_refilled(printer, profile)?;
            pass.outcomes.iter().for_each(report);
            kiosk.audit(
                "paper-refilled",
                "a new roll was put in",
                chrono::Utc::now(),
            )
        })
    }

    /// Prints a sample slip (as `printer test` does): printed, or why not.
    pub fn test_print(&self) -> oneshot::Receiver<Result<TestPrint, KioskError>> {
        let config = self.config.clone();
        self.with_printer(move |kiosk, printer, profile, _| {
            let before = printer.status().state();
            let outcome = if !before.can_print() {
                Err(waiting_reason(before).replace("waiting: ", ""))
            } else {
                let content = sample_slip_content(&config, crate::domain::Language::Zh);
                let bytes =
                    crate::printer::encode(&crate::printer::layout(&content, profile), profile);
                match printer.send("test", &bytes) {
                    Err(e) => Err(e.to_string()),
                    Ok(()) => {
                        let finished = printer.finish();
                        let after = printer.status().state();
                        if finished == Some(false) || !after.can_print() {
                            Err(format!("interrupted: printer {}", after.as_str()))
                        } else {
                            Ok(())
                        }
                    }
                }
            };
            let detail = match &outcome {
                Ok(()) => "printed".to_owned(),
                Err(why) => format!("not printed: {why}"),
            };
            kiosk.audit("printer-test", &detail, chrono::Utc::now())?;
            Ok(outcome)
        })
    }

    /// Reprints the slip the print queue last worked on (a case, a ticket or a booking);
    /// `false` when no slip has been printed since the kiosk started.
    pub fn reprint_last(&self) -> oneshot::Receiver<Result<bool, KioskError>> {
        let (data_dir, last_job) = (self.config.data_dir.clone(), self.last_job.clone());
        self.with_printer(move |kiosk, printer, profile, report| {
            let Some(job) = *last_job.lock().unwrap_or_else(|p| p.into_inner()) else {
                return Ok(false);
            };
            let now = chrono::Utc::now();
            // `Kiosk` reprints a case by its code only; a ticket's or a booking's slip is
            // reprinted by its print job, through the store.
            Store::open(&data_dir)?.reprint_job(job, now)?;
            kiosk.audit("reprint", &format!("the slip of print job {job}"), now)?;
            kiosk.print_pending(printer, profile, report)?;
            Ok(true)
        })
    }

    /// Staff's "retry now": the outbox task drains everything (what upstream once refused
    /// too) and answers with what happened.
    pub fn retry_outbox(&self) -> oneshot::Receiver<Result<DrainReport, String>> {
        let (reply, answer) = oneshot::channel();
        self.retry_requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(reply);
        self.wake_outbox.notify_one();
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
