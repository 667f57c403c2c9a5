//! The seed's story in a real browser (issue 19, done-when 1): headless Chromium, driven
//! through the DevTools protocol (`tests/cdp`), plays every person on the demo district's pages
//! as they would: a resident's case "拖欠三十万工程款，十几个工人" reaches the dispatcher's desk
//! and is routed to the community; the secretary accepts it and orders the housing bureau to
//! come at 14:00; the bureau accepts, reports arriving at 13:50 with three people; the community
//! confirms and posts the result; the citizen's tracking page shows it resolved, the citizen
//! rates it satisfied, and the case counts as same-day.
//!
//! Each person has a browser of their own (their own cookies). Every page on the way is
//! rendered at phone width (390 px) and at desktop width; `UPDATE_DOC_IMAGES=1` writes them to
//! `docs/images/office-*.png`, otherwise to a temporary directory. The pages work without
//! script: the test only fills fields and presses buttons.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Duration;
use domain::{Answer, CaseDraft};
use serde_json::Value;
use station::clock::Clock;
use station::config::{KioskConfig, UpstreamKind};
use station::kiosk::Kiosk;
use station::upstream::client::Upstream;

use crate::cdp::{Browser, Tab};
use crate::district::{district_hub, get, login, DEMO_TOKEN};
use crate::hub_common::*;

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

/// Where the screenshots go: `docs/images/` when asked to update them, else a temporary dir.
pub(crate) fn image_dir(temp: &Path) -> PathBuf {
    if std::env::var("UPDATE_DOC_IMAGES").is_ok_and(|v| v == "1") {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&dir).expect("docs/images");
        dir
    } else {
        temp.to_owned()
    }
}

/// One person at their own browser: a phone-sized tab they work in, and a desktop-sized one
/// the test uses to picture the same page.
struct Person {
    browser: Browser,
    phone: Tab,
    desk: Tab,
}

impl Person {
    fn new() -> Person {
        let mut browser = Browser::start();
        let phone = browser.tab(PHONE.0, PHONE.1, true);
        let desk = browser.tab(DESKTOP.0, DESKTOP.1, false);
        Person {
            browser,
            phone,
            desk,
        }
    }

    fn open(&mut self, url: &str) -> String {
        self.phone.open(&mut self.browser, url);
        self.phone.text(&mut self.browser)
    }

    /// Runs a line of script that presses a button, and returns the next page's text.
    fn press(&mut self, script: &str) -> String {
        self.phone.submit(&mut self.browser, script);
        self.phone.text(&mut self.browser)
    }

    fn url(&mut self) -> String {
        self.phone.url(&mut self.browser)
    }

    /// Pictures the page the person is on at both widths, as `office-NAME-{phone,desktop}.png`.
    fn picture(&mut self, dir: &Path, name: &str) {
        let url = self.url();
        let png = self.phone.save_screenshot(
            &mut self.browser,
            &dir.join(format!("office-{name}-phone.png")),
        );
        assert!(png.len() > 1000, "a screenshot of {name}");
        self.desk.open(&mut self.browser, &url);
        self.desk.save_screenshot(
            &mut self.browser,
            &dir.join(format!("office-{name}-desktop.png")),
        );
        // Nothing on a phone is wider than the screen (a page that scrolls sideways is
        // unreadable on a phone).
        let width = self
            .phone
            .eval(&mut self.browser, "document.documentElement.scrollWidth");
        assert!(
            width.as_u64().is_some_and(|w| w <= u64::from(PHONE.0)),
            "{name} is {width} px wide on a 390 px phone"
        );
    }

    fn log_in(&mut self, hub: &TestHub, user: &str) -> String {
        self.open(&hub.url("/login?lang=zh"));
        self.press(&format!(
            "document.querySelector('input[name=user]').value = '{user}';
             document.querySelector('input[name=password]').value = 'password-of-{user}';
             document.querySelector('form button.primary').click();"
        ))
    }
}

/// Script that fills `fields` (name → value) of the form posting to a path containing
/// `action`, then presses its button whose text is `button` (or its only button).
fn fill_and_press(action: &str, fields: &[(&str, &str)], button: Option<&str>) -> String {
    let sets: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "f.querySelector('[name={name}]').value = {};",
                serde_json::to_string(value).expect("a JSON string")
            )
        })
        .collect();
    let press = match button {
        Some(text) => format!(
            "[...f.querySelectorAll('button')].find(b => b.textContent.includes({})).click();",
            serde_json::to_string(text).expect("a JSON string")
        ),
        None => "f.querySelector('button').click();".to_owned(),
    };
    format!(
        "(() => {{ const f = [...document.querySelectorAll('form')].find(f => f.getAttribute('action').includes({}));
           if (!f) throw new Error('no form for {action}');
           {sets} {press} }})()",
        serde_json::to_string(action).expect("a JSON string")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_story_in_a_browser_from_the_kiosk_to_a_satisfied_citizen() {
    // Tuesday 2 June 2026, 09:30 in the district.
    let hub = district_hub("2026-06-02T09:30:00").await;
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = image_dir(temp.path());
    // The resident at the demo station's kiosk: the kiosk's own core files the case (the call
    // its screen makes when the resident presses submit), and its outbox delivers it to the hub
    // over the native protocol. The kiosk reads the hub's clock: one clock for the test.
    let kiosk_dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = KioskConfig::builtin();
    config.data_dir = kiosk_dir.path().to_owned();
    config.station.id = "demo".into();
    config.upstream.url = Some(hub.base.clone());
    config.upstream.kind = UpstreamKind::Native;
    config.upstream.token = Some(DEMO_TOKEN.into());
    config.clock = Clock::from_fn(hub.clock());
    let consent = config.consent.version.clone();
    let mut kiosk = Kiosk::open(Arc::new(config)).expect("the kiosk opens");
    let answer = |question: &str, value: &str| Answer {
        question: question.into(),
        value: value.into(),
    };
    let filed = kiosk
        .file_case(&CaseDraft {
            service: "complaint".into(),
            subtype: Some("wages_owed".into()),
            answers: vec![answer("amount", "over_100k"), answer("workers", "10_29")],
            description: "拖欠三十万工程款，十几个工人".into(),
            phone: "13812345678".into(),
            consent_version: Some(consent),
            ..CaseDraft::default()
        })
        .expect("the kiosk files the case");
    let code = filed.case.token.as_str().to_owned();
    let sent = kiosk
        .drain_outbox(
            &Upstream::new(&hub.base, UpstreamKind::Native, DEMO_TOKEN),
            false,
        )
        .await
        .expect("the outbox runs");
    assert_eq!(sent.delivered, vec![code.clone()], "delivered to the hub");
    let hub_ref = &hub;

    let story = tokio::task::block_in_place(|| {
        let rt = tokio::runtime::Handle::current();

        // The dispatcher: the login page, then the desk with the new case and its suggestion.
        let mut dispatcher = Person::new();
        dispatcher.open(&hub_ref.url("/login?lang=zh"));
        dispatcher.picture(&dir, "login");
        let desk = dispatcher.log_in(hub_ref, "dispatcher");
        assert!(desk.contains("调度台") && desk.contains("新诉求"), "{desk}");
        assert!(desk.contains("投诉建议 · 拖欠工资"), "{desk}");
        assert!(
            desk.contains("区人力资源和社会保障局 (建议)"),
            "the catalogue's suggestion: {desk}"
        );
        dispatcher.picture(&dir, "desk");
        let routed = dispatcher.press(&fill_and_press(
            &format!("/cases/{code}/route"),
            &[("unit", "gm-north")],
            None,
        ));
        assert!(
            routed.contains("光明北社区") && routed.contains("待签收"),
            "{routed}"
        );

        // The secretary: her inbox, the case with the resident's words, accept, the order.
        let mut secretary = Person::new();
        let inbox = secretary.log_in(hub_ref, "secretary");
        assert!(
            inbox.contains("待签收") && inbox.contains("拖欠工资"),
            "{inbox}"
        );
        secretary.picture(&dir, "inbox");
        let page = secretary.open(&hub_ref.url(&format!("/cases/{code}?lang=zh")));
        assert!(
            page.contains("拖欠三十万工程款，十几个工人"),
            "the assigned unit sees the resident's words"
        );
        let page = secretary.press(&fill_and_press(&format!("/cases/{code}/accept"), &[], None));
        assert!(
            page.contains("办理中") && page.contains("发令：请部门到场"),
            "{page}"
        );
        secretary.picture(&dir, "case");
        let notice = secretary.press(&fill_and_press(
            &format!("/cases/{code}/orders"),
            &[
                ("department", "housing"),
                ("need", "核实工程款拨付情况，约谈总包单位"),
                ("place", "光明南工地项目部"),
                ("arrive_by", "2026-06-02T14:00"),
                ("staff", "3"),
                ("reply_by", "2026-06-02T11:00"),
            ],
            None,
        ));
        assert!(notice.contains("光明北发令〔2026〕0001号"), "{notice}");
        assert!(
            notice.contains("光明北社区诉求服务指令") && notice.contains("（盖章）"),
            "{notice}"
        );
        assert!(
            !notice.contains("十几个工人"),
            "the notice carries no personal data"
        );
        let order_url = secretary.url();
        secretary.picture(&dir, "order");

        // The housing bureau: the order in its inbox, accept it, arrive at 13:50.
        let mut housing = Person::new();
        let inbox = housing.log_in(hub_ref, "housing");
        assert!(
            inbox.contains("光明北发令〔2026〕0001号") && inbox.contains("待接令"),
            "{inbox}"
        );
        housing.picture(&dir, "department-inbox");
        housing.open(&order_url);
        let accepted = housing.press(&fill_and_press("/accept", &[], None));
        assert!(accepted.contains("已接令"), "{accepted}");
        hub_ref.advance(Duration::minutes(4 * 60 + 25));
        let arrived = housing.press(&fill_and_press(
            "/arrive",
            &[("people", "王建国\n李敏\n赵强"), ("at", "2026-06-02T13:50")],
            None,
        ));
        assert!(
            arrived.contains("已到场") && arrived.contains("2026-06-02 13:50 · 王建国、李敏、赵强"),
            "{arrived}"
        );

        // The community confirms, and posts the result at 15:30.
        secretary.open(&order_url);
        let confirmed = secretary.press(&fill_and_press("/confirm", &[], None));
        assert!(confirmed.contains("已确认到场"), "{confirmed}");
        hub_ref.advance(Duration::minutes(95));
        secretary.open(&hub_ref.url(&format!("/cases/{code}?lang=zh")));
        secretary.press(&fill_and_press(
            &format!("/cases/{code}/progress"),
            &[("note", "住建局三人已到场，正约谈总包单位")],
            None,
        ));
        let done = secretary.press(&fill_and_press(
            &format!("/cases/{code}/resolve"),
            &[("result", "总包单位承诺三日内结清全部工程款")],
            None,
        ));
        assert!(
            done.contains("已办结") && done.contains("当日办结"),
            "{done}"
        );

        // The citizen: the slip's QR opens the tracking page; resolved; rated satisfied.
        let mut citizen = Person::new();
        let page = citizen.open(&hub_ref.url(&format!("/T/{code}?lang=zh")));
        assert!(
            page.contains("已办结") && page.contains("总包单位承诺三日内结清全部工程款"),
            "{page}"
        );
        assert!(page.contains("对办理结果满意吗？"), "{page}");
        assert!(
            !page.contains("发令") && !page.contains("王建国"),
            "the inside stays inside: {page}"
        );
        citizen.picture(&dir, "rating");
        let rated = citizen.press(&fill_and_press(
            &format!("/T/{code}/rating"),
            &[],
            Some("满意"),
        ));
        assert!(rated.contains("您的评价：满意"), "{rated}");

        // The dispatcher's view of it now: closed by the rating, resolved the same day.
        let last = dispatcher.open(&hub_ref.url(&format!("/cases/{code}?lang=zh")));
        assert!(
            last.contains("已结案") && last.contains("当日办结") && last.contains("满意"),
            "{last}"
        );
        dispatcher.picture(&dir, "closed");
        // In English too.
        let english = dispatcher.open(&hub_ref.url(&format!("/cases/{code}?lang=en")));
        assert!(
            english.contains("Closed") && english.contains("same day"),
            "{english}"
        );
        // The dispatcher's accounts page, and the auditor's log of all the above.
        let users = dispatcher.open(&hub_ref.url("/users?lang=zh"));
        assert!(
            users.contains("新建账号") && users.contains("secretary"),
            "{users}"
        );
        dispatcher.picture(&dir, "users");
        let mut auditor = Person::new();
        let log = auditor.log_in(hub_ref, "auditor");
        assert!(
            log.contains("审计日志") && log.contains("view_personal") && log.contains("route"),
            "{log}"
        );
        auditor.picture(&dir, "audit");
        rt.block_on(async {
            let token = login(hub_ref, "dispatcher").await;
            let (_, seen) = get(hub_ref, &token, &format!("/api/v1/district/cases/{code}")).await;
            seen
        })
    });
    let seen: Value = story;
    assert_eq!(seen["state"], "closed");
    assert_eq!(seen["same_day"], true);
    assert_eq!(seen["rating"], "satisfied");
}
