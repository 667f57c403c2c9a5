//! Where the kiosk's tracking codes come from. A station draws them from the operating system's
//! random source (a code is the only key to a case's progress: it must not be guessable). The
//! screenshots draw them from a seed, so that a screen showing a code and its QR is the same
//! picture every time and can be compared with a reference image.
//!
//! It travels in [`crate::config::KioskConfig`] next to the clock; no file or variable sets it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use domain::token::RANDOM_BYTES;
use domain::TrackingToken;

#[derive(Clone, Default)]
pub enum Chance {
    /// The operating system's random source (a station in service).
    #[default]
    System,
    /// A fixed sequence from a seed: the same codes, in the same order, on every run. Never for
    /// a station in service.
    Seeded(Arc<AtomicU64>),
}

impl Chance {
    pub fn seeded(seed: u64) -> Chance {
        Chance::Seeded(Arc::new(AtomicU64::new(seed)))
    }

    /// The random part of a new tracking code.
    pub fn token(&self) -> Result<TrackingToken, getrandom::Error> {
        let mut bytes = [0u8; RANDOM_BYTES];
        match self {
            Chance::System => getrandom::fill(&mut bytes)?,
            Chance::Seeded(state) => {
                let mut x = state.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
                for chunk in bytes.chunks_mut(8) {
                    x = splitmix(x);
                    chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
                }
            }
        }
        Ok(TrackingToken::from_random(bytes))
    }
}

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): spreads a counter over all 64 bits.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl fmt::Debug for Chance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Chance::System => "Chance::System",
            Chance::Seeded(_) => "Chance::Seeded",
        })
    }
}

/// As with the clock: the source is not part of what a configuration says.
impl PartialEq for Chance {
    fn eq(&self, _: &Chance) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_codes_in_the_same_order_and_no_two_alike() {
        let (a, b) = (Chance::seeded(7), Chance::seeded(7));
        let first: Vec<_> = (0..50).map(|_| a.token().unwrap()).collect();
        let again: Vec<_> = (0..50).map(|_| b.token().unwrap()).collect();
        assert_eq!(first, again);
        let distinct: std::collections::HashSet<_> = first.iter().collect();
        assert_eq!(distinct.len(), first.len());
        assert_ne!(Chance::seeded(8).token().unwrap(), first[0]);
    }

    #[test]
    fn the_system_source_gives_different_codes() {
        let c = Chance::System;
        assert_ne!(c.token().unwrap(), c.token().unwrap());
    }
}
