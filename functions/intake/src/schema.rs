//! The shapes of intake's requests and answers, for the OpenAPI document. The handlers validate
//! field by field (each error names its field); these types state the same rules in JSON Schema,
//! and schemathesis checks in `scripts/test` that the two agree.

#![allow(dead_code)]

use std::borrow::Cow;

use lapor_core::{Category, Channel, Color, Privacy, Region, ReportType, Status};
use lapor_http::openapi::{optional_text, text, AttachmentEntry, TimelineEntry};
use serde::Deserialize;
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::Object;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A region code from the bundled Kemendagri table (`GET /regions`): a province (`32`) or a
/// regency/city (`32.74`).
pub struct RegionCode;

impl PartialSchema for RegionCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Kode wilayah Kemendagri (`GET /regions`). / A Kemendagri region code.",
            ))
            .enum_values(Some(Region::all().iter().map(|r| r.code.clone())))
            .into()
    }
}

impl ToSchema for RegionCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("RegionCode")
    }
}

/// The privacy a citizen may choose (whistleblowing reports are always `rahasia` and anonymous).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyChoice {
    Publik,
    Anonim,
    Rahasia,
}

/// A new report (`POST /reports`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    #[serde(rename = "type")]
    pub report_type: ReportType,
    #[schema(schema_with = title)]
    pub title: String,
    /// 20–4000 characters once leading and trailing spaces are removed.
    #[schema(schema_with = description)]
    pub description: String,
    pub category: Category,
    #[schema(schema_with = RegionCode::schema)]
    pub region: String,
    /// `null` counts as absent.
    pub location: Option<LocationInput>,
    pub privacy: PrivacyChoice,
    /// Who reports; hidden from agencies and the public for `anonim`, `rahasia` and
    /// whistleblowing reports. With `notifications` (the default) a phone or an e-mail is needed.
    pub reporter: Option<ReporterInput>,
}

/// Where: an address, coordinates inside Indonesia (`lat` and `lon` together), or both.
/// `null` or a blank value counts as absent.
#[derive(Deserialize)]
pub struct LocationInput;

impl PartialSchema for LocationInput {
    fn schema() -> RefOr<Schema> {
        let coordinate = |min: f64, max: f64| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .minimum(Some(min))
                .maximum(Some(max))
        };
        let fields = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "address",
                optional_text(lapor_core::report::ADDRESS_MAX, false),
            )
            .property("lat", coordinate(-11.5, 6.5))
            .property("lon", coordinate(94.5, 141.5))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let coordinates = ObjectBuilder::new()
            .property("lat", ObjectBuilder::new().schema_type(Type::Number))
            .property("lon", ObjectBuilder::new().schema_type(Type::Number))
            .required("lat")
            .required("lon");
        let address = ObjectBuilder::new()
            .property("address", text(1, lapor_core::report::ADDRESS_MAX, false))
            .property("lat", ObjectBuilder::new().schema_type(Type::Null))
            .property("lon", ObjectBuilder::new().schema_type(Type::Null))
            .required("address");
        AllOfBuilder::new()
            .item(fields)
            .item(AnyOfBuilder::new().item(coordinates).item(address))
            .into()
    }
}

impl ToSchema for LocationInput {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Location")
    }
}

/// The reporter. With `notifications` (the default) a phone or an e-mail is needed. Phones are
/// Indonesian numbers (`0812-3456-7890`, `62812…` and `+62812…` are all read; the schema shows
/// one form); SMS goes to mobiles only. `null` or a blank value counts as absent.
#[derive(Deserialize)]
pub struct ReporterInput;

const PHONE: &str = r"^\+62812[0-9]{7,8}$";
const EMAIL: &str = r"^[a-z0-9]{1,20}@[a-z0-9]{1,20}\.[a-z]{2,6}$";

impl PartialSchema for ReporterInput {
    fn schema() -> RefOr<Schema> {
        let optional = |pattern: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .pattern(Some(format!(r"^\s*$|{}", pattern)))
        };
        let fields = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("name", optional_text(lapor_core::report::NAME_MAX, false))
            .property("phone", optional(PHONE))
            .property("email", optional(EMAIL))
            .property(
                "notifications",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null])),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let given = |field: &str, pattern: &str| {
            ObjectBuilder::new()
                .property(
                    field,
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(pattern)),
                )
                .required(field)
        };
        let quiet = ObjectBuilder::new()
            .property(
                "notifications",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([false])),
            )
            .required("notifications");
        AllOfBuilder::new()
            .item(fields)
            .item(
                AnyOfBuilder::new()
                    .item(given("phone", PHONE))
                    .item(given("email", EMAIL))
                    .item(quiet),
            )
            .into()
    }
}

impl ToSchema for ReporterInput {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Reporter")
    }
}

/// The receipt: the public tracking code and the secret access key, shown once.
#[derive(ToSchema)]
pub struct Receipt {
    #[schema(pattern = "^[0-9A-HJKMNP-TV-Z]{10}$")]
    pub tracking_code: String,
    /// The reporter's secret for `X-Access-Key`; never shown again.
    pub access_key: String,
    pub status: Status,
    pub color: Color,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Whether an SMS receipt goes to the phone given (only with a phone and notifications).
    pub sms_receipt: Option<bool>,
    /// Why no SMS goes out (a number that is not an Indonesian mobile).
    pub notice: Option<Notice>,
}

/// A bilingual notice beside a successful answer.
#[derive(ToSchema)]
pub struct Notice {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// A report's category with its labels.
#[derive(ToSchema)]
pub struct CategoryRef {
    pub id: Category,
    pub label: String,
    pub label_en: String,
}

/// A region by code and name.
#[derive(ToSchema)]
pub struct RegionRef {
    pub code: String,
    pub name: String,
}

/// A report: the public view (no identity, public timeline entries only), or with
/// `X-Access-Key` the reporter's own view (`privacy`, `channel`, `reporter`, `rating`,
/// `final_at`, the whole timeline, all their files).
#[derive(ToSchema)]
pub struct ReportView {
    #[schema(pattern = "^[0-9A-HJKMNP-TV-Z]{10}$")]
    pub tracking_code: String,
    #[schema(rename = "type")]
    pub report_type: ReportType,
    pub title: String,
    pub description: String,
    pub category: CategoryRef,
    pub region: RegionRef,
    pub status: Status,
    pub color: Color,
    /// The agency holding the report, once routed.
    pub agency: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Absent from the public view of an `anonim` report.
    #[schema(nullable = false)]
    pub location: Option<LocationOut>,
    pub timeline: Vec<TimelineEntry>,
    pub attachments: Vec<AttachmentEntry>,
    /// `public` or `reporter`.
    pub view: ViewKind,
    /// Reporter's view only.
    #[schema(nullable = false)]
    pub privacy: Option<Privacy>,
    #[schema(nullable = false)]
    pub channel: Option<Channel>,
    pub reporter: Option<ReporterOut>,
    pub rating: Option<RatingOut>,
    #[schema(format = DateTime)]
    pub final_at: Option<String>,
}

/// Which view an answer is.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ViewKind {
    Public,
    Reporter,
}

/// A location as stored.
#[derive(ToSchema)]
pub struct LocationOut {
    #[schema(nullable = false)]
    pub address: Option<String>,
    #[schema(nullable = false)]
    pub lat: Option<f64>,
    #[schema(nullable = false)]
    pub lon: Option<f64>,
}

/// The reporter as the reporter gave it.
#[derive(ToSchema)]
pub struct ReporterOut {
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub phone: Option<String>,
    #[schema(nullable = false)]
    pub email: Option<String>,
    pub notifications: bool,
}

/// The reporter's rating of the outcome.
#[derive(ToSchema)]
pub struct RatingOut {
    pub stars: u8,
    #[schema(nullable = false)]
    pub comment: Option<String>,
}

/// A reply to the agency (`POST /reports/{code}/replies`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    #[schema(schema_with = message)]
    pub message: String,
    /// `true`: the answer did not solve it (reopens a completed report).
    pub not_solved: Option<bool>,
}

/// A rating of the outcome (`POST /reports/{code}/rating`), once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    #[schema(minimum = 1, maximum = 5)]
    pub stars: u8,
    #[schema(schema_with = comment)]
    pub comment: Option<String>,
}

/// A category with its labels and examples.
#[derive(ToSchema)]
pub struct CategoryEntry {
    pub id: Category,
    pub label: String,
    pub label_en: String,
    /// Examples of what belongs here, comma-separated.
    pub examples: String,
}

/// `GET /categories`.
#[derive(ToSchema)]
pub struct Categories {
    pub categories: Vec<CategoryEntry>,
}

/// A region of the bundled table.
#[derive(ToSchema)]
pub struct RegionEntry {
    pub code: String,
    pub name: String,
    /// `province`, `regency` or `city`.
    pub level: String,
    /// `WIB`, `WITA` or `WIT`.
    pub zone: String,
    #[schema(nullable = false)]
    pub parent: Option<String>,
}

/// `GET /regions`.
#[derive(ToSchema)]
pub struct Regions {
    pub regions: Vec<RegionEntry>,
}

/// `GET /stats`: one row per group, their totals, and the confidential count beside them.
#[derive(ToSchema)]
pub struct Stats {
    pub region: RegionRef,
    pub year: i32,
    /// `agency`, `category` or `month`.
    pub group_by: String,
    pub rows: Vec<StatsRow>,
    pub totals: StatsRow,
    pub confidential: Confidential,
}

/// Counts for one group.
#[derive(ToSchema)]
pub struct StatsRow {
    pub key: String,
    pub total: i64,
    pub colors: std::collections::BTreeMap<String, i64>,
    pub statuses: std::collections::BTreeMap<String, i64>,
    pub followed_up: i64,
    pub on_time: i64,
    /// Share of followed-up reports whose first follow-up met its deadline (0–1).
    pub on_time_share: Option<f64>,
}

/// Rahasia and whistleblowing reports: one number, never broken down.
#[derive(ToSchema)]
pub struct Confidential {
    pub total: i64,
    pub note: String,
    pub note_en: String,
}

fn title() -> Object {
    text(1, lapor_core::report::TITLE_MAX, false)
}

fn description() -> Object {
    text(
        lapor_core::report::DESCRIPTION_MIN,
        lapor_core::report::DESCRIPTION_MAX,
        true,
    )
}

/// `REPLY_MAX` in reporter.rs.
fn message() -> Object {
    text(1, crate::reporter::MESSAGE_MAX, true)
}

fn comment() -> Object {
    optional_text(crate::reporter::COMMENT_MAX, true)
}

/// `/stats` grouping.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GroupBy {
    Agency,
    Category,
    Month,
}
