//! The API keys section of the API page: the keys in the caller's scope, the dialog that makes
//! one (its secret shown once, right after), and revoking.

use super::{list_api_keys, ApiKeyRow, ApiKeys, CreateApiKey, CreatedKey, RevokeApiKey, COMPANY, EXPIRES_IN_DAYS, EXPIRY_CHOICES, NAME, PERMISSIONS};
use crate::{
    permissions::Module,
    ui::{action_error, format_time, on_success, rule_of, server_field, ConfirmDialog, Dialog, DialogActions, FormAlert, Loaded, SelectField, TextField},
};
use leptos::prelude::*;

#[component]
pub fn ApiKeysSection() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let keys = Resource::new(move || refresh.get(), |_| list_api_keys());
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let create_open = RwSignal::new(false);
    let revoke_open = RwSignal::new(false);
    let revoking = RwSignal::new(None::<ApiKeyRow>);
    let created = RwSignal::new(None::<CreatedKey>);
    on_success(create.value(), move |key: &CreatedKey| {
        created.set(Some(key.clone()));
        create_open.set(false);
        refresh.update(|n| *n += 1);
    });
    on_success(revoke.value(), move |_: &()| {
        revoke_open.set(false);
        refresh.update(|n| *n += 1);
    });
    view! {
        <section class="card" aria-labelledby="keys-heading">
            <div class="card-header">
                <h2 id="keys-heading" class="card-title">"API keys"</h2>
                <button type="button" class="btn btn-primary" on:click=move |_| { create.clear(); create_open.set(true); }>"New API key"</button>
            </div>
            <p class="muted">"A key acts for the person who made it, only within its company and with the permissions it was given (never more than that person holds now). Send it as "<code>"Authorization: Bearer …"</code>"."</p>
            {move || created.get().map(|key| view! { <NewKeyPanel key on_done=move || created.set(None)/> })}
            <Loaded resource=keys view=move |list: ApiKeys| view! { <KeyTable list revoking revoke_open/> }/>
        </section>
        <Dialog id="new-key" open=create_open title=Signal::derive(|| "New API key".to_owned())>
            <Loaded resource=keys view=move |list: ApiKeys| view! { <NewKeyForm list action=create open=create_open/> }/>
        </Dialog>
        <ConfirmDialog id="revoke-key" open=revoke_open error=action_error(revoke.value())
            title=Signal::derive(move || format!("Revoke the key {}?", revoking.get().map(|k| k.name).unwrap_or_default()))>
            {move || revoking.get().map(|key| {
                revoke.clear();
                view! {
                    <p>"Requests with this key are refused from now on. This cannot be undone."</p>
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=key.id/>
                        <DialogActions open=revoke_open label="Revoke key" pending=revoke.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </ConfirmDialog>
    }
}

/// The secret of the key just made, with a way to copy it: shown this once.
#[component]
fn NewKeyPanel(key: CreatedKey, on_done: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let copied = RwSignal::new(false);
    let secret = key.secret.clone();
    view! {
        <div class="alert alert-success new-key" role="status">
            <p><strong>{format!("The key {} is ready.", key.name)}</strong>" Copy it now: it is not shown again."</p>
            <div class="field">
                <label for="new-key-secret">"Your new API key"</label>
                <input id="new-key-secret" type="text" readonly=true class="mono" value=key.secret.clone()/>
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-primary" on:click=move |_| { crate::ui::copy_to_clipboard(&secret); copied.set(true); }>
                    {move || if copied.get() { "Copied" } else { "Copy key" }}
                </button>
                <button type="button" class="btn btn-secondary" on:click=move |_| on_done()>"Done"</button>
            </div>
        </div>
    }
}

#[component]
fn KeyTable(list: ApiKeys, revoking: RwSignal<Option<ApiKeyRow>>, revoke_open: RwSignal<bool>) -> impl IntoView {
    if list.keys.is_empty() {
        return view! { <p class="empty">"No API keys yet."</p> }.into_any();
    }
    let now = list.now;
    let rows = list
        .keys
        .into_iter()
        .map(|key| {
            let status = key.status(now);
            let badge = match status {
                "Active" => "badge badge-success",
                "Revoked" => "badge badge-danger",
                _ => "badge badge-neutral",
            };
            let permissions = key.permissions.iter().map(|p| format!("{} – {}", p.module().label(), p.label())).collect::<Vec<_>>().join(", ");
            let last_used = key.last_used_at.as_ref().map(format_time).unwrap_or_else(|| "Never".into());
            let for_revoke = key.clone();
            let name = key.name.clone();
            view! {
                <tr>
                    <th scope="row">{key.name.clone()}<div class="cell-note mono">{format!("{}…", key.shown)}</div></th>
                    <td>{key.company.clone()}</td>
                    <td class="cell-wrap">{permissions}</td>
                    <td class="cell-wrap">{key.created_by.clone()}<div class="cell-note">{key.created_at.format("%Y-%m-%d").to_string()}</div></td>
                    <td>{last_used}</td>
                    <td><time datetime=key.expires_at.to_rfc3339()>{key.expires_at.format("%Y-%m-%d").to_string()}</time></td>
                    <td><span class=badge>{status}</span></td>
                    <td>{(status == "Active").then(|| view! {
                        <button type="button" class="btn btn-ghost btn-small btn-ghost-danger"
                            on:click=move |_| { revoking.set(Some(for_revoke.clone())); revoke_open.set(true); }>
                            "Revoke"<span class="visually-hidden">{format!(" {name}")}</span>
                        </button>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="API keys table">
            <table class="table">
                <caption class="visually-hidden">"API keys"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Company"</th><th scope="col">"Permissions"</th>
                    <th scope="col">"Created by"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th>
                    <th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn NewKeyForm(list: ApiKeys, action: ServerAction<CreateApiKey>, open: RwSignal<bool>) -> impl IntoView {
    let value = action.value();
    let name = RwSignal::new(String::new());
    let expires = RwSignal::new(EXPIRY_CHOICES[0].to_string());
    let company = RwSignal::new(list.companies.first().map(|(id, _)| id.to_string()).unwrap_or_default());
    let expiry_options = EXPIRY_CHOICES.iter().map(|d| (d.to_string(), format!("In {d} days"))).collect();
    let company_options = list.companies.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    let grantable = list.grantable.clone();
    let groups = Module::ALL
        .into_iter()
        .filter(|m| m.permissions().iter().any(|p| grantable.contains(p)))
        .map(|module| {
            let boxes = module
                .permissions()
                .iter()
                .filter(|p| grantable.contains(p))
                .map(|p| view! {
                    <label class="checkbox">
                        <input type="checkbox" name="permissions[]" value=p.key()/>
                        {p.label()}
                    </label>
                })
                .collect_view();
            view! { <fieldset class="permission-group"><legend>{module.label()}</legend>{boxes}</fieldset> }
        })
        .collect_view();
    view! {
        <FormAlert error=action_error(value)/>
        <ActionForm action attr:class="form" attr:novalidate=true>
            <TextField label="Key name" name=NAME.name value=name rule=rule_of(&NAME, name)
                server_error=server_field(value, NAME.name) hint="What will use it, such as “CRM sync”." required=true/>
            <SelectField label="Expires" name=EXPIRES_IN_DAYS.name value=expires options=expiry_options
                server_error=server_field(value, EXPIRES_IN_DAYS.name)/>
            <SelectField label="Company" name=COMPANY.name value=company options=company_options
                server_error=server_field(value, COMPANY.name) hint="The key sees this company and the companies below it."/>
            <div class="field">
                <span class="field-label">"Permissions"</span>
                <p class="field-hint">"Only permissions you hold can be given."</p>
                <div class="permission-grid">{groups}</div>
                {move || server_field(value, PERMISSIONS).get().map(|m| view! { <p class="field-error">{m}</p> })}
            </div>
            <DialogActions open label="Create key" pending=action.pending()/>
        </ActionForm>
    }
}

