//! Every query of customer types. A type is account-wide, but what it grants reaches every
//! customer of it: someone who manages only some companies may change a type only while all
//! its customers are theirs (an Administrator always may).

use super::{CustomerTypeInput, CustomerTypeList, CustomerTypeView};
use crate::{
    companies::ssr::scope_companies,
    error::AppError,
    permissions::{
        grant::{CustomerTypesManage, CustomerTypesView},
        CustomerFeature, Permission,
    },
    server::{
        capability::{Allowed, Staff},
        errors::{db_error, Unique},
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgConnection;

const NAME_TAKEN: Unique =
    Unique { constraint: "customer_types_name_key", field: super::NAME.name, message: "A customer type with this name already exists." };

/// The account's types; the counts are of the customers the caller may see.
pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, CustomerTypesView>) -> Result<CustomerTypeList, AppError> {
    let staff = allowed.staff();
    let can_manage = staff.holds(Permission::CustomerTypesManage);
    let scope = scope_companies(&mut *conn, staff).await?;
    let outside = used_outside_scope(&mut *conn, staff).await?;
    let types = sqlx::query!(
        r#"SELECT t.id, t.name, t.description, t.features, t.is_default, t.version,
                  (SELECT count(*) FROM customers c WHERE c.account_id = t.account_id AND c.customer_type_id = t.id
                      AND ($2::bigint[] IS NULL OR c.owner_company_id = ANY($2))) AS "customers!"
             FROM customer_types t WHERE t.account_id = $1 ORDER BY t.is_default DESC, lower(t.name)"#,
        staff.account_id(),
        scope.as_deref()
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| CustomerTypeView {
        editable: can_manage && !outside.contains(&r.id),
        id: r.id,
        name: r.name,
        description: r.description,
        features: r.features.iter().filter_map(|k| CustomerFeature::from_key(k)).collect(),
        is_default: r.is_default,
        customer_count: r.customers,
        version: r.version,
    })
    .collect();
    Ok(CustomerTypeList { types, can_manage })
}

/// The types that customers outside the caller's companies have (none for an Administrator).
async fn used_outside_scope(conn: &mut PgConnection, staff: &Staff) -> Result<Vec<i64>, AppError> {
    let Some(scope) = scope_companies(&mut *conn, staff).await? else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query_scalar!(
        "SELECT DISTINCT customer_type_id FROM customers WHERE account_id = $1 AND NOT owner_company_id = ANY($2)",
        staff.account_id(),
        &scope
    )
    .fetch_all(conn)
    .await?)
}

async fn ensure_changeable(conn: &mut PgConnection, staff: &Staff, id: i64, name: &str) -> Result<(), AppError> {
    if used_outside_scope(conn, staff).await?.contains(&id) {
        return Err(AppError::Refused(format!(
            "Customers outside the companies you manage have the type {name}; only someone who manages them can change it."
        )));
    }
    Ok(())
}

/// Creates a type (`id` none) or changes one; `make_default` moves the default to it.
pub async fn save(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomerTypesManage>,
    id: Option<i64>,
    input: &CustomerTypeInput,
    make_default: bool,
    version: Option<i32>,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let keys: Vec<String> = input.features.iter().map(|f| f.key().to_owned()).collect();
    let (type_id, action, changes) = match id {
        None => {
            let type_id = sqlx::query_scalar!(
                "INSERT INTO customer_types (account_id, name, description, features, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                account_id,
                input.name,
                input.description,
                &keys,
                state.clock.now()
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (type_id, Action::CustomerTypeCreated, serde_json::json!({ "name": input.name, "features": keys }))
        }
        Some(id) => {
            let before = sqlx::query!(
                "SELECT name, description, features, version FROM customer_types WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE",
                account_id,
                id
            )
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(AppError::NotFound)?;
            if Some(before.version) != version {
                return Err(AppError::Conflict);
            }
            ensure_changeable(&mut *conn, staff, id, &before.name).await?;
            sqlx::query!(
                "UPDATE customer_types SET name = $3, description = $4, features = $5, version = version + 1
                  WHERE account_id = $1 AND id = $2",
                account_id,
                id,
                input.name,
                input.description,
                &keys
            )
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            let changes: serde_json::Value = Changes::default()
                .field("name", &before.name, &input.name)
                .field("description", &before.description, &input.description)
                .field("features", &before.features, &keys)
                .into();
            (id, Action::CustomerTypeUpdated, changes)
        }
    };
    if make_default {
        sqlx::query!(
            "UPDATE customer_types SET is_default = (id = $2) WHERE account_id = $1 AND (is_default OR id = $2)",
            account_id,
            type_id
        )
        .execute(&mut *conn)
        .await?;
    }
    Actor::staff(staff, state.clock.now()).audit(conn, action, Record::customer_type(type_id), changes).await?;
    Ok(type_id)
}

/// Deletes a type no customer has, unless it is the default.
pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomerTypesManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let row = sqlx::query!("SELECT name, is_default FROM customer_types WHERE account_id = $1 AND id = $2 FOR UPDATE", account_id, id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.is_default {
        return Err(AppError::Refused(format!("{} is the default type. Make another type the default first.", row.name)));
    }
    ensure_changeable(&mut *conn, staff, id, &row.name).await?;
    let in_use = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customers WHERE account_id = $1 AND customer_type_id = $2"#,
        account_id,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if in_use > 0 {
        return Err(AppError::Refused(format!(
            "{} {} the type {}. Give {} another type first.",
            in_use,
            if in_use == 1 { "customer has" } else { "customers have" },
            row.name,
            if in_use == 1 { "it" } else { "them" }
        )));
    }
    Actor::staff(staff, state.clock.now())
        .audit(&mut *conn, Action::CustomerTypeDeleted, Record::customer_type(id), serde_json::json!({ "name": row.name }))
        .await?;
    sqlx::query!("DELETE FROM customer_types WHERE account_id = $1 AND id = $2", account_id, id).execute(conn).await?;
    Ok(())
}
