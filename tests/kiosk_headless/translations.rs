//! One translation catalogue per language, complete: every word the code and the screens say in
//! Chinese (each `@tr("…")` in `ui/`, each `t!(…, "…")` in the crates' sources) has an entry with
//! a non-empty translation and the same placeholders in every language's catalogue
//! (`lang/<code>/LC_MESSAGES/grievance-kiosk.po`), and no catalogue holds words nobody uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use domain::words::{po_entries, CONTEXT_SEPARATOR};
use domain::{Catalogue, Language};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// Reads a double-quoted string starting after its opening quote, undoing the escapes Slint and
/// Rust share (`\"`, `\\`, `\n`, `\t`, `\u{…}`).
fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((j, 'u')) => {
                    let close = s[j..].find('}').expect("\\u{…} closes");
                    let hex = &s[j + 2..j + close];
                    out.push(char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap());
                    while chars.next().is_some_and(|(k, _)| k < j + close) {}
                }
                Some((_, other)) => out.push(other),
                None => {}
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string");
}

/// Every `@tr("…")` of the screens.
fn ui_ids() -> BTreeSet<String> {
    let mut paths = Vec::new();
    files(&root().join("ui"), "slint", &mut paths);
    let mut found = BTreeSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("@tr(\"") {
            let (s, after) = quoted(&rest[at + 5..]);
            found.insert(s);
            rest = after;
        }
    }
    found
}

/// Every `t!(language, "…")` and `t!(language, "context" => "…")` of the Rust sources, comments
/// left out (and a macro's own `t!(lang, $msgid)`); a context is joined to its id as the
/// catalogue keys it. `said!("…")` (a refusal said in any language) is `t!` of its words.
fn code_ids() -> BTreeSet<String> {
    let mut paths = Vec::new();
    files(&root().join("src"), "rs", &mut paths);
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        files(&entry.unwrap().path().join("src"), "rs", &mut paths);
    }
    let mut found = BTreeSet::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut offset = 0;
        while let Some(at) = text[offset..].find("t!(") {
            let start = offset + at;
            offset = start + 3;
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            let before = &text[line_start..start];
            let is_call = !text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !is_call || before.trim_start().starts_with("//") {
                continue;
            }
            // The language, then the words: a literal, or this is a macro's own `t!`.
            let Some(comma) = text[offset..].find(',') else {
                continue;
            };
            if !text[offset + comma + 1..].trim_start().starts_with('"') {
                continue;
            }
            let Some(quote) = text[offset..].find('"') else {
                continue;
            };
            let (first, after) = quoted(&text[offset + quote + 1..]);
            let after = after.trim_start();
            let id = match after.strip_prefix("=>") {
                Some(more) => {
                    let more = more.trim_start().strip_prefix('"').expect("an id after =>");
                    format!("{first}{CONTEXT_SEPARATOR}{}", quoted(more).0)
                }
                None => first,
            };
            found.insert(id);
        }
        let mut offset = 0;
        while let Some(at) = text[offset..].find("said!(") {
            let start = offset + at;
            offset = start + 6;
            let is_call = !text[..start]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            if let (true, Some(words)) = (is_call, text[offset..].trim_start().strip_prefix('"')) {
                found.insert(quoted(words).0);
            }
        }
    }
    found
}

/// The placeholders of a text: how many `{}` and which `{n}`.
fn placeholders(s: &str) -> (usize, BTreeSet<usize>) {
    let mut numbered = BTreeSet::new();
    let mut rest = s;
    while let Some(at) = rest.find('{') {
        let tail = &rest[at + 1..];
        if let Some(close) = tail.find('}') {
            if let Ok(n) = tail[..close].parse() {
                numbered.insert(n);
            }
        }
        rest = tail;
    }
    (s.matches("{}").count(), numbered)
}

/// Whether `translation` fills the same slots as `id`: the same number of `{}`, or numbered
/// slots covering them all.
fn same_slots(id: &str, translation: &str) -> bool {
    let (plain, numbered) = placeholders(id);
    let (t_plain, t_numbered) = placeholders(translation);
    let wanted = plain + numbered.len();
    if t_numbered.is_empty() {
        t_plain == wanted
    } else {
        t_plain == 0 && t_numbered == (0..wanted).collect()
    }
}

fn catalogue(language: Language) -> BTreeMap<String, String> {
    let path = root()
        .join("lang")
        .join(language.code())
        .join("LC_MESSAGES/grievance-kiosk.po");
    let text = std::fs::read_to_string(&path).unwrap();
    po_entries(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|e| !e.msgid.is_empty())
        .map(|e| (e.msgid, e.msgstr))
        .collect()
}

/// The Chinese of the built-in services and the built-in station configuration: a Traditional
/// catalogue carries them for [`domain::Localized`] texts; an English one does not need to (the
/// texts carry their English).
fn built_in_words() -> BTreeSet<String> {
    fn walk(value: &toml::Value, words: &mut BTreeSet<String>) {
        match value {
            toml::Value::Table(table) => match (table.get("zh"), table.get("en")) {
                (Some(toml::Value::String(zh)), Some(_)) => {
                    words.insert(zh.clone());
                }
                _ => table.values().for_each(|v| walk(v, words)),
            },
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, words)),
            _ => {}
        }
    }
    let mut words = BTreeSet::new();
    for file in [
        "crates/domain/src/catalogue.toml",
        "crates/station/src/config/default.toml",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        walk(&text.parse::<toml::Table>().unwrap().into(), &mut words);
    }
    assert!(words.len() > 100, "only {} built-in words", words.len());
    words
}

#[test]
fn every_word_has_its_translation_with_the_same_placeholders_in_every_language() {
    let ui = ui_ids();
    let code = code_ids();
    assert!(
        ui.len() > 250,
        "only {} @tr ids: is the scan broken?",
        ui.len()
    );
    assert!(
        code.len() > 20,
        "only {} t! ids: is the scan broken?",
        code.len()
    );
    let mut problems = Vec::new();
    for language in Language::ALL.into_iter().filter(|l| *l != Language::Zh) {
        let catalogue = catalogue(language);
        for id in ui.iter().chain(&code) {
            let shown = id.replace(CONTEXT_SEPARATOR, " ⟫ ");
            match catalogue.get(id) {
                None => problems.push(format!("{}: missing: {shown}", language.code())),
                Some(t) if t.trim().is_empty() => {
                    problems.push(format!("{}: empty: {shown}", language.code()))
                }
                Some(t) if !same_slots(id, t) => problems.push(format!(
                    "{}: placeholders differ: {shown} → {t}",
                    language.code()
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_catalogue_holds_words_nobody_uses() {
    let used: BTreeSet<String> = ui_ids().into_iter().chain(code_ids()).collect();
    let built_in = built_in_words();
    for language in Language::ALL.into_iter().filter(|l| *l != Language::Zh) {
        let stale: Vec<String> = catalogue(language)
            .into_keys()
            .filter(|k| !used.contains(k))
            .filter(|k| !(language == Language::ZhHant && built_in.contains(k)))
            .collect();
        assert!(
            stale.is_empty(),
            "{}: stale entries: {stale:?}",
            language.code()
        );
    }
}

#[test]
fn the_traditional_catalogue_carries_every_built_in_text() {
    let catalogue = catalogue(Language::ZhHant);
    let missing: Vec<String> = built_in_words()
        .into_iter()
        .filter(|w| !catalogue.contains_key(w))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the zh-Hant catalogue: {missing:?}"
    );
    assert_eq!(
        Catalogue::builtin().services[0].name.get(Language::ZhHant),
        "投訴建議"
    );
}

#[test]
fn placeholder_slots_compare_by_count_or_by_number() {
    assert!(same_slots("前面还有 {} 人", "{} ahead"));
    assert!(same_slots("{}月{}日", "{1}/{0}"));
    assert!(!same_slots("{}月{}日", "{1}"));
    assert!(!same_slots("{} 人", "people"));
}
