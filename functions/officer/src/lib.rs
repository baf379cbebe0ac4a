//! The officer function: the central admin's triage queue, forwarding (disposisi) and returning a
//! report as not the agency's authority (bukan wewenang). Callers are identified by the claims of
//! their verified token ([`Officer`]); every hop is one versioned write with its timeline event.

mod dashboard;
mod evidence;
mod inbox;
mod schema;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router};
use lapor_core::permission::{Action, ForwardTo, Relation};
use lapor_core::report::{optional_text, text};
use lapor_core::{
    format_time, Agency, AgencyId, Category, Channel, Clock, Color, Deadlines, Invalid, Privacy,
    Report, ReportType, Status,
};
use lapor_http::auth::Officer;
use lapor_http::openapi::ErrorBody;
use lapor_http::{ApiError, JsonObject};
use lapor_store::{
    until_written, AgencyDirectory, Attempt, Conflict, Queue, ReporterIdentity, Reports,
    StoreError, Stores, WorkQueues,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::schema::MAX_SAFE_INTEGER;

/// What the officer routes touch: reports, the queues, the directory (departments, forwarding
/// targets) and reporter identity, which the policy shows on `publik` reports only.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub queues: Arc<dyn WorkQueues>,
    /// Agencies' dashboard figures (read only: the statistics consumer counts them).
    pub statistics: Arc<dyn lapor_store::Statistics>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
    /// Where evidence files go (`None`: attachments are not offered).
    pub files: Option<Arc<dyn lapor_files::EvidenceFiles>>,
    /// The largest evidence file accepted.
    pub max_file_bytes: u64,
}

impl Deps {
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>, deadlines: Deadlines) -> Self {
        Self {
            reports: stores.reports.clone(),
            identity: stores.identity.clone(),
            directory: stores.directory.clone(),
            queues: stores.queues.clone(),
            statistics: stores.statistics.clone(),
            clock,
            deadlines,
            files: None,
            max_file_bytes: lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Evidence attachments, in `files`, of at most `max_bytes` each.
    pub fn with_files(
        mut self,
        files: Arc<dyn lapor_files::EvidenceFiles>,
        max_bytes: u64,
    ) -> Self {
        self.files = Some(files);
        self.max_file_bytes = max_bytes;
        self
    }
}

const PAGE_DEFAULT: usize = 25;
const PAGE_MAX: usize = 100;
const REASON_MIN: usize = 10;
const TEXT_MAX: usize = 2_000;

lapor_http::described_routes! {
    /// The officer routes, each at its `#[utoipa::path]` annotation's path and methods: the
    /// router and the OpenAPI document are this one list, so neither can drift.
    fn described() -> Router<Deps>;
    /// The officer routes' part of the OpenAPI document (`lapor_http::openapi::document`
    /// finishes it).
    pub fn openapi() -> OpenApi;
    [
        triage,
        dashboard::agency,
        dashboard::central,
        inbox::inbox,
        inbox::agency_view,
        evidence::attach,
        follow_up,
        forward,
        return_report,
    ]
}

/// The officer routes, without fallbacks, for merging into lapor-local.
pub fn routes(deps: Deps) -> Router {
    described().with_state(deps)
}

pub fn router(deps: Deps) -> Router {
    lapor_http::finish(routes(deps))
}

/// What an officer sees of a report: everything but the reporter's identity and secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfficerReport {
    tracking_code: String,
    #[serde(rename = "type")]
    report_type: ReportType,
    title: String,
    description: String,
    category: Category,
    region: RegionName,
    privacy: Privacy,
    channel: Channel,
    status: Status,
    color: Color,
    /// The agency holding the report (`null` while it waits for the central admin).
    #[schema(value_type = Option<String>)]
    agency: Option<AgencyId>,
    /// Waiting in the central admin's triage queue.
    triage: bool,
    /// When the current stage's deadline passes.
    #[schema(format = DateTime)]
    due_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The version to send back as `version` with a decision on this view.
    version: u64,
}

/// A region by its BPS code and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionName {
    code: String,
    name: String,
}

impl OfficerReport {
    pub fn of(report: &Report) -> Self {
        let region = report.region.region();
        Self {
            tracking_code: report.tracking_code.as_str().to_string(),
            report_type: report.report_type,
            title: report.title.clone(),
            description: report.description.clone(),
            category: report.category,
            region: RegionName {
                code: region.code.clone(),
                name: region.name.clone(),
            },
            privacy: report.privacy,
            channel: report.channel,
            status: report.status,
            color: report.color(),
            agency: report.agency.clone(),
            triage: report.triage,
            due_at: report.due_at.as_ref().map(format_time),
            created_at: format_time(&report.created_at),
            updated_at: format_time(&report.updated_at),
            version: report.version,
        }
    }
}

/// A page of a listing: `limit` (1–100, 25 when absent) reports after `cursor`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Lanjutan dari `next_cursor` halaman sebelumnya. / Where the previous page's
    /// `next_cursor` left off.
    #[param(pattern = "^(?:[0-7][0-9A-Fa-f])+$")]
    cursor: Option<String>,
    /// Jumlah laporan per halaman (bawaan 25). / Reports per page (25 by default).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// The page size asked for; outside 1–100 is refused rather than quietly changed.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(limit) if (1..=PAGE_MAX).contains(&limit) => Ok(limit),
        Some(_) => Err(Invalid::field(
            "limit",
            "invalid_value",
            format!("Kolom `limit` harus 1–{PAGE_MAX}."),
            format!("The field `limit` must be 1–{PAGE_MAX}."),
        )
        .into()),
    }
}

/// The cursor asked for. Cursors are hex-encoded ASCII positions: anything else (an empty one
/// too) could only come from a client that made it up.
pub(crate) fn page_cursor(cursor: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let ascii_hex = cursor.len() % 2 == 0
        && cursor
            .as_bytes()
            .chunks(2)
            .all(|pair| matches!(pair[0], b'0'..=b'7') && pair[1].is_ascii_hexdigit());
    if cursor.is_empty() || !ascii_hex {
        return Err(StoreError::Conflict(Conflict::BadCursor).into());
    }
    Ok(Some(cursor))
}

pub(crate) use lapor_http::query;

/// The report a route's path names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct CodePath {
    /// Kode pelacakan laporan. / The report's tracking code.
    #[param(pattern = "^[0-9A-HJKMNP-TV-Z]{10}$")]
    code: String,
}

/// The tracking code in the path; one that cannot be a code names no report (`404`).
pub(crate) fn path_code(
    path: Result<Path<CodePath>, PathRejection>,
) -> Result<lapor_core::TrackingCode, ApiError> {
    let Path(CodePath { code }) = path.map_err(|_| ApiError::not_found())?;
    lapor_http::path_code(&code)
}

/// A page of the triage queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriagePage {
    reports: Vec<TriageReport>,
    /// The `cursor` of the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// A report in the triage queue, with what the classifier suggests for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageReport {
    #[serde(flatten)]
    report: OfficerReport,
    suggestion: Option<Suggestion>,
}

/// What the classifier reads in a report's text, and where a routing rule would send it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    category: Category,
    /// From 0 to 1.
    confidence: f32,
    /// The terms that supported `category`, in order of first appearance.
    matched: Vec<String>,
    /// The agency a routing rule names for the category in the report's region, if any.
    #[schema(value_type = Option<String>)]
    agency: Option<AgencyId>,
}

#[utoipa::path(
    get,
    path = "/admin/triage",
    tag = "officer",
    operation_id = "listTriage",
    summary = "Antrean triase / The triage queue",
    description = "Laporan yang belum dapat diteruskan aturan mana pun, terbaru dahulu, dengan saran kategori dan instansi; hanya admin pusat. / Reports no routing rule could forward, newest first, with a suggested category and agency; central admin only.",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Satu halaman antrean. / One page of the queue.", body = TriagePage),
        (status = 400, description = "`cursor`, `limit` atau parameter lain tidak valid. / An invalid `cursor`, `limit` or other parameter.", body = ErrorBody),
    )
)]
async fn triage(
    officer: Officer,
    State(deps): State<Deps>,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<TriagePage>, ApiError> {
    officer.may(Action::ListTriage, Relation::Central)?;
    let page = query(page)?;
    let (limit, cursor) = (
        page_limit(page.limit)?,
        page_cursor(page.cursor.as_deref())?,
    );
    let page = deps
        .queues
        .queue(&[Queue::Triage], &|_| true, limit, cursor)
        .await?;
    let mut reports = Vec::with_capacity(page.reports.len());
    for report in &page.reports {
        reports.push(TriageReport {
            report: OfficerReport::of(report),
            suggestion: suggestion(&deps, report).await?,
        });
    }
    Ok(Json(TriagePage {
        reports,
        next_cursor: page.next,
    }))
}

/// What the classifier reads in a triaged report's text, and where a routing rule would send a
/// report of that category from its region: a starting point for the central admin, who
/// decides. `None` when the text names no category clearly enough.
async fn suggestion(deps: &Deps, report: &Report) -> Result<Option<Suggestion>, ApiError> {
    let text = format!("{} {}", report.title, report.description);
    let Some(found) = lapor_core::classify(&text) else {
        return Ok(None);
    };
    let agency = deps.directory.route(&report.region, found.category).await?;
    Ok(Some(Suggestion {
        category: found.category,
        confidence: found.confidence,
        matched: found.matched,
        agency,
    }))
}

/// The report and what it is to the officer's agency, if the officer may see it. A report outside
/// their reach answers exactly as one that does not exist (`404`), so an officer cannot learn
/// whether another agency's tracking code exists; a report they see but may not act on is `403`.
pub(crate) async fn load(
    deps: &Deps,
    officer: &Officer,
    code: &lapor_core::TrackingCode,
) -> Result<(Report, Relation), ApiError> {
    let report = deps
        .reports
        .report(code)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let relation = visible(deps, officer, &report).await?;
    Ok((report, relation))
}

/// What `report` is to the officer's agency, when the officer may see it; a report they may not
/// see is answered exactly like one that does not exist.
pub(crate) async fn visible(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
) -> Result<Relation, ApiError> {
    let relation = relation(deps, officer, report).await?;
    if officer.may(Action::View, relation).is_err() {
        return Err(ApiError::not_found());
    }
    Ok(relation)
}

/// What `report` is to the officer's agency.
pub(crate) async fn relation(
    deps: &Deps,
    officer: &Officer,
    report: &Report,
) -> Result<Relation, ApiError> {
    let is_department = match &report.agency {
        Some(holder) if *holder != officer.agency => deps
            .directory
            .children(&officer.agency)
            .await?
            .contains(holder),
        _ => false,
    };
    Ok(Relation::of(
        &officer.agency,
        report.agency.as_ref(),
        is_department,
    ))
}

/// The agency a report may be forwarded to, as the caller's role allows.
async fn forward_target(
    deps: &Deps,
    officer: &Officer,
    relation: Relation,
    body: &Map<String, Value>,
) -> Result<Agency, ApiError> {
    let id = match body.get("agency") {
        Some(Value::String(s)) => AgencyId::parse(s)?,
        None | Some(Value::Null) => return Err(Invalid::missing("agency").into()),
        Some(_) => {
            return Err(Invalid::field(
                "agency",
                "invalid_type",
                "Kolom `agency` harus berisi kode instansi.",
                "The field `agency` must be an agency id.",
            )
            .into())
        }
    };
    let unknown = || {
        unprocessable(Invalid::field(
            "agency",
            "unknown_agency",
            format!("Instansi `{id}` tidak ada dalam direktori."),
            format!("The agency `{id}` is not in the directory."),
        ))
    };
    let target = deps.directory.agency(&id).await?.ok_or_else(unknown)?;
    if !target.handles_reports() {
        return Err(unprocessable(Invalid::field(
            "agency",
            "not_a_handling_agency",
            "Laporan hanya dapat diteruskan kepada instansi pelaksana.",
            "Reports can only be forwarded to an agency that handles them.",
        )));
    }
    let to = if target.parent.as_ref() == Some(&officer.agency) {
        ForwardTo::OwnDepartment
    } else {
        ForwardTo::Elsewhere
    };
    officer.may(Action::Forward(to), relation)?;
    Ok(target)
}

/// `POST /reports/{code}/forward`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ForwardRequest {
    #[schema(schema_with = forward_agency)]
    agency: String,
    #[schema(schema_with = forward_message)]
    message: Option<String>,
    #[schema(schema_with = schema::seen_version)]
    version: Option<u64>,
}

fn forward_agency() -> utoipa::openapi::Object {
    schema::string(
        "Kode instansi tujuan: instansi pelaksana dalam direktori (selain itu `422 unknown_agency` \
         / `not_a_handling_agency`). / The id of the agency to forward to: a handling agency in \
         the directory (otherwise `422 unknown_agency` / `not_a_handling_agency`).",
        schema::agency_id_pattern(),
        false,
    )
}

fn forward_message() -> utoipa::openapi::Object {
    schema::string(
        "Catatan disposisi, 1–2000 karakter setelah spasi di tepi dibuang; hanya spasi dianggap \
         tidak ada. / A note with the forwarding, 1–2000 characters once trimmed; white space \
         only counts as none.",
        schema::optional_text_pattern(TEXT_MAX, true),
        true,
    )
}

#[utoipa::path(
    post,
    path = "/reports/{code}/forward",
    tag = "officer",
    operation_id = "forwardReport",
    summary = "Teruskan laporan (disposisi) / Forward a report",
    description = "Admin pusat meneruskan laporan triase ke instansi mana pun; admin instansi ke dinasnya sendiri. / The central admin forwards a triaged report to any agency; an agency admin to one of its own departments.",
    security(("bearer" = [])),
    params(CodePath),
    request_body(content = ForwardRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Laporan setelah diteruskan. / The report as forwarded.", body = OfficerReport),
        (status = 422, description = "Instansi tujuan tidak ada dalam direktori (`unknown_agency`) atau bukan instansi pelaksana (`not_a_handling_agency`). / The target agency is not in the directory, or does not handle reports.", body = ErrorBody),
        (status = 404, description = "Laporan tidak ada atau di luar jangkauan Anda (`not_found`, `invalid_tracking_code`). / No such report, or not one you can see.", body = ErrorBody),
        (status = 409, description = "`version_conflict` (dengan `current`) atau `illegal_transition` (dengan `allowed`). / `version_conflict` (with `current`) or `illegal_transition` (with `allowed`).", body = ErrorBody),
    )
)]
async fn forward(
    officer: Officer,
    State(deps): State<Deps>,
    code: Result<Path<CodePath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OfficerReport>, ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["agency", "message", "version"]).await?;
    let message = optional_text(&body, "message", TEXT_MAX, true)?;
    let seen = seen_version(&body)?;
    let (code, deps, officer, body, message) =
        (&path_code(code)?, &deps, &officer, &body, &message);
    until_written(|| async move {
        let (report, relation) = load(deps, officer, code).await?;
        unchanged_since(&report, seen)?;
        let target = forward_target(deps, officer, relation, body).await?;
        let hop = officer.hop(message.clone());
        let (next, event) = report.forward(&target.id, hop, deps.clock.now(), &deps.deadlines)?;
        let write = deps.reports.update_report(&report, &next, &[event]).await;
        Ok(Attempt::after(write, || {
            tracing::info!(tracking_code = %next.tracking_code, to = %target.id, by = %officer.agency, "forwarded");
            Json(OfficerReport::of(&next))
        })?)
    })
    .await
}

/// `POST /reports/{code}/return`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReturnRequest {
    #[schema(schema_with = return_reason)]
    reason: String,
    #[schema(schema_with = schema::seen_version)]
    version: Option<u64>,
}

fn return_reason() -> utoipa::openapi::Object {
    schema::string(
        "Mengapa laporan bukan wewenang instansi Anda: 10–2000 karakter setelah spasi di tepi \
         dibuang. / Why the report is not your agency's authority: 10–2000 characters once \
         trimmed.",
        schema::text_pattern(REASON_MIN, TEXT_MAX, true),
        false,
    )
}

#[utoipa::path(
    post,
    path = "/reports/{code}/return",
    tag = "officer",
    operation_id = "returnReport",
    summary = "Kembalikan: bukan wewenang / Return as not the agency's authority",
    description = "Instansi yang memegang laporan mengembalikannya ke admin pusat dengan alasan. / The agency holding the report returns it to the central admin, with its reason.",
    security(("bearer" = [])),
    params(CodePath),
    request_body(content = ReturnRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Laporan setelah dikembalikan. / The report as returned.", body = OfficerReport),
        (status = 404, description = "Laporan tidak ada atau di luar jangkauan Anda (`not_found`, `invalid_tracking_code`). / No such report, or not one you can see.", body = ErrorBody),
        (status = 409, description = "`version_conflict` (dengan `current`) atau `illegal_transition` (dengan `allowed`). / `version_conflict` (with `current`) or `illegal_transition` (with `allowed`).", body = ErrorBody),
    )
)]
async fn return_report(
    officer: Officer,
    State(deps): State<Deps>,
    code: Result<Path<CodePath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OfficerReport>, ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["reason", "version"]).await?;
    let reason = Some(text(&body, "reason", REASON_MIN, TEXT_MAX, true)?);
    let seen = seen_version(&body)?;
    let (code, deps, officer, reason) = (&path_code(code)?, &deps, &officer, &reason);
    until_written(|| async move {
        let (report, relation) = load(deps, officer, code).await?;
        unchanged_since(&report, seen)?;
        officer.may(Action::Return, relation)?;
        let hop = officer.hop(reason.clone());
        let (next, event) =
            report.return_not_authority(hop, deps.clock.now(), &deps.deadlines)?;
        let write = deps.reports.update_report(&report, &next, &[event]).await;
        Ok(Attempt::after(write, || {
            tracing::info!(tracking_code = %next.tracking_code, by = %officer.agency, "returned as not the agency's authority");
            Json(OfficerReport::of(&next))
        })?)
    })
    .await
}

/// The optional `version` of the report the officer was looking at when they decided.
fn seen_version(body: &Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if whole_number(n).is_some_and(is_position) => Ok(whole_number(n)),
        Some(_) => Err(Invalid::field(
            "version",
            "invalid_type",
            "Kolom `version` harus nomor versi laporan yang Anda lihat.",
            "The field `version` must be the version of the report you looked at.",
        )
        .into()),
    }
}

pub(crate) use lapor_core::attachment::whole_number;

/// A report version or timeline position: counted from 1, and exact in any JSON reader.
pub(crate) fn is_position(n: u64) -> bool {
    (1..=MAX_SAFE_INTEGER).contains(&n)
}

/// An action decided on an older view of the report is refused (`409`) rather than applied over
/// what someone else did since: two officers answering at once must not both "win". The
/// refusal carries the report as it is now, so the second officer sees what happened.
fn unchanged_since(report: &Report, seen: Option<u64>) -> Result<(), ApiError> {
    match seen {
        Some(version) if version != report.version => Err(ApiError::new(
            StatusCode::CONFLICT,
            "version_conflict",
            "Laporan ini sudah berubah sejak Anda membukanya: petugas lain bertindak, atau sistem mencatat sesuatu (misalnya lampiran selesai diperiksa). Periksa keadaannya sekarang sebelum bertindak lagi.",
            "This report changed after you opened it: another officer acted, or the system recorded something (such as a file that finished its checks). Check its current state before acting again.",
        )
        .with_extra(json!({ "current": OfficerReport::of(report) }))),
        _ => Ok(()),
    }
}

/// The statuses a follow-up may move a report to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    Diproses,
    Selesai,
    Tertunda,
    Arsip,
}

impl FollowUpStatus {
    const NAMES: &str = "diproses, selesai, tertunda, arsip";

    fn status(self) -> Status {
        match self {
            FollowUpStatus::Diproses => Status::Diproses,
            FollowUpStatus::Selesai => Status::Selesai,
            FollowUpStatus::Tertunda => Status::Tertunda,
            FollowUpStatus::Arsip => Status::Arsip,
        }
    }
}

fn follow_up_status(body: &Map<String, Value>) -> Result<Status, ApiError> {
    match body.get("status") {
        None | Some(Value::Null) => Err(Invalid::missing("status").into()),
        Some(value) => serde_json::from_value::<FollowUpStatus>(value.clone())
            .map(FollowUpStatus::status)
            .map_err(|_| {
                Invalid::field(
                    "status",
                    "invalid_value",
                    format!(
                        "Kolom `status` harus salah satu dari: {}.",
                        FollowUpStatus::NAMES
                    ),
                    format!(
                        "The field `status` must be one of: {}.",
                        FollowUpStatus::NAMES
                    ),
                )
                .into()
            }),
    }
}

/// A well-formed request that the facts refuse (an agency not in the directory, a date already
/// past): `422`, which no schema can foresee, unlike a malformed one (`400`).
fn unprocessable(invalid: Invalid) -> ApiError {
    let mut error = ApiError::from(invalid);
    error.status = StatusCode::UNPROCESSABLE_ENTITY;
    error
}

/// The optional `resume_date` as written (`YYYY-MM-DD`), checked before the report is read; the
/// report's zone decides whether it is after today.
fn resume_date(body: &Map<String, Value>) -> Result<Option<chrono::NaiveDate>, ApiError> {
    let shaped = |s: &str| {
        s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            })
    };
    match body.get("resume_date") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if shaped(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| invalid_date()),
        Some(_) => Err(invalid_date()),
    }
}

fn invalid_date() -> ApiError {
    Invalid::field(
        "resume_date",
        "invalid_date",
        "Kolom `resume_date` harus tanggal setelah hari ini, misalnya 2026-12-15.",
        "The field `resume_date` must be a date after today, such as 2026-12-15.",
    )
    .into()
}

/// `date` (after today in the report's zone) as the start of that working day.
fn resume_at(
    date: Option<chrono::NaiveDate>,
    report: &Report,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::FixedOffset>, ApiError> {
    let Some(date) = date else {
        return Err(Invalid::missing("resume_date").into());
    };
    let offset = report.region.zone().offset();
    if date <= now.with_timezone(&offset).date_naive() {
        let mut error = invalid_date();
        error.status = StatusCode::UNPROCESSABLE_ENTITY;
        return Err(error);
    }
    date.and_hms_opt(8, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .ok_or_else(invalid_date)
}

/// `POST /reports/{code}/followups`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FollowUpRequest {
    /// `arsip` hanya untuk admin pusat; yang lain untuk instansi pemegang laporan. / `arsip` is
    /// the central admin's; the others are the holding agency's.
    status: FollowUpStatus,
    #[schema(schema_with = follow_up_message)]
    message: String,
    #[schema(schema_with = follow_up_resume_date)]
    resume_date: Option<String>,
    #[schema(schema_with = schema::seen_version)]
    version: Option<u64>,
}

fn follow_up_message() -> utoipa::openapi::Object {
    schema::string(
        "Tindak lanjut untuk pelapor, 1–2000 karakter setelah spasi di tepi dibuang. / The \
         follow-up for the reporter, 1–2000 characters once trimmed.",
        schema::text_pattern(1, TEXT_MAX, true),
        false,
    )
}

fn follow_up_resume_date() -> utoipa::openapi::Object {
    schema::optional_date(
        "Wajib untuk `tertunda`: hari kerja dilanjutkan, setelah hari ini di zona waktu laporan \
         (selain itu `400 invalid_date`); status lain mengabaikannya. / Required with \
         `tertunda`: the day work resumes, after today in the report's time zone (otherwise \
         `400 invalid_date`); other statuses ignore it.",
    )
}

#[utoipa::path(
    post,
    path = "/reports/{code}/followups",
    tag = "officer",
    operation_id = "followUpReport",
    summary = "Tindak lanjut / Follow up a report",
    description = "Instansi pemegang laporan menulis tindak lanjut dan statusnya (diproses, selesai, tertunda); admin pusat dapat mengarsipkan. / The agency holding the report writes a follow-up and its status (in process, done, on hold); the central admin may archive.",
    security(("bearer" = [])),
    params(CodePath),
    request_body(content = FollowUpRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Laporan setelah ditindaklanjuti. / The report after the follow-up.", body = OfficerReport),
        (status = 422, description = "`resume_date` tidak setelah hari ini di zona laporan (`invalid_date`). / `resume_date` is not after today in the report's zone.", body = ErrorBody),
        (status = 404, description = "Laporan tidak ada atau di luar jangkauan Anda (`not_found`, `invalid_tracking_code`). / No such report, or not one you can see.", body = ErrorBody),
        (status = 409, description = "`version_conflict` (dengan `current`) atau `illegal_transition` (dengan `allowed`). / `version_conflict` (with `current`) or `illegal_transition` (with `allowed`).", body = ErrorBody),
    )
)]
async fn follow_up(
    officer: Officer,
    State(deps): State<Deps>,
    code: Result<Path<CodePath>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<OfficerReport>, ApiError> {
    let body = JsonObject::read_fields(
        &headers,
        body,
        &["status", "message", "resume_date", "version"],
    )
    .await?;
    let to = follow_up_status(&body)?;
    let message = text(&body, "message", 1, TEXT_MAX, true)?;
    let resume_date = resume_date(&body)?;
    let seen = seen_version(&body)?;
    let (code, deps, officer, message) = (&path_code(code)?, &deps, &officer, &message);
    until_written(|| async move {
        let (report, relation) = load(deps, officer, code).await?;
        unchanged_since(&report, seen)?;
        let now = deps.clock.now();
        let hop = officer.hop(Some(message.clone()));
        let (next, event) = if to == Status::Arsip {
            officer.may(Action::Archive, relation)?;
            report.archive(hop, now)?
        } else {
            officer.may(Action::FollowUp, relation)?;
            let resume = if to == Status::Tertunda {
                Some(resume_at(resume_date, &report, now)?)
            } else {
                None
            };
            report.follow_up(to, hop, resume, now, &deps.deadlines)?
        };
        let write = deps.reports.update_report(&report, &next, &[event]).await;
        Ok(Attempt::after(write, || {
            tracing::info!(tracking_code = %next.tracking_code, status = %next.status, by = %officer.agency, "follow-up");
            Json(OfficerReport::of(&next))
        })?)
    })
    .await
}
