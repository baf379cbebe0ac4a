//! What notify tells an agency, on the embedded store and the local outbox.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, FixedClock, Hop, Report, ReportDraft,
    ServiceLevels, TrackingCode,
};
use lapor_notifier::{Outbox, OutboxEntry};
use lapor_notify::{notify_change, Deps};
use lapor_store::{MemStore, Pepper, ReportChange, ReporterIdentity, Reports, Stores, Submission};

fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

fn pepper() -> lapor_core::KeyPepper {
    lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper")
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
    let mut deps = deps_on(&Arc::new(MemStore::new()), &outbox, pepper());
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

/// Files a report from a reporter with `phone` in `store` and returns its creation as a change.
async fn filed_by(store: &Arc<MemStore>, phone: &str) -> ReportChange {
    let json = serde_json::json!({
        "type": "pengaduan", "title": "Jalan berlubang di Jalan Cipto", "category": "infrastruktur",
        "description": "Lubang besar di depan pasar sudah dua minggu.", "region": "32.74",
        "privacy": "publik", "reporter": {"name": "Siti Aminah", "phone": phone}
    });
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid");
    let filed = lapor_store::file_report(
        store.as_ref(),
        &new,
        None,
        &pepper().into(),
        &Deadlines::indonesia(),
        monday_morning(),
    )
    .await
    .expect("filed");
    let lapor_store::Filed::Created { report, .. } = filed else {
        panic!("created");
    };
    ReportChange {
        old: None,
        new: Some(*report),
    }
}

/// Notify on `store` at Monday morning, sending into `outbox`, with `pepper` as its secret.
fn deps_on(store: &Arc<MemStore>, outbox: &Arc<Outbox>, pepper: impl Into<Pepper>) -> Deps {
    Deps::new(
        &Stores::of(store.clone()),
        outbox.clone(),
        Arc::new(FixedClock::new(monday_morning())),
        id("kemenpanrb"),
        id("ombudsman-ri"),
        pepper,
    )
}

/// Files `times` reports with `file` and lets notify handle each.
async fn file_and_notify<F: std::future::Future<Output = ReportChange>>(
    deps: &Deps,
    times: usize,
    file: impl Fn() -> F,
) {
    for _ in 0..times {
        notify_change(deps, &file().await).await.expect("notify");
    }
}

fn sms_to(outbox: &Outbox, phone: &str) -> usize {
    outbox
        .entries()
        .iter()
        .filter(|e| matches!(e, OutboxEntry::Sms { to, .. } if to == phone))
        .count()
}

#[tokio::test]
async fn receipts_go_only_to_indonesian_mobiles_and_at_most_the_daily_cap_per_number() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let deps = deps_on(&store, &outbox, pepper()).with_sms_daily_limit(3);

    // A valid number abroad (a premium-rate pumping target) is contact data, never texted.
    let abroad = filed_by(&store, "+44 20 7946 0958").await;
    notify_change(&deps, &abroad).await.expect("notify");
    assert!(
        outbox
            .entries()
            .iter()
            .all(|e| !matches!(e, OutboxEntry::Sms { .. })),
        "no SMS abroad: {:?}",
        outbox.entries().len()
    );

    // An Indonesian mobile gets its receipts, up to the cap a day; later ones are skipped.
    file_and_notify(&deps, 5, || filed_by(&store, "0812-3456-7890")).await;
    assert_eq!(
        sms_to(&outbox, "***********890"),
        3,
        "the outbox shows masked numbers"
    );
    // Another number has its own count.
    let other = filed_by(&store, "0813-1111-2222").await;
    notify_change(&deps, &other).await.expect("notify");
    assert_eq!(sms_to(&outbox, "***********222"), 1);
}

/// A report by `phone` as it was written before intake stored contact keys with the reporter.
async fn filed_before_the_keys_were_kept(store: &Arc<MemStore>, phone: &str) -> ReportChange {
    let change = filed_by(store, phone).await;
    let Some(report) = &change.new else {
        panic!("a new report");
    };
    let code = report.tracking_code.clone();
    let (Some((reporter, _)), Some(full)) = (
        store.reporter_with_keys(&code).await.expect("read"),
        store.report_with_timeline(&code).await.expect("read"),
    ) else {
        panic!("filed");
    };
    let mut old = report.clone();
    old.tracking_code = TrackingCode::generate(&mut rand::rng());
    let mut event = full.timeline[0].clone();
    event.seq = old.version;
    let submission = Submission {
        report: old.clone(),
        reporter: Some(reporter),
        contact_keys: Default::default(),
        event,
        idempotency: None,
    };
    store
        .create_report(&submission, monday_morning().timestamp())
        .await
        .expect("create");
    ReportChange {
        old: None,
        new: Some(old),
    }
}

#[tokio::test]
async fn the_daily_cap_counts_under_the_stored_keys_and_reads_the_secret_only_for_older_reporters()
{
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let reads = Arc::new(AtomicUsize::new(0));
    let counted = reads.clone();
    let secret = Pepper::on_first_use(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(pepper()) })
    });
    let deps = deps_on(&store, &outbox, secret).with_sms_daily_limit(3);

    file_and_notify(&deps, 2, || filed_by(&store, "0812-3456-7890")).await;
    assert_eq!(sms_to(&outbox, "***********890"), 2);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        0,
        "reporters filed with their keys need no secret"
    );

    // An older reporter of the same number is counted on the same day's counter.
    file_and_notify(&deps, 2, || {
        filed_before_the_keys_were_kept(&store, "0812-3456-7890")
    })
    .await;
    assert_eq!(
        sms_to(&outbox, "***********890"),
        3,
        "the cap holds across both"
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1, "the secret is read once");
}

#[tokio::test]
async fn an_older_reporter_waits_for_an_unreadable_secret_and_a_newer_one_does_not() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let unreadable = Pepper::on_first_use(|| Box::pin(async { Err("denied".to_string()) }));
    let deps = deps_on(&store, &outbox, unreadable);
    let newer = filed_by(&store, "0812-3456-7890").await;
    notify_change(&deps, &newer).await.expect("notify");
    assert_eq!(sms_to(&outbox, "***********890"), 1);

    let older = filed_before_the_keys_were_kept(&store, "0813-1111-2222").await;
    assert!(
        notify_change(&deps, &older).await.is_err(),
        "a failure, so the record is retried"
    );
    assert_eq!(
        sms_to(&outbox, "***********222"),
        0,
        "nothing sent uncounted"
    );
}

#[tokio::test]
async fn new_evidence_tells_the_agency_without_the_file_and_a_reserved_place_tells_nobody() {
    use lapor_core::{AttachmentId, FileOutcome, FileType, UploadRequest, Uploader};
    let forwarded = forwarding().new.expect("forwarded");
    let now = monday_morning();
    let file = AttachmentId::generate(now, &mut rand::rng());
    let request = UploadRequest {
        file_type: FileType::Jpeg,
        size: 2_000,
    };
    let reserved = forwarded
        .attach(file.clone(), Uploader::Reporter, request, now)
        .expect("room");
    let (ready, _) = reserved
        .finish_attachment(
            &file,
            FileOutcome::Clean {
                file_type: FileType::Jpeg,
                size: 1_800,
                sha256: "cd".repeat(32),
            },
            now,
        )
        .expect("processing");
    let outbox = Arc::new(Outbox::default());
    let deps = Deps::new(
        &Stores::of(Arc::new(MemStore::new())),
        outbox.clone(),
        Arc::new(FixedClock::new(now)),
        id("kemenpanrb"),
        id("ombudsman-ri"),
        pepper(),
    );
    let reserving = ReportChange {
        old: Some(forwarded),
        new: Some(reserved.clone()),
    };
    assert_eq!(notify_change(&deps, &reserving).await.expect("notify"), 0);
    let finishing = ReportChange {
        old: Some(reserved),
        new: Some(ready),
    };
    assert_eq!(notify_change(&deps, &finishing).await.expect("notify"), 1);
    let messages: Vec<_> = outbox
        .entries()
        .into_iter()
        .filter_map(|entry| match entry {
            OutboxEntry::Topic { message } => Some(message),
            OutboxEntry::Sms { .. } => None,
        })
        .collect();
    assert_eq!(messages.len(), 1);
    let text = serde_json::to_string(&messages[0]).expect("json");
    assert!(text.contains("report.evidence"), "{text}");
    assert!(text.contains("kota-cirebon-dpupr"), "{text}");
    assert!(messages[0].text.contains("Bukti baru"), "{text}");
    assert!(
        !text.contains(file.as_str()) && !text.contains("http"),
        "no file, no link: {text}"
    );
}
