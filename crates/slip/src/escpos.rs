//! The ESC/POS encoder: turns laid-out [`Block`]s into the bytes a printer of a given profile
//! understands, and decides which characters may reach the printer at all.
//!
//! It owns the byte constants, the Chinese-mode framing (`FS &` … `FS .`), the QR code (native
//! `GS ( k` or a `GS v 0` raster image) and the cut. It does not lay out a slip (the layout
//! wrapped every line already; only a QR payload too long for any symbol is wrapped here, to
//! print it as text), talk to a port, or ask for status.
//!
//! Safety rule: every string goes through [`printable_text`](crate::text::printable_text) before it becomes bytes, so no
//! control byte from anyone's text can become a printer command. QR payloads need no such
//! care: they travel length-prefixed (`GS ( k`) or as pixels (`GS v 0`), never as commands.

use std::cell::RefCell;

use encoding_rs::GB18030;
use escpos::driver::Driver;
use escpos::errors::PrinterError;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder as TextEncoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};
use qrcode::{Color, EcLevel, QrCode};

use crate::layout::{wrap, Align, Block, TextSize};
use crate::profile::{ChineseMode, Cut, PrinterProfile, QrMode};
use crate::text::printable_text;

pub(crate) const NUL: u8 = 0x00;
pub(crate) const HT: u8 = 0x09;
pub(crate) const LF: u8 = 0x0A;
pub(crate) const CR: u8 = 0x0D;
pub(crate) const DLE: u8 = 0x10;
pub(crate) const EOT: u8 = 0x04;
pub(crate) const ESC: u8 = 0x1B;
pub(crate) const FS: u8 = 0x1C;
pub(crate) const GS: u8 = 0x1D;

/// `ESC @`: clear the buffer and return to the power-on modes (the crate's `init()` sends it).
#[cfg(test)]
pub(crate) const INITIALIZE: [u8; 2] = [ESC, b'@'];
/// `FS &`: bytes ≥ 0x81 start a GB18030 character until `FS .`.
pub(crate) const CHINESE_ON: [u8; 2] = [FS, b'&'];
/// `FS .`: back to single-byte characters.
pub(crate) const CHINESE_OFF: [u8; 2] = [FS, b'.'];
/// `GS ( k` function 165: QR model 2.
pub(crate) const QR_MODEL_2: [u8; 9] = [GS, b'(', b'k', 4, 0, 0x31, 0x41, 0x32, 0x00];
/// `GS ( k` function 169: error correction level M (`0x31`).
///
/// M, not L: a slip lives for weeks in a pocket or wallet, and thermal paper fades, creases
/// and scuffs; M recovers about 15 % of the symbol against L's 7 %. Its cost is small: a
/// tracking URL of up to 61 alphanumeric characters (a 40-character base, `/T/` and the
/// 17-character token) is a version-3 symbol, 29 modules, one step (4 modules, 3 mm at module
/// size 6) above L. Q stays at version 3 only up to 47 characters, so the symbol would grow
/// with the length of a district's domain name; H is meant for symbols with a logo over them.
pub(crate) const QR_ERROR_CORRECTION_M: [u8; 8] = [GS, b'(', b'k', 3, 0, 0x31, 0x45, 0x31];
/// `GS ( k` function 181: print the stored symbol.
pub(crate) const QR_PRINT: [u8; 8] = [GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30];

/// Modules of white around a QR symbol, as the QR specification asks.
pub(crate) const QR_QUIET_ZONE_MODULES: usize = 4;
/// Rows per `GS v 0` command: large images overflow small printer buffers and the rest of the
/// image is then read as commands (research §1.3); bands of 128 rows avoid that.
const RASTER_BAND_ROWS: usize = 128;
/// The smallest line pitch among the printers we know (1/6 inch at 180 dpi is 30 dots): blank
/// lines around a native QR are counted with it so the quiet zone is never short.
const MIN_LINE_PITCH_DOTS: usize = 30;
/// Lines fed when there is no cutter, to bring the slip past the tear bar (about 15 mm).
const TEAR_OFF_FEED_LINES: u8 = 4;

/// The largest module size the `escpos` crate sends: it clamps function 167 to 15, where the
/// firmware and our profiles allow 16.
const CRATE_MAX_MODULE_SIZE: u8 = 15;

/// Turns a laid-out slip into the bytes for this printer.
///
/// The stream starts with `ESC @`, selects the code table and emits style commands only when
/// they change. Every text line is followed by `LF`, so QR codes, images and the cut always
/// start at the beginning of a line, as the printers require.
///
/// The commands come from the `escpos` crate where it sends what the printers expect (`ESC @`,
/// `ESC a`, `ESC E`, `GS !`, `ESC d`, the native QR `GS ( k`, the full cut without feed, and
/// the text, encoded as GB18030); the rest is ours, sent through its `custom()`: the code
/// table, Chinese mode, the line feed, the partial cut, a cut with its feed, the raster QR and
/// a module size of 16. `docs/printer.md` ("Which bytes come from the escpos crate") says why
/// for each.
///
/// It cannot fail. The crate refuses only a text size outside 1..=8 (ours are 1 to 3), text its
/// encoder cannot map (GB18030 maps every character, and [`printable_text`] has already chosen
/// what the printer's font holds) and a QR payload over 7089 bytes (the symbol was built above,
/// so the payload fits one); its writer is memory. Any of those would be a bug here, not a bad
/// slip, and panics with the crate's words.
pub fn encode(blocks: &[Block], profile: &PrinterProfile) -> Vec<u8> {
    stream(blocks, profile)
        .unwrap_or_else(|e| panic!("the slip's encoder gave the escpos crate what it refuses: {e}"))
}

fn stream(blocks: &[Block], profile: &PrinterProfile) -> Result<Vec<u8>, PrinterError> {
    let mut encoder = Encoder {
        printer: Printer::new(
            Memory::default(),
            Protocol::new(TextEncoder::new(GB18030)),
            None,
        ),
        profile,
        align: Align::Left,
        bold: false,
        size: TextSize::Normal,
    };
    // No page code in the crate's options: its writer would map text through a single-byte
    // table first (in PC437, `·` becomes 0xFA, not GB18030's A1 A4).
    encoder.printer.init()?;
    if profile.chinese == ChineseMode::Gb18030 {
        // Some Chinese printers start in Chinese mode (research §2.3): state it explicitly.
        encoder.printer.custom(&CHINESE_OFF)?;
    }
    encoder.printer.custom(&[ESC, b't', profile.code_page])?;
    for block in blocks {
        match block {
            Block::Text {
                text,
                size,
                align,
                bold,
            } => encoder.line(text, *size, *align, *bold)?,
            Block::Qr { data } => encoder.qr(data)?,
            Block::Rule => {
                // A full line of dashes looks the same whatever the alignment: keep the current
                // one rather than spend bytes changing it.
                let rule = "-".repeat(usize::from(profile.columns));
                encoder.line(&rule, TextSize::Normal, encoder.align, false)?;
            }
            Block::Feed(lines) => encoder.feed(*lines)?,
            Block::Cut => encoder.cut()?,
        }
    }
    encoder.printer.print()?;
    Ok(encoder.printer.driver().0.into_inner())
}

/// Where the crate's printer writes: memory. The devices crate's transport sends the bytes.
#[derive(Default)]
struct Memory(RefCell<Vec<u8>>);

impl Driver for Memory {
    fn name(&self) -> String {
        "memory".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

type Step = Result<(), PrinterError>;

struct Encoder<'a> {
    printer: Printer<Memory>,
    profile: &'a PrinterProfile,
    align: Align,
    bold: bool,
    size: TextSize,
}

impl Encoder<'_> {
    fn set_align(&mut self, align: Align) -> Step {
        if self.align != align {
            self.printer.justify(match align {
                Align::Left => JustifyMode::LEFT,
                Align::Center => JustifyMode::CENTER,
                Align::Right => JustifyMode::RIGHT,
            })?;
            self.align = align;
        }
        Ok(())
    }

    fn set_bold(&mut self, bold: bool) -> Step {
        if self.bold != bold {
            self.printer.bold(bold)?;
            self.bold = bold;
        }
        Ok(())
    }

    fn set_size(&mut self, size: TextSize) -> Step {
        if self.size != size {
            // Width and height multipliers: `GS !` n = (width - 1) << 4 | (height - 1).
            let (width, height) = match size {
                TextSize::Normal => (1, 1),
                TextSize::Double => (2, 2),
                TextSize::Tall => (1, 2),
                TextSize::Wide => (2, 1),
                TextSize::Triple => (3, 3),
            };
            self.printer.size(width, height)?;
            self.size = size;
        }
        Ok(())
    }

    fn line(&mut self, text: &str, size: TextSize, align: Align, bold: bool) -> Step {
        self.set_align(align)?;
        self.set_bold(bold)?;
        self.set_size(size)?;
        let text = printable_text(text, self.profile);
        if text.is_ascii() {
            self.printer.write(&text)?;
        } else {
            // Only reachable with a Chinese font: without one printable_text left only ASCII.
            self.printer.custom(&CHINESE_ON)?;
            self.printer.write(&text)?;
            self.printer.custom(&CHINESE_OFF)?;
        }
        // LF, not the crate's `writeln` (`ESC d 1`): the same line, two bytes fewer.
        self.printer.custom(&[LF])?;
        Ok(())
    }

    fn feed(&mut self, lines: u8) -> Step {
        if lines > 0 {
            self.printer.feeds(lines)?;
        }
        Ok(())
    }

    fn cut(&mut self) -> Step {
        match self.profile.cut {
            // The crate's `partial_cut()` sends `GS V 65 1`, a full cut on Epson's table.
            Cut::Partial { feed } => self.printer.custom(&[GS, b'V', 66, feed])?,
            Cut::Full { feed: 0 } => self.printer.cut()?,
            // The crate's `cut()` always feeds 0.
            Cut::Full { feed } => self.printer.custom(&[GS, b'V', 65, feed])?,
            Cut::None => self.printer.feeds(TEAR_OFF_FEED_LINES)?,
        };
        Ok(())
    }

    /// A centred QR code. Native where the profile allows and the payload fits the firmware,
    /// else a raster image; a payload too long for any QR symbol is printed as text.
    fn qr(&mut self, data: &str) -> Step {
        let Ok(symbol) = QrCode::with_error_correction_level(data, EcLevel::M) else {
            for line in wrap(
                &printable_text(data, self.profile),
                usize::from(self.profile.columns),
            ) {
                self.line(&line, TextSize::Normal, Align::Left, false)?;
            }
            return Ok(());
        };
        let module_size = fit_module_size(
            symbol.width(),
            self.profile.qr.module_size(),
            self.profile.dots_per_line,
        );
        self.set_align(Align::Center)?;
        match self.profile.qr {
            QrMode::Native { max_data, .. } if data.len() <= usize::from(max_data) => {
                // The printer leaves no quiet zone above or below the symbol: blank lines do.
                let blank_lines = vec![
                    LF;
                    (QR_QUIET_ZONE_MODULES * usize::from(module_size))
                        .div_ceil(MIN_LINE_PITCH_DOTS)
                ];
                self.printer.custom(&blank_lines)?;
                self.native_qr(data, module_size)?;
                self.printer.custom(&blank_lines)?;
            }
            QrMode::Native { .. } | QrMode::Raster { .. } => {
                self.printer.custom(&raster_qr(&symbol, module_size))?;
            }
        }
        Ok(())
    }

    fn native_qr(&mut self, data: &str, module_size: u8) -> Step {
        if module_size <= CRATE_MAX_MODULE_SIZE {
            self.printer.qrcode_option(
                data,
                QRCodeOption::new(QRCodeModel::Model2, module_size, QRCodeCorrectionLevel::M),
            )?;
            return Ok(());
        }
        // Module size 16, which the crate would send as 15: the same functions, ours.
        let mut bytes = Vec::with_capacity(data.len() + 40);
        bytes.extend(QR_MODEL_2);
        bytes.extend([GS, b'(', b'k', 3, 0, 0x31, 0x43, module_size]);
        bytes.extend(QR_ERROR_CORRECTION_M);
        // data.len() ≤ max_data ≤ u16::MAX, and the symbol exists, so it is at most 7089.
        let [p_l, p_h] = u16::try_from(data.len() + 3)
            .unwrap_or(u16::MAX)
            .to_le_bytes();
        bytes.extend([GS, b'(', b'k', p_l, p_h, 0x31, 0x50, 0x30]);
        bytes.extend(data.as_bytes());
        bytes.extend(QR_PRINT);
        self.printer.custom(&bytes)?;
        Ok(())
    }
}

/// The symbol with its quiet zone on every side, one bit per dot, `module_size` dots per
/// module, as `GS v 0` images of at most [`RASTER_BAND_ROWS`] rows, centred by the `ESC a 1`
/// before it. Printers that ignore `ESC a` for images (HPRT and Better manuals say it applies)
/// print it at the left margin, still with its quiet zone. Ours, not the crate's: its images need
/// its `graphics` feature (the `image` crate) and go as one command, which overflows the buffers
/// of small printers (research §1.3).
fn raster_qr(symbol: &QrCode, module_size: u8) -> Vec<u8> {
    let modules = symbol.width();
    let colors = symbol.to_colors();
    let scale = usize::from(module_size);
    let side = (modules + 2 * QR_QUIET_ZONE_MODULES) * scale;
    let row_bytes = side.div_ceil(8);
    let dark = |dot_x: usize, dot_y: usize| {
        let (x, y) = (dot_x / scale, dot_y / scale);
        let inside =
            |m: usize| (QR_QUIET_ZONE_MODULES..QR_QUIET_ZONE_MODULES + modules).contains(&m);
        inside(x)
            && inside(y)
            && colors[(y - QR_QUIET_ZONE_MODULES) * modules + x - QR_QUIET_ZONE_MODULES]
                == Color::Dark
    };
    let mut out = Vec::with_capacity(side * row_bytes + 8 * side.div_ceil(RASTER_BAND_ROWS));
    for band_top in (0..side).step_by(RASTER_BAND_ROWS) {
        let rows = RASTER_BAND_ROWS.min(side - band_top);
        // side ≤ (177 + 8) · 16 dots, so both fit u16.
        let [x_l, x_h] = u16::try_from(row_bytes).unwrap_or(u16::MAX).to_le_bytes();
        let [y_l, y_h] = u16::try_from(rows).unwrap_or(u16::MAX).to_le_bytes();
        out.extend([GS, b'v', b'0', 0, x_l, x_h, y_l, y_h]);
        for y in band_top..band_top + rows {
            for byte in 0..row_bytes {
                let bits = (0..8).fold(0u8, |acc, bit| {
                    let x = byte * 8 + bit;
                    acc | if x < side && dark(x, y) {
                        0x80 >> bit
                    } else {
                        0
                    }
                });
                out.push(bits);
            }
        }
    }
    out
}

/// The profile's module size, made smaller if the symbol and its quiet zone would not fit the
/// line: printers silently drop a symbol wider than the print area.
fn fit_module_size(modules: usize, wanted: u8, dots_per_line: u16) -> u8 {
    let fitting = usize::from(dots_per_line) / (modules + 2 * QR_QUIET_ZONE_MODULES);
    u8::try_from(fitting).unwrap_or(u8::MAX).min(wanted).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret::{interpret, Element};
    use crate::layout::tests::sample_content;
    use crate::layout::{layout, SlipContent};
    use crate::profile::{builtin, builtin_profiles};

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    fn sample_slip(profile: &PrinterProfile) -> Vec<u8> {
        encode(&layout(&sample_content(), profile), profile)
    }

    /// The lines the layout asked for, as the printer will print them.
    fn expected_lines(content: &SlipContent, profile: &PrinterProfile) -> Vec<String> {
        layout(content, profile)
            .into_iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(printable_text(&text, profile)),
                Block::Rule => Some("-".repeat(usize::from(profile.columns))),
                _ => None,
            })
            .collect()
    }

    fn cut_bytes(profile: &PrinterProfile) -> Vec<u8> {
        match profile.cut {
            Cut::Partial { feed } => vec![GS, b'V', 66, feed],
            Cut::Full { feed } => vec![GS, b'V', 65, feed],
            Cut::None => vec![ESC, b'd', TEAR_OFF_FEED_LINES],
        }
    }

    #[test]
    fn every_builtin_slip_starts_with_initialize_and_ends_with_its_cut() {
        for profile in builtin_profiles() {
            let bytes = sample_slip(&profile);
            assert!(bytes.starts_with(&INITIALIZE), "{}", profile.id);
            assert!(bytes.ends_with(&cut_bytes(&profile)), "{}", profile.id);
            assert_eq!(
                &bytes[2..7],
                &[FS, b'.', ESC, b't', profile.code_page],
                "{}",
                profile.id
            );
        }
    }

    #[test]
    fn a_native_qr_slip_fits_the_700_byte_budget() {
        for profile in builtin_profiles()
            .into_iter()
            .filter(|p| matches!(p.qr, QrMode::Native { .. }))
        {
            let bytes = sample_slip(&profile);
            println!("{}: {} bytes", profile.id, bytes.len());
            assert!(bytes.len() <= 700, "{}: {} bytes", profile.id, bytes.len());
        }
    }

    #[test]
    fn every_line_and_the_qr_print_back_with_chinese_only_inside_chinese_mode() {
        let content = sample_content();
        for profile in builtin_profiles() {
            let printout = interpret(&encode(&layout(&content, &profile), &profile));
            assert!(
                printout.warnings.is_empty(),
                "{}: {:?}",
                profile.id,
                printout.warnings
            );
            assert_eq!(
                printout.text_lines(),
                expected_lines(&content, &profile),
                "{}",
                profile.id
            );
            for element in &printout.elements {
                if let Element::Line { runs, .. } = element {
                    for run in runs {
                        assert!(
                            run.text.is_ascii() || run.chinese_mode,
                            "{}: {:?} outside FS &",
                            profile.id,
                            run.text
                        );
                    }
                }
            }
            let cuts = printout
                .elements
                .iter()
                .filter(|e| matches!(e, Element::Cut { .. }))
                .count();
            assert_eq!(cuts, 1, "{}", profile.id);
            match profile.qr {
                QrMode::Native { .. } => {
                    assert_eq!(printout.qr_payloads(), [content.qr_payload.as_str()])
                }
                // The image's payload is checked by scanning the rendered slip (render.rs).
                QrMode::Raster { .. } => assert!(printout
                    .elements
                    .iter()
                    .any(|e| matches!(e, Element::Raster { .. }))),
            }
        }
    }

    #[test]
    fn chinese_lines_are_gb18030_between_fs_ampersand_and_fs_period() {
        let profile = builtin("cn-80mm").expect("built in");
        let bytes = sample_slip(&profile);
        let heading = [
            &CHINESE_ON[..],
            &GB18030.encode("群众诉求服务站").0,
            &CHINESE_OFF,
            &[LF],
        ]
        .concat();
        assert!(find(&bytes, &heading).is_some());
        // The same text in UTF-8 must not have slipped through.
        assert!(find(&bytes, "诉求".as_bytes()).is_none());
    }

    #[test]
    fn the_native_qr_stores_exactly_the_url_at_level_m_and_prints_it() {
        let content = sample_content();
        for profile in builtin_profiles()
            .into_iter()
            .filter(|p| matches!(p.qr, QrMode::Native { .. }))
        {
            let bytes = sample_slip(&profile);
            let url = content.qr_payload.as_bytes();
            let store = find(
                &bytes,
                &[GS, b'(', b'k', (url.len() + 3) as u8, 0, 0x31, 0x50, 0x30],
            )
            .expect("fn180 present");
            assert_eq!(&bytes[store + 8..store + 8 + url.len()], url);
            assert_eq!(
                &bytes[store + 8 + url.len()..store + 16 + url.len()],
                &QR_PRINT
            );
            assert!(find(&bytes, &QR_MODEL_2).is_some_and(|i| i < store));
            assert!(find(&bytes, &QR_ERROR_CORRECTION_M).is_some_and(|i| i < store));
            assert!(
                find(&bytes, &[GS, b'(', b'k', 3, 0, 0x31, 0x43, 6]).is_some(),
                "module size 6"
            );
            assert_eq!(
                bytes[find(&bytes, &QR_MODEL_2).expect("present") - 1],
                LF,
                "QR starts a line"
            );
            assert!(find(&bytes, &[GS, b'v', b'0']).is_none());
        }
    }

    #[test]
    fn blank_lines_give_a_native_qr_its_quiet_zone_above_and_below() {
        for profile in builtin_profiles()
            .into_iter()
            .filter(|p| matches!(p.qr, QrMode::Native { .. }))
        {
            let elements = interpret(&sample_slip(&profile)).elements;
            let qr = elements
                .iter()
                .position(|e| matches!(e, Element::Qr { .. }))
                .expect("a QR");
            let Element::Qr { module_size, .. } = elements[qr] else {
                unreachable!()
            };
            let quiet = (QR_QUIET_ZONE_MODULES * usize::from(module_size)) as u32;
            for neighbour in [&elements[qr - 1], &elements[qr + 1]] {
                assert!(
                    matches!(neighbour, Element::Feed { dots } if *dots >= quiet),
                    "{}: {neighbour:?}",
                    profile.id
                );
            }
        }
    }

    #[test]
    fn the_raster_profile_sends_an_image_and_no_native_qr() {
        let profile = builtin("cn-58mm").expect("built in");
        let bytes = sample_slip(&profile);
        assert!(find(&bytes, &[GS, b'v', b'0', 0]).is_some());
        assert!(find(&bytes, &[GS, b'(', b'k']).is_none());
        let printout = interpret(&bytes);
        let rasters: Vec<_> = printout
            .elements
            .iter()
            .filter(|e| matches!(e, Element::Raster { .. }))
            .collect();
        // The symbol plus its quiet zone, 4 dots a module, in bands of at most 128 rows.
        let modules = QrCode::with_error_correction_level(sample_content().qr_payload, EcLevel::M)
            .expect("encodes")
            .width();
        let side = (modules + 2 * QR_QUIET_ZONE_MODULES) * 4;
        assert_eq!(rasters.len(), side.div_ceil(RASTER_BAND_ROWS));
        let rows: u32 = rasters
            .iter()
            .map(|e| {
                if let Element::Raster { height_dots, .. } = e {
                    *height_dots
                } else {
                    0
                }
            })
            .sum();
        assert_eq!(rows as usize, side);
        assert!(rasters.iter().all(|e| matches!(e, Element::Raster { width_dots, align: Align::Center, .. } if *width_dots as usize == side.div_ceil(8) * 8)));
        println!("cn-58mm: {} bytes", bytes.len());
    }

    #[test]
    fn a_payload_beyond_the_native_limit_falls_back_to_raster() {
        let mut profile = builtin("cn-80mm").expect("built in");
        profile.qr = QrMode::Native {
            module_size: 6,
            max_data: 20,
        };
        let bytes = sample_slip(&profile);
        assert!(find(&bytes, &[GS, b'(', b'k']).is_none());
        assert!(find(&bytes, &[GS, b'v', b'0']).is_some());
    }

    #[test]
    fn a_symbol_too_wide_for_the_paper_gets_smaller_modules() {
        let mut profile = builtin("cn-58mm").expect("built in");
        profile.qr = QrMode::Native {
            module_size: 16,
            max_data: 7089,
        };
        let bytes = sample_slip(&profile);
        let modules = QrCode::with_error_correction_level(sample_content().qr_payload, EcLevel::M)
            .expect("encodes")
            .width();
        let fitting = 384 / (modules + 2 * QR_QUIET_ZONE_MODULES);
        assert!(fitting < 16);
        assert!(find(&bytes, &[GS, b'(', b'k', 3, 0, 0x31, 0x43, fitting as u8]).is_some());
    }

    #[test]
    fn a_payload_too_long_for_any_qr_is_printed_as_text() {
        let profile = builtin("cn-80mm").expect("built in");
        let long = "X".repeat(5000);
        let printout = interpret(&encode(&[Block::Qr { data: long.clone() }], &profile));
        assert_eq!(printout.text_lines().concat(), long);
        assert!(printout.qr_payloads().is_empty());
    }

    #[test]
    fn control_bytes_in_any_field_never_become_commands() {
        let attack =
            "A\u{1B}@B\u{1D}V\u{41}\u{0}C\u{10}\u{04}\u{01}D\u{0}E\rF\u{9B}2J\u{85}G\u{1C}&\u{7F}H";
        let mut content = sample_content();
        content.heading = format!("站{attack}");
        content.station_name = attack.into();
        content.service_line = attack.into();
        content.issued_at = attack.into();
        content.code_label = attack.into();
        content.code = attack.into();
        content.qr_caption = attack.into();
        content.next_steps = vec![attack.into(), format!("诉求{attack}")];
        content.hotline = attack.into();
        for profile in builtin_profiles() {
            let clean = interpret(&sample_slip(&profile));
            let attacked = interpret(&encode(&layout(&content, &profile), &profile));
            assert!(
                attacked.warnings.is_empty(),
                "{}: {:?}",
                profile.id,
                attacked.warnings
            );
            assert!(attacked.status_queries.is_empty(), "{}", profile.id);
            let shape = |p: &crate::interpret::Printout| {
                p.elements
                    .iter()
                    .filter(|e| !matches!(e, Element::Line { .. }))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                shape(&attacked),
                shape(&clean),
                "{}: the same non-text elements",
                profile.id
            );
            for line in attacked.text_lines() {
                assert!(
                    !line.chars().any(char::is_control),
                    "{}: {line:?}",
                    profile.id
                );
            }
            assert!(
                attacked.text_lines().iter().any(|l| l.contains("A@BVA")),
                "{}: text kept, commands dropped",
                profile.id
            );
        }
    }

    #[test]
    fn printable_text_strips_c0_del_and_c1_controls() {
        let profile = builtin("cn-80mm").expect("built in");
        let text = "a\u{1B}b\u{1D}c\u{10}d\u{0}e\u{7F}f\u{9B}g\u{90}h\u{1C}i";
        assert_eq!(printable_text(text, &profile), "abcdefghi");
    }

    #[test]
    fn printable_text_turns_line_breaks_and_tabs_into_spaces() {
        let profile = builtin("cn-80mm").expect("built in");
        assert_eq!(
            printable_text("a\rb\nc\td\u{85}e\u{2028}f", &profile),
            "a b c d e f"
        );
    }

    #[test]
    fn emoji_and_four_byte_characters_are_replaced_on_a_chinese_printer() {
        let profile = builtin("cn-80mm").expect("built in");
        // 😀 and 𠀀 (U+20000) take four GB18030 bytes; 㐀 (U+3400, CJK Extension A) too.
        assert_eq!(printable_text("好😀𠀀㐀", &profile), "好〓〓〓");
        // The variation selector of ❤️ draws nothing and is dropped; ❤ itself is replaced.
        assert_eq!(printable_text("❤\u{FE0F}", &profile), "〓");
        // Private-use characters map to user-defined GBK codes, which fonts leave empty.
        assert_eq!(printable_text("\u{E000}", &profile), "〓");
        // GBK symbols stay: middle dot, euro sign, full-width comma, pinyin letter.
        assert_eq!(printable_text("·€，ǎ", &profile), "·€，ǎ");
        let bytes = encode(
            &[Block::Text {
                text: "😀".into(),
                size: TextSize::Normal,
                align: Align::Left,
                bold: false,
            }],
            &profile,
        );
        assert!(find(&bytes, &[0xA1, 0xFE]).is_some(), "〓 is sent as A1 FE");
        assert!(
            !bytes
                .windows(2)
                .any(|w| w[0] >= 0x81 && (0x30..=0x39).contains(&w[1])),
            "no four-byte sequence"
        );
    }

    #[test]
    fn a_printer_without_chinese_gets_only_ascii() {
        let mut profile = builtin("cn-58mm").expect("built in");
        profile.chinese = ChineseMode::None;
        assert_eq!(printable_text("查询码 Code: é😀", &profile), "??? Code: ??");
        let bytes = sample_slip(&profile);
        assert!(find(&bytes, &CHINESE_ON).is_none());
        assert!(find(&bytes, &CHINESE_OFF).is_none());
        let printout = interpret(&bytes);
        assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
        assert!(printout.text_lines().iter().all(|l| l.is_ascii()));
        // Without the QR image, no byte of the stream is ≥ 0x80.
        let text_only: Vec<Block> = layout(&sample_content(), &profile)
            .into_iter()
            .filter(|b| !matches!(b, Block::Qr { .. }))
            .collect();
        assert!(encode(&text_only, &profile).iter().all(|b| *b < 0x80));
    }

    #[test]
    fn printable_text_is_idempotent() {
        for profile in builtin_profiles() {
            let once = printable_text("群众\u{1B}😀 é\t·\u{E000}\u{200D}x", &profile);
            assert_eq!(printable_text(&once, &profile), once);
        }
    }

    #[test]
    fn styles_are_sent_only_when_they_change() {
        let profile = builtin("cn-80mm").expect("built in");
        let line = |text: &str| Block::Text {
            text: text.into(),
            size: TextSize::Double,
            align: Align::Center,
            bold: true,
        };
        let bytes = encode(&[line("a"), line("b")], &profile);
        let count = |needle: &[u8]| bytes.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(count(&[ESC, b'a', 1]), 1);
        assert_eq!(count(&[ESC, b'E', 1]), 1);
        assert_eq!(count(&[GS, b'!', 0x11]), 1);
        assert!(bytes.ends_with(b"a\nb\n"));
    }

    #[test]
    fn no_cutter_means_a_tear_off_feed() {
        let mut profile = builtin("cn-58mm").expect("built in");
        profile.cut = Cut::None;
        let bytes = sample_slip(&profile);
        assert!(bytes.ends_with(&[ESC, b'd', TEAR_OFF_FEED_LINES]));
        assert!(find(&bytes, &[GS, b'V']).is_none());
        let full = Cut::Full { feed: 3 };
        profile.cut = full;
        assert!(sample_slip(&profile).ends_with(&[GS, b'V', 65, 3]));
    }
}
