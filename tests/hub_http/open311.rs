//! The hub as an Open311 GeoReport v2 server: services, idempotent requests from kiosks,
//! status, token lookup, JSON and well-formed XML, errors in Open311's format.

use crate::hub_common;

use domain::TrackingToken;
use hub_common::*;
use serde_json::{json, Value};

const BASE: &str = "/open311/v2";
/// An Open311 key tied to station A, as a kiosk filing through Open311 has (`OPEN311_KEY` is
/// tied to no station).
const KIOSK_KEY: &str = "open311-key-of-station-a-1";

/// The test hub with `KIOSK_KEY` too.
async fn kiosk_hub() -> TestHub {
    TestHub::start_with(|c| c.add_open311_key(KIOSK_KEY, &[STATION_A])).await
}

fn kiosk_form(case_id: &str, token: &TrackingToken) -> Vec<(String, String)> {
    [
        ("api_key", KIOSK_KEY),
        ("service_code", "complaint"),
        ("address_string", "演示站, 人民路 1 号"),
        ("description", "楼上噪音-DESCRIPTION-MARK"),
        ("phone", "13812345678"),
        ("attribute[kiosk_case_id]", case_id),
        ("attribute[kiosk_token]", token.as_str()),
        ("attribute[kiosk_station_id]", STATION_A),
        ("attribute[kiosk_subtype]", "noise"),
        ("attribute[kiosk_risk]", "normal"),
        ("attribute[source]", "renovation"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

async fn post_form(hub: &TestHub, format: &str, form: &[(String, String)]) -> reqwest::Response {
    hub.client
        .post(hub.url(&format!("{BASE}/requests.{format}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn get_json(hub: &TestHub, path: &str) -> (u16, Value) {
    let r = hub.get(path).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn get_xml(hub: &TestHub, path: &str) -> (u16, String) {
    let r = hub.get(path).await;
    let status = r.status().as_u16();
    assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-8");
    let text = r.text().await.unwrap();
    assert_well_formed_xml(&text);
    (status, text)
}

#[tokio::test]
async fn services_are_listed_in_json_and_xml() {
    let hub = kiosk_hub().await;
    let (status, services) = get_json(&hub, &format!("{BASE}/services.json")).await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "complaint",
            "mediation",
            "legal",
            "counselling",
            "assistance"
        ]
    );
    for s in services.as_array().unwrap() {
        assert_eq!(s["metadata"], true);
        assert_eq!(s["type"], "realtime");
        assert!(s["service_name"].as_str().unwrap().len() > 1);
    }
    let (status, xml) = get_xml(&hub, &format!("{BASE}/services.xml")).await;
    assert_eq!(status, 200);
    assert_eq!(xml.matches("<service>").count(), 5);
    assert_eq!(xml_text(&xml, "service_code"), Some("complaint"));
}

#[tokio::test]
async fn a_service_definition_announces_the_kiosk_attributes() {
    let hub = kiosk_hub().await;
    let (status, definition) = get_json(&hub, &format!("{BASE}/services/complaint.json")).await;
    assert_eq!(status, 200);
    assert_eq!(definition["service_code"], "complaint");
    let attributes = definition["attributes"].as_array().unwrap();
    let codes: Vec<&str> = attributes
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"kiosk_case_id") && codes.contains(&"kiosk_token"),
        "{codes:?}"
    );
    let subtype = attributes
        .iter()
        .find(|a| a["code"] == "kiosk_subtype")
        .unwrap();
    assert_eq!(subtype["datatype"], "singlevaluelist");
    assert!(subtype["values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["key"] == "noise"));

    let (status, xml) = get_xml(&hub, &format!("{BASE}/services/complaint.xml")).await;
    assert_eq!(status, 200);
    assert!(xml.contains("<service_definition>") && xml.contains("<code>kiosk_case_id</code>"));

    let (status, error) = get_json(&hub, &format!("{BASE}/services/weather.json")).await;
    assert_eq!(status, 404);
    assert_eq!(error[0]["code"], 404);
}

#[tokio::test]
async fn posting_a_request_needs_the_api_key() {
    let hub = kiosk_hub().await;
    let mut form = kiosk_form(&uuid::Uuid::now_v7().to_string(), &new_token());
    form.retain(|(k, _)| k != "api_key");
    let r = post_form(&hub, "json", &form).await;
    assert_eq!(r.status(), 403);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error[0]["code"], 403);
    assert!(error[0]["description"]
        .as_str()
        .unwrap()
        .contains("api_key"));

    form.push(("api_key".into(), "open311-key-00000000006".into()));
    let r = post_form(&hub, "xml", &form).await;
    assert_eq!(r.status(), 403);
    let xml = r.text().await.unwrap();
    assert_well_formed_xml(&xml);
    assert_eq!(xml_text(&xml, "code"), Some("403"));
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn a_kiosk_case_posted_twice_keeps_one_request_number() {
    let hub = kiosk_hub().await;
    let case_id = uuid::Uuid::now_v7().to_string();
    let token = new_token();
    let form = kiosk_form(&case_id, &token);

    let first = post_form(&hub, "json", &form).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let id = first[0]["service_request_id"].as_str().unwrap().to_owned();
    assert_eq!(first[0]["token"], token.as_str());

    let mut reordered = form.clone();
    reordered.reverse();
    let again = post_form(&hub, "json", &reordered).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(hub.count("cases"), 1);

    let mut changed = form.clone();
    changed.retain(|(k, _)| k != "description");
    let r = post_form(&hub, "json", &changed).await;
    assert_eq!(r.status(), 409);
    let error: Value = r.json().await.unwrap();
    assert!(error[0]["description"]
        .as_str()
        .unwrap()
        .contains("kiosk_case_id"));
    assert_eq!(hub.count("cases"), 1);

    let stored = hub.one("SELECT body FROM cases", &[])[0].text();
    assert!(
        stored.contains("DESCRIPTION-MARK"),
        "the district keeps the whole case"
    );
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_request_goes_from_open_to_closed_when_a_department_resolves_it() {
    let hub = kiosk_hub().await;
    let token = new_token();
    let created: Value = post_form(
        &hub,
        "json",
        &kiosk_form(&uuid::Uuid::now_v7().to_string(), &token),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("{BASE}/requests/{id}.json?api_key={OPEN311_KEY}");

    let (status, request) = get_json(&hub, &path).await;
    assert_eq!(status, 200);
    let r = &request[0];
    assert_eq!(r["service_request_id"], id.as_str());
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "received");
    assert_eq!(r["service_code"], "complaint");
    assert_eq!(r["address"], "演示站, 人民路 1 号");
    assert!(r["requested_datetime"].as_str().unwrap().ends_with('Z'));
    let text = request.to_string();
    for secret in ["13812345678", "DESCRIPTION-MARK", token.as_str()] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    hub.department_says(
        token.as_str(),
        json!({"state": "in_progress", "department": "区住建局", "expected_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    let (_, request) = get_json(&hub, &path).await;
    assert_eq!(request[0]["status"], "open");
    assert_eq!(request[0]["status_notes"], "in_progress");
    assert_eq!(request[0]["agency_responsible"], "区住建局");
    assert_eq!(request[0]["expected_datetime"], "2030-01-01T00:00:00Z");

    hub.department_says(
        token.as_str(),
        json!({"state": "resolved", "note": "已协调停工"}),
    )
    .await;
    let (_, request) = get_json(&hub, &path).await;
    assert_eq!(request[0]["status"], "closed");
    assert_eq!(request[0]["status_notes"], "resolved: 已协调停工");

    let (status, xml) = get_xml(
        &hub,
        &format!("{BASE}/requests/{id}.xml?api_key={OPEN311_KEY}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(xml_text(&xml, "status"), Some("closed"));
    assert!(xml.starts_with("<?xml") && xml.contains("<service_requests><request>"));
}

#[tokio::test]
async fn tokens_lookup_finds_the_request_number() {
    let hub = kiosk_hub().await;
    let token = new_token();
    let created: Value = post_form(
        &hub,
        "json",
        &kiosk_form(&uuid::Uuid::now_v7().to_string(), &token),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created[0]["service_request_id"].clone();
    let (status, found) = get_json(
        &hub,
        &format!(
            "{BASE}/tokens/{}.json?api_key={OPEN311_KEY}",
            token.grouped()
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found[0]["service_request_id"], id);
    assert_eq!(found[0]["token"], token.as_str());
    let (status, xml) = get_xml(
        &hub,
        &format!("{BASE}/tokens/{}.xml?api_key={OPEN311_KEY}", token.as_str()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(xml_text(&xml, "service_request_id"), id.as_str());
    let (status, _) = get_json(
        &hub,
        &format!("{BASE}/tokens/{}.json?api_key={OPEN311_KEY}", new_token()),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn native_and_open311_cases_are_listed_together() {
    let hub = kiosk_hub().await;
    let native = sample_case(STATION_A);
    hub.file(&native).await;
    let open311: Value = post_form(
        &hub,
        "json",
        &kiosk_form(&uuid::Uuid::now_v7().to_string(), &new_token()),
    )
    .await
    .json()
    .await
    .unwrap();
    let (status, all) =
        get_json(&hub, &format!("{BASE}/requests.json?api_key={OPEN311_KEY}")).await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let native_entry = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] != open311[0]["service_request_id"])
        .unwrap();
    assert_eq!(native_entry["address"], "万达广场站 (station-a)");

    let one_id = open311[0]["service_request_id"].as_str().unwrap();
    let (_, one) = get_json(
        &hub,
        &format!("{BASE}/requests.json?api_key={OPEN311_KEY}&service_request_id={one_id}"),
    )
    .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    let (_, closed) = get_json(
        &hub,
        &format!("{BASE}/requests.json?api_key={OPEN311_KEY}&status=closed"),
    )
    .await;
    assert!(closed.as_array().unwrap().is_empty());
    let (status, xml) = get_xml(&hub, &format!("{BASE}/requests.xml?api_key={OPEN311_KEY}")).await;
    assert_eq!(status, 200);
    assert_eq!(xml.matches("<request>").count(), 2);
}

#[tokio::test]
async fn reading_requests_needs_the_api_key_and_unknown_ids_are_404() {
    let hub = kiosk_hub().await;
    let (status, error) = get_json(&hub, &format!("{BASE}/requests.json")).await;
    assert_eq!(status, 403);
    assert_eq!(error[0]["code"], 403);
    let (status, _) = get_json(&hub, &format!("{BASE}/requests/1.json")).await;
    assert_eq!(status, 403);
    let (status, error) = get_json(
        &hub,
        &format!("{BASE}/requests/999.json?api_key={OPEN311_KEY}"),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error[0]["code"], 404);
    let (status, xml) = get_xml(
        &hub,
        &format!("{BASE}/requests/abc.xml?api_key={OPEN311_KEY}"),
    )
    .await;
    assert_eq!(status, 404);
    assert!(xml.contains("<errors><error><code>404</code>"));
}

#[tokio::test]
async fn a_bad_form_is_refused_naming_the_field() {
    let hub = kiosk_hub().await;
    let base = kiosk_form(&uuid::Uuid::now_v7().to_string(), &new_token());
    let variants: Vec<(Vec<(String, String)>, &str)> = vec![
        (
            base.iter()
                .cloned()
                .chain([("colour".to_owned(), "red".to_owned())])
                .collect(),
            "colour",
        ),
        (
            base.iter()
                .filter(|(k, _)| k != "service_code")
                .cloned()
                .collect(),
            "service_code",
        ),
        (
            base.iter()
                .map(|(k, v)| {
                    if k == "description" {
                        (k.clone(), "字".repeat(4001))
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
            "description",
        ),
        (
            base.iter()
                .map(|(k, v)| {
                    if k == "attribute[kiosk_token]" {
                        (k.clone(), "NOT-A-CODE".to_owned())
                    } else {
                        (k.clone(), v.clone())
                    }
                })
                .collect(),
            "kiosk_token",
        ),
    ];
    for (form, named) in variants {
        let r = post_form(&hub, "json", &form).await;
        assert_eq!(r.status(), 400, "{named}");
        let error: Value = r.json().await.unwrap();
        let description = error[0]["description"].as_str().unwrap();
        assert!(
            description.contains(named),
            "`{description}` does not name {named}"
        );
    }
    assert_eq!(hub.count("cases"), 0);
}

#[tokio::test]
async fn markup_in_a_note_keeps_the_xml_well_formed_and_the_case_has_a_tracking_page() {
    let hub = kiosk_hub().await;
    let token = new_token();
    let created: Value = post_form(
        &hub,
        "xml",
        &kiosk_form(&uuid::Uuid::now_v7().to_string(), &token),
    )
    .await
    .text()
    .await
    .map(|xml| {
        assert_well_formed_xml(&xml);
        json!([{"service_request_id": xml_text(&xml, "service_request_id").unwrap()}])
    })
    .unwrap();
    hub.department_says(
        token.as_str(),
        json!({"state": "in_progress", "note": "<b>&</b> ]]> '\"", "department": "A&B <dept>"}),
    )
    .await;
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (_, xml) = get_xml(
        &hub,
        &format!("{BASE}/requests/{id}.xml?api_key={OPEN311_KEY}"),
    )
    .await;
    assert!(
        xml.contains("&lt;b&gt;&amp;&lt;/b&gt; ]]&gt; &apos;&quot;"),
        "{xml}"
    );
    assert_eq!(
        xml_text(&xml, "agency_responsible"),
        Some("A&amp;B &lt;dept&gt;")
    );

    let r = hub
        .get(&format!("/T/{}", token.as_str().to_lowercase()))
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("&lt;b&gt;&amp;&lt;/b&gt;"), "{page}");
    assert!(!page.contains("DESCRIPTION-MARK") && !page.contains("13812345678"));
}

#[tokio::test]
async fn a_request_without_kiosk_attributes_gets_a_fresh_case_each_time() {
    let hub = kiosk_hub().await;
    let form: Vec<(String, String)> = [
        ("api_key", OPEN311_KEY),
        ("service_code", "assistance"),
        ("lat", "31.23"),
        ("long", "121.47"),
        ("description", "需要帮助"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let a: Value = post_form(&hub, "json", &form).await.json().await.unwrap();
    let b: Value = post_form(&hub, "json", &form).await.json().await.unwrap();
    assert_ne!(a[0]["service_request_id"], b[0]["service_request_id"]);
    let token = a[0]["token"].as_str().unwrap();
    assert!(TrackingToken::parse(token).is_ok());
    assert_eq!(hub.get(&format!("/T/{token}")).await.status(), 200);
    assert_eq!(hub.count("cases"), 2);
}

fn form_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The description of an Open311 error answer in JSON.
async fn refusal(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let error: Value = r.json().await.unwrap();
    (status, error[0]["description"].as_str().unwrap().to_owned())
}

fn cases_by_station(hub: &TestHub) -> Vec<(String, String)> {
    // In the order they were filed: by their Open311 number.
    hub.rows(
        "SELECT c.station_id, c.risk_level FROM cases c
         JOIN open311_requests o ON o.case_id = c.id ORDER BY o.service_request_id",
        &[],
    )
    .into_iter()
    .map(|r| (r[0].text(), r[1].text()))
    .collect()
}

/// Issue 17, item 3: a key tied to no station could file as `st-1` with a red alert, and
/// invented station ids each made a row on the operator page.
#[tokio::test]
async fn an_open311_key_files_only_as_the_stations_it_is_tied_to() {
    let hub = kiosk_hub().await;
    let base = [
        ("service_code", "complaint"),
        ("address_string", "人民路 1 号"),
    ];
    let with = |key: &str, extra: &[(&str, &str)]| {
        let mut form = form_of(&base);
        form.push(("api_key".into(), key.into()));
        form.extend(form_of(extra));
        form
    };

    // A key tied to no station names neither a station nor the risk.
    for (extra, named) in [
        (
            &[
                ("attribute[kiosk_station_id]", STATION_A),
                ("attribute[kiosk_risk]", "high"),
            ][..],
            "attribute[kiosk_station_id]",
        ),
        (
            &[("attribute[kiosk_station_id]", "st-1")][..],
            "attribute[kiosk_station_id]",
        ),
        (
            &[("attribute[kiosk_risk]", "high")][..],
            "attribute[kiosk_risk]",
        ),
    ] {
        let (status, said) =
            refusal(post_form(&hub, "json", &with(OPEN311_KEY, extra)).await).await;
        assert_eq!(status, 403, "{extra:?}: {said}");
        assert!(said.contains(named), "`{said}` does not name {named}");
    }
    // A key tied to station A files as no other, real or invented.
    for station in [STATION_B, "st-1", "open311"] {
        let (status, said) = refusal(
            post_form(
                &hub,
                "json",
                &with(
                    KIOSK_KEY,
                    &[
                        ("attribute[kiosk_station_id]", station),
                        ("attribute[kiosk_risk]", "high"),
                    ],
                ),
            )
            .await,
        )
        .await;
        assert_eq!(status, 403, "{station}: {said}");
        assert!(
            said.contains("kiosk_station_id") && said.contains(station),
            "{said}"
        );
    }
    // 200 invented stations leave nothing behind and nothing on the operator page.
    for n in 0..200 {
        let station = format!("invented-{n}");
        let r = post_form(
            &hub,
            "json",
            &with(KIOSK_KEY, &[("attribute[kiosk_station_id]", &station)]),
        )
        .await;
        assert_eq!(r.status(), 403);
    }
    assert_eq!(hub.count("cases"), 0);
    assert!(!hub.operator_page().await.contains("invented-"));

    // What each key may do.
    let r = post_form(
        &hub,
        "json",
        &with(
            KIOSK_KEY,
            &[
                ("attribute[kiosk_station_id]", STATION_A),
                ("attribute[kiosk_risk]", "high"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = post_form(&hub, "json", &with(KIOSK_KEY, &[])).await;
    assert_eq!(
        r.status(),
        201,
        "a key tied to one station files as it by default"
    );
    let r = post_form(&hub, "json", &with(OPEN311_KEY, &[])).await;
    assert_eq!(r.status(), 201);
    assert_eq!(
        cases_by_station(&hub),
        [
            (STATION_A.to_owned(), "high".to_owned()),
            (STATION_A.to_owned(), "normal".to_owned()),
            ("open311".to_owned(), "normal".to_owned()),
        ]
    );
}

/// A key tied to several stations must say which one it files as.
#[tokio::test]
async fn a_key_tied_to_several_stations_names_the_one_it_files_as() {
    const SHARED: &str = "open311-key-of-stations-a-b";
    let hub = TestHub::start_with(|c| c.add_open311_key(SHARED, &[STATION_A, STATION_B])).await;
    let form = |extra: &[(&str, &str)]| {
        let mut f = form_of(&[
            ("api_key", SHARED),
            ("service_code", "legal"),
            ("address_string", "x"),
        ]);
        f.extend(form_of(extra));
        f
    };
    let (status, said) = refusal(post_form(&hub, "json", &form(&[])).await).await;
    assert_eq!(status, 400);
    assert!(said.contains("attribute[kiosk_station_id]"), "{said}");
    for station in [STATION_A, STATION_B] {
        let r = post_form(
            &hub,
            "json",
            &form(&[("attribute[kiosk_station_id]", station)]),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let stations: Vec<String> = cases_by_station(&hub).into_iter().map(|(s, _)| s).collect();
    assert_eq!(stations, [STATION_A, STATION_B]);
}

/// Issue 17, item 15: an unknown service is a 404; lat/long come back as numbers and no
/// address is made up; media_url is kept; a point off the globe is refused.
#[tokio::test]
async fn a_request_keeps_its_point_and_media_and_an_unknown_service_is_404() {
    let hub = TestHub::start().await;
    for format in ["json", "xml"] {
        let r = post_form(
            &hub,
            format,
            &form_of(&[
                ("api_key", OPEN311_KEY),
                ("service_code", "weather"),
                ("lat", "31.2"),
                ("long", "121.5"),
            ]),
        )
        .await;
        assert_eq!(r.status(), 404, "{format}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("service_code") && body.contains("weather"),
            "{body}"
        );
    }

    let created: Value = post_form(
        &hub,
        "json",
        &form_of(&[
            ("api_key", OPEN311_KEY),
            ("service_code", "assistance"),
            ("lat", "31.2304"),
            ("long", "-121.4737"),
            ("media_url", "https://photos.example.org/a.jpg?w=1&h=2"),
        ]),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (status, got) = get_json(
        &hub,
        &format!("{BASE}/requests/{id}.json?api_key={OPEN311_KEY}"),
    )
    .await;
    assert_eq!(status, 200);
    let request = &got[0];
    assert_eq!(request["lat"], json!(31.2304));
    assert_eq!(request["long"], json!(-121.4737));
    assert!(request["lat"].is_number() && request["long"].is_number());
    assert_eq!(
        request["media_url"],
        "https://photos.example.org/a.jpg?w=1&h=2"
    );
    assert!(request.get("address").is_none(), "{request}");
    let (_, xml) = get_xml(
        &hub,
        &format!("{BASE}/requests/{id}.xml?api_key={OPEN311_KEY}"),
    )
    .await;
    assert_eq!(xml_text(&xml, "lat"), Some("31.2304"));
    assert_eq!(xml_text(&xml, "long"), Some("-121.4737"));
    assert_eq!(
        xml_text(&xml, "media_url"),
        Some("https://photos.example.org/a.jpg?w=1&amp;h=2")
    );
    assert!(!xml.contains("<address>"), "{xml}");

    for (field, value, named) in [
        ("lat", "95", "lat"),
        ("lat", "-90.01", "lat"),
        ("long", "180.5", "long"),
        ("long", "-181", "long"),
        ("lat", "NaN", "lat"),
        ("media_url", "javascript:alert(1)", "media_url"),
    ] {
        let mut form = form_of(&[
            ("api_key", OPEN311_KEY),
            ("service_code", "assistance"),
            ("lat", "31.2"),
            ("long", "121.5"),
        ]);
        form.retain(|(k, _)| k != field);
        form.push((field.to_owned(), value.to_owned()));
        let (status, said) = refusal(post_form(&hub, "json", &form).await).await;
        assert_eq!(status, 400, "{field}={value}: {said}");
        assert!(said.starts_with(named), "`{said}` does not name {named}");
    }
    let (status, said) = refusal(
        post_form(
            &hub,
            "json",
            &form_of(&[
                ("api_key", OPEN311_KEY),
                ("service_code", "assistance"),
                ("lat", "31.2"),
            ]),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(said.starts_with("long"), "{said}");
    assert_eq!(hub.count("cases"), 1);
}

/// Issue 17, item 15: the specification's service discovery document.
#[tokio::test]
async fn the_discovery_document_points_at_the_endpoint() {
    let hub = TestHub::start().await;
    let (status, discovery) = get_json(&hub, "/open311/discovery.json").await;
    assert_eq!(status, 200);
    let endpoint = &discovery["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(endpoint["url"], hub.url(BASE).as_str());
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    let (status, xml) = get_xml(&hub, "/open311/discovery.xml").await;
    assert_eq!(status, 200);
    assert_eq!(xml_text(&xml, "url"), Some(hub.url(BASE).as_str()));
    assert_eq!(xml.matches("<format>").count(), 2);
}

/// Issue 17, item 15: reading without a key is a setting (off by default).
#[tokio::test]
async fn public_reading_is_a_setting() {
    for public in [false, true] {
        let hub = TestHub::start_with(|c| c.open311_public_read = public).await;
        let created: Value = post_form(
            &hub,
            "json",
            &form_of(&[
                ("api_key", OPEN311_KEY),
                ("service_code", "legal"),
                ("address_string", "x"),
            ]),
        )
        .await
        .json()
        .await
        .unwrap();
        let id = created[0]["service_request_id"].as_str().unwrap();
        let token = created[0]["token"].as_str().unwrap();
        let expected = if public { 200 } else { 403 };
        for path in [
            format!("{BASE}/requests.json"),
            format!("{BASE}/requests/{id}.xml"),
            format!("{BASE}/tokens/{token}.json"),
        ] {
            assert_eq!(hub.get(&path).await.status(), expected, "{path}");
        }
        let r = post_form(
            &hub,
            "json",
            &form_of(&[("service_code", "legal"), ("address_string", "x")]),
        )
        .await;
        assert_eq!(r.status(), 403, "filing always needs the key");
    }
}

/// Issue 17, item 8: a form's invalid UTF-8 was stored as U+FFFD; bidirectional overrides
/// were accepted.
#[tokio::test]
async fn invalid_utf8_and_bidi_overrides_in_a_form_are_refused_naming_the_field() {
    let hub = TestHub::start().await;
    let head = format!("api_key={OPEN311_KEY}&service_code=legal&address_string=x");
    let bodies: [(Vec<u8>, &str); 5] = [
        (
            [head.as_bytes(), b"&description=caf%E9+%FF"].concat(),
            "description",
        ),
        (
            [head.as_bytes(), b"&first_name=\xE9"].concat(),
            "first_name",
        ),
        (
            [head.as_bytes(), b"&attribute%5Bsource%5D=%C3%28"].concat(),
            "attribute[source]",
        ),
        (
            [head.as_bytes(), b"&description=abc%E2%80%AEcba"].concat(),
            "description",
        ),
        (
            format!("api_key={OPEN311_KEY}&service_code=legal&address_string=%E2%81%A6x")
                .into_bytes(),
            "address_string",
        ),
    ];
    for (body, named) in bodies {
        let r = hub
            .client
            .post(hub.url(&format!("{BASE}/requests.json")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, said) = refusal(r).await;
        assert_eq!(status, 400, "{}: {said}", String::from_utf8_lossy(&body));
        assert!(said.starts_with(named), "`{said}` does not name {named}");
    }
    assert_eq!(hub.count("cases"), 0);
}
