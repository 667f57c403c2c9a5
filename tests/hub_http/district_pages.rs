//! The back office's pages as their forms meet them (issue 19, done-when 3 and 4): a form
//! without this session's CSRF token, or with another's, is refused and logged; a form sent
//! twice finds the case moved; the login form needs its own token; and every role, looking at
//! every page it can open, sees the resident's phone and words only where it may.

use reqwest::{header, StatusCode};
use serde_json::json;

use crate::district::{district_hub, log_in_as, login, wages_case, DEMO_TOKEN};
use crate::hub_common::*;

/// A page as the person with `session` opens it (the session cookie, as a browser sends it).
pub(crate) async fn page(hub: &TestHub, session: &str, path: &str) -> (StatusCode, String) {
    let r = hub
        .client
        .get(hub.url(path))
        .header(header::COOKIE, format!("gk_session={session}"))
        .send()
        .await
        .expect("the hub answers");
    (r.status(), r.text().await.expect("a page"))
}

/// Posts a page's form with the session cookie.
async fn form(
    hub: &TestHub,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = hub
        .client
        .post(hub.url(path))
        .header(header::COOKIE, format!("gk_session={session}"))
        .form(fields)
        .send()
        .await
        .expect("the hub answers");
    (r.status(), r.text().await.expect("a page"))
}

/// A client that shows redirects rather than following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The value of the hidden field `name` in the first form of a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_form_needs_this_sessions_token_and_a_form_sent_twice_finds_the_case_moved() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let code = case.token.clone();
    let dispatcher = login(&hub, "dispatcher").await;
    let (status, desk) = page(&hub, &dispatcher, "/desk?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    let (csrf, version) = (hidden(&desk, "csrf"), hidden(&desk, "version"));
    let route = format!("/cases/{code}/route");
    // No token, and another session's token: refused, logged, nothing done.
    let other = login(&hub, "dispatcher2").await;
    let (_, other_desk) = page(&hub, &other, "/desk").await;
    let foreign = hidden(&other_desk, "csrf");
    assert_ne!(foreign, csrf);
    for fields in [
        vec![("unit", "gm-north"), ("version", version.as_str())],
        vec![
            ("unit", "gm-north"),
            ("version", version.as_str()),
            ("csrf", foreign.as_str()),
        ],
    ] {
        let (status, body) = form(&hub, &dispatcher, &route, &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let refused = hub.rows(
        "SELECT count(*) FROM audit_log WHERE action = 'refused' AND detail = 'csrf'",
        &[],
    );
    assert_eq!(refused[0][0], Sql::Int(2));
    assert_eq!(
        hub.rows("SELECT count(*) FROM district_events", &[])[0][0],
        Sql::Int(0),
        "nothing was done"
    );

    // The form as the page gave it: done, and the browser is sent to the case.
    let fields = [
        ("unit", "gm-north"),
        ("version", version.as_str()),
        ("csrf", csrf.as_str()),
    ];
    let r = no_redirects()
        .post(hub.url(&route))
        .header(header::COOKIE, format!("gk_session={dispatcher}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with(&format!("/cases/{code}")));
    // The same form again (a double click, the back button): the case moved, and the page says so.
    let (status, again) = form(&hub, &dispatcher, &format!("{route}?lang=en"), &fields).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(again.contains("someone else acted on it"), "{again}");
    // Said in the page's language, whatever the rule that refused.
    let (status, again) = form(&hub, &dispatcher, &format!("{route}?lang=zh"), &fields).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(again.contains("您打开后案件已有变动"), "{again}");
    let secretary = login(&hub, "secretary").await;
    let (_, case_page) = page(&hub, &secretary, &format!("/cases/{code}?lang=zh")).await;
    let accept = [
        ("csrf", hidden(&case_page, "csrf")),
        ("version", hidden(&case_page, "version")),
    ];
    let accept: Vec<(&str, &str)> = accept.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/cases/{code}/accept?lang=zh");
    let (status, _) = form(&hub, &secretary, &path, &accept).await;
    assert_eq!(status, StatusCode::OK, "accepted, and shown the case");
    let (_, case_page) = page(&hub, &secretary, &format!("/cases/{code}?lang=zh")).await;
    let again = [
        ("csrf", hidden(&case_page, "csrf")),
        ("version", hidden(&case_page, "version")),
    ];
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = form(&hub, &secretary, &path, &again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.contains("案件现在是“办理中”；这一步只适用于“待签收”或“重新办理”的案件"),
        "{body}"
    );
    assert_eq!(
        hub.rows(
            "SELECT count(*) FROM district_events WHERE kind = 'routed'",
            &[]
        )[0][0],
        Sql::Int(1)
    );
}

#[tokio::test]
async fn the_login_form_needs_its_own_cookies_token() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let no_cookie = hub
        .client
        .post(hub.url("/login"))
        .form(&[
            ("user", "dispatcher"),
            ("password", "password-of-dispatcher"),
            ("csrf", "0123456789abcdef0123456789abcdef"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_cookie.status(),
        StatusCode::FORBIDDEN,
        "a login posted from elsewhere"
    );
    // The page sets the cookie and the field; together they log in and set the session cookie.
    let form_page = hub.get("/login").await;
    let cookie = form_page.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let value = cookie.split(';').next().unwrap().to_owned();
    let token = hidden(&form_page.text().await.unwrap(), "csrf");
    let r = no_redirects()
        .post(hub.url("/login"))
        .header(header::COOKIE, value)
        .form(&[
            ("user", "dispatcher"),
            ("password", "password-of-dispatcher"),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = r
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gk_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert_eq!(r.headers()[header::LOCATION], "/desk?lang=zh");
    // The cookie opens the pages, never the JSON API (whose calls carry no CSRF token).
    let cookie = session.split(';').next().unwrap().to_owned();
    let api = hub
        .client
        .get(hub.url("/api/v1/district/cases"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let desk = hub
        .client
        .get(hub.url("/desk"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_role_sees_the_residents_data_only_where_it_may() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let case = wages_case(&hub, "demo");
    assert_eq!(hub.submit(DEMO_TOKEN, &case).await.status(), 201);
    let code = case.token.clone();
    let phone = case.phone.clone().unwrap();
    let words = "十几个工人";
    let answer = "10到29人";
    // Routed to the community, which orders the housing bureau.
    let dispatcher = login(&hub, "dispatcher").await;
    let api = |token: String, path: String, body: serde_json::Value| {
        let request = hub
            .client
            .post(hub.url(&path))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    assert!(api(
        dispatcher.clone(),
        format!("/api/v1/district/cases/{code}/route"),
        json!({"unit": "gm-north"})
    )
    .await
    .status()
    .is_success());
    let secretary = login(&hub, "secretary").await;
    assert!(api(
        secretary.clone(),
        format!("/api/v1/district/cases/{code}/accept"),
        json!({})
    )
    .await
    .status()
    .is_success());
    let order = api(secretary.clone(), format!("/api/v1/district/cases/{code}/orders"), json!({
        "department": "housing", "place": "工地", "arrive_by": "2026-06-02T14:00:00+08:00", "staff": 2,
    }))
    .await;
    let id = order.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let pages = [
        "/desk".to_owned(),
        "/inbox".to_owned(),
        format!("/cases/{code}"),
        format!("/orders/{id}"),
        "/audit".to_owned(),
        format!("/T/{code}"),
        "/overview".to_owned(),
        "/list?state=open".to_owned(),
        "/list?community=gm-north&risk=elevated".to_owned(),
        "/cases.csv?state=open".to_owned(),
    ];
    for (user, may_see) in [
        ("dispatcher", true),
        ("secretary", true),
        ("gm-north-handler", true),
        ("south-secretary", false),
        ("street", false),
        ("donghu-street", false),
        ("housing", false),
        ("labour", false),
        ("leader", false),
        ("auditor", false),
    ] {
        let session = login(&hub, user).await;
        for path in &pages {
            let (status, html) = page(&hub, &session, path).await;
            let shown = html.contains(&phone) || html.contains(words) || html.contains(answer);
            let expected = may_see && path.starts_with("/cases/");
            assert_eq!(shown, expected, "{user} at {path} ({status})");
        }
    }
    // The audit log records each view of the resident's data, and carries none of it.
    let (_, audit) = page(&hub, &login(&hub, "auditor").await, "/audit").await;
    assert!(audit.contains("view_personal"));
    assert!(!audit.contains(&phone) && !audit.contains(words));
}

#[tokio::test]
async fn the_dispatcher_makes_an_account_on_the_accounts_page_and_sets_a_new_password() {
    let hub = district_hub("2026-06-02T10:00:00").await;
    let dispatcher = login(&hub, "dispatcher").await;
    let (status, users) = page(&hub, &dispatcher, "/users?lang=zh").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        users.contains("新建账号") && users.contains("全部账号"),
        "{users}"
    );
    assert!(
        users.contains("/users?lang=zh\">账号</a>"),
        "the bar leads here"
    );
    // Every account is listed; the auditor's can be looked at, not changed, nor made.
    assert!(users.contains("action=\"/users/secretary/password"));
    assert!(users.contains(">auditor<") && !users.contains("/users/auditor/password"));
    assert!(
        !users.contains("value=\"auditor\""),
        "no auditor in the roles offered"
    );
    let csrf = hidden(&users, "csrf");

    let fields = |unit: &'static str, password: &'static str| {
        vec![
            ("id", "gm-north-2"),
            ("name", "李敏"),
            ("role", "community"),
            ("unit", unit),
            ("password", password),
            ("csrf", csrf.as_str()),
        ]
    };
    // Refusals in the page's words, the form kept (not the password), nothing made.
    let (status, body) = form(
        &hub,
        &dispatcher,
        "/users?lang=zh",
        &fields("housing", "a-first-password"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("单位与角色不相配"), "{body}");
    assert!(body.contains("value=\"gm-north-2\"") && body.contains("value=\"李敏\""));
    assert!(
        !body.contains("a-first-password"),
        "a password is never shown again"
    );
    let (status, body) = form(
        &hub,
        &dispatcher,
        "/users?lang=en",
        &fields("gm-north", "short"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("A password has at least 10 characters."),
        "{body}"
    );
    let mut without = fields("gm-north", "a-first-password");
    without.pop();
    let (status, _) = form(&hub, &dispatcher, "/users", &without).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    assert!(log_in_as(&hub, "gm-north-2", "a-first-password")
        .await
        .is_err());

    // Made: the page says so, and the person logs in.
    let good = fields("gm-north", "a-first-password");
    let r = no_redirects()
        .post(hub.url("/users?lang=zh"))
        .header(header::COOKIE, format!("gk_session={dispatcher}"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let (_, shown) = page(&hub, &dispatcher, &back).await;
    assert!(shown.contains("已建立账号 gm-north-2。"), "{shown}");
    assert!(shown.contains("李敏") && shown.contains("action=\"/users/gm-north-2/password"));
    let first = log_in_as(&hub, "gm-north-2", "a-first-password")
        .await
        .expect("the new account logs in");
    let (status, inbox) = page(&hub, &first, "/inbox?lang=zh").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains("光明北社区"), "the unit given: {inbox}");
    let (status, body) = form(&hub, &dispatcher, "/users?lang=zh", &good).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("这个账号已经有了"), "{body}");

    // A locked account shows as locked; a new password unlocks it and ends its sessions.
    for _ in 0..5 {
        assert!(log_in_as(&hub, "gm-north-2", "wrong-password!")
            .await
            .is_err());
    }
    assert!(
        log_in_as(&hub, "gm-north-2", "a-first-password")
            .await
            .is_err(),
        "locked"
    );
    let (_, users) = page(&hub, &dispatcher, "/users?lang=zh").await;
    assert!(users.contains("密码错误次数过多，锁定至"), "{users}");
    let (status, _) = form(
        &hub,
        &dispatcher,
        "/users/gm-north-2/password?lang=zh",
        &[("password", "a-second-password"), ("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "sent back to the accounts page");
    let r = no_redirects()
        .get(hub.url("/inbox"))
        .header(header::COOKIE, format!("gk_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the old session ended");
    assert!(log_in_as(&hub, "gm-north-2", "a-second-password")
        .await
        .is_ok());

    // Not the secretary's page, nor her form.
    let secretary = login(&hub, "secretary").await;
    let (status, body) = page(&hub, &secretary, "/users?lang=zh").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("只有调度员可以管理账号"), "{body}");
    let (_, inbox) = page(&hub, &secretary, "/inbox").await;
    let theirs = hidden(&inbox, "csrf");
    let (status, _) = form(
        &hub,
        &secretary,
        "/users/gm-north-2/password",
        &[("password", "a-third-password"), ("csrf", theirs.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(log_in_as(&hub, "gm-north-2", "a-second-password")
        .await
        .is_ok());
}
