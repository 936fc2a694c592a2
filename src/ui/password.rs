//! A new password and its repetition, with the policy as a checklist that fills in as the
//! user types (SPEC 1.7): the same rules the server enforces, under the one pair of field names
//! every form posts (`password`, `password_confirm`).

use super::{server_field_of, TextField};
use crate::{
    error::AppError,
    validation::{confirm_matches, Password, PasswordChecks},
};
use leptos::prelude::*;

/// The posted names of the two fields, and the keys of their messages.
pub const PASSWORD_FIELD: &str = "password";
pub const PASSWORD_CONFIRM_FIELD: &str = "password_confirm";

/// The password policy as a checklist that fills in while the user types.
#[component]
pub fn PasswordChecklist(password: RwSignal<String>, #[prop(into)] email: Signal<String>) -> impl IntoView {
    let checks = Memo::new(move |_| {
        let email = email.get();
        PasswordChecks::of(&password.get(), Some(email.as_str()).filter(|e| !e.is_empty()))
    });
    let item = move |met: Signal<bool>, text: &'static str| {
        view! {
            <li class:met=move || met.get()>
                <span class="check" aria-hidden="true"></span>
                {text}
                <span class="visually-hidden">{move || if met.get() { " (met)" } else { " (not met yet)" }}</span>
            </li>
        }
    };
    view! {
        <ul class="password-checklist" aria-label="Password rules">
            {item(Signal::derive(move || checks.get().long_enough && checks.get().short_enough), "12 to 128 characters")}
            {item(Signal::derive(move || checks.get().chars > 0 && checks.get().not_common), "Not a common password")}
            {item(Signal::derive(move || checks.get().chars > 0 && checks.get().not_email), "Not your e-mail address")}
        </ul>
    }
}

/// The two fields of a new password with the checklist between them. `new` labels them "New
/// password" (a change) instead of "Password" (a first one).
#[component]
pub fn NewPasswordFields(
    password: RwSignal<String>,
    password_confirm: RwSignal<String>,
    /// The person's address: their password may not be it.
    #[prop(into)]
    email: Signal<String>,
    /// The last answer of the form's action, for the server's messages.
    #[prop(into)]
    answer: Signal<Option<AppError>>,
    #[prop(optional)] new: bool,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    /// Shows the rules' messages before the fields were touched (a "Next" step).
    #[prop(optional, into)]
    reveal: Option<Signal<bool>>,
) -> impl IntoView {
    let (first, repeat) = if new { ("New password", "Repeat new password") } else { ("Password", "Repeat password") };
    let rule = Signal::derive(move || {
        let email = email.get();
        Password::parse(&password.get(), Some(email.as_str()).filter(|e| !e.is_empty())).err()
    });
    let repeat_rule = Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err());
    view! {
        <TextField label=first name=PASSWORD_FIELD input_type="password" autocomplete="new-password" value=password
            rule=rule server_error=server_field_of(answer, PASSWORD_FIELD) required=required autofocus=autofocus
            reveal=reveal.unwrap_or_else(|| Signal::stored(false))/>
        <PasswordChecklist password=password email=email/>
        <TextField label=repeat name=PASSWORD_CONFIRM_FIELD input_type="password" autocomplete="new-password"
            value=password_confirm rule=repeat_rule server_error=server_field_of(answer, PASSWORD_CONFIRM_FIELD)
            required=required reveal=reveal.unwrap_or_else(|| Signal::stored(false))/>
    }
}
