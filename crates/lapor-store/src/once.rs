//! Doing something once per key although the request that asks for it may come twice (stream
//! records and SMS deliveries are at-least-once): mark first, act, and forget the mark again if
//! the action fails, so that the retry acts.

use std::future::Future;

use crate::{Marks, StoreError};

/// Runs `action` unless `key` is already marked; `None` when it was. A mark lives `ttl_secs`.
pub async fn do_once<T, E, Fut>(
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
    if !marks.mark_once(key, now_unix, ttl_secs).await? {
        return Ok(None);
    }
    match action().await {
        Ok(done) => Ok(Some(done)),
        Err(e) => {
            marks.unmark(key).await?;
            Err(e)
        }
    }
}
