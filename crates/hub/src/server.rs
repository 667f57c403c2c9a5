//! The running hub: its shared state, the router that puts every page and API under one roof,
//! and the task that serves it until told to stop.
//!
//! Long-lived pieces, all owned by [`HubState`]: the configuration, the store (its writer
//! connection and reader pool), the credentials (which the kiosk's in-process hub extends at
//! run time), and the tracking page's rate limiter. [`start`] spawns one task, the axum server;
//! [`RunningHub::shutdown`] tells it to stop taking connections, lets requests in flight finish
//! (every answered write is already committed), and waits for it.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::{Credentials, Secret};
use super::body::BODY_LIMIT;
use super::config::{is_valid_id, HubConfig, HubConfigError, MIN_SECRET_LEN};
use super::html::{STYLESHEET, STYLESHEET_PATH};
use super::rate_limit::RateLimiter;
use super::store::{HubStore, HubStoreError};
use super::{api, open311, operator, tracking};

/// Everything the handlers share.
pub struct HubState {
    config: HubConfig,
    store: Arc<HubStore>,
    credentials: RwLock<Credentials>,
    tracking_limiter: RateLimiter,
}

impl HubState {
    /// Opens the database (blocking: call it from a blocking context, as [`start`] does).
    pub(crate) fn open(config: HubConfig) -> Result<HubState, HubStoreError> {
        let store = Arc::new(HubStore::open(&config.data_dir)?);
        let credentials = Credentials::new(
            config.station_tokens.iter().cloned(),
            config.department_tokens.iter().cloned(),
            config.open311_api_keys.iter().cloned(),
            config.operator_token.clone(),
        );
        Ok(HubState {
            tracking_limiter: RateLimiter::new(config.tracking_limit),
            config,
            store,
            credentials: RwLock::new(credentials),
        })
    }

    pub(crate) fn config(&self) -> &HubConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<HubStore> {
        &self.store
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// Accepts `token` for `station_id` from now on (the kiosk's in-process hub registers the
    /// token it made for itself). The same rules as `HUB_STATION_TOKENS`.
    pub fn set_station_token(&self, station_id: &str, token: &str) -> Result<(), HubConfigError> {
        let refuse = |problem: String| HubConfigError {
            variable: "HUB_STATION_TOKENS",
            problem,
        };
        if !is_valid_id(station_id) {
            return Err(refuse(format!("`{station_id}` is not a station id")));
        }
        if token.chars().count() < MIN_SECRET_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refuse(format!(
                "the token of `{station_id}` must be at least {MIN_SECRET_LEN} visible ASCII characters"
            )));
        }
        self.credentials
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .set_station(station_id, Secret::new(token));
        Ok(())
    }

    pub(crate) fn credentials(&self) -> RwLockReadGuard<'_, Credentials> {
        self.credentials.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn tracking_limiter(&self) -> &RateLimiter {
        &self.tracking_limiter
    }

    /// The name a page shows for a station, when the configuration gives one.
    pub(crate) fn station_name(&self, station_id: &str) -> Option<&str> {
        self.config
            .station_names
            .get(station_id)
            .map(String::as_str)
    }
}

/// Every route of the hub. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`
/// so the tracking page can tell clients apart (without it, all clients share one bucket).
pub fn router(state: Arc<HubState>) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(tracking::routes())
        .merge(open311::routes())
        .merge(operator::routes())
        .route(STYLESHEET_PATH, get(stylesheet))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A hub serving on its own task.
pub struct RunningHub {
    local_addr: SocketAddr,
    state: Arc<HubState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Opens the database in `config.data_dir` and serves the hub on `listener` until
/// [`RunningHub::shutdown`] (or until the `RunningHub` is dropped).
pub async fn start(config: HubConfig, listener: TcpListener) -> anyhow::Result<RunningHub> {
    let local_addr = listener
        .local_addr()
        .context("the listener has no local address")?;
    let state = tokio::task::spawn_blocking(move || HubState::open(config))
        .await
        .context("the hub's start-up task stopped")??;
    let state = Arc::new(state);
    let app = router(Arc::clone(&state)).into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningHub {
        local_addr,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

impl RunningHub {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<address>`: the base URL of the API and of tracking links.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn state(&self) -> &Arc<HubState> {
        &self.state
    }

    /// See [`HubState::set_station_token`].
    pub fn set_station_token(&self, station_id: &str, token: &str) -> Result<(), HubConfigError> {
        self.state.set_station_token(station_id, token)
    }

    /// Serves until the server ends by itself, which it only does on an error (the binary's
    /// main loop; the process is stopped by a signal).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        task.await
            .context("the hub's server task failed")?
            .context("the hub stopped serving with an error")
    }

    /// Stops taking connections, lets the requests in flight finish (for at most ten seconds)
    /// and waits for the server task.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(10), &mut task).await {
            Ok(joined) => joined
                .context("the hub's server task failed")?
                .context("the hub stopped serving with an error"),
            Err(_) => {
                task.abort();
                anyhow::bail!("the hub did not stop within 10 s; its open connections were cut")
            }
        }
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
