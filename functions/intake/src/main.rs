//! Lambda entry point: builds clients once, reads configuration, and serves the intake router.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_intake::{router, ClientLimit, Deps};
use lapor_lambda::{number, replies_per_day, Bootstrap};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let (files, max_file_bytes) = aws.evidence()?;
    let deps = Deps::new(
        &aws.stores()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
        aws.pepper().await?,
    )
    .with_replies_per_day(replies_per_day()?)
    .with_client_limit(ClientLimit::per_hour(number("CLIENT_WRITES_PER_HOUR", 0)?))
    .with_files(files, max_file_bytes);
    lambda_http::run(router(deps)).await
}
