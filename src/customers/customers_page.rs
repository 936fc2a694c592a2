//! The customer list (SPEC 4.3): search, filters, sorting, keyset paging with the state in the
//! address, the page size the user chose last, the total (saying when it is estimated), and
//! multi-select with bulk delete, type change and add to group.

use super::{
    delete_customer_dialog::DeleteCustomerDialog,
    row_options::{MoreOptions, RowOptionDialogs, RowOptions, RowTarget},
    load_customer_choices, list_customers, preview_customer_deletion, AddCustomersToGroup, ChangeCustomerType, CustomerChoices,
    CustomerList, CustomerQuery, DeleteCustomers,
};
use crate::{
    ui::{
        action_error, format_time, on_success, query_with, Dialog, DialogActions, ExportLink, FormAlert, LinkTabs, PageHeader, Pager,
        Refresh, SelectField, SortHeader, StatusMessage, PAGE_SIZES,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

pub fn read_query() -> Memo<CustomerQuery> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| CustomerQuery::from_pairs(|key| q.get(key))))
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    let query = read_query();
    let refresh = RwSignal::new(0);
    // A click on the link of the list being shown reloads it too (Refresh).
    let shown = Refresh::current();
    let list = Resource::new(move || (query.get(), refresh.get(), shown.tick()), |(q, _, _)| list_customers(q));
    let choices = Resource::new(|| (), |_| load_customer_choices());
    let selected = RwSignal::new(Vec::<i64>::new());
    let notice = RwSignal::new(None::<String>);
    // A new page, a new filter: the selection no longer means anything.
    Effect::new(move |_| {
        query.track();
        selected.set(Vec::new());
    });
    let done = Callback::new(move |message: String| {
        selected.set(Vec::new());
        notice.set(Some(message));
        refresh.update(|n| *n += 1);
    });
    view! {
        <Title text="Customers"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let choices = choices.await;
                match (list.await, choices) {
                    (Ok(list), Ok(choices)) => { let types = choices.types.clone(); view! {
                        <PageHeader title="Customers" description="The people and organisations your business serves.">
                            <ExportLink path="/export/customers.csv" label="Export CSV"/>
                            {list.can_create.then(|| view! {
                                <a class="btn btn-secondary" href="/customers/import">"Import CSV"</a>
                                <a class="btn btn-secondary" href="/customers/add-by-account">"Add by account"</a>
                                <a class="btn btn-primary" href="/customers/new">"Add customer"</a>
                            })}
                        </PageHeader>
                        <StatusMessage message=notice/>
                        <GroupTabs groups=choices.groups.clone() query/>
                        <CustomerFilters choices=choices.clone() query/>
                        <BulkBar list=list.clone() choices selected done/>
                        <CustomerTable list query selected done types/>
                    }.into_any() }
                    (Err(e), _) | (_, Err(e)) => view! {
                        <PageHeader title="Customers"/>
                        <div class="alert alert-error" role="alert">{e.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Which group the list shows, "All" first; one click switches, the group stays in the address.
#[component]
fn GroupTabs(groups: Vec<(i64, String)>, query: Memo<CustomerQuery>) -> impl IntoView {
    let tabs = move || {
        let current = query.with(|q| q.group);
        let reset = |group: String| {
            query_with(&[("group", group), ("after", String::new()), ("before", String::new()), ("last", String::new()), ("page", String::new())])()
        };
        std::iter::once(("All".to_owned(), reset(String::new()), current.is_none()))
            .chain(groups.iter().map(|(id, name)| (name.clone(), reset(id.to_string()), current == Some(*id))))
            .collect::<Vec<_>>()
    };
    view! { {move || view! { <LinkTabs label="Customer group" tabs=tabs()/> }} }
}

fn options(all: &str, items: &[(i64, String)]) -> Vec<(String, String)> {
    std::iter::once((String::new(), all.to_owned()))
        .chain(items.iter().map(|(id, name)| (id.to_string(), name.clone())))
        .collect()
}

#[component]
fn CustomerFilters(choices: CustomerChoices, query: Memo<CustomerQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let kind = RwSignal::new(current.customer_type.map(|v| v.to_string()).unwrap_or_default());
    let group = RwSignal::new(current.group.map(|v| v.to_string()).unwrap_or_default());
    let owner = RwSignal::new(current.owner.map(|v| v.to_string()).unwrap_or_default());
    view! {
        <Form method="GET" action="" attr:class="filter-bar" attr:role="search" attr:aria-label="Filter customers">
            <input type="hidden" name="sort" value=current.sort.as_str()/>
            <input type="hidden" name="dir" value=if current.desc { "desc" } else { "" }/>
            {current.parent.map(|p| view! { <input type="hidden" name="parent" value=p/> })}
            <div class="field field-search">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" type="search" name="q" value=current.q.clone() placeholder="Title, e-mail, company or city"/>
            </div>
            <SelectField label="Type" name="type" value=kind options=options("All types", &choices.types)/>
            <SelectField label="Group" name="group" value=group options=options("All", &choices.groups)/>
            <SelectField label="Owner company" name="owner" value=owner options=options("All companies", &choices.companies)/>
            <button type="submit" class="btn btn-secondary">"Apply filters"</button>
        </Form>
    }
}

#[component]
fn CustomerTable(
    list: CustomerList,
    query: Memo<CustomerQuery>,
    selected: RwSignal<Vec<i64>>,
    done: Callback<String>,
    types: Vec<(i64, String)>,
) -> impl IntoView {
    let (can_view_users, can_edit, can_delete) = (list.can_view_users, list.can_edit, list.can_delete);
    let has_actions = can_view_users || can_edit || can_delete;
    let options = RowOptions::new();
    let row_target = RwSignal::new(None::<(i64, String)>);
    let row_open = RwSignal::new(false);
    let deleted = Callback::new(move |_| {
        let title = row_target.get_untracked().map(|(_, t)| t).unwrap_or_default();
        done.run(format!("{title} was deleted."));
    });
    let sort = Signal::derive(move || query.with(|q| q.sort.as_str().to_owned()));
    let descending = Signal::derive(move || query.with(|q| q.desc));
    let selectable = list.can_edit || list.can_delete;
    let ids: Vec<i64> = list.rows.iter().map(|r| r.id).collect();
    let all_selected = {
        let ids = ids.clone();
        move || !ids.is_empty() && selected.with(|s| ids.iter().all(|id| s.contains(id)))
    };
    let toggle_all = {
        let ids = ids.clone();
        move |_| {
            let ids = ids.clone();
            selected.update(|s| if ids.iter().all(|id| s.contains(id)) { s.clear() } else { *s = ids });
        }
    };
    let empty = list.rows.is_empty();
    view! {
        <p class="list-total" role="status">{list.total.describe()}</p>
        {if empty {
            view! { <section class="card"><p class="empty">"No customers match. Change the search or filters, or add a customer."</p></section> }.into_any()
        } else {
            view! {
                <section class="card card-flush">
                    <table class="table table-compact">
                        <caption class="visually-hidden">"Customers"</caption>
                        <thead>
                            <tr>
                                {selectable.then(|| view! {
                                    <th scope="col" class="select-cell">
                                        <input type="checkbox" aria-label="Select all customers on this page"
                                            prop:checked=all_selected.clone() on:change=toggle_all.clone()/>
                                    </th>
                                })}
                                <SortHeader label="Title" key="title" sort descending/>
                                <th scope="col">"Company"</th>
                                <SortHeader label="E-mail" key="email" sort descending/>
                                <SortHeader label="Country" key="country" sort descending/>
                                <SortHeader label="City" key="city" sort descending/>
                                <th scope="col">"Type"</th>
                                <SortHeader label="Created" key="created" sort descending/>
                                {has_actions.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                            </tr>
                        </thead>
                        <tbody>
                            {list.rows.into_iter().map(|c| {
                                let id = c.id;
                                let title = c.title.clone();
                                let company = c.company_name.clone().unwrap_or_default();
                                let email = c.email.clone().unwrap_or_default();
                                let (company_hint, email_hint) = (company.clone(), email.clone());
                                let company_of_row = company.clone();
                                view! {
                                    <tr class:row-selected=move || selected.with(|s| s.contains(&id))>
                                        {selectable.then(|| view! {
                                            <td class="select-cell">
                                                <input type="checkbox" aria-label=format!("Select {title}")
                                                    prop:checked=move || selected.with(|s| s.contains(&id))
                                                    on:change=move |_| selected.update(|s| if let Some(i) = s.iter().position(|x| *x == id) { s.remove(i); } else { s.push(id); })/>
                                            </td>
                                        })}
                                        <th scope="row" id=format!("customer-{id}")><a href=format!("/customers/{id}")>{c.title}</a></th>
                                        <td class="cell-clip" title=company_hint>{company}</td>
                                        <td class="cell-clip" title=email_hint>{email}</td>
                                        <td>{c.country.unwrap_or_default()}</td>
                                        <td>{c.city.unwrap_or_default()}</td>
                                        <td>{c.type_name}</td>
                                        <td><time datetime=c.created_at.to_rfc3339() title=format_time(&c.created_at)>{c.created_at.format("%Y-%m-%d").to_string()}</time></td>
                                        {has_actions.then(|| {
                                            let named = title.clone();
                                            view! {
                                                <td class="actions-cell"><div class="row-actions row-actions-stack">
                                                    {can_view_users.then(|| view! {
                                                        <a class="btn btn-secondary btn-small" href=format!("/customers/{id}?tab=users")
                                                            aria-describedby=format!("customer-{id}")>"Manage customer users"</a>
                                                    })}
                                                    {can_delete.then(|| {
                                                        let named = named.clone();
                                                        view! {
                                                            <button type="button" class="btn btn-danger btn-small" aria-describedby=format!("customer-{id}")
                                                                on:click=move |_| { row_target.set(Some((id, named.clone()))); row_open.set(true); }>"Delete"</button>
                                                        }
                                                    })}
                                                    {(can_edit || can_delete).then(|| view! {
                                                        <MoreOptions options can_edit can_delete
                                                            target=RowTarget { id, title: named.clone(), company_name: company_of_row.clone() }/>
                                                    })}
                                                </div></td>
                                            }
                                        })}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any()
        }}
        <CursorPagination list_page=list.page size=list.page_size next=list.next previous=list.previous/>
        <DeleteCustomerDialog open=row_open target=row_target deleted/>
        <RowOptionDialogs options types done/>
    }
}

/// Previous / next by cursor, first and last, and the page size, in the one pager.
#[component]
fn CursorPagination(list_page: i64, size: i64, next: Option<String>, previous: Option<String>) -> impl IntoView {
    let reset = |extra: &[(&str, String)]| {
        let mut changes = vec![("after", String::new()), ("before", String::new()), ("last", String::new()), ("page", String::new())];
        changes.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        query_with(&changes)()
    };
    let first = previous.is_some().then(|| reset(&[]));
    let last = next.is_some().then(|| reset(&[("last", "1".into())]));
    let next = next.map(|c| reset(&[("after", c), ("page", (list_page + 1).to_string())]));
    let previous = previous.map(|c| reset(&[("before", c), ("page", (list_page - 1).max(1).to_string())]));
    let sizes = Some((size, PAGE_SIZES.into_iter().map(|s| (s, reset(&[("size", s.to_string())]))).collect()));
    view! { <Pager summary=format!("Page {list_page}") first previous next last sizes/> }
}

/// The actions on the selected customers, each one transaction with its result shown.
#[component]
fn BulkBar(list: CustomerList, choices: CustomerChoices, selected: RwSignal<Vec<i64>>, done: Callback<String>) -> impl IntoView {
    let delete = ServerAction::<DeleteCustomers>::new();
    let change = ServerAction::<ChangeCustomerType>::new();
    let group = ServerAction::<AddCustomersToGroup>::new();
    let delete_open = RwSignal::new(false);
    let type_open = RwSignal::new(false);
    let group_open = RwSignal::new(false);
    for (value, open) in [(delete.value(), delete_open), (change.value(), type_open), (group.value(), group_open)] {
        on_success(value, move |result: &super::BulkResult| {
            open.set(false);
            done.run(result.message.clone());
        });
    }
    let count = move || selected.with(Vec::len);
    let hidden_ids = move || {
        selected.get().into_iter().map(|id| view! { <input type="hidden" name="ids[]" value=id/> }).collect_view()
    };
    let types: Vec<(String, String)> = choices.types.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let groups: Vec<(String, String)> = choices.groups.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let has_groups = !groups.is_empty();
    let (types, groups) = (StoredValue::new(types), StoredValue::new(groups));
    let (can_edit, can_delete) = (list.can_edit, list.can_delete);
    view! {
        <Show when=move || { count() > 0 }>
            <div class="bulk-bar" role="region" aria-label="Selected customers">
                <strong>{move || format!("{} selected", count())}</strong>
                {can_edit.then(|| view! {
                    <button type="button" class="btn btn-secondary btn-small" on:click=move |_| type_open.set(true)>"Change type"</button>
                    {has_groups.then(|| view! {
                        <button type="button" class="btn btn-secondary btn-small" on:click=move |_| group_open.set(true)>"Add to group"</button>
                    })}
                })}
                {can_delete.then(|| view! {
                    <button type="button" class="btn btn-danger btn-small" on:click=move |_| delete_open.set(true)>"Delete"</button>
                })}
                <button type="button" class="btn btn-ghost btn-small" on:click=move |_| selected.set(Vec::new())>"Clear selection"</button>
            </div>
        </Show>
        <Dialog id="bulk-type" open=type_open title=Signal::derive(move || format!("Change the type of {} customers", count()))>
            {
                move || {
                    change.clear();
                    let types = types.get_value();
                    let chosen = RwSignal::new(types.first().map(|(id, _)| id.clone()).unwrap_or_default());
                    view! {
                        <FormAlert error=action_error(change.value())/>
                        <ActionForm action=change attr:class="form">
                            {hidden_ids}
                            <SelectField label="New type" name=super::CUSTOMER_TYPE.name value=chosen options=types/>
                            <DialogActions open=type_open label="Change type" pending=change.pending()/>
                        </ActionForm>
                    }
                }
            }
        </Dialog>
        <Dialog id="bulk-group" open=group_open title=Signal::derive(move || format!("Add {} customers to a group", count()))>
            {
                move || {
                    group.clear();
                    let groups = groups.get_value();
                    let chosen = RwSignal::new(groups.first().map(|(id, _)| id.clone()).unwrap_or_default());
                    view! {
                        <FormAlert error=action_error(group.value())/>
                        <ActionForm action=group attr:class="form">
                            {hidden_ids}
                            <SelectField label="Group" name=super::GROUP.name value=chosen options=groups/>
                            <DialogActions open=group_open label="Add to group" pending=group.pending()/>
                        </ActionForm>
                    }
                }
            }
        </Dialog>
        <Dialog id="bulk-delete" open=delete_open title=Signal::derive(move || format!("Delete {} customers?", count()))>
            {move || {
                delete.clear();
                let ids: Vec<String> = selected.get_untracked().iter().map(|id| id.to_string()).collect();
                let preview = Resource::new(move || ids.clone(), preview_customer_deletion);
                view! {
                    <FormAlert error=action_error(delete.value())/>
                    <Suspense fallback=|| view! { <p class="loading">"Checking what would go…"</p> }>
                        {move || Suspend::new(async move {
                            match preview.await {
                                Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                                Ok(p) => view! {
                                    <p>{deletion_text(p.titles.len(), p.sub_customers, p.customer_users)}</p>
                                    <ul class="deletion-list">{p.titles.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
                                    <ActionForm action=delete attr:class="form">
                                        {hidden_ids}
                                        <DialogActions open=delete_open label="Delete customers" pending=delete.pending() class="btn btn-danger"/>
                                    </ActionForm>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }}
        </Dialog>
    }
}

pub fn deletion_text(customers: usize, sub_customers: i64, users: i64) -> String {
    let what = if customers == 1 { "This customer".to_owned() } else { format!("These {customers} customers") };
    let mut parts = Vec::new();
    if sub_customers > 0 {
        parts.push(format!("{sub_customers} {}", if sub_customers == 1 { "sub-customer" } else { "sub-customers" }));
    }
    if users > 0 {
        parts.push(format!("{users} customer {}", if users == 1 { "user" } else { "users" }));
    }
    if parts.is_empty() {
        format!("{what} will be deleted. This cannot be undone.")
    } else {
        format!("{what} will be deleted with {}. This cannot be undone.", parts.join(" and "))
    }
}
