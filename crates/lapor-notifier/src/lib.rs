//! Telling people what happened. Agencies and the central admin subscribe to one SNS topic and
//! filter on message attributes (`event_type`, `agency_id`, `region`, `category`); reporters get
//! an SMS on the phone they gave and an e-mail at the address they gave ([`mail`]). Topic
//! messages never carry reporter identity.

pub mod mail;

use std::sync::Mutex;

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use lapor_core::{AgencyId, Phone, Report};
use serde::Serialize;

pub use mail::{Mail, Mailer, SesMailer};

/// What happened to a report, as subscribers filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    #[serde(rename = "report.received")]
    Received,
    #[serde(rename = "report.triage")]
    Triage,
    #[serde(rename = "report.forwarded")]
    Forwarded,
    #[serde(rename = "report.returned")]
    Returned,
    #[serde(rename = "report.reply")]
    Reply,
    #[serde(rename = "report.rating")]
    Rating,
    #[serde(rename = "report.overdue")]
    Overdue,
    #[serde(rename = "report.evidence")]
    Evidence,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Received => "report.received",
            EventType::Triage => "report.triage",
            EventType::Forwarded => "report.forwarded",
            EventType::Returned => "report.returned",
            EventType::Reply => "report.reply",
            EventType::Rating => "report.rating",
            EventType::Evidence => "report.evidence",
            EventType::Overdue => "report.overdue",
        }
    }
}

/// A message to agencies or the central admin, published on the topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyMessage {
    pub event_type: EventType,
    /// The agency that should act (the central admin's id for triage and returns).
    pub agency_id: AgencyId,
    pub tracking_code: String,
    pub region: String,
    pub category: String,
    pub status: String,
    pub color: String,
    pub title: String,
    /// Indonesian text for e-mail/SMS subscribers, with English beside it.
    pub text: String,
    pub text_en: String,
}

impl AgencyMessage {
    /// Builds the message from the report: only fields that are safe for any subscriber.
    pub fn about(
        report: &Report,
        event_type: EventType,
        agency_id: &AgencyId,
        text: String,
        text_en: String,
    ) -> Self {
        Self {
            event_type,
            agency_id: agency_id.clone(),
            tracking_code: report.tracking_code.to_string(),
            region: report.region.to_string(),
            category: report.category.id().to_string(),
            status: report.status.as_str().to_string(),
            color: serde_json::to_value(report.color())
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            // A secret report's title can name people; agencies open it in the officer view.
            title: if report.privacy.hides_report() {
                String::new()
            } else {
                report.title.clone()
            },
            text,
            text_en,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("notification failed: {0}")]
pub struct NotifyError(pub String);

#[async_trait]
pub trait Notifier: Send + Sync {
    async fn publish(&self, message: &AgencyMessage) -> Result<(), NotifyError>;
    /// An SMS to a reporter. The number is never logged in full.
    async fn sms(&self, to: &Phone, text: &str) -> Result<(), NotifyError>;
}

/// Publishes on an SNS topic, and SMS straight to phone numbers.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, NotifyError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| NotifyError(e.to_string()))
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, message: &AgencyMessage) -> Result<(), NotifyError> {
        let body = serde_json::to_string(message).map_err(|e| NotifyError(e.to_string()))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(format!("LAPOR {}", message.tracking_code))
            .message(body)
            .message_attributes("event_type", attribute(message.event_type.as_str())?)
            .message_attributes("agency_id", attribute(message.agency_id.as_str())?)
            .message_attributes("region", attribute(&message.region)?)
            .message_attributes("category", attribute(&message.category)?)
            .send()
            .await
            .map_err(|e| NotifyError(aws_sdk_sns::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    async fn sms(&self, to: &Phone, text: &str) -> Result<(), NotifyError> {
        self.client
            .publish()
            .phone_number(to.as_str())
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", attribute("Transactional")?)
            .send()
            .await
            .map_err(|e| {
                // The SDK's error may echo the number: keep only the masked form.
                let detail = aws_sdk_sns::error::DisplayErrorContext(e)
                    .to_string()
                    .replace(to.as_str(), &to.masked());
                NotifyError(format!("sms to {} failed: {detail}", to.masked()))
            })?;
        Ok(())
    }
}

/// What lapor-local and the tests "send": kept in memory and listed at `GET /dev/outbox`
/// (notifications under `sent`, e-mails under `mail`).
#[derive(Debug, Default)]
pub struct Outbox {
    sent: Mutex<Vec<OutboxEntry>>,
    mail: Mutex<Vec<OutboxMail>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum OutboxEntry {
    Topic { message: AgencyMessage },
    Sms { to: String, text: String },
}

/// An e-mail lapor-local would have sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxMail {
    /// Masked ([`mail::masked_address`]), as SMS numbers are.
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Outbox {
    pub fn entries(&self) -> Vec<OutboxEntry> {
        self.sent.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The e-mails, oldest first.
    pub fn mails(&self) -> Vec<OutboxMail> {
        self.mail.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn push(&self, entry: OutboxEntry) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }
}

#[async_trait]
impl Notifier for Outbox {
    async fn publish(&self, message: &AgencyMessage) -> Result<(), NotifyError> {
        self.push(OutboxEntry::Topic {
            message: message.clone(),
        });
        Ok(())
    }

    async fn sms(&self, to: &Phone, text: &str) -> Result<(), NotifyError> {
        // The local outbox shows the masked number: it is a developer tool, not the reporter.
        self.push(OutboxEntry::Sms {
            to: to.masked(),
            text: text.to_string(),
        });
        Ok(())
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        self.mail
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(OutboxMail {
                to: mail::masked_address(&mail.to),
                subject: mail.subject.clone(),
                text: mail.text.clone(),
            });
        Ok(())
    }
}
