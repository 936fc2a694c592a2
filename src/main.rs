use clap::Parser;
use roster::boot::{cli, init_tracing};

#[tokio::main]
async fn main() {
    // A missing .env is normal; the environment alone configures the server.
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    init_tracing(cli.config.log_format);
    if let Err(error) = cli::run(cli).await {
        eprintln!("roster: {error}");
        std::process::exit(1);
    }
}
