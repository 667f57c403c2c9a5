//! Which word follows which: the transitions file (`crates/ime/pinyin.bigrams`, built by
//! `scripts/make-ime-dict.py`) read into what the lattice ([`crate::lattice`]) and
//! [`crate::Dictionary::predict`] ask on every keystroke.
//!
//! Two kinds of line, `kind<TAB>first<TAB>second<TAB>value`:
//! - `w`: the word `second` follows the word `first` with probability value / 1 000 000 (from
//!   jieba's compound words and the resident sentences);
//! - `c`: the character `second` right after the character `first` is value / 10 times as
//!   likely as anywhere (from Pinyin2Hanzi's character counts), for pairs of words no `w` line
//!   knows.
//!
//! A pair whose words the dictionary lacks (a station's own, smaller dictionary) is skipped.

use std::collections::HashMap;

use crate::{DictionaryError, Entry};

/// How much a known word pair may add to a path's log-probability at most, and a character
/// pair: enough to join 三 个 月, not enough to let a pair outweigh everything else.
const WORD_BONUS_MAX: f32 = 6.0;
const CHAR_BONUS_MAX: f32 = 4.0;
/// How far a word pair's own probability is trusted over the next word's frequency alone.
const LAMBDA: f32 = 0.5;

/// The transitions, by word id (the index of a word's first entry: heteronyms share it).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Transitions {
    /// The words that follow a word, likeliest first, with P(next | word).
    followers: HashMap<u32, Vec<(u32, f32)>>,
    /// The words that have followers, by their text (for `predict` and what was written).
    known: HashMap<Box<str>, u32>,
    /// The character pairs more than twice as likely as chance (the first character's code in
    /// the high half, the second's in the low half), sorted, and the natural log of each one's
    /// lift in twentieths (a byte each: eight bytes a pair with its key, not twenty in a map).
    char_pairs: Box<[u64]>,
    char_lift: Box<[u8]>,
}

/// The word a path has just written, as the next word sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Before {
    /// Its word id, if the transitions know any follower of it.
    pub(crate) word: Option<u32>,
    /// Its last character.
    pub(crate) last: Option<char>,
}

impl Transitions {
    /// Parses the transitions file for the words of `entries`, and gives every reading of a
    /// word it names the same word id (the index of the word's first entry).
    pub(crate) fn parse(text: &str, entries: &mut [Entry]) -> Result<Transitions, DictionaryError> {
        let mut t = Transitions::default();
        let mut pairs: Vec<(&str, &str, f32)> = Vec::new();
        let mut lifts: Vec<(u64, u8)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let corrupt = |problem: String| DictionaryError::Corrupt {
                line: i + 1,
                problem,
            };
            let mut fields = line.split('\t');
            let (Some(kind), Some(first), Some(second), Some(value), None) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                return Err(corrupt(format!(
                    "expected `kind<TAB>first<TAB>second<TAB>value`, found {} field(s)",
                    line.split('\t').count()
                )));
            };
            let value: u32 =
                value.parse().ok().filter(|v| *v > 0).ok_or_else(|| {
                    corrupt(format!("the value `{value}` is not a positive number"))
                })?;
            match kind {
                "w" => {
                    if value > 1_000_000 {
                        return Err(corrupt(format!(
                            "the probability {value} is over 1 000 000"
                        )));
                    }
                    pairs.push((first, second, value as f32 / 1_000_000.0));
                }
                "c" => {
                    let one = |s: &str| {
                        let mut chars = s.chars();
                        chars.next().filter(|_| chars.next().is_none())
                    };
                    let (Some(a), Some(b)) = (one(first), one(second)) else {
                        return Err(corrupt(format!(
                            "a `c` line joins two characters, not `{first}` and `{second}`"
                        )));
                    };
                    let lift = ((value as f32 / 10.0).ln().max(0.0) * 20.0)
                        .round()
                        .min(255.0);
                    lifts.push((pair_key(a, b), lift as u8));
                }
                other => return Err(corrupt(format!("unknown kind `{other}` (`w` or `c`)"))),
            }
        }
        // The words the pairs name get their ids in one pass over the dictionary.
        let mut ids: HashMap<&str, u32> = pairs
            .iter()
            .flat_map(|&(a, b, _)| [(a, u32::MAX), (b, u32::MAX)])
            .collect();
        for (i, e) in entries.iter_mut().enumerate() {
            if let Some(id) = ids.get_mut(&*e.word) {
                if *id == u32::MAX {
                    *id = i as u32;
                }
                e.word_id = *id;
            }
        }
        for (first, second, p) in pairs {
            let (a, b) = (ids[first], ids[second]);
            if a != u32::MAX && b != u32::MAX {
                t.followers.entry(a).or_default().push((b, p));
                t.known.entry(first.into()).or_insert(a);
            }
        }
        // Likeliest first; among equals (pairs counted once each in the resident sentences), a
        // longer word (it saves more taps), then a more frequent one.
        for list in t.followers.values_mut() {
            let chars = |id: u32| entries[id as usize].word.chars().count();
            let freq = |id: u32| entries[id as usize].freq;
            list.sort_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(chars(b.0).cmp(&chars(a.0)))
                    .then(freq(b.0).cmp(&freq(a.0)))
            });
            list.dedup_by_key(|f| f.0);
        }
        t.followers.shrink_to_fit();
        t.known.shrink_to_fit();
        lifts.sort_unstable();
        lifts.dedup_by_key(|l| l.0);
        t.char_pairs = lifts.iter().map(|l| l.0).collect();
        t.char_lift = lifts.iter().map(|l| l.1).collect();
        Ok(t)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.followers.is_empty() && self.char_lift.is_empty()
    }

    /// What was written before, for the next word: the longest end of `text` (`longest`
    /// characters at most) that is a word with followers (工资 in 老板拖欠工资), and its last
    /// character.
    pub(crate) fn before(&self, text: &str, longest: usize) -> Before {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let word = (chars.len().saturating_sub(longest)..chars.len())
            .find_map(|i| self.known.get(&text[chars[i].0..]).copied());
        Before {
            word,
            last: chars.last().map(|&(_, c)| c),
        }
    }

    /// The words that follow the word `id`, likeliest first.
    pub(crate) fn followers(&self, id: u32) -> &[(u32, f32)] {
        self.followers.get(&id).map_or(&[], Vec::as_slice)
    }

    /// What writing `next` (its word id, first character and log-probability alone) after
    /// `before` adds to a path's log-probability: P(next | before) over P(next) for a known
    /// word pair, else the lift of the characters where they meet; never less than nothing, so
    /// that a pair nobody counted is not held against a path.
    pub(crate) fn bonus(&self, before: Before, next: u32, first: char, next_lp: f32) -> f32 {
        if let Some(w) = before.word {
            if let Some(&(_, p)) = self.followers(w).iter().find(|f| f.0 == next) {
                let ratio = p / next_lp.exp();
                return (LAMBDA * ratio + (1.0 - LAMBDA))
                    .ln()
                    .clamp(0.0, WORD_BONUS_MAX);
            }
        }
        match before.last {
            Some(last) => self
                .char_pairs
                .binary_search(&pair_key(last, first))
                .map_or(0.0, |i| {
                    (f32::from(self.char_lift[i]) / 20.0).min(CHAR_BONUS_MAX)
                }),
            None => 0.0,
        }
    }
}

fn pair_key(a: char, b: char) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}
