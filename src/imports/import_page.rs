//! The import's pages: choose a file (with the caller's recent imports), then the job's page —
//! columns and choices, the dry run per row with its totals, the import's progress bar, the
//! result and the error rows to download.

use super::{
    load_import, load_import_rows, recent_imports, CheckImport, Existing, ImportKind, ImportStatus, ImportSummary, ImportView, Mode, Outcome,
    RowPage, StartImport, Totals,
};
use crate::ui::{action_error, format_time, on_success, server_field_of, FormAlert, LinkTabs, Loaded, PageHeader, Pager, SubmitButton};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

type Recent = Vec<ImportSummary>;

/// `/customers/import`: upload a file of customers, or (`?kind=customer-users`) of customer users.
#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let kind = move || ImportKind::from_page(&query.read().get("kind").unwrap_or_default());
    let recent = Resource::new(kind, |kind| recent_imports(kind.key().to_owned()));
    let tabs = move || {
        let current = kind();
        let tabs: Vec<(String, String, bool)> = [(ImportKind::Customers, "Customers"), (ImportKind::CustomerUsers, "Customer users")]
            .into_iter()
            .map(|(k, label)| (label.to_owned(), k.page_path().to_owned(), k == current))
            .collect();
        view! { <LinkTabs label="What the file holds" tabs/> }
    };
    let hint = move || match kind() {
        ImportKind::Customers => "UTF-8 (with or without a byte order mark), separated by commas or semicolons, up to 50 MB. \
             The first line names the columns; a file exported from Customers imports as it is.",
        ImportKind::CustomerUsers => "UTF-8 (with or without a byte order mark), separated by commas or semicolons, up to 50 MB. \
             One person per line: e-mail, first and last name and the title of their customer, phone and description if you have them. \
             A file exported from a customer's Users tab imports as it is.",
    };
    let description = move || match kind() {
        ImportKind::Customers => "Add customers from a spreadsheet. Nothing is written until you have seen what each row will do.",
        ImportKind::CustomerUsers => {
            "Add the people who sign in for your customers from a spreadsheet. Nothing is written until you have seen what each row will do."
        }
    };
    view! {
        <Title text=move || kind().title().to_owned()/>
        {move || view! { <PageHeader title=kind().title() description=description()/> }}
        {tabs}
        <section class="card">
            <form class="form" method="post" action=move || kind().upload_path() enctype="multipart/form-data">
                <div class="field">
                    <label for="import-file">"CSV file"</label>
                    <p class="field-hint" id="import-file-hint">{hint}</p>
                    <input id="import-file" type="file" name="file" accept=".csv,text/csv" required=true aria-describedby="import-file-hint"/>
                </div>
                <div class="form-actions">
                    <button type="submit" class="btn btn-primary">"Upload"</button>
                    <a class="btn btn-secondary" href="/customers">"Cancel"</a>
                </div>
            </form>
        </section>
        <Loaded resource=recent view=move |list: Recent| {
            (!list.is_empty()).then(|| view! {
                <section class="card card-flush">
                    <table class="table">
                        <caption>"Your recent imports"</caption>
                        <thead><tr>
                            <th scope="col">"File"</th><th scope="col">"Uploaded"</th>
                            <th scope="col">"Rows"</th><th scope="col">"Status"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|job| view! {
                                <tr>
                                    <th scope="row"><a href=format!("/customers/import/{}", job.id)>{job.file_name}</a></th>
                                    <td>{format_time(&job.created_at)}</td>
                                    <td>{job.rows}</td>
                                    <td><StatusBadge status=job.status/></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            })
        }/>
    }
}

#[component]
fn StatusBadge(status: ImportStatus) -> impl IntoView {
    let class = match status {
        ImportStatus::Done => "badge badge-success",
        ImportStatus::Failed | ImportStatus::Unreadable | ImportStatus::Interrupted => "badge badge-danger",
        ImportStatus::Running => "badge badge-info",
        _ => "badge badge-neutral",
    };
    view! { <span class=class>{status.label()}</span> }
}

/// `/customers/import/:id`: the job.
#[component]
pub fn ImportJobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let refresh = RwSignal::new(0u64);
    let tick = RwSignal::new(0u64);
    let running = RwSignal::new(false);
    let job = Resource::new(move || (id(), refresh.get(), tick.get()), |(id, _, _)| load_import(id));
    // While it imports, the page reads the job again every second; the timer stops with the
    // page (a timer left running would touch the page's signals after they are gone).
    Effect::new(move |_| {
        let timer = set_interval_with_handle(
            move || {
                if running.try_get_untracked().unwrap_or(false) {
                    tick.try_update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(1),
        );
        if let Ok(timer) = timer {
            on_cleanup(move || timer.clear());
        }
    });
    let check = ServerAction::<CheckImport>::new();
    let start = ServerAction::<StartImport>::new();
    on_success(check.value(), move |_: &()| refresh.update(|n| *n += 1));
    on_success(start.value(), move |_: &()| {
        running.set(true);
        refresh.update(|n| *n += 1);
    });
    view! {
        <Loaded resource=job view=move |job: ImportView| {
            running.set(job.status == ImportStatus::Running);
            let kind = job.settings.kind;
            view! {
                <Title text=kind.title()/>
                <PageHeader title=format!("Import {}", job.file_name)
                    description=format!("{} rows · uploaded {}", job.rows, format_time(&job.created_at))>
                    <a class="btn btn-secondary" href=kind.page_path()>"Upload another file"</a>
                </PageHeader>
                <p class="import-status">"Status: "<StatusBadge status=job.status/></p>
                <JobBody job check start/>
            }
        }/>
    }
}

#[component]
fn JobBody(job: ImportView, check: ServerAction<CheckImport>, start: ServerAction<StartImport>) -> impl IntoView {
    let message = job.message.clone().map(|m| {
        let class = if job.status == ImportStatus::Done { "alert alert-info" } else { "alert alert-error" };
        view! { <div class=class role="alert">{m}</div> }
    });
    match job.status {
        ImportStatus::Unreadable => view! {
            {message}
            <p><a href=job.settings.kind.page_path()>"Upload the file again"</a>" once it is saved as CSV UTF-8."</p>
        }
        .into_any(),
        ImportStatus::Running => view! { <Progress done=job.done total=job.total/> }.into_any(),
        status => {
            let checked = matches!(status, ImportStatus::Checked | ImportStatus::Done | ImportStatus::Failed | ImportStatus::Interrupted);
            view! {
                {message}
                {(status == ImportStatus::Done).then(|| view! { <Result job=job.clone()/> })}
                {status.can_check().then(|| view! { <SettingsForm job=job.clone() check/> })}
                {checked.then(|| view! { <DryRun job=job.clone() start/> })}
            }
            .into_any()
        }
    }
}

#[component]
fn Progress(done: i64, total: i64) -> impl IntoView {
    let percent = if total > 0 { done * 100 / total } else { 0 };
    view! {
        <section class="card" aria-labelledby="import-progress-label">
            <p id="import-progress-label"><strong>{format!("Importing: {done} of {total} rows written ({percent}%)")}</strong></p>
            <progress class="import-progress" max=total.max(1) value=done aria-labelledby="import-progress-label"></progress>
            <p class="field-hint">"You may leave this page: the import goes on, and this page shows how far it is when you come back."</p>
        </section>
    }
}

#[component]
fn Result(job: ImportView) -> impl IntoView {
    let t = job.totals;
    let summary = match job.settings.kind {
        ImportKind::Customers => {
            format!("Imported: {} customers created, {} updated, {} rows skipped, {} rows with errors not imported.", t.create, t.update, t.skip, t.error)
        }
        ImportKind::CustomerUsers => format!(
            "Imported: {} customer users added ({}), {} updated, {} rows skipped, {} rows with errors not imported.",
            t.create,
            if job.settings.send_activation { "each was e-mailed an activation link" } else { "no activation e-mails sent: send the links from each customer's Users tab" },
            t.update,
            t.skip,
            t.error
        ),
    };
    view! {
        <div class="alert alert-success" role="status">
            {summary}
            " "<a href="/customers">"See the customers"</a>
        </div>
        {(job.changed > 0).then(|| view! {
            <div class="alert alert-warning">
                {format!("{} rows had another outcome at the import than in the check: see the “Changed” tab.", job.changed)}
            </div>
        })}
    }
}

/// Columns and choices, and the button that runs the dry run.
#[component]
fn SettingsForm(job: ImportView, check: ServerAction<CheckImport>) -> impl IntoView {
    let value = check.value();
    let error = action_error(value);
    let s = job.settings.clone();
    let option = |value: String, label: String, selected: bool| view! { <option value=value selected=selected>{label}</option> };
    let header_options = {
        let headers = job.headers.clone();
        move |chosen: Option<u32>| {
            let mut options = vec![option(String::new(), "— not imported —".into(), chosen.is_none())];
            options.extend(headers.iter().enumerate().map(|(i, h)| {
                let label = if h.is_empty() { format!("Column {}", i + 1) } else { format!("{h} (column {})", i + 1) };
                option(i.to_string(), label, chosen == Some(i as u32))
            }));
            options
        }
    };
    let radio = move |name: &'static str, value: &'static str, label: &'static str, checked: bool, disabled: bool| {
        let id = format!("{name}-{value}");
        view! {
            <label class="choice" for=id.clone()>
                <input type="radio" id=id.clone() name=name value=value checked=checked disabled=disabled/>
                {label}
            </label>
        }
    };
    let select = move |id: &'static str, name: &'static str, label: &'static str, options: Vec<(String, String)>, chosen: String| {
        let server = server_field_of(error, name);
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <select id=id name=name>
                    {options.into_iter().map(|(v, l)| { let selected = v == chosen; option(v, l, selected) }).collect_view()}
                </select>
                {move || server.get().map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
        }
    };
    let types: Vec<(String, String)> = job.types.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let companies: Vec<(String, String)> = job.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let mut groups: Vec<(String, String)> = vec![(String::new(), "No group".into())];
    groups.extend(job.groups.iter().map(|(id, n)| (id.to_string(), n.clone())));
    let columns_error = server_field_of(error, "columns");
    let existing_error = server_field_of(error, "existing");
    view! {
        <section class="card">
            <h2>"Columns and choices"</h2>
            <FormAlert error/>
            <ActionForm action=check attr:class="form">
                <input type="hidden" name="id" value=job.id/>
                <table class="table import-columns">
                    <caption>"Which column of your file fills each field"</caption>
                    <thead><tr><th scope="col">"Field"</th><th scope="col">"Column in your file"</th></tr></thead>
                    <tbody>
                        {s.kind.fields().iter().enumerate().map(|(i, field)| {
                            let id = format!("column-{i}");
                            view! {
                                <tr>
                                    <th scope="row"><label for=id.clone()>{field.label()}</label></th>
                                    <td><select id=id name="columns[]">{header_options(s.columns.get(i).copied().flatten())}</select></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                {move || columns_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                {match s.kind {
                    ImportKind::Customers => view! {
                        <div class="import-settings">
                            {select("import-type", "customer_type_id", "Customer type of new customers", types, s.customer_type_id.to_string())}
                            {select("import-owner", "owner_company_id", "Owner company of new customers", companies, s.owner_company_id.to_string())}
                            {select("import-group", "group_id", "Add every imported customer to the group", groups, s.group_id.map(|g| g.to_string()).unwrap_or_default())}
                        </div>
                        <fieldset class="choices">
                            <legend>"When a customer with the row's title exists"</legend>
                            {radio("existing", "skip", "Skip the row", s.existing == Existing::Skip, false)}
                            {radio("existing", "update", "Update the customer with the row's values", s.existing == Existing::Update, !job.can_update)}
                            {move || existing_error.get().map(|m| view! { <p class="field-error">{m}</p> })}
                        </fieldset>
                    }.into_any(),
                    ImportKind::CustomerUsers => view! {
                        <fieldset class="choices">
                            <legend>"New users"</legend>
                            <label class="choice" for="send-activation">
                                <input type="checkbox" id="send-activation" name="send_activation" value="on" checked=s.send_activation/>
                                "E-mail each new user their activation link"
                            </label>
                            <p class="field-hint">"Without it the users wait, awaiting activation, until you send their links from the customer's Users tab."</p>
                        </fieldset>
                        <fieldset class="choices">
                            <legend>"When a user of the row's customer has the row's e-mail"</legend>
                            {radio("existing", "skip", "Skip the row", s.existing == Existing::Skip, false)}
                            {radio("existing", "update", "Update their name, phone and description", s.existing == Existing::Update, false)}
                            {move || existing_error.get().map(|m| view! { <p class="field-error">{m}</p> })}
                        </fieldset>
                    }.into_any(),
                }}
                <fieldset class="choices">
                    <legend>"When some rows have errors"</legend>
                    {radio("mode", "all_or_nothing", "Import nothing (all or nothing)", s.mode == Mode::AllOrNothing, false)}
                    {radio("mode", "valid_only", "Import the valid rows only", s.mode == Mode::ValidOnly, false)}
                </fieldset>
                <div class="form-actions">
                    <SubmitButton label="Check the file" pending=check.pending() pending_label="Checking…"/>
                </div>
            </ActionForm>
        </section>
    }
}

/// The dry run: totals, the rows page by page, the error rows to download, the import button.
#[component]
fn DryRun(job: ImportView, start: ServerAction<StartImport>) -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("show").unwrap_or_default();
    let after = move || query.read().get("after").and_then(|a| a.parse::<i32>().ok()).unwrap_or(0);
    let id = job.id;
    let rows = Resource::new(move || (filter(), after()), move |(filter, after)| load_import_rows(id, filter, after));
    let Totals { create, update, skip, error } = job.totals;
    let (rows_total, changed) = (job.rows, job.changed);
    let base = format!("/customers/import/{id}");
    let tabs = {
        let base = base.clone();
        move || {
        let current = filter();
        let mut tabs: Vec<(String, String, bool)> = [("", "All rows", rows_total), ("create", "Create", create), ("update", "Update", update), ("skip", "Skip", skip), ("error", "Errors", error)]
            .into_iter()
            .map(|(key, label, n)| {
                let href = if key.is_empty() { base.clone() } else { format!("{base}?show={key}") };
                (format!("{label} ({n})"), href, current == key)
            })
            .collect();
        if changed > 0 {
            tabs.push((format!("Changed ({changed})"), format!("{base}?show=changed"), current == "changed"));
        }
        view! { <LinkTabs label="Rows" tabs/> }
        }
    };
    let blocked = job.settings.mode == Mode::AllOrNothing && error > 0;
    let can_start = job.status == ImportStatus::Checked;
    let start_error = action_error(start.value());
    let done = job.status == ImportStatus::Done;
    let heading = if done { "What each row did" } else { "What the import will do" };
    let kind = job.settings.kind;
    view! {
        <section class="card">
            <h2>{heading}</h2>
            <dl class="import-totals">
                <div><dt>{if done { "Created" } else { "To create" }}</dt><dd>{create}</dd></div>
                <div><dt>{if done { "Updated" } else { "To update" }}</dt><dd>{update}</dd></div>
                <div><dt>{if done { "Skipped" } else { "To skip" }}</dt><dd>{skip}</dd></div>
                <div><dt>"Errors"</dt><dd>{error}</dd></div>
            </dl>
            {(error > 0).then(|| view! {
                <p>
                    <a class="btn btn-secondary" href=format!("/import/{id}/errors.csv") download="" rel="external">"Download the error rows (CSV)"</a>
                    " Fix them in the file (its last column says what is wrong) and upload it again."
                </p>
            })}
            {can_start.then(|| view! {
                <FormAlert error=start_error/>
                {blocked.then(|| view! {
                    <p class="alert alert-warning">
                        {format!("{error} rows have errors. Fix them, or choose “Import the valid rows only” and check the file again.")}
                    </p>
                })}
                <ActionForm action=start>
                    <input type="hidden" name="id" value=id/>
                    {if blocked {
                        view! { <button type="submit" class="btn btn-primary" disabled=true>"Import"</button> }.into_any()
                    } else {
                        view! { <SubmitButton label=format!("Import {} {}", create + update, kind.plural()) pending=start.pending() pending_label="Starting…"/> }.into_any()
                    }}
                </ActionForm>
            })}
        </section>
        {tabs}
        <Loaded resource=rows view=move |page: RowPage| {
            let current = filter();
            let first = (after() > 0).then(|| if current.is_empty() { base.clone() } else { format!("{base}?show={current}") });
            let next = page.next.map(|n| if current.is_empty() { format!("{base}?after={n}") } else { format!("{base}?show={current}&after={n}") });
            let shown = page.rows.len();
            view! {
                <section class="card card-flush">
                    <table class="table">
                        <caption class="visually-hidden">"Rows of the file"</caption>
                        <thead><tr>
                            <th scope="col">"Line"</th><th scope="col">{kind.record_label()}</th><th scope="col">"What happens"</th>
                            <th scope="col">"Field"</th><th scope="col">"Reason"</th>
                        </tr></thead>
                        <tbody>
                            {page.rows.into_iter().map(|r| {
                                let class = match r.outcome {
                                    Outcome::Create => "badge badge-success",
                                    Outcome::Update => "badge badge-info",
                                    Outcome::Skip => "badge badge-neutral",
                                    Outcome::Error => "badge badge-danger",
                                };
                                view! {
                                    <tr>
                                        <td>{r.line}</td>
                                        <th scope="row">{r.title}</th>
                                        <td><span class=class>{r.outcome.label()}</span>{r.changed.then(|| view! { " "<span class="badge badge-warning">"Changed"</span> })}</td>
                                        <td>{r.field.unwrap_or_default()}</td>
                                        <td>{r.message.unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Pager summary=format!("{shown} rows shown") first next/>
                </section>
            }
        }/>
    }
}
