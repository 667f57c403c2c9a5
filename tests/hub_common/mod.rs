//! What the hub's integration tests share: a real hub on `127.0.0.1:0` with its own temporary
//! data directory and a clock the test can move, an HTTP client, sample cases, and a check that
//! XML is well-formed. Each test talks to the hub over HTTP, the way a kiosk or a browser does.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{Duration, Utc};
use domain::{Channel, Language, RiskAssessment, TrackingToken};
use hub::{self, Clock, HubConfig, RateLimit, RunningHub, Secret};
use protocol::{CaseSubmission, SubmittedAnswer};
use reqwest::Response;
use serde_json::Value;

pub const STATION_A: &str = "station-a";
pub const STATION_A_TOKEN: &str = "token-of-station-a-0001";
pub const STATION_B: &str = "station-b";
pub const STATION_B_TOKEN: &str = "token-of-station-b-0002";
pub const DEPARTMENT: &str = "housing";
pub const DEPARTMENT_TOKEN: &str = "token-of-housing-dept-03";
pub const OPERATOR_TOKEN: &str = "operator-token-00000004";
pub const OPEN311_KEY: &str = "open311-key-00000000005";

pub use crate::pg_cluster::Sql;

fn to_sqlite(v: &Sql) -> rusqlite::types::Value {
    match v {
        Sql::Null => rusqlite::types::Value::Null,
        Sql::Int(i) => rusqlite::types::Value::Integer(*i),
        Sql::Real(r) => rusqlite::types::Value::Real(*r),
        Sql::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}

/// A text value for [`TestHub::rows`] and [`TestHub::write_untrusted`].
pub fn text(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

/// `GRIEVANCE_TEST_HUB_DATABASE=postgres`: every test hub keeps its data in a database of its
/// own on the tests' PostgreSQL cluster (`tests/pg_cluster`) instead of SQLite. `scripts/test`
/// runs the hub's suite once each way.
pub fn engine_is_postgres() -> bool {
    std::env::var("GRIEVANCE_TEST_HUB_DATABASE").is_ok_and(|v| v == "postgres")
}

pub struct TestHub {
    pub hub: RunningHub,
    pub base: String,
    pub client: reqwest::Client,
    /// Seconds added to the real time: the hub's clock.
    offset: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
    /// The PostgreSQL database's connection string, when the hub runs on one.
    database: Option<String>,
    /// Whether its CHECK constraints are gone (the first untrusted write drops them).
    checks_dropped: std::sync::atomic::AtomicBool,
}

impl TestHub {
    /// A hub with two stations, one department, an operator and an Open311 key, and a
    /// tracking limit too high to matter.
    pub async fn start() -> TestHub {
        TestHub::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut HubConfig)) -> TestHub {
        TestHub::start_at(None, adjust).await
    }

    /// A hub whose clock starts at `at` (the real time without it) and moves only with
    /// [`TestHub::advance`] and the real seconds that pass.
    pub async fn start_at(
        at: Option<chrono::DateTime<Utc>>,
        adjust: impl FnOnce(&mut HubConfig),
    ) -> TestHub {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let offset = Arc::new(AtomicI64::new(
            at.map_or(0, |at| (at - Utc::now()).num_seconds()),
        ));
        let clock_offset = Arc::clone(&offset);
        let mut config = HubConfig::new(dir.path())
            .with_station(STATION_A, STATION_A_TOKEN)
            .with_station(STATION_B, STATION_B_TOKEN);
        config.department_tokens = vec![(DEPARTMENT.into(), Secret::new(DEPARTMENT_TOKEN))];
        config.operator_token = Some(Secret::new(OPERATOR_TOKEN));
        config.open311_api_keys = vec![Secret::new(OPEN311_KEY)];
        config
            .station_names
            .insert(STATION_A.into(), "万达广场站".into());
        config.tracking_limit = RateLimit {
            per_minute: 100_000,
            burst: 100_000,
        };
        config.clock = Clock::from_fn(move || {
            Utc::now() + Duration::seconds(clock_offset.load(Ordering::SeqCst))
        });
        let mut database_url = None;
        if engine_is_postgres() {
            let url = crate::pg_cluster::shared().new_database();
            let mut database =
                hub::store::PostgresConfig::new(&url).expect("the cluster's connection string");
            database.pool = 4;
            config.database = Some(database);
            database_url = Some(url);
        }
        adjust(&mut config);
        // Where the hub really keeps its data (a test may have chosen the directory).
        let data_dir = config.data_dir.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let hub = hub::start(config, listener).await.expect("the hub starts");
        let base = hub.base_url();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        TestHub {
            hub,
            base,
            client,
            offset,
            data_dir,
            _dir: dir,
            database: database_url,
            checks_dropped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The hub's clock now.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset.load(Ordering::SeqCst))
    }

    /// The hub's clock as a function, for another part of the test (a kiosk) to read the
    /// same time: the test's one clock.
    pub fn clock(&self) -> impl Fn() -> chrono::DateTime<Utc> + Send + Sync + 'static {
        let offset = Arc::clone(&self.offset);
        move || Utc::now() + Duration::seconds(offset.load(Ordering::SeqCst))
    }

    /// Moves the hub's clock forward.
    pub fn advance(&self, by: Duration) {
        self.offset.fetch_add(by.num_seconds(), Ordering::SeqCst);
    }

    /// The rows of `sql` (parameters `?1` …) on the hub's database, beside the running hub,
    /// whichever the engine.
    pub fn rows(&self, sql: &str, params: &[Sql]) -> Vec<Vec<Sql>> {
        match &self.database {
            Some(url) => crate::pg_cluster::rows(url, sql, params),
            None => {
                let db = rusqlite::Connection::open_with_flags(
                    self.data_dir.join("hub.sqlite3"),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("the hub's database opens");
                let mut stmt = db.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let columns = stmt.column_count();
                let values: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
                let mut found = stmt
                    .query(rusqlite::params_from_iter(values.iter()))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let mut out = Vec::new();
                while let Some(r) = found.next().unwrap() {
                    out.push(
                        (0..columns)
                            .map(|i| match r.get_ref(i).unwrap() {
                                rusqlite::types::ValueRef::Null => Sql::Null,
                                rusqlite::types::ValueRef::Integer(v) => Sql::Int(v),
                                rusqlite::types::ValueRef::Real(v) => Sql::Real(v),
                                rusqlite::types::ValueRef::Text(t) => {
                                    Sql::Text(String::from_utf8_lossy(t).into_owned())
                                }
                                rusqlite::types::ValueRef::Blob(b) => {
                                    Sql::Text(String::from_utf8_lossy(b).into_owned())
                                }
                            })
                            .collect(),
                    );
                }
                out
            }
        }
    }

    /// The first row of `sql`, which must have one.
    pub fn one(&self, sql: &str, params: &[Sql]) -> Vec<Sql> {
        self.rows(sql, params)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no row: {sql}"))
    }

    /// Writes straight into the hub's database beside the running hub, with its CHECK
    /// constraints off (dropped, on PostgreSQL): for rows the hub itself would never write (a
    /// restored backup, a hand edit), to prove that every page survives them. Rows changed.
    pub fn write_untrusted(&self, sql: &str, params: &[Sql]) -> u64 {
        self.write_untrusted_each(sql, &[params.to_vec()])
    }

    /// [`TestHub::write_untrusted`] once per entry of `each`, in one transaction.
    pub fn write_untrusted_each(&self, sql: &str, each: &[Vec<Sql>]) -> u64 {
        match &self.database {
            Some(url) => {
                if !self.checks_dropped.swap(true, Ordering::SeqCst) {
                    crate::pg_cluster::drop_checks(url);
                }
                crate::pg_cluster::write(url, sql, each)
            }
            None => {
                let mut conn = rusqlite::Connection::open(self.data_dir.join("hub.sqlite3"))
                    .expect("the hub's database opens");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("a busy timeout");
                conn.pragma_update(None, "ignore_check_constraints", true)
                    .expect("checks can be turned off");
                let tx = conn.transaction().expect("a transaction");
                let mut changed = 0;
                for params in each {
                    let values: Vec<rusqlite::types::Value> =
                        params.iter().map(to_sqlite).collect();
                    changed += tx
                        .execute(sql, rusqlite::params_from_iter(values.iter()))
                        .unwrap_or_else(|e| panic!("{sql}: {e}"))
                        as u64;
                }
                tx.commit().expect("the writes commit");
                changed
            }
        }
    }

    /// Holds the hub's database's write lock from another connection until the guard is
    /// dropped (as a backup or a long write would): every write of the hub waits for it,
    /// reads do not.
    pub fn hold_write_lock(&self) -> Box<dyn std::any::Any> {
        match &self.database {
            Some(url) => Box::new(crate::pg_cluster::hold(
                url,
                "LOCK TABLE cases IN EXCLUSIVE MODE",
            )),
            None => {
                let holder = rusqlite::Connection::open(self.data_dir.join("hub.sqlite3"))
                    .expect("the hub's database opens");
                holder
                    .execute_batch("BEGIN IMMEDIATE")
                    .expect("the write lock");
                // Dropping the connection ends its transaction (rolled back).
                Box::new(holder)
            }
        }
    }

    pub fn count(&self, table: &str) -> i64 {
        self.one(&format!("SELECT count(*) FROM {table}"), &[])[0].int()
    }

    /// `POST /api/v1/cases` with `token` and the case id as the idempotency key.
    pub async fn submit(&self, token: &str, case: &CaseSubmission) -> Response {
        self.client
            .post(self.url("/api/v1/cases"))
            .bearer_auth(token)
            .header("Idempotency-Key", &case.id)
            .json(case)
            .send()
            .await
            .expect("the hub answers")
    }

    /// Files `case` as station A and expects it to be created.
    pub async fn file(&self, case: &CaseSubmission) {
        let r = self.submit(STATION_A_TOKEN, case).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }

    pub async fn post_event(&self, token: &str, code: &str, update: Value) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/departments/cases/{code}/events")))
            .bearer_auth(token)
            .json(&update)
            .send()
            .await
            .expect("the hub answers")
    }

    /// Posts `update` as the department and expects it to be applied.
    pub async fn department_says(&self, code: &str, update: Value) -> Value {
        let r = self.post_event(DEPARTMENT_TOKEN, code, update).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        r.json().await.expect("a CaseProgress")
    }

    pub async fn heartbeat(&self, token: &str, beat: Value) -> Response {
        self.client
            .post(self.url("/api/v1/heartbeat"))
            .bearer_auth(token)
            .json(&beat)
            .send()
            .await
            .expect("the hub answers")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("the hub answers")
    }

    /// The operator page's HTML.
    pub async fn operator_page(&self) -> String {
        let r = self
            .client
            .get(self.url("/operator?lang=en"))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .expect("the hub answers");
        assert_eq!(r.status(), 200);
        r.text().await.expect("a page")
    }
}

pub fn new_token() -> TrackingToken {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("randomness");
    TrackingToken::from_random(bytes)
}

/// A noise complaint from `station`, with a phone number, a description and answers: all the
/// personal data a case can carry.
pub fn sample_case(station: &str) -> CaseSubmission {
    CaseSubmission {
        id: uuid::Uuid::now_v7().hyphenated().to_string(),
        token: new_token().as_str().to_owned(),
        station_id: station.to_owned(),
        service: "complaint".into(),
        subtype: "noise".into(),
        service_name: "投诉建议".into(),
        subtype_name: "噪音扰民".into(),
        answers: vec![SubmittedAnswer {
            question: "source".into(),
            question_label: "噪音来自哪里？".into(),
            value: "renovation".into(),
            value_label: "装修施工-ANSWER-MARK".into(),
        }],
        description: Some("楼上每晚十一点后装修-DESCRIPTION-MARK".into()),
        phone: Some("13812345678".into()),
        anonymous: false,
        consent_version: "2024-01".into(),
        risk: RiskAssessment::default(),
        language: Language::Zh,
        channel: Channel::Kiosk,
        filed_at: Utc::now(),
    }
}

/// Checks that `xml` is well-formed: one root, every tag closed in order, attributes quoted,
/// only the five named entities or character references, no stray `<` or `&` in text.
pub fn assert_well_formed_xml(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .unwrap_or_else(|| panic!("no XML declaration: {xml}"))
        .trim_start();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {xml}"));
            let tag = &after[..end];
            assert!(!tag.contains('<'), "`<` inside a tag in {xml}");
            if let Some(name) = tag.strip_prefix('/') {
                let open = stack
                    .pop()
                    .unwrap_or_else(|| panic!("stray </{name}> in {xml}"));
                assert_eq!(open, name, "</{name}> closes <{open}> in {xml}");
            } else {
                let self_closing = tag.ends_with('/');
                let name = tag
                    .trim_end_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                assert!(
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c)),
                    "bad tag name `{name}` in {xml}"
                );
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name.to_owned());
                }
            }
            rest = &after[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            assert!(
                !stack.is_empty() || text.trim().is_empty(),
                "text outside the root in {xml}"
            );
            let mut t = text;
            while let Some(i) = t.find('&') {
                let entity = &t[i..];
                let semi = entity
                    .find(';')
                    .unwrap_or_else(|| panic!("bare & in {xml}"));
                let name = &entity[1..semi];
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name) || name.starts_with('#'),
                    "unknown entity &{name}; in {xml}"
                );
                t = &entity[semi + 1..];
            }
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?} in {xml}");
    assert_eq!(roots, 1, "one root element expected in {xml}");
}

/// The text of the first `<name>…</name>` in `xml`.
pub fn xml_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

/// A loopback port held for later: bound but not listening, so that connecting to it is
/// refused (as to a hub that is down) and no other test can take it meanwhile; `listen` opens
/// it. (A port found free, released and bound again later may have been taken in between.)
pub struct HeldPort {
    socket: std::os::fd::OwnedFd,
    pub port: u16,
}

impl HeldPort {
    pub fn new() -> HeldPort {
        use std::os::fd::FromRawFd;
        // SAFETY: plain socket calls on a descriptor this function owns; the address structures
        // are zeroed and sized as the calls expect.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "a socket: {}", std::io::Error::last_os_error());
            let socket = std::os::fd::OwnedFd::from_raw_fd(fd);
            let mut address: libc::sockaddr_in = std::mem::zeroed();
            address.sin_family = libc::AF_INET as libc::sa_family_t;
            address.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let bound = libc::bind(fd, (&raw const address).cast(), size);
            assert_eq!(bound, 0, "bound: {}", std::io::Error::last_os_error());
            let mut len = size;
            let named = libc::getsockname(fd, (&raw mut address).cast(), &mut len);
            assert_eq!(named, 0, "its name: {}", std::io::Error::last_os_error());
            HeldPort {
                socket,
                port: u16::from_be(address.sin_port),
            }
        }
    }

    /// The port, now taking connections.
    pub fn listen(self) -> std::net::TcpListener {
        use std::os::fd::AsRawFd;
        // SAFETY: listen on the descriptor this value owns.
        let listening = unsafe { libc::listen(self.socket.as_raw_fd(), 128) };
        assert_eq!(
            listening,
            0,
            "listening: {}",
            std::io::Error::last_os_error()
        );
        std::net::TcpListener::from(self.socket)
    }
}
