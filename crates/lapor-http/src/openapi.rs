//! What the OpenAPI document shares across functions: the error body, the bearer scheme, and the
//! answers and headers every operation has. Each function describes its own routes with
//! `#[utoipa::path]` next to the handler; [`document`] adds the rest, so a handler's annotation
//! names only what is particular to it.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    Content, InfoBuilder, Object, ObjectBuilder, OpenApi, RefOr, Required, Response, Schema, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// The name of the bearer scheme officer routes declare (`security(("bearer" = []))`).
pub const BEARER: &str = "bearer";

/// Every error: `{"error": {"code", "message", "message_en", "field"?, ...}}`.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// One error, in Indonesian and English.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `invalid_length`, `not_found`, `version_conflict`.
    code: String,
    /// The message in Indonesian.
    message: String,
    /// The same message in English.
    message_en: String,
    /// The request field the error is about (`reporter.phone` for nested fields).
    field: Option<String>,
    /// `illegal_transition`: the statuses the report may move to from where it is.
    allowed: Option<Vec<String>>,
    /// `version_conflict`: the report as it is now (the officer view), to decide again.
    #[schema(value_type = Option<Object>)]
    current: Option<serde_json::Value>,
}

/// The finished document: `paths` (the functions' routes) with the title, the bearer scheme,
/// the error schema, and on every operation the request id header, `500`/`503` answers, the
/// JSON body answers (`400`/`413`/`415`) where a body is read, and `401`/`403` where a token is
/// required.
pub fn document(mut api: OpenApi) -> OpenApi {
    api.info = InfoBuilder::new()
        .title("Lapor API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Layanan pengaduan pelayanan publik: laporan warga, pelacakan, tindak lanjut instansi. \
             Setiap galat berbentuk `{\"error\": {\"code\", \"message\", \"message_en\"}}`. / \
             Public-service complaints: citizens' reports, tracking, agencies' follow-up. Every \
             error has the shape `{\"error\": {\"code\", \"message\", \"message_en\"}}`.",
        ))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    components
        .schemas
        .insert(ErrorDetail::name().into_owned(), ErrorDetail::schema());
    components.security_schemes.insert(
        BEARER.into(),
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "Token ID Cognito petugas (lapor-local: `lapor-local token`). / The officer's \
                     Cognito ID token (lapor-local: `lapor-local token`).",
                ))
                .build(),
        ),
    );
    for item in api.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
            complete(operation);
        }
    }
    api
}

fn complete(operation: &mut Operation) {
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(request_id_parameter());
    let reads_json = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let needs_token = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut common = vec![
        ("500", "Gangguan sistem. / A backend failure; nothing was changed."),
        ("503", "Sistem sibuk, coba lagi setelah `Retry-After` detik. / Busy: nothing was done, retry after `Retry-After` seconds."),
    ];
    if reads_json {
        common.extend([
            (
                "400",
                "Isian tidak valid; `field` menyebut kolomnya. / Invalid input; `field` names it.",
            ),
            (
                "413",
                "Isi permintaan lebih dari 64 KiB. / The body is larger than 64 KiB.",
            ),
            ("415", "Isi permintaan bukan JSON. / The body is not JSON."),
        ]);
    }
    if needs_token {
        common.extend([
            ("401", "Tanpa token atau token tidak sah. / No token, or an invalid one."),
            ("403", "Peran atau instansi petugas tidak berwenang. / The officer's role or agency may not do this."),
        ]);
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.into())
            .or_insert_with(|| RefOr::T(error_response(description)));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        response
            .headers
            .insert("x-request-id".into(), request_id_header());
        if status == "429" || status == "503" {
            response.headers.insert("Retry-After".into(), retry_after());
        }
    }
}

/// An error answer with the shared error body.
pub fn error_response(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".into(),
        Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            ErrorBody::name(),
        )))),
    );
    response
}

fn request_id_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("x-request-id")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Id permintaan Anda (≤128 karakter ASCII); tanpa itu server membuatnya. / Your \
             request id (≤128 printable ASCII characters); the server makes one otherwise.",
        ))
        .schema(Some(Schema::Object(Object::with_type(Type::String))))
        .build()
}

fn request_id_header() -> Header {
    let mut header = Header::new(Object::with_type(Type::String));
    header.description = Some(
        "Id permintaan ini (milik Anda atau buatan server), juga di log. / This request's id \
         (yours or the server's), also in the logs."
            .into(),
    );
    header
}

fn retry_after() -> Header {
    let mut header = Header::new(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0)),
    );
    header.description = Some("Detik sebelum mencoba lagi. / Seconds before retrying.".into());
    header
}

/// The characters Rust's `str::trim` removes (Unicode `White_Space`), as a regex class body.
const WHITE_SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`).
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// Control characters but tab and line breaks, for multi-line text.
const CONTROL_BUT_LINES: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The pattern of text as `lapor_core::report::text` accepts it: once the white space around it
/// is trimmed, `min`–`max` characters (`min` ≥ 1) with no control characters (but tabs and line
/// breaks when `multiline`). The length is in the pattern because it counts the trimmed text.
pub fn text_pattern(min: usize, max: usize, multiline: bool) -> String {
    let inner = if multiline {
        CONTROL_BUT_LINES
    } else {
        CONTROL
    };
    let edge = format!("[^{WHITE_SPACE}{CONTROL}]");
    let body = if min <= 1 {
        format!("{edge}(?:[^{inner}]{{0,{}}}{edge})?", max.saturating_sub(2))
    } else {
        format!(
            "{edge}[^{inner}]{{{},{}}}{edge}",
            min - 2,
            max.saturating_sub(2)
        )
    };
    format!("^[{WHITE_SPACE}]*{body}[{WHITE_SPACE}]*$")
}

/// Required text (see [`text_pattern`]). The lengths are in the pattern only: a `minLength`
/// beside it would count the white space the server trims.
pub fn text(min: usize, max: usize, multiline: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(text_pattern(min, max, multiline)))
        .description(Some(format!(
            "{min}–{max} karakter setelah spasi di tepi dibuang{}. / {min}–{max} characters once \
             trimmed{}.",
            if multiline {
                ", boleh beberapa baris"
            } else {
                ", satu baris"
            },
            if multiline {
                ", line breaks allowed"
            } else {
                ", one line"
            },
        )))
        .build()
}

/// Optional text as `lapor_core::report::optional_text` reads it: absent, `null` or blank is
/// none; otherwise 1–`max` characters as [`text`].
pub fn optional_text(max: usize, multiline: bool) -> Object {
    let filled = text_pattern(1, max, multiline);
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .pattern(Some(format!("^[{WHITE_SPACE}]*$|{filled}")))
        .build()
}

/// A tracking code as it is printed (10 symbols of Crockford's base 32, the last a check).
pub const TRACKING_CODE: &str = "^[0-9A-HJKMNP-TV-Z]{10}$";

/// One timeline entry (`lapor_http::timeline_entry`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TimelineEntry {
    #[schema(format = DateTime)]
    at: String,
    /// `submitted`, `triage`, `forwarded`, `follow_up`, `returned`, `reply`, `rating`,
    /// `archived`, `escalated`, `closed` or `evidence`.
    kind: String,
    /// `reporter`, `admin_pusat`, `agency_admin`, `officer` or `system`.
    actor: String,
    agency: Option<String>,
    status_before: Option<lapor_core::Status>,
    status_after: lapor_core::Status,
    from_agency: Option<String>,
    to_agency: Option<String>,
    message: Option<String>,
    /// The id of the file an `evidence` entry is about.
    attachment: Option<String>,
}

/// One file of a report (`lapor_files::listing`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AttachmentEntry {
    id: String,
    status: AttachmentState,
    content_type: FileType,
    size: u64,
    /// Of the cleaned file, once it is ready.
    sha256: Option<String>,
    #[schema(format = DateTime)]
    requested_at: String,
    by: Uploader,
    /// The agency that attached it (`by` = `agency` only).
    #[schema(required = false)]
    agency: String,
    /// The timeline position of the follow-up it goes with (`by` = `agency` only).
    #[schema(required = false)]
    follow_up: u64,
    /// A short-lived download link (`ready` only).
    #[schema(required = false)]
    download_url: String,
    #[schema(required = false, format = DateTime)]
    download_expires_at: String,
    /// Why the file was refused (`rejected` only).
    #[schema(required = false)]
    rejection: Rejection,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum AttachmentState {
    Processing,
    Ready,
    Rejected,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Uploader {
    Reporter,
    Agency,
}

/// Why a file was refused, in Indonesian and English.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Rejection {
    code: String,
    message: String,
    message_en: String,
}

/// The file types evidence may have, as the answers name them.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum FileType {
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "application/pdf")]
    Pdf,
}

/// The `201` answer (`lapor_http::offer_upload`): where and how to upload, and until when.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadOffer {
    /// The attachment's id.
    id: String,
    /// Always `processing`: the file is checked once uploaded.
    #[schema(pattern = "^processing$")]
    status: String,
    upload: UploadTarget,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// The signed request that uploads the file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadTarget {
    url: String,
    /// `PUT`.
    method: String,
    /// Headers to send with the upload, exactly.
    headers: std::collections::BTreeMap<String, String>,
}

/// An attachment request: the file's type and size, checked before any upload is offered.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AttachmentRequest {
    /// The file's name on the sender's device (kept for the officer; never published).
    #[schema(schema_with = filename)]
    filename: String,
    #[schema(value_type = String, pattern = "^(image/jpeg|image/png|image/webp|application/pdf)$")]
    content_type: String,
    /// Bytes, at most the deployment's `EVIDENCE_MAX_BYTES` (10 MiB unless set otherwise).
    #[schema(minimum = 1, maximum = 10485760)]
    size: u64,
}

fn filename() -> Object {
    text(1, 255, false)
}
