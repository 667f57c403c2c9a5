//! The leaders' page in a real browser (issue 20, done-when 1): on the demo district with a
//! generated month of history ([`seed_month`]), headless Chromium opens `/overview` as the
//! leader on a 390 px phone and on a 1920 px wall screen, and the list behind the map's most
//! at-risk community. The page must fit the phone's width, the most at-risk community must be
//! the one the map and the list name first, and the flagged department the one ranked last.
//! `UPDATE_DOC_IMAGES=1` writes the pictures to `docs/images/office-overview-*.png` and
//! `office-list-phone.png`.

use crate::cdp::{Browser, Tab};
use crate::district_browser::image_dir;
use crate::district_leaders::{leaders_hub, seed_month};
use crate::hub_common::*;

fn log_in(browser: &mut Browser, tab: &Tab, hub: &TestHub, user: &str) {
    tab.open(browser, &hub.url("/login?lang=zh"));
    tab.submit(
        browser,
        &format!(
            "document.querySelector('input[name=user]').value = '{user}';
             document.querySelector('input[name=password]').value = 'password-of-{user}';
             document.querySelector('form button.primary').click();"
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leaders_page_after_a_month_on_a_phone_and_a_wall_screen() {
    let hub = leaders_hub("2026-06-01T08:00:00").await;
    let month = seed_month(&hub, 20_260_601).await;
    assert!(month.filed > 150);
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = image_dir(temp.path());
    let url = hub.url("/overview?lang=zh");
    let hub = std::sync::Arc::new(hub);
    let shared = std::sync::Arc::clone(&hub);
    tokio::task::spawn_blocking(move || {
        let hub = shared;
        let mut browser = Browser::start();
        let phone = browser.tab(390, 844, true);
        log_in(&mut browser, &phone, &hub, "leader");
        assert!(phone.url(&mut browser).contains("/overview"), "the leader lands on the board");
        let text = phone.text(&mut browser);
        for heading in ["领导看板", "红色预警", "风险地图", "本月考核排名", "近30天每日受理", "数据质量"] {
            assert!(text.contains(heading), "{heading} is on the page:\n{text}");
        }
        // The most at-risk community comes first in the words under the map.
        let first = phone.eval(
            &mut browser,
            "document.querySelector('ol.risk-list li strong').textContent",
        );
        assert_eq!(first, "东湖一社区", "{text}");
        // The flagged department is the one ranked last of those ranked.
        let flagged = phone.eval(
            &mut browser,
            "[...document.querySelectorAll('table.rank')][0].querySelector('tr.flagged a').textContent",
        );
        assert_eq!(flagged, "区市场监督管理局");
        // Nothing wider than the phone; the map drawn at the column's width.
        let width = phone.eval(&mut browser, "document.documentElement.scrollWidth");
        assert!(width.as_u64().is_some_and(|w| w <= 390), "{width} px wide on a 390 px phone");
        let map = phone.eval(
            &mut browser,
            "document.querySelector('svg.map').getBoundingClientRect().width",
        );
        assert!(map.as_f64().is_some_and(|w| w > 300.0 && w <= 390.0), "map {map}");
        let png = phone.full_screenshot(&mut browser);
        std::fs::write(dir.join("office-overview-phone.png"), &png).expect("the picture");
        // The page's weight, for the budget (under 200 KB).
        let bytes = phone.eval(&mut browser, "document.documentElement.outerHTML.length");
        assert!(bytes.as_u64().is_some_and(|b| b < 200_000), "{bytes} bytes");

        let wall = browser.tab(1920, 1080, false);
        wall.open(&mut browser, &url);
        let columns = wall.eval(
            &mut browser,
            "getComputedStyle(document.querySelector('.columns')).gridTemplateColumns.split(' ').length",
        );
        assert_eq!(columns, 3, "three columns on a wall screen");
        let png = wall.full_screenshot(&mut browser);
        std::fs::write(dir.join("office-overview-desktop.png"), &png).expect("the picture");

        // The map's most at-risk community opens its open cases.
        phone.submit(
            &mut browser,
            "document.querySelector('ol.risk-list li a').click()",
        );
        assert!(phone.url(&mut browser).contains("/list?community=dh-one"));
        let list = phone.text(&mut browser);
        assert!(list.contains("案件清单") && list.contains("拖欠工资"), "{list}");
        let png = phone.full_screenshot(&mut browser);
        std::fs::write(dir.join("office-list-phone.png"), &png).expect("the picture");
    })
    .await
    .expect("the browser's part");
}
