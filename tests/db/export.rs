//! CSV exports (issue 13): the file holds what the list shows, in its order, across many
//! batches; formula cells are neutralised and phone numbers kept; only what the caller may see
//! is in it; it needs a session with the permission, from the same site, and is audited.

use crate::{
    fixture::{Place, World},
    support::{Client, Response, TestApp, PASSWORD},
};
use axum::http::StatusCode;
use roster::{customers::ssr::export::COLUMNS, permissions::BuiltinRole, server::csv::restore};
use sqlx::PgPool;

async fn download(client: &mut Client<'_>, path_and_query: &str) -> Response {
    client.get_page(path_and_query).await
}

/// The file's rows (the header first), read as a spreadsheet would.
fn rows(res: &Response) -> Vec<Vec<String>> {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(res.headers.get("content-disposition").unwrap().to_str().unwrap().starts_with("attachment;"));
    let body = res.body.strip_prefix("\u{feff}".as_bytes()).expect("the file starts with a byte order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn titles_in(app: &TestApp, sql: &str, account: i64) -> Vec<String> {
    sqlx::query_scalar(sql).bind(account).fetch_all(app.db()).await.unwrap()
}

#[sqlx::test]
async fn the_export_holds_what_the_list_shows_in_its_order_across_batches(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    // More rows than one batch reads, in several cities (and none).
    sqlx::query(
        "INSERT INTO customers (account_id, title, customer_type_id, owner_company_id, city, email)
         SELECT $1, 'Bulk ' || lpad(g::text, 5, '0'), $2, $3, (ARRAY['Berlin', 'Köln', 'Paris', NULL])[1 + g % 4], 'bulk' || g || '@x.test'
           FROM generate_series(1, 4500) g",
    )
    .bind(world.a)
    .bind(kind)
    .bind(world.companies["I"])
    .execute(app.db())
    .await
    .unwrap();
    let tricky = sqlx::query_scalar::<_, i64>(
        "INSERT INTO customers (account_id, title, customer_type_id, owner_company_id, company_name, phone, description, city)
         VALUES ($1, '=HYPERLINK(\"http://evil.test\")', $2, $3, 'Smith, John', '+4930123456', 'two\nlines \"quoted\"', 'Berlin')
         RETURNING id",
    )
    .bind(world.a)
    .bind(kind)
    .bind(world.companies["D"])
    .fetch_one(app.db())
    .await
    .unwrap();
    sqlx::query("UPDATE accounts SET customer_count = (SELECT count(*) FROM customers WHERE account_id = $1) WHERE id = $1")
        .bind(world.a)
        .execute(app.db())
        .await
        .unwrap();

    let all = rows(&download(actors.admin(), "/export/customers.csv").await);
    assert_eq!(all[0], COLUMNS);
    let exported: Vec<String> = all[1..].iter().map(|r| restore(&r[0]).to_owned()).collect();
    assert_eq!(exported, titles_in(&app, "SELECT title FROM customers WHERE account_id = $1 ORDER BY title_sort", world.a).await);

    let by_city = rows(&download(actors.admin(), "/export/customers.csv?sort=city&dir=desc&page=3&after=ignored").await);
    let exported: Vec<String> = by_city[1..].iter().map(|r| restore(&r[0]).to_owned()).collect();
    let expected = titles_in(
        &app,
        "SELECT title FROM customers WHERE account_id = $1 ORDER BY coalesce(city, '') DESC, title_sort DESC",
        world.a,
    )
    .await;
    assert_eq!(exported, expected, "the whole list in its order, not the page in the address");

    let searched = rows(&download(actors.admin(), "/export/customers.csv?q=K%C3%B6ln&sort=created").await);
    let expected = titles_in(
        &app,
        "SELECT title FROM customers WHERE account_id = $1 AND search LIKE '%köln%' ORDER BY created_at, id",
        world.a,
    )
    .await;
    assert_eq!(expected.len(), 1125);
    assert_eq!(searched[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), expected);

    // The dangerous title cannot run as a formula, and reads back as it was; the phone number is data.
    let row = all.iter().find(|r| r[0].contains("HYPERLINK")).unwrap();
    assert_eq!(row[0], "'=HYPERLINK(\"http://evil.test\")");
    assert_eq!(restore(&row[0]), "=HYPERLINK(\"http://evil.test\")");
    assert_eq!(row[1], "Smith, John");
    assert_eq!(row[3], "+4930123456");
    assert_eq!(row[10], "two\nlines \"quoted\"");
    assert_eq!(row[12], "D");
    let _ = tricky;

    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE account_id = $1 AND action = 'customers.exported'")
        .bind(world.a)
        .fetch_one(app.db())
        .await
        .unwrap();
    assert_eq!(audited, 3, "every export is in the audit log");
}

#[sqlx::test]
async fn an_export_holds_only_what_the_caller_may_see(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mine = world.fresh_customer(Place::InScope).await;
    let beside = world.fresh_customer(Place::OutOfScope).await;
    let elsewhere = world.fresh_customer(Place::OtherAccount).await;
    let title = |id: i64| {
        let db = app.db().clone();
        async move { sqlx::query_scalar::<_, String>("SELECT title FROM customers WHERE id = $1").bind(id).fetch_one(&db).await.unwrap() }
    };
    let (mine, beside, elsewhere) = (title(mine).await, title(beside).await, title(elsewhere).await);

    // A manager placed in D: D and I only.
    let scoped = rows(&download(actors.get(BuiltinRole::CommonManager), "/export/customers.csv").await);
    let titles: Vec<&str> = scoped[1..].iter().map(|r| r[0].as_str()).collect();
    let in_branch = titles_in(
        &app,
        "SELECT c.title FROM customers c JOIN companies o ON o.account_id = c.account_id AND o.id = c.owner_company_id
          WHERE c.account_id = $1 AND o.path @> ARRAY[(SELECT id FROM companies WHERE account_id = $1 AND name = 'D')]
          ORDER BY c.title_sort",
        world.a,
    )
    .await;
    assert_eq!(titles, in_branch);
    assert!(titles.contains(&mine.as_str()) && !titles.contains(&beside.as_str()) && !titles.contains(&elsewhere.as_str()));
    // Asking for the sibling branch by the owner filter gives nothing beyond the scope.
    let sibling = rows(&download(actors.get(BuiltinRole::CommonManager), &format!("/export/customers.csv?owner={}", world.companies["S"])).await);
    assert_eq!(sibling.len(), 1, "{sibling:?}");

    // Account B's Administrator sees none of account A's customers.
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    let theirs = rows(&download(&mut b_admin, "/export/customers.csv").await);
    assert!(theirs[1..].iter().all(|r| r[0] != mine && r[0] != beside), "{theirs:?}");
    assert!(theirs[1..].iter().any(|r| r[0] == elsewhere));
}

#[sqlx::test]
async fn an_export_needs_a_session_with_the_permission_from_the_same_site(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    world.fresh_customer(Place::InScope).await;
    let audited = || {
        let db = app.db().clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE action = 'customers.exported'").fetch_one(&db).await.unwrap() }
    };

    let anonymous = download(&mut app.client(), "/export/customers.csv").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text());
    assert!(!anonymous.text().contains("Target customer"));

    // Someone whose role lacks Customers – View.
    let role = world.fresh_role(Place::InScope).await;
    let user = world.user(world.a, world.companies["D"], "owner", "noview@a.test", "active").await;
    sqlx::query("UPDATE users SET role_id = $2 WHERE id = $1").bind(user).bind(role).execute(app.db()).await.unwrap();
    let mut no_view = app.client();
    assert!(no_view.sign_in("noview@a.test", PASSWORD).await.status.is_success());
    assert_eq!(download(&mut no_view, "/export/customers.csv").await.status, StatusCode::FORBIDDEN);

    // A link on another site cannot make a signed-in browser take a copy.
    let cookie = actors.admin().cookie.clone();
    let mut cross = app.client().with_header("sec-fetch-site", "cross-site");
    cross.cookie = cookie;
    assert_eq!(download(&mut cross, "/export/customers.csv").await.status, StatusCode::FORBIDDEN);
    assert_eq!(audited().await, 0, "a refused export is not one");
}

#[sqlx::test]
async fn the_audit_export_holds_the_callers_branch_in_the_date_range_newest_first(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let mine = world.fresh_customer(Place::InScope).await;
    let beside = world.fresh_customer(Place::OutOfScope).await;
    // Many entries over three days: more than one batch, half about a customer in I, half
    // about one in S; and account-level ones; and account B's.
    sqlx::query(
        "INSERT INTO audit_events (account_id, occurred_at, actor_label, action, record_type, record_id, changes, record_company_id)
         SELECT $1, timestamptz '2026-11-10 00:00:00+00' + g * interval '1 minute', 'bulk@a.test', 'customer.updated', 'customer',
                CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END::text, jsonb_build_object('city', jsonb_build_object('from', 'A' || g, 'to', '=B' || g)),
                CASE WHEN g % 2 = 0 THEN $4 ELSE $5 END
           FROM generate_series(1, 4300) g",
    )
    .bind(world.a)
    .bind(mine)
    .bind(beside)
    .bind(world.companies["I"])
    .bind(world.companies["S"])
    .execute(app.db())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO audit_events (account_id, occurred_at, actor_label, action, record_type, record_id)
         VALUES ($1, '2026-11-11 12:00:00+00', 'admin@a.test', 'account.settings_updated', 'account', $1::text),
                ($2, '2026-11-11 12:00:00+00', 'admin@b.test', 'customer.updated', 'customer', '1')",
    )
    .bind(world.a)
    .bind(world.b)
    .execute(app.db())
    .await
    .unwrap();
    let expected = |sql: &'static str| {
        let db = app.db().clone();
        let a = world.a;
        async move { sqlx::query_scalar::<_, String>(sql).bind(a).fetch_all(&db).await.unwrap() }
    };

    let all = rows(&download(actors.admin(), "/export/audit.csv?from=2026-11-10&to=2026-11-11").await);
    assert_eq!(all[0], roster::audit::ssr::COLUMNS);
    let times: Vec<String> = all[1..].iter().map(|r| r[0].clone()).collect();
    let want = expected(
        "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM audit_events
          WHERE account_id = $1 AND occurred_at >= '2026-11-10' AND occurred_at < '2026-11-12' ORDER BY occurred_at DESC, id DESC",
    )
    .await;
    assert!(want.len() > 2_000, "more than one batch: {}", want.len());
    assert_eq!(times, want);
    assert!(all.iter().any(|r| r[2] == "account.settings_updated"));
    assert!(all[1..].iter().all(|r| r[1] != "admin@b.test"), "another account's entries are not in it");
    // The changes read as they do on the page: field, old value, new value.
    let change = all.iter().find(|r| r[2] == "customer.updated").unwrap();
    assert!(change[6].starts_with("city: A") && change[6].contains("→ =B"), "{:?}", change[6]);

    // A manager placed in D: only the entries about I's customer, none about S's, none of the account's.
    let scoped = rows(&download(actors.get(BuiltinRole::CommonManager), "/export/audit.csv?from=2026-11-10&to=2026-11-11").await);
    assert!(scoped.len() > 1_000, "{}", scoped.len());
    assert!(scoped[1..].iter().all(|r| r[4] != beside.to_string()), "no entry about a customer beside the branch");
    assert!(scoped[1..].iter().all(|r| r[2] != "account.settings_updated"));
    assert!(scoped[1..].iter().any(|r| r[4] == mine.to_string()));

    // A date that is not one is refused before any file starts.
    let res = download(actors.admin(), "/export/audit.csv?from=yesterday").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text());
    assert!(res.text().contains("YYYY-MM-DD"), "{}", res.text());
}

/// The staff list's pages in order, as the Users page reads them (page size 10): forward by
/// the next-page cursor to the end, then back by the previous-page cursor to the start, which
/// must give the same pages.
async fn listed_emails(client: &mut Client<'_>, sort: &str, desc: bool) -> Vec<String> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor: Option<(&str, i64)> = None;
    let mut backward_from = None;
    loop {
        let cursor_text = cursor.map(|(_, id)| id.to_string()).unwrap_or_default();
        let mut form = vec![
            ("query[q]", ""), ("query[status]", ""), ("query[sort]", sort), ("query[desc]", if desc { "true" } else { "false" }),
            ("query[page]", "1"), ("query[size]", "10"),
        ];
        if let Some((key, _)) = cursor {
            form.push((key, &cursor_text));
        }
        let res = client.call("users", &form).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let list: roster::users::UserList = res.json();
        let emails: Vec<String> = list.users.iter().map(|u| u.email.clone()).collect();
        assert!(emails.len() <= 10);
        match backward_from {
            None => {
                pages.push(emails);
                match list.next {
                    Some(next) => cursor = Some(("query[after]", next)),
                    None => {
                        let total: usize = pages.iter().map(Vec::len).sum();
                        assert_eq!(total as i64, list.total, "the pages hold every user once");
                        match list.previous {
                            Some(previous) => {
                                backward_from = Some(pages.len() - 1);
                                cursor = Some(("query[before]", previous));
                            }
                            None => break,
                        }
                    }
                }
            }
            Some(ref mut at) => {
                *at -= 1;
                assert_eq!(emails, pages[*at], "back one page: sorted by {sort}, descending {desc}");
                match list.previous {
                    Some(previous) => cursor = Some(("query[before]", previous)),
                    None => {
                        assert_eq!(*at, 0, "the first page has no previous page");
                        break;
                    }
                }
            }
        }
    }
    pages.concat()
}

#[sqlx::test]
async fn the_staff_export_is_the_list_in_its_order_for_every_sort(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    // Ties on purpose: the same names, roles, companies and sign-in times.
    let roles = ["owner", "common_manager", "operations_engineer"];
    for i in 0..32 {
        let company = ["D", "I", "S"][i % 3];
        let email = format!("staff{i:02}@a.test");
        let id = world.user(world.a, world.companies[company], roles[i % 3], &email, "active").await;
        sqlx::query("UPDATE users SET display_name = $2, last_sign_in_at = CASE WHEN $3 THEN NULL ELSE timestamptz '2026-11-20 10:00:00+00' + ($4 % 5) * interval '1 hour' END WHERE id = $1")
            .bind(id)
            .bind(format!("Person {}", i % 7))
            .bind(i % 4 == 0)
            .bind(i as i32)
            .execute(app.db())
            .await
            .unwrap();
    }
    for (sort, desc) in [("name", false), ("name", true), ("email", true), ("role", false), ("role", true), ("company", true), ("status", false), ("last_sign_in", false), ("last_sign_in", true)] {
        let listed = listed_emails(actors.admin(), sort, desc).await;
        let query = format!("/export/users.csv?sort={sort}{}", if desc { "&dir=desc" } else { "" });
        let file = rows(&download(actors.admin(), &query).await);
        assert_eq!(file[0], roster::users::ssr::people::EXPORT_COLUMNS);
        let exported: Vec<String> = file[1..].iter().map(|r| r[1].clone()).collect();
        assert_eq!(exported, listed, "sorted by {sort}, descending {desc}");
    }
    // A manager placed in D exports D and I only.
    let scoped = rows(&download(actors.get(BuiltinRole::CommonManager), "/export/users.csv").await);
    assert!(scoped[1..].iter().all(|r| r[3] == "D" || r[3] == "I"), "{scoped:?}");
    assert_eq!(scoped.len() - 1, listed_emails(actors.get(BuiltinRole::CommonManager), "name", false).await.len());
    // Account B's Administrator sees none of A's people.
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    let theirs = rows(&download(&mut b_admin, "/export/users.csv").await);
    assert!(theirs[1..].iter().all(|r| !r[1].ends_with("@a.test")), "{theirs:?}");
    // A page cursor is a user of the caller's own scope: one of A's is not found for B, nor one
    // of S for the manager in D.
    let a_user = world.actor_ids["owner"].to_string();
    let res = b_admin.call("users", &[("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "2"), ("query[size]", "10"), ("query[after]", &a_user)]).await;
    assert_eq!(res.error(), roster::error::AppError::NotFound);
    let in_s = world.user(world.a, world.companies["S"], "owner", "far@a.test", "active").await.to_string();
    let res = actors.get(BuiltinRole::CommonManager).call("users", &[("query[q]", ""), ("query[status]", ""), ("query[sort]", ""), ("query[desc]", "false"), ("query[page]", "1"), ("query[size]", "10"), ("query[before]", &in_s)]).await;
    assert_eq!(res.error(), roster::error::AppError::NotFound);
}

#[sqlx::test]
async fn the_customer_user_export_holds_one_customers_people_or_the_branchs(db: PgPool) {
    let app = TestApp::new(db);
    let (world, mut actors) = World::build(&app).await.split();
    let kind = world.default_type(Place::InScope).await;
    let mine = world.customer_in(world.a, world.companies["I"], kind, None, "Mine Solar").await;
    let beside = world.customer_in(world.a, world.companies["S"], kind, None, "Beside Solar").await;
    for (customer, email) in [(mine, "b@mine.test"), (mine, "a@mine.test"), (beside, "x@beside.test")] {
        world.customer_user_in(world.a, customer, email).await;
    }
    sqlx::query("UPDATE users SET phone = '+4930123456', description = '@risky' WHERE email = 'a@mine.test'").execute(app.db()).await.unwrap();

    let one = rows(&download(actors.admin(), &format!("/export/customer-users.csv?customer={mine}")).await);
    assert_eq!(one[0], roster::customer_users::ssr::EXPORT_COLUMNS);
    let emails: Vec<&str> = one[1..].iter().map(|r| r[3].as_str()).collect();
    assert_eq!(emails.len(), 2);
    assert!(emails.contains(&"a@mine.test") && emails.contains(&"b@mine.test"));
    let a = one.iter().find(|r| r[3] == "a@mine.test").unwrap();
    assert_eq!((a[0].as_str(), a[4].as_str(), a[5].as_str(), a[6].as_str()), ("Mine Solar", "+4930123456", "'@risky", "Active"));

    // A manager placed in D: the branch's customers' people, never S's, and S's customer is not found.
    let manager = actors.get(BuiltinRole::CommonManager);
    let branch = rows(&download(manager, "/export/customer-users.csv").await);
    assert!(branch[1..].iter().all(|r| r[0] != "Beside Solar"), "{branch:?}");
    assert!(branch[1..].iter().any(|r| r[0] == "Mine Solar"));
    let refused = download(manager, &format!("/export/customer-users.csv?customer={beside}")).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert!(!refused.text().contains("beside.test"));
    let mut b_admin = app.client();
    assert!(b_admin.sign_in("admin@b.test", PASSWORD).await.status.is_success());
    assert_eq!(download(&mut b_admin, &format!("/export/customer-users.csv?customer={mine}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(download(&mut b_admin, "/export/customer-users.csv?customer=abc").await.status, StatusCode::NOT_FOUND);
}
