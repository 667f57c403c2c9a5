//! Working time, for the district's deadlines (DISTRICT.md §4): which days are worked (weekdays,
//! less the public holidays, plus the adjusted working days, 调休, the State Council publishes
//! each year), which hours of a day are worked, and adding working time to an instant.
//!
//! The calendar is data: [`Calendar::builtin`] is `calendar.txt` (2026 as published; 2027 with
//! its statutory holidays only until its notice is out), and a district replaces it with a file
//! of the same form ([`Calendar::parse`]):
//!
//! ```text
//! # a comment
//! hours 09:00-12:00 13:30-17:30
//! year 2026 published 国办发明电〔2025〕7号
//! 2026-01-01 off 元旦
//! 2026-01-04 work 元旦调休
//! ```
//!
//! Times are China Standard Time (UTC+8, no summer time), the district's clock; instants in and
//! out are UTC. A day outside every declared year counts as a weekday or a weekend only.
//! Pure: the caller passes every instant.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};

/// China Standard Time.
pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar shipped with the hub.
const BUILTIN: &str = include_str!("calendar.txt");

/// Whether a year's days are the State Council's published notice or only the statutory
/// holidays (its 调休 not known yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    Published { source: String },
    Provisional,
}

/// What a day is, when the calendar says more than its weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    /// A public holiday (or a day of its bridge), off even on a weekday.
    Off,
    /// An adjusted working day (调休), worked even on a weekend.
    Work,
}

/// A bad calendar file: the line (from 1) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar line {line}: {problem}")]
pub struct CalendarError {
    pub line: usize,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, (DayKind, String)>,
    years: BTreeMap<i32, Coverage>,
    /// The worked stretches of a working day, in order, not overlapping.
    hours: Vec<(NaiveTime, NaiveTime)>,
}

impl Calendar {
    /// The calendar shipped with the hub.
    pub fn builtin() -> Calendar {
        Calendar::parse(BUILTIN).expect("the built-in calendar is valid")
    }

    /// Reads a calendar file; the first wrong line is named.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let mut days = BTreeMap::new();
        let mut years = BTreeMap::new();
        let mut hours = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let fail = |problem: String| CalendarError { line, problem };
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let mut words = content.split_whitespace();
            let first = words.next().unwrap_or_default();
            match first {
                "hours" => {
                    if hours.is_some() {
                        return Err(fail("`hours` is given twice".into()));
                    }
                    hours = Some(parse_hours(words).map_err(fail)?);
                }
                "year" => {
                    let year: i32 = words
                        .next()
                        .and_then(|y| y.parse().ok())
                        .filter(|y| (1970..=9999).contains(y))
                        .ok_or_else(|| {
                            fail("`year` needs a year, e.g. `year 2026 published …`".into())
                        })?;
                    let coverage = match words.next() {
                        Some("published") => {
                            let source = words.collect::<Vec<_>>().join(" ");
                            if source.is_empty() {
                                return Err(fail(format!(
                                    "year {year} is published: say by which notice"
                                )));
                            }
                            Coverage::Published { source }
                        }
                        Some("provisional") => Coverage::Provisional,
                        other => {
                            return Err(fail(format!(
                                "year {year}: `published <notice>` or `provisional` expected, found `{}`",
                                other.unwrap_or("")
                            )))
                        }
                    };
                    if years.insert(year, coverage).is_some() {
                        return Err(fail(format!("year {year} is declared twice")));
                    }
                }
                date => {
                    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                        fail(format!(
                            "`{date}` is not a date (YYYY-MM-DD), `hours` or `year`"
                        ))
                    })?;
                    if !years.contains_key(&date.year()) {
                        return Err(fail(format!(
                            "{date} is in {}, which no `year` line above declares",
                            date.year()
                        )));
                    }
                    let kind = match words.next() {
                        Some("off") => DayKind::Off,
                        Some("work") => DayKind::Work,
                        other => {
                            return Err(fail(format!(
                                "{date}: `off` or `work` expected, found `{}`",
                                other.unwrap_or("")
                            )))
                        }
                    };
                    if kind == DayKind::Work && !is_weekend(date) {
                        return Err(fail(format!(
                            "{date} is a {} and worked anyway: only a weekend day can be a `work` day",
                            date.weekday()
                        )));
                    }
                    let name = words.collect::<Vec<_>>().join(" ");
                    if days.insert(date, (kind, name)).is_some() {
                        return Err(fail(format!("{date} is listed twice")));
                    }
                }
            }
        }
        let hours = hours.unwrap_or_else(default_hours);
        Ok(Calendar { days, years, hours })
    }

    /// The years the calendar knows, and how.
    pub fn years(&self) -> impl Iterator<Item = (i32, &Coverage)> {
        self.years.iter().map(|(y, c)| (*y, c))
    }

    /// How the calendar knows `year`, if it does.
    pub fn coverage(&self, year: i32) -> Option<&Coverage> {
        self.years.get(&year)
    }

    /// Whether `date` is worked.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some((DayKind::Off, _)) => false,
            Some((DayKind::Work, _)) => true,
            None => !is_weekend(date),
        }
    }

    /// The holiday's or adjusted day's name, if the calendar lists `date`.
    pub fn day_name(&self, date: NaiveDate) -> Option<(DayKind, &str)> {
        self.days.get(&date).map(|(k, n)| (*k, n.as_str()))
    }

    /// Minutes worked in a working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.hours
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }

    /// The working minutes between two instants (0 when `to` is not after `from`).
    pub fn working_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let (from, to) = (local(from), local(to));
        let mut total = 0;
        let mut date = from.date();
        while date <= to.date() {
            if self.is_working_day(date) {
                for (start, end) in &self.hours {
                    let a = date.and_time(*start).max(from);
                    let b = date.and_time(*end).min(to);
                    if b > a {
                        total += (b - a).num_seconds();
                    }
                }
            }
            date = date.succ_opt().unwrap_or(date);
            if date == NaiveDate::MAX {
                break;
            }
        }
        total / 60
    }

    /// The instant `minutes` of working time after `start`. Time outside working hours does not
    /// count: 4 working hours from a Friday 16:00 end on the next working day's morning.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let mut left = minutes.max(0) * 60;
        let start = local(start);
        let mut date = start.date();
        // A calendar always has working days within a few weeks; the bound only guards a
        // calendar that says otherwise from looping for ever.
        for _ in 0..3660 {
            if self.is_working_day(date) {
                for (from, to) in &self.hours {
                    let a = date.and_time(*from).max(start);
                    let b = date.and_time(*to);
                    if b <= a {
                        continue;
                    }
                    let here = (b - a).num_seconds();
                    if left <= here {
                        return utc(a + Duration::seconds(left));
                    }
                    left -= here;
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        utc(start) + Duration::seconds(left)
    }

    /// The instant `days` working days after `start` (a working day being
    /// [`Calendar::minutes_per_day`] of working time).
    pub fn add_working_days(&self, start: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        self.add_working_minutes(start, days * self.minutes_per_day())
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

fn default_hours() -> Vec<(NaiveTime, NaiveTime)> {
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("a valid time");
    vec![(t(9, 0), t(12, 0)), (t(13, 30), t(17, 30))]
}

fn parse_hours<'a>(
    words: impl Iterator<Item = &'a str>,
) -> Result<Vec<(NaiveTime, NaiveTime)>, String> {
    let mut hours: Vec<(NaiveTime, NaiveTime)> = Vec::new();
    for stretch in words {
        let (a, b) = stretch
            .split_once('-')
            .ok_or_else(|| format!("`{stretch}` is not a stretch of hours like 09:00-12:00"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t, "%H:%M")
                .map_err(|_| format!("`{t}` in `{stretch}` is not a time like 09:00"))
        };
        let (a, b) = (time(a)?, time(b)?);
        if b <= a {
            return Err(format!("`{stretch}` ends before it starts"));
        }
        if let Some((_, last_end)) = hours.last() {
            if a < *last_end {
                return Err(format!(
                    "`{stretch}` starts before the stretch before it ends: give them in order"
                ));
            }
        }
        hours.push((a, b));
    }
    if hours.is_empty() {
        return Err(
            "`hours` needs at least one stretch, e.g. `hours 09:00-12:00 13:30-17:30`".into(),
        );
    }
    Ok(hours)
}

fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&china()).naive_local()
}

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    china()
        .from_local_datetime(&at)
        .single()
        .expect("a fixed offset maps every local time once")
        .with_timezone(&Utc)
}

/// A deadline's length: wall-clock time (the emergency and urgent classes), or working time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Minutes(i64),
    WorkingMinutes(i64),
    WorkingDays(i64),
}

impl Span {
    /// `30min`, `2h` (wall clock), `4wh` (working hours), `7wd` (working days).
    pub fn parse(text: &str) -> Result<Span, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{text}` has no unit: 30min, 2h, 4wh or 7wd"))?;
        let (n, unit) = text.split_at(split);
        let n: i64 = n
            .parse()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| format!("`{text}` needs a number from 1 to 10000 first"))?;
        match unit {
            "min" => Ok(Span::Minutes(n)),
            "h" => Ok(Span::Minutes(n * 60)),
            "wh" => Ok(Span::WorkingMinutes(n * 60)),
            "wd" => Ok(Span::WorkingDays(n)),
            _ => Err(format!(
                "`{text}`: the unit must be min, h, wh (working hours) or wd (working days)"
            )),
        }
    }

    /// When a span starting at `start` ends.
    pub fn end(self, start: DateTime<Utc>, calendar: &Calendar) -> DateTime<Utc> {
        match self {
            Span::Minutes(m) => start + Duration::minutes(m),
            Span::WorkingMinutes(m) => calendar.add_working_minutes(start, m),
            Span::WorkingDays(d) => calendar.add_working_days(start, d),
        }
    }

    /// The instant at `percent` % of the way from `start` to `end`, counted the way the span
    /// counts (a reminder at 75 % of working time skips the night).
    pub fn part_way(
        self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        percent: i64,
        calendar: &Calendar,
    ) -> DateTime<Utc> {
        match self {
            Span::Minutes(_) => start + (end - start) * percent as i32 / 100,
            Span::WorkingMinutes(_) | Span::WorkingDays(_) => {
                let whole = calendar.working_minutes_between(start, end);
                calendar.add_working_minutes(start, whole * percent / 100)
            }
        }
    }

    pub fn words(self) -> String {
        match self {
            Span::Minutes(m) if m % 60 == 0 => format!("{}h", m / 60),
            Span::Minutes(m) => format!("{m}min"),
            Span::WorkingMinutes(m) => format!("{}wh", m / 60),
            Span::WorkingDays(d) => format!("{d}wd"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        // Local (CST) times in the tests read as the district's clock.
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        utc(naive)
    }

    fn show(t: DateTime<Utc>) -> String {
        local(t).format("%Y-%m-%d %H:%M").to_string()
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_builtin_calendar_knows_2026_as_published_and_2027_provisionally() {
        let c = Calendar::builtin();
        assert!(matches!(c.coverage(2026), Some(Coverage::Published { .. })));
        assert_eq!(c.coverage(2027), Some(&Coverage::Provisional));
        // 2026: New Year 1–3 January off, Sunday 4 January worked.
        assert!(!c.is_working_day(d("2026-01-01")));
        assert!(!c.is_working_day(d("2026-01-02")));
        assert!(c.is_working_day(d("2026-01-04")));
        // Spring Festival: 15–23 February off; Saturdays 14 and 28 February worked.
        assert!(c.is_working_day(d("2026-02-14")));
        for day in 15..=23 {
            assert!(!c.is_working_day(d(&format!("2026-02-{day}"))), "{day}");
        }
        assert!(c.is_working_day(d("2026-02-28")));
        // National Day: 1–7 October off, 20 September and 10 October worked.
        assert!(!c.is_working_day(d("2026-10-05")));
        assert!(c.is_working_day(d("2026-09-20")));
        assert!(c.is_working_day(d("2026-10-10")));
        // An ordinary week.
        assert!(c.is_working_day(d("2026-06-02")));
        assert!(!c.is_working_day(d("2026-06-06")));
        // 2027's statutory days.
        assert!(!c.is_working_day(d("2027-02-08")));
        assert!(!c.is_working_day(d("2027-10-01")));
    }

    #[test]
    fn working_hours_skip_the_lunch_break_the_night_and_the_weekend() {
        let c = Calendar::builtin();
        // Tuesday 2 June 2026, 11:00 + 4 working hours: 1 h before lunch, 3 h after.
        assert_eq!(
            show(c.add_working_minutes(at("2026-06-02 11:00"), 240)),
            "2026-06-02 16:30"
        );
        // Friday 16:00 + 4 h: 1.5 h on Friday, then Monday 09:00 + 2.5 h.
        assert_eq!(
            show(c.add_working_minutes(at("2026-06-05 16:00"), 240)),
            "2026-06-08 11:30"
        );
        // Filed on a Saturday night: counting starts on Monday morning.
        assert_eq!(
            show(c.add_working_minutes(at("2026-06-06 22:00"), 60)),
            "2026-06-08 10:00"
        );
        // 7 working days from a Tuesday 10:00 end on the Thursday of the next week, 10:00.
        assert_eq!(
            show(c.add_working_days(at("2026-06-02 10:00"), 7)),
            "2026-06-11 10:00"
        );
    }

    #[test]
    fn a_holiday_is_skipped_and_an_adjusted_saturday_is_worked() {
        let c = Calendar::builtin();
        // Friday 13 February 2026 17:00, one working day: Saturday 14 February is worked (调休).
        assert_eq!(
            show(c.add_working_days(at("2026-02-13 17:00"), 1)),
            "2026-02-14 17:00"
        );
        // From Saturday 14 February 17:00 one working day: 15–23 off, so Tuesday 24 February.
        assert_eq!(
            show(c.add_working_days(at("2026-02-14 17:00"), 1)),
            "2026-02-24 17:00"
        );
        // Between the two: one working day, the 14th's last half hour and the 24th up to 17:00.
        assert_eq!(
            c.working_minutes_between(at("2026-02-14 17:00"), at("2026-02-24 17:00")),
            7 * 60
        );
    }

    #[test]
    fn minutes_between_and_adding_agree() {
        let c = Calendar::builtin();
        let start = at("2026-09-24 15:10");
        for minutes in [0, 1, 59, 170, 420, 421, 3000, 7 * 420] {
            let end = c.add_working_minutes(start, minutes);
            assert_eq!(c.working_minutes_between(start, end), minutes, "{minutes}");
        }
    }

    #[test]
    fn a_span_reads_its_units_and_finds_three_quarters_of_the_way() {
        let c = Calendar::builtin();
        assert_eq!(Span::parse("30min"), Ok(Span::Minutes(30)));
        assert_eq!(Span::parse("2h"), Ok(Span::Minutes(120)));
        assert_eq!(Span::parse("4wh"), Ok(Span::WorkingMinutes(240)));
        assert_eq!(Span::parse("15wd"), Ok(Span::WorkingDays(15)));
        assert!(Span::parse("4").unwrap_err().contains("no unit"));
        assert!(Span::parse("4 weeks").unwrap_err().contains("unit must be"));
        assert!(Span::parse("0h").unwrap_err().contains("number"));
        let start = at("2026-06-05 16:00");
        let span = Span::WorkingMinutes(240);
        let end = span.end(start, &c);
        // 75 % of 4 working hours is 3 working hours: Monday 10:30, not Friday night.
        assert_eq!(show(span.part_way(start, end, 75, &c)), "2026-06-08 10:30");
        let wall = Span::Minutes(120);
        assert_eq!(
            show(wall.part_way(start, wall.end(start, &c), 75, &c)),
            "2026-06-05 17:30"
        );
        for s in ["30min", "2h", "4wh", "7wd"] {
            assert_eq!(Span::parse(s).unwrap().words(), s);
        }
    }

    #[test]
    fn a_bad_calendar_names_its_line() {
        let cases = [
            ("year 2026 published X\n2026-02-30 off\n", 2, "not a date"),
            ("2026-01-01 off\n", 1, "no `year` line"),
            (
                "year 2026 published X\n2026-01-05 work\n",
                2,
                "only a weekend day",
            ),
            (
                "year 2026 published X\n2026-01-01 off\n2026-01-01 off\n",
                3,
                "listed twice",
            ),
            (
                "year 2026 published X\n2026-01-01 maybe\n",
                2,
                "`off` or `work`",
            ),
            ("year 2026\n", 1, "`published <notice>` or `provisional`"),
            ("year 2026 published\n", 1, "by which notice"),
            ("hours 13:00-12:00\n", 1, "ends before"),
            ("hours 09:00-12:00 11:00-13:00\n", 1, "in order"),
            ("hours nine-five\n", 1, "not a time"),
        ];
        for (text, line, problem) in cases {
            let err = Calendar::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text}");
            assert!(err.to_string().contains(problem), "{text}: {err}");
        }
        let c = Calendar::parse("# mine\nhours 08:30-12:00 14:00-17:30\nyear 2026 provisional\n")
            .unwrap();
        assert_eq!(c.minutes_per_day(), 420);
        assert!(
            c.is_working_day(d("2026-01-01")),
            "a calendar that lists no holiday has none"
        );
    }
}
