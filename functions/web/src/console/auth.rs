//! Signing in and out, and who is signed in on each console request.
//!
//! The session is the ID token itself (Cognito's, or lapor-local's), verified on every request,
//! plus Cognito's refresh token: each in an `HttpOnly`, `SameSite=Lax` cookie scoped to
//! `/console` without an expiry date. No script of any origin can read them, and they are gone
//! when the browser session ends. `Lax` (not `Strict`) because the way back from Cognito's
//! managed login is a cross-site navigation; every form still needs the CSRF token.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use lapor_core::{AgencyId, Role};
use lapor_http::auth::{Officer, CLAIM_AGENCY, CLAIM_ROLE};
use maud::html;
use serde::Deserialize;

use super::cognito::{Cognito, Pending, SignInError};
use super::shell::{self, Section};
use super::{Console, Desk, SignIn};
use crate::api::Caller;
use crate::pages::{self, Caching};
use crate::session::{self as portal_session, Ctx, Posted};
use crate::Web;

/// Refresh a Cognito ID token this long before it expires, so a form sent just then still
/// counts.
const REFRESH_BEFORE_SECS: i64 = 300;
/// How long the round trip to the managed login may take.
const LOGIN_MAX_AGE_SECS: u32 = 600;

/// The console's cookies: `__Secure-` names over HTTPS (the browser refuses them from plain
/// HTTP or without `Secure`).
struct Cookies {
    session: &'static str,
    refresh: &'static str,
    login: &'static str,
    next: &'static str,
}

fn cookies(https: bool) -> Cookies {
    if https {
        Cookies {
            session: "__Secure-console",
            refresh: "__Secure-console-refresh",
            login: "__Secure-console-login",
            next: "__Secure-console-next",
        }
    } else {
        Cookies {
            session: "console",
            refresh: "console-refresh",
            login: "console-login",
            next: "console-next",
        }
    }
}

fn set_cookie(name: &str, value: &str, https: bool, max_age: Option<u32>) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Lax{secure}{age}"
    ))
    .ok()
}

fn clear_cookie(name: &str, https: bool) -> Option<HeaderValue> {
    set_cookie(name, "", https, Some(0))
}

/// The signed-in officer of a console request.
#[derive(Clone)]
pub struct Staff {
    pub officer: Officer,
    /// Their agency's name in the directory (its id when the directory does not know it).
    pub agency_name: String,
    /// Whether this is lapor-local's sign-in.
    pub local: bool,
    claims: HashMap<String, String>,
}

impl Staff {
    /// This officer calling the officer API.
    pub(crate) fn caller(&self) -> Caller {
        Caller::officer(self.claims.clone())
    }
}

/// Whether console cookies are `Secure`, for code that runs without the web state.
#[derive(Clone, Copy)]
struct Https(bool);

/// What the session cookies amount to.
enum Found {
    /// Signed in, with new tokens to keep when they were refreshed.
    Claims(HashMap<String, String>, Option<super::cognito::Tokens>),
    /// No session, or one that can no longer be used (its cookies are cleared).
    None { clear: bool },
    /// The sign-in service could not be asked (the page says "try again").
    Unavailable,
}

/// Who is signed in: puts the [`Staff`] into the request for the handlers, keeps refreshed
/// tokens, and clears cookies that no longer hold a session.
pub async fn session(State(web): State<Web>, mut request: Request, next: Next) -> Response {
    let Some(console) = web.console.clone() else {
        return next.run(request).await;
    };
    let https = web.deps.secure_cookies;
    request.extensions_mut().insert(Https(https));
    let names = cookies(https);
    let token = portal_session::cookie(request.headers(), names.session).map(str::to_string);
    let refresh = portal_session::cookie(request.headers(), names.refresh).map(str::to_string);
    let found = match (&console.sign_in, token) {
        (_, None) => Found::None { clear: false },
        (SignIn::Local(local), Some(token)) => match local.verify(&token) {
            Some(claims) => Found::Claims(claims, None),
            None => Found::None { clear: true },
        },
        (SignIn::Cognito(cognito), Some(token)) => match cognito.client().await {
            Some(client) => cognito_session(client, &token, refresh.as_deref()).await,
            None => Found::Unavailable,
        },
    };
    let mut set = Vec::new();
    match found {
        Found::Claims(claims, renewed) => {
            if let Some(tokens) = renewed {
                set.extend(set_cookie(names.session, &tokens.id_token, https, None));
                if let Some(refresh) = &tokens.refresh_token {
                    set.extend(set_cookie(names.refresh, refresh, https, None));
                }
            }
            if let Some(staff) = staff_of(&web, &console, claims).await {
                request.extensions_mut().insert(staff);
            }
        }
        Found::None { clear } => {
            if clear {
                set.extend(clear_cookie(names.session, https));
                set.extend(clear_cookie(names.refresh, https));
            }
        }
        Found::Unavailable => {
            let ctx = request.extensions().get::<Ctx>().cloned();
            return match ctx {
                Some(ctx) => shell::unavailable(&ctx, None),
                None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            };
        }
    }
    let mut response = next.run(request).await;
    // What the handler decided about a cookie (a fresh sign-in) is newer than what the session
    // found: the browser keeps the last value it is sent, so the handler's stay last and alone.
    let decided: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_once('=').map(|(name, _)| name.to_string()))
        .collect();
    for value in set {
        let name = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once('='))
            .map(|(name, _)| name.to_string());
        if name.is_some_and(|n| !decided.contains(&n)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A Cognito session: the ID token while it has time left, a refreshed one before it runs out.
async fn cognito_session(client: &Cognito, token: &str, refresh: Option<&str>) -> Found {
    let now = chrono::Utc::now().timestamp();
    let current = client.verify(token).await;
    let fresh_enough = matches!(&current, Ok(v) if v.expires_at - now > REFRESH_BEFORE_SECS);
    if fresh_enough {
        if let Ok(verified) = current {
            return Found::Claims(verified.claims, None);
        }
    }
    if let Some(refresh) = refresh {
        match client.refresh(refresh).await {
            Ok((tokens, verified)) => return Found::Claims(verified.claims, Some(tokens)),
            Err(SignInError::Unreachable) if current.is_err() => return Found::Unavailable,
            Err(e) => tracing::info!(error = %e, "console session not refreshed"),
        }
    }
    match current {
        Ok(verified) => Found::Claims(verified.claims, None),
        Err(SignInError::Unreachable) => Found::Unavailable,
        Err(_) => Found::None { clear: true },
    }
}

/// The officer the claims name, with their agency's name. Only the claims the officer API reads
/// are passed on.
async fn staff_of(web: &Web, console: &Console, claims: HashMap<String, String>) -> Option<Staff> {
    let officer = Officer::from_claims(&claims).ok()?;
    let id = officer.agency.as_str();
    let agency_name = web
        .agency_names([id])
        .await
        .remove(id)
        .unwrap_or_else(|| id.to_string());
    let kept = ["sub", CLAIM_AGENCY, CLAIM_ROLE]
        .into_iter()
        .filter_map(|k| claims.get(k).map(|v| (k.to_string(), v.clone())))
        .collect();
    Some(Staff {
        officer,
        agency_name,
        local: matches!(console.sign_in, SignIn::Local(_)),
        claims: kept,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Response;

    /// Pages that need a signed-in officer send anyone else to sign in first; a form sent after
    /// the session ended says so instead of silently dropping what was typed.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        let Some(ctx) = parts.extensions.get::<Ctx>().cloned() else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        if parts.method == Method::GET {
            let mut response = Redirect::to("/console/masuk").into_response();
            let https = parts.extensions.get::<Https>().is_some_and(|h| h.0);
            if let Some(next) = return_path(parts.uri.path_and_query().map(|p| p.as_str())) {
                let names = cookies(https);
                response.headers_mut().extend(
                    set_cookie(names.next, &next, https, Some(LOGIN_MAX_AGE_SECS))
                        .map(|v| (header::SET_COOKIE, v)),
                );
            }
            return Err(response);
        }
        let lang = ctx.lang;
        Err(shell::message(
            &ctx,
            None,
            StatusCode::UNAUTHORIZED,
            lang.t("Sesi Anda berakhir", "Your session has ended"),
            lang.t(
                "Anda perlu masuk lagi. Tindakan ini belum disimpan: buka halaman masuk di tab baru, lalu kembali ke tab ini dan kirim lagi.",
                "You need to sign in again. This action was not saved: open the sign-in page in a new tab, then come back to this tab and send it again.",
            ),
        ))
    }
}

/// A console path to come back to after signing in; anything else (another site, a path with
/// odd characters) is not kept.
fn return_path(path: Option<&str>) -> Option<String> {
    let path = path?;
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.?=&%".contains(&b));
    (path.starts_with("/console/") && !path.starts_with("/console/masuk") && plain)
        .then(|| path.to_string())
}

/// `GET /console/`: the officer's first page (the triage queue for the central admin).
pub async fn home(staff: Staff) -> Redirect {
    if staff.officer.role == Role::AdminPusat {
        Redirect::to("/console/triase")
    } else {
        Redirect::to("/console/kotak-masuk")
    }
}

fn landing(headers: &HeaderMap, https: bool) -> (String, Option<HeaderValue>) {
    let names = cookies(https);
    let next = portal_session::cookie(headers, names.next)
        .and_then(|p| return_path(Some(p)))
        .unwrap_or_else(|| "/console/".to_string());
    (next, clear_cookie(names.next, https))
}

#[derive(Deserialize)]
pub struct SignInQuery {
    keluar: Option<String>,
}

/// `GET /console/masuk`: lapor-local's sign-in page, or the way to Cognito's managed login.
/// After signing out it only says so, with a way back in.
pub async fn sign_in(
    State(Desk { web, console }): State<Desk>,
    ctx: Ctx,
    headers: HeaderMap,
    signed_in: Option<Staff>,
    Query(query): Query<SignInQuery>,
) -> Response {
    if signed_in.is_some() {
        return Redirect::to("/console/").into_response();
    }
    let local = matches!(console.sign_in, SignIn::Local(_));
    if query.keluar.is_some() {
        return signed_out(&ctx, local);
    }
    match &console.sign_in {
        SignIn::Local(_) => local_form(&ctx, &console, &[]).await,
        SignIn::Cognito(cognito) => {
            let Some(client) = cognito.client().await else {
                return shell::unavailable(&ctx, None);
            };
            let https = web.deps.secure_cookies;
            let (url, pending) = client.begin(&own_url(&headers, https, CALLBACK));
            let mut response = Redirect::to(&url).into_response();
            response.headers_mut().extend(
                set_cookie(
                    cookies(https).login,
                    &pending.to_cookie(),
                    https,
                    Some(LOGIN_MAX_AGE_SECS),
                )
                .map(|v| (header::SET_COOKIE, v)),
            );
            response
        }
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Staff {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Staff>().cloned())
    }
}

/// A page of this host's console, as registered on the app client (the callback, the sign-out
/// landing).
fn own_url(headers: &HeaderMap, https: bool, path: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{host}{path}")
}

const CALLBACK: &str = "/console/callback";
const SIGNED_OUT: &str = "/console/masuk?keluar=1";

fn signed_out(ctx: &Ctx, local: bool) -> Response {
    let lang = ctx.lang;
    let main = html! {
        h1 { (lang.t("Anda sudah keluar", "You have signed out")) }
        p { (lang.t(
            "Sesi konsol Anda sudah diakhiri. Tutup peramban jika komputer ini dipakai bersama.",
            "Your console session has ended. Close the browser if this computer is shared."
        )) }
        p { a class="button primary" href="/console/masuk" { (lang.t("Masuk lagi", "Sign in again")) } }
    };
    let title = lang.t("Sudah keluar", "Signed out");
    let markup = shell::page(ctx, None, local, Section::SignIn, title, main);
    pages::html_response(StatusCode::OK, Caching::Secret, markup)
}

/// lapor-local's sign-in: every agency of the directory and every role, clearly marked as local.
async fn local_form(ctx: &Ctx, console: &Console, problems: &[crate::api::Problem]) -> Response {
    let lang = ctx.lang;
    let agencies = match console.directory.agencies().await {
        Ok(agencies) => agencies,
        Err(e) => {
            tracing::error!(error = %e, "agency directory unavailable");
            return shell::unavailable(ctx, None);
        }
    };
    let roles = [Role::AdminPusat, Role::AgencyAdmin, Role::Officer];
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let main = html! {
        h1 { (lang.t("Masuk ke konsol (lokal)", "Sign in to the console (local)")) }
        p class="warning" { (lang.t(
            "Halaman ini hanya ada di Lapor lokal, pada alamat loopback: siapa pun di komputer ini dapat masuk sebagai instansi dan peran mana pun. Di AWS, petugas masuk melalui Cognito dengan kata sandi dan MFA.",
            "This page exists only in local Lapor, on a loopback address: anyone on this computer can sign in as any agency and role. In AWS, officers sign in through Cognito with a password and MFA."
        )) }
        (pages::error_summary(lang, problems))
        form method="post" action="/console/masuk" novalidate {
            input type="hidden" name="csrf" value=(ctx.csrf);
            div class="field" {
                label for="agency" { (lang.t("Instansi", "Agency")) }
                (pages::field_error(lang, problems, "agency"))
                select id="agency" name="agency" aria-invalid=[pages::invalid(problems, "agency")] {
                    @for agency in &agencies {
                        option value=(agency.id.as_str()) { (agency.name) " (" (agency.id.as_str()) ")" }
                    }
                }
            }
            fieldset aria-invalid=[pages::invalid(problems, "role")] {
                legend { (lang.t("Peran", "Role")) }
                (pages::field_error(lang, problems, "role"))
                @for (i, role) in roles.iter().enumerate() {
                    div class="choice" {
                        input type="radio" id={ "role-" (role.as_str()) } name="role" value=(role.as_str()) checked[i == 0];
                        label for={ "role-" (role.as_str()) } { (shell::role_label(lang, *role)) " (" code { (role.as_str()) } ")" }
                    }
                }
            }
            div class="field" {
                label for="subject" { (lang.t("Nama pengguna", "User name")) }
                p class="hint" id="subject-hint" { (lang.t("Dicatat sebagai pelaku di linimasa.", "Recorded as the actor on the timeline.")) }
                input type="text" id="subject" name="subject" value="petugas-lokal" aria-describedby="subject-hint" autocomplete="off";
            }
            button class="button primary" type="submit" { (lang.t("Masuk", "Sign in")) }
        }
    };
    let title = lang.t("Masuk (lokal)", "Sign in (local)");
    let markup = shell::page(ctx, None, true, Section::SignIn, title, main);
    pages::html_response(status, Caching::Secret, markup)
}

/// `POST /console/masuk`: lapor-local signs a token for the chosen agency and role.
pub async fn sign_in_locally(
    State(Desk { web, console }): State<Desk>,
    ctx: Ctx,
    headers: HeaderMap,
    Posted(fields): Posted,
) -> Response {
    let SignIn::Local(local) = &console.sign_in else {
        return pages::not_found(&ctx);
    };
    let get = |k: &str| fields.get(k).map(|v| v.trim()).unwrap_or_default();
    let mut problems = Vec::new();
    let agency = match AgencyId::parse(get("agency")) {
        Ok(id) => match console.directory.agency(&id).await {
            Ok(Some(agency)) => Some(agency.id),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "agency directory unavailable");
                return shell::unavailable(&ctx, None);
            }
        },
        Err(_) => None,
    };
    if agency.is_none() {
        problems.push(crate::api::Problem::new(
            "unknown_agency",
            "Pilih instansi dari daftar.",
            "Choose an agency from the list.",
            Some("agency"),
        ));
    }
    let role = Role::parse(get("role"));
    if role.is_none() {
        problems.push(crate::api::Problem::new(
            "invalid_value",
            "Pilih salah satu peran.",
            "Choose one of the roles.",
            Some("role"),
        ));
    }
    let (Some(agency), Some(role)) = (agency, role) else {
        return local_form(&ctx, &console, &problems).await;
    };
    let subject = match get("subject") {
        "" => "petugas-lokal",
        s => s,
    };
    let token = match local.issue(subject, &agency, role) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "local token not signed");
            return shell::unavailable(&ctx, None);
        }
    };
    let https = web.deps.secure_cookies;
    let (next, clear_next) = landing(&headers, https);
    let mut response = Redirect::to(&next).into_response();
    let cookies = response.headers_mut();
    cookies.extend(
        set_cookie(self::cookies(https).session, &token, https, None)
            .into_iter()
            .chain(clear_next)
            .map(|v| (header::SET_COOKIE, v)),
    );
    response
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/callback`: back from Cognito's managed login with a code to exchange.
pub async fn callback(
    State(Desk { web, console }): State<Desk>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let lang = ctx.lang;
    let SignIn::Cognito(cognito) = &console.sign_in else {
        return pages::not_found(&ctx);
    };
    let https = web.deps.secure_cookies;
    let names = cookies(https);
    let failed = |text_id: &str, text_en: &str| {
        let mut response = shell::message(
            &ctx,
            None,
            StatusCode::BAD_REQUEST,
            lang.t("Belum berhasil masuk", "Not signed in"),
            lang.t(text_id, text_en),
        );
        response
            .headers_mut()
            .extend(clear_cookie(names.login, https).map(|v| (header::SET_COOKIE, v)));
        response
    };
    if let Some(error) = &query.error {
        tracing::info!(error = %error, "managed login answered with an error");
        return failed(
            "Layanan masuk menolak permintaan ini. Buka konsol lagi untuk mencoba sekali lagi.",
            "The sign-in service refused this request. Open the console again to try once more.",
        );
    }
    let pending = portal_session::cookie(&headers, names.login).and_then(Pending::from_cookie);
    let (Some(code), Some(state), Some(pending)) = (&query.code, &query.state, pending) else {
        return failed(
            "Permintaan masuk ini sudah kedaluwarsa atau tidak dimulai di peramban ini. Buka konsol lagi untuk masuk.",
            "This sign-in expired or was not started in this browser. Open the console again to sign in.",
        );
    };
    let Some(client) = cognito.client().await else {
        return shell::unavailable(&ctx, None);
    };
    let tokens = match client
        .finish(&own_url(&headers, https, CALLBACK), code, state, &pending)
        .await
    {
        Ok((tokens, _)) => tokens,
        Err(SignInError::Unreachable) => return shell::unavailable(&ctx, None),
        Err(e) => {
            tracing::warn!(error = %e, "console sign-in refused");
            return failed(
                "Masuk tidak dapat diselesaikan. Buka konsol lagi untuk masuk.",
                "Signing in could not be completed. Open the console again to sign in.",
            );
        }
    };
    let (next, clear_next) = landing(&headers, https);
    let mut response = Redirect::to(&next).into_response();
    let set = set_cookie(names.session, &tokens.id_token, https, None)
        .into_iter()
        .chain(
            tokens
                .refresh_token
                .as_deref()
                .and_then(|r| set_cookie(names.refresh, r, https, None)),
        )
        .chain(clear_cookie(names.login, https))
        .chain(clear_next);
    response
        .headers_mut()
        .extend(set.map(|v| (header::SET_COOKIE, v)));
    response
}

/// `POST /console/keluar`: the cookies go, the refresh token is revoked, and with Cognito the
/// browser passes through its logout so the managed login's own session ends too.
pub async fn sign_out(
    State(Desk { web, console }): State<Desk>,
    headers: HeaderMap,
    Posted(_): Posted,
) -> Response {
    let https = web.deps.secure_cookies;
    let names = cookies(https);
    let mut target = SIGNED_OUT.to_string();
    if let SignIn::Cognito(cognito) = &console.sign_in {
        if let Some(client) = cognito.client().await {
            if let Some(refresh) = portal_session::cookie(&headers, names.refresh) {
                if let Err(e) = client.revoke(refresh).await {
                    tracing::warn!(error = %e, "refresh token not revoked at sign-out");
                }
            }
            target = client.logout_url(&own_url(&headers, https, SIGNED_OUT));
        }
    }
    let mut response = Redirect::to(&target).into_response();
    let cleared = [names.session, names.refresh, names.login, names.next]
        .into_iter()
        .filter_map(|name| clear_cookie(name, https));
    response
        .headers_mut()
        .extend(cleared.map(|v| (header::SET_COOKIE, v)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_console_path_is_kept_for_after_signing_in() {
        assert_eq!(
            return_path(Some("/console/laporan/LPR-ABC?x=1")).as_deref(),
            Some("/console/laporan/LPR-ABC?x=1")
        );
        assert_eq!(return_path(Some("//evil.example/console/")), None);
        assert_eq!(return_path(Some("/console/masuk")), None);
        assert_eq!(return_path(Some("/lapor")), None);
        assert_eq!(return_path(Some("/console/\"><script>")), None);
    }

    #[test]
    fn session_cookies_are_http_only_lax_scoped_and_without_expiry() {
        let value = set_cookie("__Secure-console", "t", true, None).unwrap();
        let text = value.to_str().unwrap();
        assert!(text.contains("HttpOnly"));
        assert!(text.contains("SameSite=Lax"));
        assert!(text.contains("Path=/console"));
        assert!(text.contains("Secure"));
        assert!(!text.contains("Max-Age") && !text.contains("Expires"));
    }
}
