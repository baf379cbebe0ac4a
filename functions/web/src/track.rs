//! `GET /lacak`: the tracking form. `POST /lacak`: the reporter's own view of their report,
//! unlocked by code and access key; `POST /lacak/balas` and `/lacak/nilai` reply (or say it is
//! not solved) and rate through the API's reporter routes. The key travels only in form bodies
//! and the in-process `X-Access-Key` header: never in a URL, so never in a log line or a
//! `Referer`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use lapor_core::TrackingCode;
use maud::{html, Markup};
use serde_json::{json, Value};

use crate::api::{Caller, Problem};
use crate::pages::{self, described_by, field_error, invalid, Caching};
use crate::session::{Ctx, Lang, Posted};
use crate::Web;

type Fields = HashMap<String, String>;

fn get<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map(|v| v.trim()).unwrap_or_default()
}

pub async fn form(ctx: Ctx) -> Response {
    let markup = render_form(&ctx, &Fields::new(), &[]);
    pages::html_response(StatusCode::OK, Caching::Fresh, markup)
}

/// A code and key the API would take, or the problem to show on the tracking form.
fn unlock(fields: &Fields) -> Result<(TrackingCode, String), Problem> {
    let code = TrackingCode::parse(get(fields, "tracking_code"))
        .map_err(crate::report::from_invalid)
        .map_err(|mut p| {
            p.field = Some("tracking_code".into());
            p
        })?;
    let key = get(fields, "access_key");
    if key.is_empty() {
        return Err(Problem::new(
            "missing",
            "Isi kunci akses yang Anda terima saat melapor.",
            "Enter the access key you were given when you reported.",
            Some("access_key"),
        ));
    }
    Ok((code, key.to_string()))
}

fn no_match() -> Problem {
    Problem::new(
        "not_found",
        "Kode pelacakan dan kunci akses tidak cocok dengan laporan mana pun. Periksa keduanya (huruf besar dan kecil tidak berpengaruh pada kode).",
        "The tracking code and access key do not match any report. Check both (the code is not case-sensitive).",
        Some("access_key"),
    )
}

pub async fn track(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    Posted(fields): Posted,
) -> Response {
    show(&web, &ctx, &caller, &fields, None, &[]).await
}

/// The reporter's page, or the tracking form again when the code and key do not unlock one.
async fn show(
    web: &Web,
    ctx: &Ctx,
    caller: &Caller,
    fields: &Fields,
    notice: Option<&str>,
    problems: &[Problem],
) -> Response {
    let (code, key) = match unlock(fields) {
        Ok(unlocked) => unlocked,
        Err(problem) => return refused_form(ctx, fields, problem),
    };
    let answer = web.api.report(caller, code.as_str(), Some(&key)).await;
    if answer.failed() {
        return pages::unavailable(ctx);
    }
    if !answer.ok() {
        return refused_form(ctx, fields, no_match());
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let agency = agency_name(web, &answer.body).await;
    let markup = render_report(ctx, &answer.body, agency.as_deref(), &key, notice, problems);
    pages::html_response(status, Caching::Secret, markup)
}

/// The name of the agency a view names, if any.
pub(crate) async fn agency_name(web: &Web, view: &Value) -> Option<String> {
    let id = view["agency"].as_str()?;
    web.agency_names([id]).await.remove(id)
}

fn refused_form(ctx: &Ctx, fields: &Fields, problem: Problem) -> Response {
    let markup = render_form(ctx, fields, &[problem]);
    pages::html_response(StatusCode::UNPROCESSABLE_ENTITY, Caching::Secret, markup)
}

pub async fn reply(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    Posted(fields): Posted,
) -> Response {
    let not_solved = get(&fields, "not_solved") == "1";
    let body = json!({"message": get(&fields, "message"), "not_solved": not_solved});
    let done = if not_solved {
        (
            "Laporan dibuka kembali: instansi diminta menindaklanjuti lagi.",
            "The report is reopened: the agency is asked to follow it up again.",
        )
    } else {
        (
            "Balasan Anda terkirim ke instansi.",
            "Your reply was sent to the agency.",
        )
    };
    act(&web, &ctx, &caller, &fields, "replies", body, done).await
}

pub async fn rate(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    Posted(fields): Posted,
) -> Response {
    let stars = get(&fields, "stars");
    // A missing or unreadable choice is sent as it is, so the API names the problem.
    let stars = stars
        .parse::<u64>()
        .map_or_else(|_| json!(stars), |n| json!(n));
    let comment = get(&fields, "comment");
    let mut body = json!({"stars": if fields.contains_key("stars") { stars } else { Value::Null }});
    if !comment.is_empty() {
        body["comment"] = json!(comment);
    }
    let done = (
        "Terima kasih atas penilaian Anda.",
        "Thank you for your rating.",
    );
    act(&web, &ctx, &caller, &fields, "rating", body, done).await
}

/// One of the reporter's steps through the API, then their page with the outcome.
async fn act(
    web: &Web,
    ctx: &Ctx,
    caller: &Caller,
    fields: &Fields,
    route: &str,
    body: Value,
    done: (&str, &str),
) -> Response {
    let (code, key) = match unlock(fields) {
        Ok(unlocked) => unlocked,
        Err(problem) => return refused_form(ctx, fields, problem),
    };
    let answer = web
        .api
        .call(
            caller,
            Method::POST,
            &format!("/reports/{}/{route}", code.as_str()),
            &[("x-access-key", &key)],
            Some(&body),
        )
        .await;
    if answer.failed() {
        return pages::unavailable(ctx);
    }
    if answer.status == StatusCode::NOT_FOUND {
        return refused_form(ctx, fields, no_match());
    }
    match answer.problem() {
        None => {
            show(
                web,
                ctx,
                caller,
                fields,
                Some(ctx.lang.t(done.0, done.1)),
                &[],
            )
            .await
        }
        Some(mut problem) => {
            // Problems with the step itself (its state, its limits) belong to its form.
            if problem.field.is_none() || problem.field.as_deref() == Some("not_solved") {
                problem.field = Some(
                    if route == "rating" {
                        "stars"
                    } else {
                        "message"
                    }
                    .into(),
                );
            }
            show(web, ctx, caller, fields, None, &[problem]).await
        }
    }
}

/// `POST /lacak/berkas`: more evidence for the reporter's own report, through the same upload
/// URLs the report form uses.
pub async fn attach(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    multipart: axum::extract::Multipart,
) -> Response {
    let (input, files, unread) = crate::report::read_form(multipart).await;
    let fields = input.fields;
    if !ctx.csrf_matches(fields.get("csrf").map(String::as_str)) {
        return pages::forbidden(&ctx);
    }
    let (code, key) = match unlock(&fields) {
        Ok(unlocked) => unlocked,
        Err(problem) => return refused_form(&ctx, &fields, problem),
    };
    let mut problems: Vec<Problem> = unread.into_iter().collect();
    problems.extend(crate::report::file_problems(&web, &files, &[]));
    if files.is_empty() && problems.is_empty() {
        problems.push(Problem::new(
            "no_file",
            "Pilih berkas yang akan dilampirkan.",
            "Choose a file to attach.",
            Some("evidence"),
        ));
    }
    if !problems.is_empty() {
        return show(&web, &ctx, &caller, &fields, None, &problems).await;
    }
    let mut failed = Vec::new();
    for file in files {
        let ready = crate::report::Ready::from(file);
        if !crate::report::attach(&web, &caller, code.as_str(), &key, &ready).await {
            failed.push(ready.name);
        }
    }
    if failed.is_empty() {
        let done = ctx.lang.t(
            "Berkas diterima dan sedang diperiksa.",
            "The files were received and are being checked.",
        );
        return show(&web, &ctx, &caller, &fields, Some(done), &[]).await;
    }
    let problem = Problem::new(
        "not_attached",
        &format!(
            "Tidak terlampir: {}. Periksa jumlah berkas (paling banyak 5) lalu coba lagi.",
            failed.join(", ")
        ),
        &format!(
            "Not attached: {}. Check the number of files (at most 5) and try again.",
            failed.join(", ")
        ),
        Some("evidence"),
    );
    show(&web, &ctx, &caller, &fields, None, &[problem]).await
}

fn render_form(ctx: &Ctx, fields: &Fields, problems: &[Problem]) -> Markup {
    let lang = ctx.lang;
    let main = html! {
        h1 { (lang.t("Lacak laporan", "Track a report")) }
        p { (lang.t(
            "Masukkan kode pelacakan dan kunci akses dari tanda terima Anda.",
            "Enter the tracking code and access key from your receipt."
        )) }
        (pages::error_summary(lang, problems))
        form id="track" method="post" action="/lacak" novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf);
            div class="field" {
                label for="tracking_code" { (lang.t("Kode pelacakan", "Tracking code")) }
                (field_error(lang, problems, "tracking_code"))
                input type="text" id="tracking_code" name="tracking_code" autocomplete="off"
                    autocapitalize="characters" spellcheck="false" value=(get(fields, "tracking_code"))
                    aria-invalid=[invalid(problems, "tracking_code")] aria-describedby=[described_by(problems, "tracking_code")];
            }
            div class="field" {
                label for="access_key" { (lang.t("Kunci akses", "Access key")) }
                (field_error(lang, problems, "access_key"))
                input type="password" id="access_key" name="access_key" autocomplete="off" spellcheck="false"
                    aria-invalid=[invalid(problems, "access_key")] aria-describedby=[described_by(problems, "access_key")];
            }
            button type="submit" class="button primary" { (lang.t("Lacak", "Track")) }
        }
        p { (lang.t(
            "Laporan publik dapat dibaca siapa saja tanpa kunci lewat tautannya.",
            "Anyone can read a public report through its link, without a key."
        )) }
    };
    pages::page(ctx, lang.t("Lacak laporan", "Track a report"), main)
}

/// The reporter's own page: status and colour, everything on the timeline, the files, and the
/// forms to reply, reopen and rate.
fn render_report(
    ctx: &Ctx,
    view: &Value,
    agency: Option<&str>,
    key: &str,
    notice: Option<&str>,
    problems: &[Problem],
) -> Markup {
    let lang = ctx.lang;
    let code = view["tracking_code"].as_str().unwrap_or_default();
    let status = view["status"].as_str().unwrap_or_default();
    let completed = status == "selesai";
    let hidden = html! {
        input type="hidden" name="csrf" value=(ctx.csrf);
        input type="hidden" name="tracking_code" value=(code);
        input type="hidden" name="access_key" value=(key);
    };
    let main = html! {
        @if let Some(notice) = notice {
            p id="notice" class="notice" role="status" { (notice) }
        }
        (pages::error_summary(lang, problems))
        (report_body(lang, view, agency, true))
        section aria-labelledby="reply-heading" {
            h2 id="reply-heading" { (lang.t("Balas instansi", "Reply to the agency")) }
            form id="reply" method="post" action="/lacak/balas" novalidate {
                (hidden)
                div class="field" {
                    label for="message" { (lang.t("Pesan Anda", "Your message")) }
                    (field_error(lang, problems, "message"))
                    textarea id="message" name="message" rows="4" maxlength="2000"
                        aria-invalid=[invalid(problems, "message")] aria-describedby=[described_by(problems, "message")] {}
                }
                @if completed {
                    div class="choice" {
                        input type="checkbox" id="not_solved" name="not_solved" value="1";
                        label for="not_solved" { (lang.t(
                            "Masalahnya belum selesai: buka kembali laporan ini",
                            "The problem is not solved: reopen this report"
                        )) }
                    }
                }
                button type="submit" class="button" { (lang.t("Kirim balasan", "Send reply")) }
            }
        }
        section aria-labelledby="attach-heading" {
            h2 id="attach-heading" { (lang.t("Tambah berkas bukti", "Add evidence files")) }
            form id="attach" method="post" action="/lacak/berkas" enctype="multipart/form-data" novalidate {
                (hidden)
                div class="field" {
                    label for="evidence" { (lang.t("Berkas (foto atau PDF)", "Files (photos or PDF)")) }
                    p class="hint" id="evidence-hint" { (lang.t(
                        "Paling banyak 5 berkas per laporan, 4 MB sekaligus. Data lokasi dan perangkat di dalamnya dihapus.",
                        "At most 5 files per report, 4 MB together. Location and device data inside them are removed."
                    )) }
                    (field_error(lang, problems, "evidence"))
                    input type="file" id="evidence" name="evidence" multiple
                        accept=".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"
                        aria-invalid=[invalid(problems, "evidence")]
                        aria-describedby={ "evidence-hint" @if invalid(problems, "evidence").is_some() { " evidence-error" } };
                }
                button type="submit" class="button" { (lang.t("Lampirkan", "Attach")) }
            }
        }
        @if completed && view["rating"].is_null() {
            section aria-labelledby="rate-heading" {
                h2 id="rate-heading" { (lang.t("Nilai penanganan", "Rate how it was handled")) }
                form id="rate" method="post" action="/lacak/nilai" novalidate {
                    (hidden)
                    fieldset id="stars" aria-invalid=[invalid(problems, "stars")] aria-describedby=[described_by(problems, "stars")] {
                        legend { (lang.t("Bintang (1 buruk, 5 sangat baik)", "Stars (1 poor, 5 very good)")) }
                        (field_error(lang, problems, "stars"))
                        div class="stars" {
                            @for n in 1..=5 {
                                input type="radio" id={ "stars-" (n) } name="stars" value=(n);
                                label for={ "stars-" (n) } { (n) }
                            }
                        }
                    }
                    div class="field" {
                        label for="comment" { (lang.t("Komentar (tidak wajib)", "Comment (optional)")) }
                        textarea id="comment" name="comment" rows="3" maxlength="1000" {}
                    }
                    button type="submit" class="button" { (lang.t("Kirim penilaian", "Send rating")) }
                }
            }
        }
        @if let Some(rating) = view["rating"]["stars"].as_u64() {
            p id="rating" { (lang.t("Penilaian Anda: ", "Your rating: ")) (rating) " / 5" }
        }
    };
    pages::page(ctx, lang.t("Laporan saya", "My report"), main)
}

/// A report as a view of the API shows it: heading, status and colour, facts, timeline, files.
/// `own` says whether the reader is its reporter (the public page passes false).
pub(crate) fn report_body(lang: Lang, view: &Value, agency: Option<&str>, own: bool) -> Markup {
    let text = |k: &str| view[k].as_str().unwrap_or_default().to_string();
    let category = &view["category"];
    html! {
        h1 { (text("title")) }
        p id="status" class="status" data-color=(text("color")) {
            (pages::status_badge(lang, &text("status"), &text("color")))
        }
        dl class="facts" {
            dt { (lang.t("Kode pelacakan", "Tracking code")) }
            dd { code { (text("tracking_code")) } }
            dt { (lang.t("Kategori", "Category")) }
            dd { (lang.t(category["label"].as_str().unwrap_or_default(), category["label_en"].as_str().unwrap_or_default())) }
            dt { (lang.t("Wilayah", "Region")) }
            dd { (view["region"]["name"].as_str().unwrap_or_default()) }
            @if let Some(agency) = agency.or(view["agency"].as_str()) {
                dt { (lang.t("Instansi", "Agency")) }
                dd { (agency) }
            }
            @if let Some(address) = view["location"]["address"].as_str() {
                dt { (lang.t("Lokasi", "Location")) }
                dd { (address) }
            }
            dt { (lang.t("Dilaporkan", "Reported")) }
            dd { (pages::when(&text("created_at"))) }
        }
        section aria-labelledby="description-heading" {
            h2 id="description-heading" class="visually-hidden" { (lang.t("Isi laporan", "Description")) }
            p class="description" { (text("description")) }
        }
        section aria-labelledby="timeline-heading" {
            h2 id="timeline-heading" { (lang.t("Perkembangan", "Progress")) }
            ol id="timeline" class="timeline" {
                @for entry in view["timeline"].as_array().map(Vec::as_slice).unwrap_or_default() {
                    (timeline_entry(lang, entry, own))
                }
            }
        }
        @if let Some(files) = view["attachments"].as_array().filter(|a| !a.is_empty()) {
            section aria-labelledby="attachments-heading" {
                h2 id="attachments-heading" { (lang.t("Berkas bukti", "Evidence files")) }
                ul id="attachments" {
                    @for (i, file) in files.iter().enumerate() {
                        (attachment(lang, i + 1, file))
                    }
                }
            }
        }
    }
}

pub(crate) fn timeline_entry(lang: Lang, entry: &Value, own: bool) -> Markup {
    let kind = entry["kind"].as_str().unwrap_or_default();
    let (id, en) = match kind {
        "submitted" => ("Laporan dikirim", "Report sent"),
        "triage" => (
            "Menunggu verifikasi admin pusat",
            "Awaiting the central admin's verification",
        ),
        "forwarded" => ("Diteruskan ke instansi", "Forwarded to the agency"),
        "follow_up" => ("Tindak lanjut instansi", "The agency's follow-up"),
        "returned" => ("Dikembalikan oleh instansi", "Returned by the agency"),
        "reply" => (
            if own {
                "Balasan Anda"
            } else {
                "Balasan pelapor"
            },
            if own {
                "Your reply"
            } else {
                "The reporter's reply"
            },
        ),
        "rating" => ("Penilaian", "Rating"),
        "archived" => ("Diarsipkan", "Archived"),
        "escalated" => (
            "Dinaikkan ke instansi di atasnya karena melewati batas waktu",
            "Escalated to the parent agency for being overdue",
        ),
        "closed" => ("Ditutup", "Closed"),
        "evidence" => ("Berkas bukti ditambahkan", "Evidence file added"),
        other => (other, other),
    };
    html! {
        li class={ "entry " (kind) } {
            p class="meta" {
                time datetime=(entry["at"].as_str().unwrap_or_default()) { (pages::when(entry["at"].as_str().unwrap_or_default())) }
                " · " strong { (lang.t(id, en)) }
                @if let Some(after) = entry["status_after"].as_str() {
                    " · " (pages::status_label(lang, after))
                }
            }
            @if let Some(message) = entry["message"].as_str() {
                p class="message" { (message) }
            }
        }
    }
}

pub(crate) fn attachment(lang: Lang, n: usize, file: &Value) -> Markup {
    let kind = match file["content_type"].as_str().unwrap_or_default() {
        "application/pdf" => "PDF",
        _ => lang.t("Foto", "Photo"),
    };
    let by = match file["by"].as_str() {
        Some("agency") => lang.t("dari instansi", "from the agency"),
        _ => lang.t("dari pelapor", "from the reporter"),
    };
    let size = file["size"]
        .as_u64()
        .map(|s| format!(", {} KB", s.div_ceil(1024)));
    html! {
        li {
            (lang.t("Berkas", "File")) " " (n) " (" (kind) ", " (by) (size.unwrap_or_default()) "): "
            @match file["status"].as_str().unwrap_or_default() {
                "ready" => {
                    a href=(file["download_url"].as_str().unwrap_or_default()) rel="noreferrer" {
                        (lang.t("unduh", "download"))
                    }
                }
                "rejected" => {
                    (lang.t("ditolak: ", "refused: "))
                    (lang.t(file["rejection"]["message"].as_str().unwrap_or_default(), file["rejection"]["message_en"].as_str().unwrap_or_default()))
                }
                _ => { (lang.t("sedang diperiksa", "being checked")) }
            }
        }
    }
}

/// How long one report's key may be mailed only once: a button pressed twice, or a page
/// resent, sends one mail.
const KEY_MAIL_EVERY_SECS: i64 = 3600;

/// `POST /lapor/kunci`: the access key by e-mail, to the address the reporter gave (never to
/// one typed here), once an hour at most.
pub async fn send_key(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    Posted(fields): Posted,
) -> Response {
    let (code, key) = match unlock(&fields) {
        Ok(unlocked) => unlocked,
        Err(problem) => return refused_form(&ctx, &fields, problem),
    };
    let answer = web.api.report(&caller, code.as_str(), Some(&key)).await;
    if answer.failed() {
        return pages::unavailable(&ctx);
    }
    if !answer.ok() {
        return refused_form(&ctx, &fields, no_match());
    }
    let lang = ctx.lang;
    let to = answer.body["reporter"]["email"]
        .as_str()
        .and_then(|e| lapor_core::Email::parse(e).ok());
    let (Some(mailer), Some(to)) = (web.deps.mailer.as_deref(), to) else {
        return key_mail_page(
            &ctx,
            StatusCode::CONFLICT,
            lang.t(
                "Pengiriman e-mail tidak tersedia untuk laporan ini. Catat kunci akses Anda dari halaman tanda terima.",
                "E-mail is not available for this report. Write your access key down from the receipt page.",
            )
            .to_string(),
        );
    };
    let now = web.deps.intake.clock.now().timestamp();
    let mark = format!("KEYMAIL#{}", code.as_str());
    match web
        .deps
        .intake
        .marks
        .mark_once(&mark, now, KEY_MAIL_EVERY_SECS)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return key_mail_page(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                lang.t(
                    "Kunci akses laporan ini sudah dikirim ke e-mail Anda dalam satu jam terakhir. Periksa kotak masuk dan folder spam.",
                    "This report's access key was already sent to your e-mail in the last hour. Check your inbox and spam folder.",
                )
                .to_string(),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "the key mail mark could not be written");
            return pages::unavailable(&ctx);
        }
    }
    let mail = lapor_notifier::mail::access_key_mail(
        &code,
        &lapor_core::AccessKey::presented(&key),
        to.clone(),
    );
    if let Err(e) = mailer.send(&mail).await {
        tracing::error!(error = %e, "the key mail was not sent");
        return pages::unavailable(&ctx);
    }
    tracing::info!(tracking_code = %code, "access key mailed to the reporter");
    let masked = lapor_notifier::mail::masked_address(&to);
    key_mail_page(
        &ctx,
        StatusCode::OK,
        format!(
            "{} {masked}.",
            lang.t(
                "Kunci akses dikirim ke alamat e-mail yang Anda berikan:",
                "The access key was sent to the e-mail address you gave:"
            )
        ),
    )
}

fn key_mail_page(ctx: &Ctx, status: StatusCode, text: String) -> Response {
    let lang = ctx.lang;
    let main = html! {
        h1 { (lang.t("Kunci akses lewat e-mail", "Access key by e-mail")) }
        p id="notice" class="notice" role="status" { (text) }
        p { a href="/lacak" { (lang.t("Lacak laporan", "Track a report")) } }
    };
    pages::html_response(
        status,
        Caching::Secret,
        pages::page(ctx, lang.t("Kunci akses", "Access key"), main),
    )
}
