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
