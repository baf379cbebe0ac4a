//! Working-day deadlines in the report's own time zone.
//!
//! Working days are Monday to Friday minus the calendar's holidays (national holidays and cuti
//! bersama, which change by decree, so they are data, not code).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc, Weekday};

use crate::region::Zone;

/// Service levels, in working days unless named otherwise (SP4N-LAPOR!, Perpres 76/2013).
pub const VERIFY_WORKING_DAYS: u32 = 3;
pub const FOLLOW_UP_WORKING_DAYS: u32 = 5;
pub const REPORTER_SILENCE_WORKING_DAYS: u32 = 10;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        Self {
            holidays: holidays.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }

    /// The moment `days` working days after `start`, at the same local time in `zone`.
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
        let shift = date.signed_duration_since(local.date_naive());
        local + shift
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
        let cal = WorkCalendar::new([NaiveDate::from_ymd_opt(2026, 12, 25).expect("date")]);
        // Thursday 2026-12-24 23:30 WIB is already Friday 00:30 WIT.
        let start = utc("2026-12-24T16:30:00Z");
        assert_eq!(
            cal.add_working_days(start, 1, Zone::WIB).to_rfc3339(),
            "2026-12-28T23:30:00+07:00"
        );
        assert_eq!(
            cal.add_working_days(start, 1, Zone::WIT).to_rfc3339(),
            "2026-12-28T01:30:00+09:00"
        );
    }
}
