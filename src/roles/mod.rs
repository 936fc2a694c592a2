//! Staff roles (SPEC 2.1–2.3): the four built-in ranked roles and the account's custom roles,
//! each a name, a rank and a set of permissions from the shared catalogue. A user manages only
//! roles at or below their own authority, and never grants a permission they lack.

mod page;

pub use page::{RoleEditorPage, RolesPage};

use crate::{
    error::{AppError, FieldErrors},
    permissions::{Permission, ADMINISTRATOR_RANK},
    validation::required_text,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const ROLE_NAME_MAX_CHARS: usize = 60;
pub const ROLE_RANK_MAX: i32 = 99;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleView {
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub builtin: bool,
    pub permissions: Vec<Permission>,
    pub user_count: i64,
    pub version: i32,
    /// The caller may give this role to someone (SPEC 2.3).
    pub assignable: bool,
    /// The caller may change or delete this role.
    pub editable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleList {
    pub roles: Vec<RoleView>,
    pub can_manage: bool,
    /// The caller's own rank: the smallest rank they may give a role.
    pub own_rank: i32,
    /// The permissions the caller holds, the only ones they may grant.
    pub own_permissions: Vec<Permission>,
}

/// The validated role form.
#[derive(Debug)]
pub struct RoleInput {
    pub name: String,
    pub rank: i32,
    pub permissions: Vec<Permission>,
}

/// Checks a custom role as `own_rank` / `own_permissions` may define it.
pub fn validate_role(
    name: &str,
    rank: &str,
    permissions: &[String],
    own_rank: i32,
    own_permissions: &[Permission],
) -> Result<RoleInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.take("name", required_text(name, "a role name", ROLE_NAME_MAX_CHARS));
    let lowest = own_rank.max(ADMINISTRATOR_RANK + 1);
    let rank = errors.take(
        "rank",
        match rank.trim().parse::<i32>() {
            Ok(r) if r < lowest && lowest == 1 => Err("Rank 0 belongs to the Administrator alone; use 1 or more.".into()),
            Ok(r) if r < lowest => Err(format!("You can create roles of rank {lowest} or more (yours is {own_rank}).")),
            Ok(r) if r > ROLE_RANK_MAX => Err(format!("Use a rank of at most {ROLE_RANK_MAX}.")),
            Ok(r) => Ok(r),
            Err(_) => Err("Enter the rank as a whole number.".into()),
        },
    );
    let mut chosen = Vec::new();
    for key in permissions {
        match Permission::from_key(key) {
            Some(p) if own_permissions.contains(&p) => chosen.push(p),
            Some(p) => errors.add(
                "permissions",
                format!("You cannot grant “{} – {}”, which you do not hold yourself.", p.module().label(), p.label()),
            ),
            None => errors.add("permissions", "Choose permissions from the list."),
        }
    }
    chosen.sort();
    chosen.dedup();
    match (name, rank) {
        (Some(name), Some(rank)) if errors.is_empty() => Ok(RoleInput { name, rank, permissions: chosen }),
        _ => Err(errors),
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::{auth::ssr::sessions::Staff, error::AppError, permissions::Authority};
    use sqlx::PgConnection;

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
            staff.account_id,
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
            format!("it holds permissions you do not have ({})", crate::permissions::describe(&own.missing(&role.authority)))
        };
        Err(AppError::field("role_id", format!("You cannot assign the {} role: {why}.", role.name)))
    }
}

#[server(prefix = "/api", endpoint = "roles")]
pub async fn list_roles() -> Result<RoleList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Authority, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersView)?;
    let can_manage = staff.user.permissions.contains(&Permission::UsersManage);
    let own = staff.authority();
    let rows = sqlx::query!(
        r#"SELECT r.id, r.name, r.rank, r.builtin, r.version,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!",
                  (SELECT count(*) FROM users u WHERE u.account_id = r.account_id AND u.role_id = r.id
                      AND u.status <> 'removed') AS "users!"
             FROM roles r WHERE r.account_id = $1 ORDER BY r.rank, lower(r.name)"#,
        staff.account_id
    )
    .fetch_all(&state.db)
    .await?;
    let roles = rows
        .into_iter()
        .map(|r| {
            let authority = Authority::from_keys(r.rank, &r.permissions);
            let covered = own.covers(&authority);
            RoleView {
                assignable: covered,
                // Changing the permissions of the role you hold would change your own.
                editable: can_manage && r.builtin.is_none() && covered && r.id != staff.role.id,
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
    Ok(RoleList {
        roles,
        can_manage,
        own_rank: staff.role.rank,
        own_permissions: staff.user.permissions.iter().copied().collect(),
    })
}

/// Creates a custom role (`id` empty) or changes one.
#[server(prefix = "/api", endpoint = "save_role")]
pub async fn save_role(
    id: Option<i64>,
    name: String,
    rank: String,
    #[server(default)] permissions: Vec<String>,
    version: Option<i32>,
) -> Result<i64, AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::sessions::require_staff,
        server::{errors::{db_error, Unique}, locks, state::app_state},
    };
    const NAME_TAKEN: Unique = Unique { constraint: "roles_name_key", field: "name", message: "A role with this name already exists." };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let own: Vec<Permission> = staff.user.permissions.iter().copied().collect();
    let input = validate_role(&name, &rank, &permissions, staff.role.rank, &own).map_err(AppError::Validation)?;
    let keys: Vec<String> = input.permissions.iter().map(|p| p.key().to_owned()).collect();
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (role_id, action, changes) = match id {
        None => {
            let role_id = sqlx::query_scalar!(
                "INSERT INTO roles (account_id, name, rank, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                staff.account_id,
                input.name,
                input.rank,
                now
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (role_id, "role.created", serde_json::json!({ "name": input.name, "rank": input.rank, "permissions": keys }))
        }
        Some(id) => {
            // Who holds what changes with the role: one such change at a time per account.
            locks::lock(&mut tx, locks::Guarded::Authority, staff.account_id).await?;
            staff.recheck(&mut tx).await?;
            let before = ssr::role(&mut tx, &staff, id).await?;
            if before.builtin.is_some() {
                return Err(AppError::Refused("Built-in roles cannot be changed. Create a custom role instead.".into()));
            }
            if before.id == staff.role.id {
                return Err(AppError::Refused(
                    "You cannot change the role you hold yourself. Ask someone above you to change it.".into(),
                ));
            }
            if !staff.authority().covers(&before.authority) {
                return Err(AppError::Forbidden);
            }
            if Some(before.version) != version {
                return Err(AppError::Conflict);
            }
            let old_keys = sqlx::query_scalar!(
                "SELECT permission FROM role_permissions WHERE account_id = $1 AND role_id = $2 ORDER BY permission",
                staff.account_id,
                id
            )
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE roles SET name = $3, rank = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
                staff.account_id,
                id,
                input.name,
                input.rank
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            sqlx::query!("DELETE FROM role_permissions WHERE account_id = $1 AND role_id = $2", staff.account_id, id)
                .execute(&mut *tx)
                .await?;
            let mut sorted = keys.clone();
            sorted.sort();
            let changes = Changes::default()
                .field("name", &before.name, &input.name)
                .field("rank", &before.rank, &input.rank)
                .field("permissions", &old_keys, &sorted)
                .into_value();
            (id, "role.updated", changes)
        }
    };
    sqlx::query!(
        "INSERT INTO role_permissions (account_id, role_id, permission) SELECT $1, $2, unnest($3::text[])",
        staff.account_id,
        role_id,
        &keys
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action,
            record_type: "role",
            record_id: Some(role_id),
            changes,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(role_id)
}

#[server(prefix = "/api", endpoint = "delete_role")]
pub async fn delete_role(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, server::{locks, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    locks::lock(&mut tx, locks::Guarded::Authority, staff.account_id).await?;
    let role = ssr::role(&mut tx, &staff, id).await?;
    if role.builtin.is_some() {
        return Err(AppError::Refused("Built-in roles cannot be deleted.".into()));
    }
    if !staff.authority().covers(&role.authority) {
        return Err(AppError::Forbidden);
    }
    let users = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE account_id = $1 AND role_id = $2 AND status <> 'removed'"#,
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if users > 0 {
        return Err(AppError::Refused(format!(
            "{} {} the {} role. Give them another role first.",
            users,
            if users == 1 { "person has" } else { "people have" },
            role.name
        )));
    }
    sqlx::query!("DELETE FROM roles WHERE account_id = $1 AND id = $2", staff.account_id, id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "role.deleted",
            record_type: "role",
            record_id: Some(id),
            changes: serde_json::json!({ "name": role.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::BuiltinRole;

    #[test]
    fn custom_roles_need_a_rank_of_one_or_more_and_at_least_the_authors() {
        let all = Permission::ALL.to_vec();
        assert!(validate_role("Support", "0", &[], 0, &all).unwrap_err().get("rank").unwrap().contains("Administrator alone"));
        assert!(validate_role("Support", "1", &[], 0, &all).is_ok());
        let manager = BuiltinRole::CommonManager.rank();
        assert!(validate_role("Support", "0", &[], manager, &all).is_err());
        assert!(validate_role("Support", "1", &[], manager, &all).is_ok());
        let engineer = BuiltinRole::OperationsEngineer.rank();
        assert!(validate_role("Support", "1", &[], engineer, &all).unwrap_err().get("rank").unwrap().contains("rank 2 or more"));
        assert!(validate_role("Support", "x", &[], 0, &all).is_err());
        assert!(validate_role("Support", "100", &[], 0, &all).is_err());
    }

    #[test]
    fn nobody_grants_a_permission_they_lack() {
        let owner = BuiltinRole::Owner.default_permissions();
        let ok = validate_role("Viewer", "3", &["customers.view".into()], 3, &owner).unwrap();
        assert_eq!(ok.permissions, [Permission::CustomersView]);
        let err = validate_role("Viewer", "3", &["users.manage".into()], 3, &owner).unwrap_err();
        assert!(err.get("permissions").unwrap().contains("do not hold"));
        assert!(validate_role("Viewer", "3", &["made.up".into()], 3, &owner).is_err());
    }
}
