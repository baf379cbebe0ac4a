//! The quick start as a new user runs it: start the `lapor-local` binary, POST a report with
//! curl's request, GET it back; on the embedded store (and across a restart) and on DynamoDB.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::eventually;
use serde_json::{json, Value};

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
        let mut banner = Vec::new();
        let url = loop {
            let line = lines.next().and_then(Result::ok).unwrap_or_else(|| {
                panic!("lapor-local exited before printing its URL: {banner:?}")
            });
            banner.push(line.clone());
            if let Some(at) = line.find("http://") {
                break line[at..].trim().to_string();
            }
        };
        let rest: Vec<String> = lines.by_ref().take(3).map_while(Result::ok).collect();
        assert!(
            rest.iter().any(|l| l.contains("curl")),
            "banner shows an example curl: {rest:?}"
        );
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }

    /// Sends SIGTERM, as Ctrl-C would, and expects a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|s| s.success()));
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "lapor-local exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn report() -> Value {
    json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara.",
        "category": "infrastruktur",
        "region": "32.74",
        "privacy": "publik"
    })
}

async fn submit_and_track(url: &str) -> String {
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{url}/reports"))
        .header("content-type", "application/json")
        .body(report().to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let receipt: Value = response.json().await.expect("json");
    let code = receipt["tracking_code"].as_str().expect("code").to_string();
    assert_eq!(location, format!("/reports/{code}"));
    // The in-process routing forwards it to Kota Cirebon's public-works department (bundled
    // directory) moments after it is received.
    let view: Value = eventually(
        &format!("routing to forward report {code}"),
        async || {
            client
                .get(format!("{url}{location}"))
                .send()
                .await
                .expect("GET")
                .json()
                .await
                .expect("json")
        },
        |view: &Value| view["status"] == "terdisposisi",
    )
    .await;
    assert_eq!(view["tracking_code"], code.as_str());
    assert_eq!(view["status"], "terdisposisi", "{view}");
    assert_eq!(view["agency"], "kota-cirebon-dpupr");
    code
}

async fn status_of(url: &str, code: &str) -> u16 {
    reqwest::get(format!("{url}/reports/{code}"))
        .await
        .expect("GET")
        .status()
        .as_u16()
}

#[tokio::test]
async fn embedded_store_keeps_reports_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("lapor-cli-{}", std::process::id()));
    let data = dir.to_string_lossy().to_string();
    let server = Server::start(&["--data-dir", &data]);
    let code = submit_and_track(&server.url).await;
    server.stop();

    let again = Server::start(&["--data-dir", &data]);
    assert_eq!(status_of(&again.url, &code).await, 200);
    again.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn ephemeral_store_forgets_on_restart() {
    let server = Server::start(&["--ephemeral"]);
    let code = submit_and_track(&server.url).await;
    server.stop();
    let again = Server::start(&["--ephemeral"]);
    assert_eq!(status_of(&again.url, &code).await, 404);
    again.stop();
}

#[tokio::test]
async fn dynamodb_store_on_moto() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "moto required"
        );
        eprintln!("skipped: no AWS_ENDPOINT_URL (run scripts/test to start moto)");
        return;
    }
    let table = format!("lapor-cli-{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("lapor-cli-ddb-{}", std::process::id()));
    let data = dir.to_string_lossy().to_string();
    let server = Server::start(&[
        "--store",
        "dynamodb",
        "--table",
        &table,
        "--data-dir",
        &data,
    ]);
    let code = submit_and_track(&server.url).await;
    server.stop();
    let again = Server::start(&[
        "--store",
        "dynamodb",
        "--table",
        &table,
        "--data-dir",
        &data,
    ]);
    assert_eq!(status_of(&again.url, &code).await, 200);
    again.stop();
    let _ = std::fs::remove_dir_all(dir);
}
