//! Evidence files in one S3 bucket. Uploads are presigned `PUT`s bound to the declared
//! `Content-Type` and `Content-Length` (both signed headers: S3 refuses a body of another length
//! or a request without them). The AWS SDK for Rust presigns `PUT` but not `POST` policies, and a
//! presigned `PUT` is all a browser or an app needs. The evidence function checks the real size
//! again before reading anything, and the bucket's lifecycle rule deletes whatever stays in
//! quarantine for a day.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Duration, Utc};
use lapor_core::{AttachmentId, FileType, TrackingCode};

use crate::{
    download_name, evidence_key, quarantine_key, staging_key, EvidenceFiles, FilesError,
    Quarantined, SignedUrl, StageToken, DOWNLOAD_TTL, UPLOAD_TTL,
};

pub struct S3Files {
    client: LazyClient,
    bucket: String,
}

/// The S3 client, built when a request first needs it: most of a function's requests never
/// touch a file (a report without evidence, a page), and building an S3 client costs some
/// 0.2 ms of a full core, about 3 ms at a 128 MB function's CPU share, at every cold start.
struct LazyClient {
    config: aws_sdk_s3::config::Config,
    client: std::sync::OnceLock<aws_sdk_s3::Client>,
}

impl LazyClient {
    fn get(&self) -> &aws_sdk_s3::Client {
        self.client
            .get_or_init(|| aws_sdk_s3::Client::from_conf(self.config.clone()))
    }
}

impl S3Files {
    /// The bucket `bucket` with the SDK configuration `config`. With a custom endpoint (moto,
    /// `sam local`) requests use path-style addresses, which need no DNS for the bucket name.
    pub fn new(config: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let path_style = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build();
        Self {
            client: LazyClient {
                config: s3,
                client: std::sync::OnceLock::new(),
            },
            bucket: bucket.into(),
        }
    }

    /// The bucket `bucket` through `client` as it is (the tests record its calls).
    pub fn with_client(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client: LazyClient {
                config: client.config().clone(),
                client: client.into(),
            },
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn backend(e: impl std::error::Error + 'static) -> FilesError {
    FilesError::Backend(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
}

fn presigning(now: DateTime<Utc>, ttl: Duration) -> Result<PresigningConfig, FilesError> {
    let ttl = ttl
        .to_std()
        .map_err(|e| FilesError::Backend(e.to_string()))?;
    PresigningConfig::builder()
        .start_time(SystemTime::from(now))
        .expires_in(ttl)
        .build()
        .map_err(backend)
}

fn signed(request: PresignedRequest, expires_at: DateTime<Utc>, method: &'static str) -> SignedUrl {
    SignedUrl {
        url: request.uri().to_string(),
        method,
        headers: request
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect(),
        expires_at,
    }
}

#[async_trait]
impl EvidenceFiles for S3Files {
    async fn upload_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        size: u64,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError> {
        let length = i64::try_from(size).map_err(|e| FilesError::Backend(e.to_string()))?;
        let request = self
            .client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(quarantine_key(code, id))
            .content_type(file_type.content_type())
            .content_length(length)
            .presigned(presigning(now, UPLOAD_TTL)?)
            .await
            .map_err(backend)?;
        let mut url = signed(request, now + UPLOAD_TTL, "PUT");
        // The client must send these two exactly as signed.
        url.headers
            .insert("content-type".into(), file_type.content_type().into());
        url.headers
            .insert("content-length".into(), size.to_string());
        Ok(url)
    }

    async fn download_url(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        now: DateTime<Utc>,
    ) -> Result<SignedUrl, FilesError> {
        let request = self
            .client
            .get()
            .get_object()
            .bucket(&self.bucket)
            .key(evidence_key(code, id))
            .response_content_type(file_type.content_type())
            .response_content_disposition(format!(
                "attachment; filename=\"{}\"",
                download_name(code, id, file_type)
            ))
            .presigned(presigning(now, DOWNLOAD_TTL)?)
            .await
            .map_err(backend)?;
        Ok(signed(request, now + DOWNLOAD_TTL, "GET"))
    }

    async fn read_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        max_bytes: u64,
    ) -> Result<Quarantined, FilesError> {
        self.read_limited(&quarantine_key(code, id), max_bytes)
            .await
    }

    async fn keep_clean(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
        file_type: FileType,
        bytes: Vec<u8>,
    ) -> Result<(), FilesError> {
        self.client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(evidence_key(code, id))
            .content_type(file_type.content_type())
            .content_disposition(format!(
                "attachment; filename=\"{}\"",
                download_name(code, id, file_type)
            ))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn discard_quarantined(
        &self,
        code: &TrackingCode,
        id: &AttachmentId,
    ) -> Result<(), FilesError> {
        self.client
            .get()
            .delete_object()
            .bucket(&self.bucket)
            .key(quarantine_key(code, id))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn stage(&self, token: &StageToken, bytes: &[u8]) -> Result<(), FilesError> {
        self.client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(staging_key(token))
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn staged(&self, token: &StageToken, max_bytes: u64) -> Result<Quarantined, FilesError> {
        self.read_limited(&staging_key(token), max_bytes).await
    }

    async fn discard_staged(&self, token: &StageToken) -> Result<(), FilesError> {
        self.client
            .get()
            .delete_object()
            .bucket(&self.bucket)
            .key(staging_key(token))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

impl S3Files {
    /// An object's bytes, unless it is missing or larger than `max_bytes` (then not read).
    async fn read_limited(&self, key: &str, max_bytes: u64) -> Result<Quarantined, FilesError> {
        let answer = self
            .client
            .get()
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let object = match answer {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(Quarantined::Missing)
            }
            Err(e) => return Err(backend(e)),
        };
        let size = object
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(u64::MAX);
        if size > max_bytes {
            return Ok(Quarantined::TooLarge { size });
        }
        let bytes = object.body.collect().await.map_err(backend)?.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Ok(Quarantined::TooLarge {
                size: bytes.len() as u64,
            });
        }
        Ok(Quarantined::Bytes(bytes.to_vec()))
    }
}
