//! Published statistics as counters: per region (the report's own and its province) × year ×
//! dimension (agency, category, month), how many reports are in each colour and status, how many
//! were followed up, and how many of those on time. The statistics consumer adds up the difference
//! each state change makes to its counters ([`CountedChange`]), batch by batch from the table's
//! stream, so no report write touches a shared counter and reading statistics never scans.
//!
//! The same changes keep each agency's dashboard figures ([`AgencyCell`]): what it holds now by
//! colour, and its first follow-ups per local day. Those are internal, never published.

use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::agency::AgencyId;
use crate::error::Invalid;
use crate::region::{RegionCode, Zone};
use crate::report::Report;
use crate::status::Color;

/// The first year statistics may be asked for.
pub const FIRST_YEAR: i32 = 2000;

/// The year `now` falls in for `region`: a report counts in the year of its own region's
/// calendar, so "this year" is the region's too.
pub fn this_year(region: &RegionCode, now: DateTime<Utc>) -> i32 {
    now.with_timezone(&region.zone().offset()).year()
}

/// The year a statistics request asks for: `this_year` when it names none, otherwise a year
/// from [`FIRST_YEAR`] to `this_year` (the field `year` otherwise).
pub fn requested_year(input: Option<&str>, this_year: i32) -> Result<i32, Invalid> {
    let Some(input) = input else {
        return Ok(this_year);
    };
    input
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (FIRST_YEAR..=this_year).contains(y))
        .ok_or_else(|| {
            Invalid::field(
                "year",
                "invalid_value",
                format!("Tahun harus {FIRST_YEAR}–{this_year}."),
                format!("The year must be {FIRST_YEAR}–{this_year}."),
            )
        })
}

/// One counter item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CounterKey {
    /// A published cell, what `/stats` reads.
    Published {
        region: String,
        year: i32,
        /// `agency#<id>` (`agency#-` while unassigned), `category#<id>`, `month#<01-12>` or
        /// `confidential#all`.
        dimension: String,
    },
    /// One of an agency's dashboard items. Never published, so these count `rahasia` and
    /// whistleblowing reports too: the agency sees them in its inbox anyway.
    Agency { agency: AgencyId, cell: AgencyCell },
}

/// Which of an agency's dashboard items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgencyCell {
    /// The reports it holds now, by colour (`color_<colour>`).
    Held,
    /// First follow-ups (`followed_up`, `on_time`) on one local day of the reports' own zone:
    /// one item per day, so a window of days is one bounded read.
    Day(NaiveDate),
}

/// Counter name → change, per counter item.
pub type Deltas = BTreeMap<CounterKey, BTreeMap<String, i64>>;

/// The groupings `/stats` offers, and the one cell confidential reports count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Agency,
    Category,
    Month,
    /// `rahasia` and whistleblowing reports: one count per region and year, never split by
    /// agency, category or month, and without colours or statuses, so no published cell can
    /// single one out (a cell of one would show that a secret report exists, where and how far
    /// it got). Not a grouping a client may ask for.
    Confidential,
}

impl GroupBy {
    pub fn parse(input: &str) -> Option<GroupBy> {
        match input {
            "agency" => Some(GroupBy::Agency),
            "category" => Some(GroupBy::Category),
            "month" => Some(GroupBy::Month),
            _ => None,
        }
    }

    pub fn prefix(self) -> &'static str {
        match self {
            GroupBy::Agency => "agency#",
            GroupBy::Category => "category#",
            GroupBy::Month => "month#",
            GroupBy::Confidential => "confidential#",
        }
    }
}

/// Whether a report counts only in its region-year's confidential total (see
/// [`GroupBy::Confidential`]).
pub fn is_confidential(report: &Report) -> bool {
    report.privacy.hides_report() || report.report_type == crate::report::ReportType::Whistleblowing
}

/// The counter name of a colour: `color_red`.
fn color_counter(color: Color) -> String {
    let name = match color {
        Color::Grey => "grey",
        Color::Red => "red",
        Color::Yellow => "yellow",
        Color::Green => "green",
    };
    format!("color_{name}")
}

/// The counters one report adds to (each by one): published and internal.
fn contributions(report: &Report) -> Vec<(CounterKey, String)> {
    let mut out = published_contributions(report);
    out.extend(agency_contributions(report));
    out
}

/// The dashboard counters a report adds to: its holder's count of its colour, and the holder's
/// day of its first follow-up. Both follow whoever holds the report now, so forwarding moves
/// them and a report back in triage counts for no agency.
fn agency_contributions(report: &Report) -> Vec<(CounterKey, String)> {
    let Some(agency) = &report.agency else {
        return Vec::new();
    };
    let cell = |cell| CounterKey::Agency {
        agency: agency.clone(),
        cell,
    };
    let mut out = vec![(cell(AgencyCell::Held), color_counter(report.color()))];
    if let Some(at) = report.first_response_at {
        let day = at
            .with_timezone(&report.region.zone().offset())
            .date_naive();
        out.push((cell(AgencyCell::Day(day)), "followed_up".into()));
        if report.responded_on_time {
            out.push((cell(AgencyCell::Day(day)), "on_time".into()));
        }
    }
    out
}

/// The published counters one report adds to.
fn published_contributions(report: &Report) -> Vec<(CounterKey, String)> {
    let year = report.created_at.year();
    let mut regions = vec![report.region.to_string()];
    if let Some(parent) = report.region.parent() {
        regions.push(parent.to_string());
    }
    if is_confidential(report) {
        return regions
            .into_iter()
            .map(|region| {
                let key = CounterKey::Published {
                    region,
                    year,
                    dimension: "confidential#all".into(),
                };
                (key, "total".to_string())
            })
            .collect();
    }
    let dimensions = [
        format!(
            "agency#{}",
            report.agency.as_ref().map_or("-", AgencyId::as_str)
        ),
        format!("category#{}", report.category.id()),
        format!("month#{:02}", report.created_at.month()),
    ];
    let mut names = vec![
        "total".to_string(),
        color_counter(report.color()),
        format!("status_{}", report.status.as_str()),
    ];
    if report.first_response_at.is_some() {
        names.push("followed_up".into());
        if report.responded_on_time {
            names.push("on_time".into());
        }
    }
    let mut out = Vec::new();
    for region in &regions {
        for dimension in &dimensions {
            let key = CounterKey::Published {
                region: region.clone(),
                year,
                dimension: dimension.clone(),
            };
            out.extend(names.iter().map(|n| (key.clone(), n.clone())));
        }
    }
    out
}

/// What the counters must change by when `old` becomes `new` (`old` none for a new report).
pub fn deltas(old: Option<&Report>, new: &Report) -> Deltas {
    let mut out: Deltas = BTreeMap::new();
    for (key, name) in contributions(new) {
        *out.entry(key).or_default().entry(name).or_default() += 1;
    }
    for (key, name) in old.map(contributions).unwrap_or_default() {
        *out.entry(key).or_default().entry(name).or_default() -= 1;
    }
    for counters in out.values_mut() {
        counters.retain(|_, v| *v != 0);
    }
    out.retain(|_, counters| !counters.is_empty());
    out
}

/// What one change of a report does to the counters, under a name that is the same however
/// often the change is delivered (the report and the version it became), so it counts once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedChange {
    pub id: String,
    pub deltas: Deltas,
}

impl CountedChange {
    pub fn of(old: Option<&Report>, new: &Report) -> Self {
        Self {
            id: format!("{}#v{}", new.tracking_code, new.version),
            deltas: deltas(old, new),
        }
    }
}

/// The deltas of several changes added up: one update per counter item.
pub fn merged<'a>(changes: impl IntoIterator<Item = &'a CountedChange>) -> Deltas {
    let mut out: Deltas = BTreeMap::new();
    for change in changes {
        for (key, counters) in &change.deltas {
            let entry = out.entry(key.clone()).or_default();
            for (name, delta) in counters {
                *entry.entry(name.clone()).or_default() += delta;
            }
        }
    }
    for counters in out.values_mut() {
        counters.retain(|_, v| *v != 0);
    }
    out.retain(|_, counters| !counters.is_empty());
    out
}

/// One row of published statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsRow {
    pub key: String,
    pub total: i64,
    pub colors: BTreeMap<String, i64>,
    pub statuses: BTreeMap<String, i64>,
    pub followed_up: i64,
    pub on_time: i64,
    /// Share of followed-up reports whose first follow-up met its deadline (0–1).
    pub on_time_share: Option<f64>,
}

impl StatsRow {
    pub fn from_counters(key: String, counters: &BTreeMap<String, i64>) -> StatsRow {
        let pick = |prefix: &str| {
            counters
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), *v)))
                .filter(|(_, v)| *v != 0)
                .collect::<BTreeMap<_, _>>()
        };
        let get = |name: &str| counters.get(name).copied().unwrap_or(0);
        Self::with_share(StatsRow {
            key,
            total: get("total"),
            colors: pick("color_"),
            statuses: pick("status_"),
            followed_up: get("followed_up"),
            on_time: get("on_time"),
            on_time_share: None,
        })
    }

    /// The sum of `rows`, under `key`: the totals line of a table.
    pub fn sum(key: String, rows: &[StatsRow]) -> StatsRow {
        let mut total = StatsRow {
            key,
            total: 0,
            colors: BTreeMap::new(),
            statuses: BTreeMap::new(),
            followed_up: 0,
            on_time: 0,
            on_time_share: None,
        };
        for row in rows {
            total.total += row.total;
            total.followed_up += row.followed_up;
            total.on_time += row.on_time;
            for (color, n) in &row.colors {
                *total.colors.entry(color.clone()).or_default() += n;
            }
            for (status, n) in &row.statuses {
                *total.statuses.entry(status.clone()).or_default() += n;
            }
        }
        total.colors.retain(|_, n| *n != 0);
        total.statuses.retain(|_, n| *n != 0);
        Self::with_share(total)
    }

    /// Share of the reports that were followed up (0–1); none when there are none.
    pub fn followed_up_share(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        let share = (self.total > 0).then(|| self.followed_up as f64 / self.total as f64);
        share
    }

    fn with_share(mut row: StatsRow) -> StatsRow {
        #[allow(clippy::cast_precision_loss)]
        let share = (row.followed_up > 0).then(|| row.on_time as f64 / row.followed_up as f64);
        row.on_time_share = share;
        row
    }
}

/// The windows, in days, over which a dashboard shows the on-time share of first follow-ups.
pub const WINDOWS: [u32; 3] = [30, 90, 365];

/// The central ranking's window when the request names none.
pub const DEFAULT_WINDOW: u32 = 90;

/// "Today" for dashboards: the date in WIB (UTC+7), the capital's zone and most reports'. One
/// day boundary for every agency, so the central ranking compares all of them over the same days.
/// Each follow-up is counted on its report's own local day, and windows take in days after
/// `today` too, so a follow-up in WITA or WIT just after its local midnight is never left out.
pub fn dashboard_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Zone::WIB.offset()).date_naive()
}

/// The first day of the `days`-day window that ends `today`.
pub fn window_start(days: u32, today: NaiveDate) -> NaiveDate {
    today - Duration::days(i64::from(days.max(1)) - 1)
}

/// The first day a dashboard reads follow-ups from: the start of its longest window.
pub fn figures_since(today: NaiveDate) -> NaiveDate {
    window_start(WINDOWS.into_iter().max().unwrap_or(DEFAULT_WINDOW), today)
}

/// The window a ranking request asks for: [`DEFAULT_WINDOW`] when it names none, otherwise one
/// of [`WINDOWS`] (the field `days` otherwise).
pub fn requested_window(input: Option<&str>) -> Result<u32, Invalid> {
    let Some(input) = input else {
        return Ok(DEFAULT_WINDOW);
    };
    input
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|days| WINDOWS.contains(days))
        .ok_or_else(|| {
            Invalid::field(
                "days",
                "invalid_value",
                "Kolom `days` harus 30, 90 atau 365.",
                "The field `days` must be 30, 90 or 365.",
            )
        })
}

/// Reports by colour; every colour present, zero when there are none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ColorCounts {
    pub grey: i64,
    pub yellow: i64,
    pub green: i64,
    pub red: i64,
}

impl ColorCounts {
    fn from_counters(counters: &BTreeMap<String, i64>) -> ColorCounts {
        let get = |color| counters.get(&color_counter(color)).copied().unwrap_or(0);
        ColorCounts {
            grey: get(Color::Grey),
            yellow: get(Color::Yellow),
            green: get(Color::Green),
            red: get(Color::Red),
        }
    }
}

/// First follow-ups, and how many of them met their deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowUps {
    pub followed_up: i64,
    pub on_time: i64,
}

impl FollowUps {
    fn from_counters(counters: &BTreeMap<String, i64>) -> FollowUps {
        let get = |name: &str| counters.get(name).copied().unwrap_or(0);
        FollowUps {
            followed_up: get("followed_up"),
            on_time: get("on_time"),
        }
    }

    /// The share followed up on time (0–1); none when nothing was followed up.
    pub fn on_time_share(self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        let share = (self.followed_up > 0).then(|| self.on_time as f64 / self.followed_up as f64);
        share
    }
}

impl std::ops::Add for FollowUps {
    type Output = FollowUps;
    fn add(self, other: FollowUps) -> FollowUps {
        FollowUps {
            followed_up: self.followed_up + other.followed_up,
            on_time: self.on_time + other.on_time,
        }
    }
}

/// An agency's dashboard figures, as its counter items hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyFigures {
    pub agency: AgencyId,
    /// The reports it holds now.
    pub colors: ColorCounts,
    /// First follow-ups per local day, from the day the read asked for on.
    pub days: BTreeMap<NaiveDate, FollowUps>,
}

impl AgencyFigures {
    /// No report held, nothing followed up: an agency no change has counted for yet.
    pub fn empty(agency: AgencyId) -> AgencyFigures {
        AgencyFigures {
            agency,
            colors: ColorCounts::default(),
            days: BTreeMap::new(),
        }
    }

    /// Adds one counter item of this agency ([`AgencyCell`]) with its counters.
    pub fn add_cell(&mut self, cell: AgencyCell, counters: &BTreeMap<String, i64>) {
        match cell {
            AgencyCell::Held => self.colors = ColorCounts::from_counters(counters),
            AgencyCell::Day(day) => {
                self.days.insert(day, FollowUps::from_counters(counters));
            }
        }
    }

    /// Reports past their deadline and not followed up since: the red ones.
    pub fn overdue(&self) -> i64 {
        self.colors.red
    }

    /// The first follow-ups of the `days`-day window that ends `today` (and any later day: see
    /// [`dashboard_today`]).
    pub fn window(&self, days: u32, today: NaiveDate) -> FollowUps {
        self.days
            .range(window_start(days, today)..)
            .fold(FollowUps::default(), |sum, (_, day)| sum + *day)
    }
}

/// The agencies worst first, so the ones that do not follow up stand out: most overdue reports
/// first, then the lowest on-time share over the `days` window (nothing followed up is the
/// worst share), then by id.
pub fn ranked_worst_first(
    figures: Vec<AgencyFigures>,
    days: u32,
    today: NaiveDate,
) -> Vec<AgencyFigures> {
    let mut keyed: Vec<(Option<f64>, AgencyFigures)> = figures
        .into_iter()
        .map(|f| (f.window(days, today).on_time_share(), f))
        .collect();
    keyed.sort_by(|(share_a, a), (share_b, b)| {
        Reverse(a.overdue())
            .cmp(&Reverse(b.overdue()))
            .then_with(|| worse_share_first(*share_a, *share_b))
            .then_with(|| a.agency.cmp(&b.agency))
    });
    keyed.into_iter().map(|(_, f)| f).collect()
}

fn worse_share_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.total_cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn confidential_reports_count_once_per_region_and_year_and_nowhere_else() {
        let body = serde_json::json!({
            "type": "pengaduan",
            "title": "Pungutan liar di kantor kelurahan",
            "description": "Petugas meminta uang tambahan untuk surat pengantar, tanpa kuitansi resmi.",
            "category": "korupsi",
            "region": "32.74",
            "privacy": "rahasia",
            "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
        });
        let map = body.as_object().cloned().unwrap_or_default();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
            .map(|t| t.to_utc())
            .expect("time");
        let deadlines = crate::deadline::Deadlines::indonesia();
        let open = |map: &serde_json::Map<String, serde_json::Value>| {
            let new = crate::report::ReportDraft(map)
                .validate(crate::report::Channel::Web)
                .expect("valid");
            crate::report::Report::open(
                new,
                crate::tracking::TrackingCode::generate(&mut rand::rng()),
                crate::access_key::AccessKey::generate(&mut rand::rng()).hash(),
                now,
                &deadlines,
            )
            .0
        };
        let rahasia = open(&map);
        let mut whistle = map.clone();
        whistle.insert("type".into(), "whistleblowing".into());
        whistle.insert("privacy".into(), "publik".into());
        let whistle = open(&whistle);
        let mut public = map.clone();
        public.insert("privacy".into(), "publik".into());
        let public = open(&public);

        for secret in [&rahasia, &whistle] {
            assert!(is_confidential(secret));
            let cells = deltas(None, secret);
            let dimensions: Vec<&str> = cells
                .keys()
                .filter_map(|k| match k {
                    CounterKey::Published { dimension, .. } => Some(dimension.as_str()),
                    CounterKey::Agency { .. } => None,
                })
                .collect();
            assert_eq!(
                dimensions,
                ["confidential#all", "confidential#all"],
                "city and province"
            );
            for counters in cells.values() {
                assert_eq!(
                    counters.keys().collect::<Vec<_>>(),
                    ["total"],
                    "no colour, no status"
                );
            }
            // A later change moves nothing between cells: no status ever shows.
            let mut answered = secret.clone();
            answered.status = crate::status::Status::Diproses;
            answered.version += 1;
            assert!(deltas(Some(secret), &answered).is_empty());
        }
        assert!(!is_confidential(&public));
        assert!(deltas(None, &public).keys().all(|k| match k {
            CounterKey::Published { dimension, .. } => !dimension.starts_with("confidential"),
            CounterKey::Agency { .. } => true,
        }));
    }

    fn change(n: usize, parts: &[(u8, u8, i64)]) -> CountedChange {
        let mut deltas: Deltas = BTreeMap::new();
        for (item, counter, delta) in parts {
            let key = CounterKey::Published {
                region: format!("32.{item}"),
                year: 2026,
                dimension: "month#12".into(),
            };
            *deltas
                .entry(key)
                .or_default()
                .entry(format!("c{counter}"))
                .or_default() += delta;
        }
        CountedChange {
            id: format!("R{n}#v1"),
            deltas,
        }
    }

    fn added(a: &Deltas, b: &Deltas) -> Deltas {
        let both = [
            CountedChange {
                id: "a".into(),
                deltas: a.clone(),
            },
            CountedChange {
                id: "b".into(),
                deltas: b.clone(),
            },
        ];
        merged(&both)
    }

    proptest! {
        /// However a batch is split (as Lambda bisects a failing one), the halves add up to the
        /// whole: counting per group loses and doubles nothing.
        #[test]
        fn split_batches_add_up_to_the_whole(
            parts in prop::collection::vec(prop::collection::vec((0u8..4, 0u8..3, -2i64..3), 0..4), 0..12),
            cut in 0usize..12,
        ) {
            let changes: Vec<CountedChange> =
                parts.iter().enumerate().map(|(n, p)| change(n, p)).collect();
            let cut = cut.min(changes.len());
            let (first, second) = changes.split_at(cut);
            prop_assert_eq!(added(&merged(first), &merged(second)), merged(&changes));
            prop_assert!(merged(&changes).values().all(|c| !c.is_empty() && c.values().all(|v| *v != 0)));
        }
    }

    fn row(key: &str, counters: &[(&str, i64)]) -> StatsRow {
        let counters = counters
            .iter()
            .map(|(name, n)| (name.to_string(), *n))
            .collect();
        StatsRow::from_counters(key.into(), &counters)
    }

    #[test]
    fn a_requested_year_is_this_year_or_one_from_the_first_year_on() {
        assert_eq!(requested_year(None, 2026), Ok(2026));
        assert_eq!(requested_year(Some(" 2017 "), 2026), Ok(2017));
        assert_eq!(requested_year(Some("2000"), 2026), Ok(2000));
        for bad in ["1999", "2027", "dua ribu", ""] {
            let e = requested_year(Some(bad), 2026).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some("year"));
            assert_eq!(e.message.id, "Tahun harus 2000–2026.");
        }
        // New Year's Eve in Jakarta is already New Year's Day in Jayapura.
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-31T16:30:00Z")
            .map(|t| t.to_utc())
            .expect("time");
        let region = |code: &str| RegionCode::parse(code).expect("known");
        assert_eq!(this_year(&region("32.74"), at), 2026);
        assert_eq!(this_year(&region("94"), at), 2027);
    }

    #[test]
    fn the_totals_line_adds_every_row() {
        let rows = [
            row(
                "infrastruktur",
                &[
                    ("total", 3),
                    ("color_green", 2),
                    ("color_red", 1),
                    ("status_selesai", 2),
                    ("status_diproses", 1),
                    ("followed_up", 3),
                    ("on_time", 2),
                ],
            ),
            row(
                "kesehatan",
                &[
                    ("total", 1),
                    ("color_red", 1),
                    ("status_diproses", 1),
                    ("followed_up", 1),
                ],
            ),
        ];
        let total = StatsRow::sum("total".into(), &rows);
        assert_eq!((total.total, total.followed_up, total.on_time), (4, 4, 2));
        assert_eq!(total.colors.get("red"), Some(&2));
        assert_eq!(total.colors.get("green"), Some(&2));
        assert_eq!(total.statuses.get("diproses"), Some(&2));
        assert_eq!(total.on_time_share, Some(0.5));
        assert_eq!(total.followed_up_share(), Some(1.0));
        assert_eq!(rows[1].followed_up_share(), Some(1.0));
        assert_eq!(StatsRow::sum("total".into(), &[]).on_time_share, None);
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .map(|t| t.to_utc())
            .expect("time")
    }

    /// A `rahasia` report opened in Kota Cirebon (WIB): never published per agency, yet its
    /// holder's dashboard counts it.
    fn secret_report() -> Report {
        let body = serde_json::json!({
            "type": "pengaduan",
            "title": "Jalan berlubang di Jalan Cipto",
            "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
            "category": "infrastruktur",
            "region": "32.74",
            "privacy": "rahasia",
            "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890"}
        });
        let map = body.as_object().cloned().unwrap_or_default();
        let new = crate::report::ReportDraft(&map)
            .validate(crate::report::Channel::Web)
            .expect("valid");
        crate::report::Report::open(
            new,
            crate::tracking::TrackingCode::generate(&mut rand::rng()),
            crate::access_key::AccessKey::generate(&mut rand::rng()).hash(),
            at("2026-11-30T02:00:00Z"),
            &crate::deadline::Deadlines::indonesia(),
        )
        .0
    }

    fn hop() -> crate::disposition::Hop {
        crate::disposition::Hop {
            actor: crate::report::Actor::Officer,
            by: None,
            message: None,
        }
    }

    fn agency(id: &str) -> AgencyId {
        AgencyId::parse(id).expect("id")
    }

    /// The dashboard part of `deltas(old, new)`: (agency, cell, counter) → change.
    fn dashboard(old: Option<&Report>, new: &Report) -> Vec<(String, AgencyCell, String, i64)> {
        deltas(old, new)
            .into_iter()
            .filter_map(|(key, counters)| match key {
                CounterKey::Agency { agency, cell } => Some((agency, cell, counters)),
                CounterKey::Published { .. } => None,
            })
            .flat_map(|(agency, cell, counters)| {
                counters
                    .into_iter()
                    .map(move |(name, n)| (agency.to_string(), cell, name, n))
            })
            .collect()
    }

    fn row_of(
        agency: &str,
        cell: AgencyCell,
        name: &str,
        n: i64,
    ) -> (String, AgencyCell, String, i64) {
        (agency.to_string(), cell, name.to_string(), n)
    }

    #[test]
    fn forwarding_moves_the_colour_count_from_the_old_holder_to_the_new() {
        let deadlines = crate::deadline::Deadlines::indonesia();
        let open = secret_report();
        let now = at("2026-11-30T03:00:00Z");
        assert!(dashboard(None, &open).is_empty(), "triage is no agency's");
        let (to_city, _) = open
            .forward(&agency("kota-cirebon"), hop(), now, &deadlines)
            .expect("forward");
        assert_eq!(
            dashboard(Some(&open), &to_city),
            [row_of("kota-cirebon", AgencyCell::Held, "color_grey", 1)]
        );
        let (to_dept, _) = to_city
            .forward(&agency("kota-cirebon-dpupr"), hop(), now, &deadlines)
            .expect("forward");
        assert_eq!(
            dashboard(Some(&to_city), &to_dept),
            [
                row_of("kota-cirebon", AgencyCell::Held, "color_grey", -1),
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_grey", 1),
            ]
        );
        let (late, _) = to_dept.escalate(at("2026-12-20T03:00:00Z"), &deadlines);
        assert_eq!(
            dashboard(Some(&to_dept), &late),
            [
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_grey", -1),
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_red", 1),
            ]
        );
        let (returned, _) = late
            .return_not_authority(hop(), at("2026-12-21T03:00:00Z"), &deadlines)
            .expect("return");
        assert_eq!(
            dashboard(Some(&late), &returned),
            [row_of(
                "kota-cirebon-dpupr",
                AgencyCell::Held,
                "color_red",
                -1
            )]
        );
    }

    #[test]
    fn a_first_follow_up_counts_once_on_its_local_day() {
        let deadlines = crate::deadline::Deadlines::indonesia();
        let open = secret_report();
        let (held, _) = open
            .forward(
                &agency("kota-cirebon-dpupr"),
                hop(),
                at("2026-11-30T03:00:00Z"),
                &deadlines,
            )
            .expect("forward");
        // 00:30 on 1 December in Cirebon (WIB), still 30 November in UTC.
        let (answered, _) = held
            .follow_up(
                crate::status::Status::Diproses,
                hop(),
                None,
                at("2026-11-30T17:30:00Z"),
                &deadlines,
            )
            .expect("follow up");
        let day = AgencyCell::Day(NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"));
        assert_eq!(
            dashboard(Some(&held), &answered),
            [
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_grey", -1),
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_yellow", 1),
                row_of("kota-cirebon-dpupr", day, "followed_up", 1),
                row_of("kota-cirebon-dpupr", day, "on_time", 1),
            ]
        );
        // The next follow-up is not a first one: the day's counts stay as they are.
        let (done, _) = answered
            .follow_up(
                crate::status::Status::Selesai,
                hop(),
                None,
                at("2026-12-02T03:00:00Z"),
                &deadlines,
            )
            .expect("follow up");
        assert_eq!(
            dashboard(Some(&answered), &done),
            [
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_green", 1),
                row_of("kota-cirebon-dpupr", AgencyCell::Held, "color_yellow", -1),
            ]
        );
        // A redelivered change is the same change under the same id, which the store counts once.
        let first = CountedChange::of(Some(&held), &answered);
        assert_eq!(CountedChange::of(Some(&held), &answered), first);
        assert_eq!(merged([&first]), first.deltas);
    }

    #[test]
    fn a_late_first_follow_up_counts_as_followed_up_only() {
        let deadlines = crate::deadline::Deadlines::indonesia();
        let (held, _) = secret_report()
            .forward(
                &agency("kota-cirebon-dpupr"),
                hop(),
                at("2026-11-30T03:00:00Z"),
                &deadlines,
            )
            .expect("forward");
        let (answered, _) = held
            .follow_up(
                crate::status::Status::Diproses,
                hop(),
                None,
                at("2027-02-01T03:00:00Z"),
                &deadlines,
            )
            .expect("follow up");
        let day = AgencyCell::Day(NaiveDate::from_ymd_opt(2027, 2, 1).expect("date"));
        let rows = dashboard(Some(&held), &answered);
        assert!(rows.contains(&row_of("kota-cirebon-dpupr", day, "followed_up", 1)));
        assert!(
            rows.iter().all(|(_, _, name, _)| name != "on_time"),
            "{rows:?}"
        );
    }

    fn figures(id: &str, red: i64, days: &[(u32, i64, i64)]) -> AgencyFigures {
        let mut figures = AgencyFigures::empty(agency(id));
        figures.colors.red = red;
        let today = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        for (ago, followed_up, on_time) in days {
            let day = today - Duration::days(i64::from(*ago));
            let counters = BTreeMap::from([
                ("followed_up".to_string(), *followed_up),
                ("on_time".to_string(), *on_time),
            ]);
            figures.add_cell(AgencyCell::Day(day), &counters);
        }
        figures
    }

    #[test]
    fn windows_add_up_the_days_from_their_first_on() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        let f = figures(
            "dinas-a",
            0,
            &[(0, 2, 2), (29, 1, 0), (30, 4, 1), (364, 1, 1)],
        );
        let sums = WINDOWS.map(|days| f.window(days, today));
        assert_eq!(
            sums[0],
            FollowUps {
                followed_up: 3,
                on_time: 2
            }
        );
        assert_eq!(
            sums[1],
            FollowUps {
                followed_up: 7,
                on_time: 3
            }
        );
        assert_eq!(
            sums[2],
            FollowUps {
                followed_up: 8,
                on_time: 4
            }
        );
        assert_eq!(FollowUps::default().on_time_share(), None);
        assert_eq!(sums[2].on_time_share(), Some(0.5));
        // A follow-up already on tomorrow's date (a zone east of WIB) is in every window.
        let mut east = figures("dinas-b", 0, &[]);
        east.add_cell(
            AgencyCell::Day(today + Duration::days(1)),
            &BTreeMap::from([("followed_up".to_string(), 1)]),
        );
        assert_eq!(east.window(30, today).followed_up, 1);
        assert_eq!(
            figures_since(today),
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        );
        // 23:30 UTC is already the next day in Jakarta.
        assert_eq!(
            dashboard_today(at("2026-12-30T23:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")
        );
    }

    #[test]
    fn the_ranking_puts_the_most_overdue_then_the_least_on_time_first() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        let ranked = ranked_worst_first(
            vec![
                figures("dinas-ok", 0, &[(1, 4, 4)]),
                figures("dinas-late", 0, &[(1, 4, 1)]),
                figures("dinas-silent", 0, &[]),
                figures("dinas-red", 7, &[(1, 4, 4)]),
                figures("dinas-b-idle", 0, &[]),
                // Late only outside the 90-day window: on time within it.
                figures("dinas-old", 0, &[(1, 1, 1), (200, 9, 0)]),
            ],
            90,
            today,
        );
        let order: Vec<&str> = ranked.iter().map(|f| f.agency.as_str()).collect();
        assert_eq!(
            order,
            [
                "dinas-red",
                "dinas-b-idle",
                "dinas-silent",
                "dinas-late",
                "dinas-ok",
                "dinas-old",
            ]
        );
    }

    #[test]
    fn a_requested_window_is_30_90_or_365_days() {
        assert_eq!(requested_window(None), Ok(90));
        assert_eq!(requested_window(Some("30")), Ok(30));
        assert_eq!(requested_window(Some(" 365 ")), Ok(365));
        for bad in ["7", "0", "tiga puluh", "", "-30"] {
            let e = requested_window(Some(bad)).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some("days"));
            assert_eq!(e.message.id, "Kolom `days` harus 30, 90 atau 365.");
        }
    }
}
