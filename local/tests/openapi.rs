//! The OpenAPI document: `docs/openapi.json` is what the handlers' annotations generate, and it
//! is what the API serves at `/openapi.json`. `LAPOR_WRITE_OPENAPI=1 cargo test -p lapor-local
//! --test openapi` rewrites the file after a change to the API.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use tower::ServiceExt;

const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

#[test]
fn docs_copy_is_what_the_code_generates() {
    let generated = lapor_local::openapi_json().expect("the document serialises");
    if std::env::var_os("LAPOR_WRITE_OPENAPI").is_some() {
        std::fs::write(DOCUMENT, &generated).expect("docs/openapi.json is writable");
    }
    let kept = std::fs::read_to_string(DOCUMENT).expect("docs/openapi.json exists");
    assert!(
        kept == generated,
        "docs/openapi.json is not what the code generates: run \
         `LAPOR_WRITE_OPENAPI=1 cargo test -p lapor-local --test openapi` and commit it"
    );
}

#[test]
fn document_describes_every_route_with_the_shared_parts() {
    let api = lapor_local::openapi();
    let json = serde_json::to_value(&api).expect("serialises");
    assert_eq!(json["openapi"], "3.1.0");
    let paths = json["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/reports", "post"),
        ("/reports/{code}", "get"),
        ("/reports/{code}/replies", "post"),
        ("/reports/{code}/rating", "post"),
        ("/reports/{code}/attachments", "post"),
        ("/stats", "get"),
        ("/categories", "get"),
        ("/regions", "get"),
        ("/admin/triage", "get"),
        ("/admin/dashboard", "get"),
        ("/agency/dashboard", "get"),
        ("/agency/reports", "get"),
        ("/agency/reports/{code}", "get"),
        ("/agency/reports/{code}/attachments", "post"),
        ("/reports/{code}/followups", "post"),
        ("/reports/{code}/forward", "post"),
        ("/reports/{code}/return", "post"),
    ] {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} is not described");
        let statuses = operation["responses"].as_object().expect("responses");
        assert!(statuses.contains_key("500") && statuses.contains_key("503"));
        let officer = path.starts_with("/admin")
            || path.starts_with("/agency")
            || ["followups", "forward", "return"]
                .iter()
                .any(|end| path.ends_with(end));
        assert_eq!(
            operation["security"].is_array(),
            officer,
            "{method} {path}: only officer routes need the bearer token"
        );
        if officer {
            assert!(statuses.contains_key("401"), "{method} {path} lacks 401");
        }
        let headers = &statuses["500"]["headers"];
        assert!(headers["x-request-id"].is_object());
        assert!(headers["Retry-After"].is_null());
        assert!(statuses["503"]["headers"]["Retry-After"].is_object());
    }
    assert_eq!(
        json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let submit = &paths["/reports"]["post"];
    let params: Vec<&str> = submit["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(params.contains(&"Idempotency-Key") && params.contains(&"x-request-id"));
    assert!(submit["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
    assert!(paths["/reports/{code}"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .any(|p| p["name"] == "X-Access-Key"));
}

#[tokio::test]
async fn served_document_is_the_docs_copy() {
    let config =
        lapor_local::Cli::try_parse_from(["lapor-local", "--ephemeral", "--addr", "127.0.0.1:0"])
            .expect("arguments")
            .config;
    let local = lapor_local::build(&config)
        .await
        .expect("lapor-local builds");
    let response = local
        .router
        .oneshot(
            Request::get("/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let kept = std::fs::read(DOCUMENT).expect("docs/openapi.json exists");
    assert_eq!(body.as_ref(), kept.as_slice());
}
