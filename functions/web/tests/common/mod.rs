//! A stand-in for Cognito's HTTP endpoints, shared by the sign-in client's tests and the
//! console's end-to-end tests: an axum server on a loopback port that answers /oauth2/authorize,
//! /oauth2/token, /oauth2/revoke and the pool's JWKS the way Cognito does, and signs RS256 ID
//! tokens with fixed test keys.

// Each test binary compiles this module on its own and uses a different part of it.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lapor_web::console::cognito::{Cognito, CognitoSettings};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const POOL: &str = "ap-southeast-3_TestPool";
pub const CLIENT_ID: &str = "consoleclient123";
pub const CLIENT_SECRET: &str = "consolesecret456";
pub const SUB: &str = "0b6c5a1e-officer";
pub const EMAIL: &str = "petugas@pupr.example.go.id";
/// An agency of the bundled sample directory, so the console can name it.
pub const AGENCY: &str = "kota-cirebon-dpupr";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The client's credentials as they travel in the token request's Basic auth header.
pub fn basic_credentials() -> String {
    STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
}

pub struct TestKey {
    encoding: EncodingKey,
    jwk: Jwk,
}

/// A PKCS#1 PEM key (jsonwebtoken reads PEM only with a feature the service does not need).
fn test_key(pem: &str, kid: &str) -> TestKey {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let encoding = EncodingKey::from_rsa_der(&STANDARD.decode(body).unwrap());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    TestKey { encoding, jwk }
}

/// What the officer's browser told the login page, kept under the code it got back.
struct Authorization {
    challenge: String,
    nonce: String,
    redirect_uri: String,
}

/// How the next ID tokens are made: claims overridden (`null` removes one), the key that
/// signs, and the key id the header names.
pub struct Issuing {
    pub overrides: Map<String, Value>,
    pub key: usize,
    pub kid: String,
}

pub struct FakeState {
    issuer: String,
    keys: Vec<TestKey>,
    pub published: usize,
    pub issuing: Issuing,
    codes: HashMap<String, Authorization>,
    pub refresh_tokens: HashSet<String>,
    pub revoked: Vec<String>,
    serial: u64,
    pub jwks_fetches: usize,
    pub token_requests: usize,
    /// The `grant_type` of every token request, in order.
    pub grants: Vec<String>,
    pub last_token_form: HashMap<String, String>,
    /// Every code, ID token and refresh token handed out: none may show up in a log.
    pub handed_out: Vec<String>,
}

#[derive(Clone)]
pub struct Fake {
    pub base: String,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fake {
    pub async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let keys = vec![
            test_key(include_str!("../fixtures/cognito-key-1.pem"), "key-1"),
            test_key(include_str!("../fixtures/cognito-key-2.pem"), "key-2"),
        ];
        let state = Arc::new(Mutex::new(FakeState {
            issuer: format!("{base}/{POOL}"),
            keys,
            published: 1,
            issuing: Issuing {
                overrides: Map::new(),
                key: 0,
                kid: "key-1".to_owned(),
            },
            codes: HashMap::new(),
            refresh_tokens: HashSet::new(),
            revoked: Vec::new(),
            serial: 0,
            jwks_fetches: 0,
            token_requests: 0,
            grants: Vec::new(),
            last_token_form: HashMap::new(),
            handed_out: Vec::new(),
        }));
        let app = Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/token", post(token))
            .route("/oauth2/revoke", post(revoke))
            .route("/{pool}/.well-known/jwks.json", get(jwks))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { base, state }
    }

    pub fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    pub fn settings(&self, secret: &str) -> CognitoSettings {
        CognitoSettings {
            domain: self.base.clone(),
            issuer: format!("{}/{POOL}", self.base),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Some(secret.to_owned()),
        }
    }

    pub fn cognito(&self) -> Cognito {
        Cognito::new(self.settings(CLIENT_SECRET), reqwest::Client::new()).unwrap()
    }

    /// The next ID tokens carry these claims instead.
    pub fn override_claims(&self, overrides: Value) {
        let Value::Object(map) = overrides else {
            panic!("overrides must be an object")
        };
        self.lock().issuing.overrides = map;
    }

    /// An ID token as the fake would issue now, with these claims changed.
    pub fn mint(&self, overrides: Value) -> String {
        let mut state = self.lock();
        let Value::Object(map) = overrides else {
            panic!("overrides must be an object")
        };
        let kept = std::mem::replace(&mut state.issuing.overrides, map);
        let token = id_token(&mut state, None);
        state.issuing.overrides = kept;
        token
    }

    /// How many token requests were refresh grants.
    pub fn refresh_grants(&self) -> usize {
        self.lock()
            .grants
            .iter()
            .filter(|g| *g == "refresh_token")
            .count()
    }

    /// The browser's visit to the managed login: the officer signs in and is sent back with a
    /// code and the state.
    pub async fn log_in(&self, authorize_url: &str) -> (String, String) {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = browser.get(authorize_url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let back = reqwest::Url::parse(location).unwrap();
        let query: HashMap<_, _> = back.query_pairs().into_owned().collect();
        (query["code"].clone(), query["state"].clone())
    }
}

fn id_token(state: &mut FakeState, nonce: Option<&str>) -> String {
    state.serial += 1;
    let mut claims = json!({
        "sub": SUB,
        "aud": CLIENT_ID,
        "iss": state.issuer,
        "token_use": "id",
        "email": EMAIL,
        "email_verified": true,
        "custom:agency_id": AGENCY,
        "custom:role": "officer",
        "cognito:groups": ["petugas"],
        "auth_time": now(),
        "iat": now(),
        "exp": now() + 3600,
        "jti": format!("jti-{}", state.serial),
    });
    let map = claims.as_object_mut().unwrap();
    if let Some(nonce) = nonce {
        map.insert("nonce".to_owned(), json!(nonce));
    }
    for (name, value) in &state.issuing.overrides {
        if value.is_null() {
            map.remove(name);
        } else {
            map.insert(name.clone(), value.clone());
        }
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(state.issuing.kid.clone());
    let key = &state.keys[state.issuing.key].encoding;
    let token = jsonwebtoken::encode(&header, &claims, key).unwrap();
    state.handed_out.push(token.clone());
    token
}

async fn authorize(
    State(state): State<Arc<Mutex<FakeState>>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ok = query.get("response_type").map(String::as_str) == Some("code")
        && query.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && query.get("code_challenge_method").map(String::as_str) == Some("S256");
    if !ok {
        return (StatusCode::BAD_REQUEST, "bad authorize request").into_response();
    }
    let mut state = state.lock().unwrap();
    state.serial += 1;
    let code = format!("code-{}", state.serial);
    state.handed_out.push(code.clone());
    let redirect_uri = query["redirect_uri"].clone();
    state.codes.insert(
        code.clone(),
        Authorization {
            challenge: query["code_challenge"].clone(),
            nonce: query["nonce"].clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let mut back = reqwest::Url::parse(&redirect_uri).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &query["state"]);
    Redirect::to(back.as_str()).into_response()
}

fn oauth_error(status: StatusCode, code: &str) -> Response {
    (status, Json(json!({ "error": code }))).into_response()
}

fn client_authenticated(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", basic_credentials());
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == expected.as_bytes())
}

async fn token(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = state.lock().unwrap();
    state.token_requests += 1;
    state
        .grants
        .push(form.get("grant_type").cloned().unwrap_or_default());
    state.last_token_form = form.clone();
    if !client_authenticated(&headers) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            // A code is good for one exchange, by the client it was issued for.
            let Some(authorization) = form.get("code").and_then(|c| state.codes.remove(c)) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if challenge != authorization.challenge
                || form.get("redirect_uri") != Some(&authorization.redirect_uri)
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let id_token = id_token(&mut state, Some(&authorization.nonce));
            let refresh_token = format!("refresh-{}", state.serial);
            state.refresh_tokens.insert(refresh_token.clone());
            state.handed_out.push(refresh_token.clone());
            Json(json!({
                "id_token": id_token,
                "access_token": "access-token",
                "refresh_token": refresh_token,
                "token_type": "Bearer",
                "expires_in": 3600,
            }))
            .into_response()
        }
        Some("refresh_token") => {
            let known = form
                .get("refresh_token")
                .is_some_and(|t| state.refresh_tokens.contains(t));
            if !known {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            // Cognito sends no new refresh token, and refreshed ID tokens have no nonce.
            let id_token = id_token(&mut state, None);
            Json(json!({
                "id_token": id_token,
                "access_token": "access-token",
                "token_type": "Bearer",
                "expires_in": 3600,
            }))
            .into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

async fn revoke(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_authenticated(&headers) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    }
    let Some(token) = form.get("token") else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let mut state = state.lock().unwrap();
    state.refresh_tokens.remove(token);
    state.revoked.push(token.clone());
    StatusCode::OK.into_response()
}

async fn jwks(State(state): State<Arc<Mutex<FakeState>>>, Path(pool): Path<String>) -> Response {
    if pool != POOL {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut state = state.lock().unwrap();
    state.jwks_fetches += 1;
    let keys = state.keys[..state.published]
        .iter()
        .map(|k| k.jwk.clone())
        .collect();
    Json(JwkSet { keys }).into_response()
}
