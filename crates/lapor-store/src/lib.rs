//! Where Lapor's data lives, behind narrow ports, one per concern:
//!
//! | port | holds | who needs it |
//! |---|---|---|
//! | [`Reports`] | reports, their timelines and idempotency records | every function that reads or changes a report |
//! | [`ReporterIdentity`] | who sent a report | only the functions that show or contact the reporter |
//! | [`AgencyDirectory`] | agencies, departments and routing rules | routing, officers, notify, sms |
//! | [`WorkQueues`] | the triage and agency queues and the due index | officers, the sweep |
//! | [`Statistics`] | the published counters, and agencies' internal dashboard figures | intake (published), officers (dashboards), the stats consumer (counting) |
//! | [`Marks`] | done-marks and rate counters | stream consumers, sms |
//! | [`PartnerKeys`] | Open311 partners' API keys (hashed) | intake (checks), lapor-admin (issues, revokes) |
//!
//! [`DynamoStore`] keeps everything in one DynamoDB table, with a key and index layout that is
//! private to it; [`MemStore`] keeps it in memory (optionally in a file) for lapor-local and fast
//! handler tests. Both implement every port and pass one contract suite
//! (`tests/tests/store_contract.rs`). [`Stores`] hands each port out from one store, so a
//! function's `Deps` names exactly the ports it uses and a decorator wraps one port alone.

mod dynamo;
mod keys;
mod mem;
mod once;
mod paging;
mod pepper;
mod race;
mod stream;
mod submit;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use lapor_core::stats::{AgencyFigures, CountedChange, GroupBy, StatsRow};
use lapor_core::{
    Agency, AgencyId, Category, ContactKeys, Directory, Event, PartnerKey, PartnerKeyId,
    RegionCode, Report, Reporter, TrackingCode,
};
use serde::{Deserialize, Serialize};

pub use dynamo::{DynamoStore, TableSpec};
pub use mem::MemStore;
pub use once::at_least_once;
pub use pepper::{Pepper, PepperRead};
pub use race::{until_written, Attempt, WRITE_ATTEMPTS};
pub use stream::{handle_changes, report_changes, ReportChange};
pub use submit::{file_report, sha256_hex, Filed, IdempotencyKey};

/// How long a counted change's id is remembered: longer than a stream record lives (24 hours),
/// so no redelivery can count it again.
pub const COUNTED_TTL_SECS: i64 = 2 * 24 * 60 * 60;

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

/// Everything a new report writes, all or nothing.
#[derive(Debug, Clone)]
pub struct Submission {
    pub report: Report,
    pub reporter: Option<Reporter>,
    /// Kept beside the reporter's identity (and only with it): see [`ContactKeys`].
    pub contact_keys: ContactKeys,
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
    /// The backend is busy (conflicting writers, throttling, a timeout) and retrying did not get
    /// through: nothing was written, and the same request can succeed later. For logs only.
    #[error("store busy: {0}")]
    Busy(String),
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
    /// A cursor that no page of ours produced.
    BadCursor,
    /// Another partner key already has this id.
    PartnerKeyTaken,
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
            Queue::Agency(id) => !report.triage && report.agency.as_ref() == Some(id),
        }
    }
}

/// One page of reports, and the opaque cursor that continues after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub reports: Vec<Report>,
    pub next: Option<String>,
}

/// One page of reports whose deadline has passed, oldest deadline first.
#[derive(Debug, Clone, PartialEq)]
pub struct DuePage {
    pub reports: Vec<Report>,
    pub next: Option<String>,
    /// Items the backend read to answer (DynamoDB's `ScannedCount`).
    pub read: usize,
    /// Items in the index that could not be read as reports: left out, logged by their key.
    pub unreadable: usize,
}

/// Which reports of a queue a listing wants (a status or colour filter); `&|_| true` for all.
pub type Wanted<'a> = &'a (dyn Fn(&Report) -> bool + Send + Sync);

/// Reports, their timelines and the idempotency records of their submissions.
#[async_trait]
pub trait Reports: Send + Sync {
    /// Writes the report, its reporter, its first event and its idempotency record in one
    /// all-or-nothing step. Fails with `CodeTaken` or `IdempotencyKeyTaken` (or `Busy`) and
    /// writes nothing.
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

    /// Replaces `old` by `new` if the stored version is still `old.version` and appends
    /// `events`, all or nothing (`VersionMismatch` otherwise). Touches no item shared by other
    /// reports: statistics follow from the stream.
    async fn update_report(
        &self,
        old: &Report,
        new: &Report,
        events: &[Event],
    ) -> Result<(), StoreError>;

    /// The newest reports the public may read (`publik` and `anonim`, never `rahasia` or
    /// whistleblowing: [`lapor_core::stats::is_confidential`]), newest first by creation time,
    /// at most `limit`: the portal's feed. Reports created more than
    /// [`FEED_MONTHS`] calendar months ago (UTC, the current month included) may be left out.
    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError>;

    /// One page of the reports the public may read (as [`Reports::recent_public`]) created
    /// between `from` and `to` (both included), newest first, at most `limit`. `cursor` is a
    /// previous page's `next` for the same window. Read from the feed, never a scan: the cost
    /// grows with the calendar months (UTC) the window spans, so callers bound it.
    async fn public_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError>;
}

/// How far back the public feed looks: this many calendar months (UTC), the current one
/// included. A feed is of recent reports, and reading it must not cost more in a quiet month.
pub const FEED_MONTHS: u32 = 3;

/// Who sent a report. Only the functions that must show or contact the reporter hold this port:
/// intake (the reporter's own view), the officer console (identity on `publik` reports), notify
/// (SMS to the reporter) and sms (is this phone the reporter's?).
#[async_trait]
pub trait ReporterIdentity: Send + Sync {
    async fn reporter(&self, code: &TrackingCode) -> Result<Option<Reporter>, StoreError> {
        Ok(self.reporter_with_keys(code).await?.map(|(r, _)| r))
    }

    /// The reporter and the keys their messages are counted under, in one read. A reporter
    /// filed before the keys were kept has none ([`ContactKeys::default`]).
    async fn reporter_with_keys(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<(Reporter, ContactKeys)>, StoreError>;
}

/// The agency directory and the routing rules derived from it.
#[async_trait]
pub trait AgencyDirectory: Send + Sync {
    /// Writes every agency of the directory and the routing rules derived from it. Idempotent:
    /// importing the same directory twice leaves the same items.
    async fn put_directory(&self, directory: &Directory) -> Result<(), StoreError>;

    async fn agency(&self, id: &AgencyId) -> Result<Option<Agency>, StoreError>;

    /// The agencies directly below `id` (its departments).
    async fn children(&self, id: &AgencyId) -> Result<Vec<AgencyId>, StoreError>;

    /// Every agency of the directory, by id: one read of a listing kept beside the agencies,
    /// never a scan of the table.
    async fn agencies(&self) -> Result<Vec<Agency>, StoreError>;

    /// The agency for a category in a region, falling back to the province and then the
    /// national rules; `None` when no rule matches (the report goes to triage).
    async fn route(
        &self,
        region: &RegionCode,
        category: Category,
    ) -> Result<Option<AgencyId>, StoreError>;
}

/// The work queues (newest first) and the due index (oldest deadline first).
#[async_trait]
pub trait WorkQueues: Send + Sync {
    /// One page of the reports in any of `queues` that are `wanted`, merged newest first.
    /// `cursor` is a previous page's `next` for the same queues.
    async fn queue(
        &self,
        queues: &[Queue],
        wanted: Wanted<'_>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError>;

    /// Up to `limit` reports whose deadline is at or before `now`. `cursor` is a previous
    /// page's `next`.
    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError>;
}

/// The published counters, and each agency's internal dashboard figures, kept by the statistics
/// consumer from the table's stream.
#[async_trait]
pub trait Statistics: Send + Sync {
    /// Adds each change's deltas to the counters exactly once: a change already counted (by its
    /// id) is skipped, so a batch delivered twice, split, or retried after a partial failure
    /// counts nothing twice and drops nothing. All or nothing per call on the embedded store;
    /// on DynamoDB per group of changes that fits one transaction.
    async fn count(&self, changes: &[CountedChange], now_unix: i64) -> Result<(), StoreError>;

    /// Published statistics for a region and year, one row per value of the grouping.
    async fn stats(
        &self,
        region: &RegionCode,
        year: i32,
        group: GroupBy,
    ) -> Result<Vec<StatsRow>, StoreError>;

    /// The dashboard figures of each of `agencies`, in the order asked (empty ones for agencies
    /// nothing was counted for): the reports each holds now by colour, and its first follow-ups
    /// per local day from `since` on. Internal figures that count `rahasia` and whistleblowing
    /// reports: for officers' dashboards, never for [`Statistics::stats`]. A bounded read per
    /// agency (at most one item per day since `since`, and one more), never a scan.
    async fn agency_figures(
        &self,
        agencies: &[AgencyId],
        since: NaiveDate,
    ) -> Result<Vec<AgencyFigures>, StoreError>;
}

/// Marks of what a consumer has done, and rate-limit counters.
#[async_trait]
pub trait Marks: Send + Sync {
    /// Records that `key` has been handled; false when it already was (and is still live).
    /// Stream consumers use it to act once per change even when a record is delivered twice.
    async fn mark_once(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<bool, StoreError>;

    /// Whether `key` is marked and the mark still live.
    async fn is_marked(&self, key: &str, now_unix: i64) -> Result<bool, StoreError>;

    /// Counts one more hit on `key` (a rate-limit window: the caller puts the window in the key)
    /// and returns the count so far. The counter lives `ttl_secs` from its first hit.
    async fn count_hit(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<u64, StoreError>;
}

/// The API keys issued to Open311 partners: only hashes of their secrets, each found by its id
/// with one read, never a scan.
#[async_trait]
pub trait PartnerKeys: Send + Sync {
    /// Stores a newly issued key; `PartnerKeyTaken` (and nothing written) when its id exists.
    async fn add_partner_key(&self, key: &PartnerKey) -> Result<(), StoreError>;

    async fn partner_key(&self, id: &PartnerKeyId) -> Result<Option<PartnerKey>, StoreError>;

    /// Revokes the key from `at` on: the key as it is now, `None` when there is no such key.
    /// Revoking twice keeps the first time.
    async fn revoke_partner_key(
        &self,
        id: &PartnerKeyId,
        at: DateTime<FixedOffset>,
    ) -> Result<Option<PartnerKey>, StoreError>;

    /// Every key ever issued (revoked ones too), oldest first.
    async fn partner_keys(&self) -> Result<Vec<PartnerKey>, StoreError>;
}

/// A store that holds every port: what the adapters are, and what the contract suite tests.
pub trait Store:
    Reports + ReporterIdentity + AgencyDirectory + WorkQueues + Statistics + Marks + PartnerKeys
{
}

impl<T> Store for T where
    T: Reports + ReporterIdentity + AgencyDirectory + WorkQueues + Statistics + Marks + PartnerKeys
{
}

/// Every port of one store, to hand each function the ones it needs.
#[derive(Clone)]
pub struct Stores {
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub queues: Arc<dyn WorkQueues>,
    pub statistics: Arc<dyn Statistics>,
    pub marks: Arc<dyn Marks>,
    pub partner_keys: Arc<dyn PartnerKeys>,
}

impl Stores {
    /// Every port served by `store`.
    pub fn of<S: Store + 'static>(store: Arc<S>) -> Self {
        Self {
            reports: store.clone(),
            identity: store.clone(),
            directory: store.clone(),
            queues: store.clone(),
            statistics: store.clone(),
            marks: store.clone(),
            partner_keys: store,
        }
    }
}
