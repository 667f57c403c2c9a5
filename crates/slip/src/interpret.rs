//! The project's one ESC/POS interpreter: reads a byte stream the way a printer would and
//! says what would come out of it.
//!
//! It owns the command grammar (which bytes form one command, how many arguments it takes),
//! the character decoding (GB18030 in Chinese mode, CP437 outside it) and the [`Printout`]
//! model that tests, the renderer and the printer emulator read. It never panics and never
//! gives up: an unknown, malformed or truncated command becomes a [`Warning`] with its byte
//! offset, and reading goes on. It draws nothing (see `render`) and answers nothing: status
//! queries are only recorded, in order, for whoever plays the printer.
//!
//! Bytes may arrive in pieces ([`Interpreter::push`]); a command split across pieces is held
//! until it is complete, so reading a stream in one piece or byte by byte gives the same result.

use std::fmt;

use encoding_rs::GB18030;

use crate::escpos::{CR, DLE, EOT, ESC, FS, GS, HT, LF, NUL};
use crate::layout::Align;

/// What a printer would have produced from a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printout {
    /// Printed lines, symbols, images, feeds and cuts, top to bottom.
    pub elements: Vec<Element>,
    /// Everything that a printer would not have understood, or not as the sender meant.
    pub warnings: Vec<Warning>,
    /// Status questions, in the order they came.
    pub status_queries: Vec<StatusQuery>,
}

/// Something a printer would not have understood, at a byte offset of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}: {}", self.offset, self.message)
    }
}

/// A question the host asked the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusQuery {
    /// `DLE EOT n`: real-time status, answered at once with one byte.
    DleEot(u8),
    /// `GS r n`: status answered once all preceding data is processed.
    GsR(u8),
}

/// One printed thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A line of text, ended by `LF` (or by a command that prints the buffer).
    /// `line_spacing` is the `ESC 2`/`ESC 3` value in dots in force when it printed.
    Line {
        runs: Vec<Run>,
        align: Align,
        line_spacing: u32,
    },
    /// A QR symbol printed by `GS ( k` function 181 from the data stored by function 180.
    Qr {
        data: Vec<u8>,
        module_size: u8,
        ec_level: QrLevel,
        align: Align,
    },
    /// A `GS v 0` raster image, already scaled by its mode: rows of `width_dots / 8` bytes,
    /// most significant bit leftmost, 1 = black.
    Raster {
        width_dots: u32,
        height_dots: u32,
        bits: Vec<u8>,
        align: Align,
    },
    /// Blank paper.
    Feed { dots: u32 },
    /// The paper is cut.
    Cut { partial: bool },
}

/// A stretch of a line printed in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub(crate) text: String,
    pub(crate) width_mul: u8,
    pub(crate) height_mul: u8,
    pub(crate) bold: bool,
    /// Printed in Chinese (`FS &`) mode: non-ASCII characters take a full 24-dot cell.
    pub(crate) chinese_mode: bool,
}

/// QR error-correction level (`GS ( k` function 169).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrLevel {
    L,
    M,
    Q,
    H,
}

impl Printout {
    /// The elements of each job: everything up to and including a cut, and what follows the
    /// last cut if anything does.
    #[cfg(test)]
    fn jobs(&self) -> Vec<&[Element]> {
        let mut jobs = Vec::new();
        let mut start = 0;
        for (i, element) in self.elements.iter().enumerate() {
            if matches!(element, Element::Cut { .. }) {
                jobs.push(&self.elements[start..=i]);
                start = i + 1;
            }
        }
        if start < self.elements.len() {
            jobs.push(&self.elements[start..]);
        }
        jobs
    }

    /// The plain text of each printed line.
    pub fn text_lines(&self) -> Vec<String> {
        self.elements
            .iter()
            .filter_map(|e| match e {
                Element::Line { runs, .. } => Some(runs.iter().map(|r| r.text.as_str()).collect()),
                _ => None,
            })
            .collect()
    }

    /// The data of each printed native QR symbol, as text.
    pub fn qr_payloads(&self) -> Vec<String> {
        self.elements
            .iter()
            .filter_map(|e| match e {
                Element::Qr { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                _ => None,
            })
            .collect()
    }
}

/// Reads a whole stream.
pub fn interpret(bytes: &[u8]) -> Printout {
    let mut interpreter = Interpreter::new();
    interpreter.push(bytes);
    interpreter.finish()
}

/// `ESC 2` line spacing: 1/6 inch, about 30 dots at 180 dpi (34 at 203 dpi).
pub(crate) const DEFAULT_LINE_SPACING: u32 = 30;
/// Tab stops every 8 columns, the power-on setting.
const TAB_COLUMNS: usize = 8;
/// Power-on QR module size (`GS ( k` function 167).
const DEFAULT_QR_MODULE_SIZE: u8 = 3;
/// Longest data a barcode (`GS k` form A) may carry before its NUL is missing for good.
const MAX_BARCODE_DATA: usize = 255;
/// `ESC` commands with one argument byte that change nothing the printout models
/// (underline, right spacing, double strike, font, character set, rotation, upside down,
/// peripheral select, colour, unidirectional, user-defined set).
const ESC_IGNORED_ONE_ARG: &[u8] = b"- GMRV{=rU%";
/// `GS` commands with one argument byte that change nothing the printout models
/// (reverse, HRI position and font, barcode height and width, automatic status back,
/// printer ID, smoothing).
const GS_IGNORED_ONE_ARG: &[u8] = b"BHfhwaIb";

/// A printer state machine fed with bytes.
#[derive(Debug, Default)]
pub struct Interpreter {
    /// Bytes of a command (or character) not complete yet.
    pending: Vec<u8>,
    /// Stream offset of `pending[0]`.
    offset: usize,
    mode: Mode,
    qr: QrStore,
    /// Text waiting for a line feed.
    line: Vec<Run>,
    /// Code pages already warned about, so a long text warns once.
    warned_code_pages: Vec<u8>,
    printout: Printout,
}

/// Print modes set by commands; `ESC @` restores the default.
#[derive(Debug, Clone)]
struct Mode {
    align: Align,
    bold: bool,
    width_mul: u8,
    height_mul: u8,
    chinese: bool,
    code_page: u8,
    line_spacing: u32,
}

impl Default for Mode {
    fn default() -> Self {
        Mode {
            align: Align::Left,
            bold: false,
            width_mul: 1,
            height_mul: 1,
            chinese: false,
            code_page: 0,
            line_spacing: DEFAULT_LINE_SPACING,
        }
    }
}

#[derive(Debug, Clone)]
struct QrStore {
    data: Option<Vec<u8>>,
    module_size: u8,
    ec_level: QrLevel,
}

impl Default for QrStore {
    fn default() -> Self {
        QrStore {
            data: None,
            module_size: DEFAULT_QR_MODULE_SIZE,
            ec_level: QrLevel::L,
        }
    }
}

impl Interpreter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the next bytes of the stream. A command cut off at the end waits for the rest.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let buffer = std::mem::take(&mut self.pending);
        let mut position = 0;
        while position < buffer.len() {
            match self.step(&buffer[position..], self.offset + position) {
                Some(consumed) => position += consumed,
                None => break,
            }
        }
        self.offset += position;
        self.pending = buffer;
        self.pending.drain(..position);
    }

    /// What has been printed so far.
    pub fn printout(&self) -> &Printout {
        &self.printout
    }

    /// Ends the stream: a command still incomplete, or text never ended by a line feed, is
    /// reported, since a printer would not print either.
    pub(crate) fn finish(mut self) -> Printout {
        if let Some(first) = self.pending.first() {
            let message = format!(
                "the stream ends inside a command or character ({} bytes from {first:#04x})",
                self.pending.len()
            );
            self.warn(self.offset, message);
        }
        if !self.line.is_empty() {
            let text: String = self.line.iter().map(|r| r.text.as_str()).collect();
            self.warn(
                self.offset + self.pending.len(),
                format!("text without a final line feed is never printed: {text:?}"),
            );
        }
        self.printout
    }

    fn warn(&mut self, offset: usize, message: impl Into<String>) {
        self.printout.warnings.push(Warning {
            offset,
            message: message.into(),
        });
    }

    /// Interprets the command or character at the start of `b` (never empty). Returns how
    /// many bytes it took, at least one, or `None` when `b` ends before it does.
    fn step(&mut self, b: &[u8], at: usize) -> Option<usize> {
        match b[0] {
            LF => {
                if !self.print_line() {
                    self.feed(self.mode.line_spacing);
                }
                Some(1)
            }
            // Printers with automatic line feed off, the default, ignore CR.
            CR => Some(1),
            HT => {
                self.tab();
                Some(1)
            }
            ESC => self.esc(b, at),
            GS => self.gs(b, at),
            FS => self.fs(b, at),
            DLE => self.dle(b, at),
            control @ (0x00..=0x1F | 0x7F) => {
                self.warn(at, format!("control byte {control:#04x} is not a command"));
                Some(1)
            }
            byte @ 0x20..=0x7E => {
                self.print_char(char::from(byte));
                Some(1)
            }
            _ if self.mode.chinese => self.chinese_char(b, at),
            byte => {
                self.code_page_char(byte, at);
                Some(1)
            }
        }
    }

    fn esc(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let command = *b.get(1)?;
        match command {
            b'@' => {
                if !self.line.is_empty() {
                    self.warn(at, "ESC @ discards text waiting for a line feed");
                    self.line.clear();
                }
                self.mode = Mode::default();
                self.qr = QrStore::default();
                Some(2)
            }
            b't' => {
                self.mode.code_page = *b.get(2)?;
                Some(3)
            }
            b'a' => {
                let n = *b.get(2)?;
                if !self.line.is_empty() {
                    self.warn(at, "ESC a in the middle of a line is ignored");
                } else {
                    match n {
                        0 | 48 => self.mode.align = Align::Left,
                        1 | 49 => self.mode.align = Align::Center,
                        2 | 50 => self.mode.align = Align::Right,
                        _ => self.warn(at, format!("ESC a {n}: no such justification")),
                    }
                }
                Some(3)
            }
            b'E' => {
                self.mode.bold = *b.get(2)? & 1 == 1;
                Some(3)
            }
            b'!' => {
                let n = *b.get(2)?;
                self.mode.bold = n & 0x08 != 0;
                self.mode.height_mul = if n & 0x10 != 0 { 2 } else { 1 };
                self.mode.width_mul = if n & 0x20 != 0 { 2 } else { 1 };
                Some(3)
            }
            b'd' => {
                let lines = u32::from(*b.get(2)?);
                // The printed line is the first of the n lines fed.
                let lines = if self.print_line() {
                    lines.saturating_sub(1)
                } else {
                    lines
                };
                self.feed(lines * self.mode.line_spacing);
                Some(3)
            }
            b'J' => {
                let dots = u32::from(*b.get(2)?);
                self.print_line();
                self.feed(dots);
                Some(3)
            }
            b'2' => {
                self.mode.line_spacing = DEFAULT_LINE_SPACING;
                Some(2)
            }
            b'3' => {
                self.mode.line_spacing = u32::from(*b.get(2)?);
                Some(3)
            }
            b'p' => {
                b.get(4)?;
                Some(5)
            }
            b'c' => {
                let sub = *b.get(2)?;
                b.get(3)?;
                if !(3..=5).contains(&sub) {
                    self.warn(at, format!("unknown command ESC c {sub:#04x}"));
                }
                Some(4)
            }
            b'$' | b'\\' => {
                b.get(3)?;
                Some(4)
            }
            b'D' => {
                // Up to 32 tab positions ended by NUL.
                let end = b.iter().skip(2).take(33).position(|&x| x == NUL);
                match end {
                    Some(i) => Some(2 + i + 1),
                    None if b.len() < 2 + 33 => None,
                    None => {
                        self.warn(at, "ESC D: more than 32 tab positions without NUL");
                        Some(2)
                    }
                }
            }
            b'*' => {
                let mode = *b.get(2)?;
                let columns = usize::from(*b.get(3)?) + 256 * usize::from(*b.get(4)?);
                let bytes_per_column = match mode {
                    0 | 1 => 1,
                    32 | 33 => 3,
                    _ => {
                        self.warn(at, format!("ESC * {mode}: no such bit-image mode"));
                        return Some(3);
                    }
                };
                let length = 5 + columns * bytes_per_column;
                b.get(length - 1)?;
                self.warn(at, "ESC * column bit images are not rendered");
                Some(length)
            }
            c if ESC_IGNORED_ONE_ARG.contains(&c) => {
                b.get(2)?;
                Some(3)
            }
            _ => {
                self.warn(at, format!("unknown command ESC {command:#04x}"));
                Some(2)
            }
        }
    }

    fn gs(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let command = *b.get(1)?;
        match command {
            b'!' => {
                let n = *b.get(2)?;
                let (width, height) = ((n >> 4) + 1, (n & 0x0F) + 1);
                if width > 8 || height > 8 {
                    self.warn(at, format!("GS ! {n:#04x}: sizes above 8 are clamped"));
                }
                self.mode.width_mul = width.min(8);
                self.mode.height_mul = height.min(8);
                Some(3)
            }
            b'(' => {
                let function = *b.get(2)?;
                let length = usize::from(*b.get(3)?) + 256 * usize::from(*b.get(4)?);
                let end = 5 + length;
                let parameters = b.get(5..end)?;
                if function == b'k' {
                    self.symbol(parameters, at);
                } else {
                    self.warn(at, format!("GS ( {function:#04x} is not interpreted"));
                }
                Some(end)
            }
            b'8' => {
                // GS 8 L: graphics with a four-byte length.
                b.get(6)?;
                let length = u32::from_le_bytes([b[3], b[4], b[5], b[6]]);
                let end = usize::try_from(length).ok().and_then(|l| l.checked_add(7));
                match end {
                    Some(end) => {
                        b.get(end - 1)?;
                        self.warn(at, format!("GS 8 {:#04x} graphics are not rendered", b[2]));
                        Some(end)
                    }
                    None => {
                        self.warn(at, "GS 8: length beyond any stream");
                        Some(2)
                    }
                }
            }
            b'v' => {
                if *b.get(2)? != b'0' {
                    self.warn(at, format!("unknown command GS v {:#04x}", b[2]));
                    return Some(3);
                }
                let header = b.get(3..8)?;
                let (mode, row_bytes, rows) = (
                    header[0],
                    usize::from(header[1]) + 256 * usize::from(header[2]),
                    usize::from(header[3]) + 256 * usize::from(header[4]),
                );
                let end = 8 + row_bytes * rows;
                if row_bytes == 0 || rows == 0 {
                    self.warn(at, "GS v 0 with an empty image");
                    return Some(8);
                }
                let data = b.get(8..end)?;
                self.raster(mode, row_bytes, rows, data, at);
                Some(end)
            }
            b'V' => {
                let m = *b.get(2)?;
                match m {
                    0 | 48 | 1 | 49 => {
                        self.cut(m % 48 == 1, at);
                        Some(3)
                    }
                    65 | 66 => {
                        let n = *b.get(3)?;
                        self.print_pending_before(at, "GS V");
                        self.feed(u32::from(n));
                        self.cut(m == 66, at);
                        Some(4)
                    }
                    97 | 98 | 103 | 104 => {
                        b.get(3)?;
                        self.cut(m % 2 == 0, at);
                        Some(4)
                    }
                    _ => {
                        self.warn(at, format!("GS V {m}: no such cut"));
                        Some(3)
                    }
                }
            }
            b'r' => {
                let n = *b.get(2)?;
                if matches!(n, 1 | 2 | 4 | 49 | 50 | 52) {
                    self.printout.status_queries.push(StatusQuery::GsR(n));
                } else {
                    self.warn(at, format!("GS r {n}: no such status"));
                }
                Some(3)
            }
            b'L' | b'W' => {
                b.get(3)?;
                Some(4)
            }
            b'k' => self.barcode(b, at),
            c if GS_IGNORED_ONE_ARG.contains(&c) => {
                b.get(2)?;
                Some(3)
            }
            _ => {
                self.warn(at, format!("unknown command GS {command:#04x}"));
                Some(2)
            }
        }
    }

    fn fs(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let command = *b.get(1)?;
        match command {
            b'&' => {
                self.mode.chinese = true;
                Some(2)
            }
            b'.' => {
                self.mode.chinese = false;
                Some(2)
            }
            // Kanji print mode, underline, quadruple size, code system.
            b'!' | b'-' | b'W' | b'C' => {
                b.get(2)?;
                Some(3)
            }
            b'S' => {
                b.get(3)?;
                Some(4)
            }
            b'p' => {
                b.get(3)?;
                self.warn(at, "FS p NV bit images are not rendered");
                Some(4)
            }
            _ => {
                self.warn(at, format!("unknown command FS {command:#04x}"));
                Some(2)
            }
        }
    }

    fn dle(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let command = *b.get(1)?;
        match command {
            EOT => {
                let n = *b.get(2)?;
                match n {
                    1..=4 => {
                        self.printout.status_queries.push(StatusQuery::DleEot(n));
                        Some(3)
                    }
                    // Ink, peeler and interface status take a second byte.
                    7 | 8 | 18 => {
                        b.get(3)?;
                        self.printout.status_queries.push(StatusQuery::DleEot(n));
                        Some(4)
                    }
                    _ => {
                        self.warn(at, format!("DLE EOT {n}: no such status"));
                        Some(3)
                    }
                }
            }
            // DLE ENQ n: recover from an error; no output.
            0x05 => {
                b.get(2)?;
                Some(3)
            }
            // DLE DC4 1 m t / DLE DC4 2 1 8: drawer pulse, power off.
            0x14 => {
                let function = *b.get(2)?;
                if matches!(function, 1 | 2) {
                    b.get(4)?;
                    Some(5)
                } else {
                    self.warn(at, format!("DLE DC4 {function}: not interpreted"));
                    Some(3)
                }
            }
            _ => {
                self.warn(at, "control byte 0x10 (DLE) is not a command here");
                Some(1)
            }
        }
    }

    /// `GS ( k`: 2D symbols. Only QR (cn = 49) is modelled.
    fn symbol(&mut self, parameters: &[u8], at: usize) {
        let [cn, function, rest @ ..] = parameters else {
            self.warn(at, "GS ( k without symbol and function");
            return;
        };
        if *cn != 0x31 {
            self.warn(
                at,
                format!("GS ( k symbol {cn:#04x} is not a QR code and is not rendered"),
            );
            return;
        }
        match (*function, rest) {
            (0x41, [model, ..]) => {
                if !matches!(model, 0x31 | 0x32) {
                    self.warn(
                        at,
                        format!("QR model {model:#04x} is not rendered as model 2"),
                    );
                }
            }
            (0x43, [size, ..]) if (1..=16).contains(size) => self.qr.module_size = *size,
            (0x45, [level, ..]) if (0x30..=0x33).contains(level) => {
                self.qr.ec_level =
                    [QrLevel::L, QrLevel::M, QrLevel::Q, QrLevel::H][usize::from(level - 0x30)];
            }
            (0x50, [0x30, data @ ..]) => self.qr.data = Some(data.to_vec()),
            (0x51, [0x30, ..]) => match self.qr.data.clone() {
                Some(data) => {
                    self.print_pending_before(at, "QR print (GS ( k fn 181)");
                    let (module_size, ec_level, align) =
                        (self.qr.module_size, self.qr.ec_level, self.mode.align);
                    self.printout.elements.push(Element::Qr {
                        data,
                        module_size,
                        ec_level,
                        align,
                    });
                }
                None => self.warn(at, "QR print (GS ( k fn 181) with no stored data"),
            },
            // Function 182 asks for the symbol's size: nothing printed.
            (0x52, _) => {}
            _ => self.warn(
                at,
                format!("GS ( k QR function {function:#04x} with bad parameters {rest:02x?}"),
            ),
        }
    }

    /// `GS k`: a barcode, skipped whole so that its data is not printed as text.
    fn barcode(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let system = *b.get(2)?;
        let end = match system {
            0..=6 => match b
                .iter()
                .skip(3)
                .take(MAX_BARCODE_DATA + 1)
                .position(|&x| x == NUL)
            {
                Some(i) => 3 + i + 1,
                None if b.len() < 3 + MAX_BARCODE_DATA + 1 => return None,
                None => {
                    self.warn(at, "GS k barcode data without NUL");
                    return Some(3);
                }
            },
            65..=79 => 4 + usize::from(*b.get(3)?),
            _ => {
                self.warn(at, format!("GS k {system}: no such barcode system"));
                return Some(3);
            }
        };
        b.get(end - 1)?;
        self.warn(at, "GS k barcodes are not rendered");
        Some(end)
    }

    /// `GS v 0`: stores the image scaled by its mode (double width and/or height).
    fn raster(&mut self, mode: u8, row_bytes: usize, rows: usize, data: &[u8], at: usize) {
        let (double_width, double_height) = match mode {
            0 | 48 => (false, false),
            1 | 49 => (true, false),
            2 | 50 => (false, true),
            3 | 51 => (true, true),
            _ => {
                self.warn(at, format!("GS v 0 mode {mode}: printed at normal size"));
                (false, false)
            }
        };
        self.print_pending_before(at, "GS v 0");
        let out_row_bytes = if double_width {
            row_bytes * 2
        } else {
            row_bytes
        };
        let mut bits = Vec::with_capacity(out_row_bytes * rows * if double_height { 2 } else { 1 });
        for row in data.chunks(row_bytes) {
            let start = bits.len();
            if double_width {
                bits.extend(row.iter().flat_map(|&byte| {
                    let wide = (0..8).fold(0u16, |acc, bit| {
                        if byte & (0x80 >> bit) != 0 {
                            acc | (0xC000 >> (2 * bit))
                        } else {
                            acc
                        }
                    });
                    wide.to_be_bytes()
                }));
            } else {
                bits.extend_from_slice(row);
            }
            if double_height {
                bits.extend_from_within(start..);
            }
        }
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let height = if double_height { rows * 2 } else { rows };
        self.printout.elements.push(Element::Raster {
            width_dots: to_u32(out_row_bytes * 8),
            height_dots: to_u32(height),
            bits,
            align: self.mode.align,
        });
    }

    fn cut(&mut self, partial: bool, at: usize) {
        self.print_pending_before(at, "GS V");
        self.printout.elements.push(Element::Cut { partial });
    }

    /// Commands that act only at the beginning of a line: a printer either ignores them or
    /// prints the waiting text first. Modelled as the latter, with a warning, since the
    /// sender meant something else either way.
    fn print_pending_before(&mut self, at: usize, what: &str) {
        if self.print_line() {
            self.warn(at, format!("{what} is not at the beginning of a line"));
        }
    }

    /// Prints the waiting text as a line; false when there was none.
    fn print_line(&mut self) -> bool {
        if self.line.is_empty() {
            return false;
        }
        let runs = std::mem::take(&mut self.line);
        self.printout.elements.push(Element::Line {
            runs,
            align: self.mode.align,
            line_spacing: self.mode.line_spacing,
        });
        true
    }

    fn feed(&mut self, dots: u32) {
        if dots > 0 {
            self.printout.elements.push(Element::Feed { dots });
        }
    }

    fn print_char(&mut self, c: char) {
        let mode = &self.mode;
        match self.line.last_mut() {
            Some(run)
                if run.width_mul == mode.width_mul
                    && run.height_mul == mode.height_mul
                    && run.bold == mode.bold
                    && run.chinese_mode == mode.chinese =>
            {
                run.text.push(c);
            }
            _ => self.line.push(Run {
                text: c.to_string(),
                width_mul: mode.width_mul,
                height_mul: mode.height_mul,
                bold: mode.bold,
                chinese_mode: mode.chinese,
            }),
        }
    }

    /// Advances to the next tab stop with spaces.
    fn tab(&mut self) {
        let column: usize = self
            .line
            .iter()
            .map(|run| {
                run.text
                    .chars()
                    .map(|c| {
                        if run.chinese_mode && !c.is_ascii() {
                            2
                        } else {
                            1
                        }
                    })
                    .sum::<usize>()
                    * usize::from(run.width_mul)
            })
            .sum();
        let stop = (column / TAB_COLUMNS + 1) * TAB_COLUMNS;
        let spaces = (stop - column).div_ceil(usize::from(self.mode.width_mul.max(1)));
        for _ in 0..spaces {
            self.print_char(' ');
        }
    }

    /// A GB18030 character in Chinese mode: two bytes, or four when the second is a digit.
    fn chinese_char(&mut self, b: &[u8], at: usize) -> Option<usize> {
        let lead = b[0];
        if !(0x81..=0xFE).contains(&lead) {
            self.warn(
                at,
                format!("byte {lead:#04x} cannot start a GB18030 character"),
            );
            self.print_char(char::REPLACEMENT_CHARACTER);
            return Some(1);
        }
        let second = *b.get(1)?;
        let length = match second {
            0x30..=0x39 => {
                let (third, fourth) = (*b.get(2)?, *b.get(3)?);
                if (0x81..=0xFE).contains(&third) && (0x30..=0x39).contains(&fourth) {
                    4
                } else {
                    0
                }
            }
            0x40..=0x7E | 0x80..=0xFE => 2,
            _ => 0,
        };
        if length == 0 {
            // The lead byte alone is garbage; what follows is read afresh (it may be a command).
            self.warn(
                at,
                format!("GB18030 lead byte {lead:#04x} followed by {second:#04x}"),
            );
            self.print_char(char::REPLACEMENT_CHARACTER);
            return Some(1);
        }
        let (text, had_errors) = GB18030.decode_without_bom_handling(&b[..length]);
        let mut chars = text.chars();
        match (chars.next(), chars.next(), had_errors) {
            (Some(c), None, false) => self.print_char(c),
            _ => {
                self.warn(
                    at,
                    format!("GB18030 sequence {:02x?} is not a character", &b[..length]),
                );
                self.print_char(char::REPLACEMENT_CHARACTER);
            }
        }
        Some(length)
    }

    /// A byte ≥ 0x80 outside Chinese mode, from the code table selected by `ESC t`.
    fn code_page_char(&mut self, byte: u8, at: usize) {
        let c = match self.mode.code_page {
            0 => CP437_HIGH[usize::from(byte - 0x80)],
            page => {
                if !self.warned_code_pages.contains(&page) {
                    self.warned_code_pages.push(page);
                    self.warn(
                        at,
                        format!("code page {page} is not decoded; its characters show as '?'"),
                    );
                }
                '?'
            }
        };
        self.print_char(c);
    }
}

/// Code page 437, bytes 0x80 to 0xFF.
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{A0}',
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::escpos::encode;
    use crate::layout::layout;
    use crate::layout::tests::sample_content;
    use crate::profile::{builtin, builtin_profiles};

    /// A tiny deterministic generator, so random tests need no dependency and repeat exactly.
    pub(crate) struct XorShift(pub u64);

    impl XorShift {
        pub(crate) fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// Random bytes, one in four drawn from the command bytes so that commands are common.
        pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
            const INTERESTING: [u8; 16] = [
                ESC, GS, FS, DLE, LF, HT, 0x28, 0x6B, 0x76, 0x30, 0x56, 0x26, 0x2E, 0x81, 0x30,
                0xFE,
            ];
            (0..len)
                .map(|_| {
                    let r = self.next_u64();
                    if r.is_multiple_of(4) {
                        INTERESTING[(r >> 8) as usize % INTERESTING.len()]
                    } else {
                        (r >> 16) as u8
                    }
                })
                .collect()
        }
    }

    fn lines_of(bytes: &[u8]) -> Vec<String> {
        interpret(bytes).text_lines()
    }

    #[test]
    fn gb18030_two_and_four_byte_sequences_decode_in_chinese_mode() {
        // 中 = D6 D0, € = A2 E3, 😀 = 94 39 FC 36, 𠀀 (U+20000) = 95 32 82 36.
        let bytes = [
            FS, b'&', 0xD6, 0xD0, 0xA2, 0xE3, 0x94, 0x39, 0xFC, 0x36, 0x95, 0x32, 0x82, 0x36, b'A',
            FS, b'.', LF,
        ];
        let printout = interpret(&bytes);
        assert_eq!(printout.text_lines(), ["中€😀\u{20000}A"]);
        assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
        let Element::Line { runs, .. } = &printout.elements[0] else {
            panic!("a line")
        };
        assert!(runs[0].chinese_mode);
    }

    #[test]
    fn a_bad_gb18030_trail_byte_is_reported_and_the_command_after_it_still_runs() {
        let printout = interpret(&[FS, b'&', 0xD6, ESC, b'E', 1, b'x', LF]);
        assert_eq!(printout.text_lines(), ["\u{FFFD}x"]);
        assert_eq!(printout.warnings.len(), 1);
        assert_eq!(printout.warnings[0].offset, 2);
        let Element::Line { runs, .. } = &printout.elements[0] else {
            panic!("a line")
        };
        assert!(runs[1].bold, "ESC E after the broken character was obeyed");
    }

    #[test]
    fn a_gb18030_character_cut_off_at_the_end_is_reported() {
        for tail in [&[0xD6][..], &[0x94], &[0x94, 0x39], &[0x94, 0x39, 0xFC]] {
            let bytes = [&[FS, b'&', b'a', LF][..], tail].concat();
            let printout = interpret(&bytes);
            assert_eq!(printout.text_lines(), ["a"]);
            assert!(
                printout
                    .warnings
                    .iter()
                    .any(|w| w.message.contains("ends inside") && w.offset == 4),
                "{:?}",
                printout.warnings
            );
        }
    }

    #[test]
    fn outside_chinese_mode_high_bytes_are_cp437() {
        let printout = interpret(&[0x80, 0x81, 0xB0, 0xE1, 0xFE, b'!', LF]);
        assert_eq!(printout.text_lines(), ["Çü░ß■!"]);
        assert!(printout.warnings.is_empty());
        let printout = interpret(&[ESC, b't', 17, 0x80, 0x81, LF]);
        assert_eq!(printout.text_lines(), ["??"]);
        assert_eq!(
            printout.warnings.len(),
            1,
            "one warning per code page, not per byte"
        );
    }

    #[test]
    fn the_same_byte_is_a_hanzi_in_chinese_mode_and_cp437_outside() {
        assert_eq!(
            lines_of(&[0xD6, 0xD0, LF, FS, b'&', 0xD6, 0xD0, FS, b'.', 0xD6, LF]),
            ["╓╨", "中╓"]
        );
    }

    #[test]
    fn styles_become_runs_and_alignment_applies_per_line() {
        let bytes = [
            &[ESC, b'a', 1, GS, b'!', 0x11, ESC, b'E', 1][..],
            b"Big",
            &[GS, b'!', 0, ESC, b'E', 0],
            b"small\n",
            &[ESC, b'a', 2],
            b"r\n",
        ]
        .concat();
        let printout = interpret(&bytes);
        let Element::Line {
            runs,
            align,
            line_spacing,
        } = &printout.elements[0]
        else {
            panic!("a line")
        };
        assert_eq!(
            (*align, *line_spacing),
            (Align::Center, DEFAULT_LINE_SPACING)
        );
        assert_eq!(
            (
                runs[0].text.as_str(),
                runs[0].width_mul,
                runs[0].height_mul,
                runs[0].bold
            ),
            ("Big", 2, 2, true)
        );
        assert_eq!(
            (runs[1].text.as_str(), runs[1].width_mul, runs[1].bold),
            ("small", 1, false)
        );
        assert!(matches!(
            printout.elements[1],
            Element::Line {
                align: Align::Right,
                ..
            }
        ));
    }

    #[test]
    fn esc_a_in_the_middle_of_a_line_is_ignored_with_a_warning() {
        let printout = interpret(b"ab\x1ba\x01c\n");
        assert!(matches!(
            printout.elements[0],
            Element::Line {
                align: Align::Left,
                ..
            }
        ));
        assert_eq!(printout.warnings.len(), 1);
        assert_eq!(printout.warnings[0].offset, 2);
    }

    #[test]
    fn feeds_tabs_and_line_spacing() {
        let printout = interpret(&[
            LF, ESC, b'd', 3, ESC, b'J', 40, ESC, b'3', 50, LF, b'a', HT, b'b', LF, ESC, b'2', LF,
            CR,
        ]);
        let feeds: Vec<u32> = printout
            .elements
            .iter()
            .filter_map(|e| {
                if let Element::Feed { dots } = e {
                    Some(*dots)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(feeds, [30, 90, 40, 50, 30]);
        assert_eq!(printout.text_lines(), ["a       b"]);
        assert!(matches!(
            printout.elements[4],
            Element::Line {
                line_spacing: 50,
                ..
            }
        ));
        assert!(printout.warnings.is_empty());
    }

    #[test]
    fn every_cut_form_is_understood() {
        let forms: [(&[u8], bool, Option<u32>); 8] = [
            (&[GS, b'V', 0], false, None),
            (&[GS, b'V', 48], false, None),
            (&[GS, b'V', 1], true, None),
            (&[GS, b'V', 49], true, None),
            (&[GS, b'V', 65, 5], false, Some(5)),
            (&[GS, b'V', 66, 3], true, Some(3)),
            (&[GS, b'V', 66, 0], true, None),
            (&[GS, b'V', 104, 2], true, None),
        ];
        for (bytes, partial, feed) in forms {
            let printout = interpret(bytes);
            assert!(
                printout.warnings.is_empty(),
                "{bytes:?}: {:?}",
                printout.warnings
            );
            let expected: Vec<Element> = feed
                .map(|dots| Element::Feed { dots })
                .into_iter()
                .chain([Element::Cut { partial }])
                .collect();
            assert_eq!(printout.elements, expected, "{bytes:?}");
        }
        assert_eq!(interpret(&[GS, b'V', 7]).warnings.len(), 1);
    }

    #[test]
    fn status_queries_are_recorded_in_order_and_print_nothing() {
        let printout = interpret(&[
            DLE, EOT, 1, DLE, EOT, 4, GS, b'r', 1, DLE, EOT, 7, 1, DLE, EOT, 2,
        ]);
        assert_eq!(
            printout.status_queries,
            [
                StatusQuery::DleEot(1),
                StatusQuery::DleEot(4),
                StatusQuery::GsR(1),
                StatusQuery::DleEot(7),
                StatusQuery::DleEot(2)
            ]
        );
        assert!(printout.elements.is_empty());
        assert!(printout.warnings.is_empty());
    }

    #[test]
    fn a_native_qr_keeps_its_data_module_size_and_level() {
        let bytes = [
            &[ESC, b'a', 1][..],
            &[GS, b'(', b'k', 4, 0, 0x31, 0x41, 0x32, 0],
            &[GS, b'(', b'k', 3, 0, 0x31, 0x43, 7],
            &[GS, b'(', b'k', 3, 0, 0x31, 0x45, 0x32],
            &[
                GS, b'(', b'k', 8, 0, 0x31, 0x50, 0x30, b'H', b'T', b'T', b'P', b'S',
            ],
            &[GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30],
        ]
        .concat();
        let printout = interpret(&bytes);
        assert_eq!(
            printout.elements,
            [Element::Qr {
                data: b"HTTPS".to_vec(),
                module_size: 7,
                ec_level: QrLevel::Q,
                align: Align::Center
            }]
        );
        assert_eq!(printout.qr_payloads(), ["HTTPS"]);
        assert!(printout.warnings.is_empty());
    }

    #[test]
    fn printing_a_qr_with_nothing_stored_is_a_warning() {
        let printout = interpret(&[GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30]);
        assert!(printout.elements.is_empty());
        assert_eq!(printout.warnings.len(), 1);
    }

    #[test]
    fn a_raster_image_is_scaled_by_its_mode() {
        let printout = interpret(&[GS, b'v', b'0', 3, 1, 0, 2, 0, 0b1000_0001, 0b0100_0000]);
        let expected_bits = vec![
            0b1100_0000,
            0b0000_0011,
            0b1100_0000,
            0b0000_0011,
            0b0011_0000,
            0,
            0b0011_0000,
            0,
        ];
        assert_eq!(
            printout.elements,
            [Element::Raster {
                width_dots: 16,
                height_dots: 4,
                bits: expected_bits,
                align: Align::Left
            }]
        );
    }

    #[test]
    fn jobs_split_after_each_cut() {
        let printout = interpret(b"one\n\x1dV\x01two\n\x1dV\x42\x00three\n");
        let jobs = printout.jobs();
        assert_eq!(jobs.len(), 3);
        assert!(matches!(
            jobs[0].last(),
            Some(Element::Cut { partial: true })
        ));
        assert!(matches!(
            jobs[1].last(),
            Some(Element::Cut { partial: true })
        ));
        assert_eq!(jobs[2].len(), 1);
    }

    #[test]
    fn text_without_a_final_line_feed_is_not_printed() {
        let printout = interpret(b"done\nnot yet");
        assert_eq!(printout.text_lines(), ["done"]);
        assert!(printout.warnings[0].message.contains("not yet"));
    }

    #[test]
    fn unknown_commands_are_warnings_with_their_offset() {
        let printout = interpret(b"a\x1b\xffb\x1d\xfe\x1c\xfdc\x07\n");
        assert_eq!(printout.text_lines(), ["abc"]);
        let offsets: Vec<usize> = printout.warnings.iter().map(|w| w.offset).collect();
        assert_eq!(offsets, [1, 4, 6, 9]);
        assert!(printout.warnings[0]
            .to_string()
            .starts_with("byte 1: unknown command ESC 0xff"));
    }

    #[test]
    fn a_slip_reads_the_same_in_one_piece_or_byte_by_byte() {
        for profile in builtin_profiles() {
            let bytes = encode(&layout(&sample_content(), &profile), &profile);
            let mut interpreter = Interpreter::new();
            for byte in &bytes {
                interpreter.push(std::slice::from_ref(byte));
            }
            assert_eq!(interpreter.finish(), interpret(&bytes), "{}", profile.id);
        }
    }

    #[test]
    fn every_prefix_of_a_real_slip_reads_without_panicking() {
        for id in ["cn-80mm", "cn-58mm"] {
            let profile = builtin(id).expect("built in");
            let bytes = encode(&layout(&sample_content(), &profile), &profile);
            let full = interpret(&bytes);
            for end in 0..bytes.len() {
                let printout = interpret(&bytes[..end]);
                assert!(printout.elements.len() <= full.elements.len());
            }
        }
    }

    #[test]
    fn random_bytes_never_make_it_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..4000 {
            let len = (rng.next_u64() % 400) as usize;
            let bytes = rng.bytes(len);
            let printout = interpret(&bytes);
            // Anything read is accounted for: offsets stay inside the stream.
            assert!(
                printout.warnings.iter().all(|w| w.offset <= bytes.len()),
                "round {round}"
            );
        }
    }

    #[test]
    fn random_bytes_in_random_pieces_read_as_in_one_piece() {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        for _ in 0..300 {
            let len = (rng.next_u64() % 300) as usize;
            let bytes = rng.bytes(len);
            let mut interpreter = Interpreter::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let take = ((rng.next_u64() % 7) as usize + 1).min(rest.len());
                interpreter.push(&rest[..take]);
                rest = &rest[take..];
            }
            assert_eq!(interpreter.finish(), interpret(&bytes));
        }
    }
}
