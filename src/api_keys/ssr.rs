//! The queries of API keys. Keys are listed and revoked within the caller's company scope; a
//! new key gets only permissions its creator holds and a company within the creator's scope.

use super::{ApiKeyRow, ApiKeys, CreatedKey, NewKeyInput};
use crate::{
    companies::ssr::{choices, company_in_scope, scope_companies},
    error::AppError,
    permissions::{grant::ApiKeysManage, Authority, Permission},
    server::{api_keys::generate, capability::Allowed, state::AppState},
    services::audit::{Action, Actor, Record},
};
use chrono::Duration;
use serde_json::json;
use sqlx::PgConnection;

pub async fn list(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, ApiKeysManage>) -> Result<ApiKeys, AppError> {
    let staff = allowed.staff();
    let scope = scope_companies(&mut *conn, staff).await?;
    let rows = sqlx::query!(
        r#"SELECT k.id, k.name, k.prefix, k.permissions, k.created_at, k.expires_at, k.last_used_at, k.revoked_at,
                  u.email AS created_by, c.name AS company
             FROM api_keys k
             JOIN users u ON u.account_id = k.account_id AND u.id = k.created_by
             JOIN companies c ON c.account_id = k.account_id AND c.id = k.company_id
            WHERE k.account_id = $1 AND ($2::bigint[] IS NULL OR k.company_id = ANY($2))
            ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC, k.id DESC
            LIMIT 500"#,
        staff.account_id(),
        scope.as_deref(),
    )
    .fetch_all(&mut *conn)
    .await?;
    let keys = rows
        .into_iter()
        .map(|r| ApiKeyRow {
            id: r.id,
            name: r.name,
            shown: r.prefix,
            created_by: r.created_by,
            company: r.company,
            permissions: r.permissions.iter().filter_map(|k| Permission::from_key(k)).collect(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect();
    let companies = choices(&mut *conn, staff).await?;
    let grantable = Permission::ALL.into_iter().filter(|p| staff.holds(*p)).collect();
    Ok(ApiKeys { keys, companies, grantable, now: state.clock.now() })
}

pub async fn create(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, ApiKeysManage>, input: &NewKeyInput) -> Result<CreatedKey, AppError> {
    let staff = allowed.staff();
    staff.recheck(&mut *conn).await?;
    if let Some(missing) = input.permissions.iter().find(|p| !staff.holds(**p)) {
        return Err(AppError::field(super::PERMISSIONS, format!("You cannot give a key “{} – {}”: you do not hold it.", missing.module().label(), missing.label())));
    }
    let company = company_in_scope(&mut *conn, staff, input.company_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field(super::COMPANY.name, "Choose a company from the list."),
        other => other,
    })?;
    let now = state.clock.now();
    let expires_at = now + Duration::days(input.expires_in_days);
    let key = generate();
    let keys: Vec<String> = input.permissions.iter().map(|p| p.key().to_owned()).collect();
    let id = sqlx::query_scalar!(
        "INSERT INTO api_keys (account_id, name, token_hash, prefix, created_by, company_id, permissions, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        staff.account_id(),
        input.name,
        key.hash,
        key.shown,
        staff.user_id(),
        company.id(),
        &keys,
        now,
        expires_at,
    )
    .fetch_one(&mut *conn)
    .await?;
    Actor::staff(staff, now)
        .audit(
            conn,
            Action::ApiKeyCreated,
            Record::api_key(id),
            json!({ "name": input.name, "company": company.name(), "permissions": keys, "expires_at": expires_at }),
        )
        .await?;
    Ok(CreatedKey { id, name: input.name.clone(), secret: key.secret })
}

/// Revokes a key in the caller's scope at once; a key already revoked stays so.
pub async fn revoke(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, ApiKeysManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let scope = scope_companies(&mut *conn, staff).await?;
    let now = state.clock.now();
    // Someone's key is theirs to revoke, or of those who could act on them (SPEC 2.3).
    let maker = sqlx::query!(
        r#"SELECT k.created_by, r.rank AS "rank?",
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = u.account_id AND p.role_id = u.role_id), '{}') AS "permissions!"
             FROM api_keys k
             JOIN users u ON u.account_id = k.account_id AND u.id = k.created_by
             LEFT JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE k.account_id = $1 AND k.id = $2 AND ($3::bigint[] IS NULL OR k.company_id = ANY($3))"#,
        staff.account_id(),
        id,
        scope.as_deref(),
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    if maker.created_by != staff.user_id() {
        let theirs = Authority::from_keys(maker.rank.unwrap_or(i32::MAX), &maker.permissions);
        if !staff.authority().covers(&theirs) {
            return Err(AppError::Refused(
                "This key was made by someone with more authority than you: only they, or someone who could act on them, can revoke it.".into(),
            ));
        }
    }
    let revoked = sqlx::query_scalar!(
        "UPDATE api_keys SET revoked_at = $4
          WHERE account_id = $1 AND id = $2 AND ($3::bigint[] IS NULL OR company_id = ANY($3)) AND revoked_at IS NULL
        RETURNING name",
        staff.account_id(),
        id,
        scope.as_deref(),
        now,
    )
    .fetch_optional(&mut *conn)
    .await?;
    match revoked {
        Some(name) => Actor::staff(staff, now).audit(conn, Action::ApiKeyRevoked, Record::api_key(id), json!({ "name": name })).await,
        // Revoked already (by this request's twin, say): it stays revoked.
        None => Ok(()),
    }
}
