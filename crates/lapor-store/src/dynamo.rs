//! Reports in one DynamoDB table. Key design (also in the README):
//!
//! | item            | pk                    | sk               |
//! |-----------------|-----------------------|------------------|
//! | report          | `REPORT#<code>`       | `META`           |
//! | timeline event  | `REPORT#<code>`       | `EVENT#<seq:010>`|
//! | reporter        | `REPORT#<code>`       | `REPORTER`       |
//! | idempotency key | `IDEMP#<sha256>`      | `IDEMP`          |
//!
//! Events sort before `META` and the reporter after it, so one Query with `sk <= META` reads a
//! report with its timeline and never touches the reporter's identity.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use lapor_core::{Event, Report, Reporter, TrackingCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Conflict, IdempotencyRecord, ReportStore, ReportWithTimeline, StoreError, Submission};

type Item = HashMap<String, AttributeValue>;

const PK: &str = "pk";
const SK: &str = "sk";
const META: &str = "META";
const REPORTER: &str = "REPORTER";
const IDEMP: &str = "IDEMP";
/// The table's TTL attribute (Unix seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// The table's shape, shared by `create_table_if_missing` and the SAM template check.
pub struct TableSpec;

impl TableSpec {
    pub const PARTITION_KEY: &'static str = PK;
    pub const SORT_KEY: &'static str = SK;
    pub const TTL_ATTRIBUTE: &'static str = TTL_ATTRIBUTE;
}

fn report_pk(code: &TrackingCode) -> String {
    format!("REPORT#{code}")
}

fn event_sk(seq: u64) -> String {
    format!("EVENT#{seq:010}")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(e).to_string())
}

/// Serialises `value` and adds its keys.
fn item_of<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode item: {e}")))?;
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Backend(format!("cannot decode item: {e}")))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand, TTL on `expires_at`) unless it exists, and waits until it
    /// is active. For lapor-local and tests; the SAM template creates it in AWS.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        let exists = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| e.into_service_error());
        match exists {
            Ok(_) => return self.wait_active().await,
            Err(e) if e.is_resource_not_found_exception() => {}
            Err(e) => return Err(StoreError::Backend(DisplayErrorContext(e).to_string())),
        }
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let built = (|| {
            Ok::<_, aws_sdk_dynamodb::error::BuildError>((
                vec![attribute(PK)?, attribute(SK)?],
                vec![key(PK, KeyType::Hash)?, key(SK, KeyType::Range)?],
            ))
        })()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(built.0))
            .set_key_schema(Some(built.1))
            .send()
            .await
            .map_err(backend)?;
        self.wait_active().await?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn wait_active(&self) -> Result<(), StoreError> {
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(backend)?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::Backend(format!(
            "table {} did not become active",
            self.table
        )))
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(condition) = condition {
            put = put
                .condition_expression(condition)
                .expression_attribute_names("#pk", PK);
        }
        let put = put
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    /// Sends a transaction and names which of its items failed its condition.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), Result<Vec<usize>, StoreError>> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(cancel) => {
                    let failed = cancel
                        .cancellation_reasons()
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| {
                            matches!(
                                r.code(),
                                Some("ConditionalCheckFailed") | Some("TransactionConflict")
                            )
                        })
                        .map(|(i, _)| i)
                        .collect();
                    Err(Ok(failed))
                }
                _ => Err(Err(backend(SdkError::ServiceError(e)))),
            },
            Err(e) => Err(Err(backend(e))),
        }
    }
}

#[async_trait]
impl ReportStore for DynamoStore {
    async fn create_report(&self, sub: &Submission, now_unix: i64) -> Result<(), StoreError> {
        let pk = report_pk(&sub.report.tracking_code);
        let new_key = Some("attribute_not_exists(#pk)");
        let mut items = vec![
            self.put(item_of(&sub.report, pk.clone(), META.into())?, new_key)?,
            self.put(
                item_of(&sub.event, pk.clone(), event_sk(sub.event.seq))?,
                new_key,
            )?,
        ];
        if let Some(reporter) = &sub.reporter {
            items.push(self.put(item_of(reporter, pk.clone(), REPORTER.into())?, new_key)?);
        }
        let idempotency_index = items.len();
        if let Some(record) = &sub.idempotency {
            let mut item = item_of(record, format!("IDEMP#{}", record.key_hash), IDEMP.into())?;
            item.insert(
                TTL_ATTRIBUTE.into(),
                AttributeValue::N(record.expires_at.to_string()),
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                // An expired record may linger until DynamoDB's TTL removes it; it no longer counts.
                .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", AttributeValue::N(now_unix.to_string()))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Err(e)) => Err(e),
            Err(Ok(failed)) if sub.idempotency.is_some() && failed.contains(&idempotency_index) => {
                Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken))
            }
            Err(Ok(failed)) if failed.is_empty() && sub.idempotency.is_some() => {
                // No reasons given: the idempotency record is the only item a retry can collide on.
                Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken))
            }
            Err(Ok(_)) => Err(StoreError::Conflict(Conflict::CodeTaken)),
        }
    }

    async fn idempotency_record(
        &self,
        key_hash: &str,
        now_unix: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        match self.get(format!("IDEMP#{key_hash}"), IDEMP).await? {
            Some(item) => {
                let record: IdempotencyRecord = from_item(item)?;
                Ok(record.is_live(now_unix).then_some(record))
            }
            None => Ok(None),
        }
    }

    async fn report(&self, code: &TrackingCode) -> Result<Option<Report>, StoreError> {
        self.get(report_pk(code), META)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn report_with_timeline(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        let mut report = None;
        let mut timeline = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk <= :meta")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(report_pk(code)))
                .expression_attribute_values(":meta", s(META))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                let is_meta = matches!(item.get(SK), Some(AttributeValue::S(sk)) if sk == META);
                if is_meta {
                    report = Some(from_item::<Report>(item)?);
                } else {
                    timeline.push(from_item::<Event>(item)?);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(report.map(|report| ReportWithTimeline { report, timeline }))
    }

    async fn reporter(&self, code: &TrackingCode) -> Result<Option<Reporter>, StoreError> {
        self.get(report_pk(code), REPORTER)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn update_report(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let pk = report_pk(&report.tracking_code);
        let meta = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(report, pk.clone(), META.into())?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().put(meta).build()];
        for event in events {
            items.push(self.put(
                item_of(event, pk.clone(), event_sk(event.seq))?,
                Some("attribute_not_exists(#pk)"),
            )?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Err(e)) => Err(e),
            Err(Ok(_)) => Err(StoreError::Conflict(Conflict::VersionMismatch)),
        }
    }
}
