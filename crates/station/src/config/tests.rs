//! The configuration as a station's technician meets it: the built-in demo station, a
//! `kiosk.toml` that names only what it changes, the `KIOSK_*` variables over both, and every
//! mistake reported with the file, the line and the key.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;
use domain::spoken::SpokenLanguage;
use domain::QuestionKind;

/// A station file on disk, in its own temporary directory.
struct StationFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn station_file(text: &str) -> StationFile {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("kiosk.toml");
    std::fs::write(&path, text).expect("the station file is written");
    StationFile { _dir: dir, path }
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load_with(
    file: Option<&Path>,
    vars: &HashMap<String, String>,
) -> Result<KioskConfig, ConfigError> {
    KioskConfig::load(file, |name| vars.get(name).cloned())
}

fn load_file(text: &str) -> Result<KioskConfig, ConfigError> {
    let file = station_file(text);
    load_with(Some(&file.path), &HashMap::new())
}

/// Loads `text` as a station file, expects `Invalid` naming the file, and returns the error and
/// its message.
fn invalid(text: &str) -> (ConfigError, String) {
    let file = station_file(text);
    let err = load_with(Some(&file.path), &HashMap::new())
        .expect_err("the station file should be refused");
    assert!(
        matches!(err, ConfigError::Invalid { .. }),
        "expected Invalid, got {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&file.path.display().to_string()),
        "the message names the file: {message}"
    );
    (err, message)
}

fn line_of(err: &ConfigError) -> Option<usize> {
    match err {
        ConfigError::Invalid { line, .. } => line.map(|(l, _)| l),
        ConfigError::Unreadable { .. } => None,
    }
}

/// Asserts the error points at `line` and its message says so.
fn assert_line(err: &ConfigError, message: &str, line: usize) {
    assert_eq!(line_of(err), Some(line), "{message}");
    assert!(
        message.contains(&format!("line {line}")),
        "the message names line {line}: {message}"
    );
}

#[test]
fn the_builtin_configuration_parses_and_validates() {
    let config = load_with(None, &HashMap::new()).expect("the built-in configuration loads");
    assert_eq!(config, KioskConfig::builtin());
    let ids: Vec<&str> = config
        .catalogue
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "complaint",
            "mediation",
            "legal",
            "counselling",
            "assistance"
        ]
    );
    let subtypes: Vec<&str> = config
        .catalogue
        .services
        .iter()
        .flat_map(|s| s.subtypes.iter().map(|t| t.id.as_str()))
        .collect();
    for wanted in [
        "noise",
        "property",
        "wages_owed",
        "neighbour",
        "consumer",
        "family",
        "labour",
        "land",
        "rental",
        "other",
    ] {
        assert!(
            subtypes.contains(&wanted),
            "the catalogue lacks the sub-type `{wanted}`: {subtypes:?}"
        );
    }
    assert_eq!(config.printer.profile, "cn-80mm");
    assert_eq!(config.printer.port, None);
    assert_eq!(config.upstream.tracking_base_url, "http://127.0.0.1:8787");
    assert_eq!(config.station.name.zh, "演示站");
}

#[test]
fn every_service_subtype_question_and_option_speaks_chinese_and_english() {
    let config = KioskConfig::builtin();
    let mut checked = 0;
    let mut check = |what: String, text: &Localized| {
        assert!(!text.zh.trim().is_empty(), "{what} has no Chinese text");
        assert!(!text.en.trim().is_empty(), "{what} has no English text");
        checked += 1;
    };
    for s in &config.catalogue.services {
        check(format!("service {} name", s.id), &s.name);
        check(format!("service {} hint", s.id), &s.hint);
        check(format!("service {} next_steps", s.id), &s.next_steps);
        let questions = s
            .questions
            .iter()
            .map(|q| (format!("service {}", s.id), q))
            .chain(s.subtypes.iter().flat_map(|t| {
                t.questions
                    .iter()
                    .map(move |q| (format!("service {} sub-type {}", s.id, t.id), q))
            }));
        for t in &s.subtypes {
            check(format!("service {} sub-type {}", s.id, t.id), &t.name);
        }
        for (owner, q) in questions {
            check(format!("{owner} question {}", q.id), &q.label);
            if let QuestionKind::Choice { options } = &q.kind {
                for o in options {
                    check(
                        format!("{owner} question {} option {}", q.id, o.id),
                        &o.label,
                    );
                }
            }
        }
    }
    // Five services with three texts each, their sub-types, questions and options: a loop that
    // ran over nothing would prove nothing.
    assert!(checked > 100, "only {checked} texts were checked");
}

#[test]
fn a_station_file_that_sets_only_the_station_id_keeps_everything_else_builtin() {
    let file = station_file("[station]\nid = \"x\"\n");
    let config = load_with(Some(&file.path), &HashMap::new()).expect("the file loads");
    assert_eq!(config.station.id, "x");
    assert_eq!(config.source, ConfigSource::File(file.path.clone()));
    let builtin = KioskConfig::builtin();
    assert_eq!(config.station.name, builtin.station.name);
    assert_eq!(config.station.hotline, builtin.station.hotline);
    assert_eq!(config.data_dir, builtin.data_dir);
    assert_eq!(config.ui, builtin.ui);
    assert_eq!(config.consent, builtin.consent);
    assert_eq!(config.emergency, builtin.emergency);
    assert_eq!(config.printer, builtin.printer);
    assert_eq!(config.upstream, builtin.upstream);
    assert_eq!(config.risk, builtin.risk);
    assert_eq!(config.catalogue, builtin.catalogue);
}

#[test]
fn services_in_a_station_file_replace_the_whole_builtin_list() {
    let config = load_file(
        r#"
[[services]]
id = "housing"
name = { zh = "住房保障", en = "Housing" }
hint = { zh = "公租房", en = "Public housing" }
lane = "H"
next_steps = { zh = "我们会联系您。", en = "We will contact you." }
  [[services.subtypes]]
  id = "other"
  name = { zh = "其他", en = "Something else" }
"#,
    )
    .expect("the file loads");
    let ids: Vec<&str> = config
        .catalogue
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["housing"]);
}

#[test]
fn an_unknown_key_is_refused_with_the_file_the_line_and_the_key() {
    let (err, message) = invalid("# station\n\n[station]\nnmae = \"错字\"\n");
    assert_line(&err, &message, 4);
    assert!(
        message.contains("`station.nmae`"),
        "the key is named with its section: {message}"
    );
}

#[test]
fn a_value_of_the_wrong_type_names_the_line_the_key_and_what_was_expected() {
    let (err, message) = invalid("[ui]\nidle_timeout_s = \"sixty\"\n");
    assert_line(&err, &message, 2);
    assert!(
        message.contains("`ui.idle_timeout_s`"),
        "the key is named: {message}"
    );
    assert!(
        message.contains("expected") && (message.contains("integer") || message.contains("u32")),
        "what was expected is said: {message}"
    );
}

#[test]
fn an_unknown_printer_profile_names_its_line_and_the_known_profiles() {
    let (err, message) = invalid("[station]\nid = \"x\"\n\n[printer]\nprofile = \"xyz\"\n");
    assert_line(&err, &message, 5);
    assert!(message.contains("printer.profile"), "{message}");
    assert!(message.contains("xyz"), "{message}");
    for known in ["epson-tm-t88", "cn-80mm", "cn-58mm"] {
        assert!(
            message.contains(known),
            "the known profile {known} is listed: {message}"
        );
    }
}

#[test]
fn an_idle_timeout_out_of_range_names_its_line() {
    let (err, message) = invalid("[ui]\ndefault_language = \"en\"\nidle_timeout_s = 1\n");
    assert_line(&err, &message, 3);
    assert!(message.contains("ui.idle_timeout_s"), "{message}");
    assert!(
        message.contains("15"),
        "the allowed range is said: {message}"
    );
}

#[test]
fn a_done_timeout_shorter_than_its_question_names_its_line() {
    let (err, message) = invalid("[ui]\ndone_timeout_s = 8\n");
    assert_line(&err, &message, 2);
    assert!(message.contains("ui.done_timeout_s"), "{message}");
    assert!(
        message.contains("15–600"),
        "the allowed range is said: {message}"
    );
}

/// A complete service entry in TOML with this id and lane.
fn service_toml(id: &str, lane: &str) -> String {
    format!(
        r#"[[services]]
id = "{id}"
name = {{ zh = "服务", en = "Service" }}
hint = {{ zh = "说明", en = "Hint" }}
lane = "{lane}"
next_steps = {{ zh = "下一步", en = "Next" }}
  [[services.subtypes]]
  id = "other"
  name = {{ zh = "其他", en = "Something else" }}
"#
    )
}

#[test]
fn a_service_id_given_twice_names_the_line_of_the_second() {
    let text = format!(
        "{}\n{}",
        service_toml("complaint", "A"),
        service_toml("complaint", "B")
    );
    let second_id_line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("id = \"complaint\""))
        .nth(1)
        .map(|(i, _)| i + 1)
        .expect("two ids");
    let (err, message) = invalid(&text);
    assert_line(&err, &message, second_id_line);
    assert!(message.contains("services[1].id"), "{message}");
    assert!(message.contains("twice"), "{message}");
}

#[test]
fn a_lane_that_is_not_an_upper_case_letter_names_its_line() {
    let text = service_toml("complaint", "a");
    let (err, message) = invalid(&text);
    assert_line(&err, &message, 5);
    assert!(message.contains("services[0].lane"), "{message}");
    assert!(message.contains("upper-case"), "{message}");
}

#[test]
fn a_value_of_the_wrong_type_deep_in_the_services_names_its_path() {
    let text = service_toml("complaint", "A").replace("lane = \"A\"", "lane = 5");
    let (err, message) = invalid(&text);
    assert_line(&err, &message, 5);
    assert!(message.contains("`services[0].lane`"), "{message}");
    assert!(message.contains("expected"), "{message}");
}

#[test]
fn a_missing_file_is_unreadable_and_named() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("no-such-kiosk.toml");
    let err = load_with(Some(&path), &HashMap::new()).expect_err("a missing file is an error");
    match &err {
        ConfigError::Unreadable { path: p, .. } => assert_eq!(p, &path),
        other => panic!("expected Unreadable, got {other:?}"),
    }
    assert!(err.to_string().contains("no-such-kiosk.toml"), "{err}");
}

#[test]
fn a_directory_given_as_the_file_is_unreadable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let err = load_with(Some(dir.path()), &HashMap::new()).expect_err("a directory is no file");
    assert!(
        matches!(err, ConfigError::Unreadable { .. }),
        "expected Unreadable, got {err:?}"
    );
}

#[test]
fn a_toml_syntax_error_names_its_line() {
    let (err, message) = invalid("[station]\nid = \"x\"\nname = { zh = \"站\", en = \n");
    assert_line(&err, &message, 3);
}

#[test]
fn environment_variables_override_the_builtin_configuration() {
    let vars = env(&[
        ("KIOSK_DATA_DIR", "/var/lib/grievance-kiosk"),
        ("KIOSK_STATION_ID", "gm-07"),
        ("KIOSK_PRINTER_PROFILE", "cn-58mm"),
        ("KIOSK_PRINTER_BAUD", "9600"),
        ("KIOSK_UPSTREAM_KIND", "open311"),
        ("KIOSK_TRACKING_BASE_URL", "https://track.example.cn"),
    ]);
    let config = load_with(None, &vars).expect("the overrides are valid");
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/grievance-kiosk"));
    assert_eq!(config.station.id, "gm-07");
    assert_eq!(config.printer.profile, "cn-58mm");
    assert_eq!(config.printer_profile().id, "cn-58mm");
    assert_eq!(config.printer.baud, Some(9600));
    assert_eq!(config.upstream.kind, UpstreamKind::Open311);
    assert_eq!(
        config.upstream.tracking_base_url,
        "https://track.example.cn"
    );
}

#[test]
fn environment_variables_win_over_the_station_file() {
    let file = station_file(
        "data_dir = \"/srv/file-data\"\n\
         [station]\nid = \"from-file\"\n\
         [printer]\nprofile = \"epson-tm-t88\"\nbaud = 19200\n\
         [upstream]\nkind = \"native\"\ntracking_base_url = \"https://file.example.cn\"\n",
    );
    let from_file = load_with(Some(&file.path), &HashMap::new()).expect("the file loads");
    assert_eq!(from_file.station.id, "from-file");
    assert_eq!(from_file.printer.profile, "epson-tm-t88");
    assert_eq!(from_file.printer.baud, Some(19200));

    let vars = env(&[
        ("KIOSK_DATA_DIR", "/srv/env-data"),
        ("KIOSK_STATION_ID", "from-env"),
        ("KIOSK_PRINTER_PROFILE", "cn-58mm"),
        ("KIOSK_PRINTER_BAUD", "38400"),
        ("KIOSK_UPSTREAM_KIND", "open311"),
        ("KIOSK_TRACKING_BASE_URL", "https://env.example.cn"),
    ]);
    let config = load_with(Some(&file.path), &vars).expect("the file and overrides load");
    assert_eq!(config.data_dir, PathBuf::from("/srv/env-data"));
    assert_eq!(config.station.id, "from-env");
    assert_eq!(config.printer.profile, "cn-58mm");
    assert_eq!(config.printer.baud, Some(38400));
    assert_eq!(config.upstream.kind, UpstreamKind::Open311);
    assert_eq!(config.upstream.tracking_base_url, "https://env.example.cn");
}

#[test]
fn a_baud_rate_that_is_not_a_number_names_the_variable() {
    let err = load_with(None, &env(&[("KIOSK_PRINTER_BAUD", "fast")]))
        .expect_err("`fast` is no baud rate");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("KIOSK_PRINTER_BAUD"), "{message}");
    assert!(message.contains("fast"), "{message}");
}

#[test]
fn an_unknown_upstream_kind_names_the_variable() {
    let err = load_with(None, &env(&[("KIOSK_UPSTREAM_KIND", "soap")]))
        .expect_err("`soap` is no upstream kind");
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("KIOSK_UPSTREAM_KIND"), "{message}");
    assert!(message.contains("soap"), "{message}");
    assert!(
        message.contains("open311"),
        "the valid kinds are said: {message}"
    );
}

#[test]
fn an_unknown_profile_from_the_environment_is_refused() {
    let err = load_with(None, &env(&[("KIOSK_PRINTER_PROFILE", "xyz")]))
        .expect_err("`xyz` is no profile");
    let message = err.to_string();
    assert!(message.contains("printer.profile"), "{message}");
    assert!(message.contains("cn-80mm"), "{message}");
    assert_eq!(line_of(&err), None, "no file holds the bad value");
}

#[test]
fn a_declared_printer_profile_with_impossible_values_names_its_field_and_line() {
    let file = r#"
[printer]
profile = "wide"

[[printer.profiles]]
id = "wide"
name = "Too wide"
paper_mm = 80
dots_per_line = 576
columns = 200
chinese = "gb18030"
code_page = 0
qr = { kind = "native", module_size = 6, max_data = 1000 }
cut = { kind = "partial", feed = 0 }
answers_gs_r = false
status_query = true
dots_per_mm = 8
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    std::fs::write(&path, file).unwrap();
    let err = KioskConfig::load(Some(&path), |_| None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("printer.profiles[0].columns"), "{err}");
    assert!(
        err.contains("line 10"),
        "the error points at the `columns` line: {err}"
    );
}

#[test]
fn there_is_no_serial_scanner_unless_a_port_is_named_in_the_file_or_the_environment() {
    let builtin = load_with(None, &HashMap::new()).unwrap();
    assert_eq!(builtin.scanner.port, None);
    assert_eq!(builtin.scanner.baud, devices::scanner::DEFAULT_BAUD);

    let file = station_file("[scanner]\nport = \"/dev/ttyACM0\"\n");
    let from_file = load_with(Some(&file.path), &HashMap::new()).unwrap();
    assert_eq!(from_file.scanner.port.as_deref(), Some("/dev/ttyACM0"));
    assert_eq!(from_file.scanner.baud, 9600, "9600 unless the file says");

    let vars = env(&[("KIOSK_SCANNER_PORT", "/dev/kiosk-scanner")]);
    let both = load_with(Some(&file.path), &vars).unwrap();
    assert_eq!(
        both.scanner.port.as_deref(),
        Some("/dev/kiosk-scanner"),
        "the environment wins over the file"
    );
    let unset = load_with(Some(&file.path), &env(&[("KIOSK_SCANNER_PORT", " ")])).unwrap();
    assert_eq!(
        unset.scanner.port.as_deref(),
        Some("/dev/ttyACM0"),
        "an empty variable counts as unset"
    );

    let fast = load_file("[scanner]\nport = \"/dev/ttyUSB1\"\nbaud = 115200\n").unwrap();
    assert_eq!(fast.scanner.baud, 115200);
}

#[test]
fn a_wrong_scanner_key_or_value_names_its_line_and_key() {
    let (err, message) = invalid("[scanner]\nprot = \"/dev/ttyACM0\"\n");
    assert_line(&err, &message, 2);
    assert!(message.contains("`scanner.prot`"), "{message}");

    let (err, message) = invalid("[scanner]\nport = \"/dev/ttyACM0\"\nbaud = \"fast\"\n");
    assert_line(&err, &message, 3);
    assert!(message.contains("`scanner.baud`"), "{message}");

    let (err, message) = invalid("[scanner]\nport = \"/dev/ttyACM0\"\nbaud = 1234\n");
    assert_line(&err, &message, 3);
    assert!(message.contains("scanner.baud"), "{message}");
    assert!(
        message.contains("1234") && message.contains("9600"),
        "{message}"
    );

    let (err, message) = invalid("[scanner]\nport = \"\"\n");
    assert_line(&err, &message, 2);
    assert!(message.contains("scanner.port"), "{message}");

    let (err, message) =
        invalid("[printer]\nport = \"/dev/ttyUSB0\"\n\n[scanner]\nport = \"/dev/ttyUSB0\"\n");
    assert_line(&err, &message, 5);
    assert!(
        message.contains("scanner.port") && message.contains("printer"),
        "{message}"
    );
}

#[test]
fn a_scanner_port_from_the_environment_that_is_the_printers_is_refused() {
    let err = load_with(
        None,
        &env(&[
            ("KIOSK_PRINTER_PORT", "/dev/ttyUSB0"),
            ("KIOSK_SCANNER_PORT", "/dev/ttyUSB0"),
        ]),
    )
    .expect_err("one port cannot be both");
    let message = err.to_string();
    assert!(message.contains("scanner.port"), "{message}");
    assert!(message.contains("/dev/ttyUSB0"), "{message}");
}

#[test]
fn a_roster_that_contradicts_itself_is_refused_at_start_up_with_its_line() {
    let text = r#"
[[providers]]
id = "lawyer-a"
role = "lawyer"
name = { zh = "甲律师", en = "Lawyer A" }
service = "legal"
slot_min = 30
shifts = [
  { day = "mon", from = "09:00", to = "12:00" },
  { day = "mon", from = "11:00", to = "13:00" },
]
"#;
    let (err, message) = invalid(text);
    assert!(message.contains("providers[0].shifts[1]"), "{message}");
    assert!(message.contains("overlaps shifts[0]"), "{message}");
    assert_eq!(line_of(&err), Some(10), "{message}");

    let (_, message) = invalid(&text.replace("\"legal\"", "\"nosuch\""));
    assert!(message.contains("providers[0].service"), "{message}");
    let (_, message) = invalid(
        &text
            .replace(
                "day = \"mon\", from = \"11:00\"",
                "day = \"tue\", from = \"13:00\"",
            )
            .replace("to = \"13:00\"", "to = \"12:00\""),
    );
    assert!(message.contains("not before"), "{message}");
    let (_, message) = invalid("[queue]\ncounters = 0\n");
    assert!(message.contains("queue.counters"), "{message}");
    let (_, message) = invalid("[appointments]\nbooking_window_days = 0\n");
    assert!(
        message.contains("appointments.booking_window_days"),
        "{message}"
    );
}

#[test]
fn a_station_roster_replaces_the_demo_roster() {
    let config = load_file(
        r#"
[[providers]]
id = "mediator-x"
role = "mediator"
name = { zh = "调解员", en = "Mediator" }
service = "mediation"
slot_min = 60
capacity = 3
shifts = [{ day = "sat", from = "09:00", to = "12:00" }]
exceptions = [{ date = "2026-12-26", closed = true }]
"#,
    )
    .expect("the roster loads");
    assert_eq!(config.roster.providers.len(), 1);
    assert_eq!(config.roster.providers[0].capacity, 3);
    assert_eq!(KioskConfig::builtin().roster.providers.len(), 4);
}

#[test]
fn the_pinyin_dictionary_and_fuzzy_pairs_are_set_in_ime_and_a_wrong_key_is_named() {
    let builtin = KioskConfig::builtin();
    assert_eq!(
        builtin.ime.dictionary, None,
        "the built-in dictionary by default"
    );
    assert!(!builtin.ime.fuzzy);
    let config =
        load_file("[ime]\ndictionary = \"/etc/grievance-kiosk/pinyin.dict\"\nfuzzy = true\n")
            .expect("the file loads");
    assert_eq!(
        config.ime.dictionary.as_deref(),
        Some(std::path::Path::new("/etc/grievance-kiosk/pinyin.dict"))
    );
    assert!(config.ime.fuzzy);
    let (err, message) = invalid("[ime]\nfuzzy = \"yes\"\n");
    assert_line(&err, &message, 2);
    assert!(message.contains("`ime.fuzzy`"), "{message}");
    let (err, message) = invalid("[ime]\n\ndictonary = \"x.dict\"\n");
    assert_line(&err, &message, 3);
    assert!(message.contains("dictonary"), "{message}");
}

#[test]
fn the_voice_speaks_mandarin_calls_on_the_default_card_unless_the_station_says_otherwise() {
    let builtin = KioskConfig::builtin();
    let v = &builtin.voice;
    assert!(v.enabled);
    assert_eq!(v.output, VoiceOutput::Alsa);
    assert_eq!(v.call_languages, vec![SpokenLanguage::Mandarin]);
    assert_eq!(v.voice(SpokenLanguage::Mandarin), "cmn-latn-pinyin");
    assert_eq!(
        builtin.speech_sink(),
        devices::speech::Sink::Alsa {
            device: "default".into()
        }
    );

    let config = load_file(
        "data_dir = \"/srv/kiosk\"\n[voice]\ncall_languages = [\"zh\", \"yue\"]\nvolume = 55\nrate = 80\n\
         output = \"files\"\nyue_voice = \"yue\"\n",
    )
    .expect("the file loads");
    assert_eq!(
        config.voice.call_languages,
        vec![SpokenLanguage::Mandarin, SpokenLanguage::Cantonese]
    );
    assert_eq!(
        config.speech_settings(),
        devices::speech::Settings {
            rate: 80,
            volume: 55
        }
    );
    assert_eq!(
        config.speech_sink(),
        devices::speech::Sink::Files {
            dir: PathBuf::from("/srv/kiosk/speech")
        }
    );
    // A voice the file does not name stays the built-in one.
    assert_eq!(config.voice.zh_voice, "cmn-latn-pinyin");

    // The environment silences a station (the tests' harness, a night without sound).
    let quiet = load_with(None, &env(&[("KIOSK_VOICE_OUTPUT", "none")])).unwrap();
    assert_eq!(quiet.speech_sink(), devices::speech::Sink::None);
    let err = load_with(None, &env(&[("KIOSK_VOICE_OUTPUT", "loud")])).unwrap_err();
    assert!(err.to_string().contains("KIOSK_VOICE_OUTPUT"), "{err}");
}

#[test]
fn a_wrong_voice_setting_names_its_key_and_line() {
    for (text, key, line, says) in [
        ("[voice]\nvolume = 150\n", "voice.volume", 2, "0–100"),
        ("[voice]\n\nrate = 20\n", "voice.rate", 3, "50–200"),
        (
            "[voice]\ncall_languages = [\"zh\", \"zh\"]\n",
            "voice.call_languages",
            2,
            "twice",
        ),
        (
            "[voice]\ndevice = \"-D hw:0\"\n",
            "voice.device",
            2,
            "aplay -L",
        ),
        (
            "[voice]\nen_voice = \"en us\"\n",
            "voice.en_voice",
            2,
            "espeak-ng --voices",
        ),
    ] {
        let (err, message) = invalid(text);
        assert_line(&err, &message, line);
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains(says), "{message}");
    }
    // What serde refuses names its key too: a language nobody speaks, an output that is none
    // of the three, a key that does not exist.
    let (_, message) = invalid("[voice]\ncall_languages = [\"fr\"]\n");
    assert!(message.contains("call_languages"), "{message}");
    let (_, message) = invalid("[voice]\noutput = \"speakers\"\n");
    assert!(message.contains("output"), "{message}");
    let (err, message) = invalid("[voice]\nde_voice = \"de\"\n");
    assert_line(&err, &message, 2);
}

#[test]
fn the_open311_section_is_read_and_laid_over_the_built_in_one() {
    let builtin = KioskConfig::builtin().upstream.open311;
    assert_eq!(builtin.format, Open311Format::Json);
    assert!(builtin.services.is_empty() && builtin.attributes.is_empty());
    let file = station_file(
        "[upstream]\nkind = \"open311\"\n\
         [upstream.open311]\nformat = \"discover\"\njurisdiction_id = \"city.example.cn\"\n\
         services = { complaint = \"NOISE-311\" }\nattributes = { CHANNEL = \"kiosk\" }\n",
    );
    let config = load_with(Some(&file.path), &HashMap::new()).expect("the file loads");
    let o = &config.upstream.open311;
    assert_eq!(o.format, Open311Format::Discover);
    assert_eq!(o.jurisdiction_id.as_deref(), Some("city.example.cn"));
    assert_eq!(
        o.services.get("complaint").map(String::as_str),
        Some("NOISE-311")
    );
    assert_eq!(
        o.attributes.get("CHANNEL").map(String::as_str),
        Some("kiosk")
    );
}

#[test]
fn a_bad_open311_setting_names_its_key_and_line() {
    for (text, key, line, what) in [
        (
            "[upstream.open311]\nservices = { parking = \"P-1\" }\n",
            "upstream.open311.services.parking",
            2,
            "not one of this station's services",
        ),
        (
            "[upstream.open311]\nservices = { complaint = \"NOISE 311\" }\n",
            "upstream.open311.services.complaint",
            2,
            "not a service_code",
        ),
        (
            "[upstream.open311]\n\nattributes = { CHANNEL = \"\" }\n",
            "upstream.open311.attributes.CHANNEL",
            3,
            "1–200 characters",
        ),
        (
            "[upstream.open311]\nformat = \"yaml\"\n",
            "format",
            2,
            "yaml",
        ),
        (
            "[upstream.open311]\nformats = \"xml\"\n",
            "formats",
            2,
            "unknown field",
        ),
    ] {
        let file = station_file(text);
        let err = load_with(Some(&file.path), &HashMap::new()).expect_err(text);
        let message = err.to_string();
        assert!(message.contains(key), "{text}: {message}");
        assert!(message.contains(what), "{text}: {message}");
        assert_eq!(line_of(&err), Some(line), "{text}: {message}");
    }
}
