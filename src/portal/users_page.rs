//! The portal's *Manage customer users* screen: the users of the customer and its sub-customers.

use super::{portal_users, PortalAddUser, PortalDeleteUser, PortalSetUserEnabled};
use crate::{
    customer_users::{method_choice, user_fields, ActivationLinkDialog, CustomerUserForm, CustomerUserStatus, Issued, PortalUserRow},
    ui::{action_error, on_success, Dialog, DialogActions, FormAlert, PageHeader, SelectField, StatusMessage},
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PortalUsersPage() -> impl IntoView {
    let add = ServerAction::<PortalAddUser>::new();
    let toggle = ServerAction::<PortalSetUserEnabled>::new();
    let delete = ServerAction::<PortalDeleteUser>::new();
    let users = Resource::new(
        move || add.version().get() + toggle.version().get() + delete.version().get(),
        |_| portal_users(),
    );
    let notice = RwSignal::new(None::<String>);
    let add_open = RwSignal::new(false);
    let shown = RwSignal::new(None::<Issued>);
    let link_open = RwSignal::new(false);
    let deleting = RwSignal::new(None::<PortalUserRow>);
    let delete_open = RwSignal::new(false);
    on_success(add.value(), move |issued: &Issued| {
        add_open.set(false);
        match &issued.link {
            Some(_) => {
                notice.set(Some(format!("{} was added.", issued.email)));
                shown.set(Some(issued.clone()));
                link_open.set(true);
            }
            None => notice.set(Some(format!("{} was added and an activation link was e-mailed.", issued.email))),
        }
    });
    on_success(toggle.value(), move |_| notice.set(Some("The user's status has been changed.".into())));
    on_success(delete.value(), move |_| {
        delete_open.set(false);
        notice.set(Some("The user has been deleted.".into()));
    });
    view! {
        <Title text="Customer users"/>
        <PageHeader title="Customer users" description="The people who sign in for your customer and its sub-customers.">
            <button type="button" class="btn btn-primary" on:click=move |_| add_open.set(true)>"Add customer user"</button>
        </PageHeader>
        <StatusMessage message=notice/>
        <FormAlert error=action_error(toggle.value())/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(list) => {
                        let customers: Vec<(String, String)> = list.customers.iter().map(|(id, t)| (id.to_string(), t.clone())).collect();
                        let first = customers.first().map(|(id, _)| id.clone()).unwrap_or_default();
                        let choices = StoredValue::new((customers, first));
                        view! {
                            <section class="card card-flush">
                                <table class="table table-compact">
                                    <caption class="visually-hidden">"Customer users"</caption>
                                    <thead><tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"E-mail"</th>
                                        <th scope="col">"Customer"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr></thead>
                                    <tbody>
                                        {list.rows.into_iter().map(|u| view! { <UserRow user=u toggle deleting delete_open/> }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                            <Dialog id="portal-add-user" open=add_open title="Add customer user"
                                description=Signal::derive(|| "They get a single-use link to choose their password.".to_owned())>
                                {move || {
                                        let (customers, first) = choices.get_value();
                                        add.clear();
                                        let value = add.value();
                                        let customer = RwSignal::new(first.clone());
                                        let method = RwSignal::new("email".to_owned());
                                        view! {
                                            <FormAlert error=action_error(value)/>
                                            <ActionForm action=add attr:class="form" attr:novalidate=true>
                                                <SelectField label="Customer" name="customer_id" value=customer options=customers.clone()/>
                                                {user_fields(CustomerUserForm::default(), value)}
                                                <fieldset class="choices">
                                                    <legend>"Activation"</legend>
                                                    {method_choice(method, "email", "Send activation link by e-mail", "Roster e-mails the link to the address above.")}
                                                    {method_choice(method, "show", "Show activation link", "You copy the link and pass it on.")}
                                                </fieldset>
                                                <DialogActions open=add_open label="Add customer user" pending=add.pending() pending_label="Adding…"/>
                                            </ActionForm>
                                        }
                                }}
                            </Dialog>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Dialog id="portal-delete-user" open=delete_open title=Signal::derive(move || {
            deleting.get().map(|u| format!("Delete {}?", u.name)).unwrap_or_default()
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

#[component]
fn UserRow(
    user: PortalUserRow,
    toggle: ServerAction<PortalSetUserEnabled>,
    deleting: RwSignal<Option<PortalUserRow>>,
    delete_open: RwSignal<bool>,
) -> impl IntoView {
    let disabled = user.status == CustomerUserStatus::Disabled;
    let badge = match user.status {
        CustomerUserStatus::Active => view! { <span class="badge badge-success">"Active"</span> }.into_any(),
        CustomerUserStatus::Disabled => view! { <span class="badge badge-danger">"Disabled"</span> }.into_any(),
        CustomerUserStatus::AwaitingActivation => view! { <span class="badge badge-warning">"Awaiting activation"</span> }.into_any(),
    };
    let id = user.id;
    let toggle_label = format!("{} {}", if disabled { "Enable" } else { "Disable" }, user.name);
    let delete_label = format!("Delete {}", user.name);
    let for_delete = user.clone();
    view! {
        <tr>
            <th scope="row">{user.name.clone()}{user.is_self.then(|| view! { <span class="cell-note">" (you)"</span> })}</th>
            <td class="cell-clip">{user.email.clone()}</td>
            <td>{user.customer.clone()}</td>
            <td>{badge}</td>
            <td>
                {(!user.is_self).then(|| view! {
                    <div class="row-actions">
                        <ActionForm action=toggle>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="enabled" value=if disabled { "true" } else { "false" }/>
                            <button type="submit" class="btn btn-secondary btn-small" aria-label=toggle_label>{if disabled { "Enable" } else { "Disable" }}</button>
                        </ActionForm>
                        <button type="button" class="btn btn-danger btn-small" aria-label=delete_label
                            on:click=move |_| { deleting.set(Some(for_delete.clone())); delete_open.set(true); }>"Delete"</button>
                    </div>
                })}
            </td>
        </tr>
    }
}
