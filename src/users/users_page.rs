//! The users list (SPEC 3.2): tabs for active-and-invited, invited and disabled people; search,
//! filters, sorting and paging, all in the address; and the invitation dialog.

use super::{list_users, user_form_options, InviteUsers, UserList, UserQuery, UserStatus, COMPANY, EMAILS, ROLE};
use crate::ui::{
    ExportLink,
    action_error, format_time, Refresh, on_success, query_with, server_field, Dialog, DialogActions, FormAlert, LinkTabs, LoadError, PageHeader,
    KeysetPagination, SelectField, SortHeader, StatusMessage, TextAreaField,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

fn read_query() -> Memo<UserQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| UserQuery::from_pairs(|key| q.get(key)))
    })
}

pub fn status_badge(status: UserStatus) -> impl IntoView {
    let class = match status {
        UserStatus::Active => "badge badge-success",
        UserStatus::Invited => "badge badge-warning",
        UserStatus::Disabled | UserStatus::Removed => "badge badge-neutral",
    };
    view! { <span class=class>{status.label()}</span> }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = read_query();
    let refresh = RwSignal::new(0);
    // A click on the link of the list being shown reloads it (Refresh).
    let shown = Refresh::current();
    let users = Resource::new(
        move || (query.get(), refresh.get(), shown.tick()),
        |(mut q, _, _)| {
            // "Active users" lists the people who accepted; invited ones have their own list.
            if q.status.is_empty() {
                q.status = "active".into();
            }
            list_users(q)
        },
    );
    let invite_open = RwSignal::new(false);
    let invited = RwSignal::new(None::<String>);
    let tabs = move || {
        let status = query.with(|q| q.status.clone());
        vec![
            ("Active users".to_owned(), query_with(&[("status", String::new()), ("page", String::new()), ("after", String::new()), ("before", String::new())])(), status.is_empty() || status == "active"),
            ("Invited".to_owned(), query_with(&[("status", "invited".into()), ("page", String::new()), ("after", String::new()), ("before", String::new())])(), status == "invited"),
            ("Deactivated users".to_owned(), query_with(&[("status", "disabled".into()), ("page", String::new()), ("after", String::new()), ("before", String::new())])(), status == "disabled"),
        ]
    };
    view! {
        <Title text="Users"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(error) => view! { <PageHeader title="Users"/> <LoadError error/> }.into_any(),
                    Ok(list) => {
                        let can_manage = list.can_manage;
                        view! {
                            <PageHeader title="Users" description="The people who sign in to manage this account, in the companies you look after.">
                                <ExportLink path="/export/users.csv" label="Export CSV"/>
                                {can_manage.then(|| view! {
                                    <button type="button" class="btn btn-secondary" on:click=move |_| invite_open.set(true)>"Invite users"</button>
                                    <a class="btn btn-primary" href=move || match query.with(|q| q.company) {
                                        Some(company) => format!("/users/new?company={company}"),
                                        None => "/users/new".to_owned(),
                                    }>"Add user"</a>
                                })}
                            </PageHeader>
                            <StatusMessage message=invited/>
                            {move || view! { <LinkTabs label="User status" tabs=tabs()/> }}
                            <UserFilters list=list.clone() query/>
                            <UserTable list query/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <InviteDialog open=invite_open on_sent=Callback::new(move |count: usize| {
            invite_open.set(false);
            invited.set(Some(format!("{count} {} sent.", if count == 1 { "invitation" } else { "invitations" })));
            refresh.update(|n| *n += 1);
        })/>
    }
}

#[component]
fn UserFilters(list: UserList, query: Memo<UserQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let role_options: Vec<(String, String)> = std::iter::once((String::new(), "All roles".to_owned()))
        .chain(list.roles.iter().map(|(id, name)| (id.to_string(), name.clone())))
        .collect();
    let company_options: Vec<(String, String)> = std::iter::once((String::new(), "All companies".to_owned()))
        .chain(list.companies.iter().map(|(id, name)| (id.to_string(), name.clone())))
        .collect();
    let role = RwSignal::new(current.role.map(|r| r.to_string()).unwrap_or_default());
    let company = RwSignal::new(current.company.map(|c| c.to_string()).unwrap_or_default());
    view! {
        <Form method="GET" action="" attr:class="filter-bar" attr:role="search" attr:aria-label="Filter users">
            <input type="hidden" name="status" value=current.status.clone()/>
            <input type="hidden" name="sort" value=current.sort.clone()/>
            <input type="hidden" name="dir" value=if current.desc { "desc" } else { "" }/>
            <input type="hidden" name="size" value=current.size/>
            <div class="field field-search">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" type="search" name="q" value=current.q.clone() placeholder="Name or e-mail"/>
            </div>
            <SelectField label="Role" name="role" value=role options=role_options/>
            <SelectField label="Company" name="company" value=company options=company_options/>
            <button type="submit" class="btn btn-secondary">"Apply filters"</button>
        </Form>
    }
}

#[component]
fn UserTable(list: UserList, query: Memo<UserQuery>) -> impl IntoView {
    let sort = Signal::derive(move || query.with(|q| q.sort_key().to_owned()));
    let descending = Signal::derive(move || query.with(|q| q.desc));
    if list.users.is_empty() {
        return view! {
            <section class="card"><p class="empty">"No users match. Change the search or filters, or invite someone."</p></section>
        }
        .into_any();
    }
    view! {
        <section class="card card-flush">
            <table class="table">
                <caption class="visually-hidden">"Users"</caption>
                <thead>
                    <tr>
                        <SortHeader label="Name" key="name" sort descending/>
                        <SortHeader label="E-mail" key="email" sort descending/>
                        <SortHeader label="Role" key="role" sort descending/>
                        <SortHeader label="Company" key="company" sort descending/>
                        <th scope="col">"Region"</th>
                        <SortHeader label="Status" key="status" sort descending/>
                        <SortHeader label="Last sign-in" key="last_sign_in" sort descending/>
                    </tr>
                </thead>
                <tbody>
                    {list.users.into_iter().map(|u| view! {
                        <tr>
                            <th scope="row"><a href=format!("/users/{}", u.id)>{u.display_name}</a></th>
                            <td>{u.email}</td>
                            <td>{u.role_name}</td>
                            <td>{u.company_name}</td>
                            <td>{u.region.unwrap_or_default()}</td>
                            <td>
                                {status_badge(u.status)}
                                {u.invitation_expires_at.filter(|_| u.status == UserStatus::Invited)
                                    .map(|at| view! { <div class="cell-note">{format!("Link valid until {}", format_time(&at))}</div> })}
                            </td>
                            <td class="nowrap">{u.last_sign_in_at.map(|at| format_time(&at)).unwrap_or_else(|| "Never".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <KeysetPagination page=list.page page_size=list.page_size total=list.total previous=list.previous next=list.next noun=("user", "users")/>
    }
    .into_any()
}

/// Invite many people at once with one role and company (SPEC 3.6).
#[component]
pub fn InviteDialog(open: RwSignal<bool>, on_sent: Callback<usize>) -> impl IntoView {
    let action = ServerAction::<InviteUsers>::new();
    on_success(action.value(), move |count: &usize| on_sent.run(*count));
    view! {
        <Dialog id="invite-users" open title="Invite users"
            description=Signal::derive(|| "Each address gets its own single-use link to join with the role and company you choose.".to_owned())>
            {move || {
                action.clear();
                // Loaded each time the dialog opens, and dropped with it.
                let options = Resource::new(|| (), |_| async move { user_form_options().await.map(Some) });
                let value = action.value();
                let emails = RwSignal::new(String::new());
                let role = RwSignal::new(String::new());
                let company = RwSignal::new(String::new());
                view! {
                    <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match options.await {
                                Ok(Some(options)) => {
                                    if role.get_untracked().is_empty() {
                                        role.set(options.roles.last().map(|(id, _)| id.to_string()).unwrap_or_default());
                                    }
                                    if company.get_untracked().is_empty() {
                                        company.set(options.companies.first().map(|(id, _)| id.to_string()).unwrap_or_default());
                                    }
                                    let roles = options.roles.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
                                    let companies = options.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
                                    view! {
                                        <FormAlert error=action_error(value)/>
                                        <ActionForm action attr:class="form" attr:novalidate=true>
                                            <TextAreaField label="E-mail addresses" name=EMAILS.name value=emails
                                                hint="Separate addresses with commas, spaces or new lines."
                                                rule=Signal::derive(move || {
                                                    let text = emails.get();
                                                    if text.trim().is_empty() { None } else { EMAILS.message(&text) }
                                                })
                                                server_error=server_field(value, EMAILS.name)/>
                                            <SelectField label="Role" name=ROLE.name value=role options=roles server_error=server_field(value, ROLE.name)/>
                                            <SelectField label="Company" name=COMPANY.name value=company options=companies server_error=server_field(value, COMPANY.name)/>
                                            <DialogActions open label="Send invitations" pending=action.pending() pending_label="Sending…"/>
                                        </ActionForm>
                                    }.into_any()
                                }
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <LoadError error/> }.into_any(),
                            }
                        })}
                    </Suspense>
                }
            }}
        </Dialog>
    }
}
