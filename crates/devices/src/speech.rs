//! Speech output: text to a WAV ([`Engine`], [`synthesize`]) and the WAV to a sound card, a
//! directory or nowhere ([`Sink`]), one utterance after another on a thread of its own
//! ([`Speaker`]).
//!
//! The engine is a small interface so that a better voice can replace it; the one built in is
//! [`Espeak`], eSpeak NG's command-line program (`espeak-ng --stdout`, the Debian package
//! `espeak-ng`), spawned for each utterance so that no C is linked into the kiosk. What it is
//! given is plain text ([`plain_text`]): eSpeak NG reads `[[…]]` as phonemes and, with SSML on,
//! `<…>` as markup, so those characters never reach it.
//!
//! The sinks: ALSA through `aplay -D DEVICE` (Debian's `alsa-utils`, as the display's chime),
//! a directory where each utterance becomes a numbered WAV file (to check a station without
//! speakers, and for tests), or none (silent). Volume is applied here, to the samples, so it
//! means the same for every engine and every sink.
//!
//! A [`Speaker`] never blocks its caller: `say` queues, a worker thread synthesizes and plays
//! each utterance in order, [`Speaker::cancel_pending`] drops what is queued (a new screen) and
//! [`Speaker::interrupt`] also stops what is playing. It decides nothing about what is said.

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

/// The longest text spoken at once, in characters: a screen's title and choices fit many times
/// over; anything longer is refused, not cut, so nobody hears half a sentence.
pub const MAX_CHARS: usize = 1000;

/// How many utterances may wait; past that a new one is dropped (and logged), so a stuck sound
/// card cannot grow memory.
pub const MAX_QUEUED: usize = 32;

/// What can go wrong between a text and a sound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpeechError {
    #[error("the speech engine `{program}` is not installed (Debian package `{package}`)")]
    EngineMissing { program: String, package: String },
    #[error("the speech engine has no voice `{voice}` (`espeak-ng --voices` lists them)")]
    VoiceMissing { voice: String },
    #[error("nothing to say: the text is empty")]
    Empty,
    #[error("the text is too long to speak: {chars} characters (at most {max})")]
    TooLong { chars: usize, max: usize },
    #[error("the speech engine failed: {0}")]
    Engine(String),
    #[error("the player `{program}` is not installed (Debian package `{package}`)")]
    PlayerMissing { program: String, package: String },
    #[error("cannot play speech on the ALSA device `{device}`: {reason}")]
    Playback { device: String, reason: String },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
    /// Dropped from the queue by [`Speaker::cancel_pending`] or stopped by
    /// [`Speaker::interrupt`].
    #[error("cancelled")]
    Cancelled,
}

// ------------------------------------------------------------------------------------------
// Text

/// `text` as plain words for a speech engine: control and invisible formatting characters
/// (zero-width, bidirectional) become spaces, and so do the characters an engine may take as
/// markup or phonemes (`< > & [ ] { } \ | ^ ~ ` `` ` ``); runs of spaces become one; the ends
/// are trimmed. Punctuation that shapes a sentence (，。,.?!) stays.
pub fn plain_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let markup = matches!(
            c,
            '<' | '>' | '&' | '[' | ']' | '{' | '}' | '\\' | '|' | '^' | '~' | '`'
        );
        let invisible = matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}');
        if c.is_control() || c.is_whitespace() || markup || invisible {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

/// `text` checked for speaking: plain ([`plain_text`]), not empty, at most [`MAX_CHARS`].
pub fn checked_text(text: &str) -> Result<String, SpeechError> {
    let plain = plain_text(text);
    let chars = plain.chars().count();
    if chars == 0 {
        return Err(SpeechError::Empty);
    }
    if chars > MAX_CHARS {
        return Err(SpeechError::TooLong {
            chars,
            max: MAX_CHARS,
        });
    }
    Ok(plain)
}

// ------------------------------------------------------------------------------------------
// Sound

/// Mono 16-bit PCM sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

/// A WAV file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 16-bit mono PCM WAV: {0}")]
pub struct WavError(pub String);

impl Wav {
    /// Reads a RIFF WAVE file of 16-bit mono PCM. A data chunk whose declared size runs past
    /// the end (a program that streamed its output, as `espeak-ng --stdout` does, cannot know
    /// the size when it writes the header) ends at the end of the bytes.
    pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
        let bad = |s: &str| WavError(s.to_owned());
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad("no RIFF WAVE header"));
        }
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or([0; 4]));
        let mut at = 12;
        let mut rate = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size = u32_at(at + 4) as usize;
            let body = at + 8;
            let end = body.saturating_add(size).min(bytes.len());
            match id {
                b"fmt " => {
                    if end - body < 16 {
                        return Err(bad("a short fmt chunk"));
                    }
                    let (format, channels, bits) =
                        (u16_at(body), u16_at(body + 2), u16_at(body + 14));
                    if format != 1 || channels != 1 || bits != 16 {
                        return Err(WavError(format!(
                            "format {format}, {channels} channel(s), {bits} bits"
                        )));
                    }
                    rate = Some(u32_at(body + 4));
                }
                b"data" => {
                    let sample_rate = rate.ok_or_else(|| bad("data before fmt"))?;
                    if sample_rate == 0 {
                        return Err(bad("a sample rate of 0"));
                    }
                    let samples = bytes[body..end]
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]))
                        .collect();
                    return Ok(Wav {
                        sample_rate,
                        samples,
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even size.
            at = body.saturating_add(size).saturating_add(size & 1);
        }
        Err(bad("no data chunk"))
    }

    /// The WAV file: a 44-byte header with the true sizes, then the samples.
    pub fn to_bytes(&self) -> Vec<u8> {
        let data_len = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }

    /// The root mean square of the samples (0 for silence, about 3 000–8 000 for speech at
    /// full volume).
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / self.samples.len() as f64).sqrt()
    }

    /// The sound at `volume` percent (0–100) of its level.
    pub fn at_volume(mut self, volume: u32) -> Wav {
        let factor = f64::from(volume.min(100)) / 100.0;
        if factor < 1.0 {
            for s in &mut self.samples {
                *s = (f64::from(*s) * factor).round() as i16;
            }
        }
        self
    }
}

// ------------------------------------------------------------------------------------------
// Engines

/// A speech engine: text in one voice to sound. Implementations are given text already checked
/// by [`checked_text`].
pub trait Engine: Send + Sync {
    /// Speaks `text` in `voice` (the engine's own name for it) at `rate` percent of the voice's
    /// normal speed.
    fn synthesize(&self, text: &str, voice: &str, rate: u32) -> Result<Wav, SpeechError>;
}

/// eSpeak NG's program, `espeak-ng`, one process per utterance: text on its standard input
/// (`--stdin`, UTF-8 whatever the locale: `-b 1`), the WAV on its standard output. SSML stays off.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: PathBuf,
}

/// eSpeak NG's normal speed, in words per minute (its `-s` default).
const ESPEAK_WPM: u32 = 175;

impl Default for Espeak {
    fn default() -> Espeak {
        Espeak::new()
    }
}

impl Espeak {
    /// `espeak-ng` from `PATH`.
    pub fn new() -> Espeak {
        Espeak::with_program("espeak-ng")
    }

    /// Another program that takes eSpeak NG's arguments.
    pub fn with_program(program: impl Into<PathBuf>) -> Espeak {
        Espeak {
            program: program.into(),
        }
    }
}

/// Whether `voice` can be an engine's voice name: letters, digits, `-`, `_`, `+` and `/`, not
/// starting with `-` (it is a program's argument), 1–64 characters.
pub fn is_voice_name(voice: &str) -> bool {
    !voice.is_empty()
        && voice.len() <= 64
        && !voice.starts_with('-')
        && voice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/'))
}

impl Engine for Espeak {
    fn synthesize(&self, text: &str, voice: &str, rate: u32) -> Result<Wav, SpeechError> {
        if !is_voice_name(voice) {
            return Err(SpeechError::VoiceMissing {
                voice: voice.to_owned(),
            });
        }
        let wpm = (ESPEAK_WPM * rate / 100).clamp(80, 450);
        let mut child = Command::new(&self.program)
            .args([
                "-b",
                "1",
                "-v",
                voice,
                "-s",
                &wpm.to_string(),
                "--stdout",
                "--stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => SpeechError::EngineMissing {
                    program: self.program.display().to_string(),
                    package: "espeak-ng".into(),
                },
                _ => SpeechError::Engine(format!("cannot start {}: {e}", self.program.display())),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A failure here shows as the program's own failure below.
            let _ = stdin.write_all(text.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| SpeechError::Engine(e.to_string()))?;
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.trim();
        if !out.status.success() || out.stdout.is_empty() {
            if could_not_exec(out.status, said) {
                return Err(SpeechError::EngineMissing {
                    program: self.program.display().to_string(),
                    package: "espeak-ng".into(),
                });
            }
            if said.contains("voice") {
                return Err(SpeechError::VoiceMissing {
                    voice: voice.to_owned(),
                });
            }
            return Err(SpeechError::Engine(format!(
                "{} ({}): {said}",
                self.program.display(),
                out.status
            )));
        }
        Wav::parse(&out.stdout).map_err(|e| SpeechError::Engine(e.to_string()))
    }
}

/// How the station speaks: speed and loudness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Percent of the voice's normal speed (100 is normal).
    pub rate: u32,
    /// Percent of full level, 0–100.
    pub volume: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            rate: 100,
            volume: 100,
        }
    }
}

/// `text` checked ([`checked_text`]) and spoken by `engine` in `voice`, at the volume of
/// `settings`.
pub fn synthesize(
    engine: &dyn Engine,
    text: &str,
    voice: &str,
    settings: Settings,
) -> Result<Wav, SpeechError> {
    let text = checked_text(text)?;
    Ok(engine
        .synthesize(&text, voice, settings.rate)?
        .at_volume(settings.volume))
}

// ------------------------------------------------------------------------------------------
// Sinks

/// Where speech goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Played on an ALSA device (`aplay -D DEVICE`).
    Alsa { device: String },
    /// Written as `NNNN-LABEL.wav` in a directory, numbered from the highest already there.
    Files { dir: PathBuf },
    /// Nowhere: nothing is synthesized.
    None,
}

/// Where one utterance went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Played {
    Device,
    File(PathBuf),
    Nowhere,
}

/// Plays `wav` on the ALSA `device` and returns when it has been played (or `stop` said to
/// stop: then [`SpeechError::Cancelled`]).
pub fn play_on_device(device: &str, wav: &Wav, stop: &dyn Fn() -> bool) -> Result<(), SpeechError> {
    let mut command = Command::new("aplay");
    command.args(["-q", "-D", device, "-"]);
    play_through(command, &wav.to_bytes(), stop).map_err(|e| match e {
        PlayError::Missing => SpeechError::PlayerMissing {
            program: "aplay".into(),
            package: "alsa-utils".into(),
        },
        PlayError::Stopped => SpeechError::Cancelled,
        PlayError::Failed(reason) => SpeechError::Playback {
            device: device.to_owned(),
            reason,
        },
    })
}

#[derive(Debug, PartialEq, Eq)]
enum PlayError {
    Missing,
    Stopped,
    Failed(String),
}

/// Feeds `bytes` to the standard input of the player `command` and waits for it, killing it
/// as soon as `stop` says so (checked between chunks and every 20 ms while it plays the end).
fn play_through(
    mut command: Command,
    bytes: &[u8],
    stop: &dyn Fn() -> bool,
) -> Result<(), PlayError> {
    let mut child: Child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => PlayError::Missing,
            _ => PlayError::Failed(e.to_string()),
        })?;
    let stopped = |child: &mut Child| {
        let _ = child.kill();
        let _ = child.wait();
        Err(PlayError::Stopped)
    };
    if let Some(mut stdin) = child.stdin.take() {
        // Small chunks: a write waits while the player plays, and between two the stop is seen.
        for chunk in bytes.chunks(4096) {
            if stop() {
                drop(stdin);
                return stopped(&mut child);
            }
            if stdin.write_all(chunk).is_err() {
                break; // the player ended early: its status says why
            }
        }
    }
    loop {
        if stop() {
            return stopped(&mut child);
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                if status.success() {
                    return Ok(());
                }
                let mut said = String::new();
                if let Some(mut err) = child.stderr.take() {
                    let _ = err.read_to_string(&mut said);
                }
                if could_not_exec(status, said.trim()) {
                    return Err(PlayError::Missing);
                }
                return Err(PlayError::Failed(format!("{status}: {}", said.trim())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(PlayError::Failed(e.to_string())),
        }
    }
}

/// A child that ended with 127 and said nothing never ran: the program could not be executed.
/// A missing program usually fails the spawn itself (`NotFound`); started through a wrapper or
/// an emulator (qemu-user, scripts/test-aarch64) the spawn succeeds and the child exits 127, as
/// a shell's "command not found" does.
fn could_not_exec(status: std::process::ExitStatus, said: &str) -> bool {
    status.code() == Some(127) && said.is_empty()
}

/// Sends `wav` to `sink` at once and returns when it is played or written (the command line's
/// `say`; the kiosk goes through a [`Speaker`]). A [`Sink::Files`] directory gets the next
/// numbered file.
pub fn send(sink: &Sink, label: &str, wav: &Wav) -> Result<Played, SpeechError> {
    match sink {
        Sink::Alsa { device } => play_on_device(device, wav, &|| false).map(|()| Played::Device),
        Sink::Files { dir } => FileSink::new(dir).write(label, wav).map(Played::File),
        Sink::None => Ok(Played::Nowhere),
    }
}

/// The numbered files of a [`Sink::Files`] directory.
struct FileSink {
    dir: PathBuf,
    next: Option<u32>,
}

impl FileSink {
    fn new(dir: &Path) -> FileSink {
        FileSink {
            dir: dir.to_owned(),
            next: None,
        }
    }

    /// Writes `wav` as the next `NNNN-LABEL.wav`, whole or not at all (a `.partial` file
    /// renamed), so that whoever watches the directory never reads half a file.
    fn write(&mut self, label: &str, wav: &Wav) -> Result<PathBuf, SpeechError> {
        let failed = |path: &Path, e: std::io::Error| SpeechError::Write {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(&self.dir, e))?;
        let n = match self.next {
            Some(n) => n,
            None => highest_number(&self.dir) + 1,
        };
        self.next = Some(n + 1);
        let label: String = label
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(32)
            .collect();
        let path = self.dir.join(format!("{n:04}-{label}.wav"));
        let partial = path.with_extension("wav.partial");
        std::fs::write(&partial, wav.to_bytes()).map_err(|e| failed(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| failed(&path, e))?;
        Ok(path)
    }
}

/// The highest `NNNN` of the `NNNN-….wav` files in `dir` (0 when none).
fn highest_number(dir: &Path) -> u32 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".wav")?;
            stem.split('-').next()?.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
}

// ------------------------------------------------------------------------------------------
// The speaker

/// One thing to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub text: String,
    /// The engine's voice.
    pub voice: String,
    /// A short tag for logs and file names (`zh`, `chime`).
    pub label: String,
}

/// What became of one queued utterance (or sound), for whoever listens (tests, a station
/// check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    pub label: String,
    /// The text, for an utterance (`None` for a ready-made sound).
    pub text: Option<String>,
    pub outcome: Result<Played, SpeechError>,
}

enum What {
    Say { text: String, voice: String },
    Sound(Wav),
}

struct Job {
    seq: u64,
    label: String,
    what: What,
}

#[derive(Default)]
struct Shared {
    /// The next job's number.
    next: AtomicU64,
    /// Jobs numbered below this are dropped when their turn comes.
    cancelled_below: AtomicU64,
    /// The job playing is stopped if its number is below this.
    stopped_below: AtomicU64,
    queued: AtomicUsize,
}

/// Speech on a worker thread: one utterance at a time, in the order given. Cloning gives
/// another handle to the same queue; the worker ends when the last handle is dropped, after
/// what was queued.
#[derive(Clone)]
pub struct Speaker {
    jobs: Sender<Job>,
    shared: Arc<Shared>,
}

impl Speaker {
    /// Starts the worker.
    pub fn start(engine: Arc<dyn Engine>, sink: Sink, settings: Settings) -> Speaker {
        Speaker::start_with(engine, sink, settings, None)
    }

    /// Starts the worker, which reports what became of each utterance on the returned channel.
    pub fn start_reporting(
        engine: Arc<dyn Engine>,
        sink: Sink,
        settings: Settings,
    ) -> (Speaker, Receiver<Spoken>) {
        let (tx, rx) = mpsc::channel();
        (Speaker::start_with(engine, sink, settings, Some(tx)), rx)
    }

    fn start_with(
        engine: Arc<dyn Engine>,
        sink: Sink,
        settings: Settings,
        reports: Option<Sender<Spoken>>,
    ) -> Speaker {
        let (tx, rx) = mpsc::channel::<Job>();
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            engine,
            sink,
            settings,
            reports,
            shared: shared.clone(),
            files: None,
            last_problem: None,
        };
        let spawned = std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || worker.run(rx));
        if let Err(e) = spawned {
            // The jobs then go nowhere: `say` sees the channel closed and says so.
            tracing::error!(error = %e, "speech: cannot start the speech thread");
        }
        Speaker { jobs: tx, shared }
    }

    /// Queues `utterance`; returns at once. False when it was not queued (the queue is full, or
    /// the worker is gone).
    pub fn say(&self, utterance: Utterance) -> bool {
        self.queue(
            utterance.label,
            What::Say {
                text: utterance.text,
                voice: utterance.voice,
            },
        )
    }

    /// Queues a ready-made sound (the display's chime), played at the station's volume in its
    /// turn.
    pub fn play(&self, label: &str, wav: Wav) -> bool {
        self.queue(label.to_owned(), What::Sound(wav))
    }

    fn queue(&self, label: String, what: What) -> bool {
        if self.shared.queued.load(Ordering::SeqCst) >= MAX_QUEUED {
            tracing::warn!(
                label,
                "speech: {MAX_QUEUED} utterances wait already; this one is dropped"
            );
            return false;
        }
        let seq = self.shared.next.fetch_add(1, Ordering::SeqCst);
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        let sent = self.jobs.send(Job { seq, label, what }).is_ok();
        if !sent {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("speech: the speech thread is gone; nothing is said");
        }
        sent
    }

    /// Drops every utterance queued and not yet started; the one being said goes on.
    pub fn cancel_pending(&self) {
        let next = self.shared.next.load(Ordering::SeqCst);
        self.shared
            .cancelled_below
            .fetch_max(next, Ordering::SeqCst);
    }

    /// Drops everything queued and stops the utterance being played.
    pub fn interrupt(&self) {
        let next = self.shared.next.load(Ordering::SeqCst);
        self.shared
            .cancelled_below
            .fetch_max(next, Ordering::SeqCst);
        self.shared.stopped_below.fetch_max(next, Ordering::SeqCst);
    }
}

struct Worker {
    engine: Arc<dyn Engine>,
    sink: Sink,
    settings: Settings,
    reports: Option<Sender<Spoken>>,
    shared: Arc<Shared>,
    files: Option<FileSink>,
    /// The last failure logged, so that a missing engine is said once, not at every call.
    last_problem: Option<String>,
}

impl Worker {
    fn run(mut self, jobs: Receiver<Job>) {
        for job in jobs {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            let text = match &job.what {
                What::Say { text, .. } => Some(text.clone()),
                What::Sound(_) => None,
            };
            let outcome = if job.seq < self.shared.cancelled_below.load(Ordering::SeqCst) {
                Err(SpeechError::Cancelled)
            } else {
                self.one(&job)
            };
            match &outcome {
                Ok(_) if self.last_problem.take().is_some() => {
                    tracing::info!("speech: works again");
                }
                Err(SpeechError::Cancelled) | Ok(_) => {}
                Err(e) => {
                    let problem = e.to_string();
                    if self.last_problem.as_deref() != Some(problem.as_str()) {
                        tracing::warn!(label = %job.label, error = %problem, "speech: not said");
                        self.last_problem = Some(problem);
                    }
                }
            }
            if let Some(reports) = &self.reports {
                let _ = reports.send(Spoken {
                    label: job.label,
                    text,
                    outcome,
                });
            }
        }
    }

    fn one(&mut self, job: &Job) -> Result<Played, SpeechError> {
        if self.sink == Sink::None {
            return Ok(Played::Nowhere);
        }
        let wav = match &job.what {
            What::Say { text, voice } => {
                synthesize(self.engine.as_ref(), text, voice, self.settings)?
            }
            What::Sound(wav) => wav.clone().at_volume(self.settings.volume),
        };
        match &self.sink {
            Sink::Alsa { device } => {
                let shared = &self.shared;
                let stop = || job.seq < shared.stopped_below.load(Ordering::SeqCst);
                play_on_device(device, &wav, &stop).map(|()| Played::Device)
            }
            Sink::Files { dir } => {
                let files = self.files.get_or_insert_with(|| FileSink::new(dir));
                files.write(&job.label, &wav).map(Played::File)
            }
            Sink::None => Ok(Played::Nowhere),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An engine that makes a tone as long as the text, and can be held at its next utterance
    /// until the test lets it go.
    struct Tone {
        gate: Mutex<Option<Receiver<()>>>,
        entered: Mutex<Option<Sender<()>>>,
    }

    impl Tone {
        fn free() -> Tone {
            Tone {
                gate: Mutex::new(None),
                entered: Mutex::new(None),
            }
        }
    }

    impl Engine for Tone {
        fn synthesize(&self, text: &str, voice: &str, _rate: u32) -> Result<Wav, SpeechError> {
            if voice == "none" {
                return Err(SpeechError::VoiceMissing {
                    voice: voice.into(),
                });
            }
            if let Some(entered) = self.entered.lock().unwrap().take() {
                entered.send(()).unwrap();
            }
            if let Some(gate) = self.gate.lock().unwrap().take() {
                gate.recv().unwrap();
            }
            let n = 1000 * text.chars().count();
            Ok(Wav {
                sample_rate: 8000,
                samples: (0..n)
                    .map(|i| if i % 20 < 10 { 8000 } else { -8000 })
                    .collect(),
            })
        }
    }

    #[test]
    fn plain_text_keeps_words_and_drops_what_an_engine_takes_as_markup() {
        assert_eq!(
            plain_text("  请 B 0 0 1 号\n到 2 号窗口。 "),
            "请 B 0 0 1 号 到 2 号窗口。"
        );
        assert_eq!(
            plain_text("[[h@'loU]] <speak>hi</speak>"),
            "h@'loU speak hi /speak"
        );
        assert_eq!(plain_text("a\u{200B}b\u{202E}c\u{7}d"), "a b c d");
        assert_eq!(checked_text(" \n\t<>"), Err(SpeechError::Empty));
        let long = "字".repeat(MAX_CHARS + 1);
        assert_eq!(
            checked_text(&long),
            Err(SpeechError::TooLong {
                chars: MAX_CHARS + 1,
                max: MAX_CHARS
            })
        );
        assert!(checked_text(&"字".repeat(MAX_CHARS)).is_ok());
    }

    #[test]
    fn a_wav_goes_to_bytes_and_back_and_a_streamed_header_is_read_to_the_end() {
        let wav = Wav {
            sample_rate: 22_050,
            samples: vec![0, 1000, -1000, 32767, -32768],
        };
        let bytes = wav.to_bytes();
        assert_eq!(bytes.len(), 44 + 10);
        assert_eq!(Wav::parse(&bytes).unwrap(), wav);
        // espeak-ng --stdout writes 0x7ffff000 as the data size.
        let mut streamed = bytes.clone();
        streamed[40..44].copy_from_slice(&0x7fff_f000u32.to_le_bytes());
        streamed[4..8].copy_from_slice(&0x7fff_f024u32.to_le_bytes());
        assert_eq!(Wav::parse(&streamed).unwrap(), wav);
        assert!(Wav::parse(b"RIFF\0\0\0\0WAVE").is_err());
        assert!(Wav::parse(&bytes[..20]).is_err());
        let mut stereo = bytes;
        stereo[22] = 2;
        assert!(Wav::parse(&stereo).is_err());
    }

    #[test]
    fn volume_scales_the_samples() {
        let wav = Wav {
            sample_rate: 8000,
            samples: vec![10_000, -10_000],
        };
        assert_eq!(wav.clone().at_volume(50).samples, vec![5000, -5000]);
        assert_eq!(wav.clone().at_volume(0).rms(), 0.0);
        assert_eq!(wav.clone().at_volume(100), wav);
        assert_eq!(wav.rms(), 10_000.0);
    }

    #[test]
    fn a_missing_engine_and_a_bad_voice_are_named() {
        let e = Espeak::with_program("/nonexistent/espeak-ng")
            .synthesize("你好", "cmn", 100)
            .unwrap_err();
        assert!(matches!(&e, SpeechError::EngineMissing { package, .. } if package == "espeak-ng"));
        assert!(e.to_string().contains("espeak-ng"), "{e}");
        let e = Espeak::new().synthesize("hi", "-x", 100).unwrap_err();
        assert_eq!(e, SpeechError::VoiceMissing { voice: "-x".into() });
        assert!(is_voice_name("cmn-latn-pinyin") && is_voice_name("en-us+f3"));
        assert!(!is_voice_name("") && !is_voice_name("a b") && !is_voice_name("-v"));
    }

    /// The real engine (Debian's espeak-ng; scripts/test installs it).
    #[test]
    fn espeak_speaks_mandarin_cantonese_and_english_and_names_a_missing_voice() {
        for (voice, text) in [
            ("cmn-latn-pinyin", "请 B 0 0 1 号到 2 号窗口"),
            ("yue", "請 B 0 0 1 號到 2 號窗口"),
            ("en", "Number B 0 0 1, please go to counter 2."),
        ] {
            let wav = synthesize(&Espeak::new(), text, voice, Settings::default()).unwrap();
            let secs = wav.duration().as_secs_f64();
            assert!((1.0..10.0).contains(&secs), "{voice}: {secs} s");
            assert!(wav.rms() > 1000.0, "{voice}: rms {}", wav.rms());
        }
        let quiet = synthesize(
            &Espeak::new(),
            "请 B 0 0 1 号",
            "cmn-latn-pinyin",
            Settings {
                rate: 100,
                volume: 20,
            },
        )
        .unwrap();
        let loud = synthesize(
            &Espeak::new(),
            "请 B 0 0 1 号",
            "cmn-latn-pinyin",
            Settings::default(),
        )
        .unwrap();
        assert!(quiet.rms() < loud.rms() * 0.3);
        let slow = synthesize(
            &Espeak::new(),
            "请 B 0 0 1 号",
            "cmn-latn-pinyin",
            Settings {
                rate: 60,
                volume: 100,
            },
        )
        .unwrap();
        assert!(slow.duration() > loud.duration());
        // (eSpeak NG takes `no-…` for Norwegian: a name must match nothing at all.)
        let missing = Espeak::new()
            .synthesize("hi", "nosuchvoice", 100)
            .map(|w| w.duration());
        assert_eq!(
            missing,
            Err(SpeechError::VoiceMissing {
                voice: "nosuchvoice".into()
            })
        );
    }

    #[test]
    fn the_file_sink_numbers_utterances_in_order_after_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0007-zh.wav"), b"old").unwrap();
        let (speaker, spoken) = Speaker::start_reporting(
            Arc::new(Tone::free()),
            Sink::Files {
                dir: dir.path().to_owned(),
            },
            Settings::default(),
        );
        for (label, text) in [("zh", "一二"), ("yue", "一二三"), ("en", "")] {
            assert!(speaker.say(Utterance {
                text: text.into(),
                voice: "x".into(),
                label: label.into(),
            }));
        }
        assert!(speaker.play(
            "chime",
            Wav {
                sample_rate: 8000,
                samples: vec![100; 80]
            }
        ));
        let got: Vec<Spoken> = (0..4).map(|_| spoken.recv().unwrap()).collect();
        let path = |i: usize| match &got[i].outcome {
            Ok(Played::File(p)) => p.clone(),
            other => panic!("{}: {other:?}", got[i].label),
        };
        assert!(path(0).ends_with("0008-zh.wav"), "{:?}", path(0));
        assert!(path(1).ends_with("0009-yue.wav"));
        assert_eq!(got[2].outcome, Err(SpeechError::Empty));
        assert!(path(3).ends_with("0010-chime.wav"));
        let wav = Wav::parse(&std::fs::read(path(1)).unwrap()).unwrap();
        assert_eq!(wav.samples.len(), 3000);
        assert_eq!(got[1].text.as_deref(), Some("一二三"));
        assert_eq!(got[3].text, None);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn cancel_pending_drops_what_waits_and_lets_the_current_one_finish() {
        let dir = tempfile::tempdir().unwrap();
        let (release, gate) = mpsc::channel();
        let (entered_tx, entered) = mpsc::channel();
        let engine = Tone {
            gate: Mutex::new(Some(gate)),
            entered: Mutex::new(Some(entered_tx)),
        };
        let (speaker, spoken) = Speaker::start_reporting(
            Arc::new(engine),
            Sink::Files {
                dir: dir.path().to_owned(),
            },
            Settings::default(),
        );
        let say = |label: &str| {
            speaker.say(Utterance {
                text: "读给我听".into(),
                voice: "x".into(),
                label: label.into(),
            })
        };
        say("first");
        entered.recv().unwrap(); // the first is being synthesized
        say("second");
        say("third");
        speaker.cancel_pending();
        say("after");
        release.send(()).unwrap();
        let got: Vec<(String, bool)> = (0..4)
            .map(|_| spoken.recv().unwrap())
            .map(|s| (s.label, s.outcome == Err(SpeechError::Cancelled)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("first".into(), false),
                ("second".into(), true),
                ("third".into(), true),
                ("after".into(), false)
            ]
        );
    }

    #[test]
    fn the_silent_sink_says_nothing_and_a_failure_is_reported() {
        let (speaker, spoken) =
            Speaker::start_reporting(Arc::new(Tone::free()), Sink::None, Settings::default());
        speaker.say(Utterance {
            text: "一".into(),
            voice: "x".into(),
            label: "zh".into(),
        });
        assert_eq!(spoken.recv().unwrap().outcome, Ok(Played::Nowhere));
        let dir = tempfile::tempdir().unwrap();
        let (speaker, spoken) = Speaker::start_reporting(
            Arc::new(Tone::free()),
            Sink::Files {
                dir: dir.path().to_owned(),
            },
            Settings::default(),
        );
        speaker.say(Utterance {
            text: "一".into(),
            voice: "none".into(),
            label: "zh".into(),
        });
        assert_eq!(
            spoken.recv().unwrap().outcome,
            Err(SpeechError::VoiceMissing {
                voice: "none".into()
            })
        );
    }

    #[test]
    fn a_player_gets_the_whole_sound_and_a_stop_kills_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("played.wav");
        let wav = Wav {
            sample_rate: 8000,
            samples: (0..50_000).map(|i| (i % 300) as i16).collect(),
        };
        let bytes = wav.to_bytes();
        let mut cat = Command::new("sh");
        cat.args(["-c", "cat > \"$0\"", out.to_str().unwrap()]);
        assert_eq!(play_through(cat, &bytes, &|| false), Ok(()));
        assert_eq!(std::fs::read(&out).unwrap(), bytes);

        // A player that would never end: stopped, and reaped.
        let mut stuck = Command::new("sh");
        stuck.args(["-c", "cat > /dev/null; exec tail -f /dev/null"]);
        assert_eq!(
            play_through(stuck, &bytes, &|| true),
            Err(PlayError::Stopped)
        );

        let mut failing = Command::new("sh");
        failing.args(["-c", "cat > /dev/null; echo no card >&2; exit 1"]);
        match play_through(failing, &bytes, &|| false) {
            Err(PlayError::Failed(why)) => assert!(why.contains("no card"), "{why}"),
            other => panic!("{other:?}"),
        }
        let missing = Command::new("/nonexistent/aplay");
        assert_eq!(
            play_through(missing, &bytes, &|| false),
            Err(PlayError::Missing)
        );
    }
}
