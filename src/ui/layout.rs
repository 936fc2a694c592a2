//! Page frames that name no feature: the centred card of the public pages, the header of a
//! page, and the brand mark (the application frame is the app's own).

use leptos::prelude::*;

/// The brand mark: a stylised roster card.
#[component]
pub fn Logo() -> impl IntoView {
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
