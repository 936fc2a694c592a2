//! One user (SPEC 3.4–3.7): the two tabs (basic information, role), password reset, and the
//! membership actions with their confirmations.

use super::{
    get_user, user_form_options, users_page::status_badge, ChangeMembership, ResendInvitation, ResetUserPassword,
    RevokeInvitation, SetUserRole, UpdateUser, UserChoices, UserDetail, UserStatus, COMPANY, DESCRIPTION, DISPLAY_NAME, EMAIL,
    PHONE, REGION, ROLE,
};
use crate::{
    audit::RecordAudit,
    services::audit::RecordType,
    ui::{
        action_error, format_time, on_success, rule_of, server_field, Dialog, DialogActions, FormAlert, LinkTabs, NewPasswordFields,
        PageHeader, SelectField, StatusMessage, SubmitButton, TextAreaField, TextField,
    },
    validation::REGIONS,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let refresh = RwSignal::new(0);
    let user = Resource::new(move || (id(), refresh.get()), |(id, _)| get_user(id));
    let options = Resource::new(|| (), |_| async move { user_form_options().await.ok() });
    let notice = RwSignal::new(None::<String>);
    let query = use_query_map();
    Effect::new(move |_| {
        if query.with(|q| q.get("created").is_some()) {
            notice.set(Some("The user has been created.".into()));
        }
    });
    let changed = Callback::new(move |message: String| {
        notice.set(Some(message));
        refresh.update(|n| *n += 1);
    });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let options = options.await;
                match user.await {
                    Ok(user) => view! { <UserView user options notice changed/> }.into_any(),
                    Err(e) => view! {
                        <PageHeader title="User"/>
                        <div class="alert alert-error" role="alert">{e.to_string()}</div>
                        <a href="/users">"Back to users"</a>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserView(
    user: UserDetail,
    options: Option<UserChoices>,
    notice: RwSignal<Option<String>>,
    changed: Callback<String>,
) -> impl IntoView {
    let query = use_query_map();
    let tab = move || query.with(|q| q.get("tab").unwrap_or_default());
    let base = format!("/users/{}", user.id);
    let audit = user.can_view_audit;
    let tabs = {
        let base = base.clone();
        move || {
            let mut tabs = vec![
                ("Basic information".to_owned(), base.clone(), tab() != "role" && tab() != "audit"),
                ("Select role".to_owned(), format!("{base}?tab=role"), tab() == "role"),
            ];
            if audit {
                tabs.push(("Audit".to_owned(), format!("{base}?tab=audit"), tab() == "audit"));
            }
            tabs
        }
    };
    let manage = user.can_manage && options.is_some();
    let subtitle = format!(
        "{} · {} · {}",
        user.email,
        user.role_name,
        user.company_name
    );
    let facts = {
        let invitation = user.invitation_expires_at.filter(|_| user.status == UserStatus::Invited);
        view! {
            <dl class="facts">
                <div><dt>"Status"</dt><dd>{status_badge(user.status)}</dd></div>
                <div><dt>"Last sign-in"</dt><dd>{user.last_sign_in_at.map(|t| format_time(&t)).unwrap_or_else(|| "Never".into())}</dd></div>
                <div><dt>"Created"</dt><dd>{format_time(&user.created_at)}</dd></div>
                {invitation.map(|at| view! { <div><dt>"Invitation valid until"</dt><dd>{format_time(&at)}</dd></div> })}
                {user.must_change_password.then(|| view! { <div><dt>"Password"</dt><dd>"Must be changed at next sign-in"</dd></div> })}
            </dl>
        }
    };
    let user_for_tabs = user.clone();
    let user_for_actions = user.clone();
    view! {
        <Title text=user.display_name.clone()/>
        <PageHeader title=user.display_name.clone() description=subtitle>
            {manage.then(|| view! { <UserActions user=user_for_actions changed/> })}
        </PageHeader>
        <StatusMessage message=notice/>
        {facts}
        {move || view! { <LinkTabs label="User details" tabs=tabs()/> }}
        {move || {
            let user = user_for_tabs.clone();
            if audit && tab() == "audit" {
                return view! { <RecordAudit record_type=RecordType::User record_id=user.id/> }.into_any();
            }
            match options.clone() {
                Some(options) if user.can_manage && tab() == "role" => view! { <RoleForm user options changed/> }.into_any(),
                Some(options) if user.can_manage => view! { <BasicInformationForm user options changed/> }.into_any(),
                _ => view! { <ReadOnlyDetails user/> }.into_any(),
            }
        }}
    }
}

#[component]
fn ReadOnlyDetails(user: UserDetail) -> impl IntoView {
    view! {
        <section class="card form-card">
            <dl class="facts facts-stacked">
                <div><dt>"E-mail"</dt><dd>{user.email}</dd></div>
                <div><dt>"Role"</dt><dd>{user.role_name}</dd></div>
                <div><dt>"Company"</dt><dd>{user.company_name}</dd></div>
                <div><dt>"Region"</dt><dd>{user.region.unwrap_or_else(|| "Not set".into())}</dd></div>
                <div><dt>"Mobile phone"</dt><dd>{user.phone.unwrap_or_else(|| "Not set".into())}</dd></div>
                <div><dt>"Description"</dt><dd>{user.description.unwrap_or_default()}</dd></div>
            </dl>
            {(!user.can_manage).then(|| view! {
                <p class="field-hint">"You can see this user but not change them."</p>
            })}
        </section>
    }
}

#[component]
fn BasicInformationForm(user: UserDetail, options: UserChoices, changed: Callback<String>) -> impl IntoView {
    let action = ServerAction::<UpdateUser>::new();
    let value = action.value();
    on_success(value, move |_: &()| changed.run("The changes have been saved.".into()));
    let display_name = RwSignal::new(user.display_name.clone());
    let email = RwSignal::new(user.email.clone());
    let phone = RwSignal::new(user.phone.clone().unwrap_or_default());
    let region = RwSignal::new(user.region.clone().unwrap_or_default());
    let description = RwSignal::new(user.description.clone().unwrap_or_default());
    let company = RwSignal::new(user.company_id.to_string());
    let regions: Vec<(String, String)> = std::iter::once((String::new(), "Not set".to_owned()))
        .chain(REGIONS.iter().map(|r| (r.to_string(), r.to_string())))
        .collect();
    let companies: Vec<(String, String)> = options.companies.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    view! {
        <section class="card form-card">
            <FormAlert error=action_error(value)/>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="id" value=user.id/>
                <input type="hidden" name="version" value=user.version/>
                <TextField label="Username" name=DISPLAY_NAME.name value=display_name rule=rule_of(&DISPLAY_NAME, display_name)
                    server_error=server_field(value, DISPLAY_NAME.name) required=true/>
                <TextField label="E-mail" name=EMAIL.name input_type="email" value=email rule=rule_of(&EMAIL, email)
                    hint="Their sign-in name; it must stay unique." server_error=server_field(value, EMAIL.name) required=true/>
                <div class="field-grid">
                    <TextField label="Mobile phone" name=PHONE.name input_type="tel" value=phone rule=rule_of(&PHONE, phone)
                        server_error=server_field(value, PHONE.name)/>
                    <SelectField label="Region" name=REGION.name value=region options=regions server_error=server_field(value, REGION.name)/>
                </div>
                <SelectField label="Parent company" name=COMPANY.name value=company options=companies server_error=server_field(value, COMPANY.name)/>
                <TextAreaField label="Description" name=DESCRIPTION.name value=description rule=rule_of(&DESCRIPTION, description)
                    server_error=server_field(value, DESCRIPTION.name)/>
                <div class="form-actions">
                    <SubmitButton label="Save changes" pending=action.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn RoleForm(user: UserDetail, options: UserChoices, changed: Callback<String>) -> impl IntoView {
    let action = ServerAction::<SetUserRole>::new();
    let value = action.value();
    on_success(value, move |_: &()| changed.run("The role has been changed.".into()));
    let role = RwSignal::new(user.role_id.to_string());
    let allowed = options.roles.iter().any(|(id, _)| *id == user.role_id);
    view! {
        <section class="card form-card">
            <FormAlert error=action_error(value)/>
            {(!allowed).then(|| view! {
                <div class="alert alert-info">{format!("{} has the {} role, which you cannot assign.", user.display_name, user.role_name)}</div>
            })}
            <ActionForm action attr:class="form">
                <input type="hidden" name="id" value=user.id/>
                <input type="hidden" name="version" value=user.version/>
                <fieldset class="choices">
                    <legend>"Role"</legend>
                    <p class="field-hint">"Only roles at your rank or below are offered."</p>
                    {options.roles.into_iter().map(|(id, name)| {
                        let id = id.to_string();
                        let pick = id.clone();
                        let checked = {
                            let id = id.clone();
                            move || role.get() == id
                        };
                        view! {
                            <label class="choice">
                                <input type="radio" name=ROLE.name value=id checked=checked on:change=move |_| role.set(pick.clone())/>
                                <span><strong>{name}</strong></span>
                            </label>
                        }
                    }).collect_view()}
                    {move || server_field(value, ROLE.name).get().map(|m| view! { <p class="field-error">{m}</p> })}
                </fieldset>
                <div class="form-actions">
                    <SubmitButton label="Save role" pending=action.pending() pending_label="Saving…"/>
                </div>
            </ActionForm>
        </section>
    }
}

/// The buttons in the page header and their dialogs.
#[component]
fn UserActions(user: UserDetail, changed: Callback<String>) -> impl IntoView {
    let reset_open = RwSignal::new(false);
    let confirm_open = RwSignal::new(false);
    let confirming = RwSignal::new(None::<&'static str>);
    let ask = move |change: &'static str| {
        confirming.set(Some(change));
        confirm_open.set(true);
    };
    let membership = ServerAction::<ChangeMembership>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let navigate = use_navigate();
    let name = user.display_name.clone();
    on_success(membership.value(), {
        let name = name.clone();
        move |_: &()| {
            confirm_open.set(false);
            match confirming.get_untracked() {
                Some("remove") | Some("delete") => navigate("/users", Default::default()),
                Some("disable") => changed.run(format!("{name} has been disabled and signed out.")),
                _ => changed.run(format!("{name} has been enabled.")),
            }
        }
    });
    on_success(resend.value(), {
        let name = name.clone();
        move |_: &()| changed.run(format!("A new invitation was sent to {name}. The earlier link no longer works."))
    });
    let to_users = use_navigate();
    on_success(revoke.value(), move |_: &()| to_users("/users?status=invited", Default::default()));
    let invited = user.status == UserStatus::Invited;
    let disabled = user.status == UserStatus::Disabled;
    let is_self = user.is_self;
    let id = user.id;
    view! {
        <div class="action-group">
            {invited.then(|| view! {
                <ActionForm action=resend>
                    <input type="hidden" name="id" value=id/>
                    <SubmitButton label="Resend invitation" pending=resend.pending() class="btn btn-secondary"/>
                </ActionForm>
                <button type="button" class="btn btn-secondary" on:click=move |_| ask("revoke")>"Revoke invitation"</button>
            })}
            {(!invited && !is_self).then(|| view! {
                <button type="button" class="btn btn-secondary" on:click=move |_| reset_open.set(true)>"Reset password"</button>
                {if disabled {
                    view! {
                        <ActionForm action=membership>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="change" value="enable"/>
                            <SubmitButton label="Enable" pending=membership.pending() class="btn btn-secondary"/>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <button type="button" class="btn btn-secondary" on:click=move |_| ask("disable")>"Disable"</button> }.into_any()
                }}
                <button type="button" class="btn btn-secondary" on:click=move |_| ask("remove")>"Remove from account"</button>
                <button type="button" class="btn btn-danger" on:click=move |_| ask("delete")>"Delete"</button>
            })}
            {(invited && !is_self).then(|| view! {
                <button type="button" class="btn btn-danger" on:click=move |_| ask("delete")>"Delete"</button>
            })}
        </div>
        <ResetPasswordDialog open=reset_open user=user.clone() changed/>
        <Dialog id="confirm-membership" open=confirm_open
            title=Signal::derive({
                let name = name.clone();
                move || match confirming.get() {
                    Some("disable") => format!("Disable {name}?"),
                    Some("remove") => format!("Remove {name} from the account?"),
                    Some("delete") => format!("Delete {name}?"),
                    Some("revoke") => format!("Revoke the invitation of {name}?"),
                    _ => String::new(),
                }
            })>
            {move || {
                membership.clear();
                revoke.clear();
                let change = confirming.get().unwrap_or("disable");
                let text = match change {
                    "disable" => "They are signed out at once and cannot sign in until someone enables them again.",
                    "remove" => "They leave the account and are signed out at once. Their past actions stay in the audit log, and they can be invited again later.",
                    "delete" => "They are signed out and erased for good. This cannot be undone.",
                    _ => "The link in their invitation stops working. You can invite the address again later.",
                };
                let (label, class) = match change {
                    "disable" => ("Disable user", "btn btn-danger"),
                    "remove" => ("Remove from account", "btn btn-danger"),
                    "delete" => ("Delete user", "btn btn-danger"),
                    _ => ("Revoke invitation", "btn btn-danger"),
                };
                let form = if change == "revoke" {
                    view! {
                        <FormAlert error=action_error(revoke.value())/>
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=id/>
                            <DialogActions open=confirm_open label=label pending=revoke.pending() class=class/>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! {
                        <FormAlert error=action_error(membership.value())/>
                        <ActionForm action=membership>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="change" value=change/>
                            <DialogActions open=confirm_open label=label pending=membership.pending() class=class/>
                        </ActionForm>
                    }.into_any()
                };
                view! { <p>{text}</p> {form} }
            }}
        </Dialog>
    }
}

#[component]
fn ResetPasswordDialog(open: RwSignal<bool>, user: UserDetail, changed: Callback<String>) -> impl IntoView {
    let action = ServerAction::<ResetUserPassword>::new();
    let name = user.display_name.clone();
    on_success(action.value(), {
        let name = name.clone();
        move |_: &()| {
            open.set(false);
            changed.run(format!("{name}'s password was reset and they were signed out everywhere."));
        }
    });
    let email = user.email.clone();
    view! {
        <Dialog id="reset-password" open title=format!("Reset the password of {name}")
            description=Signal::derive(|| "Their sessions end at once, and they choose their own password at the next sign-in.".to_owned())>
            {
                let email = email.clone();
                move || {
                    action.clear();
                    let value = action.value();
                    let mode = RwSignal::new("generate".to_owned());
                    let password = RwSignal::new(String::new());
                    let password_confirm = RwSignal::new(String::new());
                    let email = email.clone();
                    let email_signal = Signal::derive(move || email.clone());
                    let choice = move |key: &'static str, label: &'static str, hint: &'static str| view! {
                        <label class="choice">
                            <input type="radio" name="mode" value=key checked=move || mode.get() == key on:change=move |_| mode.set(key.to_owned())/>
                            <span><strong>{label}</strong><span class="choice-hint">{hint}</span></span>
                        </label>
                    };
                    view! {
                        <FormAlert error=action_error(value)/>
                        <ActionForm action attr:class="form" attr:novalidate=true>
                            <input type="hidden" name="id" value=user.id/>
                            <fieldset class="choices">
                                <legend>"New password"</legend>
                                {choice("generate", "Auto-generate and e-mail it", "A temporary password that works for 24 hours.")}
                                {choice("manual", "Set it myself", "Type it twice and give it to them.")}
                            </fieldset>
                            <div hidden=move || mode.get() != "manual">
                                <NewPasswordFields password password_confirm email=email_signal answer=action_error(value) new=true/>
                            </div>
                            <DialogActions open label="Reset password" pending=action.pending() pending_label="Resetting…"/>
                        </ActionForm>
                    }
                }
            }
        </Dialog>
    }
}
