//! The server functions of staff users: each parses its input, asks for its capability, and
//! calls one function of `ssr` (inside one transaction where the change is a single step).

use super::{InvitationView, UserChoices, UserDetail, UserList, UserQuery};
#[cfg(feature = "ssr")]
use super::{validate_basic, validate_password_setup, MembershipChange, COMPANY, EMAILS, ROLE};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "users")]
pub async fn list_users(query: UserQuery) -> Result<UserList, AppError> {
    use crate::{permissions::grant::UsersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::people::list(&mut conn, &allowed, &query).await
}

#[server(prefix = "/api", endpoint = "user")]
pub async fn get_user(id: i64) -> Result<UserDetail, AppError> {
    use crate::{permissions::grant::UsersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersView>()?;
    let mut tx = state.db.begin().await?;
    let detail = super::ssr::people::detail(&mut tx, &allowed, id).await?;
    tx.commit().await?;
    Ok(detail)
}

#[server(prefix = "/api", endpoint = "user_form_options")]
pub async fn user_form_options() -> Result<UserChoices, AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::people::form_choices(&mut conn, &allowed).await
}

#[server(prefix = "/api", endpoint = "create_user")]
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    display_name: String,
    email: String,
    phone: String,
    region: String,
    description: String,
    company_id: String,
    password_setup: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
    role_id: String,
) -> Result<i64, AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut errors = FieldErrors::default();
    let basic = validate_basic(&mut errors, &display_name, &email, &phone, &region, &description);
    let first = validate_password_setup(&mut errors, &password_setup, &password, &password_confirm, &email);
    let company_id = COMPANY.take(&mut errors, &company_id);
    let role_id = ROLE.take(&mut errors, &role_id);
    let (Some(basic), Some(first), Some(company_id), Some(role_id)) = (basic, first, company_id, role_id) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::changes::create(&state, &allowed, &basic, &first, company_id, role_id).await
}

#[server(prefix = "/api", endpoint = "update_user")]
#[allow(clippy::too_many_arguments)]
pub async fn update_user(
    id: i64,
    display_name: String,
    email: String,
    phone: String,
    region: String,
    description: String,
    company_id: String,
    version: i32,
) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut errors = FieldErrors::default();
    let basic = validate_basic(&mut errors, &display_name, &email, &phone, &region, &description);
    let company_id = COMPANY.take(&mut errors, &company_id);
    let (Some(basic), Some(company_id)) = (basic, company_id) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::changes::update(&state, &allowed, id, &basic, company_id, version).await
}

#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(id: i64, role_id: String, version: i32) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let role_id = ROLE.check(&role_id).map_err(|m| AppError::field(ROLE.name, m))?;
    let mut tx = state.db.begin().await?;
    super::ssr::changes::set_role(&mut tx, &state, &allowed, id, role_id, version).await?;
    tx.commit().await?;
    Ok(())
}

/// Resets a user's password (SPEC 3.5): `mode` "generate" e-mails a temporary password,
/// "manual" sets the one typed twice.
#[server(prefix = "/api", endpoint = "reset_user_password")]
pub async fn reset_user_password(
    id: i64,
    mode: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
) -> Result<(), AppError> {
    use super::ssr::changes::{reset_password, Reset};
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let reset = match mode.as_str() {
        "generate" => Reset::Generate,
        "manual" => Reset::Manual { password, password_confirm },
        _ => return Err(AppError::field("mode", "Choose how to reset the password.")),
    };
    reset_password(&state, &allowed, id, reset).await
}

#[server(prefix = "/api", endpoint = "change_membership")]
pub async fn change_membership(id: i64, change: String) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let change = MembershipChange::parse(&change).ok_or_else(|| AppError::BadRequest("unknown change".into()))?;
    let mut tx = state.db.begin().await?;
    super::ssr::changes::change_membership(&mut tx, &state, &allowed, id, change).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "invite_users")]
pub async fn invite_users(emails: String, role_id: String, company_id: String) -> Result<usize, AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut errors = FieldErrors::default();
    let addresses = EMAILS.take(&mut errors, &emails);
    let role_id = ROLE.take(&mut errors, &role_id);
    let company_id = COMPANY.take(&mut errors, &company_id);
    let (Some(addresses), Some(role_id), Some(company_id)) = (addresses, role_id, company_id) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::invitations::invite(&state, &allowed, &addresses, company_id, role_id).await
}

/// A new link for an invited user; the old one stops working.
#[server(prefix = "/api", endpoint = "resend_invitation")]
pub async fn resend_invitation(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::invitations::resend(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Withdraws an invitation: the link stops working and the address is free again.
#[server(prefix = "/api", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: i64) -> Result<(), AppError> {
    use crate::{permissions::grant::UsersManage, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut tx = state.db.begin().await?;
    super::ssr::invitations::revoke(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "invitation")]
pub async fn check_invitation(token: String) -> Result<InvitationView, AppError> {
    let state = crate::server::state::app_state()?;
    super::ssr::invitations::view(&state, &token).await
}

/// Accepts an invitation: sets name and password, makes the user active, signs them in.
#[server(prefix = "/api", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, display_name: String, password: String, password_confirm: String) -> Result<String, AppError> {
    use crate::server::{http::redirect_plain_form, state::app_state};
    let state = app_state()?;
    super::ssr::invitations::accept(&state, &token, &display_name, &password, &password_confirm).await?;
    redirect_plain_form("/");
    Ok("/".into())
}
