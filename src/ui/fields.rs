//! Form fields with a visible label, the shared rule's message as the user types, and the
//! server's message after a submission. Messages are tied to their input with
//! `aria-describedby` and mark it `aria-invalid`.

use crate::error::AppError;
use leptos::prelude::*;

/// Which message a field shows: the shared rule's once the user has typed in the field and left
/// it (so typing is not interrupted, and merely tabbing through an empty form does not shout),
/// else the server's until the user edits the value.
fn field_message(
    value: RwSignal<String>,
    rule: Option<Signal<Option<String>>>,
    server_error: Option<Signal<Option<String>>>,
    reveal: Option<Signal<bool>>,
) -> (Signal<Option<String>>, RwSignal<bool>, RwSignal<bool>) {
    let touched = RwSignal::new(false);
    let edited = RwSignal::new(false);
    if let Some(server) = server_error {
        // A new answer from the server shows again even if the value was edited before.
        Effect::new(move |_| {
            server.track();
            edited.set(false);
        });
    }
    // Read with `try_`: a dialog's fields can be disposed while an update is in flight.
    let message = Signal::derive(move || {
        value.track();
        let shown = touched.get() || reveal.is_some_and(|r| r.get());
        let client = rule.filter(|_| shown).and_then(|r| r.get());
        client.or_else(|| server_error.filter(|_| !edited.get()).and_then(|s| s.get()))
    });
    (message, touched, edited)
}

fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn described_by(hint_id: Option<String>, error_id: String, has_error: bool) -> Option<String> {
    let ids: Vec<String> = hint_id.into_iter().chain(has_error.then_some(error_id)).collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

#[component]
pub fn TextField(
    #[prop(into)] label: String,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    /// The shared rule's message for the current value.
    #[prop(optional, into)]
    rule: Option<Signal<Option<String>>>,
    /// The server's message for this field after the last submission.
    #[prop(optional, into)]
    server_error: Option<Signal<Option<String>>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    /// Shows the rule's message even before the user touched the field (a "Next" step).
    #[prop(optional, into)]
    reveal: Option<Signal<bool>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = hint.as_ref().map(|_| format!("{id}-hint"));
    let (message, touched, edited) = field_message(value, rule, server_error, reveal);
    let describedby = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || described_by(hint_id.clone(), error_id.clone(), message.try_with(Option::is_some).unwrap_or(false))
    };
    view! {
        <div class="field" class:field-invalid=move || message.try_with(Option::is_some).unwrap_or(false)>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
            <input
                id=id.clone()
                name=name
                type=input_type
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                value=value.get_untracked()
                prop:value=move || value.try_get().unwrap_or_default()
                aria-invalid=move || message.try_with(Option::is_some).unwrap_or(false).then_some("true")
                aria-describedby=describedby
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    edited.set(true);
                }
                on:blur=move |_| if edited.get_untracked() { touched.set(true) }
            />
            {move || message.try_get().flatten().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

#[component]
pub fn TextAreaField(
    #[prop(into)] label: String,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(optional, into)] rule: Option<Signal<Option<String>>>,
    #[prop(optional, into)] server_error: Option<Signal<Option<String>>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] reveal: Option<Signal<bool>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = hint.as_ref().map(|_| format!("{id}-hint"));
    let (message, touched, edited) = field_message(value, rule, server_error, reveal);
    let describedby = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || described_by(hint_id.clone(), error_id.clone(), message.try_with(Option::is_some).unwrap_or(false))
    };
    view! {
        <div class="field" class:field-invalid=move || message.try_with(Option::is_some).unwrap_or(false)>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
            <textarea
                id=id.clone()
                name=name
                rows="4"
                prop:value=move || value.try_get().unwrap_or_default()
                aria-invalid=move || message.try_with(Option::is_some).unwrap_or(false).then_some("true")
                aria-describedby=describedby
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    edited.set(true);
                }
                on:blur=move |_| if edited.get_untracked() { touched.set(true) }
                // The initial text as markup (escaped), so server and browser agree on the
                // element's children even when it is empty.
                inner_html=escape_text(&value.get_untracked())
            ></textarea>
            {move || message.try_get().flatten().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    name: &'static str,
    value: RwSignal<String>,
    /// `(value, label)` pairs.
    options: Vec<(String, String)>,
    #[prop(optional, into)] server_error: Option<Signal<Option<String>>>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = hint.as_ref().map(|_| format!("{id}-hint"));
    let (message, _touched, edited) = field_message(value, None, server_error, None);
    let describedby = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || described_by(hint_id.clone(), error_id.clone(), message.try_with(Option::is_some).unwrap_or(false))
    };
    view! {
        <div class="field" class:field-invalid=move || message.try_with(Option::is_some).unwrap_or(false)>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id.clone()>{h}</p> })}
            <select
                id=id.clone()
                name=name
                aria-invalid=move || message.try_with(Option::is_some).unwrap_or(false).then_some("true")
                aria-describedby=describedby
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    edited.set(true);
                }
            >
                {options
                    .into_iter()
                    .map(|(option, text)| {
                        let selected = {
                            let option = option.clone();
                            move || value.try_with(|v| *v == option).unwrap_or(false)
                        };
                        view! { <option value=option selected=selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            {move || message.try_get().flatten().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> })}
        </div>
    }
}

/// The form-level message for a failed submission, announced to screen readers.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    // `try_get`: a dialog may close (and dispose this) in the same tick its action finishes.
    move || {
        error.try_get().flatten().map(|e| {
            view! {
                <div class="alert alert-error" role="alert">
                    {e.to_string()}
                </div>
            }
        })
    }
}

/// A polite live region for confirmations; present even when empty so changes are announced.
#[component]
pub fn StatusMessage(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div role="status" class="status-region">
            {move || message.try_get().flatten().map(|m| view! { <div class="alert alert-success">{m}</div> })}
        </div>
    }
}

#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional, into)] pending_label: Option<String>,
    #[prop(default = "btn btn-primary")] class: &'static str,
) -> impl IntoView {
    let busy_label = pending_label.unwrap_or_else(|| format!("{label}…"));
    view! {
        <button type="submit" class=class disabled=move || pending.try_get().unwrap_or(false)
            aria-busy=move || pending.try_get().unwrap_or(false).then_some("true")>
            {move || if pending.try_get().unwrap_or(false) { busy_label.clone() } else { label.clone() }}
        </button>
    }
}
