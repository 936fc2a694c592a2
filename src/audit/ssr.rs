//! The audit log's query: one page of the caller's account, in their branch.

use super::{change_lines, AuditEntry, AuditPage, AuditQuery, PAGE_SIZE};
use crate::{
    companies::ssr::scope_companies,
    error::AppError,
    permissions::{grant::AuditView, Permission},
    server::capability::Allowed,
    services::audit::{Action, RecordType},
};
use chrono::NaiveDate;
use sqlx::PgConnection;

/// One page of entries matching `query`. A staff member sees the history of their own branch:
/// rows whose record or actor belongs to a company in their scope; events of the account as a
/// whole (its roles, settings and mail) only with Account settings.
pub async fn page(
    conn: &mut PgConnection,
    allowed: &Allowed<'_, AuditView>,
    query: &AuditQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<AuditPage, AppError> {
    let staff = allowed.staff();
    let start = from.map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc());
    let end = to.map(|d| (d + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap().and_utc());
    let page = query.page.clamp(1, 10_000);
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let scope = scope_companies(&mut *conn, staff).await?;
    let account_level: Vec<String> = RecordType::ALL.into_iter().filter(|t| t.account_level()).map(|t| t.key().to_owned()).collect();
    let sees_account_level = scope.is_none() || staff.holds(Permission::AccountSettingsManage);
    let rows = sqlx::query!(
        r#"SELECT id, occurred_at, actor_label, action, record_type, record_id, client_ip, changes
             FROM audit_events
            WHERE account_id = $1
              AND ($2::text IS NULL OR actor_label ILIKE '%' || replace(replace(replace($2, '\', '\\'), '%', '\%'), '_', '\_') || '%')
              AND ($3::text IS NULL OR action = $3)
              AND ($4::text IS NULL OR record_type = $4)
              AND ($5::text IS NULL OR record_id = $5)
              AND ($6::timestamptz IS NULL OR occurred_at >= $6)
              AND ($7::timestamptz IS NULL OR occurred_at < $7)
              AND ($10::bigint[] IS NULL
                   OR CASE WHEN record_type = ANY($11) THEN $12
                           ELSE (record_company_id = ANY($10) OR actor_company_id = ANY($10)) END)
            ORDER BY occurred_at DESC, id DESC
            LIMIT $8 OFFSET $9"#,
        staff.account_id(),
        text(&query.actor),
        text(&query.action),
        text(&query.record_type),
        text(&query.record_id),
        start,
        end,
        PAGE_SIZE + 1,
        (page - 1) * PAGE_SIZE,
        scope.as_deref(),
        &account_level,
        sees_account_level,
    )
    .fetch_all(conn)
    .await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    let entries = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor_label,
            action: r.action,
            record_type: r.record_type,
            record_id: r.record_id,
            client_ip: r.client_ip,
            changes: change_lines(&r.changes),
        })
        .collect();
    // The filter lists come from the catalogue of actions and record types, less what the
    // caller may not see.
    let visible = |kind: RecordType| sees_account_level || !kind.account_level();
    let mut actions: Vec<String> = Action::ALL.into_iter().filter(|a| visible(a.record_type())).map(|a| a.key().to_owned()).collect();
    actions.sort();
    let mut record_types: Vec<String> = RecordType::ALL.into_iter().filter(|t| visible(*t)).map(|t| t.key().to_owned()).collect();
    record_types.sort();
    Ok(AuditPage { entries, page, has_next, actions, record_types })
}
