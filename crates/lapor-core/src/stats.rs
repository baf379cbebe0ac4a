//! Published statistics as counters: per region (the report's own and its province) × year ×
//! dimension (agency, category, month), how many reports are in each colour and status, how many
//! were followed up, and how many of those on time. The statistics consumer adds up the difference
//! each state change makes to its counters ([`CountedChange`]), batch by batch from the table's
//! stream, so no report write touches a shared counter and reading statistics never scans.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::agency::AgencyId;
use crate::error::Invalid;
use crate::region::RegionCode;
use crate::report::Report;

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
pub struct CounterKey {
    pub region: String,
    pub year: i32,
    /// `agency#<id>` (`agency#-` while unassigned), `category#<id>` or `month#<01-12>`.
    pub dimension: String,
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

/// The counters one report adds to (each by one).
fn contributions(report: &Report) -> Vec<(CounterKey, String)> {
    let year = report.created_at.year();
    let mut regions = vec![report.region.to_string()];
    if let Some(parent) = report.region.parent() {
        regions.push(parent.to_string());
    }
    if is_confidential(report) {
        return regions
            .into_iter()
            .map(|region| {
                let key = CounterKey {
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
    let color = serde_json::to_value(report.color())
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let mut names = vec![
        "total".to_string(),
        format!("color_{color}"),
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
            let key = CounterKey {
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
            let dimensions: Vec<&str> = cells.keys().map(|k| k.dimension.as_str()).collect();
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
        assert!(deltas(None, &public)
            .keys()
            .all(|k| !k.dimension.starts_with("confidential")));
    }

    fn change(n: usize, parts: &[(u8, u8, i64)]) -> CountedChange {
        let mut deltas: Deltas = BTreeMap::new();
        for (item, counter, delta) in parts {
            let key = CounterKey {
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
}
