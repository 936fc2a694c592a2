//! Every page as a lazily loaded route. In the release build (`cargo leptos build --split`) each
//! group of pages below is a WebAssembly module of its own, fetched when one of its pages is
//! opened (and preloaded by the server for the page it renders), so the sign-in page does not
//! carry the customer list. Code that groups share lands in shared modules; the frame, the router
//! and the session stay in the main module. Pages are grouped by area rather than split one by
//! one: a module per page gave ~700 modules and up to ~400 requests for one page.

use super::PublicOnly;
use crate::{
    auth::{
        ChangePasswordPage, ConfirmEmailPage, ForgotPasswordPage, ProfilePage, RegisterPage, ResetPasswordPage,
        SignInPage, SignUpPage,
    },
    audit::AuditLogPage,
    billing::BillingPage,
    companies::CompaniesPage,
    customer_groups::CustomerGroupsPage,
    customer_types::{CustomerTypeEditorPage, CustomerTypesPage},
    customer_users::{ActivationPage, CustomerUsersTab},
    customers::{AddByAccountPage, CustomerPage, CustomersPage, NewCustomerPage},
    home::HomePage,
    imports::{ImportJobPage, ImportPage},
    outbox::OutboxPage,
    portal::{PortalCustomerPage, PortalSubCustomersPage, PortalUsersPage},
    rest::ApiPage,
    roles::{RoleEditorPage, RolesPage},
    settings::AccountSettingsPage,
    users::{AcceptInvitationPage, AddUserPage, UserPage, UsersPage},
};
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// `group!(loader, preload_loader, Kind { Page => view; … })`: one lazily loaded module for the
/// pages listed, and a route type for each page that loads it.
macro_rules! group {
    ($loader:ident, $preload:ident, $kind:ident { $($name:ident => $view:expr;)* }) => {
        #[derive(Clone, Copy)]
        pub enum $kind { $($name),* }

        #[leptos::lazy]
        fn $loader(page: $kind) -> AnyView {
            match page {
                $($kind::$name => $view.into_any(),)*
            }
        }

        $(
            pub struct $name;

            impl LazyRoute for $name {
                fn data() -> Self {
                    $name
                }

                async fn view(_this: Self) -> AnyView {
                    $loader($kind::$name).await
                }

                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

group!(public_pages, __preload_public_pages, PublicPage {
    SignIn => PublicOnly(SignInPage)();
    SignUp => PublicOnly(SignUpPage)();
    ForgotPassword => view! { <ForgotPasswordPage/> };
    ResetPassword => view! { <ResetPasswordPage/> };
    AcceptInvitation => view! { <AcceptInvitationPage/> };
    Register => PublicOnly(RegisterPage)();
    ConfirmEmail => view! { <ConfirmEmailPage/> };
    Activation => view! { <ActivationPage/> };
});

group!(own_pages, __preload_own_pages, OwnPage {
    Home => view! { <HomePage/> };
    Profile => view! { <ProfilePage/> };
    ChangePassword => view! { <ChangePasswordPage/> };
});

group!(customer_pages, __preload_customer_pages, CustomerArea {
    Customers => view! { <CustomersPage/> };
    NewCustomer => view! { <NewCustomerPage/> };
    AddByAccount => view! { <AddByAccountPage/> };
    Customer => view! { <CustomerPage users_tab=customer_users_tab/> };
});

group!(import_pages, __preload_import_pages, ImportArea {
    Import => view! { <ImportPage/> };
    ImportJob => view! { <ImportJobPage/> };
});

group!(customer_setup_pages, __preload_customer_setup_pages, CustomerSetup {
    CustomerTypes => view! { <CustomerTypesPage/> };
    CustomerTypeEditor => view! { <CustomerTypeEditorPage/> };
    CustomerGroups => view! { <CustomerGroupsPage/> };
});

group!(staff_pages, __preload_staff_pages, StaffArea {
    Companies => view! { <CompaniesPage/> };
    Users => view! { <UsersPage/> };
    AddUser => view! { <AddUserPage/> };
    User => view! { <UserPage/> };
    Roles => view! { <RolesPage/> };
    RoleEditor => view! { <RoleEditorPage/> };
});

group!(admin_pages, __preload_admin_pages, AdminArea {
    AccountSettings => view! { <AccountSettingsPage/> };
    Billing => view! { <BillingPage/> };
    Outbox => view! { <OutboxPage/> };
    AuditLog => view! { <AuditLogPage/> };
});

group!(api_pages, __preload_api_pages, ApiArea {
    Api => view! { <ApiPage/> };
});

group!(portal_pages, __preload_portal_pages, PortalArea {
    PortalUsers => view! { <PortalUsersPage/> };
    PortalSubCustomers => view! { <PortalSubCustomersPage/> };
    PortalCustomer => view! { <PortalCustomerPage/> };
});

/// The customer page's Users tab: the customer users feature's, put in here so the customers
/// feature does not import it.
fn customer_users_tab(customer_id: i64) -> AnyView {
    view! { <CustomerUsersTab customer_id/> }.into_any()
}
