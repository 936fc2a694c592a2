//! The import's server half: the upload routes, the dry run (what each row would do), the job
//! that imports (one transaction, its progress written beside it), the error rows as a file.
//! A job is the uploader's own: for anyone else, in any account, it is not found. What a row
//! becomes is decided by its kind's module: `customers` or `customer_users`.

mod customer_users;
mod customers;

use super::{
    parse::{self, Table},
    ImportField, ImportKind, ImportSettings, ImportStatus, ImportSummary, ImportView, Mode, Outcome, RowPage, RowView, Totals, ROWS_PER_PAGE,
    UPLOAD_LIMIT,
};
use crate::{
    error::AppError,
    permissions::{
        grant::{CustomerUsersManage, CustomersCreate},
        Permission,
    },
    server::{
        capability::{Allowed, Staff},
        csv::{restore, CsvWriter},
        state::AppState,
    },
};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;

/// Rows written per statement while importing (and per progress step).
const BATCH: usize = 1_000;
/// A running job whose heartbeat is older than this was interrupted.
const STALE_AFTER: Duration = Duration::seconds(120);

// ---- Who may import what ------------------------------------------------------------------

/// A person allowed to import files of one kind: *Customers – Create* for customers,
/// *Customer users – Manage* for customer users. Every job function takes one, and finds only
/// the holder's own jobs of that kind.
pub struct Importer<'a> {
    staff: &'a Staff,
    kind: ImportKind,
}

impl<'a> Importer<'a> {
    pub fn customers(allowed: &Allowed<'a, CustomersCreate>) -> Self {
        Self { staff: allowed.staff(), kind: ImportKind::Customers }
    }

    pub fn customer_users(allowed: &Allowed<'a, CustomerUsersManage>) -> Self {
        Self { staff: allowed.staff(), kind: ImportKind::CustomerUsers }
    }

    /// `staff` importing files of `kind`, if they hold its permission.
    pub fn new(staff: &'a Staff, kind: ImportKind) -> Result<Self, AppError> {
        match kind {
            ImportKind::Customers => Ok(Self::customers(&staff.allow::<CustomersCreate>()?)),
            ImportKind::CustomerUsers => Ok(Self::customer_users(&staff.allow::<CustomerUsersManage>()?)),
        }
    }

    /// `staff` acting on their own job `id`, of whichever kind it is: not found when it is not
    /// theirs, forbidden when they no longer hold the permission its kind needs.
    pub async fn of_job(conn: &mut PgConnection, staff: &'a Staff, id: i64) -> Result<Self, AppError> {
        let kind = sqlx::query_scalar!(
            "SELECT kind FROM import_jobs WHERE account_id = $1 AND id = $2 AND created_by = $3",
            staff.account_id(),
            id,
            staff.user_id()
        )
        .fetch_optional(conn)
        .await?
        .and_then(|k| ImportKind::from_key(&k))
        .ok_or(AppError::NotFound)?;
        Self::new(staff, kind)
    }

    pub fn staff(&self) -> &'a Staff {
        self.staff
    }

    pub fn kind(&self) -> ImportKind {
        self.kind
    }
}

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
    /// The addresses this job has already told its uploader cannot be used (folded).
    answered: Vec<String>,
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
    answered: Vec<String>,
    heartbeat_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

/// The caller's job `id` of the importer's kind; another person's, another kind's or another
/// account's is not found. `lock` holds it for the transaction (a check and a start take turns).
async fn job(conn: &mut PgConnection, importer: &Importer<'_>, id: i64, now: DateTime<Utc>, lock: bool) -> Result<Job, AppError> {
    let staff = importer.staff;
    let row = if lock {
        sqlx::query_as!(
            JobRow,
            "SELECT id, file_name, headers, row_count, settings, status, message, to_create, to_update, to_skip, errors,
                    changed, done, total, answered, heartbeat_at, created_at, finished_at
               FROM import_jobs WHERE account_id = $1 AND id = $2 AND created_by = $3 AND kind = $4 FOR UPDATE",
            staff.account_id(),
            id,
            staff.user_id(),
            importer.kind.key()
        )
        .fetch_optional(&mut *conn)
        .await?
    } else {
        sqlx::query_as!(
            JobRow,
            "SELECT id, file_name, headers, row_count, settings, status, message, to_create, to_update, to_skip, errors,
                    changed, done, total, answered, heartbeat_at, created_at, finished_at
               FROM import_jobs WHERE account_id = $1 AND id = $2 AND created_by = $3 AND kind = $4",
            staff.account_id(),
            id,
            staff.user_id(),
            importer.kind.key()
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
        answered: row.answered,
        created_at: row.created_at,
        finished_at: row.finished_at,
    })
}

/// The job's file as uploaded: read only by what reads its rows (the page polls the job without
/// it).
async fn content(conn: &mut PgConnection, job: &Job) -> Result<Vec<u8>, AppError> {
    Ok(sqlx::query_scalar!("SELECT content FROM import_jobs WHERE id = $1", job.id).fetch_one(conn).await?)
}

async fn table(conn: &mut PgConnection, job: &Job) -> Result<Table, AppError> {
    parse::read(&content(conn, job).await?).map_err(|why| AppError::Refused(why.0))
}

/// Keeps an uploaded file as a new job of the caller: read, with its columns matched to the
/// fields, or unreadable with the reason. Returns the job's id.
pub async fn upload(conn: &mut PgConnection, importer: &Importer<'_>, file_name: &str, content: Vec<u8>, now: DateTime<Utc>) -> Result<i64, AppError> {
    let staff = importer.staff;
    let file_name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    let file_name = if file_name.trim().is_empty() { "import.csv".to_owned() } else { file_name };
    let (status, message, headers, rows, settings, content) = match parse::read(&content) {
        Ok(table) => {
            let settings = default_settings(&mut *conn, importer, &table.header).await?;
            let rows = table.records.len() as i64;
            (ImportStatus::Uploaded, None, table.header, rows, Some(serde_json::to_value(settings).map_err(crate::error::internal)?), content)
        }
        // Nothing to keep of a file that cannot be read but the reason.
        Err(why) => (ImportStatus::Unreadable, Some(why.0), Vec::new(), 0, None, Vec::new()),
    };
    let id = sqlx::query_scalar!(
        "INSERT INTO import_jobs (account_id, created_by, kind, file_name, content, headers, row_count, settings, status, message, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        staff.account_id(),
        staff.user_id(),
        importer.kind.key(),
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

/// The settings a new upload starts with: columns matched by their headers, skip what exists,
/// all or nothing; for customers the default type, the caller's top company and no group; for
/// customer users, activation links e-mailed.
async fn default_settings(conn: &mut PgConnection, importer: &Importer<'_>, headers: &[String]) -> Result<ImportSettings, AppError> {
    let columns = ImportField::match_headers(importer.kind, headers);
    match importer.kind {
        ImportKind::Customers => customers::default_settings(conn, importer.staff, columns).await,
        ImportKind::CustomerUsers => Ok(customer_users::default_settings(columns)),
    }
}

/// The job as its page shows it, with the choices its settings offer.
pub async fn view(conn: &mut PgConnection, importer: &Importer<'_>, id: i64, now: DateTime<Utc>) -> Result<ImportView, AppError> {
    let staff = importer.staff;
    let job = job(&mut *conn, importer, id, now, false).await?;
    let settings = match job.settings {
        Some(settings) => settings,
        None => default_settings(&mut *conn, importer, &job.headers).await?,
    };
    let (types, companies, groups) = match importer.kind {
        ImportKind::Customers => customers::choices(&mut *conn, staff).await?,
        ImportKind::CustomerUsers => Default::default(),
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
        can_update: match importer.kind {
            ImportKind::Customers => staff.holds(Permission::CustomersEdit),
            ImportKind::CustomerUsers => true,
        },
        types,
        companies,
        groups,
        created_at: job.created_at,
        finished_at: job.finished_at,
    })
}

/// The caller's ten latest imports of the importer's kind.
pub async fn recent(conn: &mut PgConnection, importer: &Importer<'_>) -> Result<Vec<ImportSummary>, AppError> {
    let staff = importer.staff;
    let rows = sqlx::query!(
        "SELECT id, file_name, status, row_count, created_at FROM import_jobs
          WHERE account_id = $1 AND created_by = $2 AND kind = $3 ORDER BY created_at DESC, id DESC LIMIT 10",
        staff.account_id(),
        staff.user_id(),
        importer.kind.key()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ImportSummary {
            id: r.id,
            kind: importer.kind,
            file_name: r.file_name,
            status: ImportStatus::from_key(&r.status),
            rows: r.row_count,
            created_at: r.created_at,
        })
        .collect())
}

/// A page of the dry run's rows (`outcome` narrows it; `changed` to those that changed).
pub async fn rows(conn: &mut PgConnection, importer: &Importer<'_>, id: i64, filter: &str, after: i32, now: DateTime<Utc>) -> Result<RowPage, AppError> {
    let staff = importer.staff;
    let job = job(&mut *conn, importer, id, now, false).await?;
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
/// customer and no user.
pub async fn check(conn: &mut PgConnection, state: &AppState, importer: &Importer<'_>, id: i64, settings: &ImportSettings) -> Result<(), AppError> {
    let staff = importer.staff;
    let job = job(&mut *conn, importer, id, state.clock.now(), true).await?;
    if !job.status.can_check() {
        return Err(AppError::Refused(match job.status {
            ImportStatus::Running => "This file is being imported; wait until it is done.".into(),
            ImportStatus::Done => "This file was imported already. Upload it again to import it again.".into(),
            _ => "This file could not be read. Save it as CSV UTF-8 and upload it again.".into(),
        }));
    }
    if settings.kind != importer.kind {
        return Err(AppError::BadRequest("the settings are for another kind of file".into()));
    }
    let table = table(&mut *conn, &job).await?;
    // Each kind decides the rows and keeps them with `save_rows`.
    let (totals, answered) = match importer.kind {
        ImportKind::Customers => (customers::check(&mut *conn, staff, settings, &table, job.id).await?, job.answered),
        ImportKind::CustomerUsers => customer_users::check(&mut *conn, state, staff, settings, &table, &job).await?,
    };
    sqlx::query!(
        "UPDATE import_jobs SET settings = $3, status = 'checked', message = NULL, to_create = $4, to_update = $5, to_skip = $6,
                                errors = $7, changed = 0, done = 0, total = 0, heartbeat_at = NULL, answered = $8
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        job.id,
        serde_json::to_value(settings).map_err(crate::error::internal)?,
        totals.create,
        totals.update,
        totals.skip,
        totals.error,
        &answered
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---- What a row becomes -------------------------------------------------------------------

/// What the import will do with one row: `C` is what a create writes, `U` what an update does.
#[derive(Clone, Debug)]
enum Planned<C, U> {
    Create(C),
    Update(U),
    Skip(String),
    Error { field: String, message: String },
}

impl<C, U> Planned<C, U> {
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

    /// The field and the message the page shows beside the row.
    fn note(&self) -> (Option<String>, Option<String>) {
        match self {
            Self::Error { field, message } => (Some(field.clone()), Some(message.clone())),
            Self::Skip(why) => (None, Some(why.clone())),
            _ => (None, None),
        }
    }
}

#[derive(Clone, Debug)]
struct Row<C, U> {
    line: u32,
    /// What the page names the row by: the customer's title, the user's address.
    title: String,
    /// The record that already has this title or address, if any.
    existing: Option<i64>,
    planned: Planned<C, U>,
}

fn totals<C, U>(rows: &[Row<C, U>]) -> Totals {
    let mut totals = Totals::default();
    for r in rows {
        match r.planned.outcome() {
            Outcome::Create => totals.create += 1,
            Outcome::Update => totals.update += 1,
            Outcome::Skip => totals.skip += 1,
            Outcome::Error => totals.error += 1,
        }
    }
    totals
}

/// The cell of `field` in `record` under `settings`, without a formula guard, trimmed.
fn cell(settings: &ImportSettings, record: &parse::Record, field: ImportField) -> String {
    settings.column(field).and_then(|c| record.cells.get(c as usize)).map(|c| restore(c).trim().to_owned()).unwrap_or_default()
}

/// A line with more cells than the header names columns.
fn too_many_cells<C, U>(record: &parse::Record, columns: usize) -> Option<Planned<C, U>> {
    (record.cells.len() > columns).then(|| Planned::Error {
        field: String::new(),
        message: format!("This line has {} cells; the first line names {columns} columns.", record.cells.len()),
    })
}

/// Replaces the job's rows with `rows`' outcomes.
async fn save_rows<C, U>(conn: &mut PgConnection, account_id: i64, job_id: i64, rows: &[Row<C, U>]) -> Result<(), AppError> {
    sqlx::query!("DELETE FROM import_rows WHERE account_id = $1 AND job_id = $2", account_id, job_id).execute(&mut *conn).await?;
    for chunk in rows.chunks(10_000) {
        let (field, message): (Vec<Option<String>>, Vec<Option<String>>) = chunk.iter().map(|r| r.planned.note()).unzip();
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
pub async fn start(conn: &mut PgConnection, importer: &Importer<'_>, id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    let job = job(&mut *conn, importer, id, now, true).await?;
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
        importer.staff.account_id(),
        job.id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Runs a started job to its end. Whatever stops it, nothing of it is written but the job's
/// state: done, or failed with the reason.
pub async fn run(state: AppState, staff: Staff, kind: ImportKind, id: i64) {
    let outcome = match Importer::new(&staff, kind) {
        Ok(importer) => match kind {
            ImportKind::Customers => customers::import(&state, &importer, id).await,
            ImportKind::CustomerUsers => customer_users::import(&state, &importer, id).await,
        },
        Err(error) => Err(error),
    };
    let now = state.clock.now();
    let message = match outcome {
        Ok(()) => return,
        Err(AppError::PlanLimit(limit)) => format!("{limit} Nothing was imported."),
        Err(AppError::Refused(why)) => format!("{why} Nothing was imported."),
        Err(AppError::Forbidden) => "You may no longer import these records: nothing was imported.".to_owned(),
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

/// The rows whose outcome now differs from what the dry run kept for them.
async fn changed_since_check<'r, C, U>(conn: &mut PgConnection, account_id: i64, job_id: i64, rows: &'r [Row<C, U>]) -> Result<Vec<&'r Row<C, U>>, AppError> {
    let before: HashMap<i32, String> = sqlx::query!("SELECT line, outcome FROM import_rows WHERE account_id = $1 AND job_id = $2", account_id, job_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| (r.line, r.outcome))
        .collect();
    Ok(rows.iter().filter(|r| before.get(&(r.line as i32)).map(String::as_str) != Some(r.planned.outcome().key())).collect())
}

/// An all-or-nothing import that has error rows now: the job records, in the import's own
/// transaction (which has written nothing else), the rows that changed and why nothing was
/// imported.
async fn refuse_changed<C, U>(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    account_id: i64,
    job_id: i64,
    changed: &[&Row<C, U>],
    totals: Totals,
) -> Result<(), AppError> {
    record_changes(&mut tx, account_id, job_id, changed).await?;
    sqlx::query!(
        "UPDATE import_jobs SET status = 'failed', finished_at = $3, changed = $4, to_create = $5, to_update = $6, to_skip = $7, errors = $8,
                message = $9
          WHERE account_id = $1 AND id = $2",
        account_id,
        job_id,
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
    Ok(())
}

/// The job done, in the import's own transaction: the rows that changed and the final totals.
async fn finish<C, U>(conn: &mut PgConnection, state: &AppState, account_id: i64, job_id: i64, done: i64, changed: &[&Row<C, U>], totals: Totals) -> Result<(), AppError> {
    record_changes(&mut *conn, account_id, job_id, changed).await?;
    sqlx::query!(
        "UPDATE import_jobs SET status = 'done', finished_at = $3, done = $4, total = $4, changed = $5, to_create = $6, to_update = $7,
                to_skip = $8, errors = $9, heartbeat_at = $3
          WHERE account_id = $1 AND id = $2",
        account_id,
        job_id,
        state.clock.now(),
        done,
        changed.len() as i64,
        totals.create,
        totals.update,
        totals.skip,
        totals.error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes the rows whose outcome differs from the dry run's, with their new outcome.
async fn record_changes<C, U>(conn: &mut PgConnection, account_id: i64, job_id: i64, changed: &[&Row<C, U>]) -> Result<(), AppError> {
    for r in changed {
        let (field, message) = r.planned.note();
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
pub async fn error_rows(conn: &mut PgConnection, importer: &Importer<'_>, id: i64, now: DateTime<Utc>) -> Result<(String, Vec<u8>), AppError> {
    let staff = importer.staff;
    let job = job(&mut *conn, importer, id, now, false).await?;
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
    let table = table(&mut *conn, &job).await?;
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

// ---- The routes ---------------------------------------------------------------------------

/// `POST /import/customers`: a form with the file (`file`), up to [`UPLOAD_LIMIT`]. Sends the
/// browser to the new job's page; a file too large or not a form is refused as such.
pub async fn upload_customers_route(state: axum::extract::State<AppState>, req: axum::extract::Request) -> axum::response::Response {
    upload_route(state, ImportKind::Customers, req).await
}

/// `POST /import/customer-users`: as [`upload_customers_route`], for a file of customer users.
pub async fn upload_customer_users_route(state: axum::extract::State<AppState>, req: axum::extract::Request) -> axum::response::Response {
    upload_route(state, ImportKind::CustomerUsers, req).await
}

async fn upload_route(axum::extract::State(state): axum::extract::State<AppState>, kind: ImportKind, req: axum::extract::Request) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    use axum::{extract::FromRequest, response::IntoResponse};
    let (parts, body) = req.into_parts();
    let req = axum::extract::Request::from_parts(parts.clone(), body);
    download::answer(state.clone(), axum::extract::Request::from_parts(parts, axum::body::Body::empty()), move |state, _| async move {
        let staff = require_staff().await?;
        let importer = Importer::new(&staff, kind)?;
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
        let id = upload(&mut conn, &importer, &name, bytes.to_vec(), state.clock.now()).await?;
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
        let mut conn = state.db.acquire().await?;
        let importer = Importer::of_job(&mut conn, &staff, id).await?;
        let (name, body) = error_rows(&mut conn, &importer, id, state.clock.now()).await?;
        let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
        let disposition = format!("attachment; filename=\"{ascii}\"");
        Ok(([(header::CONTENT_TYPE, download::CSV.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
    })
    .await
}
