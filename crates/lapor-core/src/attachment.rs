//! Evidence attached to a report: photos and documents from the reporter (while the report is
//! open) and from the assigned agency (with a follow-up). A file travels straight to storage by a
//! presigned upload, is checked and stripped of metadata by the evidence function, and only then
//! can be downloaded. Its record lives on the report, so every change is the report's own
//! versioned write and reaches the stream consumers like any other.
//!
//! The file's name is checked and then forgotten: a name such as `IMG_budi_santoso.jpg` can unmask
//! its sender, so only the type, the size and the clean file's SHA-256 are kept.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::agency::AgencyId;
use crate::error::{Invalid, Message};
use crate::report::{Actor, Event, EventKind, Report};
use crate::status::Status;

/// Files one reporter may attach to one report.
pub const MAX_REPORTER_FILES: usize = 5;
/// Files an agency may attach to one follow-up.
pub const MAX_FILES_PER_FOLLOW_UP: usize = 5;
/// Files the agencies may attach to one report in all, so the report's record stays small.
pub const MAX_AGENCY_FILES: usize = 50;
/// The largest file accepted unless the deployment says otherwise (`EvidenceMaxBytes`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// The longest file name accepted (it is checked, never stored).
const FILENAME_MAX: usize = 255;

/// The file types evidence may have. The evidence function decides the real type from the
/// file's bytes; what the client declares only chooses what the upload URL is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Jpeg,
    Png,
    Webp,
    Pdf,
}

impl FileType {
    pub const ALL: [FileType; 4] = [FileType::Jpeg, FileType::Png, FileType::Webp, FileType::Pdf];

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    /// File name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Jpeg => "jpg",
            FileType::Png => "png",
            FileType::Webp => "webp",
            FileType::Pdf => "pdf",
        }
    }

    /// Parses a declared media type (case-insensitive, parameters such as `; charset=…`
    /// ignored), accepting the non-standard `image/jpg` and `image/pjpeg` some clients send.
    /// What a file *is* comes from its bytes only (`lapor_evidence::detect`).
    pub fn from_content_type(value: &str) -> Option<FileType> {
        let value = value.split(';').next().unwrap_or_default().trim();
        FileType::ALL
            .into_iter()
            .find(|t| t.content_type().eq_ignore_ascii_case(value))
            .or_else(|| {
                (value.eq_ignore_ascii_case("image/jpg")
                    || value.eq_ignore_ascii_case("image/pjpeg"))
                .then_some(FileType::Jpeg)
            })
    }
}

/// An attachment's id: a ULID (time-ordered, 128 bits with 80 random).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AttachmentId(String);

impl AttachmentId {
    pub fn generate(now: DateTime<Utc>, rng: &mut impl Rng) -> Self {
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
        Self(ulid::Ulid::from_parts(millis, rng.random()).to_string())
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        ulid::Ulid::from_string(input.trim())
            .map(|u| Self(u.to_string()))
            .map_err(|_| {
                Invalid::field(
                    "attachment",
                    "invalid_attachment_id",
                    "Kode lampiran tidak valid.",
                    "The attachment id is not valid.",
                )
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AttachmentId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value).map_err(|e| e.message.en)
    }
}

impl From<AttachmentId> for String {
    fn from(id: AttachmentId) -> String {
        id.0
    }
}

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttachmentId({})", self.0)
    }
}

/// Who attached a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Uploader {
    Reporter,
    /// An officer of `agency`, with the follow-up that is the timeline entry `follow_up`.
    Agency {
        agency: AgencyId,
        follow_up: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentStatus {
    /// Waiting for the upload, or being checked.
    Processing,
    /// Checked and clean: downloadable.
    Ready,
    /// Refused; nothing of the file is kept.
    Rejected,
}

/// Why a file was refused, in words the reporter can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// Not a JPEG, PNG, WebP or PDF, whatever its name said.
    NotAllowedType,
    TooLarge,
    /// More pixels than an image may have (a "decompression bomb").
    TooManyPixels,
    /// Damaged or incomplete.
    Unreadable,
    /// A password-protected PDF, whose metadata cannot be removed.
    Encrypted,
    /// The uploaded file is not the size announced for it.
    SizeMismatch,
    /// Uploaded after its upload URL expired.
    UploadExpired,
    /// The malware scan (GuardDuty, when the stack turns it on) found a threat.
    Malware,
    /// The malware scan could not check the file, so it is not passed on.
    NotScanned,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Rejection::NotAllowedType => "file_type_not_allowed",
            Rejection::TooLarge => "file_too_large",
            Rejection::TooManyPixels => "image_too_many_pixels",
            Rejection::Unreadable => "file_unreadable",
            Rejection::Encrypted => "file_encrypted",
            Rejection::SizeMismatch => "file_size_mismatch",
            Rejection::UploadExpired => "upload_expired",
            Rejection::Malware => "file_malware",
            Rejection::NotScanned => "file_not_scanned",
        }
    }

    pub fn message(self) -> Message {
        match self {
            Rejection::NotAllowedType => Message::new(
                "Berkas ditolak: isinya bukan JPEG, PNG, WebP atau PDF (apa pun nama berkasnya).",
                "File refused: its content is not JPEG, PNG, WebP or PDF (whatever the file name says).",
            ),
            Rejection::TooLarge => Message::new(
                "Berkas ditolak: ukurannya melebihi batas.",
                "File refused: it is larger than the limit.",
            ),
            Rejection::TooManyPixels => Message::new(
                "Berkas ditolak: resolusi gambar terlalu besar. Kirim foto dengan resolusi lebih kecil.",
                "File refused: the image has too many pixels. Send a smaller photo.",
            ),
            Rejection::Unreadable => Message::new(
                "Berkas ditolak: berkas rusak atau tidak lengkap.",
                "File refused: the file is damaged or incomplete.",
            ),
            Rejection::Encrypted => Message::new(
                "Berkas ditolak: PDF yang dilindungi kata sandi tidak dapat diperiksa. Kirim tanpa kata sandi.",
                "File refused: a password-protected PDF cannot be checked. Send it without a password.",
            ),
            Rejection::SizeMismatch => Message::new(
                "Berkas ditolak: ukuran yang diunggah berbeda dengan yang diberitahukan.",
                "File refused: the uploaded size differs from the size announced.",
            ),
            Rejection::Malware => Message::new(
                "Berkas ditolak: pemindaian keamanan menemukan perangkat lunak berbahaya di dalamnya.",
                "File refused: the security scan found malicious software in it.",
            ),
            Rejection::NotScanned => Message::new(
                "Berkas ditolak: pemindaian keamanan tidak dapat memeriksanya. Kirim dalam bentuk lain (misalnya PDF tanpa kata sandi).",
                "File refused: the security scan could not check it. Send it in another form (e.g. a PDF without a password).",
            ),
            Rejection::UploadExpired => Message::new(
                "Berkas ditolak: diunggah setelah tautan unggah kedaluwarsa. Minta tautan baru.",
                "File refused: it was uploaded after the upload link expired. Ask for a new link.",
            ),
        }
    }
}

/// One attached file, as the report keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    #[serde(flatten)]
    pub uploader: Uploader,
    pub status: AttachmentStatus,
    /// Declared at the request; once ready, the type found in the bytes.
    pub file_type: FileType,
    /// Declared at the request; once ready, the clean file's size.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub requested_at: DateTime<Utc>,
}

/// What a client asks to upload: `{"filename", "content_type", "size"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRequest {
    pub file_type: FileType,
    pub size: u64,
}

impl UploadRequest {
    /// Reads the request body; the file name must be present and sensible, and is then dropped.
    pub fn parse(body: &Map<String, Value>, max_bytes: u64) -> Result<Self, Invalid> {
        crate::report::reject_unknown(body, &["filename", "content_type", "size"])?;
        let filename = match body.get("filename") {
            Some(Value::String(name)) => name.trim(),
            Some(_) => {
                return Err(Invalid::field(
                    "filename",
                    "invalid_type",
                    "Kolom `filename` harus berupa teks.",
                    "The field `filename` must be a string.",
                ))
            }
            None => return Err(Invalid::missing("filename")),
        };
        if filename.is_empty()
            || filename.chars().count() > FILENAME_MAX
            || filename.chars().any(char::is_control)
        {
            return Err(Invalid::field(
                "filename",
                "invalid_value",
                format!("Nama berkas harus 1–{FILENAME_MAX} karakter tanpa karakter kontrol."),
                format!(
                    "The file name must be 1–{FILENAME_MAX} characters with no control characters."
                ),
            ));
        }
        let file_type = match body.get("content_type") {
            Some(Value::String(value)) => FileType::from_content_type(value).ok_or_else(|| {
                Invalid::field(
                    "content_type",
                    "file_type_not_allowed",
                    "Jenis berkas harus image/jpeg, image/png, image/webp atau application/pdf.",
                    "The file type must be image/jpeg, image/png, image/webp or application/pdf.",
                )
            })?,
            Some(_) => {
                return Err(Invalid::field(
                    "content_type",
                    "invalid_type",
                    "Kolom `content_type` harus berupa teks.",
                    "The field `content_type` must be a string.",
                ))
            }
            None => return Err(Invalid::missing("content_type")),
        };
        let size = match body.get("size") {
            Some(Value::Number(n)) => whole_number(n).ok_or_else(|| size_invalid(max_bytes))?,
            Some(_) => return Err(size_invalid(max_bytes)),
            None => return Err(Invalid::missing("size")),
        };
        if size == 0 || size > max_bytes {
            return Err(Invalid {
                code: if size == 0 {
                    "invalid_value"
                } else {
                    "file_too_large"
                },
                ..size_invalid(max_bytes)
            });
        }
        Ok(Self { file_type, size })
    }
}

/// A JSON number that is a whole number from 0 up, written `3` or `3.0` (JSON does not tell them
/// apart, and some clients write every number with a point), up to 2^53 − 1, the largest every
/// JSON reader holds exactly.
pub fn whole_number(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(f))
            .map(|f| f as u64)
    })
}

fn size_invalid(max_bytes: u64) -> Invalid {
    let mb = max_bytes as f64 / (1024.0 * 1024.0);
    Invalid::field(
        "size",
        "invalid_value",
        format!("Ukuran berkas harus bilangan bulat dari 1 sampai {max_bytes} bita ({mb:.0} MB)."),
        format!("The file size must be a whole number from 1 to {max_bytes} bytes ({mb:.0} MB)."),
    )
}

/// Why a file may not be attached now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachError {
    /// The report is final: nothing more is attached to it.
    Closed,
    /// The uploader's files on this report (or this follow-up) are at the limit.
    TooMany { max: usize },
}

impl AttachError {
    pub fn code(&self) -> &'static str {
        match self {
            AttachError::Closed => "report_closed",
            AttachError::TooMany { .. } => "too_many_files",
        }
    }

    pub fn message(&self) -> Message {
        match self {
            AttachError::Closed => Message::new(
                "Laporan ini sudah selesai atau diarsipkan; lampiran tidak dapat ditambahkan.",
                "This report is completed or archived; no more files can be attached.",
            ),
            AttachError::TooMany { max } => Message::new(
                format!("Batas {max} lampiran sudah tercapai."),
                format!("The limit of {max} attachments is reached."),
            ),
        }
    }
}

/// What the evidence function found in an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Clean {
        file_type: FileType,
        size: u64,
        sha256: String,
    },
    Rejected(Rejection),
}

impl Report {
    /// The report's attachment `id`, if it has one.
    pub fn attachment(&self, id: &AttachmentId) -> Option<&Attachment> {
        self.attachments.iter().find(|a| &a.id == id)
    }

    /// Reserves a place for a new file: the next version holds it as `processing`. Rejected files
    /// do not count against the limits.
    pub fn attach(
        &self,
        id: AttachmentId,
        uploader: Uploader,
        request: UploadRequest,
        now: DateTime<Utc>,
    ) -> Result<Report, AttachError> {
        let counts = |same: &dyn Fn(&Uploader) -> bool| {
            self.attachments
                .iter()
                .filter(|a| a.status != AttachmentStatus::Rejected && same(&a.uploader))
                .count()
        };
        match &uploader {
            Uploader::Reporter => {
                // A completed report still takes evidence until it becomes final: the reporter
                // may be showing that the problem is not solved.
                let open = match self.status {
                    Status::Arsip => false,
                    Status::Selesai => self.final_at.is_some_and(|f| now < f),
                    _ => true,
                };
                if !open {
                    return Err(AttachError::Closed);
                }
                if counts(&|u| *u == Uploader::Reporter) >= MAX_REPORTER_FILES {
                    return Err(AttachError::TooMany {
                        max: MAX_REPORTER_FILES,
                    });
                }
            }
            Uploader::Agency { follow_up, .. } => {
                let this_follow_up = counts(
                    &|u| matches!(u, Uploader::Agency { follow_up: f, .. } if f == follow_up),
                );
                if this_follow_up >= MAX_FILES_PER_FOLLOW_UP {
                    return Err(AttachError::TooMany {
                        max: MAX_FILES_PER_FOLLOW_UP,
                    });
                }
                if counts(&|u| matches!(u, Uploader::Agency { .. })) >= MAX_AGENCY_FILES {
                    return Err(AttachError::TooMany {
                        max: MAX_AGENCY_FILES,
                    });
                }
            }
        }
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = now.with_timezone(&self.region.zone().offset());
        // Nothing to tell anyone yet: the stream consumers must not take the previous step's
        // kind for a new one.
        next.last_event = None;
        next.attachments.push(Attachment {
            id,
            uploader,
            status: AttachmentStatus::Processing,
            file_type: request.file_type,
            size: request.size,
            sha256: None,
            rejection: None,
            requested_at: now,
        });
        Ok(next)
    }

    /// Records what the evidence function found. A clean file becomes `ready` with a timeline
    /// entry (the agency is told of new evidence); a refused one becomes `rejected`, without an
    /// entry. `None` when the attachment is unknown or already finished: handling an upload twice
    /// changes nothing.
    pub fn finish_attachment(
        &self,
        id: &AttachmentId,
        outcome: FileOutcome,
        now: DateTime<Utc>,
    ) -> Option<(Report, Option<Event>)> {
        let index = self.attachments.iter().position(|a| &a.id == id)?;
        if self.attachments[index].status != AttachmentStatus::Processing {
            return None;
        }
        // Not progress on the complaint: unlike a follow-up, it leaves lateness as it is.
        let at = now.with_timezone(&self.region.zone().offset());
        let mut next = self.clone();
        next.version += 1;
        next.updated_at = at;
        let attachment = &mut next.attachments[index];
        match outcome {
            FileOutcome::Clean {
                file_type,
                size,
                sha256,
            } => {
                attachment.status = AttachmentStatus::Ready;
                attachment.file_type = file_type;
                attachment.size = size;
                attachment.sha256 = Some(sha256);
                let (actor, agency) = match &attachment.uploader {
                    Uploader::Reporter => (Actor::Reporter, None),
                    Uploader::Agency { agency, .. } => (Actor::Officer, Some(agency.clone())),
                };
                // Public only for an agency's file on a public report; the view decides the rest.
                let public = agency.is_some() && self.privacy == crate::report::Privacy::Publik;
                next.last_event = Some(EventKind::Evidence);
                let event = Event {
                    seq: next.version,
                    at,
                    kind: EventKind::Evidence,
                    actor,
                    agency,
                    status_before: Some(self.status),
                    status_after: self.status,
                    from_agency: None,
                    to_agency: None,
                    message: None,
                    public,
                    attachment: Some(id.clone()),
                };
                Some((next, Some(event)))
            }
            FileOutcome::Rejected(reason) => {
                attachment.status = AttachmentStatus::Rejected;
                attachment.rejection = Some(reason);
                next.last_event = None;
                Some((next, None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_map_to_content_types_and_extensions() {
        for (file_type, content_type, extension) in [
            (FileType::Jpeg, "image/jpeg", "jpg"),
            (FileType::Png, "image/png", "png"),
            (FileType::Webp, "image/webp", "webp"),
            (FileType::Pdf, "application/pdf", "pdf"),
        ] {
            assert_eq!(file_type.content_type(), content_type);
            assert_eq!(file_type.extension(), extension);
            assert_eq!(FileType::from_content_type(content_type), Some(file_type));
        }
        let jpeg = Some(FileType::Jpeg);
        assert_eq!(
            FileType::from_content_type("IMAGE/JPEG; charset=binary"),
            jpeg
        );
        assert_eq!(FileType::from_content_type("image/jpg"), jpeg);
        assert_eq!(FileType::from_content_type("image/pjpeg"), jpeg);
        assert_eq!(
            FileType::from_content_type(" application/pdf "),
            Some(FileType::Pdf)
        );
        for other in [
            "text/html",
            "image/svg+xml",
            "image/gif",
            "",
            "application/pdfx",
        ] {
            assert_eq!(FileType::from_content_type(other), None, "{other}");
        }
    }
    use crate::deadline::Deadlines;
    use crate::report::{Channel, ReportDraft};
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .expect("time")
    }

    fn report(privacy: &str) -> Report {
        let json = json!({
            "type": "pengaduan", "title": "Jalan berlubang", "category": "infrastruktur",
            "description": "Lubang besar di depan pasar sudah dua minggu.", "region": "32.74",
            "privacy": privacy
        });
        let new = ReportDraft(json.as_object().expect("object"))
            .validate(Channel::Web)
            .expect("valid");
        let code = crate::TrackingCode::generate(&mut rand::rng());
        Report::open(
            new,
            code,
            crate::AccessKeyHash("h".into()),
            utc("2026-11-30T02:00:00Z"),
            &Deadlines::indonesia(),
        )
        .0
    }

    fn photo() -> UploadRequest {
        UploadRequest {
            file_type: FileType::Jpeg,
            size: 2_000_000,
        }
    }

    fn id() -> AttachmentId {
        AttachmentId::generate(utc("2026-11-30T03:00:00Z"), &mut rand::rng())
    }

    fn clean() -> FileOutcome {
        FileOutcome::Clean {
            file_type: FileType::Jpeg,
            size: 1_500_000,
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn a_reporter_attaches_five_files_and_a_rejected_one_frees_its_place() {
        let now = utc("2026-11-30T03:00:00Z");
        let mut r = report("publik");
        let mut ids = Vec::new();
        for _ in 0..MAX_REPORTER_FILES {
            let id = id();
            r = r
                .attach(id.clone(), Uploader::Reporter, photo(), now)
                .expect("room");
            ids.push(id);
        }
        assert_eq!(r.version, 1 + MAX_REPORTER_FILES as u64);
        assert_eq!(r.last_event, None, "a reserved place is no news");
        assert_eq!(
            r.attach(id(), Uploader::Reporter, photo(), now),
            Err(AttachError::TooMany {
                max: MAX_REPORTER_FILES
            })
        );
        let (r, event) = r
            .finish_attachment(&ids[0], FileOutcome::Rejected(Rejection::Unreadable), now)
            .expect("processing");
        assert!(event.is_none(), "a refused file leaves no timeline entry");
        assert_eq!(
            r.last_event, None,
            "nothing for the stream consumers to tell"
        );
        assert_eq!(
            r.attachment(&ids[0]).map(|a| (a.status, a.rejection)),
            Some((AttachmentStatus::Rejected, Some(Rejection::Unreadable)))
        );
        assert!(r.attach(id(), Uploader::Reporter, photo(), now).is_ok());
    }

    #[test]
    fn a_clean_file_is_ready_with_one_timeline_entry_and_finishing_twice_changes_nothing() {
        let now = utc("2026-11-30T03:00:00Z");
        let id = id();
        let r = report("publik")
            .attach(id.clone(), Uploader::Reporter, photo(), now)
            .expect("room");
        let (done, event) = r.finish_attachment(&id, clean(), now).expect("processing");
        let event = event.expect("an entry");
        assert_eq!(event.kind, EventKind::Evidence);
        assert_eq!(event.seq, done.version);
        assert_eq!(event.attachment.as_ref(), Some(&id));
        assert!(!event.public, "a reporter's file is never public");
        assert_eq!(done.last_event, Some(EventKind::Evidence));
        let ready = done.attachment(&id).expect("kept");
        assert_eq!(ready.status, AttachmentStatus::Ready);
        assert_eq!(ready.size, 1_500_000);
        assert!(done.finish_attachment(&id, clean(), now).is_none());
        assert!(done
            .finish_attachment(&AttachmentId::generate(now, &mut rand::rng()), clean(), now)
            .is_none());
    }

    #[test]
    fn evidence_does_not_count_as_progress_on_a_late_report() {
        let now = utc("2026-11-30T03:00:00Z");
        let id = id();
        let mut late = report("publik");
        late.overdue = true;
        late.escalation = 2;
        let (done, _) = late
            .attach(id.clone(), Uploader::Reporter, photo(), now)
            .expect("room")
            .finish_attachment(&id, clean(), now)
            .expect("processing");
        assert!(done.overdue);
        assert_eq!(done.escalation, 2);
    }

    #[test]
    fn an_agency_file_is_public_only_on_a_publik_report_and_limited_per_follow_up() {
        let now = utc("2026-11-30T03:00:00Z");
        let agency = AgencyId::parse("kota-cirebon-dpupr").expect("id");
        let by = |follow_up| Uploader::Agency {
            agency: agency.clone(),
            follow_up,
        };
        for (privacy, public) in [("publik", true), ("anonim", false), ("rahasia", false)] {
            let id = id();
            let (_, event) = report(privacy)
                .attach(id.clone(), by(3), photo(), now)
                .expect("room")
                .finish_attachment(&id, clean(), now)
                .expect("processing");
            assert_eq!(event.map(|e| e.public), Some(public), "{privacy}");
        }
        let mut r = report("publik");
        for _ in 0..MAX_FILES_PER_FOLLOW_UP {
            r = r.attach(id(), by(3), photo(), now).expect("room");
        }
        assert_eq!(
            r.attach(id(), by(3), photo(), now),
            Err(AttachError::TooMany {
                max: MAX_FILES_PER_FOLLOW_UP
            })
        );
        assert!(
            r.attach(id(), by(4), photo(), now).is_ok(),
            "the next follow-up has room"
        );
    }

    #[test]
    fn a_final_report_takes_no_more_files_from_its_reporter() {
        let now = utc("2026-11-30T03:00:00Z");
        let mut r = report("publik");
        r.status = Status::Arsip;
        assert_eq!(
            r.attach(id(), Uploader::Reporter, photo(), now),
            Err(AttachError::Closed)
        );
        assert!(!AttachError::Closed.message().id.is_empty());
        // Done, but the reporter may still show it is not: room until the report becomes final.
        r.status = Status::Selesai;
        r.final_at = Some(utc("2026-12-10T03:00:00Z").fixed_offset());
        assert!(r.attach(id(), Uploader::Reporter, photo(), now).is_ok());
        assert_eq!(
            r.attach(
                id(),
                Uploader::Reporter,
                photo(),
                utc("2026-12-10T03:00:00Z")
            ),
            Err(AttachError::Closed)
        );
    }

    #[test]
    fn an_upload_request_names_an_allowed_type_and_a_size_within_the_limit() {
        let max = DEFAULT_MAX_FILE_BYTES;
        let parse =
            |v: serde_json::Value| UploadRequest::parse(v.as_object().expect("object"), max);
        assert_eq!(
            parse(json!({"filename": "jalan.jpg", "content_type": "image/jpeg", "size": 1234})),
            Ok(UploadRequest {
                file_type: FileType::Jpeg,
                size: 1234
            })
        );
        let code = |v| parse(v).map_err(|e| (e.code, e.field)).err();
        assert_eq!(
            code(json!({"content_type": "image/jpeg", "size": 1})),
            Some(("missing_field", Some("filename".into())))
        );
        assert_eq!(
            code(json!({"filename": "a.html", "content_type": "text/html", "size": 1})),
            Some(("file_type_not_allowed", Some("content_type".into())))
        );
        assert_eq!(
            code(json!({"filename": "a.pdf", "content_type": "application/pdf", "size": max + 1})),
            Some(("file_too_large", Some("size".into())))
        );
        assert_eq!(
            code(json!({"filename": "a.pdf", "content_type": "application/pdf", "size": -1})),
            Some(("invalid_value", Some("size".into())))
        );
        assert_eq!(
            code(json!({"filename": "a\u{0}.pdf", "content_type": "application/pdf", "size": 9})),
            Some(("invalid_value", Some("filename".into())))
        );
        assert_eq!(
            code(
                json!({"filename": "a.pdf", "content_type": "application/pdf", "size": 9, "path": "/etc"})
            ),
            Some(("unknown_field", Some("path".into())))
        );
    }

    #[test]
    fn an_attachment_id_is_a_ulid_and_nothing_else() {
        let id = id();
        assert_eq!(AttachmentId::parse(id.as_str()).as_ref(), Ok(&id));
        assert!(AttachmentId::parse("../../etc/passwd").is_err());
        assert!(AttachmentId::parse("").is_err());
    }
}
