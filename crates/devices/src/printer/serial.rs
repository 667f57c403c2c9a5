//! The serial ESC/POS printer: the bytes of a slip out over a serial line (USB-serial or RS-232)
//! with the line set up as the profile and station say, and the printer's own answers back.
//!
//! What can go wrong on a serial line, and what this does about it:
//! - the printer holds the line (buffer full, XOFF never followed by XON, a dead cable with
//!   RTS/CTS): every write has a timeout, so a stalled write is a fault, not a hang;
//! - the port disappears (USB unplugged): the error drops the port, and the next operation opens
//!   it again by path (udev's stable name follows the printer when it comes back);
//! - the printer answers nothing or garbage: the status is unknown, never ready.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort};

use super::transport::{LinkError, PrinterLink};
use crate::serial_line;
use slip::profile::{FlowControl, Parity, SerialSettings};
use slip::status::{query, StatusBytes};

/// Time limits of the line; the defaults suit a thermal printer on a kiosk.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long one answer to a status query may take.
    pub answer: Duration,
    /// How long one chunk may take to go out before the write counts as stalled.
    pub write: Duration,
    /// How long the printer may take to work through a job before it answers `GS r 1`.
    pub finish: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            answer: Duration::from_millis(300),
            write: Duration::from_secs(3),
            finish: Duration::from_secs(8),
        }
    }
}

/// Bytes written at a time. The port's timeout only bounds the wait until the line can take
/// *some* data; a single blocking `write` larger than the room left then blocks until it all
/// fits, forever if the printer holds the line. Tty drivers report room once fewer than 256
/// bytes are pending, and USB-serial drivers may have little room, so writes stay small; at
/// 115200 baud eight 64-byte writes cost nothing measurable.
const CHUNK: usize = 64;

pub struct SerialPrinter {
    path: String,
    settings: SerialSettings,
    timeouts: Timeouts,
    answers_gs_r: bool,
    port: Option<Box<dyn SerialPort>>,
    /// The last failure of the line itself, until an exchange succeeds again.
    problem: Option<String>,
}

impl SerialPrinter {
    /// A printer on `path`. The port is opened on first use, and again after it disappears.
    pub fn new(
        path: &str,
        settings: SerialSettings,
        answers_gs_r: bool,
        timeouts: Timeouts,
    ) -> SerialPrinter {
        SerialPrinter {
            path: path.to_owned(),
            settings,
            timeouts,
            answers_gs_r,
            port: None,
            problem: None,
        }
    }

    fn port(&mut self) -> Result<&mut Box<dyn SerialPort>, LinkError> {
        if self.port.is_none() {
            let port = serial_line::open(&self.path, &self.settings, self.timeouts.write).map_err(
                |e| {
                    let e = LinkError::Disconnected(format!("cannot open {}: {e}", self.path));
                    self.problem = Some(e.to_string());
                    e
                },
            )?;
            self.port = Some(Box::new(port));
        }
        Ok(self.port.as_mut().expect("opened above"))
    }

    /// Forgets the port after an error that means it is gone.
    fn lost(&mut self, what: &str, e: std::io::Error) -> LinkError {
        self.port = None;
        let e = LinkError::Disconnected(format!("{}: {what}: {e}", self.path));
        self.problem = Some(e.to_string());
        e
    }

    /// Reads exactly one byte within `within`, or nothing.
    fn answer(&mut self, within: Duration) -> Result<Option<u8>, LinkError> {
        let port = self.port()?;
        port.set_timeout(within).ok();
        let mut byte = [0u8; 1];
        let started = Instant::now();
        loop {
            match port.read(&mut byte) {
                Ok(1) => return Ok(Some(byte[0])),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost("reading", e)),
            }
            if started.elapsed() >= within {
                return Ok(None);
            }
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let write_timeout = self.timeouts.write;
        let mut sent = 0;
        while sent < bytes.len() {
            let end = (sent + CHUNK).min(bytes.len());
            let port = self.port()?;
            port.set_timeout(write_timeout).ok();
            match port.write(&bytes[sent..end]) {
                Ok(0) => {
                    return Err(LinkError::Stalled {
                        sent,
                        total: bytes.len(),
                    })
                }
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(LinkError::Stalled {
                        sent,
                        total: bytes.len(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost("writing", e)),
            }
        }
        // No `flush` (tcdrain): with the printer holding the line it would wait forever. The
        // status question sent next travels behind the slip, so its answer proves the printer
        // received all of it.
        Ok(())
    }
}

impl PrinterLink for SerialPrinter {
    fn describe(&self) -> String {
        let s = &self.settings;
        let parity = match s.parity {
            Parity::None => 'N',
            Parity::Odd => 'O',
            Parity::Even => 'E',
        };
        let flow = match s.flow_control {
            FlowControl::None => "no flow control",
            FlowControl::XonXoff => "XON/XOFF",
            FlowControl::RtsCts => "RTS/CTS",
        };
        format!(
            "serial printer on {} ({} {}{parity}1, {flow})",
            self.path, s.baud, s.data_bits
        )
    }

    fn status(&mut self) -> StatusBytes {
        let mut answers = [None; 4];
        for (i, slot) in answers.iter_mut().enumerate() {
            let asked = self.port().map(|port| {
                // Whatever is waiting is not the answer to this question.
                port.clear(ClearBuffer::Input).ok();
            });
            if asked.is_err() || self.write_all(&query(i as u8 + 1)).is_err() {
                return StatusBytes::from_array(answers);
            }
            match self.answer(self.timeouts.answer) {
                Ok(b) => *slot = b,
                Err(_) => return StatusBytes::from_array(answers),
            }
        }
        // The line works; what the printer says (or not) is the status's business.
        self.problem = None;
        StatusBytes::from_array(answers)
    }

    fn problem(&self) -> Option<String> {
        self.problem.clone()
    }

    fn send(&mut self, _name: &str, bytes: &[u8]) -> Result<(), LinkError> {
        self.write_all(bytes)
    }

    fn finish(&mut self) -> Option<bool> {
        if !self.answers_gs_r {
            return None;
        }
        self.port().ok()?.clear(ClearBuffer::Input).ok();
        self.write_all(&[0x1d, 0x72, 0x01]).ok()?;
        let reply = self.answer(self.timeouts.finish).ok()??;
        // GS r 1: bits 2,3 = paper end; bits 4 and 7 are always 0, so a byte with either set
        // (every DLE EOT answer has bit 4) is a stray answer to something else.
        if reply & 0x90 != 0 {
            return None;
        }
        Some(reply & 0x0c == 0)
    }
}
