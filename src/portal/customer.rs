//! The portal's *Edit customer profile* (the user's own customer) and *Manage sub-customers*
//! (the customers below it: list, and add one under any of them).

use crate::{
    customers::{contact_fields, CustomerForm},
    error::AppError,
    ui::{action_error, on_success, FormAlert, PageHeader, SelectField, StatusMessage, SubmitButton},
};
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalCustomerProfile {
    pub form: CustomerForm,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalSubCustomer {
    pub id: i64,
    pub title: String,
    pub parent: String,
    pub city: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalSubCustomerList {
    pub rows: Vec<PortalSubCustomer>,
    /// Where a new sub-customer may go: the user's customer and everything below it.
    pub parents: Vec<(i64, String)>,
}

#[server(prefix = "/api", endpoint = "portal_customer")]
pub async fn portal_customer() -> Result<PortalCustomerProfile, AppError> {
    use crate::{permissions::CustomerFeature, server::state::app_state};
    let state = app_state()?;
    let portal = super::ssr::require_portal(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    portal.require(CustomerFeature::EditCustomerProfile)?;
    let c = sqlx::query!(
        "SELECT title, company_name, email, phone, country, state, city, address, address2, zip, description, version
           FROM customers WHERE account_id = $1 AND id = $2",
        portal.account_id,
        portal.customer_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let text = |v: Option<String>| v.unwrap_or_default();
    Ok(PortalCustomerProfile {
        form: CustomerForm {
            title: c.title,
            company_name: text(c.company_name),
            email: text(c.email),
            phone: text(c.phone),
            country: text(c.country),
            state: text(c.state),
            city: text(c.city),
            address: text(c.address),
            address2: text(c.address2),
            zip: text(c.zip),
            description: text(c.description),
        },
        version: c.version,
    })
}

/// Saves the user's own customer's details (never its type, owner or place in the tree).
#[server(prefix = "/api", endpoint = "portal_update_customer")]
pub async fn portal_update_customer(version: i32, form: CustomerForm) -> Result<i32, AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        customers::ssr::TITLE_TAKEN,
        permissions::CustomerFeature,
        server::{errors::db_error, state::app_state},
    };
    let state = app_state()?;
    let portal = super::ssr::require_portal(&state.db).await?;
    let mut tx = state.db.begin().await?;
    portal.require(CustomerFeature::EditCustomerProfile)?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    let before = sqlx::query!(
        "SELECT title, company_name, email, phone, country, state, city, address, address2, zip, description, version
           FROM customers WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE",
        portal.account_id,
        portal.customer_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.version != version {
        return Err(AppError::Conflict);
    }
    let now = state.clock.now();
    let new_version = sqlx::query_scalar!(
        "UPDATE customers SET title = $3, company_name = $4, email = $5, phone = $6, country = $7, state = $8, city = $9,
                              address = $10, address2 = $11, zip = $12, description = $13, updated_at = $14, version = version + 1
          WHERE account_id = $1 AND id = $2
          RETURNING version",
        portal.account_id,
        portal.customer_id,
        fields.title,
        fields.company_name,
        fields.email,
        fields.phone,
        fields.country,
        fields.state,
        fields.city,
        fields.address,
        fields.address2,
        fields.zip,
        fields.description,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[TITLE_TAKEN]))?;
    let changes = Changes::default()
        .field("title", &before.title, &fields.title)
        .field("company_name", &before.company_name, &fields.company_name)
        .field("email", &before.email, &fields.email)
        .field("phone", &before.phone, &fields.phone)
        .field("country", &before.country, &fields.country)
        .field("state", &before.state, &fields.state)
        .field("city", &before.city, &fields.city)
        .field("address", &before.address, &fields.address)
        .field("address2", &before.address2, &fields.address2)
        .field("zip", &before.zip, &fields.zip)
        .field("description", &before.description, &fields.description);
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(portal.account_id),
            actor_id: Some(portal.user.user_id),
            actor_label: &portal.user.email,
            action: "customer.updated",
            record_type: "customer",
            record_id: Some(portal.customer_id),
            changes: changes.into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(new_version)
}

#[server(prefix = "/api", endpoint = "portal_sub_customers")]
pub async fn portal_sub_customers() -> Result<PortalSubCustomerList, AppError> {
    use crate::{permissions::CustomerFeature, server::state::app_state};
    let state = app_state()?;
    let portal = super::ssr::require_portal(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    portal.require(CustomerFeature::ManageSubCustomers)?;
    let parents = super::ssr::subtree(&mut conn, &portal).await?;
    let below: Vec<i64> = parents.iter().map(|(id, _)| *id).filter(|id| *id != portal.customer_id).collect();
    let rows = sqlx::query!(
        "SELECT c.id, c.title, p.title AS parent, c.city
           FROM customers c JOIN customers p ON p.account_id = c.account_id AND p.id = c.parent_id
          WHERE c.account_id = $1 AND c.id = ANY($2)
          ORDER BY lower(c.title)",
        portal.account_id,
        &below
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| PortalSubCustomer { id: r.id, title: r.title, parent: r.parent, city: r.city })
    .collect();
    Ok(PortalSubCustomerList { rows, parents })
}

/// A sub-customer added from the portal, with the title it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddedSubCustomer {
    pub id: i64,
    pub title: String,
}

/// Adds a sub-customer under the user's customer or one below it; it gets its parent's owner
/// company and its parent's customer type. A title some customer of the account already has
/// gets a number ("Acme (2)") instead of a refusal: a portal user never learns which titles
/// the provider's other customers have.
#[server(prefix = "/api", endpoint = "portal_add_sub_customer")]
pub async fn portal_add_sub_customer(parent_id: i64, form: CustomerForm) -> Result<AddedSubCustomer, AppError> {
    use crate::{audit::ssr as audit, customers::ssr::{free_title, TITLE_TAKEN}, permissions::CustomerFeature, server::{errors::db_error, state::app_state}};
    use sqlx::Acquire;
    let state = app_state()?;
    let portal = super::ssr::require_portal(&state.db).await?;
    let mut tx = state.db.begin().await?;
    portal.require(CustomerFeature::ManageSubCustomers)?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    let (parent_id, parent_title) = super::ssr::subtree(&mut tx, &portal)
        .await?
        .into_iter()
        .find(|(id, _)| *id == parent_id)
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    // Another request may take the same title at the same moment: try the next free one.
    let mut attempt = 0;
    let (id, title) = loop {
        let title = free_title(&mut tx, portal.account_id, &fields.title, attempt).await?;
        let mut savepoint = tx.begin().await?;
        let inserted = sqlx::query_scalar!(
            "INSERT INTO customers (account_id, title, company_name, email, phone, country, state, city, address, address2,
                                    zip, description, customer_type_id, owner_company_id, parent_id, created_at, updated_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, p.customer_type_id, p.owner_company_id, p.id, $14, $14
               FROM customers p
              WHERE p.account_id = $1 AND p.id = $13
             RETURNING id",
            portal.account_id,
            title,
            fields.company_name,
            fields.email,
            fields.phone,
            fields.country,
            fields.state,
            fields.city,
            fields.address,
            fields.address2,
            fields.zip,
            fields.description,
            parent_id,
            now
        )
        .fetch_one(&mut *savepoint)
        .await
        .map_err(|e| db_error(e, &[TITLE_TAKEN]));
        match inserted {
            Ok(id) => {
                savepoint.commit().await?;
                break (id, title);
            }
            Err(AppError::Validation(_)) if attempt < 5 => {
                savepoint.rollback().await?;
                attempt += 1;
            }
            Err(other) => return Err(other),
        }
    };
    sqlx::query!("UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1", portal.account_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(portal.account_id),
            actor_id: Some(portal.user.user_id),
            actor_label: &portal.user.email,
            action: "customer.created",
            record_type: "customer",
            record_id: Some(id),
            changes: serde_json::json!({ "title": title, "parent": parent_title }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(AddedSubCustomer { id, title })
}

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
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
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
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
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
