//! The document shell and the routes. Public pages stand alone; everything else renders inside
//! the application frame (`frame`, with the navigation of `navigation`), which sends visitors
//! without a session to sign in.

mod frame;
mod navigation;
mod pages;

use frame::AppLayout;

use crate::auth::{use_auth, AuthContext};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes},
    hooks::use_location,
    path, Lazy, SsrMode,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="color-scheme" content="light dark"/>
        <Title formatter=|text: String| if text.is_empty() { "Roster".to_owned() } else { format!("{text} · Roster") }/>
        <Router>
            <AppRoutes/>
        </Router>
    }
}

/// The routes, inside the router so the auth actions can read errors a plain form post left in
/// the address (progressive enhancement).
#[component]
fn AppRoutes() -> impl IntoView {
    AuthContext::provide();
    crate::ui::Refresh::provide();
    view! {
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view={Lazy::<pages::SignIn>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/sign-up") view={Lazy::<pages::SignUp>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view={Lazy::<pages::ForgotPassword>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view={Lazy::<pages::ResetPassword>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/invitation") view={Lazy::<pages::AcceptInvitation>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/register") view={Lazy::<pages::Register>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email") view={Lazy::<pages::ConfirmEmail>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/activate") view={Lazy::<pages::Activation>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<pages::Home>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view={Lazy::<pages::Profile>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/profile/password") view={Lazy::<pages::ChangePassword>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/outbox") view={Lazy::<pages::Outbox>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view={Lazy::<pages::AuditLog>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/portal/users") view={Lazy::<pages::PortalUsers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/portal/sub-customers") view={Lazy::<pages::PortalSubCustomers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/portal/customer") view={Lazy::<pages::PortalCustomer>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/companies") view={Lazy::<pages::Companies>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users") view={Lazy::<pages::Users>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/new") view={Lazy::<pages::AddUser>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users/:id") view={Lazy::<pages::User>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/roles") view={Lazy::<pages::Roles>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/roles/new") view={Lazy::<pages::RoleEditor>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/roles/:id") view={Lazy::<pages::RoleEditor>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view={Lazy::<pages::AccountSettings>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/billing") view={Lazy::<pages::Billing>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/api-keys") view={Lazy::<pages::Api>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers") view={Lazy::<pages::Customers>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers/new") view={Lazy::<pages::NewCustomer>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers/import") view={Lazy::<pages::Import>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers/import/:id") view={Lazy::<pages::ImportJob>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers/add-by-account") view={Lazy::<pages::AddByAccount>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customers/:id") view={Lazy::<pages::Customer>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types") view={Lazy::<pages::CustomerTypes>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types/new") view={Lazy::<pages::CustomerTypeEditor>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types/:id") view={Lazy::<pages::CustomerTypeEditor>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/customer-groups") view={Lazy::<pages::CustomerGroups>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
    }
}

/// A public page that a signed-in user does not need: they go to the home page instead.
#[allow(non_snake_case)]
pub(crate) fn PublicOnly<V: IntoView + 'static>(page: fn() -> V) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
    move || {
        let auth = use_auth();
        view! {
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.session.await {
                        Ok(Some(_)) => view! { <Redirect path="/"/> }.into_any(),
                        _ => page().into_any(),
                    }
                })}
            </Suspense>
        }
        .into_any()
    }
}

/// Signed-in pages. The guard sends visitors without a session to sign in and users with a
/// temporary password to change it. The page itself sits outside any suspense boundary, so it is
/// built exactly once on the server and once in the browser, whatever the session does.
#[component]
fn AppShell() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let path = location.pathname.get();
                match auth.session.await {
                    Ok(Some(session)) if session.must_change_password && path != "/profile/password" => {
                        view! { <Redirect path="/profile/password"/> }.into_any()
                    }
                    Ok(Some(_)) => ().into_any(),
                    Ok(None) => {
                        let next = if path == "/" { String::new() } else { format!("?next={}", encode(&path)) };
                        view! { <Redirect path=format!("/sign-in{next}")/> }.into_any()
                    }
                    Err(error) => view! {
                        <div class="alert alert-error" role="alert">{error.to_string()}</div>
                    }.into_any(),
                }
            })}
        </Transition>
        <AppLayout><Outlet/></AppLayout>
    }
}

fn encode(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "/-_.~".contains(c) { c.to_string() } else { format!("%{:02X}", c as u32) })
        .collect()
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <main class="error-page" id="main">
            <p class="error-code">"404"</p>
            <h1>"Page not found"</h1>
            <p>"The page you asked for does not exist, or has moved."</p>
            <a class="btn btn-primary" href="/">"Go to the overview"</a>
        </main>
    }
}

/// The browser's entry point: the WebAssembly takes over the server-rendered page. Each page's
/// code is its own lazily loaded module (`pages`); hydration waits for the module of the page
/// the server rendered, then marks the body.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("a page has a body");
        leptos::mount::hydrate_from_async(body.clone(), App).await.forget();
        // Lets tests (and styles) know the page is interactive beyond its plain forms.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
