//! The hub as an Open311 GeoReport v2 server: services, idempotent requests from kiosks,
//! status, token lookup, JSON and well-formed XML, errors in Open311's format.

use crate::hub_common;

use domain::TrackingToken;
use hub_common::*;
use serde_json::{json, Value};

const BASE: &str = "/open311/v2";

fn kiosk_form(case_id: &str, token: &TrackingToken) -> Vec<(String, String)> {
    [
        ("api_key", OPEN311_KEY),
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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

    let stored: String = hub
        .db()
        .query_row("SELECT body FROM cases", [], |r| r.get(0))
        .unwrap();
    assert!(
        stored.contains("DESCRIPTION-MARK"),
        "the district keeps the whole case"
    );
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_request_goes_from_open_to_closed_when_a_department_resolves_it() {
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
    let hub = TestHub::start().await;
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
