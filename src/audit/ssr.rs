//! The audit log's query: one page of the caller's account, in their branch.

use super::{change_lines, AuditEntry, AuditPage, AuditQuery, PAGE_SIZE};
use crate::{
    companies::ssr::scope_companies,
    error::AppError,
    permissions::{grant::AuditView, Permission},
    server::{
        capability::{Allowed, Staff},
        csv::CsvWriter,
        download::{Sink, Stopped},
    },
    services::audit::{Action, RecordType},
};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::PgConnection;

/// What `query` asks for, resolved for the caller: the dates as instants, the caller's
/// companies, and whether they see the events of the account as a whole.
struct Conditions {
    actor: Option<String>,
    action: Option<String>,
    record_type: Option<String>,
    record_id: Option<String>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    scope: Option<Vec<i64>>,
    account_level: Vec<String>,
    sees_account_level: bool,
}

/// A staff member sees the history of their own branch: rows whose record or actor belongs to
/// a company in their scope; events of the account as a whole (its roles, settings and mail)
/// only with Account settings.
async fn conditions(
    conn: &mut PgConnection,
    staff: &Staff,
    query: &AuditQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Conditions, AppError> {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let scope = scope_companies(&mut *conn, staff).await?;
    let sees_account_level = scope.is_none() || staff.holds(Permission::AccountSettingsManage);
    Ok(Conditions {
        actor: text(&query.actor),
        action: text(&query.action),
        record_type: text(&query.record_type),
        record_id: text(&query.record_id),
        start: from.map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc()),
        end: to.map(|d| (d + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap().and_utc()),
        scope,
        account_level: RecordType::ALL.into_iter().filter(|t| t.account_level()).map(|t| t.key().to_owned()).collect(),
        sees_account_level,
    })
}

struct Row {
    id: i64,
    occurred_at: DateTime<Utc>,
    actor_label: String,
    action: String,
    record_type: String,
    record_id: Option<String>,
    client_ip: Option<String>,
    changes: serde_json::Value,
}

/// Entries newest first: after the entry `older_than` (a keyset: its time and id) when given,
/// skipping `offset` (only the REST API's numbered pages skip; the pages and exports go by keyset).
async fn rows(
    conn: &mut PgConnection,
    account_id: i64,
    c: &Conditions,
    older_than: Option<(DateTime<Utc>, i64)>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, occurred_at, actor_label, action, record_type, record_id, client_ip, changes
             FROM audit_events
            WHERE account_id = $1
              AND ($2::text IS NULL OR actor_label ILIKE '%' || replace(replace(replace($2, '\', '\\'), '%', '\%'), '_', '\_') || '%')
              AND ($3::text IS NULL OR action = $3)
              AND ($4::text IS NULL OR record_type = $4)
              AND ($5::text IS NULL OR record_id = $5)
              AND ($6::timestamptz IS NULL OR occurred_at >= $6)
              AND ($7::timestamptz IS NULL OR occurred_at < $7)
              AND ($9::bigint[] IS NULL
                   OR CASE WHEN record_type = ANY($10) THEN $11
                           ELSE (record_company_id = ANY($9) OR actor_company_id = ANY($9)) END)
              AND ($12::timestamptz IS NULL OR (occurred_at, id) < ($12, $13))
            ORDER BY occurred_at DESC, id DESC
            LIMIT $8 OFFSET $14"#,
        account_id,
        c.actor,
        c.action,
        c.record_type,
        c.record_id,
        c.start,
        c.end,
        limit,
        c.scope.as_deref(),
        &c.account_level,
        c.sees_account_level,
        older_than.map(|(at, _)| at),
        older_than.map(|(_, id)| id).unwrap_or(0),
        offset,
    )
    .fetch_all(conn)
    .await
}

/// One page of entries matching `query`, in the caller's branch, after `query.before` (and
/// `skip` more: the REST API's numbered pages).
pub async fn page(
    conn: &mut PgConnection,
    allowed: &Allowed<'_, AuditView>,
    query: &AuditQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    skip: i64,
) -> Result<AuditPage, AppError> {
    let staff = allowed.staff();
    let c = conditions(&mut *conn, staff, query, from, to).await?;
    let sees_account_level = c.sees_account_level;
    // The page goes on after the entry it was given, which must be the account's.
    let older_than = match query.before {
        Some(id) => Some(
            sqlx::query_scalar!("SELECT occurred_at FROM audit_events WHERE account_id = $1 AND id = $2", staff.account_id(), id)
                .fetch_optional(&mut *conn)
                .await?
                .map(|at| (at, id))
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let rows = rows(&mut *conn, staff.account_id(), &c, older_than, PAGE_SIZE + 1, skip).await?;
    let next = (rows.len() as i64 > PAGE_SIZE).then(|| rows[PAGE_SIZE as usize - 1].id);
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
    Ok(AuditPage { entries, continued: older_than.is_some(), next, actions, record_types })
}

/// The export's columns.
pub const COLUMNS: [&str; 7] = ["Time (UTC)", "Actor", "Action", "Record type", "Record", "Client IP", "Changes"];

/// Entries read per query of an export.
const BATCH: i64 = 2_000;

/// Writes every entry matching `query` in the caller's branch into `sink`, newest first, read
/// by keyset in one snapshot; returns how many.
pub async fn export(
    db: &sqlx::PgPool,
    allowed: &Allowed<'_, AuditView>,
    query: &AuditQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    sink: &mut Sink,
) -> Result<u64, Stopped> {
    let staff = allowed.staff();
    let mut tx = crate::server::download::snapshot(db).await?;
    let c = conditions(&mut tx, staff, query, from, to).await?;
    let mut csv = CsvWriter::new();
    csv.row(COLUMNS);
    let mut older_than = None;
    let mut written = 0;
    loop {
        let batch = rows(&mut tx, staff.account_id(), &c, older_than, BATCH, 0).await?;
        for r in &batch {
            let changes = change_lines(&r.changes)
                .into_iter()
                .map(|l| match l.from {
                    Some(from) => format!("{}: {from} → {}", l.field, l.to),
                    None => format!("{}: {}", l.field, l.to),
                })
                .collect::<Vec<_>>()
                .join("; ");
            csv.plain(r.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true))
                .text(&r.actor_label)
                .text(&r.action)
                .text(&r.record_type)
                .opt(r.record_id.as_deref())
                .opt(r.client_ip.as_deref())
                .text(&changes);
            csv.end_row();
            written += 1;
        }
        sink.send(csv.take()).await?;
        match batch.last() {
            Some(last) if batch.len() as i64 == BATCH => older_than = Some((last.occurred_at, last.id)),
            _ => break,
        }
    }
    tx.commit().await?;
    Ok(written)
}

/// `GET /export/audit.csv?…` with the log's own filters (the date range among them).
pub async fn download(
    axum::extract::State(state): axum::extract::State<crate::server::state::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    download::answer(state, req, |state, parts| async move {
        let staff = require_staff().await?;
        // Refused here, before the file starts, rather than as a broken file.
        let _ = staff.allow::<AuditView>()?;
        let query = AuditQuery::from_pairs(|key| download::query_value(&parts, key));
        let (from, to) = query.dates().map_err(AppError::BadRequest)?;
        Ok(download::csv_file("audit-log.csv", "audit log", |mut writer| async move {
            let allowed = staff.allow::<AuditView>()?;
            export(&state.db, &allowed, &query, from, to, &mut writer).await
        }))
    })
    .await
}
