//! The recogniser's refusals: damaged models and bad ink, each with what is wrong.

use super::*;

/// A character of a test model: its label, its bias and its (feature number, weight) pairs.
type Character<'a> = (&'a str, f32, &'a [(i32, f32)]);

/// A zinnia model file of these characters.
fn model_bytes(characters: &[Character]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(1u32.to_le_bytes());
    body.extend((characters.len() as u32).to_le_bytes());
    for (label, bias, weights) in characters {
        let mut raw = [0u8; 16];
        raw[..label.len()].copy_from_slice(label.as_bytes());
        body.extend(raw);
        body.extend(bias.to_le_bytes());
        for (index, weight) in *weights {
            body.extend(index.to_le_bytes());
            body.extend(weight.to_le_bytes());
        }
        body.extend((-1i32).to_le_bytes());
        body.extend(0f32.to_le_bytes());
    }
    with_magic(body)
}

fn with_magic(body: Vec<u8>) -> Vec<u8> {
    let size = body.len() as u32 + 4;
    let mut bytes = (size ^ 0x0EF7_1821).to_le_bytes().to_vec();
    bytes.extend(body);
    bytes
}

fn ink(strokes: Vec<Vec<(f32, f32)>>) -> Ink {
    Ink {
        width: 100.0,
        height: 100.0,
        strokes,
    }
}

fn horizontal() -> Ink {
    ink(vec![vec![(10.0, 50.0), (90.0, 50.0)]])
}

fn vertical() -> Ink {
    ink(vec![vec![(50.0, 10.0), (50.0, 90.0)]])
}

/// 一 weighs the first piece's direction against 丨: a horizontal stroke (angle 0) is 一, a
/// vertical one (angle π/2) is 丨.
fn two_characters() -> Recognizer {
    Recognizer::from_bytes(&model_bytes(&[
        ("一", 0.5, &[(2, -1.0)]),
        ("丨", 0.0, &[(2, 1.0)]),
    ]))
    .unwrap()
}

#[test]
fn a_small_model_ranks_by_its_weights() {
    let r = two_characters();
    assert_eq!(r.len(), 2);
    assert!(r.knows("一") && !r.knows("二"));
    let one = r.classify(&horizontal(), 2).unwrap();
    assert_eq!(one[0].character, "一");
    assert_eq!(one[0].score, 0.5);
    assert_eq!(one[1].score, 0.0);
    let shu = r.classify(&vertical(), 5).unwrap();
    assert_eq!(shu.len(), 2, "no more candidates than characters");
    assert_eq!(shu[0].character, "丨");
    assert!((shu[0].score - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
    assert!(r.classify(&vertical(), 0).unwrap().is_empty());
}

#[test]
fn equal_scores_put_the_later_character_first_as_zinnia_does() {
    let r = Recognizer::from_bytes(&model_bytes(&[("甲", 1.0, &[]), ("乙", 1.0, &[])])).unwrap();
    let ranked = r.classify(&horizontal(), 2).unwrap();
    assert_eq!(ranked[0].character, "乙");
    assert_eq!(ranked[1].character, "甲");
}

#[test]
fn the_stroke_count_and_the_moves_between_strokes_count() {
    // Weights on "two strokes" and on the move's length into stroke 1.
    let r = Recognizer::from_bytes(&model_bytes(&[
        ("二", 0.0, &[(101_001, 1.0), (2_000_002, 1.0)]),
        ("一", 0.0, &[(2_000_001, 1.0)]),
    ]))
    .unwrap();
    let two = ink(vec![
        vec![(20.0, 30.0), (80.0, 30.0)],
        vec![(10.0, 70.0), (90.0, 70.0)],
    ]);
    let ranked = r.classify(&two, 2).unwrap();
    assert_eq!(ranked[0].character, "二");
    // 10 for the count, plus 10 × the move's length: from (0.8, 0.3) to (0.1, 0.7).
    let expected = 10.0 + 10.0 * (0.7f32 * 0.7 + 0.4 * 0.4).sqrt();
    assert!(
        (ranked[0].score - expected).abs() < 1e-5,
        "{}",
        ranked[0].score
    );
    assert_eq!(r.classify(&horizontal(), 1).unwrap()[0].character, "一");
}

#[test]
fn a_bent_stroke_is_cut_at_its_corner() {
    // Weight on piece 1's length (feature 20 + 1): only a stroke that is cut has a piece 1.
    let r = Recognizer::from_bytes(&model_bytes(&[("乚", 0.0, &[(21, 1.0)]), ("一", 0.1, &[])]))
        .unwrap();
    let bent = ink(vec![vec![(20.0, 10.0), (20.0, 80.0), (90.0, 80.0)]]);
    let ranked = r.classify(&bent, 2).unwrap();
    assert_eq!(ranked[0].character, "乚");
    // Piece 1 runs from the start to the corner: 10 × 0.7.
    assert!((ranked[0].score - 7.0).abs() < 1e-5, "{ranked:?}");
    let straight = r.classify(&horizontal(), 2).unwrap();
    assert_eq!(straight[0].character, "一", "{straight:?}");
}

#[test]
fn a_model_missing_from_disk_names_its_file() {
    let err = load(Path::new("/nonexistent/handwriting-zh_CN.model")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ModelError::Unreadable { .. }), "{err:?}");
    assert!(
        text.contains("/nonexistent/handwriting-zh_CN.model"),
        "{text}"
    );
}

#[test]
fn a_short_or_foreign_file_is_not_a_model() {
    assert_eq!(
        Recognizer::from_bytes(b"zinnia").unwrap_err(),
        ModelError::TooShort { size: 6 }
    );
    let text = b"this is a text file, not a model".to_vec();
    assert_eq!(
        Recognizer::from_bytes(&text).unwrap_err(),
        ModelError::NotAModel { size: text.len() }
    );
}

#[test]
fn a_truncated_model_is_refused_not_half_loaded() {
    let whole = model_bytes(&[("一", 0.5, &[(2, -1.0)]), ("丨", 0.0, &[(2, 1.0)])]);
    let cut = whole[4..whole.len() - 12].to_vec();
    // Cut short with a header that matches the shorter size: damaged inside the last character.
    let err = Recognizer::from_bytes(&with_magic(cut)).unwrap_err();
    assert!(
        matches!(err, ModelError::Damaged { character: 1, .. }),
        "{err:?}"
    );
    // Cut short with the original header: the size no longer matches.
    let err = Recognizer::from_bytes(&whole[..whole.len() - 12]).unwrap_err();
    assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
}

#[test]
fn damaged_contents_are_named() {
    let damaged =
        |characters: &[Character]| Recognizer::from_bytes(&model_bytes(characters)).unwrap_err();
    let problem = |err: ModelError| match err {
        ModelError::Damaged { problem, .. } => problem,
        other => panic!("{other:?}"),
    };
    assert!(problem(damaged(&[("一", 0.0, &[(5, 1.0), (3, 1.0)])])).contains("increasing"));
    assert!(problem(damaged(&[("一", f32::NAN, &[])])).contains("bias"));
    assert!(problem(damaged(&[("一", 0.0, &[(3, f32::INFINITY)])])).contains("weight"));
    assert!(problem(damaged(&[("", 0.0, &[])])).contains("empty"));
    assert_eq!(
        Recognizer::from_bytes(&model_bytes(&[])).unwrap_err(),
        ModelError::Empty
    );
    let mut bad_utf8 = model_bytes(&[("一", 0.0, &[])]);
    bad_utf8[12] = 0xff;
    assert!(problem(Recognizer::from_bytes(&bad_utf8).unwrap_err()).contains("UTF-8"));
    let mut version = model_bytes(&[("一", 0.0, &[])]);
    version[4] = 2;
    assert_eq!(
        Recognizer::from_bytes(&version).unwrap_err(),
        ModelError::Version(2)
    );
    let mut body = model_bytes(&[("一", 0.0, &[])])[4..].to_vec();
    body.extend([0u8; 8]);
    assert_eq!(
        Recognizer::from_bytes(&with_magic(body)).unwrap_err(),
        ModelError::Trailing { extra: 8 }
    );
}

#[test]
fn bad_ink_is_refused_with_what_is_wrong() {
    let r = two_characters();
    let refused = |ink: Ink| r.classify(&ink, 5).unwrap_err();
    assert_eq!(refused(ink(vec![])), InkError::NoStrokes);
    assert_eq!(
        refused(ink(vec![vec![(1.0, 1.0)], vec![]])),
        InkError::EmptyStroke { stroke: 1 }
    );
    assert_eq!(
        refused(ink(vec![vec![(1.0, 1.0), (f32::NAN, 2.0)]])),
        InkError::NotANumber {
            stroke: 0,
            point: 1
        }
    );
    assert_eq!(
        refused(ink(vec![vec![(1.0, f32::INFINITY)]])),
        InkError::NotANumber {
            stroke: 0,
            point: 0
        }
    );
    assert!(matches!(
        refused(ink(vec![vec![(1.0, 1.0), (1.0e9, 2.0)]])),
        InkError::OffThePad { point: 1, .. }
    ));
    for (width, height) in [(0.0, 100.0), (100.0, -1.0), (f32::NAN, 100.0)] {
        let mut bad = horizontal();
        bad.width = width;
        bad.height = height;
        assert!(matches!(refused(bad), InkError::BadSize { .. }));
    }
    assert_eq!(
        refused(ink(vec![vec![(1.0, 1.0)]; MAX_STROKES + 1])),
        InkError::TooManyStrokes {
            count: MAX_STROKES + 1
        }
    );
    assert_eq!(
        refused(ink(vec![vec![(1.0, 1.0); MAX_POINTS + 1]])),
        InkError::TooManyPoints {
            count: MAX_POINTS + 1
        }
    );
    // At the bounds it is still ink.
    assert!(r
        .classify(&ink(vec![vec![(1.0, 1.0)]; MAX_STROKES]), 1)
        .is_ok());
    assert!(r
        .classify(&ink(vec![vec![(1.0, 1.0); MAX_POINTS]]), 1)
        .is_ok());
}

#[test]
fn a_dot_and_a_stroke_drawn_back_on_itself_are_ink() {
    let r = two_characters();
    assert!(r.classify(&ink(vec![vec![(50.0, 50.0)]]), 2).is_ok());
    let back = ink(vec![vec![(10.0, 50.0), (90.0, 50.0), (10.0, 50.0)]]);
    assert!(r.classify(&back, 2).is_ok());
    let still = ink(vec![vec![(50.0, 50.0); 30]]);
    assert!(r.classify(&still, 2).is_ok());
}

#[test]
fn a_recognizer_can_be_loaded_on_one_thread_and_used_on_another() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Recognizer>();
}
