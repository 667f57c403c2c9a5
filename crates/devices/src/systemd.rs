//! The kiosk under systemd (`systemd/grievance-kiosk.service`, `Type=notify`, `WatchdogSec=`):
//! the notify protocol, spoken directly (one datagram per message to `$NOTIFY_SOCKET`), and the
//! watchdog that pets systemd only while every part of the kiosk makes progress.
//!
//! Each long-lived part (the UI loop, the print queue, the outbox) holds a [`Beat`] and beats it
//! each time round its loop; [`Liveness`] knows how long each may go quiet (its loop's longest
//! honest pause: the print queue's poll and a printer that times out, the outbox's sleep and an
//! upstream that times out). The watchdog thread sends `WATCHDOG=1` every half `WatchdogSec`
//! only if no part has been quiet for longer than it may; otherwise it says which part is stuck
//! (`STATUS=`, and in the log, which reaches the journal) and stops petting, and systemd
//! restarts the kiosk. A free-running timer would keep a deadlocked kiosk "healthy".

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where systemd listens for this service's notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAddress {
    Path(PathBuf),
    /// An abstract socket (`@name` in `$NOTIFY_SOCKET`).
    Abstract(Vec<u8>),
}

/// Sends notify messages (`READY=1`, `WATCHDOG=1`, `STATUS=…`).
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    address: NotifyAddress,
}

impl Notifier {
    /// The notifier of `$NOTIFY_SOCKET`, when the kiosk runs under systemd.
    pub fn from_env() -> Option<Notifier> {
        let raw = std::env::var_os("NOTIFY_SOCKET")?;
        let raw = raw.to_string_lossy();
        let address = match raw.strip_prefix('@') {
            Some(name) => NotifyAddress::Abstract(name.as_bytes().to_vec()),
            None => NotifyAddress::Path(PathBuf::from(raw.as_ref())),
        };
        Notifier::to(address).ok()
    }

    pub fn to(address: NotifyAddress) -> io::Result<Notifier> {
        Ok(Notifier {
            socket: UnixDatagram::unbound()?,
            address,
        })
    }

    /// Sends one message (`KEY=value` lines).
    pub fn send(&self, message: &str) -> io::Result<()> {
        match &self.address {
            NotifyAddress::Path(p) => self.socket.send_to(message.as_bytes(), p).map(|_| ()),
            NotifyAddress::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                self.socket
                    .send_to_addr(message.as_bytes(), &addr)
                    .map(|_| ())
            }
        }
    }
}

/// `WatchdogSec=` as systemd passes it (`$WATCHDOG_USEC`, for this process: `$WATCHDOG_PID`).
pub fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var_os("WATCHDOG_PID") {
        if pid.to_string_lossy().trim() != std::process::id().to_string() {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

struct Part {
    name: &'static str,
    allowed: Duration,
    /// Milliseconds since `start` at the last beat.
    last: AtomicU64,
}

/// The parts of the kiosk that must keep making progress, and when each last did.
#[derive(Clone)]
pub struct Liveness {
    start: Instant,
    parts: Arc<Vec<Part>>,
}

/// One part's heartbeat: beat it each time round the part's loop.
#[derive(Clone)]
pub struct Beat {
    liveness: Liveness,
    index: usize,
}

impl Beat {
    pub fn beat(&self) {
        let now = self.liveness.start.elapsed().as_millis() as u64;
        self.liveness.parts[self.index]
            .last
            .store(now, Ordering::Relaxed);
    }
}

impl Liveness {
    /// The parts, each with how long it may go quiet. Each counts as having just beaten.
    pub fn new(parts: &[(&'static str, Duration)]) -> Liveness {
        Liveness {
            start: Instant::now(),
            parts: Arc::new(
                parts
                    .iter()
                    .map(|&(name, allowed)| Part {
                        name,
                        allowed,
                        last: AtomicU64::new(0),
                    })
                    .collect(),
            ),
        }
    }

    /// The heartbeat of the part `name`.
    ///
    /// # Panics
    /// If there is no such part (a programming error, caught by the kiosk's tests).
    pub fn beat(&self, name: &str) -> Beat {
        let index = self
            .parts
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no part `{name}` is watched"));
        Beat {
            liveness: self.clone(),
            index,
        }
    }

    /// The parts quiet for longer than they may be, with how long.
    pub fn stuck(&self) -> Vec<(&'static str, Duration)> {
        let now = self.start.elapsed();
        self.parts
            .iter()
            .filter_map(|p| {
                let quiet =
                    now.saturating_sub(Duration::from_millis(p.last.load(Ordering::Relaxed)));
                (quiet > p.allowed).then_some((p.name, quiet))
            })
            .collect()
    }
}

/// Pets systemd's watchdog every half `interval` while no part is stuck; runs on its own
/// thread for as long as the process.
pub fn spawn_watchdog(
    notifier: Notifier,
    liveness: Liveness,
    interval: Duration,
) -> io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut said_stuck = false;
            loop {
                let stuck = liveness.stuck();
                if stuck.is_empty() {
                    if said_stuck {
                        said_stuck = false;
                        let _ = notifier.send("STATUS=running");
                        tracing::info!("watchdog: every part makes progress again");
                    }
                    if let Err(e) = notifier.send("WATCHDOG=1") {
                        tracing::warn!(error = %e, "watchdog: cannot reach systemd");
                    }
                } else if !said_stuck {
                    said_stuck = true;
                    let which: Vec<String> = stuck
                        .iter()
                        .map(|(name, quiet)| format!("{name} (quiet {:.1} s)", quiet.as_secs_f64()))
                        .collect();
                    let message = format!("stuck: {}", which.join(", "));
                    tracing::error!(
                        "watchdog: {message}; not petting systemd, which will restart the kiosk"
                    );
                    let _ = notifier.send(&format!("STATUS={message}"));
                }
                std::thread::sleep(interval / 2);
            }
        })
}
