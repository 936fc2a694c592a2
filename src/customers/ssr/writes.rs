//! The staff's changes of customers (SPEC 4.2–4.6): create, edit, delete with what goes with
//! it, the bulk actions, groups, and adding a self-registered person as a customer. Each takes
//! the capability it needs and checks the scope of every customer it touches.

use super::{
    all_in_scope, customer_in_scope, insert, owner_in_scope, resolve_parent, title_taken, type_of_account, update_row, with_descendants,
    NewCustomer, Placed,
};
use crate::{
    auth::ssr::addresses,
    companies::ssr::scope_companies,
    customers::{BulkResult, CustomerFields, DeletionPreview, COMPANY_NAME, ACCOUNT_EMAIL, GROUP, GROUPS, NO_REGISTERED_ACCOUNT},
    error::AppError,
    permissions::grant::{CustomersCreate, CustomersDelete, CustomersEdit},
    server::{
        capability::Allowed,
            locks::{self, Guarded},
        session,
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record, RecordType},
    validation::Email,
};
use sqlx::PgConnection;

/// Creates a customer. `parent_title` is the title of its parent customer (empty: none).
pub async fn create(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersCreate>,
    fields: &CustomerFields,
    type_id: i64,
    owner_id: i64,
    parent_title: &str,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, staff.account_id(), type_id).await?;
    let owner = owner_in_scope(&mut *conn, staff, owner_id).await?;
    let parent = resolve_parent(&mut *conn, staff, parent_title, None).await?;
    let new = NewCustomer { fields, title: &fields.title, customer_type_id: type_id, owner_company_id: owner_id, parent_id: parent.as_ref().map(|p| p.0) };
    let id = insert(&mut *conn, staff.account_id(), &new, now).await?;
    let changes = serde_json::json!({ "title": fields.title, "type": type_name, "owner": owner, "parent": parent.map(|p| p.1) });
    Actor::staff(staff, now).audit(conn, Action::CustomerCreated, Record::customer(id), changes).await?;
    Ok(id)
}

/// Where an edited customer goes: its type, owner and the title of its parent (empty: none).
pub struct Placement<'a> {
    pub type_id: i64,
    pub owner_id: i64,
    pub parent_title: &'a str,
}

/// Saves a customer's details and placement when nobody changed it since `version`.
pub async fn update(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    id: i64,
    version: i32,
    fields: &CustomerFields,
    placement: Placement<'_>,
) -> Result<i32, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    if !placement.parent_title.trim().is_empty() {
        // Two customers each placed under the other would both pass the cycle check: moves in
        // the tree take their turn.
        locks::lock(&mut *conn, Guarded::CustomerTree, staff.account_id()).await?;
    }
    let current = customer_in_scope(&mut *conn, staff, id).await?;
    if current.version() != version {
        return Err(AppError::Conflict);
    }
    type_of_account(&mut *conn, staff.account_id(), placement.type_id).await?;
    owner_in_scope(&mut *conn, staff, placement.owner_id).await?;
    let parent = resolve_parent(&mut *conn, staff, placement.parent_title, Some(id)).await?;
    let placed = Placed { customer_type_id: placement.type_id, owner_company_id: placement.owner_id, parent_id: parent.map(|p| p.0) };
    let (new_version, changes) = update_row(&mut *conn, staff.account_id(), id, fields, &fields.title, Some(&placed), now).await?;
    Actor::staff(staff, now).audit(conn, Action::CustomerUpdated, Record::customer(id), changes).await?;
    Ok(new_version)
}

/// What deleting the selection would take with it.
pub async fn deletion_preview(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersDelete>, ids: &[i64]) -> Result<DeletionPreview, AppError> {
    let staff = allowed.staff();
    let selected = all_in_scope(&mut *conn, staff, ids).await?;
    let all = with_descendants(&mut *conn, staff.account_id(), ids).await?;
    let users = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE account_id = $1 AND customer_id = ANY($2)"#,
        staff.account_id(),
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

/// Deletes customers with their sub-customers and customer users, all or nothing.
///
/// Only a holder of *Customers – Delete* can call it: the capability comes from the check.
///
/// ```no_run
/// # use roster::{error::AppError, server::{capability::require_staff, state::AppState}};
/// # async fn handler(state: AppState, ids: Vec<i64>) -> Result<(), AppError> {
/// use roster::{customers::ssr::writes::delete_customers, permissions::grant::CustomersDelete};
/// let staff = require_staff().await?;
/// let allowed = staff.allow::<CustomersDelete>()?;
/// let mut tx = state.db.begin().await?;
/// delete_customers(&mut tx, &state, &allowed, &ids).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
///
/// Without it — the signed-in staff member alone — the call does not compile:
///
/// ```compile_fail,E0308
/// # use roster::{error::AppError, server::{capability::require_staff, state::AppState}};
/// # async fn handler(state: AppState, ids: Vec<i64>) -> Result<(), AppError> {
/// use roster::{customers::ssr::writes::delete_customers, permissions::grant::CustomersDelete};
/// let staff = require_staff().await?;
/// let mut tx = state.db.begin().await?;
/// delete_customers(&mut tx, &state, &staff, &ids).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
///
/// nor with the capability of another permission:
///
/// ```compile_fail,E0308
/// # use roster::{error::AppError, server::{capability::require_staff, state::AppState}};
/// # async fn handler(state: AppState, ids: Vec<i64>) -> Result<(), AppError> {
/// use roster::{customers::ssr::writes::delete_customers, permissions::grant::CustomersView};
/// let staff = require_staff().await?;
/// let allowed = staff.allow::<CustomersView>()?;
/// let mut tx = state.db.begin().await?;
/// delete_customers(&mut tx, &state, &allowed, &ids).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
pub async fn delete_customers(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersDelete>,
    ids: &[i64],
) -> Result<BulkResult, AppError> {
    delete_set(conn, state, allowed, ids, Action::CustomerDeleted, 0).await
}

/// Takes a customer off the account's list (seed 000's "remove"): it goes as [`delete_customers`]
/// would take it, with its sub-customers, except that a person who registered on their own and
/// was added by account keeps their login: their customer user goes back to a free registered
/// account, as before they were added (their sessions end; they sign in again outside it).
pub async fn remove_customer(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomersDelete>, id: i64) -> Result<BulkResult, AppError> {
    let staff = allowed.staff();
    all_in_scope(&mut *conn, staff, &[id]).await?;
    let all = with_descendants(&mut *conn, staff.account_id(), &[id]).await?;
    let freed = sqlx::query_scalar!(
        "UPDATE users SET kind = 'registered', account_id = NULL, customer_id = NULL, joined_by_account = false,
                          updated_at = $3, version = version + 1
          WHERE account_id = $1 AND customer_id = ANY($2) AND kind = 'customer' AND joined_by_account
         RETURNING id",
        staff.account_id(),
        &all,
        state.clock.now()
    )
    .fetch_all(&mut *conn)
    .await?;
    for user in &freed {
        session::end_all(&mut *conn, *user).await?;
    }
    delete_set(conn, state, allowed, &[id], Action::CustomerRemoved, freed.len()).await
}

/// Deletes `ids` with their sub-customers and the customer users still in them; audited as
/// `action`, with `kept_logins` people given back their own accounts before.
async fn delete_set(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersDelete>,
    ids: &[i64],
    action: Action,
    kept_logins: usize,
) -> Result<BulkResult, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let preview = deletion_preview(&mut *conn, allowed, ids).await?;
    let all = with_descendants(&mut *conn, staff.account_id(), ids).await?;
    // Sub-customers outside the caller's scope would go too: refuse instead.
    let scope = scope_companies(&mut *conn, staff).await?;
    if let Some(scope) = &scope {
        let outside = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM customers WHERE account_id = $1 AND id = ANY($2) AND NOT owner_company_id = ANY($3)"#,
            staff.account_id(),
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
        staff.account_id(),
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
        staff.account_id(),
        &all
    )
    .execute(&mut *conn)
    .await?;
    // Children point at parents: clear the links inside the set, then delete it.
    sqlx::query!("UPDATE customers SET parent_id = NULL WHERE account_id = $1 AND id = ANY($2)", staff.account_id(), &all)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query!("DELETE FROM customers WHERE account_id = $1 AND id = ANY($2)", staff.account_id(), &all)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    sqlx::query!("UPDATE accounts SET customer_count = customer_count - $2 WHERE id = $1", staff.account_id(), deleted)
        .execute(&mut *conn)
        .await?;
    let mut changes = serde_json::json!({
        "customers": preview.titles,
        "sub_customers": preview.sub_customers,
        "customer_users": users.len(),
    });
    if action == Action::CustomerRemoved {
        changes["kept_logins"] = kept_logins.into();
    }
    Actor::staff(staff, now).audit(conn, action, Record::many(RecordType::Customer, ids), changes).await?;
    if action == Action::CustomerRemoved {
        let kept = match kept_logins {
            0 => String::new(),
            1 => " The person who registered on their own keeps their login.".to_owned(),
            n => format!(" The {n} people who registered on their own keep their logins."),
        };
        return Ok(BulkResult { message: format!("{} was removed from your customers.{kept}", preview.titles[0]) });
    }
    let message = match (ids.len(), preview.sub_customers) {
        (1, 0) => format!("{} was deleted.", preview.titles[0]),
        (1, n) => format!("{} and {n} sub-customers were deleted.", preview.titles[0]),
        (k, 0) => format!("{k} customers were deleted."),
        (k, n) => format!("{k} customers and {n} sub-customers were deleted."),
    };
    Ok(BulkResult { message })
}

/// Renames the company a customer belongs to (its "company name"; empty clears it).
pub async fn rename_company(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    id: i64,
    company_name: Option<String>,
) -> Result<BulkResult, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    all_in_scope(&mut *conn, staff, &[id]).await?;
    let before = sqlx::query!(
        "SELECT title, company_name FROM customers WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE",
        staff.account_id(),
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE customers SET company_name = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id,
        company_name,
        now
    )
    .execute(&mut *conn)
    .await?;
    let changes = Changes::default().field("company_name", &before.company_name, &company_name);
    Actor::staff(staff, now).audit(conn, Action::CustomerUpdated, Record::customer(id), changes).await?;
    Ok(BulkResult {
        message: match &company_name {
            Some(name) => format!("The company of {} is now {name}.", before.title),
            None => format!("{} has no company name now.", before.title),
        },
    })
}

/// Gives the selected customers another type, all or nothing.
pub async fn change_type(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    ids: &[i64],
    type_id: i64,
) -> Result<BulkResult, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, staff.account_id(), type_id).await?;
    all_in_scope(&mut *conn, staff, ids).await?;
    sqlx::query!(
        "UPDATE customers SET customer_type_id = $3, updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = ANY($2)",
        staff.account_id(),
        ids,
        type_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    let changes = serde_json::json!({ "customers": ids, "type": type_name });
    Actor::staff(staff, now).audit(conn, Action::CustomerTypeChanged, Record::many(RecordType::Customer, ids), changes).await?;
    Ok(BulkResult { message: format!("{} {} now of type {type_name}.", ids.len(), if ids.len() == 1 { "customer is" } else { "customers are" }) })
}

/// Adds the selected customers to a group, all or nothing.
pub async fn add_to_group(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    ids: &[i64],
    group_id: i64,
) -> Result<BulkResult, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let group = sqlx::query_scalar!(
        "SELECT name FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE",
        staff.account_id(),
        group_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::field(GROUP.name, "Choose a group from the list."))?;
    all_in_scope(&mut *conn, staff, ids).await?;
    let added = sqlx::query!(
        "UPDATE customers SET group_ids = array_append(group_ids, $3), updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = ANY($2) AND NOT group_ids @> ARRAY[$3::bigint]",
        staff.account_id(),
        ids,
        group_id,
        now
    )
    .execute(&mut *conn)
    .await?
    .rows_affected() as i64;
    sqlx::query!(
        "UPDATE customer_groups SET member_count = member_count + $3 WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        group_id,
        added
    )
    .execute(&mut *conn)
    .await?;
    let changes = serde_json::json!({ "customers": ids, "group": group, "added": added });
    Actor::staff(staff, now).audit(conn, Action::CustomerAddedToGroup, Record::customer_group(group_id), changes).await?;
    let already = ids.len() as i64 - added;
    let mut message = format!("{added} {} added to {group}.", if added == 1 { "customer was" } else { "customers were" });
    if already > 0 {
        message.push_str(&format!(" {already} already belonged to it."));
    }
    Ok(BulkResult { message })
}

/// Sets which named groups one customer belongs to.
pub async fn set_groups(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    id: i64,
    groups: &[i64],
    version: i32,
) -> Result<i32, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let current = customer_in_scope(&mut *conn, staff, id).await?;
    if current.version() != version {
        return Err(AppError::Conflict);
    }
    let mut wanted = groups.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let known = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customer_groups WHERE account_id = $1 AND id = ANY($2)"#,
        staff.account_id(),
        &wanted
    )
    .fetch_one(&mut *conn)
    .await?;
    if known != wanted.len() as i64 {
        return Err(AppError::field(GROUPS, "Choose groups from the list."));
    }
    let before = sqlx::query_scalar!("SELECT group_ids FROM customers WHERE account_id = $1 AND id = $2", staff.account_id(), id)
        .fetch_one(&mut *conn)
        .await?;
    let added: Vec<i64> = wanted.iter().copied().filter(|g| !before.contains(g)).collect();
    let removed: Vec<i64> = before.iter().copied().filter(|g| !wanted.contains(g)).collect();
    let new_version = sqlx::query_scalar!(
        "UPDATE customers SET group_ids = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2
         RETURNING version",
        staff.account_id(),
        id,
        &wanted,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE customer_groups SET member_count = member_count + CASE WHEN id = ANY($2) THEN 1 ELSE -1 END
          WHERE account_id = $1 AND (id = ANY($2) OR id = ANY($3))",
        staff.account_id(),
        &added,
        &removed
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, now)
        .audit(conn, Action::CustomerGroupsChanged, Record::customer(id), Changes::default().field("groups", &before, &wanted))
        .await?;
    Ok(new_version)
}

/// SPEC 4.4: makes a confirmed self-registration that no account has taken yet the first
/// customer user of a new customer. Every cause of failure that depends on the address (none
/// registered, taken by an account, or the customer title the person's name would give already
/// used) gets the one answer [`NO_REGISTERED_ACCOUNT`] after the same work, and counts towards
/// the caller's limit of refused addresses; a company name that is taken is said so before the
/// address is looked at, so that says nothing of it.
pub async fn add_by_account(
    state: &AppState,
    allowed: &Allowed<'_, CustomersCreate>,
    email: &Email,
    company_name: Option<String>,
    type_id: i64,
    owner_id: i64,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    addresses::guard(state, staff.user_id()).await?;
    let mut tx = state.db.begin().await?;
    match add_person(&mut tx, state, allowed, email, company_name, type_id, owner_id).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(id)
        }
        Err(error) => {
            drop(tx);
            if error.field_message(ACCOUNT_EMAIL.name).as_deref() == Some(NO_REGISTERED_ACCOUNT) {
                addresses::count_refusals(state, staff.user_id(), 1).await?;
            }
            Err(error)
        }
    }
}

async fn add_person(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersCreate>,
    email: &Email,
    company_name: Option<String>,
    type_id: i64,
    owner_id: i64,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let now = state.clock.now();
    let type_name = type_of_account(&mut *conn, account_id, type_id).await?;
    let owner = owner_in_scope(&mut *conn, staff, owner_id).await?;
    if let Some(name) = &company_name {
        if title_taken(&mut *conn, account_id, name).await? {
            return Err(AppError::field(COMPANY_NAME.name, "A customer with this title already exists. Enter another company name."));
        }
    }
    let neutral = || AppError::field(ACCOUNT_EMAIL.name, NO_REGISTERED_ACCOUNT);
    let person = sqlx::query!(
        "SELECT id, display_name, email FROM users
          WHERE lower(email) = lower($1) AND kind = 'registered' AND status = 'active' AND account_id IS NULL
          FOR NO KEY UPDATE",
        email.as_str()
    )
    .fetch_optional(&mut *conn)
    .await?;
    let title = company_name.clone().or_else(|| person.as_ref().map(|p| p.display_name.clone()));
    let usable = match (&person, title) {
        (Some(_), Some(title)) => {
            let free = company_name.is_some() || !title_taken(&mut *conn, account_id, &title).await?;
            free.then_some(title)
        }
        _ => None,
    };
    let (Some(person), Some(title)) = (person, usable) else {
        return Err(neutral());
    };
    let fields = CustomerFields {
        title: title.clone(),
        company_name: company_name.clone(),
        email: Some(person.email.clone()),
        phone: None,
        country: None,
        state: None,
        city: None,
        address: None,
        address2: None,
        zip: None,
        description: None,
    };
    let new = NewCustomer { fields: &fields, title: &title, customer_type_id: type_id, owner_company_id: owner_id, parent_id: None };
    let id = insert(&mut *conn, account_id, &new, now).await.map_err(|e| match e {
        AppError::Validation(_) => neutral(),
        other => other,
    })?;
    sqlx::query!(
        "UPDATE users SET kind = 'customer', account_id = $2, customer_id = $3, joined_by_account = true, updated_at = $4,
                          version = version + 1
          WHERE id = $1 AND account_id IS NULL",
        person.id,
        account_id,
        id,
        now
    )
    .execute(&mut *conn)
    .await?;
    // Their sessions started outside any account; they sign in again into the portal.
    session::end_all(&mut *conn, person.id).await?;
    let changes = serde_json::json!({ "title": title, "type": type_name, "owner": owner, "customer_user": person.email });
    Actor::staff(staff, now).audit(conn, Action::CustomerCreatedByAccount, Record::customer(id), changes).await?;
    Ok(id)
}

/// Takes a deleted group from every customer in it (the group's own feature deletes the group).
pub async fn leave_group(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersEdit>, group_id: i64) -> Result<u64, AppError> {
    Ok(sqlx::query!(
        "UPDATE customers SET group_ids = array_remove(group_ids, $2), version = version + 1
          WHERE account_id = $1 AND group_ids @> ARRAY[$2::bigint]",
        allowed.account_id(),
        group_id
    )
    .execute(conn)
    .await?
    .rows_affected())
}
