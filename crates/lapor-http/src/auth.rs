//! Who is calling an officer route. In AWS the HTTP API's JWT authorizer has already verified the
//! Cognito token and put its claims in the request context; lapor-local verifies its own tokens
//! and puts the same claims in the same place ([`context_with_claims`]), so handlers read them one
//! way everywhere.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use lapor_core::permission::{self, Action, Refusal, Relation};
use lapor_core::{Actor, AgencyId, Hop, Role};

use crate::ApiError;

pub const CLAIM_AGENCY: &str = "custom:agency_id";
pub const CLAIM_ROLE: &str = "custom:role";

/// An authenticated officer or admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub subject: String,
    pub agency: AgencyId,
    pub role: Role,
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Masuk terlebih dahulu: kirim token petugas di header Authorization.",
        "Sign in first: send an officer token in the Authorization header.",
    )
}

pub fn forbidden(id: impl Into<String>, en: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", id, en)
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.message();
        forbidden(message.id, message.en)
    }
}

impl Officer {
    /// This officer acting, as the timeline records it.
    pub fn hop(&self, message: Option<String>) -> Hop {
        let actor = match self.role {
            Role::AdminPusat => Actor::AdminPusat,
            Role::AgencyAdmin => Actor::AgencyAdmin,
            Role::Officer => Actor::Officer,
        };
        Hop {
            actor,
            by: Some(self.agency.clone()),
            message,
        }
    }

    /// Whether the policy lets this officer take `action` on a report that is `relation` to
    /// their agency; the refusal as a 403 otherwise.
    pub fn may(&self, action: Action, relation: Relation) -> Result<(), ApiError> {
        Ok(permission::check(self.role, action, relation)?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Officer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let claims = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        }
        .ok_or_else(unauthenticated)?;
        Officer::from_claims(claims)
    }
}

impl Officer {
    /// The officer a verified token's claims name: `401` without a subject, `403` for an account
    /// that has no agency and role yet.
    pub fn from_claims(claims: &HashMap<String, String>) -> Result<Officer, ApiError> {
        let subject = claims.get("sub").cloned().ok_or_else(unauthenticated)?;
        let role = claims.get(CLAIM_ROLE).and_then(|r| Role::parse(r));
        let agency = claims
            .get(CLAIM_AGENCY)
            .and_then(|a| AgencyId::parse(a).ok());
        match (role, agency) {
            (Some(role), Some(agency)) => Ok(Officer {
                subject,
                agency,
                role,
            }),
            _ => Err(forbidden(
                "Akun ini belum memiliki instansi dan peran petugas.",
                "This account has no agency and officer role.",
            )),
        }
    }
}

/// The request context API Gateway builds for a verified JWT with these claims.
pub fn context_with_claims(claims: HashMap<String, String>) -> RequestContext {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    RequestContext::ApiGatewayV2(context)
}
