//! The reporter's side, unlocked by the access key (`X-Access-Key`): replies to the agency (which
//! may reopen a completed report) and one rating. A wrong or missing key answers 404, exactly as a
//! report that does not exist, so the routes reveal nothing about which codes are real.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use lapor_core::lifecycle::{ReplyLimit, ReporterError};
use lapor_core::report::{optional_text, text};
use lapor_core::{AccessKey, Invalid, Rating, Report, TrackingCode};
use lapor_http::{ApiError, JsonObject};
use lapor_store::{until_written, Attempt};
use serde_json::{Map, Value};

use crate::view::reporter_view;
use crate::Deps;

pub(crate) const MESSAGE_MAX: usize = 2_000;
pub(crate) const COMMENT_MAX: usize = 1_000;

/// The report, if `headers` carry its access key.
pub(crate) async fn own_report(
    deps: &Deps,
    code: &TrackingCode,
    headers: &HeaderMap,
) -> Result<Report, ApiError> {
    let key = headers
        .get("x-access-key")
        .and_then(|v| v.to_str().ok())
        .map(AccessKey::presented);
    let report = deps.reports.report(code).await?;
    match (report, key) {
        (Some(report), Some(key)) if key.matches(&report.access_key_hash) => Ok(report),
        _ => Err(ApiError::not_found()),
    }
}

/// A reporter's step refused because of the report's state is a conflict (409).
fn refused(e: ReporterError) -> ApiError {
    match e {
        ReporterError::Invalid(invalid) => {
            let mut error = ApiError::from(invalid);
            error.status = StatusCode::CONFLICT;
            error
        }
        ReporterError::Transition(t) => ApiError::from(t),
        ReporterError::TooManyReplies(limit) => {
            let message = limit.message();
            match limit {
                ReplyLimit::Daily {
                    retry_after_secs, ..
                } => ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_replies",
                    message.id,
                    message.en,
                )
                .with_retry_after(retry_after_secs),
                ReplyLimit::Total => ApiError::new(
                    StatusCode::CONFLICT,
                    "reply_limit_reached",
                    message.id,
                    message.en,
                ),
            }
        }
    }
}

/// The reporter's `step` on their own report, written; decided again on a fresh read when
/// another write (routing, an evidence outcome, an officer) landed between the read and the
/// write. Answers the reporter's view after it.
async fn take_step(
    deps: &Deps,
    code: &TrackingCode,
    headers: &HeaderMap,
    step: impl Fn(&Report) -> Result<(Report, lapor_core::Event), ReporterError> + Sync,
) -> Result<Json<Value>, ApiError> {
    let step = &step;
    let next: Report = until_written(|| async move {
        let report = own_report(deps, code, headers).await?;
        let (next, event) = step(&report).map_err(refused)?;
        let write = deps.reports.update_report(&report, &next, &[event]).await;
        Ok::<_, ApiError>(Attempt::after(write, || next)?)
    })
    .await?;
    let reporter = deps.identity.reporter(&next.tracking_code).await?;
    let timeline = deps
        .reports
        .report_with_timeline(&next.tracking_code)
        .await?
        .map(|r| r.timeline)
        .unwrap_or_default();
    let mut body = reporter_view(&next, reporter.as_ref(), &timeline);
    body["attachments"] =
        crate::view::attachments(deps, &next, lapor_core::permission::Viewer::Reporter).await?;
    Ok(Json(body))
}

fn flag(body: &Map<String, Value>, field: &str) -> Result<bool, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Invalid::field(
            field,
            "invalid_type",
            format!("Kolom `{field}` harus true atau false."),
            format!("The field `{field}` must be true or false."),
        )
        .into()),
    }
}

/// The reporter answers the agency; `not_solved` reopens a completed report.
#[utoipa::path(
    post,
    path = "/reports/{code}/replies",
    tag = "reports",
    operation_id = "reply_to_agency",
    summary = "Balas instansi / Reply to the agency",
    params(
        ("code" = String, Path, pattern = "^[0-9A-HJKMNP-TV-Z]{10}$", description = "Kode pelacakan / Tracking code"),
        ("X-Access-Key" = Option<String>, Header, description = "Kunci akses pelapor; tanpa itu atau salah: 404. / The reporter's access key; missing or wrong: 404."),
    ),
    request_body(content = crate::schema::Reply, content_type = "application/json"),
    responses(
        (status = 200, description = "Tampilan pelapor sesudahnya / The reporter's view after it", body = crate::schema::ReportView),
        (status = 404, description = "Tidak ada atau kunci salah / None, or a wrong key", body = lapor_http::openapi::ErrorBody),
        (status = 409, description = "Keadaan laporan tidak mengizinkan / The report's state does not allow it", body = lapor_http::openapi::ErrorBody),
        (status = 429, description = "Batas balasan harian / The daily reply limit", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn reply(
    State(deps): State<Deps>,
    code: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let code = lapor_http::code_in(code)?;
    let body = JsonObject::read_fields(&headers, body, &["message", "not_solved"]).await?;
    let message = text(&body, "message", 1, MESSAGE_MAX, true)?;
    let not_solved = flag(&body, "not_solved")?;
    take_step(&deps, &code, &headers, |report| {
        report.reply_within(
            message.clone(),
            not_solved,
            deps.clock.now(),
            &deps.deadlines,
            deps.replies_per_day,
        )
    })
    .await
}

/// The reporter rates the outcome of a completed report, once.
#[utoipa::path(
    post,
    path = "/reports/{code}/rating",
    tag = "reports",
    operation_id = "rate_outcome",
    summary = "Nilai hasil / Rate the outcome",
    params(
        ("code" = String, Path, pattern = "^[0-9A-HJKMNP-TV-Z]{10}$", description = "Kode pelacakan / Tracking code"),
        ("X-Access-Key" = Option<String>, Header, description = "Kunci akses pelapor; tanpa itu atau salah: 404. / The reporter's access key; missing or wrong: 404."),
    ),
    request_body(content = crate::schema::Rating, content_type = "application/json"),
    responses(
        (status = 200, description = "Tampilan pelapor sesudahnya / The reporter's view after it", body = crate::schema::ReportView),
        (status = 404, description = "Tidak ada atau kunci salah / None, or a wrong key", body = lapor_http::openapi::ErrorBody),
        (status = 409, description = "Belum selesai atau sudah dinilai / Not completed, or rated already", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn rate(
    State(deps): State<Deps>,
    code: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let code = lapor_http::code_in(code)?;
    let body = JsonObject::read_fields(&headers, body, &["stars", "comment"]).await?;
    let stars = match body.get("stars") {
        Some(Value::Number(n)) => {
            lapor_core::attachment::whole_number(n).filter(|s| (1..=5).contains(s))
        }
        None | Some(Value::Null) => return Err(Invalid::missing("stars").into()),
        Some(_) => None,
    }
    .and_then(|s| u8::try_from(s).ok())
    .ok_or_else(|| {
        ApiError::from(Invalid::field(
            "stars",
            "invalid_value",
            "Kolom `stars` harus bilangan bulat 1–5.",
            "The field `stars` must be a whole number from 1 to 5.",
        ))
    })?;
    let comment = optional_text(&body, "comment", COMMENT_MAX, true)?;
    take_step(&deps, &code, &headers, |report| {
        report.rate(
            Rating {
                stars,
                comment: comment.clone(),
            },
            deps.clock.now(),
        )
    })
    .await
}
