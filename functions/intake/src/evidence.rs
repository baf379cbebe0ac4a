//! `POST /reports/{code}/attachments` with `X-Access-Key`: the reporter asks to attach a file.
//! The answer is a short-lived upload URL bound to the file's type and size; the file goes
//! straight to storage, never through this function, and is downloadable only once the evidence
//! function has checked it and removed its metadata.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use lapor_core::{UploadRequest, Uploader};
use lapor_http::{ApiError, JsonObject};

use crate::reporter::own_report;
use crate::Deps;

/// The reporter asks to attach a file; the answer is a short-lived upload URL.
#[utoipa::path(
    post,
    path = "/reports/{code}/attachments",
    tag = "reports",
    operation_id = "attach_evidence",
    summary = "Lampirkan bukti / Attach evidence",
    params(
        ("code" = String, Path, pattern = "^[0-9A-HJKMNP-TV-Z]{10}$", description = "Kode pelacakan / Tracking code"),
        ("X-Access-Key" = Option<String>, Header, description = "Kunci akses pelapor; tanpa itu atau salah: 404. / The reporter's access key; missing or wrong: 404."),
    ),
    request_body(content = lapor_http::openapi::AttachmentRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Unggah ke `upload.url` / Upload to `upload.url`", body = lapor_http::openapi::UploadOffer,
         headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "Tidak ada atau kunci salah / None, or a wrong key", body = lapor_http::openapi::ErrorBody),
        (status = 409, description = "Lampiran tidak dapat ditambahkan sekarang / No attachment may be added now", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn attach(
    State(deps): State<Deps>,
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let code = lapor_http::code_in(code)?;
    let Some(files) = deps.files.clone() else {
        return Err(lapor_http::evidence_unavailable());
    };
    let body = JsonObject::read(&headers, body).await?;
    let request = UploadRequest::parse(&body.object, deps.max_file_bytes)?;
    let now = deps.clock.now();
    let (deps, code, headers) = (&deps, &code, &headers);
    lapor_http::offer_upload(
        files.as_ref(),
        deps.reports.as_ref(),
        || async move { Ok((own_report(deps, code, headers).await?, Uploader::Reporter)) },
        request,
        now,
    )
    .await
}
