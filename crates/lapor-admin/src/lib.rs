//! Operator tasks shared by the `lapor-admin` CLI and lapor-local.

use lapor_core::{Directory, Invalid};
use lapor_store::{AgencyDirectory, StoreError};

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
