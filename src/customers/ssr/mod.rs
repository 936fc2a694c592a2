//! Every query of customers. Here: the scope check that makes a [`CustomerRef`], the reads of
//! one customer and of the form's choices, titles, and the one insert; the changes are in
//! `writes` (staff) and `portal` (customer users), the list engine in `list`.

pub mod bulk;
pub mod export;
pub mod list;
pub mod portal;
pub mod seed;
pub mod writes;

use super::{CustomerChoices, CustomerDetail, CustomerFields, CUSTOMER_TYPE, OWNER_COMPANY, PARENT};
use crate::{
    companies::ssr::{company_in_scope, scope_companies, scope_root},
    error::AppError,
    permissions::{grant::CustomersView, Permission},
    server::{
        capability::{Allowed, Staff},
        errors::{db_error, Unique},
    },
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub const TITLE_TAKEN: Unique = Unique { constraint: "customers_title_key", field: super::TITLE.name, message: "A customer with this title already exists." };

/// A customer the caller may act on: only [`customer_in_scope`] makes one, inside the
/// transaction that locked it.
#[derive(Debug)]
pub struct CustomerRef {
    id: i64,
    title: String,
    owner_company_id: i64,
    version: i32,
}

impl CustomerRef {
    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn owner_company_id(&self) -> i64 {
        self.owner_company_id
    }

    pub fn version(&self) -> i32 {
        self.version
    }
}

/// The customer `id`, if it is in the caller's account and owned within their scope; "not
/// found" otherwise. Locks the row for the transaction.
pub async fn customer_in_scope(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<CustomerRef, AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    let row = sqlx::query!(
        "SELECT id, title, owner_company_id, version FROM customers
          WHERE account_id = $1 AND id = $2 AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))
          FOR NO KEY UPDATE",
        staff.account_id(),
        id,
        scope.as_deref()
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(CustomerRef { id: row.id, title: row.title, owner_company_id: row.owner_company_id, version: row.version })
}

/// Locks every selected customer; refuses the whole selection if any is outside the caller's
/// account or scope.
async fn all_in_scope(conn: &mut PgConnection, staff: &Staff, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    let rows = sqlx::query!(
        "SELECT id, title FROM customers
          WHERE account_id = $1 AND id = ANY($2) AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))
          ORDER BY id FOR NO KEY UPDATE",
        staff.account_id(),
        ids,
        scope.as_deref()
    )
    .fetch_all(conn)
    .await?;
    if rows.len() != ids.len() {
        return Err(AppError::NotFound);
    }
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}

/// The selected customers and everything below them.
async fn with_descendants(conn: &mut PgConnection, account_id: i64, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar!(
        r#"WITH RECURSIVE down AS (
               SELECT id FROM customers WHERE account_id = $1 AND id = ANY($2)
               UNION
               SELECT c.id FROM customers c JOIN down ON c.account_id = $1 AND c.parent_id = down.id
           )
           SELECT id AS "id!" FROM down"#,
        account_id,
        ids
    )
    .fetch_all(conn)
    .await?)
}

/// One customer as its page shows it.
pub async fn detail(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersView>, id: i64) -> Result<CustomerDetail, AppError> {
    let staff = allowed.staff();
    let customer = customer_in_scope(&mut *conn, staff, id).await?;
    let row = sqlx::query!(
        r#"SELECT c.title, c.company_name, c.email, c.phone, c.country, c.state, c.city, c.address, c.address2, c.zip,
                  c.description, c.customer_type_id, t.name AS type_name, c.owner_company_id, o.name AS owner_name,
                  c.parent_id, p.title AS "parent_title?", c.group_ids, c.created_at, c.version,
                  (SELECT count(*) FROM customers s WHERE s.account_id = c.account_id AND s.parent_id = c.id) AS "children!",
                  (SELECT count(*) FROM users u WHERE u.account_id = c.account_id AND u.customer_id = c.id) AS "users!"
             FROM customers c
             JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
             JOIN companies o ON o.account_id = c.account_id AND o.id = c.owner_company_id
             LEFT JOIN customers p ON p.account_id = c.account_id AND p.id = c.parent_id
            WHERE c.account_id = $1 AND c.id = $2"#,
        staff.account_id(),
        customer.id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(CustomerDetail {
        id,
        title: row.title,
        company_name: row.company_name,
        email: row.email,
        phone: row.phone,
        country: row.country,
        state: row.state,
        city: row.city,
        address: row.address,
        address2: row.address2,
        zip: row.zip,
        description: row.description,
        customer_type_id: row.customer_type_id,
        type_name: row.type_name,
        owner_company_id: row.owner_company_id,
        owner_company: row.owner_name,
        parent: row.parent_id.zip(row.parent_title),
        group_ids: row.group_ids,
        sub_customers: row.children,
        customer_users: row.users,
        created_at: row.created_at,
        version: row.version,
        can_edit: staff.holds(Permission::CustomersEdit),
        can_delete: staff.holds(Permission::CustomersDelete),
        can_view_audit: staff.holds(Permission::AuditView),
        can_view_users: staff.holds(Permission::CustomerUsersView),
    })
}

/// What the customer forms offer: the account's types (the default first), the companies in
/// the caller's scope, the account's groups.
pub async fn choices(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersView>) -> Result<CustomerChoices, AppError> {
    let staff = allowed.staff();
    let types = sqlx::query!(
        "SELECT id, name, is_default FROM customer_types WHERE account_id = $1 ORDER BY is_default DESC, lower(name)",
        staff.account_id()
    )
    .fetch_all(&mut *conn)
    .await?;
    let top = scope_root(&mut *conn, staff).await?;
    let companies = sqlx::query!(
        r#"SELECT id, name, cardinality(path) AS "depth!" FROM companies
            WHERE account_id = $1 AND path @> ARRAY[$2::bigint] ORDER BY path"#,
        staff.account_id(),
        top
    )
    .fetch_all(&mut *conn)
    .await?;
    let base = companies.first().map(|c| c.depth).unwrap_or(1);
    let groups = sqlx::query!("SELECT id, name FROM customer_groups WHERE account_id = $1 ORDER BY lower(name)", staff.account_id())
        .fetch_all(&mut *conn)
        .await?;
    Ok(CustomerChoices {
        default_type: types.iter().find(|t| t.is_default).map(|t| t.id),
        types: types.into_iter().map(|t| (t.id, t.name)).collect(),
        companies: companies
            .into_iter()
            .map(|c| (c.id, format!("{}{}", "— ".repeat((c.depth - base).max(0) as usize), c.name)))
            .collect(),
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
    })
}

async fn title_taken(conn: &mut PgConnection, account_id: i64, title: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM customers WHERE account_id = $1 AND title_sort = lower($2)) AS "taken!""#,
        account_id,
        title
    )
    .fetch_one(conn)
    .await?)
}

/// The first title no customer of the account has: `title` itself, else "title (2)",
/// "title (3)", and so on (the base shortened when the number would not fit), passing over
/// `skip` free ones (a retry after another request took the first).
pub async fn free_title(conn: &mut PgConnection, account_id: i64, title: &str, skip: usize) -> Result<String, AppError> {
    let pattern = format!("{} (%)", title.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let taken: std::collections::HashSet<String> = sqlx::query_scalar!(
        r#"SELECT title_sort AS "title!" FROM customers
            WHERE account_id = $1 AND (title_sort = lower($2) OR title_sort LIKE $3)"#,
        account_id,
        title,
        pattern
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .collect();
    let candidate = |n: usize| {
        if n == 1 {
            return title.to_owned();
        }
        let suffix = format!(" ({n})");
        let room = super::TITLE_MAX_CHARS - suffix.chars().count();
        let base: String = title.chars().take(room).collect();
        format!("{}{suffix}", base.trim_end())
    };
    let mut skipped = 0;
    for n in 1.. {
        let title = candidate(n);
        if !taken.contains(&title.to_lowercase()) {
            if skipped == skip {
                return Ok(title);
            }
            skipped += 1;
        }
    }
    unreachable!("some number is always free")
}

async fn type_of_account(conn: &mut PgConnection, account_id: i64, type_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT name FROM customer_types WHERE account_id = $1 AND id = $2", account_id, type_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::field(CUSTOMER_TYPE.name, "Choose a customer type from the list."))
}

async fn owner_in_scope(conn: &mut PgConnection, staff: &Staff, owner_id: i64) -> Result<String, AppError> {
    company_in_scope(conn, staff, owner_id).await.map(|c| c.name().to_owned()).map_err(|e| match e {
        AppError::NotFound => AppError::field(OWNER_COMPANY.name, "Choose a company you manage."),
        other => other,
    })
}

/// Resolves the parent typed as a title (empty: none), in scope, and refuses cycles: the parent
/// may not be `moving` itself or one of its descendants.
async fn resolve_parent(
    conn: &mut PgConnection,
    staff: &Staff,
    title: &str,
    moving: Option<i64>,
) -> Result<Option<(i64, String)>, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Ok(None);
    }
    let scope = scope_companies(&mut *conn, staff).await?;
    let parent = sqlx::query!(
        "SELECT id, title FROM customers
          WHERE account_id = $1 AND title_sort = lower($2) AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))",
        staff.account_id(),
        title,
        scope.as_deref()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::field(PARENT, "No customer you manage has this title."))?;
    if let Some(moving) = moving {
        let cycle = sqlx::query_scalar!(
            r#"WITH RECURSIVE up AS (
                   SELECT id, parent_id FROM customers WHERE account_id = $1 AND id = $2
                   UNION
                   SELECT c.id, c.parent_id FROM customers c JOIN up ON c.account_id = $1 AND c.id = up.parent_id
               )
               SELECT EXISTS (SELECT 1 FROM up WHERE id = $3) AS "cycle!""#,
            staff.account_id(),
            parent.id,
            moving
        )
        .fetch_one(&mut *conn)
        .await?;
        if cycle {
            return Err(AppError::field(PARENT, "A customer cannot be placed under itself or one of its own sub-customers."));
        }
    }
    Ok(Some((parent.id, parent.title)))
}

/// A customer row as it is inserted.
struct NewCustomer<'a> {
    fields: &'a CustomerFields,
    /// The title it gets (the fields' own, or a free one the portal found).
    title: &'a str,
    customer_type_id: i64,
    owner_company_id: i64,
    parent_id: Option<i64>,
}

/// The one insert of a customer, counted in the account's plan usage (refused past its limit). A title the
/// account already has answers [`TITLE_TAKEN`]. Only this module's capability-checked writes
/// call it.
async fn insert(conn: &mut PgConnection, account_id: i64, new: &NewCustomer<'_>, now: DateTime<Utc>) -> Result<i64, AppError> {
    let fields = new.fields;
    // The account row first: an import holds it while it writes, so a create waits for the
    // import instead of taking a title the import is about to insert (a deadlock).
    crate::services::usage::ssr::add_customer(&mut *conn, account_id, now).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO customers (account_id, title, company_name, email, phone, country, state, city, address, address2,
                                zip, description, customer_type_id, owner_company_id, parent_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         RETURNING id",
        account_id,
        new.title,
        fields.company_name,
        fields.email,
        fields.phone,
        fields.country,
        fields.state,
        fields.city,
        fields.address,
        fields.address2,
        fields.zip,
        fields.description,
        new.customer_type_id,
        new.owner_company_id,
        new.parent_id,
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[TITLE_TAKEN]))?;
    Ok(id)
}

/// Where a customer sits: its type, owner company and parent (staff edits change it; the
/// portal's never do).
struct Placed {
    customer_type_id: i64,
    owner_company_id: i64,
    parent_id: Option<i64>,
}

/// The one update of a customer: its details under `title`, and its placement when given.
/// Returns the new version and what changed, for the audit row.
async fn update_row(
    conn: &mut PgConnection,
    account_id: i64,
    id: i64,
    fields: &CustomerFields,
    title: &str,
    placed: Option<&Placed>,
    now: DateTime<Utc>,
) -> Result<(i32, crate::services::audit::Changes), AppError> {
    let before = sqlx::query!(
        "SELECT title, company_name, email, phone, country, state, city, address, address2, zip, description,
                customer_type_id, owner_company_id, parent_id
           FROM customers WHERE account_id = $1 AND id = $2",
        account_id,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let new_version = sqlx::query_scalar!(
        "UPDATE customers SET title = $3, company_name = $4, email = $5, phone = $6, country = $7, state = $8, city = $9,
                              address = $10, address2 = $11, zip = $12, description = $13,
                              customer_type_id = COALESCE($14, customer_type_id),
                              owner_company_id = COALESCE($15, owner_company_id),
                              parent_id = CASE WHEN $17 THEN $16 ELSE parent_id END,
                              updated_at = $18, version = version + 1
          WHERE account_id = $1 AND id = $2
          RETURNING version",
        account_id,
        id,
        title,
        fields.company_name,
        fields.email,
        fields.phone,
        fields.country,
        fields.state,
        fields.city,
        fields.address,
        fields.address2,
        fields.zip,
        fields.description,
        placed.map(|p| p.customer_type_id),
        placed.map(|p| p.owner_company_id),
        placed.and_then(|p| p.parent_id),
        placed.is_some(),
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[TITLE_TAKEN]))?;
    let mut changes = crate::services::audit::Changes::default()
        .field("title", &before.title, &title.to_owned())
        .field("company_name", &before.company_name, &fields.company_name)
        .field("email", &before.email, &fields.email)
        .field("phone", &before.phone, &fields.phone)
        .field("country", &before.country, &fields.country)
        .field("state", &before.state, &fields.state)
        .field("city", &before.city, &fields.city)
        .field("address", &before.address, &fields.address)
        .field("address2", &before.address2, &fields.address2)
        .field("zip", &before.zip, &fields.zip)
        .field("description", &before.description, &fields.description);
    if let Some(p) = placed {
        changes = changes
            .field("customer_type_id", &before.customer_type_id, &p.customer_type_id)
            .field("owner_company_id", &before.owner_company_id, &p.owner_company_id)
            .field("parent_id", &before.parent_id, &p.parent_id);
    }
    Ok((new_version, changes))
}
