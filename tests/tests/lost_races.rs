//! A request that reads a report, decides and writes can lose a race: routing, an evidence
//! outcome or the sweep may write the report between its read and its write, and the store then
//! refuses its write. The person behind the request asked for an action, not for a version, so
//! the request decides again on a fresh read instead of answering 409: an officer's follow-up,
//! forward or return, a reporter's reply or rating (web and SMS), and an attachment request.
//! A request that named the version it decided on still gets its 409 when the report changed
//! under it, and a race lost on every try is a 409 with nothing written.
//!
//! The races are made, not waited for: a reports port that, when armed, writes a new version of
//! the report itself just before the request's write reaches the store. On the embedded store
//! and on DynamoDB (moto).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, Utc};
use lapor_core::{Deadlines, Event, FixedClock, KeyPepper, Report, Role, TrackingCode};
use lapor_store::{
    IdempotencyRecord, MemStore, Page, ReportWithTimeline, Reports, Store, StoreError, Stores,
    Submission, WRITE_ATTEMPTS,
};
use lapor_tests::{as_officer, directory_table, moto_config, pothole_json, send, unique_name};
use serde_json::{json, Value};

const DPUPR: &str = "kota-cirebon-dpupr";

/// A reports port that, while armed, cuts in before each report write it passes on: it writes
/// the next version of the same report (as a background write would) straight to the store.
struct CutIn {
    inner: Arc<dyn Reports>,
    armed: AtomicUsize,
    cut_in: AtomicUsize,
}

impl CutIn {
    /// The next `times` report writes each lose a race.
    fn arm(&self, times: usize) {
        self.armed.store(times, Ordering::SeqCst);
    }

    /// How often it cut in since the last call.
    fn taken(&self) -> usize {
        self.cut_in.swap(0, Ordering::SeqCst)
    }
}

#[async_trait]
impl Reports for CutIn {
    async fn create_report(&self, s: &Submission, now: i64) -> Result<(), StoreError> {
        self.inner.create_report(s, now).await
    }
    async fn idempotency_record(
        &self,
        k: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotency_record(k, now).await
    }
    async fn report(&self, c: &TrackingCode) -> Result<Option<Report>, StoreError> {
        self.inner.report(c).await
    }
    async fn report_with_timeline(
        &self,
        c: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        self.inner.report_with_timeline(c).await
    }
    async fn update_report(&self, o: &Report, n: &Report, e: &[Event]) -> Result<(), StoreError> {
        let armed = self
            .armed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if armed.is_ok() {
            let current = self
                .inner
                .report(&o.tracking_code)
                .await?
                .expect("the report exists");
            let mut next = current.clone();
            next.version += 1;
            self.inner.update_report(&current, &next, &[]).await?;
            self.cut_in.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.update_report(o, n, e).await
    }
    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        self.inner.recent_public(limit).await
    }
    async fn public_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        self.inner.public_between(from, to, limit, cursor).await
    }
}

struct World {
    intake: axum::Router,
    officers: axum::Router,
    sms: lapor_sms::Deps,
    reports: Arc<CutIn>,
    _files: Scratch,
}

/// A folder removed when the test ends.
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn world<S: Store + 'static>(store: Arc<S>) -> World {
    let reports = Arc::new(CutIn {
        inner: store.clone(),
        armed: AtomicUsize::new(0),
        cut_in: AtomicUsize::new(0),
    });
    let stores = Stores {
        reports: reports.clone(),
        ..Stores::of(store)
    };
    let folder = std::env::temp_dir().join(unique_name("lost-races"));
    let files = Arc::new(lapor_files::DirFiles::new(
        &folder,
        "http://127.0.0.1:9",
        vec![3; 32],
    ));
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let pepper = KeyPepper::new(vec![5; 32]).expect("pepper");
    let max = lapor_core::attachment::DEFAULT_MAX_FILE_BYTES;
    let intake = lapor_intake::router(
        lapor_intake::Deps::new(
            &stores,
            clock.clone(),
            Deadlines::indonesia(),
            pepper.clone(),
        )
        .with_files(files.clone(), max),
    );
    let officers = lapor_officer::router(
        lapor_officer::Deps::new(&stores, clock.clone(), Deadlines::indonesia())
            .with_files(files, max),
    );
    let sms = lapor_sms::Deps::new(
        &stores,
        Arc::new(lapor_notifier::Outbox::default()),
        clock,
        Deadlines::indonesia(),
        pepper,
        lapor_sms::DEFAULT_HOURLY_LIMIT,
    );
    World {
        intake,
        officers,
        sms,
        reports,
        _files: Scratch(folder),
    }
}

fn request(method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("x-access-key", key);
    }
    match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request")
}

impl World {
    async fn officer(&self, path: &str, agency: &str, role: Role, body: Value) -> (u16, Value) {
        let request = as_officer(request("POST", path, None, Some(body)), agency, role);
        send(&self.officers, request).await
    }

    /// The report as its agency sees it: its version and its timeline's kinds.
    async fn agency_view(&self, code: &str) -> (u64, Vec<String>) {
        let request = as_officer(
            request("GET", &format!("/agency/reports/{code}"), None, None),
            DPUPR,
            Role::Officer,
        );
        let (status, view) = send(&self.officers, request).await;
        assert_eq!(status, 200, "{view}");
        let kinds = view["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter_map(|e| e["kind"].as_str().map(String::from))
            .collect();
        (view["version"].as_u64().expect("version"), kinds)
    }

    async fn attachments(&self, code: &str, key: &str) -> usize {
        let (status, view) = send(
            &self.intake,
            request("GET", &format!("/reports/{code}"), Some(key), None),
        )
        .await;
        assert_eq!(status, 200, "{view}");
        view["attachments"].as_array().map_or(0, Vec::len)
    }
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

async fn every_request_decides_again_after_a_lost_race(w: &World) {
    let mut body = pothole_json();
    // A phone number of its own, for the SMS reply below.
    let phone = format!("+62812{:07}", rand::random::<u32>() % 10_000_000);
    body["reporter"]["phone"] = json!(phone);
    let (status, receipt) = send(&w.intake, request("POST", "/reports", None, Some(body))).await;
    assert_eq!(status, 201, "{receipt}");
    let code = receipt["tracking_code"].as_str().expect("code").to_string();
    let key = receipt["access_key"].as_str().expect("key").to_string();

    // The central admin forwards it while routing (say) writes it: forwarded all the same.
    w.reports.arm(1);
    let (status, answer) = w
        .officer(
            &format!("/reports/{code}/forward"),
            "kemenpanrb",
            Role::AdminPusat,
            json!({"agency": DPUPR}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(w.reports.taken(), 1, "the forward lost a race first");
    let (version, kinds) = w.agency_view(&code).await;
    assert_eq!(count(&kinds, "forwarded"), 1, "{kinds:?}");

    // A follow-up that names no version: decided again, written once.
    w.reports.arm(1);
    let followups = format!("/reports/{code}/followups");
    let (status, answer) = w
        .officer(
            &followups,
            DPUPR,
            Role::Officer,
            json!({"status": "diproses", "message": "Tim sudah dijadwalkan."}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(w.reports.taken(), 1);
    let (after, kinds) = w.agency_view(&code).await;
    assert_eq!(
        after,
        version + 2,
        "the cut-in's version, then the follow-up's"
    );
    assert_eq!(count(&kinds, "follow_up"), 1, "{kinds:?}");

    // One that names the version it decided on: the report really changed under it, so 409 with
    // the report as it is now, and the follow-up is not written.
    w.reports.arm(1);
    let (status, error) = w
        .officer(
            &followups,
            DPUPR,
            Role::Officer,
            json!({"status": "diproses", "message": "Bahan sudah dipesan.", "version": after}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "version_conflict", "{error}");
    assert_eq!(error["error"]["current"]["version"], after + 1, "{error}");
    assert_eq!(w.reports.taken(), 1);
    let (version, kinds) = w.agency_view(&code).await;
    assert_eq!(version, after + 1, "only the cut-in's version");
    assert_eq!(count(&kinds, "follow_up"), 1, "{kinds:?}");

    // A race lost on every try: 409, nothing of the request written.
    w.reports.arm(WRITE_ATTEMPTS);
    let (status, error) = w
        .officer(
            &followups,
            DPUPR,
            Role::Officer,
            json!({"status": "diproses", "message": "Bahan sudah dipesan."}),
        )
        .await;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "version_conflict", "{error}");
    assert_eq!(w.reports.taken(), WRITE_ATTEMPTS);
    let (after, kinds) = w.agency_view(&code).await;
    assert_eq!(after, version + WRITE_ATTEMPTS as u64);
    assert_eq!(count(&kinds, "follow_up"), 1, "{kinds:?}");

    // The reporter's reply, by web and by SMS.
    w.reports.arm(1);
    let (status, view) = send(
        &w.intake,
        request(
            "POST",
            &format!("/reports/{code}/replies"),
            Some(&key),
            Some(json!({"message": "Lubangnya makin besar setelah hujan."})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(w.reports.taken(), 1);
    w.reports.arm(1);
    let inbound: lapor_sms::InboundSms = serde_json::from_value(json!({
        "originationNumber": phone,
        "destinationNumber": "+621708",
        "messageBody": format!("BALAS {code} Sudah seminggu, belum ada petugas datang"),
        "inboundMessageId": unique_name("inbound"),
    }))
    .expect("inbound SMS");
    let handled = lapor_sms::handle_inbound(&w.sms, &inbound)
        .await
        .expect("BALAS");
    assert_eq!(handled.action, lapor_sms::Action::Replied, "{handled:?}");
    assert_eq!(w.reports.taken(), 1);
    assert!(
        handled
            .reply
            .as_deref()
            .is_some_and(|r| r.contains("diterima dan diteruskan")),
        "the SMS reply is acknowledged: {handled:?}"
    );
    let (_, kinds) = w.agency_view(&code).await;
    assert_eq!(count(&kinds, "reply"), 2, "{kinds:?}");

    // An attachment asked for by the reporter, then one by the agency for its follow-up.
    w.reports.arm(1);
    let (status, offer) = send(
        &w.intake,
        request(
            "POST",
            &format!("/reports/{code}/attachments"),
            Some(&key),
            Some(json!({"filename": "lubang.jpg", "content_type": "image/jpeg", "size": 1000})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{offer}");
    assert_eq!(w.reports.taken(), 1);
    assert_eq!(w.attachments(&code, &key).await, 1);
    w.reports.arm(1);
    let (status, offer) = w
        .officer(
            &format!("/agency/reports/{code}/attachments"),
            DPUPR,
            Role::Officer,
            json!({"filename": "jadwal.pdf", "content_type": "application/pdf", "size": 1000}),
        )
        .await;
    assert_eq!(status, 201, "{offer}");
    assert_eq!(w.reports.taken(), 1);

    // Completed, then rated.
    let (status, answer) = w
        .officer(
            &followups,
            DPUPR,
            Role::Officer,
            json!({"status": "selesai", "message": "Lubang sudah ditambal."}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    w.reports.arm(1);
    let (status, view) = send(
        &w.intake,
        request(
            "POST",
            &format!("/reports/{code}/rating"),
            Some(&key),
            Some(json!({"stars": 5})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(w.reports.taken(), 1);

    // Returned as not its authority, after a lost race: a new report, as the last step.
    let (status, receipt) = send(
        &w.intake,
        request("POST", "/reports", None, Some(pothole_json())),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let other = receipt["tracking_code"].as_str().expect("code");
    let (status, answer) = w
        .officer(
            &format!("/reports/{other}/forward"),
            "kemenpanrb",
            Role::AdminPusat,
            json!({"agency": DPUPR}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    w.reports.arm(1);
    let (status, answer) = w
        .officer(
            &format!("/reports/{other}/return"),
            DPUPR,
            Role::AgencyAdmin,
            json!({"reason": "Jalan provinsi, bukan kewenangan kota."}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(w.reports.taken(), 1);
}

#[tokio::test]
async fn on_the_embedded_store_a_lost_race_is_decided_again() {
    let store = Arc::new(MemStore::new());
    lapor_admin::import_agencies(store.as_ref(), lapor_core::Directory::bundled_sample())
        .await
        .expect("directory");
    every_request_decides_again_after_a_lost_race(&world(store)).await;
}

#[tokio::test]
async fn on_dynamodb_a_lost_race_is_decided_again() {
    let Some(config) = moto_config().await else {
        return;
    };
    let (store, _) = directory_table(&config, "lost-races").await;
    every_request_decides_again_after_a_lost_race(&world(store)).await;
}
