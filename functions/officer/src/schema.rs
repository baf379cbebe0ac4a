//! The JSON Schema of what the officer routes read, stated from the limits the handlers check, so
//! a client that follows the document is never refused and one that does not always is.

use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

/// The characters `str::trim` removes (Unicode `White_Space`), as the body of a regex class. The
/// classes are spelled out because `\s` differs between regex engines (Python's takes in some
/// control characters, ECMAScript's U+FEFF).
const WHITE_SPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Control characters (`char::is_control`), refused in one-line text.
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

/// Control characters but tab and line breaks, refused in multi-line text.
const CONTROL_BUT_BREAKS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The largest integer every JSON reader carries exactly (2^53 − 1): versions and timeline
/// positions above it are refused rather than rounded.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The text `lapor_core::report::text` accepts: once trimmed, `min`–`max` characters (`min` ≥ 1)
/// with no control characters (but tabs and line breaks when `multiline`). White space around
/// it is allowed, as the server trims it.
pub(crate) fn text_pattern(min: usize, max: usize, multiline: bool) -> String {
    format!(
        "^[{WHITE_SPACE}]*{}[{WHITE_SPACE}]*$",
        core(min, max, multiline)
    )
}

/// What `lapor_core::report::optional_text` accepts: white space only (taken as absent), or
/// [`text_pattern`] from one character.
pub(crate) fn optional_text_pattern(max: usize, multiline: bool) -> String {
    format!(
        "^[{WHITE_SPACE}]*(?:{})?[{WHITE_SPACE}]*$",
        core(1, max, multiline)
    )
}

/// An agency id as `AgencyId::parse` reads it: 2–64 lowercase letters, digits or hyphens, not
/// starting or ending with a hyphen, white space around it trimmed.
pub(crate) fn agency_id_pattern() -> String {
    format!("^[{WHITE_SPACE}]*[a-z0-9][a-z0-9-]{{0,62}}[a-z0-9][{WHITE_SPACE}]*$")
}

/// Trimmed text of `min`–`max` characters: it starts and ends with a character that is neither
/// white space nor a refused control character.
fn core(min: usize, max: usize, multiline: bool) -> String {
    let refused = if multiline {
        CONTROL_BUT_BREAKS
    } else {
        CONTROL
    };
    let edge = format!("[^{WHITE_SPACE}{refused}]");
    let inner = format!("[^{refused}]");
    match (min.max(1), max) {
        (_, 0 | 1) => edge,
        (1, max) => format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2),
        (min, max) => format!("{edge}{inner}{{{},{}}}{edge}", min - 2, max - 2),
    }
}

/// A string field with `pattern`, `null` allowed or not.
pub(crate) fn string(description: &str, pattern: String, nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(types(Type::String, nullable))
        .pattern(Some(pattern))
        .description(Some(description))
        .build()
}

/// An integer field from `minimum` to `maximum`, `null` allowed or not.
pub(crate) fn integer(description: &str, minimum: u64, maximum: u64, nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(types(Type::Integer, nullable))
        .minimum(Some(minimum))
        .maximum(Some(maximum))
        .description(Some(description))
        .build()
}

/// A calendar date (`YYYY-MM-DD`), `null` allowed.
pub(crate) fn optional_date(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(types(Type::String, true))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        .description(Some(description))
        .build()
}

fn types(kind: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([kind, Type::Null])
    } else {
        SchemaType::Type(kind)
    }
}

/// The report version an officer decided on (optional; `null` is as absent).
pub(crate) fn seen_version() -> Object {
    integer(
        "Versi laporan yang Anda lihat saat memutuskan; bila laporan sudah berubah sejak itu, \
         jawabannya `409 version_conflict`. / The report version you looked at when deciding; if \
         the report changed since, the answer is `409 version_conflict`.",
        1,
        MAX_SAFE_INTEGER,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_patterns_bound_the_trimmed_length() {
        assert!(text_pattern(10, 2_000, true).contains("{8,1998}"));
        assert!(text_pattern(1, 2_000, false).contains("{0,1998}"));
        assert!(optional_text_pattern(2_000, false).contains(")?["));
    }

    #[test]
    fn the_white_space_class_is_what_trim_removes() {
        let listed: Vec<char> = (0..=0x3000u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        let expected: Vec<char> = "\t\n\u{b}\u{c}\r \u{85}\u{a0}\u{1680}"
            .chars()
            .chain('\u{2000}'..='\u{200a}')
            .chain(['\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}'])
            .collect();
        assert_eq!(listed, expected);
        assert!(!char::from_u32(0xfeff).is_some_and(char::is_whitespace));
    }
}
