//! `POST /dev/partner-keys` with `{"name"}`: issues an Open311 partner key on this lapor-local's
//! store, as `lapor-admin partner-keys issue` does on the DynamoDB table, and answers with it
//! (shown once, as the command prints it once). Served to this computer only: a key lets its
//! holder file reports.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lapor_admin::{issue_partner_key, PartnerKeyError};
use lapor_core::partner::PARTNER_NAME_MAX;
use lapor_core::report::text;
use lapor_http::{ApiError, JsonObject};
use lapor_store::PartnerKeys;
use serde_json::json;

pub async fn issue(
    State(keys): State<Arc<dyn PartnerKeys>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["name"]).await?;
    let name = text(&body, "name", 1, PARTNER_NAME_MAX, false)?;
    let now = chrono::Utc::now().fixed_offset();
    let (record, key) =
        issue_partner_key(keys.as_ref(), &name, now)
            .await
            .map_err(|e| match e {
                PartnerKeyError::Invalid(invalid) => ApiError::from(invalid),
                PartnerKeyError::Store(store) => ApiError::from(store),
            })?;
    let body = json!({"id": record.id, "name": record.name, "api_key": key.reveal()});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
