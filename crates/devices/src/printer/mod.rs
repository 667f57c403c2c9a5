//! The printer as a device: the [`transport::PrinterLink`] interface with the virtual printer,
//! and the serial printer. The bytes come from the slip crate; this module only moves them
//! and reads the printer's status.

pub mod serial;
pub mod transport;
