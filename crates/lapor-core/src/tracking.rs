//! Public tracking codes: `K7M2QX9PRA`-style, ten characters, the last a check character.
//!
//! The alphabet is Crockford's base 32 without `Z` (31 symbols): no `I`, `L`, `O`, `U` to
//! misread, and a prime-sized alphabet, so a weighted sum modulo 31 catches every single wrong
//! character and every swap of two neighbours. Nine random symbols give 31^9 ≈ 2.6·10^13 codes,
//! so codes cannot be found by counting. Input is case-insensitive and forgiving: spaces and
//! hyphens are ignored and `I`/`L` read as `1`, `O` as `0`, as people type them.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::Invalid;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKMNPQRSTVWXY";
const BODY_LEN: usize = 9;
const CODE_LEN: usize = BODY_LEN + 1;
const MODULUS: u32 = 31;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingCode(String);

impl TrackingCode {
    /// A fresh random code from the given random source.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let body: Vec<u32> = (0..BODY_LEN)
            .map(|_| rng.random_range(0..MODULUS))
            .collect();
        let mut text: String = body.iter().map(|&v| symbol(v)).collect();
        text.push(symbol(check_value(&body)));
        Self(text)
    }

    /// Reads a code as a person typed it.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let mut values = Vec::with_capacity(CODE_LEN);
        for c in input.chars().filter(|c| !matches!(c, ' ' | '-')) {
            match value_of(c) {
                Some(v) if values.len() < CODE_LEN => values.push(v),
                Some(_) => return Err(wrong_length()),
                None => {
                    return Err(Invalid::field(
                        "tracking_code",
                        "invalid_tracking_code",
                        "Kode pelacakan berisi karakter yang tidak dikenal.",
                        "The tracking code contains a character that is not used in codes.",
                    ))
                }
            }
        }
        if values.len() != CODE_LEN {
            return Err(wrong_length());
        }
        let (body, check) = values.split_at(BODY_LEN);
        if check_value(body) != check[0] {
            return Err(Invalid::field(
                "tracking_code",
                "invalid_tracking_code",
                "Kode pelacakan salah ketik: periksa kembali setiap karakter.",
                "The tracking code has a typo: check each character again.",
            ));
        }
        Ok(Self(values.iter().map(|&v| symbol(v)).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn wrong_length() -> Invalid {
    Invalid::field(
        "tracking_code",
        "invalid_tracking_code",
        format!("Kode pelacakan terdiri dari {CODE_LEN} karakter."),
        format!("A tracking code has {CODE_LEN} characters."),
    )
}

fn symbol(value: u32) -> char {
    char::from(ALPHABET[value as usize])
}

fn value_of(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|p| p as u32)
}

/// The check value `c` that makes `Σ (i+1)·vᵢ + 10·c ≡ 0 (mod 31)`.
fn check_value(body: &[u32]) -> u32 {
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as u32 + 1) * v)
        .sum::<u32>()
        % MODULUS;
    // 10 · 28 ≡ 1 (mod 31): 28 is the inverse of the check position's weight.
    ((MODULUS - sum) * 28) % MODULUS
}

impl TryFrom<String> for TrackingCode {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TrackingCode> for String {
    fn from(code: TrackingCode) -> Self {
        code.0
    }
}

impl fmt::Display for TrackingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn code_from_seed(seed: u64) -> TrackingCode {
        TrackingCode::generate(&mut StdRng::seed_from_u64(seed))
    }

    #[test]
    fn generated_codes_parse_back_and_fit_ten_characters() {
        for seed in 0..500 {
            let code = code_from_seed(seed);
            assert_eq!(code.as_str().len(), 10);
            assert_eq!(TrackingCode::parse(code.as_str()), Ok(code.clone()));
        }
    }

    #[test]
    fn parsing_forgives_case_spacing_and_lookalikes() {
        let code = (0..10_000u64)
            .map(code_from_seed)
            .find(|c| c.as_str().contains('0') && c.as_str().contains('1'))
            .expect("some code has both a 0 and a 1");
        let lower = code
            .as_str()
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        let typed = format!(" {}-{} ", &lower[..5], &lower[5..]);
        assert_eq!(TrackingCode::parse(&typed), Ok(code));
    }

    #[test]
    fn rejects_wrong_length_and_foreign_characters() {
        assert_eq!(
            TrackingCode::parse("ABC").unwrap_err().code,
            "invalid_tracking_code"
        );
        assert!(TrackingCode::parse("ABCDEFGHJKM").is_err());
        assert!(TrackingCode::parse("ABCDEFGHJ!").is_err());
        assert!(TrackingCode::parse("ÄBCDEFGHJK").is_err());
        assert!(TrackingCode::parse("").is_err());
    }

    proptest! {
        #[test]
        fn every_single_substitution_is_caught(seed in any::<u64>(), pos in 0usize..10, delta in 1u32..31) {
            let code = code_from_seed(seed);
            let mut values: Vec<u32> = code.as_str().chars().filter_map(value_of).collect();
            values[pos] = (values[pos] + delta) % MODULUS;
            let typo: String = values.iter().map(|&v| symbol(v)).collect();
            prop_assert!(TrackingCode::parse(&typo).is_err());
        }

        #[test]
        fn every_neighbour_swap_is_caught(seed in any::<u64>(), pos in 0usize..9) {
            let code = code_from_seed(seed);
            let mut chars: Vec<char> = code.as_str().chars().collect();
            prop_assume!(chars[pos] != chars[pos + 1]);
            chars.swap(pos, pos + 1);
            let typo: String = chars.into_iter().collect();
            prop_assert!(TrackingCode::parse(&typo).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(input in ".{0,40}") {
            let _ = TrackingCode::parse(&input);
        }
    }

    #[test]
    fn codes_do_not_follow_each_other() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = TrackingCode::generate(&mut rng);
        let b = TrackingCode::generate(&mut rng);
        let shared_prefix = a
            .as_str()
            .chars()
            .zip(b.as_str().chars())
            .take_while(|(x, y)| x == y)
            .count();
        assert!(shared_prefix < 5, "{a} and {b} look sequential");
    }
}
