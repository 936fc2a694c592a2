//! The companies page: the tree as a table, with dialogs to add, rename, move and delete.

use super::{
    list_companies, preview_company_deletion, CompanyKind, CompanyNode, CompanyTree, CreateCompany, DeleteCompany,
    MoveCompany, RenameCompany,
};
use crate::{
    ui::{action_error, on_success, server_field, Dialog, DialogActions, FormAlert, PageHeader, SelectField, TextField},
    validation::required_text,
};
use leptos::prelude::*;
use leptos_meta::Title;

/// The company a dialog is about, and which dialog is open.
#[derive(Clone, Copy)]
struct Dialogs {
    selected: RwSignal<Option<CompanyNode>>,
    add: RwSignal<bool>,
    rename: RwSignal<bool>,
    relocate: RwSignal<bool>,
    delete: RwSignal<bool>,
}

impl Dialogs {
    fn new() -> Self {
        Self {
            selected: RwSignal::new(None),
            add: RwSignal::new(false),
            rename: RwSignal::new(false),
            relocate: RwSignal::new(false),
            delete: RwSignal::new(false),
        }
    }

    fn open(&self, which: RwSignal<bool>, node: CompanyNode) {
        self.selected.set(Some(node));
        which.set(true);
    }

    fn close_all(&self) {
        for open in [self.add, self.rename, self.relocate, self.delete] {
            open.set(false);
        }
    }
}

#[component]
pub fn CompaniesPage() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let tree = Resource::new(move || refresh.get(), |_| list_companies());
    let dialogs = Dialogs::new();
    let done = Callback::new(move |_: ()| {
        dialogs.close_all();
        refresh.update(|n| *n += 1);
    });
    view! {
        <Title text="Companies"/>
        <PageHeader
            title="Companies"
            description="Your business and the distributors and installers below it. People belong to one company and act on it and everything under it."
        />
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tree.await {
                    Ok(tree) => view! { <CompanyTable tree=tree.clone() dialogs/> <CompanyDialogs tree dialogs done/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CompanyTable(tree: CompanyTree, dialogs: Dialogs) -> impl IntoView {
    let can_manage = tree.can_manage;
    let rows = tree
        .nodes
        .into_iter()
        .map(|node| {
            let indent = format!("padding-left: calc({} * 1.5rem)", node.depth);
            let people = format!("/users?company={}", node.id);
            let is_top = node.depth == 0;
            let kind_class = match node.kind {
                CompanyKind::Root => "badge",
                CompanyKind::Distributor => "badge badge-info",
                CompanyKind::Installer => "badge badge-neutral",
            };
            let actions = can_manage.then(|| {
                let action = |label: &'static str, which: RwSignal<bool>, node: &CompanyNode| {
                    let node = node.clone();
                    let name = node.name.clone();
                    view! {
                        <button type="button" class="btn btn-ghost btn-small" on:click=move |_| dialogs.open(which, node.clone())>
                            {label}
                            <span class="visually-hidden">{format!(" {name}")}</span>
                        </button>
                    }
                };
                view! {
                    <div class="row-actions">
                        {action("Add below", dialogs.add, &node)}
                        {action("Rename", dialogs.rename, &node)}
                        {(!is_top).then(|| action("Move", dialogs.relocate, &node))}
                        {(!is_top).then(|| action("Delete", dialogs.delete, &node))}
                    </div>
                }
            });
            view! {
                <tr>
                    <th scope="row" class="tree-cell">
                        <span class="tree-name" style=indent>
                            {(node.depth > 0).then(|| view! { <span class="tree-branch" aria-hidden="true">"└"</span> })}
                            // "Click the name of the target Company": its users.
                            <a href=people.clone()>{node.name.clone()}</a>
                        </span>
                    </th>
                    <td><span class=kind_class>{node.kind.label()}</span></td>
                    <td><a href=people>{format!("{} {}", node.user_count, if node.user_count == 1 { "person" } else { "people" })}</a></td>
                    {can_manage.then(|| view! { <td>{actions}</td> })}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card card-flush">
            <table class="table">
                <caption class="visually-hidden">"Company tree"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Company"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"People"</th>
                        {can_manage.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

fn kind_options() -> Vec<(String, String)> {
    [CompanyKind::Distributor, CompanyKind::Installer]
        .into_iter()
        .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
        .collect()
}

#[component]
fn CompanyDialogs(tree: CompanyTree, dialogs: Dialogs, done: Callback<()>) -> impl IntoView {
    let create = ServerAction::<CreateCompany>::new();
    let rename = ServerAction::<RenameCompany>::new();
    let relocate = ServerAction::<MoveCompany>::new();
    let delete = ServerAction::<DeleteCompany>::new();
    on_success(create.value(), move |_| done.run(()));
    on_success(rename.value(), move |_| done.run(()));
    on_success(relocate.value(), move |_| done.run(()));
    on_success(delete.value(), move |_| done.run(()));

    let (add_open, rename_open, move_open, delete_open) = (dialogs.add, dialogs.rename, dialogs.relocate, dialogs.delete);
    let node = move || dialogs.selected.get();
    let name_of = move || node().map(|n| n.name).unwrap_or_default();
    let tree = StoredValue::new(tree);

    view! {
        <Dialog id="add-company" open=add_open title=Signal::derive(move || format!("Add a company under {}", name_of()))>
            {move || node().map(|parent| {
                create.clear();
                let name = RwSignal::new(String::new());
                let kind = RwSignal::new("distributor".to_owned());
                let value = create.value();
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=create attr:class="form" attr:novalidate=true>
                        <input type="hidden" name="parent_id" value=parent.id/>
                        <TextField label="Company name" name="name" value=name
                            rule=Signal::derive(move || required_text(&name.get(), "a company name", 100).err())
                            server_error=server_field(value, "name") required=true/>
                        <SelectField label="Type" name="kind" value=kind options=kind_options() server_error=server_field(value, "kind")/>
                        <DialogActions open=add_open label="Add company" pending=create.pending() pending_label="Adding…"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <Dialog id="rename-company" open=rename_open title=Signal::derive(move || format!("Rename {}", name_of()))>
            {move || node().map(|company| {
                rename.clear();
                let name = RwSignal::new(company.name.clone());
                let value = rename.value();
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=rename attr:class="form" attr:novalidate=true>
                        <input type="hidden" name="id" value=company.id/>
                        <input type="hidden" name="version" value=company.version/>
                        <TextField label="Company name" name="name" value=name
                            rule=Signal::derive(move || required_text(&name.get(), "a company name", 100).err())
                            server_error=server_field(value, "name") required=true/>
                        <DialogActions open=rename_open label="Save name" pending=rename.pending() pending_label="Saving…"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <Dialog id="move-company" open=move_open title=Signal::derive(move || format!("Move {}", name_of()))
            description=Signal::derive(|| "Choose the company it should belong to. Everything below it moves with it.".to_owned())>
            {move || node().map(|company| {
                relocate.clear();
                let moving: Vec<i64> = tree.with_value(|t| t.subtree(company.id).iter().map(|n| n.id).collect());
                let options: Vec<(String, String)> = tree.with_value(|t| {
                    t.nodes
                        .iter()
                        .filter(|n| !moving.contains(&n.id))
                        .map(|n| (n.id.to_string(), format!("{}{}", "— ".repeat(n.depth), n.name)))
                        .collect()
                });
                let parent = RwSignal::new(company.parent_id.map(|p| p.to_string()).unwrap_or_default());
                let value = relocate.value();
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=relocate attr:class="form" attr:novalidate=true>
                        <input type="hidden" name="id" value=company.id/>
                        <input type="hidden" name="version" value=company.version/>
                        <SelectField label="New parent company" name="parent_id" value=parent options server_error=server_field(value, "parent_id")/>
                        <DialogActions open=move_open label="Move company" pending=relocate.pending() pending_label="Moving…"/>
                    </ActionForm>
                }
            })}
        </Dialog>

        <Dialog id="delete-company" open=delete_open title=Signal::derive(move || format!("Delete {}?", name_of()))>
            {move || node().map(|company| {
                delete.clear();
                let preview = Resource::new(move || company.id, preview_company_deletion);
                let value = delete.value();
                view! {
                    <FormAlert error=action_error(value)/>
                    <Suspense fallback=|| view! { <p class="loading">"Checking what would go…"</p> }>
                        {move || Suspend::new(async move {
                            match preview.await {
                                Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                                Ok(p) if p.users > 0 || p.customers > 0 => view! {
                                    <p>{super::blocked_deletion(&p)}</p>
                                    <div class="dialog-actions">
                                        <button type="button" class="btn btn-secondary" on:click=move |_| delete_open.set(false)>"Close"</button>
                                    </div>
                                }.into_any(),
                                Ok(p) => {
                                    let count = p.companies.len();
                                    view! {
                                        <p>{if count == 1 {
                                            "This company will be deleted. This cannot be undone.".to_owned()
                                        } else {
                                            format!("These {count} companies will be deleted. This cannot be undone.")
                                        }}</p>
                                        <ul class="deletion-list">{p.companies.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                                        <ActionForm action=delete attr:class="form">
                                            <input type="hidden" name="id" value=company.id/>
                                            <input type="hidden" name="expected_companies" value=count/>
                                            <DialogActions open=delete_open
                                                label=if count == 1 { "Delete company".to_owned() } else { format!("Delete {count} companies") }
                                                pending=delete.pending() pending_label="Deleting…" class="btn btn-danger"/>
                                        </ActionForm>
                                    }.into_any()
                                }
                            }
                        })}
                    </Suspense>
                }
            })}
        </Dialog>
    }
}
