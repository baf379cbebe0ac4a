//! The server secret as a function holds it: read from its store once, when first needed, or
//! started in the background at start-up so that the read overlaps the rest of the start and the
//! first request's own work instead of adding to them.
//!
//! A failed read is not kept: the request that needed the secret fails as a backend failure
//! (5xx, or a retried batch), and the next one reads again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use lapor_core::KeyPepper;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;

use crate::StoreError;

/// One read of the secret; the error is for logs only and never holds the secret.
pub type PepperRead = Pin<Box<dyn Future<Output = Result<KeyPepper, String>> + Send>>;

type Reader = Box<dyn Fn() -> PepperRead + Send + Sync>;

/// The pepper, ready or on its way. Clones share one secret and one read.
#[derive(Clone)]
pub struct Pepper(Arc<Inner>);

struct Inner {
    value: OnceCell<KeyPepper>,
    read: Option<Reader>,
    /// The read started at start-up ([`Pepper::read_now`]), until a request takes it over.
    started: Mutex<Option<JoinHandle<Result<KeyPepper, String>>>>,
}

impl Pepper {
    /// A pepper already in hand (lapor-local, tests).
    pub fn ready(pepper: KeyPepper) -> Self {
        Self(Arc::new(Inner {
            value: OnceCell::new_with(Some(pepper)),
            read: None,
            started: Mutex::new(None),
        }))
    }

    /// A pepper read by `read` when a request first needs it.
    pub fn on_first_use(read: impl Fn() -> PepperRead + Send + Sync + 'static) -> Self {
        Self(Arc::new(Inner {
            value: OnceCell::new(),
            read: Some(Box::new(read)),
            started: Mutex::new(None),
        }))
    }

    /// A pepper whose first read starts now, in the background (on the current Tokio runtime):
    /// the caller goes on, and the first request that needs the secret waits only for what is
    /// left of the read. If that read fails, the request reads again.
    pub fn read_now(read: impl Fn() -> PepperRead + Send + Sync + 'static) -> Self {
        let pepper = Self::on_first_use(read);
        if let Some(read) = &pepper.0.read {
            let handle = tokio::spawn(read());
            *lock(&pepper.0.started) = Some(handle);
        }
        pepper
    }

    /// The secret, reading it if no read has succeeded yet.
    pub async fn get(&self) -> Result<&KeyPepper, StoreError> {
        self.0
            .value
            .get_or_try_init(|| self.read())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "the server secret could not be read");
                StoreError::Backend(format!("reading the server secret: {e}"))
            })
    }

    async fn read(&self) -> Result<KeyPepper, String> {
        let started = lock(&self.0.started).take();
        if let Some(handle) = started {
            match handle.await {
                Ok(Ok(pepper)) => return Ok(pepper),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the early read of the server secret failed; reading again")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the early read of the server secret stopped; reading again")
                }
            }
        }
        match &self.0.read {
            Some(read) => read().await,
            None => Err("no pepper was given".into()),
        }
    }
}

impl From<KeyPepper> for Pepper {
    fn from(pepper: KeyPepper) -> Self {
        Self::ready(pepper)
    }
}

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.value.initialized() {
            "ready"
        } else {
            "not read yet"
        };
        write!(f, "Pepper({state})")
    }
}

/// The lock holds only an `Option`, which no panic leaves half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn secret(byte: u8) -> KeyPepper {
        KeyPepper::new(vec![byte; 32]).expect("32 bytes")
    }

    fn counting(
        reads: Arc<AtomicUsize>,
        fail_first: usize,
    ) -> impl Fn() -> PepperRead + Send + Sync + 'static {
        move || {
            let n = reads.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n < fail_first {
                    Err(format!("read {n} refused"))
                } else {
                    Ok(secret(7))
                }
            })
        }
    }

    #[tokio::test]
    async fn reads_once_on_first_use_and_keeps_it() {
        let reads = Arc::new(AtomicUsize::new(0));
        let pepper = Pepper::on_first_use(counting(reads.clone(), 0));
        assert_eq!(reads.load(Ordering::SeqCst), 0, "nothing read before use");
        let first = pepper.get().await.expect("read").keyed_hex("t", "x");
        let again = pepper.clone();
        assert_eq!(again.get().await.expect("kept").keyed_hex("t", "x"), first);
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(first, secret(7).keyed_hex("t", "x"));
    }

    #[tokio::test]
    async fn a_failed_read_is_a_backend_failure_and_the_next_use_reads_again() {
        let reads = Arc::new(AtomicUsize::new(0));
        let pepper = Pepper::on_first_use(counting(reads.clone(), 1));
        match pepper.get().await {
            Err(StoreError::Backend(message)) => assert!(message.contains("read 0 refused")),
            other => panic!("expected a backend failure, got {other:?}"),
        }
        assert!(pepper.get().await.is_ok(), "read again");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn read_now_starts_at_once_and_the_first_use_takes_that_read() {
        let reads = Arc::new(AtomicUsize::new(0));
        let pepper = Pepper::read_now(counting(reads.clone(), 0));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "started before any use");
        pepper.get().await.expect("read");
        pepper.get().await.expect("kept");
        assert_eq!(reads.load(Ordering::SeqCst), 1, "no second read");
    }

    #[tokio::test]
    async fn a_failed_early_read_is_read_again_by_the_first_use() {
        let reads = Arc::new(AtomicUsize::new(0));
        let pepper = Pepper::read_now(counting(reads.clone(), 1));
        pepper.get().await.expect("the second read succeeds");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn debug_never_shows_the_secret() {
        let pepper = Pepper::ready(secret(b'z'));
        assert_eq!(format!("{pepper:?}"), "Pepper(ready)");
    }
}
