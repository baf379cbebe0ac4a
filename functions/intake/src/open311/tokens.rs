//! `tokens/{token}`: the specification's way to learn a request's id after posting it. Lapor
//! answers a post with the id at once, and with a token anyway for clients that follow the
//! token flow.
//!
//! A token is the tracking code and a tag keyed with the server secret (HMAC), so nothing is
//! stored for it and nobody can make one for a code they were not given: a token names only the
//! report its holder filed, and a `rahasia` report is never reachable by guessing.

use lapor_core::{KeyPepper, TrackingCode};

use super::document::{Node, Record};
use super::{Answer, Failure};
use crate::Deps;

/// Hex characters of the tag: 96 bits.
const TAG_LEN: usize = 24;

/// The token of the report filed as `code`.
pub fn token_for(pepper: &KeyPepper, code: &TrackingCode) -> String {
    format!("{code}_{}", tag(pepper, code))
}

fn tag(pepper: &KeyPepper, code: &TrackingCode) -> String {
    let keyed = pepper.keyed_hex("open311-token", code.as_str());
    keyed.get(..TAG_LEN).unwrap_or(&keyed).to_string()
}

/// The code a token was made for; `None` for anything this server did not make.
fn code_of(pepper: &KeyPepper, token: &str) -> Option<TrackingCode> {
    let (code, given) = token.split_once('_')?;
    let code = TrackingCode::parse(code).ok()?;
    let expected = tag(pepper, &code);
    let given = given.to_ascii_lowercase();
    // Compare every byte so the time taken says nothing about how much matched.
    let same = expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(code)
}

/// `tokens/{token}`: the request the token was given for, as a list of one.
pub async fn lookup(deps: &Deps, token: &str) -> Result<Answer, Failure> {
    let pepper = deps.pepper.get().await?;
    let code = code_of(pepper, token).ok_or_else(unknown_token)?;
    deps.reports
        .report(&code)
        .await?
        .ok_or_else(unknown_token)?;
    let record = Record::new()
        .with("service_request_id", Node::text(code.as_str()))
        .with("token", Node::text(token_for(pepper, &code)));
    Ok((
        "service_requests",
        Node::List("request", vec![Node::Record(record)]),
    ))
}

fn unknown_token() -> Failure {
    Failure::new(
        axum::http::StatusCode::NOT_FOUND,
        "Token tidak dikenal.",
        "Unknown token.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_code_and_cannot_be_made_without_the_secret() {
        let pepper = KeyPepper::new(vec![7; 32]).expect("pepper");
        let other = KeyPepper::new(vec![8; 32]).expect("pepper");
        let code = TrackingCode::generate(&mut rand::rng());
        let token = token_for(&pepper, &code);
        assert_eq!(code_of(&pepper, &token), Some(code.clone()));
        assert_eq!(
            code_of(&pepper, &token.to_ascii_lowercase()),
            Some(code.clone())
        );
        assert_eq!(code_of(&other, &token), None, "another secret");
        assert_eq!(code_of(&pepper, code.as_str()), None, "no tag");
        let forged = format!("{code}_{}", "0".repeat(TAG_LEN));
        assert_eq!(code_of(&pepper, &forged), None);
        let cut = &token[..token.len() - 1];
        assert_eq!(code_of(&pepper, cut), None);
    }
}
