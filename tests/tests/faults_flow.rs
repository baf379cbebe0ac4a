//! What DynamoDB does and moto does not: transactions cancelled for conflicts, throttling, a
//! failed write after a message went out. The moto server answers selected calls with the real
//! error shapes (`lapor_tests::Faults`), and nothing may be lost.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use lapor_core::{AgencyId, Deadlines, FixedClock, Status};
use lapor_notifier::{Outbox, OutboxEntry};
use lapor_store::{DynamoStore, Reports, Stores};
use lapor_tests::{
    directory_table, moto_config, pothole_json, scan_items, submit_pothole, unique_name, Faults,
    LocalServer, TableStream,
};
use serde_json::{json, Value};

const SUBMISSIONS: usize = 200;

/// Monday 30 November 2026, 09:00 WIB.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

/// The report items (`sk = META`) in a table: what was really written.
async fn stored_reports(config: &aws_config::SdkConfig, table: &str) -> BTreeSet<String> {
    let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    scan_items(config, table)
        .await
        .iter()
        .filter(|item| text(item, "sk") == "META" && text(item, "pk").starts_with("REPORT#"))
        .map(|item| text(item, "pk").trim_start_matches("REPORT#").to_string())
        .collect()
}

/// lapor-local on a fresh DynamoDB table whose transactions moto cancels for conflicts as `how`
/// says (`{"share": …}` or `{"count": …}`); the server, the fault controls and the table name.
async fn local_with_conflicts(
    config: &aws_config::SdkConfig,
    prefix: &str,
    how: Value,
) -> (LocalServer, Faults, String) {
    let faults = Faults::on_moto().expect("moto");
    let table = unique_name(prefix);
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), &table);
    store.create_table_if_missing().await.expect("table");
    let server = LocalServer::start(Stores::of(Arc::new(store))).await;
    let mut rule = json!({
        "service": "dynamodb", "operation": "TransactWriteItems", "contains": [table],
        "error": "TransactionConflict",
    });
    if let (Some(rule), Value::Object(how)) = (rule.as_object_mut(), how) {
        rule.extend(how);
    }
    faults.add(rule).await;
    (server, faults, table)
}

/// 200 citizens of one province submit at once while DynamoDB cancels 30% of all transactions
/// on the table for conflicts (routing's and statistics' included): every 201 is a stored report,
/// everything else is a 503 with Retry-After that wrote nothing, no 500; once the consumers are
/// done, the statistics count exactly the stored reports and each is routed.
#[tokio::test]
async fn two_hundred_submissions_under_transaction_conflicts_lose_nothing() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (server, faults, table) =
        local_with_conflicts(&config, "conflicts", json!({"share": 0.3, "seed": 13})).await;

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..SUBMISSIONS {
        let http = server.http.clone();
        let url = format!("{}/reports", server.url);
        let mut body = pothole_json();
        body["title"] = json!(format!("Jalan berlubang nomor {n} di Jalan Cipto"));
        tasks.spawn(async move {
            let response = http.post(url).json(&body).send().await.expect("request");
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        });
    }
    let mut created = BTreeSet::new();
    let mut busy = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, retry_after, body) = done.expect("task");
        match status {
            201 => {
                created.insert(body["tracking_code"].as_str().expect("code").to_string());
            }
            503 => {
                assert!(retry_after, "a 503 says when to retry: {body}");
                assert_eq!(body["error"]["code"], "busy", "{body}");
                busy += 1;
            }
            other => panic!("status {other}: {body}"),
        }
    }
    let fired = faults.fired().await;
    assert!(fired > 0, "conflicts were injected");
    assert_eq!(created.len() + busy, SUBMISSIONS);
    eprintln!(
        "{} created, {busy} answered 503, {fired} transactions cancelled for conflicts so far",
        created.len()
    );
    assert_eq!(
        stored_reports(&config, &table).await,
        created,
        "every 201 is stored and nothing else is"
    );

    // The consumers (routing, statistics, notify) run in-process under the same conflicts.
    let region_total = || async {
        let url = format!("{}/stats?region=32&group_by=category", server.url);
        let (_, stats) = server.send(server.http.get(url)).await;
        stats["totals"]["total"].as_u64().unwrap_or(0)
    };
    let mut total = 0;
    for _ in 0..600 {
        total = region_total().await;
        if total == created.len() as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        total,
        created.len() as u64,
        "statistics count every stored report once"
    );
    faults.clear().await;
    for code in &created {
        let (status, view) = server
            .send(server.http.get(format!("{}/reports/{code}", server.url)))
            .await;
        assert_eq!(status, 200);
        assert_eq!(view["status"], "terdisposisi", "{code} is routed: {view}");
    }
    let (_, letters) = server
        .send(server.http.get(format!("{}/dev/dead-letters", server.url)))
        .await;
    assert_eq!(letters["dead_letters"], json!([]), "{letters}");
}

/// Routing's write is cancelled for a conflict on every try: the record fails (Lambda retries
/// it), the report is not taken for routed; the retried record routes it.
#[tokio::test]
async fn a_routing_write_that_meets_conflicts_is_retried_not_dropped() {
    let Some(config) = moto_config().await else {
        return;
    };
    let faults = Faults::on_moto().expect("moto");
    let (store, table) = directory_table(&config, "route-conflict").await;
    let stores = Stores::of(store.clone());
    let clock = Arc::new(FixedClock::new(monday_morning()));
    let code = submit_pothole(&stores, clock.clone()).await;
    let mut stream = TableStream::open(&config, &table).await;
    let inserted = stream.next_event().await;
    let routing = lapor_routing::Deps::new(&stores, clock, Deadlines::indonesia());

    faults
        .add(json!({
            "service": "dynamodb", "operation": "TransactWriteItems", "contains": [table],
            "error": "TransactionConflict", "count": 100,
        }))
        .await;
    let failed = lapor_routing::handle_event(&routing, &inserted).await;
    assert_eq!(failed.batch_item_failures.len(), 1, "the record is retried");
    let report = store.report(&code).await.expect("read").expect("exists");
    assert_eq!(report.status, Status::Diterima);

    faults.clear().await;
    let retried = lapor_routing::handle_event(&routing, &inserted).await;
    assert!(retried.batch_item_failures.is_empty());
    let report = store.report(&code).await.expect("read").expect("exists");
    assert_eq!(report.status, Status::Terdisposisi);
    assert_eq!(
        report.agency.as_ref().map(AgencyId::as_str),
        Some("kota-cirebon-dpupr")
    );
}

/// The message went out, then writing its done-mark failed (as a crash or timeout between the
/// two would): the redelivered record sends it again rather than never; once marked, no more.
#[tokio::test]
async fn a_notification_whose_mark_failed_is_sent_on_redelivery() {
    let Some(config) = moto_config().await else {
        return;
    };
    let faults = Faults::on_moto().expect("moto");
    let (store, table) = directory_table(&config, "notify-mark").await;
    let stores = Stores::of(store.clone());
    let clock = Arc::new(FixedClock::new(monday_morning()));
    let code = submit_pothole(&stores, clock.clone()).await;
    let mut stream = TableStream::open(&config, &table).await;
    let inserted = stream.next_event().await;
    let routing = lapor_routing::Deps::new(&stores, clock.clone(), Deadlines::indonesia());
    assert!(lapor_routing::handle_event(&routing, &inserted)
        .await
        .batch_item_failures
        .is_empty());
    let forwarded = stream.next_event().await;
    let outbox = Arc::new(Outbox::default());
    let notify = lapor_notify::Deps::new(
        &stores,
        outbox.clone(),
        clock,
        AgencyId::parse("kemenpanrb").expect("id"),
        AgencyId::parse("ombudsman-ri").expect("id"),
        lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
    );
    let to_agency = || {
        outbox
            .entries()
            .into_iter()
            .filter(|e| matches!(e, OutboxEntry::Topic { message } if message.tracking_code == code.as_str()))
            .count()
    };

    faults
        .add(json!({
            "service": "dynamodb", "operation": "PutItem", "contains": [table, "MARK#"],
            "error": "InternalServerError", "count": 100,
        }))
        .await;
    let first = lapor_notify::handle_event(&notify, &forwarded).await;
    assert_eq!(first.batch_item_failures.len(), 1, "the record is retried");
    assert_eq!(to_agency(), 1, "sent before the mark failed");

    faults.clear().await;
    let again = lapor_notify::handle_event(&notify, &forwarded).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(to_agency(), 2, "sent again: a duplicate, not a loss");
    let third = lapor_notify::handle_event(&notify, &forwarded).await;
    assert!(third.batch_item_failures.is_empty());
    assert_eq!(to_agency(), 2, "marked now: not sent a third time");
}

/// When every try meets a conflict, the citizen is told to retry (503, Retry-After) and nothing
/// is written: no half-made report, no idempotency record that would block the retry.
#[tokio::test]
async fn a_submission_that_never_gets_through_is_a_503_that_wrote_nothing() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (server, faults, table) =
        local_with_conflicts(&config, "always-busy", json!({"count": 1000})).await;
    // The same request, sent now and again after the faults clear.
    let submit = || {
        server
            .http
            .post(format!("{}/reports", server.url))
            .header("idempotency-key", "selalu-sibuk-1")
            .json(&pothole_json())
            .send()
    };
    let response = submit().await.expect("request");
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "busy", "{body}");
    assert!(
        !body.to_string().contains("Transaction"),
        "no internals in the body: {body}"
    );
    assert!(stored_reports(&config, &table).await.is_empty());
    assert!(
        faults.fired().await >= 5,
        "every try was sent and cancelled"
    );

    faults.clear().await;
    let retried = submit().await.expect("request");
    assert_eq!(
        retried.status().as_u16(),
        201,
        "the same request succeeds later"
    );
    assert_eq!(stored_reports(&config, &table).await.len(), 1);
}
