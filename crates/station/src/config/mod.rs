//! The kiosk's configuration: the built-in demo station (`default.toml`, compiled in), a
//! station's own `kiosk.toml` laid over it, and the `KIOSK_*` environment variables over both
//! (DESIGN.md §9).
//!
//! A station file only names what it changes. Each `[section]` overrides the keys it sets; the
//! lists `[[emergency]]` and `[[services]]` replace the built-in lists whole. Anything wrong, a
//! typo in a key, a value of the wrong type, an unknown printer profile, stops start-up with the
//! file, the line, the key and what was expected: a kiosk must not run half-configured.

mod locate;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::chance::Chance;
use crate::clock::Clock;

use domain::queue::QueueRules;
use domain::roster::{BookingRules, Provider, Roster};
use domain::spoken::SpokenLanguage;
use domain::{Catalogue, Language, Localized, RiskRules};
use slip::profile::{
    builtin_profiles, FlowControl, Parity, PrinterProfile, SerialSettings, BAUD_RATES,
};

/// The built-in configuration (also the reference for every key).
pub(crate) const DEFAULT_TOML: &str = include_str!("default.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct KioskConfig {
    pub data_dir: PathBuf,
    pub station: Station,
    pub ui: UiConfig,
    pub consent: Consent,
    pub emergency: Vec<EmergencyNumber>,
    pub printer: PrinterConfig,
    pub scanner: ScannerConfig,
    pub upstream: UpstreamConfig,
    pub risk: RiskRules,
    pub appointments: BookingRules,
    pub queue: QueueConfig,
    pub staff: StaffConfig,
    pub ime: ImeConfig,
    pub privacy: PrivacyConfig,
    pub backup: BackupConfig,
    pub voice: VoiceConfig,
    /// The station's roster from the configuration (the hub's, when it sets one, replaces it
    /// at run time: see `kiosk::Kiosk::roster`).
    pub roster: Roster,
    pub catalogue: Catalogue,
    /// The time every operation reads: the system clock, unless a screenshot or a test sets
    /// one of its own (never a file or a variable).
    pub clock: Clock,
    /// Where tracking codes come from: the system's random source, unless a screenshot sets
    /// a seed (never a file or a variable).
    pub chance: Chance,
    /// Where this configuration came from, for `doctor` and error messages.
    pub(crate) source: ConfigSource,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConfigSource {
    BuiltIn,
    File(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    pub id: String,
    pub name: Localized,
    pub(crate) address: Localized,
    pub network: Localized,
    pub(crate) hotline: String,
    /// The station's time zone, an IANA name (`Asia/Shanghai`): every time the kiosk shows or
    /// prints is in it, whatever the board's clock is set to. The kiosk runs with `TZ` set to
    /// it ([`KioskConfig::apply_time_zone`]).
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    pub default_language: Language,
    pub idle_timeout_s: u32,
    pub elderly_idle_timeout_s: u32,
    pub still_there_s: u32,
    /// A finished screen (a case filed, a number taken, a booking made) returns Home this many
    /// seconds after the last touch: its code is on the slip, and the next resident should not
    /// find it. The last [`DONE_PROMPT_S`] of them ask "still there?".
    pub done_timeout_s: u32,
}

/// Where the system keeps its time zones.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The seconds a finished screen asks "still there?" before it returns Home.
pub const DONE_PROMPT_S: u32 = 10;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub version: String,
    pub text: Localized,
}

/// `[queue]`: the walk-in queue's rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub(crate) max_passed_over: u32,
    pub(crate) no_show_after_calls: u32,
    pub(crate) history_days: u32,
    pub counters: u32,
}

impl QueueConfig {
    pub(crate) fn rules(&self) -> QueueRules {
        QueueRules {
            max_passed_over: self.max_passed_over,
        }
    }
}

/// `[staff]`: the staff mode's lockout.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    pub lockout_after: u32,
    pub(crate) lockout_s: u32,
}

/// `[privacy]`: how long personal data stays on the kiosk.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Days after upstream acknowledged a case (or after an appointment's slot) before its
    /// personal data is erased by `grievance-kiosk erase-expired`.
    pub retention_days: u32,
}

/// `[backup]`: the daily copy of the database (`grievance-kiosk backup`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// How many daily copies `<data_dir>/backups` keeps (the oldest go first).
    pub keep: u32,
}

/// `[voice]`: speech (docs/voice.md): the display speaks each call, the touchscreen reads
/// screens aloud.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceConfig {
    /// Off: nothing is spoken anywhere (the display still chimes).
    pub enabled: bool,
    /// Where the station's sound goes (speech and the display's chime).
    pub output: VoiceOutput,
    /// The ALSA device (`aplay -L` lists them).
    pub device: String,
    /// Percent of full level, 0–100.
    pub volume: u32,
    /// Percent of the voice's normal speed, 50–200.
    pub rate: u32,
    /// The languages the display speaks each call in, in order.
    pub call_languages: Vec<SpokenLanguage>,
    /// The engine's voice for Mandarin, Cantonese and English ([`VoiceConfig::voice`]).
    pub zh_voice: String,
    pub yue_voice: String,
    pub en_voice: String,
}

impl VoiceConfig {
    /// The engine's voice that speaks `language`.
    pub fn voice(&self, language: SpokenLanguage) -> &str {
        match language {
            SpokenLanguage::Mandarin => &self.zh_voice,
            SpokenLanguage::Cantonese => &self.yue_voice,
            SpokenLanguage::English => &self.en_voice,
        }
    }
}

/// `[voice] output`: where sound goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoiceOutput {
    /// The ALSA device `[voice] device`, through `aplay`.
    Alsa,
    /// Numbered WAV files under `<data_dir>/speech/`: a station checked without speakers, and
    /// the tests.
    Files,
    /// Silent.
    None,
}

impl VoiceOutput {
    fn parse(s: &str) -> Option<VoiceOutput> {
        match s.trim() {
            "alsa" => Some(VoiceOutput::Alsa),
            "files" => Some(VoiceOutput::Files),
            "none" => Some(VoiceOutput::None),
            _ => None,
        }
    }
}

/// `[ime]`: the on-screen keyboard's pinyin input.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImeConfig {
    /// A dictionary file (as `scripts/make-ime-dict.py` writes) instead of the built-in one.
    /// If it cannot be read the kiosk still starts, the keyboard types letters and staff are
    /// told (the staff console and `doctor`).
    #[serde(default)]
    pub dictionary: Option<PathBuf>,
    /// Accept z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing for each other.
    pub fuzzy: bool,
    /// The handwriting pad's recognizer models (zinnia model files): the first the pad's own,
    /// the others second opinions, loaded where residents write and dropped at Home. The first
    /// missing or damaged, the pad is not offered (pinyin and letters still are) and the log
    /// says why; a second opinion missing is only logged.
    pub handwriting_models: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyNumber {
    pub number: String,
    pub label: Localized,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    /// Serial device of a real printer; `None` is the virtual printer.
    #[serde(default)]
    pub port: Option<String>,
    pub(crate) profile: String,
    /// Serial settings that override the profile's (unset: the profile's).
    #[serde(default)]
    pub(crate) baud: Option<u32>,
    #[serde(default)]
    pub(crate) data_bits: Option<u8>,
    #[serde(default)]
    pub(crate) parity: Option<Parity>,
    #[serde(default)]
    pub(crate) flow_control: Option<FlowControl>,
    /// Jobs that waited longer than this for the printer are not printed when it recovers.
    pub(crate) stale_after_s: u32,
    /// Seconds between status queries while the printer is idle.
    pub status_poll_s: u32,
    /// A full roll's length and the remaining length that warns staff, in metres.
    pub(crate) roll_length_m: u32,
    pub(crate) low_paper_m: u32,
    /// Profiles declared by the station, besides the built-in ones.
    #[serde(default)]
    pub(crate) profiles: Vec<PrinterProfile>,
}

/// The barcode scanner on a serial line. A keyboard-wedge scanner (one that types) needs no
/// configuration: it is a keyboard to the screen.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// Serial device of the scanner; `None`: no serial scanner.
    #[serde(default)]
    pub port: Option<String>,
    /// Line speed (8 data bits, no parity, one stop bit, no flow control).
    pub baud: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamKind {
    Native,
    Open311,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// The district's case system; `None` runs the reference hub in-process.
    #[serde(default)]
    pub url: Option<String>,
    pub kind: UpstreamKind,
    #[serde(default)]
    pub token: Option<String>,
    pub tracking_base_url: String,
    /// How the kiosk speaks to an Open311 server (`kind = "open311"`; unused natively).
    #[serde(default)]
    pub open311: Open311Config,
}

/// The format an Open311 server is spoken to in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Open311Format {
    /// `.json` (what the reference hub and most servers speak).
    #[default]
    Json,
    /// `.xml`, the format GeoReport v2 requires of every server.
    Xml,
    /// The server's service discovery document says: JSON when it lists it, else XML.
    Discover,
}

/// `[upstream.open311]`: the kiosk as a GeoReport v2 client of a district's own server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Config {
    #[serde(default)]
    pub format: Open311Format,
    /// Sent as `jurisdiction_id` with every request, for a server that serves several.
    #[serde(default)]
    pub jurisdiction_id: Option<String>,
    /// The kiosk's service ids → the server's `service_code`s. A service not named here is
    /// filed under its own id.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, String>,
    /// Values for the server's required attributes that no answer of the resident fills, by
    /// the attribute's `code` (the same value for every service that asks for that code).
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// What is wrong with the configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("{}{}: {problem}", origin, line.map(|(l, c)| format!(", line {l}, column {c}")).unwrap_or_default())]
    Invalid {
        /// The file (or environment variable) at fault.
        origin: String,
        /// 1-based line and column, where known.
        line: Option<(usize, usize)>,
        /// The key and what was expected of it.
        problem: String,
    },
}

// The overlay: a station file deserialised with every key optional, so that serde reports
// unknown keys and wrong types with their line, then laid over the built-in configuration.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Overlay {
    data_dir: Option<PathBuf>,
    station: Option<StationOverlay>,
    ui: Option<UiOverlay>,
    consent: Option<ConsentOverlay>,
    emergency: Option<Vec<EmergencyNumber>>,
    printer: Option<PrinterOverlay>,
    scanner: Option<ScannerOverlay>,
    upstream: Option<UpstreamOverlay>,
    risk: Option<RiskOverlay>,
    appointments: Option<AppointmentsOverlay>,
    queue: Option<QueueOverlay>,
    staff: Option<StaffOverlay>,
    ime: Option<ImeOverlay>,
    privacy: Option<PrivacyOverlay>,
    backup: Option<BackupOverlay>,
    voice: Option<VoiceOverlay>,
    providers: Option<Vec<Provider>>,
    services: Option<Catalogue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoiceOverlay {
    enabled: Option<bool>,
    output: Option<VoiceOutput>,
    device: Option<String>,
    volume: Option<u32>,
    rate: Option<u32>,
    call_languages: Option<Vec<SpokenLanguage>>,
    zh_voice: Option<String>,
    yue_voice: Option<String>,
    en_voice: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppointmentsOverlay {
    booking_window_days: Option<u32>,
    min_notice_min: Option<u32>,
    arrival_early_min: Option<u32>,
    arrival_late_min: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueOverlay {
    max_passed_over: Option<u32>,
    no_show_after_calls: Option<u32>,
    history_days: Option<u32>,
    counters: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffOverlay {
    lockout_after: Option<u32>,
    lockout_s: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyOverlay {
    retention_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupOverlay {
    keep: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImeOverlay {
    dictionary: Option<PathBuf>,
    fuzzy: Option<bool>,
    handwriting_models: Option<Vec<PathBuf>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StationOverlay {
    id: Option<String>,
    name: Option<Localized>,
    address: Option<Localized>,
    network: Option<Localized>,
    hotline: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UiOverlay {
    default_language: Option<Language>,
    idle_timeout_s: Option<u32>,
    elderly_idle_timeout_s: Option<u32>,
    still_there_s: Option<u32>,
    done_timeout_s: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentOverlay {
    version: Option<String>,
    text: Option<Localized>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrinterOverlay {
    port: Option<String>,
    profile: Option<String>,
    baud: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<Parity>,
    flow_control: Option<FlowControl>,
    stale_after_s: Option<u32>,
    status_poll_s: Option<u32>,
    roll_length_m: Option<u32>,
    low_paper_m: Option<u32>,
    profiles: Option<Vec<PrinterProfile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScannerOverlay {
    port: Option<String>,
    baud: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamOverlay {
    url: Option<String>,
    kind: Option<UpstreamKind>,
    token: Option<String>,
    tracking_base_url: Option<String>,
    open311: Option<Open311Overlay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Open311Overlay {
    format: Option<Open311Format>,
    jurisdiction_id: Option<String>,
    services: Option<std::collections::BTreeMap<String, String>>,
    attributes: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskOverlay {
    high_keywords: Option<Vec<String>>,
    elevated_keywords: Option<Vec<String>>,
}

/// The built-in file parsed whole (every key present).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Complete {
    data_dir: PathBuf,
    station: Station,
    ui: UiConfig,
    consent: Consent,
    emergency: Vec<EmergencyNumber>,
    printer: PrinterConfig,
    scanner: ScannerConfig,
    upstream: UpstreamConfig,
    risk: RiskRules,
    appointments: BookingRules,
    queue: QueueConfig,
    staff: StaffConfig,
    ime: ImeConfig,
    privacy: PrivacyConfig,
    backup: BackupConfig,
    voice: VoiceConfig,
    providers: Vec<Provider>,
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl KioskConfig {
    /// The built-in demo station, with no file and no environment applied.
    pub fn builtin() -> KioskConfig {
        let c: Complete = toml::from_str(DEFAULT_TOML)
            .expect("the built-in default.toml parses (checked by a test)");
        KioskConfig {
            data_dir: c.data_dir,
            station: c.station,
            ui: c.ui,
            consent: c.consent,
            emergency: c.emergency,
            printer: c.printer,
            scanner: c.scanner,
            upstream: c.upstream,
            risk: c.risk,
            appointments: c.appointments,
            queue: c.queue,
            staff: c.staff,
            ime: c.ime,
            privacy: c.privacy,
            backup: c.backup,
            voice: c.voice,
            roster: Roster {
                providers: c.providers,
            },
            catalogue: Catalogue::builtin(),
            clock: Clock::system(),
            chance: Chance::System,
            source: ConfigSource::BuiltIn,
        }
    }

    /// Loads the configuration the way the kiosk starts: the built-in defaults, then `file` if
    /// given, then the `KIOSK_*` variables of `env`, then checks the result.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<KioskConfig, ConfigError> {
        let mut config = KioskConfig::builtin();
        let mut text = None;
        if let Some(path) = file {
            let contents = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            config.apply_file(&contents, &path.display().to_string())?;
            config.source = ConfigSource::File(path.to_owned());
            text = Some(contents);
        }
        config.apply_env(env)?;
        config.validate().map_err(|(key, problem)| {
            let line = text.as_deref().and_then(|t| locate::line_of_key(t, &key));
            let origin = match (&config.source, line) {
                (ConfigSource::File(p), Some(_)) => p.display().to_string(),
                (ConfigSource::File(p), None) => {
                    format!("{} (or its KIOSK_* override)", p.display())
                }
                (ConfigSource::BuiltIn, _) => "configuration (KIOSK_* environment)".to_owned(),
            };
            ConfigError::Invalid {
                origin,
                line,
                problem: format!("`{key}`: {problem}"),
            }
        })?;
        Ok(config)
    }

    /// Lays a station file (its text) over this configuration.
    pub(crate) fn apply_file(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        let overlay: Overlay = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| locate::line_col(text, s.start));
            let key = locate::key_at(text, e.span().map(|s| s.start));
            ConfigError::Invalid {
                origin: origin.to_owned(),
                line,
                problem: match key {
                    Some(k) => format!("`{k}`: {}", e.message().trim()),
                    None => e.message().trim().to_owned(),
                },
            }
        })?;
        set(&mut self.data_dir, overlay.data_dir);
        if let Some(s) = overlay.station {
            set(&mut self.station.id, s.id);
            set(&mut self.station.name, s.name);
            set(&mut self.station.address, s.address);
            set(&mut self.station.network, s.network);
            set(&mut self.station.hotline, s.hotline);
            set(&mut self.station.time_zone, s.time_zone);
        }
        if let Some(u) = overlay.ui {
            set(&mut self.ui.default_language, u.default_language);
            set(&mut self.ui.idle_timeout_s, u.idle_timeout_s);
            set(
                &mut self.ui.elderly_idle_timeout_s,
                u.elderly_idle_timeout_s,
            );
            set(&mut self.ui.still_there_s, u.still_there_s);
            set(&mut self.ui.done_timeout_s, u.done_timeout_s);
        }
        if let Some(c) = overlay.consent {
            set(&mut self.consent.version, c.version);
            set(&mut self.consent.text, c.text);
        }
        set(&mut self.emergency, overlay.emergency);
        if let Some(p) = overlay.printer {
            if p.port.is_some() {
                self.printer.port = p.port;
            }
            set(&mut self.printer.profile, p.profile);
            if p.baud.is_some() {
                self.printer.baud = p.baud;
            }
            if p.data_bits.is_some() {
                self.printer.data_bits = p.data_bits;
            }
            if p.parity.is_some() {
                self.printer.parity = p.parity;
            }
            if p.flow_control.is_some() {
                self.printer.flow_control = p.flow_control;
            }
            set(&mut self.printer.stale_after_s, p.stale_after_s);
            set(&mut self.printer.status_poll_s, p.status_poll_s);
            set(&mut self.printer.roll_length_m, p.roll_length_m);
            set(&mut self.printer.low_paper_m, p.low_paper_m);
            set(&mut self.printer.profiles, p.profiles);
        }
        if let Some(sc) = overlay.scanner {
            if sc.port.is_some() {
                self.scanner.port = sc.port;
            }
            set(&mut self.scanner.baud, sc.baud);
        }
        if let Some(u) = overlay.upstream {
            if u.url.is_some() {
                self.upstream.url = u.url;
            }
            set(&mut self.upstream.kind, u.kind);
            if u.token.is_some() {
                self.upstream.token = u.token;
            }
            set(&mut self.upstream.tracking_base_url, u.tracking_base_url);
            if let Some(o) = u.open311 {
                let target = &mut self.upstream.open311;
                set(&mut target.format, o.format);
                if o.jurisdiction_id.is_some() {
                    target.jurisdiction_id = o.jurisdiction_id;
                }
                set(&mut target.services, o.services);
                set(&mut target.attributes, o.attributes);
            }
        }
        if let Some(r) = overlay.risk {
            set(&mut self.risk.high_keywords, r.high_keywords);
            set(&mut self.risk.elevated_keywords, r.elevated_keywords);
        }
        if let Some(a) = overlay.appointments {
            let t = &mut self.appointments;
            set(&mut t.booking_window_days, a.booking_window_days);
            set(&mut t.min_notice_min, a.min_notice_min);
            set(&mut t.arrival_early_min, a.arrival_early_min);
            set(&mut t.arrival_late_min, a.arrival_late_min);
        }
        if let Some(q) = overlay.queue {
            set(&mut self.queue.max_passed_over, q.max_passed_over);
            set(&mut self.queue.no_show_after_calls, q.no_show_after_calls);
            set(&mut self.queue.history_days, q.history_days);
            set(&mut self.queue.counters, q.counters);
        }
        if let Some(st) = overlay.staff {
            set(&mut self.staff.lockout_after, st.lockout_after);
            set(&mut self.staff.lockout_s, st.lockout_s);
        }
        if let Some(i) = overlay.ime {
            if i.dictionary.is_some() {
                self.ime.dictionary = i.dictionary;
            }
            set(&mut self.ime.fuzzy, i.fuzzy);
            set(&mut self.ime.handwriting_models, i.handwriting_models);
        }
        if let Some(p) = overlay.privacy {
            set(&mut self.privacy.retention_days, p.retention_days);
        }
        if let Some(b) = overlay.backup {
            set(&mut self.backup.keep, b.keep);
        }
        if let Some(v) = overlay.voice {
            let t = &mut self.voice;
            set(&mut t.enabled, v.enabled);
            set(&mut t.output, v.output);
            set(&mut t.device, v.device);
            set(&mut t.volume, v.volume);
            set(&mut t.rate, v.rate);
            set(&mut t.call_languages, v.call_languages);
            set(&mut t.zh_voice, v.zh_voice);
            set(&mut t.yue_voice, v.yue_voice);
            set(&mut t.en_voice, v.en_voice);
        }
        let services_replaced = overlay.services.is_some();
        set(&mut self.catalogue, overlay.services);
        match overlay.providers {
            Some(p) => self.roster.providers = p,
            // The built-in demo roster only keeps providers for services the station still has.
            None if services_replaced => {
                let catalogue = &self.catalogue;
                self.roster
                    .providers
                    .retain(|p| catalogue.service(&p.service).is_some());
            }
            None => {}
        }
        Ok(())
    }

    /// Applies the `KIOSK_*` overrides of DESIGN.md §9. An empty variable counts as unset.
    pub(crate) fn apply_env(
        &mut self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let bad = |name: &str, problem: String| ConfigError::Invalid {
            origin: format!("environment variable {name}"),
            line: None,
            problem,
        };
        if let Some(v) = get("KIOSK_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("KIOSK_STATION_ID") {
            self.station.id = v;
        }
        if let Some(v) = get("KIOSK_PRINTER_PORT") {
            self.printer.port = Some(v);
        }
        if let Some(v) = get("KIOSK_PRINTER_PROFILE") {
            self.printer.profile = v;
        }
        if let Some(v) = get("KIOSK_PRINTER_BAUD") {
            self.printer.baud = Some(v.trim().parse().map_err(|_| {
                bad(
                    "KIOSK_PRINTER_BAUD",
                    format!("`{v}` is not a baud rate (a whole number such as 9600 or 115200)"),
                )
            })?);
        }
        if let Some(v) = get("KIOSK_SCANNER_PORT") {
            self.scanner.port = Some(v);
        }
        if let Some(v) = get("KIOSK_UPSTREAM_URL") {
            self.upstream.url = Some(v);
        }
        if let Some(v) = get("KIOSK_UPSTREAM_KIND") {
            self.upstream.kind = match v.trim() {
                "native" => UpstreamKind::Native,
                "open311" => UpstreamKind::Open311,
                other => {
                    return Err(bad(
                        "KIOSK_UPSTREAM_KIND",
                        format!(
                            "`{other}` is not an upstream kind (expected `native` or `open311`)"
                        ),
                    ))
                }
            };
        }
        if let Some(v) = get("KIOSK_UPSTREAM_TOKEN") {
            self.upstream.token = Some(v);
        }
        if let Some(v) = get("KIOSK_TRACKING_BASE_URL") {
            self.upstream.tracking_base_url = v;
        }
        if let Some(v) = get("KIOSK_VOICE_OUTPUT") {
            self.voice.output = VoiceOutput::parse(&v).ok_or_else(|| {
                bad(
                    "KIOSK_VOICE_OUTPUT",
                    format!("`{v}` is not a voice output (expected `alsa`, `files` or `none`)"),
                )
            })?;
        }
        Ok(())
    }

    /// Checks what types cannot. Returns the key at fault and what is expected of it.
    fn validate(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, problem: String| Err((key.to_owned(), problem));
        if self.data_dir.as_os_str().is_empty() {
            return fail("data_dir", "must name a directory".into());
        }
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !id_ok(&self.station.id) {
            return fail(
                "station.id",
                format!(
                    "`{}` is not a station id: use 1–64 letters, digits, - and _",
                    self.station.id
                ),
            );
        }
        if self.station.name.zh.trim().is_empty() || self.station.name.en.trim().is_empty() {
            return fail("station.name", "needs both `zh` and `en`".into());
        }
        let zone = &self.station.time_zone;
        let zone_ok = !zone.is_empty()
            && zone.len() <= 64
            && !zone.starts_with('/')
            && !zone.split('/').any(|part| part.is_empty() || part == "..")
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
        if !zone_ok {
            return fail(
                "station.time_zone",
                format!("`{zone}` is not a time zone name: use one such as \"Asia/Shanghai\""),
            );
        }
        if !(1..=3650).contains(&self.privacy.retention_days) {
            return fail(
                "privacy.retention_days",
                format!("{} days: expected 1–3650", self.privacy.retention_days),
            );
        }
        if !(1..=365).contains(&self.backup.keep) {
            return fail(
                "backup.keep",
                format!("{} copies: expected 1–365", self.backup.keep),
            );
        }
        if self.ui.idle_timeout_s < 15 || self.ui.idle_timeout_s > 3600 {
            return fail(
                "ui.idle_timeout_s",
                format!("{} seconds: expected 15–3600", self.ui.idle_timeout_s),
            );
        }
        if self.ui.elderly_idle_timeout_s < self.ui.idle_timeout_s
            || self.ui.elderly_idle_timeout_s > 3600
        {
            return fail(
                "ui.elderly_idle_timeout_s",
                format!(
                    "{} seconds: expected at least ui.idle_timeout_s ({}) and at most 3600",
                    self.ui.elderly_idle_timeout_s, self.ui.idle_timeout_s
                ),
            );
        }
        if !(5..=300).contains(&self.ui.still_there_s) {
            return fail(
                "ui.still_there_s",
                format!("{} seconds: expected 5–300", self.ui.still_there_s),
            );
        }
        if !(DONE_PROMPT_S + 5..=600).contains(&self.ui.done_timeout_s) {
            return fail(
                "ui.done_timeout_s",
                format!(
                    "{} seconds: expected {}–600",
                    self.ui.done_timeout_s,
                    DONE_PROMPT_S + 5
                ),
            );
        }
        if self.consent.version.trim().is_empty() {
            return fail("consent.version", "must not be empty".into());
        }
        if self.emergency.is_empty() {
            return fail("emergency", "list at least one emergency number".into());
        }
        for (i, e) in self.emergency.iter().enumerate() {
            if e.number.is_empty()
                || !e
                    .number
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b' ')
            {
                return fail(
                    &format!("emergency[{i}].number"),
                    format!(
                        "`{}` is not a phone number (digits, spaces and dashes)",
                        e.number
                    ),
                );
            }
        }
        let profiles = self.printer_profiles();
        for (i, p) in self.printer.profiles.iter().enumerate() {
            if let Err(e) = p.validate() {
                return fail(&format!("printer.profiles[{i}].{}", e.field), e.problem);
            }
            if builtin_profiles().iter().any(|b| b.id == p.id)
                || self.printer.profiles[..i].iter().any(|o| o.id == p.id)
            {
                return fail(
                    &format!("printer.profiles[{i}].id"),
                    format!("profile id `{}` is already taken", p.id),
                );
            }
        }
        if !profiles.iter().any(|p| p.id == self.printer.profile) {
            let known: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
            return fail(
                "printer.profile",
                format!(
                    "`{}` is not a printer profile (known: {})",
                    self.printer.profile,
                    known.join(", ")
                ),
            );
        }
        let serial = self.serial_settings();
        if !BAUD_RATES.contains(&serial.baud) {
            return fail(
                "printer.baud",
                format!(
                    "{} is not a serial baud rate (expected 9600, 19200, 38400, 57600 or 115200)",
                    serial.baud
                ),
            );
        }
        if !(7..=8).contains(&serial.data_bits) {
            return fail(
                "printer.data_bits",
                format!("{} data bits: a printer line has 7 or 8", serial.data_bits),
            );
        }
        let p = &self.printer;
        if !(10..=3600).contains(&p.stale_after_s) {
            return fail(
                "printer.stale_after_s",
                format!("{} seconds: expected 10–3600", p.stale_after_s),
            );
        }
        if !(1..=60).contains(&p.status_poll_s) {
            return fail(
                "printer.status_poll_s",
                format!("{} seconds: expected 1–60", p.status_poll_s),
            );
        }
        if !(1..=1000).contains(&p.roll_length_m) {
            return fail(
                "printer.roll_length_m",
                format!("{} m: expected 1–1000", p.roll_length_m),
            );
        }
        if p.low_paper_m >= p.roll_length_m {
            return fail(
                "printer.low_paper_m",
                format!(
                    "{} m: expected less than printer.roll_length_m ({} m)",
                    p.low_paper_m, p.roll_length_m
                ),
            );
        }
        if let Some(port) = &self.scanner.port {
            if port.trim().is_empty() {
                return fail(
                    "scanner.port",
                    "must name a serial device (or leave it out: no serial scanner)".into(),
                );
            }
            if self.printer.port.as_deref() == Some(port.as_str()) {
                return fail(
                    "scanner.port",
                    format!("`{port}` is already the printer's port (printer.port)"),
                );
            }
        }
        if !BAUD_RATES.contains(&self.scanner.baud) {
            return fail(
                "scanner.baud",
                format!(
                    "{} is not a serial baud rate (expected 9600, 19200, 38400, 57600 or 115200)",
                    self.scanner.baud
                ),
            );
        }
        let base = &self.upstream.tracking_base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() > 200 {
            return fail(
                "upstream.tracking_base_url",
                format!("`{base}` is not an http(s) URL"),
            );
        }
        if let Some(url) = &self.upstream.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return fail("upstream.url", format!("`{url}` is not an http(s) URL"));
            }
        }
        self.validate_open311()?;
        self.catalogue.validate().map_err(|e| (e.path, e.problem))?;
        self.appointments.validate()?;
        let q = &self.queue;
        if !(1..=20).contains(&q.max_passed_over) {
            return fail(
                "queue.max_passed_over",
                format!("{}: expected 1–20", q.max_passed_over),
            );
        }
        if !(1..=10).contains(&q.no_show_after_calls) {
            return fail(
                "queue.no_show_after_calls",
                format!("{}: expected 1–10", q.no_show_after_calls),
            );
        }
        if !(1..=90).contains(&q.history_days) {
            return fail(
                "queue.history_days",
                format!("{} days: expected 1–90", q.history_days),
            );
        }
        if !(1..=20).contains(&q.counters) {
            return fail("queue.counters", format!("{}: expected 1–20", q.counters));
        }
        if !(3..=20).contains(&self.staff.lockout_after) {
            return fail(
                "staff.lockout_after",
                format!("{}: expected 3–20 wrong PINs", self.staff.lockout_after),
            );
        }
        if !(10..=86_400).contains(&self.staff.lockout_s) {
            return fail(
                "staff.lockout_s",
                format!("{} seconds: expected 10–86400", self.staff.lockout_s),
            );
        }
        let services: Vec<&str> = self
            .catalogue
            .services
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        self.roster.validate(&services)?;
        self.validate_voice()
    }

    /// `[upstream.open311]`: codes a server can have (no spaces, no control characters, at
    /// most 64 characters), mapped from services this station has.
    fn validate_open311(&self) -> Result<(), (String, String)> {
        let o = &self.upstream.open311;
        let code_ok = |s: &str| {
            !s.is_empty()
                && s.chars().count() <= 64
                && !s
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        };
        if let Some(j) = &o.jurisdiction_id {
            if !code_ok(j) {
                return Err((
                    "upstream.open311.jurisdiction_id".into(),
                    format!("`{j}` is not a jurisdiction id (1–64 characters, no spaces or `/`)"),
                ));
            }
        }
        for (service, code) in &o.services {
            let key = format!("upstream.open311.services.{service}");
            if self.catalogue.service(service).is_none() {
                return Err((
                    key,
                    format!("`{service}` is not one of this station's services"),
                ));
            }
            if !code_ok(code) {
                return Err((
                    key,
                    format!("`{code}` is not a service_code (1–64 characters, no spaces or `/`)"),
                ));
            }
        }
        for (code, value) in &o.attributes {
            let key = format!("upstream.open311.attributes.{code}");
            if !code_ok(code) {
                return Err((
                    key,
                    "an attribute code has 1–64 characters, no spaces or `/`".into(),
                ));
            }
            if value.trim().is_empty() || value.chars().count() > 200 {
                return Err((key, "the value must have 1–200 characters".into()));
            }
        }
        Ok(())
    }

    fn validate_voice(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, problem: String| Err((key.to_owned(), problem));
        let v = &self.voice;
        let device_ok = !v.device.is_empty()
            && v.device.len() <= 128
            && !v.device.starts_with('-')
            && !v
                .device
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !device_ok {
            return fail(
                "voice.device",
                format!(
                    "`{}` is not an ALSA device name (such as `default` or \
                     `plughw:CARD=Device,DEV=0`; `aplay -L` lists them)",
                    v.device
                ),
            );
        }
        if v.volume > 100 {
            return fail(
                "voice.volume",
                format!("{}: expected 0–100 (percent)", v.volume),
            );
        }
        if !(50..=200).contains(&v.rate) {
            return fail(
                "voice.rate",
                format!(
                    "{}: expected 50–200 (percent of the voice's normal speed)",
                    v.rate
                ),
            );
        }
        for (i, language) in v.call_languages.iter().enumerate() {
            if v.call_languages[..i].contains(language) {
                return fail(
                    "voice.call_languages",
                    format!("`{language}` is listed twice"),
                );
            }
        }
        for language in SpokenLanguage::ALL {
            let voice = v.voice(language);
            if !devices::speech::is_voice_name(voice) {
                return fail(
                    &format!("voice.{}_voice", language.code()),
                    format!(
                        "`{voice}` is not a voice name (letters, digits, - _ + /; \
                         `espeak-ng --voices` lists them)"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Where the station's sound goes: the ALSA device, `<data_dir>/speech/`, or nowhere.
    pub fn speech_sink(&self) -> devices::speech::Sink {
        match self.voice.output {
            VoiceOutput::Alsa => devices::speech::Sink::Alsa {
                device: self.voice.device.clone(),
            },
            VoiceOutput::Files => devices::speech::Sink::Files {
                dir: self.data_dir.join("speech"),
            },
            VoiceOutput::None => devices::speech::Sink::None,
        }
    }

    /// How the station speaks: `[voice] rate` and `volume`.
    pub fn speech_settings(&self) -> devices::speech::Settings {
        devices::speech::Settings {
            rate: self.voice.rate,
            volume: self.voice.volume,
        }
    }

    /// Built-in printer profiles followed by the station's own.
    pub fn printer_profiles(&self) -> Vec<PrinterProfile> {
        let mut all = builtin_profiles();
        all.extend(self.printer.profiles.iter().cloned());
        all
    }

    /// The serial line settings in use: the profile's, with the station's overrides.
    pub(crate) fn serial_settings(&self) -> SerialSettings {
        let defaults = self.printer_profile().serial;
        SerialSettings {
            baud: self.printer.baud.unwrap_or(defaults.baud),
            data_bits: self.printer.data_bits.unwrap_or(defaults.data_bits),
            parity: self.printer.parity.unwrap_or(defaults.parity),
            flow_control: self.printer.flow_control.unwrap_or(defaults.flow_control),
        }
    }

    /// The profile in use (validated to exist at load).
    pub fn printer_profile(&self) -> PrinterProfile {
        self.printer_profiles()
            .into_iter()
            .find(|p| p.id == self.printer.profile)
            .unwrap_or_else(|| builtin_profiles().remove(0))
    }

    /// Makes the station's time zone the process's (`TZ`), so that every local time (screens,
    /// slips, the command line) is the station's whatever the board's clock says. Call it once,
    /// at start, before any thread is started. Fails when the system has no such zone
    /// (Debian's `tzdata` holds them).
    pub fn apply_time_zone(&self) -> Result<(), ConfigError> {
        let zone = &self.station.time_zone;
        let file = Path::new(ZONEINFO).join(zone);
        if !file.is_file() {
            return Err(ConfigError::Invalid {
                origin: "the configuration".into(),
                line: None,
                problem: format!(
                    "station.time_zone: `{zone}` is not a time zone this system knows ({} is \
                     missing; install tzdata)",
                    file.display()
                ),
            });
        }
        // Before any thread is started, so nothing reads the environment meanwhile.
        std::env::set_var("TZ", zone);
        Ok(())
    }

    pub fn idle_timeout_s(&self, elderly: bool) -> u32 {
        if elderly {
            self.ui.elderly_idle_timeout_s
        } else {
            self.ui.idle_timeout_s
        }
    }
}

#[cfg(test)]
mod tests;
