//! When the district's deadlines raise their steps (DISTRICT.md §6): for every deadline (to
//! accept a case, to resolve it, to reply to an order, to arrive), a reminder at 75 % of the
//! time, a chase (催办) when it passes, and supervision (督办) a working day after that, or at
//! once for an order's arrival (a department not on site when ordered escalates straight away).
//! Pure: the hub's scheduler asks [`steps`] and records each step once.

use chrono::{DateTime, Utc};

use crate::calendar::{Calendar, Span};

/// A step raised on a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Reminder,
    Chase,
    Supervision,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Reminder, Step::Chase, Step::Supervision];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Reminder => "reminder",
            Step::Chase => "chase",
            Step::Supervision => "supervision",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A deadline being watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// `accept`, `resolve`, `reply:<order>`, `arrive:<order>`.
    pub name: String,
    /// The unit that must act (and is chased).
    pub unit: String,
    /// When the time started (the routing, the order's issue).
    pub start: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// How the time is counted: working time skips nights and holidays for the reminder.
    pub span: Span,
    /// Supervision at the deadline itself instead of a working day later.
    pub supervise_at_once: bool,
}

/// Every step of a deadline and when it falls.
pub fn steps(w: &Watched, calendar: &Calendar) -> [(Step, DateTime<Utc>); 3] {
    let reminder = w.span.part_way(w.start, w.due, 75, calendar).min(w.due);
    let supervision = if w.supervise_at_once {
        w.due
    } else {
        calendar.add_working_days(w.due, 1)
    };
    [
        (Step::Reminder, reminder),
        (Step::Chase, w.due),
        (Step::Supervision, supervision),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn at(text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        (naive - chrono::Duration::hours(8)).and_utc()
    }

    #[test]
    fn a_general_case_is_reminded_chased_then_supervised_a_working_day_later() {
        let cal = Calendar::builtin();
        // Routed on Thursday 24 September 2026 at 15:00: 4 working hours to accept end on
        // Monday 28 September (25–27 are the Mid-Autumn holiday) at 10:30.
        let start = at("2026-09-24 15:00");
        let span = Span::WorkingMinutes(240);
        let due = span.end(start, &cal);
        assert_eq!(due, at("2026-09-28 10:30"));
        let w = Watched {
            name: "accept".into(),
            unit: "gm-north".into(),
            start,
            due,
            span,
            supervise_at_once: false,
        };
        let [(_, reminder), (_, chase), (_, supervision)] = steps(&w, &cal);
        // 3 of the 4 working hours: 2.5 h on Thursday, then half an hour on Monday.
        assert_eq!(reminder, at("2026-09-28 09:30"));
        assert_eq!(chase, due);
        assert_eq!(supervision, at("2026-09-29 10:30"));
    }

    #[test]
    fn a_late_arrival_is_supervised_at_once() {
        let cal = Calendar::builtin();
        let w = Watched {
            name: "arrive:1".into(),
            unit: "housing".into(),
            start: at("2026-06-02 10:00"),
            due: at("2026-06-02 14:00"),
            span: Span::Minutes(240),
            supervise_at_once: true,
        };
        let s = steps(&w, &cal);
        assert_eq!(s[0], (Step::Reminder, at("2026-06-02 13:00")));
        assert_eq!(s[1].1, at("2026-06-02 14:00"));
        assert_eq!(s[2], (Step::Supervision, at("2026-06-02 14:00")));
    }
}
