//! Suggests a category for free complaint text from weighted Indonesian keywords, so a report that
//! arrives without one (an SMS, a short web form) can be routed, while anything unclear goes to a
//! person. The rules are bundled data (`data/classifier.json`) so they can be tuned without code.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::category::Category;

#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub category: Category,
    /// In 0..=1, and never below [`threshold`].
    pub confidence: f32,
    /// The data file's terms that supported `category`, in order of first appearance, so a triage
    /// officer can see why it was chosen.
    pub matched: Vec<String>,
}

/// Best category for free text, or None when nothing matches or confidence < threshold
pub fn classify(text: &str) -> Option<Classification> {
    CLASSIFIER.classify(text)
}

/// The data file's terms for `category`, as written there (a trailing `*` is a prefix), in
/// file order: what the classifier listens for, e.g. as an Open311 service's keywords.
pub fn terms(category: Category) -> Vec<&'static str> {
    CLASSIFIER
        .terms
        .iter()
        .filter(|t| t.category == category)
        .map(|t| t.source.as_str())
        .collect()
}

/// The minimum confidence at which [`classify`] names a category.
pub fn threshold() -> f32 {
    CLASSIFIER.threshold
}

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| {
    Classifier::load(include_str!("../data/classifier.json"))
        .unwrap_or_else(|e| panic!("bundled data/classifier.json is invalid: {e}"))
});

/// Unknown fields are refused so a misspelt key (`"wieght"`) fails the load test instead of
/// silently dropping a rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(rename = "about")]
    _about: IgnoredAny,
    threshold: f32,
    rules: Vec<RuleGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleGroup {
    category: String,
    weight: f32,
    terms: Vec<String>,
}

struct Classifier {
    threshold: f32,
    terms: Vec<Term>,
    /// Terms by their first word, so each position of the text is checked against a handful of
    /// terms rather than all of them.
    by_first_word: HashMap<String, Vec<usize>>,
    /// Terms whose first word is a prefix pattern and so cannot be looked up by equality.
    prefixed: Vec<usize>,
}

struct Term {
    category: Category,
    weight: f32,
    words: Vec<Pattern>,
    source: String,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Pattern {
    text: String,
    prefix: bool,
}

/// One occurrence of a term in the text, as the word range `start..end`.
struct Hit {
    term: usize,
    start: usize,
    end: usize,
}

#[derive(Default)]
struct Evidence {
    score: f32,
    terms: Vec<usize>,
}

impl Classifier {
    fn load(json: &str) -> Result<Self, String> {
        let file: RuleFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if !(file.threshold > 0.0 && file.threshold <= 1.0) {
            return Err(format!("threshold {} is not in (0, 1]", file.threshold));
        }
        let mut terms = Vec::new();
        let mut seen = HashSet::new();
        for group in file.rules {
            let category = category_by_id(&group.category)?;
            if !(group.weight.is_finite() && group.weight > 0.0) {
                return Err(format!(
                    "{}: weight {} is not positive",
                    group.category, group.weight
                ));
            }
            for source in group.terms {
                let words = parse_term(&source)?;
                // Two spellings that normalise alike ("e-ktp", "e ktp") would count twice.
                if !seen.insert((category, words.clone())) {
                    return Err(format!("{}: duplicate term `{source}`", group.category));
                }
                terms.push(Term {
                    category,
                    weight: group.weight,
                    words,
                    source,
                });
            }
        }
        Ok(Self::index(file.threshold, terms))
    }

    fn index(threshold: f32, terms: Vec<Term>) -> Self {
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        let mut prefixed = Vec::new();
        for (i, term) in terms.iter().enumerate() {
            match term.words.first() {
                Some(first) if first.prefix => prefixed.push(i),
                Some(first) => by_first_word.entry(first.text.clone()).or_default().push(i),
                None => {}
            }
        }
        Self {
            threshold,
            terms,
            by_first_word,
            prefixed,
        }
    }

    fn classify(&self, text: &str) -> Option<Classification> {
        let mut ranked: Vec<(Category, Evidence)> =
            self.evidence(&words(text)).into_iter().collect();
        // Stable sort: of two equal scores the earlier category wins, but a tie's confidence is
        // below 0.5 anyway.
        ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        let mut ranked = ranked.into_iter();
        let (category, best) = ranked.next()?;
        let runner_up = ranked.next().map_or(0.0, |(_, e)| e.score);
        let confidence = confidence(best.score, runner_up);
        (confidence >= self.threshold).then(|| Classification {
            category,
            confidence,
            matched: best
                .terms
                .iter()
                .map(|&i| self.terms[i].source.clone())
                .collect(),
        })
    }

    /// Each distinct term counts once, so a long rant repeating one word does not drown out a
    /// decisive phrase said once.
    fn evidence(&self, words: &[String]) -> BTreeMap<Category, Evidence> {
        let mut by_category: BTreeMap<Category, Evidence> = BTreeMap::new();
        let mut counted = HashSet::new();
        for hit in outermost(&self.hits(words)) {
            if counted.insert(hit.term) {
                let term = &self.terms[hit.term];
                let evidence = by_category.entry(term.category).or_default();
                evidence.score += term.weight;
                evidence.terms.push(hit.term);
            }
        }
        by_category
    }

    /// Every occurrence of every term, ordered by start.
    fn hits(&self, words: &[String]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (start, word) in words.iter().enumerate() {
            let exact = self.by_first_word.get(word).into_iter().flatten();
            for &term in exact.chain(&self.prefixed) {
                let len = self.terms[term].words.len();
                if self.terms[term].matches_at(words, start) {
                    hits.push(Hit {
                        term,
                        start,
                        end: start + len,
                    });
                }
            }
        }
        hits
    }
}

impl Term {
    fn matches_at(&self, words: &[String], start: usize) -> bool {
        words
            .get(start..start + self.words.len())
            .is_some_and(|window| window.iter().zip(&self.words).all(|(w, p)| p.matches(w)))
    }
}

impl Pattern {
    fn matches(&self, word: &str) -> bool {
        if self.prefix {
            word.starts_with(&self.text)
        } else {
            word == self.text
        }
    }
}

/// `best / (best + runner_up + 1)`. The `+ 1` stands for "none of the above": a lone weak term
/// (weight 0.5 → 0.33) is not enough while a lone decisive one (3 → 0.75) is. The runner-up in the
/// denominator makes a near tie score below 0.5 however strong both sides are, so text that fits
/// two categories goes to a person instead of being guessed. At a threshold of 0.5 this reads
/// simply: the winner must lead the runner-up by at least one full weight.
fn confidence(best: f32, runner_up: f32) -> f32 {
    best / (best + runner_up + 1.0)
}

/// A term covered by a longer matched term is not separate evidence: "lampu lalu lintas" is
/// traffic, not street lighting, and "bpjs ketenagakerjaan" is not also "bpjs". Overlapping terms
/// that do not contain one another ("minta uang" and "uang rokok") both count.
fn outermost(hits: &[Hit]) -> Vec<&Hit> {
    let mut kept = Vec::new();
    // The furthest end of any hit starting before the current group.
    let mut reach = 0;
    for group in hits.chunk_by(|a, b| a.start == b.start) {
        let longest = group.iter().map(|h| h.end).max().unwrap_or(reach);
        kept.extend(group.iter().filter(|h| h.end > reach && h.end == longest));
        reach = reach.max(longest);
    }
    kept
}

fn category_by_id(id: &str) -> Result<Category, String> {
    Category::ALL
        .into_iter()
        .find(|c| c.id() == id)
        .ok_or_else(|| format!("unknown category id `{id}`"))
}

/// A term's words; a trailing `*` on a word makes it match any word it begins.
fn parse_term(source: &str) -> Result<Vec<Pattern>, String> {
    let mut patterns = Vec::new();
    for piece in source.split_whitespace() {
        let stem = piece.strip_suffix('*');
        let mut piece_words: Vec<Pattern> = words(stem.unwrap_or(piece))
            .into_iter()
            .map(|text| Pattern {
                text,
                prefix: false,
            })
            .collect();
        if let (Some(_), Some(last)) = (stem, piece_words.last_mut()) {
            last.prefix = true;
        }
        patterns.append(&mut piece_words);
    }
    if patterns.is_empty() {
        return Err(format!("term `{source}` has no words"));
    }
    Ok(patterns)
}

/// Lowercase words with punctuation, emoji and other symbols as separators, so "E-KTP," and
/// "e ktp" read alike and a term only ever matches whole words.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| strip_clitic(strip_reduplication(w)).to_string())
        .collect()
}

/// Informal writing shortens a repeated word ("anak-anak") to "anak2".
fn strip_reduplication(word: &str) -> &str {
    match word.strip_suffix('2') {
        Some(base) if base.chars().count() >= 2 && base.chars().all(char::is_alphabetic) => base,
        _ => word,
    }
}

/// "-nya" ("the/its") attaches to any noun, and "sekolahnya" is still about "sekolah". Short bases
/// are kept whole so "punya" and "tanya" stay words.
fn strip_clitic(word: &str) -> &str {
    match word.strip_suffix("nya") {
        Some(base) if base.chars().count() >= 3 => base,
        _ => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BUNDLED: &str = include_str!("../data/classifier.json");

    #[test]
    fn every_category_but_lainnya_has_terms() {
        for category in Category::ALL {
            let listed = terms(category);
            assert_eq!(
                listed.is_empty(),
                category.id() == "lainnya",
                "{category:?}"
            );
        }
        assert!(terms(Category::Infrastruktur).iter().all(|t| !t.is_empty()));
    }

    /// A tiny rule set, so the matching rules are tested apart from the bundled vocabulary.
    fn toy(rules: serde_json::Value) -> Classifier {
        let file = serde_json::json!({"about": "", "threshold": 0.5, "rules": rules});
        Classifier::load(&file.to_string()).unwrap()
    }

    fn category_of(classifier: &Classifier, text: &str) -> Option<Category> {
        classifier.classify(text).map(|c| c.category)
    }

    #[test]
    fn bundled_file_parses_with_a_sane_threshold() {
        let classifier = Classifier::load(BUNDLED).unwrap();
        assert!(
            classifier.threshold >= 0.5,
            "below 0.5 a tie could be accepted"
        );
        assert!(!classifier.terms.is_empty());
        assert_eq!(threshold(), classifier.threshold);
    }

    #[test]
    fn every_category_id_in_the_bundled_file_exists() {
        let file: RuleFile = serde_json::from_str(BUNDLED).unwrap();
        for group in &file.rules {
            assert!(
                category_by_id(&group.category).is_ok(),
                "{}",
                group.category
            );
        }
    }

    #[test]
    fn load_refuses_unknown_ids_duplicates_bad_weights_and_typos() {
        let load = |rules: serde_json::Value| {
            let file = serde_json::json!({"about": "", "threshold": 0.5, "rules": rules});
            Classifier::load(&file.to_string())
                .err()
                .unwrap_or_default()
        };
        let unknown = load(serde_json::json!([{"category": "jalan", "weight": 1, "terms": ["x"]}]));
        assert!(unknown.contains("unknown category id `jalan`"), "{unknown}");
        let duplicate = load(serde_json::json!([
            {"category": "korupsi", "weight": 1, "terms": ["e-ktp"]},
            {"category": "korupsi", "weight": 2, "terms": ["E KTP"]}
        ]));
        assert!(duplicate.contains("duplicate term"), "{duplicate}");
        let weight =
            load(serde_json::json!([{"category": "korupsi", "weight": 0, "terms": ["x"]}]));
        assert!(weight.contains("not positive"), "{weight}");
        let empty =
            load(serde_json::json!([{"category": "korupsi", "weight": 1, "terms": ["?!"]}]));
        assert!(empty.contains("no words"), "{empty}");
        let typo = load(serde_json::json!([{"category": "korupsi", "wieght": 1, "terms": ["x"]}]));
        assert!(typo.contains("unknown field"), "{typo}");
    }

    #[test]
    fn phrase_beats_the_single_word_inside_it() {
        let classifier = toy(serde_json::json!([
            {"category": "utilitas", "weight": 3, "terms": ["air"]},
            {"category": "lingkungan_hidup", "weight": 2, "terms": ["air meluap"]}
        ]));
        assert_eq!(
            category_of(&classifier, "air meluap ke rumah"),
            Some(Category::LingkunganHidup)
        );
        assert_eq!(
            category_of(&classifier, "air keruh"),
            Some(Category::Utilitas)
        );
    }

    #[test]
    fn bundled_phrases_beat_their_words() {
        let found = classify("Saldo BPJS Ketenagakerjaan saya tidak bisa dicairkan").unwrap();
        assert_eq!(found.category, Category::Ketenagakerjaan);
        assert_eq!(found.matched, ["bpjs ketenagakerjaan"]);
        let found = classify("lampu lalu lintas di perempatan mati").unwrap();
        assert_eq!(found.category, Category::Perhubungan);
    }

    #[test]
    fn terms_match_whole_words_only() {
        let classifier = toy(serde_json::json!([
            {"category": "administrasi_kependudukan", "weight": 3, "terms": ["ktp", "e-ktp"]},
            {"category": "korupsi", "weight": 3, "terms": ["korup*"]}
        ]));
        let admin = Some(Category::AdministrasiKependudukan);
        for miss in ["ktpx", "aktp", "ktp2x", "ektp"] {
            assert_eq!(category_of(&classifier, miss), None, "{miss}");
        }
        for hit in [
            "KTP,",
            "(ktp)",
            "ktp-nya",
            "E-KTP!",
            "e ktp",
            "ktpnya hilang",
        ] {
            assert_eq!(category_of(&classifier, hit), admin, "{hit}");
        }
        assert_eq!(
            category_of(&classifier, "koruptor"),
            Some(Category::Korupsi)
        );
        assert_eq!(category_of(&classifier, "antikorupsi"), None);
    }

    #[test]
    fn informal_spellings_normalise() {
        assert_eq!(
            words("Anak2 SEKOLAHNYA... punya-tanya"),
            ["anak", "sekolah", "punya", "tanya"]
        );
    }

    #[test]
    fn a_tie_or_weak_evidence_goes_to_a_person() {
        let classifier = toy(serde_json::json!([
            {"category": "kesehatan", "weight": 3, "terms": ["bpjs kesehatan"]},
            {"category": "pajak_retribusi", "weight": 3, "terms": ["denda"]},
            {"category": "korupsi", "weight": 0.5, "terms": ["oknum"]}
        ]));
        assert_eq!(category_of(&classifier, "denda bpjs kesehatan"), None);
        assert_eq!(category_of(&classifier, "oknum"), None);
        let clear = classifier.classify("bpjs kesehatan").unwrap();
        assert_eq!(clear.confidence, 0.75);
    }

    #[derive(Deserialize)]
    struct CaseFile {
        cases: Vec<Case>,
    }

    #[derive(Deserialize)]
    struct Case {
        text: String,
        expected: Option<Category>,
    }

    fn cases() -> Vec<Case> {
        let file: CaseFile =
            serde_json::from_str(include_str!("../data/classifier_cases.json")).unwrap();
        file.cases
    }

    #[test]
    fn case_table_covers_every_category_and_triage() {
        let cases = cases();
        assert!(cases.len() >= 45);
        assert!(cases.iter().filter(|c| c.expected.is_none()).count() >= 5);
        for category in Category::ALL
            .into_iter()
            .filter(|c| *c != Category::Lainnya)
        {
            let n = cases
                .iter()
                .filter(|c| c.expected == Some(category))
                .count();
            assert!(n >= 2, "{} has {n} cases", category.id());
        }
    }

    #[test]
    fn accuracy_on_the_case_table_is_at_least_85_percent() {
        let cases = cases();
        let mut wrong = Vec::new();
        for case in &cases {
            let got = classify(&case.text);
            if got.as_ref().map(|c| c.category) != case.expected {
                wrong.push(format!(
                    "  expected {:?}, got {:?}: {}",
                    case.expected.map(Category::id),
                    got.map(|c| (c.category.id(), c.confidence, c.matched)),
                    case.text
                ));
            }
        }
        let correct = cases.len() - wrong.len();
        let percent = 100.0 * correct as f64 / cases.len() as f64;
        let report = format!(
            "classifier accuracy: {correct}/{} = {percent:.1}%\n{}",
            cases.len(),
            wrong.join("\n")
        );
        println!("{report}");
        eprintln!("{report}");
        assert!(percent >= 85.0, "accuracy below 85%");
    }

    #[test]
    fn very_long_and_symbol_only_input() {
        assert!(classify("").is_none());
        assert!(classify("🙏🙏🙏 😡").is_none());
        assert!(classify("\u{0}\u{200b}\u{feff}").is_none());
        let long = "sampah menumpuk di jalan ".repeat(500);
        assert_eq!(
            classify(&long).map(|c| c.category),
            Some(Category::LingkunganHidup)
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_confidence_stays_in_range(text in "\\PC{0,10000}") {
            if let Some(found) = classify(&text) {
                prop_assert!(found.confidence >= threshold() && found.confidence <= 1.0);
                prop_assert!(!found.matched.is_empty());
            }
        }

        #[test]
        fn keyword_soup_never_panics(picks in prop::collection::vec(any::<prop::sample::Index>(), 0..2000)) {
            let text = picks.iter().map(|i| i.get(&CLASSIFIER.terms).source.as_str()).collect::<Vec<_>>().join(" ");
            if let Some(found) = classify(&text) {
                prop_assert!((0.0..=1.0).contains(&found.confidence));
            }
        }
    }
}
