//! `grievance-hub`: the reference upstream server. Reads the `HUB_*` variables (docs/hub.md),
//! binds `HUB_LISTEN`, and serves until the process is stopped. Every error is one line on
//! standard error and a non-zero exit.
//!
//! Stopping: Ctrl-C or SIGTERM end the process at once. That loses nothing: a case, an event or
//! a heartbeat is committed (`synchronous=FULL`) before its answer is sent, and a write cut
//! short is rolled back by SQLite, so the sender simply retries.

use std::process::ExitCode;

use anyhow::Context;
use grievance_kiosk::hub::{self, HubConfig};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grievance-hub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let config = HubConfig::from_env(|name| std::env::var(name).ok())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("HUB_LISTEN: cannot listen on {}", config.listen))?;
        let data_dir = config.data_dir.clone();
        let running = hub::start(config, listener).await?;
        // The first line on standard output says where the hub is (tests and scripts read it).
        println!(
            "grievance-hub listening on http://{} (data in {})",
            running.local_addr(),
            data_dir.display()
        );
        running.wait().await
    })
}
