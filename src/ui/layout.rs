//! Page frames: the centred card of the public pages and the application shell (top bar with
//! the account and user menu, navigation by module, content area).

use crate::{
    app::navigation,
    auth::{use_auth, SessionView, SignOut},
    ui::{load_page, on_success},
};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The brand mark: a stylised roster card.
#[component]
fn Logo() -> impl IntoView {
    view! {
        <svg class="logo-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <rect x="3" y="5" width="26" height="22" rx="6" fill="currentColor" opacity="0.16"/>
            <rect x="3" y="5" width="26" height="22" rx="6" fill="none" stroke="currentColor" stroke-width="2"/>
            <circle cx="11.5" cy="14" r="3.2" fill="currentColor"/>
            <path d="M6.8 22.5c.9-2.6 2.6-4 4.7-4s3.8 1.4 4.7 4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>
            <path d="M19 12.5h6M19 16.5h6M19 20.5h4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>
        </svg>
    }
}

#[component]
pub fn AuthLayout(#[prop(into)] title: String, #[prop(optional, into)] subtitle: Option<String>, children: Children) -> impl IntoView {
    view! {
        <div class="auth-page">
            <main class="auth-card" id="main">
                <div class="auth-brand">
                    <Logo/>
                    <span>"Roster"</span>
                </div>
                <h1>{title}</h1>
                {subtitle.map(|s| view! { <p class="auth-subtitle">{s}</p> })}
                {children()}
            </main>
            <p class="auth-footnote">"Customer and user management for service businesses"</p>
        </div>
    }
}

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional, into)] description: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <div>
                <h1>{title}</h1>
                {description.map(|d| view! { <p class="page-description">{d}</p> })}
            </div>
            {children.map(|c| view! { <div class="page-actions">{c()}</div> })}
        </header>
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect::<String>().to_uppercase()
}

/// The application frame. The top bar and navigation follow the session (and wait for it);
/// the page in `children` does not, so it is never rebuilt when the session refreshes.
#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let auth = use_auth();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app-shell">
            <Transition fallback=|| view! { <header class="topbar"></header><nav class="sidenav" aria-label="Main"></nav> }>
                {move || Suspend::new(async move {
                    match auth.session.await {
                        Ok(Some(session)) => view! { <Chrome session/> }.into_any(),
                        _ => view! { <header class="topbar"></header><nav class="sidenav" aria-label="Main"></nav> }.into_any(),
                    }
                })}
            </Transition>
            <main class="content" id="main" tabindex="-1">
                {children()}
            </main>
        </div>
    }
}

/// The top bar (account, user menu) and the navigation by module.
#[component]
fn Chrome(session: SessionView) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    on_success(sign_out.value(), |path: &String| load_page(path));
    let location = use_location();
    let account_name = session.account_name.clone().unwrap_or_else(|| "Personal account".into());
    let nav = navigation(&session)
        .into_iter()
        .map(|item| {
            let href = item.href;
            let current = move || {
                let path = location.pathname.get();
                let here = if href == "/" { path == "/" } else { path == href || path.starts_with(&format!("{href}/")) };
                here.then_some("page")
            };
            view! {
                <li>
                    <a href=href aria-current=current class="nav-link">
                        <span class="nav-icon" aria-hidden="true">{item.icon}</span>
                        {item.label}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <header class="topbar">
            <a href="/" class="brand">
                <Logo/>
                <span class="brand-name">"Roster"</span>
            </a>
            <span class="account-name" title="Account">{account_name}</span>
            // Closes whenever the page changes, so a menu opened to navigate does not linger.
            <details class="user-menu" prop:open=move || { location.pathname.track(); false }>
                <summary>
                    <span class="avatar" aria-hidden="true">{initials(&session.display_name)}</span>
                    <span class="visually-hidden">"Account menu: "</span>
                    <span class="user-name">{session.display_name.clone()}</span>
                    <svg class="chevron" viewBox="0 0 16 16" aria-hidden="true"><path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>
                </summary>
                <div class="menu-panel">
                    <div class="menu-identity">
                        <strong>{session.display_name.clone()}</strong>
                        <span>{session.email.clone()}</span>
                        {session.role_name.clone().map(|r| view! { <span class="badge">{r}</span> })}
                    </div>
                    <a href="/profile">"Your profile"</a>
                    <a href="/profile/password">"Change password"</a>
                    <ActionForm action=sign_out>
                        <button type="submit" class="menu-button">"Sign out"</button>
                    </ActionForm>
                </div>
            </details>
        </header>
        <nav class="sidenav" aria-label="Main">
            <ul>{nav}</ul>
        </nav>
    }
}
