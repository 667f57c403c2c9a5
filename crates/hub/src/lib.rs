//! `grievance-hub`: the reference upstream server (DESIGN.md §6), and the QR code's target.
//!
//! It receives cases from kiosks over the native protocol (`docs/protocol.md`, the types in
//! [`protocol`]), lets departments move them on, keeps each station's queues,
//! bookings, attendance and roster, serves the public tracking page `/T/<TOKEN>` (a case's, a
//! queue ticket's or a booking's), speaks Open311 GeoReport v2 under `/open311/v2/`, and shows
//! district operators every station's health at `/operator`. `docs/hub.md` is the operator's
//! manual.
//!
//! The code map, one concept per file:
//!
//! - [`config`]: [`HubConfig`] and the `HUB_*` environment variables.
//! - [`server`]: the router, the shared state, [`start`] and [`RunningHub`] (shutdown).
//! - [`auth`]: who is calling (station, department, operator, Open311 key), compared in
//!   constant time; every failure looks the same. Stations are found by their token's digest
//!   (a province has 30,000).
//! - [`body`]: reading a bounded request body and decoding JSON with errors that name the field.
//! - [`validate`]: the rules a submission, a status update, a heartbeat, a station state and a
//!   roster must keep (pure).
//! - [`api`]: the native protocol's handlers (`/api/v1`), station state and rosters included.
//! - [`tracking`]: the public tracking page: a case, a queue ticket or a booking.
//! - [`operator`]: the operators' page (health, queues, who is on duty, attendance).
//! - [`open311`]: the Open311 GeoReport v2 server.
//! - [`html`], [`words`], [`xml`]: escaping and page furniture (the language switch among
//!   them), the choice of a page's language and the words the pages share (every word a page
//!   shows comes from the translation catalogues through `domain::t!`), and a small XML writer.
//! - [`rate_limit`]: a token bucket per client address.
//! - [`loadgen`]: `grievance-hub loadgen`, a simulated fleet against a running hub.
//! - `people`: the back office's door: passwords, lockout, sessions, cookies, CSRF.
//! - `office`: the district's back office (`docs/district.md`): what its people do to cases and
//!   orders, written once (`office/mod.rs`) for the JSON API (`office::api`), the pages
//!   (`office::pages`) and the tracking page's rating; accounts from the dispatcher's page and
//!   the API (`office::staff`); the deadlines' scheduler (`office::deadlines`) and the units'
//!   webhooks (`office::webhooks`).
//! - [`admin`]: `grievance-hub user add|list` and `district show`.
//! - [`periodic`]: work on a timer (the heartbeats' history kept to a week, expired sessions,
//!   the deadlines), once across every process on one database.
//! - [`store`]: the hub's own SQLite database and everything that touches it: `cases`,
//!   `stations` (heartbeats, the latest and an hourly history), `open311`, and `queues` (station states, tickets, bookings,
//!   attendance, rosters), each written once against `store::sql::Db` (portable SQL, typed
//!   rows), the narrow interface a second engine (PostgreSQL) is implemented behind.
//! - [`digest`]: SHA-256, for the idempotency fingerprint of a case body and the index of the
//!   stations' tokens.
//! - [`clock`]: the time, replaceable in tests.
//!
//! Boundaries: HTTP handlers never write SQL, the store never sees HTTP, and every database call
//! runs on tokio's blocking pool, never on an async worker thread.

pub mod admin;
pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod body;
pub mod clock;
pub(crate) mod config;
pub(crate) mod digest;
pub(crate) mod html;
pub mod loadgen;
pub(crate) mod office;
pub(crate) mod open311;
pub(crate) mod operator;
pub(crate) mod people;
pub mod periodic;
pub(crate) mod rate_limit;
pub(crate) mod server;
pub mod store;
pub(crate) mod tracking;
pub(crate) mod validate;
pub(crate) mod words;
pub mod xml;

pub use auth::Secret;
pub use clock::Clock;
pub use config::{HubConfig, HubConfigError, RateLimit};
pub use server::{
    give_back_large_blocks, raise_open_file_limit, router, start, start_with, ConnectionLimits,
    HubState, RunningHub, MAX_HEADER_BYTES,
};
