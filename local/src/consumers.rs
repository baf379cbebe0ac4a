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
    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        self.inner.recent_public(limit).await
    }
    async fn public_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<lapor_store::Page, StoreError> {
        self.inner.public_between(from, to, limit, cursor).await
    }
}

/// How often a change is handed to a consumer before it goes to the dead letters, and the first
/// pause between tries (doubling each time), as Lambda retries a stream record.
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// A change a consumer gave up on, for an operator to read (`GET /dev/dead-letters`): what
/// Lambda would have sent to that function's dead-letter queue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub consumer: &'static str,
    pub tracking_code: String,
    /// The report's version the change wrote (none for an upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The attachment whose upload failed (evidence only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    pub error: String,
    pub at: String,
}

#[derive(Debug, Default)]
pub struct DeadLetters(std::sync::Mutex<Vec<DeadLetter>>);

impl DeadLetters {
    pub fn entries(&self) -> Vec<DeadLetter> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub(crate) fn push(&self, letter: DeadLetter) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(letter);
    }
}

/// The stream consumers lapor-local runs, in the order a change reaches them.
pub struct Consumers {
    pub routing: lapor_routing::Deps,
    pub stats: lapor_stats::Deps,
    pub notify: lapor_notify::Deps,
    pub dead_letters: Arc<DeadLetters>,
}

impl Consumers {
    /// Hands `change` to one consumer, retrying with back-off; a change that still fails becomes
    /// a dead letter.
    async fn deliver<F, Fut, T, E>(&self, consumer: &'static str, change: &ReportChange, handle: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=ATTEMPTS {
            match handle().await {
                Ok(_) => return,
                Err(error) if attempt == ATTEMPTS => {
                    let Some(report) = &change.new else { return };
                    tracing::error!(consumer, tracking_code = %report.tracking_code, %error, "gave up on a change; see /dev/dead-letters");
                    self.dead_letters.push(DeadLetter {
                        consumer,
                        tracking_code: report.tracking_code.to_string(),
                        version: Some(report.version),
                        attachment: None,
                        error: error.to_string(),
                        at: chrono::Utc::now().to_rfc3339(),
                    });
                }
                Err(error) => {
                    tracing::warn!(consumer, attempt, %error, "consumer failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }
}

/// Runs routing, statistics, then notify on every change, in order, until the store is dropped.
pub async fn run(mut changes: UnboundedReceiver<ReportChange>, consumers: Consumers) {
    while let Some(change) = changes.recv().await {
        let c = &consumers;
        c.deliver("routing", &change, || {
            lapor_routing::route_change(&c.routing, &change)
        })
        .await;
        c.deliver("stats", &change, || {
            lapor_stats::count_changes(&c.stats, std::slice::from_ref(&change))
        })
        .await;
        c.deliver("notify", &change, || {
            lapor_notify::notify_change(&c.notify, &change)
        })
        .await;
    }
}
