//! The webhooks section of the API page: endpoints, the dialog that adds one, the secret shown
//! once (when made or rotated), and the delivery log with "Send again".

use super::{
    list_webhooks, CreateWebhook, DeleteWebhook, DeliveryRow, RedeliverWebhook, RotateWebhookSecret, WebhookRow, WebhookSecret, Webhooks,
    EVENTS, URL,
};
use crate::{
    services::webhooks::Event,
    ui::{action_error, format_time, on_success, rule_of, server_field, ConfirmDialog, Dialog, DialogActions, FormAlert, Loaded, TextField},
};
use leptos::prelude::*;

#[component]
pub fn WebhooksSection() -> impl IntoView {
    let refresh = RwSignal::new(0);
    let hooks = Resource::new(move || refresh.get(), |_| list_webhooks());
    let create = ServerAction::<CreateWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let create_open = RwSignal::new(false);
    let delete_open = RwSignal::new(false);
    let deleting = RwSignal::new(None::<WebhookRow>);
    let secret = RwSignal::new(None::<WebhookSecret>);
    let bump = move || refresh.update(|n| *n += 1);
    on_success(create.value(), move |made: &WebhookSecret| {
        secret.set(Some(made.clone()));
        create_open.set(false);
        bump();
    });
    on_success(rotate.value(), move |made: &WebhookSecret| secret.set(Some(made.clone())));
    on_success(delete.value(), move |_: &()| {
        delete_open.set(false);
        bump();
    });
    on_success(redeliver.value(), move |_: &()| bump());
    view! {
        <section class="card" aria-labelledby="webhooks-heading">
            <div class="card-header">
                <h2 id="webhooks-heading" class="card-title">"Webhooks"</h2>
                <button type="button" class="btn btn-primary" on:click=move |_| { create.clear(); create_open.set(true); }>"New webhook"</button>
            </div>
            <p class="muted">"Roster posts each chosen event as JSON to your URL, signed in the "<code>"Roster-Signature"</code>
                " header ("<code>"t=…,v1=…"</code>": HMAC-SHA256 of the timestamp, a dot and the body, with the endpoint's secret). A delivery that is not answered with 2xx is tried again, waiting longer each time."</p>
            <FormAlert error=action_error(rotate.value())/>
            {move || secret.get().map(|made| view! { <SecretPanel made on_done=move || secret.set(None)/> })}
            <Loaded resource=hooks view=move |list: Webhooks| view! {
                <HookTable hooks=list.hooks.clone() rotate deleting delete_open/>
                <DeliveryLog deliveries=list.deliveries redeliver/>
            }/>
        </section>
        <Dialog id="new-webhook" open=create_open title=Signal::derive(|| "New webhook".to_owned())>
            {move || {
                let url = RwSignal::new(String::new());
                let value = create.value();
                let boxes = Event::ALL
                    .into_iter()
                    .map(|e| view! {
                        <label class="checkbox"><input type="checkbox" name="events[]" value=e.key()/>{e.label()}</label>
                    })
                    .collect_view();
                view! {
                    <FormAlert error=action_error(value)/>
                    <ActionForm action=create attr:class="form" attr:novalidate=true>
                        <TextField label="Endpoint URL" name=URL.name value=url input_type="url" rule=rule_of(&URL, url)
                            server_error=server_field(value, URL.name) hint="https://… on your side; it must answer with 2xx." required=true/>
                        <fieldset class="permission-group">
                            <legend>"Events"</legend>
                            {boxes}
                        </fieldset>
                        {move || server_field(value, EVENTS).get().map(|m| view! { <p class="field-error">{m}</p> })}
                        <DialogActions open=create_open label="Add webhook" pending=create.pending()/>
                    </ActionForm>
                }
            }}
        </Dialog>
        <ConfirmDialog id="delete-webhook" open=delete_open error=action_error(delete.value())
            title=Signal::derive(move || format!("Delete the webhook to {}?", deleting.get().map(|h| h.url).unwrap_or_default()))>
            {move || deleting.get().map(|hook| {
                delete.clear();
                view! {
                    <p>"No more events are sent to it, and its delivery log goes with it."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="id" value=hook.id/>
                        <DialogActions open=delete_open label="Delete webhook" pending=delete.pending() class="btn btn-danger"/>
                    </ActionForm>
                }
            })}
        </ConfirmDialog>
    }
}

#[component]
fn SecretPanel(made: WebhookSecret, on_done: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="alert alert-success new-key" role="status">
            <p><strong>{format!("The signing secret for {}.", made.url)}</strong>" Copy it now: it is not shown again."</p>
            <div class="field">
                <label for="webhook-secret">"Signing secret"</label>
                <input id="webhook-secret" type="text" readonly=true class="mono" value=made.secret/>
            </div>
            <div class="form-actions">
                <button type="button" class="btn btn-secondary" on:click=move |_| on_done()>"Done"</button>
            </div>
        </div>
    }
}

#[component]
fn HookTable(
    hooks: Vec<WebhookRow>,
    rotate: ServerAction<RotateWebhookSecret>,
    deleting: RwSignal<Option<WebhookRow>>,
    delete_open: RwSignal<bool>,
) -> impl IntoView {
    if hooks.is_empty() {
        return view! { <p class="empty">"No webhooks yet."</p> }.into_any();
    }
    let rows = hooks
        .into_iter()
        .map(|hook| {
            let events = hook.events.iter().map(|e| e.label()).collect::<Vec<_>>().join(", ");
            let for_delete = hook.clone();
            let url = hook.url.clone();
            view! {
                <tr>
                    <th scope="row" class="mono cell-wrap">{hook.url.clone()}</th>
                    <td class="cell-wrap">{events}</td>
                    <td>{format_time(&hook.created_at)}</td>
                    <td>
                        <div class="row-actions">
                            <ActionForm action=rotate>
                                <input type="hidden" name="id" value=hook.id/>
                                <button type="submit" class="btn btn-ghost btn-small">"New secret"<span class="visually-hidden">{format!(" for {url}")}</span></button>
                            </ActionForm>
                            <button type="button" class="btn btn-ghost btn-small btn-ghost-danger"
                                on:click=move |_| { deleting.set(Some(for_delete.clone())); delete_open.set(true); }>
                                "Delete"<span class="visually-hidden">{format!(" the webhook to {}", hook.url)}</span>
                            </button>
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Webhooks table">
            <table class="table">
                <caption class="visually-hidden">"Webhooks"</caption>
                <thead><tr>
                    <th scope="col">"Endpoint"</th><th scope="col">"Events"</th><th scope="col">"Added"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn DeliveryLog(deliveries: Vec<DeliveryRow>, redeliver: ServerAction<RedeliverWebhook>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="muted">"Deliveries will be listed here."</p> }.into_any();
    }
    let rows = deliveries
        .into_iter()
        .map(|d| {
            let badge = match d.status.as_str() {
                "delivered" => "badge badge-success",
                "failed" => "badge badge-danger",
                _ => "badge badge-warning",
            };
            let status = match d.status.as_str() {
                "delivered" => "Delivered",
                "failed" => "Failed",
                _ => "Pending",
            };
            let answer = match (d.response_code, &d.last_error) {
                (Some(code), _) => code.to_string(),
                (None, Some(error)) => error.clone(),
                (None, None) => "—".into(),
            };
            let next = d.next_attempt_at.as_ref().map(|at| format!("Next try {}", format_time(at)));
            let event_id = d.event_id.clone();
            view! {
                <tr>
                    <td>{format_time(&d.created_at)}</td>
                    <th scope="row">{d.event_type.clone()}<div class="cell-note mono">{d.event_id.clone()}</div></th>
                    <td class="mono cell-wrap">{d.url.clone()}</td>
                    <td><span class=badge>{status}</span>{next.map(|n| view! { <div class="cell-note">{n}</div> })}</td>
                    <td class="cell-wrap">{answer}</td>
                    <td>{d.attempts}</td>
                    <td>
                        <ActionForm action=redeliver>
                            <input type="hidden" name="id" value=d.id/>
                            <button type="submit" class="btn btn-ghost btn-small">"Send again"<span class="visually-hidden">{format!(" {event_id}")}</span></button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3 class="card-subtitle">"Recent deliveries"</h3>
        <div class="table-scroll" tabindex="0" role="region" aria-label="Recent webhook deliveries table">
            <table class="table">
                <caption class="visually-hidden">"Recent webhook deliveries"</caption>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Endpoint"</th><th scope="col">"Status"</th>
                    <th scope="col">"Answer"</th><th scope="col">"Attempts"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
