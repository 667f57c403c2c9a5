//! The word lattice of what was typed, and the likeliest ways through it.
//!
//! From every position of the input, every word that can start there: its syllables matched
//! against the letters each way they can be cut (a whole syllable, a syllable's initial, the
//! syllable still being typed at the end; an apostrophe is a boundary). A word's score is the
//! natural log of its probability (its frequency over the dictionary's total) less a penalty
//! for each syllable given by its initial only, or still being typed.
//!
//! A path through the lattice is a sentence; its score is its words' scores plus what each pair
//! of neighbours adds ([`Transitions::bonus`](crate::model::Transitions::bonus)). A small
//! Viterbi keeps, at each position, the best few paths (one per last word, since only the last
//! word matters to what follows), so the whole input's best sentence comes out in one pass.

use crate::model::Before;
use crate::{Dictionary, Entry, Token, MAX_CANDIDATES};

/// A syllable given by its initial, inside a word of two or more (`gz` for 工资).
const ABBREVIATED: f32 = 1.5;
/// A one-character word given by a lone initial: rarely what was meant in the middle of a run
/// of initials (`lbtqgz` is not 了不他去个在).
const LONE_INITIAL: f32 = 5.0;
/// The syllable still being typed, at the very end.
const TYPING: f32 = 0.5;
/// A syllable matched through a fuzzy pair (`shang` typed as `san`) when the letters typed are
/// a syllable too: what was typed is likelier what was meant.
const FUZZY: f32 = 1.0;
/// Paths kept at each position.
const BEAM: usize = 4;
/// Words kept for one cut of the letters inside the input (at the start, all the candidates
/// the keyboard may list).
const PER_CUT: usize = 4;
const NONE: u32 = u32::MAX;

/// A word from one position of the input to another.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub(crate) entry: u32,
    /// Where it ends (a byte offset of the input).
    pub(crate) end: usize,
    /// Its log-probability less the penalties of how it was typed.
    pub(crate) score: f32,
    /// Whether a syllable of it was typed by its initial only (inside the input).
    pub(crate) initials: bool,
}

/// A path's end: its score, its last word, and where it came from.
#[derive(Debug, Clone, Copy)]
struct State {
    score: f32,
    entry: u32,
    from: (u32, u16),
    /// Whether a word of the path was typed by initials.
    initials: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Whole,
    Initial,
    Typing,
}

/// One token of a word being matched: what it stands for and where it ends.
struct Piece {
    token: Token,
    end: usize,
    kind: Kind,
    /// The syllable typed, when the letters are one (with fuzzy pairs the token may stand for
    /// others too).
    exact: Option<u16>,
}

/// The lattice of one input.
pub(crate) struct Lattice {
    /// The words that start at the very beginning (the keyboard's single-word candidates).
    pub(crate) first: Vec<Edge>,
    states: Vec<Vec<State>>,
}

/// A sentence through the whole input: its words (entry indices) and score.
pub(crate) struct Sentence {
    pub(crate) entries: Vec<u32>,
    pub(crate) score: f32,
    pub(crate) initials: bool,
}

impl Dictionary {
    /// A word's log-probability by its frequency alone.
    pub(crate) fn lp(&self, e: &Entry) -> f32 {
        ((e.freq as f32) + 1.0).ln() - self.ln_total
    }

    fn before_entry(&self, entry: u32, context: Before) -> Before {
        if entry == NONE {
            return context;
        }
        let e = &self.entries[entry as usize];
        Before {
            word: Some(e.word_id),
            last: e.word.chars().last(),
        }
    }

    /// What writing entry `entry` after `before` adds to a path.
    pub(crate) fn bonus(&self, before: Before, entry: u32) -> f32 {
        let e = &self.entries[entry as usize];
        match e.word.chars().next() {
            Some(first) => self.model.bonus(before, e.word_id, first, self.lp(e)),
            None => 0.0,
        }
    }

    /// Builds the lattice of `body` (letters and inner apostrophes; none at either end), with
    /// `context` the word written just before.
    pub(crate) fn lattice(&self, body: &str, fuzzy: bool, context: Before) -> Lattice {
        let n = body.len();
        let mut states: Vec<Vec<State>> = vec![Vec::new(); n + 1];
        states[0].push(State {
            score: 0.0,
            entry: NONE,
            from: (0, 0),
            initials: false,
        });
        let mut first = Vec::new();
        let mut seq = Vec::new();
        for at in 0..n {
            if states[at].is_empty() {
                continue;
            }
            let limit = if at == 0 { MAX_CANDIDATES } else { PER_CUT };
            let mut edges = Vec::new();
            self.walk(body, at, fuzzy, limit, &mut seq, &mut edges);
            let here = states[at].clone();
            for (si, s) in here.iter().enumerate() {
                let before = self.before_entry(s.entry, context);
                for e in &edges {
                    let score = s.score + e.score + self.bonus(before, e.entry);
                    let next = State {
                        score,
                        entry: e.entry,
                        from: (at as u32, si as u16),
                        initials: s.initials || e.initials,
                    };
                    self.keep(&mut states[e.end], next);
                }
            }
            if at == 0 {
                first = edges;
            }
        }
        Lattice { first, states }
    }

    /// Keeps `s` among the best paths ending at one position: one per last word, BEAM at most.
    fn keep(&self, list: &mut Vec<State>, s: State) {
        let word = |st: &State| self.entries[st.entry as usize].word_id;
        if let Some(i) = list.iter().position(|o| word(o) == word(&s)) {
            if list[i].score >= s.score {
                return;
            }
            list.remove(i);
        }
        if list.len() >= BEAM && list.last().is_some_and(|l| l.score >= s.score) {
            return;
        }
        let at = list.partition_point(|o| o.score >= s.score);
        list.insert(at, s);
        list.truncate(BEAM);
    }

    /// The best sentences through the whole input, best first.
    pub(crate) fn sentences(&self, lattice: &Lattice, n: usize) -> Vec<Sentence> {
        lattice.states[n]
            .iter()
            .map(|end| {
                let mut entries = Vec::new();
                let mut s = *end;
                while s.entry != NONE {
                    entries.push(s.entry);
                    s = lattice.states[s.from.0 as usize][s.from.1 as usize];
                }
                entries.reverse();
                Sentence {
                    entries,
                    score: end.score,
                    initials: end.initials,
                }
            })
            .collect()
    }

    /// Every word that starts at `at` (after any apostrophes), found by matching ever longer runs
    /// of tokens; `limit` words at most for each run.
    fn walk(
        &self,
        body: &str,
        at: usize,
        fuzzy: bool,
        limit: usize,
        seq: &mut Vec<Piece>,
        out: &mut Vec<Edge>,
    ) {
        let bytes = body.as_bytes();
        let n = bytes.len();
        let mut q = at;
        while q < n && bytes[q] == b'\'' {
            q += 1;
        }
        if q >= n {
            return;
        }
        let run_end = bytes[q..]
            .iter()
            .position(|&b| b == b'\'')
            .map_or(n, |p| q + p);
        let mut pieces = Vec::new();
        // Whole syllables, longest first.
        for len in (1..=6.min(run_end - q)).rev() {
            let ids = self.fuzzy_ids(&body[q..q + len], fuzzy);
            if !ids.is_empty() {
                pieces.push(Piece {
                    exact: self.syllable_ids.get(&body[q..q + len]).copied(),
                    token: Token::Full(ids),
                    end: q + len,
                    kind: Kind::Whole,
                });
            }
        }
        // A letter standing for a syllable (an initial), or, last, the syllable being typed.
        let letter = &body[q..q + 1];
        if self.is_syllable_start(letter) {
            pieces.push(Piece {
                exact: None,
                token: Token::Prefix(letter.to_owned()),
                end: q + 1,
                kind: if q + 1 == n {
                    Kind::Typing
                } else {
                    Kind::Initial
                },
            });
        }
        let rest = &body[q..];
        if run_end == n && rest.len() > 1 && !self.is_syllable(rest) && self.is_syllable_start(rest)
        {
            pieces.push(Piece {
                exact: None,
                token: Token::Prefix(rest.to_owned()),
                end: n,
                kind: Kind::Typing,
            });
        }
        for piece in pieces {
            let end = piece.end;
            seq.push(piece);
            let keys = self.keys(seq.iter().map(|p| &p.token));
            if keys
                .iter()
                .any(|k| self.initials_prefixes.contains(&crate::pack(k)))
            {
                let penalty = penalty(seq);
                let initials = seq.iter().any(|p| p.kind == Kind::Initial);
                for key in &keys {
                    let Some(list) = self.by_initials.get(key.as_str()) else {
                        continue;
                    };
                    let mut found = 0;
                    for &i in list {
                        let e = &self.entries[i as usize];
                        if self.matches(e, seq.iter().map(|p| &p.token)) {
                            let fuzzy = if fuzzy { fuzzy_penalty(seq, e) } else { 0.0 };
                            out.push(Edge {
                                entry: i,
                                end,
                                score: self.lp(e) - penalty - fuzzy,
                                initials,
                            });
                            found += 1;
                            if found >= limit {
                                break;
                            }
                        }
                    }
                }
                if seq.len() < self.longest {
                    self.walk(body, end, fuzzy, limit, seq, out);
                }
            }
            seq.pop();
        }
    }
}

/// What matching a word's syllables through fuzzy pairs costs.
fn fuzzy_penalty(seq: &[Piece], e: &Entry) -> f32 {
    seq.iter()
        .zip(e.syllables.iter())
        .filter(|(p, &s)| p.exact.is_some_and(|x| x != s))
        .count() as f32
        * FUZZY
}

/// What typing a word by these tokens costs.
fn penalty(seq: &[Piece]) -> f32 {
    seq.iter()
        .map(|p| match p.kind {
            Kind::Whole => 0.0,
            Kind::Initial if seq.len() == 1 => LONE_INITIAL,
            Kind::Initial => ABBREVIATED,
            Kind::Typing => TYPING,
        })
        .sum()
}
