//! The pinyin input method of the on-screen keyboard: what a resident types in letters becomes
//! ranked Chinese candidates.
//!
//! Pure: [`Dictionary::parse`] reads the dictionary's text (`crates/ime/pinyin.dict`, built by
//! `scripts/make-ime-dict.py`; `Dictionary::load` is the one function that touches a file) and
//! [`Dictionary::suggest`] answers a keystroke with no I/O.
//!
//! The input is split into tokens, every way it can be: a whole syllable (`zhong`), or the
//! first letter of one (an abbreviation, `zg` → 中国, `gzqf` → 工资欠发), or, at the end, the start
//! of one still being typed (`gongz` → 工资). An apostrophe forces a boundary (`xi'an` → 西安,
//! while `xian` offers 先 and 西安 both). A word matches when each of its syllables matches its
//! token. Candidates are ranked: words that use the whole input before words that use a part
//! of it (committed piece by piece), words spelled in whole syllables before abbreviations, then
//! by frequency, with a boost for what this resident already picked in this session
//! ([`Session`], cleared with the idle reset: what someone typed is personal data).
//! Fuzzy pairs common in southern speech (z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing) are an
//! option ([`Options::fuzzy`]).

use std::collections::{HashMap, HashSet};
use std::path::Path;

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
}

/// How the input method behaves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Accept z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing for each other.
    pub fuzzy: bool,
}

/// One candidate: the word, and how many bytes of the input it uses (the rest stays as pinyin
/// to go on with).
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

impl Dictionary {
    /// The dictionary shipped with the kiosk.
    pub fn builtin() -> Result<Dictionary, DictionaryError> {
        Dictionary::parse(BUILTIN)
    }

    /// The dictionary a station configured (`[ime] dictionary`), else the built-in one.
    pub fn configured(path: Option<&Path>) -> Result<Dictionary, DictionaryError> {
        match path {
            Some(p) => Dictionary::load(p),
            None => Dictionary::builtin(),
        }
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
            let fields: Vec<&str> = line.split('\t').collect();
            let [reading, word, freq] = fields[..] else {
                return Err(corrupt(format!(
                    "expected `syllables<TAB>word<TAB>frequency`, found {} field(s)",
                    fields.len()
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
            });
        }
        if d.entries.is_empty() {
            return Err(DictionaryError::Empty);
        }
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

    /// Every way to cut `input` (lowercase letters and apostrophes) into tokens; each way with
    /// the byte length each token covers. At most a few dozen ways, longest syllables first.
    fn tokenize(&self, input: &str, fuzzy: bool) -> Vec<Vec<(Token, usize)>> {
        let bytes = input.as_bytes();
        let mut out = Vec::new();
        let mut current = Vec::new();
        self.cut(input, bytes, 0, fuzzy, &mut current, &mut out);
        out
    }

    fn cut(
        &self,
        input: &str,
        bytes: &[u8],
        at: usize,
        fuzzy: bool,
        current: &mut Vec<(Token, usize)>,
        out: &mut Vec<Vec<(Token, usize)>>,
    ) {
        if out.len() >= 32 {
            return;
        }
        let mut at = at;
        let mut skipped = 0;
        while at < bytes.len() && bytes[at] == b'\'' {
            at += 1;
            skipped += 1;
        }
        if at >= bytes.len() {
            if !current.is_empty() {
                if let Some(last) = current.last_mut() {
                    last.1 += skipped;
                }
                out.push(current.clone());
            }
            return;
        }
        let end_of_run = bytes[at..]
            .iter()
            .position(|&b| b == b'\'')
            .map_or(bytes.len(), |p| at + p);
        // Whole syllables, longest first.
        for len in (1..=6.min(end_of_run - at)).rev() {
            let s = &input[at..at + len];
            let ids = self.fuzzy_ids(s, fuzzy);
            if !ids.is_empty() {
                current.push((Token::Full(ids), len + skipped));
                self.cut(input, bytes, at + len, fuzzy, current, out);
                current.pop();
            }
        }
        // A single letter standing for a syllable (an abbreviation), anywhere; also a letter
        // that is a syllable itself (n, m, a, e, o), so that `nmg` can be 农民工.
        let letter = &input[at..at + 1];
        if self.is_syllable_start(letter) {
            current.push((Token::Prefix(letter.to_owned()), 1 + skipped));
            self.cut(input, bytes, at + 1, fuzzy, current, out);
            current.pop();
        }
        // At the very end, a syllable still being typed.
        let rest = &input[at..];
        if end_of_run == bytes.len()
            && rest.len() > 1
            && !self.is_syllable(rest)
            && self.is_syllable_start(rest)
        {
            current.push((Token::Prefix(rest.to_owned()), rest.len() + skipped));
            out.push(current.clone());
            current.pop();
        }
    }

    fn matches(&self, e: &Entry, tokens: &[(Token, usize)]) -> bool {
        e.syllables.len() == tokens.len()
            && e.syllables.iter().zip(tokens).all(|(&s, (t, _))| match t {
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
        let input: String = typed
            .chars()
            .filter(|c| c.is_ascii_alphabetic() || *c == '\'')
            .map(|c| c.to_ascii_lowercase())
            .take(MAX_INPUT)
            .collect();
        if input.trim_matches('\'').is_empty() {
            return Vec::new();
        }
        // (group, score, word, consumed): group 0 whole input in whole syllables, 1 whole
        // input with abbreviations, 2 part of the input.
        let mut scored: Vec<(u8, u64, &str, usize)> = Vec::new();
        let mut seen_part: HashSet<(usize, usize, bool)> = HashSet::new();
        for tokens in self.tokenize(&input, options.fuzzy) {
            let abbreviated = tokens.iter().any(|(t, _)| matches!(t, Token::Prefix(_)));
            // The whole input, then ever shorter leading parts of it.
            for n in (1..=tokens.len()).rev() {
                let part = &tokens[..n];
                let consumed: usize = part.iter().map(|(_, l)| l).sum();
                let whole = n == tokens.len();
                let part_abbreviated = part.iter().any(|(t, _)| matches!(t, Token::Prefix(_)));
                if !whole && part_abbreviated && n > 1 {
                    continue;
                }
                // A leading part is looked up once, whatever the cuts after it: the same letters
                // cut the same way give the same words.
                if !whole && !seen_part.insert((consumed, n, part_abbreviated)) {
                    continue;
                }
                let group = match (whole, abbreviated) {
                    (true, false) => 0,
                    (true, true) => 1,
                    _ => 2,
                };
                for key in self.keys(part) {
                    let Some(list) = self.by_initials.get(key.as_str()) else {
                        continue;
                    };
                    for &i in list {
                        let e = &self.entries[i as usize];
                        if self.matches(e, part) {
                            let boost = session.picked.get(&*e.word).copied().unwrap_or(0);
                            let score = u64::from(e.freq) + u64::from(boost) * 10_000_000;
                            scored.push((group, score, &e.word, consumed));
                        }
                    }
                }
            }
        }
        // Group first; within a group longer words (more input used), then the score.
        scored.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.3.cmp(&a.3))
                .then(b.1.cmp(&a.1))
                .then(a.2.cmp(b.2))
        });
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (_, _, word, consumed) in scored {
            if seen.insert(word) {
                out.push(Candidate {
                    word: word.to_owned(),
                    consumed,
                });
                if out.len() >= MAX_CANDIDATES {
                    break;
                }
            }
        }
        out
    }

    /// The initials keys a run of tokens can have.
    fn keys(&self, tokens: &[(Token, usize)]) -> Vec<String> {
        let mut keys = vec![String::new()];
        for (t, _) in tokens {
            let letters = self.token_initials(t);
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

#[cfg(test)]
mod tests;
