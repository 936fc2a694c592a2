//! The document shell, the routes, and the navigation. Public pages stand alone; everything
//! else renders inside the application shell, which sends visitors without a session to sign in.

use crate::{
    auth::{
        use_auth, AuthContext, ChangePasswordPage, ConfirmEmailPage, ForgotPasswordPage, ProfilePage, RegisterPage,
        ResetPasswordPage, SessionView, SignInPage, SignUpPage,
    },
    companies::CompaniesPage,
    customer_groups::CustomerGroupsPage,
    customer_types::{CustomerTypeEditorPage, CustomerTypesPage},
    customers::{AddByAccountPage, CustomerPage, CustomersPage, NewCustomerPage},
    home::HomePage,
    outbox::OutboxPage,
    audit::AuditLogPage,
    portal::{PortalCustomerPage, PortalSubCustomersPage, PortalUsersPage},
    customer_users::ActivationPage,
    permissions::{Module, Permission},
    roles::{RoleEditorPage, RolesPage},
    settings::AccountSettingsPage,
    ui::AppLayout,
    users::{AcceptInvitationPage, AddUserPage, UserPage, UsersPage},
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
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
        <Stylesheet id="leptos" href="/pkg/roster.css"/>
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
                    <Route path=path!("/customers") view=CustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/new") view=NewCustomerPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/add-by-account") view=AddByAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/customers/:id") view=CustomerPage ssr=SsrMode::Async/>
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

/// One entry of the side navigation.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub icon: AnyView,
}

fn icon(path: &'static str) -> AnyView {
    view! {
        <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="1.8"
            stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
            <path d=path/>
        </svg>
    }
    .into_any()
}

/// The navigation a user sees: only modules they may use (SPEC 2.2). The server refuses the
/// rest whatever the navigation shows.
pub fn navigation(session: &SessionView) -> Vec<NavItem> {
    let mut items = vec![NavItem { label: "Overview", href: "/", icon: icon("M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z") }];
    if session.sees(Module::Customers) {
        items.push(NavItem {
            label: "Customers",
            href: "/customers",
            icon: icon("M16 11a4 4 0 1 0-8 0M4 21v-1a5 5 0 0 1 5-5h6a5 5 0 0 1 5 5v1M12 7V3"),
        });
        items.push(NavItem {
            label: "Customer groups",
            href: "/customer-groups",
            icon: icon("M3 7h18M3 12h18M3 17h12"),
        });
    }
    if session.sees(Module::CustomerTypes) {
        items.push(NavItem {
            label: "Customer types",
            href: "/customer-types",
            icon: icon("M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z"),
        });
    }
    if session.sees(Module::Companies) {
        items.push(NavItem {
            label: "Companies",
            href: "/companies",
            icon: icon("M4 21V5a1 1 0 0 1 1-1h9a1 1 0 0 1 1 1v16M15 9h4a1 1 0 0 1 1 1v11M8 8h3M8 12h3M8 16h3M3 21h18"),
        });
    }
    if session.sees(Module::Users) {
        items.push(NavItem {
            label: "Users",
            href: "/users",
            icon: icon("M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21c.8-3.5 3.6-6 7-6s6.2 2.5 7 6M17 11a3 3 0 1 0 0-6M22 21c-.5-2.6-2-4.6-4-5.5"),
        });
        items.push(NavItem {
            label: "Roles",
            href: "/roles",
            icon: icon("M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6zM9 12l2 2 4-4"),
        });
    }
    if session.can(Permission::AccountSettingsManage) {
        items.push(NavItem {
            label: "Account settings",
            href: "/settings",
            icon: icon("M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"),
        });
    }
    if session.customer_features.contains(&crate::permissions::CustomerFeature::ManageCustomerUsers) {
        items.push(NavItem {
            label: "Customer users",
            href: "/portal/users",
            icon: icon("M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21c.8-3.5 3.6-6 7-6s6.2 2.5 7 6M17 11a3 3 0 1 0 0-6M22 21c-.5-2.6-2-4.6-4-5.5"),
        });
    }
    if session.customer_features.contains(&crate::permissions::CustomerFeature::ManageSubCustomers) {
        items.push(NavItem {
            label: "Sub-customers",
            href: "/portal/sub-customers",
            icon: icon("M16 11a4 4 0 1 0-8 0M4 21v-1a5 5 0 0 1 5-5h6a5 5 0 0 1 5 5v1M12 7V3"),
        });
    }
    if session.customer_features.contains(&crate::permissions::CustomerFeature::EditCustomerProfile) {
        items.push(NavItem {
            label: "Customer profile",
            href: "/portal/customer",
            icon: icon("M4 21V5a1 1 0 0 1 1-1h9a1 1 0 0 1 1 1v16M15 9h4a1 1 0 0 1 1 1v11M8 8h3M8 12h3M8 16h3M3 21h18"),
        });
    }
    if session.sees(Module::AuditLog) {
        items.push(NavItem {
            label: "Audit log",
            href: "/audit",
            icon: icon("M9 4h6a1 1 0 0 1 1 1v1H8V5a1 1 0 0 1 1-1zM8 6H6a1 1 0 0 0-1 1v13a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V7a1 1 0 0 0-1-1h-2M9 12h6M9 16h4"),
        });
    }
    if session.is_administrator {
        items.push(NavItem {
            label: "Outbox",
            href: "/outbox",
            icon: icon("M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zM3 7l9 6 9-6"),
        });
    }
    items.push(NavItem {
        label: "Your profile",
        href: "/profile",
        icon: icon("M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c1-4 4-6 8-6s7 2 8 6"),
    });
    items
}
