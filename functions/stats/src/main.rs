//! Lambda entry point: DynamoDB stream batches in, partial batch failures out.

use std::sync::Arc;

use lapor_core::SystemClock;
use lapor_lambda::{run_stream, Bootstrap};
use lapor_stats::{handle_event, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lapor_lambda::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(&aws.stores()?, Arc::new(SystemClock));
    let deps = &deps;
    run_stream(|event| async move { handle_event(deps, &event).await }).await
}
