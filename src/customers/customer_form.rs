//! The customer form (new and edit share its fields), and adding a customer by account.

use super::{
    get_customer, load_customer_choices, AddCustomerByAccount, CreateCustomer, CustomerChoices, CustomerForm, ACCOUNT_EMAIL, ADDRESS,
    ADDRESS2, CITY, COMPANY_NAME, COUNTRY, CUSTOMER_TYPE, DESCRIPTION, EMAIL, OWNER_COMPANY, PARENT, PHONE, STATE, TITLE, ZIP,
};
use crate::{
    error::AppError,
    ui::{action_error, on_success, rule_of, server_field, FormAlert, LoadError, PageHeader, SelectField, SubmitButton, TextAreaField, TextField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The customer's own details (title, contact, address, description), shared by the staff
/// forms and the customer portal's profile form.
pub fn contact_fields<T, V>(initial: CustomerForm, value: V) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    let f = |v: String| RwSignal::new(v);
    let (title, company, email, phone) = (f(initial.title), f(initial.company_name), f(initial.email), f(initial.phone));
    let (country, state, city) = (f(initial.country), f(initial.state), f(initial.city));
    let (address, address2, zip, description) = (f(initial.address), f(initial.address2), f(initial.zip), f(initial.description));
    // Posted inside `form` (`form[title]`, the server function's `CustomerForm`); each field's
    // rule and message key come from its declaration in the feature's `mod.rs`.
    view! {
        <TextField label="Title" name="form[title]" value=title hint="Unique in your account."
            rule=rule_of(&TITLE, title) server_error=server_field(value, TITLE.name) required=true/>
        <div class="field-grid">
            <TextField label="Company name" name="form[company_name]" value=company rule=rule_of(&COMPANY_NAME, company)
                server_error=server_field(value, COMPANY_NAME.name)/>
            <TextField label="E-mail" name="form[email]" input_type="email" value=email
                rule=rule_of(&EMAIL, email) server_error=server_field(value, EMAIL.name)/>
            <TextField label="Phone" name="form[phone]" input_type="tel" value=phone hint="International form, like +49 30 1234567."
                rule=rule_of(&PHONE, phone) server_error=server_field(value, PHONE.name)/>
        </div>
        <div class="field-grid">
            <TextField label="Country" name="form[country]" value=country rule=rule_of(&COUNTRY, country) server_error=server_field(value, COUNTRY.name)/>
            <TextField label="State" name="form[state]" value=state rule=rule_of(&STATE, state) server_error=server_field(value, STATE.name)/>
            <TextField label="City" name="form[city]" value=city rule=rule_of(&CITY, city) server_error=server_field(value, CITY.name)/>
        </div>
        <TextField label="Address" name="form[address]" value=address rule=rule_of(&ADDRESS, address) server_error=server_field(value, ADDRESS.name)/>
        <div class="field-grid">
            <TextField label="Address line 2" name="form[address2]" value=address2 rule=rule_of(&ADDRESS2, address2)
                server_error=server_field(value, ADDRESS2.name)/>
            <TextField label="ZIP" name="form[zip]" value=zip rule=rule_of(&ZIP, zip) server_error=server_field(value, ZIP.name)/>
        </div>
        <TextAreaField label="Description" name="form[description]" value=description rule=rule_of(&DESCRIPTION, description)
            server_error=server_field(value, DESCRIPTION.name)/>
    }
}

/// The fields of a customer, named `form[...]` for the server function, with the shared rules.
#[component]
pub fn CustomerFields<T, V>(
    initial: CustomerForm,
    choices: CustomerChoices,
    customer_type: i64,
    owner: i64,
    parent: String,
    value: V,
    #[prop(optional)] parent_fixed: bool,
) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    let kind = RwSignal::new(customer_type.to_string());
    let owner = RwSignal::new(owner.to_string());
    let parent = RwSignal::new(parent);
    let types: Vec<(String, String)> = choices.types.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let companies: Vec<(String, String)> = choices.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    view! {
        {contact_fields(initial, value)}
        <div class="field-grid">
            <SelectField label="Customer type" name=CUSTOMER_TYPE.name value=kind options=types server_error=server_field(value, CUSTOMER_TYPE.name)/>
            <SelectField label="Owner company" name=OWNER_COMPANY.name value=owner options=companies server_error=server_field(value, OWNER_COMPANY.name)/>
        </div>
        {if parent_fixed {
            view! {
                <input type="hidden" name=PARENT value=parent.get_untracked()/>
                <p class="field-hint">{format!("This customer will be a sub-customer of {}.", parent.get_untracked())}</p>
            }.into_any()
        } else {
            view! {
                <TextField label="Parent customer" name=PARENT value=parent
                    hint="Optional: the title of the customer this one belongs under."
                    server_error=server_field(value, PARENT)/>
            }.into_any()
        }}
    }
}

#[component]
pub fn NewCustomerPage() -> impl IntoView {
    let query = use_query_map();
    let parent_id = move || query.with(|q| q.get("parent").and_then(|p| p.parse::<i64>().ok()));
    let choices = Resource::new(|| (), |_| load_customer_choices());
    let parent = Resource::new(parent_id, |id| async move {
        match id {
            Some(id) => get_customer(id).await.map(|c| Some(c.title)),
            None => Ok(None),
        }
    });
    view! {
        <Title text="Add customer"/>
        <PageHeader title="Add customer" description="A person or organisation your business serves."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (choices.await, parent.await) {
                    (Ok(choices), Ok(parent)) => view! { <NewCustomerForm choices parent/> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewCustomerForm(choices: CustomerChoices, parent: Option<String>) -> impl IntoView {
    let action = ServerAction::<CreateCustomer>::new();
    let value = action.value();
    let navigate = use_navigate();
    on_success(value, move |id: &i64| navigate(&format!("/customers/{id}?created=1"), Default::default()));
    let customer_type = choices.default_type.or(choices.types.first().map(|t| t.0)).unwrap_or_default();
    let owner = choices.companies.first().map(|c| c.0).unwrap_or_default();
    let fixed = parent.is_some();
    view! {
        <section class="card form-card form-card-wide">
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <CustomerFields initial=CustomerForm::default() choices customer_type owner parent=parent.unwrap_or_default()
                    value parent_fixed=fixed/>
                <div class="form-actions">
                    <a class="btn btn-secondary" href="/customers">"Cancel"</a>
                    <SubmitButton label="Create customer" pending=action.pending() pending_label="Creating…"/>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn AddByAccountPage() -> impl IntoView {
    let choices = Resource::new(|| (), |_| load_customer_choices());
    view! {
        <Title text="Add customer by account"/>
        <PageHeader title="Add customer by account"
            description="Someone who registered a personal Roster account becomes the first user of a new customer."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(choices) => view! { <AddByAccountForm choices/> }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AddByAccountForm(choices: CustomerChoices) -> impl IntoView {
    let action = ServerAction::<AddCustomerByAccount>::new();
    let value = action.value();
    let navigate = use_navigate();
    on_success(value, move |id: &i64| navigate(&format!("/customers/{id}?created=1"), Default::default()));
    let email = RwSignal::new(String::new());
    let company = RwSignal::new(String::new());
    let kind = RwSignal::new(choices.default_type.or(choices.types.first().map(|t| t.0)).unwrap_or_default().to_string());
    let owner = RwSignal::new(choices.companies.first().map(|c| c.0).unwrap_or_default().to_string());
    let types: Vec<(String, String)> = choices.types.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    let companies: Vec<(String, String)> = choices.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    view! {
        <section class="card form-card">
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <TextField label="E-mail of the registered person" name=ACCOUNT_EMAIL.name input_type="email" value=email
                    rule=rule_of(&ACCOUNT_EMAIL, email) server_error=server_field(value, ACCOUNT_EMAIL.name) required=true/>
                <SelectField label="Customer type" name=CUSTOMER_TYPE.name value=kind options=types server_error=server_field(value, CUSTOMER_TYPE.name)/>
                <TextField label="Company name" name=COMPANY_NAME.name value=company
                    hint="Optional. Becomes the customer's title; without it the person's name is used."
                    rule=rule_of(&COMPANY_NAME, company) server_error=server_field(value, COMPANY_NAME.name)/>
                <SelectField label="Owner company" name=OWNER_COMPANY.name value=owner options=companies server_error=server_field(value, OWNER_COMPANY.name)/>
                <div class="form-actions">
                    <a class="btn btn-secondary" href="/customers">"Cancel"</a>
                    <SubmitButton label="Add customer" pending=action.pending() pending_label="Adding…"/>
                </div>
            </ActionForm>
        </section>
    }
}
