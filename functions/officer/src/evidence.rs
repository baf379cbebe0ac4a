//! `POST /agency/reports/{code}/attachments`: an officer of the assigned agency attaches files to
//! one of the agency's follow-ups (the repaired road, a signed letter), at most five per
//! follow-up. As for reporters, the answer is a short-lived upload URL; the evidence function
//! checks and strips the file before anyone can download it.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use lapor_core::attachment::DEFAULT_MAX_FILE_BYTES;
use lapor_core::permission::Action;
use lapor_core::{EventKind, Invalid, UploadRequest, Uploader};
use lapor_http::auth::Officer;
use lapor_http::openapi::{ErrorBody, UploadOffer};
use lapor_http::{ApiError, JsonObject};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::schema::{self, MAX_SAFE_INTEGER};
use crate::{is_position, load, path_code, whole_number, CodePath, Deps};

/// `POST /agency/reports/{code}/attachments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AttachRequest {
    #[schema(schema_with = filename)]
    filename: String,
    #[schema(schema_with = content_type)]
    content_type: String,
    #[schema(schema_with = size)]
    size: u64,
    #[schema(schema_with = follow_up)]
    follow_up: Option<u64>,
}

fn filename() -> Object {
    schema::string(
        "Nama berkas, 1–255 karakter setelah spasi di tepi dibuang, tanpa karakter kontrol; \
         hanya diperiksa, tidak disimpan. / The file name, 1–255 characters once trimmed, with \
         no control characters; checked, never stored.",
        schema::text_pattern(1, FILENAME_MAX, false),
        false,
    )
}

/// `lapor_core::attachment`'s limit on file names.
const FILENAME_MAX: usize = 255;

fn content_type() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([
            "image/jpeg",
            "image/png",
            "image/webp",
            "application/pdf",
            "image/jpg",
            "image/pjpeg",
        ]))
        .description(Some(
            "Jenis berkas; huruf besar-kecil dan parameter (`; charset=...`) juga diterima. / The \
             file type; other letter cases and parameters (`; charset=...`) are accepted too.",
        ))
        .build()
}

fn size() -> Object {
    schema::integer(
        "Ukuran berkas dalam bita. / The file's size in bytes.",
        1,
        DEFAULT_MAX_FILE_BYTES,
        false,
    )
}

fn follow_up() -> Object {
    schema::integer(
        "Nomor urut tindak lanjut instansi Anda pada linimasa yang disertai berkas ini; tanpa itu, \
         yang terakhir. / The timeline position of your agency's follow-up the file goes with; \
         without it, the latest.",
        1,
        MAX_SAFE_INTEGER,
        true,
    )
}

#[utoipa::path(
    post,
    path = "/agency/reports/{code}/attachments",
    tag = "officer",
    operation_id = "attachAgencyFile",
    summary = "Lampiran tindak lanjut / Attach a file to a follow-up",
    description = "Petugas instansi pemegang laporan melampirkan berkas pada tindak lanjutnya (paling banyak lima); jawabannya alamat unggah berumur pendek. / An officer of the holding agency attaches a file to one of its follow-ups (at most five); the answer is a short-lived upload URL.",
    security(("bearer" = [])),
    params(CodePath),
    request_body(content = AttachRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Tempat berkas dipesan; unggah sebelum `expires_at`. / A place for the file is reserved; upload it before `expires_at`.", body = UploadOffer,
            headers(("Cache-Control" = String, description = "`no-store`: alamat unggah adalah kredensial. / `no-store`: the upload URL is a credential."))),
        (status = 404, description = "Laporan tidak ada atau di luar jangkauan Anda (`not_found`, `invalid_tracking_code`). / No such report, or not one you can see.", body = ErrorBody),
        (status = 409, description = "`no_follow_up`, `report_closed`, atau `too_many_files` (dengan `max`). / `no_follow_up`, `report_closed`, or `too_many_files` (with `max`).", body = ErrorBody),
        (status = 503, description = "Lampiran tidak tersedia di sini (`evidence_unavailable`) atau sistem sibuk. / Attachments are not available here (`evidence_unavailable`), or the system is busy.", body = ErrorBody),
    )
)]
pub async fn attach(
    officer: Officer,
    State(deps): State<Deps>,
    code: Result<Path<CodePath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(files) = deps.files.clone() else {
        return Err(lapor_http::evidence_unavailable());
    };
    let mut body = JsonObject::read(&headers, body).await?.object;
    let asked = follow_up_field(&mut body)?;
    whole_size(&mut body);
    let request = UploadRequest::parse(&body, deps.max_file_bytes)?;
    let now = deps.clock.now();
    let (deps, officer, code) = (&deps, &officer, &path_code(code)?);
    lapor_http::offer_upload(
        files.as_ref(),
        deps.reports.as_ref(),
        || async move {
            let (report, relation) = load(deps, officer, code).await?;
            officer.may(Action::FollowUp, relation)?;
            let follow_up = follow_up_of(deps, officer, &report, asked).await?;
            let uploader = Uploader::Agency {
                agency: officer.agency.clone(),
                follow_up,
            };
            Ok((report, uploader))
        },
        request,
        now,
    )
    .await
}

/// `size` written as a whole number with a fraction (`1000.0`) as the integer it is, which
/// `UploadRequest::parse` reads only in integer form.
fn whole_size(body: &mut Map<String, Value>) {
    if let Some(Value::Number(n)) = body.get("size") {
        if let Some(size) = whole_number(n) {
            body.insert("size".into(), size.into());
        }
    }
}

/// The optional `follow_up` field: the timeline position of the follow-up the files belong to.
fn follow_up_field(body: &mut Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match body.remove("follow_up") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if whole_number(&n).is_some_and(is_position) => Ok(whole_number(&n)),
        Some(_) => Err(Invalid::field(
            "follow_up",
            "invalid_type",
            "Kolom `follow_up` harus nomor urut tindak lanjut pada linimasa.",
            "The field `follow_up` must be the follow-up's position on the timeline.",
        )
        .into()),
    }
}

/// The agency's follow-up the files go with: the one asked for, or its latest.
async fn follow_up_of(
    deps: &Deps,
    officer: &Officer,
    report: &lapor_core::Report,
    asked: Option<u64>,
) -> Result<u64, ApiError> {
    let timeline = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await?
        .map(|r| r.timeline)
        .unwrap_or_default();
    let own = timeline
        .iter()
        .filter(|e| e.kind == EventKind::FollowUp && e.agency.as_ref() == Some(&officer.agency));
    let found = match asked {
        Some(seq) => own.filter(|e| e.seq == seq).map(|e| e.seq).next(),
        None => own.map(|e| e.seq).max(),
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_follow_up",
            "Lampiran instansi menyertai tindak lanjut instansi Anda: kirim tindak lanjut dahulu (atau sebutkan `follow_up` yang benar).",
            "An agency's files go with one of its follow-ups: post a follow-up first (or name the right `follow_up`).",
        )
        .with_field("follow_up")
    })
}
