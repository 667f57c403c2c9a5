//! What the printer says about itself: the four real-time status bytes of `DLE EOT 1..4`
//! (`10 04 n`, one byte back each) turned into one state. No valid answer is *unknown*, never
//! *ready*: a printer that says nothing may have no paper, and a kiosk that assumes otherwise
//! leaves residents without their code (the bug users of other libraries complain about most).
//!
//! Every reply to `DLE EOT n` has the fixed bit pattern `0xx1xx10`: bit 0 and bit 7 clear,
//! bits 1 and 4 set. A byte that does not match is garbage (line noise, a wrong baud rate, a
//! reply to something else) and counts as no answer.

use serde::Serialize;

/// The `DLE EOT n` query for `n` in 1..=4: printer, offline cause, error cause, paper sensors.
pub fn query(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// The printer's state, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Everything answered and nothing is wrong.
    Ready,
    /// The near-end sensor sees the roll running low: print, and tell staff.
    NearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (e.g. the feed button is held).
    Offline,
    /// Cutter jam, unrecoverable or auto-recoverable error (overheated head).
    Error,
    /// No valid answer to at least one query, and nothing worse known.
    Unknown,
}

impl PrinterState {
    /// Every state, in the order declared.
    pub const ALL: [PrinterState; 7] = [
        PrinterState::Ready,
        PrinterState::NearEnd,
        PrinterState::PaperOut,
        PrinterState::CoverOpen,
        PrinterState::Offline,
        PrinterState::Error,
        PrinterState::Unknown,
    ];

    /// The name used on the command line and in `--json` (`ready`, `near_end`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterState::Ready => "ready",
            PrinterState::NearEnd => "near_end",
            PrinterState::PaperOut => "paper_out",
            PrinterState::CoverOpen => "cover_open",
            PrinterState::Offline => "offline",
            PrinterState::Error => "error",
            PrinterState::Unknown => "unknown",
        }
    }

    /// Whether a slip can be printed now (near end still prints).
    pub fn can_print(self) -> bool {
        matches!(self, PrinterState::Ready | PrinterState::NearEnd)
    }
}

/// The raw answers, `None` where the printer said nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StatusBytes {
    pub printer: Option<u8>,
    pub offline_cause: Option<u8>,
    pub error_cause: Option<u8>,
    pub paper: Option<u8>,
}

/// Whether a byte has the fixed pattern of a `DLE EOT` reply.
pub fn is_status_reply(byte: u8) -> bool {
    byte & 0x93 == 0x12
}

impl StatusBytes {
    /// The answers in query order (n = 1..=4).
    pub fn as_array(&self) -> [Option<u8>; 4] {
        [
            self.printer,
            self.offline_cause,
            self.error_cause,
            self.paper,
        ]
    }

    pub fn from_array(answers: [Option<u8>; 4]) -> StatusBytes {
        StatusBytes {
            printer: answers[0],
            offline_cause: answers[1],
            error_cause: answers[2],
            paper: answers[3],
        }
    }

    /// One state from the four answers, worst first: paper out, cover open, error, offline,
    /// then unknown if any answer is missing or garbage, then near end, then ready.
    pub fn state(&self) -> PrinterState {
        let valid = |b: Option<u8>| b.filter(|&b| is_status_reply(b));
        let printer = valid(self.printer);
        let offline = valid(self.offline_cause);
        let error = valid(self.error_cause);
        let paper = valid(self.paper);
        let bit = |b: Option<u8>, mask: u8| b.is_some_and(|b| b & mask != 0);

        // n=4 bits 5,6: paper end sensor; n=2 bit 5: printing stopped for paper end.
        if bit(paper, 0x60) || bit(offline, 0x20) {
            return PrinterState::PaperOut;
        }
        // n=2 bit 2: cover open.
        if bit(offline, 0x04) {
            return PrinterState::CoverOpen;
        }
        // n=3 bit 3: autocutter, bit 5: unrecoverable, bit 6: auto-recoverable; n=2 bit 6: error.
        if bit(error, 0x68) || bit(offline, 0x40) {
            return PrinterState::Error;
        }
        // n=1 bit 3: offline.
        if bit(printer, 0x08) {
            return PrinterState::Offline;
        }
        if printer.is_none() || offline.is_none() || error.is_none() || paper.is_none() {
            return PrinterState::Unknown;
        }
        // n=4 bits 2,3: near-end sensor.
        if bit(paper, 0x0c) {
            return PrinterState::NearEnd;
        }
        PrinterState::Ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(printer: u8, offline: u8, error: u8, paper: u8) -> StatusBytes {
        StatusBytes::from_array([Some(printer), Some(offline), Some(error), Some(paper)])
    }

    #[test]
    fn the_idle_answers_mean_ready() {
        assert_eq!(all(0x16, 0x12, 0x12, 0x12).state(), PrinterState::Ready);
    }

    #[test]
    fn each_sensor_maps_to_its_state() {
        assert_eq!(all(0x16, 0x12, 0x12, 0x1e).state(), PrinterState::NearEnd);
        assert_eq!(all(0x1e, 0x32, 0x12, 0x72).state(), PrinterState::PaperOut);
        assert_eq!(all(0x1e, 0x16, 0x12, 0x12).state(), PrinterState::CoverOpen);
        assert_eq!(all(0x1e, 0x52, 0x1a, 0x12).state(), PrinterState::Error);
        assert_eq!(all(0x1e, 0x12, 0x12, 0x12).state(), PrinterState::Offline);
    }

    #[test]
    fn silence_is_unknown_never_ready() {
        assert_eq!(StatusBytes::default().state(), PrinterState::Unknown);
        let mut one_missing = all(0x16, 0x12, 0x12, 0x12);
        one_missing.paper = None;
        assert_eq!(one_missing.state(), PrinterState::Unknown);
    }

    #[test]
    fn garbage_counts_as_no_answer() {
        assert!(!is_status_reply(0x00));
        assert!(!is_status_reply(0xff));
        assert!(!is_status_reply(0x13), "XOFF is never a status reply");
        assert_eq!(all(0x16, 0x12, 0x12, 0xff).state(), PrinterState::Unknown);
        assert_eq!(all(0x41, 0x42, 0x43, 0x44).state(), PrinterState::Unknown);
    }

    #[test]
    fn a_known_fault_wins_over_a_missing_answer() {
        let s = StatusBytes::from_array([None, None, None, Some(0x72)]);
        assert_eq!(s.state(), PrinterState::PaperOut);
    }
}
