//! The audit log page, its filters and table, and the Audit tab of one record.

use super::{action_label, list_audit, AuditEntry, AuditPage, AuditQuery};
use crate::{
    services::audit::RecordType,
    ui::{format_time, query_with, ExportLink, LoadError, PageHeader, Pager, SelectField},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(|q| AuditQuery::from_pairs(|k| q.get(k))));
    let page = Resource::new(move || query.get(), list_audit);
    view! {
        <Title text="Audit log"/>
        <PageHeader title="Audit log" description="Every change in this account: who made it, when, from where, and what changed.">
            <ExportLink path="/export/audit.csv" label="Export CSV"/>
        </PageHeader>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let result = page.await;
                let current = query.get_untracked();
                match result {
                    Ok(page) => view! {
                        <AuditFilters current actions=page.actions.clone() record_types=page.record_types.clone()/>
                        <AuditTable page/>
                    }.into_any(),
                    Err(error) => view! {
                        <AuditFilters current actions=Vec::new() record_types=Vec::new()/>
                        <LoadError error/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditFilters(current: AuditQuery, actions: Vec<String>, record_types: Vec<String>) -> impl IntoView {
    let action = RwSignal::new(current.action.clone());
    let record_type = RwSignal::new(current.record_type.clone());
    let with_any = |any: &str, values: Vec<String>, label: fn(&str) -> String| {
        std::iter::once((String::new(), any.to_owned())).chain(values.into_iter().map(|v| (v.clone(), label(&v)))).collect::<Vec<_>>()
    };
    view! {
        <Form method="GET" action="" attr:class="filter-bar" attr:role="search" attr:aria-label="Filter the audit log">
            <div class="field">
                <label for="audit-actor">"Actor"</label>
                <input id="audit-actor" type="search" name="actor" value=current.actor.clone() placeholder="E-mail address"/>
            </div>
            <SelectField label="Action" name="action" value=action options=with_any("All actions", actions, action_label)/>
            <SelectField label="Record type" name="type" value=record_type options=with_any("All records", record_types, action_label)/>
            <div class="field field-narrow">
                <label for="audit-record">"Record id"</label>
                <input id="audit-record" type="text" name="record" inputmode="numeric" value=current.record_id.clone()/>
            </div>
            <div class="field field-narrow">
                <label for="audit-from">"From"</label>
                <input id="audit-from" type="date" name="from" value=current.from.clone()/>
            </div>
            <div class="field field-narrow">
                <label for="audit-to">"To"</label>
                <input id="audit-to" type="date" name="to" value=current.to.clone()/>
            </div>
            <button type="submit" class="btn btn-secondary">"Apply filters"</button>
        </Form>
    }
}

/// The entries of one page, with previous and next links that keep the filters.
#[component]
pub fn AuditTable(page: AuditPage) -> impl IntoView {
    // Pages follow each other by keyset: the next one starts after this page's last entry.
    let first = page.continued.then(|| query_with(&[("before", String::new())])());
    let next = page.next.map(|id| query_with(&[("before", id.to_string())])());
    let summary = if page.continued { "Older entries" } else { "Newest entries" };
    view! {
        <section class="card card-flush">
            {if page.entries.is_empty() {
                view! { <p class="empty">"No audit entries match."</p> }.into_any()
            } else {
                view! { <AuditRows entries=page.entries/> }.into_any()
            }}
        </section>
        <Pager summary=summary first next/>
    }
}

#[component]
fn AuditRows(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <table class="table">
            <caption class="visually-hidden">"Audit entries"</caption>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Record"</th>
                    <th scope="col">"Changes"</th>
                </tr>
            </thead>
            <tbody>
                {entries.into_iter().map(|e| {
                    let record = match &e.record_id {
                        Some(id) => format!("{} #{id}", action_label(&e.record_type)),
                        None => action_label(&e.record_type),
                    };
                    view! {
                        <tr>
                            <td class="nowrap">
                                <time datetime=e.occurred_at.to_rfc3339()>{format_time(&e.occurred_at)}</time>
                                {e.client_ip.clone().map(|ip| view! { <div class="cell-note">{format!("from {ip}")}</div> })}
                            </td>
                            <td>{e.actor.clone()}</td>
                            <td>{action_label(&e.action)}</td>
                            <td class="nowrap">{record}</td>
                            <td>
                                {if e.changes.is_empty() {
                                    view! { <span class="cell-note">"—"</span> }.into_any()
                                } else {
                                    view! {
                                        <dl class="change-list">
                                            {e.changes.into_iter().map(|c| view! {
                                                <div>
                                                    <dt>{c.field.replace('_', " ")}</dt>
                                                    <dd>
                                                        {c.from.map(|from| view! { <del>{from}</del><span aria-hidden="true">" → "</span><span class="visually-hidden">" changed to "</span> })}
                                                        <ins>{c.to}</ins>
                                                    </dd>
                                                </div>
                                            }).collect_view()}
                                        </dl>
                                    }.into_any()
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The Audit tab of one record: its newest entries, and a link to the full filtered log.
#[component]
pub fn RecordAudit(record_type: RecordType, record_id: i64) -> impl IntoView {
    let record_type = record_type.key();
    let query = AuditQuery { record_type: record_type.into(), record_id: record_id.to_string(), ..Default::default() };
    let entries = Resource::new(move || query.clone(), list_audit);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) => {
                        let more = page.next.is_some();
                        view! {
                            <section class="card card-flush">
                                {if page.entries.is_empty() {
                                    view! { <p class="empty">"Nothing has been recorded for this record yet."</p> }.into_any()
                                } else {
                                    view! { <AuditRows entries=page.entries/> }.into_any()
                                }}
                            </section>
                            <p class="list-total">
                                <a href=format!("/audit?type={record_type}&record={record_id}")>
                                    {if more { "See all entries in the audit log" } else { "Open in the audit log" }}
                                </a>
                            </p>
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
