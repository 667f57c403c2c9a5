//! The test set: the 200 characters of `testdata/strokes.json` as a finger draws them on the
//! kiosk's pad, made the same way every run from a seed (shared by `tests/accuracy.rs` and
//! `examples/latency.rs`).
//!
//! The pad is the kiosk's: it takes the letters' place on the keyboard (`ui/widgets/keyboard.slint`:
//! four rows of keys high, as wide as the keyboard less the two buttons beside it), so it is
//! wider than high: about 2:1 upright, 3:1 on a landscape screen, 3:2 in the screenshots' tour.
//! Each character gets a pad [`PAD`] px high and 1.5 to 3 times as wide, and a light cross marks
//! its centre.
//!
//! The fixture's strokes are a font's centre lines, perfect; a finger is not. Each character is
//! written at 72–92 % of the pad's height, near the cross (within 4 % of the height up or down,
//! 10 % left or right, where there is room), turned up to 4°, and squeezed or stretched up to 6 %
//! one way; each stroke is shifted up to 1.5 % of the pad's height as a whole and wobbles along
//! its length (up to 1.2 %); the touchscreen reports a point every 3–9 px along the way (so a
//! corner between two reports is cut), each off by a little noise (σ 0.5 px), in whole pixels.

#![allow(dead_code)]

use handwriting::Ink;

/// The pad's height, in pixels.
pub const PAD: f32 = 320.0;

/// The pad is this many times as wide as it is high, at least and at most.
pub const ASPECT: (f64, f64) = (1.5, 3.0);

/// The seed of the one test set every run uses.
pub const SEED: u64 = 0x6772_6965_7661_6e63;

/// A character's strokes, each its points in the order drawn.
pub type Strokes = Vec<Vec<(f32, f32)>>;

/// The fixture: each character with its strokes in a 1024 × 1024 box, y down.
pub fn fixture() -> Vec<(String, Strokes)> {
    characters(include_str!("../../testdata/strokes.json"))
}

/// The characters of a file such as `testdata/strokes.json` (as
/// `scripts/make-handwriting-testdata` writes them).
pub fn characters(text: &str) -> Vec<(String, Strokes)> {
    let json: serde_json::Value = serde_json::from_str(text).expect("a strokes file");
    json["characters"]
        .as_array()
        .expect("characters")
        .iter()
        .map(|entry| {
            let character = entry[0].as_str().expect("character").to_string();
            let strokes = entry[1]
                .as_array()
                .expect("strokes")
                .iter()
                .map(|stroke| {
                    stroke
                        .as_array()
                        .expect("points")
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
                        .collect()
                })
                .collect();
            (character, strokes)
        })
        .collect()
}

/// Every character of the fixture as a finger draws it, seeded with [`SEED`].
pub fn test_set() -> Vec<(String, Ink)> {
    drawn(fixture(), SEED)
}

/// Each character as a finger draws it on the kiosk's pad, seeded with `seed`.
pub fn drawn(characters: Vec<(String, Strokes)>, seed: u64) -> Vec<(String, Ink)> {
    let mut rng = Rng(seed);
    characters
        .into_iter()
        .map(|(character, strokes)| {
            let ink = as_a_finger_draws(&strokes, 1024.0, &mut rng);
            (character, ink)
        })
        .collect()
}

/// SplitMix64: small, and the same on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        low + (high - low) * unit
    }

    /// Normal with mean 0 and deviation 1 (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform(f64::MIN_POSITIVE, 1.0);
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `strokes` (in a `size` × `size` box) drawn by a finger on the kiosk's pad, [`PAD`] high and
/// [`ASPECT`] times as wide.
pub fn as_a_finger_draws(strokes: &[Vec<(f32, f32)>], size: f32, rng: &mut Rng) -> Ink {
    let height = f64::from(PAD);
    let width = (height * rng.uniform(ASPECT.0, ASPECT.1)).round();
    draw_on(strokes, size, width, height, 0.10, rng)
}

/// `strokes` drawn by a finger on a `width` × `height` pad, centred within `across` of the pad's
/// height left or right (and 4 % up or down).
pub fn draw_on(
    strokes: &[Vec<(f32, f32)>],
    size: f32,
    width: f64,
    height: f64,
    across: f64,
    rng: &mut Rng,
) -> Ink {
    let pad = height;
    let scale = rng.uniform(0.72, 0.92) * pad / f64::from(size);
    let stretch = rng.uniform(-0.06, 0.06);
    let (sx, sy) = (scale * (1.0 + stretch), scale * (1.0 - stretch));
    let turn = rng.uniform(-4.0, 4.0).to_radians();
    let (sin, cos) = turn.sin_cos();
    let centre = (
        width / 2.0 + rng.uniform(-across, across) * pad,
        height / 2.0 + rng.uniform(-0.04, 0.04) * pad,
    );
    let half = f64::from(size) / 2.0;
    let place = |(x, y): (f32, f32)| {
        let (x, y) = ((f64::from(x) - half) * sx, (f64::from(y) - half) * sy);
        (centre.0 + x * cos - y * sin, centre.1 + x * sin + y * cos)
    };
    let strokes = strokes
        .iter()
        .map(|stroke| {
            let shift = (
                rng.uniform(-0.015, 0.015) * pad,
                rng.uniform(-0.015, 0.015) * pad,
            );
            let wobble = rng.uniform(0.0, 0.012) * pad;
            let rate = rng.uniform(4.0, 10.0) / pad;
            let phase = (rng.uniform(0.0, 6.3), rng.uniform(0.0, 6.3));
            let placed: Vec<(f64, f64)> = stroke.iter().map(|&p| place(p)).collect();
            resample(&placed, rng)
                .into_iter()
                .map(|(x, y, along)| {
                    let x = x + shift.0 + wobble * (rate * along + phase.0).sin();
                    let y = y + shift.1 + wobble * (rate * along + phase.1).sin();
                    let x = (x + 0.5 * rng.normal()).round().clamp(0.0, width);
                    let y = (y + 0.5 * rng.normal()).round().clamp(0.0, height);
                    (x as f32, y as f32)
                })
                .collect()
        })
        .collect();
    Ink {
        width: width as f32,
        height: height as f32,
        strokes,
    }
}

/// The points a touchscreen reports along `line`: one every 3–9 px of the way (the finger's
/// speed changes), the first and the last always, each with how far along the line it is.
fn resample(line: &[(f64, f64)], rng: &mut Rng) -> Vec<(f64, f64, f64)> {
    let mut out = vec![(line[0].0, line[0].1, 0.0)];
    let mut travelled = 0.0;
    let mut next = rng.uniform(3.0, 9.0);
    for pair in line.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let length = (x1 - x0).hypot(y1 - y0);
        while next <= travelled + length && length > 0.0 {
            let t = (next - travelled) / length;
            out.push((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, next));
            next += rng.uniform(3.0, 9.0);
        }
        travelled += length;
    }
    let &(x, y) = line.last().expect("a stroke has points");
    out.push((x, y, travelled));
    out
}
