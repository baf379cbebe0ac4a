//! What the officer function's handler tests share: the sample report they file and the claims
//! the JWT authorizer would put on an officer's request.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Utc};
use lapor_core::{Channel, Deadlines, KeyPepper, Report, ReportDraft, Role};
use lapor_http::auth::{context_with_claims, CLAIM_AGENCY, CLAIM_ROLE};
use lapor_store::{file_report, Filed, MemStore};
use serde_json::json;

/// A report filed on the web at `at` by a named reporter, for everyone to see (a pothole in
/// Kota Cirebon).
pub async fn file_public(store: &MemStore, at: DateTime<Utc>) -> Report {
    let json = json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
    });
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid report");
    let pepper = KeyPepper::new(b"handler-test-pepper-of-32-bytes!".to_vec()).expect("pepper");
    let filed = file_report(
        store,
        &new,
        None,
        &pepper.into(),
        &Deadlines::indonesia(),
        at,
    )
    .await
    .expect("filed");
    let Filed::Created { report, .. } = filed else {
        panic!("no idempotency key, so always created");
    };
    *report
}

/// `request` as an officer of `agency` with `role` sends it, once API Gateway has checked the
/// token.
pub fn as_officer(mut request: Request<Body>, role: Role, agency: &str) -> Request<Body> {
    let claims = HashMap::from([
        ("sub".to_string(), format!("petugas-{agency}")),
        (CLAIM_AGENCY.to_string(), agency.to_string()),
        (CLAIM_ROLE.to_string(), role.as_str().to_string()),
    ]);
    request.extensions_mut().insert(context_with_claims(claims));
    request
}
