//! The `grievance-kiosk` command line (DESIGN.md §9). Every command calls the same function in
//! [`station::kiosk`] or [`crate::app`] that the touchscreen calls; this file only parses
//! arguments and prints. `--json` prints one JSON object per line with stable field names (the
//! types in `output.rs`, the contract of DESIGN.md §9); errors go to standard error as one line,
//! with a non-zero exit status.

mod output;
mod queue;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::app::screenshot::{self, ScreenName, Shot};
use crate::local_hub::{connect, Connection, Listen};
use devices::printer::transport::VirtualPrinter;
use domain::{Answer, CaseDraft, Channel, Language};
use protocol::CaseProgress;
use slip::profile::PrinterProfile;
use station::config::KioskConfig;
use station::kiosk::{configured_printer, doctor, sample_slip_content, Kiosk, TestPrint};
use station::kiosk::{DrainReport, Progress};
use station::store::PrintJobState;

#[derive(Parser)]
#[command(
    name = "grievance-kiosk",
    version,
    about = "Touchscreen kiosk of a citizen appeal service station",
    long_about = "Touchscreen kiosk of a citizen appeal service station.\n\n\
        Without a command, opens the kiosk window. With no configuration it runs the built-in \
        demo station: data in ./kiosk-data, the virtual printer (slips written as PNG under \
        kiosk-data/slips).\n\n\
        Configuration: --config FILE or KIOSK_CONFIG, then the environment variables \
        KIOSK_DATA_DIR, KIOSK_STATION_ID, KIOSK_PRINTER_PORT, KIOSK_PRINTER_PROFILE, \
        KIOSK_PRINTER_BAUD, KIOSK_UPSTREAM_URL, KIOSK_UPSTREAM_KIND, KIOSK_UPSTREAM_TOKEN, \
        KIOSK_TRACKING_BASE_URL, KIOSK_SCANNER_PORT, KIOSK_VOICE_OUTPUT."
)]
pub struct Cli {
    /// The station's kiosk.toml (only the keys that differ from the built-in demo station).
    #[arg(long, global = true, env = "KIOSK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// File a case or look one up.
    #[command(subcommand)]
    Case(CaseCommand),
    /// A case's slip: its raw ESC/POS bytes, or a PNG of what the printer prints.
    #[command(subcommand)]
    Slip(SlipCommand),
    /// The printer: its status, a test slip, reprints, a new roll.
    #[command(subcommand)]
    Printer(PrinterCommand),
    /// Render a screen of the kiosk to PNG, without a display.
    Screenshot(ScreenshotArgs),
    /// Cases waiting to reach upstream: how many, and sending them now.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Appointments: free slots, book, check in, cancel.
    #[command(subcommand)]
    Booking(queue::BookingCommand),
    /// The walk-in queue: take a ticket, call, recall, served, no-show, transfer.
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// The staff PIN, attendance and the audit log.
    #[command(subcommand)]
    Staff(queue::StaffCommand),
    /// The pinyin input method.
    #[command(subcommand)]
    Ime(ImeCommand),
    /// The now-serving display: a window for a second screen with the ticket just called,
    /// its counter and the last calls, a chime and each call spoken (`[voice]`, through `aplay`).
    Display(DisplayArgs),
    /// Speak TEXT with the station's voice (`[voice]`): into a WAV file with --out, else on
    /// the station's sound card (or its `files` directory).
    Say(SayArgs),
    /// Check the configuration, the database, the fonts and the printer.
    Doctor,
    /// Erase the personal data kept longer than `[privacy] retention_days` (daily, from the
    /// timer in systemd/).
    EraseExpired {
        #[arg(long)]
        json: bool,
    },
    /// Write a checked copy of the database to <data_dir>/backups, keeping `[backup] keep`
    /// copies (daily, from the timer in systemd/).
    Backup {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ImeCommand {
    /// The ranked candidates for what a resident typed, best first (for tests and tuning).
    Suggest {
        /// Full pinyin, initials or a mix (`nihao`, `gzqf`, `xi'an`).
        pinyin: String,
        /// Accept z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing for each other.
        #[arg(long)]
        fuzzy: bool,
        /// How many candidates to print.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// A dictionary file (as scripts/make-ime-dict.py writes) instead of the station's
        /// (`[ime] dictionary`, else the built-in one).
        #[arg(long, value_name = "FILE")]
        dictionary: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The candidates for one handwritten character, best first. Reads its strokes as JSON on
    /// standard input: `{"width": W, "height": H, "strokes": [[[x, y], …], …]}`, the pad's size
    /// and each stroke's points in the order drawn, y growing downward.
    Handwrite(HandwriteArgs),
}

#[derive(clap::Args)]
struct HandwriteArgs {
    /// How many candidates to print.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// A zinnia model file instead of Debian's: tegaki-zinnia-simplified-chinese, with
    /// tegaki-zinnia-japanese as its second opinion (/usr/share/tegaki/models/zinnia/
    /// handwriting-zh_CN.model and handwriting-ja.model). Again for a second opinion.
    #[arg(long, value_name = "FILE")]
    model: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct DisplayArgs {
    /// No chime and no spoken calls, only the flash.
    #[arg(long)]
    quiet: bool,
    /// Render the board once to this PNG instead of opening a window (no display needed).
    #[arg(long, value_name = "FILE.png")]
    screenshot: Option<PathBuf>,
}

#[derive(clap::Args)]
struct SayArgs {
    /// What to say (plain text; at most 1000 characters).
    text: String,
    /// zh (Mandarin), yue (Cantonese) or en, in the station's voice for it (`[voice]`).
    #[arg(long, value_parser = spoken_language, default_value = "zh")]
    lang: domain::spoken::SpokenLanguage,
    /// Write the speech to this WAV file instead of playing it.
    #[arg(long, value_name = "FILE.wav")]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn spoken_language(s: &str) -> Result<domain::spoken::SpokenLanguage, String> {
    domain::spoken::SpokenLanguage::parse(s)
        .ok_or_else(|| format!("`{s}` is not a spoken language (zh, yue or en)"))
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// How many cases wait, are delivered, or were refused; the oldest wait and the last error.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Send every waiting case now, including those upstream once refused. Exits non-zero
    /// while any case is still undelivered.
    Flush {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PrinterCommand {
    /// Ask the printer (DLE EOT 1..4) and print its state and the raw answers.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Print a sample slip and say whether the printer reported it printed.
    Test {
        /// The sample slip's language (zh-Hant checks a new model's font for Traditional
        /// characters).
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        #[arg(long)]
        json: bool,
    },
    /// Print a case's slip again (a new print job, printed at once if the printer can).
    Reprint {
        /// The case's tracking code.
        token: String,
        #[arg(long)]
        json: bool,
    },
    /// Staff put in a new roll: restart the paper estimate and print what is waiting (slips
    /// that waited too long are suppressed; reprint them).
    Refilled {
        #[arg(long)]
        json: bool,
    },
    /// Run a printer emulator on a pseudo-terminal, to try the kiosk without a printer: point
    /// KIOSK_PRINTER_PORT at the port it prints. Type a new state and Enter to change it live.
    Emulate {
        /// ready, near-end, paper-out, paper-out-after=N, cover-open, cover-open-after=N,
        /// offline, silent, garbage, slow=BYTES_PER_SECOND, stall=AFTER_BYTES.
        #[arg(long, default_value = "ready")]
        script: String,
        /// A stable path for the port (a symbolic link to the pseudo-terminal).
        #[arg(long)]
        link: Option<PathBuf>,
        /// Write every slip received as job-NNNN.bin and .png here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The printer model to behave as (paper width, GS r).
        #[arg(long)]
        profile: Option<String>,
    },
}

#[derive(Subcommand)]
enum CaseCommand {
    /// File a case, as the touchscreen does, and print its slip.
    New {
        /// complaint, mediation, legal, counselling or assistance.
        #[arg(long)]
        service: String,
        /// Sub-type of the service (default: other).
        #[arg(long)]
        subtype: Option<String>,
        /// What the resident wants to say (at most 4000 characters).
        #[arg(long, default_value = "")]
        description: String,
        /// A mainland mobile, or a landline with area code.
        #[arg(long, default_value = "")]
        phone: String,
        /// File without a phone number (where the service allows it, and for any high-risk case).
        #[arg(long)]
        anonymous: bool,
        /// An answer to a structured question, QUESTION=OPTION (repeatable).
        #[arg(long = "answer", value_name = "QUESTION=OPTION")]
        answers: Vec<String>,
        /// The resident's language: the slip is printed in it.
        #[arg(long, value_enum, default_value = "zh")]
        lang: LangArg,
        #[arg(long)]
        json: bool,
    },
    /// Show a case: this kiosk's record (when it filed the case) and its progress upstream.
    Show {
        /// The tracking code (any case, dashes and spaces allowed).
        token: String,
        #[arg(long)]
        json: bool,
    },
    /// Give the citizen's rating of a resolved case, as the Track screen's buttons do.
    Rate {
        /// The tracking code.
        token: String,
        /// satisfied, basically_satisfied or unsatisfied.
        rating: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SlipCommand {
    /// Write a slip's raw ESC/POS bytes to standard output.
    Bytes {
        #[command(flatten)]
        which: WhichSlip,
    },
    /// Render a slip as the printer would print it, to a PNG file.
    Render {
        #[command(flatten)]
        which: WhichSlip,
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct WhichSlip {
    /// The case's tracking code.
    #[arg(required_unless_present = "sample", conflicts_with = "sample")]
    token: Option<String>,
    /// A sample slip instead of a stored case's.
    #[arg(long)]
    sample: bool,
    /// Printer profile (default: the configured one): epson-tm-t88, cn-80mm, cn-58mm, …
    #[arg(long)]
    profile: Option<String>,
    /// Language of a sample slip.
    #[arg(long, value_enum, default_value = "zh")]
    lang: LangArg,
}

#[derive(clap::Args)]
struct ScreenshotArgs {
    /// Which screen, or `all` (then --out is a directory).
    #[arg(long)]
    screen: ScreenArg,
    #[arg(long, value_enum, default_value = "zh")]
    lang: LangArg,
    /// Elderly mode: larger text and touch targets.
    #[arg(long)]
    elderly: bool,
    /// 1920×1080 instead of the portrait 1080×1920.
    #[arg(long)]
    landscape: bool,
    /// Another panel, WIDTHxHEIGHT in pixels (e.g. 1280x800): the screens laid out as the kiosk
    /// lays them out on that panel, scaled to fit.
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_panel, conflicts_with = "landscape")]
    size: Option<(u32, u32)>,
    /// The PNG to write (a directory for --screen all).
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
    /// After the frame is rendered, print to stderr when (Unix time, ns) and the process's
    /// memory (for the benchmarks: process start to first frame, memory at Home).
    #[arg(long, hide = true)]
    timings: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum LangArg {
    Zh,
    #[value(name = "zh-Hant", alias = "zh-hant")]
    ZhHant,
    En,
}

impl From<LangArg> for Language {
    fn from(l: LangArg) -> Language {
        match l {
            LangArg::Zh => Language::Zh,
            LangArg::ZhHant => Language::ZhHant,
            LangArg::En => Language::En,
        }
    }
}

#[derive(Clone, Copy)]
enum ScreenArg {
    One(ScreenName),
    All,
}

impl clap::ValueEnum for ScreenArg {
    fn value_variants<'a>() -> &'a [Self] {
        // Every screen, then `all` (the last slot keeps its initial value).
        const VARIANTS: [ScreenArg; ScreenName::ALL.len() + 1] = {
            let mut all = [ScreenArg::All; ScreenName::ALL.len() + 1];
            let mut i = 0;
            while i < ScreenName::ALL.len() {
                all[i] = ScreenArg::One(ScreenName::ALL[i]);
                i += 1;
            }
            all
        };
        &VARIANTS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            ScreenArg::One(s) => s.name(),
            ScreenArg::All => "all",
        }))
    }
}

/// Runs the command line; `Err` is printed by `main` as one line.
pub fn main(cli: Cli) -> anyhow::Result<()> {
    let config = Arc::new(
        KioskConfig::load(cli.config.as_deref(), |name| std::env::var(name).ok())
            .context("configuration")?,
    );
    // Every local time in the station's zone, whatever the board's clock says.
    config.apply_time_zone().context("configuration")?;
    match cli.command {
        None => crate::app::run(config),
        Some(Command::Case(cmd)) => case(config, cmd),
        Some(Command::Slip(cmd)) => slip(config, cmd),
        Some(Command::Screenshot(args)) => screenshot_cmd(config, args),
        Some(Command::Printer(cmd)) => printer_cmd(config, cmd),
        Some(Command::Outbox(cmd)) => outbox_cmd(config, cmd),
        Some(Command::Booking(cmd)) => queue::booking(config, cmd),
        Some(Command::Queue(cmd)) => queue::queue(config, cmd),
        Some(Command::Staff(cmd)) => queue::staff(config, cmd),
        Some(Command::Ime(cmd)) => ime_cmd(&config, cmd),
        Some(Command::Display(args)) => display_cmd(config, args),
        Some(Command::Say(args)) => say_cmd(&config, args),
        Some(Command::Doctor) => doctor_cmd(config),
        Some(Command::EraseExpired { json }) => erase_expired_cmd(config, json),
        Some(Command::Backup { json }) => backup_cmd(config, json),
    }
}

fn ime_cmd(config: &KioskConfig, cmd: ImeCommand) -> anyhow::Result<()> {
    use ime::{Dictionary, Options, Session};
    let (pinyin, fuzzy, limit, dictionary, json) = match cmd {
        ImeCommand::Suggest {
            pinyin,
            fuzzy,
            limit,
            dictionary,
            json,
        } => (pinyin, fuzzy, limit, dictionary, json),
        ImeCommand::Handwrite(args) => return handwrite_cmd(args),
    };
    let dict = Dictionary::configured(dictionary.as_deref().or(config.ime.dictionary.as_deref()))?;
    let fuzzy = fuzzy || config.ime.fuzzy;
    let candidates = dict.suggest(&pinyin, Options { fuzzy }, &Session::default());
    let shown: Vec<_> = candidates.iter().take(limit).collect();
    if json {
        output::print(&output::ImeSuggestion {
            candidates: shown.iter().map(|c| c.word.clone()).collect(),
            consumed: shown.iter().map(|c| c.consumed).collect(),
        })?;
    } else {
        for (i, c) in shown.iter().enumerate() {
            let rest = pinyin.get(c.consumed..).unwrap_or("");
            if rest.is_empty() {
                println!("{:>2}. {}", i + 1, c.word);
            } else {
                println!("{:>2}. {}  (then: {rest})", i + 1, c.word);
            }
        }
        if shown.is_empty() {
            println!("no candidates for `{pinyin}`");
        }
    }
    Ok(())
}

/// The writing pad's models (`[ime] handwriting_models`), loaded as the kiosk loads them when a
/// resident comes to write: without the first, the keyboard offers pinyin and letters only.
fn handwriting_check(config: &KioskConfig) -> doctor::Check {
    let paths = &config.ime.handwriting_models;
    let (verdict, detail) = if paths.is_empty() {
        (
            doctor::Verdict::Ok,
            "no [ime] handwriting_models: the keyboard offers no writing pad".to_string(),
        )
    } else {
        match crate::app::backend::load_handwriting_models(paths) {
            Ok(_) => (
                doctor::Verdict::Ok,
                format!(
                    "the writing pad's model {} loads ({} model(s) configured)",
                    paths[0].display(),
                    paths.len()
                ),
            ),
            Err(e) => (
                doctor::Verdict::Warn,
                format!("{e}: residents can write with pinyin and letters only"),
            ),
        }
    };
    doctor::Check {
        name: "handwrite",
        verdict,
        detail,
    }
}

/// One character's strokes, as `ime handwrite` reads them on standard input.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HandwrittenInk {
    width: f32,
    height: f32,
    strokes: Vec<Vec<(f32, f32)>>,
}

/// The most `ime handwrite` reads from standard input (the most points a character may have
/// take a tenth of it).
const HANDWRITING_INPUT_MAX: u64 = 1 << 20;

fn handwrite_cmd(args: HandwriteArgs) -> anyhow::Result<()> {
    use std::io::Read;
    let mut input = String::new();
    std::io::stdin()
        .lock()
        .take(HANDWRITING_INPUT_MAX + 1)
        .read_to_string(&mut input)
        .context("cannot read the strokes from standard input")?;
    if input.len() as u64 > HANDWRITING_INPUT_MAX {
        bail!("the strokes on standard input are over {HANDWRITING_INPUT_MAX} bytes");
    }
    let ink: HandwrittenInk = serde_json::from_str(&input).context(
        "standard input is not one character's strokes, \
         {\"width\": W, \"height\": H, \"strokes\": [[[x, y], …], …]}",
    )?;
    let ink = handwriting::Ink {
        width: ink.width,
        height: ink.height,
        strokes: ink.strokes,
    };
    let mut models = args.model;
    if models.is_empty() {
        models = handwriting::DEFAULT_MODELS.map(PathBuf::from).to_vec();
    }
    let recognizer = handwriting::load_all(&models)?;
    let candidates = recognizer
        .classify(&ink, args.limit)
        .context("the strokes on standard input")?;
    if args.json {
        output::print(&output::Handwriting {
            candidates: candidates
                .into_iter()
                .map(|c| output::HandwritingCandidate {
                    character: c.character,
                    score: c.score,
                })
                .collect(),
        })?;
    } else {
        for (i, c) in candidates.iter().enumerate() {
            println!("{:>2}. {}  {:.3}", i + 1, c.character, c.score);
        }
    }
    Ok(())
}

fn display_cmd(config: Arc<KioskConfig>, args: DisplayArgs) -> anyhow::Result<()> {
    let Some(out) = args.screenshot else {
        return crate::app::display::run(config, !args.quiet);
    };
    screenshot::install_headless();
    let kiosk = Kiosk::open(config.clone())?;
    let (w, h, rgba) = crate::app::display::render(&config, &kiosk, (1920, 1080), kiosk.now())?;
    screenshot::write_png(&out, w, h, &rgba)?;
    println!("{}", out.display());
    Ok(())
}

/// `say`: TEXT in the station's voice, into a WAV file or out of its sound card, the way the
/// display speaks a call (docs/voice.md).
fn say_cmd(config: &KioskConfig, args: SayArgs) -> anyhow::Result<()> {
    use devices::speech::{self, Espeak, Played, Sink};
    let voice = config.voice.voice(args.lang);
    let wav = speech::synthesize(&Espeak::new(), &args.text, voice, config.speech_settings())
        .with_context(|| format!("cannot say it in `{}` (voice `{voice}`)", args.lang))?;
    let played = match &args.out {
        Some(out) => {
            std::fs::write(out, wav.to_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            Played::File(out.clone())
        }
        None => {
            let sink = config.speech_sink();
            if sink == Sink::None {
                bail!(
                    "the station's sound is off (`[voice] output = \"none\"` or \
                     KIOSK_VOICE_OUTPUT=none): nothing played; write it with --out FILE.wav"
                );
            }
            speech::send(&sink, args.lang.code(), &wav)?
        }
    };
    let duration_ms = wav.duration().as_millis() as u64;
    if args.json {
        return output::print(&output::Said {
            device: (played == Played::Device).then(|| config.voice.device.clone()),
            duration_ms,
            file: match &played {
                Played::File(path) => Some(path.clone()),
                _ => None,
            },
            language: args.lang.code(),
            voice: voice.to_owned(),
        });
    }
    let whither = match &played {
        Played::File(path) => format!("wrote {}", path.display()),
        _ => format!("played on {}", config.voice.device),
    };
    eprintln!(
        "{whither} ({:.1} s, {}, voice {voice})",
        duration_ms as f64 / 1000.0,
        args.lang
    );
    Ok(())
}

/// A runtime for the commands that talk to upstream.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The configured upstream, or the in-process hub on a free loopback port for as long as the
/// command runs (the same hub database the touchscreen's local hub uses).
async fn upstream_for_cli(config: &KioskConfig) -> anyhow::Result<Connection> {
    connect(config, Listen::AnyPort).await.context("upstream")
}

fn outbox_cmd(config: Arc<KioskConfig>, cmd: OutboxCommand) -> anyhow::Result<()> {
    let mut kiosk = Kiosk::open(config.clone())?;
    let report = match cmd {
        OutboxCommand::Status { json } => {
            print_outbox(&kiosk, json, None)?;
            return Ok(());
        }
        OutboxCommand::Flush { json } => {
            let report = runtime()?.block_on(async {
                let connection = upstream_for_cli(&config).await?;
                let report = kiosk.drain_outbox(&connection.upstream, true).await?;
                anyhow::Ok(report)
            })?;
            print_outbox(&kiosk, json, Some(&report))?;
            report
        }
    };
    let counts = kiosk.outbox_counts()?;
    if counts.pending + counts.failed > 0 {
        bail!(
            "{} case(s) not delivered yet: {}",
            counts.pending + counts.failed,
            report
                .last_error
                .or(counts.last_error)
                .unwrap_or_else(|| "waiting for their turn".into())
        );
    }
    Ok(())
}

fn print_outbox(kiosk: &Kiosk, json: bool, flushed: Option<&DrainReport>) -> anyhow::Result<()> {
    let counts = kiosk.outbox_counts()?;
    let next_due = kiosk.outbox_next_due()?;
    let now = kiosk.now();
    let oldest_s = counts
        .oldest_pending
        .map(|t| (now - t).num_seconds().max(0));
    if json {
        output::print(&output::OutboxStatus {
            delivered: counts.delivered,
            failed: counts.failed,
            last_error: counts.last_error,
            next_try_at: next_due,
            oldest_pending_s: oldest_s,
            pending: counts.pending,
            sent_now: flushed.map(|r| r.delivered.len()),
            sent_tokens: flushed.map(|r| r.delivered.clone()),
        })?;
    } else {
        if let Some(r) = flushed {
            println!("sent now  {}", r.delivered.len());
        }
        println!("pending   {}", counts.pending);
        println!("delivered {}", counts.delivered);
        println!("failed    {}", counts.failed);
        if let Some(s) = oldest_s {
            println!("oldest    waiting {}", human_duration(s));
        }
        if let Some(t) = next_due.filter(|_| counts.pending > 0) {
            println!(
                "next try  {}",
                t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
            );
        }
        if let Some(e) = &counts.last_error {
            println!("error     {e}");
        }
    }
    Ok(())
}

fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Upstream's progress of a case, for `case show --json`.
fn progress_json(progress: &Progress) -> output::CaseUpstream {
    use output::{CaseUpstream, Unreported, UpstreamReport, UpstreamUnreported};
    let report = |p: &CaseProgress, fetched_at: Option<_>, why: Option<&String>| {
        CaseUpstream::Reported(UpstreamReport {
            department: p.department.clone(),
            expected_at: p.expected_at,
            fetched_at,
            fresh: fetched_at.is_none(),
            state: p.state,
            station: p.station_id.clone(),
            timeline: p
                .timeline
                .iter()
                .map(|e| output::TimelineLine {
                    at: e.at,
                    department: e.department.clone(),
                    expected_at: e.expected_at,
                    note: e.note.clone(),
                    state: e.state,
                })
                .collect(),
            why: why.cloned(),
        })
    };
    match progress {
        Progress::Live(p) => report(p, None, None),
        Progress::LastKnown {
            progress,
            fetched_at,
            why,
        } => report(progress, Some(*fetched_at), Some(why)),
        Progress::NotYetDelivered => CaseUpstream::Unreported(UpstreamUnreported {
            fresh: true,
            state: Unreported::NotDelivered,
            why: None,
        }),
        Progress::Unknown(why) => CaseUpstream::Unreported(UpstreamUnreported {
            fresh: false,
            state: Unreported::Unknown,
            why: Some(why.clone()),
        }),
    }
}

/// Upstream's progress of a case, as lines for people.
fn print_progress(progress: &Progress) {
    let local = |t: &chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let show = |p: &CaseProgress| {
        println!("state     {}", p.state.as_str());
        if let Some(d) = &p.department {
            println!("handled   {d}");
        }
        if let Some(t) = &p.expected_at {
            println!("expected  {}", local(t));
        }
        for e in &p.timeline {
            let mut line = format!("  {}  {}", local(&e.at), e.state.as_str());
            if let Some(d) = &e.department {
                line.push_str(&format!("  [{d}]"));
            }
            if let Some(n) = &e.note {
                line.push_str(&format!("  {n}"));
            }
            println!("{line}");
        }
    };
    match progress {
        Progress::Live(p) => show(p),
        Progress::LastKnown {
            progress,
            fetched_at,
            why,
        } => {
            println!(
                "offline   upstream cannot be reached ({why}); last known at {}:",
                local(fetched_at)
            );
            show(progress);
        }
        Progress::NotYetDelivered => {
            println!("state     not delivered yet (waiting in the outbox)")
        }
        Progress::Unknown(why) => println!("state     unknown: upstream cannot be reached ({why})"),
    }
}

fn case(config: Arc<KioskConfig>, cmd: CaseCommand) -> anyhow::Result<()> {
    match cmd {
        CaseCommand::New {
            service,
            subtype,
            description,
            phone,
            anonymous,
            answers,
            lang,
            json,
        } => {
            let answers = answers
                .iter()
                .map(|a| match a.split_once('=') {
                    Some((q, v)) if !q.trim().is_empty() => Ok(Answer {
                        question: q.trim().to_owned(),
                        value: v.trim().to_owned(),
                    }),
                    _ => bail!("answer: `{a}` is not QUESTION=OPTION"),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let draft = CaseDraft {
                service,
                subtype,
                answers,
                description,
                phone,
                anonymous,
                // Staff on the command line file on the resident's behalf, having read them the
                // privacy notice in force.
                consent_version: Some(config.consent.version.clone()),
                language: lang.into(),
                channel: Channel::Cli,
            };
            let mut kiosk = Kiosk::open(config.clone())?;
            let filed = kiosk.file_case(&draft)?;
            // The case is durable; now its slip, as the touchscreen's print queue would.
            let profile = config.printer_profile();
            let mut printer = configured_printer(&config);
            let pass = kiosk.print_pending(printer.as_mut(), &profile, |_| {})?;
            let mine = pass
                .outcomes
                .iter()
                .rev()
                .find(|o| o.token == filed.case.token);
            let print_state = mine.map_or(PrintJobState::Pending, |o| o.state);
            let print_reason = mine.and_then(|o| o.reason.clone());
            let slip_png = config.printer.port.is_none().then(|| {
                VirtualPrinter::new(&config.data_dir, profile.dots_per_line)
                    .png_path(filed.case.token.as_str())
            });
            if json {
                output::print(&output::CaseFiled {
                    code: filed.case.token.grouped(),
                    id: filed.case.id.to_string(),
                    print: print_state,
                    print_reason: print_reason.clone(),
                    printer: pass.printer_state(),
                    risk: filed.case.risk.level,
                    risk_reasons: output::RiskReasonLine::all(&filed.case.risk.reasons),
                    service: filed.case.service.clone(),
                    slip_png: slip_png.clone(),
                    subtype: filed.case.subtype.clone(),
                    token: filed.case.token.as_str().to_owned(),
                    url: filed.url.clone(),
                })?;
            } else {
                println!("filed     {}", filed.case.token.grouped());
                println!("track     {}", filed.url);
                println!("risk      {}", filed.case.risk.level.as_str());
                match &slip_png {
                    Some(png) => {
                        println!("slip      {} ({})", print_state.as_str(), png.display())
                    }
                    None => println!("slip      {}", print_state.as_str()),
                }
            }
            if let Some(reason) = &print_reason {
                eprintln!("note: the case is filed; its slip is not printed yet: {reason}");
            }
            Ok(())
        }
        CaseCommand::Rate {
            token,
            rating,
            json,
        } => {
            let offer = runtime()?.block_on(async {
                let connection = upstream_for_cli(&config).await?;
                Kiosk::rate_case(&token, &rating, &connection.upstream)
                    .await
                    .map_err(anyhow::Error::from)
            })?;
            if json {
                println!("{}", serde_json::to_string(&offer)?);
            } else {
                println!(
                    "rated {}: {}{}",
                    token.trim(),
                    offer.rating.as_deref().unwrap_or("-"),
                    offer
                        .until
                        .map(|u| format!(" (may be changed until {u})"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        CaseCommand::Show { token, json } => {
            let mut kiosk = Kiosk::open(config.clone())?;
            let tracked = runtime()?.block_on(async {
                // Without upstream, the local record still shows, and says upstream is unknown.
                match upstream_for_cli(&config).await {
                    Ok(connection) => kiosk.track(&token, Some(&connection.upstream)).await,
                    Err(e) => {
                        let mut t = kiosk.track(&token, None).await?;
                        t.progress = Progress::Unknown(format!("{e:#}"));
                        Ok(t)
                    }
                }
            })?;
            let url = kiosk.tracking_url(&tracked.token);
            if json {
                let stored = tracked.local.as_ref();
                let case = stored.map(|s| &s.case);
                output::print(&output::CaseShown {
                    anonymous: case.map(|c| c.anonymous),
                    answers: case.map(|c| c.answers.clone()),
                    channel: case.map(|c| c.channel),
                    code: tracked.token.grouped(),
                    created_at: case.map(|c| c.created_at),
                    description_chars: case
                        .map(|c| c.description.as_ref().map(|d| d.chars().count())),
                    id: case.map(|c| c.id.to_string()),
                    language: case.map(|c| c.language),
                    local: stored.is_some(),
                    outbox: stored.map(|s| s.outbox_state),
                    phone: case.map(|c| c.phone.as_ref().map(|p| p.masked())),
                    print: stored.map(|s| s.print_state),
                    print_reason: stored.map(|s| s.print_reason.clone()),
                    risk: case.map(|c| c.risk.level),
                    risk_reasons: case.map(|c| output::RiskReasonLine::all(&c.risk.reasons)),
                    service: case.map(|c| c.service.clone()),
                    station: case.map(|c| c.station_id.clone()),
                    subtype: case.map(|c| c.subtype.clone()),
                    token: tracked.token.as_str().to_owned(),
                    upstream: progress_json(&tracked.progress),
                    url: url.clone(),
                })?;
            } else {
                println!("code      {}", tracked.token.grouped());
                println!("track     {url}");
                match &tracked.local {
                    Some(stored) => {
                        let case = &stored.case;
                        println!(
                            "filed     {}",
                            case.created_at
                                .with_timezone(&chrono::Local)
                                .format("%Y-%m-%d %H:%M:%S")
                        );
                        println!("service   {} / {}", case.service, case.subtype);
                        println!("risk      {}", case.risk.level.as_str());
                        println!(
                            "contact   {}",
                            match &case.phone {
                                Some(p) => p.masked(),
                                None if case.anonymous => "anonymous".into(),
                                None => "erased".into(),
                            }
                        );
                        println!("slip      {}", stored.print_state.as_str());
                        println!("outbox    {}", stored.outbox_state.as_str());
                    }
                    None => println!("filed     at another station"),
                }
                print_progress(&tracked.progress);
            }
            Ok(())
        }
    }
}

fn printer_cmd(config: Arc<KioskConfig>, cmd: PrinterCommand) -> anyhow::Result<()> {
    let profile = config.printer_profile();
    let mut printer = configured_printer(&config);
    let hex = |bytes: [Option<u8>; 4]| -> String {
        bytes
            .iter()
            .map(|b| b.map_or("--".to_owned(), |b| format!("{b:02X}")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let PrinterCommand::Emulate {
        script,
        link,
        out,
        profile,
    } = cmd
    {
        return emulate(
            &config,
            &script,
            link.as_deref(),
            out.as_deref(),
            profile.as_deref(),
        );
    }
    match cmd {
        PrinterCommand::Emulate { .. } => unreachable!("handled above"),
        PrinterCommand::Status { json } => {
            let status = printer.status();
            let state = status.state();
            let kiosk = Kiosk::open(config.clone())?;
            let paper = kiosk.paper_estimate(&profile)?;
            let waiting = kiosk.waiting_print_jobs()?;
            if json {
                output::print(&output::PrinterStatus {
                    paper_left_m: (paper.left_m * 10.0).round() / 10.0,
                    paper_low: paper.low,
                    printer: printer.describe(),
                    problem: printer.problem(),
                    profile: profile.id.clone(),
                    raw: status.as_array(),
                    state,
                    waiting_jobs: waiting,
                })?;
            } else {
                println!("state     {}", state.as_str());
                println!(
                    "answers   {} (DLE EOT 1..4; -- = no answer)",
                    hex(status.as_array())
                );
                println!("printer   {} ({})", printer.describe(), profile.id);
                if let Some(problem) = printer.problem() {
                    println!("problem   {problem}");
                }
                println!(
                    "paper     about {:.1} m left{}",
                    paper.left_m,
                    if paper.low {
                        ": put in a new roll soon"
                    } else {
                        ""
                    }
                );
                println!("waiting   {waiting} slip(s)");
            }
            Ok(())
        }
        PrinterCommand::Test { lang, json } => {
            let TestPrint { bytes, outcome } =
                station::kiosk::test_print(&config, printer.as_mut(), &profile, lang.into());
            if json {
                output::print(&output::PrinterTest {
                    bytes,
                    printed: outcome.is_ok(),
                    reason: outcome.as_ref().err().map(ToString::to_string),
                })?;
            } else if outcome.is_ok() {
                println!(
                    "printed a test slip ({bytes} bytes, {})",
                    printer.describe()
                );
            }
            outcome.map_err(|reason| anyhow::anyhow!("printer test: {reason}"))
        }
        PrinterCommand::Reprint { token, json } => {
            let mut kiosk = Kiosk::open(config.clone())?;
            let pass = kiosk.reprint(&token, printer.as_mut(), &profile)?;
            let code = domain::TrackingToken::parse(&token)?;
            report_pass(&pass, Some(&code), json)
        }
        PrinterCommand::Refilled { json } => {
            let mut kiosk = Kiosk::open(config.clone())?;
            let pass = kiosk.paper_refilled(printer.as_mut(), &profile)?;
            report_pass(&pass, None, json)
        }
    }
}

/// `printer emulate`: serves until killed; each line typed on standard input is a new script.
fn emulate(
    config: &KioskConfig,
    script: &str,
    link: Option<&Path>,
    out: Option<&Path>,
    profile: Option<&str>,
) -> anyhow::Result<()> {
    use devices::emulator::{Emulator, Script};
    use std::io::BufRead;
    let profile = profile_for(config, profile)?;
    let script = Script::parse(script).map_err(|e| anyhow::anyhow!("script: {e}"))?;
    let mut emulator = Emulator::start(
        script,
        u32::from(profile.dots_per_line),
        profile.answers_gs_r,
        link,
    )
    .context("cannot start the printer emulator")?;
    if let Some(dir) = out {
        emulator = emulator
            .with_output_dir(dir)
            .with_context(|| format!("cannot write to {}", dir.display()))?;
    }
    println!("{}", emulator.port().display());
    eprintln!(
        "printer emulator ({}, {script}) on {}; try: KIOSK_PRINTER_PORT={} grievance-kiosk printer status",
        profile.id,
        emulator.port().display(),
        emulator.port().display()
    );
    eprintln!("type a state and Enter to change it (e.g. paper-out, ready); stop with Ctrl-C");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match Script::parse(line.trim()) {
            Ok(next) => {
                eprintln!("now: {next}");
                emulator.set_script(next);
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    // Standard input closed (e.g. started in the background): keep serving until killed.
    loop {
        std::thread::park();
    }
}

/// What a pass of the print queue did, for `printer reprint` and `printer refilled`.
fn report_pass(
    pass: &station::kiosk::PrintPass,
    only: Option<&domain::TrackingToken>,
    json: bool,
) -> anyhow::Result<()> {
    let outcomes: Vec<_> = pass
        .outcomes
        .iter()
        .filter(|o| only.is_none_or(|t| &o.token == t))
        .filter(|o| o.state != station::store::PrintJobState::Printing)
        .collect();
    if json {
        output::print(&output::PrintPassReport {
            jobs: outcomes
                .iter()
                .map(|o| output::PrintJobLine {
                    print: o.state,
                    reason: o.reason.clone(),
                    token: o.token.as_str().to_owned(),
                })
                .collect(),
            state: pass.printer_state(),
        })?;
    } else {
        println!("printer   {}", pass.printer_state().as_str());
        for o in &outcomes {
            println!(
                "{}  {}{}",
                o.token.grouped(),
                o.state.as_str(),
                o.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        if outcomes.is_empty() {
            println!("no slip was waiting");
        }
    }
    Ok(())
}

fn profile_for(config: &KioskConfig, id: Option<&str>) -> anyhow::Result<PrinterProfile> {
    match id {
        None => Ok(config.printer_profile()),
        Some(id) => config
            .printer_profiles()
            .into_iter()
            .find(|p| p.id == id)
            .with_context(|| {
                let known: Vec<String> = config
                    .printer_profiles()
                    .into_iter()
                    .map(|p| p.id)
                    .collect();
                format!(
                    "profile: `{id}` is not a printer profile (known: {})",
                    known.join(", ")
                )
            }),
    }
}

fn slip_bytes_for(
    config: &Arc<KioskConfig>,
    which: &WhichSlip,
) -> anyhow::Result<(Vec<u8>, PrinterProfile)> {
    let profile = profile_for(config, which.profile.as_deref())?;
    let bytes = if which.sample {
        let content = sample_slip_content(config, which.lang.into());
        slip::escpos::encode(&slip::layout::layout(&content, &profile), &profile)
    } else {
        let kiosk = Kiosk::open(config.clone())?;
        let token = which.token.as_deref().unwrap_or_default();
        let stored = kiosk.find_case(token)?;
        kiosk.slip_bytes(&stored.case, &profile)
    };
    Ok((bytes, profile))
}

fn slip(config: Arc<KioskConfig>, cmd: SlipCommand) -> anyhow::Result<()> {
    match cmd {
        SlipCommand::Bytes { which } => {
            let (bytes, _) = slip_bytes_for(&config, &which)?;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
            Ok(())
        }
        SlipCommand::Render { which, out } => {
            let (bytes, profile) = slip_bytes_for(&config, &which)?;
            let png = slip::render::render_png(
                &slip::interpret::interpret(&bytes),
                u32::from(profile.dots_per_line),
            )?;
            std::fs::write(&out, png).with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {} ({} bytes of ESC/POS, profile {})",
                out.display(),
                bytes.len(),
                profile.id
            );
            Ok(())
        }
    }
}

/// `1280x800` (or `1280×800`) → (1280, 800); each side 240 to 8192 pixels.
fn parse_panel(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a panel size: WIDTHxHEIGHT in pixels, e.g. 1280x800");
    let (w, h) = text.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    for side in [w, h] {
        if !(240..=8192).contains(&side) {
            return Err(format!(
                "`{text}`: {side} pixels is not a panel's side (240 to 8192)"
            ));
        }
    }
    Ok((w, h))
}

fn screenshot_cmd(config: Arc<KioskConfig>, args: ScreenshotArgs) -> anyhow::Result<()> {
    let size = if let Some(size) = args.size {
        size
    } else if args.landscape {
        (1920, 1080)
    } else {
        (1080, 1920)
    };
    let shot = |screen| Shot {
        screen,
        language: args.lang.into(),
        elderly: args.elderly,
        size,
    };
    match args.screen {
        ScreenArg::One(screen) => {
            let (w, h, rgba) = screenshot::render(config, &shot(screen))?;
            if args.timings {
                print_timings();
            }
            screenshot::write_png(&args.out, w, h, &rgba)?;
            eprintln!("wrote {}", args.out.display());
        }
        ScreenArg::All => {
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?;
            for screen in ScreenName::ALL {
                let file = shot_file(&args.out, screen, &args);
                screenshot::render_to_file(config.clone(), &shot(screen), &file)?;
                eprintln!("wrote {}", file.display());
            }
        }
    }
    Ok(())
}

/// `first_frame_unix_ns=… vm_rss_kb=… vm_hwm_kb=…` on one line of standard error.
fn print_timings() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("0")
            .to_owned()
    };
    eprintln!(
        "first_frame_unix_ns={now} vm_rss_kb={} vm_hwm_kb={}",
        field("VmRSS:"),
        field("VmHWM:")
    );
}

fn shot_file(dir: &Path, screen: ScreenName, args: &ScreenshotArgs) -> PathBuf {
    let lang = Language::from(args.lang).code();
    let mut name = format!("{}-{lang}", screen.name());
    if args.elderly {
        name.push_str("-elderly");
    }
    if args.landscape {
        name.push_str("-landscape");
    }
    if let Some((w, h)) = args.size {
        name.push_str(&format!("-{w}x{h}"));
    }
    dir.join(format!("{name}.png"))
}

fn erase_expired_cmd(config: Arc<KioskConfig>, json: bool) -> anyhow::Result<()> {
    let days = config.privacy.retention_days;
    let mut kiosk = Kiosk::open(config)?;
    let now = kiosk.now();
    let erased = kiosk.erase_expired(now)?;
    if json {
        output::print(&output::Erasure {
            bookings: erased.bookings,
            cases: erased.cases,
            retention_days: days,
        })?;
    } else {
        println!(
            "erased the personal data of {} case(s) and {} booking(s) older than {days} days",
            erased.cases, erased.bookings
        );
    }
    Ok(())
}

fn backup_cmd(config: Arc<KioskConfig>, json: bool) -> anyhow::Result<()> {
    let kiosk = Kiosk::open(config)?;
    let report = kiosk.backup(kiosk.now())?;
    if json {
        output::print(&output::BackupDone {
            kept: report.kept,
            path: report.path.clone(),
            removed: report.removed.clone(),
        })?;
    } else {
        println!(
            "backed up to {} ({} cop{} kept, {} removed)",
            report.path.display(),
            report.kept,
            if report.kept == 1 { "y" } else { "ies" },
            report.removed.len()
        );
    }
    Ok(())
}

fn doctor_cmd(config: Arc<KioskConfig>) -> anyhow::Result<()> {
    let mut checks = doctor::run(&config);
    checks.push(handwriting_check(&config));
    for c in &checks {
        let mark = match c.verdict {
            doctor::Verdict::Ok => "ok  ",
            doctor::Verdict::Warn => "warn",
            doctor::Verdict::Fail => "FAIL",
        };
        println!("{mark}  {:<9} {}", c.name, c.detail);
    }
    let failed = checks
        .iter()
        .filter(|c| c.verdict == doctor::Verdict::Fail)
        .count();
    if failed > 0 {
        bail!("doctor: {failed} check(s) failed");
    }
    Ok(())
}
