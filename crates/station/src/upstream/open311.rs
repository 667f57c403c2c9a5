//! The kiosk as an Open311 GeoReport v2 client, for a district that already runs an Open311
//! system (`[upstream.open311]` in the configuration).
//!
//! A case becomes a service request: `POST requests.{json,xml}`, form-encoded, with the
//! `api_key`. Before it, the server's service list is read (and kept ten minutes): the kiosk's
//! service id, mapped through `upstream.open311.services`, must be one of the server's codes,
//! and a service with `metadata` has its definition read so that every required attribute is
//! filled (from the resident's answer to the question of the same id, the kiosk's own
//! attributes, or `upstream.open311.attributes`) or the case is refused for staff, naming the
//! attribute. `address_string` is the station's address. The kiosk's case id and tracking code
//! travel as `attribute[kiosk_case_id]` and `attribute[kiosk_token]` (Open311 has no
//! idempotency, so a server must use the case id to recognise a replay), with
//! `kiosk_station_id`, `kiosk_subtype`, `kiosk_risk`, `kiosk_language`, `kiosk_filed_at`,
//! `kiosk_consent_version` and `kiosk_anonymous` (the attributes the reference hub reads,
//! docs/hub.md; another server keeps them as extra attributes); every structured answer as
//! `attribute[<question>]`.
//!
//! The answer is a `service_request_id` at once (`realtime`), a `token` to resolve later
//! through `tokens/{token}` (`batch`), or neither (`blackbox`: delivered, with nothing to
//! follow). Answers are read in JSON or XML, whatever was asked for; the format asked for is
//! the setting's, or the one the server's discovery document lists. Progress is read from
//! `requests/{id}`: `status` (`open`/`closed`) decides, and a richer state named at the start
//! of `status_notes` (`in_progress: …`) refines it only when it agrees.
//!
//! Refusals carry the server's own reason (the `description`s of its error list). The rule of
//! what is tried again and what is kept for staff is [`classify`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::client::{transport, DeliveryError};
use crate::config::{KioskConfig, Open311Format};
use protocol::{CaseProgress, CaseState, CaseSubmission, TimelineEntry};

/// The reference kept for a case a `blackbox` service took: delivered, nothing to poll.
pub(crate) const BLACKBOX: &str = "blackbox";

/// How long the service list and the definitions read from a server are trusted.
const KEPT_FOR: Duration = Duration::from_secs(600);

/// The attributes the kiosk always sends (besides the resident's answers).
pub(crate) use protocol::OPEN311_KIOSK_ATTRIBUTES as KIOSK_ATTRIBUTES;

/// The parameters of GeoReport v2's `POST requests`: a 400 that names one is about the request.
const REQUEST_FIELDS: [&str; 17] = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
    "attribute",
    "attributes",
];

/// The format a request is made in, by the resource's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }
}

/// What the kiosk learnt of the server, kept by the [`super::client::Upstream`] between cases.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    discovered: Option<Format>,
    services: Option<(Instant, Vec<ServiceInfo>)>,
    definitions: BTreeMap<String, (Instant, Vec<AttributeDef>)>,
}

pub(crate) type Shared = Arc<Mutex<Cache>>;

/// One entry of the server's service list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceInfo {
    pub(crate) code: String,
    pub(crate) metadata: bool,
    pub(crate) blackbox: bool,
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeDef {
    pub(crate) code: String,
    variable: bool,
    pub(crate) required: bool,
    datatype: String,
    description: String,
    /// `key`, `name` of a list's values.
    values: Vec<(String, String)>,
}

/// What a server answered a filing with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivered {
    Id(String),
    Token(String),
    Blackbox,
}

impl Delivered {
    /// How the outbox keeps it: `id:<service_request_id>`, `token:<token>` or `blackbox`.
    pub(crate) fn reference(&self) -> String {
        match self {
            Delivered::Id(i) => format!("id:{i}"),
            Delivered::Token(t) => format!("token:{t}"),
            Delivered::Blackbox => BLACKBOX.to_owned(),
        }
    }
}

/// An id or token that may come as a string or a number.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A flag that may come as a boolean or as the words `true`/`false` (XML).
fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The records of an answer: a list, or one record.
fn records(v: &Value) -> Vec<&Map<String, Value>> {
    match v {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading answers: JSON or XML into one shape.

/// The XML elements that hold a list of their children (GeoReport v2's documents).
const XML_LISTS: [&str; 7] = [
    "service_requests",
    "services",
    "attributes",
    "values",
    "errors",
    "endpoints",
    "formats",
];

/// An answer's body as JSON values: XML when the server says so or the body starts with `<`.
pub(crate) fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_owned())?;
    let text = text.trim_start_matches('\u{feff}').trim();
    let xml = content_type.is_some_and(|t| t.contains("xml")) || text.starts_with('<');
    if xml {
        let doc =
            roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
        Ok(xml_value(doc.root_element()))
    } else {
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
    }
}

fn xml_value(node: roxmltree::Node<'_, '_>) -> Value {
    let children: Vec<_> = node.children().filter(|c| c.is_element()).collect();
    if XML_LISTS.contains(&node.tag_name().name()) {
        return Value::Array(children.into_iter().map(xml_value).collect());
    }
    if children.is_empty() {
        let text: String = node.children().filter_map(|c| c.text()).collect::<String>();
        return Value::String(text.trim().to_owned());
    }
    let mut map = Map::new();
    for child in children {
        map.entry(child.tag_name().name().to_owned())
            .or_insert_with(|| xml_value(child));
    }
    Value::Object(map)
}

/// The server's reason in an error answer: the `description`s of its error list, or `None`
/// when the body is no such list (a proxy's page is never shown: it may echo the request).
pub(crate) fn error_reason(value: &Value) -> Option<String> {
    let reasons: Vec<String> = records(value)
        .into_iter()
        .filter_map(|r| text(r.get("description")))
        .map(|d| d.chars().take(300).collect())
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// What a refusal means for the case, the rule written down:
/// - tried again later: 5xx, 408 and 429 (they ask to come back), and a 400 whose reason names
///   none of the fields the kiosk sent: "400 CRM is down" is about the server, not the case;
/// - kept for staff (permanent): 401 and 403 (the key is refused), 404 (no such service or
///   resource), a 400 that names a field the kiosk sent (`service_code`, `attribute[WHEN]`,
///   a GeoReport parameter), and every other 4xx;
/// - anything else (a redirect not followed) is tried again.
pub(crate) fn classify(status: u16, reason: Option<&str>, sent: &[String]) -> bool {
    match status {
        408 | 429 => false,
        400 => reason.is_some_and(|r| names_a_field(r, sent)),
        401..=499 => true,
        _ => false,
    }
}

/// Whether a reason names one of the fields sent or a GeoReport parameter, as a word.
fn names_a_field(reason: &str, sent: &[String]) -> bool {
    let words: Vec<&str> = reason
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let named = |field: &str| words.iter().any(|w| w.eq_ignore_ascii_case(field));
    REQUEST_FIELDS.iter().any(|f| named(f))
        || sent.iter().any(|f| {
            let inner = f
                .strip_prefix("attribute[")
                .map(|r| r.trim_end_matches("[]").trim_end_matches(']'));
            named(f) || inner.is_some_and(named)
        })
}

/// A successful answer's body, or the failure sorted by [`classify`] with the server's reason.
async fn answer(response: reqwest::Response, sent: &[String]) -> Result<Value, DeliveryError> {
    let status = response.status();
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
    let body = response.bytes().await.map_err(transport)?;
    let parsed = parse_body(kind.as_deref(), &body);
    if status.is_success() {
        return parsed.map_err(|e| {
            DeliveryError::Transient(format!("the Open311 server's answer is unreadable: {e}"))
        });
    }
    let reason = parsed.ok().as_ref().and_then(error_reason);
    let shown = reason.clone().unwrap_or_else(|| {
        format!(
            "a {} answer of {} bytes",
            kind.as_deref().unwrap_or("untyped"),
            body.len()
        )
    });
    let message = format!("the Open311 server answered {status}: {shown}");
    if classify(status.as_u16(), reason.as_deref(), sent) {
        Err(DeliveryError::Permanent(message))
    } else {
        Err(DeliveryError::Transient(message))
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

/// A path segment, percent-encoded (a service code or a token may hold anything).
fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The client's view of one server: where, with which key, and what it learnt.
pub(crate) struct Server<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) base: &'a str,
    pub(crate) api_key: &'a str,
    pub(crate) config: &'a KioskConfig,
    pub(crate) cache: &'a Shared,
}

impl Server<'_> {
    fn jurisdiction(&self) -> Option<&str> {
        self.config.upstream.open311.jurisdiction_id.as_deref()
    }

    /// The format to ask in: the setting's, or the discovery document's.
    pub(crate) async fn format(&self) -> Result<Format, DeliveryError> {
        match self.config.upstream.open311.format {
            Open311Format::Json => return Ok(Format::Json),
            Open311Format::Xml => return Ok(Format::Xml),
            Open311Format::Discover => {}
        }
        if let Some(f) = self.cache.lock().map(|c| c.discovered).unwrap_or(None) {
            return Ok(f);
        }
        let found = self.discover().await?;
        if let Ok(mut c) = self.cache.lock() {
            c.discovered = Some(found);
        }
        Ok(found)
    }

    /// The discovery document (one level up from the endpoint or beside it, XML then JSON):
    /// JSON when the GeoReport v2 endpoint lists `application/json`, else XML, GeoReport's
    /// required format (also when the server has no readable discovery document; a 5xx or no
    /// answer is tried again later).
    async fn discover(&self) -> Result<Format, DeliveryError> {
        let parent = self
            .base
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or(self.base);
        for ext in ["xml", "json"] {
            for dir in [parent, self.base] {
                let response = self
                    .http
                    .get(format!("{dir}/discovery.{ext}"))
                    .send()
                    .await
                    .map_err(transport)?;
                if response.status().is_server_error() {
                    return Err(DeliveryError::Transient(format!(
                        "the Open311 server's discovery document answered {}",
                        response.status()
                    )));
                }
                // Missing or refused: the next place, and in the end XML.
                let Ok(doc) = answer(response, &[]).await else {
                    continue;
                };
                let endpoints = doc.get("endpoints").map(records).unwrap_or_default();
                let georeport: Vec<_> = endpoints
                    .into_iter()
                    .filter(|e| {
                        text(e.get("specification")).is_some_and(|s| s.contains("GeoReport_v2"))
                    })
                    .collect();
                let this = georeport
                    .iter()
                    .find(|e| {
                        text(e.get("url")).is_some_and(|u| u.trim_end_matches('/') == self.base)
                    })
                    .or(georeport.first());
                let json = this.is_some_and(|e| {
                    e.get("formats")
                        .and_then(Value::as_array)
                        .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("application/json")))
                });
                return Ok(if json { Format::Json } else { Format::Xml });
            }
        }
        Ok(Format::Xml)
    }

    /// `GET <path>.<format>` with the key (and jurisdiction); `None` for a 404 when `missing_ok`.
    async fn get(&self, path: &str, missing_ok: bool) -> Result<Option<Value>, DeliveryError> {
        let format = self.format().await?;
        let mut query = vec![("api_key", self.api_key)];
        if let Some(j) = self.jurisdiction() {
            query.push(("jurisdiction_id", j));
        }
        let response = self
            .http
            .get(format!("{}/{path}.{}", self.base, format.ext()))
            .query(&query)
            .send()
            .await
            .map_err(transport)?;
        if missing_ok && response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        answer(response, &[]).await.map(Some)
    }

    /// The server's services (kept ten minutes).
    pub(crate) async fn services(&self) -> Result<Vec<ServiceInfo>, DeliveryError> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, list)) = &c.services {
                if at.elapsed() < KEPT_FOR {
                    return Ok(list.clone());
                }
            }
        }
        let list = self.get("services", false).await?.unwrap_or(Value::Null);
        let services: Vec<ServiceInfo> = records(&list)
            .into_iter()
            .filter_map(|s| {
                Some(ServiceInfo {
                    code: text(s.get("service_code"))?,
                    metadata: flag(s.get("metadata")),
                    blackbox: text(s.get("type")).is_some_and(|t| t == "blackbox"),
                })
            })
            .collect();
        if let Ok(mut c) = self.cache.lock() {
            c.services = Some((Instant::now(), services.clone()));
        }
        Ok(services)
    }

    /// A service's attributes (kept ten minutes).
    pub(crate) async fn definition(&self, code: &str) -> Result<Vec<AttributeDef>, DeliveryError> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, attrs)) = c.definitions.get(code) {
                if at.elapsed() < KEPT_FOR {
                    return Ok(attrs.clone());
                }
            }
        }
        let doc = self
            .get(&format!("services/{}", segment(code)), false)
            .await?
            .unwrap_or(Value::Null);
        let doc = match &doc {
            Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
            other => other.clone(),
        };
        let attributes: Vec<AttributeDef> = doc
            .get("attributes")
            .map(records)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                Some(AttributeDef {
                    code: text(a.get("code"))?,
                    variable: a.get("variable").is_none() || flag(a.get("variable")),
                    required: flag(a.get("required")),
                    datatype: text(a.get("datatype")).unwrap_or_default(),
                    description: text(a.get("description")).unwrap_or_default(),
                    values: a
                        .get("values")
                        .map(records)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|v| {
                            let key = text(v.get("key"))?;
                            let name = text(v.get("name")).unwrap_or_else(|| key.clone());
                            Some((key, name))
                        })
                        .collect(),
                })
            })
            .collect();
        if let Ok(mut c) = self.cache.lock() {
            c.definitions
                .insert(code.to_owned(), (Instant::now(), attributes.clone()));
        }
        Ok(attributes)
    }

    /// Files a case.
    pub(crate) async fn submit(&self, case: &CaseSubmission) -> Result<Delivered, DeliveryError> {
        let settings = &self.config.upstream.open311;
        let code = settings
            .services
            .get(&case.service)
            .cloned()
            .unwrap_or_else(|| case.service.clone());
        let services = self.services().await?;
        let Some(service) = services.iter().find(|s| s.code == code) else {
            return Err(DeliveryError::Permanent(format!(
                "the Open311 server has no service `{code}` (this kiosk's `{}`): map it to one \
                 of the server's codes in upstream.open311.services",
                case.service
            )));
        };
        let mut description = format!("{} · {}", case.service_name, case.subtype_name);
        if let Some(d) = &case.description {
            description.push_str("\n\n");
            description.push_str(d);
        }
        let mut form: Vec<(String, String)> = vec![("api_key".into(), self.api_key.into())];
        if let Some(j) = self.jurisdiction() {
            form.push(("jurisdiction_id".into(), j.into()));
        }
        form.extend([
            ("service_code".into(), code.clone()),
            (
                "description".into(),
                description.chars().take(4000).collect(),
            ),
            (
                "address_string".into(),
                self.config.station.address.zh.clone(),
            ),
        ]);
        if let Some(phone) = &case.phone {
            form.push(("phone".into(), phone.clone()));
        }
        let mut attributes = kiosk_attributes(case);
        for a in &case.answers {
            attributes
                .entry(a.question.clone())
                .or_insert_with(|| (a.value.clone(), Some(a.value_label.clone())));
        }
        for (code, value) in &settings.attributes {
            attributes
                .entry(code.clone())
                .or_insert_with(|| (value.clone(), None));
        }
        let definition = if service.metadata {
            self.definition(&code).await?
        } else {
            Vec::new()
        };
        let mut multi = Vec::new();
        for def in definition.iter().filter(|d| d.variable) {
            let Some((value, label)) = attributes.get(&def.code).cloned() else {
                if def.required {
                    return Err(DeliveryError::Permanent(format!(
                        "the Open311 service `{code}` requires the attribute `{}` ({}), which \
                         nothing of this case fills: give it a value in \
                         upstream.open311.attributes",
                        def.code, def.description
                    )));
                }
                continue;
            };
            if def.datatype.ends_with("valuelist") && !def.values.is_empty() {
                let key = def
                    .values
                    .iter()
                    .find(|(k, n)| *k == value || label.as_deref() == Some(n.as_str()))
                    .map(|(k, _)| k.clone());
                match key {
                    Some(k) => {
                        attributes.insert(def.code.clone(), (k, label));
                    }
                    None if def.required => {
                        return Err(DeliveryError::Permanent(format!(
                            "the Open311 service `{code}` requires the attribute `{}` ({}) to \
                             be one of {}; this case has `{value}`",
                            def.code,
                            def.description,
                            def.values
                                .iter()
                                .map(|(k, _)| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    None => {}
                }
            }
            if def.datatype == "multivaluelist" {
                multi.push(def.code.clone());
            }
        }
        for (code, (value, _)) in attributes {
            let name = if multi.contains(&code) {
                format!("attribute[{code}][]")
            } else {
                format!("attribute[{code}]")
            };
            form.push((name, value));
        }
        let sent: Vec<String> = form.iter().map(|(k, _)| k.clone()).collect();
        let format = self.format().await?;
        let response = self
            .http
            .post(format!("{}/requests.{}", self.base, format.ext()))
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let answer = answer(response, &sent).await?;
        let first = records(&answer).into_iter().next();
        if first.is_none() && !service.blackbox {
            return Err(DeliveryError::Transient(
                "the Open311 server answered an empty list".into(),
            ));
        }
        Ok(
            match (
                first.and_then(|f| text(f.get("service_request_id"))),
                first.and_then(|f| text(f.get("token"))),
            ) {
                (Some(id), _) => Delivered::Id(id),
                (None, Some(token)) => Delivered::Token(token),
                // The specification allows it (a `blackbox` service): the server has the case
                // and gives nothing to follow it by.
                (None, None) => Delivered::Blackbox,
            },
        )
    }

    /// `tokens/{token}` → the service request id, once the server has assigned one.
    pub(crate) async fn resolve_token(&self, token: &str) -> Result<Option<String>, DeliveryError> {
        let entries = self
            .get(&format!("tokens/{}", segment(token)), true)
            .await?;
        Ok(entries
            .as_ref()
            .and_then(|e| records(e).into_iter().next().cloned())
            .and_then(|e| text(e.get("service_request_id"))))
    }

    /// A case's progress: by its service request id, or its token resolved first; a case filed
    /// at another kiosk is looked up by its tracking code, which the server may index as a
    /// token.
    pub(crate) async fn progress(
        &self,
        token: &str,
        upstream_ref: Option<&str>,
    ) -> Result<Option<CaseProgress>, DeliveryError> {
        if upstream_ref == Some(BLACKBOX) {
            return Err(DeliveryError::Permanent(
                "the Open311 server keeps no status for this case (a blackbox service): it was \
                 delivered, and there is nothing to follow"
                    .into(),
            ));
        }
        let id = match upstream_ref.and_then(|r| r.split_once(':')) {
            Some(("id", id)) => Some(id.to_owned()),
            Some(("token", t)) => self.resolve_token(t).await?,
            _ => self.resolve_token(token).await?,
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let requests = self
            .get(&format!("requests/{}", segment(&id)), true)
            .await?;
        let Some(request) = requests
            .as_ref()
            .and_then(|r| records(r).into_iter().next().cloned())
        else {
            return Ok(None);
        };
        let (state, note) = state_of(
            text(request.get("status")).as_deref(),
            text(request.get("status_notes")).as_deref(),
        );
        let time = |key: &str| -> Option<DateTime<Utc>> {
            DateTime::parse_from_rfc3339(&text(request.get(key))?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        let filed_at = time("requested_datetime").unwrap_or_else(Utc::now);
        let updated = time("updated_datetime").unwrap_or(filed_at);
        let expected_at = time("expected_datetime");
        let department = text(request.get("agency_responsible"));
        Ok(Some(CaseProgress {
            token: token.to_owned(),
            state,
            station_id: text(request.get("address")).unwrap_or_default(),
            service: text(request.get("service_code")).unwrap_or_default(),
            subtype: String::new(),
            filed_at,
            department: department.clone(),
            expected_at,
            timeline: vec![TimelineEntry {
                at: updated,
                state,
                note,
                department,
                expected_at,
            }],
        }))
    }
}

/// The kiosk's own attributes: value, and no label.
fn kiosk_attributes(case: &CaseSubmission) -> BTreeMap<String, (String, Option<String>)> {
    let values = [
        case.id.clone(),
        case.token.clone(),
        case.station_id.clone(),
        case.subtype.clone(),
        case.risk.level.as_str().to_owned(),
        case.language.code().to_owned(),
        case.filed_at.to_rfc3339(),
        case.consent_version.clone(),
        case.anonymous.to_string(),
    ];
    KIOSK_ATTRIBUTES
        .iter()
        .zip(values)
        .map(|(k, v)| ((*k).to_owned(), (v, None)))
        .collect()
}

/// The state of a request: `status` decides (`closed` is resolved, anything else open); a
/// state named at the start of `status_notes` (`in_progress: …`) refines it only when it
/// agrees (an open state while open, a closed one while closed). Otherwise the notes are kept
/// whole as the note.
fn state_of(status: Option<&str>, notes: Option<&str>) -> (CaseState, Option<String>) {
    let closed = status.is_some_and(|s| s.eq_ignore_ascii_case("closed"));
    let is_closed = |s: CaseState| matches!(s, CaseState::Resolved | CaseState::ClosedUnresolved);
    if let Some(notes) = notes {
        for s in CaseState::ALL {
            if let Some(rest) = notes.strip_prefix(s.as_str()) {
                if (rest.is_empty() || rest.starts_with(':')) && is_closed(s) == closed {
                    let note = rest.trim_start_matches(':').trim();
                    return (s, (!note.is_empty()).then(|| note.to_owned()));
                }
            }
        }
    }
    let state = if closed {
        CaseState::Resolved
    } else {
        CaseState::Received
    };
    (
        state,
        notes.map(str::to_owned).filter(|n| !n.trim().is_empty()),
    )
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
    fn status_decides_and_a_state_in_the_notes_refines_it_only_when_it_agrees() {
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
        // Closed, though the notes still begin with an open state: closed.
        assert_eq!(
            state_of(Some("closed"), Some("in_progress: crew sent")),
            (CaseState::Resolved, Some("in_progress: crew sent".into()))
        );
        assert_eq!(
            state_of(Some("open"), Some("resolved: done")).0,
            CaseState::Received
        );
    }

    #[test]
    fn xml_and_json_answers_read_alike() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
            <service_requests><request><service_request_id>293944</service_request_id>
            <service_notice>The City will inspect within 24 hours</service_notice>
            <account_id/></request></service_requests>"#;
        let json = br#"[{"service_request_id":293944,"service_notice":"The City will inspect within 24 hours","account_id":null}]"#;
        for (kind, body) in [(Some("text/xml"), &xml[..]), (None, &json[..])] {
            let v = parse_body(kind, body).unwrap();
            let first = records(&v)[0];
            assert_eq!(
                text(first.get("service_request_id")).as_deref(),
                Some("293944")
            );
        }
        let errors = parse_body(
            Some("application/xml"),
            b"<errors><error><code>403</code><description>Invalid api_key</description></error></errors>",
        )
        .unwrap();
        assert_eq!(error_reason(&errors).as_deref(), Some("Invalid api_key"));
        let definition = parse_body(
            None,
            b"<service_definition><service_code>X</service_code><attributes><attribute>\
              <code>WHEN</code><required>true</required><datatype>singlevaluelist</datatype>\
              <values><value><key>1</key><name>Day</name></value></values>\
              </attribute></attributes></service_definition>",
        )
        .unwrap();
        let attrs = definition.get("attributes").map(records).unwrap();
        assert_eq!(attrs.len(), 1);
        assert!(flag(attrs[0].get("required")));
        assert_eq!(records(attrs[0].get("values").unwrap()).len(), 1);
    }

    #[test]
    fn a_400_is_permanent_only_when_it_names_a_field_sent() {
        let sent = vec!["service_code".to_owned(), "attribute[WHEN]".to_owned()];
        assert!(!classify(400, Some("CRM is down"), &sent));
        assert!(!classify(400, None, &sent));
        assert!(classify(400, Some("service_code is not valid"), &sent));
        assert!(classify(400, Some("WHEN must be a date"), &sent));
        assert!(classify(403, Some("Invalid api_key"), &sent));
        assert!(classify(404, None, &sent));
        assert!(!classify(503, Some("service_code"), &sent));
        assert!(!classify(429, None, &sent));
    }

    /// A small deterministic generator, so a failing case can be replayed by its seed.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn any_answer_is_read_or_refused_without_a_panic() {
        let samples: [&[u8]; 4] = [
            b"<service_requests><request><token>12345</token></request></service_requests>",
            b"[{\"service_request_id\":1,\"token\":\"x\"}]",
            b"<errors><error><code>400</code><description>a &amp; b</description></error></errors>",
            b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            let mut body = samples[round % samples.len()].to_vec();
            for _ in 0..(xorshift(&mut state) % 6) {
                let at = (xorshift(&mut state) as usize) % (body.len() + 1);
                match xorshift(&mut state) % 3 {
                    0 if at < body.len() => {
                        body.remove(at);
                    }
                    1 => body.insert(at, xorshift(&mut state) as u8),
                    _ => {
                        let marks = b"<>&\"[]{}:;/";
                        body.insert(at, marks[at % marks.len()]);
                    }
                }
            }
            if let Ok(v) = parse_body(None, &body) {
                let _ = error_reason(&v);
                let _ = records(&v)
                    .first()
                    .map(|r| text(r.get("service_request_id")));
            }
        }
        // A document type (entities) is refused, never expanded.
        assert!(parse_body(None, samples[3]).is_err());
    }

    #[test]
    fn the_same_records_read_alike_in_xml_and_json() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..500 {
            let id = xorshift(&mut state) % 1_000_000;
            let words = [
                "open",
                "closed",
                "in_progress: 已派单 <街道> & 科",
                "  ",
                "a\"b",
            ];
            let notes = words[(xorshift(&mut state) % 5) as usize];
            let json =
                serde_json::json!([{"service_request_id": id.to_string(), "status_notes": notes}]);
            let xml = format!(
                "<service_requests><request><service_request_id>{id}</service_request_id>\
                 <status_notes>{}</status_notes></request></service_requests>",
                notes
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            );
            let from_xml = parse_body(Some("text/xml"), xml.as_bytes()).unwrap();
            let from_json = parse_body(None, json.to_string().as_bytes()).unwrap();
            let (a, b) = (records(&from_xml)[0], records(&from_json)[0]);
            assert_eq!(
                text(a.get("service_request_id")),
                text(b.get("service_request_id"))
            );
            assert_eq!(text(a.get("status_notes")), text(b.get("status_notes")));
        }
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("NOISE-01"), "NOISE-01");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
