//! `lapor-admin agencies import FILE`: validates an agency directory and loads it into the
//! DynamoDB table. `--check` only validates.
//!
//! `lapor-admin partner-keys issue --name NAME | revoke ID | list`: the API keys of Open311
//! partner apps. `issue` prints the key once (only its hash is stored); `list` never shows one.
//!
//! Every command works on the table named by `--table` or `TABLE_NAME`, with the endpoint and
//! credentials from the usual AWS environment variables.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lapor_admin::{import_agencies, issue_partner_key, ImportError, PartnerKeyError};
use lapor_core::{Directory, PartnerKeyId};
use lapor_store::{DynamoStore, PartnerKeys};

#[derive(Parser)]
#[command(
    name = "lapor-admin",
    about = "Lapor operator tasks / tugas operator Lapor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The agency directory.
    Agencies {
        #[command(subcommand)]
        action: AgenciesAction,
    },
    /// API keys of Open311 partner apps (POST /open311/v2/requests).
    PartnerKeys {
        #[command(subcommand)]
        action: PartnerKeysAction,
        /// The DynamoDB table.
        #[arg(long, env = "TABLE_NAME", global = true)]
        table: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgenciesAction {
    /// Validate FILE and write its agencies and routing rules (idempotent).
    Import {
        file: PathBuf,
        /// The DynamoDB table.
        #[arg(long, env = "TABLE_NAME")]
        table: Option<String>,
        /// Only validate; write nothing.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum PartnerKeysAction {
    /// Issue a key to a partner app and print it once.
    Issue {
        /// Who the key is for (shown in `list`).
        #[arg(long)]
        name: String,
    },
    /// Revoke a key by its id: the partner's writes are refused from now on.
    Revoke { id: String },
    /// List every key (id, name, issued, revoked); never a secret.
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Agencies {
            action: AgenciesAction::Import { file, table, check },
        } => agencies(file, table, check).await,
        Command::PartnerKeys { action, table } => {
            let Some(store) = store(table).await else {
                return ExitCode::FAILURE;
            };
            partner_keys(&store, action).await
        }
    }
}

async fn store(table: Option<String>) -> Option<DynamoStore> {
    let Some(table) = table else {
        eprintln!("lapor-admin: name the table with --table or TABLE_NAME");
        return None;
    };
    let config = lapor_lambda::aws_config().await;
    Some(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        table,
    ))
}

async fn agencies(file: PathBuf, table: Option<String>, check: bool) -> ExitCode {
    let json = match std::fs::read_to_string(&file) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("lapor-admin: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    if check {
        return match Directory::parse(&json) {
            Ok(d) => {
                println!(
                    "valid: {} agencies, {} routing rules",
                    d.agencies().count(),
                    d.rules().len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => report(&ImportError::Invalid(e)),
        };
    }
    let Some(store) = store(table).await else {
        return ExitCode::FAILURE;
    };
    match import_agencies(&store, &json).await {
        Ok(s) => {
            println!(
                "imported {} agencies and {} routing rules",
                s.agencies, s.rules
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

fn report(e: &ImportError) -> ExitCode {
    match e {
        ImportError::Invalid(invalid) => {
            eprintln!(
                "lapor-admin: nothing imported: {} / {}",
                invalid.message.id, invalid.message.en
            )
        }
        ImportError::Store(store) => {
            eprintln!("lapor-admin: nothing or only part imported: {store}")
        }
    }
    ExitCode::FAILURE
}

async fn partner_keys(store: &DynamoStore, action: PartnerKeysAction) -> ExitCode {
    let now = chrono::Utc::now().fixed_offset();
    match action {
        PartnerKeysAction::Issue { name } => match issue_partner_key(store, &name, now).await {
            Ok((record, key)) => {
                println!("id:      {}", record.id);
                println!("name:    {}", record.name);
                println!("api_key: {}", key.reveal());
                eprintln!(
                    "Kunci ini hanya ditampilkan sekali; serahkan lewat saluran aman. / \
                     This key is shown only once; hand it over on a secure channel."
                );
                ExitCode::SUCCESS
            }
            Err(PartnerKeyError::Invalid(invalid)) => {
                eprintln!(
                    "lapor-admin: no key issued: {} / {}",
                    invalid.message.id, invalid.message.en
                );
                ExitCode::FAILURE
            }
            Err(PartnerKeyError::Store(e)) => {
                eprintln!("lapor-admin: no key issued: {e}");
                ExitCode::FAILURE
            }
        },
        PartnerKeysAction::Revoke { id } => {
            let id = match PartnerKeyId::parse(&id) {
                Ok(id) => id,
                Err(e) => {
                    eprintln!("lapor-admin: {}", e.message.en);
                    return ExitCode::FAILURE;
                }
            };
            match store.revoke_partner_key(&id, now).await {
                Ok(Some(key)) => {
                    let at = key.revoked_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                    println!("revoked {} ({}) at {at}", key.id, key.name);
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!("lapor-admin: no partner key {id}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("lapor-admin: not revoked: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        PartnerKeysAction::List => match store.partner_keys().await {
            Ok(keys) => {
                println!("id\tname\tissued\trevoked");
                for key in keys {
                    let revoked = key.revoked_at.map(|t| t.to_rfc3339());
                    println!(
                        "{}\t{}\t{}\t{}",
                        key.id,
                        key.name,
                        key.created_at.to_rfc3339(),
                        revoked.as_deref().unwrap_or("-")
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lapor-admin: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
