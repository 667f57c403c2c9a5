//! The running hub: its shared state, the router that puts every page and API under one roof,
//! and the task that serves it until told to stop.
//!
//! Long-lived pieces, all owned by [`HubState`]: the configuration, the store (its writer
//! connection and reader pool), the credentials (which the kiosk's in-process hub extends at
//! run time), and the rate limiters (the tracking page's, failed logins'). [`start`] spawns one
//! task, the server; [`RunningHub::shutdown`] tells it to stop taking connections, lets requests
//! in flight finish (every answered write is already committed), and waits for it.
//!
//! The server serves each connection with hyper directly, within [`ConnectionLimits`]: a
//! request's header must arrive whole within the header timeout and within
//! [`MAX_HEADER_BYTES`] (else `431`); a connection on which no byte moves for the idle timeout
//! is closed (a request being answered is finished first); a request must be received and
//! answered within the request timeout (else `408`); and at most `max_connections` are
//! served at once (no more than the open-file limit allows): the next ones wait in the
//! listening socket's queue until one ends. A slow or idle client therefore holds at most one
//! slot and a few tens of KiB, for a bounded time.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::auth::{throttle_logins, Credentials, Secret, LOGIN_FAILURES};
use super::body::BODY_LIMIT;
use super::config::{is_valid_id, HubConfig, HubConfigError, MIN_SECRET_LEN};
use super::html::{STYLESHEET, STYLESHEET_PATH};
use super::rate_limit::RateLimiter;
use super::store::{HubStore, HubStoreError};
use super::{api, office, open311, operator, tracking};

/// Everything the handlers share.
pub struct HubState {
    config: HubConfig,
    store: Arc<HubStore>,
    credentials: RwLock<Credentials>,
    tracking_limiter: RateLimiter,
    login_limiter: RateLimiter,
}

impl HubState {
    /// Opens the database (blocking: call it from a blocking context, as [`start`] does).
    pub(crate) fn open(config: HubConfig) -> Result<HubState, HubStoreError> {
        let store = Arc::new(match &config.database {
            Some(database) => HubStore::open_postgres(database)?,
            None => HubStore::open(&config.data_dir)?,
        });
        let credentials = Credentials::new(
            config.station_tokens.iter().cloned(),
            config.department_tokens.iter().cloned(),
            config.open311_api_keys.iter().cloned(),
            config.operator_token.clone(),
        );
        Ok(HubState {
            tracking_limiter: RateLimiter::new(config.tracking_limit),
            login_limiter: RateLimiter::new(LOGIN_FAILURES),
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

    /// Failed logins per client address ([`super::auth::throttle_logins`]).
    pub(crate) fn login_limiter(&self) -> &RateLimiter {
        &self.login_limiter
    }

    /// The name a page shows for a station, when the configuration gives one.
    pub(crate) fn station_name(&self, station_id: &str) -> Option<&str> {
        self.config
            .station_names
            .get(station_id)
            .map(String::as_str)
    }
}

/// The largest request header the hub reads (request line and fields together): far more than
/// any kiosk, browser or Open311 client sends; a longer one is answered `431` and the
/// connection closed.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most a connection's read buffer may hold (hyper's `max_buf_size`): the header cap plus
/// room for the start of a body.
const READ_BUFFER_BYTES: usize = 2 * MAX_HEADER_BYTES;
/// Open files kept for everything but client connections: the database (the writer and up to
/// [`super::store::MAX_READERS`] readers, three files each), the listener, the log.
const RESERVED_FILES: u64 = 512;
/// The fewest connections the hub serves at once, however low the open-file limit.
const MIN_CONNECTIONS: usize = 16;

/// How the hub bounds its clients' connections (docs/hub.md, "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `HUB_HEADER_TIMEOUT` (seconds): a request's header must have arrived whole this long
    /// after the hub began waiting for it (on a new connection, or after the previous answer).
    pub header_timeout: Duration,
    /// `HUB_IDLE_TIMEOUT` (seconds): a connection on which no byte moved for this long is
    /// closed. At most the header timeout (a kept-alive connection waits under both).
    pub idle_timeout: Duration,
    /// `HUB_MAX_CONNECTIONS`: connections served at once (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// `HUB_REQUEST_TIMEOUT` (seconds): from a request's whole header to its answer (the body
    /// included); past it the answer is `408` and the connection is closed, so a body sent a
    /// byte at a time cannot hold a connection for ever.
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            max_connections: 2048,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectionLimits {
    /// Reads `HUB_HEADER_TIMEOUT`, `HUB_IDLE_TIMEOUT` and `HUB_MAX_CONNECTIONS` through `env`
    /// (unset or empty: the default).
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectionLimits, HubConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut limits = ConnectionLimits::default();
        let seconds = |variable: &'static str, value: String| -> Result<Duration, HubConfigError> {
            match value.trim().parse::<u64>() {
                Ok(n @ 1..=3600) => Ok(Duration::from_secs(n)),
                _ => Err(HubConfigError {
                    variable,
                    problem: format!(
                        "`{}` is not a whole number of seconds from 1 to 3600",
                        value.trim()
                    ),
                }),
            }
        };
        if let Some(v) = get("HUB_HEADER_TIMEOUT") {
            limits.header_timeout = seconds("HUB_HEADER_TIMEOUT", v)?;
        }
        if let Some(v) = get("HUB_IDLE_TIMEOUT") {
            limits.idle_timeout = seconds("HUB_IDLE_TIMEOUT", v)?;
        } else {
            limits.idle_timeout = limits.idle_timeout.min(limits.header_timeout);
        }
        if limits.idle_timeout > limits.header_timeout {
            return Err(HubConfigError {
                variable: "HUB_IDLE_TIMEOUT",
                problem: format!(
                    "{} s is longer than HUB_HEADER_TIMEOUT ({} s): a kept-alive connection \
                     waiting for its next request is cut at the header timeout anyway",
                    limits.idle_timeout.as_secs(),
                    limits.header_timeout.as_secs()
                ),
            });
        }
        if let Some(v) = get("HUB_REQUEST_TIMEOUT") {
            limits.request_timeout = seconds("HUB_REQUEST_TIMEOUT", v)?;
        }
        if let Some(v) = get("HUB_MAX_CONNECTIONS") {
            limits.max_connections = match v.trim().parse::<usize>() {
                Ok(n @ 1..=1_000_000) => n,
                _ => {
                    return Err(HubConfigError {
                        variable: "HUB_MAX_CONNECTIONS",
                        problem: format!("`{}` is not a whole number from 1 to 1000000", v.trim()),
                    })
                }
            };
        }
        Ok(limits)
    }

    /// The connections served at once: `max_connections`, lowered so that they and the
    /// [`RESERVED_FILES`] fit under the process's open-file limit (`soft_limit`).
    fn connections_within(&self, soft_limit: u64) -> usize {
        let room = usize::try_from(soft_limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
        self.max_connections.min(room.max(MIN_CONNECTIONS)).max(1)
    }
}

/// The process's open-file limit (`RLIMIT_NOFILE`): its soft value, raised first to the hard
/// one (a process may always do that). The binary calls it at start; the connection cap is
/// fitted under what it returns.
pub fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit_value(limit.rlim_cur)
}

/// Has every allocation of 1 MiB or more be a mapping of its own, given back to the system
/// when freed. Argon2 takes 19 MiB of working memory for each password it hashes or checks, and
/// glibc's allocator, once such a block is freed, raises the size it maps blocks from to that
/// block's and keeps later ones in the thread's own heap: each thread that ever hashed kept its
/// 19 MiB. The kiosk, whose local hub hashes the demo accounts at start, held 52 to 129 MB of
/// heap at Home, by how many threads had hashed. Both binaries call this first thing (before
/// any thread starts); it does nothing where the allocator is not glibc's.
pub fn give_back_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets one of the allocator's parameters; called before other threads
    // exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// The process's soft open-file limit, as it is.
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    limit_value(limit.rlim_cur)
}

/// `rlim_t` is 64 bits on Linux but not everywhere.
#[allow(clippy::useless_conversion)]
fn limit_value(value: libc::rlim_t) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Every route of the hub. [`start`] serves it, giving each request the connection's peer
/// address (`ConnectInfo<SocketAddr>`) so that the rate limits can tell clients apart (without
/// it, all clients share one bucket).
pub fn router(state: Arc<HubState>) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(tracking::routes())
        .merge(open311::routes())
        .merge(operator::routes())
        .merge(office::api::routes())
        .merge(office::pages::routes())
        .route(STYLESHEET_PATH, get(stylesheet))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            throttle_logins,
        ))
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
    /// The periodic jobs' ticker ([`crate::periodic`]), aborted when the hub stops; none when
    /// the caller runs the jobs (`HubConfig::run_ticker`).
    periodic: Option<JoinHandle<()>>,
    /// The webhooks' deliverer ([`crate::office::webhooks`]), aborted when the hub stops.
    webhooks: JoinHandle<()>,
}

/// Opens the database in `config.data_dir` and serves the hub on `listener` until
/// [`RunningHub::shutdown`] (or until the `RunningHub` is dropped), within the default
/// [`ConnectionLimits`].
pub async fn start(config: HubConfig, listener: TcpListener) -> anyhow::Result<RunningHub> {
    start_with(config, ConnectionLimits::default(), listener).await
}

/// [`start`] with other connection limits (the binary's `HUB_*` ones, a test's short ones).
pub async fn start_with(
    config: HubConfig,
    limits: ConnectionLimits,
    listener: TcpListener,
) -> anyhow::Result<RunningHub> {
    let local_addr = listener
        .local_addr()
        .context("the listener has no local address")?;
    let state = tokio::task::spawn_blocking(move || HubState::open(config))
        .await
        .context("the hub's start-up task stopped")??;
    let state = Arc::new(state);
    // What is due runs before the first request (on PostgreSQL, in one of the processes).
    crate::periodic::tick(&state).await;
    let app = router(Arc::clone(&state));
    let connections = limits.connections_within(open_file_limit());
    // (Debug: the kiosk's in-process hub shares the command line's standard error, which says
    // one thing per command.)
    tracing::debug!(
        connections,
        header_timeout_s = limits.header_timeout.as_secs(),
        idle_timeout_s = limits.idle_timeout.as_secs(),
        request_timeout_s = limits.request_timeout.as_secs(),
        "serving"
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, limits, connections, stopped));
    let periodic = state
        .config()
        .run_ticker
        .then(|| tokio::spawn(crate::periodic::ticker(Arc::clone(&state))));
    let webhooks = tokio::spawn(crate::office::webhooks::deliver(Arc::clone(&state)));
    Ok(RunningHub {
        local_addr,
        state,
        stop: Some(stop),
        task: Some(task),
        periodic,
        webhooks,
    })
}

/// Accepts connections while a slot is free, until `stopped`; then asks every connection to
/// close once its request in flight is answered, and waits until they all have.
async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    connections: usize,
    mut stopped: oneshot::Receiver<()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(connections));
    let (closing, close_asked) = watch::channel(false);
    loop {
        let slot = tokio::select! {
            _ = &mut stopped => break,
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the slots are never closed"),
        };
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                tokio::spawn(serve_connection(
                    stream,
                    peer,
                    app.clone(),
                    limits,
                    close_asked.clone(),
                    slot,
                ));
            }
            // The client gave up before it was accepted: nothing to do.
            Err(e) if is_connection_error(&e) => {}
            // Out of open files or memory: the connections being served will end (they all
            // have timeouts), so wait a moment and try again rather than spin.
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection; retrying in 100 ms");
                drop(slot);
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let all = u32::try_from(connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection (HTTP/1.1, keep-alive) within `limits`, holding `_slot` until it ends.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut close_asked: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let opened = Instant::now();
    let last_moved = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Watched {
        stream,
        opened,
        last_moved: Arc::clone(&last_moved),
    });
    let app = TowerToHyperService::new(app);
    let request_timeout = limits.request_timeout;
    let service = hyper::service::service_fn(move |mut request| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = hyper::service::Service::call(&app, request);
        async move {
            match tokio::time::timeout(request_timeout, answer).await {
                Ok(answered) => answered,
                Err(_) => {
                    tracing::debug!(%peer, "request not done within the request timeout");
                    Ok(request_timed_out())
                }
            }
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(READ_BUFFER_BYTES)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    // Once asked to close (idle, or the hub stopping), a connection still busy with a request
    // has this long to finish it (its request answers within the request timeout, `408` at
    // worst); then it is dropped whatever it is doing.
    let grace = limits.request_timeout.max(limits.header_timeout) + Duration::from_secs(1);
    let mut close_by: Option<Instant> = None;
    loop {
        let idle_since = opened + Duration::from_millis(last_moved.load(Ordering::Relaxed));
        let wake_at = close_by.unwrap_or(idle_since + limits.idle_timeout);
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(%peer, error = %e, "connection ended");
                }
                return;
            }
            _ = close_asked.changed(), if close_by.is_none() => {
                close_by = Some(Instant::now() + grace);
                connection.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(wake_at) => {
                if close_by.is_some() {
                    tracing::debug!(%peer, "connection did not finish its request: dropped");
                    return;
                }
                let moved = opened + Duration::from_millis(last_moved.load(Ordering::Relaxed));
                if moved == idle_since {
                    tracing::debug!(%peer, "connection idle: closing it");
                    close_by = Some(Instant::now() + grace);
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The answer to a request not done within the request timeout. A write it had begun is
/// committed or rolled back whole; the sender retries (with its idempotency key).
fn request_timed_out() -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        [
            (header::CONNECTION, "close"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "the request took too long to arrive or to answer; send it again\n",
    )
        .into_response()
}

/// A client's socket that notes when a byte last moved either way (milliseconds after
/// `opened`), for the idle timeout.
struct Watched {
    stream: TcpStream,
    opened: Instant,
    last_moved: Arc<AtomicU64>,
}

impl Watched {
    fn moved(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_moved.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.moved();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
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

    /// Adds (or with `replace`, changes) a back-office account, as `grievance-hub user add`
    /// does; `Ok(true)` when it was made.
    pub async fn add_user(
        &self,
        new: &crate::admin::NewUser,
    ) -> Result<bool, crate::admin::AdminError> {
        crate::admin::put_user(
            self.state.store(),
            &self.state.config().district,
            new,
            crate::admin::COMMAND_LINE,
            self.state.now(),
        )
        .await
    }

    /// Runs the periodic jobs that are due by the hub's clock now, as its ticker does every
    /// minute ([`crate::periodic`]); says what each job did here.
    pub async fn run_due_jobs(
        &self,
    ) -> Result<Vec<(&'static str, crate::periodic::Outcome)>, crate::store::HubStoreError> {
        crate::periodic::run_due(&self.state, self.state.now()).await
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
        if let Some(ticker) = &self.periodic {
            ticker.abort();
        }
        self.webhooks.abort();
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
        if let Some(ticker) = &self.periodic {
            ticker.abort();
        }
        self.webhooks.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
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
    fn the_limits_read_their_variables_and_name_a_bad_one() {
        assert_eq!(
            ConnectionLimits::from_env(|_| None).unwrap(),
            ConnectionLimits::default()
        );
        let l = ConnectionLimits::from_env(env(&[
            ("HUB_HEADER_TIMEOUT", "20"),
            ("HUB_IDLE_TIMEOUT", "7"),
            ("HUB_REQUEST_TIMEOUT", "60"),
            ("HUB_MAX_CONNECTIONS", "100"),
        ]))
        .unwrap();
        assert_eq!(
            l,
            ConnectionLimits {
                header_timeout: Duration::from_secs(20),
                idle_timeout: Duration::from_secs(7),
                max_connections: 100,
                request_timeout: Duration::from_secs(60),
            }
        );
        // A short header timeout shortens the default idle timeout with it.
        let l = ConnectionLimits::from_env(env(&[("HUB_HEADER_TIMEOUT", "2")])).unwrap();
        assert_eq!(l.idle_timeout, Duration::from_secs(2));
        for (variable, value) in [
            ("HUB_HEADER_TIMEOUT", "0"),
            ("HUB_HEADER_TIMEOUT", "ten"),
            ("HUB_IDLE_TIMEOUT", "3601"),
            ("HUB_IDLE_TIMEOUT", "11"),
            ("HUB_REQUEST_TIMEOUT", "-1"),
            ("HUB_MAX_CONNECTIONS", "0"),
        ] {
            let e = ConnectionLimits::from_env(env(&[(variable, value)])).unwrap_err();
            assert_eq!(e.variable, variable, "{value}");
            assert!(e.to_string().starts_with(variable), "{e}");
        }
    }

    #[test]
    fn the_connection_cap_fits_under_the_open_file_limit() {
        let l = ConnectionLimits::default();
        assert_eq!(l.connections_within(8192), 2048);
        assert_eq!(l.connections_within(1024), 512);
        assert_eq!(l.connections_within(256), MIN_CONNECTIONS);
        assert_eq!(l.connections_within(u64::MAX), 2048);
    }
}
