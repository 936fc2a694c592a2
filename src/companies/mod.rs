//! Companies (SPEC 3.1): the account's own company at the root, distributors and installers
//! below it to any depth. Create, rename, move (never under itself), delete (with what goes
//! named first). Every function works within the caller's scope (SPEC 2.4).

mod page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use page::CompaniesPage;

#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use crate::{
    error::AppError,
    validation::{required_text, NAME_MAX_CHARS},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompanyKind {
    Root,
    Distributor,
    Installer,
}

impl CompanyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyKind::Root => "root",
            CompanyKind::Distributor => "distributor",
            CompanyKind::Installer => "installer",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [CompanyKind::Root, CompanyKind::Distributor, CompanyKind::Installer]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            CompanyKind::Root => "Your business",
            CompanyKind::Distributor => "Distributor",
            CompanyKind::Installer => "Installer",
        }
    }
}

/// A company in the tree as the caller sees it: `depth` counts from the top of their scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyNode {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: CompanyKind,
    pub depth: usize,
    pub user_count: i64,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompanyTree {
    /// Depth-first, siblings by name: the order the tree is drawn in.
    pub nodes: Vec<CompanyNode>,
    pub can_manage: bool,
}

impl CompanyTree {
    /// `id` and every company below it.
    pub fn subtree(&self, id: i64) -> Vec<&CompanyNode> {
        let Some(start) = self.nodes.iter().position(|n| n.id == id) else {
            return Vec::new();
        };
        let depth = self.nodes[start].depth;
        std::iter::once(&self.nodes[start])
            .chain(self.nodes[start + 1..].iter().take_while(|n| n.depth > depth))
            .collect()
    }
}

/// What deleting a company takes with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletionPreview {
    pub name: String,
    /// The companies that go, the company itself first.
    pub companies: Vec<String>,
    /// People who still belong to one of them; while there are any, nothing is deleted.
    pub users: i64,
}

/// Orders companies depth first with siblings by name, from rows in any order.
pub fn arrange(rows: Vec<(i64, Option<i64>, String, CompanyKind, i64, i32)>, top: i64) -> Vec<CompanyNode> {
    fn visit(
        id: i64,
        depth: usize,
        rows: &[(i64, Option<i64>, String, CompanyKind, i64, i32)],
        out: &mut Vec<CompanyNode>,
    ) {
        let Some(row) = rows.iter().find(|r| r.0 == id) else { return };
        out.push(CompanyNode {
            id: row.0,
            parent_id: row.1,
            name: row.2.clone(),
            kind: row.3,
            depth,
            user_count: row.4,
            version: row.5,
        });
        let mut children: Vec<_> = rows.iter().filter(|r| r.1 == Some(id)).collect();
        children.sort_by_key(|r| (r.2.to_lowercase(), r.0));
        for child in children {
            visit(child.0, depth + 1, rows, out);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    visit(top, 0, &rows, &mut out);
    out
}

pub fn validate_company_name(name: &str) -> Result<String, String> {
    required_text(name, "a company name", NAME_MAX_CHARS)
}

/// Only distributors and installers can be created; the root exists once per account.
pub fn validate_new_kind(kind: &str) -> Result<CompanyKind, String> {
    match CompanyKind::parse(kind) {
        Some(kind @ (CompanyKind::Distributor | CompanyKind::Installer)) => Ok(kind),
        _ => Err("Choose Distributor or Installer.".into()),
    }
}

#[cfg(feature = "ssr")]
const NAME_TAKEN: crate::server::errors::Unique = crate::server::errors::Unique {
    constraint: "companies_sibling_name_key",
    field: "name",
    message: "A company with this name already exists at this place in the tree.",
};

#[server(prefix = "/api", endpoint = "companies")]
pub async fn list_companies() -> Result<CompanyTree, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesView)?;
    let mut conn = state.db.acquire().await?;
    let top = ssr::scope_root(&mut conn, &staff).await?;
    let rows = sqlx::query!(
        r#"SELECT c.id, c.parent_id, c.name, c.kind, c.version,
                  (SELECT count(*) FROM users u
                    WHERE u.account_id = c.account_id AND u.company_id = c.id
                      AND u.kind = 'staff' AND u.status <> 'removed') AS "users!"
             FROM companies c
            WHERE c.account_id = $1 AND c.path @> ARRAY[$2::bigint]"#,
        staff.account_id,
        top
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.parent_id, r.name, CompanyKind::parse(&r.kind).unwrap_or(CompanyKind::Installer), r.users, r.version))
    .collect();
    Ok(CompanyTree {
        nodes: arrange(rows, top),
        can_manage: staff.user.permissions.contains(&Permission::CompaniesManage),
    })
}

#[server(prefix = "/api", endpoint = "create_company")]
pub async fn create_company(parent_id: i64, name: String, kind: String) -> Result<i64, AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::{errors::db_error, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesManage)?;
    let mut errors = FieldErrors::default();
    let name = errors.take("name", validate_company_name(&name));
    let kind = errors.take("kind", validate_new_kind(&kind));
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let parent = ssr::company_in_scope_for_update(&mut tx, &staff, parent_id).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO companies (account_id, parent_id, name, kind, created_at, path)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        staff.account_id,
        parent.id,
        name,
        kind.as_str(),
        now,
        &parent.path
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
    sqlx::query!(
        "UPDATE companies SET path = path || id WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id
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
            action: "company.created",
            record_type: "company",
            record_id: Some(id),
            changes: serde_json::json!({ "name": name, "kind": kind.as_str(), "parent": parent.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[server(prefix = "/api", endpoint = "rename_company")]
pub async fn rename_company(id: i64, name: String, version: i32) -> Result<(), AppError> {
    use crate::{audit::ssr::{self as audit, Changes}, auth::ssr::sessions::require_staff, permissions::Permission, server::{errors::db_error, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesManage)?;
    let name = validate_company_name(&name).map_err(|m| AppError::field("name", m))?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let company = ssr::company_in_scope_for_update(&mut tx, &staff, id).await?;
    if company.version != version {
        return Err(AppError::Conflict);
    }
    sqlx::query!(
        "UPDATE companies SET name = $3, version = version + 1 WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        name
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "company.renamed",
            record_type: "company",
            record_id: Some(id),
            changes: Changes::default().field("name", &company.name, &name).into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "move_company")]
pub async fn move_company(id: i64, parent_id: i64, version: i32) -> Result<(), AppError> {
    use crate::{audit::ssr::{self as audit, Changes}, auth::ssr::sessions::require_staff, permissions::Permission, server::{errors::db_error, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    // Two companies each moved under the other would both pass the cycle check: moves take
    // their turn.
    crate::server::locks::lock(&mut tx, crate::server::locks::Guarded::CompanyTree, staff.account_id).await?;
    let top = ssr::scope_root(&mut tx, &staff).await?;
    let company = ssr::company_in_scope_for_update(&mut tx, &staff, id).await?;
    if company.id == top || company.parent_id.is_none() {
        return Err(AppError::Refused("This company is at the top of what you manage; it cannot be moved.".into()));
    }
    if company.version != version {
        return Err(AppError::Conflict);
    }
    let parent = ssr::company_in_scope_for_update(&mut tx, &staff, parent_id).await?;
    if company.contains(&parent) {
        return Err(AppError::field("parent_id", "A company cannot move under itself or one of its own sub-companies."));
    }
    if company.parent_id == Some(parent.id) {
        return Ok(());
    }
    let old_parent = sqlx::query_scalar!(
        "SELECT name FROM companies WHERE account_id = $1 AND id = $2",
        staff.account_id,
        company.parent_id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE companies SET parent_id = $3, version = version + 1 WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        parent.id
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[crate::server::errors::Unique { field: "parent_id", ..NAME_TAKEN }]))?;
    // Every company in the moved subtree gets the new ancestors in front of its own path.
    sqlx::query!(
        "UPDATE companies SET path = $3::bigint[] || path[array_position(path, $2::bigint):]
          WHERE account_id = $1 AND path @> ARRAY[$2::bigint]",
        staff.account_id,
        id,
        &parent.path
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
            action: "company.moved",
            record_type: "company",
            record_id: Some(id),
            changes: Changes::default().field("parent", &old_parent, &parent.name).into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "company_deletion")]
pub async fn preview_company_deletion(id: i64) -> Result<DeletionPreview, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesManage)?;
    let mut conn = state.db.acquire().await?;
    let company = ssr::company_in_scope(&mut conn, &staff, id).await?;
    preview(&mut conn, staff.account_id, &company).await
}

#[cfg(feature = "ssr")]
async fn preview(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    company: &ssr::CompanyRef,
) -> Result<DeletionPreview, AppError> {
    let companies = sqlx::query_scalar!(
        "SELECT name FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]
          ORDER BY cardinality(path), lower(name)",
        account_id,
        company.id
    )
    .fetch_all(&mut *conn)
    .await?;
    let users = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users u JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
            WHERE u.account_id = $1 AND c.path @> ARRAY[$2::bigint] AND u.status <> 'removed'"#,
        account_id,
        company.id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(DeletionPreview { name: company.name.clone(), companies, users })
}

/// Deletes the company and the companies below it. `expected_companies` is how many the user
/// was shown would go: if the tree changed since, nothing is deleted.
#[server(prefix = "/api", endpoint = "delete_company")]
pub async fn delete_company(id: i64, expected_companies: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CompaniesManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    // Two companies each moved under the other would both pass the cycle check: moves take
    // their turn.
    crate::server::locks::lock(&mut tx, crate::server::locks::Guarded::CompanyTree, staff.account_id).await?;
    let top = ssr::scope_root(&mut tx, &staff).await?;
    let company = ssr::company_in_scope_for_update(&mut tx, &staff, id).await?;
    if company.id == top || company.parent_id.is_none() {
        return Err(AppError::Refused("This company is at the top of what you manage; it cannot be deleted.".into()));
    }
    let preview = preview(&mut tx, staff.account_id, &company).await?;
    if preview.users > 0 {
        return Err(AppError::Refused(format!(
            "{} still has {} {} in it or below it. Move or remove them first.",
            company.name,
            preview.users,
            if preview.users == 1 { "person" } else { "people" }
        )));
    }
    if preview.companies.len() as i64 != expected_companies {
        return Err(AppError::Conflict);
    }
    // Removed users keep their history but lose the company (the foreign key sets it to null).
    sqlx::query!(
        "DELETE FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]",
        staff.account_id,
        company.id
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
            action: "company.deleted",
            record_type: "company",
            record_id: Some(company.id),
            changes: serde_json::json!({ "companies": preview.companies }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, parent: Option<i64>, name: &str) -> (i64, Option<i64>, String, CompanyKind, i64, i32) {
        (id, parent, name.into(), CompanyKind::Distributor, 0, 1)
    }

    #[test]
    fn the_tree_is_drawn_depth_first_with_siblings_by_name() {
        let rows = vec![row(5, Some(2), "zeta"), row(1, None, "Root"), row(2, Some(1), "Beta"), row(3, Some(1), "alpha"), row(4, Some(2), "Eta")];
        let nodes = arrange(rows, 1);
        let order: Vec<(i64, usize)> = nodes.iter().map(|n| (n.id, n.depth)).collect();
        assert_eq!(order, [(1, 0), (3, 1), (2, 1), (4, 2), (5, 2)]);
        let tree = CompanyTree { nodes, can_manage: true };
        assert_eq!(tree.subtree(2).iter().map(|n| n.id).collect::<Vec<_>>(), [2, 4, 5]);
        assert_eq!(tree.subtree(3).len(), 1);
    }

    #[test]
    fn a_scope_shows_only_its_own_branch() {
        let rows = vec![row(2, Some(1), "Branch"), row(4, Some(2), "Leaf")];
        let nodes = arrange(rows, 2);
        assert_eq!(nodes.iter().map(|n| (n.id, n.depth)).collect::<Vec<_>>(), [(2, 0), (4, 1)]);
    }

    #[test]
    fn only_distributors_and_installers_are_created() {
        assert_eq!(validate_new_kind("installer"), Ok(CompanyKind::Installer));
        assert!(validate_new_kind("root").is_err());
        assert!(validate_new_kind("").is_err());
        assert!(validate_company_name(" ").is_err());
    }
}
