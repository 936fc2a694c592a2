//! Reading staff users: the list with its filters, one user's page, and the choices of the
//! user forms, all within the caller's scope.

use super::{may_manage, visible_user};
use crate::{
    ui::MAX_PAGE,
    companies::ssr::{choices, own_company, scope_root},
    error::AppError,
    permissions::{
        grant::{UsersManage, UsersView},
        Permission,
    },
    roles::ssr::{all_choices, assignable_choices},
    server::{
        capability::Allowed,
        csv::CsvWriter,
        download::{Sink, Stopped},
    },
    services::links::{open_until, Purpose},
    users::{UserChoices, UserDetail, UserList, UserListItem, UserQuery, UserStatus},
};
use chrono::SecondsFormat;
use sqlx::PgConnection;

pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, UsersView>, query: &UserQuery) -> Result<UserList, AppError> {
    let staff = allowed.staff();
    let page_size = query.page_size();
    let page = query.page.clamp(1, MAX_PAGE);
    let top = scope_root(&mut *conn, staff).await?;
    let status = UserStatus::parse(&query.status).filter(|s| *s != UserStatus::Removed).map(|s| s.as_str());
    let search = like(&query.q);
    let company = query.company.unwrap_or(top);
    let sort = query.sort_key();
    // Pages follow each other by keyset: after (or before) a user of the page next to it, whose
    // place in the order is read here, in the caller's scope.
    let (cursor, backward) = match (query.after, query.before) {
        (Some(id), _) => (Some(id), false),
        (None, Some(id)) => (Some(id), true),
        (None, None) => (None, false),
    };
    let at = match cursor {
        Some(id) => Some(
            sqlx::query!(
                r#"SELECT k.sort_key AS "sort_key!", k.name_key AS "name_key!"
                     FROM users u
                     JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
                     JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
                     CROSS JOIN LATERAL (SELECT
                         CASE $4 WHEN 'email' THEN lower(u.email)
                                 WHEN 'role' THEN lpad(r.rank::text, 10, '0')
                                 WHEN 'company' THEN lower(c.name)
                                 WHEN 'status' THEN u.status
                                 WHEN 'last_sign_in' THEN coalesce(to_char(u.last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '')
                                 ELSE lower(u.display_name) END AS sort_key,
                         lower(u.display_name) AS name_key) k
                    WHERE u.account_id = $1 AND u.kind = 'staff' AND c.path @> ARRAY[$2::bigint] AND u.id = $3"#,
                staff.account_id(),
                top,
                id,
                sort
            )
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| (r.sort_key, r.name_key, id))
            .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let mut rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.email, u.region, u.status, u.last_sign_in_at,
                  r.name AS role_name, c.name AS company_name,
                  (SELECT max(t.expires_at) FROM one_time_tokens t
                    WHERE t.user_id = u.id AND t.purpose = 'invitation' AND t.used_at IS NULL
                      AND t.revoked_at IS NULL) AS invitation_expires_at
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
             JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
             CROSS JOIN LATERAL (SELECT
                 CASE $8 WHEN 'email' THEN lower(u.email)
                         WHEN 'role' THEN lpad(r.rank::text, 10, '0')
                         WHEN 'company' THEN lower(c.name)
                         WHEN 'status' THEN u.status
                         WHEN 'last_sign_in' THEN coalesce(to_char(u.last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '')
                         ELSE lower(u.display_name) END AS sort_key,
                 lower(u.display_name) AS name_key) k
            WHERE u.account_id = $1 AND u.kind = 'staff'
              AND c.path @> ARRAY[$2::bigint] AND c.path @> ARRAY[$3::bigint]
              AND CASE WHEN $4::text IS NULL THEN u.status IN ('active', 'invited') ELSE u.status = $4 END
              AND ($5::bigint IS NULL OR u.role_id = $5)
              AND ($6::text IS NULL OR lower(u.display_name) LIKE $6 OR lower(u.email) LIKE $6)
              AND ($9::text IS NULL OR CASE
                    WHEN NOT $7 AND NOT $12 THEN (k.sort_key, k.name_key, u.id) > ($9, $10, $11)
                    WHEN $7 AND NOT $12 THEN k.sort_key < $9 OR (k.sort_key = $9 AND (k.name_key, u.id) > ($10, $11))
                    WHEN NOT $7 AND $12 THEN (k.sort_key, k.name_key, u.id) < ($9, $10, $11)
                    ELSE k.sort_key > $9 OR (k.sort_key = $9 AND (k.name_key, u.id) < ($10, $11)) END)
            ORDER BY
              CASE WHEN NOT $7 AND NOT $12 THEN k.sort_key END ASC,
              CASE WHEN $7 AND NOT $12 THEN k.sort_key END DESC,
              CASE WHEN NOT $7 AND $12 THEN k.sort_key END DESC,
              CASE WHEN $7 AND $12 THEN k.sort_key END ASC,
              CASE WHEN NOT $12 THEN k.name_key END ASC,
              CASE WHEN $12 THEN k.name_key END DESC,
              CASE WHEN NOT $12 THEN u.id END ASC,
              CASE WHEN $12 THEN u.id END DESC
            LIMIT $13 OFFSET $14"#,
        staff.account_id(),
        top,
        company,
        status,
        query.role,
        search,
        query.desc,
        sort,
        at.as_ref().map(|a| a.0.clone()),
        at.as_ref().map(|a| a.1.clone()),
        at.as_ref().map(|a| a.2),
        backward,
        page_size + 1,
        // A page asked for by number alone (a typed address, the REST API) skips to it.
        if cursor.is_none() { (page - 1) * page_size } else { 0 }
    )
    .fetch_all(&mut *conn)
    .await?;
    let more = rows.len() as i64 > page_size;
    rows.truncate(page_size as usize);
    if backward {
        rows.reverse();
    }
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!"
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
            WHERE u.account_id = $1 AND u.kind = 'staff'
              AND c.path @> ARRAY[$2::bigint] AND c.path @> ARRAY[$3::bigint]
              AND CASE WHEN $4::text IS NULL THEN u.status IN ('active', 'invited') ELSE u.status = $4 END
              AND ($5::bigint IS NULL OR u.role_id = $5)
              AND ($6::text IS NULL OR lower(u.display_name) LIKE $6 OR lower(u.email) LIKE $6)"#,
        staff.account_id(),
        top,
        company,
        status,
        query.role,
        search
    )
    .fetch_one(&mut *conn)
    .await?;
    // Going back, there is a next page (the one we came from) and a previous one when more
    // came back; going forward, the reverse.
    let (has_previous, has_next) = if backward { (more, true) } else { (cursor.is_some() || page > 1, more) };
    let previous = if has_previous { rows.first().map(|r| r.id) } else { None };
    let next = if has_next { rows.last().map(|r| r.id) } else { None };
    let users = rows
        .into_iter()
        .map(|r| UserListItem {
            id: r.id,
            display_name: r.display_name,
            email: r.email,
            role_name: r.role_name,
            company_name: r.company_name,
            region: r.region,
            status: UserStatus::parse(&r.status).unwrap_or(UserStatus::Disabled),
            last_sign_in_at: r.last_sign_in_at,
            invitation_expires_at: r.invitation_expires_at,
        })
        .collect();
    let roles = all_choices(&mut *conn, staff).await?;
    let companies = choices(&mut *conn, staff).await?;
    Ok(UserList { users, total, page, page_size, previous, next, can_manage: staff.holds(Permission::UsersManage), roles, companies })
}

pub async fn detail(conn: &mut PgConnection, allowed: &Allowed<'_, UsersView>, id: i64) -> Result<UserDetail, AppError> {
    let staff = allowed.staff();
    let target = visible_user(&mut *conn, staff, id).await?;
    let row = sqlx::query!(
        r#"SELECT u.phone, u.description, u.created_at, u.last_sign_in_at, u.must_change_password,
                  c.name AS company_name, r.name AS role_name
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
             JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE u.account_id = $1 AND u.id = $2"#,
        staff.account_id(),
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(UserDetail {
        id,
        can_manage: staff.holds(Permission::UsersManage) && may_manage(staff, &target.authority),
        can_view_audit: staff.holds(Permission::AuditView),
        is_self: target.is_self(staff),
        invitation_expires_at: open_until(&mut *conn, Purpose::Invitation, id).await?,
        email: target.email,
        display_name: target.display_name,
        phone: row.phone,
        region: target.region,
        description: row.description,
        company_id: target.company_id,
        company_name: row.company_name,
        role_id: target.role_id,
        role_name: row.role_name,
        status: target.status,
        last_sign_in_at: row.last_sign_in_at,
        created_at: row.created_at,
        must_change_password: row.must_change_password,
        version: target.version,
    })
}

/// The companies and roles the caller may choose from in the user forms. Without Companies
/// (view), the caller's own company is the only choice.
pub async fn form_choices(conn: &mut PgConnection, allowed: &Allowed<'_, UsersManage>) -> Result<UserChoices, AppError> {
    let staff = allowed.staff();
    let companies = match staff.allow::<crate::permissions::grant::CompaniesView>() {
        Ok(view) => crate::companies::ssr::tree(&mut *conn, &view)
            .await?
            .nodes
            .into_iter()
            .map(|n| (n.id, format!("{}{}", "— ".repeat(n.depth), n.name)))
            .collect(),
        Err(_) => vec![own_company(&mut *conn, staff).await?],
    };
    Ok(UserChoices { companies, roles: assignable_choices(&mut *conn, staff).await? })
}

/// The staff export's columns.
pub const EXPORT_COLUMNS: [&str; 7] = ["Name", "E-mail", "Role", "Company", "Region", "Status", "Last sign-in"];

/// Rows read per query of an export.
const EXPORT_BATCH: i64 = 1_000;

/// Writes every staff user the list shows for `query` (its search, filters and sort, in the
/// caller's scope) into `sink`, in the list's order (the sort key in its direction, then the
/// name, then the id), read by keyset in one snapshot; returns how many.
pub async fn export(db: &sqlx::PgPool, allowed: &Allowed<'_, UsersView>, query: &UserQuery, sink: &mut Sink) -> Result<u64, Stopped> {
    let staff = allowed.staff();
    let mut tx = crate::server::download::snapshot(db).await?;
    let top = scope_root(&mut tx, staff).await?;
    let status = UserStatus::parse(&query.status).filter(|s| *s != UserStatus::Removed).map(|s| s.as_str());
    let search = like(&query.q);
    let company = query.company.unwrap_or(top);
    let mut csv = CsvWriter::new();
    csv.row(EXPORT_COLUMNS);
    let mut after: Option<(String, String, i64)> = None;
    let mut written = 0;
    loop {
        let rows = sqlx::query!(
            r#"SELECT u.id, u.display_name, u.email, u.region, u.status, u.last_sign_in_at,
                      r.name AS role_name, c.name AS company_name, k.sort_key AS "sort_key!", k.name_key AS "name_key!"
                 FROM users u
                 JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
                 JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
                 CROSS JOIN LATERAL (SELECT
                     CASE $8 WHEN 'email' THEN lower(u.email)
                             WHEN 'role' THEN lpad(r.rank::text, 10, '0')
                             WHEN 'company' THEN lower(c.name)
                             WHEN 'status' THEN u.status
                             WHEN 'last_sign_in' THEN coalesce(to_char(u.last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), '')
                             ELSE lower(u.display_name) END AS sort_key,
                     lower(u.display_name) AS name_key) k
                WHERE u.account_id = $1 AND u.kind = 'staff'
                  AND c.path @> ARRAY[$2::bigint] AND c.path @> ARRAY[$3::bigint]
                  AND CASE WHEN $4::text IS NULL THEN u.status IN ('active', 'invited') ELSE u.status = $4 END
                  AND ($5::bigint IS NULL OR u.role_id = $5)
                  AND ($6::text IS NULL OR lower(u.display_name) LIKE $6 OR lower(u.email) LIKE $6)
                  AND ($9::text IS NULL
                       OR CASE WHEN $7 THEN k.sort_key < $9 OR (k.sort_key = $9 AND (k.name_key, u.id) > ($10, $11))
                               ELSE (k.sort_key, k.name_key, u.id) > ($9, $10, $11) END)
                ORDER BY CASE WHEN NOT $7 THEN k.sort_key END ASC, CASE WHEN $7 THEN k.sort_key END DESC, k.name_key, u.id
                LIMIT $12"#,
            staff.account_id(),
            top,
            company,
            status,
            query.role,
            search,
            query.desc,
            query.sort_key(),
            after.as_ref().map(|a| a.0.clone()),
            after.as_ref().map(|a| a.1.clone()),
            after.as_ref().map(|a| a.2),
            EXPORT_BATCH,
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            csv.text(&r.display_name)
                .text(&r.email)
                .text(&r.role_name)
                .text(&r.company_name)
                .opt(r.region.as_deref())
                .text(UserStatus::parse(&r.status).map(UserStatus::label).unwrap_or(""))
                .opt(r.last_sign_in_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)).as_deref());
            csv.end_row();
            written += 1;
        }
        sink.send(csv.take()).await?;
        match rows.last() {
            Some(last) if rows.len() as i64 == EXPORT_BATCH => after = Some((last.sort_key.clone(), last.name_key.clone(), last.id)),
            _ => break,
        }
    }
    tx.commit().await?;
    Ok(written)
}

fn like(q: &str) -> Option<String> {
    Some(q.trim().to_lowercase())
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
}

/// `GET /export/users.csv?…` with the list's own query: the staff list as the caller sees it.
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    download::answer(state, req, |state, parts| async move {
        let staff = require_staff().await?;
        // Refused here, before the file starts, rather than as a broken file.
        let _ = staff.allow::<UsersView>()?;
        let query = UserQuery::from_pairs(|key| download::query_value(&parts, key));
        Ok(download::csv_file("users.csv", "staff users", |mut writer| async move {
            let allowed = staff.allow::<UsersView>()?;
            export(&state.db, &allowed, &query, &mut writer).await
        }))
    })
    .await
}
