//! Acting on a request that may come twice (stream records and SMS deliveries are at least
//! once) without losing the action: the mark that says "done" is written only after the action
//! succeeded. A crash or timeout between the two repeats the action on the retry — a rare
//! duplicate message, never a lost one.

use std::future::Future;

use crate::{Marks, StoreError};

/// Runs `action` unless `key` is marked done, then marks it (for `ttl_secs`); `None` when it
/// was already done.
pub async fn at_least_once<T, E, Fut>(
    marks: &dyn Marks,
    key: &str,
    now_unix: i64,
    ttl_secs: i64,
    action: impl FnOnce() -> Fut,
) -> Result<Option<T>, E>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<StoreError>,
{
    if marks.is_marked(key, now_unix).await? {
        return Ok(None);
    }
    let done = action().await?;
    // Another delivery may have marked it meanwhile; either way it is done now.
    marks.mark_once(key, now_unix, ttl_secs).await?;
    Ok(Some(done))
}
