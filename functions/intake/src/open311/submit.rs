//! `POST requests`: a partner app files a citizen's service request. The form becomes the same
//! draft `POST /reports` validates and the same single write files it (`file_report`), on the
//! `open311` channel, so routing, deadlines and privacy treat it like any other report. What
//! Open311 leaves out Lapor derives: the title from the description's first sentence, the
//! region from `jurisdiction_id` or a place the address (or the description) names. A request
//! that names no known place waits in the central admin's triage (`region_assumed`), as an SMS
//! without a place does.
//!
//! Only partner apps with an operator-issued key may post, each at most its hourly quota. A
//! refused request writes nothing. The answer carries the reporter's access key (a Lapor
//! extension) so the app can hand it to the citizen; it never echoes who the reporter is.

use std::collections::BTreeMap;

use lapor_core::region::ASSUMED_REGION;
use lapor_core::report::{first_sentence, shorten, TITLE_MAX};
use lapor_core::sms::find_region;
use lapor_core::{Channel, Invalid, PartnerApiKey, PartnerKey, ReportDraft};
use lapor_store::{file_report, Filed};
use serde_json::{json, Map, Value};

use super::document::{Node, Record};
use super::services::{PRIVACIES, REPORT_TYPES};
use super::tokens::token_for;
use super::{Answer, Failure};
use crate::{ClientLimit, Deps};

/// The fields GeoReport v2 defines for a new request besides `attribute[…]`. `address_id`,
/// `device_id` and `account_id` are accepted and not used.
const FIELDS: [&str; 15] = [
    "api_key",
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
];

/// The attributes of every service definition (`services.rs`), with the value a request that
/// leaves one out gets.
const ATTRIBUTES: [(&str, &str); 2] = [("type", REPORT_TYPES[0].0), ("privacy", PRIVACIES[0].0)];

/// When the description has no sentence to title the report with.
const FALLBACK_TITLE: &str = "Laporan Open311";
const MEDIA_URL_MAX: usize = 500;

/// Files the request the form holds, for the partner whose key it carries.
pub async fn file(deps: &Deps, pairs: Vec<(String, String)>) -> Result<Answer, Failure> {
    let api_key = pairs
        .iter()
        .find(|(name, _)| name == "api_key")
        .map(|(_, value)| value.as_str());
    let partner = partner(deps, api_key).await?;
    within_quota(deps, &partner).await?;
    let form = Form::read(pairs)?;
    let (draft, region_assumed) = form.draft()?;
    let mut new = ReportDraft(&draft)
        .validate(Channel::Open311)
        .map_err(invalid)?;
    new.region_assumed = region_assumed;
    let filed = file_report(
        deps.reports.as_ref(),
        &new,
        None,
        &deps.pepper,
        &deps.deadlines,
        deps.clock.now(),
    )
    .await?;
    let Filed::Created { report, access_key } = filed else {
        return Err(lapor_store::StoreError::Backend("a key conflict without a key".into()).into());
    };
    tracing::info!(
        tracking_code = %report.tracking_code,
        partner = %partner.id,
        category = report.category.id(),
        region = %report.region,
        region_assumed,
        privacy = ?report.privacy,
        "report received through Open311"
    );
    let record = Record::new()
        .with(
            "service_request_id",
            Node::text(report.tracking_code.as_str()),
        )
        .with("service_notice", Node::text(notice(region_assumed)))
        .with("account_id", Node::Empty)
        .with(
            "token",
            Node::text(token_for(deps.pepper.get().await?, &report.tracking_code)),
        )
        .with("access_key", Node::text(access_key.reveal()));
    Ok((
        "service_requests",
        Node::List("request", vec![Node::Record(record)]),
    ))
}

fn notice(region_assumed: bool) -> String {
    let mut notice = String::from(
        "Laporan diterima. Warga dapat melacaknya di /lacak dengan kode (service_request_id) \
         dan access_key.",
    );
    if region_assumed {
        notice.push_str(" Wilayah belum dikenali: admin pusat memverifikasi dan meneruskannya.");
    }
    notice.push_str(
        " / Report received. The citizen can track it at /lacak with the code \
         (service_request_id) and the access_key.",
    );
    if region_assumed {
        notice.push_str(
            " The region was not recognised: the central admin verifies and forwards it.",
        );
    }
    notice
}

/// The partner whose key the request carries; the key must exist, match and not be revoked.
async fn partner(deps: &Deps, api_key: Option<&str>) -> Result<PartnerKey, Failure> {
    let Some(given) = api_key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(Failure::forbidden(
            "api_key wajib diisi: mintalah kunci mitra kepada operator Lapor.",
            "api_key is required: ask the Lapor operator for a partner key.",
        ));
    };
    let bad_key = || Failure::forbidden("api_key tidak valid.", "The api_key is not valid.");
    let presented = PartnerApiKey::presented(given).ok_or_else(bad_key)?;
    let record = deps
        .partner_keys
        .partner_key(presented.id())
        .await?
        .filter(|record| record.matches(&presented))
        .ok_or_else(bad_key)?;
    if record.is_revoked() {
        return Err(Failure::forbidden(
            "api_key ini sudah dicabut; hubungi operator Lapor.",
            "This api_key has been revoked; contact the Lapor operator.",
        ));
    }
    Ok(record)
}

/// Counts the request against the partner's window (`OPEN311_WRITES_PER_HOUR`); over it, 429
/// until the window ends.
async fn within_quota(deps: &Deps, partner: &PartnerKey) -> Result<(), Failure> {
    let Some(limit) = deps.partner_limit else {
        return Ok(());
    };
    let now = deps.clock.now().timestamp();
    let window = deps.pepper.get().await?.rate_window(
        "open311-partner",
        partner.id.as_str(),
        now,
        limit.window_secs,
    );
    let hits = deps
        .marks
        .count_hit(&window.key, now, limit.window_secs)
        .await?;
    if hits <= limit.writes {
        return Ok(());
    }
    if hits == limit.writes + 1 {
        tracing::warn!(partner = %partner.id, limit = limit.writes, "a partner reached its write limit");
    }
    Err(too_many(limit, window.retry_after(now)))
}

fn too_many(limit: ClientLimit, retry_after: u32) -> Failure {
    let minutes = retry_after.div_ceil(60);
    let window = limit.window_secs / 60;
    Failure::too_many(
        &format!(
            "Terlalu banyak laporan dengan api_key ini ({} dalam {window} menit). Coba lagi dalam {minutes} menit.",
            limit.writes
        ),
        &format!(
            "Too many requests with this api_key ({} in {window} minutes). Try again in {minutes} minutes.",
            limit.writes
        ),
        retry_after,
    )
}

/// The form's fields (each at most once) and attributes, empty values left out.
struct Form {
    fields: BTreeMap<String, String>,
    attributes: BTreeMap<String, String>,
}

impl Form {
    fn read(pairs: Vec<(String, String)>) -> Result<Self, Failure> {
        let mut form = Form {
            fields: BTreeMap::new(),
            attributes: BTreeMap::new(),
        };
        for (name, value) in pairs {
            let value = value.trim().to_string();
            let (map, key) = match attribute_code(&name) {
                Some(code) if ATTRIBUTES.iter().any(|(known, _)| *known == code) => {
                    (&mut form.attributes, code.to_string())
                }
                Some(code) => {
                    return Err(Failure::bad_request(
                        &format!(
                            "Atribut `{code}` tidak dikenal; lihat services/{{service_code}}.json."
                        ),
                        &format!("Unknown attribute `{code}`; see services/{{service_code}}.json."),
                    ))
                }
                None if FIELDS.contains(&name.as_str()) => (&mut form.fields, name),
                None => {
                    return Err(Failure::bad_request(
                        &format!("Isian `{name}` tidak dikenal dalam GeoReport v2."),
                        &format!("The field `{name}` is not a GeoReport v2 field."),
                    ))
                }
            };
            if map.contains_key(&key) {
                return Err(Failure::bad_request(
                    &format!("Isian `{key}` dikirim lebih dari sekali."),
                    &format!("The field `{key}` was sent more than once."),
                ));
            }
            if !value.is_empty() {
                map.insert(key, value);
            }
        }
        Ok(form)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The draft `POST /reports` would get, and whether its region is a stand-in.
    fn draft(&self) -> Result<(Map<String, Value>, bool), Failure> {
        let description = self.description()?;
        let sentence = first_sentence(&description).replace(char::is_control, " ");
        let title = if sentence.is_empty() {
            FALLBACK_TITLE.to_string()
        } else {
            shorten(&sentence, TITLE_MAX - 3)
        };
        let (region, region_assumed) = self.region(&description);
        let mut draft = Map::new();
        for (code, default) in ATTRIBUTES {
            let value = self.attributes.get(code).map_or(default, String::as_str);
            draft.insert(code.into(), json!(value));
        }
        draft.insert("title".into(), json!(title));
        draft.insert("description".into(), json!(description));
        if let Some(service) = self.get("service_code") {
            draft.insert("category".into(), json!(service));
        }
        draft.insert("region".into(), json!(region));
        draft.insert("location".into(), Value::Object(self.location()?));
        if let Some(reporter) = self.reporter() {
            draft.insert("reporter".into(), Value::Object(reporter));
        }
        Ok((draft, region_assumed))
    }

    /// The description, with `media_url` on a line of its own: Lapor does not fetch files from
    /// elsewhere (evidence is uploaded and checked), so the agency sees the link instead.
    fn description(&self) -> Result<String, Failure> {
        let mut description = self.get("description").unwrap_or_default().to_string();
        if let Some(url) = self.get("media_url") {
            let web = url.starts_with("https://") || url.starts_with("http://");
            if !web || url.chars().count() > MEDIA_URL_MAX || url.contains(char::is_whitespace) {
                return Err(Failure::bad_request(
                    &format!("media_url harus alamat http(s) tanpa spasi, paling banyak {MEDIA_URL_MAX} karakter."),
                    &format!("media_url must be an http(s) address without spaces, of at most {MEDIA_URL_MAX} characters."),
                ));
            }
            if !description.is_empty() {
                description.push_str(&format!("\n\nMedia: {url}"));
            }
        }
        Ok(description)
    }

    /// `jurisdiction_id` when given (validated as any region is), else the place the address
    /// or the description names, else the stand-in that sends the report to triage.
    fn region(&self, description: &str) -> (String, bool) {
        if let Some(jurisdiction) = self.get("jurisdiction_id") {
            return (jurisdiction.to_string(), false);
        }
        let named = self
            .get("address_string")
            .and_then(find_region)
            .or_else(|| find_region(description));
        match named {
            Some(code) => (code.as_str().to_string(), false),
            None => (ASSUMED_REGION.to_string(), true),
        }
    }

    /// `lat`/`long` and `address_string`; the specification requires one of them. Coordinates
    /// that are not numbers are passed on as text, for the validation to name.
    fn location(&self) -> Result<Map<String, Value>, Failure> {
        let mut location = Map::new();
        if let Some(address) = self.get("address_string") {
            location.insert("address".into(), json!(address));
        }
        for (field, key) in [("lat", "lat"), ("long", "lon")] {
            if let Some(raw) = self.get(field) {
                let number = raw.parse::<f64>().ok().filter(|n| n.is_finite());
                location.insert(key.into(), number.map_or_else(|| json!(raw), |n| json!(n)));
            }
        }
        if location.is_empty() {
            return Err(Failure::bad_request(
                "Lokasi wajib: kirim lat dan long, atau address_string.",
                "A location is required: send lat and long, or address_string.",
            ));
        }
        Ok(location)
    }

    /// Who the partner says reports: told of progress when a phone or an e-mail is given.
    fn reporter(&self) -> Option<Map<String, Value>> {
        let name: Vec<&str> = ["first_name", "last_name"]
            .into_iter()
            .filter_map(|f| self.get(f))
            .collect();
        let mut reporter = Map::new();
        if !name.is_empty() {
            reporter.insert("name".into(), json!(name.join(" ")));
        }
        for field in ["phone", "email"] {
            if let Some(value) = self.get(field) {
                reporter.insert(field.into(), json!(value));
            }
        }
        let contact = reporter.contains_key("phone") || reporter.contains_key("email");
        if reporter.is_empty() {
            return None;
        }
        reporter.insert("notifications".into(), json!(contact));
        Some(reporter)
    }
}

/// `attribute[code]`'s code.
fn attribute_code(name: &str) -> Option<&str> {
    name.strip_prefix("attribute[")?.strip_suffix(']')
}

/// A validation error, told under the Open311 field it came from.
fn invalid(e: Invalid) -> Failure {
    let field = match e.field.as_deref() {
        Some("category") => "service_code",
        Some("region") => "jurisdiction_id",
        Some("title" | "description") => "description",
        Some("type") => "attribute[type]",
        Some("privacy") => "attribute[privacy]",
        Some("location.lat") => "lat",
        Some("location.lon") => "long",
        Some("location.address" | "location") => "address_string",
        Some("reporter.name") => "first_name",
        Some("reporter.phone") => "phone",
        Some("reporter.email") => "email",
        _ => "",
    };
    if field.is_empty() {
        return Failure::from(e);
    }
    Failure::bad_request(
        &format!("{field}: {}", e.message.id),
        &format!("{field}: {}", e.message.en),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Result<Form, Failure> {
        Form::read(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_draft_is_what_post_reports_would_get() {
        let form = form(&[
            ("service_code", "infrastruktur"),
            ("lat", "-6.7153"),
            ("long", "108.5505"),
            ("address_string", "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon"),
            (
                "description",
                "Lampu jalan mati. Sudah seminggu gelap gulita di sini.",
            ),
            ("attribute[privacy]", "anonim"),
            ("first_name", "Siti"),
            ("email", "siti@example.id"),
        ])
        .expect("form");
        let (draft, assumed) = form.draft().expect("draft");
        assert!(!assumed);
        assert_eq!(
            Value::Object(draft),
            json!({
                "type": "pengaduan",
                "privacy": "anonim",
                "title": "Lampu jalan mati.",
                "description": "Lampu jalan mati. Sudah seminggu gelap gulita di sini.",
                "category": "infrastruktur",
                "region": "32.74",
                "location": {"address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon", "lat": -6.7153, "lon": 108.5505},
                "reporter": {"name": "Siti", "email": "siti@example.id", "notifications": true}
            })
        );
    }

    #[test]
    fn no_place_named_is_a_stand_in_region() {
        let form = form(&[
            ("lat", "-6.2"),
            ("long", "106.8"),
            ("description", "Jalan rusak parah sekali di sini."),
        ])
        .expect("form");
        let (draft, assumed) = form.draft().expect("draft");
        assert!(assumed);
        assert_eq!(draft["region"], ASSUMED_REGION);
        assert!(!draft.contains_key("reporter"));
    }

    #[test]
    fn odd_forms_are_refused() {
        for pairs in [
            vec![("attribute[warna]", "merah")],
            vec![("nama", "x")],
            vec![("lat", "1"), ("lat", "2")],
            vec![("media_url", "javascript:alert(1)")],
        ] {
            let read = form(&pairs).and_then(|f| f.draft().map(drop));
            assert!(read.is_err(), "{pairs:?}");
        }
        let no_place = form(&[("description", "x")]).expect("form");
        assert!(no_place.draft().is_err());
    }
}
