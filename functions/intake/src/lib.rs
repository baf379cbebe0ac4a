//! The citizen intake function: submitting reports, tracking them, and the category and region
//! lists a form needs. `router(deps)` is served by Lambda (`main.rs`), lapor-local and the tests.

mod client_limit;
mod directory;
mod evidence;
mod open311;
mod reporter;
mod schema;
mod stats;
mod submit;
mod view;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;
use lapor_core::{Clock, Deadlines};
use lapor_store::{Marks, PartnerKeys, Pepper, ReporterIdentity, Reports, Statistics, Stores};

pub use client_limit::ClientLimit;

/// What the intake handlers need from the outside world: reports, the reporter's identity (for
/// the reporter's own view only) and the published statistics.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub statistics: Arc<dyn Statistics>,
    /// Agencies' names, for Open311's `agency_responsible`.
    pub directory: Arc<dyn lapor_store::AgencyDirectory>,
    /// The per-client write counters.
    pub marks: Arc<dyn Marks>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
    /// The server secret: derives replayable access keys, Open311 tokens and rate-counter keys.
    pub pepper: Pepper,
    /// Idempotency keys whose first request is still being handled by this process.
    pub in_flight: Arc<Mutex<HashSet<String>>>,
    /// Replies one report takes from its reporter per local day (`REPLIES_PER_DAY`).
    pub replies_per_day: u32,
    /// Where evidence files go (`None`: attachments are not offered).
    pub files: Option<Arc<dyn lapor_files::EvidenceFiles>>,
    /// The largest evidence file accepted (`EVIDENCE_MAX_BYTES`).
    pub max_file_bytes: u64,
    /// Writing requests one client address may make per window (`CLIENT_WRITES_PER_HOUR`);
    /// `None`: no per-client limit.
    pub client_limit: Option<ClientLimit>,
    /// Open311 partners' API keys: who may post requests.
    pub partner_keys: Arc<dyn PartnerKeys>,
    /// Requests one partner key may post per window (`OPEN311_WRITES_PER_HOUR`); `None`: no
    /// per-key limit.
    pub partner_limit: Option<ClientLimit>,
}

impl Deps {
    pub fn new(
        stores: &Stores,
        clock: Arc<dyn Clock>,
        deadlines: Deadlines,
        pepper: impl Into<Pepper>,
    ) -> Self {
        Self {
            reports: stores.reports.clone(),
            identity: stores.identity.clone(),
            statistics: stores.statistics.clone(),
            directory: stores.directory.clone(),
            marks: stores.marks.clone(),
            clock,
            deadlines,
            pepper: pepper.into(),
            in_flight: Arc::default(),
            replies_per_day: lapor_core::lifecycle::DEFAULT_REPLIES_PER_DAY,
            client_limit: None,
            partner_keys: stores.partner_keys.clone(),
            partner_limit: ClientLimit::per_hour(DEFAULT_OPEN311_WRITES_PER_HOUR),
            files: None,
            max_file_bytes: lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Another daily reply cap than the default.
    pub fn with_replies_per_day(mut self, per_day: u32) -> Self {
        self.replies_per_day = per_day;
        self
    }

    /// Evidence attachments, in `files`, of at most `max_bytes` each.
    pub fn with_files(
        mut self,
        files: Arc<dyn lapor_files::EvidenceFiles>,
        max_bytes: u64,
    ) -> Self {
        self.files = Some(files);
        self.max_file_bytes = max_bytes;
        self
    }

    /// A per-client write limit (see [`ClientLimit`]).
    pub fn with_client_limit(mut self, limit: Option<ClientLimit>) -> Self {
        self.client_limit = limit;
        self
    }

    /// Another per-partner-key Open311 write limit than the default (`None`: none).
    pub fn with_partner_limit(mut self, limit: Option<ClientLimit>) -> Self {
        self.partner_limit = limit;
        self
    }
}

/// Open311 requests one partner key may post per hour unless `OPEN311_WRITES_PER_HOUR` says.
pub const DEFAULT_OPEN311_WRITES_PER_HOUR: u64 = 100;

impl Deps {
    /// Intake's dependencies as its Lambda function (and the portal's, which calls its routes)
    /// reads them: the evidence bucket and the limits from the environment, with `stores` (the
    /// portal shares one set with its console) and `pepper` (see
    /// [`lapor_lambda::Bootstrap::pepper`]).
    pub fn from_environment(
        aws: &lapor_lambda::Bootstrap,
        stores: &Stores,
        pepper: Pepper,
    ) -> Result<Self, lambda_http::Error> {
        let (files, max_file_bytes) = aws.evidence()?;
        Ok(Deps::new(
            stores,
            Arc::new(lapor_core::SystemClock),
            Deadlines::indonesia(),
            pepper,
        )
        .with_replies_per_day(lapor_lambda::replies_per_day()?)
        .with_client_limit(ClientLimit::per_hour(lapor_lambda::number(
            "CLIENT_WRITES_PER_HOUR",
            0,
        )?))
        .with_partner_limit(ClientLimit::per_hour(lapor_lambda::number(
            "OPEN311_WRITES_PER_HOUR",
            DEFAULT_OPEN311_WRITES_PER_HOUR,
        )?))
        .with_files(files, max_file_bytes))
    }
}

/// The intake routes, without fallbacks, so lapor-local can merge them with other functions'.
pub fn routes(deps: Deps) -> Router {
    described()
        .route("/openapi.json", get(openapi_json))
        .route(
            "/open311/v2/{file}",
            get(open311::resource).post(open311::submit),
        )
        .route("/open311/v2/tokens/{file}", get(open311::token))
        .route("/open311/v2/services/{file}", get(open311::service))
        .route("/open311/v2/requests/{file}", get(open311::request))
        .route_layer(axum::middleware::from_fn_with_state(
            deps.clone(),
            client_limit::limit,
        ))
        .with_state(deps)
}

lapor_http::described_routes! {
    /// The described routes, each at its `#[utoipa::path]` annotation's path and methods: the
    /// router and the OpenAPI document are this one list. Open311 has its own specification and
    /// is not in it.
    fn described() -> Router<Deps>;
    /// Intake's part of the OpenAPI document (lapor-local merges it with the officer routes').
    pub fn openapi() -> OpenApi;
    [
        submit::submit,
        view::view,
        reporter::reply,
        reporter::rate,
        evidence::attach,
        stats::stats,
        directory::categories,
        directory::regions,
    ]
}

/// The whole API's OpenAPI document as `docs/openapi.json` holds it; a test in lapor-local keeps
/// that file equal to what the annotations generate.
const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");

async fn openapi_json() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        OPENAPI_JSON,
    )
}

/// The intake function as Lambda serves it: its routes plus JSON answers for unknown paths and
/// wrong methods, and request ids.
pub fn router(deps: Deps) -> Router {
    lapor_http::finish(routes(deps))
}
