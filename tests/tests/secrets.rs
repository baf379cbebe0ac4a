//! The pepper comes from Secrets Manager (issue 15, part 3; read once per process), read on the
//! wire from moto: the function configuration names the secret, never holds it.

use lapor_core::KeyPepper;
use lapor_lambda::read_pepper;
use lapor_tests::{moto_config, unique_name};

#[tokio::test]
async fn the_pepper_is_the_secret_value_and_errors_name_the_secret_not_its_value() {
    let Some(config) = moto_config().await else {
        return;
    };
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let value = "pepper-from-secrets-manager-0123456789abcdef0123456789";
    let good = unique_name("pepper");
    client
        .create_secret()
        .name(&good)
        .secret_string(value)
        .send()
        .await
        .expect("create secret");
    let pepper = read_pepper(&client, &good).await.expect("pepper");
    let expected = KeyPepper::new(value.as_bytes().to_vec()).expect("32 bytes");
    assert_eq!(
        pepper.keyed_hex("sms-rate", "+6281234567890"),
        expected.keyed_hex("sms-rate", "+6281234567890")
    );

    let short_value = "too-short-secret";
    let short = unique_name("short");
    client
        .create_secret()
        .name(&short)
        .secret_string(short_value)
        .send()
        .await
        .expect("create secret");
    let error = read_pepper(&client, &short)
        .await
        .expect_err("a short pepper is refused")
        .to_string();
    assert!(
        error.contains(&short) && error.contains("32 bytes"),
        "{error}"
    );
    assert!(!error.contains(short_value), "the value leaked: {error}");

    let missing = unique_name("missing");
    let error = read_pepper(&client, &missing)
        .await
        .expect_err("no such secret")
        .to_string();
    assert!(error.contains(&missing), "{error}");
}
