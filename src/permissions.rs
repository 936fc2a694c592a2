//! The staff permission catalogue (SPEC 2.2), the customer-feature catalogue (SPEC 4.1), the
//! built-in roles (SPEC 2.1) and the kinds of user, defined once for the browser (what to show)
//! and the server (what to allow), with the capability marker types generated from them.

use serde::{Deserialize, Serialize};

/// What a capability needs: one permission of the catalogue, or the Administrator role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Permission(Permission),
    Administrator,
}

/// A zero-sized marker for what a capability grants; one per catalogue entry, made by
/// [`catalogue!`] in [`grant`], plus [`grant::Administrator`]. The server hands out an
/// `Allowed<G>` only after checking `G::NEEDS`, and every write asks for the `Allowed` it needs.
pub trait Grant {
    const NEEDS: Need;
}

/// A marker for what a customer type grants in the portal, one per feature (see [`feature`]).
pub trait FeatureGrant {
    const FEATURE: CustomerFeature;
}

/// The staff permission catalogue (SPEC 2.2), defined once: the [`Permission`] enum with its
/// stored keys and labels, the [`Module`]s that group them, and a [`Grant`] marker type for
/// each permission in [`grant`].
macro_rules! catalogue {
    ($( $module:ident ($module_label:literal) { $( $variant:ident = $key:literal, $label:literal; )* } )*) => {
        /// One staff permission. Stored in `role_permissions.permission` by its [`Permission::key`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Permission { $($($variant,)*)* }

        /// A module of the application: the unit the navigation shows or hides.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Module { $($module,)* }

        impl Permission {
            pub const ALL: [Permission; [$($(Permission::$variant,)*)*].len()] = [$($(Permission::$variant,)*)*];

            pub fn key(self) -> &'static str {
                match self { $($(Permission::$variant => $key,)*)* }
            }

            /// The checkbox label, shown under its module's heading.
            pub fn label(self) -> &'static str {
                match self { $($(Permission::$variant => $label,)*)* }
            }

            pub fn module(self) -> Module {
                match self { $($(Permission::$variant => Module::$module,)*)* }
            }
        }

        impl Module {
            pub const ALL: [Module; [$(Module::$module,)*].len()] = [$(Module::$module,)*];

            pub fn label(self) -> &'static str {
                match self { $(Module::$module => $module_label,)* }
            }

            pub fn permissions(self) -> &'static [Permission] {
                match self { $(Module::$module => &[$(Permission::$variant,)*],)* }
            }
        }

        /// The capability markers, one per permission (and the Administrator's).
        pub mod grant {
            use super::{Grant, Need, Permission};
            $($(
                #[doc = concat!("Grants “", $module_label, " – ", $label, "”.")]
                pub struct $variant;
                impl Grant for $variant {
                    const NEEDS: Need = Need::Permission(Permission::$variant);
                }
            )*)*
            /// Grants what only Administrators may do (the outbox, which shows every message).
            pub struct Administrator;
            impl Grant for Administrator {
                const NEEDS: Need = Need::Administrator;
            }
        }
    };
}

catalogue! {
    Customers ("Customers") {
        CustomersView = "customers.view", "View";
        CustomersCreate = "customers.create", "Create";
        CustomersEdit = "customers.edit", "Edit";
        CustomersDelete = "customers.delete", "Delete";
    }
    CustomerTypes ("Customer types") {
        CustomerTypesView = "customer_types.view", "View";
        CustomerTypesManage = "customer_types.manage", "Manage";
    }
    CustomerUsers ("Customer users") {
        CustomerUsersView = "customer_users.view", "View";
        CustomerUsersManage = "customer_users.manage", "Manage";
    }
    Companies ("Companies") {
        CompaniesView = "companies.view", "View";
        CompaniesManage = "companies.manage", "Manage";
    }
    Users ("Users") {
        UsersView = "users.view", "View";
        UsersManage = "users.manage", "Manage";
    }
    AuditLog ("Audit log") {
        AuditView = "audit.view", "View";
    }
    AccountSettings ("Account settings") {
        AccountSettingsManage = "account_settings.manage", "Manage";
    }
    Billing ("Billing") {
        BillingView = "billing.view", "View";
        BillingManage = "billing.manage", "Manage";
    }
    ApiKeys ("API keys") {
        ApiKeysManage = "api_keys.manage", "Manage";
    }
}

impl Module {
    /// The permission that makes the module visible at all.
    pub fn entry_permission(self) -> Permission {
        self.permissions()[0]
    }
}

impl Permission {
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// Who signs in: the three kinds of people (SPEC 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserKind {
    /// Staff of an account (administrators, managers, engineers, owners).
    Staff,
    /// Signs in on behalf of a customer.
    Customer,
    /// Registered themselves and belongs to no account yet.
    Registered,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Staff => "staff",
            UserKind::Customer => "customer",
            UserKind::Registered => "registered",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [UserKind::Staff, UserKind::Customer, UserKind::Registered].into_iter().find(|k| k.as_str() == value)
    }
}

/// The four roles every account starts with. A lower rank is more authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuiltinRole {
    Administrator,
    CommonManager,
    OperationsEngineer,
    Owner,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [
        BuiltinRole::Administrator,
        BuiltinRole::CommonManager,
        BuiltinRole::OperationsEngineer,
        BuiltinRole::Owner,
    ];

    pub fn key(self) -> &'static str {
        match self {
            BuiltinRole::Administrator => "administrator",
            BuiltinRole::CommonManager => "common_manager",
            BuiltinRole::OperationsEngineer => "operations_engineer",
            BuiltinRole::Owner => "owner",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            BuiltinRole::Administrator => "Administrator",
            BuiltinRole::CommonManager => "Common Manager",
            BuiltinRole::OperationsEngineer => "Operations Engineer",
            BuiltinRole::Owner => "Owner",
        }
    }

    pub fn rank(self) -> i32 {
        match self {
            BuiltinRole::Administrator => 0,
            BuiltinRole::CommonManager => 1,
            BuiltinRole::OperationsEngineer => 2,
            BuiltinRole::Owner => 3,
        }
    }

    /// The permissions the role is created with (SPEC 2.2).
    pub fn default_permissions(self) -> Vec<Permission> {
        use Permission::*;
        match self {
            BuiltinRole::Administrator => Permission::ALL.to_vec(),
            BuiltinRole::CommonManager => Permission::ALL
                .into_iter()
                .filter(|p| !matches!(p.module(), Module::AccountSettings | Module::Billing | Module::ApiKeys))
                .collect(),
            BuiltinRole::OperationsEngineer => vec![
                CustomersView,
                CustomersCreate,
                CustomersEdit,
                CustomersDelete,
                CustomerUsersView,
                CustomerUsersManage,
                CustomerTypesView,
                CompaniesView,
                UsersView,
                UsersManage,
            ],
            BuiltinRole::Owner => vec![CustomersView, CompaniesView],
        }
    }
}

/// The rank of the Administrator role; no other role may hold it.
pub const ADMINISTRATOR_RANK: i32 = 0;

/// What a role carries: its rank and its permissions. The Administrator's rank carries every
/// permission, whatever is stored for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    pub rank: i32,
    pub permissions: Vec<Permission>,
}

impl Authority {
    pub fn new(rank: i32, permissions: impl IntoIterator<Item = Permission>) -> Self {
        let mut permissions: Vec<Permission> =
            if rank == ADMINISTRATOR_RANK { Permission::ALL.to_vec() } else { permissions.into_iter().collect() };
        permissions.sort();
        permissions.dedup();
        Self { rank, permissions }
    }

    /// What an API key acts with: only the permissions it was given, and its maker's rank but
    /// never the Administrator's (so no key gives, restores or takes away an Administrator, and
    /// none acts on a person of its maker's rank who is an Administrator).
    pub fn limited(rank: i32, permissions: impl IntoIterator<Item = Permission>) -> Self {
        let mut permissions: Vec<Permission> = permissions.into_iter().collect();
        permissions.sort();
        permissions.dedup();
        Self { rank: rank.max(ADMINISTRATOR_RANK + 1), permissions }
    }

    /// From the stored keys of a role's permissions (unknown keys are ignored).
    pub fn from_keys<S: AsRef<str>>(rank: i32, keys: &[S]) -> Self {
        Self::new(rank, keys.iter().filter_map(|k| Permission::from_key(k.as_ref())))
    }

    pub fn holds(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// SPEC 2.3: whether someone with this authority may give `other` to a person, or act on a
    /// person holding it: `other` ranks at or below this one (a number at least as large) and
    /// every permission of `other` is held here too.
    pub fn covers(&self, other: &Authority) -> bool {
        other.rank >= self.rank && other.permissions.iter().all(|p| self.holds(*p))
    }

    /// The permissions of `other` not held here, for a message that names them.
    pub fn missing(&self, other: &Authority) -> Vec<Permission> {
        other.permissions.iter().copied().filter(|p| !self.holds(*p)).collect()
    }
}

/// "Module – Permission" labels, joined for a message.
pub fn describe(permissions: &[Permission]) -> String {
    permissions.iter().map(|p| format!("{} – {}", p.module().label(), p.label())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_key(p.key()), Some(p));
        }
        let mut keys: Vec<_> = Permission::ALL.iter().map(|p| p.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Permission::ALL.len());
        assert_eq!(Permission::from_key("customers.fly"), None);
    }

    #[test]
    fn every_permission_is_in_exactly_one_module() {
        for p in Permission::ALL {
            let count = Module::ALL.iter().filter(|m| m.permissions().contains(&p)).count();
            assert_eq!(count, 1, "{p:?}");
        }
    }

    #[test]
    fn a_key_at_the_administrators_rank_holds_only_what_it_was_given() {
        let key = Authority::limited(ADMINISTRATOR_RANK, [Permission::UsersManage, Permission::UsersView]);
        assert_eq!(key.permissions, vec![Permission::UsersView, Permission::UsersManage]);
        assert!(!key.covers(&Authority::new(1, BuiltinRole::CommonManager.default_permissions())));
        let everything = Authority::limited(ADMINISTRATOR_RANK, Permission::ALL);
        assert!(!everything.covers(&Authority::new(ADMINISTRATOR_RANK, [])), "no key gives or acts on an Administrator");
        assert!(everything.covers(&Authority::new(1, BuiltinRole::CommonManager.default_permissions())));
        assert!(Authority::new(ADMINISTRATOR_RANK, []).covers(&Authority::new(1, BuiltinRole::CommonManager.default_permissions())));
    }

    #[test]
    fn builtin_defaults_follow_the_spec() {
        let manager = BuiltinRole::CommonManager.default_permissions();
        assert!(!manager.contains(&Permission::BillingView));
        assert!(!manager.contains(&Permission::AccountSettingsManage));
        assert!(manager.contains(&Permission::UsersManage));
        assert!(manager.contains(&Permission::AuditView));
        assert!(!manager.contains(&Permission::ApiKeysManage), "API keys are the Administrators' alone");

        let engineer = BuiltinRole::OperationsEngineer.default_permissions();
        assert!(engineer.contains(&Permission::CustomerTypesView));
        assert!(!engineer.contains(&Permission::CustomerTypesManage));
        assert!(!engineer.contains(&Permission::CompaniesManage));
        assert!(!engineer.contains(&Permission::BillingView));

        assert_eq!(
            BuiltinRole::Owner.default_permissions(),
            vec![Permission::CustomersView, Permission::CompaniesView]
        );
        assert_eq!(BuiltinRole::Administrator.default_permissions().len(), Permission::ALL.len());
    }

    fn builtin(role: BuiltinRole) -> Authority {
        Authority::new(role.rank(), role.default_permissions())
    }

    #[test]
    fn assignment_rule_allows_equal_or_lower_authority_only() {
        let admin = builtin(BuiltinRole::Administrator);
        let manager = builtin(BuiltinRole::CommonManager);
        let engineer = builtin(BuiltinRole::OperationsEngineer);
        let owner = builtin(BuiltinRole::Owner);
        assert!(admin.covers(&admin));
        assert!(manager.covers(&manager));
        assert!(!manager.covers(&admin));
        assert!(manager.covers(&engineer));
        assert!(!engineer.covers(&manager));
        assert!(engineer.covers(&owner));
        assert!(engineer.covers(&engineer));
    }

    #[test]
    fn a_lower_rank_does_not_cover_permissions_the_assigner_lacks() {
        // The review's escalation: a rank-5 custom role holding Account settings.
        let settings_role = Authority::new(5, [Permission::CustomersView, Permission::AccountSettingsManage]);
        let engineer = builtin(BuiltinRole::OperationsEngineer);
        let manager = builtin(BuiltinRole::CommonManager);
        assert!(!engineer.covers(&settings_role));
        assert!(!manager.covers(&settings_role));
        assert_eq!(manager.missing(&settings_role), [Permission::AccountSettingsManage]);
        assert!(builtin(BuiltinRole::Administrator).covers(&settings_role));
        assert_eq!(describe(&manager.missing(&settings_role)), "Account settings – Manage");
        // Rank alone still counts: a role of the engineer's own permissions but a better rank.
        let better = Authority::new(1, BuiltinRole::OperationsEngineer.default_permissions());
        assert!(!engineer.covers(&better));
    }

    #[test]
    fn the_administrator_rank_carries_every_permission() {
        let stored_nothing = Authority::new(ADMINISTRATOR_RANK, []);
        assert_eq!(stored_nothing.permissions.len(), Permission::ALL.len());
        assert_eq!(Authority::from_keys(3, &["customers.view", "made.up"]).permissions, [Permission::CustomersView]);
    }
}

/// The customer-feature catalogue (SPEC 4.1), defined once: what a customer type lets its
/// customers do, stored in `customer_types.features` by key, with a [`FeatureGrant`] marker
/// for each in [`feature`].
macro_rules! features {
    ($( $variant:ident = $key:literal, $label:literal; )*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum CustomerFeature { $($variant,)* }

        impl CustomerFeature {
            pub const ALL: [CustomerFeature; [$(CustomerFeature::$variant,)*].len()] = [$(CustomerFeature::$variant,)*];

            pub fn key(self) -> &'static str {
                match self { $(CustomerFeature::$variant => $key,)* }
            }

            pub fn label(self) -> &'static str {
                match self { $(CustomerFeature::$variant => $label,)* }
            }
        }

        /// The portal's capability markers, one per customer feature.
        pub mod feature {
            use super::{CustomerFeature, FeatureGrant};
            $(
                #[doc = concat!("Grants “", $label, "” in the portal.")]
                pub struct $variant;
                impl FeatureGrant for $variant {
                    const FEATURE: CustomerFeature = CustomerFeature::$variant;
                }
            )*
        }
    };
}

features! {
    CreatePlant = "create_plant", "Create plant";
    AddGateway = "add_gateway", "Add gateway";
    SharePlant = "share_plant", "Share plant";
    DeleteInverter = "delete_inverter", "Delete inverter";
    FirmwareUpgrade = "firmware_upgrade", "Firmware upgrade";
    OperationalData = "operational_data", "Operational data";
    ManageCustomerUsers = "manage_customer_users", "Manage customer users";
    ManageSubCustomers = "manage_sub_customers", "Manage sub-customers";
    EditCustomerProfile = "edit_customer_profile", "Edit customer profile";
}

impl CustomerFeature {
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }
}

#[cfg(test)]
mod customer_feature_tests {
    use super::CustomerFeature;

    #[test]
    fn feature_keys_round_trip_and_are_unique() {
        for f in CustomerFeature::ALL {
            assert_eq!(CustomerFeature::from_key(f.key()), Some(f));
        }
        let mut keys: Vec<_> = CustomerFeature::ALL.iter().map(|f| f.key()).collect();
        keys.dedup();
        assert_eq!(keys.len(), 9);
    }
}
