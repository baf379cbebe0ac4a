//! Open311 GeoReport v2 through the intake router: every resource in JSON and in XML (read back
//! and compared), the privacy rules, the filters and the refusals on the embedded store; partner
//! apps' posts and tokens on the embedded store and on DynamoDB (moto, when it runs).

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, Event, EventKind, FixedClock, KeyPepper,
    PartnerKey, Report, ReportDraft, Status, TrackingCode,
};
use lapor_intake::{routes, ClientLimit, Deps};
use lapor_store::{DynamoStore, MemStore, Reports, Stores, Submission};
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
        contact_keys: Default::default(),
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
        assert_eq!(attribute["required"], false, "each has a default");
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

// --- The write side: partner apps post requests --------------------------------------------

/// Where a write test's reports go: the embedded store, and DynamoDB on moto when it runs.
enum Backend {
    Mem(Arc<MemStore>),
    Dynamo(DynamoStore, aws_sdk_dynamodb::Client),
}

impl Backend {
    fn stores(&self) -> Stores {
        match self {
            Backend::Mem(store) => Stores::of(store.clone()),
            Backend::Dynamo(store, _) => Stores::of(Arc::new(store.clone())),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Mem(_) => "memory",
            Backend::Dynamo(..) => "dynamodb",
        }
    }

    /// Every report in the store, counted apart from the ports under test.
    async fn report_count(&self) -> usize {
        match self {
            Backend::Mem(store) => store.report_count(),
            Backend::Dynamo(store, client) => {
                let mut count = 0;
                let mut start = None;
                loop {
                    let page = client
                        .scan()
                        .table_name(store.table())
                        .filter_expression("begins_with(pk, :r) AND sk = :meta")
                        .expression_attribute_values(":r", AttributeValue::S("REPORT#".into()))
                        .expression_attribute_values(":meta", AttributeValue::S("META".into()))
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .expect("scan");
                    count += usize::try_from(page.count).expect("count");
                    start = page.last_evaluated_key;
                    if start.is_none() {
                        return count;
                    }
                }
            }
        }
    }
}

async fn backends() -> Vec<Backend> {
    let mut found = vec![Backend::Mem(Arc::new(MemStore::new()))];
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "LAPOR_REQUIRE_MOTO is set but AWS_ENDPOINT_URL is not: start moto"
        );
        eprintln!("DynamoDB skipped: no AWS_ENDPOINT_URL");
        return found;
    }
    let client = aws_sdk_dynamodb::Client::new(&lapor_lambda::aws_config().await);
    let table = format!("open311-{}", ulid_like());
    let store = DynamoStore::new(client.clone(), table);
    store.create_table_if_missing().await.expect("create table");
    found.push(Backend::Dynamo(store, client));
    found
}

/// A table name no other test uses (moto's state is shared).
fn ulid_like() -> String {
    let code = TrackingCode::generate(&mut rand::rng());
    format!(
        "{}-{}",
        code.as_str().to_ascii_lowercase(),
        std::process::id()
    )
}

/// A partner app's view of the API: the router, its store, a live key and a revoked one.
struct Partner {
    app: Router,
    backend: Backend,
    stores: Stores,
    key: String,
    revoked: String,
}

/// A partner on `backend` whose key may post `per_hour` requests, behind a per-address limit of
/// one write an hour (which partner posts are not counted against).
async fn partner(backend: Backend, per_hour: u64) -> Partner {
    let stores = backend.stores();
    let directory = lapor_core::Directory::parse(lapor_core::Directory::bundled_sample())
        .expect("bundled directory");
    stores
        .directory
        .put_directory(&directory)
        .await
        .expect("directory");
    let issued = now().fixed_offset();
    let mut keys = Vec::new();
    for name in ["Aplikasi Warga", "Aplikasi Lama"] {
        let (record, key) =
            PartnerKey::issue(name, issued, &mut rand::rng()).expect("a valid name");
        stores
            .partner_keys
            .add_partner_key(&record)
            .await
            .expect("add key");
        keys.push((record, key));
    }
    let revoked = stores
        .partner_keys
        .revoke_partner_key(&keys[1].0.id, issued)
        .await
        .expect("revoke")
        .expect("the key exists");
    assert!(revoked.is_revoked());
    let pepper = KeyPepper::new(b"handler-test-pepper-of-32-bytes!".to_vec()).expect("32 bytes");
    let deps = Deps::new(
        &stores,
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    )
    .with_partner_limit(ClientLimit::per_hour(per_hour))
    .with_client_limit(ClientLimit::per_hour(1));
    Partner {
        app: routes(deps),
        backend,
        stores,
        key: keys[0].1.reveal(),
        revoked: keys[1].1.reveal(),
    }
}

/// A form's fields, in order.
type Fields = Vec<(&'static str, String)>;

/// What of the reporter's identity an answer must never echo. The phone in the forms it can be
/// written in, never a short run of its digits: a random token may hold any four digits.
const PARTNER_IDENTITY: [&str; 6] = [
    "Siti",
    "Aminah",
    "0813-9876-5432",
    "81398765432",
    "9876-5432",
    "siti.aminah",
];

/// A good request from Kota Cirebon, with the reporter's identity.
fn pothole(key: &str) -> Fields {
    vec![
        ("api_key", key.to_string()),
        ("service_code", "infrastruktur".into()),
        ("lat", "-6.7153".into()),
        ("long", "108.5505".into()),
        (
            "address_string",
            "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon".into(),
        ),
        (
            "description",
            "Jalan berlubang di depan pasar. Sudah dua minggu membahayakan pengendara motor."
                .into(),
        ),
        ("first_name", "Siti".into()),
        ("last_name", "Aminah".into()),
        ("phone", "0813-9876-5432".into()),
        ("email", "siti.aminah@example.id".into()),
        ("attribute[type]", "pengaduan".into()),
        ("attribute[privacy]", "publik".into()),
    ]
}

fn form_body(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts `fields` as a form; the status, the headers and the body (JSON, or XML read back).
async fn post(
    app: &Router,
    format: &str,
    fields: &[(&str, String)],
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::post(format!("/open311/v2/requests.{format}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form_body(fields)))
        .expect("request");
    // Every post from the partner's one server.
    let server: std::net::SocketAddr = ([198, 51, 100, 7], 443).into();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(server));
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    for word in PARTNER_IDENTITY {
        assert!(!text.contains(word), "the answer echoes `{word}`: {text}");
    }
    let body = if format == "xml" {
        let (root, value) = parse_xml(&text);
        assert!(
            matches!(root.as_str(), "service_requests" | "errors"),
            "{root}"
        );
        value
    } else {
        serde_json::from_str(&text).expect("JSON")
    };
    (status, headers, body)
}

#[tokio::test]
async fn a_partner_files_a_normal_report_that_the_citizen_can_track() {
    for backend in backends().await {
        let name = backend.name();
        let p = partner(backend, 100).await;
        for format in ["json", "xml"] {
            let before = p.backend.report_count().await;
            let (status, headers, body) = post(&p.app, format, &pothole(&p.key)).await;
            assert_eq!(status, StatusCode::OK, "{name} {format}: {body}");
            assert_eq!(headers["cache-control"], "no-store");
            assert_eq!(p.backend.report_count().await, before + 1, "{name}");
            let answer = &body[0];
            let code = TrackingCode::parse(answer["service_request_id"].as_str().expect("id"))
                .expect("a tracking code");
            let access_key = answer["access_key"].as_str().expect("access key");
            assert!(answer["service_notice"]
                .as_str()
                .expect("notice")
                .contains(" / "));
            assert_eq!(as_text(&answer["account_id"]), json!(""));

            let report = p.stores.reports.report(&code).await.expect("read");
            let report = report.expect("filed");
            assert_eq!(report.channel, Channel::Open311);
            assert_eq!(report.region.as_str(), "32.74");
            assert!(!report.region_assumed);
            assert_eq!(report.title, "Jalan berlubang di depan pasar.");
            assert_eq!(report.status, Status::Diterima);
            assert!(report.due_at.is_some(), "a deadline from birth");
            let reporter = p.stores.identity.reporter(&code).await.expect("read");
            let reporter = reporter.expect("the reporter is kept");
            assert_eq!(reporter.name.as_deref(), Some("Siti Aminah"));
            assert_eq!(
                reporter.phone.as_ref().map(|p| p.as_str()),
                Some("+6281398765432")
            );

            let routing = lapor_routing::Deps::new(
                &p.stores,
                Arc::new(FixedClock::new(now())),
                Deadlines::indonesia(),
            );
            let change = lapor_store::ReportChange {
                old: None,
                new: Some(report),
            };
            let outcome = lapor_routing::route_change(&routing, &change)
                .await
                .expect("routed");
            assert_eq!(
                outcome,
                lapor_routing::Outcome::Forwarded(
                    AgencyId::parse("kota-cirebon-dpupr").expect("id")
                ),
                "{name}: routed as a web report would be"
            );

            let request = Request::get(format!("/reports/{code}"))
                .header("x-access-key", access_key)
                .body(Body::empty())
                .expect("request");
            let response = p.app.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            let own: Value = serde_json::from_slice(&bytes).expect("JSON");
            assert_eq!(own["view"], "reporter");
            assert_eq!(own["channel"], "open311");
            assert_eq!(own["status"], "terdisposisi");
            assert_eq!(own["tracking_code"], code.as_str());

            let token = answer["token"].as_str().expect("token").to_string();
            for token_format in ["json", "xml"] {
                let uri = format!("/open311/v2/tokens/{token}.{token_format}");
                let (status, root, found) = if token_format == "json" {
                    let (status, body) = get_json(&p.app, &uri).await;
                    (status, "service_requests".to_string(), body)
                } else {
                    get_xml(&p.app, &uri).await
                };
                assert_eq!(status, StatusCode::OK, "{uri}");
                assert_eq!(root, "service_requests");
                assert_eq!(
                    found,
                    json!([{"service_request_id": code.as_str(), "token": token}])
                );
            }
        }
    }
}

#[tokio::test]
async fn a_request_naming_no_place_waits_for_triage() {
    for backend in backends().await {
        let p = partner(backend, 100).await;
        let fields = vec![
            ("api_key", p.key.clone()),
            ("service_code", "lingkungan_hidup".into()),
            ("lat", "-2.5".into()),
            ("long", "118.0".into()),
            (
                "description",
                "Sampah menumpuk di tepi sungai dan berbau busuk sejak minggu lalu.".into(),
            ),
            ("attribute[privacy]", "rahasia".into()),
        ];
        let (status, _, body) = post(&p.app, "json", &fields).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let code =
            TrackingCode::parse(body[0]["service_request_id"].as_str().expect("id")).expect("code");
        let report = p.stores.reports.report(&code).await.expect("read");
        let report = report.expect("filed");
        assert!(report.region_assumed);
        assert_eq!(report.region.as_str(), lapor_core::region::ASSUMED_REGION);
        assert_eq!(
            report.report_type,
            lapor_core::ReportType::Pengaduan,
            "default"
        );
        assert_eq!(report.privacy, lapor_core::Privacy::Rahasia);
        assert!(body[0]["service_notice"]
            .as_str()
            .expect("notice")
            .contains("admin pusat"));
        // The token opens the request for whoever filed it; the public id stays hidden.
        let token = body[0]["token"].as_str().expect("token");
        let (status, _) = get_json(&p.app, &format!("/open311/v2/tokens/{token}.json")).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = get_json(&p.app, &format!("/open311/v2/requests/{code}.json")).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "a rahasia report is never public"
        );
    }
}

#[tokio::test]
async fn refused_requests_answer_in_the_specifications_shape_and_write_nothing() {
    for backend in backends().await {
        let name = backend.name();
        let p = partner(backend, 100).await;
        let good = pothole(&p.key);
        let with = |name: &'static str, value: &str| -> Fields {
            let mut fields: Vec<_> = good.iter().filter(|(k, _)| *k != name).cloned().collect();
            fields.push((name, value.to_string()));
            fields
        };
        let without = |names: &[&str]| -> Fields {
            good.iter()
                .filter(|(k, _)| !names.contains(k))
                .cloned()
                .collect()
        };
        let forged = format!("{}x", &p.key[..p.key.len() - 1]);
        let cases: Vec<(&str, Fields, StatusCode)> = vec![
            ("no key", without(&["api_key"]), StatusCode::FORBIDDEN),
            (
                "malformed key",
                with("api_key", "rahasia"),
                StatusCode::FORBIDDEN,
            ),
            (
                "wrong secret",
                with("api_key", &forged),
                StatusCode::FORBIDDEN,
            ),
            (
                "revoked key",
                with("api_key", &p.revoked),
                StatusCode::FORBIDDEN,
            ),
            (
                "no location",
                without(&["lat", "long", "address_string"]),
                StatusCode::BAD_REQUEST,
            ),
            ("half a point", without(&["long"]), StatusCode::BAD_REQUEST),
            (
                "unknown service",
                with("service_code", "jalan"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "no service",
                without(&["service_code"]),
                StatusCode::BAD_REQUEST,
            ),
            (
                "unknown jurisdiction",
                with("jurisdiction_id", "99.99"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "malformed jurisdiction",
                with("jurisdiction_id", "Cirebon"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "short description",
                with("description", "Rusak."),
                StatusCode::BAD_REQUEST,
            ),
            (
                "bad privacy",
                with("attribute[privacy]", "terbuka"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "unknown attribute",
                with("attribute[warna]", "merah"),
                StatusCode::BAD_REQUEST,
            ),
            (
                "unknown field",
                with("nama", "Siti"),
                StatusCode::BAD_REQUEST,
            ),
            ("bad phone", with("phone", "12345"), StatusCode::BAD_REQUEST),
            (
                "outside Indonesia",
                with("lat", "48.85"),
                StatusCode::BAD_REQUEST,
            ),
        ];
        let before = p.backend.report_count().await;
        for (case, fields, expected) in cases {
            for format in ["json", "xml"] {
                let (status, headers, body) = post(&p.app, format, &fields).await;
                assert_eq!(status, expected, "{name} {case} {format}: {body}");
                assert_eq!(headers["cache-control"], "no-store");
                assert_eq!(
                    as_text(&body[0]["code"]),
                    json!(expected.as_u16().to_string()),
                    "{case}"
                );
                let description = body[0]["description"].as_str().expect("description");
                assert!(description.contains(" / "), "{case}: {description}");
                assert!(!description.contains(&p.key), "{case}: the key is echoed");
            }
        }
        let revoked = post(&p.app, "json", &with("api_key", &p.revoked)).await.2;
        assert!(revoked[0]["description"]
            .as_str()
            .expect("text")
            .contains("revoked"));
        let service = post(&p.app, "json", &with("service_code", "jalan")).await.2;
        assert!(service[0]["description"]
            .as_str()
            .expect("text")
            .starts_with("service_code: "));
        assert_eq!(
            p.backend.report_count().await,
            before,
            "{name}: nothing written"
        );

        let request = Request::post("/open311/v2/requests.json")
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let response = p.app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "not a form");
        let (status, _, body) = {
            let request = Request::post("/open311/v2/services.json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form_body(&good)))
                .expect("request");
            let response = p.app.clone().oneshot(request).await.expect("infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            (
                status,
                (),
                serde_json::from_slice::<Value>(&bytes).expect("JSON"),
            )
        };
        assert_eq!(status, StatusCode::NOT_FOUND, "only requests take posts");
        assert_eq!(body[0]["code"], 404);
        assert_eq!(
            p.backend.report_count().await,
            before,
            "{name}: nothing written"
        );
    }
}

#[tokio::test]
async fn a_partner_over_its_hourly_quota_gets_429_and_writes_nothing() {
    // Two posts from one address, over its limit of one: partner posts count per key only.
    for backend in backends().await {
        let name = backend.name();
        let p = partner(backend, 2).await;
        for _ in 0..2 {
            let (status, _, body) = post(&p.app, "json", &pothole(&p.key)).await;
            assert_eq!(status, StatusCode::OK, "{name}: {body}");
        }
        let before = p.backend.report_count().await;
        for format in ["json", "xml"] {
            let (status, headers, body) = post(&p.app, format, &pothole(&p.key)).await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{name}: {body}");
            let retry: u32 = headers["retry-after"]
                .to_str()
                .expect("text")
                .parse()
                .expect("seconds");
            assert!((1..=3600).contains(&retry), "{retry}");
            assert_eq!(as_text(&body[0]["code"]), json!("429"));
        }
        assert_eq!(
            p.backend.report_count().await,
            before,
            "{name}: nothing written"
        );
    }
}

#[tokio::test]
async fn an_unknown_or_forged_token_is_a_404() {
    let p = partner(Backend::Mem(Arc::new(MemStore::new())), 100).await;
    let (status, _, body) = post(&p.app, "json", &pothole(&p.key)).await;
    assert_eq!(status, StatusCode::OK);
    let token = body[0]["token"].as_str().expect("token");
    let code = body[0]["service_request_id"].as_str().expect("id");
    let other = TrackingCode::generate(&mut rand::rng());
    let (_, tag) = token.split_once('_').expect("code_tag");
    for bad in [
        "nothing".to_string(),
        code.to_string(),
        format!("{other}_{tag}"),
        format!("{code}_{}", "0".repeat(tag.len())),
    ] {
        let (status, body) = both(&p.app, &format!("/open311/v2/tokens/{bad}"), "", "errors").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(body[0]["code"], 404);
    }
}
