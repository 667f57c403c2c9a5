//! `/overview`, the leaders' page (DISTRICT.md §9), and `/list`, the list behind each of its
//! numbers.
//!
//! One column on a phone, three on a wall screen. Today's numbers first, then the red alerts,
//! the risk map, the month's ranking, the 30-day trend, the professionals on duty, the oldest
//! open cases and the data's quality. Every number is a link to `/list` with the filters that
//! make it, and every list exports as CSV with the same filters. The page reloads itself every
//! two minutes (`<meta http-equiv="refresh">`: no script, so it refreshes on any phone and
//! reads the same without one). No personal data: counts, codes, places, units, deadlines.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};

use domain::calendar::china;
use domain::district::UnitKind;
use domain::risk_map::Band;
use domain::scorecard::{Card, Ratio};
use domain::{t, Language};

use super::charts::{self, Dot, Shape};
use super::{
    case_card, failure, frame, lang_query, language, office_page, page_session, unit_name,
};
use crate::html::{escape, PAGE_END};
use crate::office::leaders::{self, CommunityRisk, League, Overview};
use crate::office::OfficeError;
use crate::server::HubState;
use crate::store::stations::StationHealth;

/// Seconds between the page's own reloads.
const REFRESH_S: u32 = 120;

/// The services' colours in the trend, in the catalogue's order.
const SERVICE_COLOURS: [&str; 6] = [
    "#1a5fb4", "#e66100", "#26a269", "#9141ac", "#c01c28", "#63452c",
];

fn percent(r: Ratio) -> String {
    match r.rate() {
        Some(v) => format!("{:.0}%", v * 100.0),
        None => "—".to_owned(),
    }
}

/// A number that opens the list behind it.
fn tile(label: &str, value: &str, href: &str, warn: bool) -> String {
    format!(
        "<a class=\"tile{}\" href=\"{}\"><span class=\"value\">{}</span><span class=\"label\">{}</span></a>",
        if warn { " warn-tile" } else { "" },
        escape(href),
        escape(value),
        escape(label)
    )
}

/// `/list?…` with the page's language.
fn list_href(lang: Language, query: &str) -> String {
    format!("/list?{query}&{}", lang_query(lang))
}

/// A station's dot colour and its state in words.
fn health(s: &StationHealth, now: DateTime<Utc>, lang: Language) -> (&'static str, &'static str) {
    use protocol::PrinterReport;
    match &s.last_heartbeat {
        None => ("#8a8a85", t!(lang, "从未联系")),
        Some((at, _)) if (now - *at).num_seconds() > crate::operator::SILENT_AFTER_S => {
            ("#c01c28", t!(lang, "已失联"))
        }
        Some((_, beat))
            if PrinterReport::parse(&beat.printer_state) != Some(PrinterReport::Ready)
                || beat.paper_low
                || beat.outbox_oldest_s.is_some_and(|s| s > 600) =>
        {
            ("#e5a50a", t!(lang, "需要照看"))
        }
        Some(_) => ("#1d7a46", t!(lang, "正常")),
    }
}

pub(super) async fn overview(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let o = match leaders::overview(&hub, &session).await {
        Ok(o) => o,
        Err(e) => return failure(lang, &e),
    };
    let title = t!(lang, "领导看板");
    let mut html = frame(lang, title, Some(&session), &hub);
    // The page reloads itself; the head is written by `frame`, so the refresh goes in the body
    // (browsers honour it there too).
    let _ = writeln!(
        html,
        "<meta http-equiv=\"refresh\" content=\"{REFRESH_S}\">\n<main class=\"wide board\">"
    );
    let _ = writeln!(
        html,
        "<h1>{} <span class=\"small\">{} {}</span></h1>",
        escape(title),
        escape(t!(lang, "更新于")),
        escape(
            &o.now
                .with_timezone(&china())
                .format("%m-%d %H:%M")
                .to_string()
        )
    );
    today(&mut html, lang, &o);
    html.push_str("<div class=\"columns\">\n<div>\n");
    alerts(&mut html, &hub, lang, &o);
    risk_map(&mut html, &hub, lang, &o);
    html.push_str("</div>\n<div>\n");
    ranking(&mut html, &hub, lang, &o);
    html.push_str("</div>\n<div>\n");
    trend(&mut html, &hub, lang, &o);
    on_duty(&mut html, &hub, lang, &o);
    oldest(&mut html, &hub, lang, &o);
    data_quality(&mut html, &hub, lang, &o);
    html.push_str("</div>\n</div>\n</main>\n");
    html.push_str(PAGE_END);
    office_page(StatusCode::OK, html)
}

fn today(html: &mut String, lang: Language, o: &Overview) {
    let day = o.now.with_timezone(&china()).format("%Y-%m-%d").to_string();
    let same_day = Ratio {
        hits: u64::from(o.today.same_day),
        of: u64::from(o.today.filed),
    };
    let _ = writeln!(
        html,
        "<section class=\"tiles\" aria-label=\"{}\">{}{}{}{}{}</section>",
        escape(t!(lang, "今日")),
        tile(
            t!(lang, "在办案件"),
            &o.open.to_string(),
            &list_href(lang, "state=open"),
            false
        ),
        tile(
            t!(lang, "今日受理"),
            &o.today.filed.to_string(),
            &list_href(lang, &format!("filed_from={day}&filed_to={day}")),
            false
        ),
        tile(
            t!(lang, "今日办结"),
            &o.today.resolved.to_string(),
            &list_href(lang, &format!("resolved_from={day}&resolved_to={day}")),
            false
        ),
        tile(
            t!(lang, "当日办结率"),
            &percent(same_day),
            &list_href(
                lang,
                &format!("filed_from={day}&filed_to={day}&resolved_from={day}&resolved_to={day}")
            ),
            false
        ),
        tile(
            t!(lang, "超期案件"),
            &o.overdue.to_string(),
            &list_href(lang, "overdue=true"),
            o.overdue > 0
        ),
    );
}

fn alerts(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let _ = writeln!(
        html,
        "<section class=\"alerts\"><h2>{} <a class=\"count red\" href=\"{}\">{}</a></h2>",
        escape(t!(lang, "红色预警")),
        escape(&list_href(lang, "state=open&risk=high")),
        o.high_open_total + o.late_orders.len() as i64
    );
    if o.high_open.is_empty() && o.late_orders.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"small\">{}</p>",
            escape(t!(lang, "没有在办的高风险案件，也没有超时未到场的指令。"))
        );
    }
    if !o.high_open.is_empty() {
        html.push_str("<ul class=\"cases\">\n");
        for c in &o.high_open {
            html.push_str(&case_card(hub, c, lang, o.now));
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    let district = &hub.config().district;
    if !o.late_orders.is_empty() {
        html.push_str("<ul class=\"cases\">\n");
        for late in &o.late_orders {
            let _ = writeln!(
                html,
                "<li class=\"case overdue\"><a class=\"case-link\" href=\"/orders/{}?{}\"><strong>{}</strong></a>\
                 <p class=\"small\">{}</p><p class=\"deadline warn\">{}: {} · {}</p></li>",
                late.id,
                lang_query(lang),
                escape(&late.number),
                escape(unit_name(district, &late.department, lang)),
                escape(t!(lang, "应到场")),
                escape(&super::local(late.arrive_by)),
                escape(t!(lang, "未到场"))
            );
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

fn band_label(band: Band, lang: Language) -> &'static str {
    match band {
        Band::Calm => t!(lang, "平稳"),
        Band::Low => t!(lang, "risk" => "低"),
        Band::Medium => t!(lang, "risk" => "中"),
        Band::High => t!(lang, "risk" => "高"),
    }
}

fn risk_map(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let district = &hub.config().district;
    let title = t!(lang, "风险地图");
    let shapes: Vec<Shape<'_>> = o
        .risk
        .iter()
        .filter_map(|r| {
            let unit = district.unit(&r.id)?;
            Some(Shape {
                ring: unit.boundary.as_deref()?,
                band: r.facts.band(),
                label: short_name(unit.name.get(lang)),
                score: r.facts.score(),
                href: list_href(lang, &format!("community={}&state=open", r.id)),
            })
        })
        .collect();
    let titles: Vec<(String, (f64, f64), &'static str)> = o
        .stations
        .iter()
        .filter_map(|s| {
            let at = district.unit(&s.station_id)?.location?;
            let (colour, state) = health(s, o.now, lang);
            Some((
                format!("{} · {state}", unit_name(district, &s.station_id, lang)),
                at,
                colour,
            ))
        })
        .collect();
    let dots: Vec<Dot<'_>> = titles
        .iter()
        .map(|(title, at, colour)| Dot {
            at: *at,
            colour,
            title,
        })
        .collect();
    let _ = writeln!(html, "<section class=\"risk\"><h2>{}</h2>", escape(title));
    html.push_str(&charts::risk_map(title, &shapes, &dots));
    // The legend: the bands with their scores, and the dots.
    html.push_str("<ul class=\"legend\">");
    for band in Band::ALL {
        let (fill, _) = charts::band_colours(band);
        let next = Band::ALL
            .iter()
            .find(|b| **b > band)
            .map(|b| b.from_score() - 1);
        let range = match (band, next) {
            (Band::Calm, _) => "0".to_owned(),
            (_, Some(n)) => format!("{}–{n}", band.from_score()),
            (_, None) => format!("≥{}", band.from_score()),
        };
        let _ = write!(
            html,
            "<li>{}{} {range}</li>",
            charts::swatch(fill, false),
            escape(band_label(band, lang))
        );
    }
    for (colour, words) in [
        ("#1d7a46", t!(lang, "正常")),
        ("#e5a50a", t!(lang, "需要照看")),
        ("#c01c28", t!(lang, "已失联")),
    ] {
        let _ = write!(
            html,
            "<li>{}{} {}</li>",
            charts::swatch(colour, true),
            escape(t!(lang, "服务站")),
            escape(words)
        );
    }
    html.push_str("</ul>\n");
    // The same in words, most at risk first: what makes each score.
    html.push_str("<ol class=\"risk-list\">\n");
    for r in o.risk.iter().filter(|r| r.facts.score() > 0).take(8) {
        risk_line(html, hub, lang, r);
    }
    html.push_str("</ol>\n");
    let _ = writeln!(
        html,
        "<p class=\"small\">{}</p></section>",
        escape(t!(
            lang,
            "风险分 = 在办高风险×10 + 较高风险×4 + 超期×3 + 30天内同类重复×2"
        ))
    );
}

/// "光明北社区" → "光明北" on the map, where space is short (the list says it in full).
fn short_name(name: &str) -> &str {
    name.strip_suffix("社区")
        .filter(|s| !s.is_empty())
        .or_else(|| name.strip_suffix(" Community"))
        .unwrap_or(name)
}

fn risk_line(html: &mut String, hub: &HubState, lang: Language, r: &CommunityRisk) {
    let district = &hub.config().district;
    let mut parts = Vec::new();
    for (n, words) in [
        (r.facts.open_high, t!(lang, "高风险")),
        (r.facts.open_elevated, t!(lang, "较高风险")),
        (r.facts.overdue, t!(lang, "超期")),
        (r.facts.repeats, t!(lang, "同类重复")),
    ] {
        if n > 0 {
            parts.push(format!("{words} {n}"));
        }
    }
    let _ = writeln!(
        html,
        "<li><a href=\"{}\">{}<span class=\"score\">{}</span> <strong>{}</strong></a> <span class=\"small\">{}</span></li>",
        escape(&list_href(lang, &format!("community={}&state=open", r.id))),
        charts::swatch(charts::band_colours(r.facts.band()).0, false),
        r.facts.score(),
        escape(unit_name(district, &r.id, lang)),
        escape(&parts.join(" · "))
    );
}

fn league_title(kind: UnitKind, lang: Language) -> &'static str {
    match kind {
        UnitKind::Department => t!(lang, "部门排名"),
        UnitKind::Community => t!(lang, "社区排名"),
        _ => t!(lang, "街道排名"),
    }
}

fn ranking(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let from = o.period.from.with_timezone(&china()).format("%m-%d");
    let to = (o.period.to - chrono::Duration::seconds(1))
        .with_timezone(&china())
        .format("%m-%d");
    let _ = writeln!(
        html,
        "<section class=\"ranking\"><h2>{} <span class=\"small\">{from} – {to}</span></h2>",
        escape(t!(lang, "本月考核排名"))
    );
    for league in &o.leagues {
        league_table(html, hub, lang, league);
    }
    let weights = hub.config().district.weights();
    let _ = writeln!(
        html,
        "<p class=\"small\">{}</p></section>",
        escape(&t!(
            lang,
            "得分 = 响应率×{}% + 按期办结率×{}% + 满意率×{}%（超期未办结的案件计入按期办结率）；末位标红。",
            weights.response,
            weights.resolution,
            weights.satisfaction
        ))
    );
}

fn league_table(html: &mut String, hub: &HubState, lang: Language, league: &League) {
    let district = &hub.config().district;
    let _ = writeln!(
        html,
        "<h3>{}</h3>\n<table class=\"rank\"><thead><tr><th>{} · {}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
        escape(league_title(league.kind, lang)),
        escape(t!(lang, "名次")),
        escape(t!(lang, "单位")),
        escape(t!(lang, "得分")),
        escape(t!(lang, "响应")),
        escape(t!(lang, "按期")),
        escape(t!(lang, "满意"))
    );
    let mut cards: Vec<&Card> = league.cards.iter().collect();
    cards.sort_by(|a, b| match (a.rank, b.rank) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.unit.cmp(&b.unit)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.unit.cmp(&b.unit),
    });
    for c in cards {
        let which = match league.kind {
            UnitKind::Street => format!("street={}", c.unit),
            _ => format!("unit={}", c.unit),
        };
        let _ = writeln!(
            html,
            "<tr{}><td><span class=\"rank-no\">{}</span> <a href=\"{}\">{}</a>{}</td><td class=\"num\"><strong>{}</strong></td><td class=\"num\">{}</td><td class=\"num\"><a href=\"{}\">{}</a></td><td class=\"num\">{}</td></tr>",
            if c.flagged { " class=\"flagged\"" } else { "" },
            c.rank.map_or("—".to_owned(), |r| r.to_string()),
            escape(&list_href(lang, &which)),
            escape(unit_name(district, &c.unit, lang)),
            if c.flagged {
                format!(" <span class=\"badge\">{}</span>", escape(t!(lang, "末位")))
            } else {
                String::new()
            },
            c.score.map_or("—".to_owned(), |s| format!("{s:.0}")),
            percent(c.response),
            escape(&list_href(lang, &format!("{which}&overdue=true"))),
            percent(c.on_time_resolution),
            percent(c.satisfaction),
        );
    }
    html.push_str("</tbody></table>\n");
}

fn trend(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let catalogue = &hub.config().catalogue;
    let title = t!(lang, "近30天每日受理（按服务）");
    let days: Vec<String> = o
        .trend
        .days
        .iter()
        .map(|d| d.format("%m-%d").to_string())
        .collect();
    // The catalogue's order, so a service keeps its colour from day to day.
    let mut series: Vec<(String, &'static str, &[u32])> = Vec::new();
    for (i, service) in catalogue.services.iter().enumerate() {
        if let Some((_, values)) = o.trend.services.iter().find(|(s, _)| *s == service.id) {
            series.push((
                service.name.get(lang).to_owned(),
                SERVICE_COLOURS[i % SERVICE_COLOURS.len()],
                values,
            ));
        }
    }
    let drawn: Vec<(&str, &'static str, &[u32])> = series
        .iter()
        .map(|(n, c, v)| (n.as_str(), *c, *v))
        .collect();
    let _ = writeln!(html, "<section class=\"trend\"><h2>{}</h2>", escape(title));
    html.push_str(&charts::trend(title, &days, &drawn));
    html.push_str("<ul class=\"legend\">");
    for (name, colour, values) in &series {
        let _ = write!(
            html,
            "<li>{}{} {}</li>",
            charts::swatch(colour, false),
            escape(name),
            values.iter().sum::<u32>()
        );
    }
    html.push_str("</ul></section>\n");
}

fn on_duty(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let district = &hub.config().district;
    let _ = writeln!(
        html,
        "<section><h2>{} <span class=\"count\">{}</span></h2>",
        escape(t!(lang, "在岗律师、咨询师、调解员")),
        o.on_duty.len()
    );
    if o.on_duty.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"small\">{}</p>",
            escape(t!(lang, "现在没有人在岗。"))
        );
    } else {
        html.push_str("<ul class=\"plain\">");
        for a in &o.on_duty {
            let _ = write!(
                html,
                "<li><strong>{}</strong> {} · {} <span class=\"small\">{} {}</span></li>",
                escape(&a.name),
                escape(a.role.word(lang)),
                escape(unit_name(district, &a.station_id, lang)),
                escape(t!(lang, "签到")),
                escape(
                    &a.checked_in_at
                        .with_timezone(&china())
                        .format("%H:%M")
                        .to_string()
                )
            );
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

fn oldest(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let _ = writeln!(html, "<section><h2>{}</h2>", escape(t!(lang, "最久未办结")));
    if o.oldest.is_empty() {
        let _ = writeln!(html, "<p class=\"small\">{}</p>", escape(t!(lang, "暂无")));
    } else {
        html.push_str("<ul class=\"cases\">\n");
        for c in &o.oldest {
            let days = (o.now - c.filed_at).num_days();
            let mut card = case_card(hub, c, lang, o.now);
            let _ = writeln!(
                card,
                "<p class=\"small\">{}</p></li>",
                escape(&t!(lang, "已 {} 天", days))
            );
            html.push_str(&card);
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
}

fn data_quality(html: &mut String, hub: &HubState, lang: Language, o: &Overview) {
    let district = &hub.config().district;
    let silent: Vec<&StationHealth> = o
        .stations
        .iter()
        .filter(|s| {
            s.last_heartbeat
                .as_ref()
                .is_none_or(|(at, _)| (o.now - *at).num_seconds() > crate::operator::SILENT_AFTER_S)
        })
        .collect();
    // The sync lag: the oldest case a station holds that has not reached the hub.
    let lag = o
        .stations
        .iter()
        .filter_map(|s| s.last_heartbeat.as_ref())
        .filter_map(|(_, b)| b.outbox_oldest_s.filter(|_| b.outbox_pending > 0))
        .max();
    let pending: u32 = o
        .stations
        .iter()
        .filter_map(|s| s.last_heartbeat.as_ref())
        .map(|(_, b)| b.outbox_pending)
        .sum();
    let _ = writeln!(
        html,
        "<section><h2>{}</h2><ul class=\"plain\">",
        escape(t!(lang, "数据质量"))
    );
    let _ = writeln!(
        html,
        "<li class=\"{}\">{}: {} / {}</li>",
        if silent.is_empty() { "ok" } else { "warn" },
        escape(t!(lang, "失联的服务站")),
        silent.len(),
        o.stations.len()
    );
    for s in silent.iter().take(6) {
        let _ = writeln!(
            html,
            "<li class=\"small\">· {}</li>",
            escape(unit_name(district, &s.station_id, lang))
        );
    }
    let lag_words = match lag {
        None => t!(lang, "无积压").to_owned(),
        Some(s) if s < 120 => t!(lang, "{} 秒", s),
        Some(s) => t!(lang, "{} 分钟", s / 60),
    };
    let _ = writeln!(
        html,
        "<li class=\"{}\">{}: {} ({} {})</li></ul></section>",
        if lag.is_some_and(|s| s > 600) {
            "warn"
        } else {
            "ok"
        },
        escape(t!(lang, "服务站未上传的案件")),
        pending,
        escape(t!(lang, "最久")),
        escape(&lag_words)
    );
}

/// `/list`: the cases behind a number, filtered by the query (`unit`, `state`, `overdue`,
/// `service`, `class`, `risk`, `street`, `community`, `filed_from`/`filed_to`,
/// `resolved_from`/`resolved_to`), 100 a page, with a form to change the filters and the same
/// list as CSV.
pub(super) async fn list(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let raw = request.uri().query().unwrap_or("").to_owned();
    let lang = language(request.headers(), Some(&raw));
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = hub.now();
    let Ok(axum::extract::Query(q)) =
        axum::extract::Query::<crate::office::api::ListQuery>::try_from_uri(request.uri())
    else {
        return failure(lang, &bad_query());
    };
    let filter = match q.filter(&hub.config().district, now, 100, 100) {
        Ok(f) => f,
        Err(_) => return failure(lang, &bad_query()),
    };
    let offset = filter.offset;
    let (cases, total) = match crate::office::list(&hub, &session, filter).await {
        Ok(found) => found,
        Err(e) => return failure(lang, &e),
    };
    let title = t!(lang, "案件清单");
    let mut html = frame(lang, title, Some(&session), &hub);
    let _ = writeln!(
        html,
        "<main>\n<h1>{} <span class=\"count\">{total}</span></h1>",
        escape(title)
    );
    let said = filter_words(&hub, lang, &q);
    if !said.is_empty() {
        let _ = writeln!(html, "<p class=\"small\">{}</p>", escape(&said.join(" · ")));
    }
    filter_form(&mut html, &hub, lang, &q);
    if cases.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(t!(lang, "没有符合条件的案件。")));
    } else {
        html.push_str("<ul class=\"cases\">\n");
        for c in &cases {
            html.push_str(&case_card(&hub, c, lang, now));
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    // The next hundred, keeping the filters.
    let without_offset: Vec<&str> = raw
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("offset="))
        .collect();
    let keep = without_offset.join("&");
    if offset + (cases.len() as i64) < total {
        let _ = writeln!(
            html,
            "<p><a href=\"/list?{}&amp;offset={}\">{}</a></p>",
            escape(&keep),
            offset + 100,
            escape(t!(lang, "下一页"))
        );
    }
    let csv: Vec<&str> = without_offset
        .iter()
        .copied()
        .filter(|p| !p.starts_with("limit="))
        .collect();
    let _ = writeln!(
        html,
        "<p class=\"small\"><a href=\"/cases.csv?{}\" download>{}</a></p>\n</main>",
        escape(&csv.join("&")),
        escape(t!(lang, "导出这份清单（CSV表格，不含群众个人信息）"))
    );
    html.push_str(PAGE_END);
    office_page(StatusCode::OK, html)
}

fn bad_query() -> OfficeError {
    OfficeError::Invalid {
        field: "query",
        problem: crate::office::said!("链接里的筛选条件看不懂（单位、状态、服务、类别、日期）"),
    }
}

/// The list's filters in words, for the line under its title: "东湖一社区 · 在办 · 已超期".
fn filter_words(hub: &HubState, lang: Language, q: &crate::office::api::ListQuery) -> Vec<String> {
    let district = &hub.config().district;
    let some = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let mut words = Vec::new();
    for unit in [some(&q.street), some(&q.community), some(&q.unit)]
        .into_iter()
        .flatten()
    {
        words.push(unit_name(district, &unit, lang).to_owned());
    }
    if let Some(service) = some(&q.service) {
        words.push(
            hub.config()
                .catalogue
                .service(&service)
                .map_or(service.clone(), |s| s.name.get(lang).to_owned()),
        );
    }
    if let Some(class) = some(&q.class).and_then(|c| domain::district::HandlingClass::parse(&c)) {
        words.push(class.label(lang).to_owned());
    }
    match some(&q.state).as_deref() {
        Some("open") => words.push(t!(lang, "在办").to_owned()),
        Some(s) => {
            if let Some(stage) = domain::workflow::Stage::parse(s) {
                words.push(stage.label(lang).to_owned());
            }
        }
        None => {}
    }
    if some(&q.risk).as_deref() == Some("high") {
        words.push(t!(lang, "高风险").to_owned());
    }
    if q.overdue == Some(true) {
        words.push(t!(lang, "已超期").to_owned());
    }
    for (what, from, to) in [
        (t!(lang, "list" => "受理"), &q.filed_from, &q.filed_to),
        (t!(lang, "list" => "办结"), &q.resolved_from, &q.resolved_to),
    ] {
        match (some(from), some(to)) {
            (Some(a), Some(b)) if a == b => words.push(format!("{what} {a}")),
            (Some(a), Some(b)) => words.push(format!("{what} {a} – {b}")),
            (Some(a), None) => words.push(format!("{what} {a} –")),
            (None, Some(b)) => words.push(format!("{what} – {b}")),
            (None, None) => {}
        }
    }
    words
}

/// A choice of the list's form: "all" first, then `options` (value, words).
fn select(
    html: &mut String,
    lang: Language,
    (name, label): (&str, &str),
    current: &Option<String>,
    options: Vec<(String, String)>,
) {
    let _ = write!(
        html,
        "<label class=\"grow\">{}<select name=\"{name}\"><option value=\"\">{}</option>",
        escape(label),
        escape(t!(lang, "全部"))
    );
    for (value, words) in options {
        let _ = write!(
            html,
            "<option value=\"{}\"{}>{}</option>",
            escape(&value),
            if current.as_deref() == Some(value.as_str()) {
                " selected"
            } else {
                ""
            },
            escape(&words)
        );
    }
    html.push_str("</select></label>");
}

/// The list's filters as a form (GET, so the result is a link that can be sent on).
fn filter_form(
    html: &mut String,
    hub: &HubState,
    lang: Language,
    q: &crate::office::api::ListQuery,
) {
    let district = &hub.config().district;
    let units = |kind: UnitKind| -> Vec<(String, String)> {
        district
            .of_kind(kind)
            .map(|u| (u.id.clone(), u.name.get(lang).to_owned()))
            .collect()
    };
    let _ = write!(
        html,
        "<details class=\"more\"><summary>{}</summary><form method=\"get\" action=\"/list\" class=\"card\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
        escape(t!(lang, "筛选")),
        lang.code()
    );
    // What the form has no field for is kept as it came (the number's own conditions).
    for (name, value) in [
        ("risk", &q.risk),
        ("resolved_from", &q.resolved_from),
        ("resolved_to", &q.resolved_to),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            let _ = write!(
                html,
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            );
        }
    }
    if q.overdue == Some(true) {
        html.push_str("<input type=\"hidden\" name=\"overdue\" value=\"true\">");
    }
    html.push_str("<div class=\"row\">");
    let mut handlers = units(UnitKind::Community);
    handlers.extend(units(UnitKind::Department));
    select(
        html,
        lang,
        ("street", t!(lang, "街道")),
        &q.street,
        units(UnitKind::Street),
    );
    select(
        html,
        lang,
        ("community", t!(lang, "社区（受理地）")),
        &q.community,
        units(UnitKind::Community),
    );
    select(
        html,
        lang,
        ("unit", t!(lang, "承办单位")),
        &q.unit,
        handlers,
    );
    select(
        html,
        lang,
        ("service", t!(lang, "服务")),
        &q.service,
        hub.config()
            .catalogue
            .services
            .iter()
            .map(|s| (s.id.clone(), s.name.get(lang).to_owned()))
            .collect(),
    );
    select(
        html,
        lang,
        ("class", t!(lang, "办理类别")),
        &q.class,
        domain::district::HandlingClass::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.label(lang).to_owned()))
            .collect(),
    );
    select(
        html,
        lang,
        ("state", t!(lang, "状态")),
        &q.state,
        std::iter::once(("open".to_owned(), t!(lang, "在办").to_owned()))
            .chain(
                domain::workflow::Stage::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), s.label(lang).to_owned())),
            )
            .collect(),
    );
    for (name, label, value) in [
        ("filed_from", t!(lang, "受理日期从"), &q.filed_from),
        ("filed_to", t!(lang, "到"), &q.filed_to),
    ] {
        let _ = write!(
            html,
            "<label class=\"grow\">{}<input type=\"date\" name=\"{name}\" value=\"{}\"></label>",
            escape(label),
            escape(value.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        html,
        "</div><div class=\"actions\"><button class=\"primary\">{}</button></div></form></details>",
        escape(t!(lang, "查看"))
    );
}
