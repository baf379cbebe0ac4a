//! `stats_lag`: how long after a citizen's `201` the report shows in `/stats`, on moto
//! (`AWS_ENDPOINT_URL`). Reports are filed through the intake handler; the table's stream is read
//! on the wire and handed to the stats function the way the template's event source mapping does
//! it (polled four times a second, a batch invoked at 25 records or 1 s after its first record,
//! `MaximumBatchingWindowInSeconds: 1`, only the records its filter passes). A report's lag runs from its `201` to the end of the
//! stats invocation that counted it; the run ends by checking that the published totals equal the
//! reports filed. Two loads: one report at a time (each alone in the window, the worst case for
//! batching), and a steady stream of submissions. Writes `target/bench/stats_lag.json`.
//! Not included: DynamoDB's own delay from a write to its stream record in AWS, which moto does
//! not have (AWS documents stream records as near-real time).

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use lapor_bench::{pothole_json, write_json, Summary};
use lapor_core::stats::GroupBy;
use lapor_core::{Deadlines, Directory, KeyPepper, RegionCode, SystemClock};
use lapor_store::{report_changes, DynamoStore, Statistics, Stores};
use lapor_tests::TableStream;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// The template's stream settings for the stats function.
const BATCH_SIZE: usize = 25;
const BATCH_WINDOW: Duration = Duration::from_secs(1);
/// Lambda polls a DynamoDB stream shard four times a second.
const POLL_EVERY: Duration = Duration::from_millis(250);

const ALONE: usize = 10;
const STEADY: usize = 200;
const STEADY_PER_SECOND: u32 = 20;

type Fallible<T> = Result<T, String>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run().await {
        Ok(result) => {
            write_json("stats_lag", &result);
            println!(
                "{}",
                serde_json::to_string_pretty(&result).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stats_lag: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Fallible<Value> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        return Err("AWS_ENDPOINT_URL is not set: run scripts/bench (it starts moto)".into());
    }
    let config = lapor_lambda::aws_config().await;
    let alone = measure(&config, ALONE, None).await?;
    let steady = measure(&config, STEADY, Some(STEADY_PER_SECOND)).await?;
    Ok(json!({
        "method": "Reports filed through the intake handler on moto; the table's stream read on the \
                   wire and given to the stats handler as the event source mapping would (polled \
                   every 250 ms, a batch at 25 records or 1 s after its first). Lag: from the 201 \
                   to the end of the stats invocation that counted the report. Stream propagation \
                   inside DynamoDB is not included.",
        "batch_size": BATCH_SIZE,
        "batch_window_ms": BATCH_WINDOW.as_millis() as u64,
        "poll_ms": POLL_EVERY.as_millis() as u64,
        "alone": alone,
        "steady": steady,
    }))
}

/// Files `count` reports (one at a time with a pause between, or at `per_second`), counts them
/// from the stream as Lambda would, and returns the lag summary in milliseconds.
async fn measure(
    config: &aws_config::SdkConfig,
    count: usize,
    per_second: Option<u32>,
) -> Fallible<Value> {
    let table = format!(
        "lapor-lag-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        &table,
    ));
    store
        .create_table_if_missing()
        .await
        .map_err(|e| format!("creating the table: {e}"))?;
    lapor_admin::import_agencies(store.as_ref(), Directory::bundled_sample())
        .await
        .map_err(|e| format!("importing the agency directory: {e}"))?;
    let stores = Stores::of(store.clone());
    let clock = Arc::new(SystemClock);
    let pepper = KeyPepper::new(vec![7; 32]).ok_or("a 32-byte pepper")?;
    let intake = lapor_intake::router(lapor_intake::Deps::new(
        &stores,
        clock.clone(),
        Deadlines::indonesia(),
        pepper,
    ));
    let stats = lapor_stats::Deps::new(&stores, clock);
    let mut stream = TableStream::open(config, &table).await;
    // The directory import is in the stream too: read past it, as a deployed stack long has.
    stream.next_event().await;

    let (filed_tx, filed_rx) = mpsc::unbounded_channel::<(String, Instant)>();
    let consumer = tokio::spawn(consume(stream, stats, filed_rx, count));
    let started = Instant::now();
    for i in 0..count {
        match per_second {
            Some(rate) => {
                let due = started + Duration::from_secs(1) * i as u32 / rate;
                tokio::time::sleep_until(due.into()).await;
            }
            // Alone: past the window of the previous report, so no batch holds two.
            None if i > 0 => tokio::time::sleep(BATCH_WINDOW * 2).await,
            None => {}
        }
        let code = submit(&intake).await?;
        filed_tx
            .send((code, Instant::now()))
            .map_err(|_| "the stream consumer stopped")?;
    }
    drop(filed_tx);
    let (lags, batches) = consumer.await.map_err(|e| format!("consumer: {e}"))??;

    let region = RegionCode::parse("32").map_err(|e| format!("region 32: {e:?}"))?;
    // A report counts in the year of its `created_at`, and every one was filed just now.
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let rows = store
        .stats(&region, year, GroupBy::Category)
        .await
        .map_err(|e| format!("reading the statistics: {e}"))?;
    let published: i64 = rows.iter().map(|r| r.total).sum();
    if published != count as i64 {
        return Err(format!(
            "/stats shows {published} reports, {count} were filed"
        ));
    }
    let summary = Summary::of(&lags).ok_or("no lag measured")?;
    eprintln!(
        "{count} reports ({}): lag median {:.0} ms, p90 {:.0} ms, max {:.0} ms, {batches} stats invocations",
        per_second.map_or("one at a time".to_string(), |r| format!("{r}/s")),
        summary.median,
        summary.p90,
        summary.max
    );
    Ok(json!({
        "reports": count,
        "per_second": per_second,
        "invocations": batches,
        "published_total": published,
        "lag_ms": summary,
    }))
}

async fn submit(intake: &Router) -> Fallible<String> {
    let request = Request::post("/reports")
        .header("content-type", "application/json")
        .body(Body::from(pothole_json().to_string()))
        .map_err(|e| e.to_string())?;
    let response = intake
        .clone()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    if status.as_u16() != 201 {
        return Err(format!("intake answered {status}: {value}"));
    }
    value["tracking_code"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("no tracking code in {value}"))
}

/// The event source mapping and the stats function: polls the stream, invokes a batch when it is
/// full or its window has passed, and records each counted report's lag.
async fn consume(
    mut stream: TableStream,
    stats: lapor_stats::Deps,
    mut filed: mpsc::UnboundedReceiver<(String, Instant)>,
    count: usize,
) -> Fallible<(Vec<f64>, usize)> {
    let mut filed_at: HashMap<String, Instant> = HashMap::new();
    let mut counted_at: HashMap<String, Instant> = HashMap::new();
    let mut pending = Vec::new();
    let mut first_seen: Option<Instant> = None;
    let mut invocations = 0;
    let give_up = Instant::now() + Duration::from_secs(600);
    while counted_at.len() < count {
        if Instant::now() > give_up {
            return Err(format!(
                "only {} of {count} reports counted",
                counted_at.len()
            ));
        }
        tokio::time::sleep(POLL_EVERY).await;
        while let Ok((code, at)) = filed.try_recv() {
            filed_at.insert(code, at);
        }
        let event = stream.next_event().await;
        if !event.records.is_empty() && first_seen.is_none() {
            first_seen = Some(Instant::now());
        }
        // The template's filter: INSERT and MODIFY of items whose sort key is META.
        pending.extend(event.records.into_iter().filter(|r| {
            matches!(r.event_name.as_str(), "INSERT" | "MODIFY")
                && matches!(r.change.keys.get("sk"), Some(serde_dynamo::AttributeValue::S(sk)) if sk == "META")
        }));
        let window_over = first_seen.is_some_and(|t| t.elapsed() >= BATCH_WINDOW);
        while pending.len() >= BATCH_SIZE || (window_over && !pending.is_empty()) {
            let take = pending.len().min(BATCH_SIZE);
            let mut batch = aws_lambda_events::dynamodb::Event::default();
            batch.records = pending.drain(..take).collect();
            let codes: Vec<String> = report_changes(&batch)
                .into_iter()
                .filter_map(|(_, change)| change.ok())
                .filter(|change| change.old.is_none())
                .filter_map(|change| change.new.map(|r| r.tracking_code.as_str().to_string()))
                .collect();
            let response = lapor_stats::handle_event(&stats, &batch).await;
            invocations += 1;
            if !response.batch_item_failures.is_empty() {
                return Err(format!(
                    "the stats function failed {} records",
                    response.batch_item_failures.len()
                ));
            }
            let done = Instant::now();
            for code in codes {
                counted_at.insert(code, done);
            }
        }
        if pending.is_empty() {
            first_seen = None;
        }
    }
    while let Some((code, at)) = filed.recv().await {
        filed_at.insert(code, at);
    }
    let lags = counted_at
        .iter()
        .filter_map(|(code, counted)| {
            let filed = filed_at.get(code)?;
            Some(counted.saturating_duration_since(*filed).as_secs_f64() * 1000.0)
        })
        .collect::<Vec<_>>();
    if lags.len() != count {
        return Err(format!(
            "{} of {count} reports had a 201 and a count",
            lags.len()
        ));
    }
    Ok((lags, invocations))
}
