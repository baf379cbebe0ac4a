//! The overdue sweep on DynamoDB (moto) and on the embedded store: it finds exactly the overdue
//! reports through the due index, escalates each once however many sweeps overlap, and the stream
//! tells the right agency at each level.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Color, Deadlines, Directory, FixedClock, Hop, Report,
    ReportDraft, Status, TrackingCode,
};
use lapor_escalation::{sweep, Deps};
use lapor_notifier::{Outbox, OutboxEntry};
use lapor_store::{AgencyDirectory, DynamoStore, MemStore, Reports, Stores, Submission, TableSpec};
use lapor_tests::{eventually, moto_config, pothole_json, unique_name, TableStream};

const OVERLAP_REPORTS: usize = 200;

/// Monday 7 December 2026, 10:00 WIB.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T03:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

/// A report forwarded to Kota Cirebon's public works, due at `due`.
fn forwarded(due: DateTime<Utc>) -> Submission {
    let json = pothole_json();
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid");
    let code = TrackingCode::generate(&mut rand::rng());
    let created = now() - Duration::days(10);
    let (report, reporter, event) = Report::open(
        new,
        code,
        AccessKey::generate(&mut rand::rng()).hash(),
        created,
        &Deadlines::indonesia(),
    );
    let hop = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let dpupr = AgencyId::parse("kota-cirebon-dpupr").expect("id");
    let (mut report, _) = report
        .forward(&dpupr, hop, created, &Deadlines::indonesia())
        .expect("forward");
    report.due_at = Some(due.with_timezone(&report.region.zone().offset()));
    Submission {
        report,
        reporter,
        contact_keys: Default::default(),
        event,
        idempotency: None,
    }
}

fn deps(stores: &Stores, at: DateTime<Utc>) -> Deps {
    Deps::new(
        stores,
        Arc::new(FixedClock::new(at)),
        Deadlines::indonesia(),
    )
}

/// A budget no test sweep should reach: the tests check what a complete sweep does.
fn later() -> Instant {
    Instant::now() + StdDuration::from_secs(600)
}

async fn notify_from(
    stream: &mut TableStream,
    stores: &Stores,
    outbox: Arc<Outbox>,
) -> Vec<(String, String)> {
    let event = stream.next_event().await;
    let notify = lapor_notify::Deps::new(
        stores,
        outbox.clone(),
        Arc::new(FixedClock::new(now())),
        AgencyId::parse("kemenpanrb").expect("id"),
        AgencyId::parse("ombudsman-ri").expect("id"),
        lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
    );
    let response = lapor_notify::handle_event(&notify, &event).await;
    assert!(response.batch_item_failures.is_empty());
    outbox
        .entries()
        .into_iter()
        .filter_map(|e| match e {
            OutboxEntry::Topic { message } if message.event_type.as_str() == "report.overdue" => {
                Some((message.tracking_code, message.agency_id.to_string()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn one_overdue_report_among_many_is_flagged_once_then_escalated_to_the_parent() {
    let Some(config) = moto_config().await else {
        return;
    };
    let table = unique_name("sweep");
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        &table,
    ));
    store.create_table_if_missing().await.expect("table");
    store
        .put_directory(&Directory::parse(Directory::bundled_sample()).expect("dir"))
        .await
        .expect("dir");
    for _ in 0..30 {
        store
            .create_report(&forwarded(now() + Duration::days(3)), 0)
            .await
            .expect("on time");
    }
    let late = forwarded(now() - Duration::hours(1));
    let code = late.report.tracking_code.clone();
    store.create_report(&late, 0).await.expect("late");
    let mut stream = TableStream::open(&config, &table).await;
    let _inserts = stream.next_event().await;
    let outbox = Arc::new(Outbox::default());
    let stores = Stores::of(store.clone());

    let first = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("sweep");
    assert_eq!(
        (first.scanned, first.flagged, first.escalated),
        (1, 1, 1),
        "{first:?}"
    );
    assert!(
        first.read <= 1 + usize::from(TableSpec::DUE_SHARDS),
        "{first:?}"
    );
    let report = store.report(&code).await.expect("read").expect("exists");
    assert_eq!((report.color(), report.escalation), (Color::Red, 1));
    assert_eq!(
        notify_from(&mut stream, &stores, outbox.clone()).await,
        [(code.to_string(), "kota-cirebon-dpupr".to_string())]
    );

    let again = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("sweep");
    assert_eq!((again.scanned, again.escalated), (0, 0), "{again:?}");
    let after = stream.next_event().await;
    let changed: Vec<String> = lapor_store::report_changes(&after)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(
        changed.is_empty(),
        "a second sweep writes nothing: {changed:?}"
    );

    // One reminder period (2 working days) later: level 2, the city government is told.
    let reminder = now() + Duration::days(2) + Duration::hours(1);
    let second = sweep(&deps(&stores, reminder), reminder, later())
        .await
        .expect("sweep");
    assert_eq!((second.escalated, second.flagged), (1, 0), "{second:?}");
    assert_eq!(
        store
            .report(&code)
            .await
            .expect("read")
            .expect("exists")
            .escalation,
        2
    );
    let told = notify_from(&mut stream, &stores, outbox.clone()).await;
    assert_eq!(
        told.last(),
        Some(&(code.to_string(), "kota-cirebon".to_string()))
    );
    assert_eq!(told.len(), 2);
}

fn overlapping() -> impl Iterator<Item = Submission> {
    (0..OVERLAP_REPORTS).map(|_| forwarded(now() - Duration::hours(2)))
}

/// Two sweeps started together over the same 200 overdue reports (already in `store`): each report
/// is escalated once, with one timeline event, whichever sweep won it.
async fn two_overlapping_sweeps_escalate_each_report_once(stores: Stores, codes: &[TrackingCode]) {
    let run = |stores: Stores| {
        tokio::spawn(async move { sweep(&deps(&stores, now()), now(), later()).await })
    };
    let (a, b) = (run(stores.clone()), run(stores.clone()));
    let (a, b) = (
        a.await.expect("task a").expect("sweep a"),
        b.await.expect("task b").expect("sweep b"),
    );
    assert!(a.complete && b.complete, "{a:?} {b:?}");
    assert_eq!(a.escalated + b.escalated, OVERLAP_REPORTS, "{a:?} {b:?}");
    for code in codes {
        let full = stores
            .reports
            .report_with_timeline(code)
            .await
            .expect("read")
            .expect("exists");
        let escalations = full
            .timeline
            .iter()
            .filter(|e| e.kind == lapor_core::EventKind::Escalated)
            .count();
        assert_eq!((full.report.escalation, escalations), (1, 1), "{code}");
    }
}

#[tokio::test]
async fn two_overlapping_sweeps_escalate_each_of_200_reports_once_on_dynamodb() {
    let Some(config) = moto_config().await else {
        return;
    };
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        unique_name("overlap"),
    );
    store.create_table_if_missing().await.expect("table");
    // In one batch: each transaction on moto copies the table, and creating is not under test.
    let reports = overlapping().map(|sub| sub.report).collect::<Vec<_>>();
    store.load_reports(&reports).await.expect("fill");
    let codes = reports
        .into_iter()
        .map(|r| r.tracking_code)
        .collect::<Vec<_>>();
    two_overlapping_sweeps_escalate_each_report_once(Stores::of(Arc::new(store)), &codes).await;
}

#[tokio::test]
async fn two_overlapping_sweeps_escalate_each_of_200_reports_once_on_the_embedded_store() {
    let store = Arc::new(MemStore::new());
    let mut codes = Vec::new();
    for sub in overlapping() {
        codes.push(sub.report.tracking_code.clone());
        store.create_report(&sub, 0).await.expect("create");
    }
    two_overlapping_sweeps_escalate_each_report_once(Stores::of(store), &codes).await;
}

#[tokio::test]
async fn a_completed_report_left_unanswered_becomes_final() {
    let store = Arc::new(MemStore::new());
    let sub = forwarded(now() + Duration::days(3));
    store.create_report(&sub, 0).await.expect("create");
    let hop = Hop {
        actor: Actor::Officer,
        by: AgencyId::parse("kota-cirebon-dpupr").ok(),
        message: Some("Sudah ditambal.".into()),
    };
    let done_at = now() - Duration::days(20);
    let (done, event) = sub
        .report
        .follow_up(Status::Selesai, hop, None, done_at, &Deadlines::indonesia())
        .expect("done");
    store
        .update_report(&sub.report, &done, &[event])
        .await
        .expect("done");
    let stores = Stores::of(store.clone());
    let summary = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("sweep");
    assert_eq!(summary.closed, 1, "{summary:?}");
    let closed = store
        .report(&sub.report.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((closed.status, closed.due_at), (Status::Arsip, None));
    let again = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("sweep");
    assert_eq!(again.scanned, 0);
}

#[tokio::test]
async fn the_central_admin_can_sweep_lapor_local_at_a_chosen_time() {
    let server = lapor_tests::LocalServer::start(Stores::of(Arc::new(MemStore::new()))).await;
    let (status, receipt) = server
        .send(
            server
                .http
                .post(format!("{}/reports", server.url))
                .json(&pothole_json()),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let code = receipt["tracking_code"].as_str().expect("code").to_string();
    let url = format!("{}/admin/sweep", server.url);
    let later = serde_json::json!({"now": (Utc::now() + Duration::days(30)).format("%Y-%m-%dT%H:%M%:z").to_string()});
    let (status, _) = server
        .send(
            server
                .officer(
                    server.http.post(&url),
                    "kota-cirebon-dpupr",
                    lapor_core::Role::Officer,
                )
                .json(&later),
        )
        .await;
    assert_eq!(status, 403);
    let (status, bad) = server
        .send(
            server
                .officer(
                    server.http.post(&url),
                    "kemenpanrb",
                    lapor_core::Role::AdminPusat,
                )
                .json(&serde_json::json!({"now": "besok"})),
        )
        .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (400, Some("now")));
    // Routing runs in-process; wait for the report to be forwarded before sweeping a month later.
    let routed = eventually(
        &format!("routing to forward report {code}"),
        async || {
            server
                .send(server.http.get(format!("{}/reports/{code}", server.url)))
                .await
                .1
        },
        |view| view["status"] == "terdisposisi",
    )
    .await;
    assert_eq!(routed["agency"], "kota-cirebon-dpupr", "{routed}");
    let (status, swept) = server
        .send(
            server
                .officer(
                    server.http.post(&url),
                    "kemenpanrb",
                    lapor_core::Role::AdminPusat,
                )
                .json(&later),
        )
        .await;
    assert_eq!(status, 200, "{swept}");
    assert_eq!(swept["summary"]["flagged"], 1, "{swept}");
    let (_, view) = server
        .send(server.http.get(format!("{}/reports/{code}", server.url)))
        .await;
    assert_eq!(view["color"], "red");
}

/// An item in the due index that is not a report (a bad migration, a hand edit) is counted and
/// skipped: every other overdue report on the page is still escalated.
#[tokio::test]
async fn a_sweep_skips_an_unreadable_item_and_escalates_the_rest() {
    let Some(config) = moto_config().await else {
        return;
    };
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("sweep-bad");
    let store = DynamoStore::new(client.clone(), &table);
    store.create_table_if_missing().await.expect("table");
    let reports: Vec<Report> = (0..5)
        .map(|_| forwarded(now() - Duration::hours(2)).report)
        .collect();
    store.load_reports(&reports).await.expect("fill");
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    client
        .put_item()
        .table_name(&table)
        .item("pk", s("REPORT#RUSAK00001"))
        .item("sk", s("META"))
        .item("status", s("hilang"))
        .item("due_shard", s("DUE#0"))
        .item("due_sk", s("2026-12-01T00:00:00.000000Z#RUSAK00001"))
        .send()
        .await
        .expect("a broken item");
    let stores = Stores::of(Arc::new(store));
    let summary = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("the sweep goes on");
    assert_eq!(
        (summary.escalated, summary.unreadable, summary.complete),
        (5, 1, true),
        "{summary:?}"
    );
}

/// A report no consumer ever routed (routing down for days) still has its verification deadline:
/// the sweep flags it red and tells the central admin.
#[tokio::test]
async fn a_report_never_routed_turns_red_and_reaches_the_central_admin() {
    let store = Arc::new(MemStore::new());
    store
        .put_directory(&Directory::parse(Directory::bundled_sample()).expect("dir"))
        .await
        .expect("dir");
    let stores = Stores::of(store.clone());
    let json = pothole_json();
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid");
    let filed_at = now() - Duration::days(7);
    let filed = lapor_store::file_report(
        stores.reports.as_ref(),
        &new,
        None,
        &lapor_core::KeyPepper::new(vec![1; 32])
            .expect("pepper")
            .into(),
        &Deadlines::indonesia(),
        filed_at,
    )
    .await
    .expect("filed");
    let lapor_store::Filed::Created {
        report: received, ..
    } = filed
    else {
        panic!("created")
    };
    let summary = sweep(&deps(&stores, now()), now(), later())
        .await
        .expect("sweep");
    assert_eq!((summary.flagged, summary.escalated), (1, 1), "{summary:?}");
    let red = store
        .report(&received.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((red.color(), red.escalation), (Color::Red, 1));
    let outbox = Arc::new(Outbox::default());
    let notify = lapor_notify::Deps::new(
        &stores,
        outbox.clone(),
        Arc::new(FixedClock::new(now())),
        AgencyId::parse("kemenpanrb").expect("id"),
        AgencyId::parse("ombudsman-ri").expect("id"),
        lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper"),
    );
    let change = lapor_store::ReportChange {
        old: Some(*received),
        new: Some(red),
    };
    lapor_notify::notify_change(&notify, &change)
        .await
        .expect("notify");
    let told: Vec<String> = outbox
        .entries()
        .into_iter()
        .filter_map(|e| match e {
            OutboxEntry::Topic { message } if message.event_type.as_str() == "report.overdue" => {
                Some(message.agency_id.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(told, ["kemenpanrb"]);
}
