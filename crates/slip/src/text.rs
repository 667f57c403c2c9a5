//! Which characters may reach a printer at all, and what stands in for the ones that may not.
//!
//! Resident text can never reach the printer as commands: [`printable_text`] strips control
//! characters and replaces what the printer's font cannot print. The layout measures and wraps
//! only printable text, and the encoder sends only printable text, so both go through here.

use encoding_rs::GB18030;

use crate::profile::{ChineseMode, PrinterProfile};

/// What an unprintable character becomes on a printer with a Chinese font: 〓 (GETA MARK,
/// GB18030 `A1 FE`), the mark Chinese typesetting uses for a missing glyph. It is as wide as
/// the Hanzi or emoji it replaces, so the line keeps its layout.
const CHINESE_SUBSTITUTE: char = '〓';
/// What an unprintable character becomes on a printer without one.
const ASCII_SUBSTITUTE: char = '?';
/// The text as this printer will print it: control characters removed (line breaks and tabs
/// become spaces), invisible formatting characters dropped, and characters the printer has no
/// glyph for replaced by a visible substitute.
///
/// With a GB18030 font only characters of one or two GB18030 bytes (the GBK range) are
/// printable: four-byte sequences (emoji, rare ideographs) and the private-use area have no
/// glyph in a printer font. Without a Chinese font only ASCII is.
pub(crate) fn printable_text(text: &str, profile: &PrinterProfile) -> String {
    let mut printable = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
        ) {
            printable.push(' ');
        } else if c.is_control() || is_invisible(c) {
            // C0, DEL and C1 (including CSI U+009B) never reach the printer.
        } else if prints(c, profile.chinese) {
            printable.push(c);
        } else {
            printable.push(match profile.chinese {
                ChineseMode::Gb18030 => CHINESE_SUBSTITUTE,
                ChineseMode::None => ASCII_SUBSTITUTE,
            });
        }
    }
    printable
}

/// Characters that draw nothing: joiners, bidirectional controls, variation selectors,
/// combining marks, tags. A printer would show a substitute for each; the reader saw nothing.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}'
        | '\u{300}'..='\u{36F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

fn prints(c: char, chinese: ChineseMode) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    match chinese {
        ChineseMode::None => false,
        // GB18030 maps the private-use area onto two-byte user-defined codes, which no
        // printer font fills.
        ChineseMode::Gb18030 => !('\u{E000}'..='\u{F8FF}').contains(&c) && gb18030_len(c) == 2,
    }
}

/// Bytes of one character in GB18030.
fn gb18030_len(c: char) -> usize {
    let mut utf8 = [0u8; 4];
    let mut bytes = [0u8; 4];
    // GB18030 maps every character, in at most four bytes, so this never runs out of room.
    let (_, _, written) = GB18030.new_encoder().encode_from_utf8_without_replacement(
        c.encode_utf8(&mut utf8),
        &mut bytes,
        true,
    );
    written
}
