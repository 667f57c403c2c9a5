//! The public tracking page `/T/<TOKEN>`: progress without personal data, private headers,
//! Chinese and English, forgiving about how the code is written, one answer for every code
//! that leads nowhere, and a rate limit per client.

use crate::hub_common;

use domain::TrackingToken;
use hub::RateLimit;
use hub_common::*;
use serde_json::json;

async fn page(hub: &TestHub, path: &str, accept_language: Option<&str>) -> reqwest::Response {
    let mut request = hub.client.get(hub.url(path));
    if let Some(lang) = accept_language {
        request = request.header("Accept-Language", lang);
    }
    request.send().await.expect("the hub answers")
}

#[tokio::test]
async fn the_page_shows_progress_but_no_personal_data() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    hub.department_says(
        &case.token,
        json!({"state": "in_progress", "department": "区住建局", "expected_at": "2030-01-02T01:00:00Z"}),
    )
    .await;
    let r = page(&hub, &format!("/T/{}", case.token), None).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let grouped = TrackingToken::parse(&case.token).unwrap().grouped();
    for shown in [
        grouped.as_str(),
        "办理中",
        "区住建局",
        "2030-01-02 09:00",
        "北京时间（UTC+8）",
        "投诉建议 · 噪音扰民",
        "万达广场站",
        "name=\"viewport\"",
        "<meta name=\"robots\" content=\"noindex",
    ] {
        assert!(html.contains(shown), "`{shown}` missing from {html}");
    }
    for hidden in [
        "13812345678",
        "DESCRIPTION-MARK",
        "ANSWER-MARK",
        "装修施工",
        "<script",
    ] {
        assert!(!html.contains(hidden), "`{hidden}` shown in {html}");
    }
}

#[tokio::test]
async fn every_answer_carries_the_private_page_headers() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    for path in [format!("/T/{}", case.token), "/T/NOPE".to_owned()] {
        let r = page(&hub, &path, None).await;
        let h = r.headers();
        assert_eq!(h["x-robots-tag"], "noindex, nofollow");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert_eq!(h["content-type"], "text/html; charset=utf-8");
    }
}

#[tokio::test]
async fn a_counselling_case_never_names_its_service() {
    let hub = TestHub::start().await;
    let mut case = sample_case(STATION_A);
    case.service = "counselling".into();
    case.subtype = "talk".into();
    case.service_name = "心理服务".into();
    case.subtype_name = "心理咨询".into();
    hub.file(&case).await;
    for (query, accept) in [("", None), ("?lang=en", None), ("", Some("en-US,en"))] {
        let html = page(&hub, &format!("/T/{}{query}", case.token), accept)
            .await
            .text()
            .await
            .unwrap();
        assert!(!html.contains("心理"), "{html}");
        assert!(!html.to_lowercase().contains("counsel"), "{html}");
        assert!(html.contains("D 队") || html.contains("Lane D"), "{html}");
    }
}

#[tokio::test]
async fn the_page_speaks_chinese_by_default_and_english_when_asked() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let path = format!("/T/{}", case.token);
    let zh = page(&hub, &path, None).await.text().await.unwrap();
    assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("诉求办理进度") && zh.contains("已收到"));
    let en = page(&hub, &path, Some("en-GB,en;q=0.9,zh;q=0.5"))
        .await
        .text()
        .await
        .unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Case progress") && en.contains("Received"));
    assert!(en.contains("China Standard Time (UTC+8)"));
    let switched = page(&hub, &format!("{path}?lang=en"), Some("zh-CN"))
        .await
        .text()
        .await
        .unwrap();
    assert!(switched.contains("Case progress"));
    let back = page(&hub, &format!("{path}?lang=zh"), Some("en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(back.contains("诉求办理进度"));
    assert!(
        zh.contains("href=\"?lang=en\""),
        "the switch changes only the query"
    );
}

#[tokio::test]
async fn the_code_is_read_in_any_case_with_dashes_and_spaces() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let grouped = TrackingToken::parse(&case.token).unwrap().grouped();
    for path in [
        format!("/T/{}", grouped.to_lowercase()),
        format!("/T/{}", grouped.replace('-', "%20")),
        format!("/t/{}", case.token.to_lowercase()),
        format!("/T/{}", grouped.replace('-', " - ").replace(' ', "%20")),
    ] {
        let r = page(&hub, &path, None).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.text().await.unwrap().contains(&grouped));
    }
}

#[tokio::test]
async fn unknown_malformed_and_wrong_check_codes_get_identical_answers() {
    let hub = TestHub::start().await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let mut typo: Vec<char> = case.token.chars().collect();
    typo[16] = if typo[16] == '0' { '1' } else { '0' };
    let typo: String = typo.into_iter().collect();
    let paths = [
        format!("/T/{}", new_token()),
        format!("/T/{typo}"),
        "/T/ABCD".to_owned(),
        "/T/%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
        "/T/%FF%FE".to_owned(),
        "/T/".to_owned(),
        "/T/a/b/c".to_owned(),
    ];
    let mut answers = Vec::new();
    for path in &paths {
        let r = page(&hub, path, None).await;
        let status = r.status();
        let headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str() != "date")
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = r.bytes().await.unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains("script"),
            "{path} echoed"
        );
        answers.push((status, headers, body));
    }
    assert_eq!(answers[0].0, 404);
    for (path, answer) in paths.iter().zip(&answers) {
        assert_eq!(answer, &answers[0], "{path} answered differently");
    }
}

#[tokio::test]
async fn the_page_is_rate_limited_per_client() {
    let hub = TestHub::start_with(|c| {
        c.tracking_limit = RateLimit {
            per_minute: 1,
            burst: 3,
        }
    })
    .await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let path = format!("/T/{}", case.token);
    for _ in 0..3 {
        assert_eq!(page(&hub, &path, None).await.status(), 200);
    }
    let r = page(&hub, &path, None).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let other = hub
        .client
        .get(hub.url(&path))
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        429,
        "X-Forwarded-For is not trusted by default"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let hub = TestHub::start_with(|c| {
        c.tracking_limit = RateLimit {
            per_minute: 1,
            burst: 1,
        };
        c.trust_forwarded_for = true;
    })
    .await;
    let case = sample_case(STATION_A);
    hub.file(&case).await;
    let path = format!("/T/{}", case.token);
    let from = |ip: &'static str| {
        hub.client
            .get(hub.url(&path))
            .header("X-Forwarded-For", ip)
            .send()
    };
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 200);
    assert_eq!(from("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(from("198.51.100.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn guessing_codes_is_slowed_down_and_never_finds_a_case() {
    let hub = TestHub::start_with(|c| {
        c.tracking_limit = RateLimit {
            per_minute: 1,
            burst: 10,
        }
    })
    .await;
    for _ in 0..5 {
        hub.file(&sample_case(STATION_A)).await;
    }
    let mut limited = 0;
    for _ in 0..100 {
        let status = page(&hub, &format!("/T/{}", new_token()), None)
            .await
            .status();
        assert!(status == 404 || status == 429, "a guess got {status}");
        if status == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 85, "only {limited} of 100 guesses were limited");
}
