//! The console's dashboard: an agency's reports by colour, its overdue reports and its on-time
//! follow-up share over 30, 90 and 365 days, beside its departments'; and for the central admin
//! every agency that handles reports, worst first, so the ones that do not follow up stand out.
//!
//! The figures are counters the statistics consumer keeps from the table's stream
//! ([`lapor_store::Statistics::agency_figures`]): a dashboard never scans the table or reads a
//! report, and may lag a write by one stream hop. Who sees which agencies is the core's policy.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use chrono::NaiveDate;
use lapor_core::permission::{Action, Relation};
use lapor_core::stats::{self, AgencyFigures, ColorCounts, WINDOWS};
use lapor_core::{Agency, AgencyId};
use lapor_http::auth::Officer;
use lapor_http::openapi::ErrorBody;
use lapor_http::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Deps;

/// One agency on a dashboard.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DashboardEntry)]
pub struct Entry {
    #[schema(value_type = String)]
    agency: AgencyId,
    name: String,
    #[schema(value_type = Option<String>)]
    parent: Option<AgencyId>,
    #[schema(value_type = Colors)]
    colors: ColorCounts,
    /// Reports past their deadline and not followed up: the red ones.
    overdue: i64,
    windows: Vec<Window>,
}

/// Reports by colour; every colour present, zero when there are none.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Colors {
    grey: i64,
    yellow: i64,
    green: i64,
    red: i64,
}

/// First follow-ups within the last `days` days.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DashboardWindow)]
pub struct Window {
    days: u32,
    followed_up: i64,
    on_time: i64,
    /// `on_time / followed_up`; `null` when nothing was followed up.
    on_time_share: Option<f64>,
}

/// `GET /agency/dashboard`: the caller's agency and, where the policy lets them see their
/// departments, each department (by id).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyDashboard {
    agency: Entry,
    departments: Vec<Entry>,
}

/// `GET /admin/dashboard`: every agency that handles reports, worst first over `days`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ranking {
    days: u32,
    agencies: Vec<Entry>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// Read as `stats::requested_window` reads it (which also takes `030` or ` 30`).
    #[param(schema_with = window_days)]
    days: Option<String>,
}

fn window_days() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Integer)
        .enum_values(Some(WINDOWS))
        .description(Some(
            "Jendela peringkat dalam hari (bawaan 90). / The ranking's window in days (90 by \
             default).",
        ))
        .build()
}

/// `figures` as the console shows them; `agency` is its directory entry, if it still has one.
fn entry(figures: &AgencyFigures, agency: Option<&Agency>, today: NaiveDate) -> Entry {
    let windows = WINDOWS
        .iter()
        .map(|&days| {
            let sum = figures.window(days, today);
            Window {
                days,
                followed_up: sum.followed_up,
                on_time: sum.on_time,
                on_time_share: sum.on_time_share(),
            }
        })
        .collect();
    Entry {
        agency: figures.agency.clone(),
        // A token may name an agency since removed from the directory: it still sees its
        // figures, under its id.
        name: agency.map_or_else(|| figures.agency.to_string(), |a| a.name.clone()),
        parent: agency.and_then(|a| a.parent.clone()),
        colors: figures.colors,
        overdue: figures.overdue(),
        windows,
    }
}

/// The agencies on the caller's own dashboard: theirs first, then its departments by id.
async fn own_and_departments(deps: &Deps, officer: &Officer) -> Result<Vec<AgencyId>, ApiError> {
    officer.may(Action::ViewDashboard, Relation::Own)?;
    let mut departments = if officer
        .may(Action::ViewDashboard, Relation::Department)
        .is_ok()
    {
        deps.directory.children(&officer.agency).await?
    } else {
        Vec::new()
    };
    departments.sort();
    let mut ids = vec![officer.agency.clone()];
    ids.extend(departments);
    Ok(ids)
}

#[utoipa::path(
    get,
    path = "/agency/dashboard",
    tag = "officer",
    operation_id = "agencyDashboard",
    summary = "Dasbor instansi / The agency's dashboard",
    description = "Laporan instansi menurut warna, yang terlambat, dan bagian tindak lanjut tepat waktu dalam 30, 90 dan 365 hari; bagi admin instansi juga dinas-dinasnya. / The agency's reports by colour, its overdue ones, and its on-time follow-up share over 30, 90 and 365 days; for an agency admin its departments too.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Dasbor. / The dashboard.", body = AgencyDashboard),
    )
)]
pub async fn agency(
    officer: Officer,
    State(deps): State<Deps>,
) -> Result<Json<AgencyDashboard>, ApiError> {
    let ids = own_and_departments(&deps, &officer).await?;
    let today = stats::dashboard_today(deps.clock.now());
    let figures = deps
        .statistics
        .agency_figures(&ids, stats::figures_since(today))
        .await?;
    let mut entries = Vec::with_capacity(figures.len());
    for figures in &figures {
        let agency = deps.directory.agency(&figures.agency).await?;
        entries.push(entry(figures, agency.as_ref(), today));
    }
    let mut entries = entries.into_iter();
    let own = entries
        .next()
        .ok_or_else(|| ApiError::internal(&"the store returned no figures for the agency"))?;
    Ok(Json(AgencyDashboard {
        agency: own,
        departments: entries.collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/admin/dashboard",
    tag = "officer",
    operation_id = "rankAgencies",
    summary = "Peringkat instansi / Every agency ranked",
    description = "Semua instansi pelaksana, yang terburuk dahulu menurut tindak lanjut tepat waktu dalam `days` hari; hanya admin pusat. / Every agency that handles reports, worst first by on-time follow-up over `days` days; central admin only.",
    security(("bearer" = [])),
    params(RankingQuery),
    responses(
        (status = 200, description = "Peringkat. / The ranking.", body = Ranking),
        (status = 400, description = "`days` bukan 30, 90 atau 365. / `days` is not 30, 90 or 365.", body = ErrorBody),
    )
)]
pub async fn central(
    officer: Officer,
    State(deps): State<Deps>,
    query: Result<Query<RankingQuery>, QueryRejection>,
) -> Result<Json<Ranking>, ApiError> {
    officer.may(Action::RankAgencies, Relation::Central)?;
    let query = crate::query(query)?;
    let days = stats::requested_window(query.days.as_deref())?;
    let agencies: BTreeMap<AgencyId, Agency> = deps
        .directory
        .agencies()
        .await?
        .into_iter()
        .filter(Agency::handles_reports)
        .map(|a| (a.id.clone(), a))
        .collect();
    let ids: Vec<AgencyId> = agencies.keys().cloned().collect();
    let today = stats::dashboard_today(deps.clock.now());
    let figures = deps
        .statistics
        .agency_figures(&ids, stats::figures_since(today))
        .await?;
    let ranked = stats::ranked_worst_first(figures, days, today)
        .iter()
        .map(|figures| entry(figures, agencies.get(&figures.agency), today))
        .collect();
    Ok(Json(Ranking {
        days,
        agencies: ranked,
    }))
}
