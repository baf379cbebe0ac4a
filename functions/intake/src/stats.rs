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

pub async fn stats(
    State(deps): State<Deps>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    let region = RegionCode::parse(
        q.region
            .as_deref()
            .ok_or_else(|| Invalid::missing("region"))?,
    )?;
    let this_year = stats::this_year(&region, deps.clock.now());
    let year = stats::requested_year(q.year.as_deref(), this_year)?;
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
