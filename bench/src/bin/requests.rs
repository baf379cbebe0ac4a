//! `requests`: the DynamoDB requests each Lapor operation makes, and the write and read capacity
//! units they cost, on moto (`AWS_ENDPOINT_URL`). Every operation runs on one fresh table with the
//! bundled agency directory, through a client whose interceptor keeps each request and response
//! body; the units are computed from the items' sizes (see `units`), because moto's
//! `ConsumedCapacity` figures are placeholders. Writes `target/bench/requests.json` and prints a
//! Markdown table.

#[path = "requests/capture.rs"]
mod capture;
#[path = "requests/units.rs"]
mod units;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use chrono::{DateTime, Utc};
use lapor_bench::pothole_json;
use lapor_core::{AgencyId, Deadlines, Directory, FixedClock, KeyPepper, Report, TrackingCode};
use lapor_http::auth::{context_with_claims, CLAIM_AGENCY, CLAIM_ROLE};
use lapor_notifier::Outbox;
use lapor_store::{DynamoStore, ReportChange, Reports, Stores};
use serde_json::{json, Value};
use tower::ServiceExt;

use capture::{Capture, Exchange};
use units::{Cost, State};

const DPUPR: &str = "kota-cirebon-dpupr";
/// A stream batch as the template delivers it to the stats function (BatchSize 25).
const STATS_BATCH: usize = 25;
const CENTRAL: &str = "kemenpanrb";
const OVERSIGHT: &str = "ombudsman-ri";
const REPORTER_PHONE: &str = "+6281234567890";

const METHOD: &str = "Requests are counted by an SDK interceptor on the measured client (retries \
included); an operation's own reads that set it up go through a second, unmeasured client. Item \
sizes follow AWS's \"DynamoDB item sizes and formats\" page: attribute name bytes plus value \
bytes (strings in UTF-8, numbers ⌈significant digits / 2⌉ + 1, binaries raw, Boolean and null 1, \
lists and maps 3 + each element + 1, sets the sum). Writes: ⌈bytes / 1 KB⌉ (at least 1) per item, \
×2 inside TransactWriteItems (ConditionCheck items too); a put or update is billed on the larger \
of the item before and after it (before: the item as a consistent Scan of the table taken just \
before the operation had it, advanced by the operation's earlier writes; after: the put's own \
item, or for an update a consistent GetItem once the operation is done), a delete on the item as \
it was. Reads: GetItem ⌈bytes / 4 KB⌉ (at least 1) × 0.5 eventually consistent or × 1 with \
ConsistentRead; Query and Scan the returned items' bytes summed, then rounded up the same way; \
BatchGetItem per key (a key with no item costs the minimum); TransactGetItems ×2. WRU and RRU \
are the table's own; the write units the two sparse GSIs (inbox, due; projection ALL) spend are \
counted apart as GSI WRU (1 per KB of the entry written or deleted, 2 entries when an index key \
changes) and are billed on top under on-demand.";

/// A failure, with what was being done.
type Fallible<T> = Result<T, String>;

trait Context<T> {
    fn context(self, what: &str) -> Fallible<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Fallible<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

fn at(rfc3339: &str) -> Fallible<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.to_utc())
        .context(rfc3339)
}

/// The most requests an operation may make to meet its goal, and how the goal reads.
#[derive(Clone, Copy)]
struct Goal {
    max: usize,
    label: &'static str,
}

const ONE: Option<Goal> = Some(Goal { max: 1, label: "1" });
const AT_MOST_TWO: Option<Goal> = Some(Goal {
    max: 2,
    label: "≤ 2",
});
const AT_MOST_THREE: Option<Goal> = Some(Goal {
    max: 3,
    label: "≤ 3",
});

/// One measured operation, as written to the JSON.
struct Measured {
    name: String,
    goal: Option<Goal>,
    cost: Cost,
    notes: Vec<String>,
}

impl Measured {
    fn meets_goal(&self) -> Option<bool> {
        self.goal.map(|g| self.cost.requests <= g.max)
    }

    fn json(&self) -> Value {
        let c = &self.cost;
        json!({
            "name": self.name,
            "requests": c.requests,
            "by_operation": c.by_operation,
            "items_written": c.items_written,
            "write_units": c.write_units,
            "index_write_units": c.index_write_units,
            "read_units": c.read_units,
            "largest_item_bytes": c.largest_item_bytes,
            "goal": self.goal.map_or("", |g| g.label),
            "meets_goal": self.meets_goal(),
            "failed_requests": c.failed_requests,
            "notes": self.notes,
            "detail": c.detail,
        })
    }
}

struct Bench {
    table: String,
    /// Unmeasured: snapshots, read-backs and set-up.
    probe: aws_sdk_dynamodb::Client,
    plain: Arc<DynamoStore>,
    measured: Arc<DynamoStore>,
    capture: Capture,
    clock: Arc<FixedClock>,
    pepper: KeyPepper,
    results: Vec<Measured>,
    /// Responses whose body was in memory at `read_after_transmit`, and all responses.
    bodies_at_transmit: (usize, usize),
    max_in_flight: usize,
}

impl Bench {
    async fn new(config: &aws_config::SdkConfig) -> Fallible<Bench> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let table = format!("lapor-requests-{}-{nanos}", std::process::id());
        let probe = aws_sdk_dynamodb::Client::new(config);
        let capture = Capture::default();
        let measured_client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(config)
                .interceptor(capture.clone())
                .build(),
        );
        let plain = Arc::new(DynamoStore::new(probe.clone(), &table));
        plain
            .create_table_if_missing()
            .await
            .context("creating the table")?;
        lapor_admin::import_agencies(plain.as_ref(), Directory::bundled_sample())
            .await
            .context("importing the agency directory")?;
        Ok(Bench {
            probe,
            plain,
            measured: Arc::new(DynamoStore::new(measured_client, &table)),
            table,
            capture,
            clock: Arc::new(FixedClock::new(at("2026-11-30T02:00:00Z")?)),
            pepper: KeyPepper::new(vec![7; 32]).ok_or("a 32-byte pepper")?,
            results: Vec::new(),
            bodies_at_transmit: (0, 0),
            max_in_flight: 0,
        })
    }

    fn measured_stores(&self) -> Stores {
        Stores::of(self.measured.clone())
    }

    /// Unmeasured: set-up that must not be counted.
    fn plain_stores(&self) -> Stores {
        Stores::of(self.plain.clone())
    }

    /// The table as it stands, and a clean request log: call just before the operation.
    async fn begin(&self) -> Fallible<State> {
        let state = units::scan_table(&self.probe, &self.table).await?;
        self.capture.take();
        Ok(state)
    }

    /// Accounts for the requests since `begin`.
    async fn finish(
        &mut self,
        name: &str,
        goal: Option<Goal>,
        before: State,
        notes: Vec<String>,
    ) -> Fallible<()> {
        let (exchanges, in_flight) = self.capture.take();
        self.note_bodies(&exchanges);
        self.max_in_flight = self.max_in_flight.max(in_flight);
        let cost = units::account(&self.probe, &self.table, before, &exchanges)
            .await
            .context(name)?;
        eprintln!("{name}: {} requests {:?}", cost.requests, cost.by_operation);
        self.results.push(Measured {
            name: name.to_string(),
            goal,
            cost,
            notes,
        });
        Ok(())
    }

    /// Sends one request through `router` as a measured operation `name`: it must answer `want`.
    async fn request(
        &mut self,
        name: &str,
        goal: Option<Goal>,
        router: &Router,
        request: Request<Body>,
        want: u16,
        note: String,
    ) -> Fallible<()> {
        let before = self.begin().await?;
        let answer = send(router, request).await?;
        expect_status(name, answer, want)?;
        self.finish(name, goal, before, vec![note]).await
    }

    fn note_bodies(&mut self, exchanges: &[Exchange]) {
        self.bodies_at_transmit.0 += exchanges.iter().filter(|e| e.body_at_transmit).count();
        self.bodies_at_transmit.1 += exchanges.iter().filter(|e| e.status != 0).count();
    }

    async fn report(&self, code: &TrackingCode) -> Fallible<Report> {
        self.plain
            .report(code)
            .await
            .context("reading the report")?
            .ok_or_else(|| format!("report {code} is missing"))
    }

    fn intake(&self, stores: &Stores) -> Router {
        lapor_intake::router(lapor_intake::Deps::new(
            stores,
            self.clock.clone(),
            Deadlines::indonesia(),
            self.pepper.clone(),
        ))
    }

    fn status(&self) -> Router {
        lapor_officer::router(lapor_officer::Deps::new(
            &self.measured_stores(),
            self.clock.clone(),
            Deadlines::indonesia(),
        ))
    }

    fn routing(&self, stores: &Stores) -> lapor_routing::Deps {
        lapor_routing::Deps::new(stores, self.clock.clone(), Deadlines::indonesia())
    }

    fn notify(&self) -> Fallible<lapor_notify::Deps> {
        Ok(lapor_notify::Deps::new(
            &self.measured_stores(),
            Arc::new(Outbox::default()),
            self.clock.clone(),
            AgencyId::parse(CENTRAL).context("the central agency id")?,
            AgencyId::parse(OVERSIGHT).context("the oversight agency id")?,
            self.pepper.clone(),
        ))
    }

    fn escalation(&self) -> lapor_escalation::Deps {
        lapor_escalation::Deps::new(
            &self.measured_stores(),
            self.clock.clone(),
            Deadlines::indonesia(),
        )
    }
}

/// Sends a request through a router; the status and the JSON body (null when not JSON).
async fn send(router: &Router, request: Request<Body>) -> Fallible<(u16, Value)> {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .context("the router")?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .context("the response body")?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

fn post_json(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header("content-type", "application/json")
}

fn with_body(builder: axum::http::request::Builder, body: &Value) -> Fallible<Request<Body>> {
    builder
        .body(Body::from(body.to_string()))
        .context("building a request")
}

/// A request from an officer of `agency`, with the claims API Gateway's JWT authorizer would put
/// in the request context.
fn as_officer(mut request: Request<Body>, agency: &str) -> Request<Body> {
    let claims = HashMap::from([
        ("sub".to_string(), "petugas-bench".to_string()),
        (CLAIM_AGENCY.to_string(), agency.to_string()),
        (CLAIM_ROLE.to_string(), "officer".to_string()),
    ]);
    request.extensions_mut().insert(context_with_claims(claims));
    request
}

fn expect_status(what: &str, got: (u16, Value), want: u16) -> Fallible<Value> {
    if got.0 == want {
        Ok(got.1)
    } else {
        Err(format!("{what}: HTTP {} (wanted {want}): {}", got.0, got.1))
    }
}

/// Submits a report; its tracking code and access key.
async fn submit(
    router: &Router,
    body: &Value,
    idempotency_key: Option<&str>,
) -> Fallible<(TrackingCode, String)> {
    let mut builder = post_json("/reports");
    if let Some(key) = idempotency_key {
        builder = builder.header("idempotency-key", key);
    }
    let receipt = expect_status(
        "POST /reports",
        send(router, with_body(builder, body)?).await?,
        201,
    )?;
    let code = receipt["tracking_code"]
        .as_str()
        .ok_or("the receipt has no tracking code")?;
    let key = receipt["access_key"]
        .as_str()
        .ok_or("the receipt has no access key")?;
    Ok((
        TrackingCode::parse(code).context("the tracking code")?,
        key.to_string(),
    ))
}

async fn follow_up(
    bench: &mut Bench,
    name: &str,
    code: &TrackingCode,
    body: Value,
) -> Fallible<()> {
    let router = bench.status();
    let request = as_officer(
        with_body(post_json(&format!("/reports/{code}/followups")), &body)?,
        DPUPR,
    );
    let note = format!(
        "POST /reports/{{code}}/followups {} as an officer of {DPUPR}",
        body["status"]
    );
    bench
        .request(name, AT_MOST_TWO, &router, request, 200, note)
        .await
}

/// Runs notify for the change `old` → the report as it is now.
async fn notify(
    bench: &mut Bench,
    name: &str,
    old: Option<Report>,
    code: &TrackingCode,
    note: &str,
) -> Fallible<()> {
    let change = ReportChange {
        old,
        new: Some(bench.report(code).await?),
    };
    let deps = bench.notify()?;
    let before = bench.begin().await?;
    let sent = lapor_notify::notify_change(&deps, &change)
        .await
        .context(name)?;
    bench
        .finish(
            name,
            None,
            before,
            vec![format!("{note}; {sent} message(s) to the outbox")],
        )
        .await
}

async fn run() -> Fallible<()> {
    let config = lapor_lambda::aws_config().await;
    let mut bench = Bench::new(&config).await?;

    // 1. Intake: POST /reports.
    let router = bench.intake(&bench.measured_stores());
    let before = bench.begin().await?;
    let (code, access_key) = submit(&router, &pothole_json(), None).await?;
    bench
        .finish(
            "intake",
            ONE,
            before,
            vec!["POST /reports (pothole, publik, with reporter)".into()],
        )
        .await?;
    let received = bench.report(&code).await?;

    notify(
        &mut bench,
        "notify_receipt",
        None,
        &code,
        "notify for the new report: the reporter's SMS receipt",
    )
    .await?;

    // 2. Routing of the new report.
    bench.clock.set(at("2026-11-30T02:00:05Z")?);
    let deps = bench.routing(&bench.measured_stores());
    let change = ReportChange {
        old: None,
        new: Some(received.clone()),
    };
    let before = bench.begin().await?;
    let outcome = lapor_routing::route_change(&deps, &change)
        .await
        .context("routing")?;
    bench
        .finish(
            "routing",
            AT_MOST_THREE,
            before,
            vec![format!("route_change of the new report: {outcome:?}")],
        )
        .await?;
    let dpupr = AgencyId::parse(DPUPR).context("the agency id")?;
    if outcome != lapor_routing::Outcome::Forwarded(dpupr) {
        return Err(format!("routing: {outcome:?}, expected {DPUPR}"));
    }

    // 3. Notify for the routing change: the agency's message.
    notify(
        &mut bench,
        "notify",
        Some(received),
        &code,
        "notify for the routing change: the agency's \"forwarded\" message",
    )
    .await?;

    // 4.–5. Two follow-ups by the agency, and the reporter's SMS for the first.
    bench.clock.set(at("2026-12-01T03:00:00Z")?);
    let routed = bench.report(&code).await?;
    follow_up(
        &mut bench,
        "follow_up",
        &code,
        json!({"status": "diproses", "message": "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis."}),
    )
    .await?;
    notify(
        &mut bench,
        "notify_answer",
        Some(routed),
        &code,
        "notify for the follow-up: the reporter's status SMS",
    )
    .await?;
    bench.clock.set(at("2026-12-02T03:00:00Z")?);
    follow_up(
        &mut bench,
        "follow_up_selesai",
        &code,
        json!({"status": "selesai", "message": "Lubang sudah ditambal aspal pada Kamis."}),
    )
    .await?;

    // 6. The reporter's reply.
    bench.clock.set(at("2026-12-02T05:00:00Z")?);
    let body = json!({"message": "Terima kasih, jalannya sudah rata kembali."});
    let request = with_body(
        post_json(&format!("/reports/{code}/replies")).header("x-access-key", access_key.as_str()),
        &body,
    )?;
    let note = "POST /reports/{code}/replies with X-Access-Key (a plain reply)";
    bench
        .request("reply", None, &router, request, 200, note.into())
        .await?;

    // 6b. Reading it: the reporter's own view (what the portal's tracking page shows, through
    // the same route in-process) and the officer's view (what the console's report page shows).
    let request = Request::get(format!("/reports/{code}"))
        .header("x-access-key", access_key.as_str())
        .body(Body::empty())
        .context("building a request")?;
    let note = "GET /reports/{code} with X-Access-Key (the portal's POST /lacak reads the same)";
    bench
        .request("track", None, &router, request, 200, note.into())
        .await?;
    let request = as_officer(
        Request::get(format!("/agency/reports/{code}"))
            .body(Body::empty())
            .context("building a request")?,
        DPUPR,
    );
    let officer = bench.status();
    let note = format!(
        "GET /agency/reports/{{code}} as an officer of {DPUPR} (the console's report page reads \
         the same)"
    );
    bench
        .request("officer_view", None, &officer, request, 200, note)
        .await?;

    // 7. The sweep: with nothing due, then with one report overdue.
    sweeps(&mut bench, &code).await?;

    // 8. Statistics.
    let request = Request::get("/stats?region=32.74&year=2026")
        .body(Body::empty())
        .context("building a request")?;
    let note = "GET /stats?region=32.74&year=2026 (grouped by category)";
    bench
        .request("stats", None, &router, request, 200, note.into())
        .await?;

    // 8b. The statistics consumer: one stream batch of new reports of one city, counted at once.
    let received = bench.report(&code).await?;
    let changes: Vec<ReportChange> = (0..STATS_BATCH)
        .map(|_| {
            let mut report = received.clone();
            report.tracking_code = TrackingCode::generate(&mut rand::rng());
            report.version = 1;
            ReportChange {
                old: None,
                new: Some(report),
            }
        })
        .collect();
    let counting = lapor_stats::Deps::new(&bench.measured_stores(), bench.clock.clone());
    let before = bench.begin().await?;
    lapor_stats::count_changes(&counting, &changes)
        .await
        .context("counting a batch")?;
    bench
        .finish(
            "stats_batch",
            None,
            before,
            vec![format!(
                "the stats consumer counting one stream batch of {STATS_BATCH} new reports of Kota Cirebon"
            )],
        )
        .await?;

    // 9. One SMS report.
    bench.clock.set(at("2026-12-03T02:00:00Z")?);
    let sms = lapor_sms::Deps::new(
        &bench.measured_stores(),
        Arc::new(Outbox::default()),
        bench.clock.clone(),
        Deadlines::indonesia(),
        bench.pepper.clone(),
        lapor_sms::DEFAULT_HOURLY_LIMIT,
    );
    let inbound = lapor_sms::InboundSms {
        origination_number: REPORTER_PHONE.into(),
        destination_number: "1708".into(),
        message_body: "LAPOR Jalan berlubang besar di Jl. Cipto, Kota Cirebon, sudah dua minggu"
            .into(),
        inbound_message_id: "bench-inbound-1".into(),
    };
    let before = bench.begin().await?;
    let handled = lapor_sms::handle_inbound(&sms, &inbound)
        .await
        .context("sms")?;
    bench
        .finish(
            "sms_report",
            None,
            before,
            vec![format!(
                "handle_inbound of a LAPOR text: {:?}, reply sent: {}",
                handled.action,
                handled.reply.is_some()
            )],
        )
        .await?;

    // Intake with an Idempotency-Key: the idempotency record joins the transaction.
    let before = bench.begin().await?;
    submit(&router, &pothole_json(), Some("bench-idempotency-key-1")).await?;
    bench
        .finish(
            "intake_idempotent",
            ONE,
            before,
            vec!["POST /reports with Idempotency-Key".into()],
        )
        .await?;

    largest_report(&mut bench, &router).await?;
    write_results(&bench);
    Ok(())
}

/// A report at the description limit, submitted and routed: the report item (rewritten by every
/// state change) at its largest.
async fn largest_report(bench: &mut Bench, router: &Router) -> Fallible<()> {
    let sentence = "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor. ";
    let description: String = sentence
        .chars()
        .cycle()
        .take(lapor_core::report::DESCRIPTION_MAX)
        .collect();
    let mut body = pothole_json();
    body["description"] = json!(description);
    let before = bench.begin().await?;
    let (code, _) = submit(router, &body, None).await?;
    bench
        .finish(
            "intake_max_description",
            ONE,
            before,
            vec![format!(
                "POST /reports with a {}-character description (the limit)",
                lapor_core::report::DESCRIPTION_MAX
            )],
        )
        .await?;
    let received = bench.report(&code).await?;
    let deps = bench.routing(&bench.measured_stores());
    let before = bench.begin().await?;
    let outcome = lapor_routing::route_change(
        &deps,
        &ReportChange {
            old: None,
            new: Some(received),
        },
    )
    .await
    .context("routing the largest report")?;
    bench
        .finish(
            "routing_max_description",
            AT_MOST_THREE,
            before,
            vec![format!("route_change of that report: {outcome:?}")],
        )
        .await
}

/// The sweep with nothing due (one empty page), then with one report overdue; the
/// difference is the cost of one escalated report.
async fn sweeps(bench: &mut Bench, done: &TrackingCode) -> Fallible<()> {
    let now = at("2026-12-02T06:00:00Z")?;
    bench.clock.set(now);
    let deps = bench.escalation();
    let before = bench.begin().await?;
    let empty = lapor_escalation::sweep(&deps, now, Instant::now() + Duration::from_secs(60))
        .await
        .context("the empty sweep")?;
    bench
        .finish(
            "sweep_empty",
            None,
            before,
            vec![format!(
                "sweep with nothing due: {} pages, {} scanned",
                empty.pages, empty.scanned
            )],
        )
        .await?;
    if empty.scanned != 0 {
        return Err(format!("the empty sweep found reports: {empty:?}"));
    }

    // A second report, submitted and routed without measuring, then left past its deadline.
    let (late, _) = submit(&bench.intake(&bench.plain_stores()), &pothole_json(), None).await?;
    let received = bench.report(&late).await?;
    lapor_routing::route_change(
        &bench.routing(&bench.plain_stores()),
        &ReportChange {
            old: None,
            new: Some(received),
        },
    )
    .await
    .context("routing the second report")?;
    let due = bench
        .report(&late)
        .await?
        .due_at
        .ok_or("the routed report has no deadline")?
        .to_utc();
    let now = due + chrono::Duration::minutes(1);
    if let Some(other) = bench.report(done).await?.due_at {
        if other.to_utc() <= now {
            return Err(format!(
                "the first report is due {other}, before the sweep at {now}"
            ));
        }
    }
    bench.clock.set(now);
    let deps = bench.escalation();
    let before = bench.begin().await?;
    let one = lapor_escalation::sweep(&deps, now, Instant::now() + Duration::from_secs(60))
        .await
        .context("the sweep")?;
    if one.escalated != 1 {
        return Err(format!(
            "the sweep escalated {} reports: {one:?}",
            one.escalated
        ));
    }
    bench
        .finish(
            "sweep_one_overdue",
            None,
            before,
            vec![format!(
                "sweep at {now} with one report past its deadline: {} pages, {} scanned, {} escalated",
                one.pages, one.scanned, one.escalated
            )],
        )
        .await?;
    let marginal = difference(&bench.results, "sweep_one_overdue", "sweep_empty")?;
    bench.results.push(Measured {
        name: "sweep_per_escalated".into(),
        goal: None,
        cost: marginal,
        notes: vec![
            "sweep_one_overdue minus sweep_empty: what one more overdue report adds".into(),
        ],
    });
    Ok(())
}

/// `a` minus `b`, field by field (the detail is `a`'s requests that `b` has no counterpart for).
fn difference(results: &[Measured], a: &str, b: &str) -> Fallible<Cost> {
    let find = |name: &str| {
        results
            .iter()
            .find(|m| m.name == name)
            .map(|m| &m.cost)
            .ok_or_else(|| format!("no {name} measured"))
    };
    let (a, b) = (find(a)?, find(b)?);
    let mut by_operation = a.by_operation.clone();
    for (op, n) in &b.by_operation {
        let left = by_operation
            .get(op)
            .copied()
            .unwrap_or(0)
            .saturating_sub(*n);
        if left == 0 {
            by_operation.remove(op);
        } else {
            by_operation.insert(op.clone(), left);
        }
    }
    let mut unmatched = b.by_operation.clone();
    let detail = a
        .detail
        .iter()
        .filter(|r| match unmatched.get_mut(&r.operation) {
            Some(n) if *n > 0 && r.items_written == 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect();
    Ok(Cost {
        requests: a.requests.saturating_sub(b.requests),
        by_operation,
        items_written: a.items_written.saturating_sub(b.items_written),
        write_units: a.write_units - b.write_units,
        index_write_units: a.index_write_units - b.index_write_units,
        read_units: a.read_units - b.read_units,
        largest_item_bytes: a.largest_item_bytes,
        failed_requests: a.failed_requests.saturating_sub(b.failed_requests),
        detail,
    })
}

fn units(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn write_results(bench: &Bench) {
    let (at_transmit, responses) = bench.bodies_at_transmit;
    let value = json!({
        "operations": bench.results.iter().map(Measured::json).collect::<Vec<_>>(),
        "method": METHOD,
        "capture": {
            "responses": responses,
            "bodies_in_memory_at_read_after_transmit": at_transmit,
            "bodies_read_at_read_after_deserialization": responses - at_transmit,
            "max_requests_in_flight": bench.max_in_flight,
        },
        "clock": "FixedClock from 2026-11-30T02:00:00Z (Monday 09:00 WIB)",
    });
    lapor_bench::write_json("requests", &value);

    println!("| operation | requests (by kind) | goal | items written | WRU | GSI WRU | RRU | largest item (bytes) |");
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    for m in &bench.results {
        let c = &m.cost;
        let kinds = c
            .by_operation
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let goal = match (m.goal, m.meets_goal()) {
            (Some(g), Some(false)) => format!("{} (**over**)", g.label),
            (Some(g), _) => g.label.to_string(),
            (None, _) => "—".into(),
        };
        println!(
            "| {} | {} ({kinds}) | {goal} | {} | {} | {} | {} | {} |",
            m.name,
            c.requests,
            c.items_written,
            units(c.write_units),
            units(c.index_write_units),
            units(c.read_units),
            c.largest_item_bytes
        );
    }
    println!(
        "\nResponse bodies in memory at read_after_transmit: {at_transmit} of {responses} (the rest \
         read at read_after_deserialization). Most requests in flight at once: {}.",
        bench.max_in_flight
    );
    println!(
        "Details: {}",
        lapor_bench::out_dir().join("requests.json").display()
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        eprintln!(
            "requests: AWS_ENDPOINT_URL is not set. This program counts DynamoDB requests on moto \
             and will not run against a real account; start moto first \
             (source scripts/lib/common.sh && ensure_python_tools && start_moto), or run scripts/bench."
        );
        return ExitCode::from(2);
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("requests: {e}");
            ExitCode::FAILURE
        }
    }
}
