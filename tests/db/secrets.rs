//! Secrets meant for one person (link tokens, temporary passwords) never reach anyone else:
//! with SMTP configured no screen or server function shows them, development mail needs a
//! local server or an explicit setting, delivered mail keeps none at rest, and every password
//! or address change is told to the person (with when and from where).

use crate::{
    customers::{create, customer_id},
    fixture::{Place, World},
    support::{Client, TestApp, PASSWORD},
};
use chrono::Duration;
use roster::{
    customer_users::Issued,
    outbox::{MailMode, OutboxList},
};
use sqlx::PgPool;

fn with_smtp(db: PgPool) -> TestApp {
    // The worker is not running in these tests, so mail stays queued, as when SMTP is slow.
    TestApp::with_config(db, |c| c.smtp_url = Some("smtp://127.0.0.1:9".into()))
}

/// Every secret the outbox holds, and the token inside each link.
async fn secrets(app: &TestApp) -> Vec<String> {
    let all: Vec<String> = sqlx::query_scalar("SELECT secret FROM outbox WHERE secret IS NOT NULL").fetch_all(app.db()).await.unwrap();
    let mut out = Vec::new();
    for secret in all {
        if let Some(token) = secret.split("token=").nth(1) {
            out.push(token.to_owned());
        }
        out.push(secret);
    }
    out
}

fn leaks<'a>(body: &str, secrets: &'a [String]) -> Vec<&'a str> {
    secrets.iter().filter(|s| body.contains(s.as_str())).map(|s| s.as_str()).collect()
}

async fn call(client: &mut Client<'_>, endpoint: &str, form: &[(&str, &str)]) -> String {
    let res = client.call(endpoint, form).await;
    assert!(res.status.is_success(), "{endpoint}: {} {}", res.status, res.text());
    res.text()
}

#[sqlx::test]
async fn no_response_carries_a_link_or_temporary_password_meant_for_someone_else(db: PgPool) {
    let app = with_smtp(db);
    let (world, mut actors) = World::build(&app).await.split();
    let company = world.companies["I"].to_string();
    let owner = world.owner_role(Place::InScope).await.to_string();
    // Another Administrator asks for a reset link; people are invited, added, given passwords.
    app.client().call("forgot_password", &[("email", "administrator@a.test")]).await;
    let admin = actors.admin();
    call(admin, "invite_users", &[("emails", "invitee@new.test"), ("role_id", &owner), ("company_id", &company)]).await;
    call(
        admin,
        "create_user",
        &[
            ("display_name", "Temp Person"), ("email", "temp@new.test"), ("phone", ""), ("region", ""), ("description", ""),
            ("company_id", &company), ("password_setup", "generate"), ("role_id", &owner),
        ],
    )
    .await;
    let engineer = world.actor_ids["operations_engineer"].to_string();
    call(admin, "reset_user_password", &[("id", &engineer), ("mode", "generate")]).await;
    create(admin, &world, "Sunfield", "", Place::InScope).await;
    let sunfield = customer_id(&app, "Sunfield").await.to_string();
    let mailed = [("customer_id", sunfield.as_str()), ("form[email]", "lena@sunfield.test"), ("form[first_name]", "Lena"), ("form[last_name]", "Berg"), ("method", "email")];
    call(admin, "add_customer_user", &mailed).await;
    app.client()
        .call("register", &[("display_name", "Reggie"), ("email", "reggie@home.test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    app.client()
        .call("sign_up", &[("account_name", "Gamma"), ("display_name", "Gus"), ("email", "gus@gamma.test"), ("password", PASSWORD), ("password_confirm", PASSWORD)])
        .await;
    // The one exception: a link to show is in the answer that creates it, for its creator.
    let shown = [("customer_id", sunfield.as_str()), ("form[email]", "omar@sunfield.test"), ("form[first_name]", "Omar"), ("form[last_name]", "Haddad"), ("method", "show")];
    let issued: Issued = admin.call("add_customer_user", &shown).await.json();
    let shown_link = issued.link.expect("the link to show");

    let secrets = secrets(&app).await;
    assert!(secrets.len() >= 12, "every kind of secret is queued: {secrets:?}");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users WHERE account_id = $1 AND kind = 'staff'")
        .bind(world.a)
        .fetch_all(app.db())
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for page in ["1", "2"] {
        bodies.push(("outbox", call(admin, "outbox", &[("page", page)]).await));
    }
    for status in ["", "invited", "active", "disabled"] {
        let query = [("query[q]", ""), ("query[status]", status), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "100")];
        bodies.push(("users", call(admin, "users", &query).await));
    }
    for id in &ids {
        bodies.push(("user", call(admin, "user", &[("id", &id.to_string())]).await));
    }
    bodies.push(("customer_users", call(admin, "customer_users", &[("customer_id", &sunfield)]).await));
    bodies.push(("audit", call(admin, "audit", &[("query[actor]", ""), ("query[page]", "1")]).await));
    for endpoint in ["overview", "roles", "companies", "session", "profile", "user_form_options", "customer_choices"] {
        bodies.push((endpoint, call(admin, endpoint, &[]).await));
    }
    bodies.push(("customers", call(admin, "customers", &[("query[q]", "")]).await));
    // The screens themselves, rendered on the server.
    for path in ["/outbox", "/users", "/users?status=invited", "/audit", &format!("/customers/{sunfield}?tab=users")] {
        let page = admin.get_page(path).await;
        assert!(page.status.is_success(), "{path}: {}", page.status);
        bodies.push(("page", page.text()));
    }
    for (what, body) in &bodies {
        let found = leaks(body, &secrets);
        let found: Vec<&&str> = found.iter().filter(|s| !shown_link.contains(**s)).collect();
        assert!(found.is_empty(), "{what} carries {found:?}");
    }
    let outbox: OutboxList = admin.call("outbox", &[("page", "1")]).await.json();
    assert_eq!(outbox.mode, MailMode::Smtp);
    assert!(outbox.messages.iter().any(|m| m.body_text.contains("[hidden: for the recipient only]")));
}

#[sqlx::test]
async fn development_mail_needs_a_local_server_or_the_explicit_setting(db: PgPool) {
    for (bind, explicit, mode) in [
        ("127.0.0.1:0", false, MailMode::Development),
        ("0.0.0.0:0", false, MailMode::Held),
        ("0.0.0.0:0", true, MailMode::Development),
    ] {
        let app = TestApp::with_config(db.clone(), |c| {
            c.bind = bind.parse().unwrap();
            c.dev_mail = explicit;
        });
        let email = format!("ada{}@acme.test", bind.len() + usize::from(explicit));
        let mut ada = app.sign_up("Acme", &email).await;
        app.client().call("forgot_password", &[("email", &email)]).await;
        let link = app.mailed_secret(&email, "password_reset").await;
        let outbox: OutboxList = ada.call("outbox", &[("page", "1")]).await.json();
        assert_eq!(outbox.mode, mode, "{bind} explicit={explicit}");
        let shown = outbox.messages.iter().any(|m| m.body_text.contains(&link));
        assert_eq!(shown, mode == MailMode::Development, "{bind} explicit={explicit}");
        let page = ada.get_page("/outbox").await.text();
        assert_eq!(page.contains(&link), mode == MailMode::Development);
        if mode == MailMode::Held {
            assert!(page.contains("Mail is not being delivered"));
        } else {
            assert!(page.contains("Development mail"));
        }
    }
}

#[sqlx::test]
async fn delivered_mail_keeps_no_secret_in_the_outbox(db: PgPool) {
    let smtp = std::env::var("ROSTER_TEST_SMTP_URL")
        .expect("ROSTER_TEST_SMTP_URL must point at a running SMTP server (.dev/test starts maildev)");
    let app = TestApp::with_config(db, |c| c.smtp_url = Some(smtp.clone()));
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    let owner: i64 = sqlx::query_scalar("SELECT id FROM roles WHERE builtin = 'owner'").fetch_one(app.db()).await.unwrap();
    let company: i64 = sqlx::query_scalar("SELECT id FROM companies").fetch_one(app.db()).await.unwrap();
    let res = ada
        .call(
            "create_user",
            &[
                ("display_name", "Temp Person"), ("email", "temp-delivered@new.test"), ("phone", ""), ("region", ""),
                ("description", ""), ("company_id", &company.to_string()), ("password_setup", "generate"),
                ("role_id", &owner.to_string()),
            ],
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let password = app.mailed_secret("temp-delivered@new.test", "temporary_password").await;
    let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&smtp).unwrap().build();
    while roster::services::mail::worker::deliver_next(&app.state, &transport).await.unwrap() {}
    let (text, html, secret, status): (String, String, Option<String>, String) = sqlx::query_as(
        "SELECT body_text, body_html, secret, status FROM outbox WHERE to_address = 'temp-delivered@new.test'",
    )
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(status, "sent");
    assert_eq!(secret, None);
    assert!(!text.contains(&password) && !html.contains(&password));
    assert!(text.contains("[removed after delivery]"));
    if let Ok(maildev) = std::env::var("ROSTER_TEST_MAILDEV_URL") {
        let mails = crate::instances::maildev_messages(&maildev, "temp-delivered@new.test").await;
        assert!(mails.iter().any(|m| m.contains(&password)), "the recipient got the password");
    }
}

/// The newest message of `kind` to `to`, as it will be delivered.
async fn mail_text(app: &TestApp, to: &str, kind: &str) -> String {
    sqlx::query_scalar("SELECT body_text FROM outbox WHERE to_address = $1 AND kind = $2 ORDER BY id DESC LIMIT 1")
        .bind(to)
        .bind(kind)
        .fetch_optional(app.db())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {kind} mail to {to}"))
}

#[sqlx::test]
async fn password_and_address_changes_are_told_to_the_person_with_when_and_from_where(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let from = "from the address 203.0.113.10";
    // Changed by the person.
    let engineer = actors.get(roster::permissions::BuiltinRole::OperationsEngineer);
    let res = engineer
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let notice = mail_text(&app, "operations_engineer@a.test", "password_changed").await;
    assert!(notice.contains(from) && notice.contains(" UTC"), "{notice}");
    // Reset by link.
    app.client().call("forgot_password", &[("email", "owner@a.test")]).await;
    let token = app.link_token("owner@a.test", "password_reset").await;
    app.advance(Duration::seconds(1));
    app.client().call("reset_password", &[("token", &token), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")]).await;
    assert!(mail_text(&app, "owner@a.test", "password_changed").await.contains(from));
    // Set by an administrator.
    let manager = world.actor_ids["common_manager"].to_string();
    let admin = actors.admin();
    let res = admin.call("reset_user_password", &[("id", &manager), ("mode", "manual"), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")]).await;
    assert!(res.status.is_success(), "{}", res.text());
    assert!(mail_text(&app, "common_manager@a.test", "password_set").await.contains(from));
    // A changed sign-in address: the old one hears of it, the new one too.
    let target = world.fresh_user(Place::InScope, "active").await;
    let old: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(target).fetch_one(app.db()).await.unwrap();
    let res = admin
        .call(
            "update_user",
            &[
                ("id", &target.to_string()), ("display_name", "Moved Person"), ("email", "moved@new.test"), ("phone", ""),
                ("region", ""), ("description", ""), ("company_id", &world.companies["I"].to_string()), ("version", "1"),
            ],
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let away = mail_text(&app, &old, "email_changed").await;
    assert!(away.contains("was changed to another address") && away.contains(from), "{away}");
    assert!(!away.contains("moved@new.test"), "the old address is not told the new one");
    assert!(mail_text(&app, "moved@new.test", "email_changed").await.contains(from));
    // The same for a customer user who has activated.
    create(admin, &world, "Sunfield", "", Place::InScope).await;
    let customer = world.customer_user_in(world.a, customer_id(&app, "Sunfield").await, "pat@sunfield.test").await;
    let res = admin
        .call(
            "update_customer_user",
            &[("id", &customer.to_string()), ("version", "1"), ("form[email]", "pat.new@sunfield.test"), ("form[first_name]", "Pat"), ("form[last_name]", "Doe")],
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    assert!(mail_text(&app, "pat@sunfield.test", "email_changed").await.contains(from));
    assert!(mail_text(&app, "pat.new@sunfield.test", "email_changed").await.contains(from));
}
