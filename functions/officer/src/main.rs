//! Lambda entry point: builds clients once, reads configuration, serves the officer router.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_lambda::{number, Bootstrap};
use lapor_officer::{router, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(
        &aws.stores()?,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
    )
    .with_files(
        aws.evidence_files()?,
        number(
            "EVIDENCE_MAX_BYTES",
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        )?,
    );
    lambda_http::run(router(deps)).await
}
