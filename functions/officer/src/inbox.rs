//! The officer's inbox and report view. Who sees which queues and reports, and when reporter
//! identity shows, is the core's policy (`lapor_core::permission`); this module only asks it.

use axum::extract::{Path, Query, State};
use axum::Json;
use lapor_core::permission::{identity_visible, Action, Relation, Viewer};
use lapor_core::{Color, Report, Status};
use lapor_http::auth::Officer;
use lapor_http::{timeline_entry, ApiError};
use lapor_store::Queue;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{load, officer_view, Deps};

const PAGE_MAX: usize = 100;

#[derive(Deserialize)]
pub struct InboxQuery {
    status: Option<String>,
    color: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

fn parse_filter<T: for<'de> Deserialize<'de>>(
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, ApiError> {
    value
        .filter(|v| !v.is_empty())
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

/// A report as the officer's console lists it; `relation` is what it is to the officer's agency.
async fn entry(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
    relation: Relation,
) -> Result<Value, ApiError> {
    let mut view = officer_view(report);
    let now = deps.clock.now();
    view["working_days_left"] = json!(report.due_at.map(|due| deps
        .deadlines
        .calendar
        .working_days_left(now, due, report.region.zone())));
    view["reporter"] = reporter_for_agency(deps, officer, report, relation).await?;
    Ok(view)
}

/// The reporter's identity as an agency may see it.
async fn reporter_for_agency(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
    relation: Relation,
) -> Result<Value, ApiError> {
    let allowed = officer.may(Action::SeeIdentity, relation).is_ok();
    if !allowed || !identity_visible(Viewer::Agency, report.privacy) {
        return Ok(Value::Null);
    }
    Ok(deps.identity.reporter(&report.tracking_code).await?.map_or(
        Value::Null,
        |r| json!({"name": r.name, "phone": r.phone, "email": r.email}),
    ))
}

pub async fn inbox(
    officer: Officer,
    State(deps): State<Deps>,
    Query(q): Query<InboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let status: Option<Status> = parse_filter("status", q.status.as_deref())?;
    let color: Option<Color> = parse_filter("color", q.color.as_deref())?;
    let limit = q.limit.unwrap_or(25).clamp(1, PAGE_MAX);
    let queues = queues_of(&deps, &officer).await?;
    let wanted =
        |r: &Report| status.is_none_or(|s| r.status == s) && color.is_none_or(|c| r.color() == c);
    let page = deps
        .queues
        .queue(&queues, &wanted, limit, q.cursor.as_deref())
        .await?;
    let mut entries = Vec::with_capacity(page.reports.len());
    for report in &page.reports {
        // The inbox lists the officer's own queue and, for supervisors, their departments'.
        let relation = if report.agency.as_ref() == Some(&officer.agency) {
            Relation::Own
        } else {
            Relation::Department
        };
        entries.push(entry(&deps, &officer, report, relation).await?);
    }
    Ok(Json(
        json!({ "reports": entries, "next_cursor": page.next }),
    ))
}

pub async fn agency_view(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (report, relation) = load(&deps, &officer, &code).await?;
    let timeline = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await?
        .map(|r| r.timeline)
        .unwrap_or_default();
    let mut view = entry(&deps, &officer, &report, relation).await?;
    view["rating"] = json!(report.rating);
    view["timeline"] = timeline.iter().map(timeline_entry).collect();
    // Every file of the report: the reporter's evidence was stripped of whatever could name them.
    view["attachments"] = match deps.files.as_deref() {
        Some(files) => Value::Array(
            lapor_files::listing(files, &report, |_| true, deps.clock.now())
                .await
                .map_err(|e| ApiError::internal(&e))?,
        ),
        None => json!([]),
    };
    Ok(Json(view))
}
