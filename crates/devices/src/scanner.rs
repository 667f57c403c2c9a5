//! The barcode scanner on a serial line (a USB scanner in its serial/CDC mode, or RS-232): each
//! scan arrives as one line of text, the code or the tracking URL of a slip's QR code. This
//! module reads those lines and nothing else; what a scan means is the controller's business
//! (`app::controller`), and a keyboard-wedge scanner (one that types) never comes here.
//!
//! What can go wrong on the line, and what this does about it:
//! - lines end in CR, LF or CR LF as the scanner is set up: any of them ends a line, and the
//!   empty "line" between CR and LF is no scan. A scanner set to send no suffix at all still
//!   works: a line also ends after [`Timing::quiet`] without a byte;
//! - garbage (a wrong baud rate, noise, a scanner in another code page): a line that is not
//!   UTF-8 is refused as [`Scan::NotText`], and a line longer than [`MAX_LINE`] bytes is dropped
//!   as it arrives and reported once as [`Scan::TooLong`]; memory never grows with the line;
//! - the port disappears (USB unplugged, the scanner rebooting): the read fails, the port is
//!   dropped, and it is opened again by path every [`Timing::reopen_after`] until it is back (a
//!   udev rule gives the scanner a stable name). Half a line from before the loss is thrown
//!   away, never glued to the next scan.
//!
//! The reader is a blocking loop ([`run`]) for a thread of its own; it never panics on
//! anything the line sends.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use slip::profile::SerialSettings;

/// The scanner's line speed when the configuration names none: the factory setting of most
/// scanners' serial mode (8 data bits, no parity, one stop bit, no flow control).
pub const DEFAULT_BAUD: u32 = 9600;

/// The longest line taken as a scan, in bytes. A tracking URL is at most about 230 bytes (a
/// base URL of up to 200, `/T/` and the code); anything far longer is not ours.
pub const MAX_LINE: usize = 512;

/// One scan, as the line delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A line of text, without the spaces and control characters at its ends (never empty).
    Text(String),
    /// A line that is not UTF-8 text: a misread, noise, or a scanner set to another encoding.
    NotText,
    /// A line longer than [`MAX_LINE`] bytes; its bytes were dropped.
    TooLong,
}

/// What the reader reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerEvent {
    /// The port is open and being read.
    Connected,
    /// The port cannot be opened or went away (said once per loss, not on every retry).
    Lost(String),
    /// A line arrived.
    Scan(Scan),
}

/// Time limits of the reader; the defaults suit a scanner on a kiosk.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long one read waits for bytes; also how soon a stop request is noticed.
    pub(crate) poll: Duration,
    /// How long after the port went away (or would not open) it is tried again.
    pub reopen_after: Duration,
    /// How long without a byte ends a line that has no line ending.
    pub(crate) quiet: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            poll: Duration::from_millis(200),
            reopen_after: Duration::from_secs(2),
            quiet: Duration::from_millis(500),
        }
    }
}

/// Splits the bytes of the line into scans, bounded in memory: what [`run`] reads with, public
/// so that the property tests and the fuzz target feed it any bytes, split anywhere.
#[derive(Debug, Default)]
pub struct Lines {
    line: Vec<u8>,
    /// The line passed [`MAX_LINE`]; its remaining bytes are dropped until it ends.
    too_long: bool,
}

impl Lines {
    pub fn new() -> Lines {
        Lines::default()
    }

    /// Takes bytes as they arrive; `scanned` gets every line they complete.
    pub fn feed(&mut self, bytes: &[u8], mut scanned: impl FnMut(Scan)) {
        for &byte in bytes {
            match byte {
                b'\r' | b'\n' => self.end(&mut scanned),
                _ if self.too_long => {}
                _ if self.line.len() >= MAX_LINE => {
                    self.too_long = true;
                    self.line = Vec::new();
                }
                _ => self.line.push(byte),
            }
        }
    }

    /// Whether part of a line is waiting for its end.
    pub fn pending(&self) -> bool {
        !self.line.is_empty() || self.too_long
    }

    /// Ends the line waiting, if any (the line went quiet without a line ending).
    pub fn end(&mut self, mut scanned: impl FnMut(Scan)) {
        let scan = if self.too_long {
            Some(Scan::TooLong)
        } else {
            match std::str::from_utf8(&self.line) {
                Err(_) => Some(Scan::NotText),
                Ok(text) => {
                    let text = text.trim_matches(|c: char| c.is_whitespace() || c.is_control());
                    (!text.is_empty()).then(|| Scan::Text(text.to_owned()))
                }
            }
        };
        self.discard();
        if let Some(scan) = scan {
            scanned(scan);
        }
    }

    /// Forgets a partial line (the port went away in the middle of it).
    pub fn discard(&mut self) {
        self.line.clear();
        self.too_long = false;
    }
}

/// Opens the scanner's port: 8N1, no flow control, reads that wait at most `poll`.
fn open(path: &str, baud: u32, poll: Duration) -> Result<Box<dyn serialport::SerialPort>, String> {
    let eight_n_one = SerialSettings {
        baud,
        ..SerialSettings::default()
    };
    crate::serial_line::open(path, &eight_n_one, poll)
        .map(|port| Box::new(port) as Box<dyn serialport::SerialPort>)
        .map_err(|e| format!("cannot open the scanner's port {path}: {e}"))
}

/// Sleeps for `length`, waking early when `stop` says so.
fn pause(length: Duration, step: Duration, stop: &dyn Fn() -> bool) {
    let until = Instant::now() + length;
    while !stop() {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(step));
    }
}

/// Reports a loss of the port, once: not again while it stays lost.
fn lost(why: String, connected: &mut Option<bool>, report: &mut impl FnMut(ScannerEvent)) {
    if *connected != Some(false) {
        report(ScannerEvent::Lost(why));
    }
    *connected = Some(false);
}

/// Reads the scanner on `path` at `baud` until `stop` returns true, reporting every scan and
/// every loss and return of the port to `report`. Runs on its own thread (it blocks).
pub fn run(
    path: &str,
    baud: u32,
    timing: Timing,
    stop: &dyn Fn() -> bool,
    mut report: impl FnMut(ScannerEvent),
) {
    let mut lines = Lines::new();
    // `None` until the first attempt; a loss is reported only when the port was there before
    // (or on the very first failure), not on each retry.
    let mut connected: Option<bool> = None;
    let mut buffer = [0u8; 256];
    while !stop() {
        let mut port = match open(path, baud, timing.poll) {
            Ok(port) => port,
            Err(why) => {
                lost(why, &mut connected, &mut report);
                pause(timing.reopen_after, timing.poll, stop);
                continue;
            }
        };
        connected = Some(true);
        report(ScannerEvent::Connected);
        let mut last_byte = Instant::now();
        while !stop() {
            match port.read(&mut buffer) {
                Ok(0) => {
                    lost(
                        format!("the scanner's port {path} closed"),
                        &mut connected,
                        &mut report,
                    );
                    break;
                }
                Ok(n) => {
                    last_byte = Instant::now();
                    lines.feed(&buffer[..n], |scan| report(ScannerEvent::Scan(scan)));
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    if lines.pending() && last_byte.elapsed() >= timing.quiet {
                        lines.end(|scan| report(ScannerEvent::Scan(scan)));
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    lost(
                        format!("the scanner's port {path} went away: {e}"),
                        &mut connected,
                        &mut report,
                    );
                    break;
                }
            }
        }
        drop(port);
        lines.discard();
        pause(timing.reopen_after, timing.poll, stop);
    }
}

#[cfg(test)]
mod tests;
