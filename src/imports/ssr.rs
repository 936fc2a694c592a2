//! The import's server half: the upload route, the dry run (what each row would do), the job
//! that imports (one transaction, its progress written beside it), the error rows as a file.
//! A job is the uploader's own: for anyone else, in any account, it is not found.

use super::{
    parse::{self, Record, Table},
    Existing, ImportField, ImportSettings, ImportStatus, ImportSummary, ImportView, Mode, Outcome, RowPage, RowView, Totals, ROWS_PER_PAGE,
    UPLOAD_LIMIT,
};
use crate::{
    companies::ssr::scope_root,
    customers::{
        ssr::bulk::{self, ChangedRow, Found, NewRow},
        CustomerFields, CustomerForm,
    },
    error::{AppError, FieldErrors},
    permissions::{
        grant::{CustomersCreate, CustomersEdit},
        Permission,
    },
    server::{
        capability::{Allowed, Staff},
        csv::{restore, CsvWriter},
        state::AppState,
    },
    services::audit::{Action, Actor, Changes, Record as AuditRecord},
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;
use std::collections::HashMap;

/// Rows written per statement while importing (and per progress step).
const BATCH: usize = 1_000;
/// A running job whose heartbeat is older than this was interrupted.
const STALE_AFTER: Duration = Duration::seconds(120);

// ---- The jobs -----------------------------------------------------------------------------

struct Job {
    id: i64,
    file_name: String,
    headers: Vec<String>,
    row_count: i64,
    settings: Option<ImportSettings>,
    status: ImportStatus,
    message: Option<String>,
    totals: Totals,
    changed: i64,
    done: i64,
    total: i64,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

struct JobRow {
    id: i64,
    file_name: String,
    headers: Vec<String>,
    row_count: i64,
    settings: Option<Value>,
    status: String,
    message: Option<String>,
    to_create: i64,
    to_update: i64,
    to_skip: i64,
    errors: i64,
    changed: i64,
    done: i64,
    total: i64,
    heartbeat_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

/// The caller's job `id`; another person's, or another account's, is not found. `lock` holds
/// it for the transaction (a check and a start take turns).
async fn job(conn: &mut PgConnection, staff: &Staff, id: i64, now: DateTime<Utc>, lock: bool) -> Result<Job, AppError> {
    let row = if lock {
        sqlx::query_as!(
            JobRow,
            "SELECT id, file_name, headers, row_count, settings, status, message, to_create, to_update, to_skip, errors,
                    changed, done, total, heartbeat_at, created_at, finished_at
               FROM import_jobs WHERE account_id = $1 AND id = $2 AND created_by = $3 FOR UPDATE",
            staff.account_id(),
            id,
            staff.user_id()
        )
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            JobRow,
            "SELECT id, file_name, headers, row_count, settings, status, message, to_create, to_update, to_skip, errors,
                    changed, done, total, heartbeat_at, created_at, finished_at
               FROM import_jobs WHERE account_id = $1 AND id = $2 AND created_by = $3",
            staff.account_id(),
            id,
            staff.user_id()
        )
        .fetch_optional(&mut *conn)
        .await?
    }
    .ok_or(AppError::NotFound)?;
    let mut status = ImportStatus::from_key(&row.status);
    if status == ImportStatus::Running && row.heartbeat_at.is_none_or(|beat| now - beat > STALE_AFTER) {
        status = ImportStatus::Interrupted;
    }
    Ok(Job {
        id: row.id,
        file_name: row.file_name,
        headers: row.headers,
        row_count: row.row_count,
        settings: row.settings.and_then(|s| serde_json::from_value(s).ok()),
        status,
        message: match status {
            ImportStatus::Interrupted => Some("The import was interrupted before it finished: nothing was imported. Check the file and import it again.".into()),
            _ => row.message,
        },
        totals: Totals { create: row.to_create, update: row.to_update, skip: row.to_skip, error: row.errors },
        changed: row.changed,
        done: row.done,
        total: row.total,
        created_at: row.created_at,
        finished_at: row.finished_at,
    })
}

/// The job's file as uploaded: read only by what reads its rows (the page polls the job without
/// it).
async fn content(conn: &mut PgConnection, job: &Job) -> Result<Vec<u8>, AppError> {
    Ok(sqlx::query_scalar!("SELECT content FROM import_jobs WHERE id = $1", job.id).fetch_one(conn).await?)
}

/// Keeps an uploaded file as a new job of the caller: read, with its columns matched to the
/// fields, or unreadable with the reason. Returns the job's id.
pub async fn upload(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>, file_name: &str, content: Vec<u8>, now: DateTime<Utc>) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let file_name = if file_name.trim().is_empty() { "import.csv".to_owned() } else { file_name };
    let (status, message, headers, rows, settings, content) = match parse::read(&content) {
        Ok(table) => {
            let settings = default_settings(&mut *conn, staff, &table.header).await?;
            let rows = table.records.len() as i64;
            (ImportStatus::Uploaded, None, table.header, rows, Some(serde_json::to_value(settings).map_err(crate::error::internal)?), content)
        }
        // Nothing to keep of a file that cannot be read but the reason.
        Err(why) => (ImportStatus::Unreadable, Some(why.0), Vec::new(), 0, None, Vec::new()),
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO import_jobs (account_id, created_by, file_name, content, headers, row_count, settings, status, message, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        staff.account_id(),
        staff.user_id(),
        file_name,
        content,
        &headers,
        rows,
        settings,
        status.key(),
        message,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The settings a new upload starts with: columns matched by their headers, the default
/// customer type, the caller's top company, no group, skip titles that exist, all or nothing.
async fn default_settings(conn: &mut PgConnection, staff: &Staff, headers: &[String]) -> Result<ImportSettings, AppError> {
    let customer_type_id = sqlx::query_scalar!(
        "SELECT id FROM customer_types WHERE account_id = $1 ORDER BY is_default DESC, id LIMIT 1",
        staff.account_id()
    )
    .fetch_one(&mut *conn)
    .await?;
    let owner_company_id = scope_root(&mut *conn, staff).await?;
    Ok(ImportSettings {
        columns: ImportField::match_headers(headers),
        customer_type_id,
        owner_company_id,
        group_id: None,
        existing: Existing::Skip,
        mode: Mode::AllOrNothing,
    })
}

/// The job as its page shows it, with the choices its settings offer.
pub async fn view(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>, id: i64, now: DateTime<Utc>) -> Result<ImportView, AppError> {
    let staff = allowed.staff();
    let job = job(&mut *conn, staff, id, now, false).await?;
    let lookups = Lookups::load(&mut *conn, staff).await?;
    let settings = match job.settings {
        Some(settings) => settings,
        None => default_settings(&mut *conn, staff, &job.headers).await?,
    };
    let named = |map: &HashMap<i64, String>| {
        let mut list: Vec<(i64, String)> = map.iter().map(|(id, name)| (*id, name.clone())).collect();
        list.sort_by_key(|(_, name)| name.to_lowercase());
        list
    };
    Ok(ImportView {
        id: job.id,
        file_name: job.file_name,
        status: job.status,
        message: job.message,
        headers: job.headers,
        rows: job.row_count,
        settings,
        totals: job.totals,
        done: job.done,
        total: job.total,
        changed: job.changed,
        can_update: staff.holds(Permission::CustomersEdit),
        types: named(&lookups.type_names),
        companies: lookups.companies.iter().map(|(id, name)| (*id, name.clone())).collect(),
        groups: named(&lookups.group_names),
        created_at: job.created_at,
        finished_at: job.finished_at,
    })
}

/// The caller's ten latest imports.
pub async fn recent(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>) -> Result<Vec<ImportSummary>, AppError> {
    let staff = allowed.staff();
    let rows = sqlx::query!(
        "SELECT id, file_name, status, row_count, created_at FROM import_jobs
          WHERE account_id = $1 AND created_by = $2 ORDER BY created_at DESC, id DESC LIMIT 10",
        staff.account_id(),
        staff.user_id()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ImportSummary { id: r.id, file_name: r.file_name, status: ImportStatus::from_key(&r.status), rows: r.row_count, created_at: r.created_at })
        .collect())
}

/// A page of the dry run's rows (`outcome` narrows it; `changed` to those that changed).
pub async fn rows(
    conn: &mut PgConnection,
    allowed: &Allowed<'_, CustomersCreate>,
    id: i64,
    filter: &str,
    after: i32,
    now: DateTime<Utc>,
) -> Result<RowPage, AppError> {
    let staff = allowed.staff();
    let job = job(&mut *conn, staff, id, now, false).await?;
    let outcome = Outcome::from_key(filter).map(Outcome::key);
    let rows = sqlx::query!(
        "SELECT line, title, outcome, field, message, changed FROM import_rows
          WHERE account_id = $1 AND job_id = $2 AND line > $3
            AND ($4::text IS NULL OR outcome = $4) AND (NOT $5 OR changed)
          ORDER BY line LIMIT $6",
        staff.account_id(),
        job.id,
        after,
        outcome,
        filter == "changed",
        ROWS_PER_PAGE + 1
    )
    .fetch_all(conn)
    .await?;
    let more = rows.len() as i64 > ROWS_PER_PAGE;
    let rows: Vec<RowView> = rows
        .into_iter()
        .take(ROWS_PER_PAGE as usize)
        .map(|r| RowView {
            line: r.line,
            title: r.title,
            outcome: Outcome::from_key(&r.outcome).unwrap_or(Outcome::Error),
            field: r.field,
            message: r.message,
            changed: r.changed,
        })
        .collect();
    let next = if more { rows.last().map(|r| r.line) } else { None };
    Ok(RowPage { rows, next })
}

/// The dry run: saves `settings`, decides every row and keeps what it decided. Writes no
/// customer.
pub async fn check(
    conn: &mut PgConnection,
    allowed: &Allowed<'_, CustomersCreate>,
    id: i64,
    settings: &ImportSettings,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    let job = job(&mut *conn, staff, id, now, true).await?;
    if !job.status.can_check() {
        return Err(AppError::Refused(match job.status {
            ImportStatus::Running => "This file is being imported; wait until it is done.".into(),
            ImportStatus::Done => "This file was imported already. Upload it again to import it again.".into(),
            _ => "This file could not be read. Save it as CSV UTF-8 and upload it again.".into(),
        }));
    }
    let table = parse::read(&content(&mut *conn, &job).await?).map_err(|why| AppError::Refused(why.0))?;
    let room = room(&mut *conn, staff.account_id(), false).await?;
    let plan = plan(&mut *conn, staff, settings, &table, job.id, room).await?;
    save_rows(&mut *conn, staff.account_id(), job.id, &plan.rows).await?;
    let totals = plan.totals();
    sqlx::query!(
        "UPDATE import_jobs SET settings = $3, status = 'checked', message = NULL, to_create = $4, to_update = $5, to_skip = $6,
                                errors = $7, changed = 0, done = 0, total = 0, heartbeat_at = NULL
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        job.id,
        serde_json::to_value(settings).map_err(crate::error::internal)?,
        totals.create,
        totals.update,
        totals.skip,
        totals.error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// How many more customers the plan has room for (`None`: no limit); `lock` holds the account
/// row, which every customer creation takes first, for the import's transaction.
async fn room(conn: &mut PgConnection, account_id: i64, lock: bool) -> Result<Option<i64>, AppError> {
    let row = if lock {
        sqlx::query!("SELECT customer_count, customer_limit FROM accounts WHERE id = $1 FOR UPDATE", account_id).fetch_one(conn).await?
    } else {
        let r = sqlx::query!("SELECT customer_count, customer_limit FROM accounts WHERE id = $1", account_id).fetch_one(conn).await?;
        return Ok(r.customer_limit.map(|l| (l - r.customer_count).max(0)));
    };
    Ok(row.customer_limit.map(|l| (l - row.customer_count).max(0)))
}

/// Replaces the job's rows with `rows`' outcomes.
async fn save_rows(conn: &mut PgConnection, account_id: i64, job_id: i64, rows: &[Row]) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM import_rows WHERE account_id = $1 AND job_id = $2", account_id, job_id).execute(&mut *conn).await?;
    for chunk in rows.chunks(10_000) {
        let (field, message): (Vec<Option<String>>, Vec<Option<String>>) = chunk
            .iter()
            .map(|r| match &r.planned {
                Planned::Error { field, message } => (Some(field.clone()), Some(message.clone())),
                Planned::Skip(why) => (None, Some(why.clone())),
                _ => (None, None),
            })
            .unzip();
        sqlx::query!(
            "INSERT INTO import_rows (account_id, job_id, line, title, outcome, field, message)
             SELECT $1, $2, u.line, u.title, u.outcome, u.field, u.message
               FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(line, title, outcome, field, message)",
            account_id,
            job_id,
            &chunk.iter().map(|r| r.line as i32).collect::<Vec<_>>(),
            &chunk.iter().map(|r| r.title.chars().take(200).collect::<String>()).collect::<Vec<_>>(),
            &chunk.iter().map(|r| r.planned.outcome().key().to_owned()).collect::<Vec<_>>(),
            &field as &[Option<String>],
            &message as &[Option<String>],
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Starts the import of a checked job, once: of many starts at once, one starts it and the
/// others are refused. An all-or-nothing job with error rows does not start.
pub async fn start(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>, id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    let staff = allowed.staff();
    let job = job(&mut *conn, staff, id, now, true).await?;
    match job.status {
        ImportStatus::Checked => {}
        ImportStatus::Running => return Err(AppError::Refused("This file is being imported already.".into())),
        ImportStatus::Done => return Err(AppError::Refused("This file was imported already.".into())),
        _ => return Err(AppError::Refused("Check the file before you import it.".into())),
    }
    let settings = job.settings.unwrap_or_default();
    if settings.mode == Mode::AllOrNothing && job.totals.error > 0 {
        return Err(AppError::Refused(format!(
            "{} rows have errors and this import is all or nothing. Fix them, or choose to import the valid rows only.",
            job.totals.error
        )));
    }
    sqlx::query!(
        "UPDATE import_jobs SET status = 'running', done = 0, total = to_create + to_update, heartbeat_at = $3, message = NULL
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        job.id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Runs a started job to its end. Whatever stops it, nothing of it is written but the job's
/// state: done, or failed with the reason.
pub async fn run(state: AppState, staff: Staff, id: i64) {
    let outcome = import(&state, &staff, id).await;
    let now = state.clock.now();
    let message = match outcome {
        Ok(()) => return,
        Err(AppError::PlanLimit(limit)) => format!("{limit} Nothing was imported."),
        Err(AppError::Refused(why)) => format!("{why} Nothing was imported."),
        Err(error) => {
            tracing::error!(job = id, %error, "import failed");
            format!("The import stopped with an error: nothing was imported. {error}")
        }
    };
    let result = sqlx::query!(
        "UPDATE import_jobs SET status = 'failed', message = $3, finished_at = $4 WHERE account_id = $1 AND id = $2 AND status = 'running'",
        staff.account_id(),
        id,
        message,
        now
    )
    .execute(&state.db)
    .await;
    if let Err(error) = result {
        tracing::error!(job = id, %error, "could not record that an import failed");
    }
}

/// The import: every row decided again in one transaction that holds the account's customer
/// count, then the creates, parents and updates in batches with their audit rows, a summary
/// audit row, and the job done, committed together. Progress goes beside it, committed at once.
async fn import(state: &AppState, staff: &Staff, id: i64) -> Result<(), AppError> {
    let create = staff.allow::<CustomersCreate>()?;
    let now = state.clock.now();
    let account_id = staff.account_id();
    let mut tx = state.db.begin().await?;
    let room = room(&mut tx, account_id, true).await?;
    let job = job(&mut tx, staff, id, now, false).await?;
    let settings = job.settings.clone().unwrap_or_default();
    let table = parse::read(&content(&mut tx, &job).await?).map_err(|why| AppError::Refused(why.0))?;
    let plan = plan(&mut tx, staff, &settings, &table, job.id, room).await?;

    // What changed since the dry run.
    let before: HashMap<i32, String> = sqlx::query!("SELECT line, outcome FROM import_rows WHERE account_id = $1 AND job_id = $2", account_id, job.id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.line, r.outcome))
        .collect();
    let changed: Vec<&Row> = plan.rows.iter().filter(|r| before.get(&(r.line as i32)).map(String::as_str) != Some(r.planned.outcome().key())).collect();
    let totals = plan.totals();
    if settings.mode == Mode::AllOrNothing && totals.error > 0 {
        tx.rollback().await?;
        let mut tx = state.db.begin().await?;
        record_changes(&mut tx, account_id, job.id, &changed).await?;
        sqlx::query!(
            "UPDATE import_jobs SET status = 'failed', finished_at = $3, changed = $4, to_create = $5, to_update = $6, to_skip = $7, errors = $8,
                    message = $9
              WHERE account_id = $1 AND id = $2",
            account_id,
            job.id,
            state.clock.now(),
            changed.len() as i64,
            totals.create,
            totals.update,
            totals.skip,
            totals.error,
            format!(
                "{} rows have errors now (the file was checked before something changed): nothing was imported. \
                 Check the file again, fix the rows or choose to import the valid rows only.",
                totals.error
            )
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let total = totals.create + totals.update;
    progress(state, job.id, 0, Some(total)).await?;

    // Creates, in the file's order.
    let mut created: HashMap<usize, i64> = HashMap::new();
    let creates: Vec<(usize, &Draft)> = plan.rows.iter().enumerate().filter_map(|(i, r)| match &r.planned {
        Planned::Create(draft) => Some((i, draft)),
        _ => None,
    }).collect();
    let mut done = 0i64;
    for batch in creates.chunks(BATCH) {
        let rows: Vec<NewRow> = batch
            .iter()
            .map(|(_, d)| NewRow {
                fields: d.fields.clone(),
                customer_type_id: d.type_id,
                owner_company_id: d.owner_id,
                parent_id: match d.parent {
                    Parent::Existing(id, _) => Some(id),
                    _ => None,
                },
                group_ids: d.group_ids.clone(),
                audit: d.audit.clone(),
            })
            .collect();
        let ids = bulk::create_many(&mut tx, &create, &rows, now).await?;
        for ((i, _), id) in batch.iter().zip(ids) {
            created.insert(*i, id);
        }
        done += batch.len() as i64;
        progress(state, job.id, done, None).await?;
    }
    let pairs: Vec<(i64, i64)> = creates
        .iter()
        .filter_map(|(i, d)| match d.parent {
            Parent::Line(j) => Some((created[i], plan.rows[j].existing.or_else(|| created.get(&j).copied())?)),
            _ => None,
        })
        .collect();
    bulk::set_parents(&mut tx, &create, &pairs).await?;

    let updates: Vec<ChangedRow> = plan
        .rows
        .iter()
        .filter_map(|r| match &r.planned {
            Planned::Update(change) => Some(ChangedRow {
                id: change.id,
                fields: change.draft.fields.clone(),
                customer_type_id: change.draft.type_id,
                owner_company_id: change.draft.owner_id,
                group_ids: change.draft.group_ids.clone(),
                old_group_ids: change.old_group_ids.clone(),
                audit: change.draft.audit.clone(),
            }),
            _ => None,
        })
        .collect();
    if !updates.is_empty() {
        let edit = staff.allow::<CustomersEdit>()?;
        for batch in updates.chunks(BATCH) {
            bulk::update_many(&mut tx, &edit, batch, now).await?;
            done += batch.len() as i64;
            progress(state, job.id, done, None).await?;
        }
    }

    Actor::staff(staff, now)
        .audit(
            &mut tx,
            Action::CustomersImported,
            AuditRecord::account(account_id),
            json!({
                "file": job.file_name, "import": job.id, "rows": plan.rows.len(),
                "created": totals.create, "updated": totals.update, "skipped": totals.skip, "errors": totals.error,
                "mode": match settings.mode { Mode::AllOrNothing => "all_or_nothing", Mode::ValidOnly => "valid_only" },
                "changed_since_check": changed.len(),
            }),
        )
        .await?;
    record_changes(&mut tx, account_id, job.id, &changed).await?;
    sqlx::query!(
        "UPDATE import_jobs SET status = 'done', finished_at = $3, done = $4, total = $4, changed = $5, to_create = $6, to_update = $7,
                to_skip = $8, errors = $9, heartbeat_at = $3
          WHERE account_id = $1 AND id = $2",
        account_id,
        job.id,
        state.clock.now(),
        done,
        changed.len() as i64,
        totals.create,
        totals.update,
        totals.skip,
        totals.error
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Notes the rows whose outcome differs from the dry run's, with their new outcome.
async fn record_changes(conn: &mut PgConnection, account_id: i64, job_id: i64, changed: &[&Row]) -> Result<(), AppError> {
    for r in changed {
        let (field, message) = match &r.planned {
            Planned::Error { field, message } => (Some(field.clone()), Some(message.clone())),
            Planned::Skip(why) => (None, Some(why.clone())),
            _ => (None, None),
        };
        sqlx::query!(
            "UPDATE import_rows SET outcome = $4, field = $5, message = $6, changed = true WHERE account_id = $1 AND job_id = $2 AND line = $3",
            account_id,
            job_id,
            r.line as i32,
            r.planned.outcome().key(),
            field,
            message
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Writes how far the job is, committed at once on a connection of its own, so the page sees
/// it while the import's transaction is still open.
async fn progress(state: &AppState, id: i64, done: i64, total: Option<i64>) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE import_jobs SET done = $2, total = coalesce($3, total), heartbeat_at = $4 WHERE id = $1",
        id,
        done,
        total,
        state.clock.now()
    )
    .execute(&state.db)
    .await?;
    Ok(())
}

/// The rows of the job that have an error, as the file had them, with a last column saying
/// what is wrong: fix them there and upload the file again.
pub async fn error_rows(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersCreate>, id: i64, now: DateTime<Utc>) -> Result<(String, Vec<u8>), AppError> {
    let staff = allowed.staff();
    let job = job(&mut *conn, staff, id, now, false).await?;
    let errors: HashMap<i32, (Option<String>, Option<String>)> = sqlx::query!(
        "SELECT line, field, message FROM import_rows WHERE account_id = $1 AND job_id = $2 AND outcome = 'error'",
        staff.account_id(),
        job.id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| (r.line, (r.field, r.message)))
    .collect();
    let table = parse::read(&content(&mut *conn, &job).await?).map_err(|why| AppError::Refused(why.0))?;
    let mut csv = CsvWriter::new();
    csv.row(table.header.iter().map(String::as_str).chain(["Error"]));
    for record in &table.records {
        if let Some((field, message)) = errors.get(&(record.line as i32)) {
            let why = match (field, message) {
                (Some(field), Some(message)) if !field.is_empty() => format!("{field}: {message}"),
                (_, Some(message)) => message.clone(),
                _ => String::new(),
            };
            // The cells as they were (a guarded one keeps its guard), then the reason.
            let cells: Vec<&str> = (0..table.header.len()).map(|i| record.cells.get(i).map(|c| restore(c)).unwrap_or("")).collect();
            csv.row(cells.into_iter().chain([why.as_str()]));
        }
    }
    let stem = job.file_name.strip_suffix(".csv").unwrap_or(&job.file_name).to_owned();
    Ok((format!("{stem} - errors.csv"), csv.take().to_vec()))
}

/// How long an import's file and outcomes are kept after it was uploaded.
pub const KEPT_FOR: Duration = Duration::days(30);

/// Deletes jobs uploaded more than [`KEPT_FOR`] ago, with their files and rows; a job that is
/// importing right now stays.
pub async fn clean_up(db: &sqlx::PgPool, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!(
        "DELETE FROM import_jobs WHERE created_at < $1 AND NOT (status = 'running' AND heartbeat_at > $2)",
        now - KEPT_FOR,
        now - STALE_AFTER
    )
    .execute(db)
    .await?;
    Ok(())
}

// ---- Deciding the rows --------------------------------------------------------------------

/// Where a new customer goes in the tree.
#[derive(Clone, Debug, PartialEq)]
enum Parent {
    None,
    Existing(i64, String),
    /// The row at this index of the file (made, or found, by the same import).
    Line(usize),
}

/// A row's customer as it will be written.
#[derive(Clone, Debug)]
struct Draft {
    fields: CustomerFields,
    type_id: i64,
    owner_id: i64,
    group_ids: Vec<i64>,
    parent: Parent,
    audit: Value,
    /// Whether the type and the owner came from the row's own cells (not the settings).
    type_from_file: bool,
    owner_from_file: bool,
}

#[derive(Clone, Debug)]
struct Change {
    id: i64,
    draft: Draft,
    old_group_ids: Vec<i64>,
}

#[derive(Clone, Debug)]
enum Planned {
    Create(Draft),
    Update(Change),
    Skip(String),
    Error { field: String, message: String },
}

impl Planned {
    fn outcome(&self) -> Outcome {
        match self {
            Self::Create(_) => Outcome::Create,
            Self::Update(_) => Outcome::Update,
            Self::Skip(_) => Outcome::Skip,
            Self::Error { .. } => Outcome::Error,
        }
    }

    fn error(field: ImportField, message: impl Into<String>) -> Self {
        Self::Error { field: field.label().to_owned(), message: message.into() }
    }
}

#[derive(Clone, Debug)]
struct Row {
    line: u32,
    title: String,
    /// The customer that already has this title, if any.
    existing: Option<i64>,
    planned: Planned,
}

struct Plan {
    rows: Vec<Row>,
}

impl Plan {
    fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for r in &self.rows {
            match r.planned.outcome() {
                Outcome::Create => totals.create += 1,
                Outcome::Update => totals.update += 1,
                Outcome::Skip => totals.skip += 1,
                Outcome::Error => totals.error += 1,
            }
        }
        totals
    }
}

/// What names in the file may refer to: the account's types and groups, the companies in the
/// caller's scope (in tree order).
struct Lookups {
    type_names: HashMap<i64, String>,
    companies: Vec<(i64, String)>,
    group_names: HashMap<i64, String>,
}

impl Lookups {
    async fn load(conn: &mut PgConnection, staff: &Staff) -> Result<Self, AppError> {
        let account_id = staff.account_id();
        let type_names = sqlx::query!("SELECT id, name FROM customer_types WHERE account_id = $1", account_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        let top = scope_root(&mut *conn, staff).await?;
        let companies = sqlx::query!(
            "SELECT id, name FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint] ORDER BY path",
            account_id,
            top
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
        let group_names = sqlx::query!("SELECT id, name FROM customer_groups WHERE account_id = $1", account_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        Ok(Self { type_names, companies, group_names })
    }

    fn type_named(&self, name: &str) -> Option<i64> {
        let name = name.trim().to_lowercase();
        self.type_names.iter().find(|(_, n)| n.to_lowercase() == name).map(|(id, _)| *id)
    }

    fn group_named(&self, name: &str) -> Option<i64> {
        let name = name.trim().to_lowercase();
        self.group_names.iter().find(|(_, n)| n.to_lowercase() == name).map(|(id, _)| *id)
    }

    fn companies_named(&self, name: &str) -> Vec<i64> {
        let name = name.trim().to_lowercase();
        self.companies.iter().filter(|(_, n)| n.to_lowercase() == name).map(|(id, _)| *id).collect()
    }

    fn company_name(&self, id: i64) -> String {
        self.companies.iter().find(|(c, _)| *c == id).map(|(_, n)| n.clone()).unwrap_or_default()
    }
}

/// The settings' own mistakes, before any row: a column that is not in the file, a choice that
/// is not offered, updating without the permission to edit.
fn check_settings(settings: &ImportSettings, lookups: &Lookups, staff: &Staff, columns: usize) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    if settings.columns.len() != ImportField::ALL.len() || settings.columns.iter().flatten().any(|&c| c as usize >= columns) {
        errors.add("columns", "Choose columns of this file.");
    } else if settings.column(ImportField::Title).is_none() {
        errors.add("columns", "Choose the column that holds the titles.");
    }
    if !lookups.type_names.contains_key(&settings.customer_type_id) {
        errors.add("customer_type_id", "Choose a customer type from the list.");
    }
    if !lookups.companies.iter().any(|(id, _)| *id == settings.owner_company_id) {
        errors.add("owner_company_id", "Choose a company you manage.");
    }
    if settings.group_id.is_some_and(|g| !lookups.group_names.contains_key(&g)) {
        errors.add("group_id", "Choose a group from the list.");
    }
    if settings.existing == Existing::Update && !staff.holds(Permission::CustomersEdit) {
        errors.add("existing", "You may not edit customers: choose to skip the titles that exist.");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The form field each of the first eleven import fields fills.
fn form_field_label(name: &str) -> &'static str {
    let fields = ["title", "company_name", "email", "phone", "country", "state", "city", "address", "address2", "zip", "description"];
    fields.iter().position(|f| *f == name).map(|i| ImportField::ALL[i].label()).unwrap_or("Row")
}

/// Decides what every row of `table` does under `settings`, as the caller: the customers'
/// own validation, names resolved in the caller's scope, titles compared with the account's
/// customers and with the other rows, parents in the file or among existing customers, and
/// the plan's room for new customers.
async fn plan(conn: &mut PgConnection, staff: &Staff, settings: &ImportSettings, table: &Table, job_id: i64, room: Option<i64>) -> Result<Plan, AppError> {
    let lookups = Lookups::load(&mut *conn, staff).await?;
    check_settings(settings, &lookups, staff, table.header.len())?;
    let cell = |record: &Record, field: ImportField| -> String {
        settings
            .column(field)
            .and_then(|c| record.cells.get(c as usize))
            .map(|c| restore(c).trim().to_owned())
            .unwrap_or_default()
    };
    let mapped = |field: ImportField| settings.column(field).is_some();

    // Each row on its own.
    let mut rows: Vec<Row> = Vec::with_capacity(table.records.len());
    let mut drafts: Vec<Option<Draft>> = Vec::with_capacity(table.records.len());
    for record in &table.records {
        let title = cell(record, ImportField::Title);
        let (planned, draft) = match read_row(record, table.header.len(), &cell, &lookups, settings) {
            Ok(draft) => (None, Some(draft)),
            Err(error) => (Some(error), None),
        };
        rows.push(Row { line: record.line, title, existing: None, planned: planned.unwrap_or(Planned::Skip(String::new())) });
        drafts.push(draft);
    }

    // Titles repeated in the file: the first stands, the others are errors.
    let mut first_of: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter_mut().enumerate() {
        if row.title.is_empty() {
            continue;
        }
        let key = row.title.to_lowercase();
        match first_of.get(&key) {
            Some(&first) => {
                row.planned = Planned::error(ImportField::Title, format!("Line {} has the same title.", table.records[first].line));
                drafts[i] = None;
            }
            None => {
                first_of.insert(key, i);
            }
        }
    }

    // The account's customers with the file's titles and parents' titles.
    let mut wanted: Vec<String> = first_of.keys().cloned().collect();
    wanted.extend(table.records.iter().map(|r| cell(r, ImportField::ParentCustomer).to_lowercase()).filter(|p| !p.is_empty()));
    wanted.sort_unstable();
    wanted.dedup();
    let found = bulk::by_titles(&mut *conn, staff, &wanted).await?;

    for (i, row) in rows.iter_mut().enumerate() {
        let Some(mut draft) = drafts[i].take() else { continue };
        let key = row.title.to_lowercase();
        let parent_title = cell(&table.records[i], ImportField::ParentCustomer);
        match found.get(&key) {
            Some(existing) if !existing.in_scope => {
                row.planned = Planned::error(ImportField::Title, "A customer with this title already exists.");
            }
            Some(existing) => {
                row.existing = Some(existing.id);
                row.planned = match settings.existing {
                    Existing::Skip => Planned::Skip("A customer with this title exists: skipped.".into()),
                    Existing::Update => update_of(existing, draft, &parent_title, settings, &mapped, job_id),
                };
            }
            None => {
                draft.parent = if parent_title.is_empty() {
                    Parent::None
                } else if parent_title.to_lowercase() == key {
                    row.planned = Planned::error(ImportField::ParentCustomer, "A customer cannot be its own parent.");
                    continue;
                } else if let Some(&j) = first_of.get(&parent_title.to_lowercase()) {
                    Parent::Line(j)
                } else if let Some(parent) = found.get(&parent_title.to_lowercase()).filter(|p| p.in_scope) {
                    Parent::Existing(parent.id, parent.fields.title.clone())
                } else {
                    row.planned = Planned::error(ImportField::ParentCustomer, "No customer you manage, and no row of this file, has this title.");
                    continue;
                };
                draft.audit = json!({
                    "title": draft.fields.title,
                    "type": lookups.type_names.get(&draft.type_id),
                    "owner": lookups.company_name(draft.owner_id),
                    "parent": match &draft.parent { Parent::None => None, Parent::Existing(_, t) => Some(t.clone()), Parent::Line(_) => Some(parent_title.clone()) },
                    "import": job_id,
                });
                row.planned = Planned::Create(draft);
            }
        }
    }

    // Parents in the file: a row under an error row, or in a loop of rows, is an error.
    break_loops(&mut rows, &table.records);
    propagate_parent_errors(&mut rows, &table.records);

    // The plan's room, taken in the file's order.
    if let Some(room) = room {
        let mut taken = 0;
        for row in rows.iter_mut() {
            if matches!(row.planned, Planned::Create(_)) {
                taken += 1;
                if taken > room {
                    row.planned = Planned::error(
                        ImportField::Title,
                        format!("Over your plan's limit: it has room for {room} more customers, and the rows above take them."),
                    );
                }
            }
        }
        propagate_parent_errors(&mut rows, &table.records);
    }
    Ok(Plan { rows })
}

/// One row read into a customer, or the first thing wrong with it.
fn read_row(
    record: &Record,
    columns: usize,
    cell: &dyn Fn(&Record, ImportField) -> String,
    lookups: &Lookups,
    settings: &ImportSettings,
) -> Result<Draft, Planned> {
    if record.cells.len() > columns {
        return Err(Planned::Error {
            field: String::new(),
            message: format!("This line has {} cells; the first line names {columns} columns.", record.cells.len()),
        });
    }
    let form = CustomerForm {
        title: cell(record, ImportField::Title),
        company_name: cell(record, ImportField::CompanyName),
        email: cell(record, ImportField::Email),
        phone: cell(record, ImportField::Phone),
        country: cell(record, ImportField::Country),
        state: cell(record, ImportField::State),
        city: cell(record, ImportField::City),
        address: cell(record, ImportField::Address),
        address2: cell(record, ImportField::Address2),
        zip: cell(record, ImportField::Zip),
        description: cell(record, ImportField::Description),
    };
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    if let Some(first) = errors.0.first() {
        return Err(Planned::Error { field: form_field_label(&first.field).to_owned(), message: first.message.clone() });
    }
    let fields = fields.ok_or_else(|| Planned::error(ImportField::Title, "This row could not be read."))?;
    let type_name = cell(record, ImportField::CustomerType);
    let type_id = if type_name.is_empty() {
        settings.customer_type_id
    } else {
        lookups.type_named(&type_name).ok_or_else(|| Planned::error(ImportField::CustomerType, format!("No customer type is called “{type_name}”.")))?
    };
    let owner_name = cell(record, ImportField::OwnerCompany);
    let owner_id = if owner_name.is_empty() {
        settings.owner_company_id
    } else {
        match lookups.companies_named(&owner_name).as_slice() {
            [id] => *id,
            [] => return Err(Planned::error(ImportField::OwnerCompany, format!("No company you manage is called “{owner_name}”."))),
            _ => {
                return Err(Planned::error(
                    ImportField::OwnerCompany,
                    format!("More than one company you manage is called “{owner_name}”: leave this column out and choose the owner above."),
                ))
            }
        }
    };
    let mut group_ids = Vec::new();
    for name in cell(record, ImportField::Groups).split(';').map(str::trim).filter(|n| !n.is_empty()) {
        group_ids.push(lookups.group_named(name).ok_or_else(|| Planned::error(ImportField::Groups, format!("No group is called “{name}”.")))?);
    }
    group_ids.extend(settings.group_id);
    group_ids.sort_unstable();
    group_ids.dedup();
    Ok(Draft {
        fields,
        type_id,
        owner_id,
        group_ids,
        parent: Parent::None,
        audit: Value::Null,
        type_from_file: !type_name.is_empty(),
        owner_from_file: !owner_name.is_empty(),
    })
}

/// A row whose title an existing customer in scope has, with updating chosen: the mapped
/// columns' values over the customer's own; no change is a skip. The import never moves a
/// customer to another parent.
fn update_of(
    existing: &Found,
    mut draft: Draft,
    parent_title: &str,
    settings: &ImportSettings,
    mapped: &dyn Fn(ImportField) -> bool,
    job_id: i64,
) -> Planned {
    if mapped(ImportField::ParentCustomer) && parent_title.to_lowercase() != existing.parent_title.clone().unwrap_or_default().to_lowercase() {
        return Planned::error(ImportField::ParentCustomer, "The import does not move customers: change the parent on the customer's page.");
    }
    let old = &existing.fields;
    let keep = |field: ImportField, new: &mut Option<String>, old: &Option<String>| {
        if !mapped(field) {
            *new = old.clone();
        }
    };
    let f = &mut draft.fields;
    keep(ImportField::CompanyName, &mut f.company_name, &old.company_name);
    keep(ImportField::Email, &mut f.email, &old.email);
    keep(ImportField::Phone, &mut f.phone, &old.phone);
    keep(ImportField::Country, &mut f.country, &old.country);
    keep(ImportField::State, &mut f.state, &old.state);
    keep(ImportField::City, &mut f.city, &old.city);
    keep(ImportField::Address, &mut f.address, &old.address);
    keep(ImportField::Address2, &mut f.address2, &old.address2);
    keep(ImportField::Zip, &mut f.zip, &old.zip);
    keep(ImportField::Description, &mut f.description, &old.description);
    // Type and owner change only where the file names them; groups are the file's (when
    // mapped) or the customer's, plus the group chosen for the import.
    if !draft.type_from_file {
        draft.type_id = existing.customer_type_id;
    }
    if !draft.owner_from_file {
        draft.owner_id = existing.owner_company_id;
    }
    if !mapped(ImportField::Groups) {
        draft.group_ids = existing.group_ids.iter().copied().chain(settings.group_id).collect();
        draft.group_ids.sort_unstable();
        draft.group_ids.dedup();
    }
    let mut old_groups = existing.group_ids.clone();
    old_groups.sort_unstable();
    let new = &draft.fields;
    let changes = Changes::default()
        .field("title", &old.title, &new.title)
        .field("company_name", &old.company_name, &new.company_name)
        .field("email", &old.email, &new.email)
        .field("phone", &old.phone, &new.phone)
        .field("country", &old.country, &new.country)
        .field("state", &old.state, &new.state)
        .field("city", &old.city, &new.city)
        .field("address", &old.address, &new.address)
        .field("address2", &old.address2, &new.address2)
        .field("zip", &old.zip, &new.zip)
        .field("description", &old.description, &new.description)
        .field("customer_type_id", &existing.customer_type_id, &draft.type_id)
        .field("owner_company_id", &existing.owner_company_id, &draft.owner_id)
        .field("group_ids", &old_groups, &draft.group_ids);
    if changes.is_empty() {
        return Planned::Skip("No changes.".into());
    }
    let mut audit: Value = changes.into();
    audit["import"] = json!(job_id);
    draft.audit = audit;
    Planned::Update(Change { id: existing.id, draft, old_group_ids: existing.group_ids.clone() })
}

/// Rows to be created whose parents, through rows of the file, lead back to themselves.
fn break_loops(rows: &mut [Row], records: &[Record]) {
    let parent_of = |rows: &[Row], i: usize| match &rows[i].planned {
        Planned::Create(Draft { parent: Parent::Line(j), .. }) => Some(*j),
        _ => None,
    };
    // 0: not seen, 1: on the current path, 2: finished.
    let mut state = vec![0u8; rows.len()];
    let mut in_loop = Vec::new();
    for start in 0..rows.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                2 => break,
                1 => {
                    let from = path.iter().position(|&p| p == i).unwrap_or(0);
                    in_loop.extend_from_slice(&path[from..]);
                    break;
                }
                _ => {
                    state[i] = 1;
                    path.push(i);
                    at = parent_of(rows, i);
                }
            }
        }
        for p in path {
            state[p] = 2;
        }
    }
    for i in in_loop {
        let lines: Vec<String> = std::iter::successors(Some(i), |&k| parent_of(rows, k).filter(|&n| n != i)).map(|k| records[k].line.to_string()).collect();
        rows[i].planned = Planned::error(ImportField::ParentCustomer, format!("The parents of lines {} form a loop.", lines.join(", ")));
    }
}

/// A row to be created under a row of the file that has an error has one too, down the tree.
fn propagate_parent_errors(rows: &mut [Row], records: &[Record]) {
    loop {
        let mut changed = false;
        for i in 0..rows.len() {
            if let Planned::Create(Draft { parent: Parent::Line(j), .. }) = rows[i].planned {
                if matches!(rows[j].planned, Planned::Error { .. }) {
                    rows[i].planned = Planned::error(ImportField::ParentCustomer, format!("Its parent, line {}, has an error.", records[j].line));
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

// ---- The routes ---------------------------------------------------------------------------

/// `POST /import/customers`: a form with the file (`file`), up to [`UPLOAD_LIMIT`]. Sends the
/// browser to the new job's page; a file too large or not a form is refused as such.
pub async fn upload_route(axum::extract::State(state): axum::extract::State<AppState>, req: axum::extract::Request) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    use axum::{extract::FromRequest, response::IntoResponse};
    let (parts, body) = req.into_parts();
    let req = axum::extract::Request::from_parts(parts.clone(), body);
    download::answer(state.clone(), axum::extract::Request::from_parts(parts, axum::body::Body::empty()), move |state, _| async move {
        let staff = require_staff().await?;
        let allowed = staff.allow::<CustomersCreate>()?;
        let mut multipart = axum::extract::Multipart::from_request(req, &state).await.map_err(|e| AppError::BadRequest(e.body_text()))?;
        let mut file = None;
        while let Some(field) = multipart.next_field().await.map_err(|e| upload_error(e.status()))? {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("import.csv").to_owned();
                let bytes = field.bytes().await.map_err(|e| upload_error(e.status()))?;
                file = Some((name, bytes));
            }
        }
        let Some((name, bytes)) = file else {
            return Err(AppError::field("file", "Choose a CSV file."));
        };
        if bytes.is_empty() {
            return Err(AppError::field("file", "The file is empty."));
        }
        let mut conn = state.db.acquire().await?;
        let id = upload(&mut conn, &allowed, &name, bytes.to_vec(), state.clock.now()).await?;
        Ok(axum::response::Redirect::to(&format!("/customers/import/{id}")).into_response())
    })
    .await
}

fn upload_error(status: axum::http::StatusCode) -> AppError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::Refused(format!("The file is larger than {} MB. Split it into smaller files.", UPLOAD_LIMIT / (1024 * 1024)))
    } else {
        AppError::BadRequest("the upload was cut off".into())
    }
}

/// `GET /import/{id}/errors.csv`: the job's error rows, to fix and upload again.
pub async fn errors_route(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(id): axum::extract::Path<i64>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    use axum::{http::header, response::IntoResponse};
    download::answer(state, req, move |state, _| async move {
        let staff = require_staff().await?;
        let allowed = staff.allow::<CustomersCreate>()?;
        let mut conn = state.db.acquire().await?;
        let (name, body) = error_rows(&mut conn, &allowed, id, state.clock.now()).await?;
        let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
        let disposition = format!("attachment; filename=\"{ascii}\"");
        Ok(([(header::CONTENT_TYPE, download::CSV.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
    })
    .await
}
