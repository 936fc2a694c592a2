//! What the rows of a customer user file become: each through the customer user form's own
//! validation, its customer found by title in the caller's scope, its address compared with the
//! file's other rows, with the users the caller manages (skip or update) and with every address
//! in use, which is refused with the one message and counted against the caller's hourly
//! allowance of such answers, in the file's order as adding users one by one would. Past the
//! allowance, no row whose address is not the caller's own to see is answered at all.

use super::{cell, changed_since_check, finish, job, progress, refuse_changed, save_rows, table, too_many_cells, totals, Importer, Job, BATCH};
use crate::{
    auth::ssr::addresses,
    customer_users::{
        ssr::{self as users, Known},
        CustomerUserFields, CustomerUserForm,
    },
    customers::ssr::bulk,
    error::{AppError, FieldErrors},
    imports::{
        parse::{Record, Table},
        Existing, ImportField, ImportKind, ImportSettings, Mode, Totals,
    },
    permissions::grant::CustomerUsersManage,
    server::{capability::Staff, state::AppState},
    services::audit::{Action, Actor, Record as AuditRecord},
};
use serde_json::json;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// A user to add: to which customer, with what.
#[derive(Clone, Debug)]
struct NewUser {
    customer_id: i64,
    customer_title: String,
    fields: CustomerUserFields,
}

/// A user of the caller's to change: who, and their details after the import.
#[derive(Clone, Debug)]
struct Change {
    known: Known,
    fields: CustomerUserFields,
}

type Planned = super::Planned<NewUser, Change>;
type Row = super::Row<NewUser, Change>;

struct Plan {
    rows: Vec<Row>,
    /// The addresses the job has told its uploader cannot be used, this time and before.
    answered: Vec<String>,
    /// How many more the uploader may be told this hour (their counter held by the transaction).
    left: usize,
}

/// What a row says of an address that is not free once the hour's answers are used up.
pub const NOT_CHECKED: &str = "Not checked: too many of the addresses you entered could not be used. Try again in an hour.";

/// A new customer user file: skip addresses that a user of yours has, all or nothing, and
/// e-mail each new user their activation link.
pub(super) fn default_settings(columns: Vec<Option<u32>>) -> ImportSettings {
    ImportSettings { kind: ImportKind::CustomerUsers, columns, send_activation: true, ..Default::default() }
}

/// The dry run of a customer user file: its rows decided and kept, their totals, and the
/// addresses told to be in use so far.
pub(super) async fn check(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    settings: &ImportSettings,
    table: &Table,
    job: &Job,
) -> Result<(Totals, Vec<String>), AppError> {
    let room = users::room(&mut *conn, staff.account_id(), state.clock.now(), false).await?;
    let plan = plan(&mut *conn, state, staff, settings, table, job, room).await?;
    save_rows(conn, staff.account_id(), job.id, &plan.rows).await?;
    Ok((totals(&plan.rows), plan.answered))
}

/// The import: every row decided again in one transaction that holds the account's counters,
/// then each new user (with their link e-mailed, when chosen) and each change with its audit
/// row, a summary audit row, and the job done, committed together.
pub(super) async fn import(state: &AppState, importer: &Importer<'_>, id: i64) -> Result<(), AppError> {
    let staff = importer.staff();
    let manage = staff.allow::<CustomerUsersManage>()?;
    let now = state.clock.now();
    let account_id = staff.account_id();
    let mut tx = state.db.begin().await?;
    let room = users::room(&mut tx, account_id, now, true).await?;
    let job = job(&mut tx, importer, id, now, false).await?;
    let settings = job.settings.clone().unwrap_or_default();
    let table = table(&mut tx, &job).await?;
    let Plan { mut rows, mut answered, mut left } = plan(&mut tx, state, staff, &settings, &table, &job, room).await?;
    let changed = changed_since_check(&mut tx, account_id, job.id, &rows).await?;
    let before = totals(&rows);
    if settings.mode == Mode::AllOrNothing && before.error > 0 {
        // What the rows tell is kept as told with them. (Not before this point: the job's row
        // would stay locked against the progress written beside the import.)
        sqlx::query!("UPDATE import_jobs SET answered = $2 WHERE id = $1", job.id, &answered).execute(&mut *tx).await?;
        return refuse_changed(state, tx, account_id, job.id, &changed, before).await;
    }
    progress(state, job.id, 0, Some(before.create + before.update)).await?;

    let mut done = 0i64;
    let mut taken_since = 0;
    let creates: Vec<usize> = (0..rows.len()).filter(|&i| matches!(rows[i].planned, Planned::Create(_))).collect();
    for batch in creates.chunks(BATCH) {
        for &i in batch {
            let Planned::Create(new) = &rows[i].planned else { continue };
            let customer = (new.customer_id, new.customer_title.as_str());
            let created = users::create_imported(&mut tx, state, &manage, customer, &new.fields, settings.send_activation, job.id).await?;
            if created.is_none() {
                // Taken by someone else since this import decided: answered like the others,
                // while the allowance lasts.
                taken_since += 1;
                rows[i].planned = if left > 0 {
                    left -= 1;
                    addresses::count_answers(&mut tx, staff.user_id(), 1, now).await?;
                    answered.push(rows[i].title.to_lowercase());
                    Planned::error(ImportField::Email, addresses::CANNOT_USE)
                } else {
                    Planned::error(ImportField::Email, NOT_CHECKED)
                };
            }
        }
        if settings.mode == Mode::AllOrNothing && taken_since > 0 {
            return Err(AppError::Refused(
                "Some rows could not be imported any more while importing, and this import is all or nothing.".into(),
            ));
        }
        done += batch.len() as i64;
        progress(state, job.id, done, None).await?;
    }
    let updates: Vec<&Change> = rows
        .iter()
        .filter_map(|r| match &r.planned {
            Planned::Update(change) => Some(change),
            _ => None,
        })
        .collect();
    for batch in updates.chunks(BATCH) {
        for change in batch {
            users::update_imported(&mut tx, state, &manage, &change.known, &change.fields, job.id).await?;
        }
        done += batch.len() as i64;
        progress(state, job.id, done, None).await?;
    }

    let changed = changed_since_check(&mut tx, account_id, job.id, &rows).await?;
    let totals = totals(&rows);
    Actor::staff(staff, now)
        .audit(
            &mut tx,
            Action::CustomerUsersImported,
            AuditRecord::account(account_id),
            json!({
                "file": job.file_name, "import": job.id, "rows": rows.len(),
                "created": totals.create, "updated": totals.update, "skipped": totals.skip, "errors": totals.error,
                "mode": match settings.mode { Mode::AllOrNothing => "all_or_nothing", Mode::ValidOnly => "valid_only" },
                "activation": if settings.send_activation { "e-mailed" } else { "not sent" },
                "changed_since_check": changed.len(),
            }),
        )
        .await?;
    finish(&mut tx, state, account_id, job.id, done, &changed, totals).await?;
    answered.sort_unstable();
    answered.dedup();
    sqlx::query!("UPDATE import_jobs SET answered = $2 WHERE id = $1", job.id, &answered).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The settings' own mistakes, before any row.
fn check_settings(settings: &ImportSettings, columns: usize) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    if settings.columns.len() != ImportField::USER_FIELDS.len() || settings.columns.iter().flatten().any(|&c| c as usize >= columns) {
        errors.add("columns", "Choose columns of this file.");
    } else if settings.column(ImportField::Email).is_none() {
        errors.add("columns", "Choose the column that holds the e-mail addresses.");
    } else if settings.column(ImportField::Customer).is_none() {
        errors.add("columns", "Choose the column that holds the customers' titles.");
    } else if settings.column(ImportField::FirstName).is_none() || settings.column(ImportField::LastName).is_none() {
        errors.add("columns", "Choose the columns that hold the first and the last names.");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The import field a form field's message belongs to.
fn form_field_label(name: &str) -> &'static str {
    match name {
        "email" => ImportField::Email.label(),
        "first_name" => ImportField::FirstName.label(),
        "last_name" => ImportField::LastName.label(),
        "phone" => ImportField::Phone.label(),
        "description" => ImportField::Description.label(),
        _ => "Row",
    }
}

/// One row read into a user's details and their customer's title, or what is wrong with it.
fn read_row(record: &Record, columns: usize, settings: &ImportSettings) -> Result<(CustomerUserFields, String), Planned> {
    if let Some(error) = too_many_cells(record, columns) {
        return Err(error);
    }
    let cell = |field| cell(settings, record, field);
    let form = CustomerUserForm {
        email: cell(ImportField::Email),
        first_name: cell(ImportField::FirstName),
        last_name: cell(ImportField::LastName),
        phone: cell(ImportField::Phone),
        description: cell(ImportField::Description),
    };
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    if let Some(first) = errors.0.first() {
        return Err(Planned::Error { field: form_field_label(&first.field).to_owned(), message: first.message.clone() });
    }
    let fields = fields.ok_or_else(|| Planned::error(ImportField::Email, "This row could not be read."))?;
    let customer = cell(ImportField::Customer);
    if customer.is_empty() {
        return Err(Planned::error(ImportField::Customer, "Enter the title of the user's customer."));
    }
    Ok((fields, customer))
}

fn create(customer: &bulk::Found, fields: CustomerUserFields) -> Planned {
    Planned::Create(NewUser { customer_id: customer.id, customer_title: customer.fields.title.clone(), fields })
}

/// Decides what every row does, as the caller: see the module's head. `room` is the plan's
/// room for customer users and for e-mails this month.
async fn plan(
    conn: &mut PgConnection,
    state: &AppState,
    staff: &Staff,
    settings: &ImportSettings,
    table: &Table,
    job: &Job,
    room: (Option<i64>, Option<i64>),
) -> Result<Plan, AppError> {
    check_settings(settings, table.header.len())?;
    let mapped = |field: ImportField| settings.column(field).is_some();

    // Each row on its own.
    let mut rows: Vec<Row> = Vec::with_capacity(table.records.len());
    let mut read: Vec<Option<(CustomerUserFields, String)>> = Vec::with_capacity(table.records.len());
    for record in &table.records {
        let title = cell(settings, record, ImportField::Email);
        match read_row(record, table.header.len(), settings) {
            Ok(row) => {
                rows.push(Row { line: record.line, title, existing: None, planned: Planned::Skip(String::new()) });
                read.push(Some(row));
            }
            Err(error) => {
                rows.push(Row { line: record.line, title, existing: None, planned: error });
                read.push(None);
            }
        }
    }

    // Addresses as the unique index folds them, then repeats in the file: the first stands.
    let raw: Vec<String> = read.iter().map(|r| r.as_ref().map(|(f, _)| f.email.clone()).unwrap_or_default()).collect();
    let folded = sqlx::query_scalar!(r#"SELECT lower(e) AS "folded!" FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n) ORDER BY n"#, &raw)
        .fetch_all(&mut *conn)
        .await?;
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    for i in 0..rows.len() {
        if read[i].is_none() {
            continue;
        }
        match first_of.get(folded[i].as_str()) {
            Some(&first) => {
                rows[i].planned = Planned::error(ImportField::Email, format!("Line {} has the same e-mail.", table.records[first].line));
                read[i] = None;
            }
            None => {
                first_of.insert(folded[i].as_str(), i);
            }
        }
    }

    // The customers named, and who has the addresses.
    let mut titles: Vec<String> = read.iter().flatten().map(|(_, t)| t.to_lowercase()).collect();
    titles.sort_unstable();
    titles.dedup();
    let customers = bulk::by_titles(&mut *conn, staff, &titles).await?;
    let mut wanted: Vec<String> = first_of.keys().map(|f| (*f).to_owned()).collect();
    // Locked in one order by every import, so two never wait on each other.
    wanted.sort_unstable();
    let (known, elsewhere) = users::by_addresses(&mut *conn, staff, &wanted).await?;

    // Addresses neither the caller's to see nor told to them before are answered in the file's
    // order, as the add form answers them one by one, while the hour's allowance lasts: a free
    // one is a create, one in use is told and counted. Once the allowance is used up, none of
    // the others is answered, free or in use alike. The counter is held from before the first
    // decision to the end of the transaction that keeps the answers.
    let mut answered: HashSet<String> = job.answered.iter().cloned().collect();
    let now = state.clock.now();
    let mut left = addresses::hold_answers(&mut *conn, staff.user_id(), now).await?;
    let mut told = 0;

    for i in 0..rows.len() {
        let Some((fields, customer_title)) = read[i].take() else { continue };
        let row = &mut rows[i];
        let Some(customer) = customers.get(&customer_title.to_lowercase()).filter(|c| c.in_scope) else {
            row.planned = Planned::error(ImportField::Customer, format!("No customer you manage is called “{customer_title}”."));
            continue;
        };
        let f = &folded[i];
        if let Some(user) = known.get(f) {
            row.existing = Some(user.id);
            row.planned = if user.customer_id != customer.id {
                Planned::error(
                    ImportField::Customer,
                    format!("This person is a user of “{}”: the import does not move users to another customer.", user.customer_title),
                )
            } else {
                match settings.existing {
                    Existing::Skip => Planned::Skip("A user of this customer has this e-mail: skipped.".into()),
                    Existing::Update => {
                        let mut fields = fields;
                        if !mapped(ImportField::Phone) {
                            fields.phone = user.fields.phone.clone();
                        }
                        if !mapped(ImportField::Description) {
                            fields.description = user.fields.description.clone();
                        }
                        // The address stays as it is written now.
                        fields.email = user.fields.email.clone();
                        if users::imported_changes(&user.fields, &fields).is_empty() {
                            Planned::Skip("No changes.".into())
                        } else {
                            Planned::Update(Change { known: user.clone(), fields })
                        }
                    }
                }
            };
            continue;
        }
        let in_use = elsewhere.contains(f);
        row.planned = if answered.contains(f) {
            // Told before, by this job: the importer knows it already.
            if in_use { Planned::error(ImportField::Email, addresses::CANNOT_USE) } else { create(customer, fields) }
        } else if left == 0 {
            Planned::error(ImportField::Email, NOT_CHECKED)
        } else if in_use {
            left -= 1;
            told += 1;
            answered.insert(f.clone());
            Planned::error(ImportField::Email, addresses::CANNOT_USE)
        } else {
            create(customer, fields)
        };
    }
    addresses::count_answers(&mut *conn, staff.user_id(), told, now).await?;

    // The plan's room, taken in the file's order.
    let (users_room, email_room) = room;
    let email_room = if settings.send_activation { email_room } else { None };
    let mut taken = 0;
    for row in rows.iter_mut() {
        if matches!(row.planned, Planned::Create(_)) {
            taken += 1;
            if let Some(room) = users_room.filter(|&r| taken > r) {
                row.planned = Planned::error(
                    ImportField::Email,
                    format!("Over your plan's limit: it has room for {room} more customer users, and the rows above take them."),
                );
            } else if let Some(room) = email_room.filter(|&r| taken > r) {
                row.planned = Planned::error(
                    ImportField::Email,
                    format!(
                        "Over your plan's limit: it has room for {room} more e-mails this month, and the rows above take them. \
                         Import without sending activation e-mails, or send them later."
                    ),
                );
            }
        }
    }
    let mut answered: Vec<String> = answered.into_iter().collect();
    answered.sort_unstable();
    Ok(Plan { rows, answered, left })
}
