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
    lapor_http::offer_upload(
        files.as_ref(),
        deps.reports.as_ref(),
        &report,
        Uploader::Reporter,
        request,
        now,
    )
    .await
}
