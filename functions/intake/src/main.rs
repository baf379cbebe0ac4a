//! Lambda entry point: builds clients once, reads configuration, and serves the intake router.

use lapor_intake::{router, Deps};
use lapor_lambda::Bootstrap;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::from_environment(&aws, &aws.stores()?, aws.pepper()?)?;
    lambda_http::run(router(deps)).await
}
