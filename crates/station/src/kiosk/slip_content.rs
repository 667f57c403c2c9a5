//! What a case's slip says: the words, in the resident's language, handed to the printer's
//! layout. No personal data ever gets here: no phone, no name, no description.

use chrono::{DateTime, Local, Utc};

use crate::config::KioskConfig;
use crate::store::{StoredBooking, StoredTicket};
use domain::queue::TicketKind;
use domain::{
    lane_words, names_role, qr_payload, tracking_url, Case, Language, Service, Shown, TrackingToken,
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
    build(
        config,
        language,
        service_line,
        next_steps,
        &case.token,
        case.created_at,
    )
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
    build(config, language, line, steps, &token, Utc::now())
}

/// "投诉建议 · 噪音"; for a discreet service only its lane ("服务 D"), so that a slip left on a
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
    let zh = language == Language::Zh;
    let mut lines = Vec::new();
    if ahead == Some(0) {
        lines.push(
            if zh {
                "下一位就是您"
            } else {
                "You are next"
            }
            .to_owned(),
        );
    } else if let Some(a) = ahead {
        lines.push(match (zh, wait) {
            (true, Some((lo, hi))) => format!("前面还有 {a} 人 · 约 {lo}–{hi} 分钟"),
            (true, None) => format!("前面还有 {a} 人"),
            (false, Some((lo, hi))) => format!("{a} ahead of you · about {lo}–{hi} min"),
            (false, None) => format!("{a} ahead of you"),
        });
    }
    if wait.is_none() && ahead.is_some_and(|a| a > 0) {
        lines.push(
            if zh {
                "等候时间暂时无法估计"
            } else {
                "Not enough history yet to estimate the wait"
            }
            .to_owned(),
        );
    }
    if matches!(ticket.kind, TicketKind::Appointment { .. }) {
        lines.push(
            if zh {
                "预约已签到"
            } else {
                "Appointment checked in"
            }
            .to_owned(),
        );
    }
    lines.push(
        if zh {
            "请留意叫号屏和广播"
        } else {
            "Watch the screen for your number"
        }
        .to_owned(),
    );
    SlipFeature {
        label: if zh { "您的号码" } else { "Your number" }.to_owned(),
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
    let zh = language == Language::Zh;
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
    content.code_label = if zh { "排队码" } else { "Queue code" }.to_owned();
    content.qr_caption = if zh {
        "手机扫码查看排队进度"
    } else {
        "Scan with a phone to see your place"
    }
    .to_owned();
    content.next_steps = vec![if zh {
        "过号请到服务台重新取号。".to_owned()
    } else {
        "If you miss your call, ask at the desk.".to_owned()
    }];
    content
}

/// An appointment's slip: when, with whom (the provider's `role`; only the lane for a discreet
/// service), and how to check in.
pub fn booking_slip_content(
    booking: &StoredBooking,
    role: Option<domain::roster::Role>,
    config: &KioskConfig,
    language: Language,
) -> SlipContent {
    let zh = language == Language::Zh;
    let service = config.catalogue.service(&booking.service);
    let lane = service.map(|s| s.lane.to_string()).unwrap_or_default();
    // A discreet service's lane is already the service line: no second "服务 D".
    let who = match (names_role(service), role) {
        (true, Some(r)) => Some(r.word(language).to_owned()),
        _ => None,
    };
    let service_line = match service.map(Service::shown) {
        Some(Shown::Named(s)) => s.name.get(language).to_owned(),
        _ => lane_words(&lane, language),
    };
    let local = booking
        .start
        .with_timezone(&super::queue::station_offset(booking.start));
    let big = if zh {
        local.format("%-m月%-d日 %H:%M").to_string()
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
        label: if zh { "预约时间" } else { "Appointment" }.to_owned(),
        big,
        lines: who
            .into_iter()
            .chain([if zh {
                format!("请于前 {early} 分钟至后 {late} 分钟内到站扫描本单签到")
            } else {
                format!("Scan this slip at the station from {early} min before to {late} min after")
            }])
            .collect(),
    });
    content.code_label = if zh { "预约码" } else { "Booking code" }.to_owned();
    content.qr_caption = if zh {
        "手机扫码查看预约"
    } else {
        "Scan with a phone to see your appointment"
    }
    .to_owned();
    content.next_steps = vec![if zh {
        "不能来请在服务站扫描本单取消，把时间留给别人。".to_owned()
    } else {
        "If you cannot come, scan this slip at the station to cancel it.".to_owned()
    }];
    content
}

fn build(
    config: &KioskConfig,
    language: Language,
    service_line: String,
    next_steps: String,
    token: &TrackingToken,
    at: DateTime<Utc>,
) -> SlipContent {
    let zh = language == Language::Zh;
    SlipContent {
        heading: config.station.network.get(language).to_owned(),
        station_name: config.station.name.get(language).to_owned(),
        service_line,
        issued_at: at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        code_label: if zh { "查询码" } else { "Tracking code" }.to_owned(),
        code: token.grouped(),
        qr_payload: qr_payload(&tracking_url(&config.upstream.tracking_base_url, token)),
        qr_caption: if zh {
            "手机扫码查看办理进度"
        } else {
            "Scan with a phone to follow your case"
        }
        .to_owned(),
        feature: None,
        next_steps: vec![next_steps],
        hotline: if zh {
            format!("服务热线 {}", config.station.hotline)
        } else {
            format!("Hotline {}", config.station.hotline)
        },
    }
}
