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
const SCREENS: [&str; 43] = [
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
    "track-result-rating",
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

/// Reference images are kept at one third of the screen's size (each pixel the average of a
/// 3×3 block): small enough to keep in the repository (about 2 MB a sweep), large enough that a
/// changed word, digit, colour or position changes many of their pixels.
const REFERENCE_SCALE: usize = 3;

/// The tolerance: how many pixels of a reduced screen may differ visibly from its reference
/// (a channel sum over 48, as [`far`] judges). The renderer, its fonts and the screenshots'
/// clock and codes are fixed, so a screen renders the same on every machine and a pass means
/// 0; the allowance is for a rounding difference in the software renderer, not for anything a
/// resident could see. One wrong digit of a ticket number changes several hundred.
const REFERENCE_TOLERANCE: usize = 24;

/// `UPDATE_SCREENSHOTS=1` writes the reference images anew instead of comparing (look at each
/// changed one before committing it).
const UPDATE_VARIABLE: &str = "UPDATE_SCREENSHOTS";

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
        Image::read_if_there(path).unwrap_or_else(|| panic!("{} was not written", path.display()))
    }

    fn read_if_there(path: &Path) -> Option<Image> {
        let file = std::fs::File::open(path).ok()?;
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
        Some(image)
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

/// A screen reduced for its reference image: RGB, [`REFERENCE_SCALE`] times smaller.
struct Reduced {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Reduced {
    fn of(image: &Image) -> Reduced {
        let k = REFERENCE_SCALE;
        let (width, height) = (image.width / k, image.height / k);
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                let mut sum = [0u32; 3];
                for dy in 0..k {
                    for dx in 0..k {
                        let px = image.pixel(x * k + dx, y * k + dy);
                        (0..3).for_each(|c| sum[c] += u32::from(px[c]));
                    }
                }
                rgb.extend(sum.map(|v| (v / (k * k) as u32) as u8));
            }
        }
        Reduced { width, height, rgb }
    }

    fn read(path: &Path) -> Option<Reduced> {
        let image = Image::read_if_there(path)?;
        let rgb = (0..image.height)
            .flat_map(|y| (0..image.width).map(move |x| (x, y)))
            .flat_map(|(x, y)| image.pixel(x, y))
            .collect();
        Some(Reduced {
            width: image.width,
            height: image.height,
            rgb,
        })
    }

    fn write(&self, path: &Path) {
        let file = std::fs::File::create(path)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let mut encoder = png::Encoder::new(
            std::io::BufWriter::new(file),
            self.width as u32,
            self.height as u32,
        );
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().expect("a PNG header");
        writer.write_image_data(&self.rgb).expect("the PNG encodes");
    }

    fn pixels(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
        self.rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]])
    }

    /// How many pixels differ visibly from `other`'s, and where the first of them is.
    fn differing(&self, other: &Reduced) -> (usize, Option<(usize, usize)>) {
        let mut first = None;
        let mut count = 0;
        for (i, (p, q)) in self.pixels().zip(other.pixels()).enumerate() {
            if far(p, q) {
                count += 1;
                first.get_or_insert((
                    i % self.width * REFERENCE_SCALE,
                    i / self.width * REFERENCE_SCALE,
                ));
            }
        }
        (count, first)
    }
}

/// Every screen of a sweep looks as its reference image in `tests/reference/<sweep>/` does,
/// within [`REFERENCE_TOLERANCE`]; with `UPDATE_SCREENSHOTS=1` the references are written
/// instead. A screen that differs is left beside the run's screenshots (`<name>.new.png`,
/// reduced like its reference) and named with the first place it differs.
fn assert_like_references(shots: &HashMap<String, Image>, sweep: &str) {
    // What a failing comparison leaves to look at, outside the test's temporary directory
    // (which goes when the test ends).
    let kept = std::env::temp_dir().join(format!(
        "grievance-kiosk-screenshots-{}-{sweep}",
        std::process::id()
    ));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference")
        .join(sweep);
    let update = std::env::var_os(UPDATE_VARIABLE).is_some_and(|v| v == "1");
    if update {
        std::fs::create_dir_all(&dir).expect("the reference directory can be made");
    }
    let mut failures = Vec::new();
    for name in SCREENS {
        let reduced = Reduced::of(&shots[name]);
        let reference = dir.join(format!("{name}.png"));
        if update {
            reduced.write(&reference);
            continue;
        }
        let Some(expected) = Reduced::read(&reference) else {
            failures.push(format!(
                "{name}: no reference image at tests/reference/{sweep}/{name}.png \
                 (render it with {UPDATE_VARIABLE}=1 and look at it)"
            ));
            continue;
        };
        if (expected.width, expected.height) != (reduced.width, reduced.height) {
            failures.push(format!(
                "{name}: the reference is {}×{}, the screen reduces to {}×{}",
                expected.width, expected.height, reduced.width, reduced.height
            ));
            continue;
        }
        let (count, first) = reduced.differing(&expected);
        if count > REFERENCE_TOLERANCE {
            std::fs::create_dir_all(&kept).expect("a directory for the differing screens");
            let new = kept.join(format!("{name}.new.png"));
            reduced.write(&new);
            let (x, y) = first.unwrap_or_default();
            failures.push(format!(
                "{name}: {count} pixels differ from the reference (at most \
                 {REFERENCE_TOLERANCE}), the first near ({x}, {y}) on the screen; this run's \
                 is {}",
                new.display()
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} screen(s) of the {sweep} sweep differ from their reference images \
             (if the change is meant, render again with {UPDATE_VARIABLE}=1 and look):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
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
    let all = shots.all(false);
    assert_sweep(&all, PORTRAIT);
    assert_like_references(&all, "portrait");
}

#[test]
fn every_screen_renders_in_landscape() {
    let shots = Shots::new();
    let all = shots.all(true);
    assert_sweep(&all, LANDSCAPE);
    assert_like_references(&all, "landscape");
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
