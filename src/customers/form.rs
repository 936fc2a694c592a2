//! The customer form (new and edit share its fields), and adding a customer by account.

use super::{
    load_customer_choices, get_customer, optional_email, optional_zip, validate_title, AddCustomerByAccount, CreateCustomer,
    CustomerChoices, CustomerForm,
};
use crate::{
    error::AppError,
    ui::{action_error, on_success, server_field, FormAlert, PageHeader, SelectField, SubmitButton, TextAreaField, TextField},
    validation::{optional_long_text, optional_phone, optional_text, Email, DESCRIPTION_MAX_CHARS},
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
    let text = |max: usize, s: RwSignal<String>| Signal::derive(move || optional_text(&s.get(), max).err());
    view! {
        <TextField label="Title" name="form[title]" value=title hint="Unique in your account."
            rule=Signal::derive(move || validate_title(&title.get()).err()) server_error=server_field(value, "title") required=true/>
        <div class="field-grid">
            <TextField label="Company name" name="form[company_name]" value=company rule=text(120, company)
                server_error=server_field(value, "company_name")/>
            <TextField label="E-mail" name="form[email]" input_type="email" value=email
                rule=Signal::derive(move || optional_email(&email.get()).err()) server_error=server_field(value, "email")/>
            <TextField label="Phone" name="form[phone]" input_type="tel" value=phone hint="International form, like +49 30 1234567."
                rule=Signal::derive(move || optional_phone(&phone.get()).err()) server_error=server_field(value, "phone")/>
        </div>
        <div class="field-grid">
            <TextField label="Country" name="form[country]" value=country rule=text(60, country) server_error=server_field(value, "country")/>
            <TextField label="State" name="form[state]" value=state rule=text(60, state) server_error=server_field(value, "state")/>
            <TextField label="City" name="form[city]" value=city rule=text(60, city) server_error=server_field(value, "city")/>
        </div>
        <TextField label="Address" name="form[address]" value=address rule=text(200, address) server_error=server_field(value, "address")/>
        <div class="field-grid">
            <TextField label="Address line 2" name="form[address2]" value=address2 rule=text(200, address2)
                server_error=server_field(value, "address2")/>
            <TextField label="ZIP" name="form[zip]" value=zip
                rule=Signal::derive(move || optional_zip(&zip.get()).err()) server_error=server_field(value, "zip")/>
        </div>
        <TextAreaField label="Description" name="form[description]" value=description
            rule=Signal::derive(move || optional_long_text(&description.get(), DESCRIPTION_MAX_CHARS).err())
            server_error=server_field(value, "description")/>
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
            <SelectField label="Customer type" name="customer_type_id" value=kind options=types server_error=server_field(value, "customer_type_id")/>
            <SelectField label="Owner company" name="owner_company_id" value=owner options=companies server_error=server_field(value, "owner_company_id")/>
        </div>
        {if parent_fixed {
            view! {
                <input type="hidden" name="parent" value=parent.get_untracked()/>
                <p class="field-hint">{format!("This customer will be a sub-customer of {}.", parent.get_untracked())}</p>
            }.into_any()
        } else {
            view! {
                <TextField label="Parent customer" name="parent" value=parent
                    hint="Optional: the title of the customer this one belongs under."
                    server_error=server_field(value, "parent")/>
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
                    (Err(e), _) | (_, Err(e)) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
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
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
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
                <TextField label="E-mail of the registered person" name="email" input_type="email" value=email
                    rule=Signal::derive(move || Email::parse(&email.get()).err()) server_error=server_field(value, "email") required=true/>
                <SelectField label="Customer type" name="customer_type_id" value=kind options=types server_error=server_field(value, "customer_type_id")/>
                <TextField label="Company name" name="company_name" value=company
                    hint="Optional. Becomes the customer's title; without it the person's name is used."
                    rule=Signal::derive(move || optional_text(&company.get(), 120).err()) server_error=server_field(value, "company_name")/>
                <SelectField label="Owner company" name="owner_company_id" value=owner options=companies server_error=server_field(value, "owner_company_id")/>
                <div class="form-actions">
                    <a class="btn btn-secondary" href="/customers">"Cancel"</a>
                    <SubmitButton label="Add customer" pending=action.pending() pending_label="Adding…"/>
                </div>
            </ActionForm>
        </section>
    }
}
