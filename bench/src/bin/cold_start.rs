//! Cold init and first invocations of every Lambda function binary, unthrottled and at a 128 MB
//! function's CPU share, and peak memory, against a loopback Lambda Runtime API (one per started
//! process, so timings never mix) and moto.
//!
//! For each binary, after one unmeasured process fed two events: `--runs` cold starts, each a
//! fresh process timed from just before it is spawned to its first
//! `GET /2018-06-01/runtime/invocation/next` (where Lambda ends init), then handed two events,
//! each invocation timed from handing the event over to receiving its response; the same again,
//! `--throttled-runs` times, with the process started in a CPU-limited cgroup (see [`Throttle`]);
//! one process started under valgrind's callgrind, whose instruction counts are dumped at each
//! request for an event (init, 1st and 2nd invocation: a count that neither the machine's load
//! nor moto's speed moves; see [`count_instructions`]); one process fed `--invocations` events
//! back to back, whose VmHWM is read from /proc when it waits for the next one. Writes
//! `target/bench/cold.json` and prints Markdown tables.
//!
//! Each function gets a table of its own (the bundled directory imported), created again before
//! the measured invocations and every `RESET_EVERY` invocations, so that what was written before
//! never slows moto's answers. Events repeat the sample but vary what would otherwise make a
//! repeat a no-op: intake's idempotency key, the SMS message id and sender, for the stream
//! functions a fresh report (written to the table first, as intake would have), and for the
//! evidence function a fresh report with an attachment waiting for its upload, the upload (a
//! small JPEG) put into the bucket's quarantine on moto. Whatever an event needs is written
//! before the process that takes it is started, so none of it is timed.
//!
//! Needs moto (`AWS_ENDPOINT_URL` and dummy credentials, as `scripts/lib/common.sh` sets them),
//! the binaries built with one profile into `--bin-dir`, and for the throttled runs a writable
//! cgroup cpu controller (v1 or v2); without one the throttled runs are reported as not measured.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd};
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
use lapor_core::{
    Actor, AttachmentId, Directory, Event, EventKind, FileType, KeyPepper, Phone, Report, Reporter,
    TrackingCode, UploadRequest, Uploader,
};
use lapor_store::{DynamoStore, Reports, Submission};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Mutex};

/// Every function of the stack, after the baseline, with the sample event it is fed.
const BINARIES: [(&str, &str); 10] = [
    ("hello", ""),
    ("intake", "events/intake/submit-report.json"),
    ("officer", "events/officer/triage-queue.json"),
    ("routing", "events/routing/new-report.json"),
    ("stats", "events/stats/new-report.json"),
    ("notify", "events/notify/report-received.json"),
    ("escalation", "events/escalation/scheduled.json"),
    ("sms", "events/sms/lapor-new-report.json"),
    ("evidence", "events/evidence/object-created.json"),
    ("web", "events/web/home.json"),
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
/// The stream sample whose report, with a fresh tracking code, the evidence function's uploads
/// are attached to.
const UPLOAD_REPORT_SAMPLE: &str = "events/routing/new-report.json";
/// The attachment id in the evidence sample's key, replaced by the fresh attachment's.
const EVIDENCE_SAMPLE_ID: &str = "01KBCZ3X8WJ4Y7N1T5Q2R6M9VE";
/// The evidence bucket on moto (`EVIDENCE_BUCKET` of every function).
const BUCKET: &str = "lapor-bench-evidence";
/// Size of the JPEG uploaded for every evidence invocation: a small photo, so that the
/// invocation shows the function's own costs more than decoding.
const UPLOAD_SIZE: (u32, u32) = (640, 480);
/// A CFS bandwidth period and the quota in it: 128/1769 of one CPU, as Lambda gives a 128 MB
/// function (a full vCPU at 1,769 MB): 100 ms × 128 / 1769 = 7.236 ms.
const PERIOD_US: u64 = 100_000;
const QUOTA_US: u64 = 7_236;
/// Pause before each throttled start, longer than a period: no run inherits a quota the one
/// before it used up.
const SETTLE: Duration = Duration::from_millis(250);
/// Throttled, a process gets 14× less CPU time: a generous limit at either speed.
const INIT_TIMEOUT: Duration = Duration::from_secs(30);
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// What Lambda gives a function before its deadline (the template's timeouts are at least this).
const DEADLINE: Duration = Duration::from_secs(30);
const TAIL_LINES: usize = 20;

struct Args {
    bin_dir: PathBuf,
    runs: usize,
    throttled_runs: usize,
    invocations: usize,
    only: Vec<String>,
}

const USAGE: &str =
    "usage: cold_start [--bin-dir DIR] [--runs N] [--throttled-runs N] [--invocations N] [--only NAME]...
  --bin-dir DIR         where the function binaries and hello are (default:
                        <workspace>/target/<arch>-unknown-linux-gnu/release, where scripts/bench
                        builds them with the release profile a deploy uses)
  --runs N              unthrottled cold starts per binary (default 30)
  --throttled-runs N    cold starts per binary at a 128 MB function's CPU share (default 15)
  --invocations N       invocations fed to one process for its peak RSS (default 1000)
  --only NAME           measure only this binary (repeatable); the hello baseline always runs
binaries: hello intake officer routing stats notify escalation sms evidence web";

fn parse_args() -> Args {
    let mut args = Args {
        bin_dir: workspace_root()
            .join("target")
            .join(format!("{}-unknown-linux-gnu", std::env::consts::ARCH))
            .join("release"),
        runs: 30,
        throttled_runs: 15,
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
            "--throttled-runs" => args.throttled_runs = count(&value),
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
    let throttle = Throttle::create(&format!("lapor-bench-cold-{nonce:08x}"));
    match &throttle {
        Ok(t) => eprintln!(
            "cold_start: throttled runs in {} ({})",
            t.dir.display(),
            t.mechanism
        ),
        Err(e) => eprintln!("cold_start: NO THROTTLED RUNS, no writable cgroup: {e}"),
    }

    let mut measured: Vec<(&str, Result<Measured, String>)> = Vec::new();
    for (name, sample) in &selected {
        eprintln!("cold_start: {name}");
        let table = match &moto {
            Some(moto) if *name != BASELINE => Some(moto.table_for(name).await),
            _ => None,
        };
        let store = table.as_ref().map(|t| t.store.clone());
        let function = Function::new(name, &args.bin_dir, moto.as_ref(), store.as_ref());
        let events = Events::new(name, sample, nonce, store, moto.as_ref());
        let result = measure(
            &function,
            table.as_ref(),
            events,
            &args,
            throttle.as_ref().ok(),
        )
        .await;
        if let Err(e) = &result {
            eprintln!("cold_start: {name} failed: {e}");
        }
        measured.push((name, result));
    }

    let baseline = measured
        .iter()
        .find(|(name, _)| *name == BASELINE)
        .and_then(|(_, r)| r.as_ref().ok());
    let hello = Baseline {
        unthrottled: baseline.map(|m| m.unthrottled.init.median),
        throttled: baseline
            .and_then(|m| m.throttled.as_ref())
            .and_then(|t| t.as_ref().ok())
            .map(|t| t.init.median),
    };
    let functions: serde_json::Map<String, Value> = measured
        .iter()
        .map(|(name, result)| {
            let value = match result {
                Ok(m) => m.to_json(&hello),
                Err(e) => json!({ "error": e }),
            };
            (name.to_string(), value)
        })
        .collect();
    let throttle_json = match &throttle {
        Ok(t) => json!({
            "applied": true,
            "mechanism": t.mechanism,
            "cgroup": t.dir.display().to_string(),
            "quota_us": QUOTA_US,
            "period_us": PERIOD_US,
            "cpu_share": QUOTA_US as f64 / PERIOD_US as f64,
            "memory_mb": 128,
        }),
        Err(e) => json!({ "applied": false, "reason": e }),
    };
    write_json(
        "cold",
        &json!({
            "functions": functions,
            "runs": args.runs,
            "throttled_runs": args.throttled_runs,
            "invocations": args.invocations,
            "throttle": throttle_json,
            "machine": machine(),
            "method": {
                "runtime_api": "loopback, one server per process",
                "cold_init": "spawn to first GET /2018-06-01/runtime/invocation/next",
                "invocation": "event handed over to response POST received",
                "runs": "a fresh process each: init, then the 1st and 2nd invocation",
                "init_plus_first": "median over the runs of init + 1st invocation",
                "cpu": "the process's threads' time on a core (/proc/<pid>/task/*/schedstat): \
                        to the first request for an event (init), then from each request for \
                        an event to the next (an invocation)",
                "throttled": "only the function process is in the cgroup, not the Runtime API, \
                              moto or the harness",
                "instructions": "one fresh process under valgrind --tool=callgrind, its counts \
                                 dumped (callgrind_control -d) at each request for an event: \
                                 init, the 1st and the 2nd invocation (unthrottled)",
                "peak_rss": "VmHWM from /proc/<pid>/status after the invocations (unthrottled)",
                "sms_senders": SMS_SENDERS,
                "table_reset_every": RESET_EVERY,
            },
            "seconds": started.elapsed().as_secs_f64(),
        }),
    );
    print_tables(&measured, &hello, &throttle, args.invocations);
    drop(throttle);
    eprintln!(
        "cold_start: {:.0} s; wrote {}",
        started.elapsed().as_secs_f64(),
        lapor_bench::out_dir().join("cold.json").display()
    );
}

/// hello's median cold init in each mode (ms), what the functions' are compared with.
struct Baseline {
    unthrottled: Option<f64>,
    throttled: Option<f64>,
}

/// What one binary measured.
struct Measured {
    unthrottled: ColdRuns,
    /// `None` without a cgroup to throttle in.
    throttled: Option<Result<ColdRuns, String>>,
    /// Instructions executed, one run under callgrind; why not when valgrind cannot run.
    instructions: Result<Instructions, String>,
    run: RunTally,
}

/// Instructions one fresh process executed (callgrind's `Ir`): to its first request for an
/// event, then from each request for an event to the next.
struct Instructions {
    init: u64,
    first: u64,
    second: u64,
}

impl Instructions {
    fn to_json(&self) -> Value {
        json!({
            "init": self.init,
            "first": self.first,
            "second": self.second,
            "first_to_second": (self.second > 0).then(|| self.first as f64 / self.second as f64),
        })
    }
}

/// Fresh processes, each timed to its first request for an event and then handed two events.
struct ColdRuns {
    init: Summary,
    first: Summary,
    second: Summary,
    /// Init + 1st invocation of each run: what the first caller of a new environment waits.
    init_plus_first: Summary,
    /// The process's own CPU time (see [`cpu_ms`]): to its first request for an event, and
    /// from each request for an event to the next (the invocation and what it did after
    /// answering).
    init_cpu: Summary,
    first_cpu: Summary,
    second_cpu: Summary,
    first_statuses: BTreeMap<String, usize>,
    second_statuses: BTreeMap<String, usize>,
}

impl ColdRuns {
    fn to_json(&self, hello_init: Option<f64>) -> Value {
        json!({
            "init_ms": self.init,
            "first_ms": self.first,
            "second_ms": self.second,
            "init_plus_first_ms": self.init_plus_first,
            "init_to_hello": hello_init.filter(|h| *h > 0.0).map(|h| self.init.median / h),
            "first_to_second": median_ratio(&self.first, &self.second),
            "init_cpu_ms": self.init_cpu,
            "first_cpu_ms": self.first_cpu,
            "second_cpu_ms": self.second_cpu,
            "first_to_second_cpu": median_ratio(&self.first_cpu, &self.second_cpu),
            "first_statuses": self.first_statuses,
            "second_statuses": self.second_statuses,
        })
    }
}

/// `a`'s median over `b`'s; none when `b`'s is not above zero.
fn median_ratio(a: &Summary, b: &Summary) -> Option<f64> {
    Some(b.median).filter(|m| *m > 0.0).map(|m| a.median / m)
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
    fn to_json(&self, hello: &Baseline) -> Value {
        let throttled = match &self.throttled {
            Some(Ok(runs)) => runs.to_json(hello.throttled),
            Some(Err(e)) => json!({ "error": e }),
            None => Value::Null,
        };
        json!({
            "unthrottled": self.unthrottled.to_json(hello.unthrottled),
            "throttled": throttled,
            "instructions": match &self.instructions {
                Ok(counted) => counted.to_json(),
                Err(e) => json!({ "error": e }),
            },
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
    mut events: Events<'_>,
    args: &Args,
    throttle: Option<&Throttle>,
) -> Result<Measured, String> {
    if !function.path.is_file() {
        return Err(format!(
            "{} not found: build it into --bin-dir",
            function.path.display()
        ));
    }
    // An unmeasured process first, so that moto has served every kind of request this function
    // makes before one is timed: the first invocation then shows the function's own first-call
    // costs, not moto's.
    let (mut process, _) = Process::start(function, None)?;
    process.invoke(events.next().await?).await?;
    process.invoke(events.next().await?).await?;
    process.stop().await;

    let unthrottled = cold_runs(function, table, &mut events, args.runs, None).await?;
    let throttled = match throttle {
        Some(throttle) => Some(
            cold_runs(
                function,
                table,
                &mut events,
                args.throttled_runs,
                Some(throttle),
            )
            .await,
        ),
        None => None,
    };

    let instructions = count_instructions(function, table, &mut events).await;
    if let Err(e) = &instructions {
        eprintln!("cold_start: {}: no instruction count: {e}", function.name);
    }

    let (mut process, _) = Process::start(function, None)?;
    let mut latencies = Vec::with_capacity(args.invocations);
    let mut errors = 0;
    let mut statuses = BTreeMap::new();
    for i in 0..args.invocations {
        if i % RESET_EVERY == 0 {
            reset(table).await?;
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
        unthrottled,
        throttled,
        instructions,
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

/// `runs` fresh processes (in `throttle`'s cgroup if given), each timed to its first request
/// for an event and then handed two events.
async fn cold_runs(
    function: &Function,
    table: Option<&Table>,
    events: &mut Events<'_>,
    runs: usize,
    throttle: Option<&Throttle>,
) -> Result<ColdRuns, String> {
    let (mut init, mut first, mut second, mut sum) = (vec![], vec![], vec![], vec![]);
    let (mut init_cpu, mut first_cpu, mut second_cpu) = (vec![], vec![], vec![]);
    let mut first_statuses = BTreeMap::new();
    let mut second_statuses = BTreeMap::new();
    for run in 0..runs {
        if run % (RESET_EVERY / 2) == 0 {
            reset(table).await?;
        }
        let (one, two) = (events.next().await?, events.next().await?);
        if throttle.is_some() {
            tokio::time::sleep(SETTLE).await;
        }
        let (mut process, spawned) = Process::start(function, throttle)?;
        let asked = process.next_request().await?;
        let cpu_asked = cpu_ms(process.pid)?;
        let answered = process.answer(one).await?;
        process.next_request().await?;
        let cpu_first = cpu_ms(process.pid)?;
        let again = process.answer(two).await?;
        process.next_request().await?;
        let cpu_second = cpu_ms(process.pid)?;
        process.stop().await;
        init_cpu.push(cpu_asked);
        first_cpu.push(cpu_first - cpu_asked);
        second_cpu.push(cpu_second - cpu_first);
        init.push(ms(asked - spawned));
        first.push(ms(answered.latency));
        second.push(ms(again.latency));
        sum.push(ms(asked - spawned) + ms(answered.latency));
        *first_statuses.entry(answered.status.label()).or_insert(0) += 1;
        *second_statuses.entry(again.status.label()).or_insert(0) += 1;
    }
    let summary = |samples: &[f64]| Summary::of(samples).ok_or("no cold starts");
    Ok(ColdRuns {
        init: summary(&init)?,
        first: summary(&first)?,
        second: summary(&second)?,
        init_plus_first: summary(&sum)?,
        init_cpu: summary(&init_cpu)?,
        first_cpu: summary(&first_cpu)?,
        second_cpu: summary(&second_cpu)?,
        first_statuses,
        second_statuses,
    })
}

/// One fresh process under callgrind (`valgrind --tool=callgrind`), its counts dumped
/// (`callgrind_control -d`) at each request for an event: the instructions of init, of the 1st
/// and of the 2nd invocation. Unlike a time, a count does not change with the machine's load or
/// with how fast moto answers, so the 1st's excess over the 2nd is the function's own one-time
/// work. Slow (callgrind runs the code some 50 times slower), so one run; unthrottled.
async fn count_instructions(
    function: &Function,
    table: Option<&Table>,
    events: &mut Events<'_>,
) -> Result<Instructions, String> {
    // Found on the harness's PATH: the function's own environment has none.
    let valgrind = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("valgrind"))
        .find(|path| path.is_file())
        .ok_or("valgrind is not installed (scripts/bench installs it)")?;
    let out = lapor_bench::out_dir().join(format!("callgrind-{}.out", function.name));
    let under = Function {
        path: valgrind,
        args: vec![
            "-q".into(),
            "--tool=callgrind".into(),
            format!("--callgrind-out-file={}", out.display()),
            function.path.display().to_string(),
        ],
        ..function.clone()
    };
    // callgrind numbers its dumps: `<out>.1` at init's end, `.2` and `.3` after each invocation.
    let parts = [1, 2, 3].map(|n| PathBuf::from(format!("{}.{n}", out.display())));
    for part in &parts {
        let _ = std::fs::remove_file(part);
    }
    reset(table).await?;
    let (one, two) = (events.next().await?, events.next().await?);
    let (mut process, _) = Process::start(&under, None)?;
    let counted = async {
        process.next_request().await?;
        dump_counts(process.pid).await?;
        process.answer(one).await?;
        process.next_request().await?;
        dump_counts(process.pid).await?;
        process.answer(two).await?;
        process.next_request().await?;
        dump_counts(process.pid).await
    }
    .await;
    process.stop().await;
    counted?;
    let [init, first, second] = parts.map(|p| callgrind_total(&p));
    Ok(Instructions {
        init: init?,
        first: first?,
        second: second?,
    })
}

/// Has callgrind write what it counted since its last dump, now. The process is waiting for an
/// event; `callgrind_control` (through vgdb) wakes it to dump and returns when it has.
async fn dump_counts(pid: u32) -> Result<(), String> {
    let output = Command::new("callgrind_control")
        .arg("-d")
        .arg(pid.to_string())
        .output()
        .await
        .map_err(|e| format!("cannot run callgrind_control: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "callgrind_control -d {pid} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The instruction total of one callgrind dump (its `totals:` line, or `summary:`).
fn callgrind_total(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("no callgrind dump at {}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{}: no totals line", path.display()))
}

/// Creates the function's table again (hello has none).
async fn reset(table: Option<&Table>) -> Result<(), String> {
    match table {
        Some(table) => table.reset().await,
        None => Ok(()),
    }
}

/// A CPU-limited cgroup, the share of a 128 MB Lambda function (`QUOTA_US` per `PERIOD_US`),
/// that a measured function process joins between fork and exec, before any code of its own
/// runs; nothing else is moved into it. Removed when the run ends.
struct Throttle {
    dir: PathBuf,
    mechanism: &'static str,
    /// The cgroup's `cgroup.procs`, open for writing: the child writes `0` (itself) to it.
    procs: std::fs::File,
}

impl Throttle {
    /// The cgroup v1 cpu controller at /sys/fs/cgroup/cpu, else cgroup v2's `cpu.max` under
    /// /sys/fs/cgroup; why neither could be used otherwise.
    fn create(name: &str) -> Result<Throttle, String> {
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let v1_failed = match Self::create_v1(&v1.join(name)) {
            Ok(throttle) => return Ok(throttle),
            Err(e) => e,
        };
        let v2 = Path::new("/sys/fs/cgroup");
        Self::create_v2(v2, &v2.join(name))
            .map_err(|v2_failed| format!("cgroup v1: {v1_failed}; cgroup v2: {v2_failed}"))
    }

    fn create_v1(dir: &Path) -> Result<Throttle, String> {
        let parent = dir.parent().unwrap_or(dir);
        if !parent.join("cpu.cfs_quota_us").is_file() {
            return Err(format!("no cpu controller at {}", parent.display()));
        }
        Self::make(
            dir,
            "cgroup v1, cpu.cfs_quota_us / cpu.cfs_period_us",
            |dir| {
                write_control(&dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write_control(&dir.join("cpu.cfs_quota_us"), &QUOTA_US.to_string())
            },
        )
    }

    fn create_v2(root: &Path, dir: &Path) -> Result<Throttle, String> {
        let controllers = std::fs::read_to_string(root.join("cgroup.controllers"))
            .map_err(|e| format!("no cgroup v2 hierarchy at {}: {e}", root.display()))?;
        if !controllers.split_whitespace().any(|c| c == "cpu") {
            return Err(format!("no cpu controller in {}", root.display()));
        }
        let subtree = root.join("cgroup.subtree_control");
        let enabled = std::fs::read_to_string(&subtree).unwrap_or_default();
        if !enabled.split_whitespace().any(|c| c == "cpu") {
            write_control(&subtree, "+cpu")?;
        }
        Self::make(dir, "cgroup v2, cpu.max", |dir| {
            write_control(&dir.join("cpu.max"), &format!("{QUOTA_US} {PERIOD_US}"))
        })
    }

    /// Creates `dir`, limits it with `limit` and opens its `cgroup.procs`; removes it again if
    /// any step fails.
    fn make(
        dir: &Path,
        mechanism: &'static str,
        limit: impl FnOnce(&Path) -> Result<(), String>,
    ) -> Result<Throttle, String> {
        std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let procs = dir.join("cgroup.procs");
        let opened = limit(dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&procs)
                .map_err(|e| format!("cannot open {}: {e}", procs.display()))
        });
        match opened {
            Ok(procs) => Ok(Throttle {
                dir: dir.to_path_buf(),
                mechanism,
                procs,
            }),
            Err(e) => {
                let _ = std::fs::remove_dir(dir);
                Err(e)
            }
        }
    }

    /// Makes `command`'s process join the cgroup before it execs.
    fn confine(&self, command: &mut Command) {
        let procs = self.procs.as_raw_fd();
        // SAFETY: between fork and exec the closure only calls write(2) on a descriptor that
        // `self` keeps open, which is async-signal-safe and allocates nothing. The `File` is
        // never dropped, so the descriptor is not closed here.
        unsafe {
            command.pre_exec(move || {
                let procs = std::mem::ManuallyDrop::new(std::fs::File::from_raw_fd(procs));
                (&*procs).write_all(b"0")
            });
        }
    }
}

impl Drop for Throttle {
    /// Removes the cgroup, waiting a little for a process killed on an error path to exit.
    fn drop(&mut self) {
        for _ in 0..40 {
            match std::fs::remove_dir(&self.dir) {
                Err(e) if e.raw_os_error() == Some(EBUSY) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => {
                    return eprintln!("cold_start: cannot remove {}: {e}", self.dir.display())
                }
                Ok(()) => return,
            }
        }
        eprintln!(
            "cold_start: cannot remove {}: a process is still in it",
            self.dir.display()
        );
    }
}

/// errno of rmdir on a cgroup that still holds a process.
const EBUSY: i32 = 16;

fn write_control(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value)
        .map_err(|e| format!("cannot write {value:?} to {}: {e}", path.display()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// moto, with the notifications topic every function is configured with and the evidence bucket.
struct Moto {
    endpoint: String,
    region: String,
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
        let moto = Moto {
            endpoint,
            region,
            config,
            topic_arn,
        };
        moto.create_bucket().await;
        moto
    }

    /// Creates the evidence bucket, or leaves it when an earlier run made it.
    async fn create_bucket(&self) {
        let configuration = format!(
            "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint>\
             </CreateBucketConfiguration>",
            self.region
        );
        let (status, text) = self
            .s3_put(BUCKET, "application/xml", configuration.into_bytes())
            .await
            .unwrap_or_else(|e| panic!("creating the evidence bucket: {e}"));
        if !status.is_success() && !text.contains("BucketAlreadyOwnedByYou") {
            panic!("creating the evidence bucket on moto: {status} {text}");
        }
    }

    /// A PUT to moto's S3 REST API at `path` (path-style: bucket, then key). Like
    /// [`create_topic`], without aws-sdk-s3; moto does not check the signature.
    async fn s3_put(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(reqwest::StatusCode, String), String> {
        let scope = format!("testing/20260101/{}/s3/aws4_request", self.region);
        let url = format!("{}/{path}", self.endpoint.trim_end_matches('/'));
        let response = reqwest::Client::new()
            .put(&url)
            .header("content-type", content_type)
            .header(
                "authorization",
                format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| format!("PUT {url}: {e}"))?;
        let status = response.status();
        Ok((status, response.text().await.unwrap_or_default()))
    }

    /// Puts `bytes` into the evidence bucket at `key`.
    async fn upload(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        let (status, text) = self
            .s3_put(&format!("{BUCKET}/{key}"), "image/jpeg", bytes)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("putting {key} on moto: {status} {text}"))
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
/// What that secret holds.
const PEPPER: &str = "bench-pepper-0123456789abcdef0123456789abcdef";

/// The pepper as the functions read it, for what intake would key with it.
fn pepper() -> KeyPepper {
    KeyPepper::new(PEPPER.as_bytes().to_vec())
        .unwrap_or_else(|| unreachable!("the bench pepper is longer than 32 bytes"))
}

/// Creates the pepper secret, or leaves it when an earlier run made it.
async fn create_pepper(config: &aws_config::SdkConfig) {
    let created = aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(PEPPER_SECRET)
        .secret_string(PEPPER)
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
#[derive(Clone)]
struct Function {
    name: String,
    path: PathBuf,
    /// Arguments, for a binary started through another (callgrind); none otherwise.
    args: Vec<String>,
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
        // Never touched at start-up: signing URLs needs no request.
        set("EVIDENCE_BUCKET", BUCKET);
        if name == "web" {
            // As the template sets them; the sign-in secret is read on the first sign-in only.
            set(
                "CONSOLE_AUTH_DOMAIN",
                "https://lapor-bench.auth.ap-southeast-3.amazoncognito.com",
            );
            set(
                "CONSOLE_ISSUER",
                "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_bench",
            );
            set("CONSOLE_SIGN_IN_SECRET", "lapor-bench/console-sign-in");
        }
        if let Some(moto) = moto {
            set("TOPIC_ARN", &moto.topic_arn);
            // Read from Secrets Manager as in AWS (started at start-up by intake and sms, on first
            // use by web; by notify only for a reporter stored without contact keys, which this
            // harness never writes): part of the init or first invocation measured.
            set("ACCESS_KEY_PEPPER_SECRET", PEPPER_SECRET);
        }
        Function {
            name: name.to_string(),
            path: bin_dir.join(name),
            args: Vec::new(),
            env,
        }
    }
}

/// The events one binary is fed: its sample, varied where a repeat would only replay the first
/// answer or find nothing to do.
struct Events<'m> {
    name: String,
    sample: Value,
    nonce: u32,
    sent: u32,
    store: Option<DynamoStore>,
    moto: Option<&'m Moto>,
    /// The evidence function's: the upload and the stream sample its report comes from.
    upload: Option<(Vec<u8>, String)>,
}

impl<'m> Events<'m> {
    fn new(
        name: &str,
        sample: &str,
        nonce: u32,
        store: Option<DynamoStore>,
        moto: Option<&'m Moto>,
    ) -> Events<'m> {
        let sample = if sample.is_empty() {
            json!({ "bench": "hello" })
        } else {
            serde_json::from_str(&read_sample(sample))
                .unwrap_or_else(|e| panic!("{sample} is not JSON: {e}"))
        };
        let upload = (name == "evidence").then(|| (photo(), read_sample(UPLOAD_REPORT_SAMPLE)));
        Events {
            name: name.to_string(),
            sample,
            nonce,
            sent: 0,
            store,
            moto,
            upload,
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
            "evidence" => event = self.fresh_upload(&event).await?,
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
        self.write_report(&text).await?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: the sample is not JSON: {e}", self.name))
    }

    /// The evidence sample about a fresh upload: a fresh report with an attachment waiting for
    /// its file (as intake leaves it when it hands out the upload URL), and the file in the
    /// bucket's quarantine under the key the event names.
    async fn fresh_upload(&self, sample: &Value) -> Result<Value, String> {
        let (Some((photo, report_sample)), Some(store), Some(moto)) =
            (&self.upload, &self.store, self.moto)
        else {
            return Err(format!("{}: no upload, table or moto", self.name));
        };
        let code = TrackingCode::generate(&mut rand::rng());
        let report = self
            .write_report(&report_sample.replace(STREAM_SAMPLE_CODE, code.as_str()))
            .await?;
        let now = chrono::Utc::now();
        let id = AttachmentId::generate(now, &mut rand::rng());
        let request = UploadRequest {
            file_type: FileType::Jpeg,
            size: photo.len() as u64,
        };
        let waiting = report
            .attach(id.clone(), Uploader::Reporter, request, now)
            .map_err(|e| format!("{}: attaching to its report: {e:?}", self.name))?;
        store
            .update_report(&report, &waiting, &[])
            .await
            .map_err(|e| format!("{}: writing the attachment: {e}", self.name))?;
        let text = sample
            .to_string()
            .replace(STREAM_SAMPLE_CODE, code.as_str())
            .replace(EVIDENCE_SAMPLE_ID, id.as_str());
        let mut event: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: the sample is not JSON: {e}", self.name))?;
        // Uploaded now: the sample's own time would be past the upload URL's expiry.
        event["time"] = json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let key = event["detail"]["object"]["key"]
            .as_str()
            .ok_or_else(|| format!("{}: the sample names no object key", self.name))?;
        moto.upload(key, photo.clone()).await?;
        Ok(event)
    }

    /// Writes the new report of a stream sample (with its reporter and first event) to the
    /// table, as intake writes it; returns the report.
    async fn write_report(&self, text: &str) -> Result<Report, String> {
        let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(text)
            .map_err(|e| format!("{}: the sample is not a stream event: {e}", self.name))?;
        let report = lapor_store::report_changes(&event)
            .into_iter()
            .find_map(|(_, change)| change.ok().and_then(|c| c.new))
            .ok_or_else(|| format!("{}: the sample holds no new report", self.name))?;
        let Some(store) = &self.store else {
            return Err(format!("{}: no table to write its report to", self.name));
        };
        let reporter = Reporter {
            name: Some("Siti Aminah".into()),
            phone: Phone::parse(REPORTER_PHONE).ok(),
            email: None,
            notifications: true,
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
            contact_keys: pepper().contact_keys(&reporter),
            reporter: Some(reporter),
            report,
            idempotency: None,
        };
        store
            .create_report(&submission, chrono::Utc::now().timestamp())
            .await
            .map_err(|e| format!("{}: writing its report: {e}", self.name))?;
        Ok(submission.report)
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

fn read_sample(sample: &str) -> String {
    let path = workspace_root().join(sample);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A JPEG of `UPLOAD_SIZE`: colour gradients, so that it is not trivially compressible.
fn photo() -> Vec<u8> {
    let (width, height) = UPLOAD_SIZE;
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let shade = |v: u32| u8::try_from(v % 256).unwrap_or(0);
        image::Rgb([shade(x), shade(y), shade(x * y / 7)])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    if let Err(e) =
        image::DynamicImage::ImageRgb8(image).write_to(&mut bytes, image::ImageFormat::Jpeg)
    {
        panic!("cannot encode the upload: {e}");
    }
    bytes.into_inner()
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
    /// Starts the binary, in `throttle`'s cgroup if given; returns it and the instant just
    /// before it was spawned.
    fn start(
        function: &Function,
        throttle: Option<&Throttle>,
    ) -> Result<(Process, Instant), String> {
        let api = RuntimeApi::start()?;
        let mut command = Command::new(&function.path);
        command
            .args(&function.args)
            .env_clear()
            .envs(function.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{}", api.port))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(throttle) = throttle {
            throttle.confine(&mut command);
        }
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
    async fn invoke(&mut self, event: (String, Vec<u8>)) -> Result<Invoked, String> {
        self.next_request().await?;
        self.answer(event).await
    }

    /// Hands one event over to the request the function is waiting on; times it until the
    /// answer arrives.
    async fn answer(&mut self, (id, body): (String, Vec<u8>)) -> Result<Invoked, String> {
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

/// The CPU time a process's threads have run so far (ms), the sum of each thread's
/// `/proc/<pid>/task/<tid>/schedstat` (its first field, in ns). Read while the process waits
/// for an event, so none of its threads is running; a thread that already exited is not in it
/// (the functions' threads live as long as the process).
fn cpu_ms(pid: u32) -> Result<f64, String> {
    let dir = format!("/proc/{pid}/task");
    let threads = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {dir}: {e}"))?;
    let mut ns: u64 = 0;
    for thread in threads {
        let path = thread
            .map_err(|e| format!("cannot read {dir}: {e}"))?
            .path()
            .join("schedstat");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        ns += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("{}: not a schedstat line: {text:?}", path.display()))?;
    }
    Ok(ns as f64 / 1e6)
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

fn print_tables(
    measured: &[(&str, Result<Measured, String>)],
    hello: &Baseline,
    throttle: &Result<Throttle, String>,
    invocations: usize,
) {
    println!("Unthrottled:\n");
    print_runs(measured, hello.unthrottled, |m| Some(Ok(&m.unthrottled)));
    match throttle {
        Ok(_) => {
            println!(
                "\nThrottled to a 128 MB function's CPU share ({QUOTA_US} µs per {PERIOD_US} µs):\n"
            );
            print_runs(measured, hello.throttled, |m| {
                m.throttled
                    .as_ref()
                    .map(|t| t.as_ref().map_err(String::as_str))
            });
        }
        Err(e) => println!("\nThrottled: not measured, no writable cgroup ({e}).\n"),
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
            let first: Vec<String> = m
                .unthrottled
                .first_statuses
                .iter()
                .map(|(s, n)| format!("{n}× {s}"))
                .collect();
            println!(
                "- {name}: 1st invocations {}; {} invocations: {}; median {:.2} ms, p99 {:.2} ms; \
                 {} error POSTs; peak RSS {:.1} MB over {invocations}, VmRSS after {:.1} MB",
                first.join(", "),
                m.run.invocations,
                statuses.join(", "),
                m.run.latency.median,
                m.run.latency.p99,
                m.run.errors,
                m.run.peak_rss_kb as f64 / 1024.0,
                m.run.rss_kb as f64 / 1024.0,
            );
        }
    }
}

/// One mode's table: `runs` picks the mode's runs of a binary (`None`: not measured).
fn print_runs<'a>(
    measured: &'a [(&str, Result<Measured, String>)],
    hello_init: Option<f64>,
    runs: impl Fn(&'a Measured) -> Option<Result<&'a ColdRuns, &'a str>>,
) {
    println!(
        "| binary | init min / median / p90 (ms) | 1st (ms) | 2nd (ms) | init + 1st (ms) \
         | init × hello | 1st ÷ 2nd | CPU init / 1st / 2nd (ms) | CPU 1st ÷ 2nd |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let ratio = |a: f64, b: Option<f64>| {
        b.filter(|b| *b > 0.0)
            .map_or("–".to_string(), |b| format!("{:.2}", a / b))
    };
    for (name, result) in measured {
        match result.as_ref().map_err(String::as_str).map(&runs) {
            Ok(Some(Ok(r))) => println!(
                "| {name} | {:.2} / {:.2} / {:.2} | {:.2} | {:.2} | {:.2} | {} | {} \
                 | {:.2} / {:.2} / {:.2} | {} |",
                r.init.min,
                r.init.median,
                r.init.p90,
                r.first.median,
                r.second.median,
                r.init_plus_first.median,
                ratio(r.init.median, hello_init),
                ratio(r.first.median, Some(r.second.median)),
                r.init_cpu.median,
                r.first_cpu.median,
                r.second_cpu.median,
                ratio(r.first_cpu.median, Some(r.second_cpu.median)),
            ),
            Ok(None) => println!("| {name} | not measured | | | | | | | |"),
            Ok(Some(Err(e))) | Err(e) => {
                let first_line = e.lines().next().unwrap_or("");
                println!("| {name} | failed: {first_line} | | | | | | | |");
            }
        }
    }
}
