//! The evidence function: S3 tells it that an upload landed in quarantine; it checks the file
//! (type from its bytes, size, pixel count), removes every piece of metadata that could betray
//! its sender (`lapor_evidence::clean`), keeps the clean copy, records the outcome on the report
//! and deletes the upload. A refused file keeps nothing but the reason.
//!
//! Handling is idempotent: an attachment that is no longer `processing` is left as it is, and its
//! upload (if any is still there) is deleted. A backend failure is returned as an error, so
//! Lambda retries the event and then sends it to the dead-letter queue.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lapor_core::{
    AttachmentId, AttachmentStatus, Clock, FileOutcome, FileType, Rejection, Report, TrackingCode,
};
use lapor_files::{parse_quarantine_key, EvidenceFiles, FilesError, Quarantined, UPLOAD_TTL};
use lapor_store::{Conflict, Reports, StoreError, Stores};

/// Times a version conflict is retried before the event is handed back to Lambda.
const CONFLICT_RETRIES: usize = 5;
/// Clock difference allowed between the URL's signer and storage.
const CLOCK_SKEW: Duration = Duration::minutes(1);

#[derive(Clone)]
pub struct Deps {
    pub reports: Arc<dyn Reports>,
    pub files: Arc<dyn EvidenceFiles>,
    pub clock: Arc<dyn Clock>,
    pub limits: lapor_evidence::Limits,
}

impl Deps {
    pub fn new(
        stores: &Stores,
        files: Arc<dyn EvidenceFiles>,
        clock: Arc<dyn Clock>,
        limits: lapor_evidence::Limits,
    ) -> Self {
        Self {
            reports: stores.reports.clone(),
            files,
            clock,
            limits,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvidenceFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("the cleaning task failed: {0}")]
    Task(String),
    #[error("the report kept changing; {CONFLICT_RETRIES} attempts lost the race")]
    Contended,
}

/// What handling one upload came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Clean, kept and recorded as ready.
    Ready { file_type: FileType, size: u64 },
    /// Refused and recorded so; nothing kept.
    Rejected(Rejection),
    /// Not a quarantine key, no such report or attachment, or already handled.
    Ignored,
}

/// Handles the upload at `key` (an object key under `quarantine/`), made at `uploaded_at`.
pub async fn handle_upload(
    deps: &Deps,
    key: &str,
    uploaded_at: DateTime<Utc>,
) -> Result<Handled, EvidenceFailure> {
    process(deps, key, Some(uploaded_at)).await
}

/// [`handle_upload`]; without an upload time (a scan result comes minutes after the upload, and
/// S3 itself refuses an expired URL) the expiry is not checked again.
async fn process(
    deps: &Deps,
    key: &str,
    uploaded_at: Option<DateTime<Utc>>,
) -> Result<Handled, EvidenceFailure> {
    let Some((code, id)) = parse_quarantine_key(key) else {
        tracing::warn!(key, "not an upload key; ignored");
        return Ok(Handled::Ignored);
    };
    let waiting = deps
        .reports
        .report(&code)
        .await?
        .and_then(|r| r.attachment(&id).cloned())
        .filter(|a| a.status == AttachmentStatus::Processing);
    let Some(attachment) = waiting else {
        // Unknown, or handled already (a repeated event): nothing of the upload is kept.
        deps.files.discard_quarantined(&code, &id).await?;
        tracing::info!(tracking_code = %code, attachment = %id, "no attachment waiting for this upload; discarded");
        return Ok(Handled::Ignored);
    };
    let late = uploaded_at.is_some_and(|at| at > attachment.requested_at + UPLOAD_TTL + CLOCK_SKEW);
    let outcome = if late {
        FileOutcome::Rejected(Rejection::UploadExpired)
    } else {
        match deps
            .files
            .read_quarantined(&code, &id, deps.limits.max_bytes)
            .await?
        {
            Quarantined::Missing => {
                tracing::info!(tracking_code = %code, attachment = %id, "upload already gone");
                return Ok(Handled::Ignored);
            }
            Quarantined::TooLarge { .. } => FileOutcome::Rejected(Rejection::TooLarge),
            Quarantined::Bytes(bytes) if bytes.len() as u64 != attachment.size => {
                FileOutcome::Rejected(Rejection::SizeMismatch)
            }
            Quarantined::Bytes(bytes) => clean(deps, &code, &id, bytes).await?,
        }
    };
    record(deps, &code, &id, outcome.clone()).await?;
    deps.files.discard_quarantined(&code, &id).await?;
    let handled = match outcome {
        FileOutcome::Clean {
            file_type, size, ..
        } => Handled::Ready { file_type, size },
        FileOutcome::Rejected(reason) => Handled::Rejected(reason),
    };
    tracing::info!(tracking_code = %code, attachment = %id, outcome = ?handled, "upload handled");
    Ok(handled)
}

/// Cleans the bytes off the async runtime (decoding is CPU work) and keeps the clean copy.
async fn clean(
    deps: &Deps,
    code: &TrackingCode,
    id: &AttachmentId,
    bytes: Vec<u8>,
) -> Result<FileOutcome, EvidenceFailure> {
    let limits = deps.limits;
    let cleaned = tokio::task::spawn_blocking(move || lapor_evidence::clean(&bytes, &limits))
        .await
        .map_err(|e| EvidenceFailure::Task(e.to_string()))?;
    let clean = match cleaned {
        Ok(clean) => clean,
        Err(refused) => return Ok(FileOutcome::Rejected(rejection(&refused))),
    };
    let file_type = clean.kind;
    let size = clean.bytes.len() as u64;
    let sha256 = clean.sha256;
    deps.files
        .keep_clean(code, id, file_type, clean.bytes)
        .await?;
    Ok(FileOutcome::Clean {
        file_type,
        size,
        sha256,
    })
}

/// The reason the reporter reads, for what the cleaner refused.
pub fn rejection(refused: &lapor_evidence::Rejection) -> Rejection {
    use lapor_evidence::Rejection as R;
    match refused {
        R::TooLarge { .. } => Rejection::TooLarge,
        R::NotAllowedType => Rejection::NotAllowedType,
        R::TooManyPixels { .. } | R::TooLargeToDecode { .. } => Rejection::TooManyPixels,
        R::Encrypted => Rejection::Encrypted,
        R::Empty | R::Unreadable => Rejection::Unreadable,
    }
}

/// Writes the outcome on the report, reading it again after a concurrent change.
async fn record(
    deps: &Deps,
    code: &TrackingCode,
    id: &AttachmentId,
    outcome: FileOutcome,
) -> Result<(), EvidenceFailure> {
    for _ in 0..CONFLICT_RETRIES {
        let Some(report): Option<Report> = deps.reports.report(code).await? else {
            return Ok(());
        };
        let Some((next, event)) = report.finish_attachment(id, outcome.clone(), deps.clock.now())
        else {
            return Ok(());
        };
        let events: Vec<_> = event.into_iter().collect();
        match deps.reports.update_report(&report, &next, &events).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict(Conflict::VersionMismatch)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EvidenceFailure::Contended)
}

/// What EventBridge delivers: S3's "Object Created" for an upload, or, when the stack scans
/// uploads for malware, GuardDuty's "Malware Protection Object Scan Result" for it instead. The
/// bucket then needs no reference to this function, which keeps the template free of a
/// bucket ⇄ function cycle.
pub type UploadEvent = aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>;

/// S3's event for a new object.
pub const OBJECT_CREATED: &str = "Object Created";
/// GuardDuty's event for a scanned object.
pub const SCAN_RESULT: &str = "GuardDuty Malware Protection Object Scan Result";

/// The upload an event is about, and what a malware scan said of it (`None`: not scanned, or
/// clean). `None` for an event of another kind.
pub fn upload_in(event: &UploadEvent) -> Option<(String, Option<Rejection>)> {
    let text = |path: &[&str]| {
        path.iter()
            .try_fold(&event.detail, |v, k| v.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match event.detail_type.as_str() {
        OBJECT_CREATED => Some((text(&["object", "key"])?, None)),
        SCAN_RESULT => {
            let key = text(&["s3ObjectDetails", "objectKey"])?;
            let verdict = match text(&["scanResultDetails", "scanResultStatus"]).as_deref() {
                Some("NO_THREATS_FOUND") => None,
                Some("THREATS_FOUND") => Some(Rejection::Malware),
                // UNSUPPORTED, ACCESS_DENIED, FAILED, or nothing: not known to be clean.
                _ => Some(Rejection::NotScanned),
            };
            Some((key, verdict))
        }
        _ => None,
    }
}

/// Handles one upload event; an event of another kind is ignored.
pub async fn handle_event(deps: &Deps, event: &UploadEvent) -> Result<Handled, EvidenceFailure> {
    let Some((key, verdict)) = upload_in(event) else {
        tracing::warn!(detail_type = %event.detail_type, "not an upload event; ignored");
        return Ok(Handled::Ignored);
    };
    match (event.detail_type.as_str(), verdict) {
        (_, Some(reason)) => refuse_upload(deps, &key, reason).await,
        (SCAN_RESULT, None) => process(deps, &key, None).await,
        _ => {
            let uploaded_at = event.time.unwrap_or_else(|| deps.clock.now());
            process(deps, &key, Some(uploaded_at)).await
        }
    }
}

/// Records `reason` for the upload at `key` without reading it, and deletes it.
pub async fn refuse_upload(
    deps: &Deps,
    key: &str,
    reason: Rejection,
) -> Result<Handled, EvidenceFailure> {
    let Some((code, id)) = parse_quarantine_key(key) else {
        return Ok(Handled::Ignored);
    };
    tracing::warn!(tracking_code = %code, attachment = %id, reason = reason.code(), "upload refused by the malware scan");
    record(deps, &code, &id, FileOutcome::Rejected(reason)).await?;
    deps.files.discard_quarantined(&code, &id).await?;
    Ok(Handled::Rejected(reason))
}
