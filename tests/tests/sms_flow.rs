//! SMS 1708 on the wire: a real-shaped inbound SMS published to the inbound SNS topic (moto)
//! reaches the sms function through an SQS subscription standing in for Lambda's, becomes a report
//! that routing forwards like a web report, and the reply — read from moto's SMS sink — carries its
//! code. Delivered twice, it still makes one report and one reply.

use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use chrono::{DateTime, Utc};
use lapor_core::{AgencyId, Deadlines, FixedClock, KeyPepper, Status, TrackingCode};
use lapor_notifier::SnsNotifier;
use lapor_store::{ReporterIdentity, Reports, Stores};
use lapor_tests::{
    directory_table, eventually, moto_config, new_topic, unique_name, SubscribedQueue, TableStream,
};
use serde_json::Value;

/// Monday 30 November 2026, 09:00 WIB.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

/// The inbound message of the sample event, from `phone`, with a fresh message id.
fn inbound_sms(phone: &str) -> Value {
    let sample: Value =
        serde_json::from_str(include_str!("../../events/sms/lapor-new-report.json"))
            .expect("sample event");
    let mut inbound: Value = serde_json::from_str(
        sample["Records"][0]["Sns"]["Message"]
            .as_str()
            .expect("message"),
    )
    .expect("inbound sms");
    inbound["originationNumber"] = phone.into();
    inbound["inboundMessageId"] = unique_name("inbound").into();
    inbound
}

/// The SNS envelope an SQS subscription receives, as the SNS event Lambda would get.
fn as_lambda_event(envelope: &Value, subscription: &str) -> SnsEvent {
    let field = |name: &str| envelope.get(name).cloned().unwrap_or(Value::Null);
    let event = serde_json::json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription,
            "Sns": {
                "Type": field("Type"),
                "MessageId": field("MessageId"),
                "TopicArn": field("TopicArn"),
                "Subject": field("Subject"),
                "Message": field("Message"),
                "Timestamp": field("Timestamp"),
                "SignatureVersion": field("SignatureVersion"),
                "Signature": field("Signature"),
                "SigningCertUrl": field("SigningCertURL"),
                "UnsubscribeUrl": field("UnsubscribeURL"),
                "MessageAttributes": {}
            }
        }]
    });
    serde_json::from_value(event).expect("an SNS event")
}

/// What moto "sent" by SMS to `phone` (scripts/lib/moto_server.py's sink).
async fn sms_sent_to(phone: &str) -> Vec<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("endpoint");
    let sent: Vec<Value> = reqwest::get(format!("{endpoint}/_lapor/sms-sent"))
        .await
        .expect("sink")
        .json()
        .await
        .expect("json");
    sent.iter()
        .filter(|m| m["to"] == phone)
        .filter_map(|m| m["text"].as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn an_inbound_sms_becomes_one_routed_report_and_one_reply_with_its_code() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (store, table) = directory_table(&config, "sms").await;
    // The inbound topic two-way SMS publishes to, and a queue subscribed as Lambda would be.
    let inbound_topic = new_topic(&config, "lapor-sms-inbound").await;
    let notifications = new_topic(&config, "lapor-notifications").await;
    let lambda = SubscribedQueue::subscribe(&config, &inbound_topic, None, false).await;
    let sns = aws_sdk_sns::Client::new(&config);

    // A citizen texts 1708 (a number of their own, so other tests' SMS do not mix in).
    let phone = format!("+62812{:07}", rand::random::<u32>() % 10_000_000);
    sns.publish()
        .topic_arn(&inbound_topic)
        .message(inbound_sms(&phone).to_string())
        .send()
        .await
        .expect("publish inbound");
    let deliveries = lambda.drain().await;
    let [delivery] = deliveries.as_slice() else {
        panic!("one delivery, got {deliveries:?}");
    };
    let envelope: Value = serde_json::from_str(delivery).expect("SNS envelope");
    let event = as_lambda_event(&envelope, &lambda.subscription_arn);

    let clock = Arc::new(FixedClock::new(monday_morning()));
    let stores = Stores::of(store.clone());
    let deps = lapor_sms::Deps::new(
        &stores,
        Arc::new(SnsNotifier::new(sns.clone(), &notifications)),
        clock.clone(),
        Deadlines::indonesia(),
        KeyPepper::new(vec![7; 32]).expect("pepper"),
        lapor_sms::DEFAULT_HOURLY_LIMIT,
    );
    // At-least-once: the same notification is handled twice.
    lapor_sms::handle_event(&deps, &event)
        .await
        .expect("first delivery");
    lapor_sms::handle_event(&deps, &event)
        .await
        .expect("second delivery");
    // Opened after the deliveries: moto's shard iterators keep the records of a transaction it
    // rolled back (the second delivery's), which DynamoDB never shows.
    let mut stream = TableStream::open(&config, &table).await;

    let replies = sms_sent_to(&phone).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    let code = replies[0]
        .split_whitespace()
        .find_map(|word| TrackingCode::parse(word.trim_end_matches('.')).ok())
        .unwrap_or_else(|| panic!("no tracking code in {:?}", replies[0]));
    assert!(
        replies[0].contains(&format!("CEK {code}")),
        "{}",
        replies[0]
    );

    // One report, then routing forwards it from the stream as it would a web report.
    let reports = store
        .report_with_timeline(&code)
        .await
        .expect("read")
        .expect("the report exists");
    assert_eq!(reports.report.channel, lapor_core::Channel::Sms);
    assert_eq!(reports.report.region.as_str(), "32.74");
    let inserted = stream.next_event().await;
    let new_reports = inserted
        .records
        .iter()
        .filter(|r| r.event_name == "INSERT")
        .filter(|r| {
            let key = |name: &str| match r.change.keys.get(name) {
                Some(serde_dynamo::AttributeValue::S(s)) => s.clone(),
                _ => String::new(),
            };
            key("pk").starts_with("REPORT#") && key("sk") == "META"
        })
        .count();
    assert_eq!(new_reports, 1, "one report from two deliveries");
    let routing = lapor_routing::Deps::new(&stores, clock, Deadlines::indonesia());
    let routed = lapor_routing::handle_event(&routing, &inserted).await;
    assert!(routed.batch_item_failures.is_empty());
    let report = store.report(&code).await.expect("read").expect("exists");
    assert_eq!(report.status, Status::Terdisposisi);
    assert_eq!(
        report.agency.as_ref().map(AgencyId::as_str),
        Some("kota-cirebon-dpupr")
    );
    let reporter = store
        .reporter(&code)
        .await
        .expect("read")
        .expect("reporter");
    assert_eq!(reporter.phone.map(|p| p.as_str().to_string()), Some(phone));
}

#[tokio::test]
async fn lapor_local_plays_an_inbound_sms_and_shows_the_reply_in_the_outbox() {
    let store = Arc::new(lapor_store::MemStore::new());
    let server = lapor_tests::LocalServer::start(Stores::of(store.clone())).await;
    let url = format!("{}/dev/sms", server.url);
    let text = "LAPOR Jalan berlubang di Jl. Cipto, Kota Cirebon, sudah dua minggu";
    let (status, answer) = server
        .send(
            server
                .http
                .post(&url)
                .json(&serde_json::json!({"from": "0812-3456-7890", "text": text})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["action"], "created");
    let code = TrackingCode::parse(answer["tracking_code"].as_str().expect("code")).expect("code");
    let reply = answer["reply"].as_str().expect("reply");
    assert!(reply.contains(&format!("CEK {code}")), "{reply}");

    let (_, outbox) = server
        .send(server.http.get(format!("{}/dev/outbox", server.url)))
        .await;
    let sms = outbox["sent"]
        .as_array()
        .expect("sent")
        .iter()
        .filter(|m| m["channel"] == "sms")
        .collect::<Vec<_>>();
    assert_eq!(sms.len(), 1, "the reply only, no second receipt: {outbox}");
    assert_eq!(sms[0]["text"], reply);
    let to = sms[0]["to"].as_str().expect("to");
    assert!(to.ends_with("890") && !to.contains("3456"), "masked: {to}");

    // Routing runs in-process: the report reaches Kota Cirebon's public works.
    let agency = eventually(
        "routing to forward the SMS report",
        async || {
            store
                .report(&code)
                .await
                .expect("read")
                .and_then(|r| r.agency)
        },
        Option::is_some,
    )
    .await;
    assert_eq!(
        agency.as_ref().map(AgencyId::as_str),
        Some("kota-cirebon-dpupr")
    );

    // A malformed request is refused with a clear error and makes nothing.
    for (body, field) in [
        (serde_json::json!({"text": text}), "from"),
        (serde_json::json!({"from": "12", "text": text}), "from"),
        (serde_json::json!({"from": "081234567890"}), "text"),
        (
            serde_json::json!({"from": "081234567890", "text": 5}),
            "text",
        ),
        (
            serde_json::json!({"from": "081234567890", "text": text, "extra": 1}),
            "extra",
        ),
    ] {
        let (status, error) = server.send(server.http.post(&url).json(&body)).await;
        assert_eq!(status, 400, "{body} → {error}");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    assert_eq!(store.report_count(), 1);
}

/// Every item of `table` except the reporters' own, as text to search.
async fn items_outside_reporter(config: &aws_config::SdkConfig, table: &str) -> Vec<String> {
    lapor_tests::scan_items(config, table)
        .await
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                != Some("REPORTER")
        })
        .map(|item| format!("{item:?}"))
        .collect()
}

#[tokio::test]
async fn after_a_whole_sms_conversation_no_item_but_the_reporter_holds_the_number_a_plain_hash_of_it_or_a_message_id(
) {
    let Some(config) = moto_config().await else {
        return;
    };
    let (store, table) = directory_table(&config, "sms-identity").await;
    let notifications = new_topic(&config, "lapor-notifications").await;
    let sns = aws_sdk_sns::Client::new(&config);
    let deps = lapor_sms::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(SnsNotifier::new(sns, &notifications)),
        Arc::new(FixedClock::new(monday_morning())),
        Deadlines::indonesia(),
        KeyPepper::new(vec![7; 32]).expect("pepper"),
        lapor_sms::DEFAULT_HOURLY_LIMIT,
    );
    let national = format!("812{:07}", rand::random::<u32>() % 10_000_000);
    let phone = format!("+62{national}");
    let message_ids = std::sync::Mutex::new(Vec::new());
    let text = |body: &str| -> lapor_sms::InboundSms {
        let id = unique_name("inbound");
        message_ids.lock().expect("ids").push(id.clone());
        serde_json::from_value(serde_json::json!({
            "originationNumber": phone,
            "destinationNumber": "+621708",
            "messageBody": body,
            "inboundMessageId": id,
        }))
        .expect("inbound SMS")
    };
    let filed = lapor_sms::handle_inbound(
        &deps,
        &text("LAPOR Jalan berlubang besar di Jl. Cipto, Kota Cirebon, sudah dua minggu belum diperbaiki"),
    )
    .await
    .expect("LAPOR");
    let lapor_sms::Action::Created(code) = filed.action else {
        panic!("a report, got {:?}", filed.action);
    };
    for body in [
        format!("CEK {code}"),
        format!("BALAS {code} Sudah seminggu, belum ada petugas datang"),
        "BANTUAN".to_string(),
    ] {
        let handled = lapor_sms::handle_inbound(&deps, &text(&body))
            .await
            .expect(&body);
        assert!(handled.reply.is_some(), "{body}: answered");
    }
    let reporter = store
        .reporter(&code)
        .await
        .expect("read")
        .expect("reporter");
    assert_eq!(
        reporter.phone.map(|p| p.as_str().to_string()),
        Some(phone.clone())
    );

    let forms = [
        phone.clone(),
        format!("62{national}"),
        format!("0{national}"),
    ];
    let mut forbidden: Vec<String> = vec![national.clone()];
    forbidden.extend(
        forms
            .iter()
            .map(|f| lapor_store::sha256_hex(&[f.as_bytes()])),
    );
    // Nor the inbound message ids: with the public code they are what an SMS report's access key
    // is derived from.
    forbidden.extend(message_ids.lock().expect("ids").iter().cloned());
    let items = items_outside_reporter(&config, &table).await;
    assert!(
        items.iter().any(|i| i.contains("sms-rate#")),
        "the rate counter was written"
    );
    for item in &items {
        for needle in &forbidden {
            assert!(!item.contains(needle.as_str()), "{needle} in {item}");
        }
    }
}
