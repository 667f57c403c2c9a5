//! Every word the screens say in Chinese has its English: each `@tr("…")` in `ui/` has an
//! entry with a non-empty translation in `lang/en/LC_MESSAGES/grievance-kiosk.po`, with the
//! same `{}` placeholders, and the catalogue holds nothing the UI no longer uses.

use std::collections::BTreeMap;
use std::path::Path;

fn slint_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slint_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slint") {
            out.push(path);
        }
    }
}

/// Reads a double-quoted string starting after its opening quote, unescaping `\"` and `\\`.
fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    out.push(match next {
                        'n' => '\n',
                        other => other,
                    });
                }
            }
            c => out.push(c),
        }
    }
    panic!("unterminated string");
}

fn ui_strings() -> Vec<String> {
    let mut files = Vec::new();
    slint_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("@tr(\"") {
            let (s, after) = quoted(&rest[at + 5..]);
            found.push(s);
            rest = after;
        }
    }
    found.sort();
    found.dedup();
    found
}

fn catalogue() -> BTreeMap<String, String> {
    let po = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/lang/en/LC_MESSAGES/grievance-kiosk.po"
    ))
    .unwrap();
    let mut entries = BTreeMap::new();
    let mut id: Option<String> = None;
    for line in po.lines() {
        if let Some(rest) = line.strip_prefix("msgid \"") {
            id = Some(quoted(rest).0);
        } else if let Some(rest) = line.strip_prefix("msgstr \"") {
            if let Some(id) = id.take() {
                if !id.is_empty() {
                    entries.insert(id, quoted(rest).0);
                }
            }
        }
    }
    entries
}

#[test]
fn every_screen_string_has_an_english_translation_with_the_same_placeholders() {
    let catalogue = catalogue();
    let strings = ui_strings();
    assert!(
        strings.len() > 40,
        "found only {} @tr strings: is the scan broken?",
        strings.len()
    );
    let mut missing = Vec::new();
    for s in &strings {
        match catalogue.get(s) {
            None => missing.push(format!("missing: {s}")),
            Some(t) if t.trim().is_empty() => missing.push(format!("empty: {s}")),
            Some(t) if t.matches("{}").count() != s.matches("{}").count() => {
                missing.push(format!("placeholders differ: {s} → {t}"))
            }
            Some(_) => {}
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_catalogue_holds_no_translation_the_ui_no_longer_uses() {
    let strings = ui_strings();
    let stale: Vec<String> = catalogue()
        .into_keys()
        .filter(|k| !strings.contains(k))
        .collect();
    assert!(stale.is_empty(), "stale entries: {stale:?}");
}
