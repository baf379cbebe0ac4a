//! Lambda entry point: one SNS notification (an inbound SMS) per invocation; builds clients once. An error makes Lambda
//! retry the delivery and then send it to the dead-letter queue; handling is idempotent.

use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::{KeyPepper, SystemClock};
use lapor_notify::SnsNotifier;
use lapor_sms::{handle_event, Deps, DEFAULT_HOURLY_LIMIT};
use lapor_store::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let topic = std::env::var("TOPIC_ARN").map_err(|_| "TOPIC_ARN is not set")?;
    let pepper = std::env::var("ACCESS_KEY_PEPPER")
        .ok()
        .and_then(|v| KeyPepper::new(v.into_bytes()))
        .ok_or("ACCESS_KEY_PEPPER must be set to at least 32 bytes")?;
    let hourly_limit = match std::env::var("SMS_HOURLY_LIMIT") {
        Ok(v) => v
            .parse()
            .map_err(|_| "SMS_HOURLY_LIMIT must be a whole number")?,
        Err(_) => DEFAULT_HOURLY_LIMIT,
    };
    // One configuration (credentials chain, HTTPS client) for both clients.
    let config = lapor_store::aws_config().await;
    let store = DynamoStore::from_config(&config)?;
    let deps = Deps {
        store: Arc::new(store),
        notifier: Arc::new(SnsNotifier::new(aws_sdk_sns::Client::new(&config), topic)),
        clock: Arc::new(SystemClock),
        pepper,
        hourly_limit,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        handle_event(deps, &event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
