//! A thermal printer on the master side of a pseudo-terminal, for the kiosk's fault-handling
//! tests and for `grievance-kiosk printer emulate`. The kiosk opens the slave end (or a stable
//! symbolic link to it) as its serial port and meets a printer that answers `DLE EOT 1..4` and
//! `GS r 1`, runs out of paper after a few lines, has its cover opened, says nothing, answers
//! garbage, reads slowly, stops reading, or disappears, as a [`Script`] says, changeable live.
//!
//! It is **not** a general printer simulator. It models what the kiosk's fault handling needs
//! and nothing else: no receive-buffer size or flow control (XON/XOFF, busy), no automatic
//! status back (`GS a`), no answers to `DLE EOT 7/8/18`, no cutter errors, no baud-rate
//! mismatch. Data sent while the printer cannot print is lost, never printed later: a real
//! printer may hold it and print a stale slip when it comes back, and that is not modelled.
//! What the bytes mean is decided by the project's one interpreter ([`Interpreter`]); this
//! file never parses ESC/POS itself.
//!
//! # How bytes are read
//!
//! Received bytes go to the interpreter one at a time, and a query is answered as soon as the
//! interpreter's list of status queries grows. A query is thus recognised exactly where a
//! printer's command parser would see it, between commands: a `DLE EOT` inside the parameters
//! of another command is data, as on real printers (research §2.1). Feeding one byte at a time
//! also keeps the bookkeeping exact: which byte was lost, at which byte a job ends, and what
//! state the printer was in when a line was completed.
//!
//! A line, QR symbol or raster image (each counts as one line for the `…AfterLines` scripts;
//! blank feeds and cuts do not) prints if the printer can print when its last byte arrives.
//!
//! # What the kiosk side should know
//!
//! - Answers are written at once, one byte per query, even while out of paper or offline
//!   (`DLE EOT` is real-time). Under [`Script::Slow`] a query is answered only once every byte
//!   sent before it has been read: the kiosk's writes return at once while the
//!   pseudo-terminal has room (about 19 KB on the Linux this was written on), so the wait
//!   shows up in the status read after the job.
//! - Under [`Script::Stall`] the kiosk's writes block once that room is gone. `serialport`'s
//!   timeout bounds only the wait for room before each `write`, not the write itself (the
//!   descriptor is blocking): one write larger than the room left sleeps in the kernel until
//!   it all fits, which never happens (tried: 4096-byte writes hang, writes of up to 1024
//!   bytes time out). Write in pieces of a few hundred bytes, as a real UART needs too.
//! - A disconnected port fails the kiosk's reads and writes (`BrokenPipe` or an I/O error), and
//!   the link disappears, so opening it fails with `NotFound` until [`Emulator::reconnect`].
//! - An answer the kiosk never read stays in the pseudo-terminal for whoever opens it next (a
//!   real port drops it at close). Clear the input before asking, as on real hardware, where
//!   a late answer to an earlier question is the classic bug (research §1.3).

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use crate::printer::transport::write_atomically;
use slip::interpret::{Element, Interpreter, Printout, StatusQuery};
use slip::render::{render_png, RenderError};

/// How the emulated printer behaves. [`Emulator::set_script`] changes it live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Paper loaded, cover closed, online.
    Ready,
    /// The near-end sensor sees the roll running low; still prints.
    NearEnd,
    /// Prints this many more lines, then runs out of paper as [`Script::PaperOut`].
    PaperOutAfterLines(u32),
    /// No paper: offline, print data lost.
    PaperOut,
    /// Offline with the cover open; print data lost.
    CoverOpen,
    /// Prints this many more lines, then its cover is open as [`Script::CoverOpen`].
    CoverOpenAfterLines(u32),
    /// Offline for another reason (e.g. the feed button held); print data lost.
    Offline,
    /// Reads and prints everything, answers nothing.
    Silent,
    /// Prints, and answers every query with a byte that fails the `0xx1xx10` pattern.
    Garbage,
    /// Ready, but reads only this many bytes a second (960 is a 9600-baud line).
    Slow { bytes_per_second: u32 },
    /// Reads this many more bytes and then nothing: the host's writes block once the
    /// pseudo-terminal is full. Answers nothing.
    Stall { after_bytes: usize },
}

/// Why [`Script::parse`] refused a form: the message says what was wrong and, for an unknown
/// name, lists the forms it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadScript(String);

/// The forms [`Script::parse`] accepts, for error messages and help text.
pub(crate) const SCRIPT_FORMS: &str =
    "ready, near-end, paper-out, paper-out-after=LINES, cover-open, \
     cover-open-after=LINES, offline, silent, garbage, slow=BYTES_PER_SECOND, stall=BYTES";

impl Script {
    /// Reads the command-line form: `ready`, `near-end`, `paper-out`, `paper-out-after=12`,
    /// `cover-open`, `cover-open-after=5`, `offline`, `silent`, `garbage`, `slow=960`,
    /// `stall=256`.
    pub fn parse(s: &str) -> Result<Script, BadScript> {
        let s = s.trim();
        let (name, value) = match s.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (s, None),
        };
        let number = |unit: &str| -> Result<u64, BadScript> {
            let value = value
                .ok_or_else(|| BadScript(format!("{name} needs a number of {unit}: {name}=N")))?;
            value.parse::<u64>().map_err(|_| {
                BadScript(format!(
                    "{name}={value}: {value:?} is not a whole number of {unit}"
                ))
            })
        };
        let too_big = |n: u64| BadScript(format!("{name}={n}: too large"));
        let script = match name {
            "ready" | "near-end" | "paper-out" | "cover-open" | "offline" | "silent"
            | "garbage"
                if value.is_some() =>
            {
                return Err(BadScript(format!("{name} takes no value (got {s:?})")));
            }
            "ready" => Script::Ready,
            "near-end" => Script::NearEnd,
            "paper-out" => Script::PaperOut,
            "cover-open" => Script::CoverOpen,
            "offline" => Script::Offline,
            "silent" => Script::Silent,
            "garbage" => Script::Garbage,
            "paper-out-after" => {
                let n = number("lines")?;
                Script::PaperOutAfterLines(u32::try_from(n).map_err(|_| too_big(n))?)
            }
            "cover-open-after" => {
                let n = number("lines")?;
                Script::CoverOpenAfterLines(u32::try_from(n).map_err(|_| too_big(n))?)
            }
            "slow" => {
                let n = number("bytes per second")?;
                if n == 0 {
                    return Err(BadScript(
                        "slow=0: a printer that reads nothing is stall=0".into(),
                    ));
                }
                Script::Slow {
                    bytes_per_second: u32::try_from(n).map_err(|_| too_big(n))?,
                }
            }
            "stall" => {
                let n = number("bytes")?;
                Script::Stall {
                    after_bytes: usize::try_from(n).map_err(|_| too_big(n))?,
                }
            }
            _ => {
                return Err(BadScript(format!(
                    "unknown printer script {s:?}; one of: {SCRIPT_FORMS}"
                )))
            }
        };
        Ok(script.settled())
    }

    /// What the printer's sensors say under this script.
    fn condition(self) -> Condition {
        match self {
            Script::NearEnd => Condition::NearEnd,
            Script::PaperOut | Script::PaperOutAfterLines(0) => Condition::PaperOut,
            Script::CoverOpen | Script::CoverOpenAfterLines(0) => Condition::CoverOpen,
            Script::Offline => Condition::Offline,
            Script::Ready
            | Script::PaperOutAfterLines(_)
            | Script::CoverOpenAfterLines(_)
            | Script::Silent
            | Script::Garbage
            | Script::Slow { .. }
            | Script::Stall { .. } => Condition::Ready,
        }
    }

    /// A countdown at zero becomes the state it counts down to, so that the live script always
    /// says what the printer is doing now.
    fn settled(self) -> Script {
        match self {
            Script::PaperOutAfterLines(0) => Script::PaperOut,
            Script::CoverOpenAfterLines(0) => Script::CoverOpen,
            other => other,
        }
    }

    /// The script after one more line came out of the printer.
    fn after_a_line(self) -> Script {
        match self {
            Script::PaperOutAfterLines(n) => Script::PaperOutAfterLines(n.saturating_sub(1)),
            Script::CoverOpenAfterLines(n) => Script::CoverOpenAfterLines(n.saturating_sub(1)),
            other => other,
        }
        .settled()
    }
}

impl fmt::Display for Script {
    /// The form [`Script::parse`] reads; a countdown shows what is left of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Script::Ready => write!(f, "ready"),
            Script::NearEnd => write!(f, "near-end"),
            Script::PaperOutAfterLines(n) => write!(f, "paper-out-after={n}"),
            Script::PaperOut => write!(f, "paper-out"),
            Script::CoverOpen => write!(f, "cover-open"),
            Script::CoverOpenAfterLines(n) => write!(f, "cover-open-after={n}"),
            Script::Offline => write!(f, "offline"),
            Script::Silent => write!(f, "silent"),
            Script::Garbage => write!(f, "garbage"),
            Script::Slow { bytes_per_second } => write!(f, "slow={bytes_per_second}"),
            Script::Stall { after_bytes } => write!(f, "stall={after_bytes}"),
        }
    }
}

/// What the sensors report, and so what the status answers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Ready,
    NearEnd,
    PaperOut,
    CoverOpen,
    Offline,
}

impl Condition {
    fn can_print(self) -> bool {
        matches!(self, Condition::Ready | Condition::NearEnd)
    }

    /// The answers to `DLE EOT 1..4` (see `status.rs` for the bits).
    fn status_bytes(self) -> [u8; 4] {
        match self {
            Condition::Ready => [0x16, 0x12, 0x12, 0x12],
            // n=4 bits 2,3: near-end sensor.
            Condition::NearEnd => [0x16, 0x12, 0x12, 0x1E],
            // n=1 bit 3 offline; n=2 bit 5 stopped by paper end; n=4 bits 5,6 end sensor.
            Condition::PaperOut => [0x1E, 0x32, 0x12, 0x72],
            // n=1 bit 3 offline; n=2 bit 2 cover open.
            Condition::CoverOpen => [0x1E, 0x16, 0x12, 0x12],
            Condition::Offline => [0x1E, 0x12, 0x12, 0x12],
        }
    }

    /// The answer to `GS r 1`: bits 0,1 near end, bits 2,3 paper end.
    fn paper_sensor_byte(self) -> u8 {
        match self {
            Condition::NearEnd => 0x03,
            Condition::PaperOut => 0x0C,
            Condition::Ready | Condition::CoverOpen | Condition::Offline => 0x00,
        }
    }
}

/// What [`Script::Garbage`] answers, in turn: none has the `0xx1xx10` pattern of a status
/// reply, none is XON or XOFF. Varied, so that a kiosk cannot pass by special-casing one value.
const GARBAGE: [u8; 4] = [0xFF, 0x00, 0x6C, 0x81];

/// One job: the bytes from the end of the previous job up to and including a cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatedJob {
    /// What the host sent for this job, as received, status queries taken out (they are answered
    /// at once and are not part of any job; [`Emulator::received`] has them). Includes the data
    /// that was lost.
    pub bytes: Vec<u8>,
    /// What came out on paper: the printed elements only (nothing lost is in it), and the
    /// interpreter's warnings about this job's bytes, their offsets counted in
    /// [`Emulator::received`]. `status_queries` is empty.
    pub printout: Printout,
    /// The job ended with a cut command. A printer that could not print did not carry it out:
    /// then the printout has no cut and `lost_bytes` is not zero.
    pub cut: bool,
    /// Bytes of this job received while the printer could not print (out of paper, cover open,
    /// offline): lost, as a real printer in that state would lose them.
    pub lost_bytes: usize,
}

impl EmulatedJob {
    /// The job as it came out on paper, as a PNG.
    pub fn png(&self, dots_per_line: u32) -> Result<Vec<u8>, RenderError> {
        render_png(&self.printout, dots_per_line)
    }
}

/// How long one read of the master waits for data: also how quickly the serving thread notices
/// a command (disconnect, stop) and how often it clears the exclusive flag.
const POLL: Duration = Duration::from_millis(10);
/// The most read from the master at once.
const READ_CHUNK: usize = 4096;

/// A printer emulated on a pseudo-terminal. It serves the port from a background thread until
/// dropped; dropping it closes the port, ends the thread and removes the link. It keeps every
/// byte and job in memory: made for tests and a developer's session, not for weeks.
pub struct Emulator {
    shared: Arc<Shared>,
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
    output: Option<JoinHandle<()>>,
    link: Option<PathBuf>,
}

/// What the serving thread, the output writer and the [`Emulator`]'s methods share.
struct Shared {
    printer: Mutex<Printer>,
    /// The current slave path (the last one while disconnected).
    slave_path: Mutex<PathBuf>,
    output_errors: Mutex<Vec<String>>,
}

/// Asks the serving thread to do something only it may do: it owns the pseudo-terminal.
enum Command {
    /// Replace the connection (`None`: disconnect), then acknowledge.
    Connect(Option<Connection>, Sender<()>),
    Stop,
}

impl Emulator {
    /// Starts a printer that behaves as `script`, with paper `dots_per_line` dots wide (for
    /// the PNGs), answering `GS r 1` if `answers_gs_r`. If `link` is given, a symbolic link
    /// there is kept pointing at the current slave, replacing one that exists; a file that is
    /// not a symbolic link is not replaced.
    pub fn start(
        script: Script,
        dots_per_line: u32,
        answers_gs_r: bool,
        link: Option<&Path>,
    ) -> io::Result<Emulator> {
        let connection = Connection::open()?;
        if let Some(link) = link {
            point_link(link, &connection.slave_path)?;
        }
        let shared = Arc::new(Shared {
            printer: Mutex::new(Printer::new(script, answers_gs_r, dots_per_line)),
            slave_path: Mutex::new(connection.slave_path.clone()),
            output_errors: Mutex::new(Vec::new()),
        });
        let (commands, received_commands) = mpsc::channel();
        let serving = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("printer-emulator".into())
            .spawn(move || serve(&serving, &received_commands, Some(connection)));
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                if let Some(link) = link {
                    remove_link(link, &lock(&shared.slave_path));
                }
                return Err(e);
            }
        };
        Ok(Emulator {
            shared,
            commands,
            thread: Some(thread),
            output: None,
            link: link.map(Path::to_path_buf),
        })
    }

    /// Also writes every finished job (cut, or cut short by a disconnect) as
    /// `<dir>/job-0001.bin` and `<dir>/job-0001.png`, numbered as in [`Emulator::jobs`], from a
    /// thread of its own so that rendering never delays an answer. Jobs already finished are
    /// written too. Failures are kept for [`Emulator::output_errors`].
    pub fn with_output_dir(mut self, dir: &Path) -> io::Result<Emulator> {
        fs::create_dir_all(dir)?;
        let (jobs, received_jobs) = mpsc::channel::<(usize, EmulatedJob)>();
        let dir = dir.to_path_buf();
        let shared = Arc::clone(&self.shared);
        let writer = thread::Builder::new()
            .name("printer-emulator-output".into())
            .spawn(move || write_jobs(&dir, &shared, &received_jobs))?;
        let mut printer = lock(&self.shared.printer);
        for (index, job) in printer.finished.iter().enumerate() {
            // The writer only ends when this sender is dropped, so it is there to receive.
            let _ = jobs.send((index + 1, job.clone()));
        }
        printer.output = Some(jobs);
        drop(printer);
        self.output = Some(writer);
        Ok(self)
    }

    /// What the kiosk opens: the link if one was given, else the slave (whose path changes at
    /// every [`Emulator::reconnect`]).
    pub fn port(&self) -> PathBuf {
        match &self.link {
            Some(link) => link.clone(),
            None => lock(&self.shared.slave_path).clone(),
        }
    }

    /// The script now in force; a countdown shows what is left of it (`paper-out-after=2`).
    pub fn script(&self) -> Script {
        lock(&self.shared.printer).script
    }

    /// Changes the behaviour from the next byte read on, e.g. [`Script::Ready`] when staff
    /// refill the paper.
    pub fn set_script(&self, script: Script) {
        lock(&self.shared.printer).script = script.settled();
    }

    /// The jobs so far, split at cuts; the last one may be unfinished.
    pub fn jobs(&self) -> Vec<EmulatedJob> {
        lock(&self.shared.printer).jobs()
    }

    /// Every byte received, status queries included.
    pub fn received(&self) -> Vec<u8> {
        lock(&self.shared.printer).received.clone()
    }

    /// How many `DLE EOT` and `GS r` queries were received, answered or not.
    pub fn status_queries(&self) -> usize {
        lock(&self.shared.printer).status_queries
    }

    /// Why jobs could not be written to the output directory, one sentence each.
    pub fn output_errors(&self) -> Vec<String> {
        lock(&self.shared.output_errors).clone()
    }

    /// The port disappears, like a USB adapter pulled out: the pseudo-terminal is closed (the
    /// kiosk's reads and writes fail), the link is removed, and an unfinished job is closed as
    /// it stands. Bytes still unread in the pseudo-terminal are lost, as on a pulled cable.
    pub fn disconnect(&self) {
        self.connect(None);
        lock(&self.shared.printer).switch_off();
        if let Some(link) = &self.link {
            remove_link(link, &lock(&self.shared.slave_path));
        }
    }

    /// The port comes back with a new pseudo-terminal, the link pointing at it, and the printer
    /// in its power-on state. Connected already, the old port is disconnected first.
    pub fn reconnect(&self) -> io::Result<()> {
        self.disconnect();
        let connection = Connection::open()?;
        if let Some(link) = &self.link {
            point_link(link, &connection.slave_path)?;
        }
        *lock(&self.shared.slave_path) = connection.slave_path.clone();
        self.connect(Some(connection));
        Ok(())
    }

    /// Hands the serving thread its new connection and waits until the old one is closed.
    fn connect(&self, connection: Option<Connection>) {
        let (done, wait) = mpsc::channel();
        if self
            .commands
            .send(Command::Connect(connection, done))
            .is_ok()
        {
            // An error means the thread is gone, and with it the connection: done as well.
            let _ = wait.recv();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The thread may be gone already (it never is unless it panicked); either way it ends.
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The writer ends once its sender is gone, after writing what it was given.
        lock(&self.shared.printer).output = None;
        if let Some(writer) = self.output.take() {
            let _ = writer.join();
        }
        if let Some(link) = &self.link {
            remove_link(link, &lock(&self.shared.slave_path));
        }
    }
}

/// The serving thread: reads the master, answers queries, obeys commands, until told to stop
/// or the [`Emulator`] is gone.
fn serve(shared: &Shared, commands: &Receiver<Command>, mut connection: Option<Connection>) {
    let mut buffer = vec![0; READ_CHUNK];
    loop {
        let command = match connection.as_mut() {
            // Nothing to read: sleep until told what to do.
            None => commands.recv().ok(),
            Some(connection) => {
                let wait = serve_once(connection, shared, &mut buffer);
                match commands.recv_timeout(wait) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => None,
                }
            }
        };
        match command {
            None | Some(Command::Stop) => return,
            Some(Command::Connect(new, done)) => {
                // Closing the old connection's master hangs the kiosk's port up.
                if let Some(old) = connection.take() {
                    old.hang_up();
                }
                connection = new;
                let _ = done.send(());
            }
        }
    }
}

/// One read of the master and its answers. Returns how long to wait before the next read: zero
/// when reading freely (the read itself waited for data), the time the bytes take to arrive
/// under [`Script::Slow`], a poll interval when stalled.
fn serve_once(connection: &mut Connection, shared: &Shared, buffer: &mut [u8]) -> Duration {
    connection.allow_reopen();
    let script = lock(&shared.printer).script;
    let (limit, bytes_per_second) = match script {
        Script::Stall { after_bytes: 0 } => return POLL,
        Script::Stall { after_bytes } => (after_bytes.min(buffer.len()), None),
        // About 10 ms worth of bytes at a time, so the pace is even and answers are not late.
        Script::Slow { bytes_per_second } => (
            usize::try_from(bytes_per_second / 100)
                .unwrap_or(usize::MAX)
                .clamp(1, buffer.len()),
            Some(bytes_per_second.max(1)),
        ),
        _ => (buffer.len(), None),
    };
    let count = match connection.master.read(&mut buffer[..limit]) {
        Ok(0) => return POLL,
        Ok(count) => count,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => return Duration::ZERO,
        // The master does not fail while the slave is held open; if it does, do not spin.
        Err(_) => return POLL,
    };
    let answers = lock(&shared.printer).receive(&buffer[..count]);
    if !answers.is_empty() {
        // An answer the host cannot take (its input is full) is lost, as on a wire.
        let _ = connection.master.write_all(&answers);
    }
    match bytes_per_second {
        Some(rate) => {
            let micros = u64::try_from(count).unwrap_or(u64::MAX) * 1_000_000 / u64::from(rate);
            Duration::from_micros(micros)
        }
        None => Duration::ZERO,
    }
}

/// The output writer's thread: writes each finished job it is given, until the emulator is
/// dropped.
fn write_jobs(dir: &Path, shared: &Shared, jobs: &Receiver<(usize, EmulatedJob)>) {
    let dots_per_line = lock(&shared.printer).dots_per_line;
    for (number, job) in jobs {
        let name = format!("job-{number:04}");
        let written = write_atomically(&dir.join(format!("{name}.bin")), &job.bytes)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let png = job
                    .png(dots_per_line)
                    .map_err(|e| format!("cannot draw {name}: {e}"))?;
                write_atomically(&dir.join(format!("{name}.png")), &png).map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            lock(&shared.output_errors).push(e);
        }
    }
}

/// The emulated printer: its script, its interpreter, and what it has received and printed.
/// No I/O: bytes in, answers out, so its rules are tested without a pseudo-terminal.
struct Printer {
    script: Script,
    answers_gs_r: bool,
    dots_per_line: u32,
    interpreter: Interpreter,
    /// How much of the interpreter's printout has been dealt with.
    seen_elements: usize,
    seen_warnings: usize,
    seen_queries: usize,
    received: Vec<u8>,
    status_queries: usize,
    finished: Vec<EmulatedJob>,
    current: EmulatedJob,
    garbage_sent: usize,
    /// Where finished jobs go to be written, if anywhere.
    output: Option<Sender<(usize, EmulatedJob)>>,
}

impl Printer {
    fn new(script: Script, answers_gs_r: bool, dots_per_line: u32) -> Printer {
        Printer {
            script: script.settled(),
            answers_gs_r,
            dots_per_line,
            interpreter: Interpreter::new(),
            seen_elements: 0,
            seen_warnings: 0,
            seen_queries: 0,
            received: Vec::new(),
            status_queries: 0,
            finished: Vec::new(),
            current: EmulatedJob::default(),
            garbage_sent: 0,
            output: None,
        }
    }

    /// Takes bytes off the wire and returns the answers to the queries among them, in order.
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        if let Script::Stall { after_bytes } = &mut self.script {
            *after_bytes = after_bytes.saturating_sub(bytes.len());
        }
        let mut answers = Vec::new();
        for &byte in bytes {
            let lost = !self.script.condition().can_print();
            self.received.push(byte);
            self.current.bytes.push(byte);
            if lost {
                self.current.lost_bytes += 1;
            }
            self.interpreter.push(&[byte]);
            self.take_queries(lost, &mut answers);
            self.take_warnings();
            self.take_elements();
        }
        answers
    }

    fn take_queries(&mut self, counted_lost: bool, answers: &mut Vec<u8>) {
        let queries = &self.interpreter.printout().status_queries;
        let new: Vec<StatusQuery> = queries[self.seen_queries..].to_vec();
        self.seen_queries = queries.len();
        for query in new {
            self.status_queries += 1;
            answers.extend(self.answer(query));
            // The query is the end of the job's bytes (it just completed); it is not print data.
            let length = match query {
                StatusQuery::DleEot(7 | 8 | 18) => 4,
                StatusQuery::DleEot(_) | StatusQuery::GsR(_) => 3,
            };
            let bytes = &mut self.current.bytes;
            if let Some(start) = bytes.len().checked_sub(length) {
                if query_bytes_match(query, &bytes[start..]) {
                    bytes.truncate(start);
                    if counted_lost {
                        self.current.lost_bytes = self.current.lost_bytes.saturating_sub(length);
                    }
                }
            }
        }
    }

    fn take_warnings(&mut self) {
        let warnings = &self.interpreter.printout().warnings;
        self.current
            .printout
            .warnings
            .extend_from_slice(&warnings[self.seen_warnings..]);
        self.seen_warnings = warnings.len();
    }

    /// Prints what the interpreter completed, if the printer can print now; a cut ends the job
    /// whether or not it was carried out.
    fn take_elements(&mut self) {
        let elements = &self.interpreter.printout().elements;
        let new: Vec<Element> = elements[self.seen_elements..].to_vec();
        self.seen_elements = elements.len();
        for element in new {
            let printing = self.script.condition().can_print();
            let is_cut = matches!(element, Element::Cut { .. });
            let is_line = matches!(
                element,
                Element::Line { .. } | Element::Qr { .. } | Element::Raster { .. }
            );
            if printing {
                self.current.printout.elements.push(element);
                if is_line {
                    self.script = self.script.after_a_line();
                }
            }
            if is_cut {
                self.current.cut = true;
                self.finish_job();
            }
        }
    }

    fn answer(&mut self, query: StatusQuery) -> Option<u8> {
        let gs_r = matches!(query, StatusQuery::GsR(1 | 49));
        let dle_eot = match query {
            StatusQuery::DleEot(n @ 1..=4) => Some(usize::from(n - 1)),
            _ => None,
        };
        if matches!(self.script, Script::Silent | Script::Stall { .. })
            || (gs_r && !self.answers_gs_r)
            || (!gs_r && dle_eot.is_none())
        {
            return None;
        }
        if self.script == Script::Garbage {
            let byte = GARBAGE[self.garbage_sent % GARBAGE.len()];
            self.garbage_sent += 1;
            return Some(byte);
        }
        let condition = self.script.condition();
        match dle_eot {
            Some(index) => Some(condition.status_bytes()[index]),
            None => Some(condition.paper_sensor_byte()),
        }
    }

    fn finish_job(&mut self) {
        let job = std::mem::take(&mut self.current);
        self.finished.push(job);
        if let (Some(output), Some(job)) = (&self.output, self.finished.last()) {
            // The writer lives as long as this sender; a send cannot fail while it does.
            let _ = output.send((self.finished.len(), job.clone()));
        }
    }

    /// The printer loses power or its port: an unfinished job is closed as it stands, and the
    /// next byte meets a printer in its power-on state.
    fn switch_off(&mut self) {
        if !self.current.bytes.is_empty() {
            self.finish_job();
        }
        self.interpreter = Interpreter::new();
        self.seen_elements = 0;
        self.seen_warnings = 0;
        self.seen_queries = 0;
    }

    fn jobs(&self) -> Vec<EmulatedJob> {
        let mut jobs = self.finished.clone();
        if !self.current.bytes.is_empty() {
            jobs.push(self.current.clone());
        }
        jobs
    }
}

/// Whether `bytes` are the bytes of `query`.
fn query_bytes_match(query: StatusQuery, bytes: &[u8]) -> bool {
    match (query, bytes) {
        (StatusQuery::DleEot(n), [0x10, 0x04, m, ..]) => n == *m,
        (StatusQuery::GsR(n), [0x1D, 0x72, m]) => n == *m,
        _ => false,
    }
}

/// One pseudo-terminal pair.
struct Connection {
    master: TTYPort,
    /// Held open as long as the connection: while no file has the slave open, reading the
    /// master fails (EIO) and polling it reports a hang-up, so without this the printer would
    /// be unreadable between two kiosk sessions.
    slave: std::fs::File,
    slave_path: PathBuf,
}

impl Connection {
    fn open() -> io::Result<Connection> {
        let pty = pseudo_terminal()?;
        Ok(Connection {
            master: pty.master,
            slave: pty.slave,
            slave_path: pty.slave_path,
        })
    }

    /// Closes the master and returns once the port has really hung up. The slave hangs up
    /// when the last copy of the master is closed, and a program another thread is starting
    /// holds a copy between its fork and its exec (close-on-exec closes it only at the exec):
    /// on a loaded machine that is milliseconds, in which a write to the port still succeeded
    /// (`scripts/stress` caught it). So this waits until the slave it still holds reports the
    /// hang-up (`POLLHUP`), for at most ten seconds.
    fn hang_up(self) {
        use std::os::fd::AsRawFd;
        let Connection { master, slave, .. } = self;
        drop(master);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let mut poll = libc::pollfd {
                fd: slave.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            // SAFETY: one pollfd, valid for the call; the descriptor is open (held by `slave`).
            let ready = unsafe { libc::poll(&mut poll, 1, 100) };
            if ready > 0 && poll.revents & libc::POLLHUP != 0 {
                break;
            }
        }
        drop(slave);
    }

    /// Clears the exclusive flag (`TIOCEXCL`) that a client's open set on the slave: the kiosk
    /// (`serial_line::open`) opens ports exclusively and clears the flag when the port is
    /// dropped, but a client killed while connected (Ctrl-C, a power-cut test) never does. On a real
    /// device the flag goes with the last close; this pseudo-terminal outlives every client, so
    /// without this only root could open the port again (tried: EBUSY for any other user).
    /// Other clients are still kept out while one is connected, by its `flock`.
    fn allow_reopen(&self) {
        use std::os::fd::AsRawFd;
        // SAFETY: TIOCNXCL takes no argument and only clears a flag of the terminal open on the
        // descriptor, which `self.slave` keeps open for the duration of the call. A failure
        // leaves the flag as it was, which only matters to a later non-root open.
        unsafe {
            libc::ioctl(self.slave.as_raw_fd(), libc::TIOCNXCL as _);
        }
    }
}

/// A pseudo-terminal: the master (the device's side: the emulator, a fake scanner) and the
/// slave (the port a program opens by its path), held open so that the master stays readable.
pub struct PseudoTerminal {
    pub master: TTYPort,
    pub slave: std::fs::File,
    pub slave_path: PathBuf,
}

/// A new pseudo-terminal pair in raw mode. Both ends are opened close-on-exec from the first
/// instant (`TTYPort::pair` opens them inheritable): a program another thread starts would
/// otherwise keep a copy of the master, and closing ours would not hang the port up
/// (`scripts/stress` caught it: an emulator's disconnect that did not disconnect, while a
/// parallel test had started a kiosk).
pub fn pseudo_terminal() -> io::Result<PseudoTerminal> {
    use std::ffi::{CStr, OsStr};
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    // SAFETY: posix_openpt only opens a descriptor; the result is checked and owned at once.
    let fd = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened by this thread and nothing else owns it.
    let master = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: grantpt, unlockpt and ptsname_r act on the open master descriptor; ptsname_r
    // writes at most `name.len()` bytes, NUL-terminated, into `name`.
    unsafe {
        if libc::grantpt(master.as_raw_fd()) != 0 || libc::unlockpt(master.as_raw_fd()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let failed = libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len());
        if failed != 0 {
            return Err(io::Error::from_raw_os_error(failed));
        }
    }
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let slave_path = PathBuf::from(OsStr::from_bytes(
        unsafe { CStr::from_ptr(name.as_ptr()) }.to_bytes(),
    ));
    // (std opens every file close-on-exec.)
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_path)?;
    // Raw mode, as a printer's line is: no echo, no line editing, no translation.
    // SAFETY: tcgetattr fills the termios it is given; cfmakeraw and tcsetattr read it.
    unsafe {
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        if libc::tcgetattr(slave.as_raw_fd(), termios.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut termios = termios.assume_init();
        libc::cfmakeraw(&mut termios);
        if libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &termios) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    // SAFETY: the master descriptor is handed over whole; nothing else closes it.
    let mut master = unsafe { TTYPort::from_raw_fd(master.into_raw_fd()) };
    master.set_timeout(POLL)?;
    Ok(PseudoTerminal {
        master,
        slave,
        slave_path,
    })
}

/// Points `link` at `target`, atomically (a new link renamed over the old one), so that a
/// client opening the link never finds it missing. Refuses to replace anything but a link.
fn point_link(link: &Path, target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(link) {
        Ok(meta) if !meta.file_type().is_symlink() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not a symbolic link; choose another path for the port",
                    link.display()
                ),
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let name = link
        .file_name()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file", link.display()),
            )
        })?
        .to_string_lossy();
    let temporary = link.with_file_name(format!(".{name}.{}.new", std::process::id()));
    let _ = fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    fs::rename(&temporary, link).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

/// Removes `link` if it still points at `target`: someone else's link is left alone.
fn remove_link(link: &Path, target: &Path) {
    if fs::read_link(link).is_ok_and(|points_to| points_to == target) {
        let _ = fs::remove_file(link);
    }
}

/// Locks a mutex; a thread that panicked while holding it left data that is still usable
/// (records only grow), so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use slip::profile::SerialSettings;
    use slip::status::{PrinterState, StatusBytes};

    /// Asks all four `DLE EOT` questions of a printer fed directly, and decodes the answers.
    fn ask_all(printer: &mut Printer) -> (Vec<u8>, PrinterState) {
        let answers =
            printer.receive(&[0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 3, 0x10, 0x04, 4]);
        let mut four = [None; 4];
        for (slot, byte) in four.iter_mut().zip(&answers) {
            *slot = Some(*byte);
        }
        (answers, StatusBytes::from_array(four).state())
    }

    #[test]
    fn every_condition_answers_bytes_that_decode_to_it() {
        for (script, state) in [
            (Script::Ready, PrinterState::Ready),
            (Script::NearEnd, PrinterState::NearEnd),
            (Script::PaperOut, PrinterState::PaperOut),
            (Script::CoverOpen, PrinterState::CoverOpen),
            (Script::Offline, PrinterState::Offline),
            (
                Script::Slow {
                    bytes_per_second: 960,
                },
                PrinterState::Ready,
            ),
            (Script::PaperOutAfterLines(2), PrinterState::Ready),
        ] {
            let mut printer = Printer::new(script, false, 576);
            let (answers, decoded) = ask_all(&mut printer);
            assert_eq!(answers, script.condition().status_bytes(), "{script}");
            assert_eq!(decoded, state, "{script}");
        }
    }

    #[test]
    fn silent_and_stalled_printers_answer_nothing_and_garbage_fails_the_pattern() {
        for script in [Script::Silent, Script::Stall { after_bytes: 100 }] {
            let mut printer = Printer::new(script, true, 576);
            assert!(ask_all(&mut printer).0.is_empty(), "{script}");
            assert!(printer.receive(&[0x1D, 0x72, 1]).is_empty(), "{script}");
            assert_eq!(printer.status_queries, 5);
        }
        let mut printer = Printer::new(Script::Garbage, false, 576);
        for _ in 0..3 {
            let (answers, state) = ask_all(&mut printer);
            assert_eq!(answers.len(), 4);
            assert!(answers
                .iter()
                .all(|&b| !slip::status::is_status_reply(b) && b != 0x11 && b != 0x13));
            assert_eq!(state, PrinterState::Unknown);
        }
    }

    #[test]
    fn gs_r_is_answered_only_when_the_model_does_and_says_where_the_paper_is() {
        let gs_r = [0x1D, 0x72, 1];
        assert!(Printer::new(Script::Ready, false, 576)
            .receive(&gs_r)
            .is_empty());
        for (script, answer) in [
            (Script::Ready, 0x00),
            (Script::NearEnd, 0x03),
            (Script::PaperOut, 0x0C),
            (Script::CoverOpen, 0x00),
        ] {
            let mut printer = Printer::new(script, true, 576);
            assert_eq!(printer.receive(&gs_r), [answer], "{script}");
        }
    }

    #[test]
    fn queries_between_jobs_are_answered_but_belong_to_no_job() {
        let mut printer = Printer::new(Script::Ready, false, 576);
        printer.receive(b"\x10\x04\x01\x1b@one\n\x1dV\x42\x00\x10\x04\x04");
        let jobs = printer.jobs();
        assert_eq!(jobs.len(), 1, "the query after the cut starts no job");
        assert_eq!(jobs[0].bytes, b"\x1b@one\n\x1dV\x42\x00");
        assert!(jobs[0].cut);
        assert_eq!(jobs[0].printout.text_lines(), ["one"]);
        assert_eq!(printer.status_queries, 2);
        assert_eq!(printer.received.len(), 16);
    }

    #[test]
    fn qr_codes_and_raster_images_count_as_lines_and_feeds_do_not() {
        let qr = [
            &[0x1D, 0x28, 0x6B, 5, 0, 0x31, 0x50, 0x30, b'h', b'i'][..],
            &[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30],
        ]
        .concat();
        let raster = [0x1D, b'v', b'0', 0, 1, 0, 1, 0, 0xFF];
        let mut printer = Printer::new(Script::CoverOpenAfterLines(3), false, 576);
        printer.receive(&[&b"\n\n\x1bd\x03one\n"[..], &qr, &raster, b"lost\n\x1dV\x00"].concat());
        assert_eq!(printer.script, Script::CoverOpen);
        let job = &printer.jobs()[0];
        assert_eq!(job.printout.text_lines(), ["one"]);
        assert_eq!(job.printout.qr_payloads(), ["hi"]);
        assert!(matches!(
            job.printout.elements.last(),
            Some(Element::Raster { .. })
        ));
        assert_eq!(job.lost_bytes, b"lost\n\x1dV\x00".len());
        assert!(
            job.cut,
            "the host's cut ends the job even though it was lost"
        );
    }

    #[test]
    fn a_query_while_out_of_paper_is_answered_and_not_counted_as_lost_data() {
        let mut printer = Printer::new(Script::PaperOut, false, 576);
        let answers = printer.receive(b"abc\n\x10\x04\x04def\n");
        assert_eq!(answers, [0x72]);
        assert_eq!(printer.jobs()[0].lost_bytes, 8);
        assert_eq!(printer.jobs()[0].bytes, b"abc\ndef\n");
        assert!(printer.jobs()[0].printout.elements.is_empty());
    }

    #[test]
    fn switching_off_closes_the_unfinished_job_and_forgets_half_a_command() {
        let mut printer = Printer::new(Script::Ready, false, 576);
        // A QR store command cut off after its length: it would swallow the next bytes.
        printer.receive(b"half\n\x1d(k\x40\x00\x31");
        printer.switch_off();
        printer.receive(b"next\n\x10\x04\x01");
        let jobs = printer.jobs();
        assert_eq!(jobs.len(), 2);
        assert!(!jobs[0].cut);
        assert_eq!(jobs[1].printout.text_lines(), ["next"]);
        assert_eq!(printer.status_queries, 1);
    }

    #[test]
    fn scripts_read_back_what_they_print_and_refuse_nonsense() {
        for form in [
            "ready",
            "near-end",
            "paper-out",
            "paper-out-after=12",
            "cover-open",
            "cover-open-after=5",
            "offline",
            "silent",
            "garbage",
            "slow=960",
            "stall=256",
        ] {
            let script = Script::parse(form).expect(form);
            assert_eq!(script.to_string(), form);
        }
        assert_eq!(
            Script::parse(" stall = 0 "),
            Ok(Script::Stall { after_bytes: 0 })
        );
        assert_eq!(Script::parse("paper-out-after=0"), Ok(Script::PaperOut));
        for (bad, says) in [
            ("paper", "unknown printer script"),
            ("", "unknown printer script"),
            ("ready=1", "takes no value"),
            ("slow", "needs a number"),
            ("slow=0", "stall=0"),
            ("stall=-1", "not a whole number"),
            ("paper-out-after=1.5", "not a whole number"),
            ("cover-open-after=99999999999", "too large"),
        ] {
            let error = Script::parse(bad).expect_err(bad);
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn a_link_is_replaced_but_a_file_is_not() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let link = dir.path().join("printer");
        point_link(&link, Path::new("/dev/null")).expect("a new link");
        point_link(&link, Path::new("/dev/zero")).expect("a replaced link");
        assert_eq!(fs::read_link(&link).ok(), Some(PathBuf::from("/dev/zero")));
        remove_link(&link, Path::new("/dev/null"));
        assert!(link.exists(), "a link pointing elsewhere is left alone");
        remove_link(&link, Path::new("/dev/zero"));
        assert!(fs::symlink_metadata(&link).is_err());
        let file = dir.path().join("kiosk.toml");
        fs::write(&file, "precious").expect("a file");
        let error = point_link(&file, Path::new("/dev/null")).expect_err("a file is kept");
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&file).ok().as_deref(), Some("precious"));
    }

    /// Whether a program without privileges could open the terminal at `path` now. Root passes
    /// `TIOCEXCL`, so as root the attempt is made by a child running as `nobody`; otherwise by
    /// this process. Either way it is the kernel's own open that answers (no `TIOCGEXCL`, which
    /// qemu-user does not translate).
    #[cfg(target_os = "linux")]
    fn others_can_open(path: &Path) -> bool {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        use std::os::unix::process::CommandExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOCTTY)
                .open(path)
                .is_ok();
        }
        fs::set_permissions(path, fs::Permissions::from_mode(0o666)).expect("chmod the slave");
        let probe = std::process::Command::new("/bin/sh")
            .args(["-c", "exec 3<>\"$1\"", "probe"])
            .arg(path)
            .uid(65534)
            .gid(65534)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the probe runs as nobody");
        probe.success()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_client_killed_while_connected_does_not_lock_out_the_next_one() {
        let connection = Connection::open().expect("a pseudo-terminal");
        assert!(
            others_can_open(&connection.slave_path),
            "free before a client"
        );
        let line = SerialSettings {
            baud: 115200,
            ..SerialSettings::default()
        };
        let client =
            crate::serial_line::open(&connection.slave_path.to_string_lossy(), &line, POLL)
                .expect("the slave opens");
        assert!(
            !others_can_open(&connection.slave_path),
            "a client killed now would leave the terminal exclusive: only root could open it"
        );
        connection.allow_reopen();
        assert!(others_can_open(&connection.slave_path));
        drop(client);
    }
}
