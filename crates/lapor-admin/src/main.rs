//! `lapor-admin agencies import FILE`: validates an agency directory and loads it into the
//! DynamoDB table (`--table`, or `TABLE_NAME`; endpoint and credentials from the usual AWS
//! environment variables). `--check` only validates.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lapor_admin::{import_agencies, ImportError};
use lapor_core::Directory;
use lapor_store::DynamoStore;

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

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {
        command:
            Command::Agencies {
                action: AgenciesAction::Import { file, table, check },
            },
    } = Cli::parse();
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
    let Some(table) = table else {
        eprintln!("lapor-admin: name the table with --table or TABLE_NAME");
        return ExitCode::FAILURE;
    };
    let config = lapor_lambda::aws_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
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
