//! The cost model: what a million report lifecycles cost at list prices, built from what this run
//! measured (DynamoDB units per operation, warm CPU time, page render time, evidence cleaning),
//! against a floor, and the gap between the two taken apart item by item, each with what it buys.

use std::fmt::Write as _;

use serde_json::Value;

use super::{missing, num};

/// List prices, us-east-1, as of the date in the report (USD). Inputs of the cost model.
pub struct Prices {
    pub lambda_gb_second_arm: f64,
    pub lambda_per_million_requests: f64,
    pub http_api_per_million: f64,
    pub dynamodb_per_million_wru: f64,
    pub dynamodb_per_million_rru: f64,
    pub sns_per_million_publishes: f64,
    pub ses_per_thousand_emails: f64,
}

pub const PRICES: Prices = Prices {
    lambda_gb_second_arm: 0.000_013_333_4,
    lambda_per_million_requests: 0.20,
    http_api_per_million: 1.00,
    dynamodb_per_million_wru: 0.625,
    dynamodb_per_million_rru: 0.125,
    sns_per_million_publishes: 0.50,
    ses_per_thousand_emails: 0.10,
};

/// S3 Standard and data transfer list prices, us-east-1 (USD), for the evidence cost.
const S3_PUT_PER_THOUSAND: f64 = 0.005;
const S3_GET_PER_THOUSAND: f64 = 0.0004;
const S3_STORAGE_PER_GB_MONTH: f64 = 0.023;
const TRANSFER_OUT_PER_GB: f64 = 0.09;
/// Downloads of each clean file (the reporter once, the agency once) in the evidence cost.
const DOWNLOADS_PER_FILE: f64 = 2.0;
/// The evidence function's memory (MB) in the template.
const EVIDENCE_MEMORY_MB: f64 = 256.0;
/// WRU an attached file costs: the report item written twice (reserve, record) and one
/// timeline entry, as `requests` would count them.
const EVIDENCE_WRU: f64 = 7.0;

/// Assumptions of the duration model, written beside the prices.
const MEMORY_GB: f64 = 0.125;
/// A 128 MB function gets 128/1769 of a vCPU: CPU time measured on one core here is scaled by this.
const CPU_SHARE_FACTOR: f64 = 1769.0 / 128.0;
/// Lambda gives a function one full vCPU at this memory size (MB).
pub const CPU_FULL_VCPU_MB: f64 = 1769.0;
/// Round trip of one DynamoDB or SNS request from Lambda in the same region (ms).
const AWS_REQUEST_MS: f64 = 8.0;
/// E-mails to a reporter who gave an address: the receipt and the two answers.
const EMAILS_PER_LIFECYCLE: f64 = 3.0;

/// Where a step's CPU time comes from.
#[derive(Clone, Copy)]
enum Cpu {
    /// A handler in warm.json (criterion, in-process).
    Handler(&'static str),
    /// A page in pages.json (its render time, in-process).
    Page(&'static str),
}

/// What the cheapest possible version of a step would still touch in DynamoDB.
#[derive(Clone, Copy, PartialEq)]
enum Least {
    /// One write of one item under 1 KB.
    Write,
    /// One eventually consistent read under 4 KB.
    Read,
    /// Nothing (a page from bundled data, an empty sweep page).
    Nothing,
}

/// One step of a report's life as the cost model counts it.
struct Step {
    name: &'static str,
    /// The operation in requests.json whose DynamoDB cost it has (None: no DynamoDB request).
    operation: Option<&'static str>,
    cpu: Cpu,
    times: f64,
    http_api: bool,
    sns_publishes: f64,
    least: Least,
}

const LIFECYCLE: [Step; 12] = [
    Step {
        name: "report form page (web, `GET /lapor`)",
        operation: None,
        cpu: Cpu::Page("report_form"),
        times: 1.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Nothing,
    },
    Step {
        name: "submit (intake, or web calling intake's route)",
        operation: Some("intake"),
        cpu: Cpu::Handler("intake_post"),
        times: 1.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Write,
    },
    Step {
        name: "receipt SMS (notify, stream)",
        operation: Some("notify_receipt"),
        cpu: Cpu::Handler("routing_record"),
        times: 1.0,
        http_api: false,
        sns_publishes: 1.0,
        least: Least::Write,
    },
    Step {
        name: "route (routing, stream)",
        operation: Some("routing"),
        cpu: Cpu::Handler("routing_record"),
        times: 1.0,
        http_api: false,
        sns_publishes: 0.0,
        least: Least::Write,
    },
    Step {
        name: "agency messages: forwarded, reporter replied (notify, stream)",
        operation: Some("notify"),
        cpu: Cpu::Handler("routing_record"),
        times: 2.0,
        http_api: false,
        sns_publishes: 1.0,
        least: Least::Write,
    },
    Step {
        name: "console report page before each follow-up (web calling the officer route)",
        operation: Some("officer_view"),
        cpu: Cpu::Page("public_report"),
        times: 2.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Read,
    },
    Step {
        name: "follow-up (officer, or the console calling its route)",
        operation: Some("follow_up"),
        cpu: Cpu::Handler("follow_up"),
        times: 2.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Write,
    },
    Step {
        name: "answer SMS to the reporter (notify, stream)",
        operation: Some("notify_answer"),
        cpu: Cpu::Handler("routing_record"),
        times: 2.0,
        http_api: false,
        sns_publishes: 1.0,
        least: Least::Write,
    },
    Step {
        name: "tracking page (web `POST /lacak`, intake's view in-process)",
        operation: Some("track"),
        cpu: Cpu::Page("public_report"),
        times: 2.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Read,
    },
    Step {
        name: "reply (intake)",
        operation: Some("reply"),
        cpu: Cpu::Handler("intake_post"),
        times: 1.0,
        http_api: true,
        sns_publishes: 0.0,
        least: Least::Write,
    },
    Step {
        name: "statistics (stats, stream: the lifecycle's 5 changes, in batches of 25)",
        operation: Some("stats_batch"),
        cpu: Cpu::Handler("routing_record"),
        times: 5.0 / 25.0,
        http_api: false,
        sns_publishes: 0.0,
        least: Least::Write,
    },
    Step {
        name: "sweep share (4 shard queries every 15 min, spread over the month's lifecycles)",
        operation: Some("sweep_empty"),
        cpu: Cpu::Handler("sweep_page"),
        times: 2880.0 / 1_000_000.0,
        http_api: false,
        sns_publishes: 0.0,
        least: Least::Nothing,
    },
];

fn operation<'a>(requests: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    requests?
        .get("operations")?
        .as_array()?
        .iter()
        .find(|op| op.get("name").and_then(Value::as_str) == Some(name))
}

/// Items that exist to make a write safe to repeat or to limit abuse, not to hold a report:
/// counted-change marks (statistics), message marks (notify), per-number message counts
/// (notify's rate limit) and idempotency keys.
const BOOKKEEPING: [&str; 4] = ["COUNTED#", "MARK#", "COUNT#", "IDEMP#"];

/// The write units of one operation, taken apart from `requests`' per-request lines
/// (`Put REPORT#…/META: 712 B (…) → 2 WRU + 2 GSI WRU`).
#[derive(Default, Clone, Copy)]
struct Writes {
    /// Units as if every item were written on its own.
    single: f64,
    /// Of `single`, the units of bookkeeping items.
    bookkeeping: f64,
    /// What writing inside TransactWriteItems adds (the second half of its units).
    transaction: f64,
    /// The two sparse indexes' units.
    index: f64,
}

fn writes_of(op: &Value) -> Writes {
    let mut w = Writes::default();
    let details = op.get("detail").and_then(Value::as_array);
    for request in details.into_iter().flatten() {
        let transactional =
            request.get("operation").and_then(Value::as_str) == Some("TransactWriteItems");
        w.index += num(request.get("index_write_units")).unwrap_or(0.0);
        let lines = request.get("what").and_then(Value::as_array);
        for line in lines.into_iter().flatten().filter_map(Value::as_str) {
            let Some(units) = line
                .split_once("→ ")
                .and_then(|(_, rest)| rest.split_once(" WRU"))
                .and_then(|(n, _)| n.trim().parse::<f64>().ok())
            else {
                continue;
            };
            let single = if transactional { units / 2.0 } else { units };
            if transactional {
                w.transaction += units - single;
            }
            w.single += single;
            let key = line.split_whitespace().nth(1).unwrap_or("");
            if BOOKKEEPING.iter().any(|prefix| key.starts_with(prefix)) {
                w.bookkeeping += single;
            }
        }
    }
    w
}

/// One step, priced.
struct Priced {
    dynamo_requests: f64,
    wru: f64,
    rru: f64,
    billed_ms: f64,
    /// Per lifecycle (× times), USD.
    total: f64,
    floor: f64,
    /// Per lifecycle, USD: the API request, the invocation and the publishes, which any design
    /// with this step pays.
    fixed: f64,
    /// The gap's parts, per lifecycle, USD: [duration, transactions, indexes, report items,
    /// bookkeeping, reads].
    gap: [f64; 6],
}

const GAP_ITEMS: [(&str, &str); 6] = [
    (
        "billed time over 1 ms",
        "each DynamoDB/SNS round trip (8 ms here) and the handler's CPU at a 128 MB share; \
         the price of doing the work in one process per event instead of none",
    ),
    (
        "transactions (the second half of TransactWriteItems)",
        "a report, its timeline entry and its reporter (or idempotency key) change together or \
         not at all: no report without its history, no identity without a report, a retried \
         submission cannot file twice, and the version check is atomic with the write",
    ),
    (
        "index writes (inbox, due)",
        "the agency inbox is one Query instead of a scan, and the overdue sweep reads only \
         overdue reports (its cost grows with them, not with the table)",
    ),
    (
        "report items beyond one 1-KB write",
        "the timeline entry (a history that is never rewritten) and the reporter's identity in \
         its own item that only the identity port can read (privacy), plus a report item over \
         1 KB when its description is long",
    ),
    (
        "bookkeeping items (marks, message counts, idempotency keys)",
        "exactly-once statistics however a stream batch is redelivered or split, no SMS or \
         e-mail sent twice, a per-number message limit, and safe client retries",
    ),
    (
        "reads beyond the least read",
        "the version read before an officer's write (no lost update), the reporter's contact \
         read only when a message is sent (never copied into the report), marks checked before \
         a message",
    ),
];

fn price(
    step: &Step,
    requests: Option<&Value>,
    warm: Option<&Value>,
    pages: Option<&Value>,
) -> Option<Priced> {
    let p = &PRICES;
    let (dynamo, writes, rru) = match step.operation {
        Some(name) => {
            let op = operation(requests, name)?;
            (
                num(op.get("requests")).unwrap_or(0.0),
                writes_of(op),
                num(op.get("read_units")).unwrap_or(0.0),
            )
        }
        None => (0.0, Writes::default(), 0.0),
    };
    let cpu_us = match step.cpu {
        Cpu::Handler(name) => warm
            .and_then(|w| w.get("handlers"))
            .and_then(|h| h.get(name))
            .and_then(|h| h.get("us").or(Some(h)))
            .and_then(|s| num(s.get("median"))),
        Cpu::Page(name) => pages
            .and_then(|p| p.get("pages"))
            .and_then(Value::as_array)
            .and_then(|rows| {
                rows.iter()
                    .find(|r| r.get("name").and_then(Value::as_str) == Some(name))
            })
            .and_then(|r| num(r.get("render_us").and_then(|r| r.get("median")))),
    }
    .unwrap_or(0.0);
    let billed_ms = (cpu_us / 1000.0 * CPU_SHARE_FACTOR
        + (dynamo + step.sns_publishes) * AWS_REQUEST_MS)
        .ceil()
        .max(1.0);
    let wru = writes.single + writes.transaction + writes.index;
    let ms = |ms: f64| ms / 1000.0 * MEMORY_GB * p.lambda_gb_second_arm;
    let w = |units: f64| units * p.dynamodb_per_million_wru / 1e6;
    let r = |units: f64| units * p.dynamodb_per_million_rru / 1e6;
    let fixed = p.lambda_per_million_requests / 1e6
        + if step.http_api {
            p.http_api_per_million / 1e6
        } else {
            0.0
        }
        + step.sns_publishes * p.sns_per_million_publishes / 1e6;
    let total = ms(billed_ms) + fixed + w(wru) + r(rru);
    let (least_wru, least_rru) = match step.least {
        Least::Write => (1.0, 0.0),
        Least::Read => (0.0, 0.5),
        Least::Nothing => (0.0, 0.0),
    };
    let floor = ms(1.0) + fixed + w(least_wru) + r(least_rru);
    // The least write is the first unit of the report's own items, or of the bookkeeping when
    // the step writes nothing else.
    let report_items = writes.single - writes.bookkeeping;
    let (report_gap, bookkeeping_gap) = if report_items >= least_wru {
        (report_items - least_wru, writes.bookkeeping)
    } else {
        (0.0, writes.bookkeeping - (least_wru - report_items))
    };
    let gap = [
        ms(billed_ms - 1.0),
        w(writes.transaction),
        w(writes.index),
        w(report_gap),
        w(bookkeeping_gap),
        r(rru - least_rru),
    ];
    let t = step.times;
    Some(Priced {
        dynamo_requests: dynamo,
        wru,
        rru,
        billed_ms,
        total: total * t,
        floor: floor * t,
        fixed: fixed * t,
        gap: gap.map(|g| g * t),
    })
}

pub fn cost_section(
    doc: &mut String,
    requests: Option<&Value>,
    warm: Option<&Value>,
    pages: Option<&Value>,
) {
    let _ = writeln!(doc, "## Cost model: 1 million report lifecycles a month\n");
    let p = &PRICES;
    let _ = writeln!(
        doc,
        "Inputs (us-east-1 list prices, USD): Lambda arm64 ${} per GB-s and ${:.2} per million \
         requests; HTTP API ${:.2} per million; DynamoDB on-demand ${} per million WRU and ${} per \
         million RRU; SNS ${:.2} per million publishes; SES ${:.2} per 1,000 e-mails; S3 \
         ${S3_PUT_PER_THOUSAND} per 1,000 PUTs, ${S3_GET_PER_THOUSAND} per 1,000 GETs, \
         ${S3_STORAGE_PER_GB_MONTH} per GB-month, transfer out ${TRANSFER_OUT_PER_GB} per GB. \
         Durations: the measured warm CPU time (p50; a page's render time from the pages \
         benchmark) × {CPU_SHARE_FACTOR:.1} (a 128 MB function's share of a vCPU) + \
         {AWS_REQUEST_MS} ms per DynamoDB/SNS request, rounded up to whole milliseconds, at \
         128 MB. DynamoDB units are the `requests` benchmark's (index writes count as writes).\n\n\
         A lifecycle: the citizen opens the report form and submits (the portal's `POST /lapor` \
         calls intake's route in-process: same requests), the receipt, routing, two agency \
         messages, two follow-ups each after the officer opened the report in the console, two \
         answers to the reporter, two looks at the tracking page, one reply, its statistics (five \
         changes counted in stream batches of 25) and its share of the sweeps. Every function of \
         the stack is in it: intake, web, officer, routing, notify, stats, escalation; sms \
         replaces intake for a report sent by SMS at a similar cost (see `sms_report` above), and \
         evidence and e-mail are priced per file and per message below. SMS is excluded \
         (priced per message and country, the same for any design).\n",
        p.lambda_gb_second_arm,
        p.lambda_per_million_requests,
        p.http_api_per_million,
        p.dynamodb_per_million_wru,
        p.dynamodb_per_million_rru,
        p.sns_per_million_publishes,
        p.ses_per_thousand_emails,
    );
    if requests.is_none() {
        return missing(doc, "requests (the model needs its counts)");
    }
    let _ = writeln!(
        doc,
        "| step | × per lifecycle | DynamoDB requests | WRU | RRU | billed ms | $ per million lifecycles | floor $ |\n|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let (mut total, mut floor, mut fixed) = (0.0, 0.0, 0.0);
    let mut writing_steps = 0.0;
    let mut gap = [0.0; 6];
    let mut unknown = Vec::new();
    for step in &LIFECYCLE {
        let Some(priced) = price(step, requests, warm, pages) else {
            unknown.push(step.operation.unwrap_or(step.name));
            continue;
        };
        total += priced.total * 1e6;
        fixed += priced.fixed * 1e6;
        if step.least == Least::Write {
            writing_steps += step.times;
        }
        floor += priced.floor * 1e6;
        for (sum, part) in gap.iter_mut().zip(priced.gap) {
            *sum += part * 1e6;
        }
        let _ = writeln!(
            doc,
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.2} | {:.2} |",
            step.name,
            step.times,
            priced.dynamo_requests,
            priced.wru,
            priced.rru,
            priced.billed_ms,
            priced.total * 1e6,
            priced.floor * 1e6
        );
    }
    let _ = writeln!(
        doc,
        "| **total** | | | | | | **{total:.2}** | {floor:.2} |\n\nThe floor of a step: its API request, its invocation, its publishes, 1 ms of billed time and the least DynamoDB access it could do (one 1-KB write for a step that changes something, one eventually consistent read for a page that shows a report, nothing otherwise).\n"
    );
    if !unknown.is_empty() {
        let _ = writeln!(
            doc,
            "Steps without measured counts (left out of the total): {}.\n",
            unknown.join(", ")
        );
    }
    let _ = writeln!(
        doc,
        "**${total:.2} per million lifecycles** (goal ≤ $25: {}), **{:.2}× the floor** (goal ≤ 1.5×: {}).\n",
        if total <= 25.0 { "met" } else { "not met" },
        total / floor.max(f64::MIN_POSITIVE),
        if total <= 1.5 * floor { "met" } else { "not met" }
    );
    let left = 25.0 - fixed;
    let change = operation(requests, "follow_up").map(writes_of);
    if let (true, Some(change)) = (total > 25.0, change) {
        let units = left / p.dynamodb_per_million_wru;
        let _ = writeln!(
            doc,
            "Of the floor, ${fixed:.2} is the API requests, invocations and publishes themselves, \
             which no storage design changes. The $25 goal leaves ${left:.2} for everything \
             else; spent on DynamoDB writes alone that is {units:.1} WRU per lifecycle for its \
             {writing_steps:.1} writing steps ({:.1} per step), while one follow-up writes {:.0} \
             units of items and {:.0} of index entries before its transaction doubles the items. \
             The goal is out of reach without giving up one of the guarantees below; the table \
             says what each costs and buys.\n",
            units / writing_steps.max(f64::MIN_POSITIVE),
            change.single,
            change.index,
        );
    }
    let _ = writeln!(
        doc,
        "### The gap to the floor, item by item\n\n| item | $ per million lifecycles | share of the gap | what it buys |\n|---|---:|---:|---|"
    );
    let whole: f64 = gap.iter().sum();
    for ((item, buys), dollars) in GAP_ITEMS.iter().zip(gap) {
        let _ = writeln!(
            doc,
            "| {item} | {dollars:.2} | {:.0}% | {buys} |",
            100.0 * dollars / whole.max(f64::MIN_POSITIVE)
        );
    }
    let _ = writeln!(
        doc,
        "| **gap** | **{whole:.2}** | | total − floor = {:.2} |\n",
        total - floor
    );
    let _ = writeln!(
        doc,
        "### E-mail: per message\n\nA reporter who gives an e-mail address gets the receipt and \
         each answer by e-mail through SES instead of SMS: ${:.2} per million e-mails, so \
         ${:.2} per million lifecycles for the {EMAILS_PER_LIFECYCLE:.0} e-mails of one \
         (the notify invocations that send them are in the table above). Like SMS it is a price \
         per message that any design pays, so it is in neither the total nor the floor.\n",
        p.ses_per_thousand_emails * 1000.0,
        p.ses_per_thousand_emails * 1000.0 * EMAILS_PER_LIFECYCLE,
    );
}

/// What one attached file costs: the evidence function at its memory size (the measured
/// cleaning time scaled to its CPU share), S3 requests, a month of storage, downloads, and the
/// two report writes (reserve, record). Per million files, for each measured case, against the
/// floor of keeping and serving the file at all (its upload, storage, downloads and one write).
pub fn evidence_cost_section(doc: &mut String, evidence: Option<&Value>) {
    let _ = writeln!(doc, "### Evidence: per million attached files\n");
    let Some(cases) = evidence
        .and_then(|e| e.get("cases"))
        .and_then(Value::as_array)
    else {
        return missing(doc, "evidence (the cost needs the cleaning times)");
    };
    let p = &PRICES;
    let _ = writeln!(
        doc,
        "Inputs: the evidence function at {EVIDENCE_MEMORY_MB:.0} MB, billed for the cleaning \
         time measured above × {:.1} (its CPU share) + 4 requests of {AWS_REQUEST_MS} ms; S3 \
         PUTs (the upload to quarantine, the clean copy), GETs (the function's read and \
         {DOWNLOADS_PER_FILE:.0} downloads), one month of the clean copy (quarantine is deleted \
         at once), transfer out for the downloads; the upload request through the API and \
         intake; {EVIDENCE_WRU:.0} WRU (the report item written twice, one timeline entry). S3's \
         EventBridge events to the default bus are free. The floor keeps and serves the file \
         without cleaning it: one PUT, the storage, the downloads, the API request and one \
         write.\n",
        CPU_FULL_VCPU_MB / EVIDENCE_MEMORY_MB
    );
    let _ = writeln!(
        doc,
        "| case | clean file | function $ | S3 requests $ | storage $ | downloads $ | API + writes $ | total $ per million files | floor $ | × floor |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for case in cases {
        let name = case.get("name").and_then(Value::as_str).unwrap_or("?");
        let (Some(clean_ms), Some(out_mb)) =
            (num(case.get("clean_ms")), num(case.get("output_mb")))
        else {
            continue;
        };
        let billed_ms =
            (clean_ms * CPU_FULL_VCPU_MB / EVIDENCE_MEMORY_MB + 4.0 * AWS_REQUEST_MS).ceil();
        let function = billed_ms / 1000.0 * EVIDENCE_MEMORY_MB / 1024.0 * p.lambda_gb_second_arm
            + p.lambda_per_million_requests / 1e6;
        let requests = 2.0 * S3_PUT_PER_THOUSAND / 1000.0
            + (1.0 + DOWNLOADS_PER_FILE) * S3_GET_PER_THOUSAND / 1000.0;
        let gb = out_mb / 1024.0;
        let storage = gb * S3_STORAGE_PER_GB_MONTH;
        let downloads = gb * DOWNLOADS_PER_FILE * TRANSFER_OUT_PER_GB;
        let api = p.http_api_per_million / 1e6
            + p.lambda_per_million_requests / 1e6
            + EVIDENCE_WRU * p.dynamodb_per_million_wru / 1e6;
        let total = function + requests + storage + downloads + api;
        let floor = S3_PUT_PER_THOUSAND / 1000.0
            + DOWNLOADS_PER_FILE * S3_GET_PER_THOUSAND / 1000.0
            + storage
            + downloads
            + p.http_api_per_million / 1e6
            + p.lambda_per_million_requests / 1e6
            + p.dynamodb_per_million_wru / 1e6;
        let m = 1e6;
        let _ = writeln!(
            doc,
            "| {name} | {out_mb:.1} MB | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | **{:.0}** | {:.0} | {:.2} |",
            function * m,
            requests * m,
            storage * m,
            downloads * m,
            api * m,
            total * m,
            floor * m,
            total / floor
        );
    }
    let _ = writeln!(
        doc,
        "\nDownloads dominate: a clean file leaves AWS once per download, and that is in the \
         floor too. Cleaning (the function, the quarantine copy) is what removes the metadata \
         that could unmask a whistleblower. Re-encoding a photo at a lower quality, or capping \
         its pixels, would cut both storage and transfer.\n"
    );
}
