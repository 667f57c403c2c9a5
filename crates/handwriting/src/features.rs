//! Zinnia's features of one character: what the model's weights multiply.
//!
//! The pad is scaled to the unit square. Each stroke is cut recursively: a piece whose farthest
//! point from the line between its ends lies far enough (squared distance over squared length
//! above 0.001) is cut there into two pieces, numbered as a binary tree (piece `i` into `2i + 1`
//! and `2i + 2`). Each piece up to number 50, and each pen move from one stroke's end to the
//! next stroke's start, gives twelve numbers ([`basic`]). Then the number of strokes, twice.
//!
//! The arithmetic is zinnia's to the rounding: the same operations in `f32` where it computes in
//! `float` and in `f64` where C++ promotes to `double`, so that the scores are libzinnia's (on
//! x86-64: where a C compiler fuses multiply and add, as on arm64, libzinnia itself rounds
//! differently in the last bit).

use crate::Ink;

/// Pieces of a stroke numbered above this are not features (zinnia's `kMaxCharacterSize`).
const MAX_PIECE: usize = 50;

/// A piece is cut when its squared distance ratio exceeds this.
const CUT: f32 = 0.001;

/// Feature numbers: stroke `s`'s piece `i` starts at `s * 1000 + 20 * i`, the move into stroke `s`
/// at `MOVES + s * 1000`, the stroke count at `COUNT`.
pub(crate) const MOVES: u32 = 100_000;
pub(crate) const COUNT: u32 = 2_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: f32,
    y: f32,
}

/// One feature: its number in the model and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Feature {
    pub(crate) index: u32,
    pub(crate) value: f32,
}

/// The features of checked ink, sorted by number. When two share a number (a stroke's piece 50
/// and the next stroke's piece 0) the first stays first; the model uses only that one.
pub(crate) fn extract(ink: &Ink) -> Vec<Feature> {
    let (width, height) = (f64::from(ink.width), f64::from(ink.height));
    let strokes: Vec<Vec<Point>> = ink
        .strokes
        .iter()
        .map(|stroke| {
            stroke
                .iter()
                .map(|&(x, y)| Point {
                    x: (f64::from(x) / width) as f32,
                    y: (f64::from(y) / height) as f32,
                })
                .collect()
        })
        .collect();

    let mut features = vec![Feature {
        index: 0,
        value: 1.0,
    }];
    let mut previous_end: Option<Point> = None;
    for (s, stroke) in strokes.iter().enumerate() {
        let s = s as u32;
        let mut pieces = vec![None; MAX_PIECE + 1];
        cut(stroke, 0, stroke.len() - 1, 0, &mut pieces);
        for (i, piece) in pieces.iter().enumerate() {
            if let Some((first, last)) = *piece {
                basic(s * 1000 + 20 * i as u32, first, last, &mut features);
            }
        }
        if let Some(end) = previous_end {
            basic(MOVES + s * 1000, end, stroke[0], &mut features);
        }
        previous_end = stroke.last().copied();
    }
    let count = strokes.len() as u32;
    features.push(Feature {
        index: COUNT,
        value: count as f32,
    });
    features.push(Feature {
        index: COUNT + count,
        value: 10.0,
    });
    features.sort_by_key(|f| f.index);
    features
}

/// Records piece `id` (points `first..=last` of `stroke`) and cuts it further. A piece numbered
/// above [`MAX_PIECE`] is not recorded, and neither is anything cut from it (its pieces' numbers
/// are larger still), so the recursion is at most six deep.
fn cut(
    stroke: &[Point],
    first: usize,
    last: usize,
    id: usize,
    pieces: &mut [Option<(Point, Point)>],
) {
    if id > MAX_PIECE {
        return;
    }
    pieces[id] = Some((stroke[first], stroke[last]));
    if let Some((farthest, ratio)) = farthest(stroke, first, last) {
        if ratio > CUT {
            cut(stroke, first, farthest, id * 2 + 1, pieces);
            cut(stroke, farthest, last, id * 2 + 2, pieces);
        }
    }
}

/// The point of `first..last` (the last excluded) farthest from the line through the two ends,
/// and its squared distance over the squared length; none for a piece of one point.
fn farthest(stroke: &[Point], first: usize, last: usize) -> Option<(usize, f32)> {
    if first == last {
        return None;
    }
    let (f, l) = (stroke[first], stroke[last]);
    let a = l.x - f.x;
    let b = l.y - f.y;
    let c = l.y * f.x - l.x * f.y;
    let mut max = -1.0f32;
    let mut best = first;
    for (n, p) in stroke.iter().enumerate().take(last).skip(first) {
        let distance = ((a * p.y) - (b * p.x) + c).abs();
        if distance > max {
            max = distance;
            best = n;
        }
    }
    // Two ends on the same spot give 0/0: not a number, never above the threshold, as in zinnia.
    Some((best, max * max / (a * a + b * b)))
}

/// The twelve numbers of a piece or a move from `first` to `last`, numbered from `offset + 1`.
fn basic(offset: u32, first: Point, last: Point, features: &mut Vec<Feature>) {
    let mut add = |n: u32, value: f32| {
        features.push(Feature {
            index: offset + n,
            value,
        })
    };
    let centre = |v: f32| f64::from(v) - 0.5;
    add(1, 10.0 * distance(first, last));
    add(2, (last.y - first.y).atan2(last.x - first.x));
    add(3, (10.0 * centre(first.x)) as f32);
    add(4, (10.0 * centre(first.y)) as f32);
    add(5, (10.0 * centre(last.x)) as f32);
    add(6, (10.0 * centre(last.y)) as f32);
    add(7, centre(first.y).atan2(centre(first.x)) as f32);
    add(8, centre(last.y).atan2(centre(last.x)) as f32);
    add(9, 10.0 * from_centre(first));
    add(10, 10.0 * from_centre(last));
    add(11, 5.0 * (last.x - first.x));
    add(12, 5.0 * (last.y - first.y));
}

fn distance(a: Point, b: Point) -> f32 {
    let x = a.x - b.x;
    let y = a.y - b.y;
    (x * x + y * y).sqrt()
}

fn from_centre(p: Point) -> f32 {
    let x = (f64::from(p.x) - 0.5) as f32;
    let y = (f64::from(p.y) - 0.5) as f32;
    (x * x + y * y).sqrt()
}
