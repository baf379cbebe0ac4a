//! How the overdue sweep scales: stores filled with 1k, 10k and 100k reports (the embedded store)
//! and 1k and 10k (DynamoDB on moto, when `AWS_ENDPOINT_URL` is set), 100 of them overdue each
//! time. For each run: the items the sweep read (DynamoDB's ScannedCount on the due index) and
//! its time. The goal: items read ≤ 100 plus one page per shard, whatever the total.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use lapor_core::{
    AccessKeyHash, Actor, AgencyId, Channel, Deadlines, FixedClock, Hop, Report, ReportDraft,
    TrackingCode,
};
use lapor_escalation::{sweep, Deps};
use lapor_store::{DynamoStore, MemStore, Reports, Store, Stores, Submission, TableSpec};

const OVERDUE: usize = 100;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T03:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| Utc::now())
}

fn report(overdue: bool) -> Report {
    let json = serde_json::json!({
        "type": "pengaduan", "title": "Jalan berlubang", "category": "infrastruktur", "region": "32.74",
        "description": "Lubang besar di depan pasar sudah dua minggu.", "privacy": "publik"
    });
    let Some(object) = json.as_object() else {
        unreachable!("a literal object")
    };
    let Ok(new) = ReportDraft(object).validate(Channel::Web) else {
        unreachable!("a valid literal")
    };
    let created = now() - Duration::days(10);
    let code = TrackingCode::generate(&mut rand::rng());
    let (report, _, _) = Report::open(
        new,
        code,
        AccessKeyHash("bench".into()),
        created,
        &Deadlines::indonesia(),
    );
    let due = if overdue {
        now() - Duration::hours(1)
    } else {
        now() + Duration::days(3)
    };
    let hop = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let Ok(dpupr) = AgencyId::parse("kota-cirebon-dpupr") else {
        unreachable!("a valid id")
    };
    match report.forward(&dpupr, hop, created, &Deadlines::indonesia()) {
        Ok((mut forwarded, _)) => {
            // The service level would set its own deadline; the bench wants this one.
            forwarded.due_at = Some(due.fixed_offset());
            forwarded
        }
        Err(_) => unreachable!("a new report can be forwarded"),
    }
}

fn reports(total: usize) -> Vec<Report> {
    (0..total).map(|i| report(i < OVERDUE)).collect()
}

async fn measure<S: Store + 'static>(store: Arc<S>) -> (usize, usize, usize, StdDuration) {
    let deps = Deps::new(
        &Stores::of(store),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
    );
    let started = Instant::now();
    let summary = match sweep(&deps, now(), Instant::now() + StdDuration::from_secs(600)).await {
        Ok(s) => s,
        Err(e) => panic!("sweep failed: {e}"),
    };
    (
        summary.read,
        summary.escalated,
        summary.pages,
        started.elapsed(),
    )
}

#[tokio::main]
async fn main() {
    let bound = OVERDUE + usize::from(TableSpec::DUE_SHARDS);
    println!("| store | reports | overdue | items read | escalated | pages | sweep time | read ≤ {bound}? |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    for total in [1_000, 10_000, 100_000] {
        let store = Arc::new(MemStore::new());
        for report in reports(total) {
            let event = lapor_core::Event {
                seq: report.version,
                at: report.created_at,
                kind: lapor_core::EventKind::Forwarded,
                actor: Actor::System,
                agency: None,
                status_before: None,
                status_after: report.status,
                from_agency: None,
                to_agency: None,
                message: None,
                public: true,
                attachment: None,
            };
            let submission = Submission {
                report,
                reporter: None,
                contact_keys: Default::default(),
                event,
                idempotency: None,
            };
            if let Err(e) = store.create_report(&submission, 0).await {
                panic!("fill: {e}");
            }
        }
        let (read, escalated, pages, took) = measure(store).await;
        println!(
            "| embedded | {total} | {OVERDUE} | {read} | {escalated} | {pages} | {took:.1?} | {} |",
            read <= bound
        );
    }
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        println!("\n(DynamoDB runs skipped: no AWS_ENDPOINT_URL; scripts/bench starts moto.)");
        return;
    }
    let config = lapor_lambda::aws_config().await;
    // On moto, scripts/lib/moto_server.py keeps transactions' table backups from piling up.
    for total in [1_000, 10_000] {
        let table = format!("bench-sweep-{total}-{}", std::process::id());
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
        if let Err(e) = store.create_table_if_missing().await {
            panic!("table: {e}");
        }
        if let Err(e) = store.load_reports(&reports(total)).await {
            panic!("fill: {e}");
        }
        let (read, escalated, pages, took) = measure(Arc::new(store)).await;
        println!("| DynamoDB (moto) | {total} | {OVERDUE} | {read} | {escalated} | {pages} | {took:.1?} | {} |", read <= bound);
    }
}
