//! What a case's slip says: the words, in the resident's language, handed to the printer's
//! layout. No personal data ever gets here: no phone, no name, no description.

use chrono::{DateTime, Local, Utc};

use crate::config::KioskConfig;
use crate::domain::{qr_payload, tracking_url, Case, Language, Service, TrackingToken};
use crate::printer::slip::SlipContent;

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
    let token = TrackingToken::from_random([0x5a; crate::domain::token::RANDOM_BYTES]);
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
    if service.discreet {
        return match language {
            Language::Zh => format!("服务 {}", service.lane),
            Language::En => format!("Service {}", service.lane),
        };
    }
    match service.subtype(subtype) {
        Some(t) => format!("{} · {}", service.name.get(language), t.name.get(language)),
        None => service.name.get(language).to_owned(),
    }
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
        next_steps: vec![next_steps],
        hotline: if zh {
            format!("服务热线 {}", config.station.hotline)
        } else {
            format!("Hotline {}", config.station.hotline)
        },
    }
}
