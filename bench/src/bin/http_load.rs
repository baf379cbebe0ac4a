//! The warm handlers and the portal's pages over HTTP: lapor-local's whole router (every
//! function, the portal, the officer-token layer, the in-process stream consumers) on the
//! embedded store at 127.0.0.1, with a trivial `GET /hello` merged into the same server as the
//! baseline. C concurrent keep-alive clients (default 16) run for D seconds (default 5) per
//! endpoint and every latency is recorded.
//!
//! Each portal page is measured beside the JSON requests that carry the same data, on the same
//! seeded reports: the public report page and `GET /reports/{code}`, the tracking page (`POST
//! /lacak`) and the reporter's view (`GET /reports/{code}` with `X-Access-Key`), the statistics
//! page and its CSV and `GET /stats` for the same region and year, the home page's feed and the
//! same public feed as Open311 `requests.json` (intake has no JSON feed of its own), and the
//! report form and the lists it offers (`GET /categories` and `GET /regions`). The tracking
//! form has no data behind it: its pair is hello.
//!
//! `POST /reports` here costs more than the intake Lambda: lapor-local routes and notifies each new
//! report in-process right after the write (the table stream's work in AWS), on the same cores.
//! The load generator also shares the machine with the server.
//!
//! The write runs last: lapor-local's consumers fall behind a write load (each notification's
//! once-only mark scans every live mark of the embedded store, under its lock), and their backlog
//! would slow whatever ran next. How many reports were still unrouted when the run ended is
//! recorded; `--wait-for-consumers` also waits for the backlog and times it.
//!
//! Usage: `http_load [--concurrency C] [--seconds D] [--wait-for-consumers]`. Writes
//! `target/bench/http.json` and prints a Markdown table.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::routing::get;
use axum::Router;
use lapor_bench::{monday_morning, or_die, pothole_json};
use lapor_bench::{write_json, Summary};
use lapor_core::stats::GroupBy;
use lapor_core::{Directory, FixedClock, KeyPepper, RegionCode};
use lapor_store::{MemStore, Statistics, Stores};
use reqwest::header::{CONTENT_TYPE, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const USAGE: &str = "http_load [--concurrency C] [--seconds D] [--wait-for-consumers]";
const DEFAULT_CONCURRENCY: usize = 16;
const DEFAULT_SECONDS: u64 = 5;
/// Unrecorded load before each endpoint's run: connections open, caches and allocator warm.
const WARM_UP: StdDuration = StdDuration::from_millis(500);
/// The longest wait for the in-process consumers to catch up after a run.
const DRAIN_LIMIT: StdDuration = StdDuration::from_secs(300);
/// Reports seeded before the reads, as `pages` seeds them: a full home page feed and
/// statistics with more than one row.
const REPORTS: usize = 12;
/// The region and year of the statistics page and of `GET /stats`: the benchmark's city, the
/// fixed clock's year.
const STATS_QUERY: &str = "region=32.74&year=2026";
/// The portal's CSRF cookie when it serves plain HTTP (lapor-local), and the form field that
/// must repeat it.
const CSRF_COOKIE: &str = "csrf";

struct Options {
    concurrency: usize,
    seconds: u64,
    /// After the last run, wait (up to [`DRAIN_LIMIT`]) for routing and notify to catch up, and
    /// say how long that took.
    wait_for_consumers: bool,
}

fn options() -> Options {
    let mut options = Options {
        concurrency: DEFAULT_CONCURRENCY,
        seconds: DEFAULT_SECONDS,
        wait_for_consumers: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            match args.next().map(|v| v.parse::<u64>()) {
                Some(Ok(n)) if n > 0 => n,
                _ => panic!("{name} needs a positive whole number"),
            }
        };
        match arg.as_str() {
            "--concurrency" | "-c" => options.concurrency = number("--concurrency") as usize,
            "--seconds" | "-d" => options.seconds = number("--seconds"),
            "--wait-for-consumers" => options.wait_for_consumers = true,
            other => {
                panic!("unknown argument {other}; usage: {USAGE}")
            }
        }
    }
    options
}

/// What an endpoint is in the table.
#[derive(Clone, Copy)]
enum Role {
    Baseline,
    Json,
    /// A portal page, and the JSON endpoints (by name) a client would call for the same data:
    /// the page's p50 is compared with the sum of theirs.
    Page(&'static [&'static str]),
    Write,
}

impl Role {
    fn kind(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Json => "json",
            Role::Page(_) => "page",
            Role::Write => "write",
        }
    }
}

/// One endpoint under load: how to make its request, and the status it must answer.
#[derive(Clone)]
struct Endpoint {
    name: &'static str,
    role: Role,
    method: Method,
    /// Path and query, as the table shows them.
    path: String,
    url: String,
    headers: Vec<(&'static str, String)>,
    /// The body and its content type.
    body: Option<(&'static str, Vec<u8>)>,
    expect: StatusCode,
}

impl Endpoint {
    /// A `GET` of `path` that must answer 200; [`Endpoint::posting`] makes it a `POST`.
    fn at(base: &str, name: &'static str, role: Role, path: String) -> Self {
        Endpoint {
            name,
            role,
            method: Method::GET,
            url: format!("{base}{path}"),
            path,
            headers: Vec::new(),
            body: None,
            expect: StatusCode::OK,
        }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    fn posting(mut self, content_type: &'static str, body: Vec<u8>, expect: StatusCode) -> Self {
        self.method = Method::POST;
        self.body = Some((content_type, body));
        self.expect = expect;
        self
    }
}

struct Run {
    latencies_us: Vec<f64>,
    errors: usize,
    elapsed: StdDuration,
    /// The body of the last answer, in bytes as sent (nothing here asks for compression).
    bytes: usize,
}

/// Sends the endpoint's request once; the answer's body length.
async fn send(client: &Client, endpoint: &Endpoint) -> Result<usize, String> {
    let mut request = client.request(endpoint.method.clone(), &endpoint.url);
    for (name, value) in &endpoint.headers {
        request = request.header(*name, value);
    }
    if let Some((content_type, body)) = &endpoint.body {
        request = request
            .header(CONTENT_TYPE, *content_type)
            .body(body.clone());
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status == endpoint.expect {
        Ok(body.len())
    } else {
        Err(format!("{} answered {status}", endpoint.name))
    }
}

/// `concurrency` clients, each with its own keep-alive connection, sending one request after
/// another until `duration` has passed; every latency (request sent → body read) in µs.
async fn load(endpoint: &Endpoint, concurrency: usize, duration: StdDuration) -> Run {
    let started = Instant::now();
    let until = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let client = or_die(Client::builder().build(), "http client");
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                let mut bytes = 0;
                while Instant::now() < until {
                    let sent = Instant::now();
                    match send(&client, &endpoint).await {
                        Ok(len) => {
                            latencies.push(sent.elapsed().as_secs_f64() * 1e6);
                            bytes = len;
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error, bytes)
            })
        })
        .collect();
    let mut run = Run {
        latencies_us: Vec::new(),
        errors: 0,
        elapsed: StdDuration::ZERO,
        bytes: 0,
    };
    for worker in workers {
        let (latencies, errors, first_error, bytes) = or_die(worker.await, "load task");
        if let Some(e) = first_error {
            eprintln!("{}: {errors} failed, the first: {e}", endpoint.name);
        }
        run.latencies_us.extend(latencies);
        run.errors += errors;
        run.bytes = run.bytes.max(bytes);
    }
    run.elapsed = started.elapsed();
    run
}

/// lapor-local's router with `GET /hello` merged in, served on a free loopback port; its URL.
async fn start_server(stores: Stores) -> String {
    or_die(
        lapor_admin::import_agencies(stores.directory.as_ref(), Directory::bundled_sample()).await,
        "agency directory",
    );
    let tokens = lapor_local::LocalTokens::new(b"lapor-bench-local-token-secret".to_vec());
    let pepper = or_die(
        KeyPepper::new(b"lapor-bench-pepper-of-32-bytes!!".to_vec()).ok_or("too short"),
        "pepper",
    );
    let clock = Arc::new(FixedClock::new(monday_morning()));
    let local = lapor_local::assemble(stores, clock, pepper, tokens);
    // The baseline gets the request-id layer every function route has; the token layer passes
    // a request without Authorization straight on, so it is left out.
    let hello = Router::new()
        .route("/hello", get(|| async { "ok" }))
        .layer(axum::middleware::from_fn(lapor_http::request_id));
    let router = local.router.merge(hello);
    let listener = or_die(
        lapor_local::listen(or_die("127.0.0.1:0".parse(), "address")).await,
        "listen",
    );
    let url = format!("http://{}", or_die(listener.local_addr(), "address"));
    tokio::spawn(lapor_local::serve(
        listener,
        router,
        std::future::pending::<()>(),
    ));
    url
}

/// A report as its reporter holds it after submitting.
struct Submitted {
    code: String,
    access_key: String,
}

async fn submit(client: &Client, url: &str, body: &Value) -> Submitted {
    let response = or_die(
        client
            .post(format!("{url}/reports"))
            .json(body)
            .send()
            .await,
        "submit",
    );
    let receipt: Value = or_die(response.json().await, "receipt");
    let (Some(code), Some(access_key)) = (
        receipt["tracking_code"].as_str(),
        receipt["access_key"].as_str(),
    ) else {
        panic!("no tracking code or access key in {receipt}")
    };
    Submitted {
        code: code.to_string(),
        access_key: access_key.to_string(),
    }
}

/// Waits until lapor-local's in-process routing has forwarded `report`, reading it as its
/// reporter (a `rahasia` report has no public view). The consumers take changes in order, so
/// this also waits for every earlier report to be routed.
async fn until_routed(client: &Client, url: &str, report: &Submitted) {
    let until = Instant::now() + DRAIN_LIMIT;
    while Instant::now() < until {
        let response = or_die(
            client
                .get(format!("{url}/reports/{}", report.code))
                .header("x-access-key", &report.access_key)
                .send()
                .await,
            "view",
        );
        let view: Value = or_die(response.json().await, "view body");
        if view["status"] == "terdisposisi" {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!(
        "report {} was not routed within {DRAIN_LIMIT:?}",
        report.code
    )
}

/// Submits one report and waits until it is routed.
async fn routed_report(url: &str) {
    let client = Client::new();
    let report = submit(&client, url, &pothole_json()).await;
    until_routed(&client, url, &report).await;
}

/// `REPORTS` reports with the privacy mix `pages` seeds (a third `anonim`, one in six
/// `rahasia`, the rest `publik`), each with its own title, all routed and counted before the
/// reads start; the first `publik` one.
async fn seeded(url: &str) -> Submitted {
    let client = Client::new();
    let mut public = None;
    let mut last = None;
    for i in 0..REPORTS {
        let mut body = pothole_json();
        body["privacy"] = json!(match i % 6 {
            5 => "rahasia",
            n if n % 3 == 0 => "anonim",
            _ => "publik",
        });
        body["title"] = json!(format!("Jalan berlubang di Jalan Cipto, titik {}", i + 1));
        let report = submit(&client, url, &body).await;
        if body["privacy"] == "publik" && public.is_none() {
            public = Some(Submitted {
                code: report.code.clone(),
                access_key: report.access_key.clone(),
            });
        }
        last = Some(report);
    }
    if let Some(last) = &last {
        until_routed(&client, url, last).await;
    }
    public.unwrap_or_else(|| panic!("no public report in the sample"))
}

/// The CSRF token the portal gives a first visit of the tracking form, from its `Set-Cookie`:
/// what a browser holds when it posts the form back.
async fn csrf_token(url: &str) -> String {
    let response = or_die(
        Client::new().get(format!("{url}/lacak")).send().await,
        "tracking form",
    );
    let prefix = format!("{CSRF_COOKIE}=");
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let token = v.strip_prefix(&prefix)?;
            Some(token.split(';').next().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("the tracking form set no {CSRF_COOKIE} cookie"))
}

/// Every endpoint in the order they run: hello first, each page right after its JSON pair,
/// the write last.
fn endpoints(url: &str, report: &Submitted, csrf: &str) -> Vec<Endpoint> {
    let code = &report.code;
    let key = &report.access_key;
    // Codes, keys and tokens are letters and digits: nothing to escape.
    let track_form = format!("tracking_code={code}&access_key={key}&csrf={csrf}");
    let report_body = or_die(serde_json::to_vec(&pothole_json()), "body");
    vec![
        Endpoint::at(url, "hello", Role::Baseline, "/hello".into()),
        Endpoint::at(url, "public_get", Role::Json, format!("/reports/{code}")),
        Endpoint::at(
            url,
            "public_report",
            Role::Page(&["public_get"]),
            format!("/laporan/{code}"),
        ),
        Endpoint::at(url, "reporter_get", Role::Json, format!("/reports/{code}"))
            .with_header("X-Access-Key", key.clone()),
        Endpoint::at(
            url,
            "track_post",
            Role::Page(&["reporter_get"]),
            "/lacak".into(),
        )
        .with_header("Cookie", format!("{CSRF_COOKIE}={csrf}"))
        .posting(
            "application/x-www-form-urlencoded",
            track_form.into_bytes(),
            StatusCode::OK,
        ),
        Endpoint::at(url, "stats", Role::Json, format!("/stats?{STATS_QUERY}")),
        Endpoint::at(
            url,
            "statistics",
            Role::Page(&["stats"]),
            format!("/statistik?{STATS_QUERY}"),
        ),
        Endpoint::at(
            url,
            "statistics_csv",
            Role::Page(&["stats"]),
            format!("/statistik.csv?{STATS_QUERY}"),
        ),
        Endpoint::at(
            url,
            "open311_requests",
            Role::Json,
            "/open311/v2/requests.json?page_size=10".into(),
        ),
        Endpoint::at(url, "home", Role::Page(&["open311_requests"]), "/".into()),
        Endpoint::at(url, "categories", Role::Json, "/categories".into()),
        Endpoint::at(url, "regions", Role::Json, "/regions".into()),
        Endpoint::at(
            url,
            "report_form",
            Role::Page(&["categories", "regions"]),
            "/lapor".into(),
        ),
        Endpoint::at(url, "track_form", Role::Page(&["hello"]), "/lacak".into()),
        Endpoint::at(url, "intake_post", Role::Write, "/reports".into()).posting(
            "application/json",
            report_body,
            StatusCode::CREATED,
        ),
    ]
}

/// Reports of the benchmark's city still waiting for routing (status diterima), from the store's
/// statistics counters.
async fn unrouted(store: &MemStore) -> i64 {
    let region = or_die(RegionCode::parse("32.74"), "region");
    let rows = or_die(store.stats(&region, 2026, GroupBy::Category).await, "stats");
    rows.iter()
        .filter_map(|row| row.statuses.get("diterima"))
        .sum()
}

struct Measured<'a> {
    endpoint: &'a Endpoint,
    rps: f64,
    latency_us: Summary,
    errors: usize,
    bytes: usize,
}

/// A page's p50 over the sum of its JSON pair's p50s.
fn p50_to_json_view(m: &Measured, results: &[Measured]) -> Option<f64> {
    let Role::Page(pair) = m.endpoint.role else {
        return None;
    };
    let json_p50: f64 = pair
        .iter()
        .map(|name| {
            results
                .iter()
                .find(|r| r.endpoint.name == *name)
                .map(|r| r.latency_us.median)
        })
        .sum::<Option<f64>>()?;
    Some(m.latency_us.median / json_p50)
}

#[tokio::main]
async fn main() {
    let Options {
        concurrency,
        seconds,
        wait_for_consumers,
    } = options();
    let store = Arc::new(MemStore::new());
    let url = start_server(Stores::of(store.clone())).await;
    let report = seeded(&url).await;
    let csrf = csrf_token(&url).await;
    let endpoints = endpoints(&url, &report, &csrf);

    let mut results = Vec::new();
    for endpoint in &endpoints {
        load(endpoint, concurrency, WARM_UP).await;
        let run = load(endpoint, concurrency, StdDuration::from_secs(seconds)).await;
        let Some(latency_us) = Summary::of(&run.latencies_us) else {
            panic!("{}: no request succeeded", endpoint.name)
        };
        results.push(Measured {
            endpoint,
            rps: run.latencies_us.len() as f64 / run.elapsed.as_secs_f64(),
            latency_us,
            errors: run.errors,
            bytes: run.bytes,
        });
    }
    let unrouted_at_end = unrouted(&store).await;
    let caught_up = if wait_for_consumers {
        let waiting = Instant::now();
        // Routing a new report means every earlier report was routed; the second one also waits
        // for the notifications those routings queued behind the first.
        routed_report(&url).await;
        routed_report(&url).await;
        Some(waiting.elapsed().as_secs_f64())
    } else {
        None
    };

    let Some(hello) = results.first().filter(|m| m.endpoint.name == "hello") else {
        unreachable!("hello is measured first")
    };
    let rows: Vec<Value> = results
        .iter()
        .map(|m| {
            let pair = match m.endpoint.role {
                Role::Page(pair) => Some(pair),
                _ => None,
            };
            json!({
                "name": m.endpoint.name,
                "kind": m.endpoint.role.kind(),
                "method": m.endpoint.method.as_str(),
                "path": m.endpoint.path.replace(&report.code, "{code}"),
                "headers": m.endpoint.headers.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
                "json_view": pair,
                "rps": m.rps,
                "latency_us": m.latency_us,
                "errors": m.errors,
                "bytes": m.bytes,
                "ratio_to_hello": hello.rps / m.rps,
                "p50_ratio_to_hello": m.latency_us.median / hello.latency_us.median,
                "p50_ratio_to_json_view": p50_to_json_view(m, &results),
            })
        })
        .collect();
    write_json(
        "http",
        &json!({
            "concurrency": concurrency,
            "seconds": seconds,
            "server": "lapor-local (embedded store, in-process routing and notify), loopback",
            "seeded_reports": REPORTS,
            "endpoints": rows,
            "intake_post_consumers": {
                "unrouted_at_end": unrouted_at_end,
                "caught_up_after_s": caught_up,
            },
        }),
    );

    println!(
        "{concurrency} concurrent keep-alive clients, {seconds} s per endpoint, \
         lapor-local on the embedded store with {REPORTS} seeded reports"
    );
    println!();
    println!(
        "| endpoint | request | bytes | req/s | p50 µs | p99 µs | hello req/s ÷ req/s | \
         p50 ÷ JSON view p50 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for m in &results {
        let versus = match (m.endpoint.role, p50_to_json_view(m, &results)) {
            (Role::Page(pair), Some(ratio)) => format!("{ratio:.2} ({})", pair.join(" + ")),
            _ => "–".into(),
        };
        println!(
            "| {} | {} {} | {} | {:.0} | {:.0} | {:.0} | {:.2} | {versus} |",
            m.endpoint.name,
            m.endpoint.method,
            m.endpoint.path,
            m.bytes,
            m.rps,
            m.latency_us.median,
            m.latency_us.p99,
            hello.rps / m.rps,
        );
    }
    println!();
    println!("intake_post: {unrouted_at_end} reports still unrouted when the run ended");
    if let Some(seconds) = caught_up {
        println!("intake_post: routing and notify caught up {seconds:.1} s after the run ended");
    }
}
