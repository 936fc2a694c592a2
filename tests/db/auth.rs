//! Sign-up, sign-in, lock-out, sign-out, sessions, password change, profile.

use crate::support::{account_id_of, add_staff, TestApp, PASSWORD};
use axum::http::StatusCode;
use chrono::Duration;
use roster::{
    auth::SIGN_IN_FAILED,
    error::AppError,
    permissions::{BuiltinRole, Permission},
};
use sqlx::PgPool;

#[sqlx::test]
async fn sign_up_creates_the_account_its_root_company_roles_and_a_signed_in_administrator(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme Solar", "Ada@Acme.test").await;

    let session = ada.session().await.expect("signed in after sign-up");
    assert!(session.is_administrator);
    assert_eq!(session.account_name.as_deref(), Some("Acme Solar"));
    assert_eq!(session.email, "Ada@Acme.test");
    assert_eq!(session.permissions.len(), Permission::ALL.len());

    let account_id = account_id_of(&app, "ada@acme.test").await;
    let root: (String, String) = sqlx::query_as("SELECT name, kind FROM companies WHERE account_id = $1 AND parent_id IS NULL")
        .bind(account_id)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(root, ("Acme Solar".into(), "root".into()));
    let roles: Vec<(String, i32)> = sqlx::query_as("SELECT name, rank FROM roles WHERE account_id = $1 ORDER BY rank")
        .bind(account_id)
        .fetch_all(app.db())
        .await
        .unwrap();
    let expected: Vec<(String, i32)> = BuiltinRole::ALL.iter().map(|r| (r.name().to_owned(), r.rank())).collect();
    assert_eq!(roles, expected);
    for role in BuiltinRole::ALL {
        let mut stored: Vec<String> = sqlx::query_scalar(
            "SELECT p.permission FROM role_permissions p JOIN roles r ON r.id = p.role_id
              WHERE r.account_id = $1 AND r.builtin = $2 ORDER BY 1",
        )
        .bind(account_id)
        .bind(role.key())
        .fetch_all(app.db())
        .await
        .unwrap();
        let mut wanted: Vec<String> = role.default_permissions().iter().map(|p| p.key().to_owned()).collect();
        stored.sort();
        wanted.sort();
        assert_eq!(stored, wanted, "{role:?}");
    }
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_events WHERE account_id = $1 ORDER BY id")
        .bind(account_id)
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(actions, ["account.created", "session.signed_in"]);
}

#[sqlx::test]
async fn sign_up_with_a_used_email_creates_nothing_and_tells_its_owner(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme Solar", "ada@acme.test").await;
    let mut other = app.client();
    let res = other
        .call(
            "sign_up",
            &[
                ("account_name", "Other"),
                ("display_name", "Bob"),
                ("email", "ADA@acme.test"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let answer: roster::auth::ConfirmationSent = res.json();
    assert_eq!(answer.dev_link, None, "no link for an address already in use");
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM companies").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM sign_up_requests r JOIN one_time_tokens t ON t.sign_up_request_id = r.id
          WHERE lower(r.email) = 'ada@acme.test' AND t.used_at IS NULL").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'ADA@acme.test' AND kind = 'already_registered'").await, 1);
    assert!(other.cookie.is_none());
}

#[sqlx::test]
async fn bad_sign_up_input_gets_field_messages_from_the_shared_rules(db: PgPool) {
    let app = TestApp::new(db);
    let long_email = format!("{}@acme.test", "a".repeat(250));
    let cases: [(&str, &str, &str, &str, &str, &str); 6] = [
        ("account_name", "", "Ada", "ada@acme.test", PASSWORD, "Enter your business name."),
        ("display_name", "Acme", &"x".repeat(101), "ada@acme.test", PASSWORD, "Use at most 100 characters."),
        ("email", "Acme", "Ada", "ada-at-acme.test", PASSWORD, "Enter a valid e-mail address, like name@example.com."),
        ("email", "Acme", "Ada", &long_email, PASSWORD, "Use at most 254 characters."),
        ("password", "Acme", "Ada", "ada@acme.test", "too-short", "Use at least 12 characters (9 so far)."),
        ("password", "Acme", "Ada", "ada@acme.test", "qwerty123456", "This is one of the most common passwords. Choose another."),
    ];
    for (field, account, name, email, password, message) in cases {
        let res = app
            .client()
            .call(
                "sign_up",
                &[
                    ("account_name", account),
                    ("display_name", name),
                    ("email", email),
                    ("password", password),
                    ("password_confirm", password),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(res.error().field_message(field).as_deref(), Some(message), "{field}");
    }
    assert_eq!(app.count("SELECT count(*) FROM accounts").await, 0);
}

#[sqlx::test]
async fn sign_in_starts_a_fresh_session_with_safe_cookie_flags(db: PgPool) {
    let app = TestApp::new(db);
    let ada = app.sign_up("Acme", "ada@acme.test").await;
    let sign_up_cookie = ada.cookie.clone().unwrap();

    let mut again = app.client();
    again.cookie = Some(sign_up_cookie.clone());
    let res = again.sign_in("ADA@acme.test", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let set_cookie = res.set_cookie().unwrap();
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
    assert!(set_cookie.contains("Path=/"));
    assert!(!set_cookie.contains("Secure"), "plain HTTP in tests");
    let token = set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    assert!(token.len() >= 43, "at least 256 bits, base64");
    // Renewed at sign-in: the cookie presented before is dead, the new one works.
    assert_ne!(again.cookie.as_deref(), Some(sign_up_cookie.as_str()));
    assert!(again.session().await.is_some());
    let mut stale = app.client();
    stale.cookie = Some(sign_up_cookie);
    assert!(stale.session().await.is_none());
    // Only the hash of the token is stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE token_hash = $1::text::bytea")
        .bind(&token)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 1);
}

#[sqlx::test]
async fn cookies_are_secure_when_served_over_https(db: PgPool) {
    let app = TestApp::with_config(db, |c| c.public_url = Some("https://roster.example.com".parse().unwrap()));
    let ada = app.sign_up("Acme", "ada@acme.test").await;
    assert!(ada.cookie.is_some());
    let res = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert!(res.set_cookie().unwrap().contains("; Secure"));
}

#[sqlx::test]
async fn wrong_password_and_unknown_email_get_the_same_answer(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    let wrong_password = app.client().sign_in("ada@acme.test", "not-the-password-1").await;
    let unknown_email = app.client().sign_in("nobody@acme.test", "not-the-password-1").await;
    assert_eq!(wrong_password.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    assert!(wrong_password.set_cookie().is_none());
    let failures: Vec<(Option<i64>, String)> = sqlx::query_as(
        "SELECT account_id, actor_label FROM audit_events WHERE action = 'session.sign_in_failed' ORDER BY id",
    )
    .fetch_all(app.db())
    .await
    .unwrap();
    let account_id = account_id_of(&app, "ada@acme.test").await;
    assert_eq!(failures, [(Some(account_id), "ada@acme.test".into()), (None, "nobody@acme.test".into())]);
}

#[sqlx::test]
async fn five_failures_lock_the_email_for_a_growing_interval(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    for _ in 0..5 {
        let res = app.client().sign_in("ada@acme.test", "not-the-password-1").await;
        assert_eq!(res.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    }
    // Locked: even the right password gets the same generic answer, from any address.
    let locked = app.client_from("198.51.100.7").sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(locked.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    // Another e-mail from the same address is not locked.
    app.client().sign_in("bob@acme.test", "whatever-it-is-1").await;
    // The first lock is 30 s; that refused attempt counted too, so the next lock is longer.
    app.advance(Duration::seconds(31));
    let still = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(still.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    app.advance(Duration::seconds(20 * 60));
    let ok = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    // Success clears the e-mail's counter.
    assert_eq!(app.count("SELECT count(*) FROM sign_in_throttle WHERE key = 'email:ada@acme.test'").await, 0);
}

#[sqlx::test]
async fn many_failures_from_one_address_lock_that_address(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    for i in 0..50 {
        app.client_from("192.0.2.99").sign_in(&format!("guess{i}@acme.test"), "not-the-password-1").await;
    }
    let from_attacker = app.client_from("192.0.2.99").sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(from_attacker.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    let from_elsewhere = app.client_from("192.0.2.100").sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(from_elsewhere.status, StatusCode::OK);
}

#[sqlx::test]
async fn sign_out_ends_the_session_on_the_server(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let cookie = ada.cookie.clone();
    let res = ada.call("sign_out", &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.set_cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
    let mut replay = app.client();
    replay.cookie = cookie;
    assert!(replay.session().await.is_none());
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'session.signed_out'").await, 1);
}

#[sqlx::test]
async fn sessions_end_after_the_idle_timeout_and_the_absolute_lifetime(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    app.advance(Duration::minutes(29));
    assert!(ada.session().await.is_some(), "29 minutes idle is within 30");
    app.advance(Duration::minutes(31));
    assert!(ada.session().await.is_none(), "31 minutes idle ends it");

    let mut bob = app.client();
    bob.sign_in("ada@acme.test", PASSWORD).await;
    for _ in 0..35 {
        app.advance(Duration::minutes(20));
        assert!(bob.session().await.is_some(), "active use keeps it alive");
    }
    // 11 h 40 min so far; 21 more idle minutes would be fine, but 12 hours is the absolute limit.
    app.advance(Duration::minutes(21));
    assert!(bob.session().await.is_none());
}

#[sqlx::test]
async fn changing_the_password_ends_every_other_session(db: PgPool) {
    let app = TestApp::new(db);
    let mut laptop = app.sign_up("Acme", "ada@acme.test").await;
    let mut phone = app.client();
    phone.sign_in("ada@acme.test", PASSWORD).await;
    assert!(phone.session().await.is_some());

    let wrong = laptop
        .call("change_password", &[("current_password", "not-it-at-all"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(wrong.error().field_message("current_password").as_deref(), Some("This is not your current password."));

    let weak = laptop
        .call("change_password", &[("current_password", PASSWORD), ("password", "qwerty123456"), ("password_confirm", "qwerty123456")])
        .await;
    assert!(weak.error().field_message("password").is_some());

    let ok = laptop
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(laptop.session().await.is_some(), "the session that changed it continues, renewed");
    assert!(phone.session().await.is_none(), "every other session ended");
    assert_eq!(app.client().sign_in("ada@acme.test", PASSWORD).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.client().sign_in("ada@acme.test", "amber-piano-harbour").await.status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'user.password_changed'").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_changed'").await, 1);
}

#[sqlx::test]
async fn disabled_users_cannot_sign_in_and_lose_their_sessions(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    sqlx::query("UPDATE users SET status = 'disabled'").execute(app.db()).await.unwrap();
    assert!(ada.session().await.is_none());
    let res = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("disabled")));
}

#[sqlx::test]
async fn a_temporary_password_must_be_replaced_before_anything_else(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    let account_id = account_id_of(&app, "ada@acme.test").await;
    add_staff(&app, account_id, "tim@acme.test", "owner").await;
    sqlx::query("UPDATE users SET must_change_password = true WHERE email = 'tim@acme.test'").execute(app.db()).await.unwrap();
    let mut tim = app.client();
    assert_eq!(tim.sign_in("tim@acme.test", PASSWORD).await.status, StatusCode::OK);
    assert!(tim.session().await.unwrap().must_change_password);
    assert_eq!(tim.call("profile", &[]).await.error(), AppError::PasswordChangeRequired);
    let res = tim
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(tim.call("profile", &[]).await.status, StatusCode::OK);
}

#[sqlx::test]
async fn temporary_passwords_stop_working_when_they_expire(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    sqlx::query("UPDATE users SET password_expires_at = now() + interval '24 hours'").execute(app.db()).await.unwrap();
    assert_eq!(app.client().sign_in("ada@acme.test", PASSWORD).await.status, StatusCode::OK);
    app.advance(Duration::hours(24) + Duration::seconds(1));
    let res = app.client().sign_in("ada@acme.test", PASSWORD).await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("expired")));
}

#[sqlx::test]
async fn profile_edits_are_validated_saved_and_audited(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let bad = ada
        .call("update_profile", &[("display_name", ""), ("phone", "0123"), ("region", "Mars"), ("language", "en")])
        .await;
    let error = bad.error();
    assert_eq!(error.field_message("display_name").as_deref(), Some("Enter your name."));
    assert!(error.field_message("phone").is_some());
    assert_eq!(error.field_message("region").as_deref(), Some("Choose a region from the list."));

    let ok = ada
        .call("update_profile", &[("display_name", "Ada Lovelace"), ("phone", "+44 20 7946 0958"), ("region", "Europe"), ("language", "fr")])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let profile: roster::auth::Profile = ada.call("profile", &[]).await.json();
    assert_eq!(profile.display_name, "Ada Lovelace");
    assert_eq!(profile.phone.as_deref(), Some("+442079460958"));
    assert_eq!(profile.region.as_deref(), Some("Europe"));
    assert_eq!(profile.language, "fr");
    let changes: serde_json::Value =
        sqlx::query_scalar("SELECT changes FROM audit_events WHERE action = 'user.profile_updated'").fetch_one(app.db()).await.unwrap();
    assert_eq!(changes["display_name"], serde_json::json!({"from": "Ada Admin", "to": "Ada Lovelace"}));
    assert_eq!(changes["language"], serde_json::json!({"from": "en", "to": "fr"}));
}

#[sqlx::test]
async fn signed_out_visitors_are_refused_by_every_user_function(db: PgPool) {
    let app = TestApp::new(db);
    for endpoint in ["profile", "overview", "outbox"] {
        let form: &[(&str, &str)] = if endpoint == "outbox" { &[("page", "1")] } else { &[] };
        let res = app.client().call(endpoint, form).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{endpoint}");
        assert_eq!(res.error(), AppError::Unauthenticated);
    }
    let res = app
        .client()
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert_eq!(res.error(), AppError::Unauthenticated);
}
