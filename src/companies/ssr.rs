//! Every query of the company tree, and scope (SPEC 2.4): a staff member acts on their company
//! and the companies below it; an Administrator on the whole account. Every lookup here is by
//! account and scope at once, so a company outside either is simply "not found", and only this
//! module makes a [`CompanyRef`].

use super::{arrange, CompanyKind, CompanyTree, DeletionPreview, NAME, PARENT};
use crate::{
    error::AppError,
    permissions::grant::{CompaniesManage, CompaniesView},
    server::{
        capability::{Allowed, Staff},
        errors::{db_error, Unique},
        locks::{self, Guarded},
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record},
};
use sqlx::PgConnection;

const NAME_TAKEN: Unique = Unique {
    constraint: "companies_sibling_name_key",
    field: NAME.name,
    message: "A company with this name already exists at this place in the tree.",
};

/// A company inside the caller's scope, as the scope query found it.
#[derive(Clone, Debug)]
pub struct CompanyRef {
    id: i64,
    parent_id: Option<i64>,
    name: String,
    path: Vec<i64>,
    version: i32,
}

impl CompanyRef {
    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `other` is this company or below it.
    pub fn contains(&self, other: &CompanyRef) -> bool {
        other.path.contains(&self.id)
    }
}

/// The company at the top of what `staff` may act on.
pub async fn scope_root(conn: &mut PgConnection, staff: &Staff) -> Result<i64, AppError> {
    if staff.is_administrator() {
        let root = sqlx::query_scalar!("SELECT id FROM companies WHERE account_id = $1 AND parent_id IS NULL", staff.account_id())
            .fetch_one(conn)
            .await?;
        Ok(root)
    } else {
        Ok(staff.company_id())
    }
}

/// The companies whose people and customers the caller may act on; `None` means the whole
/// account (an Administrator).
pub async fn scope_companies(conn: &mut PgConnection, staff: &Staff) -> Result<Option<Vec<i64>>, AppError> {
    if staff.is_administrator() {
        return Ok(None);
    }
    let ids = sqlx::query_scalar!(
        "SELECT id FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]",
        staff.account_id(),
        staff.company_id()
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(ids))
}

/// The company `id` if it is in the caller's account and scope; "not found" otherwise.
pub async fn company_in_scope(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<CompanyRef, AppError> {
    let root = scope_root(&mut *conn, staff).await?;
    sqlx::query_as!(
        CompanyRef,
        "SELECT id, parent_id, name, path, version FROM companies
          WHERE account_id = $1 AND id = $2 AND path @> ARRAY[$3::bigint]",
        staff.account_id(),
        id,
        root
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// Like [`company_in_scope`], locking the row for the rest of the transaction (without
/// blocking the rows that merely refer to it).
pub async fn company_in_scope_for_update(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<CompanyRef, AppError> {
    let root = scope_root(&mut *conn, staff).await?;
    sqlx::query_as!(
        CompanyRef,
        "SELECT id, parent_id, name, path, version FROM companies
          WHERE account_id = $1 AND id = $2 AND path @> ARRAY[$3::bigint]
          FOR NO KEY UPDATE",
        staff.account_id(),
        id,
        root
    )
    .fetch_optional(conn)
    .await?
    .ok_or(AppError::NotFound)
}

/// The companies in scope as a tree, indented by depth from the top of the scope: the choices
/// of a company field.
pub async fn choices(conn: &mut PgConnection, staff: &Staff) -> Result<Vec<(i64, String)>, AppError> {
    let top = scope_root(&mut *conn, staff).await?;
    let companies = sqlx::query!(
        r#"SELECT id, name, cardinality(path) AS "depth!" FROM companies
            WHERE account_id = $1 AND path @> ARRAY[$2::bigint] ORDER BY path"#,
        staff.account_id(),
        top
    )
    .fetch_all(conn)
    .await?;
    let base_depth = companies.first().map(|c| c.depth).unwrap_or(1);
    Ok(companies
        .into_iter()
        .map(|c| (c.id, format!("{}{}", "— ".repeat((c.depth - base_depth).max(0) as usize), c.name)))
        .collect())
}

/// The caller's own company, alone: the one choice of someone who may not see the tree.
pub async fn own_company(conn: &mut PgConnection, staff: &Staff) -> Result<(i64, String), AppError> {
    let name = sqlx::query_scalar!("SELECT name FROM companies WHERE account_id = $1 AND id = $2", staff.account_id(), staff.company_id())
        .fetch_one(conn)
        .await?;
    Ok((staff.company_id(), name))
}

pub async fn tree(conn: &mut PgConnection, allowed: &Allowed<'_, CompaniesView>) -> Result<CompanyTree, AppError> {
    let staff = allowed.staff();
    let top = scope_root(&mut *conn, staff).await?;
    let rows = sqlx::query!(
        r#"SELECT c.id, c.parent_id, c.name, c.kind, c.version,
                  (SELECT count(*) FROM users u
                    WHERE u.account_id = c.account_id AND u.company_id = c.id
                      AND u.kind = 'staff' AND u.status <> 'removed') AS "users!"
             FROM companies c
            WHERE c.account_id = $1 AND c.path @> ARRAY[$2::bigint]"#,
        staff.account_id(),
        top
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.parent_id, r.name, CompanyKind::parse(&r.kind).unwrap_or(CompanyKind::Installer), r.users, r.version))
    .collect();
    Ok(CompanyTree { nodes: arrange(rows, top), can_manage: staff.holds(crate::permissions::Permission::CompaniesManage) })
}

pub async fn create(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CompaniesManage>,
    parent_id: i64,
    name: &str,
    kind: CompanyKind,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let parent = company_in_scope_for_update(&mut *conn, staff, parent_id).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO companies (account_id, parent_id, name, kind, created_at, path)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        staff.account_id(),
        parent.id,
        name,
        kind.as_str(),
        now,
        &parent.path
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
    sqlx::query!("UPDATE companies SET path = path || id WHERE account_id = $1 AND id = $2", staff.account_id(), id)
        .execute(&mut *conn)
        .await?;
    Actor::staff(staff, now)
        .audit(
            conn,
            Action::CompanyCreated,
            Record::company(id),
            serde_json::json!({ "name": name, "kind": kind.as_str(), "parent": parent.name }),
        )
        .await?;
    Ok(id)
}

pub async fn rename(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CompaniesManage>,
    id: i64,
    name: &str,
    version: i32,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    let company = company_in_scope_for_update(&mut *conn, staff, id).await?;
    if company.version != version {
        return Err(AppError::Conflict);
    }
    sqlx::query!("UPDATE companies SET name = $3, version = version + 1 WHERE account_id = $1 AND id = $2", staff.account_id(), id, name)
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::CompanyRenamed, Record::company(id), Changes::default().field("name", &company.name.as_str(), &name))
        .await
}

/// Moves a company (with everything below it) under another; never under itself.
pub async fn relocate(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CompaniesManage>,
    id: i64,
    parent_id: i64,
    version: i32,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    // Two companies each moved under the other would both pass the cycle check: moves take
    // their turn.
    locks::lock(&mut *conn, Guarded::CompanyTree, staff.account_id()).await?;
    let top = scope_root(&mut *conn, staff).await?;
    let company = company_in_scope_for_update(&mut *conn, staff, id).await?;
    if company.id == top || company.parent_id.is_none() {
        return Err(AppError::Refused("This company is at the top of what you manage; it cannot be moved.".into()));
    }
    if company.version != version {
        return Err(AppError::Conflict);
    }
    let parent = company_in_scope_for_update(&mut *conn, staff, parent_id).await?;
    if company.contains(&parent) {
        return Err(AppError::field(PARENT, "A company cannot move under itself or one of its own sub-companies."));
    }
    if company.parent_id == Some(parent.id) {
        return Ok(());
    }
    let old_parent = sqlx::query_scalar!("SELECT name FROM companies WHERE account_id = $1 AND id = $2", staff.account_id(), company.parent_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!("UPDATE companies SET parent_id = $3, version = version + 1 WHERE account_id = $1 AND id = $2", staff.account_id(), id, parent.id)
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error(e, &[Unique { field: PARENT, ..NAME_TAKEN }]))?;
    // Every company in the moved subtree gets the new ancestors in front of its own path.
    sqlx::query!(
        "UPDATE companies SET path = $3::bigint[] || path[array_position(path, $2::bigint):]
          WHERE account_id = $1 AND path @> ARRAY[$2::bigint]",
        staff.account_id(),
        id,
        &parent.path
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::CompanyMoved, Record::company(id), Changes::default().field("parent", &old_parent, &parent.name))
        .await
}

async fn preview(conn: &mut PgConnection, account_id: i64, company: &CompanyRef) -> Result<DeletionPreview, AppError> {
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
    let customers = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customers u JOIN companies c ON c.account_id = u.account_id AND c.id = u.owner_company_id
            WHERE u.account_id = $1 AND c.path @> ARRAY[$2::bigint]"#,
        account_id,
        company.id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(DeletionPreview { name: company.name.clone(), companies, users, customers })
}

/// What deleting the company would take with it.
pub async fn deletion_preview(conn: &mut PgConnection, allowed: &Allowed<'_, CompaniesManage>, id: i64) -> Result<DeletionPreview, AppError> {
    let company = company_in_scope(&mut *conn, allowed.staff(), id).await?;
    preview(conn, allowed.account_id(), &company).await
}

/// Deletes the company and the companies below it. `expected_companies` is how many the user
/// was shown would go: if the tree changed since, nothing is deleted.
pub async fn delete(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CompaniesManage>,
    id: i64,
    expected_companies: i64,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    locks::lock(&mut *conn, Guarded::CompanyTree, staff.account_id()).await?;
    let top = scope_root(&mut *conn, staff).await?;
    let company = company_in_scope_for_update(&mut *conn, staff, id).await?;
    if company.id == top || company.parent_id.is_none() {
        return Err(AppError::Refused("This company is at the top of what you manage; it cannot be deleted.".into()));
    }
    let preview = preview(&mut *conn, staff.account_id(), &company).await?;
    if preview.users > 0 || preview.customers > 0 {
        return Err(AppError::Refused(super::blocked_deletion(&preview)));
    }
    if preview.companies.len() as i64 != expected_companies {
        return Err(AppError::Conflict);
    }
    // Written while the company still exists, so the row knows which company it concerns.
    Actor::staff(staff, state.clock.now())
        .audit(&mut *conn, Action::CompanyDeleted, Record::company(company.id), serde_json::json!({ "companies": preview.companies }))
        .await?;
    // Removed users keep their history but lose the company (the foreign key sets it to null).
    sqlx::query!("DELETE FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]", staff.account_id(), company.id)
        .execute(conn)
        .await?;
    Ok(())
}
