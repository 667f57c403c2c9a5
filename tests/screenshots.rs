//! `grievance-kiosk screenshot` renders every screen of the kiosk without a display (issue:
//! "`screenshot --screen home --out home.png` renders Home with visible Chinese; the same in
//! `--lang en` and `--elderly`; every wizard screen, the result screen and the high-risk screen
//! render too, in portrait and landscape").
//!
//! Without a CJK font Slint draws no glyph at all for Chinese, and the picture is otherwise
//! fine: so "visible Chinese" is proved by ink (dark pixels) where Home's Chinese title stands.

mod exec;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use domain::TrackingToken;

/// Every screen, in the order `--screen all` renders them.
const SCREENS: [&str; 42] = [
    "home",
    "subtype",
    "questions",
    "text-entry",
    "description",
    "keyboard-pinyin",
    "keyboard-handwriting",
    "contact",
    "consent",
    "review",
    "result",
    "high-risk",
    "result-high-risk",
    "still-there",
    "home-printer-out",
    "result-printer-out",
    "track",
    "track-not-ours",
    "track-result",
    "track-result-offline",
    "scan-held",
    "take-number",
    "priority",
    "ticket",
    "ticket-no-history",
    "book-service",
    "book-slots",
    "book-phone",
    "book-confirm",
    "book-done",
    "booking",
    "booking-cancel",
    "checkin-too-early",
    "staff-pin",
    "staff-locked",
    "staff-queues",
    "staff-bookings",
    "staff-printer",
    "staff-outbox",
    "staff-attendance",
    "staff-notice",
    "home-staff-called",
];

const PORTRAIT: (usize, usize) = (1080, 1920);
const LANDSCAPE: (usize, usize) = (1920, 1080);

/// Rows of Home's title line, counted from the bottom of the header bar.
const TITLE_ROWS: usize = 120;

/// Whole-screen comparisons look at one pixel in this many, across and down.
const SAMPLE_STEP: usize = 3;

struct Shots {
    dir: tempfile::TempDir,
}

impl Shots {
    fn new() -> Shots {
        Shots {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `screenshot` with `args` and `--out out`, with a clean `KIOSK_*` environment.
    fn run(&self, args: &[&str], out: &Path) -> Output {
        let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("KIOSK_") {
                command.env_remove(name);
            }
        }
        command
            .env("KIOSK_DATA_DIR", self.path("data"))
            .current_dir(self.dir.path())
            .arg("screenshot")
            .args(args)
            .arg("--out")
            .arg(out)
            .output()
            .expect("the binary runs")
    }

    /// Renders one screen and decodes it.
    fn shot(&self, args: &[&str]) -> Image {
        let out = self.path(&format!("{}.png", args.join("_").replace("--", "")));
        let result = self.run(args, &out);
        assert!(
            result.status.success(),
            "screenshot {args:?} failed: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        Image::read(&out)
    }

    /// Renders every screen in one process and returns them by name.
    fn all(&self, landscape: bool) -> HashMap<String, Image> {
        let dir = self.path(if landscape { "landscape" } else { "portrait" });
        let mut args = vec!["--screen", "all"];
        if landscape {
            args.push("--landscape");
        }
        let result = self.run(&args, &dir);
        assert!(
            result.status.success(),
            "screenshot --screen all failed: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let suffix = if landscape { "-zh-landscape" } else { "-zh" };
        let mut written: Vec<String> = std::fs::read_dir(&dir)
            .expect("the directory exists")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        written.sort();
        let mut expected: Vec<String> =
            SCREENS.iter().map(|s| format!("{s}{suffix}.png")).collect();
        expected.sort();
        assert_eq!(written, expected, "one PNG per screen");
        SCREENS
            .iter()
            .map(|s| {
                (
                    (*s).to_owned(),
                    Image::read(&dir.join(format!("{s}{suffix}.png"))),
                )
            })
            .collect()
    }
}

/// A decoded screenshot, 8 bits per channel.
struct Image {
    width: usize,
    height: usize,
    /// The decoded bytes, `channels` per pixel (grey, grey and alpha, RGB or RGBA).
    data: Vec<u8>,
    channels: usize,
    /// Every `SAMPLE_STEP`-th pixel of every `SAMPLE_STEP`-th row: enough to judge a whole
    /// screen, and quick in an unoptimised test build.
    sample: Vec<[u8; 3]>,
    /// The most common colour of the sample.
    background: [u8; 3],
}

impl Image {
    fn read(path: &Path) -> Image {
        let file = std::fs::File::open(path)
            .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("a sane image size")];
        let frame = reader.next_frame(&mut buffer).expect("the PNG decodes");
        let channels = frame.color_type.samples();
        buffer.truncate(frame.buffer_size());
        let mut image = Image {
            width: frame.width as usize,
            height: frame.height as usize,
            data: buffer,
            channels,
            sample: Vec::new(),
            background: [0; 3],
        };
        image.sample = (0..image.height)
            .step_by(SAMPLE_STEP)
            .flat_map(|y| (0..image.width).step_by(SAMPLE_STEP).map(move |x| (x, y)))
            .map(|(x, y)| image.pixel(x, y))
            .collect();
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for px in &image.sample {
            *counts.entry(*px).or_default() += 1;
        }
        image.background = counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(px, _)| px)
            .expect("an image has pixels");
        image
    }

    fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * self.channels;
        match self.channels {
            1 | 2 => [self.data[at]; 3],
            _ => [self.data[at], self.data[at + 1], self.data[at + 2]],
        }
    }

    fn luminance(&self, x: usize, y: usize) -> u8 {
        let [r, g, b] = self.pixel(x, y);
        ((u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000) as u8
    }

    /// Share of pixels that are not exactly the background colour.
    fn drawn_share(&self) -> f64 {
        let drawn = self
            .sample
            .iter()
            .filter(|px| **px != self.background)
            .count();
        drawn as f64 / self.sample.len() as f64
    }

    /// Share of pixels that differ visibly from `other`'s.
    fn difference(&self, other: &Image) -> f64 {
        assert_eq!(self.size(), other.size(), "only same-size images compare");
        let differing = self
            .sample
            .iter()
            .zip(&other.sample)
            .filter(|(p, q)| far(**p, **q))
            .count();
        differing as f64 / self.sample.len() as f64
    }

    /// Share of pixels in `rows` that differ visibly from `other`'s.
    fn difference_in(&self, other: &Image, rows: std::ops::Range<usize>) -> f64 {
        assert_eq!(self.size(), other.size(), "only same-size images compare");
        let total = rows.len() * self.width;
        let differing = rows
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| far(self.pixel(x, y), other.pixel(x, y)))
            .count();
        differing as f64 / total as f64
    }

    /// The first row under the header bar: the first row, from the top, that is all background.
    fn header_bottom(&self) -> usize {
        (0..self.height)
            .find(|&y| (0..self.width).all(|x| !far(self.pixel(x, y), self.background)))
            .expect("the screen has a background below its header")
    }

    /// Home's title line: the rows just under the header bar.
    fn title_rows(&self) -> std::ops::Range<usize> {
        let top = self.header_bottom();
        top..(top + TITLE_ROWS).min(self.height)
    }

    /// Share of dark (ink) pixels in `rows`.
    fn ink_share(&self, rows: std::ops::Range<usize>) -> f64 {
        let total = rows.len() * self.width;
        let ink = rows
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.luminance(x, y) < 96)
            .count();
        ink as f64 / total as f64
    }
}

/// Whether two colours differ visibly (not just by anti-aliasing noise).
fn far(a: [u8; 3], b: [u8; 3]) -> bool {
    let d = |i: usize| u32::from(a[i].abs_diff(b[i]));
    d(0) + d(1) + d(2) > 48
}

/// Every screen of a sweep: the right size, something drawn, and no two alike.
fn assert_sweep(shots: &HashMap<String, Image>, size: (usize, usize)) {
    for name in SCREENS {
        let image = &shots[name];
        assert_eq!(image.size(), size, "{name}");
        let drawn = image.drawn_share();
        assert!(
            drawn > 0.10,
            "{name} is nearly blank: {:.1} % drawn",
            drawn * 100.0
        );
    }
    for (i, a) in SCREENS.iter().enumerate() {
        for b in &SCREENS[i + 1..] {
            let difference = shots[*a].difference(&shots[*b]);
            // Some pairs differ by one notice only: Track and Track with "not a tracking
            // code" (~0.8 %), a case's progress live and offline in landscape (~0.4 %).
            assert!(
                difference > 0.003,
                "{a} and {b} look the same ({:.2} % of pixels differ)",
                difference * 100.0
            );
        }
    }
}

#[test]
fn every_screen_renders_in_portrait() {
    let shots = Shots::new();
    assert_sweep(&shots.all(false), PORTRAIT);
}

#[test]
fn every_screen_renders_in_landscape() {
    let shots = Shots::new();
    assert_sweep(&shots.all(true), LANDSCAPE);
}

#[test]
fn home_shows_its_chinese_title_in_visible_glyphs() {
    let shots = Shots::new();
    let home = shots.shot(&["--screen", "home"]);
    assert_eq!(home.size(), PORTRAIT);
    assert!(home.drawn_share() > 0.10);
    let ink = home.ink_share(home.title_rows());
    assert!(
        ink > 0.01,
        "the Chinese title has no ink ({:.2} %): no CJK glyphs were drawn",
        ink * 100.0
    );
}

#[test]
fn home_in_english_differs_from_chinese_in_the_title() {
    let shots = Shots::new();
    let zh = shots.shot(&["--screen", "home", "--lang", "zh"]);
    let en = shots.shot(&["--screen", "home", "--lang", "en"]);
    assert_eq!(en.size(), PORTRAIT);
    assert!(en.drawn_share() > 0.10);
    assert!(
        en.ink_share(en.title_rows()) > 0.01,
        "the English title shows"
    );
    assert_eq!(zh.title_rows(), en.title_rows(), "the same header");
    let difference = zh.difference_in(&en, zh.title_rows());
    assert!(
        difference > 0.02,
        "the titles look alike ({:.2} % differ)",
        difference * 100.0
    );
}

#[test]
fn elderly_home_differs_from_normal_home_and_shows_chinese() {
    let shots = Shots::new();
    let normal = shots.shot(&["--screen", "home"]);
    let elderly = shots.shot(&["--screen", "home", "--elderly"]);
    assert_eq!(elderly.size(), PORTRAIT);
    assert!(elderly.drawn_share() > 0.10);
    let difference = normal.difference(&elderly);
    assert!(
        difference > 0.02,
        "elderly mode looks like normal mode ({:.2} % differ)",
        difference * 100.0
    );
    let ink = elderly.ink_share(elderly.title_rows());
    assert!(
        ink > 0.01,
        "the elderly title has no ink ({:.2} %)",
        ink * 100.0
    );
}

#[test]
fn the_result_screen_shows_a_qr_code_that_scans_to_a_tracking_url() {
    let shots = Shots::new();
    let result = shots.shot(&["--screen", "result"]);
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(result.width, result.height, |x, y| {
            result.luminance(x, y)
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the result screen");
    let (_, payload) = grids[0].decode().expect("the QR code decodes");
    let token = payload
        .strip_prefix("HTTP://127.0.0.1:8787/T/")
        .unwrap_or_else(|| panic!("{payload} is not a tracking URL"));
    TrackingToken::parse(token).expect("the QR carries a valid tracking code");
}

/// A panel of another size (`--size`) is laid out scaled to fit it, as the board does: the
/// picture has the panel's size and the same layout as the design size, only smaller.
#[test]
fn a_smaller_panel_shows_the_same_screen_scaled_to_fit() {
    let shots = Shots::new();
    let small = shots.shot(&["--screen", "home", "--size", "1280x720"]);
    assert_eq!(small.size(), (1280, 720));
    assert!(small.drawn_share() > 0.10);
    // 1280×720 is the landscape design size times two thirds: the same picture.
    let big = shots.shot(&["--screen", "home", "--landscape"]);
    let mut differ = 0;
    let mut compared = 0;
    for y in (10..700).step_by(7) {
        for x in (10..1270).step_by(7) {
            let (bx, by) = (x * 3 / 2, y * 3 / 2);
            compared += 1;
            if far(small.pixel(x, y), big.pixel(bx, by)) {
                differ += 1;
            }
        }
    }
    // Edges of text and boxes land on different pixels at the two sizes.
    assert!(
        differ * 100 < compared * 12,
        "{differ} of {compared} sampled pixels differ from the design size's"
    );

    for (bad, says) in [("12x8", "not a panel's side"), ("wide", "WIDTHxHEIGHT")] {
        let out = shots.path("bad.png");
        let result = shots.run(&["--screen", "home", "--size", bad], &out);
        assert!(!result.status.success(), "--size {bad} was taken");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains(says), "--size {bad}: {stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn an_unknown_screen_is_refused() {
    let shots = Shots::new();
    let out = shots.path("nowhere.png");
    let result = shots.run(&["--screen", "nowhere"], &out);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("nowhere") && stderr.contains("high-risk"),
        "{stderr}"
    );
    assert!(!out.exists());
}
