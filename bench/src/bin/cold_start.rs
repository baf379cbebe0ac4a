//! Cold init, first invocations and peak memory of every Lambda function binary, against a
//! loopback Lambda Runtime API (one per started process, so timings never mix) and moto.
//!
//! For each binary, after one unmeasured process fed two events: `--runs` cold starts, each
//! timed from just before the process is spawned to its first
//! `GET /2018-06-01/runtime/invocation/next` (where Lambda ends init), the process then killed
//! unanswered; one process answered twice with its sample event, each invocation timed from
//! handing the event over to receiving its response; one process fed `--invocations` events back
//! to back, whose VmHWM is read from /proc when it waits for the next one. Writes
//! `target/bench/cold.json` and prints a Markdown table.
//!
//! Each function gets a table of its own (the bundled directory imported), created again before
//! the measured invocations and every `RESET_EVERY` invocations, so that what was written before
//! never slows moto's answers. Events repeat the sample but vary what would otherwise make a
//! repeat a no-op: intake's idempotency key, the SMS message id and sender, and for the stream
//! functions a fresh report (written to the table first, as intake would have).
//!
//! Needs moto (`AWS_ENDPOINT_URL` and dummy credentials, as `scripts/lib/common.sh` sets them)
//! and the binaries built with one profile into `--bin-dir`.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use lapor_bench::{workspace_root, write_json, Summary};
use lapor_core::{Actor, Directory, Event, EventKind, Phone, Reporter, TrackingCode};
use lapor_store::{DynamoStore, Reports, Submission};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex};

/// Every function of the stack, after the baseline, with the sample event it is fed.
const BINARIES: [(&str, &str); 8] = [
    ("hello", ""),
    ("intake", "events/intake/submit-report.json"),
    ("officer", "events/officer/triage-queue.json"),
    ("routing", "events/routing/new-report.json"),
    ("stats", "events/stats/new-report.json"),
    ("notify", "events/notify/report-received.json"),
    ("escalation", "events/escalation/scheduled.json"),
    ("sms", "events/sms/lapor-new-report.json"),
];
const BASELINE: &str = "hello";
const TABLE_PREFIX: &str = "lapor-bench-cold-";
/// Invocations between two resets of a function's table. moto copies a whole table, its stream
/// history included, for every transaction: left to grow, a table makes later requests slower
/// with every report written, and the run measures moto rather than the function.
const RESET_EVERY: usize = 25;
const TOPIC: &str = "lapor-bench-cold-notifications";
/// Inbound SMS come from this many numbers in turn, so no number nears the hourly limit (10).
const SMS_SENDERS: u32 = 200;
/// The tracking code in the routing and notify samples, replaced by a fresh one in every
/// invocation.
const STREAM_SAMPLE_CODE: &str = "K7M2QX9PRR";
/// The phone of the reporter written with each stream sample's report (notify texts it).
const REPORTER_PHONE: &str = "+6281234567890";
const INIT_TIMEOUT: Duration = Duration::from_secs(30);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// What Lambda gives a function before its deadline (the template's timeouts are at least this).
const DEADLINE: Duration = Duration::from_secs(30);
const TAIL_LINES: usize = 20;

struct Args {
    bin_dir: PathBuf,
    runs: usize,
    invocations: usize,
    only: Vec<String>,
}

const USAGE: &str =
    "usage: cold_start [--bin-dir DIR] [--runs N] [--invocations N] [--only NAME]...
  --bin-dir DIR      where the function binaries are (default: <workspace>/target/release)
  --runs N           cold starts per binary (default 30)
  --invocations N    invocations fed to one process for its peak RSS (default 1000)
  --only NAME        measure only this binary (repeatable); the hello baseline always runs
binaries: hello intake officer routing stats notify escalation sms";

fn parse_args() -> Args {
    let mut args = Args {
        bin_dir: workspace_root().join("target").join("release"),
        runs: 30,
        invocations: 1000,
        only: Vec::new(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let Some(value) = given.next() else {
            panic!("{flag} needs a value\n{USAGE}");
        };
        let count = |v: &str| match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{flag} needs a whole number above 0, got {v:?}"),
        };
        match flag.as_str() {
            "--bin-dir" => args.bin_dir = PathBuf::from(value),
            "--runs" => args.runs = count(&value),
            "--invocations" => args.invocations = count(&value),
            "--only" => {
                if !BINARIES.iter().any(|(name, _)| *name == value) {
                    panic!("--only {value}: not one of the binaries\n{USAGE}");
                }
                args.only.push(value);
            }
            _ => panic!("unknown argument {flag}\n{USAGE}"),
        }
    }
    args
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let started = Instant::now();
    let selected: Vec<(&str, &str)> = BINARIES
        .into_iter()
        .filter(|(name, _)| {
            *name == BASELINE || args.only.is_empty() || args.only.iter().any(|o| o == name)
        })
        .collect();
    let moto = if selected.iter().any(|(name, _)| *name != BASELINE) {
        Some(Moto::prepare().await)
    } else {
        None
    };
    let nonce: u32 = rand::random();

    let mut measured: Vec<(&str, Result<Measured, String>)> = Vec::new();
    for (name, sample) in &selected {
        eprintln!("cold_start: {name}");
        let table = match &moto {
            Some(moto) if *name != BASELINE => Some(moto.table_for(name).await),
            _ => None,
        };
        let store = table.as_ref().map(|t| t.store.clone());
        let function = Function::new(name, &args.bin_dir, moto.as_ref(), store.as_ref());
        let events = Events::new(name, sample, nonce, store);
        let result = measure(&function, table.as_ref(), events, &args).await;
        if let Err(e) = &result {
            eprintln!("cold_start: {name} failed: {e}");
        }
        measured.push((name, result));
    }

    let hello_median = measured
        .iter()
        .find(|(name, _)| *name == BASELINE)
        .and_then(|(_, r)| r.as_ref().ok())
        .map(|m| m.cold_init.median);
    let functions: serde_json::Map<String, Value> = measured
        .iter()
        .map(|(name, result)| {
            let value = match result {
                Ok(m) => m.to_json(hello_median),
                Err(e) => json!({ "error": e }),
            };
            (name.to_string(), value)
        })
        .collect();
    write_json(
        "cold",
        &json!({
            "functions": functions,
            "runs": args.runs,
            "invocations": args.invocations,
            "machine": machine(),
            "method": {
                "runtime_api": "loopback, one server per process",
                "cold_init": "spawn to first GET /2018-06-01/runtime/invocation/next",
                "invocation": "event handed over to response POST received",
                "peak_rss": "VmHWM from /proc/<pid>/status after the invocations",
                "sms_senders": SMS_SENDERS,
                "table_reset_every": RESET_EVERY,
            },
            "seconds": started.elapsed().as_secs_f64(),
        }),
    );
    print_table(&measured, hello_median, args.invocations);
    eprintln!(
        "cold_start: {:.0} s; wrote {}",
        started.elapsed().as_secs_f64(),
        lapor_bench::out_dir().join("cold.json").display()
    );
}

/// What one binary measured.
struct Measured {
    cold_init: Summary,
    first: Invoked,
    second: Invoked,
    run: RunTally,
}

struct RunTally {
    invocations: usize,
    errors: usize,
    statuses: BTreeMap<String, usize>,
    latency: Summary,
    peak_rss_kb: u64,
    rss_kb: u64,
}

impl Measured {
    fn to_json(&self, hello_median: Option<f64>) -> Value {
        json!({
            "cold_init_ms": self.cold_init,
            "ratio_to_hello": hello_median.filter(|h| *h > 0.0).map(|h| self.cold_init.median / h),
            "first_invocation_ms": ms(self.first.latency),
            "second_invocation_ms": ms(self.second.latency),
            "first_status": self.first.status.as_json(),
            "second_status": self.second.status.as_json(),
            "peak_rss_kb": self.run.peak_rss_kb,
            "rss_kb": self.run.rss_kb,
            "invocations": self.run.invocations,
            "errors": self.run.errors,
            "statuses": self.run.statuses,
            "invocation_ms": self.run.latency,
        })
    }
}

async fn measure(
    function: &Function,
    table: Option<&Table>,
    mut events: Events,
    args: &Args,
) -> Result<Measured, String> {
    let reset = || async {
        match table {
            Some(table) => table.reset().await,
            None => Ok(()),
        }
    };
    if !function.path.is_file() {
        return Err(format!(
            "{} not found: build it into --bin-dir",
            function.path.display()
        ));
    }
    // An unmeasured process first, so that moto has served every kind of request this function
    // makes before one is timed: the first invocation then shows the function's own first-call
    // costs, not moto's.
    let (mut process, _) = Process::start(function)?;
    process.invoke(events.next().await?).await?;
    process.invoke(events.next().await?).await?;
    process.stop().await;

    let mut cold = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let (mut process, spawned) = Process::start(function)?;
        let asked = process.next_request().await?;
        cold.push(ms(asked - spawned));
        process.stop().await;
    }
    let cold_init = Summary::of(&cold).ok_or("no cold starts")?;

    reset().await?;
    let (mut process, _) = Process::start(function)?;
    let first = process.invoke(events.next().await?).await?;
    let second = process.invoke(events.next().await?).await?;
    process.stop().await;

    let (mut process, _) = Process::start(function)?;
    let mut latencies = Vec::with_capacity(args.invocations);
    let mut errors = 0;
    let mut statuses = BTreeMap::new();
    for i in 0..args.invocations {
        if i % RESET_EVERY == 0 {
            reset().await?;
        }
        let invoked = process.invoke(events.next().await?).await?;
        latencies.push(ms(invoked.latency));
        if matches!(invoked.status, Answer::Error(_)) {
            errors += 1;
        }
        *statuses.entry(invoked.status.label()).or_insert(0) += 1;
    }
    // Idle again, as between invocations in Lambda.
    process.next_request().await?;
    let memory = read_memory(process.pid);
    process.stop().await;
    let (peak_rss_kb, rss_kb) = memory?;
    Ok(Measured {
        cold_init,
        first,
        second,
        run: RunTally {
            invocations: args.invocations,
            errors,
            statuses,
            latency: Summary::of(&latencies).ok_or("no invocations")?,
            peak_rss_kb,
            rss_kb,
        },
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// moto, and the notifications topic every function is configured with.
struct Moto {
    endpoint: String,
    config: aws_config::SdkConfig,
    topic_arn: String,
}

impl Moto {
    async fn prepare() -> Moto {
        let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
            panic!(
                "AWS_ENDPOINT_URL is not set: start moto first \
                 (source scripts/lib/common.sh && start_moto)"
            );
        };
        let config = lapor_lambda::aws_config().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| panic!("no AWS region: set AWS_REGION (common.sh does)"));
        let topic_arn = create_topic(&endpoint, &region).await;
        create_pepper(&config).await;
        Moto {
            endpoint,
            config,
            topic_arn,
        }
    }

    /// A function's own table, with the bundled directory.
    async fn table_for(&self, name: &str) -> Table {
        let client = aws_sdk_dynamodb::Client::new(&self.config);
        let table = Table {
            store: DynamoStore::new(client.clone(), format!("{TABLE_PREFIX}{name}")),
            client,
        };
        if let Err(e) = table.reset().await {
            panic!("on moto at {}: {e}", self.endpoint);
        }
        table
    }
}

/// One function's table on moto.
struct Table {
    client: aws_sdk_dynamodb::Client,
    store: DynamoStore,
}

impl Table {
    /// Deletes the table if it exists and creates it again with only the bundled directory.
    async fn reset(&self) -> Result<(), String> {
        let name = self.store.table();
        if let Err(e) = self.client.delete_table().table_name(name).send().await {
            if !e
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
            {
                return Err(format!("deleting table {name}: {e}"));
            }
        }
        self.store
            .create_table_if_missing()
            .await
            .map_err(|e| format!("creating table {name}: {e}"))?;
        lapor_admin::import_agencies(&self.store, Directory::bundled_sample())
            .await
            .map_err(|e| format!("importing the bundled directory into {name}: {e}"))?;
        Ok(())
    }
}

/// The secret the functions read their pepper from.
const PEPPER_SECRET: &str = "lapor-bench-pepper";

/// Creates the pepper secret, or leaves it when an earlier run made it.
async fn create_pepper(config: &aws_config::SdkConfig) {
    let created = aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(PEPPER_SECRET)
        .secret_string("bench-pepper-0123456789abcdef0123456789abcdef")
        .send()
        .await;
    if let Err(e) = created {
        if !e
            .as_service_error()
            .is_some_and(|e| e.is_resource_exists_exception())
        {
            panic!(
                "creating the pepper secret on moto: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            );
        }
    }
}

/// Creates the notifications topic through moto's SNS query API (the bench crate does not depend
/// on aws-sdk-sns). moto takes the region from the credential scope of the Authorization header
/// and does not check the signature.
async fn create_topic(endpoint: &str, region: &str) -> String {
    let scope = format!("testing/20260101/{region}/sns/aws4_request");
    let response = reqwest::Client::new()
        .post(format!("{}/", endpoint.trim_end_matches('/')))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
        )
        .body(format!(
            "Action=CreateTopic&Version=2010-03-31&Name={TOPIC}"
        ))
        .send()
        .await;
    let text = match response {
        Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
        Ok(r) => panic!("CreateTopic on moto answered {}", r.status()),
        Err(e) => panic!("CreateTopic on moto at {endpoint}: {e}"),
    };
    let arn = text
        .split_once("<TopicArn>")
        .and_then(|(_, rest)| rest.split_once("</TopicArn>"))
        .map(|(arn, _)| arn.trim().to_string());
    match arn {
        Some(arn) if arn.contains(region) => arn,
        _ => panic!("CreateTopic on moto gave no topic ARN in {region}: {text}"),
    }
}

/// A binary and the environment Lambda would give it (less the Runtime API's address).
struct Function {
    name: String,
    path: PathBuf,
    env: Vec<(String, String)>,
}

impl Function {
    fn new(
        name: &str,
        bin_dir: &Path,
        moto: Option<&Moto>,
        store: Option<&DynamoStore>,
    ) -> Function {
        // Only the AWS settings of the harness (moto's endpoint, region, dummy credentials) pass
        // through; nothing else of the caller's environment reaches the function.
        let mut env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_") && !k.starts_with("AWS_LAMBDA_"))
            .collect();
        let mut set = |k: &str, v: &str| env.push((k.to_string(), v.to_string()));
        set("AWS_LAMBDA_FUNCTION_NAME", &format!("lapor-{name}"));
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        set(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            &format!("/aws/lambda/lapor-{name}"),
        );
        set(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]00000000000000000000000000000000",
        );
        // The template's functions log JSON (Lambda then sets AWS_LAMBDA_LOG_FORMAT).
        set("AWS_LAMBDA_LOG_FORMAT", "JSON");
        set("RUST_LOG", "warn");
        set("CENTRAL_AGENCY_ID", "kemenpanrb");
        if let Some(store) = store {
            set("TABLE_NAME", store.table());
        }
        // Named, never touched at start-up: signing URLs needs no request.
        set("EVIDENCE_BUCKET", "lapor-bench-evidence");
        if let Some(moto) = moto {
            set("TOPIC_ARN", &moto.topic_arn);
            // Read from Secrets Manager at start-up, as in AWS: part of the cold start measured.
            set("ACCESS_KEY_PEPPER_SECRET", PEPPER_SECRET);
        }
        Function {
            name: name.to_string(),
            path: bin_dir.join(name),
            env,
        }
    }
}

/// The events one binary is fed: its sample, varied where a repeat would only replay the first
/// answer or find nothing to do.
struct Events {
    name: String,
    sample: Value,
    nonce: u32,
    sent: u32,
    store: Option<DynamoStore>,
}

impl Events {
    fn new(name: &str, sample: &str, nonce: u32, store: Option<DynamoStore>) -> Events {
        let sample = if sample.is_empty() {
            json!({ "bench": "hello" })
        } else {
            let path = workspace_root().join(sample);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
        };
        Events {
            name: name.to_string(),
            sample,
            nonce,
            sent: 0,
            store,
        }
    }

    /// The next invocation: its request id and event body.
    async fn next(&mut self) -> Result<(String, Vec<u8>), String> {
        let n = self.sent;
        self.sent += 1;
        let id = format!("{:08x}-{}-{n}", self.nonce, self.name);
        let mut event = self.sample.clone();
        match self.name.as_str() {
            "intake" => {
                event["headers"]["idempotency-key"] = json!(id);
                event["requestContext"]["requestId"] = json!(id);
            }
            "routing" | "stats" | "notify" => event = self.fresh_report(&event).await?,
            "sms" => self.vary_sms(&mut event, &id, n),
            _ => {}
        }
        let body = serde_json::to_vec(&event)
            .unwrap_or_else(|e| panic!("cannot serialise the {} event: {e}", self.name));
        Ok((id, body))
    }

    /// The stream sample about a new report with a fresh tracking code, that report (with its
    /// reporter and first event) written to the table as intake writes it: routing then routes
    /// it and notify texts its reporter, where the sample's own report would be missing.
    async fn fresh_report(&self, sample: &Value) -> Result<Value, String> {
        let code = TrackingCode::generate(&mut rand::rng());
        let text = sample
            .to_string()
            .replace(STREAM_SAMPLE_CODE, code.as_str());
        let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text)
            .map_err(|e| format!("{}: the sample is not a stream event: {e}", self.name))?;
        let report = lapor_store::report_changes(&event)
            .into_iter()
            .find_map(|(_, change)| change.ok().and_then(|c| c.new))
            .ok_or_else(|| format!("{}: the sample holds no new report", self.name))?;
        let Some(store) = &self.store else {
            return Err(format!("{}: no table to write its report to", self.name));
        };
        let submission = Submission {
            event: Event {
                seq: report.version,
                at: report.created_at,
                kind: EventKind::Submitted,
                actor: Actor::Reporter,
                agency: None,
                status_before: None,
                status_after: report.status,
                from_agency: None,
                to_agency: None,
                message: None,
                public: true,
                attachment: None,
            },
            reporter: Some(Reporter {
                name: Some("Siti Aminah".into()),
                phone: Phone::parse(REPORTER_PHONE).ok(),
                email: None,
                notifications: true,
            }),
            report,
            idempotency: None,
        };
        store
            .create_report(&submission, chrono::Utc::now().timestamp())
            .await
            .map_err(|e| format!("{}: writing its report: {e}", self.name))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: the sample is not JSON: {e}", self.name))
    }

    /// A new message id each time, and the sender cycling through `SMS_SENDERS` numbers: a
    /// block of +62812 numbers starting at a random point per run, so repeated runs on one moto
    /// stay under the hourly limit too.
    fn vary_sms(&self, event: &mut Value, id: &str, n: u32) {
        let block = self.nonce % (100_000_000 - SMS_SENDERS);
        let phone = format!("+62812{:08}", block + n % SMS_SENDERS);
        if Phone::parse(&phone).is_err() {
            panic!("{phone} is not a valid sender number");
        }
        let record = &mut event["Records"][0]["Sns"];
        let message = record["Message"].as_str().unwrap_or_default();
        let mut inbound: Value = serde_json::from_str(message)
            .unwrap_or_else(|e| panic!("the SMS sample's Message is not JSON: {e}"));
        inbound["inboundMessageId"] = json!(id);
        inbound["originationNumber"] = json!(phone);
        record["Message"] = json!(inbound.to_string());
        record["MessageId"] = json!(id);
    }
}

/// What a function posted for an invocation.
#[derive(Debug, Clone)]
enum Answer {
    /// An API Gateway response: its status code.
    Http(u16),
    /// A stream batch response naming this many failed records.
    Partial(usize),
    Ok,
    /// An error POST: its errorType.
    Error(String),
}

impl Answer {
    fn of_response(body: &[u8]) -> Answer {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if let Some(code) = value.get("statusCode").and_then(Value::as_u64) {
            return Answer::Http(u16::try_from(code).unwrap_or(u16::MAX));
        }
        match value.get("batchItemFailures").and_then(Value::as_array) {
            Some(failures) if !failures.is_empty() => Answer::Partial(failures.len()),
            _ => Answer::Ok,
        }
    }

    fn of_error(body: &[u8]) -> Answer {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let kind = value
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let message = value
            .get("errorMessage")
            .and_then(Value::as_str)
            .unwrap_or("");
        Answer::Error(format!("{kind}: {message}"))
    }

    fn label(&self) -> String {
        match self {
            Answer::Http(code) => code.to_string(),
            Answer::Partial(n) => format!("partial ({n} failed records)"),
            Answer::Ok => "ok".into(),
            Answer::Error(e) => format!("error ({e})"),
        }
    }

    fn as_json(&self) -> Value {
        match self {
            Answer::Http(code) => json!(code),
            Answer::Error(_) => json!("error"),
            other => json!(other.label()),
        }
    }
}

struct Invoked {
    latency: Duration,
    status: Answer,
}

/// A started function with its own loopback Runtime API.
struct Process {
    name: String,
    child: Child,
    pid: u32,
    api: RuntimeApi,
    tail: Tail,
}

impl Process {
    /// Starts the binary; returns it and the instant just before it was spawned.
    fn start(function: &Function) -> Result<(Process, Instant), String> {
        let api = RuntimeApi::start()?;
        let mut command = Command::new(&function.path);
        command
            .env_clear()
            .envs(function.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", function.path.display()))?;
        let pid = child
            .id()
            .ok_or_else(|| format!("{} exited at once", function.name))?;
        let tail = Tail::default();
        if let Some(out) = child.stdout.take() {
            tail.follow(out);
        }
        if let Some(err) = child.stderr.take() {
            tail.follow(err);
        }
        let process = Process {
            name: function.name.clone(),
            child,
            pid,
            api,
            tail,
        };
        Ok((process, spawned))
    }

    /// Waits for the function to ask for its next event; the instant it asked.
    async fn next_request(&mut self) -> Result<Instant, String> {
        tokio::select! {
            asked = self.api.asked.recv() => {
                asked.ok_or_else(|| format!("{}: the Runtime API stopped", self.name))
            }
            posted = self.api.posted.recv() => Err(match posted {
                Some(Posted { kind: PostKind::InitError, body, .. }) => format!(
                    "{}: init error {}{}",
                    self.name,
                    String::from_utf8_lossy(&body),
                    self.tail.show()
                ),
                _ => format!("{}: posted a result without an invocation", self.name),
            }),
            status = self.child.wait() => Err(self.exited(status, "asking for an event")),
            () = tokio::time::sleep(INIT_TIMEOUT) => Err(format!(
                "{}: no request for an event within {INIT_TIMEOUT:?}{}",
                self.name,
                self.tail.show()
            )),
        }
    }

    /// Hands one event over when the function asks for it; times it until the answer arrives.
    async fn invoke(&mut self, (id, body): (String, Vec<u8>)) -> Result<Invoked, String> {
        self.next_request().await?;
        let handed = Instant::now();
        let invocation = Invocation {
            id: id.clone(),
            body,
        };
        if self.api.events.send(invocation).await.is_err() {
            return Err(format!("{}: the Runtime API stopped", self.name));
        }
        let posted = tokio::select! {
            posted = self.api.posted.recv() => {
                posted.ok_or_else(|| format!("{}: the Runtime API stopped", self.name))?
            }
            status = self.child.wait() => return Err(self.exited(status, "handling an event")),
            () = tokio::time::sleep(INVOKE_TIMEOUT) => return Err(format!(
                "{}: no answer to {id} within {INVOKE_TIMEOUT:?}{}",
                self.name,
                self.tail.show()
            )),
        };
        if posted.id.as_deref() != Some(id.as_str()) {
            return Err(format!(
                "{}: answered {:?} to invocation {id}",
                self.name, posted.id
            ));
        }
        let status = match posted.kind {
            PostKind::Response => Answer::of_response(&posted.body),
            PostKind::Error => Answer::of_error(&posted.body),
            PostKind::InitError => return Err(format!("{}: init error mid-run", self.name)),
        };
        Ok(Invoked {
            latency: posted.at.saturating_duration_since(handed),
            status,
        })
    }

    fn exited(&self, status: std::io::Result<ExitStatus>, doing: &str) -> String {
        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
        format!(
            "{} exited ({status}) while {doing}{}",
            self.name,
            self.tail.show()
        )
    }

    async fn stop(mut self) {
        // SIGKILL, as Lambda freezes and discards an environment; the error only says it had
        // already exited.
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// (VmHWM, VmRSS) of a process, in kB.
fn read_memory(pid: u32) -> Result<(u64, u64), String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .ok_or_else(|| format!("no {name} in {path}"))
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// The last lines a function wrote to stdout and stderr, for error messages.
#[derive(Clone, Default)]
struct Tail(Arc<StdMutex<VecDeque<String>>>);

impl Tail {
    fn follow(&self, stream: impl AsyncRead + Unpin + Send + 'static) {
        let lines = self.0.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            while matches!(reader.read_until(b'\n', &mut line).await, Ok(n) if n > 0) {
                if let Ok(mut lines) = lines.lock() {
                    if lines.len() == TAIL_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                }
                line.clear();
            }
        });
    }

    fn show(&self) -> String {
        match self.0.lock() {
            Ok(lines) if !lines.is_empty() => {
                let text: Vec<&str> = lines.iter().map(String::as_str).collect();
                format!("\nlast output:\n{}", text.join("\n"))
            }
            _ => String::new(),
        }
    }
}

/// One event handed to the function by `GET …/invocation/next`.
struct Invocation {
    id: String,
    body: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
enum PostKind {
    Response,
    Error,
    InitError,
}

/// A result the function posted, and when it arrived.
struct Posted {
    id: Option<String>,
    kind: PostKind,
    body: Bytes,
    at: Instant,
}

/// The harness's side of a loopback Lambda Runtime API serving one process.
struct RuntimeApi {
    port: u16,
    asked: mpsc::UnboundedReceiver<Instant>,
    events: mpsc::Sender<Invocation>,
    posted: mpsc::UnboundedReceiver<Posted>,
    server: tokio::task::JoinHandle<()>,
}

/// The server's side.
struct Shared {
    asked: mpsc::UnboundedSender<Instant>,
    events: Mutex<mpsc::Receiver<Invocation>>,
    posted: mpsc::UnboundedSender<Posted>,
}

impl RuntimeApi {
    fn start() -> Result<RuntimeApi, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .and_then(|l| tokio::net::TcpListener::from_std(l))
            .map_err(|e| format!("cannot listen on loopback: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("loopback listener: {e}"))?
            .port();
        let (asked_tx, asked) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::channel(1);
        let (posted_tx, posted) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            asked: asked_tx,
            events: Mutex::new(events_rx),
            posted: posted_tx,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared);
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("cold_start: loopback Runtime API stopped: {e}");
            }
        });
        Ok(RuntimeApi {
            port,
            asked,
            events,
            posted,
            server,
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Dropping `events` releases a `next` request still waiting; the listener goes here.
        self.server.abort();
    }
}

async fn next_event(State(shared): State<Arc<Shared>>) -> Response {
    let _ = shared.asked.send(Instant::now());
    let Some(invocation) = shared.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = SystemTime::now()
        .checked_add(DEADLINE)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("content-type", "application/json".into());
    put("lambda-runtime-aws-request-id", invocation.id);
    put("lambda-runtime-deadline-ms", deadline.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:ap-southeast-3:123456789012:function:lapor-bench".into(),
    );
    put(
        "lambda-runtime-trace-id",
        "Root=1-6566f1a2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0".into(),
    );
    (StatusCode::OK, headers, invocation.body).into_response()
}

fn accepted(shared: &Shared, id: Option<String>, kind: PostKind, body: Bytes) -> Response {
    let _ = shared.posted.send(Posted {
        id,
        kind,
        body,
        at: Instant::now(),
    });
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

async fn invocation_response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    accepted(&shared, Some(id), PostKind::Response, body)
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    accepted(&shared, Some(id), PostKind::Error, body)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    accepted(&shared, None, PostKind::InitError, body)
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "cpu": model, "cores": cores })
}

fn print_table(
    measured: &[(&str, Result<Measured, String>)],
    hello_median: Option<f64>,
    invocations: usize,
) {
    println!(
        "| binary | cold init min / median / p90 (ms) | × hello (median) | 1st invocation (ms) \
         | 2nd invocation (ms) | peak RSS (MB) over {invocations} invocations |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (name, result) in measured {
        match result {
            Ok(m) => {
                let ratio = hello_median
                    .filter(|h| *h > 0.0)
                    .map_or("–".to_string(), |h| {
                        format!("{:.2}", m.cold_init.median / h)
                    });
                println!(
                    "| {name} | {:.2} / {:.2} / {:.2} | {ratio} | {:.2} ({}) | {:.2} ({}) | {:.1} |",
                    m.cold_init.min,
                    m.cold_init.median,
                    m.cold_init.p90,
                    ms(m.first.latency),
                    m.first.status.label(),
                    ms(m.second.latency),
                    m.second.status.label(),
                    m.run.peak_rss_kb as f64 / 1024.0,
                );
            }
            Err(e) => {
                let first_line = e.lines().next().unwrap_or("");
                println!("| {name} | failed: {first_line} | | | | |");
            }
        }
    }
    println!();
    for (name, result) in measured {
        if let Ok(m) = result {
            let statuses: Vec<String> = m
                .run
                .statuses
                .iter()
                .map(|(s, n)| format!("{n}× {s}"))
                .collect();
            println!(
                "- {name}: {} invocations: {}; median {:.2} ms, p99 {:.2} ms; {} error POSTs; VmRSS after {:.1} MB",
                m.run.invocations,
                statuses.join(", "),
                m.run.latency.median,
                m.run.latency.p99,
                m.run.errors,
                m.run.rss_kb as f64 / 1024.0,
            );
        }
    }
}
