//! Work the hub does by itself on a timer: today, forgetting the heartbeats' history older than
//! a week; next, the deadlines and chases of the district's cases (DISTRICT.md §4).
//!
//! Every hub process ticks ([`TICK`]), but a job runs **once across all processes** that share
//! a database, whatever their number and however their clocks tick:
//!
//! - each job runs in one write transaction that first reads the job's row in `periodic_runs`
//!   and does nothing if the job ran less than its period ago, then does the work and writes the
//!   row: two processes that both find it due write the same row, and PostgreSQL's repeatable
//!   read lets only one commit (the other is tried again, finds it done and does nothing);
//! - on PostgreSQL each process first takes the job's advisory lock for the transaction
//!   (`pg_try_advisory_xact_lock`): a process that finds it taken skips the job at once instead
//!   of doing the work twice and throwing one copy away;
//! - on SQLite one process owns the file, and its writer is one connection.
//!
//! `periodic_runs` keeps, per job, when it last ran, how often it has run and what its last run
//! changed: the evidence the tests read.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use crate::config::HubConfig;
use crate::server::HubState;
use crate::store::sql::{args, Db};
use crate::store::{accounts, stations, HubStoreError};

/// How often each process looks for due jobs.
pub(crate) const TICK: Duration = Duration::from_secs(60);

/// One job: its name (its row in `periodic_runs`), its period and its work, which returns how
/// many rows it changed.
pub(crate) struct Job {
    pub(crate) name: &'static str,
    pub(crate) every: chrono::Duration,
    pub(crate) work: fn(&mut dyn Db, &HubConfig, DateTime<Utc>) -> Result<Done, HubStoreError>,
}

/// What one run of a job's work did: the rows it changed, and whether it stopped at its batch's
/// end with more to do (the job is then run again at once, in a transaction of its own, so
/// that no transaction grows without bound and a process killed midway loses one batch only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) changed: u64,
    pub(crate) more: bool,
}

impl Done {
    /// All done.
    pub(crate) fn all(changed: u64) -> Done {
        Done {
            changed,
            more: false,
        }
    }
}

/// Every periodic job.
pub(crate) const JOBS: &[Job] = &[
    Job {
        name: "heartbeat_history",
        every: chrono::Duration::hours(1),
        work: |db, _, now| stations::prune_history(db, now).map(Done::all),
    },
    // Expired sessions of the back office's people (they open nothing; this only tidies).
    Job {
        name: "sessions",
        every: chrono::Duration::hours(1),
        work: |db, _, now| accounts::prune_sessions(db, now).map(Done::all),
    },
    // The district's deadlines: reminders, chases and supervision (office::deadlines).
    Job {
        name: "deadlines",
        every: chrono::Duration::minutes(1),
        work: crate::office::deadlines::run,
    },
];

/// The advisory lock of a job on PostgreSQL: "grievance-hub periodic" and the job's place.
fn lock_key(index: usize) -> i64 {
    0x6772_6965_7670_0000 + index as i64
}

/// What one look at a job found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It was due and this process ran it, changing this many rows.
    Ran(u64),
    /// It ran less than its period ago (here or in another process).
    NotDue,
    /// Another process is running it right now.
    Busy,
}

/// Runs every job that is due at `now`, each in its own write transaction.
pub(crate) async fn run_due(
    state: &Arc<HubState>,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, Outcome)>, HubStoreError> {
    let store = state.store();
    let postgres = store.is_postgres();
    let mut outcomes = Vec::new();
    for (index, job) in JOBS.iter().enumerate() {
        let mut total = None;
        let mut continuing = false;
        // A job with more to do runs again at once, a batch a transaction.
        for _ in 0..MAX_BATCHES {
            let state = Arc::clone(state);
            let lock = postgres.then(|| lock_key(index));
            let (outcome, more) = store
                .write(move |db| run_one(db, job, state.config(), lock, now, continuing))
                .await?;
            match outcome {
                Outcome::Ran(changed) => {
                    total = Some(total.unwrap_or(0) + changed);
                    if !more {
                        break;
                    }
                    continuing = true;
                }
                other if total.is_none() => {
                    outcomes.push((job.name, other));
                    break;
                }
                _ => break,
            }
        }
        if let Some(changed) = total {
            outcomes.push((job.name, Outcome::Ran(changed)));
        }
    }
    Ok(outcomes)
}

/// The most batches one tick runs of a job (the next tick goes on).
const MAX_BATCHES: usize = 1000;

/// One run of a job in the caller's transaction: its outcome, and whether it has more to do.
/// `continuing`: the batch after one that had more (not due by the clock, but not finished).
fn run_one(
    db: &mut dyn Db,
    job: &Job,
    config: &HubConfig,
    lock: Option<i64>,
    now: DateTime<Utc>,
    continuing: bool,
) -> Result<(Outcome, bool), HubStoreError> {
    if let Some(key) = lock {
        let taken = db
            .one(
                "SELECT CASE WHEN pg_try_advisory_xact_lock(?1) THEN 1 ELSE 0 END",
                args![key],
            )?
            .int(0)?;
        if taken == 0 {
            return Ok((Outcome::Busy, false));
        }
    }
    let last = db.row(
        "SELECT last_run FROM periodic_runs WHERE job = ?1",
        args![job.name],
    )?;
    if let Some(last) = last.filter(|_| !continuing) {
        let last = last.text(0)?;
        if last > stamp(now - job.every) {
            return Ok((Outcome::NotDue, false));
        }
    }
    let Done { changed, more } = (job.work)(db, config, now)?;
    // A run that stopped with more to do is written as not yet run: a process killed before
    // its next batch leaves the job due for whichever process looks next.
    let ran_at = if more { now - job.every } else { now };
    db.exec(
        "INSERT INTO periodic_runs (job, last_run, runs, changed) VALUES (?1, ?2, 1, ?3)
         ON CONFLICT (job) DO UPDATE SET last_run = excluded.last_run,
             runs = periodic_runs.runs + 1, changed = excluded.changed",
        args![
            job.name,
            &stamp(ran_at),
            i64::try_from(changed).unwrap_or(i64::MAX)
        ],
    )?;
    Ok((Outcome::Ran(changed), more))
}

/// Runs what is due by the hub's clock now, and logs what ran. A database that cannot be
/// reached is logged: the next tick tries again.
pub(crate) async fn tick(state: &Arc<HubState>) {
    match run_due(state, state.now()).await {
        Ok(outcomes) => {
            for (job, outcome) in outcomes {
                if let Outcome::Ran(changed) = outcome {
                    tracing::debug!(job, changed, "periodic job ran");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "periodic jobs not run; trying at the next tick"),
    }
}

/// Ticks every [`TICK`] for as long as the hub serves (the task is aborted when it stops). The
/// hub has run the jobs once before serving ([`crate::start_with`]), so the first tick is a
/// whole period later.
pub(crate) async fn ticker(state: Arc<HubState>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        tick(&state).await;
    }
}
