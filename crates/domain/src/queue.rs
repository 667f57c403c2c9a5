//! The walk-in queue: who is called next, how many are ahead of a ticket, and the honest wait
//! range. Pure: the caller passes the waiting tickets, the time and the station's history.
//!
//! ## The ordering rule
//!
//! Among the tickets waiting (in one lane, or across the lanes a counter serves), the next one
//! called is, in this order:
//!
//! 1. **The guard**: a ticket that has already been passed over `max_passed_over` times (someone
//!    who arrived after it was called first) goes before anything else, oldest first. Nobody waits
//!    forever behind a stream of priority tickets and appointments.
//! 2. **Appointments at their time**: a checked-in appointment whose slot has begun, earliest
//!    slot first.
//! 3. **Priority** (elderly, disabled, pregnant: self-declared), by arrival.
//! 4. **Everyone else** by arrival, including an appointment checked in before its slot began.
//!
//! "Arrival" is the order tickets were taken (a counter in the database), never a clock reading,
//! so a clock that jumps cannot reorder the queue. Calling a ticket passes over every waiting
//! ticket that arrived before it.

use chrono::{DateTime, Utc};

/// What kind of ticket it is, for the ordering rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Walkin,
    Priority,
    /// A checked-in appointment, with its slot's start.
    Appointment {
        at: DateTime<Utc>,
    },
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Walkin => "walkin",
            TicketKind::Priority => "priority",
            TicketKind::Appointment { .. } => "appointment",
        }
    }
}

/// A waiting ticket, as the ordering rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// Arrival order: smaller arrived earlier.
    pub arrival: i64,
    pub kind: TicketKind,
    /// How many times someone who arrived later was called first.
    pub passed_over: u32,
}

/// The station's queue rules (`[queue]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueRules {
    /// The guard: after this many times passed over, a ticket goes first.
    pub max_passed_over: u32,
}

/// Rank of a ticket: smaller is called first.
fn rank(t: &Waiting, now: DateTime<Utc>, rules: QueueRules) -> (u8, i64, i64) {
    if t.passed_over >= rules.max_passed_over {
        return (0, t.arrival, 0);
    }
    match t.kind {
        TicketKind::Appointment { at } if at <= now => (1, at.timestamp(), t.arrival),
        TicketKind::Priority => (2, t.arrival, 0),
        _ => (3, t.arrival, 0),
    }
}

/// The index in `waiting` of the ticket called next, if any.
pub fn next(waiting: &[Waiting], now: DateTime<Utc>, rules: QueueRules) -> Option<usize> {
    (0..waiting.len()).min_by_key(|&i| rank(&waiting[i], now, rules))
}

/// The arrivals of the tickets that calling `chosen` passes over: those waiting that arrived
/// before it.
pub fn passed_over_by(waiting: &[Waiting], chosen: usize) -> Vec<i64> {
    let a = waiting[chosen].arrival;
    waiting
        .iter()
        .filter(|t| t.arrival < a)
        .map(|t| t.arrival)
        .collect()
}

/// The order in which the waiting tickets will be called if nobody else arrives: the rule
/// applied call after call (the guard included). Returns arrivals, first called first.
pub fn order(waiting: &[Waiting], now: DateTime<Utc>, rules: QueueRules) -> Vec<i64> {
    let mut left: Vec<Waiting> = waiting.to_vec();
    let mut out = Vec::with_capacity(left.len());
    while let Some(i) = next(&left, now, rules) {
        let chosen = left.remove(i);
        for t in left.iter_mut() {
            if t.arrival < chosen.arrival {
                t.passed_over += 1;
            }
        }
        out.push(chosen.arrival);
    }
    out
}

/// How many will be called before the ticket that arrived as `arrival` (None: not waiting).
pub fn ahead_of(
    waiting: &[Waiting],
    arrival: i64,
    now: DateTime<Utc>,
    rules: QueueRules,
) -> Option<u32> {
    order(waiting, now, rules)
        .iter()
        .position(|&a| a == arrival)
        .map(|p| p as u32)
}

/// The fewest finished services a lane needs before the kiosk dares to estimate a wait.
pub(crate) const MIN_HISTORY: usize = 5;

/// The wait range in whole minutes for a ticket with `ahead` people before it, from the
/// lane's recent service times in seconds (called to done). `None` when there is too little
/// history to be honest about it. The range runs from `ahead` quick services (the lower
/// quartile) to `ahead + 1` slow ones (the upper quartile), rounded out to 5 minutes.
pub fn wait_range(ahead: u32, service_secs: &[u32]) -> Option<(u32, u32)> {
    if service_secs.len() < MIN_HISTORY {
        return None;
    }
    let mut s = service_secs.to_vec();
    s.sort_unstable();
    let q = |p: usize| f64::from(s[(s.len() - 1) * p / 100]);
    let low = f64::from(ahead) * q(25) / 60.0;
    let high = f64::from(ahead + 1) * q(75) / 60.0;
    let low = (low / 5.0).floor() as u32 * 5;
    let high = ((high / 5.0).ceil() as u32 * 5).max(low + 5);
    Some((low, high))
}

/// The median of the lane's service times in seconds (`None` below [`MIN_HISTORY`]).
pub fn median_service_s(service_secs: &[u32]) -> Option<u32> {
    if service_secs.len() < MIN_HISTORY {
        return None;
    }
    let mut s = service_secs.to_vec();
    s.sort_unstable();
    Some(s[s.len() / 2])
}

/// A ticket's printed and called form: lane letter and three digits, `C003`.
pub fn ticket_label(lane: char, number: u32) -> String {
    format!("{lane}{number:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const RULES: QueueRules = QueueRules { max_passed_over: 3 };

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn w(arrival: i64, kind: TicketKind) -> Waiting {
        Waiting {
            arrival,
            kind,
            passed_over: 0,
        }
    }

    #[test]
    fn appointments_at_their_time_then_priority_then_arrival() {
        let due = TicketKind::Appointment {
            at: now() - Duration::minutes(5),
        };
        let early = TicketKind::Appointment {
            at: now() + Duration::minutes(20),
        };
        let q = [
            w(1, TicketKind::Walkin),
            w(2, early),
            w(3, TicketKind::Priority),
            w(4, TicketKind::Walkin),
            w(5, due),
        ];
        assert_eq!(
            order(
                &q,
                now(),
                QueueRules {
                    max_passed_over: 99
                }
            ),
            [5, 3, 1, 2, 4]
        );
        // When the early appointment's time comes it goes ahead of everyone.
        let later = now() + Duration::minutes(20);
        assert_eq!(
            order(
                &q,
                later,
                QueueRules {
                    max_passed_over: 99
                }
            ),
            [5, 2, 3, 1, 4]
        );
    }

    #[test]
    fn the_guard_calls_a_ticket_passed_over_too_often() {
        // One walk-in, then a stream of priority tickets: with the guard at 3 the walk-in is
        // called fourth at the latest, not last.
        let mut q = vec![w(1, TicketKind::Walkin)];
        for a in 2..=10 {
            q.push(w(a, TicketKind::Priority));
        }
        let o = order(&q, now(), RULES);
        assert_eq!(&o[..4], &[2, 3, 4, 1]);
        assert_eq!(ahead_of(&q, 1, now(), RULES), Some(3));
        // Without the guard it would have been last.
        let unguarded = order(
            &q,
            now(),
            QueueRules {
                max_passed_over: u32::MAX,
            },
        );
        assert_eq!(unguarded.last(), Some(&1));
    }

    #[test]
    fn the_guard_holds_when_priority_tickets_keep_arriving() {
        // Call after call, with a new priority ticket arriving after each: the walk-in is
        // called after exactly max_passed_over others.
        let mut q = vec![w(1, TicketKind::Walkin), w(2, TicketKind::Priority)];
        let mut called = Vec::new();
        for next_arrival in 3..9 {
            let i = next(&q, now(), RULES).unwrap();
            let over = passed_over_by(&q, i);
            let chosen = q.remove(i);
            for t in q.iter_mut() {
                if over.contains(&t.arrival) {
                    t.passed_over += 1;
                }
            }
            called.push(chosen.arrival);
            q.push(w(next_arrival, TicketKind::Priority));
        }
        let pos = called.iter().position(|&a| a == 1).unwrap();
        assert_eq!(pos, 3, "{called:?}");
    }

    #[test]
    fn ahead_counts_who_is_called_first() {
        let q = [
            w(1, TicketKind::Walkin),
            w(2, TicketKind::Walkin),
            w(3, TicketKind::Priority),
        ];
        assert_eq!(ahead_of(&q, 3, now(), RULES), Some(0));
        assert_eq!(ahead_of(&q, 1, now(), RULES), Some(1));
        assert_eq!(ahead_of(&q, 2, now(), RULES), Some(2));
        assert_eq!(ahead_of(&q, 9, now(), RULES), None);
        assert_eq!(next(&[], now(), RULES), None);
    }

    #[test]
    fn the_wait_range_needs_history_and_widens_with_the_queue() {
        assert_eq!(wait_range(3, &[600, 600, 600, 600]), None);
        let history = [300, 420, 480, 600, 660, 900, 1200];
        let (lo0, hi0) = wait_range(0, &history).unwrap();
        assert_eq!(lo0, 0);
        assert!(hi0 >= 5);
        let (lo3, hi3) = wait_range(3, &history).unwrap();
        assert!(lo3 >= 15 && lo3 < hi3, "{lo3}–{hi3}");
        assert_eq!(lo3 % 5, 0);
        assert_eq!(hi3 % 5, 0);
        assert!(hi3 > hi0);
        assert_eq!(median_service_s(&history), Some(600));
    }

    #[test]
    fn tickets_read_as_lane_and_three_digits() {
        assert_eq!(ticket_label('C', 3), "C003");
        assert_eq!(ticket_label('A', 120), "A120");
    }
}
