//! A request that reads a report, decides its next version and writes it can lose a race: a
//! background write (routing, an evidence outcome, the overdue sweep) may land between its read
//! and its write, and the store then refuses the write (`VersionMismatch`) with nothing written.
//! Such a request decides again on the report as it is now instead of failing: the person
//! behind it asked for an action, not for a particular version. A request that named the
//! version it decided on checks it again on the fresh read, and so still gets its conflict when
//! the report really changed under it.

use std::future::Future;

use crate::{Conflict, StoreError};

/// How often a read-decide-write is tried before a lost race is answered as a conflict.
pub const WRITE_ATTEMPTS: usize = 3;

/// What one read-decide-write attempt came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Written; the answer.
    Done(T),
    /// Another write to the report landed first; nothing was written.
    Raced,
}

impl<T> Attempt<T> {
    /// What a read-decide-write came to once its `write` returned: `Done` with `done()` (called
    /// only then, so it may log the write) when it went through, `Raced` when another write to
    /// the same report landed first (nothing written), the error otherwise.
    pub fn after(
        write: Result<(), StoreError>,
        done: impl FnOnce() -> T,
    ) -> Result<Attempt<T>, StoreError> {
        match write {
            Ok(()) => Ok(Attempt::Done(done())),
            Err(StoreError::Conflict(Conflict::VersionMismatch)) => Ok(Attempt::Raced),
            Err(e) => Err(e),
        }
    }
}

/// Runs `attempt` (read, decide, write) until it is done, at most [`WRITE_ATTEMPTS`] times;
/// a race lost every time is the store's `VersionMismatch`. (A plain closure returning a
/// future, not an async closure: a handler's future must be `Send`, which the compiler cannot
/// yet prove through an async closure's borrows.)
pub async fn until_written<T, E, Fut>(mut attempt: impl FnMut() -> Fut) -> Result<T, E>
where
    Fut: Future<Output = Result<Attempt<T>, E>>,
    E: From<StoreError>,
{
    for _ in 0..WRITE_ATTEMPTS {
        if let Attempt::Done(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(StoreError::Conflict(Conflict::VersionMismatch).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lost_race_is_tried_again_and_only_a_race_lost_every_time_is_a_conflict() {
        let mut tries = 0;
        let done: Result<usize, StoreError> = until_written(|| {
            tries += 1;
            let this = tries;
            async move {
                Ok(if this < WRITE_ATTEMPTS {
                    Attempt::Raced
                } else {
                    Attempt::Done(this)
                })
            }
        })
        .await;
        assert_eq!(done.ok(), Some(WRITE_ATTEMPTS), "done on the last try");
        assert_eq!(tries, WRITE_ATTEMPTS);

        let mut tries = 0;
        let lost: Result<(), StoreError> = until_written(|| {
            tries += 1;
            async { Ok(Attempt::Raced) }
        })
        .await;
        assert!(matches!(
            lost,
            Err(StoreError::Conflict(Conflict::VersionMismatch))
        ));
        assert_eq!(tries, WRITE_ATTEMPTS);

        let mut tries = 0;
        let failed: Result<(), StoreError> = until_written(|| {
            tries += 1;
            async { Err(StoreError::Busy("throttled".into())) }
        })
        .await;
        assert!(matches!(failed, Err(StoreError::Busy(_))));
        assert_eq!(tries, 1, "a failure is not a race: not tried again here");
    }

    #[test]
    fn only_a_version_mismatch_is_a_lost_race() {
        assert!(matches!(Attempt::after(Ok(()), || 7), Ok(Attempt::Done(7))));
        let lost = Attempt::after(
            Err(StoreError::Conflict(Conflict::VersionMismatch)),
            || -> u32 { panic!("not done: nothing was written") },
        );
        assert!(matches!(lost, Ok(Attempt::Raced)));
        assert!(matches!(
            Attempt::after(Err(StoreError::Conflict(Conflict::CodeTaken)), || 7),
            Err(StoreError::Conflict(Conflict::CodeTaken))
        ));
    }
}
