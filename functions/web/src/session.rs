//! What every page request carries besides its own input: the reader's language and the CSRF
//! token for its forms. Both live in cookies the browser sends back; nothing is kept on the
//! server.
//!
//! CSRF protection is a double-submit token: a random value in a `SameSite=Strict`, `HttpOnly`
//! cookie that every form repeats in a hidden field. A cross-site page can neither read the
//! cookie nor make the browser send it, so it cannot forge a form that matches. On top of that,
//! a POST whose `Origin` names another site is refused before any handler runs.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Web;

const LANG_COOKIE: &str = "lang";
/// `__Host-` cookies are only accepted over HTTPS, from the host itself, for the whole site.
pub(crate) const CSRF_COOKIE_SECURE: &str = "__Host-csrf";
pub(crate) const CSRF_COOKIE_LOCAL: &str = "csrf";
/// A year: the language choice sticks.
const LANG_MAX_AGE: u32 = 365 * 24 * 3600;

/// The reader's language: Bahasa Indonesia unless they chose English (or their browser asks for
/// English and they never chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    /// The text in this language.
    pub fn t<'a>(self, id: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Id => Lang::En,
            Lang::En => Lang::Id,
        }
    }

    fn parse(value: &str) -> Option<Lang> {
        match value.trim() {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// English only when the browser prefers English over Indonesian.
    fn from_accept_language(headers: &HeaderMap) -> Lang {
        let Some(accept) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::Id;
        };
        let mut best: Option<(Lang, f32)> = None;
        for part in accept.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("id") | Some("in") => Lang::Id,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map_or(Lang::Id, |(lang, _)| lang)
    }
}

/// The language and CSRF token of this request, put in its extensions by [`session`].
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    /// The page asked for, as the language switch links to it: its path and query without any
    /// `lang`, ending in `?` or `&` (so the link appends `lang=…`).
    pub path: String,
}

impl Ctx {
    /// Whether a submitted form carried this visitor's token.
    pub fn csrf_matches(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|s| constant_time_eq(s.as_bytes(), self.csrf.as_bytes()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A plain (urlencoded) form whose CSRF token matched this visitor's: the form handlers take it
/// instead of each checking the token. A form without the token, with another one, or that
/// cannot be read is refused with the "form expired" page before the handler runs.
pub struct Posted(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Some(ctx) = request.extensions().get::<Ctx>().cloned() else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let fields = Form::<HashMap<String, String>>::from_request(request, state)
            .await
            .map(|Form(fields)| fields)
            .unwrap_or_default();
        if !ctx.csrf_matches(fields.get("csrf").map(String::as_str)) {
            return Err(crate::pages::forbidden(&ctx));
        }
        Ok(Posted(fields))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "lang").then(|| Lang::parse(v)).flatten()
    })
}

/// The language of a request outside the session layer: `?lang=`, the cookie, the browser.
pub(crate) fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_lang(query)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_else(|| Lang::from_accept_language(headers))
}

/// The link back to this page in the other language: GET pages keep their query (a chosen
/// region and year); a page answering a form goes to its path, as the form is not sent again.
fn switch_base(uri: &axum::http::Uri) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        format!("{}?", uri.path())
    } else {
        format!("{}?{}&", uri.path(), kept.join("&"))
    }
}

fn fresh_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A token as the cookie holds it: 32 hex digits, nothing else (a cookie is client input).
fn valid_token(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a POST comes from another site. `Sec-Fetch-Site` says so when the browser sends it;
/// otherwise an `Origin` naming another host does. `Origin: null` proves nothing either way:
/// under our own `Referrer-Policy: no-referrer` browsers send it on same-origin form posts too.
/// Requests with neither (old browsers, curl) still need the token.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site != "same-origin" && site != "none";
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
    else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    !origin_host.eq_ignore_ascii_case(host)
}

/// Reads (or starts) the visitor's session cookies, refuses cross-site POSTs, and adds the
/// security headers to every page.
pub async fn session(
    axum::extract::State(web): axum::extract::State<Web>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let csrf_name = web.csrf_cookie();
    let chosen = query_lang(request.uri().query());
    let lang = lang_of(headers, request.uri().query());
    let existing = cookie(headers, csrf_name)
        .filter(|t| valid_token(t))
        .map(str::to_string);
    if request.method() == Method::POST && cross_site(headers) {
        let ctx = Ctx {
            lang,
            csrf: String::new(),
            path: switch_base(request.uri()),
        };
        return secured(crate::pages::forbidden(&ctx), web.deps.secure_cookies);
    }
    let ctx = Ctx {
        lang,
        csrf: existing.clone().unwrap_or_else(fresh_token),
        path: switch_base(request.uri()),
    };
    request.extensions_mut().insert(ctx.clone());
    let mut response = next.run(request).await;
    let secure = if web.deps.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if existing.is_none() {
        let value = format!(
            "{csrf_name}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
            ctx.csrf
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if let Some(lang) = chosen {
        let value = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age={LANG_MAX_AGE}; SameSite=Lax{secure}",
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    secured(response, web.deps.secure_cookies)
}

/// Every page's security headers. No script but our own file may run, nothing may frame a
/// page, no form may post elsewhere, and no request carries where the reader came from.
pub(crate) fn secured(response: impl IntoResponse, https: bool) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "content-security-policy", CSP);
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "geolocation=(self), camera=(), microphone=(), interest-cohort=()",
    );
    if https {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// The Content-Security-Policy of every page: our own script and styles only, nothing inline,
/// no third party.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn indonesian_unless_the_browser_prefers_english() {
        assert_eq!(Lang::from_accept_language(&headers(&[])), Lang::Id);
        let en = headers(&[("accept-language", "en-GB,en;q=0.9")]);
        assert_eq!(Lang::from_accept_language(&en), Lang::En);
        let both = headers(&[("accept-language", "en;q=0.5, id;q=0.8")]);
        assert_eq!(Lang::from_accept_language(&both), Lang::Id);
        let other = headers(&[("accept-language", "fr-FR")]);
        assert_eq!(Lang::from_accept_language(&other), Lang::Id);
    }

    #[test]
    fn a_post_from_another_site_is_cross_site_and_our_own_is_not() {
        let ours = headers(&[
            ("origin", "https://lapor.example"),
            ("host", "lapor.example"),
        ]);
        assert!(!cross_site(&ours));
        let theirs = headers(&[
            ("origin", "https://evil.example"),
            ("host", "lapor.example"),
        ]);
        assert!(cross_site(&theirs));
        // What Chromium sends on our own form under `Referrer-Policy: no-referrer`.
        assert!(!cross_site(&headers(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
            ("host", "lapor.example")
        ])));
        assert!(cross_site(&headers(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site"),
            ("host", "lapor.example")
        ])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(
            !cross_site(&headers(&[("origin", "null")])),
            "the token decides"
        );
        assert!(!cross_site(&headers(&[])));
    }

    #[test]
    fn the_language_switch_keeps_the_page_and_its_query_but_not_the_old_choice() {
        let uri = |s: &'static str| axum::http::Uri::from_static(s);
        assert_eq!(switch_base(&uri("/lapor")), "/lapor?");
        assert_eq!(
            switch_base(&uri("/statistik?region=32.74&lang=id&year=2018")),
            "/statistik?region=32.74&year=2018&"
        );
    }

    #[test]
    fn only_a_well_formed_cookie_token_is_kept() {
        assert!(valid_token(&fresh_token()));
        assert!(!valid_token("x\"><script>"));
        let ctx = Ctx {
            lang: Lang::Id,
            csrf: fresh_token(),
            path: "/?".into(),
        };
        assert!(ctx.csrf_matches(Some(&ctx.csrf.clone())));
        assert!(!ctx.csrf_matches(Some("0".repeat(32).as_str())));
        assert!(!ctx.csrf_matches(None));
    }
}
