//! Every query of customer groups (membership itself is written by the customers feature).

use super::{GroupList, GroupView};
use crate::{
    companies::ssr::scope_companies,
    error::AppError,
    permissions::{
        grant::{CustomersEdit, CustomersView},
        Permission,
    },
    server::{
        capability::Allowed,
        errors::{db_error, Unique},
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgConnection;

const NAME_TAKEN: Unique = Unique { constraint: "customer_groups_name_key", field: super::NAME.name, message: "A group with this name already exists." };

pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersView>) -> Result<GroupList, AppError> {
    let account_id = allowed.account_id();
    let all_count = sqlx::query_scalar!("SELECT customer_count FROM accounts WHERE id = $1", account_id).fetch_one(&mut *conn).await?;
    let groups = sqlx::query_as!(
        GroupView,
        "SELECT id, name, member_count, version FROM customer_groups WHERE account_id = $1 ORDER BY lower(name)",
        account_id
    )
    .fetch_all(conn)
    .await?;
    Ok(GroupList { all_count, groups, can_manage: allowed.staff().holds(Permission::CustomersEdit) })
}

/// Creates a group (`id` none) or renames one.
pub async fn save(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomersEdit>,
    id: Option<i64>,
    name: &str,
    version: Option<i32>,
) -> Result<i64, AppError> {
    let account_id = allowed.account_id();
    let (group_id, action, changes) = match id {
        None => {
            let group_id = sqlx::query_scalar!(
                "INSERT INTO customer_groups (account_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
                account_id,
                name,
                state.clock.now()
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (group_id, Action::CustomerGroupCreated, serde_json::json!({ "name": name }))
        }
        Some(id) => {
            let before = sqlx::query!("SELECT name, version FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE", account_id, id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(AppError::NotFound)?;
            if Some(before.version) != version {
                return Err(AppError::Conflict);
            }
            sqlx::query!("UPDATE customer_groups SET name = $3, version = version + 1 WHERE account_id = $1 AND id = $2", account_id, id, name)
                .execute(&mut *conn)
                .await
                .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (id, Action::CustomerGroupRenamed, Changes::default().field("name", &before.name, &name.to_owned()).into())
        }
    };
    Actor::staff(allowed.staff(), state.clock.now()).audit(conn, action, Record::customer_group(group_id), changes).await?;
    Ok(group_id)
}

/// Deletes a group and takes it from its members. Members outside the caller's companies are
/// not theirs to change (Administrators act on the whole account).
pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomersEdit>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    sqlx::query_scalar!("SELECT id FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE", account_id, id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(scope) = scope_companies(&mut *conn, staff).await? {
        let outside = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM customers
                WHERE account_id = $1 AND group_ids @> ARRAY[$2::bigint] AND NOT owner_company_id = ANY($3)"#,
            account_id,
            id,
            &scope
        )
        .fetch_one(&mut *conn)
        .await?;
        if outside > 0 {
            return Err(AppError::Refused(format!(
                "{outside} {} in this group {} to companies you do not manage, so you cannot delete it. Ask an Administrator.",
                if outside == 1 { "customer" } else { "customers" },
                if outside == 1 { "belongs" } else { "belong" },
            )));
        }
    }
    let name = sqlx::query_scalar!("DELETE FROM customer_groups WHERE account_id = $1 AND id = $2 RETURNING name", account_id, id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!(
        "UPDATE customers SET group_ids = array_remove(group_ids, $2), version = version + 1
          WHERE account_id = $1 AND group_ids @> ARRAY[$2::bigint]",
        account_id,
        id
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::CustomerGroupDeleted, Record::customer_group(id), serde_json::json!({ "name": name }))
        .await
}
