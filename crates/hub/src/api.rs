//! The native protocol, version 1 (`docs/protocol.md`): kiosks file cases, send heartbeats and
//! their station state (queues, bookings, who is on duty), read any case's progress and their
//! station's roster; departments post status events; operators set a station's roster.
//!
//! Each handler checks, in this order: who is calling (a failure is one fixed `401`, before
//! any byte of the body is read), the body's type and size, its JSON shape, that the caller may
//! act for the station it names, and the rules of [`super::validate`]. Only then does it reach
//! the store.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put, MethodRouter};
use axum::{Json, Router};

use domain::TrackingToken;
use protocol::{
    ApiError, CaseSubmission, Heartbeat, RosterDocument, StationState, StatusUpdate, API_V1,
    IDEMPOTENCY_KEY,
};

use super::auth::bearer;
use super::body::{self, BodyError, Shape, BODY_LIMIT, STATE_BODY_LIMIT};
use super::config::is_valid_id;
use super::digest::sha256_hex;
use super::office;
use super::server::HubState;
use super::store::cases::{self, CodeOwner, Damaged, Intake, NewCase, Source, Update};
use super::store::queues::{self, Recorded};
use super::store::{stations, HubStoreError};
use super::validate::{self, Invalid};

/// A route of one method; any other method gets a JSON `405` that says which one to use.
fn only(method: &'static str, route: MethodRouter<Arc<HubState>>) -> MethodRouter<Arc<HubState>> {
    route.fallback(move || async move {
        let mut response = ApiFailure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("use {method} here"),
            None,
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(method));
        response
    })
}

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new()
        .route(&format!("{API_V1}/cases"), post(submit_case))
        .route(&format!("{API_V1}/cases/{{token}}"), get(case_progress))
        .route(
            &format!("{API_V1}/cases/{{token}}/rating"),
            get(rating_offer).post(rate_case),
        )
        .route(
            &format!("{API_V1}/departments/cases/{{token}}/events"),
            post(post_event),
        )
        .route(&format!("{API_V1}/heartbeat"), post(heartbeat))
        .route(
            &format!("{API_V1}/station-state"),
            only("PUT", put(station_state)),
        )
        .route(
            &format!("{API_V1}/roster"),
            only("GET", get(station_roster)),
        )
        .route(
            &format!("{API_V1}/stations/{{id}}/roster"),
            only("PUT", put(set_roster)),
        )
        .route(
            &format!("{API_V1}/{{*rest}}"),
            any(|| async { ApiFailure::new(StatusCode::NOT_FOUND, "no such endpoint", None) }),
        )
}

/// An error answer of the native API: `{"error", "field"}` with a status.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    body: ApiError,
}

/// The one answer to every authentication failure, whatever its reason.
pub(crate) const UNAUTHORIZED: &str = "missing or invalid credentials";

impl ApiFailure {
    pub fn new(status: StatusCode, error: impl Into<String>, field: Option<&str>) -> ApiFailure {
        ApiFailure {
            status,
            body: ApiError {
                error: error.into(),
                field: field.map(str::to_owned),
            },
        }
    }

    pub(crate) fn unauthorized() -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED, None)
    }

    fn invalid(e: Invalid) -> ApiFailure {
        ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
            Some(&e.field),
        )
    }

    /// Trouble on the hub's side: the kiosk keeps the case and retries. The details go to the
    /// hub's log, which never holds personal data (a store error names tables, not values).
    pub(crate) fn internal(e: HubStoreError) -> ApiFailure {
        tracing::error!(error = %e, "api: the database failed");
        ApiFailure::new(
            store_status(&e),
            "the hub could not use its database; try again later",
            None,
        )
    }

    /// A stored record that does not read back whole: `409` for that record only, naming
    /// what is damaged (the hub's log says where); the kiosk's copy stays the reference.
    fn damaged(d: Damaged) -> ApiFailure {
        ApiFailure::new(
            StatusCode::CONFLICT,
            format!(
                "the hub's stored record is damaged ({}.{} does not read back); the district's staff must mend it",
                d.table, d.column
            ),
            None,
        )
    }

    /// A tracking code another record holds: `409` naming what holds it.
    fn code_taken(field: &str, owner: CodeOwner) -> ApiFailure {
        ApiFailure::new(
            StatusCode::CONFLICT,
            format!(
                "this tracking code is already {}'s (cases, queue tickets and bookings share one set of codes)",
                owner.words()
            ),
            Some(field),
        )
    }

    fn body(e: BodyError) -> ApiFailure {
        match e {
            BodyError::TooLarge { limit } => ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} KiB", limit / 1024),
                None,
            ),
            BodyError::NotJson => ApiFailure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as application/json",
                Some("Content-Type"),
            ),
            BodyError::Refused { problem, field } => {
                ApiFailure::new(StatusCode::BAD_REQUEST, problem, field.as_deref())
            }
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (self.status, Json(self.body)).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The calling station, or the fixed `401`.
fn station(hub: &HubState, headers: &HeaderMap) -> Result<String, ApiFailure> {
    hub.credentials()
        .station(bearer(headers))
        .ok_or_else(ApiFailure::unauthorized)
}

/// Reads and decodes a JSON body of type `T` of at most [`BODY_LIMIT`] bytes.
async fn json_body<T: Shape>(headers: &HeaderMap, body: Body) -> Result<T, ApiFailure> {
    json_body_up_to(headers, body, BODY_LIMIT).await
}

/// Reads and decodes a JSON body of type `T` of at most `limit` bytes.
async fn json_body_up_to<T: Shape>(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<T, ApiFailure> {
    if !body::is_json(headers) {
        return Err(ApiFailure::body(BodyError::NotJson));
    }
    let bytes = body::read_bounded_to(headers, body, limit)
        .await
        .map_err(ApiFailure::body)?;
    let decoded: T = body::decode(&bytes).map_err(ApiFailure::body)?;
    // The rules every value keeps, whatever its field (times within years 0000–9999, no
    // bidirectional controls), on the body as decoded.
    let value = serde_json::to_value(&decoded)
        .map_err(|e| ApiFailure::new(StatusCode::BAD_REQUEST, format!("the body: {e}"), None))?;
    validate::door(&value).map_err(ApiFailure::invalid)?;
    Ok(decoded)
}

/// `POST /api/v1/cases`: `201` and a receipt the first time, `200` and the same receipt for a
/// replay, `409` for a different case under the same id or tracking code.
async fn submit_case(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let station_id = station(&hub, &headers)?;
    let submission: CaseSubmission = json_body(&headers, body).await?;
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "the Idempotency-Key header (the case id) is required",
                Some(IDEMPOTENCY_KEY),
            )
        })?;
    if submission.station_id != station_id {
        return Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "this token files cases for another station",
            Some("station_id"),
        ));
    }
    validate::submission(&submission, &hub.config().catalogue).map_err(ApiFailure::invalid)?;
    if key != submission.id {
        return Err(ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "id must equal the Idempotency-Key header",
            Some("id"),
        ));
    }
    let canonical = serde_json::to_vec(&submission).expect("a submission serialises");
    let new = NewCase {
        body_sha256: sha256_hex(&canonical),
        submission,
        source: Source::Native,
        open311_form: None,
    };
    let now = hub.now();
    let token = new.submission.token.clone();
    let routing = Arc::clone(&hub);
    let (outcome, owner) = hub
        .store()
        .write(move |tx| {
            let outcome = cases::intake(tx, &new, now)?;
            if matches!(outcome, Intake::Created(_)) {
                office::route_at_intake(&routing, tx, &token, now)?;
            }
            let owner = match outcome {
                Intake::TokenTaken => cases::code_owner(tx, &token)?.map(|(o, _)| o),
                _ => None,
            };
            Ok((outcome, owner))
        })
        .await
        .map_err(ApiFailure::internal)?;
    Ok(match outcome {
        Intake::Created(a) => (StatusCode::CREATED, Json(a.receipt)).into_response(),
        Intake::Replayed(a) => (StatusCode::OK, Json(a.receipt)).into_response(),
        Intake::IdTaken => ApiFailure::new(
            StatusCode::CONFLICT,
            "another case was filed under this Idempotency-Key",
            Some("id"),
        )
        .into_response(),
        Intake::TokenTaken => {
            ApiFailure::code_taken("token", owner.unwrap_or(CodeOwner::Case)).into_response()
        }
    })
}

/// The status a store failure is answered with: 503 while the database cannot be reached (the
/// sender tries again later, and a load balancer may try another process), else 500.
pub(crate) fn store_status(e: &HubStoreError) -> StatusCode {
    if e.is_unavailable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

fn case_not_found() -> ApiFailure {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        "no case has this tracking code",
        Some("token"),
    )
}

/// `GET /api/v1/cases/{token}/rating`: whether the case may be rated now (any station: a slip
/// can be scanned anywhere).
async fn rating_offer(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiFailure> {
    station(&hub, &headers)?;
    let token = TrackingToken::parse(&raw).map_err(|_| case_not_found())?;
    Ok(Json(office::rating_offer(&hub, token.as_str()).await?).into_response())
}

/// `POST /api/v1/cases/{token}/rating`: the citizen rates the case at a kiosk.
async fn rate_case(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Body,
) -> Result<Response, ApiFailure> {
    let station_id = station(&hub, &headers)?;
    let submission: protocol::RatingSubmission = json_body(&headers, body).await?;
    let token = TrackingToken::parse(&raw).map_err(|_| case_not_found())?;
    let rating = domain::workflow::Rating::parse(&submission.rating).ok_or_else(|| {
        ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rating is `satisfied`, `basically_satisfied` or `unsatisfied`",
            Some("rating"),
        )
    })?;
    let reason = submission
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| office::text("reason", r, 500))
        .transpose()?;
    tracing::debug!(station = %station_id, "a rating given at a kiosk");
    let case = office::rate(&hub, token.as_str(), rating, reason).await?;
    Ok(Json(office::offer(&case, hub.now())).into_response())
}

/// `GET /api/v1/cases/{token}`: any station may ask (a slip can be scanned anywhere).
async fn case_progress(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiFailure> {
    station(&hub, &headers)?;
    let token = TrackingToken::parse(&raw).map_err(|_| case_not_found())?;
    let progress = hub
        .store()
        .read(move |tx| cases::progress(tx, token.as_str()))
        .await
        .map_err(ApiFailure::internal)?;
    match progress {
        Some(Ok(p)) => Ok(Json(p).into_response()),
        Some(Err(d)) => Err(ApiFailure::damaged(d)),
        None => Err(case_not_found()),
    }
}

/// `POST /api/v1/departments/cases/{token}/events`: `201` with the case's new progress.
async fn post_event(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Body,
) -> Result<Response, ApiFailure> {
    let department = hub
        .credentials()
        .department(bearer(&headers))
        .ok_or_else(ApiFailure::unauthorized)?;
    let update: StatusUpdate = json_body(&headers, body).await?;
    validate::status_update(&update).map_err(ApiFailure::invalid)?;
    let token = TrackingToken::parse(&raw).map_err(|_| case_not_found())?;
    let now = hub.now();
    let outcome = hub
        .store()
        .write(move |tx| cases::apply_update(tx, token.as_str(), &update, &department, now))
        .await
        .map_err(ApiFailure::internal)?;
    match outcome {
        Update::Applied(progress) => Ok((StatusCode::CREATED, Json(progress)).into_response()),
        Update::NotFound => Err(case_not_found()),
        Update::Damaged(d) => Err(ApiFailure::damaged(d)),
        Update::NotAllowed { from, to } => Err(ApiFailure::new(
            StatusCode::CONFLICT,
            format!(
                "a case that is `{}` cannot become `{}`{}",
                from.as_str(),
                to.as_str(),
                if from.is_closed() {
                    " (reopen it first)"
                } else {
                    ""
                }
            ),
            Some("state"),
        )),
    }
}

/// `POST /api/v1/heartbeat`: `204`.
async fn heartbeat(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let station_id = station(&hub, &headers)?;
    let beat: Heartbeat = json_body(&headers, body).await?;
    if beat.station_id != station_id {
        return Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "this token reports for another station",
            Some("station_id"),
        ));
    }
    validate::heartbeat(&beat).map_err(ApiFailure::invalid)?;
    let now = hub.now();
    hub.store()
        .write(move |tx| stations::record_heartbeat(tx, &beat, now))
        .await
        .map_err(ApiFailure::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/station-state`: `204`, whether the state was newer than the one held (and
/// applied) or not (and ignored: the outbox delivered an old one late).
async fn station_state(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let station_id = station(&hub, &headers)?;
    let state: StationState = json_body_up_to(&headers, body, STATE_BODY_LIMIT).await?;
    if state.station_id != station_id {
        return Err(ApiFailure::new(
            StatusCode::FORBIDDEN,
            "this token reports for another station",
            Some("station_id"),
        ));
    }
    let state = validate::station_state(state).map_err(ApiFailure::invalid)?;
    let now = hub.now();
    let recorded: Recorded = hub
        .store()
        .write(move |tx| queues::record_state(tx, &state, now))
        .await
        .map_err(ApiFailure::internal)?;
    match recorded {
        // A state that is not newer changes nothing and is answered alike: the kiosk has
        // nothing to correct.
        Recorded::Applied | Recorded::Stale { .. } => Ok(StatusCode::NO_CONTENT.into_response()),
        Recorded::CodeTaken { field, owner } => Err(ApiFailure::code_taken(&field, owner)),
    }
}

fn no_roster() -> ApiFailure {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        "the district has set no roster for this station",
        None,
    )
}

/// `GET /api/v1/roster`: the calling station's roster, or `404` when the district set none.
async fn station_roster(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let station_id = station(&hub, &headers)?;
    let roster = hub
        .store()
        .read(move |tx| queues::roster(tx, &station_id))
        .await
        .map_err(ApiFailure::internal)?;
    match roster {
        Some(Ok(r)) => Ok(Json(r).into_response()),
        Some(Err(d)) => Err(ApiFailure::damaged(d)),
        None => Err(no_roster()),
    }
}

/// `PUT /api/v1/stations/{id}/roster` (operator): `204`. The roster replaces the station's
/// previous one whole; the hub stamps `updated_at`.
async fn set_roster(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(station_id): Path<String>,
    body: Body,
) -> Result<Response, ApiFailure> {
    if !hub.credentials().operator(bearer(&headers)) {
        return Err(ApiFailure::unauthorized());
    }
    let roster: RosterDocument = json_body(&headers, body).await?;
    if !is_valid_id(&station_id) || !hub.credentials().has_station(&station_id) {
        return Err(ApiFailure::new(
            StatusCode::NOT_FOUND,
            "no station has this id (the hub knows the stations it has a token for)",
            Some("station_id"),
        ));
    }
    validate::roster(&roster).map_err(ApiFailure::invalid)?;
    let now = hub.now();
    hub.store()
        .write(move |tx| queues::set_roster(tx, &station_id, &roster, now))
        .await
        .map_err(ApiFailure::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
