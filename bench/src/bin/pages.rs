//! `pages`: the portal's page weights and server render times. The portal's router
//! (`lapor_web::routes`, as the web function and lapor-local serve it) over an embedded store
//! holding a few reports and their statistics, each page requested N times in-process
//! (`tower::ServiceExt::oneshot`, no network), against the intake function's JSON view of one
//! report (`GET /reports/{code}`) on the same store as the baseline, measured in the same run.
//!
//! Per page: the HTML's bytes as sent and gzipped (flate2, level 6, what a compressing server or
//! CDN would send), and the render time (request in → whole body out) median and p90. The report
//! form's first load (its HTML, the stylesheet and the script) is checked against the issue's
//! 60 KB budget (60,000 bytes transferred, compressed).
//!
//! Usage: `pages [--iterations N]` (default 300). Writes `target/bench/pages.json` and prints a
//! Markdown table.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use flate2::write::GzEncoder;
use flate2::Compression;
use lapor_bench::{monday_morning, or_die, pothole_json, write_json, Summary};
use lapor_core::stats::CountedChange;
use lapor_core::{Channel, Deadlines, FixedClock, KeyPepper, Privacy, Report, ReportDraft, Status};
use lapor_store::{file_report, Filed, MemStore, Reports, Statistics, Stores};
use serde_json::{json, Value};
use tower::ServiceExt;

const USAGE: &str = "pages [--iterations N]";
const DEFAULT_ITERATIONS: usize = 300;
/// Unrecorded requests before each page's run: allocator and lazily built tables warm.
const WARM_UP: usize = 20;
/// The report form's first load, compressed (the issue's budget: 60 KB, read as 60,000 bytes).
const FIRST_LOAD_BUDGET: usize = 60_000;
/// Reports in the store: enough for a full home page feed and non-empty statistics.
const REPORTS: usize = 12;

fn iterations() -> usize {
    let mut args = std::env::args().skip(1);
    let mut n = DEFAULT_ITERATIONS;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" | "-n" => {
                n = match args.next().map(|v| v.parse::<usize>()) {
                    Some(Ok(n)) if n > 0 => n,
                    _ => panic!("--iterations needs a positive whole number"),
                }
            }
            other => panic!("unknown argument {other}; usage: {USAGE}"),
        }
    }
    n
}

/// A store with `REPORTS` reports, most of them forwarded and some followed up (the home page
/// shows only those), a third of them `anonim` and one `rahasia`, every change counted as the
/// statistics consumer counts it. The code of a public report.
async fn seeded(store: &MemStore) -> String {
    let pepper = or_die(KeyPepper::new(vec![7; 32]).ok_or("too short"), "pepper");
    let deadlines = Deadlines::indonesia();
    let mut public = None;
    let mut changes = Vec::new();
    for i in 0..REPORTS {
        let mut body = pothole_json();
        body["privacy"] = json!(match i % 6 {
            5 => "rahasia",
            n if n % 3 == 0 => "anonim",
            _ => "publik",
        });
        body["title"] = json!(format!("Jalan berlubang di Jalan Cipto, titik {}", i + 1));
        let new = or_die(
            ReportDraft(body.as_object().unwrap_or(&serde_json::Map::new()))
                .validate(Channel::Web)
                .map_err(|e| e.message.en),
            "sample report",
        );
        let at = monday_morning() - chrono::Duration::hours(i as i64);
        let filed = or_die(
            file_report(store, &new, None, &pepper.clone().into(), &deadlines, at).await,
            "file",
        );
        let Filed::Created { report, .. } = filed else {
            panic!("no idempotency key, so no replay")
        };
        let report = *report;
        changes.push(CountedChange::of(None, &report));
        if i % 4 != 3 {
            let next = moved(
                &report,
                if i % 2 == 0 {
                    Status::Diproses
                } else {
                    Status::Terdisposisi
                },
            );
            or_die(store.update_report(&report, &next, &[]).await, "update");
            changes.push(CountedChange::of(Some(&report), &next));
        }
        if report.privacy == Privacy::Publik {
            public.get_or_insert(report.tracking_code.to_string());
        }
    }
    or_die(
        store.count(&changes, monday_morning().timestamp()).await,
        "count",
    );
    public.unwrap_or_else(|| panic!("no public report in the sample"))
}

/// `report` forwarded to the city's public works office, and answered when `to` is diproses.
fn moved(report: &Report, to: Status) -> Report {
    let mut next = report.clone();
    next.status = to;
    next.triage = false;
    next.agency = lapor_core::AgencyId::parse("kota-cirebon-dpupr").ok();
    if to == Status::Diproses {
        next.first_response_at = Some(report.created_at);
        next.responded_on_time = true;
    }
    next.version = report.version + 1;
    next
}

/// One page: where, and what it is.
struct Page {
    name: &'static str,
    path: String,
    /// The JSON baseline, served by the intake router rather than the portal.
    baseline: bool,
}

struct Measured {
    status: StatusCode,
    content_type: String,
    bytes: usize,
    gzip_bytes: usize,
    render_us: Summary,
}

async fn fetch(router: &Router, path: &str) -> (StatusCode, String, Vec<u8>) {
    let request = or_die(
        Request::get(path)
            .header(header::ACCEPT_LANGUAGE, "id-ID,id;q=0.9")
            .body(Body::empty()),
        "request",
    );
    answer(router, request).await
}

async fn answer(router: &Router, request: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(e) => match e {},
    };
    let (parts, body) = response.into_parts();
    let bytes = or_die(axum::body::to_bytes(body, 1 << 24).await, "body");
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (parts.status, content_type, bytes.to_vec())
}

/// The `Content-Encoding` the portal answers a browser that accepts gzip with, if any.
async fn encoding_offered(router: &Router, path: &str) -> Option<String> {
    let request = or_die(
        Request::get(path)
            .header(header::ACCEPT_ENCODING, "gzip, deflate, br")
            .body(Body::empty()),
        "request",
    );
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(e) => match e {},
    };
    response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn gzipped(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    or_die(encoder.write_all(bytes), "gzip");
    or_die(encoder.finish(), "gzip").len()
}

async fn measure(router: &Router, path: &str, iterations: usize) -> Measured {
    for _ in 0..WARM_UP {
        fetch(router, path).await;
    }
    let mut samples = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations {
        let started = Instant::now();
        let answer = fetch(router, path).await;
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        last = Some(answer);
    }
    let Some((status, content_type, body)) = last else {
        panic!("no iterations")
    };
    Measured {
        status,
        content_type,
        bytes: body.len(),
        gzip_bytes: gzipped(&body),
        render_us: or_die(Summary::of(&samples).ok_or("no samples"), "summary"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let iterations = iterations();
    let store = Arc::new(MemStore::new());
    let code = seeded(&store).await;
    let intake = lapor_intake::Deps::new(
        &Stores::of(store),
        Arc::new(FixedClock::new(monday_morning())),
        Deadlines::indonesia(),
        or_die(KeyPepper::new(vec![7; 32]).ok_or("too short"), "pepper"),
    );
    let portal = lapor_web::routes(lapor_web::Deps::new(intake.clone(), false));
    let api = lapor_intake::routes(intake);
    let pages = [
        ("json_report (baseline)", format!("/reports/{code}"), true),
        ("home", "/".into(), false),
        ("report_form", "/lapor".into(), false),
        ("track_form", "/lacak".into(), false),
        ("public_report", format!("/laporan/{code}"), false),
        ("statistics", "/statistik".into(), false),
        ("statistics_csv", "/statistik.csv".into(), false),
        ("portal.css", "/assets/portal.css".into(), false),
        ("portal.js", "/assets/portal.js".into(), false),
    ]
    .map(|(name, path, baseline)| Page {
        name,
        path,
        baseline,
    });
    let encoding = encoding_offered(&portal, "/lapor").await;
    let mut results = Vec::new();
    let mut baseline_median = None;
    for page in &pages {
        let router = if page.baseline { &api } else { &portal };
        let m = measure(router, &page.path, iterations).await;
        if !m.status.is_success() {
            eprintln!("{} ({}) answered {}", page.name, page.path, m.status);
        }
        if page.baseline {
            baseline_median = Some(m.render_us.median);
        }
        results.push((page, m));
    }
    let size_of = |name: &str| {
        results
            .iter()
            .find(|(p, _)| p.name == name)
            .map(|(_, m)| (m.bytes, m.gzip_bytes))
            .unwrap_or((0, 0))
    };
    let first_load = ["report_form", "portal.css", "portal.js"]
        .iter()
        .map(|name| size_of(name))
        .fold((0, 0), |(raw, gz), (r, g)| (raw + r, gz + g));
    let rows: Vec<Value> = results
        .iter()
        .map(|(page, m)| {
            json!({
                "name": page.name,
                "path": page.path,
                "status": m.status.as_u16(),
                "content_type": m.content_type,
                "bytes": m.bytes,
                "gzip_bytes": m.gzip_bytes,
                "render_us": m.render_us,
                "ratio_to_baseline": baseline_median.map(|b| m.render_us.median / b),
            })
        })
        .collect();
    let result = json!({
        "method": format!(
            "The portal's router (lapor_web::routes) over an embedded store of {REPORTS} reports \
             and their statistics, each path requested {iterations} times in-process after \
             {WARM_UP} unrecorded requests, one at a time on one thread (tower oneshot, no \
             network, a first visit each time: no cookies); render time from the request to the \
             whole body read. Sizes are the body as sent to a client that accepts no \
             compression, and that body gzipped at level 6 (asked with Accept-Encoding: gzip, \
             the portal itself answers {}). Baseline: the intake function's JSON view of a \
             report (GET /reports/{{code}}) on the same store.",
            encoding.as_deref().map_or("uncompressed".to_string(), |e| format!("with {e}"))
        ),
        "content_encoding": encoding,
        "iterations": iterations,
        "pages": rows,
        "first_load": {
            "parts": ["/lapor", "/assets/portal.css", "/assets/portal.js"],
            "bytes": first_load.0,
            "gzip_bytes": first_load.1,
            "budget_bytes": FIRST_LOAD_BUDGET,
            "within_budget": first_load.1 <= FIRST_LOAD_BUDGET,
        },
    });
    write_json("pages", &result);
    println!("| page | status | bytes | gzip bytes | p50 (µs) | p90 (µs) | × baseline |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (page, m) in &results {
        println!(
            "| {} | {} | {} | {} | {:.0} | {:.0} | {} |",
            page.name,
            m.status.as_u16(),
            m.bytes,
            m.gzip_bytes,
            m.render_us.median,
            m.render_us.p90,
            baseline_median.map_or("–".into(), |b| format!("{:.2}", m.render_us.median / b)),
        );
    }
    println!(
        "\nreport form first load: {} bytes, {} gzipped (budget {FIRST_LOAD_BUDGET})",
        first_load.0, first_load.1
    );
}
