//! The portal's stylesheet and script (and the console's extra stylesheet), compiled into the binary: no other origin is ever
//! asked for anything, and each file is one request the browser may keep for a day.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../assets/portal.css");
const JS: &str = include_str!("../assets/portal.js");
const CONSOLE_CSS: &str = include_str!("../assets/console.css");

pub const CSS_PATH: &str = "/assets/portal.css";
pub const JS_PATH: &str = "/assets/portal.js";
pub const CONSOLE_CSS_PATH: &str = "/assets/console.css";

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "portal.css" => (CSS, "text/css; charset=utf-8"),
        "portal.js" => (JS, "text/javascript; charset=utf-8"),
        "console.css" => (CONSOLE_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}
