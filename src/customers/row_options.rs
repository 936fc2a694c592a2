//! Each customer row's **More options** (seed 000): change its type, rename its company, or
//! remove it from the list — a person who registered on their own keeps their login. Each is a
//! dialog shared by all rows, opened for the row it was chosen in.

use super::{ChangeCustomerType, RemoveCustomer, RenameCustomerCompany, BulkResult, COMPANY_NAME, CUSTOMER_TYPE};
use crate::ui::{action_error, on_success, rule_of, server_field, Dialog, DialogActions, FormAlert, SelectField, TextField};
use leptos::prelude::*;

/// The row an option was chosen in.
#[derive(Clone, Debug, PartialEq)]
pub struct RowTarget {
    pub id: i64,
    pub title: String,
    pub company_name: String,
}

/// The dialogs' state, shared by the rows' menus and the dialogs.
#[derive(Clone, Copy)]
pub struct RowOptions {
    pub target: RwSignal<Option<RowTarget>>,
    pub change_type: RwSignal<bool>,
    pub rename: RwSignal<bool>,
    pub remove: RwSignal<bool>,
}

impl RowOptions {
    pub fn new() -> Self {
        Self { target: RwSignal::new(None), change_type: RwSignal::new(false), rename: RwSignal::new(false), remove: RwSignal::new(false) }
    }
}

/// The menu in one row: a disclosure with the options the caller may use.
#[component]
pub fn MoreOptions(options: RowOptions, target: RowTarget, can_edit: bool, can_delete: bool) -> impl IntoView {
    let open = RwSignal::new(false);
    let described = format!("customer-{}", target.id);
    let choose = move |dialog: RwSignal<bool>, target: RowTarget| {
        move |_| {
            open.set(false);
            options.target.set(Some(target.clone()));
            dialog.set(true);
        }
    };
    view! {
        <details class="row-menu" prop:open=move || open.get()>
            <summary class="btn btn-ghost btn-small" aria-describedby=described
                on:click=move |ev| { ev.prevent_default(); open.update(|o| *o = !*o); }>"More options"</summary>
            <div class="row-menu-items">
                {can_edit.then(|| view! {
                    <button type="button" class="menu-item" on:click=choose(options.change_type, target.clone())>"Change type"</button>
                    <button type="button" class="menu-item" on:click=choose(options.rename, target.clone())>"Rename company"</button>
                })}
                {can_delete.then(|| view! {
                    <button type="button" class="menu-item menu-item-danger" on:click=choose(options.remove, target.clone())>"Remove"</button>
                })}
            </div>
        </details>
    }
}

#[component]
pub fn RowOptionDialogs(options: RowOptions, types: Vec<(i64, String)>, done: Callback<String>) -> impl IntoView {
    let change = ServerAction::<ChangeCustomerType>::new();
    let rename = ServerAction::<RenameCustomerCompany>::new();
    let remove = ServerAction::<RemoveCustomer>::new();
    for (value, open) in [(change.value(), options.change_type), (rename.value(), options.rename), (remove.value(), options.remove)] {
        on_success(value, move |result: &BulkResult| {
            open.set(false);
            done.run(result.message.clone());
        });
    }
    let types = StoredValue::new(types.into_iter().map(|(id, name)| (id.to_string(), name)).collect::<Vec<_>>());
    let title_of = move |text: &'static str| {
        Signal::derive(move || options.target.with(|t| t.as_ref().map(|t| text.replace("{}", &t.title)).unwrap_or_default()))
    };
    let id = move || options.target.with(|t| t.as_ref().map(|t| t.id).unwrap_or_default());
    view! {
        <Dialog id="row-type" open=options.change_type title=title_of("Change the type of {}")>
            {move || {
                change.clear();
                let types = types.get_value();
                let chosen = RwSignal::new(types.first().map(|(id, _)| id.clone()).unwrap_or_default());
                view! {
                    <FormAlert error=action_error(change.value())/>
                    <ActionForm action=change attr:class="form">
                        <input type="hidden" name="ids[]" value=id()/>
                        <SelectField label="New type" name=CUSTOMER_TYPE.name value=chosen options=types/>
                        <DialogActions open=options.change_type label="Change type" pending=change.pending()/>
                    </ActionForm>
                }
            }}
        </Dialog>
        <Dialog id="row-company" open=options.rename title=title_of("Rename the company of {}")>
            {move || {
                rename.clear();
                let current = options.target.with_untracked(|t| t.as_ref().map(|t| t.company_name.clone()).unwrap_or_default());
                let name = RwSignal::new(current);
                view! {
                    <FormAlert error=action_error(rename.value())/>
                    <ActionForm action=rename attr:class="form">
                        <input type="hidden" name="id" value=id()/>
                        <TextField label="Company name" name=COMPANY_NAME.name value=name rule=rule_of(&COMPANY_NAME, name)
                            hint="The company this customer belongs to. Empty: none." server_error=server_field(rename.value(), COMPANY_NAME.name)/>
                        <DialogActions open=options.rename label="Rename company" pending=rename.pending()/>
                    </ActionForm>
                }
            }}
        </Dialog>
        <Dialog id="row-remove" open=options.remove title=title_of("Remove {}?")>
            {move || {
                remove.clear();
                let title = options.target.with_untracked(|t| t.as_ref().map(|t| t.title.clone()).unwrap_or_default());
                view! {
                    <FormAlert error=action_error(remove.value())/>
                    <p>{format!("{title} will no longer be one of your customers. A person who registered on their own keeps their login, as before you added them; other customer users and sub-customers are deleted.")}</p>
                    <ActionForm action=remove attr:class="form">
                        <input type="hidden" name="id" value=id()/>
                        <DialogActions open=options.remove label="Remove customer" pending=remove.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            }}
        </Dialog>
    }
}
