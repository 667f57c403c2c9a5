//! Properties of the hub's Open311 form parsing (issue 17, "every input parser
//! property-tested"), through the real hub over HTTP on 127.0.0.1: a `POST requests` form of
//! any content (known fields with any values, unknown fields, broken percent escapes, bytes
//! that are not UTF-8), and any query of `GET requests`, is answered by the hub itself: 2xx or
//! 4xx in the format asked for, never a 5xx. Cases are bounded; one hub serves them all.

use std::sync::OnceLock;

use proptest::prelude::*;

use hub::{HubConfig, RateLimit, RunningHub};

/// A key tied to no station (files as `open311`) and one tied to `st-1` (may set the station
/// and the risk).
const KEY: &str = "open311-key-00000000005";
const STATION_KEY: &str = "open311-key-of-st-1-006";

struct Hub {
    runtime: tokio::runtime::Runtime,
    base: String,
    client: reqwest::Client,
    _hub: RunningHub,
    _dir: tempfile::TempDir,
}

fn hub() -> &'static Hub {
    static HUB: OnceLock<Hub> = OnceLock::new();
    HUB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let mut config =
            HubConfig::new(dir.path()).with_station("st-1", "token-of-station-st-1-07");
        config.add_open311_key(KEY, &[]);
        config.add_open311_key(STATION_KEY, &["st-1"]);
        config.tracking_limit = RateLimit {
            per_minute: 1_000_000,
            burst: 1_000_000,
        };
        let hub = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            hub::start(config, listener).await.expect("the hub starts")
        });
        let base = hub.base_url();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Hub {
            runtime,
            base,
            client,
            _hub: hub,
            _dir: dir,
        }
    })
}

/// Form encoding, written out here: every byte but the unreserved ones as `%XX`, spaces `+`.
fn encode(text: &[u8]) -> String {
    let mut out = String::new();
    for &b in text {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "service_code", "description", "phone", "email", "first_name", "last_name", "lat",
            "long", "address_string", "address_id", "device_id", "account_id", "media_url",
            "jurisdiction_id", "api_key", "attribute[kiosk_case_id]", "attribute[kiosk_token]",
            "attribute[kiosk_station_id]", "attribute[kiosk_subtype]", "attribute[kiosk_risk]",
            "attribute[kiosk_language]", "attribute[kiosk_filed_at]",
            "attribute[kiosk_consent_version]", "attribute[kiosk_anonymous]", "attribute[source]",
            "attribute[source][]", "attribute[]", "attribute", "attribute[[x]]",
        ])
        .prop_map(str::to_owned),
        1 => "\\PC{0,10}",
        1 => "[a-z_\\[\\]]{0,12}",
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "complaint", "consultation", "st-1", "st-2", "open311", "high", "elevated", "normal",
            "zh", "zh-Hant", "en", "true", "false", "13812345678", "31.2", "-95", "95", "181",
            "NaN", "inf", "1e400", "2026-01-05T09:00:00Z", "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "7K3Q9XPD2W4MHT8CX", "https://example.cn/a.jpg", "javascript:alert(1)", "\u{202e}evil",
            KEY, STATION_KEY, "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        2 => any::<String>().prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..20),
        1 => (1usize..6000).prop_map(|n| vec![b'x'; n]),
    ]
}

/// A form body: encoded pairs, sometimes with raw bytes or broken escapes spliced in.
fn form() -> impl Strategy<Value = Vec<u8>> {
    // Often a form that would file a case, with any fields added, so the checks past the
    // first refusal are reached too.
    let pairs = || {
        (
            any::<bool>(),
            proptest::collection::vec((name(), value()), 0..14),
        )
            .prop_map(|(filable, pairs)| {
                let mut fields: Vec<String> = Vec::new();
                if filable {
                    fields.push(
                        "service_code=complaint&lat=31.2&long=121.5&description=%E6%A5%BC%E4%B8%8A"
                            .into(),
                    );
                }
                fields.extend(
                    pairs
                        .iter()
                        .map(|(n, v)| format!("{}={}", encode(n.as_bytes()), encode(v))),
                );
                fields.join("&").into_bytes()
            })
    };
    prop_oneof![
        6 => pairs(),
        1 => (pairs(), proptest::collection::vec(any::<u8>(), 0..12), any::<prop::sample::Index>()).prop_map(|(mut body, junk, at)| {
            let at = at.index(body.len() + 1);
            body.splice(at..at, junk);
            body
        }),
        1 => prop::sample::select(vec![
            b"%".to_vec(), b"a=%ZZ".to_vec(), b"a=%F".to_vec(), b"description=%FF%FE".to_vec(),
            b"=&=&&".to_vec(), b"service_code=complaint&service_code=complaint".to_vec(),
            b"description=%ED%A0%80".to_vec(), b"api_key".to_vec(),
        ]),
        1 => proptest::collection::vec(any::<u8>(), 0..100),
    ]
}

/// The key a request carries in its query: the plain one, the station's, a wrong one, none.
fn query_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        format!("api_key={KEY}"),
        format!("api_key={STATION_KEY}"),
        "api_key=wrong".to_owned(),
        String::new(),
    ])
}

fn is_answered_by_the_hub(status: u16, body: &str, format: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        (200..500).contains(&status),
        "answered {}: {}",
        status,
        body
    );
    if status >= 400 && status != 429 {
        match format {
            "json" => {
                let errors: serde_json::Value = serde_json::from_str(body)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
                prop_assert!(errors[0]["description"].is_string(), "{}", body);
            }
            _ => prop_assert!(
                body.contains("<errors>") || body.contains("<error>"),
                "{}",
                body
            ),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any form posted to `requests.{json,xml}` is answered 2xx or 4xx, in its format.
    #[test]
    fn any_form_is_answered_without_a_5xx(
        body in form(),
        key in query_key(),
        format in prop::sample::select(vec!["json", "xml"]),
    ) {
        let hub = hub();
        let url = format!("{}/open311/v2/requests.{format}?{key}", hub.base);
        let (status, text) = hub.runtime.block_on(async {
            let r = hub.client
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .expect("the hub answers");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
        is_answered_by_the_hub(status, &text, format)?;
    }

    /// Any query of `GET requests.{json,xml}` (dates, states, ids, codes of any form) is
    /// answered 2xx or 4xx, in its format.
    #[test]
    fn any_query_of_requests_is_answered_without_a_5xx(
        pairs in proptest::collection::vec((
            prop::sample::select(vec!["start_date", "end_date", "status", "service_code", "service_request_id", "jurisdiction_id", "page", "x"]),
            value(),
        ), 0..5),
        key in query_key(),
        format in prop::sample::select(vec!["json", "xml"]),
    ) {
        let hub = hub();
        let mut query = pairs.iter().map(|(n, v)| format!("{n}={}", encode(v))).collect::<Vec<_>>();
        query.push(key);
        let url = format!("{}/open311/v2/requests.{format}?{}", hub.base, query.join("&"));
        let (status, text) = hub.runtime.block_on(async {
            let r = hub.client.get(&url).send().await.expect("the hub answers");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
        is_answered_by_the_hub(status, &text, format)?;
    }
}

/// The properties above reach the intake: a plain form with the key files a case (201), and
/// one naming the station through the station's key too.
#[test]
fn a_plain_form_files_a_case() {
    let hub = hub();
    for (key, extra) in [
        (KEY, ""),
        (
            STATION_KEY,
            "&attribute%5Bkiosk_station_id%5D=st-1&attribute%5Bkiosk_risk%5D=high",
        ),
    ] {
        let url = format!("{}/open311/v2/requests.json?api_key={key}", hub.base);
        let body = format!("service_code=complaint&lat=31.2&long=121.5&description=%E6%A5%BC%E4%B8%8A%E8%A3%85%E4%BF%AE{extra}");
        let (status, text) = hub.runtime.block_on(async {
            let r = hub
                .client
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("the hub answers");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        });
        assert_eq!(status, 201, "{text}");
    }
}
