//! Open311's two formats. XML is the specification's required one and JSON its "mechanical
//! mapping"; each answer here is built once as a list of records and written in either, so the
//! two can never say different things. Ids are written as strings (the specification's
//! examples mix numbers and strings; strings are what every client accepts).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::server::HubState;
use crate::store::open311::RequestRecord;
use crate::xml::XmlWriter;
use domain::{Catalogue, Language, Service};

use super::intake::KIOSK_ATTRIBUTES;

/// The format a request asked for by its suffix (`.xml`, else JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    pub(crate) fn of_path(path: &str) -> Format {
        if path.ends_with(".xml") {
            Format::Xml
        } else {
            Format::Json
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Format, Infallible> {
        Ok(Format::of_path(parts.uri.path()))
    }
}

/// One record of an answer: named fields in order, each a text or a nested list of records.
enum Item {
    Text(String),
    Flag(bool),
    Number(i64),
    /// Degrees: a JSON number, and the same digits in XML.
    Degrees(f64),
    List(&'static str, Vec<Record>),
}

type Record = Vec<(&'static str, Item)>;

fn text(value: impl Into<String>) -> Item {
    Item::Text(value.into())
}

/// Writes `records` as a JSON array, or as `<root><element>…</element>…</root>`.
fn write(root: &str, element: &str, records: &[Record], format: Format) -> String {
    match format {
        Format::Json => Value::Array(records.iter().map(json_record).collect()).to_string(),
        Format::Xml => {
            let mut w = XmlWriter::new();
            w.open(root);
            for r in records {
                xml_record(&mut w, element, r);
            }
            w.close(root);
            w.finish()
        }
    }
}

fn json_record(record: &Record) -> Value {
    let mut map = Map::new();
    for (name, item) in record {
        let value = match item {
            Item::Text(t) => Value::String(t.clone()),
            Item::Flag(b) => Value::Bool(*b),
            Item::Number(n) => Value::from(*n),
            Item::Degrees(x) => Value::from(*x),
            Item::List(_, records) => Value::Array(records.iter().map(json_record).collect()),
        };
        map.insert((*name).to_owned(), value);
    }
    Value::Object(map)
}

fn xml_record(w: &mut XmlWriter, element: &str, record: &Record) {
    w.open(element);
    for (name, item) in record {
        match item {
            Item::Text(t) => {
                w.element(name, t);
            }
            Item::Flag(b) => {
                w.element(name, if *b { "true" } else { "false" });
            }
            Item::Number(n) => {
                w.element(name, &n.to_string());
            }
            Item::Degrees(x) => {
                w.element(name, &Value::from(*x).to_string());
            }
            Item::List(child, records) => {
                w.open(name);
                for r in records {
                    xml_record(w, child, r);
                }
                w.close(name);
            }
        }
    }
    w.close(element);
}

/// A body with its content type.
pub(crate) fn respond(status: StatusCode, format: Format, body: String) -> Response {
    let content_type = match format {
        Format::Json => "application/json; charset=utf-8",
        Format::Xml => "text/xml; charset=utf-8",
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub(crate) fn errors(code: u16, description: &str, format: Format) -> String {
    write(
        "errors",
        "error",
        &[vec![
            ("code", Item::Number(i64::from(code))),
            ("description", text(description)),
        ]],
        format,
    )
}

pub(crate) fn services(catalogue: &Catalogue, format: Format) -> String {
    let records: Vec<Record> = catalogue
        .services
        .iter()
        .map(|s| {
            vec![
                ("service_code", text(&s.id)),
                ("service_name", text(&s.name.zh)),
                (
                    "description",
                    text(format!("{} ({})", s.hint.zh, s.hint.en)),
                ),
                ("metadata", Item::Flag(true)),
                ("type", text("realtime")),
                (
                    "keywords",
                    text(
                        s.subtypes
                            .iter()
                            .map(|t| t.id.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                ),
                ("group", text("citizen appeals")),
            ]
        })
        .collect();
    write("services", "service", &records, format)
}

/// A service definition: the `kiosk_*` attributes (see `intake`), in the order a kiosk sends
/// them. Any other attribute is accepted as a structured answer.
pub(crate) fn service_definition(service: &Service, format: Format) -> String {
    let values = |pairs: Vec<(String, String)>| {
        Item::List(
            "value",
            pairs
                .into_iter()
                .map(|(key, name)| vec![("key", text(key)), ("name", text(name))])
                .collect(),
        )
    };
    let attributes: Vec<Record> = KIOSK_ATTRIBUTES
        .iter()
        .enumerate()
        .map(|(i, &code)| {
            let (datatype, description, datatype_description, list) = match code {
                "kiosk_case_id" => (
                    "string",
                    "The kiosk's case id; the same id files the same case once",
                    "UUID, lower case with dashes",
                    None,
                ),
                "kiosk_token" => (
                    "string",
                    "The tracking code printed on the slip; the hub makes one when absent",
                    "17 Crockford base32 characters",
                    None,
                ),
                "kiosk_station_id" => (
                    "string",
                    "The filing station: one the api_key is tied to (a key tied to none may \
                     not set it)",
                    "station id",
                    None,
                ),
                "kiosk_subtype" => (
                    "singlevaluelist",
                    "The sub-type",
                    "",
                    Some(
                        service
                            .subtypes
                            .iter()
                            .map(|t| (t.id.clone(), t.name.zh.clone()))
                            .collect(),
                    ),
                ),
                "kiosk_risk" => (
                    "singlevaluelist",
                    "The kiosk's risk triage; high raises a red alert (only from a key tied to a \
                     station)",
                    "",
                    Some(
                        ["normal", "elevated", "high"]
                            .map(|v| (v.to_owned(), v.to_owned()))
                            .to_vec(),
                    ),
                ),
                "kiosk_language" => (
                    "singlevaluelist",
                    "The resident's language",
                    "",
                    Some(
                        Language::ALL
                            .map(|l| (l.code().to_owned(), l.own_name().to_owned()))
                            .to_vec(),
                    ),
                ),
                "kiosk_filed_at" => (
                    "datetime",
                    "When the kiosk committed the case",
                    "RFC 3339 with zone",
                    None,
                ),
                "kiosk_consent_version" => (
                    "string",
                    "The privacy notice the resident accepted",
                    "",
                    None,
                ),
                _ => (
                    "singlevaluelist",
                    "Filed without contact details",
                    "",
                    Some(vec![
                        ("true".to_owned(), "true".to_owned()),
                        ("false".to_owned(), "false".to_owned()),
                    ]),
                ),
            };
            let mut record: Record = vec![
                ("variable", Item::Flag(true)),
                ("code", text(code)),
                ("datatype", text(datatype)),
                ("required", Item::Flag(false)),
                ("datatype_description", text(datatype_description)),
                ("order", Item::Number(i as i64 + 1)),
                ("description", text(description)),
            ];
            if let Some(list) = list {
                record.push(("values", values(list)));
            }
            record
        })
        .collect();
    match format {
        // The definition is one object, not a list.
        Format::Json => json_record(&vec![
            ("service_code", text(&service.id)),
            ("attributes", Item::List("attribute", attributes)),
        ])
        .to_string(),
        Format::Xml => {
            let mut w = XmlWriter::new();
            w.open("service_definition")
                .element("service_code", &service.id)
                .open("attributes");
            for r in &attributes {
                xml_record(&mut w, "attribute", r);
            }
            w.close("attributes").close("service_definition");
            w.finish()
        }
    }
}

/// When the discovery document last changed: bump it with the services' shape or the formats.
pub(crate) const DISCOVERY_CHANGESET: &str = "2026-12-05T00:00:00Z";
/// The specification's token in a discovery document.
pub(crate) const GEOREPORT_V2: &str = "http://wiki.open311.org/GeoReport_v2";

/// The service discovery document (one object): where the GeoReport v2 endpoint is, that it
/// is in production, and its two formats.
pub(crate) fn discovery(endpoint_url: &str, format: Format) -> String {
    let record: Record = vec![
        ("changeset", text(DISCOVERY_CHANGESET)),
        (
            "contact",
            text("The district's hub operator, who runs this grievance hub"),
        ),
        (
            "key_service",
            text(
                "api_keys are issued by the district's hub operator, each tied to the \
                 stations it may file as (or to none)",
            ),
        ),
        (
            "endpoints",
            Item::List(
                "endpoint",
                vec![vec![
                    ("specification", text(GEOREPORT_V2)),
                    ("url", text(endpoint_url)),
                    ("changeset", text(DISCOVERY_CHANGESET)),
                    ("type", text("production")),
                    (
                        "formats",
                        Item::List(
                            "format",
                            // A list of bare strings: see `formats` below.
                            Vec::new(),
                        ),
                    ),
                ]],
            ),
        ),
    ];
    let formats = ["text/xml", "application/json"];
    match format {
        Format::Json => {
            let mut value = json_record(&record);
            value["endpoints"][0]["formats"] = Value::from(formats.to_vec());
            value.to_string()
        }
        Format::Xml => {
            let mut w = XmlWriter::new();
            w.open("discovery");
            for (name, item) in &record {
                match item {
                    Item::Text(t) => {
                        w.element(name, t);
                    }
                    _ => {
                        w.open("endpoints").open("endpoint");
                        w.element("specification", GEOREPORT_V2)
                            .element("url", endpoint_url)
                            .element("changeset", DISCOVERY_CHANGESET)
                            .element("type", "production")
                            .open("formats");
                        for f in formats {
                            w.element("format", f);
                        }
                        w.close("formats").close("endpoint").close("endpoints");
                    }
                }
            }
            w.close("discovery");
            w.finish()
        }
    }
}

/// The answer to `POST requests` and `GET tokens/{code}`.
pub(crate) fn created(service_request_id: i64, token: &str, format: Format) -> String {
    write(
        "service_requests",
        "request",
        &[vec![
            ("service_request_id", text(service_request_id.to_string())),
            ("token", text(token)),
        ]],
        format,
    )
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Requests as `GET requests` and `GET requests/{id}` return them: the status, the richer
/// state and the newest note in `status_notes` (`in_progress: note`), no personal data.
pub(crate) fn requests(hub: &HubState, records: &[RequestRecord], format: Format) -> String {
    let catalogue = &hub.config().catalogue;
    let list: Vec<Record> = records
        .iter()
        .map(|r| {
            // A state the hub cannot read is not known to be closed.
            let status = if r.state.is_some_and(|s| s.is_closed()) {
                "closed"
            } else {
                "open"
            };
            let state = r.state.map_or("unreadable", |s| s.as_str());
            let notes = match &r.latest_note {
                Some(note) => format!("{state}: {note}"),
                None => state.to_owned(),
            };
            let service_name = catalogue
                .service(&r.service)
                .map(|s| s.name.zh.clone())
                .unwrap_or_else(|| r.service.clone());
            // An Open311 request has the address its form gave, or none; a native case is at
            // its station.
            let address = if r.open311 {
                r.address.clone()
            } else {
                Some(match hub.station_name(&r.station_id) {
                    Some(name) => format!("{name} ({})", r.station_id),
                    None => r.station_id.clone(),
                })
            };
            let mut record: Record = vec![
                ("service_request_id", text(r.service_request_id.to_string())),
                ("status", text(status)),
                ("status_notes", text(notes)),
                ("service_name", text(service_name)),
                ("service_code", text(&r.service)),
            ];
            if let Some(d) = &r.department {
                record.push(("agency_responsible", text(d)));
            }
            if let Some(at) = r.filed_at {
                record.push(("requested_datetime", text(time(at))));
            }
            if let Some(at) = r.updated_at {
                record.push(("updated_datetime", text(time(at))));
            }
            if let Some(e) = r.expected_at {
                record.push(("expected_datetime", text(time(e))));
            }
            if let Some(address) = address {
                record.push(("address", text(address)));
            }
            let degrees = |value: &Option<String>, limit: f64| {
                value
                    .as_deref()
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|x| x.is_finite() && (-limit..=limit).contains(x))
            };
            if let (Some(lat), Some(long)) = (degrees(&r.lat, 90.0), degrees(&r.long, 180.0)) {
                record.push(("lat", Item::Degrees(lat)));
                record.push(("long", Item::Degrees(long)));
            }
            if let Some(url) = &r.media_url {
                record.push(("media_url", text(url)));
            }
            record
        })
        .collect();
    write("service_requests", "request", &list, format)
}
