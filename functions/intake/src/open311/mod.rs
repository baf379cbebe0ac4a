//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>): discovery, the service list
//! (one service per category), service definitions, public requests, and, for partner apps with
//! an operator-issued key, new requests and their tokens. Every resource comes as `.json` and
//! `.xml`; errors too, in the specification's own shape (`[{"code", "description"}]`), not the
//! rest of the API's, because Open311 clients parse it.

mod document;
mod requests;
mod services;
mod submit;
mod tokens;

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use lapor_core::Invalid;
use lapor_store::{Conflict, StoreError};

use crate::Deps;
use document::{answer, Format, Node, Record};

/// `GET /open311/v2/{discovery|services|requests}.{json|xml}`.
pub async fn resource(
    State(deps): State<Deps>,
    Path(file): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some((name, format)) = Format::split(&file) else {
        return Failure::unknown_resource().into_answer(Format::Json);
    };
    let result = match name {
        "discovery" => Ok(services::discovery(&headers)),
        "services" => Ok(services::list()),
        "requests" => requests::list(&deps, &query).await,
        _ => Err(Failure::unknown_resource()),
    };
    respond(format, result)
}

/// `GET /open311/v2/services/{service_code}.{json|xml}`.
pub async fn service(Path(file): Path<String>) -> Response {
    let Some((code, format)) = Format::split(&file) else {
        return Failure::unknown_resource().into_answer(Format::Json);
    };
    respond(format, services::definition(code))
}

/// `GET /open311/v2/requests/{service_request_id}.{json|xml}`.
pub async fn request(State(deps): State<Deps>, Path(file): Path<String>) -> Response {
    let Some((id, format)) = Format::split(&file) else {
        return Failure::unknown_resource().into_answer(Format::Json);
    };
    respond(format, requests::one(&deps, id).await)
}

/// `POST /open311/v2/requests.{json|xml}`: a partner app files a service request (form fields,
/// `api_key` among them). Success is `200`, as the specification shows; nothing here may be
/// cached, since the answer holds the reporter's access key.
pub async fn submit(
    State(deps): State<Deps>,
    Path(file): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (result, format) = match Format::split(&file) {
        Some(("requests", format)) => {
            let result = match form {
                Ok(Form(pairs)) => submit::file(&deps, pairs).await,
                Err(_) => Err(Failure::bad_request(
                    "Kirim isian sebagai application/x-www-form-urlencoded.",
                    "Send the fields as application/x-www-form-urlencoded.",
                )),
            };
            (result, format)
        }
        Some((_, format)) => (Err(Failure::unknown_resource()), format),
        None => (Err(Failure::unknown_resource()), Format::Json),
    };
    let mut response = respond(format, result);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /open311/v2/tokens/{token}.{json|xml}`.
pub async fn token(State(deps): State<Deps>, Path(file): Path<String>) -> Response {
    let Some((token, format)) = Format::split(&file) else {
        return Failure::unknown_resource().into_answer(Format::Json);
    };
    respond(format, tokens::lookup(&deps, token).await)
}

/// What a resource answers: its XML root element and its content.
type Answer = (&'static str, Node);

fn respond(format: Format, result: Result<Answer, Failure>) -> Response {
    match result {
        Ok((root, node)) => answer(format, StatusCode::OK, root, &node),
        Err(failure) => failure.into_answer(format),
    }
}

/// A refused request, in the specification's error shape. `description` carries Indonesian
/// first and English beside, as every Lapor message does.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    status: StatusCode,
    description: String,
    /// Seconds until a refused client may try again (a `Retry-After` header).
    retry_after: Option<u32>,
}

impl Failure {
    fn new(status: StatusCode, id: &str, en: &str) -> Self {
        Self {
            status,
            description: format!("{id} / {en}"),
            retry_after: None,
        }
    }

    fn bad_request(id: &str, en: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, id, en)
    }

    /// A missing, unknown or revoked `api_key`.
    fn forbidden(id: &str, en: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, id, en)
    }

    fn too_many(id: &str, en: &str, retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, id, en)
        }
    }

    fn unknown_resource() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Sumber daya Open311 tidak dikenal; gunakan discovery, services atau requests dengan akhiran .json atau .xml.",
            "Unknown Open311 resource; use discovery, services or requests ending in .json or .xml.",
        )
    }

    /// A report that does not exist and one the public may not see answer alike, so an id
    /// reveals nothing.
    fn no_such_request() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Laporan tidak ditemukan.",
            "Request not found.",
        )
    }

    fn into_answer(self, format: Format) -> Response {
        let error = Record::new()
            .with("code", Node::Int(i64::from(self.status.as_u16())))
            .with("description", Node::text(self.description));
        let mut response = answer(
            format,
            self.status,
            "errors",
            &Node::List("error", vec![Node::Record(error)]),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<Invalid> for Failure {
    fn from(e: Invalid) -> Self {
        Self::bad_request(&e.message.id, &e.message.en)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(Conflict::BadCursor) => {
                Self::bad_request("Halaman tidak valid.", "The page is not valid.")
            }
            StoreError::Busy(cause) => {
                tracing::warn!(error = %cause, "backend busy; the client is asked to retry");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sistem sedang sibuk. Silakan coba lagi sebentar lagi.",
                    "The system is busy. Please try again shortly.",
                )
            }
            other => {
                tracing::error!(error = %other, "backend failure");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Terjadi gangguan pada sistem. Silakan coba lagi beberapa saat lagi.",
                    "Something went wrong on our side. Please try again shortly.",
                )
            }
        }
    }
}
