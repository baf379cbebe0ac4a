//! Filing a new report: the one path the web form, the JSON API and SMS 1708 share. It draws a
//! tracking code, makes the reporter's access key and writes the report with its first event,
//! reporter (with the keys their messages are counted under) and idempotency record in one step.

use chrono::{DateTime, Utc};
use lapor_core::{AccessKey, ContactKeys, Deadlines, KeyPepper, NewReport, Report, TrackingCode};
use sha2::{Digest, Sha256};

use crate::{
    Conflict, IdempotencyRecord, Pepper, Reports, StoreError, Submission, IDEMPOTENCY_TTL_SECS,
};

/// Tracking codes are random; a collision is astronomically rare, but never fatal.
const CODE_ATTEMPTS: usize = 3;

/// A submission's idempotency key: the client's key (an `Idempotency-Key` header, an SMS's
/// inbound message id) and what is stored of it.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: String,
    key_hash: String,
    request_hash: String,
}

impl IdempotencyKey {
    /// `key` as sent within `scope` (the route or channel) with `request`, the submission's
    /// canonical bytes: the same key with another request is a conflict, not a replay.
    pub fn new(scope: &str, key: &str, request: &[u8]) -> Self {
        Self {
            key: key.to_string(),
            key_hash: sha256_hex(&[scope.as_bytes(), b"\0", key.as_bytes()]),
            request_hash: sha256_hex(&[request]),
        }
    }

    pub fn key_hash(&self) -> &str {
        &self.key_hash
    }

    /// Whether `record` was written for this very request (and not another under the same key).
    pub fn same_request(&self, record: &IdempotencyRecord) -> bool {
        record.request_hash == self.request_hash
    }

    /// The access key of the report this key filed: derived, never stored, so a replay can
    /// show it again.
    pub fn access_key(&self, pepper: &KeyPepper, code: &TrackingCode) -> AccessKey {
        AccessKey::derive(pepper, &self.key, code)
    }
}

/// What filing did.
#[derive(Debug)]
pub enum Filed {
    /// The report as written, and its access key (to show once).
    Created {
        report: Box<Report>,
        access_key: AccessKey,
    },
    /// A live idempotency record holds this key: an earlier request filed the report.
    KeyTaken,
}

/// Files `new` at `now`. With an idempotency key the access key is derived from it, so a
/// replay can answer with the same key; without one it is random.
pub async fn file_report(
    reports: &dyn Reports,
    new: &NewReport,
    idempotency: Option<&IdempotencyKey>,
    pepper: &Pepper,
    deadlines: &Deadlines,
    now: DateTime<Utc>,
) -> Result<Filed, StoreError> {
    // A replayable key and a reporter's contact keys need the server secret; a submission with
    // neither (an anonymous SMS-less API call, say) does not wait for it.
    let contact = new
        .reporter
        .as_ref()
        .is_some_and(|r| r.phone.is_some() || r.email.is_some());
    let secret = if idempotency.is_some() || contact {
        Some(pepper.get().await?)
    } else {
        None
    };
    let replayable = idempotency.zip(secret);
    let contact_keys = match (&new.reporter, secret) {
        (Some(reporter), Some(pepper)) => pepper.contact_keys(reporter),
        _ => ContactKeys::default(),
    };
    for _ in 0..CODE_ATTEMPTS {
        let code = TrackingCode::generate(&mut rand::rng());
        let access_key = match replayable {
            Some((key, pepper)) => key.access_key(pepper, &code),
            None => AccessKey::generate(&mut rand::rng()),
        };
        let (report, reporter, event) =
            Report::open(new.clone(), code.clone(), access_key.hash(), now, deadlines);
        let record = idempotency.map(|key| IdempotencyRecord {
            key_hash: key.key_hash.clone(),
            request_hash: key.request_hash.clone(),
            tracking_code: code,
            created_at: report.created_at,
            expires_at: now.timestamp() + IDEMPOTENCY_TTL_SECS,
        });
        let submission = Submission {
            report,
            reporter,
            contact_keys: contact_keys.clone(),
            event,
            idempotency: record,
        };
        match reports.create_report(&submission, now.timestamp()).await {
            Ok(()) => {
                return Ok(Filed::Created {
                    report: Box::new(submission.report),
                    access_key,
                })
            }
            Err(StoreError::Conflict(Conflict::CodeTaken)) => continue,
            Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken)) => return Ok(Filed::KeyTaken),
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(
        "no free tracking code after several attempts".into(),
    ))
}

/// SHA-256 of the parts, in hex: how client text becomes a key that is safe to store.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}
