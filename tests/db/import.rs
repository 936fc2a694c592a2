//! CSV imports (issue 13): the dry run decides every row and writes nothing; the import writes
//! what it said (all or nothing, or the valid rows only), re-deciding every row first; a job is
//! its uploader's alone; an interrupted import leaves nothing; an exported file imports back as
//! the same customers.

use crate::{
    fixture::{Place, World},
    support::{Client, Response, TestApp},
};
use axum::http::StatusCode;
use futures::future::join_all;
use roster::{
    error::AppError,
    imports::{ImportStatus, ImportView, Totals},
};

/// Uploads `content` and returns the new job's id (the page the browser is sent to).
async fn upload(client: &mut Client<'_>, name: &str, content: &[u8]) -> i64 {
    upload_to(client, "/import/customers", name, content).await
}

/// Uploads `content` to the upload route `path` and returns the new job's id.
pub(crate) async fn upload_to(client: &mut Client<'_>, path: &str, name: &str, content: &[u8]) -> i64 {
    let res = client.upload(path, name, content).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let location = res.headers.get("location").unwrap().to_str().unwrap().to_owned();
    location.strip_prefix("/customers/import/").expect("sent to the job's page").parse().unwrap()
}

pub(crate) async fn job(client: &mut Client<'_>, id: i64) -> ImportView {
    let res = client.call("import_job", &[("id", &id.to_string())]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

/// The dry run with the job's current settings, `changes` replacing or adding fields.
pub(crate) async fn check(client: &mut Client<'_>, id: i64, changes: &[(&str, &str)]) -> Response {
    let view = job(client, id).await;
    let s = &view.settings;
    let mut form: Vec<(String, String)> = vec![("id".into(), id.to_string())];
    form.extend(s.columns.iter().map(|c| ("columns[]".to_owned(), c.map(|c| c.to_string()).unwrap_or_default())));
    form.push(("customer_type_id".into(), s.customer_type_id.to_string()));
    form.push(("owner_company_id".into(), s.owner_company_id.to_string()));
    form.push(("group_id".into(), s.group_id.map(|g| g.to_string()).unwrap_or_default()));
    form.push(("existing".into(), "skip".into()));
    form.push(("mode".into(), "all_or_nothing".into()));
    for (key, value) in changes {
        match form.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = (*value).to_owned(),
            None => form.push(((*key).to_owned(), (*value).to_owned())),
        }
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.call("check_import", &pairs).await
}

pub(crate) async fn checked(client: &mut Client<'_>, id: i64, changes: &[(&str, &str)]) -> ImportView {
    let res = check(client, id, changes).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    job(client, id).await
}

pub(crate) async fn wait(client: &mut Client<'_>, id: i64) -> ImportView {
    for _ in 0..1200 {
        let view = job(client, id).await;
        if view.status != ImportStatus::Running {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

pub(crate) async fn start(client: &mut Client<'_>, id: i64) -> Response {
    client.call("start_import", &[("id", &id.to_string())]).await
}

pub(crate) type RowOutcome = (i32, String, Option<String>, Option<String>);

/// Each row's line, outcome, field and reason as the job keeps them.
pub(crate) async fn outcomes(app: &TestApp, id: i64) -> Vec<RowOutcome> {
    sqlx::query_as("SELECT line, outcome, field, message FROM import_rows WHERE job_id = $1 ORDER BY line")
        .bind(id)
        .fetch_all(app.db())
        .await
        .unwrap()
}

pub(crate) fn row(line: i32, outcome: &str, field: Option<&str>, message: Option<&str>) -> RowOutcome {
    (line, outcome.to_owned(), field.map(str::to_owned), message.map(str::to_owned))
}

async fn titles(app: &TestApp, account: i64, like: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT title FROM customers WHERE account_id = $1 AND title LIKE $2 ORDER BY title_sort")
        .bind(account)
        .bind(like)
        .fetch_all(app.db())
        .await
        .unwrap()
}

async fn customer_count(app: &TestApp, account: i64) -> (i64, i64) {
    sqlx::query_as("SELECT customer_count, (SELECT count(*) FROM customers WHERE account_id = $1) FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(app.db())
        .await
        .unwrap()
}

async fn fix_counters(app: &TestApp, account: i64) {
    sqlx::query("UPDATE accounts SET customer_count = (SELECT count(*) FROM customers WHERE account_id = $1) WHERE id = $1")
        .bind(account)
        .execute(app.db())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE customer_groups g SET member_count = (SELECT count(*) FROM customers c WHERE c.account_id = g.account_id AND g.id = ANY(c.group_ids))
          WHERE account_id = $1",
    )
    .bind(account)
    .execute(app.db())
    .await
    .unwrap();
}

#[sqlx::test]
async fn the_dry_run_says_what_each_row_will_do_and_writes_nothing(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Existing Co").await;
    fix_counters(&app, world.a).await;
    let file = "Title,E-mail,City,Customer type,Parent customer\n\
                New One,one@x.test,Berlin,,\n\
                Bad Mail,not-an-address,Köln,,\n\
                NEW ONE,dup@x.test,Paris,,\n\
                existing co,,Berlin,,\n\
                Odd Type,,,Gold,\n\
                Child,,,,New One\n\
                Orphan,,,,Nobody\n\
                Loop A,,,,Loop B\n\
                Loop B,,,,Loop A\n\
                Under Bad,,,,Bad Mail\n";
    let admin = actors.admin();
    let before = world.fingerprint().await;
    let id = upload(admin, "customers.csv", file.as_bytes()).await;
    let view = checked(admin, id, &[]).await;
    assert_eq!(view.status, ImportStatus::Checked);
    assert_eq!(view.totals, Totals { create: 2, update: 0, skip: 1, error: 7 });
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[0], row(2, "create", None, None));
    assert_eq!((rows[1].1.as_str(), rows[1].2.as_deref()), ("error", Some("E-mail")));
    assert_eq!(rows[2], row(4, "error", Some("Title"), Some("Line 2 has the same title.")));
    assert_eq!(rows[3], row(5, "skip", None, Some("A customer with this title exists: skipped.")));
    assert_eq!(rows[4], row(6, "error", Some("Customer type"), Some("No customer type is called “Gold”.")));
    assert_eq!(rows[5], row(7, "create", None, None));
    assert_eq!(rows[6], row(8, "error", Some("Parent customer"), Some("No customer you manage, and no row of this file, has this title.")));
    assert_eq!(rows[7], row(9, "error", Some("Parent customer"), Some("The parents of lines 9, 10 form a loop.")));
    assert_eq!(rows[8], row(10, "error", Some("Parent customer"), Some("The parents of lines 10, 9 form a loop.")));
    assert_eq!(rows[9], row(11, "error", Some("Parent customer"), Some("Its parent, line 3, has an error.")));

    // With updating chosen, the existing title is an update: still nothing written.
    let view = checked(admin, id, &[("existing", "update")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 1, skip: 0, error: 7 });
    assert_eq!(outcomes(&app, id).await[3], row(5, "update", None, None));
    // All or nothing with error rows does not start.
    let refused = start(admin, id).await;
    assert!(matches!(refused.error(), AppError::Refused(_)), "{}", refused.text());
    assert_eq!(job(admin, id).await.status, ImportStatus::Checked);
    assert_eq!(world.fingerprint().await, before, "neither the upload, the dry runs nor the refused start wrote anything else");

    // The error rows come back as the file had them, with the reason last.
    let res = admin.get_page(&format!("/import/{id}/errors.csv")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let text = res.text();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("Title,E-mail,City,Customer type,Parent customer,Error"));
    let bad = lines.next().unwrap();
    assert!(bad.starts_with("Bad Mail,not-an-address,Köln,,,") && bad.contains("E-mail: "), "{bad}");
    assert_eq!(lines.next(), Some("NEW ONE,dup@x.test,Paris,,,Title: Line 2 has the same title."));
    assert_eq!(text.lines().count(), 8, "the header and the seven error rows");
}

#[sqlx::test]
async fn valid_only_writes_exactly_the_valid_rows_and_reports_rows_that_changed(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let admin = actors.admin();
    let long_city = "x".repeat(61);
    let file = format!("Title,City\nAlpha,Berlin\nBeta,Köln\nGamma,\nBad,{long_city}\nDelta,Paris\n");
    let id = upload(admin, "valid.csv", file.as_bytes()).await;
    let view = checked(admin, id, &[("mode", "valid_only")]).await;
    assert_eq!(view.totals, Totals { create: 4, update: 0, skip: 0, error: 1 });

    // Between the check and the import, someone adds "Gamma" by hand.
    world.customer_in(world.a, world.companies["D"], kind, None, "Gamma").await;
    fix_counters(&app, world.a).await;
    let (count_before, _) = customer_count(&app, world.a).await;
    let res = start(admin, id).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Done, "{:?}", view.message);
    assert_eq!(view.totals, Totals { create: 3, update: 0, skip: 1, error: 1 });
    assert_eq!(view.changed, 1, "Gamma would have been created, and was skipped");
    assert_eq!((view.done, view.total), (3, 3));
    assert_eq!(titles(&app, world.a, "%").await, ["Alpha", "Beta", "Delta", "Gamma"]);
    let changed: Vec<(i32, String, bool)> = sqlx::query_as("SELECT line, outcome, changed FROM import_rows WHERE job_id = $1 AND changed")
        .bind(id)
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(changed, [(4, "skip".to_owned(), true)]);
    let (count, real) = customer_count(&app, world.a).await;
    assert_eq!((count, real), (count_before + 3, count_before + 3), "the plan's counter counts the imported customers");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND action = 'customer.created' AND (changes->>'import')::bigint = $2
            AND record_company_id IS NOT NULL AND actor_label = 'administrator@a.test'",
    )
    .bind(world.a)
    .bind(id)
    .fetch_one(app.db())
    .await
    .unwrap();
    assert_eq!(audited, 3, "one audit row per created customer");
    let summary: serde_json::Value = sqlx::query_scalar("SELECT changes FROM audit_events WHERE account_id = $1 AND action = 'customers.imported'")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(summary["created"], 3);
    assert_eq!(summary["errors"], 1);
    assert_eq!(summary["changed_since_check"], 1);
    assert!(matches!(start(admin, id).await.error(), AppError::Refused(_)), "a finished import does not run twice");
}

#[sqlx::test]
async fn all_or_nothing_writes_nothing_when_a_row_goes_bad_after_the_check(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let id = upload(admin, "three.csv", b"Title\nOne\nTwo\nThree\n").await;
    assert_eq!(checked(admin, id, &[]).await.totals, Totals { create: 3, ..Totals::default() });
    // The plan now has room for two more only.
    let (used, _) = customer_count(&app, world.a).await;
    sqlx::query("UPDATE accounts SET customer_limit = $2 WHERE id = $1").bind(world.a).bind(used + 2).execute(app.db()).await.unwrap();
    let before = world.fingerprint().await;
    assert_eq!(start(admin, id).await.status, StatusCode::OK);
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Failed);
    assert!(view.message.as_deref().unwrap().contains("nothing was imported"), "{:?}", view.message);
    assert_eq!(view.changed, 1);
    assert_eq!(world.fingerprint().await, before, "no customer, counter or audit row");
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[2].1, "error");
    assert!(rows[2].3.as_deref().unwrap().starts_with("Over your plan's limit"), "{:?}", rows[2]);
    // Checked again as valid rows only, the two that fit go in.
    let view = checked(admin, id, &[("mode", "valid_only")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 0, skip: 0, error: 1 });
    start(admin, id).await;
    assert_eq!(wait(admin, id).await.status, ImportStatus::Done);
    assert_eq!(titles(&app, world.a, "%").await, ["One", "Two"]);
    let (count, real) = customer_count(&app, world.a).await;
    assert_eq!((count, real), (used + 2, used + 2));
}

#[sqlx::test]
async fn files_that_cannot_be_read_name_the_line(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let before = world.fingerprint().await;
    let latin1 = b"Title,City\nA,Berlin\nB,K\xf6ln\n";
    let id = upload(admin, "latin1.csv", latin1).await;
    let view = job(admin, id).await;
    assert_eq!(view.status, ImportStatus::Unreadable);
    assert_eq!(view.message.as_deref(), Some("Line 3 is not UTF-8 text (byte 0xF6). Save the file as “CSV UTF-8” and upload it again."));
    assert!(matches!(check(admin, id, &[]).await.error(), AppError::Validation(_) | AppError::Refused(_)));

    let id = upload(admin, "quotes.csv", b"Title,City\nA,Berlin\nB,\"Paris\nC,Rome\n").await;
    assert_eq!(job(admin, id).await.message.as_deref(), Some("Line 3: a quoted cell is opened and never closed."));
    let id = upload(admin, "after.csv", b"Title,City\nA,\"Berlin\"x\n").await;
    assert!(job(admin, id).await.message.unwrap().starts_with("Line 2: there is text after a closing quote"));

    // Semicolons, a byte order mark, quoted separators and line breaks read as they are meant.
    let id = upload(admin, "semi.csv", "\u{feff}Titel;Stadt;Notes\n\"Müller; Söhne\";Köln;\"two\nlines\"\nSchmidt;Bonn;x\n".as_bytes()).await;
    let view = job(admin, id).await;
    assert_eq!(view.status, ImportStatus::Uploaded);
    assert_eq!(view.headers, ["Titel", "Stadt", "Notes"]);
    assert_eq!(view.rows, 2);
    // "Titel" and "Stadt" are not English headers: mapped by hand.
    let mut columns = vec![String::new(); 15];
    columns[0] = "0".into();
    columns[6] = "1".into();
    columns[10] = "2".into();
    let mut form = vec![("id", id.to_string())];
    form.extend(columns.into_iter().map(|c| ("columns[]", c)));
    form.push(("customer_type_id", view.settings.customer_type_id.to_string()));
    form.push(("owner_company_id", view.settings.owner_company_id.to_string()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(admin.call("check_import", &pairs).await.status, StatusCode::OK);
    assert_eq!(outcomes(&app, id).await, [row(2, "create", None, None), row(4, "create", None, None)]);
    start(admin, id).await;
    assert_eq!(wait(admin, id).await.status, ImportStatus::Done);
    let (city, description): (String, String) =
        sqlx::query_as("SELECT city, description FROM customers WHERE account_id = $1 AND title = 'Müller; Söhne'")
            .bind(world.a)
            .fetch_one(app.db())
            .await
            .unwrap();
    assert_eq!((city.as_str(), description.as_str()), ("Köln", "two\nlines"));
    assert_ne!(world.fingerprint().await, before);
}

#[sqlx::test]
async fn an_exported_file_imports_back_as_the_same_customers(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let standard = world.default_type(Place::InScope).await;
    let gold: i64 = sqlx::query_scalar("INSERT INTO customer_types (account_id, name) VALUES ($1, 'Gold') RETURNING id")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    let vip: i64 = sqlx::query_scalar("INSERT INTO customer_groups (account_id, name) VALUES ($1, 'VIP') RETURNING id")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    let north: i64 = sqlx::query_scalar("INSERT INTO customer_groups (account_id, name) VALUES ($1, 'North') RETURNING id")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    let formula: i64 = sqlx::query_scalar(
        "INSERT INTO customers (account_id, title, company_name, email, phone, country, state, city, address, address2, zip, description,
                                customer_type_id, owner_company_id, group_ids)
         VALUES ($1, '=SUM(A1)', 'Smith, John', 'sum@x.test', '+4930123456', 'Germany', 'NRW', 'Köln', 'Ring 1', 'Hof 2', '50667',
                 'two\nlines \"quoted\"', $2, $3, ARRAY[$4, $5]::bigint[])
         RETURNING id",
    )
    .bind(world.a)
    .bind(gold)
    .bind(world.companies["D"])
    .bind(vip)
    .bind(north)
    .fetch_one(app.db())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO customers (account_id, title, customer_type_id, owner_company_id, parent_id, city, description)
         VALUES ($1, 'Child Co', $2, $3, $4, '-5 Nord', '@mention'), ($1, '''Quoted', $2, $5, NULL, NULL, '+not a phone')",
    )
    .bind(world.a)
    .bind(standard)
    .bind(world.companies["I"])
    .bind(formula)
    .bind(world.companies["S"])
    .execute(app.db())
    .await
    .unwrap();
    fix_counters(&app, world.a).await;
    let admin = actors.admin();
    let exported = admin.get_page("/export/customers.csv").await;
    assert_eq!(exported.status, StatusCode::OK);

    // Imported over the same customers, every row is unchanged.
    let id = upload(admin, "customers.csv", &exported.body).await;
    let view = checked(admin, id, &[("existing", "update")]).await;
    assert_eq!(view.totals, Totals { create: 0, update: 0, skip: 3, error: 0 }, "{:?}", outcomes(&app, id).await);
    assert!(outcomes(&app, id).await.iter().all(|r| r.3.as_deref() == Some("No changes.")));

    // Gone and imported again, they come back the same.
    sqlx::query("UPDATE customers SET parent_id = NULL WHERE account_id = $1").bind(world.a).execute(app.db()).await.unwrap();
    sqlx::query("DELETE FROM customers WHERE account_id = $1").bind(world.a).execute(app.db()).await.unwrap();
    fix_counters(&app, world.a).await;
    let id = upload(admin, "customers.csv", &exported.body).await;
    assert_eq!(checked(admin, id, &[]).await.totals, Totals { create: 3, ..Totals::default() });
    start(admin, id).await;
    assert_eq!(wait(admin, id).await.status, ImportStatus::Done);
    let again = admin.get_page("/export/customers.csv").await;
    let without_created = |body: &[u8]| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(|r| {
                let r = r.unwrap();
                r.iter().take(r.len() - 1).map(str::to_owned).collect()
            })
            .collect()
    };
    assert_eq!(without_created(&again.body), without_created(&exported.body));
    let members: Vec<i64> = sqlx::query_scalar("SELECT member_count FROM customer_groups WHERE account_id = $1 ORDER BY name")
        .bind(world.a)
        .fetch_all(app.db())
        .await
        .unwrap();
    assert_eq!(members, [1, 1], "the group counters count the imported members");
}

#[sqlx::test]
async fn of_many_starts_at_once_one_runs_the_import(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let file: String = std::iter::once("Title,City".to_owned()).chain((1..=300).map(|i| format!("Burst {i:03},Berlin"))).collect::<Vec<_>>().join("\n");
    let id = upload(admin, "burst.csv", file.as_bytes()).await;
    checked(admin, id, &[]).await;
    let mut tabs: Vec<Client<'_>> = (0..30).map(|_| admin.same_session()).collect();
    let responses = join_all(tabs.iter_mut().map(|c| async move { start(c, id).await })).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || s.is_client_error()), "never a 500: {statuses:?}");
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Done);
    assert_eq!(titles(&app, world.a, "Burst %").await.len(), 300);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE account_id = $1 AND action = 'customers.imported'")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test]
async fn a_job_is_its_uploaders_alone(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let id = upload(actors.admin(), "mine.csv", b"Title\nMine\n").await;
    checked(actors.admin(), id, &[]).await;
    let mut other_admin = app.client();
    other_admin.sign_in("admin@b.test", crate::support::PASSWORD).await;
    let before = world.fingerprint().await;
    let colleague = actors.get(roster::permissions::BuiltinRole::CommonManager);
    for client in [colleague, &mut other_admin] {
        assert_eq!(client.call("import_job", &[("id", &id.to_string())]).await.error(), AppError::NotFound);
        assert_eq!(client.call("import_rows", &[("id", &id.to_string())]).await.error(), AppError::NotFound);
        assert_eq!(start(client, id).await.error(), AppError::NotFound);
        let mut form = vec![("id", id.to_string())];
        form.extend((0..15).map(|i| ("columns[]", if i == 0 { "0".to_owned() } else { String::new() })));
        form.push(("customer_type_id", "1".into()));
        form.push(("owner_company_id", "1".into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(client.call("check_import", &pairs).await.error(), AppError::NotFound);
        let res = client.get_page(&format!("/import/{id}/errors.csv")).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        assert!(!res.text().contains("Mine"));
    }
    assert_eq!(world.fingerprint().await, before);
    // Without a session, or from another site, nothing is kept.
    let jobs = app.count("SELECT count(*) FROM import_jobs").await;
    let res = app.client().upload("/import/customers", "x.csv", b"Title\nX\n").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let mut cross = actors.admin().same_session().with_header("origin", "https://evil.test");
    assert_eq!(cross.upload("/import/customers", "x.csv", b"Title\nX\n").await.status, StatusCode::FORBIDDEN);
    // Without Customers – Create (an Owner), no upload either.
    let owner = actors.get(roster::permissions::BuiltinRole::Owner);
    assert_eq!(owner.upload("/import/customers", "x.csv", b"Title\nX\n").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM import_jobs").await, jobs);
}

#[sqlx::test]
async fn a_scoped_importer_reaches_only_their_own_branch(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    world.customer_in(world.a, world.companies["S"], kind, None, "Elsewhere Ltd").await;
    world.customer_in(world.a, world.companies["I"], kind, None, "Ours Ltd").await;
    fix_counters(&app, world.a).await;
    // The Common Manager works in D (with I below it); S is a sibling branch.
    let manager = actors.get(roster::permissions::BuiltinRole::CommonManager);
    let file = "Title,Owner company,Parent customer\nNew Here,I,\nNew There,S,\nElsewhere Ltd,,\nUnder Theirs,,Elsewhere Ltd\nUnder Ours,,Ours Ltd\n";
    let id = upload(manager, "scoped.csv", file.as_bytes()).await;
    let view = job(manager, id).await;
    assert_eq!(view.settings.owner_company_id, world.companies["D"], "new customers go to the importer's company unless told");
    assert!(view.companies.iter().all(|(c, _)| *c != world.companies["S"]), "other branches are not offered");
    let view = checked(manager, id, &[("mode", "valid_only")]).await;
    assert_eq!(view.totals, Totals { create: 2, update: 0, skip: 0, error: 3 });
    let rows = outcomes(&app, id).await;
    assert_eq!(rows[1], row(3, "error", Some("Owner company"), Some("No company you manage is called “S”.")));
    assert_eq!(rows[2], row(4, "error", Some("Title"), Some("A customer with this title already exists.")));
    assert_eq!(rows[3].2.as_deref(), Some("Parent customer"));
    // A company outside the branch cannot be chosen for the rows either.
    let refused = check(manager, id, &[("owner_company_id", &world.companies["S"].to_string())]).await;
    assert!(matches!(refused.error(), AppError::Validation(e) if e.get("owner_company_id").is_some()));
    checked(manager, id, &[("mode", "valid_only")]).await;
    start(manager, id).await;
    assert_eq!(wait(manager, id).await.status, ImportStatus::Done);
    let owners: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT title, owner_company_id, parent_id FROM customers WHERE account_id = $1 AND title IN ('New Here', 'Under Ours') ORDER BY title",
    )
    .bind(world.a)
    .fetch_all(app.db())
    .await
    .unwrap();
    assert_eq!(owners[0].1, world.companies["I"]);
    assert_eq!(owners[1].1, world.companies["D"]);
    assert!(owners[1].2.is_some());
}

#[sqlx::test]
async fn an_interrupted_import_leaves_nothing(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    // The import is held inside its second batch, and its connection is then cut.
    sqlx::query(
        "CREATE FUNCTION hold_import() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.title = 'Row 1500' THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$",
    )
    .execute(app.db())
    .await
    .unwrap();
    sqlx::query("CREATE TRIGGER hold BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION hold_import()").execute(app.db()).await.unwrap();
    let file: String = std::iter::once("Title".to_owned()).chain((1..=2000).map(|i| format!("Row {i}"))).collect::<Vec<_>>().join("\n");
    let id = upload(admin, "long.csv", file.as_bytes()).await;
    checked(admin, id, &[]).await;
    let before = world.fingerprint().await;
    assert_eq!(start(admin, id).await.status, StatusCode::OK);
    // The progress is the job's: another instance (its own pool and state) shows it too.
    let other = crate::instances::second_instance(app.db(), |_| {}).await;
    let mut watcher = other.client();
    watcher.cookie = admin.cookie.clone();
    let mut seen = None;
    for _ in 0..400 {
        let view = job(&mut watcher, id).await;
        if view.done >= 1000 {
            seen = Some(view);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the first batch's progress shows on the other instance while the import runs");
    assert_eq!((seen.status, seen.total), (ImportStatus::Running, 2000));
    let mut cut = 0;
    for _ in 0..200 {
        cut = app.count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()").await;
        if cut > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(cut, 1);
    let view = wait(admin, id).await;
    assert_eq!(view.status, ImportStatus::Failed);
    assert!(view.message.unwrap().contains("nothing was imported"));
    assert_eq!(world.fingerprint().await, before, "the first batch went with the transaction");
    assert!(titles(&app, world.a, "Row %").await.is_empty());

    // A job whose server stopped (no heartbeat) reads as interrupted, and can be checked again.
    sqlx::query("UPDATE import_jobs SET status = 'running', heartbeat_at = now() - interval '1 day' WHERE id = $1").bind(id).execute(app.db()).await.unwrap();
    let view = job(admin, id).await;
    assert_eq!(view.status, ImportStatus::Interrupted);
    assert!(view.message.unwrap().contains("nothing was imported"));
    assert_eq!(checked(admin, id, &[]).await.status, ImportStatus::Checked);
}

#[sqlx::test]
async fn the_upload_route_takes_50_mb_and_no_more(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (_world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let jobs = app.count("SELECT count(*) FROM import_jobs").await;
    let mut big = b"Title,Description\n".to_vec();
    let line = format!("Row,{}\n", "x".repeat(1000));
    while big.len() < roster::imports::UPLOAD_LIMIT + 1024 {
        big.extend_from_slice(line.as_bytes());
    }
    let res = admin.upload("/import/customers", "big.csv", &big).await;
    assert!(res.status.is_client_error(), "{}", res.status);
    assert!(res.text().contains("larger than 50 MB"), "{}", res.text());
    assert_eq!(app.count("SELECT count(*) FROM import_jobs").await, jobs);
    // Well above the server functions' 64 KiB, below 50 MB: taken.
    big.truncate(2 * 1024 * 1024);
    let cut = big.iter().rposition(|&b| b == b'\n').unwrap();
    big.truncate(cut + 1);
    let id = upload(admin, "two-mb.csv", &big).await;
    assert_eq!(job(admin, id).await.status, ImportStatus::Uploaded);
}

#[sqlx::test]
async fn import_jobs_and_their_files_go_after_a_month(db: sqlx::PgPool) {
    let app = TestApp::new(db);
    let (_world, mut actors) = World::build(&app).await.split();
    let admin = actors.admin();
    let old = upload(admin, "old.csv", b"Title\nOld\n").await;
    checked(admin, old, &[]).await;
    let recent = upload(admin, "recent.csv", b"Title\nRecent\n").await;
    // Uploaded 31 and 11 days before now (the sessions would not last that long).
    for (id, days) in [(old, 31), (recent, 11)] {
        sqlx::query("UPDATE import_jobs SET created_at = created_at - make_interval(days => $2) WHERE id = $1")
            .bind(id)
            .bind(days)
            .execute(app.db())
            .await
            .unwrap();
    }
    roster::boot::workers::clean_up(&app.state).await.unwrap();
    assert_eq!(admin.call("import_job", &[("id", &old.to_string())]).await.error(), AppError::NotFound);
    assert_eq!(app.count(&format!("SELECT count(*) FROM import_rows WHERE job_id = {old}")).await, 0);
    assert_eq!(job(admin, recent).await.status, ImportStatus::Uploaded, "uploaded 11 days ago: kept");
}
