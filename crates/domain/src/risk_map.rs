//! The risk map's score (DISTRICT.md §9): how much a community needs a leader's eye now, from
//! what is open there and what keeps coming back. Pure; the hub counts the facts.
//!
//! ```text
//! score = 10 × open high-risk cases
//!       +  4 × open elevated-risk cases
//!       +  3 × open cases past a deadline (not accepted in time, or not resolved in time)
//!       +  2 × repeats
//! repeats = for each kind (service and sub-type) filed in the community within the last
//!           30 days, its cases beyond what chance gives around the kind's usual share:
//!           beyond e + 2√e (and always beyond the first), e = the community's cases × the
//!           kind's usual share
//! usual share = the median, over the communities that filed anything, of the kind's share
//!               of each one's cases (the lower of the middle two)
//! ```
//!
//! "Beyond the usual share" keeps a busy district from painting every community red with the
//! noise complaints every community gets, whatever its size: a community with twice the
//! stations files twice the noise complaints among twice the cases, and repeats nothing; and
//! "beyond chance" (two standard deviations of a Poisson count) keeps the ups and downs of an
//! ordinary month off the map. The median is not moved by the cluster it is looking for:
//! fourteen wage claims among 24 cases, where the other communities' claims are a sixth of
//! theirs, are 4 expected, at most 8 by chance, 6 beyond. A cluster of one kind of complaint
//! in one community therefore counts twice: as open cases (by their risk) and as repeats.
//!
//! Resolving the cases takes away the first part at once; the repeats stay for 30 days after
//! the filings, because a pattern resolved case by case is still a pattern. The weights and
//! the bands are fixed (not relative to the day's worst), so a colour means the same on every
//! day and in every district:
//!
//! | band | score |
//! |---|---|
//! | calm | 0 |
//! | low | 1–9 |
//! | medium | 10–29 |
//! | high | 30 and more |

use std::collections::BTreeMap;

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

    /// The band the score falls in.
    pub fn band(self) -> Band {
        Band::of(self.score())
    }
}

/// Every community's repeats from how many cases of each kind each filed within
/// [`REPEAT_DAYS`]: `counts` holds (community, kind, cases); `communities` is every community
/// of the district (each is in the answer).
pub fn repeats<'a>(
    communities: &[&'a str],
    counts: &[(&'a str, &'a str, u32)],
) -> BTreeMap<&'a str, u32> {
    let mut cell: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    let mut total: BTreeMap<&str, u32> = BTreeMap::new();
    for (community, kind, n) in counts {
        *cell.entry((community, kind)).or_default() += n;
        *total.entry(community).or_default() += n;
    }
    let voters: Vec<&str> = total
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(c, _)| *c)
        .collect();
    let kinds: std::collections::BTreeSet<&str> = cell.keys().map(|(_, k)| *k).collect();
    let mut out: BTreeMap<&str, u32> = communities.iter().map(|c| (*c, 0)).collect();
    for kind in kinds {
        let share =
            |c: &str| f64::from(cell.get(&(c, kind)).copied().unwrap_or(0)) / f64::from(total[c]);
        let mut shares: Vec<f64> = voters.iter().map(|c| share(c)).collect();
        shares.sort_by(f64::total_cmp);
        let usual = shares[(shares.len() - 1) / 2];
        for c in &voters {
            let n = f64::from(cell.get(&(*c, kind)).copied().unwrap_or(0));
            let expected = usual * f64::from(total[c]);
            // What chance alone gives (two standard deviations of a Poisson count), and
            // never less than one case.
            let chance = (expected + 2.0 * expected.sqrt()).max(1.0);
            let beyond = (n - chance).floor();
            if let (Some(r), true) = (out.get_mut(c), beyond > 0.0) {
                *r += beyond as u32;
            }
        }
    }
    out
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
    fn repeats_are_the_cases_beyond_what_the_rest_of_the_districts_mix_expects() {
        let all = ["a", "b", "c", "d"];
        // Ten noise complaints everywhere are the usual; fourteen wage claims among a's 24
        // cases, where the others' claims are 2 of 12, 3 of 13 and 2 of 12 (the usual share
        // 2/12), are a cluster: 24 × 2/12 = 4 expected, 4 + 2√4 = 8 by chance, 6 beyond.
        let mut counts = vec![
            ("a", "noise", 10),
            ("b", "noise", 10),
            ("c", "noise", 10),
            ("d", "noise", 10),
            ("a", "wages", 14),
            ("b", "wages", 2),
            ("c", "wages", 3),
            ("d", "wages", 2),
        ];
        let r = repeats(&all, &counts);
        assert_eq!(r["a"], 6);
        assert_eq!((r["b"], r["c"], r["d"]), (0, 0, 0));
        // A community twice the size with the same mix repeats nothing.
        let doubled: Vec<_> = ["a", "b"]
            .iter()
            .flat_map(|c| {
                let n = if *c == "a" { 2 } else { 1 };
                [(*c, "noise", 10 * n), (*c, "wages", 3 * n)]
            })
            .collect();
        assert_eq!(repeats(&["a", "b"], &doubled).values().sum::<u32>(), 0);
        // A kind nobody else files: the cases beyond the first count.
        counts.push(("b", "land", 3));
        assert_eq!(repeats(&all, &counts)["b"], 2);
        // One of each kind repeats nothing; every community is listed.
        let r = repeats(&all, &[("a", "noise", 1), ("b", "land", 1)]);
        assert_eq!(r.values().sum::<u32>(), 0);
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn a_cluster_of_one_kind_outweighs_the_same_cases_spread_over_kinds_and_resolving_lowers_it() {
        // Five elevated complaints of unpaid wages at one site…
        let all = ["site", "elsewhere"];
        let cluster = CommunityFacts {
            open_elevated: 5,
            repeats: repeats(&all, &[("site", "wages", 5), ("elsewhere", "noise", 5)])["site"],
            ..CommunityFacts::default()
        };
        // …against five elevated complaints of five kinds.
        let mut kinds = ["wages", "noise", "land", "rent", "consumer"]
            .map(|k| ("site", k, 1))
            .to_vec();
        kinds.push(("elsewhere", "noise", 5));
        let spread = CommunityFacts {
            open_elevated: 5,
            repeats: repeats(&all, &kinds)["site"],
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
