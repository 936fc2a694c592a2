//! Writing, signing and sending webhook deliveries.
//!
//! A delivery is written by [`emit`] in the transaction of the change (so a change rolled back
//! sends nothing), one per enabled endpoint of the account subscribed to the event. The worker
//! ([`deliver_due`]) claims due deliveries with `SKIP LOCKED` (any number of instances), resolves
//! the target's host and refuses loopback, private and link-local addresses unless the operator
//! allows them, connects to the address it checked (no second lookup), follows no redirect, and
//! records the answer: delivered on 2xx, else retried with back-off until [`MAX_ATTEMPTS`].

use super::Event;
use crate::{error::AppError, server::{state::AppState, tokens}};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use sqlx::PgConnection;
use std::net::{IpAddr, SocketAddr};

/// Attempts before a delivery is given up as failed (about 17 hours of back-off in all).
pub const MAX_ATTEMPTS: i32 = 8;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "roster-signature";

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret.
pub fn generate_secret() -> String {
    format!("{SECRET_PREFIX}{}", tokens::generate().0)
}

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The back-off before attempt `attempts + 1`: 30 s, 1 min, 2 min, … doubling.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds(30 * (1_i64 << attempts.clamp(0, 16)))
}

/// Writes one delivery of `event` for each enabled endpoint of the account that subscribes to
/// it, inside the caller's transaction. `event_id` is the audit row's id.
pub async fn emit(
    conn: &mut PgConnection,
    account_id: i64,
    event: Event,
    event_id: i64,
    occurred_at: DateTime<Utc>,
    data: Value,
) -> Result<(), AppError> {
    let payload = serde_json::json!({
        "id": format!("evt_{event_id}"),
        "type": event.key(),
        "occurred_at": occurred_at,
        "data": data,
    });
    sqlx::query!(
        "INSERT INTO webhook_deliveries (account_id, webhook_id, event_id, event_type, payload, next_attempt_at, created_at)
         SELECT w.account_id, w.id, $3, $2, $4, $5, $5
           FROM webhooks w
          WHERE w.account_id = $1 AND w.enabled AND $2 = ANY(w.events)",
        account_id,
        event.key(),
        format!("evt_{event_id}"),
        payload,
        occurred_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Why a target was not sent to.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Unresolvable(String),
    Private(IpAddr),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Unresolvable(why) => write!(f, "the host could not be resolved: {why}"),
            Refused::Private(ip) => write!(f, "refused: the host resolves to {ip}, a loopback, private or link-local address"),
        }
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// multicast, unspecified or documentation space; IPv4-mapped IPv6 judged as IPv4, and of the
/// rest of IPv6 only global unicast).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            // Only global unicast (2000::/3), less documentation, Teredo and 6to4, which can
            // lead to IPv4 addresses; NAT64 (64:ff9b::/32) is outside 2000::/3 anyway.
            let [first, second, ..] = v6.segments();
            (first & 0xe000) == 0x2000
                && !(first == 0x2001 && (second == 0x0db8 || second == 0x0000))
                && first != 0x2002
        }
    }
}

/// The address to connect to for `host:port`: every address it resolves to must be allowed.
pub async fn resolve_target(host: &str, port: u16, allow_private: bool) -> Result<SocketAddr, Refused> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| Refused::Unresolvable("no answer within 5 seconds".into()))?
            .map_err(|e| Refused::Unresolvable(e.to_string()))?
            .collect(),
    };
    let first = *addrs.first().ok_or_else(|| Refused::Unresolvable("no address".into()))?;
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(Refused::Private(bad.ip()));
        }
    }
    Ok(first)
}

/// The outcome of one attempt.
struct Attempt {
    response_code: Option<i32>,
    error: Option<String>,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.error.is_none() && self.response_code.is_some_and(|c| (200..300).contains(&c))
    }
}

async fn send(state: &AppState, url: &str, secret: &str, delivery_id: i64, event_type: &str, body: Vec<u8>) -> Attempt {
    let failed = |error: String| Attempt { response_code: None, error: Some(error) };
    let Ok(parsed) = url::Url::parse(url) else {
        return failed("the URL cannot be read".into());
    };
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return failed("the URL has no host".into());
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return failed("only http and https are sent to".into());
    }
    let target = match resolve_target(host, port, state.config.webhook_allow_private_targets).await {
        Ok(addr) => addr,
        Err(refused) => return failed(refused.to_string()),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(10))
        .resolve(host.trim_start_matches('[').trim_end_matches(']'), target)
        .no_proxy()
        .build()
    {
        Ok(client) => client,
        Err(e) => return failed(format!("could not prepare the request: {e}")),
    };
    let timestamp = state.clock.now().timestamp();
    let result = client
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, "Roster-Webhooks/1")
        .header(SIGNATURE_HEADER, signature(secret, timestamp, &body))
        .header("roster-event", event_type)
        .header("roster-delivery", delivery_id.to_string())
        .body(body)
        .send()
        .await;
    match result {
        Ok(res) => {
            let code = i32::from(res.status().as_u16());
            let error = (!res.status().is_success()).then(|| format!("answered {}", res.status()));
            Attempt { response_code: Some(code), error }
        }
        Err(e) if e.is_timeout() => failed("no answer within 10 seconds".into()),
        Err(e) => failed(format!("could not connect: {}", e.without_url())),
    }
}

/// Sends the deliveries that are due (at most `batch`), and records each outcome. Returns how
/// many were attempted.
pub async fn deliver_due(state: &AppState, batch: i64) -> Result<usize, AppError> {
    let now = state.clock.now();
    // Claimed for five minutes: another instance skips them meanwhile.
    let claim: i64 = rand::random::<i64>() & i64::MAX;
    let due = sqlx::query!(
        r#"UPDATE webhook_deliveries d SET next_attempt_at = $2 + interval '5 minutes', claim = $3
             FROM webhooks w
            WHERE d.id IN (SELECT id FROM webhook_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= $2
                            ORDER BY next_attempt_at, id
                            LIMIT $1 FOR UPDATE SKIP LOCKED)
              AND w.account_id = d.account_id AND w.id = d.webhook_id
        RETURNING d.id, d.event_type, d.payload, d.attempts, w.url, w.secret"#,
        batch,
        now,
        claim,
    )
    .fetch_all(&state.db)
    .await?;
    let attempted = due.len();
    for delivery in due {
        let body = serde_json::to_vec(&delivery.payload).unwrap_or_default();
        let attempt = send(state, &delivery.url, &delivery.secret, delivery.id, &delivery.event_type, body).await;
        let attempts = delivery.attempts + 1;
        let done_at = state.clock.now();
        let status = if attempt.delivered() {
            "delivered"
        } else if attempts >= MAX_ATTEMPTS {
            "failed"
        } else {
            "pending"
        };
        sqlx::query!(
            "UPDATE webhook_deliveries
                SET status = $2, attempts = $3, response_code = $4, last_error = $5, last_attempt_at = $6,
                    next_attempt_at = $7, delivered_at = CASE WHEN $2 = 'delivered' THEN $6::timestamptz END, claim = NULL
              WHERE id = $1 AND claim = $8",
            delivery.id,
            status,
            attempts,
            attempt.response_code,
            attempt.error,
            done_at,
            done_at + backoff(delivery.attempts),
            claim,
        )
        .execute(&state.db)
        .await?;
    }
    Ok(attempted)
}

/// Keeps the delivery log to a month.
pub async fn clean_up(db: &sqlx::PgPool, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1", now - Duration::days(30))
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_recipe() {
        let sig = signature("whsec_test", 1_700_000_000, b"{\"a\":1}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(b"1700000000.{\"a\":1}");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sig, format!("t=1700000000,v1={hex}"));
        assert_ne!(signature("whsec_other", 1_700_000_000, b"{\"a\":1}"), sig);
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fe80::1", "fd00::1",
                   "::ffff:127.0.0.1", "::", "::7f00:1", "64:ff9b::7f00:1", "64:ff9b:1::1", "2002:7f00:1::1", "100::1", "fec0::1", "2001::1", "2001:db8::1"] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn back_off_doubles_from_thirty_seconds() {
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(1), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(240));
    }

    #[tokio::test]
    async fn a_name_for_loopback_is_refused_unless_allowed() {
        assert!(matches!(resolve_target("localhost", 80, false).await, Err(Refused::Private(_))));
        assert!(resolve_target("localhost", 80, true).await.is_ok());
        assert_eq!(resolve_target("127.0.0.1", 8080, false).await, Err(Refused::Private("127.0.0.1".parse().unwrap())));
    }
}
