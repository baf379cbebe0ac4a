//! Routing and notification on the wire: a report submitted to intake on DynamoDB (moto) is
//! routed from the table's real stream, and the agency's SQS queue, subscribed to the SNS topic
//! with a filter on its id, receives exactly one message — however often records are delivered.

use std::sync::Arc;

use aws_lambda_events::streams::DynamoDbEventResponse;
use chrono::{DateTime, Utc};
use lapor_core::{AgencyId, Deadlines, FixedClock, Report, Status, TrackingCode};
use lapor_notifier::SnsNotifier;
use lapor_store::{DynamoStore, ReportWithTimeline, Reports, Stores};
use lapor_tests::{
    directory_table, moto_config, new_topic, submit_pothole, unique_name, Faults, SubscribedQueue,
    TableStream,
};
use serde_json::{json, Value};

const DPUPR: &str = "kota-cirebon-dpupr";

/// Monday 30 November 2026, 09:00 WIB.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

struct Topic {
    topic_arn: String,
    queue: SubscribedQueue,
}

/// A topic, and a queue subscribed to it that only takes messages for `agency`.
async fn topic_with_agency_queue(config: &aws_config::SdkConfig, agency: &str) -> Topic {
    let topic_arn = new_topic(config, "lapor-notifications").await;
    let filter = format!("{{\"agency_id\": [\"{agency}\"]}}");
    let queue = SubscribedQueue::subscribe(config, &topic_arn, Some(filter), true).await;
    Topic { topic_arn, queue }
}

impl Topic {
    async fn drain(&self) -> Vec<Value> {
        self.queue
            .drain()
            .await
            .into_iter()
            .map(|body| serde_json::from_str(&body).unwrap_or(Value::String(body)))
            .collect()
    }
}

/// The report as the table holds it now, with its timeline.
async fn stored(store: &DynamoStore, code: &TrackingCode) -> ReportWithTimeline {
    store
        .report_with_timeline(code)
        .await
        .expect("read")
        .expect("exists")
}

/// The records a response hands back to Lambda to be delivered again.
fn handed_back(response: &DynamoDbEventResponse) -> Vec<Option<String>> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// Routed where a pothole in Kota Cirebon belongs: the city's public works.
fn assert_forwarded_to_public_works(report: &Report) {
    assert_eq!(report.status, Status::Terdisposisi);
    assert_eq!(report.agency.as_ref().map(AgencyId::as_str), Some(DPUPR));
}

#[tokio::test]
async fn a_cirebon_pothole_reaches_public_works_and_its_queue_exactly_once() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (store, table) = directory_table(&config, "routing").await;
    let topic = topic_with_agency_queue(&config, DPUPR).await;
    let mut stream = TableStream::open(&config, &table).await;
    let clock = Arc::new(FixedClock::new(monday_morning()));

    // A citizen submits through the intake function.
    let stores = Stores::of(store.clone());
    let code = submit_pothole(&stores, clock.clone()).await;

    // The stream delivers the new report to routing — twice, as at-least-once delivery may.
    let inserted = stream.next_event().await;
    assert!(
        !inserted.records.is_empty(),
        "the stream carries the new report"
    );
    let routing = lapor_routing::Deps::new(&stores, clock.clone(), Deadlines::indonesia());
    let first = lapor_routing::handle_event(&routing, &inserted).await;
    assert!(first.batch_item_failures.is_empty());
    let routed = stored(&store, &code).await;
    assert_forwarded_to_public_works(&routed.report);
    // Five working days after Monday 09:00 WIB.
    assert_eq!(
        routed.report.due_at.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-12-07T09:00:00+07:00")
    );
    let again = lapor_routing::handle_event(&routing, &inserted).await;
    assert!(again.batch_item_failures.is_empty());
    let after_repeat = stored(&store, &code).await;
    assert_eq!(after_repeat, routed, "a repeated record changes nothing");

    // Notify sees the insert and routing's update; each delivered twice.
    let modified = stream.next_event().await;
    assert!(modified.records.iter().any(|r| r.event_name == "MODIFY"));
    let notify = lapor_notify::Deps::new(
        &stores,
        Arc::new(SnsNotifier::new(
            aws_sdk_sns::Client::new(&config),
            &topic.topic_arn,
        )),
        clock.clone(),
        AgencyId::parse("kemenpanrb").expect("id"),
        AgencyId::parse("ombudsman-ri").expect("id"),
        lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
    );
    for event in [&inserted, &modified, &inserted, &modified] {
        let response = lapor_notify::handle_event(&notify, event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let messages = topic.drain().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["event_type"], "report.forwarded");
    assert_eq!(messages[0]["agency_id"], DPUPR);
    assert_eq!(messages[0]["tracking_code"], code.as_str());
    let text = messages[0].to_string();
    for identity in ["Siti", "3456", "siti.aminah"] {
        assert!(
            !text.contains(identity),
            "topic message leaks {identity}: {text}"
        );
    }
}

#[tokio::test]
async fn a_bad_record_fails_alone() {
    let Some(config) = moto_config().await else {
        return;
    };
    let table = unique_name("routing-bad");
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        &table,
    ));
    store.create_table_if_missing().await.expect("table");
    let routing = lapor_routing::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(FixedClock::new(monday_morning())),
        Deadlines::indonesia(),
    );
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/routing/new-report.json"
    ))
    .expect("event");
    let mut event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect("event");
    let mut broken = event.records[0].clone();
    broken.change.sequence_number = Some("999".into());
    broken.change.new_image.insert(
        "status".into(),
        serde_dynamo::AttributeValue::S("hilang".into()),
    );
    event.records.push(broken);
    let response = lapor_routing::handle_event(&routing, &event).await;
    assert_eq!(handed_back(&response), vec![Some("999".to_string())]);
}

/// DynamoDB may answer a BatchGetItem with success and every key handed back unprocessed (its
/// partition could not serve them at once). Routing reads its rules that way: a rule it could
/// not read is never taken for "no rule", which would send the report to the central admin or
/// to a broader government than the one responsible.
#[tokio::test]
async fn routing_rules_left_unread_are_read_again_never_taken_for_no_rule() {
    let Some(config) = moto_config().await else {
        return;
    };
    let Some(faults) = Faults::on_moto() else {
        return;
    };
    let (store, table) = directory_table(&config, "routing-unread").await;
    let mut stream = TableStream::open(&config, &table).await;
    let clock = Arc::new(FixedClock::new(monday_morning()));
    let stores = Stores::of(store.clone());
    let code = submit_pothole(&stores, clock.clone()).await;
    let inserted = stream.next_event().await;
    // The report's own record (the transaction also wrote its timeline entry and reporter).
    let ids: Vec<Option<String>> = inserted
        .records
        .iter()
        .filter(|r| r.change.new_image.contains_key("status"))
        .map(|r| r.change.sequence_number.clone())
        .collect();
    assert_eq!(ids.len(), 1, "one new report");
    let submitted = stored(&store, &code).await;
    let routing = lapor_routing::Deps::new(&stores, clock.clone(), Deadlines::indonesia());
    let unread = |count: Option<u64>| {
        let mut rule = json!({
            "service": "dynamodb", "operation": "BatchGetItem",
            "contains": [table.as_str(), "RULE#"], "error": "Unprocessed",
        });
        if let Some(count) = count {
            rule["count"] = json!(count);
        }
        rule
    };

    // Left unread however often they are asked for: the record fails (Lambda delivers it
    // again) and the report is exactly as it was, neither forwarded nor sent to triage.
    faults.add(unread(None)).await;
    let response = lapor_routing::handle_event(&routing, &inserted).await;
    assert_eq!(
        handed_back(&response),
        ids,
        "the unrouted record is handed back"
    );
    assert!(
        faults.fired().await > 1,
        "the store asked again before giving up"
    );
    let untouched = stored(&store, &code).await;
    assert_eq!(untouched, submitted, "nothing was written");
    assert_eq!(untouched.report.status, Status::Diterima);
    faults.clear().await;

    // Left unread twice, then read: the store's own retries route it where it belongs.
    faults.add(unread(Some(2))).await;
    let response = lapor_routing::handle_event(&routing, &inserted).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(faults.fired().await, 2);
    faults.clear().await;
    let routed = stored(&store, &code).await;
    assert_forwarded_to_public_works(&routed.report);
}
