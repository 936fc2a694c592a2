//! Customers as a customer user reaches them in the portal: their own customer's profile and
//! the customers below it. The same insert and update as the staff's; a title the account
//! already has gets a number ("Acme (2)") instead of a refusal, so a portal user never learns
//! which titles the provider's other customers have.

use super::{free_title, insert, update_row, NewCustomer};
use crate::{
    customers::{AddedSubCustomer, CustomerFields, CustomerForm, PortalCustomerProfile, PortalSubCustomer, PortalSubCustomerList},
    error::AppError,
    permissions::feature::{EditCustomerProfile, ManageSubCustomers},
    server::{
        capability::{PortalAllowed, PortalUser},
        state::AppState,
    },
    services::audit::{Action, Actor, Record},
};
use sqlx::{Acquire, PgConnection};

/// How often a title collision with a concurrent request is retried with the next number.
const TITLE_ATTEMPTS: usize = 5;

/// The user's customer and every customer below it, with titles, the customer first.
pub async fn subtree(conn: &mut PgConnection, portal: &PortalUser) -> Result<Vec<(i64, String)>, AppError> {
    let rows = sqlx::query!(
        r#"WITH RECURSIVE tree AS (
               SELECT id, title, 0 AS depth FROM customers WHERE account_id = $1 AND id = $2
               UNION ALL
               SELECT c.id, c.title, t.depth + 1 FROM customers c JOIN tree t ON c.parent_id = t.id
                WHERE c.account_id = $1 AND t.depth < 50
           )
           SELECT id AS "id!", title AS "title!" FROM tree ORDER BY depth, lower(title)"#,
        portal.account_id(),
        portal.customer_id()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title)).collect())
}

pub async fn profile(conn: &mut PgConnection, allowed: &PortalAllowed<'_, EditCustomerProfile>) -> Result<PortalCustomerProfile, AppError> {
    let c = sqlx::query!(
        "SELECT title, company_name, email, phone, country, state, city, address, address2, zip, description, version
           FROM customers WHERE account_id = $1 AND id = $2",
        allowed.account_id(),
        allowed.customer_id()
    )
    .fetch_one(conn)
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
pub async fn update_profile(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &PortalAllowed<'_, EditCustomerProfile>,
    version: i32,
    fields: &CustomerFields,
) -> Result<i32, AppError> {
    let (account_id, id) = (allowed.account_id(), allowed.customer_id());
    let now = state.clock.now();
    let current = sqlx::query!("SELECT title, version FROM customers WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE", account_id, id)
        .fetch_one(&mut *conn)
        .await?;
    if current.version != version {
        return Err(AppError::Conflict);
    }
    let keeps_title = current.title.to_lowercase() == fields.title.to_lowercase();
    let mut attempt = 0;
    let (new_version, changes) = loop {
        let title = if keeps_title { fields.title.clone() } else { free_title(&mut *conn, account_id, &fields.title, attempt).await? };
        let mut savepoint = conn.begin().await?;
        match update_row(&mut savepoint, account_id, id, fields, &title, None, now).await {
            Ok(done) => {
                savepoint.commit().await?;
                break done;
            }
            Err(AppError::Validation(_)) if !keeps_title && attempt < TITLE_ATTEMPTS => {
                savepoint.rollback().await?;
                attempt += 1;
            }
            Err(other) => return Err(other),
        }
    };
    Actor::portal(allowed.portal(), now).audit(conn, Action::CustomerUpdated, Record::customer(id), changes).await?;
    Ok(new_version)
}

pub async fn sub_customers(conn: &mut PgConnection, allowed: &PortalAllowed<'_, ManageSubCustomers>) -> Result<PortalSubCustomerList, AppError> {
    let parents = subtree(&mut *conn, allowed.portal()).await?;
    let below: Vec<i64> = parents.iter().map(|(id, _)| *id).filter(|id| *id != allowed.customer_id()).collect();
    let rows = sqlx::query!(
        "SELECT c.id, c.title, p.title AS parent, c.city
           FROM customers c JOIN customers p ON p.account_id = c.account_id AND p.id = c.parent_id
          WHERE c.account_id = $1 AND c.id = ANY($2)
          ORDER BY lower(c.title)",
        allowed.account_id(),
        &below
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| PortalSubCustomer { id: r.id, title: r.title, parent: r.parent, city: r.city })
    .collect();
    Ok(PortalSubCustomerList { rows, parents })
}

/// Adds a sub-customer under the user's customer or one below it; it gets its parent's owner
/// company and its parent's customer type.
pub async fn add_sub_customer(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &PortalAllowed<'_, ManageSubCustomers>,
    parent_id: i64,
    fields: &CustomerFields,
) -> Result<AddedSubCustomer, AppError> {
    let account_id = allowed.account_id();
    let (parent_id, parent_title) =
        subtree(&mut *conn, allowed.portal()).await?.into_iter().find(|(id, _)| *id == parent_id).ok_or(AppError::NotFound)?;
    let parent = sqlx::query!("SELECT customer_type_id, owner_company_id FROM customers WHERE account_id = $1 AND id = $2", account_id, parent_id)
        .fetch_one(&mut *conn)
        .await?;
    let now = state.clock.now();
    // Another request may take the same title at the same moment: try the next free one.
    let mut attempt = 0;
    let (id, title) = loop {
        let title = free_title(&mut *conn, account_id, &fields.title, attempt).await?;
        let new = NewCustomer {
            fields,
            title: &title,
            customer_type_id: parent.customer_type_id,
            owner_company_id: parent.owner_company_id,
            parent_id: Some(parent_id),
        };
        let mut savepoint = conn.begin().await?;
        match insert(&mut savepoint, account_id, &new, now).await {
            Ok(id) => {
                savepoint.commit().await?;
                break (id, title);
            }
            Err(AppError::Validation(_)) if attempt < TITLE_ATTEMPTS => {
                savepoint.rollback().await?;
                attempt += 1;
            }
            // The plan is the provider's business: a portal user hears only that there is no room.
            Err(other) => return Err(other.for_portal()),
        }
    };
    Actor::portal(allowed.portal(), now)
        .audit(conn, Action::CustomerCreated, Record::customer(id), serde_json::json!({ "title": title, "parent": parent_title }))
        .await?;
    Ok(AddedSubCustomer { id, title })
}
