//! A throwaway PostgreSQL cluster for the tests, started by the tests themselves: `initdb` in a
//! temporary directory, the server on a Unix socket in that directory only (no TCP port, so
//! nothing outside the test can reach it and no port can clash), as the unprivileged `nobody`
//! when the tests run as root (PostgreSQL refuses to run as root). Each test gets a database of
//! its own ([`Cluster::new_database`]).
//!
//! The server stops, and its directory goes, when the test process ends: it runs under a small
//! shell that waits on a pipe only this process holds, and a closed pipe (the process gone,
//! however it ended) makes the shell stop the server and remove the directory.
//!
//! Needs Debian's `postgresql` (`/usr/lib/postgresql/<version>/bin`); `scripts/test` installs it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const START_DEADLINE: Duration = Duration::from_secs(60);

pub struct Cluster {
    /// Where the server's socket is (and its data, in `data/`).
    dir: PathBuf,
    bin: PathBuf,
    /// The shell that stops the server when its standard input closes.
    keeper: Mutex<Option<Child>>,
    fsync: bool,
    databases: AtomicU32,
}

/// The cluster this test process shares (started by the first test that asks).
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(|| Cluster::start(false))
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL is installed (/usr/lib/postgresql/<version>/bin/initdb; apt-get install \
         postgresql, which scripts/test does)",
    )
}

/// Runs `f` on a thread of its own: the synchronous client starts a runtime of its own, which
/// cannot be done on a thread that drives an async test.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("the database call does not panic"))
}

/// The first column of the first row of `sql` on the database at `url`, as an integer.
pub fn query_i64(url: &str, sql: &str) -> i64 {
    off_runtime(|| {
        postgres::Client::connect(url, postgres::NoTls)
            .expect("the test database takes connections")
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0)
    })
}

/// Runs `sql` (one or more statements) on the database at `url`.
pub fn execute(url: &str, sql: &str) {
    off_runtime(|| {
        postgres::Client::connect(url, postgres::NoTls)
            .expect("the test database takes connections")
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    })
}

/// A value a test writes into or reads from a hub's database, whichever the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Sql {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Sql {
    pub fn text(&self) -> String {
        match self {
            Sql::Text(t) => t.clone(),
            other => panic!("a text expected, found {other:?}"),
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Sql::Int(v) => *v,
            other => panic!("an integer expected, found {other:?}"),
        }
    }
}

/// Binds a [`Sql`] to whatever type PostgreSQL expects in its place (tests write what they
/// choose, right or wrong).
#[derive(Debug)]
struct Bind<'a>(&'a Sql);

impl postgres::types::ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self.0 {
            Sql::Null => Ok(postgres::types::IsNull::Yes),
            Sql::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Sql::Int(v) => v.to_sql(ty, out),
            Sql::Real(v) => v.to_sql(ty, out),
            Sql::Text(t) => t.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// `?1` … as `$1` …, as the hub itself turns them.
fn dollars(sql: &str) -> String {
    hub::store::postgres_placeholders(sql)
}

/// Runs `sql` (parameters `?1` …) on the database at `url`; its rows.
pub fn rows(url: &str, sql: &str, params: &[Sql]) -> Vec<Vec<Sql>> {
    use postgres::types::Type;
    off_runtime(|| {
        let mut client = postgres::Client::connect(url, postgres::NoTls)
            .expect("the test database takes connections");
        let binds: Vec<Bind<'_>> = params.iter().map(Bind).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            binds.iter().map(|b| b as _).collect();
        let found = client
            .query(dollars(sql).as_str(), &refs)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        found
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        let ty = r.columns()[i].type_().clone();
                        if ty == Type::INT8 {
                            r.get::<_, Option<i64>>(i).map_or(Sql::Null, Sql::Int)
                        } else if ty == Type::INT4 {
                            r.get::<_, Option<i32>>(i)
                                .map_or(Sql::Null, |v| Sql::Int(i64::from(v)))
                        } else if ty == Type::BOOL {
                            r.get::<_, Option<bool>>(i)
                                .map_or(Sql::Null, |v| Sql::Int(i64::from(v)))
                        } else if ty == Type::FLOAT8 {
                            r.get::<_, Option<f64>>(i).map_or(Sql::Null, Sql::Real)
                        } else {
                            r.get::<_, Option<String>>(i).map_or(Sql::Null, Sql::Text)
                        }
                    })
                    .collect()
            })
            .collect()
    })
}

/// Runs the statement `sql` (parameters `?1` …) once per entry of `each`, in one
/// transaction, on the database at `url`; rows changed.
pub fn write(url: &str, sql: &str, each: &[Vec<Sql>]) -> u64 {
    off_runtime(|| {
        let mut client = postgres::Client::connect(url, postgres::NoTls)
            .expect("the test database takes connections");
        let mut tx = client.transaction().expect("a transaction");
        let statement = tx
            .prepare(dollars(sql).as_str())
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut changed = 0;
        for params in each {
            let binds: Vec<Bind<'_>> = params.iter().map(Bind).collect();
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                binds.iter().map(|b| b as _).collect();
            changed += tx
                .execute(&statement, &refs)
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        tx.commit().expect("the writes commit");
        changed
    })
}

/// A transaction held open on its own connection (and thread) until dropped: `sql` ran in it
/// (a lock taken, as a backup or a long write would hold one).
pub struct Held {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn hold(url: &str, sql: &str) -> Held {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    let (taken, is_taken) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .expect("the test database takes connections");
        let mut tx = client.transaction().expect("a transaction");
        tx.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        taken.send(()).expect("the test waits for the lock");
        let _ = released.recv();
        tx.rollback().expect("the transaction ends");
    });
    is_taken.recv().expect("the lock is taken");
    Held {
        release: Some(release),
        thread: Some(thread),
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Drops every CHECK constraint of the database at `url`: it may then hold what a hand edit or
/// an older hub could leave (unknown states, roles), as SQLite does with its checks off.
pub fn drop_checks(url: &str) {
    execute(
        url,
        "DO $$ DECLARE c record; BEGIN
           FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
                    WHERE contype = 'c' AND connamespace = 'public'::regnamespace LOOP
             EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
           END LOOP;
         END $$",
    );
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program args…`, as `nobody` when this process is root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Cluster {
    /// A new cluster of its own (a test that restarts the server must not share one).
    /// `fsync`: whether the server syncs (off for speed unless the test needs a crash to
    /// keep what was committed).
    pub fn start(fsync: bool) -> Cluster {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("grievance-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        if is_root() {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(&dir)
                .status()
                .expect("chown runs");
            assert!(status.success(), "the cluster's directory goes to nobody");
        }
        let data = dir.join("data");
        let out = as_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "hub",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = Cluster {
            dir,
            bin,
            keeper: Mutex::new(None),
            fsync,
            databases: AtomicU32::new(0),
        };
        cluster.run_server();
        cluster
    }

    /// Starts the server (again) and waits until it takes connections.
    fn run_server(&self) {
        let script = r#"
            "$1" -D "$2/data" -k "$2" -c listen_addresses= -c max_connections=500 \
                 -c shared_buffers=32MB -c fsync="$3" -c synchronous_commit="$3" \
                 -c full_page_writes="$3" >"$2/server.log" 2>&1 &
            pid=$!
            what=
            read -r what
            kill -INT "$pid" 2>/dev/null
            wait "$pid"
            [ "$what" = keep ] || rm -rf "$2"
        "#;
        let fsync = if self.fsync { "on" } else { "off" };
        let keeper = as_owner(Path::new("/bin/sh"))
            .args(["-c", script, "keeper"])
            .arg(self.bin.join("postgres"))
            .arg(&self.dir)
            .arg(fsync)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        *self.keeper.lock().unwrap() = Some(keeper);
        self.wait_until_ready();
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let url = self.url("postgres");
            if off_runtime(|| postgres::Client::connect(&url, postgres::NoTls).is_ok()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (a fast shutdown, as systemd's would be) and keeps its data.
    pub fn stop(&self) {
        let keeper = self.keeper.lock().unwrap().take();
        if let Some(mut keeper) = keeper {
            // `keep`: stop the server, keep the data (an end of input removes them too).
            if let Some(stdin) = keeper.stdin.as_mut() {
                let _ = stdin.write_all(b"keep\n");
            }
            let _ = keeper.wait();
        }
    }

    /// Starts the server again on the same data.
    pub fn restart(&self) {
        self.run_server();
    }

    /// The connection string of database `name` (key=value form: a socket directory).
    pub fn url(&self, name: &str) -> String {
        format!(
            "host={} port=5432 user=hub dbname={name}",
            self.dir.display()
        )
    }

    /// A new, empty database; its connection string.
    pub fn new_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("hub_{}_{n}", std::process::id());
        execute(&self.url("postgres"), &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The end of the keeper's input: the server stops and its directory goes.
        if let Some(mut keeper) = self.keeper.lock().ok().and_then(|mut k| k.take()) {
            drop(keeper.stdin.take());
            let _ = keeper.wait();
        }
    }
}
