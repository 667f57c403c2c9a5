//! The recogniser's refusals: damaged models and bad ink, each with what is wrong.

use super::*;

use std::collections::HashMap;

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
    let one = r.zinnia(&horizontal(), 2).unwrap();
    assert_eq!(one[0].character, "一");
    assert_eq!(one[0].score, 0.5);
    assert_eq!(one[1].score, 0.0);
    let shu = r.zinnia(&vertical(), 5).unwrap();
    assert_eq!(shu.len(), 2, "no more candidates than characters");
    assert_eq!(shu[0].character, "丨");
    assert!((shu[0].score - std::f32::consts::FRAC_PI_2).abs() < 1e-6);
    assert!(r.zinnia(&vertical(), 0).unwrap().is_empty());
}

#[test]
fn equal_scores_put_the_later_character_first_as_zinnia_does() {
    let r = Recognizer::from_bytes(&model_bytes(&[("甲", 1.0, &[]), ("乙", 1.0, &[])])).unwrap();
    let ranked = r.zinnia(&horizontal(), 2).unwrap();
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
    let ranked = r.zinnia(&two, 2).unwrap();
    assert_eq!(ranked[0].character, "二");
    // 10 for the count, plus 10 × the move's length: from (0.8, 0.3) to (0.1, 0.7).
    let expected = 10.0 + 10.0 * (0.7f32 * 0.7 + 0.4 * 0.4).sqrt();
    assert!(
        (ranked[0].score - expected).abs() < 1e-5,
        "{}",
        ranked[0].score
    );
    assert_eq!(r.zinnia(&horizontal(), 1).unwrap()[0].character, "一");
}

#[test]
fn a_bent_stroke_is_cut_at_its_corner() {
    // Weight on piece 1's length (feature 20 + 1): only a stroke that is cut has a piece 1.
    let r = Recognizer::from_bytes(&model_bytes(&[("乚", 0.0, &[(21, 1.0)]), ("一", 0.1, &[])]))
        .unwrap();
    let bent = ink(vec![vec![(20.0, 10.0), (20.0, 80.0), (90.0, 80.0)]]);
    let ranked = r.zinnia(&bent, 2).unwrap();
    assert_eq!(ranked[0].character, "乚");
    // Piece 1 runs from the start to the corner: 10 × 0.7.
    assert!((ranked[0].score - 7.0).abs() < 1e-5, "{ranked:?}");
    let straight = r.zinnia(&horizontal(), 2).unwrap();
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

/// The characters of the test set (`testdata/strokes.json`) as drawn, perfect, on a
/// 1024 × 1024 pad.
fn fixture() -> Vec<(String, Ink)> {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../testdata/strokes.json")).unwrap();
    json["characters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let strokes = entry[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|stroke| {
                    stroke
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| (p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
                        .collect()
                })
                .collect();
            let ink = Ink {
                width: 1024.0,
                height: 1024.0,
                strokes,
            };
            (entry[0].as_str().unwrap().to_string(), ink)
        })
        .collect()
}

#[test]
fn an_enclosure_along_the_left_and_bottom_written_last_is_also_tried_first() {
    let mut walks = String::new();
    let mut frames = String::new();
    for (character, ink) in fixture() {
        let others = prepare::other_orders(&ink);
        let Some(other) = others.first() else {
            continue;
        };
        assert_eq!(others.len(), 1);
        let n = ink.strokes.len();
        // Where each stroke of the other order was written.
        let order: Vec<usize> = other
            .strokes
            .iter()
            .map(|s| ink.strokes.iter().position(|t| t == s).unwrap())
            .collect();
        if order[0] == 0 {
            // 匚's 竖折 after its top stroke.
            let mut expected = vec![0, n - 1];
            expected.extend(1..n - 1);
            assert_eq!(order, expected, "{character}");
            frames.push_str(&character);
        } else {
            // 辶 (three strokes) or 廴 (two) first.
            let moved = n - order[0];
            assert!(moved == 3 || moved == 2, "{character}: {order:?}");
            let expected: Vec<usize> = (n - moved..n).chain(0..n - moved).collect();
            assert_eq!(order, expected, "{character}");
            walks.push_str(&character);
        }
    }
    // Every 辶 and 廴 of the test set (庭's 廴 too), and 定, whose foot lies as 廴 does: a false
    // alarm, harmless, as the orders' answers are merged by rank.
    assert_eq!(walks, "退定遣违建道通过延迁庭遗");
    assert_eq!(frames, "医区");
    // Nothing else: 工 三 老 … are classified as written only.
}

#[test]
fn the_enclosures_strokes_are_counted_as_they_are() {
    let by_name: HashMap<String, Ink> = fixture().into_iter().collect();
    let moved = |c: &str| {
        let ink = &by_name[c];
        let other = &prepare::other_orders(ink)[0];
        ink.strokes
            .iter()
            .position(|s| *s == other.strokes[0])
            .map(|first| ink.strokes.len() - first)
    };
    assert_eq!(moved("过"), Some(3), "辶: the dot, the bend, the sweep");
    assert_eq!(moved("建"), Some(2), "廴: the bend, the sweep");
    assert!(prepare::other_orders(&by_name["工"]).is_empty());
    // Ink too small to have a left and a bottom: no other order.
    let dot = ink(vec![vec![(5.0, 5.0)], vec![(5.0, 5.0)], vec![(5.0, 5.0)]]);
    assert!(prepare::other_orders(&dot).is_empty());
}

#[test]
fn the_pad_is_made_square_around_the_ink() {
    // 左 weighs where the first piece starts and ends across the pad (features 3 and 5):
    // drawn at the left of a wide pad it wins for zinnia; centred, 中 (its bias) does.
    let r = Recognizer::from_bytes(&model_bytes(&[
        ("左", 0.0, &[(3, -1.0), (5, -1.0)]),
        ("中", 0.1, &[]),
    ]))
    .unwrap();
    let wide = Ink {
        width: 300.0,
        height: 100.0,
        strokes: vec![vec![(10.0, 50.0), (40.0, 50.0)]],
    };
    assert_eq!(r.zinnia(&wide, 1).unwrap()[0].character, "左");
    assert_eq!(r.classify(&wide, 1).unwrap()[0].character, "中");
    // Anywhere on any pad of that height, the same answer as centred on a square one.
    let centred = ink(vec![vec![(35.0, 50.0), (65.0, 50.0)]]);
    assert_eq!(r.zinnia(&centred, 1).unwrap()[0].character, "中");
    assert_eq!(
        r.classify(&wide, 2).unwrap(),
        r.classify(&centred, 2).unwrap()
    );
    let square = prepare::square(&wide);
    assert_eq!((square.width, square.height), (100.0, 100.0));
    assert_eq!(square.strokes, centred.strokes);
    // Ink larger than the pad is high gets a pad as large as the ink, all of it on the pad.
    let long = Ink {
        width: 300.0,
        height: 100.0,
        strokes: vec![vec![(10.0, 20.0), (290.0, 30.0)]],
    };
    let square = prepare::square(&long);
    assert_eq!((square.width, square.height), (280.0, 280.0));
    assert_eq!(square.strokes[0], vec![(0.0, 135.0), (280.0, 145.0)]);
    assert!(square.check().is_ok());
    // Written high on the pad, it stays high: only across is it placed.
    let high = Ink {
        width: 300.0,
        height: 100.0,
        strokes: vec![vec![(200.0, 20.0), (230.0, 20.0)]],
    };
    assert_eq!(
        prepare::square(&high).strokes[0],
        vec![(35.0, 20.0), (65.0, 20.0)]
    );
    // A square pad is left as it is; a tall one is placed around the ink up and down.
    assert_eq!(prepare::square(&centred), centred);
    let tall = Ink {
        width: 100.0,
        height: 300.0,
        strokes: vec![vec![(20.0, 250.0), (20.0, 280.0)]],
    };
    assert_eq!(
        prepare::square(&tall).strokes[0],
        vec![(20.0, 35.0), (20.0, 65.0)]
    );
}

#[test]
fn the_answer_merges_ranks_not_scores() {
    let r = two_characters();
    let one = r.classify(&horizontal(), 2).unwrap();
    assert_eq!(one[0].character, "一");
    assert_eq!(one[0].score, 0.5, "first of the one list: 1 / (1 + 1)");
    assert!((one[1].score - 1.0 / 3.0).abs() < 1e-7);
    assert!(r.classify(&horizontal(), 0).unwrap().is_empty());
    // Each place adds weight / (1 + place): 2, third of one list and second of the other,
    // passes 1.
    let order = |lists: &[(f64, Vec<usize>)]| -> Vec<usize> {
        merge(lists, 10).into_iter().map(|(c, _)| c).collect()
    };
    let merged = merge(&[(1.0, vec![0, 1, 2]), (0.5, vec![3, 2])], 10);
    assert_eq!(merged[1], (2, 1.0 / 4.0 + 0.5 / 3.0));
    assert_eq!(
        order(&[(1.0, vec![0, 1, 2]), (0.5, vec![3, 2])]),
        [0, 2, 1, 3]
    );
    // A tie goes to the better place: 3, first of the list of weight ½, before 2, third of the
    // list of weight 1.
    let merged = merge(&[(1.0, vec![0, 1, 2]), (0.5, vec![3])], 10);
    assert_eq!(merged[2].1, merged[3].1);
    assert_eq!(order(&[(1.0, vec![0, 1, 2]), (0.5, vec![3])]), [0, 1, 3, 2]);
    assert_eq!(merge(&[(1.0, vec![0, 1, 2])], 2).len(), 2);
}

#[test]
fn asking_for_more_candidates_changes_none_of_the_first() {
    // 80 characters, ranked by their biases, and a second opinion that knows the last ten and
    // ranks them the other way.
    let labels: Vec<String> = (0..80).map(|n| format!("c{n}")).collect();
    let characters = |sign: f32| -> Vec<Character> {
        labels
            .iter()
            .enumerate()
            .map(|(n, label)| (label.as_str(), sign * n as f32, &[][..]))
            .collect()
    };
    let r = Recognizer::from_bytes(&model_bytes(&characters(1.0)))
        .unwrap()
        .with(Recognizer::from_bytes(&model_bytes(&characters(-1.0)[..10])).unwrap());
    let all = r.classify(&horizontal(), 1000).unwrap();
    assert_eq!(all.len(), 80, "every character, once");
    for limit in [1, 5, 20, 50, 70] {
        assert_eq!(
            r.classify(&horizontal(), limit).unwrap(),
            all[..limit],
            "{limit}"
        );
    }
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
    // The merge has the first model's first 50 and the second's ten; past it the first model's
    // order goes on, with score 0.
    assert_eq!(all[0].character, "c79");
    assert!(all[59].score > 0.0);
    assert_eq!((all[60].character.as_str(), all[60].score), ("c29", 0.0));
    assert_eq!((all[79].character.as_str(), all[79].score), ("c10", 0.0));
    let mut seen: Vec<&str> = all.iter().map(|c| c.character.as_str()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 80);
}

#[test]
fn a_second_opinion_moves_a_character_up_and_adds_none() {
    // The first model: A, B, C, D by their biases. The second: X (which the first does not
    // know) before D.
    let first = || {
        Recognizer::from_bytes(&model_bytes(&[
            ("A", 4.0, &[]),
            ("B", 3.0, &[]),
            ("C", 2.0, &[]),
            ("D", 1.0, &[]),
        ]))
        .unwrap()
    };
    let second = Recognizer::from_bytes(&model_bytes(&[("X", 2.0, &[]), ("D", 1.0, &[])])).unwrap();
    let alone: Vec<String> = first()
        .classify(&horizontal(), 10)
        .unwrap()
        .into_iter()
        .map(|c| c.character)
        .collect();
    assert_eq!(alone, ["A", "B", "C", "D"]);
    let r = first().with(second);
    assert_eq!(r.models(), 2);
    assert_eq!(r.len(), 4);
    assert!(!r.knows("X"));
    let both: Vec<String> = r
        .classify(&horizontal(), 10)
        .unwrap()
        .into_iter()
        .map(|c| c.character)
        .collect();
    // D: 1/5 from the first, ½ × 1/2 from the second (X is never asked about).
    assert_eq!(both, ["A", "D", "B", "C"]);
    // The first model's own answer is unchanged.
    assert_eq!(r.zinnia(&horizontal(), 1).unwrap()[0].character, "A");
}

#[test]
fn no_model_is_no_recognizer() {
    let none: [&str; 0] = [];
    assert_eq!(load_all(&none).unwrap_err(), ModelError::NoModel);
    let err = load_all(&["/nonexistent/a.model", "/nonexistent/b.model"]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/a.model"), "{err}");
}
