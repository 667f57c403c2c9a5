//! Properties of the domain's input parsers, over generated inputs (issue 17, "every input
//! parser property-tested"): tracking codes, phone numbers, times of day, and the roster with its
//! calendar of exceptions as a station's file gives it. Cases are bounded so the whole file runs
//! in a few seconds; a failure prints the smallest input proptest found.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Timelike};
use proptest::prelude::*;

use domain::roster::{Day, Exception, Provider, Role, Roster, Shift, Slot, TimeOfDay};
use domain::{Localized, Phone, TokenError, TrackingToken};

/// Crockford's alphabet, as the slip prints it.
const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn token() -> impl Strategy<Value = TrackingToken> {
    any::<[u8; 10]>().prop_map(TrackingToken::from_random)
}

/// Text of every kind: ASCII, Chinese, controls, separators, and the characters a tracking code
/// reads specially (`O`, `I`, `L`, dashes).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9A-Za-z \\-_/:?#.]{0,40}",
        "[0-9A-HJKMNP-TV-Z]{15,19}",
        proptest::collection::vec(
            prop_oneof![
                Just('O'),
                Just('I'),
                Just('L'),
                Just('—'),
                Just('－'),
                Just('\u{3000}'),
                Just('中'),
                Just('\u{0}'),
                Just('7'),
            ],
            0..25
        )
        .prop_map(|v| v.into_iter().collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any code reads back from every form it is shown or typed in.
    #[test]
    fn a_code_round_trips_through_every_form(t in token(), base in "https?://[a-z0-9.]{1,20}(:[0-9]{2,5})?") {
        let canonical = t.as_str();
        prop_assert_eq!(canonical.len(), 17);
        prop_assert!(canonical.chars().all(|c| ALPHABET.contains(c)), "{}", canonical);
        prop_assert_eq!(TrackingToken::parse(canonical), Ok(t.clone()));
        prop_assert_eq!(TrackingToken::parse(&t.grouped()), Ok(t.clone()));
        prop_assert_eq!(TrackingToken::parse(&t.grouped().to_lowercase()), Ok(t.clone()));
        prop_assert_eq!(TrackingToken::parse(&format!("  {}\t", t.grouped().replace('-', " "))), Ok(t.clone()));
        let url = domain::tracking_url(&base, &t);
        prop_assert_eq!(TrackingToken::from_scan(&url), Ok(t.clone()));
        prop_assert_eq!(TrackingToken::from_scan(&format!("{url}?lang=en")), Ok(t.clone()));
        prop_assert_eq!(TrackingToken::from_scan(&domain::qr_payload(&url)), Ok(t.clone()));
    }

    /// Every single typo is caught: each of the 17 characters replaced by each other character
    /// of the alphabet.
    #[test]
    fn every_single_typo_is_caught(t in token()) {
        let chars: Vec<char> = t.as_str().chars().collect();
        for i in 0..chars.len() {
            for c in ALPHABET.chars().filter(|&c| c != chars[i]) {
                let mut typo = chars.clone();
                typo[i] = c;
                let typed: String = typo.into_iter().collect();
                prop_assert_eq!(
                    TrackingToken::parse(&typed),
                    Err(TokenError::CheckFailed),
                    "{} typed as {}", t.as_str(), typed
                );
            }
        }
    }

    /// Every swap of two different characters is caught: neighbours (the usual slip of the
    /// finger) and any two positions, the check character included.
    #[test]
    fn every_swap_is_caught(t in token()) {
        let chars: Vec<char> = t.as_str().chars().collect();
        for i in 0..chars.len() {
            for j in i + 1..chars.len() {
                if chars[i] == chars[j] {
                    continue;
                }
                let mut swapped = chars.clone();
                swapped.swap(i, j);
                let typed: String = swapped.into_iter().collect();
                prop_assert_eq!(
                    TrackingToken::parse(&typed),
                    Err(TokenError::CheckFailed),
                    "{} with {} and {} swapped", t.as_str(), i, j
                );
            }
        }
    }

    /// A character dropped or doubled is a wrong length, said with both lengths.
    #[test]
    fn a_character_dropped_or_doubled_is_a_wrong_length(t in token(), at in 0usize..17) {
        let s = t.as_str();
        let dropped = format!("{}{}", &s[..at], &s[at + 1..]);
        prop_assert_eq!(
            TrackingToken::parse(&dropped),
            Err(TokenError::WrongLength { found: 16, expected: 17 })
        );
        let doubled = format!("{}{}", &s[..=at], &s[at..]);
        prop_assert_eq!(
            TrackingToken::parse(&doubled),
            Err(TokenError::WrongLength { found: 18, expected: 17 })
        );
    }

    /// Arbitrary text never panics; what is accepted is canonical and reads back as itself, and
    /// a refusal says which character (by position among the code's characters) is wrong.
    #[test]
    fn arbitrary_text_never_panics_and_what_is_read_is_canonical(s in any_text()) {
        for read in [TrackingToken::parse(&s), TrackingToken::from_scan(&s)] {
            match read {
                Ok(t) => {
                    prop_assert_eq!(t.as_str().len(), 17);
                    prop_assert!(t.as_str().chars().all(|c| ALPHABET.contains(c)));
                    prop_assert_eq!(TrackingToken::parse(t.as_str()), Ok(t.clone()));
                }
                Err(TokenError::InvalidCharacter { found, position }) => {
                    prop_assert!(position >= 1 && position <= s.chars().count(), "{position} in {s:?}");
                    prop_assert!(s.contains(found), "{found:?} is not in {s:?}");
                    prop_assert!(!ALPHABET.contains(found.to_ascii_uppercase()));
                }
                Err(TokenError::WrongLength { found, expected }) => {
                    prop_assert_eq!(expected, 17);
                    prop_assert_ne!(found, 17);
                    prop_assert!(found <= s.chars().count());
                }
                Err(TokenError::Empty | TokenError::CheckFailed) => {}
            }
        }
    }

    /// A phone number: arbitrary text never panics; what is accepted is digits only, reads back
    /// as itself from its stored and its shown form, and its mask keeps the last four digits.
    #[test]
    fn phone_numbers_never_panic_and_accepted_ones_read_back(
        s in prop_oneof![any::<String>(), "(\\+86|0086)?[ \\-]?1[3-9][0-9]{9}", "0[1-9][0-9]{1,2}[ \\-]?[2-9][0-9]{6,7}", "[0-9 \\-+()（）０-９]{0,20}"]
    ) {
        if let Ok(p) = Phone::parse(&s) {
            prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_digit()), "{}", p.as_str());
            prop_assert_eq!(Phone::parse(p.as_str()), Ok(p.clone()));
            prop_assert_eq!(Phone::parse(&p.display()), Ok(p.clone()));
            let last4 = &p.as_str()[p.as_str().len() - 4..];
            prop_assert!(p.masked().ends_with(last4));
        }
    }

    /// A time of day is `H:MM` or `HH:MM` in digits, 00:00 to 24:00; anything else is refused,
    /// and what is accepted prints back as itself.
    #[test]
    fn a_time_of_day_is_digits_only_and_prints_back(s in prop_oneof![any::<String>(), "[0-9+\\- ]{1,3}:[0-9+\\- ]{1,3}", "[0-2]?[0-9]:[0-6][0-9]"]) {
        let shaped = {
            let t = s.trim();
            t.split_once(':').is_some_and(|(h, m)| {
                (1..=2).contains(&h.len()) && m.len() == 2
                    && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
            })
        };
        match TimeOfDay::parse(&s) {
            Some(t) => {
                prop_assert!(shaped, "{s:?} was read as {t}");
                prop_assert!(t.0 <= 24 * 60);
                let printed = t.to_string();
                prop_assert_eq!(TimeOfDay::parse(&printed), Some(t));
                let (h, m) = s.trim().split_once(':').unwrap();
                prop_assert_eq!(printed, format!("{:02}:{m}", h.parse::<u16>().unwrap()));
            }
            None => {
                if shaped {
                    let (h, m) = s.trim().split_once(':').unwrap();
                    let (h, m): (u16, u16) = (h.parse().unwrap(), m.parse().unwrap());
                    prop_assert!(m >= 60 || h > 24 || (h == 24 && m > 0), "{s:?} refused");
                }
            }
        }
    }
}

// ---- the roster and its calendar -----------------------------------------------------------

const SERVICES: [&str; 3] = ["legal", "counselling", "mediation"];

fn day() -> impl Strategy<Value = Day> {
    prop_oneof![
        Just(Day::Mon),
        Just(Day::Tue),
        Just(Day::Wed),
        Just(Day::Thu),
        Just(Day::Fri),
        Just(Day::Sat),
        Just(Day::Sun),
    ]
}

fn time() -> impl Strategy<Value = TimeOfDay> {
    prop_oneof![
        (0u16..=96).prop_map(|q| TimeOfDay(q * 15)),
        (0u16..=1440).prop_map(TimeOfDay),
    ]
}

/// Any date chrono can hold, mostly near now, sometimes at the ends of the calendar.
fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        8 => (0i64..120).prop_map(|d| NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + Duration::days(d)),
        1 => (0i64..10).prop_map(|d| NaiveDate::MAX - Duration::days(d)),
        1 => (0i64..10).prop_map(|d| NaiveDate::MIN + Duration::days(d)),
        1 => (-200_000i32..200_000, 1u32..=366).prop_filter_map("a real day", |(y, o)| NaiveDate::from_yo_opt(y, o)),
    ]
}

fn words() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{1,8}", "\\PC{0,6}", Just(String::new())]
}

fn exception() -> impl Strategy<Value = Exception> {
    (
        date(),
        proptest::option::of(0i64..30),
        any::<bool>(),
        proptest::option::of(time()),
        proptest::option::of(time()),
    )
        .prop_map(|(date, until, closed, from, to)| Exception {
            date,
            until: until.and_then(|n| date.checked_add_signed(Duration::days(n - 3))),
            closed,
            from,
            to,
        })
}

fn provider() -> impl Strategy<Value = Provider> {
    (
        prop_oneof!["[a-z][a-z0-9-]{0,12}", "\\PC{0,8}"],
        prop_oneof![
            Just(Role::Lawyer),
            Just(Role::Counsellor),
            Just(Role::Mediator)
        ],
        (words(), words()),
        prop_oneof![
            proptest::sample::select(SERVICES.to_vec()).prop_map(str::to_owned),
            words()
        ],
        prop_oneof![5u32..=120, 0u32..=2000],
        prop_oneof![1u32..=5, 0u32..=100],
        proptest::collection::vec((day(), time(), time()), 0..5),
        proptest::collection::vec(exception(), 0..4),
    )
        .prop_map(
            |(id, role, (zh, en), service, slot_min, capacity, shifts, exceptions)| Provider {
                id,
                role,
                name: Localized::new(&zh, &en),
                service,
                slot_min,
                capacity,
                shifts: shifts
                    .into_iter()
                    .map(|(day, from, to)| Shift { day, from, to })
                    .collect(),
                exceptions,
            },
        )
}

fn roster() -> impl Strategy<Value = Roster> {
    proptest::collection::vec(provider(), 0..4).prop_map(|providers| Roster { providers })
}

fn offset() -> impl Strategy<Value = FixedOffset> {
    prop_oneof![
        Just(8 * 3600),
        -12i32 * 3600..=14 * 3600,
        Just(-86_399),
        Just(86_399)
    ]
    .prop_map(|s| FixedOffset::east_opt(s).unwrap())
}

/// The slots a provider offers on `date`, written from the roster's documentation alone: the
/// weekly shifts of its weekday unless an exception closes the date, plus the extra sessions on
/// that date, each cut into whole slots from its start.
fn expected_starts(p: &Provider, date: NaiveDate) -> Vec<u32> {
    let weekday = match date.weekday() {
        chrono::Weekday::Mon => Day::Mon,
        chrono::Weekday::Tue => Day::Tue,
        chrono::Weekday::Wed => Day::Wed,
        chrono::Weekday::Thu => Day::Thu,
        chrono::Weekday::Fri => Day::Fri,
        chrono::Weekday::Sat => Day::Sat,
        chrono::Weekday::Sun => Day::Sun,
    };
    let closed = p
        .exceptions
        .iter()
        .any(|e| e.closed && e.date <= date && date <= e.until.unwrap_or(e.date));
    let mut sessions: Vec<(u32, u32)> = Vec::new();
    if !closed {
        sessions.extend(
            p.shifts
                .iter()
                .filter(|s| s.day == weekday)
                .map(|s| (u32::from(s.from.0), u32::from(s.to.0))),
        );
    }
    for e in &p.exceptions {
        if let (false, true, Some(f), Some(t)) = (e.closed, e.date == date, e.from, e.to) {
            sessions.push((u32::from(f.0), u32::from(t.0)));
        }
    }
    let mut starts = Vec::new();
    for (from, to) in sessions {
        let mut at = from;
        while at + p.slot_min <= to {
            starts.push(at);
            at += p.slot_min;
        }
    }
    starts.sort();
    starts
}

fn local_minutes(slot: &Slot, offset: FixedOffset) -> (NaiveDate, u32) {
    let local = slot.start.with_timezone(&offset);
    (local.date_naive(), local.hour() * 60 + local.minute())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A roster written to a station's TOML file reads back the same, and so does its JSON form
    /// (the hub's `RosterDocument` carries the same providers).
    #[test]
    fn a_roster_round_trips_through_its_file(r in roster()) {
        let text = toml::to_string(&r).expect("a roster serialises");
        let back: Roster = toml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, r);
    }

    /// Checking a roster never panics and names the key at fault; a roster that passes gives,
    /// on every date, exactly the slots its shifts and its calendar of exceptions say, each one
    /// found again by its id.
    #[test]
    fn a_checked_roster_offers_exactly_its_slots(r in roster(), first in date(), days in 0u32..10, offset in offset()) {
        match r.validate(&SERVICES) {
            Err((key, problem)) => {
                prop_assert!(key.starts_with("providers["), "{key}: {problem}");
                prop_assert!(!problem.is_empty());
                let i: usize = key["providers[".len()..].split(']').next().unwrap().parse().unwrap();
                prop_assert!(i < r.providers.len());
            }
            Ok(()) => {
                let slots = r.slots(None, first, days, offset);
                prop_assert!(slots.windows(2).all(|w| w[0].start <= w[1].start));
                for p in &r.providers {
                    for d in 0..days {
                        let Some(date) = first.checked_add_signed(Duration::days(i64::from(d))) else {
                            continue;
                        };
                        let got: Vec<u32> = slots
                            .iter()
                            .filter(|s| s.provider == p.id && s.id.contains(&format!("@{}T", date.format("%Y-%m-%d"))))
                            .map(|s| {
                                let (local_date, minutes) = local_minutes(s, offset);
                                prop_assert_eq!(local_date, date);
                                prop_assert_eq!((s.end - s.start).num_minutes(), i64::from(p.slot_min));
                                prop_assert_eq!(s.capacity, p.capacity);
                                prop_assert_eq!(&r.slot(&s.id, offset), &Ok(s.clone()));
                                Ok(minutes)
                            })
                            .collect::<Result<_, TestCaseError>>()?;
                        let mut got = got;
                        got.sort();
                        // At the very ends of the calendar some slots cannot be expressed as
                        // instants: those are left out, never invented.
                        let expected = expected_starts(p, date);
                        if date.year().abs() < 200_000 {
                            prop_assert_eq!(got, expected, "{} on {}", p.id, date);
                        } else {
                            prop_assert!(got.iter().all(|m| expected.contains(m)));
                        }
                    }
                }
            }
        }
    }

    /// A slot id as someone types it (the command line's `booking new <slot>`) never panics,
    /// whatever the date, the time or the station's offset, and is either a slot of the roster
    /// or refused as unknown.
    #[test]
    fn any_slot_id_is_found_or_refused(
        r in roster(),
        who in prop_oneof!["[a-z][a-z0-9-]{0,12}", Just("lawyer-zhang".to_owned())],
        at in date(),
        t in time(),
        noise in prop_oneof![Just(String::new()), "\\PC{0,4}"],
        offset in offset(),
    ) {
        let ids = [
            format!("{who}@{}T{t}", at.format("%Y-%m-%d")),
            format!("{who}@{}T{t}{noise}", at.format("%Y-%m-%d")),
            format!("{noise}@{noise}T{noise}"),
            noise.clone(),
        ];
        for id in ids {
            if let Ok(slot) = r.slot(&id, offset) {
                prop_assert_eq!(slot.id, id.trim());
            }
        }
        for p in &r.providers {
            let id = format!("{}@{}T{t}", p.id, at.format("%Y-%m-%d"));
            let _ = r.slot(&id, offset);
            let _ = p.sessions(at);
        }
    }

    /// The station's local date of any instant, at any offset, never panics and is the date
    /// chrono gives wherever chrono can say it.
    #[test]
    fn the_local_date_of_any_instant_never_panics(
        seconds in prop_oneof![
            any::<i64>(),
            Just(chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp()),
            Just(chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp()),
        ],
        offset in offset(),
    ) {
        let Some(at) = chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, 0) else {
            return Ok(());
        };
        let date = domain::roster::local_date(at, offset);
        if at.year().abs() < 200_000 {
            prop_assert_eq!(date, at.with_timezone(&offset).date_naive());
        }
        let rules = domain::roster::BookingRules {
            booking_window_days: 60,
            min_notice_min: 7 * 24 * 60,
            arrival_early_min: 240,
            arrival_late_min: 240,
        };
        let _ = rules.arrival(at, at);
    }

    /// Arbitrary TOML never panics the roster's reader, and a refusal names where it failed.
    #[test]
    fn arbitrary_toml_never_panics_the_roster(text in prop_oneof![
        any::<String>(),
        roster().prop_map(|r| toml::to_string(&r).unwrap()).prop_flat_map(|t| {
            let n = t.len();
            (Just(t), 0..=n, "\\PC{0,3}")
        }).prop_map(|(t, at, junk)| {
            let at = (0..=at).rev().find(|&i| t.is_char_boundary(i)).unwrap_or(0);
            format!("{}{junk}{}", &t[..at], &t[at..])
        }),
    ]) {
        if let Err(e) = toml::from_str::<Roster>(&text) {
            prop_assert!(!e.message().is_empty());
        }
    }
}

// ---- what the properties found, kept as plain examples ----------------------------------------

/// A roster of one lawyer, `a`, working `from`–`to` every day in slots of `slot_min` minutes
/// (not validated: the tests give it what a file could not).
fn every_day(slot_min: u32, from: TimeOfDay, to: TimeOfDay) -> Roster {
    Roster {
        providers: vec![Provider {
            id: "a".into(),
            role: Role::Lawyer,
            name: Localized::new("a", "a"),
            service: "legal".into(),
            slot_min,
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
            .map(|day| Shift { day, from, to })
            .collect(),
            exceptions: Vec::new(),
        }],
    }
}

/// Found by `any_slot_id_is_found_or_refused`: a roster with slots of no minutes (one that was
/// never validated) cut each session into empty slots without end, until the memory ran out.
#[test]
fn a_roster_with_slots_of_no_minutes_offers_none_instead_of_running_out_of_memory() {
    let r = every_day(0, TimeOfDay(9 * 60), TimeOfDay(12 * 60));
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    assert!(r.slot("a@2026-06-02T09:00", offset).is_err());
    assert!(r.validate(&["legal"]).is_err(), "and validation refuses it");
}

/// Found by `any_slot_id_is_found_or_refused`: a slot id typed with a date at the end of the
/// calendar, on a day the provider works, overflowed chrono and panicked the kiosk.
#[test]
fn a_slot_at_the_end_of_the_calendar_is_refused_not_a_panic() {
    let r = every_day(5, TimeOfDay(0), TimeOfDay(1440));
    for (day, seconds) in [
        (NaiveDate::MAX - Duration::days(1), -86_399),
        (NaiveDate::MAX, -3600),
        (NaiveDate::MAX, 8 * 3600),
        (NaiveDate::MIN, 8 * 3600),
        (NaiveDate::MIN, -3600),
    ] {
        let offset = FixedOffset::east_opt(seconds).unwrap();
        for time in ["00:00", "23:55"] {
            let id = format!("a@{}T{time}", day.format("%Y-%m-%d"));
            // Found when an instant can hold it, refused otherwise; never a panic.
            if let Ok(slot) = r.slot(&id, offset) {
                assert_eq!(slot.id, id);
                assert_eq!(domain::roster::local_date(slot.start, offset), day);
            }
        }
        let _ = r.slots(None, day, 5, offset);
    }
    // The day the property shrank to: +262142-12-31, a Monday, at UTC−23:59:59.
    let offset = FixedOffset::east_opt(-86_399).unwrap();
    assert!(r.slot("a@+262142-12-31T00:00", offset).is_err());
}

/// Found by `a_time_of_day_is_digits_only_and_prints_back`: `0:+0` and `9:+5` were read as
/// times (Rust's integer parser takes a leading `+`).
#[test]
fn a_time_of_day_with_a_sign_is_refused() {
    for s in ["0:+0", "9:+5", "+9:05", "-0:00", " 9: 5"] {
        assert_eq!(TimeOfDay::parse(s), None, "{s:?}");
    }
    assert_eq!(TimeOfDay::parse("9:05"), Some(TimeOfDay(545)));
}

/// Found by the configuration's `any_number_is_accepted_or_refused_by_name`: a late arrival
/// window over 240 minutes was blamed on `appointments.arrival_early_min`.
#[test]
fn each_arrival_window_is_blamed_by_its_own_key() {
    let rules = |early, late| domain::roster::BookingRules {
        booking_window_days: 7,
        min_notice_min: 60,
        arrival_early_min: early,
        arrival_late_min: late,
    };
    assert_eq!(
        rules(30, 65_536).validate().unwrap_err().0,
        "appointments.arrival_late_min"
    );
    assert_eq!(
        rules(241, 15).validate().unwrap_err().0,
        "appointments.arrival_early_min"
    );
    assert!(rules(240, 240).validate().is_ok());
}
