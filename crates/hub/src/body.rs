//! Request bodies: read at most [`BODY_LIMIT`] bytes, then decode JSON so that every mistake
//! names its field.
//!
//! Decoding goes through a `serde_json::Value` first, which separates "not JSON at all" from
//! "JSON of the wrong shape". A shape error is traced to its field by trying each field of the
//! body on its own type ([`Shape`]), and after a successful decode the value is written back
//! and compared with what was sent, so an unknown field is refused at any depth, even inside
//! types that would quietly ignore it. (A type that leaves empty fields out when written, like
//! a roster, refuses unknown fields at every depth by itself and skips that comparison.)

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use domain::roster::Provider;
use domain::{Channel, Language, RiskAssessment};
use protocol::{
    BookingStatus, CaseState, CaseSubmission, Heartbeat, OnDuty, RosterDocument, StationState,
    StatusUpdate, SubmittedAnswer, TicketStatus,
};

/// The largest body the hub reads (`413` above it).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;
/// The largest station state (`PUT /api/v1/station-state`): room for its 5 000 tickets and
/// 5 000 bookings.
pub(crate) const STATE_BODY_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the limit (bytes) of its endpoint.
    TooLarge { limit: usize },
    /// Not `application/json`.
    NotJson,
    /// Malformed or of the wrong shape; `field` when one is to blame.
    Refused {
        problem: String,
        field: Option<String>,
    },
}

/// Whether the request says its body is JSON.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether the request says its body is an HTML form (`application/x-www-form-urlencoded`,
/// with or without `charset=utf-8`).
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in order. Strict where
/// the usual decoders are lenient: a name or value whose bytes are not UTF-8 once decoded is
/// refused naming it (never stored with U+FFFD in its place), and so is a `%` not followed by
/// two hexadecimal digits. Empty pieces (`a=1&&b=2`) are skipped, a piece without `=` is a
/// name with an empty value.
pub(crate) fn decode_form(bytes: &[u8]) -> Result<Vec<(String, String)>, BodyError> {
    let mut pairs = Vec::new();
    for piece in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        let name = form_text(name).map_err(|problem| BodyError::Refused {
            problem: format!("a field name {problem}"),
            field: None,
        })?;
        let value = form_text(value).map_err(|problem| BodyError::Refused {
            problem: format!("{name}: the value {problem}"),
            field: Some(name.clone()),
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// One percent-encoded piece of a form (`+` is a space), as UTF-8 text.
fn form_text(encoded: &[u8]) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        match encoded[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let (Some(hi), Some(lo)) = (
                    encoded.get(i + 1).copied().and_then(hex),
                    encoded.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err("has a `%` that is not followed by two hexadecimal digits");
                };
                bytes.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text")
}

/// Reads the body, refusing it as soon as it is known to be over `limit` bytes (a declared
/// `Content-Length` is believed before a byte is read).
pub(crate) async fn read_bounded_to(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| BodyError::TooLarge { limit })
}

/// The field-by-field shape of a body type, for naming the field a decoding error is about.
pub(crate) trait Shape: DeserializeOwned + Serialize {
    /// Every top-level field with a check of its type, and for arrays of its elements.
    fn fields() -> &'static [Field];

    /// Whether writing the decoded value back gives every field that was sent, so that a field
    /// missing from it was unknown. A type that leaves empty fields out when written says
    /// `false`, and must then refuse unknown fields itself at every depth
    /// (`deny_unknown_fields`).
    fn writes_every_field() -> bool {
        true
    }
}

pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) check: Check,
    /// For an array: the check of one element (errors then name `field[i]`).
    pub(crate) element: Option<Check>,
}

pub(crate) type Check = fn(&Value) -> Result<(), serde_json::Error>;

fn check<T: DeserializeOwned>(value: &Value) -> Result<(), serde_json::Error> {
    T::deserialize(value).map(|_| ())
}

const fn field(name: &'static str, check: Check) -> Field {
    Field {
        name,
        check,
        element: None,
    }
}

impl Shape for CaseSubmission {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            field("id", check::<String>),
            field("token", check::<String>),
            field("station_id", check::<String>),
            field("service", check::<String>),
            field("subtype", check::<String>),
            field("service_name", check::<String>),
            field("subtype_name", check::<String>),
            Field {
                name: "answers",
                check: check::<Vec<SubmittedAnswer>>,
                element: Some(check::<SubmittedAnswer>),
            },
            field("description", check::<Option<String>>),
            field("phone", check::<Option<String>>),
            field("anonymous", check::<bool>),
            field("consent_version", check::<String>),
            field("risk", check::<RiskAssessment>),
            field("language", check::<Language>),
            field("channel", check::<Channel>),
            field("filed_at", check::<chrono::DateTime<chrono::Utc>>),
        ];
        FIELDS
    }
}

impl Shape for protocol::RatingSubmission {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            field("rating", check::<String>),
            field("reason", check::<Option<String>>),
        ];
        FIELDS
    }
}

impl Shape for StatusUpdate {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            field("state", check::<CaseState>),
            field("note", check::<Option<String>>),
            field("department", check::<Option<String>>),
            field(
                "expected_at",
                check::<Option<chrono::DateTime<chrono::Utc>>>,
            ),
        ];
        FIELDS
    }
}

impl Shape for Heartbeat {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            field("station_id", check::<String>),
            field("sent_at", check::<chrono::DateTime<chrono::Utc>>),
            field("app_version", check::<String>),
            field("printer_state", check::<String>),
            field("paper_left_m", check::<f64>),
            field("paper_low", check::<bool>),
            field(
                "queue_lengths",
                check::<std::collections::BTreeMap<String, u32>>,
            ),
            field("outbox_pending", check::<u32>),
            field("outbox_oldest_s", check::<Option<u64>>),
            field("notices", check::<Vec<protocol::StationNotice>>),
        ];
        FIELDS
    }
}

impl Shape for StationState {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            field("station_id", check::<String>),
            field("seq", check::<u64>),
            field("sent_at", check::<chrono::DateTime<chrono::Utc>>),
            Field {
                name: "tickets",
                check: check::<Vec<TicketStatus>>,
                element: Some(check::<TicketStatus>),
            },
            Field {
                name: "bookings",
                check: check::<Vec<BookingStatus>>,
                element: Some(check::<BookingStatus>),
            },
            Field {
                name: "on_duty",
                check: check::<Vec<OnDuty>>,
                element: Some(check::<OnDuty>),
            },
        ];
        FIELDS
    }
}

impl Shape for RosterDocument {
    fn fields() -> &'static [Field] {
        const FIELDS: &[Field] = &[
            Field {
                name: "providers",
                check: check::<Vec<Provider>>,
                element: Some(check::<Provider>),
            },
            field("updated_at", check::<Option<chrono::DateTime<chrono::Utc>>>),
        ];
        FIELDS
    }

    /// A provider leaves out empty `exceptions`, an exception its `closed = false` and absent
    /// times; every roster type refuses unknown fields itself.
    fn writes_every_field() -> bool {
        false
    }
}

/// Decodes a JSON body of type `T`.
pub(crate) fn decode<T: Shape>(bytes: &[u8]) -> Result<T, BodyError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| BodyError::Refused {
        problem: format!("the body is not valid JSON: {e}"),
        field: None,
    })?;
    let Value::Object(object) = &value else {
        return Err(BodyError::Refused {
            problem: "the body must be a JSON object".into(),
            field: None,
        });
    };
    let decoded: T = match T::deserialize(&value) {
        Ok(decoded) => decoded,
        Err(e) => {
            let (field, problem) = blame::<T>(object, &e);
            return Err(BodyError::Refused {
                problem,
                field: Some(field).filter(|f| !f.is_empty()),
            });
        }
    };
    if !T::writes_every_field() {
        return Ok(decoded);
    }
    let written = serde_json::to_value(&decoded).map_err(|e| BodyError::Refused {
        problem: e.to_string(),
        field: None,
    })?;
    if let Some(path) = unknown_field(&value, &written, "") {
        return Err(BodyError::Refused {
            problem: format!("unknown field `{path}`"),
            field: Some(path),
        });
    }
    Ok(decoded)
}

/// Finds the field a decoding error is about: the first field whose value does not decode on
/// its own, else the field serde named (an unknown or a missing one).
fn blame<T: Shape>(
    object: &serde_json::Map<String, Value>,
    error: &serde_json::Error,
) -> (String, String) {
    for f in T::fields() {
        let Some(v) = object.get(f.name) else {
            continue;
        };
        let Err(e) = (f.check)(v) else {
            continue;
        };
        if let (Some(element), Value::Array(items)) = (f.element, v) {
            for (i, item) in items.iter().enumerate() {
                if let Err(e) = element(item) {
                    let path = match named(&e) {
                        Some(inner) => format!("{}[{i}].{inner}", f.name),
                        None => format!("{}[{i}]", f.name),
                    };
                    let problem = format!("{path}: {}", plain(&e));
                    return (path, problem);
                }
            }
        }
        let path = match named(&e) {
            // A type that refuses unknown fields itself names only the key: find where it is.
            Some(inner) => {
                locate(v, &inner, f.name).unwrap_or_else(|| format!("{}.{inner}", f.name))
            }
            None => f.name.to_owned(),
        };
        let problem = format!("{path}: {}", plain(&e));
        return (path, problem);
    }
    (named(error).unwrap_or_default(), plain(error))
}

/// The path of the key `key` in `value` (under `path`): directly in it first, else the first
/// found depth-first.
fn locate(value: &Value, key: &str, path: &str) -> Option<String> {
    match value {
        Value::Object(map) if map.contains_key(key) => Some(format!("{path}.{key}")),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| locate(v, key, &format!("{path}.{k}"))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| locate(v, key, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The field serde names in "unknown field `x`" or "missing field `x`".
fn named(error: &serde_json::Error) -> Option<String> {
    let message = error.to_string();
    ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned)
}

/// serde's message without its position (meaningless once decoded from a `Value`).
fn plain(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}

/// The path of the first key in `sent` that did not survive decoding and writing back.
fn unknown_field(sent: &Value, written: &Value, path: &str) -> Option<String> {
    match (sent, written) {
        (Value::Object(s), Value::Object(w)) => s.iter().find_map(|(key, value)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match w.get(key) {
                None => Some(here),
                Some(w_value) => unknown_field(value, w_value, &here),
            }
        }),
        (Value::Array(s), Value::Array(w)) => s
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (s, w))| unknown_field(s, w, &format!("{path}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_decodes_in_order_and_refuses_what_is_not_utf8() {
        let pairs =
            decode_form(b"a=1&&b=%E4%BD%A0+%E5%A5%BD&attribute%5Bx%5D%5B%5D=y&flag").unwrap();
        assert_eq!(
            pairs,
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "你 好".to_owned()),
                ("attribute[x][]".to_owned(), "y".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        let e = decode_form(b"service_code=legal&description=%FF%FEbad").unwrap_err();
        assert_eq!(
            e,
            BodyError::Refused {
                problem: "description: the value is not UTF-8 text".into(),
                field: Some("description".into()),
            }
        );
        let raw_byte = decode_form(b"description=caf\xE9").unwrap_err();
        assert!(
            matches!(raw_byte, BodyError::Refused { field: Some(f), .. } if f == "description")
        );
        assert!(matches!(
            decode_form(b"%C0=x").unwrap_err(),
            BodyError::Refused { field: None, .. }
        ));
        let e = decode_form(b"lat=3%2").unwrap_err();
        assert!(matches!(e, BodyError::Refused { field: Some(f), .. } if f == "lat"));
    }
    use serde_json::json;

    fn submission() -> Value {
        json!({
            "id": "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e",
            "token": "00000000000000000",
            "station_id": "demo",
            "service": "complaint",
            "subtype": "noise",
            "service_name": "投诉建议",
            "subtype_name": "噪音",
            "answers": [
                {"question": "q", "question_label": "Q", "value": "v", "value_label": "V"},
                {"question": "q", "question_label": "Q", "value": "v", "value_label": "V"}
            ],
            "description": null,
            "phone": null,
            "anonymous": true,
            "consent_version": "1",
            "risk": {"level": "high", "reasons": [{"kind": "keyword", "keyword": "x", "level": "high"}]},
            "language": "zh",
            "channel": "kiosk",
            "filed_at": "2024-05-01T08:00:00Z"
        })
    }

    fn refused(v: &Value) -> (Option<String>, String) {
        match decode::<CaseSubmission>(v.to_string().as_bytes()) {
            Err(BodyError::Refused { field, problem }) => (field, problem),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_shape_tables_list_every_field_of_their_type() {
        fn names<T: Shape>(sample: &Value) {
            let mut listed: Vec<&str> = T::fields().iter().map(|f| f.name).collect();
            let mut actual: Vec<&str> = sample
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            listed.sort_unstable();
            actual.sort_unstable();
            assert_eq!(listed, actual);
        }
        names::<CaseSubmission>(&submission());
        names::<StatusUpdate>(
            &json!({"state": "resolved", "note": null, "department": null,
                                       "expected_at": null}),
        );
        names::<Heartbeat>(&json!({"station_id": "", "sent_at": "", "app_version": "",
            "printer_state": "", "paper_left_m": 0, "paper_low": false, "queue_lengths": {},
            "outbox_pending": 0, "outbox_oldest_s": null, "notices": []}));
        names::<StationState>(&json!({"station_id": "", "seq": 0, "sent_at": "",
            "tickets": [], "bookings": [], "on_duty": []}));
        names::<RosterDocument>(&json!({"providers": [], "updated_at": null}));
    }

    fn provider() -> Value {
        json!({"id": "lawyer-wang", "role": "lawyer", "name": {"zh": "王", "en": "Wang"},
               "service": "legal", "slot_min": 30, "shifts": [
                   {"day": "mon", "from": "09:00", "to": "12:00"}]})
    }

    #[test]
    fn a_roster_may_spell_out_its_empty_fields_but_not_add_unknown_ones() {
        let mut p = provider();
        p["exceptions"] = json!([{"date": "2030-01-01", "closed": false, "until": null,
                                  "from": "14:00", "to": "15:00"}]);
        let doc = json!({"providers": [p], "updated_at": null});
        let roster: RosterDocument = decode(doc.to_string().as_bytes()).unwrap();
        assert_eq!(roster.providers[0].capacity, 1);
        let mut p = provider();
        p["exceptions"] = json!([]);
        decode::<RosterDocument>(json!({"providers": [p]}).to_string().as_bytes()).unwrap();

        let mut p = provider();
        p["shifts"][0]["room"] = json!(3);
        assert!(matches!(
            decode::<RosterDocument>(json!({"providers": [p]}).to_string().as_bytes()),
            Err(BodyError::Refused { .. })
        ));
        let mut p = provider();
        p["name"]["fr"] = json!("Wang");
        assert!(matches!(
            decode::<RosterDocument>(json!({"providers": [p]}).to_string().as_bytes()),
            Err(BodyError::Refused { .. })
        ));
        let doc = json!({"providers": [provider()], "colour": "red"});
        match decode::<RosterDocument>(doc.to_string().as_bytes()) {
            Err(BodyError::Refused { field, .. }) => assert_eq!(field.as_deref(), Some("colour")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_sound_body_decodes() {
        let s: CaseSubmission = decode(submission().to_string().as_bytes()).unwrap();
        assert_eq!(s.answers.len(), 2);
    }

    #[test]
    fn not_json_is_refused_without_a_field() {
        match decode::<CaseSubmission>(b"{\"id\": ") {
            Err(BodyError::Refused {
                field: None,
                problem,
            }) => {
                assert!(problem.contains("not valid JSON"), "{problem}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_field_even_inside_a_list() {
        let mut v = submission();
        v["anonymous"] = json!("yes");
        assert_eq!(refused(&v).0.as_deref(), Some("anonymous"));
        let mut v = submission();
        v["answers"][1]["value"] = json!(5);
        assert_eq!(refused(&v).0.as_deref(), Some("answers[1]"));
        let mut v = submission();
        v["answers"][1]["colour"] = json!("red");
        assert_eq!(refused(&v).0.as_deref(), Some("answers[1].colour"));
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let mut v = submission();
        v["colour"] = json!("red");
        let (field, problem) = refused(&v);
        assert_eq!(field.as_deref(), Some("colour"));
        assert!(problem.contains("colour"), "{problem}");
        let mut v = submission();
        v.as_object_mut().unwrap().remove("token");
        assert_eq!(refused(&v).0.as_deref(), Some("token"));
    }

    #[test]
    fn an_unknown_field_deep_inside_a_lenient_type_is_still_refused() {
        let mut v = submission();
        v["risk"]["score"] = json!(9);
        assert_eq!(refused(&v).0.as_deref(), Some("risk.score"));
        let mut v = submission();
        v["risk"]["reasons"][0]["extra"] = json!(1);
        assert_eq!(refused(&v).0.as_deref(), Some("risk.reasons[0].extra"));
    }
}
