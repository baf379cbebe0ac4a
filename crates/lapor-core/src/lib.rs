//! Lapor's domain: what a report is and the rules it lives by.
//!
//! Nothing here knows about AWS, HTTP or an async runtime, so every rule can be tested as a pure
//! function and reused by each Lambda function, the local server and the tests.

pub mod access_key;
pub mod agency;
pub mod attachment;
pub mod category;
pub mod classifier;
pub mod clock;
pub mod deadline;
pub mod disposition;
pub mod error;
pub mod lifecycle;
pub mod partner;
pub mod permission;
pub mod region;
pub mod report;
pub mod sms;
pub mod stats;
pub mod status;
pub mod tracking;

pub use access_key::{AccessKey, AccessKeyHash, ContactKeys, KeyPepper, RateWindow};
pub use agency::{Agency, AgencyContact, AgencyId, AgencyLevel, Directory, Role, Scope};
pub use attachment::{
    AttachError, Attachment, AttachmentId, AttachmentStatus, FileOutcome, FileType, Rejection,
    UploadRequest, Uploader,
};
pub use category::Category;
pub use classifier::{classify, Classification};
pub use clock::{Clock, FixedClock, SystemClock};
pub use deadline::{Deadlines, ServiceLevels, Sla, WorkCalendar};
pub use disposition::Hop;
pub use error::{Invalid, Message};
pub use partner::{PartnerApiKey, PartnerKey, PartnerKeyId};
pub use region::{Region, RegionCode, RegionLevel, Zone};
pub use report::{
    format_time, Actor, Channel, Email, Event, EventKind, Location, LocationDraft, NewReport,
    Phone, Privacy, Rating, Report, ReportDraft, ReportType, Reporter, ReporterDraft,
};
pub use status::{Color, Status, TransitionError};
pub use tracking::TrackingCode;
