//! The kiosk filing to an Open311 server (issue 17): a server written in this file from the
//! GeoReport v2 specification's text alone, not from the hub's code, on a loopback port (a
//! bare tokio listener speaking HTTP/1.1). Its modes are what the specification allows a
//! server to be: JSON and XML or XML only (the required format), with or without a discovery
//! document, `realtime`, `batch` (a token, resolved to an id later) or `blackbox` services,
//! services with required attributes, a key it refuses, and refusals scripted ahead of the
//! real answer (a 400 that is the server's trouble, a 500, a 400 naming a field).
//!
//! The real kiosk files to it: its configuration read from a station's kiosk.toml pointed at
//! the server, the `Kiosk` API and the `grievance-kiosk` binary (`outbox flush`, `doctor`).
//! Each of issue 17's items 13 and 14 is asserted here.

use crate::common::doctor_line;
use crate::exec;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};

use domain::CaseDraft;
use protocol::CaseState;
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::{doctor, Filed, Kiosk, Progress};
use station::test_support::noise_complaint;
use station::upstream::client::Upstream;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The key the server gives the kiosk, and one it never issued.
const KEY: &str = "3a7c-kiosk-api-key";
const WRONG_KEY: &str = "not-a-key-we-issued";
/// The station's address in its kiosk.toml: what `address_string` must carry.
const ADDRESS: &str = "光明街道文化广场一楼东侧";
/// The built-in demo station's id, which must not stand for its address.
const STATION_ID: &str = "demo";

// ---------------------------------------------------------------------------------------------
// The server, from the specification.

/// How a service hands back a request (the service list's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// "Realtime: The service request ID will be returned immediately after the service
    /// request is submitted."
    Realtime,
    /// "Batch: A token will be returned immediately after the service request is submitted.
    /// This token can then be later used to return the service request ID."
    Batch,
    /// "Blackbox: No service request ID will be returned after the service request is
    /// submitted."
    Blackbox,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Realtime => "realtime",
            Kind::Batch => "batch",
            Kind::Blackbox => "blackbox",
        }
    }
}

/// One attribute of a service definition.
#[derive(Debug, Clone)]
struct Attribute {
    code: &'static str,
    required: bool,
    datatype: &'static str,
    description: &'static str,
    values: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
struct Service {
    code: &'static str,
    name: &'static str,
    kind: Kind,
    attributes: Vec<Attribute>,
}

impl Service {
    fn plain(code: &'static str, kind: Kind) -> Service {
        Service {
            code,
            name: "Noise",
            kind,
            attributes: Vec::new(),
        }
    }
}

/// What the server is.
#[derive(Debug, Clone)]
struct Mode {
    services: Vec<Service>,
    /// Whether it answers `.json` too (XML is required of every server).
    json: bool,
    /// Whether it publishes a discovery document.
    discovery: bool,
}

/// A request the server took.
#[derive(Debug, Clone)]
struct Taken {
    id: u64,
    token: String,
    form: Vec<(String, String)>,
    status: &'static str,
    status_notes: String,
    /// Whether a batch token has its id yet.
    resolved: bool,
}

impl Taken {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct State {
    taken: Vec<Taken>,
    /// Every request line the server saw, in order (`POST /v2/requests.xml`).
    seen: Vec<String>,
    /// Answers to the next `POST requests`, before it is looked at: status and description.
    refusals: VecDeque<(u16, &'static str)>,
}

struct Spec311 {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Spec311 {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Spec311 {
    async fn start(mode: Mode) -> Spec311 {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let mode = Arc::new(mode);
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, mode.clone(), shared.clone(), addr));
            }
        });
        Spec311 {
            addr,
            state,
            accept,
        }
    }

    /// The GeoReport v2 endpoint (what the kiosk's `upstream.url` names).
    fn endpoint(&self) -> String {
        format!("http://{}/open311/v2", self.addr)
    }

    fn taken(&self) -> Vec<Taken> {
        self.state.lock().unwrap().taken.clone()
    }

    fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }

    fn refuse_next(&self, refusals: &[(u16, &'static str)]) {
        self.state.lock().unwrap().refusals.extend(refusals);
    }

    /// The city's staff at work: a request's status and notes change, a token gets its id.
    fn update(&self, id: u64, status: &'static str, notes: &str) {
        let mut state = self.state.lock().unwrap();
        let t = state.taken.iter_mut().find(|t| t.id == id).unwrap();
        t.status = status;
        t.status_notes = notes.to_owned();
    }

    fn resolve_tokens(&self) {
        for t in &mut self.state.lock().unwrap().taken {
            t.resolved = true;
        }
    }
}

/// A field of a record: text, or a list of records under an element name (XML).
enum Item {
    Text(String),
    Flag(bool),
    Number(u64),
    List(&'static str, Vec<Record>),
    Words(&'static str, Vec<String>),
}

type Record = Vec<(&'static str, Item)>;

fn t(s: impl Into<String>) -> Item {
    Item::Text(s.into())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json_of(record: &Record) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in record {
        let value = match v {
            Item::Text(s) => serde_json::Value::String(s.clone()),
            Item::Flag(b) => serde_json::Value::Bool(*b),
            Item::Number(n) => serde_json::Value::from(*n),
            Item::List(_, records) => records.iter().map(json_of).collect(),
            Item::Words(_, words) => words.iter().cloned().collect(),
        };
        map.insert((*k).to_owned(), value);
    }
    serde_json::Value::Object(map)
}

fn xml_of(name: &str, record: &Record, out: &mut String) {
    out.push_str(&format!("<{name}>"));
    for (k, v) in record {
        match v {
            Item::Text(s) => out.push_str(&format!("<{k}>{}</{k}>", escape(s))),
            Item::Flag(b) => out.push_str(&format!("<{k}>{b}</{k}>")),
            Item::Number(n) => out.push_str(&format!("<{k}>{n}</{k}>")),
            Item::List(each, records) => {
                out.push_str(&format!("<{k}>"));
                for r in records {
                    xml_of(each, r, out);
                }
                out.push_str(&format!("</{k}>"));
            }
            Item::Words(each, words) => {
                out.push_str(&format!("<{k}>"));
                for w in words {
                    out.push_str(&format!("<{each}>{}</{each}>", escape(w)));
                }
                out.push_str(&format!("</{k}>"));
            }
        }
    }
    out.push_str(&format!("</{name}>"));
}

/// A list document: `[..]` in JSON, `<root><each>..</each></root>` in XML.
fn list(xml: bool, root: &str, each: &str, records: &[Record]) -> (String, String) {
    if xml {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        out.push_str(&format!("<{root}>"));
        for r in records {
            xml_of(each, r, &mut out);
        }
        out.push_str(&format!("</{root}>"));
        ("text/xml; charset=utf-8".into(), out)
    } else {
        let value: serde_json::Value = records.iter().map(json_of).collect();
        ("application/json; charset=utf-8".into(), value.to_string())
    }
}

/// One document: `{..}` in JSON, `<root>..</root>` in XML.
fn one(xml: bool, root: &str, record: &Record) -> (String, String) {
    if xml {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        xml_of(root, record, &mut out);
        ("text/xml; charset=utf-8".into(), out)
    } else {
        (
            "application/json; charset=utf-8".into(),
            json_of(record).to_string(),
        )
    }
}

/// The specification's errors: "a list of error codes and descriptions".
fn errors(xml: bool, status: u16, description: &str) -> (u16, String, String) {
    let (kind, body) = list(
        xml,
        "errors",
        "error",
        &[vec![
            ("code", Item::Number(u64::from(status))),
            ("description", t(description)),
        ]],
    );
    (status, kind, body)
}

/// `application/x-www-form-urlencoded`, or a query string, decoded.
fn form(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).expect("the kiosk sends UTF-8")
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn service_record(s: &Service) -> Record {
    vec![
        ("service_code", t(s.code)),
        ("service_name", t(s.name)),
        ("description", t("Noise from neighbours or works")),
        ("metadata", Item::Flag(!s.attributes.is_empty())),
        ("type", t(s.kind.word())),
        ("keywords", t("noise")),
        ("group", t("environment")),
    ]
}

fn request_record(r: &Taken, services: &[Service]) -> Record {
    let service = services
        .iter()
        .find(|s| Some(s.code) == r.field("service_code"));
    vec![
        ("service_request_id", t(r.id.to_string())),
        ("status", t(r.status)),
        ("status_notes", t(r.status_notes.clone())),
        ("service_name", t(service.map_or("", |s| s.name))),
        ("service_code", t(r.field("service_code").unwrap_or(""))),
        ("description", t(r.field("description").unwrap_or(""))),
        ("agency_responsible", t("Environmental Services")),
        ("service_notice", t("")),
        ("requested_datetime", t("2026-12-05T09:15:30+08:00")),
        ("updated_datetime", t("2026-12-05T10:00:00+08:00")),
        ("expected_datetime", t("2026-12-08T17:00:00+08:00")),
        ("address", t(r.field("address_string").unwrap_or(""))),
        ("address_id", t("")),
        ("zipcode", t("")),
        ("lat", t("")),
        ("long", t("")),
        ("media_url", t("")),
    ]
}

/// One HTTP request to its answer: status, content type, body.
fn answer(
    mode: &Mode,
    state: &Mutex<State>,
    method: &str,
    target: &str,
    body: &str,
    endpoint: &str,
) -> (u16, String, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some((resource, ext)) = path.rsplit_once('.') else {
        return errors(true, 404, "no such resource");
    };
    let xml = match ext {
        "xml" => true,
        "json" if mode.json => false,
        _ => return errors(true, 404, "format not supported: use .xml"),
    };
    let params = if method == "POST" {
        form(body)
    } else {
        form(query)
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut state = state.lock().unwrap();
    match (method, resource) {
        ("GET", "/open311/discovery") if mode.discovery => {
            let mut formats = vec!["text/xml".to_owned()];
            if mode.json {
                formats.push("application/json".to_owned());
            }
            let (kind, body) = one(
                xml,
                "discovery",
                &vec![
                    ("changeset", t("2026-12-01T00:00:00Z")),
                    ("contact", t("311@city.example")),
                    ("key_service", t("https://city.example/keys")),
                    (
                        "endpoints",
                        Item::List(
                            "endpoint",
                            vec![vec![
                                ("specification", t("http://wiki.open311.org/GeoReport_v2")),
                                ("url", t(endpoint)),
                                ("changeset", t("2026-12-01T00:00:00Z")),
                                ("type", t("production")),
                                ("formats", Item::Words("format", formats)),
                            ]],
                        ),
                    ),
                ],
            );
            (200, kind, body)
        }
        ("GET", "/open311/v2/services") => {
            let records: Vec<Record> = mode.services.iter().map(service_record).collect();
            let (kind, body) = list(xml, "services", "service", &records);
            (200, kind, body)
        }
        ("GET", r) if r.starts_with("/open311/v2/services/") => {
            let code = &r["/open311/v2/services/".len()..];
            let Some(s) = mode.services.iter().find(|s| s.code == code) else {
                return errors(xml, 404, "service_code not found");
            };
            let attributes = s
                .attributes
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    vec![
                        ("variable", Item::Flag(true)),
                        ("code", t(a.code)),
                        ("datatype", t(a.datatype)),
                        ("required", Item::Flag(a.required)),
                        ("datatype_description", t("")),
                        ("order", Item::Number(i as u64 + 1)),
                        ("description", t(a.description)),
                        (
                            "values",
                            Item::List(
                                "value",
                                a.values
                                    .iter()
                                    .map(|(k, n)| vec![("key", t(*k)), ("name", t(*n))])
                                    .collect(),
                            ),
                        ),
                    ]
                })
                .collect();
            let (kind, body) = one(
                xml,
                "service_definition",
                &vec![
                    ("service_code", t(s.code)),
                    ("attributes", Item::List("attribute", attributes)),
                ],
            );
            (200, kind, body)
        }
        ("POST", "/open311/v2/requests") => {
            if let Some((status, description)) = state.refusals.pop_front() {
                return errors(xml, status, description);
            }
            if param("api_key").as_deref() != Some(KEY) {
                return errors(
                    xml,
                    403,
                    "Invalid api_key received -- can't proceed with create_request.",
                );
            }
            let Some(code) = param("service_code") else {
                return errors(xml, 400, "service_code was not provided");
            };
            let Some(service) = mode.services.iter().find(|s| s.code == code) else {
                return errors(xml, 404, &format!("service_code {code} was not found"));
            };
            if param("address_string").is_none()
                && param("address_id").is_none()
                && (param("lat").is_none() || param("long").is_none())
            {
                return errors(
                    xml,
                    400,
                    "a location is required: lat and long, address_string or address_id",
                );
            }
            for a in service.attributes.iter().filter(|a| a.required) {
                let name = if a.datatype == "multivaluelist" {
                    format!("attribute[{}][]", a.code)
                } else {
                    format!("attribute[{}]", a.code)
                };
                let Some(value) = param(&name) else {
                    return errors(xml, 400, &format!("attribute[{}] is required", a.code));
                };
                if !a.values.is_empty() && !a.values.iter().any(|(k, _)| *k == value) {
                    return errors(
                        xml,
                        400,
                        &format!("attribute[{}]: {value} is not a valid key", a.code),
                    );
                }
            }
            let id = 638_344 + state.taken.len() as u64;
            let token = format!("tk-{id}");
            state.taken.push(Taken {
                id,
                token: token.clone(),
                form: params.clone(),
                status: "open",
                status_notes: String::new(),
                resolved: false,
            });
            let notice = ("service_notice", t("The City will inspect within 3 days"));
            let record = match service.kind {
                Kind::Realtime => vec![
                    ("service_request_id", t(id.to_string())),
                    notice,
                    ("account_id", t("")),
                ],
                Kind::Batch => vec![("token", t(token)), notice],
                Kind::Blackbox => vec![notice],
            };
            let (kind, body) = list(xml, "service_requests", "request", &[record]);
            (200, kind, body)
        }
        ("GET", r) if r.starts_with("/open311/v2/tokens/") => {
            let token = &r["/open311/v2/tokens/".len()..];
            let Some(taken) = state.taken.iter().find(|t| t.token == token) else {
                return errors(xml, 404, "token not found");
            };
            let mut record = vec![("token", t(token))];
            if taken.resolved {
                record.insert(0, ("service_request_id", t(taken.id.to_string())));
            }
            let (kind, body) = list(xml, "service_requests", "request", &[record]);
            (200, kind, body)
        }
        ("GET", r) if r.starts_with("/open311/v2/requests/") => {
            let id = &r["/open311/v2/requests/".len()..];
            let found = state.taken.iter().find(|t| {
                t.id.to_string() == id && !matches!(service_kind(mode, t), Kind::Blackbox)
            });
            let Some(taken) = found else {
                return errors(xml, 404, "service_request_id not found");
            };
            let (kind, body) = list(
                xml,
                "service_requests",
                "request",
                &[request_record(taken, &mode.services)],
            );
            (200, kind, body)
        }
        _ => errors(xml, 404, "no such resource"),
    }
}

fn service_kind(mode: &Mode, taken: &Taken) -> Kind {
    mode.services
        .iter()
        .find(|s| Some(s.code) == taken.field("service_code"))
        .map_or(Kind::Realtime, |s| s.kind)
}

async fn serve(mut stream: TcpStream, mode: Arc<Mode>, state: Arc<Mutex<State>>, addr: SocketAddr) {
    let endpoint = format!("http://{addr}/open311/v2");
    while let Ok(Some((head, body))) = read_message(&mut stream).await {
        let mut words = head.split_whitespace();
        let (method, target) = (
            words.next().unwrap_or("").to_owned(),
            words.next().unwrap_or("").to_owned(),
        );
        state.lock().unwrap().seen.push(format!(
            "{method} {}",
            target.split('?').next().unwrap_or("")
        ));
        let body = String::from_utf8_lossy(&body).into_owned();
        let (status, kind, body) = answer(&mode, &state, &method, &target, &body, &endpoint);
        let reply = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n{body}",
            if status == 200 { "OK" } else { "Refused" },
            body.len()
        );
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// One HTTP/1.1 message: its head and its body (by `Content-Length`).
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, buf[head_end..head_end + length].to_vec())))
}

// ---------------------------------------------------------------------------------------------
// The kiosk, configured by a station's kiosk.toml.

struct Station {
    dir: TempDir,
    toml: PathBuf,
    config: Arc<KioskConfig>,
}

impl Station {
    /// A station filing to `url` with `key`, `open311` being its `[upstream.open311]` lines.
    fn new(url: &str, key: &str, open311: &str) -> Station {
        let dir = TempDir::new().unwrap();
        let toml = dir.path().join("kiosk.toml");
        let data = dir.path().join("data");
        std::fs::write(
            &toml,
            format!(
                "data_dir = {data:?}\n\
                 [station]\naddress = {{ zh = \"{ADDRESS}\", en = \"East side, Culture Square\" }}\n\
                 [upstream]\nurl = \"{url}\"\nkind = \"open311\"\ntoken = \"{key}\"\n\
                 [upstream.open311]\n{open311}\n"
            ),
        )
        .unwrap();
        let config = KioskConfig::load(Some(&toml), |_| None).expect("the station's file loads");
        assert_eq!(config.upstream.kind, UpstreamKind::Open311);
        Station {
            dir,
            toml,
            config: Arc::new(config),
        }
    }

    fn kiosk(&self) -> Kiosk {
        Kiosk::open(self.config.clone()).expect("the kiosk opens its database")
    }

    fn upstream(&self) -> Upstream {
        Upstream::new(
            self.config.upstream.url.as_deref().unwrap(),
            UpstreamKind::Open311,
            self.config.upstream.token.as_deref().unwrap(),
        )
    }

    fn file(&self, draft: CaseDraft) -> Filed {
        self.kiosk()
            .file_case(&draft)
            .expect("the kiosk files the case")
    }

    /// The case's outbox row: state, upstream's reference, last error.
    fn outbox(&self, filed: &Filed) -> (String, Option<String>, Option<String>) {
        self.kiosk()
            .store()
            .connection()
            .query_row(
                "SELECT state, upstream_ref, last_error FROM outbox WHERE case_id = ?1",
                [filed.case.id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("the case has an outbox row")
    }

    /// `grievance-kiosk ARGS` with this station's kiosk.toml.
    async fn cli(&self, args: &[&str]) -> Output {
        let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KIOSK_") {
                command.env_remove(name);
            }
        }
        command
            .env("KIOSK_CONFIG", &self.toml)
            .current_dir(self.dir.path())
            .args(args);
        tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
            .await
            .unwrap()
    }
}

fn noise() -> CaseDraft {
    noise_complaint("楼上装修噪音，晚上十一点还在打钻")
}

/// The built-in catalogue's answer `source` (of the noise complaint) as the server's
/// required list, with the kiosk's keys.
fn source_attribute() -> Attribute {
    Attribute {
        code: "source",
        required: true,
        datatype: "singlevaluelist",
        description: "Where the noise comes from",
        values: vec![("renovation", "Renovation"), ("neighbours", "Neighbours")],
    }
}

fn mode(services: Vec<Service>) -> Mode {
    Mode {
        services,
        json: true,
        discovery: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Item 13: a blackbox service.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackbox_service_takes_the_case_once_and_the_kiosk_follows_nothing() {
    let server = Spec311::start(mode(vec![Service::plain("complaint", Kind::Blackbox)])).await;
    let station = Station::new(&server.endpoint(), KEY, "");
    let filed = station.file(noise());
    let upstream = station.upstream();

    // Three flushes, as the reviewer did: one request at the server.
    for _ in 0..3 {
        let report = station.kiosk().drain_outbox(&upstream, true).await.unwrap();
        assert_eq!(report.failed + report.retried, 0, "{report:?}");
    }
    assert_eq!(server.taken().len(), 1, "filed once: {:?}", server.seen());
    let (state, reference, error) = station.outbox(&filed);
    assert_eq!(state, "delivered", "{error:?}");
    assert_eq!(reference.as_deref(), Some("blackbox"));
    let counts = station.kiosk().outbox_counts().unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 1, 0));

    // Nothing to follow: the kiosk asks the server nothing about it.
    let before = server.seen().len();
    let progress = station
        .kiosk()
        .progress(&filed.case, &upstream)
        .await
        .unwrap();
    assert!(
        matches!(&progress, Progress::Unknown(why) if why.contains("blackbox")),
        "{progress:?}"
    );
    assert_eq!(server.seen().len(), before, "{:?}", server.seen());

    // The same through the binary: `outbox flush` sends nothing again and succeeds.
    let out = station.cli(&["outbox", "flush", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(server.taken().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Item 14: XML, chosen by a setting or by discovery.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_speaks_only_xml_is_filed_to_and_read_in_xml() {
    for (setting, discovery) in [("xml", false), ("discover", true)] {
        let server = Spec311::start(Mode {
            services: vec![Service::plain("complaint", Kind::Realtime)],
            json: false,
            discovery,
        })
        .await;
        let station = Station::new(&server.endpoint(), KEY, &format!("format = \"{setting}\""));
        let filed = station.file(noise());

        // Through the binary, as staff would.
        let out = station.cli(&["outbox", "flush", "--json"]).await;
        assert!(out.status.success(), "{setting}: {out:?}");
        let taken = server.taken();
        assert_eq!(taken.len(), 1, "{setting}: {:?}", server.seen());
        assert!(
            server.seen().iter().all(|r| !r.ends_with(".json")),
            "{setting}: nothing asked in JSON: {:?}",
            server.seen()
        );
        let (state, reference, _) = station.outbox(&filed);
        assert_eq!(state, "delivered");
        assert_eq!(reference, Some(format!("id:{}", taken[0].id)));

        // Its progress, read back in XML.
        server.update(
            taken[0].id,
            "open",
            "in_progress: crew sent to the building",
        );
        let progress = station
            .kiosk()
            .progress(&filed.case, &station.upstream())
            .await
            .unwrap();
        let Progress::Live(p) = progress else {
            panic!("{setting}: {progress:?}");
        };
        assert_eq!(p.state, CaseState::InProgress);
        assert_eq!(
            p.timeline[0].note.as_deref(),
            Some("crew sent to the building")
        );
        assert_eq!(p.department.as_deref(), Some("Environmental Services"));
    }
}

// ---------------------------------------------------------------------------------------------
// Item 14: the kiosk's codes mapped to the server's; required attributes.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosks_services_are_filed_under_the_servers_codes() {
    let server = Spec311::start(mode(vec![Service::plain("NOISE-311", Kind::Realtime)])).await;

    // Unmapped, the server has no such service: kept for staff, nothing posted.
    let unmapped = Station::new(&server.endpoint(), KEY, "");
    let filed = unmapped.file(noise());
    let report = unmapped
        .kiosk()
        .drain_outbox(&unmapped.upstream(), false)
        .await
        .unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let (state, _, error) = unmapped.outbox(&filed);
    assert_eq!(state, "failed");
    let error = error.unwrap();
    assert!(
        error.contains("NOISE") || error.contains("no service `complaint`"),
        "names the code: {error}"
    );
    assert!(
        error.contains("upstream.open311.services"),
        "says what to do: {error}"
    );
    assert!(server.taken().is_empty(), "{:?}", server.seen());

    // Mapped, it is filed under the server's code, at the station's address.
    let mapped = Station::new(
        &server.endpoint(),
        KEY,
        "services = { complaint = \"NOISE-311\" }",
    );
    mapped.file(noise());
    let report = mapped
        .kiosk()
        .drain_outbox(&mapped.upstream(), false)
        .await
        .unwrap();
    assert_eq!(report.delivered.len(), 1, "{report:?}");
    let taken = server.taken();
    assert_eq!(taken[0].field("service_code"), Some("NOISE-311"));
    assert_eq!(taken[0].field("address_string"), Some(ADDRESS));
    assert_ne!(taken[0].field("address_string"), Some(STATION_ID));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_attributes_are_filled_from_the_definition_or_the_case_is_refused_naming_them() {
    let with = |extra: Option<Attribute>| {
        let mut attributes = vec![
            source_attribute(),
            Attribute {
                code: "CHANNEL",
                required: true,
                datatype: "string",
                description: "How the request reached the city",
                values: Vec::new(),
            },
            Attribute {
                code: "NOTES",
                required: false,
                datatype: "text",
                description: "Anything else",
                values: Vec::new(),
            },
        ];
        attributes.extend(extra);
        Service {
            attributes,
            ..Service::plain("complaint", Kind::Realtime)
        }
    };

    // `source` from the resident's answer, `CHANNEL` from the station's file.
    let server = Spec311::start(mode(vec![with(None)])).await;
    let station = Station::new(
        &server.endpoint(),
        KEY,
        "attributes = { CHANNEL = \"kiosk\" }",
    );
    let filed = station.file(noise());
    let report = station
        .kiosk()
        .drain_outbox(&station.upstream(), false)
        .await
        .unwrap();
    assert_eq!(
        report.delivered.len(),
        1,
        "{report:?} {:?}",
        station.outbox(&filed)
    );
    let taken = server.taken();
    assert_eq!(taken[0].field("attribute[source]"), Some("renovation"));
    assert_eq!(taken[0].field("attribute[CHANNEL]"), Some("kiosk"));
    assert!(
        server
            .seen()
            .contains(&"GET /open311/v2/services/complaint.json".to_owned()),
        "the definition was read: {:?}",
        server.seen()
    );

    // Without the station's value for CHANNEL: refused for staff, naming the attribute.
    let server = Spec311::start(mode(vec![with(None)])).await;
    let station = Station::new(&server.endpoint(), KEY, "");
    let filed = station.file(noise());
    let report = station
        .kiosk()
        .drain_outbox(&station.upstream(), false)
        .await
        .unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let (state, _, error) = station.outbox(&filed);
    assert_eq!(state, "failed");
    let error = error.unwrap();
    assert!(error.contains("`CHANNEL`"), "{error}");
    assert!(error.contains("upstream.open311.attributes"), "{error}");
    assert!(server.taken().is_empty());

    // A required list whose keys the case's answer is not among: refused, with the keys.
    let ward = Attribute {
        code: "WARD",
        required: true,
        datatype: "singlevaluelist",
        description: "The ward",
        values: vec![("W1", "Ward 1"), ("W2", "Ward 2")],
    };
    let server = Spec311::start(mode(vec![with(Some(ward))])).await;
    let station = Station::new(
        &server.endpoint(),
        KEY,
        "attributes = { CHANNEL = \"kiosk\", WARD = \"W9\" }",
    );
    let filed = station.file(noise());
    station
        .kiosk()
        .drain_outbox(&station.upstream(), false)
        .await
        .unwrap();
    let (state, _, error) = station.outbox(&filed);
    assert_eq!(state, "failed");
    let error = error.unwrap();
    assert!(
        error.contains("`WARD`") && error.contains("`W1`") && error.contains("`W9`"),
        "{error}"
    );
    assert!(server.taken().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Item 14: doctor.

/// The `upstream` line of `doctor`'s report.
fn upstream_check(config: &Arc<KioskConfig>) -> doctor::Check {
    doctor::run(config)
        .into_iter()
        .find(|c| c.name == "upstream")
        .expect("doctor checks upstream")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_says_the_upstream_is_not_fine_without_the_stations_services_or_with_a_refused_key()
{
    let server = Spec311::start(mode(vec![
        Service::plain("NOISE-311", Kind::Realtime),
        Service::plain("POTHOLE", Kind::Realtime),
    ]))
    .await;
    let check = |station: Station| async move {
        let config = station.config.clone();
        let check = tokio::task::spawn_blocking(move || upstream_check(&config))
            .await
            .unwrap();
        (check, station)
    };

    // None of the station's services (unmapped): FAIL, naming them and the server's.
    let (unmapped, _s) = check(Station::new(&server.endpoint(), KEY, "")).await;
    assert_eq!(
        unmapped.verdict,
        doctor::Verdict::Fail,
        "{}",
        unmapped.detail
    );
    assert!(
        unmapped.detail.contains("none of this station's services"),
        "{}",
        unmapped.detail
    );
    assert!(unmapped.detail.contains("`POTHOLE`"), "{}", unmapped.detail);

    // The key refused: FAIL with the server's own words.
    let mapped = "services = { complaint = \"NOISE-311\" }";
    let (refused, _s) = check(Station::new(&server.endpoint(), WRONG_KEY, mapped)).await;
    assert_eq!(refused.verdict, doctor::Verdict::Fail, "{}", refused.detail);
    assert!(
        refused.detail.contains("refuses the key"),
        "{}",
        refused.detail
    );
    assert!(
        refused.detail.contains("Invalid api_key received"),
        "{}",
        refused.detail
    );

    // Mapped, with the key: answers; the services it lacks are a warning, not a failure.
    let (fine, station) = check(Station::new(&server.endpoint(), KEY, mapped)).await;
    assert_eq!(fine.verdict, doctor::Verdict::Warn, "{}", fine.detail);
    assert!(fine.detail.contains("token accepted"), "{}", fine.detail);
    assert!(
        fine.detail.contains("`legal`"),
        "lists what the server lacks: {}",
        fine.detail
    );
    assert!(server.taken().is_empty(), "doctor files nothing");

    // The binary's `doctor` says the same, and fails, for the refused key.
    let refused = Station::new(&server.endpoint(), WRONG_KEY, mapped);
    let out = refused.cli(&["doctor"]).await;
    assert!(!out.status.success());
    let line = doctor_line(&String::from_utf8_lossy(&out.stdout), "upstream");
    assert!(
        line.starts_with("FAIL") && line.contains("refuses the key"),
        "{line}"
    );
    drop(station);
}

// ---------------------------------------------------------------------------------------------
// Item 14: refusals, their reasons, and what is tried again.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_shows_staff_the_servers_own_reason() {
    let server = Spec311::start(mode(vec![Service::plain("complaint", Kind::Realtime)])).await;
    let station = Station::new(&server.endpoint(), WRONG_KEY, "");
    let filed = station.file(noise());
    let out = station.cli(&["outbox", "flush"]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Invalid api_key received -- can't proceed with create_request."),
        "{stderr}"
    );
    assert!(
        !stderr.contains("bytes"),
        "the reason, not the answer's size: {stderr}"
    );
    let (state, _, error) = station.outbox(&filed);
    assert_eq!(state, "failed", "a refused key is kept for staff");
    assert!(error.unwrap().contains("403"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_refusal_is_tried_again_and_a_permanent_one_is_kept_for_staff() {
    let server = Spec311::start(mode(vec![Service::plain("complaint", Kind::Realtime)])).await;
    let station = Station::new(&server.endpoint(), KEY, "");
    let upstream = station.upstream();
    let filed = station.file(noise());

    // "400 CRM is down", then a 500: the server's trouble. Tried again, and filed once.
    server.refuse_next(&[(400, "CRM is down"), (500, "Internal error")]);
    let first = station
        .kiosk()
        .drain_outbox(&upstream, false)
        .await
        .unwrap();
    assert_eq!((first.retried, first.failed), (1, 0), "{first:?}");
    let (state, _, error) = station.outbox(&filed);
    assert_eq!(state, "pending");
    assert!(error.unwrap().contains("CRM is down"));
    let second = station.kiosk().drain_outbox(&upstream, true).await.unwrap();
    assert_eq!((second.retried, second.failed), (1, 0), "{second:?}");
    let third = station.kiosk().drain_outbox(&upstream, true).await.unwrap();
    assert_eq!(third.delivered.len(), 1, "{third:?}");
    assert_eq!(server.taken().len(), 1);

    // A 400 that names a field the kiosk sent: kept for staff.
    let other = station.file(noise());
    server.refuse_next(&[(400, "attribute[kiosk_risk] has an unknown value")]);
    let report = station
        .kiosk()
        .drain_outbox(&upstream, false)
        .await
        .unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let (state, _, error) = station.outbox(&other);
    assert_eq!(state, "failed");
    assert!(error
        .unwrap()
        .contains("attribute[kiosk_risk] has an unknown value"));
    assert_eq!(server.taken().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Item 14: status, and batch tokens.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wins_over_the_state_named_in_status_notes() {
    let server = Spec311::start(mode(vec![Service::plain("complaint", Kind::Realtime)])).await;
    let station = Station::new(&server.endpoint(), KEY, "");
    let upstream = station.upstream();
    let filed = station.file(noise());
    station
        .kiosk()
        .drain_outbox(&upstream, false)
        .await
        .unwrap();
    let id = server.taken()[0].id;

    let (s, u, case) = (&station, &upstream, &filed.case);
    let state_now = || async move {
        match s.kiosk().progress(case, u).await.unwrap() {
            Progress::Live(p) => p.state,
            other => panic!("{other:?}"),
        }
    };
    server.update(id, "open", "in_progress: crew sent");
    assert_eq!(state_now().await, CaseState::InProgress);
    server.update(id, "closed", "in_progress: crew sent");
    assert_eq!(state_now().await, CaseState::Resolved, "closed is closed");
    server.update(id, "closed", "closed_unresolved: not the city's to mend");
    assert_eq!(state_now().await, CaseState::ClosedUnresolved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_tokens_service_request_id_is_kept_once_the_server_assigns_it() {
    let server = Spec311::start(mode(vec![Service::plain("complaint", Kind::Batch)])).await;
    let station = Station::new(&server.endpoint(), KEY, "");
    let upstream = station.upstream();
    let filed = station.file(noise());
    station
        .kiosk()
        .drain_outbox(&upstream, false)
        .await
        .unwrap();
    let taken = server.taken();
    assert_eq!(
        station.outbox(&filed).1,
        Some(format!("token:{}", taken[0].token))
    );
    // Not assigned yet: asked, still the token, and upstream does not know the case yet.
    let progress = station
        .kiosk()
        .progress(&filed.case, &upstream)
        .await
        .unwrap();
    assert_eq!(progress, Progress::NotYetDelivered);
    assert_eq!(
        station.outbox(&filed).1,
        Some(format!("token:{}", taken[0].token))
    );

    // The city's system assigns the id; the next drain keeps it.
    server.resolve_tokens();
    station
        .kiosk()
        .drain_outbox(&upstream, false)
        .await
        .unwrap();
    assert_eq!(
        station.outbox(&filed).1,
        Some(format!("id:{}", taken[0].id))
    );
    let asked_tokens = server
        .seen()
        .iter()
        .filter(|r| r.contains("/tokens/"))
        .count();
    let progress = station
        .kiosk()
        .progress(&filed.case, &upstream)
        .await
        .unwrap();
    assert!(matches!(progress, Progress::Live(_)), "{progress:?}");
    assert_eq!(
        server
            .seen()
            .iter()
            .filter(|r| r.contains("/tokens/"))
            .count(),
        asked_tokens,
        "followed by its id from then on"
    );
}

// ---------------------------------------------------------------------------------------------
// The same client against a second server: the reference hub's Open311, in XML and by its
// discovery document.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_hub_is_filed_to_in_xml_and_by_its_discovery_document() {
    for setting in ["xml", "discover"] {
        let hub_dir = TempDir::new().unwrap();
        let mut hub_config = hub::HubConfig::new(hub_dir.path());
        hub_config.add_open311_key(KEY, &[STATION_ID]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hub = hub::start(hub_config, listener)
            .await
            .expect("the hub starts");
        let station = Station::new(
            &format!("{}/open311/v2", hub.base_url()),
            KEY,
            &format!("format = \"{setting}\""),
        );
        let filed = station.file(noise());
        let upstream = station.upstream();
        let report = station
            .kiosk()
            .drain_outbox(&upstream, false)
            .await
            .unwrap();
        assert_eq!(report.delivered.len(), 1, "{setting}: {report:?}");
        let (state, reference, _) = station.outbox(&filed);
        assert_eq!(state, "delivered");
        assert!(
            reference.as_deref().is_some_and(|r| r.starts_with("id:")),
            "{setting}: {reference:?}"
        );
        let progress = station
            .kiosk()
            .progress(&filed.case, &upstream)
            .await
            .unwrap();
        let Progress::Live(p) = progress else {
            panic!("{setting}: {progress:?}");
        };
        assert_eq!(p.state, CaseState::Received, "{setting}");
        hub.shutdown().await.unwrap();
    }
}
