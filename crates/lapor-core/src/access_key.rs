//! The reporter's secret access key: shown once, stored only as a SHA-256 hash.
//!
//! A key has 130 random bits, so a plain hash is enough (no slow KDF is needed against guessing).
//! When a submission carries an `Idempotency-Key`, the access key is derived with HMAC from a
//! server-side pepper, the idempotency key and the tracking code, so a retried request can be
//! answered with the same access key without ever storing the key itself.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::{Email, Phone, Reporter};
use crate::tracking::TrackingCode;

const KEY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const KEY_LEN: usize = 26;

/// The secret given to the reporter. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey(String);

/// What the store keeps instead of the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKeyHash(pub String);

/// Server-side secret used to derive replayable access keys. At least 32 bytes.
#[derive(Clone)]
pub struct KeyPepper(Vec<u8>);

impl KeyPepper {
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 32).then_some(Self(bytes))
    }

    /// HMAC-SHA256 of `value` under the server secret, for `purpose`, in hex: how a key or an
    /// attribute is derived from identity (a phone number, say). A plain hash of an Indonesian
    /// mobile number is reversed by trying them all; this one needs the secret.
    pub fn keyed_hex(&self, purpose: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"lapor-");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The fixed window of `len_secs` that `now_unix` falls in, for counting what one subject (a
    /// phone number, a client address) does: its counter key holds the subject only as
    /// [`keyed_hex`](Self::keyed_hex) under `purpose`.
    pub fn rate_window(
        &self,
        purpose: &str,
        subject: &str,
        now_unix: i64,
        len_secs: i64,
    ) -> RateWindow {
        RateWindow::keyed(
            purpose,
            &self.keyed_hex(purpose, subject),
            now_unix,
            len_secs,
        )
    }

    /// The keys the notifier counts a reporter's messages under, made once when the report is
    /// filed (see [`ContactKeys`]).
    pub fn contact_keys(&self, reporter: &Reporter) -> ContactKeys {
        ContactKeys {
            sms_out: reporter.phone.as_ref().map(|p| self.sms_out_key(p)),
            mail_out: reporter.email.as_ref().map(|e| self.mail_out_key(e)),
        }
    }

    /// The keyed phone number that SMS to a reporter are counted under.
    pub fn sms_out_key(&self, phone: &Phone) -> String {
        self.keyed_hex(SMS_OUT, phone.as_str())
    }

    /// The keyed address that e-mail to a reporter is counted under. Case does not make another
    /// mailbox in practice, so it does not make another counter.
    pub fn mail_out_key(&self, email: &Email) -> String {
        self.keyed_hex(MAIL_OUT, &email.as_str().to_lowercase())
    }
}

/// The rate-counter purpose of SMS sent to reporters.
pub const SMS_OUT: &str = "sms-out";
/// The rate-counter purpose of e-mail sent to reporters.
pub const MAIL_OUT: &str = "mail-out";

/// A reporter's phone and e-mail as keyed with the server secret ([`KeyPepper::sms_out_key`],
/// [`KeyPepper::mail_out_key`]): stored beside the reporter's identity when the report is filed,
/// so the notifier can count the messages each address gets a day without holding the secret.
/// Like the identity beside it, never shown and never logged.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_out: Option<String>,
}

/// One subject's rate-counter window (see [`KeyPepper::rate_window`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateWindow {
    /// The counter's key: purpose, keyed subject, window number.
    pub key: String,
    pub len_secs: i64,
    /// When the window ends (Unix seconds): the counter starts again then.
    pub ends_at: i64,
}

impl RateWindow {
    /// The window of `len_secs` that `now_unix` falls in, for the subject already keyed as
    /// `keyed` under `purpose` (see [`KeyPepper::rate_window`]).
    pub fn keyed(purpose: &str, keyed: &str, now_unix: i64, len_secs: i64) -> Self {
        let len_secs = len_secs.max(1);
        let index = now_unix.div_euclid(len_secs);
        Self {
            key: format!("{purpose}#{keyed}#{index}"),
            len_secs,
            ends_at: (index + 1) * len_secs,
        }
    }

    /// Seconds from `now_unix` until the window ends: a `Retry-After`.
    pub fn retry_after(&self, now_unix: i64) -> u32 {
        u32::try_from((self.ends_at - now_unix).max(1)).unwrap_or(u32::MAX)
    }
}

impl fmt::Debug for ContactKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |key: &Option<String>| key.as_ref().map(|_| "…");
        f.debug_struct("ContactKeys")
            .field("sms_out", &shown(&self.sms_out))
            .field("mail_out", &shown(&self.mail_out))
            .finish()
    }
}

impl fmt::Debug for KeyPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPepper(…)")
    }
}

impl AccessKey {
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill(&mut bytes[..]);
        Self::from_bytes(&bytes)
    }

    /// The same key every time for the same pepper, idempotency key and tracking code.
    pub fn derive(pepper: &KeyPepper, idempotency_key: &str, code: &TrackingCode) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(&pepper.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"lapor-access-key\0");
        mac.update(idempotency_key.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_str().as_bytes());
        Self::from_bytes(&mac.finalize().into_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        Self(
            bytes
                .iter()
                .take(KEY_LEN)
                .map(|b| char::from(KEY_ALPHABET[usize::from(b & 31)]))
                .collect(),
        )
    }

    /// Wraps a key presented by a client, for comparison against a stored hash.
    pub fn presented(input: &str) -> Self {
        Self(input.trim().to_ascii_lowercase())
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> AccessKeyHash {
        AccessKeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    pub fn matches(&self, stored: &AccessKeyHash) -> bool {
        let mine = self.hash();
        // Compare every byte so the time taken says nothing about how much matched.
        mine.0.len() == stored.0.len()
            && mine
                .0
                .bytes()
                .zip(stored.0.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyed_hash_needs_the_secret_and_differs_by_purpose() {
        let pepper = KeyPepper::new(vec![7; 32]).expect("pepper");
        let other = KeyPepper::new(vec![8; 32]).expect("pepper");
        let phone = "+6281234567890";
        let keyed = pepper.keyed_hex("sms-rate", phone);
        assert_eq!(keyed, pepper.keyed_hex("sms-rate", phone), "stable");
        assert_ne!(keyed, other.keyed_hex("sms-rate", phone), "another secret");
        assert_ne!(keyed, pepper.keyed_hex("other", phone), "another purpose");
        assert_ne!(
            keyed,
            hex::encode(Sha256::digest(phone.as_bytes())),
            "not a plain hash"
        );
        assert_eq!(keyed.len(), 64);
    }

    #[test]
    fn a_rate_window_keys_the_subject_and_ends_on_its_boundary() {
        let pepper = KeyPepper::new(vec![7; 32]).expect("pepper");
        let phone = "+6281234567890";
        let w = pepper.rate_window("sms-rate", phone, 7_250, 3_600);
        assert_eq!(w.ends_at, 10_800);
        assert_eq!(w.retry_after(7_250), 3_550);
        assert!(w.key.starts_with("sms-rate#"), "{}", w.key);
        assert!(w.key.ends_with("#2"), "{}", w.key);
        assert!(!w.key.contains(phone) && !w.key.contains("81234567890"));
        assert_eq!(
            w,
            pepper.rate_window("sms-rate", phone, 10_799, 3_600),
            "same window"
        );
        assert_ne!(
            w.key,
            pepper.rate_window("sms-rate", phone, 10_800, 3_600).key,
            "next window"
        );
        assert_ne!(
            w.key,
            pepper.rate_window("api-client", phone, 7_250, 3_600).key
        );
    }

    #[test]
    fn stored_contact_keys_count_under_the_same_windows_as_the_secret() {
        let pepper = KeyPepper::new(vec![7; 32]).expect("pepper");
        let reporter = Reporter {
            name: None,
            phone: Some(Phone::parse("0812-3456-7890").expect("phone")),
            email: Some(Email::parse("Siti.Aminah@Example.id").expect("email")),
            notifications: true,
        };
        let keys = pepper.contact_keys(&reporter);
        let (Some(sms), Some(mail)) = (&keys.sms_out, &keys.mail_out) else {
            panic!("a key for each contact: {keys:?}");
        };
        let (phone, now) = (reporter.phone.as_ref().expect("phone").as_str(), 90_000);
        assert_eq!(
            RateWindow::keyed(SMS_OUT, sms, now, 86_400),
            pepper.rate_window(SMS_OUT, phone, now, 86_400),
            "a stored key counts where the secret would"
        );
        assert_eq!(
            RateWindow::keyed(MAIL_OUT, mail, now, 86_400),
            pepper.rate_window(MAIL_OUT, "siti.aminah@example.id", now, 86_400),
            "one counter whatever the case of the address"
        );
        let stored = serde_json::to_string(&keys).expect("json");
        assert!(
            !stored.contains("81234567890") && !stored.to_lowercase().contains("siti"),
            "{stored}"
        );
        let nobody = Reporter {
            phone: None,
            email: None,
            ..reporter
        };
        assert_eq!(pepper.contact_keys(&nobody), ContactKeys::default());
    }
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn a_key_matches_only_its_own_hash() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = AccessKey::generate(&mut rng);
        let b = AccessKey::generate(&mut rng);
        assert_eq!(a.reveal().len(), 26);
        assert!(a.matches(&a.hash()));
        assert!(!b.matches(&a.hash()));
        assert!(AccessKey::presented(&a.reveal().to_uppercase()).matches(&a.hash()));
        assert!(!format!("{a:?}").contains(a.reveal()));
    }

    #[test]
    fn derived_keys_repeat_for_the_same_inputs_only() {
        let pepper = KeyPepper::new(vec![7; 32]).unwrap();
        let other = KeyPepper::new(vec![8; 32]).unwrap();
        let code = TrackingCode::generate(&mut StdRng::seed_from_u64(3));
        let k1 = AccessKey::derive(&pepper, "idem-1", &code);
        assert_eq!(
            k1.reveal(),
            AccessKey::derive(&pepper, "idem-1", &code).reveal()
        );
        assert_ne!(
            k1.reveal(),
            AccessKey::derive(&pepper, "idem-2", &code).reveal()
        );
        assert_ne!(
            k1.reveal(),
            AccessKey::derive(&other, "idem-1", &code).reveal()
        );
        assert!(KeyPepper::new(vec![0; 31]).is_none());
    }
}
