//! The roles list and the custom-role editor.

use super::{list_roles, DeleteRole, RoleList, RoleView, SaveRole, NAME, PERMISSIONS, RANK};
use crate::{
    permissions::{Module, Permission},
    ui::{DialogActions, action_error, on_success, rule_of, server_field, Dialog, FormAlert, PageHeader, SubmitButton, TextField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

fn summary(role: &RoleView) -> String {
    if role.permissions.len() == Permission::ALL.len() {
        return "Everything".into();
    }
    let modules: Vec<&str> = Module::ALL
        .iter()
        .filter(|m| m.permissions().iter().any(|p| role.permissions.contains(p)))
        .map(|m| m.label())
        .collect();
    if modules.is_empty() { "Nothing yet".into() } else { modules.join(", ") }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let roles = Resource::new(move || refresh.get(), |_| list_roles());
    let delete = ServerAction::<DeleteRole>::new();
    let deleting = RwSignal::new(None::<RoleView>);
    let confirm_open = RwSignal::new(false);
    on_success(delete.value(), move |_| {
        confirm_open.set(false);
        refresh.update(|n| *n += 1);
    });
    view! {
        <Title text="Roles"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    Ok(list) => view! { <RoleTable list deleting confirm_open/> }.into_any(),
                }
            })}
        </Transition>
        <Dialog id="delete-role" open=confirm_open
            title=Signal::derive(move || format!("Delete the {} role?", deleting.get().map(|r| r.name).unwrap_or_default()))>
            {move || deleting.get().map(|role| {
                delete.clear();
                view! {
                    <FormAlert error=action_error(delete.value())/>
                    <p>"The role is deleted for good. People must have another role before it can go."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=role.id/>
                        <DialogActions open=confirm_open label="Delete role" pending=delete.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </Dialog>
    }
}

#[component]
fn RoleTable(list: RoleList, deleting: RwSignal<Option<RoleView>>, confirm_open: RwSignal<bool>) -> impl IntoView {
    let can_manage = list.can_manage;
    view! {
        <PageHeader title="Roles" description="What each role may do. A lower rank means more authority; people give only roles at or below their own rank.">
            {can_manage.then(|| view! { <a class="btn btn-primary" href="/roles/new">"New role"</a> })}
        </PageHeader>
        <section class="card card-flush">
            <table class="table">
                <caption class="visually-hidden">"Roles"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Rank"</th>
                        <th scope="col">"Modules"</th>
                        <th scope="col">"People"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.roles.into_iter().map(|role| {
                        let modules = summary(&role);
                        let people = format!("/users?role={}", role.id);
                        let editable = role.editable;
                        let (id, name) = (role.id, role.name.clone());
                        let for_delete = role.clone();
                        view! {
                            <tr>
                                <th scope="row">
                                    {role.name.clone()}
                                    {role.builtin.then(|| view! { <span class="badge badge-neutral badge-inline">"Built-in"</span> })}
                                </th>
                                <td>{role.rank}</td>
                                <td>{modules}</td>
                                <td><a href=people>{role.user_count}</a></td>
                                <td>
                                    <div class="row-actions">
                                        <a class="btn btn-ghost btn-small" href=format!("/roles/{id}")>
                                            {if editable { "Edit" } else { "View" }}
                                            <span class="visually-hidden">{format!(" {name}")}</span>
                                        </a>
                                        {editable.then(|| {
                                            let name = for_delete.name.clone();
                                            view! {
                                                <button type="button" class="btn btn-ghost btn-small btn-ghost-danger"
                                                    on:click=move |_| { deleting.set(Some(for_delete.clone())); confirm_open.set(true); }>
                                                    "Delete"<span class="visually-hidden">{format!(" {name}")}</span>
                                                </button>
                                            }
                                        })}
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn RoleEditorPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|id| id.parse::<i64>().ok());
    let roles = Resource::new(|| (), |_| list_roles());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (roles.await, id()) {
                    (Err(e), _) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                    (Ok(list), None) => view! { <RoleForm list role=None/> }.into_any(),
                    (Ok(list), Some(id)) => match list.roles.iter().find(|r| r.id == id).cloned() {
                        Some(role) => view! { <RoleForm list role=Some(role)/> }.into_any(),
                        None => view! { <div class="alert alert-error" role="alert">"This role was not found. It may have been deleted."</div> }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}

#[component]
fn RoleForm(list: RoleList, role: Option<RoleView>) -> impl IntoView {
    let save = ServerAction::<SaveRole>::new();
    let value = save.value();
    let navigate = use_navigate();
    on_success(value, move |_: &i64| navigate("/roles", Default::default()));
    let read_only = role.as_ref().is_some_and(|r| !r.editable) || !list.can_manage;
    let title = match &role {
        None => "New role".to_owned(),
        Some(r) if read_only => r.name.clone(),
        Some(r) => format!("Edit {}", r.name),
    };
    let name = RwSignal::new(role.as_ref().map(|r| r.name.clone()).unwrap_or_default());
    let rank = RwSignal::new(role.as_ref().map(|r| r.rank).unwrap_or(list.own_rank.max(1) + 1).to_string());
    let granted: Vec<Permission> = role.as_ref().map(|r| r.permissions.clone()).unwrap_or_default();
    let own = list.own_permissions.clone();
    let groups = Module::ALL
        .into_iter()
        .map(|module| {
            let boxes = module
                .permissions()
                .iter()
                .map(|p| {
                    let allowed = !read_only && own.contains(p);
                    let checked = granted.contains(p);
                    view! {
                        <label class="checkbox">
                            <input type="checkbox" name="permissions[]" value=p.key() checked=checked disabled=!allowed/>
                            {p.label()}
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="permission-group">
                    <legend>{module.label()}</legend>
                    {boxes}
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <Title text=title.clone()/>
        <PageHeader title=title description="Permissions come from one catalogue, grouped by module. A role without a module's View permission does not see that module at all."/>
        <section class="card form-card">
            {read_only.then(|| view! {
                <div class="alert alert-info">
                    {if role.as_ref().is_some_and(|r| r.builtin) {
                        "Built-in roles keep their permissions. Create a custom role to choose your own."
                    } else {
                        "You can look at this role but not change it."
                    }}
                </div>
            })}
            <FormAlert error=action_error(value)/>
            <ActionForm action=save attr:class="form" attr:novalidate=true>
                {role.as_ref().map(|r| view! {
                    <input type="hidden" name="id" value=r.id/>
                    <input type="hidden" name="version" value=r.version/>
                })}
                <TextField label="Role name" name=NAME.name value=name
                    rule=rule_of(&NAME, name) server_error=server_field(value, NAME.name) required=true/>
                <TextField label="Rank" name=RANK input_type="number" value=rank
                    hint=format!("1 or more; yours is {}. A lower number means more authority.", list.own_rank)
                    server_error=server_field(value, RANK) required=true/>
                <div class="field">
                    <span class="field-label">"Permissions"</span>
                    <div class="permission-grid">{groups}</div>
                    {move || server_field(value, PERMISSIONS).get().map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="form-actions">
                    <a class="btn btn-secondary" href="/roles">{if read_only { "Back to roles" } else { "Cancel" }}</a>
                    {(!read_only).then(|| view! { <SubmitButton label="Save role" pending=save.pending() pending_label="Saving…"/> })}
                </div>
            </ActionForm>
        </section>
    }
}
