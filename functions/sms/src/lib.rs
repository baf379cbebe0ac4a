//! The SMS 1708 channel. Two-way SMS delivers each inbound text as an SNS notification; this
//! function reads it (grammar in `lapor_core::sms`), acts as the web would — a new report, a status
//! check, the reporter's reply — and answers by SMS through the notification path.
//!
//! Deliveries are at-least-once. A new report and its idempotency record (keyed by the
//! message's `inboundMessageId`) are one write, so a second delivery finds the report instead of
//! making another; every reply is marked in the table once it went out, so a second delivery does
//! not send it again, and a crash before the mark means the retry sends it (a rare duplicate,
//! never a lost reply).
//!
//! The sender's number is the reporter's identity: it is stored as the reporter's contact, never
//! logged in full, and never used as a table key (the rate counter keys on its hash).

use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use lapor_core::lifecycle::ReporterError;
use lapor_core::sms::{self, Command, Keyword, Unclear, MAX_REPLY_SEGMENTS};
use lapor_core::{Actor, Channel, Clock, Deadlines, KeyPepper, Phone, ReportDraft, TrackingCode};
use lapor_notifier::Notifier;
use lapor_store::Pepper;
use lapor_store::{
    at_least_once, file_report, until_written, AgencyDirectory, Attempt, Conflict, Filed,
    IdempotencyKey, Marks, ReporterIdentity, Reports, StoreError, Stores,
};
use serde::Deserialize;
use serde_json::json;

/// Messages a sender may send in one hour before getting one polite refusal (then silence).
pub const DEFAULT_HOURLY_LIMIT: u64 = 10;
const HOUR_SECS: i64 = 60 * 60;
/// Reply marks outlive every retry of an SNS delivery to Lambda (hours at most).
const MARK_TTL_SECS: i64 = 2 * 24 * 60 * 60;
/// A report's title: the first words of the text.
const TITLE_CHARS: usize = 80;

/// SMS files and answers reports, so it holds reports and identity (is this phone the
/// reporter's?), the directory (the agency's name), and marks of the replies it sent.
#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub identity: Arc<dyn ReporterIdentity>,
    pub directory: Arc<dyn AgencyDirectory>,
    pub marks: Arc<dyn Marks>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub deadlines: Deadlines,
    /// The server secret: keys senders' numbers and message ids, derives SMS reports' access keys.
    pub pepper: Pepper,
    pub hourly_limit: u64,
    /// Replies one report takes from its reporter per local day (web and SMS together).
    pub replies_per_day: u32,
}

impl Deps {
    pub fn new(
        stores: &Stores,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        deadlines: Deadlines,
        pepper: impl Into<Pepper>,
        hourly_limit: u64,
    ) -> Self {
        Self {
            reports: stores.reports.clone(),
            identity: stores.identity.clone(),
            directory: stores.directory.clone(),
            marks: stores.marks.clone(),
            notifier,
            clock,
            deadlines,
            pepper: pepper.into(),
            hourly_limit,
            replies_per_day: lapor_core::lifecycle::DEFAULT_REPLIES_PER_DAY,
        }
    }

    /// Another daily reply cap than the default.
    pub fn with_replies_per_day(mut self, per_day: u32) -> Self {
        self.replies_per_day = per_day;
        self
    }
}

/// The two-way SMS inbound message, as SNS carries it in its `Message`. `{:?}` shows the sender's
/// last three digits and the text's length only: the number is identity, the text may name the
/// sender, and the message id is an input of the access key of a report filed by SMS.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSms {
    pub origination_number: String,
    #[serde(default)]
    pub destination_number: String,
    #[serde(default)]
    pub message_body: String,
    pub inbound_message_id: String,
}

impl std::fmt::Debug for InboundSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.origination_number.chars().count();
        let tail: String = self
            .origination_number
            .chars()
            .skip(digits.saturating_sub(3))
            .collect();
        f.debug_struct("InboundSms")
            .field("origination_number", &format_args!("…{tail}"))
            .field("destination_number", &self.destination_number)
            .field(
                "message_body",
                &format_args!("({} characters)", self.message_body.chars().count()),
            )
            .field("inbound_message_id", &format_args!("…"))
            .finish()
    }
}

/// What became of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Created(TrackingCode),
    Checked,
    Replied,
    Help,
    /// Not understood, or refused (not found, not the reporter, report closed): told why.
    Refused,
    /// Over the hourly limit: this message got the one refusal.
    RateLimited,
    /// Over the hourly limit and already refused, or from a number we cannot answer.
    Ignored,
    /// A second delivery of a message already answered.
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub action: Action,
    /// The SMS sent back (None when nothing was sent).
    pub reply: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] lapor_notifier::NotifyError),
    #[error("the SNS message is not an inbound SMS: {0}")]
    Malformed(String),
}

/// The Lambda handler: every record of the notification. A malformed message is logged and
/// dropped (retrying cannot mend it); a store or send failure fails the invocation so it retries.
pub async fn handle_event(deps: &Deps, event: &SnsEvent) -> Result<(), SmsFailure> {
    for record in &event.records {
        match serde_json::from_str::<InboundSms>(&record.sns.message) {
            Ok(inbound) => {
                handle_inbound(deps, &inbound).await?;
            }
            Err(e) => {
                tracing::error!(message_id = %record.sns.message_id, error = error_kind(&e), "not an inbound SMS; dropped");
            }
        }
    }
    Ok(())
}

/// A JSON error's kind only: its text could quote the message, which holds a phone number.
fn error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "missing or wrong field",
        serde_json::error::Category::Eof => "truncated",
    }
}

/// The inbound message id under the server secret. The raw id, with the (public) tracking code,
/// is what an SMS report's access key is derived from, so it never reaches a log line or a table
/// key: marks are keyed by this, and logs carry its first 12 characters to correlate lines.
fn message_key(pepper: &KeyPepper, inbound: &InboundSms) -> String {
    pepper.keyed_hex("sms-message", &inbound.inbound_message_id)
}

/// The first 12 characters of a [`message_key`], for log lines.
fn message_tag(message_key: &str) -> &str {
    message_key.get(..12).unwrap_or(message_key)
}

/// Handles one inbound SMS: acts on it and sends the reply (at most once per message).
pub async fn handle_inbound(deps: &Deps, inbound: &InboundSms) -> Result<Handled, SmsFailure> {
    let pepper = deps.pepper.get().await?;
    let message = message_key(pepper, inbound);
    let Ok(from) = Phone::parse(&inbound.origination_number) else {
        tracing::warn!(
            message = %message_tag(&message),
            "sender number is not a valid phone number; nothing done"
        );
        return Ok(nothing(Action::Ignored));
    };
    let now = deps.clock.now().timestamp();
    // Keyed with the server secret: a plain hash of the number would give every texter's number
    // back to anyone with the table or a backup, by trying every Indonesian mobile number.
    let window = pepper.rate_window("sms-rate", from.as_str(), now, HOUR_SECS);
    let sent = deps.marks.count_hit(&window.key, now, HOUR_SECS).await?;
    if sent > deps.hourly_limit {
        tracing::info!(from = %from.masked(), sent, "sender over the hourly limit");
        if sent == deps.hourly_limit + 1 {
            let text = format!(
                "LAPOR! Anda sudah mengirim {} SMS dalam 1 jam. Pesan berikutnya akan diproses setelah 1 jam. Terima kasih.",
                deps.hourly_limit
            );
            return reply_once(deps, &message, &from, Action::RateLimited, text).await;
        }
        return Ok(nothing(Action::Ignored));
    }
    let command = sms::parse(&inbound.message_body);
    tracing::info!(
        from = %from.masked(),
        message = %message_tag(&message),
        command = command_name(&command),
        "inbound SMS"
    );
    let (action, text) = match command {
        Command::Lapor { text, rahasia } => report(deps, inbound, &from, &text, rahasia).await?,
        Command::Cek { code } => check(deps, &from, &code).await?,
        Command::Balas { code, text } => {
            // A reply changes the report: act on each message once, even if delivered twice.
            let key = format!("sms-in#{message}");
            let answered = at_least_once(deps.marks.as_ref(), &key, now, MARK_TTL_SECS, || {
                answer(deps, &from, &code, text)
            })
            .await?;
            match answered {
                Some(done) => done,
                None => return Ok(nothing(Action::Duplicate)),
            }
        }
        Command::Bantuan => (Action::Help, help()),
        Command::Unclear(why) => (Action::Refused, unclear(why)),
    };
    reply_once(deps, &message, &from, action, text).await
}

fn nothing(action: Action) -> Handled {
    Handled {
        action,
        reply: None,
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Lapor { .. } => "lapor",
        Command::Cek { .. } => "cek",
        Command::Balas { .. } => "balas",
        Command::Bantuan => "bantuan",
        Command::Unclear(_) => "unclear",
    }
}

/// Sends `text` unless this message's reply already went out; a failed send is undone so the
/// retried delivery sends it.
async fn reply_once(
    deps: &Deps,
    message_key: &str,
    to: &Phone,
    action: Action,
    text: String,
) -> Result<Handled, SmsFailure> {
    let key = format!("sms-reply#{message_key}");
    let now = deps.clock.now().timestamp();
    let text = sms::fit(&text, MAX_REPLY_SEGMENTS);
    let sent = at_least_once(deps.marks.as_ref(), &key, now, MARK_TTL_SECS, || async {
        deps.notifier.sms(to, &text).await.map_err(SmsFailure::from)
    })
    .await?;
    Ok(match sent {
        Some(()) => Handled {
            action,
            reply: Some(text),
        },
        None => nothing(Action::Duplicate),
    })
}

/// `LAPOR <text>`: a new report, routed like a web report (the classifier reads the category).
async fn report(
    deps: &Deps,
    inbound: &InboundSms,
    from: &Phone,
    text: &str,
    rahasia: bool,
) -> Result<(Action, String), SmsFailure> {
    let place = sms::find_region(text);
    let draft = json!({
        "type": "pengaduan",
        "title": lapor_core::report::shorten(text, TITLE_CHARS),
        "description": text,
        "category": "lainnya",
        "region": place
            .as_ref()
            .map_or(lapor_core::region::ASSUMED_REGION, |r| r.as_str()),
        "privacy": if rahasia { "rahasia" } else { "publik" },
        "reporter": { "phone": from.as_str(), "notifications": true },
    });
    let Some(object) = draft.as_object() else {
        return Err(SmsFailure::Malformed("draft is not an object".into()));
    };
    let mut new = match ReportDraft(object).validate(Channel::Sms) {
        Ok(new) => new,
        Err(invalid) => {
            let reason = invalid.message.id.clone();
            return Ok((
                Action::Refused,
                format!(
                    "LAPOR! Laporan belum dapat diterima: {reason} Kirim BANTUAN untuk petunjuk."
                ),
            ));
        }
    };
    new.region_assumed = place.is_none();
    let now = deps.clock.now();
    let key = IdempotencyKey::new(
        "SMS",
        &inbound.inbound_message_id,
        inbound.message_body.as_bytes(),
    );
    let filed = file_report(
        deps.reports.as_ref(),
        &new,
        Some(&key),
        &deps.pepper,
        &deps.deadlines,
        now,
    )
    .await?;
    match filed {
        Filed::Created { report, .. } => {
            let code = report.tracking_code;
            tracing::info!(tracking_code = %code, region_known = place.is_some(), "report received by SMS");
            let text = receipt(&code, place.is_none());
            Ok((Action::Created(code), text))
        }
        Filed::KeyTaken => {
            // An earlier delivery of this message made the report: answer with its code.
            let record = deps
                .reports
                .idempotency_record(key.key_hash(), now.timestamp())
                .await?
                .ok_or_else(|| StoreError::Backend("idempotency record vanished".into()))?;
            let code = record.tracking_code;
            let assumed = deps
                .reports
                .report(&code)
                .await?
                .is_some_and(|r| r.region_assumed);
            let text = receipt(&code, assumed);
            Ok((Action::Created(code), text))
        }
    }
}

fn receipt(code: &TrackingCode, place_unknown: bool) -> String {
    let mut text = format!(
        "LAPOR! Laporan Anda diterima. Kode: {code}. Cek status: kirim CEK {code} ke 1708."
    );
    if place_unknown {
        text.push_str(&format!(" Sebutkan kota/kabupaten: BALAS {code} <lokasi>."));
    }
    text
}

/// `CEK <code>`: status, colour, agency and the last public answer. A secret report answers only
/// its own reporter's phone; to anyone else it does not exist.
async fn check(
    deps: &Deps,
    from: &Phone,
    code: &TrackingCode,
) -> Result<(Action, String), SmsFailure> {
    let Some(full) = deps.reports.report_with_timeline(code).await? else {
        return Ok((Action::Refused, not_found(code)));
    };
    let report = &full.report;
    if report.privacy.hides_report() && !is_reporter(deps, from, code).await? {
        return Ok((Action::Refused, not_found(code)));
    }
    let agency = match &report.agency {
        Some(id) => deps.directory.agency(id).await?.map(|a| a.name),
        None => None,
    };
    let head = format!(
        "LAPOR! {code}: {} ({}){}.",
        report.status.as_str().to_uppercase().replace('_', " "),
        report.color().word(),
        agency.map(|a| format!(", {a}")).unwrap_or_default()
    );
    let answer = full
        .timeline
        .iter()
        .rev()
        .find(|e| e.public && e.actor == Actor::Officer && e.message.is_some())
        .and_then(|e| e.message.clone());
    let text = match answer {
        // One segment when the answer fits it; a long answer may use the three.
        Some(answer) => {
            let full_text = format!("{head} Jawaban: {answer}");
            let short = sms::fit(&full_text, 1);
            if sms::segments(&full_text) > 1 && short.len() < head.len() + 40 {
                full_text
            } else {
                short
            }
        }
        None => format!("{head} Belum ada jawaban."),
    };
    Ok((Action::Checked, text))
}

/// `BALAS <code> <text>`: the reporter's reply, from the phone the report was made with;
/// decided again on a fresh read when another write to the report came first.
async fn answer(
    deps: &Deps,
    from: &Phone,
    code: &TrackingCode,
    text: String,
) -> Result<(Action, String), SmsFailure> {
    if !is_reporter(deps, from, code).await? {
        // As if it did not exist (no report has no reporter): a stranger learns nothing about
        // whose report it is. Checked once: who filed a report never changes.
        return Ok((Action::Refused, not_found(code)));
    }
    let text = &text;
    let answered = until_written(|| async move {
        let Some(report) = deps.reports.report(code).await? else {
            return Ok(Attempt::Done((Action::Refused, not_found(code))));
        };
        let step = report.reply_within(
            text.clone(),
            false,
            deps.clock.now(),
            &deps.deadlines,
            deps.replies_per_day,
        );
        let refusal = match step {
            Ok((next, event)) => {
                let write = deps.reports.update_report(&report, &next, &[event]).await;
                return Ok::<_, SmsFailure>(Attempt::after(write, || {
                    (
                        Action::Replied,
                        format!(
                            "LAPOR! Balasan Anda untuk {code} diterima dan diteruskan ke instansi."
                        ),
                    )
                })?);
            }
            Err(ReporterError::Invalid(invalid)) => {
                format!("LAPOR! {code}: {}", invalid.message.id)
            }
            Err(ReporterError::Transition(_)) => {
                format!("LAPOR! Laporan {code} sudah ditutup dan tidak dapat dibalas.")
            }
            Err(ReporterError::TooManyReplies(limit)) => {
                format!("LAPOR! {code}: {}", limit.message().id)
            }
        };
        Ok(Attempt::Done((Action::Refused, refusal)))
    })
    .await;
    match answered {
        Err(SmsFailure::Store(StoreError::Conflict(Conflict::VersionMismatch))) => Ok((
            Action::Refused,
            format!("LAPOR! Laporan {code} baru saja berubah. Kirim lagi balasan Anda."),
        )),
        other => other,
    }
}

async fn is_reporter(deps: &Deps, from: &Phone, code: &TrackingCode) -> Result<bool, SmsFailure> {
    let reporter = deps.identity.reporter(code).await?;
    Ok(reporter.and_then(|r| r.phone).as_ref() == Some(from))
}

fn not_found(code: &TrackingCode) -> String {
    format!("LAPOR! Kode {code} tidak ditemukan. Periksa kode Anda, atau kirim BANTUAN.")
}

fn help() -> String {
    "LAPOR! 1708. LAPOR <keluhan, lokasi kota/kab>: laporan baru (awali RAHASIA agar tidak \
     dipublikasikan). CEK <kode>: status. BALAS <kode> <pesan>: balas instansi. \
     / Help: LAPOR <complaint, town>, CEK <code>, BALAS <code> <message>."
        .to_string()
}

fn unclear(why: Unclear) -> String {
    let word = |k: Keyword| match k {
        Keyword::Lapor => "LAPOR",
        Keyword::Cek => "CEK",
        Keyword::Balas => "BALAS",
    };
    let how = |k: Keyword| match k {
        Keyword::Lapor => "LAPOR <keluhan, lokasi>",
        Keyword::Cek => "CEK <kode>",
        Keyword::Balas => "BALAS <kode> <pesan>",
    };
    match why {
        Unclear::Empty => format!("LAPOR! Pesan kosong. {}", help_hint()),
        Unclear::MissingCode(k) | Unclear::MissingText(k) => {
            format!("LAPOR! Format: {}. {}", how(k), help_hint())
        }
        Unclear::BadCode(k) => format!(
            "LAPOR! Kode setelah {} tidak dikenal. Kode ada di SMS tanda terima, 10 huruf/angka. Format: {}.",
            word(k),
            how(k)
        ),
        Unclear::TooShort => format!(
            "LAPOR! Keluhan terlalu singkat. Tulis apa dan di mana, min. {} huruf, mis. LAPOR Jalan berlubang di Jl. Cipto, Kota Cirebon.",
            lapor_core::report::DESCRIPTION_MIN
        ),
    }
}

fn help_hint() -> &'static str {
    "Kirim BANTUAN untuk petunjuk."
}
