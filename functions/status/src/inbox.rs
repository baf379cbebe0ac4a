//! The officer's inbox and report view. An officer sees their agency's reports; an agency admin
//! also their departments'. Reporter identity appears only for `publik` reports.

use axum::extract::{Path, Query, State};
use axum::Json;
use lapor_core::{format_time, Color, Privacy, Report, Role, Status};
use lapor_http::auth::Officer;
use lapor_http::ApiError;
use lapor_store::{cursor_after, queue_sort_key, Queue};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{load, not_yours, officer_view, Deps};

const PAGE_MAX: usize = 100;
/// Filtering happens after reading; this many reads at most fill one page.
const READS_PER_PAGE: usize = 8;

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

/// The queues an officer reads: their agency's, plus its departments' for an agency admin.
async fn queues_of(deps: &Deps, officer: &Officer) -> Result<Vec<Queue>, ApiError> {
    let mut queues = vec![Queue::Agency(officer.agency.clone())];
    if officer.role == Role::AgencyAdmin {
        queues.extend(
            deps.store
                .children(&officer.agency)
                .await?
                .into_iter()
                .map(Queue::Agency),
        );
    }
    Ok(queues)
}

/// Whether `officer` may see `report`: their agency's, or (admin) a department's, or central.
pub async fn may_see(deps: &Deps, officer: &Officer, report: &Report) -> Result<bool, ApiError> {
    if officer.role == Role::AdminPusat {
        return Ok(true);
    }
    let Some(agency) = report.agency.as_deref() else {
        return Ok(false);
    };
    if agency == officer.agency.as_str() {
        return Ok(true);
    }
    Ok(officer.role == Role::AgencyAdmin
        && deps
            .store
            .children(&officer.agency)
            .await?
            .iter()
            .any(|c| c.as_str() == agency))
}

async fn entry(deps: &Deps, report: &Report) -> Result<Value, ApiError> {
    let mut view = officer_view(report);
    let now = deps.clock.now();
    view["working_days_left"] = json!(report.due_at.map(|due| deps.calendar.working_days_left(
        now,
        due,
        report.region.zone()
    )));
    view["reporter"] = reporter_for_agency(deps, report).await?;
    Ok(view)
}

/// The reporter's identity as an agency may see it: only for public reports.
async fn reporter_for_agency(deps: &Deps, report: &Report) -> Result<Value, ApiError> {
    if report.privacy != Privacy::Publik {
        return Ok(Value::Null);
    }
    Ok(deps.store.reporter(&report.tracking_code).await?.map_or(
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

    let mut found: Vec<Report> = Vec::new();
    let mut cursor = q.cursor.clone();
    let mut exhausted = false;
    for _ in 0..READS_PER_PAGE {
        // Each queue from the same position, merged newest first.
        let mut batch = Vec::new();
        let mut more = false;
        for queue in &queues {
            let page = deps.store.queue(queue, limit, cursor.as_deref()).await?;
            more |= page.next.is_some();
            batch.extend(page.reports);
        }
        batch.sort_by_key(|r| std::cmp::Reverse(queue_sort_key(r)));
        // What the merge cuts off is read again from the next position.
        more |= batch.len() > limit;
        batch.truncate(limit);
        let Some(last) = batch.last() else {
            exhausted = true;
            break;
        };
        cursor = Some(cursor_after(last));
        found.extend(batch.into_iter().filter(|r| wanted(r)));
        if !more {
            exhausted = true;
            break;
        }
        if found.len() >= limit {
            break;
        }
    }
    let truncated = found.len() > limit;
    found.truncate(limit);
    let next = if truncated || !exhausted {
        found.last().map(cursor_after).or(cursor)
    } else {
        None
    };
    let mut entries = Vec::with_capacity(found.len());
    for report in &found {
        entries.push(entry(&deps, report).await?);
    }
    Ok(Json(json!({ "reports": entries, "next_cursor": next })))
}

pub async fn agency_view(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let report = load(&deps, &code).await?;
    if !may_see(&deps, &officer, &report).await? {
        return Err(not_yours());
    }
    let timeline = deps
        .store
        .report_with_timeline(&report.tracking_code)
        .await?
        .map(|r| r.timeline)
        .unwrap_or_default();
    let mut view = entry(&deps, &report).await?;
    view["rating"] = json!(report.rating);
    view["timeline"] = timeline
        .iter()
        .map(|e| {
            json!({
                "at": format_time(&e.at), "kind": e.kind, "actor": e.actor, "agency": e.agency,
                "status_before": e.status_before, "status_after": e.status_after,
                "from_agency": e.from_agency, "to_agency": e.to_agency, "message": e.message,
            })
        })
        .collect();
    Ok(Json(view))
}
