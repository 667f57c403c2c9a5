//! The kiosk's work off the UI thread. A tokio runtime runs the intake (a blocking SQLite
//! commit, on the blocking pool), the print queue, the outbox and the lookups of "track my
//! case"; results come back to the UI as futures and a channel that the UI awaits with
//! `slint::spawn_local`, so the event loop never waits on a disk, a printer or the network.
//!
//! Tasks, each a type of its own in `app::tasks` with its own database connection:
//! - the print queue (`PrintQueue`): a pass after each intake and every `status_poll_s`;
//! - the outbox (`Outbox`): drains what is due after each intake (and each queue, booking or
//!   attendance change) and whenever the next retry falls due, then sends the station's
//!   queues, bookings and attendance upstream when they changed (`Kiosk::sync_station`), and
//!   drains everything at once when staff press "retry now";
//! - the roster (`RosterSync`): fetches the roster the district set (`Kiosk::sync_roster`)
//!   at start and hourly;
//! - the heartbeat (`Heartbeat`): every minute;
//! - with a serial scanner configured, its reader (`ScannerReader`) on a blocking thread of
//!   the runtime, each line it reads sent to the screen as a [`BackendEvent::Scan`];
//! - with no upstream configured, the local hub (`local_hub`), serving on loopback.
//!
//! The touchscreen's other operations (a ticket, a booking, a check-in, the staff console's
//! actions) run on the blocking pool too, on the intake's connection; the staff's printer
//! actions through the print queue's connection and printer, so that they never talk to the
//! printer at the same time as the queue. The controller asks for all of them through
//! [`Operations`], which the backend implements by handing each answer to the UI thread with
//! `slint::spawn_local`; the pinyin dictionary loads on a thread of its own.
//!
//! Dropping the [`Backend`] stops it in this order, waiting for each part at most
//! `Task::stop_within` (a part that takes longer is left to the runtime's end, which loses
//! nothing: every part's work is in the database), each reported as
//! [`BackendEvent::Stopped`]: the screen's operations (no new one; those in flight finish),
//! the scanner, the print queue (the slip being printed comes out), the outbox (the request in
//! flight gets its answer), the roster, the heartbeat, and last the local hub, which the
//! others talk to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::controller::{Job, Operations, Reply};
use super::tasks::heartbeat::Heartbeat;
use super::tasks::intake::IntakeGate;
use super::tasks::outbox::{Outbox, RetryRequests};
use super::tasks::print_queue::{log_outcome, PrintQueue};
use super::tasks::roster::RosterSync;
use super::tasks::scanner::ScannerReader;
pub use super::tasks::Task;
use super::tasks::{stopped_in_time, Running};
use crate::local_hub::{connect, Listen};
use devices::printer::transport::PrinterLink;
use devices::scanner::Scan;
use devices::systemd::Liveness;
use domain::CaseDraft;
use handwriting::{ModelError, Recognizer};
use hub::RunningHub;
use ime::{Dictionary, DictionaryError};
use slip::profile::PrinterProfile;
use slip::status::PrinterState;
use station::config::KioskConfig;
use station::kiosk::{
    configured_printer, DrainReport, Filed, Kiosk, KioskError, PrintOutcome, TestPrintFailure,
    Tracked,
};
use station::upstream::client::Upstream;

/// How long each watched part may go quiet before the watchdog calls it stuck: the UI loop
/// beats every few seconds; a print pass against a printer that has stopped answering waits out
/// its timeouts; an outbox round against an upstream that does not answer waits out its
/// requests' timeouts, then sleeps up to a minute. (The roster and the heartbeat are not
/// watched: see their tasks.)
pub const QUIET_ALLOWED: [(&str, Duration); 3] = [
    ("ui", Duration::from_secs(30)),
    ("printer", Duration::from_secs(120)),
    ("outbox", Duration::from_secs(180)),
];

/// What a test page came to: printed, or why not.
pub type TestPrint = Result<(), TestPrintFailure>;

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
    /// A part of the backend stopped (the backend is being dropped), in the order they stop.
    Stopped(Task),
}

pub struct Backend {
    runtime: Option<Runtime>,
    config: Arc<KioskConfig>,
    intake: Arc<Mutex<Kiosk>>,
    /// The door of the screen's operations, closed first when the backend stops.
    intakes: Arc<IntakeGate>,
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
    /// The long-running tasks, in the order they stop.
    tasks: Vec<Running>,
    /// The hub run inside the kiosk when no upstream is configured; stopped last.
    local_hub: Option<RunningHub>,
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
        let (first, moved) = Kiosk::open_at_start(config.clone(), config.clock.now())?;
        if let Some(m) = moved {
            tracing::error!(
                problem = %m.problem,
                moved_to = %m.to.display(),
                "database: failed its check at start; moved aside, and a fresh one started"
            );
        }
        let connection = runtime
            .block_on(connect(&config, Listen::TrackingAddress))
            .map_err(|e| KioskError::Upstream(e.to_string()))?;
        let upstream = connection.upstream.clone();
        let (events, receiver) = mpsc::unbounded_channel();
        let liveness = Liveness::new(quiet_allowed);
        let (wake_printer, wake_outbox) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        // Each task's own connection, all opened before any task starts.
        let printing = Arc::new(Mutex::new(Kiosk::open(config.clone())?));
        let tracking = Arc::new(tokio::sync::Mutex::new(Kiosk::open(config.clone())?));
        let (for_outbox, for_roster, for_heartbeat) = (
            Kiosk::open(config.clone())?,
            Kiosk::open(config.clone())?,
            Kiosk::open(config.clone())?,
        );
        let printer = Arc::new(Mutex::new(configured_printer(&config)));
        let profile = config.printer_profile();
        let last_job: Arc<Mutex<Option<i64>>> = Arc::new(Mutex::new(None));
        let retry_requests: RetryRequests = Arc::new(Mutex::new(Vec::new()));
        let (printer_state, printer_seen) = watch::channel(None);

        // The long-running tasks, in the order they stop (see the module's documentation).
        let handle = runtime.handle();
        let mut tasks = Vec::new();
        if let Some(port) = config.scanner.port.clone() {
            let reader = ScannerReader {
                port,
                baud: config.scanner.baud,
                events: events.clone(),
            };
            tasks.push(Running::spawn_blocking(
                handle,
                Task::Scanner,
                &events,
                |s| reader.run(s),
            ));
        }
        let print_queue = PrintQueue {
            kiosk: printing.clone(),
            printer: printer.clone(),
            profile: profile.clone(),
            events: events.clone(),
            last_job: last_job.clone(),
            state: printer_state,
            wake: wake_printer.clone(),
            poll: Duration::from_secs(u64::from(config.printer.status_poll_s)),
            beat: liveness.beat("printer"),
        };
        tasks.push(Running::spawn(handle, Task::PrintQueue, &events, |s| {
            print_queue.run(s)
        }));
        let outbox = Outbox {
            kiosk: for_outbox,
            upstream: upstream.clone(),
            wake: wake_outbox.clone(),
            retry_requests: retry_requests.clone(),
            beat: liveness.beat("outbox"),
        };
        tasks.push(Running::spawn(handle, Task::Outbox, &events, |s| {
            outbox.run(s)
        }));
        let roster = RosterSync {
            kiosk: for_roster,
            upstream: upstream.clone(),
        };
        tasks.push(Running::spawn(handle, Task::Roster, &events, |s| {
            roster.run(s)
        }));
        let heartbeat = Heartbeat {
            kiosk: for_heartbeat,
            upstream: upstream.clone(),
            printer: printer_seen,
            profile: profile.clone(),
        };
        tasks.push(Running::spawn(handle, Task::Heartbeat, &events, |s| {
            heartbeat.run(s)
        }));

        Ok((
            Backend {
                intake: Arc::new(Mutex::new(first)),
                intakes: Arc::new(IntakeGate::new()),
                tracking,
                runtime: Some(runtime),
                config,
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
                tasks,
                local_hub: connection.local_hub,
            },
            receiver,
        ))
    }

    /// What the watchdog watches (the UI beats its part, `ui`).
    pub fn liveness(&self) -> Liveness {
        self.liveness.clone()
    }

    /// Files a draft on the blocking pool; the answer arrives on the returned channel. The print
    /// queue is woken as soon as the case is durable.
    pub fn submit(&self, draft: CaseDraft) -> oneshot::Receiver<Result<Filed, KioskError>> {
        let (reply, answer) = oneshot::channel();
        self.on_intake(true, move |kiosk| {
            let result = kiosk.file_case(&draft);
            let filed = result.is_ok();
            let _ = reply.send(result);
            filed
        });
        answer
    }

    /// Runs `job` on the blocking pool, on the intake's connection. With `changes` (a case, a
    /// ticket, a booking, a check-in, a call, attendance), a success (`job` returns `true`)
    /// wakes the print queue (a slip may wait) and the outbox (the hub's copy of the station is
    /// out of date).
    /// Once the backend is stopping, `job` is not run (its replies are dropped unanswered).
    fn on_intake(&self, changes: bool, job: impl FnOnce(&mut Kiosk) -> bool + Send + 'static) {
        let intake = self.intake.clone();
        let (wake_printer, wake_outbox) = (self.wake_printer.clone(), self.wake_outbox.clone());
        if let (Some(runtime), Some(in_flight)) = (&self.runtime, self.intakes.enter()) {
            runtime.spawn_blocking(move || {
                let _in_flight = in_flight;
                let succeeded = job(&mut intake.lock().unwrap_or_else(|p| p.into_inner()));
                if changes && succeeded {
                    wake_printer.notify_one();
                    wake_outbox.notify_one();
                }
            });
        }
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
        if let (Some(runtime), Some(in_flight)) = (&self.runtime, self.intakes.enter()) {
            runtime.spawn_blocking(move || {
                let _in_flight = in_flight;
                let mut kiosk = printing.lock().unwrap_or_else(|p| p.into_inner());
                let mut printer = printer.lock().unwrap_or_else(|p| p.into_inner());
                let report = |outcome: &PrintOutcome| {
                    *last_job.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.job_id);
                    log_outcome(outcome);
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
            kiosk.audit("paper-refilled", "a new roll was put in", kiosk.now())
        })
    }

    /// Prints a sample slip (as `printer test` does): printed, or why not.
    pub fn test_print(&self) -> oneshot::Receiver<Result<TestPrint, KioskError>> {
        let config = self.config.clone();
        self.with_printer(move |kiosk, printer, profile, _| {
            let outcome =
                station::kiosk::test_print(&config, printer, profile, config.ui.default_language)
                    .outcome;
            let detail = match &outcome {
                Ok(()) => "printed".to_owned(),
                Err(why) => format!("not printed: {why}"),
            };
            let now = kiosk.now();
            kiosk.audit("printer-test", &detail, now)?;
            Ok(outcome)
        })
    }

    /// Reprints the slip the print queue last worked on (a case, a ticket or a booking);
    /// `false` when no slip has been printed since the kiosk started.
    pub fn reprint_last(&self) -> oneshot::Receiver<Result<bool, KioskError>> {
        let last_job = self.last_job.clone();
        self.with_printer(move |kiosk, printer, profile, report| {
            let Some(job) = *last_job.lock().unwrap_or_else(|p| p.into_inner()) else {
                return Ok(false);
            };
            kiosk.reprint_job(job, printer, profile, report)?;
            Ok(true)
        })
    }

    /// Staff's "retry now": the outbox task drains everything (what upstream once refused
    /// too) and answers with what happened.
    pub fn retry_outbox(&self) -> oneshot::Receiver<Result<DrainReport, Arc<KioskError>>> {
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
        if let (Some(runtime), Some(in_flight)) = (&self.runtime, self.intakes.enter()) {
            runtime.spawn(async move {
                let _in_flight = in_flight;
                let mut kiosk = tracking.lock().await;
                let _ = reply.send(kiosk.track(&code, Some(&upstream)).await);
            });
        }
        answer
    }
}

impl Operations for Backend {
    fn run(&self, changes: bool, job: Job, answered: Reply<()>) {
        let (done, finished) = oneshot::channel();
        self.on_intake(changes, move |kiosk| {
            let succeeded = job(kiosk);
            let _ = done.send(());
            succeeded
        });
        // Answered also when the worker stopped without running the job: the controller then
        // finds no answer in it, and says so.
        on_ui_thread(finished, move |_| answered(()));
    }

    fn track(&self, code: String, reply: Reply<Result<Tracked, KioskError>>) {
        on_ui_thread(Backend::track(self, code), move |answer| {
            reply(
                answer.unwrap_or_else(|| {
                    Err(KioskError::Workers("the tracking worker stopped".into()))
                }),
            )
        });
    }

    fn rate(
        &self,
        code: String,
        rating: String,
        reply: Reply<Result<protocol::RatingOffer, KioskError>>,
    ) {
        let (answer, answered) = oneshot::channel();
        let upstream = self.upstream.clone();
        if let (Some(runtime), Some(in_flight)) = (&self.runtime, self.intakes.enter()) {
            runtime.spawn(async move {
                let _in_flight = in_flight;
                let _ = answer.send(Kiosk::rate_case(&code, &rating, &upstream).await);
            });
        }
        on_ui_thread(answered, move |result| {
            reply(
                result.unwrap_or_else(|| {
                    Err(KioskError::Workers("the tracking worker stopped".into()))
                }),
            )
        });
    }

    /// Parses the dictionary on a thread of its own (half a second in a debug build).
    fn load_dictionary(&self, reply: Reply<Result<Dictionary, DictionaryError>>) {
        let path = self.config.ime.dictionary.clone();
        let shown = path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(built in)".into());
        let stopped = |path: String, reason: String| DictionaryError::Unreadable { path, reason };
        let (tx, rx) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("pinyin-dictionary".into())
            .spawn(move || {
                let _ = tx.send(Dictionary::configured(path.as_deref()));
            });
        if let Err(e) = spawned {
            reply(Err(stopped(shown, e.to_string())));
            return;
        }
        on_ui_thread(rx, move |dict| {
            reply(dict.unwrap_or_else(|| Err(stopped(shown, "the loading thread stopped".into()))))
        });
    }

    fn load_handwriting(&self, reply: Reply<Result<Arc<Recognizer>, ModelError>>) {
        let paths = self.config.ime.handwriting_models.clone();
        let shown = paths
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let stopped = |path: String, reason: String| ModelError::Unreadable { path, reason };
        let (tx, rx) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("handwriting-model".into())
            .spawn(move || {
                let _ = tx.send(load_handwriting_models(&paths).map(Arc::new));
            });
        if let Err(e) = spawned {
            reply(Err(stopped(shown, e.to_string())));
            return;
        }
        on_ui_thread(rx, move |model| {
            reply(model.unwrap_or_else(|| Err(stopped(shown, "the loading thread stopped".into()))))
        });
    }

    fn paper_refilled(&self, reply: Reply<Option<Result<(), KioskError>>>) {
        on_ui_thread(Backend::paper_refilled(self), reply);
    }

    fn test_print(&self, reply: Reply<Option<Result<TestPrint, KioskError>>>) {
        on_ui_thread(Backend::test_print(self), reply);
    }

    fn reprint_last(&self, reply: Reply<Option<Result<bool, KioskError>>>) {
        on_ui_thread(Backend::reprint_last(self), reply);
    }

    fn retry_outbox(&self, reply: Reply<Option<Result<DrainReport, Arc<KioskError>>>>) {
        on_ui_thread(Backend::retry_outbox(self), reply);
    }
}

/// Hands an answer of the workers to `reply` on the UI thread when it comes, without the UI
/// thread waiting for it (`None`: the worker stopped before answering).
fn on_ui_thread<T: 'static>(answer: oneshot::Receiver<T>, reply: impl FnOnce(Option<T>) + 'static) {
    let waiting = slint::spawn_local(async move { reply(answer.await.ok()) });
    if let Err(e) = waiting {
        tracing::error!(error = %e, "an answer of the kiosk will not reach the screen");
    }
}

impl Drop for Backend {
    /// Stops the backend in order (see the module's documentation), then the runtime.
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let stopping = Stopping {
            intakes: self.intakes.clone(),
            tasks: std::mem::take(&mut self.tasks),
            local_hub: self.local_hub.take(),
            events: self.events.clone(),
        };
        // On a thread of its own: the backend may be dropped on a thread of an async runtime,
        // where waiting for this one's tasks is not allowed.
        let stopped = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("kiosk-stopping".into())
                .spawn_scoped(scope, || runtime.block_on(stopping.stop()))
                .map(|thread| thread.join().unwrap_or(false))
        });
        match stopped {
            Ok(true) => tracing::info!("backend: stopped, every part in time"),
            Ok(false) => tracing::warn!("backend: stopped; a part did not stop in time"),
            Err(e) => tracing::error!(error = %e, "backend: cannot stop its parts in order"),
        }
        // What did not stop in time: async tasks end at their next `await`, blocking ones
        // finish on their own.
        runtime.shutdown_background();
    }
}

/// What the backend stops, taken out of it as it is dropped.
struct Stopping {
    intakes: Arc<IntakeGate>,
    tasks: Vec<Running>,
    local_hub: Option<RunningHub>,
    events: mpsc::UnboundedSender<BackendEvent>,
}

impl Stopping {
    /// The screen's operations first (none new; those in flight finish), then each task in
    /// the order it was started in, then the local hub. Returns whether every part stopped in
    /// time.
    async fn stop(self) -> bool {
        let mut all = stopped_in_time(Task::Intake, self.intakes.close()).await;
        if all {
            let _ = self.events.send(BackendEvent::Stopped(Task::Intake));
        }
        for task in self.tasks {
            all &= task.stop().await;
        }
        if let Some(hub) = self.local_hub {
            let stopping = async {
                if let Err(e) = hub.shutdown().await {
                    tracing::warn!(error = %format!("{e:#}"), "local hub: stopped with an error");
                }
            };
            if stopped_in_time(Task::LocalHub, stopping).await {
                let _ = self.events.send(BackendEvent::Stopped(Task::LocalHub));
            } else {
                all = false;
            }
        }
        all
    }
}

/// The handwriting pad's recognizer from `[ime] handwriting_models`: the first model must load;
/// each other one that loads is a second opinion, one that does not is logged and left out.
pub(crate) fn load_handwriting_models(
    paths: &[std::path::PathBuf],
) -> Result<Recognizer, ModelError> {
    let (first, others) = paths.split_first().ok_or(ModelError::NoModel)?;
    let mut recognizer = handwriting::load(first)?;
    for path in others {
        match handwriting::load(path) {
            Ok(opinion) => recognizer = recognizer.with(opinion),
            Err(e) => tracing::warn!(error = %e, "handwriting: a second opinion is missing"),
        }
    }
    Ok(recognizer)
}
