//! The officer function: the central admin's triage queue, forwarding (disposisi) and returning a
//! report as not the agency's authority (bukan wewenang). Callers are identified by the claims of
//! their verified token ([`Officer`]); every hop is one versioned write with its timeline event.

mod dashboard;
mod evidence;
mod inbox;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_core::permission::{Action, ForwardTo, Relation};
use lapor_core::report::{optional_text, text};
use lapor_core::{
    format_time, Agency, AgencyId, Clock, Deadlines, Invalid, Report, Status, TrackingCode,
};
use lapor_http::auth::Officer;
use lapor_http::{ApiError, JsonObject};
use lapor_store::{AgencyDirectory, Queue, ReporterIdentity, Reports, Stores, WorkQueues};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// What the officer routes touch: reports, the queues, the directory (departments, forwarding
/// targets) and reporter identity, which the policy shows on `publik` reports only.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub queues: Arc<dyn WorkQueues>,
    /// Agencies' dashboard figures (read only: the statistics consumer counts them).
    pub statistics: Arc<dyn lapor_store::Statistics>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
    /// Where evidence files go (`None`: attachments are not offered).
    pub files: Option<Arc<dyn lapor_files::EvidenceFiles>>,
    /// The largest evidence file accepted.
    pub max_file_bytes: u64,
}

impl Deps {
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, deadlines: Deadlines) -> Self {
        Self {
            reports: stores.reports.clone(),
            identity: stores.identity.clone(),
            directory: stores.directory.clone(),
            queues: stores.queues.clone(),
            statistics: stores.statistics.clone(),
            clock,
            deadlines,
            files: None,
            max_file_bytes: lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Evidence attachments, in `files`, of at most `max_bytes` each.
    pub fn with_files(
        mut self,
        files: Arc<dyn lapor_files::EvidenceFiles>,
        max_bytes: u64,
    ) -> Self {
        self.files = Some(files);
        self.max_file_bytes = max_bytes;
        self
    }
}

const PAGE_MAX: usize = 100;
const REASON_MIN: usize = 10;
const TEXT_MAX: usize = 2_000;

/// The officer routes, without fallbacks, for merging into lapor-local.
pub fn routes(deps: Deps) -> Router {
    Router::new()
        .route("/admin/triage", get(triage))
        .route("/agency/dashboard", get(dashboard::agency))
        .route("/admin/dashboard", get(dashboard::central))
        .route("/agency/reports", get(inbox::inbox))
        .route("/agency/reports/{code}", get(inbox::agency_view))
        .route("/agency/reports/{code}/attachments", post(evidence::attach))
        .route("/reports/{code}/followups", post(follow_up))
        .route("/reports/{code}/forward", post(forward))
        .route("/reports/{code}/return", post(return_report))
        .with_state(deps)
}

pub fn router(deps: Deps) -> Router {
    lapor_http::finish(routes(deps))
}

/// What an officer sees of a report: everything but the reporter's identity and secrets.
pub fn officer_view(report: &Report) -> Value {
    let region = report.region.region();
    json!({
        "tracking_code": report.tracking_code.as_str(),
        "type": report.report_type,
        "title": report.title,
        "description": report.description,
        "category": report.category.id(),
        "region": {"code": region.code, "name": region.name},
        "privacy": report.privacy,
        "channel": report.channel,
        "status": report.status,
        "color": report.color(),
        "agency": report.agency,
        "triage": report.triage,
        "due_at": report.due_at.as_ref().map(format_time),
        "created_at": format_time(&report.created_at),
        "updated_at": format_time(&report.updated_at),
        "version": report.version,
    })
}

#[derive(Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn triage(
    officer: Officer,
    State(deps): State<Deps>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    officer.may(Action::ListTriage, Relation::Central)?;
    let limit = page.limit.unwrap_or(25).clamp(1, PAGE_MAX);
    let page = deps
        .queues
        .queue(&[Queue::Triage], &|_| true, limit, page.cursor.as_deref())
        .await?;
    let mut reports = Vec::with_capacity(page.reports.len());
    for report in &page.reports {
        let mut view = officer_view(report);
        view["suggestion"] = suggestion(&deps, report).await?;
        reports.push(view);
    }
    Ok(Json(
        json!({ "reports": reports, "next_cursor": page.next }),
    ))
}

/// What the classifier reads in a triaged report's text, and where a routing rule would send a
/// report of that category from its region: a starting point for the central admin, who
/// decides. `null` when the text names no category clearly enough.
async fn suggestion(deps: &Deps, report: &Report) -> Result<Value, ApiError> {
    let text = format!("{} {}", report.title, report.description);
    let Some(found) = lapor_core::classify(&text) else {
        return Ok(Value::Null);
    };
    let agency = deps.directory.route(&report.region, found.category).await?;
    Ok(json!({
        "category": found.category.id(),
        "confidence": found.confidence,
        "matched": found.matched,
        "agency": agency,
    }))
}

/// The report and what it is to the officer's agency, if the officer may see it. A report outside
/// their reach answers exactly as one that does not exist (`404`), so an officer cannot learn
/// whether another agency's tracking code exists; a report they see but may not act on is `403`.
pub(crate) async fn load(
    deps: &Deps,
    officer: &Officer,
    code: &str,
) -> Result<(Report, Relation), ApiError> {
    let code = TrackingCode::parse(code)?;
    let report = deps
        .reports
        .report(&code)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let relation = relation(deps, officer, &report).await?;
    if officer.may(Action::View, relation).is_err() {
        return Err(ApiError::not_found());
    }
    Ok((report, relation))
}

/// What `report` is to the officer's agency.
pub(crate) async fn relation(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
) -> Result<Relation, ApiError> {
    let is_department = match &report.agency {
        Some(holder) if *holder != officer.agency => deps
            .directory
            .children(&officer.agency)
            .await?
            .contains(holder),
        _ => false,
    };
    Ok(Relation::of(
        &officer.agency,
        report.agency.as_ref(),
        is_department,
    ))
}

/// The agency a report may be forwarded to, as the caller's role allows.
async fn forward_target(
    deps: &Deps,
    officer: &Officer,
    relation: Relation,
    body: &Map<String, Value>,
) -> Result<Agency, ApiError> {
    let id = match body.get("agency") {
        Some(Value::String(s)) => AgencyId::parse(s)?,
        None | Some(Value::Null) => return Err(Invalid::missing("agency").into()),
        Some(_) => {
            return Err(Invalid::field(
                "agency",
                "invalid_type",
                "Kolom `agency` harus berisi kode instansi.",
                "The field `agency` must be an agency id.",
            )
            .into())
        }
    };
    let unknown = || {
        ApiError::from(Invalid::field(
            "agency",
            "unknown_agency",
            format!("Instansi `{id}` tidak ada dalam direktori."),
            format!("The agency `{id}` is not in the directory."),
        ))
    };
    let target = deps.directory.agency(&id).await?.ok_or_else(unknown)?;
    if !target.handles_reports() {
        return Err(Invalid::field(
            "agency",
            "not_a_handling_agency",
            "Laporan hanya dapat diteruskan kepada instansi pelaksana.",
            "Reports can only be forwarded to an agency that handles them.",
        )
        .into());
    }
    let to = if target.parent.as_ref() == Some(&officer.agency) {
        ForwardTo::OwnDepartment
    } else {
        ForwardTo::Elsewhere
    };
    officer.may(Action::Forward(to), relation)?;
    Ok(target)
}

async fn forward(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["agency", "message", "version"]).await?;
    let message = optional_text(&body, "message", TEXT_MAX, true)?;
    let seen = seen_version(&body)?;
    let (report, relation) = load(&deps, &officer, &code).await?;
    unchanged_since(&report, seen)?;
    let target = forward_target(&deps, &officer, relation, &body).await?;
    let hop = officer.hop(message);
    let (next, event) = report.forward(&target.id, hop, deps.clock.now(), &deps.deadlines)?;
    deps.reports.update_report(&report, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, to = %target.id, by = %officer.agency, "forwarded");
    Ok(Json(officer_view(&next)))
}

async fn return_report(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["reason", "version"]).await?;
    let reason = Some(text(&body, "reason", REASON_MIN, TEXT_MAX, true)?);
    let seen = seen_version(&body)?;
    let (report, relation) = load(&deps, &officer, &code).await?;
    unchanged_since(&report, seen)?;
    officer.may(Action::Return, relation)?;
    let hop = officer.hop(reason);
    let (next, event) = report.return_not_authority(hop, deps.clock.now(), &deps.deadlines)?;
    deps.reports.update_report(&report, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, by = %officer.agency, "returned as not the agency's authority");
    Ok((StatusCode::OK, Json(officer_view(&next))))
}

/// The optional `version` of the report the officer was looking at when they decided.
fn seen_version(body: &Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(_) => Err(Invalid::field(
            "version",
            "invalid_type",
            "Kolom `version` harus nomor versi laporan yang Anda lihat.",
            "The field `version` must be the version of the report you looked at.",
        )
        .into()),
    }
}

/// An action decided on an older view of the report is refused (`409`) rather than applied over
/// what someone else did since: two officers answering at once must not both "win". The
/// refusal carries the report as it is now, so the second officer sees what happened.
fn unchanged_since(report: &Report, seen: Option<u64>) -> Result<(), ApiError> {
    match seen {
        Some(version) if version != report.version => Err(ApiError::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "Laporan ini sudah diubah oleh petugas lain sejak Anda membukanya. Periksa keadaannya sekarang sebelum bertindak lagi.",
            "Another officer changed this report after you opened it. Check its current state before acting again.",
        )
        .with_extra(json!({ "current": officer_view(report) }))),
        _ => Ok(()),
    }
}

const FOLLOW_UP_STATUSES: [(Status, &str); 4] = [
    (Status::Diproses, "diproses"),
    (Status::Selesai, "selesai"),
    (Status::Tertunda, "tertunda"),
    (Status::Arsip, "arsip"),
];

fn follow_up_status(body: &Map<String, Value>) -> Result<Status, ApiError> {
    let names: Vec<&str> = FOLLOW_UP_STATUSES.iter().map(|(_, n)| *n).collect();
    let invalid = || {
        ApiError::from(Invalid::field(
            "status",
            "invalid_value",
            format!(
                "Kolom `status` harus salah satu dari: {}.",
                names.join(", ")
            ),
            format!("The field `status` must be one of: {}.", names.join(", ")),
        ))
    };
    match body.get("status") {
        None | Some(Value::Null) => Err(Invalid::missing("status").into()),
        Some(Value::String(s)) => FOLLOW_UP_STATUSES
            .iter()
            .find(|(_, n)| *n == s.trim())
            .map(|(st, _)| *st)
            .ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// `resume_date` (YYYY-MM-DD, after today in the report's zone) as the start of that working day.
fn resume_at(
    body: &Map<String, Value>,
    report: &Report,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::FixedOffset>, ApiError> {
    let invalid = || {
        ApiError::from(Invalid::field(
            "resume_date",
            "invalid_date",
            "Kolom `resume_date` harus tanggal setelah hari ini, misalnya 2026-12-15.",
            "The field `resume_date` must be a date after today, such as 2026-12-15.",
        ))
    };
    let text = match body.get("resume_date") {
        Some(Value::String(s)) => s.trim(),
        None | Some(Value::Null) => return Err(Invalid::missing("resume_date").into()),
        Some(_) => return Err(invalid()),
    };
    let offset = report.region.zone().offset();
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid())?;
    if date <= now.with_timezone(&offset).date_naive() {
        return Err(invalid());
    }
    date.and_hms_opt(8, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .ok_or_else(invalid)
}

async fn follow_up(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::read_fields(
        &headers,
        body,
        &["status", "message", "resume_date", "version"],
    )
    .await?;
    let to = follow_up_status(&body)?;
    let message = text(&body, "message", 1, TEXT_MAX, true)?;
    let seen = seen_version(&body)?;
    let (report, relation) = load(&deps, &officer, &code).await?;
    unchanged_since(&report, seen)?;
    let now = deps.clock.now();
    let hop = officer.hop(Some(message));
    let (next, event) = if to == Status::Arsip {
        officer.may(Action::Archive, relation)?;
        report.archive(hop, now)?
    } else {
        officer.may(Action::FollowUp, relation)?;
        let resume = if to == Status::Tertunda {
            Some(resume_at(&body, &report, now)?)
        } else {
            None
        };
        report.follow_up(to, hop, resume, now, &deps.deadlines)?
    };
    deps.reports.update_report(&report, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, status = %next.status, by = %officer.agency, "follow-up");
    Ok(Json(officer_view(&next)))
}
