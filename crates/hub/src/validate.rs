//! What a well-formed submission, status update, heartbeat, station state and roster look like
//! beyond their JSON shape: lengths, identifiers, tracking codes, enumerations, and which state
//! may follow which. Pure functions; a failure names the field (`answers[2].value`) and says
//! what is wrong.
//!
//! Free text (a description, a label, a note) is kept verbatim, quotes, angle brackets and SQL
//! included: it is bound as a parameter and escaped when shown, never cleaned here. Control
//! characters are refused (a kiosk cleans what residents type before sending, so one arriving
//! means a broken or hostile client). Identifiers are held to a narrow alphabet.
//!
//! Two rules hold for every value of every body, whatever its field, and are applied at the
//! door by [`door`] to the whole decoded body (so a field added tomorrow cannot forget them):
//! a time lies in the years 0000 to 9999 ([`instant`]: the database keeps times as fixed-width
//! text, and chrono reads `+10000-…` and `-0001-…`, which no page can then read back), and no
//! text carries a bidirectional override or isolate ([`bidi_free`]: U+202A–U+202E,
//! U+2066–U+2069, which make a page read otherwise than it is written).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

use domain::roster::Roster;
use domain::{Catalogue, RiskReason, TrackingToken};
use protocol::{
    CaseState, CaseSubmission, Heartbeat, PrinterReport, RosterDocument, StationState, StatusUpdate,
};

/// The Open311 and kiosk limit on a resident's own words.
pub(crate) const DESCRIPTION_MAX: usize = 4000;
/// Names: of a service, a sub-type, a department.
pub(crate) const NAME_MAX: usize = 100;
/// A question's label, an answer's value or the words of a chosen option.
pub(crate) const ANSWER_MAX: usize = 1000;
/// A department's note to the citizen.
pub(crate) const NOTE_MAX: usize = 500;
/// Short technical texts: a consent version, an app version, a risk keyword.
pub(crate) const SHORT_MAX: usize = 64;
pub(crate) const ANSWERS_MAX: usize = 50;
pub(crate) const REASONS_MAX: usize = 50;
pub(crate) const LANES_MAX: usize = 26;
/// A station state's lists: today's tickets, the bookings it holds, who is on duty.
pub(crate) const TICKETS_MAX: usize = 5_000;
pub(crate) const BOOKINGS_MAX: usize = 5_000;
pub(crate) const ON_DUTY_MAX: usize = 100;
/// People ahead of a ticket, and the minutes of a wait estimate.
pub(crate) const AHEAD_MAX: u32 = 10_000;
pub(crate) const WAIT_MAX_MIN: u32 = 24 * 60;
/// The highest counter number a ticket may be called to.
pub(crate) const COUNTER_MAX: u32 = 999;
/// A roster's providers, and each provider's shifts and exceptions.
pub(crate) const PROVIDERS_MAX: usize = 200;
pub(crate) const SHIFTS_MAX: usize = 100;
pub(crate) const EXCEPTIONS_MAX: usize = 1_000;
/// The longest text taken as a tracking code before it is parsed.
const TOKEN_TEXT_MAX: usize = 64;

/// A field that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub(crate) struct Invalid {
    pub(crate) field: String,
    pub(crate) problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The years a time may fall in: four digits, so that stored times sort as text.
pub(crate) const YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// A time a body carries: refused outside [`YEARS`], naming the field.
pub(crate) fn instant(field: &str, at: DateTime<Utc>) -> Result<(), Invalid> {
    if YEARS.contains(&at.year()) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "a time must fall in the years 0000 to 9999 (this is in the year {})",
                at.year()
            ),
        ))
    }
}

/// A time as the database holds it, read back: `None` when it is not RFC 3339 or falls
/// outside [`YEARS`] (a row written by something other than this hub).
pub(crate) fn stored_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| instant("", *t).is_ok())
}

/// Whether `c` is a bidirectional embedding, override or isolate control.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text without bidirectional overrides or isolates.
pub(crate) fn bidi_free(field: &str, value: &str) -> Result<(), Invalid> {
    match value.chars().find(|&c| is_bidi_control(c)) {
        None => Ok(()),
        Some(c) => Err(invalid(
            field,
            format!(
                "bidirectional override and isolate characters (here U+{:04X}) are not allowed",
                c as u32
            ),
        )),
    }
}

/// The rules every decoded body keeps in every value, checked on the body as the hub decoded
/// it (`serde_json::to_value` of the typed body): every text free of bidirectional controls,
/// object keys included, and every text that reads as a time or a date within [`YEARS`]. The
/// field is named by its path (`on_duty[0].since`).
pub(crate) fn door(body: &Value) -> Result<(), Invalid> {
    fn walk(value: &Value, path: &mut String) -> Result<(), Invalid> {
        match value {
            Value::String(text) => {
                bidi_free(path, text)?;
                if let Some(year) = time_year(text) {
                    if !YEARS.contains(&year) {
                        return Err(invalid(
                            path.as_str(),
                            format!(
                                "a time must fall in the years 0000 to 9999 (`{}` is not)",
                                text.chars().take(40).collect::<String>()
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    bidi_free(path, key)?;
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(body, &mut String::new())
}

/// The year of a text that chrono reads as a time (as serde decodes a `DateTime`) or a date,
/// signed and extended years included.
fn time_year(text: &str) -> Option<i32> {
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || first == '+' || first == '-') {
        return None;
    }
    if let Ok(t) = text.parse::<DateTime<FixedOffset>>() {
        return Some(t.year());
    }
    text.parse::<NaiveDate>().ok().map(|d| d.year())
}

/// Checks everything in a case submission except who sent it (the caller compares
/// `station_id` with the caller's station) and the idempotency header.
pub(crate) fn submission(s: &CaseSubmission, catalogue: &Catalogue) -> Result<(), Invalid> {
    case_id("id", &s.id)?;
    tracking_token("token", &s.token)?;
    instant("filed_at", s.filed_at)?;
    identifier("station_id", &s.station_id)?;
    identifier("service", &s.service)?;
    if catalogue.service(&s.service).is_none() {
        let known: Vec<&str> = catalogue.services.iter().map(|x| x.id.as_str()).collect();
        return Err(invalid(
            "service",
            format!("unknown service (the hub knows {})", known.join(", ")),
        ));
    }
    identifier("subtype", &s.subtype)?;
    line("service_name", &s.service_name, 1, NAME_MAX)?;
    line("subtype_name", &s.subtype_name, 1, NAME_MAX)?;
    if s.answers.len() > ANSWERS_MAX {
        return Err(invalid("answers", format!("at most {ANSWERS_MAX} answers")));
    }
    for (i, a) in s.answers.iter().enumerate() {
        identifier(&format!("answers[{i}].question"), &a.question)?;
        line(
            &format!("answers[{i}].question_label"),
            &a.question_label,
            1,
            ANSWER_MAX,
        )?;
        text(&format!("answers[{i}].value"), &a.value, 1, ANSWER_MAX)?;
        text(
            &format!("answers[{i}].value_label"),
            &a.value_label,
            1,
            ANSWER_MAX,
        )?;
    }
    if let Some(d) = &s.description {
        text("description", d, 0, DESCRIPTION_MAX)?;
    }
    if let Some(p) = &s.phone {
        if !(3..=20).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "phone",
                "a phone number is 3 to 20 digits, nothing else",
            ));
        }
        if s.anonymous {
            return Err(invalid(
                "phone",
                "an anonymous case carries no phone number",
            ));
        }
    }
    line("consent_version", &s.consent_version, 1, SHORT_MAX)?;
    if s.risk.reasons.len() > REASONS_MAX {
        return Err(invalid(
            "risk.reasons",
            format!("at most {REASONS_MAX} reasons"),
        ));
    }
    for (i, reason) in s.risk.reasons.iter().enumerate() {
        match reason {
            RiskReason::Answer {
                question, option, ..
            } => {
                identifier(&format!("risk.reasons[{i}].question"), question)?;
                identifier(&format!("risk.reasons[{i}].option"), option)?;
            }
            RiskReason::Keyword { keyword, .. } => {
                line(&format!("risk.reasons[{i}].keyword"), keyword, 1, SHORT_MAX)?;
            }
        }
    }
    Ok(())
}

/// Checks a department's status update (the store checks the transition against the case).
pub(crate) fn status_update(u: &StatusUpdate) -> Result<(), Invalid> {
    if u.state == CaseState::Received {
        return Err(invalid(
            "state",
            "`received` is the hub's own first step; a department posts what comes after",
        ));
    }
    if let Some(at) = u.expected_at {
        instant("expected_at", at)?;
    }
    if let Some(note) = &u.note {
        text("note", note, 1, NOTE_MAX)?;
    }
    if let Some(department) = &u.department {
        line("department", department, 1, NAME_MAX)?;
    }
    Ok(())
}

/// Whether a case in state `from` may move to `to`: a closed case only reopens, only a closed
/// case reopens, and nothing goes back to `received`.
pub(crate) fn transition_allowed(from: CaseState, to: CaseState) -> bool {
    match to {
        CaseState::Received => false,
        CaseState::Reopened => from.is_closed(),
        _ => !from.is_closed(),
    }
}

pub(crate) fn heartbeat(h: &Heartbeat) -> Result<(), Invalid> {
    identifier("station_id", &h.station_id)?;
    instant("sent_at", h.sent_at)?;
    line("app_version", &h.app_version, 1, SHORT_MAX)?;
    // The field stays text on the wire so that an unknown code gets this message, not serde's.
    if PrinterReport::parse(&h.printer_state).is_none() {
        let codes: Vec<&str> = PrinterReport::ALL.iter().map(|p| p.as_str()).collect();
        return Err(invalid(
            "printer_state",
            format!("one of {}", codes.join(", ")),
        ));
    }
    if !h.paper_left_m.is_finite() || !(0.0..=10_000.0).contains(&h.paper_left_m) {
        return Err(invalid("paper_left_m", "metres of paper, 0 to 10000"));
    }
    if h.queue_lengths.len() > LANES_MAX {
        return Err(invalid(
            "queue_lengths",
            format!("at most {LANES_MAX} lanes"),
        ));
    }
    for lane in h.queue_lengths.keys() {
        line(&format!("queue_lengths.{lane}"), lane, 1, 16)?;
    }
    if h.notices.len() > NOTICES_MAX {
        return Err(invalid("notices", format!("at most {NOTICES_MAX}")));
    }
    for (i, n) in h.notices.iter().enumerate() {
        identifier(&format!("notices[{i}].kind"), &n.kind)?;
        instant(&format!("notices[{i}].at"), n.at)?;
    }
    Ok(())
}

/// Notices a heartbeat may carry.
const NOTICES_MAX: usize = 20;

/// Checks a station state (except who sent it: the caller compares `station_id` with the
/// caller's station) and returns it with every tracking code in its canonical form.
///
/// Codes are read like typed ones ([`TrackingToken::parse`]); a code may appear once in the
/// whole state. A lane is one upper-case letter, a ticket its lane letter and 1 to 4 digits.
pub(crate) fn station_state(mut s: StationState) -> Result<StationState, Invalid> {
    identifier("station_id", &s.station_id)?;
    instant("sent_at", s.sent_at)?;
    if i64::try_from(s.seq).is_err() {
        return Err(invalid("seq", format!("at most {}", i64::MAX)));
    }
    if s.tickets.len() > TICKETS_MAX {
        return Err(invalid("tickets", format!("at most {TICKETS_MAX} tickets")));
    }
    if s.bookings.len() > BOOKINGS_MAX {
        return Err(invalid(
            "bookings",
            format!("at most {BOOKINGS_MAX} bookings"),
        ));
    }
    if s.on_duty.len() > ON_DUTY_MAX {
        return Err(invalid(
            "on_duty",
            format!("at most {ON_DUTY_MAX} providers on duty"),
        ));
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(s.tickets.len() + s.bookings.len());
    for (i, t) in s.tickets.iter_mut().enumerate() {
        let field = |name: &str| format!("tickets[{i}].{name}");
        t.token = any_token(&field("token"), &t.token)?;
        if !seen.insert(t.token.clone()) {
            return Err(invalid(
                field("token"),
                "this code is already another ticket's or booking's in this state",
            ));
        }
        instant(&field("taken_at"), t.taken_at)?;
        let lane_letter = lane(&field("lane"), &t.lane)?;
        ticket_number(&field("ticket"), &t.ticket, lane_letter)?;
        if t.ahead.is_some_and(|n| n > AHEAD_MAX) {
            return Err(invalid(field("ahead"), format!("at most {AHEAD_MAX}")));
        }
        match (t.wait_min, t.wait_max) {
            (None, None) => {}
            (Some(min), Some(max)) => {
                if max > WAIT_MAX_MIN {
                    return Err(invalid(
                        field("wait_max"),
                        format!("at most {WAIT_MAX_MIN} minutes"),
                    ));
                }
                if min > max {
                    return Err(invalid(
                        field("wait_min"),
                        format!("{min} is more than wait_max ({max})"),
                    ));
                }
            }
            (Some(_), None) => {
                return Err(invalid(
                    field("wait_max"),
                    "a wait range has both ends or neither (no estimate)",
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(
                    field("wait_min"),
                    "a wait range has both ends or neither (no estimate)",
                ))
            }
        }
        if t.counter.is_some_and(|c| c > COUNTER_MAX) {
            return Err(invalid(
                field("counter"),
                format!("a counter number is at most {COUNTER_MAX}"),
            ));
        }
    }
    for (i, b) in s.bookings.iter_mut().enumerate() {
        let field = |name: &str| format!("bookings[{i}].{name}");
        b.token = any_token(&field("token"), &b.token)?;
        if !seen.insert(b.token.clone()) {
            return Err(invalid(
                field("token"),
                "this code is already another ticket's or booking's in this state",
            ));
        }
        lane(&field("lane"), &b.lane)?;
        instant(&field("start"), b.start)?;
        instant(&field("end"), b.end)?;
        if b.end <= b.start {
            return Err(invalid(field("end"), "an appointment ends after it starts"));
        }
        if b.end - b.start > Duration::hours(24) {
            return Err(invalid(
                field("end"),
                "an appointment lasts at most 24 hours",
            ));
        }
    }
    let mut providers: HashSet<&str> = HashSet::with_capacity(s.on_duty.len());
    for (i, d) in s.on_duty.iter().enumerate() {
        let field = |name: &str| format!("on_duty[{i}].{name}");
        identifier(&field("provider_id"), &d.provider_id)?;
        if !providers.insert(d.provider_id.as_str()) {
            return Err(invalid(
                field("provider_id"),
                format!("`{}` is listed twice", d.provider_id),
            ));
        }
        line(&field("name"), &d.name, 1, NAME_MAX)?;
        instant(&field("since"), d.since)?;
    }
    Ok(s)
}

/// Checks a roster the district sets for a station. The hub does not know the station's
/// catalogue, so every service the providers name counts as one of the station's: only sizes,
/// names and the roster's contradictions with itself are refused (`providers[0].shifts[1]`).
pub(crate) fn roster(doc: &RosterDocument) -> Result<(), Invalid> {
    if doc.providers.len() > PROVIDERS_MAX {
        return Err(invalid(
            "providers",
            format!("at most {PROVIDERS_MAX} providers"),
        ));
    }
    for (i, p) in doc.providers.iter().enumerate() {
        let field = |name: &str| format!("providers[{i}].{name}");
        line(&field("name.zh"), &p.name.zh, 1, NAME_MAX)?;
        line(&field("name.en"), &p.name.en, 1, NAME_MAX)?;
        identifier(&field("service"), &p.service)?;
        if p.shifts.len() > SHIFTS_MAX {
            return Err(invalid(
                field("shifts"),
                format!("at most {SHIFTS_MAX} weekly shifts"),
            ));
        }
        if p.exceptions.len() > EXCEPTIONS_MAX {
            return Err(invalid(
                field("exceptions"),
                format!("at most {EXCEPTIONS_MAX} exceptions"),
            ));
        }
    }
    let services: BTreeSet<&str> = doc.providers.iter().map(|p| p.service.as_str()).collect();
    let services: Vec<&str> = services.into_iter().collect();
    Roster {
        providers: doc.providers.clone(),
    }
    .validate(&services)
    .map_err(|(field, problem)| invalid(field, problem))
}

/// A tracking code in any form [`TrackingToken::parse`] reads, returned canonical.
fn any_token(field: &str, value: &str) -> Result<String, Invalid> {
    if value.chars().count() > TOKEN_TEXT_MAX {
        return Err(invalid(
            field,
            format!(
                "a tracking code is 17 characters (this has {})",
                value.chars().count()
            ),
        ));
    }
    TrackingToken::parse(value)
        .map(|t| t.as_str().to_owned())
        .map_err(|e| invalid(field, e.to_string()))
}

/// A queue lane: one upper-case ASCII letter.
fn lane(field: &str, value: &str) -> Result<char, Invalid> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_uppercase() => Ok(c),
        _ => Err(invalid(field, "a lane is one upper-case letter, A to Z")),
    }
}

/// A ticket number as the display calls it: its lane letter and 1 to 4 digits (`C003`).
fn ticket_number(field: &str, value: &str, lane: char) -> Result<(), Invalid> {
    let mut chars = value.chars();
    let letter = chars.next();
    let digits = chars.as_str();
    let shaped = letter.is_some_and(|c| c.is_ascii_uppercase())
        && (1..=4).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit());
    if !shaped {
        return Err(invalid(
            field,
            "a ticket is its lane letter and 1 to 4 digits (`C003`)",
        ));
    }
    if letter != Some(lane) {
        return Err(invalid(
            field,
            format!("the ticket `{value}` is not of lane `{lane}`"),
        ));
    }
    Ok(())
}

/// A case id: a UUID in its canonical lower-case hyphenated form (the kiosk sends UUIDv7).
pub(crate) fn case_id(field: &str, id: &str) -> Result<(), Invalid> {
    match uuid::Uuid::parse_str(id) {
        Ok(u) if u.hyphenated().to_string() == id => Ok(()),
        _ => Err(invalid(
            field,
            "a case id is a UUID, lower case with dashes (8-4-4-4-12)",
        )),
    }
}

/// A tracking code in its canonical form (17 upper-case characters, no dashes).
pub(crate) fn tracking_token(field: &str, token: &str) -> Result<(), Invalid> {
    match TrackingToken::parse(token) {
        Ok(t) if t.as_str() == token => Ok(()),
        Ok(t) => Err(invalid(
            field,
            format!("send the canonical form `{}`", t.as_str()),
        )),
        Err(e) => Err(invalid(field, e.to_string())),
    }
}

/// An id from a catalogue or configuration: letters, digits, `.`, `_`, `-`, 1 to 64.
pub(crate) fn identifier(field: &str, value: &str) -> Result<(), Invalid> {
    if crate::config::is_valid_id(value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            "an id has 1 to 64 letters, digits, `.`, `_` or `-`",
        ))
    }
}

/// One line of text: `min..=max` characters, no control characters at all.
pub(crate) fn line(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    length(field, value, min, max)?;
    bidi_free(field, value)?;
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "control characters and line breaks are not allowed",
        ));
    }
    Ok(())
}

/// Text that may span lines: `min..=max` characters; line breaks and tabs are the only
/// control characters allowed.
pub(crate) fn text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    length(field, value, min, max)?;
    bidi_free(field, value)?;
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

fn length(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(invalid(
            field,
            if min == 0 {
                format!("at most {max} characters (this has {n})")
            } else {
                format!("{min} to {max} characters (this has {n})")
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Channel, Language, RiskAssessment, RiskLevel};
    use protocol::SubmittedAnswer;

    fn sample() -> CaseSubmission {
        CaseSubmission {
            id: "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e".into(),
            token: TrackingToken::from_random([7; 10]).as_str().into(),
            station_id: "demo".into(),
            service: "complaint".into(),
            subtype: "noise".into(),
            service_name: "投诉建议".into(),
            subtype_name: "噪音".into(),
            answers: vec![SubmittedAnswer {
                question: "since".into(),
                question_label: "从什么时候开始".into(),
                value: "week".into(),
                value_label: "一周内".into(),
            }],
            description: Some("楼上每晚装修".into()),
            phone: Some("13800138000".into()),
            anonymous: false,
            consent_version: "2024-01".into(),
            risk: RiskAssessment::default(),
            language: Language::Zh,
            channel: Channel::Kiosk,
            filed_at: chrono::Utc::now(),
        }
    }

    fn field_of(s: &CaseSubmission) -> String {
        submission(s, &Catalogue::builtin())
            .expect_err("refused")
            .field
    }

    #[test]
    fn a_sound_submission_passes() {
        submission(&sample(), &Catalogue::builtin()).unwrap();
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let mut s = sample();
        s.id = s.id.to_uppercase();
        assert_eq!(field_of(&s), "id");

        let mut s = sample();
        s.token = TrackingToken::from_random([7; 10]).grouped();
        assert_eq!(field_of(&s), "token");

        let mut s = sample();
        s.service = "weather".into();
        assert_eq!(field_of(&s), "service");

        let mut s = sample();
        s.subtype = "'); DROP TABLE cases;--".into();
        assert_eq!(field_of(&s), "subtype");

        let mut s = sample();
        s.description = Some("字".repeat(DESCRIPTION_MAX + 1));
        assert_eq!(field_of(&s), "description");

        let mut s = sample();
        s.answers[0].value = "a\u{0}b".into();
        assert_eq!(field_of(&s), "answers[0].value");

        let mut s = sample();
        s.phone = Some("138-0013".into());
        assert_eq!(field_of(&s), "phone");

        let mut s = sample();
        s.anonymous = true;
        assert_eq!(field_of(&s), "phone");

        let mut s = sample();
        s.service_name = "投诉\n建议".into();
        assert_eq!(field_of(&s), "service_name");

        let mut s = sample();
        s.risk = RiskAssessment {
            level: RiskLevel::High,
            reasons: vec![RiskReason::Keyword {
                keyword: String::new(),
                level: RiskLevel::High,
            }],
        };
        assert_eq!(field_of(&s), "risk.reasons[0].keyword");
    }

    #[test]
    fn a_description_of_exactly_four_thousand_characters_is_fine() {
        let mut s = sample();
        s.description = Some("字".repeat(DESCRIPTION_MAX));
        submission(&s, &Catalogue::builtin()).unwrap();
    }

    #[test]
    fn closed_cases_only_reopen_and_nothing_returns_to_received() {
        use CaseState::*;
        assert!(transition_allowed(Received, Acknowledged));
        assert!(transition_allowed(InProgress, Resolved));
        assert!(transition_allowed(Reopened, InProgress));
        assert!(!transition_allowed(Resolved, InProgress));
        assert!(transition_allowed(Resolved, Reopened));
        assert!(transition_allowed(ClosedUnresolved, Reopened));
        assert!(!transition_allowed(InProgress, Reopened));
        assert!(!transition_allowed(Acknowledged, Received));
    }

    fn station() -> StationState {
        use domain::roster::Role;
        use protocol::{BookingState, BookingStatus, OnDuty, TicketState, TicketStatus};
        let now = chrono::Utc::now();
        StationState {
            station_id: "demo".into(),
            seq: 1,
            sent_at: now,
            tickets: vec![TicketStatus {
                token: TrackingToken::from_random([1; 10]).grouped().to_lowercase(),
                ticket: "C003".into(),
                lane: "C".into(),
                state: TicketState::Waiting,
                ahead: Some(2),
                wait_min: Some(5),
                wait_max: Some(5),
                counter: None,
                taken_at: now,
            }],
            bookings: vec![BookingStatus {
                token: TrackingToken::from_random([2; 10]).as_str().into(),
                lane: "D".into(),
                role: None,
                start: now,
                end: now + Duration::minutes(30),
                state: BookingState::Booked,
            }],
            on_duty: vec![OnDuty {
                provider_id: "lawyer-wang".into(),
                role: Role::Lawyer,
                name: "王律师".into(),
                since: now,
            }],
        }
    }

    #[test]
    fn a_station_state_comes_back_with_canonical_codes() {
        let s = station_state(station()).unwrap();
        assert_eq!(
            s.tickets[0].token,
            TrackingToken::from_random([1; 10]).as_str()
        );
    }

    #[test]
    fn each_broken_station_state_rule_names_its_field() {
        let field_of = |change: &dyn Fn(&mut StationState)| {
            let mut s = station();
            change(&mut s);
            station_state(s).expect_err("refused").field
        };
        assert_eq!(field_of(&|s| s.seq = u64::MAX), "seq");
        assert_eq!(
            field_of(&|s| s.tickets[0].token = "x".repeat(100)),
            "tickets[0].token"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].lane = "Ä".into()),
            "tickets[0].lane"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].ticket = "C".into()),
            "tickets[0].ticket"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].ticket = "c003".into()),
            "tickets[0].ticket"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].ticket = "C00３".into()),
            "tickets[0].ticket"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].wait_max = Some(4)),
            "tickets[0].wait_min"
        );
        assert_eq!(
            field_of(&|s| {
                s.tickets[0].wait_min = Some(5);
                s.tickets[0].wait_max = Some(WAIT_MAX_MIN + 1);
            }),
            "tickets[0].wait_max"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].counter = Some(1000)),
            "tickets[0].counter"
        );
        assert_eq!(
            field_of(&|s| s.tickets[0].ahead = Some(AHEAD_MAX + 1)),
            "tickets[0].ahead"
        );
        assert_eq!(
            field_of(&|s| s.bookings[0].token = s.tickets[0].token.clone()),
            "bookings[0].token"
        );
        assert_eq!(
            field_of(&|s| s.bookings[0].end = s.bookings[0].start + Duration::hours(25)),
            "bookings[0].end"
        );
        assert_eq!(
            field_of(&|s| s.on_duty[0].provider_id = "王".into()),
            "on_duty[0].provider_id"
        );
        assert_eq!(
            field_of(&|s| s.on_duty[0].name = "a\nb".into()),
            "on_duty[0].name"
        );
        assert_eq!(
            field_of(&|s| s.on_duty = vec![s.on_duty[0].clone(); ON_DUTY_MAX + 1]),
            "on_duty"
        );
    }

    #[test]
    fn a_time_outside_years_0000_to_9999_is_refused_in_every_field_of_every_body() {
        let far: DateTime<Utc> = "+10000-01-01T00:00:00Z".parse().unwrap();
        let before: DateTime<Utc> = "-0001-12-31T00:00:00Z".parse().unwrap();
        assert_eq!(instant("x", far).unwrap_err().field, "x");
        assert_eq!(instant("x", before).unwrap_err().field, "x");
        instant("x", "0000-01-01T00:00:00Z".parse().unwrap()).unwrap();
        instant("x", "9999-12-31T23:59:59Z".parse().unwrap()).unwrap();
        // Every field that holds a time, found by writing each body out and setting each
        // time in it, one at a time, to a year out of range: the door names each field, and
        // the body's own check names it too.
        fn each_time_refused<T: serde::Serialize + serde::de::DeserializeOwned>(
            body: &T,
            check: impl Fn(&T) -> Result<(), Invalid>,
        ) -> usize {
            let value = serde_json::to_value(body).unwrap();
            let mut paths = Vec::new();
            fn times(v: &Value, path: String, out: &mut Vec<String>) {
                match v {
                    Value::String(s) if time_year(s).is_some() => out.push(path),
                    Value::Array(a) => {
                        for (i, x) in a.iter().enumerate() {
                            times(x, format!("{path}[{i}]"), out);
                        }
                    }
                    Value::Object(m) => {
                        for (k, x) in m {
                            let p = if path.is_empty() {
                                k.clone()
                            } else {
                                format!("{path}.{k}")
                            };
                            times(x, p, out);
                        }
                    }
                    _ => {}
                }
            }
            times(&value, String::new(), &mut paths);
            for path in &paths {
                for bad in ["+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z"] {
                    let mut changed = value.clone();
                    let pointer = format!("/{}", path.replace(['.', '['], "/").replace(']', ""));
                    *changed.pointer_mut(&pointer).unwrap() = Value::String(bad.into());
                    assert_eq!(door(&changed).unwrap_err().field, *path);
                    let decoded: T = serde_json::from_value(changed).unwrap();
                    assert_eq!(check(&decoded).unwrap_err().field, *path, "{bad}");
                }
            }
            paths.len()
        }
        assert_eq!(
            each_time_refused(&sample(), |s| submission(s, &Catalogue::builtin())),
            1
        );
        assert_eq!(
            each_time_refused(&station(), |s| station_state(s.clone()).map(|_| ())),
            5
        );
        let update = StatusUpdate {
            state: CaseState::Assigned,
            note: None,
            department: None,
            expected_at: Some(chrono::Utc::now()),
        };
        assert_eq!(each_time_refused(&update, status_update), 1);
    }

    #[test]
    fn bidirectional_overrides_are_refused_in_every_text_and_key() {
        let mut s = sample();
        s.description = Some("看\u{202E}txt.exe".into());
        assert_eq!(field_of(&s), "description");
        let mut value = serde_json::to_value(sample()).unwrap();
        value["answers"][0]["value_label"] = Value::String("a\u{2067}b".into());
        let e = door(&value).unwrap_err();
        assert_eq!(e.field, "answers[0].value_label");
        assert!(e.problem.contains("U+2067"), "{e}");
        let keyed = serde_json::json!({"queue_lengths": {"A\u{202A}": 1}});
        assert_eq!(door(&keyed).unwrap_err().field, "queue_lengths.A\u{202A}");
        door(&serde_json::to_value(sample()).unwrap()).unwrap();
        // Ordinary right-to-left text and marks are not overrides.
        bidi_free("x", "\u{05D0}\u{200F}").unwrap();
    }

    #[test]
    fn a_stored_time_reads_back_only_when_readable_and_in_range() {
        assert!(stored_instant("2024-05-01T09:00:00.000000Z").is_some());
        for bad in [
            "+10000-01-01T00:00:00Z",
            "yesterday",
            "",
            "2024-13-01T00:00:00Z",
        ] {
            assert!(stored_instant(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_roster_is_checked_against_the_services_it_names_itself() {
        let doc: RosterDocument = serde_json::from_value(serde_json::json!({"providers": [
            {"id": "counsellor-he", "role": "counsellor", "name": {"zh": "何", "en": "He"},
             "service": "anything-the-station-has", "slot_min": 50,
             "shifts": [{"day": "fri", "from": "13:00", "to": "17:00"}]}
        ]}))
        .unwrap();
        roster(&doc).unwrap();
        let mut bad = doc.clone();
        bad.providers[0].slot_min = 1;
        assert_eq!(roster(&bad).unwrap_err().field, "providers[0].slot_min");
        let mut bad = doc;
        bad.providers[0].service = "no spaces".into();
        assert_eq!(roster(&bad).unwrap_err().field, "providers[0].service");
    }

    #[test]
    fn a_heartbeat_reports_a_known_printer_state() {
        let mut h = Heartbeat {
            station_id: "demo".into(),
            sent_at: chrono::Utc::now(),
            app_version: "0.1.0".into(),
            printer_state: "ready".into(),
            paper_left_m: 42.0,
            paper_low: false,
            queue_lengths: Default::default(),
            outbox_pending: 0,
            outbox_oldest_s: None,
            notices: Vec::new(),
        };
        heartbeat(&h).unwrap();
        h.printer_state = "on fire".into();
        assert_eq!(
            heartbeat(&h).unwrap_err().to_string(),
            "printer_state: one of ready, near_end, paper_out, cover_open, offline, error, unknown"
        );
        h.printer_state = "ready".into();
        h.paper_left_m = f64::NAN;
        assert_eq!(heartbeat(&h).unwrap_err().field, "paper_left_m");
        h.paper_left_m = 42.0;
        h.notices = vec![protocol::StationNotice {
            kind: "database moved".into(),
            at: chrono::Utc::now(),
        }];
        assert_eq!(heartbeat(&h).unwrap_err().field, "notices[0].kind");
        h.notices[0].kind = "database-moved-aside".into();
        heartbeat(&h).unwrap();
    }
}
