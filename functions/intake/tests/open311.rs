//! Open311 GeoReport v2 through the intake router on the embedded store: every resource in JSON
//! and in XML (read back and compared), the privacy rules, the filters and the refusals.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, Event, EventKind, FixedClock, KeyPepper,
    Report, ReportDraft, Status, TrackingCode,
};
use lapor_intake::{routes, Deps};
use lapor_store::{MemStore, Reports, Stores, Submission};
use quick_xml::events::Event as Xml;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

const IDENTITY: [&str; 5] = ["Siti", "Aminah", "3456", "siti.aminah", "example.id"];

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .expect("fixed time")
}

fn now() -> DateTime<Utc> {
    at("2026-11-30T02:00:00Z")
}

/// The reports every test reads, by what each is for.
struct Seeded {
    /// `publik`, Kota Cirebon, answered twice and done: closed, with the last answer as notes.
    done: TrackingCode,
    /// `anonim`, Kabupaten Cirebon, with a location that must not show.
    anonymous: TrackingCode,
    /// `rahasia`: never listed, never fetched.
    confidential: TrackingCode,
    /// Whistleblowing: never listed, never fetched.
    whistle: TrackingCode,
    /// `publik`, DKI Jakarta, open.
    jakarta: TrackingCode,
    /// `publik`, older than the default 90 days.
    old: TrackingCode,
}

fn draft(category: &str, region: &str, privacy: &str, kind: &str) -> Value {
    json!({
        "type": kind,
        "title": format!("Laporan {category} di {region}"),
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara.",
        "category": category,
        "region": region,
        "location": {"address": "Jl. Dr. Cipto Mangunkusumo", "lat": -6.7153, "lon": 108.5505},
        "privacy": privacy,
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti.aminah@example.id"}
    })
}

async fn file(store: &MemStore, draft: Value, created: &str) -> Report {
    let new = ReportDraft(draft.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid draft");
    let code = TrackingCode::generate(&mut rand::rng());
    let key = AccessKey::generate(&mut rand::rng());
    let (report, reporter, event) =
        lapor_core::Report::open(new, code, key.hash(), at(created), &Deadlines::indonesia());
    let submission = Submission {
        report: report.clone(),
        reporter,
        event,
        idempotency: None,
    };
    store
        .create_report(&submission, now().timestamp())
        .await
        .expect("create");
    report
}

/// One more timeline entry on `report`, moving it to `to`.
async fn answer(store: &MemStore, report: Report, to: Status, actor: Actor, text: &str) -> Report {
    let mut next = report.clone();
    next.status = to;
    next.version = report.version + 1;
    next.updated_at = report.updated_at + Duration::hours(1);
    let event = Event {
        seq: next.version,
        at: next.updated_at,
        kind: if actor == Actor::Reporter {
            EventKind::Reply
        } else {
            EventKind::FollowUp
        },
        actor,
        agency: AgencyId::parse("kota-cirebon-dpupr").ok(),
        status_before: Some(report.status),
        status_after: to,
        from_agency: None,
        to_agency: None,
        message: Some(text.to_string()),
        public: actor != Actor::Reporter,
        attachment: None,
    };
    store
        .update_report(&report, &next, &[event])
        .await
        .expect("update");
    next
}

async fn app() -> (Router, Arc<MemStore>, Seeded) {
    let store = Arc::new(MemStore::new());
    let s = store.as_ref();
    let done = file(
        s,
        draft("infrastruktur", "32.74", "publik", "pengaduan"),
        "2026-11-20T03:00:00Z",
    )
    .await;
    let done = answer(
        s,
        done,
        Status::Diproses,
        Actor::Officer,
        "Sedang kami perbaiki.",
    )
    .await;
    let done = answer(
        s,
        done,
        Status::Diproses,
        Actor::Reporter,
        "Terima kasih, Siti.",
    )
    .await;
    let done = answer(
        s,
        done,
        Status::Selesai,
        Actor::Officer,
        "Lubang sudah ditambal.",
    )
    .await;
    let anonymous = file(
        s,
        draft("kesehatan", "32.09", "anonim", "pengaduan"),
        "2026-11-25T03:00:00Z",
    )
    .await;
    let confidential = file(
        s,
        draft("infrastruktur", "32.74", "rahasia", "pengaduan"),
        "2026-11-26T03:00:00Z",
    )
    .await;
    let whistle = file(
        s,
        draft("infrastruktur", "32.74", "publik", "whistleblowing"),
        "2026-11-27T03:00:00Z",
    )
    .await;
    let jakarta = file(
        s,
        draft("perhubungan", "31", "publik", "aspirasi"),
        "2026-11-28T03:00:00Z",
    )
    .await;
    let old = file(
        s,
        draft("infrastruktur", "32.74", "publik", "pengaduan"),
        "2026-07-01T03:00:00Z",
    )
    .await;
    let seeded = Seeded {
        done: done.tracking_code,
        anonymous: anonymous.tracking_code,
        confidential: confidential.tracking_code,
        whistle: whistle.tracking_code,
        jakarta: jakarta.tracking_code,
        old: old.tracking_code,
    };
    let pepper = KeyPepper::new(b"handler-test-pepper-of-32-bytes!".to_vec()).expect("32 bytes");
    let deps = Deps::new(
        &Stores::of(store.clone()),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    );
    (routes(deps), store, seeded)
}

async fn fetch(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let request = Request::get(uri)
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    for word in IDENTITY {
        assert!(!text.contains(word), "{uri} leaks `{word}`: {text}");
    }
    (status, content_type, text)
}

async fn get_json(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, content_type, text) = fetch(app, uri).await;
    assert_eq!(content_type, "application/json; charset=utf-8", "{uri}");
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// The XML answer read back into the JSON the same resource answers, scalars as text.
async fn get_xml(app: &Router, uri: &str) -> (StatusCode, String, Value) {
    let (status, content_type, text) = fetch(app, uri).await;
    assert_eq!(content_type, "text/xml; charset=utf-8", "{uri}");
    let (root, value) = parse_xml(&text);
    (status, root, value)
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    text: String,
    children: Vec<Element>,
}

/// Elements whose children are list items rather than fields.
const LISTS: [&str; 8] = [
    "services",
    "service_requests",
    "errors",
    "endpoints",
    "formats",
    "attributes",
    "values",
    "service_definition_values",
];

fn parse_xml(text: &str) -> (String, Value) {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().expect("well-formed XML") {
            Xml::Start(start) => stack.push(Element {
                name: String::from_utf8(start.name().as_ref().to_vec()).expect("name"),
                ..Element::default()
            }),
            Xml::Text(t) => {
                let decoded = t.decode().expect("text");
                let unescaped = quick_xml::escape::unescape(&decoded).expect("escapes");
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&unescaped);
                }
            }
            Xml::GeneralRef(r) => {
                let name = r.decode().expect("reference");
                let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                    .expect("a predefined entity");
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(resolved);
                }
            }
            Xml::End(_) => {
                let done = stack.pop().expect("open element");
                stack.last_mut().expect("parent").children.push(done);
            }
            Xml::Eof => break,
            Xml::Decl(_) => {}
            other => panic!("unexpected XML {other:?}"),
        }
    }
    let mut document = stack.pop().expect("document");
    assert_eq!(document.children.len(), 1, "one root");
    let root = document.children.remove(0);
    (root.name.clone(), element_value(&root))
}

fn element_value(element: &Element) -> Value {
    if LISTS.contains(&element.name.as_str()) {
        return element.children.iter().map(element_value).collect();
    }
    if element.children.is_empty() {
        return Value::String(element.text.clone());
    }
    Value::Object(
        element
            .children
            .iter()
            .map(|c| (c.name.clone(), element_value(c)))
            .collect::<Map<_, _>>(),
    )
}

/// JSON with every scalar as the text XML carries.
fn as_text(value: &Value) -> Value {
    match value {
        Value::Null => Value::String(String::new()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(_) => value.clone(),
        Value::Array(items) => items.iter().map(as_text).collect(),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), as_text(v)))
                .collect(),
        ),
    }
}

/// Both formats of `path` (without extension): the JSON, after checking the XML says the same
/// under `root`.
async fn both(app: &Router, path: &str, query: &str, root: &str) -> (StatusCode, Value) {
    let (status, body) = get_json(app, &format!("{path}.json{query}")).await;
    let (xml_status, xml_root, xml_body) = get_xml(app, &format!("{path}.xml{query}")).await;
    assert_eq!(xml_status, status, "{path}{query}");
    assert_eq!(xml_root, root, "{path}{query}");
    assert_eq!(xml_body, as_text(&body), "{path}{query}");
    (status, body)
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["service_request_id"].as_str().expect("id").to_string())
        .collect()
}

fn codes(list: &[&TrackingCode]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn discovery_names_the_endpoint_as_the_client_reached_it() {
    let (app, _, _) = app().await;
    let (status, body) = both(&app, "/open311/v2/discovery", "", "discovery").await;
    assert_eq!(status, StatusCode::OK);
    let endpoint = &body["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(endpoint["url"], "http://127.0.0.1:3000/open311/v2/");
    assert_eq!(endpoint["formats"], json!(["application/json", "text/xml"]));
    assert!(body["changeset"]
        .as_str()
        .expect("changeset")
        .ends_with("+07:00"));
    assert!(body["contact"].is_string() && body["key_service"].is_string());
}

#[tokio::test]
async fn every_category_is_a_service() {
    let (app, _, _) = app().await;
    let (status, body) = both(&app, "/open311/v2/services", "", "services").await;
    assert_eq!(status, StatusCode::OK);
    let services = body.as_array().expect("a list");
    assert_eq!(services.len(), lapor_core::Category::ALL.len());
    let roads = &services[0];
    assert_eq!(roads["service_code"], "infrastruktur");
    assert_eq!(roads["service_name"], "Infrastruktur dan Pekerjaan Umum");
    assert_eq!(roads["metadata"], true);
    assert_eq!(roads["type"], "realtime");
    assert!(roads["keywords"].as_str().expect("keywords").contains(", "));
    for service in services {
        for field in ["service_name", "description", "group", "keywords"] {
            assert!(service[field].is_string(), "{service} {field}");
        }
    }
}

#[tokio::test]
async fn a_service_definition_asks_for_type_and_privacy() {
    let (app, _, _) = app().await;
    let (status, body) = both(
        &app,
        "/open311/v2/services/infrastruktur",
        "",
        "service_definition",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["service_code"], "infrastruktur");
    let attributes = body["attributes"].as_array().expect("attributes");
    let keys = |i: usize| -> Vec<String> {
        attributes[i]["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v["key"].as_str().expect("key").to_string())
            .collect()
    };
    assert_eq!(attributes[0]["code"], "type");
    assert_eq!(
        keys(0),
        [
            "pengaduan",
            "aspirasi",
            "permintaan_informasi",
            "whistleblowing"
        ]
    );
    assert_eq!(attributes[1]["code"], "privacy");
    assert_eq!(keys(1), ["publik", "anonim", "rahasia"]);
    for (i, attribute) in attributes.iter().enumerate() {
        assert_eq!(attribute["datatype"], "singlevaluelist");
        assert_eq!(attribute["required"], true);
        assert_eq!(attribute["order"], json!(i + 1));
        assert!(attribute["datatype_description"].is_string());
    }
}

#[tokio::test]
async fn an_unknown_service_is_a_404_in_the_specifications_shape() {
    let (app, _, _) = app().await;
    let (status, body) = both(&app, "/open311/v2/services/jalan", "", "errors").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body[0]["code"], 404);
    assert!(body[0]["description"]
        .as_str()
        .expect("text")
        .contains(" / "));
    let (status, _) = both(&app, "/open311/v2/nothing", "", "errors").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get_json(&app, "/open311/v2/services.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body[0]["code"], 404);
}

#[tokio::test]
async fn requests_list_only_what_the_public_may_see() {
    let (app, _, seeded) = app().await;
    let (status, body) = both(&app, "/open311/v2/requests", "", "service_requests").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&body),
        codes(&[&seeded.jakarta, &seeded.anonymous, &seeded.done]),
        "newest first, the last 90 days, never rahasia or whistleblowing"
    );
    let done = &body[2];
    assert_eq!(done["status"], "closed");
    assert_eq!(done["status_notes"], "Lubang sudah ditambal.");
    assert_eq!(done["service_code"], "infrastruktur");
    assert_eq!(done["service_name"], "Infrastruktur dan Pekerjaan Umum");
    assert_eq!(done["requested_datetime"], "2026-11-20T10:00:00+07:00");
    assert!(done["updated_datetime"]
        .as_str()
        .expect("time")
        .ends_with("+07:00"));
    assert_eq!(done["address"], "Jl. Dr. Cipto Mangunkusumo");
    assert_eq!(done["lat"], -6.7153);
    assert_eq!(done["long"], 108.5505);
    assert!(done.get("media_url").is_none());
    let anonymous = &body[1];
    assert_eq!(anonymous["status"], "open");
    assert_eq!(anonymous["status_notes"], Value::Null);
    for field in ["address", "lat", "long"] {
        assert!(anonymous.get(field).is_none(), "anonim shows {field}");
    }
    assert!(anonymous["expected_datetime"].is_string(), "the deadline");
}

#[tokio::test]
async fn one_request_is_a_list_of_one_and_hidden_ones_do_not_exist() {
    let (app, store, seeded) = app().await;
    let path = format!("/open311/v2/requests/{}", seeded.done);
    let (status, body) = both(&app, &path, "", "service_requests").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), codes(&[&seeded.done]));
    let missing = TrackingCode::generate(&mut rand::rng());
    let mut answers = Vec::new();
    for code in [
        seeded.confidential.to_string(),
        seeded.whistle.to_string(),
        missing.to_string(),
        "not-a-code".into(),
    ] {
        let path = format!("/open311/v2/requests/{code}");
        let (status, body) = both(&app, &path, "", "errors").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{code}");
        answers.push(body);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "indistinguishable"
    );
    assert_eq!(store.report_count(), 6, "reading writes nothing");
}

#[tokio::test]
async fn filters_narrow_the_list() {
    let (app, _, seeded) = app().await;
    let list = |query: &'static str| {
        let app = app.clone();
        async move {
            let (status, body) =
                both(&app, "/open311/v2/requests", query, "service_requests").await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            ids(&body)
        }
    };
    assert_eq!(
        list("?service_code=kesehatan").await,
        codes(&[&seeded.anonymous])
    );
    assert_eq!(
        list("?service_code=kesehatan,perhubungan").await,
        codes(&[&seeded.jakarta, &seeded.anonymous])
    );
    assert_eq!(list("?status=closed").await, codes(&[&seeded.done]));
    assert_eq!(
        list("?status=open").await,
        codes(&[&seeded.jakarta, &seeded.anonymous])
    );
    assert_eq!(list("?status=open,closed").await.len(), 3);
    assert_eq!(
        list("?jurisdiction_id=32").await,
        codes(&[&seeded.anonymous, &seeded.done])
    );
    assert_eq!(list("?jurisdiction_id=32.74").await, codes(&[&seeded.done]));
    assert_eq!(
        list("?start_date=2026-06-15T00:00:00%2B07:00&end_date=2026-08-15T00:00:00%2B07:00").await,
        codes(&[&seeded.old])
    );
    assert_eq!(
        list("?end_date=2026-11-26T00:00:00Z").await,
        codes(&[&seeded.anonymous, &seeded.done])
    );
    assert_eq!(
        list("?page_size=1&page=2").await,
        codes(&[&seeded.anonymous])
    );
    assert!(list("?page_size=1&page=4").await.is_empty());

    let by_ids = format!(
        "?service_request_id={},{},{}&service_code=kesehatan&jurisdiction_id=31",
        seeded.done, seeded.confidential, seeded.old
    );
    let (status, body) = both(&app, "/open311/v2/requests", &by_ids, "service_requests").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&body),
        codes(&[&seeded.done, &seeded.old]),
        "ids override the other filters, and rahasia stays hidden"
    );
}

#[tokio::test]
async fn bad_queries_are_400s_that_say_why_and_write_nothing() {
    let (app, store, _) = app().await;
    for query in [
        "?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "?start_date=2026-11-01T00:00:00Z&end_date=2026-10-01T00:00:00Z",
        "?start_date=2026-11-01",
        "?end_date=yesterday",
        "?jurisdiction_id=99",
        "?jurisdiction_id=Cirebon",
        "?service_code=jalan",
        "?status=pending",
        "?page=0",
        "?page=abc",
        "?page_size=101",
        "?page_size=-1",
        "?service_request_id=ABC,",
    ] {
        let (status, body) = both(&app, "/open311/v2/requests", query, "errors").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body[0]["code"], 400, "{query}");
        let description = body[0]["description"].as_str().expect("description");
        assert!(description.contains(" / "), "{query}: {description}");
    }
    assert_eq!(store.report_count(), 6);
}
