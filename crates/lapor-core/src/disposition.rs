//! Moving a report between agencies: automatic routing, triage, forwarding (disposisi) and
//! returning as not the agency's authority (bukan wewenang). Each move yields the next version of
//! the report and the one timeline event that records who moved it, when, from where, to where
//! and why.

use chrono::{DateTime, FixedOffset, Utc};

use crate::agency::AgencyId;
use crate::report::{Actor, Event, EventKind, Report};
use crate::status::{Status, TransitionError};

/// Who is acting, as the timeline records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub actor: Actor,
    /// The actor's own agency (none for the system).
    pub by: Option<AgencyId>,
    pub message: Option<String>,
}

impl Report {
    pub(crate) fn next(&self, now: DateTime<Utc>) -> (Report, DateTime<FixedOffset>) {
        let at = now.with_timezone(&self.region.zone().offset());
        let mut next = self.clone();
        next.version = self.version + 1;
        next.updated_at = at;
        // Any step but an escalation is progress: lateness starts over.
        next.overdue = false;
        next.escalation = 0;
        (next, at)
    }

    pub(crate) fn hop_event(
        &self,
        next: &Report,
        kind: EventKind,
        hop: Hop,
        at: DateTime<FixedOffset>,
    ) -> Event {
        Event {
            seq: next.version,
            at,
            kind,
            actor: hop.actor,
            agency: hop.by.map(String::from),
            status_before: Some(self.status),
            status_after: next.status,
            from_agency: self.agency.clone(),
            to_agency: next.agency.clone(),
            message: hop.message,
            public: true,
        }
    }

    /// Forwards the report to `to`, which must then follow up by `due`.
    pub fn forward(
        &self,
        to: &AgencyId,
        hop: Hop,
        now: DateTime<Utc>,
        due: DateTime<FixedOffset>,
    ) -> Result<(Report, Event), TransitionError> {
        let (mut next, at) = self.next(now);
        next.status = self.status.transition(Status::Terdisposisi)?;
        next.agency = Some(to.to_string());
        next.triage = false;
        next.overdue = false;
        next.due_at = Some(due);
        next.forwarded_at = Some(at);
        next.last_event = Some(EventKind::Forwarded);
        let event = self.hop_event(&next, EventKind::Forwarded, hop, at);
        Ok((next, event))
    }

    /// Puts a new report in the central admin's triage queue, to be verified by `due`.
    pub fn send_to_triage(
        &self,
        hop: Hop,
        now: DateTime<Utc>,
        due: DateTime<FixedOffset>,
    ) -> (Report, Event) {
        let (mut next, at) = self.next(now);
        next.triage = true;
        next.agency = None;
        next.due_at = Some(due);
        next.last_event = Some(EventKind::Triage);
        let event = self.hop_event(&next, EventKind::Triage, hop, at);
        (next, event)
    }

    /// The agency says the report is not its authority: it goes back to central triage.
    pub fn return_not_authority(
        &self,
        hop: Hop,
        now: DateTime<Utc>,
        due: DateTime<FixedOffset>,
    ) -> Result<(Report, Event), TransitionError> {
        let (mut next, at) = self.next(now);
        next.status = self.status.transition(Status::BukanWewenang)?;
        next.agency = None;
        next.triage = true;
        next.overdue = false;
        next.due_at = Some(due);
        next.last_event = Some(EventKind::Returned);
        let event = self.hop_event(&next, EventKind::Returned, hop, at);
        Ok((next, event))
    }
}
