//! One page over several queues: each queue is read from the same position, the answers are
//! merged newest first, and reading goes on (a bounded number of times) until the page has
//! enough reports that the caller wants. Both adapters page this way; only how one queue is
//! read differs.

use async_trait::async_trait;
use lapor_core::Report;

use chrono::{DateTime, Utc};

use crate::keys::{decode_cursor, encode_cursor, queue_position};
use crate::{DuePage, Page, Queue, StoreError, Wanted, WorkQueues};

/// Filtering happens after reading; this many reads at most fill one page.
const READS_PER_PAGE: usize = 8;

/// What an adapter provides for [`WorkQueues`]: one queue read after a position, and a page of
/// its due index.
#[async_trait]
pub(crate) trait QueueIndex: Send + Sync {
    /// Up to `limit` reports of `queue` positioned before `after`, newest first, and whether
    /// more may follow.
    async fn read_queue(
        &self,
        queue: &Queue,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError>;

    /// See [`WorkQueues::overdue`].
    async fn overdue_page(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError>;
}

#[async_trait]
impl<T: QueueIndex> WorkQueues for T {
    async fn queue(
        &self,
        queues: &[Queue],
        wanted: Wanted<'_>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        merged_page(self, queues, wanted, limit, cursor).await
    }

    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError> {
        self.overdue_page(now, limit, cursor).await
    }
}

async fn merged_page(
    reader: &impl QueueIndex,
    queues: &[Queue],
    wanted: Wanted<'_>,
    limit: usize,
    cursor: Option<&str>,
) -> Result<Page, StoreError> {
    let mut position = cursor.map(decode_cursor).transpose()?;
    let mut found: Vec<Report> = Vec::new();
    let mut exhausted = false;
    for _ in 0..READS_PER_PAGE {
        let mut batch = Vec::new();
        let mut more = false;
        for queue in queues {
            let (reports, more_here) = reader.read_queue(queue, position.as_deref(), limit).await?;
            more |= more_here;
            batch.extend(reports);
        }
        batch.sort_by_key(|r| std::cmp::Reverse(queue_position(r)));
        // What the merge cuts off is read again from the next position.
        more |= batch.len() > limit;
        batch.truncate(limit);
        let Some(last) = batch.last() else {
            exhausted = true;
            break;
        };
        position = Some(queue_position(last));
        found.extend(batch.into_iter().filter(|r| wanted(r)));
        if !more {
            exhausted = true;
            break;
        }
        if found.len() >= limit {
            break;
        }
    }
    let truncated = found.len() > limit;
    found.truncate(limit);
    let next = if truncated || !exhausted {
        found.last().map(queue_position).or(position)
    } else {
        None
    };
    Ok(Page {
        reports: found,
        next: next.as_deref().map(encode_cursor),
    })
}
