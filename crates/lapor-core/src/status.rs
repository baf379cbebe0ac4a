//! The report lifecycle as one state machine, and the colour citizens see.
//!
//! Every allowed move is listed in [`Status::allowed_next`]; nothing else may change a status.

use std::fmt;

use serde::{Deserialize, Serialize};

/// LAPOR!'s statuses, by their Indonesian names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Received, not yet verified by the central admin.
    Diterima,
    /// Verified and forwarded (disposisi) to an agency, awaiting its follow-up.
    Terdisposisi,
    /// The agency is handling it.
    Diproses,
    /// The agency reports it done.
    Selesai,
    /// On hold, with a reason and a resume date.
    Tertunda,
    /// Closed without action: spam, duplicate, not a complaint — or final after completion.
    Arsip,
    /// Returned by the agency as outside its authority; back to central triage.
    BukanWewenang,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a report cannot move from {from} to {to}")]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
    pub allowed: &'static [Status],
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Diterima,
        Status::Terdisposisi,
        Status::Diproses,
        Status::Selesai,
        Status::Tertunda,
        Status::Arsip,
        Status::BukanWewenang,
    ];

    /// The one list of legal moves.
    pub fn allowed_next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Diterima => &[Terdisposisi, Arsip],
            // Forwarding again moves a report from an agency to one of its departments.
            Terdisposisi => &[
                Terdisposisi,
                Diproses,
                Selesai,
                Tertunda,
                BukanWewenang,
                Arsip,
            ],
            Diproses => &[Diproses, Selesai, Tertunda, Arsip],
            Tertunda => &[Diproses, Selesai, Arsip],
            // The reporter may reopen a completed report; it is archived once final.
            Selesai => &[Diproses, Arsip],
            BukanWewenang => &[Terdisposisi, Arsip],
            Arsip => &[],
        }
    }

    pub fn transition(self, to: Status) -> Result<Status, TransitionError> {
        let allowed = self.allowed_next();
        if allowed.contains(&to) {
            Ok(to)
        } else {
            Err(TransitionError {
                from: self,
                to,
                allowed,
            })
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Diterima => "diterima",
            Status::Terdisposisi => "terdisposisi",
            Status::Diproses => "diproses",
            Status::Selesai => "selesai",
            Status::Tertunda => "tertunda",
            Status::Arsip => "arsip",
            Status::BukanWewenang => "bukan_wewenang",
        }
    }

    /// A final report needs nothing more from anyone.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Selesai | Status::Arsip)
    }

    /// The colour shown for this status; `overdue` is set by the deadline sweep.
    pub fn color(self, overdue: bool) -> Color {
        match self {
            Status::Selesai => Color::Green,
            Status::Arsip => Color::Grey,
            _ if overdue => Color::Red,
            Status::Diproses | Status::Tertunda => Color::Yellow,
            Status::Diterima | Status::Terdisposisi | Status::BukanWewenang => Color::Grey,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a citizen sees: grey (waiting), red (late, not followed up), yellow (in process),
/// green (done). Always computed by [`Status::color`], never stored on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Color {
    Grey,
    Red,
    Yellow,
    Green,
}

impl Color {
    /// The colour's Indonesian name, as SMS replies say it.
    pub fn word(self) -> &'static str {
        match self {
            Color::Grey => "abu-abu",
            Color::Red => "merah",
            Color::Yellow => "kuning",
            Color::Green => "hijau",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_is_terminal_and_reachable_from_every_other_status() {
        assert!(Status::Arsip.allowed_next().is_empty());
        for s in Status::ALL.into_iter().filter(|s| *s != Status::Arsip) {
            assert!(
                s.transition(Status::Arsip).is_ok(),
                "{s} cannot be archived"
            );
        }
    }

    #[test]
    fn illegal_moves_report_what_is_allowed() {
        let err = Status::Diterima.transition(Status::Selesai).unwrap_err();
        assert_eq!(err.allowed, &[Status::Terdisposisi, Status::Arsip]);
        assert!(Status::Selesai.transition(Status::Diproses).is_ok());
        assert!(Status::BukanWewenang.transition(Status::Diproses).is_err());
    }

    #[test]
    fn colors_follow_status_and_overdue_flag() {
        assert_eq!(Status::Diterima.color(false), Color::Grey);
        assert_eq!(Status::Terdisposisi.color(true), Color::Red);
        assert_eq!(Status::Diproses.color(false), Color::Yellow);
        assert_eq!(Status::Diproses.color(true), Color::Red);
        assert_eq!(Status::Selesai.color(true), Color::Green);
        assert_eq!(Status::Arsip.color(true), Color::Grey);
    }

    #[test]
    fn serde_names_are_the_lapor_names() {
        for s in Status::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
