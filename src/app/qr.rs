//! The QR code on the result screen: the same payload as the slip's, drawn into a Slint image,
//! so a phone can scan it off the screen when the printer has no paper.

use qrcode::{Color, EcLevel, QrCode};
use slint::{Image, Rgb8Pixel, SharedPixelBuffer};

/// Modules of white border the QR standard asks for.
const QUIET_ZONE: usize = 4;
/// Pixels per module; Slint scales the image to the space it has, pixelated.
const MODULE_PX: usize = 8;

pub fn qr_image(payload: &str) -> Result<Image, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)?;
    let modules = code.width();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PX;
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let pixels = buffer.make_mut_slice();
    pixels.fill(Rgb8Pixel::new(255, 255, 255));
    let colors = code.to_colors();
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * MODULE_PX..(my + 1) * MODULE_PX {
            let row = &mut pixels[y * side..(y + 1) * side];
            row[mx * MODULE_PX..(mx + 1) * MODULE_PX].fill(Rgb8Pixel::new(0, 0, 0));
        }
    }
    Ok(Image::from_rgb8(buffer))
}
