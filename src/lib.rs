//! grievance-kiosk: the software of an unattended touchscreen kiosk where residents raise a
//! problem with their district and leave with a printed slip whose QR code tracks the case.
//!
//! The library is the product; `main.rs` is a thin command line over it. The layers, innermost
//! first (see ARCHITECTURE.md):
//!
//! - [`domain`]: cases, services, tracking tokens, risk triage. Pure: no I/O of any kind.
//! - [`config`]: `kiosk.toml`, the built-in catalogue and the `KIOSK_*` overrides.
//! - [`store`]: the SQLite database (cases, print jobs, outbox) and its migrations.
//! - [`printer`]: slip layout, ESC/POS encoding and interpretation, the virtual printer.
//! - [`scanner`]: the serial barcode scanner: lines in, scans out, through unplugs and garbage.
//! - [`serial_line`]: opening a printer or scanner line with plain POSIX terminal settings.
//! - [`kiosk`]: the operations a resident or an operator performs (file a case, look one up,
//!   produce its slip). The touchscreen and the CLI both call these and nothing else.
//! - [`upstream`]: the protocol to the district's case system and the outbox that forwards.
//! - [`hub`]: the reference upstream server (`grievance-hub`): cases, tracking page, Open311.
//! - [`app`]: the touchscreen: wires the Slint UI to [`kiosk`], owns the async runtime.
//! - [`cli`]: the `grievance-kiosk` command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod fonts;
pub mod hub;
pub mod ime;
pub mod kiosk;
pub mod printer;
pub mod scanner;
pub mod serial_line;
pub mod store;
pub mod systemd;
pub mod upstream;
