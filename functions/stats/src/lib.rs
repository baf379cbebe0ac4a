//! The statistics consumer: every report change the table's stream carries becomes its counter
//! deltas, and each batch is counted in as few writes as fit (one update per counter item),
//! exactly once per change however often a record is delivered or a batch is split. Statistics
//! therefore lag a write by one stream hop, and no report write touches a counter shared by the
//! reports of a whole province.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lapor_core::stats::CountedChange;
use lapor_core::Clock;
use lapor_store::{report_changes, ReportChange, Statistics, StoreError, Stores};

/// Statistics needs the counters and nothing else: it never sees a report's reporter.
#[derive(Clone)]
pub struct Deps {
    pub statistics: Arc<dyn Statistics>,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>) -> Self {
        Self {
            statistics: stores.statistics.clone(),
            clock,
        }
    }
}

/// Counts a batch of changes; a change that removed a report (none do today) counts nothing.
pub async fn count_changes(deps: &Deps, changes: &[ReportChange]) -> Result<(), StoreError> {
    let counted: Vec<CountedChange> = changes
        .iter()
        .filter_map(|c| {
            c.new
                .as_ref()
                .map(|new| CountedChange::of(c.old.as_ref(), new))
        })
        .collect();
    deps.statistics
        .count(&counted, deps.clock.now().timestamp())
        .await
}

/// The Lambda handler. An unreadable record fails alone; when counting fails, every readable
/// record of the batch is reported failed, and Lambda retries (or bisects) them: what was
/// counted already is skipped by its change id.
pub async fn handle_event(deps: &Deps, event: &Event) -> DynamoDbEventResponse {
    let mut failed = Vec::new();
    let mut ids = Vec::new();
    let mut changes = Vec::new();
    for (id, change) in report_changes(event) {
        match change {
            Ok(change) => {
                ids.push(id);
                changes.push(change);
            }
            Err(error) => {
                tracing::error!(record = %id, %error, "unreadable stream record");
                failed.push(id);
            }
        }
    }
    if let Err(error) = count_changes(deps, &changes).await {
        tracing::error!(records = ids.len(), %error, "counting failed; the batch is retried");
        failed.extend(ids);
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            failure
        })
        .collect();
    response
}
