//! Rosters and appointment slots: who (a lawyer, a counsellor, a mediator) is at the station
//! when, and which slots a resident may book.
//!
//! A roster is data (from `kiosk.toml`, or from the hub when it has one for the station). A
//! provider works weekly shifts; exceptions close a day or a run of days (holidays, absences)
//! or add an extra session. Each session is cut into slots of `slot_min` minutes from its start;
//! a tail shorter than a slot is not offered. Everything here is pure: the caller passes the
//! time, the station's UTC offset and how many bookings each slot already has.
//!
//! A slot's id is `<provider>@<YYYY-MM-DD>T<HH:MM>` in the station's local time: stable, so the
//! command line, the screen and a booking all name the same slot.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::text::{Language, Localized};

/// A time of day, `HH:MM`, as minutes after midnight (0..=1440; 24:00 ends a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    pub fn parse(s: &str) -> Option<TimeOfDay> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty()
            || h.len() > 2
            || m.len() != 2
            || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
        {
            // Digits only: `u16::from_str` would take `9:+5` for 09:05.
            return None;
        }
        let h: u16 = h.parse().ok()?;
        let m: u16 = m.parse().ok()?;
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return None;
        }
        Some(TimeOfDay(h * 60 + m))
    }

    pub(crate) fn minutes(self) -> u32 {
        u32::from(self.0)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TimeOfDay, D::Error> {
        let s = String::deserialize(d)?;
        TimeOfDay::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not a time of day (expected HH:MM)"))
        })
    }
}

/// A day of the week, written `mon` … `sun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(date: NaiveDate) -> Day {
        match date.weekday() {
            chrono::Weekday::Mon => Day::Mon,
            chrono::Weekday::Tue => Day::Tue,
            chrono::Weekday::Wed => Day::Wed,
            chrono::Weekday::Thu => Day::Thu,
            chrono::Weekday::Fri => Day::Fri,
            chrono::Weekday::Sat => Day::Sat,
            chrono::Weekday::Sun => Day::Sun,
        }
    }
}

/// What a provider is. The slip names the role, except for a discreet service, whose slip
/// shows only its lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Lawyer,
    Counsellor,
    Mediator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Lawyer => "lawyer",
            Role::Counsellor => "counsellor",
            Role::Mediator => "mediator",
        }
    }

    /// The role in words, for a service that is not discreet.
    pub fn word(self, language: Language) -> &'static str {
        match self {
            Role::Lawyer => crate::t!(language, "律师"),
            Role::Counsellor => crate::t!(language, "咨询师"),
            Role::Mediator => crate::t!(language, "调解员"),
        }
    }
}

/// A weekly shift: every `day` from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub day: Day,
    pub from: TimeOfDay,
    pub to: TimeOfDay,
}

/// A change to the weekly pattern. `closed = true` closes `date` (through `until`, if given):
/// a holiday or an absence. Otherwise `from`/`to` add an extra session on `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<TimeOfDay>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TimeOfDay>,
}

/// A lawyer, counsellor or mediator with their shifts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Stable id (`lawyer-wang`): in slot ids, bookings and attendance.
    pub id: String,
    pub role: Role,
    /// Shown to staff and on the operator page; never printed for a discreet service.
    pub name: Localized,
    /// The service whose appointments this provider takes (`legal`, `counselling`, …).
    pub service: String,
    /// Length of one slot, minutes.
    pub slot_min: u32,
    /// How many residents one slot takes.
    #[serde(default = "one")]
    pub capacity: u32,
    pub shifts: Vec<Shift>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
}

fn one() -> u32 {
    1
}

/// The station's booking rules (`[appointments]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRules {
    /// How many days ahead a slot may be booked (today counts as day 0).
    pub booking_window_days: u32,
    /// How long before a slot's start booking closes, minutes.
    pub min_notice_min: u32,
    /// The arrival window for check-in around a slot's start, minutes early and late.
    pub arrival_early_min: u32,
    pub arrival_late_min: u32,
}

/// Every provider of the station.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    pub providers: Vec<Provider>,
}

/// One bookable unit of a provider's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub id: String,
    pub provider: String,
    pub role: Role,
    pub service: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u32,
}

/// Why a slot cannot be booked (or a check-in cannot happen): each its own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("`{0}` is not a slot of this station's roster")]
    Unknown(String),
    #[error("the slot {0} has already begun or passed")]
    Past(String),
    #[error("the slot {id} starts in less than {notice_min} minutes; choose a later one")]
    TooSoon { id: String, notice_min: u32 },
    #[error("the slot {id} is more than {days} days ahead; bookings open {days} days before")]
    TooFar { id: String, days: u32 },
    #[error("the slot {0} is full")]
    Full(String),
}

/// The slot id of `provider` starting at local `date` `time`.
pub(crate) fn slot_id(provider: &str, date: NaiveDate, time: TimeOfDay) -> String {
    format!("{provider}@{}T{time}", date.format("%Y-%m-%d"))
}

/// Splits a slot id into provider, date and time (`None` when it is not shaped like one).
pub(crate) fn parse_slot_id(id: &str) -> Option<(&str, NaiveDate, TimeOfDay)> {
    let (provider, when) = id.trim().rsplit_once('@')?;
    let (date, time) = when.split_once('T')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((provider, date, TimeOfDay::parse(time)?))
}

/// The local date of `at` at the station.
pub fn local_date(at: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    // chrono panics on a local time past its calendar's end (an instant within a day of it):
    // such a date is the calendar's end.
    at.naive_utc()
        .checked_add_signed(Duration::seconds(i64::from(offset.local_minus_utc())))
        .map(|local| local.date())
        .unwrap_or(if offset.local_minus_utc() > 0 {
            NaiveDate::MAX
        } else {
            NaiveDate::MIN
        })
}

/// The instant of local `date` `time` at the station; `None` at the very ends of the calendar
/// (years past ±262 000), where no instant is left to name it.
fn at_local(date: NaiveDate, time: TimeOfDay, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let midnight = offset
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()?;
    midnight
        .checked_add_signed(Duration::minutes(i64::from(time.0)))
        .map(|at| at.with_timezone(&Utc))
}

impl Provider {
    fn closed_on(&self, date: NaiveDate) -> bool {
        self.exceptions
            .iter()
            .any(|e| e.closed && e.date <= date && date <= e.until.unwrap_or(e.date))
    }

    /// The sessions (from, to) the provider works on `date`, in order: the weekly shifts of
    /// its day unless an exception closes it, and the extra sessions of that date (an extra
    /// session on a closed day, say during the holidays, is still offered: it was added on
    /// purpose).
    pub fn sessions(&self, date: NaiveDate) -> Vec<(TimeOfDay, TimeOfDay)> {
        let day = Day::of(date);
        let mut out: Vec<(TimeOfDay, TimeOfDay)> = if self.closed_on(date) {
            Vec::new()
        } else {
            self.shifts
                .iter()
                .filter(|s| s.day == day)
                .map(|s| (s.from, s.to))
                .collect()
        };
        out.extend(self.exceptions.iter().filter_map(|e| match (e.from, e.to) {
            (Some(f), Some(t)) if !e.closed && e.date == date => Some((f, t)),
            _ => None,
        }));
        out.sort();
        out
    }

    /// The slots of `date`, in order.
    pub(crate) fn slots_on(&self, date: NaiveDate, offset: FixedOffset) -> Vec<Slot> {
        let mut out = Vec::new();
        // A roster not validated (a slot of no minutes) offers nothing, rather than cutting a
        // session into endless empty slots.
        if self.slot_min == 0 {
            return out;
        }
        for (from, to) in self.sessions(date) {
            let mut start = from.minutes();
            while start + self.slot_min <= to.minutes() {
                let t = TimeOfDay(start as u16);
                start += self.slot_min;
                // A slot that no instant can hold (a date typed at the end of the calendar) is
                // not offered, rather than overflowing.
                let Some((begins, end)) = at_local(date, t, offset).and_then(|begins| {
                    let end =
                        begins.checked_add_signed(Duration::minutes(i64::from(self.slot_min)))?;
                    Some((begins, end))
                }) else {
                    continue;
                };
                out.push(Slot {
                    id: slot_id(&self.id, date, t),
                    provider: self.id.clone(),
                    role: self.role,
                    service: self.service.clone(),
                    start: begins,
                    end,
                    capacity: self.capacity,
                });
            }
        }
        out
    }
}

impl Roster {
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Every slot of `service` (all services when `None`) on the `days` local days starting
    /// with `first`, in time order, booked or not.
    pub fn slots(
        &self,
        service: Option<&str>,
        first: NaiveDate,
        days: u32,
        offset: FixedOffset,
    ) -> Vec<Slot> {
        let mut out = Vec::new();
        for d in 0..days {
            let Some(date) = first.checked_add_signed(Duration::days(i64::from(d))) else {
                break;
            };
            for p in &self.providers {
                if service.is_none_or(|s| s == p.service) {
                    out.extend(p.slots_on(date, offset));
                }
            }
        }
        out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)));
        out
    }

    /// The slot with this id, if the roster has it.
    pub fn slot(&self, id: &str, offset: FixedOffset) -> Result<Slot, SlotError> {
        let unknown = || SlotError::Unknown(id.trim().to_owned());
        let (provider, date, _) = parse_slot_id(id).ok_or_else(unknown)?;
        let p = self.provider(provider).ok_or_else(unknown)?;
        p.slots_on(date, offset)
            .into_iter()
            .find(|s| s.id == id.trim())
            .ok_or_else(unknown)
    }

    /// Checks the roster against itself and the station's services: the first contradiction,
    /// as the key path (`providers[0].shifts[1]`) and what is wrong.
    pub fn validate(&self, services: &[&str]) -> Result<(), (String, String)> {
        for (i, p) in self.providers.iter().enumerate() {
            let key = format!("providers[{i}]");
            let id_ok = !p.id.is_empty()
                && p.id.len() <= 40
                && p.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                return Err((
                    format!("{key}.id"),
                    format!("`{}`: expected 1–40 of a–z, 0–9 and -", p.id),
                ));
            }
            if let Some(j) = self.providers[..i].iter().position(|q| q.id == p.id) {
                return Err((
                    format!("{key}.id"),
                    format!("`{}` is already the id of providers[{j}]", p.id),
                ));
            }
            if !services.contains(&p.service.as_str()) {
                return Err((
                    format!("{key}.service"),
                    format!("`{}` is not one of the station's services", p.service),
                ));
            }
            if !(5..=240).contains(&p.slot_min) {
                return Err((
                    format!("{key}.slot_min"),
                    format!("{} minutes: expected 5–240", p.slot_min),
                ));
            }
            if !(1..=50).contains(&p.capacity) {
                return Err((
                    format!("{key}.capacity"),
                    format!("{}: expected 1–50 residents per slot", p.capacity),
                ));
            }
            for (k, s) in p.shifts.iter().enumerate() {
                let skey = format!("{key}.shifts[{k}]");
                check_session(&skey, s.from, s.to, p.slot_min)?;
                if let Some(m) = p.shifts[..k]
                    .iter()
                    .position(|o| o.day == s.day && s.from < o.to && o.from < s.to)
                {
                    return Err((
                        skey,
                        format!(
                            "{:?} {}–{} overlaps shifts[{m}] of the same provider",
                            s.day, s.from, s.to
                        ),
                    ));
                }
            }
            for (k, e) in p.exceptions.iter().enumerate() {
                let ekey = format!("{key}.exceptions[{k}]");
                if let Some(until) = e.until {
                    if until < e.date {
                        return Err((ekey, format!("until {until} is before date {}", e.date)));
                    }
                }
                match (e.closed, e.from, e.to) {
                    (true, None, None) => {}
                    (true, _, _) => {
                        return Err((
                            ekey,
                            "closed = true cannot also have from/to: a day is either closed or \
                             has an extra session"
                                .into(),
                        ))
                    }
                    (false, Some(f), Some(t)) => {
                        if e.until.is_some() {
                            return Err((
                                ekey,
                                "an extra session is on one date: drop `until`".into(),
                            ));
                        }
                        check_session(&ekey, f, t, p.slot_min)?;
                        // It must not overlap the weekly shifts of its day (when that day is
                        // not closed) or another extra session.
                        if !p.closed_on(e.date) {
                            let day = Day::of(e.date);
                            if let Some(m) = p
                                .shifts
                                .iter()
                                .position(|s| s.day == day && f < s.to && s.from < t)
                            {
                                return Err((
                                    ekey,
                                    format!("{f}–{t} on {} overlaps shifts[{m}]", e.date),
                                ));
                            }
                        }
                        if let Some(m) = p.exceptions[..k].iter().position(|o| {
                            !o.closed
                                && o.date == e.date
                                && o.from.zip(o.to).is_some_and(|(of, ot)| f < ot && of < t)
                        }) {
                            return Err((
                                ekey,
                                format!("{f}–{t} on {} overlaps exceptions[{m}]", e.date),
                            ));
                        }
                    }
                    _ => {
                        return Err((
                            ekey,
                            "expected either closed = true or both from and to".into(),
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_session(
    key: &str,
    from: TimeOfDay,
    to: TimeOfDay,
    slot_min: u32,
) -> Result<(), (String, String)> {
    if from >= to {
        return Err((key.to_owned(), format!("from {from} is not before to {to}")));
    }
    if to.minutes() - from.minutes() < slot_min {
        return Err((
            key.to_owned(),
            format!("{from}–{to} is shorter than one slot ({slot_min} minutes)"),
        ));
    }
    Ok(())
}

impl BookingRules {
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !(1..=60).contains(&self.booking_window_days) {
            return Err((
                "appointments.booking_window_days".into(),
                format!("{}: expected 1–60 days", self.booking_window_days),
            ));
        }
        if self.min_notice_min > 7 * 24 * 60 {
            return Err((
                "appointments.min_notice_min".into(),
                format!("{}: expected at most a week", self.min_notice_min),
            ));
        }
        for (key, minutes) in [
            ("appointments.arrival_early_min", self.arrival_early_min),
            ("appointments.arrival_late_min", self.arrival_late_min),
        ] {
            if minutes > 240 {
                return Err((
                    key.into(),
                    format!("{minutes}: the arrival window is at most 240 minutes each side"),
                ));
            }
        }
        Ok(())
    }

    /// Whether a resident may book `slot` at `now`, given how many bookings it holds.
    pub fn check_bookable(
        &self,
        slot: &Slot,
        booked: u32,
        now: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Result<(), SlotError> {
        if slot.start <= now {
            return Err(SlotError::Past(slot.id.clone()));
        }
        let notice = now
            .checked_add_signed(Duration::minutes(i64::from(self.min_notice_min)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if slot.start < notice {
            return Err(SlotError::TooSoon {
                id: slot.id.clone(),
                notice_min: self.min_notice_min,
            });
        }
        let last_day = local_date(now, offset)
            .checked_add_signed(Duration::days(i64::from(self.booking_window_days)))
            .unwrap_or(NaiveDate::MAX);
        if local_date(slot.start, offset) > last_day {
            return Err(SlotError::TooFar {
                id: slot.id.clone(),
                days: self.booking_window_days,
            });
        }
        if booked >= slot.capacity {
            return Err(SlotError::Full(slot.id.clone()));
        }
        Ok(())
    }

    /// Where `now` stands against the arrival window of an appointment starting at `start`.
    pub fn arrival(&self, start: DateTime<Utc>, now: DateTime<Utc>) -> Arrival {
        let opens = start
            .checked_sub_signed(Duration::minutes(i64::from(self.arrival_early_min)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let closes = start
            .checked_add_signed(Duration::minutes(i64::from(self.arrival_late_min)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if now < opens {
            Arrival::TooEarly { opens }
        } else if now > closes {
            Arrival::TooLate { closed: closes }
        } else {
            Arrival::InTime
        }
    }
}

/// The outcome of [`BookingRules::arrival`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    InTime,
    TooEarly { opens: DateTime<Utc> },
    TooLate { closed: DateTime<Utc> },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn lawyer() -> Provider {
        Provider {
            id: "lawyer-wang".into(),
            role: Role::Lawyer,
            name: Localized::new("王律师", "Lawyer Wang"),
            service: "legal".into(),
            slot_min: 30,
            capacity: 1,
            shifts: vec![
                Shift {
                    day: Day::Tue,
                    from: TimeOfDay::parse("09:00").unwrap(),
                    to: TimeOfDay::parse("11:15").unwrap(),
                },
                Shift {
                    day: Day::Thu,
                    from: TimeOfDay::parse("14:00").unwrap(),
                    to: TimeOfDay::parse("16:00").unwrap(),
                },
            ],
            exceptions: vec![],
        }
    }

    fn rules() -> BookingRules {
        BookingRules {
            booking_window_days: 7,
            min_notice_min: 120,
            arrival_early_min: 30,
            arrival_late_min: 15,
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shifts_are_cut_into_whole_slots_in_local_time() {
        // 2026-12-01 is a Tuesday.
        let slots = lawyer().slots_on(date("2026-12-01"), cst());
        let ids: Vec<_> = slots.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "lawyer-wang@2026-12-01T09:00",
                "lawyer-wang@2026-12-01T09:30",
                "lawyer-wang@2026-12-01T10:00",
                "lawyer-wang@2026-12-01T10:30"
            ]
        );
        assert_eq!(slots[0].start.to_rfc3339(), "2026-12-01T01:00:00+00:00");
        assert!(lawyer().slots_on(date("2026-12-02"), cst()).is_empty());
    }

    #[test]
    fn exceptions_close_days_and_add_sessions() {
        let mut p = lawyer();
        p.exceptions = vec![
            Exception {
                date: date("2026-12-01"),
                until: Some(date("2026-12-03")),
                closed: true,
                from: None,
                to: None,
            },
            Exception {
                date: date("2026-12-05"),
                until: None,
                closed: false,
                from: TimeOfDay::parse("10:00"),
                to: TimeOfDay::parse("11:00"),
            },
        ];
        assert!(p.slots_on(date("2026-12-01"), cst()).is_empty());
        assert!(p.slots_on(date("2026-12-03"), cst()).is_empty());
        // An extra session inside a closed run of days is offered all the same.
        p.exceptions.push(Exception {
            date: date("2026-12-02"),
            until: None,
            closed: false,
            from: TimeOfDay::parse("09:00"),
            to: TimeOfDay::parse("10:00"),
        });
        assert_eq!(p.slots_on(date("2026-12-02"), cst()).len(), 2);
        assert_eq!(p.slots_on(date("2026-12-05"), cst()).len(), 2);
        assert_eq!(p.slots_on(date("2026-12-08"), cst()).len(), 4);
        let roster = Roster { providers: vec![p] };
        assert!(roster.validate(&["legal"]).is_ok());
    }

    #[test]
    fn a_slot_id_names_one_slot_or_none() {
        let roster = Roster {
            providers: vec![lawyer()],
        };
        let s = roster.slot("lawyer-wang@2026-12-01T09:30", cst()).unwrap();
        assert_eq!(s.provider, "lawyer-wang");
        for bad in [
            "lawyer-wang@2026-12-01T09:15",
            "lawyer-wang@2026-12-02T09:00",
            "lawyer-li@2026-12-01T09:00",
            "nonsense",
            "lawyer-wang@2026-13-01T09:00",
        ] {
            assert!(
                matches!(roster.slot(bad, cst()), Err(SlotError::Unknown(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn booking_refuses_past_too_soon_too_far_and_full_each_with_its_reason() {
        let roster = Roster {
            providers: vec![lawyer()],
        };
        let slot = roster.slot("lawyer-wang@2026-12-01T10:00", cst()).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let r = rules();
        assert_eq!(
            r.check_bookable(&slot, 0, at("2026-12-01T10:30:00+08:00"), cst()),
            Err(SlotError::Past(slot.id.clone()))
        );
        assert!(matches!(
            r.check_bookable(&slot, 0, at("2026-12-01T08:30:00+08:00"), cst()),
            Err(SlotError::TooSoon { .. })
        ));
        assert!(matches!(
            r.check_bookable(&slot, 0, at("2026-11-20T08:30:00+08:00"), cst()),
            Err(SlotError::TooFar { .. })
        ));
        assert_eq!(
            r.check_bookable(&slot, 1, at("2026-11-30T08:30:00+08:00"), cst()),
            Err(SlotError::Full(slot.id.clone()))
        );
        assert_eq!(
            r.check_bookable(&slot, 0, at("2026-11-30T08:30:00+08:00"), cst()),
            Ok(())
        );
    }

    #[test]
    fn the_arrival_window_runs_from_early_to_late() {
        let start = DateTime::parse_from_rfc3339("2026-12-01T10:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let r = rules();
        assert!(matches!(
            r.arrival(start, start - Duration::minutes(31)),
            Arrival::TooEarly { .. }
        ));
        assert_eq!(
            r.arrival(start, start - Duration::minutes(30)),
            Arrival::InTime
        );
        assert_eq!(
            r.arrival(start, start + Duration::minutes(15)),
            Arrival::InTime
        );
        assert!(matches!(
            r.arrival(start, start + Duration::minutes(16)),
            Arrival::TooLate { .. }
        ));
    }

    #[test]
    fn a_roster_that_contradicts_itself_is_refused_with_the_place() {
        let mut p = lawyer();
        p.shifts.push(Shift {
            day: Day::Tue,
            from: TimeOfDay::parse("11:00").unwrap(),
            to: TimeOfDay::parse("12:00").unwrap(),
        });
        let r = Roster { providers: vec![p] };
        let (key, problem) = r.validate(&["legal"]).unwrap_err();
        assert_eq!(key, "providers[0].shifts[2]");
        assert!(problem.contains("overlaps shifts[0]"), "{problem}");

        let mut p = lawyer();
        p.shifts[1].to = TimeOfDay::parse("13:00").unwrap();
        let (key, problem) = Roster { providers: vec![p] }
            .validate(&["legal"])
            .unwrap_err();
        assert_eq!(key, "providers[0].shifts[1]");
        assert!(problem.contains("not before"), "{problem}");

        let r = Roster {
            providers: vec![lawyer(), lawyer()],
        };
        assert_eq!(r.validate(&["legal"]).unwrap_err().0, "providers[1].id");
        assert_eq!(
            Roster {
                providers: vec![lawyer()]
            }
            .validate(&["complaint"])
            .unwrap_err()
            .0,
            "providers[0].service"
        );
        let mut p = lawyer();
        p.exceptions.push(Exception {
            date: date("2026-12-01"),
            until: None,
            closed: false,
            from: TimeOfDay::parse("10:00"),
            to: TimeOfDay::parse("12:00"),
        });
        let (key, problem) = Roster { providers: vec![p] }
            .validate(&["legal"])
            .unwrap_err();
        assert_eq!(key, "providers[0].exceptions[0]");
        assert!(problem.contains("overlaps shifts[0]"), "{problem}");
    }

    #[test]
    fn times_of_day_parse_strictly() {
        assert_eq!(TimeOfDay::parse("9:05"), Some(TimeOfDay(545)));
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay(1440)));
        for bad in ["24:01", "12:60", "12", "ab:cd", "123:00", "12:5"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }
}
