//! Handwriting recognition for the writing pad (手写): the strokes of one character in, the
//! characters it may be out, best first.
//!
//! This is zinnia's classifier (Taku Kudo's online handwriting recogniser, BSD) written again in
//! Rust from how it works: each stroke is cut recursively at the point farthest from the line
//! between its ends, every piece (and every pen move between strokes) becomes twelve numbers
//! (length, direction, where it starts and ends), and each character of the model is a linear
//! SVM over those numbers. The model is a zinnia binary model file; the kiosk uses Debian's
//! `tegaki-zinnia-simplified-chinese` ([`DEFAULT_MODEL`], the 6 763 characters of GB 2312, LGPL).
//! `scripts/check-handwriting` checks that the answers are libzinnia's own; `docs/handwriting.md`
//! says why it is written again rather than linked.
//!
//! Pure: [`Recognizer::from_bytes`] parses the model's bytes and [`Recognizer::classify`]
//! answers with no I/O, no clock and no threads of its own; [`load`] is the one function that
//! touches a file. Loading takes a while (a 26 MB file), so the kiosk loads it once on a thread of
//! its own: a [`Recognizer`] is `Send + Sync` and immutable once loaded. A missing or damaged model
//! is refused whole with the file and what is wrong ([`ModelError`]); the pad then is not offered.
//!
//! The ink is bounded ([`MAX_STROKES`], [`MAX_POINTS`]) and checked ([`InkError`]), so nothing a
//! finger or a caller sends can make classification slow or its scores meaningless.

mod features;
mod model;

use std::path::Path;

pub use model::ModelError;

/// Where Debian's `tegaki-zinnia-simplified-chinese` installs its model.
pub const DEFAULT_MODEL: &str = "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model";

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

/// A character the ink may be, with the model's score for it (higher is likelier; the scores of
/// one answer compare with each other, not across answers).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The character (in this model always one).
    pub character: String,
    pub score: f32,
}

/// A loaded model: zinnia's classifier for every character the model knows.
#[derive(Debug)]
pub struct Recognizer {
    model: model::Model,
}

impl Recognizer {
    /// Parses a zinnia binary model (version 1). A damaged model is refused whole.
    pub fn from_bytes(bytes: &[u8]) -> Result<Recognizer, ModelError> {
        Ok(Recognizer {
            model: model::Model::parse(bytes)?,
        })
    }

    /// How many characters the model knows.
    pub fn len(&self) -> usize {
        self.model.len()
    }

    /// Whether the model knows no character (a parsed model never is).
    pub fn is_empty(&self) -> bool {
        self.model.len() == 0
    }

    /// Whether the model knows `character`.
    pub fn knows(&self, character: &str) -> bool {
        self.model.labels().any(|label| label == character)
    }

    /// The `limit` characters the ink most likely is, best first: zinnia's answer for the same
    /// strokes on the same pad, score for score.
    pub fn classify(&self, ink: &Ink, limit: usize) -> Result<Vec<Candidate>, InkError> {
        ink.check()?;
        let features = features::extract(ink);
        Ok(self.model.rank(&features, limit))
    }
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

#[cfg(test)]
mod tests;
