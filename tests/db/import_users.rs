//! CSV imports of customer users (issue 13): the dry run decides every row and writes nothing;
//! an address in use anywhere gets the one answer the add form gives, counted against the
//! importer's hourly allowance, and past it no row is answered whose address is not the
//! importer's to see (so a file learns no more than the form would); activation e-mails are
//! sent or not as chosen; plan limits hold; an exported file imports back as the same users.

use crate::{
    fixture::{Place, World},
    import::{check, checked, job, outcomes, row, start, upload_to, wait},
    support::{Client, TestApp},
};
use axum::http::StatusCode;
use futures::future::join_all;
use roster::{
    auth::ssr::addresses::{CANNOT_USE, REFUSALS_PER_HOUR},
    error::AppError,
    imports::{ImportKind, ImportStatus, Totals},
    permissions::BuiltinRole,
};

const PATH: &str = "/import/customer-users";
const NOT_CHECKED: &str = "Not checked: too many of the addresses you entered could not be used. Try again in an hour.";

async fn upload(client: &mut Client<'_>, name: &str, content: &str) -> i64 {
    upload_to(client, PATH, name, content.as_bytes()).await
}

/// Rows as a file of customer users (the export's columns).
fn file(rows: &[(&str, &str, &str, &str)]) -> String {
    let mut text = "Customer,First name,Last name,E-mail\n".to_owned();
    for (customer, first, last, email) in rows {
        text.push_str(&format!("{customer},{first},{last},{email}\n"));
    }
    text
}

async fn users_of(app: &TestApp, customer: i64) -> Vec<(String, String, String, String)> {
    sqlx::query_as("SELECT email, first_name, last_name, status FROM users WHERE customer_id = $1 AND kind = 'customer' ORDER BY email")
        .bind(customer)
        .fetch_all(app.db())
        .await
        .unwrap()
}

/// The counters as the plan counts them, and the users there really are.
async fn user_count(app: &TestApp, account: i64) -> (i64, i64) {
    sqlx::query_as("SELECT customer_user_count, (SELECT count(*) FROM users WHERE account_id = $1 AND kind = 'customer') FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(app.db())
        .await
        .unwrap()
}

async fn fix_customer_count(app: &TestApp, account: i64) {
    sqlx::query("UPDATE accounts SET customer_count = (SELECT count(*) FROM customers WHERE account_id = $1) WHERE id = $1")
        .bind(account)
        .execute(app.db())
        .await
        .unwrap();
}

#[sqlx::test]
async fn the_dry_run_says_what_each_row_will_do_and_the_import_writes_it(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let acme = world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    let bolt = world.customer_in(world.a, world.companies["D"], kind, None, "Bolt").await;
    fix_customer_count(&app, world.a).await;
    let known = world.customer_user_in(world.a, acme, "known@acme.test").await;
    world.customer_user_in(world.a, bolt, "bolt@bolt.test").await;
    let registered = world.fresh_registered_person().await;
    let text = file(&[
        ("Acme", "Ann", "Able", "new@acme.test"),
        ("Acme", "Bad", "Mail", "not-an-address"),
        ("Acme", "Again", "Ann", "NEW@acme.test"),
        ("acme", "Portal", "Person", "known@acme.test"),
        ("Acme", "Someone", "Else", "admin@b.test"),
        ("Acme", "Staff", "Member", "administrator@a.test"),
        ("Acme", "Home", "Person", &registered),
        ("Nobody Co", "No", "Customer", "nobody@x.test"),
        ("Acme", "", "Nameless", "nameless@acme.test"),
        ("Acme", "Moved", "Person", "bolt@bolt.test"),
        ("Bolt", "Bea", "Bolt", "bea@bolt.test"),
    ]);
    let admin = actors.admin();
    let before = world.fingerprint().await;
    let id = upload(admin, "users.csv", &text).await;
    let view = job(admin, id).await;
    assert_eq!(view.settings.kind, ImportKind::CustomerUsers);
    assert!(view.settings.send_activation, "new users are e-mailed their links unless told otherwise");
    let view = checked(admin, id, &[("send_activation", "on")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 0, skip: 1, error: 8 }, "{:?}", outcomes(&app, id).await);
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0], row(2, "create", None, None));
    assert_eq!((rows[1].1.as_str(), rows[1].2.as_deref()), ("error", Some("E-mail")));
    assert_eq!(rows[2], row(4, "error", Some("E-mail"), Some("Line 2 has the same e-mail.")));
    assert_eq!(rows[3], row(5, "skip", None, Some("A user of this customer has this e-mail: skipped.")));
    // Another account's person, this account's staff, a self-registered person: one answer.
    for r in &rows[4..7] {
        assert_eq!((r.1.as_str(), r.2.as_deref(), r.3.as_deref()), ("error", Some("E-mail"), Some(CANNOT_USE)), "{r:?}");
    }
    assert_eq!(rows[7], row(9, "error", Some("Customer"), Some("No customer you manage is called “Nobody Co”.")));
    assert_eq!((rows[8].1.as_str(), rows[8].2.as_deref()), ("error", Some("First name")));
    assert_eq!(
        rows[9],
        row(11, "error", Some("Customer"), Some("This person is a user of “Bolt”: the import does not move users to another customer."))
    );
    assert_eq!(rows[10], row(12, "create", None, None));
    assert_eq!(world.fingerprint().await, before, "the upload and the dry run wrote nothing");
    let refused = start(admin, id).await;
    assert!(matches!(refused.error(), AppError::Refused(_)), "all or nothing with error rows: {}", refused.text());

    // Updating chosen, the known person's new names are an update; then the valid rows go in.
    let view = checked(admin, id, &[("send_activation", "on"), ("existing", "update"), ("mode", "valid_only")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 0, skip: 1, error: 8 }, "the same names are no change");
    let text = text.replace("acme,Portal,Person,known@acme.test", "acme,Paula,Person,known@acme.test");
    let id = upload(admin, "users.csv", &text).await;
    let view = checked(admin, id, &[("send_activation", "on"), ("existing", "update"), ("mode", "valid_only")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 1, skip: 0, error: 8 });
    let (count_before, _) = user_count(&app, world.a).await;
    let sessions_before = app.count(&format!("SELECT count(*) FROM sessions WHERE user_id = {known}")).await;
    assert_eq!(start(admin, id).await.status, StatusCode::OK);
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Done, "{:?}", view.message);
    assert_eq!(view.totals, Totals { create: 2, update: 1, skip: 0, error: 8 });
    assert_eq!(view.changed, 0);

    let acme_users = users_of(&app, acme).await;
    assert_eq!(
        acme_users,
        [
            ("known@acme.test".into(), "Paula".into(), "Person".into(), "active".into()),
            ("new@acme.test".into(), "Ann".into(), "Able".into(), "invited".into()),
        ]
    );
    assert_eq!(users_of(&app, bolt).await.len(), 2, "Bea added to Bolt; the Bolt user was not moved");
    assert_eq!(app.count(&format!("SELECT count(*) FROM sessions WHERE user_id = {known}")).await, sessions_before, "a new name ends no session");
    let (count, real) = user_count(&app, world.a).await;
    assert_eq!((count, real), (count_before + 2, count_before + 2), "the plan's counter counts the imported users");
    for address in ["new@acme.test", "bea@bolt.test"] {
        let mails = app
            .count(&format!("SELECT count(*) FROM outbox WHERE kind = 'activation' AND to_address = '{address}' AND body_text LIKE '%/activate?token=%'"))
            .await;
        assert_eq!(mails, 1, "{address} was e-mailed one activation link");
    }
    let audited = app
        .count(&format!(
            "SELECT count(*) FROM audit_events WHERE account_id = {} AND action = 'customer_user.created' AND (changes->>'import')::bigint = {id}
                AND changes->>'activation' = 'e-mailed'",
            world.a
        ))
        .await;
    assert_eq!(audited, 2, "one audit row per new user");
    let updated = app
        .count(&format!("SELECT count(*) FROM audit_events WHERE action = 'customer_user.updated' AND record_id = '{known}' AND changes ? 'first_name'"))
        .await;
    assert_eq!(updated, 1);
    let summary: serde_json::Value = sqlx::query_scalar("SELECT changes FROM audit_events WHERE account_id = $1 AND action = 'customer_users.imported'")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!((summary["created"].as_i64(), summary["updated"].as_i64(), summary["errors"].as_i64()), (Some(2), Some(1), Some(8)));

    // The error rows come back with the reason, and never say more than the page did.
    let res = admin.get_page(&format!("/import/{id}/errors.csv")).await;
    assert_eq!(res.status, StatusCode::OK);
    let errors = res.text();
    assert!(errors.contains(&format!("Acme,Someone,Else,admin@b.test,E-mail: {CANNOT_USE}")), "{errors}");
    assert!(!errors.contains("Beta") && !errors.contains("account"), "{errors}");
}

#[sqlx::test]
async fn addresses_in_use_are_answered_only_while_the_hours_allowance_lasts(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let mut in_use = Vec::new();
    for _ in 0..25 {
        in_use.push(world.fresh_registered_person().await);
    }
    // 25 addresses in use, with a free one after every fifth.
    let mut rows = Vec::new();
    for (i, email) in in_use.iter().enumerate() {
        rows.push(("Acme".to_owned(), email.clone()));
        if i % 5 == 4 {
            rows.push(("Acme".to_owned(), format!("free{i}@acme.test")));
        }
    }
    let text: String = std::iter::once("Customer,First name,Last name,E-mail".to_owned())
        .chain(rows.iter().map(|(c, e)| format!("{c},Some,One,{e}")))
        .collect::<Vec<_>>()
        .join("\n");
    let admin = actors.admin();
    let id = upload(admin, "many.csv", &text).await;
    let view = checked(admin, id, &[("mode", "valid_only")]).await;
    let rows = outcomes(&app, id).await;
    let told = rows.iter().filter(|r| r.3.as_deref() == Some(CANNOT_USE)).count();
    let unanswered = rows.iter().filter(|r| r.3.as_deref() == Some(NOT_CHECKED)).count();
    assert_eq!(told, REFUSALS_PER_HOUR as usize, "no more addresses in use are told than the hour allows");
    // In the file's order, as the form would: the free ones before the twentieth are creates;
    // after it, the last 5 in use and the 2 free ones alike are not answered.
    assert_eq!(view.totals.create, 3);
    assert_eq!(unanswered, 7);
    let first_unanswered = rows.iter().position(|r| r.3.as_deref() == Some(NOT_CHECKED)).unwrap();
    let last_told = rows.iter().rposition(|r| r.3.as_deref() == Some(CANNOT_USE)).unwrap();
    assert_eq!(first_unanswered, last_told + 1, "nothing is answered after the allowance ran out");

    // Checked again with the hour used up, the same 20 are told (the importer knows them now)
    // and nothing else is answered, not even the addresses that were free a moment ago.
    checked(admin, id, &[("mode", "valid_only")]).await;
    let again = outcomes(&app, id).await;
    for (before, now) in rows.iter().zip(&again) {
        match before.3.as_deref() {
            Some(CANNOT_USE) => assert_eq!(now, before),
            _ => assert_eq!(now.3.as_deref(), Some(NOT_CHECKED), "{now:?}"),
        }
    }

    // Out of answers, one address alone gets the same reply whether it is in use or free.
    for (name, address) in [("taken.csv", in_use[24].clone()), ("free.csv", "free-alone@acme.test".to_owned())] {
        let id = upload(admin, name, &file(&[("Acme", "Alone", "Person", &address)])).await;
        let view = checked(admin, id, &[]).await;
        assert_eq!(view.totals.error, 1, "{name}");
        assert_eq!(outcomes(&app, id).await[0].3.as_deref(), Some(NOT_CHECKED), "{name}");
    }
    // The add form is out of answers too (one allowance for both); a colleague is not.
    let acme = app.count("SELECT id FROM customers WHERE title = 'Acme'").await.to_string();
    let res = admin
        .call(
            "add_customer_user",
            &[("customer_id", &acme), ("form[email]", "free-form@acme.test"), ("form[first_name]", "Pat"), ("form[last_name]", "Form"), ("method", "show")],
        )
        .await;
    assert!(matches!(res.error(), AppError::TooMany(_)), "{}", res.text());
    let manager = actors.get(BuiltinRole::CommonManager);
    let id = upload(manager, "colleague.csv", &file(&[("Acme", "Some", "One", &in_use[24]), ("Acme", "Free", "One", "free-too@acme.test")])).await;
    checked(manager, id, &[]).await;
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0].3.as_deref(), Some(CANNOT_USE));
    assert_eq!(rows[1], row(3, "create", None, None));
}

/// The key of a person's hourly allowance of "cannot be used" answers.
fn allowance_key(user_id: i64) -> String {
    format!("address_refusals:user:{user_id}")
}

fn allowance() -> roster::server::limits::Limit {
    roster::server::limits::Limit { hits: REFUSALS_PER_HOUR, window: chrono::Duration::hours(1) }
}

#[sqlx::test]
async fn the_allowance_runs_out_in_the_files_order_and_not_a_row_later(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let admin_id = world.actor_ids["administrator"];
    // Two answers left this hour.
    roster::server::limits::hit(app.db(), &allowance_key(admin_id), REFUSALS_PER_HOUR - 2, allowance(), app.state.clock.now()).await.unwrap();
    let (a, b, c) = (world.fresh_registered_person().await, world.fresh_registered_person().await, world.fresh_registered_person().await);
    let text = file(&[
        ("Acme", "In", "Use", &a),
        ("Acme", "Free", "One", "free1@acme.test"),
        ("Acme", "In", "Use", &b),
        ("Acme", "In", "Use", &c),
        ("Acme", "Free", "Two", "free2@acme.test"),
    ]);
    let admin = actors.admin();
    let id = upload(admin, "cutoff.csv", &text).await;
    checked(admin, id, &[("mode", "valid_only")]).await;
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0], row(2, "error", Some("E-mail"), Some(CANNOT_USE)));
    assert_eq!(rows[1], row(3, "create", None, None), "a free address before the allowance runs out is answered");
    assert_eq!(rows[2], row(4, "error", Some("E-mail"), Some(CANNOT_USE)));
    assert_eq!(rows[3], row(5, "error", Some("E-mail"), Some(NOT_CHECKED)), "in use, past the allowance");
    assert_eq!(rows[4], row(6, "error", Some("E-mail"), Some(NOT_CHECKED)), "free, past the allowance: the same");
    let used = roster::server::limits::current(app.db(), &allowance_key(admin_id), allowance(), app.state.clock.now()).await.unwrap();
    assert_eq!(used, REFUSALS_PER_HOUR, "the two told are counted");
}

#[sqlx::test]
async fn a_dry_run_decides_from_the_allowance_another_request_leaves(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let admin_id = world.actor_ids["administrator"];
    let admin = actors.admin();
    let id = upload(admin, "probe.csv", &file(&[("Acme", "Free", "Probe", "free-probe@acme.test")])).await;
    // Another of the importer's requests holds the counter, and is about to use up the hour.
    let mut other = app.db().begin().await.unwrap();
    roster::server::limits::hit(&mut *other, &allowance_key(admin_id), 0, allowance(), app.state.clock.now()).await.unwrap();
    let checking = async { check(admin, id, &[]).await };
    let finishing = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        roster::server::limits::hit(&mut *other, &allowance_key(admin_id), REFUSALS_PER_HOUR, allowance(), app.state.clock.now()).await.unwrap();
        other.commit().await.unwrap();
    };
    let (res, ()) = tokio::join!(checking, finishing);
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0], row(2, "error", Some("E-mail"), Some(NOT_CHECKED)), "decided after the other request, from what it left");
}

#[sqlx::test]
async fn the_add_form_at_once_never_tells_more_than_the_allowance(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let acme = world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await.to_string();
    fix_customer_count(&app, world.a).await;
    let mut in_use = Vec::new();
    for _ in 0..30 {
        in_use.push(world.fresh_registered_person().await);
    }
    let admin = actors.admin();
    let mut tabs: Vec<Client<'_>> = (0..30).map(|_| admin.same_session()).collect();
    let responses = join_all(tabs.iter_mut().zip(&in_use).map(|(c, email)| {
        let acme = acme.clone();
        async move {
            c.call(
                "add_customer_user",
                &[("customer_id", acme.as_str()), ("form[email]", email.as_str()), ("form[first_name]", "Pat"), ("form[last_name]", "Probe"), ("method", "show")],
            )
            .await
        }
    }))
    .await;
    let told = responses.iter().filter(|r| matches!(r.error(), AppError::Validation(_))).count();
    let refused = responses.iter().filter(|r| matches!(r.error(), AppError::TooMany(_))).count();
    assert_eq!(told, REFUSALS_PER_HOUR as usize, "exactly the hour's answers, however many ask at once");
    assert_eq!(told + refused, 30);
}

#[sqlx::test]
async fn dry_runs_at_once_never_tell_more_than_the_allowance(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let admin = actors.admin();
    // Twenty files of three addresses in use each, checked all at once.
    let mut ids = Vec::new();
    for _ in 0..20 {
        let mut rows = Vec::new();
        for _ in 0..3 {
            rows.push(world.fresh_registered_person().await);
        }
        let text = file(&rows.iter().map(|e| ("Acme", "Some", "One", e.as_str())).collect::<Vec<_>>());
        ids.push(upload(admin, "burst.csv", &text).await);
    }
    let mut tabs: Vec<Client<'_>> = (0..20).map(|_| admin.same_session()).collect();
    let responses = join_all(tabs.iter_mut().zip(&ids).map(|(c, id)| async move { check(c, *id, &[]).await })).await;
    for res in &responses {
        assert!(res.status == StatusCode::OK || res.status.is_client_error(), "never a 500: {} {}", res.status, res.text());
    }
    let told = app.count(&format!("SELECT count(*) FROM import_rows WHERE job_id IN ({}) AND message = '{CANNOT_USE}'", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))).await;
    assert!(told <= REFUSALS_PER_HOUR as i64, "{told} addresses told in use");
    assert!(told > 0);
}

#[sqlx::test]
async fn a_customer_user_import_needs_its_permission_and_the_importers_scope(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let ours = world.customer_in(world.a, world.companies["I"], kind, None, "Ours Ltd").await;
    let theirs = world.customer_in(world.a, world.companies["S"], kind, None, "Theirs Ltd").await;
    fix_customer_count(&app, world.a).await;
    world.customer_user_in(world.a, theirs, "theirs@theirs.test").await;
    let text = file(&[
        ("Ours Ltd", "New", "Here", "new@ours.test"),
        ("Theirs Ltd", "New", "There", "new@theirs.test"),
        ("Ours Ltd", "Their", "Person", "theirs@theirs.test"),
    ]);
    // The Common Manager works in D (I below it); S is a sibling branch.
    let manager = actors.get(BuiltinRole::CommonManager);
    let id = upload(manager, "scoped.csv", &text).await;
    checked(manager, id, &[("mode", "valid_only"), ("send_activation", "")]).await;
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0], row(2, "create", None, None));
    assert_eq!(rows[1], row(3, "error", Some("Customer"), Some("No customer you manage is called “Theirs Ltd”.")));
    assert_eq!(rows[2], row(4, "error", Some("E-mail"), Some(CANNOT_USE)), "a user out of scope is not shown to exist");
    start(manager, id).await;
    assert_eq!(wait(manager, id).await.status, ImportStatus::Done);
    assert_eq!(users_of(&app, ours).await.len(), 1);
    assert_eq!(users_of(&app, theirs).await.len(), 1, "nothing added to the other branch");

    // Another account's administrator finds nothing of the job.
    let mut other = app.client();
    other.sign_in("admin@b.test", crate::support::PASSWORD).await;
    assert_eq!(other.call("import_job", &[("id", &id.to_string())]).await.error(), AppError::NotFound);
    assert_eq!(start(&mut other, id).await.error(), AppError::NotFound);
    assert_eq!(other.get_page(&format!("/import/{id}/errors.csv")).await.status, StatusCode::NOT_FOUND);

    // Without Customer users – Manage, no upload; and a job outlives no permission.
    let engineer_role = world.builtin_role(world.a, "operations_engineer").await;
    let engineer = actors.get(BuiltinRole::OperationsEngineer);
    let id = upload(engineer, "later.csv", &file(&[("Ours Ltd", "Later", "One", "later@ours.test")])).await;
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1 AND permission = 'customer_users.manage'")
        .bind(engineer_role)
        .execute(app.db())
        .await
        .unwrap();
    let jobs = app.count("SELECT count(*) FROM import_jobs").await;
    assert_eq!(engineer.upload(PATH, "x.csv", b"Customer,First name,Last name,E-mail\n").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM import_jobs").await, jobs);
    assert_eq!(engineer.call("import_job", &[("id", &id.to_string())]).await.error(), AppError::Forbidden);
    assert_eq!(engineer.call("check_import", &[("id", &id.to_string())]).await.error(), AppError::Forbidden);
    assert_eq!(start(engineer, id).await.error(), AppError::Forbidden);
    // Customers they may still import.
    assert_eq!(engineer.upload("/import/customers", "c.csv", b"Title\nStill Mine\n").await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'later@ours.test'").await, 0);
}

#[sqlx::test]
async fn activation_emails_are_sent_or_not_as_chosen_and_plan_limits_hold(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let acme = world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let (used, _) = user_count(&app, world.a).await;
    sqlx::query("UPDATE accounts SET customer_user_limit = $2, email_month_limit = 1000 WHERE id = $1")
        .bind(world.a)
        .bind(used + 3)
        .execute(app.db())
        .await
        .unwrap();
    let text = file(&[
        ("Acme", "One", "Person", "one@acme.test"),
        ("Acme", "Two", "Person", "two@acme.test"),
        ("Acme", "Three", "Person", "three@acme.test"),
        ("Acme", "Four", "Person", "four@acme.test"),
    ]);
    let admin = actors.admin();
    let id = upload(admin, "limit.csv", &text).await;
    let view = checked(admin, id, &[("mode", "valid_only"), ("send_activation", "")]).await;
    assert_eq!(view.totals, Totals { create: 3, update: 0, skip: 0, error: 1 });
    assert!(outcomes(&app, id).await[3].3.as_deref().unwrap().starts_with("Over your plan's limit: it has room for 3 more customer users"));
    // E-mails count too when links are sent: room for one more this month.
    sqlx::query("UPDATE accounts SET email_month_limit = 1, email_month_count = 0 WHERE id = $1").bind(world.a).execute(app.db()).await.unwrap();
    let view = checked(admin, id, &[("mode", "valid_only"), ("send_activation", "on")]).await;
    assert_eq!(view.totals, Totals { create: 1, update: 0, skip: 0, error: 3 });
    assert!(outcomes(&app, id).await[1].3.as_deref().unwrap().contains("more e-mails this month"));

    // Without e-mails, three users go in awaiting activation, with no link anywhere.
    let outbox = app.count("SELECT count(*) FROM outbox").await;
    let tokens = app.count("SELECT count(*) FROM one_time_tokens").await;
    checked(admin, id, &[("mode", "valid_only"), ("send_activation", "")]).await;
    start(admin, id).await;
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Done, "{:?}", view.message);
    assert_eq!(users_of(&app, acme).await.iter().filter(|u| u.3 == "invited").count(), 3);
    assert_eq!(app.count("SELECT count(*) FROM outbox").await, outbox, "no activation e-mail");
    assert_eq!(app.count("SELECT count(*) FROM one_time_tokens").await, tokens, "no link to leak");
    let (count, real) = user_count(&app, world.a).await;
    assert_eq!((count, real), (used + 3, used + 3));
    let not_sent = app.count("SELECT count(*) FROM audit_events WHERE action = 'customer_user.created' AND changes->>'activation' = 'not sent'").await;
    assert_eq!(not_sent, 3);
}

#[sqlx::test]
async fn two_imports_of_the_same_people_at_once_add_each_person_once(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let acme = world.customer_in(world.a, world.companies["I"], kind, None, "Acme").await;
    fix_customer_count(&app, world.a).await;
    let people: Vec<(String, String)> = (1..=200).map(|i| (format!("Person{i}"), format!("p{i:03}@acme.test"))).collect();
    let text: String = std::iter::once("Customer,First name,Last name,E-mail".to_owned())
        .chain(people.iter().map(|(n, e)| format!("Acme,{n},Same,{e}")))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut admin, mut manager) = {
        let admin = actors.admin().same_session();
        (admin, actors.get(BuiltinRole::CommonManager).same_session())
    };
    let first = upload(&mut admin, "a.csv", &text).await;
    let second = upload(&mut manager, "b.csv", &text).await;
    checked(&mut admin, first, &[("send_activation", "on")]).await;
    checked(&mut manager, second, &[("send_activation", "on")]).await;
    let (a, b) = tokio::join!(start(&mut admin, first), start(&mut manager, second));
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    let (a, b) = tokio::join!(wait(&mut admin, first), wait(&mut manager, second));
    assert_eq!(users_of(&app, acme).await.len(), 200, "each person once");
    // One import added them; the other found them there: skipped (or, all or nothing, refused).
    let created = a.totals.create + b.totals.create;
    assert_eq!(created, 200, "{a:?} {b:?}");
    assert!([a.status, b.status].iter().all(|s| matches!(s, ImportStatus::Done | ImportStatus::Failed)), "{a:?} {b:?}");
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE kind = 'activation'").await, 200, "one link each");
    let (count, real) = user_count(&app, world.a).await;
    assert_eq!(count, real);
}

#[sqlx::test]
async fn an_exported_file_imports_back_as_the_same_users(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let acme = world.customer_in(world.a, world.companies["I"], kind, None, "Acme, Inc.").await;
    let bolt = world.customer_in(world.a, world.companies["D"], kind, None, "=Bolt").await;
    fix_customer_count(&app, world.a).await;
    for (customer, email, first, last, phone, description) in [
        (acme, "ann@acme.test", "Ann", "O'Neil", Some("+4930123456"), Some("=HYPERLINK(\"x\")")),
        (acme, "bob@acme.test", "Bob", "Smith, Jr.", None, Some("two\nlines")),
        (bolt, "cy@bolt.test", "-Cy", "@Bolt", Some("+14155550100"), None),
    ] {
        sqlx::query(
            "INSERT INTO users (account_id, kind, email, display_name, first_name, last_name, phone, description, customer_id, status)
             VALUES ($1, 'customer', $2, $3 || ' ' || $4, $3, $4, $5, $6, $7, 'invited')",
        )
        .bind(world.a)
        .bind(email)
        .bind(first)
        .bind(last)
        .bind(phone)
        .bind(description)
        .bind(customer)
        .execute(app.db())
        .await
        .unwrap();
    }
    let admin = actors.admin();
    let exported = admin.get_page("/export/customer-users.csv").await;
    assert_eq!(exported.status, StatusCode::OK);
    let body = String::from_utf8(exported.body.to_vec()).unwrap();

    // Over the same users, every row is unchanged.
    let id = upload(admin, "users.csv", &body).await;
    let view = checked(admin, id, &[("existing", "update")]).await;
    assert_eq!(view.totals, Totals { create: 0, update: 0, skip: 3, error: 0 }, "{:?}", outcomes(&app, id).await);

    // Gone and imported again, they come back the same.
    sqlx::query("DELETE FROM users WHERE account_id = $1 AND kind = 'customer'").bind(world.a).execute(app.db()).await.unwrap();
    let id = upload(admin, "users.csv", &body).await;
    assert_eq!(checked(admin, id, &[]).await.totals, Totals { create: 3, ..Totals::default() }, "{:?}", outcomes(&app, id).await);
    start(admin, id).await;
    assert_eq!(wait(admin, id).await.status, ImportStatus::Done);
    let again = admin.get_page("/export/customer-users.csv").await;
    let details = |body: &[u8]| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new().has_headers(false).from_reader(body).records().map(|r| r.unwrap().iter().take(6).map(str::to_owned).collect()).collect()
    };
    assert_eq!(details(&again.body), details(&exported.body));
    assert_eq!(details(&again.body).len(), 4, "the header and three users");
}
