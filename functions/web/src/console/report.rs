//! One report as its agency works it: the whole timeline, the reporter's replies and rating, the
//! evidence, the reporter's identity where the privacy policy allows it, and the actions the
//! officer's role may take — follow-up (with files), forward (disposisi), return as not the
//! agency's authority. Each action names the version of the report the officer was looking
//! at, so when someone else acted first the API refuses (`409`) and the page shows what
//! changed instead of writing over it.

use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lapor_core::permission::{self, Action, ForwardTo, Relation};
use lapor_core::{Agency, Role};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use super::inbox::category_label;
use super::shell::{self, Section};
use super::{Console, Desk, Staff};
use crate::api::{Answer, Problem};
use crate::pages;
use crate::session::{Ctx, Lang, Posted};

#[derive(Deserialize, Default)]
pub struct Done {
    /// What was just done, for the notice at the top.
    ok: Option<String>,
}

/// What a page shows besides the report: a notice, the API's refusals, what the officer typed.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    problems: Vec<Problem>,
    /// The API said the report changed since the officer opened it (another officer, or a
    /// background write such as an evidence outcome).
    conflict: bool,
    /// The form that was sent (`tindak-lanjut`, `teruskan`, `kembalikan`) and its fields.
    form: Option<(&'static str, HashMap<String, String>)>,
}

/// `GET /console/laporan/{code}`
pub async fn page(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Path(code): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let lang = ctx.lang;
    let notice = done.ok.as_deref().and_then(|ok| {
        Some(
            match ok {
                "tindak-lanjut" => lang.t("Tindak lanjut tersimpan.", "Follow-up saved."),
                "teruskan" => lang.t("Laporan diteruskan.", "Report forwarded."),
                "kembalikan" => lang.t(
                    "Laporan dikembalikan sebagai bukan wewenang.",
                    "Report returned as not your agency's authority.",
                ),
                _ => return None,
            }
            .to_string(),
        )
    });
    let outcome = Outcome {
        notice,
        ..Outcome::default()
    };
    show(&desk, &ctx, &staff, &code, StatusCode::OK, outcome).await
}

/// Reads the report through the officer API and renders it with `outcome`.
async fn show(
    desk: &Desk,
    ctx: &Ctx,
    staff: &Staff,
    code: &str,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let lang = ctx.lang;
    let (web, console) = (&desk.web, &desk.console);
    let path = format!("/agency/reports/{}", encode(code));
    let answer = console.read(staff, &path).await;
    if answer.failed() {
        return shell::unavailable(ctx, Some(staff));
    }
    if !answer.ok() {
        return out_of_reach(ctx, staff, &answer);
    }
    let view = answer.body;
    let targets = match forward_targets(console, staff, &view).await {
        Ok(targets) => targets,
        Err(()) => return shell::unavailable(ctx, Some(staff)),
    };
    let mut ids: Vec<&str> = view["agency"].as_str().into_iter().collect();
    ids.extend(
        view["timeline"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["to_agency"].as_str()),
    );
    let names = web.agency_names(ids).await;
    let markup = render(ctx, staff, &view, &targets, &names, &outcome);
    let title = view["title"].as_str().unwrap_or_default().to_string();
    let title = if title.is_empty() {
        lang.t("Laporan", "Report")
    } else {
        &title
    };
    shell::respond(ctx, staff, Section::Report, title, status, markup)
}

/// A path segment as typed: only a tracking code's characters pass unchanged.
fn encode(code: &str) -> String {
    code.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A report the officer may not see reads exactly like one that does not exist: the API
/// answers both `404`, so a page cannot tell another agency's tracking codes apart.
fn out_of_reach(ctx: &Ctx, staff: &Staff, answer: &Answer) -> Response {
    let lang = ctx.lang;
    let status = if answer.status == StatusCode::BAD_REQUEST {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::NOT_FOUND
    };
    let text = match answer.problem() {
        Some(p) if status == StatusCode::BAD_REQUEST => p.text(lang).to_string(),
        _ => lang
            .t(
                "Laporan ini tidak ada, atau bukan laporan instansi Anda: Anda tidak dapat melihat atau menindaklanjutinya.",
                "This report does not exist, or it is not your agency's: you cannot see or act on it.",
            )
            .to_string(),
    };
    shell::message(
        ctx,
        Some(staff),
        status,
        lang.t("Laporan tidak dapat dibuka", "Report not available"),
        &text,
    )
}

/// What the report is to the officer's agency, as the officer API decided when it let them see
/// it: their own, a department's (agency admins), or any (the central admin).
fn relation(staff: &Staff, view: &Value) -> Relation {
    let holder = view["agency"].as_str();
    match (holder, staff.officer.role) {
        (Some(h), _) if h == staff.officer.agency.as_str() => Relation::Own,
        (None, Role::AdminPusat) => Relation::Central,
        (_, Role::AdminPusat) => Relation::Other,
        _ => Relation::Department,
    }
}

fn may(staff: &Staff, action: Action, view: &Value) -> bool {
    permission::check(staff.officer.role, action, relation(staff, view)).is_ok()
}

/// The agencies this officer may forward this report to, by the same policy the API applies.
async fn forward_targets(
    console: &Console,
    staff: &Staff,
    view: &Value,
) -> Result<Vec<Agency>, ()> {
    let own = &staff.officer.agency;
    let may_own = may(staff, Action::Forward(ForwardTo::OwnDepartment), view);
    let may_elsewhere = may(staff, Action::Forward(ForwardTo::Elsewhere), view);
    if !may_own && !may_elsewhere {
        return Ok(Vec::new());
    }
    let agencies = console.directory.agencies().await.map_err(|e| {
        tracing::error!(error = %e, "agency directory unavailable");
    })?;
    let holder = view["agency"].as_str();
    Ok(agencies
        .into_iter()
        .filter(|a| a.handles_reports() && Some(a.id.as_str()) != holder)
        .filter(|a| {
            if a.parent.as_ref() == Some(own) {
                may_own
            } else {
                may_elsewhere
            }
        })
        .collect())
}

fn render(
    ctx: &Ctx,
    staff: &Staff,
    view: &Value,
    targets: &[Agency],
    names: &HashMap<String, String>,
    outcome: &Outcome,
) -> Markup {
    let lang = ctx.lang;
    let text = |k: &str| view[k].as_str().unwrap_or_default().to_string();
    let code = text("tracking_code");
    let agency = view["agency"]
        .as_str()
        .map(|a| names.get(a).cloned().unwrap_or_else(|| a.to_string()));
    html! {
        @if outcome.conflict {
            div id="conflict" class="error-summary" role="alert" tabindex="-1" {
                h2 { (lang.t("Laporan berubah sejak Anda membukanya", "The report changed after you opened it")) }
                p { (lang.t(
                    "Petugas lain bertindak, atau sistem mencatat sesuatu (misalnya lampiran selesai diperiksa), jadi tindakan Anda tidak disimpan. Keadaannya sekarang:",
                    "Another officer acted, or the system recorded something (such as a file that finished its checks), so your action was not saved. Its state now:"
                )) " " strong { (pages::status_label(lang, &text("status"))) } "." }
                p { (lang.t(
                    "Isian Anda masih ada di formulir di bawah. Periksa linimasa, lalu kirim lagi bila masih perlu.",
                    "What you typed is still in the form below. Check the timeline, then send again if it is still needed."
                )) }
            }
        }
        @if !outcome.conflict {
            (pages::error_summary(lang, &outcome.problems))
        }
        @if let Some(notice) = &outcome.notice {
            p id="notice" class="notice" role="status" { (notice) }
        }
        div class="report-layout" {
        div class="report-main" {
        h1 { (text("title")) }
        p id="status" class="status" data-color=(text("color")) data-status=(text("status")) {
            (pages::status_badge(lang, &text("status"), &text("color")))
        }
        dl class="facts" {
            dt { (lang.t("Kode pelacakan", "Tracking code")) }
            dd { code { (code) } }
            dt { (lang.t("Kategori", "Category")) }
            dd { (category_label(lang, &text("category"))) }
            dt { (lang.t("Wilayah", "Region")) }
            dd { (view["region"]["name"].as_str().unwrap_or_default()) }
            dt { (lang.t("Instansi", "Agency")) }
            dd id="holder" { (agency.unwrap_or_else(|| lang.t("Belum diteruskan (triase)", "Not forwarded yet (triage)").to_string())) }
            dt { (lang.t("Privasi", "Privacy")) }
            dd { (privacy_label(lang, &text("privacy"), &text("type"))) }
            dt { (lang.t("Dilaporkan", "Reported")) }
            dd { (shell::due(&text("created_at"))) }
            dt { (lang.t("Batas waktu", "Due")) }
            dd id="due" {
                (view["due_at"].as_str().map(shell::due).unwrap_or_else(|| "—".into()))
                @if let Some(days) = view["working_days_left"].as_i64() {
                    " (" (if days < 0 { format!("{} {}", -days, lang.t("hari kerja terlambat", "working days late")) } else { format!("{days} {}", lang.t("hari kerja lagi", "working days left")) }) ")"
                }
            }
        }
        section aria-labelledby="reporter-heading" {
            h2 id="reporter-heading" { (lang.t("Pelapor", "Reporter")) }
            (reporter(lang, view))
        }
        section aria-labelledby="description-heading" {
            h2 id="description-heading" { (lang.t("Isi laporan", "Description")) }
            p class="description" { (text("description")) }
        }
        @if let Some(rating) = view["rating"].as_object() {
            section aria-labelledby="rating-heading" {
                h2 id="rating-heading" { (lang.t("Penilaian pelapor", "The reporter's rating")) }
                p id="rating" {
                    (rating.get("stars").and_then(Value::as_u64).unwrap_or_default()) " / 5 "
                    (lang.t("bintang", "stars"))
                    @if let Some(comment) = rating.get("comment").and_then(Value::as_str) {
                        ": " (comment)
                    }
                }
            }
        }
        section aria-labelledby="timeline-heading" {
            h2 id="timeline-heading" { (lang.t("Linimasa", "Timeline")) }
            ol id="timeline" class="timeline" {
                @for entry in view["timeline"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    (crate::track::timeline_entry(lang, entry, false))
                }
            }
        }
        @if let Some(files) = view["attachments"].as_array().filter(|a| !a.is_empty()) {
            section aria-labelledby="attachments-heading" {
                h2 id="attachments-heading" { (lang.t("Berkas bukti", "Evidence files")) }
                ul id="attachments" {
                    @for (i, file) in files.iter().enumerate() {
                        (crate::track::attachment(lang, i + 1, file))
                    }
                }
            }
        }
        }
        aside class="report-actions" aria-label=(lang.t("Tindakan atas laporan ini", "Actions on this report")) {
            (actions(ctx, staff, view, targets, outcome))
        }
        }
    }
}

fn privacy_label(lang: Lang, privacy: &str, kind: &str) -> String {
    let base = match privacy {
        "anonim" => lang.t("Anonim", "Anonymous"),
        "rahasia" => lang.t("Rahasia", "Confidential"),
        _ => lang.t("Publik", "Public"),
    };
    if kind == "whistleblowing" {
        format!(
            "{base} · {}",
            lang.t("pengaduan pelanggaran (whistleblowing)", "whistleblowing")
        )
    } else {
        base.to_string()
    }
}

/// The reporter's identity where the policy shows it, and otherwise why it is hidden.
fn reporter(lang: Lang, view: &Value) -> Markup {
    let who = &view["reporter"];
    if who.is_object() {
        return html! {
            dl id="reporter" class="facts" {
                @if let Some(name) = who["name"].as_str() { dt { (lang.t("Nama", "Name")) } dd { (name) } }
                @if let Some(phone) = who["phone"].as_str() { dt { (lang.t("Nomor HP", "Mobile")) } dd { (phone) } }
                @if let Some(email) = who["email"].as_str() { dt { "E-mail" } dd { (email) } }
            }
        };
    }
    let why = if view["type"].as_str() == Some("whistleblowing") {
        lang.t(
            "Identitas pelapor disembunyikan: ini pengaduan pelanggaran (whistleblowing), yang identitas pelapornya tidak pernah ditampilkan kepada instansi.",
            "The reporter's identity is hidden: this is a whistleblowing report, whose reporter is never shown to agencies.",
        )
    } else {
        match view["privacy"].as_str() {
            Some("anonim") => lang.t(
                "Identitas pelapor disembunyikan: pelapor memilih anonim, jadi nama dan kontaknya tidak ditampilkan kepada instansi.",
                "The reporter's identity is hidden: they chose to be anonymous, so their name and contact are not shown to agencies.",
            ),
            Some("rahasia") => lang.t(
                "Identitas pelapor disembunyikan: laporan ini rahasia, jadi nama dan kontak pelapor tidak ditampilkan kepada instansi.",
                "The reporter's identity is hidden: this report is confidential, so the reporter's name and contact are not shown to agencies.",
            ),
            _ => lang.t(
                "Pelapor tidak mencantumkan nama atau kontak.",
                "The reporter left no name or contact.",
            ),
        }
    };
    html! { p id="reporter-hidden" class="notice" { (why) } }
}

fn typed<'a>(outcome: &'a Outcome, form: &str, field: &str) -> &'a str {
    match &outcome.form {
        Some((name, fields)) if *name == form => {
            fields.get(field).map(String::as_str).unwrap_or_default()
        }
        _ => "",
    }
}

/// The forms for what this officer's role may do with this report.
fn actions(
    ctx: &Ctx,
    staff: &Staff,
    view: &Value,
    targets: &[Agency],
    outcome: &Outcome,
) -> Markup {
    let lang = ctx.lang;
    let code = view["tracking_code"].as_str().unwrap_or_default();
    let version = view["version"].as_u64().unwrap_or_default();
    let may_follow_up = may(staff, Action::FollowUp, view);
    let may_archive = may(staff, Action::Archive, view);
    let may_return = may(staff, Action::Return, view);
    let problems = &outcome.problems;
    let statuses: Vec<(&str, &str, &str)> = [
        ("diproses", "Diproses", "In progress"),
        ("selesai", "Selesai", "Completed"),
        (
            "tertunda",
            "Tertunda (dengan tanggal dilanjutkan)",
            "On hold (with a resume date)",
        ),
    ]
    .into_iter()
    .filter(|_| may_follow_up)
    .chain(may_archive.then_some(("arsip", "Arsipkan", "Archive")))
    .collect();
    let chosen = typed(outcome, "tindak-lanjut", "status");
    html! {
        @if !statuses.is_empty() || !targets.is_empty() || may_return {
            h2 { (lang.t("Tindakan", "Actions")) }
        } @else {
            p id="no-actions" class="notice" { (lang.t(
                "Peran Anda hanya dapat melihat laporan ini.",
                "Your role can only view this report."
            )) }
        }
        @if !statuses.is_empty() {
            section aria-labelledby="follow-up-heading" class="action" {
                h3 id="follow-up-heading" { (lang.t("Tindak lanjut", "Follow-up")) }
                form id="follow-up" method="post" action={ "/console/laporan/" (code) "/tindak-lanjut" } enctype="multipart/form-data" novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="version" value=(version);
                    fieldset aria-invalid=[pages::invalid(problems, "status")] {
                        legend { (lang.t("Status baru", "New status")) }
                        (pages::field_error(lang, problems, "status"))
                        @for (i, (value, id, en)) in statuses.iter().enumerate() {
                            div class="choice" {
                                input type="radio" id={ "status-" (value) } name="status" value=(value) checked[chosen == *value || (chosen.is_empty() && i == 0)];
                                label for={ "status-" (value) } { (lang.t(id, en)) }
                            }
                        }
                    }
                    @if may_follow_up {
                    div class="field" {
                        label for="resume_date" { (lang.t("Tanggal dilanjutkan (hanya untuk Tertunda)", "Resume date (On hold only)")) }
                        (pages::field_error(lang, problems, "resume_date"))
                        input type="date" id="resume_date" name="resume_date" value=(typed(outcome, "tindak-lanjut", "resume_date")) aria-invalid=[pages::invalid(problems, "resume_date")] aria-describedby=[pages::described_by(problems, "resume_date")];
                    }
                    }
                    div class="field" {
                        label for="message" { (lang.t("Pesan untuk pelapor", "Message to the reporter")) }
                        p class="hint" id="message-hint" { (lang.t("Terlihat oleh pelapor di halaman pelacakan.", "The reporter sees it on the tracking page.")) }
                        (pages::field_error(lang, problems, "message"))
                        textarea id="message" name="message" rows="5" aria-describedby={ "message-hint" @if let Some(d) = pages::described_by(problems, "message") { " " (d) } } aria-invalid=[pages::invalid(problems, "message")] { (typed(outcome, "tindak-lanjut", "message")) }
                    }
                    div class="field" {
                        label for="evidence" { (lang.t("Foto atau dokumen (boleh lebih dari satu)", "Photo or document (more than one allowed)")) }
                        p class="hint" id="evidence-hint" { (lang.t("JPEG, PNG, WebP atau PDF. Data lokasi dan pembuat dihapus sebelum dapat diunduh.", "JPEG, PNG, WebP or PDF. Location and author data are removed before anyone can download it.")) }
                        (pages::field_error(lang, problems, "evidence"))
                        input type="file" id="evidence" name="evidence" multiple accept="image/jpeg,image/png,image/webp,application/pdf" aria-describedby="evidence-hint";
                    }
                    button class="button primary" type="submit" { (lang.t("Kirim tindak lanjut", "Send follow-up")) }
                }
            }
        }
        @if !targets.is_empty() {
            section aria-labelledby="forward-heading" class="action" {
                h3 id="forward-heading" { (lang.t("Teruskan (disposisi)", "Forward (disposisi)")) }
                form id="forward" method="post" action={ "/console/laporan/" (code) "/teruskan" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="version" value=(version);
                    div class="field" {
                        label for="agency" { (lang.t("Instansi tujuan", "Receiving agency")) }
                        (pages::field_error(lang, problems, "agency"))
                        select id="agency" name="agency" aria-invalid=[pages::invalid(problems, "agency")] {
                            option value="" { (lang.t("Pilih instansi…", "Choose an agency…")) }
                            @for agency in targets {
                                option value=(agency.id.as_str()) selected[typed(outcome, "teruskan", "agency") == agency.id.as_str()] { (agency.name) }
                            }
                        }
                    }
                    div class="field" {
                        label for="forward-message" { (lang.t("Catatan (tidak wajib)", "Note (optional)")) }
                        textarea id="forward-message" name="message" rows="3" { (typed(outcome, "teruskan", "message")) }
                    }
                    button class="button primary" type="submit" { (lang.t("Teruskan", "Forward")) }
                }
            }
        }
        @if may_return {
            section aria-labelledby="return-heading" class="action" {
                h3 id="return-heading" { (lang.t("Kembalikan: bukan wewenang", "Return: not our authority")) }
                form id="return" method="post" action={ "/console/laporan/" (code) "/kembalikan" } novalidate {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="version" value=(version);
                    div class="field" {
                        label for="reason" { (lang.t("Alasan", "Reason")) }
                        p class="hint" id="reason-hint" { (lang.t("Paling sedikit 10 karakter. Admin pusat akan meneruskannya ke instansi lain.", "At least 10 characters. The central admin will forward it to another agency.")) }
                        (pages::field_error(lang, problems, "reason"))
                        textarea id="reason" name="reason" rows="3" aria-describedby="reason-hint" aria-invalid=[pages::invalid(problems, "reason")] { (typed(outcome, "kembalikan", "reason")) }
                    }
                    button class="button" type="submit" { (lang.t("Kembalikan", "Return")) }
                }
            }
        }
    }
}

/// An action's JSON body: the form's fields that the API takes, the version as a number.
fn body_of(fields: &HashMap<String, String>, names: &[&str]) -> Value {
    let mut body = serde_json::Map::new();
    for name in names {
        if let Some(value) = fields
            .get(*name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            body.insert((*name).to_string(), json!(value));
        }
    }
    if let Some(version) = fields
        .get("version")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        body.insert("version".into(), json!(version));
    }
    Value::Object(body)
}

/// One action as a form sent it.
struct Sent {
    /// The form's name on the page.
    form: &'static str,
    api_path: String,
    body: Value,
    fields: HashMap<String, String>,
}

/// Sends one action to the officer API; on success the officer lands on the report again with
/// a notice, otherwise the page shows the refusal (or the conflict) beside what they typed.
async fn act(
    desk: &Desk,
    ctx: &Ctx,
    staff: &Staff,
    code: &str,
    sent: Sent,
) -> Result<(), Response> {
    let Sent {
        form,
        api_path,
        body,
        fields,
    } = sent;
    let answer = desk.console.send(staff, &api_path, &body).await;
    if answer.ok() {
        return Ok(());
    }
    if answer.failed() {
        return Err(shell::unavailable(ctx, Some(staff)));
    }
    if answer.status == StatusCode::NOT_FOUND {
        return Err(out_of_reach(ctx, staff, &answer));
    }
    let conflict = answer.status == StatusCode::CONFLICT;
    let outcome = Outcome {
        notice: None,
        problems: answer.problem().into_iter().collect(),
        conflict,
        form: Some((form, fields)),
    };
    Err(show(desk, ctx, staff, code, answer.status, outcome).await)
}

fn done(code: &str, what: &str) -> Response {
    Redirect::to(&format!("/console/laporan/{}?ok={what}", encode(code))).into_response()
}

/// `POST /console/laporan/{code}/tindak-lanjut`: the follow-up, then its files, each through
/// the upload URL the officer API offers (the evidence function cleans it before anyone can
/// download it).
pub async fn follow_up(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Response {
    let lang = ctx.lang;
    let (input, files, unread) = crate::report::read_form(multipart).await;
    let fields = input.fields;
    if !ctx.csrf_matches(fields.get("csrf").map(String::as_str)) {
        return pages::forbidden(&ctx);
    }
    let mut problems: Vec<Problem> = unread.into_iter().collect();
    problems.extend(crate::report::file_problems(&desk.web, &files, &[]));
    if !problems.is_empty() {
        let outcome = Outcome {
            problems,
            form: Some(("tindak-lanjut", fields)),
            ..Outcome::default()
        };
        return show(&desk, &ctx, &staff, &code, StatusCode::BAD_REQUEST, outcome).await;
    }
    let mut body = body_of(&fields, &["status", "message"]);
    if fields.get("status").map(|s| s.trim()) == Some("tertunda") {
        body["resume_date"] = json!(fields
            .get("resume_date")
            .map(|d| d.trim())
            .unwrap_or_default());
    }
    let sent = Sent {
        form: "tindak-lanjut",
        api_path: format!("/reports/{}/followups", encode(&code)),
        body,
        fields,
    };
    if let Err(response) = act(&desk, &ctx, &staff, &code, sent).await {
        return response;
    }
    let mut refused = Vec::new();
    for file in &files {
        let path = format!("/agency/reports/{}/attachments", encode(&code));
        let offer = desk
            .console
            .send(&staff, &path, &crate::report::upload_request_for(file))
            .await;
        if !offer.ok() || !crate::report::send_file(&desk.web, &offer.body["upload"], file).await {
            tracing::warn!(status = %offer.status, "an officer's file was not attached");
            refused.push(file.name.clone());
        }
    }
    if refused.is_empty() {
        return done(&code, "tindak-lanjut");
    }
    let problem = Problem::new(
        "not_attached",
        &format!(
            "Tindak lanjut tersimpan, tetapi berkas ini tidak terlampir: {}. Kirim lagi bersama tindak lanjut berikutnya.",
            refused.join(", ")
        ),
        &format!(
            "The follow-up was saved, but these files were not attached: {}. Send them again with the next follow-up.",
            refused.join(", ")
        ),
        Some("evidence"),
    );
    let outcome = Outcome {
        notice: Some(
            lang.t("Tindak lanjut tersimpan.", "Follow-up saved.")
                .to_string(),
        ),
        problems: vec![problem],
        ..Outcome::default()
    };
    show(&desk, &ctx, &staff, &code, StatusCode::OK, outcome).await
}

/// `POST /console/laporan/{code}/teruskan`
pub async fn forward(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Path(code): Path<String>,
    Posted(fields): Posted,
) -> Response {
    let sent = Sent {
        form: "teruskan",
        api_path: format!("/reports/{}/forward", encode(&code)),
        body: body_of(&fields, &["agency", "message"]),
        fields,
    };
    match act(&desk, &ctx, &staff, &code, sent).await {
        Ok(()) => after_handing_on(&desk.console, &staff, &code, "teruskan").await,
        Err(response) => response,
    }
}

/// Where an officer lands after forwarding or returning a report (`what`): the report again, with
/// the notice of what was done, while they can still see it (the central admin, an agency admin
/// sending it to a department), their inbox otherwise.
async fn after_handing_on(console: &Console, staff: &Staff, code: &str, what: &str) -> Response {
    let path = format!("/agency/reports/{}", encode(code));
    if console.read(staff, &path).await.ok() {
        done(code, what)
    } else {
        Redirect::to("/console/kotak-masuk").into_response()
    }
}

/// `POST /console/laporan/{code}/kembalikan`
pub async fn give_back(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Path(code): Path<String>,
    Posted(fields): Posted,
) -> Response {
    let sent = Sent {
        form: "kembalikan",
        api_path: format!("/reports/{}/return", encode(&code)),
        body: body_of(&fields, &["reason"]),
        fields,
    };
    match act(&desk, &ctx, &staff, &code, sent).await {
        Ok(()) => after_handing_on(&desk.console, &staff, &code, "kembalikan").await,
        Err(response) => response,
    }
}
