//! Lambda entry point: builds clients once, reads configuration, serves the officer router.

use std::sync::Arc;

use lapor_core::{SystemClock, WorkCalendar};
use lapor_status::{router, Deps};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let deps = Deps {
        store: Arc::new(DynamoStore::from_env().await?),
        clock: Arc::new(SystemClock),
        calendar: WorkCalendar::indonesia(),
    };
    lambda_http::run(router(deps)).await
}
