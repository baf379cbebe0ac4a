//! `GET /lapor`: the report form. `POST /lapor`: files it through `POST /reports`, attaches the
//! form's files through `POST /reports/{code}/attachments` and the upload URL that offers, and
//! answers with the receipt: the tracking code and the access key, shown this once.
//!
//! A refused form comes back with everything typed and every file kept: files wait in the
//! evidence store's staging area (see [`lapor_files::EvidenceFiles::stage`]) and the form names
//! them by random token, so nothing is sent twice over a slow connection. The form carries an
//! idempotency key, so a double tap or a resend files one report.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use lapor_core::attachment::{UploadRequest, MAX_REPORTER_FILES};
use lapor_core::{Category, Channel, Invalid, Region, RegionLevel, ReportDraft};
use lapor_files::{Quarantined, StageToken};
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use crate::api::{Caller, Problem};
use crate::pages::{self, described_by, field_error, invalid, Caching};
use crate::session::{Ctx, Lang};
use crate::Web;

/// The largest text field the form reads (the description's limit is the API's; this only
/// bounds what is held in memory before the API sees it).
const FIELD_MAX_BYTES: usize = 20 * 1024;

/// What the reporter typed, kept across a refused submission.
#[derive(Default)]
pub(crate) struct Input {
    pub(crate) fields: HashMap<String, String>,
    kept: Vec<KeptFile>,
}

impl Input {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or_default()
    }

    fn fresh() -> Input {
        let mut input = Input::default();
        input
            .fields
            .insert("idempotency_key".into(), ulid::Ulid::new().to_string());
        input.fields.insert("privacy".into(), "publik".into());
        input
    }
}

/// A file held in staging since an earlier, refused submission of this form.
pub(crate) struct KeptFile {
    token: StageToken,
    content_type: String,
    size: u64,
    name: String,
}

impl KeptFile {
    /// How the form names it: `token:content_type:size:name` (the name last, as it may hold `:`).
    fn encode(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.token.as_str(),
            self.content_type,
            self.size,
            self.name
        )
    }

    fn decode(value: &str) -> Option<KeptFile> {
        let mut parts = value.splitn(4, ':');
        Some(KeptFile {
            token: StageToken::parse(parts.next()?)?,
            content_type: parts.next()?.to_string(),
            size: parts.next()?.parse().ok()?,
            name: parts.next()?.to_string(),
        })
    }
}

/// A file sent with this submission.
pub(crate) struct NewFile {
    pub(crate) name: String,
    content_type: String,
    bytes: Bytes,
}

impl From<NewFile> for Ready {
    fn from(file: NewFile) -> Ready {
        Ready {
            name: file.name,
            content_type: file.content_type,
            bytes: file.bytes,
            staged: None,
        }
    }
}

/// A file ready to attach: its name, type and bytes, and where it was staged if it was.
pub(crate) struct Ready {
    pub(crate) name: String,
    content_type: String,
    bytes: Bytes,
    staged: Option<StageToken>,
}

pub async fn form(State(_web): State<Web>, ctx: Ctx) -> Response {
    let markup = render_form(&ctx, &Input::fresh(), &[]);
    pages::html_response(StatusCode::OK, Caching::Fresh, markup)
}

pub async fn submit(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    multipart: Multipart,
) -> Response {
    let (mut input, files, unread) = read_form(multipart).await;
    if !ctx.csrf_matches(input.fields.get("csrf").map(String::as_str)) {
        return pages::forbidden(&ctx);
    }
    let mut problems: Vec<Problem> = unread.into_iter().collect();
    problems.extend(file_problems(&web, &files, &input.kept));
    let draft = draft(&input);
    let body = match &draft {
        Ok(body) => Some(body.clone()),
        Err(problem) => {
            problems.push(problem.clone());
            None
        }
    };
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    match body {
        Some(body) if problems.is_empty() => {
            let key = input.get("idempotency_key").to_string();
            let answer = web
                .api
                .call(
                    &caller,
                    Method::POST,
                    "/reports",
                    &[("idempotency-key", key.as_str())],
                    Some(&body),
                )
                .await;
            if answer.ok() {
                let replayed = answer.headers.contains_key("idempotent-replayed");
                return receipt(&web, &ctx, &caller, &input, files, &answer.body, replayed).await;
            }
            if answer.failed() {
                status = StatusCode::SERVICE_UNAVAILABLE;
                problems.push(try_again());
            } else if let Some(problem) = answer.problem() {
                if problem.code == "idempotency_key_reused" {
                    // The form was sent once already and then changed: this is a new report.
                    input
                        .fields
                        .insert("idempotency_key".into(), ulid::Ulid::new().to_string());
                }
                problems.push(problem);
            }
        }
        // The files were refused; say at once what the API would refuse in the rest too.
        Some(Value::Object(object)) => {
            if let Err(invalid) = ReportDraft(&object).validate(Channel::Web) {
                problems.push(from_invalid(invalid));
            }
        }
        _ => {}
    }
    keep_files(&web, files, &mut input, &mut problems).await;
    let markup = render_form(&ctx, &input, &problems);
    pages::html_response(status, Caching::Secret, markup)
}

fn try_again() -> Problem {
    Problem::new(
        "unavailable",
        "Laporan belum dapat disimpan karena gangguan pada layanan kami. Isian dan berkas Anda masih ada di sini: coba kirim lagi sebentar lagi.",
        "The report could not be saved because of a fault on our side. What you typed and your files are still here: try sending again in a moment.",
        None,
    )
}

pub(crate) fn from_invalid(invalid: Invalid) -> Problem {
    Problem::from_invalid(invalid)
}

/// Reads the form: text fields, kept files, new files. What cannot be read (a body over the
/// limit) becomes a problem on the files, with everything read before it kept.
pub(crate) async fn read_form(mut multipart: Multipart) -> (Input, Vec<NewFile>, Option<Problem>) {
    let mut input = Input::default();
    let mut files = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return (input, files, Some(too_large())),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let content_type = field.content_type().unwrap_or_default().to_string();
            let Ok(bytes) = field.bytes().await else {
                return (input, files, Some(too_large()));
            };
            // A file input left empty still sends a part, with no name and no bytes.
            if !file_name.is_empty() || !bytes.is_empty() {
                files.push(NewFile {
                    name: file_name,
                    content_type,
                    bytes,
                });
            }
            continue;
        }
        let Ok(value) = field.text().await else {
            return (input, files, Some(too_large()));
        };
        if value.len() > FIELD_MAX_BYTES {
            continue;
        }
        if name == "kept" {
            input.kept.extend(KeptFile::decode(&value));
        } else {
            input.fields.insert(name, value);
        }
    }
    (input, files, None)
}

fn too_large() -> Problem {
    Problem::new(
        "form_too_large",
        "Berkas yang dikirim bersama formulir ini terlalu besar (paling banyak 4 MB sekaligus). Kirim berkas yang lebih kecil, atau lampirkan sisanya dari halaman pelacakan.",
        "The files sent with this form are too large (at most 4 MB together). Send smaller files, or attach the rest from the tracking page.",
        Some("evidence"),
    )
}

/// Each file checked by the same rule the API applies to an upload request, and their number
/// by the reporter's limit.
pub(crate) fn file_problems(web: &Web, files: &[NewFile], kept: &[KeptFile]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if files.len() + kept.len() > MAX_REPORTER_FILES {
        problems.push(Problem::new(
            "too_many_files",
            &format!("Lampirkan paling banyak {MAX_REPORTER_FILES} berkas."),
            &format!("Attach at most {MAX_REPORTER_FILES} files."),
            Some("evidence"),
        ));
    }
    for file in files {
        let request = upload_request(&file.name, &file.content_type, file.bytes.len() as u64);
        if let Err(invalid) = UploadRequest::parse(&request, web.deps.intake.max_file_bytes) {
            let mut problem = from_invalid(invalid);
            problem.message = format!("{}: {}", file.name, problem.message);
            problem.message_en = format!("{}: {}", file.name, problem.message_en);
            problem.field = Some("evidence".into());
            problems.push(problem);
        }
    }
    problems
}

fn upload_request(name: &str, content_type: &str, size: u64) -> Map<String, Value> {
    let mut request = Map::new();
    request.insert("filename".into(), json!(name));
    request.insert("content_type".into(), json!(content_type));
    request.insert("size".into(), json!(size));
    request
}

/// The API request the form stands for. Empty fields are left out, so the API names what is
/// missing; a contact choice without a contact is no choice.
fn draft(input: &Input) -> Result<Value, Problem> {
    let mut body = Map::new();
    for field in [
        "type",
        "category",
        "region",
        "title",
        "description",
        "privacy",
    ] {
        let value = input.get(field);
        if !value.is_empty() {
            body.insert(field.into(), json!(value));
        }
    }
    let mut location = Map::new();
    if !input.get("address").is_empty() {
        location.insert("address".into(), json!(input.get("address")));
    }
    for coordinate in ["lat", "lon"] {
        let value = input.get(coordinate);
        if value.is_empty() {
            continue;
        }
        let number: f64 = value.parse().map_err(|_| {
            Problem::new(
                "invalid_coordinates",
                "Koordinat lokasi tidak terbaca. Isi alamat, atau tekan lagi \"Gunakan lokasi saya\".",
                "The location's coordinates could not be read. Give an address, or press \"Use my location\" again.",
                Some("address"),
            )
        })?;
        location.insert(coordinate.into(), json!(number));
    }
    if !location.is_empty() {
        body.insert("location".into(), Value::Object(location));
    }
    let mut reporter = Map::new();
    for field in ["name", "phone", "email"] {
        if !input.get(field).is_empty() {
            reporter.insert(field.into(), json!(input.get(field)));
        }
    }
    if !reporter.is_empty() {
        let contact = !input.get("phone").is_empty() || !input.get("email").is_empty();
        reporter.insert(
            "notifications".into(),
            json!(contact && input.get("notifications") == "1"),
        );
        body.insert("reporter".into(), Value::Object(reporter));
    }
    Ok(Value::Object(body))
}

/// Stages this submission's files so the corrected form need not send them again.
async fn keep_files(
    web: &Web,
    files: Vec<NewFile>,
    input: &mut Input,
    problems: &mut Vec<Problem>,
) {
    let Some(store) = web.deps.intake.files.as_deref() else {
        if !files.is_empty() {
            problems.push(files_unavailable());
        }
        return;
    };
    for file in files {
        let token = StageToken::generate();
        match store.stage(&token, &file.bytes).await {
            Ok(()) => input.kept.push(KeptFile {
                token,
                content_type: file.content_type,
                size: file.bytes.len() as u64,
                name: file.name,
            }),
            Err(e) => {
                tracing::error!(error = %e, "staging a form file failed");
                problems.push(Problem::new(
                    "file_not_kept",
                    &format!(
                        "{}: berkas ini tidak dapat disimpan sementara. Lampirkan lagi.",
                        file.name
                    ),
                    &format!(
                        "{}: this file could not be held. Attach it again.",
                        file.name
                    ),
                    Some("evidence"),
                ));
            }
        }
    }
}

fn files_unavailable() -> Problem {
    Problem::new(
        "evidence_unavailable",
        "Lampiran berkas sedang tidak tersedia. Kirim laporan tanpa berkas; Anda dapat melampirkannya nanti dari halaman pelacakan.",
        "Attachments are unavailable right now. Send the report without files; you can attach them later from the tracking page.",
        Some("evidence"),
    )
}

/// The files to attach: this submission's and the staged ones still ticked.
async fn ready_files(web: &Web, input: &Input, files: Vec<NewFile>) -> (Vec<Ready>, Vec<String>) {
    let mut ready: Vec<Ready> = files.into_iter().map(Ready::from).collect();
    let mut lost = Vec::new();
    let Some(store) = web.deps.intake.files.as_deref() else {
        return (ready, input.kept.iter().map(|k| k.name.clone()).collect());
    };
    for kept in &input.kept {
        match store
            .staged(&kept.token, web.deps.intake.max_file_bytes)
            .await
        {
            Ok(Quarantined::Bytes(bytes)) => ready.push(Ready {
                name: kept.name.clone(),
                content_type: kept.content_type.clone(),
                bytes: Bytes::from(bytes),
                staged: Some(kept.token.clone()),
            }),
            Ok(_) => lost.push(kept.name.clone()),
            Err(e) => {
                tracing::error!(error = %e, "reading a staged file failed");
                lost.push(kept.name.clone());
            }
        }
    }
    (ready, lost)
}

/// How one file fared on the receipt.
struct Attached {
    name: String,
    done: bool,
}

async fn receipt(
    web: &Web,
    ctx: &Ctx,
    caller: &Caller,
    input: &Input,
    files: Vec<NewFile>,
    body: &Value,
    replayed: bool,
) -> Response {
    let code = body["tracking_code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let key = body["access_key"].as_str().unwrap_or_default().to_string();
    let (ready, lost) = ready_files(web, input, files).await;
    let mut attached: Vec<Attached> = lost
        .into_iter()
        .map(|name| Attached { name, done: false })
        .collect();
    // A resend of a report already filed attaches its files only if the first attempt did not.
    let already = replayed && has_attachments(web, caller, &code, &key).await;
    if !already {
        for file in ready {
            let done = attach(web, caller, &code, &key, &file).await;
            if done {
                if let (Some(token), Some(store)) = (&file.staged, web.deps.intake.files.as_deref())
                {
                    if let Err(e) = store.discard_staged(token).await {
                        tracing::warn!(error = %e, "a staged file was not deleted; it expires in a day");
                    }
                }
            }
            attached.push(Attached {
                name: file.name,
                done,
            });
        }
    }
    let email = !input.get("email").is_empty();
    let markup = render_receipt(ctx, &code, &key, body, &attached, email);
    pages::html_response(StatusCode::OK, Caching::Secret, markup)
}

async fn has_attachments(web: &Web, caller: &Caller, code: &str, key: &str) -> bool {
    let answer = web.api.report(caller, code, Some(key)).await;
    answer.body["attachments"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
}

/// Asks intake for an upload URL and sends the file there, as an app would.
pub(crate) async fn attach(
    web: &Web,
    caller: &Caller,
    code: &str,
    key: &str,
    file: &Ready,
) -> bool {
    let request = Value::Object(upload_request(
        &file.name,
        &file.content_type,
        file.bytes.len() as u64,
    ));
    let answer = web
        .api
        .call(
            caller,
            Method::POST,
            &format!("/reports/{code}/attachments"),
            &[("x-access-key", key)],
            Some(&request),
        )
        .await;
    if !answer.ok() {
        tracing::warn!(status = %answer.status, "an attachment was refused after filing");
        return false;
    }
    send_upload(web, &answer.body["upload"], file.bytes.clone()).await
}

/// The upload request for a file, as the API's attachment routes take it.
pub(crate) fn upload_request_for(file: &NewFile) -> Value {
    Value::Object(upload_request(
        &file.name,
        &file.content_type,
        file.bytes.len() as u64,
    ))
}

/// Sends a file's bytes where the API's `upload` answer says (a presigned S3 URL in AWS).
pub(crate) async fn send_file(web: &Web, upload: &Value, file: &NewFile) -> bool {
    send_upload(web, upload, file.bytes.clone()).await
}

async fn send_upload(web: &Web, upload: &Value, bytes: Bytes) -> bool {
    let Some(url) = upload["url"].as_str() else {
        return false;
    };
    let method = reqwest::Method::from_bytes(upload["method"].as_str().unwrap_or("PUT").as_bytes())
        .unwrap_or(reqwest::Method::PUT);
    let mut put = web.deps.uploads.request(method, url);
    if let Some(headers) = upload["headers"].as_object() {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                put = put.header(name.as_str(), value);
            }
        }
    }
    match put.body(bytes).send().await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(status = %response.status(), "an upload was refused");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "an upload failed");
            false
        }
    }
}

fn render_receipt(
    ctx: &Ctx,
    code: &str,
    key: &str,
    body: &Value,
    attached: &[Attached],
    email: bool,
) -> Markup {
    let lang = ctx.lang;
    let notice = &body["notice"];
    let main = html! {
        div class="panel success" {
            h1 tabindex="-1" { (lang.t("Laporan Anda sudah kami terima", "We have received your report")) }
            dl class="secrets" {
                dt { (lang.t("Kode pelacakan", "Tracking code")) }
                dd { code id="tracking-code" { (code) } }
                dt { (lang.t("Kunci akses", "Access key")) }
                dd { code id="access-key" { (key) } }
            }
            p class="warning" {
                strong { (lang.t("Simpan kunci akses ini sekarang.", "Keep this access key now.")) }
                " "
                (lang.t(
                    "Kunci hanya ditampilkan sekali dan tidak dapat kami pulihkan. Dengan kode dan kunci ini Anda dapat melihat jawaban instansi, membalas, dan menilai. Jangan berikan kunci kepada siapa pun.",
                    "It is shown only this once and we cannot recover it. With the code and the key you can read the agency's answers, reply and rate. Do not give the key to anyone."
                ))
            }
            p class="js-only" hidden {
                button type="button" class="button" data-copy="access-key" { (lang.t("Salin kunci", "Copy the key")) }
                " "
                button type="button" class="button" data-print="" { (lang.t("Cetak halaman ini", "Print this page")) }
            }
            p class="no-js" { (lang.t(
                "Catat kode dan kunci di tempat yang aman, atau cetak halaman ini dengan menu peramban Anda.",
                "Write the code and key down somewhere safe, or print this page from your browser's menu."
            )) }
            @if email {
                form id="send-key" method="post" action="/lapor/kunci" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="tracking_code" value=(code);
                    input type="hidden" name="access_key" value=(key);
                    button type="submit" class="button" { (lang.t("Kirim kunci ke e-mail saya", "Send the key to my e-mail")) }
                }
            }
        }
        @if let Some(text) = notice[lang.t("message", "message_en")].as_str() {
            p id="notice" class="notice" role="status" { (text) }
        }
        @if !attached.is_empty() {
            section aria-labelledby="files-heading" {
                h2 id="files-heading" { (lang.t("Berkas bukti", "Evidence files")) }
                ul id="attached-files" {
                    @for file in attached {
                        li {
                            (file.name) ": "
                            @if file.done {
                                (lang.t(
                                    "diterima, sedang diperiksa dan dibersihkan dari data pribadi (misalnya lokasi GPS foto).",
                                    "received, being checked and cleaned of personal data (such as a photo's GPS location)."
                                ))
                            } @else {
                                strong { (lang.t(
                                    "belum terlampir. Lampirkan lagi dari halaman pelacakan.",
                                    "not attached. Attach it again from the tracking page."
                                )) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="next-heading" {
            h2 id="next-heading" { (lang.t("Apa yang terjadi selanjutnya", "What happens next")) }
            ol class="steps" {
                li { (lang.t(
                    "Admin pusat memverifikasi laporan Anda dan meneruskannya ke instansi yang berwenang dalam 3 hari kerja.",
                    "The central admin verifies your report and forwards it to the agency in charge within 3 working days."
                )) }
                li { (lang.t(
                    "Instansi menindaklanjutinya dalam 5 hari kerja. Laporan yang menunggu tampil abu-abu, yang tidak ditindaklanjuti tepat waktu merah, yang sedang diproses kuning, yang selesai hijau.",
                    "The agency follows it up within 5 working days. A waiting report shows grey, one not followed up in time red, one in progress yellow, one completed green."
                )) }
                li { (lang.t(
                    "Setelah instansi menjawab, Anda dapat membalas atau menyatakan belum selesai. Tanpa tanggapan Anda, laporan ditutup 10 hari kerja setelah jawaban.",
                    "Once the agency answers, you can reply or say it is not solved. Without your response the report closes 10 working days after the answer."
                )) }
                li { (lang.t(
                    "Menurut Perpres 76/2013, pengaduan diselesaikan paling lama 60 hari. Hari kerja tidak termasuk akhir pekan, libur nasional, dan cuti bersama.",
                    "Under Presidential Regulation 76/2013, a complaint is resolved within 60 days. Working days exclude weekends, national holidays and collective leave."
                )) }
            }
            form method="post" action="/lacak" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                input type="hidden" name="tracking_code" value=(code);
                input type="hidden" name="access_key" value=(key);
                button type="submit" class="button primary" { (lang.t("Lihat laporan saya", "See my report")) }
            }
        }
    };
    pages::page(ctx, lang.t("Tanda terima", "Receipt"), main)
}

fn render_form(ctx: &Ctx, input: &Input, problems: &[Problem]) -> Markup {
    let lang = ctx.lang;
    let types: [Choice; 4] = [
        (
            "pengaduan",
            "Pengaduan",
            "Complaint",
            "Keluhan atas pelayanan publik.",
            "A complaint about a public service.",
        ),
        (
            "aspirasi",
            "Aspirasi",
            "Aspiration",
            "Usul atau saran untuk pemerintah.",
            "A proposal or suggestion to the government.",
        ),
        (
            "permintaan_informasi",
            "Permintaan informasi",
            "Request for information",
            "Meminta informasi publik.",
            "A request for public information.",
        ),
        (
            "whistleblowing",
            "Whistleblowing",
            "Whistleblowing",
            "Dugaan pelanggaran atau korupsi oleh aparatur. Selalu rahasia dan anonim.",
            "Suspected wrongdoing or corruption by officials. Always confidential and anonymous.",
        ),
    ];
    let privacies: [Choice; 3] = [
        ("publik", "Publik", "Public", "Siapa saja dapat membaca laporan; identitas Anda tidak ditampilkan.", "Anyone can read the report; your identity is not shown."),
        ("anonim", "Anonim", "Anonymous", "Siapa saja dapat membaca laporan; nama dan kontak Anda disembunyikan juga dari instansi.", "Anyone can read the report; your name and contact are hidden from the agency too."),
        ("rahasia", "Rahasia", "Confidential", "Laporan tidak tampil di halaman publik.", "The report never appears on a public page."),
    ];
    let main = html! {
        h1 { (lang.t("Buat laporan", "Make a report")) }
        p { (lang.t(
            "Semua kolom wajib diisi kecuali yang bertanda (tidak wajib).",
            "Every field is required unless marked (optional)."
        )) }
        (pages::error_summary(lang, problems))
        form id="report" method="post" action="/lapor" enctype="multipart/form-data" novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf);
            input type="hidden" name="idempotency_key" value=(input.get("idempotency_key"));
            (radio_group(lang, problems, "type", ("Jenis laporan", "Type of report"), &types, input.get("type"), html! {}))
            div class="field" {
                label for="category" { (lang.t("Kategori", "Category")) }
                (field_error(lang, problems, "category"))
                select id="category" name="category" aria-invalid=[invalid(problems, "category")] aria-describedby=[described_by(problems, "category")] {
                    option value="" { (lang.t("Pilih kategori", "Choose a category")) }
                    @for category in Category::ALL {
                        @let (id, label, label_en, _) = category.describe();
                        option value=(id) selected[input.get("category") == id] { (lang.t(label, label_en)) }
                    }
                }
            }
            div class="field" {
                label for="region" { (lang.t("Kabupaten/kota", "Regency or city")) }
                p class="hint" id="region-hint" { (lang.t(
                    "Pilih kabupaten/kota tempat masalahnya; pilih provinsinya jika tidak ada dalam daftar.",
                    "Choose the regency or city where the problem is; choose its province if it is not listed."
                )) }
                (field_error(lang, problems, "region"))
                (region_select(lang, "region", input.get("region"), problems))
            }
            div class="field" {
                label for="title" { (lang.t("Judul", "Title")) }
                (field_error(lang, problems, "title"))
                input type="text" id="title" name="title" maxlength="150" value=(input.get("title"))
                    aria-invalid=[invalid(problems, "title")] aria-describedby=[described_by(problems, "title")];
            }
            div class="field" {
                label for="description" { (lang.t("Isi laporan", "Description")) }
                p class="hint" id="description-hint" { (lang.t(
                    "Ceritakan apa, di mana, dan kapan. Jangan tulis data pribadi orang lain.",
                    "Say what, where and when. Do not write other people's personal data."
                )) }
                (field_error(lang, problems, "description"))
                textarea id="description" name="description" rows="8"
                    aria-invalid=[invalid(problems, "description")]
                    aria-describedby={ "description-hint" @if invalid(problems, "description").is_some() { " description-error" } } {
                    (input.get("description"))
                }
            }
            div class="field" {
                label for="address" { (lang.t("Alamat atau lokasi (tidak wajib)", "Address or place (optional)")) }
                (field_error(lang, problems, "address"))
                input type="text" id="address" name="address" maxlength="300" value=(input.get("address"))
                    aria-invalid=[invalid(problems, "address")] aria-describedby=[described_by(problems, "address")];
                input type="hidden" id="lat" name="lat" value=(input.get("lat"));
                input type="hidden" id="lon" name="lon" value=(input.get("lon"));
                p class="js-only" hidden {
                    button type="button" class="button" id="use-location" { (lang.t("Gunakan lokasi saya", "Use my location")) }
                    " " span id="location-status" role="status" {}
                }
            }
            (radio_group(lang, problems, "privacy", ("Siapa yang boleh melihat laporan ini", "Who may see this report"), &privacies, input.get("privacy"), html! {
                p class="hint" id="whistleblowing-note" { (lang.t(
                    "Laporan whistleblowing selalu rahasia dan anonim, apa pun pilihan di atas.",
                    "Whistleblowing reports are always confidential and anonymous, whatever is chosen above."
                )) }
            }))
            fieldset {
                legend { (lang.t("Kontak Anda (tidak wajib)", "Your contact (optional)")) }
                p class="hint" { (lang.t(
                    "Hanya untuk mengabari Anda. Tidak pernah ditampilkan kepada publik, dan tidak kepada instansi untuk laporan anonim, rahasia, atau whistleblowing.",
                    "Only to keep you informed. Never shown to the public, nor to the agency for anonymous, confidential or whistleblowing reports."
                )) }
                @for (field, id, en, kind, autocomplete) in [
                    ("name", "Nama", "Name", "text", "name"),
                    ("phone", "Nomor HP", "Mobile number", "tel", "tel"),
                    ("email", "E-mail", "E-mail", "email", "email"),
                ] {
                    div class="field" {
                        label for=(field) { (lang.t(id, en)) }
                        (field_error(lang, problems, field))
                        input type=(kind) id=(field) name=(field) autocomplete=(autocomplete) value=(input.get(field))
                            aria-invalid=[invalid(problems, field)] aria-describedby=[described_by(problems, field)];
                    }
                }
                div class="choice" {
                    input type="checkbox" id="notifications" name="notifications" value="1"
                        checked[input.get("notifications") == "1" || !input.fields.contains_key("csrf")];
                    label for="notifications" { (lang.t(
                        "Kabari saya tentang perkembangan laporan (SMS atau e-mail)",
                        "Tell me how the report progresses (SMS or e-mail)"
                    )) }
                }
            }
            div class="field" {
                label for="evidence" { (lang.t("Berkas bukti (tidak wajib)", "Evidence files (optional)")) }
                p class="hint" id="evidence-hint" { (lang.t(
                    "Foto (JPEG, PNG, WebP) atau PDF, paling banyak 5 berkas dan 4 MB sekaligus. Data lokasi dan perangkat di dalam berkas dihapus sebelum disimpan.",
                    "Photos (JPEG, PNG, WebP) or PDF, at most 5 files and 4 MB together. Location and device data inside the files are removed before they are kept."
                )) }
                (field_error(lang, problems, "evidence"))
                @if !input.kept.is_empty() {
                    ul id="kept-files" {
                        @for (i, kept) in input.kept.iter().enumerate() {
                            li class="choice" {
                                input type="checkbox" name="kept" id={ "kept-" (i) } value=(kept.encode()) checked;
                                label for={ "kept-" (i) } {
                                    (kept.name) " (" (kb(kept.size)) ") — "
                                    (lang.t("tersimpan, tidak perlu dikirim lagi", "kept, no need to send it again"))
                                }
                            }
                        }
                    }
                }
                input type="file" id="evidence" name="evidence" multiple
                    accept=".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"
                    aria-invalid=[invalid(problems, "evidence")]
                    aria-describedby={ "evidence-hint" @if invalid(problems, "evidence").is_some() { " evidence-error" } };
                progress id="upload-progress" max="100" value="0" hidden {}
            }
            button type="submit" class="button primary" { (lang.t("Kirim laporan", "Send the report")) }
        }
    };
    pages::page(ctx, lang.t("Buat laporan", "Make a report"), main)
}

/// One choice of a radio group: its value, then its label and its hint in both languages.
type Choice = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// A fieldset of radio buttons, each with its hint, the group's error beside its legend, and
/// `after` (a note on the whole group) at its end.
fn radio_group(
    lang: Lang,
    problems: &[Problem],
    name: &str,
    legend: (&str, &str),
    choices: &[Choice],
    chosen: &str,
    after: Markup,
) -> Markup {
    html! {
        fieldset id=(name) aria-invalid=[invalid(problems, name)] aria-describedby=[described_by(problems, name)] {
            legend { (lang.t(legend.0, legend.1)) }
            (field_error(lang, problems, name))
            @for (value, id, en, hint_id, hint_en) in choices {
                div class="choice" {
                    input type="radio" name=(name) id={ (name) "-" (value) } value=(value)
                        checked[chosen == *value] aria-describedby={ (name) "-" (value) "-hint" };
                    label for={ (name) "-" (value) } { (lang.t(id, en)) }
                    p class="hint" id={ (name) "-" (value) "-hint" } { (lang.t(hint_id, hint_en)) }
                }
            }
            (after)
        }
    }
}

fn kb(bytes: u64) -> String {
    format!("{} KB", bytes.div_ceil(1024))
}

/// The regions as one list grouped by province: each province first (for what is not listed
/// under it), then its regencies and cities.
pub(crate) fn region_select(lang: Lang, name: &str, chosen: &str, problems: &[Problem]) -> Markup {
    let regions = Region::all();
    html! {
        select id=(name) name=(name) aria-invalid=[invalid(problems, name)]
            aria-describedby={ (name) "-hint" @if invalid(problems, name).is_some() { " " (name) "-error" } } {
            option value="" { (lang.t("Pilih wilayah", "Choose a region")) }
            @for province in regions.iter().filter(|r| r.level == RegionLevel::Provinsi) {
                optgroup label=(province.name) {
                    option value=(province.code) selected[chosen == province.code] {
                        (province.name) " " (lang.t("(tingkat provinsi)", "(province level)"))
                    }
                    @for place in regions.iter().filter(|r| r.parent.as_deref() == Some(province.code.as_str())) {
                        option value=(place.code) selected[chosen == place.code] { (place.name) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_survives_the_form_and_a_forged_token_does_not() {
        let kept = KeptFile {
            token: StageToken::generate(),
            content_type: "image/png".into(),
            size: 2048,
            name: "jalan: berlubang.png".into(),
        };
        let back = KeptFile::decode(&kept.encode()).expect("decodes");
        assert_eq!(back.token, kept.token);
        assert_eq!(back.name, "jalan: berlubang.png");
        assert_eq!(back.size, 2048);
        assert!(KeptFile::decode("../../etc/passwd:image/png:1:x").is_none());
        assert!(KeptFile::decode("zz:image/png:1:x").is_none());
    }

    #[test]
    fn empty_fields_are_left_out_and_a_contact_choice_needs_a_contact() {
        let mut input = Input::fresh();
        input
            .fields
            .insert("title".into(), "  Jalan berlubang ".into());
        input.fields.insert("notifications".into(), "1".into());
        input.fields.insert("name".into(), "Siti".into());
        let body = draft(&input).expect("drafts");
        assert_eq!(body["title"], "Jalan berlubang");
        assert!(body.get("description").is_none());
        assert_eq!(body["reporter"]["notifications"], false);
        input
            .fields
            .insert("email".into(), "siti@example.id".into());
        assert_eq!(
            draft(&input).expect("drafts")["reporter"]["notifications"],
            true
        );
        input.fields.insert("lat".into(), "not a number".into());
        assert_eq!(
            draft(&input).expect_err("refused").field.as_deref(),
            Some("address")
        );
    }
}
