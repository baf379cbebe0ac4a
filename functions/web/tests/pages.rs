//! Handler tests: the portal's pages through its router on the embedded store, as a browser
//! without JavaScript would use them (cookies, hidden fields, multipart and urlencoded forms).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use lapor_core::{Deadlines, FixedClock, KeyPepper};
use lapor_store::{MemStore, Reports, Stores};
use tower::ServiceExt;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("fixed time")
}

fn app() -> (Router, Arc<MemStore>) {
    let store = Arc::new(MemStore::new());
    let pepper = KeyPepper::new(b"portal-test-pepper-of-32-bytes!!".to_vec()).expect("32 bytes");
    let intake = lapor_intake::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    );
    (
        lapor_web::router(lapor_web::Deps::new(intake, false)),
        store,
    )
}

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

async fn send(app: &Router, request: Request<Body>) -> Page {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Page {
        status,
        headers,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A visitor: the cookie the portal gave them and the form token of the page they loaded.
struct Visitor {
    cookie: String,
    token: String,
    idempotency_key: String,
}

/// The value of the first `name="<name>" value="..."` in a page.
fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    Some(&html[from..from + html[from..].find(end)?])
}

async fn visit(app: &Router, path: &str) -> (Visitor, Page) {
    let page = send(
        app,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await;
    let cookie = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a csrf cookie")
        .to_string();
    let visitor = Visitor {
        token: hidden(&page.html, "csrf").expect("the form's token"),
        idempotency_key: hidden(&page.html, "idempotency_key").unwrap_or_default(),
        cookie,
    };
    (visitor, page)
}

const BOUNDARY: &str = "----lapor-test-boundary";

fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post_form(path: &str, cookie: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::COOKIE, format!("csrf={cookie}"))
        .body(Body::from(body))
        .expect("request")
}

fn post_urlencoded(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("csrf={cookie}"))
        .body(Body::from(body.join("&")))
        .expect("request")
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn pothole(visitor: &Visitor) -> Vec<(&str, &str)> {
    vec![
        ("csrf", visitor.token.as_str()),
        ("idempotency_key", visitor.idempotency_key.as_str()),
        ("type", "pengaduan"),
        ("category", "infrastruktur"),
        ("region", "32.74"),
        ("title", "Jalan berlubang di Jalan Cipto"),
        (
            "description",
            "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        ),
        ("address", "Jl. Cipto Mangunkusumo, depan pasar"),
        ("privacy", "publik"),
        ("name", "Siti Aminah"),
        ("phone", "081234567890"),
        ("notifications", "1"),
    ]
}

async fn reports(store: &MemStore) -> usize {
    store
        .recent_public(100)
        .await
        .expect("the embedded store answers")
        .len()
}

#[tokio::test]
async fn a_citizen_files_a_report_from_the_form_and_a_resend_files_nothing_more() {
    let (app, store) = app();
    let (visitor, form) = visit(&app, "/lapor").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("enctype=\"multipart/form-data\""));
    let category = form.html.find("id=\"category\"").expect("category");
    let description = form.html.find("id=\"description\"").expect("description");
    assert!(
        category < description,
        "the category comes before the long text"
    );

    let receipt = send(
        &app,
        post_form(
            "/lapor",
            &visitor.cookie,
            multipart(&pothole(&visitor), &[]),
        ),
    )
    .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.html);
    let code = between(&receipt.html, "id=\"tracking-code\">", "<").expect("code shown");
    let key = between(&receipt.html, "id=\"access-key\">", "<").expect("key shown");
    assert!(!key.is_empty());
    assert_eq!(
        receipt
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(&b"private, no-store"[..]),
        "a page with the key is never cached"
    );
    assert_eq!(reports(&store).await, 1);

    // A double tap: the same form again gets the same receipt, and nothing new is filed.
    let again = send(
        &app,
        post_form(
            "/lapor",
            &visitor.cookie,
            multipart(&pothole(&visitor), &[]),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        between(&again.html, "id=\"tracking-code\">", "<"),
        Some(code)
    );
    assert_eq!(between(&again.html, "id=\"access-key\">", "<"), Some(key));
    assert_eq!(reports(&store).await, 1);
}

#[tokio::test]
async fn a_refused_form_keeps_everything_typed_says_why_beside_the_field_and_writes_nothing() {
    let (app, store) = app();
    let (visitor, _) = visit(&app, "/lapor").await;
    let fields: Vec<(&str, &str)> = pothole(&visitor)
        .into_iter()
        .filter(|(name, _)| *name != "title")
        .collect();
    let page = send(
        &app,
        post_form("/lapor", &visitor.cookie, multipart(&fields, &[])),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("id=\"error-summary\""));
    assert!(
        page.html.contains("href=\"#title\""),
        "the summary links to the field"
    );
    assert!(page.html.contains("id=\"title-error\""));
    assert!(page.html.contains("aria-invalid=\"true\""));
    assert!(
        page.html.contains("Lubang besar di depan pasar"),
        "the description is kept"
    );
    assert!(page
        .html
        .contains("value=\"Jl. Cipto Mangunkusumo, depan pasar\""));
    assert!(page.html.contains("value=\"32.74\" selected"));
    assert_eq!(
        hidden(&page.html, "idempotency_key").as_deref(),
        Some(visitor.idempotency_key.as_str())
    );
    assert_eq!(reports(&store).await, 0);

    // A file of a type no report takes is named in the errors, and still nothing is written.
    let page = send(
        &app,
        post_form(
            "/lapor",
            &visitor.cookie,
            multipart(
                &pothole(&visitor),
                &[("notes.html", "text/html", b"<html>")],
            ),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.html.contains("id=\"evidence-error\""));
    assert!(page.html.contains("notes.html"));
    assert_eq!(reports(&store).await, 0);
}

#[tokio::test]
async fn a_form_without_the_visitors_token_or_from_another_site_is_refused_and_writes_nothing() {
    let (app, store) = app();
    let (visitor, _) = visit(&app, "/lapor").await;
    let mut forged = pothole(&visitor);
    forged[0] = ("csrf", "00000000000000000000000000000000");
    let page = send(
        &app,
        post_form("/lapor", &visitor.cookie, multipart(&forged, &[])),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut missing = pothole(&visitor);
    missing.remove(0);
    let page = send(
        &app,
        post_form("/lapor", &visitor.cookie, multipart(&missing, &[])),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut cross = post_form(
        "/lapor",
        &visitor.cookie,
        multipart(&pothole(&visitor), &[]),
    );
    cross.headers_mut().insert(
        header::ORIGIN,
        "https://evil.example".parse().expect("header"),
    );
    cross
        .headers_mut()
        .insert(header::HOST, "lapor.example".parse().expect("header"));
    let page = send(&app, cross).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(reports(&store).await, 0);
}

#[tokio::test]
async fn the_reporter_tracks_with_code_and_key_in_form_bodies_only() {
    let (app, _) = app();
    let (visitor, _) = visit(&app, "/lapor").await;
    let receipt = send(
        &app,
        post_form(
            "/lapor",
            &visitor.cookie,
            multipart(&pothole(&visitor), &[]),
        ),
    )
    .await;
    let code = between(&receipt.html, "id=\"tracking-code\">", "<")
        .expect("code")
        .to_string();
    let key = between(&receipt.html, "id=\"access-key\">", "<")
        .expect("key")
        .to_string();

    let (visitor, form) = visit(&app, "/lacak").await;
    assert!(form.html.contains("method=\"post\" action=\"/lacak\""));
    let wrong = send(
        &app,
        post_urlencoded(
            "/lacak",
            &visitor.cookie,
            &[
                ("csrf", &visitor.token),
                ("tracking_code", &code),
                ("access_key", "not-the-key"),
            ],
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("id=\"access_key-error\""));
    assert!(
        !wrong.html.contains("Jalan berlubang"),
        "nothing of the report without its key"
    );

    let page = send(
        &app,
        post_urlencoded(
            "/lacak",
            &visitor.cookie,
            &[
                ("csrf", &visitor.token),
                ("tracking_code", &code.to_lowercase()),
                ("access_key", &key),
            ],
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("Jalan berlubang di Jalan Cipto"));
    assert!(page.html.contains("id=\"status\""));
    assert!(page.html.contains("data-color=\"grey\""));
    assert!(page.html.contains("id=\"timeline\""));
    assert!(page.html.contains("form id=\"reply\""));
    for attribute in ["href=\"", "action=\"", "src=\""] {
        for part in page.html.split(attribute).skip(1) {
            let url = &part[..part.find('"').unwrap_or(0)];
            assert!(!url.contains(&key), "the key is in a URL: {url}");
        }
    }
    assert_eq!(
        page.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(&b"private, no-store"[..])
    );
}

#[tokio::test]
async fn a_whistleblowing_report_has_no_public_page_and_never_reaches_the_home_page() {
    let (app, _) = app();
    let (visitor, _) = visit(&app, "/lapor").await;
    let mut fields = pothole(&visitor);
    fields[2] = ("type", "whistleblowing");
    fields[5] = ("title", "Pungutan liar di kantor kelurahan");
    let receipt = send(
        &app,
        post_form("/lapor", &visitor.cookie, multipart(&fields, &[])),
    )
    .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.html);
    let code = between(&receipt.html, "id=\"tracking-code\">", "<")
        .expect("code")
        .to_string();

    let public = send(
        &app,
        Request::get(format!("/laporan/{code}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(public.status, StatusCode::NOT_FOUND);
    assert!(!public.html.contains("Pungutan liar"));
    let home = send(
        &app,
        Request::get("/").body(Body::empty()).expect("request"),
    )
    .await;
    assert!(!home.html.contains("Pungutan liar"));
    assert!(!home.html.contains(&code));
}

#[tokio::test]
async fn every_page_sends_a_strict_policy_and_the_language_choice_sticks() {
    let (app, _) = app();
    for path in [
        "/",
        "/lapor",
        "/lacak",
        "/statistik",
        "/laporan/XXXX-XXXX",
        "/nowhere",
    ] {
        let page = send(
            &app,
            Request::get(path).body(Body::empty()).expect("request"),
        )
        .await;
        let csp = page
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has a policy"));
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(
            page.headers.get("referrer-policy").map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..]),
            "{path}"
        );
        assert!(
            !page.html.contains("<script>"),
            "{path} has no inline script"
        );
        assert!(
            !page.html.contains("style=\""),
            "{path} has no inline style"
        );
    }
    let english = send(
        &app,
        Request::get("/?lang=en")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(english.html.contains("<html lang=\"en\""));
    assert!(english
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with("lang=en"))));
    let later = send(
        &app,
        Request::get("/lapor")
            .header(header::COOKIE, "lang=en")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(later.html.contains("<html lang=\"en\""));
    assert!(later.html.contains("Send the report"));
    let default = send(
        &app,
        Request::get("/lapor").body(Body::empty()).expect("request"),
    )
    .await;
    assert!(default.html.contains("<html lang=\"id\""));
    assert!(default.html.contains("Kirim laporan"));
}

/// Reads `events/web/<name>.json` as Lambda would hand it to the function.
fn event(name: &str) -> Request<Body> {
    let path = format!(
        "{}/../../events/web/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (parts, body) = request.into_parts();
    let body = match body {
        lambda_http::Body::Text(t) => Body::from(t),
        lambda_http::Body::Binary(b) => Body::from(b),
        _ => Body::empty(),
    };
    Request::from_parts(parts, body)
}

#[tokio::test]
async fn the_sample_gateway_events_are_served_as_in_aws_with_secure_cookies() {
    let store = Arc::new(MemStore::new());
    let pepper = KeyPepper::new(b"portal-test-pepper-of-32-bytes!!".to_vec()).expect("32 bytes");
    let intake = lapor_intake::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    );
    let app = lapor_web::router(lapor_web::Deps::new(intake, true));
    let home = send(&app, event("home")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.html.contains("<html lang=\"id\""),
        "the sample asks for Indonesian"
    );
    let cookie = home
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("__Host-csrf=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(home.headers.contains_key("strict-transport-security"));
    assert_eq!(
        send(&app, event("report-form")).await.status,
        StatusCode::OK
    );

    // The multipart form arrives base64-encoded with its cookie in the event's `cookies`.
    let receipt = send(&app, event("submit-form")).await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.html);
    assert!(receipt.html.contains("id=\"tracking-code\""));
    assert_eq!(reports(&store).await, 1);
    let code = between(&receipt.html, "id=\"tracking-code\">", "<").expect("code");
    let public = send(
        &app,
        Request::get(format!("/laporan/{code}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.html.contains("Lampu jalan mati di Jalan Kartini"));
    // The sample's own code is not this store's report.
    assert_eq!(
        send(&app, event("public-report")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Mail the portal sends, kept instead of sent.
#[derive(Default)]
struct Kept(std::sync::Mutex<Vec<lapor_notifier::Mail>>);

#[async_trait::async_trait]
impl lapor_notifier::Mailer for Kept {
    async fn send(&self, mail: &lapor_notifier::Mail) -> Result<(), lapor_notifier::NotifyError> {
        self.0.lock().expect("lock").push(mail.clone());
        Ok(())
    }
}

#[tokio::test]
async fn the_key_goes_only_to_the_reporters_own_address_and_only_once_an_hour() {
    let store = Arc::new(MemStore::new());
    let pepper = KeyPepper::new(b"portal-test-pepper-of-32-bytes!!".to_vec()).expect("32 bytes");
    let intake = lapor_intake::Deps::new(
        &Stores::of(store.clone()),
        Arc::new(FixedClock::new(now())),
        Deadlines::indonesia(),
        pepper,
    );
    let outbox = Arc::new(Kept::default());
    let app =
        lapor_web::router(lapor_web::Deps::new(intake, false).with_mailer(Some(outbox.clone())));
    let (visitor, _) = visit(&app, "/lapor").await;
    let mut fields = pothole(&visitor);
    fields.push(("email", "siti.aminah@example.id"));
    let receipt = send(
        &app,
        post_form("/lapor", &visitor.cookie, multipart(&fields, &[])),
    )
    .await;
    assert!(receipt.html.contains("form id=\"send-key\""));
    let code = between(&receipt.html, "id=\"tracking-code\">", "<")
        .expect("code")
        .to_string();
    let key = between(&receipt.html, "id=\"access-key\">", "<")
        .expect("key")
        .to_string();

    let ask = |key: &str, extra: Option<(&'static str, &'static str)>| {
        let mut fields = vec![
            ("csrf", visitor.token.as_str()),
            ("tracking_code", code.as_str()),
            ("access_key", key),
        ];
        fields.extend(extra);
        post_urlencoded("/lapor/kunci", &visitor.cookie, &fields)
    };
    let wrong = send(&app, ask("not-the-key", None)).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outbox.0.lock().expect("lock").is_empty());

    // An address typed into the request counts for nothing: the key goes to the one on file.
    let sent = send(&app, ask(&key, Some(("email", "attacker@example.com")))).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.html);
    assert!(
        !sent.html.contains("siti.aminah@example.id"),
        "the address is masked"
    );
    {
        let mails = outbox.0.lock().expect("lock");
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to.as_str(), "siti.aminah@example.id");
        assert!(mails[0].text.contains(&key) && mails[0].text.contains(&code));
    }
    let again = send(&app, ask(&key, None)).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(outbox.0.lock().expect("lock").len(), 1);
}
