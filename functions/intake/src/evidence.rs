//! `POST /reports/{code}/attachments` with `X-Access-Key`: the reporter asks to attach a file.
//! The answer is a short-lived upload URL bound to the file's type and size; the file goes
//! straight to storage, never through this function, and is downloadable only once the evidence
//! function has checked it and removed its metadata.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lapor_core::{AttachmentId, UploadRequest, Uploader};
use lapor_http::{ApiError, JsonObject};

use crate::reporter::own_report;
use crate::Deps;

pub async fn attach(
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(files) = deps.files.clone() else {
        return Err(lapor_http::evidence_unavailable());
    };
    let body = JsonObject::read(&headers, body).await?;
    let request = UploadRequest::parse(&body.object, deps.max_file_bytes)?;
    let report = own_report(&deps, &code, &headers).await?;
    let now = deps.clock.now();
    let id = AttachmentId::generate(now, &mut rand::rng());
    let next = report
        .attach(id.clone(), Uploader::Reporter, request, now)
        .map_err(|e| lapor_http::attach_refused(&e))?;
    // Signing needs no network: a failure here leaves nothing written.
    let upload = files
        .upload_url(
            &report.tracking_code,
            &id,
            request.file_type,
            request.size,
            now,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    deps.reports.update_report(&report, &next, &[]).await?;
    tracing::info!(tracking_code = %report.tracking_code, attachment = %id, file_type = request.file_type.content_type(), size = request.size, "upload offered");
    let body = lapor_http::upload_offer(&id, &upload);
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
