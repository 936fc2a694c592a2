//! The operator's command line (SPEC 8.3), run as the real binary against the test's database:
//! `accounts`, `limits` and `reset-password`, with their help and their refusals.

use crate::support::{account_id_of, TestApp, PASSWORD};
use sqlx::PgPool;
use std::{io::Write, process::{Command, Stdio}};

struct Run {
    ok: bool,
    out: String,
    err: String,
}

/// Runs `roster <args>` on the test's own database, with `stdin` as its input.
async fn roster(db: &PgPool, args: &[&str], stdin: &str) -> Run {
    let name: String = sqlx::query_scalar("SELECT current_database()").fetch_one(db).await.unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for the tests");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", url.as_str())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    Run { ok: output.status.success(), out: String::from_utf8_lossy(&output.stdout).into(), err: String::from_utf8_lossy(&output.stderr).into() }
}

#[sqlx::test]
async fn accounts_lists_ids_plans_and_usage_and_limits_sets_them(db: PgPool) {
    let app = TestApp::new(db.clone());
    app.sign_up("Alpha Solar", "ada@alpha.test").await;
    app.sign_up("Beta Wind", "bob@beta.test").await;
    let alpha = account_id_of(&app, "ada@alpha.test").await;

    let run = roster(&db, &["accounts"], "").await;
    assert!(run.ok, "{}", run.err);
    let line = run.out.lines().find(|l| l.contains("Alpha Solar")).expect("Alpha listed");
    assert!(line.trim_start().starts_with(&alpha.to_string()), "{line}");
    assert!(line.contains("Standard") && line.contains("staff_users 1 (unlimited)"), "{line}");
    assert!(run.out.contains("Beta Wind"));

    let run = roster(&db, &["limits", "--account", "alpha solar", "--plan", "Pro", "--customers", "500", "--emails-per-month", "1000"], "").await;
    assert!(run.ok, "{}", run.err);
    assert!(run.out.contains("Pro") && run.out.contains("customers 0 of 500") && run.out.contains("emails_per_month 0 of 1000"), "{}", run.out);
    assert!(!run.out.contains("Beta Wind"), "only the changed account is shown");
    let row: (String, Option<i64>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT plan_name, customer_limit, staff_user_limit, email_month_limit FROM accounts WHERE id = $1")
            .bind(alpha)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(row, ("Pro".into(), Some(500), None, Some(1000)));
    let audited = app.count(&format!("SELECT count(*) FROM audit_events WHERE account_id = {alpha} AND action = 'account.plan_changed'")).await;
    assert_eq!(audited, 1);

    // By id, and --unlimited lifts what is not given.
    let run = roster(&db, &["limits", "--account", &alpha.to_string(), "--staff-users", "3", "--unlimited"], "").await;
    assert!(run.ok, "{}", run.err);
    let row: (Option<i64>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT customer_limit, staff_user_limit, email_month_limit FROM accounts WHERE id = $1").bind(alpha).fetch_one(&db).await.unwrap();
    assert_eq!(row, (None, Some(3), None));
}

#[sqlx::test]
async fn limits_refuses_unknown_and_ambiguous_accounts_and_bad_numbers(db: PgPool) {
    let app = TestApp::new(db.clone());
    app.sign_up("Twin", "one@twin.test").await;
    app.sign_up("Twin", "two@twin.test").await;
    let (one, two) = (account_id_of(&app, "one@twin.test").await, account_id_of(&app, "two@twin.test").await);
    let before: Vec<(Option<i64>,)> = sqlx::query_as("SELECT customer_limit FROM accounts ORDER BY id").fetch_all(&db).await.unwrap();

    let run = roster(&db, &["limits", "--account", "Twin", "--customers", "5"], "").await;
    assert!(!run.ok);
    assert!(run.err.contains("More than one account is named") && run.err.contains(&one.to_string()) && run.err.contains(&two.to_string()), "{}", run.err);

    let run = roster(&db, &["limits", "--account", "Nobody", "--customers", "5"], "").await;
    assert!(!run.ok && run.err.contains("No account has the id or name"), "{}", run.err);
    let run = roster(&db, &["limits", "--account", "987654", "--customers", "5"], "").await;
    assert!(!run.ok && run.err.contains("No account has the id or name"), "{}", run.err);

    for bad in ["--customers=-3", "--customers=lots", "--emails-per-month=1.5"] {
        let run = roster(&db, &["limits", "--account", &one.to_string(), bad], "").await;
        assert!(!run.ok && run.err.contains("expected a whole number from 0"), "{bad}: {}", run.err);
    }
    let run = roster(&db, &["limits", "--account", &one.to_string()], "").await;
    assert!(!run.ok && run.err.contains("Nothing to change"), "{}", run.err);

    let after: Vec<(Option<i64>,)> = sqlx::query_as("SELECT customer_limit FROM accounts ORDER BY id").fetch_all(&db).await.unwrap();
    assert_eq!(before, after, "a refused command changes nothing");

    for command in ["limits", "accounts", "reset-password"] {
        let run = roster(&db, &[command, "--help"], "").await;
        assert!(run.ok && run.out.contains("Usage: roster"), "{command}: {}", run.err);
    }
    let help = roster(&db, &["limits", "--help"], "").await.out;
    for flag in ["--customers", "--staff-users", "--customer-users", "--emails-per-month", "--plan", "--unlimited"] {
        assert!(help.contains(flag), "{flag}");
    }
}

#[sqlx::test]
async fn reset_password_ends_sessions_sets_a_temporary_or_given_password_and_is_audited(db: PgPool) {
    let app = TestApp::new(db.clone());
    let mut ada = app.sign_up("Alpha", "ada@alpha.test").await;
    assert!(ada.session().await.is_some());

    let run = roster(&db, &["reset-password", "--email", "ADA@alpha.test"], "").await;
    assert!(run.ok, "{}", run.err);
    assert!(ada.session().await.is_none(), "the operator's reset ends the user's sessions");
    let temporary = run.out.lines().find_map(|l| l.strip_prefix("Temporary password (must be changed at first sign-in): ")).expect("printed").trim().to_owned();
    assert!(!run.err.contains(&temporary), "the password goes to standard output only");
    let mut again = app.client();
    let res = again.sign_in("ada@alpha.test", PASSWORD).await;
    assert!(!res.status.is_success() && again.session().await.is_none(), "the old password no longer works");
    let res = again.sign_in("ada@alpha.test", &temporary).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert!(again.session().await.unwrap().must_change_password);
    let audited = app.count("SELECT count(*) FROM audit_events WHERE action = 'user.password_reset_by_operator'").await;
    assert_eq!(audited, 1);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'password_changed' AND to_address = 'ada@alpha.test'").await, 1);

    // From standard input: the user's own password, no change asked for.
    let run = roster(&db, &["reset-password", "--email", "ada@alpha.test", "--password-stdin"], "copper-meadow-sunrise\n").await;
    assert!(run.ok, "{}", run.err);
    assert!(!run.out.contains("copper-meadow-sunrise") && !run.out.contains("Temporary"));
    let mut own = app.client();
    assert!(own.sign_in("ada@alpha.test", "copper-meadow-sunrise").await.status.is_success());
    assert!(!own.session().await.unwrap().must_change_password);

    let run = roster(&db, &["reset-password", "--email", "nobody@alpha.test"], "").await;
    assert!(!run.ok && run.err.contains("No user has the address"), "{}", run.err);
    let run = roster(&db, &["reset-password", "--email", "not-an-address"], "").await;
    assert!(!run.ok && run.err.contains("--email"), "{}", run.err);
    let run = roster(&db, &["reset-password", "--email", "ada@alpha.test", "--password-stdin"], "short\n").await;
    assert!(!run.ok && run.err.contains("password"), "{}", run.err);
    assert!(own.session().await.is_some(), "a refused reset changes nothing");
}
