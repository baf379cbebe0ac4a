//! Whole intake flows over real HTTP through lapor-local's router, once on the embedded store and
//! once on DynamoDB (moto), with DynamoDB requests counted on the wire.

use std::sync::Arc;

use lapor_core::{Deadlines, KeyPepper, SystemClock};
use lapor_local::{assemble, LocalTokens};
use lapor_store::{DynamoStore, MemStore, Reports, Store, Stores};
use lapor_tests::{eventually, moto_dynamodb, pothole_json, unique_name, RequestLog};
use serde_json::{json, Value};

struct Running {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn pepper() -> KeyPepper {
    KeyPepper::new(vec![42; 32]).expect("pepper")
}

/// lapor-local's whole router (stream consumers included) over `store`.
async fn start<S: Store + 'static>(store: Arc<S>) -> Running {
    let tokens = LocalTokens::new(b"intake-flow-test-secret".to_vec());
    serve_router(assemble(Stores::of(store), Arc::new(SystemClock), pepper(), tokens).router).await
}

async fn serve_router(router: axum::Router) -> Running {
    let listener = lapor_local::listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listen");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(lapor_local::serve(listener, router, async {
        let _ = stopped.await;
    }));
    Running {
        url,
        stop: Some(stop),
    }
}

async fn moto_store() -> Option<(Arc<DynamoStore>, RequestLog)> {
    let (client, log) = moto_dynamodb().await?;
    let store = DynamoStore::new(client, unique_name("flow"));
    store.create_table_if_missing().await.expect("table");
    log.clear();
    Some((Arc::new(store), log))
}

async fn post(url: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/reports"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn get(url: &str, code: &str, access_key: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{url}/reports/{code}"));
    if let Some(key) = access_key {
        request = request.header("x-access-key", key);
    }
    let response = request.send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

const IDENTITY: [&str; 4] = [
    "Siti Aminah",
    "+6281234567890",
    "3456",
    "siti.aminah@example.id",
];

fn leaks(text: &str) -> Vec<&'static str> {
    IDENTITY.into_iter().filter(|n| text.contains(n)).collect()
}

/// Submits one report of each privacy and checks who sees what.
async fn privacy_walk(url: &str) {
    for privacy in ["publik", "anonim", "rahasia"] {
        let mut body = pothole_json();
        body["privacy"] = json!(privacy);
        let (status, receipt) = post(url, &body, None).await;
        assert_eq!(status, 201, "{receipt}");
        assert!(
            leaks(&receipt.to_string()).is_empty(),
            "receipt leaks identity"
        );
        let code = receipt["tracking_code"].as_str().expect("code");
        let key = receipt["access_key"].as_str().expect("key");

        let (status, public) = get(url, code, None).await;
        let expected = if privacy == "rahasia" { 404 } else { 200 };
        assert_eq!(status, expected, "{privacy}: {public}");
        assert!(
            leaks(&public).is_empty(),
            "{privacy} public view leaks {:?}",
            leaks(&public)
        );

        let (status, wrong) = get(url, code, Some("bukan-kunci-yang-benar-xx")).await;
        assert_eq!(status, 404);
        assert!(leaks(&wrong).is_empty());

        let (status, own) = get(url, code, Some(key)).await;
        assert_eq!(status, 200);
        assert_eq!(
            leaks(&own).len(),
            IDENTITY.len(),
            "the reporter sees their own contact"
        );
    }
}

async fn idempotent_retries(url: &str) -> String {
    let key = unique_name("retry");
    let body = pothole_json();
    let (first_status, first) = post(url, &body, Some(&key)).await;
    let (second_status, second) = post(url, &body, Some(&key)).await;
    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(first, second, "a retry gets the first answer");
    let mut changed = body.clone();
    changed["title"] = json!("Laporan lain dengan kunci sama");
    let (status, conflict) = post(url, &changed, Some(&key)).await;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["code"], "idempotency_key_reused");
    first["tracking_code"].as_str().expect("code").to_string()
}

#[tokio::test]
async fn embedded_store_flow() {
    let store = Arc::new(MemStore::new());
    let server = start(store.clone()).await;
    privacy_walk(&server.url).await;
    idempotent_retries(&server.url).await;
    assert_eq!(store.report_count(), 4);
}

#[tokio::test]
async fn dynamodb_flow() {
    let Some((store, _)) = moto_store().await else {
        return;
    };
    let server = start(store.clone()).await;
    privacy_walk(&server.url).await;
    idempotent_retries(&server.url).await;
}

#[tokio::test]
async fn intake_sends_one_dynamodb_request_per_report() {
    let Some((store, log)) = moto_store().await else {
        return;
    };
    // The intake function alone, as Lambda runs it: routing's own requests are not intake's.
    let deps = lapor_intake::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(SystemClock),
        Deadlines::indonesia(),
        pepper(),
    );
    let server = serve_router(lapor_intake::router(deps)).await;
    for n in 0..5 {
        let mut body = pothole_json();
        body["title"] = json!(format!("Jalan berlubang nomor {n}"));
        let key = unique_name("count");
        let key = if n % 2 == 0 { Some(key.as_str()) } else { None };
        log.clear();
        let (status, _) = post(&server.url, &body, key).await;
        assert_eq!(status, 201);
        assert_eq!(log.operations(), vec!["TransactWriteItems"], "report {n}");
    }
    log.clear();
    let (status, _) = post(&server.url, &json!({"type": "pengaduan"}), None).await;
    assert_eq!(status, 400);
    assert!(
        log.operations().is_empty(),
        "a rejected report touches nothing"
    );
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_report() {
    let Some((store, _)) = moto_store().await else {
        return;
    };
    let server = start(store.clone()).await;
    let key = unique_name("burst");
    let body = pothole_json();
    let answers = futures_join(&server.url, &body, &key, 8).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b)
        .collect();
    assert!(!created.is_empty());
    for (status, body) in &answers {
        assert!(
            *status == 201 || (*status == 409 && body["error"]["code"] == "idempotency_in_flight"),
            "{status} {body}"
        );
    }
    let codes: std::collections::BTreeSet<&str> = created
        .iter()
        .filter_map(|b| b["tracking_code"].as_str())
        .collect();
    assert_eq!(codes.len(), 1, "every 201 names the same report");
    let code = lapor_core::TrackingCode::parse(codes.iter().next().copied().unwrap_or_default())
        .expect("code");
    assert!(store.report(&code).await.expect("read").is_some());
}

async fn futures_join(url: &str, body: &Value, key: &str, n: usize) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (url, body, key) = (url.to_string(), body.clone(), key.to_string());
            tokio::spawn(async move { post(&url, &body, Some(&key)).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

/// `/stats` after one public, one `rahasia` and one whistleblowing report.
async fn confidential_statistics(url: &str) {
    let mut rahasia = pothole_json();
    rahasia["privacy"] = "rahasia".into();
    let mut whistle = pothole_json();
    whistle["type"] = "whistleblowing".into();
    for body in [pothole_json(), rahasia, whistle] {
        let (status, filed) = post(url, &body, None).await;
        assert_eq!(status, 201, "{filed}");
    }
    let client = reqwest::Client::new();
    for group in ["category", "agency", "month"] {
        // The stream consumers count after the write; wait for all three.
        let stats: Value = eventually(
            &format!("statistics by {group} to count all three reports"),
            async || {
                client
                    .get(format!("{url}/stats?region=32.74&group_by={group}"))
                    .send()
                    .await
                    .expect("stats")
                    .json()
                    .await
                    .expect("json")
            },
            |stats: &Value| {
                stats["totals"]["total"].as_i64().unwrap_or(0)
                    + stats["confidential"]["total"].as_i64().unwrap_or(0)
                    >= 3
            },
        )
        .await;
        assert_eq!(
            stats["totals"]["total"], 1,
            "{group}: only the public report in the rows: {stats}"
        );
        assert_eq!(stats["confidential"]["total"], 2, "{group}: {stats}");
        let rows = stats["rows"].as_array().cloned().unwrap_or_default();
        let in_rows: i64 = rows.iter().map(|r| r["total"].as_i64().unwrap_or(0)).sum();
        assert_eq!(in_rows, 1, "{group}: {stats}");
        assert!(stats["confidential"].get("statuses").is_none());
    }
}

#[tokio::test]
async fn confidential_reports_never_show_in_a_statistics_cell() {
    let running = start(Arc::new(MemStore::new())).await;
    confidential_statistics(&running.url).await;
}
