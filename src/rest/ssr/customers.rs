//! `/customers`: the list with the UI's search, filters, sort and cursors; one customer; create,
//! update (with its version), delete and bulk delete. Each handler asks for the capability the
//! server function asks for and calls the same `customers::ssr` function.

use super::{problem::Problem, ApiJson, ApiPath, ApiQuery};
use crate::{
    customers::{
        ssr::{customer_in_scope, detail, list::list as list_page, writes},
        BulkResult, CustomerDetail, CustomerForm, CustomerList, CustomerQuery, SortKey, Total,
    },
    error::{AppError, FieldErrors},
    permissions::grant::{CustomersCreate, CustomersDelete, CustomersEdit, CustomersView},
    server::{capability::require_staff, state::app_state},
    ui::PAGE_SIZES,
};
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};

/// The order of the list.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Title,
    Created,
    Email,
    Country,
    City,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to find in the title, company name, e-mail, phone and address.
    #[param(pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// Only customers of this type.
    pub customer_type_id: Option<i64>,
    /// Only members of this group.
    pub group_id: Option<i64>,
    /// Only customers of this company and the companies below it.
    pub owner_company_id: Option<i64>,
    /// Only the direct sub-customers of this customer.
    pub parent_id: Option<i64>,
    pub sort: Option<SortBy>,
    /// Descending order.
    pub desc: Option<bool>,
    #[param(schema_with = super::page_sizes)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[^\\x00]*$")]
    pub after: Option<String>,
    /// The `previous_cursor` of the next page.
    #[param(pattern = "^[^\\x00]*$")]
    pub before: Option<String>,
}

/// A customer as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "Solar Farm North")]
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    /// The customer type's name.
    pub customer_type: String,
    pub created_at: DateTime<Utc>,
}

/// How many customers match: `exact`, `at_least` (past the counting cap) or `about` (an
/// estimate for a large unfiltered list).
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchCount {
    #[schema(example = "exact")]
    pub kind: String,
    #[schema(example = 137)]
    pub value: i64,
}

/// One page of customers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub data: Vec<CustomerSummary>,
    pub total: MatchCount,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Pass as `before` for the previous page; absent on the first page.
    pub previous_cursor: Option<String>,
}

/// A company or type named by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// The parent of a sub-customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParentRef {
    pub id: i64,
    pub title: String,
}

/// One customer, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    #[schema(example = 42)]
    pub id: i64,
    #[schema(example = "Solar Farm North")]
    pub title: String,
    pub company_name: Option<String>,
    pub email: Option<String>,
    /// E.164, such as +27821234567.
    pub phone: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub address2: Option<String>,
    pub zip: Option<String>,
    pub description: Option<String>,
    pub customer_type: Named,
    pub owner_company: Named,
    pub parent: Option<ParentRef>,
    pub group_ids: Vec<i64>,
    pub sub_customers: i64,
    pub customer_users: i64,
    pub created_at: DateTime<Utc>,
    /// Send it back with an update; a stale one is answered 409.
    #[schema(example = 1)]
    pub version: i32,
}

/// A customer's fields for create and update. Absent optional fields are empty.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Solar Farm North", "email": "ops@solarfarm.example", "city": "Cape Town",
                          "customer_type_id": 1, "owner_company_id": 1}))]
pub struct CustomerInput {
    /// Unique in the account.
    #[schema(min_length = 1, max_length = 120, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub title: String,
    #[schema(max_length = 120, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub company_name: Option<String>,
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    /// International form, such as +27 82 123 4567.
    #[schema(max_length = 24, pattern = "^\\+[1-9][0-9]{7,14}$")]
    pub phone: Option<String>,
    #[schema(max_length = 60, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub country: Option<String>,
    #[schema(max_length = 60, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub state: Option<String>,
    #[schema(max_length = 60, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub city: Option<String>,
    #[schema(max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub address: Option<String>,
    #[schema(max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub address2: Option<String>,
    #[schema(max_length = 20, pattern = "^[A-Za-z0-9 -]*$")]
    pub zip: Option<String>,
    #[schema(max_length = 1000, pattern = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$")]
    pub description: Option<String>,
    #[serde(deserialize_with = "super::int::i64")]
    pub customer_type_id: i64,
    #[serde(deserialize_with = "super::int::i64")]
    pub owner_company_id: i64,
    /// Makes it a sub-customer of this customer.
    #[serde(default, deserialize_with = "super::int::option")]
    pub parent_id: Option<i64>,
}

/// An update: every field (absent optional fields are cleared) and the version read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerUpdate {
    #[serde(flatten)]
    pub customer: CustomerInput,
    #[schema(example = 1)]
    #[serde(deserialize_with = "super::int::i32")]
    pub version: i32,
}

/// Customers to delete together, all or nothing.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkDelete {
    #[schema(example = json!([42, 43]))]
    #[serde(deserialize_with = "super::int::list")]
    pub ids: Vec<i64>,
}

/// What a bulk change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOutcome {
    #[schema(example = "2 customers deleted.")]
    pub message: String,
}

impl ListParams {
    fn into_query(self) -> Result<CustomerQuery, AppError> {
        let size = self.limit.unwrap_or(25);
        if !PAGE_SIZES.contains(&size) {
            return Err(AppError::field("limit", "Use 10, 25, 50 or 100."));
        }
        let sort = match self.sort.unwrap_or_default() {
            SortBy::Title => SortKey::Title,
            SortBy::Created => SortKey::Created,
            SortBy::Email => SortKey::Email,
            SortBy::Country => SortKey::Country,
            SortBy::City => SortKey::City,
        };
        Ok(CustomerQuery {
            q: self.q.unwrap_or_default(),
            customer_type: self.customer_type_id,
            group: self.group_id,
            owner: self.owner_company_id,
            parent: self.parent_id,
            sort,
            desc: self.desc.unwrap_or(false),
            size: Some(size),
            page: 1,
            after: self.after,
            before: self.before,
            last: false,
        })
    }
}

impl From<CustomerList> for CustomerPage {
    fn from(list: CustomerList) -> Self {
        let total = match list.total {
            Total::Exact(v) => MatchCount { kind: "exact".into(), value: v },
            Total::AtLeast(v) => MatchCount { kind: "at_least".into(), value: v },
            Total::About(v) => MatchCount { kind: "about".into(), value: v },
        };
        CustomerPage {
            data: list
                .rows
                .into_iter()
                .map(|r| CustomerSummary {
                    id: r.id,
                    title: r.title,
                    company_name: r.company_name,
                    email: r.email,
                    country: r.country,
                    city: r.city,
                    customer_type: r.type_name,
                    created_at: r.created_at,
                })
                .collect(),
            total,
            next_cursor: list.next,
            previous_cursor: list.previous,
        }
    }
}

impl From<CustomerDetail> for Customer {
    fn from(c: CustomerDetail) -> Self {
        Customer {
            id: c.id,
            title: c.title,
            company_name: c.company_name,
            email: c.email,
            phone: c.phone,
            country: c.country,
            state: c.state,
            city: c.city,
            address: c.address,
            address2: c.address2,
            zip: c.zip,
            description: c.description,
            customer_type: Named { id: c.customer_type_id, name: c.type_name },
            owner_company: Named { id: c.owner_company_id, name: c.owner_company },
            parent: c.parent.map(|(id, title)| ParentRef { id, title }),
            group_ids: c.group_ids,
            sub_customers: c.sub_customers,
            customer_users: c.customer_users,
            created_at: c.created_at,
            version: c.version,
        }
    }
}

impl CustomerInput {
    /// The fields validated by the form's own rules.
    fn fields(&self) -> Result<crate::customers::CustomerFields, AppError> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let form = CustomerForm {
            title: self.title.clone(),
            company_name: text(&self.company_name),
            email: text(&self.email),
            phone: text(&self.phone),
            country: text(&self.country),
            state: text(&self.state),
            city: text(&self.city),
            address: text(&self.address),
            address2: text(&self.address2),
            zip: text(&self.zip),
            description: text(&self.description),
        };
        let mut errors = FieldErrors::default();
        form.validate(&mut errors).ok_or(AppError::Validation(errors))
    }

    /// The parent's title, which is how the customer functions name a parent; a parent the
    /// caller cannot see is a field error, like a title typed in the form that matches nothing.
    async fn parent_title(&self, conn: &mut PgConnection, staff: &crate::server::capability::Staff) -> Result<String, AppError> {
        match self.parent_id {
            None => Ok(String::new()),
            Some(id) => match customer_in_scope(conn, staff, id).await {
                Ok(parent) => Ok(parent.title().to_owned()),
                Err(AppError::NotFound) => Err(AppError::field("parent_id", "Choose a parent customer you can see.")),
                Err(other) => Err(other),
            },
        }
    }
}

/// Renames the customer form's field names to this API's property names.
fn api_fields(error: AppError) -> AppError {
    match error {
        AppError::Validation(FieldErrors(errors)) => AppError::Validation(FieldErrors(
            errors
                .into_iter()
                .map(|mut e| {
                    if e.field == crate::customers::PARENT {
                        e.field = "parent_id".into();
                    }
                    e
                })
                .collect(),
        )),
        other => other,
    }
}

/// List customers
///
/// Needs Customers – View. Pages by cursor: follow `next_cursor` with `after`.
#[utoipa::path(get, path = "/customers", tag = "Customers", params(ListParams),
    responses((status = 200, description = "One page of customers", body = CustomerPage), super::Errors))]
pub async fn list(ApiQuery(params): ApiQuery<ListParams>) -> Result<Json<CustomerPage>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let query = params.into_query()?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(list_page(&mut conn, &allowed, &query).await?.into()))
}

/// Get a customer
///
/// Needs Customers – View. A customer of another account or outside the key's company is 404.
#[utoipa::path(get, path = "/customers/{id}", tag = "Customers", params(("id" = i64, Path, description = "The customer's id")),
    responses((status = 200, description = "The customer", body = Customer), super::Errors))]
pub async fn get(ApiPath(id): ApiPath<i64>) -> Result<Json<Customer>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersView>()?;
    let mut tx = state.db.begin().await?;
    let customer = detail(&mut tx, &allowed, id).await?;
    tx.commit().await?;
    Ok(Json(customer.into()))
}

/// Create a customer
///
/// Needs Customers – Create and Customers – View. Counts against the plan's customer limit.
#[utoipa::path(post, path = "/customers", tag = "Customers", request_body = CustomerInput,
    responses((status = 201, description = "Created; `Location` names it", body = Customer,
               headers(("Location" = String, description = "The new customer's URL"))), super::Errors))]
pub async fn create(ApiJson(input): ApiJson<CustomerInput>) -> Result<Response, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersCreate>()?;
    let view = staff.allow::<CustomersView>()?;
    let fields = input.fields()?;
    let mut tx = state.db.begin().await?;
    let parent = input.parent_title(&mut tx, &staff).await?;
    let id = writes::create(&mut tx, &state, &allowed, &fields, input.customer_type_id, input.owner_company_id, &parent)
        .await
        .map_err(api_fields)?;
    let customer = detail(&mut tx, &view, id).await?;
    tx.commit().await?;
    let location = format!("{}/customers/{id}", crate::rest::BASE_PATH);
    let mut res = (StatusCode::CREATED, Json(Customer::from(customer))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    Ok(res)
}

/// Update a customer
///
/// Needs Customers – Edit and Customers – View. Send every field and the `version` you read;
/// if someone changed the customer since, the answer is 409 and nothing changes.
#[utoipa::path(put, path = "/customers/{id}", tag = "Customers", params(("id" = i64, Path, description = "The customer's id")),
    request_body = CustomerUpdate,
    responses((status = 200, description = "The updated customer", body = Customer), super::Errors))]
pub async fn update(ApiPath(id): ApiPath<i64>, ApiJson(input): ApiJson<CustomerUpdate>) -> Result<Json<Customer>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersEdit>()?;
    let view = staff.allow::<CustomersView>()?;
    let fields = input.customer.fields()?;
    let mut tx = state.db.begin().await?;
    let parent = input.customer.parent_title(&mut tx, &staff).await?;
    let placement = writes::Placement {
        type_id: input.customer.customer_type_id,
        owner_id: input.customer.owner_company_id,
        parent_title: &parent,
    };
    writes::update(&mut tx, &state, &allowed, id, input.version, &fields, placement).await.map_err(api_fields)?;
    let customer = detail(&mut tx, &view, id).await?;
    tx.commit().await?;
    Ok(Json(customer.into()))
}

/// Delete a customer
///
/// Needs Customers – Delete. Its sub-customers and customer users go with it.
#[utoipa::path(delete, path = "/customers/{id}", tag = "Customers", params(("id" = i64, Path, description = "The customer's id")),
    responses((status = 204, description = "Deleted"), super::Errors))]
pub async fn delete(ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersDelete>()?;
    let mut tx = state.db.begin().await?;
    writes::delete_customers(&mut tx, &state, &allowed, &[id]).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete customers
///
/// Needs Customers – Delete. All or nothing: one id of another account or outside the key's
/// company makes the whole request 404.
#[utoipa::path(post, path = "/customers/bulk-delete", tag = "Customers", request_body = BulkDelete,
    responses((status = 200, description = "Deleted", body = BulkOutcome), super::Errors))]
pub async fn bulk_delete(ApiJson(input): ApiJson<BulkDelete>) -> Result<Json<BulkOutcome>, Problem> {
    let state = app_state()?;
    let staff = require_staff().await?;
    let allowed = staff.allow::<CustomersDelete>()?;
    if input.ids.is_empty() || input.ids.len() > 1000 {
        return Err(AppError::field("ids", "Send 1 to 1,000 ids.").into());
    }
    let mut tx = state.db.begin().await?;
    let BulkResult { message } = writes::delete_customers(&mut tx, &state, &allowed, &input.ids).await?;
    tx.commit().await?;
    Ok(Json(BulkOutcome { message }))
}
