//! The routing function: every new report goes to the agency that handles its category in its
//! region (falling back up the region tree), or to the central admin's triage queue when no rule
//! matches or its category cannot be trusted. Fed by the table's stream; lapor-local calls
//! [`route_change`] for each change of its embedded store.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use lapor_core::{classify, Actor, AgencyId, Channel, Clock, Deadlines, Hop, Report, Status};
use lapor_store::{
    handle_changes, AgencyDirectory, Conflict, ReportChange, Reports, StoreError, Stores,
};

/// Routing reads the rules and moves reports; it never sees who sent them.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
}

impl Deps {
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, deadlines: Deadlines) -> Self {
        Self {
            reports: stores.reports.clone(),
            directory: stores.directory.clone(),
            clock,
            deadlines,
        }
    }
}

/// What routing did with one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Forwarded(AgencyId),
    Triage,
    /// Not a new, unrouted report: nothing to do.
    NotForRouting,
    /// Someone (an earlier delivery of the same record) already moved it on.
    AlreadyHandled,
}

/// How often routing looks at a report again when it changed under the routing write.
const ROUTE_ATTEMPTS: usize = 4;

/// Routes a newly received report. Safe to call twice for the same change: the update is
/// conditional on the version it read, so a repeat finds it already moved. When something else
/// changed the report first (the reporter's reply, say), routing reads the latest version and
/// routes that, so no change can leave a report unrouted.
pub async fn route_change(deps: &Deps, change: &ReportChange) -> Result<Outcome, StoreError> {
    let Some(received) = change
        .new
        .as_ref()
        .filter(|r| change.old.is_none() && unrouted(r))
    else {
        return Ok(Outcome::NotForRouting);
    };
    let mut report = received.clone();
    for _ in 0..ROUTE_ATTEMPTS {
        match route(deps, &report).await {
            Err(StoreError::Conflict(Conflict::VersionMismatch)) => {
                match deps.reports.report(&report.tracking_code).await? {
                    Some(latest) if unrouted(&latest) => report = latest,
                    _ => return Ok(Outcome::AlreadyHandled),
                }
            }
            done => return done,
        }
    }
    Err(StoreError::Busy(format!(
        "report {} kept changing while it was routed",
        report.tracking_code
    )))
}

/// Routes one version of a report; `VersionMismatch` when it is no longer the latest.
async fn route(deps: &Deps, report: &Report) -> Result<Outcome, StoreError> {
    let now = deps.clock.now();
    let system = |message: &str| Hop {
        actor: Actor::System,
        by: None,
        message: Some(message.to_string()),
    };
    if report.region_assumed {
        let (next, event) = report.send_to_triage(
            system("Lokasi belum diketahui: menunggu verifikasi admin pusat."),
            now,
            &deps.deadlines,
        );
        return write(deps, report, next, event, Outcome::Triage).await;
    }
    let Some(category) = trusted_category(report) else {
        let (next, event) = report.send_to_triage(
            system("Kategori belum pasti: menunggu verifikasi admin pusat."),
            now,
            &deps.deadlines,
        );
        return write(deps, report, next, event, Outcome::Triage).await;
    };
    let mut classified = report.clone();
    classified.category = category;
    match deps.directory.route(&report.region, category).await? {
        Some(agency) => {
            let hop = system("Diteruskan otomatis sesuai wilayah dan kategori.");
            let (next, event) = classified
                .forward(&agency, hop, now, &deps.deadlines)
                .map_err(|e| StoreError::Backend(format!("routing a new report: {e}")))?;
            write(deps, report, next, event, Outcome::Forwarded(agency)).await
        }
        None => {
            let (next, event) = classified.send_to_triage(
                system("Belum ada instansi untuk wilayah dan kategori ini: menunggu admin pusat."),
                now,
                &deps.deadlines,
            );
            write(deps, report, next, event, Outcome::Triage).await
        }
    }
}

/// Received and neither routed nor queued for triage yet.
fn unrouted(report: &Report) -> bool {
    report.status == Status::Diterima && !report.triage && report.agency.is_none()
}

/// The report's category, or the classifier's reading of its text when the channel gives no
/// trustworthy category (SMS) or the citizen chose "other"; `None` when too uncertain.
fn trusted_category(report: &Report) -> Option<lapor_core::Category> {
    let chosen = report.category;
    if report.channel != Channel::Sms && chosen != lapor_core::Category::Lainnya {
        return Some(chosen);
    }
    let text = format!("{} {}", report.title, report.description);
    classify(&text).map(|c| c.category)
}

async fn write(
    deps: &Deps,
    before: &Report,
    next: Report,
    event: lapor_core::Event,
    outcome: Outcome,
) -> Result<Outcome, StoreError> {
    deps.reports.update_report(before, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, outcome = ?outcome, "routed");
    Ok(outcome)
}

/// The Lambda handler: routes every report change in the batch, reporting failed records.
pub async fn handle_event(deps: &Deps, event: &Event) -> DynamoDbEventResponse {
    handle_changes(event, |change| async move {
        route_change(deps, &change).await.map(drop)
    })
    .await
}
