//! The hub's configuration: [`HubConfig`], built by code (the kiosk's in-process hub, tests) or
//! from the `HUB_*` environment variables (the `grievance-hub` binary). A malformed variable
//! stops start-up with one line that names it; nothing is guessed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use domain::calendar::Calendar;
use domain::district::District;
use domain::Catalogue;

use super::auth::Secret;
use super::clock::Clock;
use super::store::PostgresConfig;

/// Where the hub listens unless told otherwise.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// The data directory unless told otherwise (relative to the working directory).
pub(crate) const DEFAULT_DATA_DIR: &str = "hub-data";
/// The shortest token or key the hub accepts: anything shorter can be guessed.
pub(crate) const MIN_SECRET_LEN: usize = 16;

#[derive(Debug, Clone)]
pub struct HubConfig {
    /// `HUB_LISTEN`; only read by the binary (a library caller binds its own listener).
    pub listen: SocketAddr,
    /// `HUB_DATA_DIR`: holds `hub.sqlite3`.
    pub data_dir: PathBuf,
    /// `HUB_DATABASE_URL` (with `HUB_DATABASE_POOL` and `HUB_DATABASE_STATEMENT_TIMEOUT`): the
    /// data in PostgreSQL instead of `data_dir`.
    pub database: Option<PostgresConfig>,
    /// `HUB_STATION_TOKENS`: station id → its token.
    pub(crate) station_tokens: Vec<(String, Secret)>,
    /// `HUB_DEPARTMENT_TOKENS`: department id → its token.
    pub department_tokens: Vec<(String, Secret)>,
    /// `HUB_OPEN311_API_KEYS`: every Open311 `api_key` the hub accepts.
    pub open311_api_keys: Vec<Secret>,
    /// The stations a key of `open311_api_keys` is tied to (`key=st-1+st-2` in
    /// `HUB_OPEN311_API_KEYS`): it files only as one of them, and may set the risk. A key not
    /// listed here files as the hub's own `open311` source and may set neither
    /// `attribute[kiosk_station_id]` nor `attribute[kiosk_risk]`. Add keys with
    /// [`HubConfig::add_open311_key`], which keeps the two lists together.
    pub open311_key_stations: Vec<(Secret, Vec<String>)>,
    /// `HUB_OPEN311_PUBLIC_READ`: `GET requests`, `requests/{id}` and `tokens/{code}` answer
    /// without a key, as the specification has it. Off by default: the requests are residents'
    /// grievances (what, when, where, how far along), even without a description or contact.
    pub open311_public_read: bool,
    /// `HUB_OPERATOR_TOKEN`; without it the operator page refuses everybody.
    pub operator_token: Option<Secret>,
    /// `HUB_STATION_NAMES`: station id → the name the tracking and operator pages show.
    pub station_names: BTreeMap<String, String>,
    /// `HUB_TRACKING_RATE` and `HUB_TRACKING_BURST`: requests to the tracking page per client.
    pub tracking_limit: RateLimit,
    /// `HUB_TRUST_FORWARDED_FOR`: take the client address from `X-Forwarded-For` (only behind
    /// a reverse proxy that sets it; otherwise any client could pick its own address).
    pub trust_forwarded_for: bool,
    /// The services (codes, names, which are discreet): the kiosk's built-in catalogue unless a
    /// caller passes its own.
    pub(crate) catalogue: Catalogue,
    /// `HUB_DISTRICT_FILE`: the district's tree, routing rules, classes and deadlines
    /// (DISTRICT.md §2–§4); the built-in demo district without it.
    pub district: District,
    /// `HUB_CALENDAR_FILE`: the working calendar (holidays, 调休, working hours); the built-in
    /// one without it.
    pub calendar: Calendar,
    /// `HUB_COOKIE_SECURE`: the session cookie is sent over HTTPS only (set it whenever the
    /// hub is reached through TLS, as it should be outside a test).
    pub cookie_secure: bool,
    /// `HUB_WEBHOOK_TIMEOUT`: seconds a unit's webhook may take to answer (default 10).
    pub webhook_timeout: std::time::Duration,
    pub clock: Clock,
    /// Whether the hub runs its periodic jobs every minute by itself (always, in service).
    /// `false`: only when its caller asks ([`crate::RunningHub::run_due_jobs`]), so that a
    /// benchmark times every pass it makes and no other.
    pub run_ticker: bool,
}

/// A token bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimit {
    /// Enough for a citizen reloading a page, far too few for guessing codes.
    fn default() -> RateLimit {
        RateLimit {
            per_minute: 30,
            burst: 10,
        }
    }
}

/// A `HUB_*` variable that cannot be used, with the variable's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct HubConfigError {
    pub(crate) variable: &'static str,
    pub(crate) problem: String,
}

impl HubConfig {
    /// Defaults with the data in `data_dir`: no station, department, key or operator yet.
    pub fn new(data_dir: impl Into<PathBuf>) -> HubConfig {
        HubConfig {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            data_dir: data_dir.into(),
            database: None,
            station_tokens: Vec::new(),
            department_tokens: Vec::new(),
            open311_api_keys: Vec::new(),
            open311_key_stations: Vec::new(),
            open311_public_read: false,
            operator_token: None,
            station_names: BTreeMap::new(),
            tracking_limit: RateLimit::default(),
            trust_forwarded_for: false,
            catalogue: Catalogue::builtin(),
            district: District::demo(),
            calendar: Calendar::builtin(),
            cookie_secure: false,
            webhook_timeout: std::time::Duration::from_secs(10),
            clock: Clock::system(),
            run_ticker: true,
        }
    }

    /// Reads the `HUB_*` variables through `env` (the binary passes `std::env::var`).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<HubConfig, HubConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut config = HubConfig::new(
            get("HUB_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        );
        if let Some(url) = get("HUB_DATABASE_URL") {
            let mut database =
                PostgresConfig::new(url.trim()).map_err(|problem| HubConfigError {
                    variable: "HUB_DATABASE_URL",
                    problem,
                })?;
            if let Some(v) = get("HUB_DATABASE_POOL") {
                database.pool = positive("HUB_DATABASE_POOL", &v)?;
            }
            if let Some(v) = get("HUB_DATABASE_STATEMENT_TIMEOUT") {
                database.statement_timeout = std::time::Duration::from_secs(u64::from(positive(
                    "HUB_DATABASE_STATEMENT_TIMEOUT",
                    &v,
                )?));
            }
            config.database = Some(database);
        } else {
            for variable in ["HUB_DATABASE_POOL", "HUB_DATABASE_STATEMENT_TIMEOUT"] {
                if get(variable).is_some() {
                    return Err(HubConfigError {
                        variable,
                        problem: "set without HUB_DATABASE_URL (it applies to PostgreSQL only)"
                            .into(),
                    });
                }
            }
        }
        if let Some(v) = get("HUB_LISTEN") {
            config.listen = v.trim().parse().map_err(|_| HubConfigError {
                variable: "HUB_LISTEN",
                problem: format!(
                    "`{}` is not an address and port such as {DEFAULT_LISTEN}",
                    v.trim()
                ),
            })?;
        }
        let mut station_tokens = match get("HUB_STATION_TOKENS") {
            Some(v) => pairs("HUB_STATION_TOKENS", &v, true)?,
            None => Vec::new(),
        };
        if let Some(path) = get("HUB_STATION_TOKENS_FILE") {
            station_tokens = station_tokens_file(path.trim(), station_tokens)?;
        }
        config.station_tokens = station_tokens
            .into_iter()
            .map(|(id, token)| (id, Secret::new(token)))
            .collect();
        if let Some(v) = get("HUB_DEPARTMENT_TOKENS") {
            config.department_tokens = pairs("HUB_DEPARTMENT_TOKENS", &v, true)?
                .into_iter()
                .map(|(id, token)| (id, Secret::new(token)))
                .collect();
        }
        if let Some(v) = get("HUB_OPEN311_API_KEYS") {
            let mut seen: Vec<&str> = Vec::new();
            for (n, entry) in v.split(',').map(str::trim).enumerate() {
                let (key, stations) = open311_key_entry(entry);
                let what = format!("key {}", n + 1);
                check_secret("HUB_OPEN311_API_KEYS", &what, key)?;
                if seen.contains(&key) {
                    return Err(HubConfigError {
                        variable: "HUB_OPEN311_API_KEYS",
                        problem: format!("{what} is also an earlier entry's key"),
                    });
                }
                seen.push(key);
                config.add_open311_key(key, &stations);
            }
        }
        if let Some(v) = get("HUB_OPEN311_PUBLIC_READ") {
            config.open311_public_read = boolean("HUB_OPEN311_PUBLIC_READ", &v)?;
        }
        if let Some(v) = get("HUB_OPERATOR_TOKEN") {
            check_secret("HUB_OPERATOR_TOKEN", "the token", v.trim())?;
            config.operator_token = Some(Secret::new(v.trim()));
        }
        if let Some(v) = get("HUB_STATION_NAMES") {
            config.station_names = pairs("HUB_STATION_NAMES", &v, false)?.into_iter().collect();
        }
        if let Some(v) = get("HUB_TRACKING_RATE") {
            config.tracking_limit.per_minute = positive("HUB_TRACKING_RATE", &v)?;
        }
        if let Some(v) = get("HUB_TRACKING_BURST") {
            config.tracking_limit.burst = positive("HUB_TRACKING_BURST", &v)?;
        }
        if let Some(v) = get("HUB_TRUST_FORWARDED_FOR") {
            config.trust_forwarded_for = boolean("HUB_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = get("HUB_WEBHOOK_TIMEOUT") {
            config.webhook_timeout =
                std::time::Duration::from_secs(u64::from(positive("HUB_WEBHOOK_TIMEOUT", &v)?));
        }
        if let Some(v) = get("HUB_COOKIE_SECURE") {
            config.cookie_secure = boolean("HUB_COOKIE_SECURE", &v)?;
        }
        if let Some(path) = get("HUB_DISTRICT_FILE") {
            let text = read_file("HUB_DISTRICT_FILE", path.trim())?;
            config.district = District::parse(&text).map_err(|e| HubConfigError {
                variable: "HUB_DISTRICT_FILE",
                problem: format!("{}: {e}", path.trim()),
            })?;
        }
        if let Some(path) = get("HUB_CALENDAR_FILE") {
            let text = read_file("HUB_CALENDAR_FILE", path.trim())?;
            config.calendar = Calendar::parse(&text).map_err(|e| HubConfigError {
                variable: "HUB_CALENDAR_FILE",
                problem: format!("{}: {e}", path.trim()),
            })?;
        }
        // A key tied to a station the hub has never heard of is a typo: refused at start-up,
        // not discovered when every request of that key is refused.
        for (n, (_, stations)) in config.open311_key_stations.iter().enumerate() {
            for station in stations {
                let known = config.station_tokens.iter().any(|(id, _)| id == station)
                    || config.station_names.contains_key(station);
                if !known {
                    return Err(HubConfigError {
                        variable: "HUB_OPEN311_API_KEYS",
                        problem: format!(
                            "tied key {}: `{station}` is not a station of HUB_STATION_TOKENS or \
                             HUB_STATION_NAMES",
                            n + 1
                        ),
                    });
                }
            }
        }
        Ok(config)
    }

    /// Accepts the Open311 `key`, tied to `stations` (none: it files as the hub's own
    /// `open311` source). Replaces an earlier entry for the same key.
    pub fn add_open311_key(&mut self, key: &str, stations: &[&str]) {
        self.open311_api_keys.retain(|k| !k.matches(key));
        self.open311_key_stations.retain(|(k, _)| !k.matches(key));
        self.open311_api_keys.push(Secret::new(key));
        if !stations.is_empty() {
            self.open311_key_stations.push((
                Secret::new(key),
                stations.iter().map(|s| (*s).to_owned()).collect(),
            ));
        }
    }

    /// Accepts `token` for `station_id` (before the hub starts; see also
    /// [`super::RunningHub::set_station_token`]).
    pub fn with_station(mut self, station_id: &str, token: &str) -> HubConfig {
        self.add_station(station_id, token);
        self
    }

    /// Forgets every station's token (before the hub starts).
    pub fn clear_stations(&mut self) {
        self.station_tokens.clear();
    }

    /// Accepts `token` for `station_id` (before the hub starts).
    pub fn add_station(&mut self, station_id: &str, token: &str) {
        self.station_tokens.retain(|(id, _)| id != station_id);
        self.station_tokens
            .push((station_id.to_owned(), Secret::new(token)));
    }
}

/// A configuration file's text; the error names the variable and the file.
fn read_file(variable: &'static str, path: &str) -> Result<String, HubConfigError> {
    std::fs::read_to_string(path).map_err(|e| HubConfigError {
        variable,
        problem: format!("cannot read {path}: {e}"),
    })
}

/// Whether `id` may name a station or a department: letters, digits, `.`, `_`, `-`, at most 64.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `id=value,id=value`. With `secrets`, each value must be a usable token and no two entries
/// may share one (a token must name exactly one caller).
fn pairs(
    variable: &'static str,
    text: &str,
    secrets: bool,
) -> Result<Vec<(String, String)>, HubConfigError> {
    let mut pairs = Pairs::new(variable, secrets);
    for (n, entry) in text.split(',').map(str::trim).enumerate() {
        pairs.add(
            &format!("entry {}", n + 1),
            entry,
            "entries are separated by commas",
        )?;
    }
    Ok(pairs.out)
}

/// `HUB_STATION_TOKENS_FILE`: one `station-id=token` a line (`#` starts a comment line), for a
/// fleet too large for a variable (a province's 30,000 stations would be a megabyte). Its
/// entries join those of `HUB_STATION_TOKENS`, and no id or token may be in both.
fn station_tokens_file(
    path: &str,
    earlier: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, HubConfigError> {
    const VARIABLE: &str = "HUB_STATION_TOKENS_FILE";
    let text = read_file(VARIABLE, path)?;
    let mut pairs = Pairs::new(VARIABLE, true);
    for (id, token) in &earlier {
        pairs.ids.insert(id.clone());
        pairs.values.insert(token.clone());
    }
    pairs.out = earlier;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        pairs.add(
            &format!("{path} line {}", n + 1),
            line,
            "one `station-id=token` a line",
        )?;
    }
    Ok(pairs.out)
}

/// `id=value` entries being read, each id and (for secrets) each value once.
struct Pairs {
    variable: &'static str,
    secrets: bool,
    out: Vec<(String, String)>,
    ids: std::collections::HashSet<String>,
    values: std::collections::HashSet<String>,
}

impl Pairs {
    fn new(variable: &'static str, secrets: bool) -> Pairs {
        Pairs {
            variable,
            secrets,
            out: Vec::new(),
            ids: Default::default(),
            values: Default::default(),
        }
    }

    /// Adds `entry`, found at `place` ("entry 3", "stations.txt line 3").
    fn add(&mut self, place: &str, entry: &str, shape: &str) -> Result<(), HubConfigError> {
        let variable = self.variable;
        let err = |problem: String| HubConfigError { variable, problem };
        let Some((id, value)) = entry.split_once('=') else {
            return Err(err(format!("{place} is not `id=value` ({shape})")));
        };
        let (id, value) = (id.trim(), value.trim());
        if !is_valid_id(id) {
            return Err(err(format!(
                "{place}: `{id}` is not an id (letters, digits, `.`, `_`, `-`, at most 64)"
            )));
        }
        if !self.ids.insert(id.to_owned()) {
            return Err(err(format!("`{id}` appears twice")));
        }
        if self.secrets {
            check_secret(variable, &format!("the token of `{id}`"), value)?;
            if !self.values.insert(value.to_owned()) {
                return Err(err(format!(
                    "the token of `{id}` is also another entry's token"
                )));
            }
        } else if value.is_empty() || value.chars().count() > 100 {
            return Err(err(format!(
                "{place}: the value must have 1 to 100 characters"
            )));
        }
        self.out.push((id.to_owned(), value.to_owned()));
        Ok(())
    }
}

/// One entry of `HUB_OPEN311_API_KEYS`: `key` or `key=station+station`. The split is at the
/// last `=`, and only when what follows is a list of station ids, so that a key which itself
/// ends in `=` (base64 padding) is still read as a key.
fn open311_key_entry(entry: &str) -> (&str, Vec<&str>) {
    if let Some((key, list)) = entry.rsplit_once('=') {
        let stations: Vec<&str> = list.split('+').map(str::trim).collect();
        if !list.trim().is_empty() && stations.iter().all(|s| is_valid_id(s)) {
            return (key.trim(), stations);
        }
    }
    (entry, Vec::new())
}

fn boolean(variable: &'static str, value: &str) -> Result<bool, HubConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(HubConfigError {
            variable,
            problem: format!("`{other}` is not true or false"),
        }),
    }
}

fn check_secret(variable: &'static str, what: &str, value: &str) -> Result<(), HubConfigError> {
    if value.chars().count() < MIN_SECRET_LEN {
        return Err(HubConfigError {
            variable,
            problem: format!("{what} is shorter than {MIN_SECRET_LEN} characters"),
        });
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HubConfigError {
            variable,
            problem: format!("{what} may only hold visible ASCII characters"),
        });
    }
    Ok(())
}

fn positive(variable: &'static str, value: &str) -> Result<u32, HubConfigError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(HubConfigError {
            variable,
            problem: format!("`{}` is not a whole number above zero", value.trim()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn postgresql_is_chosen_by_its_url_and_its_companions_need_it() {
        let c = HubConfig::from_env(env(&[
            (
                "HUB_DATABASE_URL",
                "postgres://hub:pw-never-shown@db.example/hub",
            ),
            ("HUB_DATABASE_POOL", "4"),
            ("HUB_DATABASE_STATEMENT_TIMEOUT", "3"),
        ]))
        .unwrap();
        let database = c.database.expect("PostgreSQL is chosen");
        assert_eq!(database.pool, 4);
        assert_eq!(
            database.statement_timeout,
            std::time::Duration::from_secs(3)
        );
        assert!(HubConfig::from_env(env(&[])).unwrap().database.is_none());

        let e = error_of(&[("HUB_DATABASE_POOL", "4")]);
        assert_eq!(e.variable, "HUB_DATABASE_POOL");
        let e = error_of(&[("HUB_DATABASE_URL", "postgres://hub:pw-never-shown@[::1/hub")]);
        assert_eq!(e.variable, "HUB_DATABASE_URL");
        assert!(!e.problem.contains("pw-never-shown"), "{}", e.problem);
        let e = error_of(&[
            ("HUB_DATABASE_URL", "postgres://hub@db.example/hub"),
            ("HUB_DATABASE_POOL", "0"),
        ]);
        assert_eq!(e.variable, "HUB_DATABASE_POOL");
    }

    fn error_of(vars: &[(&str, &str)]) -> HubConfigError {
        HubConfig::from_env(env(vars)).expect_err("the configuration is refused")
    }

    #[test]
    fn no_variables_give_the_documented_defaults() {
        let c = HubConfig::from_env(|_| None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert!(c.station_tokens.is_empty() && c.operator_token.is_none());
        assert_eq!(c.tracking_limit, RateLimit::default());
        assert!(!c.trust_forwarded_for);
        assert_eq!(c.catalogue.services.len(), 5);
    }

    #[test]
    fn every_variable_is_read() {
        let c = HubConfig::from_env(env(&[
            ("HUB_LISTEN", "0.0.0.0:9000"),
            ("HUB_DATA_DIR", "/var/lib/grievance-hub"),
            (
                "HUB_STATION_TOKENS",
                "mall-1=aaaaaaaaaaaaaaaa1, hospital-2=bbbbbbbbbbbbbbbb2",
            ),
            ("HUB_DEPARTMENT_TOKENS", "housing=cccccccccccccccc3"),
            (
                "HUB_OPEN311_API_KEYS",
                "dddddddddddddddd4,eeeeeeeeeeeeeeee5=mall-1+hospital-2, gggggggggggggg==",
            ),
            ("HUB_OPEN311_PUBLIC_READ", "yes"),
            ("HUB_OPERATOR_TOKEN", "ffffffffffffffff6"),
            ("HUB_STATION_NAMES", "mall-1=万达广场站"),
            ("HUB_TRACKING_RATE", "600"),
            ("HUB_TRACKING_BURST", "50"),
            ("HUB_TRUST_FORWARDED_FOR", "true"),
        ]))
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.station_tokens.len(), 2);
        assert_eq!(c.station_tokens[1].0, "hospital-2");
        assert!(c.station_tokens[1].1.matches("bbbbbbbbbbbbbbbb2"));
        assert_eq!(c.department_tokens[0].0, "housing");
        assert_eq!(c.open311_api_keys.len(), 3);
        assert!(c.open311_api_keys[1].matches("eeeeeeeeeeeeeeee5"));
        assert!(c.open311_api_keys[2].matches("gggggggggggggg=="));
        assert_eq!(c.open311_key_stations.len(), 1);
        assert!(c.open311_key_stations[0].0.matches("eeeeeeeeeeeeeeee5"));
        assert_eq!(c.open311_key_stations[0].1, ["mall-1", "hospital-2"]);
        assert!(c.open311_public_read);
        assert!(c.operator_token.unwrap().matches("ffffffffffffffff6"));
        assert_eq!(c.station_names["mall-1"], "万达广场站");
        assert_eq!(
            c.tracking_limit,
            RateLimit {
                per_minute: 600,
                burst: 50
            }
        );
        assert!(c.trust_forwarded_for);
    }

    #[test]
    fn each_malformed_variable_is_named_in_the_error() {
        let cases: &[(&str, &str)] = &[
            ("HUB_LISTEN", "localhost"),
            ("HUB_STATION_TOKENS", "mall-1"),
            ("HUB_STATION_TOKENS", "mall-1=short"),
            ("HUB_STATION_TOKENS", "bad id=aaaaaaaaaaaaaaaa1"),
            (
                "HUB_STATION_TOKENS",
                "a=aaaaaaaaaaaaaaaa1,a=bbbbbbbbbbbbbbbb1",
            ),
            (
                "HUB_STATION_TOKENS",
                "a=aaaaaaaaaaaaaaaa1,b=aaaaaaaaaaaaaaaa1",
            ),
            ("HUB_DEPARTMENT_TOKENS", "housing=short"),
            ("HUB_OPEN311_API_KEYS", "dddddddddddddddd4,,"),
            ("HUB_OPEN311_API_KEYS", "short=mall-1"),
            (
                "HUB_OPEN311_API_KEYS",
                "dddddddddddddddd4,dddddddddddddddd4=mall-1",
            ),
            ("HUB_OPEN311_API_KEYS", "dddddddddddddddd4=nowhere"),
            ("HUB_OPEN311_PUBLIC_READ", "sometimes"),
            ("HUB_OPERATOR_TOKEN", "tiny"),
            ("HUB_STATION_NAMES", "mall-1"),
            ("HUB_TRACKING_RATE", "0"),
            ("HUB_TRACKING_BURST", "many"),
            ("HUB_TRUST_FORWARDED_FOR", "perhaps"),
        ];
        for (variable, value) in cases {
            let e = error_of(&[(variable, value)]);
            assert_eq!(e.variable, *variable, "{value}");
            let line = e.to_string();
            assert!(line.starts_with(variable), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    /// The province's example environment file (deploy/province/hub.env.example) is read as
    /// written: every line a variable the hub knows, its values accepted (the stations' file
    /// put in a temporary directory).
    #[test]
    fn the_provinces_example_environment_is_read_as_written() {
        let example = include_str!("../../../deploy/province/hub.env.example");
        let dir = tempfile::tempdir().unwrap();
        let stations = dir.path().join("stations.txt");
        std::fs::write(&stations, "CHANGE-ME-station-id=CHANGE-ME-station-token\n").unwrap();
        let mut vars: Vec<(String, String)> = Vec::new();
        for line in example.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line.split_once('=').expect("NAME=value");
            assert!(
                name.starts_with("HUB_") && HELP_NAMES.contains(&name),
                "{name} is a variable of the hub"
            );
            let value = match name {
                "HUB_STATION_TOKENS_FILE" => stations.to_str().unwrap().to_owned(),
                _ => value.to_owned(),
            };
            vars.push((name.to_owned(), value));
        }
        let c = HubConfig::from_env(|name| {
            vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
        })
        .expect("the example is a configuration the hub takes");
        let database = c.database.expect("PostgreSQL");
        assert_eq!(database.pool, 16);
        assert_eq!(
            database.statement_timeout,
            std::time::Duration::from_secs(10)
        );
        assert_eq!(c.station_tokens.len(), 1);
        assert!(c.operator_token.is_some());
    }

    /// The variables `from_env` reads.
    const HELP_NAMES: &[&str] = &[
        "HUB_LISTEN",
        "HUB_DATA_DIR",
        "HUB_DATABASE_URL",
        "HUB_DATABASE_POOL",
        "HUB_DATABASE_STATEMENT_TIMEOUT",
        "HUB_STATION_TOKENS",
        "HUB_STATION_TOKENS_FILE",
        "HUB_DEPARTMENT_TOKENS",
        "HUB_OPEN311_API_KEYS",
        "HUB_OPEN311_PUBLIC_READ",
        "HUB_OPERATOR_TOKEN",
        "HUB_STATION_NAMES",
        "HUB_TRACKING_RATE",
        "HUB_TRACKING_BURST",
        "HUB_TRUST_FORWARDED_FOR",
        "HUB_DISTRICT_FILE",
        "HUB_CALENDAR_FILE",
        "HUB_COOKIE_SECURE",
        "HUB_WEBHOOK_TIMEOUT",
    ];

    #[test]
    fn the_district_and_the_calendar_come_from_files_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let district = dir.path().join("district.toml");
        let calendar = dir.path().join("calendar.txt");
        std::fs::write(
            &district,
            domain::district::District::demo_text().replace("gm-north-mall", "mall-7"),
        )
        .unwrap();
        std::fs::write(&calendar, "year 2026 published test\n2026-05-06 off 自定\n").unwrap();
        let (d, k) = (district.to_str().unwrap(), calendar.to_str().unwrap());
        let c = HubConfig::from_env(env(&[
            ("HUB_DISTRICT_FILE", d),
            ("HUB_CALENDAR_FILE", k),
            ("HUB_COOKIE_SECURE", "true"),
            ("HUB_WEBHOOK_TIMEOUT", "3"),
        ]))
        .unwrap();
        assert_eq!(
            c.district.kind_of("mall-7"),
            Some(domain::district::UnitKind::Station)
        );
        assert!(!c
            .calendar
            .is_working_day(chrono::NaiveDate::from_ymd_opt(2026, 5, 6).unwrap()));
        assert!(c.cookie_secure);
        assert_eq!(c.webhook_timeout, std::time::Duration::from_secs(3));

        std::fs::write(&calendar, "year 2026 published test\n\n2026-02-30 off\n").unwrap();
        let e = error_of(&[("HUB_CALENDAR_FILE", k)]);
        assert_eq!(e.variable, "HUB_CALENDAR_FILE");
        assert!(
            e.to_string()
                .contains("calendar line 3: `2026-02-30` is not a date"),
            "{e}"
        );
        std::fs::write(
            &district,
            domain::district::District::demo_text()
                .replace("parent = \"gm-south\"", "parent = \"gm-sth\""),
        )
        .unwrap();
        let e = error_of(&[("HUB_DISTRICT_FILE", d)]);
        assert_eq!(e.variable, "HUB_DISTRICT_FILE");
        assert!(
            e.to_string()
                .contains("its parent `gm-sth` is no unit of this file"),
            "{e}"
        );
        assert!(
            e.to_string().contains("district.toml: district file line "),
            "{e}"
        );
        let e = error_of(&[("HUB_DISTRICT_FILE", "/nowhere/district.toml")]);
        assert!(
            e.to_string().contains("cannot read /nowhere/district.toml"),
            "{e}"
        );
    }

    #[test]
    fn a_fleet_reads_its_tokens_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stations.txt");
        let mut text = String::from("# the province's stations\n\n");
        for n in 0..30_000 {
            text.push_str(&format!("st-{n:05}=token-of-station-{n:05}\n"));
        }
        std::fs::write(&path, &text).unwrap();
        let file = path.to_str().unwrap();
        let c = HubConfig::from_env(env(&[
            ("HUB_STATION_TOKENS", "mall-1=aaaaaaaaaaaaaaaa1"),
            ("HUB_STATION_TOKENS_FILE", file),
        ]))
        .unwrap();
        assert_eq!(c.station_tokens.len(), 30_001);
        assert_eq!(c.station_tokens[0].0, "mall-1");
        assert_eq!(c.station_tokens[30_000].0, "st-29999");
        assert!(c.station_tokens[30_000].1.matches("token-of-station-29999"));

        // Each fault names the variable, the file and its line.
        for (bad, says) in [
            (
                "st-1=token-of-station-1\nst 2=token-of-station-2\n",
                "line 2: `st 2` is not an id",
            ),
            (
                "st-1=token-of-station-1\nst-2\n",
                "line 2 is not `id=value`",
            ),
            ("mall-1=token-of-station-1\n", "`mall-1` appears twice"),
            ("st-1=aaaaaaaaaaaaaaaa1\n", "also another entry's token"),
            ("st-1=short\n", "the token of `st-1`"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let e = error_of(&[
                ("HUB_STATION_TOKENS", "mall-1=aaaaaaaaaaaaaaaa1"),
                ("HUB_STATION_TOKENS_FILE", file),
            ]);
            assert_eq!(e.variable, "HUB_STATION_TOKENS_FILE");
            assert!(e.to_string().contains(says), "{e} should say {says}");
        }
        let missing = dir.path().join("nowhere.txt");
        let e = error_of(&[("HUB_STATION_TOKENS_FILE", missing.to_str().unwrap())]);
        assert!(
            e.to_string()
                .starts_with("HUB_STATION_TOKENS_FILE: cannot read"),
            "{e}"
        );
        assert!(e.to_string().contains("nowhere.txt"), "{e}");
    }

    #[test]
    fn open311_keys_without_stations_read_as_before() {
        let c = HubConfig::from_env(env(&[(
            "HUB_OPEN311_API_KEYS",
            "dddddddddddddddd4, eeeeeeeeeeeeeeee5",
        )]))
        .unwrap();
        assert_eq!(c.open311_api_keys.len(), 2);
        assert!(c.open311_key_stations.is_empty());
        assert!(!c.open311_public_read);
    }

    #[test]
    fn an_error_never_prints_the_secret_it_refused() {
        let e = error_of(&[("HUB_STATION_TOKENS", "mall-1=s3cr3t-short")]);
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
