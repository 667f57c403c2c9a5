//! Working through the print queue: each waiting job, oldest first, goes to the printer and its
//! new state is recorded with the reason. The printer is anything that implements
//! [`SlipPrinter`]: the virtual printer now, the serial ESC/POS printer later.

use chrono::Utc;

use super::{Kiosk, KioskError};
use crate::domain::TrackingToken;
use crate::printer::profile::PrinterProfile;
use crate::printer::transport::SlipPrinter;
use crate::store::{PrintJobState, StoreError};

/// What happened to one job.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintOutcome {
    pub job_id: i64,
    pub token: TrackingToken,
    pub state: PrintJobState,
    pub reason: Option<String>,
}

pub type PrintReport = Vec<PrintOutcome>;

impl Kiosk {
    /// Prints every waiting job in order and returns what happened to each. Stops at the first
    /// job the printer could not print: the ones after it stay waiting.
    pub fn print_pending(
        &mut self,
        printer: &mut dyn SlipPrinter,
        profile: &PrinterProfile,
        mut on_change: impl FnMut(&PrintOutcome),
    ) -> Result<PrintReport, KioskError> {
        let mut report = Vec::new();
        while let Some(job) = self.store.next_print_job()? {
            let stored = self.store.case_by_id(&job.case_id)?.ok_or_else(|| {
                StoreError::BadRow(format!("print job {} has no case {}", job.id, job.case_id))
            })?;
            let token = stored.case.token.clone();
            self.store
                .set_print_job_state(job.id, PrintJobState::Printing, None, Utc::now())?;
            on_change(&PrintOutcome {
                job_id: job.id,
                token: token.clone(),
                state: PrintJobState::Printing,
                reason: None,
            });
            let bytes = self.slip_bytes(&stored.case, profile);
            let (state, reason) = match printer.print(token.as_str(), &bytes) {
                Ok(()) => (PrintJobState::Printed, None),
                Err(reason) => (PrintJobState::Failed, Some(reason)),
            };
            self.store
                .set_print_job_state(job.id, state, reason.as_deref(), Utc::now())?;
            let outcome = PrintOutcome {
                job_id: job.id,
                token,
                state,
                reason,
            };
            on_change(&outcome);
            report.push(outcome);
            if state != PrintJobState::Printed {
                break;
            }
        }
        Ok(report)
    }
}
