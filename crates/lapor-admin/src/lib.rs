//! Operator tasks shared by the `lapor-admin` CLI and lapor-local: loading the agency directory
//! and issuing Open311 partner keys.

use chrono::{DateTime, FixedOffset};
use lapor_core::{Directory, Invalid, PartnerApiKey, PartnerKey};
use lapor_store::{AgencyDirectory, Conflict, PartnerKeys, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file breaks a rule; nothing was imported.
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub agencies: usize,
    pub rules: usize,
}

/// Checks the whole directory first and writes only a valid one, so a bad file imports nothing.
pub async fn import_agencies(
    directory: &dyn AgencyDirectory,
    json: &str,
) -> Result<ImportSummary, ImportError> {
    let parsed = Directory::parse(json).map_err(ImportError::Invalid)?;
    directory.put_directory(&parsed).await?;
    Ok(ImportSummary {
        agencies: parsed.agencies().count(),
        rules: parsed.rules().len(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PartnerKeyError {
    /// The partner name breaks a rule; nothing was issued.
    #[error("{0}")]
    Invalid(Invalid),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Ids are random: drawing one that is taken is astronomically rare, but never fatal.
const ISSUE_ATTEMPTS: usize = 3;

/// Issues an Open311 partner key to `name`: stores its record (the secret's hash only) and
/// returns the key to show once.
pub async fn issue_partner_key(
    keys: &dyn PartnerKeys,
    name: &str,
    now: DateTime<FixedOffset>,
) -> Result<(PartnerKey, PartnerApiKey), PartnerKeyError> {
    for _ in 0..ISSUE_ATTEMPTS {
        let (record, key) =
            PartnerKey::issue(name, now, &mut rand::rng()).map_err(PartnerKeyError::Invalid)?;
        match keys.add_partner_key(&record).await {
            Ok(()) => return Ok((record, key)),
            Err(StoreError::Conflict(Conflict::PartnerKeyTaken)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Backend("no free partner key id after several attempts".into()).into())
}
