//! What notify tells an agency, on the embedded store and the local outbox.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, FixedClock, Hop, Report, ReportDraft,
    ServiceLevels, TrackingCode,
};
use lapor_notifier::{Outbox, OutboxEntry};
use lapor_notify::{notify_change, Deps};
use lapor_store::{MemStore, ReportChange, Stores};

fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

fn id(text: &str) -> AgencyId {
    AgencyId::parse(text).expect("agency id")
}

/// A Kota Cirebon pothole as it was just forwarded to public works.
fn forwarding() -> ReportChange {
    let json = serde_json::json!({
        "type": "pengaduan", "title": "Jalan berlubang di Jalan Cipto", "category": "infrastruktur",
        "description": "Lubang besar di depan pasar sudah dua minggu.", "region": "32.74",
        "privacy": "publik"
    });
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid");
    let code = TrackingCode::generate(&mut rand::rng());
    let key = AccessKey::generate(&mut rand::rng());
    let (report, _, _) = Report::open(
        new,
        code,
        key.hash(),
        monday_morning(),
        &Deadlines::indonesia(),
    );
    let hop = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let (forwarded, _) = report
        .forward(
            &id("kota-cirebon-dpupr"),
            hop,
            monday_morning(),
            &Deadlines::indonesia(),
        )
        .expect("forward");
    ReportChange {
        old: Some(report),
        new: Some(forwarded),
    }
}

async fn forwarded_texts(levels: ServiceLevels) -> Vec<(String, String)> {
    let outbox = Arc::new(Outbox::default());
    let mut deps = Deps::new(
        &Stores::of(Arc::new(MemStore::new())),
        outbox.clone(),
        Arc::new(FixedClock::new(monday_morning())),
        id("kemenpanrb"),
        id("ombudsman-ri"),
    );
    deps.levels = levels;
    notify_change(&deps, &forwarding()).await.expect("notify");
    outbox
        .entries()
        .into_iter()
        .filter_map(|entry| match entry {
            OutboxEntry::Topic { message } => Some((message.text, message.text_en)),
            OutboxEntry::Sms { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn the_forwarding_message_quotes_the_follow_up_service_level() {
    let bundled = forwarded_texts(ServiceLevels::bundled()).await;
    assert_eq!(bundled.len(), 1, "{bundled:?}");
    assert!(bundled[0].0.contains("dalam 5 hari kerja"), "{bundled:?}");
    assert!(
        bundled[0].1.contains("within 5 working days"),
        "{bundled:?}"
    );

    let faster = ServiceLevels::from_json(
        r#"{"defaults": {"verify_working_days": 3, "follow_up_working_days": 5,
            "completion_days": 60, "reporter_silence_working_days": 10,
            "reminder_working_days": 2},
           "overrides": {"infrastruktur": {"follow_up_working_days": 2}}}"#,
    )
    .expect("levels");
    let texts = forwarded_texts(faster).await;
    assert!(texts[0].0.contains("dalam 2 hari kerja"), "{texts:?}");
    assert!(texts[0].1.contains("within 2 working days"), "{texts:?}");
}
