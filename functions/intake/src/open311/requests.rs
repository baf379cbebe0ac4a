//! `requests`: the public reports, as Open311 service requests. Built from intake's public view
//! (`view::public_view`) and listed from the public feed, so Open311 shows exactly what the
//! public may see: never a `rahasia` or whistleblowing report, never identity, no location for
//! an `anonim` one.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use lapor_core::stats::is_confidential;
use lapor_core::{format_time, Category, RegionCode, Report, Status, TrackingCode};
use serde_json::Value;

use super::document::{Node, Record};
use super::{Answer, Failure};
use crate::Deps;

/// The widest window one listing may span, and the default one (the specification's).
const MAX_WINDOW_DAYS: i64 = 90;
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 100;
/// Deeper pages cost more reads: a client that wants more narrows the window.
const MAX_PAGE: usize = 100;
/// Reports read from the feed per store call while filling a page.
const READ_BATCH: usize = 100;
/// At most this many ids in `service_request_id`: one page.
const MAX_IDS: usize = MAX_PAGE_SIZE;

/// `requests/{id}`: one public report, as a list of one.
pub async fn one(deps: &Deps, id: &str) -> Result<Answer, Failure> {
    let code = TrackingCode::parse(id).map_err(|_| Failure::no_such_request())?;
    let report = public_report(deps, &code)
        .await?
        .ok_or_else(Failure::no_such_request)?;
    let request = request(deps, &report, &mut HashMap::new()).await?;
    Ok(("service_requests", Node::List("request", vec![request])))
}

/// `requests`: the public reports that match the query, newest first, one page.
pub async fn list(deps: &Deps, query: &HashMap<String, String>) -> Result<Answer, Failure> {
    let filters = Filters::parse(query, deps.clock.now())?;
    let reports = match &filters.ids {
        Some(codes) => by_ids(deps, codes).await?,
        None => matching(deps, &filters).await?,
    };
    let mut requests = Vec::with_capacity(reports.len());
    let mut names = HashMap::new();
    for report in &reports {
        requests.push(request(deps, report, &mut names).await?);
    }
    Ok(("service_requests", Node::List("request", requests)))
}

/// The name of the agency holding the report (its id when the directory does not know it), each
/// agency read once per answer.
async fn agency_name(
    deps: &Deps,
    report: &Report,
    names: &mut HashMap<String, String>,
) -> Result<Option<String>, Failure> {
    let Some(id) = &report.agency else {
        return Ok(None);
    };
    if let Some(name) = names.get(id.as_str()) {
        return Ok(Some(name.clone()));
    }
    let name = deps
        .directory
        .agency(id)
        .await?
        .map_or_else(|| id.to_string(), |agency| agency.name);
    names.insert(id.to_string(), name.clone());
    Ok(Some(name))
}

/// A report by its code, if the public may read it.
async fn public_report(deps: &Deps, code: &TrackingCode) -> Result<Option<Report>, Failure> {
    Ok(deps
        .reports
        .report(code)
        .await?
        .filter(|report| !is_confidential(report)))
}

async fn by_ids(deps: &Deps, codes: &[TrackingCode]) -> Result<Vec<Report>, Failure> {
    let mut found = Vec::new();
    for code in codes {
        found.extend(public_report(deps, code).await?);
    }
    Ok(found)
}

/// Reads the window from the public feed and keeps what the filters admit, until the page asked
/// for is full or the window is read.
async fn matching(deps: &Deps, filters: &Filters) -> Result<Vec<Report>, Failure> {
    let skip = (filters.page - 1) * filters.page_size;
    let wanted = skip + filters.page_size;
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = deps
            .reports
            .public_between(filters.from, filters.to, READ_BATCH, cursor.as_deref())
            .await?;
        found.extend(page.reports.into_iter().filter(|r| filters.admit(r)));
        match page.next {
            Some(next) if found.len() < wanted => cursor = Some(next),
            _ => break,
        }
    }
    Ok(found
        .into_iter()
        .skip(skip)
        .take(filters.page_size)
        .collect())
}

/// One report as a service request, from its public view.
async fn request(
    deps: &Deps,
    report: &Report,
    names: &mut HashMap<String, String>,
) -> Result<Node, Failure> {
    let timeline = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await?
        .map(|found| found.timeline)
        .unwrap_or_default();
    let view = crate::view::public_view(report, &timeline);
    let (code, label, _, _) = report.category.describe();
    let text = |v: &Value| v.as_str().map(str::to_string);
    let mut record = Record::new()
        .with(
            "service_request_id",
            Node::optional(text(&view["tracking_code"])),
        )
        .with("status", Node::text(openness(report.status).as_str()))
        .with("status_notes", Node::optional(last_answer(&view)))
        .with("service_name", Node::text(label))
        .with("service_code", Node::text(code))
        .with("description", Node::text(description(&view)))
        .with(
            "agency_responsible",
            Node::optional(agency_name(deps, report, names).await?),
        )
        .with("service_notice", Node::text(notice(report)))
        .with(
            "requested_datetime",
            Node::optional(text(&view["created_at"])),
        )
        .with(
            "updated_datetime",
            Node::optional(text(&view["updated_at"])),
        )
        .with(
            "expected_datetime",
            Node::optional(report.due_at.as_ref().map(format_time)),
        );
    let location = &view["location"];
    if let Some(address) = text(&location["address"]) {
        record = record.with("address", Node::Text(address));
    }
    if let (Some(lat), Some(long)) = (location["lat"].as_f64(), location["lon"].as_f64()) {
        record = record
            .with("lat", Node::Float(lat))
            .with("long", Node::Float(long));
    }
    Ok(Node::Record(record))
}

fn description(view: &Value) -> String {
    let title = view["title"].as_str().unwrap_or_default();
    let body = view["description"].as_str().unwrap_or_default();
    format!("{title}\n\n{body}")
}

/// The last answer an agency gave in public (a follow-up or an archiving with a message).
fn last_answer(view: &Value) -> Option<String> {
    view["timeline"]
        .as_array()?
        .iter()
        .rev()
        .filter(|e| matches!(e["kind"].as_str(), Some("follow_up" | "archived")))
        .filter(|e| e["actor"] != "reporter")
        .find_map(|e| e["message"].as_str().map(str::to_string))
}

fn notice(report: &Report) -> String {
    let status = report.status.as_str();
    if report.overdue {
        format!("Status Lapor: {status}, melewati tenggat / Lapor status: {status}, overdue")
    } else {
        format!("Status Lapor: {status} / Lapor status: {status}")
    }
}

/// Open311 knows two statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Openness {
    Open,
    Closed,
}

impl Openness {
    fn parse(input: &str) -> Result<Self, Failure> {
        match input.trim() {
            "open" => Ok(Openness::Open),
            "closed" => Ok(Openness::Closed),
            other => Err(Failure::bad_request(
                &format!("Status `{other}` tidak dikenal; gunakan open atau closed."),
                &format!("Unknown status `{other}`; use open or closed."),
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Openness::Open => "open",
            Openness::Closed => "closed",
        }
    }
}

/// Done (`selesai`) and archived (`arsip`) are closed; everything still being handled is open.
fn openness(status: Status) -> Openness {
    match status {
        Status::Selesai | Status::Arsip => Openness::Closed,
        _ => Openness::Open,
    }
}

/// The query of `requests`, parsed whole before anything is read.
#[derive(Debug)]
struct Filters {
    /// `service_request_id`: when given, the other filters are ignored (as the specification says).
    ids: Option<Vec<TrackingCode>>,
    /// `service_code`: one or more categories, comma-delimited.
    categories: Option<Vec<Category>>,
    statuses: Option<Vec<Openness>>,
    /// `jurisdiction_id`: a region and everything below it.
    region: Option<RegionCode>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    page: usize,
    page_size: usize,
}

impl Filters {
    fn parse(query: &HashMap<String, String>, now: DateTime<Utc>) -> Result<Self, Failure> {
        let given = |name: &str| {
            query
                .get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let (from, to) = window(given("start_date"), given("end_date"), now)?;
        Ok(Self {
            ids: given("service_request_id").map(ids).transpose()?,
            categories: given("service_code")
                .map(|s| s.split(',').map(service_code).collect())
                .transpose()?,
            statuses: given("status")
                .map(|s| s.split(',').map(Openness::parse).collect())
                .transpose()?,
            region: given("jurisdiction_id")
                .map(|j| RegionCode::parse(j).map_err(Failure::from))
                .transpose()?,
            from,
            to,
            page: number(given("page"), "page", 1, MAX_PAGE)?,
            page_size: number(
                given("page_size"),
                "page_size",
                DEFAULT_PAGE_SIZE,
                MAX_PAGE_SIZE,
            )?,
        })
    }

    fn admit(&self, report: &Report) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|c| c.contains(&report.category))
            && self
                .statuses
                .as_ref()
                .is_none_or(|s| s.contains(&openness(report.status)))
            && self
                .region
                .as_ref()
                .is_none_or(|r| within(&report.region, r))
    }
}

/// Whether `region` is `area` or lies below it (`32.74` is within `32`).
fn within(region: &RegionCode, area: &RegionCode) -> bool {
    let (region, area) = (region.as_str(), area.as_str());
    region == area
        || region
            .strip_prefix(area)
            .is_some_and(|rest| rest.starts_with('.'))
}

fn ids(list: &str) -> Result<Vec<TrackingCode>, Failure> {
    let codes: Vec<TrackingCode> = list
        .split(',')
        .map(|code| TrackingCode::parse(code.trim()).map_err(Failure::from))
        .collect::<Result<_, _>>()?;
    if codes.len() > MAX_IDS {
        return Err(Failure::bad_request(
            &format!("Paling banyak {MAX_IDS} kode dalam service_request_id."),
            &format!("At most {MAX_IDS} codes in service_request_id."),
        ));
    }
    Ok(codes)
}

fn service_code(code: &str) -> Result<Category, Failure> {
    let code = code.trim();
    Category::parse(code).map_err(|_| {
        Failure::bad_request(
            &format!("service_code `{code}` tidak dikenal; lihat services.json."),
            &format!("Unknown service_code `{code}`; see services.json."),
        )
    })
}

/// `start_date` and `end_date` (W3C date-times with an offset), at most 90 days apart; by
/// default the 90 days up to now, or up to `end_date`, or from `start_date`.
fn window(
    start: Option<&str>,
    end: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), Failure> {
    let span = Duration::days(MAX_WINDOW_DAYS);
    let start = start.map(|s| datetime(s, "start_date")).transpose()?;
    let end = end.map(|e| datetime(e, "end_date")).transpose()?;
    let (from, to) = match (start, end) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, from + span),
        (None, Some(to)) => (to - span, to),
        (None, None) => (now - span, now),
    };
    if from > to {
        return Err(Failure::bad_request(
            "start_date harus sebelum end_date.",
            "start_date must come before end_date.",
        ));
    }
    if to - from > span {
        return Err(Failure::bad_request(
            &format!("start_date dan end_date paling jauh {MAX_WINDOW_DAYS} hari."),
            &format!("start_date and end_date may be at most {MAX_WINDOW_DAYS} days apart."),
        ));
    }
    Ok((from, to))
}

fn datetime(input: &str, name: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::<FixedOffset>::parse_from_rfc3339(input)
        .map(|t| t.to_utc())
        .map_err(|_| {
            Failure::bad_request(
                &format!(
                    "{name} harus berupa tanggal-waktu W3C dengan zona, mis. 2026-12-07T09:30:00+07:00."
                ),
                &format!(
                    "{name} must be a W3C date-time with an offset, e.g. 2026-12-07T09:30:00+07:00."
                ),
            )
        })
}

/// A whole number from 1 to `max`, `default` when absent.
fn number(input: Option<&str>, name: &str, default: usize, max: usize) -> Result<usize, Failure> {
    let Some(input) = input else {
        return Ok(default);
    };
    input
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            Failure::bad_request(
                &format!("{name} harus bilangan bulat dari 1 sampai {max}."),
                &format!("{name} must be a whole number from 1 to {max}."),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T02:30:00Z")
            .map(|t| t.to_utc())
            .expect("time")
    }

    #[test]
    fn the_window_defaults_to_ninety_days_and_refuses_more() {
        let (from, to) = window(None, None, now()).expect("default");
        assert_eq!((to, to - from), (now(), Duration::days(90)));
        let (from, _) = window(None, Some("2026-12-07T09:30:00+07:00"), now()).expect("end");
        assert_eq!(from, now() - Duration::days(90));
        assert!(window(
            Some("2026-01-01T00:00:00+07:00"),
            Some("2026-06-01T00:00:00+07:00"),
            now()
        )
        .is_err());
        assert!(window(
            Some("2026-06-01T00:00:00+07:00"),
            Some("2026-01-01T00:00:00+07:00"),
            now()
        )
        .is_err());
        assert!(window(Some("2026-06-01"), None, now()).is_err());
    }

    #[test]
    fn regions_hold_their_children_only() {
        let parse = |c: &str| RegionCode::parse(c).expect("region");
        assert!(within(&parse("32.74"), &parse("32")));
        assert!(within(&parse("32.74"), &parse("32.74")));
        assert!(!within(&parse("32.74"), &parse("32.09")));
        assert!(!within(&parse("33"), &parse("32")));
    }

    #[test]
    fn done_and_archived_are_closed() {
        assert_eq!(openness(Status::Selesai), Openness::Closed);
        assert_eq!(openness(Status::Arsip), Openness::Closed);
        assert_eq!(openness(Status::Tertunda), Openness::Open);
        assert_eq!(openness(Status::Diterima), Openness::Open);
    }
}
