//! The table stream, locally: a wrapper of the reports port that announces every report write,
//! and a task that feeds each change to the routing and notify functions' handlers, as Lambda
//! would.

use std::sync::Arc;

use async_trait::async_trait;
use lapor_core::{Event, Report, TrackingCode};
use lapor_store::{
    IdempotencyRecord, ReportChange, ReportWithTimeline, Reports, StoreError, Submission,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Passes everything to the inner reports port and announces each report write that succeeded.
pub struct Announcing {
    pub inner: Arc<dyn Reports>,
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
impl Reports for Announcing {
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
}

/// Runs routing, then notify, on every change, in order, until the store is dropped.
pub async fn run(
    mut changes: UnboundedReceiver<ReportChange>,
    routing: lapor_routing::Deps,
    notify: lapor_notify::Deps,
) {
    while let Some(change) = changes.recv().await {
        if let Err(e) = lapor_routing::route_change(&routing, &change).await {
            tracing::error!(error = %e, "routing failed");
        }
        if let Err(e) = lapor_notify::notify_change(&notify, &change).await {
            tracing::error!(error = %e, "notify failed");
        }
    }
}
