//! Evidence files in a folder, for lapor-local: the URLs point at lapor-local itself
//! (`/files/quarantine/…` to upload, `/files/evidence/…` to download), carry their expiry, type
//! and size, and are signed with HMAC-SHA256 under a local secret, so they are as unforgeable and
//! as short-lived as presigned S3 URLs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use lapor_core::{AttachmentId, FileType, TrackingCode};
use sha2::Sha256;

use crate::{
    evidence_key, quarantine_key, staging_key, EvidenceFiles, FilesError, Quarantined, SignedUrl,
    StageToken, DOWNLOAD_TTL, UPLOAD_TTL,
};

pub struct DirFiles {
    root: PathBuf,
    base_url: String,
    secret: Vec<u8>,
}

/// Why a local file URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlCheck {
    /// Not a URL this server signed (or one altered since).
    BadSignature,
    Expired,
    /// The request's `Content-Type` or `Content-Length` is not what the URL was signed for.
    WrongContent,
}

/// What a verified URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub code: TrackingCode,
    pub id: AttachmentId,
    pub file_type: FileType,
}

impl DirFiles {
    /// Files under `root`, reached at `base_url` (e.g. `http://127.0.0.1:3000`).
    pub fn new(root: impl Into<PathBuf>, base_url: impl Into<String>, secret: Vec<u8>) -> Self {
        Self {
            root: root.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            secret,
        }
    }

    fn signature(
        &self,
        method: &str,
        key: &str,
        file_type: FileType,
        size: Option<u64>,
        expires: i64,
    ) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let size = size.map(|s| s.to_string()).unwrap_or_default();
        let text = format!(
            "{method}\n{key}\n{}\n{size}\n{expires}",
            file_type.content_type()
        );
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn url(
        &self,
        method: &'static str,
        key: &str,
        file_type: FileType,
        size: Option<u64>,
        expires_at: DateTime<Utc>,
    ) -> SignedUrl {
        let expires = expires_at.timestamp();
        let sig = self.signature(method, key, file_type, size, expires);
        let size_param = size.map(|s| format!("&size={s}")).unwrap_or_default();
        let kind = file_type.content_type().replace('/', "%2F");
        let mut headers = BTreeMap::new();
        if let Some(size) = size {
            headers.insert("content-type".into(), file_type.content_type().into());
            headers.insert("content-length".into(), size.to_string());
        }
        SignedUrl {
            url: format!(
                "{}/files/{key}?type={kind}{size_param}&expires={expires}&sig={sig}",
                self.base_url
            ),
            method,
            headers,
            expires_at,
        }
    }

    /// Checks a request on `/files/<key>` against its signature: the method, the key, and for
    /// an upload the body's type and length.
    pub fn verify(
        &self,
        method: &str,
        key: &str,
        query: &BTreeMap<String, String>,
        content: Option<(&str, u64)>,
        now: DateTime<Utc>,
    ) -> Result<Verified, UrlCheck> {
        let param = |name: &str| query.get(name).map(String::as_str);
        let file_type = param("type")
            .and_then(FileType::from_content_type)
            .ok_or(UrlCheck::BadSignature)?;
        let expires: i64 = param("expires")
            .and_then(|e| e.parse().ok())
            .ok_or(UrlCheck::BadSignature)?;
        let size: Option<u64> = match param("size") {
            Some(s) => Some(s.parse().map_err(|_| UrlCheck::BadSignature)?),
            None => None,
        };
        let expected = self.signature(method, key, file_type, size, expires);
        let given = param("sig").unwrap_or_default();
        if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Err(UrlCheck::BadSignature);
        }
        if now.timestamp() > expires {
            return Err(UrlCheck::Expired);
        }
        if let (Some(size), Some((content_type, length))) = (size, content) {
            if FileType::from_content_type(content_type) != Some(file_type) || length != size {
                return Err(UrlCheck::WrongContent);
            }
        }
        let (code, id) = key
            .split_once('/')
            .and_then(|(_, rest)| rest.split_once('/'))
            .ok_or(UrlCheck::BadSignature)?;
        Ok(Verified {
            code: TrackingCode::parse(code).map_err(|_| UrlCheck::BadSignature)?,
            id: AttachmentId::parse(id).map_err(|_| UrlCheck::BadSignature)?,
            file_type,
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Stores an upload whose URL [`verify`](Self::verify) accepted.
    pub async fn store_upload(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        bytes: &[u8],
    ) -> Result<(), FilesError> {
        write(&self.path(&quarantine_key(code, id)), bytes).await
    }

    /// The clean file, for a download whose URL was verified.
    pub async fn read_clean(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
    ) -> Result<Option<Vec<u8>>, FilesError> {
        read(&self.path(&evidence_key(code, id))).await
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn write(path: &Path, bytes: &[u8]) -> Result<(), FilesError> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| FilesError::Backend(e.to_string()))?;
    }
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, bytes)
        .await
        .map_err(|e| FilesError::Backend(e.to_string()))?;
    tokio::fs::rename(&partial, path)
        .await
        .map_err(|e| FilesError::Backend(e.to_string()))
}

async fn read(path: &Path) -> Result<Option<Vec<u8>>, FilesError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FilesError::Backend(e.to_string())),
    }
}

#[async_trait]
impl EvidenceFiles for DirFiles {
    async fn upload_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError> {
        Ok(self.url(
            "PUT",
            &quarantine_key(code, id),
            file_type,
            Some(size),
            now + UPLOAD_TTL,
        ))
    }

    async fn download_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError> {
        Ok(self.url(
            "GET",
            &evidence_key(code, id),
            file_type,
            None,
            now + DOWNLOAD_TTL,
        ))
    }

    async fn read_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        max_bytes: u64,
    ) -> Result<Quarantined, FilesError> {
        read_limited(&self.path(&quarantine_key(code, id)), max_bytes).await
    }

    async fn keep_clean(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        _file_type: FileType,
        bytes: Vec<u8>,
    ) -> Result<(), FilesError> {
        write(&self.path(&evidence_key(code, id)), &bytes).await
    }

    async fn discard_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
    ) -> Result<(), FilesError> {
        remove(&self.path(&quarantine_key(code, id))).await
    }

    async fn stage(&self, token: &StageToken, bytes: &[u8]) -> Result<(), FilesError> {
        write(&self.path(&staging_key(token)), bytes).await
    }

    async fn staged(&self, token: &StageToken, max_bytes: u64) -> Result<Quarantined, FilesError> {
        read_limited(&self.path(&staging_key(token)), max_bytes).await
    }

    async fn discard_staged(&self, token: &StageToken) -> Result<(), FilesError> {
        remove(&self.path(&staging_key(token))).await
    }
}

/// A file's bytes, unless it is missing or larger than `max_bytes` (then not read).
async fn read_limited(path: &Path, max_bytes: u64) -> Result<Quarantined, FilesError> {
    match tokio::fs::metadata(path).await {
        Ok(meta) if meta.len() > max_bytes => {
            return Ok(Quarantined::TooLarge { size: meta.len() })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Quarantined::Missing),
        Err(e) => return Err(FilesError::Backend(e.to_string())),
    }
    Ok(read(path)
        .await?
        .map_or(Quarantined::Missing, Quarantined::Bytes))
}

async fn remove(path: &Path) -> Result<(), FilesError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(FilesError::Backend(e.to_string()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(url: &str) -> (String, BTreeMap<String, String>) {
        let (path, query) = url.split_once('?').expect("query");
        let key = path.split_once("/files/").expect("files").1.to_string();
        let map = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%2F", "/")))
            .collect();
        (key, map)
    }

    #[tokio::test]
    async fn a_local_upload_url_holds_for_its_own_type_size_and_time_only() {
        let files = DirFiles::new("/nonexistent", "http://127.0.0.1:3000", vec![3; 32]);
        let code = TrackingCode::generate(&mut rand::rng());
        let now = Utc::now();
        let id = AttachmentId::generate(now, &mut rand::rng());
        let url = files
            .upload_url(&code, &id, FileType::Png, 1234, now)
            .await
            .expect("url");
        assert_eq!(url.method, "PUT");
        let (key, q) = query(&url.url);
        let ok = files.verify("PUT", &key, &q, Some(("image/png", 1234)), now);
        assert_eq!(ok.map(|v| (v.code, v.id)), Ok((code.clone(), id.clone())));
        assert_eq!(
            files.verify("PUT", &key, &q, Some(("image/png", 1235)), now),
            Err(UrlCheck::WrongContent)
        );
        assert_eq!(
            files.verify("PUT", &key, &q, Some(("text/html", 1234)), now),
            Err(UrlCheck::WrongContent)
        );
        assert_eq!(
            files.verify("GET", &key, &q, None, now),
            Err(UrlCheck::BadSignature)
        );
        assert_eq!(
            files.verify(
                "PUT",
                &key,
                &q,
                Some(("image/png", 1234)),
                now + UPLOAD_TTL + chrono::Duration::seconds(1)
            ),
            Err(UrlCheck::Expired)
        );
        let mut forged = q.clone();
        forged.insert("size".into(), "99999999".into());
        assert_eq!(
            files.verify("PUT", &key, &forged, Some(("image/png", 99999999)), now),
            Err(UrlCheck::BadSignature)
        );
        let other = DirFiles::new("/nonexistent", "http://127.0.0.1:3000", vec![4; 32]);
        assert_eq!(
            other.verify("PUT", &key, &q, Some(("image/png", 1234)), now),
            Err(UrlCheck::BadSignature)
        );
    }
}
