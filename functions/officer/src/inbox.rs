//! The officer's inbox and report view. Who sees which queues and reports, and when reporter
//! identity shows, is the core's policy (`lapor_core::permission`); this module only asks it.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use lapor_core::permission::{identity_visible, Action, Relation, Viewer};
use lapor_core::report::Rating;
use lapor_core::{Color, Email, Phone, Report, Status};
use lapor_http::auth::Officer;
use lapor_http::openapi::ErrorBody;
use lapor_http::{timeline_entry, ApiError};
use lapor_store::{Queue, ReportWithTimeline};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{page_cursor, page_limit, path_code, query, visible, CodePath, Deps, OfficerReport};
use lapor_http::openapi::{AttachmentEntry, TimelineEntry};

/// The inbox's filters, and its page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Hanya laporan berstatus ini. / Only reports with this status.
    #[param(value_type = Option<Status>)]
    status: Option<String>,
    /// Hanya laporan berwarna ini. / Only reports of this colour.
    #[param(value_type = Option<Color>)]
    color: Option<String>,
    /// Lanjutan dari `next_cursor` halaman sebelumnya. / Where the previous page's
    /// `next_cursor` left off.
    #[param(pattern = "^(?:[0-7][0-9A-Fa-f])+$")]
    cursor: Option<String>,
    /// Jumlah laporan per halaman (bawaan 25). / Reports per page (25 by default).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A filter's value as the status or colour it names; an empty or unknown one is refused.
fn parse_filter<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            serde_json::from_value(Value::String(v.to_string())).map_err(|_| {
                ApiError::from(lapor_core::Invalid::field(
                    field,
                    "invalid_value",
                    format!("Filter `{field}` tidak dikenal: `{v}`."),
                    format!("Unknown `{field}` filter: `{v}`."),
                ))
            })
        })
        .transpose()
}

/// The queues an officer reads: their agency's, plus its departments' where the policy lets
/// them see their departments' reports.
async fn queues_of(deps: &Deps, officer: &Officer) -> Result<Vec<Queue>, ApiError> {
    let mut queues = vec![Queue::Agency(officer.agency.clone())];
    if officer.may(Action::View, Relation::Department).is_ok() {
        queues.extend(
            deps.directory
                .children(&officer.agency)
                .await?
                .into_iter()
                .map(Queue::Agency),
        );
    }
    Ok(queues)
}

/// A page of the agency's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    reports: Vec<InboxReport>,
    /// The `cursor` of the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// A report as the officer's console lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxReport {
    #[serde(flatten)]
    report: OfficerReport,
    /// Working days until `due_at` (negative once past); `null` without a deadline.
    working_days_left: Option<i64>,
    /// The reporter, where the report is `publik` and the officer's role may see them.
    reporter: Option<ReporterContact>,
}

/// The reporter's identity as an agency may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterContact {
    name: Option<String>,
    /// E.164, e.g. `+6281234567890`.
    #[schema(value_type = Option<String>)]
    phone: Option<Phone>,
    #[schema(value_type = Option<String>)]
    email: Option<Email>,
}

/// A report as the agency sees it: the inbox entry, the reporter's rating, the whole timeline
/// and every file.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyReport {
    #[serde(flatten)]
    entry: InboxReport,
    rating: Option<RatingView>,
    #[schema(value_type = Vec<TimelineEntry>)]
    timeline: Vec<Value>,
    #[schema(value_type = Vec<AttachmentEntry>)]
    attachments: Vec<Value>,
}

/// The reporter's verdict on a completed report.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    #[schema(minimum = 1, maximum = 5)]
    stars: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    comment: Option<String>,
}

impl From<&Rating> for RatingView {
    fn from(rating: &Rating) -> Self {
        Self {
            stars: rating.stars,
            comment: rating.comment.clone(),
        }
    }
}

/// A report as the officer's console lists it; `relation` is what it is to the officer's agency.
async fn entry(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
    relation: Relation,
) -> Result<InboxReport, ApiError> {
    let now = deps.clock.now();
    Ok(InboxReport {
        report: OfficerReport::of(report),
        working_days_left: report.due_at.map(|due| {
            deps.deadlines
                .calendar
                .working_days_left(now, due, report.region.zone())
        }),
        reporter: reporter_for_agency(deps, officer, report, relation).await?,
    })
}

/// The reporter's identity as an agency may see it.
async fn reporter_for_agency(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
    relation: Relation,
) -> Result<Option<ReporterContact>, ApiError> {
    let allowed = officer.may(Action::SeeIdentity, relation).is_ok();
    if !allowed || !identity_visible(Viewer::Agency, report.privacy) {
        return Ok(None);
    }
    Ok(deps
        .identity
        .reporter(&report.tracking_code)
        .await?
        .map(|r| ReporterContact {
            name: r.name,
            phone: r.phone,
            email: r.email,
        }))
}

#[utoipa::path(
    get,
    path = "/agency/reports",
    tag = "officer",
    operation_id = "listAgencyReports",
    summary = "Kotak masuk instansi / The agency's inbox",
    description = "Laporan yang dipegang instansi petugas (dan dinas-dinasnya, bagi admin instansi), terbaru dahulu. / Reports held by the officer's agency (and its departments, for an agency admin), newest first.",
    security(("bearer" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "Satu halaman kotak masuk. / One page of the inbox.", body = InboxPage),
        (status = 400, description = "Filter, `cursor`, `limit` atau parameter lain tidak valid. / An invalid filter, `cursor`, `limit` or other parameter.", body = ErrorBody),
    )
)]
pub async fn inbox(
    officer: Officer,
    State(deps): State<Deps>,
    q: Result<Query<InboxQuery>, QueryRejection>,
) -> Result<Json<InboxPage>, ApiError> {
    let q = query(q)?;
    let status: Option<Status> = parse_filter("status", q.status.as_deref())?;
    let color: Option<Color> = parse_filter("color", q.color.as_deref())?;
    let (limit, cursor) = (page_limit(q.limit)?, page_cursor(q.cursor.as_deref())?);
    let queues = queues_of(&deps, &officer).await?;
    let wanted =
        |r: &Report| status.is_none_or(|s| r.status == s) && color.is_none_or(|c| r.color() == c);
    let page = deps.queues.queue(&queues, &wanted, limit, cursor).await?;
    let mut reports = Vec::with_capacity(page.reports.len());
    for report in &page.reports {
        // The inbox lists the officer's own queue and, for supervisors, their departments'.
        let relation = if report.agency.as_ref() == Some(&officer.agency) {
            Relation::Own
        } else {
            Relation::Department
        };
        reports.push(entry(&deps, &officer, report, relation).await?);
    }
    Ok(Json(InboxPage {
        reports,
        next_cursor: page.next,
    }))
}

#[utoipa::path(
    get,
    path = "/agency/reports/{code}",
    tag = "officer",
    operation_id = "getAgencyReport",
    summary = "Laporan bagi instansi / A report as the agency sees it",
    description = "Laporan dengan linimasa lengkap, penilaian pelapor, dan semua lampiran. / The report with its whole timeline, the reporter's rating, and every file.",
    security(("bearer" = [])),
    params(CodePath),
    responses(
        (status = 200, description = "Laporan. / The report.", body = AgencyReport),
        (status = 404, description = "Laporan tidak ada atau di luar jangkauan Anda (`not_found`, `invalid_tracking_code`). / No such report, or not one you can see.", body = ErrorBody),
    )
)]
pub async fn agency_view(
    officer: Officer,
    State(deps): State<Deps>,
    code: Result<Path<CodePath>, PathRejection>,
) -> Result<Json<AgencyReport>, ApiError> {
    // The report and its timeline in one read: the console opens this page before every answer.
    let ReportWithTimeline { report, timeline } = deps
        .reports
        .report_with_timeline(&path_code(code)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let relation = visible(&deps, &officer, &report).await?;
    // Every file of the report: the reporter's evidence was stripped of whatever could name them.
    let attachments = match deps.files.as_deref() {
        Some(files) => lapor_files::listing(files, &report, |_| true, deps.clock.now())
            .await
            .map_err(|e| ApiError::internal(&e))?,
        None => Vec::new(),
    };
    Ok(Json(AgencyReport {
        entry: entry(&deps, &officer, &report, relation).await?,
        rating: report.rating.as_ref().map(RatingView::from),
        timeline: timeline.iter().map(timeline_entry).collect(),
        attachments,
    }))
}
