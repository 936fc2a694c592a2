//! Customer groups and membership, customer users, staff users and invitations: each handler
//! asks for the capability its server function asks for and calls the same feature function.

use super::{problem::Problem, ApiJson, ApiPath, ApiQuery};
use crate::{
    customer_groups::{ssr as groups, NAME as GROUP_NAME},
    customer_users::{ssr as customer_users, ActivationMethod, CustomerUserForm, CustomerUserRow, CustomerUserStatus},
    customers::ssr::writes::set_groups,
    error::{AppError, FieldErrors},
    permissions::grant::{CustomerUsersManage, CustomerUsersView, CustomersEdit, CustomersView, UsersManage, UsersView},
    rest::BASE_PATH,
    server::{capability::require_staff, state::app_state},
    users::{
        parse_invitation_addresses,
        ssr::{changes::change_membership, invitations, people},
        MembershipChange, UserQuery, UserStatus,
    },
};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn created<T: Serialize>(location: String, body: T) -> Response {
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

// ---- Customer groups ----

#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    pub id: i64,
    #[schema(example = "Priority support")]
    pub name: String,
    pub member_count: i64,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupInput {
    /// 1 to 60 characters; not "All", the built-in group of every customer.
    #[schema(example = "Priority support")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GroupRename {
    pub name: String,
    #[serde(deserialize_with = "super::int::i32")]
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Membership {
    /// Every named group the customer is to be in (an empty list takes it out of all).
    #[schema(example = json!([3, 5]))]
    #[serde(deserialize_with = "super::int::list")]
    pub group_ids: Vec<i64>,
    /// The customer's version as read.
    #[serde(deserialize_with = "super::int::i32")]
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewVersion {
    pub version: i32,
}

async fn group_by_id(id: i64) -> Result<Group, AppError> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut conn = state.db.acquire().await?;
    let list = groups::list(&mut conn, &allowed).await?;
    list.groups
        .into_iter()
        .find(|g| g.id == id)
        .map(|g| Group { id: g.id, name: g.name, member_count: g.member_count, version: g.version })
        .ok_or(AppError::NotFound)
}

fn group_name(raw: &str) -> Result<String, AppError> {
    GROUP_NAME.check(raw).map_err(|m| AppError::field(GROUP_NAME.name, m))
}

/// List customer groups
///
/// Needs Customers – View. The named groups; every customer is also in "All".
#[utoipa::path(get, path = "/customer-groups", tag = "Customer groups",
    responses((status = 200, description = "The account's groups", body = Vec<Group>), super::Errors))]
pub async fn list_groups() -> Result<Json<Vec<Group>>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut conn = state.db.acquire().await?;
    let list = groups::list(&mut conn, &allowed).await?;
    Ok(Json(list.groups.into_iter().map(|g| Group { id: g.id, name: g.name, member_count: g.member_count, version: g.version }).collect()))
}

/// Create a customer group
///
/// Needs Customers – Edit.
#[utoipa::path(post, path = "/customer-groups", tag = "Customer groups", request_body = GroupInput,
    responses((status = 201, description = "Created", body = Group, headers(("Location" = String, description = "The new group's URL"))), super::Errors))]
pub async fn create_group(ApiJson(input): ApiJson<GroupInput>) -> Result<Response, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let name = group_name(&input.name)?;
    let mut tx = state.db.begin().await?;
    let id = groups::save(&mut tx, &state, &allowed, None, &name, None).await?;
    tx.commit().await?;
    let group = group_by_id(id).await.unwrap_or(Group { id, name, member_count: 0, version: 1 });
    Ok(created(format!("{BASE_PATH}/customer-groups/{id}"), group))
}

/// Rename a customer group
///
/// Needs Customers – Edit. Send the version you read; a stale one is 409.
#[utoipa::path(put, path = "/customer-groups/{id}", tag = "Customer groups", params(("id" = i64, Path, description = "The group's id")),
    request_body = GroupRename, responses((status = 200, description = "Renamed", body = Group), super::Errors))]
pub async fn rename_group(ApiPath(id): ApiPath<i64>, ApiJson(input): ApiJson<GroupRename>) -> Result<Json<Group>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let name = group_name(&input.name)?;
    let mut tx = state.db.begin().await?;
    groups::save(&mut tx, &state, &allowed, Some(id), &name, Some(input.version)).await?;
    tx.commit().await?;
    Ok(Json(group_by_id(id).await?))
}

/// Delete a customer group
///
/// Needs Customers – Edit. Its customers stay; they only leave the group.
#[utoipa::path(delete, path = "/customer-groups/{id}", tag = "Customer groups", params(("id" = i64, Path, description = "The group's id")),
    responses((status = 204, description = "Deleted"), super::Errors))]
pub async fn delete_group(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let mut tx = state.db.begin().await?;
    groups::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a customer's groups
///
/// Needs Customers – Edit. Replaces the customer's named groups; answers the new version.
#[utoipa::path(put, path = "/customers/{id}/groups", tag = "Customer groups", params(("id" = i64, Path, description = "The customer's id")),
    request_body = Membership, responses((status = 200, description = "The customer's new version", body = NewVersion), super::Errors))]
pub async fn set_membership(ApiPath(id): ApiPath<i64>, ApiJson(input): ApiJson<Membership>) -> Result<Json<NewVersion>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let mut tx = state.db.begin().await?;
    let version = set_groups(&mut tx, &state, &allowed, id, &input.group_ids, input.version).await.map_err(|e| match e {
        AppError::Validation(FieldErrors(errors)) => AppError::Validation(FieldErrors(
            errors.into_iter().map(|mut e| { e.field = "group_ids".into(); e }).collect(),
        )),
        other => other,
    })?;
    tx.commit().await?;
    Ok(Json(NewVersion { version }))
}

// ---- Customer users ----

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerUser {
    pub id: i64,
    #[schema(example = "thandi@farm.example")]
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub description: Option<String>,
    /// `awaiting_activation`, `active` or `disabled`.
    #[schema(example = "awaiting_activation")]
    pub status: String,
    /// Until when the activation link works, while awaiting activation.
    pub activation_expires_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub version: i32,
}

impl From<CustomerUserRow> for CustomerUser {
    fn from(r: CustomerUserRow) -> Self {
        let status = match r.status {
            CustomerUserStatus::AwaitingActivation => "awaiting_activation",
            CustomerUserStatus::Active => "active",
            CustomerUserStatus::Disabled => "disabled",
        };
        CustomerUser {
            id: r.id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            phone: r.phone,
            description: r.description,
            status: status.to_owned(),
            activation_expires_at: r.activation_expires_at,
            last_sign_in_at: r.last_sign_in_at,
            version: r.version,
        }
    }
}

/// A new customer user. The activation link is e-mailed to them; the API never returns it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "thandi@farm.example", "first_name": "Thandi", "last_name": "Mokoena"}))]
pub struct CustomerUserInput {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub description: Option<String>,
}

/// List a customer's users
///
/// Needs Customer users – View.
#[utoipa::path(get, path = "/customers/{id}/users", tag = "Customer users", params(("id" = i64, Path, description = "The customer's id")),
    responses((status = 200, description = "The customer's users", body = Vec<CustomerUser>), super::Errors))]
pub async fn list_customer_users(ApiPath(id): ApiPath<i64>) -> Result<Json<Vec<CustomerUser>>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersView>()?;
    let mut tx = state.db.begin().await?;
    let users = customer_users::list(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(Json(users.rows.into_iter().map(CustomerUser::from).collect()))
}

/// Add a customer user
///
/// Needs Customer users – Manage and Customer users – View. The person gets an activation
/// e-mail; counts against the plan's customer-user and e-mail limits.
#[utoipa::path(post, path = "/customers/{id}/users", tag = "Customer users", params(("id" = i64, Path, description = "The customer's id")),
    request_body = CustomerUserInput,
    responses((status = 201, description = "Added; the activation e-mail is queued", body = CustomerUser,
               headers(("Location" = String, description = "The new customer user's URL"))), super::Errors))]
pub async fn add_customer_user(ApiPath(customer_id): ApiPath<i64>, ApiJson(input): ApiJson<CustomerUserInput>) -> Result<Response, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let view = staff.allow::<CustomerUsersView>()?;
    let form = CustomerUserForm {
        email: input.email,
        first_name: input.first_name,
        last_name: input.last_name,
        phone: input.phone.unwrap_or_default(),
        description: input.description.unwrap_or_default(),
    };
    let mut errors = FieldErrors::default();
    let fields = form.validate(&mut errors).ok_or(AppError::Validation(errors))?;
    let issued = customer_users::create(&state, &allowed, customer_id, &fields, ActivationMethod::Email).await?;
    let mut tx = state.db.begin().await?;
    let users = customer_users::list(&mut tx, &state, &view, customer_id).await?;
    tx.commit().await?;
    let user = users.rows.into_iter().find(|u| u.email.eq_ignore_ascii_case(&issued.email)).ok_or(AppError::NotFound)?;
    Ok(created(format!("{BASE_PATH}/customer-users/{}", user.id), CustomerUser::from(user)))
}

async fn set_customer_user_enabled(id: i64, enabled: bool) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut tx = state.db.begin().await?;
    customer_users::set_enabled(&mut tx, &state, &allowed, id, enabled).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a customer user
///
/// Needs Customer users – Manage. Their sessions end at once.
#[utoipa::path(post, path = "/customer-users/{id}/disable", tag = "Customer users", params(("id" = i64, Path, description = "The customer user's id")),
    responses((status = 204, description = "Disabled"), super::Errors))]
pub async fn disable_customer_user(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    set_customer_user_enabled(id, false).await
}

/// Enable a customer user
///
/// Needs Customer users – Manage.
#[utoipa::path(post, path = "/customer-users/{id}/enable", tag = "Customer users", params(("id" = i64, Path, description = "The customer user's id")),
    responses((status = 204, description = "Enabled"), super::Errors))]
pub async fn enable_customer_user(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    set_customer_user_enabled(id, true).await
}

/// Delete a customer user
///
/// Needs Customer users – Manage.
#[utoipa::path(delete, path = "/customer-users/{id}", tag = "Customer users", params(("id" = i64, Path, description = "The customer user's id")),
    responses((status = 204, description = "Deleted"), super::Errors))]
pub async fn delete_customer_user(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomerUsersManage>()?;
    let mut tx = state.db.begin().await?;
    customer_users::delete(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Staff users and invitations ----

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub company: String,
    /// `invited`, `active` or `disabled`.
    #[schema(example = "active")]
    pub status: String,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub invitation_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffUserPage {
    pub data: Vec<StaffUser>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserParams {
    /// Words in the name or e-mail address.
    #[param(pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// `active`, `invited` or `disabled` (default: active and invited).
    #[param(pattern = "^[^\\x00]*$")]
    pub status: Option<String>,
    pub role_id: Option<i64>,
    /// That company and the companies below it.
    pub company_id: Option<i64>,
    /// 1-based.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// 10, 25, 50 or 100.
    #[param(schema_with = super::page_sizes)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"emails": ["new.engineer@installer.example"], "role_id": 3, "company_id": 2}))]
pub struct InvitationInput {
    /// Up to the plan's room; each gets an invitation e-mail.
    pub emails: Vec<String>,
    #[serde(deserialize_with = "super::int::i64")]
    pub role_id: i64,
    #[serde(deserialize_with = "super::int::i64")]
    pub company_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    pub invited: i64,
}

fn status_word(status: UserStatus) -> String {
    status.as_str().to_owned()
}

/// List staff users
///
/// Needs Users – View. The users of the key's company and the companies below it.
#[utoipa::path(get, path = "/users", tag = "Users", params(UserParams),
    responses((status = 200, description = "One page of staff users", body = StaffUserPage), super::Errors))]
pub async fn list_users(ApiQuery(params): ApiQuery<UserParams>) -> Result<Json<StaffUserPage>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersView>()?;
    let status = params.status.unwrap_or_default();
    if !matches!(status.as_str(), "" | "active" | "invited" | "disabled") {
        return Err(AppError::field("status", "Use active, invited or disabled.").into());
    }
    let size = params.limit.unwrap_or(25);
    if !crate::ui::PAGE_SIZES.contains(&size) {
        return Err(AppError::field("limit", "Use 10, 25, 50 or 100.").into());
    }
    let page = params.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        return Err(AppError::field("page", "Use a page from 1 to 10,000.").into());
    }
    let query = UserQuery {
        q: params.q.unwrap_or_default(),
        status,
        role: params.role_id,
        company: params.company_id,
        sort: String::new(),
        desc: false,
        page,
        size,
        after: None,
        before: None,
    };
    let mut conn = state.db.acquire().await?;
    let list = people::list(&mut conn, &allowed, &query).await?;
    Ok(Json(StaffUserPage {
        data: list
            .users
            .into_iter()
            .map(|u| StaffUser {
                id: u.id,
                email: u.email,
                display_name: u.display_name,
                role: u.role_name,
                company: u.company_name,
                status: status_word(u.status),
                last_sign_in_at: u.last_sign_in_at,
                invitation_expires_at: u.invitation_expires_at,
            })
            .collect(),
        total: list.total,
        page: list.page,
        page_size: list.page_size,
    }))
}

/// Get a staff user
///
/// Needs Users – View.
#[utoipa::path(get, path = "/users/{id}", tag = "Users", params(("id" = i64, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = StaffUser), super::Errors))]
pub async fn get_user(ApiPath(id): ApiPath<i64>) -> Result<Json<StaffUser>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersView>()?;
    let mut tx = state.db.begin().await?;
    let u = people::detail(&mut tx, &allowed, id).await?;
    tx.commit().await?;
    Ok(Json(StaffUser {
        id: u.id,
        email: u.email,
        display_name: u.display_name,
        role: u.role_name,
        company: u.company_name,
        status: status_word(u.status),
        last_sign_in_at: u.last_sign_in_at,
        invitation_expires_at: u.invitation_expires_at,
    }))
}

async fn membership(id: i64, change: MembershipChange) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut tx = state.db.begin().await?;
    change_membership(&mut tx, &state, &allowed, id, change).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a staff user
///
/// Needs Users – Manage over the user (their company in the key's, a lower rank than the key's
/// creator, and no permission the creator lacks). Their sessions end at once.
#[utoipa::path(post, path = "/users/{id}/disable", tag = "Users", params(("id" = i64, Path, description = "The user's id")),
    responses((status = 204, description = "Disabled"), super::Errors))]
pub async fn disable_user(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    membership(id, MembershipChange::Disable).await
}

/// Enable a staff user
///
/// Needs Users – Manage over the user.
#[utoipa::path(post, path = "/users/{id}/enable", tag = "Users", params(("id" = i64, Path, description = "The user's id")),
    responses((status = 204, description = "Enabled"), super::Errors))]
pub async fn enable_user(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    membership(id, MembershipChange::Enable).await
}

/// Invite staff users
///
/// Needs Users – Manage, and a role and company the key's creator may give. Each address gets
/// an invitation e-mail; the API never returns the links.
#[utoipa::path(post, path = "/invitations", tag = "Users", request_body = InvitationInput,
    responses((status = 202, description = "Invitations queued", body = Invited), super::Errors))]
pub async fn invite(ApiJson(input): ApiJson<InvitationInput>) -> Result<(StatusCode, Json<Invited>), Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let addresses = parse_invitation_addresses(&input.emails.join(",")).map_err(|m| AppError::field("emails", m))?;
    let invited = invitations::invite(&state, &allowed, &addresses, input.company_id, input.role_id).await?;
    Ok((StatusCode::ACCEPTED, Json(Invited { invited: invited as i64 })))
}

/// Withdraw an invitation
///
/// Needs Users – Manage over the invited user. The link stops working.
#[utoipa::path(delete, path = "/invitations/{id}", tag = "Users", params(("id" = i64, Path, description = "The invited user's id")),
    responses((status = 204, description = "Withdrawn"), super::Errors))]
pub async fn revoke_invitation(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<UsersManage>()?;
    let mut tx = state.db.begin().await?;
    invitations::revoke(&mut tx, &state, &allowed, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
