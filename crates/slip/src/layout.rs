//! The slip's layout: which lines a resident's slip has, in what order, size and alignment,
//! and where each line breaks.
//!
//! [`layout`] is a pure function from already-localised strings and a printer profile to a list
//! of [`Block`]s, one printed line per text block. It knows the printer only through the
//! profile's columns and which characters the printer can show ([`printable_text`]), so that
//! wrapping measures what will really be printed. It owns no bytes: the encoder turns blocks
//! into ESC/POS. No personal data ever reaches it; the caller passes only what a slip may show.

use crate::profile::PrinterProfile;
use crate::text::printable_text;

/// Everything a slip shows, already localised by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipContent {
    /// e.g. "群众诉求服务站".
    pub heading: String,
    /// e.g. "演示站".
    pub station_name: String,
    /// e.g. "投诉建议 · 噪音", or a neutral "服务 C" where the service itself must not show.
    pub service_line: String,
    /// e.g. "2026-11-26 14:05".
    pub issued_at: String,
    /// A queue number or an appointment, printed large above the code.
    pub feature: Option<SlipFeature>,
    /// e.g. "查询码 Tracking code".
    pub code_label: String,
    /// The grouped tracking code, e.g. "7K3Q-9XPD-2W4M-HT8C-X".
    pub code: String,
    /// The tracking URL the QR code opens.
    pub qr_payload: String,
    /// e.g. "扫码查看办理进度".
    pub qr_caption: String,
    /// Paragraphs saying what happens next.
    pub next_steps: Vec<String>,
    /// A high-risk case's emergency numbers, printed bold between rules: a heading ("紧急求助"),
    /// then one line a number ("110 报警"). Empty on every other slip.
    pub emergency: Vec<String>,
    /// e.g. "服务热线 12345".
    pub hotline: String,
}

/// The large part of a queue ticket or an appointment slip: "您的号码" / "C003" / "前面 3 人".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipFeature {
    pub label: String,
    /// Printed double size: the ticket number, or the appointment's date and time.
    pub big: String,
    pub lines: Vec<String>,
}

/// Horizontal placement of a printed line or symbol (`ESC a n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// Character size of a line (`GS ! n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextSize {
    /// 1×1, `GS ! 0x00`.
    Normal,
    /// 2×2, `GS ! 0x11`.
    Double,
    /// 1 wide × 2 high, `GS ! 0x01`.
    Tall,
    /// 2 wide × 1 high, `GS ! 0x10`.
    Wide,
    /// 3×3, `GS ! 0x22`: a queue number, the thing a resident looks for on the slip.
    Triple,
}

impl TextSize {
    /// How many columns one character takes per column of Normal text.
    pub(crate) fn width_factor(self) -> usize {
        match self {
            TextSize::Normal | TextSize::Tall => 1,
            TextSize::Double | TextSize::Wide => 2,
            TextSize::Triple => 3,
        }
    }
}

/// One element of a slip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// One printed line, already wrapped to fit and already made printable.
    Text {
        text: String,
        size: TextSize,
        align: Align,
        bold: bool,
    },
    /// A centred QR code of `data`, with its quiet zone.
    Qr { data: String },
    /// A full-width line of dashes.
    Rule,
    /// `n` blank lines.
    Feed(u8),
    /// The end of the slip: cut, or feed to the tear bar.
    Cut,
}

/// Blank lines between the hotline and the cut: form B cuts right below the last printed line,
/// so this is the slip's bottom margin (about 8 mm).
const BOTTOM_MARGIN_LINES: u8 = 2;
/// Fewer columns than this cannot hold a Hanzi at double width; a broken profile still gets a
/// usable (if overflowing) layout instead of an endless loop.
const MIN_WRAP_COLUMNS: usize = 2;

/// Lays out a slip for this printer.
///
/// Order: heading, station, service, date and time, rule, code label, code, QR, QR caption,
/// next steps, rule, hotline, bottom margin, cut. Empty fields print no line.
pub fn layout(content: &SlipContent, profile: &PrinterProfile) -> Vec<Block> {
    let columns = usize::from(profile.columns).max(MIN_WRAP_COLUMNS);
    let mut blocks = Vec::new();
    let lines =
        |blocks: &mut Vec<Block>, texts: Vec<String>, size: TextSize, align: Align, bold: bool| {
            blocks.extend(texts.into_iter().map(|text| Block::Text {
                text,
                size,
                align,
                bold,
            }));
        };
    let wrapped = |text: &str, size: TextSize| {
        wrap(
            &printable_text(text, profile),
            columns / size.width_factor(),
        )
    };

    lines(
        &mut blocks,
        wrapped(&content.heading, TextSize::Double),
        TextSize::Double,
        Align::Center,
        true,
    );
    for field in [
        &content.station_name,
        &content.service_line,
        &content.issued_at,
    ] {
        lines(
            &mut blocks,
            wrapped(field, TextSize::Normal),
            TextSize::Normal,
            Align::Center,
            false,
        );
    }
    blocks.push(Block::Rule);
    if let Some(f) = &content.feature {
        lines(
            &mut blocks,
            wrapped(&f.label, TextSize::Normal),
            TextSize::Normal,
            Align::Center,
            false,
        );
        // A ticket's number is the largest thing on the slip; an appointment's date and time
        // stay double (they are longer).
        let big = if f.big.chars().count() * TextSize::Triple.width_factor() <= columns / 2 {
            TextSize::Triple
        } else {
            TextSize::Double
        };
        lines(&mut blocks, wrapped(&f.big, big), big, Align::Center, true);
        for line in &f.lines {
            lines(
                &mut blocks,
                wrapped(line, TextSize::Normal),
                TextSize::Normal,
                Align::Center,
                false,
            );
        }
        blocks.push(Block::Rule);
    }
    lines(
        &mut blocks,
        wrapped(&content.code_label, TextSize::Normal),
        TextSize::Normal,
        Align::Center,
        false,
    );
    // Under a number the code is small: it is for the QR's reader and for staff, not to look
    // for.
    let code_size = if content.feature.is_some() {
        TextSize::Normal
    } else {
        TextSize::Double
    };
    let code = wrap_code(
        &printable_text(&content.code, profile),
        columns / code_size.width_factor(),
    );
    lines(&mut blocks, code, code_size, Align::Center, false);
    if !content.qr_payload.is_empty() {
        blocks.push(Block::Qr {
            data: content.qr_payload.clone(),
        });
    }
    lines(
        &mut blocks,
        wrapped(&content.qr_caption, TextSize::Normal),
        TextSize::Normal,
        Align::Center,
        false,
    );
    for paragraph in &content.next_steps {
        lines(
            &mut blocks,
            wrapped(paragraph, TextSize::Normal),
            TextSize::Normal,
            Align::Left,
            false,
        );
    }
    if !content.emergency.is_empty() {
        blocks.push(Block::Rule);
        for line in &content.emergency {
            lines(
                &mut blocks,
                wrapped(line, TextSize::Normal),
                TextSize::Normal,
                Align::Left,
                true,
            );
        }
    }
    blocks.push(Block::Rule);
    lines(
        &mut blocks,
        wrapped(&content.hotline, TextSize::Normal),
        TextSize::Normal,
        Align::Center,
        false,
    );
    blocks.push(Block::Feed(BOTTOM_MARGIN_LINES));
    blocks.push(Block::Cut);
    blocks
}

/// Printed columns of one character of printable text: the printer draws every multi-byte
/// (GB18030 two-byte) character in a full 24-dot Hanzi cell, and ASCII in a 12-dot cell.
pub(crate) fn char_columns(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

/// Printed columns of printable text.
pub(crate) fn text_columns(text: &str) -> usize {
    text.chars().map(char_columns).sum()
}

/// Characters that must not begin a line (Chinese line-breaking rules, and their ASCII kin).
const NO_LINE_START: &str = "，。、；：？！）》」』】〕〉”’…—·%,.;:!?)]}";
/// Characters that must not end a line.
const NO_LINE_END: &str = "（《「『【〔〈“‘([{";

/// Scripts written without spaces: a line may break before or after any of these characters.
fn breaks_anywhere(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}'      // CJK radicals, punctuation, kana, ideographs
        | '\u{AC00}'..='\u{D7AF}'    // Hangul
        | '\u{F900}'..='\u{FAFF}'    // compatibility ideographs
        | '\u{FE30}'..='\u{FE4F}'    // CJK compatibility forms
        | '\u{FF00}'..='\u{FFEF}'    // full-width forms
        | '\u{20000}'..='\u{3FFFF}') // supplementary ideographs
}

/// A piece of a line that wrapping never splits unless it is wider than the line.
struct Piece {
    text: String,
    columns: usize,
    space: bool,
}

/// Wraps printable text into lines of at most `columns` printed columns.
///
/// Chinese breaks between any two characters, other text at spaces; a word wider than a line
/// is split. No character but the spaces at a break is lost. Closing punctuation is kept off
/// the start of a line, and opening punctuation off its end, by carrying the previous
/// character down with it when that fits.
pub(crate) fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(MIN_WRAP_COLUMNS);
    let mut lines = Lines::default();
    for piece in pieces(text) {
        if piece.space {
            if !lines.current.is_empty() {
                lines.current.push(piece);
            }
        } else if piece.columns > columns {
            for c in piece.text.chars() {
                lines.place(
                    Piece {
                        text: c.to_string(),
                        columns: char_columns(c),
                        space: false,
                    },
                    columns,
                );
            }
        } else {
            lines.place(piece, columns);
        }
    }
    lines.done.push(lines.current);
    lines
        .done
        .into_iter()
        .map(|line| {
            line.into_iter()
                .map(|p| p.text)
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .filter(|line| !line.is_empty())
        .collect()
}

/// Lines being filled: the finished ones and the one pieces go on.
#[derive(Default)]
struct Lines {
    done: Vec<Vec<Piece>>,
    current: Vec<Piece>,
}

impl Lines {
    /// Puts a piece on the current line, or on a new one when it does not fit.
    fn place(&mut self, piece: Piece, columns: usize) {
        if width(&self.current) + piece.columns <= columns {
            self.current.push(piece);
            return;
        }
        let mut previous = std::mem::take(&mut self.current);
        trim_trailing_spaces(&mut previous);
        let starts_badly = piece
            .text
            .chars()
            .next()
            .is_some_and(|c| NO_LINE_START.contains(c));
        let ends_badly = previous
            .last()
            .and_then(|p| p.text.chars().last())
            .is_some_and(|c| NO_LINE_END.contains(c));
        let movable = previous.iter().filter(|p| !p.space).count() > 1;
        if (starts_badly || ends_badly)
            && movable
            && previous
                .last()
                .is_some_and(|p| p.columns + piece.columns <= columns)
        {
            if let Some(carried) = previous.pop() {
                trim_trailing_spaces(&mut previous);
                self.current.push(carried);
            }
        }
        self.current.push(piece);
        self.done.push(previous);
    }
}

fn width(line: &[Piece]) -> usize {
    line.iter().map(|p| p.columns).sum()
}

fn trim_trailing_spaces(line: &mut Vec<Piece>) {
    while line.last().is_some_and(|p| p.space) {
        line.pop();
    }
}

/// Splits text into words (kept whole), single breakable characters and single spaces.
fn pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, pieces: &mut Vec<Piece>| {
        if !word.is_empty() {
            pieces.push(Piece {
                columns: text_columns(word),
                text: std::mem::take(word),
                space: false,
            });
        }
    };
    for c in text.chars() {
        if c == ' ' {
            flush(&mut word, &mut pieces);
            pieces.push(Piece {
                text: " ".into(),
                columns: 1,
                space: true,
            });
        } else if breaks_anywhere(c) {
            flush(&mut word, &mut pieces);
            pieces.push(Piece {
                text: c.to_string(),
                columns: char_columns(c),
                space: false,
            });
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut pieces);
    pieces
}

/// The tracking code stays on one line where it fits; otherwise it breaks after the dash that
/// balances the two lines best, so a resident copying it sees whole groups.
fn wrap_code(code: &str, columns: usize) -> Vec<String> {
    let code = code.trim();
    if text_columns(code) <= columns {
        return if code.is_empty() {
            Vec::new()
        } else {
            vec![code.to_owned()]
        };
    }
    let best = code
        .match_indices('-')
        .map(|(i, dash)| i + dash.len())
        .filter(|&i| text_columns(&code[..i]) <= columns && text_columns(&code[i..]) <= columns)
        .min_by_key(|&i| text_columns(&code[..i]).abs_diff(text_columns(&code[i..])));
    match best {
        Some(i) => vec![code[..i].to_owned(), code[i..].to_owned()],
        None => wrap(&code.replace('-', "- "), columns)
            .into_iter()
            .map(|l| l.replace("- ", "-"))
            .collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::profile::{builtin, builtin_profiles, ChineseMode};

    /// A realistic slip: Chinese headings, a bilingual label, two sentences of next steps.
    pub(crate) fn sample_content() -> SlipContent {
        SlipContent {
            heading: "群众诉求服务站".into(),
            station_name: "演示站".into(),
            service_line: "投诉建议 · 噪音".into(),
            issued_at: "2026-11-26 14:05".into(),
            feature: None,
            code_label: "查询码 Tracking code".into(),
            code: "7K3Q-9XPD-2W4M-HT8C-X".into(),
            qr_payload: "HTTP://127.0.0.1:8787/T/7K3Q9XPD2W4MHT8CX".into(),
            qr_caption: "扫码查看办理进度".into(),
            next_steps: vec![
                "您的诉求已登记，工作人员将在三个工作日内联系您或转交相关部门办理。".into(),
                "请妥善保管本凭条，凭查询码可随时查看办理进度。".into(),
            ],
            emergency: Vec::new(),
            hotline: "服务热线 12345".into(),
        }
    }

    fn non_space(text: &str) -> String {
        text.chars().filter(|c| *c != ' ').collect()
    }

    fn texts(blocks: &[Block]) -> Vec<&str> {
        blocks
            .iter()
            .filter_map(|b| {
                if let Block::Text { text, .. } = b {
                    Some(text.as_str())
                } else {
                    None
                }
            })
            .collect()
    }

    #[test]
    fn chinese_wraps_between_any_two_characters_and_fills_the_line() {
        let lines = wrap("您的诉求已登记工作人员将在三个工作日内联系您", 10);
        assert_eq!(
            lines,
            [
                "您的诉求已",
                "登记工作人",
                "员将在三个",
                "工作日内联",
                "系您"
            ]
        );
    }

    #[test]
    fn latin_wraps_at_spaces_and_drops_only_the_break_spaces() {
        let lines = wrap("Keep this slip: the code tracks your case", 16);
        assert_eq!(lines, ["Keep this slip:", "the code tracks", "your case"]);
    }

    #[test]
    fn a_latin_word_wider_than_the_line_is_split_not_lost() {
        let lines = wrap("see https://hub.example.gov.cn/T/7K3Q9XPD", 12);
        assert!(lines.iter().all(|l| text_columns(l) <= 12), "{lines:?}");
        assert_eq!(
            non_space(&lines.concat()),
            non_space("see https://hub.example.gov.cn/T/7K3Q9XPD")
        );
    }

    #[test]
    fn mixed_text_loses_nothing_and_never_overflows() {
        let text = "查询码 Tracking code：请在 3 个工作日内拨打 12345 或访问 hub.example.gov.cn 查看 progress，谢谢！";
        for columns in 4..=48 {
            let lines = wrap(text, columns);
            assert!(
                lines.iter().all(|l| text_columns(l) <= columns),
                "{columns}: {lines:?}"
            );
            assert_eq!(non_space(&lines.concat()), non_space(text), "{columns}");
        }
    }

    #[test]
    fn closing_punctuation_does_not_start_a_line() {
        // Without the rule, "，" would start the second line.
        let lines = wrap("您的诉求已登记，工作人员", 14);
        assert_eq!(lines, ["您的诉求已登", "记，工作人员"]);
        assert!(!wrap("请妥善保管本凭条。凭查询码查看进度", 16)
            .iter()
            .any(|l| l.starts_with('。')));
    }

    #[test]
    fn opening_punctuation_does_not_end_a_line() {
        // Without the rule, the first line would end with "（".
        assert_eq!(
            wrap("请拨打服务热（12345）", 14),
            ["请拨打服务热", "（12345）"]
        );
    }

    #[test]
    fn the_code_stays_whole_where_it_fits_and_splits_at_a_dash_on_58mm() {
        assert_eq!(
            wrap_code("7K3Q-9XPD-2W4M-HT8C-X", 24),
            ["7K3Q-9XPD-2W4M-HT8C-X"]
        );
        assert_eq!(
            wrap_code("7K3Q-9XPD-2W4M-HT8C-X", 21),
            ["7K3Q-9XPD-2W4M-HT8C-X"]
        );
        assert_eq!(
            wrap_code("7K3Q-9XPD-2W4M-HT8C-X", 16),
            ["7K3Q-9XPD-", "2W4M-HT8C-X"]
        );
        let narrow = wrap_code("7K3Q-9XPD-2W4M-HT8C-X", 8);
        assert!(narrow.iter().all(|l| l.len() <= 8), "{narrow:?}");
        assert_eq!(narrow.concat(), "7K3Q-9XPD-2W4M-HT8C-X");
    }

    #[test]
    fn the_code_is_one_double_line_on_80mm_and_two_on_58mm() {
        let content = sample_content();
        for (id, expected) in [("epson-tm-t88", 1), ("cn-80mm", 1), ("cn-58mm", 2)] {
            let profile = builtin(id).expect("built in");
            let blocks = layout(&content, &profile);
            let code_lines = blocks
                .iter()
                .filter(|b| {
                    matches!(
                        b,
                        Block::Text {
                            size: TextSize::Double,
                            bold: false,
                            ..
                        }
                    )
                })
                .count();
            assert_eq!(code_lines, expected, "{id}");
        }
    }

    #[test]
    fn the_slip_is_in_the_documented_order() {
        let content = sample_content();
        let blocks = layout(&content, &builtin("cn-80mm").expect("built in"));
        let heading = Block::Text {
            text: content.heading.clone(),
            size: TextSize::Double,
            align: Align::Center,
            bold: true,
        };
        assert_eq!(blocks[0], heading);
        let order: Vec<&str> = texts(&blocks);
        assert_eq!(
            &order[..6],
            [
                "群众诉求服务站",
                "演示站",
                "投诉建议 · 噪音",
                "2026-11-26 14:05",
                "查询码 Tracking code",
                "7K3Q-9XPD-2W4M-HT8C-X"
            ]
        );
        assert_eq!(order.last(), Some(&"服务热线 12345"));
        let position = |wanted: &Block| blocks.iter().position(|b| b == wanted).expect("present");
        let qr = position(&Block::Qr {
            data: content.qr_payload.clone(),
        });
        assert!(
            matches!(&blocks[qr - 1], Block::Text { text, size: TextSize::Double, .. } if text == &content.code)
        );
        assert!(matches!(&blocks[qr + 1], Block::Text { text, .. } if text == &content.qr_caption));
        assert!(matches!(blocks[blocks.len() - 2], Block::Feed(_)));
        assert_eq!(blocks.last(), Some(&Block::Cut));
        assert_eq!(blocks.iter().filter(|b| **b == Block::Rule).count(), 2);
        let steps = blocks
            .iter()
            .filter(|b| {
                matches!(
                    b,
                    Block::Text {
                        align: Align::Left,
                        ..
                    }
                )
            })
            .count();
        assert!(steps >= 2, "next steps are left-aligned paragraphs");
    }

    #[test]
    fn no_line_is_wider_than_its_columns_on_any_builtin() {
        let mut content = sample_content();
        content.heading = "北京市朝阳区群众诉求综合服务中心".into();
        content.next_steps.push(
            "If you need help in English, ask the staff at the desk or call the hotline.".into(),
        );
        for profile in builtin_profiles() {
            for block in layout(&content, &profile) {
                if let Block::Text { text, size, .. } = block {
                    let limit = usize::from(profile.columns) / size.width_factor();
                    assert!(
                        text_columns(&text) <= limit,
                        "{}: {text:?} is wider than {limit}",
                        profile.id
                    );
                }
            }
        }
    }

    #[test]
    fn every_character_of_the_content_is_laid_out() {
        let content = sample_content();
        let profile = builtin("cn-58mm").expect("built in");
        let printed = non_space(&texts(&layout(&content, &profile)).concat());
        let given = non_space(
            &[
                &content.heading,
                &content.station_name,
                &content.service_line,
                &content.issued_at,
                &content.code_label,
                &content.code,
                &content.qr_caption,
            ]
            .into_iter()
            .cloned()
            .chain(content.next_steps.iter().cloned())
            .chain([content.hotline.clone()])
            .collect::<String>(),
        );
        assert_eq!(printed, given);
    }

    #[test]
    fn a_printer_without_chinese_gets_placeholders_of_the_right_width() {
        let mut profile = builtin("cn-58mm").expect("built in");
        profile.chinese = ChineseMode::None;
        let blocks = layout(&sample_content(), &profile);
        assert!(texts(&blocks).iter().all(|t| t.is_ascii()));
        assert!(texts(&blocks).contains(&"???????"));
    }

    #[test]
    fn empty_fields_print_no_line_and_a_broken_profile_does_not_hang() {
        let mut content = sample_content();
        content.station_name.clear();
        content.next_steps = vec![String::new()];
        let mut profile = builtin("cn-80mm").expect("built in");
        let normal = layout(&sample_content(), &profile).len();
        assert!(layout(&content, &profile).len() < normal - 1);
        profile.columns = 0;
        assert!(layout(&sample_content(), &profile).len() > normal);
    }
}
