//! `GET /laporan/{code}`: the public page of a `publik` or `anonim` report, as the API's public
//! view has it (no identity; no location for `anonim`). A confidential report has no page: it
//! answers as a code that does not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lapor_core::TrackingCode;
use maud::html;

use crate::api::Caller;
use crate::pages::{self, Caching};
use crate::session::Ctx;
use crate::Web;

pub async fn report(
    State(web): State<Web>,
    ctx: Ctx,
    caller: Caller,
    Path(code): Path<String>,
) -> Response {
    let Ok(code) = TrackingCode::parse(&code) else {
        return pages::not_found(&ctx);
    };
    let answer = web.api.report(&caller, code.as_str(), None).await;
    if answer.failed() {
        return pages::unavailable(&ctx);
    }
    if !answer.ok() {
        return pages::not_found(&ctx);
    }
    let lang = ctx.lang;
    let view = &answer.body;
    let agency = crate::track::agency_name(&web, view).await;
    let main = html! {
        (crate::track::report_body(lang, view, agency.as_deref(), false))
        p class="hint" { (lang.t(
            "Identitas pelapor tidak pernah ditampilkan di halaman publik.",
            "The reporter's identity is never shown on a public page."
        )) }
    };
    let title = view["title"].as_str().unwrap_or_default();
    pages::html_response(
        StatusCode::OK,
        Caching::Fresh,
        pages::page(&ctx, title, main),
    )
}
