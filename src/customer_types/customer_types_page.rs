//! The customer types list and editor.

use super::{list_customer_types, CustomerTypeList, CustomerTypeView, DeleteCustomerType, SaveCustomerType, DESCRIPTION, FEATURES, NAME};
use crate::{
    permissions::CustomerFeature,
    ui::{
        action_error, on_success, rule_of, server_field, ConfirmDialog, DialogActions, FormAlert, LoadError, Loaded, PageHeader, SubmitButton,
        TextAreaField, TextField,
    },
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn CustomerTypesPage() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let types = Resource::new(move || refresh.get(), |_| list_customer_types());
    let delete = ServerAction::<DeleteCustomerType>::new();
    let deleting = RwSignal::new(None::<CustomerTypeView>);
    let confirm_open = RwSignal::new(false);
    on_success(delete.value(), move |_| {
        confirm_open.set(false);
        refresh.update(|n| *n += 1);
    });
    view! {
        <Title text="Customer types"/>
        <Loaded resource=types view=move |list| view! { <TypeTable list deleting confirm_open/> }/>
        <ConfirmDialog id="delete-customer-type" open=confirm_open error=action_error(delete.value())
            title=Signal::derive(move || format!("Delete the customer type {}?", deleting.get().map(|t| t.name).unwrap_or_default()))>
            {move || deleting.get().map(|t| {
                delete.clear();
                view! {
                    <p>"The type is deleted for good. Types that customers still use cannot be deleted."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=t.id/>
                        <DialogActions open=confirm_open label="Delete type" pending=delete.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </ConfirmDialog>
    }
}

#[component]
fn TypeTable(list: CustomerTypeList, deleting: RwSignal<Option<CustomerTypeView>>, confirm_open: RwSignal<bool>) -> impl IntoView {
    let can_manage = list.can_manage;
    view! {
        <PageHeader title="Customer types" description="What customers of each type may do. Every customer has exactly one type.">
            {can_manage.then(|| view! { <a class="btn btn-primary" href="/customer-types/new">"New customer type"</a> })}
        </PageHeader>
        <section class="card card-flush">
            <table class="table">
                <caption class="visually-hidden">"Customer types"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Permissions"</th>
                        <th scope="col">"Customers"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.types.into_iter().map(|t| {
                        let features = if t.features.is_empty() {
                            "None".to_owned()
                        } else {
                            t.features.iter().map(|f| f.label()).collect::<Vec<_>>().join(", ")
                        };
                        let (id, name) = (t.id, t.name.clone());
                        let editable = can_manage && t.editable;
                        let deletable = editable && !t.is_default;
                        let for_delete = t.clone();
                        view! {
                            <tr>
                                <th scope="row">
                                    {t.name.clone()}
                                    {t.is_default.then(|| view! { <span class="badge badge-inline">"Default"</span> })}
                                    {t.description.clone().map(|d| view! { <div class="cell-note">{d}</div> })}
                                </th>
                                <td>{features}</td>
                                <td><a href=format!("/customers?type={id}")>{t.customer_count}</a></td>
                                <td>
                                    <div class="row-actions">
                                        <a class="btn btn-ghost btn-small" href=format!("/customer-types/{id}")>
                                            {if editable { "Edit" } else { "View" }}
                                            <span class="visually-hidden">{format!(" {name}")}</span>
                                        </a>
                                        {deletable.then(|| {
                                            let name = for_delete.name.clone();
                                            view! {
                                                <button type="button" class="btn btn-ghost btn-small btn-ghost-danger"
                                                    on:click=move |_| { deleting.set(Some(for_delete.clone())); confirm_open.set(true); }>
                                                    "Delete"<span class="visually-hidden">{format!(" {name}")}</span>
                                                </button>
                                            }
                                        })}
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn CustomerTypeEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|id| id.parse::<i64>().ok());
    let types = Resource::new(|| (), |_| list_customer_types());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (types.await, id()) {
                    (Err(error), _) => view! { <LoadError error/> }.into_any(),
                    (Ok(list), None) => view! { <TypeForm can_manage=list.can_manage existing=None/> }.into_any(),
                    (Ok(list), Some(id)) => match list.types.iter().find(|t| t.id == id).cloned() {
                        Some(t) => view! { <TypeForm can_manage=list.can_manage && t.editable existing=Some(t)/> }.into_any(),
                        None => view! { <div class="alert alert-error" role="alert">"This customer type was not found. It may have been deleted."</div> }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}

#[component]
fn TypeForm(can_manage: bool, existing: Option<CustomerTypeView>) -> impl IntoView {
    let save = ServerAction::<SaveCustomerType>::new();
    let value = save.value();
    let navigate = use_navigate();
    on_success(value, move |_: &i64| navigate("/customer-types", Default::default()));
    let title = match (&existing, can_manage) {
        (None, _) => "New customer type".to_owned(),
        (Some(t), true) => format!("Edit {}", t.name),
        (Some(t), false) => t.name.clone(),
    };
    let name = RwSignal::new(existing.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().and_then(|t| t.description.clone()).unwrap_or_default());
    let granted = existing.as_ref().map(|t| t.features.clone()).unwrap_or_default();
    let is_default = existing.as_ref().is_some_and(|t| t.is_default);
    view! {
        <Title text=title.clone()/>
        <PageHeader title=title description="The permissions customers of this type have in their portal."/>
        <section class="card form-card">
            <FormAlert error=action_error(value)/>
            <ActionForm action=save attr:class="form" attr:novalidate=true>
                {existing.as_ref().map(|t| view! {
                    <input type="hidden" name="id" value=t.id/>
                    <input type="hidden" name="version" value=t.version/>
                })}
                <TextField label="Name" name=NAME.name value=name rule=rule_of(&NAME, name)
                    server_error=server_field(value, NAME.name) required=true/>
                <TextAreaField label="Description" name=DESCRIPTION.name value=description rule=rule_of(&DESCRIPTION, description)
                    hint="Optional." server_error=server_field(value, DESCRIPTION.name)/>
                <fieldset class="permission-group permission-group-wide">
                    <legend>"Permissions"</legend>
                    <div class="checkbox-columns">
                        {CustomerFeature::ALL.into_iter().map(|f| view! {
                            <label class="checkbox">
                                <input type="checkbox" name="features[]" value=f.key() checked=granted.contains(&f) disabled=!can_manage/>
                                {f.label()}
                            </label>
                        }).collect_view()}
                    </div>
                    {move || server_field(value, FEATURES).get().map(|m| view! { <p class="field-error">{m}</p> })}
                </fieldset>
                <label class="checkbox">
                    <input type="checkbox" name="make_default" value="on" checked=is_default disabled=!can_manage || is_default/>
                    {if is_default { "This is the default type for new customers" } else { "Make this the default type for new customers" }}
                </label>
                <div class="form-actions">
                    <a class="btn btn-secondary" href="/customer-types">{if can_manage { "Cancel" } else { "Back" }}</a>
                    {can_manage.then(|| view! { <SubmitButton label="Save customer type" pending=save.pending() pending_label="Saving…"/> })}
                </div>
            </ActionForm>
        </section>
    }
}
