//! Lambda entry point: builds clients once, reads configuration, and serves the portal's and
//! the officer console's pages.

use std::sync::Arc;

use lapor_core::{Deadlines, SystemClock};
use lapor_lambda::{read_secret, required, Bootstrap};
use lapor_web::console::{CognitoSettings, CognitoSignIn, ConsoleDeps, SettingsLoader, SignIn};
use lapor_web::{router, Deps};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let aws = Bootstrap::start().await;
    // One store set and one evidence bucket for the portal and the console: each client built
    // once per start.
    let stores = aws.stores()?;
    // Most of the portal's requests are pages that never need the secret.
    let intake = lapor_intake::Deps::from_environment(&aws, &stores, aws.pepper_on_first_use()?)?;
    let mailer = aws.mailer()?.map(|m| m as Arc<dyn lapor_notifier::Mailer>);
    let officer = lapor_officer::Deps::new(&stores, Arc::new(SystemClock), Deadlines::indonesia());
    let officer = match intake.files.clone() {
        Some(files) => officer.with_files(files, intake.max_file_bytes),
        None => officer,
    };
    // Token and key requests never follow a redirect: an answer from anywhere but Cognito is
    // an error, not a place to send the client's secret next.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let sign_in = SignIn::Cognito(Arc::new(CognitoSignIn::new(cognito_settings(&aws)?, http)));
    let deps = Deps::new(intake, true)
        .with_directory(stores.directory)
        .with_mailer(mailer)
        .with_console(ConsoleDeps { officer, sign_in });
    lambda_http::run(router(deps)).await
}

/// The console's Cognito settings: the managed login's domain and the pool's issuer from the
/// environment, the app client's id and secret from the secret named by
/// `CONSOLE_SIGN_IN_SECRET`, read on the first sign-in rather than at every cold start.
fn cognito_settings(aws: &Bootstrap) -> Result<SettingsLoader, lambda_http::Error> {
    let domain = required("CONSOLE_AUTH_DOMAIN")?;
    let issuer = required("CONSOLE_ISSUER")?;
    let secret = required("CONSOLE_SIGN_IN_SECRET")?;
    let secrets = aws.secrets();
    Ok(Arc::new(move || {
        let (domain, issuer, secret, secrets) = (
            domain.clone(),
            issuer.clone(),
            secret.clone(),
            secrets.clone(),
        );
        Box::pin(async move {
            let json = read_secret(&secrets.client(), &secret, "console sign-in")
                .await
                .map_err(|e| e.to_string())?;
            CognitoSettings::from_secret_json(&json, &domain, &issuer).map_err(|e| e.to_string())
        })
    }))
}
