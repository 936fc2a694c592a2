//! A modal dialog: `role="dialog"` with its title as accessible name, focus moved into it when
//! it opens, Escape and the backdrop close it.

use leptos::{html, prelude::*, wasm_bindgen::JsCast};

#[component]
pub fn Dialog(
    /// Unique on the page; the title and description ids derive from it.
    id: &'static str,
    /// Whether the dialog is shown.
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    /// Optional text under the title, also the dialog's accessible description.
    #[prop(optional, into)]
    description: Option<Signal<String>>,
    children: ChildrenFn,
) -> impl IntoView {
    let title_id = format!("{id}-title");
    let description_id = format!("{id}-description");
    let panel = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        if let Some(panel) = panel.get() {
            // Focus the first field or button, else the panel itself.
            let first = panel
                .query_selector("input:not([type=hidden]), select, textarea, button")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            let _ = match first {
                Some(element) => element.focus(),
                None => panel.focus(),
            };
        }
    });
    let children = StoredValue::new(children);
    let describedby = description.is_some().then(|| description_id.clone());
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| open.set(false)>
                <div
                    class="dialog"
                    id=id
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby=title_id.clone()
                    aria-describedby=describedby.clone()
                    tabindex="-1"
                    node_ref=panel
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            open.set(false);
                        }
                    }
                >
                    <h2 id=title_id.clone() class="dialog-title">{move || title.get()}</h2>
                    {description.map(|d| view! { <p class="dialog-description" id=description_id.clone()>{move || d.get()}</p> })}
                    {children.read_value()()}
                </div>
            </div>
        </Show>
    }
}
