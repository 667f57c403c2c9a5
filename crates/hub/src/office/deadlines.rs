//! The deadlines' scheduler (DISTRICT.md §4, §6): reminders, chases (催办) and supervision
//! (督办) raised on time, each once, whichever hub process runs it and however often it is
//! stopped.
//!
//! Every case keeps `next_step_at`, the moment of its next step (recomputed whenever the case
//! changes, by [`reschedule`]); the periodic job ([`run`]) takes the cases whose moment has come,
//! a batch at a time, and for each, in the job's one transaction: raises every step that is due
//! and not yet raised (a row in `deadline_steps`, whose key refuses a second), writes it to the
//! case's timeline, queues the unit's webhook message, and sets the next moment. A process
//! killed mid-run commits nothing of its batch; the next run does it whole.

use chrono::{DateTime, Utc};

use domain::calendar::Span;
use domain::chasing::{self, Step, Watched};
use domain::district::District;
use domain::workflow::OrderState;

use super::webhooks;
use crate::clock::stamp;
use crate::config::HubConfig;
use crate::periodic::Done;
use crate::store::district::{self as store, DistrictCase, Order, Step as TimelineStep};
use crate::store::sql::Db;
use crate::store::HubStoreError;

/// Cases one transaction of the job looks at, at most (the job then goes on in the next one):
/// a batch holds SQLite's writer for a fraction of a second, so a kiosk's case never waits long.
pub(crate) const BATCH: i64 = 500;

/// The deadlines running on a case now.
pub(crate) fn watched(case: &DistrictCase, orders: &[Order], district: &District) -> Vec<Watched> {
    let mut out = Vec::new();
    if case.stage.is_open() {
        if let (Some(unit), Some(class), Some(start)) = (&case.unit, case.class, case.routed_at) {
            let spans = district.deadlines(class);
            if let (None, Some(due)) = (case.accepted_at, case.accept_by) {
                out.push(Watched {
                    name: "accept".into(),
                    unit: unit.clone(),
                    start,
                    due,
                    span: spans.accept,
                    supervise_at_once: false,
                });
            }
            if let Some(due) = case.resolve_by {
                out.push(Watched {
                    name: "resolve".into(),
                    unit: unit.clone(),
                    start,
                    due,
                    span: spans.resolve,
                    supervise_at_once: false,
                });
            }
        }
    }
    for o in orders {
        let wall = Span::Minutes((o.arrive_by - o.issued_at).num_minutes().max(1));
        if o.state == OrderState::Issued {
            out.push(Watched {
                name: format!("reply:{}", o.id),
                unit: o.department.clone(),
                start: o.issued_at,
                due: o.reply_by,
                span: wall,
                supervise_at_once: false,
            });
        }
        if matches!(o.state, OrderState::Issued | OrderState::Accepted) {
            out.push(Watched {
                name: format!("arrive:{}", o.id),
                unit: o.department.clone(),
                start: o.issued_at,
                due: o.arrive_by,
                span: wall,
                supervise_at_once: true,
            });
        }
    }
    out
}

/// Every step of the running deadlines not yet raised, with when it falls.
fn pending(
    config: &HubConfig,
    db: &mut dyn Db,
    case: &DistrictCase,
) -> Result<Vec<(Watched, Step, DateTime<Utc>)>, HubStoreError> {
    let orders = store::orders_of_case(db, &case.id)?;
    let done = store::steps_done(db, &case.id)?;
    let mut out = Vec::new();
    for w in watched(case, &orders, &config.district) {
        let due = stamp(w.due);
        for (step, at) in chasing::steps(&w, &config.calendar) {
            let raised = done
                .iter()
                .any(|(d, du, s)| *d == w.name && *du == due && s == step.as_str());
            if !raised {
                out.push((w.clone(), step, at));
            }
        }
    }
    Ok(out)
}

/// Sets when the case's next step falls (after any change of the case).
pub(crate) fn reschedule(
    config: &HubConfig,
    db: &mut dyn Db,
    case: &DistrictCase,
) -> Result<(), HubStoreError> {
    let next = pending(config, db, case)?
        .iter()
        .map(|(_, _, at)| *at)
        .min();
    store::set_next_step(db, &case.id, next)
}

/// The periodic job: raises what is due at `now` for a batch of cases; says how many steps it
/// raised and whether the batch was full.
pub(crate) fn run(
    db: &mut dyn Db,
    config: &HubConfig,
    now: DateTime<Utc>,
) -> Result<Done, HubStoreError> {
    let mut raised = 0;
    let due = store::due_cases(db, now, BATCH)?;
    // A whole batch: there may be more (the job runs again at once, in a new transaction).
    let more = due.len() as i64 == BATCH;
    for token in due {
        let Some(case) = store::case(db, &token)? else {
            continue;
        };
        for (w, step, at) in pending(config, db, &case)? {
            if at > now {
                continue;
            }
            if !store::record_step(db, &case.id, &w.name, w.due, step.as_str(), now)? {
                continue;
            }
            raised += 1;
            let note = format!("{} {}", w.name, super::local_minute(w.due));
            store::event(
                db,
                &case.id,
                &TimelineStep {
                    kind: step.as_str(),
                    by: "scheduler",
                    unit: Some(&w.unit),
                    note: Some(&note),
                    public: false,
                },
                now,
            )?;
            // Units are told of chases and supervision (a reminder stays on their pages).
            if step != Step::Reminder {
                webhooks::enqueue(config, db, &case, &w, step, now)?;
            }
        }
        reschedule(config, db, &case)?;
    }
    Ok(Done {
        changed: raised,
        more,
    })
}
