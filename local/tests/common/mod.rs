//! What lapor-local's own tests share (they cannot use `lapor-tests`, which depends on
//! lapor-local): waiting for what the in-process consumers do after a write.

use std::time::{Duration, Instant};

/// How long a test waits for the in-process consumers: long enough for a slow, loaded CI
/// machine. A passing test stops waiting as soon as the state is reached.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Calls `probe` every 25 ms until `done` holds for what it returned, and returns that. When
/// [`PATIENCE`] runs out first the test fails, naming `what` it waited for and the last value.
pub async fn eventually<T: std::fmt::Debug>(
    what: &str,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = probe().await;
        if done(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}; last seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
