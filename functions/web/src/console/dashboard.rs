//! The dashboard: for an agency, its reports by colour, the overdue ones, and how often its first
//! follow-up met the deadline over 30, 90 and 365 days, beside its departments'; for the
//! central admin, every agency ranked worst first, so the ones that do not follow up stand out.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lapor_core::Role;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

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

/// The agency and its departments as one: a report counts for the agency that holds it, so the
/// reports in the agency's care are the sums of its own and its departments' figures, and its
/// on-time share over a window is their on-time follow-ups over their follow-ups. Only the
/// figures the tiles read (`colors`, `overdue`, `windows`): the heading names the agency.
fn group_total(agency: &Value, departments: &[Value]) -> Value {
    let entries: Vec<&Value> = std::iter::once(agency).chain(departments).collect();
    let sum = |figure: &dyn Fn(&Value) -> u64| entries.iter().map(|e| figure(e)).sum::<u64>();
    let colors: serde_json::Map<String, Value> = COLORS
        .iter()
        .map(|&color| (color.to_string(), json!(sum(&|e| count(e, color)))))
        .collect();
    let windows: Vec<Value> = WINDOWS
        .iter()
        .map(|&days| {
            let of = |field: &'static str| {
                sum(&|e| {
                    window(e, days)
                        .and_then(|w| w[field].as_u64())
                        .unwrap_or_default()
                })
            };
            let (followed_up, on_time) = (of("followed_up"), of("on_time"));
            let share = (followed_up > 0).then(|| on_time as f64 / followed_up as f64);
            json!({ "days": days, "followed_up": followed_up, "on_time": on_time, "on_time_share": share })
        })
        .collect();
    json!({
        "colors": colors,
        "overdue": sum(&|e| e["overdue"].as_u64().unwrap_or_default()),
        "windows": windows,
    })
}

fn agency_view(lang: Lang, body: &Value) -> Markup {
    let agency = &body["agency"];
    let departments = body["departments"].as_array().cloned().unwrap_or_default();
    // With departments, the tiles count every report in the agency's care, not only those still
    // at its own desk: a city whose reports all went to its departments is not a city with none.
    let total = if departments.is_empty() {
        agency.clone()
    } else {
        group_total(agency, &departments)
    };
    let name = agency["name"].as_str().unwrap_or_default();
    html! {
        section aria-labelledby="own-heading" {
            h2 id="own-heading" { (name) }
            @if !departments.is_empty() {
                p id="scope" { (lang.t(
                    "Semua laporan yang ditangani instansi ini dan unit kerjanya. Rinciannya ada di tabel di bawah.",
                    "Every report held by this agency and its departments. The table below breaks them down."
                )) }
            }
            ul id="colors" class="tiles" {
                @for color in COLORS {
                    li data-color=(color) {
                        span class="tile-number" { (count(&total, color)) }
                        (pages::color_badge(lang, color))
                    }
                }
            }
            p id="overdue" {
                strong { (total["overdue"].as_u64().unwrap_or_default()) } " "
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
                            td { (share(lang, window(&total, days))) }
                        }
                    }
                }
            }
        }
        @if !departments.is_empty() {
            section aria-labelledby="departments-heading" {
                h2 id="departments-heading" { (lang.t("Rincian per unit kerja", "By department")) }
                (comparison(lang, &with_own_desk(lang, agency, departments), "departments", None))
            }
        }
    }
}

/// The departments, after the agency's own row (the reports still at its own desk), so that the
/// rows add up to the tiles above them.
fn with_own_desk(lang: Lang, agency: &Value, departments: Vec<Value>) -> Vec<Value> {
    let mut own = agency.clone();
    own["name"] = json!(format!(
        "{}{}",
        agency["name"].as_str().unwrap_or_default(),
        lang.t(" (ditangani langsung)", " (handled directly)")
    ));
    std::iter::once(own).chain(departments).collect()
}

/// Agencies side by side: colours, overdue, on-time share per window. On a phone each agency is a
/// card whose lines say what they are (`table.stack` in console.css), not a row to scroll.
fn comparison(lang: Lang, entries: &[Value], id: &str, ranked: Option<u64>) -> Markup {
    let windows: Vec<u64> = WINDOWS
        .into_iter()
        .filter(|d| ranked.is_none_or(|r| r == *d))
        .collect();
    let on_time = |days: u64| {
        format!(
            "{}{days}{}",
            lang.t("Tepat waktu ", "On time "),
            lang.t(" hari", " days")
        )
    };
    let rank = lang.t("Peringkat", "Rank");
    let columns = [
        ("red", lang.t("Merah (lewat batas)", "Red (overdue)")),
        ("yellow", lang.t("Kuning", "Yellow")),
        ("grey", lang.t("Abu-abu", "Grey")),
        ("green", lang.t("Hijau", "Green")),
    ];
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label=(lang.t("Tabel instansi", "Agencies table")) {
            // The roles keep it a table for screen readers when a phone shows its rows as cards.
            table id=(id) class="reports stack compare" role="table" {
                caption class="visually-hidden" { (lang.t("Perbandingan instansi", "Agencies compared")) }
                thead role="rowgroup" { tr role="row" {
                    @if ranked.is_some() { th scope="col" role="columnheader" { (rank) } }
                    th scope="col" role="columnheader" { (lang.t("Instansi", "Agency")) }
                    @for (_, label) in columns { th scope="col" role="columnheader" { (label) } }
                    @for days in &windows { th scope="col" role="columnheader" { (on_time(*days)) } }
                } }
                tbody role="rowgroup" {
                    @for (i, entry) in entries.iter().enumerate() {
                        tr role="row" data-agency=(entry["agency"].as_str().unwrap_or_default()) {
                            @if ranked.is_some() { td role="cell" data-label=(rank) { (i + 1) } }
                            th scope="row" role="rowheader" { (entry["name"].as_str().unwrap_or_default()) }
                            @for (color, label) in columns {
                                td.count.alert[color == "red" && count(entry, "red") > 0] role="cell" data-label=(label) data-color=(color) { (count(entry, color)) }
                            }
                            @for days in &windows {
                                td role="cell" data-label=(on_time(*days)) { (share(lang, window(entry, *days))) }
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
