//! The document shell and the routes. Public pages stand alone; everything else renders inside
//! the application frame (`frame`, with the navigation of `navigation`), which sends visitors
//! without a session to sign in.

mod frame;
mod navigation;

use frame::AppLayout;

use crate::{
    auth::{
        use_auth, AuthContext, ChangePasswordPage, ConfirmEmailPage, ForgotPasswordPage, ProfilePage, RegisterPage,
        ResetPasswordPage, SignInPage, SignUpPage,
    },
    companies::CompaniesPage,
    customer_groups::CustomerGroupsPage,
    customer_types::{CustomerTypeEditorPage, CustomerTypesPage},
    customers::{AddByAccountPage, CustomerPage, CustomersPage, NewCustomerPage},
    imports::{ImportJobPage, ImportPage},
    home::HomePage,
    outbox::OutboxPage,
    audit::AuditLogPage,
    portal::{PortalCustomerPage, PortalSubCustomersPage, PortalUsersPage},
    customer_users::{ActivationPage, CustomerUsersTab},
    roles::{RoleEditorPage, RolesPage},
    settings::AccountSettingsPage,
    billing::BillingPage,
    rest::ApiPage,
    users::{AcceptInvitationPage, AddUserPage, UserPage, UsersPage},
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, Meta, MetaTags, Title};
use leptos_router::{
    components::{Outlet, ParentRoute, Redirect, Route, Router, Routes},
    hooks::use_location,
    path, SsrMode,
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
                <Route path=path!("/sign-in") view=PublicOnly(SignInPage) ssr=SsrMode::Async/>
                <Route path=path!("/sign-up") view=PublicOnly(SignUpPage) ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/invitation") view=AcceptInvitationPage ssr=SsrMode::Async/>
                <Route path=path!("/register") view=PublicOnly(RegisterPage) ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email") view=ConfirmEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/activate") view=ActivationPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/profile/password") view=ChangePasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/outbox") view=OutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/portal/users") view=PortalUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/portal/sub-customers") view=PortalSubCustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("/portal/customer") view=PortalCustomerPage ssr=SsrMode::Async/>
                    <Route path=path!("/companies") view=CompaniesPage ssr=SsrMode::Async/>
                    <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/users/new") view=AddUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/users/:id") view=UserPage ssr=SsrMode::Async/>
                    <Route path=path!("/roles") view=RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("/roles/new") view=RoleEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/roles/:id") view=RoleEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=AccountSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/billing") view=BillingPage ssr=SsrMode::Async/>
                    <Route path=path!("/api-keys") view=ApiPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers") view=CustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/new") view=NewCustomerPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/import") view=ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/import/:id") view=ImportJobPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/add-by-account") view=AddByAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/:id") view=|| view! { <CustomerPage users_tab=customer_users_tab/> } ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types") view=CustomerTypesPage ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types/new") view=CustomerTypeEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/customer-types/:id") view=CustomerTypeEditorPage ssr=SsrMode::Async/>
                    <Route path=path!("/customer-groups") view=CustomerGroupsPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
    }
}

/// A public page that a signed-in user does not need: they go to the home page instead.
#[allow(non_snake_case)]
fn PublicOnly<V: IntoView + 'static>(page: fn() -> V) -> impl Fn() -> AnyView + Clone + Send + Sync + 'static {
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

/// The browser's entry point: the WebAssembly takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets tests (and styles) know the page is interactive beyond its plain forms.
    if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// The customer page's Users tab: the customer users feature's, put in here so the customers
/// feature does not import it.
fn customer_users_tab(customer_id: i64) -> AnyView {
    view! { <CustomerUsersTab customer_id/> }.into_any()
}
