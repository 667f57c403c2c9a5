//! The scanner's reader: lines as scanners end them, garbage refused without a panic, and a
//! real pseudo-terminal standing in for the serial port, unplugged and plugged in again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use super::*;

fn lines_of(chunks: &[&[u8]]) -> Vec<Scan> {
    let mut lines = Lines::new();
    let mut scans = Vec::new();
    for chunk in chunks {
        lines.feed(chunk, |scan| scans.push(scan));
    }
    scans
}

fn text(s: &str) -> Scan {
    Scan::Text(s.to_owned())
}

#[test]
fn cr_lf_and_cr_lf_together_each_end_one_line_and_blank_lines_are_no_scan() {
    assert_eq!(
        lines_of(&[b"A1\rB2\nC3\r\nD4\n\rE5\r\r\n\n"]),
        [text("A1"), text("B2"), text("C3"), text("D4"), text("E5")]
    );
    // A line arrives in pieces, and its CR LF is split between two reads.
    assert_eq!(
        lines_of(&[b"7K3Q", b"-9XPD-2W4M", b"-HT8C-X\r", b"\nNEXT", b"\r\n"]),
        [text("7K3Q-9XPD-2W4M-HT8C-X"), text("NEXT")]
    );
}

#[test]
fn spaces_and_control_characters_around_a_code_are_not_part_of_it() {
    // Some scanners wrap a code in STX/ETX, or pad it.
    assert_eq!(
        lines_of(&[b"\x02 CODE \x03\r\n", b"\x00\r\n", b"  \t\r\n"]),
        [text("CODE")]
    );
}

#[test]
fn a_line_that_is_not_utf8_is_refused_and_the_next_one_is_read() {
    assert_eq!(
        lines_of(&[b"\xff\xfe\xc3(\r\n", b"OK\r\n", b"\xe4\xb8", b"\xad\r\n"]),
        [Scan::NotText, text("OK"), text("中")]
    );
}

#[test]
fn an_over_long_line_is_dropped_as_it_arrives_and_reported_once() {
    let mut lines = Lines::new();
    let mut scans = Vec::new();
    let garbage = vec![b'X'; 4 * MAX_LINE];
    for _ in 0..100 {
        lines.feed(&garbage, |scan| scans.push(scan));
        assert!(
            lines.line.capacity() <= 2 * MAX_LINE,
            "memory stays bounded"
        );
    }
    lines.feed(b"\r\nNEXT\r\n", |scan| scans.push(scan));
    assert_eq!(scans, [Scan::TooLong, text("NEXT")]);
    // Exactly MAX_LINE bytes is still a line.
    let longest = "Y".repeat(MAX_LINE);
    assert_eq!(
        lines_of(&[longest.as_bytes(), b"\n"]),
        [Scan::Text(longest.clone())]
    );
}

// ---- through a pseudo-terminal ------------------------------------------------------------

/// Fast timings, so that the tests do not wait on the kiosk's defaults.
const TIMING: Timing = Timing {
    poll: Duration::from_millis(20),
    reopen_after: Duration::from_millis(60),
    // Long enough that a line written in two pieces is never taken for two, even on a busy
    // machine.
    quiet: Duration::from_millis(1000),
};

/// A "scanner": the master side of a pseudo-terminal, and a stable link to its slave that the
/// reader opens, as udev's stable name on a kiosk.
struct FakeScanner {
    master: TTYPort,
    /// Held open, as the printer emulator does, so that the terminal outlives a reader's close;
    /// and it tells how much of what was sent nobody has read yet.
    slave: std::fs::File,
    slave_path: PathBuf,
}

impl FakeScanner {
    fn plug_in(link: &Path) -> FakeScanner {
        // Close-on-exec, so that a program another test starts meanwhile cannot keep the
        // terminal from hanging up when it is unplugged.
        let crate::emulator::PseudoTerminal {
            mut master,
            slave,
            slave_path,
        } = crate::emulator::pseudo_terminal().expect("a pseudo-terminal");
        master.set_timeout(Duration::from_secs(2)).unwrap();
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&slave_path, link).expect("the link is made");
        FakeScanner {
            master,
            slave,
            slave_path,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("the scanner writes");
        self.master.flush().ok();
    }

    /// Waits until the reader has taken everything sent (the terminal's input queue is empty).
    fn wait_until_read(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while unread(&self.slave) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the reader never read what was sent"
            );
            // (A poll's interval, not a wait standing in for the event.)
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Unplugged: the terminal hangs up and its name disappears.
    fn unplug(self, link: &Path) {
        let FakeScanner { slave_path, .. } = &self;
        assert_eq!(std::fs::read_link(link).unwrap(), *slave_path);
        std::fs::remove_file(link).unwrap();
        drop(self);
    }
}

/// Bytes in the terminal's input queue that nobody has read yet (`FIONREAD` on the slave).
fn unread(slave: &std::fs::File) -> libc::c_int {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `n`; the descriptor is open for the call.
    let failed = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(slave),
            libc::FIONREAD as _,
            &mut n,
        )
    };
    assert_eq!(
        failed,
        0,
        "the queue's length: {}",
        std::io::Error::last_os_error()
    );
    n
}

struct Reader {
    events: Receiver<ScannerEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reader {
    fn start(path: &Path) -> Reader {
        let (sender, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (path, stopping) = (path.to_string_lossy().into_owned(), stop.clone());
        let thread = std::thread::spawn(move || {
            run(
                &path,
                DEFAULT_BAUD,
                TIMING,
                &|| stopping.load(Ordering::SeqCst),
                |event| {
                    let _ = sender.send(event);
                },
            )
        });
        Reader {
            events,
            stop,
            thread: Some(thread),
        }
    }

    fn next(&self) -> ScannerEvent {
        match self.events.recv_timeout(Duration::from_secs(10)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => panic!("the reader reported nothing"),
            Err(RecvTimeoutError::Disconnected) => panic!("the reader stopped"),
        }
    }

    fn scan(&self) -> Scan {
        match self.next() {
            ScannerEvent::Scan(scan) => scan,
            other => panic!("expected a scan, got {other:?}"),
        }
    }

    fn quiet_for(&self, length: Duration) {
        if let Ok(event) = self.events.recv_timeout(length) {
            panic!("expected nothing, got {event:?}");
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the reader never panics");
        }
    }
}

#[test]
fn codes_arrive_as_the_scanner_sends_them_and_garbage_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let mut scanner = FakeScanner::plug_in(&link);
    let reader = Reader::start(&link);
    assert_eq!(reader.next(), ScannerEvent::Connected);

    scanner.send(b"7K3Q-9XPD-2W4M-HT8C-X\r\n");
    assert_eq!(reader.scan(), text("7K3Q-9XPD-2W4M-HT8C-X"));
    scanner.send(b"HTTP://127.0.0.1:8787/T/7K3Q9XPD2W4MHT8CX\r");
    assert_eq!(
        reader.scan(),
        text("HTTP://127.0.0.1:8787/T/7K3Q9XPD2W4MHT8CX")
    );
    scanner.send(b"\nLF-ONLY\n");
    assert_eq!(reader.scan(), text("LF-ONLY"));
    scanner.send(b"SPLIT");
    scanner.send(b"-IN-TWO\r");
    scanner.send(b"\n");
    assert_eq!(reader.scan(), text("SPLIT-IN-TWO"));

    // An over-long line of garbage: dropped, reported once, and the line after it is read.
    let mut garbage = vec![b'#'; 3000];
    garbage.extend_from_slice(b"\r\nAFTER-GARBAGE\r\n");
    scanner.send(&garbage);
    assert_eq!(reader.scan(), Scan::TooLong);
    assert_eq!(reader.scan(), text("AFTER-GARBAGE"));

    // Not UTF-8: refused, and the reader goes on.
    scanner.send(b"\xff\xfe\xc3(\x80\r\nSTILL-READING\r\n");
    assert_eq!(reader.scan(), Scan::NotText);
    assert_eq!(reader.scan(), text("STILL-READING"));

    // A scanner set to send no line ending: the line ends when it goes quiet.
    scanner.send(b"NO-SUFFIX");
    assert_eq!(reader.scan(), text("NO-SUFFIX"));
    reader.quiet_for(Duration::from_millis(200));
}

#[test]
fn the_port_disappears_and_comes_back_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    // Not plugged in at start: the reader says so once, and keeps trying.
    let reader = Reader::start(&link);
    match reader.next() {
        ScannerEvent::Lost(why) => assert!(why.contains("scanner"), "{why}"),
        other => panic!("expected the port to be missing, got {other:?}"),
    }
    reader.quiet_for(TIMING.reopen_after * 5);

    let mut scanner = FakeScanner::plug_in(&link);
    assert_eq!(reader.next(), ScannerEvent::Connected);
    scanner.send(b"FIRST\r\n");
    assert_eq!(reader.scan(), text("FIRST"));

    // Unplugged halfway through a scan: the half line is thrown away.
    scanner.send(b"HALF-A-");
    scanner.wait_until_read();
    scanner.unplug(&link);
    match reader.next() {
        ScannerEvent::Lost(why) => {
            assert!(why.contains("went away") || why.contains("closed"), "{why}")
        }
        other => panic!("expected the port to be lost, got {other:?}"),
    }
    // Retrying every reopen_after, and not saying so each time.
    reader.quiet_for(TIMING.reopen_after * 5);

    let mut scanner = FakeScanner::plug_in(&link);
    assert_eq!(reader.next(), ScannerEvent::Connected);
    scanner.send(b"AFTER-REPLUG\r\n");
    assert_eq!(reader.scan(), text("AFTER-REPLUG"));

    // And again, to be sure a second loss is noticed as well as the first.
    scanner.unplug(&link);
    assert!(matches!(reader.next(), ScannerEvent::Lost(_)));
    let mut scanner = FakeScanner::plug_in(&link);
    assert_eq!(reader.next(), ScannerEvent::Connected);
    scanner.send(b"THIRD\n");
    assert_eq!(reader.scan(), text("THIRD"));
}

#[test]
fn stopping_ends_the_reader_whether_or_not_the_port_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    // Each drop joins the reader's thread: the test ends only if both readers stop.
    drop(Reader::start(&link));
    let _scanner = FakeScanner::plug_in(&link);
    let reader = Reader::start(&link);
    assert_eq!(reader.next(), ScannerEvent::Connected);
    drop(reader);
}
