//! What lapor-local exposes beyond its own user: the `/dev/` routes (any phone's SMS, the outbox)
//! only on loopback unless asked for, the console's local sign-in (any agency, any role) only on
//! loopback, and the store file (reporters' identities) readable by its owner only.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use lapor_local::{build, Cli};
use tower::ServiceExt;

fn config(args: &[&str]) -> lapor_local::Config {
    let mut all = vec!["lapor-local"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).expect("arguments").config
}

async fn status_of(router: &axum::Router, request: Request<Body>) -> StatusCode {
    router
        .clone()
        .oneshot(request)
        .await
        .expect("answer")
        .status()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn dev_routes_are_served_on_loopback_and_refused_elsewhere_unless_asked_for() {
    let loopback = build(&config(&["--ephemeral", "--addr", "127.0.0.1:0"]))
        .await
        .expect("lapor-local");
    assert_eq!(
        status_of(&loopback.router, get("/dev/outbox")).await,
        StatusCode::OK
    );

    let exposed = build(&config(&["--ephemeral", "--addr", "0.0.0.0:3000"]))
        .await
        .expect("lapor-local");
    for path in ["/dev/outbox", "/dev/dead-letters"] {
        assert_eq!(
            status_of(&exposed.router, get(path)).await,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let sms = Request::post("/dev/sms")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"from": "+6281234567890", "text": "BANTUAN"}"#,
        ))
        .expect("request");
    assert_eq!(status_of(&exposed.router, sms).await, StatusCode::NOT_FOUND);
    assert!(
        exposed.outbox.entries().is_empty(),
        "the refused SMS sent nothing"
    );
    // The public API is still served there.
    assert_eq!(
        status_of(&exposed.router, get("/categories")).await,
        StatusCode::OK
    );

    let asked = build(&config(&[
        "--ephemeral",
        "--addr",
        "0.0.0.0:3000",
        "--dev-routes",
    ]))
    .await
    .expect("lapor-local");
    assert_eq!(
        status_of(&asked.router, get("/dev/outbox")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_console_and_its_local_sign_in_are_served_on_loopback_only() {
    let loopback = build(&config(&["--ephemeral", "--addr", "127.0.0.1:0"]))
        .await
        .expect("lapor-local");
    assert_eq!(
        status_of(&loopback.router, get("/console/masuk")).await,
        StatusCode::OK
    );
    let sign_in = || {
        Request::post("/console/masuk")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("agency=kemenpanrb&role=admin_pusat&csrf=x"))
            .expect("request")
    };
    for args in [
        &["--ephemeral", "--addr", "0.0.0.0:3000"][..],
        &["--ephemeral", "--addr", "0.0.0.0:3000", "--dev-routes"][..],
    ] {
        let exposed = build(&config(args)).await.expect("lapor-local");
        for path in [
            "/console",
            "/console/",
            "/console/masuk",
            "/console/kotak-masuk",
        ] {
            assert_eq!(
                status_of(&exposed.router, get(path)).await,
                StatusCode::NOT_FOUND,
                "{args:?} {path}"
            );
        }
        assert_eq!(
            status_of(&exposed.router, sign_in()).await,
            StatusCode::NOT_FOUND,
            "{args:?}"
        );
        // The portal is still served there.
        assert_eq!(status_of(&exposed.router, get("/")).await, StatusCode::OK);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_store_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!(
        "lapor-local-mode-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("store.json");
    // A temporary file a crash left behind, world-readable: the next save reuses its name.
    std::fs::write(dir.join("store.tmp"), "").expect("leftover temporary file");
    std::fs::set_permissions(
        dir.join("store.tmp"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");

    let data_dir = dir.to_str().expect("utf-8 path");
    let local = build(&config(&["--data-dir", data_dir]))
        .await
        .expect("lapor-local");
    let report = serde_json::json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
    });
    let submit = Request::post("/reports")
        .header("content-type", "application/json")
        .body(Body::from(report.to_string()))
        .expect("request");
    assert_eq!(status_of(&local.router, submit).await, StatusCode::CREATED);
    let text = std::fs::read_to_string(&file).expect("store written");
    assert!(
        text.contains("Siti Aminah"),
        "the identity is in the file it protects"
    );
    let mode = std::fs::metadata(&file)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "store.json mode {mode:o}");
    let _ = std::fs::remove_dir_all(&dir);
}
