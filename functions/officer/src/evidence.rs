//! `POST /agency/reports/{code}/attachments`: an officer of the assigned agency attaches files to
//! one of the agency's follow-ups (the repaired road, a signed letter), at most five per
//! follow-up. As for reporters, the answer is a short-lived upload URL; the evidence function
//! checks and strips the file before anyone can download it.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use lapor_core::permission::Action;
use lapor_core::{EventKind, Invalid, UploadRequest, Uploader};
use lapor_http::auth::Officer;
use lapor_http::{ApiError, JsonObject};
use serde_json::{Map, Value};

use crate::{load, Deps};

pub async fn attach(
    officer: Officer,
    State(deps): State<Deps>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(files) = deps.files.clone() else {
        return Err(lapor_http::evidence_unavailable());
    };
    let mut body = JsonObject::read(&headers, body).await?.object;
    let asked = follow_up_field(&mut body)?;
    let request = UploadRequest::parse(&body, deps.max_file_bytes)?;
    let (report, relation) = load(&deps, &officer, &code).await?;
    officer.may(Action::FollowUp, relation)?;
    let follow_up = follow_up_of(&deps, &officer, &report, asked).await?;
    let uploader = Uploader::Agency {
        agency: officer.agency.clone(),
        follow_up,
    };
    let now = deps.clock.now();
    lapor_http::offer_upload(
        files.as_ref(),
        deps.reports.as_ref(),
        &report,
        uploader,
        request,
        now,
    )
    .await
}

/// The optional `follow_up` field: the timeline position of the follow-up the files belong to.
fn follow_up_field(body: &mut Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match body.remove("follow_up") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(_) => Err(Invalid::field(
            "follow_up",
            "invalid_type",
            "Kolom `follow_up` harus nomor urut tindak lanjut pada linimasa.",
            "The field `follow_up` must be the follow-up's position on the timeline.",
        )
        .into()),
    }
}

/// The agency's follow-up the files go with: the one asked for, or its latest.
async fn follow_up_of(
    deps: &Deps,
    officer: &Officer,
    report: &lapor_core::Report,
    asked: Option<u64>,
) -> Result<u64, ApiError> {
    let timeline = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await?
        .map(|r| r.timeline)
        .unwrap_or_default();
    let own = timeline
        .iter()
        .filter(|e| e.kind == EventKind::FollowUp && e.agency.as_ref() == Some(&officer.agency));
    let found = match asked {
        Some(seq) => own.filter(|e| e.seq == seq).map(|e| e.seq).next(),
        None => own.map(|e| e.seq).max(),
    };
    found.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no_follow_up",
            "Lampiran instansi menyertai tindak lanjut instansi Anda: kirim tindak lanjut dahulu (atau sebutkan `follow_up` yang benar).",
            "An agency's files go with one of its follow-ups: post a follow-up first (or name the right `follow_up`).",
        )
        .with_field("follow_up")
    })
}
