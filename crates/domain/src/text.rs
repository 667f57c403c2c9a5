//! Languages, bilingual text, and the cleaning every piece of resident-typed text goes through.

use serde::{Deserialize, Serialize};

/// The languages the kiosk speaks. Simplified Chinese is the default and the source of every
/// translation ([`crate::words`]); Traditional Chinese serves visitors from Hong Kong, Macau and
/// Taiwan; English is the third.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Language {
    #[default]
    #[serde(rename = "zh")]
    Zh,
    #[serde(rename = "zh-Hant")]
    ZhHant,
    #[serde(rename = "en")]
    En,
}

impl Language {
    /// Every language, in the order the language switch offers them.
    pub const ALL: [Language; 3] = [Language::Zh, Language::ZhHant, Language::En];

    /// The code used on the command line, in the database and on the wire (`zh`, `zh-Hant`,
    /// `en`): BCP 47 tags, which are also the names of the catalogues' directories in `lang/`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::ZhHant => "zh-Hant",
            Language::En => "en",
        }
    }

    /// The language's name in itself, as the language switch shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::Zh => "简体中文",
            Language::ZhHant => "繁體中文",
            Language::En => "English",
        }
    }

    /// Whether the language is written in Chinese characters (either script).
    pub fn is_chinese(self) -> bool {
        matches!(self, Language::Zh | Language::ZhHant)
    }

    /// Parses a language tag, any case, `-` or `_`: `zh`, `zh-CN`, `zh-Hans`, `zh-SG` are
    /// Simplified; `zh-Hant`, `zh-TW`, `zh-HK`, `zh-MO` (and `zh-Hant-HK` and such) are
    /// Traditional; `en`, `en-GB` and such are English.
    pub fn parse(s: &str) -> Option<Language> {
        let lower = s.trim().to_ascii_lowercase();
        let mut parts = lower.split(['-', '_']);
        match parts.next() {
            Some("zh") => {
                let traditional = parts.any(|p| matches!(p, "hant" | "tw" | "hk" | "mo"));
                Some(if traditional {
                    Language::ZhHant
                } else {
                    Language::Zh
                })
            }
            Some("en") => Some(Language::En),
            _ => None,
        }
    }
}

/// A text that configuration and the services' catalogue carry in Chinese and English. Its
/// Traditional Chinese is its own `zh-Hant` when given, else the Traditional catalogue's
/// translation of its Chinese ([`crate::words`]), else the Chinese as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub zh: String,
    pub en: String,
    #[serde(rename = "zh-Hant", default, skip_serializing_if = "Option::is_none")]
    pub zh_hant: Option<String>,
}

impl Localized {
    pub fn new(zh: &str, en: &str) -> Localized {
        Localized {
            zh: zh.to_owned(),
            en: en.to_owned(),
            zh_hant: None,
        }
    }

    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
            Language::ZhHant => match &self.zh_hant {
                Some(own) => own,
                None => crate::words::translation(Language::ZhHant, &self.zh).unwrap_or(&self.zh),
            },
        }
    }
}

/// A day of the week, short (`周一`, `Mon`), as the screens, slips and pages write it.
pub fn weekday_words(day: chrono::Weekday, language: Language) -> &'static str {
    use chrono::Weekday;
    match day {
        Weekday::Mon => crate::t!(language, "周一"),
        Weekday::Tue => crate::t!(language, "周二"),
        Weekday::Wed => crate::t!(language, "周三"),
        Weekday::Thu => crate::t!(language, "周四"),
        Weekday::Fri => crate::t!(language, "周五"),
        Weekday::Sat => crate::t!(language, "周六"),
        Weekday::Sun => crate::t!(language, "周日"),
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
        assert_eq!(Language::parse("zh-Hant"), Some(Language::ZhHant));
        assert_eq!(Language::parse("zh-Hant-HK"), Some(Language::ZhHant));
        assert_eq!(Language::parse("zh_TW"), Some(Language::ZhHant));
        assert_eq!(Language::parse("zh-hk"), Some(Language::ZhHant));
        assert_eq!(Language::parse("zh-Hans-CN"), Some(Language::Zh));
        for language in Language::ALL {
            assert_eq!(Language::parse(language.code()), Some(language));
        }
    }
}
