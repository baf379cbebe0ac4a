//! What happens after forwarding: the agency's follow-ups (diproses, selesai, tertunda), archiving,
//! and the reporter's side of the conversation (replies that may reopen, one rating). Each step
//! yields the next version and its one timeline event, through the one state machine.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use crate::deadline::Deadlines;
use crate::disposition::Hop;
use crate::error::Invalid;
use crate::report::{Actor, Event, EventKind, Rating, Report};
use crate::status::{Status, TransitionError};

/// Why a reporter's step was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReporterError {
    Invalid(Invalid),
    Transition(TransitionError),
    /// Too many replies: the daily cap (try again at `retry_after_secs`) or the report's total.
    TooManyReplies(ReplyLimit),
}

/// The most replies one report takes from its reporter, by web and SMS together. With messages of
/// at most 2,000 characters this bounds what a reporter (or anyone holding a leaked key) can add
/// to a report's timeline to about 200 KB of text.
pub const MAX_REPLIES: u32 = 100;
/// Replies per report per local day unless the deployment says otherwise.
pub const DEFAULT_REPLIES_PER_DAY: u32 = 10;

/// Which reply cap was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyLimit {
    /// `per_day` replies today; the next is accepted after local midnight.
    Daily { per_day: u32, retry_after_secs: u32 },
    /// [`MAX_REPLIES`] in all: no more, ever.
    Total,
}

impl ReplyLimit {
    pub fn message(&self) -> crate::error::Message {
        match self {
            ReplyLimit::Daily { per_day, .. } => crate::error::Message::new(
                format!("Batas {per_day} balasan per hari untuk laporan ini sudah tercapai. Silakan kirim lagi besok."),
                format!("This report already has {per_day} replies today, the daily limit. Please send again tomorrow."),
            ),
            ReplyLimit::Total => crate::error::Message::new(
                format!("Laporan ini sudah menerima {MAX_REPLIES} balasan, batas untuk satu laporan. Buat laporan baru bila perlu."),
                format!("This report has received {MAX_REPLIES} replies, the most one report takes. File a new report if needed."),
            ),
        }
    }
}

impl Report {
    fn step(
        &self,
        now: DateTime<Utc>,
        kind: EventKind,
        hop: Hop,
        public: bool,
        change: impl FnOnce(&mut Report),
    ) -> (Report, Event) {
        let (mut next, at) = self.next(now);
        change(&mut next);
        next.last_event = Some(kind);
        let mut event = self.hop_event(&next, kind, hop, at);
        event.public = public;
        event.from_agency = None;
        event.to_agency = None;
        (next, event)
    }

    /// An agency's follow-up moving the report to `to` (diproses, selesai or tertunda).
    pub fn follow_up(
        &self,
        to: Status,
        hop: Hop,
        resume_at: Option<DateTime<FixedOffset>>,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), TransitionError> {
        if !matches!(to, Status::Diproses | Status::Selesai | Status::Tertunda) {
            return Err(TransitionError {
                from: self.status,
                to,
                allowed: self.status.allowed_next(),
            });
        }
        self.status.transition(to)?;
        let zone = self.region.zone();
        let sla = deadlines.sla(self.category);
        Ok(self.step(now, EventKind::FollowUp, hop, true, |next| {
            let at = now.with_timezone(&zone.offset());
            if next.first_response_at.is_none() {
                next.first_response_at = Some(at);
                next.responded_on_time = self.due_at.is_none_or(|due| at <= due);
            }
            next.status = to;
            next.overdue = false;
            next.resume_at = None;
            next.final_at = None;
            let completion = self.forwarded_at.unwrap_or(self.created_at)
                + Duration::days(i64::from(sla.completion_days));
            next.due_at = match to {
                Status::Selesai => {
                    let last_word =
                        self.working_days_due(now, sla.reporter_silence_working_days, deadlines);
                    next.final_at = Some(last_word);
                    Some(last_word)
                }
                Status::Tertunda => {
                    next.resume_at = resume_at;
                    Some(resume_at.map_or(completion, |r| r.min(completion)))
                }
                _ => Some(completion),
            };
        }))
    }

    /// The sweep found the current deadline passed: flag it red, raise the escalation level (at
    /// most 3) and start the next reminder period.
    pub fn escalate(&self, now: DateTime<Utc>, deadlines: &Deadlines) -> (Report, Event) {
        let level = (self.escalation + 1).min(3);
        let reminder = deadlines.sla(self.category).reminder_working_days;
        let hop = Hop {
            actor: Actor::System,
            by: None,
            message: Some(format!("Melewati tenggat: eskalasi tingkat {level}.")),
        };
        self.step(now, EventKind::Escalated, hop, true, |next| {
            next.overdue = true;
            next.escalation = level;
            next.due_at = Some(self.working_days_due(now, reminder, deadlines));
        })
    }

    /// The reporter stayed silent after `selesai`: the report is final.
    pub fn close_final(
        &self,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), TransitionError> {
        self.status.transition(Status::Arsip)?;
        let days = deadlines.sla(self.category).reporter_silence_working_days;
        let hop = Hop {
            actor: Actor::System,
            by: None,
            message: Some(format!(
                "Selesai: tidak ada tanggapan pelapor dalam {days} hari kerja."
            )),
        };
        Ok(self.step(now, EventKind::Closed, hop, true, |next| {
            next.status = Status::Arsip;
            next.due_at = None;
            next.final_at = None;
        }))
    }

    /// Closes the report without action (spam, duplicate, not a complaint).
    pub fn archive(
        &self,
        hop: Hop,
        now: DateTime<Utc>,
    ) -> Result<(Report, Event), TransitionError> {
        self.status.transition(Status::Arsip)?;
        Ok(self.step(now, EventKind::Archived, hop, true, |next| {
            next.status = Status::Arsip;
            next.due_at = None;
            next.overdue = false;
            next.triage = false;
        }))
    }

    /// The reporter answers. Saying it is not solved reopens a `selesai` report that is not yet
    /// final; any other reply is a message for the agency.
    pub fn reply(
        &self,
        message: String,
        not_solved: bool,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), ReporterError> {
        self.reply_within(message, not_solved, now, deadlines, DEFAULT_REPLIES_PER_DAY)
    }

    /// A reply from the reporter, at most `per_day` a local day and [`MAX_REPLIES`] in all.
    pub fn reply_within(
        &self,
        message: String,
        not_solved: bool,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
        per_day: u32,
    ) -> Result<(Report, Event), ReporterError> {
        let counted = self.count_reply(now, per_day)?;
        let (next, event) = self.reply_step(message, not_solved, now, deadlines)?;
        Ok((counted(next), event))
    }

    /// Checks the caps; the returned function records the reply on the next version.
    fn count_reply(
        &self,
        now: DateTime<Utc>,
        per_day: u32,
    ) -> Result<impl FnOnce(Report) -> Report, ReporterError> {
        if self.replies >= MAX_REPLIES {
            return Err(ReporterError::TooManyReplies(ReplyLimit::Total));
        }
        let local = now.with_timezone(&self.region.zone().offset());
        let day = local.date_naive();
        let today = if self.reply_day == Some(day) {
            self.replies_that_day
        } else {
            0
        };
        if today >= per_day {
            let midnight = day
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|t| t.and_local_timezone(*local.offset()).single());
            let retry_after_secs = midnight
                .map(|m| (m - local).num_seconds().max(1))
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(24 * 60 * 60);
            return Err(ReporterError::TooManyReplies(ReplyLimit::Daily {
                per_day,
                retry_after_secs,
            }));
        }
        Ok(move |mut next: Report| {
            next.replies += 1;
            next.reply_day = Some(day);
            next.replies_that_day = today + 1;
            next
        })
    }

    fn reply_step(
        &self,
        message: String,
        not_solved: bool,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> Result<(Report, Event), ReporterError> {
        let hop = Hop {
            actor: Actor::Reporter,
            by: None,
            message: Some(message),
        };
        if !not_solved {
            return Ok(self.step(now, EventKind::Reply, hop, false, |_| {}));
        }
        let at = now.with_timezone(&self.region.zone().offset());
        let still_open = self.status == Status::Selesai && self.final_at.is_some_and(|f| at < f);
        if !still_open {
            let days = deadlines.sla(self.category).reporter_silence_working_days;
            return Err(ReporterError::Invalid(Invalid::field(
                "not_solved",
                "cannot_reopen",
                format!("Laporan hanya dapat dibuka kembali dalam {days} hari kerja setelah dinyatakan selesai."),
                format!("A report can only be reopened within {days} working days of being marked done."),
            )));
        }
        self.status
            .transition(Status::Diproses)
            .map_err(ReporterError::Transition)?;
        let due = self.working_days_due(
            now,
            deadlines.sla(self.category).follow_up_working_days,
            deadlines,
        );
        Ok(self.step(now, EventKind::Reply, hop, false, |next| {
            next.status = Status::Diproses;
            next.final_at = None;
            next.due_at = Some(due);
        }))
    }

    /// The reporter rates the outcome: once, and only once the agency reports it done.
    pub fn rate(
        &self,
        rating: Rating,
        now: DateTime<Utc>,
    ) -> Result<(Report, Event), ReporterError> {
        if self.status != Status::Selesai
            && !(self.status == Status::Arsip && self.first_response_at.is_some())
        {
            return Err(ReporterError::Invalid(Invalid::field(
                "stars",
                "not_done_yet",
                "Penilaian hanya dapat diberikan setelah laporan selesai.",
                "A rating can only be given once the report is done.",
            )));
        }
        if self.rating.is_some() {
            return Err(ReporterError::Invalid(Invalid::field(
                "stars",
                "already_rated",
                "Laporan ini sudah dinilai.",
                "This report has already been rated.",
            )));
        }
        let hop = Hop {
            actor: Actor::Reporter,
            by: None,
            message: rating.comment.clone(),
        };
        Ok(self.step(now, EventKind::Rating, hop, false, |next| {
            next.rating = Some(rating)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::{ServiceLevels, WorkCalendar};
    use crate::{AgencyId, Category, Channel, ReportDraft};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .expect("time")
    }

    fn forwarded() -> Report {
        let json = serde_json::json!({
            "type": "pengaduan", "title": "Jalan berlubang", "category": "infrastruktur",
            "description": "Lubang besar di depan pasar sudah dua minggu.", "region": "32.74", "privacy": "publik"
        });
        let new = ReportDraft(json.as_object().expect("object"))
            .validate(Channel::Web)
            .expect("valid");
        let code = crate::TrackingCode::generate(&mut rand::rng());
        let (report, _, _) = Report::open(
            new,
            code,
            crate::AccessKeyHash("h".into()),
            utc("2026-11-30T02:00:00Z"),
            &plain(),
        );
        let hop = Hop {
            actor: Actor::System,
            by: None,
            message: None,
        };
        report
            .forward(
                &AgencyId::parse("kota-cirebon-dpupr").expect("id"),
                hop,
                utc("2026-11-30T02:00:00Z"),
                &plain(),
            )
            .expect("forward")
            .0
    }

    /// Weekends only, and the bundled service levels.
    fn plain() -> Deadlines {
        Deadlines {
            calendar: WorkCalendar::default(),
            levels: ServiceLevels::bundled(),
        }
    }

    fn officer() -> Hop {
        Hop {
            actor: Actor::Officer,
            by: AgencyId::parse("kota-cirebon-dpupr").ok(),
            message: Some("Sedang ditangani.".into()),
        }
    }

    /// The forwarded report after the agency's follow-up to `to` at `at`.
    fn answered(to: Status, at: &str, deadlines: &Deadlines) -> Report {
        forwarded()
            .follow_up(to, officer(), None, utc(at), deadlines)
            .expect("ok")
            .0
    }

    #[test]
    fn the_first_follow_up_records_whether_it_was_on_time() {
        let cal = plain();
        let on_time = answered(Status::Diproses, "2026-12-01T02:00:00Z", &cal);
        assert!(on_time.responded_on_time);
        assert_eq!(
            on_time.due_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2027-01-29T09:00:00+07:00")
        );
        let late = answered(Status::Diproses, "2026-12-10T02:00:00Z", &cal);
        assert!(!late.responded_on_time);
    }

    #[test]
    fn replies_are_capped_per_local_day_and_per_report() {
        let cal = plain();
        let mut report = forwarded();
        // 23:00 WIB on 1 December: the local day ends in an hour.
        let late_evening = utc("2026-12-01T16:00:00Z");
        for n in 1..=3 {
            report = report
                .reply_within(format!("Balasan {n}"), false, late_evening, &cal, 3)
                .expect("under the cap")
                .0;
        }
        assert_eq!((report.replies, report.replies_that_day), (3, 3));
        let refused = report.reply_within("Lagi".into(), false, late_evening, &cal, 3);
        assert_eq!(
            refused,
            Err(ReporterError::TooManyReplies(ReplyLimit::Daily {
                per_day: 3,
                retry_after_secs: 3600
            }))
        );
        // Past local midnight the day's count starts again; the total does not.
        let next_day = utc("2026-12-01T17:00:00Z");
        let (next, _) = report
            .reply_within("Hari baru".into(), false, next_day, &cal, 3)
            .expect("a new local day");
        assert_eq!((next.replies, next.replies_that_day), (4, 1));

        let mut full = forwarded();
        full.replies = MAX_REPLIES;
        assert_eq!(
            full.reply_within("Satu lagi".into(), false, next_day, &cal, 3),
            Err(ReporterError::TooManyReplies(ReplyLimit::Total))
        );
    }

    #[test]
    fn done_then_reopened_within_ten_working_days_only() {
        let cal = plain();
        let done = answered(Status::Selesai, "2026-12-01T02:00:00Z", &cal);
        assert_eq!(
            done.final_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-12-15T09:00:00+07:00")
        );
        let reopened = done
            .reply(
                "Belum diperbaiki.".into(),
                true,
                utc("2026-12-08T02:00:00Z"),
                &cal,
            )
            .expect("reopen")
            .0;
        assert_eq!(reopened.status, Status::Diproses);
        let too_late = done.reply("Belum.".into(), true, utc("2026-12-16T02:00:00Z"), &cal);
        assert!(matches!(too_late, Err(ReporterError::Invalid(e)) if e.code == "cannot_reopen"));
    }

    #[test]
    fn a_rating_comes_once_and_only_after_done() {
        let cal = plain();
        let rating = Rating {
            stars: 5,
            comment: None,
        };
        assert!(forwarded()
            .rate(rating.clone(), utc("2026-12-01T02:00:00Z"))
            .is_err());
        let done = answered(Status::Selesai, "2026-12-01T02:00:00Z", &cal);
        let rated = done
            .rate(rating.clone(), utc("2026-12-02T02:00:00Z"))
            .expect("rate")
            .0;
        assert!(
            matches!(rated.rate(rating, utc("2026-12-03T02:00:00Z")), Err(ReporterError::Invalid(e)) if e.code == "already_rated")
        );
    }

    #[test]
    fn follow_ups_cannot_jump_to_other_statuses() {
        let cal = plain();
        let err = forwarded().follow_up(
            Status::BukanWewenang,
            officer(),
            None,
            utc("2026-12-01T02:00:00Z"),
            &cal,
        );
        assert!(err.is_err());
        let archived = forwarded()
            .archive(officer(), utc("2026-12-01T02:00:00Z"))
            .expect("archive")
            .0;
        assert!(archived
            .follow_up(
                Status::Diproses,
                officer(),
                None,
                utc("2026-12-02T02:00:00Z"),
                &cal
            )
            .is_err());
    }

    #[test]
    fn texts_that_state_a_duration_read_it_from_the_service_levels() {
        let levels = ServiceLevels::from_json(
            r#"{"defaults": {"verify_working_days": 3, "follow_up_working_days": 5,
                "completion_days": 60, "reporter_silence_working_days": 10,
                "reminder_working_days": 2},
               "overrides": {"infrastruktur": {"reporter_silence_working_days": 7}}}"#,
        )
        .expect("valid levels");
        assert_eq!(
            levels
                .for_category(Category::Infrastruktur)
                .reporter_silence_working_days,
            7
        );
        assert_eq!(
            levels
                .for_category(Category::Kesehatan)
                .reporter_silence_working_days,
            10
        );
        let deadlines = Deadlines {
            calendar: WorkCalendar::default(),
            levels,
        };
        let done = answered(Status::Selesai, "2026-12-01T02:00:00Z", &deadlines);
        // Tuesday 1 December + 7 working days = Thursday 10 December.
        assert_eq!(
            done.final_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-12-10T09:00:00+07:00")
        );
        let (_, closed) = done
            .close_final(utc("2026-12-11T02:00:00Z"), &deadlines)
            .expect("close");
        assert_eq!(
            closed.message.as_deref(),
            Some("Selesai: tidak ada tanggapan pelapor dalam 7 hari kerja.")
        );
        let refused = done.reply(
            "Belum.".into(),
            true,
            utc("2026-12-11T02:00:00Z"),
            &deadlines,
        );
        assert!(
            matches!(&refused, Err(ReporterError::Invalid(e)) if e.message.id.contains("7 hari kerja") && e.message.en.contains("7 working days")),
            "{refused:?}"
        );
    }
}
