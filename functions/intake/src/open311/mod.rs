//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>), the read side: discovery, the
//! service list (one service per category), service definitions, and public requests. Every
//! resource comes as `.json` and `.xml`; errors too, in the specification's own shape
//! (`[{"code", "description"}]`), not the rest of the API's, because Open311 clients parse it.

mod document;
mod requests;
mod services;

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
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
}

impl Failure {
    fn new(status: StatusCode, id: &str, en: &str) -> Self {
        Self {
            status,
            description: format!("{id} / {en}"),
        }
    }

    fn bad_request(id: &str, en: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, id, en)
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
        answer(
            format,
            self.status,
            "errors",
            &Node::List("error", vec![Node::Record(error)]),
        )
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
