//! The pinyin input on any key sequence: the first byte chooses what to do with the rest (type
//! it and ask for candidates, after a word or not; spell it; predict after it), and a damaged
//! dictionary file is refused, never a panic.

use std::sync::OnceLock;

use ime::{Dictionary, Options, Session};

fn dictionary() -> &'static Dictionary {
    static BUILTIN: OnceLock<Dictionary> = OnceLock::new();
    BUILTIN.get_or_init(|| Dictionary::builtin().expect("the built-in dictionary loads"))
}

fn main() {
    dictionary();
    afl::fuzz!(|data: &[u8]| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let text = String::from_utf8_lossy(rest);
        let d = dictionary();
        match mode % 4 {
            0 | 1 => {
                let mut session = Session::default();
                let options = Options { fuzzy: mode % 4 == 1 };
                let (previous, typed) = text.split_once('|').unwrap_or(("", &text));
                for candidate in d.suggest_after(typed, previous, options, &session) {
                    assert!(candidate.consumed > 0);
                    session.picked(&candidate.word);
                }
                let _ = d.suggest(typed, options, &session);
            }
            2 => {
                let spelled = d.spell(&text);
                if text.bytes().all(|b| b.is_ascii_lowercase() || b == b'\'') {
                    assert_eq!(spelled.replace(' ', ""), text);
                }
                let _ = d.predict(&text, 20);
            }
            _ => {
                // A station's own word file, then transitions over a small fixed dictionary.
                if let Ok(own) = Dictionary::parse(&text) {
                    let _ = own.suggest("nihao", Options::default(), &Session::default());
                }
                let small = Dictionary::parse("ni hao\t你好\t10\nni\t你\t5\nhao\t好\t5\n")
                    .expect("the small dictionary parses");
                if let Ok(with) = small.with_transitions(&text) {
                    let _ = with.suggest_after("hao", "你", Options::default(), &Session::default());
                    let _ = with.predict("你", 10);
                }
            }
        }
    });
}
