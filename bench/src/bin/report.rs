//! Writes `docs/BENCHMARKS.md` from what the other benchmark programs measured in this run
//! (`target/bench/*.json`, the sweep table and the arm64 bootstraps), with the machine, the date
//! and the cost model. A part that did not run is reported as missing, never invented.
//!
//! `report [PATH]` writes to PATH instead (to look at the rendering without touching the docs);
//! `LAPOR_BENCH_DIR` chooses where the JSON is read from.

use std::fmt::Write as _;

use lapor_bench::{out_dir, workspace_root};
use serde_json::Value;

#[path = "report/cost.rs"]
mod cost;

use cost::CPU_FULL_VCPU_MB;

fn main() {
    let dir = out_dir();
    let read = |name: &str| -> Option<Value> {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    };
    let (cold, requests, warm, http, sizes, lag, evidence) = (
        read("cold"),
        read("requests"),
        read("warm"),
        read("http"),
        read("sizes"),
        read("stats_lag"),
        read("evidence"),
    );
    let pages = read("pages");
    let mut doc = String::new();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(doc, "# Benchmarks\n");
    let _ = writeln!(
        doc,
        "Written by `scripts/bench` on {date}, on {}. Every number below was measured in that one \
         run; ratios compare against a baseline measured in the same run. Nothing here is a test \
         assertion: a slow machine changes the numbers, not the verdict of `scripts/test`.\n",
        machine()
    );
    cold_section(&mut doc, cold.as_ref());
    warm_section(&mut doc, warm.as_ref(), http.as_ref());
    pages_section(&mut doc, pages.as_ref());
    requests_section(&mut doc, requests.as_ref());
    lag_section(&mut doc, lag.as_ref());
    evidence_section(&mut doc, evidence.as_ref());
    sizes_section(&mut doc, sizes.as_ref());
    sweep_section(&mut doc);
    cost::cost_section(&mut doc, requests.as_ref(), warm.as_ref(), pages.as_ref());
    cost::evidence_cost_section(&mut doc, evidence.as_ref());
    let path = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("docs").join("BENCHMARKS.md"));
    if let Some(parent) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(parent) {
            panic!("cannot create {}: {e}", parent.display());
        }
    }
    if let Err(e) = std::fs::write(&path, &doc) {
        panic!("cannot write {}: {e}", path.display());
    }
    println!("{doc}");
    eprintln!("wrote {}", path.display());
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<f64>().ok())
        })
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB", kb / 1024.0 / 1024.0)
        });
    format!("{model} ({cores} cores{memory}), x86_64 Linux")
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |x| format!("{x:.digits$}"))
}

fn missing(doc: &mut String, what: &str) {
    let _ = writeln!(
        doc,
        "_Not measured in this run ({what} did not produce its results; see the scripts/bench log)._\n"
    );
}

/// The cold-start goals, at a 128 MB function's CPU share: median cold init against hello's,
/// and the first invocation against the second (medians).
const INIT_GOAL_TO_HELLO: f64 = 1.5;
const FIRST_GOAL_TO_SECOND: f64 = 1.2;
const PEAK_RSS_GOAL_MB: f64 = 40.0;

fn cold_section(doc: &mut String, cold: Option<&Value>) {
    let _ = writeln!(doc, "## Cold init, first invocations and memory\n");
    let _ = writeln!(
        doc,
        "Each function's binary (built with the release profile a deploy uses, fat LTO and \
         opt-level \"s\", for this machine's x86-64 rather than Lambda's arm64, as is the \
         hello-world `lambda_runtime` binary it is compared with) is started against a loopback Lambda Runtime API; cold init is the time from \
         process start to its first `GET …/invocation/next`, as Lambda measures init. Every run \
         is a fresh process: its init, then its 1st and 2nd invocation, each timed from handing \
         the event over to receiving the response; init + 1st is what the first caller of a new \
         environment waits (median of the runs' sums). Invocations run against moto on \
         loopback, so no network is in them, but most of an invocation's \
         time is moto's answers (a Python server, on the same two cores), which vary between \
         the 1st and the 2nd call for reasons of moto's own. The CPU columns separate the \
         function's own work from those waits and from the throttle's: the time the process's \
         threads ran on a core (`/proc/<pid>/task/*/schedstat`), from process start to its \
         first request for an event (init, including the exec), and from each request for an \
         event to the next (an invocation, including what it does after answering). A one-time \
         cost left in the 1st invocation shows as its CPU time over the 2nd's. Goals, at a 128 MB \
         function's CPU share: cold init ≤ {INIT_GOAL_TO_HELLO}× the hello world's (medians), \
         and the 1st invocation ≤ {FIRST_GOAL_TO_SECOND}× the 2nd (medians). Peak RSS is VmHWM \
         after the stated number of invocations; goal ≤ {PEAK_RSS_GOAL_MB:.0} MB.\n"
    );
    let Some(map) = cold
        .and_then(|c| c.get("functions"))
        .and_then(Value::as_object)
    else {
        return missing(doc, "cold_start");
    };
    let count = |key: &str| fmt(num(cold.and_then(|c| c.get(key))), 0);
    let throttle = cold.and_then(|c| c.get("throttle"));
    let applied = throttle
        .and_then(|t| t.get("applied"))
        .and_then(Value::as_bool);
    if applied == Some(true) {
        let text = |key: &str| throttle.and_then(|t| t.get(key)).and_then(Value::as_str);
        let _ = writeln!(
            doc,
            "**Throttled** ({} runs per binary): the function's process, and only it (not the \
             Runtime API, moto or the harness), is started in a cgroup, `{}` \
             ({}), limited to {} µs of CPU time per {} µs period; it joins the cgroup between \
             fork and exec, so none of its own code runs unthrottled. {} / {} = 128 / 1769: \
             Lambda gives a function one full vCPU at 1,769 MB and a share in proportion to its \
             memory below that. The kernel runs the process at full speed until the period's \
             quota is spent and then stops it until the next period begins, as Lambda's limit \
             does: a short burst of work may run unslowed, a longer one waits up to about {:.0} \
             ms for every further {:.1} ms of CPU, and a time of a few periods varies with where \
             in a period the run began. Each throttled run starts at least 250 ms after the \
             previous one ended, with a full quota. The verdicts are for the functions; hello \
             is the baseline.\n",
            count("throttled_runs"),
            text("cgroup").unwrap_or("–"),
            text("mechanism").unwrap_or("–"),
            fmt(num(throttle.and_then(|t| t.get("quota_us"))), 0),
            fmt(num(throttle.and_then(|t| t.get("period_us"))), 0),
            fmt(num(throttle.and_then(|t| t.get("quota_us"))), 0),
            fmt(num(throttle.and_then(|t| t.get("period_us"))), 0),
            num(throttle.and_then(|t| t.get("period_us")))
                .zip(num(throttle.and_then(|t| t.get("quota_us"))))
                .map_or(0.0, |(p, q)| (p - q) / 1000.0),
            num(throttle.and_then(|t| t.get("quota_us"))).map_or(0.0, |q| q / 1000.0),
        );
    } else {
        let reason = throttle
            .and_then(|t| t.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or("cold_start did not say why");
        let _ = writeln!(
            doc,
            "**Throttled runs not measured**: no writable cgroup cpu controller on this machine \
             ({reason}). The goals, which hold at a 128 MB function's CPU share, are not \
             checked in this run; the unthrottled numbers below understate a 128 MB function's \
             cold start.\n"
        );
    }
    if applied == Some(true) {
        cold_table(doc, map, "throttled", true);
    }
    let _ = writeln!(
        doc,
        "**Unthrottled** ({} runs per binary; peak RSS over {} invocations of one process):\n",
        count("runs"),
        count("invocations"),
    );
    cold_table(doc, map, "unthrottled", false);
    instructions_table(doc, map);
}

/// Instructions executed by one fresh process of each binary under callgrind: a count, unlike a
/// time, is the same however loaded the machine or slow moto is.
fn instructions_table(doc: &mut String, map: &serde_json::Map<String, Value>) {
    let _ = writeln!(
        doc,
        "**Instructions** (one fresh process per binary under callgrind, `valgrind \
         --tool=callgrind`, its counts dumped with `callgrind_control -d` at each request for an \
         event; unthrottled): the instructions of init, of the 1st and of the 2nd invocation. A \
         count, unlike a time, does not change with the machine's load, the throttle or how fast \
         moto answers, so the 1st's excess over the 2nd is the binary's own one-time work, and \
         a 1st ÷ 2nd near hello's means a 1st invocation that is slower only as any process's \
         first run of its code is (cold caches, first page faults), not because it does more.\n"
    );
    let _ = writeln!(
        doc,
        "| binary | init | 1st | 2nd | 1st − 2nd | 1st ÷ 2nd |\n|---|---:|---:|---:|---:|---:|"
    );
    let rows = map.iter().filter(|(name, _)| *name == "hello");
    for (name, f) in rows.chain(map.iter().filter(|(name, _)| *name != "hello")) {
        let Some(counted) = f.get("instructions").filter(|c| c.get("first").is_some()) else {
            let why = f
                .get("instructions")
                .and_then(|c| c.get("error"))
                .or_else(|| f.get("error"))
                .and_then(Value::as_str)
                .and_then(|e| e.lines().next())
                .unwrap_or("not measured");
            let _ = writeln!(doc, "| {name} | {why} | | | | |");
            continue;
        };
        let count = |key: &str| num(counted.get(key));
        let thousands = |n: Option<f64>| n.map_or("–".into(), |n| format!("{:.0}k", n / 1000.0));
        let excess = count("first").zip(count("second")).map(|(a, b)| a - b);
        let _ = writeln!(
            doc,
            "| {name} | {} | {} | {} | {} | {} |",
            thousands(count("init")),
            thousands(count("first")),
            thousands(count("second")),
            thousands(excess),
            fmt(count("first_to_second"), 2),
        );
    }
    let _ = writeln!(doc);
}

/// One mode's table of every binary; `goals`: with the verdicts (the throttled mode's), else
/// with the peak memory and what the functions answered.
fn cold_table(doc: &mut String, map: &serde_json::Map<String, Value>, mode: &str, goals: bool) {
    let (header, align) = if goals {
        (
            format!(
                "init × hello | ≤ {INIT_GOAL_TO_HELLO}×? | 1st ÷ 2nd | ≤ {FIRST_GOAL_TO_SECOND}×? \
                 | CPU init / 1st / 2nd (ms) | CPU 1st ÷ 2nd"
            ),
            "---:|---|---:|---|---:|---:",
        )
    } else {
        (
            format!(
                "init × hello | 1st ÷ 2nd | CPU init / 1st / 2nd (ms) | CPU 1st ÷ 2nd \
                 | peak RSS (MB) | ≤ {PEAK_RSS_GOAL_MB:.0} MB?"
            ),
            "---:|---:|---:|---:|---:|---",
        )
    };
    let _ = writeln!(
        doc,
        "| binary | init min / median / p90 (ms) | 1st (ms) | 2nd (ms) | init + 1st (ms) | \
         {header} |\n|---|---|---:|---:|---:|{align}|"
    );
    let verdict = |ratio: Option<f64>, goal: f64| {
        ratio
            .map_or("–", |r| if r <= goal { "yes" } else { "**no**" })
            .to_string()
    };
    // The baseline first, then the functions by name.
    let rows = map.iter().filter(|(name, _)| *name == "hello");
    for (name, f) in rows.chain(map.iter().filter(|(name, _)| *name != "hello")) {
        let runs = f.get(mode).filter(|r| r.is_object());
        let Some(runs) = runs.filter(|r| r.get("error").is_none()) else {
            let why = f
                .get("error")
                .or_else(|| runs.and_then(|r| r.get("error")))
                .and_then(Value::as_str)
                .and_then(|e| e.lines().next())
                .unwrap_or("not measured");
            let _ = writeln!(doc, "| {name} | {why} | | | | | | | | | |");
            continue;
        };
        let init = runs.get("init_ms");
        let median = |key: &str| fmt(num(runs.get(key).and_then(|s| s.get("median"))), 2);
        let init_ratio = num(runs.get("init_to_hello"));
        let first_ratio = num(runs.get("first_to_second"));
        let cpu = format!(
            "{} / {} / {}",
            median("init_cpu_ms"),
            median("first_cpu_ms"),
            median("second_cpu_ms")
        );
        let cpu_ratio = fmt(num(runs.get("first_to_second_cpu")), 2);
        let mut cells = vec![
            name.clone(),
            format!(
                "{} / {} / {}",
                fmt(num(init.and_then(|i| i.get("min"))), 2),
                median("init_ms"),
                fmt(num(init.and_then(|i| i.get("p90"))), 2)
            ),
            median("first_ms"),
            median("second_ms"),
            median("init_plus_first_ms"),
            fmt(init_ratio, 2),
        ];
        if goals {
            let baseline = name == "hello";
            let verdict = |ratio, goal| {
                if baseline {
                    "–".to_string()
                } else {
                    verdict(ratio, goal)
                }
            };
            cells.extend([
                verdict(init_ratio, INIT_GOAL_TO_HELLO),
                fmt(first_ratio, 2),
                verdict(first_ratio, FIRST_GOAL_TO_SECOND),
                cpu,
                cpu_ratio,
            ]);
        } else {
            let rss = num(f.get("peak_rss_kb")).map(|kb| kb / 1024.0);
            cells.extend([
                fmt(first_ratio, 2),
                cpu,
                cpu_ratio,
                fmt(rss, 1),
                verdict(rss, PEAK_RSS_GOAL_MB),
            ]);
        }
        let _ = writeln!(doc, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(doc);
    if !goals {
        let labels = |runs: &Value, key: &str| {
            runs.get(key)
                .and_then(Value::as_object)
                .map_or("–".into(), |m| {
                    m.keys().cloned().collect::<Vec<_>>().join(", ")
                })
        };
        let answers: Vec<String> = map
            .iter()
            .filter_map(|(name, f)| {
                let runs = f.get(mode)?;
                Some(format!(
                    "{name} {} / {}",
                    labels(runs, "first_statuses"),
                    labels(runs, "second_statuses")
                ))
            })
            .collect();
        let _ = writeln!(
            doc,
            "What the functions answered to their 1st / 2nd invocations: {}.\n",
            answers.join("; ")
        );
    }
}

fn warm_section(doc: &mut String, warm: Option<&Value>, http: Option<&Value>) {
    let _ = writeln!(doc, "## Warm handler cost\n");
    let _ = writeln!(
        doc,
        "In-process on the embedded store (criterion, plus per-iteration samples for the \
         percentiles). Goal: intake p99 ≤ 200 µs.\n"
    );
    match warm
        .and_then(|w| w.get("handlers"))
        .and_then(Value::as_object)
    {
        Some(handlers) => {
            let _ = writeln!(doc, "| handler | p50 (µs) | p99 (µs) |\n|---|---:|---:|");
            for (name, h) in handlers {
                let s = h.get("us").unwrap_or(h);
                let _ = writeln!(
                    doc,
                    "| {name} | {} | {} |",
                    fmt(num(s.get("median")), 1),
                    fmt(num(s.get("p99")), 1)
                );
            }
            let _ = writeln!(doc);
        }
        None => missing(doc, "the handlers bench"),
    }
    http_section(doc, http);
}

/// lapor-local over HTTP: the JSON endpoints, and each portal page beside the JSON requests
/// that carry its data (`http_load` names them per page).
fn http_section(doc: &mut String, http: Option<&Value>) {
    let _ = writeln!(doc, "### Through lapor-local over HTTP\n");
    let Some(rows) = http
        .and_then(|h| h.get("endpoints"))
        .and_then(Value::as_array)
    else {
        return missing(doc, "http_load");
    };
    let _ = writeln!(
        doc,
        "{} concurrent keep-alive connections for {} s per endpoint on loopback, against a \
         trivial `GET /hello` on the same server as the baseline, over {} reports submitted \
         through `POST /reports` and routed before the first run (the privacy mix of the \
         pages benchmark). Each portal page runs right after the JSON requests a client would \
         make for the same data on the same reports, and its p50 is divided by theirs: the \
         public report page by `GET /reports/{{code}}`; the tracking page (`POST /lacak` with \
         the code, the access key and the CSRF token a first visit of the form set as a \
         cookie) by the reporter's view, `GET /reports/{{code}}` with `X-Access-Key`; the \
         statistics page and its CSV by `GET /stats` for the same region and year (the page \
         reads three breakdowns and five years of totals, `/stats` one breakdown); the home \
         page, whose feed has no JSON route in intake, by the same public feed as Open311 \
         `requests.json` (ten requests, each with its timeline); the report form by \
         `GET /categories` plus `GET /regions`, the lists it offers; the tracking form, which \
         shows no data, by hello. Bytes are the body as sent, uncompressed.\n",
        fmt(num(http.and_then(|h| h.get("concurrency"))), 0),
        fmt(num(http.and_then(|h| h.get("seconds"))), 0),
        fmt(num(http.and_then(|h| h.get("seeded_reports"))), 0),
    );
    let _ = writeln!(
        doc,
        "| endpoint | request | bytes | req/s | p50 (µs) | p99 (µs) | hello req/s ÷ req/s | JSON view | p50 ÷ JSON view p50 |\n\
         |---|---|---:|---:|---:|---:|---:|---|---:|"
    );
    for e in rows {
        let text = |key: &str| e.get(key).and_then(Value::as_str).unwrap_or("–");
        let lat = e.get("latency_us");
        let joined = |key: &str, by: &str| {
            let names = e.get(key).and_then(Value::as_array);
            let names: Vec<&str> = names
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            names.join(by)
        };
        let pair = Some(joined("json_view", " + ")).filter(|p| !p.is_empty());
        let headers = Some(joined("headers", ", ")).filter(|h| !h.is_empty());
        let _ = writeln!(
            doc,
            "| {} | `{} {}`{} | {} | {} | {} | {} | {} | {} | {} |",
            text("name"),
            text("method"),
            text("path"),
            headers.map_or(String::new(), |h| format!(" with {h}")),
            fmt(num(e.get("bytes")), 0),
            fmt(num(e.get("rps")), 0),
            fmt(num(lat.and_then(|l| l.get("median"))), 0),
            fmt(num(lat.and_then(|l| l.get("p99"))), 0),
            fmt(num(e.get("ratio_to_hello")), 2),
            pair.as_deref().unwrap_or("–"),
            fmt(num(e.get("p50_ratio_to_json_view")), 2),
        );
    }
    let _ = writeln!(doc);
    if let Some(unrouted) =
        num(http.and_then(|h| h.pointer("/intake_post_consumers/unrouted_at_end")))
    {
        let _ = writeln!(
            doc,
            "intake_post runs last: lapor-local routes and notifies each new report in-process, \
             and {unrouted:.0} of its reports were still unrouted when its run ended.\n"
        );
    }
}

fn pages_section(doc: &mut String, pages: Option<&Value>) {
    let _ = writeln!(doc, "## Portal pages: weight and render time\n");
    let Some((pages, rows)) = pages.and_then(|p| Some((p, p.get("pages")?.as_array()?))) else {
        return missing(doc, "pages");
    };
    let _ = writeln!(
        doc,
        "{}\n",
        pages.get("method").and_then(Value::as_str).unwrap_or("")
    );
    let _ = writeln!(
        doc,
        "| page | path | status | bytes | gzip bytes | render p50 (µs) | p90 (µs) | p50 ÷ baseline p50 |\n|---|---|---:|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        let render = row.get("render_us");
        let _ = writeln!(
            doc,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} |",
            row.get("name").and_then(Value::as_str).unwrap_or("?"),
            row.get("path").and_then(Value::as_str).unwrap_or("?"),
            fmt(num(row.get("status")), 0),
            fmt(num(row.get("bytes")), 0),
            fmt(num(row.get("gzip_bytes")), 0),
            fmt(num(render.and_then(|r| r.get("median"))), 0),
            fmt(num(render.and_then(|r| r.get("p90"))), 0),
            fmt(num(row.get("ratio_to_baseline")), 2),
        );
    }
    let first = pages.get("first_load");
    let gzip = num(first.and_then(|f| f.get("gzip_bytes")));
    let budget = num(first.and_then(|f| f.get("budget_bytes")));
    let _ = writeln!(
        doc,
        "\nThe report form's first load (`/lapor`, `portal.css`, `portal.js`): {} bytes as sent, \
         **{} bytes gzipped**; budget {} bytes compressed: {}.\n",
        fmt(num(first.and_then(|f| f.get("bytes"))), 0),
        fmt(gzip, 0),
        fmt(budget, 0),
        match gzip.zip(budget) {
            Some((g, b)) if g <= b => "within",
            Some(_) => "**over**",
            None => "–",
        }
    );
}

fn lag_section(doc: &mut String, lag: Option<&Value>) {
    let _ = writeln!(doc, "## Statistics lag\n");
    let Some(lag) = lag else {
        return missing(doc, "stats_lag");
    };
    let _ = writeln!(
        doc,
        "{}\n",
        lag.get("method").and_then(Value::as_str).unwrap_or("")
    );
    let _ = writeln!(
        doc,
        "| load | reports | stats invocations | published total | lag median (ms) | p90 | max |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (key, label) in [("alone", "one at a time"), ("steady", "steady")] {
        let Some(run) = lag.get(key) else { continue };
        let load = match num(run.get("per_second")) {
            Some(rate) => format!("{label}, {rate:.0}/s"),
            None => label.to_string(),
        };
        let summary = run.get("lag_ms");
        let _ = writeln!(
            doc,
            "| {load} | {} | {} | {} | {} | {} | {} |",
            fmt(num(run.get("reports")), 0),
            fmt(num(run.get("invocations")), 0),
            fmt(num(run.get("published_total")), 0),
            fmt(num(summary.and_then(|s| s.get("median"))), 0),
            fmt(num(summary.and_then(|s| s.get("p90"))), 0),
            fmt(num(summary.and_then(|s| s.get("max"))), 0),
        );
    }
    let _ = writeln!(doc);
}

/// The estimated milliseconds of a case at `memory` MB, from its `lambda` list.
fn estimated_ms(case: &Value, memory: f64) -> Option<f64> {
    case.get("lambda")?
        .as_array()?
        .iter()
        .find(|l| num(l.get("memory_mb")) == Some(memory))
        .and_then(|l| num(l.get("estimated_ms")))
}

fn evidence_section(doc: &mut String, evidence: Option<&Value>) {
    let _ = writeln!(doc, "## Evidence processing\n");
    let Some((evidence, cases)) = evidence.and_then(|e| Some((e, e.get("cases")?.as_array()?)))
    else {
        return missing(doc, "evidence");
    };
    let function_rss = num(evidence.get("function_rss_mb"));
    let _ = writeln!(
        doc,
        "`lapor_evidence::clean` (default limits) on uploads just under the 10 MiB limit, made \
         with noise so that they stay that large and with the metadata a phone or office program \
         leaves; each measurement is a fresh process, median of {} runs: time is its \
         single-thread CPU time (× SHA-256 of the same bytes, the baseline), peak RSS its VmHWM, \
         \"added by cleaning\" the peak over a process that only reads and hashes the upload. \
         Lambda gives one vCPU at {CPU_FULL_VCPU_MB:.0} MB and proportionally less below, so the \
         time at M MB is estimated as the time here × {CPU_FULL_VCPU_MB:.0} / M (assuming a \
         Lambda core is as fast as one here); the function's peak as its own RSS ({} MB, {}) + \
         the upload + what cleaning added. Verdicts keep a 20% margin and the function's \
         {} s timeout.\n",
        fmt(num(evidence.get("runs")), 0),
        fmt(function_rss, 1),
        evidence
            .get("function_rss_source")
            .and_then(Value::as_str)
            .unwrap_or("?"),
        fmt(num(evidence.get("timeout_s")), 0),
    );
    let _ = writeln!(
        doc,
        "| case | input (MB) | output (MB) | output dimensions / pages | median ms here | × SHA-256 | est. ms at 128 / 256 / 512 MB | peak RSS (MB) | added by cleaning (MB) | est. function peak (MB) | verdict |\n|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|"
    );
    for case in cases {
        let shape = match (num(case.get("width")), num(case.get("height"))) {
            (Some(w), Some(h)) => format!("{w:.0} × {h:.0}"),
            _ => format!("{} pages", fmt(num(case.get("pages")), 0)),
        };
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {shape} | {} | {} | {} / {} / {} | {} | {} | {} | {} |",
            case.get("name").and_then(Value::as_str).unwrap_or("?"),
            fmt(num(case.get("input_mb")), 2),
            fmt(num(case.get("output_mb")), 2),
            fmt(num(case.get("clean_ms")), 0),
            fmt(num(case.get("ratio_to_sha256")), 1),
            fmt(estimated_ms(case, 128.0), 0),
            fmt(estimated_ms(case, 256.0), 0),
            fmt(estimated_ms(case, 512.0), 0),
            fmt(num(case.get("peak_rss_mb")), 1),
            fmt(num(case.get("added_by_cleaning_mb")), 1),
            fmt(num(case.get("estimated_function_peak_mb")), 1),
            case.get("verdict").and_then(Value::as_str).unwrap_or("–"),
        );
    }
    let _ = writeln!(doc);
    let _ = writeln!(doc, "Inputs:");
    for case in cases {
        let _ = writeln!(
            doc,
            "- {}: {}.",
            case.get("name").and_then(Value::as_str).unwrap_or("?"),
            case.get("detail").and_then(Value::as_str).unwrap_or("")
        );
    }
    let _ = writeln!(doc);

    let peak_of = |c: &&Value| num(c.get("estimated_function_peak_mb")).unwrap_or(0.0);
    let slowest_at = |memory: f64| {
        cases
            .iter()
            .filter_map(|c| estimated_ms(c, memory))
            .fold(0.0, f64::max)
    };
    let Some(worst) = cases
        .iter()
        .max_by(|a, b| peak_of(a).total_cmp(&peak_of(b)))
    else {
        return;
    };
    let worst_name = worst.get("name").and_then(Value::as_str).unwrap_or("?");
    let worst_peak = peak_of(&worst);
    let recommendation =
        match num(evidence.get("recommended_memory_mb")) {
            Some(memory) if memory <= 128.0 => format!(
                "**MemorySize: keep 128 MB.** The largest estimated peak, {worst_peak:.0} MB \
             ({worst_name}), is within 80% of 128 MB ({:.0} MB), and the slowest case takes \
             about {:.1} s at 128 MB, within the timeout.",
                128.0 * 0.8,
                slowest_at(128.0) / 1000.0
            ),
            Some(memory) => format!(
            "**MemorySize: {memory:.0} MB for the evidence function** (the other functions stay \
             at 128 MB). {worst_name} needs an estimated {worst_peak:.0} MB at its peak: {}, and \
             within 80% of {memory:.0} MB ({:.0} MB). The slowest case takes about {:.1} s at \
             {memory:.0} MB ({:.1} s at 128 MB). Cleaning is CPU-bound and Lambda's CPU grows \
             with memory, so its GB-seconds stay about the same at the larger size.",
            if worst_peak > 128.0 {
                "more than 128 MB".to_string()
            } else {
                format!("within 128 MB but over its 80% margin ({:.0} MB)", 128.0 * 0.8)
            },
            memory * 0.8,
            slowest_at(memory) / 1000.0,
            slowest_at(128.0) / 1000.0
        ),
            None => format!(
                "**No memory size up to 1024 MB fits every case with a 20% margin within the \
             timeout** (largest estimated peak {worst_peak:.0} MB, {worst_name}): lower the \
             limits (`EvidenceMaxPixels`, `max_decode_memory`) rather than raise the memory."
            ),
        };
    let _ = writeln!(doc, "{recommendation}\n");
}

fn requests_section(doc: &mut String, requests: Option<&Value>) {
    let _ = writeln!(doc, "## DynamoDB requests per operation\n");
    let _ = writeln!(
        doc,
        "Counted by an SDK interceptor on moto; capacity units computed from the items' sizes \
         (moto's consumed-capacity figures are placeholders). Goals: intake 1 request, follow-up \
         ≤ 2, routing ≤ 3.\n"
    );
    let Some(ops) = requests
        .and_then(|r| r.get("operations"))
        .and_then(Value::as_array)
    else {
        return missing(doc, "requests");
    };
    let _ = writeln!(
        doc,
        "| operation | requests | by kind | goal | items written | WRU | index WRU | RRU | largest item (bytes) |\n|---|---:|---|---|---:|---:|---:|---:|---:|"
    );
    for op in ops {
        let kinds = op
            .get("by_operation")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} {}", v.as_u64().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            doc,
            "| {} | {} | {kinds} | {} | {} | {} | {} | {} | {} |",
            op.get("name").and_then(Value::as_str).unwrap_or("?"),
            fmt(num(op.get("requests")), 0),
            op.get("goal").and_then(Value::as_str).unwrap_or(""),
            fmt(num(op.get("items_written")), 0),
            fmt(num(op.get("write_units")), 1),
            fmt(num(op.get("index_write_units")), 1),
            fmt(num(op.get("read_units")), 1),
            fmt(num(op.get("largest_item_bytes")), 0),
        );
    }
    if let Some(method) = requests
        .and_then(|r| r.get("method"))
        .and_then(Value::as_str)
    {
        let _ = writeln!(doc, "\n{method}");
    }
    let _ = writeln!(doc);
}

fn sizes_section(doc: &mut String, sizes: Option<&Value>) {
    let _ = writeln!(doc, "## Binary size\n");
    let _ = writeln!(
        doc,
        "Stripped arm64 bootstraps from `cargo lambda build --release --arm64` (the release \
         profile a deploy uses). Goal ≤ 8 MB (8,388,608 bytes) each.\n"
    );
    let Some(map) = sizes.and_then(Value::as_object) else {
        return missing(doc, "the arm64 build");
    };
    let _ = writeln!(
        doc,
        "| function | bytes | MB | ≤ 8 MB? |\n|---|---:|---:|---|"
    );
    for (name, bytes) in map {
        let b = bytes.as_f64().unwrap_or(0.0);
        let _ = writeln!(
            doc,
            "| {name} | {b:.0} | {:.2} | {} |",
            b / 1_048_576.0,
            if b <= 8_388_608.0 { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(doc);
}

fn sweep_section(doc: &mut String) {
    let _ = writeln!(doc, "## The overdue sweep by table size\n");
    let path = workspace_root().join("target").join("bench-sweep.md");
    match std::fs::read_to_string(&path) {
        Ok(table) => {
            let _ = writeln!(
                doc,
                "Items the sweep read (Query counts on DynamoDB) and its time, 100 overdue \
                 reports each time; the goal is ≤ 100 plus one page per shard whatever the table \
                 size. moto's times are moto's (it copies the table on every transaction), not \
                 DynamoDB's.\n\n{}",
                table.trim()
            );
            let _ = writeln!(doc);
        }
        Err(_) => missing(doc, "the sweep bench"),
    }
}
