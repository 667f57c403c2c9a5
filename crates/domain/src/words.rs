//! Every word a person reads, in every language the kiosk speaks: one translation catalogue per
//! language, `lang/<code>/LC_MESSAGES/grievance-kiosk.po`, in gettext's format.
//!
//! The source language is Simplified Chinese: code writes the Chinese words themselves (the
//! message id) through [`t!`](crate::t), and every other language looks them up in its own
//! catalogue. The screens (`ui/`, `@tr("…")`) read the same files through Slint's bundled
//! translations, so a screen, a slip and a web page say a thing the same way, and adding a
//! language is a new catalogue file plus its [`Language`] variant, not an edit of any code path.
//!
//! **Invariant:** a message id has a translation in every catalogue (`tests/kiosk_headless/translations.rs` in
//! the kiosk checks each `t!` and `@tr` call site against each file); a lookup that misses
//! anyway shows the Chinese and is remembered in [`missed`], which the tests read.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{Display, Write as _};
use std::sync::{Arc, Mutex, OnceLock};

use crate::text::Language;

/// A sentence to be said in whichever language its reader reads: a refusal or a complaint of
/// a check, made where the rule is and said where the person is (a page in its language, the
/// JSON API and the logs in English, its `Display`).
#[derive(Clone)]
pub struct Said(Arc<dyn Fn(Language) -> String + Send + Sync>);

impl Said {
    /// `words` says the sentence in a language (through [`t!`](crate::t)).
    pub fn new(words: impl Fn(Language) -> String + Send + Sync + 'static) -> Said {
        Said(Arc::new(words))
    }

    /// A text that has no translation (a check's English for a machine's caller): the same
    /// in every language.
    pub fn untranslated(text: impl Into<String>) -> Said {
        let text = text.into();
        Said(Arc::new(move |_| text.clone()))
    }

    pub fn in_language(&self, language: Language) -> String {
        (self.0)(language)
    }
}

impl Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_language(Language::En))
    }
}

impl std::fmt::Debug for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Said({:?})", self.in_language(Language::En))
    }
}

/// Two sentences are the same when they say the same in every language.
impl PartialEq for Said {
    fn eq(&self, other: &Said) -> bool {
        [Language::Zh, Language::ZhHant, Language::En]
            .into_iter()
            .all(|l| self.in_language(l) == other.in_language(l))
    }
}

impl Eq for Said {}

/// The catalogue files, compiled in. Simplified Chinese is the source and has none.
const CATALOGUES: &[(Language, &str)] = &[
    (
        Language::En,
        include_str!("../../../lang/en/LC_MESSAGES/grievance-kiosk.po"),
    ),
    (
        Language::ZhHant,
        include_str!("../../../lang/zh-Hant/LC_MESSAGES/grievance-kiosk.po"),
    ),
];

type Table = HashMap<&'static str, String>;

fn tables() -> &'static HashMap<Language, Table> {
    static TABLES: OnceLock<HashMap<Language, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        CATALOGUES
            .iter()
            .map(|(language, po)| {
                let table = parse_po(po)
                    .unwrap_or_else(|e| panic!("the {} catalogue: {e}", language.code()));
                (*language, table)
            })
            .collect()
    })
}

static MISSED: Mutex<BTreeSet<(Language, String)>> = Mutex::new(BTreeSet::new());

/// The words `msgid` (Simplified Chinese) in `language`: the catalogue's translation, or the
/// Chinese itself when the catalogue has none (which is a bug, recorded for [`missed`]).
pub fn lookup(language: Language, msgid: &str) -> &str {
    translation(language, msgid).unwrap_or_else(|| missing(language, msgid, msgid))
}

/// [`lookup`] of `msgid` in the context `context`.
pub fn lookup_in<'a>(language: Language, context: &str, msgid: &'a str) -> &'a str {
    let key = format!("{context}{CONTEXT_SEPARATOR}{msgid}");
    translation(language, &key).unwrap_or_else(|| missing(language, &key, msgid))
}

/// A lookup that found nothing: remembered for [`missed`] (Chinese, the source, never misses),
/// and the Chinese `msgid` shown instead.
fn missing<'a>(language: Language, key: &str, msgid: &'a str) -> &'a str {
    if language != Language::Zh {
        MISSED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((language, key.to_owned()));
    }
    msgid
}

/// The catalogue's translation of `msgid` in `language`, if it has one (never for Chinese).
pub fn translation(language: Language, msgid: &str) -> Option<&'static str> {
    tables()
        .get(&language)
        .and_then(|table| table.get(msgid))
        .map(String::as_str)
}

/// The message ids looked up but missing from their language's catalogue, since the process
/// started: empty when every word on every page, slip and screen drawn so far is translated.
pub fn missed() -> Vec<(Language, String)> {
    MISSED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// `template` with its placeholders filled: `{}` takes the next argument, `{0}`, `{1}` … the
/// numbered one (a translation may reorder them), `{{` and `}}` are braces. The same rules as
/// Slint's `@tr`, so one catalogue serves both.
pub fn format(template: &str, args: &[&dyn Display]) -> String {
    let mut out = String::with_capacity(template.len() + 8 * args.len());
    let mut next = 0;
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(close) = tail.strip_prefix('{').and_then(|t| t.find('}')) {
            let inside = &tail[1..1 + close];
            let index = if inside.is_empty() {
                next += 1;
                Some(next - 1)
            } else {
                inside.parse::<usize>().ok()
            };
            if let Some(arg) = index.and_then(|i| args.get(i)) {
                let _ = write!(out, "{arg}");
                rest = &tail[close + 2..];
                continue;
            }
        }
        // A lone brace, or a placeholder without its argument: kept as written.
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// The separator gettext puts between a context and its message id.
pub const CONTEXT_SEPARATOR: char = '\u{4}';

/// The words in `language`: `t!(language, "下一位就是您")`, or with placeholders
/// `t!(language, "前面还有 {} 人", ahead)`. Where one Chinese text needs two translations, a
/// context tells them apart: `t!(language, "hub" => "已收到")` (`msgctxt "hub"` in the
/// catalogue). The message id must be a string literal, so that the catalogue check finds
/// every one.
#[macro_export]
macro_rules! t {
    ($language:expr, $context:literal => $msgid:literal) => {
        $crate::words::lookup_in($language, $context, $msgid)
    };
    ($language:expr, $context:literal => $msgid:literal, $($arg:expr),+ $(,)?) => {
        $crate::words::format(
            $crate::words::lookup_in($language, $context, $msgid),
            &[$(&$arg as &dyn ::std::fmt::Display),+],
        )
    };
    ($language:expr, $msgid:literal) => {
        $crate::words::lookup($language, $msgid)
    };
    ($language:expr, $msgid:literal, $($arg:expr),+ $(,)?) => {
        $crate::words::format(
            $crate::words::lookup($language, $msgid),
            &[$(&$arg as &dyn ::std::fmt::Display),+],
        )
    };
}

/// A catalogue that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct PoError {
    pub line: usize,
    pub problem: String,
}

/// Reads a gettext catalogue: `msgid`/`msgstr` pairs, `msgctxt` contexts (the key is then the
/// context, [`CONTEXT_SEPARATOR`] and the id, as gettext has it), strings continued on following
/// lines, `#` comments; entries marked `#, fuzzy` and empty translations are left out, as
/// gettext does. A message id given twice (in one context) is an error.
pub fn parse_po(text: &str) -> Result<HashMap<&'static str, String>, PoError> {
    let entries = po_entries(text)?;
    let mut table = HashMap::with_capacity(entries.len());
    for entry in entries {
        if entry.msgid.is_empty() || entry.msgstr.is_empty() || entry.fuzzy {
            continue;
        }
        // Leaked once per process: the tables live until the end and hand out `'static` words.
        let id: &'static str = Box::leak(entry.msgid.into_boxed_str());
        table.insert(id, entry.msgstr);
    }
    Ok(table)
}

/// One entry of a catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoEntry {
    pub msgid: String,
    pub msgstr: String,
    pub fuzzy: bool,
    /// The line its `msgid` is on, counting from 1.
    pub line: usize,
}

/// The entries of a catalogue in file order (the header, whose id is empty, included).
pub fn po_entries(text: &str) -> Result<Vec<PoEntry>, PoError> {
    enum Field {
        None,
        Context,
        Id,
        Str,
    }
    let mut context: Option<(String, usize)> = None;
    let mut entries: Vec<PoEntry> = Vec::new();
    let mut seen = HashMap::new();
    let mut fuzzy = false;
    let mut field = Field::None;
    let mut current: Option<PoEntry> = None;
    let finish = |current: &mut Option<PoEntry>,
                  entries: &mut Vec<PoEntry>,
                  seen: &mut HashMap<String, usize>|
     -> Result<(), PoError> {
        if let Some(entry) = current.take() {
            if let Some(first) = seen.insert(entry.msgid.clone(), entry.line) {
                return Err(PoError {
                    line: entry.line,
                    problem: format!("{:?} is already on line {first}", entry.msgid),
                });
            }
            entries.push(entry);
        }
        Ok(())
    };
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        let bad = |problem: &str| PoError {
            line: line_no,
            problem: problem.to_owned(),
        };
        if line.is_empty() {
            field = Field::None;
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if comment.starts_with(',') && comment.contains("fuzzy") {
                fuzzy = true;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("msgctxt ") {
            finish(&mut current, &mut entries, &mut seen)?;
            context = Some((unquote(rest).map_err(|p| bad(&p))?, line_no));
            field = Field::Context;
        } else if let Some(rest) = line.strip_prefix("msgid ") {
            finish(&mut current, &mut entries, &mut seen)?;
            let id = unquote(rest).map_err(|p| bad(&p))?;
            current = Some(PoEntry {
                msgid: match context.take() {
                    Some((ctx, _)) => format!("{ctx}{CONTEXT_SEPARATOR}{id}"),
                    None => id,
                },
                msgstr: String::new(),
                fuzzy: std::mem::take(&mut fuzzy),
                line: line_no,
            });
            field = Field::Id;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            let entry = current
                .as_mut()
                .ok_or_else(|| bad("msgstr without a msgid before it"))?;
            entry.msgstr = unquote(rest).map_err(|p| bad(&p))?;
            field = Field::Str;
        } else if line.starts_with('"') {
            let more = unquote(line).map_err(|p| bad(&p))?;
            match (&field, current.as_mut()) {
                (Field::Context, _) => match context.as_mut() {
                    Some((ctx, _)) => ctx.push_str(&more),
                    None => return Err(bad("a string that continues nothing")),
                },
                (Field::Id, Some(entry)) => entry.msgid.push_str(&more),
                (Field::Str, Some(entry)) => entry.msgstr.push_str(&more),
                _ => return Err(bad("a string that continues nothing")),
            }
        } else if line.starts_with("msgid_plural") {
            return Err(bad("plurals are not used by this project's catalogues"));
        } else {
            return Err(bad("expected msgid, msgstr, a quoted string or a comment"));
        }
    }
    finish(&mut current, &mut entries, &mut seen)?;
    if let Some((_, line)) = context {
        return Err(PoError {
            line,
            problem: "msgctxt without a msgid after it".to_owned(),
        });
    }
    Ok(entries)
}

/// The text of one `"…"` string, its escapes undone.
fn unquote(s: &str) -> Result<String, String> {
    let inner = s
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("expected a string in double quotes, found {s:?}"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_in_order_by_number_and_braces_escape() {
        assert_eq!(
            format("前面还有 {} 人 · 约 {}–{} 分钟", &[&3, &5, &9]),
            "前面还有 3 人 · 约 5–9 分钟"
        );
        assert_eq!(format("{1} before {0}", &[&"b", &"a"]), "a before b");
        assert_eq!(format("{{x}} {}", &[&1]), "{x} 1");
        assert_eq!(format("{} {}", &[&1]), "1 {}");
        assert_eq!(format("a } b {", &[]), "a } b {");
    }

    #[test]
    fn a_catalogue_reads_continued_strings_and_skips_fuzzy_and_empty_entries() {
        let po = "msgid \"\"\nmsgstr \"\"\n\"Language: en\\n\"\n\n# note\nmsgid \"已收到\"\nmsgstr \"Rec\"\n\"eived\"\n\n#, fuzzy\nmsgid \"办理中\"\nmsgstr \"Doing\"\n\nmsgid \"已办结\"\nmsgstr \"\"\n";
        let table = parse_po(po).unwrap();
        assert_eq!(table.get("已收到").map(String::as_str), Some("Received"));
        assert!(!table.contains_key("办理中"));
        assert!(!table.contains_key("已办结"));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn a_context_keeps_two_translations_of_one_text_apart() {
        let po = "msgid \"已收到\"\nmsgstr \"Got it\"\n\nmsgctxt \"hub\"\nmsgid \"已收到\"\nmsgstr \"Received\"\n";
        let table = parse_po(po).unwrap();
        assert_eq!(table.get("已收到").map(String::as_str), Some("Got it"));
        assert_eq!(
            table.get("hub\u{4}已收到").map(String::as_str),
            Some("Received")
        );
    }

    #[test]
    fn a_broken_catalogue_names_the_line_and_the_fault() {
        let twice = "msgid \"a\"\nmsgstr \"x\"\n\nmsgid \"a\"\nmsgstr \"y\"\n";
        let e = parse_po(twice).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("already on line 1"), "{e}");
        let stray = "msgid \"a\"\nmsgstr \"x\"\nwhat\n";
        assert_eq!(parse_po(stray).unwrap_err().line, 3);
        let open = "msgid \"a\nmsgstr \"x\"\n";
        assert_eq!(parse_po(open).unwrap_err().line, 1);
    }

    #[test]
    fn every_language_reads_its_own_catalogue_and_chinese_is_the_source() {
        assert_eq!(crate::t!(Language::Zh, "取消"), "取消");
        assert_eq!(crate::t!(Language::En, "取消"), "Cancel");
        assert_eq!(crate::t!(Language::ZhHant, "首页"), "首頁");
        let missed = missed();
        assert!(
            !missed.iter().any(|(_, id)| id == "取消" || id == "首页"),
            "{missed:?}"
        );
    }

    #[test]
    fn a_missing_word_shows_the_chinese_and_is_remembered() {
        assert_eq!(lookup(Language::En, "没有这个词条"), "没有这个词条");
        assert!(missed().contains(&(Language::En, "没有这个词条".to_owned())));
    }
}
