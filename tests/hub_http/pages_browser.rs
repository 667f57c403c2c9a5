//! The hub's two pages as a real browser shows them: headless Chromium renders the public
//! tracking page at phone width (390×844) in Chinese and English, and the operator page at
//! desktop width, from a real hub on loopback. The rendered DOM must show the case's progress
//! and none of the personal data the case carries (phone in any spelling, name, description,
//! answers); the answers must carry the private-page headers; the operator page must show a
//! station's heartbeat, paper, backlog and a red alert for a high-risk case.
//!
//! Chromium is required: `scripts/test` installs it. Without it this test fails, it never
//! skips. `UPDATE_DOC_IMAGES=1` writes the screenshots to `docs/images/` (`tracking-phone-zh`,
//! `tracking-phone-en`, `operator`); otherwise they go to a temporary directory.

use crate::hub_common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, FixedOffset, Utc};
use domain::{RiskAssessment, RiskLevel, RiskReason, TrackingToken};
use hub_common::*;
use protocol::{CaseSubmission, SubmittedAnswer};
use serde_json::json;

/// The personal data the filed case carries; none of it may reach either page.
const PHONE: &str = "13912345678";
const NAME: &str = "王秀英";
const DESCRIPTION: &str =
    "我是王秀英，电话 139 1234 5678。楼上每晚十一点后还在装修-DESCRIPTION-MARK";
const TEXT_ANSWER: &str = "王秀英 139-1234-5678 TEXT-ANSWER-MARK";
const CHOICE_ANSWER: &str = "装修施工-CHOICE-MARK";

const DEPARTMENT_NAME: &str = "区住房和城乡建设局";
const IN_PROGRESS_NOTE: &str = "工作人员已上门查看";
const RESOLVED_NOTE: &str = "已约谈施工方，晚上十点后停止施工";
/// 2030-03-15 10:00 in China Standard Time.
const EXPECTED_AT: &str = "2030-03-15T02:00:00Z";
const EXPECTED_CST: &str = "2030-03-15 10:00";

const PHONE_SIZE: (u32, u32) = (390, 844);
const DESKTOP_SIZE: (u32, u32) = (1280, 800);

/// The Chromium on `PATH`, or a failure that says how to get one.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "headless Chromium is needed to render the hub's pages, and neither `chromium` nor \
         `chromium-browser` is on PATH: run `scripts/test` (it installs Chromium), or install \
         it yourself (`apt-get install chromium fonts-wqy-microhei`)"
    );
}

/// Where the screenshots go: `docs/images/` when asked to update them, else a temporary dir.
fn image_dir(temp: &Path) -> PathBuf {
    if std::env::var("UPDATE_DOC_IMAGES").is_ok_and(|v| v == "1") {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&dir).expect("docs/images");
        dir
    } else {
        temp.to_owned()
    }
}

/// Runs headless Chromium once with `args` after the common ones and returns its standard
/// output; fails after a minute.
fn run_chromium(profile: &Path, size: (u32, u32), args: &[String]) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--no-proxy-server",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", size.0, size.1))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + StdDuration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for Chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within a minute: {args:?}");
        }
        std::thread::sleep(StdDuration::from_millis(50));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "Chromium failed ({status}): {args:?}\n{err}"
    );
    out
}

/// What Chromium made of one page: the DOM after loading, and a screenshot's bytes.
struct Rendered {
    dom: String,
    png: Vec<u8>,
}

/// Renders `url` at `size` with `extra` flags, writing the screenshot to `shot`.
async fn render(
    url: String,
    size: (u32, u32),
    extra: Vec<String>,
    shot: PathBuf,
    profile: PathBuf,
) -> Rendered {
    tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_file(&shot);
        let mut args = extra.clone();
        args.push(format!("--screenshot={}", shot.display()));
        args.push(url.clone());
        run_chromium(&profile, size, &args);
        let png = std::fs::read(&shot)
            .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
        let mut args = extra;
        args.push("--dump-dom".into());
        args.push(url);
        let dom = run_chromium(&profile, size, &args);
        assert!(dom.contains("</html>"), "no DOM dumped: {dom}");
        Rendered { dom, png }
    })
    .await
    .expect("the browser task")
}

/// An RGB(A) image decoded from a PNG.
struct Image {
    width: u32,
    height: u32,
    channels: usize,
    data: Vec<u8>,
}

impl Image {
    fn decode(png_bytes: &[u8]) -> Image {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("a sane image size")];
        let frame = reader.next_frame(&mut buffer).expect("the PNG decodes");
        buffer.truncate(frame.buffer_size());
        Image {
            width: frame.width,
            height: frame.height,
            channels: frame.color_type.samples(),
            data: buffer,
        }
    }

    /// How many pixels `pick` accepts.
    fn count(&self, pick: impl Fn(u8, u8, u8) -> bool) -> usize {
        self.data
            .chunks(self.channels)
            .filter(|px| px.len() >= 3 && pick(px[0], px[1], px[2]))
            .count()
    }
}

/// The text a reader sees: tags dropped, the few entities the hub writes decoded.
fn visible_text(dom: &str) -> String {
    let body = dom.split_once("<body").map(|(_, b)| b).unwrap_or(dom);
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Fails if the phone number appears in `dom`, however it is spelt: with spaces, dashes,
/// dots, brackets, a country code, full-width digits, or split by markup.
fn assert_no_phone(dom: &str, page: &str) {
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter_map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                c if c.is_whitespace() || "-–—.()（）+_/·".contains(c) => None,
                c => Some(c),
            })
            .collect()
    };
    for haystack in [squeeze(dom), squeeze(&visible_text(dom))] {
        for needle in [PHONE, &PHONE[..7], &PHONE[3..]] {
            assert!(
                !haystack.contains(needle),
                "the phone number ({needle}) is on the {page}: {dom}"
            );
        }
    }
}

/// Fails if anything the resident entered (other than the phone) appears in `dom`.
fn assert_no_personal_data(dom: &str, page: &str) {
    assert_no_phone(dom, page);
    let text = visible_text(dom);
    for secret in [
        NAME,
        "秀英",
        "DESCRIPTION-MARK",
        "楼上每晚",
        "TEXT-ANSWER-MARK",
        "CHOICE-MARK",
        "装修施工",
        "噪音来自哪里",
        "怎么称呼您",
    ] {
        assert!(
            !dom.contains(secret) && !text.contains(secret),
            "`{secret}` is on the {page}: {dom}"
        );
    }
}

/// The case a resident files: a noise complaint with a name, a phone number in three
/// spellings, a description and a text answer.
fn personal_case() -> CaseSubmission {
    let mut case = sample_case(STATION_A);
    case.phone = Some(PHONE.into());
    case.description = Some(DESCRIPTION.into());
    case.answers = vec![
        SubmittedAnswer {
            question: "source".into(),
            question_label: "噪音来自哪里？".into(),
            value: "renovation".into(),
            value_label: CHOICE_ANSWER.into(),
        },
        SubmittedAnswer {
            question: "contact_name".into(),
            question_label: "怎么称呼您？".into(),
            value: TEXT_ANSWER.into(),
            value_label: TEXT_ANSWER.into(),
        },
    ];
    case
}

/// `needles` appear in `haystack` in this order.
fn assert_in_order(haystack: &str, needles: &[&str], what: &str) {
    let mut from = 0;
    for needle in needles {
        let at = haystack[from..].find(needle).unwrap_or_else(|| {
            panic!("`{needle}` missing (or out of order) in {what}: {haystack}")
        });
        from += at + needle.len();
    }
}

/// The part of `dom` from the element with `id` to the end of its section.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {dom}"));
    let end = dom[start..]
        .find("</section>")
        .map_or(dom.len(), |e| e + start);
    &dom[start..end]
}

/// The table row of `dom` that mentions `needle`.
fn row<'a>(dom: &'a str, needle: &str) -> &'a str {
    dom.split("<tr")
        .find(|r| r.contains(needle))
        .unwrap_or_else(|| panic!("no row with `{needle}` in {dom}"))
}

async fn assert_private_headers(hub: &TestHub, path: &str, accept_language: &str) -> String {
    let r = hub
        .client
        .get(hub.url(path))
        .header("Accept-Language", accept_language)
        .send()
        .await
        .expect("the hub answers");
    assert_eq!(r.status(), 200, "{path}");
    let h = r.headers();
    let header = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header on {path}"))
            .to_owned()
    };
    assert!(header("x-robots-tag").contains("noindex"), "{path}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    assert_eq!(header("cache-control"), "no-store", "{path}");
    r.text().await.expect("a page")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_in_a_phone_browser_shows_progress_and_nothing_personal() {
    chromium();
    let hub = TestHub::start().await;
    let temp = tempfile::tempdir().expect("a temporary directory");
    let images = image_dir(temp.path());

    let case = personal_case();
    hub.file(&case).await;
    hub.department_says(
        &case.token,
        json!({"state": "in_progress", "note": IN_PROGRESS_NOTE, "department": DEPARTMENT_NAME}),
    )
    .await;
    hub.department_says(
        &case.token,
        json!({
            "state": "resolved", "note": RESOLVED_NOTE, "department": DEPARTMENT_NAME,
            "expected_at": EXPECTED_AT
        }),
    )
    .await;
    let grouped = TrackingToken::parse(&case.token).unwrap().grouped();
    let path = format!("/T/{}", case.token);

    // The headers, for a Chinese and an English browser.
    let zh_html = assert_private_headers(&hub, &path, "zh-CN,zh;q=0.9").await;
    let en_html = assert_private_headers(&hub, &path, "en-US,en;q=0.9").await;
    assert!(zh_html.contains("诉求办理进度") && en_html.contains("Case progress"));

    // Chinese, as a browser set to Chinese asks for it; English through the page's switch.
    let renders = [
        (
            "zh",
            hub.url(&path),
            vec!["--accept-lang=zh-CN,zh".to_owned()],
        ),
        (
            "en",
            hub.url(&format!("{path}?lang=en")),
            vec!["--accept-lang=zh-CN,zh".to_owned()],
        ),
        // Traditional, as a phone set to Hong Kong Chinese asks for it.
        (
            "zh-Hant",
            hub.url(&path),
            vec!["--accept-lang=zh-HK,zh;q=0.8".to_owned()],
        ),
    ];
    for (lang, url, flags) in renders {
        let shot = images.join(format!("tracking-phone-{lang}.png"));
        let page = render(
            url,
            PHONE_SIZE,
            flags,
            shot.clone(),
            temp.path().join("profile"),
        )
        .await;
        let dom = &page.dom;
        let what = format!("tracking page ({lang})");

        assert_no_personal_data(dom, &what);

        let image = Image::decode(&page.png);
        assert_eq!(image.width, PHONE_SIZE.0, "{}", shot.display());
        assert!(image.height >= 600, "{}", shot.display());

        assert!(
            dom.contains("<meta name=\"robots\" content=\"noindex"),
            "{what}: {dom}"
        );
        assert!(dom.contains("name=\"viewport\""), "{what}: {dom}");
        let hant = |zh: &'static str| {
            let words = domain::words::translation(domain::Language::ZhHant, zh).unwrap_or(zh);
            assert_ne!(words, zh, "{zh} has its Traditional form");
            words
        };
        let (state, timeline, received, in_progress, station_label, expected_label) = match lang {
            "zh-Hant" => (
                hant("已办结"),
                hant("办理记录"),
                "已收到",
                hant("办理中"),
                hant("受理站点"),
                hant("预计办结"),
            ),
            "zh" => (
                "已办结",
                "办理记录",
                "已收到",
                "办理中",
                "受理站点",
                "预计办结",
            ),
            _ => (
                "Resolved",
                "Progress",
                "Received",
                "In progress",
                "Filed at",
                "Expected by",
            ),
        };
        let status = section(dom, "status");
        assert!(status.contains(state), "{what}: the state in {status}");
        for shown in [
            grouped.as_str(),
            DEPARTMENT_NAME,
            "万达广场站",
            EXPECTED_CST,
            station_label,
            expected_label,
            timeline,
        ] {
            assert!(
                dom.contains(shown),
                "`{shown}` missing from the {what}: {dom}"
            );
        }
        // The timeline, newest first, with the departments' notes.
        let steps = section(dom, "timeline");
        assert_in_order(
            steps,
            &[
                state,
                RESOLVED_NOTE,
                in_progress,
                IN_PROGRESS_NOTE,
                received,
            ],
            &what,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_page_on_a_desktop_shows_heartbeat_paper_backlog_and_a_red_alert() {
    chromium();
    let hub = TestHub::start().await;
    let temp = tempfile::tempdir().expect("a temporary directory");
    let images = image_dir(temp.path());

    let sent_at = Utc::now();
    let beat = json!({
        "station_id": STATION_A, "sent_at": sent_at, "app_version": "0.1.0",
        "printer_state": "near_end", "paper_left_m": 1.5, "paper_low": true,
        "queue_lengths": {"A": 2, "B": 0}, "outbox_pending": 3, "outbox_oldest_s": 1500
    });
    assert_eq!(hub.heartbeat(STATION_A_TOKEN, beat).await.status(), 204);
    let heard_at = Utc::now();

    let mut urgent = personal_case();
    urgent.risk = RiskAssessment {
        level: RiskLevel::High,
        reasons: vec![RiskReason::Keyword {
            keyword: "打人".into(),
            level: RiskLevel::High,
        }],
    };
    hub.file(&urgent).await;
    hub.file(&personal_case()).await;
    // A wall screen shows a red alert's code masked, and its reason's kind, not the words.
    let urgent_code = format!("{}…", &urgent.token[..4]);

    let cst = FixedOffset::east_opt(8 * 3600).unwrap();
    let minute =
        |t: chrono::DateTime<Utc>| t.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string();
    let heard = [minute(sent_at - Duration::seconds(1)), minute(heard_at)];

    for (lang, paper_low, backlog, alerts) in [
        ("zh", "纸将用完", "3 (最久 25分钟)", "红色预警"),
        ("en", "low", "3 (oldest 25 min)", "Red alert"),
    ] {
        let url = hub.url(&format!("/operator?lang={lang}&token={OPERATOR_TOKEN}"));
        let shot = if lang == "zh" {
            images.join("operator.png")
        } else {
            temp.path().join("operator-en.png")
        };
        let page = render(
            url,
            DESKTOP_SIZE,
            Vec::new(),
            shot.clone(),
            temp.path().join("profile"),
        )
        .await;
        let dom = &page.dom;
        let what = format!("operator page ({lang})");

        let station = row(section(dom, "stations"), STATION_A);
        assert!(
            heard.iter().any(|t| station.contains(t.as_str())),
            "{what}: the last heartbeat ({heard:?}) missing from {station}"
        );
        for shown in ["万达广场站", "near_end", "1.5 m", paper_low, backlog] {
            assert!(
                station.contains(shown),
                "{what}: `{shown}` missing from {station}"
            );
        }
        assert!(
            station.contains("class=\"warn\""),
            "{what}: low paper is not flagged in {station}"
        );

        let red = section(dom, "red-alerts");
        assert!(red.contains("alert"), "{what}: {red}");
        assert!(red.contains(alerts), "{what}: {red}");
        let alert_row = row(red, &urgent_code);
        assert!(
            alert_row.contains("万达广场站")
                && alert_row.contains(if lang == "zh" { "关键词" } else { "keyword" })
                && !dom.contains("打人"),
            "{what}: {alert_row}"
        );
        assert_no_personal_data(dom, &what);

        // The alert is red on the screen, not only in the markup: a solid red band.
        let image = Image::decode(&page.png);
        assert_eq!(image.width, DESKTOP_SIZE.0, "{}", shot.display());
        let red_pixels = image.count(|r, g, b| r > 150 && g < 70 && b < 80);
        assert!(
            red_pixels > 20_000,
            "{what}: only {red_pixels} red pixels in {} ({}×{})",
            shot.display(),
            image.width,
            image.height
        );
    }
}
