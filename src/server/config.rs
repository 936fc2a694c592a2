//! Configuration from the environment (and a `.env` file, loaded first), with safe defaults for
//! local use. Every setting is also a command-line flag; `roster --help` lists them.

use clap::{Args, ValueEnum};
use std::{net::SocketAddr, time::Duration};

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Address the HTTP server listens on.
    #[arg(long, env = "ROSTER_BIND", default_value = "127.0.0.1:3000", global = true)]
    pub bind: SocketAddr,

    /// Public base URL used in links sent by e-mail (defaults to http://<bind>).
    #[arg(long, env = "ROSTER_PUBLIC_URL", global = true)]
    pub public_url: Option<url::Url>,

    /// SMTP server for outgoing mail, e.g. smtp://127.0.0.1:1025 or smtps://user:pass@host.
    /// Without it, mail stays in the outbox, which Administrators can read in the app.
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail.
    #[arg(long, env = "ROSTER_MAIL_FROM", default_value = "Roster <no-reply@roster.localhost>", global = true)]
    pub mail_from: String,

    /// Minutes of inactivity after which a session ends (an account may set its own).
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = 30, global = true)]
    pub session_idle_minutes: u32,

    /// Hours after sign-in at which a session ends, active or not (an account may set its own).
    #[arg(long, env = "ROSTER_SESSION_ABSOLUTE_HOURS", default_value_t = 12, global = true)]
    pub session_absolute_hours: u32,

    /// Log format.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    #[arg(long, env = "ROSTER_TRUST_PROXY", default_value_t = false, global = true)]
    pub trust_proxy: bool,

    /// How many password hashes may be computed at once (each takes 19 MiB).
    #[arg(long, env = "ROSTER_HASH_CONCURRENCY", default_value_t = 4, global = true)]
    pub hash_concurrency: usize,

    /// Folder holding the compiled site (JS, Wasm, CSS, public files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site", global = true)]
    pub site_root: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn public_url(&self) -> url::Url {
        self.public_url.clone().unwrap_or_else(|| {
            url::Url::parse(&format!("http://{}", self.bind)).expect("a socket address makes a URL")
        })
    }

    /// The base URL without a trailing slash, for building links.
    pub fn base_url(&self) -> String {
        self.public_url().as_str().trim_end_matches('/').to_owned()
    }

    /// Cookies get `Secure` when the public URL is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url().scheme() == "https"
    }

    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_idle_minutes) * 60)
    }

    pub fn session_absolute(&self) -> Duration {
        Duration::from_secs(u64::from(self.session_absolute_hours) * 3600)
    }

    pub fn dev_mail(&self) -> bool {
        self.smtp_url.is_none()
    }

    /// A configuration for tests: defaults, no SMTP, the given database.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: Some(database_url.to_owned()),
            bind: "127.0.0.1:0".parse().unwrap(),
            public_url: Some(url::Url::parse("http://roster.test").unwrap()),
            smtp_url: None,
            mail_from: "Roster <no-reply@roster.test>".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            log_format: LogFormat::Text,
            trust_proxy: false,
            hash_concurrency: 2,
            site_root: "target/site".into(),
        }
    }
}
