//! `/users`: the dispatcher's accounts page. Every account (who, which unit, which role,
//! locked or not), a form to make one and, under each account, a form to give it a new
//! password. The checks are the command line's; the refusals are said in the page's language.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use domain::district::UnitKind;
use domain::words::Said;
use domain::workflow::Role;
use domain::{t, Language};

use super::{
    failure, field, frame, lang_query, language, local, office_page, page_session, posted,
    redirect, status_of, unit_name,
};
use crate::admin::NewUser;
use crate::html::{escape, percent_encode, PAGE_END};
use crate::office::{staff, OfficeError};
use crate::people::{Session, MIN_PASSWORD_CHARS};
use crate::server::HubState;

/// What the page says above the forms.
enum Notice<'a> {
    Nothing,
    Done(String),
    Refused(&'a OfficeError),
}

/// A refusal in the page's language: what to change, not the checks' English.
fn refusal_words(e: &OfficeError, lang: Language) -> String {
    match e {
        OfficeError::Invalid { field, .. } => match *field {
            "id" => t!(lang, "账号只能用字母、数字和 . _ -，最多64个字符。").to_owned(),
            "role" => t!(lang, "请选择一个角色。").to_owned(),
            "unit" => t!(
                lang,
                "单位与角色不相配：社区人员选社区，部门人员选部门，街道督导选街道，调度员和领导选全区。"
            )
            .to_owned(),
            "password" => t!(lang, "密码至少10个字符。").to_owned(),
            "name" => t!(lang, "姓名为1到40个字符。").to_owned(),
            _ => e.words(lang),
        },
        OfficeError::Conflict(_) => t!(lang, "这个账号已经有了，请换一个。").to_owned(),
        OfficeError::NoAccount => t!(lang, "没有这个账号。").to_owned(),
        OfficeError::Forbidden(_) => t!(
            lang,
            "只有调度员可以管理账号；审计员的账号只能在服务器的命令行上建立。"
        )
        .to_owned(),
        _ => e.words(lang),
    }
}

/// The form's values to show again after a refusal (never the password).
#[derive(Default)]
struct Kept {
    id: String,
    name: String,
    unit: String,
    role: String,
}

fn new_account_form(hub: &HubState, s: &Session, lang: Language, kept: &Kept) -> String {
    let district = &hub.config().district;
    let mut roles = String::new();
    for role in Role::ALL
        .into_iter()
        .filter(|r| s.user.role.manages_accounts_of(*r))
    {
        let _ = write!(
            roles,
            "<option value=\"{}\"{}>{}</option>",
            role.as_str(),
            if kept.role == role.as_str() {
                " selected"
            } else {
                ""
            },
            escape(role.label(lang))
        );
    }
    let mut units = String::new();
    for (kind, heading) in [
        (UnitKind::Community, t!(lang, "units" => "社区")),
        (UnitKind::Department, t!(lang, "units" => "部门")),
        (UnitKind::Street, t!(lang, "units" => "街道")),
        (UnitKind::District, t!(lang, "units" => "全区")),
    ] {
        let _ = write!(units, "<optgroup label=\"{}\">", escape(heading));
        for u in district.of_kind(kind) {
            let _ = write!(
                units,
                "<option value=\"{}\"{}>{}</option>",
                escape(&u.id),
                if kept.unit == u.id { " selected" } else { "" },
                escape(u.name.get(lang))
            );
        }
        units.push_str("</optgroup>");
    }
    format!(
        "<form method=\"post\" action=\"/users?{q}\" class=\"card stack\">\
         <h2>{title}</h2>{csrf}\
         <label>{id_label}<input name=\"id\" value=\"{id}\" required maxlength=\"64\" \
         pattern=\"[A-Za-z0-9._\\-]+\" autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\"></label>\
         <label>{name_label}<input name=\"name\" value=\"{name}\" maxlength=\"40\" autocomplete=\"off\"></label>\
         <label>{role_label}<select name=\"role\">{roles}</select></label>\
         <label>{unit_label}<select name=\"unit\">{units}</select></label>\
         <label>{password_label}<input type=\"password\" name=\"password\" required \
         minlength=\"{MIN_PASSWORD_CHARS}\" autocomplete=\"new-password\"></label>\
         <button class=\"primary\">{button}</button></form>",
        q = lang_query(lang),
        title = escape(t!(lang, "新建账号")),
        csrf = super::csrf_field(s),
        id_label = escape(t!(lang, "登录账号（字母、数字）")),
        id = escape(&kept.id),
        name_label = escape(t!(lang, "姓名")),
        name = escape(&kept.name),
        role_label = escape(t!(lang, "角色")),
        unit_label = escape(t!(lang, "单位")),
        password_label = escape(t!(lang, "初始密码（至少10个字符，当面告诉本人）")),
        button = escape(t!(lang, "建立账号")),
    )
}

async fn users_screen(
    hub: &Arc<HubState>,
    s: &Session,
    lang: Language,
    said: Notice<'_>,
    kept: &Kept,
) -> Response {
    let users = match staff::list(hub, s).await {
        Ok(u) => u,
        Err(e) => {
            return failure(
                lang,
                &match e {
                    OfficeError::Forbidden(_) => {
                        OfficeError::Forbidden(Said::untranslated(refusal_words(&e, lang)))
                    }
                    other => other,
                },
            )
        }
    };
    let district = &hub.config().district;
    let now = hub.now();
    let title = t!(lang, "accounts" => "账号");
    let mut html = frame(lang, title, Some(s), hub);
    let _ = writeln!(html, "<main>\n<h1>{}</h1>", escape(title));
    let status = match &said {
        Notice::Nothing => StatusCode::OK,
        Notice::Done(words) => {
            let _ = writeln!(
                html,
                "<p class=\"card ok\" role=\"status\">{}</p>",
                escape(words)
            );
            StatusCode::OK
        }
        Notice::Refused(e) => {
            let _ = writeln!(
                html,
                "<p class=\"error\" role=\"alert\">{}</p>",
                escape(&refusal_words(e, lang))
            );
            status_of(e)
        }
    };
    html.push_str(&new_account_form(hub, s, lang, kept));
    let _ = writeln!(
        html,
        "<h2>{} <span class=\"count\">{}</span></h2>\n<ul class=\"cases\">",
        escape(t!(lang, "全部账号")),
        users.len()
    );
    for u in &users {
        let _ = write!(
            html,
            "<li class=\"case\"><p><strong>{}</strong>{}</p>\
             <p class=\"small\">{} · {}</p>",
            escape(&u.name),
            if u.name == u.id {
                String::new()
            } else {
                format!(" <span class=\"code-small\">{}</span>", escape(&u.id))
            },
            escape(unit_name(district, &u.unit, lang)),
            escape(u.role.label(lang)),
        );
        if let Some(until) = u.locked_until.filter(|t| *t > now) {
            let _ = write!(
                html,
                "<p class=\"warn\">{} {}</p>",
                escape(t!(lang, "密码错误次数过多，锁定至")),
                escape(&local(until))
            );
        }
        if s.user.role.manages_accounts_of(u.role) {
            let _ = write!(
                html,
                "<details class=\"more\"><summary>{}</summary>\
                 <form method=\"post\" action=\"/users/{}/password?{}\" class=\"stack\">{}\
                 <label>{}<input type=\"password\" name=\"password\" required minlength=\"{MIN_PASSWORD_CHARS}\" \
                 autocomplete=\"new-password\"></label><button class=\"primary\">{}</button></form></details>",
                escape(t!(lang, "设置新密码（也解除锁定）")),
                percent_encode(&u.id),
                lang_query(lang),
                super::csrf_field(s),
                escape(t!(lang, "新密码（至少10个字符）")),
                escape(t!(lang, "保存新密码")),
            );
        }
        html.push_str("</li>\n");
    }
    html.push_str("</ul>\n</main>\n");
    html.push_str(PAGE_END);
    office_page(status, html)
}

/// `GET /users` (`?added=ID` or `?password=ID` after a change).
pub(super) async fn users_page(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let query = request.uri().query().map(str::to_owned);
    let lang = language(request.headers(), query.as_deref());
    let session = match page_session(&hub, request.headers(), lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let pairs: Vec<(String, String)> = query
        .as_deref()
        .and_then(|q| crate::body::decode_form(q.as_bytes()).ok())
        .unwrap_or_default();
    let said = if let Some(id) = field(&pairs, "added") {
        Notice::Done(t!(lang, "已建立账号 {}。", id))
    } else if let Some(id) = field(&pairs, "password") {
        Notice::Done(t!(lang, "已为 {} 设置新密码。", id))
    } else {
        Notice::Nothing
    };
    users_screen(&hub, &session, lang, said, &Kept::default()).await
}

/// `POST /users`: a new account.
pub(super) async fn add_user_form(State(hub): State<Arc<HubState>>, request: Request) -> Response {
    let (lang, session, fields) = match posted(&hub, request, "users").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let value = |name: &str| field(&fields, name).unwrap_or_default().trim().to_owned();
    let kept = Kept {
        id: value("id"),
        name: value("name"),
        unit: value("unit"),
        role: value("role"),
    };
    let new = NewUser {
        id: kept.id.clone(),
        unit: kept.unit.clone(),
        role: kept.role.clone(),
        name: Some(kept.name.clone()).filter(|n| !n.is_empty()),
        password: field(&fields, "password").unwrap_or_default().to_owned(),
        replace: false,
    };
    match staff::add(&hub, &session, new).await {
        Ok(()) => redirect(&format!(
            "/users?{}&added={}",
            lang_query(lang),
            percent_encode(&kept.id)
        )),
        Err(e @ OfficeError::Store(_)) => failure(lang, &e),
        Err(e) => users_screen(&hub, &session, lang, Notice::Refused(&e), &kept).await,
    }
}

/// `POST /users/{id}/password`: a new password for an account.
pub(super) async fn password_form(
    State(hub): State<Arc<HubState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let (lang, session, fields) = match posted(&hub, request, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let password = field(&fields, "password").unwrap_or_default();
    match staff::set_password(&hub, &session, &id, password).await {
        Ok(()) => redirect(&format!(
            "/users?{}&password={}",
            lang_query(lang),
            percent_encode(&id)
        )),
        Err(e @ OfficeError::Store(_)) => failure(lang, &e),
        Err(e) => users_screen(&hub, &session, lang, Notice::Refused(&e), &Kept::default()).await,
    }
}
