//! Turning an Open311 `POST requests` form into a case, the same kind of case the native
//! protocol files (the same table, a tracking code either way).
//!
//! The fields of the specification are read (`service_code`, a location, `description`,
//! `phone`, the contact fields, `jurisdiction_id`), and `attribute[…]` as follows:
//!
//! | attribute | becomes |
//! |---|---|
//! | `kiosk_case_id` | the case id (UUID); makes the request idempotent |
//! | `kiosk_token` | the tracking code printed on the slip (else the hub makes one) |
//! | `kiosk_station_id` | the filing station: one the `api_key` is tied to (else its only one, or `open311` for a key tied to none) |
//! | `kiosk_subtype` | the sub-type (else `unspecified`) |
//! | `kiosk_risk` | `normal`, `elevated` or `high` (a red alert); only from a key tied to a station |
//! | `kiosk_language` | `zh`, `zh-Hant` or `en` |
//! | `kiosk_filed_at` | when the kiosk committed the case (else now) |
//! | `kiosk_consent_version` | the privacy notice accepted (else `open311`) |
//! | `kiosk_anonymous` | `true`/`false` (else: anonymous when there is no phone) |
//! | any other `attribute[code]` (or `attribute[code][]`) | a structured answer |
//!
//! A field the specification does not have is refused by name, as the native protocol does.
//! An unknown `service_code` is a `404`; filing as a station the key is not tied to, or setting
//! the risk with a key tied to none, a `403`; every other problem a `400`. Each names its field.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::digest::sha256_hex;
use crate::store::cases::{NewCase, Source};
use crate::validate::{self, DESCRIPTION_MAX, NAME_MAX};
use domain::{Catalogue, Channel, Language, RiskAssessment, RiskLevel, TrackingToken};
use protocol::{CaseSubmission, SubmittedAnswer};

/// The station a request without `attribute[kiosk_station_id]` is filed under.
pub(crate) const OPEN311_STATION: &str = "open311";
/// The sub-type of a request without `attribute[kiosk_subtype]`.
pub(crate) const UNSPECIFIED_SUBTYPE: &str = "unspecified";
/// More form fields than this is not a grievance.
const MAX_FIELDS: usize = 200;
/// The longest `media_url`.
pub(crate) const MEDIA_URL_MAX: usize = 2000;

/// Who files, by the `api_key` presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filer<'a> {
    /// A key tied to no station: files as the hub's own `open311` source.
    Open311,
    /// A key tied to these stations: files as one of them.
    Stations(&'a [String]),
}

/// Why a form is not a case: the HTTP status and the problem, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) problem: String,
}

impl Refusal {
    fn forbidden(problem: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            problem: problem.into(),
        }
    }
}

impl From<String> for Refusal {
    fn from(problem: String) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            problem,
        }
    }
}

impl From<&str> for Refusal {
    fn from(problem: &str) -> Refusal {
        Refusal::from(problem.to_owned())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem)
    }
}

/// Specification fields kept in the stored form but not otherwise used.
const CONTACT_FIELDS: [&str; 7] = [
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "media_url",
    "address_id",
];

/// Builds the case a form describes, filed by `filer`, or says (naming the field) why it
/// cannot.
pub(crate) fn new_case(
    fields: &[(String, String)],
    filer: Filer<'_>,
    catalogue: &Catalogue,
    now: DateTime<Utc>,
) -> Result<NewCase, Refusal> {
    if fields.len() > MAX_FIELDS {
        return Err(format!("at most {MAX_FIELDS} fields").into());
    }
    let mut plain: Vec<(&str, &str)> = Vec::new();
    let mut kiosk: Vec<(&str, &str)> = Vec::new();
    let mut answers: Vec<SubmittedAnswer> = Vec::new();
    for (key, value) in fields {
        if let Some(code) = key
            .strip_prefix("attribute[")
            .and_then(|rest| rest.strip_suffix("][]").or_else(|| rest.strip_suffix(']')))
        {
            validate::identifier(key, code).map_err(|e| e.to_string())?;
            if code.starts_with("kiosk_") {
                if kiosk.iter().any(|(k, _)| *k == code) {
                    return Err(format!("{key}: given twice").into());
                }
                kiosk.push((code, value));
            } else if !value.is_empty() {
                validate::text(key, value, 1, validate::ANSWER_MAX).map_err(|e| e.to_string())?;
                answers.push(SubmittedAnswer {
                    question: code.to_owned(),
                    question_label: code.to_owned(),
                    value: value.clone(),
                    value_label: value.clone(),
                });
            }
            continue;
        }
        let known = matches!(
            key.as_str(),
            "jurisdiction_id"
                | "service_code"
                | "lat"
                | "long"
                | "address_string"
                | "description"
                | "phone"
        ) || CONTACT_FIELDS.contains(&key.as_str());
        if !known {
            return Err(format!("{key}: unknown field").into());
        }
        if plain.iter().any(|(k, _)| k == key) {
            return Err(format!("{key}: given twice").into());
        }
        validate::text(key, value, 0, DESCRIPTION_MAX).map_err(|e| e.to_string())?;
        match key.as_str() {
            "description" => {}
            "media_url" => {
                validate::line(key, value, 0, MEDIA_URL_MAX).map_err(|e| e.to_string())?;
                let lower = value.trim().to_ascii_lowercase();
                let web = ["http://", "https://"]
                    .iter()
                    .any(|scheme| lower.len() > scheme.len() && lower.starts_with(scheme));
                if !value.trim().is_empty() && (!web || value.trim().contains(' ')) {
                    return Err("media_url: an http:// or https:// address".into());
                }
            }
            _ => validate::line(key, value, 0, 200).map_err(|e| e.to_string())?,
        }
        plain.push((key, value));
    }
    let get = |list: &[(&str, &str)], name: &str| {
        list.iter()
            .find(|(k, v)| *k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
    };
    let field = |name| get(&plain, name);
    let attribute = |name| get(&kiosk, name);

    let service_code = field("service_code").ok_or("service_code: required")?;
    let service = catalogue.service(&service_code).ok_or_else(|| Refusal {
        status: StatusCode::NOT_FOUND,
        problem: format!("service_code: `{service_code}` is not a service here"),
    })?;
    match (field("lat"), field("long")) {
        (Some(_), None) => return Err("long: required with lat (WGS84 degrees)".into()),
        (None, Some(_)) => return Err("lat: required with long (WGS84 degrees)".into()),
        (None, None) if field("address_string").is_none() && field("address_id").is_none() => {
            return Err("a location is required: lat and long, address_string or address_id".into())
        }
        _ => {}
    }
    for (name, limit) in [("lat", 90.0), ("long", 180.0)] {
        if let Some(v) = field(name) {
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => {}
                _ => {
                    return Err(format!(
                        "{name}: a number of degrees from -{limit} to {limit} (WGS84)"
                    )
                    .into())
                }
            }
        }
    }
    if answers.len() > validate::ANSWERS_MAX {
        return Err(format!("at most {} answers", validate::ANSWERS_MAX).into());
    }
    let phone = match field("phone") {
        None => None,
        Some(p) => {
            let digits: String = p.chars().filter(|c| !" -()+".contains(*c)).collect();
            if !(3..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("phone: 3 to 20 digits".into());
            }
            Some(digits)
        }
    };

    for (code, _) in &kiosk {
        if !KIOSK_ATTRIBUTES.contains(code) {
            return Err(format!("attribute[{code}]: unknown kiosk attribute").into());
        }
    }
    let id = match attribute("kiosk_case_id") {
        Some(id) => {
            validate::case_id("attribute[kiosk_case_id]", &id).map_err(|e| e.to_string())?;
            id
        }
        None => uuid::Uuid::now_v7().hyphenated().to_string(),
    };
    let token = match attribute("kiosk_token") {
        Some(t) => TrackingToken::parse(&t)
            .map_err(|e| format!("attribute[kiosk_token]: {e}"))?
            .as_str()
            .to_owned(),
        None => new_token()?,
    };
    let station_id = match (filer, attribute("kiosk_station_id")) {
        (Filer::Open311, None) => OPEN311_STATION.to_owned(),
        (Filer::Open311, Some(_)) => {
            return Err(Refusal::forbidden(
                "attribute[kiosk_station_id]: this api_key is tied to no station and files as \
                 `open311`; a kiosk needs a key tied to its station",
            ))
        }
        (Filer::Stations(stations), Some(station)) => {
            validate::identifier("attribute[kiosk_station_id]", &station)
                .map_err(|e| e.to_string())?;
            if !stations.contains(&station) {
                return Err(Refusal::forbidden(format!(
                    "attribute[kiosk_station_id]: this api_key may not file as `{station}`"
                )));
            }
            station
        }
        (Filer::Stations([only]), None) => only.clone(),
        (Filer::Stations(_), None) => {
            return Err(
                "attribute[kiosk_station_id]: required, this api_key files for \
                        several stations"
                    .into(),
            )
        }
    };
    if filer == Filer::Open311 && attribute("kiosk_risk").is_some() {
        return Err(Refusal::forbidden(
            "attribute[kiosk_risk]: only a key tied to a station may set the risk",
        ));
    }
    let subtype = attribute("kiosk_subtype").unwrap_or_else(|| UNSPECIFIED_SUBTYPE.to_owned());
    validate::identifier("attribute[kiosk_subtype]", &subtype).map_err(|e| e.to_string())?;
    let level = match attribute("kiosk_risk") {
        None => RiskLevel::Normal,
        Some(r) => RiskLevel::parse(&r).ok_or("attribute[kiosk_risk]: normal, elevated or high")?,
    };
    let language = match attribute("kiosk_language") {
        None => Language::Zh,
        Some(l) => Language::ALL
            .into_iter()
            .find(|language| language.code() == l)
            .ok_or("attribute[kiosk_language]: zh, zh-Hant or en")?,
    };
    let filed_at = match attribute("kiosk_filed_at") {
        None => now,
        Some(t) => DateTime::parse_from_rfc3339(&t)
            .map_err(|_| "attribute[kiosk_filed_at]: a date and time with its zone (RFC 3339)")?
            .with_timezone(&Utc),
    };
    let anonymous = match attribute("kiosk_anonymous").as_deref() {
        None => phone.is_none(),
        Some("true") => true,
        Some("false") => false,
        Some(_) => return Err("attribute[kiosk_anonymous]: true or false".into()),
    };
    let consent_version =
        attribute("kiosk_consent_version").unwrap_or_else(|| "open311".to_owned());
    let service_name = service.name.zh.clone();
    let subtype_name = service
        .subtype(&subtype)
        .map(|t| t.name.zh.clone())
        .unwrap_or_else(|| subtype.clone());
    let submission = CaseSubmission {
        id,
        token,
        station_id,
        service: service.id.clone(),
        subtype,
        service_name: truncate(service_name, NAME_MAX),
        subtype_name: truncate(subtype_name, NAME_MAX),
        answers,
        description: field("description"),
        phone,
        anonymous,
        consent_version,
        risk: RiskAssessment {
            level,
            reasons: Vec::new(),
        },
        language,
        channel: Channel::Kiosk,
        filed_at,
    };
    validate::submission(&submission, catalogue).map_err(|e| format!("request: {e}"))?;

    let mut canonical: Vec<&(String, String)> = fields.iter().collect();
    canonical.sort();
    let form_json = serde_json::to_string(&canonical).map_err(|e| e.to_string())?;
    Ok(NewCase {
        submission,
        // Without a kiosk case id every request is a new case, so the fingerprint only
        // matters with one; it covers the whole form, whatever the hub filled in itself.
        body_sha256: sha256_hex(form_json.as_bytes()),
        source: Source::Open311,
        open311_form: Some(form_json),
    })
}

/// The attributes the service definitions announce (and the only `kiosk_*` ones accepted).
pub(crate) use protocol::OPEN311_KIOSK_ATTRIBUTES as KIOSK_ATTRIBUTES;

fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; domain::token::RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a tracking code: {e}"))?;
    Ok(TrackingToken::from_random(bytes).as_str().to_owned())
}

fn truncate(text: String, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn build(pairs: &[(&str, &str)]) -> Result<NewCase, String> {
        new_case(
            &form(pairs),
            Filer::Open311,
            &Catalogue::builtin(),
            Utc::now(),
        )
        .map_err(|r| r.problem)
    }

    fn build_as(filer: Filer<'_>, pairs: &[(&str, &str)]) -> Result<NewCase, Refusal> {
        new_case(&form(pairs), filer, &Catalogue::builtin(), Utc::now())
    }

    #[test]
    fn a_kiosk_form_becomes_its_case() {
        let token = TrackingToken::from_random([3; 10]);
        let demo = ["demo".to_owned()];
        let new = build_as(
            Filer::Stations(&demo),
            &[
                ("service_code", "complaint"),
                ("address_string", "演示站"),
                ("description", "楼上噪音"),
                ("phone", "138 0013 8000"),
                (
                    "attribute[kiosk_case_id]",
                    "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e",
                ),
                ("attribute[kiosk_token]", &token.grouped()),
                ("attribute[kiosk_station_id]", "demo"),
                ("attribute[kiosk_subtype]", "noise"),
                ("attribute[kiosk_risk]", "high"),
                ("attribute[source]", "renovation"),
            ],
        )
        .unwrap();
        let s = &new.submission;
        assert_eq!(s.id, "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e");
        assert_eq!(s.token, token.as_str());
        assert_eq!(s.station_id, "demo");
        assert_eq!(s.subtype_name, "噪音扰民");
        assert_eq!(s.phone.as_deref(), Some("13800138000"));
        assert!(!s.anonymous);
        assert_eq!(s.risk.level, RiskLevel::High);
        assert_eq!(s.answers[0].question, "source");
        assert_eq!(new.source, Source::Open311);
    }

    #[test]
    fn the_same_form_in_another_order_has_the_same_fingerprint() {
        let a = build(&[
            ("service_code", "legal"),
            ("address_string", "x"),
            (
                "attribute[kiosk_case_id]",
                "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e",
            ),
        ])
        .unwrap();
        let b = build(&[
            (
                "attribute[kiosk_case_id]",
                "0190a5c4-7b7e-7cc1-8d3e-3f4a5b6c7d8e",
            ),
            ("address_string", "x"),
            ("service_code", "legal"),
        ])
        .unwrap();
        assert_eq!(a.body_sha256, b.body_sha256);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("address_string", "x")], "service_code"),
            (
                &[("service_code", "weather"), ("address_string", "x")],
                "service_code",
            ),
            (&[("service_code", "legal")], "location"),
            (
                &[
                    ("service_code", "legal"),
                    ("address_string", "x"),
                    ("colour", "red"),
                ],
                "colour",
            ),
            (
                &[
                    ("service_code", "legal"),
                    ("address_string", "x"),
                    ("phone", "call me"),
                ],
                "phone",
            ),
            (
                &[
                    ("service_code", "legal"),
                    ("address_string", "x"),
                    ("attribute[kiosk_case_id]", "42"),
                ],
                "kiosk_case_id",
            ),
            (
                &[
                    ("service_code", "legal"),
                    ("address_string", "x"),
                    ("attribute[kiosk_token]", "ABCD"),
                ],
                "kiosk_token",
            ),
            (
                &[
                    ("service_code", "legal"),
                    ("address_string", "x"),
                    ("attribute[kiosk_mood]", "fine"),
                ],
                "kiosk_mood",
            ),
        ];
        for (pairs, named) in cases {
            let e = build(pairs)
                .err()
                .unwrap_or_else(|| panic!("{pairs:?} was accepted"));
            assert!(e.contains(named), "`{e}` does not name {named}");
        }
    }

    #[test]
    fn every_language_a_kiosk_speaks_is_accepted_by_its_code() {
        for language in Language::ALL {
            let new = build(&[
                ("service_code", "legal"),
                ("address_string", "x"),
                ("attribute[kiosk_language]", language.code()),
            ])
            .unwrap();
            assert_eq!(new.submission.language, language);
        }
        let e = build(&[
            ("service_code", "legal"),
            ("address_string", "x"),
            ("attribute[kiosk_language]", "fr"),
        ])
        .unwrap_err();
        assert!(e.contains("kiosk_language"), "{e}");
    }

    #[test]
    fn a_form_without_kiosk_attributes_gets_a_fresh_id_and_code() {
        let pairs = [
            ("service_code", "assistance"),
            ("lat", "31.2"),
            ("long", "121.5"),
        ];
        let a = build(&pairs).unwrap();
        let b = build(&pairs).unwrap();
        assert_ne!(a.submission.id, b.submission.id);
        assert_ne!(a.submission.token, b.submission.token);
        assert!(TrackingToken::parse(&a.submission.token).is_ok());
        assert_eq!(a.submission.station_id, OPEN311_STATION);
        assert!(a.submission.anonymous);
    }
}
