//! The pinyin input method of the on-screen keyboard: what a resident types in letters becomes
//! ranked Chinese candidates.
//!
//! Pure: [`Dictionary::parse`] reads the dictionary's text (`crates/ime/pinyin.dict`, built by
//! `scripts/make-ime-dict.py`; `Dictionary::load` is the one function that touches a file) and
//! [`Dictionary::suggest`] answers a keystroke with no I/O.
//!
//! The input is cut into tokens, every way it can be: a whole syllable (`zhong`), or the
//! first letter of one (an abbreviation, `zg` → 中国, `gzqf` → 工资欠发), or, at the end, the start
//! of one still being typed (`gongz` → 工资). An apostrophe forces a boundary (`xi'an` → 西安,
//! while `xian` offers 先 and 西安 both). A word matches when each of its syllables matches its
//! token. The words that can start at each position form a lattice ([`lattice`]): each word
//! scored by its probability, less a penalty for each syllable typed by its initial only, and
//! each pair of neighbours by how likely the second is after the first ([`model`]: word pairs
//! from jieba's compounds and sentences residents say, and character pairs from Pinyin2Hanzi).
//!
//! Candidates: first what uses the whole input, best first: the best sentence through the
//! lattice (`laobantuoqiangongzi` → 老板拖欠工资, `lbtqgz` too), the second best, and every word
//! that matches the whole input by itself; then words that use a leading part of it (committed
//! piece by piece), longer first. Within each, what this resident already picked in this session
//! comes first ([`Session`], cleared with the idle reset: what someone typed is personal data).
//! [`Dictionary::suggest_after`] takes the word just written into account, and
//! [`Dictionary::predict`] offers the words likely to follow it before anything is typed.
//! Fuzzy pairs common in southern speech (z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing) are an
//! option ([`Options::fuzzy`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

mod lattice;
mod model;

use model::Transitions;

/// The longest input considered (letters and apostrophes); more is ignored.
pub const MAX_INPUT: usize = 48;

/// Candidates returned at most (the keyboard pages through them).
pub(crate) const MAX_CANDIDATES: usize = 60;

/// A dictionary that could not be read or parsed: the keyboard falls back to letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    #[error("cannot read the pinyin dictionary {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("the pinyin dictionary is empty")]
    Empty,
    #[error("the pinyin dictionary is damaged at line {line}: {problem}")]
    Corrupt { line: usize, problem: String },
    /// An empty or damaged dictionary file, with its path.
    #[error("{path}: {problem}")]
    InFile {
        path: String,
        problem: Box<DictionaryError>,
    },
}

/// One word of the dictionary.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    word: Box<str>,
    /// Syllable ids, one per character.
    syllables: Box<[u16]>,
    freq: u32,
    /// Which word it is, for the transitions: the same for each reading of a word the
    /// transitions name (the index of its first entry), else the entry's own index.
    word_id: u32,
}

/// The loaded dictionary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dictionary {
    /// Every syllable the dictionary knows (`zhong`), by id.
    syllables: Vec<Box<str>>,
    syllable_ids: HashMap<Box<str>, u16>,
    entries: Vec<Entry>,
    /// Entries by the first letters of their syllables (`zg` for 中国), most frequent first.
    by_initials: HashMap<Box<str>, Vec<u32>>,
    /// Every proper start of a syllable (`zh`, `zho`, `zhon` for `zhong`), for the syllable
    /// still being typed and the abbreviations: looked up, not searched, on every keystroke.
    starts: HashSet<Box<str>>,
    /// Every start of a key of `by_initials` (`z`, `zg`, `zgr` for 中国人): a run of tokens
    /// is matched further only while some word can still come of it.
    initials_prefixes: HashSet<u64>,
    /// The natural log of the sum of all frequencies: a word's log-probability is its own
    /// frequency's less this.
    ln_total: f32,
    /// The most syllables a word has.
    longest: usize,
    /// Which word follows which (none until [`Dictionary::with_transitions`]).
    model: Transitions,
}

/// How the input method behaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing for each other.
    pub fuzzy: bool,
}

/// One candidate: the word, and how many bytes of the typed text it uses, counted in the text
/// as given (characters the input method ignores, such as spaces or digits, are used with the
/// letters before them), so `&typed[consumed..]` is always the rest to go on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub word: String,
    pub consumed: usize,
}

/// What one resident picked, to rank it first next time. Dropped at the idle reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    picked: HashMap<String, u32>,
}

impl Session {
    /// The resident picked `word`.
    pub fn picked(&mut self, word: &str) {
        *self.picked.entry(word.to_owned()).or_insert(0) += 1;
    }

    pub fn clear(&mut self) {
        self.picked.clear();
    }
}

/// A token of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A whole syllable: the syllable ids it may be (more than one with fuzzy pairs).
    Full(Vec<u16>),
    /// The start of a syllable (a single letter in the middle: an abbreviation).
    Prefix(String),
}

/// The dictionary shipped with the kiosk (`crates/ime/pinyin.dict`, compiled in).
pub const BUILTIN: &str = include_str!("../pinyin.dict");

/// Which word follows which, shipped with the kiosk (`crates/ime/pinyin.bigrams`, compiled in):
/// used with the built-in dictionary and with a station's own.
pub const BUILTIN_TRANSITIONS: &str = include_str!("../pinyin.bigrams");

impl Dictionary {
    /// The dictionary shipped with the kiosk, with its transitions.
    pub fn builtin() -> Result<Dictionary, DictionaryError> {
        Dictionary::parse(BUILTIN)?.with_transitions(BUILTIN_TRANSITIONS)
    }

    /// The dictionary a station configured (`[ime] dictionary`), else the built-in one; either
    /// with the built-in transitions (those between words the station's file has).
    pub fn configured(path: Option<&Path>) -> Result<Dictionary, DictionaryError> {
        match path {
            Some(p) => Dictionary::load(p)?.with_transitions(BUILTIN_TRANSITIONS),
            None => Dictionary::builtin(),
        }
    }

    /// Adds the transitions (the format of `crates/ime/pinyin.bigrams`, see [`model`]); a
    /// damaged line is refused with its number, a pair of words this dictionary lacks skipped.
    pub fn with_transitions(mut self, text: &str) -> Result<Dictionary, DictionaryError> {
        self.model = Transitions::parse(text, &mut self.entries)?;
        Ok(self)
    }

    /// Whether transitions were added.
    pub fn has_transitions(&self) -> bool {
        !self.model.is_empty()
    }

    /// Reads the dictionary file.
    pub fn load(path: &Path) -> Result<Dictionary, DictionaryError> {
        let text = std::fs::read_to_string(path).map_err(|e| DictionaryError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Dictionary::parse(&text).map_err(|e| DictionaryError::InFile {
            path: path.display().to_string(),
            problem: Box::new(e),
        })
    }

    /// Parses the dictionary's text: `syllables<TAB>word<TAB>frequency` per line, `#` comments.
    pub fn parse(text: &str) -> Result<Dictionary, DictionaryError> {
        let mut d = Dictionary::default();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let corrupt = |problem: String| DictionaryError::Corrupt {
                line: i + 1,
                problem,
            };
            let mut fields = line.split('\t');
            let (Some(reading), Some(word), Some(freq), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(corrupt(format!(
                    "expected `syllables<TAB>word<TAB>frequency`, found {} field(s)",
                    line.split('\t').count()
                )));
            };
            let freq: u32 = freq
                .parse()
                .map_err(|_| corrupt(format!("the frequency `{freq}` is not a whole number")))?;
            let mut ids = Vec::new();
            for s in reading.split(' ') {
                if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_lowercase()) {
                    return Err(corrupt(format!(
                        "`{s}` is not a syllable (1–6 lower-case letters, one space between)"
                    )));
                }
                ids.push(d.syllable_id(s));
            }
            if ids.len() != word.chars().count() {
                return Err(corrupt(format!(
                    "`{word}` has {} character(s) but {} syllable(s)",
                    word.chars().count(),
                    ids.len()
                )));
            }
            d.entries.push(Entry {
                word: word.into(),
                syllables: ids.into(),
                freq,
                word_id: d.entries.len() as u32,
            });
        }
        if d.entries.is_empty() {
            return Err(DictionaryError::Empty);
        }
        let total: f64 = d.entries.iter().map(|e| f64::from(e.freq)).sum();
        d.ln_total = (total + 1.0).ln() as f32;
        d.longest = d
            .entries
            .iter()
            .map(|e| e.syllables.len())
            .max()
            .unwrap_or(1);
        let mut by_initials: HashMap<Box<str>, Vec<u32>> = HashMap::new();
        for (i, e) in d.entries.iter().enumerate() {
            let key: String = e
                .syllables
                .iter()
                .map(|&s| d.syllables[s as usize].as_bytes()[0] as char)
                .collect();
            by_initials.entry(key.into()).or_default().push(i as u32);
        }
        for list in by_initials.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(d.entries[i as usize].freq));
        }
        let mut initials_prefixes = HashSet::new();
        for key in by_initials.keys() {
            for end in 1..=key.len() {
                initials_prefixes.insert(pack(&key[..end]));
            }
        }
        d.initials_prefixes = initials_prefixes;
        d.by_initials = by_initials;
        let mut starts = HashSet::new();
        for syl in &d.syllables {
            for end in 1..syl.len() {
                starts.insert(syl[..end].into());
            }
        }
        d.starts = starts;
        Ok(d)
    }

    fn syllable_id(&mut self, s: &str) -> u16 {
        if let Some(&id) = self.syllable_ids.get(s) {
            return id;
        }
        let id = self.syllables.len() as u16;
        self.syllables.push(s.into());
        self.syllable_ids.insert(s.into(), id);
        id
    }

    /// How many words it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every word the dictionary can offer.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| &*e.word)
    }

    fn is_syllable(&self, s: &str) -> bool {
        self.syllable_ids.contains_key(s)
    }

    /// Whether `s` begins a longer syllable.
    fn is_syllable_start(&self, s: &str) -> bool {
        self.starts.contains(s)
    }

    /// The syllables `s` may stand for with fuzzy pairs on.
    fn fuzzy_ids(&self, s: &str, fuzzy: bool) -> Vec<u16> {
        let mut out: Vec<u16> = self.syllable_ids.get(s).copied().into_iter().collect();
        if !fuzzy {
            return out;
        }
        let mut variants = vec![s.to_owned()];
        let swap_start = |v: &str, a: &str, b: &str| -> Option<String> {
            if let Some(rest) = v.strip_prefix(b) {
                return Some(format!("{a}{rest}"));
            }
            v.strip_prefix(a)
                .filter(|rest| !rest.starts_with('h') || a.ends_with('h'))
                .map(|rest| format!("{b}{rest}"))
        };
        for (a, b) in [("z", "zh"), ("c", "ch"), ("s", "sh"), ("n", "l")] {
            let more: Vec<String> = variants
                .iter()
                .filter_map(|v| swap_start(v, a, b))
                .collect();
            variants.extend(more);
        }
        for (a, b) in [("an", "ang"), ("en", "eng"), ("in", "ing")] {
            let more: Vec<String> = variants
                .iter()
                .filter_map(|v| {
                    if let Some(stem) = v.strip_suffix(b) {
                        Some(format!("{stem}{a}"))
                    } else {
                        v.strip_suffix(a).map(|stem| format!("{stem}{b}"))
                    }
                })
                .collect();
            variants.extend(more);
        }
        for v in variants {
            if let Some(&id) = self.syllable_ids.get(v.as_str()) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }

    fn matches<'t>(&self, e: &Entry, tokens: impl ExactSizeIterator<Item = &'t Token>) -> bool {
        e.syllables.len() == tokens.len()
            && e.syllables.iter().zip(tokens).all(|(&s, t)| match t {
                Token::Full(ids) => ids.contains(&s),
                Token::Prefix(p) => self.syllables[s as usize].starts_with(p.as_str()),
            })
    }

    /// The first letters a token can start with (more than one with n/l fuzzy).
    fn token_initials(&self, t: &Token) -> Vec<u8> {
        match t {
            Token::Full(ids) => {
                let mut v: Vec<u8> = ids
                    .iter()
                    .map(|&i| self.syllables[i as usize].as_bytes()[0])
                    .collect();
                v.sort();
                v.dedup();
                v
            }
            Token::Prefix(p) => vec![p.as_bytes()[0]],
        }
    }

    /// What has been typed, cut into syllables for the resident to read: `gongzituo` shows as
    /// `gong zi tuo`, `gongz` as `gong z`; an apostrophe typed stays (`xi'an`). The cut uses
    /// as few pieces as it can, in whole syllables where it can (`dier` → `di er`); a letter
    /// that starts no syllable stands alone. Only for showing: [`Dictionary::suggest`] tries
    /// every cut.
    pub fn spell(&self, typed: &str) -> String {
        let mut out = String::new();
        let chunks: Vec<&str> = typed.split('\'').collect();
        for (c, chunk) in chunks.iter().enumerate() {
            if c > 0 {
                out.push('\'');
            }
            let last_chunk = c + 1 == chunks.len();
            let n = chunk.len();
            if !chunk.is_ascii() {
                out.push_str(chunk);
                continue;
            }
            // best[i]: the cheapest cut of chunk[..i], and where its last piece starts.
            let mut best: Vec<(u32, usize)> = vec![(u32::MAX, 0); n + 1];
            best[0] = (0, 0);
            for i in 1..=n {
                for j in i.saturating_sub(6)..i {
                    if best[j].0 == u32::MAX {
                        continue;
                    }
                    let piece = &chunk[j..i];
                    let cost = if self.is_syllable(piece) {
                        2
                    } else if self.is_syllable_start(piece)
                        && (i - j == 1 || (last_chunk && i == n))
                    {
                        // An initial (an abbreviation), or the syllable still being typed.
                        3
                    } else if i - j == 1 {
                        5
                    } else {
                        continue;
                    };
                    if best[j].0 + cost < best[i].0 {
                        best[i] = (best[j].0 + cost, j);
                    }
                }
            }
            let mut cuts = Vec::new();
            let mut i = n;
            while i > 0 {
                let j = best[i].1;
                cuts.push(&chunk[j..i]);
                i = j;
            }
            cuts.reverse();
            out.push_str(&cuts.join(" "));
        }
        out
    }

    /// The ranked candidates for what has been typed (see the module documentation).
    pub fn suggest(&self, typed: &str, options: Options, session: &Session) -> Vec<Candidate> {
        self.suggest_after(typed, "", options, session)
    }

    /// The ranked candidates for what has been typed right after `previous` (what was written
    /// just before, such as the word just picked; "" for nothing): the first word is ranked by
    /// how likely it is to follow.
    pub fn suggest_after(
        &self,
        typed: &str,
        previous: &str,
        options: Options,
        session: &Session,
    ) -> Vec<Candidate> {
        // The letters and apostrophes of what was typed (anything else is ignored), and where
        // each ends in `typed`: a candidate's `consumed` counts bytes of `typed` as given.
        let mut input = String::new();
        let mut ends = Vec::new();
        for (at, c) in typed.char_indices() {
            if input.len() >= MAX_INPUT {
                break;
            }
            if is_pinyin(c) {
                input.push(c.to_ascii_lowercase());
                ends.push(at + c.len_utf8());
            }
        }
        // `n` bytes of `input` in bytes of `typed`, with the ignored characters that follow.
        let in_typed = |n: usize| {
            let at = n.checked_sub(1).map_or(0, |i| ends[i]);
            let rest = &typed[at..];
            at + rest.len() - rest.trim_start_matches(|c: char| !is_pinyin(c)).len()
        };
        let body = input.trim_matches('\'');
        if body.is_empty() {
            return Vec::new();
        }
        // Apostrophes at either end are no syllable's: those before count into the first word,
        // those after into a word that reaches the end.
        let lead = input.len() - input.trim_start_matches('\'').len();
        let consumed = |end: usize| {
            if end == body.len() {
                input.len()
            } else {
                lead + end
            }
        };
        let context = self.model.before(previous, self.longest);
        let lattice = self.lattice(body, options.fuzzy, context);
        // (whole input?, consumed, typed by initials?, picked, score, word)
        let mut scored: Vec<(bool, usize, bool, u32, f32, String)> = Vec::new();
        let picked = |word: &str| session.picked.get(word).copied().unwrap_or(0);
        for s in self
            .sentences(&lattice, body.len())
            .into_iter()
            .filter(|s| s.entries.len() > 1)
            .take(2)
        {
            let word: String = s
                .entries
                .iter()
                .map(|&i| &*self.entries[i as usize].word)
                .collect();
            scored.push((true, input.len(), s.initials, 0, s.score, word));
        }
        for e in &lattice.first {
            let entry = &self.entries[e.entry as usize];
            let whole = e.end == body.len();
            // A word of a leading part typed by initials is left out (`nih` is not 拟合 in
            // `nihao`): the sentence through the whole input covers it.
            if !whole && e.initials && entry.syllables.len() > 1 {
                continue;
            }
            let score = e.score + self.bonus(context, e.entry);
            scored.push((
                whole,
                consumed(e.end),
                e.initials,
                picked(&entry.word),
                score,
                entry.word.to_string(),
            ));
        }
        // The whole input first; then longer words (more input used); whole syllables before
        // initials (`san` is 三 before 上岸); what this resident picked; the score.
        scored.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.cmp(&a.1))
                .then(a.2.cmp(&b.2))
                .then(b.3.cmp(&a.3))
                .then(b.4.total_cmp(&a.4))
                .then(a.5.cmp(&b.5))
        });
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (_, consumed, _, _, _, word) in scored {
            if seen.insert(word.clone()) {
                out.push(Candidate {
                    word,
                    consumed: in_typed(consumed),
                });
                if out.len() >= MAX_CANDIDATES {
                    break;
                }
            }
        }
        out
    }

    /// The words likely to follow `previous` (what was just written: a word, or a longer text
    /// whose last word counts), likeliest first, `limit` at most; each uses no input
    /// (`consumed` 0). Nothing when the transitions know no word `previous` ends with.
    pub fn predict(&self, previous: &str, limit: usize) -> Vec<Candidate> {
        let Some(word) = self.model.before(previous, self.longest).word else {
            return Vec::new();
        };
        self.model
            .followers(word)
            .iter()
            .take(limit)
            .map(|&(next, _)| Candidate {
                word: self.entries[next as usize].word.to_string(),
                consumed: 0,
            })
            .collect()
    }

    /// The initials keys a run of tokens can have.
    fn keys<'t>(&self, tokens: impl Iterator<Item = &'t Token>) -> Vec<String> {
        let mut keys = vec![String::new()];
        for t in tokens {
            let letters = self.token_initials(t);
            if letters.len() == 1 {
                for k in &mut keys {
                    k.push(letters[0] as char);
                }
                continue;
            }
            let mut next = Vec::with_capacity(keys.len() * letters.len());
            for k in &keys {
                for &l in &letters {
                    let mut k = k.clone();
                    k.push(l as char);
                    next.push(k);
                }
            }
            keys = next;
            if keys.len() > 16 {
                keys.truncate(16);
            }
        }
        keys
    }
}

/// Whether the input method reads `c` (a letter or an apostrophe); it ignores anything else.
fn is_pinyin(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '\''
}

/// A run of up to twelve lower-case letters as a number (five bits a letter), to keep a large
/// set of short keys small.
fn pack(letters: &str) -> u64 {
    letters
        .bytes()
        .take(12)
        .fold(0, |acc, b| (acc << 5) | u64::from(b - b'a' + 1))
}

#[cfg(test)]
mod tests;
