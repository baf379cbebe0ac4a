//! E-mail to reporters through SES on moto: the receipt and each agency answer reach the address
//! the reporter gave (from the verified sender, never with the access key); a throttled SES (its
//! real error on the wire) fails the stream record, and the redelivered record sends the mail once;
//! a refused send names no address in its error.

use std::sync::Arc;

use axum::body::Body;
use chrono::{DateTime, Utc};
use lapor_core::{Actor, AgencyId, Deadlines, FixedClock, Hop, KeyPepper, Status, TrackingCode};
use lapor_notifier::{mail, Mailer, Outbox, OutboxEntry, SesMailer};
use lapor_store::{DynamoStore, Reports, Stores};
use lapor_tests::{
    directory_table, mails_sent_to, moto_config, pothole_json, send, unique_name, verified_sender,
    Faults, TableStream,
};
use serde_json::json;

/// Monday 30 November 2026, 09:00 WIB.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

fn id(text: &str) -> AgencyId {
    AgencyId::parse(text).expect("agency id")
}

/// A reporter's address no other test (or earlier run on the same moto) uses.
fn reporter_address() -> String {
    format!("{}@example.id", unique_name("pelapor"))
}

/// The pothole report from a reporter with `address`, through intake; its code and access key.
async fn submit(stores: &Stores, address: &str) -> (TrackingCode, String) {
    let intake = lapor_intake::router(lapor_intake::Deps::new(
        stores,
        Arc::new(FixedClock::new(monday_morning())),
        Deadlines::indonesia(),
        KeyPepper::new(vec![7; 32]).expect("pepper"),
    ));
    let mut body = pothole_json();
    body["reporter"]["email"] = json!(address);
    let request = axum::http::Request::post("/reports")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (status, receipt) = send(&intake, request).await;
    assert_eq!(status, 201, "{receipt}");
    let code = TrackingCode::parse(receipt["tracking_code"].as_str().expect("code")).expect("code");
    let key = receipt["access_key"].as_str().expect("key").to_string();
    (code, key)
}

/// Notify over `store` with SMS and topic messages kept in `outbox` and e-mail sent by `mailer`.
fn notify(store: &Arc<DynamoStore>, outbox: &Arc<Outbox>, mailer: SesMailer) -> lapor_notify::Deps {
    lapor_notify::Deps::new(
        &Stores::of(store.clone()),
        outbox.clone(),
        Arc::new(FixedClock::new(monday_morning())),
        id("kemenpanrb"),
        id("ombudsman-ri"),
        KeyPepper::new(vec![7; 32]).expect("pepper"),
    )
    .with_mailer(Arc::new(mailer))
}

#[tokio::test]
async fn the_receipt_and_each_answer_reach_the_reporter_through_ses_without_the_key() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (store, table) = directory_table(&config, "mail").await;
    let stores = Stores::of(store.clone());
    let from = verified_sender(&config).await;
    let address = reporter_address();
    let (code, key) = submit(&stores, &address).await;
    let mut stream = TableStream::open(&config, &table).await;
    let inserted = stream.next_event().await;
    let clock = Arc::new(FixedClock::new(monday_morning()));
    let routing = lapor_routing::Deps::new(&stores, clock, Deadlines::indonesia());
    assert!(lapor_routing::handle_event(&routing, &inserted)
        .await
        .batch_item_failures
        .is_empty());
    let forwarded = stream.next_event().await;
    let outbox = Arc::new(Outbox::default());
    let deps = notify(&store, &outbox, SesMailer::new(&config, from.clone()));
    for event in [&inserted, &forwarded] {
        let answer = lapor_notify::handle_event(&deps, event).await;
        assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    }

    let mails = mails_sent_to(&address).await;
    assert_eq!(mails.len(), 1, "one receipt: {mails:#?}");
    let receipt = &mails[0];
    assert_eq!(receipt["from"], from.as_str());
    assert_eq!(receipt["to"], json!([address]));
    assert_eq!(
        receipt["subject"],
        format!("Laporan {code} diterima / Report {code} received")
    );
    let text = receipt["text"].as_str().expect("text");
    assert!(text.contains(code.as_str()), "{text}");
    assert!(text.contains("What happens next"), "{text}");
    assert!(!text.contains(&key), "never the access key: {text}");

    // The agency answers (as the officer function writes a follow-up).
    let report = store.report(&code).await.expect("read").expect("report");
    let answer = "Lubang sudah ditambal tadi pagi. / The hole was patched this morning.";
    let officer = Hop {
        actor: Actor::Officer,
        by: Some(id("kota-cirebon-dpupr")),
        message: Some(answer.into()),
    };
    let (done, event) = report
        .follow_up(
            Status::Selesai,
            officer,
            None,
            monday_morning(),
            &Deadlines::indonesia(),
        )
        .expect("follow up");
    store
        .update_report(&report, &done, &[event])
        .await
        .expect("answered");
    let followed_up = stream.next_event().await;
    for _ in 0..2 {
        let handled = lapor_notify::handle_event(&deps, &followed_up).await;
        assert!(handled.batch_item_failures.is_empty(), "{handled:?}");
    }
    let mails = mails_sent_to(&address).await;
    assert_eq!(mails.len(), 2, "the receipt and one answer: {mails:#?}");
    assert_eq!(
        mails[1]["subject"],
        format!("Tanggapan baru untuk laporan {code} / New answer on report {code}")
    );
    let text = mails[1]["text"].as_str().expect("text");
    assert!(text.contains(answer), "{text}");
    assert!(text.contains("Status: selesai / done"), "{text}");
    assert!(!text.contains(&key), "{text}");
}

#[tokio::test]
async fn a_throttled_mail_fails_the_record_and_the_redelivered_record_sends_it_once() {
    let Some(config) = moto_config().await else {
        return;
    };
    let faults = Faults::on_moto().expect("moto");
    let (store, table) = directory_table(&config, "mail-throttled").await;
    let stores = Stores::of(store.clone());
    let from = verified_sender(&config).await;
    let address = reporter_address();
    let (code, _) = submit(&stores, &address).await;
    let mut stream = TableStream::open(&config, &table).await;
    let inserted = stream.next_event().await;
    let outbox = Arc::new(Outbox::default());
    let deps = notify(&store, &outbox, SesMailer::new(&config, from));
    let receipts_by_sms = || {
        outbox
            .entries()
            .iter()
            .filter(|e| matches!(e, OutboxEntry::Sms { text, .. } if text.contains(code.as_str())))
            .count()
    };

    // SES answers 429 TooManyRequestsException, past the SDK's own retries.
    faults
        .add(json!({
            "service": "ses", "operation": "SendEmail", "contains": [address],
            "error": "Throttling", "count": 100,
        }))
        .await;
    let (_, change) = lapor_store::report_changes(&inserted)
        .into_iter()
        .next()
        .expect("the new report");
    let error = lapor_notify::notify_change(&deps, &change.expect("readable"))
        .await
        .expect_err("throttled");
    assert!(
        error.to_string().contains("TooManyRequestsException"),
        "SES's own error, read from the wire: {error}"
    );
    assert!(!error.to_string().contains('@'), "{error}");
    let first = lapor_notify::handle_event(&deps, &inserted).await;
    assert_eq!(first.batch_item_failures.len(), 1, "the record is retried");
    assert!(faults.fired().await >= 2, "SES was throttled on the wire");
    assert!(mails_sent_to(&address).await.is_empty());
    assert_eq!(
        receipts_by_sms(),
        1,
        "the SMS receipt went out all the same"
    );

    faults.clear().await;
    let again = lapor_notify::handle_event(&deps, &inserted).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(mails_sent_to(&address).await.len(), 1, "sent on redelivery");
    let third = lapor_notify::handle_event(&deps, &inserted).await;
    assert!(third.batch_item_failures.is_empty());
    assert_eq!(mails_sent_to(&address).await.len(), 1, "and only once");
    assert_eq!(receipts_by_sms(), 1, "the SMS was not sent twice");
}

#[tokio::test]
async fn a_refused_send_names_no_address_in_its_error() {
    let Some(config) = moto_config().await else {
        return;
    };
    let unverified =
        lapor_core::Email::parse(&format!("{}@lapor.example.go.id", unique_name("belum")))
            .expect("address");
    let mailer = SesMailer::new(&config, unverified);
    let code = TrackingCode::generate(&mut rand::rng());
    let to = lapor_core::Email::parse(&reporter_address()).expect("address");
    let key = lapor_core::AccessKey::generate(&mut rand::rng());
    let error = mailer
        .send(&mail::access_key_mail(&code, &key, to))
        .await
        .expect_err("an unverified sender is refused");
    let text = error.to_string();
    assert!(text.contains("not verified"), "{text}");
    assert!(
        !text.contains('@'),
        "no address in what gets logged: {text}"
    );
    assert!(!text.contains(key.reveal()), "{text}");
}
