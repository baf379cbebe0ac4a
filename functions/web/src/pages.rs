//! The page shell every page shares, and the words for statuses and colours.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::api::Problem;
use crate::session::{Ctx, Lang};

/// Whether a page may be kept by the browser's cache: pages with a secret (receipt, tracking)
/// must not be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Holds an access key or a reporter's own data.
    Secret,
    /// Anything else: may be kept, but asked again before use (forms carry the CSRF token).
    Fresh,
}

/// A full page: head, header with navigation and the language switch, the main content.
pub fn page(ctx: &Ctx, title: &str, main: Markup) -> Markup {
    let lang = ctx.lang;
    let other = lang.other();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(&format!("{title} · LAPOR"), &[crate::assets::CSS_PATH], Some(crate::assets::JS_PATH)))
            body {
                a class="skip" href="#main" { (lang.t("Langsung ke isi", "Skip to content")) }
                header class="site" {
                    a class="brand" href="/" { "LAPOR" span { (lang.t("Layanan Aspirasi dan Pengaduan", "Complaints and Aspirations")) } }
                    nav aria-label=(lang.t("Menu utama", "Main menu")) {
                        a href="/lapor" { (lang.t("Buat laporan", "Report")) }
                        a href="/lacak" { (lang.t("Lacak", "Track")) }
                        a href="/statistik" { (lang.t("Statistik", "Statistics")) }
                        a id="lang-switch" href={ (ctx.path) "lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                            (other.t("Bahasa Indonesia", "English"))
                        }
                    }
                }
                main id="main" { (main) }
                footer class="site" {
                    p { (lang.t(
                        "Laporan Anda diteruskan ke instansi yang berwenang. Identitas pelapor anonim dan rahasia tidak pernah ditampilkan.",
                        "Your report is forwarded to the agency in charge. The identity of anonymous and confidential reporters is never shown."
                    )) }
                }
            }
        }
    }
}

/// The `<head>` every page shares: our own stylesheets and script only (the CSP allows nothing
/// else).
pub fn head(title: &str, stylesheets: &[&str], script: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            @for href in stylesheets {
                link rel="stylesheet" href=(href);
            }
            @if let Some(src) = script {
                script src=(src) defer {}
            }
        }
    }
}

/// An HTML answer with the given status and caching.
pub fn html_response(status: StatusCode, caching: Caching, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match caching {
            Caching::Secret => "private, no-store",
            Caching::Fresh => "private, no-cache",
        }),
    );
    response
}

/// A short page that says one thing (not found, refused, try again).
fn message_page(ctx: &Ctx, status: StatusCode, heading: &str, text: &str) -> Response {
    let main = html! {
        h1 { (heading) }
        p { (text) }
        p { a href="/" { (ctx.lang.t("Kembali ke beranda", "Back to the home page")) } }
    };
    html_response(status, Caching::Fresh, page(ctx, heading, main))
}

pub fn not_found(ctx: &Ctx) -> Response {
    let lang = ctx.lang;
    message_page(
        ctx,
        StatusCode::NOT_FOUND,
        lang.t("Halaman tidak ditemukan", "Page not found"),
        lang.t(
            "Halaman atau laporan ini tidak ada, atau tidak terbuka untuk umum.",
            "This page or report does not exist, or is not public.",
        ),
    )
}

/// A form whose CSRF token did not match, or a post from another site.
pub fn forbidden(ctx: &Ctx) -> Response {
    let lang = ctx.lang;
    message_page(
        ctx,
        StatusCode::FORBIDDEN,
        lang.t("Formulir kedaluwarsa", "Form expired"),
        lang.t(
            "Formulir ini tidak dapat diterima (sesi berakhir atau dikirim dari situs lain). Muat ulang halaman lalu kirim lagi; tidak ada yang disimpan.",
            "This form could not be accepted (the session ended or it was sent from another site). Reload the page and send it again; nothing was saved.",
        ),
    )
}

/// A backend failure: nothing about its cause, and what the reader can do.
pub fn unavailable(ctx: &Ctx) -> Response {
    let lang = ctx.lang;
    message_page(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        lang.t("Layanan sedang terganggu", "Service unavailable"),
        lang.t(
            "Kami tidak dapat memproses permintaan Anda saat ini. Coba lagi beberapa saat lagi.",
            "We cannot handle your request right now. Please try again in a few moments.",
        ),
    )
}

/// Unknown paths outside any page route (the portal function's fallback).
pub async fn not_found_fallback(headers: HeaderMap, uri: Uri) -> Response {
    let ctx = Ctx {
        lang: crate::session::lang_of(&headers, uri.query()),
        csrf: String::new(),
        path: "/?".into(),
    };
    crate::session::secured(not_found(&ctx), false)
}

/// The summary of a form's errors, each linking to its field.
pub fn error_summary(lang: Lang, problems: &[Problem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div id="error-summary" class="error-summary" role="alert" tabindex="-1" {
                h2 { (lang.t("Periksa kembali isian Anda", "Please check your answers")) }
                ul {
                    @for p in problems {
                        li {
                            @if let Some(field) = &p.field {
                                a href={ "#" (field) } { (p.text(lang)) }
                            } @else {
                                (p.text(lang))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The message for `field`, if any, as the element `#<field>-error` the field points at.
pub fn field_error(lang: Lang, problems: &[Problem], field: &str) -> Markup {
    html! {
        @if let Some(p) = problems.iter().find(|p| p.field.as_deref() == Some(field)) {
            p id={ (field) "-error" } class="field-error" { (p.text(lang)) }
        }
    }
}

/// Whether `field` has an error (for `aria-invalid`).
pub fn invalid(problems: &[Problem], field: &str) -> Option<&'static str> {
    problems
        .iter()
        .any(|p| p.field.as_deref() == Some(field))
        .then_some("true")
}

/// The id of the error message a field is described by, when it has one.
pub fn described_by(problems: &[Problem], field: &str) -> Option<String> {
    invalid(problems, field).map(|_| format!("{field}-error"))
}

/// A status in the reader's language.
pub fn status_label(lang: Lang, status: &str) -> String {
    let (id, en) = match status {
        "diterima" => ("Diterima", "Received"),
        "terdisposisi" => ("Diteruskan ke instansi", "Forwarded to the agency"),
        "diproses" => ("Diproses", "In progress"),
        "selesai" => ("Selesai", "Completed"),
        "tertunda" => ("Tertunda", "On hold"),
        "arsip" => ("Diarsipkan", "Archived"),
        "bukan_wewenang" => (
            "Dikembalikan: bukan wewenang",
            "Returned: not the agency's authority",
        ),
        other => (other, other),
    };
    lang.t(id, en).to_string()
}

/// A colour as words, so it never depends on seeing the colour.
pub fn color_label(lang: Lang, color: &str) -> &'static str {
    match color {
        "red" => lang.t(
            "Merah: belum ditindaklanjuti, lewat batas waktu",
            "Red: not followed up in time",
        ),
        "yellow" => lang.t("Kuning: sedang diproses", "Yellow: in progress"),
        "green" => lang.t("Hijau: selesai", "Green: completed"),
        _ => lang.t(
            "Abu-abu: menunggu, masih dalam batas waktu",
            "Grey: waiting, within the deadline",
        ),
    }
}

/// A colour on its own: the dot and its words.
pub fn color_badge(lang: Lang, color: &str) -> Markup {
    html! {
        span class={ "badge " (color) } data-color=(color) {
            span class="dot" aria-hidden="true" {}
            (color_label(lang, color))
        }
    }
}

/// A status badge: the colour as a dot and in words.
pub fn status_badge(lang: Lang, status: &str, color: &str) -> Markup {
    html! {
        span class={ "badge " (color) } data-color=(color) {
            span class="dot" aria-hidden="true" {}
            (status_label(lang, status)) " · " (color_label(lang, color))
        }
    }
}

/// A time from the API (RFC 3339 with offset) as the reader reads it: date and local time.
pub fn when(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.format("%d-%m-%Y %H:%M").to_string())
        .unwrap_or_else(|_| time.to_string())
}
