//! The fixed lists a report form needs.

use axum::extract::Query;
use axum::Json;
use lapor_core::{Category, Region};
use lapor_http::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

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
pub async fn regions(Query(filter): Query<RegionFilter>) -> Result<Json<Value>, ApiError> {
    let parent = filter.parent;
    let list: Vec<&Region> = Region::all()
        .iter()
        .filter(|r| parent.is_none() || r.parent == parent)
        .collect();
    if let Some(p) = &parent {
        if list.is_empty() {
            return Err(lapor_core::RegionCode::parse(p)
                .err()
                .map(ApiError::from)
                .unwrap_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::NOT_FOUND,
                        "no_regions",
                        format!("Wilayah `{p}` tidak memiliki kabupaten/kota dalam tabel."),
                        format!("The region `{p}` has no regencies or cities in the table."),
                    )
                })
                .with_field("parent"));
        }
    }
    Ok(Json(json!({ "regions": list })))
}
