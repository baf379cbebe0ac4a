//! A report (pengaduan, aspirasi, permintaan informasi or whistleblowing), how it is built from a
//! citizen's input, and the events on its timeline.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access_key::AccessKeyHash;
use crate::agency::AgencyId;
use crate::category::Category;
use crate::deadline::Deadlines;
use crate::error::Invalid;
use crate::region::RegionCode;
use crate::status::{Color, Status};
use crate::tracking::TrackingCode;

pub const TITLE_MAX: usize = 150;
pub const DESCRIPTION_MIN: usize = 20;
pub const DESCRIPTION_MAX: usize = 4_000;
pub const NAME_MAX: usize = 100;
pub const ADDRESS_MAX: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportType {
    Pengaduan,
    Aspirasi,
    PermintaanInformasi,
    Whistleblowing,
}

impl ReportType {
    const ALL: [(ReportType, &'static str); 4] = [
        (ReportType::Pengaduan, "pengaduan"),
        (ReportType::Aspirasi, "aspirasi"),
        (ReportType::PermintaanInformasi, "permintaan_informasi"),
        (ReportType::Whistleblowing, "whistleblowing"),
    ];
}

/// Who may see what. `anonim` hides the reporter from the agency and the public; `rahasia` keeps
/// the whole report out of public view; whistleblowing is always both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    Publik,
    Anonim,
    Rahasia,
    RahasiaAnonim,
}

impl Privacy {
    const INPUT: [(Privacy, &'static str); 3] = [
        (Privacy::Publik, "publik"),
        (Privacy::Anonim, "anonim"),
        (Privacy::Rahasia, "rahasia"),
    ];

    pub fn hides_identity(self) -> bool {
        matches!(self, Privacy::Anonim | Privacy::RahasiaAnonim)
    }

    pub fn hides_report(self) -> bool {
        matches!(self, Privacy::Rahasia | Privacy::RahasiaAnonim)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    Sms,
    Open311,
}

/// A phone number in E.164 form (`+6281234567890`). `{:?}` shows it masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Phone")
            .field(&Hidden(&self.masked()))
            .finish()
    }
}

/// Shows a placeholder (or an already-masked text) in `{:?}` instead of identity.
struct Hidden<'a>(&'a str);

impl std::fmt::Debug for Hidden<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// `{:?}` of an optional identity field: whether it is there, never what it is.
fn hidden_if_some<T>(value: &Option<T>) -> Option<Hidden<'static>> {
    value.as_ref().map(|_| Hidden("…"))
}

impl Phone {
    /// Reads a number as Indonesians write it (`0812-3456-7890`, `62812…`, `+62 812 …`).
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let invalid = || {
            Invalid::field(
                "phone",
                "invalid_phone",
                "Nomor telepon tidak valid. Contoh: 0812-3456-7890 atau +6281234567890.",
                "The phone number is not valid. Example: 0812-3456-7890 or +6281234567890.",
            )
        };
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.len() > 32 {
            return Err(invalid());
        }
        // Numbers written as 62… without the plus are common in Indonesia.
        let normalised = match trimmed.strip_prefix("62") {
            Some(rest) if rest.starts_with('8') => format!("+62{rest}"),
            _ => trimmed.to_string(),
        };
        e164(&normalised).map(Self).ok_or_else(invalid)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is an Indonesian mobile number (`+628…`), the only kind Lapor sends SMS to:
    /// texting any valid number abroad would let a script pump SMS to premium numbers at the
    /// platform's cost. Other numbers are kept as contact data.
    pub fn is_indonesian_mobile(&self) -> bool {
        self.0.starts_with("+628")
    }

    /// For logs and receipts: all but the last three digits hidden.
    pub fn masked(&self) -> String {
        let keep = self.0.len().saturating_sub(3);
        format!("{}{}", "*".repeat(keep), &self.0[keep..])
    }
}

/// Indonesia's numbering plan alone (`data/phone_id.xml`, the phonenumber crate's own metadata
/// for it). The crate's whole-world database takes about 170 ms of CPU to build on first use,
/// over two seconds at a 128 MB function's share; this one about a millisecond.
static INDONESIA: LazyLock<phonenumber::metadata::Database> = LazyLock::new(|| {
    phonenumber::metadata::Database::parse(include_str!("../data/phone_id.xml"))
        .unwrap_or_else(|e| panic!("bundled data/phone_id.xml is invalid: {e}"))
});

/// A valid number in E.164 form, read as dialled in Indonesia. A number that resolves to +62
/// reads the same with Indonesia's metadata alone as with the whole world's (country code 62 is
/// Indonesia's only); only a number that names another country code loads the whole database.
fn e164(text: &str) -> Option<String> {
    use phonenumber::{country::Id, ParseError};
    if let Some(number) = indonesian_mobile(text) {
        return Some(number);
    }
    let indonesian = match phonenumber::parse_with(&INDONESIA, Some(Id::ID), text) {
        Err(ParseError::InvalidCountryCode) => None,
        Err(_) => return None,
        Ok(number) => Some(number).filter(|n| n.code().value() == INDONESIA_CODE),
    };
    let (number, valid) = match indonesian {
        Some(number) => {
            let valid = phonenumber::is_valid_with(&INDONESIA, &number);
            (number, valid)
        }
        None => {
            let number = phonenumber::parse(Some(Id::ID), text).ok()?;
            let valid = phonenumber::is_valid(&number);
            (number, valid)
        }
    };
    // What the crate's `Mode::E164` writes; its formatter would load the whole database even
    // when given another one.
    valid.then(|| format!("+{}{}", number.code().value(), number.national()))
}

const INDONESIA_CODE: u16 = 62;

/// The shapes nearly every number arrives in, an Indonesian mobile written `0812-3456-7890`,
/// `0812 3456 7890`, `+62 812 3456 7890` or `+6281234567890` (how SMS names its sender), read
/// without the phonenumber crate: its first use in a process builds its metadata and compiles a
/// dozen regexes, some 2.5 ms of CPU, over 30 ms at a 128 MB function's share, on the first
/// request of every new instance. Such a number is valid exactly when its national part fits
/// `<mobile>` of `data/phone_id.xml` (`8[1-35-9][0-9]{7,10}`): that also fits `<generalDesc>`,
/// and no type checked before mobile starts with 81–83 or 85–89. Anything else is `None` and
/// goes to the crate; tests hold this to the crate's answer.
fn indonesian_mobile(text: &str) -> Option<String> {
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' => {}
            // The crate refuses some `+62…` numbers with these in them ("+62812-3456-7890").
            '-' | '.' if !international => {}
            _ => return None,
        }
    }
    let national = if international {
        digits.strip_prefix("62")?
    } else {
        digits.strip_prefix('0')?
    };
    let mobile = matches!(
        national.as_bytes(),
        [b'8', b'1'..=b'3' | b'5'..=b'9', rest @ ..] if (7..=10).contains(&rest.len())
    );
    mobile.then(|| format!("+62{national}"))
}

/// An e-mail address, checked against RFC 5322's address grammar. `{:?}` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(…)")
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let trimmed = input.trim();
        let ok = trimmed.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                trimmed,
                email_address::Options::default().with_required_tld(),
            )
            .is_ok();
        if !ok {
            return Err(Invalid::field(
                "email",
                "invalid_email",
                "Alamat email tidak valid.",
                "The e-mail address is not valid.",
            ));
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The reporter's identity. Stored apart from the report and shown only where privacy allows;
/// `{:?}` shows which parts are there, the phone masked, never the name or the address.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Whether the reporter wants to be told of progress (needs a phone or an e-mail).
    pub notifications: bool,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("name", &hidden_if_some(&self.name))
            .field("phone", &self.phone)
            .field("email", &hidden_if_some(&self.email))
            .field("notifications", &self.notifications)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Indonesia's bounding box, with a little sea around the outermost islands.
const LAT_RANGE: (f64, f64) = (-11.5, 6.5);
const LON_RANGE: (f64, f64) = (94.5, 141.5);

/// A valid submission, before it has a tracking code.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub report_type: ReportType,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub region: RegionCode,
    pub location: Option<Location>,
    pub privacy: Privacy,
    pub channel: Channel,
    pub reporter: Option<Reporter>,
    /// The channel named no place, so `region` is a stand-in (see [`Report::region_assumed`]).
    pub region_assumed: bool,
}

/// The first sentence of free text (up to `.`, `!` or `?` and a space, or the end of the first
/// line), trimmed: what a channel without a title field (SMS, Open311) titles a report with.
pub fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let line = text.split(['\n', '\r']).next().unwrap_or(text);
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let ends = matches!(c, '.' | '!' | '?')
            && chars.peek().is_none_or(|(_, next)| next.is_whitespace());
        if ends {
            return line[..at + c.len_utf8()].trim();
        }
    }
    line.trim()
}

/// `text` cut at a word to at most `max_chars` characters, with `...` after it when it was cut.
pub fn shorten(text: &str, max_chars: usize) -> String {
    let mut short: String = text.chars().take(max_chars).collect();
    if short.chars().count() < text.chars().count() {
        if let Some(cut) = short.rfind(' ') {
            short.truncate(cut);
        }
        short.push_str("...");
    }
    short
}

/// How Lapor writes a time for people: RFC 3339 to the second, with the zone's offset.
pub fn format_time(at: &DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The JSON shape of a submission: `{"type","title","description","category","region",
/// "location"?, "privacy", "reporter"?}`. Kept as raw JSON so each error names its field.
pub struct ReportDraft<'a>(pub &'a Map<String, Value>);
pub struct ReporterDraft<'a>(pub &'a Map<String, Value>);
pub struct LocationDraft<'a>(pub &'a Map<String, Value>);

const REPORT_FIELDS: [&str; 8] = [
    "type",
    "title",
    "description",
    "category",
    "region",
    "location",
    "privacy",
    "reporter",
];

impl ReportDraft<'_> {
    pub fn validate(&self, channel: Channel) -> Result<NewReport, Invalid> {
        reject_unknown(self.0, &REPORT_FIELDS)?;
        let report_type = one_of("type", required_str(self.0, "type")?, &ReportType::ALL)?;
        let title = text(self.0, "title", 1, TITLE_MAX, false)?;
        let description = text(
            self.0,
            "description",
            DESCRIPTION_MIN,
            DESCRIPTION_MAX,
            true,
        )?;
        let category = Category::parse(required_str(self.0, "category")?)?;
        let region = RegionCode::parse(required_str(self.0, "region")?)?;
        let chosen = one_of("privacy", required_str(self.0, "privacy")?, &Privacy::INPUT)?;
        let privacy = if report_type == ReportType::Whistleblowing {
            Privacy::RahasiaAnonim
        } else {
            chosen
        };
        let location = optional_object(self.0, "location")?
            .map(|o| {
                LocationDraft(o)
                    .validate()
                    .map_err(|e| e.within("location"))
            })
            .transpose()?;
        let reporter = optional_object(self.0, "reporter")?
            .map(|o| {
                ReporterDraft(o)
                    .validate()
                    .map_err(|e| e.within("reporter"))
            })
            .transpose()?;
        Ok(NewReport {
            report_type,
            title,
            description,
            category,
            region,
            location,
            privacy,
            channel,
            reporter,
            region_assumed: false,
        })
    }
}

impl ReporterDraft<'_> {
    pub fn validate(&self) -> Result<Reporter, Invalid> {
        reject_unknown(self.0, &["name", "phone", "email", "notifications"])?;
        let name = optional_text(self.0, "name", NAME_MAX, false)?;
        let phone = optional_str(self.0, "phone")?
            .map(Phone::parse)
            .transpose()?;
        let email = optional_str(self.0, "email")?
            .map(Email::parse)
            .transpose()?;
        let notifications = match self.0.get("notifications") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(wrong_type("notifications", "true/false")),
        };
        if notifications && phone.is_none() && email.is_none() {
            return Err(Invalid::field(
                "phone",
                "contact_required",
                "Isi nomor telepon atau email agar kami dapat mengabari Anda, atau setel `notifications` ke false.",
                "Give a phone number or an e-mail so we can keep you informed, or set `notifications` to false.",
            ));
        }
        Ok(Reporter {
            name,
            phone,
            email,
            notifications,
        })
    }
}

impl LocationDraft<'_> {
    pub fn validate(&self) -> Result<Location, Invalid> {
        reject_unknown(self.0, &["address", "lat", "lon"])?;
        let address = optional_text(self.0, "address", ADDRESS_MAX, false)?;
        let lat = optional_number(self.0, "lat")?;
        let lon = optional_number(self.0, "lon")?;
        match (lat, lon) {
            (Some(_), None) => return Err(Invalid::missing("lon")),
            (None, Some(_)) => return Err(Invalid::missing("lat")),
            (Some(lat), Some(lon)) => {
                if !(LAT_RANGE.0..=LAT_RANGE.1).contains(&lat) {
                    return Err(outside_indonesia("lat"));
                }
                if !(LON_RANGE.0..=LON_RANGE.1).contains(&lon) {
                    return Err(outside_indonesia("lon"));
                }
            }
            (None, None) => {}
        }
        if address.is_none() && lat.is_none() {
            return Err(Invalid::field(
                "address",
                "empty_location",
                "Lokasi perlu alamat atau koordinat (lat, lon).",
                "A location needs an address or coordinates (lat, lon).",
            ));
        }
        Ok(Location { address, lat, lon })
    }
}

fn outside_indonesia(field: &str) -> Invalid {
    Invalid::field(
        field,
        "outside_indonesia",
        "Koordinat berada di luar wilayah Indonesia.",
        "The coordinates are outside Indonesia.",
    )
}

/// Refuses fields the caller did not mean to send: a typo must not silently drop data.
pub fn reject_unknown(obj: &Map<String, Value>, known: &[&str]) -> Result<(), Invalid> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(Invalid::field(
            k.clone(),
            "unknown_field",
            format!(
                "Kolom `{k}` tidak dikenal. Kolom yang diterima: {}.",
                known.join(", ")
            ),
            format!(
                "The field `{k}` is not known. Accepted fields: {}.",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn wrong_type(field: &str, expected: &str) -> Invalid {
    Invalid::field(
        field,
        "invalid_type",
        format!("Kolom `{field}` harus berisi {expected}."),
        format!("The field `{field}` must be {expected}."),
    )
}

fn optional_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Invalid> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(field, "teks / text")),
    }
}

fn required_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, Invalid> {
    optional_str(obj, field)?.ok_or_else(|| Invalid::missing(field))
}

fn optional_number(obj: &Map<String, Value>, field: &str) -> Result<Option<f64>, Invalid> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| wrong_type(field, "angka / a number")),
        Some(_) => Err(wrong_type(field, "angka / a number")),
    }
}

fn optional_object<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, Invalid> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(wrong_type(field, "objek JSON / a JSON object")),
    }
}

fn one_of<T: Copy>(field: &str, input: &str, options: &[(T, &str)]) -> Result<T, Invalid> {
    let wanted = input.trim().to_ascii_lowercase();
    options
        .iter()
        .find(|(_, name)| *name == wanted)
        .map(|(value, _)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(_, n)| *n).collect();
            Invalid::field(
                field,
                "invalid_value",
                format!(
                    "Kolom `{field}` harus salah satu dari: {}.",
                    names.join(", ")
                ),
                format!("The field `{field}` must be one of: {}.", names.join(", ")),
            )
        })
}

/// Free text, trimmed, measured in characters, with control characters refused (newlines and
/// tabs allowed where `multiline`).
pub fn text(
    obj: &Map<String, Value>,
    field: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, Invalid> {
    let value = required_str(obj, field)?.trim();
    check_text(field, value, min, max, multiline)?;
    Ok(value.to_string())
}

/// Like [`text`], but absent or empty is `None`.
pub fn optional_text(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
    multiline: bool,
) -> Result<Option<String>, Invalid> {
    optional_str(obj, field)?
        .map(|v| {
            let v = v.trim();
            check_text(field, v, 1, max, multiline).map(|()| v.to_string())
        })
        .transpose()
}

fn check_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<(), Invalid> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(Invalid::field(
            field,
            "invalid_length",
            format!("Kolom `{field}` harus {min}–{max} karakter (sekarang {len})."),
            format!("The field `{field}` must have {min}–{max} characters (it has {len})."),
        ));
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !value.chars().all(allowed) {
        return Err(Invalid::field(
            field,
            "invalid_characters",
            format!("Kolom `{field}` berisi karakter kontrol yang tidak diizinkan."),
            format!("The field `{field}` contains control characters that are not allowed."),
        ));
    }
    Ok(())
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The report itself, as every function reads it. Holds no reporter identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub tracking_code: TrackingCode,
    #[serde(rename = "type")]
    pub report_type: ReportType,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub region: RegionCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub privacy: Privacy,
    pub channel: Channel,
    /// The channel named no place (an SMS that mentions no town): `region` is a stand-in, and
    /// routing leaves the report to the central admin's triage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub region_assumed: bool,
    pub status: Status,
    /// Set by the deadline sweep when the current deadline has passed.
    #[serde(default)]
    pub overdue: bool,
    /// How far the sweep has escalated the current lateness: 1 reminder to the agency, 2 its
    /// parent agency, 3 the central admin (with the Ombudsman copied). Reset by any progress.
    #[serde(default)]
    pub escalation: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyId>,
    /// Waiting in the central admin's triage queue for verification and forwarding.
    #[serde(default)]
    pub triage: bool,
    /// When the current stage's deadline passes (none once the report needs nothing more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// When the report was last forwarded: the completion deadline counts from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_at: Option<DateTime<FixedOffset>>,
    /// The agency's first follow-up, and whether it came before its deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub responded_on_time: bool,
    /// For a `selesai` report: when it becomes final unless the reporter answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_at: Option<DateTime<FixedOffset>>,
    /// For a `tertunda` report: when the agency said it would resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// Replies the reporter has sent, by web or SMS (at most [`crate::lifecycle::MAX_REPLIES`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replies: u32,
    /// The local day (the report's zone) of the reporter's latest reply, and how many replies
    /// they sent that day: the daily cap is kept on the report itself, so checking it costs no
    /// extra write and it holds under concurrent replies (the version check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_day: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replies_that_day: u32,
    /// Evidence files: at most [`crate::attachment::MAX_REPORTER_FILES`] from the reporter and
    /// [`crate::attachment::MAX_AGENCY_FILES`] from agencies, so the record stays small.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::attachment::Attachment>,
    /// What the last write did, so stream consumers know what to tell whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<EventKind>,
    pub access_key_hash: AccessKeyHash,
    /// Whether a reporter identity is on file (kept in its own record).
    pub has_reporter: bool,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    /// Optimistic-concurrency counter: every update must name the version it read.
    pub version: u64,
}

impl Report {
    /// Opens a new report: status `diterima`, version 1, times in the region's own zone, and a
    /// deadline from birth (the central admin's verification), so the sweep flags it red even if
    /// nothing ever routes it.
    pub fn open(
        new: NewReport,
        tracking_code: TrackingCode,
        access_key_hash: AccessKeyHash,
        now: DateTime<Utc>,
        deadlines: &Deadlines,
    ) -> (Report, Option<Reporter>, Event) {
        let local = now.with_timezone(&new.region.zone().offset());
        let mut report = Report {
            tracking_code,
            report_type: new.report_type,
            title: new.title,
            description: new.description,
            category: new.category,
            region: new.region,
            location: new.location,
            privacy: new.privacy,
            channel: new.channel,
            region_assumed: new.region_assumed,
            status: Status::Diterima,
            overdue: false,
            escalation: 0,
            agency: None,
            triage: false,
            due_at: None,
            forwarded_at: None,
            first_response_at: None,
            responded_on_time: false,
            final_at: None,
            resume_at: None,
            rating: None,
            replies: 0,
            reply_day: None,
            replies_that_day: 0,
            attachments: Vec::new(),
            last_event: Some(EventKind::Submitted),
            access_key_hash,
            has_reporter: new.reporter.is_some(),
            created_at: local,
            updated_at: local,
            version: 1,
        };
        report.due_at = Some(report.verification_due(now, deadlines));
        let event = Event {
            seq: 1,
            at: local,
            kind: EventKind::Submitted,
            actor: Actor::Reporter,
            agency: None,
            status_before: None,
            status_after: Status::Diterima,
            from_agency: None,
            to_agency: None,
            message: None,
            public: true,
            attachment: None,
        };
        (report, new.reporter, event)
    }

    pub fn color(&self) -> Color {
        self.status.color(self.overdue)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Submitted,
    /// Waiting for the central admin to verify and forward it.
    Triage,
    Forwarded,
    FollowUp,
    Returned,
    /// The reporter's message to the agency (not public).
    Reply,
    /// The reporter's rating of the outcome (not public).
    Rating,
    Archived,
    Escalated,
    Closed,
    /// A file attached by the reporter or the agency passed its checks.
    Evidence,
}

/// The reporter's verdict on a completed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub stars: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Reporter,
    AdminPusat,
    AgencyAdmin,
    Officer,
    System,
}

/// One entry of a report's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position on the timeline, from 1; equals the report version that wrote it.
    pub seq: u64,
    pub at: DateTime<FixedOffset>,
    pub kind: EventKind,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<AgencyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_before: Option<Status>,
    pub status_after: Status,
    /// For forwarding and returns: the agency the report left and the one it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_agency: Option<AgencyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_agency: Option<AgencyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Whether the public view shows it (replies between reporter and agency are not public).
    pub public: bool,
    /// For new evidence: the attachment that became ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::attachment::AttachmentId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "type": "pengaduan",
            "title": "Jalan berlubang di Jalan Cipto",
            "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
            "category": "infrastruktur",
            "region": "32.74",
            "location": {"address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon", "lat": -6.7153, "lon": 108.5505},
            "privacy": "publik",
            "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti@example.id"}
        })
    }

    fn validate(v: &Value) -> Result<NewReport, Invalid> {
        ReportDraft(v.as_object().unwrap()).validate(Channel::Web)
    }

    /// Pieces of the sample reporter's identity that `{:?}` must never show.
    const IDENTITY: [&str; 4] = ["Siti", "Aminah", "812345678", "siti@example.id"];

    fn assert_no_identity(debug: &str) {
        for piece in IDENTITY {
            assert!(!debug.contains(piece), "{piece:?} in {debug}");
        }
    }

    #[test]
    fn identity_is_redacted_in_debug() {
        let new = validate(&valid()).expect("valid");
        let reporter = new.reporter.clone().expect("reporter");
        let phone = reporter.phone.clone().expect("phone");
        let email = reporter.email.clone().expect("email");
        for debug in [
            format!("{phone:?}"),
            format!("{email:?}"),
            format!("{reporter:?}"),
            format!("{reporter:#?}"),
            format!("{new:?}"),
        ] {
            assert_no_identity(&debug);
        }
        // What is left is still useful to whoever reads a log: which parts are there.
        assert_eq!(format!("{phone:?}"), "Phone(***********890)");
        assert!(format!("{reporter:?}").contains("name: Some(…)"));
        assert!(format!("{reporter:?}").contains("notifications: true"));
        // The values themselves are untouched.
        assert_eq!(phone.as_str(), "+6281234567890");
        assert_eq!(email.as_str(), "siti@example.id");
    }

    fn field_error(mutate: impl FnOnce(&mut Value)) -> (String, &'static str) {
        let mut v = valid();
        mutate(&mut v);
        let err = validate(&v).expect_err("should be rejected");
        (err.field.unwrap_or_default(), err.code)
    }

    #[test]
    fn a_valid_report_is_accepted_and_normalised() {
        let new = validate(&valid()).unwrap();
        assert_eq!(new.region.as_str(), "32.74");
        assert_eq!(new.category, Category::Infrastruktur);
        let reporter = new.reporter.unwrap();
        assert_eq!(reporter.phone.unwrap().as_str(), "+6281234567890");
        assert!(reporter.notifications);
    }

    #[test]
    fn whistleblowing_is_always_secret_and_anonymous() {
        let mut v = valid();
        v["type"] = json!("whistleblowing");
        v["privacy"] = json!("publik");
        assert_eq!(validate(&v).unwrap().privacy, Privacy::RahasiaAnonim);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Mutation = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Mutation, &str, &str)> = vec![
            (
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("title");
                }),
                "title",
                "missing_field",
            ),
            (
                Box::new(|v| v["title"] = json!("x".repeat(151))),
                "title",
                "invalid_length",
            ),
            (
                Box::new(|v| v["title"] = json!(42)),
                "title",
                "invalid_type",
            ),
            (
                Box::new(|v| v["description"] = json!("terlalu pendek")),
                "description",
                "invalid_length",
            ),
            (
                Box::new(|v| v["description"] = json!("a".repeat(4001))),
                "description",
                "invalid_length",
            ),
            (
                Box::new(|v| v["type"] = json!("keluhan")),
                "type",
                "invalid_value",
            ),
            (
                Box::new(|v| v["privacy"] = json!("terbuka")),
                "privacy",
                "invalid_value",
            ),
            (
                Box::new(|v| v["category"] = json!("jalan")),
                "category",
                "unknown_category",
            ),
            (
                Box::new(|v| v["region"] = json!("99.99")),
                "region",
                "unknown_region",
            ),
            (
                Box::new(|v| v["location"]["lat"] = json!(40.0)),
                "location.lat",
                "outside_indonesia",
            ),
            (
                Box::new(|v| {
                    v["location"].as_object_mut().unwrap().remove("lon");
                }),
                "location.lon",
                "missing_field",
            ),
            (
                Box::new(|v| v["reporter"]["phone"] = json!("12345")),
                "reporter.phone",
                "invalid_phone",
            ),
            (
                Box::new(|v| v["reporter"]["email"] = json!("siti@")),
                "reporter.email",
                "invalid_email",
            ),
            (
                Box::new(|v| v["reporter"] = json!({"name": "Siti"})),
                "reporter.phone",
                "contact_required",
            ),
            (
                Box::new(|v| v["reporter"] = json!("Siti")),
                "reporter",
                "invalid_type",
            ),
            (
                Box::new(|v| v["reporter_name"] = json!("Siti")),
                "reporter_name",
                "unknown_field",
            ),
            (
                Box::new(|v| v["title"] = json!("Jalan\u{0007}rusak")),
                "title",
                "invalid_characters",
            ),
        ];
        for (mutate, field, code) in cases {
            assert_eq!(field_error(mutate), (field.to_string(), code));
        }
    }

    #[test]
    fn a_reporter_may_opt_out_of_notifications() {
        let mut v = valid();
        v["reporter"] = json!({"name": "Siti", "notifications": false});
        assert!(!validate(&v).unwrap().reporter.unwrap().notifications);
    }

    #[test]
    fn opening_uses_the_region_zone_and_starts_the_timeline() {
        let new = validate(&valid()).unwrap();
        let code = TrackingCode::generate(&mut rand::rng());
        let now = DateTime::parse_from_rfc3339("2026-11-28T01:00:00Z")
            .unwrap()
            .to_utc();
        let (report, reporter, event) = Report::open(
            new,
            code,
            AccessKeyHash("h".into()),
            now,
            &Deadlines::indonesia(),
        );
        assert_eq!(report.created_at.to_rfc3339(), "2026-11-28T08:00:00+07:00");
        assert_eq!(report.status, Status::Diterima);
        assert_eq!(report.color(), Color::Grey);
        assert_eq!(report.version, 1);
        assert!(reporter.is_some() && report.has_reporter);
        assert_eq!(event.seq, 1);
        assert!(event.public);
        // Saturday 08:00 WIB + 3 working days = Wednesday 2 December, at opening.
        assert_eq!(
            report.due_at.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-12-02T08:00:00+07:00"),
            "a new report has its verification deadline from birth"
        );
    }

    #[test]
    fn a_title_is_the_first_sentence_cut_at_a_word() {
        assert_eq!(
            first_sentence("  Lampu jalan mati. Sudah seminggu gelap."),
            "Lampu jalan mati."
        );
        assert_eq!(first_sentence("Lubang besar! Bahaya"), "Lubang besar!");
        assert_eq!(
            first_sentence("Jalan v2.0 rusak\nsejak kemarin"),
            "Jalan v2.0 rusak"
        );
        assert_eq!(first_sentence("Tanpa titik"), "Tanpa titik");
        assert_eq!(shorten("jalan rusak parah", 11), "jalan...");
        assert_eq!(shorten("jalan rusak", 11), "jalan rusak");
        let long = "kata ".repeat(60);
        assert!(
            shorten(first_sentence(&long), TITLE_MAX - 3)
                .chars()
                .count()
                <= TITLE_MAX
        );
    }

    #[test]
    fn masks_all_but_the_last_three_digits() {
        let phone = Phone::parse("+62 812 3456 7890").unwrap();
        assert_eq!(phone.masked(), "***********890");
    }

    /// What `e164` must answer: the phonenumber crate's own reading with its whole database.
    fn e164_with_the_whole_world(text: &str) -> Option<String> {
        let number = phonenumber::parse(Some(phonenumber::country::Id::ID), text).ok()?;
        phonenumber::is_valid(&number)
            .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
    }

    #[test]
    fn the_bundled_indonesian_metadata_is_the_crates_own() {
        let bundled = INDONESIA
            .by_id("ID")
            .expect("Indonesia in data/phone_id.xml");
        let crates = phonenumber::metadata::DATABASE
            .by_id("ID")
            .expect("Indonesia in the crate");
        // The one change (see the file's header): \d written [0-9]; `{:?}` doubles the backslash.
        let crates = format!("{crates:?}").replace(r"\\d", "[0-9]");
        assert_eq!(format!("{bundled:?}"), crates);
        assert_eq!(INDONESIA.iter().count(), 1);
    }

    #[test]
    fn numbers_read_as_the_whole_database_reads_them() {
        for text in [
            "0812-3456-7890",
            "+62 812 3456 7890",
            "+6281234567890",
            "0812 3456 7890",
            "+62812-3456-7890",
            "+628100000-00",
            "(021) 555-1234",
            "021 5551234",
            "+62 21 5551234",
            "0800 1 234 567",
            "001 803 123 4567",
            "008 62 812 3456 7890",
            "009 44 20 7946 0958",
            "tel:+62-812-3456-7890",
            "+62 812 3456 7890 ext. 12",
            "+44 20 7946 0958",
            "+1 650 253 0000",
            "+65 6123 4567",
            "+7 912 345 67 89",
            "+0 812 3456",
            "+999 1234 5678",
            "112",
            "1500 123",
            "0812",
            "nomor saya 0812 3456 7890",
            "bukan nomor",
        ] {
            assert_eq!(e164(text), e164_with_the_whole_world(text), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_reads_as_the_whole_database_reads_it(
            prefix in proptest::sample::select(vec![
                "", "0", "08", "62", "+62", "+6", "+", "00", "008", "009", "0062", "+1", "+44",
                "+0", "tel:+62-", "(0", "+62 (0)",
            ]),
            rest in "[0-9 ()./-]{0,18}",
        ) {
            let text = format!("{prefix}{rest}");
            proptest::prop_assert_eq!(e164(&text), e164_with_the_whole_world(&text), "{}", text);
        }

        /// The shortcut for mobile numbers (`indonesian_mobile`) gives the crate's answer, for
        /// every length and operator prefix around the ones it accepts.
        #[test]
        fn mobile_shapes_read_as_the_whole_database_reads_them(
            prefix in proptest::sample::select(vec!["0", "+62", "+62 ", "+ 62", "62", "+620", "-0", " 0"]),
            operator in "8[0-9]",
            rest in "[0-9 .-]{0,14}",
        ) {
            let text = format!("{prefix}{operator}{rest}");
            let shortcut = indonesian_mobile(&text);
            proptest::prop_assert!(shortcut.is_none() || shortcut == e164_with_the_whole_world(&text), "{}", text);
            proptest::prop_assert_eq!(e164(&text), e164_with_the_whole_world(&text), "{}", text);
        }
    }
}
