//! What the rows of a customer file become: the customers' own validation, names resolved in
//! the caller's scope, titles compared with the account's customers and the file's other rows,
//! parents in the file or among existing customers, the plan's room; then the import itself in
//! batches through the customers' bulk writes.

use super::{
    cell, changed_since_check, finish, job, progress, refuse_changed, save_rows, table, too_many_cells, totals, Importer, BATCH,
};
use crate::{
    companies::ssr::scope_root,
    customers::{
        ssr::bulk::{self, ChangedRow, Found, NewRow},
        CustomerFields, CustomerForm,
    },
    error::{AppError, FieldErrors},
    imports::{
        parse::{Record, Table},
        Existing, ImportField, ImportKind, ImportSettings, Mode, Totals,
    },
    permissions::{
        grant::{CustomersCreate, CustomersEdit},
        Permission,
    },
    server::{capability::Staff, state::AppState},
    services::audit::{Action, Actor, Changes, Record as AuditRecord},
};
use serde_json::{json, Value};
use sqlx::PgConnection;
use std::collections::HashMap;

type Planned = super::Planned<Draft, Change>;
type Row = super::Row<Draft, Change>;

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

/// A new customer file: the default customer type, the caller's top company, no group, skip
/// titles that exist, all or nothing.
pub(super) async fn default_settings(conn: &mut PgConnection, staff: &Staff, columns: Vec<Option<u32>>) -> Result<ImportSettings, AppError> {
    let customer_type_id = sqlx::query_scalar!(
        "SELECT id FROM customer_types WHERE account_id = $1 ORDER BY is_default DESC, id LIMIT 1",
        staff.account_id()
    )
    .fetch_one(&mut *conn)
    .await?;
    let owner_company_id = scope_root(&mut *conn, staff).await?;
    Ok(ImportSettings {
        kind: ImportKind::Customers,
        columns,
        customer_type_id,
        owner_company_id,
        group_id: None,
        existing: Existing::Skip,
        mode: Mode::AllOrNothing,
        send_activation: false,
    })
}

type Named = Vec<(i64, String)>;

/// The types, companies (in tree order) and groups the settings offer.
pub(super) async fn choices(conn: &mut PgConnection, staff: &Staff) -> Result<(Named, Named, Named), AppError> {
    let lookups = Lookups::load(conn, staff).await?;
    let named = |map: &HashMap<i64, String>| {
        let mut list: Named = map.iter().map(|(id, name)| (*id, name.clone())).collect();
        list.sort_by_key(|(_, name)| name.to_lowercase());
        list
    };
    Ok((named(&lookups.type_names), lookups.companies.clone(), named(&lookups.group_names)))
}

/// The dry run of a customer file: its rows decided and kept, and their totals.
pub(super) async fn check(conn: &mut PgConnection, staff: &Staff, settings: &ImportSettings, table: &Table, job_id: i64) -> Result<Totals, AppError> {
    let room = room(&mut *conn, staff.account_id(), false).await?;
    let rows = plan(&mut *conn, staff, settings, table, job_id, room).await?;
    save_rows(conn, staff.account_id(), job_id, &rows).await?;
    Ok(totals(&rows))
}

/// The import: every row decided again in one transaction that holds the account's customer
/// count, then the creates, parents and updates in batches with their audit rows, a summary
/// audit row, and the job done, committed together. Progress goes beside it, committed at once.
pub(super) async fn import(state: &AppState, importer: &Importer<'_>, id: i64) -> Result<(), AppError> {
    let staff = importer.staff();
    let create = staff.allow::<CustomersCreate>()?;
    let now = state.clock.now();
    let account_id = staff.account_id();
    let mut tx = state.db.begin().await?;
    let room = room(&mut tx, account_id, true).await?;
    let job = job(&mut tx, importer, id, now, false).await?;
    let settings = job.settings.clone().unwrap_or_default();
    let table = table(&mut tx, &job).await?;
    let rows = plan(&mut tx, staff, &settings, &table, job.id, room).await?;
    let changed = changed_since_check(&mut tx, account_id, job.id, &rows).await?;
    let totals = totals(&rows);
    if settings.mode == Mode::AllOrNothing && totals.error > 0 {
        return refuse_changed(state, tx, account_id, job.id, &changed, totals).await;
    }
    let total = totals.create + totals.update;
    progress(state, job.id, 0, Some(total)).await?;

    // Creates, in the file's order.
    let mut created: HashMap<usize, i64> = HashMap::new();
    let creates: Vec<(usize, &Draft)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match &r.planned {
            Planned::Create(draft) => Some((i, draft)),
            _ => None,
        })
        .collect();
    let mut done = 0i64;
    for batch in creates.chunks(BATCH) {
        let new: Vec<NewRow> = batch
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
        let ids = bulk::create_many(&mut tx, &create, &new, now).await?;
        for ((i, _), id) in batch.iter().zip(ids) {
            created.insert(*i, id);
        }
        done += batch.len() as i64;
        progress(state, job.id, done, None).await?;
    }
    let pairs: Vec<(i64, i64)> = creates
        .iter()
        .filter_map(|(i, d)| match d.parent {
            Parent::Line(j) => Some((created[i], rows[j].existing.or_else(|| created.get(&j).copied())?)),
            _ => None,
        })
        .collect();
    bulk::set_parents(&mut tx, &create, &pairs).await?;

    let updates: Vec<ChangedRow> = rows
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
                "file": job.file_name, "import": job.id, "rows": rows.len(),
                "created": totals.create, "updated": totals.update, "skipped": totals.skip, "errors": totals.error,
                "mode": match settings.mode { Mode::AllOrNothing => "all_or_nothing", Mode::ValidOnly => "valid_only" },
                "changed_since_check": changed.len(),
            }),
        )
        .await?;
    finish(&mut tx, state, account_id, job.id, done, &changed, totals).await?;
    tx.commit().await?;
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
async fn plan(conn: &mut PgConnection, staff: &Staff, settings: &ImportSettings, table: &Table, job_id: i64, room: Option<i64>) -> Result<Vec<Row>, AppError> {
    let lookups = Lookups::load(&mut *conn, staff).await?;
    check_settings(settings, &lookups, staff, table.header.len())?;
    let cell = |record: &Record, field: ImportField| cell(settings, record, field);
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
    Ok(rows)
}

/// One row read into a customer, or the first thing wrong with it.
fn read_row(
    record: &Record,
    columns: usize,
    cell: &dyn Fn(&Record, ImportField) -> String,
    lookups: &Lookups,
    settings: &ImportSettings,
) -> Result<Draft, Planned> {
    if let Some(error) = too_many_cells(record, columns) {
        return Err(error);
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
