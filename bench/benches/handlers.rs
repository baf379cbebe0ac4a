//! Warm handler cost: each handler called in-process on the embedded store, the way a warm Lambda
//! calls it once its runtime, clients and router exist. Criterion prints its own estimates; every
//! iteration is also timed on its own, and the percentiles go to `target/bench/warm.json` and a
//! Markdown table. The goal: intake POST p99 ≤ 200 µs.
//!
//! Store writes are the embedded store's (a map behind a mutex), not DynamoDB's round trips, and
//! no tracing subscriber is installed (Lambda's JSON log lines are not in these times).

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use criterion::Criterion;
use lapor_bench::{monday_morning, or_die, pothole_json};
use lapor_bench::{write_json, Summary};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, Directory, FixedClock, Hop, KeyPepper, Report,
    ReportDraft, TrackingCode,
};
use lapor_notifier::Outbox;
use lapor_store::{MemStore, ReportChange, Reports, Stores, Submission};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The intake goal, p99 in microseconds.
const INTAKE_P99_GOAL_US: f64 = 200.0;
/// Stores that grow with every iteration start again after this many, so a long run does not
/// measure an ever larger map (untimed).
const FRESH_STORE_EVERY: u64 = 10_000;
/// The SMS path's store starts again sooner: each of its writes scans the embedded store's reply
/// marks and idempotency records for expired ones, and under the fixed clock none ever expire,
/// so its cost would grow with every call of the run (a property of the embedded store only:
/// DynamoDB expires them by TTL).
const SMS_FRESH_STORE_EVERY: u64 = 200;
/// Untimed calls before criterion starts, so the first-call costs are not in the percentiles.
const WARM_UP_CALLS: usize = 200;
/// Overdue reports in each sweep's store.
const SWEEP_OVERDUE: usize = 25;
const DPUPR: &str = "kota-cirebon-dpupr";
const SMS_TEXT: &str = "LAPOR Jalan berlubang besar di Jl. Cipto, Kota Cirebon, sudah dua minggu";

/// A new web report as intake writes it (status diterima), created at `at`.
fn received(at: DateTime<Utc>) -> Submission {
    let body = pothole_json();
    let Some(object) = body.as_object() else {
        unreachable!("a literal object")
    };
    let new = or_die(ReportDraft(object).validate(Channel::Web), "valid report");
    let code = TrackingCode::generate(&mut rand::rng());
    let (report, reporter, event) = Report::open(
        new,
        code,
        AccessKey::generate(&mut rand::rng()).hash(),
        at,
        &Deadlines::indonesia(),
    );
    Submission {
        report,
        reporter,
        contact_keys: Default::default(),
        event,
        idempotency: None,
    }
}

/// A report forwarded to Kota Cirebon's public works, due at `due`.
fn forwarded(created: DateTime<Utc>, due: DateTime<Utc>) -> Submission {
    let mut submission = received(created);
    let hop = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let dpupr = or_die(AgencyId::parse(DPUPR), "agency id");
    let zone = submission.report.region.zone().offset();
    let (mut report, _) = or_die(
        submission
            .report
            .forward(&dpupr, hop, created, &Deadlines::indonesia()),
        "forward",
    );
    // The service level would set its own deadline; the bench wants this one.
    report.due_at = Some(due.with_timezone(&zone));
    submission.report = report;
    submission
}

async fn create(store: &dyn Reports, submission: &Submission) {
    or_die(
        store
            .create_report(submission, monday_morning().timestamp())
            .await,
        "create report",
    );
}

/// One embedded store with the bundled directory, and every handler over it.
struct World {
    store: Arc<MemStore>,
    intake: Router,
    status: Router,
    routing: lapor_routing::Deps,
    sms: lapor_sms::Deps,
    /// A routed report for the public view.
    public_code: TrackingCode,
}

impl World {
    async fn new() -> World {
        let store = Arc::new(MemStore::new());
        or_die(
            lapor_admin::import_agencies(store.as_ref(), Directory::bundled_sample()).await,
            "agency directory",
        );
        let stores = Stores::of(store.clone());
        let clock = Arc::new(FixedClock::new(monday_morning()));
        let pepper = or_die(
            KeyPepper::new(b"lapor-bench-pepper-of-32-bytes!!".to_vec()).ok_or("too short"),
            "pepper",
        );
        let deadlines = Deadlines::indonesia();
        let intake = lapor_intake::router(lapor_intake::Deps::new(
            &stores,
            clock.clone(),
            deadlines.clone(),
            pepper.clone(),
        ));
        let status = lapor_officer::router(lapor_officer::Deps::new(
            &stores,
            clock.clone(),
            deadlines.clone(),
        ));
        let routing = lapor_routing::Deps::new(&stores, clock.clone(), deadlines.clone());
        let sms = lapor_sms::Deps::new(
            &stores,
            Arc::new(Outbox::default()),
            clock,
            deadlines,
            pepper,
            // One sender texts all night: the limit would otherwise answer most of them.
            u64::MAX - 1,
        );
        let public = received(monday_morning() - Duration::hours(2));
        create(store.as_ref(), &public).await;
        let change = ReportChange {
            old: None,
            new: Some(public.report.clone()),
        };
        or_die(
            lapor_routing::route_change(&routing, &change).await,
            "route",
        );
        World {
            store,
            intake,
            status,
            routing,
            sms,
            public_code: public.report.tracking_code,
        }
    }
}

/// One handler under measurement: `prepare` (untimed) makes what one call needs, `call` is timed
/// and answers whether the call did what it should (checked after the clock stops).
trait Case {
    type Input;
    async fn prepare(&mut self) -> Self::Input;
    async fn call(&self, input: Self::Input) -> Result<(), String>;
}

/// Runs `case` under criterion as `name`, timing each call on its own; the samples in µs.
fn measure<C: Case>(c: &mut Criterion, rt: &Runtime, name: &str, case: &mut C) -> Vec<f64> {
    let mut samples = Vec::new();
    let once = |case: &mut C| -> StdDuration {
        let (took, outcome) = rt.block_on(async {
            let input = case.prepare().await;
            let started = Instant::now();
            let outcome = case.call(input).await;
            (started.elapsed(), outcome)
        });
        if let Err(e) = outcome {
            panic!("{name}: {e}");
        }
        took
    };
    for _ in 0..WARM_UP_CALLS {
        once(case);
    }
    // Criterion's own warm-up calls are recorded too: they run warm, after the calls above.
    c.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut total = StdDuration::ZERO;
            for _ in 0..iters {
                let took = once(case);
                samples.push(took.as_secs_f64() * 1e6);
                total += took;
            }
            total
        })
    });
    samples
}

async fn response_status(router: Router, request: Request<Body>) -> Result<StatusCode, String> {
    let response = router.oneshot(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

fn expect(status: StatusCode, wanted: StatusCode) -> Result<(), String> {
    if status == wanted {
        Ok(())
    } else {
        Err(format!("answered {status}, expected {wanted}"))
    }
}

/// A world that starts again every `every` calls.
struct Growing {
    world: World,
    calls: u64,
    every: u64,
}

impl Growing {
    async fn new(every: u64) -> Growing {
        Growing {
            world: World::new().await,
            calls: 0,
            every,
        }
    }

    async fn next(&mut self) -> &World {
        self.calls += 1;
        if self.calls % self.every == 0 {
            self.world = World::new().await;
        }
        &self.world
    }
}

struct IntakePost {
    growing: Growing,
    body: Vec<u8>,
}

impl Case for IntakePost {
    type Input = (Router, Request<Body>);

    async fn prepare(&mut self) -> Self::Input {
        let body = self.body.clone();
        let router = self.growing.next().await.intake.clone();
        let request = or_die(
            Request::post("/reports")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from(body)),
            "request",
        );
        (router, request)
    }

    async fn call(&self, (router, request): Self::Input) -> Result<(), String> {
        expect(response_status(router, request).await?, StatusCode::CREATED)
    }
}

struct PublicGet {
    world: World,
}

impl Case for PublicGet {
    type Input = (Router, Request<Body>);

    async fn prepare(&mut self) -> Self::Input {
        let uri = format!("/reports/{}", self.world.public_code);
        let request = or_die(Request::get(uri).body(Body::empty()), "request");
        (self.world.intake.clone(), request)
    }

    async fn call(&self, (router, request): Self::Input) -> Result<(), String> {
        expect(response_status(router, request).await?, StatusCode::OK)
    }
}

/// An officer of the assigned agency records that work has started on a freshly routed report.
struct FollowUp {
    growing: Growing,
}

impl Case for FollowUp {
    type Input = (Router, Request<Body>);

    async fn prepare(&mut self) -> Self::Input {
        let world = self.growing.next().await;
        let report = forwarded(
            monday_morning() - Duration::hours(3),
            monday_morning() + Duration::days(7),
        );
        create(world.store.as_ref(), &report).await;
        let body = json!({
            "status": "diproses",
            "message": "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis."
        })
        .to_string();
        let claims = [
            ("sub", "petugas-bench"),
            (lapor_http::auth::CLAIM_AGENCY, DPUPR),
            (lapor_http::auth::CLAIM_ROLE, "officer"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let uri = format!("/reports/{}/followups", report.report.tracking_code);
        let request = or_die(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, body.len())
                .extension(lapor_http::auth::context_with_claims(claims))
                .body(Body::from(body)),
            "request",
        );
        (world.status.clone(), request)
    }

    async fn call(&self, (router, request): Self::Input) -> Result<(), String> {
        expect(response_status(router, request).await?, StatusCode::OK)
    }
}

/// One stream record of a new web report: routed to its agency.
struct RoutingRecord {
    growing: Growing,
}

impl Case for RoutingRecord {
    type Input = ReportChange;

    async fn prepare(&mut self) -> Self::Input {
        let world = self.growing.next().await;
        let new = received(monday_morning() - Duration::minutes(1));
        create(world.store.as_ref(), &new).await;
        ReportChange {
            old: None,
            new: Some(new.report),
        }
    }

    async fn call(&self, change: Self::Input) -> Result<(), String> {
        match lapor_routing::route_change(&self.growing.world.routing, &change).await {
            Ok(lapor_routing::Outcome::Forwarded(_)) => Ok(()),
            other => Err(format!("expected a forward, got {other:?}")),
        }
    }
}

struct SmsParse;

impl Case for SmsParse {
    type Input = &'static str;

    async fn prepare(&mut self) -> Self::Input {
        SMS_TEXT
    }

    async fn call(&self, text: Self::Input) -> Result<(), String> {
        match std::hint::black_box(lapor_core::sms::parse(std::hint::black_box(text))) {
            lapor_core::sms::Command::Lapor { .. } => Ok(()),
            other => Err(format!("expected LAPOR, got {other:?}")),
        }
    }
}

/// A new report by SMS: rate counter, report and idempotency record, reply to the outbox.
struct SmsInbound {
    growing: Growing,
}

impl Case for SmsInbound {
    type Input = lapor_sms::InboundSms;

    async fn prepare(&mut self) -> Self::Input {
        let calls = self.growing.calls;
        self.growing.next().await;
        lapor_sms::InboundSms {
            origination_number: "+6281234567890".into(),
            destination_number: "+621708".into(),
            message_body: SMS_TEXT.into(),
            inbound_message_id: format!("bench-{calls}"),
        }
    }

    async fn call(&self, inbound: Self::Input) -> Result<(), String> {
        match lapor_sms::handle_inbound(&self.growing.world.sms, &inbound).await {
            Ok(handled) if matches!(handled.action, lapor_sms::Action::Created(_)) => Ok(()),
            Ok(handled) => Err(format!("expected a new report, got {:?}", handled.action)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// One sweep of a store holding [`SWEEP_OVERDUE`] overdue reports (a fresh store each time):
/// the pages of the due index, and an escalation write for each report.
struct SweepPage {
    overdue: Vec<Submission>,
}

impl Case for SweepPage {
    type Input = lapor_escalation::Deps;

    async fn prepare(&mut self) -> Self::Input {
        let store = Arc::new(MemStore::new());
        for report in &self.overdue {
            create(store.as_ref(), report).await;
        }
        lapor_escalation::Deps::new(
            &Stores::of(store),
            Arc::new(FixedClock::new(monday_morning())),
            Deadlines::indonesia(),
        )
    }

    async fn call(&self, deps: Self::Input) -> Result<(), String> {
        let stop_at = Instant::now() + StdDuration::from_secs(60);
        match lapor_escalation::sweep(&deps, monday_morning(), stop_at).await {
            Ok(summary) if summary.escalated == SWEEP_OVERDUE => Ok(()),
            Ok(summary) => Err(format!(
                "escalated {} of {SWEEP_OVERDUE}",
                summary.escalated
            )),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn row(name: &str, summary: &Summary) -> String {
    let goal = if name == "intake_post" {
        let met = if summary.p99 <= INTAKE_P99_GOAL_US {
            "met"
        } else {
            "missed"
        };
        format!("p99 ≤ {INTAKE_P99_GOAL_US:.0} µs: {met}")
    } else {
        "—".to_string()
    };
    format!(
        "| {name} | {:.1} | {:.1} | {goal} |",
        summary.median, summary.p99
    )
}

/// Whether criterion measures (`cargo bench`) rather than only checks that each case runs.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list")
}

fn main() {
    let rt = or_die(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "tokio runtime",
    );
    let mut c = Criterion::default()
        .sample_size(50)
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(4))
        .nresamples(20_000)
        .configure_from_args();
    let overdue = (0..SWEEP_OVERDUE)
        .map(|_| {
            forwarded(
                monday_morning() - Duration::days(10),
                monday_morning() - Duration::hours(1),
            )
        })
        .collect();
    let body = or_die(serde_json::to_vec(&pothole_json()), "body");

    let mut results: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut intake = rt.block_on(async {
        IntakePost {
            growing: Growing::new(FRESH_STORE_EVERY).await,
            body,
        }
    });
    results.push((
        "intake_post",
        measure(&mut c, &rt, "intake_post", &mut intake),
    ));
    drop(intake);
    let mut public = rt.block_on(async {
        PublicGet {
            world: World::new().await,
        }
    });
    results.push((
        "public_get",
        measure(&mut c, &rt, "public_get", &mut public),
    ));
    let mut follow_up = rt.block_on(async {
        FollowUp {
            growing: Growing::new(FRESH_STORE_EVERY).await,
        }
    });
    results.push((
        "follow_up",
        measure(&mut c, &rt, "follow_up", &mut follow_up),
    ));
    drop(follow_up);
    let mut routing = rt.block_on(async {
        RoutingRecord {
            growing: Growing::new(FRESH_STORE_EVERY).await,
        }
    });
    results.push((
        "routing_record",
        measure(&mut c, &rt, "routing_record", &mut routing),
    ));
    drop(routing);
    results.push((
        "sms_parse",
        measure(&mut c, &rt, "sms_parse", &mut SmsParse),
    ));
    let mut inbound = rt.block_on(async {
        SmsInbound {
            growing: Growing::new(SMS_FRESH_STORE_EVERY).await,
        }
    });
    results.push((
        "sms_inbound",
        measure(&mut c, &rt, "sms_inbound", &mut inbound),
    ));
    drop(inbound);
    results.push((
        "sweep_page",
        measure(&mut c, &rt, "sweep_page", &mut SweepPage { overdue }),
    ));
    c.final_summary();
    if !benchmarking() {
        // `cargo test --benches` and `-- --test` call each handler once: no figures to keep.
        return;
    }

    let summaries: Vec<(&str, Summary)> = results
        .iter()
        .filter_map(|(name, samples)| Summary::of(samples).map(|s| (*name, s)))
        .collect();
    let handlers: serde_json::Map<String, Value> = summaries
        .iter()
        .map(|(name, s)| (name.to_string(), json!({ "us": s })))
        .collect();
    write_json(
        "warm",
        &json!({
            "handlers": handlers,
            "store": "embedded (MemStore)",
            "sweep_overdue_reports": SWEEP_OVERDUE,
            "intake_p99_goal_us": INTAKE_P99_GOAL_US,
        }),
    );
    println!();
    println!("| handler | p50 µs | p99 µs | goal |");
    println!("|---|---:|---:|---|");
    for (name, summary) in &summaries {
        println!("{}", row(name, summary));
    }
}
