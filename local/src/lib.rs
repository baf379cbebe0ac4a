//! lapor-local: every Lapor HTTP function in one process on 127.0.0.1, on the embedded store
//! (kept in a file so a restart keeps reports) or on DynamoDB.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use lapor_core::{Clock, KeyPepper, SystemClock};
use lapor_store::{DynamoStore, MemStore, ReportStore, StoreError};
use rand::RngCore;
use tokio::net::TcpListener;

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
pub struct Config {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Where reports are kept.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,
    /// Folder for the embedded store's file and the local access-key pepper.
    #[arg(long, default_value = ".lapor")]
    pub data_dir: PathBuf,
    /// Keep the embedded store in memory only; nothing is written to disk.
    #[arg(long)]
    pub ephemeral: bool,
    /// DynamoDB table name (created if missing) with `--store dynamodb`.
    #[arg(long, env = "TABLE_NAME", default_value = "lapor-local")]
    pub table: String,
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
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("ACCESS_KEY_PEPPER must be at least 32 bytes")]
    Pepper,
}

/// The running pieces lapor-local is made of.
pub struct Local {
    pub router: Router,
    pub store: Arc<dyn ReportStore>,
}

/// Builds the store and the merged router of every HTTP function.
pub async fn build(config: &Config) -> Result<Local, StartError> {
    let store: Arc<dyn ReportStore> = match config.store {
        StoreKind::Memory if config.ephemeral => Arc::new(MemStore::new()),
        StoreKind::Memory => {
            create_dir(&config.data_dir)?;
            Arc::new(MemStore::persistent(config.data_dir.join("store.json"))?)
        }
        StoreKind::Dynamodb => {
            let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&shared), &config.table);
            store.create_table_if_missing().await?;
            Arc::new(store)
        }
    };
    let pepper = pepper(config)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(assemble(store, clock, pepper))
}

/// The merged router over a given store and clock: what tests use to pick their own.
pub fn assemble(store: Arc<dyn ReportStore>, clock: Arc<dyn Clock>, pepper: KeyPepper) -> Local {
    let intake = lapor_intake::routes(lapor_intake::Deps::new(store.clone(), clock, pepper));
    Local {
        router: lapor_http::finish(intake),
        store,
    }
}

/// Binds the address, printing where to find the server.
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

/// The pepper from `ACCESS_KEY_PEPPER`, or one kept in the data folder so idempotent replays
/// keep working across restarts, or (ephemeral) a fresh one.
fn pepper(config: &Config) -> Result<KeyPepper, StartError> {
    if let Ok(value) = std::env::var("ACCESS_KEY_PEPPER") {
        return KeyPepper::new(value.into_bytes()).ok_or(StartError::Pepper);
    }
    let fresh = || {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        bytes
    };
    if config.ephemeral {
        return KeyPepper::new(fresh()).ok_or(StartError::Pepper);
    }
    create_dir(&config.data_dir)?;
    let path = config.data_dir.join("pepper");
    let io = |source| StartError::DataDir {
        path: path.clone(),
        source,
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = hex::encode(fresh()).into_bytes();
            write_private(&path, &bytes).map_err(io)?;
            bytes
        }
        Err(e) => return Err(io(e)),
    };
    KeyPepper::new(bytes).ok_or(StartError::Pepper)
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

/// The welcome text: where the server is and one request to try.
pub fn banner(addr: SocketAddr, config: &Config) -> String {
    let store = match config.store {
        StoreKind::Memory if config.ephemeral => "embedded (in memory only)".to_string(),
        StoreKind::Memory => format!(
            "embedded, saved in {}",
            config.data_dir.join("store.json").display()
        ),
        StoreKind::Dynamodb => format!("DynamoDB table {}", config.table),
    };
    format!(
        "Lapor berjalan di / is running at http://{addr}\n\
         Penyimpanan / store: {store}\n\
         Coba / try:\n  \
         curl -s -X POST http://{addr}/reports -H 'Content-Type: application/json' \\\n    \
         -d '{{\"type\":\"pengaduan\",\"title\":\"Jalan berlubang di Jalan Cipto\",\"description\":\"Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara.\",\"category\":\"infrastruktur\",\"region\":\"32.74\",\"privacy\":\"publik\"}}'\n\
         Tekan Ctrl-C untuk berhenti / press Ctrl-C to stop."
    )
}
