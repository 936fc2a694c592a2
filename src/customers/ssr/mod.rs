//! Server-only customer work: scope checks, writes (each inside the caller's transaction, with
//! its audit row), the counters the list and billing read, and the list engine.

pub mod list;
pub mod seed;

use super::{BulkResult, CustomerFields, DeletionPreview, NO_REGISTERED_ACCOUNT};
use crate::{
    audit::ssr::{self as audit, Changes},
    auth::ssr::sessions::Staff,
    companies::ssr::{company_in_scope, scope_root},
    error::AppError,
    server::{
        errors::{db_error, Unique},
        state::AppState,
    },
    validation::Email,
};
use sqlx::PgConnection;

pub const TITLE_TAKEN: Unique =
    Unique { constraint: "customers_title_key", field: "title", message: "A customer with this title already exists." };

pub struct CustomerRef {
    pub id: i64,
    pub title: String,
    pub owner_company_id: i64,
    pub parent_id: Option<i64>,
    pub version: i32,
}

/// The companies whose customers the caller may act on; `None` means the whole account.
pub async fn scope_companies(conn: &mut PgConnection, staff: &Staff) -> Result<Option<Vec<i64>>, AppError> {
    if staff.user.is_administrator() {
        return Ok(None);
    }
    let top = scope_root(&mut *conn, staff).await?;
    let ids = sqlx::query_scalar!(
        "SELECT id FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]",
        staff.account_id,
        top
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(ids))
}

/// The customer `id`, if it is in the caller's account and owned within their scope; "not
/// found" otherwise. Locks the row for the transaction.
pub async fn customer_in_scope(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<CustomerRef, AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    sqlx::query_as!(
        CustomerRef,
        "SELECT id, title, owner_company_id, parent_id, version FROM customers
          WHERE account_id = $1 AND id = $2 AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))
          FOR NO KEY UPDATE",
        staff.account_id,
        id,
        scope.as_deref()
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
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

async fn type_of_account(conn: &mut PgConnection, staff: &Staff, type_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar!("SELECT name FROM customer_types WHERE account_id = $1 AND id = $2", staff.account_id, type_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::field("customer_type_id", "Choose a customer type from the list."))
}

async fn owner_in_scope(conn: &mut PgConnection, staff: &Staff, owner_id: i64) -> Result<String, AppError> {
    company_in_scope(conn, staff, owner_id).await.map(|c| c.name).map_err(|e| match e {
        AppError::NotFound => AppError::field("owner_company_id", "Choose a company you manage."),
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
        staff.account_id,
        title,
        scope.as_deref()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::field("parent", "No customer you manage has this title."))?;
    if let Some(moving) = moving {
        let cycle = sqlx::query_scalar!(
            r#"WITH RECURSIVE up AS (
                   SELECT id, parent_id FROM customers WHERE account_id = $1 AND id = $2
                   UNION
                   SELECT c.id, c.parent_id FROM customers c JOIN up ON c.account_id = $1 AND c.id = up.parent_id
               )
               SELECT EXISTS (SELECT 1 FROM up WHERE id = $3) AS "cycle!""#,
            staff.account_id,
            parent.id,
            moving
        )
        .fetch_one(&mut *conn)
        .await?;
        if cycle {
            return Err(AppError::field("parent", "A customer cannot be placed under itself or one of its own sub-customers."));
        }
    }
    Ok(Some((parent.id, parent.title)))
}

pub async fn insert_customer(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    fields: &CustomerFields,
    type_id: i64,
    owner_id: i64,
    parent_title: &str,
) -> Result<i64, AppError> {
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, staff, type_id).await?;
    let owner = owner_in_scope(&mut *conn, staff, owner_id).await?;
    let parent = resolve_parent(&mut *conn, staff, parent_title, None).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO customers (account_id, title, company_name, email, phone, country, state, city, address, address2,
                                zip, description, customer_type_id, owner_company_id, parent_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         RETURNING id",
        staff.account_id,
        fields.title,
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
        type_id,
        owner_id,
        parent.as_ref().map(|p| p.0),
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[TITLE_TAKEN]))?;
    sqlx::query!("UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1", staff.account_id)
        .execute(&mut *conn)
        .await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.created",
            record_type: "customer",
            record_id: Some(id),
            changes: serde_json::json!({
                "title": fields.title, "type": type_name, "owner": owner, "parent": parent.map(|p| p.1),
            }),
        },
    )
    .await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
pub async fn update_customer(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    id: i64,
    version: i32,
    fields: &CustomerFields,
    type_id: i64,
    owner_id: i64,
    parent_title: &str,
) -> Result<i32, AppError> {
    let now = state.clock.now();
    if !parent_title.trim().is_empty() {
        // Two customers each placed under the other would both pass the cycle check: moves in
        // the tree take their turn.
        crate::server::locks::lock(&mut *conn, crate::server::locks::Guarded::CustomerTree, staff.account_id).await?;
    }
    let current = customer_in_scope(&mut *conn, staff, id).await?;
    if current.version != version {
        return Err(AppError::Conflict);
    }
    type_of_account(&mut *conn, staff, type_id).await?;
    owner_in_scope(&mut *conn, staff, owner_id).await?;
    let parent = resolve_parent(&mut *conn, staff, parent_title, Some(id)).await?;
    let before = sqlx::query!(
        "SELECT title, company_name, email, phone, country, state, city, address, address2, zip, description,
                customer_type_id, owner_company_id, parent_id
           FROM customers WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    let new_version = sqlx::query_scalar!(
        "UPDATE customers SET title = $3, company_name = $4, email = $5, phone = $6, country = $7, state = $8, city = $9,
                              address = $10, address2 = $11, zip = $12, description = $13, customer_type_id = $14,
                              owner_company_id = $15, parent_id = $16, updated_at = $17, version = version + 1
          WHERE account_id = $1 AND id = $2
          RETURNING version",
        staff.account_id,
        id,
        fields.title,
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
        type_id,
        owner_id,
        parent.as_ref().map(|p| p.0),
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[TITLE_TAKEN]))?;
    let changes = Changes::default()
        .field("title", &before.title, &fields.title)
        .field("company_name", &before.company_name, &fields.company_name)
        .field("email", &before.email, &fields.email)
        .field("phone", &before.phone, &fields.phone)
        .field("country", &before.country, &fields.country)
        .field("state", &before.state, &fields.state)
        .field("city", &before.city, &fields.city)
        .field("address", &before.address, &fields.address)
        .field("address2", &before.address2, &fields.address2)
        .field("zip", &before.zip, &fields.zip)
        .field("description", &before.description, &fields.description)
        .field("customer_type_id", &before.customer_type_id, &type_id)
        .field("owner_company_id", &before.owner_company_id, &owner_id)
        .field("parent_id", &before.parent_id, &parent.as_ref().map(|p| p.0));
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.updated",
            record_type: "customer",
            record_id: Some(id),
            changes: changes.into_value(),
        },
    )
    .await?;
    Ok(new_version)
}

/// Locks every selected customer; refuses the whole selection if any is outside the caller's
/// account or scope.
async fn all_in_scope(conn: &mut PgConnection, staff: &Staff, ids: &[i64]) -> Result<Vec<(i64, String)>, AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    let rows = sqlx::query!(
        "SELECT id, title FROM customers
          WHERE account_id = $1 AND id = ANY($2) AND ($3::bigint[] IS NULL OR owner_company_id = ANY($3))
          ORDER BY id FOR NO KEY UPDATE",
        staff.account_id,
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

pub async fn deletion_preview(conn: &mut PgConnection, staff: &Staff, ids: &[i64]) -> Result<DeletionPreview, AppError> {
    let selected = all_in_scope(&mut *conn, staff, ids).await?;
    let all = with_descendants(&mut *conn, staff.account_id, ids).await?;
    let users = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE account_id = $1 AND customer_id = ANY($2)"#,
        staff.account_id,
        &all
    )
    .fetch_one(conn)
    .await?;
    Ok(DeletionPreview {
        titles: selected.into_iter().map(|(_, t)| t).collect(),
        sub_customers: all.len() as i64 - ids.len() as i64,
        customer_users: users,
    })
}

pub async fn delete_customers(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    ids: &[i64],
) -> Result<BulkResult, AppError> {
    let now = state.clock.now();
    let preview = deletion_preview(&mut *conn, staff, ids).await?;
    let all = with_descendants(&mut *conn, staff.account_id, ids).await?;
    // Sub-customers outside the caller's scope would go too: refuse instead.
    let scope = scope_companies(&mut *conn, staff).await?;
    if let Some(scope) = &scope {
        let outside = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM customers WHERE account_id = $1 AND id = ANY($2) AND NOT owner_company_id = ANY($3)"#,
            staff.account_id,
            &all,
            scope
        )
        .fetch_one(&mut *conn)
        .await?;
        if outside > 0 {
            return Err(AppError::Refused(
                "Some sub-customers belong to companies you do not manage; ask someone who manages them.".into(),
            ));
        }
    }
    let users = sqlx::query_scalar!(
        "DELETE FROM users WHERE account_id = $1 AND customer_id = ANY($2) RETURNING id",
        staff.account_id,
        &all
    )
    .fetch_all(&mut *conn)
    .await?;
    // Group counters lose the deleted members.
    sqlx::query!(
        "UPDATE customer_groups g SET member_count = g.member_count - d.n
           FROM (SELECT gid, count(*) AS n FROM customers, unnest(group_ids) AS gid
                  WHERE account_id = $1 AND id = ANY($2) GROUP BY gid) d
          WHERE g.account_id = $1 AND g.id = d.gid",
        staff.account_id,
        &all
    )
    .execute(&mut *conn)
    .await?;
    // Children point at parents: clear the links inside the set, then delete it.
    sqlx::query!("UPDATE customers SET parent_id = NULL WHERE account_id = $1 AND id = ANY($2)", staff.account_id, &all)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query!("DELETE FROM customers WHERE account_id = $1 AND id = ANY($2)", staff.account_id, &all)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    sqlx::query!("UPDATE accounts SET customer_count = customer_count - $2 WHERE id = $1", staff.account_id, deleted)
        .execute(&mut *conn)
        .await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.deleted",
            record_type: "customer",
            record_id: (ids.len() == 1).then(|| ids[0]),
            changes: serde_json::json!({
                "customers": preview.titles,
                "sub_customers": preview.sub_customers,
                "customer_users": users.len(),
            }),
        },
    )
    .await?;
    let message = match (ids.len(), preview.sub_customers) {
        (1, 0) => format!("{} was deleted.", preview.titles[0]),
        (1, n) => format!("{} and {n} sub-customers were deleted.", preview.titles[0]),
        (k, 0) => format!("{k} customers were deleted."),
        (k, n) => format!("{k} customers and {n} sub-customers were deleted."),
    };
    Ok(BulkResult { message })
}

pub async fn change_type(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    ids: &[i64],
    type_id: i64,
) -> Result<BulkResult, AppError> {
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, staff, type_id).await?;
    all_in_scope(&mut *conn, staff, ids).await?;
    sqlx::query!(
        "UPDATE customers SET customer_type_id = $3, updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = ANY($2)",
        staff.account_id,
        ids,
        type_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.type_changed",
            record_type: "customer",
            record_id: (ids.len() == 1).then(|| ids[0]),
            changes: serde_json::json!({ "customers": ids, "type": type_name }),
        },
    )
    .await?;
    Ok(BulkResult { message: format!("{} {} now of type {type_name}.", ids.len(), if ids.len() == 1 { "customer is" } else { "customers are" }) })
}

pub async fn add_to_group(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    ids: &[i64],
    group_id: i64,
) -> Result<BulkResult, AppError> {
    let now = state.clock.now();
    let group = sqlx::query_scalar!(
        "SELECT name FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE",
        staff.account_id,
        group_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::field("group_id", "Choose a group from the list."))?;
    all_in_scope(&mut *conn, staff, ids).await?;
    let added = sqlx::query!(
        "UPDATE customers SET group_ids = array_append(group_ids, $3), updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = ANY($2) AND NOT group_ids @> ARRAY[$3::bigint]",
        staff.account_id,
        ids,
        group_id,
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected() as i64;
    sqlx::query!(
        "UPDATE customer_groups SET member_count = member_count + $3 WHERE account_id = $1 AND id = $2",
        staff.account_id,
        group_id,
        added
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.added_to_group",
            record_type: "customer_group",
            record_id: Some(group_id),
            changes: serde_json::json!({ "customers": ids, "group": group, "added": added }),
        },
    )
    .await?;
    let already = ids.len() as i64 - added;
    let mut message = format!("{added} {} added to {group}.", if added == 1 { "customer was" } else { "customers were" });
    if already > 0 {
        message.push_str(&format!(" {already} already belonged to it."));
    }
    Ok(BulkResult { message })
}

pub async fn set_groups(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    id: i64,
    groups: &[i64],
    version: i32,
) -> Result<i32, AppError> {
    let now = state.clock.now();
    let current = customer_in_scope(&mut *conn, staff, id).await?;
    if current.version != version {
        return Err(AppError::Conflict);
    }
    let mut wanted = groups.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let known = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customer_groups WHERE account_id = $1 AND id = ANY($2)"#,
        staff.account_id,
        &wanted
    )
    .fetch_one(&mut *conn)
    .await?;
    if known != wanted.len() as i64 {
        return Err(AppError::field("groups", "Choose groups from the list."));
    }
    let before = sqlx::query_scalar!("SELECT group_ids FROM customers WHERE account_id = $1 AND id = $2", staff.account_id, id)
        .fetch_one(&mut *conn)
        .await?;
    let added: Vec<i64> = wanted.iter().copied().filter(|g| !before.contains(g)).collect();
    let removed: Vec<i64> = before.iter().copied().filter(|g| !wanted.contains(g)).collect();
    let new_version = sqlx::query_scalar!(
        "UPDATE customers SET group_ids = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2
         RETURNING version",
        staff.account_id,
        id,
        &wanted,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE customer_groups SET member_count = member_count + CASE WHEN id = ANY($2) THEN 1 ELSE -1 END
          WHERE account_id = $1 AND (id = ANY($2) OR id = ANY($3))",
        staff.account_id,
        &added,
        &removed
    )
    .execute(&mut *conn)
    .await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.groups_changed",
            record_type: "customer",
            record_id: Some(id),
            changes: Changes::default().field("groups", &before, &wanted).into_value(),
        },
    )
    .await?;
    Ok(new_version)
}

/// SPEC 4.4. The person must be a confirmed self-registration that no account has taken yet.
/// Every cause of failure that depends on the address (none registered, taken by an account,
/// or the customer title the person's name would give already used) gets the one answer
/// [`NO_REGISTERED_ACCOUNT`], after the same work (the caller counts it as a refused address);
/// a company name that is taken is said so before the address is looked at, so that says
/// nothing of it.
#[allow(clippy::too_many_arguments)]
pub async fn add_by_account(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    email: &Email,
    company_name: Option<String>,
    type_id: i64,
    owner_id: i64,
) -> Result<i64, AppError> {
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, staff, type_id).await?;
    let owner = owner_in_scope(&mut *conn, staff, owner_id).await?;
    if let Some(name) = &company_name {
        if title_taken(&mut *conn, staff.account_id, name).await? {
            return Err(AppError::field("company_name", "A customer with this title already exists. Enter another company name."));
        }
    }
    let neutral = || AppError::field("email", NO_REGISTERED_ACCOUNT);
    let person = sqlx::query!(
        "SELECT id, display_name, email FROM users
          WHERE lower(email) = $1 AND kind = 'registered' AND status = 'active' AND account_id IS NULL
          FOR NO KEY UPDATE",
        email.normalized()
    )
    .fetch_optional(&mut *conn)
    .await?;
    let title = company_name.clone().or_else(|| person.as_ref().map(|p| p.display_name.clone()));
    let usable = match (&person, title) {
        (Some(_), Some(title)) => {
            let free = company_name.is_some() || !title_taken(&mut *conn, staff.account_id, &title).await?;
            free.then_some(title)
        }
        _ => None,
    };
    let (Some(person), Some(title)) = (person, usable) else {
        return Err(neutral());
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO customers (account_id, title, company_name, email, customer_type_id, owner_company_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        staff.account_id,
        title,
        company_name,
        person.email,
        type_id,
        owner_id,
        now
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match db_error(e, &[TITLE_TAKEN]) {
        AppError::Validation(_) => neutral(),
        other => other,
    })?;
    sqlx::query!(
        "UPDATE users SET kind = 'customer', account_id = $2, customer_id = $3, updated_at = $4, version = version + 1
          WHERE id = $1 AND account_id IS NULL",
        person.id,
        staff.account_id,
        id,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1", staff.account_id)
        .execute(&mut *conn)
        .await?;
    // Their sessions started outside any account; they sign in again into the portal.
    crate::auth::ssr::sessions::end_all(&mut *conn, person.id).await?;
    audit::record(
        conn,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer.created_by_account",
            record_type: "customer",
            record_id: Some(id),
            changes: serde_json::json!({ "title": title, "type": type_name, "owner": owner, "customer_user": person.email }),
        },
    )
    .await?;
    Ok(id)
}
