//! Evidence files. An upload lands under `quarantine/<code>/<id>`, where nobody can download it;
//! the evidence function reads it there, writes the clean copy under `evidence/<code>/<id>` and
//! deletes the original. Clients move the bytes themselves through short-lived URLs, so no Lambda
//! ever carries a file: in AWS presigned S3 requests ([`S3Files`]); in lapor-local URLs on
//! lapor-local itself, signed with its own secret ([`DirFiles`]).

mod dir;
mod s3;

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lapor_core::{AttachmentId, FileType, TrackingCode};

pub use dir::{DirFiles, UrlCheck};
pub use s3::S3Files;

/// How long an upload URL is valid.
pub const UPLOAD_TTL: Duration = Duration::minutes(10);
/// How long a download URL is valid.
pub const DOWNLOAD_TTL: Duration = Duration::minutes(5);

/// A request the client makes itself: `method` on `url` with exactly `headers`, before
/// `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    pub method: &'static str,
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

/// What the quarantine holds for an attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quarantined {
    /// Nothing (never uploaded, or already handled).
    Missing,
    /// More bytes than allowed: not read.
    TooLarge {
        size: u64,
    },
    Bytes(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("file storage: {0}")]
    Backend(String),
}

/// Where evidence files live.
#[async_trait]
pub trait EvidenceFiles: Send + Sync {
    /// A URL to upload the file into quarantine, bound to its type and size.
    async fn upload_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError>;

    /// A URL to download the clean file, served as a download (never rendered in the page).
    async fn download_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError>;

    /// The quarantined upload, unless it is missing or larger than `max_bytes`.
    async fn read_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        max_bytes: u64,
    ) -> Result<Quarantined, FilesError>;

    /// Stores the clean file.
    async fn keep_clean(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        bytes: Vec<u8>,
    ) -> Result<(), FilesError>;

    /// Deletes the quarantined upload (nothing when it is already gone).
    async fn discard_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
    ) -> Result<(), FilesError>;

    /// Holds a file sent with a portal form that was refused, while its reporter corrects the
    /// form, so it need not be sent again. Staged files are as unclean as quarantined ones:
    /// nobody can download them, and they expire with the quarantine (one day).
    async fn stage(&self, token: &StageToken, bytes: &[u8]) -> Result<(), FilesError>;

    /// A staged file, unless it is missing or larger than `max_bytes`.
    async fn staged(&self, token: &StageToken, max_bytes: u64) -> Result<Quarantined, FilesError>;

    /// Deletes a staged file (nothing when it is already gone).
    async fn discard_staged(&self, token: &StageToken) -> Result<(), FilesError>;
}

/// The name of a staged file: 128 random bits, so holding one's own token reveals nobody
/// else's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageToken(String);

impl StageToken {
    pub fn generate() -> Self {
        StageToken(hex::encode(rand::random::<[u8; 16]>()))
    }

    /// A token sent back by a form: exactly 32 lowercase hex digits, nothing else.
    pub fn parse(input: &str) -> Option<Self> {
        (input.len() == 32
            && input
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| StageToken(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where staged portal files wait (expires after a day, like the quarantine).
pub const STAGING_PREFIX: &str = "staging/";

pub fn staging_key(token: &StageToken) -> String {
    format!("{STAGING_PREFIX}{}", token.0)
}

/// The folder uploads land in, by key prefix.
pub const QUARANTINE_PREFIX: &str = "quarantine/";
/// The folder clean files live in.
pub const EVIDENCE_PREFIX: &str = "evidence/";

pub fn quarantine_key(code: &TrackingCode, id: &AttachmentId) -> String {
    format!("{QUARANTINE_PREFIX}{code}/{id}")
}

pub fn evidence_key(code: &TrackingCode, id: &AttachmentId) -> String {
    format!("{EVIDENCE_PREFIX}{code}/{id}")
}

/// The report and attachment a quarantine key names (as an S3 event gives it); `None` for any
/// other key.
pub fn parse_quarantine_key(key: &str) -> Option<(TrackingCode, AttachmentId)> {
    let rest = key.strip_prefix(QUARANTINE_PREFIX)?;
    let (code, id) = rest.split_once('/')?;
    Some((
        TrackingCode::parse(code).ok()?,
        AttachmentId::parse(id).ok()?,
    ))
}

/// The name a downloaded file gets: the report's code and the attachment's id, never the name
/// it was uploaded with.
pub fn download_name(code: &TrackingCode, id: &AttachmentId, file_type: FileType) -> String {
    format!("lapor-{code}-{id}.{}", file_type.extension())
}

/// The attachments of `report` that `shown` keeps, as every view lists them: a ready file with a
/// download URL valid for minutes, a refused one with the reason its uploader can read.
pub async fn listing(
    files: &dyn EvidenceFiles,
    report: &lapor_core::Report,
    shown: impl Fn(&lapor_core::Attachment) -> bool,
    now: DateTime<Utc>,
) -> Result<Vec<serde_json::Value>, FilesError> {
    use lapor_core::{AttachmentStatus, Uploader};
    use serde_json::json;
    let mut out = Vec::new();
    for a in report.attachments.iter().filter(|a| shown(a)) {
        let mut entry = json!({
            "id": a.id.as_str(),
            "status": a.status,
            "content_type": a.file_type.content_type(),
            "size": a.size,
            "sha256": a.sha256,
            "requested_at": a.requested_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        match &a.uploader {
            Uploader::Reporter => entry["by"] = json!("reporter"),
            Uploader::Agency { agency, follow_up } => {
                entry["by"] = json!("agency");
                entry["agency"] = json!(agency);
                entry["follow_up"] = json!(follow_up);
            }
        }
        if a.status == AttachmentStatus::Ready {
            let url = files
                .download_url(&report.tracking_code, &a.id, a.file_type, now)
                .await?;
            entry["download_url"] = json!(url.url);
            entry["download_expires_at"] = json!(url
                .expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        if let Some(reason) = a.rejection {
            let message = reason.message();
            entry["rejection"] = json!({
                "code": reason.code(),
                "message": message.id,
                "message_en": message.en,
            });
        }
        out.push(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarantine_key_names_its_report_and_attachment_and_nothing_else_parses() {
        let code = TrackingCode::generate(&mut rand::rng());
        let id = AttachmentId::generate(Utc::now(), &mut rand::rng());
        let key = quarantine_key(&code, &id);
        assert_eq!(parse_quarantine_key(&key), Some((code.clone(), id.clone())));
        assert_eq!(parse_quarantine_key(&evidence_key(&code, &id)), None);
        assert_eq!(parse_quarantine_key("quarantine/../../x"), None);
        assert_eq!(parse_quarantine_key(&format!("{key}/more")), None);
    }
}
