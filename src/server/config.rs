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

    /// How many password hashes may be computed at once (each takes 19 MiB). The default leaves
    /// one core for everything else: the number of CPUs less one, at least one.
    #[arg(long, env = "ROSTER_HASH_CONCURRENCY", default_value_t = default_hash_concurrency(), global = true)]
    pub hash_concurrency: usize,

    /// How many sign-ups and registrations one client address may send in an hour; past it the
    /// answer stays the same but no mail goes out.
    #[arg(long, env = "ROSTER_SIGN_UPS_PER_CLIENT_PER_HOUR", default_value_t = 30, global = true)]
    pub sign_ups_per_client_per_hour: i32,

    /// How many REST API requests one API key may make in a minute; past it the answer is 429
    /// with Retry-After.
    #[arg(long, env = "ROSTER_API_REQUESTS_PER_KEY_PER_MINUTE", default_value_t = 600, global = true)]
    pub api_requests_per_key_per_minute: i32,

    /// Deliver webhooks to loopback, private and link-local addresses too (a host inside your
    /// own network, or tests). Off, such targets are refused when their host is resolved.
    #[arg(long, env = "ROSTER_WEBHOOK_ALLOW_PRIVATE_TARGETS", default_value_t = false, global = true)]
    pub webhook_allow_private_targets: bool,

    /// Development mail: with no SMTP_URL, show queued messages with their links and temporary
    /// passwords in the Outbox page. On by itself only when the server listens on a loopback
    /// address; never while an SMTP server delivers the mail.
    #[arg(long, env = "ROSTER_DEV_MAIL", default_value_t = false, global = true)]
    pub dev_mail: bool,

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

    /// Mail waits in the outbox (no SMTP server to deliver it).
    pub fn mail_undelivered(&self) -> bool {
        self.smtp_url.is_none()
    }

    /// Whether screens may show the secrets (links, temporary passwords) of queued mail meant
    /// for others: only without SMTP, and only when asked for or on a loopback-only server.
    pub fn dev_mail(&self) -> bool {
        self.smtp_url.is_none() && (self.dev_mail || self.bind.ip().is_loopback())
    }

    /// The session cookie's name: over HTTPS it carries the `__Host-` prefix, so the browser
    /// keeps it to this host, this path and secure connections.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-roster_session"
        } else {
            "roster_session"
        }
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
            sign_ups_per_client_per_hour: 30,
            api_requests_per_key_per_minute: 600,
            webhook_allow_private_targets: false,
            dev_mail: false,
            site_root: "target/site".into(),
        }
    }
}

/// The number of CPUs less one, at least one: hashing never takes every core.
pub fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).saturating_sub(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_mail_needs_no_smtp_and_loopback_or_the_explicit_setting() {
        let mut config = Config::for_tests("postgres://unused");
        assert!(config.dev_mail(), "loopback bind without SMTP");
        config.bind = "0.0.0.0:3000".parse().unwrap();
        assert!(!config.dev_mail(), "a public bind without SMTP is not development mail");
        assert!(config.mail_undelivered());
        config.dev_mail = true;
        assert!(config.dev_mail(), "asked for explicitly");
        config.smtp_url = Some("smtp://127.0.0.1:1025".into());
        assert!(!config.dev_mail(), "never while SMTP delivers the mail");
        config.bind = "127.0.0.1:3000".parse().unwrap();
        config.dev_mail = false;
        assert!(!config.dev_mail());
    }

    #[test]
    fn the_session_cookie_is_host_bound_over_https() {
        let mut config = Config::for_tests("postgres://unused");
        assert_eq!(config.session_cookie_name(), "roster_session");
        config.public_url = Some(url::Url::parse("https://roster.example.com").unwrap());
        assert_eq!(config.session_cookie_name(), "__Host-roster_session");
    }

    #[test]
    fn hashing_leaves_a_core_free() {
        let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let hashing = default_hash_concurrency();
        assert!(hashing >= 1);
        if cpus > 1 {
            assert!(hashing < cpus, "{hashing} of {cpus} cores");
        }
    }
}
