//! Evidence on the wire (issue 16): a reporter asks for an upload URL, puts the file into S3
//! (moto) with it, the evidence function handles the upload event, and the reporter downloads the
//! clean file through a presigned URL. The files carry what a phone or an office program leaves
//! (GPS, camera serial, XMP, comments, PDF author); none of it may come back.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Duration, Utc};
use lapor_core::{Deadlines, FixedClock, KeyPepper};
use lapor_evidence_function::{handle_event, Handled, UploadEvent};
use lapor_files::S3Files;
use lapor_store::Stores;
use lapor_tests::{as_officer, directory_table, moto_config, pothole_json, send, unique_name};
use serde_json::{json, Value};

#[path = "../../crates/lapor-evidence/tests/common/mod.rs"]
mod fixtures;

struct World {
    intake: axum::Router,
    officers: axum::Router,
    evidence: lapor_evidence_function::Deps,
    s3: aws_sdk_s3::Client,
    bucket: String,
    now: DateTime<Utc>,
}

async fn world(config: &aws_config::SdkConfig, prefix: &str) -> World {
    let (store, _) = directory_table(config, prefix).await;
    let bucket = unique_name("evidence")
        .to_ascii_lowercase()
        .replace('_', "-");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    "ap-southeast-3",
                ))
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    let files = Arc::new(S3Files::new(config, &bucket));
    // Presigned URLs are checked against the real time, so the clock is today.
    let now = Utc::now();
    let clock = Arc::new(FixedClock::new(now));
    let stores = Stores::of(store);
    let intake = lapor_intake::router(
        lapor_intake::Deps::new(
            &stores,
            clock.clone(),
            Deadlines::indonesia(),
            KeyPepper::new(vec![5; 32]).expect("pepper"),
        )
        .with_files(
            files.clone(),
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        ),
    );
    let officers = lapor_officer::router(
        lapor_officer::Deps::new(&stores, clock.clone(), Deadlines::indonesia()).with_files(
            files.clone(),
            lapor_core::attachment::DEFAULT_MAX_FILE_BYTES,
        ),
    );
    let evidence = lapor_evidence_function::Deps::new(
        &stores,
        files,
        clock,
        lapor_evidence::Limits::default(),
    );
    World {
        intake,
        officers,
        evidence,
        s3,
        bucket,
        now,
    }
}

fn post(path: &str, key: Option<&str>, body: Value) -> Request<Body> {
    let mut request = Request::post(path).header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("x-access-key", key);
    }
    request.body(Body::from(body.to_string())).expect("request")
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header("x-access-key", key);
    }
    request.body(Body::empty()).expect("request")
}

/// Files the pothole report with `privacy`; its code and access key.
async fn file_report(w: &World, privacy: &str) -> (String, String) {
    let mut body = pothole_json();
    body["privacy"] = json!(privacy);
    let (status, receipt) = send(&w.intake, post("/reports", None, body)).await;
    assert_eq!(status, 201, "{receipt}");
    (
        receipt["tracking_code"].as_str().expect("code").to_string(),
        receipt["access_key"].as_str().expect("key").to_string(),
    )
}

/// The reporter (with `key`) asks for an upload with `body`.
async fn ask(w: &World, code: &str, key: &str, body: Value) -> (u16, Value) {
    send(
        &w.intake,
        post(&format!("/reports/{code}/attachments"), Some(key), body),
    )
    .await
}

/// Uploads `bytes` as an upload offer says: its URL, method and headers.
async fn put_offered(offer: &Value, bytes: &[u8]) {
    let url = offer["upload"]["url"].as_str().expect("url");
    assert_eq!(offer["upload"]["method"], "PUT");
    let mut put = reqwest::Client::new().put(url).body(bytes.to_vec());
    for (name, value) in offer["upload"]["headers"].as_object().expect("headers") {
        // reqwest sets the length from the body.
        if name != "content-length" {
            put = put.header(name, value.as_str().expect("header value"));
        }
    }
    let response = put.send().await.expect("upload");
    assert!(response.status().is_success(), "{}", response.status());
}

/// Asks for an upload URL for `bytes` declared as `content_type`, and uploads them with it.
async fn upload(w: &World, code: &str, key: &str, content_type: &str, bytes: &[u8]) -> Value {
    let asked = json!({"filename": "IMG_20261130_budi_santoso.jpg", "content_type": content_type, "size": bytes.len()});
    let (status, offer) = ask(w, code, key, asked).await;
    assert_eq!(status, 201, "{offer}");
    assert!(
        !offer.to_string().contains("budi"),
        "the file name is not kept: {offer}"
    );
    put_offered(&offer, bytes).await;
    offer
}

/// Uploads `bytes` and has the evidence function handle them; the attachment's id.
async fn upload_ready(
    w: &World,
    code: &str,
    key: &str,
    content_type: &str,
    bytes: &[u8],
) -> String {
    let offer = upload(w, code, key, content_type, bytes).await;
    let id = offer["id"].as_str().expect("id").to_string();
    let handled = process(w, code, &id, w.now).await;
    assert!(matches!(handled, Handled::Ready { .. }), "{handled:?}");
    id
}

/// What EventBridge hands the evidence function for an object created at `at`.
fn created(w: &World, key: &str, at: DateTime<Utc>) -> UploadEvent {
    serde_json::from_value(json!({
        "version": "0", "id": "e", "detail-type": "Object Created", "source": "aws.s3",
        "time": at.to_rfc3339(), "region": "ap-southeast-3", "resources": [],
        "detail": {"bucket": {"name": w.bucket}, "object": {"key": key}}
    }))
    .expect("event")
}

async fn process(w: &World, code: &str, id: &str, at: DateTime<Utc>) -> Handled {
    let key = format!("quarantine/{code}/{id}");
    handle_event(&w.evidence, &created(w, &key, at))
        .await
        .expect("handled")
}

async fn exists(w: &World, key: &str) -> bool {
    w.s3.head_object()
        .bucket(&w.bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

/// The reporter's view of the attachment `id`.
async fn attachment(w: &World, code: &str, key: &str, id: &str) -> Value {
    let (status, view) = send(&w.intake, get(&format!("/reports/{code}"), Some(key))).await;
    assert_eq!(status, 200, "{view}");
    view["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {view}"))
}

async fn download(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.expect("download");
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.expect("bytes").to_vec()
}

#[tokio::test]
async fn a_reporters_photo_png_and_pdf_come_back_without_metadata_and_upright() {
    let Some(config) = moto_config().await else {
        return;
    };
    let w = world(&config, "evidence-clean").await;
    let (code, key) = file_report(&w, "publik").await;

    // A JPEG with GPS, a camera serial number, XMP, a comment, and "rotate 90° to display".
    let jpeg = fixtures::jpeg_with_metadata();
    assert!(fixtures::contains(&jpeg, fixtures::SERIAL.as_bytes()));
    let offer = upload(&w, &code, &key, "image/jpeg", &jpeg).await;
    let id = offer["id"].as_str().expect("id");
    let quarantined = format!("quarantine/{code}/{id}");
    assert!(
        exists(&w, &quarantined).await,
        "the upload is in quarantine"
    );
    let listed = attachment(&w, &code, &key, id).await;
    assert_eq!(listed["status"], "processing");
    assert!(
        listed.get("download_url").is_none(),
        "nothing to download yet: {listed}"
    );

    let handled = process(&w, &code, id, w.now).await;
    assert!(matches!(handled, Handled::Ready { .. }), "{handled:?}");
    assert!(!exists(&w, &quarantined).await, "the original is deleted");
    let listed = attachment(&w, &code, &key, id).await;
    assert_eq!(listed["status"], "ready", "{listed}");
    let bytes = download(listed["download_url"].as_str().expect("url")).await;
    fixtures::assert_clean(&bytes);
    assert_eq!(
        listed["sha256"].as_str(),
        Some(lapor_store::sha256_hex(&[&bytes]).as_str()),
        "the recorded hash is the clean file's"
    );
    let image = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
    assert_eq!(image.dimensions(), (20, 40), "turned upright");
    // The red corner was top-left; a quarter turn clockwise puts it top-right.
    let [r, _, b] = image.get_pixel(17, 2).0;
    assert!(r > 200 && b < 60, "top-right is red: {r},{b}");
    let [r, _, b] = image.get_pixel(2, 37).0;
    assert!(r < 60 && b > 200, "bottom-left is blue: {r},{b}");

    // The same request twice changes nothing (a repeated event).
    assert_eq!(process(&w, &code, id, w.now).await, Handled::Ignored);

    // A PNG with text chunks and an eXIf chunk.
    let png = fixtures::png_with_metadata();
    let id = upload_ready(&w, &code, &key, "image/png", &png).await;
    let listed = attachment(&w, &code, &key, &id).await;
    let bytes = download(listed["download_url"].as_str().expect("url")).await;
    fixtures::assert_clean(&bytes);
    let chunks = fixtures::png_chunk_types(&bytes);
    for chunk in ["tEXt", "iTXt", "zTXt", "eXIf"] {
        assert!(!chunks.iter().any(|c| c == chunk), "{chunk} in {chunks:?}");
    }
    image::load_from_memory(&bytes).expect("decodes");

    // A PDF with an author in its Info dictionary and XMP metadata.
    let pdf = fixtures::pdf_with_metadata();
    assert!(fixtures::contains(&pdf, fixtures::NAME.as_bytes()));
    let id = upload_ready(&w, &code, &key, "application/pdf", &pdf).await;
    let listed = attachment(&w, &code, &key, &id).await;
    assert_eq!(listed["content_type"], "application/pdf");
    let bytes = download(listed["download_url"].as_str().expect("url")).await;
    fixtures::assert_clean(&bytes);
    let document = lopdf::Document::load_mem(&bytes).expect("loads");
    assert!(document.trailer.get(b"Info").is_err(), "no Info dictionary");
    assert_eq!(document.get_pages().len(), 1);

    // The public view lists no file of the reporter's; the reporter's timeline has each one.
    let (status, public) = send(&w.intake, get(&format!("/reports/{code}"), None)).await;
    assert_eq!(status, 200);
    assert_eq!(public["attachments"], json!([]), "{public}");
    let (_, own) = send(&w.intake, get(&format!("/reports/{code}"), Some(&key))).await;
    let evidence_entries = own["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "evidence")
        .count();
    assert_eq!(evidence_entries, 3);
    assert!(
        !public["timeline"].to_string().contains("evidence"),
        "a reporter's evidence is not on the public timeline"
    );
}

#[tokio::test]
async fn refused_files_leave_a_reason_and_nothing_else() {
    let Some(config) = moto_config().await else {
        return;
    };
    let w = world(&config, "evidence-refused").await;
    let (code, key) = file_report(&w, "publik").await;

    // An HTML page named .jpg and declared image/jpeg.
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>".to_vec();
    let offer = upload(&w, &code, &key, "image/jpeg", &html).await;
    let id = offer["id"].as_str().expect("id").to_string();
    let handled = process(&w, &code, &id, w.now).await;
    assert_eq!(
        handled,
        Handled::Rejected(lapor_core::Rejection::NotAllowedType)
    );
    let listed = attachment(&w, &code, &key, &id).await;
    assert_eq!(listed["status"], "rejected");
    assert_eq!(listed["rejection"]["code"], "file_type_not_allowed");
    assert!(listed["rejection"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("JPEG")));
    assert!(listed.get("download_url").is_none());
    assert!(!exists(&w, &format!("quarantine/{code}/{id}")).await);
    assert!(
        !exists(&w, &format!("evidence/{code}/{id}")).await,
        "nothing kept"
    );

    // A pixel bomb: a tiny PNG that claims 50,000 × 50,000 pixels.
    let bomb = fixtures::png_bomb(50_000, 50_000);
    let offer = upload(&w, &code, &key, "image/png", &bomb).await;
    let id = offer["id"].as_str().expect("id").to_string();
    assert_eq!(
        process(&w, &code, &id, w.now).await,
        Handled::Rejected(lapor_core::Rejection::TooManyPixels)
    );

    // Uploaded after the URL expired (moto does not check a presigned URL's expiry; the
    // function checks the upload's time against the request's).
    let offer = upload(
        &w,
        &code,
        &key,
        "image/jpeg",
        &fixtures::jpeg_with_metadata(),
    )
    .await;
    let id = offer["id"].as_str().expect("id").to_string();
    assert_eq!(
        process(&w, &code, &id, w.now + Duration::minutes(12)).await,
        Handled::Rejected(lapor_core::Rejection::UploadExpired)
    );
    assert!(!exists(&w, &format!("evidence/{code}/{id}")).await);

    // More bytes than announced (S3 refuses them by the signed length; moto does not).
    let small = fixtures::jpeg_with_metadata();
    let (status, offer) = ask(
        &w,
        &code,
        &key,
        json!({"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}),
    )
    .await;
    assert_eq!(status, 201);
    let id = offer["id"].as_str().expect("id").to_string();
    w.s3.put_object()
        .bucket(&w.bucket)
        .key(format!("quarantine/{code}/{id}"))
        .body(small.into())
        .send()
        .await
        .expect("put");
    assert_eq!(
        process(&w, &code, &id, w.now).await,
        Handled::Rejected(lapor_core::Rejection::SizeMismatch)
    );

    // Over the size limit: refused before any URL is given.
    let (status, error) = ask(&w, &code, &key, json!({"filename": "big.pdf", "content_type": "application/pdf", "size": 10 * 1024 * 1024 + 1})).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["code"], "file_too_large");

    // A wrong access key: 404, as for a report that does not exist.
    let (status, _) = ask(
        &w,
        &code,
        "0000000000000000000000000a",
        json!({"filename": "a.jpg", "content_type": "image/jpeg", "size": 10}),
    )
    .await;
    assert_eq!(status, 404);

    // Five live files at most: the refused ones above freed their places.
    let (_, view) = send(&w.intake, get(&format!("/reports/{code}"), Some(&key))).await;
    let live = view["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .filter(|a| a["status"] != "rejected")
        .count();
    assert_eq!(live, 0);
    for n in 0..5 {
        let (status, offer) = ask(
            &w,
            &code,
            &key,
            json!({"filename": format!("{n}.jpg"), "content_type": "image/jpeg", "size": 100}),
        )
        .await;
        assert_eq!(status, 201, "{offer}");
    }
    let (status, error) = ask(
        &w,
        &code,
        &key,
        json!({"filename": "6.jpg", "content_type": "image/jpeg", "size": 100}),
    )
    .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "too_many_files");
    assert_eq!(error["error"]["max"], 5);
}

#[tokio::test]
async fn a_rahasia_reports_files_need_its_key_and_download_urls_expire_in_minutes() {
    let Some(config) = moto_config().await else {
        return;
    };
    let w = world(&config, "evidence-rahasia").await;
    let (code, key) = file_report(&w, "rahasia").await;
    let offer = upload(
        &w,
        &code,
        &key,
        "image/jpeg",
        &fixtures::jpeg_with_metadata(),
    )
    .await;
    let id = offer["id"].as_str().expect("id");
    let expires: DateTime<Utc> = offer["expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("expires_at");
    assert!(expires <= w.now + Duration::minutes(10) && expires > w.now);
    assert!(matches!(
        process(&w, &code, id, w.now).await,
        Handled::Ready { .. }
    ));

    let (status, _) = send(&w.intake, get(&format!("/reports/{code}"), None)).await;
    assert_eq!(status, 404, "no public view, so no file");
    let listed = attachment(&w, &code, &key, id).await;
    let url = listed["download_url"].as_str().expect("url");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert!(
        url.contains("response-content-disposition=attachment"),
        "served as a download, never rendered: {url}"
    );
    let expires: DateTime<Utc> = listed["download_expires_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("download_expires_at");
    assert!(
        (expires - (w.now + lapor_files::DOWNLOAD_TTL))
            .num_seconds()
            .abs()
            <= 1,
        "{expires}"
    );
    fixtures::assert_clean(&download(url).await);
    // The object itself is not public: without a signature S3 refuses it.
    let bare = url.split('?').next().expect("path");
    let status = reqwest::get(bare).await.expect("request").status();
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn the_assigned_agency_attaches_to_its_follow_up_and_no_other_agency_reaches_the_files() {
    use lapor_core::Role;
    let Some(config) = moto_config().await else {
        return;
    };
    let w = world(&config, "evidence-agency").await;
    let (code, key) = file_report(&w, "publik").await;
    let dpupr = "kota-cirebon-dpupr";
    let reporter_id = upload_ready(
        &w,
        &code,
        &key,
        "image/jpeg",
        &fixtures::jpeg_with_metadata(),
    )
    .await;

    // The central admin forwards it to the city's public works, which answers.
    let (status, answer) = send(
        &w.officers,
        as_officer(
            post(
                &format!("/reports/{code}/forward"),
                None,
                json!({"agency": dpupr}),
            ),
            "kemenpanrb",
            Role::AdminPusat,
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let attach = |agency: &str, role: Role, body: Value| {
        as_officer(
            post(&format!("/agency/reports/{code}/attachments"), None, body),
            agency,
            role,
        )
    };
    let photo = fixtures::jpeg_with_metadata();
    let asked = json!({"filename": "jalan-sudah-diperbaiki.jpg", "content_type": "image/jpeg", "size": photo.len()});
    let (status, error) = send(&w.officers, attach(dpupr, Role::Officer, asked.clone())).await;
    assert_eq!(status, 409, "no follow-up yet: {error}");
    assert_eq!(error["error"]["code"], "no_follow_up");
    let (status, answer) = send(
        &w.officers,
        as_officer(
            post(
                &format!("/reports/{code}/followups"),
                None,
                json!({"status": "diproses", "message": "Lubang sudah ditambal."}),
            ),
            dpupr,
            Role::Officer,
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    // Another agency: the same 404 as for a code that does not exist.
    for other in ["kota-bandung", "kota-cirebon-dinkes"] {
        let (status, _) = send(&w.officers, attach(other, Role::AgencyAdmin, asked.clone())).await;
        assert_eq!(status, 404, "{other}");
        let (status, _) = send(
            &w.officers,
            as_officer(
                get(&format!("/agency/reports/{code}"), None),
                other,
                Role::AgencyAdmin,
            ),
        )
        .await;
        assert_eq!(status, 404, "{other}");
    }

    let (status, offer) = send(&w.officers, attach(dpupr, Role::Officer, asked)).await;
    assert_eq!(status, 201, "{offer}");
    put_offered(&offer, &photo).await;
    let agency_id = offer["id"].as_str().expect("id").to_string();
    assert!(matches!(
        process(&w, &code, &agency_id, w.now).await,
        Handled::Ready { .. }
    ));

    // The agency sees and downloads both files, the reporter's stripped of what named them.
    let (status, view) = send(
        &w.officers,
        as_officer(
            get(&format!("/agency/reports/{code}"), None),
            dpupr,
            Role::Officer,
        ),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let files = view["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2, "{view}");
    for file in files {
        assert_eq!(file["status"], "ready");
        fixtures::assert_clean(&download(file["download_url"].as_str().expect("url")).await);
    }
    assert!(
        files
            .iter()
            .any(|f| f["id"] == reporter_id.as_str() && f["by"] == "reporter"),
        "{view}"
    );
    let by_agency = files
        .iter()
        .find(|f| f["id"] == agency_id.as_str())
        .expect("agency file");
    assert_eq!(by_agency["by"], "agency");
    assert_eq!(by_agency["agency"], dpupr);

    // The public view of this publik report lists the agency's file, never the reporter's.
    let (_, public) = send(&w.intake, get(&format!("/reports/{code}"), None)).await;
    let listed: Vec<&str> = public["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(listed, [agency_id.as_str()], "{public}");
}

/// GuardDuty's verdict on an upload, as EventBridge delivers it when the stack scans uploads.
fn scanned(w: &World, key: &str, status: &str) -> UploadEvent {
    serde_json::from_value(json!({
        "version": "0", "id": "s", "source": "aws.guardduty", "region": "ap-southeast-3",
        "detail-type": lapor_evidence_function::SCAN_RESULT,
        "time": w.now.to_rfc3339(), "resources": [],
        "detail": {
            "schemaVersion": "1.0", "scanStatus": "COMPLETED", "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {"bucketName": w.bucket, "objectKey": key, "s3Throttled": false},
            "scanResultDetails": {"scanResultStatus": status}
        }
    }))
    .expect("event")
}

#[tokio::test]
async fn with_malware_scanning_only_a_clean_verdict_lets_a_file_through() {
    let Some(config) = moto_config().await else {
        return;
    };
    let w = world(&config, "evidence-scan").await;
    let (code, key) = file_report(&w, "rahasia").await;
    for (status, expected) in [
        ("THREATS_FOUND", Some("file_malware")),
        ("UNSUPPORTED", Some("file_not_scanned")),
        ("NO_THREATS_FOUND", None),
    ] {
        let offer = upload(
            &w,
            &code,
            &key,
            "image/jpeg",
            &fixtures::jpeg_with_metadata(),
        )
        .await;
        let id = offer["id"].as_str().expect("id");
        let object = format!("quarantine/{code}/{id}");
        let handled = handle_event(&w.evidence, &scanned(&w, &object, status))
            .await
            .expect("handled");
        let listed = attachment(&w, &code, &key, id).await;
        match expected {
            Some(reason) => {
                assert!(
                    matches!(handled, Handled::Rejected(_)),
                    "{status}: {handled:?}"
                );
                assert_eq!(listed["rejection"]["code"], reason, "{listed}");
                assert!(listed.get("download_url").is_none());
                assert!(
                    !exists(&w, &object).await,
                    "{status}: the upload is deleted"
                );
                assert!(!exists(&w, &format!("evidence/{code}/{id}")).await);
            }
            None => {
                assert!(matches!(handled, Handled::Ready { .. }), "{handled:?}");
                fixtures::assert_clean(
                    &download(listed["download_url"].as_str().expect("url")).await,
                );
            }
        }
    }
}
