//! Forwarding cases upstream: the HTTP client for the native protocol ([`client`], with the
//! wire types of the `protocol` crate) and for Open311 ([`open311`]). The outbox's rules
//! (order, backoff, what counts as permanent) are in `kiosk::forward`; this module only talks.

pub mod client;
pub(crate) mod open311;
