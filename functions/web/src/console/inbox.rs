//! The inbox (an agency's reports, and its departments' for an agency admin) and the central
//! admin's triage queue: lists the officer API pages through, newest first.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::shell::{self, Section};
use super::{Desk, Staff};
use crate::api::Problem;
use crate::pages;
use crate::session::{Ctx, Lang};
use crate::Web;

const PAGE_SIZE: usize = 25;
const COLORS: [&str; 4] = ["red", "yellow", "grey", "green"];
const STATUSES: [&str; 6] = [
    "terdisposisi",
    "diproses",
    "tertunda",
    "selesai",
    "bukan_wewenang",
    "arsip",
];

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    warna: Option<String>,
    status: Option<String>,
    kursor: Option<String>,
    /// "1": the red (overdue) reports first, above the list.
    merah: Option<String>,
}

/// An officer API path with its query, each value encoded.
pub(crate) fn api_path(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = match reqwest::Url::parse(&format!("http://api{path}")) {
        Ok(url) => url,
        Err(_) => return path.to_string(),
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(k, v);
        }
    }
    let query = url.query().filter(|q| !q.is_empty());
    match query {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// `GET /console/kotak-masuk`
pub async fn inbox(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<InboxQuery>,
) -> Response {
    let Desk { web, console } = desk;
    let lang = ctx.lang;
    let color = query.warna.as_deref().unwrap_or_default();
    let status = query.status.as_deref().unwrap_or_default();
    let cursor = query.kursor.as_deref().unwrap_or_default();
    let limit = PAGE_SIZE.to_string();
    let red_first = query.merah.as_deref() == Some("1") && color.is_empty();
    let path = api_path(
        "/agency/reports",
        &[
            ("color", color),
            ("status", status),
            ("cursor", cursor),
            ("limit", &limit),
        ],
    );
    let answer = console.read(&staff, &path).await;
    if answer.failed() {
        return shell::unavailable(&ctx, Some(&staff));
    }
    let problems: Vec<Problem> = answer.problem().into_iter().collect();
    let red = if red_first && cursor.is_empty() && problems.is_empty() {
        let path = api_path(
            "/agency/reports",
            &[("color", "red"), ("status", status), ("limit", &limit)],
        );
        let answer = console.read(&staff, &path).await;
        if answer.failed() {
            return shell::unavailable(&ctx, Some(&staff));
        }
        Some(answer.body["reports"].clone())
    } else {
        None
    };
    let reports = answer.body["reports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let next = answer.body["next_cursor"].as_str().map(|c| {
        api_path(
            "/console/kotak-masuk",
            &[
                ("warna", color),
                ("status", status),
                ("kursor", c),
                ("merah", query.merah.as_deref().unwrap_or_default()),
            ],
        )
    });
    let names = agency_names(&web, &reports).await;
    let main = html! {
        h1 { (lang.t("Kotak masuk", "Inbox")) }
        p class="lead" { (lang.t("Laporan instansi Anda, terbaru di atas.", "Your agency's reports, newest first.")) @if staff.officer.role == lapor_core::Role::AgencyAdmin { " " (lang.t("Termasuk laporan unit kerja di bawah instansi Anda.", "Including your departments' reports.")) } }
        (pages::error_summary(lang, &problems))
        (filters(lang, color, status, red_first))
        @if let Some(red) = red.as_ref().and_then(Value::as_array) {
            section aria-labelledby="red-heading" {
                h2 id="red-heading" { (lang.t("Merah dulu: lewat batas waktu", "Red first: past the deadline")) }
                @if red.is_empty() {
                    p { (lang.t("Tidak ada laporan merah.", "No red reports.")) }
                } @else {
                    (table(lang, &staff, red, &names, "red-reports"))
                }
            }
            h2 { (lang.t("Semua laporan", "All reports")) }
        }
        @if reports.is_empty() {
            p id="empty" { (lang.t("Tidak ada laporan yang cocok.", "No matching reports.")) }
        } @else {
            (table(lang, &staff, &reports, &names, "reports"))
        }
        @if let Some(next) = next {
            p { a class="button" href=(next) rel="next" { (lang.t("Halaman berikutnya", "Next page")) } }
        }
    };
    let status_code = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    shell::respond(
        &ctx,
        &staff,
        Section::Inbox,
        lang.t("Kotak masuk", "Inbox"),
        status_code,
        main,
    )
}

/// The agencies the listed reports sit with, by name.
async fn agency_names(web: &Web, reports: &[Value]) -> std::collections::HashMap<String, String> {
    let ids: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["agency"].as_str())
        .chain(
            reports
                .iter()
                .filter_map(|r| r["suggestion"]["agency"].as_str()),
        )
        .collect();
    web.agency_names(ids).await
}

fn filters(lang: Lang, color: &str, status: &str, red_first: bool) -> Markup {
    html! {
        form class="filters" method="get" action="/console/kotak-masuk" aria-label=(lang.t("Saring laporan", "Filter reports")) {
            div class="field" {
                label for="warna" { (lang.t("Warna", "Colour")) }
                select id="warna" name="warna" {
                    option value="" { (lang.t("Semua warna", "All colours")) }
                    @for c in COLORS {
                        option value=(c) selected[c == color] { (pages::color_label(lang, c)) }
                    }
                }
            }
            div class="field" {
                label for="status" { (lang.t("Status", "Status")) }
                select id="status" name="status" {
                    option value="" { (lang.t("Semua status", "All statuses")) }
                    @for s in STATUSES {
                        option value=(s) selected[s == status] { (pages::status_label(lang, s)) }
                    }
                }
            }
            div class="choice" {
                input type="checkbox" id="merah" name="merah" value="1" checked[red_first];
                label for="merah" { (lang.t("Merah dulu", "Red first")) }
            }
            button class="button" type="submit" { (lang.t("Terapkan", "Apply")) }
        }
    }
}

pub(crate) fn category_label(lang: Lang, id: &str) -> String {
    lapor_core::Category::parse(id)
        .map(|c| {
            let (_, label, label_en, _) = c.describe();
            lang.t(label, label_en).to_string()
        })
        .unwrap_or_else(|_| id.to_string())
}

fn days_left(lang: Lang, report: &Value) -> String {
    match report["working_days_left"].as_i64() {
        None => "—".to_string(),
        Some(d) if d < 0 => format!(
            "{} {}",
            -d,
            lang.t("hari kerja terlambat", "working days late")
        ),
        Some(d) => format!("{d} {}", lang.t("hari kerja", "working days")),
    }
}

fn table(
    lang: Lang,
    staff: &Staff,
    reports: &[Value],
    names: &std::collections::HashMap<String, String>,
    id: &str,
) -> Markup {
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    let show_agency = staff.officer.role != lapor_core::Role::Officer;
    let category = lang.t("Kategori", "Category");
    let region = lang.t("Wilayah", "Region");
    let agency = lang.t("Instansi", "Agency");
    let due = lang.t("Batas waktu", "Due");
    let left = lang.t("Sisa", "Left");
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label=(lang.t("Tabel laporan, dapat digulir", "Reports table, scrollable")) {
            // The roles keep it a table for screen readers when a phone shows its rows as cards
            // (`table.stack` in console.css), which takes the table's layout away.
            table id=(id) class="reports stack" role="table" {
                caption class="visually-hidden" { (lang.t("Daftar laporan", "Reports")) }
                thead role="rowgroup" {
                    tr role="row" {
                        th scope="col" role="columnheader" { (lang.t("Warna dan status", "Colour and status")) }
                        th scope="col" role="columnheader" { (lang.t("Laporan", "Report")) }
                        th scope="col" role="columnheader" { (category) }
                        th scope="col" role="columnheader" { (region) }
                        @if show_agency { th scope="col" role="columnheader" { (agency) } }
                        th scope="col" role="columnheader" { (due) }
                        th scope="col" role="columnheader" { (left) }
                    }
                }
                tbody role="rowgroup" {
                    @for r in reports {
                        tr role="row" data-code=(text(r, "tracking_code")) data-color=(text(r, "color")) {
                            td role="cell" { (pages::status_badge(lang, &text(r, "status"), &text(r, "color"))) }
                            td role="cell" {
                                a href={ "/console/laporan/" (text(r, "tracking_code")) } { (text(r, "title")) }
                                br;
                                code { (text(r, "tracking_code")) }
                            }
                            // A card's cells say what they are; the header row does on a wide screen.
                            td role="cell" data-label=(category) { (category_label(lang, &text(r, "category"))) }
                            td role="cell" data-label=(region) { (r["region"]["name"].as_str().unwrap_or_default()) }
                            @if show_agency {
                                td role="cell" data-label=(agency) { (r["agency"].as_str().map(|a| names.get(a).cloned().unwrap_or_else(|| a.to_string())).unwrap_or_else(|| "—".into())) }
                            }
                            td role="cell" data-label=(due) { (r["due_at"].as_str().map(shell::due).unwrap_or_else(|| "—".into())) }
                            td role="cell" data-label=(left) { (days_left(lang, r)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct TriageQuery {
    kursor: Option<String>,
}

/// `GET /console/triase`: reports no rule could route, with what the classifier reads in them.
pub async fn triage(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<TriageQuery>,
) -> Response {
    let Desk { web, console } = desk;
    let lang = ctx.lang;
    let limit = PAGE_SIZE.to_string();
    let cursor = query.kursor.as_deref().unwrap_or_default();
    let path = api_path("/admin/triage", &[("cursor", cursor), ("limit", &limit)]);
    let answer = console.read(&staff, &path).await;
    if answer.failed() {
        return shell::unavailable(&ctx, Some(&staff));
    }
    if let Some(problem) = answer.problem() {
        return shell::message(
            &ctx,
            Some(&staff),
            answer.status,
            lang.t("Triase", "Triage"),
            problem.text(lang),
        );
    }
    let reports = answer.body["reports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names = agency_names(&web, &reports).await;
    let next = answer.body["next_cursor"]
        .as_str()
        .map(|c| api_path("/console/triase", &[("kursor", c)]));
    let main = html! {
        h1 { (lang.t("Triase", "Triage")) }
        p class="lead" { (lang.t(
            "Laporan yang belum dapat diteruskan otomatis. Verifikasi, lalu teruskan ke instansi yang berwenang dalam 3 hari kerja.",
            "Reports that could not be forwarded automatically. Verify them, then forward each to the agency in charge within 3 working days."
        )) }
        @if reports.is_empty() {
            p id="empty" { (lang.t("Antrean triase kosong.", "The triage queue is empty.")) }
        } @else {
            ul id="triage" class="cards" {
                @for r in &reports {
                    li data-code=(r["tracking_code"].as_str().unwrap_or_default()) {
                        a href={ "/console/laporan/" (r["tracking_code"].as_str().unwrap_or_default()) } { (r["title"].as_str().unwrap_or_default()) }
                        p class="meta" {
                            code { (r["tracking_code"].as_str().unwrap_or_default()) } " · "
                            (r["region"]["name"].as_str().unwrap_or_default()) " · "
                            (category_label(lang, r["category"].as_str().unwrap_or_default())) " · "
                            (lang.t("batas waktu ", "due ")) (r["due_at"].as_str().map(shell::due).unwrap_or_else(|| "—".into()))
                        }
                        (suggestion(lang, &r["suggestion"], &names))
                    }
                }
            }
        }
        @if let Some(next) = next {
            p { a class="button" href=(next) rel="next" { (lang.t("Halaman berikutnya", "Next page")) } }
        }
    };
    shell::respond(
        &ctx,
        &staff,
        Section::Triage,
        lang.t("Triase", "Triage"),
        StatusCode::OK,
        main,
    )
}

/// The classifier's reading of a triaged report, when it had one.
pub(crate) fn suggestion(
    lang: Lang,
    suggestion: &Value,
    names: &std::collections::HashMap<String, String>,
) -> Markup {
    let Some(category) = suggestion["category"].as_str() else {
        return html! { p class="suggestion none" { (lang.t("Tidak ada saran kategori dari isi laporan.", "No category suggested by the report's text.")) } };
    };
    let confidence = suggestion["confidence"].as_f64().unwrap_or_default();
    let matched: Vec<&str> = suggestion["matched"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let agency = suggestion["agency"]
        .as_str()
        .map(|a| names.get(a).cloned().unwrap_or_else(|| a.to_string()));
    html! {
        p class="suggestion" {
            strong { (lang.t("Saran: ", "Suggestion: ")) }
            (category_label(lang, category))
            " (" (format!("{:.0}", confidence * 100.0)) "%"
            @if !matched.is_empty() { "; " (lang.t("kata: ", "words: ")) (matched.join(", ")) }
            ")"
            @if let Some(agency) = agency { " → " (agency) }
        }
    }
}
