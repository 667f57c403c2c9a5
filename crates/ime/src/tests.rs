//! The engine on a small dictionary written here, so each rule shows on its own.

use super::*;

const SMALL: &str = "# test\n\
ni\t你\t9000\n\
ni\t泥\t300\n\
hao\t好\t8000\n\
ni hao\t你好\t700\n\
xian\t先\t2500\n\
xian\t现\t2400\n\
xi\t西\t2000\n\
an\t安\t1900\n\
xi an\t西安\t250\n\
zhong\t中\t9500\n\
guo\t国\t9400\n\
zhong guo\t中国\t9000\n\
zi ge\t资格\t500\n\
gong zi\t工资\t200000\n\
gong zi\t公子\t1800\n\
qian fa\t欠发\t100\n\
gong zi qian fa\t工资欠发\t200000\n\
lao ban\t老板\t3000\n\
nao\t闹\t100\n\
zhang\t张\t5000\n\
zan\t咱\t600\n\
a\t啊\t50\n";

fn small() -> Dictionary {
    Dictionary::parse(SMALL).unwrap()
}

fn words(d: &Dictionary, input: &str, options: Options) -> Vec<String> {
    d.suggest(input, options, &Session::default())
        .into_iter()
        .map(|c| c.word)
        .collect()
}

#[test]
fn whole_pinyin_gives_the_word_first() {
    let d = small();
    assert_eq!(words(&d, "nihao", Options::default())[0], "你好");
    assert_eq!(
        words(&d, "NiHao", Options::default())[0],
        "你好",
        "any case"
    );
    assert_eq!(words(&d, "zhongguo", Options::default())[0], "中国");
}

#[test]
fn an_apostrophe_splits_an_ambiguous_syllable() {
    let d = small();
    let plain = words(&d, "xian", Options::default());
    assert_eq!(plain[0], "先");
    assert!(plain.contains(&"西安".to_owned()));
    assert_eq!(words(&d, "xi'an", Options::default())[0], "西安");
}

#[test]
fn initials_stand_for_syllables() {
    let d = small();
    assert_eq!(words(&d, "zg", Options::default())[0], "中国");
    assert_eq!(words(&d, "gzqf", Options::default())[0], "工资欠发");
    assert_eq!(words(&d, "gongzqf", Options::default())[0], "工资欠发");
    // A syllable still being typed.
    assert_eq!(words(&d, "gongz", Options::default())[0], "工资");
}

#[test]
fn part_of_the_input_can_be_committed_first() {
    let d = small();
    let c = d.suggest("nihaozhong", Options::default(), &Session::default());
    let nihao = c.iter().find(|c| c.word == "你好").expect("你好 offered");
    assert_eq!(nihao.consumed, 5);
    let ni = c.iter().find(|c| c.word == "你").expect("你 offered");
    assert_eq!(ni.consumed, 2);
}

#[test]
fn fuzzy_pairs_are_an_option() {
    let d = small();
    assert!(!words(&d, "zongguo", Options::default()).contains(&"中国".to_owned()));
    assert_eq!(words(&d, "zongguo", Options { fuzzy: true })[0], "中国");
    assert!(words(&d, "lao", Options { fuzzy: true }).contains(&"闹".to_owned()));
    assert!(words(&d, "zan", Options { fuzzy: true }).contains(&"张".to_owned()));
}

#[test]
fn what_the_resident_picked_comes_first_until_the_session_ends() {
    let d = small();
    let mut session = Session::default();
    let before = d.suggest("ni", Options::default(), &session);
    assert_eq!(before[0].word, "你");
    session.picked("泥");
    let after = d.suggest("ni", Options::default(), &session);
    assert_eq!(after[0].word, "泥");
    session.clear();
    assert_eq!(d.suggest("ni", Options::default(), &session)[0].word, "你");
}

#[test]
fn bad_input_gives_no_candidates_and_no_panic() {
    let d = small();
    for input in ["", "'''", "123", "你好", "!!!", "vvvvvv", "q"] {
        let c = d.suggest(input, Options::default(), &Session::default());
        assert!(c.iter().all(|c| !c.word.is_empty()), "{input}");
    }
    assert!(words(&d, "123", Options::default()).is_empty());
    let long = "nihao".repeat(200);
    let c = words(&d, &long, Options::default());
    assert!(c.len() <= MAX_CANDIDATES);
    assert_eq!(c[0], "你好", "a long input still offers its first word");
}

#[test]
fn a_damaged_dictionary_is_refused_with_the_line() {
    assert_eq!(Dictionary::parse(""), Err(DictionaryError::Empty));
    assert_eq!(
        Dictionary::parse("# only a comment\n"),
        Err(DictionaryError::Empty)
    );
    for (text, line) in [
        ("ni\t你\n", 1),
        ("ni\t你\t9\nni hao\t你\t3\n", 2),
        ("ni\t你\tmany\n", 1),
        ("NI\t你\t9\n", 1),
        ("ni\t你\t9\textra\n", 1),
    ] {
        match Dictionary::parse(text) {
            Err(DictionaryError::Corrupt { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn the_typed_pinyin_is_shown_cut_into_syllables() {
    let d = small();
    for (typed, shown) in [
        ("nihao", "ni hao"),
        ("zhongguo", "zhong guo"),
        ("zhonggu", "zhong gu"),
        ("gongz", "gong z"),
        ("laobanqianfa", "lao ban qian fa"),
        ("xian", "xian"),
        ("xi'an", "xi'an"),
        ("gzqf", "g z q f"),
        ("v", "v"),
        ("", ""),
    ] {
        assert_eq!(d.spell(typed), shown, "{typed}");
    }
}
