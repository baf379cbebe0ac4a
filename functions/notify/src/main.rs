//! Lambda entry point: DynamoDB stream batches in, partial batch failures out.

use std::sync::Arc;

use lapor_core::SystemClock;
use lapor_lambda::{agency, number, run_stream, Bootstrap};
use lapor_notify::{handle_event, Deps, DEFAULT_SMS_DAILY_LIMIT};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lapor_lambda::Error> {
    let aws = Bootstrap::start().await;
    let deps = Deps::new(
        &aws.stores()?,
        aws.notifier()?,
        Arc::new(SystemClock),
        agency("CENTRAL_AGENCY_ID", None)?,
        agency("OVERSIGHT_AGENCY_ID", Some("ombudsman-ri"))?,
        aws.pepper_on_first_use()?,
    )
    .with_sms_daily_limit(number("SMS_DAILY_LIMIT", DEFAULT_SMS_DAILY_LIMIT)?);
    let deps = match aws.mailer()? {
        Some(mailer) => deps.with_mailer(mailer),
        None => deps,
    };
    let deps = &deps;
    run_stream(|event| async move { handle_event(deps, &event).await }).await
}
