//! The overdue sweep, the safety net: every report whose current deadline has passed is found
//! through the due index (so the cost follows the number of overdue reports, not the
//! table), flagged red and escalated one level — or, for a completed report the reporter left
//! unanswered, closed as final. Each step is one conditional write on the version the sweep read,
//! so two overlapping sweeps never escalate a report twice; the notify function tells people from
//! the stream.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use lapor_core::{Clock, Deadlines, Report, Status};
use lapor_store::{Conflict, Reports, StoreError, Stores, WorkQueues};
use serde::Serialize;

/// Reports read per page of the due index.
pub const PAGE: usize = 100;

/// The sweep reads the due index and moves reports; it never sees who sent them.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub queues: Arc<dyn WorkQueues>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
}

impl Deps {
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, deadlines: Deadlines) -> Self {
        Self {
            reports: stores.reports.clone(),
            queues: stores.queues.clone(),
            clock,
            deadlines,
        }
    }
}

/// What one sweep did, for the log line and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Overdue reports the index returned.
    pub scanned: usize,
    /// Items the store read to answer (DynamoDB's ScannedCount), for cost tracking.
    pub read: usize,
    pub pages: usize,
    /// Reports that turned red this sweep (first escalation).
    pub flagged: usize,
    /// Escalations of any level, the first included.
    pub escalated: usize,
    /// Completed reports closed as final.
    pub closed: usize,
    /// Reports another writer changed first (an overlapping sweep, an officer).
    pub skipped: usize,
    /// Index items that could not be read as reports (logged by key, left for a person).
    pub unreadable: usize,
    /// Reports whose escalation failed this time (logged; the next sweep tries again).
    pub failed: usize,
    /// False when the sweep stopped for time and left the rest for the next run.
    pub complete: bool,
    pub duration_ms: u128,
}

/// Sweeps the due index for deadlines at or before `now`, stopping before `stop_at`.
pub async fn sweep(
    deps: &Deps,
    now: DateTime<Utc>,
    stop_at: Instant,
) -> Result<Summary, StoreError> {
    let started = Instant::now();
    let mut summary = Summary {
        complete: true,
        ..Summary::default()
    };
    let mut cursor = None;
    loop {
        if Instant::now() >= stop_at {
            summary.complete = false;
            break;
        }
        let page = deps.queues.overdue(now, PAGE, cursor.as_deref()).await?;
        summary.pages += 1;
        summary.read += page.read;
        summary.scanned += page.reports.len();
        summary.unreadable += page.unreadable;
        for report in &page.reports {
            // One failing report must not stop the sweep for every other one.
            if let Err(error) = act(deps, report, now, &mut summary).await {
                tracing::error!(tracking_code = %report.tracking_code, %error, "escalation failed; the next sweep tries again");
                summary.failed += 1;
            }
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    summary.duration_ms = started.elapsed().as_millis();
    Ok(summary)
}

async fn act(
    deps: &Deps,
    report: &Report,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    // The index is eventually consistent: trust only the report itself.
    if report.due_at.is_none_or(|due| due.to_utc() > now) {
        return Ok(());
    }
    let closing = report.status == Status::Selesai;
    let (next, event) = if closing {
        match report.close_final(now, &deps.deadlines) {
            Ok(step) => step,
            Err(_) => return Ok(()),
        }
    } else {
        report.escalate(now, &deps.deadlines)
    };
    match deps.reports.update_report(report, &next, &[event]).await {
        Ok(()) if closing => summary.closed += 1,
        Ok(()) => {
            summary.escalated += 1;
            if report.escalation == 0 {
                summary.flagged += 1;
            }
            tracing::info!(tracking_code = %next.tracking_code, level = next.escalation, "escalated");
        }
        Err(StoreError::Conflict(Conflict::VersionMismatch)) => summary.skipped += 1,
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The summary as a CloudWatch embedded-metric-format line (one JSON object on stdout).
pub fn emf(summary: &Summary, timestamp_ms: i64) -> String {
    let metrics = [
        "Scanned",
        "Read",
        "Flagged",
        "Escalated",
        "Closed",
        "Skipped",
        "Unreadable",
        "Failed",
        "DurationMs",
    ];
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Lapor",
                "Dimensions": [[]],
                "Metrics": metrics.iter().map(|m| serde_json::json!({"Name": m, "Unit": if *m == "DurationMs" { "Milliseconds" } else { "Count" }})).collect::<Vec<_>>(),
            }],
        },
        "Scanned": summary.scanned,
        "Read": summary.read,
        "Flagged": summary.flagged,
        "Escalated": summary.escalated,
        "Closed": summary.closed,
        "Skipped": summary.skipped,
        "Unreadable": summary.unreadable,
        "Failed": summary.failed,
        "DurationMs": summary.duration_ms,
        "Complete": summary.complete,
    })
    .to_string()
}
