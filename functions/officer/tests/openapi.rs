//! The OpenAPI description of the officer routes: every route is in it, and real answers of the
//! officer router (over the embedded store, with the claims the JWT authorizer passes on) match
//! the schemas documented for their status. Schemathesis checks the rest against lapor-local.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use lapor_core::attachment::DEFAULT_MAX_FILE_BYTES;
use lapor_core::{Actor, AgencyId, Deadlines, Directory, FixedClock, Hop, Report, Role};
use lapor_files::DirFiles;
use lapor_officer::{router, Deps};
use lapor_store::{AgencyDirectory, MemStore, Reports, Stores};
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

const ROUTES: [(&str, &str); 9] = [
    ("get", "/admin/triage"),
    ("get", "/agency/dashboard"),
    ("get", "/admin/dashboard"),
    ("get", "/agency/reports"),
    ("get", "/agency/reports/{code}"),
    ("post", "/agency/reports/{code}/attachments"),
    ("post", "/reports/{code}/followups"),
    ("post", "/reports/{code}/forward"),
    ("post", "/reports/{code}/return"),
];

fn document() -> Value {
    let api = lapor_http::openapi::document(lapor_officer::openapi());
    serde_json::to_value(&api).expect("a JSON document")
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("fixed time")
}

#[test]
fn every_route_is_described_once_with_its_tag_and_token() {
    let doc = document();
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            described.insert((method.clone(), path.clone()));
            assert_eq!(operation["tags"], json!(["officer"]), "{method} {path}");
            assert_eq!(
                operation["security"],
                json!([{"bearer": []}]),
                "{method} {path}"
            );
            assert!(operation["operationId"].is_string(), "{method} {path}");
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(described, expected);
}

#[tokio::test]
async fn every_described_route_is_served() {
    let app = router(Deps::new(
        &Stores::of(Arc::new(MemStore::new())),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
    ));
    for (method, path) in ROUTES {
        let uri = path.replace("{code}", "AAAAAAAAAA");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let request = Request::builder()
            .method(method.clone())
            .uri(&uri)
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        // No token: refused by the route itself, not the router's fallbacks (404/405).
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {uri}"
        );
    }
}

#[test]
fn path_codes_and_patterns_are_the_shared_ones() {
    let doc = document();
    let code = &doc["paths"]["/agency/reports/{code}"]["get"]["parameters"][0];
    assert_eq!(code["name"], "code");
    assert_eq!(code["required"], true);
    assert_eq!(
        code["schema"]["pattern"],
        lapor_http::openapi::TRACKING_CODE
    );
    let body = &doc["components"]["schemas"]["FollowUpRequest"];
    assert_eq!(body["additionalProperties"], false);
    assert_eq!(body["required"], json!(["status", "message"]));
    assert_eq!(
        doc["components"]["schemas"]["FollowUpStatus"]["enum"],
        json!(["diproses", "selesai", "tertunda", "arsip"])
    );
    let days = &doc["paths"]["/admin/dashboard"]["get"]["parameters"][0];
    assert_eq!(days["schema"]["enum"], json!([30, 90, 365]));
}

/// The sample report, filed now.
async fn file(store: &MemStore) -> Report {
    common::file_public(store, now()).await
}

fn central() -> Hop {
    Hop {
        actor: Actor::AdminPusat,
        by: None,
        message: None,
    }
}

/// The officer router over a store with one report in triage and one forwarded to Kota Cirebon's
/// public works department; the codes of both.
async fn app() -> (Router, String, String) {
    let store = Arc::new(MemStore::new());
    let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
    store.put_directory(&directory).await.expect("import");
    let queued = file(&store).await;
    let (next, event) = queued.send_to_triage(central(), now(), &Deadlines::indonesia());
    store
        .update_report(&queued, &next, &[event])
        .await
        .expect("to triage");
    let held = file(&store).await;
    let to = AgencyId::parse("kota-cirebon-dpupr").expect("id");
    let (next, event) = held
        .forward(&to, central(), now(), &Deadlines::indonesia())
        .expect("forward");
    store
        .update_report(&held, &next, &[event])
        .await
        .expect("forwarded");
    let files = DirFiles::new("/nonexistent", "http://127.0.0.1:3000", vec![3; 32]);
    let deps = Deps::new(
        &Stores::of(store),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
    )
    .with_files(Arc::new(files), DEFAULT_MAX_FILE_BYTES);
    (
        router(deps),
        queued.tracking_code.as_str().to_string(),
        held.tracking_code.as_str().to_string(),
    )
}

struct Answer {
    status: StatusCode,
    cache_control: Option<String>,
    body: Value,
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>, role: Role) -> Answer {
    let agency = match role {
        Role::AdminPusat => "kemenpanrb",
        _ => "kota-cirebon-dpupr",
    };
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let request = common::as_officer(request, role, agency);
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let cache_control = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Answer {
        status,
        cache_control,
        body: serde_json::from_slice(&bytes).expect("json body"),
    }
}

/// Checks `answer` against the schema `doc` documents for `method path` and its status.
fn conforms(doc: &Value, method: &str, path: &str, answer: &Answer) {
    let response = &doc["paths"][path][method]["responses"][answer.status.as_str()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path}: {} is not documented",
        answer.status
    );
    let mut problems = Vec::new();
    check(doc, schema, &answer.body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {}: {problems:#?}\n{:#}",
        answer.status,
        answer.body
    );
}

/// A small JSON Schema check: what utoipa writes (`$ref`, `allOf`, `oneOf`, `type`, `required`,
/// `properties`, `additionalProperties`, `items`, `enum`, `minimum`, `maximum`).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(
            doc,
            &doc["components"]["schemas"][name],
            value,
            at,
            problems,
        );
    }
    if let Some(all) = schema["allOf"].as_array() {
        for part in all {
            check(doc, part, value, at, problems);
        }
    }
    if let Some(one) = schema["oneOf"].as_array() {
        let matching = one
            .iter()
            .filter(|s| {
                let mut found = Vec::new();
                check(doc, s, value, at, &mut found);
                found.is_empty()
            })
            .count();
        if matching != 1 {
            problems.push(format!("{at}: {matching} of oneOf match {value}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| is(t)) {
        problems.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} not in {allowed:?}"));
        }
    }
    if let (Some(n), Some(min)) = (value.as_f64(), schema["minimum"].as_f64()) {
        if n < min {
            problems.push(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(n), Some(max)) = (value.as_f64(), schema["maximum"].as_f64()) {
        if n > max {
            problems.push(format!("{at}: {n} > {max}"));
        }
    }
    if let Value::Object(object) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                problems.push(format!("{at}: `{name}` is missing"));
            }
        }
        for (name, member) in object {
            match schema["properties"].get(name) {
                Some(property) => check(doc, property, member, &format!("{at}.{name}"), problems),
                None if schema["additionalProperties"] == false => {
                    problems.push(format!("{at}: `{name}` is not described"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, member) in items.iter().enumerate() {
            check(doc, item, member, &format!("{at}[{i}]"), problems);
        }
    }
}

/// Every property an answer has is described somewhere in its schema (allOf parts included), so
/// a field added to an answer without its description is caught.
fn undescribed(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    fn names(doc: &Value, schema: &Value, into: &mut BTreeSet<String>) {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.trim_start_matches("#/components/schemas/");
            return names(doc, &doc["components"]["schemas"][name], into);
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            names(doc, part, into);
        }
        if let Some(properties) = schema["properties"].as_object() {
            into.extend(properties.keys().cloned());
        }
    }
    let mut described = BTreeSet::new();
    names(doc, schema, &mut described);
    value
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !described.contains(*k))
        .cloned()
        .collect()
}

#[tokio::test]
async fn real_answers_match_their_documented_schemas() {
    let doc = document();
    let (app, queued, held) = app().await;

    let triage = call(&app, Method::GET, "/admin/triage", None, Role::AdminPusat).await;
    assert_eq!(triage.status, StatusCode::OK, "{}", triage.body);
    assert_eq!(triage.body["reports"][0]["tracking_code"], queued.as_str());
    conforms(&doc, "get", "/admin/triage", &triage);
    let entry_schema = json!({"$ref": "#/components/schemas/TriageReport"});
    assert_eq!(
        undescribed(&doc, &entry_schema, &triage.body["reports"][0]),
        Vec::<String>::new()
    );

    let inbox = call(
        &app,
        Method::GET,
        "/agency/reports?limit=5",
        None,
        Role::Officer,
    )
    .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    assert_eq!(inbox.body["reports"][0]["tracking_code"], held.as_str());
    conforms(&doc, "get", "/agency/reports", &inbox);

    let version = inbox.body["reports"][0]["version"].clone();
    // JSON Schema counts `2.0` as the integer 2, so the server does too.
    let written_as_float = version.as_f64().expect("a number");
    let follow_up = call(
        &app,
        Method::POST,
        &format!("/reports/{held}/followups"),
        Some(json!({"status": "diproses", "message": "Tim sudah menambal lubangnya.", "version": written_as_float})),
        Role::Officer,
    )
    .await;
    assert_eq!(follow_up.status, StatusCode::OK, "{}", follow_up.body);
    conforms(&doc, "post", "/reports/{code}/followups", &follow_up);

    let stale = call(
        &app,
        Method::POST,
        &format!("/reports/{held}/followups"),
        Some(json!({"status": "selesai", "message": "Selesai.", "version": version})),
        Role::Officer,
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert_eq!(stale.body["error"]["code"], "version_conflict");
    conforms(&doc, "post", "/reports/{code}/followups", &stale);

    let offer = call(
        &app,
        Method::POST,
        &format!("/agency/reports/{held}/attachments"),
        Some(json!({"filename": "tambalan.jpg", "content_type": "image/jpeg", "size": 120_000.0})),
        Role::Officer,
    )
    .await;
    assert_eq!(offer.status, StatusCode::CREATED, "{}", offer.body);
    assert_eq!(offer.cache_control.as_deref(), Some("no-store"));
    conforms(&doc, "post", "/agency/reports/{code}/attachments", &offer);

    let view = call(
        &app,
        Method::GET,
        &format!("/agency/reports/{held}"),
        None,
        Role::Officer,
    )
    .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.body["reporter"]["name"], "Siti Aminah");
    assert_eq!(view.body["attachments"][0]["by"], "agency");
    conforms(&doc, "get", "/agency/reports/{code}", &view);
    let view_schema = json!({"$ref": "#/components/schemas/AgencyReport"});
    assert_eq!(
        undescribed(&doc, &view_schema, &view.body),
        Vec::<String>::new()
    );

    let dashboard = call(
        &app,
        Method::GET,
        "/admin/dashboard?days=30",
        None,
        Role::AdminPusat,
    )
    .await;
    assert_eq!(dashboard.status, StatusCode::OK, "{}", dashboard.body);
    conforms(&doc, "get", "/admin/dashboard", &dashboard);
    let own = call(
        &app,
        Method::GET,
        "/agency/dashboard",
        None,
        Role::AgencyAdmin,
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    conforms(&doc, "get", "/agency/dashboard", &own);

    // A schema-valid code of no report is 404, in the error body.
    let unknown = file(&MemStore::new()).await.tracking_code;
    let missing = call(
        &app,
        Method::GET,
        &format!("/agency/reports/{}", unknown.as_str()),
        None,
        Role::Officer,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    conforms(&doc, "get", "/agency/reports/{code}", &missing);
}

#[tokio::test]
async fn query_strings_the_schema_refuses_are_refused_in_the_error_body() {
    let doc = document();
    let (app, _, _) = app().await;
    for uri in [
        "/agency/reports?limit=0",
        "/agency/reports?limit=101",
        "/agency/reports?limit=abc",
        "/agency/reports?status=",
        "/agency/reports?color=blue",
        "/agency/reports?cursor=",
        "/agency/reports?cursor=zz",
        "/agency/reports?cursor=c3a9",
    ] {
        let answer = call(&app, Method::GET, uri, None, Role::Officer).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            answer.body
        );
        conforms(&doc, "get", "/agency/reports", &answer);
    }
    let answer = call(
        &app,
        Method::GET,
        "/admin/triage?limit=-1",
        None,
        Role::AdminPusat,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "invalid_query");
    conforms(&doc, "get", "/admin/triage", &answer);
}

#[tokio::test]
async fn bodies_the_schema_refuses_are_refused() {
    let (app, _, held) = app().await;
    let uri = format!("/reports/{held}/followups");
    for body in [
        json!({"status": " diproses", "message": "Sedang dikerjakan."}),
        json!({"status": "diproses", "message": "Sedang dikerjakan.", "version": 0}),
        json!({"status": "diproses", "message": "Sedang dikerjakan.", "resume_date": "2026-1-015"}),
        json!({"status": "diproses", "message": "Sedang dikerjakan.", "resume_date": 5}),
        json!({"status": "diproses", "message": " \n "}),
    ] {
        let answer = call(&app, Method::POST, &uri, Some(body.clone()), Role::Officer).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.body
        );
    }
}
