//! Every word the hub's pages show a person, in Chinese and English, and the choice between
//! them: `?lang=zh|en` first, then the browser's `Accept-Language`, else Chinese.

use chrono::Weekday;

use domain::roster::Role;
use domain::{lane_words, Catalogue, Language, Service, Shown};
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

/// The language the browser prefers most among the two the hub speaks (`q` weights honoured,
/// the first listed wins a tie); Chinese when it names neither.
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
    let (zh, en) = match state {
        CaseState::Received => ("已收到", "Received"),
        CaseState::Acknowledged => ("已受理", "Accepted"),
        CaseState::Assigned => ("已分派承办部门", "Assigned to a department"),
        CaseState::InProgress => ("办理中", "In progress"),
        CaseState::Resolved => ("已办结", "Resolved"),
        CaseState::ClosedUnresolved => ("已结案（未解决）", "Closed, not resolved"),
        CaseState::Reopened => ("已重新办理", "Reopened"),
    };
    pick(lang, zh, en)
}

/// A printer state from a heartbeat in words, for operators; an unknown code as it came.
pub(crate) fn printer_state(code: &str, lang: Language) -> &str {
    let Some(report) = PrinterReport::parse(code) else {
        return code;
    };
    let (zh, en) = match report {
        PrinterReport::Ready => ("正常", "Ready"),
        PrinterReport::NearEnd => ("纸卷将尽", "Paper near end"),
        PrinterReport::PaperOut => ("缺纸", "Out of paper"),
        PrinterReport::CoverOpen => ("机盖打开", "Cover open"),
        PrinterReport::Offline => ("离线", "Offline"),
        PrinterReport::Error => ("故障", "Error"),
        PrinterReport::Unknown => ("状态不明", "Unknown"),
    };
    pick(lang, zh, en)
}

/// What a public page may say a case is about. A discreet service (counselling) shows only its
/// lane letter, as on the slip ("服务 D"), so a phone screen seen over a shoulder tells
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

pub(crate) fn pick(lang: Language, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Zh => zh,
        Language::En => en,
    }
}

/// The tracking page's words.
pub(crate) struct TrackingWords {
    pub(crate) html_lang: &'static str,
    pub(crate) title: &'static str,
    pub(crate) code: &'static str,
    pub(crate) current_state: &'static str,
    pub(crate) service: &'static str,
    pub(crate) department: &'static str,
    pub(crate) no_department: &'static str,
    pub(crate) expected: &'static str,
    pub(crate) no_expected: &'static str,
    pub(crate) station: &'static str,
    pub(crate) filed: &'static str,
    pub(crate) timeline: &'static str,
    pub(crate) details: &'static str,
    pub(crate) expected_in_step: &'static str,
    pub(crate) zone: &'static str,
    pub(crate) privacy: &'static str,
    pub(crate) not_found_title: &'static str,
    pub(crate) not_found: &'static str,
    pub(crate) too_many_title: &'static str,
    pub(crate) too_many: &'static str,
}

pub(crate) fn tracking(lang: Language) -> &'static TrackingWords {
    match lang {
        Language::Zh => &TRACKING_ZH,
        Language::En => &TRACKING_EN,
    }
}

static TRACKING_ZH: TrackingWords = TrackingWords {
    html_lang: "zh-CN",
    title: "诉求办理进度",
    code: "查询码",
    current_state: "当前状态",
    service: "诉求类型",
    department: "承办部门",
    no_department: "尚未分派",
    expected: "预计办结",
    no_expected: "尚未确定",
    station: "受理站点",
    filed: "提交时间",
    timeline: "办理记录",
    details: "诉求信息",
    expected_in_step: "预计办结：",
    zone: "本页时间均为北京时间（UTC+8）。",
    privacy: "本页不显示任何个人信息。持有凭条上查询码的人都能打开本页，请妥善保管凭条。",
    not_found_title: "未找到该查询码",
    not_found: "请核对凭条上的查询码后重试，或到任一服务站扫描凭条查询。",
    too_many_title: "查询过于频繁",
    too_many: "请稍等片刻再刷新本页。",
};

static TRACKING_EN: TrackingWords = TrackingWords {
    html_lang: "en",
    title: "Case progress",
    code: "Tracking code",
    current_state: "Current status",
    service: "Service",
    department: "Handled by",
    no_department: "Not yet assigned",
    expected: "Expected by",
    no_expected: "Not yet known",
    station: "Filed at",
    filed: "Filed on",
    timeline: "Progress",
    details: "About the case",
    expected_in_step: "Expected by: ",
    zone: "All times are China Standard Time (UTC+8).",
    privacy: "This page shows no personal information. Anyone holding the code on your slip \
              can open it, so keep the slip safe.",
    not_found_title: "Tracking code not found",
    not_found: "Check the code on your slip and try again, or scan the slip at any service \
                station.",
    too_many_title: "Too many requests",
    too_many: "Please wait a moment before reloading this page.",
};

/// A queue ticket's state as its holder reads it: waiting, called to counter N, served, missed.
pub(crate) fn ticket_state(state: TicketState, counter: Option<u32>, lang: Language) -> String {
    match (state, counter, lang) {
        (TicketState::Waiting, _, _) => pick(lang, "等候中", "Waiting").to_owned(),
        (TicketState::Called, Some(n), Language::Zh) => format!("请到 {n} 号窗口"),
        (TicketState::Called, Some(n), Language::En) => format!("Called to counter {n}"),
        (TicketState::Called, None, _) => {
            pick(lang, "已叫号，请到窗口", "Called: please go to the counter").to_owned()
        }
        (TicketState::Served, _, _) => pick(lang, "已办理", "Served").to_owned(),
        (TicketState::NoShow, _, _) => pick(lang, "已过号", "Missed").to_owned(),
    }
}

/// How many people will be called before the ticket.
pub(crate) fn ahead(n: u32, lang: Language) -> String {
    match (n, lang) {
        (0, _) => pick(lang, "下一位就是您", "You are next").to_owned(),
        (n, Language::Zh) => format!("您前面还有 {n} 人"),
        (n, Language::En) => format!("{n} ahead of you"),
    }
}

/// The honest wait range, in minutes.
pub(crate) fn wait_range(min: u32, max: u32, lang: Language) -> String {
    match lang {
        Language::Zh if min == max => format!("预计还要等约 {min} 分钟"),
        Language::Zh => format!("预计还要等约 {min}–{max} 分钟"),
        Language::En if min == max => format!("Expected wait: about {min} minutes"),
        Language::En => format!("Expected wait: about {min}–{max} minutes"),
    }
}

/// A booking's state.
pub(crate) fn booking_state(state: BookingState, lang: Language) -> &'static str {
    match state {
        BookingState::Booked => pick(lang, "已预约", "Booked"),
        BookingState::CheckedIn => pick(lang, "已签到", "Checked in"),
        BookingState::Cancelled => pick(lang, "已取消", "Cancelled"),
    }
}

/// Whom a booking is with, as a public page may say it: the role in words, or for a discreet
/// service (no role sent, or a lane the hub's catalogue marks discreet) only the lane letter,
/// `服务 D` / `Service D`, as on the slip.
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

/// A day of the week, short.
pub(crate) fn weekday(day: Weekday, lang: Language) -> &'static str {
    let (zh, en) = match day {
        Weekday::Mon => ("周一", "Mon"),
        Weekday::Tue => ("周二", "Tue"),
        Weekday::Wed => ("周三", "Wed"),
        Weekday::Thu => ("周四", "Thu"),
        Weekday::Fri => ("周五", "Fri"),
        Weekday::Sat => ("周六", "Sat"),
        Weekday::Sun => ("周日", "Sun"),
    };
    pick(lang, zh, en)
}

/// The words of a queue ticket's page and of a booking's page (the rest, like the zone and the
/// privacy note, are [`TrackingWords`]).
pub(crate) struct QueueWords {
    pub(crate) ticket_title: &'static str,
    pub(crate) your_number: &'static str,
    pub(crate) no_estimate: &'static str,
    pub(crate) taken: &'static str,
    pub(crate) updated: &'static str,
    pub(crate) refreshes: &'static str,
    pub(crate) earlier_day: &'static str,
    pub(crate) booking_title: &'static str,
    pub(crate) appointment: &'static str,
    pub(crate) with: &'static str,
    pub(crate) arrival: &'static str,
    pub(crate) cancelled: &'static str,
    pub(crate) station: &'static str,
    pub(crate) code: &'static str,
}

pub(crate) fn queue(lang: Language) -> &'static QueueWords {
    match lang {
        Language::Zh => &QUEUE_ZH,
        Language::En => &QUEUE_EN,
    }
}

static QUEUE_ZH: QueueWords = QueueWords {
    ticket_title: "排队进度",
    your_number: "您的号码",
    no_estimate: "本站的历史记录还不够，暂时无法估计等候时间。",
    taken: "取号时间",
    updated: "更新时间",
    refreshes: "本页每 20 秒自动刷新。",
    earlier_day: "这是之前某天的号码，本页显示它最后的状态。",
    booking_title: "预约凭条",
    appointment: "预约时间",
    with: "预约对象",
    arrival: "请提前到达服务站，在服务站扫描本凭条签到。",
    cancelled: "这个预约已取消。如需办理，请重新预约。",
    station: "服务站",
    code: "查询码",
};

static QUEUE_EN: QueueWords = QueueWords {
    ticket_title: "Your place in the queue",
    your_number: "Your number",
    no_estimate: "This station does not yet have enough history to estimate the wait.",
    taken: "Taken at",
    updated: "Last updated",
    refreshes: "This page refreshes itself every 20 seconds.",
    earlier_day: "This number is from an earlier day; the page shows how it ended.",
    booking_title: "Your appointment",
    appointment: "Appointment",
    with: "With",
    arrival: "Please arrive a little early and scan this slip at the station to check in.",
    cancelled: "This appointment was cancelled. Book again if you still need it.",
    station: "Station",
    code: "Code",
};

/// The operator page's words.
pub(crate) struct OperatorWords {
    pub(crate) html_lang: &'static str,
    pub(crate) title: &'static str,
    pub(crate) generated: &'static str,
    pub(crate) zone: &'static str,
    pub(crate) red_alerts: &'static str,
    pub(crate) no_red_alerts: &'static str,
    pub(crate) past_due: &'static str,
    pub(crate) past_due_column: &'static str,
    pub(crate) no_past_due: &'static str,
    pub(crate) stations: &'static str,
    pub(crate) no_stations: &'static str,
    pub(crate) code: &'static str,
    pub(crate) station: &'static str,
    pub(crate) service: &'static str,
    pub(crate) state: &'static str,
    pub(crate) received: &'static str,
    pub(crate) department: &'static str,
    pub(crate) reasons: &'static str,
    pub(crate) expected: &'static str,
    pub(crate) overdue_by: &'static str,
    pub(crate) last_heartbeat: &'static str,
    pub(crate) never: &'static str,
    pub(crate) silent_for: &'static str,
    pub(crate) version: &'static str,
    pub(crate) printer: &'static str,
    pub(crate) paper: &'static str,
    pub(crate) paper_low: &'static str,
    /// A kiosk's notice `database-moved-aside`.
    pub(crate) database_moved_aside: &'static str,
    /// A kiosk's notice `high-risk-case`: staff were called to the kiosk.
    pub(crate) high_risk_called: &'static str,
    /// A kiosk's notice `staff-called`: a resident pressed "call staff".
    pub(crate) staff_called: &'static str,
    pub(crate) queues: &'static str,
    pub(crate) backlog: &'static str,
    pub(crate) oldest: &'static str,
    pub(crate) open_cases: &'static str,
    pub(crate) high_risk: &'static str,
    pub(crate) on_duty: &'static str,
    pub(crate) bookings_today: &'static str,
    pub(crate) attendance: &'static str,
    pub(crate) no_attendance: &'static str,
    pub(crate) role: &'static str,
    pub(crate) name: &'static str,
    pub(crate) checked_in: &'static str,
    pub(crate) checked_out: &'static str,
    pub(crate) still_on_duty: &'static str,
    pub(crate) since: &'static str,
    pub(crate) unauthorized_title: &'static str,
    pub(crate) unauthorized: &'static str,
    pub(crate) minutes: &'static str,
    pub(crate) hours: &'static str,
    pub(crate) days: &'static str,
}

pub(crate) fn operator(lang: Language) -> &'static OperatorWords {
    match lang {
        Language::Zh => &OPERATOR_ZH,
        Language::En => &OPERATOR_EN,
    }
}

static OPERATOR_ZH: OperatorWords = OperatorWords {
    html_lang: "zh-CN",
    title: "服务站运行总览",
    generated: "生成时间",
    zone: "时间均为北京时间（UTC+8）。本页每分钟自动刷新。",
    red_alerts: "红色预警：未办结的高风险诉求",
    no_red_alerts: "没有未办结的高风险诉求。",
    past_due: "已超过预计办结时间",
    past_due_column: "超期",
    no_past_due: "没有超期的诉求。",
    stations: "服务站",
    no_stations: "尚无服务站。",
    code: "查询码",
    station: "站点",
    service: "诉求类型",
    state: "状态",
    received: "收到时间",
    department: "承办部门",
    reasons: "风险依据",
    expected: "预计办结",
    overdue_by: "超期",
    last_heartbeat: "最后心跳",
    never: "从未联系",
    silent_for: "已失联",
    version: "版本",
    printer: "打印机",
    paper: "剩余纸张",
    paper_low: "纸将用完",
    database_moved_aside: "数据库损坏，已换新库",
    high_risk_called: "高风险诉求，已呼叫站内人员",
    staff_called: "居民按了呼叫按钮，等站内人员",
    queues: "排队",
    backlog: "待上传",
    oldest: "最久",
    open_cases: "未办结",
    high_risk: "高风险",
    on_duty: "在岗",
    bookings_today: "今日预约",
    attendance: "今日考勤",
    no_attendance: "今天还没有人签到。",
    role: "角色",
    name: "姓名",
    checked_in: "签到",
    checked_out: "签退",
    still_on_duty: "在岗中",
    since: "自",
    unauthorized_title: "需要运营口令",
    unauthorized: "请提供有效的运营口令（Authorization: Bearer …）。",
    minutes: "分钟",
    hours: "小时",
    days: "天",
};

static OPERATOR_EN: OperatorWords = OperatorWords {
    html_lang: "en",
    title: "Stations at a glance",
    generated: "Generated",
    zone: "All times are China Standard Time (UTC+8). The page reloads every minute.",
    red_alerts: "Red alerts: high-risk cases not closed",
    no_red_alerts: "No high-risk case is open.",
    past_due: "Past their expected date",
    past_due_column: "Past due",
    no_past_due: "No case is past its expected date.",
    stations: "Stations",
    no_stations: "No station yet.",
    code: "Code",
    station: "Station",
    service: "Service",
    state: "State",
    received: "Received",
    department: "Department",
    reasons: "Why high risk",
    expected: "Expected by",
    overdue_by: "Overdue by",
    last_heartbeat: "Last heartbeat",
    never: "never heard from",
    silent_for: "silent for",
    version: "Version",
    printer: "Printer",
    paper: "Paper left",
    paper_low: "low",
    database_moved_aside: "database damaged, a new one in use",
    high_risk_called: "high-risk case, station staff called",
    staff_called: "a resident pressed call staff, waiting for station staff",
    queues: "Queues",
    backlog: "Not yet delivered",
    oldest: "oldest",
    open_cases: "Open",
    high_risk: "High risk",
    on_duty: "On duty",
    bookings_today: "Bookings today",
    attendance: "Attendance today",
    no_attendance: "Nobody has checked in today.",
    role: "Role",
    name: "Name",
    checked_in: "Checked in",
    checked_out: "Checked out",
    still_on_duty: "on duty",
    since: "since",
    unauthorized_title: "Operator token required",
    unauthorized: "Present a valid operator token (Authorization: Bearer …).",
    minutes: "min",
    hours: "h",
    days: "d",
};

/// A duration in the largest sensible unit: `45 min`, `3 h 5 min`, `2 d 4 h`.
pub(crate) fn duration(seconds: i64, lang: Language) -> String {
    let w = operator(lang);
    let minutes = seconds.max(0) / 60;
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let sep = if lang == Language::Zh { "" } else { " " };
    if d > 0 {
        format!("{d}{sep}{} {h}{sep}{}", w.days, w.hours)
    } else if h > 0 {
        format!("{h}{sep}{} {m}{sep}{}", w.hours, w.minutes)
    } else {
        format!("{m}{sep}{}", w.minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_booking_names_its_role_unless_it_is_discreet() {
        let catalogue = Catalogue::builtin();
        assert_eq!(
            booking_service(Some(Role::Lawyer), "C", &catalogue, Language::Zh),
            "律师"
        );
        for lang in [Language::Zh, Language::En] {
            for (role, lane) in [(None, "D"), (None, "C"), (Some(Role::Counsellor), "D")] {
                let line = booking_service(role, lane, &catalogue, lang);
                assert!(!line.contains("心理") && !line.to_lowercase().contains("counsel"));
                assert!(line.ends_with(lane), "{line}");
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
    }

    #[test]
    fn a_discreet_service_is_shown_by_its_lane_letter_only() {
        let catalogue = Catalogue::builtin();
        let counselling = catalogue.service("counselling");
        assert!(counselling.is_some_and(|s| s.discreet));
        for lang in [Language::Zh, Language::En] {
            let line = service_line(counselling, "any", lang);
            assert!(!line.contains("心理") && !line.to_lowercase().contains("counsel"));
            assert!(line.ends_with('D'), "{line}");
        }
        let complaint = catalogue.service("complaint");
        assert!(service_line(complaint, "noise", Language::Zh).starts_with("投诉建议"));
    }
}
