//! The cold-start baseline: a hello-world `lambda_runtime` function (as in the runtime's own basic
//! example, with its default tracing subscriber), built with the same profile as the functions
//! (`scripts/bench`: the release profile a deploy uses), so `cold_start` can state every
//! function's init as a multiple of it.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, lambda_runtime::Error>(json!({ "hello": "world" }))
    }))
    .await
}
