//! Customer types (SPEC 4.1): permission sets from the customer-feature catalogue. One of them
//! is the default for new customers; a type in use cannot be deleted.

mod page;

pub use page::{CustomerTypeEditorPage, CustomerTypesPage};

use crate::{
    error::{AppError, FieldErrors},
    permissions::CustomerFeature,
    validation::{optional_long_text, required_text, DESCRIPTION_MAX_CHARS},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const TYPE_NAME_MAX_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerTypeView {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub features: Vec<CustomerFeature>,
    pub is_default: bool,
    pub customer_count: i64,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomerTypeList {
    pub types: Vec<CustomerTypeView>,
    pub can_manage: bool,
}

#[derive(Debug)]
pub struct CustomerTypeInput {
    pub name: String,
    pub description: Option<String>,
    pub features: Vec<CustomerFeature>,
}

pub fn validate_customer_type(name: &str, description: &str, features: &[String]) -> Result<CustomerTypeInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.take("name", required_text(name, "a name", TYPE_NAME_MAX_CHARS));
    let description = errors.take("description", optional_long_text(description, DESCRIPTION_MAX_CHARS));
    let mut chosen = Vec::new();
    for key in features {
        match CustomerFeature::from_key(key) {
            Some(feature) => chosen.push(feature),
            None => errors.add("features", "Choose permissions from the list."),
        }
    }
    chosen.sort();
    chosen.dedup();
    match (name, description) {
        (Some(name), Some(description)) if errors.is_empty() => Ok(CustomerTypeInput { name, description, features: chosen }),
        _ => Err(errors),
    }
}

#[server(prefix = "/api", endpoint = "customer_types")]
pub async fn list_customer_types() -> Result<CustomerTypeList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerTypesView)?;
    let types = sqlx::query!(
        r#"SELECT t.id, t.name, t.description, t.features, t.is_default, t.version,
                  (SELECT count(*) FROM customers c WHERE c.account_id = t.account_id AND c.customer_type_id = t.id) AS "customers!"
             FROM customer_types t WHERE t.account_id = $1 ORDER BY t.is_default DESC, lower(t.name)"#,
        staff.account_id
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|r| CustomerTypeView {
        id: r.id,
        name: r.name,
        description: r.description,
        features: r.features.iter().filter_map(|k| CustomerFeature::from_key(k)).collect(),
        is_default: r.is_default,
        customer_count: r.customers,
        version: r.version,
    })
    .collect();
    Ok(CustomerTypeList { types, can_manage: staff.user.permissions.contains(&Permission::CustomerTypesManage) })
}

/// Creates a type (`id` empty) or changes one; `make_default` moves the default to it.
#[server(prefix = "/api", endpoint = "save_customer_type")]
pub async fn save_customer_type(
    id: Option<i64>,
    name: String,
    #[server(default)] description: String,
    #[server(default)] features: Vec<String>,
    #[server(default)] make_default: Option<String>,
    version: Option<i32>,
) -> Result<i64, AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::sessions::require_staff,
        permissions::Permission,
        server::{errors::{db_error, Unique}, state::app_state},
    };
    const NAME_TAKEN: Unique =
        Unique { constraint: "customer_types_name_key", field: "name", message: "A customer type with this name already exists." };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerTypesManage)?;
    let input = validate_customer_type(&name, &description, &features).map_err(AppError::Validation)?;
    let keys: Vec<String> = input.features.iter().map(|f| f.key().to_owned()).collect();
    let make_default = make_default.is_some();
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (type_id, action, changes) = match id {
        None => {
            let type_id = sqlx::query_scalar!(
                "INSERT INTO customer_types (account_id, name, description, features, created_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                staff.account_id,
                input.name,
                input.description,
                &keys,
                now
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (type_id, "customer_type.created", serde_json::json!({ "name": input.name, "features": keys }))
        }
        Some(id) => {
            let before = sqlx::query!(
                "SELECT name, description, features, version FROM customer_types WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE",
                staff.account_id,
                id
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AppError::NotFound)?;
            if Some(before.version) != version {
                return Err(AppError::Conflict);
            }
            sqlx::query!(
                "UPDATE customer_types SET name = $3, description = $4, features = $5, version = version + 1
                  WHERE account_id = $1 AND id = $2",
                staff.account_id,
                id,
                input.name,
                input.description,
                &keys
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            let changes = Changes::default()
                .field("name", &before.name, &input.name)
                .field("description", &before.description, &input.description)
                .field("features", &before.features, &keys)
                .into_value();
            (id, "customer_type.updated", changes)
        }
    };
    if make_default {
        sqlx::query!(
            "UPDATE customer_types SET is_default = (id = $2) WHERE account_id = $1 AND (is_default OR id = $2)",
            staff.account_id,
            type_id
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action,
            record_type: "customer_type",
            record_id: Some(type_id),
            changes,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(type_id)
}

#[server(prefix = "/api", endpoint = "delete_customer_type")]
pub async fn delete_customer_type(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomerTypesManage)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let row = sqlx::query!(
        "SELECT name, is_default FROM customer_types WHERE account_id = $1 AND id = $2 FOR UPDATE",
        staff.account_id,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if row.is_default {
        return Err(AppError::Refused(format!("{} is the default type. Make another type the default first.", row.name)));
    }
    let in_use = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM customers WHERE account_id = $1 AND customer_type_id = $2"#,
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if in_use > 0 {
        return Err(AppError::Refused(format!(
            "{} {} the type {}. Give {} another type first.",
            in_use,
            if in_use == 1 { "customer has" } else { "customers have" },
            row.name,
            if in_use == 1 { "it" } else { "them" }
        )));
    }
    sqlx::query!("DELETE FROM customer_types WHERE account_id = $1 AND id = $2", staff.account_id, id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_type.deleted",
            record_type: "customer_type",
            record_id: Some(id),
            changes: serde_json::json!({ "name": row.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_takes_features_only_from_the_catalogue() {
        let ok = validate_customer_type("Installer plus", "", &["add_gateway".into(), "create_plant".into(), "add_gateway".into()]).unwrap();
        assert_eq!(ok.features, [CustomerFeature::CreatePlant, CustomerFeature::AddGateway]);
        assert!(validate_customer_type("X", "", &["fly".into()]).unwrap_err().get("features").is_some());
        assert!(validate_customer_type("", "", &[]).unwrap_err().get("name").is_some());
    }
}
