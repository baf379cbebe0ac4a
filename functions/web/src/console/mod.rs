//! The officer console: agencies and the central admin work their reports in a browser, on the
//! same origin as the API.
//!
//! Like the portal, every page is a request to the API made in-process — here the officer
//! routes, called with the signed-in officer's verified claims exactly where API Gateway's JWT
//! authorizer puts them — so the console can do everything the officer API allows and nothing it
//! forbids: a refusal on a page is the API's refusal.
//!
//! Signing in ([`auth`]) is Cognito's managed login in AWS and a local page in lapor-local. The
//! tokens stay on the server side of the browser: in `HttpOnly` cookies scoped to `/console`
//! that no script can read, without an expiry date, so they end with the browser session.

mod auth;
pub mod cognito;
mod dashboard;
mod inbox;
mod report;
mod shell;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use lapor_core::{AgencyId, Role};

pub use auth::Staff;
pub use cognito::{Cognito, CognitoSettings};

use crate::Web;

/// lapor-local's sign-in: tokens it signs and verifies itself.
pub trait LocalSignIn: Send + Sync {
    /// A token for `subject`, an officer of `agency` with `role`.
    fn issue(&self, subject: &str, agency: &AgencyId, role: Role) -> Result<String, String>;
    /// The claims of a token this sign-in issued and that has not expired.
    fn verify(&self, token: &str) -> Option<HashMap<String, String>>;
}

/// Reads the console's Cognito settings (the app client's id and secret live in Secrets
/// Manager): called once, on the first sign-in, so a cold start of the portal does not wait
/// for it.
pub type SettingsLoader = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<CognitoSettings, String>> + Send>> + Send + Sync,
>;

/// Cognito, set up on first use.
pub struct CognitoSignIn {
    load: SettingsLoader,
    http: reqwest::Client,
    ready: tokio::sync::OnceCell<Cognito>,
}

impl CognitoSignIn {
    pub fn new(load: SettingsLoader, http: reqwest::Client) -> Self {
        Self {
            load,
            http,
            ready: tokio::sync::OnceCell::new(),
        }
    }

    /// The client, reading its settings the first time; a failed read is tried again on the
    /// next request.
    async fn client(&self) -> Option<&Cognito> {
        self.ready
            .get_or_try_init(|| async {
                let settings = (self.load)().await?;
                Cognito::new(settings, self.http.clone()).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| tracing::error!(error = %e, "console sign-in settings unavailable"))
            .ok()
    }
}

/// How officers sign in.
#[derive(Clone)]
pub enum SignIn {
    /// lapor-local on loopback: a page listing the directory's agencies and roles.
    Local(Arc<dyn LocalSignIn>),
    /// AWS: the user pool's managed login (authorization code with PKCE).
    Cognito(Arc<CognitoSignIn>),
}

/// What the console needs besides the portal's dependencies.
#[derive(Clone)]
pub struct ConsoleDeps {
    /// The officer function's dependencies: its routes are called in-process.
    pub officer: lapor_officer::Deps,
    pub sign_in: SignIn,
}

/// The console's part of the web state.
pub(crate) struct Console {
    api: crate::api::Api,
    sign_in: SignIn,
    directory: Arc<dyn lapor_store::AgencyDirectory>,
}

impl Console {
    /// The officer API's answer to `staff` reading `path`.
    pub(crate) async fn read(&self, staff: &Staff, path: &str) -> crate::api::Answer {
        self.api
            .call(&staff.caller(), axum::http::Method::GET, path, &[], None)
            .await
    }

    /// The officer API's answer to `staff` sending `body` to `path`.
    pub(crate) async fn send(
        &self,
        staff: &Staff,
        path: &str,
        body: &serde_json::Value,
    ) -> crate::api::Answer {
        self.api
            .call(
                &staff.caller(),
                axum::http::Method::POST,
                path,
                &[],
                Some(body),
            )
            .await
    }

    pub(crate) fn new(deps: ConsoleDeps) -> Self {
        Console {
            directory: deps.officer.directory.clone(),
            api: crate::api::Api::over(lapor_officer::routes(deps.officer)),
            sign_in: deps.sign_in,
        }
    }
}

/// The console routes' state: the portal's, and the console, which they exist only with.
#[derive(Clone)]
pub(crate) struct Desk {
    pub(crate) web: Web,
    pub(crate) console: Arc<Console>,
}

impl axum::extract::FromRef<Desk> for Web {
    fn from_ref(desk: &Desk) -> Web {
        desk.web.clone()
    }
}

/// The console's pages, for merging into the portal's router (which adds the language, the
/// CSRF token and the security headers).
pub(crate) fn routes(web: Web, console: Arc<Console>) -> Router<Web> {
    Router::<Desk>::new()
        .route("/console", get(auth::home))
        .route("/console/", get(auth::home))
        .route(
            "/console/masuk",
            get(auth::sign_in).post(auth::sign_in_locally),
        )
        .route("/console/callback", get(auth::callback))
        .route("/console/kotak-masuk", get(inbox::inbox))
        .route("/console/triase", get(inbox::triage))
        .route("/console/dasbor", get(dashboard::page))
        .route("/console/laporan/{code}", get(report::page))
        .route(
            "/console/laporan/{code}/tindak-lanjut",
            post(report::follow_up).layer(axum::extract::DefaultBodyLimit::max(
                crate::FORM_MAX_BYTES + 64 * 1024,
            )),
        )
        .route("/console/laporan/{code}/teruskan", post(report::forward))
        .route(
            "/console/laporan/{code}/kembalikan",
            post(report::give_back),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            web.clone(),
            auth::session,
        ))
        // Signing out needs no session, and must work however the session stands: a refresh
        // under way (whose new cookies would come after the cleared ones) or a Cognito that
        // cannot be asked must not keep anyone signed in.
        .route("/console/keluar", post(auth::sign_out))
        .with_state(Desk { web, console })
}
