//! Moving a report between agencies: automatic routing, triage, forwarding (disposisi) and
//! returning as not the agency's authority (bukan wewenang). Each move yields the next version of
//! the report and the one timeline event that records who moved it, when, from where, to where
//! and why.

use chrono::{DateTime, FixedOffset, Utc};

use crate::agency::AgencyId;
use crate::deadline::Deadlines;
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

    /// `days` working days from `now` in the report's own zone.
    pub(crate) fn working_days_due(
        &self,
        now: DateTime<Utc>,
        days: u32,
        deadlines: &Deadlines,
    ) -> DateTime<FixedOffset> {
        deadlines.after_working_days(now, days, self.region.zone())
    }

    /// When the central admin must have verified and forwarded the report.
    pub(crate) fn verification_due(
        &self,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> DateTime<FixedOffset> {
        self.working_days_due(
            now,
            deadlines.sla(self.category).verify_working_days,
            deadlines,
        )
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
            agency: hop.by,
            status_before: Some(self.status),
            status_after: next.status,
            from_agency: self.agency.clone(),
            to_agency: next.agency.clone(),
            message: hop.message,
            public: true,
            attachment: None,
        }
    }

    /// Forwards the report to `to`, which must then follow up within the category's follow-up
    /// service level.
    pub fn forward(
        &self,
        to: &AgencyId,
        hop: Hop,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), TransitionError> {
        let due = self.working_days_due(
            now,
            deadlines.sla(self.category).follow_up_working_days,
            deadlines,
        );
        let (mut next, at) = self.next(now);
        next.status = self.status.transition(Status::Terdisposisi)?;
        next.agency = Some(to.clone());
        next.triage = false;
        next.overdue = false;
        next.due_at = Some(due);
        next.forwarded_at = Some(at);
        next.last_event = Some(EventKind::Forwarded);
        let event = self.hop_event(&next, EventKind::Forwarded, hop, at);
        Ok((next, event))
    }

    /// Puts a new report in the central admin's triage queue, to be verified within the
    /// verification service level.
    pub fn send_to_triage(
        &self,
        hop: Hop,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> (Report, Event) {
        let due = self.verification_due(now, deadlines);
        let (mut next, at) = self.next(now);
        next.triage = true;
        next.agency = None;
        next.due_at = Some(due);
        next.last_event = Some(EventKind::Triage);
        let event = self.hop_event(&next, EventKind::Triage, hop, at);
        (next, event)
    }

    /// The agency says the report is not its authority: it goes back to central triage, to be
    /// verified again within the verification service level.
    pub fn return_not_authority(
        &self,
        hop: Hop,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), TransitionError> {
        let due = self.verification_due(now, deadlines);
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
