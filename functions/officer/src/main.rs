//! Lambda entry point: builds clients once, reads configuration, serves the officer router.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_lambda::Bootstrap;
use lapor_officer::{router, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let (files, max_file_bytes) = aws.evidence()?;
    let deps = Deps::new(
        &aws.stores()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
    )
    .with_files(files, max_file_bytes);
    lambda_http::run(router(deps)).await
}
