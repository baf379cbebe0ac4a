//! The SMS channel (1708): the grammar of what citizens text, and the arithmetic of what a reply
//! costs.
//!
//! People text from feature phones in any case, with stray spaces and punctuation, so the grammar
//! forgives all of that and only the first word decides. A message without a keyword is read as a
//! complaint, because that is what most people send to 1708, and asking them to resend with
//! `LAPOR` would lose some of them. Replies are paid per segment, so [`segments`] counts them the
//! way a sender packs them and [`fit`] keeps a reply within [`MAX_REPLY_SEGMENTS`].

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::region::{Region, RegionCode, RegionLevel};
use crate::report::DESCRIPTION_MIN;
use crate::tracking::TrackingCode;

/// Most segments a reply may take.
pub const MAX_REPLY_SEGMENTS: usize = 3;

/// Symbols in a tracking code, as typed without separators.
const CODE_LEN: usize = 10;

/// Marks a cut reply. Three dots, not "…", which is outside GSM-7 and would make the whole reply
/// UCS-2, more than halving the room in each segment.
const ELLIPSIS: &str = "...";

/// How far back `fit` looks for a space to cut at, so a cut never drops a long stretch of text.
const WORD_SLACK: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A new report. `text` is the complaint with the keyword (LAPOR) and the RAHASIA marker
    /// removed, whitespace collapsed, trimmed.
    Lapor {
        text: String,
        rahasia: bool,
    },
    Cek {
        code: TrackingCode,
    },
    Balas {
        code: TrackingCode,
        text: String,
    },
    Bantuan,
    /// Nothing it can act on; the reason chooses the help reply.
    Unclear(Unclear),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Lapor,
    Cek,
    Balas,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclear {
    /// Empty, or only whitespace, punctuation and symbols: no letter or digit at all.
    Empty,
    /// CEK/BALAS without a code.
    MissingCode(Keyword),
    /// CEK/BALAS with something that is not a valid tracking code.
    BadCode(Keyword),
    /// BALAS <code> without text, or LAPOR with no text at all.
    MissingText(Keyword),
    /// A complaint too short to act on: fewer than [`DESCRIPTION_MIN`] characters after
    /// cleaning.
    TooShort,
}

/// What the first word of a message asks for.
enum Opening {
    Keyword(Keyword),
    Help,
}

/// Reads an inbound SMS. Never fails: what it cannot act on is [`Command::Unclear`], with the
/// reason, so the reply can say what to send instead.
pub fn parse(body: &str) -> Command {
    let message = clean(body);
    if !message.chars().any(char::is_alphanumeric) {
        return if message.contains('?') {
            Command::Bantuan
        } else {
            Command::Unclear(Unclear::Empty)
        };
    }
    let message = skip_separators(&message);
    let (word, rest) = first_word(message);
    match opening(word) {
        Some(Opening::Keyword(Keyword::Lapor)) => complaint(rest, true),
        Some(Opening::Keyword(Keyword::Cek)) => check(rest),
        Some(Opening::Keyword(Keyword::Balas)) => answer(rest),
        // "Bantuan" is also the word for social aid, a common complaint: only a message too short
        // to be a complaint is a request for help.
        Some(Opening::Help) if message.chars().count() < DESCRIPTION_MIN => Command::Bantuan,
        Some(Opening::Help) | None => complaint(message, false),
    }
}

fn opening(word: &str) -> Option<Opening> {
    match word.to_ascii_uppercase().as_str() {
        "LAPOR" => Some(Opening::Keyword(Keyword::Lapor)),
        "CEK" | "STATUS" => Some(Opening::Keyword(Keyword::Cek)),
        "BALAS" => Some(Opening::Keyword(Keyword::Balas)),
        "BANTUAN" | "HELP" | "INFO" => Some(Opening::Help),
        _ => None,
    }
}

/// Line breaks and tabs become spaces and other control characters (NUL and the like, which
/// some gateways pass through) go; runs of whitespace become one space.
fn clean(body: &str) -> String {
    let visible: String = body
        .chars()
        .filter_map(|c| match c {
            c if c.is_whitespace() => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Drops what people put between a keyword and its argument (":", ",", "#", " - ") or before the
/// first word.
fn skip_separators(text: &str) -> &str {
    text.trim_start_matches(|c: char| !c.is_alphanumeric())
}

/// The leading run of letters and digits, and what follows it.
fn first_word(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// What follows `word` when `text` starts with it as a whole word, in any case.
fn after_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let (first, rest) = first_word(text);
    first
        .eq_ignore_ascii_case(word)
        .then(|| skip_separators(rest))
}

/// `LAPOR [RAHASIA] <text>`, or a message without keyword. People also write the marker first
/// ("RAHASIA LAPOR ..."), so a keyword after it is dropped too.
fn complaint(text: &str, after_keyword: bool) -> Command {
    let text = skip_separators(text);
    let (rahasia, text) = match after_word(text, "RAHASIA") {
        Some(rest) if after_keyword => (true, rest),
        Some(rest) => (true, after_word(rest, "LAPOR").unwrap_or(rest)),
        None => (false, text),
    };
    if text.is_empty() {
        Command::Unclear(Unclear::MissingText(Keyword::Lapor))
    } else if text.chars().count() < DESCRIPTION_MIN {
        Command::Unclear(Unclear::TooShort)
    } else {
        Command::Lapor {
            text: text.to_string(),
            rahasia,
        }
    }
}

/// `CEK <code>`: the rest of the message is the code, in whatever grouping it was typed. When the
/// whole rest is not a code, a code at its start still counts ("CEK ABCDE-FGHJK tolong").
fn check(rest: &str) -> Command {
    let typed = skip_separators(rest).trim_end_matches(|c: char| !c.is_alphanumeric());
    if typed.is_empty() {
        return Command::Unclear(Unclear::MissingCode(Keyword::Cek));
    }
    match TrackingCode::parse(typed)
        .ok()
        .or_else(|| leading_code(typed).map(|(code, _)| code))
    {
        Some(code) => Command::Cek { code },
        None => Command::Unclear(Unclear::BadCode(Keyword::Cek)),
    }
}

/// `BALAS <code> <text>`. The reply may be a lone symbol ("👍"), so only separators are dropped
/// before it.
fn answer(rest: &str) -> Command {
    let typed = skip_separators(rest);
    if typed.is_empty() {
        return Command::Unclear(Unclear::MissingCode(Keyword::Balas));
    }
    let Some((code, text)) = leading_code(typed) else {
        return Command::Unclear(Unclear::BadCode(Keyword::Balas));
    };
    let text = text.trim_start_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation());
    if text.is_empty() {
        return Command::Unclear(Unclear::MissingText(Keyword::Balas));
    }
    Command::Balas {
        code,
        text: text.to_string(),
    }
}

/// The tracking code `text` starts with, typed compactly or in groups ("ABCDE-FGHJK",
/// "ABCDE FGHJK"), and what follows it. The code must end at a word boundary, so that a longer
/// word is not taken for a code followed by text.
fn leading_code(text: &str) -> Option<(TrackingCode, &str)> {
    let mut symbols = 0;
    for (at, c) in text.char_indices() {
        if c.is_alphanumeric() {
            symbols += 1;
            if symbols == CODE_LEN {
                let (typed, rest) = text.split_at(at + c.len_utf8());
                if rest.starts_with(char::is_alphanumeric) {
                    return None;
                }
                return TrackingCode::parse(typed).ok().map(|code| (code, rest));
            }
        } else if !matches!(c, ' ' | '-') {
            return None;
        }
    }
    None
}

/// The regency/city (or, when only a province is named, the province) a complaint names, from
/// the bundled region table (`Region::all()`), or None.
///
/// A bare name shared by a kota and a kabupaten ("Cirebon") names their province, since guessing
/// either would send the report to the wrong office; with its prefix ("kab. Cirebon") it names
/// that one. A regency or city beats a province; between two, the first mentioned wins.
pub fn find_region(text: &str) -> Option<RegionCode> {
    let words = words(text);
    let mut province = None;
    let mut at = 0;
    while at < words.len() {
        match PLACE_NAMES.longest_at(&words[at..]) {
            Some((len, place)) => {
                if let Some(code) = place {
                    if code.parent().is_some() {
                        return Some(code.clone());
                    }
                    province.get_or_insert_with(|| code.clone());
                }
                at += len;
            }
            None => at += 1,
        }
    }
    province
}

/// Lowercase words, split at anything that is not a letter or digit, so "Kab.Cirebon," and
/// "kab cirebon" read alike.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

static PLACE_NAMES: LazyLock<PlaceNames> =
    LazyLock::new(|| PlaceNames::from_regions(Region::all()));

/// Every way a region may be written, as space-joined lowercase words.
struct PlaceNames {
    /// None for a bare name shared by regions of different provinces: it names nothing, but is
    /// still read as one name so its words do not match something else.
    by_name: HashMap<String, Option<RegionCode>>,
    /// Words in the longest name.
    longest: usize,
}

impl PlaceNames {
    fn from_regions(regions: &[Region]) -> Self {
        let mut prefixed: HashMap<String, RegionCode> = HashMap::new();
        let mut bare: HashMap<String, Vec<RegionCode>> = HashMap::new();
        for region in regions {
            let Ok(code) = RegionCode::parse(&region.code) else {
                continue;
            };
            let words = words(&region.name);
            prefixed.insert(words.join(" "), code.clone());
            let (prefixes, name) = split_prefix(region.level, &words);
            for prefix in prefixes {
                prefixed.insert(format!("{prefix} {name}"), code.clone());
            }
            bare.entry(name).or_default().push(code);
        }
        let mut by_name: HashMap<String, Option<RegionCode>> = bare
            .into_iter()
            .map(|(name, codes)| (name, one_place(&codes)))
            .collect();
        by_name.extend(prefixed.into_iter().map(|(name, code)| (name, Some(code))));
        let longest = by_name
            .keys()
            .map(|name| name.split(' ').count())
            .max()
            .unwrap_or(0);
        Self { by_name, longest }
    }

    /// The longest name starting at the first of `words`: how many words it takes, and what it
    /// names.
    fn longest_at(&self, words: &[String]) -> Option<(usize, &Option<RegionCode>)> {
        (1..=self.longest.min(words.len()))
            .rev()
            .find_map(|len| self.by_name.get(&words[..len].join(" ")).map(|p| (len, p)))
    }
}

/// The ways people write a region's level, and its name without it. Provinces are also known
/// without their status ("Jakarta" for "DKI Jakarta", "Yogyakarta" for "DI Yogyakarta").
fn split_prefix(level: RegionLevel, words: &[String]) -> (&'static [&'static str], String) {
    let (prefixes, level_words): (&'static [&'static str], &[&str]) = match level {
        RegionLevel::Kabupaten => (&["kabupaten", "kab"], &["kabupaten"]),
        RegionLevel::Kota => (&["kota", "kodya"], &["kota"]),
        RegionLevel::Provinsi => (&[], &["dki", "di"]),
    };
    let mut rest = words;
    if let Some((first, tail)) = rest.split_first() {
        if level_words.contains(&first.as_str()) && !tail.is_empty() {
            rest = tail;
        }
    }
    // Jakarta's cities are "Kota Administrasi ...": people leave that word out.
    if let Some((first, tail)) = rest.split_first() {
        if matches!(first.as_str(), "administrasi" | "adm") && !tail.is_empty() {
            rest = tail;
        }
    }
    (prefixes, rest.join(" "))
}

/// What a bare name shared by `codes` names: the one region, or their common province.
fn one_place(codes: &[RegionCode]) -> Option<RegionCode> {
    let (first, others) = codes.split_first()?;
    if others.is_empty() {
        return Some(first.clone());
    }
    let province = first.province();
    others
        .iter()
        .all(|c| c.province() == province)
        .then_some(province)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// The GSM 03.38 default alphabet, one septet each (the escape code left out).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table: an escape septet and one more each.
const GSM_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// GSM-7 when every character is in the GSM alphabet, else UCS-2: one character outside it
/// sends the whole message as UCS-2.
pub fn encoding(text: &str) -> Encoding {
    if text.chars().all(|c| septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

fn septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Room in one segment of `encoding`: alone, and as part of a concatenated message (whose header
/// takes the difference).
fn capacity(encoding: Encoding) -> (usize, usize) {
    match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    }
}

/// Septets in GSM-7, UTF-16 code units in UCS-2.
fn width(c: char, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// How many SMS segments `text` takes: GSM-7 160 septets single / 153 per segment concatenated
/// (extension-table characters ^{}\[~]|€ and form feed count 2 septets); UCS-2 70 single / 67 per
/// segment, counted in UTF-16 code units (an emoji is 2). Empty text = 1 segment.
///
/// A character is never split between segments (neither an escape from its character nor the
/// halves of a surrogate pair), as senders pack them, so a segment may end one unit short.
pub fn segments(text: &str) -> usize {
    let encoding = encoding(text);
    let (single, part) = capacity(encoding);
    let widths = text.chars().map(|c| width(c, encoding));
    if widths.clone().sum::<usize>() <= single {
        return 1;
    }
    let mut count = 1;
    let mut used = 0;
    for w in widths {
        if used + w > part {
            count += 1;
            used = 0;
        }
        used += w;
    }
    count
}

/// `text` cut (at a char boundary, preferably at a word boundary) so it takes at most `max`
/// segments, ending with "..." when cut (three dots, GSM-7-safe; never "…" which would force
/// UCS-2). Text that already fits is returned unchanged. Never splits a UTF-16 surrogate pair.
///
/// A `max` of 0 is read as 1, since even empty text takes a segment.
pub fn fit(text: &str, max: usize) -> String {
    let max = max.max(1);
    if segments(text) <= max {
        return text.to_string();
    }
    let starts: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    // Binary search on the number of characters kept: a longer head never takes fewer segments.
    // `fits` holds for 0 characters (the dots alone), and fails for all of them, as the whole
    // text does not fit even without the dots.
    let (mut fits, mut fails) = (0, starts.len());
    while fails - fits > 1 {
        let mid = fits + (fails - fits) / 2;
        if segments(&with_ellipsis(&text[..starts[mid]])) <= max {
            fits = mid;
        } else {
            fails = mid;
        }
    }
    let cut = starts[fits];
    with_ellipsis(at_word_boundary(&text[..cut], &text[cut..]))
}

fn with_ellipsis(head: &str) -> String {
    format!("{head}{ELLIPSIS}")
}

/// `head` shortened to its last whole word when the cut fell inside one not far from a space,
/// without trailing spaces or punctuation that would run into the dots.
fn at_word_boundary<'a>(head: &'a str, tail: &str) -> &'a str {
    let mid_word = !head.ends_with(char::is_whitespace) && !tail.starts_with(char::is_whitespace);
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if mid_word && head[space..].chars().count() <= WORD_SLACK => &head[..space],
        _ => head,
    };
    head.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code() -> TrackingCode {
        TrackingCode::generate(&mut rand::rng())
    }

    /// `code` as shown in two groups: "ABCDE-FGHJK".
    fn grouped(code: &TrackingCode, separator: &str) -> String {
        let s = code.as_str();
        format!("{}{separator}{}", &s[..5], &s[5..])
    }

    /// `code` with its check character changed: every single substitution is caught.
    fn typo(code: &TrackingCode) -> String {
        let s = code.as_str();
        let wrong = if s.ends_with('0') { '1' } else { '0' };
        format!("{}{wrong}", &s[..9])
    }

    fn lapor(text: &str, rahasia: bool) -> Command {
        Command::Lapor {
            text: text.to_string(),
            rahasia,
        }
    }

    fn unclear(why: Unclear) -> Command {
        Command::Unclear(why)
    }

    #[test]
    fn message_table() {
        let code = code();
        let c = code.as_str();
        let cek = Command::Cek { code: code.clone() };
        let balas = |text: &str| Command::Balas {
            code: code.clone(),
            text: text.to_string(),
        };
        let long_text = "jalan rusak ".repeat(134);
        let long_text = long_text.trim_end();
        let cases: Vec<(String, Command)> = vec![
            // Valid, as the help text shows them.
            (
                "LAPOR Jalan berlubang besar di Jl. Cipto, Kota Cirebon".into(),
                lapor("Jalan berlubang besar di Jl. Cipto, Kota Cirebon", false),
            ),
            (format!("CEK {c}"), cek.clone()),
            (
                format!("BALAS {c} Sudah diperbaiki, terima kasih"),
                balas("Sudah diperbaiki, terima kasih"),
            ),
            ("BANTUAN".into(), Command::Bantuan),
            // Messy spacing, case and separators.
            (
                "lapor: jalan rusak parah di depan pasar".into(),
                lapor("jalan rusak parah di depan pasar", false),
            ),
            (
                "LAPOR,jalan rusak parah di depan pasar".into(),
                lapor("jalan rusak parah di depan pasar", false),
            ),
            (
                "lapor#jalan rusak parah di depan pasar".into(),
                lapor("jalan rusak parah di depan pasar", false),
            ),
            (
                "  LaPoR   jalan \n rusak\t\tparah\r\n  di depan pasar  ".into(),
                lapor("jalan rusak parah di depan pasar", false),
            ),
            (
                "...LAPOR!! jalan rusak parah di depan pasar!!!".into(),
                lapor("jalan rusak parah di depan pasar!!!", false),
            ),
            (
                format!("cek {}.", grouped(&code, "-").to_lowercase()),
                cek.clone(),
            ),
            (format!("Cek - {c}!"), cek.clone()),
            (format!("CEK: {}", grouped(&code, " ")), cek.clone()),
            (format!("CEK. {c}?"), cek.clone()),
            (format!("status {c}"), cek.clone()),
            (format!("CEK {c} tolong dicek"), cek.clone()),
            (
                format!("balas {}: belum diperbaiki", grouped(&code, "-")),
                balas("belum diperbaiki"),
            ),
            (
                format!("BALAS   {}   oke  sip", grouped(&code, " ")),
                balas("oke sip"),
            ),
            (format!("BALAS {c} 👍"), balas("👍")),
            ("help".into(), Command::Bantuan),
            ("Info?".into(), Command::Bantuan),
            ("?".into(), Command::Bantuan),
            (" ?? ".into(), Command::Bantuan),
            ("bantuan dong".into(), Command::Bantuan),
            // Keyword alone, missing or bad codes, missing text.
            (
                "LAPOR".into(),
                unclear(Unclear::MissingText(Keyword::Lapor)),
            ),
            (
                "lapor !!!".into(),
                unclear(Unclear::MissingText(Keyword::Lapor)),
            ),
            ("LAPOR jalan rusak".into(), unclear(Unclear::TooShort)),
            ("CEK".into(), unclear(Unclear::MissingCode(Keyword::Cek))),
            (
                "cek ???".into(),
                unclear(Unclear::MissingCode(Keyword::Cek)),
            ),
            (
                "CEK  abcd-efgh".into(),
                unclear(Unclear::BadCode(Keyword::Cek)),
            ),
            (
                format!("CEK {}", typo(&code)),
                unclear(Unclear::BadCode(Keyword::Cek)),
            ),
            (format!("CEK {c}X"), unclear(Unclear::BadCode(Keyword::Cek))),
            (
                "BALAS".into(),
                unclear(Unclear::MissingCode(Keyword::Balas)),
            ),
            (
                format!("BALAS {c}"),
                unclear(Unclear::MissingText(Keyword::Balas)),
            ),
            (
                format!("BALAS {c} ..."),
                unclear(Unclear::MissingText(Keyword::Balas)),
            ),
            (
                "BALAS halo apa kabar".into(),
                unclear(Unclear::BadCode(Keyword::Balas)),
            ),
            (
                format!("BALAS {} sudah", typo(&code)),
                unclear(Unclear::BadCode(Keyword::Balas)),
            ),
            (
                format!("BALAS {c}sudah beres"),
                unclear(Unclear::BadCode(Keyword::Balas)),
            ),
            // RAHASIA.
            (
                "LAPOR RAHASIA pungli di kantor kelurahan Kesambi".into(),
                lapor("pungli di kantor kelurahan Kesambi", true),
            ),
            (
                "lapor rahasia: pungli di kantor kelurahan Kesambi".into(),
                lapor("pungli di kantor kelurahan Kesambi", true),
            ),
            (
                "Lapor Rahasia,pungli di kantor kelurahan Kesambi".into(),
                lapor("pungli di kantor kelurahan Kesambi", true),
            ),
            (
                "rahasia! pungli di kantor kelurahan Kesambi".into(),
                lapor("pungli di kantor kelurahan Kesambi", true),
            ),
            (
                "RAHASIA LAPOR pungli di kantor kelurahan Kesambi".into(),
                lapor("pungli di kantor kelurahan Kesambi", true),
            ),
            (
                "LAPOR RAHASIA".into(),
                unclear(Unclear::MissingText(Keyword::Lapor)),
            ),
            (
                "rahasia".into(),
                unclear(Unclear::MissingText(Keyword::Lapor)),
            ),
            (
                "LAPOR rahasiakan nama saya, jalan rusak di Kesambi".into(),
                lapor("rahasiakan nama saya, jalan rusak di Kesambi", false),
            ),
            // No keyword: the whole text is the complaint.
            (
                "laporan jalan rusak di cirebon belum ditangani".into(),
                lapor("laporan jalan rusak di cirebon belum ditangani", false),
            ),
            (
                "Jalan di depan SDN 1 Kesambi berlubang".into(),
                lapor("Jalan di depan SDN 1 Kesambi berlubang", false),
            ),
            (
                "lapor1 jalan rusak parah sekali di sini".into(),
                lapor("lapor1 jalan rusak parah sekali di sini", false),
            ),
            (
                "bantuan sosial PKH belum cair di desa kami".into(),
                lapor("bantuan sosial PKH belum cair di desa kami", false),
            ),
            ("halo".into(), unclear(Unclear::TooShort)),
            // Hostile and unusual input.
            (String::new(), unclear(Unclear::Empty)),
            ("   \n\t ".into(), unclear(Unclear::Empty)),
            ("!!!...,,,---".into(), unclear(Unclear::Empty)),
            ("😀😡🙏".into(), unclear(Unclear::Empty)),
            ("\0\0\0".into(), unclear(Unclear::Empty)),
            (
                "LAPOR\0 jalan\0 rusak parah di depan\u{7} pasar".into(),
                lapor("jalan rusak parah di depan pasar", false),
            ),
            (
                "LAPOR 😡 jalan rusak parah di depan pasar 😡".into(),
                lapor("jalan rusak parah di depan pasar 😡", false),
            ),
            (
                "LAPOR الطريق مكسور في المدينة منذ أسبوعين".into(),
                lapor("الطريق مكسور في المدينة منذ أسبوعين", false),
            ),
            (
                "LAPOR jalan rusak di Cire\u{301}bon sudah lama sekali".into(),
                lapor("jalan rusak di Cire\u{301}bon sudah lama sekali", false),
            ),
            (format!("LAPOR {long_text}"), lapor(long_text, false)),
        ];
        assert!(cases.len() >= 35);
        assert!(long_text.chars().count() >= 1_600);
        for (input, expected) in &cases {
            assert_eq!(&parse(input), expected, "{input:?}");
        }
    }

    fn region(code: &str) -> Option<RegionCode> {
        Some(RegionCode::parse(code).unwrap())
    }

    #[test]
    fn regions_named_in_complaints() {
        let cases = [
            (
                "Jalan berlubang di Jl. Cipto, Kota Cirebon",
                region("32.74"),
            ),
            ("banjir di kab. cirebon", region("32.09")),
            ("Kab.Cirebon", region("32.09")),
            ("KABUPATEN CIREBON", region("32.09")),
            ("jalan rusak di cirebon", region("32")),
            ("Bogor, macet total", region("32")),
            ("sampah menumpuk di Indramayu!", region("32.12")),
            ("pelayanan buruk di jawa barat", region("32")),
            ("JAWA-BARAT.", region("32")),
            ("kodya bandung", region("32.73")),
            ("kab bandung barat", region("32.17")),
            ("bandung barat", region("32.17")),
            ("bandung", region("32")),
            ("Jakarta", region("31")),
            ("di yogyakarta", region("34")),
            ("papua barat daya", region("96")),
            ("papua", region("91")),
            ("cirebon dekat indramayu", region("32.12")),
            ("Indramayu dan Kota Bekasi", region("32.12")),
            ("jawa barat, kota depok", region("32.76")),
            ("jalan rusak parah", None),
            ("cirebonan bogorr", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(find_region(text), expected, "{text:?}");
        }
    }

    #[test]
    fn gsm_alphabet_is_complete() {
        assert_eq!(GSM_BASIC.chars().count(), 127);
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn segment_arithmetic() {
        let gsm = |n: usize| "a".repeat(n);
        let ucs = |n: usize| "ж".repeat(n);
        let cases = [
            (String::new(), 1),
            (gsm(1), 1),
            (gsm(160), 1),
            (gsm(161), 2),
            (gsm(306), 2),
            (gsm(307), 3),
            (gsm(459), 3),
            (gsm(460), 4),
            (ucs(70), 1),
            (ucs(71), 2),
            (ucs(134), 2),
            (ucs(135), 3),
            ("€".repeat(80), 1),
            ("€".repeat(81), 2),
            (format!("{}^", gsm(158)), 1),
            (format!("{}{{", gsm(159)), 2),
            (format!("😀{}", gsm(68)), 1),
            (format!("😀{}", gsm(69)), 2),
            // An escape and its character stay in one segment.
            (format!("{}€{}", gsm(152), gsm(152)), 3),
            // So do the halves of a surrogate pair.
            (format!("{}😀{}", ucs(66), ucs(66)), 3),
        ];
        for (text, expected) in cases {
            assert_eq!(segments(&text), expected, "{} chars", text.chars().count());
        }
    }

    #[test]
    fn encodings() {
        assert_eq!(encoding(""), Encoding::Gsm7);
        assert_eq!(encoding("Kode: ABC, ke 1708. {}[]~|^€\\"), Encoding::Gsm7);
        assert_eq!(encoding("jalan… rusak"), Encoding::Ucs2);
        assert_eq!(encoding("👍"), Encoding::Ucs2);
        assert_eq!(encoding("ç"), Encoding::Ucs2);
    }

    #[test]
    fn fit_cuts_at_a_word_and_marks_it() {
        let short = "LAPOR! Laporan Anda diterima.";
        assert_eq!(fit(short, 1), short);

        let words = "kata ".repeat(40);
        let cut = fit(&words, 1);
        assert!(cut.ends_with("kata..."), "{cut}");
        assert!(segments(&cut) == 1 && cut.len() <= 160);
        assert!(cut.len() > 150, "{cut}");

        let unbroken = "a".repeat(400);
        assert_eq!(fit(&unbroken, 1), format!("{}...", "a".repeat(157)));
        assert_eq!(fit(&unbroken, 2), format!("{}...", "a".repeat(303)));

        let emoji = "😀".repeat(100);
        let cut = fit(&emoji, 1);
        assert_eq!(cut, format!("{}...", "😀".repeat(33)));

        // The character that forces UCS-2 lies beyond the cut, so the head is GSM-7 again.
        let late = format!("{}😀", "a".repeat(500));
        assert_eq!(fit(&late, 1), format!("{}...", "a".repeat(157)));

        assert_eq!(fit(&unbroken, 0), fit(&unbroken, 1));
    }

    proptest! {
        #[test]
        fn parse_never_panics(body in any::<String>()) {
            let _ = parse(&body);
        }

        #[test]
        fn parse_never_panics_on_long_keyword_messages(keyword in "(LAPOR|CEK|BALAS|RAHASIA|bantuan|)", rest in "\\PC{0,1800}") {
            let _ = parse(&format!("{keyword} {rest}"));
        }

        #[test]
        fn find_region_never_panics(text in any::<String>()) {
            let _ = find_region(&text);
        }

        #[test]
        fn fit_stays_within_three_segments(text in any::<String>()) {
            prop_assert!(segments(&fit(&text, 3)) <= 3);
        }

        #[test]
        fn fit_stays_within_segments_for_gsm_text(text in "[a-z €{}^\\[\\]|~]{0,700}", max in 0usize..5) {
            let cut = fit(&text, max);
            prop_assert!(segments(&cut) <= max.max(1));
            if cut != text {
                prop_assert!(cut.ends_with(ELLIPSIS));
                prop_assert!(text.starts_with(&cut[..cut.len() - ELLIPSIS.len()]));
            }
        }

        #[test]
        fn fit_keeps_text_that_fits(text in "\\PC{0,200}") {
            prop_assume!(segments(&text) <= MAX_REPLY_SEGMENTS);
            prop_assert_eq!(fit(&text, MAX_REPLY_SEGMENTS), text);
        }
    }
}
