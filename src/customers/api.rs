//! The server functions of customers: each parses its input, asks for its capability, and
//! calls one function of `ssr` inside one transaction.

use super::{BulkResult, CustomerChoices, CustomerDetail, CustomerForm, CustomerList, CustomerQuery, DeletionPreview};
#[cfg(feature = "ssr")]
use super::{parse_ids, ACCOUNT_EMAIL, COMPANY_NAME, CUSTOMER_TYPE, GROUP, GROUPS, OWNER_COMPANY};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "customers")]
pub async fn list_customers(query: CustomerQuery) -> Result<CustomerList, AppError> {
    use crate::{permissions::grant::CustomersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::list::list(&mut conn, &allowed, &query).await
}

#[server(prefix = "/api", endpoint = "customer")]
pub async fn get_customer(id: i64) -> Result<CustomerDetail, AppError> {
    use crate::{permissions::grant::CustomersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut tx = state.db.begin().await?;
    let detail = super::ssr::detail(&mut tx, &allowed, id).await?;
    tx.commit().await?;
    Ok(detail)
}

#[server(prefix = "/api", endpoint = "customer_choices")]
pub async fn load_customer_choices() -> Result<CustomerChoices, AppError> {
    use crate::{permissions::grant::CustomersView, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut conn = state.db.acquire().await?;
    super::ssr::choices(&mut conn, &allowed).await
}

/// The form's fields, type and owner, validated together.
#[cfg(feature = "ssr")]
fn validate(form: &CustomerForm, customer_type_id: &str, owner_company_id: &str) -> Result<(super::CustomerFields, i64, i64), AppError> {
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors);
    let type_id = CUSTOMER_TYPE.take(&mut errors, customer_type_id);
    let owner_id = OWNER_COMPANY.take(&mut errors, owner_company_id);
    match (fields, type_id, owner_id) {
        (Some(fields), Some(type_id), Some(owner_id)) => Ok((fields, type_id, owner_id)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Creates a customer. `parent` is the title of the parent customer, if any.
#[server(prefix = "/api", endpoint = "create_customer")]
pub async fn create_customer(
    form: CustomerForm,
    customer_type_id: String,
    owner_company_id: String,
    #[server(default)] parent: String,
) -> Result<i64, AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let (fields, type_id, owner_id) = validate(&form, &customer_type_id, &owner_company_id)?;
    let mut tx = state.db.begin().await?;
    let id = super::ssr::writes::create(&mut tx, &state, &allowed, &fields, type_id, owner_id, &parent).await?;
    tx.commit().await?;
    Ok(id)
}

#[server(prefix = "/api", endpoint = "update_customer")]
pub async fn update_customer(
    id: i64,
    form: CustomerForm,
    customer_type_id: String,
    owner_company_id: String,
    #[server(default)] parent: String,
    version: i32,
) -> Result<i32, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let (fields, type_id, owner_id) = validate(&form, &customer_type_id, &owner_company_id)?;
    let mut tx = state.db.begin().await?;
    let placement = super::ssr::writes::Placement { type_id, owner_id, parent_title: &parent };
    let version = super::ssr::writes::update(&mut tx, &state, &allowed, id, version, &fields, placement).await?;
    tx.commit().await?;
    Ok(version)
}

#[server(prefix = "/api", endpoint = "customer_deletion")]
pub async fn preview_customer_deletion(#[server(default)] ids: Vec<String>) -> Result<DeletionPreview, AppError> {
    use crate::{permissions::grant::CustomersDelete, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersDelete>()?;
    let ids = parse_ids(&ids)?;
    let mut tx = state.db.begin().await?;
    let preview = super::ssr::writes::deletion_preview(&mut tx, &allowed, &ids).await?;
    tx.commit().await?;
    Ok(preview)
}

/// Deletes customers with their sub-customers and customer users, all or nothing.
#[server(prefix = "/api", endpoint = "delete_customers")]
pub async fn delete_customers(#[server(default)] ids: Vec<String>) -> Result<BulkResult, AppError> {
    use crate::{permissions::grant::CustomersDelete, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersDelete>()?;
    let ids = parse_ids(&ids)?;
    let mut tx = state.db.begin().await?;
    let result = super::ssr::writes::delete_customers(&mut tx, &state, &allowed, &ids).await?;
    tx.commit().await?;
    Ok(result)
}

/// Takes one customer off the list; people who registered on their own keep their logins.
#[server(prefix = "/api", endpoint = "remove_customer")]
pub async fn remove_customer(id: i64) -> Result<BulkResult, AppError> {
    use crate::{permissions::grant::CustomersDelete, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersDelete>()?;
    let mut tx = state.db.begin().await?;
    let result = super::ssr::writes::remove_customer(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(result)
}

/// Renames the company one customer belongs to.
#[server(prefix = "/api", endpoint = "rename_customer_company")]
pub async fn rename_customer_company(id: i64, company_name: String) -> Result<BulkResult, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let company_name = super::COMPANY_NAME.check(&company_name).map_err(|m| AppError::field(super::COMPANY_NAME.name, m))?;
    let mut tx = state.db.begin().await?;
    let result = super::ssr::writes::rename_company(&mut tx, &state, &allowed, id, company_name).await?;
    tx.commit().await?;
    Ok(result)
}

/// Gives the selected customers another type, all or nothing.
#[server(prefix = "/api", endpoint = "change_customer_type")]
pub async fn change_customer_type(#[server(default)] ids: Vec<String>, customer_type_id: String) -> Result<BulkResult, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let ids = parse_ids(&ids)?;
    let type_id = CUSTOMER_TYPE.check(&customer_type_id).map_err(|m| AppError::field(CUSTOMER_TYPE.name, m))?;
    let mut tx = state.db.begin().await?;
    let result = super::ssr::writes::change_type(&mut tx, &state, &allowed, &ids, type_id).await?;
    tx.commit().await?;
    Ok(result)
}

/// Adds the selected customers to a group, all or nothing.
#[server(prefix = "/api", endpoint = "add_customers_to_group")]
pub async fn add_customers_to_group(#[server(default)] ids: Vec<String>, group_id: String) -> Result<BulkResult, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let ids = parse_ids(&ids)?;
    let group_id = GROUP.check(&group_id).map_err(|m| AppError::field(GROUP.name, m))?;
    let mut tx = state.db.begin().await?;
    let result = super::ssr::writes::add_to_group(&mut tx, &state, &allowed, &ids, group_id).await?;
    tx.commit().await?;
    Ok(result)
}

/// Sets which named groups one customer belongs to.
#[server(prefix = "/api", endpoint = "set_customer_groups")]
pub async fn set_customer_groups(id: i64, #[server(default)] groups: Vec<String>, version: i32) -> Result<i32, AppError> {
    use crate::{permissions::grant::CustomersEdit, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let groups: Vec<i64> = groups
        .iter()
        .map(|g| g.trim().parse::<i64>().map_err(|_| AppError::field(GROUPS, "Choose groups from the list.")))
        .collect::<Result<_, _>>()?;
    let mut tx = state.db.begin().await?;
    let version = super::ssr::writes::set_groups(&mut tx, &state, &allowed, id, &groups, version).await?;
    tx.commit().await?;
    Ok(version)
}

/// SPEC 4.4: makes a person who registered themselves the first customer user of a new
/// customer. Any address that is not a free, confirmed self-registration gets the same answer.
#[server(prefix = "/api", endpoint = "add_customer_by_account")]
pub async fn add_customer_by_account(
    email: String,
    customer_type_id: String,
    #[server(default)] company_name: String,
    owner_company_id: String,
) -> Result<i64, AppError> {
    use crate::{permissions::grant::CustomersCreate, server::{capability::require_staff, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let mut errors = FieldErrors::default();
    let email = ACCOUNT_EMAIL.take(&mut errors, &email);
    let company_name = COMPANY_NAME.take(&mut errors, &company_name);
    let type_id = CUSTOMER_TYPE.take(&mut errors, &customer_type_id);
    let owner_id = OWNER_COMPANY.take(&mut errors, &owner_company_id);
    let (Some(email), Some(company_name), Some(type_id), Some(owner_id)) = (email, company_name, type_id, owner_id) else {
        return Err(AppError::Validation(errors));
    };
    super::ssr::writes::add_by_account(&state, &allowed, &email, company_name, type_id, owner_id).await
}
