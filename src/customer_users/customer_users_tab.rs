//! The Users tab of a customer: its customer users, and adding, editing, new activation links,
//! disabling, enabling and deleting them.

use super::{
    list_customer_users, AddCustomerUser, CustomerUserForm, CustomerUserRow, CustomerUserStatus, DeleteCustomerUser, Issued,
    ResendActivation, SetCustomerUserEnabled, UpdateCustomerUser, DESCRIPTION, EMAIL, FIRST_NAME, LAST_NAME, PHONE,
};
use crate::ui::{
    action_error, format_time, on_success, rule_of, server_field, Dialog, DialogActions, FormAlert, StatusMessage, TextAreaField,
    TextField,
};
use leptos::prelude::*;

#[component]
pub fn CustomerUsersTab(customer_id: i64) -> impl IntoView {
    let add = ServerAction::<AddCustomerUser>::new();
    let resend = ServerAction::<ResendActivation>::new();
    let update = ServerAction::<UpdateCustomerUser>::new();
    let toggle = ServerAction::<SetCustomerUserEnabled>::new();
    let delete = ServerAction::<DeleteCustomerUser>::new();
    let users = Resource::new(
        move || (customer_id, add.version().get() + update.version().get() + toggle.version().get() + delete.version().get() + resend.version().get()),
        |(id, _)| list_customer_users(id),
    );
    let notice = RwSignal::new(None::<String>);
    let add_open = RwSignal::new(false);
    let shown = RwSignal::new(None::<Issued>);
    let link_open = RwSignal::new(false);
    let editing = RwSignal::new(None::<CustomerUserRow>);
    let edit_open = RwSignal::new(false);
    let resending = RwSignal::new(None::<CustomerUserRow>);
    let resend_open = RwSignal::new(false);
    let deleting = RwSignal::new(None::<CustomerUserRow>);
    let delete_open = RwSignal::new(false);
    let issued = move |issued: &Issued| match &issued.link {
        Some(_) => {
            shown.set(Some(issued.clone()));
            link_open.set(true);
        }
        None => notice.set(Some(format!("An activation link was e-mailed to {}.", issued.email))),
    };
    on_success(add.value(), move |i: &Issued| {
        add_open.set(false);
        notice.set(Some(format!("{} was added.", i.email)));
        issued(i);
    });
    on_success(resend.value(), move |i: &Issued| {
        resend_open.set(false);
        notice.set(Some(format!("A new activation link was made for {}; the previous one no longer works.", i.email)));
        issued(i);
    });
    on_success(update.value(), move |_| {
        edit_open.set(false);
        notice.set(Some("The changes have been saved.".into()));
    });
    on_success(toggle.value(), move |_| notice.set(Some("The user's status has been changed.".into())));
    on_success(delete.value(), move |_| {
        delete_open.set(false);
        notice.set(Some("The customer user has been deleted.".into()));
    });
    view! {
        <StatusMessage message=notice/>
        <FormAlert error=action_error(toggle.value())/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(list) => {
                        let manage = list.can_manage;
                        view! {
                            <div class="tab-toolbar">
                                <p class="list-total">{match list.rows.len() { 1 => "1 customer user".to_owned(), n => format!("{n} customer users") }}</p>
                                <a class="btn btn-secondary" href=format!("/export/customer-users.csv?customer={customer_id}") download="" rel="external">"Export CSV"</a>
                                {manage.then(|| view! {
                                    <a class="btn btn-secondary" href="/customers/import?kind=customer-users">"Import CSV"</a>
                                    <button type="button" class="btn btn-primary" on:click=move |_| add_open.set(true)>"Add customer user"</button>
                                })}
                            </div>
                            {if list.rows.is_empty() {
                                view! { <section class="card"><p class="empty">"No customer users yet. Add the people who sign in for this customer."</p></section> }.into_any()
                            } else {
                                view! {
                                    <section class="card card-flush">
                                        <table class="table table-compact">
                                            <caption class="visually-hidden">"Customer users"</caption>
                                            <thead><tr>
                                                <th scope="col">"Name"</th>
                                                <th scope="col">"E-mail"</th>
                                                <th scope="col">"Phone"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col">"Last sign-in"</th>
                                                {manage.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                                            </tr></thead>
                                            <tbody>
                                                {list.rows.into_iter().map(|u| {
                                                    let name = format!("{} {}", u.first_name, u.last_name).trim().to_owned();
                                                    let row = u.clone();
                                                    let row_name = name.clone();
                                                    view! {
                                                        <tr>
                                                            <th scope="row">{name.clone()}</th>
                                                            <td class="cell-clip" title=u.email.clone()>{u.email.clone()}</td>
                                                            <td>{u.phone.clone().unwrap_or_default()}</td>
                                                            <td>{status_badge(&u)}</td>
                                                            <td class="nowrap">{u.last_sign_in_at.map(|t| format_time(&t)).unwrap_or_else(|| "Never".into())}</td>
                                                            {manage.then(|| view! { <td><RowActions user=row name=row_name toggle editing edit_open resending resend_open deleting delete_open/></td> })}
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </section>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                }
            })}
        </Transition>

        <Dialog id="add-customer-user" open=add_open title="Add customer user"
            description=Signal::derive(|| "They get a single-use link to choose their password and sign in to the customer portal.".to_owned())>
            {move || {
                add.clear();
                let value = add.value();
                let method = RwSignal::new("show".to_owned());
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=add attr:class="form" attr:novalidate=true>
                        <input type="hidden" name="customer_id" value=customer_id/>
                        {user_fields(CustomerUserForm::default(), value)}
                        <fieldset class="choices">
                            <legend>"Activation"</legend>
                            {method_choice(method, "show", "Show activation link", "You copy the link and pass it on.")}
                            {method_choice(method, "email", "Send activation link by e-mail", "Roster e-mails the link to the address above.")}
                        </fieldset>
                        <DialogActions open=add_open label="Add customer user" pending=add.pending() pending_label="Adding…"/>
                    </ActionForm>
                }
            }}
        </Dialog>

        <Dialog id="edit-customer-user" open=edit_open title="Edit customer user">
            {move || editing.get().map(|user| {
                update.clear();
                let value = update.value();
                let initial = CustomerUserForm {
                    email: user.email.clone(),
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    phone: user.phone.clone().unwrap_or_default(),
                    description: user.description.clone().unwrap_or_default(),
                };
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=update attr:class="form" attr:novalidate=true>
                        <input type="hidden" name="id" value=user.id/>
                        <input type="hidden" name="version" value=user.version/>
                        {user_fields(initial, value)}
                        <DialogActions open=edit_open label="Save changes" pending=update.pending() pending_label="Saving…"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <Dialog id="resend-activation" open=resend_open title="New activation link"
            description=Signal::derive(|| "The previous link stops working.".to_owned())>
            {move || resending.get().map(|user| {
                resend.clear();
                let method = RwSignal::new("show".to_owned());
                view! {
                    <FormAlert error=action_error(resend.value())/>
                    <ActionForm action=resend attr:class="form">
                        <input type="hidden" name="id" value=user.id/>
                        <fieldset class="choices">
                            <legend>{format!("How should the link reach {}?", user.email)}</legend>
                            {method_choice(method, "show", "Show activation link", "You copy the link and pass it on.")}
                            {method_choice(method, "email", "Send activation link by e-mail", "Roster e-mails the link.")}
                        </fieldset>
                        <DialogActions open=resend_open label="Make new link" pending=resend.pending() pending_label="Making…"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <Dialog id="delete-customer-user" open=delete_open title=Signal::derive(move || {
            deleting.get().map(|u| format!("Delete {} {}?", u.first_name, u.last_name).replace("  ", " ")).unwrap_or_default()
        })>
            {move || deleting.get().map(|user| {
                delete.clear();
                view! {
                    <FormAlert error=action_error(delete.value())/>
                    <p>{format!("{} will no longer be able to sign in, and their account is removed. This cannot be undone.", user.email)}</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=user.id/>
                        <DialogActions open=delete_open label="Delete user" pending=delete.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <ActivationLinkDialog open=link_open shown/>
    }
}

/// Shows a freshly made activation link with a copy button, for staff and portal alike.
#[component]
pub fn ActivationLinkDialog(open: RwSignal<bool>, shown: RwSignal<Option<Issued>>) -> impl IntoView {
    view! {
        <Dialog id="activation-link" open title="Activation link"
            description=Signal::derive(move || shown.get().map(|i| format!("Give this link to {}. It works once.", i.email)).unwrap_or_default())>
            {move || shown.get().and_then(|i| i.link).map(|link| {
                let copied = RwSignal::new(false);
                let to_copy = link.clone();
                view! {
                    <div class="field">
                        <label for="activation-link-value">"Activation link"</label>
                        <input id="activation-link-value" type="text" readonly=true value=link class="link-value"
                            on:focus=|ev| { let _ = event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); }/>
                    </div>
                    <div class="dialog-actions">
                        <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Done"</button>
                        <button type="button" class="btn btn-primary" on:click=move |_| {
                            crate::ui::copy_to_clipboard(&to_copy);
                            copied.set(true);
                        }>{move || if copied.get() { "Copied" } else { "Copy link" }}</button>
                    </div>
                }
            })}
        </Dialog>
    }
}


pub fn method_choice(method: RwSignal<String>, value: &'static str, label: &'static str, hint: &'static str) -> impl IntoView {
    view! {
        <label class="choice">
            <input type="radio" name=super::METHOD.name value=value checked=move || method.get() == value on:change=move |_| method.set(value.to_owned())/>
            <span>
                <strong>{label}</strong>
                <span class="choice-hint">{hint}</span>
            </span>
        </label>
    }
}

fn status_badge(user: &CustomerUserRow) -> impl IntoView {
    match user.status {
        CustomerUserStatus::Active => view! { <span class="badge badge-success">"Active"</span> }.into_any(),
        CustomerUserStatus::Disabled => view! { <span class="badge badge-danger">"Disabled"</span> }.into_any(),
        CustomerUserStatus::AwaitingActivation => {
            let note = match user.activation_expires_at {
                Some(at) => format!("Link valid until {}", format_time(&at)),
                None => "No valid link: make a new one".into(),
            };
            view! { <span class="badge badge-warning">"Awaiting activation"</span><div class="cell-note">{note}</div> }.into_any()
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[component]
fn RowActions(
    user: CustomerUserRow,
    name: String,
    toggle: ServerAction<SetCustomerUserEnabled>,
    editing: RwSignal<Option<CustomerUserRow>>,
    edit_open: RwSignal<bool>,
    resending: RwSignal<Option<CustomerUserRow>>,
    resend_open: RwSignal<bool>,
    deleting: RwSignal<Option<CustomerUserRow>>,
    delete_open: RwSignal<bool>,
) -> impl IntoView {
    let disabled = user.status == CustomerUserStatus::Disabled;
    let awaiting = user.status == CustomerUserStatus::AwaitingActivation;
    let (for_edit, for_resend, for_delete) = (user.clone(), user.clone(), user.clone());
    let id = user.id;
    let edit_label = format!("Edit {name}");
    let resend_label = format!("New link for {name}");
    let toggle_label = format!("{} {name}", if disabled { "Enable" } else { "Disable" });
    let delete_label = format!("Delete {name}");
    view! {
        <div class="row-actions">
            <button type="button" class="btn btn-secondary btn-small" aria-label=edit_label
                on:click=move |_| { editing.set(Some(for_edit.clone())); edit_open.set(true); }>"Edit"</button>
            {awaiting.then(|| view! {
                <button type="button" class="btn btn-secondary btn-small" aria-label=resend_label
                    on:click=move |_| { resending.set(Some(for_resend.clone())); resend_open.set(true); }>"New link"</button>
            })}
            <ActionForm action=toggle>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="enabled" value=if disabled { "true" } else { "false" }/>
                <button type="submit" class="btn btn-secondary btn-small" aria-label=toggle_label>
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
            </ActionForm>
            <button type="button" class="btn btn-danger btn-small" aria-label=delete_label
                on:click=move |_| { deleting.set(Some(for_delete.clone())); delete_open.set(true); }>"Delete"</button>
        </div>
    }
}

pub fn user_fields<T, V>(initial: CustomerUserForm, value: V) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, crate::error::AppError>>> + Copy + Send + Sync + 'static,
{
    let email = RwSignal::new(initial.email);
    let first = RwSignal::new(initial.first_name);
    let last = RwSignal::new(initial.last_name);
    let phone = RwSignal::new(initial.phone);
    let description = RwSignal::new(initial.description);
    // Posted inside `form` (`form[email]`, the server function's `CustomerUserForm`); each
    // field's rule and message key come from its declaration in the feature's `mod.rs`.
    view! {
        <TextField label="E-mail" name="form[email]" input_type="email" autocomplete="off" value=email
            rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name) required=true/>
        <div class="field-grid">
            <TextField label="First name" name="form[first_name]" value=first
                rule=rule_of(&FIRST_NAME, first) server_error=server_field(value, FIRST_NAME.name) required=true/>
            <TextField label="Last name" name="form[last_name]" value=last
                rule=rule_of(&LAST_NAME, last) server_error=server_field(value, LAST_NAME.name) required=true/>
        </div>
        <TextField label="Phone" name="form[phone]" input_type="tel" value=phone hint="International form, like +49 30 1234567."
            rule=rule_of(&PHONE, phone) server_error=server_field(value, PHONE.name)/>
        <TextAreaField label="Description" name="form[description]" value=description hint="Optional."
            rule=rule_of(&DESCRIPTION, description) server_error=server_field(value, DESCRIPTION.name)/>
    }
}
