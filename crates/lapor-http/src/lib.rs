//! What every Lapor HTTP function shares: the bilingual JSON error body, reading a JSON body
//! with its limits, request ids, and JSON answers for unknown routes and wrong methods.

pub mod auth;
mod client;
pub mod described;
mod evidence;
pub mod openapi;

pub use client::client_address;
pub use evidence::{evidence_unavailable, offer_upload};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lapor_core::{Invalid, Message};
use lapor_store::{Conflict, StoreError};
use serde_json::{json, Map, Value};

/// How long a client is asked to wait before retrying a request the backend was too busy for.
const RETRY_AFTER_SECS: u32 = 1;

/// The largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error as the client sees it: `{"error": {"code", "message", "message_en", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    detail: Box<Detail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Detail {
    message: Message,
    field: Option<String>,
    /// Extra members of the error object (e.g. the allowed next statuses).
    extra: Option<Value>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        id: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            detail: Box::new(Detail {
                message: Message::new(id, en),
                field: None,
                extra: None,
                retry_after: None,
            }),
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.detail.field = Some(field.into());
        self
    }

    /// Adds members to the error object, e.g. `{"allowed": [...]}`.
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.detail.extra = Some(extra);
        self
    }

    /// Nothing was done and the same request can succeed later: `503` with `Retry-After`.
    pub fn busy(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "backend busy; the client is asked to retry");
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Sistem sedang sibuk dan permintaan Anda belum diproses. Silakan coba lagi sebentar lagi.",
            "The system is busy and your request was not processed. Please try again shortly.",
        );
        error.detail.retry_after = Some(RETRY_AFTER_SECS);
        error
    }

    /// Tells the client when the same request may succeed (`Retry-After`, in seconds).
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.detail.retry_after = Some(seconds);
        self
    }

    pub fn field(&self) -> Option<&str> {
        self.detail.field.as_deref()
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Laporan tidak ditemukan.",
            "Report not found.",
        )
    }

    /// A backend failure. The cause goes to the log with the request's span, never to the body.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "backend failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Terjadi gangguan pada sistem. Silakan coba lagi beberapa saat lagi.",
            "Something went wrong on our side. Please try again shortly.",
        )
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: e.code,
            detail: Box::new(Detail {
                message: e.message,
                field: e.field,
                extra: None,
                retry_after: None,
            }),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(Conflict::VersionMismatch) => Self::new(
                StatusCode::CONFLICT,
                "version_conflict",
                "Laporan baru saja diubah oleh orang lain. Muat ulang lalu coba lagi.",
                "The report was just changed by someone else. Reload and try again.",
            ),
            StoreError::Conflict(Conflict::BadCursor) => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "Kursor halaman tidak valid.",
                "The page cursor is not valid.",
            )
            .with_field("cursor"),
            StoreError::Busy(cause) => Self::busy(&cause),
            other => Self::internal(&other),
        }
    }
}

impl From<lapor_core::TransitionError> for ApiError {
    fn from(e: lapor_core::TransitionError) -> Self {
        let allowed: Vec<&str> = e.allowed.iter().map(|s| s.as_str()).collect();
        Self::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            format!(
                "Status laporan tidak dapat berubah dari `{}` menjadi `{}`.",
                e.from, e.to
            ),
            format!("A report cannot move from `{}` to `{}`.", e.from, e.to),
        )
        .with_extra(json!({ "allowed": allowed }))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Detail {
            message,
            field,
            extra,
            retry_after,
        } = *self.detail;
        let mut error = json!({
            "code": self.code,
            "message": message.id,
            "message_en": message.en,
        });
        if let Some(field) = field {
            error["field"] = Value::String(field);
        }
        if let (Some(Value::Object(extra)), Some(obj)) = (extra, error.as_object_mut()) {
            obj.extend(extra);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON object read from a request body: checks the content type (415), the size (413) and
/// the syntax (400), in that order, before anything else looks at it.
pub struct JsonObject {
    pub object: Map<String, Value>,
}

impl JsonObject {
    /// A JSON object body with no fields but `known`: the form of every request that changes a
    /// report.
    pub async fn read_fields(
        headers: &HeaderMap,
        body: Body,
        known: &[&str],
    ) -> Result<Map<String, Value>, ApiError> {
        let object = Self::read(headers, body).await?.object;
        lapor_core::report::reject_unknown(&object, known)?;
        Ok(object)
    }

    pub async fn read(headers: &HeaderMap, body: Body) -> Result<Self, ApiError> {
        if !is_json(headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Kirim data sebagai JSON dengan header Content-Type: application/json.",
                "Send the data as JSON with the header Content-Type: application/json.",
            ));
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| too_large())?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!(
                    "Isi permintaan bukan JSON yang valid (baris {}, kolom {}).",
                    e.line(),
                    e.column()
                ),
                format!(
                    "The request body is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        match value {
            Value::Object(object) => Ok(Self { object }),
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Isi permintaan harus berupa objek JSON.",
                "The request body must be a JSON object.",
            )),
        }
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("Isi permintaan melebihi {} KiB.", MAX_BODY_BYTES / 1024),
        format!(
            "The request body is larger than {} KiB.",
            MAX_BODY_BYTES / 1024
        ),
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Answer for a path no route serves.
pub async fn unknown_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_route",
        "Alamat API ini tidak ada.",
        "There is no such API path.",
    )
}

/// Answer for a known path called with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Metode HTTP ini tidak didukung untuk alamat ini.",
        "This HTTP method is not supported for this path.",
    )
}

/// Gives every request an id (the caller's `x-request-id`, or API Gateway's, or a new one),
/// runs it inside a tracing span carrying that id, and echoes it in the response.
pub async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .or_else(|| request.headers().get("apigw-requestid"))
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id);
    let span = tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = tracing::Instrument::instrument(next.run(request), span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

fn new_request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Wraps a function's routes with what every HTTP surface needs: JSON 404/405 answers and
/// request ids. Used once per Lambda function and once for lapor-local's merged router.
pub fn finish(routes: axum::Router) -> axum::Router {
    routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(request_id))
}

/// One timeline entry as every view shows it (which entries a view shows is the view's choice).
pub fn timeline_entry(event: &lapor_core::Event) -> Value {
    json!({
        "at": lapor_core::format_time(&event.at),
        "kind": event.kind,
        "actor": event.actor,
        "agency": event.agency,
        "status_before": event.status_before,
        "status_after": event.status_after,
        "from_agency": event.from_agency,
        "to_agency": event.to_agency,
        "message": event.message,
        "attachment": event.attachment.as_ref().map(|a| a.as_str()),
    })
}

/// The tracking code in a route's path. A code that cannot be one (a typo, a wrong length) names
/// no report: `404`, with the parser's message saying what looks wrong.
pub fn path_code(input: &str) -> Result<lapor_core::TrackingCode, ApiError> {
    lapor_core::TrackingCode::parse(input).map_err(|invalid| {
        let mut error = ApiError::from(invalid);
        error.status = StatusCode::NOT_FOUND;
        error
    })
}

/// The tracking code of a route's `{code}`, through axum's path extractor: a segment that is not
/// even text (bad percent-encoding) names no report either.
pub fn code_in(
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<lapor_core::TrackingCode, ApiError> {
    match path {
        Ok(axum::extract::Path(code)) => path_code(&code),
        Err(_) => Err(ApiError::not_found()),
    }
}

/// A query string read into `T`, or `400 invalid_query` in the API's error shape (axum's own
/// rejection is plain text).
pub fn query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    query.map(|axum::extract::Query(q)| q).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "Parameter alamat (query string) tidak valid; setiap parameter paling banyak satu kali.",
            "The query string is not valid; give each parameter at most once.",
        )
        .with_extra(json!({ "detail": e.body_text() }))
    })
}
