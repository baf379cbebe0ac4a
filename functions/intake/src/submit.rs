//! `POST /reports`: a citizen submits a report.
//!
//! An accepted report costs exactly one store write (one DynamoDB transaction). With an
//! `Idempotency-Key`, the idempotency record is part of that same write, so a retry either finds
//! it (and gets the first answer again) or the first attempt never happened.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, FixedOffset};
use lapor_core::{format_time, AccessKey, Channel, NewReport, ReportDraft, Status, TrackingCode};
use lapor_http::{ApiError, JsonObject};
use lapor_store::{file_report, Filed, IdempotencyKey};
use serde_json::json;

use crate::Deps;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Files a new report; the answer holds its tracking code and, once, its access key.
#[utoipa::path(
    post,
    path = "/reports",
    tag = "reports",
    operation_id = "submit_report",
    summary = "Kirim laporan / Submit a report",
    description = "Laporan baru, disimpan dalam satu penulisan. Dengan `Idempotency-Key`, pengulangan yang sama mendapat jawaban pertama lagi (`Idempotent-Replayed: true`). / A new report, stored in one write. With `Idempotency-Key`, the same request again gets the first answer (`Idempotent-Replayed: true`).",
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$",
         description = "1–255 karakter ASCII tanpa spasi, misalnya UUID. / 1–255 ASCII characters without spaces, e.g. a UUID."),
    ),
    request_body(content = crate::schema::NewReport, content_type = "application/json"),
    responses(
        (status = 201, description = "Diterima / Received", body = crate::schema::Receipt,
         headers(
             ("Location" = String, description = "`/reports/{code}`"),
             ("Cache-Control" = String, description = "`no-store`: the body holds a secret"),
             ("Idempotent-Replayed" = String, description = "`true` when this is the first answer again"),
         )),
        (status = 409, description = "Kunci idempotensi dipakai untuk laporan lain, atau masih diproses. / The idempotency key belongs to another report, or is still being handled.", body = lapor_http::openapi::ErrorBody),
        (status = 429, description = "Terlalu banyak penulisan dari alamat ini. / Too many writes from this address.", body = lapor_http::openapi::ErrorBody),
    ),
)]
pub async fn submit(State(deps): State<Deps>, headers: HeaderMap, body: Body) -> Response {
    match accept(&deps, &headers, body).await {
        Ok(receipt) => receipt.into_response(),
        Err(e) => e.into_response(),
    }
}

/// What the citizen gets back: the public tracking code and the secret access key, once.
struct Receipt {
    code: TrackingCode,
    access_key: AccessKey,
    created_at: DateTime<FixedOffset>,
    replayed: bool,
    /// Whether an SMS receipt goes to the phone given (none when no phone or no notifications).
    sms: Option<bool>,
}

/// Whether the reporter's phone gets SMS: only Indonesian mobile numbers do.
fn sms_receipt(new: &NewReport) -> Option<bool> {
    let reporter = new.reporter.as_ref().filter(|r| r.notifications)?;
    reporter.phone.as_ref().map(|p| p.is_indonesian_mobile())
}

impl IntoResponse for Receipt {
    fn into_response(self) -> Response {
        let status = Status::Diterima;
        let mut body = json!({
            "tracking_code": self.code.as_str(),
            "access_key": self.access_key.reveal(),
            "status": status,
            "color": status.color(false),
            "created_at": format_time(&self.created_at),
        });
        if let Some(sms) = self.sms {
            body["sms_receipt"] = sms.into();
            if !sms {
                body["notice"] = json!({
                    "code": "no_sms_abroad",
                    "message": "Nomor telepon ini bukan nomor seluler Indonesia: tanda terima dan kabar perkembangan tidak dikirim lewat SMS. Simpan kode pelacakan dan kunci akses Anda.",
                    "message_en": "This phone number is not an Indonesian mobile number: no receipt or progress news is sent by SMS. Keep your tracking code and access key.",
                });
            }
        }
        let mut response = (StatusCode::CREATED, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Ok(location) = HeaderValue::from_str(&format!("/reports/{}", self.code)) {
            headers.insert(header::LOCATION, location);
        }
        // The body holds a secret: no cache may keep it.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}

async fn accept(deps: &Deps, headers: &HeaderMap, body: Body) -> Result<Receipt, ApiError> {
    let json = JsonObject::read(headers, body).await?;
    let idempotency_key = idempotency_key(headers)?;
    let new = ReportDraft(&json.object).validate(Channel::Web)?;

    let sms = sms_receipt(&new);
    let with_sms = |mut receipt: Receipt| {
        receipt.sms = sms;
        receipt
    };
    let Some(key) = idempotency_key else {
        return match create(deps, &new, None).await? {
            Some(receipt) => Ok(with_sms(receipt)),
            None => Err(ApiError::internal(&"key conflict without a key")),
        };
    };
    let canonical = serde_json::to_vec(&json.object).map_err(|e| ApiError::internal(&e))?;
    let key = IdempotencyKey::new("POST /reports", &key, &canonical);
    let Some(_guard) = InFlight::claim(deps, key.key_hash()) else {
        return Err(in_flight());
    };
    match create(deps, &new, Some(&key)).await? {
        Some(receipt) => Ok(with_sms(receipt)),
        None => replay(deps, &key).await.map(with_sms),
    }
}

/// Files the report; `None` when a live idempotency record already holds the key.
async fn create(
    deps: &Deps,
    new: &NewReport,
    key: Option<&IdempotencyKey>,
) -> Result<Option<Receipt>, ApiError> {
    let now = deps.clock.now();
    let filed = file_report(
        deps.reports.as_ref(),
        new,
        key,
        &deps.pepper,
        &deps.deadlines,
        now,
    );
    match filed.await? {
        Filed::Created { report, access_key } => {
            tracing::info!(
                tracking_code = %report.tracking_code,
                category = report.category.id(),
                region = %report.region,
                report_type = ?report.report_type,
                privacy = ?report.privacy,
                "report received"
            );
            Ok(Some(Receipt {
                code: report.tracking_code,
                access_key,
                created_at: report.created_at,
                replayed: false,
                sms: None,
            }))
        }
        Filed::KeyTaken => Ok(None),
    }
}

/// A key we have seen: the same body gets the first answer again; another body is refused.
async fn replay(deps: &Deps, key: &IdempotencyKey) -> Result<Receipt, ApiError> {
    let now = deps.clock.now().timestamp();
    let Some(record) = deps.reports.idempotency_record(key.key_hash(), now).await? else {
        // The key's first request is committing in another process right now.
        return Err(in_flight());
    };
    if !key.same_request(&record) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_reused",
            "Kunci idempotensi ini sudah dipakai untuk laporan lain. Gunakan kunci baru untuk laporan baru.",
            "This idempotency key was already used for a different report. Use a new key for a new report.",
        )
        .with_field("Idempotency-Key"));
    }
    tracing::info!(tracking_code = %record.tracking_code, "idempotent submission replayed");
    Ok(Receipt {
        access_key: key.access_key(deps.pepper.get().await?, &record.tracking_code),
        code: record.tracking_code,
        created_at: record.created_at,
        replayed: true,
        sms: None,
    })
}

fn in_flight() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_in_flight",
        "Permintaan dengan kunci idempotensi ini masih diproses. Coba lagi sebentar lagi.",
        "A request with this idempotency key is still being processed. Try again shortly.",
    )
    .with_field("Idempotency-Key")
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Header Idempotency-Key harus 1–255 karakter ASCII tanpa spasi (misalnya sebuah UUID).",
            "The Idempotency-Key header must be 1–255 ASCII characters without spaces (a UUID, say).",
        )
        .with_field("Idempotency-Key"));
    }
    Ok(Some(key.to_string()))
}

/// Marks an idempotency key as being handled by this process until dropped.
struct InFlight<'a> {
    deps: &'a Deps,
    key_hash: String,
}

impl<'a> InFlight<'a> {
    fn claim(deps: &'a Deps, key_hash: &str) -> Option<Self> {
        let mut set = deps.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(key_hash.to_string()).then(|| Self {
            deps,
            key_hash: key_hash.to_string(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self
            .deps
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        set.remove(&self.key_hash);
    }
}
