//! Lambda entry point: DynamoDB stream batches in, partial batch failures out.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::SystemClock;
use lapor_notify::SnsNotifier;
use lapor_notify_fn::{handle_event, Deps};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let topic = std::env::var("TOPIC_ARN").map_err(|_| "TOPIC_ARN is not set")?;
    let central = std::env::var("CENTRAL_AGENCY_ID").map_err(|_| "CENTRAL_AGENCY_ID is not set")?;
    let config = lapor_store::aws_config().await;
    let deps = Deps {
        store: Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&config),
            table,
        )),
        notifier: Arc::new(SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic)),
        clock: Arc::new(SystemClock),
        central,
        oversight: std::env::var("OVERSIGHT_AGENCY_ID").unwrap_or_else(|_| "ombudsman-ri".into()),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(handle_event(deps, &event.payload).await)
    }))
    .await
}
