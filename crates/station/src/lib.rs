//! The kiosk station: its configuration, its database, the operations a resident, staff or an
//! operator performs, and its link upstream. The touchscreen and the command line are two ways
//! of calling [`kiosk::Kiosk`]; neither decides anything on its own.
//!
//! - [`chance`]: where tracking codes come from (the system's random source, or a seed).
//! - [`clock`]: the one "now" every operation reads (the system's, or a test's).
//! - [`config`]: `kiosk.toml` over the built-in demo station, and the `KIOSK_*` overrides.
//! - [`store`]: the one SQLite database: cases, print jobs, the outbox, queues, bookings.
//! - [`kiosk`]: the operations, one function each.
//! - `test_support` (feature `test-support`): fixtures for the tests and benchmarks.
//! - [`upstream`]: the HTTP client to the district's hub (native protocol) or any Open311 server.
//!
//! **Invariant:** nothing is acknowledged (a code shown, a slip printed) that is not committed.
//! **Invariant:** no Slint here: this crate never knows what is on the screen.

pub mod chance;
pub mod clock;
pub mod config;
pub mod kiosk;
pub mod store;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod upstream;
