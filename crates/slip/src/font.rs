//! Fonts bundled with the kiosk. One CJK font with Latin glyphs (WenQuanYi Micro Hei, see
//! `ui/fonts/README.md`) serves both the screen, where Slint imports the same file as the
//! window's default family, and the slip renderer, which draws printed text with it. Bundling it
//! means Chinese renders on any machine, fontconfig or not.

/// The font file's bytes.
pub static CJK_FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../ui/fonts/wqy-microhei-kiosk.ttf"
));

/// The family name the UI sets as `default-font-family`.
pub const CJK_FAMILY: &str = "WenQuanYi Micro Hei";
