//! The console's AWS sign-in end to end: the whole web router, as the Lambda builds it, over the
//! embedded store and the stand-in for Cognito in `common`, driven as a browser would (cookies
//! carried by hand, the managed login visited in between). Every test also captures the logs
//! and checks that no token, code, verifier or client secret reached them.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use common::{basic_credentials, now, Fake, CLIENT_ID, CLIENT_SECRET, POOL};
use lapor_core::{Deadlines, Directory, KeyPepper, SystemClock};
use lapor_store::{MemStore, Stores};
use lapor_web::console::{CognitoSettings, CognitoSignIn, ConsoleDeps, SettingsLoader, SignIn};
use serde_json::json;
use tower::ServiceExt;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::util::SubscriberInitExt;

const HOST: &str = "lapor.example.go.id";
const CALLBACK: &str = "https://lapor.example.go.id/console/callback";
const SIGNED_OUT: &str = "https://lapor.example.go.id/console/masuk?keluar=1";
const AGENCY_NAME: &str = "Dinas Pekerjaan Umum dan Penataan Ruang Kota Cirebon";

const SESSION: &str = "__Secure-console";
const REFRESH: &str = "__Secure-console-refresh";
const LOGIN: &str = "__Secure-console-login";
const NEXT: &str = "__Secure-console-next";
const CSRF: &str = "__Host-csrf";

/// Everything the test's subscriber wrote.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Every level from every crate, and every span as it opens, so a token cannot hide in a debug
/// line of a dependency or in a span's fields; `log` records (reqwest's) are forwarded too. The
/// tests run on current-thread runtimes, so the app, its HTTP client and the fake all log on
/// the test's thread, into this test's buffer.
fn capture_logs() -> (Logs, DefaultGuard) {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(FmtSpan::NEW)
        .with_writer(move || sink.clone())
        .finish();
    (logs, subscriber.set_default())
}

fn loader(settings: Result<CognitoSettings, String>) -> SettingsLoader {
    Arc::new(move || {
        let settings = settings.clone();
        Box::pin(async move { settings })
    })
}

/// The web router as `main` builds it for AWS (HTTPS cookies, Cognito sign-in), over the
/// embedded store with the bundled agency directory.
async fn web(load: SettingsLoader) -> Router {
    let stores = Stores::of(Arc::new(MemStore::new()));
    let directory = Directory::parse(Directory::bundled_sample()).unwrap();
    stores.directory.put_directory(&directory).await.unwrap();
    let pepper = KeyPepper::new(b"console-test-pepper-of-32-bytes!".to_vec()).unwrap();
    let clock = Arc::new(SystemClock);
    let intake = lapor_intake::Deps::new(&stores, clock.clone(), Deadlines::indonesia(), pepper);
    let officer = lapor_officer::Deps::new(&stores, clock, Deadlines::indonesia());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = SignIn::Cognito(Arc::new(CognitoSignIn::new(load, http)));
    lapor_web::router(
        lapor_web::Deps::new(intake, true)
            .with_directory(stores.directory.clone())
            .with_console(ConsoleDeps { officer, sign_in }),
    )
}

/// Settings naming a port nothing listens on.
fn closed_settings() -> CognitoSettings {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    CognitoSettings {
        domain: base.clone(),
        issuer: format!("{base}/{POOL}"),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Some(CLIENT_SECRET.to_owned()),
    }
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    html: String,
}

impl Page {
    /// The Set-Cookie line for this cookie, when the answer set or cleared it.
    fn cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|line| line.starts_with(&prefix))
    }

    fn cleared(&self, name: &str) -> bool {
        self.cookie(name)
            .is_some_and(|line| value_of(line).is_empty() && max_age(line) == Some(0))
    }

    /// A hidden form field's value.
    fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let from = self.html.find(&marker)? + marker.len();
        let rest = &self.html[from..];
        Some(rest[..rest.find('"')?].to_owned())
    }
}

fn value_of(line: &str) -> &str {
    let pair = line.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, value)| value)
}

fn attributes(line: &str) -> Vec<&str> {
    line.split(';').skip(1).map(str::trim).collect()
}

fn max_age(line: &str) -> Option<u32> {
    attributes(line)
        .into_iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .map(|s| s.parse().unwrap())
}

fn query_of(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A browser on https://lapor.example.go.id: it keeps the cookies it is given, in order, and
/// sends them back.
struct Browser {
    app: Router,
    jar: BTreeMap<String, String>,
    /// Every non-empty value the console put in a cookie: none may reach a log.
    given: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    /// A form posted from one of our own pages.
    async fn post(&mut self, path: &str, form: &str) -> Page {
        self.send(Method::POST, path, Some(("same-origin", form)))
            .await
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<(&str, &str)>) -> Page {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(header::COOKIE, cookies.join("; "));
        }
        let body = match form {
            Some((site, form)) => {
                request = request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header("sec-fetch-site", site)
                    .header(header::ORIGIN, format!("https://{HOST}"));
                Body::from(form.to_owned())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &set_cookies {
            let (name, value) = line.split(';').next().unwrap().split_once('=').unwrap();
            if max_age(line) == Some(0) {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
                if !value.is_empty() && name != NEXT {
                    self.given.lock().unwrap().push(value.to_owned());
                }
            }
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            location,
            set_cookies,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// One test's world: the fake Cognito, the console over it, and the logs of both.
struct Scene {
    fake: Fake,
    app: Router,
    logs: Logs,
    given: Arc<Mutex<Vec<String>>>,
    _logging: DefaultGuard,
}

impl Scene {
    async fn new() -> Scene {
        let (logs, logging) = capture_logs();
        let fake = Fake::start().await;
        let app = web(loader(Ok(fake.settings(CLIENT_SECRET)))).await;
        Scene {
            fake,
            app,
            logs,
            given: Arc::default(),
            _logging: logging,
        }
    }

    fn browser(&self) -> Browser {
        Browser {
            app: self.app.clone(),
            jar: BTreeMap::new(),
            given: self.given.clone(),
        }
    }

    /// A browser with a console session: signed in the way an officer does, starting from the
    /// inbox.
    async fn signed_in(&self) -> Browser {
        let mut browser = self.browser();
        browser.get("/console/kotak-masuk").await;
        let to_login = browser.get("/console/masuk").await;
        let (code, state) = self.fake.log_in(&to_login.location.unwrap()).await;
        let back = browser
            .get(&format!("/console/callback?code={code}&state={state}"))
            .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
        assert!(browser.jar.contains_key(SESSION) && browser.jar.contains_key(REFRESH));
        browser
    }

    /// No log line holds anything the fake handed out, a cookie value the console set (the
    /// verifier travels in the login cookie), or the client's secret.
    fn assert_nothing_secret_logged(&self) {
        let logs = self.logs.text();
        // The capture works: the request spans of the router are there.
        assert!(logs.contains("request_id="), "nothing captured: {logs}");
        let mut secrets: Vec<String> = self.fake.lock().handed_out.clone();
        secrets.extend(self.given.lock().unwrap().iter().cloned());
        let parts: Vec<String> = secrets
            .iter()
            .flat_map(|s| s.split('.').skip(1).map(str::to_owned).collect::<Vec<_>>())
            .filter(|part| part.len() >= 16)
            .collect();
        secrets.extend(parts);
        secrets.push(CLIENT_SECRET.to_owned());
        secrets.push(basic_credentials());
        assert!(secrets.len() > 2, "no secrets to look for");
        for secret in secrets {
            assert!(!logs.contains(&secret), "{secret:?} logged:\n{logs}");
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_officer_without_a_session_is_sent_through_the_managed_login_with_pkce() {
    let scene = Scene::new().await;
    let mut browser = scene.browser();

    let inbox = browser.get("/console/kotak-masuk").await;

    assert_eq!(inbox.status, StatusCode::SEE_OTHER);
    assert_eq!(inbox.location.as_deref(), Some("/console/masuk"));
    let next = inbox.cookie(NEXT).unwrap();
    assert_eq!(value_of(next), "/console/kotak-masuk");

    let to_login = browser.get("/console/masuk").await;

    assert_eq!(to_login.status, StatusCode::SEE_OTHER);
    let url = to_login.location.clone().unwrap();
    assert!(
        url.starts_with(&format!("{}/oauth2/authorize?", scene.fake.base)),
        "{url}"
    );
    let query = query_of(&url);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["redirect_uri"], CALLBACK);
    let login = to_login.cookie(LOGIN).unwrap();
    let attributes = attributes(login);
    for wanted in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/console"] {
        assert!(attributes.contains(&wanted), "{login}");
    }
    assert!(
        max_age(login).is_some_and(|age| (1..=600).contains(&age)),
        "{login}"
    );
    // The cookie holds the verifier; the URL only its hash.
    let verifier = value_of(login).split('.').nth(1).unwrap();
    assert!(!url.contains(verifier));
    assert_eq!(query["state"], value_of(login).split('.').next().unwrap());
    assert_eq!(scene.fake.lock().token_requests, 0);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn the_callback_keeps_the_tokens_in_browser_session_cookies_and_lands_on_the_remembered_page()
{
    let scene = Scene::new().await;
    let mut browser = scene.browser();
    browser.get("/console/kotak-masuk").await;
    let to_login = browser.get("/console/masuk").await;
    let authorize_url = to_login.location.unwrap();
    let verifier = browser.jar[LOGIN].split('.').nth(1).unwrap().to_owned();
    let (code, state) = scene.fake.log_in(&authorize_url).await;
    let callback_url = format!("/console/callback?code={code}&state={state}");

    let back = browser.get(&callback_url).await;

    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    assert_eq!(back.location.as_deref(), Some("/console/kotak-masuk"));
    let id_token = value_of(back.cookie(SESSION).unwrap()).to_owned();
    let refresh_token = value_of(back.cookie(REFRESH).unwrap()).to_owned();
    assert!(scene.fake.lock().handed_out.contains(&id_token));
    assert!(scene.fake.lock().refresh_tokens.contains(&refresh_token));
    for name in [SESSION, REFRESH] {
        let line = back.cookie(name).unwrap();
        let attributes = attributes(line);
        for wanted in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/console"] {
            assert!(attributes.contains(&wanted), "{line}");
        }
        assert!(
            attributes
                .iter()
                .all(|a| !a.starts_with("Max-Age") && !a.starts_with("Expires")),
            "{line}"
        );
    }
    assert!(back.cleared(LOGIN), "{:?}", back.set_cookies);
    assert!(back.cleared(NEXT), "{:?}", back.set_cookies);
    assert_eq!(scene.fake.lock().grants, ["authorization_code"]);

    let inbox = browser.get("/console/kotak-masuk").await;

    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.html);
    assert!(inbox.html.contains(AGENCY_NAME), "{}", inbox.html);
    assert!(
        inbox.cookie(SESSION).is_none(),
        "a fresh token is not renewed"
    );
    assert_eq!(scene.fake.refresh_grants(), 0);
    let urls = [
        authorize_url.as_str(),
        callback_url.as_str(),
        back.location.as_deref().unwrap(),
    ];
    for secret in [&id_token, &refresh_token, &verifier] {
        assert!(!inbox.html.contains(secret.as_str()));
        assert!(!back.html.contains(secret.as_str()));
        assert!(urls.iter().all(|url| !url.contains(secret.as_str())));
    }
    assert!(!inbox.html.contains(&code));
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn a_callback_that_is_not_this_browsers_sign_in_is_refused_before_any_token_request() {
    let scene = Scene::new().await;
    let mut browser = scene.browser();
    let to_login = browser.get("/console/masuk").await;
    let login = browser.jar[LOGIN].clone();
    let (code, state) = scene.fake.log_in(&to_login.location.unwrap()).await;
    let other_state = "c3RhdGUtb2YtYW5vdGhlci1zaWduLWlu";

    let wrong_state = browser
        .get(&format!(
            "/console/callback?code={code}&state={other_state}"
        ))
        .await;
    browser.jar.insert(LOGIN.to_owned(), login.clone());
    let denied = browser
        .get(&format!(
            "/console/callback?error=access_denied&code={code}&state={state}"
        ))
        .await;
    browser.jar.remove(LOGIN);
    let no_cookie = browser
        .get(&format!("/console/callback?code={code}&state={state}"))
        .await;

    for page in [&wrong_state, &denied, &no_cookie] {
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
        assert!(page.cookie(SESSION).is_none() && page.cookie(REFRESH).is_none());
        assert!(page.html.contains("Belum berhasil masuk"), "{}", page.html);
    }
    assert!(wrong_state.cleared(LOGIN));
    assert_eq!(scene.fake.lock().token_requests, 0);
    assert!(scene.logs.text().contains("sign-in state does not match"));

    // The code itself was good: the same callback with the cookie and state goes through.
    browser.jar.insert(LOGIN.to_owned(), login);
    let right = browser
        .get(&format!("/console/callback?code={code}&state={state}"))
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.html);
    assert!(right.cookie(SESSION).is_some());
    assert_eq!(scene.fake.lock().token_requests, 1);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_about_to_expire_is_refreshed_before_it_does() {
    let scene = Scene::new().await;
    scene.fake.override_claims(json!({ "exp": now() + 60 }));
    let mut browser = scene.signed_in().await;
    let short_lived = browser.jar[SESSION].clone();
    scene.fake.override_claims(json!({}));

    let inbox = browser.get("/console/kotak-masuk").await;

    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.html);
    assert!(inbox.html.contains(AGENCY_NAME));
    assert_eq!(scene.fake.refresh_grants(), 1);
    let renewed = inbox.cookie(SESSION).unwrap();
    assert_ne!(value_of(renewed), short_lived);
    assert_eq!(
        scene.fake.lock().handed_out.last().map(String::as_str),
        Some(value_of(renewed))
    );
    assert!(max_age(renewed).is_none() && !renewed.contains("Expires"));
    assert!(attributes(renewed).contains(&"HttpOnly"));

    // The renewed token has its hour: no further refresh.
    let again = browser.get("/console/kotak-masuk").await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.cookie(SESSION).is_none());
    assert_eq!(scene.fake.refresh_grants(), 1);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_token_with_a_good_refresh_token_is_refreshed() {
    let scene = Scene::new().await;
    let mut browser = scene.signed_in().await;
    let expired = scene
        .fake
        .mint(json!({ "iat": now() - 7200, "exp": now() - 120 }));
    browser.jar.insert(SESSION.to_owned(), expired.clone());

    let inbox = browser.get("/console/kotak-masuk").await;

    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.html);
    assert!(inbox.html.contains(AGENCY_NAME));
    assert_eq!(scene.fake.refresh_grants(), 1);
    let renewed = value_of(inbox.cookie(SESSION).unwrap());
    assert!(!renewed.is_empty() && renewed != expired);
    assert_eq!(browser.jar[SESSION], renewed);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn an_expired_token_whose_refresh_is_refused_ends_the_session() {
    let scene = Scene::new().await;
    let mut browser = scene.signed_in().await;
    let expired = scene
        .fake
        .mint(json!({ "iat": now() - 7200, "exp": now() - 120 }));
    browser.jar.insert(SESSION.to_owned(), expired);
    scene.fake.lock().refresh_tokens.clear();

    let inbox = browser.get("/console/kotak-masuk").await;

    assert_eq!(inbox.status, StatusCode::SEE_OTHER, "{}", inbox.html);
    assert_eq!(inbox.location.as_deref(), Some("/console/masuk"));
    assert!(inbox.cleared(SESSION), "{:?}", inbox.set_cookies);
    assert!(inbox.cleared(REFRESH), "{:?}", inbox.set_cookies);
    assert!(!browser.jar.contains_key(SESSION) && !browser.jar.contains_key(REFRESH));
    assert_eq!(scene.fake.refresh_grants(), 1);
    assert!(scene.logs.text().contains("invalid_grant"));
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn a_forged_or_garbage_session_cookie_is_cleared_and_sends_the_browser_to_sign_in() {
    let scene = Scene::new().await;
    let mut garbage = scene.browser();
    garbage
        .jar
        .insert(SESSION.to_owned(), "not-a-token".to_owned());

    let page = garbage.get("/console/kotak-masuk").await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/console/masuk"));
    assert!(
        page.cleared(SESSION) && page.cleared(REFRESH),
        "{:?}",
        page.set_cookies
    );
    assert_eq!(scene.fake.lock().jwks_fetches, 0);

    // Right in every claim, signed by a key the pool never published, with a refresh token
    // Cognito does not know.
    scene.fake.lock().issuing.key = 1;
    let forged = scene.fake.mint(json!({}));
    let mut forger = scene.browser();
    forger.jar.insert(SESSION.to_owned(), forged);
    forger
        .jar
        .insert(REFRESH.to_owned(), "refresh-guessed".to_owned());

    let page = forger.get("/console/kotak-masuk").await;

    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/console/masuk"));
    assert!(
        page.cleared(SESSION) && page.cleared(REFRESH),
        "{:?}",
        page.set_cookies
    );
    assert!(!page.html.contains(AGENCY_NAME));
    assert_eq!(scene.fake.lock().jwks_fetches, 1);
    assert_eq!(scene.fake.lock().token_requests, 1);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn signing_out_revokes_the_refresh_token_clears_the_cookies_and_ends_the_cognito_session() {
    let scene = Scene::new().await;
    let mut browser = scene.signed_in().await;
    let refresh_token = browser.jar[REFRESH].clone();
    let inbox = browser.get("/console/kotak-masuk").await;
    let csrf = inbox.hidden("csrf").unwrap();
    assert_eq!(browser.jar[CSRF], csrf);

    let out = browser
        .post("/console/keluar", &format!("csrf={csrf}"))
        .await;

    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.html);
    assert_eq!(scene.fake.lock().revoked, [refresh_token]);
    let logout = out.location.clone().unwrap();
    assert!(
        logout.starts_with(&format!("{}/logout?", scene.fake.base)),
        "{logout}"
    );
    let query = query_of(&logout);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["logout_uri"], SIGNED_OUT);
    for name in [SESSION, REFRESH, LOGIN, NEXT] {
        assert!(
            out.cleared(name),
            "{name} not cleared: {:?}",
            out.set_cookies
        );
    }
    assert!(!browser.jar.keys().any(|name| name.starts_with(SESSION)));

    // Cognito sends the browser back here: it only says so, and starts no new sign-in.
    let signed_out = browser.get("/console/masuk?keluar=1").await;
    assert_eq!(signed_out.status, StatusCode::OK);
    assert!(signed_out.cookie(LOGIN).is_none());
    let inbox = browser.get("/console/kotak-masuk").await;
    assert_eq!(inbox.location.as_deref(), Some("/console/masuk"));
    assert_eq!(scene.fake.refresh_grants(), 0);
    scene.assert_nothing_secret_logged();
}

#[tokio::test(flavor = "current_thread")]
async fn signing_out_needs_the_forms_token_from_our_own_site() {
    let scene = Scene::new().await;
    let mut browser = scene.signed_in().await;
    let csrf = browser
        .get("/console/kotak-masuk")
        .await
        .hidden("csrf")
        .unwrap();

    let without_token = browser.post("/console/keluar", "").await;
    let cross_site = browser
        .send(
            Method::POST,
            "/console/keluar",
            Some(("cross-site", &format!("csrf={csrf}"))),
        )
        .await;

    for page in [&without_token, &cross_site] {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.html);
        assert!(page.cookie(SESSION).is_none() && page.cookie(REFRESH).is_none());
    }
    assert!(scene.fake.lock().revoked.is_empty());
    let inbox = browser.get("/console/kotak-masuk").await;
    assert_eq!(inbox.status, StatusCode::OK);
    scene.assert_nothing_secret_logged();
}

/// The 503 page names neither the failure nor where Cognito was looked for.
fn assert_unavailable_page(page: &Page, internals: &[&str]) {
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.html
    );
    assert!(
        page.html.contains("Layanan sedang terganggu"),
        "{}",
        page.html
    );
    let generic = [
        "127.0.0.1",
        "refused",
        "error",
        "reqwest",
        "jwks",
        CLIENT_ID,
    ];
    for internal in internals.iter().chain(&generic) {
        assert!(!page.html.contains(internal), "{internal} in {}", page.html);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_cognito_is_a_503_page_without_internals() {
    let (logs, _logging) = capture_logs();
    let settings = closed_settings();
    let port = settings.domain.rsplit(':').next().unwrap().to_owned();
    let internals = [settings.domain.as_str(), port.as_str()];
    let app = web(loader(Ok(settings.clone()))).await;
    // A genuine-looking token: its keys must be fetched from the closed port.
    let fake = Fake::start().await;
    let token = fake.mint(json!({}));
    let mut browser = Browser {
        app: app.clone(),
        jar: BTreeMap::from([(SESSION.to_owned(), token.clone())]),
        given: Arc::default(),
    };

    for path in ["/console/masuk", "/console/kotak-masuk"] {
        let page = browser.get(path).await;
        assert_unavailable_page(&page, &internals);
        assert!(
            page.cookie(SESSION).is_none(),
            "a session is not dropped for an outage"
        );
    }

    // Back from the managed login, the code cannot be exchanged.
    let mut newcomer = Browser {
        app,
        jar: BTreeMap::new(),
        given: Arc::default(),
    };
    let to_login = newcomer.get("/console/masuk").await;
    let state = query_of(&to_login.location.unwrap())["state"].clone();
    let back = newcomer
        .get(&format!("/console/callback?code=code-1&state={state}"))
        .await;
    assert_unavailable_page(&back, &internals);
    assert!(back.cookie(SESSION).is_none());

    let logs = logs.text();
    assert!(logs.contains("identity provider unreachable"), "{logs}");
    assert!(!logs.contains(&token) && !logs.contains(CLIENT_SECRET));
}

#[tokio::test(flavor = "current_thread")]
async fn unreadable_sign_in_settings_are_a_503_page() {
    let (logs, _logging) = capture_logs();
    let app = web(loader(Err("secret not readable".to_owned()))).await;
    let mut browser = Browser {
        app,
        jar: BTreeMap::new(),
        given: Arc::default(),
    };

    let page = browser.get("/console/masuk").await;

    assert_unavailable_page(&page, &["secret not readable"]);
    assert!(page.location.is_none() && page.cookie(LOGIN).is_none());
    assert!(logs.text().contains("console sign-in settings unavailable"));
}

// The session middleware refreshes the token before the sign-out handler runs, and appends the
// renewed session and refresh cookies after the handler's clearing ones; the browser keeps the
// last, so the officer stays signed in on a fresh hour-long ID token.
#[tokio::test(flavor = "current_thread")]
async fn signing_out_with_a_token_about_to_expire_leaves_no_session() {
    let scene = Scene::new().await;
    scene.fake.override_claims(json!({ "exp": now() + 60 }));
    let mut browser = scene.signed_in().await;
    let refresh_token = browser.jar[REFRESH].clone();
    let csrf = browser.jar[CSRF].clone();

    let out = browser
        .post("/console/keluar", &format!("csrf={csrf}"))
        .await;

    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.html);
    assert_eq!(scene.fake.lock().revoked, [refresh_token]);
    assert!(
        !browser.jar.contains_key(SESSION) && !browser.jar.contains_key(REFRESH),
        "{:?}",
        out.set_cookies
    );
    let inbox = browser.get("/console/kotak-masuk").await;
    assert_eq!(inbox.location.as_deref(), Some("/console/masuk"));
    scene.assert_nothing_secret_logged();
}

// The session middleware answers 503 before the sign-out handler runs when the session cannot
// be checked, so the cookies stay.
#[tokio::test(flavor = "current_thread")]
async fn signing_out_while_cognito_is_unreachable_still_clears_the_cookies() {
    let scene = Scene::new().await;
    let mut browser = scene.signed_in().await;
    let csrf = browser.jar[CSRF].clone();
    let expired = scene
        .fake
        .mint(json!({ "iat": now() - 7200, "exp": now() - 120 }));
    browser.jar.insert(SESSION.to_owned(), expired);
    browser.app = web(loader(Ok(closed_settings()))).await;

    let out = browser
        .post("/console/keluar", &format!("csrf={csrf}"))
        .await;

    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.html);
    for name in [SESSION, REFRESH, LOGIN, NEXT] {
        assert!(
            out.cleared(name),
            "{name} not cleared: {:?}",
            out.set_cookies
        );
    }
    assert!(!browser.jar.keys().any(|name| name.starts_with(SESSION)));
}
