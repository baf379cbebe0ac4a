//! lapor-local: every Lapor HTTP function in one process on 127.0.0.1, on the embedded store
//! (kept in a file so a restart keeps reports) or on DynamoDB. The stream consumers (routing,
//! statistics, notify) run in-process after each write and retry as Lambda would; what still
//! fails is listed at `GET /dev/dead-letters`; notifications and e-mails land in an outbox at
//! `GET /dev/outbox`.
//!
//! Evidence files need no AWS either: on the embedded store they live under
//! `<data-dir>/evidence` (with `--ephemeral`, in a temporary folder removed when lapor-local
//! stops), the upload and download URLs point at lapor-local itself, and each upload is cleaned
//! in-process right after it arrives (see [`files`]). With `--store dynamodb` they are in an S3
//! bucket on the same endpoint.

mod consumers;
pub mod files;
mod partners;
mod sms;
mod tokens;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use lapor_core::permission::{Action, Relation};
use lapor_core::{AgencyId, Clock, Deadlines, KeyPepper, SystemClock};
use lapor_notifier::{Mailer, Outbox};
use lapor_store::{DynamoStore, MemStore, StoreError, Stores};
use rand::RngCore;
use tokio::net::TcpListener;

pub use files::{EvidenceStorage, LocalFolder};
pub use tokens::LocalTokens;

/// The central admin's agency in the bundled directory.
pub const CENTRAL_AGENCY: &str = "kemenpanrb";
/// The external oversight body in the bundled directory.
pub const OVERSIGHT_AGENCY: &str = "ombudsman-ri";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// The embedded store, saved to `<data-dir>/store.json`.
    Memory,
    /// A DynamoDB table (endpoint and credentials from the usual AWS environment variables).
    Dynamodb,
}

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "lapor-local",
    about = "Run Lapor on this machine / Jalankan Lapor secara lokal"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print the API's OpenAPI 3.1 document (what docs/openapi.json must hold).
    Openapi,
    /// Print an officer token that this lapor-local accepts (Authorization: Bearer …).
    Token {
        /// The officer's agency id (see the agency directory).
        #[arg(long)]
        agency: String,
        /// admin_pusat, agency_admin or officer.
        #[arg(long)]
        role: String,
        /// The officer's user id.
        #[arg(long, default_value = "petugas-lokal")]
        subject: String,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 12)]
        hours: i64,
        /// Folder holding the local signing secret (as for serving).
        #[arg(long, default_value = ".lapor")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Where reports are kept.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// Folder for the embedded store's file and the local secrets.
    #[arg(long, default_value = ".lapor")]
    pub data_dir: PathBuf,
    /// Keep the embedded store in memory only; nothing is written to disk.
    #[arg(long)]
    pub ephemeral: bool,
    /// DynamoDB table name (created if missing) with `--store dynamodb`.
    #[arg(long, env = "TABLE_NAME", default_value = "lapor-local")]
    pub table: String,
    /// S3 bucket for evidence files (created if missing) with `--store dynamodb`.
    #[arg(long, env = "EVIDENCE_BUCKET", default_value = "lapor-local-evidence")]
    pub bucket: String,
    /// Agency directory to load on start (default: the bundled Jawa Barat sample).
    #[arg(long)]
    pub agencies: Option<PathBuf>,
    /// Serve the `/dev/` routes (simulated SMS from any phone, the outbox, the dead letters) even
    /// when listening on an address other than loopback. Without it they answer 404 there: anyone
    /// who can reach them can text as any phone and read every notification.
    #[arg(long)]
    pub dev_routes: bool,
}

impl Config {
    /// Whether the `/dev/` routes are served (see [`Config::dev_routes`]).
    pub fn serves_dev_routes(&self) -> bool {
        self.dev_routes || self.addr.ip().is_loopback()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot prepare {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("agency directory: {0}")]
    Agencies(#[from] lapor_admin::ImportError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("ACCESS_KEY_PEPPER must be at least 32 bytes")]
    Pepper,
    #[error("evidence bucket {bucket}: {message}")]
    Bucket { bucket: String, message: String },
}

fn bundled_agency(id: &str) -> AgencyId {
    // Both ids are constants of the bundled directory, checked by its tests.
    AgencyId::parse(id).unwrap_or_else(|e| panic!("bundled agency id {id}: {}", e.message.en))
}

/// The running pieces lapor-local is made of.
pub struct Local {
    pub router: Router,
    /// The store's ports, with report writes announced to the stream consumers.
    pub stores: Stores,
    pub outbox: Arc<Outbox>,
    /// Where lapor-local "sends" e-mail: the same outbox, listed under `mail` at
    /// `GET /dev/outbox`. Hand it to anything that mails a reporter.
    pub mailer: Arc<dyn Mailer>,
    pub tokens: LocalTokens,
    /// Where evidence files are kept (`None`: attachments are not offered).
    pub evidence: Option<EvidenceStorage>,
}

/// Builds the store and the evidence files, loads the agency directory and assembles every
/// function. `config.addr` must be the address actually served (not port 0): the local file URLs
/// point there.
pub async fn build(config: &Config) -> Result<Local, StartError> {
    let (stores, evidence) = match config.store {
        StoreKind::Memory if config.ephemeral => {
            (Stores::of(Arc::new(MemStore::new())), folder(config, None)?)
        }
        StoreKind::Memory => {
            create_dir(&config.data_dir)?;
            (
                Stores::of(Arc::new(MemStore::persistent(
                    config.data_dir.join("store.json"),
                )?)),
                folder(config, Some(evidence_dir(config)))?,
            )
        }
        StoreKind::Dynamodb => {
            let shared = lapor_lambda::aws_config().await;
            let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&shared), &config.table);
            store.create_table_if_missing().await?;
            create_bucket_if_missing(&shared, &config.bucket).await?;
            (
                Stores::of(Arc::new(store)),
                EvidenceStorage::Bucket(Arc::new(lapor_files::S3Files::new(
                    &shared,
                    &config.bucket,
                ))),
            )
        }
    };
    let directory = match &config.agencies {
        Some(path) => std::fs::read_to_string(path).map_err(|source| StartError::DataDir {
            path: path.clone(),
            source,
        })?,
        None => lapor_core::Directory::bundled_sample().to_string(),
    };
    lapor_admin::import_agencies(stores.directory.as_ref(), &directory).await?;
    let pepper = KeyPepper::new(secret(config, "pepper")?).ok_or(StartError::Pepper)?;
    let tokens = LocalTokens::new(secret(config, "jwt-secret")?);
    let mut local = assemble_with_files(
        stores,
        Arc::new(SystemClock),
        pepper,
        tokens,
        Some(evidence),
    );
    if !config.serves_dev_routes() {
        local.router = local
            .router
            .layer(axum::middleware::from_fn_with_state(DEV_ROUTES, refuse));
    }
    if !config.addr.ip().is_loopback() {
        local.router = local
            .router
            .layer(axum::middleware::from_fn_with_state(CONSOLE, refuse))
            .layer(axum::middleware::from_fn_with_state(PARTNER_KEYS, refuse));
    }
    Ok(local)
}

/// Where evidence files are kept on the embedded store (unless `--ephemeral`).
pub fn evidence_dir(config: &Config) -> PathBuf {
    config.data_dir.join("evidence")
}

/// Evidence files in `root` (or a temporary folder), on URLs of `http://<addr>` signed with the
/// local `files-secret` (kept apart from the pepper and the token secret).
fn folder(config: &Config, root: Option<PathBuf>) -> Result<EvidenceStorage, StartError> {
    let base_url = format!("http://{}", config.addr);
    let secret = secret(config, "files-secret")?;
    let folder = match root {
        Some(root) => LocalFolder::keep(root.clone(), &base_url, secret)
            .map_err(|source| StartError::DataDir { path: root, source })?,
        None => {
            LocalFolder::temporary(&base_url, secret).map_err(|source| StartError::DataDir {
                path: std::env::temp_dir(),
                source,
            })?
        }
    };
    Ok(EvidenceStorage::Folder(Arc::new(folder)))
}

/// Creates the evidence bucket when it does not exist yet (as the table is).
async fn create_bucket_if_missing(
    shared: &aws_config::SdkConfig,
    bucket: &str,
) -> Result<(), StartError> {
    let failed = |e: &dyn std::fmt::Display| StartError::Bucket {
        bucket: bucket.to_string(),
        message: e.to_string(),
    };
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(shared.endpoint_url().is_some())
            .build(),
    );
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => return Ok(()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {}
        Err(e) => return Err(failed(&aws_sdk_s3::error::DisplayErrorContext(e))),
    }
    let mut create = s3.create_bucket().bucket(bucket);
    // us-east-1 takes no location constraint; every other region needs its own.
    if let Some(region) = shared.region().filter(|r| r.as_ref() != "us-east-1") {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_ref(),
                ))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => Err(failed(&aws_sdk_s3::error::DisplayErrorContext(e))),
    }
}

/// Paths lapor-local does not serve on this address, and what the 404 says instead.
#[derive(Clone, Copy)]
struct Closed {
    covers: fn(&str) -> bool,
    id: &'static str,
    en: &'static str,
}

/// `/dev/…` beyond loopback without `--dev-routes`: anyone who can reach them can text as any
/// phone and read every notification.
const DEV_ROUTES: Closed = Closed {
    covers: |path| path.starts_with("/dev/"),
    id: "Rute pengembangan (/dev/) hanya dilayani pada alamat loopback, atau dengan --dev-routes.",
    en: "Development routes (/dev/) are served only on a loopback address, or with --dev-routes.",
};

/// `/console/…` beyond loopback: its sign-in lets anyone who reaches it act as any agency and
/// role, so it is served to this computer only (not even with `--dev-routes`).
const CONSOLE: Closed = Closed {
    covers: |path| path == "/console" || path.starts_with("/console/"),
    id: "Konsol lokal (dengan halaman masuk lokal) hanya dilayani pada alamat loopback.",
    en: "The local console (with its local sign-in page) is served only on a loopback address.",
};

/// `/dev/partner-keys` beyond loopback: a partner key lets its holder file reports, so it is
/// issued to this computer only (not even with `--dev-routes`).
const PARTNER_KEYS: Closed = Closed {
    covers: |path| path == "/dev/partner-keys",
    id: "Kunci mitra Open311 hanya diterbitkan pada alamat loopback.",
    en: "Open311 partner keys are issued only on a loopback address.",
};

async fn refuse(
    axum::extract::State(closed): axum::extract::State<Closed>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if (closed.covers)(request.uri().path()) {
        return lapor_http::ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            closed.id,
            closed.en,
        )
        .into_response();
    }
    next.run(request).await
}

/// Every function over a given store and clock, with the stream consumers running: what the
/// tests use to pick their own store and time. Without evidence files: attachments are refused
/// (`503 evidence_unavailable`); see [`assemble_with_files`]. Must be called inside a Tokio
/// runtime.
pub fn assemble(
    stores: Stores,
    clock: Arc<dyn Clock>,
    pepper: KeyPepper,
    tokens: LocalTokens,
) -> Local {
    assemble_with_files(stores, clock, pepper, tokens, None)
}

/// [`assemble`] with evidence files: intake offers attachments, and the evidence function runs
/// in-process on each upload to a folder (`/files/` routes) or on
/// `POST /dev/uploads/{code}/{id}`. Must be called inside a Tokio runtime.
pub fn assemble_with_files(
    stores: Stores,
    clock: Arc<dyn Clock>,
    pepper: KeyPepper,
    tokens: LocalTokens,
    evidence: Option<EvidenceStorage>,
) -> Local {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stores = Stores {
        reports: Arc::new(consumers::Announcing {
            inner: stores.reports.clone(),
            changes: tx,
        }),
        ..stores
    };
    let outbox = Arc::new(Outbox::default());
    let dead_letters = Arc::new(consumers::DeadLetters::default());
    let deadlines = Deadlines::indonesia();
    tokio::spawn(consumers::run(
        rx,
        consumers::Consumers {
            routing: lapor_routing::Deps::new(&stores, clock.clone(), deadlines.clone()),
            stats: lapor_stats::Deps::new(&stores, clock.clone()),
            notify: lapor_notify::Deps::new(
                &stores,
                outbox.clone(),
                clock.clone(),
                bundled_agency(CENTRAL_AGENCY),
                bundled_agency(OVERSIGHT_AGENCY),
                pepper.clone(),
            )
            .with_mailer(outbox.clone()),
            dead_letters: dead_letters.clone(),
        },
    ));
    let sms = lapor_sms::Deps::new(
        &stores,
        outbox.clone(),
        clock.clone(),
        deadlines.clone(),
        pepper.clone(),
        lapor_sms::DEFAULT_HOURLY_LIMIT,
    );
    let mut intake_deps =
        lapor_intake::Deps::new(&stores, clock.clone(), deadlines.clone(), pepper);
    let mut processing = None;
    if let Some(storage) = &evidence {
        intake_deps = intake_deps.with_files(
            storage.files(),
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        );
        // The evidence function writes through the announcing stores, so notify sees new
        // evidence.
        processing = Some(files::Processing {
            deps: lapor_evidence_function::Deps::new(
                &stores,
                storage.files(),
                clock.clone(),
                lapor_evidence::Limits {
                    max_bytes: lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
                    ..lapor_evidence::Limits::default()
                },
            ),
            dead_letters: dead_letters.clone(),
        });
    }
    let mut officer_deps = lapor_officer::Deps::new(&stores, clock.clone(), deadlines.clone());
    if let Some(storage) = &evidence {
        officer_deps = officer_deps.with_files(
            storage.files(),
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        );
    }
    // The portal and the console call the same intake and officer routes in-process; plain HTTP
    // here, so no Secure cookies. The console's sign-in is local: see `CONSOLE`.
    let console = lapor_web::console::ConsoleDeps {
        officer: officer_deps.clone(),
        sign_in: lapor_web::console::SignIn::Local(Arc::new(tokens.clone())),
    };
    let web = lapor_web::routes(
        lapor_web::Deps::new(intake_deps.clone(), false)
            .with_directory(stores.directory.clone())
            .with_mailer(Some(outbox.clone()))
            .with_console(console),
    );
    let intake = lapor_intake::routes(intake_deps);
    let officer = lapor_officer::routes(officer_deps);
    let sweeper = lapor_escalation::Deps::new(&stores, clock, deadlines);
    tokio::spawn(sweep_every(sweeper.clone(), SWEEP_EVERY));
    let dev = Router::new()
        .route("/dev/outbox", get(show_outbox))
        .with_state(outbox.clone())
        .merge(
            Router::new()
                .route("/dev/dead-letters", get(show_dead_letters))
                .with_state(dead_letters),
        )
        .merge(
            Router::new()
                .route("/admin/sweep", axum::routing::post(sweep_now))
                .with_state(sweeper),
        )
        .merge(
            Router::new()
                .route("/dev/sms", axum::routing::post(sms::simulate))
                .with_state(sms),
        )
        .merge(
            Router::new()
                .route("/dev/partner-keys", axum::routing::post(partners::issue))
                .with_state(stores.partner_keys.clone()),
        );
    let (dev, file_routes) = match (&evidence, processing) {
        (Some(storage), Some(processing)) => (
            dev.merge(files::dev_routes(processing.clone())),
            files::file_routes(storage, processing),
        ),
        _ => (dev, Router::new()),
    };
    let routes = intake
        .merge(officer)
        .merge(dev)
        .layer(axum::middleware::from_fn_with_state(
            tokens.clone(),
            tokens::authenticate,
        ))
        // Signed URLs carry their own permission; an officer token has nothing to add there.
        .merge(file_routes)
        .merge(web);
    Local {
        router: lapor_http::finish(routes),
        stores,
        mailer: outbox.clone(),
        outbox,
        tokens,
        evidence,
    }
}

/// How often lapor-local sweeps for overdue reports on its own.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// A sweep may take this long before it leaves the rest for the next one.
const SWEEP_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

async fn sweep_every(deps: lapor_escalation::Deps, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let now = deps.clock.now();
        match lapor_escalation::sweep(&deps, now, std::time::Instant::now() + SWEEP_BUDGET).await {
            Ok(summary) if summary.scanned > 0 => tracing::info!(?summary, "sweep"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "sweep failed"),
        }
    }
}

/// `POST /admin/sweep` (central admin): one sweep now, or at `{"now": "2026-12-01T08:00+07:00"}`
/// to try deadlines without waiting for them.
async fn sweep_now(
    officer: lapor_http::auth::Officer,
    axum::extract::State(deps): axum::extract::State<lapor_escalation::Deps>,
    body: axum::body::Body,
) -> Result<Json<serde_json::Value>, lapor_http::ApiError> {
    officer.may(Action::RunSweep, Relation::Central)?;
    let now = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) if !bytes.is_empty() => {
            let parsed: Option<chrono::DateTime<chrono::FixedOffset>> = serde_json::from_slice::<
                serde_json::Value,
            >(&bytes)
            .ok()
            .and_then(|v| v.get("now").and_then(|n| n.as_str()).map(String::from))
            .and_then(|text| {
                chrono::DateTime::parse_from_rfc3339(&text)
                    .or_else(|_| chrono::DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M%:z"))
                    .ok()
            });
            parsed.map(|t| t.to_utc()).ok_or_else(|| {
                lapor_http::ApiError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    "invalid_time",
                    "Kolom `now` harus waktu ISO 8601, misalnya 2026-12-01T08:00+07:00.",
                    "The field `now` must be an ISO 8601 time such as 2026-12-01T08:00+07:00.",
                )
                .with_field("now")
            })?
        }
        _ => deps.clock.now(),
    };
    let summary =
        lapor_escalation::sweep(&deps, now, std::time::Instant::now() + SWEEP_BUDGET).await?;
    Ok(Json(
        serde_json::json!({ "now": now.to_rfc3339(), "summary": summary }),
    ))
}

async fn show_dead_letters(
    axum::extract::State(letters): axum::extract::State<Arc<consumers::DeadLetters>>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "dead_letters": letters.entries() }))
}

async fn show_outbox(
    axum::extract::State(outbox): axum::extract::State<Arc<Outbox>>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "sent": outbox.entries(), "mail": outbox.mails() }))
}

/// Binds the address.
pub async fn listen(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

fn create_dir(path: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(path).map_err(|source| StartError::DataDir {
        path: path.to_path_buf(),
        source,
    })
}

/// A local secret: `ACCESS_KEY_PEPPER` for the pepper when set; otherwise one kept in the data
/// folder (so idempotent replays and issued tokens survive restarts), or a fresh one when
/// ephemeral.
fn secret(config: &Config, name: &str) -> Result<Vec<u8>, StartError> {
    if name == "pepper" {
        if let Ok(value) = std::env::var("ACCESS_KEY_PEPPER") {
            return Ok(value.into_bytes());
        }
    }
    if config.ephemeral {
        return Ok(fresh_secret());
    }
    secret_in(&config.data_dir, name)
}

fn fresh_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes).into_bytes()
}

/// The secret kept in `<dir>/<name>`, created (readable by the owner only) when missing.
pub fn secret_in(dir: &Path, name: &str) -> Result<Vec<u8>, StartError> {
    create_dir(dir)?;
    let path = dir.join(name);
    let io = |source| StartError::DataDir {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = fresh_secret();
            write_private(&path, &bytes).map_err(io)?;
            Ok(bytes)
        }
        Err(e) => Err(io(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The welcome text: where the server is and requests to try.
pub fn banner(addr: SocketAddr, config: &Config) -> String {
    let store = match config.store {
        StoreKind::Memory if config.ephemeral => {
            "embedded (in memory only), evidence files in a temporary folder".to_string()
        }
        StoreKind::Memory => format!(
            "embedded, saved in {}, evidence files in {}",
            config.data_dir.join("store.json").display(),
            evidence_dir(config).display()
        ),
        StoreKind::Dynamodb => format!(
            "DynamoDB table {}, evidence files in S3 bucket {}",
            config.table, config.bucket
        ),
    };
    format!(
        "Lapor berjalan di / is running at http://{addr}\n\
         Penyimpanan / store: {store}\n\
         Coba / try:\n  \
         curl -s -X POST http://{addr}/reports -H 'Content-Type: application/json' \\\n    \
         -d '{{\"type\":\"pengaduan\",\"title\":\"Jalan berlubang di Jalan Cipto\",\"description\":\"Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara.\",\"category\":\"infrastruktur\",\"region\":\"32.74\",\"privacy\":\"publik\"}}'\n  \
         curl -s -X POST http://{addr}/dev/sms -H 'Content-Type: application/json' \\\n    \
         -d '{{\"from\":\"081234567890\",\"text\":\"LAPOR Jalan berlubang di Jl. Cipto, Kota Cirebon, sudah dua minggu\"}}'\n  \
         curl -s http://{addr}/dev/outbox\n\
         Portal warga / citizen portal: http://{addr}/ (buka di peramban / open in a browser)\n\
         Konsol petugas / officer console: http://{addr}/console/ (masuk lokal / local sign-in)\n\
         Token petugas / officer token: cargo run -p lapor-local -- token --agency kemenpanrb --role admin_pusat\n\
         Tekan Ctrl-C untuk berhenti / press Ctrl-C to stop."
    )
}

/// The whole API's OpenAPI document: intake's and the officer function's routes as their
/// annotations describe them, finished with the shared parts (`lapor_http::openapi::document`).
/// `docs/openapi.json` holds it pretty-printed with a final newline; the stack serves that file.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = lapor_intake::openapi();
    api.merge(lapor_officer::openapi());
    lapor_http::openapi::document(api)
}

/// [`openapi`] as `docs/openapi.json` holds it.
pub fn openapi_json() -> Result<String, serde_json::Error> {
    openapi().to_pretty_json().map(|json| json + "\n")
}
