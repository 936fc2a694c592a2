//! The command-line interface on the server binary (SPEC 8.3).

use super::anyhow_like::Result;
use crate::server::{config::Config, state::AppState};
use crate::{
    auth::ssr::accounts::{create_account, NewAccount},
    error::{AppError, Limit},
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
    /// Set a user's password (a temporary one is generated and printed unless --password-stdin):
    /// their sessions end, they are told by mail, and the audit log records the operator.
    ResetPassword {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// Read the new password from the first line of standard input; it is then the user's
        /// own, not temporary.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set an account's plan name and limits (SPEC 2.2); limits not named stay as they are.
    Limits {
        /// The account, by id or by a name no other account has.
        #[arg(long)]
        account: String,
        /// The plan's name, shown on the Billing page.
        #[arg(long)]
        plan: Option<String>,
        /// Most customers the account may have.
        #[arg(long, value_name = "N")]
        customers: Option<String>,
        /// Most staff users (invited and disabled count; removed do not).
        #[arg(long, value_name = "N")]
        staff_users: Option<String>,
        /// Most customer users, in any state.
        #[arg(long, value_name = "N")]
        customer_users: Option<String>,
        /// Most e-mails queued per calendar month (UTC); security mail is counted, never refused.
        #[arg(long, value_name = "N")]
        emails_per_month: Option<String>,
        /// Make every limit not given a number here unlimited.
        #[arg(long)]
        unlimited: bool,
    },
    /// List the accounts with their ids, plans and usage.
    Accounts,
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

fn read_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// A limit as given on the command line: a whole number from 0.
fn limit_number(flag: &str, raw: &str) -> Result<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!("{flag}: expected a whole number from 0, got {raw:?} (use --unlimited to lift limits)").into()),
    }
}

/// One line per account (or just `only`): id, name, plan, and each limit's usage.
async fn print_accounts(db: &sqlx::PgPool, only: Option<i64>) -> Result<()> {
    let mut conn = db.acquire().await?;
    let accounts = crate::billing::ssr::accounts(&mut conn, chrono::Utc::now()).await.map_err(|e| e.to_string())?;
    println!("{:>6}  {:<30}  {:<16}  {}", "ID", "ACCOUNT", "PLAN", "USAGE");
    for account in accounts.iter().filter(|a| only.is_none_or(|id| id == a.id)) {
        let usage: Vec<String> = account.usage.iter().map(|u| format!("{} {}", u.limit.key(), u.summary())).collect();
        println!("{:>6}  {:<30}  {:<16}  {}", account.id, account.name, account.plan_name, usage.join(", "));
    }
    Ok(())
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
        Command::ResetPassword { email, password_stdin } => {
            let config = cli.config;
            let db = super::pool(config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            let state = AppState::new(config.clone(), db, super::leptos_options(&config));
            let address = Email::parse(&email).map_err(|m| format!("--email: {m}"))?;
            let password = if password_stdin { read_line()? } else { crate::server::passwords::generate_temporary() };
            let parsed = Password::parse(&password, Some(address.as_str())).map_err(|m| format!("password: {m}"))?;
            match crate::auth::ssr::passwords::reset_by_operator(&state, &address, &parsed, !password_stdin).await.map_err(|e| e.to_string())? {
                None => Err(format!("No user has the address {email}.").into()),
                Some(id) => {
                    println!("Password of {email} (user {id}) set; their sessions were ended and they were told by mail.");
                    if !password_stdin {
                        println!("Temporary password (must be changed at first sign-in): {password}");
                    }
                    Ok(())
                }
            }
        }
        Command::Limits { account, plan, customers, staff_users, customer_users, emails_per_month, unlimited } => {
            let mut change = crate::billing::ssr::LimitsChange::default();
            if let Some(plan) = plan {
                change.plan_name = Some(required_text(&plan, "a plan name", NAME_MAX_CHARS).map_err(|m| format!("--plan: {m}"))?);
            }
            for (limit, flag, value) in [
                (Limit::Customers, "--customers", customers),
                (Limit::StaffUsers, "--staff-users", staff_users),
                (Limit::CustomerUsers, "--customer-users", customer_users),
                (Limit::EmailsPerMonth, "--emails-per-month", emails_per_month),
            ] {
                match value {
                    Some(raw) => change.limits.push((limit, Some(limit_number(flag, &raw)?))),
                    None if unlimited => change.limits.push((limit, None)),
                    None => {}
                }
            }
            if change.plan_name.is_none() && change.limits.is_empty() {
                return Err("Nothing to change: give --plan, a limit (--customers N, --staff-users N, --customer-users N, --emails-per-month N) or --unlimited.".into());
            }
            let db = super::pool(cli.config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            let mut tx = db.begin().await?;
            let account_id = crate::billing::ssr::find_account(&mut tx, &account).await.map_err(|e| e.to_string())??;
            let now = chrono::Utc::now();
            crate::billing::ssr::set_limits(&mut tx, account_id, &change, now).await.map_err(|e| e.to_string())?;
            tx.commit().await?;
            print_accounts(&db, Some(account_id)).await
        }
        Command::Accounts => {
            let db = super::pool(cli.config.database_url.as_deref().ok_or("DATABASE_URL is not set")?)?;
            super::migrate(&db).await?;
            print_accounts(&db, None).await
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
