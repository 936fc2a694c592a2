//! Customer groups (SPEC 4.5): the built-in "All" that every customer is in, and named groups a
//! customer may belong to any number of. Membership is edited from a customer's Groups tab and
//! by the list's bulk action.

use crate::{
    error::AppError,
    ui::{action_error, on_success, server_field, Dialog, FormAlert, PageHeader, SubmitButton, TextField},
    validation::required_text,
};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

pub const GROUP_NAME_MAX_CHARS: usize = 60;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub member_count: i64,
    pub version: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupList {
    /// Every customer of the account: the members of "All".
    pub all_count: i64,
    pub groups: Vec<GroupView>,
    pub can_manage: bool,
}

#[cfg(feature = "ssr")]
const NAME_TAKEN: crate::server::errors::Unique = crate::server::errors::Unique {
    constraint: "customer_groups_name_key",
    field: "name",
    message: "A group with this name already exists.",
};

#[server(prefix = "/api", endpoint = "customer_groups")]
pub async fn list_groups() -> Result<GroupList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersView)?;
    let all_count = sqlx::query_scalar!("SELECT customer_count FROM accounts WHERE id = $1", staff.account_id)
        .fetch_one(&state.db)
        .await?;
    let groups = sqlx::query_as!(
        GroupView,
        "SELECT id, name, member_count, version FROM customer_groups WHERE account_id = $1 ORDER BY lower(name)",
        staff.account_id
    )
    .fetch_all(&state.db)
    .await?;
    Ok(GroupList { all_count, groups, can_manage: staff.user.permissions.contains(&Permission::CustomersEdit) })
}

/// Creates a group (`id` empty) or renames one.
#[server(prefix = "/api", endpoint = "save_customer_group")]
pub async fn save_group(id: Option<i64>, name: String, version: Option<i32>) -> Result<i64, AppError> {
    use crate::{audit::ssr::{self as audit, Changes}, auth::ssr::sessions::require_staff, permissions::Permission, server::{errors::db_error, state::app_state}};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let name = required_text(&name, "a group name", GROUP_NAME_MAX_CHARS).map_err(|m| AppError::field("name", m))?;
    if name.eq_ignore_ascii_case("all") {
        return Err(AppError::field("name", "“All” is the built-in group of every customer; choose another name."));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (group_id, action, changes) = match id {
        None => {
            let group_id = sqlx::query_scalar!(
                "INSERT INTO customer_groups (account_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
                staff.account_id,
                name,
                now
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (group_id, "customer_group.created", serde_json::json!({ "name": name }))
        }
        Some(id) => {
            let before = sqlx::query!(
                "SELECT name, version FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE",
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
                "UPDATE customer_groups SET name = $3, version = version + 1 WHERE account_id = $1 AND id = $2",
                staff.account_id,
                id,
                name
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error(e, &[NAME_TAKEN]))?;
            (id, "customer_group.renamed", Changes::default().field("name", &before.name, &name).into_value())
        }
    };
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action,
            record_type: "customer_group",
            record_id: Some(group_id),
            changes,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(group_id)
}

/// Deletes a group; its customers stay, they just leave the group.
#[server(prefix = "/api", endpoint = "delete_customer_group")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    use crate::{audit::ssr as audit, auth::ssr::sessions::require_staff, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::CustomersEdit)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    sqlx::query_scalar!("SELECT id FROM customer_groups WHERE account_id = $1 AND id = $2 FOR UPDATE", staff.account_id, id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    // Deleting a group takes it from every member: members outside the caller's companies are
    // not theirs to change (Administrators act on the whole account).
    if let Some(scope) = crate::customers::ssr::scope_companies(&mut tx, &staff).await? {
        let outside = sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM customers
                WHERE account_id = $1 AND group_ids @> ARRAY[$2::bigint] AND NOT owner_company_id = ANY($3)"#,
            staff.account_id,
            id,
            &scope
        )
        .fetch_one(&mut *tx)
        .await?;
        if outside > 0 {
            return Err(AppError::Refused(format!(
                "{outside} {} in this group {} to companies you do not manage, so you cannot delete it. Ask an Administrator.",
                if outside == 1 { "customer" } else { "customers" },
                if outside == 1 { "belongs" } else { "belong" },
            )));
        }
    }
    let name = sqlx::query_scalar!(
        "DELETE FROM customer_groups WHERE account_id = $1 AND id = $2 RETURNING name",
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE customers SET group_ids = array_remove(group_ids, $2), version = version + 1
          WHERE account_id = $1 AND group_ids @> ARRAY[$2::bigint]",
        staff.account_id,
        id
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "customer_group.deleted",
            record_type: "customer_group",
            record_id: Some(id),
            changes: serde_json::json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[component]
pub fn CustomerGroupsPage() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let groups = Resource::new(move || refresh.get(), |_| list_groups());
    let save = ServerAction::<SaveGroup>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let editing = RwSignal::new(None::<GroupView>);
    let edit_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let done = move || {
        edit_open.set(false);
        delete_open.set(false);
        refresh.update(|n| *n += 1);
    };
    on_success(save.value(), move |_: &i64| done());
    on_success(delete.value(), move |_: &()| done());
    let open_edit = move |group: Option<GroupView>| {
        editing.set(group);
        edit_open.set(true);
    };
    view! {
        <Title text="Customer groups"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Err(e) => view! { <PageHeader title="Customer groups"/><div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(list) => {
                        let can_manage = list.can_manage;
                        view! {
                            <PageHeader title="Customer groups" description="Every customer is in All; named groups gather customers you want to look at together.">
                                {can_manage.then(|| view! {
                                    <button type="button" class="btn btn-primary" on:click=move |_| open_edit(None)>"New group"</button>
                                })}
                            </PageHeader>
                            <section class="card card-flush">
                                <table class="table">
                                    <caption class="visually-hidden">"Customer groups"</caption>
                                    <thead><tr>
                                        <th scope="col">"Group"</th><th scope="col">"Customers"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr></thead>
                                    <tbody>
                                        <tr>
                                            <th scope="row">"All"<span class="badge badge-neutral badge-inline">"Built-in"</span></th>
                                            <td><a href="/customers">{list.all_count}</a></td>
                                            <td></td>
                                        </tr>
                                        {list.groups.into_iter().map(|g| {
                                            let (for_edit, for_delete) = (g.clone(), g.clone());
                                            let name = g.name.clone();
                                            view! {
                                                <tr>
                                                    <th scope="row">{g.name.clone()}</th>
                                                    <td><a href=format!("/customers?group={}", g.id)>{g.member_count}</a></td>
                                                    <td>{can_manage.then(|| view! {
                                                        <div class="row-actions">
                                                            <button type="button" class="btn btn-ghost btn-small" on:click=move |_| open_edit(Some(for_edit.clone()))>
                                                                "Rename"<span class="visually-hidden">{format!(" {name}")}</span>
                                                            </button>
                                                            <button type="button" class="btn btn-ghost btn-small btn-ghost-danger"
                                                                on:click=move |_| { editing.set(Some(for_delete.clone())); delete_open.set(true); }>
                                                                "Delete"<span class="visually-hidden">{format!(" {}", g.name)}</span>
                                                            </button>
                                                        </div>
                                                    })}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Dialog id="edit-group" open=edit_open
            title=Signal::derive(move || editing.get().map(|g| format!("Rename {}", g.name)).unwrap_or_else(|| "New group".into()))>
            {move || {
                save.clear();
                let current = editing.get();
                let name = RwSignal::new(current.as_ref().map(|g| g.name.clone()).unwrap_or_default());
                let value = save.value();
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=save attr:class="form" attr:novalidate=true>
                        {current.map(|g| view! {
                            <input type="hidden" name="id" value=g.id/>
                            <input type="hidden" name="version" value=g.version/>
                        })}
                        <TextField label="Group name" name="name" value=name
                            rule=Signal::derive(move || required_text(&name.get(), "a group name", GROUP_NAME_MAX_CHARS).err())
                            server_error=server_field(value, "name") required=true/>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| edit_open.set(false)>"Cancel"</button>
                            <SubmitButton label="Save group" pending=save.pending()/>
                        </div>
                    </ActionForm>
                }
            }}
        </Dialog>
        <Dialog id="delete-group" open=delete_open
            title=Signal::derive(move || format!("Delete the group {}?", editing.get().map(|g| g.name).unwrap_or_default()))>
            {move || editing.get().map(|g| {
                delete.clear();
                view! {
                    <FormAlert error=action_error(delete.value())/>
                    <p>{format!("Its {} customers stay; they only leave the group.", g.member_count)}</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=g.id/>
                        <div class="dialog-actions">
                            <button type="button" class="btn btn-secondary" on:click=move |_| delete_open.set(false)>"Cancel"</button>
                            <SubmitButton label="Delete group" pending=delete.pending() class="btn btn-danger"/>
                        </div>
                    </ActionForm>
                }
            })}
        </Dialog>
    }
}
