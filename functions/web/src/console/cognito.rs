//! Officer sign-in through Cognito's managed login: the OAuth 2.0 authorization-code flow with
//! PKCE, run by this function on the browser's behalf ("backend for frontend").
//!
//! The browser only ever holds the state of a sign-in in progress and, afterwards, the ID and
//! refresh tokens in HttpOnly cookies that the console sets; no script can read a token. The app
//! client is confidential: its secret goes to the token endpoint in HTTP Basic auth, and PKCE
//! still binds each code to the sign-in that asked for it.
//!
//! Nothing here logs or displays a token, code, verifier, secret or e-mail address: a log line
//! says at most which step failed and the identity provider's error code.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse,
    TokenResponse, TokenUrl,
};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

/// What the console asks Cognito for: an OpenID Connect ID token with the officer's e-mail and
/// profile (the custom agency and role attributes come with `profile`).
const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// Clocks drift between Cognito and Lambda; a minute is what Cognito's own SDKs allow.
const LEEWAY_SECONDS: u64 = 60;

/// A sign-in page should fail with a message, not wait for the Lambda timeout, when Cognito is
/// slow to answer.
const IDP_TIMEOUT: Duration = Duration::from_secs(5);

/// Anyone can send a token naming a key id we do not know; refetching the key set for each such
/// token would let them make us hammer Cognito. A rotated key is found within this interval.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// The sign-in client's settings, as the stack gives them.
#[derive(Clone)]
pub struct CognitoSettings {
    /// The managed login domain, e.g. `https://lapor-x.auth.ap-southeast-3.amazoncognito.com`.
    pub domain: String,
    /// `https://cognito-idp.<region>.amazonaws.com/<poolId>`: the ID tokens' `iss`, and where
    /// the pool publishes its signing keys.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl fmt::Debug for CognitoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoSettings")
            .field("domain", &self.domain)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

#[derive(Deserialize)]
struct ClientSecretJson {
    client_id: String,
    client_secret: Option<String>,
}

impl CognitoSettings {
    /// From the JSON the stack keeps in Secrets Manager: `{"client_id": "...", "client_secret":
    /// "..."}` plus domain and issuer given separately.
    pub fn from_secret_json(json: &str, domain: &str, issuer: &str) -> Result<Self, SignInError> {
        // serde_json's messages can quote the offending value, which here may be the secret.
        let parsed: ClientSecretJson = serde_json::from_str(json).map_err(|e| {
            SignInError::Config(format!(
                "the client secret JSON is not {{\"client_id\", \"client_secret\"}} (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Ok(Self {
            domain: domain.to_owned(),
            issuer: issuer.to_owned(),
            client_id: parsed.client_id,
            client_secret: parsed.client_secret.filter(|s| !s.is_empty()),
        })
    }
}

/// Why a sign-in, a session check, a refresh or a sign-out did not go through. The texts carry
/// no token, code or personal data, so they may be logged.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The callback's `state` is not the one this browser's sign-in started with (a forged or
    /// stale callback).
    #[error("the sign-in callback does not belong to this browser's sign-in")]
    StateMismatch,
    /// Cognito answered with an OAuth error; only its error code (e.g. `invalid_grant`).
    #[error("the identity provider refused the request: {0}")]
    Refused(String),
    /// Cognito could not be reached in time or gave an answer that could not be read.
    #[error("the identity provider could not be reached or gave no usable answer")]
    Unreachable,
    /// The ID token is not one Cognito issued to this client for this sign-in.
    #[error("the ID token is not valid")]
    InvalidToken,
    /// The ID token is genuine but its time has run out: refresh it.
    #[error("the ID token has expired")]
    Expired,
    /// The settings cannot work (not a URL, not HTTPS, unreadable secret).
    #[error("the sign-in settings are wrong: {0}")]
    Config(String),
}

/// What must survive the round trip to the hosted login: kept by the caller in a short-lived
/// HttpOnly cookie.
#[derive(Clone)]
pub struct Pending {
    state: String,
    verifier: String,
    nonce: String,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pending { .. }")
    }
}

impl Pending {
    /// `state.verifier.nonce`: all three are base64url, so a dot cannot occur inside one and the
    /// value needs no quoting in a cookie.
    pub fn to_cookie(&self) -> String {
        format!("{}.{}.{}", self.state, self.verifier, self.nonce)
    }

    /// `None` for anything [`Pending::to_cookie`] could not have written.
    pub fn from_cookie(value: &str) -> Option<Pending> {
        let mut parts = value.split('.');
        let (state, verifier, nonce) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || ![state, verifier, nonce].into_iter().all(is_random_part) {
            return None;
        }
        Some(Pending {
            state: state.to_owned(),
            verifier: verifier.to_owned(),
            nonce: nonce.to_owned(),
        })
    }
}

/// Base64url of random bytes, no longer than a PKCE verifier may be (RFC 7636 §4.1).
fn is_random_part(part: &str) -> bool {
    (1..=128).contains(&part.len())
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The tokens the console keeps in its session cookies.
#[derive(Clone)]
pub struct Tokens {
    pub id_token: String,
    pub refresh_token: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokens { .. }")
    }
}

/// A checked ID token's claims.
#[derive(Clone)]
pub struct Verified {
    /// Every claim by name: strings as they are, numbers and booleans in their JSON text, and
    /// lists (`cognito:groups`) and objects as JSON. `sub`, `custom:agency_id`, `custom:role` and
    /// `email` are here when the token has them.
    pub claims: HashMap<String, String>,
    /// The token's `exp`, in Unix seconds.
    pub expires_at: i64,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.claims.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Verified")
            .field("claims", &names)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Cognito's token endpoint answers with an ID token beside the standard fields.
#[derive(Clone, Serialize, Deserialize)]
struct IdTokenField {
    id_token: String,
}

impl fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdTokenField { .. }")
    }
}

impl ExtraTokenFields for IdTokenField {}

type IdTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An OAuth client with the authorization and token endpoints set. Revocation is a plain
/// request instead (see [`Cognito::revoke`]).
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    IdTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

type TokenRequestError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// The pool's signing keys by key id, as last fetched.
#[derive(Default)]
struct SigningKeys {
    loaded: bool,
    by_kid: HashMap<String, DecodingKey>,
}

/// Signs officers in and out through one Cognito app client, and checks their ID tokens.
pub struct Cognito {
    settings: CognitoSettings,
    http: reqwest::Client,
    oauth: OAuthClient,
    revoke_url: Url,
    logout_url: Url,
    jwks_url: Url,
    validation: Validation,
    keys: RwLock<SigningKeys>,
    /// When a token with an unknown key id last made us refetch the keys; held while fetching
    /// so that concurrent requests wait for one fetch instead of each making their own.
    refetched_at: Mutex<Option<Instant>>,
}

impl Cognito {
    /// Checks the settings once, at start-up, so a wrong domain or issuer stops the function
    /// from starting instead of failing each sign-in.
    ///
    /// `http` should not follow redirects: the token endpoint never redirects, and following
    /// one would send the code elsewhere.
    pub fn new(settings: CognitoSettings, http: reqwest::Client) -> Result<Self, SignInError> {
        let settings = CognitoSettings {
            domain: settings.domain.trim_end_matches('/').to_owned(),
            issuer: settings.issuer.trim_end_matches('/').to_owned(),
            ..settings
        };
        let endpoint = |base: &str, path: &str| secure_url(&format!("{base}{path}"));
        let authorize = endpoint(&settings.domain, "/oauth2/authorize")?;
        let token = endpoint(&settings.domain, "/oauth2/token")?;
        let revoke_url = endpoint(&settings.domain, "/oauth2/revoke")?;
        let logout_url = endpoint(&settings.domain, "/logout")?;
        let jwks_url = endpoint(&settings.issuer, "/.well-known/jwks.json")?;

        let mut oauth = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(authorize))
            .set_token_uri(TokenUrl::from_url(token));
        if let Some(secret) = &settings.client_secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.clone()));
        }

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;

        Ok(Self {
            settings,
            http,
            oauth,
            revoke_url,
            logout_url,
            jwks_url,
            validation,
            keys: RwLock::default(),
            refetched_at: Mutex::default(),
        })
    }

    /// The URL to send the browser to, and what to keep until it comes back. `redirect_uri` is
    /// https://<host>/console/callback.
    pub fn begin(&self, redirect_uri: &str) -> (String, Pending) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random();
        let (mut url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(SCOPES.map(|s| Scope::new(s.to_owned())))
            .set_pkce_challenge(challenge)
            .add_extra_param("nonce", nonce.secret().as_str())
            .url();
        // Added as a plain parameter so that begin() cannot fail: Cognito compares it with the
        // client's registered callback URLs and refuses anything else.
        url.query_pairs_mut()
            .append_pair("redirect_uri", redirect_uri);
        let pending = Pending {
            state: state.into_secret(),
            verifier: verifier.into_secret(),
            nonce: nonce.into_secret(),
        };
        (url.into(), pending)
    }

    /// Exchanges the code (after checking `state` against `pending`) and verifies the ID token
    /// (with the pending nonce).
    pub async fn finish(
        &self,
        redirect_uri: &str,
        code: &str,
        state: &str,
        pending: &Pending,
    ) -> Result<(Tokens, Verified), SignInError> {
        if state != pending.state {
            tracing::info!(step = "callback", "sign-in state does not match");
            return Err(SignInError::StateMismatch);
        }
        let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| SignInError::Config("the callback URL is not a URL".to_owned()))?;
        let response = self
            .token_request(
                "code exchange",
                self.oauth
                    .exchange_code(AuthorizationCode::new(code.to_owned()))
                    .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
                    .set_redirect_uri(Cow::Owned(redirect_uri))
                    .request_async(&self.http),
            )
            .await?;
        let id_token = response.extra_fields().id_token.clone();
        let verified = self
            .check(&id_token, Some(&pending.nonce))
            .await
            .map_err(fresh_token_error)?;
        let refresh_token = response.refresh_token().map(|t| t.secret().clone());
        Ok((
            Tokens {
                id_token,
                refresh_token,
            },
            verified,
        ))
    }

    /// Verifies an ID token kept in the session cookie; `Err(SignInError::Expired)` when only
    /// its time has run out (so the caller refreshes).
    pub async fn verify(&self, id_token: &str) -> Result<Verified, SignInError> {
        self.check(id_token, None).await
    }

    /// New ID token from the refresh token. Cognito sends no new refresh token, so the one
    /// returned is the one given unless Cognito does send another: keep what comes back.
    pub async fn refresh(&self, refresh_token: &str) -> Result<(Tokens, Verified), SignInError> {
        let given = RefreshToken::new(refresh_token.to_owned());
        let response = self
            .token_request(
                "refresh",
                self.oauth
                    .exchange_refresh_token(&given)
                    .request_async(&self.http),
            )
            .await?;
        let id_token = response.extra_fields().id_token.clone();
        // Refreshed ID tokens carry no nonce: there is no browser round trip to bind.
        let verified = self
            .check(&id_token, None)
            .await
            .map_err(fresh_token_error)?;
        let refresh_token = response
            .refresh_token()
            .map_or(given, Clone::clone)
            .into_secret();
        Ok((
            Tokens {
                id_token,
                refresh_token: Some(refresh_token),
            },
            verified,
        ))
    }

    /// Revokes the refresh token (sign-out); errors are reported but the caller signs out
    /// anyway.
    ///
    /// A plain request rather than oauth2's revocation: that one refuses any endpoint that is
    /// not HTTPS, loopback included, so it could not be run against a stand-in for Cognito.
    /// [`Cognito::new`] already requires HTTPS for every other host.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), SignInError> {
        let mut form = vec![("token", refresh_token)];
        let request = self.http.post(self.revoke_url.clone()).timeout(IDP_TIMEOUT);
        let request = match &self.settings.client_secret {
            Some(secret) => request.basic_auth(&self.settings.client_id, Some(secret)),
            None => {
                form.push(("client_id", &self.settings.client_id));
                request
            }
        };
        let response = request.form(&form).send().await.map_err(|e| {
            tracing::warn!(step = "revoke", error = %e, "identity provider unreachable");
            SignInError::Unreachable
        })?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        match response.json::<IdpError>().await {
            Ok(IdpError { error }) => Err(refused("revoke", &error)),
            Err(_) => {
                tracing::warn!(step = "revoke", %status, "identity provider gave no usable answer");
                Err(SignInError::Unreachable)
            }
        }
    }

    /// Where to send the browser so the Cognito session ends too; `logout_uri` is
    /// https://<host>/console/masuk?keluar=1 (registered as a sign-out URL).
    pub fn logout_url(&self, logout_uri: &str) -> String {
        let mut url = self.logout_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("logout_uri", logout_uri);
        url.into()
    }

    /// Sends a token request, mapping each way it can fail to what the caller can act on.
    async fn token_request(
        &self,
        step: &'static str,
        request: impl std::future::Future<Output = Result<IdTokenResponse, TokenRequestError>>,
    ) -> Result<IdTokenResponse, SignInError> {
        let Ok(answer) = tokio::time::timeout(IDP_TIMEOUT, request).await else {
            tracing::warn!(step, "identity provider timed out");
            return Err(SignInError::Unreachable);
        };
        answer.map_err(|e| match e {
            RequestTokenError::ServerResponse(response) => refused(step, response.error().as_ref()),
            RequestTokenError::Request(e) => {
                tracing::warn!(step, error = %e, "identity provider unreachable");
                SignInError::Unreachable
            }
            // The body may hold tokens: name only the field that did not parse.
            RequestTokenError::Parse(e, _) => {
                tracing::warn!(step, field = %e.path(), "identity provider's answer unreadable");
                SignInError::Unreachable
            }
            RequestTokenError::Other(reason) => {
                tracing::warn!(step, %reason, "identity provider's answer unusable");
                SignInError::Unreachable
            }
        })
    }

    /// Checks an ID token's signature and claims; `nonce` is the one this sign-in sent, when
    /// the token comes from a sign-in.
    async fn check(&self, id_token: &str, nonce: Option<&str>) -> Result<Verified, SignInError> {
        let header = decode_header(id_token).map_err(|_| rejected("not a JWT"))?;
        // Checked before any key lookup, so that junk cannot make us fetch keys.
        if header.alg != Algorithm::RS256 {
            return Err(rejected("algorithm"));
        }
        let kid = header.kid.ok_or_else(|| rejected("no key id"))?;
        let key = self.signing_key(&kid).await?;
        let claims = match decode::<Map<String, Value>>(id_token, &key, &self.validation) {
            Ok(data) => data.claims,
            Err(e) if *e.kind() == ErrorKind::ExpiredSignature => {
                // jsonwebtoken checks `exp` before `iss` and `aud`: only a token that is right
                // in every other way is one worth refreshing.
                let mut timeless = self.validation.clone();
                timeless.validate_exp = false;
                let data = decode::<Map<String, Value>>(id_token, &key, &timeless)
                    .map_err(|e| rejected(reason(e.kind())))?;
                check_use_and_nonce(&data.claims, nonce)?;
                return Err(SignInError::Expired);
            }
            Err(e) => return Err(rejected(reason(e.kind()))),
        };
        check_use_and_nonce(&claims, nonce)?;
        let expires_at = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| rejected("exp"))?;
        Ok(Verified {
            claims: claims
                .into_iter()
                .filter_map(|(name, value)| claim_text(value).map(|text| (name, text)))
                .collect(),
            expires_at,
        })
    }

    /// The pool's key with this id, fetching the key set the first time and again (at most
    /// once per [`JWKS_REFETCH_INTERVAL`]) when Cognito may have rotated its keys.
    async fn signing_key(&self, kid: &str) -> Result<DecodingKey, SignInError> {
        if let Some(key) = self.keys.read().await.by_kid.get(kid) {
            return Ok(key.clone());
        }
        let mut refetched_at = self.refetched_at.lock().await;
        let first_load = {
            let keys = self.keys.read().await;
            // Another request may have fetched the keys while this one waited.
            if let Some(key) = keys.by_kid.get(kid) {
                return Ok(key.clone());
            }
            !keys.loaded
        };
        if !first_load && refetched_at.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return Err(rejected("unknown key id"));
        }
        let by_kid = self.fetch_keys().await?;
        if !first_load {
            *refetched_at = Some(Instant::now());
        }
        let key = by_kid.get(kid).cloned();
        *self.keys.write().await = SigningKeys {
            loaded: true,
            by_kid,
        };
        key.ok_or_else(|| rejected("unknown key id"))
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, SignInError> {
        let unreachable = |e: reqwest::Error| {
            tracing::warn!(step = "signing keys", error = %e, "identity provider unreachable");
            SignInError::Unreachable
        };
        let set: JwkSet = self
            .http
            .get(self.jwks_url.clone())
            .timeout(IDP_TIMEOUT)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json()
            .await
            .map_err(unreachable)?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
            })
            .collect())
    }
}

/// Parses an endpoint URL, which must be HTTPS unless it is on this machine (a stand-in for
/// Cognito in tests and lapor-local): the client secret and the tokens travel over it.
fn secure_url(text: &str) -> Result<Url, SignInError> {
    let url = Url::parse(text).map_err(|_| SignInError::Config(format!("{text} is not a URL")))?;
    let loopback = url.host_str().is_some_and(|host| {
        host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(SignInError::Config(format!("{text} is not an HTTPS URL"))),
    }
}

#[derive(Deserialize)]
struct IdpError {
    error: String,
}

/// The identity provider's error code, kept only when it looks like one: it ends up in logs
/// and in the caller's decisions.
fn refused(step: &'static str, code: &str) -> SignInError {
    let code = if (1..=64).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        code
    } else {
        "unrecognised_error"
    };
    tracing::info!(step, error = code, "identity provider refused");
    SignInError::Refused(code.to_owned())
}

/// A token that failed a check; `why` names the check, never the token's content.
fn rejected(why: &'static str) -> SignInError {
    tracing::info!(step = "id token", reason = why, "ID token rejected");
    SignInError::InvalidToken
}

/// A token Cognito has just issued cannot be "expired, go refresh": its clock or ours is wrong.
fn fresh_token_error(e: SignInError) -> SignInError {
    match e {
        SignInError::Expired => rejected("expired on arrival"),
        other => other,
    }
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "signature",
        ErrorKind::InvalidAlgorithm => "algorithm",
        ErrorKind::InvalidIssuer => "issuer",
        ErrorKind::InvalidAudience => "audience",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        ErrorKind::InvalidClaimFormat(_) => "claim format",
        _ => "malformed",
    }
}

/// An access token is signed by the same keys for the same client: only `token_use` tells it
/// from an ID token. The nonce ties a sign-in's token to the browser that started it.
fn check_use_and_nonce(
    claims: &Map<String, Value>,
    nonce: Option<&str>,
) -> Result<(), SignInError> {
    if claims.get("token_use").and_then(Value::as_str) != Some("id") {
        return Err(rejected("token_use"));
    }
    if let Some(expected) = nonce {
        if claims.get("nonce").and_then(Value::as_str) != Some(expected) {
            return Err(rejected("nonce"));
        }
    }
    Ok(())
}

fn claim_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}
