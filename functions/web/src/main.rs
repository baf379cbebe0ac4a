//! Lambda entry point: builds clients once, reads configuration, and serves the portal's pages.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_intake::{ClientLimit, Deps as IntakeDeps};
use lapor_lambda::{number, replies_per_day, Bootstrap};
use lapor_web::{router, Deps};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    let (files, max_file_bytes) = aws.evidence()?;
    let stores = aws.stores()?;
    let intake = IntakeDeps::new(
        &stores,
        Arc::new(SystemClock),
        Deadlines::indonesia(),
        aws.pepper().await?,
    )
    .with_replies_per_day(replies_per_day()?)
    .with_client_limit(ClientLimit::per_hour(number("CLIENT_WRITES_PER_HOUR", 0)?))
    .with_files(files, max_file_bytes);
    let mailer = aws.mailer()?.map(|m| m as Arc<dyn lapor_notifier::Mailer>);
    let deps = Deps::new(intake, true)
        .with_directory(stores.directory.clone())
        .with_mailer(mailer);
    lambda_http::run(router(deps)).await
}
