//! Lambda entry point: an EventBridge Scheduler invocation runs one sweep, which stops 10 seconds
//! before the function's timeout and leaves the rest for the next run.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::{Deadlines, SystemClock};
use lapor_escalation::{emf, sweep, Deps};
use lapor_lambda::Bootstrap;

const MARGIN: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(
        &aws.stores()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
    );
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let left = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(MARGIN);
            let now = deps.clock.now();
            let summary = sweep(deps, now, Instant::now() + left).await?;
            tracing::info!(?summary, "sweep finished");
            println!("{}", emf(&summary, now.timestamp_millis()));
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(&summary)?)
        },
    ))
    .await
}
