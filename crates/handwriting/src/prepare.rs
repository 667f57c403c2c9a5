//! What the recogniser does to ink before a model sees it, which zinnia itself does not: the
//! pad made square around the character, and the few other stroke orders the Chinese model's
//! writers used for some components.
//!
//! **The square pad.** Zinnia measures x as a share of the pad's width and y as a share of its
//! height, and the models were trained on square pads. The kiosk's pad is not square (it takes the
//! letters' place: two to three times as wide as it is high), so the same character would reach
//! the model squeezed, and shifted by wherever along the pad it was written. The ink is given to
//! the model on a square pad as high as the real one (or as large as the ink, if larger), placed
//! across the real one around the ink: its shape, its size and its height on the pad stay.
//!
//! **Other stroke orders.** Debian's Chinese model was trained on writing that puts an enclosure
//! along the left and the bottom before what it encloses, where the national standard (and the
//! residents, and our test set) write it last: 辶 and 廴 (过 in standard order is the model's
//! 6 461st guess, its first with 辶 first) and 匚's 竖折 (区 医 匣: the frame closed before the
//! inside). So when the last strokes lie the way such an enclosure does, the ink is also tried
//! with them where those writers put them. The answers are merged by rank
//! ([`crate::Recognizer::classify`]), never by score: zinnia's scores for different stroke
//! orders do not compare.

use crate::Ink;

/// The ink on a square pad: as large as the real pad's shorter side (or the ink, if larger);
/// along the pad's longer side placed around the ink, its box centred; along the shorter side the
/// pad itself, so that where the resident wrote relative to the cross stays.
pub(crate) fn square(ink: &Ink) -> Ink {
    let b = Box::of(ink.strokes.iter().flatten());
    let side = ink.width.min(ink.height).max(b.width()).max(b.height());
    // Along a side that is not the square's own: the ink's box centred.
    let centre = |pad: f32, low: f32, high: f32| {
        if pad != side {
            side / 2.0 - (low + high) / 2.0
        } else {
            0.0
        }
    };
    let (dx, dy) = (
        centre(ink.width, b.x0, b.x1),
        centre(ink.height, b.y0, b.y1),
    );
    Ink {
        width: side,
        height: side,
        strokes: ink
            .strokes
            .iter()
            .map(|s| s.iter().map(|&(x, y)| (x + dx, y + dy)).collect())
            .collect(),
    }
}

/// The ink in the other stroke orders worth trying (none for most ink): its last strokes moved to
/// where the model's writers put them when they form an enclosure along the left and the bottom.
pub(crate) fn other_orders(ink: &Ink) -> Vec<Ink> {
    let mut strokes = ink.strokes.clone();
    if let Some(count) = walk_last(ink) {
        // 辶 or 廴 first.
        strokes.rotate_right(count);
    } else if frame_last(ink) {
        // 匚's 竖折 right after its top stroke.
        let frame = strokes.pop().expect("frame_last saw strokes");
        strokes.insert(1, frame);
    } else {
        return Vec::new();
    }
    vec![Ink {
        strokes,
        ..ink.clone()
    }]
}

/// A bounding box.
#[derive(Debug, Clone, Copy)]
struct Box {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
}

impl Box {
    fn of<'a>(points: impl IntoIterator<Item = &'a (f32, f32)>) -> Box {
        let mut b = Box {
            x0: f32::INFINITY,
            y0: f32::INFINITY,
            x1: f32::NEG_INFINITY,
            y1: f32::NEG_INFINITY,
        };
        for &(x, y) in points {
            b.x0 = b.x0.min(x);
            b.y0 = b.y0.min(y);
            b.x1 = b.x1.max(x);
            b.y1 = b.y1.max(y);
        }
        b
    }

    fn width(&self) -> f32 {
        self.x1 - self.x0
    }

    fn height(&self) -> f32 {
        self.y1 - self.y0
    }
}

/// Positions as shares of the whole ink's box (0 left or top, 1 right or bottom).
struct Frame(Box);

impl Frame {
    /// None for ink with no width or no height, where nothing lies along two edges.
    fn of(ink: &Ink) -> Option<Frame> {
        let b = Box::of(ink.strokes.iter().flatten());
        (b.width() > 0.0 && b.height() > 0.0).then_some(Frame(b))
    }

    fn x(&self, x: f32) -> f32 {
        (x - self.0.x0) / self.0.width()
    }

    fn y(&self, y: f32) -> f32 {
        (y - self.0.y0) / self.0.height()
    }
}

/// How many last strokes are 辶 (3: the dot, the bend down the left side, the sweep along the
/// bottom) or 廴 (2: the bend and the sweep), if they are; other ink must come before them.
fn walk_last(ink: &Ink) -> Option<usize> {
    let n = ink.strokes.len();
    if n < 3 {
        return None;
    }
    let f = Frame::of(ink)?;
    let sweep = &ink.strokes[n - 1];
    let (start, end) = (sweep[0], sweep[sweep.len() - 1]);
    // The sweep: from the left half's lower part to the bottom right corner.
    let sweeps = f.x(start.0) < 0.4 && f.y(start.1) > 0.45 && f.x(end.0) > 0.75 && f.y(end.1) > 0.7;
    // The bend: in the left part, from high to low.
    let bend = Box::of(&ink.strokes[n - 2]);
    let bends = f.x(bend.x1) < 0.45 && f.y(bend.y1) > 0.6 && bend.height() > 0.3 * f.0.height();
    if !(sweeps && bends) {
        return None;
    }
    // The dot: small, in the left part, above the bend; with something beside it.
    let dot = Box::of(&ink.strokes[n - 3]);
    let dotted = n >= 4
        && f.x(dot.x1) < 0.4
        && dot.y1 <= bend.y0 + 0.25 * f.0.height()
        && dot.width() < 0.3 * f.0.width()
        && dot.height() < 0.3 * f.0.height();
    Some(if dotted { 3 } else { 2 })
}

/// Whether the last stroke is 匚's 竖折: from the top left corner down the left side and along
/// the bottom to the right.
fn frame_last(ink: &Ink) -> bool {
    let n = ink.strokes.len();
    let Some(f) = Frame::of(ink) else {
        return false;
    };
    let last = &ink.strokes[n - 1];
    let (start, end) = (last[0], last[last.len() - 1]);
    n >= 3
        && f.x(start.0) < 0.25
        && f.y(start.1) < 0.3
        && f.x(end.0) > 0.7
        && f.y(end.1) > 0.75
        && last.iter().any(|&(x, y)| f.x(x) < 0.25 && f.y(y) > 0.75)
}
