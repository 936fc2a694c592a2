//! Account settings for Administrators: the account's name, how long invitation and activation
//! links stay valid, and session lifetimes (empty means the server's defaults).

use crate::{
    error::{AppError, FieldErrors},
    ui::{action_error, action_succeeded, server_field, FormAlert, PageHeader, SubmitButton, TextField},
    validation::{required_text, NAME_MAX_CHARS},
};
#[cfg(feature = "ssr")]
use crate::permissions::Permission;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub name: String,
    pub invitation_valid_days: i32,
    pub session_idle_minutes: Option<i32>,
    pub session_absolute_hours: Option<i32>,
    pub default_idle_minutes: u32,
    pub default_absolute_hours: u32,
    pub version: i32,
}

#[derive(Debug)]
pub struct SettingsInput {
    pub name: String,
    pub invitation_valid_days: i32,
    pub session_idle_minutes: Option<i32>,
    pub session_absolute_hours: Option<i32>,
}

fn number_in(raw: &str, range: std::ops::RangeInclusive<i32>, unit: &str) -> Result<i32, String> {
    match raw.trim().parse::<i32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!("Enter a whole number of {unit} from {} to {}.", range.start(), range.end())),
    }
}

fn optional_number_in(raw: &str, range: std::ops::RangeInclusive<i32>, unit: &str) -> Result<Option<i32>, String> {
    if raw.trim().is_empty() { Ok(None) } else { number_in(raw, range, unit).map(Some) }
}

pub fn validate_settings(name: &str, invitation_valid_days: &str, idle: &str, absolute: &str) -> Result<SettingsInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.take("name", required_text(name, "the account name", NAME_MAX_CHARS));
    let days = errors.take("invitation_valid_days", number_in(invitation_valid_days, 1..=30, "days"));
    let idle = errors.take("session_idle_minutes", optional_number_in(idle, 5..=1440, "minutes"));
    let absolute = errors.take("session_absolute_hours", optional_number_in(absolute, 1..=720, "hours"));
    match (name, days, idle, absolute) {
        (Some(name), Some(invitation_valid_days), Some(session_idle_minutes), Some(session_absolute_hours)) => {
            Ok(SettingsInput { name, invitation_valid_days, session_idle_minutes, session_absolute_hours })
        }
        _ => Err(errors),
    }
}

#[server(prefix = "/api", endpoint = "account_settings")]
pub async fn get_account_settings() -> Result<AccountSettings, AppError> {
    use crate::{auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::AccountSettingsManage)?;
    let row = sqlx::query!(
        "SELECT name, invitation_valid_days, session_idle_minutes, session_absolute_hours, version
           FROM accounts WHERE id = $1",
        staff.account_id
    )
    .fetch_one(&state.db)
    .await?;
    Ok(AccountSettings {
        name: row.name,
        invitation_valid_days: row.invitation_valid_days,
        session_idle_minutes: row.session_idle_minutes,
        session_absolute_hours: row.session_absolute_hours,
        default_idle_minutes: state.config.session_idle_minutes,
        default_absolute_hours: state.config.session_absolute_hours,
        version: row.version,
    })
}

#[server(prefix = "/api", endpoint = "update_account_settings")]
pub async fn update_account_settings(
    name: String,
    invitation_valid_days: String,
    session_idle_minutes: String,
    session_absolute_hours: String,
    version: i32,
) -> Result<i32, AppError> {
    use crate::{audit::ssr::{self as audit, Changes}, auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::AccountSettingsManage)?;
    let input = validate_settings(&name, &invitation_valid_days, &session_idle_minutes, &session_absolute_hours)
        .map_err(AppError::Validation)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = sqlx::query!(
        "SELECT name, invitation_valid_days, session_idle_minutes, session_absolute_hours, version
           FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
        staff.account_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.version != version {
        return Err(AppError::Conflict);
    }
    sqlx::query!(
        "UPDATE accounts SET name = $2, invitation_valid_days = $3, session_idle_minutes = $4,
                             session_absolute_hours = $5, version = version + 1
          WHERE id = $1",
        staff.account_id,
        input.name,
        input.invitation_valid_days,
        input.session_idle_minutes,
        input.session_absolute_hours
    )
    .execute(&mut *tx)
    .await?;
    let changes = Changes::default()
        .field("name", &before.name, &input.name)
        .field("invitation_valid_days", &before.invitation_valid_days, &input.invitation_valid_days)
        .field("session_idle_minutes", &before.session_idle_minutes, &input.session_idle_minutes)
        .field("session_absolute_hours", &before.session_absolute_hours, &input.session_absolute_hours);
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "account.settings_updated",
            record_type: "account",
            record_id: Some(staff.account_id),
            changes: changes.into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    crate::server::http::redirect_plain_form("/settings?saved=1");
    Ok(version + 1)
}

#[component]
pub fn AccountSettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| get_account_settings());
    view! {
        <Title text="Account settings"/>
        <PageHeader title="Account settings" description="Settings that apply to everyone in this account."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <SettingsForm settings=s/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(settings: AccountSettings) -> impl IntoView {
    let auth = crate::auth::use_auth();
    let save = ServerAction::<UpdateAccountSettings>::new();
    let value = save.value();
    let version = RwSignal::new(settings.version);
    // The form stays as typed; the next save needs the new version, and the top bar the name.
    crate::ui::on_success(value, move |new_version: &i32| {
        version.set(*new_version);
        auth.refresh();
    });
    let query = leptos_router::hooks::use_query_map();
    let succeeded = action_succeeded(value);
    let saved = Signal::derive(move || {
        succeeded.get() || (query.with(|q| q.get("saved").is_some()) && value.with(Option::is_none))
    });
    let name = RwSignal::new(settings.name.clone());
    let days = RwSignal::new(settings.invitation_valid_days.to_string());
    let idle = RwSignal::new(settings.session_idle_minutes.map(|n| n.to_string()).unwrap_or_default());
    let absolute = RwSignal::new(settings.session_absolute_hours.map(|n| n.to_string()).unwrap_or_default());
    view! {
        <section class="card form-card">
            <div role="status">
                <Show when=move || saved.get()>
                    <div class="alert alert-success">"The settings have been saved."</div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=save attr:class="form" attr:novalidate=true>
                <input type="hidden" name="version" prop:value=move || version.get().to_string() value=settings.version/>
                <TextField label="Account name" name="name" value=name
                    rule=Signal::derive(move || required_text(&name.get(), "the account name", NAME_MAX_CHARS).err())
                    server_error=server_field(value, "name") required=true/>
                <TextField label="Invitation links stay valid for (days)" name="invitation_valid_days" input_type="number" value=days
                    rule=Signal::derive(move || number_in(&days.get(), 1..=30, "days").err())
                    hint="From 1 to 30 days. Links already sent keep the validity they were sent with."
                    server_error=server_field(value, "invitation_valid_days") required=true/>
                <div class="field-grid">
                    <TextField label="Sign out after inactivity (minutes)" name="session_idle_minutes" input_type="number" value=idle
                        rule=Signal::derive(move || optional_number_in(&idle.get(), 5..=1440, "minutes").err())
                        hint=format!("Empty: the server's default, {} minutes.", settings.default_idle_minutes)
                        server_error=server_field(value, "session_idle_minutes")/>
                    <TextField label="Sign out after (hours), active or not" name="session_absolute_hours" input_type="number" value=absolute
                        rule=Signal::derive(move || optional_number_in(&absolute.get(), 1..=720, "hours").err())
                        hint=format!("Empty: the server's default, {} hours.", settings.default_absolute_hours)
                        server_error=server_field(value, "session_absolute_hours")/>
                </div>
                <div class="form-actions">
                    <SubmitButton label="Save settings" pending=save.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_validity_is_one_to_thirty_days_and_sessions_may_use_defaults() {
        let ok = validate_settings("Acme", "7", "", "").unwrap();
        assert_eq!((ok.invitation_valid_days, ok.session_idle_minutes, ok.session_absolute_hours), (7, None, None));
        let errors = validate_settings("", "31", "2", "0").unwrap_err();
        for field in ["name", "invitation_valid_days", "session_idle_minutes", "session_absolute_hours"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
        assert!(validate_settings("Acme", "0", "", "").is_err());
        assert_eq!(validate_settings("Acme", "30", "60", "24").unwrap().session_absolute_hours, Some(24));
    }
}
