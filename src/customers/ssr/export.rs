//! The customer list as a CSV file (issue 13): the rows the list shows for the same search,
//! filters, sort and scope, read by keyset in batches inside one read-only snapshot and handed
//! on as they are written, so the first bytes leave at once and memory stays flat.

use super::list::{cursor_of, filters_for, head, Page};
use crate::{
    customers::CustomerQuery,
    permissions::grant::CustomersView,
    server::{
        capability::Allowed,
        csv::CsvWriter,
        download::{Sink, Stopped},
    },
};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgPool, Row};
use std::collections::HashMap;

/// The file's columns; the importer knows them by these names.
pub const COLUMNS: [&str; 16] = [
    "Title",
    "Company name",
    "E-mail",
    "Phone",
    "Country",
    "State",
    "City",
    "Address",
    "Address line 2",
    "ZIP",
    "Description",
    "Customer type",
    "Owner company",
    "Parent customer",
    "Groups",
    "Created",
];

/// Rows read per query: large enough that the round trips cost little, small enough that a
/// batch is a fraction of a megabyte.
const BATCH: i64 = 2_000;
/// Bytes gathered before they are handed on.
const CHUNK: usize = 256 * 1024;

/// Writes every customer the list would show for `query` into `sink`; returns how many.
pub async fn export(db: &PgPool, allowed: &Allowed<'_, CustomersView>, query: &CustomerQuery, sink: &mut Sink) -> Result<u64, Stopped> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let mut tx = crate::server::download::snapshot(db).await?;
    let head = head(&mut tx, staff, query).await?;
    let filters = filters_for(&head, query);
    let names = |rows: Vec<(i64, String)>| rows.into_iter().collect::<HashMap<i64, String>>();
    let types = names(sqlx::query!("SELECT id, name FROM customer_types WHERE account_id = $1", account_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect());
    let companies = names(sqlx::query!("SELECT id, name FROM companies WHERE account_id = $1", account_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect());
    let groups = names(sqlx::query!("SELECT id, name FROM customer_groups WHERE account_id = $1", account_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect());

    let mut csv = CsvWriter::new();
    csv.row(COLUMNS);
    let mut cursor = None;
    let mut written = 0u64;
    loop {
        let page = Page { account_id, sort: query.sort, ascending: !query.desc, cursor: cursor.as_ref(), limit: BATCH, offset: 0 };
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT c.id, c.title, c.company_name, c.email, c.phone, c.country, c.state, c.city, c.address, c.address2, \
             c.zip, c.description, c.customer_type_id, c.owner_company_id, c.group_ids, c.created_at, c.title_sort, \
             coalesce(c.city, '') AS city_key, coalesce(c.country, '') AS country_key, coalesce(c.email_sort, '') AS email_key, \
             (SELECT p.title FROM customers p WHERE p.account_id = c.account_id AND p.id = c.parent_id) AS parent_title \
             FROM customers c WHERE c.account_id = ",
        );
        qb.push_bind(account_id);
        filters.push(&mut qb);
        page.push_keyset(&mut qb);
        page.push_tail(&mut qb, false);
        let rows = qb.build().fetch_all(&mut *tx).await?;
        let Some(last) = rows.last() else { break };
        let next = cursor_of(last, query.sort)?;
        for r in &rows {
            let text = |name: &str| r.try_get::<Option<String>, _>(name);
            let group_ids: Vec<i64> = r.try_get("group_ids")?;
            let mut group_names: Vec<&str> = group_ids.iter().filter_map(|g| groups.get(g).map(String::as_str)).collect();
            group_names.sort_unstable();
            let created: DateTime<Utc> = r.try_get("created_at")?;
            csv.text(&r.try_get::<String, _>("title")?)
                .opt(text("company_name")?.as_deref())
                .opt(text("email")?.as_deref())
                .phone(text("phone")?.as_deref())
                .opt(text("country")?.as_deref())
                .opt(text("state")?.as_deref())
                .opt(text("city")?.as_deref())
                .opt(text("address")?.as_deref())
                .opt(text("address2")?.as_deref())
                .opt(text("zip")?.as_deref())
                .opt(text("description")?.as_deref())
                .opt(types.get(&r.try_get::<i64, _>("customer_type_id")?).map(String::as_str))
                .opt(companies.get(&r.try_get::<i64, _>("owner_company_id")?).map(String::as_str))
                .opt(text("parent_title")?.as_deref())
                .text(&group_names.join("; "))
                .plain(created.to_rfc3339_opts(SecondsFormat::Secs, true));
            csv.end_row();
            written += 1;
            if csv.len() >= CHUNK {
                sink.send(csv.take()).await?;
            }
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
        cursor = Some(next);
    }
    sink.send(csv.take()).await?;
    tx.commit().await?;
    Ok(written)
}

/// `GET /export/customers.csv?…` with the list's own query: the list as the caller sees it.
pub async fn download(axum::extract::State(state): axum::extract::State<crate::server::state::AppState>, req: axum::extract::Request) -> axum::response::Response {
    use crate::{
        server::{capability::require_staff, download},
        services::audit::{Action, Actor, Record},
    };
    download::answer(state, req, |state, parts| async move {
        let staff = require_staff().await?;
        let allowed = staff.allow::<CustomersView>()?;
        let query = CustomerQuery::from_pairs(|key| download::query_value(&parts, key));
        // Who took a copy of which customers is worth knowing later.
        let mut conn = state.db.acquire().await?;
        Actor::staff(&staff, state.clock.now())
            .audit(
                &mut conn,
                Action::CustomersExported,
                Record::account(staff.account_id()),
                serde_json::json!({
                    "search": query.q, "customer_type": query.customer_type, "group": query.group,
                    "owner": query.owner, "parent": query.parent, "sort": query.sort.as_str(), "descending": query.desc,
                }),
            )
            .await?;
        drop(conn);
        drop(allowed);
        Ok(download::csv_file("customers.csv", "customers", |mut writer| async move {
            let allowed = staff.allow::<CustomersView>()?;
            export(&state.db, &allowed, &query, &mut writer).await
        }))
    })
    .await
}
