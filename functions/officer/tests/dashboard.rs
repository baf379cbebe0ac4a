//! Handler tests for the dashboards: the officer router over the embedded store, with the bundled
//! agency directory, reports moved by the core's own transitions and counted as the statistics
//! consumer counts them, and requests carrying the claims the JWT authorizer passes on.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use lapor_core::stats::CountedChange;
use lapor_core::{
    Actor, AgencyId, Deadlines, Directory, Event, FixedClock, Hop, Report, Role, Status,
};
use lapor_officer::{router, Deps};
use lapor_store::{AgencyDirectory, MemStore, Reports, Statistics, Stores};
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

/// When the reports were filed and forwarded.
fn filed_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("fixed time")
}

/// When the dashboards are read: 14 January 2027, so the 30-day window starts on 16 December.
fn read_at() -> DateTime<Utc> {
    filed_at() + Duration::days(45)
}

/// One of the core's transitions: the next version of a report and its timeline event.
type Step = dyn Fn(&Report) -> (Report, Event);

/// A report filed, then moved by `steps` (each from the version before), every change written
/// and counted as the statistics consumer would count it.
async fn report(store: &MemStore, steps: &[&Step]) -> Report {
    let mut current = common::file_public(store, filed_at()).await;
    count(store, None, &current).await;
    for step in steps {
        let (next, event) = step(&current);
        store
            .update_report(&current, &next, &[event])
            .await
            .expect("update");
        count(store, Some(&current), &next).await;
        current = next;
    }
    current
}

async fn count(store: &MemStore, old: Option<&Report>, new: &Report) {
    store
        .count(&[CountedChange::of(old, new)], filed_at().timestamp())
        .await
        .expect("count");
}

fn hop() -> Hop {
    Hop {
        actor: Actor::AdminPusat,
        by: None,
        message: None,
    }
}

fn forward_to(agency: &'static str) -> impl Fn(&Report) -> (Report, Event) {
    move |r| {
        let to = AgencyId::parse(agency).expect("id");
        r.forward(&to, hop(), filed_at(), &Deadlines::indonesia())
            .expect("forward")
    }
}

fn answer_after(days: i64) -> impl Fn(&Report) -> (Report, Event) {
    move |r| {
        let at = filed_at() + Duration::days(days);
        r.follow_up(Status::Diproses, hop(), None, at, &Deadlines::indonesia())
            .expect("follow up")
    }
}

fn flag_overdue(r: &Report) -> (Report, Event) {
    r.escalate(filed_at() + Duration::days(20), &Deadlines::indonesia())
}

/// The bundled directory and, as counted:
/// - Kota Cirebon DPUPR: two reports gone red;
/// - Kota Cirebon Dinkes: one answered on time, on 1 December (outside the 30-day window);
/// - Kabupaten Cirebon Dinkes: one answered late, on 9 January;
/// - Kota Cirebon itself: one forwarded, not yet answered.
async fn app() -> Router {
    let store = Arc::new(MemStore::new());
    let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
    store.put_directory(&directory).await.expect("import");
    let dpupr = forward_to("kota-cirebon-dpupr");
    for _ in 0..2 {
        report(&store, &[&dpupr, &flag_overdue]).await;
    }
    report(
        &store,
        &[&forward_to("kota-cirebon-dinkes"), &answer_after(1)],
    )
    .await;
    report(
        &store,
        &[&forward_to("kab-cirebon-dinkes"), &answer_after(40)],
    )
    .await;
    report(&store, &[&forward_to("kota-cirebon")]).await;
    let clock = Arc::new(FixedClock::new(read_at()));
    router(Deps::new(&Stores::of(store), clock, Deadlines::indonesia()))
}

async fn get_as(app: &Router, uri: &str, role: Role, agency: &str) -> (StatusCode, Value) {
    let request = common::as_officer(
        Request::get(uri).body(Body::empty()).expect("request"),
        role,
        agency,
    );
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("json body"))
}

fn ids(entries: &Value) -> Vec<&str> {
    entries
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["agency"].as_str().expect("id"))
        .collect()
}

fn window(entry: &Value, days: u64) -> &Value {
    entry["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["days"] == days)
        .expect("window")
}

#[tokio::test]
async fn an_officer_sees_only_their_own_agency() {
    let app = app().await;
    let (status, body) = get_as(
        &app,
        "/agency/dashboard",
        Role::Officer,
        "kota-cirebon-dpupr",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let windows: Vec<Value> = [30, 90, 365]
        .map(|days| json!({"days": days, "followed_up": 0, "on_time": 0, "on_time_share": null}))
        .to_vec();
    assert_eq!(
        body,
        json!({
            "agency": {
                "agency": "kota-cirebon-dpupr",
                "name": "Dinas Pekerjaan Umum dan Penataan Ruang Kota Cirebon",
                "parent": "kota-cirebon",
                "colors": {"grey": 0, "yellow": 0, "green": 0, "red": 2},
                "overdue": 2,
                "windows": windows,
            },
            "departments": [],
        })
    );
    // A plain officer of a government with departments still sees only the government's own.
    let (status, body) = get_as(&app, "/agency/dashboard", Role::Officer, "kota-cirebon").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["agency"]["agency"], "kota-cirebon");
    assert_eq!(body["agency"]["colors"]["grey"], 1);
    assert_eq!(body["departments"], json!([]));
}

#[tokio::test]
async fn an_agency_admin_sees_its_departments_side_by_side() {
    let app = app().await;
    let (status, body) = get_as(&app, "/agency/dashboard", Role::AgencyAdmin, "kota-cirebon").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["agency"]["agency"], "kota-cirebon");
    assert_eq!(body["agency"]["parent"], "jabar");
    let departments = ids(&body["departments"]);
    let mut sorted = departments.clone();
    sorted.sort_unstable();
    assert_eq!(departments, sorted, "by id");
    assert_eq!(departments.len(), 9, "{departments:?}");
    let dinkes = body["departments"]
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["agency"] == "kota-cirebon-dinkes")
        .expect("dinkes");
    assert_eq!(dinkes["parent"], "kota-cirebon");
    assert_eq!(
        dinkes["colors"],
        json!({"grey": 0, "yellow": 1, "green": 0, "red": 0})
    );
    // Answered on 1 December: in the 90- and 365-day windows, not the 30-day one.
    assert_eq!(
        window(dinkes, 30),
        &json!({"days": 30, "followed_up": 0, "on_time": 0, "on_time_share": null})
    );
    assert_eq!(
        window(dinkes, 90),
        &json!({"days": 90, "followed_up": 1, "on_time": 1, "on_time_share": 1.0})
    );
    // The other government's department is not among them.
    assert!(!departments.contains(&"kab-cirebon-dinkes"));
}

#[tokio::test]
async fn the_central_ranking_puts_the_red_heavy_agency_first() {
    let app = app().await;
    let (status, body) = get_as(&app, "/admin/dashboard", Role::AdminPusat, "kemenpanrb").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["days"], 90);
    let order = ids(&body["agencies"]);
    let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
    let mut nothing_followed_up: Vec<&str> = directory
        .agencies()
        .filter(|a| a.handles_reports())
        .map(|a| a.id.as_str())
        .filter(|id| {
            !matches!(
                *id,
                "kota-cirebon-dpupr" | "kota-cirebon-dinkes" | "kab-cirebon-dinkes"
            )
        })
        .collect();
    nothing_followed_up.sort_unstable();
    let mut expected = vec!["kota-cirebon-dpupr"];
    expected.extend(nothing_followed_up.iter().copied());
    // Late (share 0) before on time (share 1).
    expected.extend(["kab-cirebon-dinkes", "kota-cirebon-dinkes"]);
    assert_eq!(order, expected);
    assert!(!order.contains(&"kemenpanrb") && !order.contains(&"ombudsman-ri"));
    assert_eq!(body["agencies"][0]["overdue"], 2);
    assert_eq!(body["agencies"][0]["colors"]["red"], 2);

    // Over 30 days Kota Cirebon Dinkes followed nothing up: among the worst, by id.
    let (status, body) = get_as(
        &app,
        "/admin/dashboard?days=30",
        Role::AdminPusat,
        "kemenpanrb",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["days"], 30);
    let order = ids(&body["agencies"]);
    let mut nothing_in_30_days = nothing_followed_up.clone();
    nothing_in_30_days.push("kota-cirebon-dinkes");
    nothing_in_30_days.sort_unstable();
    let mut expected = vec!["kota-cirebon-dpupr"];
    expected.extend(nothing_in_30_days);
    expected.push("kab-cirebon-dinkes");
    assert_eq!(order, expected);
    let late = &body["agencies"][order.len() - 1];
    assert_eq!(
        window(late, 30),
        &json!({"days": 30, "followed_up": 1, "on_time": 0, "on_time_share": 0.0})
    );
}

#[tokio::test]
async fn only_the_central_admin_gets_the_ranking() {
    let app = app().await;
    for (role, agency) in [
        (Role::AgencyAdmin, "kota-cirebon"),
        (Role::Officer, "kota-cirebon-dpupr"),
    ] {
        let (status, body) = get_as(&app, "/admin/dashboard", role, agency).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert_eq!(
            body["error"]["message"],
            "Peringkat seluruh instansi hanya untuk admin pusat."
        );
        assert_eq!(
            body["error"]["message_en"],
            "Only the central admin may see every agency ranked."
        );
    }
}

#[tokio::test]
async fn a_window_other_than_30_90_or_365_days_is_refused() {
    let app = app().await;
    for days in ["60", "abc", "", "-30"] {
        let uri = format!("/admin/dashboard?days={days}");
        let (status, body) = get_as(&app, &uri, Role::AdminPusat, "kemenpanrb").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{days:?}: {body}");
        assert_eq!(body["error"]["field"], "days");
        assert_eq!(
            body["error"]["message"],
            "Kolom `days` harus 30, 90 atau 365."
        );
        assert_eq!(
            body["error"]["message_en"],
            "The field `days` must be 30, 90 or 365."
        );
    }
    let (status, _) = get_as(
        &app,
        "/admin/dashboard?days=365",
        Role::AdminPusat,
        "kemenpanrb",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
