//! The routing handler on the sample stream event, on the embedded store.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lapor_core::{AgencyId, Deadlines, Directory, FixedClock, Status};
use lapor_routing::{handle_event, route_change, Deps, Outcome};
use lapor_store::{report_changes, AgencyDirectory, MemStore, Reports, Stores, Submission};

fn id(text: &str) -> AgencyId {
    AgencyId::parse(text).expect("agency id")
}

fn event() -> aws_lambda_events::dynamodb::Event {
    let text = include_str!("../../../events/routing/new-report.json");
    serde_json::from_str(text).expect("sample event")
}

async fn seeded(adjust: impl FnOnce(&mut lapor_core::Report)) -> (Deps, lapor_core::Report) {
    let store = Arc::new(MemStore::new());
    store
        .put_directory(&Directory::parse(Directory::bundled_sample()).expect("directory"))
        .await
        .expect("directory");
    let change = report_changes(&event())
        .pop()
        .expect("one change")
        .1
        .expect("readable");
    let mut report = change.new.expect("new image");
    adjust(&mut report);
    let event = lapor_core::Event {
        seq: 1,
        at: report.created_at,
        kind: lapor_core::EventKind::Submitted,
        actor: lapor_core::Actor::Reporter,
        agency: None,
        status_before: None,
        status_after: Status::Diterima,
        from_agency: None,
        to_agency: None,
        message: None,
        public: true,
        attachment: None,
    };
    let submission = Submission {
        report: report.clone(),
        reporter: None,
        contact_keys: Default::default(),
        event,
        idempotency: None,
    };
    store.create_report(&submission, 0).await.expect("seed");
    let now = DateTime::parse_from_rfc3339("2026-11-30T02:00:05Z")
        .map(|t| t.to_utc())
        .expect("time");
    let deps = Deps::new(
        &Stores::of(store),
        Arc::new(FixedClock::new(now)),
        Deadlines::indonesia(),
    );
    (deps, report)
}

#[tokio::test]
async fn the_sample_report_is_forwarded_once_however_often_it_is_delivered() {
    let (deps, report) = seeded(|_| {}).await;
    for _ in 0..3 {
        let response = handle_event(&deps, &event()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let stored = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.report.status, Status::Terdisposisi);
    assert_eq!(stored.report.agency, Some(id("kota-cirebon-dpupr")));
    assert_eq!(stored.report.version, 2);
    assert_eq!(stored.timeline.len(), 2);
    let due: DateTime<Utc> = stored.report.due_at.expect("due").to_utc();
    assert_eq!(due.to_rfc3339(), "2026-12-07T02:00:05+00:00");
}

#[tokio::test]
async fn an_sms_report_with_unclear_text_goes_to_triage() {
    let (deps, report) = seeded(|r| {
        r.channel = lapor_core::Channel::Sms;
        r.title = "Tolong dibantu pak".into();
        r.description = "Saya mau tanya bagaimana caranya ya pak, terima kasih.".into();
    })
    .await;
    let change = lapor_store::ReportChange {
        old: None,
        new: Some(report.clone()),
    };
    assert_eq!(
        route_change(&deps, &change).await.expect("route"),
        Outcome::Triage
    );
    let stored = deps
        .reports
        .report(&report.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert!(stored.triage);
    assert_eq!(stored.agency, None);
}

#[tokio::test]
async fn an_sms_report_about_a_pothole_is_classified_and_forwarded() {
    let (deps, report) = seeded(|r| {
        r.channel = lapor_core::Channel::Sms;
        r.category = lapor_core::Category::Lainnya;
        r.title = "jln berlubang".into();
        r.description =
            "jln cipto depan pasar berlubang besar, bahaya buat motor, tolong diperbaiki".into();
    })
    .await;
    let change = lapor_store::ReportChange {
        old: None,
        new: Some(report.clone()),
    };
    let outcome = route_change(&deps, &change).await.expect("route");
    assert_eq!(outcome, Outcome::Forwarded(id("kota-cirebon-dpupr")));
    let stored = deps
        .reports
        .report(&report.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.category, lapor_core::Category::Infrastruktur);
}

#[tokio::test]
async fn a_reply_that_lands_before_routing_does_not_strand_the_report() {
    let (deps, report) = seeded(|_| {}).await;
    // The reporter adds a note before the router got to the new report: version 2.
    let (replied, event) = report
        .reply(
            "Lubangnya makin besar.".into(),
            false,
            report.created_at.to_utc(),
            &Deadlines::indonesia(),
        )
        .expect("reply");
    deps.reports
        .update_report(&report, &replied, &[event])
        .await
        .expect("reply");
    let insert = lapor_store::ReportChange {
        old: None,
        new: Some(report.clone()),
    };
    assert_eq!(
        route_change(&deps, &insert).await.expect("route"),
        Outcome::Forwarded(id("kota-cirebon-dpupr"))
    );
    let stored = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.report.status, Status::Terdisposisi);
    assert_eq!(stored.report.version, 3, "the reply, then the routing");
    assert_eq!(stored.timeline.len(), 3);
}
