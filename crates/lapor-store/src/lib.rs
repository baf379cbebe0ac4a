//! Where reports live. [`ReportStore`] is the port every function talks to; [`DynamoStore`] keeps
//! reports in one DynamoDB table and [`MemStore`] keeps them in memory (optionally in a file) for
//! lapor-local and fast handler tests. Both pass the same contract suite (`tests/contract.rs`).

mod dynamo;
mod mem;
mod stream;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use lapor_core::stats::{GroupBy, StatsRow};
use lapor_core::{
    Agency, AgencyId, Category, Directory, Event, RegionCode, Report, Reporter, TrackingCode,
};
use serde::{Deserialize, Serialize};

pub use dynamo::{DynamoStore, TableSpec};
pub use mem::MemStore;

/// The AWS configuration every Lapor binary uses: region, credentials and endpoint from the usual
/// environment and chain, over HTTPS with rustls on the ring crypto provider. The SDK's default
/// client brings aws-lc, which made the smallest function's bootstrap over a megabyte larger;
/// ring does the TLS that AWS endpoints need.
pub async fn aws_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await
}
pub use stream::{handle_changes, report_changes, ReportChange};

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

/// Everything a new report writes, all or nothing.
#[derive(Debug, Clone)]
pub struct Submission {
    pub report: Report,
    pub reporter: Option<Reporter>,
    pub event: Event,
    pub idempotency: Option<IdempotencyRecord>,
}

/// What a retried submission needs to be answered exactly as the first one was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// SHA-256 of the scope and the client's key, so arbitrary client text is never a table key.
    pub key_hash: String,
    /// SHA-256 of the request body: a different body under the same key is a conflict.
    pub request_hash: String,
    pub tracking_code: TrackingCode,
    pub created_at: DateTime<FixedOffset>,
    /// Unix seconds after which the record is ignored (and DynamoDB's TTL deletes it).
    pub expires_at: i64,
}

impl IdempotencyRecord {
    pub fn is_live(&self, now_unix: i64) -> bool {
        self.expires_at > now_unix
    }
}

/// A report with its timeline, oldest event first.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportWithTimeline {
    pub report: Report,
    pub timeline: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write's precondition failed; nothing was written.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The backend failed or answered something unreadable. The text is for logs only.
    #[error("store backend failed: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another report already has this tracking code.
    CodeTaken,
    /// A live idempotency record with this key exists.
    IdempotencyKeyTaken,
    /// The report changed (or vanished) since it was read.
    VersionMismatch,
    /// A queue cursor that no page of ours produced.
    BadCursor,
}

/// A work queue: the central admin's triage, or one agency's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queue {
    Triage,
    Agency(AgencyId),
}

impl Queue {
    /// Whether `report` belongs in this queue.
    pub fn holds(&self, report: &Report) -> bool {
        match self {
            Queue::Triage => report.triage,
            Queue::Agency(id) => !report.triage && report.agency.as_deref() == Some(id.as_str()),
        }
    }

    /// The queue a report sits in, if any: where the inbox index files it.
    pub fn of(report: &Report) -> Option<String> {
        if report.triage {
            Some("TRIAGE".into())
        } else {
            report.agency.as_ref().map(|a| format!("AGENCY#{a}"))
        }
    }
}

/// Where a queue listing sorts a report: newest first, ties broken by code.
pub fn queue_sort_key(report: &Report) -> String {
    format!(
        "{}#{}",
        report.created_at.to_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        report.tracking_code
    )
}

/// The due index is split into this many shards so no partition takes every sweep read.
pub const DUE_SHARDS: u8 = 4;

/// The shard a report's deadline is filed under (stable for a code).
pub fn due_shard(code: &TrackingCode) -> u8 {
    let sum: u32 = code.as_str().bytes().map(u32::from).sum();
    u8::try_from(sum % u32::from(DUE_SHARDS)).unwrap_or(0)
}

/// Where the due index files a report: its deadline (UTC) then its code; none when no deadline
/// runs (archived, or nothing due).
pub fn due_sort_key(report: &Report) -> Option<String> {
    let due = report
        .due_at
        .filter(|_| report.status != lapor_core::Status::Arsip)?;
    Some(format!(
        "{}#{}",
        due.to_utc().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        report.tracking_code
    ))
}

/// The index position just after every deadline up to `now`.
pub fn due_bound(now: DateTime<chrono::Utc>) -> String {
    // '$' sorts after '#', so a deadline at exactly `now` is included.
    format!("{}$", now.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
}

/// One page of reports whose deadline has passed, oldest deadline first.
#[derive(Debug, Clone, PartialEq)]
pub struct DuePage {
    pub reports: Vec<Report>,
    pub next: Option<String>,
    /// Items the backend read to answer (DynamoDB's `ScannedCount`).
    pub read: usize,
}

/// The cursor that continues a listing after `report`.
pub fn cursor_after(report: &Report) -> String {
    encode_cursor(&queue_sort_key(report))
}

/// Cursors are opaque to clients: the last sort key, hex-encoded.
pub(crate) fn encode_cursor(sort_key: &str) -> String {
    hex::encode(sort_key)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(StoreError::Conflict(Conflict::BadCursor))
}

/// One page of a queue, newest first, and the cursor for the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub reports: Vec<Report>,
    pub next: Option<String>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Writes the report, its reporter, its first event and its idempotency record in one
    /// all-or-nothing step. Fails with `CodeTaken` or `IdempotencyKeyTaken` and writes nothing.
    async fn create_report(&self, submission: &Submission, now_unix: i64)
        -> Result<(), StoreError>;

    /// The idempotency record for a key hash, if one is live.
    async fn idempotency_record(
        &self,
        key_hash: &str,
        now_unix: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    async fn report(&self, code: &TrackingCode) -> Result<Option<Report>, StoreError>;

    async fn report_with_timeline(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError>;

    /// The reporter's identity. Only intake, sms and notify may call this.
    async fn reporter(&self, code: &TrackingCode) -> Result<Option<Reporter>, StoreError>;

    /// Replaces `old` by `new` if the stored version is still `old.version`, appends `events`
    /// and moves the statistics counters, all or nothing (`VersionMismatch` otherwise).
    async fn update_report(
        &self,
        old: &Report,
        new: &Report,
        events: &[Event],
    ) -> Result<(), StoreError>;

    /// Writes every agency of the directory and the routing rules derived from it. Idempotent:
    /// importing the same directory twice leaves the same items.
    async fn put_directory(&self, directory: &Directory) -> Result<(), StoreError>;

    async fn agency(&self, id: &AgencyId) -> Result<Option<Agency>, StoreError>;

    /// The agencies directly below `id` (its departments).
    async fn children(&self, id: &AgencyId) -> Result<Vec<AgencyId>, StoreError>;

    /// Published statistics for a region and year, one row per value of the grouping.
    async fn stats(
        &self,
        region: &RegionCode,
        year: i32,
        group: GroupBy,
    ) -> Result<Vec<StatsRow>, StoreError>;

    /// The agency for a category in a region, falling back to the province and then the
    /// national rules; `None` when no rule matches (the report goes to triage).
    async fn route(
        &self,
        region: &RegionCode,
        category: Category,
    ) -> Result<Option<AgencyId>, StoreError>;

    /// One page of a queue, newest first. `cursor` is a previous page's `next`.
    async fn queue(
        &self,
        queue: &Queue,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError>;

    /// Reports in one due-index shard whose deadline is at or before `now`, oldest first.
    async fn overdue(
        &self,
        shard: u8,
        now: DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError>;

    /// Records that `key` has been handled; false when it already was (and is still live).
    /// Stream consumers use it to act once per change even when a record is delivered twice.
    async fn mark_once(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<bool, StoreError>;

    /// Forgets a mark, so that a consumer whose side effect failed can try again.
    async fn unmark(&self, key: &str) -> Result<(), StoreError>;

    /// Counts one more hit on `key` (a rate-limit window: the caller puts the window in the key)
    /// and returns the count so far. The counter lives `ttl_secs` from its first hit.
    async fn count_hit(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<u64, StoreError>;
}
