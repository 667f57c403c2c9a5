//! systemd stops a service with SIGTERM, and a developer stops `cargo run` with Ctrl-C (SIGINT).
//! Either should close the kiosk the way closing its window does, so that the backend stops its
//! tasks in their order (the slip being printed comes out, the request in flight gets its
//! answer) instead of the process dying where it stands. Nothing acknowledged is lost either
//! way, since everything is committed first: this is about finishing what is in hand.
//!
//! The handler does the one thing that is safe in a signal handler: it writes the signal's
//! number to a pipe. A thread of its own reads the pipe and calls the caller's `stop` once; a
//! second signal (the operator pressing Ctrl-C again, or systemd's patience ending in SIGKILL
//! anyway) ends the process at once.
//!
//! Not for anything else: it does not stop tasks itself, and it knows nothing of Slint.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

/// Which signal asked the kiosk to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM: `systemctl stop`, a shutdown, or `kill`.
    Terminate,
    /// SIGINT: Ctrl-C in a terminal.
    Interrupt,
}

impl StopSignal {
    fn number(self) -> libc::c_int {
        match self {
            StopSignal::Terminate => libc::SIGTERM,
            StopSignal::Interrupt => libc::SIGINT,
        }
    }

    fn from_number(n: libc::c_int) -> Option<StopSignal> {
        [StopSignal::Terminate, StopSignal::Interrupt]
            .into_iter()
            .find(|s| s.number() == n)
    }
}

/// The pipe's write end, for the handler (-1 until `on_stop_signal` has run).
static PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn handler(signal: libc::c_int) {
    let fd = PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // The signal numbers fit a byte. A full pipe (a flood of signals) drops this one, which
        // is fine: the first one is what counts.
        let byte = signal as u8;
        // SAFETY: write(2) is async-signal-safe; `byte` lives for the whole call.
        unsafe {
            libc::write(fd, std::ptr::addr_of!(byte).cast(), 1);
        }
    }
}

/// From now on SIGTERM and SIGINT call `stop` (once, on a thread of its own); a second one ends
/// the process with status 128 + its number. Call it once, early.
pub fn on_stop_signal(stop: impl FnOnce(StopSignal) + Send + 'static) -> io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is an array of two ints, as pipe2(2) asks.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_end, write_end] = fds;
    if PIPE
        .compare_exchange(-1, write_end, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // SAFETY: both ends were just opened here and are used nowhere else.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return Err(io::Error::other("the stop signals are already taken"));
    }
    std::thread::Builder::new()
        .name("stop-signal".into())
        .spawn(move || wait_for_signals(read_end, stop))?;
    for signal in [StopSignal::Terminate, StopSignal::Interrupt] {
        // SAFETY: a zeroed sigaction is a valid starting point; the handler is an
        // `extern "C" fn(c_int)` that only calls write(2); SA_RESTART keeps other threads'
        // system calls from failing with EINTR.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal.number(), &action, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn wait_for_signals(read_end: libc::c_int, stop: impl FnOnce(StopSignal)) {
    let mut stop = Some(stop);
    loop {
        let mut byte = 0u8;
        // SAFETY: reads one byte into `byte`, which lives for the whole call.
        let n = unsafe { libc::read(read_end, std::ptr::addr_of_mut!(byte).cast(), 1) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if n != 1 {
            return;
        }
        let Some(signal) = StopSignal::from_number(libc::c_int::from(byte)) else {
            continue;
        };
        match stop.take() {
            Some(stop) => {
                tracing::info!(?signal, "asked to stop: finishing what is in hand");
                stop(signal);
            }
            None => {
                tracing::warn!(?signal, "asked to stop again: stopping now");
                std::process::exit(128 + signal.number());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    /// Set in the copy of this test binary that the test starts, which takes the signals.
    const CHILD: &str = "STOP_SIGNAL_TEST_CHILD";
    /// What the child's messages begin with.
    const MARK: &str = "stop-signal-test: ";
    const NAME: &str =
        "stop_signal::tests::a_term_signal_calls_stop_once_and_a_second_one_ends_the_process";

    fn child() -> ! {
        let (tx, rx) = std::sync::mpsc::channel();
        on_stop_signal(move |signal| tx.send(signal).expect("the test waits"))
            .expect("the signals are ours");
        // The harness may have begun a line of its own ("test … ... "), so each message starts
        // one and carries a marker the parent looks for.
        println!("\n{MARK}ready");
        let signal = rx.recv().expect("stop is called");
        println!("\n{MARK}stopping on {signal:?}");
        // The second signal must end the process from the signal thread, with 128 + 15.
        loop {
            std::thread::park();
        }
    }

    #[test]
    fn a_term_signal_calls_stop_once_and_a_second_one_ends_the_process() {
        if std::env::var_os(CHILD).is_some() {
            child();
        }
        // Through the emulator the tests run under, if any (scripts/test-aarch64).
        let exe = std::env::current_exe().expect("the test binary");
        let runner = std::env::var("GRIEVANCE_TEST_RUNNER").unwrap_or_default();
        let mut words = runner.split_whitespace();
        let mut command = match words.next() {
            Some(emulator) => {
                let mut c = Command::new(emulator);
                c.args(words).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        let mut process = command
            .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the test binary runs again");
        let pid = libc::pid_t::try_from(process.id()).expect("a pid");
        let mut lines = BufReader::new(process.stdout.take().expect("piped")).lines();
        let mut next_line = || {
            lines
                .by_ref()
                .map(|l| l.expect("text"))
                .find_map(|l| l.strip_prefix(MARK).map(str::to_owned))
        };
        assert_eq!(next_line().as_deref(), Some("ready"));
        // SAFETY: signals the child started above.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        assert_eq!(next_line().as_deref(), Some("stopping on Terminate"));
        // SAFETY: as above.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = process.wait().expect("the child ends");
        assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    }
}
