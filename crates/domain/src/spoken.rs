//! What the kiosk says aloud, as words a speech engine reads: the languages it speaks in, and the
//! sentence that calls a ticket to a counter.
//!
//! A spoken language is not a [`Language`] of the screens: Cantonese is spoken but never shown
//! (its words are the Traditional Chinese catalogue's), and a screen in Traditional Chinese may
//! be read in Mandarin or Cantonese. Each spoken language names the catalogue its words come
//! from ([`SpokenLanguage::words`]); the words themselves go through [`crate::t!`] like every
//! other text.
//!
//! **Invariant:** a call says the ticket's number and the counter, never a name or a service
//! (the room hears it, as it reads the now-serving display).

use serde::{Deserialize, Serialize};

use crate::text::Language;

/// The languages the kiosk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SpokenLanguage {
    /// Mandarin (普通话), from the Simplified Chinese words.
    #[serde(rename = "zh")]
    Mandarin,
    /// Cantonese (粤语), from the Traditional Chinese words.
    #[serde(rename = "yue")]
    Cantonese,
    /// English.
    #[serde(rename = "en")]
    English,
}

impl SpokenLanguage {
    /// Every spoken language.
    pub const ALL: [SpokenLanguage; 3] = [
        SpokenLanguage::Mandarin,
        SpokenLanguage::Cantonese,
        SpokenLanguage::English,
    ];

    /// The code in configuration and on the command line: `zh`, `yue`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            SpokenLanguage::Mandarin => "zh",
            SpokenLanguage::Cantonese => "yue",
            SpokenLanguage::English => "en",
        }
    }

    /// Parses a code: `zh` (also `cmn`, `zh-CN`, any case), `yue` (also `zh-yue`, `zh-HK`),
    /// `en`.
    pub fn parse(s: &str) -> Option<SpokenLanguage> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "zh" | "cmn" | "zh-cn" | "zh-hans" | "zh-cmn" => Some(SpokenLanguage::Mandarin),
            "yue" | "zh-yue" | "zh-hk" | "zh-mo" => Some(SpokenLanguage::Cantonese),
            "en" => Some(SpokenLanguage::English),
            _ => None,
        }
    }

    /// The catalogue whose words this language speaks: Mandarin the Simplified Chinese,
    /// Cantonese the Traditional (what a Cantonese voice, and a Cantonese reader, expects),
    /// English the English.
    pub fn words(self) -> Language {
        match self {
            SpokenLanguage::Mandarin => Language::Zh,
            SpokenLanguage::Cantonese => Language::ZhHant,
            SpokenLanguage::English => Language::En,
        }
    }
}

impl std::fmt::Display for SpokenLanguage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A ticket's label as a speech engine must read it: one character at a time, so that `B001`
/// is "B 零 零 一" (Mandarin), "B ling ling yat" (Cantonese), "B zero zero one" (English) and
/// never "B one" or "B 一百零一". Written `B 0 0 1`: digits apart are read as digits by every
/// engine in every language, and the lane letter stays a letter. Anything but ASCII letters
/// and digits is left out (a label has nothing else).
pub fn spoken_ticket(label: &str) -> String {
    let mut out = String::with_capacity(label.len() * 2);
    for c in label.chars().filter(char::is_ascii_alphanumeric) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The sentence that calls ticket `label` to `counter`, in `language`: "请 B 0 0 1 号到 2 号窗口"
/// (Mandarin), "請 B 0 0 1 號到 2 號窗口" (Cantonese), "Number B 0 0 1, please go to counter 2."
/// (English). Only the number and the counter: never a name or a service.
pub fn call_sentence(language: SpokenLanguage, label: &str, counter: u32) -> String {
    crate::t!(
        language.words(),
        "speech" => "请 {} 号到 {} 号窗口",
        spoken_ticket(label),
        counter
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_spoken_one_character_at_a_time() {
        assert_eq!(spoken_ticket("B001"), "B 0 0 1");
        assert_eq!(spoken_ticket("c123"), "C 1 2 3");
        assert_eq!(spoken_ticket(" A-01 "), "A 0 1");
        assert_eq!(spoken_ticket(""), "");
    }

    #[test]
    fn a_call_says_the_number_and_the_counter_in_each_language() {
        assert_eq!(
            call_sentence(SpokenLanguage::Mandarin, "B001", 2),
            "请 B 0 0 1 号到 2 号窗口"
        );
        assert_eq!(
            call_sentence(SpokenLanguage::Cantonese, "B001", 2),
            "請 B 0 0 1 號到 2 號窗口"
        );
        assert_eq!(
            call_sentence(SpokenLanguage::English, "B001", 12),
            "Number B 0 0 1, please go to counter 12."
        );
        let missed = crate::words::missed();
        assert!(
            !missed.iter().any(|(_, id)| id.contains("号窗口")),
            "{missed:?}"
        );
    }

    #[test]
    fn codes_parse_back_and_name_their_catalogue() {
        for l in SpokenLanguage::ALL {
            assert_eq!(SpokenLanguage::parse(l.code()), Some(l));
        }
        assert_eq!(
            SpokenLanguage::parse("zh-HK"),
            Some(SpokenLanguage::Cantonese)
        );
        assert_eq!(SpokenLanguage::parse("CMN"), Some(SpokenLanguage::Mandarin));
        assert_eq!(SpokenLanguage::parse("fr"), None);
        assert_eq!(SpokenLanguage::Cantonese.words(), Language::ZhHant);
    }
}
