//! The portal's server functions: each loads the signed-in customer user (before opening a
//! transaction), parses, asks for the capability of the feature it serves, and calls the
//! customers' or customer users' portal work.

use crate::{
    customer_users::{CustomerUserForm, Issued, PortalUserList},
    customers::{AddedSubCustomer, CustomerForm, PortalCustomerProfile, PortalSubCustomerList},
    error::AppError,
};
#[cfg(feature = "ssr")]
use crate::{customer_users::METHOD, error::FieldErrors};
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "portal_customer")]
pub async fn portal_customer() -> Result<PortalCustomerProfile, AppError> {
    use crate::{permissions::feature::EditCustomerProfile, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<EditCustomerProfile>()?;
    let mut conn = state.db.acquire().await?;
    crate::customers::ssr::portal::profile(&mut conn, &allowed).await
}

/// Saves the user's own customer's details (never its type, owner or place in the tree).
#[server(prefix = "/api", endpoint = "portal_update_customer")]
pub async fn portal_update_customer(version: i32, form: CustomerForm) -> Result<i32, AppError> {
    use crate::{permissions::feature::EditCustomerProfile, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<EditCustomerProfile>()?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    let mut tx = state.db.begin().await?;
    let version = crate::customers::ssr::portal::update_profile(&mut tx, &state, &allowed, version, &fields).await?;
    tx.commit().await?;
    Ok(version)
}

#[server(prefix = "/api", endpoint = "portal_sub_customers")]
pub async fn portal_sub_customers() -> Result<PortalSubCustomerList, AppError> {
    use crate::{permissions::feature::ManageSubCustomers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageSubCustomers>()?;
    let mut conn = state.db.acquire().await?;
    crate::customers::ssr::portal::sub_customers(&mut conn, &allowed).await
}

/// Adds a sub-customer under the user's customer or one below it.
#[server(prefix = "/api", endpoint = "portal_add_sub_customer")]
pub async fn portal_add_sub_customer(parent_id: i64, form: CustomerForm) -> Result<AddedSubCustomer, AppError> {
    use crate::{permissions::feature::ManageSubCustomers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageSubCustomers>()?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    let mut tx = state.db.begin().await?;
    let added = crate::customers::ssr::portal::add_sub_customer(&mut tx, &state, &allowed, parent_id, &fields).await?;
    tx.commit().await?;
    Ok(added)
}

#[server(prefix = "/api", endpoint = "portal_users")]
pub async fn portal_users() -> Result<PortalUserList, AppError> {
    use crate::{permissions::feature::ManageCustomerUsers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageCustomerUsers>()?;
    let mut conn = state.db.acquire().await?;
    crate::customer_users::ssr::portal::list(&mut conn, &allowed).await
}

/// Adds a colleague to the user's customer or one of its sub-customers.
#[server(prefix = "/api", endpoint = "portal_add_user")]
pub async fn portal_add_user(customer_id: i64, form: CustomerUserForm, method: String) -> Result<Issued, AppError> {
    use crate::{permissions::feature::ManageCustomerUsers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let method = METHOD.take(&mut errors, &method);
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageCustomerUsers>()?;
    let (Some(fields), Some(method)) = (fields, method) else {
        return Err(AppError::Validation(errors));
    };
    crate::customer_users::ssr::portal::create(&state, &allowed, customer_id, &fields, method).await
}

/// Disables (ending their sessions) or enables a colleague; never oneself.
#[server(prefix = "/api", endpoint = "portal_set_user_enabled")]
pub async fn portal_set_user_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::{permissions::feature::ManageCustomerUsers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageCustomerUsers>()?;
    let mut tx = state.db.begin().await?;
    crate::customer_users::ssr::portal::set_enabled(&mut tx, &state, &allowed, id, enabled).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "portal_delete_user")]
pub async fn portal_delete_user(id: i64) -> Result<(), AppError> {
    use crate::{permissions::feature::ManageCustomerUsers, server::{capability::require_portal, state::app_state}};
    let state = app_state()?;
    let portal = require_portal(&state.db).await?;
    let allowed = portal.allow::<ManageCustomerUsers>()?;
    let mut tx = state.db.begin().await?;
    crate::customer_users::ssr::portal::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}
