//! The public pages: sign in, sign up, forgot password, reset password. Each is a plain form
//! posting to its server function, so it works before the WebAssembly has loaded; once it has,
//! the same form validates as the user types.

use super::{
    check_confirmation, check_reset_link, ConfirmEmail, ConfirmationSent, LinkState, Register, RequestPasswordReset, ResetPassword,
    SignIn, SignUp, CONFIRMATION_LINK_HOURS, RESET_LINK_MINUTES,
};
use crate::{
    ui::{action_error, load_page, on_success, server_field, AuthLayout, FormAlert, SubmitButton, TextField},
    validation::{confirm_matches, required_text, Email, Password, PasswordChecks, NAME_MAX_CHARS},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

fn email_rule(email: RwSignal<String>) -> Signal<Option<String>> {
    Signal::derive(move || Email::parse(&email.get()).err())
}

/// The password policy as a checklist that fills in while the user types.
#[component]
pub fn PasswordChecklist(password: RwSignal<String>, #[prop(into)] email: Signal<String>) -> impl IntoView {
    let checks = Memo::new(move |_| PasswordChecks::of(&password.get(), Some(&email.get())));
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

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    on_success(action.value(), |next: &String| load_page(next));
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next"));
    let reset_done = move || query.with(|q| q.get("reset").as_deref() == Some("done"));
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let value = action.value();
    view! {
        <Title text="Sign in"/>
        <AuthLayout title="Sign in" subtitle="Welcome back. Sign in to manage your customers and team.">
            <Show when=reset_done>
                <div class="alert alert-success" role="status">
                    "Your password has been changed. Sign in with your new password."
                </div>
            </Show>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next/>
                <TextField
                    label="E-mail"
                    name="email"
                    input_type="email"
                    autocomplete="email"
                    value=email
                    rule=email_rule(email)
                    server_error=server_field(value, "email")
                    required=true
                    autofocus=true
                />
                <TextField
                    label="Password"
                    name="password"
                    input_type="password"
                    autocomplete="current-password"
                    value=password
                    server_error=server_field(value, "password")
                    required=true
                />
                <div class="form-row-end">
                    <a href="/forgot-password">"Forgot your password?"</a>
                </div>
                <SubmitButton label="Sign in" pending=action.pending() pending_label="Signing in…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch">"New to Roster? " <a href="/sign-up">"Set up your business"</a></p>
            <p class="auth-switch auth-switch-tight">"A customer of a business on Roster? " <a href="/register">"Create a personal account"</a></p>
        </AuthLayout>
    }
}

/// The answer to a sign-up or registration, the same for every address: check your inbox.
#[component]
fn ConfirmationSentNotice(#[prop(into)] sent: Signal<Option<ConfirmationSent>>) -> impl IntoView {
    view! {
        <div class="alert alert-success" role="status">
            {move || match sent.get() {
                Some(sent) => format!(
                    "Check your inbox: if {} can be used, we sent it a link to confirm the address. It works for {CONFIRMATION_LINK_HOURS} hours.",
                    sent.email
                ),
                None => format!("Check your inbox: we sent a link to confirm the address. It works for {CONFIRMATION_LINK_HOURS} hours."),
            }}
        </div>
        {move || sent.get().and_then(|s| s.dev_link).map(|link| view! {
            <div class="alert alert-info">
                <strong>"Development mail. "</strong>
                "No SMTP server is configured, so nothing is sent: "
                <a href=link>"open the confirmation link"</a>
            </div>
        })}
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = action.value();
    let query = use_query_map();
    let sent_by_form = move || query.with(|q| q.get("sent").is_some());
    let result = Signal::derive(move || value.get().and_then(|r| r.ok()));
    let sent = move || sent_by_form() || result.get().is_some();
    let account_name = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <Title text="Create your account"/>
        <AuthLayout title="Create your account" subtitle="Set up Roster for your business. You will be its first Administrator.">
            <Show when=sent fallback=move || view! {
                <FormAlert error=action_error(value)/>
                <ActionForm action=action attr:class="form" attr:novalidate=true>
                    <TextField
                        label="Business name"
                        name="account_name"
                        autocomplete="organization"
                        value=account_name
                        rule=Signal::derive(move || required_text(&account_name.get(), "your business name", NAME_MAX_CHARS).err())
                        server_error=server_field(value, "account_name")
                        required=true
                        autofocus=true
                    />
                    <TextField
                        label="Your name"
                        name="display_name"
                        autocomplete="name"
                        value=display_name
                        rule=Signal::derive(move || required_text(&display_name.get(), "your name", NAME_MAX_CHARS).err())
                        server_error=server_field(value, "display_name")
                        required=true
                    />
                    <TextField
                        label="Work e-mail"
                        name="email"
                        input_type="email"
                        autocomplete="email"
                        value=email
                        rule=email_rule(email)
                        server_error=server_field(value, "email")
                        hint="You will sign in with this address. We send it a link to confirm it is yours."
                        required=true
                    />
                    <TextField
                        label="Password"
                        name="password"
                        input_type="password"
                        autocomplete="new-password"
                        value=password
                        rule=Signal::derive(move || Password::parse(&password.get(), Some(&email.get())).err())
                        server_error=server_field(value, "password")
                        required=true
                    />
                    <PasswordChecklist password=password email=email/>
                    <TextField
                        label="Repeat password"
                        name="password_confirm"
                        input_type="password"
                        autocomplete="new-password"
                        value=password_confirm
                        rule=Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err())
                        server_error=server_field(value, "password_confirm")
                        required=true
                    />
                    <SubmitButton label="Create account" pending=action.pending() pending_label="Creating your account…" class="btn btn-primary btn-block"/>
                </ActionForm>
            }>
                <ConfirmationSentNotice sent=result/>
            </Show>
            <p class="auth-switch">"Already have an account? " <a href="/sign-in">"Sign in"</a></p>
        </AuthLayout>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = action.value();
    let query = use_query_map();
    let sent = move || query.with(|q| q.get("sent").is_some()) || matches!(value.get(), Some(Ok(())));
    let email = RwSignal::new(String::new());
    view! {
        <Title text="Reset your password"/>
        <AuthLayout title="Reset your password" subtitle="Enter the e-mail you sign in with and we will send you a link to choose a new password.">
            <div role="status">
                <Show when=sent>
                    <div class="alert alert-success">
                        {format!(
                            "If an account uses this address, a reset link is on its way. It works once, for {RESET_LINK_MINUTES} minutes."
                        )}
                    </div>
                </Show>
            </div>
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <TextField
                    label="E-mail"
                    name="email"
                    input_type="email"
                    autocomplete="email"
                    value=email
                    rule=email_rule(email)
                    server_error=server_field(value, "email")
                    required=true
                    autofocus=true
                />
                <SubmitButton label="Send reset link" pending=action.pending() pending_label="Sending…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthLayout>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let state = Resource::new(token, check_reset_link);
    view! {
        <Title text="Choose a new password"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(LinkState::Valid) => view! { <ResetPasswordForm token=token()/> }.into_any(),
                    Ok(LinkState::Expired) => view! {
                        <LinkProblem title="This link has expired" text=format!("Reset links work for {RESET_LINK_MINUTES} minutes. Ask for a new one and use it within the hour.")/>
                    }.into_any(),
                    Ok(LinkState::Used | LinkState::Revoked) => view! {
                        <LinkProblem title="This link has already been used" text="Each reset link works once. If you still need to change your password, ask for a new link."/>
                    }.into_any(),
                    Ok(LinkState::Unknown) => view! {
                        <LinkProblem title="This link is not valid" text="Check that you opened the whole link from the e-mail, or ask for a new one."/>
                    }.into_any(),
                    Err(e) => view! {
                        <LinkProblem title="We could not check this link" text=e.to_string()/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LinkProblem(#[prop(into)] title: String, #[prop(into)] text: String) -> impl IntoView {
    view! {
        <AuthLayout title=title>
            <p class="auth-text">{text}</p>
            <a class="btn btn-primary btn-block" href="/forgot-password">"Ask for a new link"</a>
            <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthLayout>
    }
}

#[component]
fn ResetPasswordForm(token: String) -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let navigate = use_navigate();
    on_success(action.value(), move |_: &()| navigate("/sign-in?reset=done", Default::default()));
    let value = action.value();
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <AuthLayout title="Choose a new password" subtitle="Your new password replaces the old one and signs you out everywhere.">
            <FormAlert error=action_error(value)/>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="token" value=token/>
                <TextField
                    label="New password"
                    name="password"
                    input_type="password"
                    autocomplete="new-password"
                    value=password
                    rule=Signal::derive(move || Password::parse(&password.get(), None).err())
                    server_error=server_field(value, "password")
                    required=true
                    autofocus=true
                />
                <PasswordChecklist password=password email=Signal::derive(String::new)/>
                <TextField
                    label="Repeat new password"
                    name="password_confirm"
                    input_type="password"
                    autocomplete="new-password"
                    value=password_confirm
                    rule=Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err())
                    server_error=server_field(value, "password_confirm")
                    required=true
                />
                <SubmitButton label="Save new password" pending=action.pending() pending_label="Saving…" class="btn btn-primary btn-block"/>
            </ActionForm>
        </AuthLayout>
    }
}

/// SPEC 1.5: a person creates a personal account, confirmed by e-mail.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let value = action.value();
    let query = use_query_map();
    let result = Signal::derive(move || value.get().and_then(|r| r.ok()));
    let sent = move || query.with(|q| q.get("sent").is_some()) || result.get().is_some();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let password_confirm = RwSignal::new(String::new());
    view! {
        <Title text="Create a personal account"/>
        <AuthLayout title="Create a personal account"
            subtitle="For customers of businesses that use Roster. Once you have an account, a business you work with can add you as its customer.">
            <Show when=sent fallback=move || view! {
                <FormAlert error=action_error(value)/>
                <ActionForm action=action attr:class="form" attr:novalidate=true>
                    <TextField label="Your name" name="display_name" autocomplete="name" value=name
                        rule=Signal::derive(move || required_text(&name.get(), "your name", NAME_MAX_CHARS).err())
                        server_error=server_field(value, "display_name") required=true autofocus=true/>
                    <TextField label="E-mail" name="email" input_type="email" autocomplete="email" value=email
                        rule=email_rule(email) server_error=server_field(value, "email") required=true/>
                    <TextField label="Password" name="password" input_type="password" autocomplete="new-password" value=password
                        rule=Signal::derive(move || Password::parse(&password.get(), Some(&email.get())).err())
                        server_error=server_field(value, "password") required=true/>
                    <PasswordChecklist password=password email=email/>
                    <TextField label="Repeat password" name="password_confirm" input_type="password" autocomplete="new-password"
                        value=password_confirm
                        rule=Signal::derive(move || confirm_matches(&password.get(), &password_confirm.get()).err())
                        server_error=server_field(value, "password_confirm") required=true/>
                    <SubmitButton label="Create personal account" pending=action.pending() pending_label="Creating…" class="btn btn-primary btn-block"/>
                </ActionForm>
            }>
                <ConfirmationSentNotice sent=result/>
            </Show>
            <p class="auth-switch">"Already registered? " <a href="/sign-in">"Sign in"</a></p>
        </AuthLayout>
    }
}

/// The page a sign-up or registration link opens: it says what the link creates, or why it no
/// longer works, and a button (not the visit itself) confirms.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    let link = Resource::new(token, check_confirmation);
    view! {
        <Title text="Confirm your e-mail address"/>
        <Suspense fallback=|| view! { <p class="loading">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                let problem = |title: &'static str, text: String| view! {
                    <AuthLayout title=title>
                        <p class="auth-text">{text}</p>
                        <a class="btn btn-primary btn-block" href="/sign-up">"Sign up again"</a>
                        <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
                    </AuthLayout>
                }.into_any();
                match link.await {
                    Ok(view) if view.state == LinkState::Valid => view! { <ConfirmForm token=token() account_name=view.account_name/> }.into_any(),
                    Ok(view) if view.state == LinkState::Expired => problem(
                        "This link has expired",
                        format!("Confirmation links work for {CONFIRMATION_LINK_HOURS} hours. Sign up again to get a new one."),
                    ),
                    Ok(view) if matches!(view.state, LinkState::Used | LinkState::Revoked) => problem(
                        "This link has already been used",
                        "The address is confirmed. Sign in with it, or reset your password if you forgot it.".into(),
                    ),
                    Ok(_) => problem("This link is not valid", "Check that you opened the whole link from the e-mail, or sign up again.".into()),
                    Err(e) => problem("We could not check this link", e.to_string()),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConfirmForm(token: String, account_name: Option<String>) -> impl IntoView {
    let action = ServerAction::<ConfirmEmail>::new();
    on_success(action.value(), |home: &String| load_page(home));
    let subtitle = match &account_name {
        Some(name) => format!("One click creates {name} on Roster, with you as its first Administrator."),
        None => "One click and your personal account is ready.".to_owned(),
    };
    view! {
        <AuthLayout title="Confirm your e-mail address" subtitle=subtitle>
            <FormAlert error=action_error(action.value())/>
            <ActionForm action=action attr:class="form">
                <input type="hidden" name="token" value=token/>
                <SubmitButton label="Confirm my e-mail address" pending=action.pending() pending_label="Confirming…" class="btn btn-primary btn-block"/>
            </ActionForm>
            <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthLayout>
    }
}
