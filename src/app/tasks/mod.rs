//! The backend's long-running tasks, one file each, in the way of mini-redis: each task is a
//! type that holds what it needs (its own database connection, the channels it reports on) and
//! has a `run(self, shutdown)` that loops until the backend asks it to stop.
//!
//! - [`print_queue::PrintQueue`]: prints waiting slips (after each intake, every poll);
//! - [`outbox::Outbox`]: forwards cases upstream and sends the station's state;
//! - [`roster::RosterSync`]: fetches the roster the district set (at start, hourly);
//! - [`heartbeat::Heartbeat`]: tells upstream how the station is (every minute);
//! - [`scanner::ScannerReader`]: reads the serial barcode scanner (a blocking thread);
//! - [`intake::IntakeGate`]: not a loop but the door of the screen's operations, which the
//!   backend closes first when it stops.
//!
//! The backend (`app::backend`) starts them in one place and stops them in a stated order;
//! this module holds the stopping's mechanics: the [`Shutdown`] signal a task selects on, and
//! [`Running`], the backend's handle on a started task. A task says it stopped by sending
//! [`BackendEvent::Stopped`] as its `run` returns, so whoever listens to the backend (the
//! tests) sees the order in which they really stopped.
//!
//! What this module does not do: decide the order (the backend does) or cut a task short. A
//! task that does not stop within its time is left to the runtime's end, which drops it at its
//! next `await` (or, on the blocking pool, lets it finish on its own); every task keeps its
//! work in the database, so that loses nothing (see each file).

pub(crate) mod heartbeat;
pub(crate) mod intake;
pub(crate) mod outbox;
pub(crate) mod print_queue;
pub(crate) mod roster;
pub(crate) mod scanner;

use std::future::Future;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::backend::BackendEvent;

/// What the backend stops, in the order it stops them (each reported as
/// [`BackendEvent::Stopped`] once it has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// The screen's operations (an intake, a ticket, a staff action): no new one is taken, those
    /// in flight finish.
    Intake,
    /// The serial scanner's reader.
    Scanner,
    /// The print queue: finishes the pass it is in, so the slip being printed comes out.
    PrintQueue,
    /// The outbox: finishes the round it is in, so a request in flight gets its answer.
    Outbox,
    /// The roster's hourly fetch.
    Roster,
    /// The minute's heartbeat.
    Heartbeat,
    /// The hub run inside the kiosk when no upstream is configured (last: the others talk to
    /// it).
    LocalHub,
}

impl Task {
    /// How long the backend waits for the task to stop before it leaves it to the runtime's
    /// end. Together well under systemd's 90 s to stop a unit.
    pub(crate) fn stop_within(self) -> Duration {
        match self {
            // An operation is one SQLite transaction, which waits at most the busy timeout (5 s).
            Task::Intake => Duration::from_secs(10),
            // The reader looks at the signal between reads, which wait at most 200 ms.
            Task::Scanner => Duration::from_secs(2),
            // A slip takes a few seconds at 9600 baud; a printer that stops answering costs the
            // serial printer's timeouts (3 s for a stalled chunk, 8 s for the end of a job).
            Task::PrintQueue => Duration::from_secs(20),
            // One request's timeout (10 s) with room to record its answer.
            Task::Outbox => Duration::from_secs(15),
            // Both drop a request in flight at once: nothing of theirs is lost.
            Task::Roster | Task::Heartbeat => Duration::from_secs(2),
            // `RunningHub::shutdown` bounds its own wait (10 s) for requests in flight.
            Task::LocalHub => Duration::from_secs(12),
        }
    }
}

/// A task's side of the stop signal: the backend asks once, and it stays asked.
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once the backend asks the task to stop (at once if it already has, or if the
    /// backend is gone). For `tokio::select!`.
    pub(crate) async fn requested(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether the backend has asked the task to stop: for a blocking thread, between reads.
    pub(crate) fn is_requested(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }
}

/// A started task, as the backend holds it: the signal to stop it and its end.
pub(crate) struct Running {
    task: Task,
    stop: watch::Sender<bool>,
    done: JoinHandle<()>,
}

impl Running {
    /// Starts an async task on the runtime. It reports [`BackendEvent::Stopped`] when `run`
    /// returns.
    pub(crate) fn spawn<F>(
        runtime: &Handle,
        task: Task,
        events: &mpsc::UnboundedSender<BackendEvent>,
        run: impl FnOnce(Shutdown) -> F,
    ) -> Running
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, signal) = watch::channel(false);
        let (running, events) = (run(Shutdown(signal)), events.clone());
        let done = runtime.spawn(async move {
            running.await;
            let _ = events.send(BackendEvent::Stopped(task));
        });
        Running { task, stop, done }
    }

    /// Starts a task that blocks (it polls [`Shutdown::is_requested`]) on the runtime's
    /// blocking pool; it reports [`BackendEvent::Stopped`] when `run` returns.
    pub(crate) fn spawn_blocking(
        runtime: &Handle,
        task: Task,
        events: &mpsc::UnboundedSender<BackendEvent>,
        run: impl FnOnce(Shutdown) + Send + 'static,
    ) -> Running {
        let (stop, signal) = watch::channel(false);
        let events = events.clone();
        let done = runtime.spawn_blocking(move || {
            run(Shutdown(signal));
            let _ = events.send(BackendEvent::Stopped(task));
        });
        Running { task, stop, done }
    }

    /// Asks the task to stop and waits for it, at most [`Task::stop_within`]. Returns whether
    /// it stopped in time.
    pub(crate) async fn stop(self) -> bool {
        let _ = self.stop.send(true);
        stopped_in_time(self.task, self.done).await
    }
}

/// Waits for `done`, at most `task`'s time; says in the log how it went.
pub(crate) async fn stopped_in_time<T>(task: Task, done: impl Future<Output = T>) -> bool {
    let within = task.stop_within();
    match tokio::time::timeout(within, done).await {
        Ok(_) => {
            tracing::debug!(?task, "backend: stopped");
            true
        }
        Err(_) => {
            tracing::warn!(
                ?task,
                waited_s = within.as_secs(),
                "backend: did not stop in time; left to the end of the runtime"
            );
            false
        }
    }
}
