//! `GET /stats?region=32.74&year=2026&group_by=agency|category|month`: the published figures, read
//! from counters kept with every state change (no scan). Confidential reports are one number
//! beside the rows, never in them.

use axum::extract::{Query, State};
use axum::Json;
use lapor_core::stats::{self, GroupBy, StatsRow};
use lapor_core::{Invalid, RegionCode};
use lapor_http::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::Deps;

#[derive(Deserialize)]
pub struct StatsQuery {
    region: Option<String>,
    year: Option<String>,
    group_by: Option<String>,
}

/// The published yearly figures of a region.
#[utoipa::path(
    get,
    path = "/stats",
    tag = "public",
    operation_id = "statistics",
    summary = "Statistik / Statistics",
    params(
        ("region" = inline(crate::schema::RegionCode), Query, description = "Kode wilayah / Region code (`GET /regions`)"),
        ("year" = Option<i32>, Query, minimum = 2000, maximum = 9999, description = "Tahun (bawaan: tahun ini) / Year (default: this year)"),
        ("group_by" = inline(Option<crate::schema::GroupBy>), Query, description = "`agency`, `category` (bawaan/default) atau/or `month`"),
    ),
    responses(
        (status = 200, description = "Angka / Figures", body = crate::schema::Stats),
        (status = 400, description = "Wilayah, tahun atau pengelompokan tidak valid / Invalid region, year or grouping", body = lapor_http::openapi::ErrorBody),
        (status = 404, description = "Tahun yang belum tiba / A year still to come", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn stats(
    State(deps): State<Deps>,
    q: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = lapor_http::query(q)?;
    let region = RegionCode::parse(
        q.region
            .as_deref()
            .ok_or_else(|| Invalid::missing("region"))?,
    )?;
    let this_year = stats::this_year(&region, deps.clock.now());
    let year = match q.year.as_deref().map(|y| y.trim().parse::<i32>()) {
        // A year that has not come has no figures yet: nothing to find, not a wrong request.
        Some(Ok(year)) if year > this_year && year <= 9999 => {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "no_figures_yet",
                format!("Belum ada angka untuk tahun {year}."),
                format!("There are no figures for {year} yet."),
            )
            .with_field("year"))
        }
        _ => stats::requested_year(q.year.as_deref(), this_year)?,
    };
    let group = match q.group_by.as_deref() {
        None => GroupBy::Category,
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            Invalid::field(
                "group_by",
                "invalid_value",
                "Kolom `group_by` harus agency, category atau month.",
                "The field `group_by` must be agency, category or month.",
            )
        })?,
    };
    let rows = deps.statistics.stats(&region, year, group).await?;
    let total = StatsRow::sum("total".into(), &rows);
    // Rahasia and whistleblowing reports count here only: one number per region and year.
    let confidential: i64 = deps
        .statistics
        .stats(&region, year, GroupBy::Confidential)
        .await?
        .iter()
        .map(|row| row.total)
        .sum();
    Ok(Json(json!({
        "region": {"code": region.as_str(), "name": region.region().name},
        "year": year,
        "group_by": group.prefix().trim_end_matches('#'),
        "rows": rows,
        "totals": total,
        "confidential": {
            "total": confidential,
            "note": "Laporan rahasia dan whistleblowing hanya dihitung di sini, tidak dirinci per instansi, kategori, bulan, atau status.",
            "note_en": "Confidential (rahasia) and whistleblowing reports are counted here only, never by agency, category, month or status.",
        },
    })))
}
