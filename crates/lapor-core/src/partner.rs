//! Partner API keys: what lets another organisation's app file reports through Open311.
//!
//! An operator issues a key to a named partner; the secret is shown once and only its SHA-256
//! hash is kept (130 random bits, as a reporter's access key, so a plain hash is enough). The key
//! a partner sends is `lpk_<id>_<secret>`: the id finds the record with one read, the secret
//! proves the partner holds it, and the prefix lets secret scanners recognise a leaked key.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::access_key::{AccessKey, AccessKeyHash};
use crate::error::Invalid;

const PREFIX: &str = "lpk_";
const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const ID_LEN: usize = 10;
/// The longest partner name kept.
pub const PARTNER_NAME_MAX: usize = 100;

/// A key's public id (`k3m9…`, ten characters): safe to print, log and list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartnerKeyId(String);

impl PartnerKeyId {
    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(
            (0..ID_LEN)
                .map(|_| char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())]))
                .collect(),
        )
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let id = input.trim().to_ascii_lowercase();
        if id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b)) {
            Ok(Self(id))
        } else {
            Err(Invalid::field(
                "id",
                "invalid_partner_key_id",
                "Id kunci mitra tidak valid.",
                "The partner key id is not valid.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PartnerKeyId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|e| e.message.en)
    }
}

impl From<PartnerKeyId> for String {
    fn from(id: PartnerKeyId) -> Self {
        id.0
    }
}

/// The whole key as the partner sends it (`lpk_<id>_<secret>`). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerApiKey {
    id: PartnerKeyId,
    secret: AccessKey,
}

impl PartnerApiKey {
    /// Reads a presented key; `None` for anything that is not shaped like one.
    pub fn presented(input: &str) -> Option<Self> {
        let rest = input.trim().strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id = PartnerKeyId::parse(id).ok()?;
        let secret = AccessKey::presented(secret);
        (!secret.reveal().is_empty()).then_some(Self { id, secret })
    }

    pub fn id(&self) -> &PartnerKeyId {
        &self.id
    }

    /// The key to hand to the partner, once.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}_{}", self.id, self.secret.reveal())
    }
}

impl fmt::Debug for PartnerApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartnerApiKey({}, …)", self.id)
    }
}

/// What is kept of an issued key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerKey {
    pub id: PartnerKeyId,
    /// Who the key was issued to (an app, an organisation).
    pub name: String,
    pub secret_hash: AccessKeyHash,
    pub created_at: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<FixedOffset>>,
}

impl PartnerKey {
    /// A new key for `name`: the record to store and the key to show once.
    pub fn issue(
        name: &str,
        now: DateTime<FixedOffset>,
        rng: &mut impl Rng,
    ) -> Result<(PartnerKey, PartnerApiKey), Invalid> {
        let name = name.trim();
        let length = name.chars().count();
        if length == 0 || length > PARTNER_NAME_MAX || name.chars().any(char::is_control) {
            return Err(Invalid::field(
                "name",
                "invalid_partner_name",
                format!("Nama mitra harus 1–{PARTNER_NAME_MAX} karakter tanpa karakter kontrol."),
                format!("The partner name must be 1–{PARTNER_NAME_MAX} characters without control characters."),
            ));
        }
        let key = PartnerApiKey {
            id: PartnerKeyId::generate(rng),
            secret: AccessKey::generate(rng),
        };
        let record = PartnerKey {
            id: key.id.clone(),
            name: name.to_string(),
            secret_hash: key.secret.hash(),
            created_at: now,
            revoked_at: None,
        };
        Ok((record, key))
    }

    /// Whether `presented` is this key (its id and its secret), revoked or not.
    pub fn matches(&self, presented: &PartnerApiKey) -> bool {
        presented.id == self.id && presented.secret.matches(&self.secret_hash)
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Whether `presented` is this key and the key still holds (not revoked).
    pub fn admits(&self, presented: &PartnerApiKey) -> bool {
        self.matches(presented) && !self.is_revoked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-07T09:00:00+07:00").expect("time")
    }

    #[test]
    fn an_issued_key_is_admitted_until_revoked_and_never_shown_in_debug() {
        let mut rng = StdRng::seed_from_u64(5);
        let (mut record, key) = PartnerKey::issue(" Aplikasi X ", now(), &mut rng).expect("issue");
        assert_eq!(record.name, "Aplikasi X");
        let text = key.reveal();
        assert!(text.starts_with("lpk_"), "{text}");
        let presented = PartnerApiKey::presented(&format!(" {text} ")).expect("well-formed");
        assert!(record.admits(&presented));
        let secret = text.rsplit('_').next().expect("secret");
        assert!(!format!("{key:?}{record:?}").contains(secret));
        assert!(!record.secret_hash.0.contains(secret));
        record.revoked_at = Some(now());
        assert!(!record.admits(&presented), "revoked");
        assert!(record.matches(&presented) && record.is_revoked());
    }

    #[test]
    fn another_secret_or_a_malformed_key_is_refused() {
        let mut rng = StdRng::seed_from_u64(6);
        let (record, key) = PartnerKey::issue("A", now(), &mut rng).expect("issue");
        let (_, other) = PartnerKey::issue("B", now(), &mut rng).expect("issue");
        let forged = format!(
            "lpk_{}_{}",
            key.id(),
            other.reveal().rsplit('_').next().unwrap_or_default()
        );
        let forged = PartnerApiKey::presented(&forged).expect("well-formed");
        assert!(!record.admits(&forged));
        for bad in [
            "",
            "lpk_",
            "lpk_abc_def",
            "xyz_0123456789_abc",
            "lpk_0123456789_",
        ] {
            assert!(PartnerApiKey::presented(bad).is_none(), "{bad:?}");
        }
        assert!(PartnerKey::issue("  ", now(), &mut rng).is_err());
        assert!(PartnerKey::issue(&"x".repeat(101), now(), &mut rng).is_err());
    }
}
