//! Handler tests: API Gateway HTTP API events from `events/intake/` through the intake router,
//! on the embedded store.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use lapor_core::{Deadlines, Event, FixedClock, KeyPepper, Report, TrackingCode};
use lapor_intake::{router, Deps};
use lapor_store::{
    IdempotencyRecord, MemStore, ReportWithTimeline, Reports, StoreError, Stores, Submission,
};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tower::ServiceExt;

const IDENTITY: [&str; 6] = ["Siti", "Aminah", "3456", "siti.aminah", "Budi", "1122"];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("fixed time")
}

fn deps(stores: Stores) -> Deps {
    let pepper = KeyPepper::new(b"handler-test-pepper-of-32-bytes!".to_vec()).expect("32 bytes");
    Deps::new(
        &stores,
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    )
}

fn app() -> (Router, Arc<MemStore>) {
    let store = Arc::new(MemStore::new());
    (router(deps(Stores::of(store.clone()))), store)
}

/// Reads `events/intake/<name>.json` as Lambda would hand it to the function.
fn event(name: &str) -> Request<Body> {
    let path = format!(
        "{}/../../events/intake/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (parts, body) = request.into_parts();
    let body = match body {
        lambda_http::Body::Empty => Body::empty(),
        lambda_http::Body::Text(t) => Body::from(t),
        lambda_http::Body::Binary(b) => Body::from(b),
        _ => Body::empty(),
    };
    Request::from_parts(parts, body)
}

/// The same event with another body (content length adjusted).
fn with_body(mut request: Request<Body>, body: impl Into<Vec<u8>>) -> Request<Body> {
    let body = body.into();
    request.headers_mut().insert(
        "content-length",
        body.len().to_string().parse().expect("number"),
    );
    *request.body_mut() = Body::from(body);
    request
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)}))
    };
    (status, headers, body)
}

/// The JSON body an event carries.
fn event_body(name: &str) -> Value {
    let path = format!(
        "{}/../../events/intake/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let event: Value = serde_json::from_str(&text).expect("event is JSON");
    serde_json::from_str(event["body"].as_str().expect("event has a body")).expect("body is JSON")
}

fn assert_no_identity(body: &Value) {
    let text = body.to_string();
    for needle in IDENTITY {
        assert!(!text.contains(needle), "response leaks `{needle}`: {text}");
    }
}

#[tokio::test]
async fn a_report_is_accepted_and_found_by_its_tracking_code() {
    let (app, store) = app();
    let (status, headers, body) = send(&app, event("submit-report")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = body["tracking_code"].as_str().expect("code");
    assert!(TrackingCode::parse(code).is_ok());
    assert_eq!(body["access_key"].as_str().map(str::len), Some(26));
    assert_eq!(body["status"], "diterima");
    assert_eq!(body["color"], "grey");
    assert_eq!(body["created_at"], "2026-11-30T09:00:00+07:00");
    assert_eq!(headers["location"], format!("/reports/{code}").as_str());
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(store.report_count(), 1);

    let (status, _, view) = send(&app, get(&format!("/reports/{code}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["view"], "public");
    assert_eq!(view["region"]["name"], "Kota Cirebon");
    assert_eq!(view["category"]["id"], "infrastruktur");
    assert_eq!(view["timeline"][0]["kind"], "submitted");
    assert_eq!(view["location"]["lat"], -6.7153);
    assert_no_identity(&view);
    // Codes are case-insensitive and forgive spaces and hyphens as typed from a receipt.
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    let (status, _, _) = send(&app, get(&format!("/reports/{typed}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_reporter_sees_their_own_identity_with_the_access_key_only() {
    let (app, _) = app();
    let (_, _, receipt) = send(&app, event("submit-report")).await;
    let code = receipt["tracking_code"].as_str().expect("code");
    let key = receipt["access_key"].as_str().expect("key");
    let mut own = get(&format!("/reports/{code}"));
    own.headers_mut()
        .insert("x-access-key", key.parse().expect("header"));
    let (status, headers, view) = send(&app, own).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["view"], "reporter");
    assert_eq!(view["reporter"]["name"], "Siti Aminah");
    assert_eq!(view["reporter"]["phone"], "+6281234567890");
    assert_eq!(headers["cache-control"], "private, no-store");
    assert!(!view.to_string().contains("access_key_hash"));

    let mut wrong = get(&format!("/reports/{code}"));
    wrong.headers_mut().insert(
        "x-access-key",
        "0000000000000000000000000".parse().expect("header"),
    );
    let (status, _, body) = send(&app, wrong).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_no_identity(&body);
}

#[tokio::test]
async fn a_rahasia_report_is_invisible_without_its_access_key() {
    let (app, _) = app();
    let (status, _, receipt) = send(&app, event("submit-whistleblowing")).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let code = receipt["tracking_code"].as_str().expect("code");

    let (status, _, hidden) = send(&app, get(&format!("/reports/{code}"))).await;
    let unknown = TrackingCode::generate(&mut rand::rng());
    let (unknown_status, _, absent) = send(&app, get(&format!("/reports/{unknown}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (unknown_status, &absent),
        (StatusCode::NOT_FOUND, &hidden),
        "hidden must look absent"
    );

    let mut own = get(&format!("/reports/{code}"));
    let key = receipt["access_key"].as_str().expect("key");
    own.headers_mut()
        .insert("x-access-key", key.parse().expect("header"));
    let (status, _, view) = send(&app, own).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["privacy"], "rahasia_anonim");
    assert_eq!(view["reporter"]["name"], "Budi Santoso");
}

#[tokio::test]
async fn an_anonim_report_is_public_without_anything_that_points_at_the_reporter() {
    let (app, _) = app();
    let (_, _, receipt) = send(&app, event("submit-anonim")).await;
    let code = receipt["tracking_code"].as_str().expect("code");
    let (status, _, view) = send(&app, get(&format!("/reports/{code}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_no_identity(&view);
    assert!(
        view.get("location").is_none(),
        "an address can identify an anonymous reporter"
    );
}

#[tokio::test]
async fn every_bad_request_is_a_4xx_with_a_clear_error_and_writes_nothing() {
    let valid = event_body("submit-report");
    let without = |field: &str| {
        let mut v = valid.clone();
        v.as_object_mut().map(|o| o.remove(field));
        v.to_string()
    };
    let changed = |field: &str, value: Value| {
        let mut v = valid.clone();
        v[field] = value;
        v.to_string()
    };
    let fresh_post = || {
        let mut r = event("submit-report");
        r.headers_mut().remove("idempotency-key");
        r
    };
    let mut bad_key = event("submit-report");
    bad_key
        .headers_mut()
        .insert("idempotency-key", "has space".parse().expect("header"));
    let mut delete = get("/reports");
    *delete.method_mut() = axum::http::Method::DELETE;
    /// name, request, expected status, error code, field.
    type Case<'a> = (&'a str, Request<Body>, StatusCode, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            event("submit-malformed-json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            "JSON array",
            with_body(fresh_post(), "[1,2]"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            "empty body",
            with_body(fresh_post(), ""),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            "form body",
            event("submit-wrong-content-type"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        ),
        (
            "over 64 KiB",
            with_body(
                fresh_post(),
                changed("description", json!("a".repeat(70_000))),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        ),
        (
            "missing title",
            with_body(fresh_post(), without("title")),
            StatusCode::BAD_REQUEST,
            "missing_field",
            Some("title"),
        ),
        (
            "missing region",
            with_body(fresh_post(), without("region")),
            StatusCode::BAD_REQUEST,
            "missing_field",
            Some("region"),
        ),
        (
            "short description",
            with_body(fresh_post(), changed("description", json!("rusak"))),
            StatusCode::BAD_REQUEST,
            "invalid_length",
            Some("description"),
        ),
        (
            "unknown category",
            with_body(fresh_post(), changed("category", json!("jalan"))),
            StatusCode::BAD_REQUEST,
            "unknown_category",
            Some("category"),
        ),
        (
            "bad phone",
            with_body(fresh_post(), changed("reporter", json!({"phone": "123"}))),
            StatusCode::BAD_REQUEST,
            "invalid_phone",
            Some("reporter.phone"),
        ),
        (
            "bad idempotency key",
            bad_key,
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            Some("Idempotency-Key"),
        ),
        (
            "unknown route",
            get("/laporan"),
            StatusCode::NOT_FOUND,
            "unknown_route",
            None,
        ),
        (
            "wrong method",
            delete,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        ),
        (
            "typo in code: names no report",
            get("/reports/K7M2QX9PRA"),
            StatusCode::NOT_FOUND,
            "invalid_tracking_code",
            Some("tracking_code"),
        ),
        (
            "unknown code",
            event("get-report"),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        ),
        (
            "region filter naming no region",
            get("/regions?parent=99"),
            StatusCode::NOT_FOUND,
            "unknown_region",
            Some("parent"),
        ),
    ];
    for (name, request, status, code, field) in cases {
        let (app, store) = app();
        let (got, _, body) = send(&app, request).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        assert_eq!(body["error"]["field"].as_str(), field, "{name}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
        assert!(
            body["error"]["message_en"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
        assert_eq!(store.report_count(), 0, "{name} wrote something");
    }
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_give_one_report_and_the_same_answer() {
    let (app, store) = app();
    let (first_status, _, first) = send(&app, event("submit-report")).await;
    let (second_status, headers, second) = send(&app, event("submit-report")).await;
    assert_eq!(
        (first_status, second_status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert_eq!(first, second);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(store.report_count(), 1);

    // Key order and white space do not make a different body.
    let reordered: Value = event_body("submit-report");
    let pretty = serde_json::to_string_pretty(&reordered).expect("json");
    let (status, _, third) = send(&app, with_body(event("submit-report"), pretty)).await;
    assert_eq!((status, &third), (StatusCode::CREATED, &first));

    let mut other = event_body("submit-report");
    other["title"] = json!("Judul yang berbeda");
    let (status, _, body) = send(&app, with_body(event("submit-report"), other.to_string())).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    assert_eq!(store.report_count(), 1);
}

/// A reports port whose first `create_report` waits until released, to hold a request in flight.
struct Gate {
    inner: Arc<MemStore>,
    entered: Notify,
    release: Notify,
}

#[async_trait]
impl Reports for Gate {
    async fn create_report(&self, s: &Submission, now: i64) -> Result<(), StoreError> {
        self.entered.notify_one();
        self.release.notified().await;
        self.inner.create_report(s, now).await
    }
    async fn idempotency_record(
        &self,
        k: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotency_record(k, now).await
    }
    async fn report(&self, c: &TrackingCode) -> Result<Option<Report>, StoreError> {
        self.inner.report(c).await
    }
    async fn report_with_timeline(
        &self,
        c: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        self.inner.report_with_timeline(c).await
    }
    async fn update_report(&self, o: &Report, n: &Report, e: &[Event]) -> Result<(), StoreError> {
        self.inner.update_report(o, n, e).await
    }
    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        self.inner.recent_public(limit).await
    }
    async fn public_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<lapor_store::Page, StoreError> {
        self.inner.public_between(from, to, limit, cursor).await
    }
}

#[tokio::test]
async fn a_retry_while_the_first_request_is_in_flight_is_a_conflict() {
    let gate = Arc::new(Gate {
        inner: Arc::new(MemStore::new()),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let app = router(deps(Stores {
        reports: gate.clone(),
        ..Stores::of(gate.inner.clone())
    }));
    let first = tokio::spawn({
        let app = app.clone();
        async move { send(&app, event("submit-report")).await }
    });
    gate.entered.notified().await;
    let (status, _, body) = send(&app, event("submit-report")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "idempotency_in_flight");
    assert_eq!(gate.inner.report_count(), 0);
    gate.release.notify_one();
    let (status, _, _) = first.await.expect("first request");
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(gate.inner.report_count(), 1);
}

/// A reports port that always fails, as DynamoDB might.
struct Broken;

#[async_trait]
impl Reports for Broken {
    async fn create_report(&self, _: &Submission, _: i64) -> Result<(), StoreError> {
        Err(StoreError::Backend(
            "ProvisionedThroughputExceeded: arn:aws:dynamodb:secret-table".into(),
        ))
    }
    async fn idempotency_record(
        &self,
        _: &str,
        _: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn report(&self, _: &TrackingCode) -> Result<Option<Report>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn report_with_timeline(
        &self,
        _: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn update_report(&self, _: &Report, _: &Report, _: &[Event]) -> Result<(), StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn recent_public(&self, _: usize) -> Result<Vec<Report>, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
    async fn public_between(
        &self,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
        _: usize,
        _: Option<&str>,
    ) -> Result<lapor_store::Page, StoreError> {
        Err(StoreError::Backend("down".into()))
    }
}

#[tokio::test]
async fn a_backend_failure_is_a_500_without_internals() {
    let app = router(deps(Stores {
        reports: Arc::new(Broken),
        ..Stores::of(Arc::new(MemStore::new()))
    }));
    let (status, _, body) = send(&app, event("submit-report")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["code"], "internal_error");
    let text = body.to_string();
    assert!(
        !text.contains("arn:") && !text.contains("Provisioned"),
        "{text}"
    );
}

#[tokio::test]
async fn categories_and_regions_serve_the_form() {
    let (app, _) = app();
    let (status, _, body) = send(&app, event("list-categories")).await;
    assert_eq!(status, StatusCode::OK);
    let categories = body["categories"].as_array().expect("list");
    assert!(categories
        .iter()
        .any(|c| c["id"] == "infrastruktur" && c["label"] == "Infrastruktur dan Pekerjaan Umum"));
    let (status, _, body) = send(&app, event("list-regions")).await;
    assert_eq!(status, StatusCode::OK);
    let regions = body["regions"].as_array().expect("list");
    assert_eq!(regions.len(), 27);
    assert!(regions
        .iter()
        .any(|r| r["code"] == "32.74" && r["name"] == "Kota Cirebon" && r["level"] == "kota"));
    let (_, _, all) = send(&app, get("/regions")).await;
    let provinces = all["regions"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["level"] == "provinsi").count());
    assert_eq!(provinces, Some(38));
}

#[tokio::test]
async fn replies_over_the_daily_cap_get_429_with_retry_after_and_write_nothing() {
    let store = Arc::new(MemStore::new());
    let app = router(deps(Stores::of(store.clone())).with_replies_per_day(2));
    let (status, _, filed) = send(&app, event("submit-report")).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    let code = filed["tracking_code"].as_str().expect("code").to_string();
    let key = filed["access_key"].as_str().expect("key").to_string();
    let reply = |text: &str| {
        with_body(
            Request::post(format!("/reports/{code}/replies"))
                .header("content-type", "application/json")
                .header("x-access-key", key.as_str())
                .body(Body::empty())
                .expect("request"),
            json!({ "message": text }).to_string(),
        )
    };
    for n in 1..=2 {
        let (status, _, body) = send(&app, reply(&format!("Balasan ke-{n}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let tracking = TrackingCode::parse(&code).expect("code");
    let before = store
        .report_with_timeline(&tracking)
        .await
        .expect("read")
        .expect("report");
    let (status, headers, body) = send(&app, reply("Balasan ketiga hari ini")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_replies");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("per hari")));
    assert!(body["error"]["message_en"]
        .as_str()
        .is_some_and(|m| m.contains("daily limit")));
    // 09:00 WIB: fifteen hours to local midnight.
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("54000")
    );
    let after = store
        .report_with_timeline(&tracking)
        .await
        .expect("read")
        .expect("report");
    assert_eq!(
        after.report.version, before.report.version,
        "nothing written"
    );
    assert_eq!(after.timeline.len(), before.timeline.len());
}

#[tokio::test]
async fn a_number_abroad_is_accepted_and_the_receipt_says_no_sms_will_come() {
    let (app, _) = app();
    let mut body = event_body("submit-report");
    body["reporter"]["phone"] = "+44 20 7946 0958".into();
    let request = with_body(event("submit-report"), body.to_string());
    let (status, _, receipt) = send(&app, request).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert_eq!(receipt["sms_receipt"], false);
    assert_eq!(receipt["notice"]["code"], "no_sms_abroad");
    assert!(receipt["notice"]["message_en"]
        .as_str()
        .is_some_and(|m| m.contains("not an Indonesian mobile")));

    let (fresh, _) = self::app();
    let (status, _, receipt) = send(&fresh, event("submit-report")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(receipt["sms_receipt"], true, "{receipt}");
    assert!(receipt.get("notice").is_none());
}

/// `events/intake/<name>.json` sent from another client address, with its own idempotency key.
fn event_from(name: &str, source_ip: &str, idempotency_key: &str) -> Request<Body> {
    let mut request = event(name);
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
        request.extensions_mut().get_mut()
    {
        context.http.source_ip = Some(source_ip.to_string());
    }
    request.headers_mut().insert(
        "idempotency-key",
        idempotency_key.parse().expect("header value"),
    );
    request
}

#[tokio::test]
async fn a_flood_from_one_client_gets_429_with_retry_after_while_another_client_is_served() {
    let store = Arc::new(MemStore::new());
    let app = router(
        deps(Stores::of(store.clone())).with_client_limit(lapor_intake::ClientLimit::per_hour(3)),
    );
    let flooder = "198.51.100.7";
    for n in 0..3 {
        let (status, _, body) = send(
            &app,
            event_from("submit-report", flooder, &format!("flood-{n}")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let filed = store.report_count();
    for n in 3..6 {
        let (status, headers, body) = send(
            &app,
            event_from("submit-report", flooder, &format!("flood-{n}")),
        )
        .await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["error"]["code"], "too_many_requests");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Terlalu banyak permintaan")));
        assert!(body["error"]["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("Too many requests")));
        // 02:00 UTC sharp: the hour's window has all of its 3,600 seconds left.
        assert_eq!(
            headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("3600")
        );
        assert!(!body.to_string().contains(flooder), "{body}");
    }
    assert_eq!(
        store.report_count(),
        filed,
        "a refused request files nothing"
    );

    // Another client is served, and reads stay open to the flooder.
    let (status, _, body) = send(
        &app,
        event_from("submit-report", "203.0.113.99", "neighbour-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut read = event("list-categories");
    if let Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) =
        read.extensions_mut().get_mut()
    {
        context.http.source_ip = Some(flooder.to_string());
    }
    let (status, _, _) = send(&app, read).await;
    assert_eq!(status, StatusCode::OK);

    // The counters hold no client address.
    let state = format!("{:?}", store);
    assert!(state.contains("api-client#"), "the counter is in the state");
    assert!(!state.contains(flooder) && !state.contains("203.0.113.99"));
}

#[tokio::test]
async fn an_unreadable_server_secret_is_a_clean_5xx_that_files_nothing_and_the_next_request_reads_again(
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let store = Arc::new(MemStore::new());
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    // The first read fails as Secrets Manager's would (throttled, or a missing grant); the
    // error text must stay in the log, never in the answer.
    let pepper =
        lapor_store::Pepper::on_first_use(move || -> lapor_store::PepperRead {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                match n {
                    0 => Err("ThrottlingException: Rate exceeded (secret lapor/pepper)".into()),
                    _ => Ok(KeyPepper::new(b"handler-test-pepper-of-32-bytes!".to_vec())
                        .expect("32 bytes")),
                }
            })
        });
    let app = router(
        Deps::new(
            &Stores::of(store.clone()),
            Arc::new(FixedClock::new(now())),
            Deadlines::indonesia(),
            pepper,
        )
        .with_client_limit(lapor_intake::ClientLimit::per_hour(3)),
    );
    // A read that needs no secret is served without reading it.
    let (status, _, _) = send(&app, event("list-categories")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        0,
        "nothing read for a page of categories"
    );

    let (status, _, body) = send(&app, event_from("submit-report", "198.51.100.7", "a-1")).await;
    assert!(status.is_server_error(), "{status} {body}");
    let text = body.to_string();
    for internal in ["Throttling", "lapor/pepper", "secret"] {
        assert!(
            !text.contains(internal),
            "the answer shows `{internal}`: {text}"
        );
    }
    assert_eq!(store.report_count(), 0, "nothing filed");

    let (status, _, body) = send(&app, event_from("submit-report", "198.51.100.7", "a-2")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(store.report_count(), 1);
    assert_eq!(reads.load(Ordering::SeqCst), 2, "read again, then kept");
    let (status, _, body) = send(&app, event_from("submit-report", "198.51.100.7", "a-3")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(reads.load(Ordering::SeqCst), 2, "kept");
}
