//! Languages, bilingual text, and the cleaning every piece of resident-typed text goes through.

use serde::{Deserialize, Serialize};

/// The languages the kiosk speaks. Chinese is the default; English is the second language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Zh,
    En,
}

impl Language {
    /// The short code used on the command line and in the database (`zh`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// Parses `zh`/`en` (also `zh-CN`, `zh_CN`, `en-GB` and such, any case).
    pub fn parse(s: &str) -> Option<Language> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.split(['-', '_']).next() {
            Some("zh") => Some(Language::Zh),
            Some("en") => Some(Language::En),
            _ => None,
        }
    }
}

/// A text in both languages, as configuration and the catalogue carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub zh: String,
    pub en: String,
}

impl Localized {
    pub fn new(zh: &str, en: &str) -> Localized {
        Localized {
            zh: zh.to_owned(),
            en: en.to_owned(),
        }
    }

    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

/// Removes what must never be stored or shown from text a resident typed: control characters
/// (C0 except the line break, DEL, C1), bidirectional overrides and isolates (they can make text
/// read differently from what it is), and zero-width spaces. Tabs become spaces, `\r\n` and `\r`
/// become `\n`, runs of blank lines collapse, and the ends are trimmed.
pub fn clean_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            c if is_unwanted(c) => {}
            c => out.push(c),
        }
    }
    let mut collapsed = String::with_capacity(out.len());
    let mut newlines = 0;
    for c in out.trim().chars() {
        if c == '\n' {
            newlines += 1;
            if newlines > 2 {
                continue;
            }
        } else {
            newlines = 0;
        }
        collapsed.push(c);
    }
    collapsed
}

/// Same as [`clean_text`] but for one-line fields (names, short answers): line breaks become
/// spaces.
pub(crate) fn clean_line(input: &str) -> String {
    clean_text(input)
        .split('\n')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_unwanted(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width space, joiners' neighbours, LRM/RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}'              // byte order mark
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

/// Number of characters as a resident would count them (Unicode scalar values).
pub(crate) fn char_count(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_removed_and_line_breaks_kept() {
        let dirty = "楼上\u{1b}@装修\u{0}噪音\r\n每天\t到\u{7f}晚上\u{9b}十一点\u{202e}";
        assert_eq!(clean_text(dirty), "楼上@装修噪音\n每天 到晚上十一点");
    }

    #[test]
    fn blank_lines_collapse_and_ends_are_trimmed() {
        assert_eq!(clean_text("\n\n  a\n\n\n\n\nb  \n"), "a\n\nb");
    }

    #[test]
    fn one_line_fields_lose_their_line_breaks() {
        assert_eq!(clean_line(" 某某\n建筑\r\n公司 "), "某某 建筑 公司");
    }

    #[test]
    fn only_control_characters_clean_to_nothing() {
        assert_eq!(clean_text("\u{1}\u{2}\u{1b}\u{200b}"), "");
    }

    #[test]
    fn language_codes_parse_loosely() {
        assert_eq!(Language::parse("zh_CN"), Some(Language::Zh));
        assert_eq!(Language::parse("EN-gb"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }
}
