//! The server functions of customer users (staff side) and of the activation page: each parses
//! its input, asks for its capability, and calls one function of `ssr`.

use super::{ActivationView, CustomerUserForm, CustomerUsers, Issued};
#[cfg(feature = "ssr")]
use super::METHOD;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "customer_users")]
pub async fn list_customer_users(customer_id: i64) -> Result<CustomerUsers, AppError> {
    use crate::{permissions::grant::CustomerUsersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersView>()?;
    let mut tx = state.db.begin().await?;
    let users = super::ssr::list(&mut tx, &state, &allowed, customer_id).await?;
    tx.commit().await?;
    Ok(users)
}

#[server(prefix = "/api", endpoint = "add_customer_user")]
pub async fn add_customer_user(customer_id: i64, form: CustomerUserForm, method: String) -> Result<Issued, AppError> {
    use crate::{permissions::grant::CustomerUsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let method = METHOD.take(&mut errors, &method);
    let (Some(fields), Some(method)) = (fields, method) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::create(&state, &allowed, customer_id, &fields, method).await
}

/// A new activation link for a user who has not activated yet; the previous link stops working.
#[server(prefix = "/api", endpoint = "resend_activation")]
pub async fn resend_activation(id: i64, method: String) -> Result<Issued, AppError> {
    use crate::{permissions::grant::CustomerUsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let method = METHOD.check(&method).map_err(|m| AppError::field(METHOD.name, m))?;
    let mut tx = state.db.begin().await?;
    let issued = super::ssr::resend(&mut tx, &state, &allowed, id, method).await?;
    tx.commit().await?;
    Ok(issued)
}

#[server(prefix = "/api", endpoint = "update_customer_user")]
pub async fn update_customer_user(id: i64, version: i32, form: CustomerUserForm) -> Result<i32, AppError> {
    use crate::{permissions::grant::CustomerUsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut errors = FieldErrors::default();
    let Some(fields) = form.validate(&mut errors) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::update(&state, &allowed, id, version, &fields).await
}

/// Disables a user (their sessions end at once) or enables them again.
#[server(prefix = "/api", endpoint = "set_customer_user_enabled")]
pub async fn set_customer_user_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::{permissions::grant::CustomerUsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::set_enabled(&mut tx, &state, &allowed, id, enabled).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_customer_user")]
pub async fn delete_customer_user(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::CustomerUsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "activation")]
pub async fn check_activation(token: String) -> Result<ActivationView, AppError> {
    let state = crate::server::state::app_state()?;
    super::ssr::activation_view(&state, &token).await
}

/// Sets the password, makes the user active, uses up the link and signs them in.
#[server(prefix = "/api", endpoint = "activate")]
pub async fn activate(token: String, password: String, password_confirm: String) -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    super::ssr::activate(&state, &token, &password, &password_confirm).await?;
    redirect_plain_form("/");
    Ok("/".into())
}
