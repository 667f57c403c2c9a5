//! The back office as JSON (DISTRICT.md §11, `docs/district.md`): every action the pages offer,
//! with the same rules, for the district's own 12345 platform. A person logs in
//! (`POST /api/v1/login`) and sends `Authorization: Bearer <token>` with every call.
//!
//! Errors are the native API's `{"error", "field"}`: 401 without a live session, 403 for what
//! this person may not do (logged), 404 for an unknown code, 409 for what cannot be done now
//! (and a form that saw an older version of the case), 422 for a value that cannot be used.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use domain::district::{District, HandlingClass, UnitKind};
use domain::workflow::{OrderAction, Rating, Stage};
use domain::{Language, TrackingToken};
use protocol::API_V1;

use super::{Act, OfficeError, OrderForm};
use crate::api::ApiFailure;
use crate::body::{self, BodyError};
use crate::clock::stamp;
use crate::people::{self, Login, Session};
use crate::server::HubState;
use crate::store::district::{Between, DistrictCase, Filter, Order};

/// The largest body a back-office call sends (a note of 2,000 characters is 8 KiB at most).
const OFFICE_BODY_LIMIT: usize = 16 * 1024;

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new()
        .route(&format!("{API_V1}/login"), post(login))
        .route(&format!("{API_V1}/logout"), post(logout))
        .route(&format!("{API_V1}/district/cases"), get(cases))
        .route(&format!("{API_V1}/district/cases.csv"), get(cases_csv))
        .route(&format!("{API_V1}/district/scorecard"), get(scorecard))
        .route(&format!("{API_V1}/district/risk"), get(risk))
        .route(&format!("{API_V1}/district/cases/{{token}}"), get(case))
        .route(
            &format!("{API_V1}/district/cases/{{token}}/timeline"),
            get(timeline),
        )
        .route(
            &format!("{API_V1}/district/cases/{{token}}/{{action}}"),
            post(case_action),
        )
        .route(
            &format!("{API_V1}/district/users"),
            get(users).post(add_user),
        )
        .route(
            &format!("{API_V1}/district/users/{{id}}/password"),
            post(set_password),
        )
        .route(&format!("{API_V1}/district/orders/{{id}}"), get(order))
        .route(
            &format!("{API_V1}/district/orders/{{id}}/{{action}}"),
            post(order_action),
        )
}

impl From<OfficeError> for ApiFailure {
    fn from(e: OfficeError) -> ApiFailure {
        match e {
            OfficeError::NoCase => {
                ApiFailure::new(StatusCode::NOT_FOUND, e.to_string(), Some("token"))
            }
            OfficeError::NoOrder | OfficeError::NoAccount => {
                ApiFailure::new(StatusCode::NOT_FOUND, e.to_string(), Some("id"))
            }
            OfficeError::Forbidden(_) => {
                ApiFailure::new(StatusCode::FORBIDDEN, e.to_string(), None)
            }
            OfficeError::Conflict(_) | OfficeError::Stale => {
                ApiFailure::new(StatusCode::CONFLICT, e.to_string(), None)
            }
            OfficeError::Invalid { field, problem } => ApiFailure::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                problem.to_string(),
                Some(field),
            ),
            OfficeError::Store(e) => ApiFailure::internal(e),
        }
    }
}

/// The person calling, or `401`.
async fn who(hub: &Arc<HubState>, headers: &HeaderMap) -> Result<Session, ApiFailure> {
    people::api_session(hub, headers)
        .await
        .map_err(ApiFailure::internal)?
        .ok_or_else(ApiFailure::unauthorized)
}

/// A JSON object body of at most [`OFFICE_BODY_LIMIT`], with only the `allowed` fields.
async fn object(
    headers: &HeaderMap,
    body: Body,
    allowed: &[&str],
) -> Result<Map<String, Value>, ApiFailure> {
    let bytes = body::read_bounded_to(headers, body, OFFICE_BODY_LIMIT)
        .await
        .map_err(|e| refused_body(&e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if !body::is_json(headers) {
        return Err(refused_body(&BodyError::NotJson));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not JSON: {e}"),
            None,
        )
    })?;
    let Value::Object(map) = value else {
        return Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "the body is a JSON object",
            None,
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown field `{unknown}` (this call takes: {})",
                allowed.join(", ")
            ),
            Some(unknown),
        ));
    }
    Ok(map)
}

fn refused_body(e: &BodyError) -> ApiFailure {
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
            ApiFailure::new(StatusCode::BAD_REQUEST, problem.clone(), field.as_deref())
        }
    }
}

fn wrong(field: &str, problem: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, problem, Some(field))
}

fn string(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ApiFailure> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong(field, format!("{field} is a string"))),
    }
}

fn required(map: &Map<String, Value>, field: &'static str) -> Result<String, ApiFailure> {
    string(map, field)?.ok_or_else(|| wrong(field, format!("{field} is missing")))
}

/// A person's free text: trimmed, not empty, at most `max` characters.
fn words(map: &Map<String, Value>, field: &'static str, max: usize) -> Result<String, ApiFailure> {
    Ok(super::text(field, &required(map, field)?, max)?)
}

fn time(
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<DateTime<Utc>>, ApiFailure> {
    string(map, field)?
        .map(|t| {
            DateTime::parse_from_rfc3339(t.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    wrong(
                        field,
                        format!("{field} is an RFC 3339 time, e.g. 2026-06-02T14:00:00+08:00"),
                    )
                })
        })
        .transpose()
}

fn integer(map: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, ApiFailure> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong(field, format!("{field} is a whole number"))),
    }
}

fn canonical(raw: &str) -> Result<String, ApiFailure> {
    TrackingToken::parse(raw)
        .map(|t| t.as_str().to_owned())
        .map_err(|_| ApiFailure::from(OfficeError::NoCase))
}

fn time_json(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(stamp(t)))
}

/// A case in a list: no personal data.
pub(crate) fn case_json(c: &DistrictCase, now: DateTime<Utc>) -> Value {
    json!({
        "token": c.token,
        "service": c.service,
        "subtype": c.subtype,
        "state": c.stage.as_str(),
        "unit": c.unit,
        "class": super::class_code(c.class),
        "risk": c.risk,
        "station": c.station_id,
        "accept_by": time_json(c.accept_by),
        "resolve_by": time_json(c.resolve_by),
        "filed_at": stamp(c.filed_at),
        "accepted_at": time_json(c.accepted_at),
        "resolved_at": time_json(c.resolved_at),
        "overdue": overdue(c, now),
        "same_day": super::same_day(c),
        "returns": c.returns,
        "redo_count": c.redo_count,
        "extensions": c.extensions,
        "extension_asked": time_json(c.extension_until),
        "rating": c.rating.map(Rating::as_str),
        "version": c.version,
    })
}

/// Whether an open case is past a deadline now.
pub(crate) fn overdue(c: &DistrictCase, now: DateTime<Utc>) -> bool {
    let open = matches!(
        c.stage,
        Stage::Assigned | Stage::InProgress | Stage::Reopened
    );
    open && (c.accepted_at.is_none() && c.accept_by.is_some_and(|t| t < now)
        || c.resolve_by.is_some_and(|t| t < now))
}

fn order_json(o: &Order) -> Value {
    json!({
        "id": o.id,
        "number": o.number,
        "case": o.token,
        "community": o.community,
        "department": o.department,
        "need": o.need,
        "place": o.place,
        "arrive_by": stamp(o.arrive_by),
        "staff": o.staff,
        "reply_by": stamp(o.reply_by),
        "state": o.state.as_str(),
        "issued_by": o.issued_by,
        "issued_at": stamp(o.issued_at),
        "accepted_at": time_json(o.accepted_at),
        "arrived_at": time_json(o.arrived_at),
        "people": o.people,
        "confirmed_at": time_json(o.confirmed_at),
    })
}

/// `POST /api/v1/login` `{"user", "password"}` → `{"token", "expires_at"}`.
async fn login(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let map = object(&headers, body, &["user", "password"]).await?;
    let (user, password) = (required(&map, "user")?, required(&map, "password")?);
    match people::login(&hub, &user, &password)
        .await
        .map_err(ApiFailure::internal)?
    {
        Login::In { token, session } => Ok(Json(json!({
            "token": token,
            "expires_at": stamp(session.expires_at),
            "user": session.user.id,
            "unit": session.user.unit,
            "role": session.user.role.as_str(),
        }))
        .into_response()),
        Login::Refused => Err(ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "wrong user or password, or the account is locked for a while",
            None,
        )),
    }
}

async fn logout(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    people::logout(&hub, &session)
        .await
        .map_err(ApiFailure::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/district/users` (the dispatcher): every account, never a password.
async fn users(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let users = super::staff::list(&hub, &session).await?;
    let now = hub.now();
    let users: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "unit": u.unit,
                "role": u.role.as_str(),
                "name": u.name,
                "locked_until": time_json(u.locked_until.filter(|t| *t > now)),
            })
        })
        .collect();
    Ok(Json(json!({ "users": users })).into_response())
}

/// `POST /api/v1/district/users` `{"id", "unit", "role", "name", "password"}` → 201 `{"id"}`.
async fn add_user(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let map = object(&headers, body, &["id", "unit", "role", "name", "password"]).await?;
    let new = crate::admin::NewUser {
        id: required(&map, "id")?,
        unit: required(&map, "unit")?,
        role: required(&map, "role")?,
        name: string(&map, "name")?,
        password: required(&map, "password")?,
        replace: false,
    };
    let id = new.id.clone();
    super::staff::add(&hub, &session, new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

/// `POST /api/v1/district/users/{id}/password` `{"password"}`.
async fn set_password(
    State(hub): State<Arc<HubState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let map = object(&headers, body, &["password"]).await?;
    let password = required(&map, "password")?;
    super::staff::set_password(&hub, &session, &id, &password).await?;
    Ok(Json(json!({ "id": id })).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    pub(super) unit: Option<String>,
    /// A stage, or `open` (received, assigned, in progress or reopened).
    pub(super) state: Option<String>,
    pub(super) overdue: Option<bool>,
    pub(super) service: Option<String>,
    pub(super) class: Option<String>,
    pub(super) risk: Option<String>,
    /// Filed at the stations of this street, or of this community.
    pub(super) street: Option<String>,
    pub(super) community: Option<String>,
    /// Filed from this local date (`2026-06-01`) to that one, both included.
    pub(super) filed_from: Option<String>,
    pub(super) filed_to: Option<String>,
    /// Resolved from this local date to that one, both included.
    pub(super) resolved_from: Option<String>,
    pub(super) resolved_to: Option<String>,
    pub(super) limit: Option<i64>,
    pub(super) offset: Option<i64>,
    /// The CSV's headings: `zh` (the default), `zh-Hant` or `en`.
    pub(super) lang: Option<String>,
}

/// A local date of a query (`2026-06-01`).
fn date(field: &str, text: &str) -> Result<chrono::NaiveDate, ApiFailure> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| wrong(field, format!("`{text}` is not a date like 2026-06-01")))
}

/// `[from, to]` local dates as an instant range; either end may be left out (the first day
/// ever, today). `fields` names the two in the query, for the error.
fn dates(
    fields: (&str, &str),
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Between>, ApiFailure> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let today = now.with_timezone(&domain::calendar::china()).date_naive();
    let from = match from {
        Some(t) => date(fields.0, t)?,
        None => chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(today),
    };
    let to = match to {
        Some(t) => date(fields.1, t)?,
        None => today,
    };
    let p = super::leaders::period_of(from, to).map_err(ApiFailure::from)?;
    Ok(Some((p.from, p.to)))
}

impl ListQuery {
    /// The list's filter, `limit` at most `max` (`default` when not given).
    pub(super) fn filter(
        &self,
        district: &District,
        now: DateTime<Utc>,
        default: i64,
        max: i64,
    ) -> Result<Filter, ApiFailure> {
        let stages = match self.state.as_deref() {
            None | Some("") => Vec::new(),
            Some("open") => super::leaders::open_stages(),
            Some(s) => vec![Stage::parse(s).ok_or_else(|| {
                wrong("state", format!("`{s}` is not a state: open, received, assigned, in_progress, resolved, closed, closed_unresolved, reopened"))
            })?],
        };
        let class = match self.class.as_deref() {
            None | Some("") => None,
            Some(c) => Some(HandlingClass::parse(c).ok_or_else(|| {
                wrong(
                    "class",
                    format!("`{c}` is not a class: emergency, urgent, general, complex"),
                )
            })?),
        };
        let risk = match self.risk.as_deref() {
            None | Some("") => None,
            Some(r @ ("high" | "elevated" | "normal")) => Some(r.to_owned()),
            Some(r) => {
                return Err(wrong(
                    "risk",
                    format!("`{r}` is not a risk level: high, elevated, normal"),
                ))
            }
        };
        let place = |field: &str, id: &str, kind: UnitKind| -> Result<Vec<String>, ApiFailure> {
            if district.kind_of(id) != Some(kind) {
                return Err(wrong(field, format!("the district has no {field} `{id}`")));
            }
            Ok(district.stations_under(id))
        };
        let stations = match (self.street.as_deref(), self.community.as_deref()) {
            (_, Some(c)) if !c.is_empty() => Some(place("community", c, UnitKind::Community)?),
            (Some(s), _) if !s.is_empty() => Some(place("street", s, UnitKind::Street)?),
            _ => None,
        };
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Ok(Filter {
            unit: nonempty(&self.unit),
            stages,
            stations,
            overdue_at: self.overdue.unwrap_or(false).then_some(now),
            service: nonempty(&self.service),
            class,
            risk,
            filed: dates(
                ("filed_from", "filed_to"),
                self.filed_from.as_deref().filter(|s| !s.is_empty()),
                self.filed_to.as_deref().filter(|s| !s.is_empty()),
                now,
            )?,
            resolved: dates(
                ("resolved_from", "resolved_to"),
                self.resolved_from.as_deref().filter(|s| !s.is_empty()),
                self.resolved_to.as_deref().filter(|s| !s.is_empty()),
                now,
            )?,
            limit: self.limit.unwrap_or(default).clamp(1, max),
            offset: self.offset.unwrap_or(0).max(0),
            ..Filter::default()
        })
    }

    pub(super) fn language(&self) -> Result<Language, ApiFailure> {
        match self.lang.as_deref() {
            None => Ok(Language::Zh),
            Some(code) => Language::ALL
                .into_iter()
                .find(|l| l.code() == code)
                .ok_or_else(|| {
                    wrong(
                        "lang",
                        format!("`{code}` is not a language: zh, zh-Hant, en"),
                    )
                }),
        }
    }
}

/// A CSV document as the answer (`cases.csv`).
pub(super) fn csv_response(body: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"cases.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}

/// The caller and the list's query, or why not.
async fn listing(
    hub: &Arc<HubState>,
    headers: &HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(Session, ListQuery), ApiFailure> {
    let session = who(hub, headers).await?;
    let Query(q) =
        query.map_err(|e| ApiFailure::new(StatusCode::BAD_REQUEST, e.body_text(), None))?;
    Ok((session, q))
}

/// `GET /api/v1/district/cases.csv`: the list's filters (up to
/// [`super::export::MAX_ROWS`] rows), as CSV.
async fn cases_csv(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiFailure> {
    let (session, q) = listing(&hub, &headers, query).await?;
    let now = hub.now();
    let lang = q.language()?;
    let filter = q.filter(
        &hub.config().district,
        now,
        super::export::MAX_ROWS,
        super::export::MAX_ROWS,
    )?;
    let (list, _) = super::list(&hub, &session, filter).await?;
    Ok(csv_response(super::export::cases_csv(
        &hub, &list, lang, now,
    )))
}

/// `GET /api/v1/district/cases` (`unit`, `state`, `overdue=true`, `limit`, `offset`).
async fn cases(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiFailure> {
    let (session, q) = listing(&hub, &headers, query).await?;
    let now = hub.now();
    let filter = q.filter(&hub.config().district, now, 100, 1000)?;
    let (list, total) = super::list(&hub, &session, filter).await?;
    Ok(Json(json!({
        "cases": list.iter().map(|c| case_json(c, now)).collect::<Vec<_>>(),
        "total": total,
    }))
    .into_response())
}

/// `GET /api/v1/district/cases/{token}`: the case, its orders, and the resident's data for the
/// dispatcher and the unit working it (the view is logged).
async fn case(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let view = super::view(&hub, &session, &canonical(&raw)?, true).await?;
    let mut body = case_json(&view.case, hub.now());
    body["orders"] = Value::Array(view.orders.iter().map(order_json).collect());
    body["personal"] = match &view.personal {
        Some(s) => json!({
            "phone": s.phone,
            "description": s.description,
            "anonymous": s.anonymous,
            "answers": s.answers.iter().map(|a| json!({"question": a.question_label, "answer": a.value_label})).collect::<Vec<_>>(),
        }),
        None => Value::Null,
    };
    Ok(Json(body).into_response())
}

/// `GET /api/v1/district/cases/{token}/timeline` → `{"events": [{"at", "kind", "by", "unit", "note"}]}`.
async fn timeline(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let view = super::view(&hub, &session, &canonical(&raw)?, false).await?;
    Ok(Json(json!({
        "events": view.timeline.iter().map(|e| json!({
            "at": stamp(e.at),
            "kind": e.kind,
            "by": e.by,
            "unit": e.unit,
            "note": e.note,
            "public": e.public,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// Reads one case action's fields from the request's JSON object.
type MakeAct = fn(&Map<String, Value>, &Session) -> Result<Act, ApiFailure>;

/// `POST /api/v1/district/cases/{token}/{action}`.
async fn case_action(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path((raw, action)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let token = canonical(&raw)?;
    let now = hub.now();
    if action == "orders" {
        let map = object(
            &headers,
            body,
            &[
                "department",
                "need",
                "place",
                "arrive_by",
                "staff",
                "reply_by",
                "version",
            ],
        )
        .await?;
        let arrive_by =
            time(&map, "arrive_by")?.ok_or_else(|| wrong("arrive_by", "arrive_by is missing"))?;
        let form = OrderForm {
            department: required(&map, "department")?,
            need: match string(&map, "need")? {
                Some(n) => super::text("need", &n, 500)?,
                None => String::new(),
            },
            place: words(&map, "place", 200)?,
            arrive_by,
            staff: integer(&map, "staff")?.unwrap_or(1),
            reply_by: time(&map, "reply_by")?.unwrap_or(arrive_by),
        };
        let (id, number) =
            super::issue_order(&hub, &session, &token, form, integer(&map, "version")?).await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({"id": id, "number": number})),
        )
            .into_response());
    }
    let (fields, make): (&[&str], MakeAct) =
        match action.as_str() {
            "route" => (&["unit", "version"], |m, _| Ok(Act::Route { unit: required(m, "unit")? })),
            "accept" => (&["version"], |_, _| Ok(Act::Accept)),
            "return" => (&["reason", "version"], |m, _| Ok(Act::Return { reason: words(m, "reason", 500)? })),
            "progress" => (&["note", "version"], |m, _| Ok(Act::Progress { note: words(m, "note", 500)? })),
            "resolve" => (&["result", "version"], |m, _| Ok(Act::Resolve { result: words(m, "result", 2000)? })),
            "extend" => (&["until", "reason", "approve", "version"], |m, s| {
                if s.user.role == domain::workflow::Role::Dispatcher {
                    let approve = match m.get("approve") {
                        Some(Value::Bool(b)) => *b,
                        None => true,
                        Some(_) => return Err(wrong("approve", "approve is true or false")),
                    };
                    Ok(Act::DecideExtension { approve })
                } else {
                    Ok(Act::AskExtension {
                        until: time(m, "until")?.ok_or_else(|| wrong("until", "until is missing"))?,
                        reason: words(m, "reason", 500)?,
                    })
                }
            }),
            "close" => (&["reason", "version"], |m, _| Ok(Act::Close { reason: words(m, "reason", 500)? })),
            "note" => (&["note", "version"], |m, _| Ok(Act::Note { note: words(m, "note", 2000)? })),
            "follow-up" => (&["outcome", "version"], |m, _| Ok(Act::FollowUp { outcome: words(m, "outcome", 500)? })),
            "chase" => (&["note", "version"], |m, _| {
                Ok(Act::Chase { note: string(m, "note")?.map(|n| super::text("note", &n, 500)).transpose()? })
            }),
            "supervise" => (&["note", "version"], |m, _| {
                Ok(Act::Supervise { note: string(m, "note")?.map(|n| super::text("note", &n, 500)).transpose()? })
            }),
            other => {
                return Err(ApiFailure::new(
                    StatusCode::NOT_FOUND,
                    format!("`{other}` is not an action: route, accept, return, progress, resolve, extend, close, note, follow-up, chase, supervise, orders"),
                    None,
                ))
            }
        };
    let map = object(&headers, body, fields).await?;
    let act = make(&map, &session)?;
    let case = super::act(&hub, &session, &token, act, integer(&map, "version")?).await?;
    Ok(Json(case_json(&case, now)).into_response())
}

fn order_id(raw: &str) -> Result<i64, ApiFailure> {
    raw.parse()
        .map_err(|_| ApiFailure::from(OfficeError::NoOrder))
}

/// `GET /api/v1/district/orders/{id}`: for the two units it joins, the dispatcher and leaders.
async fn order(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let order = super::order(&hub, &session, order_id(&raw)?).await?;
    Ok(Json(order_json(&order)).into_response())
}

/// `POST /api/v1/district/orders/{id}/accept`, `/arrive` `{"people", "at"}`, `/confirm`.
async fn order_action(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    Path((raw, action)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let id = order_id(&raw)?;
    let (action, fields): (OrderAction, &[&str]) = match action.as_str() {
        "accept" => (OrderAction::Accept, &[]),
        "arrive" => (OrderAction::Arrive, &["people", "at"]),
        "confirm" => (OrderAction::Confirm, &[]),
        other => {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                format!("`{other}` is not an order action: accept, arrive, confirm"),
                None,
            ))
        }
    };
    let map = object(&headers, body, fields).await?;
    let arrival = if action == OrderAction::Arrive {
        let people = match map.get("people") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| wrong("people", "people is a list of names"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(wrong("people", "people is a list of the names of who came")),
        };
        let at = time(&map, "at")?.unwrap_or_else(|| hub.now());
        Some((people, at))
    } else {
        None
    };
    let order = super::order_step(&hub, &session, id, action, arrival).await?;
    Ok(Json(order_json(&order)).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardQuery {
    /// Local dates, both included; left out: this month to today.
    from: Option<String>,
    to: Option<String>,
    /// One unit's card only.
    unit: Option<String>,
}

/// A rate as JSON: from 0 to 1, `null` over nothing.
fn rate(r: domain::scorecard::Ratio) -> Value {
    r.rate().map_or(Value::Null, |v| json!(v))
}

/// One card (DISTRICT.md §11's names), with the counts behind each rate.
pub(super) fn card_json(district: &District, kind: UnitKind, c: &domain::scorecard::Card) -> Value {
    let counts = |r: domain::scorecard::Ratio| json!({"hits": r.hits, "of": r.of});
    json!({
        "unit": c.unit,
        "kind": kind.as_str(),
        "name": district.unit(&c.unit).map(|u| u.name.zh.clone()),
        "dispatched": c.dispatched,
        "response_rate": rate(c.response),
        "on_time_resolution": rate(c.on_time_resolution),
        "satisfaction": rate(c.satisfaction),
        "return_rate": rate(c.returns),
        "redo_rate": rate(c.redo),
        "order_arrival_on_time": rate(c.order_arrival),
        "same_day_rate": rate(c.same_day),
        "median_hours": c.median_hours,
        "p90_hours": c.p90_hours,
        "score": c.score,
        "rank": c.rank,
        "flagged": c.flagged,
        "counts": {
            "response": counts(c.response),
            "on_time_resolution": counts(c.on_time_resolution),
            "satisfaction": counts(c.satisfaction),
            "returns": counts(c.returns),
            "redo": counts(c.redo),
            "order_arrival_on_time": counts(c.order_arrival),
            "same_day": counts(c.same_day),
        },
    })
}

/// `GET /api/v1/district/scorecard?from=&to=[&unit=]` → `{"from", "to", "units": [...]}`:
/// every department's, community's and street's card over the period (each ranked in its own
/// league), or one unit's.
async fn scorecard(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
    query: Result<Query<ScorecardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let Query(q) =
        query.map_err(|e| ApiFailure::new(StatusCode::BAD_REQUEST, e.body_text(), None))?;
    let now = hub.now();
    let district = &hub.config().district;
    let period = match (q.from.as_deref(), q.to.as_deref()) {
        (None, None) => super::leaders::this_month(now),
        (from, to) => {
            let today = now.with_timezone(&domain::calendar::china()).date_naive();
            let to = to.map(|t| date("to", t)).transpose()?.unwrap_or(today);
            let from = match from {
                Some(f) => date("from", f)?,
                None => chrono::Datelike::with_day(&to, 1).unwrap_or(to),
            };
            super::leaders::period_of(from, to)?
        }
    };
    if let Some(u) = &q.unit {
        if district.unit(u).is_none() {
            return Err(wrong("unit", format!("the district has no unit `{u}`")));
        }
    }
    let leagues = super::leaders::scorecards(&hub, &session, period).await?;
    let units: Vec<Value> = leagues
        .iter()
        .flat_map(|l| l.cards.iter().map(move |c| (l.kind, c)))
        .filter(|(_, c)| q.unit.as_deref().is_none_or(|u| u == c.unit))
        .map(|(kind, c)| card_json(district, kind, c))
        .collect();
    Ok(Json(json!({
        "from": stamp(period.from),
        "to": stamp(period.to),
        "units": units,
    }))
    .into_response())
}

/// `GET /api/v1/district/risk` → `{"communities": [{"id", "score", "band", "open_high",
/// "open_elevated", "overdue", "repeats"}]}`, the most at risk first.
async fn risk(
    State(hub): State<Arc<HubState>>,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    let session = who(&hub, &headers).await?;
    let communities = super::leaders::risk(&hub, &session).await?;
    let district = &hub.config().district;
    Ok(Json(json!({
        "communities": communities.iter().map(|c| json!({
            "id": c.id,
            "name": district.unit(&c.id).map(|u| u.name.zh.clone()),
            "score": c.facts.score(),
            "band": c.facts.band().as_str(),
            "open_high": c.facts.open_high,
            "open_elevated": c.facts.open_elevated,
            "overdue": c.facts.overdue,
            "repeats": c.facts.repeats,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}
