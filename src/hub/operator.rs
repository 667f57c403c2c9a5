//! The operators' page, `/operator`: every station's health (last heartbeat, printer and paper,
//! queues, cases not yet delivered, open cases) and, above it, the red alerts (high-risk cases
//! not closed) and the cases past their expected date.
//!
//! Behind `HUB_OPERATOR_TOKEN`, as `Authorization: Bearer …` or `?token=` (for a wall screen's
//! browser); without it every request gets the same `401` page. Everything a kiosk or a
//! department wrote is escaped; the page never shows personal data, and shows a discreet
//! service by its lane letter, as a wall screen can be read by anyone in the room.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use crate::domain::{Language, RiskReason, TrackingToken};

use super::auth::bearer;
use super::html::{china_time, escape, language_switch, page_start, private_page, PAGE_END};
use super::server::HubState;
use super::store::cases::{self, CaseSummary};
use super::store::stations::{self, StationHealth};
use super::words::{self, duration, negotiate, query_param, service_line, state_label};

/// A station not heard from for longer than this is marked silent.
pub const SILENT_AFTER_S: i64 = 3 * 60;

pub fn routes() -> Router<Arc<HubState>> {
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
    let w = words::operator(lang);
    let presented =
        bearer(request.headers()).or_else(|| query.and_then(|q| query_param(q, "token")));
    if !hub.credentials().operator(presented) {
        let html = format!(
            "{}<main>\n<h1>{}</h1>\n<p>{}</p>\n</main>\n{PAGE_END}",
            page_start(w.html_lang, w.unauthorized_title, "", "operator"),
            escape(w.unauthorized_title),
            escape(w.unauthorized)
        );
        let mut response = private_page(StatusCode::UNAUTHORIZED, html);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let now = hub.now();
    let known = hub.credentials().station_ids();
    let read = hub
        .store()
        .read(move |tx| {
            Ok((
                cases::open_high_risk(tx)?,
                cases::past_due(tx, now)?,
                stations::overview(tx, &known, now)?,
            ))
        })
        .await;
    match read {
        Ok((alerts, overdue, health)) => private_page(
            StatusCode::OK,
            render(&hub, lang, now, &alerts, &overdue, &health),
        ),
        Err(e) => {
            eprintln!("grievance-hub: operator page: {e}");
            private_page(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{}<main><h1>{}</h1><p>database unavailable</p></main>{PAGE_END}",
                    page_start(w.html_lang, w.title, "", "operator"),
                    escape(w.title)
                ),
            )
        }
    }
}

fn render(
    hub: &HubState,
    lang: Language,
    now: DateTime<Utc>,
    alerts: &[CaseSummary],
    overdue: &[CaseSummary],
    health: &[StationHealth],
) -> String {
    let w = words::operator(lang);
    let mut html = page_start(
        w.html_lang,
        w.title,
        "<meta http-equiv=\"refresh\" content=\"60\">\n",
        "operator",
    );
    html.push_str("<main>\n");
    html.push_str(&language_switch(lang));
    let _ = write!(
        html,
        "<h1>{}</h1>\n<p class=\"small\">{} {} · {}</p>\n",
        escape(w.title),
        escape(w.generated),
        china_time(now),
        escape(w.zone)
    );

    // A solid red band while any high-risk case is open; a quiet green box otherwise.
    let _ = write!(
        html,
        "<section id=\"red-alerts\" class=\"{}\">\n<h2>{} ({})</h2>\n",
        if alerts.is_empty() {
            "all-clear"
        } else {
            "alert"
        },
        escape(w.red_alerts),
        alerts.len()
    );
    if alerts.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(w.no_red_alerts));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(w.code),
            escape(w.station),
            escape(w.service),
            escape(w.state),
            escape(w.received),
            escape(w.department),
            escape(w.reasons)
        );
        for c in alerts {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td>{}</td><td>{} ({})</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
                code(&c.token),
                station_cell(hub, &c.station_id),
                service_cell(hub, c, lang),
                escape(state_label(c.state, lang)),
                china_time(c.received_at),
                escape(&duration((now - c.received_at).num_seconds(), lang)),
                escape(c.department.as_deref().unwrap_or("—")),
                escape(&reasons(&c.risk_reasons))
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");

    let _ = write!(
        html,
        "<section id=\"past-due\">\n<h2>{} ({})</h2>\n",
        escape(w.past_due),
        overdue.len()
    );
    if overdue.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(w.no_past_due));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(w.code),
            escape(w.station),
            escape(w.service),
            escape(w.state),
            escape(w.department),
            escape(w.expected),
            escape(w.overdue_by)
        );
        for c in overdue {
            let expected = c.expected_at.unwrap_or(now);
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td><td>{}</td><td class=\"wrap\">{}</td><td>{}</td><td class=\"warn\">{}</td></tr>",
                code(&c.token),
                station_cell(hub, &c.station_id),
                service_cell(hub, c, lang),
                escape(state_label(c.state, lang)),
                escape(c.department.as_deref().unwrap_or("—")),
                china_time(expected),
                escape(&duration((now - expected).num_seconds(), lang))
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n");

    let _ = write!(
        html,
        "<section id=\"stations\">\n<h2>{} ({})</h2>\n",
        escape(w.stations),
        health.len()
    );
    if health.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape(w.no_stations));
    } else {
        let _ = writeln!(
            html,
            "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            escape(w.station),
            escape(w.last_heartbeat),
            escape(w.version),
            escape(w.printer),
            escape(w.paper),
            escape(w.queues),
            escape(w.backlog),
            escape(w.open_cases),
            escape(w.high_risk),
            escape(w.past_due_column)
        );
        for s in health {
            station_row(&mut html, hub, lang, now, s);
        }
        html.push_str("</table>\n");
    }
    html.push_str("</section>\n</main>\n");
    html.push_str(PAGE_END);
    html
}

fn station_row(
    html: &mut String,
    hub: &HubState,
    lang: Language,
    now: DateTime<Utc>,
    s: &StationHealth,
) {
    let w = words::operator(lang);
    let dash = "—".to_owned();
    let (heard, version, printer, paper, queues, backlog) = match &s.last_heartbeat {
        None => (
            format!("<span class=\"stale\">{}</span>", escape(w.never)),
            dash.clone(),
            dash.clone(),
            dash.clone(),
            dash.clone(),
            dash,
        ),
        Some((received_at, beat)) => {
            let silent = (now - *received_at).num_seconds();
            let heard = if silent > SILENT_AFTER_S {
                format!(
                    "{} <span class=\"stale\">{} {}</span>",
                    china_time(*received_at),
                    escape(w.silent_for),
                    escape(&duration(silent, lang))
                )
            } else {
                china_time(*received_at)
            };
            // In words, with the kiosk's own code beside it for the log and the manual.
            let printer = format!(
                "<span class=\"{}\">{}</span> <span class=\"small\">{}</span>",
                if beat.printer_state == "ready" {
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
                    escape(w.paper_low)
                )
            } else {
                format!("{:.1} m", beat.paper_left_m)
            };
            let queues = if beat.queue_lengths.is_empty() {
                "—".to_owned()
            } else {
                beat.queue_lengths
                    .iter()
                    .map(|(lane, n)| format!("{}: {n}", escape(lane)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let backlog = match beat.outbox_oldest_s {
                Some(age) if beat.outbox_pending > 0 => format!(
                    "{} ({} {})",
                    beat.outbox_pending,
                    escape(w.oldest),
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
    let _ = writeln!(
        html,
        "<tr><td class=\"wrap\">{}</td><td>{heard}</td><td>{version}</td><td>{printer}</td><td>{paper}</td><td class=\"wrap\">{queues}</td><td>{backlog}</td><td>{}</td><td>{high}</td><td>{due}</td></tr>",
        station_cell(hub, &s.station_id),
        s.open_cases
    );
}

fn code(token: &str) -> String {
    escape(
        &TrackingToken::parse(token)
            .map(|t| t.grouped())
            .unwrap_or_else(|_| token.to_owned()),
    )
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

fn reasons(reasons: &[RiskReason]) -> String {
    if reasons.is_empty() {
        return "—".to_owned();
    }
    reasons
        .iter()
        .map(|r| match r {
            RiskReason::Answer {
                question, option, ..
            } => format!("{question} = {option}"),
            RiskReason::Keyword { keyword, .. } => format!("“{keyword}”"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
