//! The native protocol, version 1: what a kiosk and the hub say to each other (documented for
//! people in `docs/protocol.md`). These types are the one definition both sides use: the kiosk
//! serialises them, the hub deserialises them, and a field renamed here is renamed everywhere.
//!
//! Everything is JSON over HTTPS. Kiosks authenticate with `Authorization: Bearer <station
//! token>`, departments with their own token. Unknown fields are refused, so that a typo in a
//! client shows at once instead of silently dropping data.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use domain::{Channel, Language, RiskAssessment};

/// The path prefix of version 1.
pub const API_V1: &str = "/api/v1";
/// The header that makes a case submission idempotent; its value is the case id.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The Open311 attributes a kiosk sends with every request (besides the resident's answers),
/// which the hub's service definitions announce and the only `kiosk_*` ones it accepts.
pub const OPEN311_KIOSK_ATTRIBUTES: [&str; 9] = [
    "kiosk_case_id",
    "kiosk_token",
    "kiosk_station_id",
    "kiosk_subtype",
    "kiosk_risk",
    "kiosk_language",
    "kiosk_filed_at",
    "kiosk_consent_version",
    "kiosk_anonymous",
];

/// `POST /api/v1/cases`: a case filed at a kiosk, with everything the district needs to act on
/// it. Personal data (phone, description, text answers) travels here and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSubmission {
    /// UUIDv7, also the `Idempotency-Key`.
    pub id: String,
    /// Canonical tracking code (17 characters).
    pub token: String,
    pub station_id: String,
    pub service: String,
    pub subtype: String,
    /// Service and sub-type in words (Chinese), so a department reads them without the catalogue.
    pub service_name: String,
    pub subtype_name: String,
    pub answers: Vec<SubmittedAnswer>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub anonymous: bool,
    pub consent_version: String,
    pub risk: RiskAssessment,
    pub language: Language,
    pub channel: Channel,
    pub filed_at: DateTime<Utc>,
}

/// One structured answer, with its question and (for a choice) the option in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedAnswer {
    pub question: String,
    pub question_label: String,
    pub value: String,
    pub value_label: String,
}

/// The hub's answer to a submission: the same for the first delivery and every replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReceipt {
    pub id: String,
    pub token: String,
    pub received_at: DateTime<Utc>,
    pub state: CaseState,
}

/// Where a case stands upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// The hub has it; no department has looked yet.
    Received,
    Acknowledged,
    /// A department has it.
    Assigned,
    InProgress,
    Resolved,
    ClosedUnresolved,
    Reopened,
}

impl CaseState {
    /// Every state, in a case's usual order.
    pub const ALL: [CaseState; 7] = [
        CaseState::Received,
        CaseState::Acknowledged,
        CaseState::Assigned,
        CaseState::InProgress,
        CaseState::Resolved,
        CaseState::ClosedUnresolved,
        CaseState::Reopened,
    ];

    /// The state a code names (`in_progress`), exactly as [`CaseState::as_str`] writes it.
    pub fn parse(code: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.as_str() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Received => "received",
            CaseState::Acknowledged => "acknowledged",
            CaseState::Assigned => "assigned",
            CaseState::InProgress => "in_progress",
            CaseState::Resolved => "resolved",
            CaseState::ClosedUnresolved => "closed_unresolved",
            CaseState::Reopened => "reopened",
        }
    }

    /// Whether the case is finished (Open311's `closed`).
    pub fn is_closed(self) -> bool {
        matches!(self, CaseState::Resolved | CaseState::ClosedUnresolved)
    }
}

/// `GET /api/v1/cases/{token}/rating`: whether the citizen holding the slip may rate the case
/// now (it is resolved, and its 7 days are not over), and the rating given, if any. A kiosk
/// asks after showing a case's progress, and offers the rating when `may_rate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingOffer {
    pub may_rate: bool,
    /// `satisfied`, `basically_satisfied` or `unsatisfied`.
    #[serde(default)]
    pub rating: Option<String>,
    /// Until when it may be rated (or the rating changed).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// `POST /api/v1/cases/{token}/rating`: the citizen's rating, given at a kiosk (the station's
/// token; the slip's code is the citizen's capability). Answered with the new [`RatingOffer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingSubmission {
    pub rating: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/v1/departments/cases/{token}/events`: a department moves a case on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub state: CaseState,
    /// What the citizen reads on the tracking page: no personal data.
    #[serde(default)]
    pub note: Option<String>,
    /// The department handling the case from now on.
    #[serde(default)]
    pub department: Option<String>,
    /// When the department expects to finish.
    #[serde(default)]
    pub expected_at: Option<DateTime<Utc>>,
}

/// One step of a case's progress, as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub state: CaseState,
    pub note: Option<String>,
    pub department: Option<String>,
    pub expected_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/cases/{token}` (station token): a case's progress. Never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseProgress {
    pub token: String,
    pub state: CaseState,
    pub station_id: String,
    pub service: String,
    pub subtype: String,
    pub filed_at: DateTime<Utc>,
    pub department: Option<String>,
    pub expected_at: Option<DateTime<Utc>>,
    pub timeline: Vec<TimelineEntry>,
}

/// `POST /api/v1/heartbeat`: a kiosk's health, every minute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub station_id: String,
    pub sent_at: DateTime<Utc>,
    pub app_version: String,
    /// `ready`, `near_end`, `paper_out`, `cover_open`, `offline`, `error`, `unknown`: the
    /// codes of [`PrinterReport`]. Kept as text on the wire so that the hub refuses an unknown
    /// code with its own message and still shows one it stored before as it came.
    pub printer_state: String,
    pub paper_left_m: f64,
    pub paper_low: bool,
    /// People waiting per queue lane (empty until queues exist).
    pub queue_lengths: BTreeMap<String, u32>,
    pub outbox_pending: u32,
    /// Age of the oldest case not yet delivered, in seconds.
    pub outbox_oldest_s: Option<u64>,
    /// What the kiosk has told its staff and they have not acknowledged yet (a damaged
    /// database moved aside at start-up, …); absent from older kiosks.
    #[serde(default)]
    pub notices: Vec<StationNotice>,
}

/// The printer states a heartbeat may report in `printer_state` (`printer status --json`,
/// DESIGN.md §9). [`Heartbeat::printer_state`] stays a `String`: read it with
/// [`PrinterReport::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterReport {
    Ready,
    NearEnd,
    PaperOut,
    CoverOpen,
    Offline,
    Error,
    Unknown,
}

impl PrinterReport {
    /// Every state, in the order error messages list them.
    pub const ALL: [PrinterReport; 7] = [
        PrinterReport::Ready,
        PrinterReport::NearEnd,
        PrinterReport::PaperOut,
        PrinterReport::CoverOpen,
        PrinterReport::Offline,
        PrinterReport::Error,
        PrinterReport::Unknown,
    ];

    /// The code on the wire: `ready`, `near_end`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterReport::Ready => "ready",
            PrinterReport::NearEnd => "near_end",
            PrinterReport::PaperOut => "paper_out",
            PrinterReport::CoverOpen => "cover_open",
            PrinterReport::Offline => "offline",
            PrinterReport::Error => "error",
            PrinterReport::Unknown => "unknown",
        }
    }

    /// The state a code names; `None` for a code this version does not know.
    pub fn parse(s: &str) -> Option<PrinterReport> {
        PrinterReport::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A notice of the kiosk's staff console, as the hub sees it: its kind and when, no details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationNotice {
    /// `database-moved-aside`, …
    pub kind: String,
    pub at: DateTime<Utc>,
}

/// Every error the hub returns: what was wrong, and the field when one is to blame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiError {
    pub error: String,
    #[serde(default)]
    pub field: Option<String>,
}

/// `PUT /api/v1/station-state` (station): the station's queues, bookings and who is on duty,
/// as they stand after a change. The kiosk sends the whole picture each time (it is small), so a
/// kiosk that was offline catches up with one request; the hub keeps the one with the highest
/// `seq` and ignores older ones that arrive late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationState {
    pub station_id: String,
    /// Grows with every change at the kiosk.
    pub seq: u64,
    pub sent_at: DateTime<Utc>,
    /// Today's tickets (the station's local day), every state.
    pub tickets: Vec<TicketStatus>,
    /// Bookings from today on, and today's past ones.
    pub bookings: Vec<BookingStatus>,
    /// Providers checked in now.
    pub on_duty: Vec<OnDuty>,
}

/// One queue ticket, as its holder's phone shows it. No personal data, and no service in words:
/// only the lane letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketStatus {
    /// The ticket's code (its QR opens `/T/<token>`).
    pub token: String,
    /// What the display calls: lane letter and number, `C003`.
    pub ticket: String,
    pub lane: String,
    pub state: TicketState,
    /// People who will be called first (while waiting).
    pub ahead: Option<u32>,
    /// The honest wait range in minutes, from the station's own history; absent when there is
    /// too little history.
    pub wait_min: Option<u32>,
    pub wait_max: Option<u32>,
    /// The counter it was called to (once called).
    pub counter: Option<u32>,
    pub taken_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Served,
    NoShow,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Waiting => "waiting",
            TicketState::Called => "called",
            TicketState::Served => "served",
            TicketState::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<TicketState> {
        [
            TicketState::Waiting,
            TicketState::Called,
            TicketState::Served,
            TicketState::NoShow,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One appointment. `role` is absent for a discreet service: the page then shows the lane only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingStatus {
    pub token: String,
    pub lane: String,
    pub role: Option<domain::roster::Role>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub state: BookingState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    Booked,
    CheckedIn,
    Cancelled,
}

impl BookingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::CheckedIn => "checked_in",
            BookingState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BookingState> {
        [
            BookingState::Booked,
            BookingState::CheckedIn,
            BookingState::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A lawyer, counsellor or mediator checked in at the station (attendance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnDuty {
    pub provider_id: String,
    pub role: domain::roster::Role,
    /// The provider's display name (a professional's work name, not a resident's data).
    pub name: String,
    pub since: DateTime<Utc>,
}

/// `GET /api/v1/roster` (station): the roster the district set for this station, which then
/// replaces the one in `kiosk.toml`; `404` when the district set none.
/// `PUT /api/v1/stations/{id}/roster` (operator token) sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterDocument {
    pub providers: Vec<domain::roster::Provider>,
    /// When the district last changed it (set by the hub).
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::PrinterReport;
    use serde::de::value::{Error, StrDeserializer};
    use serde::de::IntoDeserializer;
    use serde::Deserialize;

    #[test]
    fn a_printer_report_reads_back_from_its_code_and_serde_agrees() {
        for report in PrinterReport::ALL {
            assert_eq!(PrinterReport::parse(report.as_str()), Some(report));
            let code: StrDeserializer<'_, Error> = report.as_str().into_deserializer();
            assert_eq!(PrinterReport::deserialize(code), Ok(report));
        }
        let codes: Vec<&str> = PrinterReport::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            codes.join(", "),
            "ready, near_end, paper_out, cover_open, offline, error, unknown"
        );
        assert_eq!(PrinterReport::parse("on fire"), None);
        assert_eq!(PrinterReport::parse("Ready"), None);
    }
}
