//! Sort positions and cursors, shared by both adapters and private to this crate: callers see
//! only opaque cursor strings.

use chrono::{DateTime, NaiveDate, Utc};
use lapor_core::stats::AgencyCell;
use lapor_core::{Report, Status};

use crate::{Conflict, StoreError};

fn instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Where a queue listing sorts a report: newest first, ties broken by code.
pub(crate) fn queue_position(report: &Report) -> String {
    format!(
        "{}#{}",
        instant(report.created_at.to_utc()),
        report.tracking_code
    )
}

/// Where the public feed sorts a report (as a queue does: newest first, ties by code); none for
/// a report the public may not read.
pub(crate) fn feed_position(report: &Report) -> Option<String> {
    (!lapor_core::stats::is_confidential(report)).then(|| queue_position(report))
}

/// The feed positions of every report created from `from` to `to` (both included), as an
/// inclusive range: `'$'` sorts after the `'#'` that follows an instant.
pub(crate) fn feed_window(from: DateTime<Utc>, to: DateTime<Utc>) -> (String, String) {
    (instant(from), format!("{}$", instant(to)))
}

/// The UTC month (`yyyy-mm`) of a feed position: the partition it lives in.
pub(crate) fn feed_month(position: &str) -> Option<&str> {
    position.get(..7)
}

/// Where the due index files a report: its deadline (UTC) then its code; none when no deadline
/// runs (archived, or nothing due).
pub(crate) fn due_position(report: &Report) -> Option<String> {
    let due = report.due_at.filter(|_| report.status != Status::Arsip)?;
    Some(format!(
        "{}#{}",
        instant(due.to_utc()),
        report.tracking_code
    ))
}

/// The index position just after every deadline up to `now`.
pub(crate) fn due_bound(now: DateTime<Utc>) -> String {
    // '$' sorts after '#', so a deadline at exactly `now` is included.
    format!("{}$", instant(now))
}

/// Where an agency's dashboard item sorts among its others: `DAY#<yyyy-mm-dd>` for a day's
/// follow-ups, then `HELD` (what it holds now). Days sort by date and before `HELD`, so the days
/// from one on and the held counts are one range, up to [`FIGURES_LAST`].
pub(crate) fn figures_position(cell: AgencyCell) -> String {
    match cell {
        AgencyCell::Held => FIGURES_LAST.to_string(),
        AgencyCell::Day(day) => figures_day(day),
    }
}

pub(crate) fn figures_day(day: NaiveDate) -> String {
    format!("DAY#{}", day.format("%Y-%m-%d"))
}

pub(crate) const FIGURES_LAST: &str = "HELD";

/// The dashboard item at `position`, if it is one.
pub(crate) fn figures_cell(position: &str) -> Option<AgencyCell> {
    if position == FIGURES_LAST {
        return Some(AgencyCell::Held);
    }
    let day = position.strip_prefix("DAY#")?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(AgencyCell::Day)
}

/// Cursors are opaque to clients: the position they continue after, hex-encoded.
pub(crate) fn encode_cursor(position: &str) -> String {
    hex::encode(position)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    hex::decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(StoreError::Conflict(Conflict::BadCursor))
}
