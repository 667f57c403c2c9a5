//! Scorecards (DISTRICT.md §8): how each unit did over a period, computed from what happened
//! to its cases and orders, never from a figure typed in, so any period can be computed again.
//!
//! The facts are one [`Dispatch`] for each time a case was sent to a unit (a case returned and
//! sent elsewhere is two dispatches, each counted for its own unit) and one [`OrderFacts`] for
//! each order. A period is `[from, to)`. Whatever is still running is judged as of
//! `as_of = min(now, to)`, from the facts as they stood then, so last month's card comes out
//! the same next year.
//!
//! | figure | counted over | of which |
//! |---|---|---|
//! | `dispatched` | dispatches made in the period | |
//! | `response` | those whose answer is known at `as_of` (accepted, returned, or the accept deadline passed) | accepted by the accept deadline |
//! | `on_time_resolution` | dispatches resolved in the period, **plus those still open at `as_of` and past their resolve deadline** | resolved by the resolve deadline |
//! | `satisfaction` | dispatches resolved in the period and rated | satisfied or basically satisfied |
//! | `returns` | dispatches made in the period | returned |
//! | `redo` | dispatches resolved in the period | reopened (rated unsatisfied) |
//! | `order_arrival` | orders to the unit issued in the period whose arrival time has come | arrived by the time set |
//! | `same_day` | dispatches of cases filed in the period | resolved on the day (China time) the case was filed |
//! | `median_hours`, `p90_hours` | dispatches resolved in the period | hours from dispatch to resolution (nearest rank) |
//!
//! The trap of the naive on-time formula (resolved on time ÷ resolved) is that a unit sitting
//! on its hard cases looks perfect; here every overdue open case counts against it, in every
//! period until it is resolved or returned.
//!
//! A rate over nothing is `None`, never 0 or 1. The score is the weighted mean of the unit's
//! response, on-time resolution and satisfaction rates (by default 30, 35 and 35), over those it
//! has, times 100; a unit with none has no score and no rank. Ranks are shared by ties (1, 2,
//! 2, 4). When three or more units are ranked, the bottom tenth of them (at least one, ties
//! included) is flagged. Pure.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::calendar::china;
use crate::workflow::Rating;

/// One sending of a case to a unit, and what the unit did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    pub unit: String,
    /// When the resident filed the case.
    pub filed_at: DateTime<Utc>,
    pub dispatched_at: DateTime<Utc>,
    pub accept_by: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Sent back to the dispatcher by this unit (this dispatch ends there).
    pub returned_at: Option<DateTime<Utc>>,
    /// The resolve deadline, extensions granted included.
    pub resolve_by: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closed by the dispatcher without a resolution (this dispatch ends there: it is neither
    /// resolved nor open any more).
    pub closed_at: Option<DateTime<Utc>>,
    /// The citizen's rating of this resolution.
    pub rating: Option<Rating>,
    /// Reopened after this resolution (rated unsatisfied).
    pub reopened: bool,
}

/// One order to a department, for its arrival figure.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub department: String,
    pub issued_at: DateTime<Utc>,
    pub arrive_by: DateTime<Utc>,
    pub arrived_at: Option<DateTime<Utc>>,
}

/// What a score weighs (DISTRICT.md §8: 30 / 35 / 35 unless the district sets others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    pub response: u32,
    pub resolution: u32,
    pub satisfaction: u32,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            response: 30,
            resolution: 35,
            satisfaction: 35,
        }
    }
}

/// `hits` of `of`: a rate that keeps what it was counted over (the list behind the number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ratio {
    pub hits: u64,
    pub of: u64,
}

impl Ratio {
    fn count(&mut self, counted: bool, hit: bool) {
        if counted {
            self.of += 1;
            if hit {
                self.hits += 1;
            }
        }
    }

    /// From 0 to 1; `None` when there was nothing to count.
    pub fn rate(self) -> Option<f64> {
        (self.of > 0).then(|| self.hits as f64 / self.of as f64)
    }
}

/// A unit whose figures are the sum of some units' (a street: its communities; a community or
/// a department: itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub members: Vec<String>,
}

impl Group {
    /// A unit on its own.
    pub fn single(id: &str) -> Group {
        Group {
            id: id.to_owned(),
            members: vec![id.to_owned()],
        }
    }
}

/// The period: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    fn holds(self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// One unit's card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub unit: String,
    pub dispatched: u64,
    pub response: Ratio,
    pub on_time_resolution: Ratio,
    pub satisfaction: Ratio,
    pub returns: Ratio,
    pub redo: Ratio,
    pub order_arrival: Ratio,
    pub same_day: Ratio,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    /// From 0 to 100.
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub flagged: bool,
}

/// Whether `at` had happened by `as_of`.
fn by(at: Option<DateTime<Utc>>, as_of: DateTime<Utc>) -> Option<DateTime<Utc>> {
    at.filter(|t| *t <= as_of)
}

/// The nearest-rank `q`-quantile of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

fn card<'a>(
    group: &Group,
    dispatches: impl Iterator<Item = &'a Dispatch>,
    orders: impl Iterator<Item = &'a OrderFacts>,
    period: Period,
    as_of: DateTime<Utc>,
    weights: Weights,
) -> Card {
    let mut c = Card {
        unit: group.id.clone(),
        dispatched: 0,
        response: Ratio::default(),
        on_time_resolution: Ratio::default(),
        satisfaction: Ratio::default(),
        returns: Ratio::default(),
        redo: Ratio::default(),
        order_arrival: Ratio::default(),
        same_day: Ratio::default(),
        median_hours: None,
        p90_hours: None,
        score: None,
        rank: None,
        flagged: false,
    };
    let mut hours = Vec::new();
    for d in dispatches {
        let accepted = by(d.accepted_at, as_of);
        let returned = by(d.returned_at, as_of);
        let resolved = by(d.resolved_at, as_of);
        let closed = by(d.closed_at, as_of);
        if period.holds(d.dispatched_at) && d.dispatched_at <= as_of {
            c.dispatched += 1;
            let known = accepted.is_some() || returned.is_some() || d.accept_by <= as_of;
            c.response
                .count(known, accepted.is_some_and(|a| a <= d.accept_by));
            c.returns.count(true, returned.is_some());
        }
        if period.holds(d.filed_at) && d.dispatched_at <= as_of {
            let day = |t: DateTime<Utc>| t.with_timezone(&china()).date_naive();
            c.same_day
                .count(true, resolved.is_some_and(|r| day(r) == day(d.filed_at)));
        }
        match resolved {
            Some(r) if period.holds(r) => {
                c.on_time_resolution.count(true, r <= d.resolve_by);
                c.satisfaction.count(
                    d.rating.is_some(),
                    matches!(
                        d.rating,
                        Some(Rating::Satisfied | Rating::BasicallySatisfied)
                    ),
                );
                c.redo.count(true, d.reopened);
                hours.push((r - d.dispatched_at).num_seconds() as f64 / 3600.0);
            }
            Some(_) => {}
            None => {
                // Still open at as_of (neither resolved, returned nor closed) and past its
                // deadline: it counts against the unit.
                let open = returned.is_none() && closed.is_none() && d.dispatched_at <= as_of;
                c.on_time_resolution
                    .count(open && d.resolve_by < as_of, false);
            }
        }
    }
    for o in orders {
        if period.holds(o.issued_at) && o.issued_at <= as_of && o.arrive_by <= as_of {
            c.order_arrival.count(
                true,
                by(o.arrived_at, as_of).is_some_and(|a| a <= o.arrive_by),
            );
        }
    }
    hours.sort_by(f64::total_cmp);
    c.median_hours = nearest_rank(&hours, 0.5);
    c.p90_hours = nearest_rank(&hours, 0.9);
    let parts = [
        (c.response.rate(), weights.response),
        (c.on_time_resolution.rate(), weights.resolution),
        (c.satisfaction.rate(), weights.satisfaction),
    ];
    let weight: u32 = parts
        .iter()
        .filter(|(r, _)| r.is_some())
        .map(|(_, w)| w)
        .sum();
    if weight > 0 {
        let sum: f64 = parts
            .iter()
            .filter_map(|(r, w)| r.map(|r| r * f64::from(*w)))
            .sum();
        c.score = Some(100.0 * sum / f64::from(weight));
    }
    c
}

/// The period's facts found by unit once, for as many leagues as are asked for: a province's
/// thousand units cost one pass over the facts, not one each.
pub struct Facts<'a> {
    by_unit: HashMap<&'a str, (Vec<&'a Dispatch>, Vec<&'a OrderFacts>)>,
}

impl<'a> Facts<'a> {
    pub fn new(dispatches: &'a [Dispatch], orders: &'a [OrderFacts]) -> Facts<'a> {
        let mut by_unit: HashMap<&str, (Vec<&Dispatch>, Vec<&OrderFacts>)> = HashMap::new();
        for d in dispatches {
            by_unit.entry(&d.unit).or_default().0.push(d);
        }
        for o in orders {
            by_unit.entry(&o.department).or_default().1.push(o);
        }
        Facts { by_unit }
    }
}

/// The cards of `groups` (one league: the departments, or the communities, or the streets),
/// ranked, the bottom flagged.
pub fn scorecards(
    groups: &[Group],
    facts: &Facts<'_>,
    period: Period,
    now: DateTime<Utc>,
    weights: Weights,
) -> Vec<Card> {
    let as_of = now.min(period.to);
    let none = (Vec::new(), Vec::new());
    let mut cards: Vec<Card> = groups
        .iter()
        .map(|g| {
            let mine = || {
                g.members
                    .iter()
                    .map(|m| facts.by_unit.get(m.as_str()).unwrap_or(&none))
            };
            card(
                g,
                mine().flat_map(|f| f.0.iter().copied()),
                mine().flat_map(|f| f.1.iter().copied()),
                period,
                as_of,
                weights,
            )
        })
        .collect();
    let mut scores: Vec<f64> = cards.iter().filter_map(|c| c.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    for c in &mut cards {
        if let Some(s) = c.score {
            let better = scores.iter().filter(|o| **o > s).count();
            c.rank = Some(better as u32 + 1);
        }
    }
    if scores.len() >= 3 {
        let bottom = (scores.len() / 10).max(1);
        let line = scores[scores.len() - bottom];
        for c in &mut cards {
            c.flagged = c.score.is_some_and(|s| s <= line);
        }
    }
    cards
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 2026-06-`day` `hour`:00 in China.
    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        china()
            .with_ymd_and_hms(2026, 6, day, hour, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A dispatch to `unit` on 1 June at 09:00, to accept by 10:00 and resolve by 3 June 09:00,
    /// filed at 08:00.
    fn sent(unit: &str) -> Dispatch {
        Dispatch {
            unit: unit.into(),
            filed_at: at(1, 8),
            dispatched_at: at(1, 9),
            accept_by: at(1, 10),
            accepted_at: None,
            returned_at: None,
            resolve_by: at(3, 9),
            resolved_at: None,
            closed_at: None,
            rating: None,
            reopened: false,
        }
    }

    fn june() -> Period {
        Period {
            from: at(1, 0),
            to: at(30, 0) + chrono::Duration::days(1),
        }
    }

    fn one(unit: &str, dispatches: &[Dispatch], orders: &[OrderFacts], now: DateTime<Utc>) -> Card {
        scorecards(
            &[Group::single(unit)],
            &Facts::new(dispatches, orders),
            june(),
            now,
            Weights::default(),
        )
        .remove(0)
    }

    #[test]
    fn a_unit_sitting_on_overdue_cases_does_not_look_perfect() {
        // Two resolved on time; three accepted and left open past their deadline.
        let mut ds = Vec::new();
        for _ in 0..2 {
            ds.push(Dispatch {
                accepted_at: Some(at(1, 9)),
                resolved_at: Some(at(2, 9)),
                ..sent("housing")
            });
        }
        for _ in 0..3 {
            ds.push(Dispatch {
                accepted_at: Some(at(1, 9)),
                ..sent("housing")
            });
        }
        let c = one("housing", &ds, &[], at(10, 12));
        assert_eq!(c.on_time_resolution, Ratio { hits: 2, of: 5 });
        assert_eq!(c.on_time_resolution.rate(), Some(0.4));
        // The naive formula (on time ÷ resolved) would have said 1.0.
        // Before their deadline the open ones were not yet late: 2 of 2.
        let early = one("housing", &ds, &[], at(2, 12));
        assert_eq!(early.on_time_resolution, Ratio { hits: 2, of: 2 });
    }

    #[test]
    fn every_figure_of_one_unit_by_hand() {
        let ds = vec![
            // 1: accepted in time, resolved the day it was filed (9 h after dispatch), satisfied.
            Dispatch {
                accepted_at: Some(at(1, 9)),
                resolved_at: Some(at(1, 18)),
                rating: Some(Rating::Satisfied),
                ..sent("labour")
            },
            // 2: accepted late (11:00 > 10:00), resolved late (4 June), rated unsatisfied and
            // reopened: 3 days and 1 hour after dispatch = 73 h.
            Dispatch {
                accepted_at: Some(at(1, 11)),
                resolved_at: Some(at(4, 10)),
                rating: Some(Rating::Unsatisfied),
                reopened: true,
                ..sent("labour")
            },
            // 3: returned unaccepted.
            Dispatch {
                returned_at: Some(at(1, 9) + chrono::Duration::minutes(30)),
                ..sent("labour")
            },
            // 4: accepted in time, resolved on time on 2 June (25 h), basically satisfied.
            Dispatch {
                accepted_at: Some(at(1, 9)),
                resolved_at: Some(at(2, 10)),
                rating: Some(Rating::BasicallySatisfied),
                ..sent("labour")
            },
            // Another unit's: counts nowhere here.
            Dispatch {
                accepted_at: Some(at(1, 9)),
                ..sent("housing")
            },
        ];
        let orders = vec![
            OrderFacts {
                department: "labour".into(),
                issued_at: at(1, 9),
                arrive_by: at(1, 14),
                arrived_at: Some(at(1, 13)),
            },
            OrderFacts {
                department: "labour".into(),
                issued_at: at(1, 9),
                arrive_by: at(1, 14),
                arrived_at: Some(at(1, 15)),
            },
            // Its time has not come yet: not counted.
            OrderFacts {
                department: "labour".into(),
                issued_at: at(5, 9),
                arrive_by: at(20, 14),
                arrived_at: None,
            },
        ];
        let c = one("labour", &ds, &orders, at(10, 12));
        assert_eq!(c.dispatched, 4);
        assert_eq!(c.response, Ratio { hits: 2, of: 4 });
        assert_eq!(c.on_time_resolution, Ratio { hits: 2, of: 3 });
        assert_eq!(c.satisfaction, Ratio { hits: 2, of: 3 });
        assert_eq!(c.returns, Ratio { hits: 1, of: 4 });
        assert_eq!(c.redo, Ratio { hits: 1, of: 3 });
        assert_eq!(c.order_arrival, Ratio { hits: 1, of: 2 });
        assert_eq!(c.same_day, Ratio { hits: 1, of: 4 });
        // 9, 25, 73 hours: the median is 25, the 90th percentile (nearest rank) 73.
        assert_eq!(c.median_hours, Some(25.0));
        assert_eq!(c.p90_hours, Some(73.0));
        // (30 × 1/2 + 35 × 2/3 + 35 × 2/3) / 100 × 100 = 61.67
        let score = c.score.unwrap();
        assert!((score - (15.0 + 70.0 * 2.0 / 3.0)).abs() < 1e-9, "{score}");
    }

    #[test]
    fn a_unit_with_nothing_counted_has_no_rates_and_no_rank() {
        let c = one("market", &[sent("labour")], &[], at(10, 12));
        assert_eq!(c.dispatched, 0);
        assert_eq!(c.response.rate(), None);
        assert_eq!(c.satisfaction.rate(), None);
        assert_eq!((c.score, c.rank, c.flagged), (None, None, false));
        assert_eq!(c.median_hours, None);
    }

    #[test]
    fn a_missing_rate_leaves_its_weight_out_instead_of_counting_as_zero() {
        // Accepted in time and resolved on time, not rated: 100, not 65.
        let ds = [Dispatch {
            accepted_at: Some(at(1, 9)),
            resolved_at: Some(at(2, 9)),
            ..sent("police")
        }];
        assert_eq!(one("police", &ds, &[], at(10, 12)).score, Some(100.0));
    }

    #[test]
    fn a_past_period_is_judged_as_it_stood_at_its_end() {
        // Resolved on 3 July, after June: in June it was an open case past its deadline.
        let d = Dispatch {
            accepted_at: Some(at(1, 9)),
            resolved_at: Some(at(30, 9) + chrono::Duration::days(3)),
            ..sent("housing")
        };
        let c = one(
            "housing",
            std::slice::from_ref(&d),
            &[],
            at(30, 9) + chrono::Duration::days(200),
        );
        assert_eq!(c.on_time_resolution, Ratio { hits: 0, of: 1 });
        assert_eq!(c.median_hours, None, "not resolved within June");
    }

    #[test]
    fn a_street_counts_its_communities_and_ranks_share_ties_and_the_bottom_is_flagged() {
        let good = |unit: &str| Dispatch {
            accepted_at: Some(at(1, 9)),
            resolved_at: Some(at(2, 9)),
            rating: Some(Rating::Satisfied),
            ..sent(unit)
        };
        let late = |unit: &str| Dispatch {
            accepted_at: Some(at(1, 11)),
            ..sent(unit)
        };
        let ds = vec![
            good("gm-north"),
            good("gm-south"),
            good("dh-one"),
            late("dh-two"),
        ];
        let communities: Vec<Group> = ["gm-north", "gm-south", "dh-one", "dh-two"]
            .into_iter()
            .map(Group::single)
            .collect();
        let cards = scorecards(
            &communities,
            &Facts::new(&ds, &[]),
            june(),
            at(10, 12),
            Weights::default(),
        );
        let ranks: Vec<(&str, Option<u32>, bool)> = cards
            .iter()
            .map(|c| (c.unit.as_str(), c.rank, c.flagged))
            .collect();
        assert_eq!(
            ranks,
            vec![
                ("gm-north", Some(1), false),
                ("gm-south", Some(1), false),
                ("dh-one", Some(1), false),
                ("dh-two", Some(4), true),
            ]
        );
        let streets = [
            Group {
                id: "guangming".into(),
                members: vec!["gm-north".into(), "gm-south".into()],
            },
            Group {
                id: "donghu".into(),
                members: vec!["dh-one".into(), "dh-two".into()],
            },
        ];
        let cards = scorecards(
            &streets,
            &Facts::new(&ds, &[]),
            june(),
            at(10, 12),
            Weights::default(),
        );
        assert_eq!(cards[0].dispatched, 2);
        assert_eq!(cards[1].on_time_resolution, Ratio { hits: 1, of: 2 });
        assert_eq!(cards[1].response, Ratio { hits: 1, of: 2 });
        assert_eq!((cards[0].rank, cards[1].rank), (Some(1), Some(2)));
        assert!(!cards[1].flagged, "two units ranked: nobody is flagged");
    }

    #[test]
    fn a_case_closed_unresolved_stops_counting_as_open_but_one_left_open_does() {
        let closed = Dispatch {
            accepted_at: Some(at(1, 9)),
            closed_at: Some(at(2, 9)),
            ..sent("housing")
        };
        let open = Dispatch {
            accepted_at: Some(at(1, 9)),
            ..sent("housing")
        };
        let card = one("housing", &[closed], &[], at(10, 9));
        assert_eq!(card.on_time_resolution, Ratio { hits: 0, of: 0 });
        let card = one("housing", &[open], &[], at(10, 9));
        assert_eq!(card.on_time_resolution, Ratio { hits: 0, of: 1 });
    }
}
