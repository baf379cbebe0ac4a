//! The table stream, locally: a store wrapper that announces every report write, and a task that
//! feeds each change to the routing and notify functions' handlers, as Lambda would.

use std::sync::Arc;

use async_trait::async_trait;
use lapor_core::stats::{GroupBy, StatsRow};
use lapor_core::{
    Agency, AgencyId, Category, Directory, Event, RegionCode, Report, Reporter, TrackingCode,
};
use lapor_store::{
    DuePage, IdempotencyRecord, Page, Queue, ReportChange, ReportStore, ReportWithTimeline,
    StoreError, Submission,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Passes everything to the inner store and announces each report write that succeeded.
pub struct Announcing {
    pub inner: Arc<dyn ReportStore>,
    pub changes: UnboundedSender<ReportChange>,
}

impl Announcing {
    fn announce(&self, old: Option<Report>, new: &Report) {
        // A closed receiver means the consumers stopped (shutdown): nothing left to do.
        let _ = self.changes.send(ReportChange {
            old,
            new: Some(new.clone()),
        });
    }
}

#[async_trait]
impl ReportStore for Announcing {
    async fn create_report(&self, s: &Submission, now: i64) -> Result<(), StoreError> {
        self.inner.create_report(s, now).await?;
        self.announce(None, &s.report);
        Ok(())
    }
    async fn update_report(
        &self,
        old: &Report,
        new: &Report,
        e: &[Event],
    ) -> Result<(), StoreError> {
        self.inner.update_report(old, new, e).await?;
        self.announce(Some(old.clone()), new);
        Ok(())
    }
    async fn children(&self, id: &AgencyId) -> Result<Vec<AgencyId>, StoreError> {
        self.inner.children(id).await
    }
    async fn stats(&self, r: &RegionCode, y: i32, g: GroupBy) -> Result<Vec<StatsRow>, StoreError> {
        self.inner.stats(r, y, g).await
    }
    async fn idempotency_record(
        &self,
        k: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotency_record(k, now).await
    }
    async fn report(&self, c: &TrackingCode) -> Result<Option<Report>, StoreError> {
        self.inner.report(c).await
    }
    async fn report_with_timeline(
        &self,
        c: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        self.inner.report_with_timeline(c).await
    }
    async fn reporter(&self, c: &TrackingCode) -> Result<Option<Reporter>, StoreError> {
        self.inner.reporter(c).await
    }
    async fn put_directory(&self, d: &Directory) -> Result<(), StoreError> {
        self.inner.put_directory(d).await
    }
    async fn agency(&self, id: &AgencyId) -> Result<Option<Agency>, StoreError> {
        self.inner.agency(id).await
    }
    async fn route(&self, r: &RegionCode, c: Category) -> Result<Option<AgencyId>, StoreError> {
        self.inner.route(r, c).await
    }
    async fn queue(&self, q: &Queue, l: usize, c: Option<&str>) -> Result<Page, StoreError> {
        self.inner.queue(q, l, c).await
    }
    async fn overdue(
        &self,
        shard: u8,
        now: chrono::DateTime<chrono::Utc>,
        l: usize,
        c: Option<&str>,
    ) -> Result<DuePage, StoreError> {
        self.inner.overdue(shard, now, l, c).await
    }
    async fn mark_once(&self, k: &str, now: i64, ttl: i64) -> Result<bool, StoreError> {
        self.inner.mark_once(k, now, ttl).await
    }
    async fn count_hit(&self, k: &str, now: i64, ttl: i64) -> Result<u64, StoreError> {
        self.inner.count_hit(k, now, ttl).await
    }
    async fn unmark(&self, k: &str) -> Result<(), StoreError> {
        self.inner.unmark(k).await
    }
}

/// Runs routing, then notify, on every change, in order, until the store is dropped.
pub async fn run(
    mut changes: UnboundedReceiver<ReportChange>,
    routing: lapor_routing::Deps,
    notify: lapor_notify_fn::Deps,
) {
    while let Some(change) = changes.recv().await {
        if let Err(e) = lapor_routing::route_change(&routing, &change).await {
            tracing::error!(error = %e, "routing failed");
        }
        if let Err(e) = lapor_notify_fn::notify_change(&notify, &change).await {
            tracing::error!(error = %e, "notify failed");
        }
    }
}
