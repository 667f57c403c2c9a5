//! Properties of the native protocol's wire types (issue 17, "every wire type property-tested"):
//! every type written as JSON reads back as the same value; arbitrary JSON, and a valid body
//! bent in every usual way, never panics the reader; and an unknown field, at any depth, is
//! refused by name. Cases are bounded so the file runs in seconds.

use std::collections::BTreeMap;
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use domain::roster::{Day, Exception, Provider, Role, Shift, TimeOfDay};
use domain::{Channel, Language, Localized, RiskAssessment, RiskLevel, RiskReason};
use protocol::*;

// ---- generators ------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9_-]{0,12}",
        2 => any::<String>(),
        1 => "\\PC{0,8}",
        1 => Just("\"\\\u{0}\u{202E}</script>".to_owned()),
    ]
}

/// Any instant chrono can hold, to the nanosecond, leap seconds included; mostly recent ones.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let (min, max) = (
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
    );
    prop_oneof![
        4 => (1_600_000_000i64..1_900_000_000, 0u32..1_000_000_000),
        1 => (1_600_000_000i64..1_900_000_000, Just(0u32)),
        1 => (min..=max, 0u32..1_000_000_000),
        1 => (prop_oneof![Just(min), Just(max), Just(253_402_300_799), Just(-62_167_219_200)], 0u32..1_000_000_000),
        1 => ((1_600_000_000i64 / 60..1_900_000_000 / 60).prop_map(|m| m * 60 + 59), 1_000_000_000u32..2_000_000_000),
    ]
    .prop_filter_map("an instant chrono holds", |(s, n)| DateTime::from_timestamp(s, n))
}

fn level() -> impl Strategy<Value = RiskLevel> {
    prop_oneof![
        Just(RiskLevel::Normal),
        Just(RiskLevel::Elevated),
        Just(RiskLevel::High)
    ]
}

fn risk() -> impl Strategy<Value = RiskAssessment> {
    let reason = prop_oneof![
        (text(), text(), level()).prop_map(|(question, option, level)| RiskReason::Answer {
            question,
            option,
            level
        }),
        (text(), level()).prop_map(|(keyword, level)| RiskReason::Keyword { keyword, level }),
    ];
    (level(), proptest::collection::vec(reason, 0..3))
        .prop_map(|(level, reasons)| RiskAssessment { level, reasons })
}

fn language() -> impl Strategy<Value = Language> {
    prop_oneof![
        Just(Language::Zh),
        Just(Language::ZhHant),
        Just(Language::En)
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(vec![Channel::Kiosk, Channel::Cli])
}

fn answer() -> impl Strategy<Value = SubmittedAnswer> {
    (text(), text(), text(), text()).prop_map(|(question, question_label, value, value_label)| {
        SubmittedAnswer {
            question,
            question_label,
            value,
            value_label,
        }
    })
}

fn case_submission() -> impl Strategy<Value = CaseSubmission> {
    (
        (text(), text(), text(), text(), text(), text(), text()),
        proptest::collection::vec(answer(), 0..3),
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            any::<bool>(),
            text(),
        ),
        (risk(), language(), channel(), instant()),
    )
        .prop_map(
            |(
                (id, token, station_id, service, subtype, service_name, subtype_name),
                answers,
                (description, phone, anonymous, consent_version),
                (risk, language, channel, filed_at),
            )| CaseSubmission {
                id,
                token,
                station_id,
                service,
                subtype,
                service_name,
                subtype_name,
                answers,
                description,
                phone,
                anonymous,
                consent_version,
                risk,
                language,
                channel,
                filed_at,
            },
        )
}

fn case_state() -> impl Strategy<Value = CaseState> {
    prop::sample::select(CaseState::ALL.to_vec())
}

fn case_receipt() -> impl Strategy<Value = CaseReceipt> {
    (text(), text(), instant(), case_state()).prop_map(|(id, token, received_at, state)| {
        CaseReceipt {
            id,
            token,
            received_at,
            state,
        }
    })
}

fn status_update() -> impl Strategy<Value = StatusUpdate> {
    (
        case_state(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(instant()),
    )
        .prop_map(|(state, note, department, expected_at)| StatusUpdate {
            state,
            note,
            department,
            expected_at,
        })
}

fn timeline_entry() -> impl Strategy<Value = TimelineEntry> {
    (
        instant(),
        case_state(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(instant()),
    )
        .prop_map(|(at, state, note, department, expected_at)| TimelineEntry {
            at,
            state,
            note,
            department,
            expected_at,
        })
}

fn case_progress() -> impl Strategy<Value = CaseProgress> {
    (
        (text(), case_state(), text(), text(), text(), instant()),
        (
            proptest::option::of(text()),
            proptest::option::of(instant()),
        ),
        proptest::collection::vec(timeline_entry(), 0..3),
    )
        .prop_map(
            |(
                (token, state, station_id, service, subtype, filed_at),
                (department, expected_at),
                timeline,
            )| CaseProgress {
                token,
                state,
                station_id,
                service,
                subtype,
                filed_at,
                department,
                expected_at,
                timeline,
            },
        )
}

fn printer_report() -> impl Strategy<Value = PrinterReport> {
    prop::sample::select(PrinterReport::ALL.to_vec())
}

/// Every finite number a kiosk could report as paper left (JSON has no NaN or infinity).
fn metres() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0f64..200.0,
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
    ]
}

fn notice() -> impl Strategy<Value = StationNotice> {
    (text(), instant()).prop_map(|(kind, at)| StationNotice { kind, at })
}

fn heartbeat() -> impl Strategy<Value = Heartbeat> {
    (
        (
            text(),
            instant(),
            text(),
            prop_oneof![printer_report().prop_map(|p| p.as_str().to_owned()), text()],
        ),
        (
            metres(),
            any::<bool>(),
            proptest::collection::btree_map(text(), any::<u32>(), 0..3),
        ),
        (
            any::<u32>(),
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(notice(), 0..2),
        ),
    )
        .prop_map(
            |(
                (station_id, sent_at, app_version, printer_state),
                (paper_left_m, paper_low, queue_lengths),
                (outbox_pending, outbox_oldest_s, notices),
            )| Heartbeat {
                station_id,
                sent_at,
                app_version,
                printer_state,
                paper_left_m,
                paper_low,
                queue_lengths: queue_lengths.into_iter().collect::<BTreeMap<_, _>>(),
                outbox_pending,
                outbox_oldest_s,
                notices,
            },
        )
}

fn api_error() -> impl Strategy<Value = ApiError> {
    (text(), proptest::option::of(text())).prop_map(|(error, field)| ApiError { error, field })
}

fn ticket_state() -> impl Strategy<Value = TicketState> {
    prop::sample::select(vec![
        TicketState::Waiting,
        TicketState::Called,
        TicketState::Served,
        TicketState::NoShow,
    ])
}

fn booking_state() -> impl Strategy<Value = BookingState> {
    prop::sample::select(vec![
        BookingState::Booked,
        BookingState::CheckedIn,
        BookingState::Cancelled,
    ])
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Lawyer, Role::Counsellor, Role::Mediator])
}

fn ticket() -> impl Strategy<Value = TicketStatus> {
    (
        (text(), text(), text(), ticket_state()),
        proptest::array::uniform4(proptest::option::of(any::<u32>())),
        instant(),
    )
        .prop_map(
            |((token, ticket, lane, state), [ahead, wait_min, wait_max, counter], taken_at)| {
                TicketStatus {
                    token,
                    ticket,
                    lane,
                    state,
                    ahead,
                    wait_min,
                    wait_max,
                    counter,
                    taken_at,
                }
            },
        )
}

fn booking() -> impl Strategy<Value = BookingStatus> {
    (
        text(),
        text(),
        proptest::option::of(role()),
        instant(),
        instant(),
        booking_state(),
    )
        .prop_map(|(token, lane, role, start, end, state)| BookingStatus {
            token,
            lane,
            role,
            start,
            end,
            state,
        })
}

fn on_duty() -> impl Strategy<Value = OnDuty> {
    (text(), role(), text(), instant()).prop_map(|(provider_id, role, name, since)| OnDuty {
        provider_id,
        role,
        name,
        since,
    })
}

fn station_state() -> impl Strategy<Value = StationState> {
    (
        text(),
        any::<u64>(),
        instant(),
        proptest::collection::vec(ticket(), 0..3),
        proptest::collection::vec(booking(), 0..3),
        proptest::collection::vec(on_duty(), 0..3),
    )
        .prop_map(
            |(station_id, seq, sent_at, tickets, bookings, on_duty)| StationState {
                station_id,
                seq,
                sent_at,
                tickets,
                bookings,
                on_duty,
            },
        )
}

fn provider() -> impl Strategy<Value = Provider> {
    let day = prop::sample::select(vec![
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ]);
    let time = (0u16..=1440).prop_map(TimeOfDay);
    let shift =
        (day, time.clone(), time.clone()).prop_map(|(day, from, to)| Shift { day, from, to });
    let date = instant().prop_map(|at| at.date_naive());
    let exception = (
        date,
        proptest::option::of(instant().prop_map(|at| at.date_naive())),
        any::<bool>(),
        proptest::option::of(time.clone()),
        proptest::option::of(time),
    )
        .prop_map(|(date, until, closed, from, to)| Exception {
            date,
            until,
            closed,
            from,
            to,
        });
    (
        (
            text(),
            role(),
            text(),
            text(),
            proptest::option::of(text()),
            text(),
        ),
        (any::<u32>(), any::<u32>()),
        proptest::collection::vec(shift, 0..3),
        proptest::collection::vec(exception, 0..3),
    )
        .prop_map(
            |((id, role, zh, en, zh_hant, service), (slot_min, capacity), shifts, exceptions)| {
                Provider {
                    id,
                    role,
                    name: Localized { zh, en, zh_hant },
                    service,
                    slot_min,
                    capacity,
                    shifts,
                    exceptions,
                }
            },
        )
}

fn roster_document() -> impl Strategy<Value = RosterDocument> {
    (
        proptest::collection::vec(provider(), 0..3),
        proptest::option::of(instant()),
    )
        .prop_map(|(providers, updated_at)| RosterDocument {
            providers,
            updated_at,
        })
}

// ---- the checks each type gets -------------------------------------------------------------

/// Written and read back, the value is the same, and so is its JSON.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let json =
        serde_json::to_string(value).map_err(|e| TestCaseError::fail(format!("{e}: {value:?}")))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value, "{}", json);
    prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    Ok(())
}

/// Every object inside `value` (the top one included), as a JSON pointer.
fn objects(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        // `queue_lengths` is a map of lanes, not a record: any name is a lane.
        Value::Object(_) if at.ends_with("/queue_lengths") => {}
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                objects(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                objects(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Fields that a value may leave out when it writes itself (skipped when empty): adding one is
/// not adding an unknown field.
fn may_be_left_out(name: &str) -> bool {
    matches!(
        name,
        "until" | "closed" | "from" | "to" | "zh-Hant" | "exceptions"
    )
}

/// An unknown field added to any object of a valid body is refused, naming the field.
fn refuses_unknown_fields<T: Serialize + DeserializeOwned + Debug>(
    value: &T,
    pick: prop::sample::Index,
    name: &str,
    extra: Value,
) -> Result<(), TestCaseError> {
    let mut json = serde_json::to_value(value).unwrap();
    let mut places = Vec::new();
    objects(&json, String::new(), &mut places);
    let place = pick.get(&places).clone();
    let target = json
        .pointer_mut(&place)
        .and_then(Value::as_object_mut)
        .unwrap();
    if target.contains_key(name) || may_be_left_out(name) {
        return Ok(());
    }
    target.insert(name.to_owned(), extra);
    let body = serde_json::to_string(&json).unwrap();
    match serde_json::from_str::<T>(&body) {
        Ok(read) => Err(TestCaseError::fail(format!(
            "the unknown field `{name}` at `{place}` was accepted: {body}\nread as {read:?}"
        ))),
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.contains(&format!("unknown field `{name}`")),
                "{}",
                message
            );
            Ok(())
        }
    }
}

/// Arbitrary JSON values, shaped like the protocol's bodies often enough to go deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::String),
        prop::sample::select(vec![
            "received",
            "high",
            "zh",
            "kiosk",
            "lawyer",
            "mon",
            "09:00",
            "2026-01-05",
            "2026-01-05T09:00:00Z",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "waiting",
            "booked",
            "answer",
            "keyword",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop::sample::select(vec![
            "id",
            "token",
            "station_id",
            "state",
            "risk",
            "level",
            "reasons",
            "kind",
            "at",
            "filed_at",
            "answers",
            "timeline",
            "tickets",
            "bookings",
            "on_duty",
            "providers",
            "shifts",
            "exceptions",
            "day",
            "from",
            "to",
            "name",
            "zh",
            "en",
            "seq",
            "sent_at",
            "x",
        ]);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6).prop_map(|fields| {
                Value::Object(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Reads `text` as every wire type: none may panic.
fn read_as_every_type(text: &str) {
    let _ = serde_json::from_str::<CaseSubmission>(text);
    let _ = serde_json::from_str::<SubmittedAnswer>(text);
    let _ = serde_json::from_str::<CaseReceipt>(text);
    let _ = serde_json::from_str::<CaseState>(text);
    let _ = serde_json::from_str::<StatusUpdate>(text);
    let _ = serde_json::from_str::<TimelineEntry>(text);
    let _ = serde_json::from_str::<CaseProgress>(text);
    let _ = serde_json::from_str::<Heartbeat>(text);
    let _ = serde_json::from_str::<PrinterReport>(text);
    let _ = serde_json::from_str::<StationNotice>(text);
    let _ = serde_json::from_str::<ApiError>(text);
    let _ = serde_json::from_str::<StationState>(text);
    let _ = serde_json::from_str::<TicketStatus>(text);
    let _ = serde_json::from_str::<TicketState>(text);
    let _ = serde_json::from_str::<BookingStatus>(text);
    let _ = serde_json::from_str::<BookingState>(text);
    let _ = serde_json::from_str::<OnDuty>(text);
    let _ = serde_json::from_str::<RosterDocument>(text);
}

/// A valid body bent: a field dropped, a value replaced by another JSON value, or the text cut.
fn bent(
    body: Value,
    pick: prop::sample::Index,
    replacement: Value,
    cut: prop::sample::Index,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut places = Vec::new();
    objects(&body, String::new(), &mut places);
    let place = pick.get(&places).clone();
    let mut dropped = body.clone();
    if let Some(map) = dropped.pointer_mut(&place).and_then(Value::as_object_mut) {
        if let Some(k) = map.keys().next().cloned() {
            map.remove(&k);
        }
    }
    out.push(dropped.to_string());
    let mut replaced = body.clone();
    if let Some(map) = replaced.pointer_mut(&place).and_then(Value::as_object_mut) {
        let n = map.len();
        if n > 0 {
            let k = map.keys().nth(cut.index(n)).cloned().unwrap();
            map.insert(k, replacement);
        }
    }
    out.push(replaced.to_string());
    let text = body.to_string();
    let at = cut.index(text.len() + 1);
    out.push(String::from_utf8_lossy(&text.as_bytes()[..at]).into_owned());
    out
}

macro_rules! wire_type {
    ($round_trip:ident, $unknown:ident, $bent:ident, $strategy:expr, $t:ty) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn $round_trip(value in $strategy) {
                round_trips::<$t>(&value)?;
            }

            #[test]
            fn $unknown(value in $strategy, pick in any::<prop::sample::Index>(), name in "[a-z_]{1,12}|\\PC{1,6}", extra in json()) {
                refuses_unknown_fields::<$t>(&value, pick, &name, extra)?;
            }

            #[test]
            fn $bent(value in $strategy, pick in any::<prop::sample::Index>(), replacement in json(), cut in any::<prop::sample::Index>()) {
                for body in bent(serde_json::to_value(&value).unwrap(), pick, replacement, cut) {
                    read_as_every_type(&body);
                }
            }
        }
    };
}

wire_type!(
    case_submission_round_trips,
    case_submission_refuses_unknown_fields,
    a_bent_case_submission_never_panics,
    case_submission(),
    CaseSubmission
);
wire_type!(
    case_receipt_round_trips,
    case_receipt_refuses_unknown_fields,
    a_bent_case_receipt_never_panics,
    case_receipt(),
    CaseReceipt
);
wire_type!(
    status_update_round_trips,
    status_update_refuses_unknown_fields,
    a_bent_status_update_never_panics,
    status_update(),
    StatusUpdate
);
wire_type!(
    case_progress_round_trips,
    case_progress_refuses_unknown_fields,
    a_bent_case_progress_never_panics,
    case_progress(),
    CaseProgress
);
wire_type!(
    heartbeat_round_trips,
    heartbeat_refuses_unknown_fields,
    a_bent_heartbeat_never_panics,
    heartbeat(),
    Heartbeat
);
wire_type!(
    api_error_round_trips,
    api_error_refuses_unknown_fields,
    a_bent_api_error_never_panics,
    api_error(),
    ApiError
);
wire_type!(
    station_state_round_trips,
    station_state_refuses_unknown_fields,
    a_bent_station_state_never_panics,
    station_state(),
    StationState
);
wire_type!(
    roster_document_round_trips,
    roster_document_refuses_unknown_fields,
    a_bent_roster_document_never_panics,
    roster_document(),
    RosterDocument
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary JSON, and arbitrary text, never panic any reader.
    #[test]
    fn arbitrary_json_never_panics(value in json(), raw in any::<String>()) {
        read_as_every_type(&value.to_string());
        read_as_every_type(&raw);
    }

    /// The state codes read back from their text, and nothing else reads as one.
    #[test]
    fn state_codes_read_back(code in prop_oneof![text(), prop::sample::select(CaseState::ALL.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>())]) {
        match CaseState::parse(&code) {
            Some(state) => prop_assert_eq!(state.as_str(), code.as_str()),
            None => prop_assert!(serde_json::from_value::<CaseState>(Value::String(code)).is_err()),
        }
    }
}
