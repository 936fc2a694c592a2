//! Writes of many customers at once, for the CSV import: the rows, plan counters, group
//! counters and audit rows one-at-a-time writes make, in a few statements per batch. Each takes
//! the capability its one-at-a-time twin takes and checks the scope of what it touches.

use crate::{
    companies::ssr::scope_companies,
    customers::CustomerFields,
    error::AppError,
    permissions::grant::{CustomersCreate, CustomersEdit},
    server::{
        capability::{Allowed, Staff},
        errors::db_error,
    },
    services::audit::{Action, Actor},
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;

/// A customer found by its title, as an import compares it with a row of the file.
#[derive(Clone, Debug)]
pub struct Found {
    pub id: i64,
    pub fields: CustomerFields,
    pub customer_type_id: i64,
    pub owner_company_id: i64,
    pub parent_title: Option<String>,
    pub group_ids: Vec<i64>,
    /// Whether the caller may act on it (its owner is within their scope).
    pub in_scope: bool,
}

/// The account's customers with these titles (compared without case), keyed by the lower-case
/// title; locked for the transaction, so what the import decided still holds when it writes.
pub async fn by_titles(conn: &mut PgConnection, staff: &Staff, lower_titles: &[String]) -> Result<HashMap<String, Found>, AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    let mut found = HashMap::new();
    for chunk in lower_titles.chunks(5_000) {
        let rows = sqlx::query!(
            r#"SELECT c.id, c.title, c.title_sort AS "title_sort!", c.company_name, c.email, c.phone, c.country, c.state, c.city,
                      c.address, c.address2, c.zip, c.description, c.customer_type_id, c.owner_company_id, c.group_ids,
                      p.title AS "parent_title?",
                      ($3::bigint[] IS NULL OR c.owner_company_id = ANY($3)) AS "in_scope!"
                 FROM customers c
                 LEFT JOIN customers p ON p.account_id = c.account_id AND p.id = c.parent_id
                WHERE c.account_id = $1 AND c.title_sort = ANY($2)
                  FOR NO KEY UPDATE OF c"#,
            staff.account_id(),
            chunk,
            scope.as_deref()
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            let fields = CustomerFields {
                title: r.title,
                company_name: r.company_name,
                email: r.email,
                phone: r.phone,
                country: r.country,
                state: r.state,
                city: r.city,
                address: r.address,
                address2: r.address2,
                zip: r.zip,
                description: r.description,
            };
            found.insert(
                r.title_sort,
                Found {
                    id: r.id,
                    fields,
                    customer_type_id: r.customer_type_id,
                    owner_company_id: r.owner_company_id,
                    parent_title: r.parent_title,
                    group_ids: r.group_ids,
                    in_scope: r.in_scope,
                },
            );
        }
    }
    Ok(found)
}

/// A customer to create: its fields and where it goes. `parent_id` is an existing customer;
/// parents made in the same import are set afterwards with [`set_parents`].
pub struct NewRow {
    pub fields: CustomerFields,
    pub customer_type_id: i64,
    pub owner_company_id: i64,
    pub parent_id: Option<i64>,
    pub group_ids: Vec<i64>,
    /// What its audit row records.
    pub audit: Value,
}

/// Refuses owners outside the caller's scope and types and groups of other accounts.
async fn check_places(conn: &mut PgConnection, staff: &Staff, owners: &[i64], types: &[i64], groups: &[i64]) -> Result<(), AppError> {
    let distinct = |ids: &[i64]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let (owners, types, groups) = (distinct(owners), distinct(types), distinct(groups));
    let scope = scope_companies(&mut *conn, staff).await?;
    let ok = sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM companies WHERE account_id = $1 AND id = ANY($2) AND ($5::bigint[] IS NULL OR id = ANY($5))) = cardinality($2)
              AND (SELECT count(*) FROM customer_types WHERE account_id = $1 AND id = ANY($3)) = cardinality($3)
              AND (SELECT count(*) FROM customer_groups WHERE account_id = $1 AND id = ANY($4)) = cardinality($4) AS "ok!""#,
        staff.account_id(),
        &owners,
        &types,
        &groups,
        scope.as_deref()
    )
    .fetch_one(conn)
    .await?;
    if ok {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn group_literal(ids: &[i64]) -> String {
    format!("{{{}}}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// Creates `rows` in their order and returns their ids: counted in the plan's usage first
/// (refused as a whole past its limit, as [`super::insert`] refuses one), each audited as
/// created by the caller.
pub async fn create_many(
    conn: &mut PgConnection,
    allowed: &Allowed<'_, CustomersCreate>,
    rows: &[NewRow],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let owners: Vec<i64> = rows.iter().map(|r| r.owner_company_id).collect();
    let types: Vec<i64> = rows.iter().map(|r| r.customer_type_id).collect();
    let groups: Vec<i64> = rows.iter().flat_map(|r| r.group_ids.iter().copied()).collect();
    check_places(&mut *conn, staff, &owners, &types, &groups).await?;
    let parents: Vec<i64> = rows.iter().filter_map(|r| r.parent_id).collect();
    if !parents.is_empty() {
        let scope = scope_companies(&mut *conn, staff).await?;
        let mut distinct = parents.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let found = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM customers WHERE account_id = $1 AND id = ANY($2) AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))"#,
            account_id,
            &distinct,
            scope.as_deref()
        )
        .fetch_one(&mut *conn)
        .await?;
        if found != distinct.len() as i64 {
            return Err(AppError::NotFound);
        }
    }
    crate::services::usage::ssr::add_customers(&mut *conn, account_id, rows.len() as i64, now).await?;
    let text = |f: fn(&CustomerFields) -> &Option<String>| rows.iter().map(|r| f(&r.fields).clone()).collect::<Vec<_>>();
    let titles: Vec<String> = rows.iter().map(|r| r.fields.title.clone()).collect();
    let ids = sqlx::query_scalar!(
        r#"INSERT INTO customers (account_id, title, company_name, email, phone, country, state, city, address, address2,
                                  zip, description, customer_type_id, owner_company_id, parent_id, group_ids, created_at, updated_at)
           SELECT $1, u.title, u.company_name, u.email, u.phone, u.country, u.state, u.city, u.address, u.address2,
                  u.zip, u.description, u.type_id, u.owner_id, u.parent_id, u.groups::bigint[], $17, $17
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                         $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[])
                  WITH ORDINALITY AS u(title, company_name, email, phone, country, state, city, address, address2, zip,
                                       description, type_id, owner_id, parent_id, groups, n)
            ORDER BY u.n
           RETURNING id"#,
        account_id,
        &titles,
        &text(|f| &f.company_name) as &[Option<String>],
        &text(|f| &f.email) as &[Option<String>],
        &text(|f| &f.phone) as &[Option<String>],
        &text(|f| &f.country) as &[Option<String>],
        &text(|f| &f.state) as &[Option<String>],
        &text(|f| &f.city) as &[Option<String>],
        &text(|f| &f.address) as &[Option<String>],
        &text(|f| &f.address2) as &[Option<String>],
        &text(|f| &f.zip) as &[Option<String>],
        &text(|f| &f.description) as &[Option<String>],
        &types,
        &owners,
        &rows.iter().map(|r| r.parent_id).collect::<Vec<_>>() as &[Option<i64>],
        &rows.iter().map(|r| group_literal(&r.group_ids)).collect::<Vec<_>>(),
        now
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[super::TITLE_TAKEN]))?;
    // RETURNING follows the insert's order, which is the rows' order.
    add_members(&mut *conn, account_id, &groups, 1).await?;
    let audit: Vec<(i64, Value)> = ids.iter().copied().zip(rows.iter().map(|r| r.audit.clone())).collect();
    Actor::staff(staff, now).audit_customers(conn, Action::CustomerCreated, &audit).await?;
    Ok(ids)
}

/// Adds `sign` to the member count of each group, once per time it appears in `groups`.
async fn add_members(conn: &mut PgConnection, account_id: i64, groups: &[i64], sign: i64) -> Result<(), AppError> {
    if groups.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "UPDATE customer_groups g SET member_count = g.member_count + d.n * $3
           FROM (SELECT gid, count(*) AS n FROM unnest($2::bigint[]) AS gid GROUP BY gid) d
          WHERE g.account_id = $1 AND g.id = d.gid",
        account_id,
        groups,
        sign
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Places customers the same import just created under their parents (`(child, parent)`),
/// both of the caller's account and scope.
pub async fn set_parents(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>, pairs: &[(i64, i64)]) -> Result<(), AppError> {
    if pairs.is_empty() {
        return Ok(());
    }
    let staff = allowed.staff();
    let scope = scope_companies(&mut *conn, staff).await?;
    let (children, parents): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    let placed = sqlx::query!(
        "UPDATE customers c SET parent_id = u.parent
           FROM unnest($2::bigint[], $3::bigint[]) AS u(child, parent)
          WHERE c.account_id = $1 AND c.id = u.child AND u.child <> u.parent
            AND ($4::bigint[] IS NULL OR c.owner_company_id = ANY($4))
            AND EXISTS (SELECT 1 FROM customers p WHERE p.account_id = $1 AND p.id = u.parent
                                                   AND ($4::bigint[] IS NULL OR p.owner_company_id = ANY($4)))",
        staff.account_id(),
        &children,
        &parents,
        scope.as_deref()
    )
    .execute(conn)
    .await?
    .rows_affected();
    if placed != pairs.len() as u64 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// New values for a customer that exists.
pub struct ChangedRow {
    pub id: i64,
    pub fields: CustomerFields,
    pub customer_type_id: i64,
    pub owner_company_id: i64,
    pub group_ids: Vec<i64>,
    /// The groups it had (their counters lose it when it leaves).
    pub old_group_ids: Vec<i64>,
    pub audit: Value,
}

/// Saves new values of customers in the caller's scope (their parents stay), each audited as
/// updated.
pub async fn update_many(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersEdit>, rows: &[ChangedRow], now: DateTime<Utc>) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let owners: Vec<i64> = rows.iter().map(|r| r.owner_company_id).collect();
    let types: Vec<i64> = rows.iter().map(|r| r.customer_type_id).collect();
    let groups: Vec<i64> = rows.iter().flat_map(|r| r.group_ids.iter().copied()).collect();
    check_places(&mut *conn, staff, &owners, &types, &groups).await?;
    let scope = scope_companies(&mut *conn, staff).await?;
    let text = |f: fn(&CustomerFields) -> &Option<String>| rows.iter().map(|r| f(&r.fields).clone()).collect::<Vec<_>>();
    let updated = sqlx::query!(
        r#"UPDATE customers c
              SET title = u.title, company_name = u.company_name, email = u.email, phone = u.phone, country = u.country,
                  state = u.state, city = u.city, address = u.address, address2 = u.address2, zip = u.zip,
                  description = u.description, customer_type_id = u.type_id, owner_company_id = u.owner_id,
                  group_ids = u.groups::bigint[], updated_at = $17, version = c.version + 1
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                         $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[], $16::text[])
                  AS u(id, title, company_name, email, phone, country, state, city, address, address2, zip, description,
                       type_id, owner_id, groups)
            WHERE c.account_id = $1 AND c.id = u.id AND ($18::bigint[] IS NULL OR c.owner_company_id = ANY($18))"#,
        account_id,
        &rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.fields.title.clone()).collect::<Vec<_>>(),
        &text(|f| &f.company_name) as &[Option<String>],
        &text(|f| &f.email) as &[Option<String>],
        &text(|f| &f.phone) as &[Option<String>],
        &text(|f| &f.country) as &[Option<String>],
        &text(|f| &f.state) as &[Option<String>],
        &text(|f| &f.city) as &[Option<String>],
        &text(|f| &f.address) as &[Option<String>],
        &text(|f| &f.address2) as &[Option<String>],
        &text(|f| &f.zip) as &[Option<String>],
        &text(|f| &f.description) as &[Option<String>],
        &types,
        &owners,
        &rows.iter().map(|r| group_literal(&r.group_ids)).collect::<Vec<_>>(),
        now,
        scope.as_deref()
    )
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[super::TITLE_TAKEN]))?
    .rows_affected();
    if updated != rows.len() as u64 {
        return Err(AppError::NotFound);
    }
    let mut joined = Vec::new();
    let mut left = Vec::new();
    for r in rows {
        joined.extend(r.group_ids.iter().filter(|g| !r.old_group_ids.contains(g)));
        left.extend(r.old_group_ids.iter().filter(|g| !r.group_ids.contains(g)));
    }
    add_members(&mut *conn, account_id, &joined, 1).await?;
    add_members(&mut *conn, account_id, &left, -1).await?;
    let audit: Vec<(i64, Value)> = rows.iter().map(|r| (r.id, r.audit.clone())).collect();
    Actor::staff(staff, now).audit_customers(conn, Action::CustomerUpdated, &audit).await?;
    Ok(())
}
