//! Every query of roles, and the rule that governs them (SPEC 2.3): a role is given, changed or
//! deleted only by someone at least its rank who holds every permission it carries; nobody
//! changes the role they hold; and a staff member below the Administrators changes no role that
//! people outside their companies hold.

use super::{RoleInput, RoleList, RoleView, NAME};
use crate::{
    error::AppError,
    permissions::{describe, grant::UsersManage, grant::UsersView, Authority, Permission},
    server::{
        capability::{Allowed, Staff},
        errors::{db_error, Unique},
        locks::{self, Guarded},
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgConnection;

const NAME_TAKEN: Unique = Unique { constraint: "roles_name_key", field: NAME.name, message: "A role with this name already exists." };

/// A role of the caller's account, as a lookup found it.
pub struct RoleRow {
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub builtin: Option<String>,
    pub version: i32,
    /// The role's rank and permissions.
    pub authority: Authority,
}

/// The role `id` of the caller's account ("not found" for any other id).
pub async fn role(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<RoleRow, AppError> {
    let row = sqlx::query!(
        r#"SELECT r.id, r.name, r.rank, r.builtin, r.version,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!"
             FROM roles r WHERE r.account_id = $1 AND r.id = $2"#,
        staff.account_id(),
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(RoleRow {
        authority: Authority::from_keys(row.rank, &row.permissions),
        id: row.id,
        name: row.name,
        rank: row.rank,
        builtin: row.builtin,
        version: row.version,
    })
}

/// The role `id`, if the caller may give it to someone (SPEC 2.3): its rank is at or below
/// theirs and they hold every permission it carries.
pub async fn assignable_role(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<RoleRow, AppError> {
    let role = role(conn, staff, id).await?;
    let own = staff.authority();
    if own.covers(&role.authority) {
        return Ok(role);
    }
    let why = if role.rank < own.rank {
        "it has more authority than yours".to_owned()
    } else {
        format!("it holds permissions you do not have ({})", describe(&own.missing(&role.authority)))
    };
    Err(AppError::field("role_id", format!("You cannot assign the {} role: {why}.", role.name)))
}

/// The roles the caller may give, most authority first: the choices of a role field.
pub async fn assignable_choices(conn: &mut PgConnection, staff: &Staff) -> Result<Vec<(i64, String)>, AppError> {
    let own = staff.authority();
    Ok(sqlx::query!(
        r#"SELECT r.id, r.name, r.rank,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!"
             FROM roles r WHERE r.account_id = $1 AND r.rank >= $2 ORDER BY r.rank, lower(r.name)"#,
        staff.account_id(),
        staff.role().rank()
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .filter(|r| own.covers(&Authority::from_keys(r.rank, &r.permissions)))
    .map(|r| (r.id, r.name))
    .collect())
}

/// Every role of the account, by rank then name: the choices of a role filter.
pub async fn all_choices(conn: &mut PgConnection, staff: &Staff) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query!("SELECT id, name FROM roles WHERE account_id = $1 ORDER BY rank, lower(name)", staff.account_id())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect())
}

pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, UsersView>) -> Result<RoleList, AppError> {
    let staff = allowed.staff();
    let can_manage = staff.holds(Permission::UsersManage);
    let own = staff.authority();
    let rows = sqlx::query!(
        r#"SELECT r.id, r.name, r.rank, r.builtin, r.version,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!",
                  (SELECT count(*) FROM users u WHERE u.account_id = r.account_id AND u.role_id = r.id
                      AND u.status <> 'removed') AS "users!"
             FROM roles r WHERE r.account_id = $1 ORDER BY r.rank, lower(r.name)"#,
        staff.account_id()
    )
    .fetch_all(&mut *conn)
    .await?;
    let outside = held_outside_scope(&mut *conn, staff).await?;
    let roles = rows
        .into_iter()
        .map(|r| {
            let authority = Authority::from_keys(r.rank, &r.permissions);
            let covered = own.covers(&authority);
            RoleView {
                assignable: covered,
                // Changing the permissions of the role you hold would change your own, and a
                // role people elsewhere hold is theirs to change who manages them.
                editable: can_manage && r.builtin.is_none() && covered && r.id != staff.role().id() && !outside.contains(&r.id),
                id: r.id,
                name: r.name,
                rank: r.rank,
                builtin: r.builtin.is_some(),
                permissions: authority.permissions,
                user_count: r.users,
                version: r.version,
            }
        })
        .collect();
    Ok(RoleList { roles, can_manage, own_rank: staff.role().rank(), own_permissions: staff.user().permissions().iter().copied().collect() })
}

/// The roles that people outside the caller's companies hold (none for an Administrator).
async fn held_outside_scope(conn: &mut PgConnection, staff: &Staff) -> Result<Vec<i64>, AppError> {
    let Some(scope) = crate::companies::ssr::scope_companies(&mut *conn, staff).await? else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT role_id AS "role_id!" FROM users
            WHERE account_id = $1 AND kind = 'staff' AND status <> 'removed' AND role_id IS NOT NULL
              AND (company_id IS NULL OR NOT company_id = ANY($2))"#,
        staff.account_id(),
        &scope
    )
    .fetch_all(conn)
    .await?)
}

/// Refuses a change of `role` that the caller may not make: built-in, held by themself, above
/// their authority, or held by people outside their companies.
async fn ensure_changeable(conn: &mut PgConnection, staff: &Staff, role: &RoleRow, what: &str) -> Result<(), AppError> {
    if role.builtin.is_some() {
        return Err(AppError::Refused(format!("Built-in roles cannot be {what}. Create a custom role instead.")));
    }
    if role.id == staff.role().id() {
        return Err(AppError::Refused("You cannot change the role you hold yourself. Ask someone above you to change it.".into()));
    }
    if !staff.authority().covers(&role.authority) {
        return Err(AppError::Forbidden);
    }
    if held_outside_scope(&mut *conn, staff).await?.contains(&role.id) {
        return Err(AppError::Refused(format!(
            "People outside the companies you manage hold the {} role; only someone who manages them can change it.",
            role.name
        )));
    }
    Ok(())
}

/// Creates a custom role (`id` none) or changes one.
pub async fn save(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, UsersManage>,
    id: Option<i64>,
    input: &RoleInput,
    version: Option<i32>,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let keys: Vec<String> = input.permissions.iter().map(|p| p.key().to_owned()).collect();
    let (role_id, action, changes) = match id {
        None => {
            let role_id = sqlx::query_scalar!(
                "INSERT INTO roles (account_id, name, rank, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                staff.account_id(),
                input.name,
                input.rank,
                state.clock.now()
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (role_id, Action::RoleCreated, serde_json::json!({ "name": input.name, "rank": input.rank, "permissions": keys }))
        }
        Some(id) => {
            // Who holds what changes with the role: one such change at a time per account.
            locks::lock(&mut *conn, Guarded::Authority, staff.account_id()).await?;
            staff.recheck(&mut *conn).await?;
            let before = role(&mut *conn, staff, id).await?;
            ensure_changeable(&mut *conn, staff, &before, "changed").await?;
            if Some(before.version) != version {
                return Err(AppError::Conflict);
            }
            let old_keys = sqlx::query_scalar!(
                "SELECT permission FROM role_permissions WHERE account_id = $1 AND role_id = $2 ORDER BY permission",
                staff.account_id(),
                id
            )
            .fetch_all(&mut *conn)
            .await?;
            sqlx::query!(
                "UPDATE roles SET name = $3, rank = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
                staff.account_id(),
                id,
                input.name,
                input.rank
            )
            .execute(&mut *conn)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            sqlx::query!("DELETE FROM role_permissions WHERE account_id = $1 AND role_id = $2", staff.account_id(), id)
                .execute(&mut *conn)
                .await?;
            let mut sorted = keys.clone();
            sorted.sort();
            let changes = Changes::default()
                .field("name", &before.name, &input.name)
                .field("rank", &before.rank, &input.rank)
                .field("permissions", &old_keys, &sorted);
            (id, Action::RoleUpdated, changes.into())
        }
    };
    sqlx::query!(
        "INSERT INTO role_permissions (account_id, role_id, permission) SELECT $1, $2, unnest($3::text[])",
        staff.account_id(),
        role_id,
        &keys
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, state.clock.now()).audit(conn, action, Record::role(role_id), changes).await?;
    Ok(role_id)
}

/// Deletes a custom role nobody holds.
pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, UsersManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    locks::lock(&mut *conn, Guarded::Authority, staff.account_id()).await?;
    let role = role(&mut *conn, staff, id).await?;
    if role.builtin.is_some() {
        return Err(AppError::Refused("Built-in roles cannot be deleted.".into()));
    }
    if !staff.authority().covers(&role.authority) {
        return Err(AppError::Forbidden);
    }
    let users = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE account_id = $1 AND role_id = $2 AND status <> 'removed'"#,
        staff.account_id(),
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if users > 0 {
        return Err(AppError::Refused(format!(
            "{} {} the {} role. Give them another role first.",
            users,
            if users == 1 { "person has" } else { "people have" },
            role.name
        )));
    }
    Actor::staff(staff, state.clock.now()).audit(&mut *conn, Action::RoleDeleted, Record::role(id), serde_json::json!({ "name": role.name })).await?;
    sqlx::query!("DELETE FROM roles WHERE account_id = $1 AND id = $2", staff.account_id(), id).execute(conn).await?;
    Ok(())
}
