//! `lapor-admin partner-keys` as an operator runs it: the built binary against a table on moto.
//! A key is printed once and works; the table and `list` never hold or show its secret; a
//! revoked key stops working and keeps its first revocation time; every refusal exits non-zero
//! with a message and changes nothing.

use std::process::Output;

use lapor_core::{PartnerApiKey, PartnerKeyId};
use lapor_store::{DynamoStore, PartnerKeys};

/// The table, on the moto server that `scripts/test` starts; `None` (test skipped) without one.
async fn moto_table() -> Option<(DynamoStore, aws_sdk_dynamodb::Client, String)> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("LAPOR_REQUIRE_MOTO").is_none(),
            "LAPOR_REQUIRE_MOTO is set but AWS_ENDPOINT_URL is not: start moto (scripts/test does)"
        );
        eprintln!("skipped: no AWS_ENDPOINT_URL (run scripts/test to start moto)");
        return None;
    }
    let config = lapor_lambda::aws_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("partner-keys-cli-{:016x}", rand::random::<u64>());
    let store = DynamoStore::new(client.clone(), &table);
    store.create_table_if_missing().await.expect("table");
    Some((store, client, table))
}

/// Runs `lapor-admin partner-keys ARGS` on `table` (by `TABLE_NAME`, as the README shows).
fn admin(table: Option<&str>, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lapor-admin"));
    command
        .arg("partner-keys")
        .args(args)
        .env_remove("TABLE_NAME");
    if let Some(table) = table {
        command.env("TABLE_NAME", table);
    }
    command.output().expect("lapor-admin runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The value of `label:` in what `issue` printed.
fn printed<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label} in {text:?}"))
}

/// Every item of the table, as text.
async fn raw_table(client: &aws_sdk_dynamodb::Client, table: &str) -> String {
    let items = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    format!("{items:?}")
}

#[tokio::test]
async fn a_key_is_shown_once_works_until_revoked_and_its_secret_is_never_stored_or_listed() {
    let Some((store, client, table)) = moto_table().await else {
        return;
    };

    // Issue: the key is printed once, with a warning to hand it over safely.
    let issued = admin(Some(&table), &["issue", "--name", "Aplikasi Warga Cirebon"]);
    assert!(issued.status.success(), "{}", stderr(&issued));
    let out = stdout(&issued);
    let id = PartnerKeyId::parse(printed(&out, "id:")).expect("a key id");
    assert_eq!(printed(&out, "name:"), "Aplikasi Warga Cirebon");
    let shown = printed(&out, "api_key:").to_string();
    assert!(
        stderr(&issued).contains("shown only once"),
        "{}",
        stderr(&issued)
    );
    let key = PartnerApiKey::presented(&shown).expect("the printed key has a key's shape");
    assert_eq!(key.id(), &id);
    let secret = shown
        .rsplit('_')
        .next()
        .expect("a secret after the id")
        .to_string();
    assert!(secret.len() >= 16, "a secret worth the name: {shown}");

    // The stored record admits the printed key and holds only its hash.
    let record = store.partner_key(&id).await.expect("read").expect("stored");
    assert!(record.admits(&key));
    assert_eq!(record.name, "Aplikasi Warga Cirebon");
    let raw = raw_table(&client, &table).await;
    assert!(raw.contains(id.as_str()), "the record is in the table");
    assert!(!raw.contains(&secret), "the table holds the secret: {raw}");

    // List: the id, the name, not revoked, and never the secret.
    let listed = admin(Some(&table), &["list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    let row = text
        .lines()
        .find(|line| line.starts_with(id.as_str()))
        .unwrap_or_else(|| panic!("{id} not listed: {text}"));
    assert!(
        row.contains("Aplikasi Warga Cirebon") && row.ends_with("\t-"),
        "{row}"
    );
    assert!(!text.contains(&secret), "list shows the secret: {text}");

    // Revoke: the key stops working; revoking again keeps the first time.
    let revoked = admin(Some(&table), &["revoke", id.as_str()]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(
        stdout(&revoked).starts_with(&format!("revoked {id} (Aplikasi Warga Cirebon) at ")),
        "{}",
        stdout(&revoked)
    );
    let first = store.partner_key(&id).await.expect("read").expect("stored");
    assert!(!first.admits(&key), "a revoked key still works");
    let at = first.revoked_at.expect("revoked");
    let again = admin(Some(&table), &["revoke", &id.as_str().to_uppercase()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let second = store.partner_key(&id).await.expect("read").expect("stored");
    assert_eq!(
        second.revoked_at,
        Some(at),
        "revoking twice keeps the first time"
    );
    let text = stdout(&admin(Some(&table), &["list"]));
    assert!(
        text.contains(&format!("\t{}", at.to_rfc3339())),
        "list shows when it was revoked: {text}"
    );
}

#[tokio::test]
async fn every_refusal_exits_non_zero_says_why_and_changes_nothing() {
    let Some((store, client, table)) = moto_table().await else {
        return;
    };
    let before = raw_table(&client, &table).await;
    let unknown = PartnerKeyId::generate(&mut rand::rng());
    let long_name = "x".repeat(101);
    for (args, table, says) in [
        (
            vec!["issue", "--name", "   "],
            Some(table.as_str()),
            "no key issued",
        ),
        (
            vec!["issue", "--name", long_name.as_str()],
            Some(table.as_str()),
            "1–100",
        ),
        (
            vec!["issue", "--name", "Dua\nbaris"],
            Some(table.as_str()),
            "control",
        ),
        (
            vec!["revoke", "bukan-id"],
            Some(table.as_str()),
            "not valid",
        ),
        (
            vec!["revoke", unknown.as_str()],
            Some(table.as_str()),
            "no partner key",
        ),
        (vec!["list"], None, "--table or TABLE_NAME"),
    ] {
        let output = admin(table, &args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {:?} does not say {says:?}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}: {}", stdout(&output));
    }
    assert_eq!(
        raw_table(&client, &table).await,
        before,
        "something was written"
    );
    assert!(store.partner_keys().await.expect("list").is_empty());
}
