//! The end of every dialog (Cancel beside the action) and the confirmation dialog for what
//! cannot be undone.

use super::{Dialog, FormAlert, SubmitButton};
use crate::error::AppError;
use leptos::prelude::*;

/// Cancel (closes the dialog) and the dialog's submit button.
#[component]
pub fn DialogActions(
    open: RwSignal<bool>,
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional, into)] pending_label: Option<String>,
    #[prop(default = "btn btn-primary")] class: &'static str,
) -> impl IntoView {
    let pending_label = pending_label.unwrap_or_else(|| format!("{label}…"));
    view! {
        <div class="dialog-actions">
            <button type="button" class="btn btn-secondary" on:click=move |_| open.set(false)>"Cancel"</button>
            <SubmitButton label=label pending=pending pending_label=pending_label class=class/>
        </div>
    }
}

/// "Delete X?" with what goes with it, and the button that does it. `form` is the action's
/// form (hidden fields and all) around [`DialogActions`]; the dialog shows the action's error.
#[component]
pub fn ConfirmDialog(
    id: &'static str,
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(optional, into)] description: Option<Signal<String>>,
    #[prop(into)] error: Signal<Option<AppError>>,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    match description {
        Some(description) => view! {
            <Dialog id open title description>
                <FormAlert error/>
                {children.read_value()()}
            </Dialog>
        }
        .into_any(),
        None => view! {
            <Dialog id open title>
                <FormAlert error/>
                {children.read_value()()}
            </Dialog>
        }
        .into_any(),
    }
}
