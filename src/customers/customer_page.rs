//! One customer (SPEC 4.6): tabs Details (edit in place), Sub-customers and Groups, and delete
//! after a confirmation that says how many sub-customers and customer users go with it.

use super::{
    customer_form::CustomerFields, delete_customer_dialog::DeleteCustomerDialog, get_customer, list_customers, load_customer_choices,
    CustomerChoices, CustomerDetail, CustomerForm, CustomerQuery, SetCustomerGroups, UpdateCustomer,
};
use crate::{
    audit::RecordAudit,
    services::audit::RecordType,
    ui::{action_error, format_time, on_success, FormAlert, LinkTabs, PageHeader, StatusMessage, SubmitButton},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// One customer's page. `users_tab` draws the Users tab (the customer users feature's, put in
/// by the app, so this feature does not need to know it).
#[component]
pub fn CustomerPage(users_tab: fn(i64) -> AnyView) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let refresh = RwSignal::new(0);
    let customer = Resource::new(move || (id(), refresh.get()), |(id, _)| get_customer(id));
    let choices = Resource::new(|| (), |_| load_customer_choices());
    let notice = RwSignal::new(None::<String>);
    let query = use_query_map();
    Effect::new(move |_| {
        if query.with(|q| q.get("created").is_some()) {
            notice.set(Some("The customer has been created.".into()));
        }
    });
    let changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        refresh.update(|n| *n += 1);
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let choices = choices.await;
                match (customer.await, choices) {
                    (Ok(customer), Ok(choices)) => view! { <CustomerView customer choices notice changed users_tab/> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! {
                        <PageHeader title="Customer"/>
                        <div class="alert alert-error" role="alert">{e.to_string()}</div>
                        <a href="/customers">"Back to customers"</a>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CustomerView(
    customer: CustomerDetail,
    choices: CustomerChoices,
    notice: RwSignal<Option<String>>,
    changed: Callback<String>,
    users_tab: fn(i64) -> AnyView,
) -> impl IntoView {
    let query = use_query_map();
    let tab = move || query.with(|q| q.get("tab").unwrap_or_default());
    let base = format!("/customers/{}", customer.id);
    let tabs = {
        let base = base.clone();
        let children = customer.sub_customers;
        let groups = customer.group_ids.len();
        let audit = customer.can_view_audit;
        let users_tab = customer.can_view_users;
        let users = customer.customer_users;
        move || {
            let mut tabs = vec![
                ("Details".to_owned(), base.clone(), tab().is_empty()),
                (format!("Sub-customers ({children})"), format!("{base}?tab=sub-customers"), tab() == "sub-customers"),
                (format!("Groups ({groups})"), format!("{base}?tab=groups"), tab() == "groups"),
            ];
            if users_tab {
                tabs.push((format!("Users ({users})"), format!("{base}?tab=users"), tab() == "users"));
            }
            if audit {
                tabs.push(("Audit".to_owned(), format!("{base}?tab=audit"), tab() == "audit"));
            }
            tabs
        }
    };
    let description = format!(
        "{} · owned by {}{}",
        customer.type_name,
        customer.owner_company,
        customer.parent.as_ref().map(|(_, t)| format!(" · under {t}")).unwrap_or_default()
    );
    let header_customer = customer.clone();
    view! {
        <Title text=customer.title.clone()/>
        <nav class="breadcrumbs" aria-label="Breadcrumbs">
            <a href="/customers">"Customers"</a>
            {customer.parent.clone().map(|(id, title)| view! { <span aria-hidden="true">" / "</span><a href=format!("/customers/{id}")>{title}</a> })}
        </nav>
        <PageHeader title=customer.title.clone() description>
            <CustomerActions customer=header_customer/>
        </PageHeader>
        <StatusMessage message=notice/>
        {move || view! { <LinkTabs label="Customer details" tabs=tabs()/> }}
        {move || match tab().as_str() {
            "sub-customers" => view! { <SubCustomers parent=customer.clone()/> }.into_any(),
            "groups" => view! { <GroupsTab customer=customer.clone() choices=choices.clone() changed/> }.into_any(),
            "users" if customer.can_view_users => users_tab(customer.id),
            "audit" if customer.can_view_audit => view! { <RecordAudit record_type=RecordType::Customer record_id=customer.id/> }.into_any(),
            _ => view! { <DetailsTab customer=customer.clone() choices=choices.clone() changed/> }.into_any(),
        }}
    }
}

#[component]
fn CustomerActions(customer: CustomerDetail) -> impl IntoView {
    let open = RwSignal::new(false);
    let navigate = use_navigate();
    let deleted = Callback::new(move |_| navigate("/customers", Default::default()));
    let id = customer.id;
    let title = customer.title.clone();
    view! {
        <div class="action-group">
            {customer.can_edit.then(|| view! {
                <a class="btn btn-secondary" href=format!("/customers/new?parent={id}")>"Add sub-customer"</a>
            })}
            {customer.can_delete.then(|| view! {
                <button type="button" class="btn btn-danger" on:click=move |_| open.set(true)>"Delete"</button>
            })}
        </div>
        <DeleteCustomerDialog open target=Signal::stored(Some((id, title))) deleted/>
    }
}

#[component]
fn DetailsTab(customer: CustomerDetail, choices: CustomerChoices, changed: Callback<String>) -> impl IntoView {
    let action = ServerAction::<UpdateCustomer>::new();
    let value = action.value();
    on_success(value, move |_: &i32| changed.run("The changes have been saved.".into()));
    let facts = view! {
        <dl class="facts">
            <div><dt>"Created"</dt><dd>{format_time(&customer.created_at)}</dd></div>
            <div><dt>"Sub-customers"</dt><dd>{customer.sub_customers}</dd></div>
            <div><dt>"Customer users"</dt><dd>{customer.customer_users}</dd></div>
        </dl>
    };
    if !customer.can_edit {
        let c = customer.clone();
        let row = |label: &'static str, v: Option<String>| view! { <div><dt>{label}</dt><dd>{v.unwrap_or_default()}</dd></div> };
        return view! {
            {facts}
            <section class="card form-card">
                <dl class="facts facts-stacked">
                    {row("Company name", c.company_name)} {row("E-mail", c.email)} {row("Phone", c.phone)}
                    {row("Country", c.country)} {row("State", c.state)} {row("City", c.city)}
                    {row("Address", c.address)} {row("Address line 2", c.address2)} {row("ZIP", c.zip)}
                    {row("Description", c.description)}
                </dl>
            </section>
        }
        .into_any();
    }
    let initial = CustomerForm::from_detail(&customer);
    let parent = customer.parent.clone().map(|(_, t)| t).unwrap_or_default();
    view! {
        {facts}
        <section class="card form-card form-card-wide">
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="id" value=customer.id/>
                <input type="hidden" name="version" value=customer.version/>
                <CustomerFields initial choices customer_type=customer.customer_type_id owner=customer.owner_company_id parent value/>
                <div class="form-actions">
                    <SubmitButton label="Save changes" pending=action.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn SubCustomers(parent: CustomerDetail) -> impl IntoView {
    let id = parent.id;
    let list = Resource::new(
        move || id,
        |id| list_customers(CustomerQuery { parent: Some(id), size: Some(100), ..Default::default() }),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(list) if list.rows.is_empty() => view! {
                        <section class="card"><p class="empty">"No sub-customers yet."</p></section>
                    }.into_any(),
                    Ok(list) => view! {
                        <section class="card card-flush">
                            <table class="table">
                                <caption class="visually-hidden">"Sub-customers"</caption>
                                <thead><tr>
                                    <th scope="col">"Title"</th><th scope="col">"E-mail"</th><th scope="col">"City"</th><th scope="col">"Type"</th>
                                </tr></thead>
                                <tbody>
                                    {list.rows.into_iter().map(|c| view! {
                                        <tr>
                                            <th scope="row"><a href=format!("/customers/{}", c.id)>{c.title}</a></th>
                                            <td>{c.email.unwrap_or_default()}</td>
                                            <td>{c.city.unwrap_or_default()}</td>
                                            <td>{c.type_name}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                        {list.next.is_some().then(|| view! {
                            <p><a href=format!("/customers?parent={id}")>"See all sub-customers"</a></p>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupsTab(customer: CustomerDetail, choices: CustomerChoices, changed: Callback<String>) -> impl IntoView {
    let action = ServerAction::<SetCustomerGroups>::new();
    let value = action.value();
    on_success(value, move |_: &i32| changed.run("The groups have been saved.".into()));
    if choices.groups.is_empty() {
        return view! {
            <section class="card"><p class="empty">"Every customer is in All. There are no named groups yet: "
                <a href="/customer-groups">"create one"</a>"."</p></section>
        }
        .into_any();
    }
    let can_edit = customer.can_edit;
    view! {
        <section class="card form-card">
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=customer.id/>
                <input type="hidden" name="version" value=customer.version/>
                <fieldset class="permission-group permission-group-wide">
                    <legend>"Groups"</legend>
                    <p class="field-hint">"Every customer is also in All."</p>
                    <div class="checkbox-columns">
                        {choices.groups.into_iter().map(|(id, name)| view! {
                            <label class="checkbox">
                                <input type="checkbox" name="groups[]" value=id checked=customer.group_ids.contains(&id) disabled=!can_edit/>
                                {name}
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                {can_edit.then(|| view! {
                    <div class="form-actions">
                        <SubmitButton label="Save groups" pending=action.pending() pending_label="Saving…"/>
                    </div>
                })}
            </ActionForm>
        </section>
    }
    .into_any()
}
