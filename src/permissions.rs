//! The staff permission catalogue (SPEC 2.2) and the built-in roles (SPEC 2.1), defined once for
//! the browser (what to show) and the server (what to allow).

use serde::{Deserialize, Serialize};

/// One staff permission. Stored in `role_permissions.permission` by its [`Permission::key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    CustomersView,
    CustomersCreate,
    CustomersEdit,
    CustomersDelete,
    CustomerTypesView,
    CustomerTypesManage,
    CustomerUsersView,
    CustomerUsersManage,
    CompaniesView,
    CompaniesManage,
    UsersView,
    UsersManage,
    AuditView,
    AccountSettingsManage,
    BillingView,
    BillingManage,
}

/// A module of the application: the unit the navigation shows or hides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Module {
    Customers,
    CustomerTypes,
    CustomerUsers,
    Companies,
    Users,
    AuditLog,
    AccountSettings,
    Billing,
}

impl Module {
    pub const ALL: [Module; 8] = [
        Module::Customers,
        Module::CustomerTypes,
        Module::CustomerUsers,
        Module::Companies,
        Module::Users,
        Module::AuditLog,
        Module::AccountSettings,
        Module::Billing,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Module::Customers => "Customers",
            Module::CustomerTypes => "Customer types",
            Module::CustomerUsers => "Customer users",
            Module::Companies => "Companies",
            Module::Users => "Users",
            Module::AuditLog => "Audit log",
            Module::AccountSettings => "Account settings",
            Module::Billing => "Billing",
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Module::Customers => &[CustomersView, CustomersCreate, CustomersEdit, CustomersDelete],
            Module::CustomerTypes => &[CustomerTypesView, CustomerTypesManage],
            Module::CustomerUsers => &[CustomerUsersView, CustomerUsersManage],
            Module::Companies => &[CompaniesView, CompaniesManage],
            Module::Users => &[UsersView, UsersManage],
            Module::AuditLog => &[AuditView],
            Module::AccountSettings => &[AccountSettingsManage],
            Module::Billing => &[BillingView, BillingManage],
        }
    }

    /// The permission that makes the module visible at all.
    pub fn entry_permission(self) -> Permission {
        self.permissions()[0]
    }
}

impl Permission {
    pub const ALL: [Permission; 16] = [
        Permission::CustomersView,
        Permission::CustomersCreate,
        Permission::CustomersEdit,
        Permission::CustomersDelete,
        Permission::CustomerTypesView,
        Permission::CustomerTypesManage,
        Permission::CustomerUsersView,
        Permission::CustomerUsersManage,
        Permission::CompaniesView,
        Permission::CompaniesManage,
        Permission::UsersView,
        Permission::UsersManage,
        Permission::AuditView,
        Permission::AccountSettingsManage,
        Permission::BillingView,
        Permission::BillingManage,
    ];

    pub fn key(self) -> &'static str {
        use Permission::*;
        match self {
            CustomersView => "customers.view",
            CustomersCreate => "customers.create",
            CustomersEdit => "customers.edit",
            CustomersDelete => "customers.delete",
            CustomerTypesView => "customer_types.view",
            CustomerTypesManage => "customer_types.manage",
            CustomerUsersView => "customer_users.view",
            CustomerUsersManage => "customer_users.manage",
            CompaniesView => "companies.view",
            CompaniesManage => "companies.manage",
            UsersView => "users.view",
            UsersManage => "users.manage",
            AuditView => "audit.view",
            AccountSettingsManage => "account_settings.manage",
            BillingView => "billing.view",
            BillingManage => "billing.manage",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The checkbox label, shown under its module's heading.
    pub fn label(self) -> &'static str {
        use Permission::*;
        match self {
            CustomersView | CustomerTypesView | CustomerUsersView | CompaniesView | UsersView
            | AuditView | BillingView => "View",
            CustomersCreate => "Create",
            CustomersEdit => "Edit",
            CustomersDelete => "Delete",
            CustomerTypesManage | CustomerUsersManage | CompaniesManage | UsersManage
            | AccountSettingsManage | BillingManage => "Manage",
        }
    }

    pub fn module(self) -> Module {
        Module::ALL
            .into_iter()
            .find(|m| m.permissions().contains(&self))
            .expect("every permission belongs to a module")
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
                .filter(|p| !matches!(p.module(), Module::AccountSettings | Module::Billing))
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
    fn builtin_defaults_follow_the_spec() {
        let manager = BuiltinRole::CommonManager.default_permissions();
        assert!(!manager.contains(&Permission::BillingView));
        assert!(!manager.contains(&Permission::AccountSettingsManage));
        assert!(manager.contains(&Permission::UsersManage));
        assert!(manager.contains(&Permission::AuditView));

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

/// The customer-feature catalogue (SPEC 4.1): what a customer type lets its customers do.
/// Stored in `customer_types.features` by its [`CustomerFeature::key`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CustomerFeature {
    CreatePlant,
    AddGateway,
    SharePlant,
    DeleteInverter,
    FirmwareUpgrade,
    OperationalData,
    ManageCustomerUsers,
    ManageSubCustomers,
    EditCustomerProfile,
}

impl CustomerFeature {
    pub const ALL: [CustomerFeature; 9] = [
        CustomerFeature::CreatePlant,
        CustomerFeature::AddGateway,
        CustomerFeature::SharePlant,
        CustomerFeature::DeleteInverter,
        CustomerFeature::FirmwareUpgrade,
        CustomerFeature::OperationalData,
        CustomerFeature::ManageCustomerUsers,
        CustomerFeature::ManageSubCustomers,
        CustomerFeature::EditCustomerProfile,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CustomerFeature::CreatePlant => "create_plant",
            CustomerFeature::AddGateway => "add_gateway",
            CustomerFeature::SharePlant => "share_plant",
            CustomerFeature::DeleteInverter => "delete_inverter",
            CustomerFeature::FirmwareUpgrade => "firmware_upgrade",
            CustomerFeature::OperationalData => "operational_data",
            CustomerFeature::ManageCustomerUsers => "manage_customer_users",
            CustomerFeature::ManageSubCustomers => "manage_sub_customers",
            CustomerFeature::EditCustomerProfile => "edit_customer_profile",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            CustomerFeature::CreatePlant => "Create plant",
            CustomerFeature::AddGateway => "Add gateway",
            CustomerFeature::SharePlant => "Share plant",
            CustomerFeature::DeleteInverter => "Delete inverter",
            CustomerFeature::FirmwareUpgrade => "Firmware upgrade",
            CustomerFeature::OperationalData => "Operational data",
            CustomerFeature::ManageCustomerUsers => "Manage customer users",
            CustomerFeature::ManageSubCustomers => "Manage sub-customers",
            CustomerFeature::EditCustomerProfile => "Edit customer profile",
        }
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
