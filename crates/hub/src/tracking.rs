//! The public tracking page, `/T/<TOKEN>`: what the QR code on every slip opens.
//!
//! For a case it shows the state, timeline, handling department, expected date, service and
//! station; for a queue ticket its number, state, the people ahead and the wait (reloading
//! itself every 20 s while the ticket waits or is called); for a booking its time, whom it is
//! with and what to do on arrival. Never anything personal (no phone, name, description or
//! answers; a discreet service by its lane letter only). Every answer is private ([`super::html::private_page`]: `noindex`,
//! `no-referrer`, `no-store`, a strict CSP). A code that is malformed, has a wrong check
//! character or belongs to no case gets one and the same `404` page, byte for byte, and the
//! page never repeats what was asked. Each client is rate-limited before anything else happens.
//!
//! The code is read the way [`TrackingToken::parse`] reads one: any case, dashes and spaces.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use chrono::{DateTime, Utc};

use domain::workflow::{Rating, Stage};
use domain::{t, Language, TrackingToken};
use protocol::{BookingState, CaseProgress, CaseState, TicketState};

use super::html::{
    china_clock, china_date, china_day, china_time, escape, language_switch, page_start,
    private_page, PAGE_END,
};
use super::rate_limit::{client_address, Decision};
use super::server::HubState;
use super::store::queues::{self, BookingView, TicketView};
use super::store::{cases, district};
use super::words::{self, negotiate, percent_decode, service_line, state_label};

/// How often a ticket's page reloads itself while the ticket waits or is called, seconds.
pub(crate) const TICKET_REFRESH_S: u32 = 20;

/// What a tracking code leads to.
enum Tracked {
    Case(CaseProgress, Option<RatingState>),
    Ticket(TicketView),
    Booking(BookingView),
    /// A stored record that does not read back whole.
    Damaged,
}

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new()
        .route("/T", get(page))
        .route("/T/", get(page))
        .route("/T/{*code}", get(page).post(rate))
        .route("/t/{*code}", get(page))
}

async fn page(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = client_address(peer, request.headers(), hub.config().trust_forwarded_for);
    let lang = negotiate(
        request.uri().query(),
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    if let Decision::Limited { retry_after_s } = hub.tracking_limiter().check(client) {
        let mut response = private_page(
            StatusCode::TOO_MANY_REQUESTS,
            message_page(
                t!(lang, "查询过于频繁"),
                t!(lang, "请稍等片刻再刷新本页。"),
                lang,
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        return response;
    }
    let path = request.uri().path();
    let rated = request
        .uri()
        .query()
        .and_then(|q| words::query_value(q, "rated"))
        .is_some_and(|v| v == "1");
    let code = path.get(3..).map(percent_decode).unwrap_or_default();
    let Ok(token) = TrackingToken::parse(&code) else {
        return not_found(lang);
    };
    let canonical = token.as_str().to_owned();
    let found = hub
        .store()
        .read(move |tx| {
            if let Some(p) = cases::progress(tx, &canonical)? {
                let rating = district::case(tx, &canonical)?.map(|c| RatingState {
                    stage: c.stage,
                    resolved_at: c.resolved_at,
                    rating: c.rating,
                });
                return Ok(Some(
                    p.map_or_else(|_| Tracked::Damaged, |p| Tracked::Case(p, rating)),
                ));
            }
            if let Some(t) = queues::ticket(tx, &canonical)? {
                return Ok(Some(t.map_or_else(|_| Tracked::Damaged, Tracked::Ticket)));
            }
            Ok(queues::booking(tx, &canonical)?
                .map(|b| b.map_or_else(|_| Tracked::Damaged, Tracked::Booking)))
        })
        .await;
    match found {
        Ok(Some(Tracked::Case(progress, rating))) => {
            let now = hub.now();
            let form = rating
                .as_ref()
                .and_then(|r| rating_section(&token, r, lang, now, rated));
            let mut response = private_page(
                StatusCode::OK,
                render(&hub, &token, &progress, lang, form.as_deref()),
            );
            if form.is_some() {
                // The rating form posts to this page's own address.
                response.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(FORM_CSP),
                );
            }
            response
        }
        Ok(Some(Tracked::Ticket(ticket))) => private_page(
            StatusCode::OK,
            render_ticket(&hub, &token, &ticket, lang, hub.now()),
        ),
        Ok(Some(Tracked::Booking(booking))) => {
            private_page(StatusCode::OK, render_booking(&hub, &token, &booking, lang))
        }
        // The record exists but cannot be shown: said so, for this code only (the reader
        // logged where).
        Ok(Some(Tracked::Damaged)) => private_page(
            StatusCode::OK,
            message_page(
                t!(lang, "这条记录暂时无法显示"),
                t!(
                    lang,
                    "系统中这条记录已损坏，工作人员已收到通知。请到任一服务站咨询，并出示凭条。"
                ),
                lang,
            ),
        ),
        Ok(None) => not_found(lang),
        Err(e) => {
            tracing::error!(error = %e, "tracking page: the database failed");
            private_page(
                StatusCode::SERVICE_UNAVAILABLE,
                message_page(t!(lang, "诉求办理进度"), "—", lang),
            )
        }
    }
}

/// The one answer for every code that leads nowhere.
fn not_found(lang: Language) -> Response {
    private_page(
        StatusCode::NOT_FOUND,
        message_page(
            t!(lang, "未找到该查询码"),
            t!(
                lang,
                "请核对凭条上的查询码后重试，或到任一服务站扫描凭条查询。"
            ),
            lang,
        ),
    )
}

fn message_page(title: &str, message: &str, lang: Language) -> String {
    format!(
        "{}<main>\n{}<h1>{}</h1>\n<p>{}</p>\n</main>\n{PAGE_END}",
        page_start(lang, title, "", "tracking"),
        language_switch(lang, &[]),
        escape(title),
        escape(message),
    )
}

/// The Content-Security-Policy of a case page with the rating form: the forms post to the hub.
const FORM_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What the tracking page needs to offer the rating (DISTRICT.md §7).
struct RatingState {
    stage: Stage,
    resolved_at: Option<DateTime<Utc>>,
    rating: Option<Rating>,
}

/// The rating's section of a resolved case's page: the form while it may be rated (the three
/// answers as large buttons, a reason for "unsatisfied"), the rating given, or nothing.
fn rating_section(
    token: &TrackingToken,
    r: &RatingState,
    lang: Language,
    now: DateTime<Utc>,
    just_rated: bool,
) -> Option<String> {
    // The same rule as the kiosk's offer (`office::may_rate`).
    let open = crate::office::may_rate(r.stage, r.resolved_at, now);
    if !open && r.rating.is_none() {
        return None;
    }
    let mut html = format!(
        "<section id=\"rating\" class=\"card rating\">\n<h2>{}</h2>\n",
        escape(t!(lang, "对办理结果满意吗？"))
    );
    if let Some(given) = r.rating {
        let _ = writeln!(
            html,
            "<p class=\"{}\">{}{}</p>",
            if just_rated { "ok" } else { "" },
            escape(t!(lang, "您的评价：")),
            escape(rating_words(given, lang))
        );
    }
    if open {
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/T/{code}/rating?lang={lang_code}\" class=\"stack\">\n\
             <button name=\"rating\" value=\"satisfied\" class=\"primary big\">{s}</button>\n\
             <button name=\"rating\" value=\"basically_satisfied\" class=\"big\">{b}</button>\n\
             <label>{why}<textarea name=\"reason\" rows=\"2\" maxlength=\"500\"></textarea></label>\n\
             <button name=\"rating\" value=\"unsatisfied\" class=\"big\">{u}</button>\n</form>\n\
             <p class=\"small\">{note}</p>\n",
            code = escape(token.as_str()),
            lang_code = lang.code(),
            s = escape(rating_words(Rating::Satisfied, lang)),
            b = escape(rating_words(Rating::BasicallySatisfied, lang)),
            u = escape(rating_words(Rating::Unsatisfied, lang)),
            why = escape(t!(lang, "不满意的原因（可不填）")),
            note = escape(t!(lang, "办结后7天内可评价，也可修改。选择“不满意”，案件将退回原承办单位重新办理。")),
        );
    }
    html.push_str("</section>\n");
    Some(html)
}

fn rating_words(r: Rating, lang: Language) -> &'static str {
    match r {
        Rating::Satisfied => t!(lang, "满意"),
        Rating::BasicallySatisfied => t!(lang, "基本满意"),
        Rating::Unsatisfied => t!(lang, "不满意"),
    }
}

/// `POST /T/{code}/rating` (a form: `rating`, optional `reason`): the code is the capability.
/// Back to the page (303) when recorded; a rating that cannot be taken now says why.
async fn rate(
    State(hub): State<Arc<HubState>>,
    axum::extract::Path(raw): axum::extract::Path<String>,
    request: Request,
) -> Response {
    let lang = negotiate(
        request.uri().query(),
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let (parts, body) = request.into_parts();
    // `/T/{code}/rating`: the code's page takes its rating, nothing else is posted there.
    let Some(Ok(token)) = raw.strip_suffix("/rating").map(TrackingToken::parse) else {
        return not_found(lang);
    };
    let fields = if crate::body::is_form(&parts.headers) {
        match crate::body::read_bounded_to(&parts.headers, body, 8 * 1024).await {
            Ok(bytes) => crate::body::decode_form(&bytes).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    let Some(rating) = value("rating").as_deref().and_then(Rating::parse) else {
        return private_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            message_page(
                t!(lang, "评价没有提交"),
                t!(lang, "请选择满意、基本满意或不满意。"),
                lang,
            ),
        );
    };
    let reason = value("reason").filter(|r| !r.is_empty());
    let reason = match reason
        .map(|r| crate::office::text("reason", &r, 500))
        .transpose()
    {
        Ok(r) => r,
        Err(e) => {
            return private_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                message_page(t!(lang, "评价没有提交"), &e.words(lang), lang),
            )
        }
    };
    match crate::office::rate(&hub, token.as_str(), rating, reason).await {
        Ok(_) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let to = format!("/T/{}?lang={}&rated=1#rating", token.as_str(), lang.code());
            if let Ok(v) = HeaderValue::from_str(&to) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Err(crate::office::OfficeError::NoCase) => not_found(lang),
        Err(crate::office::OfficeError::Conflict(why)) => private_page(
            StatusCode::CONFLICT,
            message_page(t!(lang, "评价没有提交"), &why.in_language(lang), lang),
        ),
        Err(e) => {
            tracing::error!(error = %e, "rating: not recorded");
            private_page(
                StatusCode::SERVICE_UNAVAILABLE,
                message_page(
                    t!(lang, "评价没有提交"),
                    t!(lang, "系统暂时无法使用，请稍后再试。"),
                    lang,
                ),
            )
        }
    }
}

/// The page of one case, in the order a resident reads it on a phone: the state (large,
/// coloured) with who handles it and by when, then the timeline (newest first, the
/// departments' notes in full), then the case's particulars, then the small print.
fn render(
    hub: &HubState,
    token: &TrackingToken,
    p: &CaseProgress,
    lang: Language,
    rating: Option<&str>,
) -> String {
    let title = t!(lang, "诉求办理进度");
    let service = hub.config().catalogue.service(&p.service);
    // The name a resident knows the station by; its id only when it has no name.
    let station = escape(
        hub.station_name(&p.station_id)
            .or_else(|| {
                hub.config()
                    .district
                    .unit(&p.station_id)
                    .map(|u| u.name.get(lang))
            })
            .unwrap_or(&p.station_id),
    );
    let mut html = page_start(lang, title, "", "tracking");
    html.push_str("<main>\n");
    html.push_str(&language_switch(lang, &[]));
    let _ = write!(
        html,
        "<h1>{title}</h1>\n\
         <p class=\"code\"><span class=\"label\">{code_label}</span> <strong>{code}</strong></p>\n\
         <section id=\"status\" class=\"card status {tone}\">\n\
         <p class=\"label\">{state_label}</p>\n<p class=\"state\">{state}</p>\n<dl>\n\
         <dt>{department_label}</dt><dd>{department}</dd>\n\
         <dt>{expected_label}</dt><dd>{expected}</dd>\n</dl>\n</section>\n\
         {rating}<section id=\"timeline\">\n<h2>{timeline}</h2>\n<ol class=\"timeline\">\n",
        rating = rating.unwrap_or(""),
        title = escape(title),
        code_label = escape(t!(lang, "查询码")),
        code = escape(&token.grouped()),
        tone = tone(p.state),
        state_label = escape(t!(lang, "当前状态")),
        state = escape(state_label(p.state, lang)),
        department_label = escape(t!(lang, "hub" => "承办部门")),
        department = escape(p.department.as_deref().unwrap_or(t!(lang, "尚未分派"))),
        expected_label = escape(t!(lang, "预计办结")),
        expected = p
            .expected_at
            .map(china_time)
            .unwrap_or_else(|| escape(t!(lang, "尚未确定"))),
        timeline = escape(t!(lang, "办理记录")),
    );
    for (i, step) in p.timeline.iter().rev().enumerate() {
        let latest = if i == 0 { " latest" } else { "" };
        let _ = write!(
            html,
            "<li class=\"{tone}{latest}\">\n<p class=\"step\">{state}</p>\n<time>{at}</time>\n",
            tone = tone(step.state),
            state = escape(state_label(step.state, lang)),
            at = china_time(step.at),
        );
        if let Some(department) = &step.department {
            let _ = writeln!(html, "<p class=\"who\">{}</p>", escape(department));
        }
        if let Some(note) = &step.note {
            let _ = writeln!(html, "<p class=\"note\">{}</p>", escape(note));
        }
        if let Some(expected) = step.expected_at {
            let _ = writeln!(
                html,
                "<p class=\"small\">{}<span class=\"nowrap\">{}</span></p>",
                escape(t!(lang, "预计办结：")),
                china_time(expected)
            );
        }
        html.push_str("</li>\n");
    }
    let _ = write!(
        html,
        "</ol>\n</section>\n<section id=\"details\">\n<h2>{details}</h2>\n<dl class=\"card\">\n\
         <dt>{service_label}</dt><dd>{service}</dd>\n\
         <dt>{station_label}</dt><dd>{station}</dd>\n\
         <dt>{filed_label}</dt><dd>{filed}</dd>\n</dl>\n</section>\n\
         <footer>\n{small_print}</footer>\n</main>\n{PAGE_END}",
        details = escape(t!(lang, "诉求信息")),
        service_label = escape(t!(lang, "诉求类型")),
        service = escape(&service_line(service, &p.subtype, lang)),
        station_label = escape(t!(lang, "受理站点")),
        filed_label = escape(t!(lang, "提交时间")),
        filed = china_time(p.filed_at),
        small_print = small_print(lang),
    );
    html
}

/// The page of a queue ticket: the number, very large, and its state; while it waits, the
/// people ahead and the wait; then the station, when it was taken and last updated. It reloads
/// itself every [`TICKET_REFRESH_S`] seconds while the ticket waits or is called on the day it
/// was taken (a ticket from an earlier day shows how it ended and stays still).
fn render_ticket(
    hub: &HubState,
    token: &TrackingToken,
    view: &TicketView,
    lang: Language,
    now: DateTime<Utc>,
) -> String {
    let title = t!(lang, "排队进度");
    let t = &view.status;
    let open = matches!(t.state, TicketState::Waiting | TicketState::Called);
    let earlier_day = china_day(t.taken_at).1 <= now;
    let live = open && !earlier_day;
    let refresh = if live {
        format!("<meta http-equiv=\"refresh\" content=\"{TICKET_REFRESH_S}\">\n")
    } else {
        String::new()
    };
    let tone = match t.state {
        TicketState::Waiting => "open",
        TicketState::Called => "called",
        TicketState::Served => "finished",
        TicketState::NoShow => "unresolved",
    };
    let mut html = page_start(lang, title, &refresh, "tracking");
    html.push_str("<main>\n");
    html.push_str(&language_switch(lang, &[]));
    let _ = write!(
        html,
        "<h1>{title}</h1>\n<section id=\"ticket\" class=\"card status {tone}\">\n\
         <p class=\"label\">{number_label}</p>\n<p class=\"ticket-number\">{number}</p>\n\
         <p class=\"state\">{state}</p>\n",
        title = escape(title),
        number_label = escape(t!(lang, "您的号码")),
        number = escape(&t.ticket),
        state = escape(&words::ticket_state(t.state, t.counter, lang)),
    );
    if t.state == TicketState::Waiting && !earlier_day {
        if let Some(n) = t.ahead {
            let _ = writeln!(
                html,
                "<p class=\"ahead\">{}</p>",
                escape(&words::ahead(n, lang))
            );
        }
        let wait = match (t.wait_min, t.wait_max) {
            (Some(min), Some(max)) => words::wait_range(min, max, lang),
            _ => t!(lang, "本站的历史记录还不够，暂时无法估计等候时间。").to_owned(),
        };
        let _ = writeln!(html, "<p class=\"wait\">{}</p>", escape(&wait));
    }
    if open && earlier_day {
        let _ = writeln!(
            html,
            "<p class=\"small\">{}</p>",
            escape(t!(lang, "这是之前某天的号码，本页显示它最后的状态。"))
        );
    }
    let _ = write!(
        html,
        "</section>\n<section id=\"details\">\n<dl class=\"card\">\n\
         <dt>{station_label}</dt><dd>{station}</dd>\n\
         <dt>{taken_label}</dt><dd>{taken}</dd>\n\
         <dt>{updated_label}</dt><dd>{updated}</dd>\n\
         <dt>{code_label}</dt><dd>{code}</dd>\n</dl>\n</section>\n<footer>\n",
        station_label = escape(t!(lang, "服务站")),
        station = escape(
            hub.station_name(&view.station_id)
                .unwrap_or(&view.station_id)
        ),
        taken_label = escape(t!(lang, "取号时间")),
        taken = china_time(t.taken_at),
        updated_label = escape(t!(lang, "更新时间")),
        updated = view.updated_at.map_or_else(|| "—".to_owned(), china_time),
        code_label = escape(t!(lang, "hub" => "查询码")),
        code = escape(&token.grouped()),
    );
    if live {
        let _ = writeln!(
            html,
            "<p class=\"small\">{}</p>",
            escape(&t!(lang, "本页每 {} 秒自动刷新。", TICKET_REFRESH_S))
        );
    }
    let _ = write!(html, "{}</footer>\n</main>\n{PAGE_END}", small_print(lang));
    html
}

/// The page of a booking: its date and time (China Standard Time, the stations' time), its
/// state, whom it is with (the role, or for a discreet service only the lane letter), the
/// station, and what to do on arrival.
fn render_booking(
    hub: &HubState,
    token: &TrackingToken,
    view: &BookingView,
    lang: Language,
) -> String {
    let title = t!(lang, "预约凭条");
    let b = &view.status;
    let (date, day) = china_date(b.start);
    let end = if china_date(b.end).0 == date {
        china_clock(b.end)
    } else {
        china_time(b.end)
    };
    let when = t!(
        lang,
        "{0}（{1}）{2}–{3}",
        date,
        domain::weekday_words(day, lang),
        china_clock(b.start),
        end
    );
    let tone = match b.state {
        BookingState::Booked => "open",
        BookingState::CheckedIn => "done",
        BookingState::Cancelled => "unresolved",
    };
    let with = words::booking_service(b.role, &b.lane, &hub.config().catalogue, lang);
    let mut html = page_start(lang, title, "", "tracking");
    html.push_str("<main>\n");
    html.push_str(&language_switch(lang, &[]));
    let _ = write!(
        html,
        "<h1>{title}</h1>\n<section id=\"booking\" class=\"card status {tone}\">\n\
         <p class=\"label\">{when_label}</p>\n<p class=\"when\">{when}</p>\n\
         <p class=\"state\">{state}</p>\n<dl>\n\
         <dt>{with_label}</dt><dd>{with}</dd>\n\
         <dt>{station_label}</dt><dd>{station}</dd>\n</dl>\n</section>\n",
        title = escape(title),
        when_label = escape(t!(lang, "hub" => "预约时间")),
        when = escape(&when),
        state = escape(words::booking_state(b.state, lang)),
        with_label = escape(t!(lang, "预约对象")),
        with = escape(&with),
        station_label = escape(t!(lang, "服务站")),
        station = escape(
            hub.station_name(&view.station_id)
                .unwrap_or(&view.station_id)
        ),
    );
    let advice = match b.state {
        BookingState::Booked => Some(t!(lang, "请提前到达服务站，在服务站扫描本凭条签到。")),
        BookingState::Cancelled => Some(t!(lang, "这个预约已取消。如需办理，请重新预约。")),
        BookingState::CheckedIn => None,
    };
    if let Some(advice) = advice {
        let _ = writeln!(html, "<p class=\"advice\">{}</p>", escape(advice));
    }
    let _ = write!(
        html,
        "<section id=\"details\">\n<dl class=\"card\">\n\
         <dt>{updated_label}</dt><dd>{updated}</dd>\n\
         <dt>{code_label}</dt><dd>{code}</dd>\n</dl>\n</section>\n\
         <footer>\n{small_print}</footer>\n</main>\n{PAGE_END}",
        updated_label = escape(t!(lang, "更新时间")),
        updated = view.updated_at.map_or_else(|| "—".to_owned(), china_time),
        code_label = escape(t!(lang, "hub" => "查询码")),
        code = escape(&token.grouped()),
        small_print = small_print(lang),
    );
    html
}

/// The small print at the foot of every page: the time zone, and that the page shows nothing
/// personal.
fn small_print(lang: Language) -> String {
    format!(
        "<p class=\"small\">{}</p>\n<p class=\"small\">{}</p>\n",
        escape(t!(lang, "本页时间均为北京时间（UTC+8）。")),
        escape(t!(
            lang,
            "本页不显示任何个人信息。持有凭条上查询码的人都能打开本页，请妥善保管凭条。"
        )),
    )
}

/// The colour family of a state: still open, resolved, or closed without a solution.
fn tone(state: CaseState) -> &'static str {
    match state {
        CaseState::Resolved => "done",
        CaseState::ClosedUnresolved => "unresolved",
        _ => "open",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the Traditional catalogue brought up to date (`scripts/make-zh-hant`).
    #[test]
    fn every_page_reads_in_traditional_chinese_and_offers_every_language() {
        use protocol::{BookingStatus, TicketStatus, TimelineEntry};

        let dir = tempfile::tempdir().expect("a temporary directory");
        let hub = HubState::open(crate::HubConfig::new(dir.path())).expect("the hub opens");
        let token = TrackingToken::from_random([7; 10]);
        let at = DateTime::parse_from_rfc3339("2030-03-11T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let step = |state| TimelineEntry {
            at,
            state,
            note: None,
            department: None,
            expected_at: None,
        };
        let case = CaseProgress {
            token: token.as_str().to_owned(),
            state: CaseState::Resolved,
            station_id: "mall-1".to_owned(),
            service: "complaint".to_owned(),
            subtype: "noise".to_owned(),
            filed_at: at,
            department: None,
            expected_at: None,
            timeline: vec![step(CaseState::Received), step(CaseState::Resolved)],
        };
        let ticket = TicketView {
            station_id: "mall-1".to_owned(),
            status: TicketStatus {
                token: token.as_str().to_owned(),
                ticket: "A003".to_owned(),
                lane: "A".to_owned(),
                state: TicketState::Waiting,
                ahead: Some(2),
                wait_min: None,
                wait_max: None,
                counter: None,
                taken_at: at,
            },
            updated_at: Some(at),
        };
        let booking = BookingView {
            station_id: "mall-1".to_owned(),
            status: BookingStatus {
                token: token.as_str().to_owned(),
                lane: "C".to_owned(),
                role: None,
                start: at,
                end: at + chrono::Duration::minutes(30),
                state: BookingState::Booked,
            },
            updated_at: Some(at),
        };

        let lang = Language::ZhHant;
        let pages = [
            render(&hub, &token, &case, lang, None),
            render_ticket(&hub, &token, &ticket, lang, at),
            render_booking(&hub, &token, &booking, lang),
        ];
        let [case_page, ticket_page, booking_page] = &pages;
        for page in &pages {
            assert!(page.contains("<html lang=\"zh-Hant\">"), "{page}");
            assert!(page.contains("<strong>繁體中文</strong>"), "{page}");
            assert!(page.contains("<a href=\"?lang=zh\" hreflang=\"zh\">简体中文</a>"));
            assert!(page.contains("<a href=\"?lang=en\" hreflang=\"en\">English</a>"));
            assert!(page.contains("本頁時間均為北京時間（UTC+8）。"), "{page}");
        }
        for shown in ["訴求辦理進度", "已辦結", "查詢碼", "辦理記錄", "尚未分派"]
        {
            assert!(case_page.contains(shown), "`{shown}` missing: {case_page}");
        }
        for shown in [
            "排隊進度",
            "等候中",
            "您前面還有 2 人",
            "暫時無法估計等候時間",
        ] {
            assert!(
                ticket_page.contains(shown),
                "`{shown}` missing: {ticket_page}"
            );
        }
        for shown in [
            "預約憑條",
            "2030-03-11（週一）10:00–10:30",
            "C 隊",
            "請提前到達服務站",
        ] {
            assert!(
                booking_page.contains(shown),
                "`{shown}` missing: {booking_page}"
            );
        }

        // Simplified Chinese and English say what they always said.
        let zh = render_booking(&hub, &token, &booking, Language::Zh);
        assert!(
            zh.contains("<html lang=\"zh-CN\">") && zh.contains("2030-03-11（周一）10:00–10:30")
        );
        let en = render_booking(&hub, &token, &booking, Language::En);
        assert!(en.contains("<html lang=\"en\">") && en.contains("Mon 2030-03-11, 10:00–10:30"));
        assert!(en.contains("<strong>English</strong>"), "{en}");
        let missed = domain::words::missed();
        assert!(
            missed.is_empty(),
            "words missing from a catalogue: {missed:?}"
        );
    }
}
