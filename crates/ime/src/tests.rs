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
    assert!(
        c[0].starts_with("你好你好"),
        "a long input is still written as a sentence: {c:?}"
    );
    assert!(
        c.contains(&"你好".to_owned()),
        "and its first word is offered on its own"
    );
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

/// A few words and the transitions between them, to show the sentence rules on their own.
const SMALL_WORDS: &str = "san\t三\t4000\n\
san\t伞\t5000\n\
ge\t个\t9000\n\
ge\t各\t8000\n\
yue\t月\t6000\n\
yue\t越\t7000\n\
ge yu\t戈语\t4\n\
lao ban\t老板\t3000\n\
tuo qian\t拖欠\t250\n\
gong zi\t工资\t5000\n\
gong zi\t公子\t1800\n\
bei\t被\t9000\n\
bei\t杯\t9500\n\
mei fa\t没发\t300\n";

const SMALL_TRANSITIONS: &str = "# test\n\
w\t老板\t拖欠\t200000\n\
w\t工资\t被\t300000\n\
w\t工资\t没发\t300000\n\
c\t三\t个\t150\n\
c\t个\t月\t1100\n";

fn small_model(transitions: bool) -> Dictionary {
    let d = Dictionary::parse(SMALL_WORDS).unwrap();
    if transitions {
        d.with_transitions(SMALL_TRANSITIONS).unwrap()
    } else {
        d
    }
}

#[test]
fn syllables_with_no_word_for_them_all_are_written_as_the_likeliest_sentence() {
    // Without transitions, each syllable's most frequent character: 伞个越.
    assert_eq!(
        words(&small_model(false), "sangeyue", Options::default())[0],
        "伞个越"
    );
    // Characters that go together (三个, 个月) outweigh frequency alone.
    let d = small_model(true);
    let got = words(&d, "sangeyue", Options::default());
    assert_eq!(got[0], "三个月", "{got:?}");
    // A sentence of common words before a rare word that matches the whole input.
    let got = words(&d, "geyue", Options::default());
    let at = |w: &str| got.iter().position(|g| g == w);
    assert!(at("个月") < at("戈语"), "{got:?}");
    // Words in a row, in whole syllables or by their initials.
    assert_eq!(
        words(&d, "laobantuoqiangongzi", Options::default())[0],
        "老板拖欠工资"
    );
    assert_eq!(words(&d, "lbtqgz", Options::default())[0], "老板拖欠工资");
    // The sentence uses the whole input; its words come after it, longest first, to be taken
    // one at a time.
    let c = d.suggest("laobantuoqian", Options::default(), &Session::default());
    assert_eq!(c[0].word, "老板拖欠");
    assert_eq!(c[0].consumed, 13);
    let laoban = c
        .iter()
        .find(|c| c.word == "老板")
        .expect("老板 on its own");
    assert_eq!(laoban.consumed, 6);
}

#[test]
fn the_word_just_written_ranks_what_follows_it() {
    let d = small_model(true);
    assert_eq!(words(&d, "bei", Options::default())[0], "杯");
    // 被 often follows 工资 (工资被拖欠): right after it, `bei` is 被 first.
    let after = d.suggest_after("bei", "工资", Options::default(), &Session::default());
    assert_eq!(after[0].word, "被");
    // The last word of a longer text counts.
    let after = d.suggest_after(
        "bei",
        "老板拖欠工资",
        Options::default(),
        &Session::default(),
    );
    assert_eq!(after[0].word, "被");
}

#[test]
fn after_a_word_the_words_that_follow_it_are_predicted() {
    let d = small_model(true);
    let next: Vec<String> = d.predict("工资", 5).into_iter().map(|c| c.word).collect();
    assert_eq!(next, ["没发", "被"], "likeliest, then longer, first");
    assert!(d.predict("工资", 5).iter().all(|c| c.consumed == 0));
    assert_eq!(d.predict("工资", 1).len(), 1);
    // The last word of a longer text counts.
    assert_eq!(d.predict("老板拖欠工资", 5).len(), 2);
    assert_eq!(d.predict("老板", 5)[0].word, "拖欠");
    // Nothing known, nothing predicted.
    assert!(d.predict("月", 5).is_empty());
    assert!(d.predict("", 5).is_empty());
    assert!(small_model(false).predict("工资", 5).is_empty());
}

#[test]
fn damaged_transitions_are_refused_with_the_line() {
    let d = || Dictionary::parse(SMALL_WORDS).unwrap();
    for (text, line) in [
        ("w\t工资\t被\n", 1),
        ("# c\nw\t工资\t被\t0\n", 2),
        ("w\t工资\t被\t2000000\n", 1),
        ("c\t三个\t月\t20\n", 1),
        ("x\t三\t个\t20\n", 1),
        ("c\t三\t个\tmany\n", 1),
    ] {
        match d().with_transitions(text) {
            Err(DictionaryError::Corrupt { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // Words the dictionary lacks (a station's own, smaller one) are skipped, not refused.
    let d = d().with_transitions("w\t工资\t加班费\t5000\n").unwrap();
    assert!(d.predict("工资", 5).is_empty());
}

/// The dictionary the kiosk ships, parsed once for the tests below.
fn builtin() -> &'static Dictionary {
    static BUILTIN_DICT: std::sync::OnceLock<Dictionary> = std::sync::OnceLock::new();
    BUILTIN_DICT.get_or_init(|| Dictionary::builtin().expect("the built-in dictionary loads"))
}

#[test]
fn the_shipped_dictionary_writes_what_residents_say() {
    let d = builtin();
    assert!(d.has_transitions());
    // The examples: 三 was sixth for `sangeyue`, 戈语 first for `geyue`, 了 for `lbtqgz`.
    assert_eq!(words(d, "sangeyue", Options::default())[0], "三个月");
    // With fuzzy pairs `san` may be `shang` too, but what was typed comes first (上个月 next).
    let fuzzy = words(d, "sangeyue", Options { fuzzy: true });
    assert_eq!(fuzzy[0], "三个月", "{fuzzy:?}");
    let geyue = words(d, "geyue", Options::default());
    let at = |w: &str| geyue.iter().position(|g| g == w);
    assert!(at("个月").is_some() && at("个月") < at("戈语"), "{geyue:?}");
    let lbtqgz = words(d, "lbtqgz", Options::default());
    assert!(
        lbtqgz.iter().take(5).any(|w| w == "老板拖欠工资"),
        "{lbtqgz:?}"
    );
    assert_eq!(
        words(d, "laobantuoqiangongzi", Options::default())[0],
        "老板拖欠工资"
    );
    for (pinyin, phrase) in [
        ("shanggeyue", "上个月"),
        ("haojici", "好几次"),
        ("meirenguan", "没人管"),
        ("bugeiqian", "不给钱"),
        ("meitianwanshang", "每天晚上"),
    ] {
        assert_eq!(words(d, pinyin, Options::default())[0], phrase, "{pinyin}");
    }
}

#[test]
fn the_shipped_dictionary_predicts_a_sensible_next_word() {
    let d = builtin();
    for (word, expected) in [
        ("工资", &["三个月", "被拖欠", "到现在"][..]),
        ("老板", &["拖着不给", "跑路", "不给"][..]),
        ("楼上", &["每天晚上", "天天晚上", "半夜"][..]),
        ("房东", &["不给", "不管", "突然"][..]),
        ("希望", &["政府", "尽快处理"][..]),
    ] {
        let next: Vec<String> = d.predict(word, 8).into_iter().map(|c| c.word).collect();
        assert!(
            expected.iter().all(|e| next.iter().any(|n| n == e)),
            "after {word}: {next:?}, expected {expected:?} among them"
        );
    }
}
