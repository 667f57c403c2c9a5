//! The `grievance-kiosk` command line as operators and scripts use it (DESIGN.md §9, §11): the
//! real binary, a fresh data directory per test, no `KIOSK_*` variable from the environment of
//! whoever runs the tests. Filing a case prints its slip on the virtual printer; the slip's
//! bytes are checked byte by byte, by the project's own interpreter, and by decoding its QR code
//! from the rendered PNG.

use crate::common::{doctor_line, SmallDisk};
use crate::exec;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use domain::{qr_payload, TrackingToken};
use encoding_rs::GB18030;
use serde_json::Value;
use slip::{interpret, Element};
use station::store::Store;

const NOISE_DESCRIPTION: &str = "楼上装修噪音，每天到晚上十一点";
const PHONE: &str = "13800138000";
const DEFAULT_TRACKING_BASE: &str = "http://127.0.0.1:8787";

/// A fresh data directory and the binary pointed at it.
struct Station {
    dir: tempfile::TempDir,
    /// A disk of its own, for the tests whose answer depends on the free space.
    disk: Option<SmallDisk>,
}

impl Station {
    fn new() -> Station {
        Station {
            dir: tempfile::tempdir().expect("a temporary data directory"),
            disk: None,
        }
    }

    /// A station whose data directory is a disk of `mib` MiB of its own: `doctor`'s storage
    /// check then sees what the test chose, not what this machine's disk has left.
    fn on_disk_of(mib: u32) -> Station {
        Station {
            disk: Some(SmallDisk::new(mib * 1024)),
            ..Station::new()
        }
    }

    fn data_dir(&self) -> &Path {
        self.disk.as_ref().map_or(self.dir.path(), |d| d.path())
    }

    /// The command with a clean `KIOSK_*` environment, data in this station's directory, run
    /// from that directory (so that nothing can land in the source tree).
    fn command(&self, args: &[&str]) -> Command {
        let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KIOSK_") {
                command.env_remove(name);
            }
        }
        command
            .env("KIOSK_DATA_DIR", self.data_dir())
            .current_dir(self.data_dir())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }

    /// Runs a command that must succeed and returns its standard output.
    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs a command that must print one JSON object on one line, and returns it.
    fn json(&self, args: &[&str]) -> Value {
        let stdout = String::from_utf8(self.ok(args)).expect("JSON output is UTF-8");
        assert_eq!(
            stdout.lines().count(),
            1,
            "{args:?} prints one line: {stdout}"
        );
        serde_json::from_str(stdout.trim_end()).expect("the line is JSON")
    }

    /// Runs a command that must fail with one line on standard error that starts `error:` and
    /// mentions every one of `mentions`; returns that line.
    fn fails(&self, args: &[&str], mentions: &[&str]) -> String {
        fails(self.command(args), args, mentions)
    }

    /// Files a case and returns its `--json` answer.
    fn file(&self, args: &[&str]) -> Value {
        let mut all = vec!["case", "new"];
        all.extend_from_slice(args);
        all.push("--json");
        self.json(&all)
    }

    /// Files the noise complaint of the issue and returns its token.
    fn file_noise_complaint(&self) -> String {
        let filed = self.file(&[
            "--service",
            "complaint",
            "--subtype",
            "noise",
            "--description",
            NOISE_DESCRIPTION,
            "--phone",
            PHONE,
        ]);
        filed["token"]
            .as_str()
            .expect("`token` is a string")
            .to_owned()
    }

    /// (cases, print jobs, outbox rows) in the database.
    fn row_counts(&self) -> (i64, i64, i64) {
        Store::open(self.data_dir())
            .expect("the database opens")
            .row_counts()
            .expect("the rows are counted")
    }

    fn slips(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.data_dir().join("slips")) {
            Err(_) => Vec::new(),
            Ok(entries) => entries
                .map(|e| e.expect("a directory entry").path())
                .collect(),
        }
    }
}

fn fails(mut command: Command, args: &[&str], mentions: &[&str]) -> String {
    let out = command.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "{args:?} should fail; it printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one line on standard error, got {stderr:?}"
    );
    assert!(lines[0].starts_with("error:"), "{args:?}: {stderr:?}");
    for m in mentions {
        assert!(lines[0].contains(m), "{args:?}: `{m}` is not in {stderr:?}");
    }
    lines[0].to_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

const INITIALIZE: [u8; 2] = [0x1B, 0x40];
const CHINESE_ON: [u8; 2] = [0x1C, 0x26];
const CHINESE_OFF: [u8; 2] = [0x1C, 0x2E];
const QR_STORE: [u8; 3] = [0x1D, 0x28, 0x6B];
const RASTER_IMAGE: [u8; 3] = [0x1D, 0x76, 0x30];
const PARTIAL_CUT: [u8; 3] = [0x1D, 0x56, 0x42];

/// The text of every `FS &` … `FS .` stretch, decoded as GB18030. Fails if a byte ≥ 0x80 stands
/// outside such a stretch, a stretch is not closed, or its bytes are not GB18030. (Valid only for
/// slips without raster images, whose pixels are bytes of any value.)
fn chinese_runs(bytes: &[u8]) -> Vec<String> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(&CHINESE_ON) {
            let start = i + 2;
            let len = find(&bytes[start..], &CHINESE_OFF)
                .unwrap_or_else(|| panic!("`FS &` at byte {i} is never closed by `FS .`"));
            let (text, had_errors) =
                GB18030.decode_without_bom_handling(&bytes[start..start + len]);
            assert!(!had_errors, "bytes {start}.. are not GB18030");
            runs.push(text.into_owned());
            i = start + len + 2;
        } else {
            assert!(
                bytes[i] < 0x80,
                "byte {i} ({:#04x}) is outside Chinese mode",
                bytes[i]
            );
            i += 1;
        }
    }
    runs
}

/// The data of the one native QR store command (`GS ( k pL pH 31 50 30 d…`).
fn native_qr_data(bytes: &[u8]) -> String {
    let stores: Vec<usize> = bytes
        .windows(8)
        .enumerate()
        .filter(|(_, w)| w[..3] == QR_STORE && w[5..8] == [0x31, 0x50, 0x30])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stores.len(), 1, "one QR store command");
    let at = stores[0];
    let len = usize::from(bytes[at + 3]) + 256 * usize::from(bytes[at + 4]) - 3;
    String::from_utf8(bytes[at + 8..at + 8 + len].to_vec()).expect("the QR data is text")
}

/// Checks a native-QR slip of the noise complaint, for any GB18030 profile with a partial cut.
fn assert_native_qr_slip(bytes: &[u8], url: &str, profile: &str) {
    let payload = qr_payload(url);
    assert!(
        bytes.len() <= 700,
        "{profile}: {} bytes is over the 700-byte budget",
        bytes.len()
    );
    assert!(
        bytes.starts_with(&INITIALIZE),
        "{profile}: starts with ESC @"
    );
    let runs = chinese_runs(bytes);
    assert!(
        runs.iter().any(|r| r == "演示站"),
        "{profile}: the station name is printed: {runs:?}"
    );
    assert!(
        runs.iter().any(|r| r == "投诉建议 · 噪音扰民"),
        "{profile}: the service line is printed: {runs:?}"
    );
    let stored = native_qr_data(bytes);
    assert_eq!(stored, payload, "{profile}: the QR holds the tracking URL");
    assert!(
        stored.eq_ignore_ascii_case(url),
        "{profile}: {stored} vs {url}"
    );
    let cut = bytes.len() - 4;
    assert_eq!(
        bytes[cut..cut + 3],
        PARTIAL_CUT,
        "{profile}: the slip ends with a partial cut"
    );
    assert_eq!(count(bytes, &PARTIAL_CUT), 1, "{profile}: one cut");

    let printout = interpret(bytes);
    assert!(
        printout.warnings.is_empty(),
        "{profile}: {:?}",
        printout.warnings
    );
    let cuts = printout
        .elements
        .iter()
        .filter(|e| matches!(e, Element::Cut { .. }))
        .count();
    assert_eq!(cuts, 1, "{profile}: the interpreter sees one cut");
    assert_eq!(printout.qr_payloads(), [payload], "{profile}");
}

/// Decodes the one QR code in a PNG file.
fn decode_qr(png_path: &Path) -> (u32, String) {
    let file = std::fs::File::open(png_path).expect("the PNG exists");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a sane image size")];
    let frame = reader.next_frame(&mut buffer).expect("the PNG decodes");
    let (width, height) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let grey: Vec<u8> = buffer[..frame.buffer_size()]
        .chunks(channels)
        .map(|px| match px.len() {
            1 | 2 => px[0],
            _ => {
                ((u32::from(px[0]) * 299 + u32::from(px[1]) * 587 + u32::from(px[2]) * 114) / 1000)
                    as u8
            }
        })
        .collect();
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "{} shows one QR code", png_path.display());
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    (frame.width, content)
}

fn grouped_lower_case_with_spaces(token: &str) -> String {
    TrackingToken::parse(token)
        .expect("a valid token")
        .grouped()
        .to_ascii_lowercase()
        .replacen('-', " - ", 1)
        .replacen('-', "  ", 1)
}

#[test]
fn case_new_prints_one_json_line_with_the_token_and_its_tracking_url() {
    let station = Station::new();
    let filed = station.file(&[
        "--service",
        "complaint",
        "--subtype",
        "noise",
        "--description",
        NOISE_DESCRIPTION,
        "--phone",
        PHONE,
    ]);
    let token = filed["token"].as_str().expect("`token` is a string");
    assert_eq!(token.len(), 17);
    let parsed = TrackingToken::parse(token).expect("the token parses");
    assert_eq!(parsed.as_str(), token, "the token is in canonical form");
    assert_eq!(
        filed["url"].as_str(),
        Some(format!("{DEFAULT_TRACKING_BASE}/T/{token}").as_str())
    );
    assert_eq!(station.row_counts(), (1, 1, 1));
}

#[test]
fn the_tracking_url_follows_the_configured_base() {
    let station = Station::new();
    let out = station
        .command(&[
            "case",
            "new",
            "--service",
            "complaint",
            "--anonymous",
            "--json",
        ])
        .env("KIOSK_TRACKING_BASE_URL", "https://track.example.cn")
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let token = filed["token"].as_str().expect("a token");
    assert_eq!(
        filed["url"].as_str(),
        Some(format!("https://track.example.cn/T/{token}").as_str())
    );
}

#[test]
fn slip_bytes_are_a_small_native_qr_slip_in_gb18030_that_ends_with_a_cut() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let url = format!("{DEFAULT_TRACKING_BASE}/T/{token}");
    let bytes = station.ok(&["slip", "bytes", &token]);
    assert_native_qr_slip(&bytes, &url, "cn-80mm");
}

#[test]
fn slip_bytes_for_the_epson_profile_are_a_native_qr_slip_too() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let url = format!("{DEFAULT_TRACKING_BASE}/T/{token}");
    let bytes = station.ok(&["slip", "bytes", &token, "--profile", "epson-tm-t88"]);
    assert_native_qr_slip(&bytes, &url, "epson-tm-t88");
    let default = station.ok(&["slip", "bytes", &token]);
    assert_ne!(bytes, default, "the profile changes the bytes");
}

#[test]
fn the_58mm_profile_prints_the_qr_as_a_raster_image_that_scans() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let payload = qr_payload(&format!("{DEFAULT_TRACKING_BASE}/T/{token}"));
    let bytes = station.ok(&["slip", "bytes", &token, "--profile", "cn-58mm"]);
    assert!(bytes.starts_with(&INITIALIZE));
    assert!(find(&bytes, &RASTER_IMAGE).is_some(), "a GS v 0 image");
    assert!(find(&bytes, &QR_STORE).is_none(), "no native QR command");
    let printout = interpret(&bytes);
    assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
    assert!(printout.qr_payloads().is_empty());
    assert_eq!(
        printout
            .elements
            .iter()
            .filter(|e| matches!(e, Element::Cut { .. }))
            .count(),
        1
    );
    let png = station.data_dir().join("s58.png");
    station.ok(&[
        "slip",
        "render",
        &token,
        "--profile",
        "cn-58mm",
        "--out",
        png.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(decode_qr(&png), (384, payload));
}

#[test]
fn slip_render_draws_a_qr_code_that_a_phone_can_scan() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let payload = qr_payload(&format!("{DEFAULT_TRACKING_BASE}/T/{token}"));
    let png = station.data_dir().join("s.png");
    station.ok(&[
        "slip",
        "render",
        &token,
        "--out",
        png.to_str().expect("a UTF-8 path"),
    ]);
    assert_eq!(decode_qr(&png), (576, payload), "576 dots wide for cn-80mm");
}

#[test]
fn sample_slips_need_no_database() {
    let station = Station::new();
    let bytes = station.ok(&["slip", "bytes", "--sample"]);
    let printout = interpret(&bytes);
    assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
    let payloads = printout.qr_payloads();
    assert_eq!(payloads.len(), 1);
    let png = station.data_dir().join("sample.png");
    station.ok(&[
        "slip",
        "render",
        "--sample",
        "--out",
        png.to_str().expect("a UTF-8 path"),
    ]);
    let (width, scanned) = decode_qr(&png);
    assert_eq!(width, 576);
    assert_eq!(scanned, payloads[0]);
    let token = scanned
        .strip_prefix("HTTP://127.0.0.1:8787/T/")
        .expect("a tracking URL");
    TrackingToken::parse(token).expect("a valid token");
    assert!(
        !station.data_dir().join(station::store::DB_FILE).exists(),
        "no database was created"
    );
}

#[test]
fn case_show_reads_a_token_in_lower_case_with_dashes_and_spaces() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let typed = grouped_lower_case_with_spaces(&token);
    assert_ne!(typed, token);
    let shown = station.json(&["case", "show", &typed, "--json"]);
    assert_eq!(shown["token"].as_str(), Some(token.as_str()));
    let bytes = station.ok(&["slip", "bytes", &typed]);
    assert_eq!(bytes, station.ok(&["slip", "bytes", &token]));
}

#[test]
fn case_show_tells_the_state_and_never_the_personal_data() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let out = station.ok(&["case", "show", &token, "--json"]);
    let text = String::from_utf8(out).expect("UTF-8");
    assert_eq!(text.lines().count(), 1, "{text}");
    let shown: Value = serde_json::from_str(text.trim_end()).expect("JSON");
    assert_eq!(shown["token"].as_str(), Some(token.as_str()));
    assert_eq!(shown["service"].as_str(), Some("complaint"));
    assert_eq!(shown["subtype"].as_str(), Some("noise"));
    assert_eq!(shown["risk"].as_str(), Some("normal"));
    assert_eq!(shown["print"].as_str(), Some("printed"));
    assert_eq!(shown["outbox"].as_str(), Some("pending"));
    assert!(!text.contains(PHONE), "the phone number leaks: {text}");
    assert!(!text.contains("楼上装修"), "the description leaks: {text}");
    let plain = String::from_utf8(station.ok(&["case", "show", &token])).expect("UTF-8");
    assert!(!plain.contains(PHONE), "the phone number leaks: {plain}");
    assert!(
        !plain.contains("楼上装修"),
        "the description leaks: {plain}"
    );
}

#[test]
fn thirty_workers_owed_wages_is_high_risk_with_a_reason() {
    let station = Station::new();
    let filed = station.file(&[
        "--service",
        "complaint",
        "--subtype",
        "wages_owed",
        "--answer",
        "workers=30_plus",
        "--phone",
        PHONE,
    ]);
    assert_eq!(filed["risk"].as_str(), Some("high"));
    let reasons = filed["risk_reasons"].as_array().expect("a list of reasons");
    assert!(
        reasons.iter().any(|r| r.to_string().contains("30_plus")),
        "the answer is the reason: {reasons:?}"
    );
    let token = filed["token"].as_str().expect("a token");
    let shown = station.json(&["case", "show", token, "--json"]);
    assert_eq!(shown["risk"].as_str(), Some("high"));
}

#[test]
fn a_description_that_mentions_jumping_off_a_building_is_high_risk() {
    let station = Station::new();
    let filed = station.file(&[
        "--service",
        "complaint",
        "--subtype",
        "wages_owed",
        "--description",
        "再不发工资我就去跳楼",
        "--phone",
        PHONE,
    ]);
    assert_eq!(filed["risk"].as_str(), Some("high"));
    let reasons = filed["risk_reasons"].as_array().expect("a list of reasons");
    assert!(
        reasons.iter().any(|r| r.to_string().contains("跳楼")),
        "the keyword is the reason: {reasons:?}"
    );
}

#[test]
fn the_virtual_printer_keeps_the_slip_bytes_and_a_picture_of_the_slip() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    let slips = station.data_dir().join("slips");
    let written = std::fs::read(slips.join(format!("{token}.bin"))).expect("the .bin exists");
    assert_eq!(written, station.ok(&["slip", "bytes", &token]));
    let payload = qr_payload(&format!("{DEFAULT_TRACKING_BASE}/T/{token}"));
    assert_eq!(
        decode_qr(&slips.join(format!("{token}.png"))),
        (576, payload)
    );
    let mut names: Vec<String> = station
        .slips()
        .iter()
        .map(|p| {
            p.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, [format!("{token}.bin"), format!("{token}.png")]);
}

/// Each failing `case new` leaves the database and the slips as they were.
fn case_new_fails(station: &Station, args: &[&str], mentions: &[&str]) -> String {
    let before = station.row_counts();
    let slips = station.slips().len();
    let mut all = vec!["case", "new"];
    all.extend_from_slice(args);
    let line = station.fails(&all, mentions);
    assert_eq!(
        station.row_counts(),
        before,
        "{args:?} wrote to the database"
    );
    assert_eq!(station.slips().len(), slips, "{args:?} printed a slip");
    line
}

#[test]
fn an_over_long_description_is_refused() {
    let station = Station::new();
    station.file_noise_complaint();
    let long = "噪".repeat(4001);
    case_new_fails(
        &station,
        &[
            "--service",
            "complaint",
            "--description",
            &long,
            "--phone",
            PHONE,
        ],
        &["description", "4001", "4000"],
    );
    let just_right = "噪".repeat(4000);
    station.file(&[
        "--service",
        "complaint",
        "--description",
        &just_right,
        "--phone",
        PHONE,
    ]);
}

#[test]
fn a_description_of_only_control_characters_is_no_description() {
    let station = Station::new();
    let filed = station.file(&[
        "--service",
        "complaint",
        "--description",
        "\u{1}\u{2}\u{1b}\u{7f}\u{9b}\u{200b}",
        "--phone",
        PHONE,
    ]);
    let token = filed["token"].as_str().expect("a token");
    let shown = station.json(&["case", "show", token, "--json"]);
    assert_eq!(shown["description_chars"], Value::Null);
}

#[test]
fn an_invalid_phone_number_is_refused() {
    let station = Station::new();
    case_new_fails(
        &station,
        &["--service", "complaint", "--phone", "12345"],
        &["phone", "12345"],
    );
    case_new_fails(
        &station,
        &["--service", "complaint", "--phone", "138-0013-800x"],
        &["phone", "'x'"],
    );
}

#[test]
fn legal_advice_needs_a_phone_number() {
    let station = Station::new();
    case_new_fails(&station, &["--service", "legal"], &["phone", "legal"]);
}

#[test]
fn legal_advice_cannot_be_anonymous() {
    let station = Station::new();
    case_new_fails(
        &station,
        &["--service", "legal", "--anonymous"],
        &["anonymous", "legal"],
    );
}

#[test]
fn an_anonymous_case_cannot_carry_a_phone_number() {
    let station = Station::new();
    case_new_fails(
        &station,
        &["--service", "complaint", "--anonymous", "--phone", PHONE],
        &["anonymous", "phone"],
    );
}

#[test]
fn an_unknown_service_is_refused_with_the_known_ones() {
    let station = Station::new();
    case_new_fails(
        &station,
        &["--service", "parking", "--phone", PHONE],
        &["service", "parking", "complaint", "assistance"],
    );
}

#[test]
fn an_unknown_subtype_is_refused_with_the_known_ones() {
    let station = Station::new();
    case_new_fails(
        &station,
        &[
            "--service",
            "complaint",
            "--subtype",
            "parking",
            "--phone",
            PHONE,
        ],
        &[
            "subtype",
            "parking",
            "noise",
            "property",
            "wages_owed",
            "other",
        ],
    );
}

#[test]
fn an_unknown_answer_option_is_refused_with_the_options() {
    let station = Station::new();
    case_new_fails(
        &station,
        &[
            "--service",
            "complaint",
            "--subtype",
            "wages_owed",
            "--answer",
            "workers=lots",
            "--phone",
            PHONE,
        ],
        &["answer", "lots", "workers", "30_plus"],
    );
    case_new_fails(
        &station,
        &[
            "--service",
            "complaint",
            "--subtype",
            "noise",
            "--answer",
            "workers=30_plus",
            "--phone",
            PHONE,
        ],
        &["answer", "workers"],
    );
}

#[test]
fn an_answer_without_an_equals_sign_is_refused() {
    let station = Station::new();
    case_new_fails(
        &station,
        &[
            "--service",
            "complaint",
            "--subtype",
            "wages_owed",
            "--answer",
            "workers",
            "--phone",
            PHONE,
        ],
        &["answer", "workers", "QUESTION=OPTION"],
    );
}

#[test]
fn a_malformed_token_says_what_is_wrong_with_it() {
    let station = Station::new();
    let token = station.file_noise_complaint();
    station.fails(
        &["case", "show", &token[..16]],
        &["tracking code", "17", "16"],
    );
    let mut bad_char = token.clone();
    bad_char.replace_range(4..5, "U");
    station.fails(
        &["case", "show", &bad_char],
        &["tracking code", "character 5", "'U'"],
    );
    // A wrong check character: a typo that still uses the alphabet.
    let last = token.chars().last().expect("a check character");
    let other = if last == '0' { '1' } else { '0' };
    let typo = format!("{}{other}", &token[..16]);
    station.fails(
        &["case", "show", &typo],
        &["tracking code", "check character"],
    );
}

#[test]
fn an_unknown_token_is_not_found() {
    let station = Station::new();
    station.file_noise_complaint();
    let unknown = TrackingToken::from_random([0x42; 10]);
    station.fails(
        &["case", "show", unknown.as_str()],
        &["no case", &unknown.grouped()],
    );
    station.fails(&["slip", "bytes", unknown.as_str()], &["no case"]);
}

#[test]
fn a_bad_config_file_names_its_line() {
    let station = Station::on_disk_of(2048);
    let config = station.data_dir().join("kiosk.toml");
    std::fs::write(
        &config,
        "[station]\nid = \"x\"\n\n[printer]\nprofile = \"xyz\"\n",
    )
    .expect("the config is written");
    let config = config.to_str().expect("a UTF-8 path");
    case_new_fails(
        &station,
        &[
            "--config",
            config,
            "--service",
            "complaint",
            "--phone",
            PHONE,
        ],
        &["kiosk.toml", "line 5", "printer.profile", "cn-80mm"],
    );
    let mut via_env = station.command(&["doctor"]);
    via_env.env("KIOSK_CONFIG", config);
    fails(via_env, &["doctor"], &["kiosk.toml", "line 5"]);
}

#[test]
fn a_baud_rate_that_is_not_a_number_is_refused() {
    let station = Station::new();
    let mut command = station.command(&["case", "new", "--service", "complaint", "--anonymous"]);
    command.env("KIOSK_PRINTER_BAUD", "abc");
    fails(
        command,
        &["KIOSK_PRINTER_BAUD=abc"],
        &["KIOSK_PRINTER_BAUD", "abc"],
    );
    assert_eq!(station.row_counts(), (0, 0, 0));
}

#[test]
fn control_characters_never_reach_the_database_or_the_printer() {
    let station = Station::new();
    let filed = station.file(&[
        "--service",
        "complaint",
        "--subtype",
        "noise",
        "--description",
        "楼上\u{1b}@装修\u{9b}2J噪音\u{7}",
        "--phone",
        PHONE,
    ]);
    let token = TrackingToken::parse(filed["token"].as_str().expect("a token")).expect("valid");
    let stored = Store::open(station.data_dir())
        .expect("the database opens")
        .case_by_token(&token)
        .expect("the case reads")
        .expect("the case is stored");
    assert_eq!(stored.case.description.as_deref(), Some("楼上@装修2J噪音"));
    let bytes = station.ok(&["slip", "bytes", token.as_str()]);
    assert_eq!(count(&bytes, &INITIALIZE), 1, "ESC @ only at the start");
    assert!(interpret(&bytes).warnings.is_empty());
    chinese_runs(&bytes);
}

#[test]
fn a_nul_byte_typed_at_the_screen_is_stored_without_it() {
    // The command line cannot carry a NUL (argv strings end at one), so this case is filed the
    // way the touchscreen files it, into the same data directory, and read back by the binary.
    use domain::{CaseDraft, Channel};
    use station::config::KioskConfig;
    use station::kiosk::Kiosk;
    use std::sync::Arc;

    let station = Station::new();
    let mut config = KioskConfig::builtin();
    config.data_dir = station.data_dir().to_owned();
    let mut kiosk = Kiosk::open(Arc::new(config.clone())).expect("the kiosk opens");
    let filed = kiosk
        .file_case(&CaseDraft {
            service: "complaint".into(),
            subtype: Some("noise".into()),
            description: "楼上\u{0}装修\u{1b}@\u{9b}噪音".into(),
            phone: PHONE.into(),
            consent_version: Some(config.consent.version.clone()),
            channel: Channel::Kiosk,
            ..CaseDraft::default()
        })
        .expect("the case is filed");
    drop(kiosk);
    let token = filed.case.token.as_str().to_owned();
    let stored = Store::open(station.data_dir())
        .expect("the database opens")
        .case_by_token(&filed.case.token)
        .expect("the case reads")
        .expect("the case is stored");
    assert_eq!(stored.case.description.as_deref(), Some("楼上装修@噪音"));
    let shown = station.json(&["case", "show", &token, "--json"]);
    assert_eq!(shown["description_chars"], 7);
    let bytes = station.ok(&["slip", "bytes", &token]);
    assert_eq!(count(&bytes, &INITIALIZE), 1, "ESC @ only at the start");
    assert!(interpret(&bytes).warnings.is_empty());
}

#[test]
fn doctor_checks_config_database_storage_clock_fonts_printer_and_scanner() {
    let station = Station::on_disk_of(2048);
    let out = String::from_utf8(station.ok(&["doctor"])).expect("UTF-8");
    for check in ["config", "database", "fonts", "printer"] {
        let line = doctor_line(&out, check);
        assert!(line.starts_with("ok"), "{line}");
    }
    // Free space (2 GiB of its own disk) and the backups, the clock, the scanner.
    let storage = doctor_line(&out, "storage");
    assert!(
        storage.starts_with("ok") && storage.contains("MB free of 2048 MB"),
        "{storage}"
    );
    assert!(storage.contains("no backup yet"), "{storage}");
    assert!(doctor_line(&out, "clock").starts_with("ok"));
    station.ok(&["backup"]);
    let out = String::from_utf8(station.ok(&["doctor"])).unwrap();
    assert!(doctor_line(&out, "storage").contains("1 backup(s), newest kiosk-"));
    let missing = station.data_dir().join("no-scanner-here");
    let out = station
        .command(&["doctor"])
        .env("KIOSK_SCANNER_PORT", &missing)
        .output()
        .unwrap();
    let scanner = doctor_line(&String::from_utf8(out.stdout).unwrap(), "scanner");
    assert!(
        scanner.starts_with("warn") && scanner.contains("no-scanner-here"),
        "{scanner}"
    );
}

/// `doctor` judges the free space where the cases are written: on a disk of 400 MiB it warns
/// that space runs low, on one of 40 MiB it fails (cases will soon not be saved), naming the
/// directory each time.
#[test]
fn doctor_warns_on_a_small_disk_and_fails_on_a_nearly_full_one() {
    for (mib, verdict, words) in [
        (400, "warn", "space is running low"),
        (40, "FAIL", "free some space"),
    ] {
        let station = Station::on_disk_of(mib);
        let out = station.run(&["doctor"]);
        assert_eq!(out.status.success(), verdict == "warn", "{mib} MiB");
        let text = String::from_utf8(out.stdout).unwrap();
        let line = doctor_line(&text, "storage");
        assert!(
            line.starts_with(verdict)
                && line.contains(words)
                && line.contains(&station.data_dir().display().to_string()),
            "{mib} MiB: {line}"
        );
    }
}

/// `doctor` loads the writing pad's model as the kiosk would: a damaged one is a warning naming
/// the file (residents still have pinyin), not a failure.
#[test]
fn doctor_names_a_damaged_handwriting_model() {
    let station = Station::on_disk_of(2048);
    let model = station.data_dir().join("damaged.model");
    std::fs::write(&model, b"not a zinnia model").unwrap();
    station.with_config(&format!(
        "[ime]\nhandwriting_models = [{:?}]\n",
        model.display().to_string()
    ));
    let out = station.run(&["--config", "kiosk.toml", "doctor"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = doctor_line(&text, "handwrite");
    assert!(
        line.starts_with("warn") && line.contains("damaged.model") && line.contains("pinyin"),
        "{line}"
    );
}

/// `staff call`, the elderly mode's button from the command line: one open call at a time, seen
/// by `doctor` until staff acknowledge it.
#[test]
fn staff_call_leaves_one_open_call() {
    let station = Station::on_disk_of(2048);
    let first = station.json(&["staff", "call", "--json"]);
    assert_eq!(first["new"], true, "{first}");
    let again = station.json(&["staff", "call", "--json"]);
    assert_eq!(again["new"], false, "{again}");
    assert_eq!(again["since"], first["since"], "the open call's time");
    let words = String::from_utf8(station.ok(&["staff", "call"])).unwrap();
    assert!(
        words.starts_with("staff were already called at "),
        "{words}"
    );
    let doctor = String::from_utf8(station.ok(&["doctor"])).unwrap();
    let database = doctor_line(&doctor, "database");
    assert!(database.contains("staff-called"), "{database}");
}

/// The reference config a technician starts from (firmware-config/kiosk.toml): `doctor` fails
/// while any placeholder is left, naming each line and key, and warns when the file holding the
/// token is readable by everyone.
#[test]
fn doctor_names_the_placeholders_left_in_the_reference_config() {
    use std::os::unix::fs::PermissionsExt;
    let station = Station::on_disk_of(2048);
    let reference = include_str!("../../firmware-config/kiosk.toml");
    let path = station.data_dir().join("kiosk.toml");
    station.with_config(reference);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let config_line = |out: &Output| doctor_line(&String::from_utf8_lossy(&out.stdout), "config");
    let out = station.run(&["--config", "kiosk.toml", "doctor"]);
    assert!(!out.status.success(), "doctor fails on placeholders");
    let line = config_line(&out);
    assert!(line.starts_with("FAIL"), "{line}");
    for key in [
        "station.id",
        "upstream.url",
        "upstream.token",
        "upstream.tracking_base_url",
    ] {
        assert!(line.contains(&format!("({key})")), "{key} in {line}");
    }
    assert!(
        !line.contains("printer."),
        "comments are not placeholders: {line}"
    );
    // A made-up host is not asked (that would wait for the resolver's timeout).
    let upstream = doctor_line(&String::from_utf8_lossy(&out.stdout), "upstream");
    assert!(
        upstream.starts_with("FAIL") && upstream.contains("placeholder: not tried"),
        "{upstream}"
    );

    let filled = reference
        .replace("CHANGE-ME-station-id", "sz-futian-001")
        .replace("CHANGE-ME-station-token", "a-real-token-of-this-station")
        .replace("CHANGE-ME.example.gov.cn", "127.0.0.1:9");
    station.with_config(&filled);
    let line = config_line(&station.run(&["--config", "kiosk.toml", "doctor"]));
    assert!(
        line.starts_with("ok") && line.contains("sz-futian-001"),
        "{line}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let line = config_line(&station.run(&["--config", "kiosk.toml", "doctor"]));
    assert!(
        line.starts_with("warn") && line.contains("chmod 0640"),
        "{line}"
    );

    // The reference config empties the roster; a station's file that leaves it out keeps the
    // demo station's lawyers and counsellor, which doctor points out.
    let staff_line = |out: &Output| doctor_line(&String::from_utf8_lossy(&out.stdout), "staff");
    let line = staff_line(&station.run(&["--config", "kiosk.toml", "doctor"]));
    assert!(line.contains("roster: 0 provider(s)"), "{line}");
    assert!(!line.contains("demo roster"), "{line}");
    station.with_config("[station]\nid = \"sz-futian-001\"\n");
    let line = staff_line(&station.run(&["--config", "kiosk.toml", "doctor"]));
    assert!(
        line.starts_with("warn") && line.contains("built-in demo roster"),
        "{line}"
    );
}

/// A roster whose lawyer works every day around the clock, so that the tests find slots
/// whatever the time they run.
const ALL_DAY_ROSTER: &str = r#"
[[providers]]
id = "lawyer-test"
role = "lawyer"
name = { zh = "测试律师", en = "Test lawyer" }
service = "legal"
slot_min = 30
capacity = 1
shifts = [
  { day = "mon", from = "00:00", to = "24:00" },
  { day = "tue", from = "00:00", to = "24:00" },
  { day = "wed", from = "00:00", to = "24:00" },
  { day = "thu", from = "00:00", to = "24:00" },
  { day = "fri", from = "00:00", to = "24:00" },
  { day = "sat", from = "00:00", to = "24:00" },
  { day = "sun", from = "00:00", to = "24:00" },
]
"#;

impl Station {
    /// The binary with this station's `kiosk.toml` holding `text`.
    fn with_config(&self, text: &str) -> &Station {
        std::fs::write(self.data_dir().join("kiosk.toml"), text).expect("kiosk.toml is written");
        self
    }

    fn lines(&self, args: &[&str]) -> Vec<Value> {
        String::from_utf8(self.ok(args))
            .expect("UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

#[test]
fn booking_slots_come_from_the_roster_and_booking_refuses_each_bad_slot_with_its_reason() {
    let station = Station::new();
    station.with_config(ALL_DAY_ROSTER);
    let cfg = ["--config", "kiosk.toml"];
    fn args<'a>(rest: &[&'a str]) -> Vec<&'a str> {
        ["--config", "kiosk.toml"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect()
    }
    let slots = station.lines(&args(&[
        "booking",
        "slots",
        "--service",
        "legal",
        "--days",
        "2",
        "--json",
    ]));
    assert!(
        slots.len() > 40,
        "two days of 30-minute slots: {}",
        slots.len()
    );
    for s in &slots {
        for field in ["id", "start", "end", "provider"] {
            assert!(s[field].is_string(), "`{field}` in {s}");
        }
        assert_eq!(s["provider"], "lawyer-test");
        assert_eq!(s["free"], 1);
    }
    // Time order, and none within the two hours' notice.
    let starts: Vec<chrono::DateTime<chrono::Utc>> = slots
        .iter()
        .map(|s| s["start"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]));
    assert!(starts[0] >= chrono::Utc::now() + chrono::Duration::minutes(119));

    // Slots well clear of the notice, so that none becomes too soon while the test runs.
    let clear = starts
        .iter()
        .position(|t| *t >= chrono::Utc::now() + chrono::Duration::minutes(150))
        .expect("slots past the notice");
    let first = slots[clear]["id"].as_str().unwrap();
    let second = slots[clear + 1]["id"].as_str().unwrap();
    let booked = station.json(&args(&[
        "booking",
        "new",
        "--service",
        "legal",
        "--slot",
        first,
        "--phone",
        "13800138000",
        "--json",
    ]));
    assert_eq!(booked["slot"], first);
    assert_eq!(booked["print"], "printed");
    let url = booked["url"].as_str().unwrap();
    let token = booked["token"].as_str().unwrap();
    assert_eq!(url, format!("{DEFAULT_TRACKING_BASE}/T/{token}"));
    let png = station
        .data_dir()
        .join("slips")
        .join(format!("{token}.png"));
    assert_eq!(decode_qr(&png).1, qr_payload(url));

    let mut messages = Vec::new();
    let mut fails_with = |rest: &[&str], mentions: &[&str]| {
        let mut all: Vec<&str> = cfg.to_vec();
        all.extend_from_slice(rest);
        messages.push(station.fails(&all, mentions));
    };
    fails_with(
        &[
            "booking",
            "new",
            "--service",
            "legal",
            "--slot",
            second,
            "--phone",
            "138 0013 8000",
        ],
        &["already has an appointment"],
    );
    fails_with(
        &[
            "booking",
            "new",
            "--service",
            "legal",
            "--slot",
            first,
            "--phone",
            "13900139000",
        ],
        &["full", first],
    );
    let yesterday = (chrono::Local::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    let past = format!("lawyer-test@{yesterday}T10:00");
    fails_with(
        &[
            "booking",
            "new",
            "--service",
            "legal",
            "--slot",
            &past,
            "--phone",
            "13900139000",
        ],
        &["passed", &past],
    );
    fails_with(
        &[
            "booking",
            "new",
            "--service",
            "legal",
            "--slot",
            "lawyer-test@2026-13-40T10:00",
            "--phone",
            "13900139000",
        ],
        &["not a slot"],
    );
    let distinct: std::collections::HashSet<_> = messages.iter().collect();
    assert_eq!(distinct.len(), messages.len());

    // The slot now shows full; cancelling frees it.
    let again = station.lines(&args(&[
        "booking",
        "slots",
        "--service",
        "legal",
        "--days",
        "2",
        "--json",
    ]));
    let listed = again.iter().find(|s| s["id"] == first).unwrap();
    assert_eq!(listed["free"], 0);
    let cancelled = station.json(&args(&["booking", "cancel", token, "--json"]));
    assert_eq!(cancelled["state"], "cancelled");
    station.fails(&args(&["booking", "cancel", token]), &["cancelled"]);
    station.fails(
        &args(&["booking", "slots", "--service", "complaint"]),
        &["appointments"],
    );
}

#[test]
fn queue_take_call_recall_and_done_from_the_command_line() {
    let station = Station::new();
    let taken = station.json(&["queue", "take", "--service", "mediation", "--json"]);
    assert_eq!(taken["ticket"], "B001");
    assert_eq!(taken["ahead"], 0);
    assert_eq!(taken["wait_min"], Value::Null, "no history yet");
    let token = taken["token"].as_str().unwrap();
    let png = station
        .data_dir()
        .join("slips")
        .join(format!("{token}.png"));
    assert_eq!(
        decode_qr(&png).1,
        qr_payload(taken["url"].as_str().unwrap()),
        "the ticket's QR opens its page"
    );
    let second = station.json(&[
        "queue",
        "take",
        "--service",
        "mediation",
        "--priority",
        "--json",
    ]);
    assert_eq!(second["ticket"], "B002");
    assert_eq!(second["ahead"], 0, "priority goes first");

    let lanes = station.lines(&["queue", "list", "--json"]);
    let b = lanes.iter().find(|l| l["lane"] == "B").unwrap();
    let order: Vec<&str> = b["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ticket"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["B002", "B001"]);

    let called = station.json(&["queue", "call", "--counter", "2", "--json"]);
    assert_eq!(called["ticket"], "B002");
    assert_eq!(called["counter"], 2);
    station.fails(
        &["queue", "no-show", "--counter", "2"],
        &["B002", "called 1"],
    );
    let recalled = station.json(&["queue", "recall", "--counter", "2", "--json"]);
    assert_eq!(recalled["calls"], 2);
    let done = station.json(&["queue", "done", "B002", "--json"]);
    assert_eq!(done["state"], "served");
    station.fails(&["queue", "call", "--counter", "7"], &["counter 7"]);
    let moved = station.json(&["queue", "transfer", "b001", "--service", "legal", "--json"]);
    assert_eq!(moved["lane"], "C");
    station.fails(
        &["queue", "call", "--counter", "1", "--service", "mediation"],
        &["nobody is waiting"],
    );
    let audit = station.lines(&["staff", "audit", "--json"]);
    assert!(audit.iter().any(|e| e["action"] == "queue-transfer"));
}

#[test]
fn staff_set_pin_reads_stdin_and_refuses_a_weak_pin() {
    use std::io::Write as _;
    let station = Station::on_disk_of(2048);
    let set = |pin: &str| {
        let mut child = station
            .command(&["staff", "set-pin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(pin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    // China time, as the stations run; `doctor` warns about any other time zone.
    let staff_line = || {
        let out = station
            .command(&["doctor"])
            .env("TZ", "Asia/Shanghai")
            .output()
            .unwrap();
        assert!(out.status.success());
        doctor_line(&String::from_utf8(out.stdout).expect("UTF-8"), "staff")
    };
    let before = staff_line();
    assert!(
        before.starts_with("warn") && before.contains("set-pin"),
        "{before}"
    );
    let weak = set("123456\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too easy"));
    let ok = set("240517\n");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let auth = Store::open(station.data_dir())
        .unwrap()
        .staff_auth()
        .unwrap();
    let hash = auth.pin_hash.expect("a hash is stored");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("240517"));
    let after = staff_line();
    assert!(
        after.starts_with("ok") && after.contains("PIN set"),
        "{after}"
    );
    // A station whose time zone is not China's is told the hub's pages differ.
    let config = station.data_dir().join("utc.toml");
    std::fs::write(&config, "[station]\ntime_zone = \"UTC\"\n").unwrap();
    let utc = station
        .command(&["--config", config.to_str().unwrap(), "doctor"])
        .output()
        .unwrap();
    let utc = String::from_utf8(utc.stdout).unwrap();
    let line = utc.lines().find(|l| l.contains(" staff ")).unwrap();
    assert!(
        line.starts_with("warn") && line.contains("UTC+00:00") && line.contains("time_zone"),
        "{line}"
    );
}

#[test]
fn ime_suggest_puts_nihao_first_and_refuses_a_damaged_dictionary() {
    let station = Station::on_disk_of(2048);
    let out = station.json(&["ime", "suggest", "nihao", "--json"]);
    let candidates = out["candidates"]
        .as_array()
        .expect("`candidates` is a list");
    assert_eq!(candidates[0], "你好");
    assert!(candidates.len() <= 10);
    let out = station.json(&["ime", "suggest", "gzqf", "--json"]);
    assert_eq!(out["candidates"][0], "工资欠发");
    let out = station.json(&["ime", "suggest", "123", "--json"]);
    assert_eq!(out["candidates"], serde_json::json!([]));
    let broken = station.data_dir().join("broken.dict");
    std::fs::write(&broken, "ni\t你\n").unwrap();
    station.fails(
        &[
            "ime",
            "suggest",
            "ni",
            "--dictionary",
            broken.to_str().unwrap(),
        ],
        &[
            "damaged",
            "line 1",
            "broken.dict",
            "expected `syllables<TAB>word<TAB>frequency`",
        ],
    );

    // A station's own dictionary (`[ime] dictionary`): used by `ime suggest`, checked by
    // `doctor`, which fails, naming the file and the line, while it is damaged.
    let own = station.data_dir().join("own.dict");
    std::fs::write(&own, "gong zi\t工资\t5\ngong zi\t公子\t9\n").unwrap();
    station.with_config(&format!(
        "[ime]\ndictionary = {:?}\n",
        own.to_str().unwrap()
    ));
    let cfg = ["--config", "kiosk.toml"];
    let out = station.json(&[&cfg[..], &["ime", "suggest", "gongzi", "--json"]].concat());
    assert_eq!(out["candidates"], serde_json::json!(["公子", "工资"]));
    let doctor = String::from_utf8(station.ok(&[&cfg[..], &["doctor"]].concat())).unwrap();
    let line = doctor.lines().find(|l| l.contains(" ime ")).unwrap();
    assert!(line.starts_with("ok") && line.contains("2 words"), "{line}");
    std::fs::write(&own, "gong zi\t工资\tmany\n").unwrap();
    let doctor = station.run(&[&cfg[..], &["doctor"]].concat());
    assert!(
        !doctor.status.success(),
        "doctor fails on a damaged dictionary"
    );
    let doctor = String::from_utf8(doctor.stdout).unwrap();
    let line = doctor.lines().find(|l| l.contains(" ime ")).unwrap();
    assert!(
        line.starts_with("FAIL")
            && line.contains("own.dict")
            && line.contains("line 1")
            && line.contains("`many`")
            && line.contains("letters only"),
        "{line}"
    );
}

#[test]
fn erase_expired_and_backup_report_what_they_did() {
    let station = Station::new();
    station.file_noise_complaint();
    let erased = station.json(&["erase-expired", "--json"]);
    assert_eq!(erased["cases"], 0, "nothing is old enough: {erased}");
    assert_eq!(erased["bookings"], 0);
    assert_eq!(erased["retention_days"], 30);
    let backup = station.json(&["backup", "--json"]);
    let path = PathBuf::from(backup["path"].as_str().expect("`path` is a string"));
    assert!(
        path.starts_with(station.data_dir().join("backups")),
        "{path:?}"
    );
    let copy = Store::open_file(&path).expect("the backup opens");
    assert_eq!(copy.row_counts().unwrap().0, 1, "with the case in it");
    assert_eq!(backup["kept"], 1);
    station
        .with_config("[privacy]\nretention_days = 0\n")
        .fails(
            &["--config", "kiosk.toml", "erase-expired"],
            &["privacy.retention_days", "line 2", "1–3650"],
        );
}

/// The station's time zone (issue 16): on a board whose clock is on UTC, a slip shows the
/// station's time (`[station] time_zone`, Asia/Shanghai by default), as the hub's pages do; a
/// zone the system does not know is refused at start, by name.
#[test]
fn times_are_the_station_s_whatever_the_board_s_clock_says() {
    let station = Station::on_disk_of(2048);
    let before = chrono::Utc::now();
    let token = {
        let mut command = station.command(&[
            "case",
            "new",
            "--service",
            "complaint",
            "--subtype",
            "noise",
            "--anonymous",
            "--json",
        ]);
        let out = command.env("TZ", "UTC").output().expect("the binary runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let filed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        filed["token"].as_str().expect("a token").to_owned()
    };
    let after = chrono::Utc::now();
    let bytes = std::fs::read(
        station
            .data_dir()
            .join("slips")
            .join(format!("{token}.bin")),
    )
    .expect("the slip's bytes");
    let printed = interpret(&bytes).text_lines().join("\n");
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let stamps: Vec<String> = [before, after]
        .iter()
        .map(|t| {
            t.with_timezone(&shanghai)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect();
    assert!(
        stamps.iter().any(|s| printed.contains(s.as_str())),
        "the slip says the time in Shanghai ({stamps:?}):\n{printed}"
    );

    let config = station.data_dir().join("kiosk.toml");
    std::fs::write(&config, "[station]\ntime_zone = \"Mars/Olympus_Mons\"\n").unwrap();
    let line = station.fails(
        &["--config", config.to_str().unwrap(), "doctor"],
        &["station.time_zone", "Mars/Olympus_Mons", "tzdata"],
    );
    assert!(line.starts_with("error:"), "{line}");
    std::fs::write(&config, "[station]\ntime_zone = \"../etc/passwd\"\n").unwrap();
    station.fails(
        &["--config", config.to_str().unwrap(), "doctor"],
        &["station.time_zone", "../etc/passwd"],
    );
}
