//! Lambda entry point: DynamoDB stream batches in, partial batch failures out.

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::{SystemClock, WorkCalendar};
use lapor_routing::{handle_event, Deps};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = Deps {
        store: Arc::new(DynamoStore::from_env().await?),
        clock: Arc::new(SystemClock),
        calendar: WorkCalendar::indonesia(),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(handle_event(deps, &event.payload).await)
    }))
    .await
}
