//! The application frame: the top bar (the account, the user menu) and the side navigation,
//! around the page in the content area.

use super::navigation::navigation;
use crate::{
    auth::{use_auth, SessionView, SignOut},
    ui::{load_page, on_success, Logo, Refresh},
};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

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
    let refresh = Refresh::current();
    let nav = navigation(&session)
        .map(|item| {
            let href = item.href;
            let current = move || {
                let path = location.pathname.get();
                let here = if href == "/" { path == "/" } else { path == href || path.starts_with(&format!("{href}/")) };
                here.then_some("page")
            };
            view! {
                <li>
                    // Clicked on its own page (the address exactly), the page's list reloads.
                    <a href=href aria-current=current class="nav-link"
                        on:click=move |_| if location.pathname.get_untracked() == href && location.search.get_untracked().is_empty() { refresh.bump() }>
                        <span class="nav-icon" aria-hidden="true">
                            <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8"
                                stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
                                <path d=item.icon/>
                            </svg>
                        </span>
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
