//! The notify function: turns each report change into the messages people need — the reporter's
//! receipt and each agency answer by SMS and by e-mail, the agency's "you have a report", the
//! central admin's "waiting in triage" and "returned as not our authority". Fed by the table's
//! stream; each message is sent once per change even when a record is delivered twice, and never
//! lost: a mark in the table, written once the message went out, so a crash before it means the
//! retry sends again (a rare duplicate).

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::streams::DynamoDbEventResponse;
use lapor_core::access_key::{MAIL_OUT, SMS_OUT};
use lapor_core::{
    AgencyId, Channel, Clock, ContactKeys, Email, EventKind, KeyPepper, RateWindow, Report,
    Reporter, ServiceLevels, Status,
};
use lapor_notifier::{mail, AgencyMessage, EventType, Mailer, Notifier};
use lapor_store::{
    at_least_once, handle_changes, AgencyDirectory, Marks, Pepper, ReportChange, ReporterIdentity,
    Reports, StoreError, Stores,
};
use tokio::sync::OnceCell;

/// Marks live long enough to outlast any stream retry (records live 24 hours).
const MARK_TTL_SECS: i64 = 2 * 24 * 60 * 60;

/// Notify reads the reporter's phone and e-mail, the directory (who is above whom) and an
/// answered report's timeline (the answer's own words for the e-mail), and marks what it has
/// sent; it never changes a report.
#[derive(Clone)]
pub struct Deps {
    /// Read only: the timeline holding an agency's answer.
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub marks: Arc<dyn Marks>,
    pub notifier: Arc<dyn Notifier>,
    /// E-mail to reporters; `None` (the stack's `MailFrom` empty): no e-mail at all.
    pub mailer: Option<Arc<dyn Mailer>>,
    pub clock: Arc<dyn Clock>,
    /// The service levels the messages quote.
    pub levels: ServiceLevels,
    /// The central admin's agency id, which triage and returns notify.
    pub central: AgencyId,
    /// The external oversight body (Ombudsman RI), copied on the last escalation level.
    pub oversight: AgencyId,
    /// SMS one number may receive from notify per day (`SMS_DAILY_LIMIT`); later ones are skipped.
    pub sms_daily_limit: u64,
    /// E-mails one address may receive from notify per day; later ones are skipped.
    pub mail_daily_limit: u64,
    /// Keys the per-number and per-address counters (never a plain hash of either) of reporters
    /// filed before intake stored those keys with them; read only for such a reporter.
    pub pepper: Pepper,
}

/// Outbound SMS one number may get from notify per day unless the deployment says otherwise.
pub const DEFAULT_SMS_DAILY_LIMIT: u64 = 10;
/// E-mails one address may get from notify per day: enough for a reporter's own day, too few for
/// anyone to flood someone else's mailbox by filing reports in their name.
pub const DEFAULT_MAIL_DAILY_LIMIT: u64 = 10;
const DAY_SECS: i64 = 24 * 60 * 60;

impl Deps {
    pub fn new(
        stores: &Stores,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        central: AgencyId,
        oversight: AgencyId,
        pepper: impl Into<Pepper>,
    ) -> Self {
        Self {
            reports: stores.reports.clone(),
            identity: stores.identity.clone(),
            directory: stores.directory.clone(),
            marks: stores.marks.clone(),
            notifier,
            mailer: None,
            clock,
            levels: ServiceLevels::bundled(),
            central,
            oversight,
            sms_daily_limit: DEFAULT_SMS_DAILY_LIMIT,
            mail_daily_limit: DEFAULT_MAIL_DAILY_LIMIT,
            pepper: pepper.into(),
        }
    }

    /// Another daily per-number SMS cap than the default.
    pub fn with_sms_daily_limit(mut self, limit: u64) -> Self {
        self.sms_daily_limit = limit;
        self
    }

    /// Reporters who gave an e-mail get their receipt and each answer by e-mail too.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Another daily per-address e-mail cap than the default.
    pub fn with_mail_daily_limit(mut self, limit: u64) -> Self {
        self.mail_daily_limit = limit;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] lapor_notifier::NotifyError),
    /// The change's answer is not on the timeline yet; the record is retried.
    #[error("the answer of report {0} (timeline entry {1}) was not found")]
    AnswerNotFound(String, u64),
}

/// One thing to send.
enum Outgoing {
    ReceiptSms,
    /// The agency answered or the status changed: the reporter hears of it.
    StatusSms,
    ReceiptMail,
    /// The agency's answer, in its own words.
    AnswerMail,
    Topic(Box<AgencyMessage>),
}

/// The reporter of one report, read at most once however many messages a change sends them.
struct Contact<'a> {
    deps: &'a Deps,
    report: &'a Report,
    reporter: OnceCell<Option<(Reporter, ContactKeys)>>,
}

impl Contact<'_> {
    /// The reporter, if they want to be told, and the keys their messages are counted under.
    async fn reporter(&self) -> Result<Option<&(Reporter, ContactKeys)>, StoreError> {
        let read = self
            .reporter
            .get_or_try_init(|| {
                self.deps
                    .identity
                    .reporter_with_keys(&self.report.tracking_code)
            })
            .await?;
        Ok(read.as_ref().filter(|(r, _)| r.notifications))
    }

    /// Counts one more message to a reporter's address today under `purpose`; returns how many
    /// it has had. The key is the one stored with the reporter when the report was filed; only
    /// a reporter filed before those were kept needs the server secret (`keyed`) now.
    async fn count_today(
        &self,
        purpose: &str,
        stored: Option<&String>,
        keyed: impl FnOnce(&KeyPepper) -> String,
    ) -> Result<u64, NotifyFailure> {
        let deps = self.deps;
        let now = deps.clock.now().timestamp();
        let key = match stored {
            Some(key) => key.clone(),
            None => keyed(deps.pepper.get().await?),
        };
        let day = RateWindow::keyed(purpose, &key, now, DAY_SECS);
        Ok(deps.marks.count_hit(&day.key, now, DAY_SECS).await?)
    }
}

/// Sends what a change calls for; returns how many messages went out this time.
pub async fn notify_change(deps: &Deps, change: &ReportChange) -> Result<usize, NotifyFailure> {
    let Some(new) = &change.new else { return Ok(0) };
    let mut sent = 0;
    let mut messages = outgoing(deps, change.old.as_ref(), new);
    if change.old.is_some() && new.last_event == Some(EventKind::Escalated) {
        messages.extend(escalation(deps, new).await?);
    }
    let contact = Contact {
        deps,
        report: new,
        reporter: OnceCell::new(),
    };
    let mut failure = None;
    for (kind, outgoing) in messages {
        let key = format!("{}#v{}#{kind}", new.tracking_code, new.version);
        let now = deps.clock.now().timestamp();
        let done = at_least_once(deps.marks.as_ref(), &key, now, MARK_TTL_SECS, || {
            send(&contact, outgoing)
        })
        .await;
        match done {
            Ok(done) => sent += usize::from(done.is_some()),
            // One channel failing (SES throttled, say) must not hold back the others: the record
            // is retried for it, and the marks keep what went out from going twice.
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    failure.map_or(Ok(sent), Err)
}

fn outgoing(deps: &Deps, old: Option<&Report>, new: &Report) -> Vec<(&'static str, Outgoing)> {
    let mut out = Vec::new();
    let code = &new.tracking_code;
    // An SMS report's receipt is the sms function's own reply, sent as it answers the message.
    if old.is_none() && new.channel != Channel::Sms {
        out.push(("received", Outgoing::ReceiptSms));
        if deps.mailer.is_some() {
            out.push(("received-mail", Outgoing::ReceiptMail));
        }
    }
    let was = |f: &dyn Fn(&Report) -> bool| old.is_some_and(f);
    // A returned report is announced as returned (below), not a second time as triage.
    if new.triage && new.status == Status::Diterima && !was(&|r| r.triage) {
        out.push((
            "triage",
            Outgoing::Topic(Box::new(AgencyMessage::about(
                new,
                EventType::Triage,
                &deps.central,
                format!("Laporan {code} menunggu verifikasi dan disposisi admin pusat."),
                format!("Report {code} awaits verification and forwarding by the central admin."),
            ))),
        ));
    }
    if let Some(agency) = new.agency.as_ref() {
        let moved = !was(&|r| r.agency.as_ref() == Some(agency));
        if new.status == Status::Terdisposisi && moved {
            let days = deps
                .levels
                .for_category(new.category)
                .follow_up_working_days;
            out.push((
                "forwarded",
                Outgoing::Topic(Box::new(AgencyMessage::about(
                    new,
                    EventType::Forwarded,
                    agency,
                    format!("Laporan {code} diteruskan kepada instansi Anda. Mohon ditindaklanjuti dalam {days} hari kerja."),
                    format!("Report {code} was forwarded to your agency. Please follow up within {days} working days."),
                ))),
            ));
        }
    }
    if old.is_some() {
        let answered = conversation(new);
        let is_answer = matches!(answered, Some((_, Outgoing::StatusSms)));
        out.extend(answered);
        if is_answer && deps.mailer.is_some() {
            out.push(("answer-mail", Outgoing::AnswerMail));
        }
    }
    if new.status == Status::BukanWewenang && !was(&|r| r.status == Status::BukanWewenang) {
        out.push((
            "returned",
            Outgoing::Topic(Box::new(AgencyMessage::about(
                new,
                EventType::Returned,
                &deps.central,
                format!("Laporan {code} dikembalikan karena bukan wewenang instansi. Mohon disposisi ulang."),
                format!("Report {code} was returned as outside the agency's authority. Please forward it again."),
            ))),
        ));
    }
    out
}

/// The agency answering the reporter, and the reporter answering the agency.
fn conversation(new: &Report) -> Option<(&'static str, Outgoing)> {
    let code = &new.tracking_code;
    let agency = new.agency.as_ref();
    match (new.last_event, agency) {
        (Some(EventKind::FollowUp | EventKind::Archived), _) => {
            Some(("answer", Outgoing::StatusSms))
        }
        (Some(EventKind::Reply), Some(agency)) => Some((
            "reply",
            Outgoing::Topic(Box::new(AgencyMessage::about(
                new,
                EventType::Reply,
                agency,
                format!(
                    "Pelapor membalas laporan {code}. Lihat percakapan di kotak masuk instansi."
                ),
                format!(
                    "The reporter replied on report {code}. See the conversation in your inbox."
                ),
            ))),
        )),
        (Some(EventKind::Evidence), Some(agency)) => Some((
            "evidence",
            Outgoing::Topic(Box::new(AgencyMessage::about(
                new,
                EventType::Evidence,
                agency,
                format!("Bukti baru (berkas yang sudah diperiksa) dilampirkan pada laporan {code}. Lihat di kotak masuk instansi."),
                format!("New evidence (a checked file) was attached to report {code}. See it in your inbox."),
            ))),
        )),
        (Some(EventKind::Rating), Some(agency)) => {
            let stars = new.rating.as_ref().map_or(0, |r| r.stars);
            Some((
                "rating",
                Outgoing::Topic(Box::new(AgencyMessage::about(
                    new,
                    EventType::Rating,
                    agency,
                    format!("Pelapor memberi nilai {stars}/5 untuk penanganan laporan {code}."),
                    format!("The reporter rated the handling of report {code} {stars}/5."),
                ))),
            ))
        }
        _ => None,
    }
}

/// Who hears of an escalation: level 1 the agency, level 2 its parent, level 3 the central admin
/// with the Ombudsman copied. A report nobody holds yet (triage) goes to the central admin.
async fn escalation(
    deps: &Deps,
    new: &Report,
) -> Result<Vec<(&'static str, Outgoing)>, NotifyFailure> {
    let agency = new.agency.clone();
    let mut targets = match (new.escalation, agency) {
        (1, Some(agency)) => vec![agency],
        (2, Some(agency)) => {
            let parent = deps.directory.agency(&agency).await?.and_then(|a| a.parent);
            vec![parent.unwrap_or_else(|| deps.central.clone())]
        }
        (level, Some(_)) if level >= 3 => vec![deps.central.clone(), deps.oversight.clone()],
        _ => vec![deps.central.clone()],
    };
    targets.dedup();
    let code = &new.tracking_code;
    let level = new.escalation;
    let kinds = ["overdue-1", "overdue-2"];
    Ok(targets
        .into_iter()
        .zip(kinds)
        .map(|(target, kind)| {
            let message = AgencyMessage::about(
                new,
                EventType::Overdue,
                &target,
                format!("Laporan {code} melewati tenggat (eskalasi tingkat {level}). Mohon segera ditindaklanjuti."),
                format!("Report {code} is past its deadline (escalation level {level}). Please act on it now."),
            );
            (kind, Outgoing::Topic(Box::new(message)))
        })
        .collect())
}

async fn send(contact: &Contact<'_>, outgoing: Outgoing) -> Result<(), NotifyFailure> {
    let (deps, report) = (contact.deps, contact.report);
    match outgoing {
        Outgoing::Topic(message) => Ok(deps.notifier.publish(&message).await?),
        Outgoing::ReceiptSms => {
            let code = &report.tracking_code;
            let text = format!(
                "LAPOR! Laporan Anda diterima. Kode: {code}. Cek status: kirim CEK {code} ke 1708."
            );
            sms_reporter(contact, &text).await
        }
        Outgoing::StatusSms => {
            let code = &report.tracking_code;
            let text = format!(
                "LAPOR! {code}: status {} ({}). Lihat tanggapan instansi: kirim CEK {code} ke 1708.",
                report.status.as_str().to_uppercase().replace('_', " "),
                report.color().word()
            );
            sms_reporter(contact, &text).await
        }
        Outgoing::ReceiptMail => {
            let Some(to) = mail_to(contact).await? else {
                return Ok(());
            };
            let sla = deps.levels.for_category(report.category);
            send_mail(deps, &mail::receipt_mail(report, &sla, to)).await
        }
        Outgoing::AnswerMail => {
            let Some(to) = mail_to(contact).await? else {
                return Ok(());
            };
            let answer = answer_of(deps, report).await?;
            send_mail(deps, &mail::answer_mail(report, answer.as_deref(), to)).await
        }
    }
}

/// The words of the agency's answer that made this version: the timeline entry the same write
/// added (its position is the version), read consistently, so it is there once the change is.
async fn answer_of(deps: &Deps, report: &Report) -> Result<Option<String>, NotifyFailure> {
    let missing =
        || NotifyFailure::AnswerNotFound(report.tracking_code.to_string(), report.version);
    let found = deps
        .reports
        .report_with_timeline(&report.tracking_code)
        .await?
        .ok_or_else(missing)?;
    found
        .timeline
        .into_iter()
        .find(|e| {
            e.seq == report.version && matches!(e.kind, EventKind::FollowUp | EventKind::Archived)
        })
        .map(|e| e.message)
        .ok_or_else(missing)
}

/// The reporter's address, if they gave one, want to be told, and have not had the day's share.
async fn mail_to(contact: &Contact<'_>) -> Result<Option<Email>, NotifyFailure> {
    let deps = contact.deps;
    let Some((reporter, keys)) = contact.reporter().await? else {
        return Ok(None);
    };
    let Some(email) = &reporter.email else {
        return Ok(None);
    };
    let sent = contact
        .count_today(MAIL_OUT, keys.mail_out.as_ref(), |p| p.mail_out_key(email))
        .await?;
    if sent > deps.mail_daily_limit {
        tracing::warn!(tracking_code = %contact.report.tracking_code, sent, "daily e-mail cap for this address reached; e-mail skipped");
        println!(
            "{}",
            skipped_metric(
                "MailSkipped",
                "daily_cap",
                deps.clock.now().timestamp_millis()
            )
        );
        return Ok(None);
    }
    Ok(Some(email.clone()))
}

async fn send_mail(deps: &Deps, mail: &lapor_notifier::Mail) -> Result<(), NotifyFailure> {
    match &deps.mailer {
        Some(mailer) => Ok(mailer.send(mail).await?),
        None => Ok(()),
    }
}

/// An SMS to the reporter, if they gave a phone and want to be told.
async fn sms_reporter(contact: &Contact<'_>, text: &str) -> Result<(), NotifyFailure> {
    let (deps, report) = (contact.deps, contact.report);
    let Some((reporter, keys)) = contact.reporter().await? else {
        return Ok(());
    };
    let Some(phone) = &reporter.phone else {
        return Ok(());
    };
    if !phone.is_indonesian_mobile() {
        // Kept as contact data; the receipt told the reporter no SMS would come.
        tracing::info!(tracking_code = %report.tracking_code, "no SMS to a number that is not an Indonesian mobile");
        println!(
            "{}",
            sms_skipped_metric("not_indonesian_mobile", deps.clock.now().timestamp_millis())
        );
        return Ok(());
    }
    let sent = contact
        .count_today(SMS_OUT, keys.sms_out.as_ref(), |p| p.sms_out_key(phone))
        .await?;
    if sent > deps.sms_daily_limit {
        tracing::warn!(tracking_code = %report.tracking_code, to = %phone.masked(), sent, "daily SMS cap for this number reached; SMS skipped");
        println!(
            "{}",
            sms_skipped_metric("daily_cap", deps.clock.now().timestamp_millis())
        );
        return Ok(());
    }
    Ok(deps.notifier.sms(phone, text).await?)
}

/// A CloudWatch embedded-metric line: one SMS skipped, and why (`Lapor/SmsSkipped`).
pub fn sms_skipped_metric(reason: &str, timestamp_ms: i64) -> String {
    skipped_metric("SmsSkipped", reason, timestamp_ms)
}

/// One message skipped, and why, as the metric `Lapor/<metric>` (`SmsSkipped`, `MailSkipped`).
fn skipped_metric(metric: &str, reason: &str, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "Lapor",
                "Dimensions": [["Reason"]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        "Reason": reason,
        metric: 1,
    })
    .to_string()
}

/// The Lambda handler: notifies for every report change in the batch, reporting failed records.
pub async fn handle_event(deps: &Deps, event: &Event) -> DynamoDbEventResponse {
    handle_changes(event, |change| async move {
        notify_change(deps, &change).await.map(drop)
    })
    .await
}
