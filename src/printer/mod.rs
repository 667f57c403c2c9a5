//! Everything between a slip's content and the bytes of a thermal printer, and back again.
//!
//! - [`profile`]: what the kiosk knows about a printer model; built-ins and the TOML form.
//! - [`slip`]: the slip's layout, a pure function from localised strings to printed lines.
//! - [`escpos`]: the encoder from laid-out lines to ESC/POS bytes, and the rule of which
//!   characters may reach a printer at all.
//! - [`mod@interpret`]: the one ESC/POS interpreter, which reads bytes the way a printer would;
//!   tests, the renderer and the printer emulator all use it.
//! - [`render`]: a PNG of what the printer would print, one pixel per dot.
//! - [`transport`]: where the bytes go: the [`transport::SlipPrinter`] interface and the virtual
//!   printer that writes each slip as bytes and PNG.
//!
//! The flow is `layout` → `encode` → bytes → `interpret` → `render_png`. Only `transport` does
//! I/O; the print queue that feeds it lives in `kiosk`.

pub mod emulator;
pub mod escpos;
pub mod interpret;
pub mod profile;
pub mod render;
pub mod serial;
pub mod slip;
pub mod status;
pub mod transport;

pub use escpos::{encode, printable_text};
pub use interpret::{interpret, Element, Interpreter, Printout, Run, StatusQuery, Warning};
pub use profile::{
    builtin, builtin_profiles, ChineseMode, Cut, PrinterProfile, ProfileError, QrMode,
};
pub use render::{render_png, RenderError};
pub use slip::{layout, Align, Block, SlipContent, TextSize};
