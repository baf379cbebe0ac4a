//! Evidence on lapor-local without AWS, as a user does it over HTTP: submit a report, ask for an
//! upload URL, PUT the photo to lapor-local itself, wait until the in-process evidence function
//! has cleaned it, download it without its metadata. Altered URLs are refused and write nothing.
//! With `--store dynamodb` (moto) the files go to S3 and `POST /dev/uploads/…` processes them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

#[path = "../../crates/lapor-evidence/tests/common/mod.rs"]
mod fixtures;

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lapor-local"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lapor-local starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .expect("lapor-local prints its URL");
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "lapor-local-{name}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ))
}

/// Files a report; its tracking code and access key.
async fn submit(http: &reqwest::Client, url: &str) -> (String, String) {
    let report = json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
    });
    let response = http
        .post(format!("{url}/reports"))
        .header("content-type", "application/json")
        .body(report.to_string())
        .send()
        .await
        .expect("POST /reports");
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.expect("json");
    let code = receipt["tracking_code"].as_str().expect("code").to_string();
    // Routing forwards it moments later; an attachment asked for meanwhile, as here, may meet
    // that write, and intake then decides again on the routed report instead of refusing it.
    let access_key = receipt["access_key"].as_str().expect("access key");
    (code, access_key.to_string())
}

/// Asks for an upload URL for a file of `size` bytes of `content_type`.
async fn offer(
    http: &reqwest::Client,
    url: &str,
    code: &str,
    key: &str,
    content_type: &str,
    size: usize,
) -> Value {
    let response = http
        .post(format!("{url}/reports/{code}/attachments"))
        .header("content-type", "application/json")
        .header("x-access-key", key)
        .body(
            json!({"filename": "IMG_20261130_budi_santoso.jpg", "content_type": content_type, "size": size})
                .to_string(),
        )
        .send()
        .await
        .expect("POST attachments");
    let status = response.status();
    let offer: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{offer}");
    assert_eq!(offer["upload"]["method"], "PUT");
    offer
}

/// PUTs `bytes` to the offer's URL (or `url`) with the offer's headers.
async fn put(http: &reqwest::Client, offer: &Value, url: &str, bytes: Vec<u8>) -> (u16, Value) {
    let mut request = http.put(url).body(bytes);
    for (name, value) in offer["upload"]["headers"].as_object().expect("headers") {
        // reqwest sets the length from the body.
        if name != "content-length" {
            request = request.header(name, value.as_str().expect("header value"));
        }
    }
    let response = request.send().await.expect("PUT");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The reporter's view of attachment `id` once it is no longer processing (at most 10 s).
async fn settled(http: &reqwest::Client, url: &str, code: &str, key: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let view: Value = http
            .get(format!("{url}/reports/{code}"))
            .header("x-access-key", key)
            .send()
            .await
            .expect("GET report")
            .json()
            .await
            .expect("json");
        let attachment = view["attachments"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["id"] == id).cloned())
            .unwrap_or_else(|| panic!("{id} not in {view}"));
        if attachment["status"] != "processing" {
            return attachment;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still processing after 10 s: {attachment}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to 10 s for `path` to be gone: the evidence function records the outcome first and
/// discards the upload just after (a failure between the two leaves the upload for the retry),
/// so the report can show the outcome a moment before the upload is deleted.
async fn removed(path: &std::path::Path) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while path.exists() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

fn assert_refused(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
            && body["error"]["message_en"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
        "bilingual: {body}"
    );
}

/// The URL with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').expect("query");
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((n, _)) if n == name => format!("{n}={value}"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn without_param(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').expect("query");
    let query: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with(&format!("{name}=")))
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .expect("query")
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .expect("param")
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn a_photo_goes_up_to_lapor_local_and_comes_back_clean() {
    let dir = scratch("evidence");
    let server = Server::start(&["--data-dir", dir.to_str().expect("utf-8 path")]);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let evidence = dir.join("evidence");
    let (code, key) = submit(&http, &url).await;

    let jpeg = fixtures::jpeg_with_metadata();
    assert!(fixtures::contains(&jpeg, fixtures::SERIAL.as_bytes()));
    let offered = offer(&http, &url, &code, &key, "image/jpeg", jpeg.len()).await;
    let id = offered["id"].as_str().expect("id").to_string();
    let upload_url = offered["upload"]["url"].as_str().expect("url").to_string();
    assert!(
        upload_url.starts_with(&format!("{url}/files/quarantine/{code}/{id}?")),
        "the upload goes to lapor-local itself: {upload_url}"
    );
    let quarantined = evidence.join("quarantine").join(&code).join(&id);

    // A larger size than signed, with a body to match: not this URL.
    let size = jpeg.len();
    let bigger = with_param(&upload_url, "size", &(size + 100).to_string());
    let mut padded = jpeg.clone();
    padded.extend([0u8; 100]);
    let (status, body) = put(&http, &offered, &bigger, padded.clone()).await;
    assert_refused(status, &body, 403, "bad_signature");
    // An altered signature.
    let sig = param(&upload_url, "sig");
    let flipped = format!(
        "{}{}",
        &sig[..sig.len() - 1],
        if sig.ends_with('0') { "1" } else { "0" }
    );
    let forged = with_param(&upload_url, "sig", &flipped);
    let (status, body) = put(&http, &offered, &forged, jpeg.clone()).await;
    assert_refused(status, &body, 403, "bad_signature");
    // The right URL with more bytes than it was signed for, or another type.
    let (status, body) = put(&http, &offered, &upload_url, padded).await;
    assert_refused(status, &body, 400, "wrong_content");
    let response = http
        .put(&upload_url)
        .header("content-type", "text/html")
        .body(jpeg.clone())
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_refused(status, &body, 400, "wrong_content");
    assert!(
        files_under(&evidence).is_empty(),
        "a refused upload writes nothing: {:?}",
        files_under(&evidence)
    );

    // The real upload, with the headers the offer names.
    let (status, body) = put(&http, &offered, &upload_url, jpeg).await;
    assert_eq!(status, 200, "{body}");
    let listed = settled(&http, &url, &code, &key, &id).await;
    assert_eq!(listed["status"], "ready", "{listed}");
    assert!(
        removed(&quarantined).await,
        "the original upload is deleted"
    );

    let download_url = listed["download_url"].as_str().expect("download url");
    assert!(
        download_url.starts_with(&format!("{url}/files/evidence/{code}/{id}?")),
        "{download_url}"
    );
    let response = http.get(download_url).send().await.expect("download");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"lapor-{code}-{id}.jpg\"").as_str()
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let bytes = response.bytes().await.expect("bytes");
    fixtures::assert_clean(&bytes);
    assert_eq!(
        listed["sha256"].as_str(),
        Some(lapor_store::sha256_hex(&[&bytes]).as_str()),
        "the recorded hash is the clean file's"
    );

    // The download URL is no key without its signature, nor as an upload URL.
    let response = http
        .get(without_param(download_url, "sig"))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    assert_refused(
        status,
        &response.json().await.unwrap_or(Value::Null),
        403,
        "bad_signature",
    );
    let as_upload = download_url.replacen("/files/evidence/", "/files/quarantine/", 1);
    let response = http
        .put(as_upload)
        .header("content-type", "image/jpeg")
        .body(vec![0u8; 10])
        .send()
        .await
        .expect("PUT");
    assert_eq!(response.status(), 403);

    // Handled once: running the evidence function again changes nothing.
    let again: Value = http
        .post(format!("{url}/dev/uploads/{code}/{id}"))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    assert_eq!(again["outcome"], "ignored", "{again}");

    // A web page sent as a photo is refused with a reason, and nothing is kept.
    let html = b"<!doctype html><html><body><script>alert(1)</script></body></html>".to_vec();
    let offered = offer(&http, &url, &code, &key, "image/jpeg", html.len()).await;
    let id = offered["id"].as_str().expect("id").to_string();
    let upload_url = offered["upload"]["url"].as_str().expect("url").to_string();
    let (status, body) = put(&http, &offered, &upload_url, html).await;
    assert_eq!(status, 200, "{body}");
    let listed = settled(&http, &url, &code, &key, &id).await;
    assert_eq!(listed["status"], "rejected", "{listed}");
    assert_eq!(listed["rejection"]["code"], "file_type_not_allowed");
    assert!(listed.get("download_url").is_none());
    assert!(!evidence.join("evidence").join(&code).join(&id).exists());
    assert!(
        removed(&evidence.join("quarantine").join(&code).join(&id)).await,
        "the refused upload is deleted"
    );

    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_ephemeral_lapor_local_keeps_evidence_in_a_temporary_folder_removed_when_it_stops() {
    use clap::Parser;
    let config = lapor_local::Cli::try_parse_from(["lapor-local", "--ephemeral"])
        .expect("arguments")
        .config;
    let local = lapor_local::build(&config).await.expect("lapor-local");
    let Some(lapor_local::EvidenceStorage::Folder(folder)) = local.evidence.clone() else {
        panic!("the embedded store keeps evidence in a folder");
    };
    let root = folder.root.clone();
    drop(folder);
    assert!(root.is_dir(), "{}", root.display());
    assert!(!root.starts_with(&config.data_dir));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&root)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "evidence folder mode {mode:o}");
    }
    drop(local);
    assert!(!root.exists(), "{} removed", root.display());
}

#[tokio::test]
async fn on_dynamodb_the_files_go_to_s3_and_dev_uploads_processes_them() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "moto required"
        );
        eprintln!("skipped: no AWS_ENDPOINT_URL (run scripts/test to start moto)");
        return;
    }
    let unique = format!(
        "lapor-local-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    let dir = scratch("evidence-ddb");
    let server = Server::start(&[
        "--store",
        "dynamodb",
        "--table",
        &unique,
        "--bucket",
        &unique,
        "--data-dir",
        dir.to_str().expect("utf-8 path"),
    ]);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let (code, key) = submit(&http, &url).await;
    let jpeg = fixtures::jpeg_with_metadata();
    let offered = offer(&http, &url, &code, &key, "image/jpeg", jpeg.len()).await;
    let id = offered["id"].as_str().expect("id").to_string();
    let upload_url = offered["upload"]["url"].as_str().expect("url").to_string();
    assert!(
        !upload_url.starts_with(&url) && upload_url.contains(&unique),
        "a presigned S3 URL on the bucket: {upload_url}"
    );
    let (status, _) = put(&http, &offered, &upload_url, jpeg).await;
    assert!((200..300).contains(&status), "{status}");

    let processed: Value = http
        .post(format!("{url}/dev/uploads/{code}/{id}"))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    assert_eq!(processed["outcome"], "ready", "{processed}");
    let listed = settled(&http, &url, &code, &key, &id).await;
    assert_eq!(listed["status"], "ready", "{listed}");
    let response = http
        .get(listed["download_url"].as_str().expect("download url"))
        .send()
        .await
        .expect("download");
    assert!(response.status().is_success(), "{}", response.status());
    fixtures::assert_clean(&response.bytes().await.expect("bytes"));
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
