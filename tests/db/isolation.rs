//! Every query added so far stays inside the caller's account; Administrator-only functions
//! refuse everyone else.

use crate::support::{account_id_of, add_staff, TestApp, PASSWORD};
use roster::{error::AppError, home::Overview, outbox::OutboxList};
use sqlx::PgPool;

#[sqlx::test]
async fn the_overview_counts_only_the_callers_account(db: PgPool) {
    let app = TestApp::new(db);
    let mut acme = app.sign_up("Acme", "ada@acme.test").await;
    app.sign_up("Globex", "hank@globex.test").await;
    let globex = account_id_of(&app, "hank@globex.test").await;
    add_staff(&app, globex, "mona@globex.test", "owner").await;

    let overview: Overview = acme.call("overview", &[]).await.json();
    assert_eq!((overview.company_count, overview.staff_count), (1, 1));
    assert_eq!(overview.account_name.as_deref(), Some("Acme"));
    let mut hank = app.client();
    hank.sign_in("hank@globex.test", PASSWORD).await;
    let overview: Overview = hank.call("overview", &[]).await.json();
    assert_eq!((overview.company_count, overview.staff_count), (1, 2));
    assert_eq!(overview.recent_sign_ins.len(), 2, "the sign-up's sign-in and this one, not Ada's");
}

#[sqlx::test]
async fn administrators_see_only_their_own_accounts_outbox(db: PgPool) {
    let app = TestApp::new(db);
    let mut acme = app.sign_up("Acme", "ada@acme.test").await;
    let mut globex = app.sign_up("Globex", "hank@globex.test").await;
    app.client().call("forgot_password", &[("email", "ada@acme.test")]).await;
    app.client().call("forgot_password", &[("email", "hank@globex.test")]).await;

    let list: OutboxList = acme.call("outbox", &[("page", "1")]).await.json();
    assert_eq!(list.total, 1);
    assert_eq!(list.messages[0].to_address, "ada@acme.test");
    assert_eq!(list.mode, roster::outbox::MailMode::Development);
    let list: OutboxList = globex.call("outbox", &[("page", "1")]).await.json();
    assert_eq!(list.messages.iter().map(|m| m.to_address.as_str()).collect::<Vec<_>>(), ["hank@globex.test"]);
}

#[sqlx::test]
async fn only_administrators_read_the_outbox(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    let acme = account_id_of(&app, "ada@acme.test").await;
    for (email, role) in [("cm@acme.test", "common_manager"), ("oe@acme.test", "operations_engineer"), ("ow@acme.test", "owner")] {
        add_staff(&app, acme, email, role).await;
        let mut member = app.client();
        member.sign_in(email, PASSWORD).await;
        let session = member.session().await.unwrap();
        assert!(!session.is_administrator);
        assert_eq!(member.call("outbox", &[("page", "1")]).await.error(), AppError::Forbidden, "{role}");
    }
}

#[sqlx::test]
async fn permissions_in_the_session_come_from_the_role(db: PgPool) {
    use roster::permissions::{BuiltinRole, Module};
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    let acme = account_id_of(&app, "ada@acme.test").await;
    add_staff(&app, acme, "ow@acme.test", "owner").await;
    let mut owner = app.client();
    owner.sign_in("ow@acme.test", PASSWORD).await;
    let session = owner.session().await.unwrap();
    let mut expected = BuiltinRole::Owner.default_permissions();
    expected.sort();
    let mut got = session.permissions.clone();
    got.sort();
    assert_eq!(got, expected);
    assert!(!session.sees(Module::Billing));
    assert!(!session.sees(Module::Users));
    assert!(session.sees(Module::Customers));
}

#[sqlx::test]
async fn profile_changes_touch_only_the_callers_row(db: PgPool) {
    let app = TestApp::new(db);
    let mut ada = app.sign_up("Acme", "ada@acme.test").await;
    app.sign_up("Globex", "hank@globex.test").await;
    ada.call("update_profile", &[("display_name", "Ada L."), ("phone", ""), ("region", ""), ("language", "en")]).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT display_name FROM users ORDER BY id").fetch_all(app.db()).await.unwrap();
    assert_eq!(names, ["Ada L.", "Ada Admin"]);
}
