//! The operators' page, `/operator`: every station's health (last heartbeat, printer and paper,
//! people waiting per lane, who is on duty, today's bookings, cases not yet delivered, open
//! cases) and, above it, the red alerts (high-risk cases not closed, the newest first) and the
//! cases past their expected date (the most overdue first), each with its true count and a
//! page of [`cases::PAGE_SIZE`] at a time (`?alerts=2`, `?overdue=2`); below it, today's
//! attendance (who checked in and out where).
//!
//! Behind `HUB_OPERATOR_TOKEN`, as `Authorization: Bearer …` or `?token=` (percent-decoded,
//! for a wall screen's browser; the page's own links carry it on); without it every request
//! gets the same `401` page. Everything a kiosk or a department wrote is escaped; the page
//! never shows personal data, and shows a discreet service by its lane letter, as a wall
//! screen can be read by anyone in the room. For the same reason a case's tracking code (which
//! opens its `/T/` page) is masked to its first group, and a risk reason found in the
//! resident's words says only that it was a keyword, never the words.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use domain::{t, Language, RiskReason};
use protocol::PrinterReport;

use super::auth::bearer;
use super::html::{
    china_clock, china_day, china_time, escape, language_switch, page_start, private_page,
    query_href, PAGE_END,
};
use super::server::HubState;
use super::store::cases::{self, CaseSummary, Listed, PAGE_SIZE};
use super::store::queues::{self, Attendance, StationQueues};
use super::store::stations::{self, StationHealth};
use super::words::{self, duration, negotiate, query_value, service_line, state_label};

/// A station not heard from for longer than this is marked silent.
pub(crate) const SILENT_AFTER_S: i64 = 3 * 60;

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new().route("/operator", get(page))
}

async fn page(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let query = request.uri().query();
    let lang = negotiate(
        query,
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let from_query = query.and_then(|q| query_value(q, "token"));
    let presented = bearer(request.headers()).or(from_query.as_deref());
    if !hub.credentials().operator(presented) {
        let title = t!(lang, "需要运营口令");
        let html = format!(
            "{}<main>\n<h1>{}</h1>\n<p>{}</p>\n</main>\n{PAGE_END}",
            page_start(lang, title, "", "operator"),
            escape(title),
            escape(t!(
                lang,
                "请提供有效的运营口令（Authorization: Bearer …）。"
            ))
        );
        let mut response = private_page(StatusCode::UNAUTHORIZED, html);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    // What the page's own links carry on: the token, when it came in the query (a wall
    // screen), and the page of each list.
    let links = Links {
        token: from_query.filter(|_| bearer(request.headers()).is_none()),
        alerts: page_number(query, "alerts"),
        overdue: page_number(query, "overdue"),
    };
    let (alerts_page, overdue_page) = (links.alerts, links.overdue);
    let now = hub.now();
    let known = hub.credentials().station_ids();
    let (day_start, day_end) = china_day(now);
    let read = hub
        .store()
        .read(move |tx| {
            Ok(Overview {
                alerts: cases::open_high_risk(tx, alerts_page)?,
                overdue: cases::past_due(tx, now, overdue_page)?,
                health: stations::overview(tx, &known, now)?,
                queues: queues::station_queues(tx, day_start, day_end)?,
                attendance: queues::attendance_since(tx, day_start)?,
            })
        })
        .await;
    match read {
        Ok(overview) => private_page(StatusCode::OK, render(&hub, lang, now, &overview, &links)),
        Err(e) => {
            tracing::error!(error = %e, "operator page: the database failed");
            let title = t!(lang, "服务站运行总览");
            private_page(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{}<main><h1>{}</h1><p>database unavailable</p></main>{PAGE_END}",
                    page_start(lang, title, "", "operator"),
                    escape(title)
                ),
            )
        }
    }
}

/// The page's own query: the token a wall screen signed in with, and the page of each list.
#[derive(Debug, Clone, Default)]
struct Links {
    token: Option<String>,
    alerts: u32,
    overdue: u32,
}

impl Links {
    /// `?lang=…&token=…&alerts=…&overdue=…`, with `list` at `page`.
    fn href(&self, lang: Language, list: &str, page: u32) -> String {
        let (alerts, overdue) = match list {
            "alerts" => (page, self.overdue),
            _ => (self.alerts, page),
        };
        let (alerts, overdue) = (alerts.to_string(), overdue.to_string());
        let mut pairs = vec![("lang", lang.code())];
        if let Some(token) = &self.token {
            pairs.push(("token", token.as_str()));
        }
        pairs.push(("alerts", &alerts));
        pairs.push(("overdue", &overdue));
        query_href(&pairs)
    }

    /// What the language links carry on besides the language.
    fn keep(&self) -> Vec<(&str, String)> {
        let mut keep = Vec::new();
        if let Some(token) = &self.token {
            keep.push(("token", token.clone()));
        }
        keep.push(("alerts", self.alerts.to_string()));
        keep.push(("overdue", self.overdue.to_string()));
        keep
    }
}

/// A list's page number from the query: 1 when absent or not a number from 1 up.
fn page_number(query: Option<&str>, name: &str) -> u32 {
    query
        .and_then(|q| query_value(q, name))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// Everything the page shows, read in one transaction.
struct Overview {
    alerts: Listed<CaseSummary>,
    overdue: Listed<CaseSummary>,
    health: Vec<StationHealth>,
    queues: BTreeMap<String, StationQueues>,
    /// Today's stretches on duty and those still open.
    attendance: Vec<Attendance>,
}

fn render(
    hub: &HubState,
    lang: Language,
    now: DateTime<Utc>,
    overview: &Overview,
    links: &Links,
) -> String {
    let Overview {
        alerts,
        overdue,
        health,
        queues,
        attendance,
    } = overview;
    let title = t!(lang, "服务站运行总览");
    let mut html = page_start(
        lang,
        title,
        "<meta http-equiv=\"refresh\" content=\"60\">\n",
        "operator",
    );
    html.push_str("<main>\n");
    let keep = links.keep();
    let keep: Vec<(&str, &str)> = keep.iter().map(|(k, v)| (*k, v.as_str())).collect();
    html.push_str(&language_switch(lang, &keep));
    let _ = write!(
        html,
        "<h1>{}</h1>\n<p class=\"small\">{} {} · {}</p>\n",
        escape(title),
        escape(t!(lang, "生成时间")),
        china_time(now),
        escape(t!(lang, "时间均为北京时间（UTC+8）。本页每分钟自动刷新。"))
    );

    // A solid red band while any high-risk case is open; a quiet green box otherwise.
    let _ = write!(
        html,
        "<section id=\"red-alerts\" class=\"{}\">\n<h2>{} ({})</h2>\n",
        if alerts.total == 0 {
            "all-clear"
        } else {
            "alert"
        },
        escape(t!(lang, "红色预警：未办结的高风险诉求")),
        alerts.total
    );
    if alerts.total == 0 {
        let _ = writeln!(
            html,
            "<p>{}</p>",
            escape(t!(lang, "没有未办结的高风险诉求。"))
        );
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(t!(lang, "hub" => "查询码")),
            escape(t!(lang, "站点")),
            escape(t!(lang, "诉求类型")),
            escape(t!(lang, "状态")),
            escape(t!(lang, "收到时间")),
            escape(t!(lang, "承办部门")),
            escape(t!(lang, "风险依据"))
        );
        for c in &alerts.rows {
            let received = match c.received_at {
                Some(at) => format!(
                    "{} ({})",
                    china_time(at),
                    escape(&duration((now - at).num_seconds(), lang))
                ),
                None => "—".to_owned(),
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td>{}</td><td>{received}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
                code(&c.token),
                station_cell(hub, &c.station_id),
                service_cell(hub, c, lang),
                state_cell(c, lang),
                escape(c.department.as_deref().unwrap_or("—")),
                escape(&reasons(&c.risk_reasons, lang))
            );
        }
        html.push_str("</table>\n");
        pager(&mut html, lang, alerts, |page| {
            links.href(lang, "alerts", page)
        });
    }
    html.push_str("</section>\n");

    let _ = write!(
        html,
        "<section id=\"past-due\">\n<h2>{} ({})</h2>\n",
        escape(t!(lang, "已超过预计办结时间")),
        overdue.total
    );
    if overdue.total == 0 {
        let _ = writeln!(html, "<p>{}</p>", escape(t!(lang, "没有超期的诉求。")));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(t!(lang, "hub" => "查询码")),
            escape(t!(lang, "站点")),
            escape(t!(lang, "诉求类型")),
            escape(t!(lang, "状态")),
            escape(t!(lang, "承办部门")),
            escape(t!(lang, "预计办结")),
            escape(t!(lang, "hub" => "超期"))
        );
        for c in &overdue.rows {
            let (expected, late) = match c.expected_at {
                Some(at) => (
                    china_time(at),
                    escape(&duration((now - at).num_seconds(), lang)),
                ),
                None => ("—".to_owned(), "—".to_owned()),
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td>{}</td><td class=\"wrap\">{}</td><td>{expected}</td><td class=\"warn\">{late}</td></tr>",
                code(&c.token),
                station_cell(hub, &c.station_id),
                service_cell(hub, c, lang),
                state_cell(c, lang),
                escape(c.department.as_deref().unwrap_or("—")),
            );
        }
        html.push_str("</table>\n");
        pager(&mut html, lang, overdue, |page| {
            links.href(lang, "overdue", page)
        });
    }
    html.push_str("</section>\n");

    let _ = write!(
        html,
        "<section id=\"stations\">\n<h2>{} ({})</h2>\n",
        escape(t!(lang, "hub" => "服务站")),
        health.len()
    );
    if health.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(t!(lang, "尚无服务站。")));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(t!(lang, "站点")),
            escape(t!(lang, "最后心跳")),
            escape(t!(lang, "版本")),
            escape(t!(lang, "打印机")),
            escape(t!(lang, "剩余纸张")),
            escape(t!(lang, "排队")),
            escape(t!(lang, "在岗")),
            escape(t!(lang, "今日预约")),
            escape(t!(lang, "待上传")),
            escape(t!(lang, "未办结")),
            escape(t!(lang, "高风险")),
            escape(t!(lang, "超期"))
        );
        for s in health {
            let on_duty: Vec<&Attendance> = attendance
                .iter()
                .filter(|a| a.station_id == s.station_id && a.checked_out_at.is_none())
                .collect();
            station_row(
                &mut html,
                hub,
                lang,
                now,
                s,
                queues.get(&s.station_id),
                &on_duty,
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");
    attendance_section(&mut html, hub, lang, attendance);
    html.push_str("</main>\n");
    html.push_str(PAGE_END);
    html
}

/// Today's attendance: every stretch on duty that began today or is still open, by station.
fn attendance_section(html: &mut String, hub: &HubState, lang: Language, log: &[Attendance]) {
    let _ = write!(
        html,
        "<section id=\"attendance\">\n<h2>{} ({})</h2>\n",
        escape(t!(lang, "今日考勤")),
        log.len()
    );
    if log.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(t!(lang, "今天还没有人签到。")));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(t!(lang, "站点")),
            escape(t!(lang, "角色")),
            escape(t!(lang, "姓名")),
            escape(t!(lang, "hub" => "签到")),
            escape(t!(lang, "hub" => "签退"))
        );
        for a in log {
            let out = match a.checked_out_at {
                Some(at) => china_time(at),
                None => format!("<span class=\"ok\">{}</span>", escape(t!(lang, "在岗中"))),
            };
            let _ = writeln!(
                html,
                "<tr><td class=\"wrap\">{}</td><td>{}</td><td class=\"wrap\">{}</td><td>{}</td><td>{out}</td></tr>",
                station_cell(hub, &a.station_id),
                escape(a.role.word(lang)),
                escape(&a.name),
                china_time(a.checked_in_at),
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");
}

fn station_row(
    html: &mut String,
    hub: &HubState,
    lang: Language,
    now: DateTime<Utc>,
    s: &StationHealth,
    station_queues: Option<&StationQueues>,
    on_duty: &[&Attendance],
) {
    let dash = "—".to_owned();
    let (heard, version, printer, paper, heartbeat_queues, backlog) = match &s.last_heartbeat {
        None => (
            format!(
                "<span class=\"stale\">{}</span>",
                escape(t!(lang, "从未联系"))
            ),
            dash.clone(),
            dash.clone(),
            dash.clone(),
            None,
            dash,
        ),
        Some((received_at, beat)) => {
            let silent = (now - *received_at).num_seconds();
            let heard = if silent > SILENT_AFTER_S {
                format!(
                    "{} <span class=\"stale\">{} {}</span>",
                    china_time(*received_at),
                    escape(t!(lang, "已失联")),
                    escape(&duration(silent, lang))
                )
            } else {
                china_time(*received_at)
            };
            // The history: a station that comes and goes shows it here.
            let (hours, of) = s.hours_heard;
            let mut heard = if hours < of {
                format!(
                    "{heard}<br><span class=\"small warn\">{}</span>",
                    escape(&t!(lang, "近 {} 小时中有 {} 小时没有心跳", of, of - hours))
                )
            } else {
                format!(
                    "{heard}<br><span class=\"small\">{}</span>",
                    escape(&t!(lang, "近 {} 小时每小时都有心跳", of))
                )
            };
            // What the kiosk told its staff and they have not acknowledged yet.
            for n in &beat.notices {
                let what = match n.kind.as_str() {
                    "database-moved-aside" => t!(lang, "数据库损坏，已换新库"),
                    "high-risk-case" => t!(lang, "高风险诉求，已呼叫站内人员"),
                    "staff-called" => t!(lang, "居民按了呼叫按钮，等站内人员"),
                    other => other,
                };
                heard.push_str(&format!(
                    "<br><span class=\"warn\">{} ({})</span>",
                    escape(what),
                    china_time(n.at)
                ));
            }
            // In words, with the kiosk's own code beside it for the log and the manual.
            let printer = format!(
                "<span class=\"{}\">{}</span> <span class=\"small\">{}</span>",
                if PrinterReport::parse(&beat.printer_state) == Some(PrinterReport::Ready) {
                    "ok"
                } else {
                    "warn"
                },
                escape(words::printer_state(&beat.printer_state, lang)),
                escape(&beat.printer_state)
            );
            let paper = if beat.paper_low {
                format!(
                    "<span class=\"warn\">{:.1} m ({})</span>",
                    beat.paper_left_m,
                    escape(t!(lang, "纸将用完"))
                )
            } else {
                format!("{:.1} m", beat.paper_left_m)
            };
            let queues = Some(&beat.queue_lengths);
            let backlog = match beat.outbox_oldest_s {
                Some(age) if beat.outbox_pending > 0 => format!(
                    "{} ({} {})",
                    beat.outbox_pending,
                    escape(t!(lang, "最久")),
                    escape(&duration(age as i64, lang))
                ),
                _ => beat.outbox_pending.to_string(),
            };
            (
                heard,
                escape(&beat.app_version),
                printer,
                paper,
                queues,
                backlog,
            )
        }
    };
    let high = if s.open_high_risk > 0 {
        format!("<span class=\"warn\">{}</span>", s.open_high_risk)
    } else {
        "0".to_owned()
    };
    let due = if s.past_due > 0 {
        format!("<span class=\"warn\">{}</span>", s.past_due)
    } else {
        "0".to_owned()
    };
    // People waiting per lane: from the newest station state, else the heartbeat's count.
    let waiting = station_queues
        .and_then(|q| q.waiting.as_ref())
        .or(heartbeat_queues);
    let queues = match waiting {
        Some(lanes) if !lanes.is_empty() => lanes
            .iter()
            .map(|(lane, n)| format!("{}: {n}", escape(lane)))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "—".to_owned(),
    };
    let on_duty = if on_duty.is_empty() {
        "—".to_owned()
    } else {
        on_duty
            .iter()
            .map(|a| {
                format!(
                    "{} {} <span class=\"small\">({} {})</span>",
                    escape(a.role.word(lang)),
                    escape(&a.name),
                    escape(t!(lang, "自")),
                    china_clock(a.checked_in_at)
                )
            })
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let bookings = station_queues.map_or(0, |q| q.bookings_today);
    let _ = writeln!(
        html,
        "<tr><td class=\"wrap\">{}</td><td>{heard}</td><td>{version}</td><td>{printer}</td><td>{paper}</td><td class=\"wrap\">{queues}</td><td class=\"wrap\">{on_duty}</td><td>{bookings}</td><td>{backlog}</td><td>{}</td><td>{high}</td><td>{due}</td></tr>",
        station_cell(hub, &s.station_id),
        s.open_cases
    );
}

/// Which rows of how many a list shows, and links to the pages before and after.
fn pager<T>(html: &mut String, lang: Language, list: &Listed<T>, href: impl Fn(u32) -> String) {
    let first = u64::from(list.page - 1) * u64::from(PAGE_SIZE);
    let shown = list.rows.len() as u64;
    let mut parts = vec![escape(&t!(
        lang,
        "第 {}–{} 条，共 {} 条",
        if shown == 0 { first } else { first + 1 },
        first + shown,
        list.total
    ))];
    if list.page > 1 {
        parts.push(format!(
            "<a href=\"{}\" rel=\"prev\">{}</a>",
            href(list.page - 1),
            escape(t!(lang, "上一页"))
        ));
    }
    if first + shown < list.total {
        parts.push(format!(
            "<a href=\"{}\" rel=\"next\">{}</a>",
            href(list.page + 1),
            escape(t!(lang, "下一页"))
        ));
    }
    let _ = writeln!(html, "<p class=\"pager\">{}</p>", parts.join(" · "));
}

/// A tracking code as a wall screen may show it: its first group only, enough to tell the
/// rows apart by eye, never enough to open the case's page.
fn code(token: &str) -> String {
    let shown: String = token.chars().take(4).collect();
    format!("{}…", escape(&shown))
}

fn state_cell(c: &CaseSummary, lang: Language) -> String {
    match c.state {
        Some(state) => escape(state_label(state, lang)),
        None => format!("<span class=\"warn\">{}</span>", escape(t!(lang, "已损坏"))),
    }
}

fn station_cell(hub: &HubState, station_id: &str) -> String {
    match hub.station_name(station_id) {
        Some(name) => format!(
            "{} <span class=\"small\">{}</span>",
            escape(name),
            escape(station_id)
        ),
        None => escape(station_id),
    }
}

fn service_cell(hub: &HubState, c: &CaseSummary, lang: Language) -> String {
    escape(&service_line(
        hub.config().catalogue.service(&c.service),
        &c.subtype,
        lang,
    ))
}

/// Why the case is high-risk: an answer by its catalogue ids (`question = option`), a
/// keyword only as "keyword" (the matched words are the resident's own).
fn reasons(reasons: &[RiskReason], lang: Language) -> String {
    if reasons.is_empty() {
        return "—".to_owned();
    }
    reasons
        .iter()
        .map(|r| match r {
            RiskReason::Answer {
                question, option, ..
            } => format!("{question} = {option}"),
            RiskReason::Keyword { .. } => t!(lang, "关键词").to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::CaseState;

    /// Needs the Traditional catalogue brought up to date (`scripts/make-zh-hant`).
    #[test]
    fn the_page_reads_in_traditional_chinese() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let hub = HubState::open(crate::HubConfig::new(dir.path())).expect("the hub opens");
        let now = DateTime::parse_from_rfc3339("2030-03-11T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let alert = CaseSummary {
            token: domain::TrackingToken::from_random([7; 10])
                .as_str()
                .to_owned(),
            station_id: "mall-1".to_owned(),
            service: "complaint".to_owned(),
            subtype: "noise".to_owned(),
            risk_reasons: Vec::new(),
            state: Some(CaseState::InProgress),
            department: None,
            expected_at: None,
            received_at: Some(now - chrono::Duration::minutes(125)),
        };
        let list = |rows: Vec<CaseSummary>| Listed {
            total: rows.len() as u64,
            page: 1,
            rows,
        };
        let overview = Overview {
            alerts: list(vec![alert]),
            overdue: list(Vec::new()),
            health: Vec::new(),
            queues: BTreeMap::new(),
            attendance: Vec::new(),
        };
        let links = Links::default();
        let page = render(&hub, Language::ZhHant, now, &overview, &links);
        assert!(page.contains("<html lang=\"zh-Hant\">"), "{page}");
        for shown in [
            "服務站運行總覽",
            "紅色預警：未辦結的高風險訴求 (1)",
            "查詢碼",
            "辦理中",
            "2小時 5分鐘",
            "沒有超期的訴求。",
            "尚無服務站。",
            "今天還沒有人簽到。",
        ] {
            assert!(page.contains(shown), "`{shown}` missing: {page}");
        }
        let en = render(&hub, Language::En, now, &overview, &links);
        assert!(
            en.contains("Red alerts: high-risk cases not closed (1)") && en.contains("2 h 5 min")
        );
        let missed = domain::words::missed();
        assert!(
            missed.is_empty(),
            "words missing from a catalogue: {missed:?}"
        );
    }
}
