//! nginx in front of hub processes, on loopback, configured by the repository's own
//! `deploy/province/nginx.conf` (its listening address and upstream servers made the caller's).
//! nginx comes from Debian (`nginx-light`, which `scripts/test` installs). Used by the tests'
//! two-process hub (`kiosk_headless::hub_fleet`) and by the fleet benchmark (`benches/kiosk.rs`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long nginx may take to start or to finish a reload.
const DEADLINE: Duration = Duration::from_secs(120);

/// nginx with the repository's configuration, its upstream servers replaced by `ports`.
pub struct Nginx {
    dir: TempDir,
    child: Child,
    port: u16,
    connections: usize,
}

impl Nginx {
    pub fn start(ports: &[u16]) -> Nginx {
        Nginx::start_with(ports, 256)
    }

    /// With `connections` for its one worker (the fleet benchmark's thousands of clients).
    pub fn start_with(ports: &[u16], connections: usize) -> Nginx {
        let dir = TempDir::new().unwrap();
        // nginx's own port: bound here and handed to nginx open, as its binary upgrade hands
        // sockets on (the `NGINX` variable names the inherited descriptors, and a `listen` on
        // the same address takes it), so no other process can take the port in between.
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
        let nginx = Nginx::write_config(dir.path(), port, ports, connections);
        let mut command = Command::new(nginx_binary());
        command
            .args(["-p"])
            .arg(dir.path())
            .args(["-c"])
            .arg(&nginx)
            .args(["-g", "daemon off;"])
            .env("NGINX", format!("{fd};"))
            .stdout(Stdio::null())
            // What it says before its own log is open (the inherited socket among it).
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap());
        // SAFETY: between fork and exec only fcntl(2), which is async-signal-safe: the socket
        // stays open across exec in nginx alone (it is close-on-exec everywhere else).
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("nginx starts");
        drop(socket);
        let mut started = Nginx {
            dir,
            child,
            port,
            connections,
        };
        // Ready once its worker runs (the socket accepted connections into its backlog from
        // the start, so a connect alone proves nothing).
        let deadline = Instant::now() + DEADLINE;
        while !started.log().contains("start worker process ") {
            if let Some(status) = started.child.try_wait().unwrap() {
                panic!("nginx ended ({status}): {}", started.log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not start: {}",
                started.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let early = std::fs::read_to_string(started.dir.path().join("stderr.log")).unwrap();
        assert!(
            early.contains("using inherited sockets"),
            "nginx took the socket handed to it: {early}"
        );
        started
    }

    /// The main file, and the repository's `deploy/province/nginx.conf` included from it with
    /// its listening address and upstream servers made this test's.
    fn write_config(
        dir: &Path,
        port: u16,
        ports: &[u16],
        connections: usize,
    ) -> std::path::PathBuf {
        let ours = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/province/nginx.conf"),
        )
        .expect("deploy/province/nginx.conf");
        assert!(ours.contains("server 127.0.0.1:8787") && ours.contains("listen 80;"));
        let servers: String = ports
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"))
            .collect();
        let mut site = String::new();
        let mut servers_written = false;
        for line in ours.lines() {
            if line.trim_start().starts_with("server 127.0.0.1:") {
                if !servers_written {
                    site.push_str(&servers);
                    servers_written = true;
                }
                continue;
            }
            site.push_str(&line.replace("listen 80;", &format!("listen 127.0.0.1:{port};")));
            site.push('\n');
        }
        std::fs::write(dir.join("grievance-hub.conf"), site).unwrap();
        let d = dir.display();
        let main = format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log notice;\nworker_processes 1;\n\
             events {{ worker_connections {connections}; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             include {d}/grievance-hub.conf;\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, main).unwrap();
        path
    }

    /// Puts `ports` in the upstream and reloads nginx (as `systemctl reload nginx` would), and
    /// waits until the old worker, which still knew the old upstream, has exited.
    pub fn reload(&self, ports: &[u16]) {
        let exited = |log: &str| log.matches("exited with code").count();
        let before = exited(&self.log());
        Nginx::write_config(self.dir.path(), self.port, ports, self.connections);
        let status = Command::new(nginx_binary())
            .arg("-p")
            .arg(self.dir.path())
            .arg("-c")
            .arg(self.dir.path().join("nginx.conf"))
            .args(["-s", "reload"])
            .status()
            .expect("nginx -s reload runs");
        assert!(status.success(), "nginx reloads: {}", self.log());
        let deadline = Instant::now() + DEADLINE;
        while exited(&self.log()) <= before {
            assert!(
                Instant::now() < deadline,
                "the old worker never left: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and then itself (a SIGKILL would leave the
        // workers behind).
        // SAFETY: a plain kill(2) of our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> &'static str {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is installed (apt-get install nginx-light; scripts/test does it)")
}
