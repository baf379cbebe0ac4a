//! Validation errors carry their message in Indonesian first and English beside it, and the field
//! they concern, so every layer above can show a citizen exactly what to fix.

use std::fmt;

/// A user-facing message in both of Lapor's languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub en: String,
}

impl Message {
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            en: en.into(),
        }
    }
}

/// Input that breaks a domain rule. `code` is stable and machine-readable; `field` names the
/// JSON path of the offending input (e.g. `reporter.phone`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: Message,
}

impl Invalid {
    pub fn field(
        field: impl Into<String>,
        code: &'static str,
        id: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field: Some(field.into()),
            message: Message::new(id, en),
        }
    }

    pub fn missing(field: &str) -> Self {
        Self::field(
            field,
            "missing_field",
            format!("Kolom `{field}` wajib diisi."),
            format!("The field `{field}` is required."),
        )
    }

    /// The same error, reported under a parent object's path (`phone` → `reporter.phone`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = Some(match self.field {
            Some(f) => format!("{parent}.{f}"),
            None => parent.to_string(),
        });
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({field}): {}", self.code, self.message.en),
            None => write!(f, "{}: {}", self.code, self.message.en),
        }
    }
}

impl std::error::Error for Invalid {}
