//! `GET /`: what reporting here is, the three privacy choices in plain words, the way in to
//! report and to track, and the latest public reports with their colour.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use lapor_core::{Report, Status};
use maud::{html, Markup};

use crate::pages::{self, Caching};
use crate::session::{Ctx, Lang};
use crate::Web;

/// How many reports the feed shows.
const FEED_LENGTH: usize = 10;
/// How many it reads to find them: reports still awaiting verification are not shown yet.
const FEED_READ: usize = 30;

pub async fn home(State(web): State<Web>, ctx: Ctx) -> Response {
    let recent = match web.deps.intake.reports.recent_public(FEED_READ).await {
        Ok(reports) => reports,
        Err(e) => {
            // The feed is a courtesy: the way in to report must stay open without it.
            tracing::warn!(error = %e, "recent reports unavailable");
            Vec::new()
        }
    };
    let shown: Vec<&Report> = recent
        .iter()
        .filter(|r| !matches!(r.status, Status::Diterima | Status::Arsip))
        .take(FEED_LENGTH)
        .collect();
    let lang = ctx.lang;
    let main = html! {
        section class="hero" {
            h1 { (lang.t("Laporkan pelayanan publik yang buruk", "Report poor public service")) }
            p class="lead" { (lang.t(
                "Laporan Anda masuk ke satu sistem, diverifikasi admin pusat, lalu diteruskan ke instansi yang berwenang: kementerian, provinsi, atau pemerintah kabupaten/kota. Anda dapat melacak tindak lanjutnya dengan kode pelacakan.",
                "Your report enters one system, is verified by the central admin and forwarded to the agency in charge: a ministry, a province, or a regency or city government. You can follow it up with your tracking code."
            )) }
            p class="actions" {
                a class="button primary" href="/lapor" { (lang.t("Buat laporan", "Make a report")) }
                a class="button" href="/lacak" { (lang.t("Lacak laporan", "Track a report")) }
            }
        }
        section aria-labelledby="privacy-heading" {
            h2 id="privacy-heading" { (lang.t("Pilih siapa yang boleh melihat", "Choose who may see it")) }
            (privacy_choices(lang))
        }
        section aria-labelledby="colours-heading" {
            h2 id="colours-heading" { (lang.t("Arti warna", "What the colours mean")) }
            ul class="legend" {
                @for color in ["grey", "red", "yellow", "green"] {
                    li { (pages::color_badge(lang, color)) }
                }
            }
        }
        section aria-labelledby="recent-heading" {
            h2 id="recent-heading" { (lang.t("Laporan terbaru", "Recent reports")) }
            @if shown.is_empty() {
                p { (lang.t("Belum ada laporan publik.", "No public reports yet.")) }
            } @else {
                ul id="recent" class="cards" {
                    @for report in &shown { (card(lang, report)) }
                }
            }
        }
    };
    let title = lang.t("Beranda", "Home");
    pages::html_response(
        StatusCode::OK,
        Caching::Fresh,
        pages::page(&ctx, title, main),
    )
}

/// The three privacy choices as the report form offers them, in plain words.
pub fn privacy_choices(lang: Lang) -> Markup {
    html! {
        dl class="choices" {
            dt { (lang.t("Publik", "Public")) }
            dd { (lang.t(
                "Laporan dapat dibaca siapa saja. Nama dan kontak Anda tidak pernah ditampilkan kepada publik.",
                "Anyone can read the report. Your name and contact are never shown to the public."
            )) }
            dt { (lang.t("Anonim", "Anonymous")) }
            dd { (lang.t(
                "Laporan dapat dibaca siapa saja, tetapi nama dan kontak Anda disembunyikan juga dari instansi, dan lokasinya tidak ditampilkan.",
                "Anyone can read the report, but your name and contact are hidden from the agency too, and its location is not shown."
            )) }
            dt { (lang.t("Rahasia", "Confidential")) }
            dd { (lang.t(
                "Laporan tidak pernah tampil di halaman publik; hanya Anda (dengan kunci akses) dan instansi yang menanganinya yang dapat membacanya. Laporan whistleblowing selalu rahasia dan anonim.",
                "The report never appears on a public page; only you (with your access key) and the agency handling it can read it. Whistleblowing reports are always confidential and anonymous."
            )) }
        }
    }
}

fn card(lang: Lang, report: &Report) -> Markup {
    let (_, label, label_en, _) = report.category.describe();
    let status = serde_json::to_value(report.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let color = serde_json::to_value(report.color())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    html! {
        li {
            a href={ "/laporan/" (report.tracking_code.as_str()) } { (report.title) }
            p class="meta" {
                (lang.t(label, label_en)) " · " (report.region.region().name) " · "
                (pages::when(&lapor_core::format_time(&report.created_at)))
            }
            (pages::status_badge(lang, &status, &color))
        }
    }
}
