//! What every `--json` command prints: one type per command's line (or per kind of line, for
//! the commands that print one line per item). These types are the contract of DESIGN.md §9:
//! operators' scripts rely on their field names, so a name here never changes.
//!
//! The fields of every type are in alphabetical order, and a field inside a field's object too:
//! the lines were first printed through `serde_json::Value` (a map sorted by key), and keeping
//! the order keeps each line byte for byte what it was (the test at the bottom checks it).
//!
//! Conventions: times are RFC 3339 with the UTC offset written `+00:00` (chrono's
//! `to_rfc3339`, fractional seconds as stored); a state is its code (`PrintJobState::as_str`,
//! `PrinterState::as_str`, …), the same word the human output shows; `null` means the value is
//! not known or not set, while a field marked *absent when …* is left out of the line.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use domain::queue::TicketKind;
use domain::roster::Role;
use domain::{Answer, Channel, Language, RiskLevel, RiskReason};
use protocol::{BookingState, CaseState, TicketState};
use slip::status::PrinterState;
use station::store::{OutboxState, PrintJobState};

/// Prints `line` as one line of compact JSON on standard output.
pub(super) fn print<T: Serialize>(line: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(line)?);
    Ok(())
}

/// `case new --json`: the case just filed and what became of its slip.
#[derive(Debug, Serialize)]
pub(super) struct CaseFiled {
    /// The tracking code in groups of four for reading aloud (`ABCD-EFGH-…`).
    pub code: String,
    /// The case's id, a UUID (hyphenated, lower case).
    pub id: String,
    /// The slip's print job: `pending`, `printing`, `printed`, `failed` or `suppressed`
    /// (`pending` when the print pass did not reach it).
    #[serde(serialize_with = "code")]
    pub print: PrintJobState,
    /// Why the slip is not printed yet, for staff; `null` when nothing went wrong.
    pub print_reason: Option<String>,
    /// The printer's state after the print pass: `ready`, `near_end`, `paper_out`,
    /// `cover_open`, `offline`, `error` or `unknown`.
    #[serde(serialize_with = "code")]
    pub printer: PrinterState,
    /// The risk level from triage: `normal`, `elevated` or `high`.
    #[serde(serialize_with = "code")]
    pub risk: RiskLevel,
    /// Why the level is raised, one entry per piece of evidence (empty at `normal`).
    pub risk_reasons: Vec<RiskReasonLine>,
    /// The service id (`complaint`, `mediation`, `legal`, `counselling`, `assistance`, …).
    pub service: String,
    /// The virtual printer's PNG of the slip; `null` with a real printer (`KIOSK_PRINTER_PORT`).
    #[serde(serialize_with = "opt_path")]
    pub slip_png: Option<PathBuf>,
    /// The sub-type id within the service (`other` when none was given).
    pub subtype: String,
    /// The tracking code, without separators (DESIGN §9: scripts read it).
    pub token: String,
    /// The tracking page, `<tracking_base_url>/T/<token>` (DESIGN §9: scripts read it).
    pub url: String,
}

/// One reason why triage raised a case's risk level (in `case new` and `case show`).
#[derive(Debug, Serialize)]
pub(super) struct RiskReasonLine {
    /// The keyword found in what the resident typed; absent for an `answer` reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// What the evidence is: `answer` (an option that carries a level) or `keyword`.
    pub kind: &'static str,
    /// The level this evidence alone reaches: `elevated` or `high`.
    #[serde(serialize_with = "code")]
    pub level: RiskLevel,
    /// The option id the resident chose; absent for a `keyword` reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// The question id that option answers; absent for a `keyword` reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

impl RiskReasonLine {
    pub fn all(reasons: &[RiskReason]) -> Vec<RiskReasonLine> {
        reasons
            .iter()
            .map(|r| match r {
                RiskReason::Answer {
                    question,
                    option,
                    level,
                } => RiskReasonLine {
                    keyword: None,
                    kind: "answer",
                    level: *level,
                    option: Some(option.clone()),
                    question: Some(question.clone()),
                },
                RiskReason::Keyword { keyword, level } => RiskReasonLine {
                    keyword: Some(keyword.clone()),
                    kind: "keyword",
                    level: *level,
                    option: None,
                    question: None,
                },
            })
            .collect()
    }
}

/// `case show --json`: the case's code and link, this kiosk's record of it (when this kiosk
/// filed it) and its progress upstream. The record's fields are absent when the case was filed
/// at another station (`local` is then `false`). Never the phone number in full, nor the
/// description.
#[derive(Debug, Serialize)]
pub(super) struct CaseShown {
    /// Whether the resident filed without a phone number. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<bool>,
    /// The answers to the structured questions, `{"question": id, "value": option id or
    /// text}`, empty after erasure. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<Answer>>,
    /// Where it was filed from: `kiosk` or `cli`. Absent when not `local`.
    #[serde(serialize_with = "opt_code", skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The tracking code in groups of four (`ABCD-EFGH-…`).
    pub code: String,
    /// When the case was filed (RFC 3339). Absent when not `local`.
    #[serde(
        serialize_with = "opt_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// The length of the description in characters (never its text); `null` when there is none
    /// or it was erased. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_chars: Option<Option<usize>>,
    /// The case's id, a UUID (hyphenated, lower case). Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The resident's language: `zh`, `zh-Hant` or `en`. Absent when not `local`.
    #[serde(serialize_with = "opt_code", skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// Whether this kiosk filed the case (and so has its record).
    pub local: bool,
    /// The case's forwarding upstream: `pending`, `delivered` or `failed`. Absent when not
    /// `local`.
    #[serde(serialize_with = "opt_code", skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxState>,
    /// The phone number with all but its last four digits hidden (`•••••••8000`); `null` when
    /// anonymous or erased. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Option<String>>,
    /// The slip's print job: `pending`, `printing`, `printed`, `failed` or `suppressed`. Absent
    /// when not `local`.
    #[serde(serialize_with = "opt_code", skip_serializing_if = "Option::is_none")]
    pub print: Option<PrintJobState>,
    /// Why the slip is not printed, for staff; `null` when nothing went wrong. Absent when not
    /// `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub print_reason: Option<Option<String>>,
    /// The risk level from triage: `normal`, `elevated` or `high`. Absent when not `local`.
    #[serde(serialize_with = "opt_code", skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    /// Why the level is raised. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_reasons: Option<Vec<RiskReasonLine>>,
    /// The service id. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The id of the station that filed it (this one). Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// The sub-type id within the service. Absent when not `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// The tracking code, without separators.
    pub token: String,
    /// Where the case stands upstream.
    pub upstream: CaseUpstream,
    /// The tracking page, `<tracking_base_url>/T/<token>`.
    pub url: String,
}

/// Where a case stands upstream, in `case show --json`: upstream's report (live, or the last
/// one fetched), or why there is none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum CaseUpstream {
    Reported(UpstreamReport),
    Unreported(UpstreamUnreported),
}

/// Upstream's report of a case's progress (`case show --json`, `upstream`).
#[derive(Debug, Serialize)]
pub(super) struct UpstreamReport {
    /// The department handling the case; `null` before one is assigned.
    pub department: Option<String>,
    /// When the department expects to finish (RFC 3339); `null` when it has not said.
    #[serde(serialize_with = "opt_rfc3339")]
    pub expected_at: Option<DateTime<Utc>>,
    /// When the report shown was fetched (RFC 3339); absent when `fresh`.
    #[serde(
        serialize_with = "opt_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub fetched_at: Option<DateTime<Utc>>,
    /// `true`: upstream answered now; `false`: upstream cannot be reached, this is the last
    /// report fetched.
    pub fresh: bool,
    /// The case's state upstream: `received`, `acknowledged`, `assigned`, `in_progress`,
    /// `resolved`, `closed_unresolved` or `reopened`.
    #[serde(serialize_with = "code")]
    pub state: CaseState,
    /// The id of the station that filed the case.
    pub station: String,
    /// The steps of the case's progress, oldest first.
    pub timeline: Vec<TimelineLine>,
    /// Why upstream cannot be reached now; absent when `fresh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// One step of a case's progress upstream (`case show --json`, `upstream.timeline`).
#[derive(Debug, Serialize)]
pub(super) struct TimelineLine {
    /// When it happened (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// The department handling the case from then on; `null` when unchanged.
    pub department: Option<String>,
    /// When the department then expected to finish (RFC 3339); `null` when it did not say.
    #[serde(serialize_with = "opt_rfc3339")]
    pub expected_at: Option<DateTime<Utc>>,
    /// What the citizen reads on the tracking page; `null` when none.
    pub note: Option<String>,
    /// The state the case moved to (the codes of `upstream.state`).
    #[serde(serialize_with = "code")]
    pub state: CaseState,
}

/// No report of a case upstream (`case show --json`, `upstream`).
#[derive(Debug, Serialize)]
pub(super) struct UpstreamUnreported {
    /// `true` for `not_delivered` (nothing to fetch yet), `false` for `unknown`.
    pub fresh: bool,
    /// `not_delivered` (still in this kiosk's outbox) or `unknown` (upstream cannot be reached
    /// and no report was ever fetched).
    pub state: Unreported,
    /// Why upstream cannot be reached; absent for `not_delivered`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Why a case has no report from upstream.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Unreported {
    /// The case waits in the outbox: upstream does not have it yet.
    NotDelivered,
    /// Upstream cannot be reached and no report was fetched before.
    Unknown,
}

/// `outbox status --json` and `outbox flush --json`: how the outbox stands (after the flush).
#[derive(Debug, Serialize)]
pub(super) struct OutboxStatus {
    /// Cases upstream has (DESIGN §9: scripts read it).
    pub delivered: u64,
    /// Cases upstream refused for good; `outbox flush` sends them again (DESIGN §9).
    pub failed: u64,
    /// The last error of an undelivered case, for staff; `null` when none.
    pub last_error: Option<String>,
    /// When the next try is due (RFC 3339); `null` when nothing waits.
    #[serde(serialize_with = "opt_rfc3339")]
    pub next_try_at: Option<DateTime<Utc>>,
    /// How long the oldest undelivered case has waited, in whole seconds; `null` when none.
    pub oldest_pending_s: Option<i64>,
    /// Cases waiting to be sent, or to be tried again (DESIGN §9: scripts read it).
    pub pending: u64,
    /// How many cases this flush delivered; absent for `outbox status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_now: Option<usize>,
    /// The tracking codes (without separators) this flush delivered; absent for
    /// `outbox status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_tokens: Option<Vec<String>>,
}

/// `printer status --json`: the printer's answers to `DLE EOT 1..4` and the paper estimate.
#[derive(Debug, Serialize)]
pub(super) struct PrinterStatus {
    /// Paper left on the roll, in metres, rounded to 0.1 (an estimate from what was printed
    /// since the last `printer refilled`).
    pub paper_left_m: f64,
    /// Whether the estimate is below the station's warning level (a new roll soon).
    pub paper_low: bool,
    /// The printer in words: its serial port and speed, or the virtual printer.
    pub printer: String,
    /// What keeps the printer from answering (e.g. the port cannot be opened); `null` when
    /// nothing.
    pub problem: Option<String>,
    /// The printer profile's id (`epson-tm-t88`, `cn-80mm`, `cn-58mm`, …).
    pub profile: String,
    /// The four answer bytes to `DLE EOT 1`, `2`, `3`, `4` as numbers (0–255); `null` where the
    /// printer gave no valid answer.
    pub raw: [Option<u8>; 4],
    /// The printer's state (DESIGN §9): `ready`, `near_end`, `paper_out`, `cover_open`,
    /// `offline`, `error` or `unknown`.
    #[serde(serialize_with = "code")]
    pub state: PrinterState,
    /// Slips waiting in the print queue.
    pub waiting_jobs: i64,
}

/// `printer test --json`: whether the sample slip printed.
#[derive(Debug, Serialize)]
pub(super) struct PrinterTest {
    /// The size of the sample slip, in bytes of ESC/POS.
    pub bytes: usize,
    /// Whether the printer reported the slip printed.
    pub printed: bool,
    /// Why it did not print; `null` when it did.
    pub reason: Option<String>,
}

/// `printer reprint --json` and `printer refilled --json`: what the pass of the print queue
/// did.
#[derive(Debug, Serialize)]
pub(super) struct PrintPassReport {
    /// The slips the pass finished with (for `reprint`, only the case's), in the order
    /// printed.
    pub jobs: Vec<PrintJobLine>,
    /// The printer's state after the pass: `ready`, `near_end`, `paper_out`, `cover_open`,
    /// `offline`, `error` or `unknown`.
    #[serde(serialize_with = "code")]
    pub state: PrinterState,
}

/// One slip of a print pass (`printer reprint --json`, `printer refilled --json`, `jobs`).
#[derive(Debug, Serialize)]
pub(super) struct PrintJobLine {
    /// The print job's state: `pending`, `printed`, `failed` or `suppressed`.
    #[serde(serialize_with = "code")]
    pub print: PrintJobState,
    /// Why it is not printed, for staff; `null` when nothing went wrong.
    pub reason: Option<String>,
    /// The tracking code (without separators) of the case, booking or ticket of the slip.
    pub token: String,
}

/// `ime suggest --json`: the input method's candidates for what was typed.
#[derive(Debug, Serialize)]
pub(super) struct ImeSuggestion {
    /// The candidate words, best first (DESIGN §9: scripts read it).
    pub candidates: Vec<String>,
    /// For each candidate, how many bytes of the typed pinyin it uses (the rest stays as
    /// pinyin to go on with).
    pub consumed: Vec<usize>,
}

/// `ime handwrite --json`: the characters one handwritten character may be.
#[derive(Debug, Serialize)]
pub(super) struct Handwriting {
    /// The candidates, best first (DESIGN §9: scripts read it).
    pub candidates: Vec<HandwritingCandidate>,
}

/// One candidate of [`Handwriting`].
#[derive(Debug, Serialize)]
pub(super) struct HandwritingCandidate {
    /// The character.
    pub character: String,
    /// The recogniser's score: higher is likelier; scores compare within one answer only.
    pub score: f32,
}

/// `erase-expired --json`: what the erasure of old personal data erased.
#[derive(Debug, Serialize)]
pub(super) struct Erasure {
    /// Bookings whose phone number was erased.
    pub bookings: u64,
    /// Cases whose description, phone number and typed answers were erased.
    pub cases: u64,
    /// The retention period in force, in days (`[privacy] retention_days`).
    pub retention_days: u32,
}

/// `backup --json`: the copy of the database written and the rotation.
#[derive(Debug, Serialize)]
pub(super) struct BackupDone {
    /// The copies in the backup directory now, this one included.
    pub kept: usize,
    /// The file written.
    #[serde(serialize_with = "path")]
    pub path: PathBuf,
    /// Older copies removed to keep `[backup] keep` (file paths).
    #[serde(serialize_with = "paths")]
    pub removed: Vec<PathBuf>,
}

/// `say --json`: the speech made, and where it went.
#[derive(Debug, Serialize)]
pub(super) struct Said {
    /// The ALSA device it was played on; `null` when it was written to a file.
    pub device: Option<String>,
    /// How long it speaks, in milliseconds.
    pub duration_ms: u64,
    /// The WAV file written (`--out`, or the station's `files` output); `null` when played.
    #[serde(serialize_with = "opt_path")]
    pub file: Option<PathBuf>,
    /// `zh`, `yue` or `en`.
    pub language: &'static str,
    /// The engine's voice that spoke it (`[voice] zh_voice`, `yue_voice`, `en_voice`).
    pub voice: String,
}

/// `booking slots --json`: one line per slot a resident could book.
#[derive(Debug, Serialize)]
pub(super) struct BookingSlot {
    /// How many residents the slot takes.
    pub capacity: u32,
    /// When the slot ends (RFC 3339; DESIGN §9).
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<Utc>,
    /// Places left (0 when full).
    pub free: u32,
    /// The slot's id, `provider@YYYY-MM-DDTHH:MM`, for `booking new --slot` (DESIGN §9).
    pub id: String,
    /// The provider's id on the roster (DESIGN §9).
    pub provider: String,
    /// What the provider is: `lawyer`, `counsellor` or `mediator`.
    #[serde(serialize_with = "code")]
    pub role: Role,
    /// The service id the slot is for.
    pub service: String,
    /// When the slot begins (RFC 3339; DESIGN §9).
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<Utc>,
}

/// `booking new --json`: the booking just made and what became of its slip.
#[derive(Debug, Serialize)]
pub(super) struct BookingMade {
    /// The booking's code in groups of four (`ABCD-EFGH-…`), for `booking checkin|cancel`.
    pub code: String,
    /// When the slot ends (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<Utc>,
    /// The appointment slip's print job: `pending`, `printing`, `printed`, `failed` or
    /// `suppressed`.
    #[serde(serialize_with = "code")]
    pub print: PrintJobState,
    /// The provider's id on the roster.
    pub provider: String,
    /// The virtual printer's PNG of the slip; `null` with a real printer or when not printed.
    pub slip_png: Option<String>,
    /// The slot's id, `provider@YYYY-MM-DDTHH:MM`.
    pub slot: String,
    /// When the slot begins (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<Utc>,
    /// The booking's state: `booked`, `checked_in` or `cancelled`.
    #[serde(serialize_with = "code")]
    pub state: BookingState,
    /// The booking's code without separators.
    pub token: String,
    /// The appointment's page, `<tracking_base_url>/T/<token>`.
    pub url: String,
}

/// `booking cancel --json`: the booking cancelled.
#[derive(Debug, Serialize)]
pub(super) struct BookingCancelled {
    /// The slot's id, `provider@YYYY-MM-DDTHH:MM`.
    pub slot: String,
    /// The booking's state now: `cancelled`.
    #[serde(serialize_with = "code")]
    pub state: BookingState,
    /// The booking's code without separators.
    pub token: String,
}

/// `booking list --json`: one line per booking of today.
#[derive(Debug, Serialize)]
pub(super) struct BookingLine {
    /// The provider's id on the roster.
    pub provider: String,
    /// The service id.
    pub service: String,
    /// The slot's id, `provider@YYYY-MM-DDTHH:MM`.
    pub slot: String,
    /// When the slot begins (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<Utc>,
    /// The booking's state: `booked`, `checked_in` or `cancelled`.
    #[serde(serialize_with = "code")]
    pub state: BookingState,
    /// The booking's code without separators.
    pub token: String,
}

/// `queue take|call|recall|done|no-show|transfer --json` and `booking checkin --json`: the
/// ticket and where it stands.
#[derive(Debug, Serialize)]
pub(super) struct TicketLine {
    /// How many will be called first; `null` once called.
    pub ahead: Option<u32>,
    /// How many times it was called.
    pub calls: u32,
    /// The counter it was called to; `null` before it is called.
    pub counter: Option<u32>,
    /// `walkin`, `priority` or `appointment` (a checked-in booking).
    #[serde(serialize_with = "code")]
    pub kind: TicketKind,
    /// The lane's letter.
    pub lane: String,
    /// The service id of the lane.
    pub service: String,
    /// `waiting`, `called`, `served` or `no_show`.
    #[serde(serialize_with = "code")]
    pub state: TicketState,
    /// When the ticket was taken (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub taken_at: DateTime<Utc>,
    /// What the display calls: the lane's letter and the number, e.g. `M003` (DESIGN §9).
    pub ticket: String,
    /// The ticket's code (its QR opens the ticket's page).
    pub token: String,
    /// The ticket's page, `<tracking_base_url>/T/<token>`.
    pub url: String,
    /// The longer end of the estimated wait, in minutes; `null` when the lane has too little
    /// history (or the ticket is not waiting).
    pub wait_max: Option<u32>,
    /// The shorter end of the estimated wait, in minutes; `null` like `wait_max`.
    pub wait_min: Option<u32>,
}

/// `queue list --json`: one line per lane of today.
#[derive(Debug, Serialize)]
pub(super) struct QueueLane {
    /// The tickets called and not yet finished.
    pub called: Vec<CalledTicket>,
    /// The lane's letter.
    pub lane: char,
    /// The median time a counter spent on a ticket of this lane today, in seconds; `null`
    /// without enough history.
    pub median_service_s: Option<u32>,
    /// Tickets served today.
    pub served_today: u32,
    /// The service id of the lane.
    pub service: String,
    /// The waiting tickets, in the order they will be called.
    pub waiting: Vec<WaitingTicket>,
}

/// A ticket at a counter (`queue list --json`, `called`).
#[derive(Debug, Serialize)]
pub(super) struct CalledTicket {
    /// How many times it was called.
    pub calls: u32,
    /// The counter it was called to.
    pub counter: Option<u32>,
    /// The ticket, e.g. `M003`.
    pub ticket: String,
}

/// A waiting ticket (`queue list --json`, `waiting`).
#[derive(Debug, Serialize)]
pub(super) struct WaitingTicket {
    /// `walkin`, `priority` or `appointment`.
    #[serde(serialize_with = "code")]
    pub kind: TicketKind,
    /// How many times a ticket that arrived later was called first.
    pub passed_over: u32,
    /// The ticket, e.g. `M003`.
    pub ticket: String,
}

/// `staff set-pin --json`: the PIN is set.
#[derive(Debug, Serialize)]
pub(super) struct PinSet {
    /// Always `set`.
    pub pin: &'static str,
}

/// `staff audit --json`: one line per entry of the staff audit log, newest first.
#[derive(Debug, Serialize)]
pub(super) struct AuditLine {
    /// What was done, a short code (e.g. `queue-call`, `staff-called`, `reprint`).
    pub action: String,
    /// When (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// The particulars, for people.
    pub detail: String,
}

/// `staff call --json`: the call for staff at the kiosk.
#[derive(Debug, Serialize)]
pub(super) struct StaffCall {
    /// `true`: this command called staff; `false`: a call was already open.
    pub new: bool,
    /// When the open call was made (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub since: DateTime<Utc>,
}

/// A state's code in `--json`: the same word its `as_str` gives the human output.
trait Code {
    fn code(&self) -> &'static str;
}

macro_rules! code_of {
    ($($ty:ty => $method:ident),* $(,)?) => {
        $(impl Code for $ty {
            fn code(&self) -> &'static str {
                (*self).$method()
            }
        })*
    };
}

code_of! {
    PrintJobState => as_str,
    PrinterState => as_str,
    OutboxState => as_str,
    RiskLevel => as_str,
    Channel => as_str,
    Language => code,
    CaseState => as_str,
    TicketState => as_str,
    TicketKind => as_str,
    BookingState => as_str,
    Role => as_str,
}

fn code<T: Code, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.code())
}

fn opt_code<T: Code, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_str(v.code()),
        None => s.serialize_none(),
    }
}

/// chrono's own `Serialize` writes UTC as `Z`; the lines always had `to_rfc3339`'s `+00:00`.
fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

fn opt_rfc3339<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}

/// A file path as text (a name that is not UTF-8 shows `�` where it is not).
fn path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&p.display())
}

fn opt_path<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.collect_str(&p.display()),
        None => s.serialize_none(),
    }
}

fn paths<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ps.iter().map(|p| p.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, h, 30, 0).unwrap()
    }

    /// Every line, serialized from its type, is the same bytes as the same line through
    /// `serde_json::Value` (keys sorted at every depth), which is how the lines were printed
    /// before they had types: a field out of alphabetical order would move a key.
    fn same_as_sorted<T: Serialize>(line: &T) -> String {
        let typed = serde_json::to_string(line).unwrap();
        let sorted = serde_json::to_value(line).unwrap().to_string();
        assert_eq!(typed, sorted);
        typed
    }

    fn reasons() -> Vec<RiskReasonLine> {
        RiskReasonLine::all(&[
            RiskReason::Answer {
                question: "workers".into(),
                option: "30_plus".into(),
                level: RiskLevel::High,
            },
            RiskReason::Keyword {
                keyword: "跳楼".into(),
                level: RiskLevel::High,
            },
        ])
    }

    #[test]
    fn every_line_keeps_its_keys_in_the_order_it_always_had() {
        let filed = same_as_sorted(&CaseFiled {
            code: "ABCD-EFGH".into(),
            id: "0190-…".into(),
            print: PrintJobState::Printed,
            print_reason: None,
            printer: PrinterState::NearEnd,
            risk: RiskLevel::High,
            risk_reasons: reasons(),
            service: "complaint".into(),
            slip_png: Some(PathBuf::from("/data/slips/ABCDEFGH.png")),
            subtype: "other".into(),
            token: "ABCDEFGH".into(),
            url: "http://127.0.0.1:8787/T/ABCDEFGH".into(),
        });
        assert!(filed.contains(r#""printer":"near_end""#), "{filed}");
        assert!(
            filed.contains(r#""slip_png":"/data/slips/ABCDEFGH.png""#),
            "{filed}"
        );
        assert!(filed.contains(
            r#"{"kind":"answer","level":"high","option":"30_plus","question":"workers"}"#
        ));
        assert!(filed.contains(r#"{"keyword":"跳楼","kind":"keyword","level":"high"}"#));

        let timeline = vec![TimelineLine {
            at: at(8),
            department: Some("labour".into()),
            expected_at: None,
            note: None,
            state: CaseState::InProgress,
        }];
        let local = CaseShown {
            anonymous: Some(false),
            answers: Some(vec![Answer {
                question: "workers".into(),
                value: "30_plus".into(),
            }]),
            channel: Some(Channel::Cli),
            code: "ABCD-EFGH".into(),
            created_at: Some(at(7)),
            description_chars: Some(None),
            id: Some("id".into()),
            language: Some(Language::ZhHant),
            local: true,
            outbox: Some(OutboxState::Delivered),
            phone: Some(Some("138****5678".into())),
            print: Some(PrintJobState::Failed),
            print_reason: Some(None),
            risk: Some(RiskLevel::Normal),
            risk_reasons: Some(vec![]),
            service: Some("complaint".into()),
            station: Some("demo".into()),
            subtype: Some("noise".into()),
            token: "ABCDEFGH".into(),
            upstream: CaseUpstream::Reported(UpstreamReport {
                department: None,
                expected_at: Some(at(9)),
                fetched_at: Some(at(10)),
                fresh: false,
                state: CaseState::ClosedUnresolved,
                station: "demo".into(),
                timeline,
                why: Some("timed out".into()),
            }),
            url: "u".into(),
        };
        let shown = same_as_sorted(&local);
        assert!(
            shown.contains(r#""created_at":"2026-03-09T07:30:00+00:00""#),
            "{shown}"
        );
        assert!(shown.contains(r#""description_chars":null"#), "{shown}");
        assert!(shown.contains(r#""language":"zh-Hant""#), "{shown}");
        assert!(shown.contains(r#""state":"closed_unresolved""#), "{shown}");
        assert!(shown.contains(r#""state":"in_progress""#), "{shown}");
        let elsewhere = CaseShown {
            anonymous: None,
            answers: None,
            channel: None,
            created_at: None,
            description_chars: None,
            id: None,
            language: None,
            local: false,
            outbox: None,
            phone: None,
            print: None,
            print_reason: None,
            risk: None,
            risk_reasons: None,
            service: None,
            station: None,
            subtype: None,
            upstream: CaseUpstream::Unreported(UpstreamUnreported {
                fresh: false,
                state: Unreported::Unknown,
                why: Some("connection refused".into()),
            }),
            ..local
        };
        assert_eq!(
            same_as_sorted(&elsewhere),
            r#"{"code":"ABCD-EFGH","local":false,"token":"ABCDEFGH","upstream":{"fresh":false,"state":"unknown","why":"connection refused"},"url":"u"}"#
        );
        assert_eq!(
            same_as_sorted(&UpstreamUnreported {
                fresh: true,
                state: Unreported::NotDelivered,
                why: None
            }),
            r#"{"fresh":true,"state":"not_delivered"}"#
        );

        let status = OutboxStatus {
            delivered: 3,
            failed: 0,
            last_error: None,
            next_try_at: Some(at(11)),
            oldest_pending_s: Some(42),
            pending: 1,
            sent_now: None,
            sent_tokens: None,
        };
        assert_eq!(
            same_as_sorted(&status),
            r#"{"delivered":3,"failed":0,"last_error":null,"next_try_at":"2026-03-09T11:30:00+00:00","oldest_pending_s":42,"pending":1}"#
        );
        same_as_sorted(&OutboxStatus {
            sent_now: Some(1),
            sent_tokens: Some(vec!["ABCDEFGH".into()]),
            ..status
        });

        assert_eq!(
            same_as_sorted(&PrinterStatus {
                paper_left_m: 41.3,
                paper_low: false,
                printer: "virtual printer".into(),
                problem: None,
                profile: "cn-80mm".into(),
                raw: [Some(0x16), None, Some(0x12), Some(0x12)],
                state: PrinterState::Unknown,
                waiting_jobs: 0,
            }),
            r#"{"paper_left_m":41.3,"paper_low":false,"printer":"virtual printer","problem":null,"profile":"cn-80mm","raw":[22,null,18,18],"state":"unknown","waiting_jobs":0}"#
        );
        same_as_sorted(&PrinterTest {
            bytes: 900,
            printed: false,
            reason: Some("out of paper".into()),
        });
        same_as_sorted(&PrintPassReport {
            jobs: vec![PrintJobLine {
                print: PrintJobState::Suppressed,
                reason: None,
                token: "ABCDEFGH".into(),
            }],
            state: PrinterState::Ready,
        });
        same_as_sorted(&ImeSuggestion {
            candidates: vec!["你好".into()],
            consumed: vec![5],
        });
        assert_eq!(
            same_as_sorted(&Handwriting {
                candidates: vec![HandwritingCandidate {
                    character: "工".into(),
                    score: 0.5,
                }],
            }),
            r#"{"candidates":[{"character":"工","score":0.5}]}"#
        );
        same_as_sorted(&Erasure {
            bookings: 1,
            cases: 2,
            retention_days: 30,
        });
        same_as_sorted(&BackupDone {
            kept: 2,
            path: "/data/backups/a.sqlite".into(),
            removed: vec!["/data/backups/0.sqlite".into()],
        });
        assert_eq!(
            same_as_sorted(&BookingSlot {
                capacity: 1,
                end: at(10),
                free: 0,
                id: "lawyer-li@2026-03-09T09:30".into(),
                provider: "lawyer-li".into(),
                role: Role::Lawyer,
                service: "legal".into(),
                start: at(9),
            }),
            r#"{"capacity":1,"end":"2026-03-09T10:30:00+00:00","free":0,"id":"lawyer-li@2026-03-09T09:30","provider":"lawyer-li","role":"lawyer","service":"legal","start":"2026-03-09T09:30:00+00:00"}"#
        );
        same_as_sorted(&BookingMade {
            code: "c".into(),
            end: at(10),
            print: PrintJobState::Pending,
            provider: "p".into(),
            slip_png: None,
            slot: "s".into(),
            start: at(9),
            state: BookingState::CheckedIn,
            token: "t".into(),
            url: "u".into(),
        });
        same_as_sorted(&BookingCancelled {
            slot: "s".into(),
            state: BookingState::Cancelled,
            token: "t".into(),
        });
        same_as_sorted(&BookingLine {
            provider: "p".into(),
            service: "legal".into(),
            slot: "s".into(),
            start: at(9),
            state: BookingState::Booked,
            token: "t".into(),
        });
        assert_eq!(
            same_as_sorted(&TicketLine {
                ahead: Some(2),
                calls: 0,
                counter: None,
                kind: TicketKind::Appointment { at: at(9) },
                lane: "M".into(),
                service: "mediation".into(),
                state: TicketState::NoShow,
                taken_at: at(8),
                ticket: "M003".into(),
                token: "t".into(),
                url: "u".into(),
                wait_max: Some(20),
                wait_min: Some(5),
            }),
            r#"{"ahead":2,"calls":0,"counter":null,"kind":"appointment","lane":"M","service":"mediation","state":"no_show","taken_at":"2026-03-09T08:30:00+00:00","ticket":"M003","token":"t","url":"u","wait_max":20,"wait_min":5}"#
        );
        same_as_sorted(&QueueLane {
            called: vec![CalledTicket {
                calls: 1,
                counter: Some(2),
                ticket: "M001".into(),
            }],
            lane: 'M',
            median_service_s: None,
            served_today: 4,
            service: "mediation".into(),
            waiting: vec![WaitingTicket {
                kind: TicketKind::Priority,
                passed_over: 0,
                ticket: "M002".into(),
            }],
        });
        assert_eq!(same_as_sorted(&PinSet { pin: "set" }), r#"{"pin":"set"}"#);
        same_as_sorted(&AuditLine {
            action: "pin_set".into(),
            at: at(8),
            detail: String::new(),
        });
        same_as_sorted(&StaffCall {
            new: true,
            since: at(8),
        });
        same_as_sorted(&Said {
            device: None,
            duration_ms: 3276,
            file: Some(PathBuf::from("call.wav")),
            language: "zh",
            voice: "cmn-latn-pinyin".into(),
        });
    }

    /// The fields DESIGN.md §9 promises scripts.
    #[test]
    fn the_fields_design_promises_scripts_are_there() {
        fn has<T: Serialize>(line: &T, wanted: &[&str]) {
            let serde_json::Value::Object(map) = serde_json::to_value(line).unwrap() else {
                panic!("not an object");
            };
            for w in wanted {
                assert!(map.contains_key(*w), "{w} missing from {map:?}");
            }
        }
        let filed = CaseFiled {
            code: String::new(),
            id: String::new(),
            print: PrintJobState::Pending,
            print_reason: None,
            printer: PrinterState::Ready,
            risk: RiskLevel::Normal,
            risk_reasons: vec![],
            service: String::new(),
            slip_png: None,
            subtype: String::new(),
            token: String::new(),
            url: String::new(),
        };
        has(&filed, &["token", "url"]);
        has(
            &OutboxStatus {
                delivered: 0,
                failed: 0,
                last_error: None,
                next_try_at: None,
                oldest_pending_s: None,
                pending: 0,
                sent_now: None,
                sent_tokens: None,
            },
            &["pending", "delivered", "failed"],
        );
        has(
            &BookingSlot {
                capacity: 1,
                end: at(10),
                free: 1,
                id: String::new(),
                provider: String::new(),
                role: Role::Mediator,
                service: String::new(),
                start: at(9),
            },
            &["id", "start", "end", "provider"],
        );
        has(
            &ImeSuggestion {
                candidates: vec![],
                consumed: vec![],
            },
            &["candidates"],
        );
        has(&Handwriting { candidates: vec![] }, &["candidates"]);
        let codes: Vec<&str> = PrinterState::ALL.iter().map(Code::code).collect();
        assert_eq!(
            codes,
            [
                "ready",
                "near_end",
                "paper_out",
                "cover_open",
                "offline",
                "error",
                "unknown"
            ]
        );
    }
}
