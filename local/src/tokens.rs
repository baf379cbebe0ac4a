//! Officer tokens for lapor-local: signed here with a local secret (HS256) and verified by a
//! layer that puts their claims into the request exactly where API Gateway's JWT authorizer puts
//! a Cognito token's claims, so the officer handlers cannot tell the difference.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lapor_core::{AgencyId, Role};
use lapor_http::auth::{context_with_claims, CLAIM_AGENCY, CLAIM_ROLE};
use lapor_http::ApiError;
use serde::{Deserialize, Serialize};

const ISSUER: &str = "lapor-local";

#[derive(Clone)]
pub struct LocalTokens {
    secret: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    iat: i64,
    exp: i64,
    #[serde(rename = "custom:agency_id")]
    agency: String,
    #[serde(rename = "custom:role")]
    role: String,
}

impl LocalTokens {
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret }
    }

    /// A token for an officer of `agency` with `role`, valid for `hours`.
    pub fn issue(
        &self,
        subject: &str,
        agency: &AgencyId,
        role: Role,
        hours: i64,
    ) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_string(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + hours * 3600,
            agency: agency.to_string(),
            role: role.as_str().into(),
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .map_err(|e| e.to_string())
    }

    fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        let data =
            decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &validation).ok()?;
        let c = data.claims;
        Some(HashMap::from([
            ("sub".to_string(), c.sub),
            (CLAIM_AGENCY.to_string(), c.agency),
            (CLAIM_ROLE.to_string(), c.role),
        ]))
    }
}

/// How long a console sign-in lasts: a working day; signing in again is one click.
const CONSOLE_TOKEN_HOURS: i64 = 12;

/// The console's local sign-in signs the same tokens `lapor-local token` prints.
impl lapor_web::console::LocalSignIn for LocalTokens {
    fn issue(&self, subject: &str, agency: &AgencyId, role: Role) -> Result<String, String> {
        LocalTokens::issue(self, subject, agency, role, CONSOLE_TOKEN_HOURS)
    }

    fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        LocalTokens::verify(self, token)
    }
}

/// Verifies a bearer token when one is sent (like API Gateway, a bad token never reaches a
/// handler); requests without one go on, and officer routes answer them 401.
pub async fn authenticate(
    State(tokens): State<LocalTokens>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return next.run(request).await;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match token.and_then(|t| tokens.verify(t)) {
        Some(claims) => {
            request.extensions_mut().insert(context_with_claims(claims));
            next.run(request).await
        }
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "Token petugas tidak valid atau sudah kedaluwarsa.",
            "The officer token is not valid or has expired.",
        )
        .into_response(),
    }
}
