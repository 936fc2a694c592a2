//! The side navigation as a table: each entry is a page and who sees it (SPEC 2.2). The
//! server refuses the rest whatever the navigation shows.

use crate::{
    auth::SessionView,
    permissions::{CustomerFeature, Module, Permission},
};

/// Who sees an entry.
#[derive(Clone, Copy)]
pub enum Shown {
    Everyone,
    Module(Module),
    Permission(Permission),
    Feature(CustomerFeature),
    Administrators,
}

/// One entry of the side navigation: its label, its page and the path of its icon.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub icon: &'static str,
    pub shown: Shown,
}

const PEOPLE: &str = "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21c.8-3.5 3.6-6 7-6s6.2 2.5 7 6M17 11a3 3 0 1 0 0-6M22 21c-.5-2.6-2-4.6-4-5.5";
const CUSTOMERS: &str = "M16 11a4 4 0 1 0-8 0M4 21v-1a5 5 0 0 1 5-5h6a5 5 0 0 1 5 5v1M12 7V3";
const BUILDING: &str = "M4 21V5a1 1 0 0 1 1-1h9a1 1 0 0 1 1 1v16M15 9h4a1 1 0 0 1 1 1v11M8 8h3M8 12h3M8 16h3M3 21h18";

/// Every entry, in the order shown.
pub const NAVIGATION: &[NavItem] = &[
    NavItem { label: "Overview", href: "/", icon: "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z", shown: Shown::Everyone },
    NavItem { label: "Customers", href: "/customers", icon: CUSTOMERS, shown: Shown::Module(Module::Customers) },
    NavItem { label: "Customer groups", href: "/customer-groups", icon: "M3 7h18M3 12h18M3 17h12", shown: Shown::Module(Module::Customers) },
    NavItem {
        label: "Customer types",
        href: "/customer-types",
        icon: "M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z",
        shown: Shown::Module(Module::CustomerTypes),
    },
    NavItem { label: "Companies", href: "/companies", icon: BUILDING, shown: Shown::Module(Module::Companies) },
    NavItem { label: "Users", href: "/users", icon: PEOPLE, shown: Shown::Module(Module::Users) },
    NavItem { label: "Roles", href: "/roles", icon: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6zM9 12l2 2 4-4", shown: Shown::Module(Module::Users) },
    NavItem {
        label: "Account settings",
        href: "/settings",
        icon: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z",
        shown: Shown::Permission(Permission::AccountSettingsManage),
    },
    NavItem {
        label: "Billing",
        href: "/billing",
        icon: "M3 6h18a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1zM2 10h20M6 15h4",
        shown: Shown::Permission(Permission::BillingView),
    },
    NavItem {
        label: "API",
        href: "/api-keys",
        icon: "M8 9l-4 3 4 3M16 9l4 3-4 3M14 5l-4 14",
        shown: Shown::Permission(Permission::ApiKeysManage),
    },
    NavItem { label: "Customer users", href: "/portal/users", icon: PEOPLE, shown: Shown::Feature(CustomerFeature::ManageCustomerUsers) },
    NavItem { label: "Sub-customers", href: "/portal/sub-customers", icon: CUSTOMERS, shown: Shown::Feature(CustomerFeature::ManageSubCustomers) },
    NavItem { label: "Customer profile", href: "/portal/customer", icon: BUILDING, shown: Shown::Feature(CustomerFeature::EditCustomerProfile) },
    NavItem {
        label: "Audit log",
        href: "/audit",
        icon: "M9 4h6a1 1 0 0 1 1 1v1H8V5a1 1 0 0 1 1-1zM8 6H6a1 1 0 0 0-1 1v13a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V7a1 1 0 0 0-1-1h-2M9 12h6M9 16h4",
        shown: Shown::Module(Module::AuditLog),
    },
    NavItem {
        label: "Outbox",
        href: "/outbox",
        icon: "M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zM3 7l9 6 9-6",
        shown: Shown::Administrators,
    },
    NavItem { label: "Your profile", href: "/profile", icon: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c1-4 4-6 8-6s7 2 8 6", shown: Shown::Everyone },
];

/// The entries `session` sees.
pub fn navigation(session: &SessionView) -> impl Iterator<Item = &'static NavItem> + '_ {
    NAVIGATION.iter().filter(move |item| match item.shown {
        Shown::Everyone => true,
        Shown::Module(module) => session.sees(module),
        Shown::Permission(permission) => session.can(permission),
        Shown::Feature(feature) => session.customer_features.contains(&feature),
        Shown::Administrators => session.is_administrator,
    })
}
