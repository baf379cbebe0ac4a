//! Every port in one DynamoDB table. The key and index layout below is this module's own: no
//! caller sees a key, a shard or a cursor's encoding. Key design (also in the README):
//!
//! | item                  | pk                      | sk                    |
//! |-----------------------|-------------------------|-----------------------|
//! | report                | `REPORT#<code>`         | `META`                |
//! | timeline event        | `REPORT#<code>`         | `EVENT#<seq:010>`     |
//! | reporter              | `REPORT#<code>`         | `REPORTER`            |
//! | idempotency key       | `IDEMP#<sha256>`        | `IDEMP`               |
//! | consumer mark         | `MARK#<key>`            | `MARK`                |
//! | agency                | `AGENCY#<id>`           | `META`                |
//! | directory listing     | `DIRECTORY`             | `AGENCY#<id>`         |
//! | routing rule          | `RULE#<region or ID>`   | `<category>`          |
//! | statistics            | `STATS#<region>#<year>` | `<dimension>#<value>` |
//! | agency day figures    | `FIGURES#<agency>`      | `DAY#<yyyy-mm-dd>`    |
//! | agency held figures   | `FIGURES#<agency>`      | `HELD`                |
//! | Open311 partner key   | `PARTNERS`              | `KEY#<id>`            |
//!
//! The directory listing is a copy of each agency, written with it, so listing every agency is
//! one Query. Agency figures are the dashboards' internal counters (`rahasia` and whistleblowing
//! reports included), kept by the statistics consumer like the published ones but in partitions
//! of their own, which `/stats` never reads: a day's first follow-ups (`followed_up`, `on_time`,
//! by the report's local day) and the reports held now (`color_<c>`). Days sort before `HELD`,
//! so an agency's dashboard is one Query, `sk BETWEEN DAY#<first day> AND HELD`: at most one
//! item per day of the longest window, and one more.
//!
//! Reports in a queue carry `inbox` (`TRIAGE` or `AGENCY#<id>`) and `inbox_sk` (created time and
//! code), the keys of the sparse `inbox` index that lists a queue newest first. Reports the
//! public may read carry `feed` (`FEED#<yyyy-mm>`, the UTC month of creation) and `feed_sk`
//! (created time and code), the keys of the sparse, keys-only `feed` index: the home page's
//! newest public reports. One partition per month, so no partition takes every write for ever.
//!
//! Partner keys share one small partition: a key is found by its id with one GetItem, and the
//! operator's listing is one Query. Only the hash of a key's secret is stored.
//!
//! Events sort before `META` and the reporter after it, so one Query with `sk <= META` reads a
//! report with its timeline and never touches the reporter's identity. The reporter's item also
//! holds the keys their messages are counted under ([`ContactKeys`]), so the notifier reads
//! them with the phone and e-mail, in one GetItem.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put, PutRequest, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification, TransactWriteItem,
    Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use chrono::{Datelike, NaiveDate};
use lapor_core::stats::{
    merged, AgencyFigures, CountedChange, CounterKey, Deltas, GroupBy, StatsRow,
};
use lapor_core::{
    Agency, AgencyId, Category, ContactKeys, Directory, Event, PartnerKey, PartnerKeyId,
    RegionCode, Report, Reporter, Scope, TrackingCode,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::keys::{
    decode_cursor, due_bound, due_position, encode_cursor, feed_month, feed_position, feed_window,
    figures_cell, figures_day, figures_position, queue_position, FIGURES_LAST,
};
use crate::paging::QueueIndex;
use crate::{
    AgencyDirectory, Conflict, DuePage, IdempotencyRecord, Marks, Page, PartnerKeys, Queue,
    ReportWithTimeline, ReporterIdentity, Reports, Statistics, StoreError, Submission,
    COUNTED_TTL_SECS, FEED_MONTHS,
};

type Item = HashMap<String, AttributeValue>;

const PK: &str = "pk";
const SK: &str = "sk";
const META: &str = "META";
const REPORTER: &str = "REPORTER";
const IDEMP: &str = "IDEMP";
/// The table's TTL attribute (Unix seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
const INBOX_INDEX: &str = "inbox";
const DUE_INDEX: &str = "due";
const DUE_PK: &str = "due_shard";
const DUE_SK: &str = "due_sk";
const INBOX_PK: &str = "inbox";
const INBOX_SK: &str = "inbox_sk";
const FEED_INDEX: &str = "feed";
const FEED_PK: &str = "feed";
const FEED_SK: &str = "feed_sk";
/// BatchWriteItem takes at most 25 items, BatchGetItem 100 keys.
const BATCH_WRITE: usize = 25;
const BATCH_GET: usize = 100;

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
    pub const INBOX_INDEX: &'static str = INBOX_INDEX;
    pub const INBOX_KEYS: [&'static str; 2] = [INBOX_PK, INBOX_SK];
    pub const DUE_INDEX: &'static str = DUE_INDEX;
    pub const DUE_KEYS: [&'static str; 2] = [DUE_PK, DUE_SK];
    /// Keys only: a report update leaves its feed entry alone, so it costs no index write.
    pub const FEED_INDEX: &'static str = FEED_INDEX;
    pub const FEED_KEYS: [&'static str; 2] = [FEED_PK, FEED_SK];
    /// How many partitions the due index spreads deadlines over: an overdue sweep reads at
    /// least one page per shard.
    pub const DUE_SHARDS: u8 = DUE_SHARDS;
}

/// The due index is split into this many shards so no partition takes every sweep read.
const DUE_SHARDS: u8 = 4;

/// The shard a report's deadline is filed under (stable for a code).
fn due_shard(code: &TrackingCode) -> u8 {
    let sum: u32 = code.as_str().bytes().map(u32::from).sum();
    u8::try_from(sum % u32::from(DUE_SHARDS)).unwrap_or(0)
}

fn due_shard_key(shard: u8) -> String {
    format!("DUE#{shard}")
}

/// The queue a report sits in, if any: where the inbox index files it.
fn queue_of(report: &Report) -> Option<String> {
    if report.triage {
        Some(queue_key(&Queue::Triage))
    } else {
        report.agency.clone().map(|a| queue_key(&Queue::Agency(a)))
    }
}

/// A report's item: the report plus the keys of the queue and the due shard it sits in.
fn report_item(report: &Report) -> Result<Item, StoreError> {
    let mut item = item_of(report, report_pk(&report.tracking_code), META.into())?;
    if let Some(queue) = queue_of(report) {
        item.insert(INBOX_PK.into(), s(queue));
        item.insert(INBOX_SK.into(), s(queue_position(report)));
    }
    if let Some(due) = due_position(report) {
        item.insert(
            DUE_PK.into(),
            s(due_shard_key(due_shard(&report.tracking_code))),
        );
        item.insert(DUE_SK.into(), s(due));
    }
    if let Some(position) = feed_position(report) {
        item.insert(FEED_PK.into(), s(feed_key(report.created_at.to_utc())));
        item.insert(FEED_SK.into(), s(position));
    }
    Ok(item)
}

/// The feed partition of a month: `FEED#2026-11`.
fn feed_key(month: chrono::DateTime<chrono::Utc>) -> String {
    format!("FEED#{}", month.format("%Y-%m"))
}

/// The month before `month`'s, as a time in it (its first day).
fn month_before(month: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let first = month.date_naive().with_day(1).unwrap_or(month.date_naive());
    let previous = first.pred_opt().unwrap_or(first);
    previous.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn rule_key(scope: &Scope, category: Category) -> (String, String) {
    (format!("RULE#{}", scope.key()), category.id().to_string())
}

fn queue_key(queue: &Queue) -> String {
    match queue {
        Queue::Triage => "TRIAGE".into(),
        Queue::Agency(id) => format!("AGENCY#{id}"),
    }
}

/// The key of a counter item: a published cell, or an agency's dashboard item.
fn counter_item(key: CounterKey) -> (String, String) {
    match key {
        CounterKey::Published {
            region,
            year,
            dimension,
        } => (format!("STATS#{region}#{year}"), dimension),
        CounterKey::Agency { agency, cell } => (figures_pk(&agency), figures_position(cell)),
    }
}

fn figures_pk(agency: &AgencyId) -> String {
    format!("FIGURES#{agency}")
}

const DIRECTORY: &str = "DIRECTORY";

fn listing_sk(id: &AgencyId) -> String {
    format!("AGENCY#{id}")
}

/// An item's counters: its number attributes.
fn counters_of(item: &Item) -> std::collections::BTreeMap<String, i64> {
    item.iter()
        .filter_map(|(name, value)| match value {
            AttributeValue::N(n) => n.parse::<i64>().ok().map(|v| (name.clone(), v)),
            _ => None,
        })
        .collect()
}

/// How many agencies' figures are read at once: enough that ranking hundreds of agencies takes
/// a few round trips' time, few enough not to throttle an on-demand table's first minutes.
const FIGURES_READS_AT_ONCE: usize = 16;

/// How often a batch call is sent again for what DynamoDB left unprocessed.
const BATCH_ATTEMPTS: u32 = 8;

/// The exponential back-off before a batch call's retry (none before the first attempt).
async fn pause_before(attempt: u32) {
    if attempt > 0 {
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
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

/// Error codes DynamoDB documents as "try again later": the SDK has already retried them (its
/// standard retry mode), so what reaches here is a busy table, not a broken request.
const BUSY_CODES: [&str; 7] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "ServiceUnavailable",
];

/// A failed call as the store reports it: `Busy` when retrying later can succeed (throttling,
/// conflicts, a timeout or a dropped connection), `Backend` otherwise.
fn backend<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let busy = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(_) => e.code().is_some_and(|c| BUSY_CODES.contains(&c)),
        _ => false,
    };
    let text = DisplayErrorContext(e).to_string();
    if busy {
        StoreError::Busy(text)
    } else {
        StoreError::Backend(text)
    }
}

/// How often a transaction that DynamoDB cancelled for a conflict or throttling is sent again.
const TRANSACT_ATTEMPTS: u32 = 5;

/// Full-jitter exponential back-off before a transaction's retry: up to 20 ms × 2^attempt, so
/// writers that collided do not collide again in step.
async fn pause_with_jitter(attempt: u32) {
    if attempt > 0 {
        let ceiling = 20u64 << attempt;
        let wait = rand::random_range(0..=ceiling);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// Why a transaction did not commit.
enum Refused {
    /// The conditions of these items (indexes into the transaction) failed: the data says no.
    Conditions(Vec<usize>),
    /// Anything else, `Busy` once conflicts and throttling outlasted the retries.
    Store(StoreError),
}

/// Serialises `value` and adds its keys.
fn item_of<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Backend(format!("cannot encode item: {e}")))?;
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(sk));
    Ok(item)
}

/// The reporter's item: who they are, and the keys their messages are counted under.
#[derive(Serialize)]
struct ReporterItem<'a> {
    #[serde(flatten)]
    reporter: &'a Reporter,
    #[serde(flatten)]
    keys: &'a ContactKeys,
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
        let index = |name: &str, pk: &str, sk: &str, projection: ProjectionType| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(projection).build())
                .build()
        };
        let built = (|| {
            let inbox = index(INBOX_INDEX, INBOX_PK, INBOX_SK, ProjectionType::All)?;
            let due = index(DUE_INDEX, DUE_PK, DUE_SK, ProjectionType::All)?;
            let feed = index(FEED_INDEX, FEED_PK, FEED_SK, ProjectionType::KeysOnly)?;
            Ok::<_, aws_sdk_dynamodb::error::BuildError>((
                vec![
                    attribute(PK)?,
                    attribute(SK)?,
                    attribute(INBOX_PK)?,
                    attribute(INBOX_SK)?,
                    attribute(DUE_PK)?,
                    attribute(DUE_SK)?,
                    attribute(FEED_PK)?,
                    attribute(FEED_SK)?,
                ],
                vec![key(PK, KeyType::Hash)?, key(SK, KeyType::Range)?],
                vec![inbox, due, feed],
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()?,
            ))
        })()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(built.0))
            .set_key_schema(Some(built.1))
            .set_global_secondary_indexes(Some(built.2))
            .stream_specification(built.3)
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

    /// Writes items in batches, resending what DynamoDB leaves unprocessed.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in items.chunks(BATCH_WRITE) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|e| StoreError::Backend(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            for attempt in 0..BATCH_ATTEMPTS {
                if pending.is_empty() {
                    break;
                }
                pause_before(attempt).await;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(backend)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Backend(
                    "batch write left items unprocessed".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes reports as they are, without events, reporters or statistics: a bulk loader for
    /// migrations and benchmarks, not for citizens' submissions.
    pub async fn load_reports(&self, reports: &[Report]) -> Result<(), StoreError> {
        let items = reports
            .iter()
            .map(report_item)
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(items).await
    }

    /// One `ADD` update per counter item.
    fn counter_updates(&self, deltas: Deltas) -> Result<Vec<TransactWriteItem>, StoreError> {
        deltas
            .into_iter()
            .map(|(key, counters)| {
                let (pk, sk) = counter_item(key);
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .key(PK, s(pk))
                    .key(SK, s(sk));
                let mut adds = Vec::new();
                for (i, (name, delta)) in counters.into_iter().enumerate() {
                    adds.push(format!("#c{i} :v{i}"));
                    update = update
                        .expression_attribute_names(format!("#c{i}"), name)
                        .expression_attribute_values(
                            format!(":v{i}"),
                            AttributeValue::N(delta.to_string()),
                        );
                }
                let update = update
                    .update_expression(format!("ADD {}", adds.join(", ")))
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect()
    }

    /// Every item of partition `pk` whose sort key (`#sk`) meets `sort_condition` on `:v`, all
    /// pages of it.
    async fn query_partition(
        &self,
        pk: String,
        sort_condition: &str,
        value: AttributeValue,
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(format!("#pk = :pk AND {sort_condition}"))
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":v", value.clone())
                .consistent_read(consistent)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
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
    /// Sends a transaction, retrying it (with jittered back-off) while DynamoDB cancels it for a
    /// conflict with another transaction or throttling; a cancellation is the data's answer only
    /// when an item's own condition failed.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Refused> {
        let mut last = String::new();
        for attempt in 0..TRANSACT_ATTEMPTS {
            pause_with_jitter(attempt).await;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let e = match result {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                e.as_service_error()
            {
                let reasons = cancel.cancellation_reasons();
                let failed: Vec<usize> = reasons
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(i, _)| i)
                    .collect();
                if !failed.is_empty() || reasons.is_empty() {
                    return Err(Refused::Conditions(failed));
                }
                last = DisplayErrorContext(&e).to_string();
                continue;
            }
            match backend(e) {
                StoreError::Busy(text) => last = text,
                other => return Err(Refused::Store(other)),
            }
        }
        Err(Refused::Store(StoreError::Busy(format!(
            "transaction still cancelled after {TRANSACT_ATTEMPTS} attempts: {last}"
        ))))
    }
}

#[async_trait]
impl Reports for DynamoStore {
    async fn create_report(&self, sub: &Submission, now_unix: i64) -> Result<(), StoreError> {
        let pk = report_pk(&sub.report.tracking_code);
        let new_key = Some("attribute_not_exists(#pk)");
        let mut items = vec![
            self.put(report_item(&sub.report)?, new_key)?,
            self.put(
                item_of(&sub.event, pk.clone(), event_sk(sub.event.seq))?,
                new_key,
            )?,
        ];
        if let Some(reporter) = &sub.reporter {
            let identity = ReporterItem {
                reporter,
                keys: &sub.contact_keys,
            };
            items.push(self.put(item_of(&identity, pk.clone(), REPORTER.into())?, new_key)?);
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
            Err(Refused::Store(e)) => Err(e),
            Err(Refused::Conditions(failed))
                if sub.idempotency.is_some() && failed.contains(&idempotency_index) =>
            {
                Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken))
            }
            Err(Refused::Conditions(failed)) if failed.is_empty() && sub.idempotency.is_some() => {
                // No reasons given: the idempotency record is the only item a retry can collide on.
                Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken))
            }
            Err(Refused::Conditions(_)) => Err(StoreError::Conflict(Conflict::CodeTaken)),
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
        let items = self
            .query_partition(report_pk(code), "#sk <= :v", s(META), true)
            .await?;
        for item in items {
            let is_meta = matches!(item.get(SK), Some(AttributeValue::S(sk)) if sk == META);
            if is_meta {
                report = Some(from_item::<Report>(item)?);
            } else {
                timeline.push(from_item::<Event>(item)?);
            }
        }
        Ok(report.map(|report| ReportWithTimeline { report, timeline }))
    }

    async fn update_report(
        &self,
        old: &Report,
        new: &Report,
        events: &[Event],
    ) -> Result<(), StoreError> {
        let pk = report_pk(&new.tracking_code);
        let meta = Put::builder()
            .table_name(&self.table)
            .set_item(Some(report_item(new)?))
            .condition_expression("#v = :expected")
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::N(old.version.to_string()))
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
            Err(Refused::Store(e)) => Err(e),
            Err(Refused::Conditions(_)) => Err(StoreError::Conflict(Conflict::VersionMismatch)),
        }
    }

    /// The current month's feed partition newest first, then the months before it (at most
    /// [`FEED_MONTHS`] in all) until `limit` keys are found; then the reports themselves.
    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        let mut keys = Vec::new();
        let mut month = chrono::Utc::now();
        for _ in 0..FEED_MONTHS {
            if keys.len() >= limit {
                break;
            }
            keys.extend(self.feed_of_month(month, limit - keys.len()).await?);
            month = month_before(month);
        }
        let mut found = self.reports_by_pk(&keys).await?;
        Ok(keys
            .iter()
            .filter_map(|pk| found.remove(pk))
            // The index lags the table: the report item itself has the last word.
            .filter(|report| feed_position(report).is_some())
            .collect())
    }

    /// The window's months newest first, each one Query of its feed partition between the
    /// window's positions (below the cursor's), until `limit` keys are found.
    async fn public_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let (lowest, highest) = feed_window(from, to);
        let highest = match after {
            Some(a) if a < highest => a,
            _ => highest,
        };
        let mut found: Vec<(String, String)> = Vec::new();
        let mut month = month_start(feed_month(&highest))?;
        let first = month_start(feed_month(&lowest))?;
        while lowest <= highest && month >= first && found.len() < limit {
            let window = (lowest.as_str(), highest.as_str());
            let more = self
                .feed_of_month_between(month, window, limit - found.len())
                .await?;
            found.extend(more);
            month = month_before(month);
        }
        let next = (limit > 0 && found.len() == limit)
            .then(|| found.last().map(|(_, position)| encode_cursor(position)))
            .flatten();
        let pks: Vec<String> = found.into_iter().map(|(pk, _)| pk).collect();
        let mut reports = self.reports_by_pk(&pks).await?;
        Ok(Page {
            reports: pks
                .iter()
                .filter_map(|pk| reports.remove(pk))
                .filter(|report| feed_position(report).is_some())
                .collect(),
            next,
        })
    }
}

/// The first instant of the month `yyyy-mm`.
fn month_start(month: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    month
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
        .ok_or(StoreError::Conflict(Conflict::BadCursor))
}

impl DynamoStore {
    /// Up to `limit` (report key, feed position) pairs of one month's feed partition with
    /// positions in `window`, newest first. The upper end is a cursor's position or just above
    /// the window: a key condition cannot exclude one end, so that one position is skipped.
    async fn feed_of_month_between(
        &self,
        month: chrono::DateTime<chrono::Utc>,
        (lowest, highest): (&str, &str),
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(FEED_INDEX)
                .key_condition_expression("#f = :f AND #s BETWEEN :lo AND :hi")
                .expression_attribute_names("#f", FEED_PK)
                .expression_attribute_names("#s", FEED_SK)
                .expression_attribute_values(":f", s(feed_key(month)))
                .expression_attribute_values(":lo", s(lowest))
                .expression_attribute_values(":hi", s(highest))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - found.len() + 1).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            found.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|item| match (item.get(PK), item.get(FEED_SK)) {
                        (Some(AttributeValue::S(pk)), Some(AttributeValue::S(position)))
                            if position != highest =>
                        {
                            Some((pk.clone(), position.clone()))
                        }
                        _ => None,
                    }),
            );
            start = out.last_evaluated_key;
            if start.is_none() || found.len() >= limit {
                found.truncate(limit);
                return Ok(found);
            }
        }
    }

    /// Up to `limit` report keys (`pk`) of one month's feed partition, newest first.
    async fn feed_of_month(
        &self,
        month: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(FEED_INDEX)
                .key_condition_expression("#f = :f")
                .expression_attribute_names("#f", FEED_PK)
                .expression_attribute_values(":f", s(feed_key(month)))
                .scan_index_forward(false)
                .limit(i32::try_from(limit - keys.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            keys.extend(
                out.items
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|item| match item.get(PK) {
                        Some(AttributeValue::S(pk)) => Some(pk.clone()),
                        _ => None,
                    }),
            );
            start = out.last_evaluated_key;
            if start.is_none() || keys.len() >= limit {
                keys.truncate(limit);
                return Ok(keys);
            }
        }
    }

    /// The reports whose items have these partition keys, by key; BatchGetItem in chunks.
    async fn reports_by_pk(&self, pks: &[String]) -> Result<HashMap<String, Report>, StoreError> {
        let mut found = HashMap::new();
        for chunk in pks.chunks(BATCH_GET) {
            let keys = chunk
                .iter()
                .map(|pk| {
                    HashMap::from([(PK.to_string(), s(pk.as_str())), (SK.to_string(), s(META))])
                })
                .collect();
            let (items, left) = self.batch_get(keys).await?;
            if !left.is_empty() {
                return Err(StoreError::Busy("batch read left keys unprocessed".into()));
            }
            for item in items {
                let pk = match item.get(PK) {
                    Some(AttributeValue::S(pk)) => pk.clone(),
                    _ => continue,
                };
                found.insert(pk, from_item::<Report>(item)?);
            }
        }
        Ok(found)
    }

    /// One BatchGetItem of at most `BATCH_GET` keys, resending what DynamoDB leaves unprocessed
    /// (after a pause) up to `BATCH_ATTEMPTS` times: the items read, and the keys still left
    /// unprocessed at the end (none when every key was read).
    async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<(Vec<Item>, Vec<Item>), StoreError> {
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?,
        );
        let mut items = Vec::new();
        for attempt in 0..BATCH_ATTEMPTS {
            let Some(request) = pending.take() else { break };
            pause_before(attempt).await;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(backend)?;
            items.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut m| m.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
        }
        Ok((items, pending.map(|p| p.keys).unwrap_or_default()))
    }
}

#[async_trait]
impl ReporterIdentity for DynamoStore {
    async fn reporter_with_keys(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<(Reporter, ContactKeys)>, StoreError> {
        let Some(item) = self.get(report_pk(code), REPORTER).await? else {
            return Ok(None);
        };
        Ok(Some((from_item(item.clone())?, from_item(item)?)))
    }
}

#[async_trait]
impl AgencyDirectory for DynamoStore {
    async fn put_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        let mut items = Vec::new();
        for agency in directory.agencies() {
            let mut item = item_of(agency, format!("AGENCY#{}", agency.id), META.into())?;
            // Kept on the parent so a supervisor's departments are one GetItem away.
            let children: Vec<AttributeValue> = directory
                .agencies()
                .filter(|a| a.parent.as_ref() == Some(&agency.id))
                .map(|a| s(a.id.as_str()))
                .collect();
            item.insert("children".into(), AttributeValue::L(children));
            items.push(item);
            items.push(item_of(agency, DIRECTORY.into(), listing_sk(&agency.id))?);
        }
        for ((scope, category), agency) in directory.rules() {
            let (pk, sk) = rule_key(&scope, category);
            let mut item = Item::new();
            item.insert(PK.into(), s(pk));
            item.insert(SK.into(), s(sk));
            item.insert("agency".into(), s(agency.as_str()));
            items.push(item);
        }
        self.batch_put(items).await
    }

    async fn agency(&self, id: &AgencyId) -> Result<Option<Agency>, StoreError> {
        self.get(format!("AGENCY#{id}"), META)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn children(&self, id: &AgencyId) -> Result<Vec<AgencyId>, StoreError> {
        let Some(item) = self.get(format!("AGENCY#{id}"), META).await? else {
            return Ok(Vec::new());
        };
        match item.get("children") {
            Some(AttributeValue::L(list)) => list
                .iter()
                .filter_map(|v| v.as_s().ok())
                .map(|c| {
                    AgencyId::parse(c)
                        .map_err(|e| StoreError::Backend(format!("bad child id: {e}")))
                })
                .collect(),
            _ => Ok(Vec::new()),
        }
    }

    async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        self.query_partition(
            DIRECTORY.into(),
            "begins_with(#sk, :v)",
            s("AGENCY#"),
            false,
        )
        .await?
        .into_iter()
        .map(from_item)
        .collect()
    }

    async fn route(
        &self,
        region: &RegionCode,
        category: Category,
    ) -> Result<Option<AgencyId>, StoreError> {
        let scopes = Scope::fallbacks(region);
        let keys = scopes
            .iter()
            .map(|scope| {
                let (pk, sk) = rule_key(scope, category);
                HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
            })
            .collect();
        let (items, left) = self.batch_get(keys).await?;
        let unread: BTreeSet<String> = left
            .iter()
            .filter_map(|key| key.get(PK)?.as_s().ok().cloned())
            .collect();
        let mut found: HashMap<String, AgencyId> = HashMap::new();
        for item in items {
            let text = |name: &str| match item.get(name) {
                Some(AttributeValue::S(v)) => Some(v.clone()),
                _ => None,
            };
            if let (Some(pk), Some(agency)) = (text(PK), text("agency")) {
                let id = AgencyId::parse(&agency)
                    .map_err(|e| StoreError::Backend(format!("bad rule item: {e}")))?;
                found.insert(pk, id);
            }
        }
        // The most specific scope with a rule wins. A scope whose rule DynamoDB left unread
        // (throttled past the retries) might have one: answering from a broader scope, or with
        // "no rule", would misroute the report, so the caller is told to try again.
        for scope in &scopes {
            let pk = rule_key(scope, category).0;
            if let Some(agency) = found.get(&pk) {
                return Ok(Some(agency.clone()));
            }
            if unread.contains(&pk) {
                return Err(StoreError::Busy(format!(
                    "the routing rule for {pk} was left unread"
                )));
            }
        }
        Ok(None)
    }
}

/// TransactWriteItems takes at most 100 items.
const TRANSACT_ITEMS: usize = 100;

/// The changes split into groups whose marks and merged counter items fit one transaction.
fn transaction_groups(changes: &[CountedChange]) -> Vec<Vec<&CountedChange>> {
    let mut groups: Vec<Vec<&CountedChange>> = Vec::new();
    let mut counters: BTreeSet<&CounterKey> = BTreeSet::new();
    // One transaction may not touch an item twice: a change delivered twice in one batch is one.
    let mut seen = BTreeSet::new();
    let distinct = changes
        .iter()
        .filter(|c| !c.deltas.is_empty() && seen.insert(c.id.as_str()));
    for change in distinct {
        let mut with = counters.clone();
        with.extend(change.deltas.keys());
        let fits = groups
            .last()
            .is_some_and(|group| group.len() + 1 + with.len() <= TRANSACT_ITEMS);
        if fits {
            counters = with;
            if let Some(group) = groups.last_mut() {
                group.push(change);
            }
        } else {
            counters = change.deltas.keys().collect();
            groups.push(vec![change]);
        }
    }
    groups
}

impl DynamoStore {
    /// Counts one group in one transaction: a mark per change (which must not exist yet) and
    /// one `ADD` per counter item. Changes whose mark exists were counted by an earlier delivery:
    /// they are dropped and the rest is sent again.
    async fn count_group(
        &self,
        mut group: Vec<&CountedChange>,
        now_unix: i64,
    ) -> Result<(), StoreError> {
        while !group.is_empty() {
            let mut items = Vec::with_capacity(TRANSACT_ITEMS);
            for change in &group {
                let mut mark = Item::new();
                mark.insert(PK.into(), s(format!("COUNTED#{}", change.id)));
                mark.insert(SK.into(), s("COUNTED"));
                mark.insert(
                    TTL_ATTRIBUTE.into(),
                    AttributeValue::N((now_unix + COUNTED_TTL_SECS).to_string()),
                );
                items.push(self.put(mark, Some("attribute_not_exists(#pk)"))?);
            }
            items.extend(self.counter_updates(merged(group.iter().copied()))?);
            match self.transact(items).await {
                Ok(()) => return Ok(()),
                Err(Refused::Store(e)) => return Err(e),
                Err(Refused::Conditions(failed)) => {
                    let counted: Vec<usize> =
                        failed.into_iter().filter(|&i| i < group.len()).collect();
                    if counted.is_empty() {
                        return Err(StoreError::Backend(
                            "counter transaction refused, but no change was counted before".into(),
                        ));
                    }
                    group = group
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !counted.contains(i))
                        .map(|(_, c)| c)
                        .collect();
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Statistics for DynamoStore {
    async fn count(&self, changes: &[CountedChange], now_unix: i64) -> Result<(), StoreError> {
        for group in transaction_groups(changes) {
            self.count_group(group, now_unix).await?;
        }
        Ok(())
    }

    async fn stats(
        &self,
        region: &RegionCode,
        year: i32,
        group: GroupBy,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let mut rows = Vec::new();
        let items = self
            .query_partition(
                format!("STATS#{region}#{year}"),
                "begins_with(#sk, :v)",
                s(group.prefix()),
                false,
            )
            .await?;
        for item in items {
            let key = match item.get(SK) {
                Some(AttributeValue::S(sk)) => sk.trim_start_matches(group.prefix()).to_string(),
                _ => continue,
            };
            let row = StatsRow::from_counters(key, &counters_of(&item));
            if row.total != 0 {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// One Query per agency, [`FIGURES_READS_AT_ONCE`] at a time.
    async fn agency_figures(
        &self,
        agencies: &[AgencyId],
        since: NaiveDate,
    ) -> Result<Vec<AgencyFigures>, StoreError> {
        let mut out = Vec::with_capacity(agencies.len());
        for chunk in agencies.chunks(FIGURES_READS_AT_ONCE) {
            let mut reads = tokio::task::JoinSet::new();
            for (i, agency) in chunk.iter().enumerate() {
                let (store, agency) = (self.clone(), agency.clone());
                reads.spawn(async move { (i, store.figures_of(agency, since).await) });
            }
            let mut found: Vec<Option<AgencyFigures>> = vec![None; chunk.len()];
            while let Some(read) = reads.join_next().await {
                let (i, figures) =
                    read.map_err(|e| StoreError::Backend(format!("figures read failed: {e}")))?;
                if let Some(slot) = found.get_mut(i) {
                    *slot = Some(figures?);
                }
            }
            out.extend(found.into_iter().flatten());
        }
        Ok(out)
    }
}

impl DynamoStore {
    /// One agency's figures: its day items from `since` on and its `HELD` item, one Query
    /// (paged, though a year of days fits one page).
    async fn figures_of(
        &self,
        agency: AgencyId,
        since: NaiveDate,
    ) -> Result<AgencyFigures, StoreError> {
        let mut figures = AgencyFigures::empty(agency);
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :last")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(figures_pk(&figures.agency)))
                .expression_attribute_values(":from", s(figures_day(since)))
                .expression_attribute_values(":last", s(FIGURES_LAST))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for item in out.items.unwrap_or_default() {
                let cell = match item.get(SK) {
                    Some(AttributeValue::S(sk)) => figures_cell(sk),
                    _ => None,
                };
                if let Some(cell) = cell {
                    figures.add_cell(cell, &counters_of(&item));
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(figures);
            }
        }
    }
}

/// Where an overdue listing goes on: a shard, and the position in it after which to read.
fn due_cursor(shard: u8, after: Option<&str>) -> String {
    encode_cursor(&format!("{shard}|{}", after.unwrap_or_default()))
}

fn parse_due_cursor(cursor: &str) -> Result<(u8, Option<String>), StoreError> {
    let text = decode_cursor(cursor)?;
    let bad = || StoreError::Conflict(Conflict::BadCursor);
    let (shard, after) = text.split_once('|').ok_or_else(bad)?;
    let shard: u8 = shard.parse().map_err(|_| bad())?;
    if shard >= DUE_SHARDS {
        return Err(bad());
    }
    Ok((shard, Some(after.to_string()).filter(|a| !a.is_empty())))
}

/// What one query of a due shard found.
struct ShardPage {
    reports: Vec<Report>,
    /// The position of the last item read, when the shard may hold more.
    next: Option<String>,
    read: usize,
    unreadable: usize,
}

impl DynamoStore {
    /// One query of one due shard: up to `limit` overdue reports after `after`.
    async fn overdue_in_shard(
        &self,
        shard: u8,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<ShardPage, StoreError> {
        let start = after
            .map(|position| {
                let code = position
                    .rsplit('#')
                    .next()
                    .ok_or(StoreError::Conflict(Conflict::BadCursor))?;
                Ok::<_, StoreError>(HashMap::from([
                    (DUE_PK.to_string(), s(due_shard_key(shard))),
                    (DUE_SK.to_string(), s(position)),
                    (PK.to_string(), s(format!("REPORT#{code}"))),
                    (SK.to_string(), s(META)),
                ]))
            })
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#d = :d AND #s < :now")
            .expression_attribute_names("#d", DUE_PK)
            .expression_attribute_names("#s", DUE_SK)
            .expression_attribute_values(":d", s(due_shard_key(shard)))
            .expression_attribute_values(":now", s(due_bound(now)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend)?;
        let read = usize::try_from(out.scanned_count).unwrap_or(0);
        let mut reports = Vec::new();
        let mut unreadable = 0;
        for item in out.items.unwrap_or_default() {
            let key = match item.get(PK) {
                Some(AttributeValue::S(pk)) => pk.clone(),
                _ => String::new(),
            };
            match from_item::<Report>(item) {
                Ok(report) => reports.push(report),
                Err(error) => {
                    // One bad item must not stop every sweep; its key names no person.
                    tracing::error!(item = %key, %error, "unreadable report in the due index; skipped");
                    unreadable += 1;
                }
            }
        }
        let next = out.last_evaluated_key.and_then(|k| match k.get(DUE_SK) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        });
        Ok(ShardPage {
            reports,
            next,
            read,
            unreadable,
        })
    }
}

#[async_trait]
impl QueueIndex for DynamoStore {
    async fn read_queue(
        &self,
        queue: &Queue,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError> {
        // A position is a sort key, not an item key, so one position pages several queues at
        // once (a supervisor's inbox merges its departments').
        let condition = if after.is_some() {
            "#q = :q AND #s < :after"
        } else {
            "#q = :q"
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INBOX_INDEX)
            .key_condition_expression(condition)
            .expression_attribute_names("#q", INBOX_PK)
            .expression_attribute_values(":q", s(queue_key(queue)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(after) = after {
            query = query
                .expression_attribute_names("#s", INBOX_SK)
                .expression_attribute_values(":after", s(after));
        }
        let out = query.send().await.map_err(backend)?;
        let reports: Vec<Report> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((reports, out.last_evaluated_key.is_some()))
    }

    /// Reads the shards in turn; the cursor names the shard and the position in it.
    async fn overdue_page(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError> {
        let (mut shard, mut after) = match cursor {
            Some(c) => parse_due_cursor(c)?,
            None => (0, None),
        };
        let mut page = DuePage {
            reports: Vec::new(),
            next: None,
            read: 0,
            unreadable: 0,
        };
        while shard < DUE_SHARDS && page.reports.len() < limit {
            let found = self
                .overdue_in_shard(shard, now, limit - page.reports.len(), after.as_deref())
                .await?;
            page.reports.extend(found.reports);
            page.read += found.read;
            page.unreadable += found.unreadable;
            match found.next {
                Some(position) => after = Some(position),
                None => {
                    shard += 1;
                    after = None;
                }
            }
        }
        page.next = (shard < DUE_SHARDS).then(|| due_cursor(shard, after.as_deref()));
        Ok(page)
    }
}

#[async_trait]
impl Marks for DynamoStore {
    async fn mark_once(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<bool, StoreError> {
        let mut item = Item::new();
        item.insert(PK.into(), s(format!("MARK#{key}")));
        item.insert(SK.into(), s("MARK"));
        item.insert(
            TTL_ATTRIBUTE.into(),
            AttributeValue::N((now_unix + ttl_secs).to_string()),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", AttributeValue::N(now_unix.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(false)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn is_marked(&self, key: &str, now_unix: i64) -> Result<bool, StoreError> {
        let expiry = self
            .get(format!("MARK#{key}"), "MARK")
            .await?
            .and_then(|item| match item.get(TTL_ATTRIBUTE) {
                Some(AttributeValue::N(n)) => n.parse::<i64>().ok(),
                _ => None,
            });
        Ok(expiry.is_some_and(|e| e > now_unix))
    }

    async fn count_hit(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<u64, StoreError> {
        // One atomic update; the expiry is set by the first hit only, so a window never extends.
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("COUNT#{key}")))
            .key(SK, s("COUNT"))
            .update_expression("ADD #hits :one SET #exp = if_not_exists(#exp, :exp)")
            .expression_attribute_names("#hits", "hits")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((now_unix + ttl_secs).to_string()),
            )
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        output
            .attributes()
            .and_then(|a| a.get("hits"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::Backend("count_hit: no count in the answer".into()))
    }
}

const PARTNERS: &str = "PARTNERS";

fn partner_sk(id: &PartnerKeyId) -> String {
    format!("KEY#{id}")
}

#[async_trait]
impl PartnerKeys for DynamoStore {
    async fn add_partner_key(&self, key: &PartnerKey) -> Result<(), StoreError> {
        let item = item_of(key, PARTNERS.into(), partner_sk(&key.id))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(StoreError::Conflict(Conflict::PartnerKeyTaken))
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn partner_key(&self, id: &PartnerKeyId) -> Result<Option<PartnerKey>, StoreError> {
        self.get(PARTNERS.into(), &partner_sk(id))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn revoke_partner_key(
        &self,
        id: &PartnerKeyId,
        at: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Option<PartnerKey>, StoreError> {
        let at = serde_dynamo::to_attribute_value(at)
            .map_err(|e| StoreError::Backend(format!("cannot encode time: {e}")))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(PARTNERS))
            .key(SK, s(partner_sk(id)))
            .update_expression("SET #revoked = if_not_exists(#revoked, :at)")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#revoked", "revoked_at")
            .expression_attribute_values(":at", at)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(from_item).transpose(),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(None)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn partner_keys(&self) -> Result<Vec<PartnerKey>, StoreError> {
        let items = self
            .query_partition(PARTNERS.into(), "begins_with(#sk, :v)", s("KEY#"), true)
            .await?;
        let mut keys: Vec<PartnerKey> =
            items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }
}
