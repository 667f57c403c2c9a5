//! Open311 GeoReport v2 as a third-party client sees the hub (issue 17): a client written in
//! this file from the specification's text alone, not from the hub's code.
//!
//! The client starts where any client starts, at the service discovery document
//! (`/open311/discovery.{xml,json}`), takes the GeoReport v2 endpoint from it, and then walks the
//! six methods in both formats: the service list, each service's definition, POST a request
//! (form-encoded, `charset=utf-8`, with `api_key`), GET requests, GET a request, and tokens.
//! Every field the specification lists is checked for presence, value set and type; the XML is
//! read with a small parser of its own and mapped to the JSON shape by the Spark convention the
//! specification names, so that both formats are held to the same rules and must agree.
//!
//! Where the hub departs from the letter of the specification on purpose, the test asserts the
//! departure and says why (see `documented_choices_*`).

use std::collections::{BTreeMap, BTreeSet};

use crate::hub_common;
use chrono::{DateTime, FixedOffset, Utc};
use hub_common::*;
use serde_json::{Map, Value};

/// The specification's token in a discovery document.
const GEOREPORT_V2: &str = "http://wiki.open311.org/GeoReport_v2";
const DISCOVERY: &str = "/open311/discovery";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Xml,
    Json,
}

const FORMATS: [Format; 2] = [Format::Xml, Format::Json];

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Json => "json",
        }
    }

    /// The MIME type a discovery document lists for the format.
    fn mime(self) -> &'static str {
        match self {
            Format::Xml => "text/xml",
            Format::Json => "application/json",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// XML, read by hand: elements, text, the five entities and character references, comments,
// CDATA. Attributes are skipped (the specification's XML has none).

#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

fn parse_xml(doc: &str) -> Element {
    let doc = doc.strip_prefix('\u{feff}').unwrap_or(doc);
    // "the root element must be preceded with the XML declaration including the
    // encoding="UTF-8" attribute"
    assert!(doc.starts_with("<?xml"), "no XML declaration: {doc}");
    let end = doc.find("?>").expect("the declaration ends") + 2;
    let declaration = doc[..end].to_ascii_lowercase().replace('\'', "\"");
    assert!(
        declaration.contains("encoding=\"utf-8\""),
        "the declaration does not say UTF-8: {declaration}"
    );
    let mut parser = XmlParser { rest: &doc[end..] };
    parser.skip_misc();
    let root = parser.element();
    parser.skip_misc();
    assert!(
        parser.rest.is_empty(),
        "content after the root: {}",
        parser.rest
    );
    root
}

struct XmlParser<'a> {
    rest: &'a str,
}

impl XmlParser<'_> {
    fn skip_misc(&mut self) {
        loop {
            self.rest = self.rest.trim_start();
            if let Some(after) = self.rest.strip_prefix("<!--") {
                let end = after.find("-->").expect("a comment ends");
                self.rest = &after[end + 3..];
            } else {
                return;
            }
        }
    }

    fn element(&mut self) -> Element {
        let after = self
            .rest
            .strip_prefix('<')
            .expect("an element starts with <");
        let end = after.find('>').expect("a start tag ends");
        let tag = &after[..end];
        let self_closing = tag.ends_with('/');
        let name = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(!name.is_empty(), "an element without a name");
        self.rest = &after[end + 1..];
        let mut element = Element {
            name,
            children: Vec::new(),
            text: String::new(),
        };
        if self_closing {
            return element;
        }
        loop {
            if let Some(after) = self.rest.strip_prefix("</") {
                let end = after.find('>').expect("an end tag ends");
                assert_eq!(after[..end].trim(), element.name, "tags out of order");
                self.rest = &after[end + 1..];
                break;
            } else if let Some(after) = self.rest.strip_prefix("<!--") {
                let end = after.find("-->").expect("a comment ends");
                self.rest = &after[end + 3..];
            } else if let Some(after) = self.rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").expect("CDATA ends");
                element.text.push_str(&after[..end]);
                self.rest = &after[end + 3..];
            } else if self.rest.starts_with('<') {
                let child = self.element();
                element.children.push(child);
            } else {
                let end = self
                    .rest
                    .find('<')
                    .unwrap_or_else(|| panic!("<{}> is never closed", element.name));
                element.text.push_str(&decode_entities(&self.rest[..end]));
                self.rest = &self.rest[end..];
            }
        }
        if !element.children.is_empty() {
            assert!(
                element.text.trim().is_empty(),
                "<{}> mixes text and elements",
                element.name
            );
        }
        element
    }
}

fn decode_entities(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let semi = rest[i..].find(';').expect("an entity ends with ;") + i;
        let name = &rest[i + 1..semi];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).expect("a hexadecimal reference")
                } else {
                    name.strip_prefix('#')
                        .unwrap_or_else(|| panic!("unknown entity &{name};"))
                        .parse()
                        .expect("a decimal reference")
                };
                char::from_u32(n).expect("a character")
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// The Spark convention: an element that holds a list (`services`, `attributes`, …) becomes an
/// array of its items, an element with children an object, and a leaf its text.
const LISTS: [(&str, &str); 7] = [
    ("services", "service"),
    ("attributes", "attribute"),
    ("values", "value"),
    ("service_requests", "request"),
    ("errors", "error"),
    ("endpoints", "endpoint"),
    ("formats", "format"),
];

fn spark(element: &Element) -> Value {
    if let Some((_, item)) = LISTS.iter().find(|(list, _)| *list == element.name) {
        return Value::Array(
            element
                .children
                .iter()
                .map(|child| {
                    assert_eq!(child.name, *item, "<{}> holds <{item}> only", element.name);
                    spark(child)
                })
                .collect(),
        );
    }
    if element.children.is_empty() {
        return Value::String(element.text.clone());
    }
    let mut object = Map::new();
    for child in &element.children {
        let previous = object.insert(child.name.clone(), spark(child));
        assert!(
            previous.is_none(),
            "<{}> twice in <{}>",
            child.name,
            element.name
        );
    }
    Value::Object(object)
}

// ---------------------------------------------------------------------------------------------
// Reading fields as the specification types them. In XML every leaf is text; in JSON the types
// are the JSON ones (booleans, numbers), as the specification's examples show them.

/// A field's text, or `None` when it is absent, `null` or empty (an empty XML element is how
/// the specification's examples write a field with no value).
fn text(record: &Value, field: &str) -> Option<String> {
    match record.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => panic!("`{field}` is not text: {other}"),
    }
}

fn required_text(record: &Value, field: &str) -> String {
    text(record, field).unwrap_or_else(|| panic!("`{field}` is missing in {record}"))
}

/// `true`/`false`: a JSON boolean, or the words in XML.
fn boolean(format: Format, record: &Value, field: &str) -> bool {
    match (format, record.get(field)) {
        (Format::Json, Some(Value::Bool(b))) => *b,
        (Format::Xml, Some(Value::String(s))) if s == "true" => true,
        (Format::Xml, Some(Value::String(s))) if s == "false" => false,
        (_, other) => panic!("`{field}` is not true or false in {format:?}: {other:?}"),
    }
}

/// A number: a JSON number, or text that reads as one in XML. `None` when absent or empty.
fn number(format: Format, record: &Value, field: &str) -> Option<f64> {
    match (format, record.get(field)) {
        (_, None | Some(Value::Null)) => None,
        (Format::Json, Some(Value::Number(n))) => n.as_f64(),
        (Format::Xml, Some(Value::String(s))) if s.is_empty() => None,
        (Format::Xml, Some(Value::String(s))) => Some(
            s.trim()
                .parse()
                .unwrap_or_else(|_| panic!("`{field}` is not a number: {s}")),
        ),
        (_, Some(other)) => panic!("`{field}` is not a number in {format:?}: {other}"),
    }
}

/// A list field: an array (both formats map to one).
fn list<'a>(record: &'a Value, field: &str) -> &'a [Value] {
    match record.get(field) {
        Some(Value::Array(items)) => items,
        // An empty list element in XML (`<attributes/>`) is an empty list too.
        Some(Value::String(s)) if s.is_empty() => &[],
        other => panic!("`{field}` is not a list: {other:?}"),
    }
}

/// "a common subset of ISO 8601 as per the w3 note. Timezone information (either Z meaning UTC,
/// or an HH:MM offset from UTC) must be included": `YYYY-MM-DDThh:mm:ss[.s]TZD`.
fn w3_datetime(value: &str) -> DateTime<FixedOffset> {
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16);
    assert!(shape, "`{value}` is not a w3 date and time");
    let zone = if value.ends_with('Z') {
        "Z"
    } else {
        let z = &value[value.len() - 6..];
        let zb = z.as_bytes();
        assert!(
            (zb[0] == b'+' || zb[0] == b'-')
                && zb[1..3].iter().all(u8::is_ascii_digit)
                && zb[3] == b':'
                && zb[4..6].iter().all(u8::is_ascii_digit),
            "`{value}` has no time zone (Z or ±HH:MM)"
        );
        z
    };
    let _ = zone;
    DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|e| panic!("`{value}` is not a valid date and time: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The client.

struct Answer {
    status: u16,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    /// The GeoReport v2 endpoint, from the discovery document; no trailing slash.
    endpoint: String,
    api_key: Option<String>,
}

/// The percent-encoding of `application/x-www-form-urlencoded` (a space as `+`).
fn form_encode(pairs: &[(String, String)]) -> String {
    let encode = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads an answer in `format`: the content type the specification shows, UTF-8, and the body
/// parsed (XML mapped to the JSON shape).
async fn read_answer(format: Format, response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_ascii_lowercase().replace(' ', ""))
        .unwrap_or_default();
    let expected = format!("{};charset=utf-8", format.mime());
    assert_eq!(
        content_type, expected,
        "the content type of a {status} answer"
    );
    let bytes = response.bytes().await.expect("a body");
    let raw = String::from_utf8(bytes.to_vec()).expect("UTF-8 is required everywhere");
    let body = match format {
        Format::Json => {
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
        }
        Format::Xml => spark(&parse_xml(&raw)),
    };
    Answer { status, body }
}

impl Client {
    /// Discovers the endpoint from `base` + `/open311/discovery.json`, as a client given only
    /// the jurisdiction's discovery URL does.
    async fn discover(hub: &TestHub, api_key: Option<&str>) -> Client {
        let discovery_url = hub.url(&format!("{DISCOVERY}.json"));
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let answer =
            read_answer(Format::Json, http.get(&discovery_url).send().await.unwrap()).await;
        assert_eq!(answer.status, 200);
        let endpoint = georeport_endpoint(Format::Json, &answer.body);
        let url = reqwest::Url::parse(&discovery_url)
            .unwrap()
            .join(&required_text(endpoint, "url"))
            .expect("the endpoint's url resolves");
        Client {
            http,
            endpoint: url.as_str().trim_end_matches('/').to_owned(),
            api_key: api_key.map(str::to_owned),
        }
    }

    async fn get(&self, resource: &str, format: Format, query: &[(&str, &str)]) -> Answer {
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(key) = &self.api_key {
            pairs.push(("api_key".into(), key.clone()));
        }
        let mut url = format!("{}/{resource}.{}", self.endpoint, format.ext());
        if !pairs.is_empty() {
            url = format!("{url}?{}", form_encode(&pairs));
        }
        read_answer(format, self.http.get(url).send().await.unwrap()).await
    }

    /// POST Service Request: the form with `api_key` (when the client has one) and
    /// `Content-Type: application/x-www-form-urlencoded; charset=utf-8`.
    async fn post(&self, format: Format, form: &[(String, String)]) -> Answer {
        let mut pairs = form.to_vec();
        if let Some(key) = &self.api_key {
            pairs.insert(0, ("api_key".into(), key.clone()));
        }
        let response = self
            .http
            .post(format!("{}/requests.{}", self.endpoint, format.ext()))
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(form_encode(&pairs))
            .send()
            .await
            .unwrap();
        read_answer(format, response).await
    }

    fn without_key(&self) -> Client {
        Client {
            http: self.http.clone(),
            endpoint: self.endpoint.clone(),
            api_key: None,
        }
    }

    fn with_key(&self, key: &str) -> Client {
        Client {
            api_key: Some(key.to_owned()),
            ..self.without_key()
        }
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What the specification requires of each answer.

/// "Errors": an array of `code` and `description`, with the HTTP status the specification
/// names for the case.
fn assert_errors(answer: &Answer, status: u16, format: Format, context: &str) -> Vec<String> {
    assert_eq!(answer.status, status, "{context}: {}", answer.body);
    let errors = answer
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{context}: errors are an array: {}", answer.body));
    assert!(!errors.is_empty(), "{context}: no error in {}", answer.body);
    errors
        .iter()
        .map(|error| {
            let code = number(format, error, "code")
                .unwrap_or_else(|| panic!("{context}: an error without a code: {error}"));
            assert!(code.fract() == 0.0, "{context}: code {code}");
            required_text(error, "description")
        })
        .collect()
}

/// The discovery document's GeoReport v2 endpoint, after checking every field (all required).
fn georeport_endpoint(format: Format, discovery: &Value) -> &Value {
    for field in ["changeset", "contact", "key_service"] {
        required_text(discovery, field);
    }
    let endpoints = list(discovery, "endpoints");
    assert!(!endpoints.is_empty(), "no endpoint in {discovery}");
    for endpoint in endpoints {
        for field in ["specification", "url", "changeset"] {
            required_text(endpoint, field);
        }
        let kind = required_text(endpoint, "type");
        assert!(
            ["production", "test"].contains(&kind.as_str()),
            "type {kind}"
        );
        let formats = list(endpoint, "formats");
        assert!(!formats.is_empty(), "an endpoint without formats");
        for f in formats {
            assert!(f.is_string(), "a format is a MIME type: {f}");
        }
    }
    let endpoint = endpoints
        .iter()
        .find(|e| text(e, "specification").as_deref() == Some(GEOREPORT_V2))
        .unwrap_or_else(|| panic!("no GeoReport v2 endpoint in {discovery} ({format:?})"));
    let formats: Vec<&str> = list(endpoint, "formats")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    // XML is the required format; this client reads JSON too, so the hub must offer both.
    assert!(formats.contains(&"text/xml"), "{formats:?}");
    assert!(formats.contains(&"application/json"), "{formats:?}");
    endpoint
}

/// GET Service List: every service's fields.
fn check_service(format: Format, service: &Value) {
    required_text(service, "service_code");
    required_text(service, "service_name");
    // `description`, `keywords` and `group` are listed without "may not be returned": present,
    // text (possibly empty).
    for field in ["description", "keywords", "group"] {
        assert!(
            matches!(service.get(field), Some(Value::String(_) | Value::Null)),
            "`{field}` of a service is text: {service}"
        );
    }
    boolean(format, service, "metadata");
    let kind = required_text(service, "type");
    assert!(
        ["realtime", "batch", "blackbox"].contains(&kind.as_str()),
        "type {kind}"
    );
}

const DATATYPES: [&str; 6] = [
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
];

/// GET Service Definition: the code and every attribute's fields.
fn check_definition(format: Format, code: &str, definition: &Value) {
    assert!(
        definition.is_object(),
        "a definition is one object: {definition}"
    );
    assert_eq!(required_text(definition, "service_code"), code);
    let mut orders = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for attribute in list(definition, "attributes") {
        boolean(format, attribute, "variable");
        boolean(format, attribute, "required");
        let attribute_code = required_text(attribute, "code");
        assert!(
            codes.insert(attribute_code.clone()),
            "{attribute_code} twice"
        );
        let datatype = required_text(attribute, "datatype");
        assert!(
            DATATYPES.contains(&datatype.as_str()),
            "datatype {datatype}"
        );
        assert!(
            matches!(
                attribute.get("datatype_description"),
                Some(Value::String(_) | Value::Null)
            ),
            "datatype_description of {attribute_code}"
        );
        let order = number(format, attribute, "order")
            .unwrap_or_else(|| panic!("{attribute_code} has no order"));
        assert!(order >= 1.0 && order.fract() == 0.0, "order {order}");
        assert!(
            orders.insert(order as u64),
            "order {order} used twice in {code}"
        );
        required_text(attribute, "description");
        if datatype.ends_with("valuelist") {
            let values = list(attribute, "values");
            assert!(
                !values.is_empty(),
                "{attribute_code} is a list without values"
            );
            let mut keys = BTreeSet::new();
            for value in values {
                assert!(keys.insert(required_text(value, "key")), "a key twice");
                required_text(value, "name");
            }
        }
    }
}

/// What a request's fields must be, from GET Service Request(s). Returns the id.
fn check_request(format: Format, request: &Value) -> String {
    let id = required_text(request, "service_request_id");
    let status = required_text(request, "status");
    assert!(
        ["open", "closed"].contains(&status.as_str()),
        "status {status}"
    );
    required_text(request, "service_name");
    required_text(request, "service_code");
    w3_datetime(&required_text(request, "requested_datetime"));
    w3_datetime(&required_text(request, "updated_datetime"));
    if let Some(expected) = text(request, "expected_datetime") {
        w3_datetime(&expected);
    }
    for field in [
        "status_notes",
        "description",
        "agency_responsible",
        "service_notice",
        "address",
        "address_id",
        "zipcode",
        "media_url",
    ] {
        text(request, field);
    }
    let lat = number(format, request, "lat");
    let long = number(format, request, "long");
    assert_eq!(lat.is_some(), long.is_some(), "lat and long come together");
    if let (Some(lat), Some(long)) = (lat, long) {
        assert!((-90.0..=90.0).contains(&lat), "lat {lat}");
        assert!((-180.0..=180.0).contains(&long), "long {long}");
    }
    id
}

/// The values a client gives the attributes a definition marks `required` and `variable`.
fn required_attributes(format: Format, definition: &Value) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for attribute in list(definition, "attributes") {
        if !boolean(format, attribute, "required") || !boolean(format, attribute, "variable") {
            continue;
        }
        let code = required_text(attribute, "code");
        let first_key = || required_text(&list(attribute, "values")[0], "key");
        match required_text(attribute, "datatype").as_str() {
            "singlevaluelist" => form.push((format!("attribute[{code}]"), first_key())),
            "multivaluelist" => form.push((format!("attribute[{code}][]"), first_key())),
            "number" => form.push((format!("attribute[{code}]"), "1".into())),
            "datetime" => form.push((format!("attribute[{code}]"), Utc::now().to_rfc3339())),
            _ => form.push((format!("attribute[{code}]"), "conformance".into())),
        }
    }
    form
}

/// The service list in `format`, checked; the codes in order.
async fn services(client: &Client, format: Format) -> Vec<Value> {
    let answer = client.get("services", format, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let services = answer.body.as_array().expect("services are a list").clone();
    assert!(!services.is_empty(), "no service");
    for service in &services {
        check_service(format, service);
    }
    services
}

/// A service to file under (the first), with its definition's required attributes filled.
async fn service_and_attributes(client: &Client, format: Format) -> (Value, Vec<(String, String)>) {
    let service = services(client, format).await.remove(0);
    let code = required_text(&service, "service_code");
    if !boolean(format, &service, "metadata") {
        return (service, Vec::new());
    }
    let definition = client.get(&format!("services/{code}"), format, &[]).await;
    assert_eq!(definition.status, 200);
    let attributes = required_attributes(format, &definition.body);
    (service, attributes)
}

/// POSTs `form` and returns the one request of the answer, after checking it against the
/// service's type.
async fn post_request(
    client: &Client,
    format: Format,
    kind: &str,
    form: &[(String, String)],
) -> Value {
    let answer = client.post(format, form).await;
    assert!(
        answer.status == 200 || answer.status == 201,
        "POST {format:?}: {} {}",
        answer.status,
        answer.body
    );
    let requests = answer.body.as_array().expect("service_requests is a list");
    assert_eq!(requests.len(), 1, "{}", answer.body);
    let request = requests[0].clone();
    match kind {
        "realtime" => {
            required_text(&request, "service_request_id");
        }
        "batch" => {
            required_text(&request, "token");
        }
        _ => {}
    }
    for field in ["service_notice", "account_id"] {
        text(&request, field);
    }
    request
}

async fn get_one(client: &Client, format: Format, id: &str) -> Value {
    let answer = client.get(&format!("requests/{id}"), format, &[]).await;
    assert_eq!(answer.status, 200, "GET requests/{id}: {}", answer.body);
    let requests = answer.body.as_array().expect("service_requests is a list");
    assert_eq!(requests.len(), 1, "{}", answer.body);
    assert_eq!(check_request(format, &requests[0]), id);
    requests[0].clone()
}

async fn public_hub() -> TestHub {
    TestHub::start_with(|c| c.open311_public_read = true).await
}

// ---------------------------------------------------------------------------------------------
// The suite.

#[tokio::test]
async fn discovery_names_the_georeport_v2_endpoint_in_xml_and_json() {
    let hub = TestHub::start().await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut seen = Vec::new();
    for format in FORMATS {
        let url = hub.url(&format!("{DISCOVERY}.{}", format.ext()));
        let answer = read_answer(format, http.get(url).send().await.unwrap()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(answer.body.is_object(), "{}", answer.body);
        let endpoint = georeport_endpoint(format, &answer.body).clone();
        seen.push(endpoint);
    }
    assert_eq!(seen[0], seen[1], "XML and JSON discovery documents differ");
    // The endpoint it names answers.
    let client = Client::discover(&hub, None).await;
    assert_eq!(client.get("services", Format::Xml, &[]).await.status, 200);
}

#[tokio::test]
async fn services_and_their_definitions_have_every_field_the_spec_lists() {
    let hub = TestHub::start().await;
    // "Requires API Key: No"
    let client = Client::discover(&hub, None).await;
    let xml = services(&client, Format::Xml).await;
    let json = services(&client, Format::Json).await;
    assert_eq!(xml.len(), json.len());
    for (x, j) in xml.iter().zip(&json) {
        for field in [
            "service_code",
            "service_name",
            "description",
            "type",
            "keywords",
            "group",
        ] {
            assert_eq!(
                text(x, field),
                text(j, field),
                "{field} differs between formats"
            );
        }
        assert_eq!(
            boolean(Format::Xml, x, "metadata"),
            boolean(Format::Json, j, "metadata")
        );
    }
    for format in FORMATS {
        for service in services(&client, format).await {
            let code = required_text(&service, "service_code");
            if !boolean(format, &service, "metadata") {
                continue;
            }
            let answer = client.get(&format!("services/{code}"), format, &[]).await;
            assert_eq!(answer.status, 200, "{code}: {}", answer.body);
            check_definition(format, &code, &answer.body);
        }
        // "404 - service_code … provided were not found"
        let answer = client
            .get("services/no-such-service-code", format, &[])
            .await;
        assert_errors(&answer, 404, format, "an unknown service definition");
    }
}

#[tokio::test]
async fn a_request_posted_as_a_form_comes_back_as_it_was_sent() {
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    for (n, format) in FORMATS.into_iter().enumerate() {
        let (service, attributes) = service_and_attributes(&client, format).await;
        let code = required_text(&service, "service_code");
        let kind = required_text(&service, "type");
        let lat = if n == 0 { "31.2304" } else { "-33.8688" };
        let long = if n == 0 { "121.4737" } else { "151.2093" };
        let media = format!(
            "https://photos.example.org/{}/1.jpg?size=large&n={n}",
            format.ext()
        );
        let mut form = pairs(&[
            ("jurisdiction_id", ""),
            ("service_code", &code),
            ("lat", lat),
            ("long", long),
            ("description", "A large sinkhole\nis destroying the street"),
            ("media_url", &media),
            // "Optional" arguments sent empty are as good as absent.
            ("email", ""),
            ("first_name", ""),
            ("device_id", ""),
        ]);
        form.extend(attributes);
        let before = Utc::now() - chrono::Duration::seconds(5);
        let created = post_request(&client, format, &kind, &form).await;
        let Some(id) = text(&created, "service_request_id") else {
            continue;
        };
        let request = get_one(&client, format, &id).await;
        assert_eq!(required_text(&request, "service_code"), code);
        assert_eq!(
            required_text(&request, "service_name"),
            required_text(&service, "service_name")
        );
        assert_eq!(required_text(&request, "status"), "open");
        let requested = w3_datetime(&required_text(&request, "requested_datetime"));
        assert!(
            requested >= before && requested <= Utc::now(),
            "{requested}"
        );
        let (got_lat, got_long) = (
            number(format, &request, "lat").expect("lat comes back"),
            number(format, &request, "long").expect("long comes back"),
        );
        assert!(
            (got_lat - lat.parse::<f64>().unwrap()).abs() < 1e-9,
            "lat {got_lat}"
        );
        assert!(
            (got_long - long.parse::<f64>().unwrap()).abs() < 1e-9,
            "long {got_long}"
        );
        assert_eq!(text(&request, "media_url").as_deref(), Some(media.as_str()));
        // No address was given: there is none to return (or an honest one, never a made-up one).
        assert_eq!(text(&request, "address"), None, "{request}");
    }
}

#[tokio::test]
async fn a_request_with_an_address_string_keeps_it_and_the_formats_agree() {
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let (service, attributes) = service_and_attributes(&client, Format::Xml).await;
    let code = required_text(&service, "service_code");
    let mut form = pairs(&[
        ("service_code", &code),
        (
            "address_string",
            "1234 5th street, Mission, San Francisco & <CA>",
        ),
    ]);
    form.extend(attributes);
    let created = post_request(
        &client,
        Format::Xml,
        &required_text(&service, "type"),
        &form,
    )
    .await;
    let id = required_text(&created, "service_request_id");
    let xml = get_one(&client, Format::Xml, &id).await;
    let json = get_one(&client, Format::Json, &id).await;
    assert_eq!(
        text(&xml, "address").as_deref(),
        Some("1234 5th street, Mission, San Francisco & <CA>")
    );
    for field in [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "agency_responsible",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "media_url",
    ] {
        assert_eq!(text(&xml, field), text(&json, field), "{field} differs");
    }
    assert_eq!(number(Format::Xml, &xml, "lat"), None);
    assert_eq!(number(Format::Json, &json, "lat"), None);
}

#[tokio::test]
async fn a_post_the_spec_calls_wrong_gets_the_spec_s_error() {
    let hub = TestHub::start().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let (service, attributes) = service_and_attributes(&client, Format::Xml).await;
    let code = required_text(&service, "service_code");
    let good = |extra: &[(&str, &str)], drop: &[&str]| {
        let mut form = pairs(&[
            ("service_code", &code),
            ("lat", "31.23"),
            ("long", "121.47"),
        ]);
        form.extend(attributes.clone());
        form.retain(|(k, _)| !drop.contains(&k.as_str()));
        for (k, v) in extra {
            form.retain(|(key, _)| key != k);
            form.push(((*k).to_owned(), (*v).to_owned()));
        }
        form
    };
    for format in FORMATS {
        // 403: "Missing or Invalid API Key"
        let answer = client.without_key().post(format, &good(&[], &[])).await;
        assert_errors(&answer, 403, format, "no api_key");
        let answer = client
            .with_key("not-a-key-of-this-hub-0000")
            .post(format, &good(&[], &[]))
            .await;
        assert_errors(&answer, 403, format, "a wrong api_key");
        // 404: "service_code … was not found"
        let answer = client
            .post(
                format,
                &good(&[("service_code", "no-such-service-code")], &[]),
            )
            .await;
        let said = assert_errors(&answer, 404, format, "an unknown service_code");
        assert!(said.iter().any(|d| d.contains("service_code")), "{said:?}");
        // 400: "service_code … was not provided"
        let answer = client.post(format, &good(&[], &["service_code"])).await;
        let said = assert_errors(&answer, 400, format, "no service_code");
        assert!(said.iter().any(|d| d.contains("service_code")), "{said:?}");
        // 400: "A full location parameter must be submitted"; lat & long both.
        let answer = client.post(format, &good(&[], &["lat", "long"])).await;
        assert_errors(&answer, 400, format, "no location");
        let answer = client.post(format, &good(&[], &["long"])).await;
        let said = assert_errors(&answer, 400, format, "lat without long");
        assert!(said.iter().any(|d| d.contains("long")), "{said:?}");
        // WGS84: a latitude past a pole or a longitude past the date line is no place.
        for (field, value) in [
            ("lat", "95"),
            ("lat", "-90.5"),
            ("long", "180.01"),
            ("long", "x"),
        ] {
            let answer = client.post(format, &good(&[(field, value)], &[])).await;
            let said = assert_errors(&answer, 400, format, &format!("{field}={value}"));
            assert!(said.iter().any(|d| d.contains(field)), "{field}: {said:?}");
        }
    }
    assert_eq!(
        hub.count("cases"),
        0,
        "a refused request leaves nothing behind"
    );
}

#[tokio::test]
async fn get_requests_filters_as_the_spec_says() {
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let all_services = services(&client, Format::Json).await;
    assert!(all_services.len() >= 2, "two services to filter by");
    let mut filed: Vec<(String, String)> = Vec::new();
    for (n, service) in all_services.iter().take(2).enumerate() {
        let code = required_text(service, "service_code");
        let definition = client
            .get(&format!("services/{code}"), Format::Json, &[])
            .await;
        let mut form = pairs(&[("service_code", &code), ("address_string", "Main St")]);
        if boolean(Format::Json, service, "metadata") {
            form.extend(required_attributes(Format::Json, &definition.body));
        }
        for _ in 0..=n {
            let created = post_request(
                &client,
                Format::Json,
                &required_text(service, "type"),
                &form,
            )
            .await;
            filed.push((required_text(&created, "service_request_id"), code.clone()));
        }
    }
    let ids: Vec<&str> = filed.iter().map(|(id, _)| id.as_str()).collect();
    for format in FORMATS {
        // No argument: the last 90 days, at most 1000.
        let answer = client.get("requests", format, &[]).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let listed = answer.body.as_array().expect("a list").clone();
        assert!(listed.len() <= 1000);
        let horizon = Utc::now() - chrono::Duration::days(90);
        let mut listed_ids = BTreeSet::new();
        for request in &listed {
            listed_ids.insert(check_request(format, request));
            assert!(w3_datetime(&required_text(request, "requested_datetime")) >= horizon);
        }
        for id in &ids {
            assert!(listed_ids.contains(*id), "{id} not listed");
        }
        // service_request_id, comma delimited, "overrides all other arguments".
        let two = format!("{},{}", ids[0], ids[2]);
        let answer = client
            .get(
                "requests",
                format,
                &[("service_request_id", &two), ("status", "closed")],
            )
            .await;
        let got: BTreeSet<String> = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| check_request(format, r))
            .collect();
        assert_eq!(got, BTreeSet::from([ids[0].to_owned(), ids[2].to_owned()]));
        // service_code, one and two of them.
        let second = &filed[1].1;
        let answer = client
            .get("requests", format, &[("service_code", second)])
            .await;
        let codes: Vec<String> = answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| required_text(r, "service_code"))
            .collect();
        assert_eq!(codes.len(), 2, "{codes:?}");
        assert!(codes.iter().all(|c| c == second));
        let both = format!("{},{}", filed[0].1, second);
        let answer = client
            .get("requests", format, &[("service_code", &both)])
            .await;
        assert_eq!(answer.body.as_array().unwrap().len(), 3);
        // status, one and several; an empty one is as if absent.
        let open = client.get("requests", format, &[("status", "open")]).await;
        assert_eq!(open.body.as_array().unwrap().len(), 3);
        let closed = client
            .get("requests", format, &[("status", "closed")])
            .await;
        assert!(closed.body.as_array().unwrap().is_empty());
        let either = client
            .get("requests", format, &[("status", "open,closed")])
            .await;
        assert_eq!(either.body.as_array().unwrap().len(), 3);
        let empty = client
            .get("requests", format, &[("status", ""), ("service_code", "")])
            .await;
        assert_eq!(empty.status, 200);
        assert_eq!(empty.body.as_array().unwrap().len(), 3);
        // start_date/end_date in w3 format.
        let start = (Utc::now() - chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let end = (Utc::now() + chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string();
        let window = client
            .get(
                "requests",
                format,
                &[("start_date", &start), ("end_date", &end)],
            )
            .await;
        assert_eq!(window.status, 200, "{}", window.body);
        assert_eq!(window.body.as_array().unwrap().len(), 3);
        let past_end = (Utc::now() - chrono::Duration::days(2))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let past_start = (Utc::now() - chrono::Duration::days(3))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let before = client
            .get(
                "requests",
                format,
                &[("start_date", &past_start), ("end_date", &past_end)],
            )
            .await;
        assert_eq!(before.status, 200);
        assert!(before.body.as_array().unwrap().is_empty());
        // A request that does not exist is a 404.
        let answer = client.get("requests/999999999", format, &[]).await;
        assert_errors(&answer, 404, format, "an unknown request");
    }
}

#[tokio::test]
async fn a_token_leads_to_its_request() {
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    for format in FORMATS {
        let (service, attributes) = service_and_attributes(&client, format).await;
        let mut form = pairs(&[
            ("service_code", &required_text(&service, "service_code")),
            ("address_string", "Main St"),
        ]);
        form.extend(attributes);
        let created = post_request(&client, format, &required_text(&service, "type"), &form).await;
        // "This call is only necessary if the response from POST Service Request contains a
        // token."
        let Some(token) = text(&created, "token") else {
            continue;
        };
        let answer = client.get(&format!("tokens/{token}"), format, &[]).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let found = answer.body.as_array().expect("a list");
        assert_eq!(found.len(), 1);
        assert_eq!(required_text(&found[0], "token"), token);
        let id = required_text(&found[0], "service_request_id");
        if let Some(direct) = text(&created, "service_request_id") {
            assert_eq!(id, direct);
        }
        get_one(&client, format, &id).await;
        // "404 - … token not found"
        let answer = client.get("tokens/0000000000000000", format, &[]).await;
        assert_errors(&answer, 404, format, "an unknown token");
    }
}

/// The hub's deliberate departures (docs/hub.md, "Open311 GeoReport v2"), asserted as such.
#[tokio::test]
async fn documented_choices_reading_needs_the_key_unless_public_read_is_set() {
    // The specification makes reading keyless. The hub's requests are residents' grievances, so
    // by default reading needs a key; `HUB_OPEN311_PUBLIC_READ=true` opens it (the answers carry
    // no description and no contact field either way).
    let hub = TestHub::start().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let (service, attributes) = service_and_attributes(&client, Format::Json).await;
    let mut form = pairs(&[
        ("service_code", &required_text(&service, "service_code")),
        ("address_string", "Main St"),
        ("description", "PRIVATE-DESCRIPTION"),
        ("phone", "13812345678"),
        ("email", "resident@example.org"),
        ("first_name", "Resident"),
    ]);
    form.extend(attributes);
    let created = post_request(&client, Format::Json, "realtime", &form).await;
    let id = required_text(&created, "service_request_id");
    let keyless = client.without_key();
    for format in FORMATS {
        for resource in ["requests".to_owned(), format!("requests/{id}")] {
            let answer = keyless.get(&resource, format, &[]).await;
            assert_errors(&answer, 403, format, &resource);
        }
        // The service list and definitions stay public.
        assert_eq!(keyless.get("services", format, &[]).await.status, 200);
    }

    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let created = post_request(&client, Format::Json, "realtime", &form).await;
    let id = required_text(&created, "service_request_id");
    let keyless = client.without_key();
    for format in FORMATS {
        let one = get_one(&keyless, format, &id).await;
        let answer = keyless.get("requests", format, &[]).await;
        assert_eq!(answer.status, 200);
        let everything = format!("{one} {}", answer.body);
        for private in [
            "PRIVATE-DESCRIPTION",
            "13812345678",
            "resident@example.org",
            "Resident",
        ] {
            assert!(!everything.contains(private), "{private} in {everything}");
        }
        // Filing still needs the key.
        let answer = keyless.post(format, &form).await;
        assert_errors(&answer, 403, format, "a keyless POST with public reading");
    }
}

#[tokio::test]
async fn documented_choices_a_realtime_answer_carries_its_tracking_code_as_token() {
    // The specification returns either service_request_id or token. The hub's services are
    // realtime, so it returns service_request_id at once, and adds `token`: the case's tracking
    // code (what a slip's QR opens). A client that follows `token` anyway reaches the same
    // request, so neither reading goes wrong.
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    for format in FORMATS {
        let (service, attributes) = service_and_attributes(&client, format).await;
        assert_eq!(required_text(&service, "type"), "realtime");
        let mut form = pairs(&[
            ("service_code", &required_text(&service, "service_code")),
            ("lat", "31.2"),
            ("long", "121.5"),
        ]);
        form.extend(attributes);
        let created = post_request(&client, format, "realtime", &form).await;
        let id = required_text(&created, "service_request_id");
        let token = required_text(&created, "token");
        let answer = client.get(&format!("tokens/{token}"), format, &[]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(required_text(&answer.body[0], "service_request_id"), id);
    }
}

/// Every field a request can carry, in both formats, by name: what the hub never returns is
/// written down here rather than silently missing.
#[tokio::test]
async fn every_request_field_is_named_the_spec_s_way() {
    let hub = public_hub().await;
    let client = Client::discover(&hub, Some(OPEN311_KEY)).await;
    let (service, attributes) = service_and_attributes(&client, Format::Json).await;
    let mut form = pairs(&[
        ("service_code", &required_text(&service, "service_code")),
        ("lat", "31.2"),
        ("long", "121.5"),
        ("address_string", "Main St"),
        ("media_url", "https://photos.example.org/1.jpg"),
    ]);
    form.extend(attributes);
    let created = post_request(&client, Format::Json, "realtime", &form).await;
    let id = required_text(&created, "service_request_id");
    let known: BTreeSet<&str> = [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    .into();
    for format in FORMATS {
        let request = get_one(&client, format, &id).await;
        let fields: BTreeMap<&String, &Value> = request.as_object().unwrap().iter().collect();
        for field in fields.keys() {
            assert!(
                known.contains(field.as_str()),
                "`{field}` is not a GeoReport v2 field"
            );
        }
    }
}
