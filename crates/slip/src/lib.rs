//! Everything between a slip's content and the bytes of a thermal printer, and back again.
//! Pure: no port, no file, no clock; the devices crate sends the bytes this crate makes.
//!
//! - [`profile`]: what the kiosk knows about a printer model; built-ins and the TOML form.
//! - [`layout`]: the slip's layout, a pure function from localised strings to printed lines.
//! - [`text`]: which characters may reach a printer at all.
//! - [`escpos`]: the encoder from laid-out lines to ESC/POS bytes.
//! - [`mod@interpret`]: the one ESC/POS interpreter, which reads bytes the way a printer would;
//!   tests, the renderer and the printer emulator all use it.
//! - [`render`]: a PNG of what the printer would print, one pixel per dot.
//! - [`status`]: what a printer's `DLE EOT` answers mean.
//! - [`font`]: the bundled CJK font, shared with the screen.
//!
//! The flow is `layout` → `encode` → bytes → `interpret` → `render_png`.
//!
//! **Invariant:** resident text reaches bytes only through [`text::printable_text`], so no
//! control byte from anyone's text can become a printer command.

pub mod escpos;
pub mod font;
pub mod interpret;
pub mod layout;
pub mod profile;
pub mod render;
pub mod status;
pub mod text;

pub use escpos::encode;
pub use interpret::{interpret, Element, Interpreter, Printout, Run, StatusQuery, Warning};
pub use layout::{layout, Align, Block, SlipContent, TextSize};
pub use profile::{
    builtin, builtin_profiles, ChineseMode, Cut, PrinterProfile, ProfileError, QrMode,
};
