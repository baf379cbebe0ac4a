//! Lambda entry point: builds clients once, reads configuration, and serves the intake router.

use std::sync::Arc;

use lapor_core::{KeyPepper, SystemClock};
use lapor_intake::{router, Deps};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let pepper = std::env::var("ACCESS_KEY_PEPPER")
        .ok()
        .and_then(|v| KeyPepper::new(v.into_bytes()))
        .ok_or("ACCESS_KEY_PEPPER must be set to at least 32 bytes")?;
    let store = DynamoStore::from_env().await?;
    let deps = Deps::new(Arc::new(store), Arc::new(SystemClock), pepper);
    lambda_http::run(router(deps)).await
}
