//! The API page (holders of API keys – Manage; built in: Administrators): the account's API
//! keys, and the operations of the REST API as its OpenAPI document lists them.

use super::{get_api_reference, ApiReference, BASE_PATH};
use crate::{
    api_keys::ApiKeysSection,
    ui::{Loaded, PageHeader},
    webhooks::WebhooksSection,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApiPage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| get_api_reference());
    view! {
        <Title text="API"/>
        <PageHeader title="API" description="Connect your CRM, billing or device platform to Roster with an API key."/>
        <ApiKeysSection/>
        <Loaded resource=reference view=|reference| view! {
            {reference.webhooks.then(|| view! { <WebhooksSection/> })}
            <Operations reference/>
        }/>
    }
}

#[component]
fn Operations(reference: ApiReference) -> impl IntoView {
    let spec = format!("{BASE_PATH}/openapi.json");
    let rows = reference
        .operations
        .into_iter()
        .map(|op| {
            let (summary, rest) = (op.summary, op.description);
            view! {
                <tr>
                    <td><span class="method">{op.method}</span></td>
                    <th scope="row" class="mono">{op.path}</th>
                    <td class="cell-wrap">{summary}<div class="cell-note">{with_code(&rest)}</div></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="operations-heading">
            <h2 id="operations-heading" class="card-title">"Operations"</h2>
            <p class="muted">"Base URL "<code>{reference.base_url}</code>". The full description, with every schema and example, is the OpenAPI document "
                <a href=spec.clone() rel="external">{spec.clone()}</a>"."</p>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Operations table">
                <table class="table">
                    <caption class="visually-hidden">"Operations of the REST API"</caption>
                    <thead><tr><th scope="col">"Method"</th><th scope="col">"Path"</th><th scope="col">"What it does"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The description's `code` spans (Markdown backticks, as the OpenAPI document writes them)
/// shown as code rather than as backticks.
fn with_code(text: &str) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { view! { <code>{part.to_owned()}</code> }.into_any() } else { part.to_owned().into_any() })
        .collect_view()
}
