//! The command-line interface on the server binary (SPEC 8.3).

use super::anyhow_like::Result;
use crate::server::{config::Config, state::AppState};
use crate::{
    auth::ssr::accounts::{create_account, NewAccount},
    error::AppError,
    validation::{required_text, Email, Password, NAME_MAX_CHARS},
};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "roster", version, about = "Roster: customer and user management portal")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the web application (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a new account with its first Administrator.
    CreateAdmin {
        /// The business name of the new account.
        #[arg(long)]
        account: String,
        /// The Administrator's e-mail address (their sign-in name).
        #[arg(long)]
        email: String,
        /// The Administrator's display name.
        #[arg(long)]
        name: String,
        /// Read the password from the first line of standard input instead of generating a
        /// temporary one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Generate realistic customers in an account, for demos and benchmarks.
    Seed {
        /// The account, by id or by exact name.
        #[arg(long)]
        account: String,
        /// How many customers to add.
        #[arg(long, default_value_t = 1000)]
        customers: i64,
    },
}

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => super::serve(cli.config).await,
        Command::Migrate => {
            let db = super::pool(cli.config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::CreateAdmin { account, email, name, password_stdin } => {
            let config = cli.config;
            let db = super::pool(config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            let state = AppState::new(config.clone(), db, super::leptos_options(&config));
            let (password, temporary) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (crate::server::passwords::generate_temporary(), true)
            };
            let new = NewAccount {
                account_name: required_text(&account, "the account name", NAME_MAX_CHARS)
                    .map_err(|m| format!("--account: {m}"))?,
                display_name: required_text(&name, "a name", NAME_MAX_CHARS)
                    .map_err(|m| format!("--name: {m}"))?,
                email: Email::parse(&email).map_err(|m| format!("--email: {m}"))?,
                must_change_password: temporary,
            };
            let parsed = Password::parse(&password, Some(&email)).map_err(|m| format!("password: {m}"))?;
            let created = create_account(&state, new, &parsed).await.map_err(|e| match e {
                AppError::Validation(fields) => fields
                    .0
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            })?;
            println!("Created account {} (id {}) with Administrator {email}.", account, created.account_id);
            if temporary {
                println!("Temporary password (must be changed at first sign-in): {password}");
            }
            Ok(())
        }
        Command::Seed { account, customers } => {
            let db = super::pool(cli.config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            let account_id: i64 = match account.parse::<i64>() {
                Ok(id) => id,
                Err(_) => sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1")
                    .bind(&account)
                    .fetch_optional(&db)
                    .await?
                    .ok_or_else(|| format!("no account named {account}"))?,
            };
            let started = std::time::Instant::now();
            let report = crate::customers::ssr::seed::seed(&db, account_id, customers, |line| println!("  {line}")).await?;
            println!(
                "Seeded {} customers into account {account_id} in {:.1?} (rows {:.1?}, indexes {:.1?}).",
                report.inserted,
                started.elapsed(),
                report.insert_time,
                report.index_time
            );
            Ok(())
        }
    }
}
