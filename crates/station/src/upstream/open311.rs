//! The kiosk as an Open311 GeoReport v2 client, for a district that already runs an Open311
//! system. A case becomes a service request: `POST requests.json`, form-encoded, with the
//! `api_key`; the service code is the service id; the station is the `address_string`; the
//! kiosk's case id and tracking code travel as `attribute[kiosk_case_id]` and
//! `attribute[kiosk_token]` (Open311 has no idempotency, so the server must use the case id to
//! recognise a replay), with `kiosk_station_id`, `kiosk_subtype`, `kiosk_risk`,
//! `kiosk_language`, `kiosk_filed_at`, `kiosk_consent_version` and `kiosk_anonymous` (the
//! attributes the reference hub reads, docs/hub.md; another server keeps them as extra
//! attributes); every structured answer as `attribute[<question>]`.
//!
//! The answer is a `service_request_id` at once or a `token` to resolve later through
//! `tokens/{token}.json`; ids are strings or numbers in the wild. Progress is read from
//! `requests/{id}.json`: Open311 knows only `open` and `closed`, so a richer state is read
//! from the start of `status_notes` when it names one (`in_progress: …`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::client::{read_json, transport, DeliveryError};
use protocol::{CaseProgress, CaseState, CaseSubmission, TimelineEntry};

/// How a delivered case is referred to: `id:<service_request_id>` or `token:<token>`.
fn reference(id: Option<String>, token: Option<String>) -> Option<String> {
    id.map(|i| format!("id:{i}"))
        .or(token.map(|t| format!("token:{t}")))
}

/// An id or token that may come as a string or a number.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) async fn submit(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    case: &CaseSubmission,
) -> Result<String, DeliveryError> {
    let mut description = format!("{} · {}", case.service_name, case.subtype_name);
    if let Some(d) = &case.description {
        description.push_str("\n\n");
        description.push_str(d);
    }
    let mut form: Vec<(String, String)> = vec![
        ("api_key".into(), api_key.into()),
        ("service_code".into(), case.service.clone()),
        (
            "description".into(),
            description.chars().take(4000).collect(),
        ),
        ("address_string".into(), case.station_id.clone()),
        ("attribute[kiosk_case_id]".into(), case.id.clone()),
        ("attribute[kiosk_token]".into(), case.token.clone()),
        (
            "attribute[kiosk_station_id]".into(),
            case.station_id.clone(),
        ),
        ("attribute[kiosk_subtype]".into(), case.subtype.clone()),
        (
            "attribute[kiosk_risk]".into(),
            case.risk.level.as_str().into(),
        ),
        (
            "attribute[kiosk_language]".into(),
            case.language.code().into(),
        ),
        (
            "attribute[kiosk_filed_at]".into(),
            case.filed_at.to_rfc3339(),
        ),
        (
            "attribute[kiosk_consent_version]".into(),
            case.consent_version.clone(),
        ),
        (
            "attribute[kiosk_anonymous]".into(),
            case.anonymous.to_string(),
        ),
    ];
    if let Some(phone) = &case.phone {
        form.push(("phone".into(), phone.clone()));
    }
    for a in &case.answers {
        form.push((format!("attribute[{}]", a.question), a.value.clone()));
    }
    let response = http
        .post(format!("{base}/requests.json"))
        .form(&form)
        .send()
        .await
        .map_err(transport)?;
    let answer: Vec<Value> = read_json(response).await?;
    let first = answer.first().ok_or_else(|| {
        DeliveryError::Transient("the Open311 server answered an empty list".into())
    })?;
    reference(
        text(first.get("service_request_id")),
        text(first.get("token")),
    )
    .ok_or_else(|| {
        DeliveryError::Transient(
            "the Open311 answer has neither a service_request_id nor a token".into(),
        )
    })
}

#[derive(Deserialize)]
struct ServiceRequest {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    status_notes: Option<String>,
    #[serde(default)]
    service_code: Option<String>,
    #[serde(default)]
    agency_responsible: Option<String>,
    #[serde(default)]
    requested_datetime: Option<String>,
    #[serde(default)]
    updated_datetime: Option<String>,
    #[serde(default)]
    expected_datetime: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

fn time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A richer state named at the start of `status_notes` (`in_progress: …`), else what
/// `open`/`closed` says.
fn state_of(status: Option<&str>, notes: Option<&str>) -> (CaseState, Option<String>) {
    if let Some(notes) = notes {
        for s in CaseState::ALL {
            if let Some(rest) = notes.strip_prefix(s.as_str()) {
                if rest.is_empty() || rest.starts_with(':') {
                    let note = rest.trim_start_matches(':').trim();
                    return (s, (!note.is_empty()).then(|| note.to_owned()));
                }
            }
        }
    }
    let state = if status.is_some_and(|s| s.eq_ignore_ascii_case("closed")) {
        CaseState::Resolved
    } else {
        CaseState::Received
    };
    (
        state,
        notes.map(str::to_owned).filter(|n| !n.trim().is_empty()),
    )
}

pub(super) async fn progress(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    token: &str,
    upstream_ref: Option<&str>,
) -> Result<Option<CaseProgress>, DeliveryError> {
    // The service request id: delivered ones carry it (or a token to resolve); a case filed at
    // another kiosk is looked up by its tracking code, which the server indexes as a token.
    let id = match upstream_ref.and_then(|r| r.split_once(':')) {
        Some(("id", id)) => Some(id.to_owned()),
        Some(("token", t)) => resolve_token(http, base, api_key, t).await?,
        _ => resolve_token(http, base, api_key, token).await?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
    let requests: Option<Vec<ServiceRequest>> =
        get_list(http, &format!("{base}/requests/{id}.json"), api_key).await?;
    let Some(request) = requests.into_iter().flatten().next() else {
        return Ok(None);
    };
    let (state, note) = state_of(request.status.as_deref(), request.status_notes.as_deref());
    let filed_at = time(request.requested_datetime.as_deref()).unwrap_or_else(Utc::now);
    let updated = time(request.updated_datetime.as_deref()).unwrap_or(filed_at);
    let expected_at = time(request.expected_datetime.as_deref());
    Ok(Some(CaseProgress {
        token: token.to_owned(),
        state,
        station_id: request.address.unwrap_or_default(),
        service: request.service_code.unwrap_or_default(),
        subtype: String::new(),
        filed_at,
        department: request.agency_responsible.clone(),
        expected_at,
        timeline: vec![TimelineEntry {
            at: updated,
            state,
            note,
            department: request.agency_responsible,
            expected_at,
        }],
    }))
}

/// A GeoReport `GET` (every answer is a JSON list): `None` for a 404, garbage is transient.
async fn get_list<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
) -> Result<Option<T>, DeliveryError> {
    let response = http
        .get(url)
        .query(&[("api_key", api_key)])
        .send()
        .await
        .map_err(transport)?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    read_json(response).await.map(Some)
}

/// `tokens/{token}.json` → the service request id, once the server has assigned one.
async fn resolve_token(
    http: &reqwest::Client,
    base: &str,
    api_key: &str,
    token: &str,
) -> Result<Option<String>, DeliveryError> {
    let entries: Option<Vec<Value>> =
        get_list(http, &format!("{base}/tokens/{token}.json"), api_key).await?;
    Ok(entries
        .as_deref()
        .and_then(<[Value]>::first)
        .and_then(|e| text(e.get("service_request_id"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_as_strings_or_numbers() {
        assert_eq!(
            text(Some(&serde_json::json!("638344"))),
            Some("638344".into())
        );
        assert_eq!(
            text(Some(&serde_json::json!(638344))),
            Some("638344".into())
        );
        assert_eq!(text(Some(&serde_json::json!(""))), None);
        assert_eq!(text(Some(&serde_json::json!(null))), None);
    }

    #[test]
    fn a_state_named_in_the_status_notes_wins_over_open_and_closed() {
        assert_eq!(
            state_of(Some("open"), Some("in_progress: 已派单到街道城管科")),
            (CaseState::InProgress, Some("已派单到街道城管科".into()))
        );
        assert_eq!(state_of(Some("closed"), None), (CaseState::Resolved, None));
        assert_eq!(
            state_of(Some("open"), Some("Crew on site")),
            (CaseState::Received, Some("Crew on site".into()))
        );
        assert_eq!(
            state_of(Some("closed"), Some("closed_unresolved")),
            (CaseState::ClosedUnresolved, None)
        );
    }
}
