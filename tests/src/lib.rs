//! Shared helpers for Lapor's integration tests: DynamoDB clients pointed at the moto server that
//! `scripts/test` starts, with a request counter, and unique names so tests never share state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Records the operation name of every HTTP request a client sends (retries included).
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>);

impl RequestLog {
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut v) = self.0.lock() {
            v.clear();
        }
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        if let Ok(mut v) = self.0.lock() {
            v.push(name);
        }
        Ok(())
    }
}

/// A DynamoDB client for the moto server named by `AWS_ENDPOINT_URL`, and its request log.
///
/// Without an endpoint the test is skipped with a message, unless `LAPOR_REQUIRE_MOTO` is set
/// (as `scripts/test` sets it), where a missing endpoint fails the test: CI never skips silently.
pub async fn moto_dynamodb() -> Option<(aws_sdk_dynamodb::Client, RequestLog)> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "LAPOR_REQUIRE_MOTO is set but AWS_ENDPOINT_URL is not: start moto (scripts/test does)"
        );
        eprintln!("skipped: no AWS_ENDPOINT_URL (run scripts/test to start moto)");
        return None;
    }
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let log = RequestLog::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&shared)
        .interceptor(log.clone())
        .build();
    Some((aws_sdk_dynamodb::Client::from_conf(config), log))
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A valid Kota Cirebon pothole report, as a citizen would submit it.
pub fn pothole_json() -> serde_json::Value {
    serde_json::json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "location": {"address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon", "lat": -6.7153, "lon": 108.5505},
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti.aminah@example.id"}
    })
}
