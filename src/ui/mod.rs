//! The small set of shared UI pieces, naming no feature: form fields with their messages,
//! alerts, buttons, dialogs, page headers, the public pages' card, tables with paging and
//! sorting, usage bars and daily charts, and formatting. Components are named for what the user sees.

mod chart;
mod confirm;
mod dialog;
mod fields;
mod format;
mod frame;
mod layout;
mod links;
mod password;
mod refresh;
mod table;

pub use chart::{DailyBars, Series, UsageBar};
pub use confirm::{ConfirmDialog, DialogActions};
pub use dialog::Dialog;
pub use fields::{FormAlert, SelectField, StatusMessage, SubmitButton, TextAreaField, TextField};
pub use format::format_time;
pub use frame::{LoadError, Loaded};
pub use layout::{AuthLayout, Logo, PageHeader};
pub use links::LinkProblem;
pub use refresh::Refresh;
pub use password::{NewPasswordFields, PasswordChecklist, PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD};
pub use table::{encode, page_size_or_default, query_with, ExportLink, KeysetPagination, LinkTabs, Pager, Pagination, SortHeader, MAX_PAGE, PAGE_SIZES};

use crate::error::AppError;
use leptos::prelude::*;

/// The last result of a server action (`action.value()`), as the error it carried (if any).
pub fn action_error<T, V>(value: V) -> Signal<Option<AppError>>
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

/// The rule of a field for the value as typed: its message, or none.
pub fn rule_of<T: 'static>(field: &'static crate::validation::Field<T>, value: RwSignal<String>) -> Signal<Option<String>> {
    Signal::derive(move || field.message(&value.get()))
}

/// The server's message for one field, from an action's last error.
pub fn server_field_of(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.field_message(field)))
}

/// The server's message for one field from the last result of an action.
pub fn server_field<T, V>(value: V, field: &'static str) -> Signal<Option<String>>
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || {
        value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().and_then(|e| e.field_message(field))))
    })
}

/// Whether the last run of an action succeeded.
pub fn action_succeeded<T, V>(value: V) -> Signal<bool>
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || value.with(|v| matches!(v, Some(Ok(_)))))
}

/// Puts `text` on the clipboard (in the browser; nothing on the server).
pub fn copy_to_clipboard(_text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(_text);
    }
}

/// Loads `path` as a new page. Used when the signed-in identity changes, so that nothing of the
/// previous session's state survives in the browser.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Runs `then` with the output of each successful run of the action (in the browser).
pub fn on_success<T, V>(value: V, then: impl Fn(&T) + 'static)
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Effect::new(move |_| {
        value.with(|v| {
            if let Some(Ok(output)) = v {
                then(output);
            }
        });
    });
}
