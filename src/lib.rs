//! grievance-kiosk: the software of an unattended touchscreen kiosk where residents raise a
//! problem with their district and leave with a printed slip whose QR code tracks the case.
//!
//! This crate is the kiosk itself; the libraries it stands on are the workspace's crates
//! (ARCHITECTURE.md): `domain`, `protocol`, `slip`, `devices`, `ime`, `station` and `hub`.
//!
//! - [`app`]: the touchscreen: wires the Slint UI to `station`'s operations, owns the async
//!   runtime.
//! - [`cli`]: the `grievance-kiosk` command line.
//! - [`local_hub`]: the district's hub started in-process when no upstream is configured, so
//!   one `cargo run` shows the whole loop.

pub mod app;
pub mod cli;
pub(crate) mod local_hub;
