//! The print queue's rules (DESIGN.md §5): ask the printer before and after every slip, print
//! jobs oldest first only when it can print, call a job printed only when the printer says all
//! is well afterwards, let jobs wait through a paper-out, and do not print a stale backlog when
//! the printer comes back: a slip nobody is waiting for would be left on the counter, with a
//! code anyone could pick up. Stale jobs are suppressed, and staff can reprint them.

use chrono::{DateTime, Duration, Utc};

use super::{Kiosk, KioskError};
use crate::config::KioskConfig;
use crate::store::{PrintJob, PrintJobState, StoreError};
use devices::printer::transport::PrinterLink;
use domain::TrackingToken;
use slip::interpret::interpret;
use slip::profile::PrinterProfile;
use slip::render::paper_length_dots;
use slip::status::{PrinterState, StatusBytes};

/// Tries a job gets before it is marked failed (a slip that cannot print should not block the
/// queue forever; staff see it and can reprint).
pub const MAX_ATTEMPTS: u32 = 3;

/// What happened to one job.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintOutcome {
    pub job_id: i64,
    pub token: TrackingToken,
    pub state: PrintJobState,
    pub reason: Option<String>,
}

/// One pass of the queue: the printer's state at the end and what happened to each job.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintPass {
    pub(crate) status: StatusBytes,
    pub outcomes: Vec<PrintOutcome>,
}

impl PrintPass {
    pub fn printer_state(&self) -> PrinterState {
        self.status.state()
    }
}

/// Words for staff about why the printer cannot print.
pub fn waiting_reason(state: PrinterState) -> &'static str {
    match state {
        PrinterState::PaperOut => "waiting: the printer is out of paper",
        PrinterState::CoverOpen => "waiting: the printer's cover is open",
        PrinterState::Offline => "waiting: the printer is offline",
        PrinterState::Error => "waiting: the printer reports an error (cutter or head)",
        PrinterState::Unknown => "waiting: the printer does not answer",
        PrinterState::Ready | PrinterState::NearEnd => "waiting",
    }
}

/// Why a test slip did not print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestPrintFailure {
    /// The printer could not start: out of paper, cover open, offline…
    #[error("{}", waiting_reason(*.0).trim_start_matches("waiting: "))]
    NotReady(PrinterState),
    /// The bytes did not reach the printer.
    #[error("{0}")]
    Link(String),
    /// The printer stopped during the slip.
    #[error("interrupted: printer {}", .0.as_str())]
    Interrupted(PrinterState),
}

/// What a test slip (`printer test`, staff's "test print") came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPrint {
    /// The size of the sample slip in bytes.
    pub bytes: usize,
    pub outcome: Result<(), TestPrintFailure>,
}

/// Prints the sample slip in `language` on `printer`: printed, or why not. Nothing is stored.
/// (A Traditional Chinese sample shows whether a new model's font holds the characters GB2312
/// lacks.)
pub fn test_print(
    config: &KioskConfig,
    printer: &mut dyn PrinterLink,
    profile: &PrinterProfile,
    language: domain::Language,
) -> TestPrint {
    let before = printer.status().state();
    let content = super::sample_slip_content(config, language);
    let bytes = slip::escpos::encode(&slip::layout::layout(&content, profile), profile);
    let outcome = if !before.can_print() {
        Err(TestPrintFailure::NotReady(before))
    } else {
        match printer.send("test", &bytes) {
            Err(e) => Err(TestPrintFailure::Link(e.to_string())),
            Ok(()) => {
                let finished = printer.finish();
                let after = printer.status().state();
                if finished == Some(false) || !after.can_print() {
                    Err(TestPrintFailure::Interrupted(after))
                } else {
                    Ok(())
                }
            }
        }
    };
    TestPrint {
        bytes: bytes.len(),
        outcome,
    }
}

impl Kiosk {
    /// Slips waiting for the printer.
    pub fn waiting_print_jobs(&self) -> Result<i64, KioskError> {
        Ok(self.store.waiting_print_jobs()?)
    }

    /// Staff reprint the slip of print job `job` (a case's, a ticket's or a booking's),
    /// audited, then work through the queue.
    pub fn reprint_job(
        &mut self,
        job: i64,
        printer: &mut dyn PrinterLink,
        profile: &PrinterProfile,
        on_change: impl FnMut(&PrintOutcome),
    ) -> Result<PrintPass, KioskError> {
        let now = self.now();
        self.store.reprint_job(job, now)?;
        self.audit("reprint", &format!("the slip of print job {job}"), now)?;
        self.print_pending(printer, profile, on_change)
    }

    /// Works through the queue once (see the module documentation) and returns the printer's
    /// state and each job's outcome; `on_change` hears every state change as it happens.
    pub fn print_pending(
        &mut self,
        printer: &mut dyn PrinterLink,
        profile: &PrinterProfile,
        mut on_change: impl FnMut(&PrintOutcome),
    ) -> Result<PrintPass, KioskError> {
        let stale_after = Duration::seconds(i64::from(self.config.printer.stale_after_s));
        let mut status = printer.status();
        let mut outcomes = Vec::new();
        while let Some(job) = self.store.next_print_job()? {
            let token = self.token_of(&job)?;
            let state = status.state();
            if !state.can_print() {
                // The job waits; say why once, not at every poll.
                let reason = waiting_reason(state);
                if job.reason.as_deref() != Some(reason) || job.state != PrintJobState::Pending {
                    let outcome =
                        self.record(&job, &token, PrintJobState::Pending, Some(reason.into()))?;
                    on_change(&outcome);
                    outcomes.push(outcome);
                }
                break;
            }
            let now = self.now();
            if is_stale(&job, now, stale_after) {
                let reason = format!(
                    "not printed: it waited {} min for the printer and its resident has gone; staff can reprint",
                    (now - job.created_at).num_minutes()
                );
                let outcome = self.record(&job, &token, PrintJobState::Suppressed, Some(reason))?;
                on_change(&outcome);
                outcomes.push(outcome);
                continue;
            }
            let printing = self.record(&job, &token, PrintJobState::Printing, None)?;
            on_change(&printing);
            let bytes = self.job_bytes(&job, profile)?;
            let sent = printer.send(token.as_str(), &bytes);
            let finished = if sent.is_ok() { printer.finish() } else { None };
            status = printer.status();
            let after = status.state();
            let (state, reason) = match sent {
                Err(e) => self.retry_or_fail(&job, format!("not printed: {e}")),
                Ok(()) if finished == Some(false) || !after.can_print() => {
                    let why = if finished == Some(false) {
                        PrinterState::PaperOut
                    } else {
                        after
                    };
                    self.retry_or_fail(
                        &job,
                        format!(
                            "interrupted: {}",
                            waiting_reason(why).trim_start_matches("waiting: ")
                        ),
                    )
                }
                Ok(()) => {
                    let dots =
                        paper_length_dots(&interpret(&bytes), u32::from(profile.dots_per_line))
                            .unwrap_or(0);
                    self.store.add_paper_used(dots)?;
                    (PrintJobState::Printed, None)
                }
            };
            let outcome = self.record(&job, &token, state, reason)?;
            on_change(&outcome);
            outcomes.push(outcome);
            if state != PrintJobState::Printed {
                break;
            }
        }
        Ok(PrintPass { status, outcomes })
    }

    /// A job that did not print goes back to waiting, unless it has had its tries.
    fn retry_or_fail(&self, job: &PrintJob, reason: String) -> (PrintJobState, Option<String>) {
        // `attempts` counts this try already (entering `printing` counted it).
        if job.attempts + 1 >= MAX_ATTEMPTS {
            (
                PrintJobState::Failed,
                Some(format!("{reason}; gave up after {MAX_ATTEMPTS} tries")),
            )
        } else {
            (PrintJobState::Pending, Some(reason))
        }
    }

    fn record(
        &mut self,
        job: &PrintJob,
        token: &TrackingToken,
        state: PrintJobState,
        reason: Option<String>,
    ) -> Result<PrintOutcome, KioskError> {
        self.store
            .set_print_job_state(job.id, state, reason.as_deref(), self.now())?;
        Ok(PrintOutcome {
            job_id: job.id,
            token: token.clone(),
            state,
            reason,
        })
    }

    /// The code a job's slip carries: the case's, else the ticket's, else the booking's.
    fn token_of(&self, job: &PrintJob) -> Result<TrackingToken, KioskError> {
        let missing = || StoreError::BadRow(format!("print job {} has nothing to print", job.id));
        if let Some(case_id) = &job.case_id {
            return Ok(self
                .store
                .case_by_id(case_id)?
                .ok_or_else(missing)?
                .case
                .token);
        }
        if let Some(ticket_id) = job.ticket_id {
            let t = self.store.ticket_by_id(ticket_id)?.ok_or_else(missing)?;
            return Ok(TrackingToken::parse(&t.token)?);
        }
        if let Some(booking_id) = &job.booking_id {
            let b = self.store.booking_by_id(booking_id)?.ok_or_else(missing)?;
            return Ok(TrackingToken::parse(&b.token)?);
        }
        Err(missing().into())
    }

    /// The ESC/POS bytes of a job's slip: a case, a ticket (alone or with its case) or an
    /// appointment, in the resident's language.
    fn job_bytes(&self, job: &PrintJob, profile: &PrinterProfile) -> Result<Vec<u8>, KioskError> {
        let missing = || StoreError::BadRow(format!("print job {} has nothing to print", job.id));
        let case = match &job.case_id {
            Some(id) => Some(self.store.case_by_id(id)?.ok_or_else(missing)?.case),
            None => None,
        };
        let content = if let Some(ticket_id) = job.ticket_id {
            let t = self.store.ticket_by_id(ticket_id)?.ok_or_else(missing)?;
            let language = domain::Language::parse(&t.language).unwrap_or_default();
            let view = self.ticket_view(t, self.now())?;
            super::ticket_slip_content(
                &view.ticket,
                case.as_ref(),
                view.ahead,
                view.wait,
                &self.config,
                language,
            )
        } else if let Some(case) = &case {
            super::slip_content(case, &self.config, case.language)
        } else if let Some(booking_id) = &job.booking_id {
            let b = self.store.booking_by_id(booking_id)?.ok_or_else(missing)?;
            let language = domain::Language::parse(&b.language).unwrap_or_default();
            let role = self.roster().provider(&b.provider).map(|p| p.role);
            let offset = super::station_offset(b.start);
            super::booking_slip_content(&b, role, offset, &self.config, language)
        } else {
            return Err(missing().into());
        };
        let blocks = slip::layout::layout(&content, profile);
        Ok(slip::escpos::encode(&blocks, profile))
    }

    /// Staff reprint a case's slip: a new job, printed at once if the printer can.
    pub fn reprint(
        &mut self,
        code: &str,
        printer: &mut dyn PrinterLink,
        profile: &PrinterProfile,
    ) -> Result<PrintPass, KioskError> {
        let stored = self.find_case(code)?;
        self.store
            .add_print_job(&stored.case.id.to_string(), self.now())?;
        self.print_pending(printer, profile, |_| {})
    }

    /// Staff put in a new roll: the paper estimate starts again and waiting slips print (or,
    /// if they waited too long, are suppressed).
    pub fn paper_refilled(
        &mut self,
        printer: &mut dyn PrinterLink,
        profile: &PrinterProfile,
    ) -> Result<PrintPass, KioskError> {
        self.store.paper_refilled(self.now())?;
        self.print_pending(printer, profile, |_| {})
    }

    /// The paper estimate: metres printed since the last refill and metres left on the roll.
    pub fn paper_estimate(&self, profile: &PrinterProfile) -> Result<PaperEstimate, KioskError> {
        let (dots, refilled_at) = self.store.paper_used()?;
        let used_m = dots as f64 / f64::from(profile.dots_per_mm.max(1)) / 1000.0;
        let roll = f64::from(self.config.printer.roll_length_m);
        let left_m = (roll - used_m).max(0.0);
        Ok(PaperEstimate {
            used_m,
            left_m,
            low: left_m <= f64::from(self.config.printer.low_paper_m),
            refilled_at,
        })
    }
}

/// How much paper is left, by count of what was printed since the last refill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaperEstimate {
    pub used_m: f64,
    pub left_m: f64,
    /// Below the station's warning level: staff should put in a new roll soon.
    pub low: bool,
    pub refilled_at: Option<DateTime<Utc>>,
}

fn is_stale(job: &PrintJob, now: DateTime<Utc>, stale_after: Duration) -> bool {
    now - job.created_at > stale_after
}
