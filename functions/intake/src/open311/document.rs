//! One answer, two formats: the specification shows every resource as JSON and as XML, with
//! the same fields in the same order. A [`Node`] keeps that order (JSON objects here do not),
//! and renders to either, so the two can never disagree.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// A value of an Open311 answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Known to the specification but empty here: JSON `null`, an empty XML element.
    Empty,
    Record(Record),
    /// A list whose XML items are each named `item` (`services` holds `service`s).
    List(&'static str, Vec<Node>),
}

impl Node {
    pub fn text(value: impl Into<String>) -> Node {
        Node::Text(value.into())
    }

    pub fn optional(value: Option<impl Into<String>>) -> Node {
        value.map_or(Node::Empty, Node::text)
    }
}

/// Named fields, in the order the specification lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record(Vec<(&'static str, Node)>);

impl Record {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, name: &'static str, value: Node) -> Self {
        self.0.push((name, value));
        self
    }
}

/// The wire format a path asks for by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `services.json` into its resource and format; none for any other extension.
    pub fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(name) = file.strip_suffix(".json") {
            return Some((name, Format::Json));
        }
        file.strip_suffix(".xml").map(|name| (name, Format::Xml))
    }
}

/// An answer: its HTTP status, its XML root element, and its content.
pub fn answer(format: Format, status: StatusCode, root: &str, node: &Node) -> Response {
    let (body, content_type) = match format {
        Format::Json => (json(node).to_string(), "application/json; charset=utf-8"),
        Format::Xml => (xml(root, node), "text/xml; charset=utf-8"),
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

pub fn json(node: &Node) -> Value {
    match node {
        Node::Text(text) => Value::String(text.clone()),
        Node::Int(n) => Value::from(*n),
        Node::Float(x) => Value::from(*x),
        Node::Bool(b) => Value::Bool(*b),
        Node::Empty => Value::Null,
        Node::Record(record) => Value::Object(
            record
                .0
                .iter()
                .map(|(name, value)| ((*name).to_string(), json(value)))
                .collect::<Map<_, _>>(),
        ),
        Node::List(_, items) => items.iter().map(json).collect(),
    }
}

/// The XML document with `root` as its element.
pub fn xml(root: &str, node: &Node) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(&mut out, root, node);
    out
}

fn element(out: &mut String, name: &str, node: &Node) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    match node {
        Node::Text(text) => escape_into(out, text),
        Node::Int(n) => out.push_str(&n.to_string()),
        Node::Float(x) => out.push_str(&x.to_string()),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Empty => {}
        Node::Record(record) => {
            for (child, value) in &record.0 {
                element(out, child, value);
            }
        }
        Node::List(item, items) => {
            for value in items {
                element(out, item, value);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escapes markup, and drops the control characters XML 1.0 cannot carry at all (a citizen's
/// text may hold one, and one would make the whole document unreadable).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_keep_fields_and_escape_text() {
        let node = Node::List(
            "request",
            vec![Node::Record(
                Record::new()
                    .with("id", Node::text("A<1>&\"'\u{1}"))
                    .with("n", Node::Int(3))
                    .with("none", Node::Empty),
            )],
        );
        assert_eq!(
            xml("requests", &node),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><requests><request>\
             <id>A&lt;1&gt;&amp;&quot;&apos;</id><n>3</n><none></none></request></requests>"
        );
        assert_eq!(
            json(&node),
            serde_json::json!([{"id": "A<1>&\"'\u{1}", "n": 3, "none": null}])
        );
    }

    #[test]
    fn only_json_and_xml_are_formats() {
        assert_eq!(
            Format::split("services.json"),
            Some(("services", Format::Json))
        );
        assert_eq!(Format::split("x.y.xml"), Some(("x.y", Format::Xml)));
        assert_eq!(Format::split("services.html"), None);
        assert_eq!(Format::split("services"), None);
    }
}
