use clap::Parser;
use lapor_core::{AgencyId, Role};
use lapor_local::{
    banner, build, listen, secret_in, serve, shutdown_signal, Cli, Command, Config, LocalTokens,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token {
            agency,
            role,
            subject,
            hours,
            data_dir,
        }) => token(&agency, &role, &subject, hours, &data_dir),
        Some(Command::Openapi) => lapor_local::openapi_json()
            .map(|json| print!("{json}"))
            .map_err(Into::into),
        None => run(cli.config).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lapor-local: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn token(
    agency: &str,
    role: &str,
    subject: &str,
    hours: i64,
    data_dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let agency = AgencyId::parse(agency).map_err(|e| e.message.en)?;
    let role = Role::parse(role).ok_or("role must be admin_pusat, agency_admin or officer")?;
    let tokens = LocalTokens::new(secret_in(data_dir, "jwt-secret")?);
    println!("{}", tokens.issue(subject, &agency, role, hours)?);
    Ok(())
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Listen first: the evidence file URLs point at the address actually served (port 0 picks
    // one).
    let listener = listen(config.addr).await?;
    let addr = listener.local_addr()?;
    let config = Config { addr, ..config };
    let local = build(&config).await?;
    println!("{}", banner(addr, &config));
    serve(listener, local.router, shutdown_signal()).await?;
    println!("Lapor berhenti / stopped.");
    Ok(())
}
