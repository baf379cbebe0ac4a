//! Where reports live. [`ReportStore`] is the port every function talks to; [`DynamoStore`] keeps
//! reports in one DynamoDB table and [`MemStore`] keeps them in memory (optionally in a file) for
//! lapor-local and fast handler tests. Both pass the same contract suite (`tests/contract.rs`).

mod dynamo;
mod mem;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset};
use lapor_core::{Event, Report, Reporter, TrackingCode};
use serde::{Deserialize, Serialize};

pub use dynamo::{DynamoStore, TableSpec};
pub use mem::MemStore;

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

    /// Replaces the report if its stored version is still `expected_version`, and appends
    /// `events`, all or nothing. `report.version` must be `expected_version + 1`.
    async fn update_report(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[Event],
    ) -> Result<(), StoreError>;
}
