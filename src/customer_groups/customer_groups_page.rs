//! The customer groups page: "All", the named groups with their member counts, and the
//! dialogs that create, rename and delete them.

use super::{list_groups, DeleteGroup, GroupList, GroupView, SaveGroup, NAME};
use crate::ui::{action_error, on_success, rule_of, server_field, ConfirmDialog, Dialog, DialogActions, FormAlert, Loaded, PageHeader, TextField};
use leptos::prelude::*;
use leptos_meta::Title;

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
        <Loaded resource=groups view=move |list: GroupList| {
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
            }
        }/>
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
                        <TextField label="Group name" name=NAME.name value=name rule=rule_of(&NAME, name)
                            server_error=server_field(value, NAME.name) required=true/>
                        <DialogActions open=edit_open label="Save group" pending=save.pending()/>
                    </ActionForm>
                }
            }}
        </Dialog>
        <ConfirmDialog id="delete-group" open=delete_open error=action_error(delete.value())
            title=Signal::derive(move || format!("Delete the group {}?", editing.get().map(|g| g.name).unwrap_or_default()))>
            {move || editing.get().map(|g| {
                delete.clear();
                view! {
                    <p>{format!("Its {} customers stay; they only leave the group.", g.member_count)}</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=g.id/>
                        <DialogActions open=delete_open label="Delete group" pending=delete.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </ConfirmDialog>
    }
}
