//! Discovery and services: every Lapor category is one Open311 service, and a report's type and
//! privacy are the attributes a service definition asks for.

use axum::http::HeaderMap;
use lapor_core::Category;

use super::document::{Node, Record};
use super::{Answer, Failure};

pub const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// When the service list last changed; raise it with the categories or the attributes.
const CHANGESET: &str = "2026-12-07T00:00:00+07:00";

/// `discovery`: where the endpoint is, as the client reached it.
pub fn discovery(headers: &HeaderMap) -> Answer {
    let endpoint = Record::new()
        .with("specification", Node::text(SPECIFICATION))
        .with("url", Node::optional(base_url(headers)))
        .with("changeset", Node::text(CHANGESET))
        .with("type", Node::text("production"))
        .with(
            "formats",
            Node::List(
                "format",
                vec![Node::text("application/json"), Node::text("text/xml")],
            ),
        );
    let discovery = Record::new()
        .with("changeset", Node::text(CHANGESET))
        .with(
            "contact",
            Node::text(
                "Lapor, layanan pengaduan publik / \
                 Lapor public complaint service",
            ),
        )
        .with(
            "key_service",
            Node::text(
                "Membaca tidak memerlukan kunci. Kunci API untuk mengirim laporan \
                 (POST requests) diterbitkan oleh operator Lapor bagi aplikasi mitra; \
                 hubungi operator. / Reading needs no key. API keys for posting requests \
                 are issued by the Lapor operator to partner apps; contact the operator.",
            ),
        )
        .with(
            "endpoints",
            Node::List("endpoint", vec![Node::Record(endpoint)]),
        );
    ("discovery", Node::Record(discovery))
}

/// The endpoint's base URL from the `Host` the client used: the same function answers under the
/// API's domain, a custom domain and lapor-local. A Host that is not a plain host name (and
/// port) is left out rather than echoed.
fn base_url(headers: &HeaderMap) -> Option<String> {
    let host = headers.get("host")?.to_str().ok()?;
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return None;
    }
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"));
    let loopback = host.starts_with("127.0.0.1") || host.starts_with("localhost");
    let scheme = forwarded.unwrap_or(if loopback { "http" } else { "https" });
    Some(format!("{scheme}://{host}/open311/v2/"))
}

/// `services`: one per category.
pub fn list() -> Answer {
    let services = Category::ALL.into_iter().map(service).collect();
    ("services", Node::List("service", services))
}

fn service(category: Category) -> Node {
    let (id, label, label_en, examples) = category.describe();
    Node::Record(
        Record::new()
            .with("service_code", Node::text(id))
            .with("service_name", Node::text(label))
            .with("description", Node::text(examples))
            .with("metadata", Node::Bool(true))
            .with("type", Node::text("realtime"))
            .with(
                "keywords",
                Node::text(lapor_core::classifier::terms(category).join(", ")),
            )
            .with("group", Node::text(label_en)),
    )
}

/// `services/{service_code}`: what a report of this category asks for besides its text.
pub fn definition(code: &str) -> Result<Answer, Failure> {
    let category = Category::parse(code).map_err(|_| unknown_service(code))?;
    let attributes = vec![
        attribute(1, "type", ("Jenis laporan", "Report type"), &REPORT_TYPES),
        attribute(
            2,
            "privacy",
            ("Kerahasiaan pelapor", "Reporter privacy"),
            &PRIVACIES,
        ),
    ];
    let definition = Record::new()
        .with("service_code", Node::text(category.id()))
        .with("attributes", Node::List("attribute", attributes));
    Ok(("service_definition", Node::Record(definition)))
}

fn unknown_service(code: &str) -> Failure {
    Failure::new(
        axum::http::StatusCode::NOT_FOUND,
        &format!("Layanan `{code}` tidak dikenal; lihat services.json."),
        &format!("Unknown service `{code}`; see services.json."),
    )
}

/// The report types a submission may name (`lapor_core::ReportType`), with their labels; the
/// first is what a request that names none gets.
pub const REPORT_TYPES: [(&str, &str); 4] = [
    ("pengaduan", "Pengaduan / Complaint"),
    ("aspirasi", "Aspirasi / Suggestion"),
    (
        "permintaan_informasi",
        "Permintaan informasi / Information request",
    ),
    (
        "whistleblowing",
        "Whistleblowing (selalu rahasia dan anonim / always confidential and anonymous)",
    ),
];

/// The privacy a reporter may choose (`lapor_core::Privacy`), with what each hides; the first is
/// what a request that names none gets.
pub const PRIVACIES: [(&str, &str); 3] = [
    (
        "publik",
        "Publik: laporan dan nama terlihat oleh instansi / Public: report and name visible to the agency",
    ),
    (
        "anonim",
        "Anonim: identitas tidak pernah ditampilkan / Anonymous: identity never shown",
    ),
    (
        "rahasia",
        "Rahasia: laporan tidak pernah publik / Confidential: the report is never public",
    ),
];

fn attribute(
    order: i64,
    code: &'static str,
    (description, description_en): (&str, &str),
    values: &[(&'static str, &'static str)],
) -> Node {
    let default = values.first().map_or("", |(key, _)| *key);
    let values = values
        .iter()
        .map(|(key, name)| {
            Node::Record(
                Record::new()
                    .with("key", Node::text(*key))
                    .with("name", Node::text(*name)),
            )
        })
        .collect();
    Node::Record(
        Record::new()
            .with("variable", Node::Bool(true))
            .with("code", Node::text(code))
            .with("datatype", Node::text("singlevaluelist"))
            .with("required", Node::Bool(false))
            .with(
                "datatype_description",
                Node::text(format!(
                    "Pilih satu kunci dari values; bawaan: {default}. / \
                     Choose one key from values; default: {default}."
                )),
            )
            .with("order", Node::Int(order))
            .with(
                "description",
                Node::text(format!("{description} / {description_en}")),
            )
            .with("values", Node::List("value", values)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapor_core::{Privacy, ReportType};

    #[test]
    fn attribute_keys_are_the_domain_names() {
        for (key, _) in REPORT_TYPES {
            let parsed: Result<ReportType, _> = serde_json::from_value(key.into());
            assert!(parsed.is_ok(), "{key}");
        }
        for (key, _) in PRIVACIES {
            let parsed: Result<Privacy, _> = serde_json::from_value(key.into());
            assert!(parsed.is_ok(), "{key}");
        }
    }

    #[test]
    fn the_base_url_follows_the_host_and_refuses_odd_ones() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:3000".parse().expect("header"));
        assert_eq!(
            base_url(&headers).as_deref(),
            Some("http://127.0.0.1:3000/open311/v2/")
        );
        headers.insert("host", "api.lapor.example".parse().expect("header"));
        assert_eq!(
            base_url(&headers).as_deref(),
            Some("https://api.lapor.example/open311/v2/")
        );
        headers.insert("host", "evil.example/<x>".parse().expect("header"));
        assert_eq!(base_url(&headers), None);
    }
}
