//! Draws a [`Printout`] as the paper would look: a PNG, one pixel per printer dot, white paper
//! and black ink, so a developer (and the virtual printer) can see a slip without a printer.
//!
//! It owns the picture only: fonts at Font A metrics (ASCII in 12×24-dot cells, Hanzi in
//! 24×24, scaled by the character size), alignment, the automatic wrap of a line wider than
//! the paper, QR symbols redrawn from their stored data, raster images bit by bit, feeds and
//! cuts. What the bytes mean is decided by the interpreter; this file never reads ESC/POS.
//! Text uses the kiosk's bundled font, not the printer's ROM font, so glyph shapes differ from
//! the real slip while positions and sizes match.

use ab_glyph::{point, Font, FontRef, PxScale};
use qrcode::{Color, EcLevel, QrCode};
use thiserror::Error;

use crate::font::CJK_FONT;
use crate::interpret::{Element, Printout, QrLevel, Run};
use crate::layout::Align;

/// Why a printout could not be drawn.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error("the bundled font cannot be read: {0}")]
    Font(#[from] ab_glyph::InvalidFont),
    #[error("a paper {0} dots wide cannot be drawn (1 to {MAX_WIDTH_DOTS} dots)")]
    Width(u32),
    #[error(
        "the printout is more than {MAX_HEIGHT_DOTS} dots long (4 m of paper); it is not drawn"
    )]
    TooLong,
    #[error("the PNG could not be written: {0}")]
    Png(#[from] png::EncodingError),
}

/// Widest head drawn; real ones are at most 832 dots.
const MAX_WIDTH_DOTS: u32 = 2048;
/// Longest picture drawn (4 m of paper at 8 dots/mm), so that a stream of feeds cannot
/// exhaust memory: at most 64 MiB of pixels.
const MAX_HEIGHT_DOTS: u32 = 1 << 15;
/// Blank paper above the first and below the last element (3 mm at 8 dots/mm).
const MARGIN_DOTS: u32 = 24;
/// Font A cell: 12 dots wide for a single-byte character, 24 for a Hanzi, 24 high.
const CELL_WIDTH: u32 = 12;
const CELL_HEIGHT: u32 = 24;
/// A thermal dot is black or white: coverage at or above this prints.
const INK_THRESHOLD: f32 = 0.45;
const INK: u8 = 0;
/// Things drawn that the printer does not print (the cut line) are grey.
const MARK: u8 = 0x90;
const PAPER: u8 = 0xFF;
/// Blank paper each side of a cut line.
const CUT_MARGIN_DOTS: u32 = 16;
/// What a partial cut leaves uncut in the middle, drawn as a gap in the cut line.
const PARTIAL_CUT_GAP_DOTS: u32 = 32;
/// A QR code whose data no symbol can hold is drawn as a crossed box this size.
const BROKEN_QR_DOTS: u32 = 96;

/// Draws the printout on paper `dots_per_line` wide and returns it as a greyscale PNG.
pub fn render_png(printout: &Printout, dots_per_line: u32) -> Result<Vec<u8>, RenderError> {
    draw(printout, dots_per_line)?.png()
}

fn draw(printout: &Printout, dots_per_line: u32) -> Result<Canvas, RenderError> {
    if !(1..=MAX_WIDTH_DOTS).contains(&dots_per_line) {
        return Err(RenderError::Width(dots_per_line));
    }
    let font = FontRef::try_from_slice(CJK_FONT)?;
    let mut canvas = Canvas {
        width: dots_per_line,
        height: 0,
        pixels: Vec::new(),
    };
    canvas.grow(MARGIN_DOTS)?;
    for element in &printout.elements {
        match element {
            Element::Line {
                runs,
                align,
                line_spacing,
            } => draw_line(&mut canvas, &font, runs, *align, *line_spacing)?,
            Element::Qr {
                data,
                module_size,
                ec_level,
                align,
            } => draw_qr(&mut canvas, data, *module_size, *ec_level, *align)?,
            Element::Raster {
                width_dots,
                height_dots,
                bits,
                align,
            } => draw_raster(&mut canvas, *width_dots, *height_dots, bits, *align)?,
            Element::Feed { dots } => {
                canvas.grow(*dots)?;
            }
            Element::Cut { partial } => draw_cut(&mut canvas, *partial)?,
        }
    }
    canvas.grow(MARGIN_DOTS)?;
    Ok(canvas)
}

/// How much paper a printout takes, in dots along the roll (what the PNG shows, without the
/// picture's own top and bottom margins): the print queue adds it up to estimate the paper left.
pub fn paper_length_dots(printout: &Printout, dots_per_line: u32) -> Result<u32, RenderError> {
    Ok(draw(printout, dots_per_line)?
        .height
        .saturating_sub(2 * MARGIN_DOTS))
}

struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    /// Adds blank paper below and returns the y where it starts.
    fn grow(&mut self, dots: u32) -> Result<u32, RenderError> {
        let top = self.height;
        let height = top
            .checked_add(dots)
            .filter(|h| *h <= MAX_HEIGHT_DOTS)
            .ok_or(RenderError::TooLong)?;
        self.pixels
            .resize(self.width as usize * height as usize, PAPER);
        self.height = height;
        Ok(top)
    }

    /// Darkens one dot; dots off the paper are dropped, as the head has none there.
    fn dot(&mut self, x: i64, y: i64, value: u8) {
        if (0..i64::from(self.width)).contains(&x) && (0..i64::from(self.height)).contains(&y) {
            let pixel = &mut self.pixels[y as usize * self.width as usize + x as usize];
            *pixel = (*pixel).min(value);
        }
    }

    fn fill(&mut self, x: i64, y: i64, width: i64, height: i64, value: u8) {
        for dy in 0..height {
            for dx in 0..width {
                self.dot(x + dx, y + dy, value);
            }
        }
    }

    fn png(&self) -> Result<Vec<u8>, RenderError> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.pixels)?;
        writer.finish()?;
        Ok(bytes)
    }
}

/// Left edge of something `width` dots wide placed on the paper.
fn x_for(align: Align, width: u32, paper: u32) -> i64 {
    let free = i64::from(paper.saturating_sub(width));
    match align {
        Align::Left => 0,
        Align::Center => free / 2,
        Align::Right => free,
    }
}

/// One character cell of a line.
struct Cell {
    c: char,
    width: u32,
    height: u32,
    width_mul: u32,
    height_mul: u32,
    bold: bool,
}

/// Draws a line; a printer continues a line wider than the paper on the next one.
fn draw_line(
    canvas: &mut Canvas,
    font: &FontRef,
    runs: &[Run],
    align: Align,
    line_spacing: u32,
) -> Result<(), RenderError> {
    let cells: Vec<Cell> = runs
        .iter()
        .flat_map(|run| {
            let (width_mul, height_mul) = (
                u32::from(run.width_mul.max(1)),
                u32::from(run.height_mul.max(1)),
            );
            run.text.chars().map(move |c| {
                let columns = if run.chinese_mode && !c.is_ascii() {
                    2
                } else {
                    1
                };
                Cell {
                    c,
                    width: CELL_WIDTH * columns * width_mul,
                    height: CELL_HEIGHT * height_mul,
                    width_mul,
                    height_mul,
                    bold: run.bold,
                }
            })
        })
        .collect();
    let mut rest = &cells[..];
    while !rest.is_empty() {
        let mut width = 0;
        let fitting = rest
            .iter()
            .take_while(|cell| {
                width += cell.width;
                width <= canvas.width
            })
            .count()
            .max(1);
        let (row, next) = rest.split_at(fitting);
        rest = next;
        let row_width: u32 = row.iter().map(|cell| cell.width).sum();
        let tallest = row
            .iter()
            .map(|cell| cell.height)
            .max()
            .unwrap_or(CELL_HEIGHT);
        // Taller characters push the next line down but keep the normal gap below them.
        let pitch = line_spacing.max(tallest + line_spacing.saturating_sub(CELL_HEIGHT));
        let top = canvas.grow(pitch)?;
        let mut x = x_for(align, row_width, canvas.width);
        for cell in row {
            // Characters of different heights share the bottom of the line.
            draw_char(
                canvas,
                font,
                cell,
                x,
                i64::from(top + tallest - cell.height),
            );
            x += i64::from(cell.width);
        }
    }
    Ok(())
}

/// Draws one character centred in its cell with the em square as tall as the cell,
/// condensed where the bundled font's glyph is wider than the printer's cell.
fn draw_char(canvas: &mut Canvas, font: &FontRef, cell: &Cell, x: i64, y: i64) {
    if cell.c.is_whitespace() {
        return;
    }
    let id = font.glyph_id(cell.c);
    if id.0 == 0 {
        // No glyph in the bundled font: an empty box, as printers show for a missing glyph.
        let (w, h) = (i64::from(cell.width), i64::from(cell.height));
        for (bx, by, bw, bh) in [
            (2, 2, w - 4, 1),
            (2, h - 3, w - 4, 1),
            (2, 2, 1, h - 4),
            (w - 3, 2, 1, h - 4),
        ] {
            canvas.fill(x + bx, y + by, bw, bh, INK);
        }
        return;
    }
    let height_unscaled = font.height_unscaled();
    let units_per_em = font.units_per_em().unwrap_or(height_unscaled);
    let px_per_unit_y = cell.height as f32 / units_per_em;
    let mut px_per_unit_x = px_per_unit_y * cell.width_mul as f32 / cell.height_mul as f32;
    let mut advance = font.h_advance_unscaled(id) * px_per_unit_x;
    if advance > cell.width as f32 {
        px_per_unit_x *= cell.width as f32 / advance;
        advance = cell.width as f32;
    }
    let scale = PxScale {
        x: px_per_unit_x * height_unscaled,
        y: px_per_unit_y * height_unscaled,
    };
    let ascent = font.ascent_unscaled();
    let baseline = y as f32 + cell.height as f32 * ascent / height_unscaled;
    let left = x as f32 + (cell.width as f32 - advance) / 2.0;
    let strokes = if cell.bold { 2 } else { 1 };
    for offset in 0..strokes {
        let glyph = id.with_scale_and_position(scale, point(left + offset as f32, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                if coverage >= INK_THRESHOLD {
                    canvas.dot(
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                        INK,
                    );
                }
            });
        }
    }
}

/// Redraws the stored QR data as the printer would: the symbol its firmware would choose,
/// `module_size` dots per module. Printers add no quiet zone ("the user must secure the quiet
/// zone", Epson): the sender's blank lines and the centring give it, and the picture shows
/// whether they did.
fn draw_qr(
    canvas: &mut Canvas,
    data: &[u8],
    module_size: u8,
    level: QrLevel,
    align: Align,
) -> Result<(), RenderError> {
    let level = match level {
        QrLevel::L => EcLevel::L,
        QrLevel::M => EcLevel::M,
        QrLevel::Q => EcLevel::Q,
        QrLevel::H => EcLevel::H,
    };
    let Ok(symbol) = QrCode::with_error_correction_level(data, level) else {
        let top = canvas.grow(BROKEN_QR_DOTS)?;
        let x = x_for(align, BROKEN_QR_DOTS, canvas.width);
        let size = i64::from(BROKEN_QR_DOTS);
        for i in 0..size {
            for (dx, dy) in [
                (i, 0),
                (i, size - 1),
                (0, i),
                (size - 1, i),
                (i, i),
                (size - 1 - i, i),
            ] {
                canvas.dot(x + dx, i64::from(top) + dy, INK);
            }
        }
        return Ok(());
    };
    let modules = symbol.width();
    let colors = symbol.to_colors();
    let scale = u32::from(module_size.max(1));
    let side = modules as u32 * scale;
    let top = i64::from(canvas.grow(side)?);
    let left = x_for(align, side, canvas.width);
    let scale = i64::from(scale);
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (mx, my) = ((i % modules) as i64, (i / modules) as i64);
            canvas.fill(left + mx * scale, top + my * scale, scale, scale, INK);
        }
    }
    Ok(())
}

fn draw_raster(
    canvas: &mut Canvas,
    width: u32,
    height: u32,
    bits: &[u8],
    align: Align,
) -> Result<(), RenderError> {
    let top = i64::from(canvas.grow(height)?);
    let left = x_for(align, width, canvas.width);
    let row_bytes = width.div_ceil(8) as usize;
    if row_bytes == 0 {
        return Ok(());
    }
    for (y, row) in bits.chunks(row_bytes).take(height as usize).enumerate() {
        for (byte_index, byte) in row.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    canvas.dot(left + (byte_index * 8 + bit) as i64, top + y as i64, INK);
                }
            }
        }
    }
    Ok(())
}

/// A grey dashed line where the knife goes, with a small wedge at the left edge pointing at
/// it; a partial cut leaves a gap in the middle, where the paper stays joined.
fn draw_cut(canvas: &mut Canvas, partial: bool) -> Result<(), RenderError> {
    let top = canvas.grow(2 * CUT_MARGIN_DOTS + 1)?;
    let y = i64::from(top + CUT_MARGIN_DOTS);
    let middle = i64::from(canvas.width / 2);
    let gap = i64::from(PARTIAL_CUT_GAP_DOTS / 2);
    for x in 0..i64::from(canvas.width) {
        let in_gap = partial && (middle - gap..middle + gap).contains(&x);
        if x % 12 < 8 && !in_gap {
            canvas.dot(x, y, MARK);
        }
    }
    for i in 0..6 {
        canvas.fill(0, y - 6 + i, i + 1, 1, MARK);
        canvas.fill(0, y + 6 - i, i + 1, 1, MARK);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::encode;
    use crate::interpret::interpret;
    use crate::interpret::tests::XorShift;
    use crate::layout::layout;
    use crate::layout::tests::sample_content;
    use crate::profile::builtin_profiles;

    /// Decodes a PNG to greyscale rows.
    fn decode(png_bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
            .read_info()
            .expect("a PNG header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buffer).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        buffer.truncate(info.buffer_size());
        (info.width as usize, info.height as usize, buffer)
    }

    fn qr_texts(width: usize, height: usize, grey: &[u8]) -> Vec<String> {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
        image
            .detect_grids()
            .iter()
            .filter_map(|grid| grid.decode().ok())
            .map(|(_, text)| text)
            .collect()
    }

    /// Columns of the image with any ink in them, as a range.
    fn ink_columns(width: usize, grey: &[u8]) -> Option<(usize, usize)> {
        let inked: Vec<usize> = (0..width)
            .filter(|x| grey.iter().skip(*x).step_by(width).any(|p| *p == INK))
            .collect();
        Some((*inked.first()?, *inked.last()?))
    }

    #[test]
    fn the_slip_of_every_builtin_renders_at_paper_width_with_a_qr_that_scans() {
        let content = sample_content();
        for profile in builtin_profiles() {
            let printout = interpret(&encode(&layout(&content, &profile), &profile));
            let png_bytes =
                render_png(&printout, u32::from(profile.dots_per_line)).expect("renders");
            if let Some(dir) = std::env::var_os("SLIP_PNG_DIR") {
                std::fs::write(
                    std::path::Path::new(&dir).join(format!("slip-{}.png", profile.id)),
                    &png_bytes,
                )
                .expect("written");
            }
            let (width, height, grey) = decode(&png_bytes);
            assert_eq!(width, usize::from(profile.dots_per_line), "{}", profile.id);
            assert!(height > 400, "{}: {height} dots", profile.id);
            assert_eq!(
                qr_texts(width, height, &grey),
                std::slice::from_ref(&content.qr_payload),
                "{}",
                profile.id
            );
        }
    }

    fn line(text: &str, align: Align, bold: bool) -> Printout {
        let run = Run {
            text: text.into(),
            width_mul: 1,
            height_mul: 1,
            bold,
            chinese_mode: true,
        };
        Printout {
            elements: vec![Element::Line {
                runs: vec![run],
                align,
                line_spacing: 30,
            }],
            ..Printout::default()
        }
    }

    #[test]
    fn alignment_places_the_ink_left_centre_and_right() {
        let png_of =
            |align| decode(&render_png(&line("中文 ABC", align, false), 384).expect("renders"));
        let (width, _, grey) = png_of(Align::Left);
        let (left_first, left_last) = ink_columns(width, &grey).expect("ink");
        assert!(
            left_first < 8 && left_last < 96 + 8,
            "{left_first}..{left_last}"
        );
        let (_, _, grey) = png_of(Align::Center);
        let (first, last) = ink_columns(width, &grey).expect("ink");
        assert!(((first + last) as i64 - 384).abs() < 12, "{first}..{last}");
        let (_, _, grey) = png_of(Align::Right);
        let (_, last) = ink_columns(width, &grey).expect("ink");
        assert!(last > 384 - 8, "{last}");
    }

    #[test]
    fn bold_text_has_more_ink() {
        let ink = |bold| {
            decode(
                &render_png(&line("群众诉求 Tracking", Align::Left, bold), 384).expect("renders"),
            )
            .2
            .iter()
            .filter(|p| **p == INK)
            .count()
        };
        assert!(
            ink(true) > ink(false) * 5 / 4,
            "{} vs {}",
            ink(true),
            ink(false)
        );
    }

    #[test]
    fn a_line_wider_than_the_paper_continues_below() {
        let (_, one, _) =
            decode(&render_png(&line("short", Align::Left, false), 384).expect("renders"));
        let (_, two, _) =
            decode(&render_png(&line(&"x".repeat(40), Align::Left, false), 384).expect("renders"));
        assert_eq!(
            two - one,
            30,
            "32 cells fit 384 dots, the other 8 go on a second line"
        );
    }

    #[test]
    fn feeds_are_blank_paper_and_cuts_are_grey_marks() {
        let printout = Printout {
            elements: vec![Element::Feed { dots: 100 }, Element::Cut { partial: true }],
            ..Printout::default()
        };
        let (_, height, grey) = decode(&render_png(&printout, 384).expect("renders"));
        assert_eq!(
            height as u32,
            2 * MARGIN_DOTS + 100 + 2 * CUT_MARGIN_DOTS + 1
        );
        assert!(!grey.contains(&INK), "nothing printed");
        assert!(grey.contains(&MARK), "the cut is marked");
    }

    #[test]
    fn an_endless_feed_is_refused_instead_of_exhausting_memory() {
        let printout = Printout {
            elements: vec![Element::Feed { dots: u32::MAX }],
            ..Printout::default()
        };
        assert!(matches!(
            render_png(&printout, 384),
            Err(RenderError::TooLong)
        ));
        assert!(matches!(
            render_png(&Printout::default(), 0),
            Err(RenderError::Width(0))
        ));
    }

    #[test]
    fn a_qr_no_symbol_can_hold_is_drawn_as_a_crossed_box() {
        let qr = Element::Qr {
            data: vec![b'x'; 4000],
            module_size: 4,
            ec_level: QrLevel::H,
            align: Align::Center,
        };
        let (_, height, grey) = decode(
            &render_png(
                &Printout {
                    elements: vec![qr],
                    ..Printout::default()
                },
                384,
            )
            .expect("renders"),
        );
        assert_eq!(height as u32, 2 * MARGIN_DOTS + BROKEN_QR_DOTS);
        assert!(grey.contains(&INK));
    }

    #[test]
    fn whatever_the_interpreter_reads_can_be_drawn() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..300 {
            let len = (rng.next_u64() % 300) as usize;
            let printout = interpret(&rng.bytes(len));
            match render_png(&printout, 576) {
                Ok(png_bytes) => assert_eq!(decode(&png_bytes).0, 576),
                Err(error) => assert!(matches!(error, RenderError::TooLong), "{error}"),
            }
        }
    }
}
