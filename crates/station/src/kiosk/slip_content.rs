//! What a case's slip says: the words, in the resident's language, handed to the printer's
//! layout. No personal data ever gets here: no phone, no name, no description.

use chrono::{DateTime, Datelike, FixedOffset, Local, TimeZone, Utc};

use crate::config::KioskConfig;
use crate::store::{StoredBooking, StoredTicket};
use domain::queue::TicketKind;
use domain::{
    lane_words, names_role, qr_payload, t, tracking_url, Case, Language, RiskLevel, Service, Shown,
    TrackingToken,
};
use slip::layout::{SlipContent, SlipFeature};

/// The slip of a filed case.
pub fn slip_content(case: &Case, config: &KioskConfig, language: Language) -> SlipContent {
    let service = config.catalogue.service(&case.service);
    let service_line = match service {
        Some(s) => service_line(s, &case.subtype, language),
        None => case.service.clone(),
    };
    let next_steps = service
        .map(|s| s.next_steps.get(language).to_owned())
        .unwrap_or_default();
    let mut content = build(
        config,
        language,
        service_line,
        next_steps,
        &case.token,
        case.created_at,
    );
    if case.risk.level == RiskLevel::High {
        content.emergency = emergency_lines(config, language);
    }
    content
}

/// The emergency numbers as a high-risk case's slip prints them: a heading, then each number
/// with its name, in the station's order.
pub fn emergency_lines(config: &KioskConfig, language: Language) -> Vec<String> {
    std::iter::once(t!(language, "紧急求助电话").to_owned())
        .chain(
            config
                .emergency
                .iter()
                .map(|e| format!("{}  {}", e.number, e.label.get(language))),
        )
        .collect()
}

/// A slip for a made-up case, for `slip render --sample` and `printer test`.
pub fn sample_slip_content(config: &KioskConfig, language: Language) -> SlipContent {
    let token = TrackingToken::from_random([0x5a; domain::token::RANDOM_BYTES]);
    let (line, steps) = match config.catalogue.services.first() {
        Some(s) => (
            service_line(
                s,
                s.subtypes.first().map_or("other", |t| t.id.as_str()),
                language,
            ),
            s.next_steps.get(language).to_owned(),
        ),
        None => (String::new(), String::new()),
    };
    build(config, language, line, steps, &token, config.clock.now())
}

/// "投诉建议 · 噪音"; for a discreet service only its lane ("D 队"), so that a slip left on a
/// counter tells nobody what the resident came for.
fn service_line(service: &Service, subtype: &str, language: Language) -> String {
    if let Shown::Lane(lane) = service.shown() {
        return lane_words(lane, language);
    }
    match service.subtype(subtype) {
        Some(t) => format!("{} · {}", service.name.get(language), t.name.get(language)),
        None => service.name.get(language).to_owned(),
    }
}

/// The "your number" block of a ticket: its number large, who is ahead, the wait range.
fn ticket_feature(
    ticket: &StoredTicket,
    ahead: Option<u32>,
    wait: Option<(u32, u32)>,
    language: Language,
) -> SlipFeature {
    let mut lines = Vec::new();
    if ahead == Some(0) {
        lines.push(t!(language, "下一位就是您").to_owned());
    } else if let Some(a) = ahead {
        lines.push(match wait {
            Some((lo, hi)) => t!(language, "前面还有 {} 人 · 约 {}–{} 分钟", a, lo, hi),
            None => t!(language, "前面还有 {} 人", a),
        });
    }
    if wait.is_none() && ahead.is_some_and(|a| a > 0) {
        lines.push(t!(language, "等候时间暂时无法估计").to_owned());
    }
    if matches!(ticket.kind, TicketKind::Appointment { .. }) {
        lines.push(t!(language, "预约已签到").to_owned());
    }
    lines.push(t!(language, "请留意叫号屏和广播").to_owned());
    SlipFeature {
        label: t!(language, "您的号码").to_owned(),
        big: ticket.label.clone(),
        lines,
    }
}

/// A queue ticket's slip. Joined to a case, the slip carries the case's code and QR (the case
/// lasts longer than the queue); alone, the ticket's own code, whose page shows its place.
pub fn ticket_slip_content(
    ticket: &StoredTicket,
    case: Option<&Case>,
    ahead: Option<u32>,
    wait: Option<(u32, u32)>,
    config: &KioskConfig,
    language: Language,
) -> SlipContent {
    let feature = ticket_feature(ticket, ahead, wait, language);
    if let Some(case) = case {
        let mut content = slip_content(case, config, language);
        content.feature = Some(feature);
        return content;
    }
    let service_line = match config
        .catalogue
        .service(&ticket.service)
        .map(Service::shown)
    {
        Some(Shown::Named(s)) => s.name.get(language).to_owned(),
        _ => lane_words(&ticket.lane, language),
    };
    let token = TrackingToken::parse(&ticket.token)
        .unwrap_or_else(|_| TrackingToken::from_random([0; domain::token::RANDOM_BYTES]));
    let mut content = build(
        config,
        language,
        service_line,
        String::new(),
        &token,
        ticket.taken_at,
    );
    content.feature = Some(feature);
    content.code_label = t!(language, "排队码").to_owned();
    content.qr_caption = t!(language, "手机扫码查看排队进度").to_owned();
    content.next_steps = vec![t!(language, "过号请到服务台重新取号。").to_owned()];
    content
}

/// An appointment's slip: when (at the station's `offset`), with whom (the provider's `role`;
/// only the lane for a discreet service), and how to check in.
pub fn booking_slip_content(
    booking: &StoredBooking,
    role: Option<domain::roster::Role>,
    offset: FixedOffset,
    config: &KioskConfig,
    language: Language,
) -> SlipContent {
    let service = config.catalogue.service(&booking.service);
    let lane = service.map(|s| s.lane.to_string()).unwrap_or_default();
    // A discreet service's lane is already the service line: no second "D 队".
    let who = match (names_role(service), role) {
        (true, Some(r)) => Some(r.word(language).to_owned()),
        _ => None,
    };
    let service_line = match service.map(Service::shown) {
        Some(Shown::Named(s)) => s.name.get(language).to_owned(),
        _ => lane_words(&lane, language),
    };
    let local = booking.start.with_timezone(&offset);
    // Chinese (either script) writes the date in its words, "12月5日"; English as "5 Dec".
    let big = if language.is_chinese() {
        format!(
            "{} {}",
            t!(language, "{}月{}日", local.month(), local.day()),
            local.format("%H:%M")
        )
    } else {
        local.format("%-d %b %H:%M").to_string()
    };
    let early = config.appointments.arrival_early_min;
    let late = config.appointments.arrival_late_min;
    let token = TrackingToken::parse(&booking.token)
        .unwrap_or_else(|_| TrackingToken::from_random([0; domain::token::RANDOM_BYTES]));
    let mut content = build(
        config,
        language,
        service_line,
        String::new(),
        &token,
        booking.created_at,
    );
    content.feature = Some(SlipFeature {
        label: t!(language, "slip" => "预约时间").to_owned(),
        big,
        lines: who
            .into_iter()
            .chain([t!(
                language,
                "请在 {}–{} 到站扫描本单签到",
                (local - chrono::Duration::minutes(i64::from(early))).format("%H:%M"),
                (local + chrono::Duration::minutes(i64::from(late))).format("%H:%M")
            )])
            .collect(),
    });
    content.code_label = t!(language, "预约码").to_owned();
    content.qr_caption = t!(language, "手机扫码查看预约").to_owned();
    content.next_steps =
        vec![t!(language, "不能来请在服务站扫描本单取消，把时间留给别人。").to_owned()];
    content
}

/// One slip of every kind, on fixed codes, ids and times, whatever the machine's clock and time
/// zone: a complaint's case in Chinese, the same case in English and in Traditional Chinese, a
/// high-risk case with the emergency numbers, a queue ticket and an appointment. The slip's
/// golden bytes (`slip_bytes_are_the_reference_bytes`) and `cargo bench --bench slip` print these.
pub fn specimen_slips(config: &KioskConfig) -> Vec<(&'static str, SlipContent)> {
    use domain::case::NewCaseIdentity;
    use protocol::{BookingState, TicketState};

    // Tuesday 2 June 2026, 10:00 at a station on UTC+8 (the screenshots' morning).
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is an offset");
    let at = offset
        .with_ymd_and_hms(2026, 6, 2, 10, 0, 0)
        .single()
        .expect("a time that exists")
        .with_timezone(&Utc);
    let token = |byte: u8| TrackingToken::from_random([byte; domain::token::RANDOM_BYTES]);
    let case = |language: Language, description: &str| {
        let identity = NewCaseIdentity {
            id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            token: token(7),
            created_at: at,
            station_id: config.station.id.clone(),
        };
        complaint_about_noise(config, language, description, identity).ok()
    };
    let ticket = StoredTicket {
        id: 1,
        token: token(9).to_string(),
        day: at.with_timezone(&offset).date_naive(),
        lane: "A".into(),
        number: 12,
        label: "A012".into(),
        service: "complaint".into(),
        kind: TicketKind::Walkin,
        booking_id: None,
        case_id: None,
        state: TicketState::Waiting,
        passed_over: 0,
        calls: 0,
        counter: None,
        language: Language::Zh.code().into(),
        taken_at: at,
        called_at: None,
        done_at: None,
    };
    let booking = StoredBooking {
        id: "specimen".into(),
        token: token(11).to_string(),
        service: "legal".into(),
        provider: "lawyer-1".into(),
        slot_id: "slot-1".into(),
        start: at + chrono::Duration::minutes(30),
        end: at + chrono::Duration::minutes(60),
        phone: None,
        state: BookingState::Booked,
        language: Language::Zh.code().into(),
        created_at: at,
    };
    let noise = "楼上装修，晚上很吵。";
    let mut slips = Vec::new();
    for (kind, language, description) in [
        ("case", Language::Zh, noise),
        ("case-en", Language::En, noise),
        ("case-zh-hant", Language::ZhHant, noise),
        ("high-risk", Language::Zh, "他说要杀了我"),
    ] {
        if let Some(case) = case(language, description) {
            slips.push((kind, slip_content(&case, config, language)));
        }
    }
    slips.push((
        "ticket",
        ticket_slip_content(&ticket, None, Some(3), Some((5, 9)), config, Language::Zh),
    ));
    slips.push((
        "appointment",
        booking_slip_content(
            &booking,
            Some(domain::roster::Role::Lawyer),
            offset,
            config,
            Language::Zh,
        ),
    ));
    // The time the slip was issued is written in the machine's zone: fix it too.
    let issued = at
        .with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    for (_, content) in &mut slips {
        content.issued_at.clone_from(&issued);
    }
    slips
}

/// A resident's complaint about noise saying `description`, through the kiosk's own intake
/// rules: the specimens' case, and the tests'.
fn complaint_about_noise(
    config: &KioskConfig,
    language: Language,
    description: &str,
    identity: domain::case::NewCaseIdentity,
) -> Result<Case, domain::CaseError> {
    let rules = domain::case::IntakeRules {
        catalogue: &config.catalogue,
        risk: &config.risk,
        consent_version: &config.consent.version,
    };
    let draft = domain::CaseDraft {
        service: "complaint".into(),
        subtype: Some("noise".into()),
        description: description.into(),
        anonymous: true,
        consent_version: Some(config.consent.version.clone()),
        language,
        ..domain::CaseDraft::default()
    };
    Case::from_draft(&draft, &rules, identity)
}

fn build(
    config: &KioskConfig,
    language: Language,
    service_line: String,
    next_steps: String,
    token: &TrackingToken,
    at: DateTime<Utc>,
) -> SlipContent {
    SlipContent {
        heading: config.station.network.get(language).to_owned(),
        station_name: config.station.name.get(language).to_owned(),
        service_line,
        issued_at: at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        code_label: t!(language, "查询码").to_owned(),
        code: token.grouped(),
        qr_payload: qr_payload(&tracking_url(&config.upstream.tracking_base_url, token)),
        qr_caption: t!(language, "手机扫码查看办理进度").to_owned(),
        feature: None,
        next_steps: vec![next_steps],
        emergency: Vec::new(),
        hotline: t!(language, "服务热线 {}", config.station.hotline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::case::NewCaseIdentity;
    use protocol::TicketState;

    fn noise_case(config: &KioskConfig, language: Language) -> Case {
        case_saying(config, language, "楼上装修，晚上很吵。")
    }

    fn case_saying(config: &KioskConfig, language: Language, description: &str) -> Case {
        let identity = NewCaseIdentity {
            id: uuid::Uuid::now_v7(),
            token: TrackingToken::from_random([7; domain::token::RANDOM_BYTES]),
            created_at: Utc::now(),
            station_id: config.station.id.clone(),
        };
        complaint_about_noise(config, language, description, identity).expect("a valid case")
    }

    fn walk_in(language: Language) -> StoredTicket {
        StoredTicket {
            id: 1,
            token: TrackingToken::from_random([9; domain::token::RANDOM_BYTES]).to_string(),
            day: Utc::now().date_naive(),
            lane: "A".into(),
            number: 12,
            label: "A012".into(),
            service: "complaint".into(),
            kind: TicketKind::Walkin,
            booking_id: None,
            case_id: None,
            state: TicketState::Waiting,
            passed_over: 0,
            calls: 0,
            counter: None,
            language: language.code().into(),
            taken_at: Utc::now(),
            called_at: None,
            done_at: None,
        }
    }

    /// The bytes each built-in printer gets for each kind of slip are the ones kept in
    /// `tests/reference/slips/` (`<profile>-<kind>.bin`). A change to the layout or the encoder
    /// that is meant writes them anew with `UPDATE_SLIPS=1`, to be rendered and looked at
    /// (`grievance-kiosk slip render`) before it is committed.
    #[test]
    fn slip_bytes_are_the_reference_bytes() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/reference/slips");
        let update = std::env::var_os("UPDATE_SLIPS").is_some();
        let specimens = specimen_slips(&KioskConfig::builtin());
        let kinds: Vec<&str> = specimens.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [
                "case",
                "case-en",
                "case-zh-hant",
                "high-risk",
                "ticket",
                "appointment"
            ]
        );
        let mut differences = Vec::new();
        let mut names = Vec::new();
        for profile in slip::profile::builtin_profiles() {
            for (kind, content) in &specimens {
                let bytes =
                    slip::escpos::encode(&slip::layout::layout(content, &profile), &profile);
                let name = format!("{}-{kind}.bin", profile.id);
                let path = dir.join(&name);
                names.push(name.clone());
                if update {
                    std::fs::create_dir_all(&dir).expect("the reference directory");
                    std::fs::write(&path, &bytes).expect("a reference slip written");
                    continue;
                }
                let kept = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!("{}: {e} (UPDATE_SLIPS=1 writes it)", path.display())
                });
                if kept != bytes {
                    let first = kept
                        .iter()
                        .zip(&bytes)
                        .position(|(a, b)| a != b)
                        .unwrap_or(kept.len().min(bytes.len()));
                    differences.push(format!(
                        "{name}: {} bytes, the reference {}; the first difference at byte {first}",
                        bytes.len(),
                        kept.len()
                    ));
                }
            }
        }
        assert!(differences.is_empty(), "{differences:#?}");
        let mut kept: Vec<String> = std::fs::read_dir(&dir)
            .expect("the reference directory")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        kept.sort();
        names.sort();
        assert_eq!(kept, names, "a reference slip of no profile or kind");
    }

    /// Every word of a slip, one string.
    fn words(content: &SlipContent) -> String {
        let mut all = vec![
            content.heading.clone(),
            content.station_name.clone(),
            content.service_line.clone(),
            content.code_label.clone(),
            content.qr_caption.clone(),
            content.hotline.clone(),
        ];
        all.extend(content.next_steps.iter().cloned());
        all.extend(content.emergency.iter().cloned());
        if let Some(f) = &content.feature {
            all.push(f.label.clone());
            all.extend(f.lines.iter().cloned());
        }
        all.join("\n")
    }

    #[test]
    fn a_high_risk_case_slip_carries_every_emergency_number_and_no_other_slip_does() {
        let config = KioskConfig::builtin();
        for language in Language::ALL {
            let case = case_saying(&config, language, "他说要杀了我");
            assert_eq!(case.risk.level, RiskLevel::High);
            let printed = words(&slip_content(&case, &config, language));
            assert!(
                config.emergency.len() >= 4,
                "110, 120, 12356 and the station's own"
            );
            for e in &config.emergency {
                assert!(
                    printed.contains(&format!("{}  {}", e.number, e.label.get(language))),
                    "{language:?}: {} missing from\n{printed}",
                    e.number
                );
            }
            let calm = words(&slip_content(
                &noise_case(&config, language),
                &config,
                language,
            ));
            assert!(!calm.contains(&config.emergency[0].number), "{calm}");
        }
    }

    #[test]
    fn a_case_slip_in_traditional_chinese_says_its_words_in_traditional_characters() {
        let config = KioskConfig::builtin();
        let case = noise_case(&config, Language::ZhHant);
        let hant = words(&slip_content(&case, &config, Language::ZhHant));
        assert!(hant.contains("查詢碼"), "{hant}");
        assert!(hant.contains("進度"), "{hant}");
        assert!(hant.contains("服務熱線"), "{hant}");
        // Its Simplified twin is unchanged.
        let hans = words(&slip_content(&case, &config, Language::Zh));
        assert!(
            hans.contains("查询码") && hans.contains("办理进度"),
            "{hans}"
        );
        assert!(hans.contains("服务热线"), "{hans}");
    }

    #[test]
    fn a_ticket_slip_in_traditional_chinese_says_its_words_in_traditional_characters() {
        let config = KioskConfig::builtin();
        let ticket = walk_in(Language::ZhHant);
        let content = ticket_slip_content(
            &ticket,
            None,
            Some(3),
            Some((5, 9)),
            &config,
            Language::ZhHant,
        );
        let hant = words(&content);
        assert!(hant.contains("您的號碼"), "{hant}");
        assert!(hant.contains("排隊進度"), "{hant}");
        assert!(hant.contains("前面還有 3 人"), "{hant}");
        assert_eq!(content.code_label, "排隊碼");
        let english = words(&ticket_slip_content(
            &ticket,
            None,
            Some(3),
            None,
            &config,
            Language::En,
        ));
        assert!(english.contains("3 ahead of you\n"), "{english}");
        assert!(
            english.contains("Scan with a phone to see your place"),
            "{english}"
        );
        let missed = domain::words::missed();
        assert!(
            !missed.iter().any(|(l, _)| *l != Language::Zh),
            "words missing from a catalogue: {missed:?}"
        );
    }

    #[test]
    fn a_booking_slip_labels_its_time_in_each_language() {
        let config = KioskConfig::builtin();
        let start = "2030-12-05T01:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let booking = StoredBooking {
            id: "b1".into(),
            token: TrackingToken::from_random([3; domain::token::RANDOM_BYTES]).to_string(),
            service: "legal".into(),
            provider: "zhang".into(),
            slot_id: "s1".into(),
            start,
            end: start + chrono::Duration::minutes(30),
            phone: None,
            state: protocol::BookingState::Booked,
            language: "zh-Hant".into(),
            created_at: Utc::now(),
        };
        let feature = |language| {
            booking_slip_content(
                &booking,
                None,
                crate::kiosk::queue::station_offset(start),
                &config,
                language,
            )
            .feature
            .expect("a booking slip has its time")
        };
        let local = start.with_timezone(&crate::kiosk::queue::station_offset(start));
        let (hant, hans, en) = (
            feature(Language::ZhHant),
            feature(Language::Zh),
            feature(Language::En),
        );
        assert_eq!(hant.label, "預約時間");
        assert_eq!(hans.label, "预约时间");
        assert_eq!(
            en.label, "Appointment",
            "the slip's own word, not the screen's"
        );
        assert_eq!(hans.big, local.format("%-m月%-d日 %H:%M").to_string());
        assert_eq!(
            hant.big, hans.big,
            "Traditional writes the date the Chinese way"
        );
        assert_eq!(en.big, local.format("%-d %b %H:%M").to_string());
        assert!(
            hant.lines.iter().any(|l| l.contains("簽到")),
            "{:?}",
            hant.lines
        );
        // The arrival window in clock times: 30 minutes before to 15 after, by the built-in
        // station's rules.
        let window = format!(
            "Come between {} and {} and scan this slip to check in",
            (local - chrono::Duration::minutes(30)).format("%H:%M"),
            (local + chrono::Duration::minutes(15)).format("%H:%M")
        );
        assert_eq!(en.lines.last(), Some(&window));
    }
}
