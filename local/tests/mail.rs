//! E-mail in lapor-local: notify's receipt and the mailer anything else may use (the portal's
//! access-key mail) both land in `GET /dev/outbox`, under `mail`, beside the notifications.

mod common;

use axum::body::Body;
use axum::http::Request;
use clap::Parser;
use common::eventually;
use lapor_core::{AccessKey, Email, TrackingCode};
use lapor_local::{build, Cli};
use lapor_notifier::mail::access_key_mail;
use serde_json::Value;
use tower::ServiceExt;

async fn json_of(router: &axum::Router, request: Request<Body>) -> (u16, Value) {
    let response = router.clone().oneshot(request).await.expect("answer");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn outbox() -> Request<Body> {
    Request::get("/dev/outbox")
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn the_receipt_and_the_access_key_mail_are_listed_under_mail_in_the_outbox() {
    let config = Cli::try_parse_from(["lapor-local", "--ephemeral", "--addr", "127.0.0.1:0"])
        .expect("arguments")
        .config;
    let local = build(&config).await.expect("lapor-local");
    let report = serde_json::json!({
        "type": "pengaduan", "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara.",
        "category": "infrastruktur", "region": "32.74", "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "email": "siti.aminah@example.id"}
    });
    let submit = Request::post("/reports")
        .header("content-type", "application/json")
        .body(Body::from(report.to_string()))
        .expect("request");
    let (status, receipt) = json_of(&local.router, submit).await;
    assert_eq!(status, 201, "{receipt}");
    let code = TrackingCode::parse(receipt["tracking_code"].as_str().expect("code")).expect("code");
    let key = receipt["access_key"].as_str().expect("key").to_string();

    // The consumers run in-process, just after the write.
    let mails = eventually(
        "notify to mail the receipt",
        async || {
            let (_, listed) = json_of(&local.router, outbox()).await;
            listed["mail"].as_array().cloned().unwrap_or_default()
        },
        |mails| !mails.is_empty(),
    )
    .await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(
        mails[0]["subject"],
        format!("Laporan {code} diterima / Report {code} received")
    );
    assert_eq!(mails[0]["to"], "s**********@example.id");
    assert!(!mails[0]["text"].as_str().unwrap_or_default().contains(&key));

    let to = Email::parse("siti.aminah@example.id").expect("address");
    local
        .mailer
        .send(&access_key_mail(&code, &AccessKey::presented(&key), to))
        .await
        .expect("sent");
    let (_, listed) = json_of(&local.router, outbox()).await;
    let mails = listed["mail"].as_array().cloned().unwrap_or_default();
    assert_eq!(mails.len(), 2);
    assert!(mails[1]["text"].as_str().unwrap_or_default().contains(&key));
    assert!(
        listed["sent"]
            .as_array()
            .is_some_and(|sent| sent.iter().all(|entry| entry["channel"] != "mail")),
        "notifications stay under `sent`, as before: {listed}"
    );
}
