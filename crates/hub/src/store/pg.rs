//! PostgreSQL behind the store's [`Db`]: for a city or a province, several hub processes on one
//! database (issue 18, `docs/hub.md`).
//!
//! The client is the synchronous `postgres` crate (tokio-postgres underneath): every operation
//! of the store is one synchronous transaction closure, the same for both engines, run on
//! tokio's blocking pool as SQLite's are. Connections are kept in a small pool (`HUB_DATABASE_POOL`),
//! each with its prepared statements, and each session has a statement timeout
//! (`HUB_DATABASE_STATEMENT_TIMEOUT`), so a stuck query frees its connection.
//!
//! Several processes, one truth:
//! - reads run in a read-only `REPEATABLE READ` transaction: a page never mixes two moments;
//! - writes run in `REPEATABLE READ` too, so that each sees one moment from its first query to
//!   its last, as a write on SQLite (one writer at a time) does. When another process changed
//!   what it read, or took a unique key it wanted, PostgreSQL refuses it (a serialization
//!   failure, a deadlock, a unique violation) and the write is tried again whole, on the new
//!   moment: two processes filing the same case at once store it once, and the second answers
//!   the first's receipt. (At `READ COMMITTED` each query sees its own moment: the second
//!   process saw no case by its id, then the first's case by its token, and refused it as a
//!   code already taken.)
//! - the schema is migrated under an advisory lock, so processes starting together migrate once.
//!
//! A connection PostgreSQL closed (a restart, a failover) is dropped from the pool; while the
//! server is unreachable every operation fails as [`HubStoreError::Unavailable`] (503).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type};
use postgres::{Client, IsolationLevel, NoTls, Statement};
use tokio::sync::Semaphore;

use super::sql::{Cell, Db, Row, Value};
use super::HubStoreError;

/// A write is tried this many times in all before its conflict is reported.
const WRITE_ATTEMPTS: u32 = 8;

/// The lanes ([`Db::lane`]) a write may take: 0 to 63.
const LANES: u32 = 64;

/// What `HUB_DATABASE_URL` and its companions say.
#[derive(Clone)]
pub struct PostgresConfig {
    /// The connection string (`postgres://user:password@host/db`, or key=value pairs).
    pub(crate) url: String,
    /// Connections kept open, and operations running at once.
    pub pool: u32,
    /// The longest a statement may run.
    pub statement_timeout: Duration,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("PostgresConfig")
            .field("url", &"…")
            .field("pool", &self.pool)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl PostgresConfig {
    pub const DEFAULT_POOL: u32 = 16;
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

    /// `url` with the default pool and timeout; `Err` says what is wrong with it (never
    /// repeating it: it may hold a password).
    pub fn new(url: &str) -> Result<PostgresConfig, String> {
        postgres::Config::from_str(url)
            .map_err(|e| format!("not a PostgreSQL connection string: {e}"))?;
        Ok(PostgresConfig {
            url: url.to_owned(),
            pool: PostgresConfig::DEFAULT_POOL,
            statement_timeout: PostgresConfig::DEFAULT_STATEMENT_TIMEOUT,
        })
    }
}

/// A pooled connection and the statements prepared on it.
struct Pooled {
    client: Client,
    statements: HashMap<String, Statement>,
}

pub(crate) struct PgStore {
    config: postgres::Config,
    statement_timeout: Duration,
    idle: Mutex<Vec<Pooled>>,
    size: usize,
    /// Reads and writes running at once, apart: writes waiting for a lock (a long
    /// transaction, a backup) never take every connection, so pages still answer.
    pub(crate) read_slots: Arc<Semaphore>,
    pub(crate) write_slots: Arc<Semaphore>,
    /// The lanes free now, one for each write slot: the writes running at once in this
    /// process each hold a different one.
    lanes: Mutex<Vec<u32>>,
    /// This process's own offset of its lanes (random), so that two processes' first lanes
    /// are seldom the same rows.
    salt: u32,
}

impl PgStore {
    /// Connects, and brings the schema up to date (once, whichever process comes first).
    pub(crate) fn open(config: &PostgresConfig) -> Result<PgStore, HubStoreError> {
        let parsed = postgres::Config::from_str(&config.url).map_err(|e| {
            HubStoreError::Unavailable(format!("HUB_DATABASE_URL does not parse: {e}"))
        })?;
        // At least one of each; writes get half (a write holds its connection longer).
        let size = config.pool.max(2) as usize;
        let writes = (size / 2).max(1);
        let store = PgStore {
            config: parsed,
            statement_timeout: config.statement_timeout,
            idle: Mutex::new(Vec::new()),
            size,
            read_slots: Arc::new(Semaphore::new(size - writes)),
            write_slots: Arc::new(Semaphore::new(writes)),
            lanes: Mutex::new((0..writes as u32).rev().collect()),
            salt: random_below(LANES),
        };
        let mut first = store.connect()?;
        super::migrations::run_postgres(&mut first.client)?;
        store.give_back(first);
        Ok(store)
    }

    fn connect(&self) -> Result<Pooled, HubStoreError> {
        let mut client = self.config.connect(NoTls).map_err(unavailable)?;
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}",
                self.statement_timeout.as_millis()
            ))
            .map_err(HubStoreError::from)?;
        Ok(Pooled {
            client,
            statements: HashMap::new(),
        })
    }

    fn take(&self) -> Result<Pooled, HubStoreError> {
        let idle = self.idle.lock().map(|mut i| i.pop()).unwrap_or(None);
        match idle {
            Some(p) if !p.client.is_closed() => Ok(p),
            _ => self.connect(),
        }
    }

    fn give_back(&self, pooled: Pooled) {
        if pooled.client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.size {
                idle.push(pooled);
            }
        }
    }

    /// Runs `work` in a read-only snapshot (call on a blocking thread, holding a slot).
    pub(crate) fn read<T>(
        &self,
        mut work: impl FnMut(&mut dyn Db) -> Result<T, HubStoreError>,
    ) -> Result<T, HubStoreError> {
        self.run(None, &mut work)
    }

    /// Runs `work` in a transaction and commits it, trying it again whole when another process
    /// got in the way (call on a blocking thread, holding a slot).
    pub(crate) fn write<T>(
        &self,
        mut work: impl FnMut(&mut dyn Db) -> Result<T, HubStoreError>,
    ) -> Result<T, HubStoreError> {
        // One lane per write slot, so there is always one free (a random one if not).
        let taken = self.lanes.lock().map(|mut l| l.pop()).unwrap_or(None);
        let lane = taken.unwrap_or_else(|| random_below(LANES));
        let result = self.run(Some(lane), &mut work);
        if let (Some(lane), Ok(mut free)) = (taken, self.lanes.lock()) {
            free.push(lane);
        }
        result
    }

    /// One transaction of `work`, tried again whole when another process got in the way, and
    /// once on a new connection when the pooled one turns out dead (the server restarted
    /// since it was last used).
    fn run<T>(
        &self,
        write_lane: Option<u32>,
        work: &mut dyn FnMut(&mut dyn Db) -> Result<T, HubStoreError>,
    ) -> Result<T, HubStoreError> {
        let read_only = write_lane.is_none();
        let mut pooled = self.take()?;
        let mut reconnected = false;
        let mut attempt = 0;
        let result = loop {
            attempt += 1;
            let outcome = (|| {
                let Pooled { client, statements } = &mut pooled;
                let mut tx = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(read_only)
                    .start()?;
                // Each try a lane 16 on: writes of this process stay apart (their lanes
                // differ modulo 16), and a write that met another process's on one row
                // moves off it.
                let lane = write_lane.map_or(0, |l| (self.salt + l + 16 * (attempt - 1)) % LANES);
                let value = work(&mut Postgres {
                    tx: &mut tx,
                    statements,
                    lane: i64::from(lane),
                })?;
                tx.commit()?;
                Ok(value)
            })();
            match outcome {
                Err(HubStoreError::Postgres(e)) if attempt < WRITE_ATTEMPTS && retryable(&e) => {
                    tracing::debug!(attempt, error = %describe(&e), "store: another process got in the way; again");
                    // Apart, not at once: writers that collided and all came straight back
                    // would collide again (a burst of intakes on one rollup's rows ran out of
                    // attempts so).
                    std::thread::sleep(backoff(attempt));
                }
                Err(HubStoreError::Postgres(e)) if retryable(&e) => {
                    tracing::warn!(
                        attempts = attempt,
                        error = %describe(&e),
                        "store: other writers got in the way every time; given up"
                    );
                    break Err(HubStoreError::Postgres(e));
                }
                Err(HubStoreError::Unavailable(why)) if !reconnected => {
                    tracing::debug!(error = %why, "store: the connection is gone; a new one");
                    reconnected = true;
                    match self.connect() {
                        Ok(fresh) => pooled = fresh,
                        Err(e) => break Err(e),
                    }
                }
                other => break other,
            }
        };
        self.give_back(pooled);
        result
    }
}

impl Drop for PgStore {
    /// Closing a connection waits for the server's goodbye on the client's own runtime, which
    /// cannot be done on a thread that drives async tasks (the hub may be dropped on one): the
    /// idle connections are closed on a thread of their own.
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("hub-pg-close".into())
                .spawn(move || drop(idle));
        }
    }
}

/// A random number below `n` (the middle one if the system has no randomness to give).
fn random_below(n: u32) -> u32 {
    let mut random = [0u8; 4];
    match getrandom::fill(&mut random) {
        Ok(()) => u32::from_le_bytes(random) % n,
        Err(_) => n / 2,
    }
}

/// How long to wait before try `attempt + 1` of a write that collided: a random time between a
/// quarter and the whole of 4 ms doubled with each try (256 ms at most; half a second in all
/// over eight tries), so the writers that collided come back apart.
fn backoff(attempt: u32) -> Duration {
    let ceiling_us = 2_000u32 << attempt.min(7);
    Duration::from_micros(u64::from(ceiling_us / 4 + random_below(ceiling_us) * 3 / 4))
}

/// Whether a failed write is worth trying again as it was.
fn retryable(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

/// The server cannot be reached (or dropped the connection): a 503, not a 500.
fn unavailable(e: postgres::Error) -> HubStoreError {
    HubStoreError::Unavailable(describe(&e))
}

/// A statement's failure, with the statement named in the debug log (its first words: the
/// SQL holds no values, which are parameters).
fn failed(sql: &str, e: postgres::Error) -> HubStoreError {
    // The fields are only worked out when debug lines are kept.
    tracing::debug!(
        statement = %sql.split_whitespace().take(8).collect::<Vec<_>>().join(" "),
        error = %describe(&e),
        "store: a statement failed"
    );
    HubStoreError::from(e)
}

/// What went wrong, for the log: the server's message and its SQLSTATE (the crate's own
/// words are only "db error"), never the server's detail, which may quote a row's values.
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl From<postgres::Error> for HubStoreError {
    fn from(e: postgres::Error) -> HubStoreError {
        if unreachable(&e) {
            unavailable(e)
        } else {
            HubStoreError::Postgres(e)
        }
    }
}

/// Whether the error says the server is away rather than the statement wrong: the connection
/// closed or failed, the server shutting down or starting (SQLSTATE class 08, 57P01–57P03).
fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        None => e.as_db_error().is_none(),
        Some(code) => {
            code.code().starts_with("08")
                || [
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(code)
        }
    }
}

/// A transaction on a pooled connection.
struct Postgres<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    statements: &'a mut HashMap<String, Statement>,
    lane: i64,
}

impl Postgres<'_, '_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, HubStoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.tx.prepare(&dollars(sql))?;
        // Lists built at run time (Open311's `IN (…)`) make many texts: keep the cache bounded.
        if self.statements.len() >= 256 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }
}

impl Db for Postgres<'_, '_> {
    fn lane(&self) -> i64 {
        self.lane
    }

    fn exec(&mut self, sql: &str, args: &[Value<'_>]) -> Result<u64, HubStoreError> {
        let statement = self.statement(sql)?;
        let params: Vec<Param<'_>> = args.iter().map(|a| Param(*a)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        self.tx
            .execute(&statement, &refs)
            .map_err(|e| failed(sql, e))
    }

    fn rows(&mut self, sql: &str, args: &[Value<'_>]) -> Result<Vec<Row>, HubStoreError> {
        let statement = self.statement(sql)?;
        let params: Vec<Param<'_>> = args.iter().map(|a| Param(*a)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        // Each row is read as it arrives (the server sends the rest meanwhile), not after all
        // of them: a month's scorecard reads a hundred thousand.
        let mut arriving = self
            .tx
            .query_raw(&statement, refs.iter().copied())
            .map_err(|e| failed(sql, e))?;
        let mut out = Vec::new();
        while let Some(r) = arriving.next().map_err(|e| failed(sql, e))? {
            out.push(row(&r)?);
        }
        Ok(out)
    }
}

/// `?1`, `?2` … as PostgreSQL writes them: `$1`, `$2` … (the store's SQL has no `?` elsewhere:
/// no string literal in it holds one). Public for the tests, which write their SQL the same way.
pub fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn row(r: &postgres::Row) -> Result<Row, HubStoreError> {
    let mut cells = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Cell::Int(i64::from(v)))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Cell::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?.map(Cell::Bool)
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Cell::Real)
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            r.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        } else {
            Some(Cell::Other)
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

/// A parameter bound to whatever type PostgreSQL inferred for its place: an integer to any
/// integer type (refused when it does not fit), a text to any text type, NULL to anything.
#[derive(Debug)]
struct Param<'a>(Value<'a>);

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) if *ty == Type::INT8 => v.to_sql(ty, out),
            Value::Int(v) if *ty == Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
            Value::Int(v) if *ty == Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
            Value::Text(t) if <&str as ToSql>::accepts(ty) => t.to_sql(ty, out),
            other => Err(format!("a {other:?} cannot stand where PostgreSQL expects {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_dollars_and_nothing_else_changes() {
        assert_eq!(
            dollars("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?10) AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $10) AND d = '?'"
        );
    }

    #[test]
    fn the_connection_string_is_checked_and_never_printed() {
        let c = PostgresConfig::new("postgres://hub:secret-password@127.0.0.1:5432/hub").unwrap();
        assert!(!format!("{c:?}").contains("secret-password"));
        assert_eq!(c.pool, PostgresConfig::DEFAULT_POOL);
        let e = PostgresConfig::new("postgres://hub@[::1/hub").unwrap_err();
        assert!(e.starts_with("not a PostgreSQL connection string"), "{e}");
    }
}
