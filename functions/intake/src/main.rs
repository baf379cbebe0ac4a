//! Lambda entry point: builds clients once, reads configuration, and serves the intake router.

use std::sync::Arc;

use lapor_core::{KeyPepper, SystemClock};
use lapor_intake::{router, Deps};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let pepper = std::env::var("ACCESS_KEY_PEPPER")
        .ok()
        .and_then(|v| KeyPepper::new(v.into_bytes()))
        .ok_or("ACCESS_KEY_PEPPER must be set to at least 32 bytes")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let deps = Deps::new(Arc::new(store), Arc::new(SystemClock), pepper);
    lambda_http::run(router(deps)).await
}
