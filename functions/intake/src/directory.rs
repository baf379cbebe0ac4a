//! The fixed lists a report form needs.

use axum::extract::Query;
use axum::Json;
use lapor_core::{Category, Region};
use lapor_http::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

/// The complaint categories.
#[utoipa::path(
    get,
    path = "/categories",
    tag = "public",
    operation_id = "categories",
    summary = "Kategori / Categories",
    responses((status = 200, description = "Kategori / Categories", body = crate::schema::Categories)),
)]
pub async fn categories() -> Json<Value> {
    let list: Vec<Value> = Category::ALL
        .into_iter()
        .map(|c| {
            let (id, label, label_en, examples) = c.describe();
            json!({"id": id, "label": label, "label_en": label_en, "examples": examples})
        })
        .collect();
    Json(json!({ "categories": list }))
}

#[derive(Deserialize)]
pub struct RegionFilter {
    parent: Option<String>,
}

/// All regions, or the regencies and cities of one province with `?parent=32`.
#[utoipa::path(
    get,
    path = "/regions",
    tag = "public",
    operation_id = "regions",
    summary = "Wilayah / Regions",
    params(("parent" = Option<String>, Query, pattern = "^[0-9]{2}(\\.[0-9]{2})?$",
            description = "Kode provinsi: hanya kabupaten/kotanya / A province code: only its regencies and cities")),
    responses(
        (status = 200, description = "Wilayah / Regions", body = crate::schema::Regions),
        (status = 400, description = "Kode tidak valid / An invalid code", body = lapor_http::openapi::ErrorBody),
        (status = 404, description = "Tanpa kabupaten/kota / No regencies or cities", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn regions(
    filter: Result<Query<RegionFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let parent = lapor_http::query(filter)?.parent;
    let list: Vec<&Region> = Region::all()
        .iter()
        .filter(|r| parent.is_none() || r.parent == parent)
        .collect();
    if let Some(p) = &parent {
        if list.is_empty() {
            // A malformed code is a 400; a well-formed one not in the table (`unknown_region`)
            // or without regencies (`no_regions`) names nothing to list: 404.
            return Err(match lapor_core::RegionCode::parse(p) {
                Err(e) if e.code == "invalid_region" => ApiError::from(e),
                Err(e) => {
                    let mut error = ApiError::from(e);
                    error.status = axum::http::StatusCode::NOT_FOUND;
                    error
                }
                Ok(_) => ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "no_regions",
                    format!("Wilayah `{p}` tidak memiliki kabupaten/kota dalam tabel."),
                    format!("The region `{p}` has no regencies or cities in the table."),
                ),
            }
            .with_field("parent"));
        }
    }
    Ok(Json(json!({ "regions": list })))
}
