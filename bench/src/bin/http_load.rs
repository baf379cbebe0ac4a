//! The warm handlers over HTTP: lapor-local's whole router (every function, the officer-token
//! layer, the in-process stream consumers) on the embedded store at 127.0.0.1, with a trivial
//! `GET /hello` merged into the same server as the baseline. C concurrent keep-alive clients
//! (default 16) run for D seconds (default 5) per endpoint and every latency is recorded.
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
use reqwest::header::CONTENT_TYPE;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const USAGE: &str = "http_load [--concurrency C] [--seconds D] [--wait-for-consumers]";
const DEFAULT_CONCURRENCY: usize = 16;
const DEFAULT_SECONDS: u64 = 5;
/// Unrecorded load before each endpoint's run: connections open, caches and allocator warm.
const WARM_UP: StdDuration = StdDuration::from_millis(500);
/// The longest wait for the in-process consumers to catch up after a run.
const DRAIN_LIMIT: StdDuration = StdDuration::from_secs(300);

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

/// One endpoint under load: how to make its request, and the status it must answer.
#[derive(Clone)]
struct Endpoint {
    name: &'static str,
    method: Method,
    url: String,
    body: Option<Vec<u8>>,
    expect: StatusCode,
}

struct Run {
    latencies_us: Vec<f64>,
    errors: usize,
    elapsed: StdDuration,
}

async fn send(client: &Client, endpoint: &Endpoint) -> Result<(), String> {
    let mut request = client.request(endpoint.method.clone(), &endpoint.url);
    if let Some(body) = &endpoint.body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    response.bytes().await.map_err(|e| e.to_string())?;
    if status == endpoint.expect {
        Ok(())
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
                while Instant::now() < until {
                    let sent = Instant::now();
                    match send(&client, &endpoint).await {
                        Ok(()) => latencies.push(sent.elapsed().as_secs_f64() * 1e6),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error)
            })
        })
        .collect();
    let mut run = Run {
        latencies_us: Vec::new(),
        errors: 0,
        elapsed: StdDuration::ZERO,
    };
    for worker in workers {
        let (latencies, errors, first_error) = or_die(worker.await, "load task");
        if let Some(e) = first_error {
            eprintln!("{}: {errors} failed, the first: {e}", endpoint.name);
        }
        run.latencies_us.extend(latencies);
        run.errors += errors;
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

/// Submits one report and waits until lapor-local's in-process routing has forwarded it; its
/// code. The consumers take changes in order, so this also waits for every earlier report to be
/// routed.
async fn routed_report(url: &str) -> String {
    let client = Client::new();
    let response = or_die(
        client
            .post(format!("{url}/reports"))
            .json(&pothole_json())
            .send()
            .await,
        "submit",
    );
    let receipt: Value = or_die(response.json().await, "receipt");
    let Some(code) = receipt["tracking_code"].as_str() else {
        panic!("no tracking code in {receipt}")
    };
    let until = Instant::now() + DRAIN_LIMIT;
    while Instant::now() < until {
        let view: Value = or_die(
            or_die(
                client.get(format!("{url}/reports/{code}")).send().await,
                "view",
            )
            .json()
            .await,
            "view body",
        );
        if view["status"] == "terdisposisi" {
            return code.to_string();
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("report {code} was not routed within {DRAIN_LIMIT:?}")
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

struct Measured {
    name: &'static str,
    rps: f64,
    latency_us: Summary,
    errors: usize,
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
    let code = routed_report(&url).await;
    let report_body = or_die(serde_json::to_vec(&pothole_json()), "body");
    let endpoints = [
        Endpoint {
            name: "hello",
            method: Method::GET,
            url: format!("{url}/hello"),
            body: None,
            expect: StatusCode::OK,
        },
        Endpoint {
            name: "public_get",
            method: Method::GET,
            url: format!("{url}/reports/{code}"),
            body: None,
            expect: StatusCode::OK,
        },
        Endpoint {
            name: "stats",
            method: Method::GET,
            url: format!("{url}/stats?region=32.74&year=2026"),
            body: None,
            expect: StatusCode::OK,
        },
        Endpoint {
            name: "intake_post",
            method: Method::POST,
            url: format!("{url}/reports"),
            body: Some(report_body),
            expect: StatusCode::CREATED,
        },
    ];

    let mut results = Vec::new();
    for endpoint in &endpoints {
        load(endpoint, concurrency, WARM_UP).await;
        let run = load(endpoint, concurrency, StdDuration::from_secs(seconds)).await;
        let Some(latency_us) = Summary::of(&run.latencies_us) else {
            panic!("{}: no request succeeded", endpoint.name)
        };
        results.push(Measured {
            name: endpoint.name,
            rps: run.latencies_us.len() as f64 / run.elapsed.as_secs_f64(),
            latency_us,
            errors: run.errors,
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

    let Some(hello) = results.first().filter(|m| m.name == "hello") else {
        unreachable!("hello is measured first")
    };
    let entries: serde_json::Map<String, Value> = results
        .iter()
        .map(|m| {
            let entry = json!({ "rps": m.rps, "latency_us": m.latency_us, "errors": m.errors });
            (m.name.to_string(), entry)
        })
        .collect();
    let others = || results.iter().filter(|m| m.name != "hello");
    let by_rps: serde_json::Map<String, Value> = others()
        .map(|m| (m.name.to_string(), json!(hello.rps / m.rps)))
        .collect();
    let by_p50: serde_json::Map<String, Value> = others()
        .map(|m| {
            let ratio = m.latency_us.median / hello.latency_us.median;
            (m.name.to_string(), json!(ratio))
        })
        .collect();
    write_json(
        "http",
        &json!({
            "concurrency": concurrency,
            "seconds": seconds,
            "server": "lapor-local (embedded store, in-process routing and notify), loopback",
            "endpoints": entries,
            "ratio_to_hello": by_rps,
            "p50_ratio_to_hello": by_p50,
            "intake_post_consumers": {
                "unrouted_at_end": unrouted_at_end,
                "caught_up_after_s": caught_up,
            },
        }),
    );

    println!(
        "{concurrency} concurrent keep-alive clients, {seconds} s per endpoint, \
         lapor-local on the embedded store"
    );
    println!();
    println!("| endpoint | req/s | p50 µs | p99 µs | × hello (p50) | × hello (req/s) |");
    println!("|---|---:|---:|---:|---:|---:|");
    for m in &results {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            m.name,
            m.rps,
            m.latency_us.median,
            m.latency_us.p99,
            m.latency_us.median / hello.latency_us.median,
            hello.rps / m.rps
        );
    }
    println!();
    println!("intake_post: {unrouted_at_end} reports still unrouted when the run ended");
    if let Some(seconds) = caught_up {
        println!("intake_post: routing and notify caught up {seconds:.1} s after the run ended");
    }
}
