//! Open311 GeoReport v2 under `/open311/v2/` (research/reliability.md §1): a district that
//! already runs Open311 tools can read and file cases here, and a kiosk configured with
//! `KIOSK_UPSTREAM_KIND=open311` files through it. `docs/hub.md` documents the mapping.
//!
//! - `GET services.{json,xml}`, `GET services/{code}.{json,xml}`: the five services; every
//!   one has `metadata=true` and the `kiosk_*` attributes.
//! - `POST requests.{json,xml}` (form, `api_key`): files a case. With
//!   `attribute[kiosk_case_id]` it is idempotent: the same case gets the same
//!   `service_request_id` again (a different form under the same id is a `409`).
//! - `GET requests.{json,xml}`, `GET requests/{id}.{json,xml}`, `GET tokens/{code}.{json,xml}`:
//!   read cases. Unlike the letter of the specification these need the `api_key` too unless
//!   `HUB_OPEN311_PUBLIC_READ` is set: they are citizens' grievances, not pothole reports
//!   (the answer never holds personal data, but says what troubles whom, where and when).
//! - `GET /open311/discovery.{json,xml}`: the specification's service discovery document.
//!
//! An `api_key` is tied to the stations it may file as (`HUB_OPEN311_API_KEYS`,
//! `key=st-1+st-2`), or to none: then it files as the hub's own `open311` source and may not
//! name a station or set the risk (see `intake`).
//!
//! Errors are Open311's `[{"code", "description"}]` (or `<errors>`), with `400` for a bad
//! request, `403` for a missing or wrong key, `404` for an unknown resource.

mod intake;
mod render;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use chrono::{DateTime, Duration, Utc};

use domain::TrackingToken;

use super::body::{self, BodyError, BODY_LIMIT};
use super::server::HubState;
use super::store::cases::{self, Intake};
use super::store::open311::{self as requests, RequestFilter};
use super::store::HubStoreError;
use super::words::query_param;

pub(crate) use render::Format;

use intake::Filer;

/// The path prefix.
pub(crate) const OPEN311_V2: &str = "/open311/v2";
/// The service discovery document, `.json` or `.xml`.
pub(crate) const DISCOVERY: &str = "/open311/discovery";
/// The most requests one `GET requests` returns, and the default window (the specification's).
pub(crate) const LIST_LIMIT: u32 = 1000;
pub(crate) const LIST_WINDOW_DAYS: i64 = 90;

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new()
        .route(&format!("{DISCOVERY}.json"), get(discovery))
        .route(&format!("{DISCOVERY}.xml"), get(discovery))
        .route(&format!("{OPEN311_V2}/services.json"), get(services))
        .route(&format!("{OPEN311_V2}/services.xml"), get(services))
        .route(
            &format!("{OPEN311_V2}/services/{{file}}"),
            get(service_definition),
        )
        .route(
            &format!("{OPEN311_V2}/requests.json"),
            get(list).post(create),
        )
        .route(
            &format!("{OPEN311_V2}/requests.xml"),
            get(list).post(create),
        )
        .route(&format!("{OPEN311_V2}/requests/{{file}}"), get(one_request))
        .route(&format!("{OPEN311_V2}/tokens/{{file}}"), get(token_lookup))
        .route(
            &format!("{OPEN311_V2}/{{*rest}}"),
            any(|format: Format| async move { Open311Error::not_found(format) }),
        )
}

/// An Open311 error answer.
#[derive(Debug)]
pub(crate) struct Open311Error {
    status: StatusCode,
    description: String,
    format: Format,
}

impl Open311Error {
    fn new(status: StatusCode, description: impl Into<String>, format: Format) -> Open311Error {
        Open311Error {
            status,
            description: description.into(),
            format,
        }
    }

    fn bad(description: impl Into<String>, format: Format) -> Open311Error {
        Open311Error::new(StatusCode::BAD_REQUEST, description, format)
    }

    fn forbidden(format: Format) -> Open311Error {
        Open311Error::new(StatusCode::FORBIDDEN, "api_key missing or invalid", format)
    }

    fn not_found(format: Format) -> Open311Error {
        Open311Error::new(StatusCode::NOT_FOUND, "not found", format)
    }

    fn internal(e: HubStoreError, format: Format) -> Open311Error {
        tracing::error!(error = %e, "open311: the database failed");
        Open311Error::new(
            crate::api::store_status(&e),
            "the hub could not use its database; try again later",
            format,
        )
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        render::respond(
            self.status,
            self.format,
            render::errors(self.status.as_u16(), &self.description, self.format),
        )
    }
}

/// `complaint.json` → `complaint` (the format, read from the same suffix, is passed along).
fn split_format(file: &str, format: Format) -> Option<(&str, Format)> {
    let (stem, ext) = file.rsplit_once('.')?;
    (matches!(ext, "json" | "xml") && !stem.is_empty()).then_some((stem, format))
}

fn key_ok(hub: &HubState, key: Option<&str>) -> bool {
    hub.credentials().open311_key(key.filter(|k| !k.is_empty()))
}

/// Whether a `GET` of requests or tokens may be answered: with public reading on, always.
fn may_read(hub: &HubState, key: Option<&str>) -> bool {
    hub.config().open311_public_read || key_ok(hub, key)
}

/// Who a (valid) key files as: the stations it is tied to, or the hub's `open311` source.
fn filer<'a>(hub: &'a HubState, key: &str) -> Filer<'a> {
    hub.config()
        .open311_key_stations
        .iter()
        .find(|(secret, _)| secret.matches(key))
        .map_or(Filer::Open311, |(_, stations)| Filer::Stations(stations))
}

/// `GET /open311/discovery.{json,xml}`: where the GeoReport v2 endpoint is and what it speaks.
/// The endpoint's URL is absolute when the request names its host (`https` only when a trusted
/// proxy says so in `X-Forwarded-Proto`), else the path alone.
async fn discovery(
    State(hub): State<Arc<HubState>>,
    format: Format,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let https = hub.config().trust_forwarded_for
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let url = match host {
        Some(host) => format!(
            "{}://{host}{OPEN311_V2}",
            if https { "https" } else { "http" }
        ),
        None => OPEN311_V2.to_owned(),
    };
    render::respond(StatusCode::OK, format, render::discovery(&url, format))
}

async fn services(State(hub): State<Arc<HubState>>, format: Format) -> Response {
    render::respond(
        StatusCode::OK,
        format,
        render::services(&hub.config().catalogue, format),
    )
}

async fn service_definition(
    State(hub): State<Arc<HubState>>,
    format: Format,
    Path(file): Path<String>,
) -> Response {
    let Some((code, format)) = split_format(&file, format) else {
        return Open311Error::not_found(format).into_response();
    };
    match hub.config().catalogue.service(code) {
        Some(service) => render::respond(
            StatusCode::OK,
            format,
            render::service_definition(service, format),
        ),
        None => Open311Error::new(
            StatusCode::NOT_FOUND,
            format!("service_code: `{code}` is not a service here"),
            format,
        )
        .into_response(),
    }
}

/// `POST requests`: `201` with `[{service_request_id, token}]`, `200` and the same for a
/// replayed kiosk case.
async fn create(
    State(hub): State<Arc<HubState>>,
    format: Format,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request_body: Body,
) -> Result<Response, Open311Error> {
    if !body::is_form(&headers) {
        return Err(Open311Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/x-www-form-urlencoded",
            format,
        ));
    }
    let refused = |e: BodyError| match e {
        BodyError::TooLarge { .. } => Open311Error::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request is larger than {} KiB", BODY_LIMIT / 1024),
            format,
        ),
        BodyError::NotJson => Open311Error::bad("send a form", format),
        BodyError::Refused { problem, .. } => Open311Error::bad(problem, format),
    };
    let bytes = body::read_bounded_to(&headers, request_body, BODY_LIMIT)
        .await
        .map_err(refused)?;
    let fields = body::decode_form(&bytes).map_err(refused)?;
    let key = fields
        .iter()
        .find(|(k, _)| k == "api_key")
        .map(|(_, v)| v.clone())
        .or_else(|| {
            query
                .as_deref()
                .and_then(|q| query_param(q, "api_key"))
                .map(str::to_owned)
        });
    if !key_ok(&hub, key.as_deref()) {
        return Err(Open311Error::forbidden(format));
    }
    let filer = filer(&hub, key.as_deref().unwrap_or_default());
    let fields: Vec<(String, String)> =
        fields.into_iter().filter(|(k, _)| k != "api_key").collect();
    let now = hub.now();
    let new = intake::new_case(&fields, filer, &hub.config().catalogue, now)
        .map_err(|refusal| Open311Error::new(refusal.status, refusal.problem, format))?;
    let routing = Arc::clone(&hub);
    let outcome = hub
        .store()
        .write(move |tx| {
            let outcome = cases::intake(tx, &new, now)?;
            if matches!(outcome, Intake::Created(_)) {
                crate::office::route_at_intake(&routing, tx, &new.submission.token, now)?;
            }
            Ok(outcome)
        })
        .await
        .map_err(|e| Open311Error::internal(e, format))?;
    let (status, accepted) = match outcome {
        Intake::Created(a) => (StatusCode::CREATED, a),
        Intake::Replayed(a) => (StatusCode::OK, a),
        Intake::IdTaken => {
            return Err(Open311Error::new(
                StatusCode::CONFLICT,
                "attribute[kiosk_case_id]: another request was filed under this case id",
                format,
            ))
        }
        Intake::TokenTaken => {
            return Err(Open311Error::new(
                StatusCode::CONFLICT,
                "attribute[kiosk_token]: another case already has this tracking code",
                format,
            ))
        }
    };
    Ok(render::respond(
        status,
        format,
        render::created(accepted.service_request_id, &accepted.receipt.token, format),
    ))
}

/// `GET requests`: newest first, at most 1000, by default the last 90 days.
async fn list(
    State(hub): State<Arc<HubState>>,
    format: Format,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Open311Error> {
    let Query(params) = query.map_err(|r| Open311Error::bad(r.to_string(), format))?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    };
    if !may_read(&hub, param("api_key")) {
        return Err(Open311Error::forbidden(format));
    }
    let mut filter = RequestFilter {
        limit: LIST_LIMIT,
        ..RequestFilter::default()
    };
    if let Some(ids) = param("service_request_id") {
        let parsed: Result<Vec<i64>, _> = ids.split(',').map(|i| i.trim().parse::<i64>()).collect();
        let ids = parsed.map_err(|_| {
            Open311Error::bad(
                "service_request_id: a comma-separated list of numbers",
                format,
            )
        })?;
        if ids.len() > LIST_LIMIT as usize {
            return Err(Open311Error::bad(
                format!("service_request_id: at most {LIST_LIMIT} ids"),
                format,
            ));
        }
        filter.ids = Some(ids);
    } else {
        if let Some(codes) = param("service_code") {
            filter.service_codes = Some(
                codes
                    .split(',')
                    .map(|c| c.trim().to_owned())
                    .take(LIST_LIMIT as usize)
                    .collect(),
            );
        }
        filter.closed = match param("status") {
            None => None,
            Some(s) => {
                let open = s.split(',').any(|x| x.trim() == "open");
                let closed = s.split(',').any(|x| x.trim() == "closed");
                match (open, closed) {
                    (true, false) => Some(false),
                    (false, true) => Some(true),
                    (true, true) => None,
                    (false, false) => {
                        return Err(Open311Error::bad("status: open or closed", format))
                    }
                }
            }
        };
        let date = |name: &'static str| -> Result<Option<DateTime<Utc>>, Open311Error> {
            param(name)
                .map(|d| {
                    DateTime::parse_from_rfc3339(d)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            Open311Error::bad(
                                format!("{name}: a date and time with its zone (ISO 8601)"),
                                format,
                            )
                        })
                })
                .transpose()
        };
        filter.start = date("start_date")?;
        filter.end = date("end_date")?;
        if filter.start.is_none() && filter.end.is_none() {
            filter.start = Some(hub.now() - Duration::days(LIST_WINDOW_DAYS));
        }
    }
    let records = hub
        .store()
        .read(move |tx| requests::list(tx, &filter))
        .await
        .map_err(|e| Open311Error::internal(e, format))?;
    Ok(render::respond(
        StatusCode::OK,
        format,
        render::requests(&hub, &records, format),
    ))
}

/// `GET requests/{id}`: a list of one, as the specification has it.
async fn one_request(
    State(hub): State<Arc<HubState>>,
    format: Format,
    Path(file): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Open311Error> {
    let (id, format) = split_format(&file, format).ok_or(Open311Error::not_found(format))?;
    if !may_read(&hub, api_key(&query)) {
        return Err(Open311Error::forbidden(format));
    }
    let id: i64 = id.parse().map_err(|_| Open311Error::not_found(format))?;
    let record = hub
        .store()
        .read(move |tx| requests::by_id(tx, id))
        .await
        .map_err(|e| Open311Error::internal(e, format))?
        .ok_or(Open311Error::not_found(format))?;
    Ok(render::respond(
        StatusCode::OK,
        format,
        render::requests(&hub, &[record], format),
    ))
}

/// `GET tokens/{code}`: the request number of the case with this tracking code.
async fn token_lookup(
    State(hub): State<Arc<HubState>>,
    format: Format,
    Path(file): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Open311Error> {
    let (code, format) = split_format(&file, format).ok_or(Open311Error::not_found(format))?;
    if !may_read(&hub, api_key(&query)) {
        return Err(Open311Error::forbidden(format));
    }
    let token = TrackingToken::parse(code).map_err(|_| Open311Error::not_found(format))?;
    let canonical = token.as_str().to_owned();
    let id = hub
        .store()
        .read(move |tx| requests::id_for_token(tx, &canonical))
        .await
        .map_err(|e| Open311Error::internal(e, format))?
        .ok_or(Open311Error::not_found(format))?;
    Ok(render::respond(
        StatusCode::OK,
        format,
        render::created(id, token.as_str(), format),
    ))
}

fn api_key(query: &Result<Query<Vec<(String, String)>>, QueryRejection>) -> Option<&str> {
    query.as_ref().ok().and_then(|Query(params)| {
        params
            .iter()
            .find(|(k, _)| k == "api_key")
            .map(|(_, v)| v.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suffix_picks_the_format() {
        assert_eq!(Format::of_path("/open311/v2/services.xml"), Format::Xml);
        assert_eq!(
            Format::of_path("/open311/v2/requests/12.json"),
            Format::Json
        );
        assert_eq!(Format::of_path("/open311/v2/requests/12"), Format::Json);
        assert_eq!(
            split_format("complaint.json", Format::Json),
            Some(("complaint", Format::Json))
        );
        assert_eq!(split_format("12.html", Format::Json), None);
        assert_eq!(split_format(".json", Format::Json), None);
        assert_eq!(split_format("12", Format::Json), None);
    }
}
