//! `GET /statistik`: the published figures of one region and year, as charts and tables:
//! reports by colour and status, how many were followed up and how many on time, by agency,
//! category and month, and the region's totals of the last few years. `GET /statistik.csv`:
//! the same numbers as open data.
//!
//! The figures are the counters the statistics consumer keeps ([`lapor_store::Statistics`]),
//! read as the JSON route `GET /stats` reads them, with the same rules from
//! [`lapor_core::stats`]. Confidential reports (`rahasia`, whistleblowing) are one number per
//! region and year, never in a breakdown. Charts are inline SVG drawn with presentation
//! attributes and classes only: the CSP allows no inline style.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use lapor_core::stats::{self, GroupBy, StatsRow, FIRST_YEAR};
use lapor_core::{Category, Region, RegionCode, RegionLevel, Status};
use lapor_store::{Statistics, StoreError};
use maud::{html, Markup};
use serde::Deserialize;

use crate::api::Problem;
use crate::pages::{self, described_by, field_error, Caching};
use crate::session::{Ctx, Lang};
use crate::Web;

/// The region shown when none is chosen: the city whose figures the issue quotes.
const DEFAULT_REGION: &str = "32.74";
/// How many years the totals table covers (one read of the counters each, this year included).
const HISTORY_YEARS: i32 = 5;
/// How many agencies the agency chart draws; the table lists them all.
const CHART_AGENCIES: usize = 10;
const COLORS: [&str; 4] = ["grey", "red", "yellow", "green"];

#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    region: Option<String>,
    year: Option<String>,
}

/// The region and year asked for, checked.
struct Choice {
    region: RegionCode,
    year: i32,
    /// This year in the region's calendar (statistics count in it).
    this_year: i32,
    /// The months of `year` that have begun.
    months: u32,
}

/// What the form shows as chosen: the checked choice, or what was sent.
struct Chosen<'a> {
    region: &'a str,
    year: String,
    this_year: i32,
}

/// One region-year's figures.
struct Figures {
    agencies: Vec<StatsRow>,
    categories: Vec<StatsRow>,
    /// Every month that has begun, in order, zero where nothing was reported.
    months: Vec<StatsRow>,
    /// The non-confidential reports: every breakdown adds up to this.
    totals: StatsRow,
    confidential: i64,
    /// The agencies' names, by id.
    agency_names: HashMap<String, String>,
}

impl Figures {
    /// Every report of the region-year, confidential ones included.
    fn all(&self) -> i64 {
        self.totals.total + self.confidential
    }
}

pub async fn page(State(web): State<Web>, ctx: Ctx, Query(q): Query<StatsQuery>) -> Response {
    let choice = match choose(&q, web.deps.intake.clock.now()) {
        Ok(choice) => choice,
        Err(problems) => return refused(&ctx, &q, &problems, web.deps.intake.clock.now()),
    };
    let statistics = &web.deps.intake.statistics;
    let read = tokio::try_join!(figures(statistics, &choice), history(statistics, &choice));
    let (mut figures, mut history) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "statistics unavailable");
            return pages::unavailable(&ctx);
        }
    };
    let ids: Vec<String> = figures.agencies.iter().map(|r| r.key.clone()).collect();
    figures.agency_names = web.agency_names(ids.iter().map(String::as_str)).await;
    if let Some(row) = history.iter_mut().find(|(y, _)| *y == choice.year) {
        row.1 = Some(figures.all());
    }
    let lang = ctx.lang;
    let chosen = Chosen {
        region: choice.region.as_str(),
        year: choice.year.to_string(),
        this_year: choice.this_year,
    };
    let main = html! {
        (intro(lang))
        (form(lang, &chosen, &[]))
        (report_figures(lang, &choice, &figures))
        (history_table(lang, &choice, &history))
    };
    let title = format!(
        "{} · {} {}",
        lang.t("Statistik", "Statistics"),
        choice.region.region().name,
        choice.year
    );
    pages::html_response(
        StatusCode::OK,
        Caching::Fresh,
        pages::page(&ctx, &title, main),
    )
}

pub async fn csv(State(web): State<Web>, ctx: Ctx, Query(q): Query<StatsQuery>) -> Response {
    let choice = match choose(&q, web.deps.intake.clock.now()) {
        Ok(choice) => choice,
        Err(problems) => return refused(&ctx, &q, &problems, web.deps.intake.clock.now()),
    };
    let mut figures = match figures(&web.deps.intake.statistics, &choice).await {
        Ok(figures) => figures,
        Err(e) => {
            tracing::error!(error = %e, "statistics unavailable");
            return pages::unavailable(&ctx);
        }
    };
    let ids: Vec<String> = figures.agencies.iter().map(|r| r.key.clone()).collect();
    figures.agency_names = web.agency_names(ids.iter().map(String::as_str)).await;
    let mut response = csv_text(ctx.lang, &choice, &figures).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // The region code and year are checked: digits and a dot only.
    let disposition = format!(
        "attachment; filename=\"lapor-statistik-{}-{}.csv\"",
        choice.region, choice.year
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// The page with the form and what is wrong beside each field, and nothing else.
fn refused(ctx: &Ctx, q: &StatsQuery, problems: &[Problem], now: DateTime<Utc>) -> Response {
    let lang = ctx.lang;
    let default = default_region();
    let region = asked(&q.region)
        .or(default.as_ref().map(RegionCode::as_str))
        .unwrap_or_default();
    let this_year = RegionCode::parse(region)
        .ok()
        .or_else(|| default.clone())
        .map_or(now.year(), |r| stats::this_year(&r, now));
    let chosen = Chosen {
        region,
        year: q.year.as_deref().unwrap_or_default().trim().to_string(),
        this_year,
    };
    let main = html! {
        (intro(lang))
        (pages::error_summary(lang, problems))
        (form(lang, &chosen, problems))
    };
    let title = lang.t("Statistik", "Statistics");
    pages::html_response(
        StatusCode::BAD_REQUEST,
        Caching::Fresh,
        pages::page(ctx, title, main),
    )
}

fn default_region() -> Option<RegionCode> {
    RegionCode::parse(DEFAULT_REGION).ok().or_else(|| {
        Region::all()
            .iter()
            .find(|r| r.level == RegionLevel::Provinsi)
            .and_then(|r| RegionCode::parse(&r.code).ok())
    })
}

/// A query field as sent, unless it is empty.
fn asked(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The region and year asked for (by default the city the page opens on, and this year in its
/// calendar), or what is wrong with each.
fn choose(q: &StatsQuery, now: DateTime<Utc>) -> Result<Choice, Vec<Problem>> {
    let unknown_region = || {
        Problem::new(
            "unknown_region",
            "Wilayah ini tidak dikenal. Pilih provinsi atau kabupaten/kota dari daftar.",
            "This region is not known. Choose a province, regency or city from the list.",
            Some("region"),
        )
    };
    let region = match asked(&q.region) {
        Some(code) => RegionCode::parse(code).map_err(|_| unknown_region()),
        None => default_region().ok_or_else(unknown_region),
    };
    let this_year = region
        .as_ref()
        .ok()
        .cloned()
        .or_else(default_region)
        .map_or(now.year(), |r| stats::this_year(&r, now));
    let year = stats::requested_year(asked(&q.year), this_year)
        .map_err(crate::report::from_invalid)
        .map_err(|mut p| {
            p.message = format!("{} Pilih tahun dari daftar.", p.message);
            p.message_en = format!("{} Choose a year from the list.", p.message_en);
            p
        });
    match (region, year) {
        (Ok(region), Ok(year)) => {
            let months = if year == this_year {
                now.with_timezone(&region.zone().offset()).month()
            } else {
                12
            };
            Ok(Choice {
                region,
                year,
                this_year,
                months,
            })
        }
        (region, year) => Err([region.err(), year.err()].into_iter().flatten().collect()),
    }
}

fn sum_totals(rows: &[StatsRow]) -> i64 {
    rows.iter().map(|r| r.total).sum()
}

async fn figures(statistics: &Arc<dyn Statistics>, choice: &Choice) -> Result<Figures, StoreError> {
    let (region, year) = (&choice.region, choice.year);
    let (mut agencies, mut categories, months, confidential) = tokio::try_join!(
        statistics.stats(region, year, GroupBy::Agency),
        statistics.stats(region, year, GroupBy::Category),
        statistics.stats(region, year, GroupBy::Month),
        statistics.stats(region, year, GroupBy::Confidential),
    )?;
    let totals = StatsRow::sum("total".into(), &months);
    // Most reports first; ties in key order, so the page and the file agree.
    agencies.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    categories.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    let last = months
        .iter()
        .filter_map(|r| r.key.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        .max(choice.months);
    let months = (1..=last.min(12))
        .map(|m| {
            let key = format!("{m:02}");
            months
                .iter()
                .find(|r| r.key == key)
                .cloned()
                .unwrap_or_else(|| StatsRow::sum(key, &[]))
        })
        .collect();
    Ok(Figures {
        agencies,
        categories,
        months,
        totals,
        confidential: sum_totals(&confidential),
        agency_names: HashMap::new(),
    })
}

/// Every report of each of the last few years up to this one, newest first; the chosen
/// year's is filled in from its figures (none here).
async fn history(
    statistics: &Arc<dyn Statistics>,
    choice: &Choice,
) -> Result<Vec<(i32, Option<i64>)>, StoreError> {
    let first = (choice.this_year - HISTORY_YEARS + 1).max(FIRST_YEAR);
    let mut years = Vec::new();
    for year in (first..=choice.this_year).rev() {
        if year == choice.year {
            years.push((year, None));
            continue;
        }
        let region = &choice.region;
        let (months, confidential) = tokio::try_join!(
            statistics.stats(region, year, GroupBy::Month),
            statistics.stats(region, year, GroupBy::Confidential),
        )?;
        years.push((year, Some(sum_totals(&months) + sum_totals(&confidential))));
    }
    Ok(years)
}

// --- words and numbers ---------------------------------------------------------------------

const MONTHS: [(&str, &str); 12] = [
    ("Januari", "January"),
    ("Februari", "February"),
    ("Maret", "March"),
    ("April", "April"),
    ("Mei", "May"),
    ("Juni", "June"),
    ("Juli", "July"),
    ("Agustus", "August"),
    ("September", "September"),
    ("Oktober", "October"),
    ("November", "November"),
    ("Desember", "December"),
];

/// A month key (`01`–`12`) as its name.
fn month_name(lang: Lang, key: &str) -> String {
    key.parse::<usize>()
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .map_or_else(|| key.to_string(), |(id, en)| lang.t(id, en).to_string())
}

/// The first three letters of a month's name, for the chart's axis.
fn month_abbreviation(lang: Lang, key: &str) -> String {
    month_name(lang, key).chars().take(3).collect()
}

fn category_label(lang: Lang, key: &str) -> String {
    Category::parse(key).map_or_else(
        |_| key.to_string(),
        |c| {
            let (_, id, en, _) = c.describe();
            lang.t(id, en).to_string()
        },
    )
}

/// An agency by its name from the directory (its id when the directory does not know it).
fn agency_label(lang: Lang, names: &HashMap<String, String>, key: &str) -> String {
    if key == "-" {
        lang.t(
            "Belum diteruskan ke instansi",
            "Not yet forwarded to an agency",
        )
        .to_string()
    } else {
        names.get(key).cloned().unwrap_or_else(|| key.to_string())
    }
}

fn color_name(lang: Lang, color: &str) -> &'static str {
    match color {
        "red" => lang.t("Merah", "Red"),
        "yellow" => lang.t("Kuning", "Yellow"),
        "green" => lang.t("Hijau", "Green"),
        _ => lang.t("Abu-abu", "Grey"),
    }
}

/// A count with the reader's thousands separator: `1.234` or `1,234`.
fn number(lang: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let separator = lang.t(".", ",");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(digit);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A share as a percentage with one decimal in the reader's notation: `72,5%` or `72.5%`.
fn percent(lang: Lang, share: Option<f64>) -> String {
    match share {
        Some(share) => {
            let text = format!("{:.1}%", share * 100.0);
            match lang {
                Lang::Id => text.replace('.', ","),
                Lang::En => text,
            }
        }
        None => "–".into(),
    }
}

fn share_of(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let share = (whole > 0).then(|| part as f64 / whole as f64);
    share
}

fn place(choice: &Choice) -> String {
    format!("{} {}", choice.region.region().name, choice.year)
}

// --- the page ------------------------------------------------------------------------------

fn intro(lang: Lang) -> Markup {
    html! {
        h1 { (lang.t("Statistik laporan", "Report statistics")) }
        p class="lead" { (lang.t(
            "Berapa laporan masuk di setiap wilayah, bagaimana nasibnya, dan seberapa cepat instansi menindaklanjutinya.",
            "How many reports each region received, where they stand, and how quickly agencies followed them up."
        )) }
    }
}

fn form(lang: Lang, chosen: &Chosen<'_>, problems: &[Problem]) -> Markup {
    html! {
        form class="stats-filter" method="get" action="/statistik" {
            div class="field" {
                label for="region" { (lang.t("Wilayah", "Region")) }
                p id="region-hint" class="hint" { (lang.t(
                    "Pilih provinsi (seluruh provinsi), atau kabupaten/kota di bawahnya.",
                    "Choose a province (the whole province), or a regency or city under it."
                )) }
                (field_error(lang, problems, "region"))
                (crate::report::region_select(lang, "region", chosen.region, problems))
            }
            div class="field" {
                label for="year" { (lang.t("Tahun", "Year")) }
                (field_error(lang, problems, "year"))
                select id="year" name="year" aria-invalid=[pages::invalid(problems, "year")]
                    aria-describedby=[described_by(problems, "year")] {
                    @for year in (FIRST_YEAR..=chosen.this_year).rev() {
                        option value=(year) selected[chosen.year == year.to_string()] { (year) }
                    }
                }
            }
            button class="button primary" type="submit" { (lang.t("Tampilkan", "Show")) }
        }
    }
}

fn report_figures(lang: Lang, choice: &Choice, figures: &Figures) -> Markup {
    let totals = &figures.totals;
    let so_far = choice.year == choice.this_year;
    let province = choice.region.region().level == RegionLevel::Provinsi;
    let csv_href = format!(
        "/statistik.csv?region={}&year={}",
        choice.region, choice.year
    );
    html! {
        section class="stats-summary" aria-labelledby="summary-heading" {
            h2 id="summary-heading" { (choice.region.region().name) ", " (choice.year) }
            p class="stats-total" {
                span class="stats-number" { (number(lang, figures.all())) }
                " " (lang.t("laporan", "reports"))
                @if so_far { " " (lang.t("sampai hari ini", "so far")) }
            }
            dl class="stats-facts" {
                dt { (lang.t("Laporan rahasia dan whistleblowing", "Confidential and whistleblowing reports")) }
                dd id="confidential" { (number(lang, figures.confidential)) }
                dt { (lang.t("Laporan yang dirinci di bawah", "Reports broken down below")) }
                dd { (number(lang, totals.total)) }
                dt { (lang.t("Sudah ditindaklanjuti", "Followed up")) }
                dd { (number(lang, totals.followed_up)) " (" (percent(lang, totals.followed_up_share())) ")" }
                dt { (lang.t("Ditindaklanjuti tepat waktu", "Followed up on time")) }
                dd {
                    (number(lang, totals.on_time)) " " (lang.t("dari", "of")) " " (number(lang, totals.followed_up))
                    " (" (percent(lang, totals.on_time_share)) ")"
                }
            }
            p class="hint" { (lang.t(
                "Laporan rahasia dan whistleblowing hanya dihitung sebagai satu angka: tidak pernah dirinci per instansi, kategori, bulan, warna, atau status, agar tidak ada yang dapat dikenali.",
                "Confidential and whistleblowing reports are counted as one number only: never by agency, category, month, colour or status, so none can be singled out."
            )) }
            p class="hint" {
                (lang.t(
                    "Laporan dihitung pada tahun dan bulan dibuatnya, dengan warna dan status terkininya; angka diperbarui beberapa detik setelah setiap perubahan.",
                    "A report counts in the year and month it was made, in its current colour and status; figures follow each change within seconds."
                ))
                @if province { " " (lang.t(
                    "Angka provinsi mencakup semua kabupaten dan kota di dalamnya.",
                    "A province's figures include all its regencies and cities."
                )) }
            }
            p { a class="button" href=(csv_href) download { (lang.t("Unduh angka ini (CSV)", "Download these figures (CSV)")) } }
        }
        @if totals.total > 0 {
            (colour_section(lang, choice, figures))
            (status_section(lang, choice, figures))
            (month_section(lang, choice, figures))
            (group_section(lang, choice, &Grouping {
                id: "categories",
                heading: lang.t("Menurut kategori", "By category"),
                what: lang.t("Kategori", "Category"),
                rows: &figures.categories,
                label: &|key| category_label(lang, key),
                chart_limit: None,
            }))
            (group_section(lang, choice, &Grouping {
                id: "agencies",
                heading: lang.t("Menurut instansi", "By agency"),
                what: lang.t("Instansi", "Agency"),
                rows: &figures.agencies,
                label: &|key| agency_label(lang, &figures.agency_names, key),
                chart_limit: Some(CHART_AGENCIES),
            }))
        } @else {
            p class="notice" { (lang.t(
                "Belum ada laporan terbuka yang tercatat untuk wilayah dan tahun ini.",
                "No open reports are recorded for this region and year yet."
            )) }
        }
    }
}

fn colour_section(lang: Lang, choice: &Choice, figures: &Figures) -> Markup {
    let totals = &figures.totals;
    let bars: Vec<Bar> = COLORS
        .iter()
        .map(|c| Bar {
            label: color_name(lang, c).to_string(),
            value: totals.colors.get(*c).copied().unwrap_or(0),
            class: c,
        })
        .collect();
    let caption = format!(
        "{} · {}",
        lang.t("Laporan menurut warna", "Reports by colour"),
        place(choice)
    );
    html! {
        section aria-labelledby="colours-heading" {
            h2 id="colours-heading" { (lang.t("Menurut warna", "By colour")) }
            (bar_chart(lang, "colours", &caption, &bars))
            (share_table(lang, "colours", &caption, lang.t("Warna", "Colour"), totals.total,
                COLORS.iter().map(|c| (pages::color_label(lang, c).to_string(), totals.colors.get(*c).copied().unwrap_or(0)))))
        }
    }
}

fn status_section(lang: Lang, choice: &Choice, figures: &Figures) -> Markup {
    let totals = &figures.totals;
    let count = |s: &Status| totals.statuses.get(s.as_str()).copied().unwrap_or(0);
    let bars: Vec<Bar> = Status::ALL
        .iter()
        .map(|s| Bar {
            label: pages::status_label(lang, s.as_str()),
            value: count(s),
            class: "",
        })
        .collect();
    let caption = format!(
        "{} · {}",
        lang.t("Laporan menurut status", "Reports by status"),
        place(choice)
    );
    html! {
        section aria-labelledby="statuses-heading" {
            h2 id="statuses-heading" { (lang.t("Menurut status", "By status")) }
            (bar_chart(lang, "statuses", &caption, &bars))
            (share_table(lang, "statuses", &caption, lang.t("Status", "Status"), totals.total,
                Status::ALL.iter().map(|s| (pages::status_label(lang, s.as_str()), count(s)))))
        }
    }
}

fn month_section(lang: Lang, choice: &Choice, figures: &Figures) -> Markup {
    let caption = format!(
        "{} · {}",
        lang.t("Laporan per bulan", "Reports per month"),
        place(choice)
    );
    html! {
        section aria-labelledby="months-heading" {
            h2 id="months-heading" { (lang.t("Per bulan", "Per month")) }
            (month_chart(lang, &caption, &figures.months))
            (group_table(lang, "months", &caption, lang.t("Bulan", "Month"), &figures.months,
                &figures.totals, &|key| month_name(lang, key)))
        }
    }
}

/// A breakdown by agency or category: its rows, most reports first, and how to name a row.
struct Grouping<'a> {
    id: &'a str,
    heading: &'a str,
    /// The first column's header.
    what: &'a str,
    rows: &'a [StatsRow],
    label: &'a dyn Fn(&str) -> String,
    /// How many rows the chart draws at most (all when none).
    chart_limit: Option<usize>,
}

fn group_section(lang: Lang, choice: &Choice, grouping: &Grouping<'_>) -> Markup {
    let Grouping {
        id,
        heading,
        what,
        rows,
        label,
        chart_limit,
    } = *grouping;
    let caption = format!("{heading} · {}", place(choice));
    let drawn = chart_limit.unwrap_or(rows.len()).min(rows.len());
    let bars: Vec<Bar> = rows[..drawn]
        .iter()
        .map(|r| Bar {
            label: label(&r.key),
            value: r.total,
            class: "",
        })
        .collect();
    let totals = StatsRow::sum("total".into(), rows);
    html! {
        section aria-labelledby={ (id) "-heading" } {
            h2 id={ (id) "-heading" } { (heading) }
            @if drawn < rows.len() {
                p class="hint" { (lang.t("Diagram menampilkan ", "The chart shows the "))
                    (drawn) (lang.t(" dengan laporan terbanyak; tabel memuat semuanya.", " with the most reports; the table lists them all.")) }
            }
            (bar_chart(lang, id, &caption, &bars))
            (group_table(lang, id, &caption, what, rows, &totals, label))
        }
    }
}

/// A table of counts and their share of `whole`.
fn share_table(
    lang: Lang,
    id: &str,
    caption: &str,
    what: &str,
    whole: i64,
    rows: impl Iterator<Item = (String, i64)>,
) -> Markup {
    let caption_id = format!("{id}-caption");
    html! {
        div class="table-scroll" role="region" aria-labelledby=(caption_id) tabindex="0" {
            table class="stats-table" {
                caption id=(caption_id) { (caption) }
                thead { tr {
                    th scope="col" { (what) }
                    th scope="col" { (lang.t("Laporan", "Reports")) }
                    th scope="col" { (lang.t("Bagian", "Share")) }
                } }
                tbody {
                    @for (label, n) in rows {
                        tr { th scope="row" { (label) } td { (number(lang, n)) } td { (percent(lang, share_of(n, whole))) } }
                    }
                }
            }
        }
    }
}

/// A table of one grouping: each row's count, colours, follow-ups, and the totals line.
fn group_table(
    lang: Lang,
    id: &str,
    caption: &str,
    what: &str,
    rows: &[StatsRow],
    totals: &StatsRow,
    label: &dyn Fn(&str) -> String,
) -> Markup {
    let caption_id = format!("{id}-caption");
    let cells = |row: &StatsRow| {
        html! {
            td { (number(lang, row.total)) }
            @for c in COLORS { td { (number(lang, row.colors.get(c).copied().unwrap_or(0))) } }
            td { (number(lang, row.followed_up)) }
            td { (number(lang, row.on_time)) }
            td { (percent(lang, row.on_time_share)) }
        }
    };
    html! {
        div class="table-scroll" role="region" aria-labelledby=(caption_id) tabindex="0" {
            table class="stats-table" {
                caption id=(caption_id) { (caption) }
                thead { tr {
                    th scope="col" { (what) }
                    th scope="col" { (lang.t("Laporan", "Reports")) }
                    @for c in COLORS { th scope="col" { (color_name(lang, c)) } }
                    th scope="col" { (lang.t("Ditindaklanjuti", "Followed up")) }
                    th scope="col" { (lang.t("Tepat waktu", "On time")) }
                    th scope="col" { (lang.t("% tepat waktu", "% on time")) }
                } }
                tbody {
                    @for row in rows { tr { th scope="row" { (label(&row.key)) } (cells(row)) } }
                }
                tfoot {
                    tr { th scope="row" { (lang.t("Jumlah", "Total")) } (cells(totals)) }
                }
            }
        }
    }
}

fn history_table(lang: Lang, choice: &Choice, years: &[(i32, Option<i64>)]) -> Markup {
    let region = choice.region.region();
    html! {
        section aria-labelledby="history-heading" {
            h2 id="history-heading" { (lang.t("Beberapa tahun terakhir", "The last few years")) }
            div class="table-scroll" role="region" aria-labelledby="history-caption" tabindex="0" {
                table class="stats-table" {
                    caption id="history-caption" {
                        (lang.t("Jumlah laporan per tahun", "Reports per year")) " · " (region.name)
                    }
                    thead { tr {
                        th scope="col" { (lang.t("Tahun", "Year")) }
                        th scope="col" { (lang.t("Laporan", "Reports")) }
                    } }
                    tbody {
                        @for (year, total) in years {
                            tr class=[(*year == choice.year).then_some("chosen")] {
                                th scope="row" {
                                    a href={ "/statistik?region=" (choice.region) "&year=" (year) }
                                        aria-current=[(*year == choice.year).then_some("page")] { (year) }
                                    @if *year == choice.this_year { " " (lang.t("(sampai hari ini)", "(so far)")) }
                                }
                                td { (number(lang, total.unwrap_or(0))) }
                            }
                        }
                    }
                }
            }
            p class="hint" { (lang.t(
                "Termasuk laporan rahasia dan whistleblowing.",
                "Confidential and whistleblowing reports included."
            )) }
        }
    }
}

// --- charts --------------------------------------------------------------------------------

struct Bar {
    label: String,
    value: i64,
    /// An extra class for the bar (its colour), or none.
    class: &'static str,
}

/// The chart's drawing width in SVG units; the CSS scales it to the column.
const CHART_WIDTH: i64 = 400;
/// Room right of the longest bar for its number.
const VALUE_ROOM: i64 = 56;
const ROW_HEIGHT: i64 = 40;

fn bar_class(class: &str) -> String {
    if class.is_empty() {
        "bar".into()
    } else {
        format!("bar {class}")
    }
}

/// The length of a bar of `value` where `max` fills `room`.
fn scaled(value: i64, max: i64, room: i64) -> i64 {
    if max <= 0 {
        0
    } else {
        value.max(0) * room / max
    }
}

fn chart_title(lang: Lang, caption: &str) -> String {
    format!(
        "{caption}. {}",
        lang.t(
            "Diagram batang; angkanya ada di tabel berikut.",
            "Bar chart; the numbers are in the table that follows."
        )
    )
}

/// Horizontal bars, one row each: its label above, the bar, and its number after it.
fn bar_chart(lang: Lang, id: &str, caption: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0);
    let height = ROW_HEIGHT * i64::try_from(bars.len()).unwrap_or(0) + 4;
    let title_id = format!("{id}-chart-title");
    html! {
        svg class="chart" role="img" aria-labelledby=(title_id) xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (CHART_WIDTH) " " (height) } width="100%" {
            title id=(title_id) { (chart_title(lang, caption)) }
            @for (i, bar) in bars.iter().enumerate() {
                @let top = ROW_HEIGHT * i64::try_from(i).unwrap_or(0);
                @let length = scaled(bar.value, max, CHART_WIDTH - VALUE_ROOM);
                text class="label" x="0" y=(top + 14) { (bar.label) }
                rect class=(bar_class(bar.class)) x="0" y=(top + 19) width=(length) height="14" {}
                text class="value" x=(length + 6) y=(top + 31) { (number(lang, bar.value)) }
            }
        }
    }
}

/// Vertical bars, one per month, the month's abbreviation below and its number above.
fn month_chart(lang: Lang, caption: &str, months: &[StatsRow]) -> Markup {
    const PLOT: i64 = 140;
    const TOP: i64 = 20;
    let max = months.iter().map(|r| r.total).max().unwrap_or(0);
    let step = CHART_WIDTH / 12;
    html! {
        svg class="chart" role="img" aria-labelledby="months-chart-title" xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (CHART_WIDTH) " " (TOP + PLOT + 24) } width="100%" {
            title id="months-chart-title" { (chart_title(lang, caption)) }
            line class="axis" x1="0" y1=(TOP + PLOT) x2=(CHART_WIDTH) y2=(TOP + PLOT) {}
            @for (i, row) in months.iter().enumerate() {
                @let left = step * i64::try_from(i).unwrap_or(0);
                @let middle = left + step / 2;
                @let length = scaled(row.total, max, PLOT);
                rect class="bar" x=(left + 4) y=(TOP + PLOT - length) width=(step - 8) height=(length) {}
                text class="value" x=(middle) y=(TOP + PLOT - length - 4) text-anchor="middle" { (number(lang, row.total)) }
                text class="label" x=(middle) y=(TOP + PLOT + 18) text-anchor="middle" { (month_abbreviation(lang, &row.key)) }
            }
        }
    }
}

// --- the file ------------------------------------------------------------------------------

/// One header row, then the totals, the confidential count, and each grouping's rows: the
/// numbers the page shows. Labels in the reader's language; keys are the stable ids.
fn csv_text(lang: Lang, choice: &Choice, figures: &Figures) -> String {
    let mut header: Vec<String> = ["region", "year", "group", "key", "label", "total"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(COLORS.iter().map(|c| format!("color_{c}")));
    header.extend(Status::ALL.iter().map(|s| format!("status_{}", s.as_str())));
    header.extend(["followed_up".to_string(), "on_time".to_string()]);
    let columns = header.len();
    let mut out = String::new();
    push_record(&mut out, &header);
    let region = choice.region.to_string();
    let year = choice.year.to_string();
    let row = |group: &str, key: &str, label: String, r: &StatsRow| {
        let mut cells = vec![
            region.clone(),
            year.clone(),
            group.to_string(),
            key.to_string(),
            label,
            r.total.to_string(),
        ];
        cells.extend(
            COLORS
                .iter()
                .map(|c| r.colors.get(*c).copied().unwrap_or(0).to_string()),
        );
        cells.extend(
            Status::ALL
                .iter()
                .map(|s| r.statuses.get(s.as_str()).copied().unwrap_or(0).to_string()),
        );
        cells.extend([r.followed_up.to_string(), r.on_time.to_string()]);
        cells
    };
    push_record(
        &mut out,
        &row(
            "all",
            "",
            lang.t("Laporan yang dirinci", "Reports broken down").into(),
            &figures.totals,
        ),
    );
    let mut confidential = vec![
        region.clone(),
        year.clone(),
        "confidential".into(),
        String::new(),
        lang.t(
            "Laporan rahasia dan whistleblowing",
            "Confidential and whistleblowing reports",
        )
        .into(),
        figures.confidential.to_string(),
    ];
    confidential.resize(columns, String::new());
    push_record(&mut out, &confidential);
    for r in &figures.months {
        push_record(&mut out, &row("month", &r.key, month_name(lang, &r.key), r));
    }
    for r in &figures.categories {
        push_record(
            &mut out,
            &row("category", &r.key, category_label(lang, &r.key), r),
        );
    }
    for r in &figures.agencies {
        let key = if r.key == "-" { "" } else { r.key.as_str() };
        push_record(
            &mut out,
            &row(
                "agency",
                key,
                agency_label(lang, &figures.agency_names, &r.key),
                r,
            ),
        );
    }
    out
}

/// One CSV record (RFC 4180, CRLF). A cell a spreadsheet would take for a formula is quoted
/// behind an apostrophe.
fn push_record(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let cell = if formula {
            format!("'{cell}")
        } else {
            cell.clone()
        };
        if cell.contains([',', '"', '\n', '\r']) || formula {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::Router;
    use lapor_core::stats::CountedChange;
    use lapor_core::{
        AccessKey, AgencyId, Channel, Deadlines, FixedClock, KeyPepper, Report, ReportDraft,
        TrackingCode,
    };
    use lapor_store::{MemStore, Stores};
    use tower::ServiceExt;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .expect("time")
    }

    fn report(created: DateTime<Utc>, kind: &str, category: &str, privacy: &str) -> Report {
        let body = serde_json::json!({
            "type": kind,
            "title": "Jalan berlubang di Jalan Cipto",
            "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
            "category": category,
            "region": "32.74",
            "privacy": privacy,
            "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
        });
        let new = ReportDraft(body.as_object().expect("object"))
            .validate(Channel::Web)
            .expect("valid");
        Report::open(
            new,
            TrackingCode::generate(&mut rand::rng()),
            AccessKey::generate(&mut rand::rng()).hash(),
            created,
            &Deadlines::indonesia(),
        )
        .0
    }

    /// Kota Cirebon: 58 reports in 2017 (3 of them confidential) and 17 so far in 2018 (1),
    /// counted as the statistics consumer counts them.
    async fn seeded() -> Router {
        let store = Arc::new(MemStore::new());
        let mut changes = Vec::new();
        for (year, public, secret) in [(2017, 55, 3), (2018, 16, 1)] {
            for i in 0..public {
                let month = if year == 2018 { 1 + i % 6 } else { 1 + i % 12 };
                let created = at(&format!("{year}-{month:02}-10T03:00:00Z"));
                let category = if i % 2 == 0 {
                    "infrastruktur"
                } else {
                    "kesehatan"
                };
                let mut r = report(created, "pengaduan", category, "publik");
                if i < 20 {
                    r.status = Status::Diproses;
                    r.agency = AgencyId::parse("kota-cirebon-dpupr").ok();
                    r.first_response_at = Some(created.fixed_offset());
                    r.responded_on_time = i % 4 != 0;
                }
                changes.push(CountedChange::of(None, &r));
            }
            for i in 0..secret {
                let created = at(&format!("{year}-03-10T03:00:00Z"));
                let (kind, privacy) = if i == 2 {
                    ("whistleblowing", "publik")
                } else {
                    ("pengaduan", "rahasia")
                };
                changes.push(CountedChange::of(
                    None,
                    &report(created, kind, "korupsi", privacy),
                ));
            }
        }
        store
            .count(&changes, at("2018-06-15T03:00:00Z").timestamp())
            .await
            .expect("counted");
        let intake = lapor_intake::Deps::new(
            &Stores::of(store),
            Arc::new(FixedClock::new(at("2018-06-15T03:00:00Z"))),
            Deadlines::indonesia(),
            KeyPepper::new(vec![7; 32]).expect("pepper"),
        );
        crate::routes(crate::Deps::new(intake, false))
    }

    async fn get(app: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let response = app.clone().oneshot(request).await.expect("answer");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 22).await.expect("body");
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).expect("utf-8"),
        )
    }

    #[tokio::test]
    async fn the_page_answers_how_many_reports_a_city_had_each_year() {
        let app = seeded().await;
        let (status, _, page) = get(&app, "/statistik?region=32.74&year=2017").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(r#"<h2 id="summary-heading">Kota Cirebon, 2017</h2>"#));
        assert!(page.contains(r#"<span class="stats-number">58</span> laporan</p>"#));
        assert!(page.contains(r#"year=2017" aria-current="page">2017</a></th><td>58</td>"#));
        assert!(page.contains(r#"year=2018">2018</a> (sampai hari ini)</th><td>17</td>"#));
        // Followed up 20 of 55, 15 of them on time.
        assert!(page.contains("<dd>20 (36,4%)</dd>"), "{page}");
        assert!(page.contains("<dd>15 dari 20 (75,0%)</dd>"));
        assert!(page.contains(r#"role="img""#) && page.contains("<svg"));
        assert!(!page.contains("style="), "the CSP forbids inline style");
        assert!(!page.contains("<style"));

        // This year, by default, in English.
        let (status, _, page) = get(&app, "/statistik?lang=en").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(r#"<h2 id="summary-heading">Kota Cirebon, 2018</h2>"#));
        assert!(page.contains(r#"<span class="stats-number">17</span> reports so far</p>"#));
        assert!(page.contains("<dd>15 of 16 (93.8%)</dd>") || page.contains(" of 16 ("));
        assert!(page.contains(">June</th>") && !page.contains(">July</th>"));

        // A province counts its cities' reports.
        let (_, _, page) = get(&app, "/statistik?region=32&year=2017").await;
        assert!(page.contains(r#"<span class="stats-number">58</span>"#));
    }

    #[tokio::test]
    async fn confidential_reports_are_one_number_and_nowhere_else() {
        let app = seeded().await;
        let (_, _, page) = get(&app, "/statistik?region=32.74&year=2017").await;
        assert!(page.contains(r#"<dd id="confidential">3</dd>"#));
        assert!(
            page.contains("<dd>55</dd>"),
            "the breakdowns cover the rest"
        );
        // Every breakdown adds up to the 55 open reports; no category names the secret ones.
        assert_eq!(
            page.matches(r#"<th scope="row">Jumlah</th><td>55</td>"#)
                .count(),
            3,
            "months, categories, agencies"
        );
        assert!(!page.contains("Pungutan Liar dan Korupsi"));
        assert!(!page.contains(">korupsi<"));
    }

    fn cells(line: &str) -> Vec<String> {
        line.split(',')
            .map(|c| c.trim_matches('"').to_string())
            .collect()
    }

    #[tokio::test]
    async fn the_file_has_the_numbers_of_the_page() {
        let app = seeded().await;
        let (_, _, page) = get(&app, "/statistik?region=32.74&year=2017").await;
        let (status, headers, file) = get(&app, "/statistik.csv?region=32.74&year=2017").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert_eq!(
            headers[header::CONTENT_DISPOSITION],
            r#"attachment; filename="lapor-statistik-32.74-2017.csv""#
        );
        assert!(page.contains(r#"href="/statistik.csv?region=32.74&amp;year=2017""#));
        let mut lines = file.lines();
        let header: Vec<String> = cells(lines.next().expect("header"));
        let column = |name: &str| header.iter().position(|h| h == name).expect(name);
        let rows: Vec<Vec<String>> = lines.map(cells).collect();
        assert!(rows.iter().all(|r| r.len() == header.len()));
        let of = |group: &str| {
            rows.iter()
                .filter(|r| r[column("group")] == group)
                .collect::<Vec<_>>()
        };
        assert_eq!(of("all")[0][column("total")], "55");
        assert_eq!(of("confidential")[0][column("total")], "3");
        assert_eq!(of("month").len(), 12);
        let month_sum: i64 = of("month")
            .iter()
            .map(|r| r[column("total")].parse::<i64>().expect("number"))
            .sum();
        assert_eq!(month_sum, 55);
        assert_eq!(of("category").len(), 2, "no confidential category");
        assert_eq!(of("agency").len(), 2);
        for group in ["month", "category", "agency"] {
            for row in of(group) {
                let mut html = format!(r#"<th scope="row">{}</th>"#, row[column("label")]);
                for name in [
                    "total",
                    "color_grey",
                    "color_red",
                    "color_yellow",
                    "color_green",
                    "followed_up",
                    "on_time",
                ] {
                    html.push_str(&format!("<td>{}</td>", row[column(name)]));
                }
                assert!(page.contains(&html), "{html} not on the page");
            }
        }
    }

    #[tokio::test]
    async fn a_bad_year_or_region_is_a_400_with_the_error_beside_its_field() {
        let app = seeded().await;
        for uri in [
            "/statistik?region=32.74&year=1999",
            "/statistik.csv?year=2019",
        ] {
            let (status, headers, page) = get(&app, uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert!(headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/html")));
            assert!(page.contains(
                r#"<p id="year-error" class="field-error">Tahun harus 2000–2018. Pilih tahun dari daftar.</p>"#
            ));
            assert!(page.contains(r#"aria-describedby="year-error""#));
            assert!(!page.contains("stats-number"), "nothing else");
        }
        let (status, _, page) = get(&app, "/statistik?region=99.99&year=abc&lang=en").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            page.contains(r#"<p id="region-error" class="field-error">This region is not known."#)
        );
        assert!(page.contains("The year must be 2000–2018."));
        assert!(!page.contains("stats-number"));
    }

    #[test]
    fn numbers_and_shares_are_written_as_the_reader_writes_them() {
        assert_eq!(number(Lang::Id, 1_234_567), "1.234.567");
        assert_eq!(number(Lang::En, 1_234), "1,234");
        assert_eq!(number(Lang::En, 999), "999");
        assert_eq!(percent(Lang::Id, Some(0.7254)), "72,5%");
        assert_eq!(percent(Lang::En, Some(0.7254)), "72.5%");
        assert_eq!(percent(Lang::En, None), "–");
        assert_eq!(month_name(Lang::Id, "08"), "Agustus");
        assert_eq!(month_abbreviation(Lang::En, "12"), "Dec");
        let mut out = String::new();
        push_record(
            &mut out,
            &["a,b".into(), "=1+1".into(), "say \"hi\"".into()],
        );
        assert_eq!(out, "\"a,b\",\"'=1+1\",\"say \"\"hi\"\"\"\r\n");
    }
}
