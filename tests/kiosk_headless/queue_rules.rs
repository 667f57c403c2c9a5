//! Appointments and the walk-in queue against a real SQLite file, with the clock in the test's
//! hands: the ordering rule, the guard against starvation, the arrival window, the midnight
//! reset, a clock that jumps back, a restart mid-day, races for the last place in a slot, and the
//! staff PIN's lockout surviving a restart. Every operation is the one the screens and the CLI
//! call.

use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::queue::TicketKind;
use domain::roster::{Day, Provider, Role, Shift, SlotError, TimeOfDay};
use domain::{Language, Localized};
use protocol::TicketState;
use station::config::KioskConfig;
use station::kiosk::{
    station_day, station_offset, Kiosk, KioskError, PinCheck, QueueError, TicketView,
};

/// A station whose lawyer works every day around the clock in 30-minute slots, so that any
/// time the test picks has slots.
fn config(dir: &std::path::Path) -> Arc<KioskConfig> {
    let mut c = KioskConfig::builtin();
    c.data_dir = dir.to_owned();
    let all_day = |day| Shift {
        day,
        from: TimeOfDay::parse("00:00").unwrap(),
        to: TimeOfDay::parse("24:00").unwrap(),
    };
    c.roster.providers = vec![Provider {
        id: "lawyer-test".into(),
        role: Role::Lawyer,
        name: Localized::new("测试律师", "Test lawyer"),
        service: "legal".into(),
        slot_min: 30,
        capacity: 1,
        shifts: [
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ]
        .into_iter()
        .map(all_day)
        .collect(),
        exceptions: vec![],
    }];
    c.appointments.min_notice_min = 60;
    Arc::new(c)
}

/// Local time `hh:mm` on the station's `day` (the system's time zone, as the kiosk uses).
fn at(day: NaiveDate, hh: u32, mm: u32) -> DateTime<Utc> {
    let guess = Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap());
    let offset = station_offset(guess);
    offset
        .from_local_datetime(&day.and_hms_opt(hh, mm, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

fn slot(day: NaiveDate, hh: u32, mm: u32) -> String {
    format!("lawyer-test@{}T{hh:02}:{mm:02}", day.format("%Y-%m-%d"))
}

fn take(k: &mut Kiosk, service: &str, priority: bool, now: DateTime<Utc>) -> TicketView {
    k.take_ticket(service, priority, None, Language::Zh, now)
        .unwrap()
}

fn call(k: &mut Kiosk, service: &str, now: DateTime<Utc>) -> String {
    k.call_next(1, Some(service), now).unwrap().ticket.label
}

fn queue_err(e: KioskError) -> QueueError {
    match e {
        KioskError::Queue(q) => q,
        other => panic!("expected a queue error, got {other}"),
    }
}

#[test]
fn appointments_at_their_time_go_first_then_priority_then_arrival() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    let booked = k
        .book(
            "legal",
            &slot(d, 10, 30),
            "13800138000",
            Language::Zh,
            "resident",
            at(d, 9, 0),
        )
        .unwrap();
    assert_eq!(
        take(&mut k, "legal", false, at(d, 10, 0)).ticket.label,
        "C001"
    );
    assert_eq!(
        take(&mut k, "legal", false, at(d, 10, 1)).ticket.label,
        "C002"
    );
    assert_eq!(
        take(&mut k, "legal", true, at(d, 10, 2)).ticket.label,
        "C003"
    );
    let checked_in = k.check_in(booked.token.as_str(), at(d, 10, 5)).unwrap();
    assert_eq!(checked_in.ticket.label, "C004");
    assert!(matches!(
        checked_in.ticket.kind,
        TicketKind::Appointment { .. }
    ));
    assert_eq!(
        take(&mut k, "legal", false, at(d, 10, 6)).ticket.label,
        "C005"
    );

    // Before its time the appointment waits by arrival: the priority ticket goes first.
    assert_eq!(call(&mut k, "legal", at(d, 10, 10)), "C003");
    // At its time it goes before everyone.
    assert_eq!(call(&mut k, "legal", at(d, 10, 31)), "C004");
    assert_eq!(call(&mut k, "legal", at(d, 10, 40)), "C001");
    assert_eq!(call(&mut k, "legal", at(d, 10, 50)), "C002");
    assert_eq!(call(&mut k, "legal", at(d, 11, 0)), "C005");
    let e = queue_err(k.call_next(1, Some("legal"), at(d, 11, 5)).unwrap_err());
    assert!(matches!(e, QueueError::NobodyWaiting(_)), "{e}");
}

#[test]
fn the_guard_calls_an_ordinary_ticket_after_it_was_passed_over_three_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    let first = take(&mut k, "mediation", false, at(d, 9, 0));
    for i in 0..8 {
        take(&mut k, "mediation", true, at(d, 9, 1 + i));
    }
    // Three priority tickets will be called before it, not eight.
    let now = at(d, 9, 10);
    let view = k.ticket_view(first.ticket.clone(), now).unwrap();
    assert_eq!(view.ahead, Some(3));
    let calls: Vec<String> = (0..5)
        .map(|i| call(&mut k, "mediation", at(d, 9, 20 + i)))
        .collect();
    assert_eq!(calls, ["B002", "B003", "B004", "B001", "B005"]);
}

#[test]
fn check_in_is_accepted_only_inside_the_arrival_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    let b = k
        .book(
            "legal",
            &slot(d, 10, 30),
            "13800138000",
            Language::En,
            "resident",
            at(d, 8, 0),
        )
        .unwrap();
    let code = b.token.grouped();
    // The default window: 30 minutes early to 15 minutes late.
    let e = queue_err(k.check_in(&code, at(d, 9, 59)).unwrap_err());
    assert!(matches!(e, QueueError::TooEarly { .. }), "{e}");
    assert!(e.to_string().contains("10:00"), "{e}");
    let e = queue_err(k.check_in(&code, at(d, 10, 46)).unwrap_err());
    assert!(matches!(e, QueueError::TooLate { .. }), "{e}");
    let t = k.check_in(&code, at(d, 10, 0)).unwrap();
    assert!(matches!(t.ticket.kind, TicketKind::Appointment { .. }));
    assert_eq!(t.ticket.language, "en");
    let e = queue_err(k.check_in(&code, at(d, 10, 1)).unwrap_err());
    assert!(matches!(e, QueueError::AlreadyCheckedIn(_)), "{e}");
    // A cancelled booking cannot be checked in.
    let b2 = k
        .book(
            "legal",
            &slot(d, 14, 0),
            "13900139000",
            Language::Zh,
            "resident",
            at(d, 8, 0),
        )
        .unwrap();
    k.cancel_booking(b2.token.as_str(), "resident", at(d, 9, 0))
        .unwrap();
    let e = queue_err(k.check_in(b2.token.as_str(), at(d, 13, 50)).unwrap_err());
    assert!(matches!(e, QueueError::Cancelled(_)), "{e}");
}

#[test]
fn numbers_start_again_at_local_midnight_and_a_clock_jump_back_reuses_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    assert_eq!(
        take(&mut k, "complaint", false, at(d, 23, 58)).ticket.label,
        "A001"
    );
    assert_eq!(
        take(&mut k, "complaint", false, at(d, 23, 59)).ticket.label,
        "A002"
    );
    let next_day = d.succ_opt().unwrap();
    let after = at(next_day, 0, 1);
    assert_eq!(station_day(after), next_day);
    let fresh = take(&mut k, "complaint", false, after);
    assert_eq!(fresh.ticket.label, "A001");
    assert_eq!(
        fresh.ahead,
        Some(0),
        "yesterday's tickets are not ahead of today's"
    );
    let lanes = k.queue_lanes(after).unwrap();
    let a = lanes.iter().find(|l| l.lane == 'A').unwrap();
    assert_eq!(a.waiting.len(), 1);
    assert_eq!(call(&mut k, "complaint", after), "A001");
    assert_eq!(
        k.find_ticket("a001", after).unwrap().token,
        fresh.ticket.token
    );

    // The clock jumps back an hour within the new day: numbering and order carry on.
    take(&mut k, "complaint", false, at(next_day, 9, 0));
    take(&mut k, "complaint", false, at(next_day, 9, 1));
    let jumped = take(&mut k, "complaint", false, at(next_day, 8, 0));
    assert_eq!(jumped.ticket.label, "A004");
    assert_eq!(jumped.ahead, Some(2));
    assert_eq!(call(&mut k, "complaint", at(next_day, 8, 5)), "A002");
}

#[test]
fn a_restart_mid_day_keeps_the_queue_and_the_counters() {
    let dir = tempfile::tempdir().unwrap();
    let d = day();
    let before = {
        let mut k = Kiosk::open(config(dir.path())).unwrap();
        take(&mut k, "legal", false, at(d, 9, 0));
        take(&mut k, "legal", false, at(d, 9, 1));
        take(&mut k, "legal", true, at(d, 9, 2));
        take(&mut k, "complaint", false, at(d, 9, 3));
        assert_eq!(call(&mut k, "legal", at(d, 9, 5)), "C003");
        k.queue_lanes(at(d, 9, 6)).unwrap()
    };
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let after = k.queue_lanes(at(d, 9, 6)).unwrap();
    assert_eq!(before, after);
    assert_eq!(
        k.ticket_or_counter(None, Some(1), at(d, 9, 6))
            .unwrap()
            .label,
        "C003"
    );
    // The passes counted before the restart still count for the guard.
    let c001 = k.find_ticket("C001", at(d, 9, 6)).unwrap();
    assert_eq!(c001.passed_over, 1);
    assert_eq!(call(&mut k, "legal", at(d, 9, 10)), "C001");
    let c003 = k.find_ticket("C003", at(d, 9, 10)).unwrap();
    assert_eq!(
        c003.state,
        TicketState::Served,
        "calling next finishes the counter's last ticket"
    );
}

#[test]
fn no_show_needs_enough_calls_and_transfer_keeps_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    take(&mut k, "legal", false, at(d, 9, 0));
    take(&mut k, "mediation", false, at(d, 9, 1));
    take(&mut k, "legal", false, at(d, 9, 2));
    assert_eq!(call(&mut k, "legal", at(d, 9, 5)), "C001");
    let t = k.ticket_or_counter(None, Some(1), at(d, 9, 6)).unwrap();
    let e = queue_err(k.no_show(&t, at(d, 9, 6)).unwrap_err());
    assert!(matches!(e, QueueError::TooFewCalls { .. }), "{e}");
    let recalled = k.recall(1, at(d, 9, 7)).unwrap();
    assert_eq!(recalled.ticket.calls, 2);
    let gone = k.no_show(&recalled.ticket, at(d, 9, 8)).unwrap();
    assert_eq!(gone.ticket.state, TicketState::NoShow);
    let e = queue_err(k.recall(1, at(d, 9, 9)).unwrap_err());
    assert!(matches!(e, QueueError::CounterIdle(1)), "{e}");

    // C002 moves to mediation; it arrived after B001, so it waits behind it there.
    let c2 = k.find_ticket("C002", at(d, 9, 10)).unwrap();
    let moved = k.transfer(&c2, "mediation", at(d, 9, 10)).unwrap();
    assert_eq!(moved.ticket.lane, "B");
    assert_eq!(moved.ahead, Some(1));
    assert_eq!(call(&mut k, "mediation", at(d, 9, 11)), "B001");
    assert_eq!(call(&mut k, "mediation", at(d, 9, 12)), "C002");
    let e = queue_err(k.call_next(9, None, at(d, 9, 12)).unwrap_err());
    assert!(matches!(e, QueueError::NoCounter { counter: 9, .. }), "{e}");
}

#[test]
fn the_wait_range_appears_once_the_lane_has_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    let mut now = at(d, 8, 0);
    for _ in 0..5 {
        let t = take(&mut k, "assistance", false, now);
        assert_eq!(t.wait, None, "no estimate without history");
        call(&mut k, "assistance", now);
        now += Duration::minutes(10);
        let at_counter = k.ticket_or_counter(None, Some(1), now).unwrap();
        k.done(&at_counter, now).unwrap();
    }
    take(&mut k, "assistance", false, now);
    let t = take(&mut k, "assistance", false, now);
    assert_eq!(t.ahead, Some(1));
    let (lo, hi) = t
        .wait
        .expect("five services of ten minutes make an estimate");
    assert!(lo <= 10 && hi >= 20, "{lo}–{hi}");
}

#[test]
fn booking_refusals_each_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    let now = at(d, 9, 0);
    let book = |k: &mut Kiosk, s: &str, phone: &str| {
        k.book("legal", s, phone, Language::Zh, "cli", now)
            .map_err(queue_err)
    };
    book(&mut k, &slot(d, 11, 0), "13800138000").unwrap();
    let twice = book(&mut k, &slot(d, 12, 0), "138 0013 8000").unwrap_err();
    assert!(matches!(twice, QueueError::PhoneHasBooking(_)), "{twice}");
    let full = book(&mut k, &slot(d, 11, 0), "13900139000").unwrap_err();
    assert_eq!(full, QueueError::Slot(SlotError::Full(slot(d, 11, 0))));
    let past = book(&mut k, &slot(d, 8, 0), "13900139000").unwrap_err();
    assert_eq!(past, QueueError::Slot(SlotError::Past(slot(d, 8, 0))));
    let soon = book(&mut k, &slot(d, 9, 30), "13900139000").unwrap_err();
    assert!(
        matches!(soon, QueueError::Slot(SlotError::TooSoon { .. })),
        "{soon}"
    );
    let far = book(&mut k, &slot(d + Duration::days(20), 9, 30), "13900139000").unwrap_err();
    assert!(
        matches!(far, QueueError::Slot(SlotError::TooFar { .. })),
        "{far}"
    );
    let unknown = book(&mut k, &slot(d, 9, 45), "13900139000").unwrap_err();
    assert!(
        matches!(unknown, QueueError::Slot(SlotError::Unknown(_))),
        "{unknown}"
    );
    let phone = book(&mut k, &slot(d, 13, 0), "12").unwrap_err();
    assert!(matches!(phone, QueueError::Phone(_)), "{phone}");
    let wrong = k
        .book(
            "mediation",
            &slot(d, 13, 0),
            "13900139000",
            Language::Zh,
            "cli",
            now,
        )
        .map_err(queue_err)
        .unwrap_err();
    assert!(matches!(wrong, QueueError::WrongService { .. }), "{wrong}");
    // All messages differ.
    let messages: std::collections::HashSet<String> = [twice, full, past, soon, far, unknown]
        .iter()
        .map(|e| {
            e.to_string()
                .replace(&slot(d, 11, 0), "")
                .replace(&slot(d, 8, 0), "")
        })
        .collect();
    assert_eq!(messages.len(), 6);
    // After cancelling, the phone may book again and the slot is free again.
    let slots = k.booking_slots("legal", 1, now).unwrap();
    let eleven = slots.iter().find(|s| s.slot.id == slot(d, 11, 0)).unwrap();
    assert_eq!(eleven.free, 0);
    let mine = k.bookings_of_day(now).unwrap();
    k.cancel_booking(&mine[0].token, "staff", now).unwrap();
    book(&mut k, &slot(d, 11, 0), "13800138000").unwrap();
}

#[test]
fn two_screens_racing_for_the_last_place_have_exactly_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    Kiosk::open(cfg.clone()).unwrap();
    let d = day();
    let now = at(d, 6, 0);
    for round in 0..12u32 {
        let s = slot(d, 8 + round / 2, (round % 2) * 30);
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (cfg, s, barrier) = (cfg.clone(), s.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut k = Kiosk::open(cfg).unwrap();
                    barrier.wait();
                    k.book(
                        "legal",
                        &s,
                        &format!("1380013{round:02}{i:02}"),
                        Language::Zh,
                        "resident",
                        now,
                    )
                    .map_err(queue_err)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(QueueError::Slot(SlotError::Full(_))))));
    }
    let k = Kiosk::open(cfg).unwrap();
    assert_eq!(k.bookings_of_day(now).unwrap().len(), 12);
}

#[test]
fn a_code_that_is_not_ours_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let stranger = station::kiosk::new_token().unwrap();
    let e = queue_err(k.check_in(stranger.as_str(), at(day(), 9, 0)).unwrap_err());
    assert!(matches!(e, QueueError::NoBooking(_)), "{e}");
    assert!(matches!(
        k.code_kind(stranger.as_str()).unwrap(),
        station::kiosk::CodeKind::Unknown
    ));
    assert!(matches!(
        k.check_in("NOT-A-CODE", at(day(), 9, 0)),
        Err(KioskError::Token(_))
    ));
}

#[test]
fn five_wrong_pins_lock_the_staff_mode_and_a_restart_does_not_unlock_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let now = at(day(), 9, 0);
    {
        let mut k = Kiosk::open(cfg.clone()).unwrap();
        assert_eq!(k.check_pin("240517", now).unwrap(), PinCheck::NotSet);
        k.set_pin("240517", now).unwrap();
        for left in (1..=4).rev() {
            assert_eq!(
                k.check_pin("000000", now).unwrap(),
                PinCheck::Wrong { left }
            );
        }
        let locked = k.check_pin("999999", now).unwrap();
        assert_eq!(
            locked,
            PinCheck::Locked {
                until: now + Duration::seconds(60)
            }
        );
    }
    // A new process: still locked, even for the right PIN.
    let mut k = Kiosk::open(cfg.clone()).unwrap();
    assert!(matches!(
        k.check_pin("240517", now + Duration::seconds(30)).unwrap(),
        PinCheck::Locked { .. }
    ));
    // After the lock, one more wrong PIN locks again, twice as long.
    let later = now + Duration::seconds(61);
    assert_eq!(
        k.check_pin("111222", later).unwrap(),
        PinCheck::Locked {
            until: later + Duration::seconds(120)
        }
    );
    let much_later = later + Duration::seconds(121);
    assert_eq!(
        k.check_pin("240517", much_later).unwrap(),
        PinCheck::Accepted
    );
    // A success clears the count.
    assert_eq!(
        k.check_pin("000000", much_later).unwrap(),
        PinCheck::Wrong { left: 4 }
    );
    let log = k.audit_log(20).unwrap();
    assert!(log.iter().any(|e| e.action == "sign-in"));
    assert_eq!(
        log.iter().filter(|e| e.action == "sign-in-failed").count(),
        7
    );
}

#[test]
fn attendance_is_recorded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let now = at(day(), 9, 0);
    k.attendance("lawyer-test", true, now).unwrap();
    assert!(matches!(
        k.attendance("lawyer-test", true, now),
        Err(KioskError::Staff(_))
    ));
    assert!(matches!(
        k.attendance("nobody", true, now),
        Err(KioskError::Staff(_))
    ));
    assert_eq!(k.on_duty().unwrap(), vec![("lawyer-test".to_owned(), now)]);
    let (state, _) = k.station_state(now).unwrap();
    assert_eq!(state.on_duty.len(), 1);
    k.attendance("lawyer-test", false, now + Duration::hours(3))
        .unwrap();
    assert!(k.on_duty().unwrap().is_empty());
}

#[test]
fn wrong_pins_typed_at_once_on_two_screens_are_all_counted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let now = at(day(), 9, 0);
    Kiosk::open(cfg.clone())
        .unwrap()
        .set_pin("240517", now)
        .unwrap();
    let barrier = Arc::new(Barrier::new(5));
    let handles: Vec<_> = (0..5)
        .map(|i| {
            let (cfg, barrier) = (cfg.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut k = Kiosk::open(cfg).unwrap();
                barrier.wait();
                k.check_pin(&format!("90000{i}"), now).unwrap()
            })
        })
        .collect();
    let answers: Vec<PinCheck> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Each attempt saw the failures before it: 4, 3, 2, 1 left, then the lock, in some order.
    let mut lefts: Vec<u32> = answers
        .iter()
        .filter_map(|a| match a {
            PinCheck::Wrong { left } => Some(*left),
            _ => None,
        })
        .collect();
    lefts.sort();
    assert_eq!(lefts, [1, 2, 3, 4], "{answers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|a| matches!(a, PinCheck::Locked { .. }))
            .count(),
        1
    );
    let mut k = Kiosk::open(cfg).unwrap();
    assert!(matches!(
        k.check_pin("240517", now).unwrap(),
        PinCheck::Locked { .. }
    ));
    // A clock set back a year does not lock staff out for a year: a day at most.
    let year_ago = now - Duration::days(365);
    let until = k.staff_locked_until(year_ago).unwrap().unwrap();
    assert!(until <= year_ago + Duration::days(1), "{until}");
    let log = k.audit_log(20).unwrap();
    assert!(log.iter().any(|e| e.action == "sign-in-refused"));
}

#[test]
fn a_ticket_that_moved_on_is_not_finished_by_a_stale_screen_and_yesterday_is_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Kiosk::open(config(dir.path())).unwrap();
    let d = day();
    take(&mut k, "legal", false, at(d, 9, 0));
    take(&mut k, "legal", false, at(d, 9, 1));
    assert_eq!(call(&mut k, "legal", at(d, 9, 2)), "C001");
    k.recall(1, at(d, 9, 3)).unwrap();
    // Counter 1's screen still shows C001 as called when the CLI moves it to mediation.
    let stale = k.ticket_or_counter(None, Some(1), at(d, 9, 4)).unwrap();
    let moved = k.transfer(&stale, "mediation", at(d, 9, 4)).unwrap();
    assert_eq!((moved.ticket.calls, moved.ticket.passed_over), (0, 0));
    let e = queue_err(k.no_show(&stale, at(d, 9, 5)).unwrap_err());
    assert!(matches!(e, QueueError::WrongState { .. }), "{e}");
    let e = queue_err(k.done(&stale, at(d, 9, 5)).unwrap_err());
    assert!(matches!(e, QueueError::WrongState { .. }), "{e}");
    assert_eq!(
        k.find_ticket("C001", at(d, 9, 6)).unwrap().state,
        TicketState::Waiting
    );

    // C002 is left at counter 2 when the day ends.
    k.call_next(2, Some("legal"), at(d, 17, 0)).unwrap();
    let tomorrow = at(d.succ_opt().unwrap(), 8, 0);
    let e = queue_err(k.recall(2, tomorrow).unwrap_err());
    assert!(matches!(e, QueueError::CounterIdle(2)), "{e}");
    assert!(k.last_calls(5, tomorrow).unwrap().is_empty());
    take(&mut k, "legal", false, tomorrow);
    assert_eq!(
        k.call_next(2, Some("legal"), tomorrow)
            .unwrap()
            .ticket
            .label,
        "C001"
    );
    assert_eq!(k.last_calls(5, tomorrow).unwrap().len(), 1);
}
