//! A database made by an earlier release keeps working after the migrations of this one: what a
//! person was in the middle of (a sign-up waiting for its e-mailed link) still completes.

use crate::support::{TestApp, PASSWORD};
use roster::{boot::MIGRATOR, server::tokens, validation::Password};
use sqlx::{migrate::Migrator, PgPool};

/// The version that moved sign-up confirmation links into `one_time_tokens`.
const SIGN_UP_LINKS: i64 = 20261202000001;

/// A migrator holding only the migrations older than `version`, as an earlier release had them.
async fn migrations_before(version: i64) -> Migrator {
    let dir = std::env::temp_dir().join(format!("roster-migrations-{}-{version}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let file_version: i64 = name.split('_').next().unwrap().parse().unwrap();
        if file_version < version {
            std::fs::copy(&path, dir.join(&name)).unwrap();
        }
    }
    Migrator::new(dir.as_path()).await.unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_sign_up_waiting_for_its_link_completes_after_the_upgrade(db: PgPool) {
    let earlier = migrations_before(SIGN_UP_LINKS).await;
    assert!(earlier.iter().all(|m| m.version < SIGN_UP_LINKS) && earlier.iter().count() >= 5);
    earlier.run(&db).await.unwrap();

    // The earlier release kept the link on the request itself.
    let app = TestApp::new(db.clone());
    let password = Password::parse(PASSWORD, Some("grace@hopper.test")).unwrap();
    let password_hash = app.state.passwords.hash(&password).await.unwrap();
    let (token, token_hash) = tokens::generate();
    let (used_token, used_hash) = tokens::generate();
    sqlx::query(
        "INSERT INTO sign_up_requests (token_hash, kind, email, display_name, account_name, password_hash, created_at, expires_at, used_at)
         VALUES ($1, 'account', 'grace@hopper.test', 'Grace', 'Hopper Energy', $3, now(), now() + interval '1 day', NULL),
                ($2, 'account', 'used@hopper.test', 'Used', 'Used Energy', $3, now(), now() + interval '1 day', now())",
    )
    .bind(&token_hash)
    .bind(&used_hash)
    .bind(&password_hash)
    .execute(&db)
    .await
    .unwrap();

    MIGRATOR.run(&db).await.expect("this release's migrations apply to the earlier database");

    let links: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM one_time_tokens WHERE purpose = 'email_confirmation' AND sign_up_request_id IS NOT NULL",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(links, 2, "both requests keep their links");

    // A link already used stays used.
    let mut late = app.client();
    let res = late.call("confirm_email", &[("token", &used_token)]).await;
    assert!(late.session().await.is_none(), "a used link signs nobody in: {} {}", res.status, res.text());
    assert_eq!(app.count("SELECT count(*) FROM accounts WHERE name = 'Used Energy'").await, 0);

    // The open one confirms: the account is made and its Administrator signed in.
    let mut grace = app.client();
    let res = grace.call("confirm_email", &[("token", &token)]).await;
    assert!(res.status.is_success(), "confirmation after the upgrade: {} {}", res.status, res.text());
    let session = grace.session().await.expect("signed in by the confirmation");
    assert_eq!(session.account_name.as_deref(), Some("Hopper Energy"));
    assert!(session.is_administrator);

    // And once only.
    let mut again = app.client();
    again.call("confirm_email", &[("token", &token)]).await;
    assert!(again.session().await.is_none());
    assert_eq!(app.count("SELECT count(*) FROM accounts WHERE name = 'Hopper Energy'").await, 1);
}
