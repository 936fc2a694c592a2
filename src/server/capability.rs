//! What a signed-in person may do, as values (lldap's `get_admin_handler`): a permission check
//! returns an [`Allowed`] capability, and every server-only read or write asks for the one it
//! needs, so a forgotten check is a compile error. Only this module makes capabilities: they
//! have no public constructor and are neither `Default` nor `Clone`.
//!
//! Staff get theirs from [`Staff::allow`], customer users from [`PortalUser::allow`]; see
//! `customers::ssr::writes::delete_customers` for a write that takes one, with the doctests
//! that show a call without it does not compile. Nor can one be made or copied elsewhere:
//!
//! ```compile_fail,E0451
//! # use roster::server::capability::{Allowed, Staff};
//! # use roster::permissions::grant::CustomersDelete;
//! fn forge(staff: &Staff) -> Allowed<'_, CustomersDelete> {
//!     Allowed { staff, grant: std::marker::PhantomData }
//! }
//! ```
//!
//! ```compile_fail,E0599
//! # use roster::server::capability::Allowed;
//! # use roster::permissions::grant::CustomersDelete;
//! fn copy<'a>(allowed: &Allowed<'a, CustomersDelete>) -> Allowed<'a, CustomersDelete> {
//!     allowed.clone()
//! }
//! ```

use super::session::{require_user, RoleRef, SignedIn};
use crate::{
    error::AppError,
    permissions::{Authority, CustomerFeature, FeatureGrant, Grant, Need, Permission, UserKind},
};
use sqlx::{PgConnection, PgPool};
use std::marker::PhantomData;

/// A signed-in staff member of an account: the account, company and role every staff check
/// starts from.
#[derive(Debug)]
pub struct Staff {
    user: SignedIn,
    account_id: i64,
    company_id: i64,
    role: RoleRef,
}

/// Proof that the staff member may do what `G` grants; handed to the work it allows.
#[must_use = "a capability is only useful when handed to the work it allows"]
pub struct Allowed<'a, G: Grant> {
    staff: &'a Staff,
    grant: PhantomData<G>,
}

impl<'a, G: Grant> Allowed<'a, G> {
    /// Who is allowed.
    pub fn staff(&self) -> &'a Staff {
        self.staff
    }

    pub fn account_id(&self) -> i64 {
        self.staff.account_id
    }
}

/// The signed-in staff member of an account, or "forbidden" for anyone else (customer users,
/// registered people, staff whose temporary password is still to be replaced are refused
/// earlier with their own answer).
pub async fn require_staff() -> Result<Staff, AppError> {
    Staff::of(require_user().await?).map_err(|_| AppError::Forbidden)
}

impl Staff {
    /// The staff member a signed-in person is, or the person back when they are not staff.
    pub fn of(user: SignedIn) -> Result<Staff, SignedIn> {
        match (user.kind(), user.account_id(), user.company_id(), user.role().cloned()) {
            (UserKind::Staff, Some(account_id), Some(company_id), Some(role)) => Ok(Staff { account_id, company_id, role, user }),
            _ => Err(user),
        }
    }

    /// The capability for `G`, when the role grants it (Administrators hold every permission).
    pub fn allow<G: Grant>(&self) -> Result<Allowed<'_, G>, AppError> {
        let granted = match G::NEEDS {
            Need::Permission(permission) => self.user.holds(permission),
            Need::Administrator => self.user.is_administrator(),
        };
        if granted {
            Ok(Allowed { staff: self, grant: PhantomData })
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Whether the role grants `permission`: for what a screen offers, never for what it does.
    pub fn holds(&self, permission: Permission) -> bool {
        self.user.holds(permission)
    }

    pub fn user(&self) -> &SignedIn {
        &self.user
    }

    /// The signed-in person, without the staff view of them.
    pub fn into_user(self) -> SignedIn {
        self.user
    }

    pub fn user_id(&self) -> i64 {
        self.user.user_id()
    }

    pub fn email(&self) -> &str {
        self.user.email()
    }

    pub fn display_name(&self) -> &str {
        self.user.display_name()
    }

    pub fn account_id(&self) -> i64 {
        self.account_id
    }

    pub fn company_id(&self) -> i64 {
        self.company_id
    }

    pub fn role(&self) -> &RoleRef {
        &self.role
    }

    pub fn is_administrator(&self) -> bool {
        self.user.is_administrator()
    }

    /// The rank and permissions this staff member acts with (through an API key, only the
    /// key's permissions, whatever the rank).
    pub fn authority(&self) -> Authority {
        let permissions = self.user.permissions().iter().copied();
        match self.user.api_key() {
            None => Authority::new(self.role.rank(), permissions),
            Some(_) => Authority::limited(self.role.rank(), permissions),
        }
    }

    /// Reads the caller's own row again inside the transaction, after a lock that orders the
    /// change with other changes of authority: if their role, its permissions or their status
    /// changed since the request began, the change is refused as a conflict (reload and see).
    /// The row stays share-locked, so the caller cannot be deleted under the change.
    pub async fn recheck(&self, conn: &mut PgConnection) -> Result<(), AppError> {
        let row = sqlx::query!(
            r#"SELECT u.status, u.role_id, r.rank AS "rank?",
                      COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                                 WHERE p.account_id = u.account_id AND p.role_id = u.role_id), '{}') AS "permissions!"
                 FROM users u LEFT JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
                WHERE u.account_id = $1 AND u.id = $2
                FOR KEY SHARE OF u"#,
            self.account_id,
            self.user.user_id()
        )
        .fetch_optional(conn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
        // Through an API key: what the key holds of what its creator holds now.
        let current = row.rank.map(|rank| {
            let held = Authority::from_keys(rank, &row.permissions);
            match self.user.api_key() {
                None => held,
                Some(_) => Authority::limited(rank, self.user.permissions().iter().copied().filter(|p| held.holds(*p))),
            }
        });
        if row.status != "active" || row.role_id != Some(self.role.id()) || current.as_ref() != Some(&self.authority()) {
            return Err(AppError::Conflict);
        }
        Ok(())
    }
}

/// A signed-in customer user, with their customer and what its type grants.
#[derive(Debug)]
pub struct PortalUser {
    user: SignedIn,
    account_id: i64,
    customer_id: i64,
    features: Vec<CustomerFeature>,
}

/// Proof that the customer user's type grants `F`; handed to the portal work it allows.
#[must_use = "a capability is only useful when handed to the work it allows"]
pub struct PortalAllowed<'a, F: FeatureGrant> {
    portal: &'a PortalUser,
    grant: PhantomData<F>,
}

impl<'a, F: FeatureGrant> PortalAllowed<'a, F> {
    pub fn portal(&self) -> &'a PortalUser {
        self.portal
    }

    pub fn account_id(&self) -> i64 {
        self.portal.account_id
    }

    /// The customer user's own customer: the top of what they may act on.
    pub fn customer_id(&self) -> i64 {
        self.portal.customer_id
    }
}

/// The signed-in customer user, or "forbidden" for anyone else. Reads the pool: call it before
/// opening a transaction, so a request never waits for a second connection while it holds one.
pub async fn require_portal(db: &PgPool) -> Result<PortalUser, AppError> {
    let user = require_user().await?;
    let (UserKind::Customer, Some(account_id)) = (user.kind(), user.account_id()) else {
        return Err(AppError::Forbidden);
    };
    let row = sqlx::query!(
        r#"SELECT u.customer_id AS "customer_id!", t.features
             FROM users u
             JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
             JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
            WHERE u.account_id = $1 AND u.id = $2 AND u.kind = 'customer'"#,
        account_id,
        user.user_id()
    )
    .fetch_one(db)
    .await?;
    let features = row.features.iter().filter_map(|k| CustomerFeature::from_key(k)).collect();
    Ok(PortalUser { user, account_id, customer_id: row.customer_id, features })
}

impl PortalUser {
    /// The capability for `F`, when the customer's type grants it.
    pub fn allow<F: FeatureGrant>(&self) -> Result<PortalAllowed<'_, F>, AppError> {
        if self.features.contains(&F::FEATURE) {
            Ok(PortalAllowed { portal: self, grant: PhantomData })
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn user(&self) -> &SignedIn {
        &self.user
    }

    pub fn user_id(&self) -> i64 {
        self.user.user_id()
    }

    pub fn email(&self) -> &str {
        self.user.email()
    }

    pub fn account_id(&self) -> i64 {
        self.account_id
    }

    pub fn customer_id(&self) -> i64 {
        self.customer_id
    }

    pub fn features(&self) -> &[CustomerFeature] {
        &self.features
    }
}
