//! The dashboard: for an agency, its reports by colour, the overdue ones, and how often its first
//! follow-up met the deadline over 30, 90 and 365 days, beside its departments'; for the
//! central admin, every agency ranked worst first, so the ones that do not follow up stand out.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lapor_core::Role;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::inbox::api_path;
use super::shell::{self, Section};
use super::{Desk, Staff};
use crate::pages;
use crate::session::{Ctx, Lang};

const WINDOWS: [u64; 3] = [30, 90, 365];
const COLORS: [&str; 4] = ["red", "yellow", "grey", "green"];

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    /// The central ranking's window in days.
    hari: Option<String>,
}

/// `GET /console/dasbor`
pub async fn page(
    State(desk): State<Desk>,
    ctx: Ctx,
    staff: Staff,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let console = desk.console;
    let lang = ctx.lang;
    let central = staff.officer.role == Role::AdminPusat;
    let days = query.hari.as_deref().unwrap_or("90");
    let (own, ranking) = if central {
        let path = api_path("/admin/dashboard", &[("days", days)]);
        let ranking = console.read(&staff, &path).await;
        (None, Some(ranking))
    } else {
        let own = console.read(&staff, "/agency/dashboard").await;
        (Some(own), None)
    };
    if own.iter().chain(ranking.iter()).any(|a| a.failed()) {
        return shell::unavailable(&ctx, Some(&staff));
    }
    let problems: Vec<_> = own
        .iter()
        .chain(ranking.iter())
        .filter_map(|a| a.problem())
        .collect();
    let main = html! {
        h1 { (lang.t("Dasbor", "Dashboard")) }
        (pages::error_summary(lang, &problems))
        @if let Some(own) = own.as_ref().filter(|a| a.ok()) {
            (agency_view(lang, &own.body))
        }
        @if let Some(ranking) = ranking.as_ref().filter(|a| a.ok()) {
            (central_view(lang, &ranking.body))
        }
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    shell::respond(
        &ctx,
        &staff,
        Section::Dashboard,
        lang.t("Dasbor", "Dashboard"),
        status,
        main,
    )
}

fn count(entry: &Value, color: &str) -> u64 {
    entry["colors"][color].as_u64().unwrap_or_default()
}

fn window(entry: &Value, days: u64) -> Option<&Value> {
    entry["windows"]
        .as_array()?
        .iter()
        .find(|w| w["days"].as_u64() == Some(days))
}

/// An on-time share as a percentage and a meter, or a dash when nothing was followed up.
fn share(lang: Lang, window: Option<&Value>) -> Markup {
    let followed = window
        .and_then(|w| w["followed_up"].as_u64())
        .unwrap_or_default();
    match window.and_then(|w| w["on_time_share"].as_f64()) {
        Some(share) => html! {
            span class="share" {
                meter min="0" max="1" low="0.6" high="0.85" optimum="1" value=(format!("{share:.3}")) aria-hidden="true" {}
                " " (format!("{:.0}%", share * 100.0))
                span class="meta" { " (" (window.and_then(|w| w["on_time"].as_u64()).unwrap_or_default()) "/" (followed) ")" }
            }
        },
        None => {
            html! { span class="share none" { "—" span class="visually-hidden" { (lang.t(" belum ada tindak lanjut", " nothing followed up yet")) } } }
        }
    }
}

fn agency_view(lang: Lang, body: &Value) -> Markup {
    let agency = &body["agency"];
    let departments = body["departments"].as_array().cloned().unwrap_or_default();
    html! {
        section aria-labelledby="own-heading" {
            h2 id="own-heading" { (agency["name"].as_str().unwrap_or_default()) }
            ul id="colors" class="tiles" {
                @for color in COLORS {
                    li data-color=(color) {
                        span class="tile-number" { (count(agency, color)) }
                        (pages::color_badge(lang, color))
                    }
                }
            }
            p id="overdue" {
                strong { (agency["overdue"].as_u64().unwrap_or_default()) } " "
                (lang.t("laporan lewat batas waktu tanpa tindak lanjut.", "reports past their deadline without a follow-up."))
                " " a href="/console/kotak-masuk?warna=red" { (lang.t("Lihat laporan merah", "See the red reports")) }
            }
            h3 { (lang.t("Tindak lanjut tepat waktu", "Followed up on time")) }
            table id="on-time" class="reports" {
                caption class="visually-hidden" { (lang.t("Tindak lanjut pertama yang memenuhi batas waktu", "First follow-ups that met the deadline")) }
                thead { tr {
                    th scope="col" { (lang.t("Periode", "Period")) }
                    th scope="col" { (lang.t("Tepat waktu", "On time")) }
                } }
                tbody {
                    @for days in WINDOWS {
                        tr {
                            th scope="row" { (days) " " (lang.t("hari terakhir", "days")) }
                            td { (share(lang, window(agency, days))) }
                        }
                    }
                }
            }
        }
        @if !departments.is_empty() {
            section aria-labelledby="departments-heading" {
                h2 id="departments-heading" { (lang.t("Unit kerja", "Departments")) }
                (comparison(lang, &departments, "departments", None))
            }
        }
    }
}

/// Agencies side by side: colours, overdue, on-time share per window.
fn comparison(lang: Lang, entries: &[Value], id: &str, ranked: Option<u64>) -> Markup {
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label=(lang.t("Tabel laporan, dapat digulir", "Reports table, scrollable")) {
            table id=(id) class="reports" {
                caption class="visually-hidden" { (lang.t("Perbandingan instansi", "Agencies compared")) }
                thead { tr {
                    @if ranked.is_some() { th scope="col" { (lang.t("Peringkat", "Rank")) } }
                    th scope="col" { (lang.t("Instansi", "Agency")) }
                    th scope="col" { (lang.t("Merah (lewat batas)", "Red (overdue)")) }
                    th scope="col" { (lang.t("Kuning", "Yellow")) }
                    th scope="col" { (lang.t("Abu-abu", "Grey")) }
                    th scope="col" { (lang.t("Hijau", "Green")) }
                    @for days in WINDOWS.iter().filter(|d| ranked.is_none_or(|r| r == **d)) {
                        th scope="col" { (lang.t("Tepat waktu ", "On time ")) (days) (lang.t(" hari", " days")) }
                    }
                } }
                tbody {
                    @for (i, entry) in entries.iter().enumerate() {
                        tr data-agency=(entry["agency"].as_str().unwrap_or_default()) {
                            @if ranked.is_some() { td { (i + 1) } }
                            th scope="row" { (entry["name"].as_str().unwrap_or_default()) }
                            td class=@if count(entry, "red") > 0 { "alert" } { (count(entry, "red")) }
                            td { (count(entry, "yellow")) }
                            td { (count(entry, "grey")) }
                            td { (count(entry, "green")) }
                            @for days in WINDOWS.iter().filter(|d| ranked.is_none_or(|r| r == **d)) {
                                td { (share(lang, window(entry, *days))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn central_view(lang: Lang, body: &Value) -> Markup {
    let days = body["days"].as_u64().unwrap_or(90);
    let agencies = body["agencies"].as_array().cloned().unwrap_or_default();
    html! {
        p class="lead" { (lang.t(
            "Semua instansi, yang paling banyak laporan merah dan paling jarang tepat waktu di atas.",
            "Every agency, the most red reports and the least often on time at the top."
        )) }
        form class="filters" method="get" action="/console/dasbor" {
            div class="field" {
                label for="hari" { (lang.t("Periode tepat waktu", "On-time period")) }
                select id="hari" name="hari" {
                    @for d in WINDOWS {
                        option value=(d) selected[d == days] { (d) " " (lang.t("hari terakhir", "days")) }
                    }
                }
            }
            button class="button" type="submit" { (lang.t("Tampilkan", "Show")) }
        }
        @if agencies.is_empty() {
            p { (lang.t("Belum ada instansi pelaksana di direktori.", "No handling agencies in the directory yet.")) }
        } @else {
            (comparison(lang, &agencies, "ranking", Some(days)))
        }
    }
}
