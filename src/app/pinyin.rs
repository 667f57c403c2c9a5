//! The on-screen keyboard's pinyin composition, in two parts that live for different times:
//! the station's [`PinyinDictionary`] (loaded once, shared by every resident) and one resident's
//! [`Composer`]: the letters typed so far, the candidates the engine ([`ime`]) offers for
//! them, the page of candidates on screen, and what this resident picked (ranked first next
//! time). After a pick that leaves no pinyin, the bar offers the words likely to come next
//! (工资 → 三个月, 被拖欠 …); tapping one writes it, and offers what may follow it in turn.
//! The composer is part of the resident's session, so a new session forgets all of it.
//! Plain Rust; the controller feeds it keys and sends what it returns to the focused text field.

use std::sync::Arc;

use handwriting::{Ink, ModelError, Recognizer, MAX_POINTS, MAX_STROKES};
use ime::{Candidate, Dictionary, DictionaryError, Options, Session, MAX_INPUT};

/// Candidates on one page at most.
pub const MAX_PER_PAGE: usize = 8;

/// Words predicted after a pick, at most (a few pages).
const MAX_PREDICTED: usize = 24;

/// Characters the handwriting pad offers for what was drawn, at most (a few pages).
const MAX_RECOGNIZED: usize = 20;

/// The characters written last that predictions look back on, at most.
const MAX_PREVIOUS: usize = 4;

/// How many characters one page of candidates may hold (a word costs its characters and one
/// for its button's margins), so that the bar fits beside the page buttons at the keyboard's
/// narrowest (portrait text entry), normal and elderly.
fn page_budget(elderly: bool) -> usize {
    if elderly {
        13
    } else {
        18
    }
}

/// The station's pinyin dictionary (the station's `[ime] dictionary` or the built-in one),
/// once it has loaded; until then, or if it cannot load, the keys type letters.
#[derive(Default)]
pub struct PinyinDictionary {
    dict: Option<Dictionary>,
    /// Why the dictionary could not be loaded, for staff.
    pub(crate) problem: Option<String>,
    /// Southern fuzzy pairs (`[ime] fuzzy`).
    fuzzy: bool,
    /// The handwriting pad's recognizer, once its models have loaded.
    handwriting: Option<Arc<Recognizer>>,
    /// The models were asked for and have not come yet.
    handwriting_asked: bool,
    /// Why the handwriting model could not be loaded, for staff.
    pub(crate) handwriting_problem: Option<String>,
}

impl PinyinDictionary {
    pub fn new(fuzzy: bool) -> PinyinDictionary {
        PinyinDictionary {
            fuzzy,
            ..PinyinDictionary::default()
        }
    }

    /// The dictionary arrived (or could not be loaded).
    pub fn loaded(&mut self, dict: Result<Dictionary, DictionaryError>) {
        match dict {
            Ok(d) => {
                self.dict = Some(d);
                self.problem = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "pinyin: the keyboard types letters only");
                self.problem = Some(e.to_string());
            }
        }
    }

    pub fn ready(&self) -> bool {
        self.dict.is_some()
    }

    /// Whether the handwriting models should be asked for now (they are not in, not on their
    /// way, and did not fail); if so, they count as asked.
    pub fn ask_for_handwriting(&mut self) -> bool {
        let ask = self.handwriting.is_none()
            && !self.handwriting_asked
            && self.handwriting_problem.is_none();
        self.handwriting_asked |= ask;
        ask
    }

    /// Drops the handwriting models (at Home: nobody is writing), to be loaded again when
    /// someone writes.
    pub fn unload_handwriting(&mut self) {
        self.handwriting = None;
        self.handwriting_asked = false;
    }

    /// The handwriting model arrived (or could not be loaded: the pad is not offered).
    pub fn handwriting_loaded(&mut self, model: Result<Arc<Recognizer>, ModelError>) {
        if !self.handwriting_asked {
            // Home came meanwhile: nobody is writing.
            return;
        }
        self.handwriting_asked = false;
        match model {
            Ok(m) => {
                self.handwriting = Some(m);
                self.handwriting_problem = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "handwriting: the pad is not offered");
                self.handwriting_problem = Some(e.to_string());
            }
        }
    }

    /// Whether the keyboard offers the handwriting pad.
    pub fn handwriting_ready(&self) -> bool {
        self.handwriting.is_some()
    }

    /// The characters `ink` may be, best first (none for ink the recognizer refuses).
    fn recognize(&self, ink: &Ink) -> Vec<Candidate> {
        let Some(recognizer) = &self.handwriting else {
            return Vec::new();
        };
        match recognizer.classify(ink, MAX_RECOGNIZED) {
            Ok(found) => found
                .into_iter()
                .map(|c| Candidate {
                    word: c.character,
                    consumed: 0,
                })
                .collect(),
            Err(e) => {
                tracing::debug!(error = %e, "handwriting: ink refused");
                Vec::new()
            }
        }
    }

    /// The candidates for `typed`, written after `previous`.
    fn suggest(&self, typed: &str, previous: &str, learned: &Session) -> Vec<Candidate> {
        match &self.dict {
            Some(d) if !typed.is_empty() => {
                let options = Options { fuzzy: self.fuzzy };
                d.suggest_after(typed, previous, options, learned)
            }
            _ => Vec::new(),
        }
    }

    /// The words likely to follow `previous`: after the longest of its last few characters
    /// that the model knows something to follow (characters written one by one on the pad
    /// make a word together: 工, 资 → 工资 → 三个月).
    fn predict(&self, previous: &str) -> Vec<Candidate> {
        let Some(d) = &self.dict else {
            return Vec::new();
        };
        let chars: Vec<char> = previous.chars().collect();
        (1..=chars.len().min(MAX_PREVIOUS))
            .rev()
            .map(|n| chars[chars.len() - n..].iter().collect::<String>())
            .map(|tail| d.predict(&tail, MAX_PREDICTED))
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }
}

/// One resident's composition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Composer {
    /// Pinyin (else letters go straight in).
    pub(crate) pinyin_mode: bool,
    typed: String,
    /// The word the composer wrote last, while nothing else went into the text after it: what
    /// the next word is predicted and ranked after.
    previous: String,
    /// The candidates for `typed`, or, while nothing is typed, the words predicted after
    /// `previous`.
    candidates: Vec<Candidate>,
    /// Where the page on screen starts, and where the pages before it started.
    page_start: usize,
    pages_back: Vec<usize>,
    /// What this resident picked.
    learned: Session,
    /// The handwriting pad is up instead of the letters.
    pub(crate) writing: bool,
    /// The character being drawn on the pad: its strokes, and the pad's size.
    strokes: Vec<Vec<(f32, f32)>>,
    pad: (f32, f32),
}

/// A finger on the handwriting pad, in the pad's coordinates (y downward).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pen {
    /// A stroke starts; the pad is `width` × `height`.
    Down {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
    Move {
        x: f32,
        y: f32,
    },
    /// The stroke ends: what was drawn is recognized.
    Up,
}

impl Composer {
    pub fn new(pinyin_mode: bool) -> Composer {
        Composer {
            pinyin_mode,
            ..Composer::default()
        }
    }

    /// Whether letters are composed into pinyin now.
    pub fn active(&self, dict: &PinyinDictionary) -> bool {
        dict.ready() && self.pinyin_mode && !self.writing
    }

    /// The handwriting pad instead of the letters, and back. The pinyin not yet turned into
    /// words goes in as letters.
    pub fn toggle_writing(&mut self) -> Option<String> {
        self.writing = !self.writing;
        self.strokes.clear();
        let raw = self.take_typed();
        self.previous.clear();
        (!raw.is_empty()).then_some(raw)
    }

    /// The finger on the pad. A stroke ends in recognition: the bar offers the characters
    /// the ink may be, best first.
    pub fn pen(&mut self, dict: &PinyinDictionary, pen: Pen) {
        if !self.writing {
            return;
        }
        let points: usize = self.strokes.iter().map(Vec::len).sum();
        match pen {
            Pen::Down {
                x,
                y,
                width,
                height,
            } => {
                if self.strokes.len() < MAX_STROKES && points < MAX_POINTS {
                    self.pad = (width, height);
                    self.strokes.push(vec![(x, y)]);
                }
            }
            Pen::Move { x, y } => {
                if points < MAX_POINTS {
                    if let Some(stroke) = self.strokes.last_mut() {
                        stroke.push((x, y));
                    }
                }
            }
            Pen::Up => self.recognize(dict),
        }
    }

    /// "重写": the pad is wiped, and what it offered goes.
    pub fn clear_ink(&mut self) {
        self.strokes.clear();
        self.take_typed();
    }

    /// Whether anything is drawn on the pad.
    pub fn inked(&self) -> bool {
        !self.strokes.is_empty()
    }

    /// The strokes on the pad as path commands in its coordinates (`M x y L x y …`), for the
    /// screen to draw.
    pub fn ink_path(&self) -> String {
        let mut path = String::new();
        for stroke in &self.strokes {
            for (i, (x, y)) in stroke.iter().enumerate() {
                let verb = if i == 0 { 'M' } else { 'L' };
                path.push_str(&format!("{verb} {x:.1} {y:.1} "));
            }
            // A dot is a stroke too: a tiny line, so that it shows.
            if let [(x, y)] = stroke.as_slice() {
                path.push_str(&format!("L {:.1} {:.1} ", x + 0.5, y + 0.5));
            }
        }
        path.trim_end().to_owned()
    }

    fn recognize(&mut self, dict: &PinyinDictionary) {
        self.page_start = 0;
        self.pages_back.clear();
        self.candidates = if self.strokes.is_empty() {
            dict.predict(&self.previous)
        } else {
            dict.recognize(&Ink {
                width: self.pad.0,
                height: self.pad.1,
                strokes: self.strokes.clone(),
            })
        };
    }

    pub fn typed(&self) -> &str {
        &self.typed
    }

    /// The pinyin as the keyboard shows it, cut into syllables (`gong zi tuo`).
    pub fn shown(&self, dict: &PinyinDictionary) -> String {
        match &dict.dict {
            Some(d) => d.spell(&self.typed),
            None => self.typed.clone(),
        }
    }

    /// A key of the keyboard; returns what goes to the text field, in order (nothing when the
    /// key went into the pinyin).
    pub fn key(&mut self, dict: &PinyinDictionary, text: &str) -> Vec<String> {
        if self.writing {
            // Delete takes back the last stroke while a character is being drawn.
            if text == "\u{8}" && self.inked() {
                self.strokes.pop();
                self.recognize(dict);
                return Vec::new();
            }
            self.forget_previous();
            return vec![text.to_owned()];
        }
        if !self.active(dict) {
            return vec![text.to_owned()];
        }
        let letter = text.len() == 1 && text.as_bytes()[0].is_ascii_lowercase();
        if letter {
            if self.typed.len() < MAX_INPUT {
                self.typed.push_str(text);
                self.suggest(dict);
            }
            return Vec::new();
        }
        if self.typed.is_empty() {
            // Anything else written ends the sentence the predictions were for.
            self.forget_previous();
            return vec![text.to_owned()];
        }
        match text {
            // An apostrophe cuts the pinyin where the resident wants (`xi'an`); one is enough.
            "'" => {
                if !self.typed.ends_with('\'') && self.typed.len() < MAX_INPUT {
                    self.typed.push('\'');
                    self.suggest(dict);
                }
                Vec::new()
            }
            "\u{8}" => {
                self.typed.pop();
                self.suggest(dict);
                Vec::new()
            }
            // Space takes the first candidate, as on a phone.
            " " if !self.candidates.is_empty() => self.pick(dict, 0).into_iter().collect(),
            _ => {
                let raw = self.take_typed();
                self.previous.clear();
                vec![raw, text.to_owned()]
            }
        }
    }

    /// The resident tapped the candidate `index` of the page on screen (a word for the pinyin,
    /// or a word predicted): its word goes to the text, and what it did not use of the pinyin
    /// stays; when none stays, the bar offers what may come next.
    pub fn pick(&mut self, dict: &PinyinDictionary, index: usize) -> Option<String> {
        let candidate = self.page().get(index)?.clone();
        // A character picked off the pad: the pad is clean for the next one.
        self.strokes.clear();
        self.learned.picked(&candidate.word);
        let rest = self.typed.get(candidate.consumed..).unwrap_or("");
        self.typed = rest.trim_start_matches('\'').to_owned();
        if self.writing {
            // One character at a time: what follows is predicted after them together.
            self.previous.push_str(&candidate.word);
            let chars = self.previous.chars().count();
            if chars > MAX_PREVIOUS {
                self.previous = self.previous.chars().skip(chars - MAX_PREVIOUS).collect();
            }
        } else {
            self.previous = candidate.word.clone();
        }
        self.suggest(dict);
        Some(candidate.word)
    }

    /// Whether the bar shows words predicted after the last pick (nothing typed).
    pub fn predicting(&self) -> bool {
        self.typed.is_empty() && !self.candidates.is_empty()
    }

    /// Pinyin to ABC and back; the pinyin not yet turned into words goes in as letters.
    pub fn toggle(&mut self) -> Option<String> {
        self.pinyin_mode = !self.pinyin_mode;
        let raw = self.take_typed();
        self.previous.clear();
        (!raw.is_empty()).then_some(raw)
    }

    /// The next page of candidates, or the one before.
    pub fn turn_page(&mut self, next: bool, elderly: bool) {
        if next {
            let end = self.page_end(elderly);
            if end < self.candidates.len() {
                self.pages_back.push(self.page_start);
                self.page_start = end;
            }
        } else if let Some(start) = self.pages_back.pop() {
            self.page_start = start;
        }
    }

    /// The candidates of the page on screen.
    pub fn page_words(&self, elderly: bool) -> &[Candidate] {
        &self.candidates[self.page_start..self.page_end(elderly)]
    }

    pub fn has_prev(&self) -> bool {
        !self.pages_back.is_empty()
    }

    pub fn has_next(&self, elderly: bool) -> bool {
        self.page_end(elderly) < self.candidates.len()
    }

    /// Forgets what is being typed and what was predicted (a new field, a new screen); what was
    /// picked stays.
    pub fn clear_typing(&mut self) {
        self.take_typed();
        self.previous.clear();
    }

    fn forget_previous(&mut self) {
        self.previous.clear();
        self.page_start = 0;
        self.pages_back.clear();
        self.candidates.clear();
    }

    fn take_typed(&mut self) -> String {
        self.page_start = 0;
        self.pages_back.clear();
        self.candidates.clear();
        std::mem::take(&mut self.typed)
    }

    fn page(&self) -> &[Candidate] {
        // Picking does not depend on the text size: the page was drawn with some budget, and
        // the longest page (normal size) contains the shorter one.
        &self.candidates[self.page_start..self.page_end(false).max(self.page_start)]
    }

    fn page_end(&self, elderly: bool) -> usize {
        let budget = page_budget(elderly);
        let mut used = 0;
        let mut end = self.page_start;
        for c in self.candidates.iter().skip(self.page_start) {
            let cost = c.word.chars().count() + 1;
            if end - self.page_start >= MAX_PER_PAGE
                || (end > self.page_start && used + cost > budget)
            {
                break;
            }
            used += cost;
            end += 1;
        }
        end
    }

    fn suggest(&mut self, dict: &PinyinDictionary) {
        self.page_start = 0;
        self.pages_back.clear();
        self.candidates = if self.typed.is_empty() {
            dict.predict(&self.previous)
        } else {
            dict.suggest(&self.typed, &self.previous, &self.learned)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary() -> PinyinDictionary {
        let mut d = PinyinDictionary::new(false);
        d.loaded(Dictionary::builtin());
        d
    }

    #[test]
    fn letters_compose_and_a_pick_keeps_the_rest() {
        let d = dictionary();
        let mut c = Composer::new(true);
        for k in ["g", "o", "n", "g", "z", "i", "t", "u", "o"] {
            assert!(c.key(&d, k).is_empty());
        }
        let i = c
            .page_words(false)
            .iter()
            .position(|w| w.word == "工资")
            .expect("工资 on the first page");
        assert_eq!(c.pick(&d, i).as_deref(), Some("工资"));
        assert_eq!(c.typed(), "tuo");
        assert!(c.key(&d, "\u{8}").is_empty());
        assert_eq!(c.typed(), "tu");
        assert_eq!(c.shown(&d), "tu");
        assert_eq!(c.key(&d, "\n"), vec!["tu".to_owned(), "\n".to_owned()]);
        assert_eq!(c.key(&d, "\u{8}"), vec!["\u{8}".to_owned()]);
    }

    #[test]
    fn an_apostrophe_cuts_the_pinyin_and_it_shows_in_syllables() {
        let d = dictionary();
        let mut c = Composer::new(true);
        assert_eq!(
            c.key(&d, "'"),
            vec!["'".to_owned()],
            "nothing to cut: it is text"
        );
        for k in ["x", "i", "'", "'", "a", "n"] {
            assert!(c.key(&d, k).is_empty());
        }
        assert_eq!(c.typed(), "xi'an", "one apostrophe, however often tapped");
        assert_eq!(c.page_words(false)[0].word, "西安");
        c.clear_typing();
        for k in ["g", "o", "n", "g", "z", "i", "t"] {
            c.key(&d, k);
        }
        assert_eq!(c.shown(&d), "gong zi t");
    }

    #[test]
    fn after_a_pick_the_bar_predicts_the_next_word_and_a_tap_writes_it() {
        let d = dictionary();
        let mut c = Composer::new(true);
        for k in ["g", "o", "n", "g", "z", "i"] {
            c.key(&d, k);
        }
        let i = c
            .page_words(false)
            .iter()
            .position(|w| w.word == "工资")
            .expect("工资 on the first page");
        assert_eq!(c.pick(&d, i).as_deref(), Some("工资"));
        assert_eq!(c.typed(), "");
        assert!(c.predicting(), "nothing typed: the bar predicts");
        let predicted: Vec<String> = c.page_words(false).iter().map(|w| w.word.clone()).collect();
        let i = predicted
            .iter()
            .position(|w| w == "三个月")
            .unwrap_or_else(|| panic!("三个月 after 工资: {predicted:?}"));
        // A predicted word uses no pinyin: the tap writes it whole, and predicts again.
        assert_eq!(c.pick(&d, i).as_deref(), Some("三个月"));
        assert_eq!(c.typed(), "");
        assert!(c.predicting(), "{:?}", c.page_words(false));
        // Letters replace the predictions with candidates; the word before still counts.
        c.key(&d, "m");
        assert!(!c.predicting());
        assert_eq!(c.typed(), "m");
        c.key(&d, "\u{8}");
        assert!(c.predicting(), "the pinyin gone, the predictions are back");
        // Anything else written (a comma) ends the sentence: no predictions.
        assert_eq!(c.key(&d, "，"), vec!["，".to_owned()]);
        assert!(!c.predicting());
        assert!(c.page_words(false).is_empty());
    }

    #[test]
    fn without_a_dictionary_letters_go_straight_in() {
        let mut d = PinyinDictionary::new(false);
        d.loaded(Err(DictionaryError::Empty));
        assert!(d.problem.is_some());
        assert_eq!(Composer::new(true).key(&d, "g"), vec!["g".to_owned()]);
    }

    #[test]
    fn a_new_composer_has_forgotten_what_the_last_resident_picked() {
        let d = dictionary();
        let mut c = Composer::new(true);
        for k in ["g", "o", "n", "g", "z", "i"] {
            c.key(&d, k);
        }
        c.pick(&d, 0);
        assert_ne!(
            c,
            Composer::new(true),
            "a pick is remembered for this resident"
        );
        c.clear_typing();
        assert_ne!(c, Composer::new(true), "clearing the field keeps the picks");
    }
}
