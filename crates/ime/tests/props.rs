//! Properties of the pinyin input (issue 17, "every input parser property-tested"): any key
//! sequence a resident can tap (letters, apostrophes, backspaces, picks of any candidate) never
//! panics, every candidate uses some of what was typed and no more, picking always makes
//! progress, and what is shown spelled out is what was typed; a dictionary or transitions file
//! of any content is read or refused with its line. Cases are bounded so the file runs in
//! seconds.

use std::sync::OnceLock;

use proptest::prelude::*;

use ime::{Dictionary, DictionaryError, Options, Session, MAX_INPUT};

fn builtin() -> &'static Dictionary {
    static BUILTIN: OnceLock<Dictionary> = OnceLock::new();
    BUILTIN.get_or_init(|| Dictionary::builtin().expect("the built-in dictionary loads"))
}

/// One tap on the keyboard.
#[derive(Debug, Clone)]
enum Key {
    Letter(char),
    Apostrophe,
    Backspace,
    /// Picks the n-th candidate (modulo how many there are).
    Pick(usize),
    /// Something a keyboard-wedge scanner or a paste could bring: any text.
    Paste(String),
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        12 => prop::char::range('a', 'z').prop_map(Key::Letter),
        1 => Just(Key::Apostrophe),
        2 => Just(Key::Backspace),
        3 => (0usize..8).prop_map(Key::Pick),
        1 => any::<String>().prop_map(Key::Paste),
    ]
}

/// Pinyin that means something: syllables residents type, whole or by initials.
fn pinyin() -> impl Strategy<Value = String> {
    let syllable = prop::sample::select(vec![
        "lao", "ban", "tuo", "qian", "gong", "zi", "san", "ge", "yue", "mei", "ren", "guan", "xi",
        "an", "zhong", "guo", "l", "b", "t", "q", "g", "z", "er", "ni", "hao", "'",
    ]);
    proptest::collection::vec(syllable, 1..10).prop_map(|s| s.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A resident taps any keys: the typed text grows and shrinks, candidates are asked for
    /// after each tap, with and without fuzzy pairs, and one is picked now and then. Nothing
    /// panics, every candidate uses between one byte and all of the input, and a pick always
    /// takes something off the input.
    #[test]
    fn any_key_sequence_is_safe_and_picks_make_progress(keys in proptest::collection::vec(key(), 1..40), fuzzy in any::<bool>()) {
        let d = builtin();
        let options = Options { fuzzy };
        let mut session = Session::default();
        let mut typed = String::new();
        let mut written = String::new();
        for key in keys {
            match key {
                Key::Letter(c) => typed.push(c),
                Key::Apostrophe => typed.push('\''),
                Key::Backspace => {
                    typed.pop();
                }
                Key::Paste(text) => typed.push_str(&text),
                Key::Pick(n) => {
                    let candidates = d.suggest_after(&typed, &written, options, &session);
                    if candidates.is_empty() {
                        continue;
                    }
                    let pick = &candidates[n % candidates.len()];
                    prop_assert!(pick.consumed > 0 && pick.consumed <= typed.len(), "{:?} of {:?}", pick, typed);
                    prop_assert!(typed.is_char_boundary(pick.consumed), "{:?} of {:?}", pick, typed);
                    let before = typed.len();
                    typed.replace_range(..pick.consumed, "");
                    prop_assert!(typed.len() < before);
                    written.push_str(&pick.word);
                    session.picked(&pick.word);
                    let _ = d.predict(&written, 12);
                    continue;
                }
            }
            let candidates = d.suggest_after(&typed, &written, options, &session);
            let letters = typed.chars().filter(|c| c.is_ascii_alphabetic()).count();
            if letters == 0 {
                prop_assert!(candidates.is_empty(), "{:?} for {:?}", candidates, typed);
            }
            for c in &candidates {
                prop_assert!(!c.word.is_empty());
                prop_assert!(c.consumed > 0 && c.consumed <= typed.len(), "{:?} of {:?}", c, typed);
            }
            let _ = d.spell(&typed);
        }
    }

    /// Pinyin a resident means, typed whole: the first candidate uses all of it, and the input
    /// spelled out for reading is the input with spaces between its pieces.
    #[test]
    fn meaningful_pinyin_is_read_whole_and_spelled_back(typed in pinyin()) {
        let d = builtin();
        let body = typed.trim_matches('\'');
        prop_assume!(!body.is_empty() && typed.len() <= MAX_INPUT);
        let spelled = d.spell(&typed);
        prop_assert_eq!(spelled.replace(' ', ""), typed.clone());
        let candidates = d.suggest(&typed, Options::default(), &Session::default());
        prop_assert!(!candidates.is_empty(), "nothing for {:?}", typed);
        prop_assert!(candidates.windows(2).all(|w| w[0].consumed >= w[1].consumed), "{:?}", candidates);
    }

    /// Any text spelled out never panics and keeps every letter in its order.
    #[test]
    fn any_text_spells_without_losing_letters(text in any::<String>()) {
        let spelled = builtin().spell(&text);
        prop_assert_eq!(spelled.replace(' ', ""), text.replace(' ', ""));
    }

    /// A station's own dictionary file of any content is read or refused with the line at
    /// fault; what is read offers only its own words.
    #[test]
    fn any_dictionary_file_is_read_or_refused_by_line(
        lines in proptest::collection::vec(prop_oneof![
            3 => ("[a-z]{1,6}( [a-z]{1,6}){0,2}", "[一-龥]{1,3}", 0u32..100_000).prop_map(|(r, w, f)| format!("{r}\t{w}\t{f}")),
            1 => any::<String>(),
            1 => Just("# a comment".to_owned()),
            1 => Just(String::new()),
        ], 0..12),
    ) {
        let text = lines.join("\n");
        match Dictionary::parse(&text) {
            Ok(d) => {
                prop_assert!(!d.is_empty());
                let words: Vec<&str> = d.words().collect();
                for c in d.suggest("a", Options::default(), &Session::default()) {
                    prop_assert!(words.contains(&c.word.as_str()) || c.word.chars().count() > 1);
                }
            }
            Err(DictionaryError::Corrupt { line, problem }) => {
                prop_assert!(line >= 1 && line <= text.lines().count(), "line {} of {}", line, text.lines().count());
                prop_assert!(!problem.is_empty());
            }
            Err(DictionaryError::Empty) => {
                prop_assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#')));
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    /// A transitions file of any content is read or refused with its line.
    #[test]
    fn any_transitions_file_is_read_or_refused_by_line(
        lines in proptest::collection::vec(prop_oneof![
            2 => ("[wc]", "[你好我们]{1,2}", "[你好我们]{1,2}", 0u32..2_000_000).prop_map(|(k, a, b, v)| format!("{k}\t{a}\t{b}\t{v}")),
            1 => any::<String>(),
        ], 0..8),
    ) {
        let text = lines.join("\n");
        let small = Dictionary::parse("ni\t你\t5\nhao\t好\t5\nni hao\t你好\t10\nwo men\t我们\t8\n").unwrap();
        match small.with_transitions(&text) {
            Ok(d) => {
                let _ = d.predict("你", 10);
                let _ = d.suggest_after("hao", "你", Options::default(), &Session::default());
            }
            Err(DictionaryError::Corrupt { line, problem }) => {
                prop_assert!(line >= 1 && line <= text.lines().count());
                prop_assert!(!problem.is_empty());
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

/// Found by `any_key_sequence_is_safe_and_picks_make_progress`: `consumed` counted only the
/// letters, so with a space or a digit in the text (the command line's `ime suggest "ni hao"`, a
/// paste) 你好 used 5 bytes of `ni hao` and left `o` to go on with, and a pick could cut a
/// character in two.
#[test]
fn consumed_counts_the_text_as_typed() {
    let d = builtin();
    let typed = "ni hao";
    let candidates = d.suggest(typed, Options::default(), &Session::default());
    let whole = candidates
        .iter()
        .find(|c| c.word == "你好")
        .expect("你好 is offered");
    assert_eq!(whole.consumed, typed.len());
    let first = candidates
        .iter()
        .find(|c| c.word == "你")
        .expect("你 is offered");
    assert_eq!(&typed[first.consumed..], "hao");
    let typed = "Σni";
    for c in d.suggest(typed, Options::default(), &Session::default()) {
        assert!(typed.is_char_boundary(c.consumed), "{c:?}");
        assert!("ni".ends_with(&typed[c.consumed..]), "{c:?}");
    }
}
