//! The operations of the kiosk, one function each, shared by the touchscreen and the command
//! line: file a case, look one up, produce its slip, work the print queue. `app` and `cli` are
//! two ways of calling these; neither decides anything on its own.
//!
//! A [`Kiosk`] owns one database connection. The touchscreen keeps one for intake and the print
//! queue task opens its own (SQLite serialises them).

pub mod doctor;
mod forward;
mod print_queue;
pub mod queue;
mod slip_content;
pub mod staff;
pub(crate) mod upkeep;

use std::sync::Arc;

use uuid::Uuid;

use crate::config::KioskConfig;
use crate::store::{IntakeRecord, Store, StoreError, StoredCase};
use devices::printer::serial::{SerialPrinter, Timeouts};
use devices::printer::transport::{PrinterLink, VirtualPrinter};
use domain::case::{IntakeRules, NewCaseIdentity};
use domain::{qr_payload, tracking_url, Case, CaseDraft, CaseError, TokenError, TrackingToken};
use slip::profile::PrinterProfile;

pub use forward::{backoff, DrainReport, Progress, Tracked, BACKOFF_BASE, BACKOFF_CAP};
pub use print_queue::{
    test_print, waiting_reason, PaperEstimate, PrintOutcome, PrintPass, TestPrint,
    TestPrintFailure, MAX_ATTEMPTS,
};
pub use queue::{
    station_day, station_offset, Booked, CodeKind, LaneView, QueueError, SlotView, TicketView,
};
pub use slip_content::{
    booking_slip_content, sample_slip_content, slip_content, specimen_slips, ticket_slip_content,
};
pub use staff::{PinCheck, StaffError};

pub struct Kiosk {
    config: Arc<KioskConfig>,
    pub(crate) store: Store,
}

/// A case that has been filed: durable, with its slip waiting in the print queue.
#[derive(Debug, Clone)]
pub struct Filed {
    pub case: Case,
    pub record: IntakeRecord,
    /// The tracking page, `<tracking_base_url>/T/<TOKEN>`.
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("tracking code: {0}")]
    Token(TokenError),
    #[error("no case has the tracking code {0}")]
    NotFound(String),
    #[error("the system's random number source failed: {0}")]
    Random(String),
    #[error("cannot start the kiosk's worker threads: {0}")]
    Workers(String),
    #[error("upstream: {0}")]
    Upstream(String),
    #[error(transparent)]
    Queue(queue::QueueError),
    #[error(transparent)]
    Staff(staff::StaffError),
    #[error("backup: {0}")]
    Backup(String),
}

impl From<TokenError> for KioskError {
    fn from(e: TokenError) -> KioskError {
        KioskError::Token(e)
    }
}

impl Kiosk {
    /// Opens the kiosk's database in the configured data directory.
    pub fn open(config: Arc<KioskConfig>) -> Result<Kiosk, KioskError> {
        let store = Store::open(&config.data_dir)?;
        Ok(Kiosk { config, store })
    }

    /// Now, by the configuration's clock (the system's in service): every operation that
    /// does not take its time from the caller reads this one.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.config.clock.now()
    }

    /// A new tracking code from the configuration's source (the system's random source in
    /// service).
    fn fresh_token(&self) -> Result<TrackingToken, KioskError> {
        self.config
            .chance
            .token()
            .map_err(|e| KioskError::Random(e.to_string()))
    }

    /// Opens the kiosk the way it starts up: the database is checked first, and a damaged one
    /// is moved aside (never deleted) for a fresh one, which carries a notice for staff (kind
    /// `database-moved-aside`, detail `<where it went>: <what was wrong>`). Returns
    /// what was moved, if anything, for the log.
    pub fn open_at_start(
        config: Arc<KioskConfig>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Kiosk, Option<crate::store::MovedAside>), KioskError> {
        let (store, moved) = Store::open_checked(&config.data_dir, now)?;
        let mut kiosk = Kiosk { config, store };
        if let Some(m) = &moved {
            kiosk.notice_moved_aside(&m.to, &m.problem, now)?;
        }
        Ok((kiosk, moved))
    }

    /// Leaves staff the notice that a damaged database was moved aside to `to` (what
    /// `quick_check` found: `problem`) and a new one started.
    pub fn notice_moved_aside(
        &mut self,
        to: &std::path::Path,
        problem: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), KioskError> {
        self.store.add_notice(
            "database-moved-aside",
            &format!("{}: {problem}", to.display()),
            now,
        )?;
        Ok(())
    }

    /// The id of the last queue call (0 when none): the now-serving display chimes when it
    /// grows.
    pub fn last_call_id(&self) -> Result<i64, KioskError> {
        Ok(self.store.last_call_id()?)
    }

    /// When the station's state (queues, bookings, attendance) is next due upstream: `None`
    /// when the hub's copy is up to date or no retry is set.
    pub fn station_sync_due(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, KioskError> {
        let sync = self.store.sync_state()?;
        Ok((sync.generation > sync.sent)
            .then_some(sync.next_try_at)
            .flatten())
    }

    /// The notices staff have not acknowledged yet.
    pub fn notices(&self) -> Result<Vec<crate::store::Notice>, KioskError> {
        Ok(self.store.open_notices()?)
    }

    /// A resident asked for staff (the elderly mode's "call staff" button, or `staff call`):
    /// leaves a `staff-called` notice, which the staff console, the now-serving display and the
    /// hub's operator page show until staff acknowledge it. One open call is enough: while one
    /// is open, another press leaves nothing new. Returns whether this call was new, and since
    /// when staff have been called.
    pub fn call_staff(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(bool, chrono::DateTime<chrono::Utc>), KioskError> {
        let open = self
            .store
            .open_notices()?
            .into_iter()
            .find(|n| n.kind == crate::store::STAFF_CALL_NOTICE);
        if let Some(open) = open {
            return Ok((false, open.at));
        }
        let id = self
            .store
            .add_notice(crate::store::STAFF_CALL_NOTICE, "", now)?;
        self.store.audit("staff-called", &id.to_string(), now)?;
        Ok((true, now))
    }

    /// Staff acknowledged a notice (audited).
    pub fn clear_notice(
        &mut self,
        id: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, KioskError> {
        let cleared = self.store.clear_notice(id, now)?;
        if cleared {
            self.store.audit("notice-cleared", &id.to_string(), now)?;
        }
        Ok(cleared)
    }

    /// The database under the operations, for tests that look at what was stored (feature
    /// `test-support`; the application goes through the operations).
    #[cfg(feature = "test-support")]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Validates a draft and files it: the case, its print job and its outbox row are committed
    /// together before this returns. Nothing is acknowledged that is not durable.
    pub fn file_case(&mut self, draft: &CaseDraft) -> Result<Filed, KioskError> {
        let rules = IntakeRules {
            catalogue: &self.config.catalogue,
            risk: &self.config.risk,
            consent_version: &self.config.consent.version,
        };
        // A fresh token collides with an existing one with probability ~n/2⁸⁰; retry anyway.
        let mut attempts = 0;
        loop {
            let identity = NewCaseIdentity {
                id: Uuid::now_v7(),
                token: self.fresh_token()?,
                created_at: self.now(),
                station_id: self.config.station.id.clone(),
            };
            let case = Case::from_draft(draft, &rules, identity)?;
            match self.store.insert_intake(&case) {
                Ok(record) => {
                    let url = tracking_url(&self.config.upstream.tracking_base_url, &case.token);
                    return Ok(Filed { case, record, url });
                }
                Err(StoreError::TokenTaken) if attempts < 3 => attempts += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The stored case with this code (as typed or scanned).
    pub fn find_case(&self, code: &str) -> Result<StoredCase, KioskError> {
        let token = TrackingToken::parse(code)?;
        self.store
            .case_by_token(&token)?
            .ok_or_else(|| KioskError::NotFound(token.grouped()))
    }

    pub fn tracking_url(&self, token: &TrackingToken) -> String {
        tracking_url(&self.config.upstream.tracking_base_url, token)
    }

    /// The ESC/POS bytes of a case's slip for `profile`, in the case's language.
    pub fn slip_bytes(&self, case: &Case, profile: &PrinterProfile) -> Vec<u8> {
        let content = slip_content(case, &self.config, case.language);
        let blocks = slip::layout::layout(&content, profile);
        slip::escpos::encode(&blocks, profile)
    }

    /// The payload of a case's QR code (on the slip and on the screen alike).
    pub fn qr_payload(&self, token: &TrackingToken) -> String {
        qr_payload(&self.tracking_url(token))
    }
}

/// The printer the configuration names: the serial printer on `printer.port` with the
/// profile's line settings (and the station's overrides), or the virtual printer.
pub fn configured_printer(config: &KioskConfig) -> Box<dyn PrinterLink> {
    let profile = config.printer_profile();
    match &config.printer.port {
        Some(port) => Box::new(SerialPrinter::new(
            port,
            config.serial_settings(),
            profile.answers_gs_r,
            Timeouts::default(),
        )),
        None => Box::new(VirtualPrinter::new(&config.data_dir, profile.dots_per_line)),
    }
}

/// A new random tracking token from the operating system's random source.
pub fn new_token() -> Result<TrackingToken, KioskError> {
    crate::chance::Chance::System
        .token()
        .map_err(|e| KioskError::Random(e.to_string()))
}
