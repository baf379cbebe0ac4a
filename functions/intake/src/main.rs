//! Lambda entry point: builds clients once, reads configuration, and serves the intake router.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_intake::{router, Deps};
use lapor_lambda::{pepper, replies_per_day, Bootstrap};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(
        &aws.stores()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
        pepper()?,
    )
    .with_replies_per_day(replies_per_day()?);
    lambda_http::run(router(deps)).await
}
