//! Staff roles (SPEC 2.1–2.3): the four built-in ranked roles and the account's custom roles,
//! each a name, a rank and a set of permissions from the shared catalogue. A user manages only
//! roles at or below their own authority, and never grants a permission they lack.

mod api;
mod roles_page;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use roles_page::{RoleEditorPage, RolesPage};

use crate::{
    error::FieldErrors,
    permissions::{Permission, ADMINISTRATOR_RANK},
    validation::{required_text, Field},
};
use serde::{Deserialize, Serialize};

pub const ROLE_NAME_MAX_CHARS: usize = 60;
pub const ROLE_RANK_MAX: i32 = 99;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleView {
    pub id: i64,
    pub name: String,
    pub rank: i32,
    pub builtin: bool,
    pub permissions: Vec<Permission>,
    pub user_count: i64,
    pub version: i32,
    /// The caller may give this role to someone (SPEC 2.3).
    pub assignable: bool,
    /// The caller may change or delete this role.
    pub editable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleList {
    pub roles: Vec<RoleView>,
    pub can_manage: bool,
    /// The caller's own rank: the smallest rank they may give a role.
    pub own_rank: i32,
    /// The permissions the caller holds, the only ones they may grant.
    pub own_permissions: Vec<Permission>,
}

/// The validated role form.
#[derive(Debug)]
pub struct RoleInput {
    pub name: String,
    pub rank: i32,
    pub permissions: Vec<Permission>,
}

// The fields of the role editor, each declared once for the browser and the server.
pub const NAME: Field<String> = Field::new("name", |raw| required_text(raw, "a role name", ROLE_NAME_MAX_CHARS));
pub const RANK: &str = "rank";
pub const PERMISSIONS: &str = "permissions";

/// Checks a custom role as `own_rank` / `own_permissions` may define it.
pub fn validate_role(
    name: &str,
    rank: &str,
    permissions: &[String],
    own_rank: i32,
    own_permissions: &[Permission],
) -> Result<RoleInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = NAME.take(&mut errors, name);
    let lowest = own_rank.max(ADMINISTRATOR_RANK + 1);
    let rank = errors.take(
        RANK,
        match rank.trim().parse::<i32>() {
            Ok(r) if r < lowest && lowest == 1 => Err("Rank 0 belongs to the Administrator alone; use 1 or more.".into()),
            Ok(r) if r < lowest => Err(format!("You can create roles of rank {lowest} or more (yours is {own_rank}).")),
            Ok(r) if r > ROLE_RANK_MAX => Err(format!("Use a rank of at most {ROLE_RANK_MAX}.")),
            Ok(r) => Ok(r),
            Err(_) => Err("Enter the rank as a whole number.".into()),
        },
    );
    let mut chosen = Vec::new();
    for key in permissions {
        match Permission::from_key(key) {
            Some(p) if own_permissions.contains(&p) => chosen.push(p),
            Some(p) => errors.add(
                PERMISSIONS,
                format!("You cannot grant “{} – {}”, which you do not hold yourself.", p.module().label(), p.label()),
            ),
            None => errors.add(PERMISSIONS, "Choose permissions from the list."),
        }
    }
    chosen.sort();
    chosen.dedup();
    match (name, rank) {
        (Some(name), Some(rank)) if errors.is_empty() => Ok(RoleInput { name, rank, permissions: chosen }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::BuiltinRole;

    #[test]
    fn custom_roles_need_a_rank_of_one_or_more_and_at_least_the_authors() {
        let all = Permission::ALL.to_vec();
        assert!(validate_role("Support", "0", &[], 0, &all).unwrap_err().get("rank").unwrap().contains("Administrator alone"));
        assert!(validate_role("Support", "1", &[], 0, &all).is_ok());
        let manager = BuiltinRole::CommonManager.rank();
        assert!(validate_role("Support", "0", &[], manager, &all).is_err());
        assert!(validate_role("Support", "1", &[], manager, &all).is_ok());
        let engineer = BuiltinRole::OperationsEngineer.rank();
        assert!(validate_role("Support", "1", &[], engineer, &all).unwrap_err().get("rank").unwrap().contains("rank 2 or more"));
        assert!(validate_role("Support", "x", &[], 0, &all).is_err());
        assert!(validate_role("Support", "100", &[], 0, &all).is_err());
    }

    #[test]
    fn nobody_grants_a_permission_they_lack() {
        let owner = BuiltinRole::Owner.default_permissions();
        let ok = validate_role("Viewer", "3", &["customers.view".into()], 3, &owner).unwrap();
        assert_eq!(ok.permissions, [Permission::CustomersView]);
        let err = validate_role("Viewer", "3", &["users.manage".into()], 3, &owner).unwrap_err();
        assert!(err.get("permissions").unwrap().contains("do not hold"));
        assert!(validate_role("Viewer", "3", &["made.up".into()], 3, &owner).is_err());
    }
}
