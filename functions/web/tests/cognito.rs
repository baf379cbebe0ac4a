//! The console's Cognito sign-in client against the stand-in for Cognito's HTTP endpoints in
//! `common` (an axum server on a loopback port signing RS256 ID tokens with fixed test keys).

mod common;

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{now, Fake, AGENCY, CLIENT_ID, CLIENT_SECRET, EMAIL, POOL, SUB};
use lapor_web::console::cognito::{Cognito, CognitoSettings, Pending, SignInError};
use serde_json::{json, Value};

const REDIRECT: &str = "https://lapor.example.go.id/console/callback";

/// begin → managed login → finish, as the console drives it.
async fn sign_in(
    fake: &Fake,
    cognito: &Cognito,
) -> Result<
    (
        lapor_web::console::cognito::Tokens,
        lapor_web::console::cognito::Verified,
    ),
    SignInError,
> {
    let (url, pending) = cognito.begin(REDIRECT);
    let pending = Pending::from_cookie(&pending.to_cookie()).unwrap();
    let (code, state) = fake.log_in(&url).await;
    cognito.finish(REDIRECT, &code, &state, &pending).await
}

#[tokio::test]
async fn begin_sends_the_browser_to_the_managed_login_with_pkce_and_a_nonce() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();

    let (url, pending) = cognito.begin(REDIRECT);
    let url = reqwest::Url::parse(&url).unwrap();
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();

    assert_eq!(
        url.as_str().split('?').next(),
        Some(format!("{}/oauth2/authorize", fake.base).as_str())
    );
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["code_challenge_method"], "S256");
    // The challenge is the verifier's hash, never the verifier itself.
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(&query["code_challenge"])
            .unwrap()
            .len(),
        32
    );
    let cookie = pending.to_cookie();
    assert!(!cookie.contains(&query["code_challenge"]));
    assert!(cookie.starts_with(&format!("{}.", query["state"])));
    assert!(cookie.ends_with(&format!(".{}", query["nonce"])));
    assert!(query["state"].len() >= 22 && query["nonce"].len() >= 22);

    let (again, _) = cognito.begin(REDIRECT);
    let again: HashMap<_, _> = reqwest::Url::parse(&again)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_ne!(again["state"], query["state"]);
    assert_ne!(again["nonce"], query["nonce"]);
    assert_ne!(again["code_challenge"], query["code_challenge"]);
}

#[tokio::test]
async fn the_pending_cookie_survives_the_round_trip_and_nothing_else_passes_for_it() {
    let fake = Fake::start().await;
    let (_, pending) = fake.cognito().begin(REDIRECT);
    let cookie = pending.to_cookie();

    assert_eq!(Pending::from_cookie(&cookie).unwrap().to_cookie(), cookie);
    for forged in [
        String::new(),
        "state.verifier".to_owned(),
        format!("{cookie}.extra"),
        format!("{cookie}\""),
        cookie.replacen('.', "..", 1),
        "a b.c.d".to_owned(),
    ] {
        assert!(
            Pending::from_cookie(&forged).is_none(),
            "{forged:?} accepted"
        );
    }
}

#[tokio::test]
async fn finish_exchanges_the_code_with_the_verifier_and_returns_the_officers_claims() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();

    let (tokens, verified) = sign_in(&fake, &cognito).await.unwrap();

    assert_eq!(verified.claims["sub"], SUB);
    assert_eq!(verified.claims["email"], EMAIL);
    assert_eq!(verified.claims["custom:agency_id"], AGENCY);
    assert_eq!(verified.claims["custom:role"], "officer");
    assert_eq!(verified.claims["cognito:groups"], r#"["petugas"]"#);
    assert!((verified.expires_at - (now() + 3600)).abs() <= 5);
    assert!(tokens
        .refresh_token
        .as_deref()
        .unwrap()
        .starts_with("refresh-"));
    assert_eq!(
        cognito.verify(&tokens.id_token).await.unwrap().claims["sub"],
        SUB
    );

    let form = fake.lock().last_token_form.clone();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["redirect_uri"], REDIRECT);
    // The secret goes in the Authorization header only.
    assert!(form.values().all(|v| !v.contains(CLIENT_SECRET)));
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused_before_any_token_request() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let (url, pending) = cognito.begin(REDIRECT);
    let (code, _) = fake.log_in(&url).await;
    let (_, other) = cognito.begin(REDIRECT);
    let other_state = other.to_cookie().split('.').next().unwrap().to_owned();

    let result = cognito
        .finish(REDIRECT, &code, &other_state, &pending)
        .await;

    assert!(
        matches!(result, Err(SignInError::StateMismatch)),
        "{result:?}"
    );
    assert_eq!(fake.lock().token_requests, 0);
}

#[tokio::test]
async fn a_code_used_twice_is_refused_with_the_providers_code() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let (url, pending) = cognito.begin(REDIRECT);
    let (code, state) = fake.log_in(&url).await;
    cognito
        .finish(REDIRECT, &code, &state, &pending)
        .await
        .unwrap();

    let again = cognito.finish(REDIRECT, &code, &state, &pending).await;

    assert!(
        matches!(&again, Err(SignInError::Refused(code)) if code == "invalid_grant"),
        "{again:?}"
    );
    // The error text names the code, never the code the browser brought.
    assert!(!again.unwrap_err().to_string().contains(&code));
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_as_invalid_client() {
    let fake = Fake::start().await;
    let cognito = Cognito::new(fake.settings("not-the-secret"), reqwest::Client::new()).unwrap();

    let result = sign_in(&fake, &cognito).await;

    assert!(
        matches!(&result, Err(SignInError::Refused(code)) if code == "invalid_client"),
        "{result:?}"
    );
}

async fn sign_in_with_claims(overrides: Value) -> Result<(), SignInError> {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    // The untouched token passes, so a failure below is the override's doing.
    sign_in(&fake, &cognito).await.unwrap();
    fake.override_claims(overrides);
    sign_in(&fake, &cognito).await.map(|_| ())
}

#[tokio::test]
async fn a_token_for_another_client_is_invalid() {
    let result = sign_in_with_claims(json!({ "aud": "someoneelse" })).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_token_from_another_pool_is_invalid() {
    let result = sign_in_with_claims(json!({
        "iss": "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_Other"
    }))
    .await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_access_token_is_not_an_id_token() {
    let result = sign_in_with_claims(json!({ "token_use": "access" })).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_token_with_another_sign_ins_nonce_is_invalid() {
    let result = sign_in_with_claims(json!({ "nonce": "nonce-of-another-sign-in" })).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_token_without_a_nonce_is_invalid_from_a_sign_in() {
    let result = sign_in_with_claims(json!({ "nonce": null })).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_token_signed_by_a_key_the_pool_did_not_publish_is_invalid() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let genuine = fake.mint(json!({}));
    cognito.verify(&genuine).await.unwrap();
    // Key 2 is not in the JWKS; the header still names key 1.
    fake.lock().issuing.key = 1;
    let forged = fake.mint(json!({}));

    let result = cognito.verify(&forged).await;

    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_expired_token_is_expired_so_the_caller_refreshes() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let expired = fake.mint(json!({ "iat": now() - 7200, "exp": now() - 120 }));
    let in_leeway = fake.mint(json!({ "exp": now() - 20 }));
    let expired_and_foreign = fake.mint(json!({ "exp": now() - 120, "aud": "someoneelse" }));
    let expired_access_token = fake.mint(json!({ "exp": now() - 120, "token_use": "access" }));

    let result = cognito.verify(&expired).await;
    assert!(matches!(result, Err(SignInError::Expired)), "{result:?}");
    cognito.verify(&in_leeway).await.unwrap();
    // Only a token right in every other way is worth refreshing.
    let result = cognito.verify(&expired_and_foreign).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
    let result = cognito.verify(&expired_access_token).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn junk_is_an_invalid_token_and_fetches_no_keys() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();

    for junk in ["", "not-a-jwt", "a.b.c"] {
        let result = cognito.verify(junk).await;
        assert!(
            matches!(result, Err(SignInError::InvalidToken)),
            "{result:?}"
        );
    }
    assert_eq!(fake.lock().jwks_fetches, 0);
}

#[tokio::test]
async fn refresh_gets_a_new_id_token_and_keeps_the_refresh_token() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let (first, _) = sign_in(&fake, &cognito).await.unwrap();
    let refresh_token = first.refresh_token.clone().unwrap();

    let (second, verified) = cognito.refresh(&refresh_token).await.unwrap();
    let (third, _) = cognito
        .refresh(second.refresh_token.as_deref().unwrap())
        .await
        .unwrap();

    assert_eq!(fake.lock().last_token_form["grant_type"], "refresh_token");
    assert_eq!(verified.claims["sub"], SUB);
    assert!(!verified.claims.contains_key("nonce"));
    assert_ne!(second.id_token, first.id_token);
    assert_ne!(third.id_token, second.id_token);
    assert_eq!(
        second.refresh_token.as_deref(),
        Some(refresh_token.as_str())
    );
    assert_eq!(third.refresh_token.as_deref(), Some(refresh_token.as_str()));
    assert_eq!(
        cognito.verify(&third.id_token).await.unwrap().claims["sub"],
        SUB
    );
}

#[tokio::test]
async fn revoke_ends_the_refresh_token_at_cognito() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    let (tokens, _) = sign_in(&fake, &cognito).await.unwrap();
    let refresh_token = tokens.refresh_token.unwrap();

    cognito.revoke(&refresh_token).await.unwrap();

    assert_eq!(fake.lock().revoked, vec![refresh_token.clone()]);
    let result = cognito.refresh(&refresh_token).await;
    assert!(
        matches!(&result, Err(SignInError::Refused(code)) if code == "invalid_grant"),
        "{result:?}"
    );
}

#[tokio::test]
async fn revoke_with_a_wrong_secret_reports_the_refusal() {
    let fake = Fake::start().await;
    let cognito = Cognito::new(fake.settings("not-the-secret"), reqwest::Client::new()).unwrap();

    let result = cognito.revoke("refresh-1").await;

    assert!(
        matches!(&result, Err(SignInError::Refused(code)) if code == "invalid_client"),
        "{result:?}"
    );
    assert!(fake.lock().revoked.is_empty());
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_do_not_hammer_cognito() {
    let fake = Fake::start().await;
    let cognito = fake.cognito();
    sign_in(&fake, &cognito).await.unwrap();
    assert_eq!(fake.lock().jwks_fetches, 1);

    // Cognito rotates: key 2 is published and signs from now on.
    {
        let mut state = fake.lock();
        state.published = 2;
        state.issuing.key = 1;
        state.issuing.kid = "key-2".to_owned();
    }
    let (tokens, _) = sign_in(&fake, &cognito).await.unwrap();
    assert_eq!(fake.lock().jwks_fetches, 2);
    cognito.verify(&tokens.id_token).await.unwrap();
    assert_eq!(fake.lock().jwks_fetches, 2);

    // A key id nobody published, within the minute: rejected without another fetch.
    fake.lock().issuing.kid = "key-3".to_owned();
    let unknown = fake.mint(json!({}));
    let result = cognito.verify(&unknown).await;
    assert!(
        matches!(result, Err(SignInError::InvalidToken)),
        "{result:?}"
    );
    assert_eq!(fake.lock().jwks_fetches, 2);
}

#[tokio::test]
async fn an_unreachable_cognito_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let cognito = Cognito::new(
        CognitoSettings {
            domain: base.clone(),
            issuer: format!("{base}/{POOL}"),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Some(CLIENT_SECRET.to_owned()),
        },
        reqwest::Client::new(),
    )
    .unwrap();

    let refresh = cognito.refresh("refresh-1").await;
    assert!(
        matches!(refresh, Err(SignInError::Unreachable)),
        "{refresh:?}"
    );
    let revoke = cognito.revoke("refresh-1").await;
    assert!(
        matches!(revoke, Err(SignInError::Unreachable)),
        "{revoke:?}"
    );
}

#[tokio::test]
async fn logout_url_ends_the_cognito_session_and_comes_back() {
    let fake = Fake::start().await;
    let logout_uri = "https://lapor.example.go.id/console/masuk?keluar=1";

    let url = reqwest::Url::parse(&fake.cognito().logout_url(logout_uri)).unwrap();
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();

    assert_eq!(
        url.as_str().split('?').next(),
        Some(format!("{}/logout", fake.base).as_str())
    );
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["logout_uri"], logout_uri);
    assert_eq!(query.len(), 2);
}

#[test]
fn settings_come_from_the_stacks_secret_without_echoing_it() {
    let domain = "https://lapor-x.auth.ap-southeast-3.amazoncognito.com";
    let issuer = "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_Pool";

    let settings = CognitoSettings::from_secret_json(
        r#"{"client_id": "abc123", "client_secret": "s3cr3tvalue"}"#,
        domain,
        issuer,
    )
    .unwrap();
    assert_eq!(settings.client_id, "abc123");
    assert_eq!(settings.client_secret.as_deref(), Some("s3cr3tvalue"));
    assert_eq!(settings.domain, domain);
    assert_eq!(settings.issuer, issuer);
    assert!(!format!("{settings:?}").contains("s3cr3tvalue"));

    let broken = CognitoSettings::from_secret_json(
        r#"{"client_id": 7, "client_secret": "s3cr3tvalue"}"#,
        domain,
        issuer,
    );
    let error = broken.unwrap_err();
    assert!(matches!(error, SignInError::Config(_)));
    assert!(!error.to_string().contains("s3cr3tvalue"));
    let no_id = CognitoSettings::from_secret_json(r#"{"client_secret": "x"}"#, domain, issuer);
    assert!(matches!(no_id, Err(SignInError::Config(_))));
}

#[test]
fn endpoints_must_be_https_except_on_this_machine() {
    let settings = |domain: &str| CognitoSettings {
        domain: domain.to_owned(),
        issuer: "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_Pool".to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: None,
    };
    let http = reqwest::Client::new;

    let plain = Cognito::new(
        settings("http://lapor-x.auth.ap-southeast-3.amazoncognito.com"),
        http(),
    );
    assert!(matches!(plain, Err(SignInError::Config(_))));
    let not_a_url = Cognito::new(settings("lapor-x"), http());
    assert!(matches!(not_a_url, Err(SignInError::Config(_))));
    assert!(Cognito::new(
        settings("https://lapor-x.auth.ap-southeast-3.amazoncognito.com/"),
        http()
    )
    .is_ok());
    assert!(Cognito::new(settings("http://127.0.0.1:9"), http()).is_ok());
    assert!(Cognito::new(settings("http://[::1]:9"), http()).is_ok());
}
