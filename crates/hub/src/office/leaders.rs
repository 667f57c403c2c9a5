//! What a leader sees (DISTRICT.md §8, §9): the scorecards of every department, community and
//! street over a period, the risk map's communities, and the overview the `/overview` page and
//! the API both read. No personal data goes in: counts, codes, units and deadlines only.
//!
//! The formulas are the domain's ([`domain::scorecard`], [`domain::risk_map`]); this module
//! gathers their facts from the store and groups stations into communities and communities into
//! streets through the district's tree.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use domain::calendar::china;
use domain::district::{District, UnitKind};
use domain::risk_map::{self, CommunityFacts};
use domain::scorecard::{self, Card, Group, Period};
use domain::workflow::Role;

use super::{said, OfficeError};
use crate::people::Session;
use crate::server::HubState;
use crate::store::district::{self as store, DistrictCase, Filter};
use crate::store::leaders::{self, Day, OpenAtStation};
use crate::store::queues::Attendance;
use crate::store::stations::StationHealth;

/// Who may see the leaders' figures (they hold no personal data, but they are the district's
/// management view): the leader, the dispatcher, a street and a department's head.
pub(crate) fn may_see(session: &Session) -> Result<(), OfficeError> {
    match session.user.role {
        Role::Leader | Role::Dispatcher | Role::Street | Role::DepartmentHead => Ok(()),
        _ => Err(OfficeError::Forbidden(said!(
            "领导看板给区领导、调度员、街道和部门负责人看"
        ))),
    }
}

/// One league of units ranked against each other.
#[derive(Debug, Clone)]
pub(crate) struct League {
    pub(crate) kind: UnitKind,
    pub(crate) cards: Vec<Card>,
}

/// The leagues of a district: departments, communities, streets (a street's figures are its
/// communities').
fn groups(district: &District) -> Vec<(UnitKind, Vec<Group>)> {
    let singles = |kind| {
        district
            .of_kind(kind)
            .map(|u| Group::single(&u.id))
            .collect::<Vec<_>>()
    };
    let streets = district
        .of_kind(UnitKind::Street)
        .map(|s| Group {
            id: s.id.clone(),
            members: district
                .of_kind(UnitKind::Community)
                .filter(|c| c.parent.as_deref() == Some(s.id.as_str()))
                .map(|c| c.id.clone())
                .collect(),
        })
        .collect();
    vec![
        (UnitKind::Department, singles(UnitKind::Department)),
        (UnitKind::Community, singles(UnitKind::Community)),
        (UnitKind::Street, streets),
    ]
}

/// Every league's cards over `period`, judged at `now` (DISTRICT.md §8).
pub(crate) async fn scorecards(
    hub: &Arc<HubState>,
    session: &Session,
    period: Period,
) -> Result<Vec<League>, OfficeError> {
    may_see(session)?;
    let now = hub.now();
    let (dispatches, orders) = hub
        .store()
        .read(move |db| {
            Ok((
                store::dispatch_facts(db, period.from, period.to)?,
                store::order_facts(db, period.from, period.to)?,
            ))
        })
        .await?;
    let facts = scorecard::Facts::new(&dispatches, &orders);
    Ok(groups(&hub.config().district)
        .into_iter()
        .map(|(kind, groups)| League {
            kind,
            cards: scorecard::scorecards(
                &groups,
                &facts,
                period,
                now,
                hub.config().district.weights(),
            ),
        })
        .collect())
}

/// A period from two local dates, both days included: `[from 00:00, to + 1 day 00:00)` China
/// time. A period that ends before it starts is refused.
pub(crate) fn period_of(from: NaiveDate, to: NaiveDate) -> Result<Period, OfficeError> {
    if to < from {
        return Err(super::invalid("to", said!("结束日期不能早于开始日期")));
    }
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(china()).single())
            .map(|t| t.with_timezone(&Utc))
    };
    match (start(from), start(to + Duration::days(1))) {
        (Some(from), Some(to)) => Ok(Period { from, to }),
        _ => Err(super::invalid("from", said!("日期超出范围"))),
    }
}

/// The month (local) that `now` is in, to today included.
pub(crate) fn this_month(now: DateTime<Utc>) -> Period {
    use chrono::Datelike;
    let today = now.with_timezone(&china()).date_naive();
    let first = today.with_day(1).unwrap_or(today);
    period_of(first, today).unwrap_or(Period { from: now, to: now })
}

/// One community on the risk map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CommunityRisk {
    pub(crate) id: String,
    pub(crate) facts: CommunityFacts,
}

/// The risk map's communities (every community of the tree, the most at risk first), from the
/// open cases by station and the kinds filed by station within the repeat window.
pub(crate) fn community_risk(
    district: &District,
    open: &[OpenAtStation],
    kinds: &[(String, String, String, u32)],
) -> Vec<CommunityRisk> {
    let community = |station: &str| {
        district
            .community_of_station(station)
            .map(|c| c.id.as_str())
    };
    let mut facts: BTreeMap<&str, CommunityFacts> = district
        .of_kind(UnitKind::Community)
        .map(|c| (c.id.as_str(), CommunityFacts::default()))
        .collect();
    for o in open {
        if let Some(f) = community(&o.station_id).and_then(|c| facts.get_mut(c)) {
            f.open_high += o.high;
            f.open_elevated += o.elevated;
            f.overdue += o.overdue;
        }
    }
    // Each kind as one key (`service/subtype`), counted by community.
    let keys: Vec<(&str, String, u32)> = kinds
        .iter()
        .filter_map(|(station, service, subtype, n)| {
            Some((community(station)?, format!("{service}/{subtype}"), *n))
        })
        .collect();
    let counts: Vec<(&str, &str, u32)> =
        keys.iter().map(|(c, k, n)| (*c, k.as_str(), *n)).collect();
    let communities: Vec<&str> = facts.keys().copied().collect();
    for (c, r) in risk_map::repeats(&communities, &counts) {
        if let Some(f) = facts.get_mut(c) {
            f.repeats = r;
        }
    }
    let mut out: Vec<CommunityRisk> = facts
        .into_iter()
        .map(|(id, facts)| CommunityRisk {
            id: id.to_owned(),
            facts,
        })
        .collect();
    out.sort_by(|a, b| (b.facts.score().cmp(&a.facts.score())).then_with(|| a.id.cmp(&b.id)));
    out
}

/// The risk map's communities now.
pub(crate) async fn risk(
    hub: &Arc<HubState>,
    session: &Session,
) -> Result<Vec<CommunityRisk>, OfficeError> {
    may_see(session)?;
    let now = hub.now();
    let since = days_back(now, risk_map::REPEAT_DAYS).to_string();
    let (open, kinds) = hub
        .store()
        .read(move |db| {
            Ok((
                leaders::open_by_station(db, now)?,
                leaders::kinds_by_station(db, &since)?,
            ))
        })
        .await?;
    Ok(community_risk(&hub.config().district, &open, &kinds))
}

/// Cases filed a day by service over the last [`TREND_DAYS`] local days (today last).
pub(crate) const TREND_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Trend {
    pub(crate) days: Vec<NaiveDate>,
    /// Each service's count on each of `days`.
    pub(crate) services: Vec<(String, Vec<u32>)>,
}

/// The first local day of the last `days` days to today.
fn days_back(now: DateTime<Utc>, days: i64) -> NaiveDate {
    now.with_timezone(&china()).date_naive() - Duration::days(days - 1)
}

fn trend(now: DateTime<Utc>, by_day: &[(String, String, u32)]) -> Trend {
    let first = days_back(now, TREND_DAYS);
    let days: Vec<NaiveDate> = (0..TREND_DAYS).map(|i| first + Duration::days(i)).collect();
    let mut services: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (day, service, n) in by_day {
        let Ok(day) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            continue;
        };
        if let Some(i) = days.iter().position(|d| *d == day) {
            services
                .entry(service.clone())
                .or_insert_with(|| vec![0; days.len()])[i] += n;
        }
    }
    Trend {
        days,
        services: services.into_iter().collect(),
    }
}

/// Everything the leaders' page shows, read at one moment.
pub(crate) struct Overview {
    pub(crate) now: DateTime<Utc>,
    pub(crate) today: Day,
    pub(crate) open: i64,
    pub(crate) overdue: i64,
    pub(crate) high_open: Vec<DistrictCase>,
    pub(crate) high_open_total: i64,
    pub(crate) late_orders: Vec<leaders::LateOrder>,
    pub(crate) risk: Vec<CommunityRisk>,
    pub(crate) stations: Vec<StationHealth>,
    pub(crate) trend: Trend,
    pub(crate) leagues: Vec<League>,
    pub(crate) period: Period,
    pub(crate) on_duty: Vec<Attendance>,
    pub(crate) oldest: Vec<DistrictCase>,
}

/// The open stages, for the lists behind the page's numbers.
pub(crate) fn open_stages() -> Vec<domain::workflow::Stage> {
    use domain::workflow::Stage;
    vec![
        Stage::Received,
        Stage::Assigned,
        Stage::InProgress,
        Stage::Reopened,
    ]
}

/// Reads the overview: one read transaction for the month's facts and one for the rest, at
/// once.
pub(crate) async fn overview(
    hub: &Arc<HubState>,
    session: &Session,
) -> Result<Overview, OfficeError> {
    may_see(session)?;
    let now = hub.now();
    let period = this_month(now);
    let (day_start, day_end) = crate::html::china_day(now);
    let since = days_back(now, risk_map::REPEAT_DAYS).to_string();
    let trend_from = days_back(now, TREND_DAYS).to_string();
    let known = hub.credentials().station_ids();
    // The month's cards and the rest are read at once, each in a transaction of its own (the
    // cards are the larger read; the page waits for the longer of the two, not their sum).
    let rest = hub.store().read(move |db| {
        let count = |db: &mut dyn crate::store::sql::Db, filter: Filter| {
            store::list(db, &Filter { limit: 1, ..filter }).map(|(_, n)| n)
        };
        let open = count(
            db,
            Filter {
                stages: open_stages(),
                ..Filter::default()
            },
        )?;
        let overdue = count(
            db,
            Filter {
                overdue_at: Some(now),
                ..Filter::default()
            },
        )?;
        let (high_open, high_open_total) = store::list(
            db,
            &Filter {
                stages: open_stages(),
                risk: Some("high".into()),
                limit: 10,
                ..Filter::default()
            },
        )?;
        Ok((
            leaders::day(db, day_start, day_end)?,
            open,
            overdue,
            (high_open, high_open_total),
            leaders::late_orders(db, now)?,
            leaders::open_by_station(db, now)?,
            leaders::kinds_by_station(db, &since)?,
            crate::store::stations::health(db, &known, now)?,
            leaders::filed_by_day(db, &trend_from)?,
            crate::store::queues::attendance_since(db, now)?,
            leaders::oldest_open(db, 5)?,
        ))
    });
    let (leagues, read) = tokio::join!(scorecards(hub, session, period), rest);
    let (leagues, read) = (leagues?, read?);
    let (
        today,
        open,
        overdue,
        (high_open, high_open_total),
        late_orders,
        open_by,
        kinds,
        stations,
        by_day,
        attendance,
        oldest,
    ) = read;
    let district = &hub.config().district;
    Ok(Overview {
        now,
        today,
        open,
        overdue,
        high_open,
        high_open_total,
        late_orders,
        risk: community_risk(district, &open_by, &kinds),
        stations,
        trend: trend(now, &by_day),
        leagues,
        period,
        on_duty: attendance
            .into_iter()
            .filter(|a| a.checked_out_at.is_none())
            .collect(),
        oldest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use domain::risk_map::Band;

    #[test]
    fn a_cluster_at_one_communitys_stations_raises_only_that_community() {
        let district = District::demo();
        let open = [OpenAtStation {
            station_id: "demo".into(),
            open: 4,
            high: 0,
            elevated: 4,
            overdue: 1,
        }];
        let kinds = [
            ("demo".into(), "mediation".into(), "wages_owed".into(), 3),
            (
                "gm-north-mall".into(),
                "mediation".into(),
                "wages_owed".into(),
                1,
            ),
            ("demo".into(), "complaint".into(), "noise".into(), 1),
            // Something elsewhere, to know what is usual.
            (
                "gm-south-site".into(),
                "complaint".into(),
                "noise".into(),
                1,
            ),
        ];
        let risk = community_risk(&district, &open, &kinds);
        assert_eq!(risk[0].id, "gm-north");
        // 4 elevated · 4 + 1 overdue · 3 + (4 − 1 wages + 0 noise) repeats · 2
        assert_eq!(risk[0].facts.score(), 16 + 3 + 6);
        assert_eq!(risk[0].facts.repeats, 3);
        assert!(risk[1..]
            .iter()
            .all(|r| r.facts.score() == 0 && r.facts.band() == Band::Calm));
        assert_eq!(
            risk.len(),
            district.of_kind(UnitKind::Community).count(),
            "every community is on the map"
        );
    }

    #[test]
    fn the_trend_has_thirty_local_days_to_today_and_leaves_out_older_ones() {
        let now = Utc.with_ymd_and_hms(2026, 6, 9, 16, 30, 0).unwrap(); // 00:30 on the 10th
        let rows = [
            ("2026-06-10".to_owned(), "complaint".to_owned(), 5),
            ("2026-06-09".to_owned(), "complaint".to_owned(), 2),
            ("2026-05-12".to_owned(), "mediation".to_owned(), 1),
            ("2026-05-11".to_owned(), "legal".to_owned(), 9),
        ];
        let t = trend(now, &rows);
        assert_eq!(t.days.len() as i64, TREND_DAYS);
        assert_eq!(t.days[0], NaiveDate::from_ymd_opt(2026, 5, 12).unwrap());
        assert_eq!(
            *t.days.last().unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 10).unwrap()
        );
        let complaint = &t.services.iter().find(|(s, _)| s == "complaint").unwrap().1;
        assert_eq!(&complaint[complaint.len() - 2..], &[2, 5]);
        assert!(
            t.services.iter().all(|(s, _)| s != "legal"),
            "the 31st day back is out"
        );
    }

    #[test]
    fn a_period_covers_both_of_its_local_days() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 6, day).unwrap();
        let p = period_of(d(1), d(30)).unwrap();
        assert_eq!(p.from, Utc.with_ymd_and_hms(2026, 5, 31, 16, 0, 0).unwrap());
        assert_eq!(p.to, Utc.with_ymd_and_hms(2026, 6, 30, 16, 0, 0).unwrap());
        assert!(period_of(d(2), d(1)).is_err());
    }
}
