//! Working-day deadlines in the report's own time zone, and the service levels they measure.
//!
//! Working days are Monday to Friday minus national holidays and cuti bersama, which change by
//! decree and so live in `data/holidays.json`. A deadline is a moment in office hours: one that
//! falls outside them moves to the opening of the next working day.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::region::Zone;

/// Office hours of Indonesian government offices, local time.
const OPENS: (u32, u32) = (8, 0);
const CLOSES: (u32, u32) = (16, 0);

/// How long each stage may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// Central admin verifies and forwards.
    pub verify_working_days: u32,
    /// The agency's first follow-up after forwarding.
    pub follow_up_working_days: u32,
    /// Resolution after forwarding (Perpres 76/2013), in calendar days.
    pub completion_days: u32,
    /// After `selesai`, the reporter's time to answer before the report is final.
    pub reporter_silence_working_days: u32,
    /// After an escalation, the time until the next one.
    pub reminder_working_days: u32,
}

/// The service levels of every category: `data/sla.json`'s defaults with each category's
/// overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLevels {
    defaults: Sla,
    /// Shared: every clone of a function's dependencies (axum clones its state into each route)
    /// copies a pointer, not the map.
    overrides: Arc<BTreeMap<Category, Sla>>,
}

#[derive(Deserialize)]
struct SlaFile {
    defaults: Sla,
    #[serde(default)]
    overrides: BTreeMap<Category, serde_json::Map<String, serde_json::Value>>,
}

static BUNDLED_SLA: LazyLock<ServiceLevels> = LazyLock::new(|| {
    ServiceLevels::from_json(include_str!("../data/sla.json"))
        .unwrap_or_else(|e| panic!("bundled data/sla.json is invalid: {e}"))
});

impl ServiceLevels {
    /// The bundled `data/sla.json`.
    pub fn bundled() -> Self {
        BUNDLED_SLA.clone()
    }

    /// Reads a service-level file; an override naming an unknown field or a wrong value is an
    /// error, so a typo never silently keeps the default.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: SlaFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let overrides = file
            .overrides
            .into_iter()
            .map(|(category, fields)| Ok((category, apply(file.defaults, &fields)?)))
            .collect::<Result<_, String>>()?;
        Ok(Self {
            defaults: file.defaults,
            overrides: Arc::new(overrides),
        })
    }

    /// The service levels for a category: the defaults with that category's overrides.
    pub fn for_category(&self, category: Category) -> Sla {
        self.overrides
            .get(&category)
            .copied()
            .unwrap_or(self.defaults)
    }
}

fn apply(
    defaults: Sla,
    overrides: &serde_json::Map<String, serde_json::Value>,
) -> Result<Sla, String> {
    let mut merged = match serde_json::to_value(defaults) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err("service levels are not an object".into()),
    };
    for (field, value) in overrides {
        if !merged.contains_key(field) {
            return Err(format!("unknown service level `{field}`"));
        }
        merged.insert(field.clone(), value.clone());
    }
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| e.to_string())
}

/// What every deadline is computed from: the work calendar and the service levels. Each
/// transition of a report takes it and sets its own next deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadlines {
    pub calendar: WorkCalendar,
    pub levels: ServiceLevels,
}

impl Deadlines {
    /// Indonesia's holidays and the bundled service levels.
    pub fn indonesia() -> Self {
        Self {
            calendar: WorkCalendar::indonesia(),
            levels: ServiceLevels::bundled(),
        }
    }

    pub fn sla(&self, category: Category) -> Sla {
        self.levels.for_category(category)
    }

    /// `days` working days after `now` in `zone` (see [`WorkCalendar::add_working_days`]).
    pub fn after_working_days(
        &self,
        now: DateTime<Utc>,
        days: u32,
        zone: Zone,
    ) -> DateTime<FixedOffset> {
        self.calendar.add_working_days(now, days, zone)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Shared, as [`ServiceLevels`]' overrides are.
    holidays: Arc<BTreeSet<NaiveDate>>,
}

#[derive(Deserialize)]
struct HolidayFile {
    years: BTreeMap<String, HolidayYear>,
}

#[derive(Deserialize)]
struct HolidayYear {
    /// Every year names the decree it comes from; a year without one is refused.
    source: String,
    days: Vec<Holiday>,
}

#[derive(Deserialize)]
struct Holiday {
    date: NaiveDate,
}

static INDONESIA: LazyLock<WorkCalendar> = LazyLock::new(|| {
    let file: HolidayFile = serde_json::from_str(include_str!("../data/holidays.json"))
        .unwrap_or_else(|e| panic!("bundled data/holidays.json is invalid: {e}"));
    if let Some((year, _)) = file.years.iter().find(|(_, y)| y.source.trim().is_empty()) {
        panic!("bundled data/holidays.json: year {year} names no source");
    }
    WorkCalendar::new(
        file.years
            .into_values()
            .flat_map(|y| y.days)
            .map(|d| d.date),
    )
});

impl WorkCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self {
            holidays: Arc::new(holidays.into_iter().collect()),
        }
    }

    /// Indonesia's calendar: the bundled holidays and cuti bersama.
    pub fn indonesia() -> Self {
        INDONESIA.clone()
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// `days` working days after `start`, at the same local time in `zone`, moved to the next
    /// opening when that time is outside office hours.
    pub fn add_working_days(
        &self,
        start: DateTime<Utc>,
        days: u32,
        zone: Zone,
    ) -> DateTime<FixedOffset> {
        let local = start.with_timezone(&zone.offset());
        let mut date = local.date_naive();
        let mut left = days;
        while left > 0 {
            date = date.checked_add_days(Days::new(1)).unwrap_or(date);
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        self.within_office_hours(date.and_time(local.time()), zone)
    }

    /// The moment itself when it is in office hours on a working day, else the next opening.
    fn within_office_hours(&self, at: chrono::NaiveDateTime, zone: Zone) -> DateTime<FixedOffset> {
        let opens = NaiveTime::from_hms_opt(OPENS.0, OPENS.1, 0).unwrap_or_default();
        let closes = NaiveTime::from_hms_opt(CLOSES.0, CLOSES.1, 0).unwrap_or_default();
        let (mut date, time) = (at.date(), at.time());
        let in_hours = self.is_working_day(date) && time >= opens && time <= closes;
        let local = if in_hours {
            at
        } else {
            if time > closes || !self.is_working_day(date) {
                date = date.checked_add_days(Days::new(1)).unwrap_or(date);
            }
            while !self.is_working_day(date) {
                date = date.checked_add_days(Days::new(1)).unwrap_or(date);
            }
            date.and_time(opens)
        };
        local
            .and_local_timezone(zone.offset())
            .single()
            .unwrap_or_else(|| at.and_utc().fixed_offset())
    }

    /// Working days from `now` until `due` in `zone`: negative once the deadline has passed.
    pub fn working_days_left(
        &self,
        now: DateTime<Utc>,
        due: DateTime<FixedOffset>,
        zone: Zone,
    ) -> i64 {
        let today = now.with_timezone(&zone.offset()).date_naive();
        let until = due.with_timezone(&zone.offset()).date_naive();
        let (from, to, sign) = if until >= today {
            (today, until, 1)
        } else {
            (until, today, -1)
        };
        let count = from
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count();
        sign * i64::try_from(count).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .expect("time")
    }

    #[test]
    fn five_working_days_from_a_thursday_skip_the_weekend() {
        // Thursday 2026-11-26 10:00 WIB.
        let due =
            WorkCalendar::default().add_working_days(utc("2026-11-26T03:00:00Z"), 5, Zone::WIB);
        assert_eq!(due.to_rfc3339(), "2026-12-03T10:00:00+07:00");
    }

    #[test]
    fn holidays_are_skipped_and_the_zone_decides_the_date() {
        let cal = WorkCalendar::indonesia();
        // Wednesday 2026-12-23 10:00 WIB; 24 (cuti bersama) and 25 (Natal) are not working days.
        let start = utc("2026-12-23T03:00:00Z");
        assert_eq!(
            cal.add_working_days(start, 1, Zone::WIB).to_rfc3339(),
            "2026-12-28T10:00:00+07:00"
        );
        // Idul Fitri 2026 and its cuti bersama: Friday 20 March to Tuesday 24 March.
        let before_lebaran = utc("2026-03-17T03:00:00Z");
        assert_eq!(
            cal.add_working_days(before_lebaran, 1, Zone::WIB)
                .to_rfc3339(),
            "2026-03-25T10:00:00+07:00"
        );
    }

    #[test]
    fn a_deadline_after_closing_moves_to_the_next_opening() {
        let cal = WorkCalendar::indonesia();
        // Friday 2026-11-27 19:30 WIB + 1 working day = Monday 19:30 → Tuesday 08:00.
        let due = cal.add_working_days(utc("2026-11-27T12:30:00Z"), 1, Zone::WIB);
        assert_eq!(due.to_rfc3339(), "2026-12-01T08:00:00+07:00");
        // Before opening on a working day: that day's opening.
        let early = cal.add_working_days(utc("2026-11-26T23:00:00Z"), 1, Zone::WIB);
        assert_eq!(early.to_rfc3339(), "2026-11-30T08:00:00+07:00");
    }

    #[test]
    fn the_holiday_file_covers_2025_to_2027() {
        let cal = WorkCalendar::indonesia();
        for (date, name) in [
            ("2025-03-31", "Idul Fitri 2025"),
            ("2026-08-17", "Kemerdekaan 2026"),
            ("2027-12-25", "Natal 2027"),
            ("2027-03-26", "Wafat Yesus Kristus 2027, from Easter"),
        ] {
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
            assert!(!cal.is_working_day(d), "{name}");
        }
    }

    #[test]
    fn each_year_counts_what_its_decree_says() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../data/holidays.json")).expect("json");
        // (year, libur, cuti bersama): SKB 2025 and SKB 2026 as published; 2027 has no SKB yet.
        for (year, libur, cuti) in [("2025", 17, 10), ("2026", 17, 8), ("2027", 17, 0)] {
            let days = file["years"][year]["days"].as_array().expect(year);
            let count = |kind: &str| days.iter().filter(|d| d["kind"] == kind).count();
            assert_eq!(
                (count("libur"), count("cuti_bersama")),
                (libur, cuti),
                "{year}"
            );
            assert!(days
                .iter()
                .all(|d| d["date"].as_str().is_some_and(|s| s.starts_with(year))));
        }
        // Lebaran 2026: cuti bersama on Friday 20 and Monday–Tuesday 23–24 March.
        let cal = WorkCalendar::indonesia();
        let working = (18..=25)
            .filter_map(|day| NaiveDate::from_ymd_opt(2026, 3, day))
            .filter(|d| cal.is_working_day(*d))
            .count();
        assert_eq!(working, 1, "only Wednesday 25 March 2026 is a working day");
    }

    #[test]
    fn service_levels_come_from_the_data_file_with_overrides() {
        let sla = ServiceLevels::bundled().for_category(Category::Infrastruktur);
        assert_eq!(
            (
                sla.verify_working_days,
                sla.follow_up_working_days,
                sla.completion_days
            ),
            (3, 5, 60)
        );
        let mut overrides = serde_json::Map::new();
        overrides.insert("follow_up_working_days".into(), serde_json::json!(2));
        let faster = apply(sla, &overrides).expect("known field");
        assert_eq!(faster.follow_up_working_days, 2);
        assert_eq!(faster.verify_working_days, 3);
        overrides.insert("follow_up_workdays".into(), serde_json::json!(2));
        assert!(
            apply(sla, &overrides).is_err(),
            "a misspelt override is refused"
        );
    }

    proptest! {
        #[test]
        fn deadlines_land_on_working_days_in_office_hours(secs in 1_735_689_600i64..1_830_297_600, days in 0u32..40, zone in 0usize..3) {
            let zone = [Zone::WIB, Zone::WITA, Zone::WIT][zone];
            let cal = WorkCalendar::indonesia();
            let start = DateTime::from_timestamp(secs, 0).expect("in range");
            let due = cal.add_working_days(start, days, zone);
            prop_assert_eq!(due.offset(), &zone.offset());
            prop_assert!(cal.is_working_day(due.date_naive()));
            let t = due.time();
            prop_assert!(t >= NaiveTime::from_hms_opt(8, 0, 0).expect("t") && t <= NaiveTime::from_hms_opt(16, 0, 0).expect("t"));
            prop_assert!(due.to_utc() >= start);
        }

        #[test]
        fn more_working_days_never_come_sooner(secs in 1_735_689_600i64..1_830_297_600, days in 0u32..40) {
            let cal = WorkCalendar::indonesia();
            let start = DateTime::from_timestamp(secs, 0).expect("in range");
            prop_assert!(cal.add_working_days(start, days, Zone::WITA) <= cal.add_working_days(start, days + 1, Zone::WITA));
        }
    }
}
