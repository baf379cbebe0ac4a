//! Report changes as the table's stream delivers them (DynamoDB stream records in a Lambda
//! event), and as the embedded store emits them, in one shape for every consumer.

use std::future::Future;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lapor_core::Report;

use crate::StoreError;

/// One write to a report: what it was and what it became.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportChange {
    pub old: Option<Report>,
    pub new: Option<Report>,
}

/// The report changes in a stream event, each with the record's sequence number (what a
/// partial batch failure names). Records of other items (events, reporters, agencies) are
/// skipped; a record that cannot be read is an error for that record only.
pub fn report_changes(event: &Event) -> Vec<(String, Result<ReportChange, StoreError>)> {
    event
        .records
        .iter()
        .filter(|r| is_report(&r.change.keys))
        .map(|r| {
            let id = r
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| r.event_id.clone());
            (id, change_of(&r.change.old_image, &r.change.new_image))
        })
        .collect()
}

fn is_report(keys: &serde_dynamo::Item) -> bool {
    let text = |name: &str| match keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    text("sk") == Some("META") && text("pk").is_some_and(|pk| pk.starts_with("REPORT#"))
}

fn change_of(
    old: &serde_dynamo::Item,
    new: &serde_dynamo::Item,
) -> Result<ReportChange, StoreError> {
    Ok(ReportChange {
        old: image(old)?,
        new: image(new)?,
    })
}

fn image(item: &serde_dynamo::Item) -> Result<Option<Report>, StoreError> {
    if item.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(item.clone())
        .map(Some)
        .map_err(|e| StoreError::Backend(format!("unreadable report image: {e}")))
}

/// Runs `handle` on every report change of a stream batch and names the records that failed,
/// so Lambda retries only those and one bad record neither blocks nor drops the others.
pub async fn handle_changes<F, Fut, E>(event: &Event, mut handle: F) -> DynamoDbEventResponse
where
    F: FnMut(ReportChange) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut failures = Vec::new();
    for (id, change) in report_changes(event) {
        let result = match change {
            Ok(change) => handle(change).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = result {
            tracing::error!(record = %id, %error, "stream record failed");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(id);
            failures.push(failure);
        }
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures;
    response
}
