//! `GET /reports/{code}`: the public view, or the reporter's own view with `X-Access-Key`.
//!
//! The public view never carries reporter identity, and a `rahasia` report has no public view
//! at all: it answers 404 exactly as a report that does not exist, so codes reveal nothing. A
//! wrong access key is also a 404, never a 403, for the same reason.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lapor_core::permission::{identity_visible, Viewer};
use lapor_core::{format_time, AccessKey, Event, Report, Reporter};
use lapor_http::{timeline_entry, ApiError};
use serde_json::{json, Value};

use crate::Deps;

const ACCESS_KEY_HEADER: &str = "x-access-key";

/// A report: the public view, or the reporter's own with the access key.
#[utoipa::path(
    get,
    path = "/reports/{code}",
    tag = "reports",
    operation_id = "view_report",
    summary = "Lihat laporan / View a report",
    description = "Tanpa kunci: tampilan publik (laporan `rahasia` menjawab 404). Dengan `X-Access-Key`: tampilan pelapor. Kunci yang salah juga 404. / Without a key: the public view (a `rahasia` report answers 404). With `X-Access-Key`: the reporter's view. A wrong key is 404 too.",
    params(
        ("code" = String, Path, pattern = "^[0-9A-HJKMNP-TV-Z]{10}$", description = "Kode pelacakan / Tracking code"),
        ("X-Access-Key" = Option<String>, Header, description = "Kunci akses pelapor / The reporter's access key"),
    ),
    responses(
        (status = 200, description = "Laporan / The report", body = crate::schema::ReportView,
         headers(("Cache-Control" = String, description = "`private, no-store`"))),
        (status = 404, description = "Tidak ada, rahasia, atau kunci salah / None, confidential, or a wrong key", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn view(
    State(deps): State<Deps>,
    code: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Response {
    let code = match lapor_http::code_in(code) {
        Ok(code) => code,
        Err(e) => return e.into_response(),
    };
    match read(&deps, &code, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn read(
    deps: &Deps,
    code: &lapor_core::TrackingCode,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let presented = headers
        .get(ACCESS_KEY_HEADER)
        .map(|v| AccessKey::presented(v.to_str().unwrap_or_default()));
    let Some(found) = deps.reports.report_with_timeline(code).await? else {
        return Err(ApiError::not_found());
    };
    let report = found.report;
    match presented {
        Some(key) if key.matches(&report.access_key_hash) => {
            let reporter = deps.identity.reporter(code).await?;
            let mut body = reporter_view(&report, reporter.as_ref(), &found.timeline);
            body["attachments"] = attachments(deps, &report, Viewer::Reporter).await?;
            Ok(private(Json(body)))
        }
        Some(_) => Err(ApiError::not_found()),
        None if report.privacy.hides_report() => Err(ApiError::not_found()),
        None => {
            let mut body = public_view(&report, &found.timeline);
            body["attachments"] = attachments(deps, &report, Viewer::Public).await?;
            // Download URLs expire in minutes: no shared cache may keep them longer.
            Ok(private(Json(body)))
        }
    }
}

/// The attachments `viewer` may see: the reporter all of their report's files (with the reason
/// for any refused one); the public only agencies' clean files on a `publik` report, never a
/// reporter's.
pub async fn attachments(deps: &Deps, report: &Report, viewer: Viewer) -> Result<Value, ApiError> {
    let Some(files) = deps.files.as_deref() else {
        return Ok(json!([]));
    };
    let public = report.privacy == lapor_core::Privacy::Publik;
    let shown = |a: &lapor_core::Attachment| match viewer {
        Viewer::Reporter => true,
        _ => {
            public
                && a.status == lapor_core::AttachmentStatus::Ready
                && matches!(a.uploader, lapor_core::Uploader::Agency { .. })
        }
    };
    let listed = lapor_files::listing(files, report, shown, deps.clock.now())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Value::Array(listed))
}

fn private(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// What anyone may see. Built field by field so nothing new leaks in by accident.
pub fn public_view(report: &Report, timeline: &[Event]) -> Value {
    let mut body = common(report);
    if !report.privacy.hides_identity() {
        if let Some(location) = &report.location {
            body["location"] = json!(location);
        }
    }
    body["timeline"] = timeline
        .iter()
        .filter(|e| e.public)
        .map(timeline_entry)
        .collect();
    body["view"] = json!("public");
    body
}

/// What the reporter sees with their access key: everything about their own report.
pub fn reporter_view(report: &Report, reporter: Option<&Reporter>, timeline: &[Event]) -> Value {
    let mut body = common(report);
    body["privacy"] = json!(report.privacy);
    body["channel"] = json!(report.channel);
    if let Some(location) = &report.location {
        body["location"] = json!(location);
    }
    body["reporter"] = reporter
        .filter(|_| identity_visible(Viewer::Reporter, report.privacy))
        .map_or(Value::Null, |r| json!(r));
    body["rating"] = json!(report.rating);
    body["final_at"] = json!(report.final_at.as_ref().map(format_time));
    body["timeline"] = timeline.iter().map(timeline_entry).collect();
    body["view"] = json!("reporter");
    body
}

fn common(report: &Report) -> Value {
    let (category_id, label, label_en, _) = report.category.describe();
    let region = report.region.region();
    json!({
        "tracking_code": report.tracking_code.as_str(),
        "type": report.report_type,
        "title": report.title,
        "description": report.description,
        "category": {"id": category_id, "label": label, "label_en": label_en},
        "region": {"code": region.code, "name": region.name},
        "status": report.status,
        "color": report.color(),
        "agency": report.agency,
        "created_at": format_time(&report.created_at),
        "updated_at": format_time(&report.updated_at),
    })
}
