//! The citizen portal and the officer console: server-rendered pages that work without
//! JavaScript, over the same rules as the JSON API.
//!
//! Every action a page takes (filing, tracking, replying, rating, attaching) is a request to the
//! intake routes, made in-process ([`api::Api`]), so the portal has no second copy of a rule: a
//! form's errors are the API's errors, shown beside their fields in the reader's language.

mod api;
mod assets;
pub mod console;
mod home;
mod pages;
mod public;
mod report;
mod session;
mod stats;
mod track;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use session::{Lang, CSP};

/// Everything a page may touch from outside: the intake function's dependencies (its routes
/// are called in-process) and a client to move uploads to the URL intake offers.
#[derive(Clone)]
pub struct Deps {
    pub intake: lapor_intake::Deps,
    /// Whether pages are served over HTTPS (cookies get `Secure` and `__Host-`; HSTS is sent).
    pub secure_cookies: bool,
    /// Moves a form's files to the upload URLs intake offers (presigned S3 in AWS).
    pub uploads: reqwest::Client,
    /// Where agencies' names come from (`None`: pages name agencies by their id).
    pub directory: Option<Arc<dyn lapor_store::AgencyDirectory>>,
    /// Sends the reporter their access key when they ask (`None`: e-mail is off).
    pub mailer: Option<Arc<dyn lapor_notifier::Mailer>>,
    /// The officer console at `/console/` (`None`: not served).
    pub console: Option<console::ConsoleDeps>,
}

impl Deps {
    pub fn new(intake: lapor_intake::Deps, secure_cookies: bool) -> Self {
        Self {
            intake,
            secure_cookies,
            uploads: reqwest::Client::new(),
            directory: None,
            mailer: None,
            console: None,
        }
    }

    /// Serves the officer console too.
    pub fn with_console(mut self, console: console::ConsoleDeps) -> Self {
        self.console = Some(console);
        self
    }

    /// E-mail through this mailer.
    pub fn with_mailer(mut self, mailer: Option<Arc<dyn lapor_notifier::Mailer>>) -> Self {
        self.mailer = mailer;
        self
    }

    /// Agencies named from this directory.
    pub fn with_directory(mut self, directory: Arc<dyn lapor_store::AgencyDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }
}

/// The portal's state: its dependencies and the intake routes it calls.
#[derive(Clone)]
pub struct Web {
    deps: Arc<Deps>,
    api: api::Api,
    console: Option<Arc<console::Console>>,
    /// Agency names already read: they change by an import, not by a report.
    names: Arc<Mutex<HashMap<String, String>>>,
}

impl Web {
    /// The names of these agencies, by id; an agency the directory does not know (or a
    /// directory that cannot be read) keeps its id.
    async fn agency_names<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> HashMap<String, String> {
        let mut names = HashMap::new();
        for id in ids {
            let known = self
                .names
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id)
                .cloned();
            let name = match known {
                Some(name) => name,
                None => match self.read_agency_name(id).await {
                    Some(name) => {
                        self.names
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(id.to_string(), name.clone());
                        name
                    }
                    None => id.to_string(),
                },
            };
            names.insert(id.to_string(), name);
        }
        names
    }

    async fn read_agency_name(&self, id: &str) -> Option<String> {
        let directory = self.deps.directory.as_deref()?;
        let id = lapor_core::AgencyId::parse(id).ok()?;
        match directory.agency(&id).await {
            Ok(agency) => agency.map(|a| a.name),
            Err(e) => {
                tracing::warn!(error = %e, "agency directory unavailable");
                None
            }
        }
    }

    fn csrf_cookie(&self) -> &'static str {
        if self.deps.secure_cookies {
            session::CSRF_COOKIE_SECURE
        } else {
            session::CSRF_COOKIE_LOCAL
        }
    }
}

/// The largest form the portal takes: its files travel through Lambda, whose request payload
/// is at most 6 MB once base64-encoded (about 4.4 MB of file).
pub const FORM_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The portal's pages, without fallbacks, so lapor-local can merge them with the API.
pub fn routes(deps: Deps) -> Router {
    let web = Web {
        api: api::Api::new(deps.intake.clone()),
        console: deps
            .console
            .clone()
            .map(|c| Arc::new(console::Console::new(c))),
        deps: Arc::new(deps),
        names: Arc::default(),
    };
    let console = match web.console.clone() {
        Some(console) => console::routes(web.clone(), console),
        None => Router::new(),
    };
    Router::new()
        .route("/", get(home::home))
        .route(
            "/lapor",
            get(report::form)
                .post(report::submit)
                .layer(DefaultBodyLimit::max(FORM_MAX_BYTES + 64 * 1024)),
        )
        .route("/lapor/kunci", post(track::send_key))
        .route("/lacak", get(track::form).post(track::track))
        .route("/lacak/balas", post(track::reply))
        .route("/lacak/nilai", post(track::rate))
        .route(
            "/lacak/berkas",
            post(track::attach).layer(DefaultBodyLimit::max(FORM_MAX_BYTES + 64 * 1024)),
        )
        .route("/laporan/{code}", get(public::report))
        .route("/statistik", get(stats::page))
        .route("/statistik.csv", get(stats::csv))
        .route("/assets/{file}", get(assets::serve))
        .merge(console)
        .route_layer(axum::middleware::from_fn_with_state(
            web.clone(),
            session::session,
        ))
        .with_state(web)
}

/// The portal as its own Lambda function: its pages, a page for unknown paths, request ids.
pub fn router(deps: Deps) -> Router {
    routes(deps)
        .fallback(pages::not_found_fallback)
        .layer(axum::middleware::from_fn(lapor_http::request_id))
}
