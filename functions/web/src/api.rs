//! The API's routes, called in-process: intake's for the portal, the officer's for the console. A
//! page turns its form into the JSON request an app would send and reads the JSON answer, so
//! every rule (validation, idempotency, limits, privacy of each view, who may do what) is the
//! API's own.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use lambda_http::request::RequestContext;
use serde_json::Value;
use tower::ServiceExt;

use crate::session::Lang;

/// The largest JSON answer read back (a report view with its timeline).
const ANSWER_MAX_BYTES: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct Api {
    routes: Router,
}

/// Who sent the page request, passed on so the API's per-client limit counts the citizen, not
/// the portal.
#[derive(Clone, Default)]
pub struct Caller {
    gateway: Option<RequestContext>,
    peer: Option<ConnectInfo<SocketAddr>>,
}

impl Caller {
    /// A signed-in officer, as API Gateway's JWT authorizer would present their verified token.
    pub fn officer(claims: std::collections::HashMap<String, String>) -> Caller {
        Caller {
            gateway: Some(lapor_http::auth::context_with_claims(claims)),
            peer: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller {
            gateway: parts.extensions.get::<RequestContext>().cloned(),
            peer: parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned(),
        })
    }
}

/// The API's answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// An error the API gave, as its body says it: `{"error": {"code", "message", "message_en",
/// "field"}}`.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: String,
    pub message: String,
    pub message_en: String,
    /// The form field it belongs to (the API's field name without its object, so
    /// `reporter.phone` is `phone`).
    pub field: Option<String>,
}

impl Problem {
    pub fn text(&self, lang: Lang) -> &str {
        lang.t(&self.message, &self.message_en)
    }

    /// One of the core's refusals, in a form's words.
    pub fn from_invalid(invalid: lapor_core::Invalid) -> Problem {
        let field = invalid
            .field
            .as_deref()
            .map(|f| f.rsplit('.').next().unwrap_or(f).to_string());
        Problem {
            code: invalid.code.to_string(),
            message: invalid.message.id,
            message_en: invalid.message.en,
            field,
        }
        .in_form_words()
    }

    pub fn new(code: &str, id: &str, en: &str, field: Option<&str>) -> Problem {
        Problem {
            code: code.into(),
            message: id.into(),
            message_en: en.into(),
            field: field.map(str::to_string),
        }
    }
}

/// A form field as the reader knows it: the label beside it, not the API's field name.
fn field_label(field: &str) -> Option<(&'static str, &'static str)> {
    Some(match field {
        "type" => ("Jenis laporan", "Type of report"),
        "category" => ("Kategori", "Category"),
        "region" => ("Wilayah", "Region"),
        "title" => ("Judul", "Title"),
        "description" => ("Isi laporan", "Description"),
        "address" => ("Alamat atau lokasi", "Address or place"),
        "lat" | "lon" => ("Lokasi", "Location"),
        "privacy" => ("Siapa yang boleh melihat", "Who may see it"),
        "name" => ("Nama", "Name"),
        "phone" => ("Nomor HP", "Mobile number"),
        "email" => ("E-mail", "E-mail"),
        "message" => ("Pesan", "Message"),
        "stars" => ("Bintang", "Stars"),
        "comment" => ("Komentar", "Comment"),
        "tracking_code" => ("Kode pelacakan", "Tracking code"),
        "status" => ("Status", "Status"),
        "resume_date" => ("Tanggal dilanjutkan", "Resume date"),
        "agency" => ("Instansi tujuan", "Receiving agency"),
        "reason" => ("Alasan", "Reason"),
        "access_key" => ("Kunci akses", "Access key"),
        _ => return None,
    })
}

impl Problem {
    /// The API's message in a form's words: "`title`" becomes "“Judul”", and a missing field
    /// says so by its label.
    fn in_form_words(mut self) -> Problem {
        let Some(field) = self.field.clone() else {
            return self;
        };
        let Some((id, en)) = field_label(&field) else {
            return self;
        };
        if self.code == "missing_field" {
            self.message = format!("{id} wajib diisi.");
            self.message_en = format!("{en} is required.");
            return self;
        }
        let quoted = format!("`{field}`");
        self.message = self.message.replace(&quoted, &format!("“{id}”"));
        self.message_en = self.message_en.replace(&quoted, &format!("“{en}”"));
        self
    }
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The API's error, when it refused.
    pub fn problem(&self) -> Option<Problem> {
        if self.ok() {
            return None;
        }
        let error = &self.body["error"];
        let text = |k: &str| error[k].as_str().unwrap_or_default().to_string();
        let problem = Problem {
            code: text("code"),
            message: text("message"),
            message_en: text("message_en"),
            field: error["field"]
                .as_str()
                .map(|f| f.rsplit('.').next().unwrap_or(f).to_string()),
        };
        Some(problem.in_form_words())
    }

    /// A backend failure (the API answered 5xx): the page says "try again", never the cause.
    pub fn failed(&self) -> bool {
        self.status.is_server_error()
    }
}

impl Api {
    pub fn new(intake: lapor_intake::Deps) -> Self {
        Api::over(lapor_intake::routes(intake))
    }

    /// Calls to these routes.
    pub fn over(routes: Router) -> Self {
        Api { routes }
    }

    /// One request to the intake routes.
    pub async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut request = match request.body(body) {
            Ok(request) => request,
            Err(e) => return internal(&e),
        };
        if let Some(context) = &caller.gateway {
            request.extensions_mut().insert(context.clone());
        }
        if let Some(peer) = &caller.peer {
            request.extensions_mut().insert(*peer);
        }
        let response = match self.routes.clone().oneshot(request).await {
            Ok(response) => response,
            Err(e) => match e {},
        };
        let (parts, body) = response.into_parts();
        let body = match axum::body::to_bytes(body, ANSWER_MAX_BYTES).await {
            Ok(bytes) if bytes.is_empty() => Value::Null,
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            Err(e) => return internal(&e),
        };
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl Api {
    /// `GET /reports/{code}`: the reporter's view with their key, the public view without.
    pub async fn report(&self, caller: &Caller, code: &str, key: Option<&str>) -> Answer {
        let path = format!("/reports/{code}");
        match key {
            Some(key) => {
                self.call(caller, Method::GET, &path, &[("x-access-key", key)], None)
                    .await
            }
            None => self.call(caller, Method::GET, &path, &[], None).await,
        }
    }
}

fn internal(cause: &dyn std::fmt::Display) -> Answer {
    tracing::error!(error = %cause, "in-process API call failed");
    Answer {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        headers: HeaderMap::new(),
        body: Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_field_by_its_label_not_its_json_name() {
        let missing = Problem::from_invalid(lapor_core::Invalid::missing("title"));
        assert_eq!(missing.message, "Judul wajib diisi.");
        assert_eq!(missing.message_en, "Title is required.");
        let long = Problem::new(
            "too_long",
            "Kolom `description` harus 20–4000 karakter.",
            "The field `description` must be 20–4000 characters.",
            Some("description"),
        )
        .in_form_words();
        assert_eq!(long.message, "Kolom “Isi laporan” harus 20–4000 karakter.");
        assert_eq!(
            long.message_en,
            "The field “Description” must be 20–4000 characters."
        );
    }
}
