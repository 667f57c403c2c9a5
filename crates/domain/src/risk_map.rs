//! The risk map's score (DISTRICT.md §9): how much a community needs a leader's eye now, from
//! what is open there and what keeps coming back. Pure; the hub counts the facts.
//!
//! ```text
//! score = 10 × open high-risk cases
//!       +  4 × open elevated-risk cases
//!       +  3 × open cases past a deadline (not accepted in time, or not resolved in time)
//!       +  2 × repeats
//! repeats = for each kind (service and sub-type) filed in the community within the last
//!           30 days, the cases beyond the first
//! ```
//!
//! A cluster of one kind of complaint in one community therefore counts twice: as open cases
//! (by their risk) and as repeats. Resolving the cases takes away the first part at once; the
//! repeats stay for 30 days after the filings, because a pattern resolved case by case is still
//! a pattern. The weights and the bands are fixed (not relative to the day's worst), so a
//! colour means the same on every day and in every district:
//!
//! | band | score |
//! |---|---|
//! | calm | 0 |
//! | low | 1–9 |
//! | medium | 10–29 |
//! | high | 30 and more |

/// What the map counts in one community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommunityFacts {
    pub open_high: u32,
    pub open_elevated: u32,
    pub overdue: u32,
    pub repeats: u32,
}

/// The weights of [`CommunityFacts`] in the score.
pub const WEIGHTS: CommunityFacts = CommunityFacts {
    open_high: 10,
    open_elevated: 4,
    overdue: 3,
    repeats: 2,
};

/// How many days back repeats are looked for.
pub const REPEAT_DAYS: i64 = 30;

impl CommunityFacts {
    /// The community's score (see the module's formula).
    pub fn score(self) -> u32 {
        self.open_high * WEIGHTS.open_high
            + self.open_elevated * WEIGHTS.open_elevated
            + self.overdue * WEIGHTS.overdue
            + self.repeats * WEIGHTS.repeats
    }
}

/// The repeats of one community from how many cases of each kind it filed within
/// [`REPEAT_DAYS`]: the cases beyond the first of each kind.
pub fn repeats(per_kind: impl IntoIterator<Item = u32>) -> u32 {
    per_kind.into_iter().map(|n| n.saturating_sub(1)).sum()
}

/// A score's colour on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    Calm,
    Low,
    Medium,
    High,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Calm, Band::Low, Band::Medium, Band::High];

    pub fn of(score: u32) -> Band {
        match score {
            0 => Band::Calm,
            1..=9 => Band::Low,
            10..=29 => Band::Medium,
            _ => Band::High,
        }
    }

    /// The lowest score of the band (for the legend).
    pub fn from_score(self) -> u32 {
        match self {
            Band::Calm => 0,
            Band::Low => 1,
            Band::Medium => 10,
            Band::High => 30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Calm => "calm",
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_weighs_each_fact_as_documented() {
        let facts = CommunityFacts {
            open_high: 1,
            open_elevated: 2,
            overdue: 3,
            repeats: 4,
        };
        // 10 + 2·4 + 3·3 + 4·2
        assert_eq!(facts.score(), 35);
        assert_eq!(CommunityFacts::default().score(), 0);
    }

    #[test]
    fn repeats_are_the_cases_beyond_the_first_of_each_kind() {
        assert_eq!(
            repeats([1, 1, 1]),
            0,
            "three kinds once each repeat nothing"
        );
        assert_eq!(repeats([5, 1, 2]), 5);
        assert_eq!(repeats([]), 0);
    }

    #[test]
    fn a_cluster_of_one_kind_outweighs_the_same_cases_spread_over_kinds_and_resolving_lowers_it() {
        // Five elevated complaints of unpaid wages at one site…
        let cluster = CommunityFacts {
            open_elevated: 5,
            repeats: repeats([5]),
            ..CommunityFacts::default()
        };
        // …against five elevated complaints of five kinds.
        let spread = CommunityFacts {
            open_elevated: 5,
            repeats: repeats([1, 1, 1, 1, 1]),
            ..CommunityFacts::default()
        };
        assert!(cluster.score() > spread.score());
        assert_eq!(Band::of(cluster.score()), Band::Medium);
        // Resolved: the open part goes, the pattern stays for its 30 days.
        let resolved = CommunityFacts {
            open_elevated: 0,
            ..cluster
        };
        assert!(resolved.score() < cluster.score());
        assert_eq!(resolved.score(), 8);
        assert_eq!(Band::of(resolved.score()), Band::Low);
    }

    #[test]
    fn the_bands_meet_at_their_lowest_scores() {
        for band in Band::ALL {
            assert_eq!(Band::of(band.from_score()), band);
            if band.from_score() > 0 {
                assert!(Band::of(band.from_score() - 1) < band);
            }
        }
        assert_eq!(Band::of(1_000), Band::High);
    }
}
