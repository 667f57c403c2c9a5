//! Forwarding cases upstream: the protocol both sides speak ([`protocol`]), and the HTTP client
//! for the native protocol and Open311 ([`client`], [`open311`]). The outbox's rules (order,
//! backoff, what counts as permanent) are in `kiosk::forward`; this module only talks.

pub mod client;
pub mod local;
pub mod open311;
pub mod protocol;
