//! Sort positions and cursors, shared by both adapters and private to this crate: callers see
//! only opaque cursor strings.

use chrono::{DateTime, Utc};
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
