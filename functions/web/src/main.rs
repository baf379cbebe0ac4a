//! Lambda entry point: builds clients once, reads configuration, and serves the portal's pages.

use std::sync::Arc;

use lapor_lambda::Bootstrap;
use lapor_web::{router, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let intake = lapor_intake::Deps::from_environment(&aws).await?;
    let mailer = aws.mailer()?.map(|m| m as Arc<dyn lapor_notifier::Mailer>);
    let deps = Deps::new(intake, true)
        .with_directory(aws.stores()?.directory)
        .with_mailer(mailer);
    lambda_http::run(router(deps)).await
}
