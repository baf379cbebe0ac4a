//! Lambda entry point: one SNS notification (an inbound SMS) per invocation; builds clients once.
//! An error makes Lambda retry the delivery and then send it to the dead-letter queue; handling
//! is idempotent.

use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::{Deadlines, SystemClock};
use lapor_lambda::{number, replies_per_day, Bootstrap};
use lapor_sms::{handle_event, Deps, DEFAULT_HOURLY_LIMIT};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(
        &aws.stores()?,
        aws.notifier()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
        aws.pepper()?,
        number("SMS_HOURLY_LIMIT", DEFAULT_HOURLY_LIMIT)?,
    )
    .with_replies_per_day(replies_per_day()?);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        handle_event(deps, &event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
