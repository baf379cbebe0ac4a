//! The page every console view shares: who is signed in, where they can go, how to sign out.

use axum::http::StatusCode;
use axum::response::Response;
use lapor_core::Role;
use maud::{html, Markup, DOCTYPE};

use super::Staff;
use crate::pages::{self, Caching};
use crate::session::{Ctx, Lang};

/// Where a console page belongs in the menu.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Inbox,
    Triage,
    Dashboard,
    Report,
    SignIn,
}

pub fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::AdminPusat => lang.t("Admin pusat", "Central admin"),
        Role::AgencyAdmin => lang.t("Admin instansi", "Agency admin"),
        Role::Officer => lang.t("Petugas", "Officer"),
    }
}

/// A console page. `staff` is the signed-in officer (none on the sign-in pages); `local` marks
/// lapor-local, whose sign-in is not a real one.
pub fn page(
    ctx: &Ctx,
    staff: Option<&Staff>,
    local: bool,
    section: Section,
    title: &str,
    main: Markup,
) -> Markup {
    let lang = ctx.lang;
    let other = lang.other();
    let current = |s: Section| (s == section).then_some("page");
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (pages::head(
                &format!("{title} · Konsol LAPOR"),
                &[crate::assets::CSS_PATH, crate::assets::CONSOLE_CSS_PATH],
                None,
            ))
            body class="console" {
                a class="skip" href="#main" { (lang.t("Langsung ke isi", "Skip to content")) }
                @if local {
                    p class="local-only" role="note" { (lang.t(
                        "Lapor lokal: hanya untuk pengembangan di komputer ini, bukan layanan resmi.",
                        "Local Lapor: for development on this computer only, not the real service."
                    )) }
                }
                header class="site" {
                    a class="brand" href="/console/" { "LAPOR" span { (lang.t("Konsol petugas", "Officer console")) } }
                    nav aria-label=(lang.t("Menu konsol", "Console menu")) {
                        @if let Some(staff) = staff {
                            @if staff.officer.role == Role::AdminPusat {
                                a href="/console/triase" aria-current=[current(Section::Triage)] { (lang.t("Triase", "Triage")) }
                            }
                            a href="/console/kotak-masuk" aria-current=[current(Section::Inbox)] { (lang.t("Kotak masuk", "Inbox")) }
                            a href="/console/dasbor" aria-current=[current(Section::Dashboard)] { (lang.t("Dasbor", "Dashboard")) }
                        }
                        a id="lang-switch" href={ (ctx.path) "lang=" (other.code()) } lang=(other.code()) hreflang=(other.code()) {
                            (other.t("Bahasa Indonesia", "English"))
                        }
                    }
                    @if let Some(staff) = staff {
                        form class="who" method="post" action="/console/keluar" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            span id="signed-in-as" {
                                (staff.agency_name) " · " (role_label(lang, staff.officer.role))
                            }
                            button class="button" type="submit" { (lang.t("Keluar", "Sign out")) }
                        }
                    }
                }
                main id="main" { (main) }
            }
        }
    }
}

/// A signed-in officer's page: never kept by the browser's cache.
pub fn respond(
    ctx: &Ctx,
    staff: &Staff,
    section: Section,
    title: &str,
    status: StatusCode,
    main: Markup,
) -> Response {
    let markup = page(ctx, Some(staff), staff.local, section, title, main);
    pages::html_response(status, Caching::Secret, markup)
}

/// A short console page that says one thing, with a way on.
pub fn message(
    ctx: &Ctx,
    staff: Option<&Staff>,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    let lang = ctx.lang;
    let main = html! {
        h1 { (heading) }
        p id="message" { (text) }
        p { a href="/console/" { (lang.t("Kembali ke konsol", "Back to the console")) } }
    };
    let local = staff.is_some_and(|s| s.local);
    let markup = page(ctx, staff, local, Section::Report, heading, main);
    pages::html_response(status, Caching::Secret, markup)
}

/// A backend failure on a console page: nothing about its cause.
pub fn unavailable(ctx: &Ctx, staff: Option<&Staff>) -> Response {
    let lang = ctx.lang;
    message(
        ctx,
        staff,
        StatusCode::SERVICE_UNAVAILABLE,
        lang.t("Layanan sedang terganggu", "Service unavailable"),
        lang.t(
            "Konsol tidak dapat memproses permintaan ini sekarang. Tidak ada yang berubah; coba lagi sebentar lagi.",
            "The console cannot handle this request right now. Nothing was changed; try again in a moment.",
        ),
    )
}

/// A due time as the officer reads it: date, local time and its zone (WIB, WITA, WIT).
pub fn due(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| {
            let zone = match t.offset().local_minus_utc() / 3600 {
                7 => " WIB",
                8 => " WITA",
                9 => " WIT",
                _ => "",
            };
            format!("{}{zone}", t.format("%d-%m-%Y %H:%M"))
        })
        .unwrap_or_else(|_| time.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_time_names_its_zone() {
        assert_eq!(due("2026-12-07T16:00:00+07:00"), "07-12-2026 16:00 WIB");
        assert_eq!(due("2026-12-07T16:00:00+08:00"), "07-12-2026 16:00 WITA");
        assert_eq!(due("2026-12-07T16:00:00+09:00"), "07-12-2026 16:00 WIT");
        assert_eq!(due("not a time"), "not a time");
    }
}
