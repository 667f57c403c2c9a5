//! The back office's pages (DISTRICT.md §11): `/login`, `/desk` (the dispatcher), `/inbox` (a
//! unit), `/cases/{token}`, `/orders/{id}` (with its printable red-header notice), `/audit`,
//! and `/users` (the dispatcher's accounts page, [`users`]).
//!
//! Server-rendered, working without JavaScript, phone first. Every form carries the session's
//! CSRF token and the version of the case it was shown with, and posts to the same functions
//! as the JSON API ([`super::act`] and its neighbours), so the buttons a page offers are the
//! ones the workflow's rules allow ([`domain::workflow::check`]) and nothing else. After an
//! action the browser is sent back to the page (303); a refusal is shown on the page with its
//! reason.

mod charts;
mod overview;
mod users;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use domain::calendar::china;
use domain::district::{District, UnitKind};
use domain::workflow::{self, Action, Actor, OrderAction, OrderState, Role, Stage};
use domain::{t, Language};

use super::{said, Act, OfficeError, OrderForm};
use crate::body;
use crate::html::{escape, language_switch, page_start, percent_encode, PAGE_END};
use crate::people::{self, Login, Session, LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS};
use crate::server::HubState;
use crate::store::accounts;
use crate::store::district::{DistrictCase, Event, Filter, Order};
use crate::words::negotiate;
use domain::words::Said;

/// The Content-Security-Policy of the back office's pages: the hub's stylesheet, forms posted
/// to the hub itself, nothing else.
const OFFICE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The largest form a page posts.
const FORM_LIMIT: usize = 16 * 1024;

pub(crate) fn routes() -> Router<Arc<HubState>> {
    Router::new()
        .route("/login", get(login_page).post(login_form))
        .route("/logout", post(logout_form))
        .route("/desk", get(desk))
        .route("/inbox", get(inbox))
        .route("/overview", get(overview::overview))
        .route("/list", get(overview::list))
        .route("/audit", get(audit))
        .route("/users", get(users::users_page).post(users::add_user_form))
        .route("/cases.csv", get(cases_csv))
        .route("/users/{id}/password", post(users::password_form))
        .route("/cases/{token}", get(case_page))
        .route("/cases/{token}/{action}", post(case_form))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/{action}", post(order_form))
}

/// A back-office page: private (no cache, no index, no framing) and allowed to post forms home.
fn office_page(status: StatusCode, html: String) -> Response {
    let mut response = crate::html::private_page(status, html);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(OFFICE_CSP),
    );
    response
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn language(headers: &HeaderMap, query: Option<&str>) -> Language {
    negotiate(
        query,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// `?lang=xx` to carry the language on in links and redirects.
fn lang_query(lang: Language) -> String {
    format!("lang={}", lang.code())
}

/// A unit's name in the page's language.
fn unit_name<'a>(district: &'a District, id: &'a str, lang: Language) -> &'a str {
    district.unit(id).map_or(id, |u| u.name.get(lang))
}

fn event_label(kind: &str, lang: Language) -> String {
    match kind {
        "routed" => t!(lang, "timeline" => "派单"),
        "accepted" => t!(lang, "timeline" => "签收"),
        "returned" => t!(lang, "退回"),
        "progress" => t!(lang, "进展"),
        "resolved" => t!(lang, "timeline" => "办结"),
        "extension_asked" => t!(lang, "timeline" => "申请延期"),
        "extended" => t!(lang, "timeline" => "同意延期"),
        "extension_refused" => t!(lang, "不同意延期"),
        "closed" => t!(lang, "timeline" => "结案"),
        "closed_unresolved" => t!(lang, "已结案（未解决）"),
        "note" => t!(lang, "备注"),
        "follow_up" => t!(lang, "timeline" => "回访"),
        "chase" => t!(lang, "timeline" => "催办"),
        "supervision" => t!(lang, "timeline" => "督办"),
        "reminder" => t!(lang, "到期提醒"),
        "order_issued" => t!(lang, "发令"),
        "order_accepted" => t!(lang, "timeline" => "接令"),
        "arrived" => t!(lang, "timeline" => "到场报到"),
        "arrival_confirmed" => t!(lang, "timeline" => "确认到场"),
        "rating" => t!(lang, "群众评价"),
        "department_update" => t!(lang, "部门更新"),
        other => return other.to_owned(),
    }
    .to_owned()
}

fn local(at: DateTime<Utc>) -> String {
    super::local_minute(at)
}

/// The service in words, for the district's own people (a discreet service is named here).
pub(super) fn service_words(hub: &HubState, case: &DistrictCase, lang: Language) -> String {
    match hub.config().catalogue.service(&case.service) {
        Some(s) => match s.subtype(&case.subtype) {
            Some(st) => format!("{} · {}", s.name.get(lang), st.name.get(lang)),
            None => s.name.get(lang).to_owned(),
        },
        None => format!("{} · {}", case.service, case.subtype),
    }
}

/// The page's head, with who is logged in, the way to the pages of their role and to log out.
fn frame(lang: Language, title: &str, session: Option<&Session>, hub: &HubState) -> String {
    let mut html = page_start(lang, title, "", "office");
    html.push_str("<header class=\"bar\">");
    if let Some(s) = session {
        let district = &hub.config().district;
        let q = lang_query(lang);
        let _ = write!(
            html,
            "<span class=\"who-am-i\">{} · {} · {}</span> <nav>",
            escape(&s.user.name),
            escape(s.user.role.label(lang)),
            escape(unit_name(district, &s.user.unit, lang))
        );
        match s.user.role {
            Role::Dispatcher => {
                let _ = write!(
                    html,
                    "<a href=\"/desk?{q}\">{}</a> <a href=\"/users?{q}\">{}</a> ",
                    escape(t!(lang, "调度台")),
                    escape(t!(lang, "accounts" => "账号"))
                );
            }
            Role::Auditor => {
                let _ = write!(
                    html,
                    "<a href=\"/audit?{q}\">{}</a> ",
                    escape(t!(lang, "审计日志"))
                );
            }
            _ => {}
        }
        if matches!(
            s.user.role,
            Role::Leader | Role::Dispatcher | Role::Street | Role::DepartmentHead
        ) {
            let _ = write!(
                html,
                "<a href=\"/overview?{q}\">{}</a> ",
                escape(t!(lang, "领导看板"))
            );
        }
        if s.user.role != Role::Auditor {
            let _ = write!(
                html,
                "<a href=\"/inbox?{q}\">{}</a> ",
                escape(t!(lang, "案件"))
            );
        }
        let _ = write!(
            html,
            "</nav><form method=\"post\" action=\"/logout\" class=\"inline\">{}<button>{}</button></form>",
            csrf_field(s),
            escape(t!(lang, "退出"))
        );
    }
    html.push_str("</header>\n");
    html.push_str(&language_switch(lang, &[]));
    html
}

fn csrf_field(s: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&s.csrf)
    )
}

fn version_field(case: &DistrictCase) -> String {
    format!(
        "<input type=\"hidden\" name=\"version\" value=\"{}\">",
        case.version
    )
}

/// The login page, also what an expired session is sent to.
async fn login_page(headers: HeaderMap, request: Request) -> Response {
    let lang = language(&headers, request.uri().query());
    login_screen(lang, &headers, None, StatusCode::OK)
}

fn login_screen(
    lang: Language,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let token = people::cookie(headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .or_else(|| people::random_hex(16).ok())
        .unwrap_or_default();
    let title = t!(lang, "诉求办理系统登录");
    let mut html = page_start(lang, title, "", "office");
    html.push_str(&language_switch(lang, &[]));
    let _ = write!(
        html,
        "<main class=\"narrow\">\n<h1>{}</h1>\n",
        escape(title)
    );
    if let Some(e) = error {
        let _ = writeln!(html, "<p class=\"error\" role=\"alert\">{}</p>", escape(e));
    }
    let _ = write!(
        html,
        "<form method=\"post\" action=\"/login?{q}\" class=\"card stack\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label>{user}<input name=\"user\" autocomplete=\"username\" required autofocus></label>\
         <label>{password}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button class=\"primary\">{login}</button></form>\n\
         <p class=\"small\">{hint}</p>\n</main>\n{PAGE_END}",
        q = lang_query(lang),
        token = escape(&token),
        user = escape(t!(lang, "账号")),
        password = escape(t!(lang, "密码")),
        login = escape(t!(lang, "登录")),
        hint = escape(t!(lang, "连续输错5次密码，账号锁定15分钟。")),
    );
    let mut response = office_page(status, html);
    let cookie = people::set_cookie(LOGIN_COOKIE, &token, 3600, false);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Reads a posted form (`application/x-www-form-urlencoded`, at most [`FORM_LIMIT`]).
async fn form(headers: &HeaderMap, body: Body) -> Option<Vec<(String, String)>> {
    if !body::is_form(headers) {
        return None;
    }
    let bytes = body::read_bounded_to(headers, body, FORM_LIMIT)
        .await
        .ok()?;
    body::decode_form(&bytes).ok()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn login_form(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let Some(fields) = form(&headers, body).await else {
        return login_screen(
            lang,
            &headers,
            Some(t!(lang, "表单无法读取，请重试。")),
            StatusCode::BAD_REQUEST,
        );
    };
    // The login form's token must be the one its cookie holds (a form posted from elsewhere
    // has neither).
    let cookie = people::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let presented = field(&fields, "csrf").unwrap_or_default();
    if cookie.is_empty() || !crate::auth::constant_time_eq(cookie.as_bytes(), presented.as_bytes())
    {
        return login_screen(
            lang,
            &headers,
            Some(t!(lang, "页面已过期，请重新登录。")),
            StatusCode::FORBIDDEN,
        );
    }
    let user = field(&fields, "user").unwrap_or_default().trim().to_owned();
    let password = field(&fields, "password").unwrap_or_default().to_owned();
    match people::login(&hub, &user, &password).await {
        Ok(Login::In { token, session }) => {
            let home = match session.user.role {
                Role::Dispatcher => "/desk",
                Role::Leader => "/overview",
                Role::Auditor => "/audit",
                _ => "/inbox",
            };
            let mut response = redirect(&format!("{home}?{}", lang_query(lang)));
            let secure = hub.config().cookie_secure;
            for cookie in [
                people::set_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, secure),
                people::set_cookie(LOGIN_COOKIE, "", 0, false),
            ] {
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Ok(Login::Refused) => login_screen(
            lang,
            &headers,
            Some(t!(lang, "账号或密码不对，或账号已暂时锁定。")),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => {
            tracing::error!(error = %e, "login: the database failed");
            login_screen(
                lang,
                &headers,
                Some(t!(lang, "系统暂时无法登录，请稍后再试。")),
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

async fn logout_form(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let (parts, body) = request.into_parts();
    if let Ok(Some(session)) = people::session(&hub, &parts.headers).await {
        let fields = form(&parts.headers, body).await.unwrap_or_default();
        if session.csrf_ok(field(&fields, "csrf").unwrap_or_default()) {
            if let Err(e) = people::logout(&hub, &session).await {
                tracing::error!(error = %e, "logout: the database failed");
            }
        }
    }
    let mut response = redirect(&format!("/login?{}", lang_query(lang)));
    let cookie = people::set_cookie(SESSION_COOKIE, "", 0, hub.config().cookie_secure);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The session of a page's request, or the way to the login page.
async fn page_session(
    hub: &Arc<HubState>,
    headers: &HeaderMap,
    lang: Language,
) -> Result<Session, Response> {
    match people::session(hub, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(redirect(&format!("/login?{}", lang_query(lang)))),
        Err(e) => Err(failure(lang, &OfficeError::Store(e))),
    }
}

/// The HTTP status of a refusal or a failure.
fn status_of(e: &OfficeError) -> StatusCode {
    match e {
        OfficeError::NoCase | OfficeError::NoOrder | OfficeError::NoAccount => {
            StatusCode::NOT_FOUND
        }
        OfficeError::Forbidden(_) => StatusCode::FORBIDDEN,
        OfficeError::Conflict(_) | OfficeError::Stale => StatusCode::CONFLICT,
        OfficeError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        OfficeError::Store(inner) => crate::api::store_status(inner),
    }
}

/// A refusal or a failure as a page of its own.
fn failure(lang: Language, e: &OfficeError) -> Response {
    if let OfficeError::Store(inner) = e {
        tracing::error!(error = %inner, "office page: the database failed");
    }
    let text = e.words(lang);
    let status = status_of(e);
    let title = t!(lang, "无法完成");
    office_page(
        status,
        format!(
            "{}<main>\n<h1>{}</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n<p><a href=\"/inbox?{}\">{}</a></p>\n</main>\n{PAGE_END}",
            page_start(lang, title, "", "office"),
            escape(title),
            escape(&text),
            lang_query(lang),
            escape(t!(lang, "返回案件列表")),
        ),
    )
}

/// One case as a line of a list: its code, service, where it came from, its stage and deadline.
fn case_card(hub: &HubState, c: &DistrictCase, lang: Language, now: DateTime<Utc>) -> String {
    let district = &hub.config().district;
    let overdue = super::api::overdue(c, now);
    let station = unit_name(district, &c.station_id, lang);
    let mut html = format!(
        "<li class=\"case{}{}\"><a class=\"case-link\" href=\"/cases/{}?{}\"><strong>{}</strong> <span class=\"code-small\">{}</span></a>",
        if overdue { " overdue" } else { "" },
        if c.risk == "high" { " high" } else { "" },
        percent_encode(&c.token),
        lang_query(lang),
        escape(&service_words(hub, c, lang)),
        escape(&c.token[..4.min(c.token.len())]),
    );
    let _ = write!(
        html,
        "<p class=\"small\">{} · {} · {}",
        escape(station),
        escape(c.stage.label(lang)),
        escape(&local(c.filed_at)),
    );
    if let Some(class) = c.class {
        let _ = write!(html, " · {}", escape(class.label(lang)));
    }
    if let Some(u) = &c.unit {
        let _ = write!(html, " · {}", escape(unit_name(district, u, lang)));
    }
    html.push_str("</p>");
    let deadline = if c.accepted_at.is_none() {
        c.accept_by
    } else {
        c.resolve_by
    };
    if let (Some(by), true) = (deadline, c.stage.is_open()) {
        let what = if c.accepted_at.is_none() {
            t!(lang, "签收期限")
        } else {
            t!(lang, "办结期限")
        };
        let _ = write!(
            html,
            "<p class=\"deadline{}\">{}: {}{}</p>",
            if overdue { " warn" } else { "" },
            escape(what),
            escape(&local(by)),
            if overdue {
                format!(" · {}", escape(t!(lang, "已超期")))
            } else {
                String::new()
            }
        );
    }
    if c.risk == "high" {
        let _ = write!(html, "<p class=\"warn\">{}</p>", escape(t!(lang, "高风险")));
    }
    html
}

/// The routing form of a new case: every community and department, the suggestion first and
/// chosen.
fn route_form(hub: &HubState, s: &Session, c: &DistrictCase, lang: Language) -> String {
    let district = &hub.config().district;
    let suggestion = district.suggest_route(&c.service, &c.subtype, &c.station_id);
    let mut options = String::new();
    if let Some((unit, _)) = &suggestion {
        let _ = write!(
            options,
            "<option value=\"{}\" selected>{} ({})</option>",
            escape(unit),
            escape(unit_name(district, unit, lang)),
            escape(t!(lang, "建议"))
        );
    }
    for kind in [UnitKind::Community, UnitKind::Department] {
        for u in district.of_kind(kind) {
            if suggestion.as_ref().is_some_and(|(s, _)| *s == u.id) {
                continue;
            }
            let _ = write!(
                options,
                "<option value=\"{}\">{}</option>",
                escape(&u.id),
                escape(u.name.get(lang))
            );
        }
    }
    format!(
        "<form method=\"post\" action=\"/cases/{}/route?{}\" class=\"row\">{}{}\
         <label class=\"grow\"><span class=\"sr\">{}</span><select name=\"unit\">{options}</select></label>\
         <button class=\"primary\">{}</button></form>",
        percent_encode(&c.token),
        lang_query(lang),
        csrf_field(s),
        version_field(c),
        escape(t!(lang, "派往")),
        escape(t!(lang, "派单")),
    )
}

/// `/desk`: the dispatcher's new and returned cases, extensions asked for, and resolved cases
/// to close.
async fn desk(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.user.role != Role::Dispatcher {
        return failure(
            lang,
            &OfficeError::Forbidden(said!("调度台只供调度员使用。")),
        );
    }
    let now = hub.now();
    let sections = [
        (
            t!(lang, "新诉求"),
            Filter {
                stages: vec![Stage::Received],
                limit: 200,
                ..Filter::default()
            },
            true,
        ),
        (
            t!(lang, "延期申请"),
            Filter {
                extension_asked: true,
                limit: 200,
                ..Filter::default()
            },
            false,
        ),
        (
            t!(lang, "已办结待结案"),
            Filter {
                stages: vec![Stage::Resolved],
                limit: 200,
                ..Filter::default()
            },
            false,
        ),
    ];
    let title = t!(lang, "调度台");
    let mut html = frame(lang, title, Some(&session), &hub);
    let _ = write!(html, "<main>\n<h1>{}</h1>\n", escape(title));
    for (heading, filter, routing) in sections {
        let extensions = filter.extension_asked;
        let (cases, total) = match super::list(&hub, &session, filter).await {
            Ok(found) => found,
            Err(e) => return failure(lang, &e),
        };
        let _ = writeln!(
            html,
            "<h2>{} <span class=\"count\">{total}</span></h2>",
            escape(heading)
        );
        if cases.is_empty() {
            let _ = writeln!(html, "<p class=\"small\">{}</p>", escape(t!(lang, "暂无")));
            continue;
        }
        html.push_str("<ul class=\"cases\">\n");
        for c in &cases {
            html.push_str(&case_card(&hub, c, lang, now));
            if routing {
                if c.returns > 0 {
                    let _ = write!(
                        html,
                        "<p class=\"warn\">{}</p>",
                        escape(&t!(lang, "被退回{}次", c.returns))
                    );
                }
                html.push_str(&route_form(&hub, &session, c, lang));
            }
            if extensions {
                if let Some(until) = c.extension_until {
                    let _ = write!(
                        html,
                        "<p>{}: {} — {}</p>",
                        escape(t!(lang, "申请延至")),
                        escape(&local(until)),
                        escape(c.extension_reason.as_deref().unwrap_or(""))
                    );
                }
                let _ = write!(
                    html,
                    "<div class=\"row\">{}{}</div>",
                    small_form(
                        &session,
                        c,
                        lang,
                        "extend",
                        &[("approve", "true")],
                        t!(lang, "同意延期"),
                        true
                    ),
                    small_form(
                        &session,
                        c,
                        lang,
                        "extend",
                        &[("approve", "false")],
                        t!(lang, "不同意"),
                        false
                    ),
                );
            }
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</main>\n");
    html.push_str(PAGE_END);
    office_page(StatusCode::OK, html)
}

/// A one-button form posting `action` for the case, with fixed hidden fields.
fn small_form(
    s: &Session,
    c: &DistrictCase,
    lang: Language,
    action: &str,
    fields: &[(&str, &str)],
    label: &str,
    primary: bool,
) -> String {
    let hidden: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"/cases/{}/{}?{}\" class=\"inline\">{}{}{hidden}<button{}>{}</button></form>",
        percent_encode(&c.token),
        escape(action),
        lang_query(lang),
        csrf_field(s),
        version_field(c),
        if primary { " class=\"primary\"" } else { "" },
        escape(label)
    )
}

/// `/inbox`: a unit's cases by deadline (overdue first, in red), and a department's orders to
/// answer; for a street its communities' cases, for a leader every open case.
async fn inbox(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = hub.now();
    let title = t!(lang, "案件");
    let mut html = frame(lang, title, Some(&session), &hub);
    let district = &hub.config().district;
    let _ = write!(
        html,
        "<main>\n<h1>{} · {}</h1>\n",
        escape(unit_name(district, &session.user.unit, lang)),
        escape(title)
    );
    if matches!(
        session.user.role,
        Role::Department | Role::DepartmentHead | Role::Community | Role::Secretary
    ) {
        let unit = session.user.unit.clone();
        let department = matches!(session.user.role, Role::Department | Role::DepartmentHead);
        let orders = hub
            .store()
            // A department's orders received, a community's orders issued.
            .read(move |db| crate::store::district::open_orders(db, &unit, !department))
            .await;
        match orders {
            Ok(orders) if !orders.is_empty() => {
                let _ = write!(
                    html,
                    "<h2>{} <span class=\"count\">{}</span></h2>\n<ul class=\"cases\">\n",
                    escape(t!(lang, "指令")),
                    orders.len()
                );
                for o in &orders {
                    html.push_str(&order_card(district, o, lang, now));
                }
                html.push_str("</ul>\n");
            }
            Ok(_) => {}
            Err(e) => return failure(lang, &OfficeError::Store(e)),
        }
    }
    let open = vec![Stage::Assigned, Stage::Reopened, Stage::InProgress];
    let lists: Vec<(&str, Filter)> = match session.user.role {
        Role::Leader | Role::Street | Role::Dispatcher => vec![
            (
                t!(lang, "超期案件"),
                Filter {
                    overdue_at: Some(now),
                    limit: 200,
                    ..Filter::default()
                },
            ),
            (
                t!(lang, "在办案件"),
                Filter {
                    stages: open,
                    limit: 200,
                    ..Filter::default()
                },
            ),
        ],
        _ => vec![
            (
                t!(lang, "待签收"),
                Filter {
                    stages: vec![Stage::Assigned, Stage::Reopened],
                    limit: 500,
                    ..Filter::default()
                },
            ),
            (
                t!(lang, "办理中"),
                Filter {
                    stages: vec![Stage::InProgress],
                    limit: 500,
                    ..Filter::default()
                },
            ),
            (
                t!(lang, "已办结"),
                Filter {
                    stages: vec![Stage::Resolved],
                    limit: 50,
                    ..Filter::default()
                },
            ),
        ],
    };
    for (heading, filter) in lists {
        let (cases, total) = match super::list(&hub, &session, filter).await {
            Ok(found) => found,
            Err(e) => return failure(lang, &e),
        };
        let _ = writeln!(
            html,
            "<h2>{} <span class=\"count\">{total}</span></h2>",
            escape(heading)
        );
        if cases.is_empty() {
            let _ = writeln!(html, "<p class=\"small\">{}</p>", escape(t!(lang, "暂无")));
            continue;
        }
        html.push_str("<ul class=\"cases\">\n");
        for c in &cases {
            html.push_str(&case_card(&hub, c, lang, now));
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    // The spreadsheet of everything the person may see, below the work.
    let _ = writeln!(
        html,
        "<p class=\"small\"><a href=\"/cases.csv?{}\" download>{}</a></p>",
        lang_query(lang),
        escape(t!(lang, "导出全部案件（CSV表格，不含群众个人信息）"))
    );
    html.push_str("</main>\n");
    html.push_str(PAGE_END);
    office_page(StatusCode::OK, html)
}

fn order_card(district: &District, o: &Order, lang: Language, now: DateTime<Utc>) -> String {
    let late = o.state != OrderState::Confirmed && o.arrived_at.is_none() && o.arrive_by < now;
    format!(
        "<li class=\"case{}\"><a class=\"case-link\" href=\"/orders/{}?{}\"><strong>{}</strong></a>\
         <p class=\"small\">{} → {} · {}</p><p class=\"deadline{}\">{}: {}</p></li>\n",
        if late { " overdue" } else { "" },
        o.id,
        lang_query(lang),
        escape(&o.number),
        escape(unit_name(district, &o.community, lang)),
        escape(unit_name(district, &o.department, lang)),
        escape(o.state.label(lang)),
        if late { " warn" } else { "" },
        escape(t!(lang, "到场时间")),
        escape(&local(o.arrive_by)),
    )
}

/// `/cases/{token}`: the case, the resident's data for those who may see it (logged), what
/// this person may do now, its orders and its internal timeline.
async fn case_page(
    State(hub): State<Arc<HubState>>,
    Path(raw): Path<String>,
    request: Request,
) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    case_screen(&hub, &session, &raw, lang, None, StatusCode::OK).await
}

async fn case_screen(
    hub: &Arc<HubState>,
    session: &Session,
    raw: &str,
    lang: Language,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let Ok(token) = domain::TrackingToken::parse(raw) else {
        return failure(lang, &OfficeError::NoCase);
    };
    let view = match super::view(hub, session, token.as_str(), true).await {
        Ok(v) => v,
        Err(e) => return failure(lang, &e),
    };
    let now = hub.now();
    let district = &hub.config().district;
    let c = &view.case;
    let title = service_words(hub, c, lang);
    let mut html = frame(lang, &title, Some(session), hub);
    let _ = write!(
        html,
        "<main>\n<p class=\"code\"><span class=\"label\">{}</span><strong>{}</strong></p>\n<h1>{}</h1>\n",
        escape(t!(lang, "查询码")),
        escape(&c.token),
        escape(&title)
    );
    if let Some(e) = error {
        let _ = writeln!(html, "<p class=\"error\" role=\"alert\">{}</p>", escape(e));
    }
    let overdue = super::api::overdue(c, now);
    html.push_str("<div class=\"card\"><dl>");
    let mut row = |label: &str, value: &str, warn: bool| {
        let _ = write!(
            html,
            "<dt>{}</dt><dd{}>{}</dd>",
            escape(label),
            if warn { " class=\"warn\"" } else { "" },
            escape(value)
        );
    };
    row(t!(lang, "状态"), c.stage.label(lang), false);
    row(
        t!(lang, "来自"),
        &format!(
            "{}{}",
            unit_name(district, &c.station_id, lang),
            district
                .community_of_station(&c.station_id)
                .map(|cm| format!(" · {}", cm.name.get(lang)))
                .unwrap_or_default()
        ),
        false,
    );
    row(t!(lang, "提交时间"), &local(c.filed_at), false);
    if c.risk != "normal" {
        row(
            t!(lang, "风险"),
            if c.risk == "high" {
                t!(lang, "高风险")
            } else {
                t!(lang, "较高风险")
            },
            true,
        );
    }
    if let Some(u) = &c.unit {
        row(t!(lang, "承办单位"), unit_name(district, u, lang), false);
    }
    if let Some(class) = c.class {
        row(t!(lang, "办理类别"), class.label(lang), false);
    }
    if let (Some(by), true) = (c.accept_by, c.accepted_at.is_none() && c.stage.is_open()) {
        row(t!(lang, "签收期限"), &local(by), overdue);
    }
    if let (Some(by), true) = (c.resolve_by, c.stage.is_open()) {
        row(t!(lang, "办结期限"), &local(by), overdue);
    }
    if let Some(at) = c.resolved_at {
        let mut text = local(at);
        if super::same_day(c) {
            let _ = write!(text, " · {}", t!(lang, "当日办结"));
        }
        row(t!(lang, "办结时间"), &text, false);
    }
    if let Some(r) = c.rating {
        row(
            t!(lang, "群众评价"),
            rating_label(r, lang),
            r == domain::workflow::Rating::Unsatisfied,
        );
    }
    html.push_str("</dl></div>\n");
    if let Some(p) = &view.personal {
        let _ = write!(
            html,
            "<section class=\"personal\"><h2>{}</h2><p class=\"small\">{}</p><dl>",
            escape(t!(lang, "居民信息")),
            escape(t!(lang, "仅承办单位和调度员可见；每次查看都会记录。"))
        );
        let _ = write!(
            html,
            "<dt>{}</dt><dd>{}</dd>",
            escape(t!(lang, "电话")),
            escape(match (&p.phone, p.anonymous) {
                (Some(phone), _) => phone,
                (None, true) => t!(lang, "匿名"),
                (None, false) => "—",
            })
        );
        for a in &p.answers {
            let _ = write!(
                html,
                "<dt>{}</dt><dd>{}</dd>",
                escape(&a.question_label),
                escape(&a.value_label)
            );
        }
        if let Some(d) = &p.description {
            let _ = write!(
                html,
                "<dt>{}</dt><dd class=\"note\">{}</dd>",
                escape(t!(lang, "诉求内容")),
                escape(d)
            );
        }
        html.push_str("</dl></section>\n");
    }
    html.push_str(&actions(hub, session, c, &view.orders, lang, now));
    if !view.orders.is_empty() {
        let _ = write!(
            html,
            "<h2>{}</h2>\n<ul class=\"cases\">\n",
            escape(t!(lang, "指令"))
        );
        for o in &view.orders {
            html.push_str(&order_card(district, o, lang, now));
        }
        html.push_str("</ul>\n");
    }
    let _ = writeln!(html, "<h2>{}</h2>", escape(t!(lang, "内部记录")));
    html.push_str(&timeline(district, &view.timeline, lang));
    html.push_str("</main>\n");
    html.push_str(PAGE_END);
    office_page(status, html)
}

fn rating_label(r: domain::workflow::Rating, lang: Language) -> &'static str {
    match r {
        domain::workflow::Rating::Satisfied => t!(lang, "满意"),
        domain::workflow::Rating::BasicallySatisfied => t!(lang, "基本满意"),
        domain::workflow::Rating::Unsatisfied => t!(lang, "不满意"),
    }
}

fn timeline(district: &District, events: &[Event], lang: Language) -> String {
    if events.is_empty() {
        return format!("<p class=\"small\">{}</p>\n", escape(t!(lang, "暂无")));
    }
    let mut html = String::from("<ol class=\"timeline\">\n");
    for e in events {
        let _ = write!(
            html,
            "<li><p class=\"step\">{}</p><time>{}</time><p class=\"who\">{}{}</p>",
            escape(&event_label(&e.kind, lang)),
            escape(&local(e.at)),
            escape(&e.by),
            e.unit
                .as_deref()
                .map(|u| format!(" → {}", escape(unit_name(district, u, lang))))
                .unwrap_or_default(),
        );
        if let Some(n) = &e.note {
            // A rating's note starts with its code (`satisfied — reason`): shown in words.
            let shown = match (e.kind.as_str(), n.split_once(" — ")) {
                ("rating", Some((code, reason))) => domain::workflow::Rating::parse(code)
                    .map(|r| format!("{} — {reason}", rating_label(r, lang))),
                ("rating", None) => {
                    domain::workflow::Rating::parse(n).map(|r| rating_label(r, lang).to_owned())
                }
                _ => None,
            };
            let _ = write!(
                html,
                "<p class=\"note\">{}</p>",
                escape(shown.as_deref().unwrap_or(n))
            );
        }
        if e.public {
            let _ = write!(
                html,
                "<p class=\"small\">{}</p>",
                escape(t!(lang, "群众可见"))
            );
        }
        html.push_str("</li>\n");
    }
    html.push_str("</ol>\n");
    html
}

/// The forms of what this person may do to the case now: the workflow's rules decide, the
/// page only offers.
fn actions(
    hub: &HubState,
    s: &Session,
    c: &DistrictCase,
    orders: &[Order],
    lang: Language,
    now: DateTime<Utc>,
) -> String {
    let district = &hub.config().district;
    let ordered: Vec<String> = orders.iter().map(|o| o.department.clone()).collect();
    let facts = super::facts(district, c, &ordered);
    let actor: Actor<'_> = s.actor();
    let may = |a: Action| workflow::check(actor, &facts, a).is_ok();
    let mut html = String::new();
    let text_form = |action: &str, name: &str, label: &str, button: &str, required: bool| {
        format!(
            "<form method=\"post\" action=\"/cases/{}/{action}?{}\" class=\"card stack\">{}{}\
             <label>{}<textarea name=\"{name}\" rows=\"2\"{}></textarea></label><button>{}</button></form>\n",
            percent_encode(&c.token),
            lang_query(lang),
            csrf_field(s),
            version_field(c),
            escape(label),
            if required { " required" } else { "" },
            escape(button)
        )
    };
    if may(Action::Route) {
        let _ = write!(
            html,
            "<h2>{}</h2>\n<div class=\"card\">{}</div>\n",
            escape(t!(lang, "派单")),
            route_form(hub, s, c, lang)
        );
    }
    if may(Action::Accept) {
        let _ = writeln!(
            html,
            "<div class=\"actions\">{}</div>",
            small_form(s, c, lang, "accept", &[], t!(lang, "签收"), true)
        );
    }
    if may(Action::Progress)
        || may(Action::Resolve)
        || may(Action::Return)
        || may(Action::IssueOrder)
    {
        let _ = writeln!(html, "<h2>{}</h2>", escape(t!(lang, "办理")));
    }
    if may(Action::IssueOrder) {
        html.push_str(&issue_order_form(district, s, c, lang, now));
    }
    if may(Action::Progress) {
        html.push_str(&text_form(
            "progress",
            "note",
            t!(lang, "进展（群众可见）"),
            t!(lang, "发布进展"),
            true,
        ));
    }
    if may(Action::Resolve) {
        html.push_str(&text_form(
            "resolve",
            "result",
            t!(lang, "办理结果（群众可见）"),
            t!(lang, "办结"),
            true,
        ));
    }
    if may(Action::DecideExtension) {
        let _ = writeln!(
            html,
            "<div class=\"actions\">{}{}</div>",
            small_form(
                s,
                c,
                lang,
                "extend",
                &[("approve", "true")],
                t!(lang, "同意延期"),
                true
            ),
            small_form(
                s,
                c,
                lang,
                "extend",
                &[("approve", "false")],
                t!(lang, "不同意"),
                false
            )
        );
    }
    // What is done less often, folded away (a phone's page stays short).
    let _ = writeln!(
        html,
        "<details class=\"more\"><summary>{}</summary>",
        escape(t!(lang, "更多操作"))
    );
    let folded_from = html.len();
    if may(Action::AskExtension) {
        let _ = writeln!(
            html,
            "<form method=\"post\" action=\"/cases/{}/extend?{}\" class=\"card stack\">{}{}\
             <label>{}<input type=\"datetime-local\" name=\"until\" required></label>\
             <label>{}<textarea name=\"reason\" rows=\"2\" required></textarea></label><button>{}</button></form>",
            percent_encode(&c.token),
            lang_query(lang),
            csrf_field(s),
            version_field(c),
            escape(t!(lang, "延至")),
            escape(t!(lang, "延期理由")),
            escape(t!(lang, "申请延期"))
        );
    }
    // The folded actions that are one text and a button: (action, its path, the field, the
    // label, the button, whether the text is required).
    let folded: [(Action, &str, &str, &str, &str, bool); 6] = [
        (
            Action::Return,
            "return",
            "reason",
            t!(lang, "退回理由"),
            t!(lang, "退回调度"),
            true,
        ),
        (
            Action::FollowUp,
            "follow-up",
            "outcome",
            t!(lang, "回访结果"),
            t!(lang, "记录回访"),
            true,
        ),
        (
            Action::Chase,
            "chase",
            "note",
            t!(lang, "催办说明"),
            t!(lang, "催办"),
            false,
        ),
        (
            Action::Supervise,
            "supervise",
            "note",
            t!(lang, "督办说明"),
            t!(lang, "督办"),
            false,
        ),
        (
            Action::Note,
            "note",
            "note",
            t!(lang, "内部备注（群众不可见）"),
            t!(lang, "添加备注"),
            true,
        ),
        (
            Action::Close,
            "close",
            "reason",
            t!(lang, "结案说明"),
            t!(lang, "结案"),
            true,
        ),
    ];
    for (action, path, name, label, button, required) in folded {
        if may(action) {
            html.push_str(&text_form(path, name, label, button, required));
        }
    }
    if html.len() == folded_from {
        // Nothing folded: no empty fold.
        let start = html.rfind("<details").unwrap_or(html.len());
        html.truncate(start);
    } else {
        html.push_str("</details>\n");
    }
    html
}

fn issue_order_form(
    district: &District,
    s: &Session,
    c: &DistrictCase,
    lang: Language,
    now: DateTime<Utc>,
) -> String {
    let options: String = district
        .of_kind(UnitKind::Department)
        .map(|d| {
            format!(
                "<option value=\"{}\">{}</option>",
                escape(&d.id),
                escape(d.name.get(lang))
            )
        })
        .collect();
    let soon = (now + chrono::Duration::hours(2))
        .with_timezone(&china())
        .format("%Y-%m-%dT%H:00");
    format!(
        "<form method=\"post\" action=\"/cases/{}/orders?{}\" class=\"card stack order-form\">{}{}\
         <h3>{}</h3>\
         <label>{}<select name=\"department\">{options}</select></label>\
         <label>{}<textarea name=\"need\" rows=\"2\"></textarea></label>\
         <label>{}<input name=\"place\" required></label>\
         <label>{}<input type=\"datetime-local\" name=\"arrive_by\" value=\"{soon}\" required></label>\
         <label>{}<input type=\"number\" name=\"staff\" min=\"1\" max=\"500\" value=\"2\" required></label>\
         <label>{}<input type=\"datetime-local\" name=\"reply_by\"></label>\
         <button class=\"primary\">{}</button></form>\n",
        percent_encode(&c.token),
        lang_query(lang),
        csrf_field(s),
        version_field(c),
        escape(t!(lang, "发令：请部门到场")),
        escape(t!(lang, "部门")),
        escape(t!(lang, "需要做什么")),
        escape(t!(lang, "地点")),
        escape(t!(lang, "到场时间")),
        escape(t!(lang, "人数")),
        escape(t!(lang, "回复期限（可不填，默认为到场时间）")),
        escape(t!(lang, "发出指令")),
    )
}

/// A time a browser's `datetime-local` input sends (`2026-06-02T14:00`), or RFC 3339, read as
/// China Standard Time.
fn form_time(field_name: &'static str, text: &str) -> Result<DateTime<Utc>, OfficeError> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            if let Some(t) = china().from_local_datetime(&naive).single() {
                return Ok(t.with_timezone(&Utc));
            }
        }
    }
    let text = text.to_owned();
    Err(OfficeError::Invalid {
        field: field_name,
        problem: Said::new(move |lang| {
            t!(lang, "“{}”不是日期和时间，应该像 2026-06-02T14:00", text)
        }),
    })
}

/// What a case page's form asks, read from its fields.
fn case_act(fields: &[(String, String)], action: &str, role: Role) -> Result<Act, OfficeError> {
    let text = |name: &'static str, max: usize| {
        super::text(name, field(fields, name).unwrap_or_default(), max)
    };
    let optional = |name: &'static str| -> Result<Option<String>, OfficeError> {
        match field(fields, name).map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => super::text(name, v, 500).map(Some),
            None => Ok(None),
        }
    };
    Ok(match action {
        "route" => Act::Route {
            unit: field(fields, "unit").unwrap_or_default().to_owned(),
        },
        "accept" => Act::Accept,
        "return" => Act::Return {
            reason: text("reason", 500)?,
        },
        "progress" => Act::Progress {
            note: text("note", 500)?,
        },
        "resolve" => Act::Resolve {
            result: text("result", 2000)?,
        },
        "extend" if role == Role::Dispatcher => Act::DecideExtension {
            approve: field(fields, "approve") == Some("true"),
        },
        "extend" => Act::AskExtension {
            until: form_time("until", field(fields, "until").unwrap_or_default())?,
            reason: text("reason", 500)?,
        },
        "close" => Act::Close {
            reason: text("reason", 500)?,
        },
        "note" => Act::Note {
            note: text("note", 2000)?,
        },
        "follow-up" => Act::FollowUp {
            outcome: text("outcome", 500)?,
        },
        "chase" => Act::Chase {
            note: optional("note")?,
        },
        "supervise" => Act::Supervise {
            note: optional("note")?,
        },
        _ => return Err(OfficeError::NoCase),
    })
}

/// `POST /cases/{token}/{action}`: a case page's form.
/// A form posted by a person logged in: its language, the session and the fields, once the
/// form is read and carries this session's CSRF token; otherwise the page to answer with (the
/// login page, or the refusal, logged with `target`).
async fn posted(
    hub: &Arc<HubState>,
    request: Request,
    target: &str,
) -> Result<(Language, Session, Vec<(String, String)>), Response> {
    let lang = language(request.headers(), request.uri().query());
    let (parts, body) = request.into_parts();
    let session = page_session(hub, &parts.headers, lang).await?;
    let Some(fields) = form(&parts.headers, body).await else {
        return Err(failure(
            lang,
            &OfficeError::Invalid {
                field: "form",
                problem: said!("表单无法读取，请重试。"),
            },
        ));
    };
    if !session.csrf_ok(field(&fields, "csrf").unwrap_or_default()) {
        tracing::warn!(user = %session.user.id, "office: a form without this session's CSRF token");
        let _ = audit_refusal(hub, &session, target, "csrf").await;
        return Err(failure(
            lang,
            &OfficeError::Forbidden(said!("表单已失效（可能来自其他页面），请刷新后重试。")),
        ));
    }
    Ok((lang, session, fields))
}

async fn case_form(
    State(hub): State<Arc<HubState>>,
    Path((raw, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (lang, session, fields) = match posted(&hub, request, &raw).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(token) = domain::TrackingToken::parse(&raw) else {
        return failure(lang, &OfficeError::NoCase);
    };
    let version = field(&fields, "version").and_then(|v| v.parse().ok());
    let result = if action == "orders" {
        match order_fields(&fields) {
            Ok(form) => super::issue_order(&hub, &session, token.as_str(), form, version)
                .await
                .map(|(id, _)| Some(id)),
            Err(e) => Err(e),
        }
    } else {
        match case_act(&fields, &action, session.user.role) {
            Ok(act) => super::act(&hub, &session, token.as_str(), act, version)
                .await
                .map(|_| None),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(Some(order)) => redirect(&format!("/orders/{order}?{}", lang_query(lang))),
        Ok(None) => redirect(&format!(
            "/cases/{}?{}",
            percent_encode(token.as_str()),
            lang_query(lang)
        )),
        Err(OfficeError::Store(e)) => failure(lang, &OfficeError::Store(e)),
        Err(e @ (OfficeError::NoCase | OfficeError::NoOrder)) => failure(lang, &e),
        Err(e) => {
            let status = status_of(&e);
            case_screen(
                &hub,
                &session,
                token.as_str(),
                lang,
                Some(&e.words(lang)),
                status,
            )
            .await
        }
    }
}

fn order_fields(fields: &[(String, String)]) -> Result<OrderForm, OfficeError> {
    let arrive_by = form_time("arrive_by", field(fields, "arrive_by").unwrap_or_default())?;
    let reply_by = match field(fields, "reply_by")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => form_time("reply_by", v)?,
        None => arrive_by,
    };
    let need = match field(fields, "need")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => super::text("need", v, 500)?,
        None => String::new(),
    };
    Ok(OrderForm {
        department: field(fields, "department").unwrap_or_default().to_owned(),
        need,
        place: super::text("place", field(fields, "place").unwrap_or_default(), 200)?,
        arrive_by,
        staff: field(fields, "staff")
            .and_then(|v| v.trim().parse().ok())
            .ok_or(OfficeError::Invalid {
                field: "staff",
                problem: said!("人数是1到500之间的数"),
            })?,
        reply_by,
    })
}

async fn audit_refusal(
    hub: &Arc<HubState>,
    s: &Session,
    target: &str,
    what: &'static str,
) -> Result<(), crate::store::HubStoreError> {
    let (user, target, now) = (s.user.id.clone(), target.to_owned(), hub.now());
    hub.store()
        .write(move |db| accounts::audit(db, now, &user, "refused", Some(&target), Some(what)))
        .await
}

/// `/orders/{id}`: the order as an A4 red-header notice (print-ready from the browser), with
/// what the department or the community may do next.
async fn order_page(
    State(hub): State<Arc<HubState>>,
    Path(raw): Path<String>,
    request: Request,
) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    order_screen(&hub, &session, &raw, lang, None, StatusCode::OK).await
}

async fn order_screen(
    hub: &Arc<HubState>,
    session: &Session,
    raw: &str,
    lang: Language,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let Ok(id) = raw.parse::<i64>() else {
        return failure(lang, &OfficeError::NoOrder);
    };
    let order = match super::order(hub, session, id).await {
        Ok(o) => o,
        Err(e) => return failure(lang, &e),
    };
    let district = &hub.config().district;
    let case = {
        let token = order.token.clone();
        hub.store()
            .read(move |db| crate::store::district::case(db, &token))
            .await
    };
    let case = match case {
        Ok(Some(c)) => c,
        Ok(None) => return failure(lang, &OfficeError::NoCase),
        Err(e) => return failure(lang, &OfficeError::Store(e)),
    };
    let community = unit_name(district, &order.community, lang);
    let title = format!("{} {}", order.number, t!(lang, "指令"));
    let mut html = frame(lang, &title, Some(session), hub);
    html.push_str("<main class=\"order\">\n");
    if let Some(e) = error {
        let _ = writeln!(html, "<p class=\"error\" role=\"alert\">{}</p>", escape(e));
    }
    let _ = write!(
        html,
        "<article class=\"notice\">\n<p class=\"red-head\">{}</p>\n<p class=\"doc-number\">{}</p>\n<hr class=\"red-rule\">\n\
         <h1>{}</h1>\n<p><strong>{}：</strong></p>\n<p class=\"body\">{}</p>\n<dl>",
        escape(&t!(lang, "{}诉求服务指令", community)),
        escape(&order.number),
        escape(&t!(lang, "关于请{}到场处置群众诉求的指令", unit_name(district, &order.department, lang))),
        escape(unit_name(district, &order.department, lang)),
        escape(&t!(
            lang,
            "本社区受理群众诉求（查询码首段 {}，类别：{}），需贵单位派员到场处置。请按下列要求执行，并在回复期限前接令。",
            &order.token[..4.min(order.token.len())],
            service_words(hub, &case, lang)
        )),
    );
    let mut item = |label: &str, value: &str| {
        let _ = write!(html, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    };
    if !order.need.is_empty() {
        item(t!(lang, "需要做什么"), &order.need);
    }
    item(t!(lang, "地点"), &order.place);
    item(t!(lang, "到场时间"), &local(order.arrive_by));
    item(t!(lang, "人数"), &order.staff.to_string());
    item(t!(lang, "回复期限"), &local(order.reply_by));
    item(t!(lang, "状态"), order.state.label(lang));
    if let Some(at) = order.arrived_at {
        item(
            t!(lang, "到场"),
            &format!("{} · {}", local(at), order.people.join("、")),
        );
    }
    let _ = write!(
        html,
        "</dl>\n<div class=\"seal\"><p>{}</p><p>{}</p><p class=\"seal-box\">{}</p></div>\n</article>\n",
        escape(community),
        escape(&local(order.issued_at)),
        escape(t!(lang, "（盖章）")),
    );
    let actor = session.actor();
    let may = |a: OrderAction| {
        workflow::check_order(actor, &order.community, &order.department, order.state, a).is_ok()
    };
    let form_start = |action: &str| {
        format!(
            "<form method=\"post\" action=\"/orders/{}/{action}?{}\" class=\"card stack no-print\">{}",
            order.id,
            lang_query(lang),
            csrf_field(session)
        )
    };
    if may(OrderAction::Accept) {
        let _ = writeln!(
            html,
            "{}<button class=\"primary\">{}</button></form>",
            form_start("accept"),
            escape(t!(lang, "接令"))
        );
    }
    if may(OrderAction::Arrive) {
        let now = hub.now().with_timezone(&china()).format("%Y-%m-%dT%H:%M");
        let _ = writeln!(
            html,
            "{}<label>{}<textarea name=\"people\" rows=\"3\" required></textarea></label>\
             <label>{}<input type=\"datetime-local\" name=\"at\" value=\"{now}\" required></label>\
             <button class=\"primary\">{}</button></form>",
            form_start("arrive"),
            escape(t!(lang, "到场人员（每行一人）")),
            escape(t!(lang, "到场时间")),
            escape(t!(lang, "到场报到"))
        );
    }
    if may(OrderAction::Confirm) {
        let _ = writeln!(
            html,
            "{}<button class=\"primary\">{}</button></form>",
            form_start("confirm"),
            escape(t!(lang, "确认到场"))
        );
    }
    let _ = write!(
        html,
        "<p class=\"no-print\"><a href=\"/cases/{}?{}\">{}</a></p>\n</main>\n{PAGE_END}",
        percent_encode(&order.token),
        lang_query(lang),
        escape(t!(lang, "查看案件"))
    );
    office_page(status, html)
}

/// `POST /orders/{id}/{action}`.
async fn order_form(
    State(hub): State<Arc<HubState>>,
    Path((raw, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (lang, session, fields) = match posted(&hub, request, &raw).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(id) = raw.parse::<i64>() else {
        return failure(lang, &OfficeError::NoOrder);
    };
    let (step, arrival) = match action.as_str() {
        "accept" => (OrderAction::Accept, None),
        "confirm" => (OrderAction::Confirm, None),
        "arrive" => {
            let people: Vec<String> = field(&fields, "people")
                .unwrap_or_default()
                .lines()
                .flat_map(|l| l.split(['、', ',', '，']))
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            match form_time("at", field(&fields, "at").unwrap_or_default()) {
                Ok(at) => (OrderAction::Arrive, Some((people, at))),
                Err(e) => {
                    return order_screen(
                        &hub,
                        &session,
                        &raw,
                        lang,
                        Some(&e.words(lang)),
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                    .await
                }
            }
        }
        _ => return failure(lang, &OfficeError::NoOrder),
    };
    match super::order_step(&hub, &session, id, step, arrival).await {
        Ok(_) => redirect(&format!("/orders/{id}?{}", lang_query(lang))),
        Err(e @ (OfficeError::Store(_) | OfficeError::NoOrder | OfficeError::NoCase)) => {
            failure(lang, &e)
        }
        Err(e) => {
            let status = status_of(&e);
            order_screen(&hub, &session, &raw, lang, Some(&e.words(lang)), status).await
        }
    }
}

/// `/audit`: the audit log's newest 200 lines, for auditors.
async fn audit(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let lang = language(request.headers(), request.uri().query());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.user.role != Role::Auditor {
        return failure(
            lang,
            &OfficeError::Forbidden(said!("审计日志只供审计员查看。")),
        );
    }
    let lines = match hub
        .store()
        .read(|db| accounts::audit_lines(db, None, 200))
        .await
    {
        Ok(l) => l,
        Err(e) => return failure(lang, &OfficeError::Store(e)),
    };
    let title = t!(lang, "审计日志");
    let mut html = frame(lang, title, Some(&session), &hub);
    let _ = write!(
        html,
        "<main class=\"wide\">\n<h1>{}</h1>\n<table class=\"log\"><tr class=\"head\"><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        escape(title),
        escape(t!(lang, "时间")),
        escape(t!(lang, "账号")),
        escape(t!(lang, "操作")),
        escape(t!(lang, "对象")),
        escape(t!(lang, "说明")),
    );
    for l in &lines {
        let at = crate::clock::parse_stamp(&l.at)
            .map(local)
            .unwrap_or_else(|| l.at.clone());
        let _ = writeln!(
            html,
            "<tr><td class=\"at\">{}</td><td><strong>{}</strong></td><td>{} <span class=\"code-small\">{}</span></td><td>{}</td><td>{}</td></tr>",
            escape(&at),
            escape(&l.user),
            escape(&audit_label(&l.action, lang)),
            escape(&l.action),
            escape(l.target.as_deref().unwrap_or("")),
            escape(l.detail.as_deref().unwrap_or("")),
        );
    }
    html.push_str("</table>\n</main>\n");
    html.push_str(PAGE_END);
    office_page(StatusCode::OK, html)
}

/// An audit log line's action in words (the timeline's words for what was done to a case).
fn audit_label(action: &str, lang: Language) -> String {
    match action {
        "login" => t!(lang, "audit" => "登录"),
        "logout" => t!(lang, "audit" => "退出"),
        "login_failed" => t!(lang, "登录失败"),
        "view_personal" => t!(lang, "查看群众个人信息"),
        "refused" => t!(lang, "被拒绝"),
        "user_added" => t!(lang, "audit" => "建立账号"),
        "user_replaced" => t!(lang, "更改账号"),
        "password_set" => t!(lang, "audit" => "设置新密码"),
        "route" => t!(lang, "timeline" => "派单"),
        other => return event_label(other, lang),
    }
    .to_owned()
}

/// `/cases.csv`: the list as the API's `cases.csv` gives it, for the person logged in to the
/// pages (the same filters: `unit`, `state`, `overdue=true`; headed in `lang`).
async fn cases_csv(
    State(hub): State<Arc<HubState>>,
    query: Result<
        axum::extract::Query<super::api::ListQuery>,
        axum::extract::rejection::QueryRejection,
    >,
    headers: HeaderMap,
) -> Response {
    let page_lang = language(&headers, None);
    let session = match page_session(&hub, &headers, page_lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = hub.now();
    let read = query.ok().and_then(|axum::extract::Query(q)| {
        let filter = q.filter(
            &hub.config().district,
            now,
            super::export::MAX_ROWS,
            super::export::MAX_ROWS,
        );
        Some((q.language().ok()?, filter.ok()?))
    });
    let Some((lang, filter)) = read else {
        return failure(
            page_lang,
            &OfficeError::Invalid {
                field: "query",
                problem: said!("链接里的筛选条件看不懂（单位、状态、语言）"),
            },
        );
    };
    match super::list(&hub, &session, filter).await {
        Ok((list, _)) => super::api::csv_response(super::export::cases_csv(&hub, &list, lang, now)),
        Err(e) => failure(lang, &e),
    }
}
