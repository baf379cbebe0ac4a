//! What the intake and officer functions share about evidence: the answers for a file that may
//! not be attached, and the one way a place for a file is reserved and its upload offered.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use lapor_core::{AttachmentId, Report, UploadRequest, Uploader};
use lapor_files::{EvidenceFiles, SignedUrl};
use lapor_store::{until_written, Attempt, Reports};
use serde_json::{json, Value};
use std::future::Future;

use crate::ApiError;

/// Attachments are offered only where the deployment has somewhere to put them.
pub fn evidence_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "evidence_unavailable",
        "Lampiran belum dapat diterima saat ini.",
        "Attachments cannot be accepted at the moment.",
    )
}

/// A file that may not be attached now: `409` with the reason.
fn attach_refused(e: &lapor_core::AttachError) -> ApiError {
    let message = e.message();
    let mut error = ApiError::new(StatusCode::CONFLICT, e.code(), message.id, message.en);
    if let lapor_core::AttachError::TooMany { max } = e {
        error = error.with_extra(json!({ "max": max }));
    }
    error
}

/// The `201` answer to an attachment request: where and how to upload, and until when.
fn upload_offer(id: &AttachmentId, upload: &SignedUrl) -> Value {
    let expires_at = upload
        .expires_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "id": id.as_str(),
        "status": "processing",
        "upload": {
            "url": upload.url,
            "method": upload.method,
            "headers": upload.headers,
        },
        "expires_at": expires_at,
    })
}

/// Reserves a place for a file on the report that `load` reads (with who uploads it) and
/// answers `201` with its upload offer. The URL is signed first (no network is involved), then
/// the report's next version is written: a refusal or a failure leaves nothing written. A write
/// that loses a race with another (routing, an evidence outcome) reads the report again and
/// decides again, so a file attached just after the report is filed is not refused for it.
pub async fn offer_upload<Fut>(
    files: &dyn EvidenceFiles,
    reports: &dyn Reports,
    mut load: impl FnMut() -> Fut,
    request: UploadRequest,
    now: DateTime<Utc>,
) -> Result<Response, ApiError>
where
    Fut: Future<Output = Result<(Report, Uploader), ApiError>>,
{
    let id = AttachmentId::generate(now, &mut rand::rng());
    let id = &id;
    let (report, upload) = until_written(|| {
        let loading = load();
        async move {
            let (report, uploader) = loading.await?;
            let next = report
                .attach(id.clone(), uploader, request, now)
                .map_err(|e| attach_refused(&e))?;
            let upload = files
                .upload_url(
                    &report.tracking_code,
                    id,
                    request.file_type,
                    request.size,
                    now,
                )
                .await
                .map_err(|e| ApiError::internal(&e))?;
            let write = reports.update_report(&report, &next, &[]).await;
            Ok::<_, ApiError>(Attempt::after(write, || (report, upload))?)
        }
    })
    .await?;
    tracing::info!(
        tracking_code = %report.tracking_code,
        attachment = %id,
        file_type = request.file_type.content_type(),
        size = request.size,
        "upload offered"
    );
    let mut response = (StatusCode::CREATED, Json(upload_offer(id, &upload))).into_response();
    // The URL is a bearer credential for minutes: no cache may keep it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
