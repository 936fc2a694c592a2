//! The portal's *Edit customer profile* (the user's own customer) and *Manage sub-customers*
//! (the customers below it: list, and add one under any of them).

use super::{portal_customer, portal_sub_customers, PortalAddSubCustomer, PortalUpdateCustomer};
use crate::{
    customers::{contact_fields, AddedSubCustomer, CustomerForm},
    ui::{action_error, on_success, FormAlert, LoadError, PageHeader, SelectField, StatusMessage, SubmitButton},
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PortalCustomerPage() -> impl IntoView {
    let save = ServerAction::<PortalUpdateCustomer>::new();
    let profile = Resource::new(move || save.version().get(), |_| portal_customer());
    let notice = RwSignal::new(None::<String>);
    on_success(save.value(), move |_| notice.set(Some("The changes have been saved.".into())));
    view! {
        <Title text="Customer profile"/>
        <PageHeader title="Customer profile" description="The details your service provider keeps about your customer."/>
        <StatusMessage message=notice/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => {
                        let value = save.value();
                        view! {
                            <section class="card form-card form-card-wide">
                                <FormAlert error=action_error(value)/>
                                <ActionForm action=save attr:class="form" attr:novalidate=true>
                                    <input type="hidden" name="version" value=p.version/>
                                    {contact_fields(p.form, value)}
                                    <div class="form-actions">
                                        <SubmitButton label="Save changes" pending=save.pending() pending_label="Saving…"/>
                                    </div>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn PortalSubCustomersPage() -> impl IntoView {
    let add = ServerAction::<PortalAddSubCustomer>::new();
    let list = Resource::new(move || add.version().get(), |_| portal_sub_customers());
    let notice = RwSignal::new(None::<String>);
    on_success(add.value(), move |added: &AddedSubCustomer| {
        notice.set(Some(format!("The sub-customer has been added as {}.", added.title)))
    });
    view! {
        <Title text="Sub-customers"/>
        <PageHeader title="Sub-customers" description="The customers that belong under yours."/>
        <StatusMessage message=notice/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) => {
                        let parents: Vec<(String, String)> = list.parents.iter().map(|(id, t)| (id.to_string(), t.clone())).collect();
                        let parent = RwSignal::new(parents.first().map(|(id, _)| id.clone()).unwrap_or_default());
                        let value = add.value();
                        view! {
                            <section class="card card-flush">
                                {if list.rows.is_empty() {
                                    view! { <p class="empty">"No sub-customers yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="table">
                                            <caption class="visually-hidden">"Sub-customers"</caption>
                                            <thead><tr><th scope="col">"Title"</th><th scope="col">"Under"</th><th scope="col">"City"</th></tr></thead>
                                            <tbody>
                                                {list.rows.into_iter().map(|c| view! {
                                                    <tr><th scope="row">{c.title}</th><td>{c.parent}</td><td>{c.city.unwrap_or_default()}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                            </section>
                            <section class="card form-card form-card-wide" aria-labelledby="add-sub-customer">
                                <h2 id="add-sub-customer">"Add a sub-customer"</h2>
                                <FormAlert error=action_error(value)/>
                                <ActionForm action=add attr:class="form" attr:novalidate=true>
                                    <SelectField label="Under" name="parent_id" value=parent options=parents/>
                                    {contact_fields(CustomerForm::default(), value)}
                                    <div class="form-actions">
                                        <SubmitButton label="Add sub-customer" pending=add.pending() pending_label="Adding…"/>
                                    </div>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
