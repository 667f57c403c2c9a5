//! `grievance-hub`: the reference upstream server. Reads the `HUB_*` variables (docs/hub.md),
//! binds `HUB_LISTEN`, and serves until the process is stopped. Every error is one line on
//! standard error and a non-zero exit; the log goes there too (`HUB_LOG` sets its level,
//! `crates/logging`).
//!
//! Stopping: Ctrl-C or SIGTERM end the process at once. That loses nothing: a case, an event or
//! a heartbeat is committed (`synchronous=FULL` on SQLite, a committed transaction on
//! PostgreSQL) before its answer is sent, and a write cut short is rolled back, so the sender
//! simply retries.

use std::process::ExitCode;

use anyhow::Context;
use hub::HubConfig;

fn main() -> ExitCode {
    hub::give_back_large_blocks();
    logging::init("HUB_LOG");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The exit's own line, not a log event: it is said whatever HUB_LOG is.
            eprintln!("grievance-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What `grievance-hub --help` prints: the hub takes no arguments, only `HUB_*` variables.
const HELP: &str = "\
grievance-hub: the reference upstream server for grievance kiosks (docs/hub.md).

Usage: grievance-hub            (configured by environment variables only)
       grievance-hub --help | --version
       grievance-hub loadgen …  (a simulated fleet against a running hub: loadgen --help)
       grievance-hub user add --id ID --unit UNIT --role ROLE [--name NAME] [--replace]
                                (an account of the back office; its password is the first
                                line of standard input)
       grievance-hub user list
       grievance-hub district show [--json]
                                (the district's tree and the calendar's years)

Environment:
  HUB_LISTEN               address and port to listen on (default 127.0.0.1:8787)
  HUB_DATA_DIR             where hub.sqlite3 lives (default ./hub-data)
  HUB_DATABASE_URL         postgres://user:password@host/db: keep the data in PostgreSQL
                           instead (several hub processes may share it)
  HUB_DATABASE_POOL        connections to PostgreSQL per process (default 16)
  HUB_DATABASE_STATEMENT_TIMEOUT
                           seconds a PostgreSQL statement may run (default 10)
  HUB_STATION_TOKENS       station-id=token,...: the kiosks that may file cases
  HUB_STATION_TOKENS_FILE  a file of station-id=token lines, for a fleet too large for
                           a variable (joins HUB_STATION_TOKENS)
  HUB_DEPARTMENT_TOKENS    department-id=token,...: who may post status events
  HUB_OPEN311_API_KEYS     key,key=station+station: Open311 api_keys, each tied to the
                           stations it may file as (none: it files as open311)
  HUB_OPEN311_PUBLIC_READ  true: Open311 clients read requests without a key (default false)
  HUB_OPERATOR_TOKEN       the operator page's token, at least 16 characters
                           (unset: the page refuses everyone)
  HUB_STATION_NAMES        station-id=name,...: names the pages show
  HUB_TRACKING_RATE        tracking-page requests per minute per client (default 30)
  HUB_TRACKING_BURST       tracking-page requests at once per client (default 10)
  HUB_TRUST_FORWARDED_FOR  count clients by X-Forwarded-For, only behind a proxy (default false)
  HUB_DISTRICT_FILE        the district's tree, routing rules and deadlines (docs/district.md;
                           default: the built-in demo district)
  HUB_CALENDAR_FILE        the working calendar: holidays and adjusted working days
                           (default: the built-in one, 2026 and 2027)
  HUB_WEBHOOK_TIMEOUT      seconds a unit's webhook may take to answer (default 10)
  HUB_COOKIE_SECURE        true: the back office's session cookie only over HTTPS (set it
                           whenever the hub is reached through TLS)
  HUB_HEADER_TIMEOUT       seconds a request's header may take to arrive (default 10)
  HUB_IDLE_TIMEOUT         seconds a connection may stay silent before it is closed
                           (default 5, at most HUB_HEADER_TIMEOUT)
  HUB_REQUEST_TIMEOUT      seconds from a request's header to its answer, body included
                           (default 30)
  HUB_MAX_CONNECTIONS      connections served at once (default 2048; lowered to fit the
                           open-file limit)
  HUB_LOG                  the log's level on standard error: error, warn, info, debug
                           (default info)

It prints its address on the first line of standard output and serves until stopped.";

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {}
        Some("--help" | "-h") => {
            println!("{HELP}");
            return Ok(());
        }
        Some("--version" | "-V") => {
            println!("grievance-hub {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some("loadgen") => return loadgen(&args[1..]),
        Some("user") => return user(&args[1..]),
        Some("district") => return district(&args[1..]),
        Some(other) => anyhow::bail!(
            "unexpected argument `{other}`: the hub takes none, it is configured by HUB_* \
             environment variables (grievance-hub --help lists them)"
        ),
    }
    let config = HubConfig::from_env(|name| std::env::var(name).ok())?;
    let limits = hub::ConnectionLimits::from_env(|name| std::env::var(name).ok())?;
    // As many open files as the system allows this process: the connection cap is fitted under
    // them (the unit's LimitNOFILE sets the hard limit).
    hub::raise_open_file_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("HUB_LISTEN: cannot listen on {}", config.listen))?;
        let data = match &config.database {
            Some(_) => "data in PostgreSQL".to_owned(),
            None => format!("data in {}", config.data_dir.display()),
        };
        let running = hub::start_with(config, limits, listener).await?;
        // The first line on standard output says where the hub is (tests and scripts read it).
        println!(
            "grievance-hub listening on http://{} ({data})",
            running.local_addr(),
        );
        running.wait().await
    })
}

const LOADGEN_HELP: &str = "\
grievance-hub loadgen: a simulated fleet against a running hub (docs/hub.md).

Usage: grievance-hub loadgen stations N > stations.txt
           N new stations with random tokens, one station-id=token a line: give the file to
           the hub as HUB_STATION_TOKENS_FILE and to `loadgen run`
       grievance-hub loadgen run --url URL --stations-file FILE [options]

Options of `run` (defaults: a province's peak):
  --url URL                  the hub, or the load balancer in front of it
  --stations-file FILE       the stations (every one sends a heartbeat a minute)
  --department-token TOKEN   a department's token, to move cases on (none: no events)
  --seconds S                how long to run (default 300)
  --cases-per-second R       cases filed (default 50), of which --retries are sent twice
  --retries SHARE            0 to 1 (default 0.05)
  --tracking-per-second R    tracking pages opened (default 500)
  --events-per-second R      department events (default 20)
  --states-per-second R      station states (default 10)
  --warmup-cases N           cases filed before the clock starts (default 1000)
  --json                     the report as JSON

The tracking page's rate limit counts per client address: raise HUB_TRACKING_RATE and
HUB_TRACKING_BURST on the hub under test, or every page past the first few is a 429.
It exits non-zero when any request failed.";

fn loadgen(args: &[String]) -> anyhow::Result<()> {
    use std::time::Duration;
    match args.first().map(String::as_str) {
        None | Some("--help" | "-h") => {
            println!("{LOADGEN_HELP}");
            Ok(())
        }
        Some("stations") => {
            let n: usize = args
                .get(1)
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .context("loadgen stations: give how many, a number above 0")?;
            let mut out = String::from("# grievance-hub loadgen stations: station-id=token\n");
            for (id, token) in hub::loadgen::new_stations(n)? {
                out.push_str(&format!("{id}={token}\n"));
            }
            print!("{out}");
            Ok(())
        }
        Some("run") => {
            let mut url = None;
            let mut stations_file = None;
            let mut json = false;
            let mut plan = hub::loadgen::Plan::province("", Vec::new(), Duration::from_secs(300));
            let mut rest = args[1..].iter();
            while let Some(flag) = rest.next() {
                if flag == "--json" {
                    json = true;
                    continue;
                }
                let value = rest
                    .next()
                    .with_context(|| format!("loadgen run: {flag} needs a value"))?;
                let number = |what: &str| -> anyhow::Result<f64> {
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .with_context(|| {
                            format!("loadgen run: {what} `{value}` is not a number of 0 or more")
                        })
                };
                match flag.as_str() {
                    "--url" => url = Some(value.trim_end_matches('/').to_owned()),
                    "--stations-file" => stations_file = Some(value.clone()),
                    "--department-token" => plan.department_token = Some(value.clone()),
                    "--seconds" => plan.duration = Duration::from_secs_f64(number("--seconds")?),
                    "--cases-per-second" => plan.cases_per_s = number(flag)?,
                    "--retries" => {
                        plan.retry_share = number(flag)?;
                        anyhow::ensure!(
                            plan.retry_share <= 1.0,
                            "loadgen run: --retries is a share, 0 to 1"
                        );
                    }
                    "--tracking-per-second" => plan.tracking_per_s = number(flag)?,
                    "--events-per-second" => plan.events_per_s = number(flag)?,
                    "--states-per-second" => plan.states_per_s = number(flag)?,
                    "--warmup-cases" => plan.warmup_cases = number(flag)? as usize,
                    other => anyhow::bail!(
                        "loadgen run: unknown option `{other}` (loadgen --help lists them)"
                    ),
                }
            }
            plan.base = url.context("loadgen run: --url is required")?;
            let file = stations_file.context("loadgen run: --stations-file is required")?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("loadgen run: cannot read {file}"))?;
            plan.stations = hub::loadgen::read_stations(&text)
                .with_context(|| format!("loadgen run: {file}"))?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let report = runtime.block_on(hub::loadgen::run(plan))?;
            if json {
                println!("{}", report.json());
            } else {
                print!("{}", report.table());
            }
            match report.errors() {
                0 => Ok(()),
                n => anyhow::bail!("{n} requests failed"),
            }
        }
        Some(other) => anyhow::bail!("loadgen: unknown command `{other}` (loadgen --help)"),
    }
}

/// `grievance-hub user add|list`.
fn user(args: &[String]) -> anyhow::Result<()> {
    let config = HubConfig::from_env(|name| std::env::var(name).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.first().map(String::as_str) {
        Some("add") => {
            let mut new = hub::admin::NewUser {
                id: String::new(),
                unit: String::new(),
                role: String::new(),
                name: None,
                password: String::new(),
                replace: false,
            };
            let mut rest = args[1..].iter();
            while let Some(flag) = rest.next() {
                let mut value = |name: &str| {
                    rest.next()
                        .cloned()
                        .with_context(|| format!("user add: {name} needs a value"))
                };
                match flag.as_str() {
                    "--id" => new.id = value("--id")?,
                    "--unit" => new.unit = value("--unit")?,
                    "--role" => new.role = value("--role")?,
                    "--name" => new.name = Some(value("--name")?),
                    "--replace" => new.replace = true,
                    other => anyhow::bail!(
                        "user add: unexpected `{other}` (--id, --unit, --role, --name, --replace)"
                    ),
                }
            }
            for (flag, v) in [
                ("--id", &new.id),
                ("--unit", &new.unit),
                ("--role", &new.role),
            ] {
                if v.is_empty() {
                    anyhow::bail!("user add: {flag} is required");
                }
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("user add: cannot read the password from standard input")?;
            new.password = line.trim_end_matches(['\n', '\r']).to_owned();
            let made = runtime.block_on(hub::admin::add_user(&config, &new))?;
            println!(
                "{} account `{}` ({} of {})",
                if made { "added" } else { "replaced" },
                new.id,
                new.role,
                new.unit
            );
            Ok(())
        }
        Some("list") => {
            for line in runtime.block_on(hub::admin::list_users(&config))? {
                println!("{line}");
            }
            Ok(())
        }
        _ => anyhow::bail!("user: `add` or `list` (grievance-hub --help)"),
    }
}

/// `grievance-hub district show [--json]`.
fn district(args: &[String]) -> anyhow::Result<()> {
    let as_json = match args {
        [show] if show == "show" => false,
        [show, json] if show == "show" && json == "--json" => true,
        _ => anyhow::bail!("district: `show` or `show --json` (grievance-hub --help)"),
    };
    let config = HubConfig::from_env(|name| std::env::var(name).ok())?;
    let mut text = hub::admin::district_show(&config, as_json);
    if as_json {
        text.push('\n');
    }
    // A reader that stops early (`| head`) is no error.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
    Ok(())
}
