use clap::Parser;
use lapor_local::{banner, build, listen, serve, shutdown_signal, Config};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::parse();
    match run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lapor-local: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let local = build(&config).await?;
    let listener = listen(config.addr).await?;
    let addr = listener.local_addr()?;
    println!("{}", banner(addr, &config));
    serve(listener, local.router, shutdown_signal()).await?;
    println!("Lapor berhenti / stopped.");
    Ok(())
}
