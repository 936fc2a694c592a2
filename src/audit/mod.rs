//! The audit log (SPEC 7): who did what to which record, when and from where. Every change
//! writes its row inside the change's own transaction. People with the "Audit log: View"
//! permission browse it at `/audit` with filters and paging, and on the Audit tab of a customer
//! or a user.

#[cfg(feature = "ssr")]
pub mod ssr;

use crate::{
    error::AppError,
    home::format_time,
    ui::{PageHeader, SelectField},
};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};
use serde::{Deserialize, Serialize};

pub const PAGE_SIZE: i64 = 50;

/// The filters of the audit log, as they appear in the address.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Part of the actor's e-mail address.
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub record_type: String,
    #[serde(default)]
    pub record_id: String,
    /// First and last day included (UTC), `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: i64,
}

impl AuditQuery {
    pub fn from_pairs(get: impl Fn(&str) -> Option<String>) -> Self {
        AuditQuery {
            actor: get("actor").unwrap_or_default(),
            action: get("action").unwrap_or_default(),
            record_type: get("type").unwrap_or_default(),
            record_id: get("record").unwrap_or_default(),
            from: get("from").unwrap_or_default(),
            to: get("to").unwrap_or_default(),
            page: get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
        }
    }

    /// The date range, refusing what is not a date rather than ignoring it.
    pub fn dates(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), String> {
        let parse = |text: &str, what: &str| -> Result<Option<NaiveDate>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| format!("Enter the {what} date as YYYY-MM-DD."))
        };
        let from = parse(&self.from, "first")?;
        let to = parse(&self.to, "last")?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err("The first date must not be after the last date.".into());
            }
        }
        Ok((from, to))
    }
}

/// One changed field of an entry: `from` is absent when only the new value was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeLine {
    pub field: String,
    pub from: Option<String>,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub record_type: String,
    pub record_id: Option<String>,
    pub client_ip: Option<String>,
    pub changes: Vec<ChangeLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub page: i64,
    pub has_next: bool,
    /// The actions and record types this account's log holds, for the filter lists.
    pub actions: Vec<String>,
    pub record_types: Vec<String>,
}

/// Readable text for a recorded value: strings without quotes, lists joined, nothing as "—".
#[cfg(feature = "ssr")]
fn value_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "—".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Turns the stored `changes` object into lines: `{"f": {"from": a, "to": b}}` becomes a change
/// from a to b, any other `{"f": v}` a recorded value.
#[cfg(feature = "ssr")]
pub fn change_lines(changes: &serde_json::Value) -> Vec<ChangeLine> {
    let Some(map) = changes.as_object() else { return Vec::new() };
    map.iter()
        .map(|(field, value)| match value.as_object() {
            Some(pair) if pair.len() == 2 && pair.contains_key("from") && pair.contains_key("to") => ChangeLine {
                field: field.clone(),
                from: Some(value_text(&pair["from"])),
                to: value_text(&pair["to"]),
            },
            _ => ChangeLine { field: field.clone(), from: None, to: value_text(value) },
        })
        .collect()
}

#[server(prefix = "/api", endpoint = "audit")]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::{auth::ssr::sessions::require_staff, error::FieldErrors, permissions::Permission, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::AuditView)?;
    let (from, to) = query.dates().map_err(|message| {
        let mut errors = FieldErrors::default();
        errors.add("from", message);
        AppError::Validation(errors)
    })?;
    let start = from.map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc());
    let end = to.map(|d| (d + chrono::Days::new(1)).and_hms_opt(0, 0, 0).unwrap().and_utc());
    let page = query.page.clamp(1, 10_000);
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    // A staff member sees the history of their own branch: rows whose record or actor belongs
    // to a company in their scope. Events of the account as a whole only with Account settings.
    let mut conn = state.db.acquire().await?;
    let scope = crate::customers::ssr::scope_companies(&mut conn, &staff).await?;
    let account_level: Vec<String> = ssr::ACCOUNT_LEVEL.iter().map(|t| (*t).to_owned()).collect();
    let sees_account_level = staff.user.permissions.contains(&Permission::AccountSettingsManage);
    let rows = sqlx::query!(
        r#"SELECT id, occurred_at, actor_label, action, record_type, record_id, client_ip, changes
             FROM audit_events
            WHERE account_id = $1
              AND ($2::text IS NULL OR actor_label ILIKE '%' || replace(replace(replace($2, '\', '\\'), '%', '\%'), '_', '\_') || '%')
              AND ($3::text IS NULL OR action = $3)
              AND ($4::text IS NULL OR record_type = $4)
              AND ($5::text IS NULL OR record_id = $5)
              AND ($6::timestamptz IS NULL OR occurred_at >= $6)
              AND ($7::timestamptz IS NULL OR occurred_at < $7)
              AND ($10::bigint[] IS NULL
                   OR CASE WHEN record_type = ANY($11) THEN $12
                           ELSE (record_company_id = ANY($10) OR actor_company_id = ANY($10)) END)
            ORDER BY occurred_at DESC, id DESC
            LIMIT $8 OFFSET $9"#,
        staff.account_id,
        text(&query.actor),
        text(&query.action),
        text(&query.record_type),
        text(&query.record_id),
        start,
        end,
        PAGE_SIZE + 1,
        (page - 1) * PAGE_SIZE,
        scope.as_deref(),
        &account_level,
        sees_account_level,
    )
    .fetch_all(&mut *conn)
    .await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    let entries = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor: r.actor_label,
            action: r.action,
            record_type: r.record_type,
            record_id: r.record_id,
            client_ip: r.client_ip,
            changes: change_lines(&r.changes),
        })
        .collect();
    let kinds = sqlx::query!(
        r#"SELECT DISTINCT action, record_type FROM audit_events
            WHERE account_id = $1
              AND ($2::bigint[] IS NULL
                   OR CASE WHEN record_type = ANY($3) THEN $4
                           ELSE (record_company_id = ANY($2) OR actor_company_id = ANY($2)) END)
            ORDER BY action"#,
        staff.account_id,
        scope.as_deref(),
        &account_level,
        sees_account_level,
    )
    .fetch_all(&mut *conn)
    .await?;
    let actions = kinds.iter().map(|k| k.action.clone()).collect();
    let mut record_types: Vec<String> = kinds.into_iter().map(|k| k.record_type).collect();
    record_types.sort();
    record_types.dedup();
    Ok(AuditPage { entries, page, has_next, actions, record_types })
}

/// `customer.created` reads "Customer created".
pub fn action_label(action: &str) -> String {
    let text = action.replace(['.', '_'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(|q| AuditQuery::from_pairs(|k| q.get(k))));
    let page = Resource::new(move || query.get(), list_audit);
    view! {
        <Title text="Audit log"/>
        <PageHeader title="Audit log" description="Every change in this account: who made it, when, from where, and what changed."/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let result = page.await;
                let current = query.get_untracked();
                match result {
                    Ok(page) => view! {
                        <AuditFilters current actions=page.actions.clone() record_types=page.record_types.clone()/>
                        <AuditTable page/>
                    }.into_any(),
                    Err(e) => view! {
                        <AuditFilters current actions=Vec::new() record_types=Vec::new()/>
                        <div class="alert alert-error" role="alert">{e.to_string()}</div>
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
    let number = page.page;
    let previous = crate::ui::query_with(&[("page", (number - 1).to_string())]);
    let next = crate::ui::query_with(&[("page", (number + 1).to_string())]);
    view! {
        <section class="card card-flush">
            {if page.entries.is_empty() {
                view! { <p class="empty">"No audit entries match."</p> }.into_any()
            } else {
                view! { <AuditRows entries=page.entries/> }.into_any()
            }}
        </section>
        <nav class="pagination" aria-label="Pages">
            <span>{format!("Page {number}")}</span>
            {(number > 1).then(|| view! { <a class="btn btn-secondary" href=previous>"Previous page"</a> })}
            {page.has_next.then(|| view! { <a class="btn btn-secondary" href=next>"Next page"</a> })}
        </nav>
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
pub fn RecordAudit(record_type: &'static str, record_id: i64) -> impl IntoView {
    let query = AuditQuery { record_type: record_type.into(), record_id: record_id.to_string(), page: 1, ..Default::default() };
    let entries = Resource::new(move || query.clone(), list_audit);
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) => {
                        let more = page.has_next;
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
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_in_order() {
        let q = |from: &str, to: &str| AuditQuery { from: from.into(), to: to.into(), ..Default::default() };
        assert_eq!(q("", "").dates(), Ok((None, None)));
        assert_eq!(q("2026-11-01", "2026-11-30").dates().unwrap().0, NaiveDate::from_ymd_opt(2026, 11, 1));
        assert!(q("2026-02-30", "").dates().is_err());
        assert!(q("yesterday", "").dates().is_err());
        assert!(q("2026-11-30", "2026-11-01").dates().is_err());
    }

    #[test]
    fn action_labels_read_as_words() {
        assert_eq!(action_label("customer.created"), "Customer created");
        assert_eq!(action_label("user.invitation_accepted"), "User invitation accepted");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn changes_become_lines_with_and_without_a_previous_value() {
        let lines = change_lines(&serde_json::json!({
            "city": { "from": "Bristol", "to": "Bath" },
            "title": "Zephyr",
            "groups": ["Key accounts", "North"],
            "phone": { "from": null, "to": "+4420" },
        }));
        assert!(lines.contains(&ChangeLine { field: "city".into(), from: Some("Bristol".into()), to: "Bath".into() }));
        assert!(lines.contains(&ChangeLine { field: "title".into(), from: None, to: "Zephyr".into() }));
        assert!(lines.contains(&ChangeLine { field: "groups".into(), from: None, to: "Key accounts, North".into() }));
        assert!(lines.contains(&ChangeLine { field: "phone".into(), from: Some("—".into()), to: "+4420".into() }));
    }
}
