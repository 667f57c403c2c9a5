//! Handwriting recognition for the writing pad (手写): the strokes of one character in, the
//! characters it may be out, best first.
//!
//! At its heart is zinnia's classifier (Taku Kudo's online handwriting recogniser, BSD) written
//! again in Rust from how it works: each stroke is cut recursively at the point farthest from the
//! line between its ends, every piece (and every pen move between strokes) becomes twelve numbers
//! (length, direction, where it starts and ends), and each character of the model is a linear
//! SVM over those numbers. The model is a zinnia binary model file; the kiosk uses Debian's
//! `tegaki-zinnia-simplified-chinese` ([`DEFAULT_MODEL`], the 6 763 characters of GB 2312, LGPL)
//! and, as a second opinion, `tegaki-zinnia-japanese` ([`JAPANESE_MODEL`]).
//! [`Recognizer::zinnia`] is one model's answer alone, which `scripts/check-handwriting` checks
//! is libzinnia's own; `docs/handwriting.md` says why it is written again rather than linked.
//!
//! Around it, [`Recognizer::classify`] does what a finger on the kiosk's pad needs and zinnia
//! does not: the ink is put on a square pad around itself (the kiosk's pad is wide, and residents
//! write anywhere on it), the few stroke orders the Chinese model's writers used for 辶, 廴 and 匚
//! are tried as well as the one written, and the answers of these orders and of the other
//! models are merged by rank (`prepare`, and below).
//!
//! Pure: [`Recognizer::from_bytes`] parses a model's bytes and [`Recognizer::classify`]
//! answers with no I/O, no clock and no threads of its own; [`load`] is the one function that
//! touches a file (one model; [`Recognizer::with`] adds another as a second opinion, and
//! [`load_all`] does both). Loading takes a while (26 MB a model), so the kiosk loads once, on a
//! thread of its own: a [`Recognizer`] is `Send + Sync` and immutable once loaded. A missing or
//! damaged model is refused whole with the file and what is wrong ([`ModelError`]); the pad then
//! is not offered.
//!
//! The ink is bounded ([`MAX_STROKES`], [`MAX_POINTS`]) and checked ([`InkError`]), so nothing a
//! finger or a caller sends can make classification slow or its scores meaningless.

mod features;
mod model;
mod prepare;

use std::collections::HashMap;
use std::path::Path;

pub use model::ModelError;

/// Where Debian's `tegaki-zinnia-simplified-chinese` installs its model.
pub const DEFAULT_MODEL: &str = "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model";

/// Where Debian's `tegaki-zinnia-japanese` installs its model: kanji as Japanese writers write
/// them, many the same as simplified Chinese characters (道 通 建 安 水 女 …). The kiosk's
/// second opinion.
pub const JAPANESE_MODEL: &str = "/usr/share/tegaki/models/zinnia/handwriting-ja.model";

/// The models the kiosk recognises with, the first first ([`load_all`]).
pub const DEFAULT_MODELS: [&str; 2] = [DEFAULT_MODEL, JAPANESE_MODEL];

/// The most strokes one character may have (the most complex in GB 2312 has 36).
pub const MAX_STROKES: usize = 64;

/// The most points one character's strokes may have together (a finger sampled at 120 Hz for a
/// minute).
pub const MAX_POINTS: usize = 8192;

/// One character as drawn on the pad: strokes of points in the pad's coordinates, x to the right
/// and y downward, `(0, 0)` the pad's top left corner.
#[derive(Debug, Clone, PartialEq)]
pub struct Ink {
    /// The pad's width, in the points' unit.
    pub width: f32,
    /// The pad's height, in the points' unit.
    pub height: f32,
    /// The strokes in the order they were drawn, each its points in the order the finger went.
    pub strokes: Vec<Vec<(f32, f32)>>,
}

/// Ink the recogniser refuses, with what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InkError {
    #[error("the pad's size must be positive, not {width} × {height}")]
    BadSize { width: f32, height: f32 },
    #[error("there are no strokes: draw a character first")]
    NoStrokes,
    #[error("stroke {stroke} has no points")]
    EmptyStroke { stroke: usize },
    #[error("stroke {stroke}, point {point} is not a number")]
    NotANumber { stroke: usize, point: usize },
    #[error(
        "stroke {stroke}, point {point} ({x}, {y}) lies more than a pad's size outside the {width} × {height} pad"
    )]
    OffThePad {
        stroke: usize,
        point: usize,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
    #[error("{count} strokes are too many for one character (at most {MAX_STROKES})")]
    TooManyStrokes { count: usize },
    #[error("{count} points are too many for one character (at most {MAX_POINTS})")]
    TooManyPoints { count: usize },
}

impl Ink {
    /// Checks the ink against the bounds and the pad; [`Recognizer::classify`] calls it first.
    pub fn check(&self) -> Result<(), InkError> {
        let (width, height) = (self.width, self.height);
        if !(width > 0.0 && height > 0.0 && width.is_finite() && height.is_finite()) {
            return Err(InkError::BadSize { width, height });
        }
        if self.strokes.is_empty() {
            return Err(InkError::NoStrokes);
        }
        if self.strokes.len() > MAX_STROKES {
            return Err(InkError::TooManyStrokes {
                count: self.strokes.len(),
            });
        }
        let count: usize = self.strokes.iter().map(Vec::len).sum();
        if count > MAX_POINTS {
            return Err(InkError::TooManyPoints { count });
        }
        for (stroke, points) in self.strokes.iter().enumerate() {
            if points.is_empty() {
                return Err(InkError::EmptyStroke { stroke });
            }
            for (point, &(x, y)) in points.iter().enumerate() {
                if !(x.is_finite() && y.is_finite()) {
                    return Err(InkError::NotANumber { stroke, point });
                }
                if x < -width || x > 2.0 * width || y < -height || y > 2.0 * height {
                    return Err(InkError::OffThePad {
                        stroke,
                        point,
                        x,
                        y,
                        width,
                        height,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A character the ink may be, with its score (higher is likelier; the scores of one answer
/// compare with each other, not across answers).
///
/// From [`Recognizer::zinnia`] the score is the model's, zinnia's own. From
/// [`Recognizer::classify`] it is the merged ranks: the sum, over the lists the answer merges, of
/// the list's weight over one plus the character's place in it (a character first in the
/// Chinese model's list alone scores 0.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The character (in these models always one).
    pub character: String,
    pub score: f32,
}

/// How far down each list the merge looks, whatever the number of candidates asked for (so
/// that the first five are the same whether five or twenty are asked for). Past the merged,
/// the first model's list goes on, with score 0.
const DEPTH: usize = 50;

/// The merge: a list's `n`-th candidate (from 1) adds `weight / (RANK_OFFSET + n)`. With 1, the
/// places and weights decide alone: the first of a list of weight ½ ties with the third of a
/// list of weight 1 (and goes before it, from the better place).
const RANK_OFFSET: f64 = 1.0;

/// The weight of the first model's lists (the ink as written, and in the other stroke orders).
const FIRST_WEIGHT: f64 = 1.0;

/// The weight of a second opinion's list: its first goes third unless the first model's lists
/// agree with it (then higher); it fills the lower places and never overrules the first model's
/// first alone.
const SECOND_WEIGHT: f64 = 0.5;

/// Loaded models: zinnia's classifier for every character they know.
#[derive(Debug)]
pub struct Recognizer {
    /// The first model: its characters are the answers.
    first: model::Model,
    /// Second opinions: other models, each asked about the characters the first knows alone.
    others: Vec<Opinion>,
}

/// A second opinion's model, with what its characters are to the first model.
struct Opinion {
    model: model::Model,
    /// Whether the first model knows each of this model's characters.
    shared: Vec<bool>,
    /// The first model's number for each of this model's characters it knows.
    first: Vec<usize>,
}

/// The model only: the rest is a number for each of its characters.
impl std::fmt::Debug for Opinion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opinion")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Recognizer {
    /// Parses a zinnia binary model (version 1). A damaged model is refused whole.
    pub fn from_bytes(bytes: &[u8]) -> Result<Recognizer, ModelError> {
        Ok(Recognizer {
            first: model::Model::parse(bytes)?,
            others: Vec::new(),
        })
    }

    /// This recogniser with `other`'s models as second opinions: [`Recognizer::classify`] asks
    /// them too, about the characters this recogniser's first model knows (the answers stay
    /// that model's characters), and merges their lists with a lower weight.
    pub fn with(mut self, other: Recognizer) -> Recognizer {
        let numbers: HashMap<&str, usize> = self
            .first
            .labels()
            .enumerate()
            .map(|(n, label)| (label, n))
            .collect();
        for model in std::iter::once(other.first).chain(other.others.into_iter().map(|o| o.model)) {
            let found: Vec<Option<usize>> = model
                .labels()
                .map(|label| numbers.get(label).copied())
                .collect();
            self.others.push(Opinion {
                shared: found.iter().map(Option::is_some).collect(),
                first: found.into_iter().map(|n| n.unwrap_or(usize::MAX)).collect(),
                model,
            });
        }
        self
    }

    /// How many characters the first model knows (the answers are among them).
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// Whether the first model knows no character (a parsed model never is).
    pub fn is_empty(&self) -> bool {
        self.first.len() == 0
    }

    /// How many models answer: the first and its second opinions.
    pub fn models(&self) -> usize {
        1 + self.others.len()
    }

    /// Whether the first model knows `character`.
    pub fn knows(&self, character: &str) -> bool {
        self.first.labels().any(|label| label == character)
    }

    /// The `limit` characters the ink most likely is, best first: what the writing pad offers.
    ///
    /// The ink goes on a square pad around itself (`prepare`); the first model ranks it as
    /// written and, if its last strokes form 辶, 廴 or 匚's frame, as its writers would have
    /// ordered them; each second opinion ranks it too. The lists are merged by rank (each
    /// character scores the sum of `weight / (1 + place)` over the lists, [`Candidate`]), a tie
    /// going to the better place (at one place, to the first model's lists): zinnia's scores do
    /// not compare across models or stroke orders, its ranks do.
    pub fn classify(&self, ink: &Ink, limit: usize) -> Result<Vec<Candidate>, InkError> {
        ink.check()?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let ink = prepare::square(ink);
        let features = features::extract(&ink);
        let ranked = |features: &[features::Feature], depth: usize| -> Vec<usize> {
            let best = self.first.best(features, depth, None);
            best.into_iter().map(|(_, c)| c).collect()
        };
        // The first list goes on past the merge, for a caller who wants more candidates.
        let mut written = ranked(&features, limit.max(DEPTH));
        let beyond = written.split_off(written.len().min(DEPTH));
        let mut lists: Vec<(f64, Vec<usize>)> = vec![(FIRST_WEIGHT, written)];
        for other in prepare::other_orders(&ink) {
            lists.push((FIRST_WEIGHT, ranked(&features::extract(&other), DEPTH)));
        }
        for opinion in &self.others {
            let best = opinion.model.best(&features, DEPTH, Some(&opinion.shared));
            let list = best.into_iter().map(|(_, c)| opinion.first[c]).collect();
            lists.push((SECOND_WEIGHT, list));
        }
        let mut answer = merge(&lists, limit);
        for c in beyond {
            if answer.len() == limit {
                break;
            }
            if !answer.iter().any(|&(a, _)| a == c) {
                answer.push((c, 0.0));
            }
        }
        Ok(answer
            .into_iter()
            .map(|(c, score)| Candidate {
                character: self.first.label(c).to_string(),
                score: score as f32,
            })
            .collect())
    }

    /// The first model's own answer for the ink exactly as given (no square pad, no other
    /// orders, no second opinion): zinnia's answer for the same strokes on the same pad, score
    /// for score. For checking against libzinnia, and for seeing what the model alone says.
    pub fn zinnia(&self, ink: &Ink, limit: usize) -> Result<Vec<Candidate>, InkError> {
        ink.check()?;
        let features = features::extract(ink);
        Ok(self.first.rank(&features, limit))
    }
}

/// Merges ranked lists of character numbers: each character scores the sum of
/// `weight / (RANK_OFFSET + place)` (place from 1) over the lists it is in; the `limit` best, ties
/// in the order met reading the lists place by place (all lists' firsts, in their order, then
/// their seconds …).
fn merge(lists: &[(f64, Vec<usize>)], limit: usize) -> Vec<(usize, f64)> {
    let mut merged: Vec<(usize, f64)> = Vec::new();
    let mut at: HashMap<usize, usize> = HashMap::new();
    let longest = lists.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for place in 0..longest {
        for (weight, list) in lists {
            let Some(&c) = list.get(place) else {
                continue;
            };
            let add = weight / (RANK_OFFSET + place as f64 + 1.0);
            match at.get(&c) {
                Some(&i) => merged[i].1 += add,
                None => {
                    at.insert(c, merged.len());
                    merged.push((c, add));
                }
            }
        }
    }
    // Stable: equal scores keep the order met.
    merged.sort_by(|a, b| b.1.total_cmp(&a.1));
    merged.truncate(limit);
    merged
}

/// Reads and parses the model file at `path` (for the kiosk, [`DEFAULT_MODEL`]).
pub fn load(path: &Path) -> Result<Recognizer, ModelError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ModelError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    Recognizer::from_bytes(&bytes).map_err(|problem| ModelError::InFile {
        path: shown,
        problem: Box::new(problem),
    })
}

/// Loads each model file ([`load`]), the first as the first model and the others as its second
/// opinions ([`Recognizer::with`]); for the kiosk, [`DEFAULT_MODELS`]. Any one missing or damaged
/// refuses them all.
pub fn load_all<P: AsRef<Path>>(paths: &[P]) -> Result<Recognizer, ModelError> {
    let (first, others) = paths.split_first().ok_or(ModelError::NoModel)?;
    let mut recognizer = load(first.as_ref())?;
    for path in others {
        recognizer = recognizer.with(load(path.as_ref())?);
    }
    Ok(recognizer)
}

#[cfg(test)]
mod tests;
