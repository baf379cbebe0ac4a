//! The officer function: the central admin's triage queue, forwarding (disposisi) and returning a
//! report as not the agency's authority (bukan wewenang). Callers are identified by the claims of
//! their verified token ([`Officer`]); every hop is one versioned write with its timeline event.

mod inbox;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapor_core::deadline::Sla;
use lapor_core::report::{optional_text, reject_unknown, text};
use lapor_core::{
    format_time, Actor, Agency, AgencyId, Clock, Hop, Invalid, Report, Role, Status, TrackingCode,
    WorkCalendar,
};
use lapor_http::auth::{forbidden, Officer};
use lapor_http::{ApiError, JsonObject};
use lapor_store::{Queue, ReportStore};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn ReportStore>,
    pub clock: Arc<dyn Clock>,
    pub calendar: WorkCalendar,
}

const PAGE_MAX: usize = 100;
const REASON_MIN: usize = 10;
const TEXT_MAX: usize = 2_000;

/// The officer routes, without fallbacks, for merging into lapor-local.
pub fn routes(deps: Deps) -> Router {
    Router::new()
        .route("/admin/triage", get(triage))
        .route("/agency/reports", get(inbox::inbox))
        .route("/agency/reports/{code}", get(inbox::agency_view))
        .route("/reports/{code}/followups", post(follow_up))
        .route("/reports/{code}/forward", post(forward))
        .route("/reports/{code}/return", post(return_report))
        .with_state(deps)
}

pub fn router(deps: Deps) -> Router {
    lapor_http::finish(routes(deps))
}

fn actor_of(role: Role) -> Actor {
    match role {
        Role::AdminPusat => Actor::AdminPusat,
        Role::AgencyAdmin => Actor::AgencyAdmin,
        Role::Officer => Actor::Officer,
    }
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
    if officer.role != Role::AdminPusat {
        return Err(forbidden(
            "Antrean verifikasi hanya untuk admin pusat.",
            "The triage queue is for the central admin only.",
        ));
    }
    let limit = page.limit.unwrap_or(25).clamp(1, PAGE_MAX);
    let page = deps
        .store
        .queue(&Queue::Triage, limit, page.cursor.as_deref())
        .await?;
    let reports: Vec<Value> = page.reports.iter().map(officer_view).collect();
    Ok(Json(
        json!({ "reports": reports, "next_cursor": page.next }),
    ))
}

pub(crate) async fn load(deps: &Deps, code: &str) -> Result<Report, ApiError> {
    let code = TrackingCode::parse(code)?;
    deps.store
        .report(&code)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The agency a report may be forwarded to, as the caller's role allows.
async fn forward_target(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
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
    let target = deps.store.agency(&id).await?.ok_or_else(unknown)?;
    if target.central || target.oversight {
        return Err(Invalid::field(
            "agency",
            "not_a_handling_agency",
            "Laporan hanya dapat diteruskan kepada instansi pelaksana.",
            "Reports can only be forwarded to an agency that handles them.",
        )
        .into());
    }
    match officer.role {
        Role::AdminPusat => Ok(target),
        Role::AgencyAdmin if report.agency.as_deref() == Some(officer.agency.as_str()) => {
            if target.parent.as_ref() == Some(&officer.agency) {
                Ok(target)
            } else {
                Err(forbidden(
                    "Admin instansi hanya dapat meneruskan kepada dinas di bawahnya.",
                    "An agency admin can only forward to its own departments.",
                ))
            }
        }
        _ => Err(not_yours()),
    }
}

pub(crate) fn not_yours() -> ApiError {
    forbidden(
        "Laporan ini tidak ditangani oleh instansi Anda, atau peran Anda tidak mengizinkan tindakan ini.",
        "This report is not handled by your agency, or your role does not allow this action.",
    )
}

async fn forward(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::read(&headers, body).await?.object;
    reject_unknown(&body, &["agency", "message"])?;
    let message = optional_text(&body, "message", TEXT_MAX, true)?;
    let report = load(&deps, &code).await?;
    let target = forward_target(&deps, &officer, &report, &body).await?;
    let now = deps.clock.now();
    let due = deps.calendar.add_working_days(
        now,
        Sla::for_category(report.category).follow_up_working_days,
        report.region.zone(),
    );
    let hop = Hop {
        actor: actor_of(officer.role),
        by: Some(officer.agency.clone()),
        message,
    };
    let (next, event) = report.forward(&target.id, hop, now, due)?;
    deps.store.update_report(&report, &next, &[event]).await?;
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
    let body = JsonObject::read(&headers, body).await?.object;
    reject_unknown(&body, &["reason"])?;
    let reason = Some(text(&body, "reason", REASON_MIN, TEXT_MAX, true)?);
    let report = load(&deps, &code).await?;
    let assigned = report.agency.as_deref() == Some(officer.agency.as_str());
    if officer.role == Role::AdminPusat || !assigned {
        return Err(not_yours());
    }
    let now = deps.clock.now();
    let due = deps.calendar.add_working_days(
        now,
        Sla::for_category(report.category).verify_working_days,
        report.region.zone(),
    );
    let hop = Hop {
        actor: actor_of(officer.role),
        by: Some(officer.agency.clone()),
        message: reason,
    };
    let (next, event) = report.return_not_authority(hop, now, due)?;
    deps.store.update_report(&report, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, by = %officer.agency, "returned as not the agency's authority");
    Ok((StatusCode::OK, Json(officer_view(&next))))
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
    let body = JsonObject::read(&headers, body).await?.object;
    reject_unknown(&body, &["status", "message", "resume_date"])?;
    let to = follow_up_status(&body)?;
    let message = text(&body, "message", 1, TEXT_MAX, true)?;
    let report = load(&deps, &code).await?;
    let assigned = report.agency.as_deref() == Some(officer.agency.as_str());
    let now = deps.clock.now();
    let hop = Hop {
        actor: actor_of(officer.role),
        by: Some(officer.agency.clone()),
        message: Some(message),
    };
    let (next, event) = if to == Status::Arsip {
        let may_archive =
            officer.role == Role::AdminPusat || (officer.role == Role::AgencyAdmin && assigned);
        if !may_archive {
            return Err(not_yours());
        }
        report.archive(hop, now)?
    } else {
        if !assigned || officer.role == Role::AdminPusat {
            return Err(not_yours());
        }
        let resume = if to == Status::Tertunda {
            Some(resume_at(&body, &report, now)?)
        } else {
            None
        };
        report.follow_up(to, hop, resume, now, &deps.calendar)?
    };
    deps.store.update_report(&report, &next, &[event]).await?;
    tracing::info!(tracking_code = %next.tracking_code, status = %next.status, by = %officer.agency, "follow-up");
    Ok(Json(officer_view(&next)))
}
