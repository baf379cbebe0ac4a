//! Evidence files in lapor-local, without AWS.
//!
//! On the embedded store the files live in a folder ([`DirFiles`]) and the short-lived URLs that
//! intake hands out point at lapor-local itself:
//!
//! * `PUT /files/quarantine/{code}/{id}?type=…&size=…&expires=…&sig=…` takes the upload, checked
//!   against its signature, expiry, `Content-Type` and length before a byte is written, and then
//!   runs the evidence function on it in-process (as S3's event would in AWS), retrying as Lambda
//!   would; what still fails is listed at `GET /dev/dead-letters`.
//! * `GET /files/evidence/{code}/{id}?type=…&expires=…&sig=…` serves the clean copy as a
//!   download.
//!
//! Both are signed URLs, so they are served on any address (not only loopback, unlike `/dev/`).
//!
//! With `--store dynamodb` the files are in an S3 bucket on the same endpoint ([`S3Files`]): the
//! URLs are presigned S3 requests and these routes see nothing. An upload to moto raises no
//! event, so nothing processes it on its own: `POST /dev/uploads/{code}/{id}` runs the evidence
//! function on it (what the EventBridge event does in AWS). The same route re-runs a failed
//! processing on the embedded store.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lapor_core::{AttachmentId, TrackingCode};
use lapor_evidence_function::{handle_upload, Handled};
use lapor_files::{
    download_name, evidence_key, quarantine_key, DirFiles, EvidenceFiles, S3Files, UrlCheck,
};
use lapor_http::ApiError;
use serde_json::{json, Value};

use crate::consumers::{DeadLetter, DeadLetters};

/// Where lapor-local keeps evidence files.
#[derive(Clone)]
pub enum EvidenceStorage {
    /// A folder, reached through lapor-local's own `/files/` routes; each upload is processed
    /// in-process as soon as it is stored.
    Folder(Arc<LocalFolder>),
    /// An S3 bucket (moto or AWS); uploads are processed on `POST /dev/uploads/{code}/{id}`.
    Bucket(Arc<S3Files>),
}

impl EvidenceStorage {
    /// The evidence files as intake and the evidence function use them.
    pub fn files(&self) -> Arc<dyn EvidenceFiles> {
        match self {
            EvidenceStorage::Folder(folder) => folder.files.clone(),
            EvidenceStorage::Bucket(bucket) => bucket.clone(),
        }
    }
}

/// A [`DirFiles`], and the temporary folder it lives in (removed when the last route using it
/// is dropped) when lapor-local runs `--ephemeral`.
pub struct LocalFolder {
    pub files: Arc<DirFiles>,
    pub root: PathBuf,
    _scratch: Option<Scratch>,
}

impl LocalFolder {
    /// Files kept under `root`, which is created readable by its owner only (evidence can
    /// identify a reporter until it is cleaned).
    pub fn keep(
        root: PathBuf,
        base_url: &str,
        secret: Vec<u8>,
    ) -> Result<LocalFolder, std::io::Error> {
        create_private_dir(&root)?;
        Ok(LocalFolder {
            files: Arc::new(DirFiles::new(&root, base_url, secret)),
            root,
            _scratch: None,
        })
    }

    /// Files in a fresh folder under the system's temporary folder, removed when lapor-local
    /// stops (not after a crash or `kill -9`).
    pub fn temporary(base_url: &str, secret: Vec<u8>) -> Result<LocalFolder, std::io::Error> {
        let root = std::env::temp_dir().join(format!(
            "lapor-local-evidence-{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let mut folder = LocalFolder::keep(root.clone(), base_url, secret)?;
        folder._scratch = Some(Scratch(root));
        Ok(folder)
    }
}

/// A folder removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %self.0.display(), error = %e, "cannot remove the temporary evidence folder");
            }
        }
    }
}

fn create_private_dir(path: &FsPath) -> std::io::Result<()> {
    std::fs::create_dir_all(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[derive(Clone)]
struct FileRoutes {
    folder: Arc<LocalFolder>,
    processing: Processing,
}

/// The evidence function as lapor-local runs it.
#[derive(Clone)]
pub(crate) struct Processing {
    pub deps: lapor_evidence_function::Deps,
    pub dead_letters: Arc<DeadLetters>,
}

/// How often an upload is handed to the evidence function before it becomes a dead letter, and
/// the first pause between tries (doubling), as Lambda retries an event.
const ATTEMPTS: u32 = 3;
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

impl Processing {
    /// Runs the evidence function on the upload of `id`, retrying; gives up into the dead
    /// letters.
    async fn run(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        uploaded_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Handled, String> {
        let key = quarantine_key(code, id);
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=ATTEMPTS {
            match handle_upload(&self.deps, &key, uploaded_at).await {
                Ok(handled) => return Ok(handled),
                Err(error) if attempt == ATTEMPTS => {
                    tracing::error!(tracking_code = %code, attachment = %id, %error, "gave up on an upload; see /dev/dead-letters");
                    self.dead_letters.push(DeadLetter {
                        consumer: "evidence",
                        tracking_code: code.to_string(),
                        version: None,
                        attachment: Some(id.to_string()),
                        error: error.to_string(),
                        at: chrono::Utc::now().to_rfc3339(),
                    });
                    return Err(error.to_string());
                }
                Err(error) => {
                    tracing::warn!(tracking_code = %code, attachment = %id, attempt, %error, "evidence processing failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
        Err("no attempt made".into())
    }
}

/// The `/files/` routes (folder storage only; they need no token: the URL is the permission).
pub(crate) fn file_routes(storage: &EvidenceStorage, processing: Processing) -> Router {
    match storage {
        EvidenceStorage::Folder(folder) => Router::new()
            .route("/files/quarantine/{code}/{id}", put(upload))
            .route("/files/evidence/{code}/{id}", get(download))
            .with_state(FileRoutes {
                folder: folder.clone(),
                processing,
            }),
        EvidenceStorage::Bucket(_) => Router::new(),
    }
}

/// `POST /dev/uploads/{code}/{id}`: runs the evidence function on that upload now.
pub(crate) fn dev_routes(processing: Processing) -> Router {
    Router::new()
        .route("/dev/uploads/{code}/{id}", post(process_now))
        .with_state(processing)
}

/// A refused file URL: bilingual, and nothing written or read.
fn refused(check: UrlCheck) -> ApiError {
    match check {
        UrlCheck::BadSignature => ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "Tautan berkas tidak sah atau telah diubah. Minta tautan baru.",
            "The file link is not valid or has been altered. Ask for a new link.",
        ),
        UrlCheck::Expired => ApiError::new(
            StatusCode::FORBIDDEN,
            "url_expired",
            "Tautan berkas sudah kedaluwarsa. Minta tautan baru.",
            "The file link has expired. Ask for a new link.",
        ),
        UrlCheck::WrongContent => ApiError::new(
            StatusCode::BAD_REQUEST,
            "wrong_content",
            "Jenis atau ukuran berkas tidak sesuai dengan yang diminta untuk tautan ini.",
            "The file's type or size is not what this link was issued for.",
        ),
    }
}

/// `PUT /files/quarantine/{code}/{id}?…`: the upload itself.
async fn upload(
    State(routes): State<FileRoutes>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (Ok(Path((code, id))), Ok(Query(query))) = (path, query) else {
        return Err(refused(UrlCheck::BadSignature));
    };
    let files = &routes.folder.files;
    let key = format!("quarantine/{code}/{id}");
    let now = routes.processing.deps.clock.now();
    // The signature and expiry first: nothing of the body is read for a URL not ours.
    files
        .verify("PUT", &key, &query, None, now)
        .map_err(refused)?;
    let size: u64 = query
        .get("size")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| refused(UrlCheck::BadSignature))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The announced length, before reading: a larger body is refused unread.
    let announced = match headers.get(header::CONTENT_LENGTH) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| refused(UrlCheck::WrongContent))?,
        None => size,
    };
    files
        .verify("PUT", &key, &query, Some((content_type, announced)), now)
        .map_err(refused)?;
    let limit = usize::try_from(size).map_err(|_| refused(UrlCheck::WrongContent))?;
    // At most the signed size is read; more (e.g. a chunked body without a length) is refused.
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| refused(UrlCheck::WrongContent))?;
    let verified = files
        .verify(
            "PUT",
            &key,
            &query,
            Some((content_type, bytes.len() as u64)),
            now,
        )
        .map_err(refused)?;
    files
        .store_upload(&verified.code, &verified.id, &bytes)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    tracing::info!(tracking_code = %verified.code, attachment = %verified.id, size = bytes.len(), "upload received");
    // What S3's event starts in AWS: the evidence function, in the background.
    let processing = routes.processing.clone();
    let (code, id) = (verified.code.clone(), verified.id.clone());
    tokio::spawn(async move {
        if let Ok(handled) = processing.run(&code, &id, now).await {
            tracing::info!(tracking_code = %code, attachment = %id, ?handled, "upload processed");
        }
    });
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": verified.id.as_str(),
            "status": "processing",
            "message": "Berkas diterima dan sedang diperiksa.",
            "message_en": "File received; it is being checked.",
        })),
    )
        .into_response())
}

/// `GET /files/evidence/{code}/{id}?…`: the clean copy, as a download.
async fn download(
    State(routes): State<FileRoutes>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (Ok(Path((code, id))), Ok(Query(query))) = (path, query) else {
        return Err(refused(UrlCheck::BadSignature));
    };
    let files = &routes.folder.files;
    let now = routes.processing.deps.clock.now();
    let verified = files
        .verify("GET", &format!("evidence/{code}/{id}"), &query, None, now)
        .map_err(refused)?;
    let Some(bytes) = files
        .read_clean(&verified.code, &verified.id)
        .await
        .map_err(|e| ApiError::internal(&e))?
    else {
        tracing::info!(
            key = evidence_key(&verified.code, &verified.id),
            "no clean file"
        );
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "file_not_found",
            "Berkas tidak ditemukan.",
            "File not found.",
        ));
    };
    let name = download_name(&verified.code, &verified.id, verified.file_type);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(verified.file_type.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /dev/uploads/{code}/{id}`: what the upload event does in AWS, on demand.
async fn process_now(
    State(processing): State<Processing>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let parsed = path.ok().and_then(|Path((code, id))| {
        Some((
            TrackingCode::parse(&code).ok()?,
            AttachmentId::parse(&id).ok()?,
        ))
    });
    let Some((code, id)) = parsed else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Kode laporan atau lampiran tidak dikenal.",
            "Unknown report code or attachment.",
        ));
    };
    let now = processing.deps.clock.now();
    let handled = processing.run(&code, &id, now).await.map_err(|error| {
        ApiError::internal(&format!(
            "evidence processing of {code}/{id} failed: {error}"
        ))
    })?;
    let outcome = match handled {
        Handled::Ready { file_type, size } => json!({
            "outcome": "ready",
            "content_type": file_type.content_type(),
            "size": size,
        }),
        Handled::Rejected(reason) => json!({
            "outcome": "rejected",
            "rejection": {
                "code": reason.code(),
                "message": reason.message().id,
                "message_en": reason.message().en,
            },
        }),
        Handled::Ignored => json!({
            "outcome": "ignored",
            "message": "Tidak ada unggahan yang menunggu untuk lampiran ini.",
            "message_en": "No upload is waiting for this attachment.",
        }),
    };
    Ok(Json(outcome))
}
