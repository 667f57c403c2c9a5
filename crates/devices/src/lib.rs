//! The kiosk's devices: everything that talks to a port, a pseudo-terminal or systemd.
//!
//! - [`serial_line`]: opening a printer or scanner line exclusively, raw, with plain termios.
//! - [`printer`]: where a slip's bytes go: the [`printer::transport::PrinterLink`] interface,
//!   the virtual printer (bytes and a PNG per slip) and the serial printer.
//! - [`emulator`]: a printer on a pseudo-terminal with scripted faults, for tests and
//!   `grievance-kiosk printer emulate`.
//! - [`scanner`]: the serial barcode scanner: lines in, scans out, through unplugs and garbage.
//! - [`speech`]: text to speech (eSpeak NG) and its sinks: ALSA, numbered WAV files, none.
//! - [`systemd`]: the notify protocol and the watchdog.
//! - [`stop_signal`]: SIGTERM and SIGINT as a request to stop in order.
//!
//! **Invariant:** no device here decides what a slip says or whether a case exists: bytes in,
//! bytes out, and states (ready, paper out, unknown) reported as they are.

pub mod emulator;
pub mod printer;
pub mod scanner;
pub mod serial_line;
pub mod speech;
pub mod stop_signal;
pub mod systemd;
