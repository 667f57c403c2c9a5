//! A zinnia binary model (version 1) and scoring against it.
//!
//! The file, all little-endian: a `u32` that is the file's size XOR `0x0EF71821`, the version
//! `u32` 1, the number of characters `u32`, then for each character its label (UTF-8 in 16
//! bytes, NUL-padded), its bias `f32`, and its weights as (`i32` feature number, `f32` weight)
//! pairs in increasing number, ended by the number -1. Nothing may follow the last character.
//!
//! A character's score is its bias plus the sum, in `f64` and in increasing feature number, of
//! the products (in `f32`) of its weights with the ink's features; the characters are ranked by
//! that score rounded to `f32`, ties broken as zinnia breaks them (the later in the file first).

use crate::features::{Feature, COUNT, MOVES};
use crate::{Candidate, MAX_STROKES};

/// The first word is this XOR the file's size (zinnia's `DIC_MAGIC_ID`).
const MAGIC: u32 = 0x0EF7_1821;
const VERSION: u32 = 1;
const LABEL_BYTES: usize = 16;

/// Bounded ink only ever has features below these numbers in each of the three ranges; a
/// model's weights elsewhere can never count and are not kept.
const STROKE_END: u32 = MAX_STROKES as u32 * 1000;
const MOVE_END: u32 = MOVES + STROKE_END;
const COUNT_END: u32 = COUNT + MAX_STROKES as u32 + 1;

/// A model that cannot be used, with what is wrong; the pad is then not offered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("no handwriting model was given")]
    NoModel,
    #[error("cannot read the handwriting model {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("the handwriting model {path} is not usable: {problem}")]
    InFile {
        path: String,
        problem: Box<ModelError>,
    },
    #[error("it is {size} bytes long, too short for a zinnia model")]
    TooShort { size: usize },
    #[error(
        "it is not a zinnia model, or not all of one: its first word does not match its size ({size} bytes)"
    )]
    NotAModel { size: usize },
    #[error("it is a zinnia model of version {0}; only version 1 is understood")]
    Version(u32),
    #[error("it lists no characters")]
    Empty,
    #[error("it is damaged at byte {offset} (character {character}): {problem}")]
    Damaged {
        offset: usize,
        character: usize,
        problem: &'static str,
    },
    #[error("it has {extra} bytes after its last character")]
    Trailing { extra: usize },
}

/// The parsed model: every character's bias, and the weights of all characters by feature: for
/// each slot of an ink's features ([`slot`]), which characters weigh it and how much. Scoring
/// then reads only the weights of the features the ink has (a few hundred of 128 000 slots), not
/// every weight of every character, and adds each character's products in the same order as
/// before, increasing feature number, so the sums are the same to the bit (a feature the ink does
/// not have added nothing but zeros).
pub(crate) struct Model {
    labels: Vec<Box<str>>,
    biases: Vec<f32>,
    /// Slot `s`'s weights are `starts[s]..starts[s + 1]` of `characters` and `weights`.
    starts: Vec<usize>,
    characters: Vec<u32>,
    weights: Vec<f32>,
}

/// Where feature `index` lives in the dense array of an ink's features, if bounded ink can have
/// it: the strokes' pieces, then the moves, then the stroke count.
fn slot(index: u32) -> Option<u32> {
    match index {
        0..STROKE_END => Some(index),
        MOVES..MOVE_END => Some(STROKE_END + (index - MOVES)),
        COUNT..COUNT_END => Some(2 * STROKE_END + (index - COUNT)),
        _ => None,
    }
}

const SLOTS: usize = 2 * STROKE_END as usize + MAX_STROKES + 1;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    character: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, problem: &'static str) -> Result<&[u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.damaged(problem));
        };
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn word(&mut self, problem: &'static str) -> Result<[u8; 4], ModelError> {
        let bytes = self.take(4, problem)?;
        Ok([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    fn damaged(&self, problem: &'static str) -> ModelError {
        ModelError::Damaged {
            offset: self.at,
            character: self.character,
            problem,
        }
    }
}

impl Model {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Model, ModelError> {
        let size = bytes.len();
        if size < 12 {
            return Err(ModelError::TooShort { size });
        }
        let mut r = Reader {
            bytes,
            at: 0,
            character: 0,
        };
        let magic = u32::from_le_bytes(r.word("")?);
        if u32::try_from(size) != Ok(magic ^ MAGIC) {
            return Err(ModelError::NotAModel { size });
        }
        let version = u32::from_le_bytes(r.word("")?);
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let count = u32::from_le_bytes(r.word("")?) as usize;
        if count == 0 {
            return Err(ModelError::Empty);
        }
        // Each character takes at least its label, its bias and the end mark.
        if count > (size - 12) / (LABEL_BYTES + 4 + 8) {
            return Err(r.damaged("it lists more characters than the file can hold"));
        }
        let mut labels: Vec<Box<str>> = Vec::with_capacity(count);
        let mut biases = Vec::with_capacity(count);
        // Checked first, and counted by slot; then read again into place.
        let mut per_slot = vec![0usize; SLOTS + 1];
        let mut weights_at = Vec::with_capacity(count);
        for character in 0..count {
            r.character = character;
            let mut raw = [0u8; LABEL_BYTES];
            raw.copy_from_slice(r.take(LABEL_BYTES, "the file ends inside a character's label")?);
            let Some(len) = raw.iter().position(|&b| b == 0) else {
                return Err(r.damaged("a label fills all 16 bytes with no NUL to end it"));
            };
            let label =
                std::str::from_utf8(&raw[..len]).map_err(|_| r.damaged("a label is not UTF-8"))?;
            if label.is_empty() {
                return Err(r.damaged("a label is empty"));
            }
            labels.push(label.into());
            let bias = f32::from_le_bytes(r.word("the file ends before a character's bias")?);
            if !bias.is_finite() {
                return Err(r.damaged("a bias is not a number"));
            }
            biases.push(bias);
            weights_at.push(r.at);
            let mut previous: i32 = -1;
            loop {
                let index =
                    i32::from_le_bytes(r.word("the file ends inside a character's weights")?);
                let weight =
                    f32::from_le_bytes(r.word("the file ends inside a character's weights")?);
                if index == -1 {
                    break;
                }
                if index <= previous {
                    return Err(r.damaged("the feature numbers are not increasing"));
                }
                if !weight.is_finite() {
                    return Err(r.damaged("a weight is not a number"));
                }
                previous = index;
                if let Some(slot) = slot(index as u32) {
                    per_slot[slot as usize + 1] += 1;
                }
            }
        }
        if r.at != size {
            return Err(ModelError::Trailing { extra: size - r.at });
        }
        let mut starts = per_slot;
        for s in 1..starts.len() {
            starts[s] += starts[s - 1];
        }
        let total = starts[SLOTS];
        let mut characters = vec![0u32; total];
        let mut weights = vec![0.0f32; total];
        let mut next = starts.clone();
        let word = |at: usize| [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        for (character, &from) in weights_at.iter().enumerate() {
            let mut at = from;
            loop {
                let index = i32::from_le_bytes(word(at));
                if index == -1 {
                    break;
                }
                if let Some(slot) = slot(index as u32) {
                    let i = &mut next[slot as usize];
                    characters[*i] = character as u32;
                    weights[*i] = f32::from_le_bytes(word(at + 4));
                    *i += 1;
                }
                at += 8;
            }
        }
        Ok(Model {
            labels,
            biases,
            starts,
            characters,
            weights,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    pub(crate) fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|l| &**l)
    }

    pub(crate) fn label(&self, character: usize) -> &str {
        &self.labels[character]
    }

    /// The `limit` best characters for these features (sorted by number, as `extract` gives),
    /// best first, as zinnia ranks them.
    pub(crate) fn rank(&self, features: &[Feature], limit: usize) -> Vec<Candidate> {
        self.best(features, limit, None)
            .into_iter()
            .map(|(score, c)| Candidate {
                character: self.labels[c].to_string(),
                score,
            })
            .collect()
    }

    /// The `limit` best characters' scores and numbers, best first; with `only`, of the
    /// characters it marks alone (the others are not scored).
    pub(crate) fn best(
        &self,
        features: &[Feature],
        limit: usize,
        only: Option<&[bool]>,
    ) -> Vec<(f32, usize)> {
        let mut sums = vec![0.0f64; self.len()];
        let mut previous = None;
        for f in features {
            // Of two features with one number only the first counts (see `features::extract`).
            if previous == Some(f.index) {
                continue;
            }
            previous = Some(f.index);
            let Some(slot) = slot(f.index) else {
                continue;
            };
            let range = self.starts[slot as usize]..self.starts[slot as usize + 1];
            for (&c, &weight) in self.characters[range.clone()]
                .iter()
                .zip(&self.weights[range])
            {
                sums[c as usize] += f64::from(weight * f.value);
            }
        }
        let mut scores: Vec<(f32, usize)> = (0..self.len())
            .filter(|&c| only.is_none_or(|only| only[c]))
            .map(|c| ((f64::from(self.biases[c]) + sums[c]) as f32, c))
            .collect();
        let best_first =
            |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1));
        let limit = limit.min(scores.len());
        if limit == 0 {
            return Vec::new();
        }
        if limit < scores.len() {
            scores.select_nth_unstable_by(limit - 1, best_first);
            scores.truncate(limit);
        }
        scores.sort_unstable_by(best_first);
        scores
    }
}

/// The character count only: the weights are millions.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("characters", &self.len())
            .finish_non_exhaustive()
    }
}
