//! The words the hub's pages share (states, days, durations) and the choice of the page's
//! language: `?lang=zh|zh-Hant|en` first, then the browser's `Accept-Language`, else Simplified
//! Chinese. Every word comes from the translation catalogues ([`domain::words`]) through
//! [`t!`], its Simplified Chinese being the message id.

use domain::roster::Role;
use domain::{lane_words, t, Catalogue, Language, Service, Shown};
use protocol::{BookingState, CaseState, PrinterReport, TicketState};

/// Picks the page language.
pub(crate) fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Language {
    if let Some(lang) = query
        .and_then(|q| query_param(q, "lang"))
        .and_then(Language::parse)
    {
        return lang;
    }
    accept_language
        .map(from_accept_language)
        .unwrap_or_default()
}

/// The value of `name` in a raw query string (`a=1&lang=en`), undecoded.
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The value of `name` in a raw query string, percent-decoded (`%2B` is `+`; a `+` stays a
/// `+`, as a browser sends a typed one).
pub(crate) fn query_value(query: &str, name: &str) -> Option<String> {
    query_param(query, name).map(percent_decode)
}

/// `%XX` sequences to bytes, read as UTF-8 with anything broken replaced (then refused by the
/// reader of the value like any other wrong character).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The language the browser prefers most among those the hub speaks (`q` weights honoured,
/// the first listed wins a tie; `zh-TW`, `zh-HK` and such are Traditional Chinese); Simplified
/// Chinese when it names none.
fn from_accept_language(header: &str) -> Language {
    let mut best: Option<(f32, Language)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Language::parse) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or_default()
}

/// A state as a citizen reads it.
pub(crate) fn state_label(state: CaseState, lang: Language) -> &'static str {
    match state {
        CaseState::Received => t!(lang, "已收到"),
        CaseState::Acknowledged => t!(lang, "已受理"),
        CaseState::Assigned => t!(lang, "已分派承办部门"),
        CaseState::InProgress => t!(lang, "办理中"),
        CaseState::Resolved => t!(lang, "已办结"),
        CaseState::ClosedUnresolved => t!(lang, "已结案（未解决）"),
        CaseState::Reopened => t!(lang, "已重新办理"),
    }
}

/// A printer state from a heartbeat in words, for operators; an unknown code as it came.
pub(crate) fn printer_state(code: &str, lang: Language) -> &str {
    let Some(report) = PrinterReport::parse(code) else {
        return code;
    };
    match report {
        PrinterReport::Ready => t!(lang, "正常"),
        PrinterReport::NearEnd => t!(lang, "纸卷将尽"),
        PrinterReport::PaperOut => t!(lang, "缺纸"),
        PrinterReport::CoverOpen => t!(lang, "机盖打开"),
        PrinterReport::Offline => t!(lang, "离线"),
        PrinterReport::Error => t!(lang, "故障"),
        PrinterReport::Unknown => t!(lang, "状态不明"),
    }
}

/// What a public page may say a case is about. A discreet service (counselling) shows only its
/// lane letter, as on the slip ("D 队"), so a phone screen seen over a shoulder tells
/// nobody what the resident came for; the sub-type is then left out too.
pub(crate) fn service_line(service: Option<&Service>, subtype: &str, lang: Language) -> String {
    let Some(service) = service else {
        return "—".to_owned();
    };
    if let Shown::Lane(lane) = service.shown() {
        return lane_words(lane, lang);
    }
    match service.subtype(subtype) {
        Some(t) => format!("{} · {}", service.name.get(lang), t.name.get(lang)),
        None => service.name.get(lang).to_owned(),
    }
}

/// A queue ticket's state as its holder reads it: waiting, called to counter N, served, missed.
pub(crate) fn ticket_state(state: TicketState, counter: Option<u32>, lang: Language) -> String {
    match (state, counter) {
        (TicketState::Waiting, _) => t!(lang, "等候中").to_owned(),
        (TicketState::Called, Some(n)) => t!(lang, "hub" => "请到 {} 号窗口", n),
        (TicketState::Called, None) => t!(lang, "已叫号，请到窗口").to_owned(),
        (TicketState::Served, _) => t!(lang, "已办理").to_owned(),
        (TicketState::NoShow, _) => t!(lang, "已过号").to_owned(),
    }
}

/// How many people will be called before the ticket.
pub(crate) fn ahead(n: u32, lang: Language) -> String {
    match n {
        0 => t!(lang, "下一位就是您").to_owned(),
        n => t!(lang, "您前面还有 {} 人", n),
    }
}

/// The honest wait range, in minutes.
pub(crate) fn wait_range(min: u32, max: u32, lang: Language) -> String {
    if min == max {
        t!(lang, "预计还要等约 {} 分钟", min)
    } else {
        t!(lang, "预计还要等约 {}–{} 分钟", min, max)
    }
}

/// A booking's state.
pub(crate) fn booking_state(state: BookingState, lang: Language) -> &'static str {
    match state {
        BookingState::Booked => t!(lang, "已预约"),
        BookingState::CheckedIn => t!(lang, "已签到"),
        BookingState::Cancelled => t!(lang, "已取消"),
    }
}

/// Whom a booking is with, as a public page may say it: the role in words, or for a discreet
/// service (no role sent, or a lane the hub's catalogue marks discreet) only the lane letter,
/// `D 队` / `Lane D`, as on the slip.
pub(crate) fn booking_service(
    role: Option<Role>,
    lane: &str,
    catalogue: &Catalogue,
    lang: Language,
) -> String {
    match role {
        Some(role) if !catalogue.is_discreet_lane(lane) => role.word(lang).to_owned(),
        _ => lane_words(lane, lang),
    }
}

/// A duration in the largest sensible unit: `45 min`, `3 h 5 min`, `2 d 4 h`.
pub(crate) fn duration(seconds: i64, lang: Language) -> String {
    let minutes = seconds.max(0) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if d > 0 {
        t!(lang, "{}天 {}小时", d, h)
    } else if h > 0 {
        t!(lang, "{}小时 {}分钟", h, m)
    } else {
        t!(lang, "{}分钟", m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_decode_and_broken_ones_pass_through() {
        assert_eq!(percent_decode("7K3Q%209XPD%2D2W4M"), "7K3Q 9XPD-2W4M");
        assert_eq!(percent_decode("%E6%9F%A5"), "查");
        assert_eq!(percent_decode("%ZZ%4"), "%ZZ%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(
            query_value("lang=en&token=a%2Bb%3D", "token").as_deref(),
            Some("a+b=")
        );
    }

    #[test]
    fn the_query_wins_then_the_browser_then_chinese() {
        assert_eq!(negotiate(Some("lang=en"), Some("zh-CN")), Language::En);
        assert_eq!(negotiate(Some("lang=zh"), Some("en")), Language::Zh);
        assert_eq!(
            negotiate(Some("lang=fr"), Some("en-GB,en;q=0.9")),
            Language::En
        );
        assert_eq!(
            negotiate(None, Some("fr-FR,en;q=0.5,zh;q=0.8")),
            Language::Zh
        );
        assert_eq!(negotiate(None, Some("fr-FR,de")), Language::Zh);
        assert_eq!(negotiate(None, Some("en;q=0,zh;q=0.1")), Language::Zh);
        assert_eq!(negotiate(None, None), Language::Zh);
    }

    #[test]
    fn taiwan_hong_kong_and_macau_read_traditional_chinese() {
        assert_eq!(
            negotiate(Some("lang=zh-Hant"), Some("en")),
            Language::ZhHant
        );
        assert_eq!(negotiate(None, Some("zh-TW,zh;q=0.9")), Language::ZhHant);
        assert_eq!(negotiate(None, Some("zh-HK")), Language::ZhHant);
        assert_eq!(negotiate(None, Some("en;q=0.5,zh-MO")), Language::ZhHant);
        assert_eq!(negotiate(Some("lang=zh"), Some("zh-TW")), Language::Zh);
    }

    #[test]
    fn a_booking_names_its_role_unless_it_is_discreet() {
        let catalogue = Catalogue::builtin();
        assert_eq!(
            booking_service(Some(Role::Lawyer), "C", &catalogue, Language::Zh),
            "律师"
        );
        for lang in Language::ALL {
            for (role, lane) in [(None, "D"), (None, "C"), (Some(Role::Counsellor), "D")] {
                let line = booking_service(role, lane, &catalogue, lang);
                assert!(!line.contains("心理") && !line.to_lowercase().contains("counsel"));
                // "D 队" / "Lane D": the lane letter alone names it.
                assert!(line.contains(lane), "{line}");
            }
        }
    }

    #[test]
    fn ticket_states_read_as_words() {
        assert_eq!(
            ticket_state(TicketState::Called, Some(2), Language::En),
            "Called to counter 2"
        );
        assert_eq!(
            ticket_state(TicketState::Called, Some(2), Language::Zh),
            "请到 2 号窗口"
        );
        assert_eq!(
            ticket_state(TicketState::NoShow, None, Language::En),
            "Missed"
        );
        assert_eq!(ahead(3, Language::En), "3 ahead of you");
        assert_eq!(ahead(0, Language::Zh), "下一位就是您");
        assert_eq!(
            wait_range(10, 20, Language::En),
            "Expected wait: about 10–20 minutes"
        );
        assert_eq!(wait_range(5, 5, Language::Zh), "预计还要等约 5 分钟");
    }

    #[test]
    fn durations_keep_each_language_s_spacing() {
        let (m, h, d) = (60, 3600, 86_400);
        assert_eq!(duration(45 * m, Language::Zh), "45分钟");
        assert_eq!(duration(3 * h + 5 * m, Language::Zh), "3小时 5分钟");
        assert_eq!(duration(2 * d + 4 * h, Language::Zh), "2天 4小时");
        assert_eq!(duration(45 * m, Language::En), "45 min");
        assert_eq!(duration(3 * h + 5 * m, Language::En), "3 h 5 min");
        assert_eq!(duration(2 * d + 4 * h, Language::En), "2 d 4 h");
        assert_eq!(duration(-5, Language::En), "0 min");
    }

    /// Needs the Traditional catalogue brought up to date (`scripts/make-zh-hant`).
    #[test]
    fn every_word_reads_in_traditional_chinese_too() {
        let lang = Language::ZhHant;
        assert_eq!(state_label(CaseState::Resolved, lang), "已辦結");
        assert_eq!(state_label(CaseState::InProgress, lang), "辦理中");
        assert_eq!(printer_state("paper_out", lang), "缺紙");
        assert_eq!(
            ticket_state(TicketState::Called, Some(2), lang),
            "請到 2 號窗口"
        );
        assert_eq!(ahead(3, lang), "您前面還有 3 人");
        assert_eq!(wait_range(10, 20, lang), "預計還要等約 10–20 分鐘");
        assert_eq!(booking_state(BookingState::Cancelled, lang), "已取消");
        assert_eq!(domain::weekday_words(chrono::Weekday::Mon, lang), "週一");
        assert_eq!(duration(3 * 3600 + 5 * 60, lang), "3小時 5分鐘");
        let missed = domain::words::missed();
        assert!(
            !missed.iter().any(|(l, _)| *l == lang),
            "words missing from the Traditional catalogue: {missed:?}"
        );
    }

    #[test]
    fn a_discreet_service_is_shown_by_its_lane_letter_only() {
        let catalogue = Catalogue::builtin();
        let counselling = catalogue.service("counselling");
        assert!(counselling.is_some_and(|s| s.discreet));
        for lang in Language::ALL {
            let line = service_line(counselling, "any", lang);
            assert!(!line.contains("心理") && !line.to_lowercase().contains("counsel"));
            assert!(line == t!(lang, "{} 队", "D"), "{line}");
        }
        let complaint = catalogue.service("complaint");
        assert!(service_line(complaint, "noise", Language::Zh).starts_with("投诉建议"));
    }
}
